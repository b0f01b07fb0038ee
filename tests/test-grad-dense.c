/* test-grad-dense.c: backward passes of the dense ops against central
 * finite differences of their forward, the backward kernels against their
 * reference loops, Dropout's training mode, and the cross-entropy loss
 * against PyTorch.
 *
 * Every gradient check starts din at random values, so it also checks that
 * backward adds (din += ...) rather than overwrites. */
#include "data/loss/cross-entropy-reference.h"
#include "graft-error.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/loss.h"
#include "kernels/softmax.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>

/* ---- helpers ---- */

static GRand *rng;

static GraftShape
shape_of (int ndim, ...)
{
  GraftShape s = { .ndim = ndim };
  va_list ap;
  va_start (ap, ndim);
  for (int i = 0; i < ndim; i++)
    s.dims[i] = va_arg (ap, int);
  va_end (ap);
  return s;
}

/* Uniform in [lo, hi], but at least 0.05 from every kink, so a finite
 * difference of step 0.01 never straddles one. */
static float
random_away (float lo, float hi, const float *kinks, int n_kinks)
{
  for (;;)
    {
      float x = (float) g_rand_double_range (rng, lo, hi);
      gboolean ok = TRUE;
      for (int k = 0; k < n_kinks; k++)
        ok = ok && fabsf (x - kinks[k]) >= 0.05f;
      if (ok)
        return x;
    }
}

static GraftTensor *
tensor_random_away (
    GraftShape s, float lo, float hi, const float *kinks, int n_kinks)
{
  GraftTensor *t = graft_tensor_new_float (&s);
  float *d = t->data;
  for (int64_t i = 0; i < graft_tensor_numel (t); i++)
    d[i] = random_away (lo, hi, kinks, n_kinks);
  return t;
}

static GraftTensor *
tensor_random (GraftShape s)
{
  return tensor_random_away (s, -2.0f, 2.0f, NULL, 0);
}

/* Magnitudes in [0.5, 2] with either sign: a safe divisor. */
static GraftTensor *
tensor_divisor (GraftShape s)
{
  GraftTensor *t = graft_tensor_new_float (&s);
  float *d = t->data;
  for (int64_t i = 0; i < graft_tensor_numel (t); i++)
    d[i] = (float) g_rand_double_range (rng, 0.5, 2.0) *
           (g_rand_boolean (rng) ? 1.0f : -1.0f);
  return t;
}

static GraftTensor *
tensor_scalar (float v)
{
  GraftShape s = { .ndim = 0 };
  GraftTensor *t = graft_tensor_new_float (&s);
  *(float *) t->data = v;
  return t;
}

static GraftTensor *
tensor_i64 (int n, const int64_t *values)
{
  GraftShape s = { .ndim = 1, .dims = { n } };
  GraftTensor *t = graft_tensor_new (GRAFT_DTYPE_INT64, &s, NULL);
  memcpy (t->data, values, sizeof (int64_t) * (size_t) n);
  return t;
}

static GraftOnnxAttribute
attr_int (const char *name, int64_t v)
{
  return (GraftOnnxAttribute){ .name = (char *) name,
                               .type = GRAFT_ATTR_INT,
                               .i = v };
}

static GraftOnnxAttribute
attr_float (const char *name, float v)
{
  return (GraftOnnxAttribute){ .name = (char *) name,
                               .type = GRAFT_ATTR_FLOAT,
                               .f = v };
}

static GraftOnnxAttribute
attr_ints (const char *name, size_t n, int64_t *v)
{
  return (GraftOnnxAttribute){
    .name = (char *) name, .type = GRAFT_ATTR_INTS, .ints = v, .n_ints = n
  };
}

/* |got - want| within rel of the larger of |want| and the tensor's scale. */
static void
assert_close_scaled (const char *what,
                     const float *got,
                     const double *want,
                     int64_t n,
                     double rel)
{
  double scale = 0.0;
  for (int64_t i = 0; i < n; i++)
    scale = MAX (scale, fabs (want[i]));
  for (int64_t i = 0; i < n; i++)
    if (!(fabs (got[i] - want[i]) <= rel * MAX (fabs (want[i]), scale)))
      g_error ("%s: element %" G_GINT64_FORMAT ": got %.9g, want %.9g", what, i,
               (double) got[i], want[i]);
}

static void
assert_close_floats (const char *what,
                     const float *got,
                     const float *want,
                     int64_t n,
                     double rel)
{
  double *w = g_new (double, n);
  for (int64_t i = 0; i < n; i++)
    w[i] = want[i];
  assert_close_scaled (what, got, w, n, rel);
  g_free (w);
}

/* ---- one op on hand-built tensors, run as the trainer would ---- */

typedef struct
{
  GraftNode node;
  GraftTensor *in[8]; /* owned */
  GraftTensor *out[4];
  GraftWorkspace ws;
  gboolean train;
} Harness;

/* Prepares and infers the op on inputs (taken over; NULL for omitted
 * ones); inputs whose bit is set in constant_mask are shown to infer() as
 * constants. */
static void
harness_init (Harness *h,
              const char *op_type,
              int64_t opset,
              GraftOnnxAttribute *attrs,
              size_t n_attrs,
              int n_inputs,
              GraftTensor **inputs,
              unsigned constant_mask,
              int n_outputs)
{
  GraftOnnxNode proto = { .name = (char *) "node",
                          .op_type = (char *) op_type,
                          .domain = (char *) "",
                          .attrs = attrs,
                          .n_attrs = n_attrs };
  GraftValueInfo in_info[8], out_info[4];
  const GraftValueInfo *in[8];
  GraftValueInfo *out[4];
  g_autoptr (GError) error = NULL;

  memset (h, 0, sizeof *h);
  h->node.name = (char *) "node";
  h->node.op_type = (char *) op_type;
  h->node.def = graft_op_lookup (op_type);
  h->node.n_inputs = n_inputs;
  h->node.n_outputs = n_outputs;
  h->node.id = 7;
  h->ws.seed = 1234;
  h->ws.step = 5;
  g_assert_nonnull (h->node.def);
  g_assert_nonnull (h->node.def->backward);
  if (h->node.def->prepare &&
      !h->node.def->prepare (&h->node, &proto, opset, &error))
    g_error ("%s prepare: %s", op_type, error->message);
  for (int i = 0; i < n_inputs; i++)
    {
      h->in[i] = inputs[i];
      in[i] = NULL;
      if (inputs[i] == NULL)
        continue;
      in_info[i] = (GraftValueInfo){ .dtype = inputs[i]->dtype,
                                     .shape = inputs[i]->shape };
      if (constant_mask & (1u << i))
        in_info[i].constant = inputs[i];
      in[i] = &in_info[i];
    }
  for (int i = 0; i < n_outputs; i++)
    {
      out_info[i] = (GraftValueInfo){ 0 };
      out[i] = &out_info[i];
    }
  if (!h->node.def->infer (&h->node, in, out, &error))
    g_error ("%s infer: %s", op_type, error->message);
  for (int i = 0; i < n_outputs; i++)
    h->out[i] = graft_tensor_new (out_info[i].dtype, &out_info[i].shape, NULL);
}

static void
harness_forward (Harness *h)
{
  const GraftOpDef *def = h->node.def;
  for (int i = 0; i < h->node.n_outputs; i++)
    memset (h->out[i]->data, 0, graft_tensor_nbytes (h->out[i]));
  if (h->train && def->forward_train)
    def->forward_train (&h->node, h->in, h->out, &h->ws);
  else
    def->forward (&h->node, (const GraftTensor *const *) h->in, h->out, &h->ws);
}

static void
harness_backward (Harness *h, const GraftTensor *dout, GraftTensor *const *din)
{
  const GraftTensor *douts[4] = { dout, NULL, NULL, NULL };
  h->node.def->backward (&h->node, h->train, (const GraftTensor *const *) h->in,
                         (const GraftTensor *const *) h->out, douts, din,
                         &h->ws);
}

static void
harness_clear (Harness *h)
{
  for (int i = 0; i < h->node.n_inputs; i++)
    g_clear_pointer (&h->in[i], graft_tensor_free);
  for (int i = 0; i < h->node.n_outputs; i++)
    g_clear_pointer (&h->out[i], graft_tensor_free);
  graft_workspace_clear (&h->ws);
  g_clear_pointer (&h->node.params, g_free);
}

/* sum_j r_j out_j in double: outputs a perturbation does not reach are
 * bit-identical between the two evaluations and cancel exactly. */
static double
harness_objective (Harness *h, const GraftTensor *r)
{
  const float *y = h->out[0]->data, *w = r->data;
  double sum = 0.0;
  harness_forward (h);
  for (int64_t i = 0; i < graft_tensor_numel (r); i++)
    sum += (double) w[i] * y[i];
  return sum;
}

#define FD_STEP 1e-2

/* Checks the backward of the op for the inputs in the wrt bit mask against
 * central differences of L = sum_j r_j out_j with random r = dL/dout. The
 * din of the other inputs is NULL, as for frozen weights. */
static void
check_gradients (Harness *h, unsigned wrt, const char *what)
{
  GraftTensor *din[8] = { NULL };
  GraftTensor *din_before[8] = { NULL };
  g_autoptr (GraftTensor) r = NULL;

  harness_forward (h);
  r = tensor_random (h->out[0]->shape);
  for (int k = 0; k < h->node.n_inputs; k++)
    if (wrt & (1u << k))
      {
        din[k] = tensor_random (h->in[k]->shape);
        din_before[k] = graft_tensor_copy (din[k]);
      }
  harness_backward (h, r, din);

  for (int k = 0; k < h->node.n_inputs; k++)
    {
      int64_t n;
      double *numeric, *analytic, scale = 0.0;
      float *x;

      if (din[k] == NULL)
        continue;
      n = graft_tensor_numel (h->in[k]);
      x = h->in[k]->data;
      numeric = g_new (double, n);
      analytic = g_new (double, n);
      for (int64_t j = 0; j < n; j++)
        {
          float saved = x[j], xp, xm;
          double lp, lm;
          analytic[j] = (double) ((float *) din[k]->data)[j] -
                        ((float *) din_before[k]->data)[j];
          xp = x[j] = (float) (saved + FD_STEP);
          lp = harness_objective (h, r);
          xm = x[j] = (float) (saved - FD_STEP);
          lm = harness_objective (h, r);
          x[j] = saved;
          numeric[j] = (lp - lm) / ((double) xp - xm);
          scale = MAX (scale, fabs (numeric[j]));
        }
      for (int64_t j = 0; j < n; j++)
        if (!(fabs (analytic[j] - numeric[j]) <=
              1e-2 * fabs (numeric[j]) + 1e-3 * scale + 1e-5))
          g_error ("%s: d input %d [%" G_GINT64_FORMAT
                   "]: backward %.7g, finite difference %.7g",
                   what, k, j, analytic[j], numeric[j]);
      g_free (numeric);
      g_free (analytic);
      graft_tensor_free (din[k]);
      graft_tensor_free (din_before[k]);
    }
  harness_forward (h);
}

/* Builds, checks and frees in one call. */
static void
grad_case (const char *what,
           const char *op_type,
           int64_t opset,
           GraftOnnxAttribute *attrs,
           size_t n_attrs,
           int n_inputs,
           GraftTensor **inputs,
           unsigned constant_mask,
           unsigned wrt)
{
  Harness h;
  harness_init (&h, op_type, opset, attrs, n_attrs, n_inputs, inputs,
                constant_mask, 1);
  check_gradients (&h, wrt, what);
  harness_clear (&h);
}

/* ---- activations ---- */

static void
test_activations (void)
{
  GraftShape s = shape_of (3, 2, 3, 5);
  const float zero[] = { 0.0f };
  const float clip_kinks[] = { -1.0f, 1.5f };
  const float hsig_kinks[] = { -2.5f, 2.5f };
  const float hswish_kinks[] = { -3.0f, 3.0f };
  GraftOnnxAttribute clip_attrs[] = { attr_float ("min", -1.0f),
                                      attr_float ("max", 1.5f) };
  GraftOnnxAttribute leaky_attrs[] = { attr_float ("alpha", 0.1f) };
  GraftOnnxAttribute hsig_attrs[] = { attr_float ("alpha", 0.2f),
                                      attr_float ("beta", 0.5f) };
  GraftTensor *in[3];

  in[0] = tensor_random_away (s, -2.0f, 2.0f, zero, 1);
  grad_case ("Relu", "Relu", 13, NULL, 0, 1, in, 0, 1);
  in[0] = tensor_random (s);
  grad_case ("Sigmoid", "Sigmoid", 13, NULL, 0, 1, in, 0, 1);
  in[0] = tensor_random (s);
  grad_case ("Tanh", "Tanh", 13, NULL, 0, 1, in, 0, 1);
  in[0] = tensor_random (s);
  grad_case ("Exp", "Exp", 13, NULL, 0, 1, in, 0, 1);
  in[0] = tensor_random_away (s, -2.0f, 2.0f, zero, 1);
  grad_case ("LeakyRelu", "LeakyRelu", 13, leaky_attrs, 1, 1, in, 0, 1);
  in[0] = tensor_random_away (s, -4.0f, 4.0f, hsig_kinks, 2);
  grad_case ("HardSigmoid", "HardSigmoid", 13, hsig_attrs, 2, 1, in, 0, 1);
  in[0] = tensor_random_away (s, -5.0f, 5.0f, hswish_kinks, 2);
  grad_case ("HardSwish", "HardSwish", 14, NULL, 0, 1, in, 0, 1);
  in[0] = tensor_random_away (s, -2.0f, 2.0f, clip_kinks, 2);
  grad_case ("Clip (attributes)", "Clip", 6, clip_attrs, 2, 1, in, 0, 1);

  /* Bounds as inputs get their gradients too. */
  in[0] = tensor_random_away (s, -2.0f, 2.0f, clip_kinks, 2);
  in[1] = tensor_scalar (-1.0f);
  in[2] = tensor_scalar (1.5f);
  grad_case ("Clip (inputs)", "Clip", 13, NULL, 0, 3, in, 0, 7);
  in[0] = tensor_random_away (s, -2.0f, 2.0f, clip_kinks, 2);
  in[1] = NULL;
  in[2] = tensor_scalar (1.5f);
  grad_case ("Clip (max only)", "Clip", 13, NULL, 0, 3, in, 0, 5);
}

/* At the kinks the one-sided choice is PyTorch 1.13's (values printed by
 * torch for relu, relu6/hardtanh, leaky_relu(0.1), hardsigmoid and
 * hardswish at these points). */
static void
test_activation_kinks (void)
{
  const float ones[] = { 1, 1, 1, 1, 1 };
  const float x[] = { -3.0f, 0.0f, 3.0f, 6.0f, -1.0f };
  float d[5];
  const float relu[] = { 0, 0, 1, 1, 0 };
  const float relu6[] = { 0, 0, 1, 0, 0 };
  const float leaky[] = { 0.1f, 0.1f, 1, 1, 0.1f };
  const float hsig[] = { 0, 1.0f / 6.0f, 0, 0, 1.0f / 6.0f };
  const float hswish[] = { -0.5f, 0.5f, 1.5f, 1.0f, 1.0f / 6.0f };

  memset (d, 0, sizeof d);
  graft_relu_backward (d, ones, x, 5, TRUE);
  assert_close_floats ("relu", d, relu, 5, 1e-6);
  memset (d, 0, sizeof d);
  graft_clip_backward (d, NULL, NULL, ones, x, 5, 0.0f, 6.0f, TRUE);
  assert_close_floats ("relu6", d, relu6, 5, 1e-6);
  memset (d, 0, sizeof d);
  graft_leaky_relu_backward (d, ones, x, 5, 0.1f, TRUE);
  assert_close_floats ("leaky", d, leaky, 5, 1e-6);
  memset (d, 0, sizeof d);
  graft_hard_sigmoid_backward (d, ones, x, 5, 1.0f / 6.0f, 0.5f, TRUE);
  assert_close_floats ("hardsigmoid", d, hsig, 5, 1e-6);
  memset (d, 0, sizeof d);
  graft_hard_swish_backward (d, ones, x, 5, TRUE);
  assert_close_floats ("hardswish", d, hswish, 5, 1e-6);
}

/* ---- broadcasting arithmetic ---- */

typedef struct
{
  GraftShape a, b;
} ShapePair;

static const char *const binary_ops[] = { "Add", "Sub", "Mul", "Div" };

static void
test_binary_grad (void)
{
  const ShapePair pairs[] = {
    { shape_of (3, 2, 3, 4), shape_of (3, 2, 3, 4) },       /* same */
    { shape_of (4, 2, 3, 2, 2), shape_of (4, 1, 3, 1, 1) }, /* channel */
    { shape_of (2, 4, 5), shape_of (1, 5) },                /* bias */
    { shape_of (2, 2, 3), shape_of (0) },                   /* scalar */
    { shape_of (3, 3, 1, 1), shape_of (4, 2, 3, 2, 2) },    /* small a */
    { shape_of (3, 2, 3, 4), shape_of (2, 3, 1) },          /* rank mismatch */
    { shape_of (2, 4, 1), shape_of (2, 1, 5) },             /* both broadcast */
    { shape_of (2, 3, 1), shape_of (3, 2, 1, 4) },          /* both, ranks */
  };

  for (size_t o = 0; o < G_N_ELEMENTS (binary_ops); o++)
    for (size_t p = 0; p < G_N_ELEMENTS (pairs); p++)
      {
        g_autofree char *what =
            g_strdup_printf ("%s, shape pair %zu", binary_ops[o], p);
        GraftTensor *in[2];
        in[0] = tensor_random (pairs[p].a);
        in[1] = strcmp (binary_ops[o], "Div") == 0 ? tensor_divisor (pairs[p].b)
                                                   : tensor_random (pairs[p].b);
        grad_case (what, binary_ops[o], 14, NULL, 0, 2, in, 0, 3);
      }

  /* Only one side wanted (the other frozen). */
  for (unsigned wrt = 1; wrt <= 2; wrt++)
    {
      GraftTensor *in[2] = { tensor_random (shape_of (3, 2, 3, 4)),
                             tensor_divisor (shape_of (2, 3, 1)) };
      grad_case ("Div, one side", "Div", 14, NULL, 0, 2, in, 0, wrt);
    }

  /* Before opset 7: B's dims placed at A's axis. */
  {
    GraftOnnxAttribute attrs[] = { attr_int ("broadcast", 1),
                                   attr_int ("axis", 1) };
    GraftTensor *in[2] = { tensor_random (shape_of (4, 2, 3, 4, 2)),
                           tensor_random (shape_of (2, 3, 4)) };
    grad_case ("Mul, legacy axis", "Mul", 6, attrs, 2, 2, in, 0, 3);
  }
}

/* The fast paths against the strided reference, on shapes large enough to
 * take the multi-threaded same-shape loops. */
static void
test_binary_backward_kernel (void)
{
  const ShapePair pairs[] = {
    { shape_of (2, 300, 400), shape_of (2, 300, 400) },
    { shape_of (4, 4, 32, 9, 9), shape_of (3, 32, 1, 1) },
    { shape_of (2, 64, 100), shape_of (1, 100) },
    { shape_of (2, 7, 9), shape_of (0) },
    { shape_of (3, 32, 1, 1), shape_of (4, 4, 32, 9, 9) },
    { shape_of (3, 5, 6, 7), shape_of (2, 6, 1) },
  };

  for (size_t p = 0; p < G_N_ELEMENTS (pairs); p++)
    for (int op = GRAFT_BINARY_ADD; op <= GRAFT_BINARY_DIV; op++)
      for (int mask = 1; mask <= 3; mask++)
        {
          GraftShape out_shape;
          g_autoptr (GraftTensor) a = tensor_random (pairs[p].a);
          g_autoptr (GraftTensor) b = tensor_divisor (pairs[p].b);
          g_autoptr (GraftTensor) dout = NULL;
          g_autoptr (GraftTensor) da = tensor_random (pairs[p].a);
          g_autoptr (GraftTensor) db = tensor_random (pairs[p].b);
          g_autoptr (GraftTensor) da_ref = graft_tensor_copy (da);
          g_autoptr (GraftTensor) db_ref = graft_tensor_copy (db);
          float *pda = mask & 1 ? da->data : NULL;
          float *pdb = mask & 2 ? db->data : NULL;
          float *pda_ref = mask & 1 ? da_ref->data : NULL;
          float *pdb_ref = mask & 2 ? db_ref->data : NULL;

          g_assert_true (graft_broadcast_shapes (&pairs[p].a, &pairs[p].b,
                                                 &out_shape, NULL));
          dout = tensor_random (out_shape);
          graft_binary_backward (pda, pdb, dout->data, a->data, b->data,
                                 &out_shape, &pairs[p].a, &pairs[p].b, op, TRUE,
                                 TRUE);
          graft_binary_backward_ref (pda_ref, pdb_ref, dout->data, a->data,
                                     b->data, &out_shape, &pairs[p].a,
                                     &pairs[p].b, op, TRUE, TRUE);
          assert_close_floats ("da", da->data, da_ref->data,
                               graft_tensor_numel (da), 1e-5);
          assert_close_floats ("db", db->data, db_ref->data,
                               graft_tensor_numel (db), 1e-5);
        }
}

/* ---- Gemm and MatMul ---- */

static void
test_gemm_grad (void)
{
  const int M = 3, N = 4, K = 5;
  /* C (besides none): scalar, (1, 1), (N), (1, N), (M, 1), (M, N) */
  const GraftShape c_shapes[] = { shape_of (0),       shape_of (2, 1, 1),
                                  shape_of (1, N),    shape_of (2, 1, N),
                                  shape_of (2, M, 1), shape_of (2, M, N) };

  for (int ta = 0; ta <= 1; ta++)
    for (int tb = 0; tb <= 1; tb++)
      for (int c = -1; c < (int) G_N_ELEMENTS (c_shapes); c++)
        {
          GraftOnnxAttribute attrs[] = { attr_float ("alpha", 0.7f),
                                         attr_float ("beta", 1.3f),
                                         attr_int ("transA", ta),
                                         attr_int ("transB", tb) };
          g_autofree char *what =
              g_strdup_printf ("Gemm transA %d transB %d C %d", ta, tb, c);
          GraftTensor *in[3];
          in[0] = tensor_random (ta ? shape_of (2, K, M) : shape_of (2, M, K));
          in[1] = tensor_random (tb ? shape_of (2, N, K) : shape_of (2, K, N));
          in[2] = c >= 0 ? tensor_random (c_shapes[c]) : NULL;
          grad_case (what, "Gemm", 13, attrs, 4, c >= 0 ? 3 : 2, in, 0,
                     c >= 0 ? 7 : 3);
        }
}

static void
test_gemm_backward_kernel (void)
{
  const int M = 37, N = 29, K = 41;
  /* (stride_m, stride_n) of a full C, a row bias, a column and a scalar */
  const int64_t c_strides[][2] = { { N, 1 }, { 0, 1 }, { 1, 0 }, { 0, 0 } };

  for (int ta = 0; ta <= 1; ta++)
    for (int tb = 0; tb <= 1; tb++)
      for (size_t c = 0; c < G_N_ELEMENTS (c_strides); c++)
        {
          int64_t sm = c_strides[c][0], sn = c_strides[c][1];
          GraftShape c_shape = shape_of (2, sm ? M : 1, sn ? N : 1);
          g_autoptr (GraftTensor) a = tensor_random (shape_of (2, M, K));
          g_autoptr (GraftTensor) b = tensor_random (shape_of (2, K, N));
          g_autoptr (GraftTensor) dy = tensor_random (shape_of (2, M, N));
          g_autoptr (GraftTensor) da = tensor_random (shape_of (2, M, K));
          g_autoptr (GraftTensor) db = tensor_random (shape_of (2, K, N));
          g_autoptr (GraftTensor) dc = tensor_random (c_shape);
          g_autoptr (GraftTensor) da_ref = graft_tensor_copy (da);
          g_autoptr (GraftTensor) db_ref = graft_tensor_copy (db);
          g_autoptr (GraftTensor) dc_ref = graft_tensor_copy (dc);

          /* a and b are read as (K, M) and (N, K) when transposed; the
           * element counts are the same. */
          graft_gemm_backward (da->data, db->data, dc->data, dy->data, a->data,
                               b->data, sm, sn, M, N, K, ta, tb, 0.7f, 1.3f);
          graft_gemm_backward_ref (da_ref->data, db_ref->data, dc_ref->data,
                                   dy->data, a->data, b->data, sm, sn, M, N, K,
                                   ta, tb, 0.7f, 1.3f);
          assert_close_floats ("gemm da", da->data, da_ref->data, M * K, 1e-5);
          assert_close_floats ("gemm db", db->data, db_ref->data, K * N, 1e-5);
          assert_close_floats ("gemm dc", dc->data, dc_ref->data,
                               graft_tensor_numel (dc), 1e-5);
        }
}

static void
test_matmul_grad (void)
{
  const ShapePair pairs[] = {
    { shape_of (2, 3, 4), shape_of (2, 4, 5) },
    { shape_of (3, 2, 3, 4), shape_of (3, 2, 4, 5) },
    { shape_of (3, 2, 3, 4), shape_of (2, 4, 5) }, /* shared B: one GEMM */
    { shape_of (2, 3, 4), shape_of (3, 2, 4, 5) }, /* shared A */
    { shape_of (4, 2, 1, 3, 4), shape_of (4, 1, 2, 4, 2) },
    { shape_of (1, 4), shape_of (3, 2, 4, 5) }, /* 1-D A */
    { shape_of (3, 2, 3, 4), shape_of (1, 4) }, /* 1-D B */
    { shape_of (1, 4), shape_of (1, 4) },       /* dot product */
  };

  for (size_t p = 0; p < G_N_ELEMENTS (pairs); p++)
    {
      g_autofree char *what = g_strdup_printf ("MatMul, shape pair %zu", p);
      GraftTensor *in[2] = { tensor_random (pairs[p].a),
                             tensor_random (pairs[p].b) };
      grad_case (what, "MatMul", 13, NULL, 0, 2, in, 0, 3);
    }
}

static void
test_matmul_backward_kernel (void)
{
  const int64_t M = 13, K = 17, N = 11;
  struct
  {
    int n_batch;
    int64_t dims[2], a_strides[2], b_strides[2];
  } cases[] = {
    { 2, { 3, 2 }, { 2 * M * K, M * K }, { 2 * K * N, K * N } },
    { 2, { 3, 2 }, { 2 * M * K, M * K }, { 0, 0 } }, /* shared B */
    { 2, { 3, 2 }, { 0, 0 }, { 2 * K * N, K * N } }, /* shared A */
    { 2, { 3, 2 }, { M * K, 0 }, { 0, K * N } },     /* cross broadcast */
    { 0, { 0, 0 }, { 0, 0 }, { 0, 0 } },
  };

  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      int64_t n_batch = 1, na = M * K, nb = K * N;
      for (int d = 0; d < cases[c].n_batch; d++)
        {
          n_batch *= cases[c].dims[d];
          na = MAX (na, (cases[c].a_strides[d] * cases[c].dims[d]));
          nb = MAX (nb, (cases[c].b_strides[d] * cases[c].dims[d]));
        }
      {
        g_autoptr (GraftTensor) a = tensor_random (shape_of (1, (int) na));
        g_autoptr (GraftTensor) b = tensor_random (shape_of (1, (int) nb));
        g_autoptr (GraftTensor) dout =
            tensor_random (shape_of (1, (int) (n_batch * M * N)));
        g_autoptr (GraftTensor) da = tensor_random (shape_of (1, (int) na));
        g_autoptr (GraftTensor) db = tensor_random (shape_of (1, (int) nb));
        g_autoptr (GraftTensor) da_ref = graft_tensor_copy (da);
        g_autoptr (GraftTensor) db_ref = graft_tensor_copy (db);

        graft_matmul_backward (da->data, db->data, dout->data, a->data, b->data,
                               cases[c].n_batch, cases[c].dims,
                               cases[c].a_strides, cases[c].b_strides, M, K, N);
        graft_matmul_backward_ref (da_ref->data, db_ref->data, dout->data,
                                   a->data, b->data, cases[c].n_batch,
                                   cases[c].dims, cases[c].a_strides,
                                   cases[c].b_strides, M, K, N);
        assert_close_floats ("matmul da", da->data, da_ref->data, na, 1e-5);
        assert_close_floats ("matmul db", db->data, db_ref->data, nb, 1e-5);
      }
    }
}

/* ---- Softmax ---- */

static void
test_softmax_grad (void)
{
  const char *ops[] = { "Softmax", "LogSoftmax" };

  for (int o = 0; o < 2; o++)
    {
      GraftOnnxAttribute axis1[] = { attr_int ("axis", 1) };
      GraftTensor *in[1];
      /* opset 11: flattened at axis 1, rows of 3 * 4 */
      in[0] = tensor_random (shape_of (3, 2, 3, 4));
      grad_case (ops[o], ops[o], 11, axis1, 1, 1, in, 0, 1);
      /* opset 13: along axis 1 with inner = 3 */
      in[0] = tensor_random (shape_of (3, 2, 5, 3));
      grad_case (ops[o], ops[o], 13, axis1, 1, 1, in, 0, 1);
      /* opset 13: the last axis */
      in[0] = tensor_random (shape_of (2, 4, 6));
      grad_case (ops[o], ops[o], 13, NULL, 0, 1, in, 0, 1);
    }
}

static void
test_softmax_backward_kernel (void)
{
  /* inner 1, a few columns, and more than one column chunk */
  const int64_t views[][3] = { { 5, 33, 1 }, { 3, 7, 10 }, { 2, 6, 300 } };

  for (size_t v = 0; v < G_N_ELEMENTS (views); v++)
    for (int log_softmax = 0; log_softmax <= 1; log_softmax++)
      {
        int64_t outer = views[v][0], n = views[v][1], inner = views[v][2];
        GraftShape s = shape_of (3, (int) outer, (int) n, (int) inner);
        g_autoptr (GraftTensor) x = tensor_random (s);
        g_autoptr (GraftTensor) y = graft_tensor_new_float (&s);
        g_autoptr (GraftTensor) dy = tensor_random (s);
        g_autoptr (GraftTensor) dx = tensor_random (s);
        g_autoptr (GraftTensor) dx_ref = graft_tensor_copy (dx);

        graft_softmax_forward (y->data, x->data, outer, n, inner, log_softmax);
        graft_softmax_backward (dx->data, dy->data, y->data, outer, n, inner,
                                log_softmax);
        graft_softmax_backward_ref (dx_ref->data, dy->data, y->data, outer, n,
                                    inner, log_softmax);
        assert_close_floats ("softmax dx", dx->data, dx_ref->data,
                             graft_tensor_numel (dx), 1e-5);
      }
}

/* ---- shape ops ---- */

static void
test_shape_grad (void)
{
  GraftTensor *in[3];
  int64_t shape[] = { 4, -1 }, axes[] = { 0, 2 }, perm[] = { 2, 0, 1 };
  GraftOnnxAttribute flatten_axis[] = { attr_int ("axis", 1) };
  GraftOnnxAttribute concat_axis[] = { attr_int ("axis", 1) };
  GraftOnnxAttribute perm_attr[] = { attr_ints ("perm", 3, perm) };

  in[0] = tensor_random (shape_of (3, 2, 3, 4));
  grad_case ("Flatten", "Flatten", 13, flatten_axis, 1, 1, in, 0, 1);
  in[0] = tensor_random (shape_of (3, 2, 3, 4));
  in[1] = tensor_i64 (2, shape);
  grad_case ("Reshape", "Reshape", 14, NULL, 0, 2, in, 2, 1);
  in[0] = tensor_random (shape_of (2, 3, 4));
  grad_case ("Identity", "Identity", 13, NULL, 0, 1, in, 0, 1);
  in[0] = tensor_random (shape_of (4, 1, 3, 1, 4));
  in[1] = tensor_i64 (2, axes);
  grad_case ("Squeeze", "Squeeze", 13, NULL, 0, 2, in, 2, 1);
  in[0] = tensor_random (shape_of (2, 3, 4));
  in[1] = tensor_i64 (2, axes);
  grad_case ("Unsqueeze", "Unsqueeze", 13, NULL, 0, 2, in, 2, 1);
  in[0] = tensor_random (shape_of (3, 2, 3, 4));
  grad_case ("Transpose", "Transpose", 13, perm_attr, 1, 1, in, 0, 1);
  in[0] = tensor_random (shape_of (4, 2, 3, 4, 2));
  grad_case ("Transpose (reversed)", "Transpose", 13, NULL, 0, 1, in, 0, 1);
  in[0] = tensor_random (shape_of (3, 2, 1, 3));
  in[1] = tensor_random (shape_of (3, 2, 3, 3));
  in[2] = tensor_random (shape_of (3, 2, 2, 3));
  grad_case ("Concat", "Concat", 13, concat_axis, 1, 3, in, 0, 7);
  /* A branch that needs no gradient is skipped. */
  in[0] = tensor_random (shape_of (3, 2, 1, 3));
  in[1] = tensor_random (shape_of (3, 2, 3, 3));
  in[2] = tensor_random (shape_of (3, 2, 2, 3));
  grad_case ("Concat, middle frozen", "Concat", 13, concat_axis, 1, 3, in, 0,
             5);
}

/* ---- Dropout ---- */

static gboolean
mask_get (const GraftTensor *mask, int64_t i)
{
  if (mask->dtype == GRAFT_DTYPE_FLOAT)
    return ((const float *) mask->data)[i] != 0.0f;
  return ((const uint8_t *) mask->data)[i] != 0;
}

/* Runs Dropout in training on n ones and checks output against mask,
 * the kept fraction, and backward against the mask. */
static void
check_dropout (int64_t opset,
               GraftOnnxAttribute *attrs,
               size_t n_attrs,
               GraftTensor *ratio_input,
               float ratio,
               GraftDType mask_type)
{
  const int64_t n = 20000;
  GraftShape s = shape_of (2, 100, 200);
  GraftTensor *in[2] = { tensor_random (s), ratio_input };
  g_autoptr (GraftTensor) dy = tensor_random (s);
  g_autoptr (GraftTensor) dx = tensor_random (s);
  g_autoptr (GraftTensor) dx_before = graft_tensor_copy (dx);
  const float *x, *y, *g, *d, *d0;
  int64_t kept = 0;
  float scale = 1.0f / (1.0f - ratio);
  Harness h;

  harness_init (&h, "Dropout", opset, attrs, n_attrs, ratio_input ? 2 : 1, in,
                0, 2);
  g_assert_cmpint (h.out[1]->dtype, ==, mask_type);
  h.train = TRUE;
  harness_forward (&h);
  x = h.in[0]->data;
  y = h.out[0]->data;
  for (int64_t i = 0; i < n; i++)
    {
      gboolean keep = mask_get (h.out[1], i);
      kept += keep;
      g_assert_cmpfloat (y[i], ==, keep ? x[i] * scale : 0.0f);
    }
  g_assert_cmpfloat (fabs ((double) kept / n - (1.0 - ratio)), <, 0.02);

  /* Backward recomputes the same mask. */
  harness_backward (&h, dy, (GraftTensor *[]){ dx, NULL });
  g = dy->data;
  d = dx->data;
  d0 = dx_before->data;
  for (int64_t i = 0; i < n; i++)
    g_assert_cmpfloat (
        fabsf (d[i] - (d0[i] + (mask_get (h.out[1], i) ? g[i] * scale : 0.0f))),
        <=, 1e-6f * (1.0f + fabsf (d[i])));
  harness_clear (&h);
}

static void
test_dropout (void)
{
  GraftShape s = shape_of (2, 8, 9);
  GraftOnnxAttribute ratio_attr[] = { attr_float ("ratio", 0.25f) };
  Harness h;
  g_autoptr (GraftTensor) first = NULL;
  g_autoptr (GraftTensor) first_mask = NULL;
  GraftTensor *in[2];

  check_dropout (13, NULL, 0, tensor_scalar (0.3f), 0.3f, GRAFT_DTYPE_BOOL);
  check_dropout (13, NULL, 0, NULL, 0.5f, GRAFT_DTYPE_BOOL); /* default */
  check_dropout (10, ratio_attr, 1, NULL, 0.25f, GRAFT_DTYPE_BOOL);
  check_dropout (7, ratio_attr, 1, NULL, 0.25f, GRAFT_DTYPE_FLOAT);

  /* The mask depends on seed, step and node id only. */
  in[0] = tensor_random (s);
  in[1] = tensor_scalar (0.5f);
  harness_init (&h, "Dropout", 13, NULL, 0, 2, in, 0, 2);
  h.train = TRUE;
  harness_forward (&h);
  first = graft_tensor_copy (h.out[0]);
  first_mask = graft_tensor_copy (h.out[1]);
  harness_forward (&h);
  g_assert_cmpmem (h.out[1]->data, 72, first_mask->data, 72);
  g_assert_cmpmem (h.out[0]->data, 72 * 4, first->data, 72 * 4);
  h.ws.step++;
  harness_forward (&h);
  g_assert_true (memcmp (h.out[1]->data, first_mask->data, 72) != 0);
  h.ws.step--;
  h.node.id++;
  harness_forward (&h);
  g_assert_true (memcmp (h.out[1]->data, first_mask->data, 72) != 0);
  h.node.id--;

  /* With the mask fixed, training Dropout is linear in x. */
  check_gradients (&h, 1, "Dropout (training)");

  /* Inference: the identity, forward and backward. */
  h.train = FALSE;
  harness_forward (&h);
  g_assert_cmpmem (h.out[0]->data, 72 * 4, h.in[0]->data, 72 * 4);
  check_gradients (&h, 1, "Dropout (inference)");
  harness_clear (&h);

  /* Ratio 0 keeps everything, unscaled. */
  in[0] = tensor_random (s);
  in[1] = tensor_scalar (0.0f);
  harness_init (&h, "Dropout", 13, NULL, 0, 2, in, 0, 1);
  h.train = TRUE;
  harness_forward (&h);
  g_assert_cmpmem (h.out[0]->data, 72 * 4, h.in[0]->data, 72 * 4);
  harness_clear (&h);
}

/* ---- cross-entropy ---- */

static void
test_cross_entropy_torch (void)
{
  for (size_t c = 0; c < G_N_ELEMENTS (cross_entropy_cases); c++)
    {
      const CrossEntropyCase *ce = &cross_entropy_cases[c];
      int64_t nk = (int64_t) ce->N * ce->K;
      float *probs = g_new (float, nk), *probs_ref = g_new (float, nk);
      float *dz = g_new (float, nk), *dz_ref = g_new (float, nk);
      double *want = g_new (double, nk);
      float loss, loss_ref;

      loss = graft_cross_entropy_forward (probs, ce->logits, ce->labels,
                                          ce->weights, ce->N, ce->K,
                                          ce->smoothing);
      loss_ref = graft_cross_entropy_forward_ref (probs_ref, ce->logits,
                                                  ce->labels, ce->weights,
                                                  ce->N, ce->K, ce->smoothing);
      if (!(fabs (loss - ce->loss) <= 1e-5 * fabs (ce->loss)) ||
          !(fabs (loss_ref - ce->loss) <= 1e-5 * fabs (ce->loss)))
        g_error ("%s: loss %.9g (reference kernel %.9g), PyTorch %.9g",
                 ce->name, (double) loss, (double) loss_ref, ce->loss);
      assert_close_floats ("probs", probs, probs_ref, nk, 1e-6);
      for (int i = 0; i < ce->N; i++)
        {
          double sum = 0.0;
          for (int k = 0; k < ce->K; k++)
            sum += probs[i * ce->K + k];
          g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-6);
        }

      /* dloss scales the gradient. */
      for (int pass = 0; pass < 2; pass++)
        {
          float dloss = pass == 0 ? 1.0f : 0.5f;
          for (int64_t j = 0; j < nk; j++)
            want[j] = dloss * ce->dlogits[j];
          graft_cross_entropy_backward (dz, probs, ce->labels, ce->weights,
                                        ce->N, ce->K, ce->smoothing, dloss);
          graft_cross_entropy_backward_ref (dz_ref, probs, ce->labels,
                                            ce->weights, ce->N, ce->K,
                                            ce->smoothing, dloss);
          assert_close_scaled (ce->name, dz, want, nk, 1e-5);
          assert_close_scaled (ce->name, dz_ref, want, nk, 1e-5);
        }
      g_assert_cmpint (
          graft_cross_entropy_count_correct (probs, ce->labels, ce->N, ce->K),
          ==, ce->correct);
      g_assert_cmpint (graft_cross_entropy_count_correct (
                           ce->logits, ce->labels, ce->N, ce->K),
                       ==, ce->correct);
      g_free (probs);
      g_free (probs_ref);
      g_free (dz);
      g_free (dz_ref);
      g_free (want);
    }
}

/* The backward against central differences of the forward's loss. */
static void
test_cross_entropy_fd (void)
{
  const int N = 6, K = 5;
  float logits[30], probs[30], dz[30], weights[5];
  int32_t labels[6];

  for (int weighted = 0; weighted <= 1; weighted++)
    for (int si = 0; si < 2; si++)
      {
        float s = si ? 0.15f : 0.0f;
        for (int j = 0; j < N * K; j++)
          logits[j] = (float) g_rand_double_range (rng, -3, 3);
        for (int i = 0; i < N; i++)
          labels[i] = g_rand_int_range (rng, 0, K);
        for (int k = 0; k < K; k++)
          weights[k] = (float) g_rand_double_range (rng, 0.2, 2);
        graft_cross_entropy_forward (probs, logits, labels,
                                     weighted ? weights : NULL, N, K, s);
        graft_cross_entropy_backward (dz, probs, labels,
                                      weighted ? weights : NULL, N, K, s, 1.0f);
        for (int j = 0; j < N * K; j++)
          {
            float saved = logits[j], zp, zm;
            double lp, lm, numeric;
            zp = logits[j] = saved + 1e-2f;
            lp = graft_cross_entropy_forward (
                probs, logits, labels, weighted ? weights : NULL, N, K, s);
            zm = logits[j] = saved - 1e-2f;
            lm = graft_cross_entropy_forward (
                probs, logits, labels, weighted ? weights : NULL, N, K, s);
            logits[j] = saved;
            numeric = (lp - lm) / ((double) zp - zm);
            if (!(fabs (numeric - dz[j]) <= 1e-2 * fabs (numeric) + 2e-4))
              g_error ("cross-entropy weighted %d smoothing %g: [%d] backward "
                       "%.7g, finite difference %.7g",
                       weighted, (double) s, j, (double) dz[j], numeric);
          }
      }
}

/* A label outside [0, K) gives NaN, never an out-of-bounds access. */
static void
test_cross_entropy_bad_label (void)
{
  const float logits[6] = { 1, 2, 3, 4, 5, 6 };
  const int32_t labels[2] = { 1, 3 };
  const float weights[3] = { 1, 1, 1 };
  float probs[6], dz[6];

  g_assert_true (isnan (graft_cross_entropy_forward (probs, logits, labels,
                                                     weights, 2, 3, 0.1f)));
  g_assert_true (isnan (graft_cross_entropy_forward_ref (probs, logits, labels,
                                                         NULL, 2, 3, 0.1f)));
  graft_cross_entropy_backward (dz, probs, labels, weights, 2, 3, 0.1f, 1.0f);
  for (int j = 3; j < 6; j++)
    g_assert_true (isnan (dz[j]));
  g_assert_cmpint (graft_cross_entropy_count_correct (logits, labels, 2, 3), ==,
                   0);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (20240617);
  g_test_add_func ("/grad/activations", test_activations);
  g_test_add_func ("/grad/activation-kinks", test_activation_kinks);
  g_test_add_func ("/grad/binary/op", test_binary_grad);
  g_test_add_func ("/grad/binary/kernel", test_binary_backward_kernel);
  g_test_add_func ("/grad/gemm/op", test_gemm_grad);
  g_test_add_func ("/grad/gemm/kernel", test_gemm_backward_kernel);
  g_test_add_func ("/grad/matmul/op", test_matmul_grad);
  g_test_add_func ("/grad/matmul/kernel", test_matmul_backward_kernel);
  g_test_add_func ("/grad/softmax/op", test_softmax_grad);
  g_test_add_func ("/grad/softmax/kernel", test_softmax_backward_kernel);
  g_test_add_func ("/grad/shape", test_shape_grad);
  g_test_add_func ("/grad/dropout", test_dropout);
  g_test_add_func ("/grad/cross-entropy/torch", test_cross_entropy_torch);
  g_test_add_func ("/grad/cross-entropy/finite-difference",
                   test_cross_entropy_fd);
  g_test_add_func ("/grad/cross-entropy/bad-label",
                   test_cross_entropy_bad_label);
  status = g_test_run ();
  g_rand_free (rng);
  return status;
}
