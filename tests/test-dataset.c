/* test-dataset.c: scanning labeled photo folders, the split, the health
 * report and its JSON. Fixtures: tests/data/datasets (see its README);
 * links, odd names, deep and empty folders are made at test time. */
#include "dataset.h"
#include "graft-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers
 * ------------------------------------------------------------------ */

static char *
fixture (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "datasets", name, NULL);
}

static GraftDataset *
scan (const char *root, const GraftDatasetOptions *options)
{
  g_autoptr (GError) error = NULL;
  GraftDataset *ds =
      graft_dataset_scan (root, options, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ds);
  return ds;
}

static int
count_issues (const GraftDataset *ds, GraftIssueKind kind)
{
  int n = 0;
  for (guint i = 0; i < ds->issues->len; i++)
    n += ((GraftDatasetIssue *) ds->issues->pdata[i])->kind == kind;
  return n;
}

/* The issue of kind that lists file (any issue of kind when file is
 * NULL); fails the test when there is none. */
static const GraftDatasetIssue *
expect_issue (const GraftDataset *ds,
              GraftIssueKind kind,
              GraftSeverity severity,
              const char *file)
{
  for (guint i = 0; i < ds->issues->len; i++)
    {
      const GraftDatasetIssue *issue = ds->issues->pdata[i];
      if (issue->kind != kind)
        continue;
      if (file == NULL ||
          g_strv_contains ((const char *const *) issue->files, file))
        {
          g_assert_cmpint (issue->severity, ==, severity);
          g_assert_cmpstr (issue->message, !=, "");
          return issue;
        }
    }
  g_error ("no issue of kind %d naming %s", kind, file ? file : "(any)");
  return NULL;
}

static int
class_index (const GraftDataset *ds, const char *name)
{
  for (int c = 0; c < ds->n_classes; c++)
    if (strcmp (ds->classes[c], name) == 0)
      return c;
  g_error ("no class %s", name);
  return -1;
}

static gboolean
has_item (const GraftDataset *ds, const char *suffix)
{
  for (guint i = 0; i < ds->items->len; i++)
    if (g_str_has_suffix (g_array_index (ds->items, GraftDatasetItem, i).path,
                          suffix))
      return TRUE;
  return FALSE;
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  g_file_get_contents (from, &data, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, data, (gssize) len, &error);
  g_assert_no_error (error);
}

/* Copies of the fixture's cat<first>.jpg ... cat<first + n - 1>.jpg (12
 * distinct photos) in dir, made with its parents. */
static void
put_photos (const char *dir, int first, int n)
{
  g_assert_cmpint (first + n - 1, <=, 12);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (int i = first; i < first + n; i++)
    {
      g_autofree char *name = g_strdup_printf ("cat%02d.jpg", i);
      g_autofree char *from = g_test_build_filename (
          G_TEST_DIST, "data", "datasets", "pets", "cats", name, NULL);
      g_autofree char *to = g_build_filename (dir, name, NULL);
      copy_file (from, to);
    }
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  GStatBuf st;

  if (g_lstat (path, &st) == 0 && !S_ISDIR (st.st_mode))
    {
      g_unlink (path);
      return;
    }
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      remove_tree (child);
    }
  g_rmdir (path);
}

static char *
make_temp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("graft-dataset-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

/* ---- the committed fixture with a made split
 * ------------------------------------ */

static void
test_made_split_issues (void)
{
  g_autofree char *root = fixture ("pets");
  g_autoptr (GraftDataset) ds = NULL;
  GraftDatasetOptions options;
  int train[3], val[3];
  const GraftDatasetIssue *issue;

  graft_dataset_options_init (&options);
  options.min_side = 32;
  ds = scan (root, &options);

  g_assert_false (ds->given_split);
  g_assert_cmpint (ds->n_classes, ==, 3);
  g_assert_cmpstr (ds->classes[0], ==, "birds");
  g_assert_cmpstr (ds->classes[1], ==, "cats");
  g_assert_cmpstr (ds->classes[2], ==, "dogs");
  graft_dataset_count (ds, train, val);
  /* birds: 2 photos + tiny.png; cats: 12 + a copy; dogs: 11 PNG + 1 JPEG
   * + the cat filed as a dog */
  g_assert_cmpint (train[0] + val[0], ==, 3);
  g_assert_cmpint (train[1] + val[1], ==, 13);
  g_assert_cmpint (train[2] + val[2], ==, 13);
  g_assert_cmpint (ds->n_skipped, ==, 3);
  g_assert_cmpint (ds->n_ignored, ==, 1);

  /* hidden files and folders are neither items nor issues */
  g_assert_false (has_item (ds, ".secret.jpg"));
  g_assert_false (has_item (ds, "/.hidden-folder/cat.jpg"));
  for (guint i = 0; i < ds->issues->len; i++)
    {
      const GraftDatasetIssue *one = ds->issues->pdata[i];
      for (int f = 0; one->files[f] != NULL; f++)
        g_assert_null (strstr (one->files[f], "/."));
    }

  /* files that look like photos but cannot be used, each for its reason */
  issue = expect_issue (ds, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
                        "birds/cut-short.jpg");
  g_assert_nonnull (strstr (issue->message, "incomplete"));
  issue = expect_issue (ds, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
                        "dogs/fake.jpg");
  g_assert_nonnull (strstr (issue->message, "not an image"));
  issue = expect_issue (ds, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
                        "dogs/empty.png");
  g_assert_nonnull (strstr (issue->message, "empty"));
  g_assert_cmpint (count_issues (ds, GRAFT_ISSUE_SKIPPED_FILE), ==, 3);

  expect_issue (ds, GRAFT_ISSUE_NOT_AN_IMAGE, GRAFT_SEVERITY_INFO,
                "cats/notes.txt");
  expect_issue (ds, GRAFT_ISSUE_OUTSIDE_CLASS, GRAFT_SEVERITY_WARNING,
                "readme.txt");
  issue = expect_issue (ds, GRAFT_ISSUE_TINY_IMAGE, GRAFT_SEVERITY_WARNING,
                        "birds/tiny.png");
  g_assert_cmpint (g_strv_length (issue->files), ==, 1);

  issue = expect_issue (ds, GRAFT_ISSUE_DUPLICATE, GRAFT_SEVERITY_INFO,
                        "cats/cat01.jpg");
  g_assert_true (g_strv_contains ((const char *const *) issue->files,
                                  "cats/cat01 copy.jpg"));
  issue = expect_issue (ds, GRAFT_ISSUE_CONFLICTING_LABEL,
                        GRAFT_SEVERITY_WARNING, "cats/cat02.jpg");
  g_assert_true (g_strv_contains ((const char *const *) issue->files,
                                  "dogs/not-really-a-dog.jpg"));
  /* the copies of cat01 went to the same side of the split: no leakage */
  g_assert_cmpint (count_issues (ds, GRAFT_ISSUE_LEAKAGE), ==, 0);

  issue =
      expect_issue (ds, GRAFT_ISSUE_FEW_IMAGES, GRAFT_SEVERITY_WARNING, NULL);
  g_assert_cmpint (issue->class_index, ==, class_index (ds, "birds"));
  issue =
      expect_issue (ds, GRAFT_ISSUE_IMBALANCE, GRAFT_SEVERITY_WARNING, NULL);
  g_assert_nonnull (strstr (issue->message, "birds"));
  g_assert_true (graft_dataset_usable (ds));

  /* item facts */
  for (guint i = 0; i < ds->items->len; i++)
    {
      const GraftDatasetItem *item =
          &g_array_index (ds->items, GraftDatasetItem, i);
      g_assert_true (g_path_is_absolute (item->path));
      if (g_str_has_suffix (item->path, "dog12.jpg"))
        {
          /* full header size, though the check decoded at 1/8 */
          g_assert_cmpint (item->width, ==, 240);
          g_assert_cmpint (item->height, ==, 180);
        }
      if (g_str_has_suffix (item->path, "dog01.png"))
        {
          g_assert_cmpint (item->width, ==, 64);
          g_assert_cmpint (item->height, ==, 48);
        }
    }
}

/* Without a tiny-image threshold there is no such issue; with a higher
 * warning threshold all classes are "few". */
static void
test_options (void)
{
  g_autofree char *root = fixture ("pets");
  g_autoptr (GraftDataset) ds = NULL;
  GraftDatasetOptions options;

  graft_dataset_options_init (&options);
  g_assert_cmpfloat (options.val_fraction, ==, 0.2);
  g_assert_cmpint (options.min_per_class, ==, 10);
  g_assert_cmpint (options.max_depth, ==, 8);
  options.min_side = 0;
  options.min_per_class = 100;
  ds = scan (root, &options);
  g_assert_cmpint (count_issues (ds, GRAFT_ISSUE_TINY_IMAGE), ==, 0);
  g_assert_cmpint (count_issues (ds, GRAFT_ISSUE_FEW_IMAGES), ==, 3);
}

/* ---- the split
 * ------------------------------------------------------------------- */

static GArray *
val_paths (const GraftDataset *ds)
{
  GArray *val = graft_dataset_split_indices (ds, GRAFT_SPLIT_VAL);
  return val;
}

static gboolean
same_split (const GraftDataset *a, const GraftDataset *b)
{
  if (a->items->len != b->items->len)
    return FALSE;
  for (guint i = 0; i < a->items->len; i++)
    {
      const GraftDatasetItem *x =
          &g_array_index (a->items, GraftDatasetItem, i);
      const GraftDatasetItem *y =
          &g_array_index (b->items, GraftDatasetItem, i);
      if (strcmp (x->path, y->path) != 0 || x->split != y->split ||
          x->label != y->label)
        return FALSE;
    }
  return TRUE;
}

static void
test_made_split (void)
{
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autofree char *c = g_build_filename (tmp, "c", NULL);
  g_autoptr (GraftDataset) ds1 = NULL;
  g_autoptr (GraftDataset) ds2 = NULL;
  g_autoptr (GraftDataset) ds3 = NULL;
  g_autoptr (GArray) train_idx = NULL;
  g_autoptr (GArray) val_idx = NULL;
  GraftDatasetOptions options;
  int train[3], val[3];
  gboolean differs = FALSE;

  put_photos (a, 1, 10); /* 10 photos: 2 to validation */
  put_photos (b, 1, 5);  /* 5: 1 */
  put_photos (c, 1, 2);  /* 2: at least 1 */
  graft_dataset_options_init (&options);
  options.min_side = 0;
  options.seed = 42;
  ds1 = scan (tmp, &options);
  ds2 = scan (tmp, &options);
  g_assert_false (ds1->given_split);
  graft_dataset_count (ds1, train, val);
  g_assert_cmpint (train[0], ==, 8);
  g_assert_cmpint (val[0], ==, 2);
  g_assert_cmpint (train[1], ==, 4);
  g_assert_cmpint (val[1], ==, 1);
  g_assert_cmpint (train[2], ==, 1);
  g_assert_cmpint (val[2], ==, 1);
  g_assert_true (same_split (ds1, ds2)); /* seeded: the same every time */

  /* Other seeds pick other photos (the counts stay). */
  for (guint64 seed = 1; seed < 6 && !differs; seed++)
    {
      g_autoptr (GraftDataset) other = NULL;
      options.seed = seed;
      other = scan (tmp, &options);
      graft_dataset_count (other, train, val);
      g_assert_cmpint (val[0], ==, 2);
      differs = !same_split (ds1, other);
    }
  g_assert_true (differs);

  /* The classes share photos here: cat01..cat05 are in two or three. */
  g_assert_cmpint (count_issues (ds1, GRAFT_ISSUE_CONFLICTING_LABEL), ==, 5);

  /* split_indices: train then val, all items once, in item order. */
  train_idx = graft_dataset_split_indices (ds1, GRAFT_SPLIT_TRAIN);
  val_idx = val_paths (ds1);
  g_assert_cmpuint (train_idx->len + val_idx->len, ==, ds1->items->len);
  for (guint i = 0; i < val_idx->len; i++)
    {
      int index = g_array_index (val_idx, int, i);
      g_assert_cmpint (
          g_array_index (ds1->items, GraftDatasetItem, index).split, ==,
          GRAFT_SPLIT_VAL);
      if (i > 0)
        g_assert_cmpint (index, >, g_array_index (val_idx, int, i - 1));
    }

  /* A class of one photo: no validation photo, said so. */
  remove_tree (c);
  put_photos (c, 1, 1);
  options.seed = 42;
  ds3 = scan (tmp, &options);
  expect_issue (ds3, GRAFT_ISSUE_NO_VALIDATION, GRAFT_SEVERITY_WARNING, NULL);
  remove_tree (tmp);
}

static void
test_given_split (void)
{
  g_autofree char *root = fixture ("given");
  g_autoptr (GraftDataset) ds = NULL;
  GraftDatasetOptions options;
  int train[2], val[2];
  const GraftDatasetIssue *issue;

  graft_dataset_options_init (&options);
  options.min_side = 0;
  ds = scan (root, &options);
  g_assert_true (ds->given_split);
  g_assert_cmpint (ds->n_classes, ==, 2);
  graft_dataset_count (ds, train, val);
  g_assert_cmpint (train[0], ==, 3);
  g_assert_cmpint (val[0], ==, 2);
  g_assert_cmpint (train[1], ==, 3);
  g_assert_cmpint (val[1], ==, 0);
  issue = expect_issue (ds, GRAFT_ISSUE_NO_VALIDATION, GRAFT_SEVERITY_WARNING,
                        NULL);
  g_assert_cmpint (issue->class_index, ==, class_index (ds, "pears"));
  issue = expect_issue (ds, GRAFT_ISSUE_LEAKAGE, GRAFT_SEVERITY_WARNING,
                        "train/apples/apple1.jpg");
  g_assert_true (g_strv_contains ((const char *const *) issue->files,
                                  "val/apples/apple-leak.jpg"));
  /* train before val in the item list */
  g_assert_cmpint (g_array_index (ds->items, GraftDatasetItem, 0).split, ==,
                   GRAFT_SPLIT_TRAIN);
  g_assert_cmpint (
      g_array_index (ds->items, GraftDatasetItem, ds->items->len - 1).split, ==,
      GRAFT_SPLIT_VAL);
}

/* A separate validation folder (options->val_dir) is a given split too. */
static void
test_val_dir (void)
{
  g_autofree char *train = fixture ("given/train");
  g_autofree char *val = fixture ("given/val");
  g_autoptr (GraftDataset) ds = NULL;
  GraftDatasetOptions options;
  int t[2], v[2];

  graft_dataset_options_init (&options);
  options.val_dir = val;
  ds = scan (train, &options);
  g_assert_true (ds->given_split);
  graft_dataset_count (ds, t, v);
  g_assert_cmpint (t[0] + t[1], ==, 6);
  g_assert_cmpint (v[0] + v[1], ==, 2);
  expect_issue (ds, GRAFT_ISSUE_LEAKAGE, GRAFT_SEVERITY_WARNING,
                "val/apples/apple-leak.jpg");
}

/* ---- made at test time
 * ------------------------------------------------------------- */

static void
test_link_loop (void)
{
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autofree char *loop = g_build_filename (a, "again", NULL);
  g_autofree char *repeat = g_build_filename (b, "more-a", NULL);
  g_autoptr (GraftDataset) ds = NULL;
  int train[2], val[2];

  put_photos (a, 1, 3);
  put_photos (b, 4, 3);
  g_assert_cmpint (symlink ("..", loop), ==, 0); /* a/again -> the root */
  g_assert_cmpint (symlink (a, repeat), ==, 0);  /* b/more-a -> a */
  ds = scan (tmp, NULL);
  graft_dataset_count (ds, train, val);
  g_assert_cmpint (train[0] + val[0], ==, 3);
  g_assert_cmpint (train[1] + val[1], ==, 3);
  expect_issue (ds, GRAFT_ISSUE_LINK_LOOP, GRAFT_SEVERITY_WARNING, "a/again");
  expect_issue (ds, GRAFT_ISSUE_LINK_LOOP, GRAFT_SEVERITY_INFO, "b/more-a");
  remove_tree (tmp);
}

static void
test_broken_link (void)
{
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autofree char *gone = g_build_filename (a, "gone.jpg", NULL);
  g_autoptr (GraftDataset) ds = NULL;
  const GraftDatasetIssue *issue;

  put_photos (a, 1, 2);
  put_photos (b, 3, 2);
  g_assert_cmpint (symlink ("/nonexistent/graft/photo.jpg", gone), ==, 0);
  ds = scan (tmp, NULL);
  issue = expect_issue (ds, GRAFT_ISSUE_SKIPPED_FILE, GRAFT_SEVERITY_WARNING,
                        "a/gone.jpg");
  g_assert_nonnull (strstr (issue->message, "cannot be read"));
  remove_tree (tmp);
}

static void
test_name_encoding (void)
{
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *a = g_build_filename (tmp, "caf\xe9", NULL); /* Latin-1 é */
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autofree char *odd_photo = g_build_filename (b, "photo\xff.jpg", NULL);
  g_autofree char *from = NULL;
  g_autoptr (GraftDataset) ds = NULL;
  g_autofree char *json = NULL;
  int train[2], val[2];

  put_photos (a, 1, 3);
  put_photos (b, 4, 2);
  from = g_build_filename (b, "cat04.jpg", NULL);
  g_assert_cmpint (g_rename (from, odd_photo), ==, 0);
  ds = scan (tmp, NULL);
  g_assert_cmpint (ds->n_classes, ==, 2);
  /* still usable: both classes keep all their photos */
  graft_dataset_count (ds, train, val);
  g_assert_cmpint (train[0] + val[0], ==, 2);
  g_assert_cmpint (train[1] + val[1], ==, 3);
  g_assert_true (has_item (ds, "photo\xff.jpg"));
  for (int c = 0; c < ds->n_classes; c++)
    g_assert_true (g_utf8_validate (ds->classes[c], -1, NULL));
  g_assert_cmpint (g_strv_length (expect_issue (ds, GRAFT_ISSUE_NAME_ENCODING,
                                                GRAFT_SEVERITY_INFO, NULL)
                                      ->files),
                   ==, 2);
  json = graft_dataset_report_json (ds);
  g_assert_true (g_utf8_validate (json, -1, NULL));
  remove_tree (tmp);
}

static void
test_too_deep (void)
{
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *shallow = g_build_filename (tmp, "a", "2023", "june", NULL);
  g_autofree char *deep = g_build_filename (tmp, "b", "1", "2", "3", "4", NULL);
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autoptr (GraftDataset) ds = NULL;
  GraftDatasetOptions options;
  int train[2], val[2];

  put_photos (shallow, 1, 2); /* depth 3: followed */
  put_photos (b, 3, 2);
  put_photos (deep, 5, 2); /* depth 5: beyond max_depth 4 */
  graft_dataset_options_init (&options);
  options.max_depth = 4;
  ds = scan (tmp, &options);
  graft_dataset_count (ds, train, val);
  g_assert_cmpint (train[0] + val[0], ==, 2);
  g_assert_cmpint (train[1] + val[1], ==, 2);
  expect_issue (ds, GRAFT_ISSUE_TOO_DEEP, GRAFT_SEVERITY_WARNING, "b/1/2/3/4");
  remove_tree (tmp);
}

static void
test_empty_and_single_class (void)
{
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *empty = g_build_filename (tmp, "empty", NULL);
  g_autoptr (GraftDataset) ds = NULL;
  g_autoptr (GraftDataset) ds2 = NULL;
  g_autoptr (GraftDataset) ds3 = NULL;
  const GraftDatasetIssue *issue;

  put_photos (a, 1, 3);
  g_assert_cmpint (g_mkdir (empty, 0755), ==, 0);
  ds = scan (tmp, NULL);
  issue =
      expect_issue (ds, GRAFT_ISSUE_EMPTY_CLASS, GRAFT_SEVERITY_ERROR, NULL);
  g_assert_cmpint (issue->class_index, ==, class_index (ds, "empty"));
  expect_issue (ds, GRAFT_ISSUE_SINGLE_CLASS, GRAFT_SEVERITY_ERROR, NULL);
  g_assert_false (graft_dataset_usable (ds));

  g_rmdir (empty);
  ds2 = scan (tmp, NULL);
  g_assert_cmpint (ds2->n_classes, ==, 1);
  expect_issue (ds2, GRAFT_ISSUE_SINGLE_CLASS, GRAFT_SEVERITY_ERROR, NULL);
  g_assert_cmpint (count_issues (ds2, GRAFT_ISSUE_EMPTY_CLASS), ==, 0);
  g_assert_false (graft_dataset_usable (ds2));

  /* photos straight in the root, no class folder at all */
  remove_tree (tmp);
  put_photos (tmp, 1, 2);
  ds3 = scan (tmp, NULL);
  g_assert_cmpint (ds3->n_classes, ==, 0);
  g_assert_cmpint (ds3->items->len, ==, 0);
  expect_issue (ds3, GRAFT_ISSUE_SINGLE_CLASS, GRAFT_SEVERITY_ERROR, NULL);
  issue = expect_issue (ds3, GRAFT_ISSUE_OUTSIDE_CLASS, GRAFT_SEVERITY_WARNING,
                        "cat01.jpg");
  g_assert_cmpint (g_strv_length (issue->files), ==, 2);
  remove_tree (tmp);
}

static void
test_root_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = fixture ("pets/readme.txt");
  GraftDataset *ds;

  ds = graft_dataset_scan ("/nonexistent/graft/photos", NULL, NULL, NULL, NULL,
                           &error);
  g_assert_null (ds);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/graft/photos"));
  g_clear_error (&error);
  ds = graft_dataset_scan (file, NULL, NULL, NULL, NULL, &error);
  g_assert_null (ds);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "not a folder"));
}

static void
count_progress (int files_seen, gpointer user)
{
  int *last = user;
  g_assert_cmpint (files_seen, >, *last);
  *last = files_seen;
}

static void
test_progress_and_cancel (void)
{
  g_autofree char *root = fixture ("pets");
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftDataset) ds = NULL;
  int last = 0;

  ds = graft_dataset_scan (root, NULL, NULL, count_progress, &last, &error);
  g_assert_no_error (error);
  /* every non-hidden file under a class folder */
  g_assert_cmpint (last, ==, 4 + 14 + 15);
  g_cancellable_cancel (cancellable);
  g_assert_null (
      graft_dataset_scan (root, NULL, cancellable, NULL, NULL, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED);
}

/* ---- JSON
 * -----------------------------------------------------------------------------
 */

static void
test_json (void)
{
  g_autofree char *root = fixture ("pets");
  g_autoptr (GraftDataset) ds = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  GraftDatasetOptions options;
  JsonObject *top, *totals;
  JsonArray *classes, *issues;
  int train[3], val[3];

  graft_dataset_options_init (&options);
  options.min_side = 32;
  ds = scan (root, &options);
  text = graft_dataset_report_json (ds);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  top = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (top, "root"), ==, ds->root);
  g_assert_cmpstr (json_object_get_string_member (top, "split"), ==, "made");
  g_assert_true (json_object_get_boolean_member (top, "usable"));

  graft_dataset_count (ds, train, val);
  classes = json_object_get_array_member (top, "classes");
  g_assert_cmpuint (json_array_get_length (classes), ==, 3);
  for (guint c = 0; c < 3; c++)
    {
      JsonObject *o = json_array_get_object_element (classes, c);
      g_assert_cmpstr (json_object_get_string_member (o, "name"), ==,
                       ds->classes[c]);
      g_assert_cmpint (json_object_get_int_member (o, "train"), ==, train[c]);
      g_assert_cmpint (json_object_get_int_member (o, "val"), ==, val[c]);
    }

  issues = json_object_get_array_member (top, "issues");
  g_assert_cmpuint (json_array_get_length (issues), ==, ds->issues->len);
  for (guint i = 0; i < ds->issues->len; i++)
    {
      const GraftDatasetIssue *issue = ds->issues->pdata[i];
      JsonObject *o = json_array_get_object_element (issues, i);
      JsonArray *files = json_object_get_array_member (o, "files");
      const char *severity = json_object_get_string_member (o, "severity");

      g_assert_cmpstr (json_object_get_string_member (o, "message"), ==,
                       issue->message);
      g_assert_true (strcmp (severity, "info") == 0 ||
                     strcmp (severity, "warning") == 0 ||
                     strcmp (severity, "error") == 0);
      g_assert_nonnull (json_object_get_string_member (o, "kind"));
      g_assert_cmpuint (json_array_get_length (files), ==,
                        g_strv_length (issue->files));
      for (guint f = 0; f < json_array_get_length (files); f++)
        g_assert_cmpstr (json_array_get_string_element (files, f), ==,
                         issue->files[f]);
    }
  /* names of kinds the fixture has */
  g_assert_nonnull (strstr (text, "\"kind\": \"conflicting_label\""));
  g_assert_nonnull (strstr (text, "\"kind\": \"skipped_file\""));
  g_assert_nonnull (strstr (text, "\"cats/cat01 copy.jpg\""));

  totals = json_object_get_object_member (top, "totals");
  g_assert_cmpint (json_object_get_int_member (totals, "train"), ==,
                   train[0] + train[1] + train[2]);
  g_assert_cmpint (json_object_get_int_member (totals, "val"), ==,
                   val[0] + val[1] + val[2]);
  g_assert_cmpint (json_object_get_int_member (totals, "skipped"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (totals, "ignored"), ==, 1);
}

/* Quotes, backslashes and control characters in names stay valid JSON;
 * an unusable dataset says so. */
static void
test_json_escaping (void)
{
  g_autofree char *tmp = make_temp_dir ();
  g_autofree char *a = g_build_filename (tmp, "say \"cheese\"\\", NULL);
  g_autofree char *tab = g_build_filename (tmp, "tab\there", NULL);
  g_autoptr (GraftDataset) ds = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  JsonObject *top;

  put_photos (a, 1, 1);
  g_assert_cmpint (g_mkdir (tab, 0755), ==, 0);
  ds = scan (tmp, NULL);
  text = graft_dataset_report_json (ds);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  top = json_node_get_object (json_parser_get_root (parser));
  g_assert_false (json_object_get_boolean_member (top, "usable"));
  g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (
                           json_object_get_array_member (top, "classes"), 0),
                       "name"),
                   ==, "say \"cheese\"\\");
  g_assert_nonnull (strstr (text, "\"kind\": \"empty_class\""));
  remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/dataset/made-split-issues", test_made_split_issues);
  g_test_add_func ("/dataset/options", test_options);
  g_test_add_func ("/dataset/made-split", test_made_split);
  g_test_add_func ("/dataset/given-split", test_given_split);
  g_test_add_func ("/dataset/val-dir", test_val_dir);
  g_test_add_func ("/dataset/link-loop", test_link_loop);
  g_test_add_func ("/dataset/broken-link", test_broken_link);
  g_test_add_func ("/dataset/name-encoding", test_name_encoding);
  g_test_add_func ("/dataset/too-deep", test_too_deep);
  g_test_add_func ("/dataset/empty-and-single-class",
                   test_empty_and_single_class);
  g_test_add_func ("/dataset/root-errors", test_root_errors);
  g_test_add_func ("/dataset/progress-and-cancel", test_progress_and_cancel);
  g_test_add_func ("/dataset/json", test_json);
  g_test_add_func ("/dataset/json-escaping", test_json_escaping);
  return g_test_run ();
}
