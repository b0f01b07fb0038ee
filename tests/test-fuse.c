/* test-fuse.c: a Relu or Clip fused into the BatchNormalization before it.
 *
 * Kernels: the fused forms (normalize and clamp in one pass; backward with
 * the activation's mask applied on the fly, training and inference mode,
 * assigning and accumulating) give bit for bit what the separate kernels
 * give one after the other (BN then graft_relu/clip_forward; the
 * activation's backward from its output then BN's backward), including
 * outputs exactly at the bounds, +-inf, and NaN; and they agree with the
 * composed double-precision references.
 * Plan: only an in-place Relu or constant-bound Clip whose BN output has
 * no other reader and is no graph output fuses; a fused plan's forward
 * equals the unfused one's.
 * Trainer: with fusion the loss, every weight gradient and the running
 * statistics equal those without (GRAFT_NO_FUSE) over two steps with an
 * update between, on tiny_resnet (BN -> Relu, three freezing presets) and
 * on a small graph with a frozen BN -> Clip (inference-mode fusion), a
 * trained BN -> Relu, and a BN read twice (not fused). */
#include "graft-error.h"
#include "graph.h"
#include "kernels/batchnorm.h"
#include "kernels/elementwise.h"
#include "train/trainer-private.h"
#include "train/trainer.h"

#include <math.h>
#include <string.h>

static GRand *rng;

static float *
random_floats (GRand *r, size_t n, double lo, double hi)
{
  float *x = g_new (float, MAX (n, 1));
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (r, lo, hi);
  return x;
}

static float *
nan_floats (size_t n)
{
  float *x = g_new (float, MAX (n, 1));
  for (size_t i = 0; i < n; i++)
    x[i] = NAN;
  return x;
}

/* The same bits, or both NaN. */
static void
assert_identical (const char *what,
                  const float *got,
                  const float *want,
                  size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (memcmp (&got[i], &want[i], sizeof (float)) != 0 &&
        !(isnan (got[i]) && isnan (want[i])))
      g_error ("%s: element %zu is %.9g, expected %.9g", what, i, got[i],
               want[i]);
}

/* Within tol of the largest |want|; NaN where want is NaN. */
static void
assert_close (
    const char *what, const float *got, const float *want, size_t n, double tol)
{
  double scale = 1e-30;
  for (size_t i = 0; i < n; i++)
    if (isfinite (want[i]))
      scale = MAX (scale, fabs (want[i]));
  for (size_t i = 0; i < n; i++)
    {
      gboolean ok = isnan (want[i]) ? isnan (got[i])
                    : isinf (want[i])
                        ? got[i] == want[i]
                        : fabs ((double) got[i] - want[i]) <= tol * scale;
      if (!ok)
        g_error ("%s: element %zu is %.9g, expected %.9g", what, i, got[i],
                 want[i]);
    }
}

/* ---- kernels ---- */

enum
{
  N = 3,
  C = 6,
  S = 37,
  NCS = N * C * S
};

/* Inputs whose normalized values hit the bounds exactly: channel 0 is all
 * zeros (training: xhat 0, so y = bias, set to lo or hi by the caller),
 * channel 1 holds one NaN, the rest random with a few far values. */
static void
make_input (float *x)
{
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < S; i++)
        {
          float *at = &x[((size_t) n * C + c) * S + i];
          *at = c == 0 ? 0.0f : (float) g_rand_double_range (rng, -4.0, 8.0);
          if (c == 3 && i % 7 == 0)
            *at = i % 2 ? 1e30f : -1e30f;
        }
  x[1 * S + 5] = NAN;
}

static void
composed_activation_forward (float *y, const GraftClamp *clamp, gboolean relu)
{
  if (relu)
    graft_relu_forward (y, y, NCS);
  else
    graft_clip_forward (y, y, NCS, clamp->lo, clamp->hi);
}

static void
composed_mask (float *masked,
               const float *dout,
               const float *y,
               const GraftClamp *clamp,
               gboolean relu)
{
  if (relu)
    graft_relu_backward (masked, dout, y, NCS, FALSE);
  else
    graft_clip_backward (masked, NULL, NULL, dout, y, NCS, clamp->lo, clamp->hi,
                         FALSE);
}

static void
check_kernels (const GraftClamp *clamp, gboolean relu, const char *what)
{
  g_autofree float *x = nan_floats (NCS);
  g_autofree float *scale = random_floats (rng, C, 0.5, 1.5);
  g_autofree float *bias = random_floats (rng, C, -1.0, 1.0);
  g_autofree float *mean = random_floats (rng, C, -1.0, 1.0);
  g_autofree float *var = random_floats (rng, C, 0.5, 2.0);
  g_autofree float *dout = random_floats (rng, NCS, -2.0, 2.0);
  g_autofree float *y_fused = nan_floats (NCS);
  g_autofree float *y_composed = nan_floats (NCS);
  g_autofree float *y_ref = nan_floats (NCS);
  g_autofree float *masked = nan_floats (NCS);
  g_autofree float *dx_fused = nan_floats (NCS);
  g_autofree float *dx_composed = g_new0 (float, NCS);
  g_autofree float *dx_ref = g_new0 (float, NCS);
  float bm[C], bv[C], bm2[C], bv2[C], bm3[C], bv3[C];
  float ds[3][C], db[3][C], dm[3][C], dv[3][C];
  const float eps = 1e-5f;

  make_input (x);
  /* Channel 0: y exactly lo in training mode; channel 2: exactly hi. */
  bias[0] = isfinite (clamp->lo) ? clamp->lo : 0.0f;
  for (int n = 0; n < N; n++)
    for (int i = 0; i < S; i++)
      x[((size_t) n * C + 2) * S + i] = 0.0f;
  bias[2] = isfinite (clamp->hi) ? clamp->hi : 1.0f;
  /* NaN in dout where the mask will drop it must not leak. */
  dout[4] = NAN;

  /* Forward, training mode. */
  graft_batchnorm_forward_training_clamp (y_fused, bm, bv, x, scale, bias, eps,
                                          clamp, N, C, S);
  graft_batchnorm_forward_training (y_composed, bm2, bv2, x, scale, bias, eps,
                                    N, C, S);
  composed_activation_forward (y_composed, clamp, relu);
  graft_batchnorm_forward_training_clamp_reference (y_ref, bm3, bv3, x, scale,
                                                    bias, eps, clamp, N, C, S);
  assert_identical (what, y_fused, y_composed, NCS);
  assert_identical (what, y_fused, y_ref, NCS);
  assert_identical (what, bm, bm2, C);
  assert_identical (what, bv, bv2, C);
  {
    /* The bounds were hit, and NaN passed through. */
    gboolean at_lo = FALSE, at_hi = FALSE;
    for (size_t i = 0; i < NCS; i++)
      {
        at_lo |= y_fused[i] == clamp->lo;
        at_hi |= y_fused[i] == clamp->hi || !isfinite (clamp->hi);
      }
    g_assert_true (at_lo && at_hi);
    g_assert_true (isnan (y_fused[1 * S]));
  }

  /* Backward, training mode: assign into NaN, and accumulate. */
  for (int k = 0; k < 3; k++)
    for (int c = 0; c < C; c++)
      ds[k][c] = db[k][c] = dm[k][c] = dv[k][c] = (float) c;
  graft_batchnorm_backward_training_masked (dx_fused, ds[0], db[0], dout,
                                            y_fused, x, scale, eps, clamp, N, C,
                                            S, FALSE);
  composed_mask (masked, dout, y_fused, clamp, relu);
  graft_batchnorm_backward_training_batch_assign (
      dx_composed, ds[1], db[1], masked, x, scale, eps, N, C, S);
  assert_identical (what, dx_fused, dx_composed, NCS);
  assert_identical (what, ds[0], ds[1], C);
  assert_identical (what, db[0], db[1], C);
  graft_batchnorm_backward_training_masked (dx_fused, ds[0], db[0], dout,
                                            y_fused, x, scale, eps, clamp, N, C,
                                            S, TRUE);
  graft_batchnorm_backward_training_batch (dx_composed, ds[1], db[1], masked, x,
                                           scale, eps, N, C, S);
  assert_identical (what, dx_fused, dx_composed, NCS);
  assert_identical (what, ds[0], ds[1], C);
  /* Against the double-precision reference, on the finite channels (the
   * far values of channel 3 make float sums coarse: skip it too); 1e-5
   * is the gap between float and double sums here, fused or not. */
  memset (dx_fused, 0, sizeof (float) * NCS);
  for (int c = 0; c < C; c++)
    ds[0][c] = db[0][c] = ds[2][c] = db[2][c] = 0.0f;
  graft_batchnorm_backward_training_masked (dx_fused, ds[0], db[0], dout,
                                            y_fused, x, scale, eps, clamp, N, C,
                                            S, TRUE);
  graft_batchnorm_backward_training_masked_reference (
      dx_ref, ds[2], db[2], dout, y_fused, x, scale, bm, bv, eps, clamp, N, C,
      S);
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      if (c != 1 && c != 3)
        {
          size_t at = ((size_t) n * C + c) * S;
          assert_close (what, dx_fused + at, dx_ref + at, S, 1e-5);
        }
  assert_close (what, db[0] + 4, db[2] + 4, 2, 1e-5);
  assert_close (what, ds[0] + 4, ds[2] + 4, 2, 1e-5);

  /* Inference mode, eps 0 and var 1 on channel 5 so y = x exactly: x
   * values at the bounds, +-0, +-inf. */
  var[5] = 1.0f;
  mean[5] = 0.0f;
  scale[5] = 1.0f;
  bias[5] = 0.0f;
  {
    const float special[] = { -0.0f,    0.0f,      6.0f, 5.9999995f, 6.0000005f,
                              INFINITY, -INFINITY, NAN,  1e-30f,     -1e-30f };
    for (guint i = 0; i < G_N_ELEMENTS (special); i++)
      x[5 * S + i] = special[i];
    if (isfinite (clamp->lo))
      x[5 * S + 10] = clamp->lo;
  }
  graft_batchnorm_forward_inference_clamp (y_fused, x, scale, bias, mean, var,
                                           0.0f, clamp, N, C, S);
  graft_batchnorm_forward_inference (y_composed, x, scale, bias, mean, var,
                                     0.0f, N, C, S);
  composed_activation_forward (y_composed, clamp, relu);
  graft_batchnorm_forward_inference_clamp_reference (
      y_ref, x, scale, bias, mean, var, 0.0f, clamp, N, C, S);
  assert_identical (what, y_fused, y_composed, NCS);
  assert_identical (what, y_fused, y_ref, NCS);
  composed_mask (masked, dout, y_fused, clamp, relu);
  for (int k = 0; k < 2; k++)
    for (int c = 0; c < C; c++)
      ds[k][c] = db[k][c] = dm[k][c] = dv[k][c] = (float) -c;
  for (int accumulate = 0; accumulate < 2; accumulate++)
    {
      if (!accumulate)
        for (size_t i = 0; i < NCS; i++)
          dx_fused[i] = NAN;
      else
        memcpy (dx_fused, dx_composed, sizeof (float) * NCS);
      (accumulate ? graft_batchnorm_backward_inference
                  : graft_batchnorm_backward_inference_assign) (
          dx_composed, ds[1], db[1], dm[1], dv[1], masked, x, scale, mean, var,
          0.0f, N, C, S);
      graft_batchnorm_backward_inference_masked (
          dx_fused, ds[0], db[0], dm[0], dv[0], dout, y_fused, x, scale, mean,
          var, 0.0f, clamp, N, C, S, accumulate);
      assert_identical (what, dx_fused, dx_composed, NCS);
      assert_identical (what, ds[0], ds[1], C);
      assert_identical (what, db[0], db[1], C);
      assert_identical (what, dm[0], dm[1], C);
      assert_identical (what, dv[0], dv[1], C);
    }
  /* The y = x channel: the mask of the separate activation, by hand. */
  for (int i = 0; i < 11; i++)
    {
      float yi = y_fused[5 * S + i];
      gboolean passes = relu ? yi > 0.0f : yi > clamp->lo && yi < clamp->hi;
      float want = passes ? dout[5 * S + i] : 0.0f;
      g_assert_true (masked[5 * S + i] == want);
    }
  memset (dx_fused, 0, sizeof (float) * NCS);
  memset (dx_ref, 0, sizeof (float) * NCS);
  for (int c = 0; c < C; c++)
    ds[0][c] = db[0][c] = dm[0][c] = dv[0][c] = ds[2][c] = db[2][c] = dm[2][c] =
        dv[2][c] = 0.0f;
  graft_batchnorm_backward_inference_masked (
      dx_fused, ds[0], db[0], dm[0], dv[0], dout, y_fused, x, scale, mean, var,
      0.0f, clamp, N, C, S, TRUE);
  graft_batchnorm_backward_inference_masked_reference (
      dx_ref, ds[2], db[2], dm[2], dv[2], dout, y_fused, x, scale, mean, var,
      0.0f, clamp, N, C, S);
  assert_close (what, dx_fused, dx_ref, NCS, 1e-5);
  assert_close (what, db[0], db[2], C, 1e-5);
  assert_close (what, dm[0] + 4, dm[2] + 4, 1, 1e-5);
}

static void
test_kernels_relu (void)
{
  GraftClamp relu = { 0.0f, INFINITY, TRUE };
  check_kernels (&relu, TRUE, "relu");
}

static void
test_kernels_relu6 (void)
{
  GraftClamp relu6 = { 0.0f, 6.0f, FALSE };
  check_kernels (&relu6, FALSE, "clip 0 6");
}

static void
test_kernels_clip_unbounded_above (void)
{
  /* Clip (min -1) alone: its gradient stops at +inf, Relu's does not. */
  GraftClamp clip = { -1.0f, INFINITY, FALSE };
  check_kernels (&clip, FALSE, "clip -1");
}

/* ---- hand-made graphs ---- */

#define SIDE 8
#define N_CLASSES 3

static void
add_value_info (GraftOnnxValueInfo *vi,
                const char *name,
                int ndim,
                const int64_t *dims)
{
  vi->name = g_strdup (name);
  vi->elem_type = GRAFT_DTYPE_FLOAT;
  vi->ndim = ndim;
  for (int d = 0; d < ndim; d++)
    vi->dims[d] = dims[d];
}

static GraftOnnxNode *
add_node (GraftOnnxGraph *g, const char *op, const char *out, int n_in, ...)
{
  GraftOnnxNode *node = &g->nodes[g->n_nodes++];
  va_list ap;

  node->name = g_strdup (out);
  node->op_type = g_strdup (op);
  node->domain = g_strdup ("");
  node->inputs = g_new0 (char *, n_in);
  node->n_inputs = (size_t) n_in;
  va_start (ap, n_in);
  for (int i = 0; i < n_in; i++)
    node->inputs[i] = g_strdup (va_arg (ap, const char *));
  va_end (ap);
  node->outputs = g_new0 (char *, 1);
  node->outputs[0] = g_strdup (out);
  node->n_outputs = 1;
  return node;
}

static void
add_initializer (GraftOnnxGraph *g,
                 GRand *r,
                 const char *name,
                 int ndim,
                 const int64_t *dims,
                 float lo,
                 float hi)
{
  GraftOnnxNamedTensor *t = &g->initializers[g->n_initializers++];
  GraftShape s = { .ndim = ndim };
  float *d;

  for (int i = 0; i < ndim; i++)
    s.dims[i] = dims[i];
  t->name = g_strdup (name);
  t->tensor = graft_tensor_new_float (&s);
  d = t->tensor->data;
  for (int64_t i = 0; i < graft_tensor_numel (t->tensor); i++)
    d[i] = lo == hi ? lo : (float) g_rand_double_range (r, lo, hi);
}

static void
add_bn_weights (GraftOnnxGraph *g, GRand *r, const char *prefix, int64_t c)
{
  const char *what[] = { "scale", "bias", "mean", "var" };
  const float lo[] = { 0.5f, -0.5f, -0.2f, 0.5f };
  const float hi[] = { 1.5f, 0.5f, 0.2f, 1.5f };
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s.%s", prefix, what[i]);
      add_initializer (g, r, name, 1, &c, lo[i], hi[i]);
    }
}

static GraftOnnxModel *
new_model (void)
{
  GraftOnnxModel *m = g_new0 (GraftOnnxModel, 1);
  m->ir_version = 8;
  m->producer_name = g_strdup ("test");
  m->producer_version = g_strdup ("");
  m->domain = g_strdup ("");
  m->doc_string = g_strdup ("");
  m->opsets = g_new0 (GraftOnnxOpset, 1);
  m->opsets[0].domain = g_strdup ("");
  m->opsets[0].version = 13;
  m->n_opsets = 1;
  m->graph.name = g_strdup ("fuse");
  m->graph.nodes = g_new0 (GraftOnnxNode, 16);
  m->graph.initializers = g_new0 (GraftOnnxNamedTensor, 32);
  return m;
}

#define BN(g, out, in, p)                                                      \
  add_node (g, "BatchNormalization", out, 5, in, p ".scale", p ".bias",        \
            p ".mean", p ".var")

/* x -> Conv 1x1 -> BN1 -> Clip (0, 6) -> Conv 1x1 -> BN2 -> Relu -> BN3;
 * Relu (BN3) + BN3 (BN3 read twice: not fused) -> GlobalAveragePool ->
 * Flatten -> Gemm. Same seed, same weights. */
static GraftGraph *
trainer_graph (void)
{
  GraftOnnxModel *m = new_model ();
  GraftOnnxGraph *g = &m->graph;
  g_autoptr (GRand) r = g_rand_new_with_seed (5);
  const int64_t in_dims[] = { -1, 3, SIDE, SIDE }, out_dims[] = { -1, 3 };
  const int64_t w1[] = { 4, 3, 1, 1 }, w2[] = { 4, 4, 1, 1 }, fc[] = { 3, 4 };
  const int64_t three = 3;
  g_autoptr (GError) error = NULL;
  GraftOnnxNode *gemm;
  GraftGraph *graph;

  add_initializer (g, r, "w1", 4, w1, -1.0f, 1.0f);
  add_initializer (g, r, "w2", 4, w2, -1.0f, 1.0f);
  add_bn_weights (g, r, "bn1", 4);
  add_bn_weights (g, r, "bn2", 4);
  add_bn_weights (g, r, "bn3", 4);
  add_initializer (g, r, "clip.min", 0, NULL, 0.0f, 0.0f);
  add_initializer (g, r, "clip.max", 0, NULL, 6.0f, 6.0f);
  add_initializer (g, r, "fc.weight", 2, fc, -1.0f, 1.0f);
  add_initializer (g, r, "fc.bias", 1, &three, -0.1f, 0.1f);
  add_node (g, "Conv", "conv1", 2, "x", "w1");
  BN (g, "bn1", "conv1", "bn1");
  add_node (g, "Clip", "clip", 3, "bn1", "clip.min", "clip.max");
  add_node (g, "Conv", "conv2", 2, "clip", "w2");
  BN (g, "bn2", "conv2", "bn2");
  add_node (g, "Relu", "relu2", 1, "bn2");
  BN (g, "bn3", "relu2", "bn3");
  add_node (g, "Relu", "relu3", 1, "bn3");
  add_node (g, "Add", "sum", 2, "relu3", "bn3");
  add_node (g, "GlobalAveragePool", "gap", 1, "sum");
  add_node (g, "Flatten", "flat", 1, "gap");
  gemm = add_node (g, "Gemm", "logits", 3, "flat", "fc.weight", "fc.bias");
  gemm->attrs = g_new0 (GraftOnnxAttribute, 1);
  gemm->n_attrs = 1;
  gemm->attrs[0].name = g_strdup ("transB");
  gemm->attrs[0].type = GRAFT_ATTR_INT;
  gemm->attrs[0].i = 1;
  g->inputs = g_new0 (GraftOnnxValueInfo, 1);
  add_value_info (&g->inputs[0], "x", 4, in_dims);
  g->n_inputs = 1;
  g->outputs = g_new0 (GraftOnnxValueInfo, 1);
  add_value_info (&g->outputs[0], "logits", 2, out_dims);
  g->n_outputs = 1;
  graph = graft_graph_new (m, "fuse.onnx", &error);
  g_assert_no_error (error);
  return graph;
}

static int
node_named (const GraftGraph *g, const char *name)
{
  for (int n = 0; n < g->n_nodes; n++)
    if (g_str_equal (g->nodes[n].name, name))
      return n;
  g_assert_not_reached ();
}

/* x -> BN_a -> Relu (fuses); x -> BN_b -> Clip (lo, 6) with lo a graph
 * input (not constant: no fusion); x -> BN_c -> Relu with BN_c's output a
 * graph output (no fusion); x -> BN_d -> Clip (0, 6) (fuses). Outputs:
 * the four activations and BN_c. */
static GraftGraph *
plan_graph (void)
{
  GraftOnnxModel *m = new_model ();
  GraftOnnxGraph *g = &m->graph;
  g_autoptr (GRand) r = g_rand_new_with_seed (9);
  const int64_t dims[] = { 2, 3, 5, 5 }, one[] = { 1 };
  const char *outs[] = { "ra", "cb", "rc", "cd", "bnc" };
  g_autoptr (GError) error = NULL;
  GraftGraph *graph;

  add_bn_weights (g, r, "bna", 3);
  add_bn_weights (g, r, "bnb", 3);
  add_bn_weights (g, r, "bnc", 3);
  add_bn_weights (g, r, "bnd", 3);
  add_initializer (g, r, "zero", 0, NULL, 0.0f, 0.0f);
  add_initializer (g, r, "six", 0, NULL, 6.0f, 6.0f);
  BN (g, "bna", "x", "bna");
  add_node (g, "Relu", "ra", 1, "bna");
  BN (g, "bnb", "x", "bnb");
  add_node (g, "Clip", "cb", 3, "bnb", "lo", "six");
  BN (g, "bnc", "x", "bnc");
  add_node (g, "Relu", "rc", 1, "bnc");
  BN (g, "bnd", "x", "bnd");
  add_node (g, "Clip", "cd", 3, "bnd", "zero", "six");
  g->inputs = g_new0 (GraftOnnxValueInfo, 2);
  add_value_info (&g->inputs[0], "x", 4, dims);
  add_value_info (&g->inputs[1], "lo", 1, one);
  g->n_inputs = 2;
  g->outputs = g_new0 (GraftOnnxValueInfo, G_N_ELEMENTS (outs));
  for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
    add_value_info (&g->outputs[i], outs[i], 4, dims);
  g->n_outputs = G_N_ELEMENTS (outs);
  graph = graft_graph_new (m, "plan.onnx", &error);
  g_assert_no_error (error);
  return graph;
}

static void
test_plan_conditions (void)
{
  g_autoptr (GraftGraph) graph = plan_graph ();
  g_autoptr (GError) error = NULL;
  const GraftShape shapes[] = { { 4, { 2, 3, 5, 5 } }, { 1, { 1 } } };
  g_autoptr (GraftPlan) fused = graft_plan_new (graph, shapes, NULL, &error);
  g_autoptr (GraftPlan) plain = graft_plan_new (graph, shapes, NULL, &error);
  g_autoptr (GraftPlan) not_inplace =
      graft_plan_new (graph, shapes, NULL, &error);
  GraftShape xs = shapes[0], ls = shapes[1];
  g_autoptr (GraftTensor) x = graft_tensor_new_float (&xs);
  g_autoptr (GraftTensor) lo = graft_tensor_new_float (&ls);
  const GraftTensor *inputs[2] = { x, lo };

  g_assert_no_error (error);
  /* Without in-place sharing nothing fuses. */
  g_assert_cmpint (graft_plan_fuse_activations (not_inplace, 0), ==, 0);
  graft_plan_share_inplace (fused, 0);
  graft_plan_share_inplace (plain, 0);
  g_assert_cmpint (graft_plan_fuse_activations (fused, 0), ==, 2);
  g_assert_cmpint (
      graft_plan_node_absorbed_into (fused, node_named (graph, "ra")), ==,
      node_named (graph, "bna"));
  g_assert_cmpint (
      graft_plan_node_absorbed_into (fused, node_named (graph, "cd")), ==,
      node_named (graph, "bnd"));
  g_assert_cmpint (
      graft_plan_node_absorbed_into (fused, node_named (graph, "cb")), ==, -1);
  g_assert_cmpint (
      graft_plan_node_absorbed_into (fused, node_named (graph, "rc")), ==, -1);
  g_assert_cmpint (
      graft_plan_node_grad_output (fused, node_named (graph, "bna")), ==,
      graft_graph_find_value (graph, "ra"));
  g_assert_cmpint (
      graft_plan_node_grad_output (fused, node_named (graph, "bnb")), ==,
      graft_graph_find_value (graph, "bnb"));

  /* The same outputs, values at the bounds included. */
  for (int64_t i = 0; i < graft_tensor_numel (x); i++)
    ((float *) x->data)[i] = (float) g_rand_double_range (rng, -3.0, 9.0);
  ((float *) x->data)[3] = NAN;
  *(float *) lo->data = -0.5f;
  g_assert_true (graft_plan_run (fused, inputs, &error));
  g_assert_true (graft_plan_run (plain, inputs, &error));
  g_assert_no_error (error);
  for (int i = 0; i < graph->n_outputs; i++)
    {
      const GraftTensor *a = graft_plan_get (fused, graph->outputs[i]);
      const GraftTensor *b = graft_plan_get (plain, graph->outputs[i]);
      assert_identical (graph->values[graph->outputs[i]].name, a->data, b->data,
                        (size_t) graft_tensor_numel (a));
    }
}

/* ---- the trainer with and without fusion ---- */

static void
compare_trainers (GraftTrainer *fused, GraftTrainer *plain, int batch)
{
  GraftGraph *gf = graft_trainer_get_graph (fused);
  GraftGraph *gp = graft_trainer_get_graph (plain);
  const GraftValue *in = &gf->values[gf->inputs[0]];
  size_t pixels = 3 * (size_t) in->declared_dims[2] * in->declared_dims[3];
  g_autofree float *images = random_floats (rng, pixels * batch, -3.0, 3.0);
  g_autofree int *labels = g_new (int, batch);
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (gf->n_values, ==, gp->n_values);
  for (int i = 0; i < batch; i++)
    labels[i] = i % N_CLASSES;
  for (int step = 0; step < 2; step++)
    {
      float loss_f, loss_p;
      int n_params = 0;
      g_assert_true (graft_trainer_compute_gradients (fused, images, labels,
                                                      batch, &loss_f, &error));
      g_assert_true (graft_trainer_compute_gradients (plain, images, labels,
                                                      batch, &loss_p, &error));
      g_assert_no_error (error);
      g_assert_true (isfinite (loss_f));
      assert_identical ("loss", &loss_f, &loss_p, 1);
      for (int v = 0; v < gf->n_values; v++)
        {
          const float *a = graft_trainer_get_param_grad (fused, v);
          const float *b = graft_trainer_get_param_grad (plain, v);
          g_assert_true ((a == NULL) == (b == NULL));
          if (a == NULL)
            continue;
          assert_identical (
              gf->values[v].name, a, b,
              (size_t) graft_tensor_numel (gf->values[v].constant));
          n_params++;
        }
      g_assert_cmpint (n_params, >, 0);
      g_assert_true (graft_trainer_apply_update (fused, 1e-2f, &error));
      g_assert_true (graft_trainer_apply_update (plain, 1e-2f, &error));
      g_assert_no_error (error);
      for (size_t i = 0; i < pixels * batch; i++)
        images[i] = -0.5f * images[i] + 0.25f;
    }
  /* Weights and running statistics after two updates. */
  for (int v = 0; v < gf->n_values; v++)
    if (gf->values[v].constant &&
        gf->values[v].constant->dtype == GRAFT_DTYPE_FLOAT)
      assert_identical (gf->values[v].name, gf->values[v].constant->data,
                        gp->values[v].constant->data,
                        (size_t) graft_tensor_numel (gf->values[v].constant));
  {
    PlanState *pf = graft_trainer_get_plan (fused, batch, &error);
    PlanState *pp = graft_trainer_get_plan (plain, batch, &error);
    g_assert_no_error (error);
    g_assert_cmpint (pp->n_fused, ==, 0);
    g_test_message ("fused %d; gradient memory %zu floats fused, %zu not",
                    pf->n_fused, pf->grad_floats, pp->grad_floats);
    g_assert_cmpuint (pf->grad_floats_unshared, <=, pp->grad_floats_unshared);
    if (pf->n_fused > 0)
      g_assert_cmpuint (pf->grad_floats_unshared, <, pp->grad_floats_unshared);
  }
}

static void
test_trainer_tiny_resnet (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "models",
                                                 "tiny_resnet.onnx", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftGraph) base = graft_graph_load (path, &error);
  GraftTrainConfig c;

  g_assert_no_error (error);
  graft_train_config_init (&c);
  c.seed = 3;
  for (int preset = 0; preset < 3; preset++)
    {
      g_autoptr (GraftTrainer) fused =
          graft_trainer_new (base, N_CLASSES, &c, &error);
      g_autoptr (GraftTrainer) plain =
          graft_trainer_new (base, N_CLASSES, &c, &error);
      GraftFreezePreset p = preset == 0   ? GRAFT_FREEZE_NONE
                            : preset == 1 ? GRAFT_FREEZE_LAST_BLOCKS
                                          : GRAFT_FREEZE_HEAD_ONLY;
      g_assert_no_error (error);
      fused->fuse_activations = TRUE;
      plain->fuse_activations = FALSE;
      graft_trainer_freeze_preset (fused, p, 1);
      graft_trainer_freeze_preset (plain, p, 1);
      compare_trainers (fused, plain, 4);
      if (preset == 0)
        {
          PlanState *ps = graft_trainer_get_plan (fused, 4, &error);
          g_assert_cmpint (ps->n_fused, >, 0);
        }
    }
  graft_train_config_clear (&c);
}

static void
test_trainer_small_graph (void)
{
  GraftTrainConfig c;
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftTrainer) fused = NULL;
  g_autoptr (GraftTrainer) plain = NULL;
  GraftTrainer *both[2];

  graft_train_config_init (&c);
  fused = graft_trainer_new_for_graph (trainer_graph (), &c, &error);
  g_assert_no_error (error);
  plain = graft_trainer_new_for_graph (trainer_graph (), &c, &error);
  g_assert_no_error (error);
  fused->fuse_activations = TRUE;
  plain->fuse_activations = FALSE;
  both[0] = fused;
  both[1] = plain;
  for (int i = 0; i < 2; i++)
    {
      /* conv1 trains, BN1 after it is frozen: inference-mode fusion. */
      graft_trainer_freeze_preset (both[i], GRAFT_FREEZE_NONE, 0);
      graft_trainer_set_node_trainable (
          both[i], node_named (both[i]->graph, "bn1"), FALSE);
    }
  compare_trainers (fused, plain, 5);
  {
    PlanState *ps = graft_trainer_get_plan (fused, 5, &error);
    GraftGraph *g = fused->graph;
    g_assert_cmpint (ps->n_fused, ==, 2);
    g_assert_false (
        graft_trainer_node_train_mode (fused, node_named (g, "bn1")));
    g_assert_cmpint (
        graft_plan_node_absorbed_into (ps->plan, node_named (g, "clip")), ==,
        node_named (g, "bn1"));
    g_assert_cmpint (
        graft_plan_node_absorbed_into (ps->plan, node_named (g, "relu2")), ==,
        node_named (g, "bn2"));
    g_assert_cmpint (
        graft_plan_node_absorbed_into (ps->plan, node_named (g, "relu3")), ==,
        -1);
    /* No gradient buffer between a BN and its fused activation. */
    g_assert_null (ps->grads[graft_graph_find_value (g, "bn1")]);
    g_assert_null (ps->grads[graft_graph_find_value (g, "bn2")]);
    g_assert_nonnull (ps->grads[graft_graph_find_value (g, "bn3")]);
  }
  graft_train_config_clear (&c);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (17);
  g_test_add_func ("/fuse/kernels/relu", test_kernels_relu);
  g_test_add_func ("/fuse/kernels/relu6", test_kernels_relu6);
  g_test_add_func ("/fuse/kernels/clip-unbounded-above",
                   test_kernels_clip_unbounded_above);
  g_test_add_func ("/fuse/plan/conditions", test_plan_conditions);
  g_test_add_func ("/fuse/trainer/tiny-resnet", test_trainer_tiny_resnet);
  g_test_add_func ("/fuse/trainer/small-graph", test_trainer_small_graph);
  status = g_test_run ();
  g_rand_free (rng);
  return status;
}
