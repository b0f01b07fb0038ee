/* test-reuse.c: the feature-reuse analysis (engine/reuse.h).
 *
 * The CKA kernels: feature form against the Gram-form reference, the
 * invariances CKA must have (and the one it must not), independent
 * features, streaming in batches against all at once, undefined cases.
 * Then fine-tunes with only the last block trainable, on
 * tests/data/models/tiny_resnet.onnx with synthetic images and on the
 * bundled mobilenet_v1_0.25_128 with tests/data/app-dataset: frozen blocks
 * must come out CKA 1 (within 1e-6) and weight change exactly 0, the
 * trained block above 0; the same through an exported file and through
 * graft-cli analyze --json ($GRAFT_CLI), plain and --bake-normalization. */
#include "export.h"
#include "graft-error.h"
#include "image.h"
#include "model-catalog.h"
#include "preprocess.h"
#include "reuse.h"
#include "train/trainer.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

static float
gaussian (GRand *rng)
{
  double u = 1.0 - g_rand_double (rng), v = g_rand_double (rng);
  return (float) (sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v));
}

static float *
random_matrix (GRand *rng, int rows, int cols)
{
  float *m = g_new (float, (size_t) rows *cols);
  for (size_t i = 0; i < (size_t) rows * cols; i++)
    m[i] = gaussian (rng);
  return m;
}

/* y (n, q) = x (n, p) a (p, q), in double. */
static float *
matmul (const float *x, const float *a, int n, int p, int q)
{
  float *y = g_new (float, (size_t) n *q);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < q; j++)
      {
        double s = 0;
        for (int k = 0; k < p; k++)
          s += (double) x[(size_t) i * p + k] * a[(size_t) k * q + j];
        y[(size_t) i * q + j] = (float) s;
      }
  return y;
}

/* A random orthogonal (p, p): Gram-Schmidt on Gaussian columns, in double. */
static float *
random_orthogonal (GRand *rng, int p)
{
  g_autofree double *q = g_new (double, (size_t) p *p);
  float *out = g_new (float, (size_t) p *p);

  for (int i = 0; i < p * p; i++)
    q[i] = gaussian (rng);
  for (int c = 0; c < p; c++)
    {
      double norm = 0;
      for (int prev = 0; prev < c; prev++)
        {
          double dot = 0;
          for (int r = 0; r < p; r++)
            dot += q[r * p + c] * q[r * p + prev];
          for (int r = 0; r < p; r++)
            q[r * p + c] -= dot * q[r * p + prev];
        }
      for (int r = 0; r < p; r++)
        norm += q[r * p + c] * q[r * p + c];
      for (int r = 0; r < p; r++)
        q[r * p + c] /= sqrt (norm);
    }
  for (int i = 0; i < p * p; i++)
    out[i] = (float) q[i];
  return out;
}

/* ---- kernels ---- */

static void
test_cka_matches_reference (void)
{
  const int sizes[][3] = { { 2, 1, 1 },    { 5, 3, 4 },    { 20, 7, 13 },
                           { 37, 1, 5 },   { 64, 32, 16 }, { 100, 50, 80 },
                           { 150, 200, 3 } };
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);

  for (size_t s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int n = sizes[s][0], p = sizes[s][1], q = sizes[s][2];
      g_autofree float *x = random_matrix (rng, n, p);
      g_autofree float *noise = random_matrix (rng, n, q);
      g_autofree float *mix = random_matrix (rng, p, q);
      g_autofree float *y = matmul (x, mix, n, p, q);
      double ref, fast, streamed;
      g_autoptr (GraftCkaAccum) acc = graft_cka_accum_new (p, q);

      /* Related features: a linear image of x plus noise. */
      for (size_t i = 0; i < (size_t) n * q; i++)
        y[i] += noise[i];
      ref = graft_cka_reference (x, y, n, p, q);
      fast = graft_cka (x, y, n, p, q);
      graft_cka_accum_add (acc, x, y, n);
      streamed = graft_cka_accum_value (acc);
      g_assert_true (isfinite (ref));
      g_assert_cmpfloat (ref, >=, 0);
      g_assert_cmpfloat (ref, <=, 1 + 1e-12);
      g_assert_cmpfloat_with_epsilon (fast, ref, 1e-5);
      g_assert_cmpfloat_with_epsilon (streamed, ref, 1e-5);
      /* And not by accident: two unrelated sets give another value (with
       * 2 images every centered feature set is the same line: CKA 1). */
      if (n > 2)
        g_assert_cmpfloat (fabs (graft_cka_reference (x, noise, n, p, q) - ref),
                           >, 1e-4);
    }
}

static void
test_cka_invariances (void)
{
  const int n = 80, p = 12;
  g_autoptr (GRand) rng = g_rand_new_with_seed (2);
  g_autofree float *x = random_matrix (rng, n, p);
  g_autofree float *rot = random_orthogonal (rng, p);
  g_autofree float *xq = matmul (x, rot, n, p, p);
  g_autofree float *scaled = g_new (float, (size_t) n *p);
  g_autofree float *stretched = g_new (float, (size_t) n *p);

  for (int i = 0; i < n; i++)
    for (int c = 0; c < p; c++)
      {
        float v = x[(size_t) i * p + c];
        /* Isotropic scale and a shift per column (centering removes it). */
        scaled[(size_t) i * p + c] = 3.7f * v + (float) c;
        /* An arbitrary linear map: very unequal scales per column. */
        stretched[(size_t) i * p + c] = v * (c == 0 ? 20.0f : 0.05f);
      }
  g_assert_cmpfloat_with_epsilon (graft_cka (x, x, n, p, p), 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (graft_cka_reference (x, x, n, p, p), 1.0,
                                  1e-12);
  g_assert_cmpfloat_with_epsilon (graft_cka (x, xq, n, p, p), 1.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (graft_cka_reference (x, xq, n, p, p), 1.0,
                                  1e-6);
  g_assert_cmpfloat_with_epsilon (graft_cka (x, scaled, n, p, p), 1.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (graft_cka_reference (x, scaled, n, p, p), 1.0,
                                  1e-6);
  /* Symmetric in its arguments. */
  g_assert_cmpfloat_with_epsilon (graft_cka (x, stretched, n, p, p),
                                  graft_cka (stretched, x, n, p, p), 1e-6);
  /* Not invariant to an arbitrary invertible linear map. */
  g_assert_cmpfloat (graft_cka (x, stretched, n, p, p), <, 0.7);
  g_assert_cmpfloat_with_epsilon (graft_cka (x, stretched, n, p, p),
                                  graft_cka_reference (x, stretched, n, p, p),
                                  1e-5);
}

static void
test_cka_independent (void)
{
  const int n = 500, p = 10, q = 10;
  g_autoptr (GRand) rng = g_rand_new_with_seed (3);
  g_autofree float *x = random_matrix (rng, n, p);
  g_autofree float *y = random_matrix (rng, n, q);
  double cka = graft_cka (x, y, n, p, q);

  /* About sqrt(p q) / n = 0.02 for independent Gaussians. */
  g_assert_cmpfloat (cka, >=, 0);
  g_assert_cmpfloat (cka, <, 0.06);
  g_assert_cmpfloat_with_epsilon (cka, graft_cka_reference (x, y, n, p, q),
                                  1e-6);
}

static void
test_cka_streaming (void)
{
  const int n = 203, p = 24, q = 9;
  g_autoptr (GRand) rng = g_rand_new_with_seed (4);
  g_autofree float *x = random_matrix (rng, n, p);
  g_autofree float *mix = random_matrix (rng, p, q);
  g_autofree float *y = matmul (x, mix, n, p, q);
  const int batch_sizes[] = { 1, 7, 32, 64, 203 };
  double all_at_once;

  /* Large column means next to a small spread, as post-ReLU activations
   * have: the shift in the accumulator must keep the variance. */
  for (int i = 0; i < n; i++)
    {
      for (int c = 0; c < p; c++)
        x[(size_t) i * p + c] = 100.0f + 0.5f * x[(size_t) i * p + c];
      for (int c = 0; c < q; c++)
        y[(size_t) i * q + c] =
            0.1f * y[(size_t) i * q + c] + gaussian (rng) - 50.0f;
    }
  all_at_once = graft_cka_reference (x, y, n, p, q);
  g_assert_cmpfloat_with_epsilon (graft_cka (x, y, n, p, q), all_at_once, 1e-5);
  for (size_t b = 0; b < G_N_ELEMENTS (batch_sizes); b++)
    {
      g_autoptr (GraftCkaAccum) acc = graft_cka_accum_new (p, q);
      for (int start = 0; start < n; start += batch_sizes[b])
        {
          int count = MIN (batch_sizes[b], n - start);
          graft_cka_accum_add (acc, x + (size_t) start * p,
                               y + (size_t) start * q, count);
        }
      g_assert_cmpint (graft_cka_accum_rows (acc), ==, n);
      g_assert_cmpfloat_with_epsilon (graft_cka_accum_value (acc), all_at_once,
                                      1e-5);
    }
}

static void
test_cka_undefined (void)
{
  const float x[] = { 1, 2, 3, 4, 5, 6 }; /* (3, 2) */
  const float flat[] = { 7, 7, 7 };       /* (3, 1): no variance */
  g_autoptr (GraftCkaAccum) acc = graft_cka_accum_new (2, 1);

  g_assert_true (isnan (graft_cka (x, flat, 3, 2, 1)));
  g_assert_true (isnan (graft_cka_reference (x, flat, 3, 2, 1)));
  g_assert_true (isnan (graft_cka (x, x, 1, 2, 2)));
  g_assert_true (isnan (graft_cka_accum_value (acc)));
  graft_cka_accum_add (acc, x, flat, 3);
  g_assert_true (isnan (graft_cka_accum_value (acc)));
  g_assert_cmpint (graft_reuse_reading_for_cka (NAN), ==, GRAFT_REUSE_UNKNOWN);
  g_assert_cmpint (graft_reuse_reading_for_cka (0.95), ==, GRAFT_REUSE_KEPT);
  g_assert_cmpint (graft_reuse_reading_for_cka (0.9), ==, GRAFT_REUSE_KEPT);
  g_assert_cmpint (graft_reuse_reading_for_cka (0.7), ==, GRAFT_REUSE_ADAPTED);
  g_assert_cmpint (graft_reuse_reading_for_cka (0.2), ==, GRAFT_REUSE_REBUILT);
}

/* ---- fine-tunes ---- */

static void
train_config (GraftTrainConfig *c)
{
  graft_train_config_init (c);
  c->batch_size = 8;
  c->warmup_epochs = 0;
  c->keep_best = FALSE;
  c->seed = 5;
}

/* A few steps with only the last trunk block (and the new head) trained;
 * images (n, 3, H, W). The backbone learns at a tenth or less of lr, so
 * lr is high enough for its weights to move visibly. */
static GraftTrainer *
finetune_last_block (const GraftGraph *base,
                     const float *images,
                     const int *labels,
                     int n,
                     int n_classes)
{
  g_autoptr (GError) error = NULL;
  GraftTrainConfig c;
  GraftTrainer *t;

  train_config (&c);
  t = graft_trainer_new (base, n_classes, &c, &error);
  g_assert_no_error (error);
  graft_train_config_clear (&c);
  graft_trainer_freeze_preset (t, GRAFT_FREEZE_LAST_BLOCKS, 1);
  for (int step = 0; step < 4; step++)
    {
      float loss;
      g_assert_true (
          graft_trainer_step (t, images, labels, n, 0.5f, &loss, &error));
      g_assert_no_error (error);
    }
  return t;
}

/* Checks a finished analysis: every block but the last frozen with CKA 1
 * and no weight change; the last changed. */
static void
assert_last_block_changed (GraftReuseAnalysis *a,
                           int expected_blocks,
                           double tolerance,
                           gboolean expect_must_match)
{
  int n_blocks;
  const GraftReuseBlock *blocks = graft_reuse_analysis_blocks (a, &n_blocks);

  g_assert_cmpint (n_blocks, ==, expected_blocks);
  g_assert_cmpint (graft_reuse_analysis_n_unmatched (a), ==, 0);
  for (int b = 0; b < n_blocks - 1; b++)
    {
      g_assert_true (blocks[b].unchanged);
      g_assert_cmpfloat (blocks[b].weight_change, ==, 0);
      g_assert_cmpint (blocks[b].must_match, ==, expect_must_match);
      g_assert_cmpfloat_with_epsilon (blocks[b].cka, 1.0, tolerance);
      g_assert_cmpint (blocks[b].reading, ==, GRAFT_REUSE_KEPT);
      g_assert_cmpint (blocks[b].features, >, 0);
      for (int l = 0; l < blocks[b].n_layers; l++)
        g_assert_cmpfloat (blocks[b].layers[l].weight_change, ==, 0);
    }
  g_assert_false (blocks[n_blocks - 1].unchanged);
  g_assert_false (blocks[n_blocks - 1].must_match);
  g_assert_cmpfloat (blocks[n_blocks - 1].weight_change, >, 0);
  g_assert_true (isfinite (blocks[n_blocks - 1].weight_change));
  g_assert_cmpfloat (blocks[n_blocks - 1].cka, <, 1.0 - 1e-6);
  g_assert_cmpfloat (blocks[n_blocks - 1].cka, >, 0);
  g_assert_cmpint (blocks[n_blocks - 1].n_layers, >, 0);
}

static char *tmp_dir;

static void
test_reuse_tiny_resnet (void)
{
  enum
  {
    N = 24,
    SIDE = 32
  };
  const size_t pixels = 3 * SIDE * SIDE;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "models",
                                                 "tiny_resnet.onnx", NULL);
  g_autofree char *exported = g_build_filename (tmp_dir, "tiny.onnx", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftGraph) base = graft_graph_load (path, &error);
  g_autoptr (GraftGraph) reloaded = NULL;
  g_autoptr (GraftTrainer) t = NULL;
  g_autoptr (GraftReuseAnalysis) a = NULL, same = NULL;
  g_autoptr (GRand) rng = g_rand_new_with_seed (6);
  g_autofree float *images = random_matrix (rng, N, (int) pixels);
  int labels[N], n_blocks, width, height;
  const char *classes[] = { "a", "b", "c", NULL }; /* joined with g_strjoinv */
  const GraftReuseBlock *blocks;
  GraftPreprocess pp;

  g_assert_no_error (error);
  for (int i = 0; i < N; i++)
    {
      labels[i] = i % 3;
      for (size_t k = 0; k < pixels / 3; k++)
        images[i * pixels + labels[i] * pixels / 3 + k] += 1.0f;
    }
  t = finetune_last_block (base, images, labels, N, 3);

  /* The trainer's graph, fed in batches of 5 (a short last batch). */
  a = graft_reuse_analysis_new (base, graft_trainer_get_graph (t), 5, &error);
  g_assert_no_error (error);
  graft_reuse_analysis_input_size (a, &width, &height);
  g_assert_cmpint (width, ==, SIDE);
  g_assert_cmpint (height, ==, SIDE);
  g_assert_true (graft_reuse_analysis_add (a, images, NULL, N, &error));
  g_assert_no_error (error);
  g_assert_cmpint (graft_reuse_analysis_n_images (a), ==, N);
  /* conv1, layer1.0 frozen; layer2.0 trained (the head is not compared). */
  assert_last_block_changed (a, 3, 1e-6, TRUE);
  blocks = graft_reuse_analysis_blocks (a, &n_blocks);
  g_assert_cmpstr (blocks[2].name, ==, "layer2/layer2.0");
  g_assert_cmpint (blocks[2].kind, ==, GRAFT_BLOCK_RESIDUAL);
  g_assert_cmpint (blocks[2].features, ==, 16);

  /* The exported file gives the same, by names alone. */
  g_assert_true (graft_preprocess_from_model (&pp, base->model, &error));
  g_assert_true (graft_export_classifier (graft_trainer_get_graph (t), classes,
                                          3, &pp, FALSE, exported, &error));
  g_assert_no_error (error);
  reloaded = graft_graph_load (exported, &error);
  g_assert_no_error (error);
  g_clear_pointer (&a, graft_reuse_analysis_free);
  a = graft_reuse_analysis_new (base, reloaded, 0, &error);
  g_assert_no_error (error);
  g_assert_true (graft_reuse_analysis_add (a, images, NULL, N, &error));
  assert_last_block_changed (a, 3, 1e-6, TRUE);

  /* A model against itself: every block kept, weight change 0. */
  same = graft_reuse_analysis_new (base, base, 0, &error);
  g_assert_no_error (error);
  g_assert_true (graft_reuse_analysis_add (same, images, NULL, 10, &error));
  blocks = graft_reuse_analysis_blocks (same, &n_blocks);
  g_assert_cmpint (n_blocks, ==, 3);
  for (int b = 0; b < n_blocks; b++)
    {
      g_assert_cmpfloat_with_epsilon (blocks[b].cka, 1.0, 1e-6);
      g_assert_cmpfloat (blocks[b].weight_change, ==, 0);
    }
}

static void
test_reuse_different_models (void)
{
  g_autofree char *tiny = g_test_build_filename (G_TEST_DIST, "data", "models",
                                                 "tiny_resnet.onnx", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *mnet =
      graft_catalog_resolve ("mobilenet_v1_0.25_128", &error);
  g_autoptr (GraftGraph) a = graft_graph_load (tiny, &error);
  g_autoptr (GraftGraph) b = graft_graph_load (mnet, &error);
  g_autoptr (GraftReuseAnalysis) analysis = NULL;

  g_assert_no_error (error);
  analysis = graft_reuse_analysis_new (a, b, 0, &error);
  g_assert_null (analysis);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "tiny_resnet.onnx"));
}

/* ---- the bundled model on photos, and graft-cli analyze ---- */

static const char *const photo_names[] = {
  "circles/circle-1.jpg",  "circles/circle-2.jpg",  "circles/circle-3.jpg",
  "circles/circle-4.jpg",  "circles/circle-5.jpg",  "stripes/stripes-1.jpg",
  "stripes/stripes-2.jpg", "stripes/stripes-3.jpg", "stripes/stripes-4.jpg",
  "stripes/stripes-5.jpg",
};

static char *mnet_path, *plain_model, *baked_model;

/* mobilenet_v1_0.25_128 with its last block trained a few steps on the
 * app-dataset photos, exported plain and with --bake-normalization. */
static void
ensure_mobilenet_finetuned (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftGraph) base = NULL;
  g_autoptr (GraftTrainer) t = NULL;
  g_autofree float *images = NULL;
  int labels[G_N_ELEMENTS (photo_names)];
  const char *classes[] = { "circles", "stripes", NULL };
  GraftPreprocess pp;
  size_t pixels;

  if (plain_model)
    return;
  mnet_path = graft_catalog_resolve ("mobilenet_v1_0.25_128", &error);
  g_assert_no_error (error);
  base = graft_graph_load (mnet_path, &error);
  g_assert_no_error (error);
  g_assert_true (graft_preprocess_from_model (&pp, base->model, &error));
  pixels = (size_t) 3 * pp.width * pp.height;
  images = g_new (float, G_N_ELEMENTS (photo_names) * pixels);
  for (size_t i = 0; i < G_N_ELEMENTS (photo_names); i++)
    {
      g_autofree char *path = g_test_build_filename (
          G_TEST_DIST, "data", "app-dataset", photo_names[i], NULL);
      g_autoptr (GraftImage) img =
          graft_image_load (path, graft_preprocess_min_side (&pp), &error);
      g_assert_no_error (error);
      graft_preprocess_image (images + i * pixels, img, &pp);
      labels[i] = g_str_has_prefix (photo_names[i], "stripes");
    }
  t = finetune_last_block (base, images, labels, G_N_ELEMENTS (photo_names), 2);
  plain_model = g_build_filename (tmp_dir, "plain.onnx", NULL);
  baked_model = g_build_filename (tmp_dir, "baked.onnx", NULL);
  g_assert_true (graft_export_classifier (graft_trainer_get_graph (t), classes,
                                          2, &pp, FALSE, plain_model, &error));
  g_assert_true (graft_export_classifier (graft_trainer_get_graph (t), classes,
                                          2, &pp, TRUE, baked_model, &error));
  g_assert_no_error (error);
}

static void
test_reuse_files (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftGraph) base = NULL, tuned = NULL;
  g_autoptr (GraftReuseAnalysis) a = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) skipped = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *broken = g_build_filename (tmp_dir, "broken.jpg", NULL);

  ensure_mobilenet_finetuned ();
  base = graft_graph_load (mnet_path, &error);
  tuned = graft_graph_load (plain_model, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (broken, "not a photo", -1, &error));
  /* Photos the fine-tune never saw, then one that cannot be read. */
  for (int i = 6; i <= 8; i++)
    {
      g_autofree char *c = g_strdup_printf ("circle-%d.jpg", i);
      g_autofree char *s = g_strdup_printf ("stripes-%d.jpg", i);
      g_ptr_array_add (paths, g_test_build_filename (G_TEST_DIST, "data",
                                                     "app-dataset", "circles",
                                                     c, NULL));
      g_ptr_array_add (paths, g_test_build_filename (G_TEST_DIST, "data",
                                                     "app-dataset", "stripes",
                                                     s, NULL));
    }
  g_ptr_array_insert (paths, 2, g_strdup (broken));
  a = graft_reuse_analysis_new (base, tuned, 4, &error);
  g_assert_no_error (error);
  g_assert_true (
      graft_reuse_analysis_add_files (a, (const char *const *) paths->pdata,
                                      (int) paths->len, skipped, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (graft_reuse_analysis_n_images (a), ==, 6);
  g_assert_cmpuint (skipped->len, ==, 1);
  g_assert_nonnull (strstr (skipped->pdata[0], "broken.jpg"));
  /* Conv2d_0 .. Conv2d_13: 14 trunk blocks. */
  assert_last_block_changed (a, 14, 1e-6, TRUE);
}

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

/* graft-cli analyze --json on a model; checks the README's fields. */
static void
check_cli_json (const char *model, double tolerance)
{
  g_autofree char *dataset =
      g_test_build_filename (G_TEST_DIST, "data", "app-dataset", NULL);
  const char *args[] = { "analyze",      "--json", "--all-photos",
                         "--max-images", "12",     "mobilenet_v1_0.25_128",
                         model,          dataset,  NULL };
  g_auto (CliResult) r = { 0 };
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  JsonArray *blocks;
  guint n;

  run_cli (&r, args);
  if (r.status != 0)
    g_printerr ("%s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  json_parser_load_from_data (parser, r.out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "finetuned"), ==,
                   model);
  g_assert_cmpint (json_object_get_int_member (root, "images"), ==, 12);
  g_assert_cmpuint (
      json_array_get_length (json_object_get_array_member (root, "skipped")),
      ==, 0);
  g_assert_cmpint (json_object_get_int_member (root, "unmatched_blocks"), ==,
                   0);
  g_assert_cmpstr (json_object_get_string_member (root, "pooling"), ==,
                   "spatial-mean");
  g_assert_cmpfloat (
      json_object_get_double_member (
          json_object_get_object_member (root, "thresholds"), "kept"),
      ==, 0.9);
  g_assert_cmpfloat (json_object_get_double_member (root, "seconds"), >=, 0);
  blocks = json_object_get_array_member (root, "blocks");
  n = json_array_get_length (blocks);
  g_assert_cmpuint (n, ==, 14);
  for (guint i = 0; i < n; i++)
    {
      JsonObject *b = json_array_get_object_element (blocks, i);
      gboolean last = i == n - 1;
      double cka = json_object_get_double_member (b, "cka");
      double change = json_object_get_double_member (b, "weight_change");
      JsonArray *layers = json_object_get_array_member (b, "layers");

      g_assert_true (
          g_str_has_prefix (json_object_get_string_member (b, "name"),
                            "MobilenetV1/MobilenetV1/Conv2d_"));
      g_assert_nonnull (json_object_get_string_member (b, "kind"));
      g_assert_nonnull (json_object_get_string_member (b, "activation"));
      g_assert_cmpint (json_object_get_int_member (b, "features"), >, 0);
      g_assert_cmpint (json_object_get_int_member (b, "params"), >, 0);
      g_assert_cmpuint (json_array_get_length (layers), >, 0);
      g_assert_cmpint (json_object_get_boolean_member (b, "frozen"), ==, !last);
      if (!last)
        {
          g_assert_cmpfloat_with_epsilon (cka, 1.0, tolerance);
          g_assert_cmpfloat (change, ==, 0);
          g_assert_cmpstr (json_object_get_string_member (b, "reading"), ==,
                           "kept");
          g_assert_cmpstr (json_object_get_string_member (b, "reading_text"),
                           ==, "kept: features reused");
        }
      else
        {
          g_assert_cmpfloat (cka, <, 1.0 - 1e-6);
          g_assert_cmpfloat (change, >, 0);
        }
    }
}

static void
test_cli_analyze (void)
{
  g_autofree char *dataset =
      g_test_build_filename (G_TEST_DIST, "data", "app-dataset", NULL);
  g_autofree char *tiny = g_test_build_filename (G_TEST_DIST, "data", "models",
                                                 "tiny_resnet.onnx", NULL);

  ensure_mobilenet_finetuned ();
  check_cli_json (plain_model, 1e-6);
  /* A model that normalizes inside is fed 0..255 pixels: the frozen
   * blocks see the same photo through another rounding. */
  check_cli_json (baked_model, 1e-4);

  /* The table, and errors. */
  {
    const char *args[] = { "analyze", "mobilenet_v1_0.25_128", plain_model,
                           dataset, NULL };
    g_auto (CliResult) r = { 0 };
    run_cli (&r, args);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "MobilenetV1/MobilenetV1/Conv2d_13"));
    g_assert_nonnull (strstr (r.out, "0 (frozen)"));
    g_assert_nonnull (strstr (r.out, "kept: features reused"));
  }
  {
    const char *args[] = { "analyze", "mobilenet_v1_0.25_128", tiny, dataset,
                           NULL };
    g_auto (CliResult) r = { 0 };
    run_cli (&r, args);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "tiny_resnet.onnx"));
  }
  {
    const char *args[] = { "analyze", "mobilenet_v1_0.25_128", plain_model,
                           NULL };
    g_auto (CliResult) r = { 0 };
    run_cli (&r, args);
    g_assert_cmpint (r.status, ==, 2);
  }
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
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
  tmp_dir = g_dir_make_tmp ("graft-test-reuse-XXXXXX", &error);
  g_assert_no_error (error);
  g_test_add_func ("/reuse/cka/reference", test_cka_matches_reference);
  g_test_add_func ("/reuse/cka/invariances", test_cka_invariances);
  g_test_add_func ("/reuse/cka/independent", test_cka_independent);
  g_test_add_func ("/reuse/cka/streaming", test_cka_streaming);
  g_test_add_func ("/reuse/cka/undefined", test_cka_undefined);
  g_test_add_func ("/reuse/analysis/tiny-resnet", test_reuse_tiny_resnet);
  g_test_add_func ("/reuse/analysis/different-models",
                   test_reuse_different_models);
  g_test_add_func ("/reuse/analysis/files", test_reuse_files);
  if (g_getenv ("GRAFT_CLI"))
    g_test_add_func ("/reuse/cli/analyze", test_cli_analyze);
  status = g_test_run ();
  remove_tree (tmp_dir);
  g_free (tmp_dir);
  g_free (mnet_path);
  g_free (plain_model);
  g_free (baked_model);
  return status;
}
