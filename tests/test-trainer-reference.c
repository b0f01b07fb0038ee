/* test-trainer-reference.c: the whole training path against PyTorch 1.13.
 *
 * tests/data/torch-reference/ (written by
 * tests/reference/make-training-fixture.py) holds a small MobileNet-like
 * CNN (Conv + BatchNormalization + ReLU6, a depthwise stride-2 conv, 1x1
 * convs, an inverted-residual Add, global average pooling, a Gemm head),
 * one batch, and what PyTorch computed on it with BatchNorm in training
 * mode: the loss, every parameter's gradient, and every initializer after
 * five SGD steps and, from the same start, five AdamW steps. The trainer
 * runs the same graph through graft_trainer_new_for_graph with every layer
 * trainable and must agree. */
#include "graft-error.h"
#include "graph.h"
#include "onnx-model.h"
#include "train/trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Float32 in another summation order, through nine layers and BatchNorm's
 * batch statistics: elements that are tiny next to the rest of their tensor
 * get a floor scaled to the tensor's largest element, and all a tiny
 * absolute floor for values that are zero in exact arithmetic. */
#define GRAD_REL_TOL 1e-4
#define GRAD_FLOOR 1e-5 /* x the tensor's largest magnitude */
/* After five steps the weights agree to about 3e-7 relative. The fixture's
 * weight decay moves them by only 5e-5 (AdamW) to 6e-5 (SGD) relative in
 * those steps, so the tolerance must be below that to see it applied. */
#define STEP_REL_TOL 1e-5
#define STEP_FLOOR 1e-5
#define ABS_FLOOR 1e-7

#define N_STEPS 5

static char *
fixture_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "torch-reference", name,
                                NULL);
}

static GraftTensor *
load_tensor (const char *name)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr (GError) error = NULL;
  GraftTensor *t = graft_onnx_tensor_load (path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

typedef struct
{
  GraftTensor *input; /* (4, 3, 16, 16) */
  int labels[4];
  int n;
  double loss;
} Batch;

static void
batch_load (Batch *b)
{
  g_autoptr (GraftTensor) labels = load_tensor ("labels.pb");
  g_autofree char *loss_path = fixture_path ("loss");
  g_autofree char *loss_text = NULL;

  b->input = load_tensor ("input.pb");
  g_assert_cmpint (b->input->dtype, ==, GRAFT_DTYPE_FLOAT);
  b->n = (int) b->input->shape.dims[0];
  g_assert_cmpint (graft_tensor_numel (labels), ==, b->n);
  g_assert_cmpint (b->n, <=, (int) G_N_ELEMENTS (b->labels));
  for (int i = 0; i < b->n; i++)
    b->labels[i] = (int) graft_tensor_get_int (labels, i);
  g_assert_true (g_file_get_contents (loss_path, &loss_text, NULL, NULL));
  b->loss = g_ascii_strtod (loss_text, NULL);
  g_assert_cmpfloat (b->loss, >, 0.0);
}

static void
batch_clear (Batch *b)
{
  g_clear_pointer (&b->input, graft_tensor_free);
}

static GraftTrainer *
make_trainer (GraftOptimizerKind kind, float weight_decay, float momentum)
{
  g_autofree char *path = fixture_path ("model.onnx");
  g_autoptr (GError) error = NULL;
  GraftTrainConfig config;
  GraftGraph *graph = graft_graph_load (path, &error);
  GraftTrainer *trainer;

  g_assert_no_error (error);
  graft_train_config_init (&config);
  config.label_smoothing = 0;
  config.balance_classes = FALSE;
  config.clip_norm = 0;
  config.backbone_lr_scale = 1;
  config.optimizer = kind;
  config.weight_decay = weight_decay;
  config.momentum = momentum;
  config.batch_size = 4;
  trainer = graft_trainer_new_for_graph (graph, &config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (trainer);
  graft_trainer_freeze_preset (trainer, GRAFT_FREEZE_NONE, 0);
  graft_train_config_clear (&config);
  return trainer;
}

/* Compares got with the fixture tensor file; returns the largest fraction
 * of the tolerance that a difference used. */
static double
compare_tensor (const char *what,
                const float *got,
                const GraftTensor *want,
                double rel_tol,
                double floor)
{
  const float *w = want->data;
  int64_t n = graft_tensor_numel (want);
  double scale = 0, worst = 0;

  for (int64_t i = 0; i < n; i++)
    scale = MAX (scale, fabs (w[i]));
  for (int64_t i = 0; i < n; i++)
    {
      double diff = fabs ((double) got[i] - w[i]);
      double tol = rel_tol * fabs (w[i]) + floor * scale + ABS_FLOOR;
      if (!(diff <= tol))
        g_error ("%s[%" G_GINT64_FORMAT "]: %.9g, PyTorch %.9g", what, i,
                 got[i], w[i]);
      worst = MAX (worst, diff / tol);
    }
  return worst;
}

/* Names NAME of the fixture's files PREFIX-NAME.pb. */
static GPtrArray *
fixture_names (const char *prefix)
{
  g_autofree char *dir_path = fixture_path ("");
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *f;

  g_assert_nonnull (dir);
  while ((f = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (f, prefix) && g_str_has_suffix (f, ".pb"))
      g_ptr_array_add (names, g_strndup (f + strlen (prefix),
                                         strlen (f) - strlen (prefix) - 3));
  return names;
}

static void
test_gradients (void)
{
  g_autoptr (GraftTrainer) trainer =
      make_trainer (GRAFT_OPTIMIZER_SGD, 1e-4f, 0.9f);
  GraftGraph *graph = graft_trainer_get_graph (trainer);
  g_autoptr (GPtrArray) names = fixture_names ("grad-");
  g_autoptr (GError) error = NULL;
  Batch b = { 0 };
  float loss = 0;
  double worst = 0;
  int n_grads = 0;

  batch_load (&b);
  g_assert_true (graft_trainer_compute_gradients (
      trainer, b.input->data, b.labels, b.n, &loss, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (loss, b.loss, GRAD_REL_TOL * b.loss);

  /* Every parameter PyTorch trained has a gradient here, and it agrees. */
  g_assert_cmpuint (names->len, >, 10);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *file = g_strdup_printf ("grad-%s.pb", name);
      g_autoptr (GraftTensor) want = load_tensor (file);
      int v = graft_graph_find_value (graph, name);
      const float *got;

      g_assert_cmpint (v, >=, 0);
      got = graft_trainer_get_param_grad (trainer, v);
      if (got == NULL)
        g_error ("%s: PyTorch trains it, the trainer has no gradient", name);
      g_assert_true (
          graft_shape_equal (&want->shape, &graph->values[v].constant->shape));
      worst = MAX (worst,
                   compare_tensor (name, got, want, GRAD_REL_TOL, GRAD_FLOOR));
    }
  /* ...and nothing else has one (BN running statistics are not learned). */
  for (int v = 0; v < graph->n_values; v++)
    if (graph->values[v].constant &&
        graft_trainer_get_param_grad (trainer, v) != NULL)
      n_grads++;
  g_assert_cmpint (n_grads, ==, (int) names->len);
  g_assert_cmpint (graft_trainer_count_params (trainer, TRUE), ==,
                   graft_trainer_count_params (trainer, FALSE));
  g_test_message ("loss %.9g (PyTorch %.9g); gradients used %.3g of the "
                  "tolerance",
                  loss, b.loss, worst);
  batch_clear (&b);
}

/* Five steps on the fixture's batch, then every initializer PyTorch wrote
 * (weights and BN running statistics) is compared. */
static void
check_steps (GraftOptimizerKind kind,
             float lr,
             float weight_decay,
             float momentum,
             const char *prefix)
{
  g_autoptr (GraftTrainer) trainer =
      make_trainer (kind, weight_decay, momentum);
  GraftGraph *graph = graft_trainer_get_graph (trainer);
  g_autofree char *file_prefix = g_strdup_printf ("%s-", prefix);
  g_autoptr (GPtrArray) names = fixture_names (file_prefix);
  Batch b = { 0 };
  double worst = 0, moved = 0;

  batch_load (&b);
  for (int s = 0; s < N_STEPS; s++)
    {
      g_autoptr (GError) error = NULL;
      float loss = 0;
      g_assert_true (graft_trainer_step (trainer, b.input->data, b.labels, b.n,
                                         lr, &loss, &error));
      g_assert_no_error (error);
      if (s == 0)
        g_assert_cmpfloat_with_epsilon (loss, b.loss, GRAD_REL_TOL * b.loss);
    }

  g_assert_cmpuint (names->len, >, 10);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *file = g_strdup_printf ("%s-%s.pb", prefix, name);
      g_autofree char *what = g_strdup_printf ("%s %s", prefix, name);
      g_autoptr (GraftTensor) want = load_tensor (file);
      int v = graft_graph_find_value (graph, name);
      const GraftTensor *got;

      g_assert_cmpint (v, >=, 0);
      got = graph->values[v].constant;
      g_assert_nonnull (got);
      g_assert_true (graft_shape_equal (&want->shape, &got->shape));
      worst = MAX (worst, compare_tensor (what, got->data, want, STEP_REL_TOL,
                                          STEP_FLOOR));
    }
  /* The comparison means something only if the weights moved: measure how
   * far the head's weight went from the file's start. */
  {
    g_autofree char *path = fixture_path ("model.onnx");
    g_autoptr (GraftGraph) start = graft_graph_load (path, NULL);
    int v = graft_graph_find_value (graph, "fc.weight");
    const float *a = graph->values[v].constant->data;
    const float *s = start->values[graft_graph_find_value (start, "fc.weight")]
                         .constant->data;
    for (int64_t i = 0; i < graft_tensor_numel (graph->values[v].constant); i++)
      moved = MAX (moved, fabs (a[i] - s[i]));
    g_assert_cmpfloat (moved, >, 1e-3);
  }
  g_test_message ("%s: %u initializers used %.3g of the tolerance; head "
                  "moved %.3g",
                  prefix, names->len, worst, moved);
  batch_clear (&b);
}

static void
test_sgd (void)
{
  check_steps (GRAFT_OPTIMIZER_SGD, 0.05f, 1e-4f, 0.9f, "sgd");
}

static void
test_adamw (void)
{
  check_steps (GRAFT_OPTIMIZER_ADAMW, 1e-3f, 0.01f, 0.9f, "adamw");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/trainer-reference/gradients", test_gradients);
  g_test_add_func ("/trainer-reference/sgd", test_sgd);
  g_test_add_func ("/trainer-reference/adamw", test_adamw);
  return g_test_run ();
}
