/* test-classify.c: the bundled pretrained models name real photos right.
 *
 * Expected top-1 classes are those onnxruntime gives with the reference
 * preprocessing (the table in the models' README). The float twins of the
 * bundled 8-bit files are checked too when ../shared/models is present.
 */
#include "classifier.h"
#include "model-catalog.h"

#include <json-glib/json-glib.h>
#include <string.h>

static const char *const photos[] = {
  "parrot.jpg", "hot_dog.jpg", "cat.bmp", "bird.bmp", "sunflower.bmp", "dragonfly.bmp",
};

static const struct
{
  const char *id;
  const char *float_file;
  int top1[G_N_ELEMENTS (photos)];
} expected[] = {
  { "mobilenet_v2_1.0_224", "mobilenet_v2_1.0_224.onnx", { 89, 935, 286, 20, 986, 320 } },
  { "mobilenet_v1_0.5_160", "mobilenet_v1_0.5_160.onnx", { 89, 935, 286, 20, 986, 320 } },
  { "mobilenet_v1_0.25_128", "mobilenet_v1_0.25_128.onnx", { 89, 39, 286, 20, 986, 301 } },
};

static void
check_model (const char *model_path, const int *top1)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftClassifier) c = graft_classifier_new (model_path, &error);
  g_autofree float *probs = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (c->n_classes, ==, 1001);
  probs = g_new (float, c->n_classes);
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *photo = g_test_build_filename (G_TEST_DIST, "data", "photos", photos[i], NULL);
      GraftPrediction best;
      double sum = 0;

      g_assert_true (graft_classifier_classify_file (c, photo, probs, &error));
      g_assert_no_error (error);
      for (int k = 0; k < c->n_classes; k++)
        sum += probs[k];
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-4);
      graft_classifier_top_k (c, probs, 1, &best);
      g_test_message ("%s: %s -> %d %s (%.3f)", model_path, photos[i], best.index,
                      best.label, best.probability);
      g_assert_cmpint (best.index, ==, top1[i]);
    }
}

static void
test_bundled (gconstpointer data)
{
  const GraftCatalogEntry *entry = graft_catalog_find (data);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = graft_catalog_entry_path (entry, &error);

  g_assert_no_error (error);
  for (size_t m = 0; m < G_N_ELEMENTS (expected); m++)
    if (g_str_equal (expected[m].id, data))
      check_model (path, expected[m].top1);
}

static void
test_float_twin (gconstpointer data)
{
  g_autofree char *shared = g_test_build_filename (G_TEST_DIST, "..", "..", "shared", "models", NULL);
  for (size_t m = 0; m < G_N_ELEMENTS (expected); m++)
    if (g_str_equal (expected[m].id, data))
      {
        g_autofree char *path = g_build_filename (shared, expected[m].float_file, NULL);
        if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
          {
            g_test_skip ("../shared/models is not beside the repository");
            return;
          }
        check_model (path, expected[m].top1);
      }
}

/* graft-cli classify --json is what scripts read: check its shape. */
static void
test_cli_json (void)
{
  g_autofree char *photo = g_test_build_filename (G_TEST_DIST, "data", "photos", "hot_dog.jpg", NULL);
  const char *argv[] = { g_getenv ("GRAFT_CLI"), "classify", "--top", "3", "--json", photo, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *results, *preds;
  JsonObject *first;
  int status;

  g_assert_nonnull (argv[0]);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  results = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  first = json_array_get_object_element (results, 0);
  g_assert_cmpstr (json_object_get_string_member (first, "image"), ==, photo);
  preds = json_object_get_array_member (first, "predictions");
  g_assert_cmpuint (json_array_get_length (preds), ==, 3);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (preds, 0), "index"),
                   ==, 935);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (preds, 0), "label"),
                   ==, "hotdog, hot dog, red hot");
}

/* A photo that is not an image fails alone; the others are still classified. */
static void
test_cli_bad_image (void)
{
  g_autofree char *good = g_test_build_filename (G_TEST_DIST, "data", "photos", "cat.bmp", NULL);
  g_autofree char *bad = g_test_build_filename (G_TEST_DIST, "test-classify.c", NULL);
  const char *argv[] = { g_getenv ("GRAFT_CLI"), "classify", "--top", "1", bad, good, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status,
                &error);
  g_assert_no_error (error);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "test-classify.c"));
  g_assert_nonnull (strstr (out, "Egyptian cat"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (size_t m = 0; m < G_N_ELEMENTS (expected); m++)
    {
      g_autofree char *p1 = g_strdup_printf ("/classify/bundled/%s", expected[m].id);
      g_autofree char *p2 = g_strdup_printf ("/classify/float/%s", expected[m].id);
      g_test_add_data_func (p1, expected[m].id, test_bundled);
      g_test_add_data_func (p2, expected[m].id, test_float_twin);
    }
  g_test_add_func ("/classify/cli-json", test_cli_json);
  g_test_add_func ("/classify/cli-bad-image", test_cli_bad_image);
  return g_test_run ();
}
