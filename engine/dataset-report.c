/* dataset-report.c: the health report, as issues and as JSON.
 *
 * Messages are for someone who has never trained a model: what is wrong,
 * what Graft does about it, and what they can do, naming the files.
 */
#include "dataset-private.h"

#include "image.h"

#include <string.h>

#define IMBALANCE_RATIO 3

static const char *const kind_names[] = {
  [GRAFT_ISSUE_SKIPPED_FILE] = "skipped_file",
  [GRAFT_ISSUE_NOT_AN_IMAGE] = "not_an_image",
  [GRAFT_ISSUE_DUPLICATE] = "duplicate",
  [GRAFT_ISSUE_LEAKAGE] = "leakage",
  [GRAFT_ISSUE_CONFLICTING_LABEL] = "conflicting_label",
  [GRAFT_ISSUE_IMBALANCE] = "imbalance",
  [GRAFT_ISSUE_FEW_IMAGES] = "few_images",
  [GRAFT_ISSUE_EMPTY_CLASS] = "empty_class",
  [GRAFT_ISSUE_SINGLE_CLASS] = "single_class",
  [GRAFT_ISSUE_TINY_IMAGE] = "tiny_image",
  [GRAFT_ISSUE_NAME_ENCODING] = "name_encoding",
  [GRAFT_ISSUE_TOO_DEEP] = "too_deep",
  [GRAFT_ISSUE_LINK_LOOP] = "link_loop",
  [GRAFT_ISSUE_NO_VALIDATION] = "no_validation",
  [GRAFT_ISSUE_OUTSIDE_CLASS] = "outside_class",
};

static const char *const severity_names[] = {
  [GRAFT_SEVERITY_INFO] = "info",
  [GRAFT_SEVERITY_WARNING] = "warning",
  [GRAFT_SEVERITY_ERROR] = "error",
};

/* A NULL-terminated copy of a GPtrArray of strings. */
static char **
strv_from (GPtrArray *strings)
{
  char **out = g_new0 (char *, strings->len + 1);
  for (guint i = 0; i < strings->len; i++)
    out[i] = g_strdup (strings->pdata[i]);
  return out;
}

/* One issue about a list of paths, when the list is not empty; takes
 * message (its plural form chosen by files->len at the call). */
static void
add_list_issue (GraftDataset *dataset,
                GraftIssueKind kind,
                GraftSeverity severity,
                GPtrArray *files,
                char *message)
{
  if (files->len == 0)
    {
      g_free (message);
      return;
    }
  graft_dataset_add_issue (dataset, kind, severity, -1, message,
                           strv_from (files));
}

/* ---- classes
 * ----------------------------------------------------------------- */

static void
report_classes (GraftDataset *dataset, const GraftDatasetOptions *options)
{
  g_autofree int *train = g_new0 (int, MAX (dataset->n_classes, 1));
  g_autofree int *val = g_new0 (int, MAX (dataset->n_classes, 1));
  int n_with_photos = 0, largest = -1, smallest = -1;

  graft_dataset_count (dataset, train, val);
  for (int c = 0; c < dataset->n_classes; c++)
    {
      int total = train[c] + val[c];
      const char *name = dataset->classes[c];

      if (total == 0)
        {
          graft_dataset_add_issue (
              dataset, GRAFT_ISSUE_EMPTY_CLASS, GRAFT_SEVERITY_ERROR, c,
              g_strdup_printf (
                  _ ("The class folder “%s” has no usable photos. Add photos "
                     "to it or remove the folder."),
                  name),
              NULL);
          continue;
        }
      n_with_photos++;
      if (largest < 0 || total > train[largest] + val[largest])
        largest = c;
      if (smallest < 0 || total < train[smallest] + val[smallest])
        smallest = c;
      if (train[c] == 0)
        graft_dataset_add_issue (
            dataset, GRAFT_ISSUE_FEW_IMAGES, GRAFT_SEVERITY_ERROR, c,
            g_strdup_printf (
                _ ("The class “%s” has photos for validation but none for "
                   "training, so the model cannot learn it."),
                name),
            NULL);
      else if (total < options->min_per_class)
        graft_dataset_add_issue (
            dataset, GRAFT_ISSUE_FEW_IMAGES, GRAFT_SEVERITY_WARNING, c,
            g_strdup_printf (
                g_dngettext (GETTEXT_PACKAGE,
                             "The class “%s” has only %d photo; at least "
                             "%d are recommended for good results.",
                             "The class “%s” has only %d photos; at least "
                             "%d are recommended for good results.",
                             total),
                name, total, options->min_per_class),
            NULL);
      if (train[c] > 0 && val[c] == 0)
        graft_dataset_add_issue (
            dataset, GRAFT_ISSUE_NO_VALIDATION, GRAFT_SEVERITY_WARNING, c,
            dataset->given_split
                ? g_strdup_printf (
                      _ ("The class “%s” has no photos in the validation "
                         "folder, so Graft cannot measure how well it "
                         "recognizes this class."),
                      name)
                : g_strdup_printf (
                      _ ("The class “%s” has only one photo, so none can be "
                         "kept aside to measure how well it is recognized."),
                      name),
            NULL);
    }

  if (n_with_photos < 2)
    {
      char *message;
      if (dataset->n_classes == 0)
        message = g_strdup (
            _ ("No class folders were found. Put the photos of each kind "
               "in a folder of its own, for example “cats” and “dogs”."));
      else if (n_with_photos == 1)
        message = g_strdup_printf (
            _ ("Only the class “%s” has photos. Graft needs at "
               "least two classes to learn to tell them apart."),
            dataset->classes[largest]);
      else
        message =
            g_strdup (_ ("None of the class folders has usable photos. Graft "
                         "needs at least two classes with photos."));
      graft_dataset_add_issue (dataset, GRAFT_ISSUE_SINGLE_CLASS,
                               GRAFT_SEVERITY_ERROR, -1, message, NULL);
    }
  else
    {
      int big = train[largest] + val[largest],
          small = train[smallest] + val[smallest];
      if (big > IMBALANCE_RATIO * small)
        graft_dataset_add_issue (
            dataset, GRAFT_ISSUE_IMBALANCE, GRAFT_SEVERITY_WARNING, smallest,
            g_strdup_printf (
                _ ("The classes are unbalanced: “%s” has %d photos but “%s” "
                   "only %d. The model may favor the larger class; adding "
                   "photos to the smaller one helps."),
                dataset->classes[largest], big, dataset->classes[smallest],
                small),
            NULL);
    }
}

/* ---- files
 * ---------------------------------------------------------------------- */

static void
report_files (GraftDataset *dataset,
              const GraftWalk *walk,
              const GraftDatasetOptions *options)
{
  g_autoptr (GPtrArray) ignored = g_ptr_array_new ();
  g_autoptr (GPtrArray) tiny = g_ptr_array_new ();
  GPtrArray *skipped[GRAFT_SKIP_N_REASONS];

  for (int r = 0; r < GRAFT_SKIP_N_REASONS; r++)
    skipped[r] = g_ptr_array_new ();
  for (guint i = 0; i < walk->candidates->len; i++)
    {
      const GraftCandidate *c = walk->candidates->pdata[i];
      if (c->is_image)
        {
          if (options->min_side > 0 && c->width > 0 && c->height > 0 &&
              MIN (c->width, c->height) < options->min_side)
            g_ptr_array_add (tiny, c->display);
        }
      else if (c->ignored)
        g_ptr_array_add (ignored, c->display);
      else
        g_ptr_array_add (skipped[c->skip], c->display);
    }

  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      skipped[GRAFT_SKIP_TRUNCATED],
      g_strdup_printf (
          g_dngettext (
              GETTEXT_PACKAGE,
              "%d photo is incomplete (the file stops early, often after an "
              "interrupted download or copy); it is left out.",
              "%d photos are incomplete (the files stop early, often after an "
              "interrupted download or copy); they are left out.",
              skipped[GRAFT_SKIP_TRUNCATED]->len),
          (int) skipped[GRAFT_SKIP_TRUNCATED]->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      skipped[GRAFT_SKIP_CORRUPT],
      g_strdup_printf (
          g_dngettext (
              GETTEXT_PACKAGE,
              "%d photo is damaged and cannot be opened; it is left out.",
              "%d photos are damaged and cannot be opened; they are left out.",
              skipped[GRAFT_SKIP_CORRUPT]->len),
          (int) skipped[GRAFT_SKIP_CORRUPT]->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      skipped[GRAFT_SKIP_NOT_AN_IMAGE],
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "%d file is named like a photo but is not "
                                    "an image; it is left out.",
                                    "%d files are named like photos but are "
                                    "not images; they are left out.",
                                    skipped[GRAFT_SKIP_NOT_AN_IMAGE]->len),
                       (int) skipped[GRAFT_SKIP_NOT_AN_IMAGE]->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      skipped[GRAFT_SKIP_UNSUPPORTED],
      g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE,
                       "%d photo is in a format Graft cannot read (such as "
                       "HEIC or camera "
                       "RAW); convert it to JPEG or PNG to use it.",
                       "%d photos are in a format Graft cannot read (such as "
                       "HEIC or camera "
                       "RAW); convert them to JPEG or PNG to use them.",
                       skipped[GRAFT_SKIP_UNSUPPORTED]->len),
          (int) skipped[GRAFT_SKIP_UNSUPPORTED]->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      skipped[GRAFT_SKIP_TOO_LARGE],
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "%d photo is too large for Graft (over 100 "
                                    "megapixels or 200 MB); it "
                                    "is left out.",
                                    "%d photos are too large for Graft (over "
                                    "100 megapixels or 200 MB); "
                                    "they are left out.",
                                    skipped[GRAFT_SKIP_TOO_LARGE]->len),
                       (int) skipped[GRAFT_SKIP_TOO_LARGE]->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      skipped[GRAFT_SKIP_UNREADABLE],
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "%d file cannot be read (no permission, or "
                                    "a link to a file that is "
                                    "gone); it is left out.",
                                    "%d files cannot be read (no permission, "
                                    "or links to files that are "
                                    "gone); they are left out.",
                                    skipped[GRAFT_SKIP_UNREADABLE]->len),
                       (int) skipped[GRAFT_SKIP_UNREADABLE]->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      skipped[GRAFT_SKIP_EMPTY],
      g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE,
                       "%d file is empty (0 bytes); it is left out.",
                       "%d files are empty (0 bytes); they are left out.",
                       skipped[GRAFT_SKIP_EMPTY]->len),
          (int) skipped[GRAFT_SKIP_EMPTY]->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
      walk->unreadable_dirs,
      g_strdup_printf (
          g_dngettext (
              GETTEXT_PACKAGE,
              "%d folder cannot be opened; the photos in it are left out.",
              "%d folders cannot be opened; the photos in them are left out.",
              walk->unreadable_dirs->len),
          (int) walk->unreadable_dirs->len));
  for (int r = 0; r < GRAFT_SKIP_N_REASONS; r++)
    g_ptr_array_unref (skipped[r]);

  add_list_issue (
      dataset, GRAFT_ISSUE_NOT_AN_IMAGE, GRAFT_SEVERITY_INFO, ignored,
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "%d file is not an image and is ignored.",
                                    "%d files are not images and are ignored.",
                                    ignored->len),
                       (int) ignored->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_OUTSIDE_CLASS, GRAFT_SEVERITY_WARNING,
      walk->outside_class,
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "%d file is not inside a class folder and "
                                    "is ignored. Move each photo "
                                    "into the folder of its class.",
                                    "%d files are not inside a class folder "
                                    "and are ignored. Move each "
                                    "photo into the folder of its class.",
                                    walk->outside_class->len),
                       (int) walk->outside_class->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_OUTSIDE_CLASS, GRAFT_SEVERITY_INFO,
      walk->unused_dirs,
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "Only the training and validation folders "
                                    "are used; %d other folder "
                                    "is ignored.",
                                    "Only the training and validation folders "
                                    "are used; %d other folders "
                                    "are ignored.",
                                    walk->unused_dirs->len),
                       (int) walk->unused_dirs->len));
  if (tiny->len > 0)
    {
      char *message = g_strdup_printf (
          g_dngettext (
              GETTEXT_PACKAGE,
              "%d photo is smaller than the model’s %d-pixel input; it will be "
              "enlarged, which blurs it.",
              "%d photos are smaller than the model’s %d-pixel input; they "
              "will "
              "be enlarged, which blurs them.",
              tiny->len),
          (int) tiny->len, options->min_side);
      graft_dataset_add_issue (dataset, GRAFT_ISSUE_TINY_IMAGE,
                               GRAFT_SEVERITY_WARNING, -1, message,
                               strv_from (tiny));
    }
}

/* ---- duplicates
 * -------------------------------------------------------------------- */

/* One issue per group of identical photos, the most serious kind only:
 * the same photo in two classes, then in training and validation, then
 * twice in one place. */
static void
report_duplicates (GraftDataset *dataset)
{
  g_autoptr (GHashTable) groups = g_hash_table_new_full (
      g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
      (GDestroyNotify) g_array_unref);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();

  for (guint i = 0; i < dataset->items->len; i++)
    {
      GraftDatasetItem *item =
          &g_array_index (dataset->items, GraftDatasetItem, i);
      GBytes *key = g_bytes_new (item->sha256, sizeof item->sha256);
      GArray *group = g_hash_table_lookup (groups, key);
      guint index = i;

      if (group == NULL)
        {
          group = g_array_new (FALSE, FALSE, sizeof (guint));
          g_hash_table_insert (groups, key, group);
          g_ptr_array_add (order, group);
        }
      else
        g_bytes_unref (key);
      g_array_append_val (group, index);
    }

  for (guint g = 0; g < order->len; g++)
    {
      GArray *group = order->pdata[g];
      const GraftDatasetItem *first;
      gboolean two_classes = FALSE, two_splits = FALSE;
      g_autoptr (GPtrArray) files = NULL;
      g_autoptr (GPtrArray) class_list = NULL;
      g_autofree char *classes = NULL;
      char **strv;

      if (group->len < 2)
        continue;
      first = &g_array_index (dataset->items, GraftDatasetItem,
                              g_array_index (group, guint, 0));
      files = g_ptr_array_new_with_free_func (g_free);
      class_list = g_ptr_array_new ();
      for (guint k = 0; k < group->len; k++)
        {
          const GraftDatasetItem *item =
              &g_array_index (dataset->items, GraftDatasetItem,
                              g_array_index (group, guint, k));
          const char *name = dataset->classes[item->label];
          two_classes |= item->label != first->label;
          two_splits |= item->split != first->split;
          g_ptr_array_add (files,
                           graft_dataset_display_path (dataset, item->path));
          if (!g_ptr_array_find_with_equal_func (class_list, name, g_str_equal,
                                                 NULL))
            g_ptr_array_add (class_list, (gpointer) name);
        }
      g_ptr_array_add (class_list, NULL);
      classes = g_strjoinv (", ", (char **) class_list->pdata);
      g_ptr_array_add (files, NULL);
      strv = (char **) g_ptr_array_steal (files, NULL);
      if (two_classes)
        graft_dataset_add_issue (
            dataset, GRAFT_ISSUE_CONFLICTING_LABEL, GRAFT_SEVERITY_WARNING, -1,
            g_strdup_printf (
                _ ("The same photo is in more than one class (%s). Decide "
                   "which "
                   "class it belongs to and remove the other copies."),
                classes),
            strv);
      else if (two_splits)
        graft_dataset_add_issue (
            dataset, GRAFT_ISSUE_LEAKAGE, GRAFT_SEVERITY_WARNING, first->label,
            g_strdup (_ (
                "The same photo is used for both training and validation, "
                "which "
                "makes the validation score look better than it is. Remove one "
                "of the copies.")),
            strv);
      else
        graft_dataset_add_issue (
            dataset, GRAFT_ISSUE_DUPLICATE, GRAFT_SEVERITY_INFO, first->label,
            g_strdup (_ (
                "These files are the same photo. Copies give it more weight in "
                "training than the others; keeping one is enough.")),
            strv);
    }
}

/* ---- the tree
 * ---------------------------------------------------------------------- */

static void
report_tree (GraftDataset *dataset,
             const GraftWalk *walk,
             const GraftDatasetOptions *options)
{
  if (walk->too_deep->len > 0)
    {
      char *message = g_strdup_printf (
          g_dngettext (
              GETTEXT_PACKAGE,
              "%d folder is nested more than %d levels deep and was not "
              "searched "
              "for photos.",
              "%d folders are nested more than %d levels deep and were not "
              "searched for photos.",
              walk->too_deep->len),
          (int) walk->too_deep->len, options->max_depth);
      graft_dataset_add_issue (dataset, GRAFT_ISSUE_TOO_DEEP,
                               GRAFT_SEVERITY_WARNING, -1, message,
                               strv_from (walk->too_deep));
    }
  add_list_issue (
      dataset, GRAFT_ISSUE_LINK_LOOP, GRAFT_SEVERITY_WARNING, walk->link_loops,
      g_strdup_printf (
          g_dngettext (
              GETTEXT_PACKAGE,
              "%d link points back to a folder that contains it; it was not "
              "followed.",
              "%d links point back to folders that contain them; they were not "
              "followed.",
              walk->link_loops->len),
          (int) walk->link_loops->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_LINK_LOOP, GRAFT_SEVERITY_INFO, walk->link_repeats,
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                    "%d link leads to a folder that was "
                                    "already scanned; its photos are "
                                    "counted once.",
                                    "%d links lead to folders that were "
                                    "already scanned; their photos are "
                                    "counted once.",
                                    walk->link_repeats->len),
                       (int) walk->link_repeats->len));
  add_list_issue (
      dataset, GRAFT_ISSUE_NAME_ENCODING, GRAFT_SEVERITY_INFO, walk->bad_names,
      g_strdup_printf (
          g_dngettext (
              GETTEXT_PACKAGE,
              "%d name is not valid text (UTF-8) and is shown with replacement "
              "characters; the photos are still used.",
              "%d names are not valid text (UTF-8) and are shown with "
              "replacement "
              "characters; the photos are still used.",
              walk->bad_names->len),
          (int) walk->bad_names->len));
}

static int
compare_severity (gconstpointer pa, gconstpointer pb)
{
  const GraftDatasetIssue *a = *(GraftDatasetIssue *const *) pa;
  const GraftDatasetIssue *b = *(GraftDatasetIssue *const *) pb;
  return (int) b->severity - (int) a->severity;
}

void
graft_dataset_report_build (GraftDataset *dataset,
                            const GraftWalk *walk,
                            const GraftDatasetOptions *options)
{
  report_classes (dataset, options);
  report_files (dataset, walk, options);
  report_duplicates (dataset);
  report_tree (dataset, walk, options);
  /* errors first, then warnings, then notes; stable within each */
  g_ptr_array_sort (dataset->issues, compare_severity);
}

/* ---- JSON
 * ------------------------------------------------------------------------------
 */

static void
json_string (GString *out, const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p; p++)
    {
      unsigned char ch = (unsigned char) *p;
      if (ch == '"' || ch == '\\')
        g_string_append_printf (out, "\\%c", ch);
      else if (ch == '\n')
        g_string_append (out, "\\n");
      else if (ch < 0x20)
        g_string_append_printf (out, "\\u%04x", ch);
      else
        g_string_append_c (out, (char) ch);
    }
  g_string_append_c (out, '"');
}

char *
graft_dataset_report_json (const GraftDataset *dataset)
{
  GString *out = g_string_new (NULL);
  g_autofree int *train = g_new0 (int, MAX (dataset->n_classes, 1));
  g_autofree int *val = g_new0 (int, MAX (dataset->n_classes, 1));
  g_autofree char *root = g_filename_display_name (dataset->root);
  int total_train = 0, total_val = 0;

  graft_dataset_count (dataset, train, val);
  g_string_append (out, "{\n  \"root\": ");
  json_string (out, root);
  g_string_append_printf (out, ",\n  \"split\": \"%s\",\n  \"classes\": [",
                          dataset->given_split ? "given" : "made");
  for (int c = 0; c < dataset->n_classes; c++)
    {
      g_string_append (out, c ? ",\n    {\"name\": " : "\n    {\"name\": ");
      json_string (out, dataset->classes[c]);
      g_string_append_printf (out, ", \"train\": %d, \"val\": %d}", train[c],
                              val[c]);
      total_train += train[c];
      total_val += val[c];
    }
  g_string_append (out, dataset->n_classes ? "\n  ],\n  \"issues\": ["
                                           : "],\n  \"issues\": [");
  for (guint i = 0; i < dataset->issues->len; i++)
    {
      const GraftDatasetIssue *issue = dataset->issues->pdata[i];
      g_string_append_printf (
          out, "%s\n    {\"kind\": \"%s\", \"severity\": \"%s\", ",
          i ? "," : "", kind_names[issue->kind],
          severity_names[issue->severity]);
      if (issue->class_index >= 0)
        {
          g_string_append (out, "\"class\": ");
          json_string (out, dataset->classes[issue->class_index]);
          g_string_append (out, ", ");
        }
      g_string_append (out, "\"message\": ");
      json_string (out, issue->message);
      g_string_append (out, ",\n     \"files\": [");
      for (int f = 0; issue->files[f] != NULL; f++)
        {
          if (f)
            g_string_append (out, ", ");
          json_string (out, issue->files[f]);
        }
      g_string_append (out, "]}");
    }
  g_string_append (out, dataset->issues->len ? "\n  ],\n" : "],\n");
  g_string_append_printf (
      out,
      "  \"usable\": %s,\n  \"totals\": {\"train\": %d, \"val\": %d, "
      "\"skipped\": %d, \"ignored\": %d}\n}\n",
      graft_dataset_usable (dataset) ? "true" : "false", total_train, total_val,
      dataset->n_skipped, dataset->n_ignored);
  return g_string_free (out, FALSE);
}
