/* test-cli-check-data.c: graft-cli check-data as a user runs it: the text
 * report, the JSON of README's check-data section and the exit status
 * (0 usable, 1 errors or unreadable, 2 usage), on the committed fixtures
 * of tests/data/datasets and a single-class folder made here.
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

static int
run_cli (const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int wait_status;

  g_ptr_array_add (argv, (char *) g_getenv ("GRAFT_CLI"));
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                               G_SPAWN_DEFAULT, NULL, NULL, out, err,
                               &wait_status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  return WEXITSTATUS (wait_status);
}

static JsonObject *
check_data_json (const char *folder, const char *model, int expected_status)
{
  const char *args[] = { "check-data", "--json",
                         folder,       model ? "--model" : NULL,
                         model,        NULL };
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *o;
  JsonArray *a;
  int train = 0, val = 0, status = run_cli (args, &out, &err);
  gboolean has_error = FALSE;
  const char *previous = "";

  g_assert_cmpint (status, ==, expected_status);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "root"), ==, folder);

  /* classes: sorted by name, with photos per split */
  a = json_object_get_array_member (o, "classes");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *c = json_array_get_object_element (a, i);
      const char *name = json_object_get_string_member (c, "name");
      g_assert_cmpint (strcmp (previous, name), <, 0);
      previous = name;
      train += (int) json_object_get_int_member (c, "train");
      val += (int) json_object_get_int_member (c, "val");
    }

  /* issues: kind, severity, message, files (relative), class when about one */
  a = json_object_get_array_member (o, "issues");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *issue = json_array_get_object_element (a, i);
      const char *severity = json_object_get_string_member (issue, "severity");
      JsonArray *files = json_object_get_array_member (issue, "files");
      g_assert_nonnull (json_object_get_string_member (issue, "kind"));
      g_assert_true (g_str_equal (severity, "info") ||
                     g_str_equal (severity, "warning") ||
                     g_str_equal (severity, "error"));
      has_error |= g_str_equal (severity, "error");
      g_assert_cmpuint (
          strlen (json_object_get_string_member (issue, "message")), >, 0);
      for (guint f = 0; f < json_array_get_length (files); f++)
        g_assert_false (
            g_path_is_absolute (json_array_get_string_element (files, f)));
    }

  /* usable: no error; the exit status says the same */
  g_assert_cmpint (json_object_get_boolean_member (o, "usable"), ==,
                   !has_error);
  g_assert_cmpint (status, ==, has_error ? 1 : 0);
  {
    JsonObject *totals = json_object_get_object_member (o, "totals");
    g_assert_cmpint (json_object_get_int_member (totals, "train"), ==, train);
    g_assert_cmpint (json_object_get_int_member (totals, "val"), ==, val);
    g_assert_true (json_object_has_member (totals, "skipped"));
    g_assert_true (json_object_has_member (totals, "ignored"));
  }
  return json_object_ref (o);
}

/* The issue of this kind (and class, when given), or NULL. */
static JsonObject *
find_issue (JsonObject *report, const char *kind, const char *class_name)
{
  JsonArray *a = json_object_get_array_member (report, "issues");
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *issue = json_array_get_object_element (a, i);
      if (g_str_equal (json_object_get_string_member (issue, "kind"), kind) &&
          (class_name == NULL ||
           g_strcmp0 (json_object_get_string_member_with_default (
                          issue, "class", NULL),
                      class_name) == 0))
        return issue;
    }
  return NULL;
}

static gboolean
issue_names_file (JsonObject *issue, const char *file)
{
  JsonArray *files = json_object_get_array_member (issue, "files");
  for (guint f = 0; f < json_array_get_length (files); f++)
    if (g_str_equal (json_array_get_string_element (files, f), file))
      return TRUE;
  return FALSE;
}

static void
test_pets_json (void)
{
  g_autofree char *pets =
      g_test_build_filename (G_TEST_DIST, "data", "datasets", "pets", NULL);
  g_autoptr (JsonObject) o = check_data_json (pets, NULL, 0);
  JsonArray *classes = json_object_get_array_member (o, "classes");
  JsonObject *totals = json_object_get_object_member (o, "totals");

  g_assert_cmpstr (json_object_get_string_member (o, "split"), ==, "made");
  g_assert_cmpuint (json_array_get_length (classes), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (classes, 0), "name"),
                   ==, "birds");
  g_assert_cmpstr (json_object_get_string_member (
                       json_array_get_object_element (classes, 2), "name"),
                   ==, "dogs");
  /* The problems the fixture has on purpose (tests/data/datasets/README.md). */
  g_assert_true (issue_names_file (find_issue (o, "duplicate", "cats"),
                                   "cats/cat01 copy.jpg"));
  g_assert_true (issue_names_file (find_issue (o, "conflicting_label", NULL),
                                   "dogs/not-really-a-dog.jpg"));
  g_assert_true (issue_names_file (find_issue (o, "skipped_file", NULL),
                                   "birds/cut-short.jpg"));
  g_assert_nonnull (find_issue (o, "few_images", "birds"));
  g_assert_nonnull (find_issue (o, "imbalance", NULL));
  g_assert_null (find_issue (o, "single_class", NULL));
  /* fake.jpg, empty.png and cut-short.jpg are named like photos but unusable.
   */
  g_assert_cmpint (json_object_get_int_member (totals, "skipped"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (totals, "ignored"), >=, 1);
}

static void
test_given_json (void)
{
  g_autofree char *given =
      g_test_build_filename (G_TEST_DIST, "data", "datasets", "given", NULL);
  g_autoptr (JsonObject) o = check_data_json (given, NULL, 0);
  g_autoptr (JsonObject) small =
      check_data_json (given, "mobilenet_v1_0.25_128", 0);
  JsonObject *leak;

  g_assert_cmpstr (json_object_get_string_member (o, "split"), ==, "given");
  leak = find_issue (o, "leakage", "apples");
  g_assert_true (issue_names_file (leak, "train/apples/apple1.jpg"));
  g_assert_true (issue_names_file (leak, "val/apples/apple-leak.jpg"));
  g_assert_nonnull (find_issue (o, "no_validation", "pears"));
  /* 60-pixel photos are tiny for both models' inputs; --model sets which. */
  g_assert_nonnull (strstr (json_object_get_string_member (
                                find_issue (o, "tiny_image", NULL), "message"),
                            "224"));
  g_assert_nonnull (
      strstr (json_object_get_string_member (
                  find_issue (small, "tiny_image", NULL), "message"),
              "128"));
}

static void
test_text (void)
{
  g_autofree char *pets =
      g_test_build_filename (G_TEST_DIST, "data", "datasets", "pets", NULL);
  const char *args[] = { "check-data", pets, NULL };
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (run_cli (args, &out, &err), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Folder: "));
  g_assert_nonnull (strstr (out, "Split: made by Graft"));
  g_assert_nonnull (strstr (out, "  birds "));
  g_assert_nonnull (strstr (out, "  total "));
  g_assert_nonnull (strstr (out, "warning: "));
  g_assert_nonnull (strstr (out, "cats/cat01 copy.jpg"));
  g_assert_true (g_str_has_suffix (out, "Ready for training.\n"));
}

static void
test_unusable (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("graft-check-data-XXXXXX", &error);
  g_autofree char *class_dir = g_build_filename (tmp, "only", NULL);
  g_autofree char *src =
      g_test_build_filename (G_TEST_DIST, "data", "datasets", "given", "train",
                             "pears", "pear1.jpg", NULL);
  g_autofree char *dst = g_build_filename (class_dir, "pear1.jpg", NULL);
  g_autofree char *bytes = NULL, *out = NULL, *err = NULL, *missing = NULL;
  gsize len;

  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir (class_dir, 0755), ==, 0);
  g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (dst, bytes, (gssize) len, NULL));
  {
    g_autoptr (JsonObject) o = check_data_json (tmp, NULL, 1);
    JsonObject *single = find_issue (o, "single_class", NULL);
    g_assert_cmpstr (json_object_get_string_member (single, "severity"), ==,
                     "error");
    g_assert_false (json_object_get_boolean_member (o, "usable"));
  }
  {
    const char *args[] = { "check-data", tmp, NULL };
    g_assert_cmpint (run_cli (args, &out, &err), ==, 1);
    g_assert_nonnull (strstr (out, "error: "));
    g_assert_true (g_str_has_suffix (
        out, "Not ready for training: fix the errors above first.\n"));
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    /* A folder that is not there: one line naming it, status 1. */
    const char *args[] = { "check-data", "--json", NULL, NULL };
    missing = g_build_filename (tmp, "not-there", NULL);
    args[2] = missing;
    g_assert_cmpint (run_cli (args, &out, &err), ==, 1);
    g_assert_cmpstr (out, ==, "");
    g_assert_true (g_str_has_prefix (err, "graft-cli: "));
    g_assert_nonnull (strstr (err, missing));
    g_assert_nonnull (strchr (err, '\n'));
    g_assert_cmpstr (strchr (err, '\n') + 1, ==, "");
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  {
    const char *args[] = { "check-data", NULL };
    g_assert_cmpint (run_cli (args, &out, &err), ==, 2);
  }
  g_unlink (dst);
  g_rmdir (class_dir);
  g_rmdir (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("GRAFT_CLI") == NULL)
    g_error ("set GRAFT_CLI to graft-cli (meson test does)");
  g_test_add_func ("/cli-check-data/pets-json", test_pets_json);
  g_test_add_func ("/cli-check-data/given-json", test_given_json);
  g_test_add_func ("/cli-check-data/text", test_text);
  g_test_add_func ("/cli-check-data/unusable", test_unusable);
  return g_test_run ();
}
