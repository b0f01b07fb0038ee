/* dataset-walk.c: finding class folders and their files.
 *
 * The tree is read in sorted name order so that every scan of the same
 * folder sees the same files in the same order. Hidden entries (and
 * macOS's __MACOSX archive folders) are skipped; symbolic links are
 * followed, but never into a folder that is already being scanned above
 * (a loop) or was already scanned (the same photos twice).
 */
#include "dataset-private.h"

#include "graft-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef enum
{
  VISIT_OPEN = 1, /* an ancestor of the folder being read */
  VISIT_DONE = 2,
} VisitState;

typedef struct
{
  GraftWalk *walk;
  const GraftDatasetOptions *options;
  GCancellable *cancellable;
  GHashTable *visited;     /* "dev:ino" -> VisitState */
  GHashTable *class_slots; /* class name -> slot + 1 */
} Walker;

static void
candidate_free (gpointer data)
{
  GraftCandidate *c = data;
  g_free (c->path);
  g_free (c->display);
  g_free (c);
}

void
graft_walk_free (GraftWalk *walk)
{
  if (walk == NULL)
    return;
  g_ptr_array_unref (walk->class_names);
  g_ptr_array_unref (walk->candidates);
  g_ptr_array_unref (walk->outside_class);
  g_ptr_array_unref (walk->unused_dirs);
  g_ptr_array_unref (walk->too_deep);
  g_ptr_array_unref (walk->link_loops);
  g_ptr_array_unref (walk->link_repeats);
  g_ptr_array_unref (walk->bad_names);
  g_ptr_array_unref (walk->unreadable_dirs);
  g_array_unref (walk->class_has_val_dir);
  g_array_unref (walk->class_has_train_dir);
  g_free (walk);
}

static GraftWalk *
walk_new (void)
{
  GraftWalk *walk = g_new0 (GraftWalk, 1);

  walk->class_names = g_ptr_array_new_with_free_func (g_free);
  walk->candidates = g_ptr_array_new_with_free_func (candidate_free);
  walk->outside_class = g_ptr_array_new_with_free_func (g_free);
  walk->unused_dirs = g_ptr_array_new_with_free_func (g_free);
  walk->too_deep = g_ptr_array_new_with_free_func (g_free);
  walk->link_loops = g_ptr_array_new_with_free_func (g_free);
  walk->link_repeats = g_ptr_array_new_with_free_func (g_free);
  walk->bad_names = g_ptr_array_new_with_free_func (g_free);
  walk->unreadable_dirs = g_ptr_array_new_with_free_func (g_free);
  walk->class_has_val_dir = g_array_new (FALSE, TRUE, sizeof (gboolean));
  walk->class_has_train_dir = g_array_new (FALSE, TRUE, sizeof (gboolean));
  return walk;
}

static gboolean
is_hidden (const char *name)
{
  return name[0] == '.' || strcmp (name, "__MACOSX") == 0;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* "parent/name" for messages; parent "" at the root. */
static char *
join_display (const char *parent, const char *name)
{
  g_autofree char *shown = g_filename_display_name (name);
  return *parent ? g_strconcat (parent, "/", shown, NULL)
                 : g_steal_pointer (&shown);
}

/* The entries of a folder, hidden ones counted and dropped, sorted. NULL
 * when it cannot be listed. */
static GPtrArray *
list_dir (Walker *w, const char *path, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, error);
  GPtrArray *names;
  const char *name;

  if (dir == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      if (is_hidden (name))
        {
          w->walk->hidden++;
          continue;
        }
      g_ptr_array_add (names, g_strdup (name));
    }
  g_ptr_array_sort (names, compare_strings);
  return names;
}

static char *
visit_key (const struct stat *st)
{
  return g_strdup_printf ("%" G_GUINT64_FORMAT ":%" G_GUINT64_FORMAT,
                          (guint64) st->st_dev, (guint64) st->st_ino);
}

/* Records a bad (non-UTF-8) name once, by its display path. */
static void
check_name (Walker *w, const char *name, const char *display)
{
  if (!g_utf8_validate (name, -1, NULL))
    g_ptr_array_add (w->walk->bad_names, g_strdup (display));
}

static void
add_candidate (Walker *w,
               const char *path,
               const char *display,
               int slot,
               GraftSplit split,
               gboolean broken_link,
               gboolean regular)
{
  GraftCandidate *c = g_new0 (GraftCandidate, 1);

  c->path = g_strdup (path);
  c->display = g_strdup (display);
  c->class_slot = slot;
  c->split = split;
  c->broken_link = broken_link;
  c->ignored = !broken_link && !regular; /* fifos, sockets, devices */
  g_ptr_array_add (w->walk->candidates, c);
  w->walk->files_seen++;
}

static void walk_class_dir (Walker *w,
                            const char *path,
                            const char *display,
                            int depth,
                            int slot,
                            GraftSplit split);

/* Enters the folder at path unless it is too deep or already visited. */
static void
enter_dir (Walker *w,
           const char *path,
           const char *display,
           const struct stat *st,
           gboolean is_link,
           int depth,
           int slot,
           GraftSplit split)
{
  g_autofree char *key = visit_key (st);
  VisitState state = GPOINTER_TO_INT (g_hash_table_lookup (w->visited, key));

  if (state == VISIT_OPEN)
    {
      g_ptr_array_add (w->walk->link_loops, g_strdup (display));
      return;
    }
  if (state == VISIT_DONE)
    {
      /* A plain folder cannot be seen twice; only a link leads back. */
      if (is_link)
        g_ptr_array_add (w->walk->link_repeats, g_strdup (display));
      return;
    }
  if (depth > w->options->max_depth)
    {
      g_ptr_array_add (w->walk->too_deep, g_strdup (display));
      return;
    }
  g_hash_table_insert (w->visited, g_strdup (key),
                       GINT_TO_POINTER (VISIT_OPEN));
  walk_class_dir (w, path, display, depth, slot, split);
  g_hash_table_insert (w->visited, g_steal_pointer (&key),
                       GINT_TO_POINTER (VISIT_DONE));
}

/* What path is, following links: 'd' folder, 'f' regular file, 'o' other,
 * 'b' broken link. */
static char
entry_type (const char *path, struct stat *st, gboolean *is_link)
{
  struct stat lst;

  *is_link = g_lstat (path, &lst) == 0 && S_ISLNK (lst.st_mode);
  if (g_stat (path, st) != 0)
    return 'b';
  if (S_ISDIR (st->st_mode))
    return 'd';
  return S_ISREG (st->st_mode) ? 'f' : 'o';
}

/* Every file below a class folder belongs to that class, at any depth up
 * to max_depth. */
static void
walk_class_dir (Walker *w,
                const char *path,
                const char *display,
                int depth,
                int slot,
                GraftSplit split)
{
  g_autoptr (GPtrArray) names = NULL;

  if (g_cancellable_is_cancelled (w->cancellable))
    return;
  names = list_dir (w, path, NULL);
  if (names == NULL)
    {
      g_ptr_array_add (w->walk->unreadable_dirs, g_strdup (display));
      return;
    }
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *shown = join_display (display, name);
      struct stat st;
      gboolean is_link;
      char type = entry_type (child, &st, &is_link);

      check_name (w, name, shown);
      if (type == 'd')
        enter_dir (w, child, shown, &st, is_link, depth + 1, slot, split);
      else
        add_candidate (w, child, shown, slot, split, type == 'b', type == 'f');
    }
}

static int
class_slot (Walker *w, const char *name)
{
  g_autofree char *shown = g_filename_display_name (name);
  gpointer slot = g_hash_table_lookup (w->class_slots, shown);
  gboolean no = FALSE;

  if (slot != NULL)
    return GPOINTER_TO_INT (slot) - 1;
  g_ptr_array_add (w->walk->class_names, g_strdup (shown));
  g_array_append_val (w->walk->class_has_val_dir, no);
  g_array_append_val (w->walk->class_has_train_dir, no);
  g_hash_table_insert (w->class_slots, g_steal_pointer (&shown),
                       GINT_TO_POINTER (w->walk->class_names->len));
  return (int) w->walk->class_names->len - 1;
}

/* The class folders inside dir (the root, or train/ or val/ of a given
 * split); files beside them are outside any class. */
static void
walk_split_dir (Walker *w,
                const char *dir,
                const char *display,
                GPtrArray *names,
                int depth,
                GraftSplit split,
                gboolean given)
{
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *child = g_build_filename (dir, name, NULL);
      g_autofree char *shown = join_display (display, name);
      struct stat st;
      gboolean is_link;
      char type = entry_type (child, &st, &is_link);
      int slot;

      check_name (w, name, shown);
      if (type != 'd')
        {
          g_ptr_array_add (w->walk->outside_class, g_steal_pointer (&shown));
          continue;
        }
      slot = class_slot (w, name);
      if (given)
        {
          GArray *has = split == GRAFT_SPLIT_VAL ? w->walk->class_has_val_dir
                                                 : w->walk->class_has_train_dir;
          g_array_index (has, gboolean, slot) = TRUE;
        }
      enter_dir (w, child, shown, &st, is_link, depth, slot, split);
    }
}

static gboolean
name_is (const char *name, const char *const *choices)
{
  for (int i = 0; choices[i] != NULL; i++)
    if (g_ascii_strcasecmp (name, choices[i]) == 0)
      return TRUE;
  return FALSE;
}

/* The first of names (folders only) that matches choices, in the order of
 * choices; NULL when none does. */
static const char *
find_split_dir (const char *root, GPtrArray *names, const char *const *choices)
{
  for (int c = 0; choices[c] != NULL; c++)
    for (guint i = 0; i < names->len; i++)
      {
        const char *name = names->pdata[i];
        g_autofree char *path = g_build_filename (root, name, NULL);
        const char *one[] = { choices[c], NULL };

        if (name_is (name, one) && g_file_test (path, G_FILE_TEST_IS_DIR))
          return name;
      }
  return NULL;
}

static gboolean
open_top (Walker *w,
          const char *path,
          const char *display,
          GPtrArray **names,
          GError **error)
{
  struct stat st;
  g_autoptr (GError) local = NULL;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                   _ ("%s: cannot open the folder (%s)"), display,
                   g_strerror (saved));
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, _ ("%s: not a folder"),
                   display);
      return FALSE;
    }
  *names = list_dir (w, path, &local);
  if (*names == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                   _ ("%s: cannot open the folder (%s)"), display,
                   local->message);
      return FALSE;
    }
  g_hash_table_insert (w->visited, visit_key (&st),
                       GINT_TO_POINTER (VISIT_OPEN));
  return TRUE;
}

GraftWalk *
graft_dataset_walk (const char *root,
                    const GraftDatasetOptions *options,
                    GCancellable *cancellable,
                    GError **error)
{
  static const char *const train_names[] = { "train", "training", NULL };
  static const char *const val_names[] = { "val", "validation", "valid", "test",
                                           NULL };
  Walker w = { .options = options, .cancellable = cancellable };
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *root_display = g_filename_display_name (root);
  const char *train_dir = NULL, *val_dir = NULL;

  w.walk = walk_new ();
  w.visited = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  w.class_slots = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!open_top (&w, root, root_display, &names, error))
    goto fail;

  if (options->val_dir != NULL)
    {
      /* root holds the training classes, val_dir the validation ones. */
      g_autofree char *val_display =
          g_filename_display_basename (options->val_dir);
      g_autoptr (GPtrArray) val_names_found = NULL;

      if (!open_top (&w, options->val_dir, val_display, &val_names_found,
                     error))
        goto fail;
      w.walk->given_split = TRUE;
      walk_split_dir (&w, root, "", names, 1, GRAFT_SPLIT_TRAIN, TRUE);
      walk_split_dir (&w, options->val_dir, val_display, val_names_found, 1,
                      GRAFT_SPLIT_VAL, TRUE);
    }
  else
    {
      train_dir = find_split_dir (root, names, train_names);
      val_dir = find_split_dir (root, names, val_names);
    }

  if (options->val_dir == NULL && train_dir != NULL && val_dir != NULL)
    {
      const char *dirs[2] = { train_dir, val_dir };

      w.walk->given_split = TRUE;
      for (guint i = 0; i < names->len; i++)
        {
          const char *name = names->pdata[i];
          g_autofree char *path = g_build_filename (root, name, NULL);
          g_autofree char *shown = join_display ("", name);

          if (name == train_dir || name == val_dir)
            continue;
          check_name (&w, name, shown);
          g_ptr_array_add (g_file_test (path, G_FILE_TEST_IS_DIR)
                               ? w.walk->unused_dirs
                               : w.walk->outside_class,
                           g_steal_pointer (&shown));
        }
      for (int s = 0; s < 2; s++)
        {
          g_autofree char *path = g_build_filename (root, dirs[s], NULL);
          g_autofree char *shown = join_display ("", dirs[s]);
          g_autoptr (GPtrArray) inner = list_dir (&w, path, NULL);
          struct stat st;

          if (inner == NULL)
            {
              g_ptr_array_add (w.walk->unreadable_dirs,
                               g_steal_pointer (&shown));
              continue;
            }
          if (g_stat (path, &st) == 0)
            g_hash_table_insert (w.visited, visit_key (&st),
                                 GINT_TO_POINTER (VISIT_OPEN));
          walk_split_dir (&w, path, shown, inner, 2,
                          s == 0 ? GRAFT_SPLIT_TRAIN : GRAFT_SPLIT_VAL, TRUE);
        }
    }
  else if (options->val_dir == NULL)
    walk_split_dir (&w, root, "", names, 1, GRAFT_SPLIT_TRAIN, FALSE);

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED,
                   _ ("%s: the check was stopped"), root_display);
      goto fail;
    }
  g_hash_table_unref (w.visited);
  g_hash_table_unref (w.class_slots);
  return w.walk;

fail:
  g_hash_table_unref (w.visited);
  g_hash_table_unref (w.class_slots);
  graft_walk_free (w.walk);
  return NULL;
}
