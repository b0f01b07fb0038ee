/* test-grad-schedule.c: the trainer's backward pass without per-step
 * zeroing and with shared gradient memory.
 *
 * Kernels: every backward kernel with an assigning form gives, into a
 * buffer full of NaN, exactly what its accumulating form gives into zeros
 * (Conv on every one of its paths);
 * Relu and Clip give the same input gradient from their output as from
 * their input. Trainer: on tiny_resnet (residual Adds, BN -> Relu in
 * place, Conv which only accumulates) and on a small hand-made graph (BN
 * -> Clip in place, a value read by three slots of two nodes, Mul (c, c)),
 * the weight gradients equal, up to the sign of zero, those of the former
 * scheme (one zeroed buffer per value, every op accumulating), also on a
 * second step whose shared buffers start with the first step's data. */
#include "graft-error.h"
#include "graph.h"
#include "kernels/batchnorm.h"
#include "kernels/conv.h"
#include "kernels/elementwise.h"
#include "kernels/loss.h"
#include "kernels/pool.h"
#include "test-conv-cases.h"
#include "train/trainer-private.h"
#include "train/trainer.h"

#include <math.h>
#include <string.h>

static GRand *rng;

static float *
random_floats (size_t n)
{
  float *x = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rng, -3.0, 3.0);
  return x;
}

static float *
nan_floats (size_t n)
{
  float *x = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    x[i] = NAN;
  return x;
}

/* Equal as numbers: -0 == +0, NaN equal to nothing. */
static void
assert_same (const char *what, const float *got, const float *want, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (!(got[i] == want[i]))
      g_error ("%s: element %zu is %.9g, expected %.9g", what, i, got[i],
               want[i]);
}

/* ---- kernels: assign into NaN == accumulate into zero ---- */

typedef void (*UnaryBackward) (float *dinp,
                               const float *dout,
                               const float *src,
                               int64_t n,
                               gboolean accumulate);

static void
check_unary (const char *what, UnaryBackward kernel, size_t n)
{
  g_autofree float *dout = random_floats (n);
  g_autofree float *src = random_floats (n);
  g_autofree float *want = g_new0 (float, n);
  g_autofree float *got = nan_floats (n);

  src[0] = 0.0f; /* a kink */
  kernel (want, dout, src, (int64_t) n, TRUE);
  kernel (got, dout, src, (int64_t) n, FALSE);
  assert_same (what, got, want, n);
}

static void
test_kernels_elementwise (void)
{
  /* Past PARALLEL_MIN too, where the loops run on the OpenMP team. */
  const size_t sizes[] = { 37, 70001 };
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      size_t n = sizes[s];
      g_autofree float *dout = random_floats (n);
      g_autofree float *x = random_floats (n);
      g_autofree float *want = g_new0 (float, n);
      g_autofree float *got = nan_floats (n);
      float want_min = 0.0f, want_max = 0.0f, got_min = NAN, got_max = NAN;

      check_unary ("relu", graft_relu_backward, n);
      check_unary ("sigmoid", graft_sigmoid_backward, n);
      check_unary ("hardswish", graft_hard_swish_backward, n);
      check_unary ("tanh", graft_tanh_backward, n);
      check_unary ("exp", graft_exp_backward, n);

      graft_clip_backward (want, &want_min, &want_max, dout, x, (int64_t) n,
                           -1.0f, 2.0f, TRUE);
      graft_clip_backward (got, &got_min, &got_max, dout, x, (int64_t) n, -1.0f,
                           2.0f, FALSE);
      assert_same ("clip", got, want, n);
      assert_same ("clip min", &got_min, &want_min, 1);
      assert_same ("clip max", &got_max, &want_max, 1);

      memset (want, 0, sizeof (float) * n);
      graft_leaky_relu_backward (want, dout, x, (int64_t) n, 0.1f, TRUE);
      graft_leaky_relu_backward (got, dout, x, (int64_t) n, 0.1f, FALSE);
      assert_same ("leaky relu", got, want, n);

      memset (want, 0, sizeof (float) * n);
      graft_hard_sigmoid_backward (want, dout, x, (int64_t) n, 0.2f, 0.5f,
                                   TRUE);
      graft_hard_sigmoid_backward (got, dout, x, (int64_t) n, 0.2f, 0.5f,
                                   FALSE);
      assert_same ("hard sigmoid", got, want, n);
    }
}

/* An in-place Relu or Clip keeps only y: the gradient mask from y must be
 * the one from x, at the bounds and for NaN too. */
static void
test_kernels_mask_from_output (void)
{
  const float x[] = { -2.0f, -0.0f, 0.0f,      1e-30f,   0.5f,      6.0f,
                      7.0f,  NAN,   -INFINITY, INFINITY, 5.9999995f };
  enum
  {
    N = G_N_ELEMENTS (x)
  };
  float y[N], dout[N], from_x[N], from_y[N];

  for (int i = 0; i < N; i++)
    dout[i] = (float) (i + 1);
  graft_relu_forward (y, x, N);
  graft_relu_backward (from_x, dout, x, N, FALSE);
  graft_relu_backward (from_y, dout, y, N, FALSE);
  assert_same ("relu mask", from_y, from_x, N);

  graft_clip_forward (y, x, N, 0.0f, 6.0f);
  graft_clip_backward (from_x, NULL, NULL, dout, x, N, 0.0f, 6.0f, FALSE);
  graft_clip_backward (from_y, NULL, NULL, dout, y, N, 0.0f, 6.0f, FALSE);
  assert_same ("clip mask", from_y, from_x, N);
}

static void
test_kernels_binary (void)
{
  /* Same shapes, per-channel block, scalar, and a general broadcast (the
   * reference path). */
  const GraftShape pairs[][2] = {
    { { 4, { 2, 3, 4, 5 } }, { 4, { 2, 3, 4, 5 } } },
    { { 4, { 2, 3, 4, 5 } }, { 4, { 1, 3, 1, 1 } } },
    { { 4, { 1, 3, 1, 1 } }, { 4, { 2, 3, 4, 5 } } },
    { { 4, { 2, 3, 4, 5 } }, { 1, { 1 } } },
    { { 4, { 2, 1, 4, 1 } }, { 4, { 1, 3, 1, 5 } } },
  };
  for (guint p = 0; p < G_N_ELEMENTS (pairs); p++)
    for (int op = GRAFT_BINARY_ADD; op <= GRAFT_BINARY_DIV; op++)
      for (int mode = 0; mode < 3; mode++)
        {
          GraftShape out;
          size_t na = (size_t) graft_shape_numel (&pairs[p][0]);
          size_t nb = (size_t) graft_shape_numel (&pairs[p][1]);
          g_autofree float *a = random_floats (na);
          g_autofree float *b = random_floats (nb);
          g_autofree float *dout = NULL;
          g_autofree float *want_a = g_new0 (float, na);
          g_autofree float *want_b = g_new0 (float, nb);
          g_autofree float *got_a = nan_floats (na);
          g_autofree float *got_b = nan_floats (nb);
          /* mode 0: both assigned; 1: a assigned, b added to; 2: the
           * reverse. The added-to one starts at the same values. */
          gboolean acc_a = mode == 2, acc_b = mode == 1;

          for (size_t i = 0; i < nb; i++)
            b[i] += b[i] < 0 ? -0.5f : 0.5f; /* away from 0 for Div */
          g_assert_true (
              graft_broadcast_shapes (&pairs[p][0], &pairs[p][1], &out, NULL));
          dout = random_floats ((size_t) graft_shape_numel (&out));
          if (acc_a)
            for (size_t i = 0; i < na; i++)
              want_a[i] = got_a[i] = (float) i;
          if (acc_b)
            for (size_t i = 0; i < nb; i++)
              want_b[i] = got_b[i] = (float) i;
          graft_binary_backward (want_a, want_b, dout, a, b, &out, &pairs[p][0],
                                 &pairs[p][1], op, TRUE, TRUE);
          graft_binary_backward (got_a, got_b, dout, a, b, &out, &pairs[p][0],
                                 &pairs[p][1], op, acc_a, acc_b);
          assert_same ("binary da", got_a, want_a, na);
          assert_same ("binary db", got_b, want_b, nb);
        }
}

static void
test_kernels_batchnorm (void)
{
  const int N = 3, C = 4;
  const size_t S = 29, n = (size_t) N * C * S;
  g_autofree float *x = random_floats (n);
  g_autofree float *dy = random_floats (n);
  g_autofree float *scale = random_floats (C);
  g_autofree float *mean = random_floats (C);
  g_autofree float *var = random_floats (C);
  g_autofree float *want = g_new0 (float, n);
  g_autofree float *got = nan_floats (n);
  float want_s[4] = { 1, 2, 3, 4 }, got_s[4] = { 1, 2, 3, 4 };
  float want_b[4] = { 0 }, got_b[4] = { 0 };
  float want_m[4] = { 0 }, got_m[4] = { 0 }, want_v[4] = { 0 },
        got_v[4] = { 0 };

  for (int c = 0; c < C; c++)
    var[c] = fabsf (var[c]) + 0.1f;
  graft_batchnorm_backward_training_batch (want, want_s, want_b, dy, x, scale,
                                           1e-5f, N, C, S);
  graft_batchnorm_backward_training_batch_assign (got, got_s, got_b, dy, x,
                                                  scale, 1e-5f, N, C, S);
  assert_same ("bn training dx", got, want, n);
  /* The per-channel gradients still accumulate. */
  assert_same ("bn training dscale", got_s, want_s, C);
  assert_same ("bn training dbias", got_b, want_b, C);

  memset (want, 0, sizeof (float) * n);
  for (size_t i = 0; i < n; i++)
    got[i] = NAN;
  graft_batchnorm_backward_inference (want, want_s, want_b, want_m, want_v, dy,
                                      x, scale, mean, var, 1e-5f, N, C, S);
  graft_batchnorm_backward_inference_assign (
      got, got_s, got_b, got_m, got_v, dy, x, scale, mean, var, 1e-5f, N, C, S);
  assert_same ("bn inference dx", got, want, n);
  assert_same ("bn inference dscale", got_s, want_s, C);
  assert_same ("bn inference dmean", got_m, want_m, C);
  assert_same ("bn inference dvar", got_v, want_v, C);
}

static void
test_kernels_pool (void)
{
  /* Overlapping 3x3 windows, stride 2, padding: taps shared by windows. */
  GraftPoolGeometry g = { .N = 2,
                          .C = 3,
                          .H = 9,
                          .W = 7,
                          .KH = 3,
                          .KW = 3,
                          .stride_h = 2,
                          .stride_w = 2,
                          .dilation_h = 1,
                          .dilation_w = 1,
                          .pad_top = 1,
                          .pad_left = 1,
                          .pad_bottom = 1,
                          .pad_right = 1 };
  size_t nx, ny;
  g.OH = (g.H + 2 - 3) / 2 + 1;
  g.OW = (g.W + 2 - 3) / 2 + 1;
  nx = (size_t) g.N * g.C * g.H * g.W;
  ny = (size_t) g.N * g.C * g.OH * g.OW;
  g_autofree float *x = random_floats (nx);
  g_autofree float *dy = random_floats (ny);
  g_autofree float *want = g_new0 (float, nx);
  g_autofree float *got = nan_floats (nx);

  graft_maxpool2d_backward (want, dy, x, &g);
  graft_maxpool2d_backward_assign (got, dy, x, &g);
  assert_same ("maxpool", got, want, nx);

  memset (want, 0, sizeof (float) * nx);
  for (size_t i = 0; i < nx; i++)
    got[i] = NAN;
  graft_avgpool2d_backward (want, dy, &g);
  graft_avgpool2d_backward_assign (got, dy, &g);
  assert_same ("avgpool", got, want, nx);

  /* Global pools over (N * C, H * W); dy's first N * C values. */
  memset (want, 0, sizeof (float) * nx);
  for (size_t i = 0; i < nx; i++)
    got[i] = NAN;
  graft_global_avgpool_backward (want, dy, g.N, g.C, (size_t) g.H * g.W);
  graft_global_avgpool_backward_assign (got, dy, g.N, g.C, (size_t) g.H * g.W);
  assert_same ("global avgpool", got, want, nx);

  memset (want, 0, sizeof (float) * nx);
  for (size_t i = 0; i < nx; i++)
    got[i] = NAN;
  graft_global_maxpool_backward (want, dy, x, g.N, g.C, (size_t) g.H * g.W);
  graft_global_maxpool_backward_assign (got, dy, x, g.N, g.C,
                                        (size_t) g.H * g.W);
  assert_same ("global maxpool", got, want, nx);
}

/* Conv: every backward path (pointwise banded and packed, im2col banded
 * and packed, grouped, depthwise 3x3 stride 1 and 2 and generic, Winograd)
 * assigns dX into NaN exactly what it accumulates into zeros, and leaves
 * dW and dB accumulating. */
static void
check_conv (const char *what, GraftConvGeometry g)
{
  /* FALSE (no output positions) is one of the cases. */
  conv_geometry_finish (&g);
  size_t nx = (size_t) g.N * g.C * g.H * g.W;
  size_t ny = (size_t) g.N * g.OC * g.OH * g.OW;
  size_t nw = (size_t) g.OC * (g.C / g.group) * g.KH * g.KW;
  size_t n_scratch = graft_conv2d_backward_scratch_floats (&g);
  g_autofree float *x = random_floats (nx);
  g_autofree float *w = random_floats (nw);
  g_autofree float *dy = random_floats (ny);
  g_autofree float *want = g_new0 (float, nx);
  g_autofree float *got = nan_floats (nx);
  g_autofree float *dw_want = random_floats (nw);
  g_autofree float *dw_got = g_memdup2 (dw_want, sizeof (float) * nw);
  g_autofree float *db_want = random_floats (g.OC);
  g_autofree float *db_got = g_memdup2 (db_want, sizeof (float) * g.OC);
  g_autofree float *scratch = g_new (float, MAX (n_scratch, 1));

  graft_conv2d_backward (want, dw_want, db_want, dy, x, w, &g, scratch);
  graft_conv2d_backward_assign (got, dw_got, db_got, dy, x, w, &g, scratch);
  assert_same (what, got, want, nx);
  assert_same (what, dw_got, dw_want, nw);
  assert_same (what, db_got, db_want, g.OC);
}

static GraftConvGeometry
conv_geometry (
    int N, int C, int H, int W, int OC, int K, int stride, int pad, int group)
{
  return (GraftConvGeometry){ .N = N,
                              .C = C,
                              .H = H,
                              .W = W,
                              .OC = OC,
                              .KH = K,
                              .KW = K,
                              .group = group,
                              .stride_h = stride,
                              .stride_w = stride,
                              .dilation_h = 1,
                              .dilation_w = 1,
                              .pad_top = pad,
                              .pad_left = pad,
                              .pad_bottom = pad,
                              .pad_right = pad };
}

static void
test_kernels_conv (void)
{
  check_conv ("pointwise, large planes",
              conv_geometry (3, 8, 24, 20, 12, 1, 1, 0, 1));
  check_conv ("pointwise, small planes",
              conv_geometry (6, 16, 5, 5, 8, 1, 1, 0, 1));
  check_conv ("3x3 stride 2, large planes",
              conv_geometry (3, 5, 25, 23, 7, 3, 2, 1, 1));
  check_conv ("3x3 stride 2, small planes",
              conv_geometry (6, 6, 7, 7, 4, 3, 2, 1, 1));
  check_conv ("grouped", conv_geometry (4, 8, 9, 9, 12, 3, 1, 1, 2));
  check_conv ("grouped pointwise", conv_geometry (3, 8, 12, 12, 8, 1, 1, 0, 4));
  check_conv ("depthwise 3x3 stride 1",
              conv_geometry (3, 6, 11, 9, 6, 3, 1, 1, 6));
  check_conv ("depthwise 3x3 stride 2",
              conv_geometry (3, 6, 11, 9, 6, 3, 2, 1, 6));
  check_conv ("depthwise 5x5, multiplier 2",
              conv_geometry (2, 4, 10, 10, 8, 5, 1, 2, 4));
  GraftConvGeometry wino = conv_geometry (4, 32, 12, 12, 32, 3, 1, 1, 1);
  check_conv ("3x3 stride 1 (Winograd when enabled)", wino);
  GraftConvGeometry empty = conv_geometry (2, 3, 2, 2, 4, 5, 1, 0, 1);
  check_conv ("no output positions", empty);
}

/* Depthwise paths the symmetric shapes above miss: stride 1 read flat with
 * asymmetric pads and a multiplier, stride 2 by phase planes with odd
 * sizes, and by rows on a wide plane. */
static void
test_kernels_conv_depthwise (void)
{
  GraftConvGeometry flat = conv_geometry (2, 3, 14, 14, 6, 3, 1, 1, 3);
  flat.pad_top = flat.pad_left = 2;
  flat.pad_bottom = flat.pad_right = 0;
  check_conv ("depthwise 3x3 stride 1, pads 2 0, multiplier 2", flat);
  GraftConvGeometry phase = conv_geometry (1, 4, 15, 13, 8, 3, 2, 1, 4);
  phase.pad_top = 0;
  phase.pad_right = 0;
  check_conv ("depthwise 3x3 stride 2, odd sizes, multiplier 2", phase);
  check_conv ("depthwise 3x3 stride 2, wide plane",
              conv_geometry (2, 3, 7, 41, 3, 3, 2, 1, 3));
}

/* ---- the trainer against the former scheme ---- */

#define N_CLASSES 3
#define SIDE 16

/* The former backward: a zeroed buffer for every value that may want a
 * gradient, and every op accumulating, in the same node order. */
static void
backward_reference (GraftTrainer *t, PlanState *ps, const int *labels)
{
  GraftGraph *g = t->graph;
  g_autofree GraftTensor **grads = g_new0 (GraftTensor *, g->n_values);
  g_autofree gboolean *own = g_new0 (gboolean, g->n_values);

  for (int v = 0; v < g->n_values; v++)
    if (t->param_grads[v])
      {
        grads[v] = t->param_grads[v];
        memset (grads[v]->data, 0, graft_tensor_nbytes (grads[v]));
      }
    else if (g->values[v].constant == NULL &&
             g->values[v].producer >= t->first_trainable &&
             graft_plan_value_info (ps->plan, v)->dtype == GRAFT_DTYPE_FLOAT)
      {
        grads[v] = graft_tensor_new_float (
            &graft_plan_value_info (ps->plan, v)->shape);
        own[v] = TRUE;
      }
  graft_cross_entropy_backward (grads[g->outputs[0]]->data, ps->probs, labels,
                                t->class_weights, ps->batch, t->n_classes,
                                t->config.label_smoothing, 1.0f);
  for (int n = g->n_nodes - 1; n >= t->first_trainable; n--)
    graft_plan_backward_node (ps->plan, n, graft_trainer_node_train_mode (t, n),
                              grads);
  for (int v = 0; v < g->n_values; v++)
    if (own[v])
      graft_tensor_free (grads[v]);
}

/* Two steps' gradients (the second on buffers holding the first's data)
 * against the reference, weight by weight. deep: the trained part has
 * layers enough to share gradient memory, and an in-place activation. */
static void
check_against_reference (GraftTrainer *t, int batch, gboolean deep)
{
  GraftGraph *g = graft_trainer_get_graph (t);
  g_autofree float *images = NULL;
  g_autofree int *labels = g_new (int, batch);
  g_autoptr (GError) error = NULL;
  const GraftValue *in = &g->values[g->inputs[0]];
  size_t pixels = 3 * (size_t) in->declared_dims[2] * in->declared_dims[3];
  PlanState *ps;
  float loss;

  images = random_floats (pixels * batch);
  for (int i = 0; i < batch; i++)
    labels[i] = i % N_CLASSES;
  for (int step = 0; step < 2; step++)
    {
      g_autoptr (GPtrArray) saved =
          g_ptr_array_new_with_free_func ((GDestroyNotify) graft_tensor_free);
      int n_params = 0;

      graft_trainer_compute_gradients (t, images, labels, batch, &loss, &error);
      g_assert_no_error (error);
      g_assert_true (isfinite (loss));
      for (int v = 0; v < g->n_values; v++)
        g_ptr_array_add (saved, t->param_grads[v]
                                    ? graft_tensor_copy (t->param_grads[v])
                                    : NULL);
      ps = graft_trainer_get_plan (t, batch, &error);
      g_assert_nonnull (ps);
      backward_reference (t, ps, labels);
      for (int v = 0; v < g->n_values; v++)
        if (t->param_grads[v])
          {
            const GraftTensor *mine = saved->pdata[v];
            assert_same (g->values[v].name, mine->data, t->param_grads[v]->data,
                         (size_t) graft_tensor_numel (mine));
            n_params++;
          }
      g_assert_cmpint (n_params, >, 0);
      /* Different images for the second step. */
      for (size_t i = 0; i < pixels * batch; i++)
        images[i] = -0.5f * images[i] + 0.25f;
    }
  g_test_message ("gradient memory %zu floats shared, %zu unshared",
                  ps->grad_floats, ps->grad_floats_unshared);
  g_assert_cmpuint (ps->grad_floats, <=, ps->grad_floats_unshared);
  if (deep)
    {
      /* Many activation gradients, not all alive at once. */
      g_assert_cmpuint (ps->grad_floats, <, ps->grad_floats_unshared);
      /* Some activation writes over its input: their tensors coincide. */
      gboolean found = FALSE;
      for (int n = t->first_trainable; n < g->n_nodes && !found; n++)
        found = g->nodes[n].def->inplace_forward &&
                graft_plan_tensor (ps->plan, g->nodes[n].inputs[0]) ==
                    graft_plan_tensor (ps->plan, g->nodes[n].outputs[0]);
      g_assert_true (found);
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
      g_autoptr (GraftTrainer) t =
          graft_trainer_new (base, N_CLASSES, &c, &error);
      g_assert_no_error (error);
      graft_trainer_freeze_preset (t,
                                   preset == 0   ? GRAFT_FREEZE_NONE
                                   : preset == 1 ? GRAFT_FREEZE_LAST_BLOCKS
                                                 : GRAFT_FREEZE_HEAD_ONLY,
                                   1);
      check_against_reference (t, 4, preset == 0);
    }
  graft_train_config_clear (&c);
}

/* ---- a hand-made graph ---- */

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

static void
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
}

static void
add_initializer (GraftOnnxGraph *g,
                 const char *name,
                 int ndim,
                 int64_t n,
                 float lo,
                 float hi)
{
  GraftOnnxNamedTensor *t = &g->initializers[g->n_initializers++];
  GraftShape s = { .ndim = ndim, .dims = { n } };
  float *d;

  t->name = g_strdup (name);
  t->tensor = graft_tensor_new_float (&s);
  d = t->tensor->data;
  for (int64_t i = 0; i < MAX (n, 1); i++)
    d[i] = lo == hi ? lo : (float) g_rand_double_range (rng, lo, hi);
}

/* x -> BatchNormalization -> Clip (0, 6) -> c; Add (c, Mul (c, c)) -> Relu
 * -> GlobalAveragePool -> Flatten -> Gemm. c has three readers in two
 * nodes, one of them reading it twice; BN's output is Clip's alone, so
 * Clip runs in place. */
static GraftGraph *
small_graph (void)
{
  GraftOnnxModel *m = g_new0 (GraftOnnxModel, 1);
  GraftOnnxGraph *g = &m->graph;
  const int64_t in_dims[] = { -1, 3, SIDE, SIDE }, out_dims[] = { -1, 4 };
  g_autoptr (GError) error = NULL;
  GraftGraph *graph;
  GraftOnnxAttribute *trans_b;

  m->ir_version = 8;
  m->producer_name = g_strdup ("test");
  m->producer_version = g_strdup ("");
  m->domain = g_strdup ("");
  m->doc_string = g_strdup ("");
  m->opsets = g_new0 (GraftOnnxOpset, 1);
  m->opsets[0].domain = g_strdup ("");
  m->opsets[0].version = 13;
  m->n_opsets = 1;
  g->name = g_strdup ("small");
  g->nodes = g_new0 (GraftOnnxNode, 8);
  g->initializers = g_new0 (GraftOnnxNamedTensor, 8);
  add_initializer (g, "bn.scale", 1, 3, 0.5f, 1.5f);
  add_initializer (g, "bn.bias", 1, 3, 0.5f, 1.5f);
  add_initializer (g, "bn.mean", 1, 3, 0.0f, 0.0f);
  add_initializer (g, "bn.var", 1, 3, 1.0f, 1.0f);
  add_initializer (g, "clip.min", 0, 1, 0.0f, 0.0f);
  add_initializer (g, "clip.max", 0, 1, 6.0f, 6.0f);
  add_initializer (g, "fc.bias", 1, 4, -0.1f, 0.1f);
  {
    GraftOnnxNamedTensor *t = &g->initializers[g->n_initializers++];
    GraftShape s = { .ndim = 2, .dims = { 4, 3 } };
    t->name = g_strdup ("fc.weight");
    t->tensor = graft_tensor_new_float (&s);
    for (int i = 0; i < 12; i++)
      ((float *) t->tensor->data)[i] = (float) g_rand_double_range (rng, -1, 1);
  }
  add_node (g, "BatchNormalization", "bn", 5, "x", "bn.scale", "bn.bias",
            "bn.mean", "bn.var");
  add_node (g, "Clip", "c", 3, "bn", "clip.min", "clip.max");
  add_node (g, "Mul", "sq", 2, "c", "c");
  add_node (g, "Add", "sum", 2, "c", "sq");
  add_node (g, "Relu", "r", 1, "sum");
  add_node (g, "GlobalAveragePool", "gap", 1, "r");
  add_node (g, "Flatten", "flat", 1, "gap");
  add_node (g, "Gemm", "logits", 3, "flat", "fc.weight", "fc.bias");
  trans_b = g->nodes[7].attrs = g_new0 (GraftOnnxAttribute, 1);
  g->nodes[7].n_attrs = 1;
  trans_b->name = g_strdup ("transB");
  trans_b->type = GRAFT_ATTR_INT;
  trans_b->i = 1;
  g->inputs = g_new0 (GraftOnnxValueInfo, 1);
  add_value_info (&g->inputs[0], "x", 4, in_dims);
  g->n_inputs = 1;
  g->outputs = g_new0 (GraftOnnxValueInfo, 1);
  add_value_info (&g->outputs[0], "logits", 2, out_dims);
  g->n_outputs = 1;

  graph = graft_graph_new (m, "small.onnx", &error);
  g_assert_no_error (error);
  return graph;
}

static void
test_trainer_small_graph (void)
{
  GraftTrainConfig c;
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftTrainer) t = NULL;

  graft_train_config_init (&c);
  t = graft_trainer_new_for_graph (small_graph (), &c, &error);
  g_assert_no_error (error);
  graft_trainer_freeze_preset (t, GRAFT_FREEZE_NONE, 0);
  check_against_reference (t, 5, TRUE);
  graft_train_config_clear (&c);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (11);
  g_test_add_func ("/grad-schedule/kernels/elementwise",
                   test_kernels_elementwise);
  g_test_add_func ("/grad-schedule/kernels/mask-from-output",
                   test_kernels_mask_from_output);
  g_test_add_func ("/grad-schedule/kernels/binary", test_kernels_binary);
  g_test_add_func ("/grad-schedule/kernels/batchnorm", test_kernels_batchnorm);
  g_test_add_func ("/grad-schedule/kernels/pool", test_kernels_pool);
  g_test_add_func ("/grad-schedule/kernels/conv", test_kernels_conv);
  g_test_add_func ("/grad-schedule/kernels/conv-depthwise",
                   test_kernels_conv_depthwise);
  g_test_add_func ("/grad-schedule/trainer/tiny-resnet",
                   test_trainer_tiny_resnet);
  g_test_add_func ("/grad-schedule/trainer/small-graph",
                   test_trainer_small_graph);
  status = g_test_run ();
  g_rand_free (rng);
  return status;
}
