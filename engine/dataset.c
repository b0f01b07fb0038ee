/* dataset.c: scanning a folder of labeled photos and splitting it.
 *
 * The walk (dataset-walk.c) lists the candidate files, each file is then
 * checked on a pool of threads (dataset-check.c), and the photos that
 * pass become the items. Without given train/ and val/ folders the split
 * is stratified: each class separately, seeded, identical photos always
 * on the same side so that the split itself never leaks.
 */
#include "dataset-private.h"

#include "augment.h" /* GraftRng */
#include "graft-error.h"

#include <math.h>
#include <string.h>

void
graft_dataset_options_init (GraftDatasetOptions *options)
{
  memset (options, 0, sizeof *options);
  options->val_fraction = 0.2;
  options->seed = 0;
  options->min_side = 224;
  options->min_per_class = 10;
  options->max_depth = 8;
  options->val_dir = NULL;
}

static void
issue_free (gpointer data)
{
  GraftDatasetIssue *issue = data;
  g_free (issue->message);
  g_strfreev (issue->files);
  g_free (issue);
}

void
graft_dataset_free (GraftDataset *dataset)
{
  if (dataset == NULL)
    return;
  g_free (dataset->root);
  g_free (dataset->val_root);
  g_strfreev (dataset->classes);
  for (guint i = 0; i < dataset->items->len; i++)
    g_free (g_array_index (dataset->items, GraftDatasetItem, i).path);
  g_array_unref (dataset->items);
  g_ptr_array_unref (dataset->issues);
  g_free (dataset);
}

void
graft_dataset_add_issue (GraftDataset *dataset,
                         GraftIssueKind kind,
                         GraftSeverity severity,
                         int class_index,
                         char *message,
                         char **files)
{
  GraftDatasetIssue *issue = g_new0 (GraftDatasetIssue, 1);

  issue->kind = kind;
  issue->severity = severity;
  issue->class_index = class_index;
  issue->message = message;
  issue->files = files != NULL ? files : g_new0 (char *, 1);
  g_ptr_array_add (dataset->issues, issue);
}

char *
graft_dataset_display_path (const GraftDataset *dataset, const char *path)
{
  const char *roots[2] = { dataset->root, dataset->val_root };

  for (int r = 0; r < 2; r++)
    {
      size_t n = roots[r] != NULL ? strlen (roots[r]) : 0;
      if (n > 0 && strncmp (path, roots[r], n) == 0 &&
          path[n] == G_DIR_SEPARATOR)
        {
          g_autofree char *rel = g_filename_display_name (path + n + 1);
          g_autofree char *top = NULL;
          if (r == 0)
            return g_steal_pointer (&rel);
          top = g_filename_display_basename (roots[r]);
          return g_strconcat (top, "/", rel, NULL);
        }
    }
  return g_filename_display_name (path);
}

/* ---- checking files on threads ------------------------------------------ */

typedef struct
{
  GAsyncQueue *done;
  gint cancelled;
} CheckRun;

static void
check_one (gpointer data, gpointer user)
{
  CheckRun *run = user;

  if (!g_atomic_int_get (&run->cancelled))
    graft_dataset_check_file (data);
  g_async_queue_push (run->done, data);
}

/* FALSE when cancelled. */
static gboolean
check_all (GPtrArray *candidates,
           GCancellable *cancellable,
           void (*progress) (int files_seen, gpointer user),
           gpointer user)
{
  CheckRun run = { g_async_queue_new (), 0 };
  GThreadPool *pool;
  int threads = MAX (1, (int) g_get_num_processors ());

  pool = g_thread_pool_new (check_one, &run, threads, FALSE, NULL);
  for (guint i = 0; i < candidates->len; i++)
    g_thread_pool_push (pool, candidates->pdata[i], NULL);
  for (guint i = 0; i < candidates->len; i++)
    {
      g_async_queue_pop (run.done);
      if (g_cancellable_is_cancelled (cancellable))
        g_atomic_int_set (&run.cancelled, 1);
      if (progress != NULL)
        progress ((int) i + 1, user);
    }
  g_thread_pool_free (pool, FALSE, TRUE);
  g_async_queue_unref (run.done);
  return !g_cancellable_is_cancelled (cancellable);
}

/* ---- the split ------------------------------------------------------------
 */

static int
compare_items (gconstpointer pa, gconstpointer pb)
{
  const GraftDatasetItem *a = pa, *b = pb;

  if (a->split != b->split)
    return a->split < b->split ? -1 : 1;
  if (a->label != b->label)
    return a->label < b->label ? -1 : 1;
  return strcmp (a->path, b->path);
}

/* Per class: shuffle the distinct photos (by content) with the seed, send
 * round (val_fraction x count) of them, at least one when the class has
 * two or more, to validation; copies follow their photo. */
static void
make_split (GraftDataset *dataset, const GraftDatasetOptions *options)
{
  GArray *items = dataset->items;

  g_array_sort (items, compare_items); /* all TRAIN still: by class, path */
  for (int label = 0; label < dataset->n_classes; label++)
    {
      g_autoptr (GHashTable) unique =
          g_hash_table_new (g_bytes_hash, g_bytes_equal);
      g_autoptr (GPtrArray) order =
          g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      GraftRng rng;
      int n_val;

      for (guint i = 0; i < items->len; i++)
        {
          GraftDatasetItem *item = &g_array_index (items, GraftDatasetItem, i);
          GBytes *key;
          if (item->label != label)
            continue;
          key = g_bytes_new (item->sha256, sizeof item->sha256);
          if (g_hash_table_contains (unique, key))
            {
              g_bytes_unref (key);
              continue;
            }
          g_hash_table_add (unique, key);
          g_ptr_array_add (order, key);
        }
      /* Fisher-Yates, seeded per class */
      graft_rng_init (&rng, options->seed ^ (0x5851f42d4c957f2dull *
                                             (guint64) (label + 1)));
      for (guint i = order->len; i > 1; i--)
        {
          guint j = (guint) (graft_rng_next (&rng) % i);
          gpointer t = order->pdata[i - 1];
          order->pdata[i - 1] = order->pdata[j];
          order->pdata[j] = t;
        }
      n_val = (int) floor (options->val_fraction * order->len + 0.5);
      if (order->len >= 2 && options->val_fraction > 0.0)
        n_val = CLAMP (n_val, 1, (int) order->len - 1);
      else if (order->len < 2)
        n_val = 0;
      g_hash_table_remove_all (unique);
      for (int i = 0; i < n_val; i++)
        g_hash_table_add (unique, order->pdata[i]);
      for (guint i = 0; i < items->len; i++)
        {
          GraftDatasetItem *item = &g_array_index (items, GraftDatasetItem, i);
          g_autoptr (GBytes) key = NULL;
          if (item->label != label)
            continue;
          key = g_bytes_new_static (item->sha256, sizeof item->sha256);
          if (g_hash_table_contains (unique, key))
            item->split = GRAFT_SPLIT_VAL;
        }
    }
}

/* ---- the scan --------------------------------------------------------------
 */

static char *
absolute_path (const char *path)
{
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *abs = g_path_is_absolute (path)
                             ? g_strdup (path)
                             : g_build_filename (cwd, path, NULL);
  g_autoptr (GFile) file = g_file_new_for_path (abs);
  /* g_file_get_path canonicalizes "." and ".." without following links. */
  return g_file_get_path (file);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GraftDataset *
graft_dataset_scan (const char *root,
                    const GraftDatasetOptions *options,
                    GCancellable *cancellable,
                    void (*progress) (int files_seen, gpointer user),
                    gpointer user,
                    GError **error)
{
  GraftDatasetOptions defaults, opts;
  g_autofree char *abs_root = NULL;
  g_autofree char *abs_val = NULL;
  g_autofree int *slot_to_label = NULL;
  g_autoptr (GPtrArray) sorted = NULL;
  GraftWalk *walk;
  GraftDataset *dataset;

  g_return_val_if_fail (root != NULL, NULL);
  if (options == NULL)
    {
      graft_dataset_options_init (&defaults);
      options = &defaults;
    }
  opts = *options;
  abs_root = absolute_path (root);
  if (opts.val_dir != NULL)
    opts.val_dir = abs_val = absolute_path (opts.val_dir);
  opts.max_depth = MAX (opts.max_depth, 1);

  walk = graft_dataset_walk (abs_root, &opts, cancellable, error);
  if (walk == NULL)
    return NULL;
  if (!check_all (walk->candidates, cancellable, progress, user))
    {
      g_autofree char *shown = g_filename_display_name (abs_root);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED,
                   _ ("%s: the check was stopped"), shown);
      graft_walk_free (walk);
      return NULL;
    }

  dataset = g_new0 (GraftDataset, 1);
  dataset->root = g_steal_pointer (&abs_root);
  dataset->val_root = g_steal_pointer (&abs_val);
  dataset->given_split = walk->given_split;
  dataset->items = g_array_new (FALSE, TRUE, sizeof (GraftDatasetItem));
  dataset->issues = g_ptr_array_new_with_free_func (issue_free);

  /* Class labels in sorted name order, whatever order the walk met them. */
  sorted = g_ptr_array_copy (walk->class_names, NULL, NULL);
  g_ptr_array_set_free_func (sorted, NULL); /* the walk owns the names */
  g_ptr_array_sort (sorted, compare_names);
  dataset->n_classes = (int) sorted->len;
  dataset->classes = g_new0 (char *, sorted->len + 1);
  slot_to_label = g_new0 (int, MAX (sorted->len, 1));
  for (guint i = 0; i < sorted->len; i++)
    {
      dataset->classes[i] = g_strdup (sorted->pdata[i]);
      for (guint s = 0; s < walk->class_names->len; s++)
        if (walk->class_names->pdata[s] == sorted->pdata[i])
          slot_to_label[s] = (int) i;
    }

  for (guint i = 0; i < walk->candidates->len; i++)
    {
      const GraftCandidate *c = walk->candidates->pdata[i];
      GraftDatasetItem item = { 0 };

      if (!c->is_image)
        {
          if (c->ignored)
            dataset->n_ignored++;
          else
            dataset->n_skipped++;
          continue;
        }
      item.path = g_strdup (c->path);
      item.label = slot_to_label[c->class_slot];
      item.split = walk->given_split ? c->split : GRAFT_SPLIT_TRAIN;
      memcpy (item.sha256, c->sha256, sizeof item.sha256);
      item.width = c->width;
      item.height = c->height;
      g_array_append_val (dataset->items, item);
    }
  if (!walk->given_split)
    make_split (dataset, &opts);
  g_array_sort (dataset->items, compare_items);

  graft_dataset_report_build (dataset, walk, &opts);
  graft_walk_free (walk);
  return dataset;
}

/* ---- queries ---------------------------------------------------------------
 */

void
graft_dataset_count (const GraftDataset *dataset,
                     int *train_counts,
                     int *val_counts)
{
  if (train_counts != NULL)
    memset (train_counts, 0, sizeof (int) * dataset->n_classes);
  if (val_counts != NULL)
    memset (val_counts, 0, sizeof (int) * dataset->n_classes);
  for (guint i = 0; i < dataset->items->len; i++)
    {
      const GraftDatasetItem *item =
          &g_array_index (dataset->items, GraftDatasetItem, i);
      int *counts = item->split == GRAFT_SPLIT_VAL ? val_counts : train_counts;
      if (counts != NULL)
        counts[item->label]++;
    }
}

GArray *
graft_dataset_split_indices (const GraftDataset *dataset, GraftSplit split)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (int));

  for (guint i = 0; i < dataset->items->len; i++)
    if (g_array_index (dataset->items, GraftDatasetItem, i).split == split)
      {
        int index = (int) i;
        g_array_append_val (out, index);
      }
  return out;
}

gboolean
graft_dataset_usable (const GraftDataset *dataset)
{
  for (guint i = 0; i < dataset->issues->len; i++)
    {
      const GraftDatasetIssue *issue = dataset->issues->pdata[i];
      if (issue->severity == GRAFT_SEVERITY_ERROR)
        return FALSE;
    }
  return TRUE;
}
