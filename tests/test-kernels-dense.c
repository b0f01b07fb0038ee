/* test-kernels-dense.c: the dense kernels against their reference loops,
 * and the dense ops through prepare/infer/forward on hand-built nodes. */
#include "graft-error.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
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

static GraftTensor *
tensor_random (GraftShape s)
{
  GraftTensor *t = graft_tensor_new_float (&s);
  float *d = t->data;
  for (int64_t i = 0; i < graft_tensor_numel (t); i++)
    d[i] = (float) g_rand_double_range (rng, -2.0, 2.0);
  return t;
}

static GraftTensor *
tensor_floats (GraftShape s, const float *values)
{
  GraftTensor *t = graft_tensor_new_float (&s);
  memcpy (t->data, values, graft_tensor_nbytes (t));
  return t;
}

static GraftTensor *
tensor_typed (GraftDType dtype, GraftShape s, const void *values)
{
  GraftTensor *t = graft_tensor_new (dtype, &s, NULL);
  g_assert_nonnull (t);
  if (values)
    memcpy (t->data, values, graft_tensor_nbytes (t));
  return t;
}

static GraftTensor *
tensor_i64 (int n, const int64_t *values)
{
  GraftShape s = { .ndim = 1, .dims = { n } };
  return tensor_typed (GRAFT_DTYPE_INT64, s, values);
}

static void
assert_close (const float *got, const float *want, int64_t n, float tol)
{
  for (int64_t i = 0; i < n; i++)
    {
      float scale = MAX (1.0f, fabsf (want[i]));
      if (!(fabsf (got[i] - want[i]) <= tol * scale))
        g_error ("element %" G_GINT64_FORMAT ": got %.9g, want %.9g", i,
                 (double) got[i], (double) want[i]);
    }
}

static void
assert_shape (const GraftTensor *t, int ndim, const int64_t *dims)
{
  GraftShape want = graft_shape_make (ndim, dims);
  g_autofree char *g = graft_shape_to_string (&t->shape);
  g_autofree char *w = graft_shape_to_string (&want);
  g_assert_cmpstr (g, ==, w);
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

static GraftOnnxAttribute
attr_tensor (const char *name, GraftTensor *t)
{
  return (GraftOnnxAttribute){ .name = (char *) name,
                               .type = GRAFT_ATTR_TENSOR,
                               .t = t };
}

/* One op on hand-built inputs. Inputs whose bit is set in constant_mask
 * are shown to infer() as constants (initializers). On success outputs[]
 * receive new tensors. */
typedef struct
{
  const char *op_type;
  int64_t opset;
  GraftOnnxAttribute *attrs;
  size_t n_attrs;
  int n_inputs;
  GraftTensor *inputs[8];
  unsigned constant_mask;
  int n_outputs;
} OpCall;

static gboolean
run_op (const OpCall *call, GraftTensor **outputs, GError **error)
{
  GraftOnnxNode proto = { .name = (char *) "node",
                          .op_type = (char *) call->op_type,
                          .domain = (char *) "",
                          .attrs = call->attrs,
                          .n_attrs = call->n_attrs };
  GraftNode node = { .name = (char *) "node",
                     .op_type = (char *) call->op_type };
  GraftValueInfo in_info[8], out_info[8];
  const GraftValueInfo *in[8];
  GraftValueInfo *out[8];
  const GraftTensor *in_t[8];
  GraftWorkspace ws = { 0 };
  int n_out = MAX (call->n_outputs, 1);
  gboolean ok = FALSE;

  node.def = graft_op_lookup (call->op_type);
  g_assert_nonnull (node.def);
  node.n_inputs = call->n_inputs;
  node.n_outputs = n_out;
  g_assert_cmpint (call->n_inputs, >=, node.def->min_inputs);
  g_assert_cmpint (call->n_inputs, <=, node.def->max_inputs);
  if (node.def->prepare &&
      !node.def->prepare (&node, &proto, call->opset, error))
    goto out;
  for (int i = 0; i < call->n_inputs; i++)
    {
      const GraftTensor *t = call->inputs[i];
      in_t[i] = t;
      if (t == NULL)
        {
          in[i] = NULL;
          continue;
        }
      in_info[i] = (GraftValueInfo){ .dtype = t->dtype, .shape = t->shape };
      if (call->constant_mask & (1u << i))
        in_info[i].constant = t;
      in[i] = &in_info[i];
    }
  for (int i = 0; i < n_out; i++)
    {
      out_info[i] = (GraftValueInfo){ 0 };
      out[i] = &out_info[i];
    }
  if (!node.def->infer (&node, in, out, error))
    goto out;
  for (int i = 0; i < n_out; i++)
    {
      outputs[i] =
          graft_tensor_new (out_info[i].dtype, &out_info[i].shape, error);
      g_assert_nonnull (outputs[i]);
    }
  node.def->forward (&node, in_t, outputs, &ws);
  ok = TRUE;
out:
  graft_workspace_clear (&ws);
  g_free (node.params);
  return ok;
}

/* Runs an op that must fail and checks the message contains `expect`. */
static void
expect_op_error (const OpCall *call, const char *expect)
{
  g_autoptr (GError) error = NULL;
  GraftTensor *outputs[8] = { NULL };
  g_assert_false (run_op (call, outputs, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == GRAFT_ERROR);
  if (strstr (error->message, expect) == NULL)
    g_error ("error '%s' does not contain '%s'", error->message, expect);
}

static GraftTensor *
run_op_ok (const OpCall *call)
{
  g_autoptr (GError) error = NULL;
  GraftTensor *outputs[8] = { NULL };
  if (!run_op (call, outputs, &error))
    g_error ("%s failed: %s", call->op_type, error->message);
  return outputs[0];
}

static void
free_inputs (OpCall *call)
{
  for (int i = 0; i < call->n_inputs; i++)
    g_clear_pointer (&call->inputs[i], graft_tensor_free);
}

/* ---- broadcasting binary ops ---- */

/* An independent broadcast: numpy's index rule spelled out per element. */
static float
naive_broadcast_get (const float *x,
                     const GraftShape *xs,
                     const GraftShape *out,
                     int64_t linear)
{
  int64_t idx[GRAFT_MAX_DIMS], off = 0;
  for (int d = out->ndim - 1; d >= 0; d--)
    {
      idx[d] = linear % out->dims[d];
      linear /= out->dims[d];
    }
  for (int d = 0; d < xs->ndim; d++)
    {
      int od = d + out->ndim - xs->ndim;
      off = off * xs->dims[d] + (xs->dims[d] == 1 ? 0 : idx[od]);
    }
  return x[off];
}

static void
test_binary_broadcast (void)
{
  struct
  {
    GraftShape a, b;
  } cases[] = {
    { shape_of (4, 2, 3, 4, 5), shape_of (4, 2, 3, 4, 5) },
    { shape_of (4, 2, 3, 4, 5), shape_of (0) },
    { shape_of (0), shape_of (3, 2, 3, 4) },
    { shape_of (4, 2, 3, 4, 5), shape_of (4, 1, 3, 1, 1) },
    { shape_of (3, 3, 1, 1), shape_of (4, 2, 3, 4, 5) },
    { shape_of (4, 2, 3, 4, 5), shape_of (1, 5) },
    { shape_of (2, 4, 5), shape_of (4, 2, 3, 4, 5) },
    { shape_of (4, 2, 1, 4, 1), shape_of (3, 3, 1, 5) },
    { shape_of (4, 2, 3, 4, 5), shape_of (4, 2, 1, 4, 5) },
    { shape_of (2, 1, 7), shape_of (2, 6, 1) },
    { shape_of (2, 3, 0), shape_of (1, 1) },
    { shape_of (1, 1), shape_of (1) },
  };

  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int op = GRAFT_BINARY_ADD; op <= GRAFT_BINARY_DIV; op++)
      {
        g_autoptr (GraftTensor) a = tensor_random (cases[c].a);
        g_autoptr (GraftTensor) b = tensor_random (cases[c].b);
        g_autoptr (GError) error = NULL;
        GraftShape os;
        g_assert_true (
            graft_broadcast_shapes (&a->shape, &b->shape, &os, &error));
        g_autoptr (GraftTensor) fast = graft_tensor_new_float (&os);
        g_autoptr (GraftTensor) ref = graft_tensor_new_float (&os);
        g_autoptr (GraftTensor) naive = graft_tensor_new_float (&os);
        float *nv = naive->data;
        int64_t n = graft_shape_numel (&os);

        graft_binary_forward (fast->data, a->data, b->data, &os, &a->shape,
                              &b->shape, op);
        graft_binary_forward_ref (ref->data, a->data, b->data, &os, &a->shape,
                                  &b->shape, op);
        for (int64_t i = 0; i < n; i++)
          {
            float x = naive_broadcast_get (a->data, &a->shape, &os, i);
            float y = naive_broadcast_get (b->data, &b->shape, &os, i);
            nv[i] = op == GRAFT_BINARY_ADD   ? x + y
                    : op == GRAFT_BINARY_SUB ? x - y
                    : op == GRAFT_BINARY_MUL ? x * y
                                             : x / y;
          }
        /* Same float operations in the same order: bit-identical. */
        g_assert_cmpmem (fast->data, n * 4, naive->data, n * 4);
        g_assert_cmpmem (ref->data, n * 4, naive->data, n * 4);
      }
}

static void
test_binary_op (void)
{
  float av[] = { 1, 2, 3, 4, 5, 6 }, bv[] = { 10, 20, 30 };
  GraftShape s23 = shape_of (2, 2, 3), s3 = shape_of (1, 3);
  OpCall call = { .op_type = "Sub", .opset = 14, .n_inputs = 2 };
  call.inputs[0] = tensor_floats (s3, bv);
  call.inputs[1] = tensor_floats (s23, av);
  g_autoptr (GraftTensor) y = run_op_ok (&call);
  float want[] = { 9, 18, 27, 6, 15, 24 };
  assert_shape (y, 2, (int64_t[]){ 2, 3 });
  assert_close (y->data, want, 6, 0);
  free_inputs (&call);

  /* Mismatched shapes and types are refused in infer. */
  call.inputs[0] = tensor_random (s23);
  call.inputs[1] = tensor_random ((GraftShape){ .ndim = 1, .dims = { 2 } });
  expect_op_error (&call, "do not broadcast");
  free_inputs (&call);
  call.inputs[0] = tensor_random (s3);
  call.inputs[1] = tensor_i64 (3, (int64_t[]){ 1, 2, 3 });
  expect_op_error (&call, "different types");
  free_inputs (&call);

  /* Legacy (opset 6) broadcast along an axis: B (3) at axis 1 of A. */
  GraftOnnxAttribute legacy[] = { attr_int ("broadcast", 1),
                                  attr_int ("axis", 1) };
  GraftShape s233 = shape_of (3, 2, 3, 2);
  float cv[12];
  for (int i = 0; i < 12; i++)
    cv[i] = (float) i;
  OpCall old = {
    .op_type = "Add", .opset = 6, .attrs = legacy, .n_attrs = 2, .n_inputs = 2
  };
  old.inputs[0] = tensor_floats (s233, cv);
  old.inputs[1] = tensor_floats (s3, bv);
  g_autoptr (GraftTensor) z = run_op_ok (&old);
  for (int i = 0; i < 12; i++)
    g_assert_cmpfloat (((float *) z->data)[i], ==, cv[i] + bv[(i / 2) % 3]);
  free_inputs (&old);
}

static void
test_binary_int (void)
{
  GraftShape s4 = shape_of (1, 4), s1 = shape_of (0);
  int64_t a64[] = { 7, -7, G_MININT64, 5 }, b64[] = { 2, 2, -1, 0 };
  int64_t out64[4];
  graft_binary_forward_i64 (out64, a64, b64, &s4, &s4, &s4, GRAFT_BINARY_DIV);
  /* Truncation toward zero; MIN / -1 wraps; x / 0 is 0 rather than a trap. */
  g_assert_cmpint (out64[0], ==, 3);
  g_assert_cmpint (out64[1], ==, -3);
  g_assert_cmpint (out64[2], ==, G_MININT64);
  g_assert_cmpint (out64[3], ==, 0);
  graft_binary_forward_i64 (out64, a64, (int64_t[]){ 3 }, &s4, &s4, &s1,
                            GRAFT_BINARY_MUL);
  g_assert_cmpint (out64[0], ==, 21);
  g_assert_cmpint (out64[3], ==, 15);

  int32_t a32[] = { 1, 2, 3, 4 }, o32[4];
  graft_binary_forward_i32 (o32, a32, (int32_t[]){ 10 }, &s4, &s4, &s1,
                            GRAFT_BINARY_SUB);
  g_assert_cmpint (o32[0], ==, -9);
  g_assert_cmpint (o32[3], ==, -6);

  uint8_t a8[] = { 250, 3, 10, 0 }, b8[] = { 10, 5, 3, 0 }, o8[4];
  graft_binary_forward_u8 (o8, a8, b8, &s4, &s4, &s4, GRAFT_BINARY_ADD);
  g_assert_cmpint (o8[0], ==, 4); /* wraps modulo 256 */
  graft_binary_forward_u8 (o8, a8, b8, &s4, &s4, &s4, GRAFT_BINARY_SUB);
  g_assert_cmpint (o8[1], ==, 254);
  graft_binary_forward_u8 (o8, a8, b8, &s4, &s4, &s4, GRAFT_BINARY_DIV);
  g_assert_cmpint (o8[2], ==, 3);
  g_assert_cmpint (o8[3], ==, 0);

  /* Through the op: shape arithmetic on int64. */
  OpCall call = { .op_type = "Mul", .opset = 14, .n_inputs = 2 };
  call.inputs[0] = tensor_i64 (2, (int64_t[]){ 3, 4 });
  call.inputs[1] = tensor_i64 (1, (int64_t[]){ -2 });
  g_autoptr (GraftTensor) y = run_op_ok (&call);
  g_assert_cmpint (y->dtype, ==, GRAFT_DTYPE_INT64);
  g_assert_cmpint (((int64_t *) y->data)[1], ==, -8);
  free_inputs (&call);
}

/* ---- activations ---- */

static void
test_activations (void)
{
  float x[] = { -100, -3, -1, -0.5f, 0, 0.5f, 1, 3, 100, NAN };
  int n = G_N_ELEMENTS (x);
  float y[G_N_ELEMENTS (x)], want[G_N_ELEMENTS (x)];

  graft_relu_forward (y, x, n);
  for (int i = 0; i < n - 1; i++)
    g_assert_cmpfloat (y[i], ==, x[i] > 0 ? x[i] : 0);
  graft_leaky_relu_forward (y, x, n, 0.1f);
  for (int i = 0; i < n - 1; i++)
    g_assert_cmpfloat (y[i], ==, x[i] >= 0 ? x[i] : 0.1f * x[i]);
  graft_sigmoid_forward (y, x, n);
  for (int i = 0; i < n - 1; i++)
    want[i] = (float) (1.0 / (1.0 + exp (-(double) x[i])));
  assert_close (y, want, n - 1, 1e-6f);
  graft_hard_sigmoid_forward (y, x, n, 0.2f, 0.5f);
  for (int i = 0; i < n - 1; i++)
    want[i] = fmaxf (0, fminf (1, 0.2f * x[i] + 0.5f));
  assert_close (y, want, n - 1, 1e-7f);
  graft_hard_swish_forward (y, x, n);
  for (int i = 0; i < n - 1; i++)
    want[i] = x[i] * fmaxf (0, fminf (1, x[i] / 6 + 0.5f));
  assert_close (y, want, n - 1, 1e-6f);
  graft_tanh_forward (y, x, n);
  for (int i = 0; i < n - 1; i++)
    want[i] = (float) tanh (x[i]);
  assert_close (y, want, n - 1, 1e-6f);
  graft_clip_forward (y, x, n, -1, 3);
  for (int i = 0; i < n - 1; i++)
    g_assert_cmpfloat (y[i], ==, fmaxf (-1, fminf (3, x[i])));
  g_assert_true (isnan (y[n - 1])); /* NaN passes through Clip */

  /* Clip from opset 11: bounds as inputs, absent meaning unbounded. */
  GraftShape s = shape_of (1, n - 1);
  OpCall call = { .op_type = "Clip", .opset = 13, .n_inputs = 3 };
  call.inputs[0] = tensor_floats (s, x);
  call.inputs[2] = tensor_floats ((GraftShape){ .ndim = 0 }, (float[]){ 0.5f });
  g_autoptr (GraftTensor) c1 = run_op_ok (&call);
  for (int i = 0; i < n - 1; i++)
    g_assert_cmpfloat (((float *) c1->data)[i], ==, fminf (0.5f, x[i]));
  g_clear_pointer (&call.inputs[2], graft_tensor_free);
  call.inputs[1] = tensor_floats ((GraftShape){ .ndim = 1, .dims = { 2 } },
                                  (float[]){ 0, 1 });
  expect_op_error (&call, "min must be a single value");
  free_inputs (&call);

  /* Clip before opset 11: attributes. */
  GraftOnnxAttribute attrs[] = { attr_float ("min", 0), attr_float ("max", 6) };
  OpCall old = {
    .op_type = "Clip", .opset = 6, .attrs = attrs, .n_attrs = 2, .n_inputs = 1
  };
  old.inputs[0] = tensor_floats (s, x);
  g_autoptr (GraftTensor) c2 = run_op_ok (&old);
  for (int i = 0; i < n - 1; i++)
    g_assert_cmpfloat (((float *) c2->data)[i], ==, fmaxf (0, fminf (6, x[i])));
  free_inputs (&old);

  /* int8 Clip with only a minimum. */
  int8_t xi[] = { -128, -2, 0, 5, 127 };
  OpCall ci = { .op_type = "Clip", .opset = 13, .n_inputs = 2 };
  ci.inputs[0] = tensor_typed (GRAFT_DTYPE_INT8, (GraftShape){ 1, { 5 } }, xi);
  ci.inputs[1] =
      tensor_typed (GRAFT_DTYPE_INT8, (GraftShape){ 0 }, (int8_t[]){ -1 });
  g_autoptr (GraftTensor) c3 = run_op_ok (&ci);
  int8_t want8[] = { -1, -1, 0, 5, 127 };
  g_assert_cmpmem (c3->data, 5, want8, 5);
  free_inputs (&ci);

  /* Float-only activations refuse integers. */
  OpCall relu = { .op_type = "Relu", .opset = 14, .n_inputs = 1 };
  relu.inputs[0] = tensor_i64 (2, (int64_t[]){ 1, 2 });
  expect_op_error (&relu, "only float32");
  free_inputs (&relu);
}

/* ---- Gemm and MatMul ---- */

static void
test_gemm (void)
{
  const int M = 5, N = 7, K = 6;
  float alphas[] = { 1.0f, 0.25f }, betas[] = { 1.0f, 0.35f, 0.0f };
  /* C shapes: none, scalar, (N), (1, N), (M, 1), (M, N), (1) */
  GraftShape cshapes[] = { { -1 },
                           shape_of (0),
                           shape_of (1, N),
                           shape_of (2, 1, N),
                           shape_of (2, M, 1),
                           shape_of (2, M, N),
                           shape_of (1, 1) };

  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++)
      for (size_t ai = 0; ai < G_N_ELEMENTS (alphas); ai++)
        for (size_t bi = 0; bi < G_N_ELEMENTS (betas); bi++)
          for (size_t ci = 0; ci < G_N_ELEMENTS (cshapes); ci++)
            {
              GraftShape as = ta ? shape_of (2, K, M) : shape_of (2, M, K);
              GraftShape bs = tb ? shape_of (2, N, K) : shape_of (2, K, N);
              GraftOnnxAttribute attrs[] = {
                attr_float ("alpha", alphas[ai]),
                attr_float ("beta", betas[bi]),
                attr_int ("transA", ta),
                attr_int ("transB", tb),
              };
              OpCall call = { .op_type = "Gemm",
                              .opset = 13,
                              .attrs = attrs,
                              .n_attrs = 4,
                              .n_inputs = 2 };
              call.inputs[0] = tensor_random (as);
              call.inputs[1] = tensor_random (bs);
              if (cshapes[ci].ndim >= 0)
                {
                  call.inputs[2] = tensor_random (cshapes[ci]);
                  call.n_inputs = 3;
                }
              g_autoptr (GraftTensor) y = run_op_ok (&call);
              g_autoptr (GraftTensor) ref = graft_tensor_new_float (&y->shape);
              const float *a = call.inputs[0]->data, *b = call.inputs[1]->data;
              const GraftTensor *c = call.inputs[2];
              float *r = ref->data;

              assert_shape (y, 2, (int64_t[]){ M, N });
              /* Independent check with C indexed by its own shape. */
              for (int64_t m = 0; m < M; m++)
                for (int64_t n = 0; n < N; n++)
                  {
                    double s = 0;
                    for (int64_t k = 0; k < K; k++)
                      s += (double) (ta ? a[k * M + m] : a[m * K + k]) *
                           (tb ? b[n * K + k] : b[k * N + n]);
                    s *= alphas[ai];
                    if (c)
                      {
                        int64_t ci2 = 0;
                        const GraftShape *cs = &c->shape;
                        if (cs->ndim == 1)
                          ci2 = cs->dims[0] == 1 ? 0 : n;
                        else if (cs->ndim == 2)
                          ci2 = (cs->dims[0] == 1 ? 0 : m) * cs->dims[1] +
                                (cs->dims[1] == 1 ? 0 : n);
                        s += betas[bi] * ((float *) c->data)[ci2];
                      }
                    r[m * N + n] = (float) s;
                  }
              assert_close (y->data, r, M * N, 1e-5f);

              /* The reference kernel agrees too. */
              g_autoptr (GraftTensor) y2 = graft_tensor_new_float (&y->shape);
              int64_t csm = 0, csn = 0;
              if (c && c->shape.ndim == 2)
                {
                  csm = c->shape.dims[0] == 1 ? 0 : c->shape.dims[1];
                  csn = c->shape.dims[1] == 1 ? 0 : 1;
                }
              else if (c && c->shape.ndim == 1)
                csn = c->shape.dims[0] == 1 ? 0 : 1;
              graft_gemm_forward_ref (y2->data, a, b, c ? c->data : NULL, csm,
                                      csn, M, N, K, ta, tb, alphas[ai],
                                      betas[bi]);
              assert_close (y->data, y2->data, M * N, 1e-5f);
              free_inputs (&call);
            }

  /* Shape errors. */
  OpCall bad = { .op_type = "Gemm", .opset = 13, .n_inputs = 2 };
  bad.inputs[0] = tensor_random ((GraftShape){ 2, { 1, 512 } });
  bad.inputs[1] = tensor_random ((GraftShape){ 2, { 256, 10 } });
  expect_op_error (&bad, "inner dimensions 512 and 256 differ");
  free_inputs (&bad);
  bad.n_inputs = 3;
  bad.inputs[0] = tensor_random ((GraftShape){ 2, { 2, 3 } });
  bad.inputs[1] = tensor_random ((GraftShape){ 2, { 3, 4 } });
  bad.inputs[2] = tensor_random ((GraftShape){ 1, { 3 } });
  expect_op_error (&bad, "does not broadcast to 2x4");
  free_inputs (&bad);
}

/* a (..., M, K) @ b (..., K, N) by the numpy rules, written out directly. */
static void
naive_matmul (float *out,
              const GraftTensor *a,
              const GraftTensor *b,
              const GraftShape *os)
{
  GraftShape as = a->shape, bs = b->shape;
  gboolean a_vec = as.ndim == 1, b_vec = bs.ndim == 1;
  if (a_vec)
    as = shape_of (2, 1, (int) as.dims[0]);
  if (b_vec)
    bs = shape_of (2, (int) bs.dims[0], 1);
  int64_t M = as.dims[as.ndim - 2], K = as.dims[as.ndim - 1];
  int64_t N = bs.dims[bs.ndim - 1];
  int batch_rank = MAX (as.ndim, bs.ndim) - 2;
  int64_t n_batch = 1, bdims[GRAFT_MAX_DIMS];
  for (int d = 0; d < batch_rank; d++)
    {
      int ia = d - (batch_rank - (as.ndim - 2));
      int ib = d - (batch_rank - (bs.ndim - 2));
      int64_t da = ia >= 0 ? as.dims[ia] : 1, db = ib >= 0 ? bs.dims[ib] : 1;
      bdims[d] = MAX (da, db);
      n_batch *= bdims[d];
    }
  g_assert_cmpint (graft_shape_numel (os), ==, n_batch * M * N);
  for (int64_t bi = 0; bi < n_batch; bi++)
    {
      int64_t rem = bi, oa = 0, ob = 0, sa = 1, sb = 1;
      for (int d = batch_rank - 1; d >= 0; d--)
        {
          int64_t i = rem % bdims[d];
          int ia = d - (batch_rank - (as.ndim - 2));
          int ib = d - (batch_rank - (bs.ndim - 2));
          rem /= bdims[d];
          if (ia >= 0)
            {
              oa += (as.dims[ia] == 1 ? 0 : i) * sa;
              sa *= as.dims[ia];
            }
          if (ib >= 0)
            {
              ob += (bs.dims[ib] == 1 ? 0 : i) * sb;
              sb *= bs.dims[ib];
            }
        }
      const float *pa = (const float *) a->data + oa * M * K;
      const float *pb = (const float *) b->data + ob * K * N;
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++)
          {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
              s += (double) pa[m * K + k] * pb[k * N + n];
            out[(bi * M + m) * N + n] = (float) s;
          }
    }
}

static void
test_matmul (void)
{
  struct
  {
    GraftShape a, b;
    int out_ndim;
    int64_t out_dims[GRAFT_MAX_DIMS];
  } cases[] = {
    { shape_of (1, 4), shape_of (1, 4), 0, { 0 } },
    { shape_of (1, 4), shape_of (2, 4, 3), 1, { 3 } },
    { shape_of (2, 3, 4), shape_of (1, 4), 1, { 3 } },
    { shape_of (2, 3, 4), shape_of (2, 4, 5), 2, { 3, 5 } },
    { shape_of (3, 2, 3, 4), shape_of (3, 2, 4, 5), 3, { 2, 3, 5 } },
    { shape_of (4, 2, 1, 3, 4), shape_of (3, 5, 4, 6), 4, { 2, 5, 3, 6 } },
    { shape_of (2, 3, 4), shape_of (4, 2, 3, 4, 2), 4, { 2, 3, 3, 2 } },
    { shape_of (1, 4), shape_of (3, 2, 4, 3), 2, { 2, 3 } },
    { shape_of (3, 2, 3, 0), shape_of (2, 0, 5), 3, { 2, 3, 5 } },
  };

  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      OpCall call = { .op_type = "MatMul", .opset = 13, .n_inputs = 2 };
      call.inputs[0] = tensor_random (cases[c].a);
      call.inputs[1] = tensor_random (cases[c].b);
      g_autoptr (GraftTensor) y = run_op_ok (&call);
      g_autofree float *want = g_new0 (float, graft_tensor_numel (y) + 1);
      assert_shape (y, cases[c].out_ndim, cases[c].out_dims);
      naive_matmul (want, call.inputs[0], call.inputs[1], &y->shape);
      assert_close (y->data, want, graft_tensor_numel (y), 1e-5f);
      free_inputs (&call);
    }

  /* The BLAS kernel against the reference loop with broadcast strides. */
  int64_t batch[] = { 2, 3 }, sa[] = { 0, 12 }, sb[] = { 20, 0 };
  GraftShape as = shape_of (3, 3, 3, 4), bs = shape_of (3, 2, 4, 5);
  g_autoptr (GraftTensor) a = tensor_random (as);
  g_autoptr (GraftTensor) b = tensor_random (bs);
  float out1[2 * 3 * 3 * 5], out2[2 * 3 * 3 * 5];
  graft_matmul_forward (out1, a->data, b->data, 2, batch, sa, sb, 3, 4, 5);
  graft_matmul_forward_ref (out2, a->data, b->data, 2, batch, sa, sb, 3, 4, 5);
  assert_close (out1, out2, G_N_ELEMENTS (out1), 1e-5f);

  OpCall bad = { .op_type = "MatMul", .opset = 13, .n_inputs = 2 };
  bad.inputs[0] = tensor_random ((GraftShape){ 2, { 2, 3 } });
  bad.inputs[1] = tensor_random ((GraftShape){ 2, { 4, 2 } });
  expect_op_error (&bad, "inner dimensions 3 and 4 differ");
  free_inputs (&bad);
  bad.inputs[0] = tensor_random ((GraftShape){ 3, { 2, 2, 3 } });
  bad.inputs[1] = tensor_random ((GraftShape){ 3, { 3, 3, 2 } });
  expect_op_error (&bad, "do not broadcast");
  free_inputs (&bad);
}

/* ---- Softmax ---- */

static void
test_softmax_kernel (void)
{
  /* inner > 256 crosses the column chunking. */
  int64_t cases[][3] = {
    { 3, 10, 1 }, { 2, 5, 7 }, { 1, 1, 1 }, { 2, 4, 300 }, { 1, 1000, 1 }
  };

  for (size_t c = 0; c < G_N_ELEMENTS (cases); c++)
    for (int log = 0; log < 2; log++)
      {
        int64_t outer = cases[c][0], n = cases[c][1], inner = cases[c][2];
        GraftShape s = shape_of (3, (int) outer, (int) n, (int) inner);
        g_autoptr (GraftTensor) x = tensor_random (s);
        g_autoptr (GraftTensor) y = graft_tensor_new_float (&s);
        g_autoptr (GraftTensor) r = graft_tensor_new_float (&s);
        float *xv = x->data, *yv = y->data;

        /* Large values: a naive exp would overflow. */
        for (int64_t i = 0; i < graft_tensor_numel (x); i++)
          xv[i] = xv[i] * 500.0f + (i % 3 == 0 ? 10000.0f : 0.0f);
        graft_softmax_forward (y->data, x->data, outer, n, inner, log);
        graft_softmax_forward_ref (r->data, x->data, outer, n, inner, log);
        assert_close (y->data, r->data, graft_tensor_numel (y), 1e-5f);
        for (int64_t o = 0; o < outer; o++)
          for (int64_t j = 0; j < inner; j++)
            {
              double sum = 0;
              for (int64_t i = 0; i < n; i++)
                {
                  float v = yv[(o * n + i) * inner + j];
                  g_assert_true (isfinite (v) || (log && isinf (v)));
                  sum += log ? exp (v) : v;
                }
              g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
            }
      }

  /* The direct formula on a small row. */
  float x[] = { 1, 2, 3 }, y[3];
  graft_softmax_forward (y, x, 1, 3, 1, FALSE);
  double d = exp (1) + exp (2) + exp (3);
  float want[] = { (float) (exp (1) / d), (float) (exp (2) / d),
                   (float) (exp (3) / d) };
  assert_close (y, want, 3, 1e-6f);
}

static void
test_softmax_op (void)
{
  GraftShape s = shape_of (3, 2, 3, 4);
  GraftOnnxAttribute axis1[] = { attr_int ("axis", 1) };

  /* opset 13: along axis 1 only (inner = 4). */
  OpCall call = { .op_type = "Softmax",
                  .opset = 13,
                  .attrs = axis1,
                  .n_attrs = 1,
                  .n_inputs = 1 };
  call.inputs[0] = tensor_random (s);
  g_autoptr (GraftTensor) y13 = run_op_ok (&call);
  g_autoptr (GraftTensor) r13 = graft_tensor_new_float (&s);
  graft_softmax_forward_ref (r13->data, call.inputs[0]->data, 2, 3, 4, FALSE);
  assert_close (y13->data, r13->data, 24, 1e-6f);

  /* opset 11: flattened to (2, 12) at axis 1. */
  call.opset = 11;
  g_autoptr (GraftTensor) y11 = run_op_ok (&call);
  g_autoptr (GraftTensor) r11 = graft_tensor_new_float (&s);
  graft_softmax_forward_ref (r11->data, call.inputs[0]->data, 2, 12, 1, FALSE);
  assert_close (y11->data, r11->data, 24, 1e-6f);

  /* Default axes: -1 from 13, 1 before. */
  call.n_attrs = 0;
  call.opset = 13;
  call.op_type = "LogSoftmax";
  g_autoptr (GraftTensor) l13 = run_op_ok (&call);
  g_autoptr (GraftTensor) lr = graft_tensor_new_float (&s);
  graft_softmax_forward_ref (lr->data, call.inputs[0]->data, 6, 4, 1, TRUE);
  assert_close (l13->data, lr->data, 24, 1e-6f);

  GraftOnnxAttribute axis5[] = { attr_int ("axis", 5) };
  call.attrs = axis5;
  call.n_attrs = 1;
  expect_op_error (&call, "axis 5 is out of range for rank 3");
  free_inputs (&call);
}

/* ---- shape ops ---- */

static void
test_reshape (void)
{
  GraftShape s = shape_of (3, 2, 3, 4);
  OpCall call = {
    .op_type = "Reshape", .opset = 14, .n_inputs = 2, .constant_mask = 2
  };
  call.inputs[0] = tensor_random (s);

  struct
  {
    int n;
    int64_t shape[4];
    int out_ndim;
    int64_t out[4];
  } ok[] = {
    { 2, { 4, -1 }, 2, { 4, 6 } },
    { 3, { 0, 0, -1 }, 3, { 2, 3, 4 } },
    { 1, { -1 }, 1, { 24 } },
    { 4, { 2, 0, 2, 2 }, 4, { 2, 3, 2, 2 } },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      call.inputs[1] = tensor_i64 (ok[i].n, ok[i].shape);
      g_autoptr (GraftTensor) y = run_op_ok (&call);
      assert_shape (y, ok[i].out_ndim, ok[i].out);
      g_assert_cmpmem (y->data, 96, call.inputs[0]->data, 96);
      g_clear_pointer (&call.inputs[1], graft_tensor_free);
    }

  call.inputs[1] = tensor_i64 (2, (int64_t[]){ 3, 7 });
  expect_op_error (&call, "cannot reshape 2x3x4 (24 values) to 3x7");
  g_clear_pointer (&call.inputs[1], graft_tensor_free);
  call.inputs[1] = tensor_i64 (2, (int64_t[]){ -1, -1 });
  expect_op_error (&call, "more than one -1");
  g_clear_pointer (&call.inputs[1], graft_tensor_free);
  call.inputs[1] = tensor_i64 (2, (int64_t[]){ 5, -1 });
  expect_op_error (&call, "cannot reshape");
  g_clear_pointer (&call.inputs[1], graft_tensor_free);
  call.inputs[1] = tensor_i64 (4, (int64_t[]){ 1, 1, 1, 0 });
  expect_op_error (&call, "does not have");
  g_clear_pointer (&call.inputs[1], graft_tensor_free);
  call.inputs[1] = tensor_i64 (2, (int64_t[]){ -2, 12 });
  expect_op_error (&call, "shape value -2 is invalid");
  /* A shape known only at run time cannot be planned. */
  call.constant_mask = 0;
  expect_op_error (&call, "shape input must be a constant");
  free_inputs (&call);

  /* allowzero: 0 is a real zero-size dim. */
  GraftOnnxAttribute az[] = { attr_int ("allowzero", 1) };
  OpCall zero = { .op_type = "Reshape",
                  .opset = 14,
                  .attrs = az,
                  .n_attrs = 1,
                  .n_inputs = 2,
                  .constant_mask = 2 };
  zero.inputs[0] = tensor_random ((GraftShape){ 3, { 0, 3, 4 } });
  zero.inputs[1] = tensor_i64 (3, (int64_t[]){ 3, 4, 0 });
  g_autoptr (GraftTensor) z = run_op_ok (&zero);
  assert_shape (z, 3, (int64_t[]){ 3, 4, 0 });
  free_inputs (&zero);
}

static void
test_flatten_squeeze (void)
{
  GraftShape s = shape_of (4, 2, 3, 4, 5);
  int64_t axes_ok[] = { 0, 1, 2, 3, 4, -1, -4 };
  int64_t rows[] = { 1, 2, 6, 24, 120, 24, 1 };

  for (size_t i = 0; i < G_N_ELEMENTS (axes_ok); i++)
    {
      GraftOnnxAttribute a[] = { attr_int ("axis", axes_ok[i]) };
      OpCall call = { .op_type = "Flatten",
                      .opset = 13,
                      .attrs = a,
                      .n_attrs = 1,
                      .n_inputs = 1 };
      call.inputs[0] = tensor_random (s);
      g_autoptr (GraftTensor) y = run_op_ok (&call);
      assert_shape (y, 2, (int64_t[]){ rows[i], 120 / rows[i] });
      free_inputs (&call);
    }
  GraftOnnxAttribute a5[] = { attr_int ("axis", 5) };
  OpCall bad = {
    .op_type = "Flatten", .opset = 13, .attrs = a5, .n_attrs = 1, .n_inputs = 1
  };
  bad.inputs[0] = tensor_random (s);
  expect_op_error (&bad, "out of range");
  free_inputs (&bad);

  /* Unsqueeze: opset 11 attribute, opset 13 constant input. */
  int64_t ax[] = { 0, 4 };
  GraftOnnxAttribute ua[] = { attr_ints ("axes", 2, ax) };
  OpCall u11 = { .op_type = "Unsqueeze",
                 .opset = 11,
                 .attrs = ua,
                 .n_attrs = 1,
                 .n_inputs = 1 };
  u11.inputs[0] = tensor_random (shape_of (3, 3, 4, 5));
  g_autoptr (GraftTensor) y1 = run_op_ok (&u11);
  assert_shape (y1, 5, (int64_t[]){ 1, 3, 4, 5, 1 });
  free_inputs (&u11);
  OpCall u13 = {
    .op_type = "Unsqueeze", .opset = 13, .n_inputs = 2, .constant_mask = 2
  };
  u13.inputs[0] = tensor_random (shape_of (3, 3, 4, 5));
  u13.inputs[1] = tensor_i64 (2, (int64_t[]){ -1, 1 });
  g_autoptr (GraftTensor) y2 = run_op_ok (&u13);
  assert_shape (y2, 5, (int64_t[]){ 3, 1, 4, 5, 1 });
  g_clear_pointer (&u13.inputs[1], graft_tensor_free);
  u13.inputs[1] = tensor_i64 (2, (int64_t[]){ 1, 1 });
  expect_op_error (&u13, "given twice");
  g_clear_pointer (&u13.inputs[1], graft_tensor_free);
  u13.inputs[1] = tensor_i64 (6, (int64_t[]){ 0, 1, 2, 3, 4, 5 });
  expect_op_error (&u13, "at most 8");
  u13.constant_mask = 0;
  expect_op_error (&u13, "axes input must be a constant");
  free_inputs (&u13);

  /* Squeeze: all ones when no axes; named axes must have size 1. */
  OpCall sq = {
    .op_type = "Squeeze", .opset = 13, .n_inputs = 1, .constant_mask = 2
  };
  sq.inputs[0] = tensor_random (shape_of (4, 1, 3, 1, 5));
  g_autoptr (GraftTensor) y3 = run_op_ok (&sq);
  assert_shape (y3, 2, (int64_t[]){ 3, 5 });
  sq.n_inputs = 2;
  sq.inputs[1] = tensor_i64 (1, (int64_t[]){ -2 });
  g_autoptr (GraftTensor) y4 = run_op_ok (&sq);
  assert_shape (y4, 3, (int64_t[]){ 1, 3, 5 });
  g_assert_cmpmem (y4->data, 60, sq.inputs[0]->data, 60);
  g_clear_pointer (&sq.inputs[1], graft_tensor_free);
  sq.inputs[1] = tensor_i64 (1, (int64_t[]){ 1 });
  expect_op_error (&sq, "cannot squeeze axis 1 of size 3");
  free_inputs (&sq);
  int64_t sax[] = { 0 };
  GraftOnnxAttribute sa[] = { attr_ints ("axes", 1, sax) };
  OpCall sq11 = {
    .op_type = "Squeeze", .opset = 11, .attrs = sa, .n_attrs = 1, .n_inputs = 1
  };
  sq11.inputs[0] = tensor_random (shape_of (4, 1, 3, 1, 5));
  g_autoptr (GraftTensor) y5 = run_op_ok (&sq11);
  assert_shape (y5, 3, (int64_t[]){ 3, 1, 5 });
  free_inputs (&sq11);
}

static void
test_gather (void)
{
  float data[12];
  for (int i = 0; i < 12; i++)
    data[i] = (float) i;
  GraftShape s = shape_of (2, 3, 4);

  /* axis 0, 2-D indices with a negative one. */
  OpCall call = {
    .op_type = "Gather", .opset = 13, .n_inputs = 2, .constant_mask = 2
  };
  call.inputs[0] = tensor_floats (s, data);
  call.inputs[1] = tensor_typed (GRAFT_DTYPE_INT64, shape_of (2, 2, 1),
                                 (int64_t[]){ 2, -3 });
  g_autoptr (GraftTensor) y = run_op_ok (&call);
  assert_shape (y, 3, (int64_t[]){ 2, 1, 4 });
  float want0[] = { 8, 9, 10, 11, 0, 1, 2, 3 };
  assert_close (y->data, want0, 8, 0);
  free_inputs (&call);

  /* axis 1, int32 indices. */
  GraftOnnxAttribute a1[] = { attr_int ("axis", 1) };
  OpCall c1 = {
    .op_type = "Gather", .opset = 13, .attrs = a1, .n_attrs = 1, .n_inputs = 2
  };
  c1.inputs[0] = tensor_floats (s, data);
  c1.inputs[1] =
      tensor_typed (GRAFT_DTYPE_INT32, shape_of (1, 2), (int32_t[]){ 3, 0 });
  g_autoptr (GraftTensor) y1 = run_op_ok (&c1);
  assert_shape (y1, 2, (int64_t[]){ 3, 2 });
  float want1[] = { 3, 0, 7, 4, 11, 8 };
  assert_close (y1->data, want1, 6, 0);
  free_inputs (&c1);

  /* Constant out-of-range index: an error; at run time: no read, zeros. */
  call.inputs[0] = tensor_floats (s, data);
  call.inputs[1] = tensor_i64 (2, (int64_t[]){ 1, 3 });
  expect_op_error (&call, "index 3 is out of range for axis 0 of size 3");
  call.constant_mask = 0;
  g_autoptr (GraftTensor) y2 = run_op_ok (&call);
  float want2[] = { 4, 5, 6, 7, 0, 0, 0, 0 };
  assert_close (y2->data, want2, 8, 0);
  free_inputs (&call);
}

static void
test_concat_transpose (void)
{
  float a[] = { 1, 2, 3, 4 }, b[] = { 5, 6, 7, 8, 9, 10 };
  GraftOnnxAttribute ax[] = { attr_int ("axis", -1) };
  OpCall call = {
    .op_type = "Concat", .opset = 13, .attrs = ax, .n_attrs = 1, .n_inputs = 2
  };
  call.inputs[0] = tensor_floats (shape_of (2, 2, 2), a);
  call.inputs[1] = tensor_floats (shape_of (2, 2, 3), b);
  g_autoptr (GraftTensor) y = run_op_ok (&call);
  assert_shape (y, 2, (int64_t[]){ 2, 5 });
  float want[] = { 1, 2, 5, 6, 7, 3, 4, 8, 9, 10 };
  assert_close (y->data, want, 10, 0);
  ax[0].i = 0;
  expect_op_error (&call, "does not fit");
  free_inputs (&call);

  /* int64 Concat on axis 0 (shape vectors). */
  call.inputs[0] = tensor_i64 (1, (int64_t[]){ -1 });
  call.inputs[1] = tensor_i64 (2, (int64_t[]){ 7, 9 });
  g_autoptr (GraftTensor) yi = run_op_ok (&call);
  g_assert_cmpint (((int64_t *) yi->data)[0], ==, -1);
  g_assert_cmpint (((int64_t *) yi->data)[2], ==, 9);
  free_inputs (&call);

  /* Transpose (2,3,4) by (2,0,1) against direct indexing. */
  float x[24];
  for (int i = 0; i < 24; i++)
    x[i] = (float) i;
  int64_t perm[] = { 2, 0, 1 };
  GraftOnnxAttribute pa[] = { attr_ints ("perm", 3, perm) };
  OpCall tr = { .op_type = "Transpose",
                .opset = 13,
                .attrs = pa,
                .n_attrs = 1,
                .n_inputs = 1 };
  tr.inputs[0] = tensor_floats (shape_of (3, 2, 3, 4), x);
  g_autoptr (GraftTensor) t = run_op_ok (&tr);
  assert_shape (t, 3, (int64_t[]){ 4, 2, 3 });
  for (int k = 0; k < 4; k++)
    for (int i = 0; i < 2; i++)
      for (int j = 0; j < 3; j++)
        g_assert_cmpfloat (((float *) t->data)[(k * 2 + i) * 3 + j], ==,
                           x[(i * 3 + j) * 4 + k]);
  /* Default: reversed axes. */
  tr.n_attrs = 0;
  g_autoptr (GraftTensor) t2 = run_op_ok (&tr);
  assert_shape (t2, 3, (int64_t[]){ 4, 3, 2 });
  g_assert_cmpfloat (((float *) t2->data)[1], ==, x[12]);
  perm[1] = 2;
  tr.n_attrs = 1;
  expect_op_error (&tr, "not a permutation");
  free_inputs (&tr);
}

static void
test_misc_shape_ops (void)
{
  /* Shape with start/end, clamped. */
  struct
  {
    int64_t start, end;
    gboolean has_end;
    int n;
    int64_t want[4];
  } sc[] = { { 0, 0, FALSE, 4, { 2, 3, 4, 5 } },
             { 1, -1, TRUE, 2, { 3, 4 } },
             { -10, 10, TRUE, 4, { 2, 3, 4, 5 } },
             { 3, 1, TRUE, 0, { 0 } },
             { -1, 0, FALSE, 1, { 5 } } };
  for (size_t i = 0; i < G_N_ELEMENTS (sc); i++)
    {
      GraftOnnxAttribute a[] = { attr_int ("start", sc[i].start),
                                 attr_int ("end", sc[i].end) };
      OpCall call = { .op_type = "Shape",
                      .opset = 15,
                      .attrs = a,
                      .n_attrs = sc[i].has_end ? 2 : 1,
                      .n_inputs = 1 };
      call.inputs[0] = tensor_random (shape_of (4, 2, 3, 4, 5));
      g_autoptr (GraftTensor) y = run_op_ok (&call);
      g_assert_cmpint (y->dtype, ==, GRAFT_DTYPE_INT64);
      assert_shape (y, 1, (int64_t[]){ sc[i].n });
      g_assert_cmpmem (y->data, sc[i].n * 8, sc[i].want, sc[i].n * 8);
      free_inputs (&call);
    }
  g_assert_true (graft_op_lookup ("Shape")->shape_only);

  /* Cast: float to int truncates, to bool is != 0, to half rounds. */
  float f[] = { 1.7f, -1.7f, 0.0f, 65504.0f, NAN };
  GraftOnnxAttribute to[] = { attr_int ("to", GRAFT_DTYPE_INT32) };
  OpCall cast = {
    .op_type = "Cast", .opset = 13, .attrs = to, .n_attrs = 1, .n_inputs = 1
  };
  cast.inputs[0] = tensor_floats (shape_of (1, 5), f);
  g_autoptr (GraftTensor) ci = run_op_ok (&cast);
  int32_t want_i[] = { 1, -1, 0, 65504, 0 };
  g_assert_cmpmem (ci->data, 20, want_i, 20);
  to[0].i = GRAFT_DTYPE_BOOL;
  g_autoptr (GraftTensor) cb = run_op_ok (&cast);
  g_assert_cmpmem (cb->data, 5, ((uint8_t[]){ 1, 1, 0, 1, 1 }), 5);
  to[0].i = GRAFT_DTYPE_FLOAT16;
  g_autoptr (GraftTensor) ch = run_op_ok (&cast);
  g_assert_cmpint (((uint16_t *) ch->data)[3], ==, 0x7bff);
  to[0].i = 16; /* bfloat16 */
  expect_op_error (&cast, "bfloat16");
  free_inputs (&cast);
  to[0].i = GRAFT_DTYPE_FLOAT;
  cast.inputs[0] = tensor_i64 (2, (int64_t[]){ -3, 1 << 20 });
  g_autoptr (GraftTensor) cf = run_op_ok (&cast);
  assert_close (cf->data, (float[]){ -3, 1 << 20 }, 2, 0);
  free_inputs (&cast);

  /* CastLike takes the type of its second input. */
  OpCall like = { .op_type = "CastLike", .opset = 15, .n_inputs = 2 };
  like.inputs[0] = tensor_floats (shape_of (1, 2), (float[]){ 2.9f, -0.5f });
  like.inputs[1] =
      tensor_typed (GRAFT_DTYPE_UINT8, shape_of (0), (uint8_t[]){ 0 });
  g_autoptr (GraftTensor) cl = run_op_ok (&like);
  g_assert_cmpint (cl->dtype, ==, GRAFT_DTYPE_UINT8);
  g_assert_cmpmem (cl->data, 2, ((uint8_t[]){ 2, 0 }), 2);
  free_inputs (&like);

  /* ConstantOfShape and Constant. */
  g_autoptr (GraftTensor) v =
      tensor_typed (GRAFT_DTYPE_INT32, shape_of (1, 1), (int32_t[]){ 7 });
  GraftOnnxAttribute va[] = { attr_tensor ("value", v) };
  OpCall cos = { .op_type = "ConstantOfShape",
                 .opset = 9,
                 .attrs = va,
                 .n_attrs = 1,
                 .n_inputs = 1,
                 .constant_mask = 1 };
  cos.inputs[0] = tensor_i64 (2, (int64_t[]){ 2, 3 });
  g_autoptr (GraftTensor) co = run_op_ok (&cos);
  assert_shape (co, 2, (int64_t[]){ 2, 3 });
  g_assert_cmpint (((int32_t *) co->data)[5], ==, 7);
  free_inputs (&cos);
  cos.inputs[0] = tensor_i64 (2, (int64_t[]){ 2, -3 });
  expect_op_error (&cos, "negative");
  free_inputs (&cos);

  OpCall cst = {
    .op_type = "Constant", .opset = 13, .attrs = va, .n_attrs = 1
  };
  g_autoptr (GraftTensor) k1 = run_op_ok (&cst);
  g_assert_cmpint (k1->dtype, ==, GRAFT_DTYPE_INT32);
  g_assert_cmpint (((int32_t *) k1->data)[0], ==, 7);
  int64_t iv[] = { 4, 5, 6 };
  GraftOnnxAttribute ints[] = { attr_ints ("value_ints", 3, iv) };
  cst.attrs = ints;
  g_autoptr (GraftTensor) k2 = run_op_ok (&cst);
  assert_shape (k2, 1, (int64_t[]){ 3 });
  g_assert_cmpmem (k2->data, 24, iv, 24);
  GraftOnnxAttribute vf[] = { attr_float ("value_float", 2.5f) };
  cst.attrs = vf;
  g_autoptr (GraftTensor) k3 = run_op_ok (&cst);
  g_assert_cmpint (k3->shape.ndim, ==, 0);
  g_assert_cmpfloat (((float *) k3->data)[0], ==, 2.5f);
  cst.n_attrs = 0;
  expect_op_error (&cst, "no value");

  /* Dropout at inference: identity, mask all true. */
  OpCall dr = {
    .op_type = "Dropout", .opset = 13, .n_inputs = 1, .n_outputs = 2
  };
  dr.inputs[0] = tensor_random (shape_of (2, 3, 4));
  g_autoptr (GError) error = NULL;
  GraftTensor *outs[2] = { NULL };
  g_assert_true (run_op (&dr, outs, &error));
  g_assert_cmpmem (outs[0]->data, 48, dr.inputs[0]->data, 48);
  g_assert_cmpint (outs[1]->dtype, ==, GRAFT_DTYPE_BOOL);
  for (int i = 0; i < 12; i++)
    g_assert_cmpint (((uint8_t *) outs[1]->data)[i], ==, 1);
  graft_tensor_free (outs[0]);
  graft_tensor_free (outs[1]);
  dr.n_inputs = 3;
  dr.n_outputs = 1;
  dr.constant_mask = 4;
  dr.inputs[2] =
      tensor_typed (GRAFT_DTYPE_BOOL, shape_of (0), (uint8_t[]){ 1 });
  expect_op_error (&dr, "training_mode");
  free_inputs (&dr);

  /* Identity keeps any type. */
  OpCall id = { .op_type = "Identity", .opset = 13, .n_inputs = 1 };
  id.inputs[0] = tensor_i64 (3, iv);
  g_autoptr (GraftTensor) ii = run_op_ok (&id);
  g_assert_cmpmem (ii->data, 24, iv, 24);
  free_inputs (&id);
}

/* ---- (De)QuantizeLinear ---- */

static void
test_quantize (void)
{
  /* Per tensor, uint8 with zero point 128 (the ONNX example). */
  uint8_t q[] = { 0, 3, 128, 255 };
  OpCall call = { .op_type = "DequantizeLinear", .opset = 13, .n_inputs = 3 };
  call.inputs[0] = tensor_typed (GRAFT_DTYPE_UINT8, shape_of (1, 4), q);
  call.inputs[1] = tensor_floats (shape_of (0), (float[]){ 2.0f });
  call.inputs[2] =
      tensor_typed (GRAFT_DTYPE_UINT8, shape_of (0), (uint8_t[]){ 128 });
  g_autoptr (GraftTensor) y = run_op_ok (&call);
  float want[] = { -256, -250, 0, 254 };
  g_assert_cmpmem (y->data, 16, want, 16);
  /* A scalar scale with a zero point of shape [1] is still per tensor. */
  g_clear_pointer (&call.inputs[2], graft_tensor_free);
  call.inputs[2] =
      tensor_typed (GRAFT_DTYPE_UINT8, shape_of (1, 1), (uint8_t[]){ 128 });
  g_autoptr (GraftTensor) y1 = run_op_ok (&call);
  g_assert_cmpmem (y1->data, 16, want, 16);
  free_inputs (&call);

  /* Per axis (axis 1), int8 weights of shape (2, 3, 2). */
  int8_t w[] = { -128, 127, 1, -1, 0, 5, 10, -10, 100, -100, 3, 4 };
  float scales[] = { 0.5f, 0.25f, 0.1f };
  int8_t zps[] = { 0, -1, 2 };
  call.inputs[0] = tensor_typed (GRAFT_DTYPE_INT8, shape_of (3, 2, 3, 2), w);
  call.inputs[1] = tensor_floats (shape_of (1, 3), scales);
  call.inputs[2] = tensor_typed (GRAFT_DTYPE_INT8, shape_of (1, 3), zps);
  g_autoptr (GraftTensor) y2 = run_op_ok (&call);
  for (int i = 0; i < 12; i++)
    {
      int c = (i / 2) % 3;
      g_assert_cmpfloat (((float *) y2->data)[i], ==,
                         (float) (w[i] - zps[c]) * scales[c]);
    }
  g_clear_pointer (&call.inputs[1], graft_tensor_free);
  call.inputs[1] = tensor_floats (shape_of (1, 2), scales);
  g_clear_pointer (&call.inputs[2], graft_tensor_free);
  expect_op_error (&call, "scale has 2 values but axis 1 has size 3");
  free_inputs (&call);

  /* int32 bias without zero point. */
  int32_t bias[] = { -100000, 0, 7 };
  call.n_inputs = 2;
  call.inputs[0] = tensor_typed (GRAFT_DTYPE_INT32, shape_of (1, 3), bias);
  call.inputs[1] = tensor_floats (shape_of (0), (float[]){ 0.001f });
  g_autoptr (GraftTensor) y3 = run_op_ok (&call);
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat (((float *) y3->data)[i], ==, (float) bias[i] * 0.001f);
  free_inputs (&call);

  /* QuantizeLinear: half to even, then saturate. */
  float x[] = { 0, 2, 3, 1000, -254, -1000, 5, NAN };
  OpCall qc = { .op_type = "QuantizeLinear", .opset = 13, .n_inputs = 3 };
  qc.inputs[0] = tensor_floats (shape_of (1, 8), x);
  qc.inputs[1] = tensor_floats (shape_of (0), (float[]){ 2.0f });
  qc.inputs[2] =
      tensor_typed (GRAFT_DTYPE_UINT8, shape_of (0), (uint8_t[]){ 128 });
  g_autoptr (GraftTensor) q1 = run_op_ok (&qc);
  g_assert_cmpint (q1->dtype, ==, GRAFT_DTYPE_UINT8);
  uint8_t want_q[] = { 128, 129, 130, 255, 1, 0, 130, 128 };
  g_assert_cmpmem (q1->data, 8, want_q, 8);
  free_inputs (&qc);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (42);

  g_test_add_func ("/dense/binary/broadcast", test_binary_broadcast);
  g_test_add_func ("/dense/binary/op", test_binary_op);
  g_test_add_func ("/dense/binary/int", test_binary_int);
  g_test_add_func ("/dense/activations", test_activations);
  g_test_add_func ("/dense/gemm", test_gemm);
  g_test_add_func ("/dense/matmul", test_matmul);
  g_test_add_func ("/dense/softmax/kernel", test_softmax_kernel);
  g_test_add_func ("/dense/softmax/op", test_softmax_op);
  g_test_add_func ("/dense/shape/reshape", test_reshape);
  g_test_add_func ("/dense/shape/flatten-squeeze", test_flatten_squeeze);
  g_test_add_func ("/dense/shape/gather", test_gather);
  g_test_add_func ("/dense/shape/concat-transpose", test_concat_transpose);
  g_test_add_func ("/dense/shape/misc", test_misc_shape_ops);
  g_test_add_func ("/dense/quantize", test_quantize);

  int ret = g_test_run ();
  g_rand_free (rng);
  return ret;
}
