/* test-cli-train.c: graft-cli train, classify and evaluate end to end.
 *
 * Trains mobilenet_v1_0.25_128 for two epochs on tests/data/app-dataset
 * (circles and stripes, 8 photos each), then checks what a user gets: the
 * model file, labels.txt, the --log-json lines, classify and evaluate on
 * the result, the same probabilities from the re-imported file, the same
 * within 1e-4 from onnxruntime on the very tensors Graft fed (dumped with
 * classify --dump-input; tests/export-check.mjs runs onnxruntime), and
 * --bake-normalization's model agreeing with the plain one. Then the
 * errors: a missing folder, a single class, an --out that cannot be
 * written. graft-cli is $GRAFT_CLI.
 */
#include "classifier.h"
#include "graft-error.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#define EPOCHS 2
#define SEED "3"

static const char *const photos[] = {
  "circles/circle-1.jpg",
  "circles/circle-6.jpg",
  "stripes/stripes-2.jpg",
  "stripes/stripes-7.jpg",
};

/* Trained once, shared by the tests (each may run alone with -p). */
static char *tmp_dir;
static char *dataset;
static char *plain_model, *baked_model;

typedef struct
{
  int status;
  char *out, *err;
} CliResult;

static void
cli_result_clear (CliResult *r)
{
  g_free (r->out);
  g_free (r->err);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliResult, cli_result_clear)

/* Runs graft-cli with args (NULL-terminated) and returns its exit status. */
static void
run_cli (CliResult *r, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int wait_status;

  g_ptr_array_add (argv, (char *) g_getenv ("GRAFT_CLI"));
  for (int i = 0; args[i]; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                               G_SPAWN_DEFAULT, NULL, NULL, &r->out, &r->err,
                               &wait_status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  r->status = WEXITSTATUS (wait_status);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static char *
photo_path (int i)
{
  return g_build_filename (dataset, photos[i], NULL);
}

static char *
train (const char *name, gboolean bake)
{
  g_autofree char *dir = g_build_filename (tmp_dir, name, NULL);
  char *out = g_build_filename (dir, "model.onnx", NULL);
  g_autofree char *log = g_build_filename (dir, "log.json", NULL);
  const char *args[] = { "train",
                         "--data",
                         dataset,
                         "--model",
                         "mobilenet_v1_0.25_128",
                         "--epochs",
                         G_STRINGIFY (EPOCHS),
                         "--seed",
                         SEED,
                         "--out",
                         out,
                         "--log-json",
                         log,
                         bake ? "--bake-normalization" : NULL,
                         NULL };
  g_auto (CliResult) r = { 0 };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  run_cli (&r, args);
  if (r.status != 0)
    g_printerr ("%s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  return out;
}

static void
ensure_trained (void)
{
  if (plain_model == NULL)
    plain_model = train ("plain", FALSE);
}

/* probs[image][class] from classify --json, classes by index. */
static float **
classify_json (const char *model,
               const char *dump_dir,
               int n_classes,
               char ***labels)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_auto (CliResult) r = { 0 };
  g_autoptr (JsonNode) root = NULL;
  JsonArray *images;
  float **probs = g_new0 (float *, G_N_ELEMENTS (photos) + 1);

  g_ptr_array_add (args, g_strdup ("classify"));
  g_ptr_array_add (args, g_strdup ("--json"));
  g_ptr_array_add (args, g_strdup ("--model"));
  g_ptr_array_add (args, g_strdup (model));
  if (dump_dir)
    {
      g_ptr_array_add (args, g_strdup ("--dump-input"));
      g_ptr_array_add (args, g_strdup (dump_dir));
    }
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    g_ptr_array_add (args, photo_path ((int) i));
  g_ptr_array_add (args, NULL);
  run_cli (&r, (const char *const *) args->pdata);
  g_assert_cmpint (r.status, ==, 0);
  root = parse_json (r.out);
  images = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (images), ==, G_N_ELEMENTS (photos));
  if (labels)
    *labels = g_new0 (char *, n_classes + 1);
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      JsonObject *o = json_array_get_object_element (images, i);
      JsonArray *preds = json_object_get_array_member (o, "predictions");
      g_autofree char *expected = photo_path ((int) i);
      float previous = 2;

      g_assert_cmpstr (json_object_get_string_member (o, "image"), ==,
                       expected);
      /* The default --top 5 shows all of the classes, best first. */
      g_assert_cmpuint (json_array_get_length (preds), ==, n_classes);
      probs[i] = g_new0 (float, n_classes);
      for (guint k = 0; k < json_array_get_length (preds); k++)
        {
          JsonObject *p = json_array_get_object_element (preds, k);
          int index = (int) json_object_get_int_member (p, "index");
          float prob = (float) json_object_get_double_member (p, "probability");
          g_assert_cmpint (index, >=, 0);
          g_assert_cmpint (index, <, n_classes);
          g_assert_cmpfloat (prob, <=, previous);
          previous = prob;
          probs[i][index] = prob;
          if (labels && (*labels)[index] == NULL)
            (*labels)[index] =
                g_strdup (json_object_get_string_member (p, "label"));
        }
    }
  return probs;
}

static void
test_outputs (void)
{
  g_autofree char *dir = NULL, *labels_path = NULL, *labels = NULL,
                  *log_path = NULL, *log = NULL;
  g_auto (GStrv) lines = NULL;
  int n_lines, expected_epoch = 1, stage = 1;

  ensure_trained ();
  dir = g_path_get_dirname (plain_model);
  labels_path = g_build_filename (dir, "labels.txt", NULL);
  log_path = g_build_filename (dir, "log.json", NULL);
  g_assert_true (g_file_test (plain_model, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_get_contents (labels_path, &labels, NULL, NULL));
  g_assert_cmpstr (labels, ==, "circles\nstripes\n");

  /* One object per epoch and stage (the head alone, then the fine-tune
   * asked for, which --no-compare would skip). */
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  lines = g_strsplit (g_strchomp (log), "\n", -1);
  n_lines = (int) g_strv_length (lines);
  g_assert_true (n_lines == EPOCHS || n_lines == 2 * EPOCHS);
  for (int i = 0; i < n_lines; i++)
    {
      g_autoptr (JsonNode) node = parse_json (lines[i]);
      JsonObject *o = json_node_get_object (node);
      const char *keys[] = { "epoch",    "train_loss",   "train_accuracy",
                             "val_loss", "val_accuracy", "seconds" };

      for (size_t k = 0; k < G_N_ELEMENTS (keys); k++)
        {
          g_assert_true (json_object_has_member (o, keys[k]));
          g_assert_true (
              JSON_NODE_HOLDS_VALUE (json_object_get_member (o, keys[k])));
        }
      if (expected_epoch > EPOCHS)
        expected_epoch = 1, stage++;
      g_assert_cmpint (json_object_get_int_member (o, "stage"), ==, stage);
      g_assert_cmpint (json_object_get_int_member (o, "epoch"), ==,
                       expected_epoch++);
      g_assert_cmpfloat (json_object_get_double_member (o, "train_loss"), >, 0);
      g_assert_true (
          isfinite (json_object_get_double_member (o, "train_loss")));
      g_assert_cmpfloat (json_object_get_double_member (o, "val_loss"), >, 0);
      for (int a = 0; a < 2; a++)
        {
          double acc = json_object_get_double_member (o, a ? "val_accuracy"
                                                           : "train_accuracy");
          g_assert_cmpfloat (acc, >=, 0);
          g_assert_cmpfloat (acc, <=, 1);
        }
      g_assert_cmpfloat (json_object_get_double_member (o, "seconds"), >=, 0);
    }
}

static void
test_classify (void)
{
  g_auto (GStrv) labels = NULL;
  float **probs;

  ensure_trained ();
  probs = classify_json (plain_model, NULL, 2, &labels);
  g_assert_cmpstr (labels[0], ==, "circles");
  g_assert_cmpstr (labels[1], ==, "stripes");
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_assert_cmpfloat_with_epsilon (probs[i][0] + probs[i][1], 1.0, 1e-5);
      g_free (probs[i]);
    }
  g_free (probs);
}

/* The exported file through graft_classifier_new gives classify's numbers
 * bit for bit: the same code path on the same file. */
static void
test_reimport (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftClassifier) c = NULL;
  g_autoptr (GraftOnnxModel) model = NULL;
  float **expected, probs[2];

  ensure_trained ();
  expected = classify_json (plain_model, NULL, 2, NULL);
  c = graft_classifier_new (plain_model, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->n_classes, ==, 2);
  g_assert_cmpstr (c->labels[0], ==, "circles");
  g_assert_cmpstr (c->labels[1], ==, "stripes");
  g_assert_true (c->ends_in_softmax);
  g_assert_cmpint (c->preprocess.width, ==, 128);
  g_assert_cmpint (c->preprocess.height, ==, 128);
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *photo = photo_path ((int) i);
      g_assert_true (graft_classifier_classify_file (c, photo, probs, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (probs, sizeof probs, expected[i], sizeof probs);
      g_free (expected[i]);
    }
  g_free (expected);

  model = graft_onnx_model_load (plain_model, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "graft.labels"), ==,
                   "circles\nstripes");
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "preprocess.size"), ==,
                   "128x128");
  g_assert_cmpstr (
      graft_onnx_model_get_metadata (model, "preprocess.central_crop"), ==,
      "0.875");
  g_assert_nonnull (graft_onnx_model_get_metadata (model, "preprocess.mean"));
  g_assert_nonnull (graft_onnx_model_get_metadata (model, "preprocess.std"));
  g_assert_null (
      graft_onnx_model_get_metadata (model, "preprocess.input_range"));
  g_assert_cmpstr (model->graph.outputs[0].name, ==, "probabilities");
}

static void
test_evaluate (void)
{
  const char *args[] = { "evaluate", NULL, NULL, "--json", NULL };
  const char *classes[] = { "circles", "stripes" };
  g_autoptr (JsonNode) root = NULL;
  g_auto (CliResult) r = { 0 };
  g_autoptr (GPtrArray) cargs = g_ptr_array_new_with_free_func (g_free);
  g_auto (CliResult) cr = { 0 };
  g_autoptr (JsonNode) classified = NULL;
  int confusion[2][2] = { { 0 } };
  JsonObject *o;
  JsonArray *a;
  double accuracy;

  ensure_trained ();
  /* What evaluate should find, from classify on every photo of the folder. */
  g_ptr_array_add (cargs, g_strdup ("classify"));
  g_ptr_array_add (cargs, g_strdup ("--json"));
  g_ptr_array_add (cargs, g_strdup ("--top=1"));
  g_ptr_array_add (cargs, g_strdup ("--model"));
  g_ptr_array_add (cargs, g_strdup (plain_model));
  for (int k = 0; k < 2; k++)
    for (int i = 1; i <= 8; i++)
      g_ptr_array_add (cargs,
                       g_strdup_printf ("%s/%s/%s-%d.jpg", dataset, classes[k],
                                        k ? "stripes" : "circle", i));
  g_ptr_array_add (cargs, NULL);
  run_cli (&cr, (const char *const *) cargs->pdata);
  g_assert_cmpint (cr.status, ==, 0);
  classified = parse_json (cr.out);
  for (guint i = 0; i < 16; i++)
    {
      JsonObject *img =
          json_array_get_object_element (json_node_get_array (classified), i);
      JsonObject *best = json_array_get_object_element (
          json_object_get_array_member (img, "predictions"), 0);
      confusion[i / 8][json_object_get_int_member (best, "index")]++;
    }

  args[1] = plain_model;
  args[2] = dataset;
  run_cli (&r, args);
  g_assert_cmpint (r.status, ==, 0);
  root = parse_json (r.out);
  o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "model"), ==, plain_model);
  g_assert_cmpstr (json_object_get_string_member (o, "folder"), ==, dataset);
  g_assert_cmpint (json_object_get_int_member (o, "images"), ==, 16);
  accuracy = json_object_get_double_member (o, "accuracy");
  g_assert_cmpfloat_with_epsilon (
      accuracy, (confusion[0][0] + confusion[1][1]) / 16.0, 1e-9);
  g_assert_true (json_object_has_member (o, "macro_f1"));

  a = json_object_get_array_member (o, "classes");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  for (guint k = 0; k < 2; k++)
    {
      JsonObject *c = json_array_get_object_element (a, k);
      int tp = confusion[k][k], predicted = confusion[0][k] + confusion[1][k];
      g_assert_cmpstr (json_object_get_string_member (c, "name"), ==,
                       classes[k]);
      g_assert_cmpint (json_object_get_int_member (c, "support"), ==, 8);
      g_assert_cmpfloat_with_epsilon (
          json_object_get_double_member (c, "recall"), tp / 8.0, 1e-9);
      if (predicted > 0)
        g_assert_cmpfloat_with_epsilon (
            json_object_get_double_member (c, "precision"),
            (double) tp / predicted, 1e-9);
      g_assert_true (json_object_has_member (c, "f1"));
    }

  a = json_object_get_array_member (o, "confusion");
  g_assert_cmpuint (json_array_get_length (a), ==, 2);
  for (guint k = 0; k < 2; k++)
    for (guint j = 0; j < 2; j++)
      g_assert_cmpint (
          json_array_get_int_element (json_array_get_array_element (a, k), j),
          ==, confusion[k][j]);

  a = json_object_get_array_member (o, "misclassified");
  g_assert_cmpuint (json_array_get_length (a), ==,
                    confusion[0][1] + confusion[1][0]);
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonObject *m = json_array_get_object_element (a, i);
      const char *truth = json_object_get_string_member (m, "true");
      const char *predicted = json_object_get_string_member (m, "predicted");
      g_assert_true (g_str_has_prefix (
          json_object_get_string_member (m, "file"), dataset));
      g_assert_true (g_str_equal (truth, "circles") ||
                     g_str_equal (truth, "stripes"));
      g_assert_cmpstr (truth, !=, predicted);
      g_assert_cmpfloat (json_object_get_double_member (m, "probability"), >=,
                         0.5);
    }
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (o, "failed")), ==,
      0);
}

static gboolean
have_onnxruntime (void)
{
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *ort =
      g_test_build_filename (G_TEST_DIST, "bench", "node_modules",
                             "onnxruntime-node", "package.json", NULL);
  if (node == NULL)
    {
      g_test_skip ("node is not installed (.ci/setup installs it)");
      return FALSE;
    }
  if (!g_file_test (ort, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip (
          "onnxruntime-node is not in tests/bench/node_modules "
          "(.ci/setup installs it: cd tests/bench && npm ci --ignore-scripts)");
      return FALSE;
    }
  return TRUE;
}

/* probs[image][class] from onnxruntime on DIR/image_N.pb. */
static float **
onnxruntime_probs (const char *model, const char *dump_dir)
{
  g_autofree char *node = g_find_program_in_path ("node");
  g_autofree char *script =
      g_test_build_filename (G_TEST_DIST, "export-check.mjs", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *out = NULL, *err = NULL;
  float **probs = g_new0 (float *, G_N_ELEMENTS (photos) + 1);
  int wait_status;
  JsonArray *results;

  g_ptr_array_add (argv, g_strdup (node));
  g_ptr_array_add (argv, g_strdup (script));
  g_ptr_array_add (argv, g_strdup (model));
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    g_ptr_array_add (argv, g_strdup_printf ("%s/image_%zu.pb", dump_dir, i));
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL,
                               G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                               &wait_status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (wait_status, NULL))
    g_printerr ("%s", err);
  g_assert_true (g_spawn_check_wait_status (wait_status, NULL));
  root = parse_json (out);
  results = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (results), ==, G_N_ELEMENTS (photos));
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      JsonObject *o = json_array_get_object_element (results, i);
      JsonArray *values = json_object_get_array_member (o, "values");
      g_assert_cmpstr (json_object_get_string_member (o, "output"), ==,
                       "probabilities");
      g_assert_cmpuint (json_array_get_length (values), ==, 2);
      probs[i] = g_new (float, 2);
      for (guint k = 0; k < 2; k++)
        probs[i][k] = (float) json_array_get_double_element (values, k);
    }
  return probs;
}

static void
assert_close (float **a, float **b, double tolerance)
{
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    for (int k = 0; k < 2; k++)
      g_assert_cmpfloat_with_epsilon (a[i][k], b[i][k], tolerance);
}

static void
free_probs (float **probs)
{
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    g_free (probs[i]);
  g_free (probs);
}

/* The dumped inputs are what Graft fed: (1, 3, 128, 128), named after the
 * model's input. */
static void
check_dumps (const char *dump_dir, float lo, float hi)
{
  for (size_t i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/image_%zu.pb", dump_dir, i);
      g_autofree char *name = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GraftTensor) t = graft_onnx_tensor_load (path, &name, &error);
      float min = INFINITY, max = -INFINITY;

      g_assert_no_error (error);
      g_assert_cmpstr (name, ==, "input");
      g_assert_cmpint (t->shape.ndim, ==, 4);
      g_assert_cmpint (t->shape.dims[1], ==, 3);
      g_assert_cmpint (t->shape.dims[2], ==, 128);
      g_assert_cmpint (t->shape.dims[3], ==, 128);
      for (int64_t j = 0; j < graft_tensor_numel (t); j++)
        min = fminf (min, ((float *) t->data)[j]),
        max = fmaxf (max, ((float *) t->data)[j]);
      g_assert_cmpfloat (min, >=, lo);
      g_assert_cmpfloat (max, <=, hi);
      /* Not a blank tensor: the photos have dark and light parts. */
      g_assert_cmpfloat (max - min, >, (hi - lo) / 4);
    }
}

static void
test_onnxruntime (void)
{
  g_autofree char *dump_dir = NULL;
  float **graft, **ort;

  ensure_trained ();
  if (!have_onnxruntime ())
    return;
  dump_dir = g_build_filename (tmp_dir, "plain", "inputs", NULL);
  graft = classify_json (plain_model, dump_dir, 2, NULL);
  check_dumps (dump_dir, -1.0f, 1.0f);
  ort = onnxruntime_probs (plain_model, dump_dir);
  assert_close (graft, ort, 1e-4);
  free_probs (graft);
  free_probs (ort);
}

static void
test_bake_normalization (void)
{
  g_autofree char *plain_dump = NULL, *baked_dump = NULL;
  g_autoptr (GraftOnnxModel) model = NULL;
  g_autoptr (GraftClassifier) c = NULL;
  g_autoptr (GError) error = NULL;
  float **plain, **baked;

  ensure_trained ();
  if (baked_model == NULL)
    baked_model = train ("baked", TRUE);
  model = graft_onnx_model_load (baked_model, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (
      graft_onnx_model_get_metadata (model, "preprocess.input_range"), ==,
      "0..255");
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "preprocess.mean"), ==,
                   "0,0,0");
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "graft.labels"), ==,
                   "circles\nstripes");
  g_assert_cmpstr (model->graph.inputs[0].name, ==, "input");
  g_assert_cmpstr (model->graph.nodes[0].op_type, ==, "Sub");
  g_assert_cmpstr (model->graph.nodes[1].op_type, ==, "Div");
  c = graft_classifier_new (baked_model, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->labels[1], ==, "stripes");

  /* Same seed, same photos: the same weights, so the same probabilities up
   * to the rounding of normalizing in a different order. */
  plain_dump = g_build_filename (tmp_dir, "plain", "inputs-b", NULL);
  baked_dump = g_build_filename (tmp_dir, "baked", "inputs", NULL);
  plain = classify_json (plain_model, plain_dump, 2, NULL);
  baked = classify_json (baked_model, baked_dump, 2, NULL);
  check_dumps (baked_dump, 0.0f, 255.0f);
  assert_close (plain, baked, 1e-5);
  free_probs (plain);
  free_probs (baked);

  if (!have_onnxruntime ())
    return;
  plain = onnxruntime_probs (plain_model, plain_dump);
  baked = onnxruntime_probs (baked_model, baked_dump);
  assert_close (plain, baked, 1e-5);
  free_probs (plain);
  free_probs (baked);
}

/* Exit status 1, the path named in one line of stderr, no model written. */
static void
check_train_fails (const char *data,
                   const char *out,
                   const char *named,
                   const char *says)
{
  const char *args[] = {
    "train",    "--data", data,    "--model", "mobilenet_v1_0.25_128",
    "--epochs", "1",      "--out", out,       NULL
  };
  g_auto (CliResult) r = { 0 };
  g_auto (GStrv) lines = NULL;
  gboolean found = FALSE, existed = g_file_test (out, G_FILE_TEST_EXISTS);

  run_cli (&r, args);
  g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_cmpstr (r.out, ==, "");
  lines = g_strsplit (g_strchomp (r.err), "\n", -1);
  for (int i = 0; lines[i]; i++)
    found |= g_str_has_prefix (lines[i], "graft-cli: ") &&
             strstr (lines[i], named) != NULL &&
             strstr (lines[i], says) != NULL;
  g_assert_true (found);
  if (!existed)
    g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  /* Failing before training, not after it. */
  g_assert_null (strstr (r.err, "Training on"));
}

static void
test_errors (void)
{
  g_autofree char *err_dir = g_build_filename (tmp_dir, "errors", NULL);
  g_autofree char *out = g_build_filename (err_dir, "model.onnx", NULL);
  g_autofree char *missing = g_build_filename (err_dir, "no-such-folder", NULL);
  g_autofree char *one = g_build_filename (err_dir, "one-class", NULL);
  g_autofree char *one_class = g_build_filename (one, "circles", NULL);
  g_autofree char *no_dir_out =
      g_build_filename (err_dir, "not-there", "model.onnx", NULL);
  g_autofree char *file_dir_out =
      g_build_filename (err_dir, "a-file", "model.onnx", NULL);
  g_autofree char *a_file = g_build_filename (err_dir, "a-file", NULL);

  g_assert_cmpint (g_mkdir_with_parents (one_class, 0755), ==, 0);
  for (int i = 1; i <= 8; i++)
    {
      g_autofree char *name = g_strdup_printf ("circle-%d.jpg", i);
      g_autofree char *src = g_build_filename (dataset, "circles", name, NULL);
      g_autofree char *dst = g_build_filename (one_class, name, NULL);
      g_autofree char *bytes = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (src, &bytes, &len, NULL));
      g_assert_true (g_file_set_contents (dst, bytes, (gssize) len, NULL));
    }
  g_assert_true (g_file_set_contents (a_file, "not a folder\n", -1, NULL));

  check_train_fails (missing, out, missing, "cannot open the folder");
  check_train_fails (one, out, one, "at least two classes");
  check_train_fails (dataset, no_dir_out, no_dir_out, "cannot write");
  check_train_fails (dataset, file_dir_out, file_dir_out, "cannot write");
  check_train_fails (dataset, err_dir, err_dir, "is a folder");
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("GRAFT_CLI") == NULL)
    g_error ("set GRAFT_CLI to graft-cli (meson test does)");
  tmp_dir = g_dir_make_tmp ("graft-cli-train-XXXXXX", &error);
  g_assert_no_error (error);
  dataset = g_test_build_filename (G_TEST_DIST, "data", "app-dataset", NULL);

  g_test_add_func ("/cli-train/outputs", test_outputs);
  g_test_add_func ("/cli-train/classify", test_classify);
  g_test_add_func ("/cli-train/reimport", test_reimport);
  g_test_add_func ("/cli-train/evaluate", test_evaluate);
  g_test_add_func ("/cli-train/onnxruntime", test_onnxruntime);
  g_test_add_func ("/cli-train/bake-normalization", test_bake_normalization);
  g_test_add_func ("/cli-train/errors", test_errors);
  status = g_test_run ();

  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (dataset);
  g_free (plain_model);
  g_free (baked_model);
  return status;
}
