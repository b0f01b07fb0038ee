/* op-linear.c: Gemm and MatMul. */
#include "graft-error.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "ops/ops.h"

#include <limits.h>

typedef struct
{
  float alpha;
  float beta;
  gboolean trans_a;
  gboolean trans_b;
} GemmParams;

/* BLAS takes int sizes. */
static gboolean
check_blas_dim (int64_t d, GError **error)
{
  if (d <= INT_MAX)
    return TRUE;
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
               "dimension %" G_GINT64_FORMAT " is too large", d);
  return FALSE;
}

static gboolean
check_float (const GraftValueInfo *v, const char *what, GError **error)
{
  if (v->dtype == GRAFT_DTYPE_FLOAT)
    return TRUE;
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
               "%s is %s, only float32 is supported", what,
               graft_dtype_name (v->dtype));
  return FALSE;
}

/* ---- Gemm ---- */

static gboolean
gemm_prepare (GraftNode *node,
              const GraftOnnxNode *proto,
              int64_t opset,
              GError **error)
{
  GemmParams *p = g_new0 (GemmParams, 1);
  int64_t ta, tb;

  node->params = p;
  if (!graft_attr_float (proto, "alpha", 1.0f, &p->alpha, error) ||
      !graft_attr_float (proto, "beta", 1.0f, &p->beta, error) ||
      !graft_attr_int (proto, "transA", 0, &ta, error) ||
      !graft_attr_int (proto, "transB", 0, &tb, error))
    return FALSE;
  p->trans_a = ta != 0;
  p->trans_b = tb != 0;
  return TRUE;
}

/* C as an (M, N) view: the two-dim shape it broadcasts from. */
static GraftShape
gemm_c_shape (const GraftShape *c)
{
  GraftShape s = { .ndim = 2, .dims = { 1, 1 } };
  for (int i = 0; i < c->ndim; i++)
    s.dims[2 - c->ndim + i] = c->dims[i];
  return s;
}

static gboolean
gemm_infer (const GraftNode *node,
            const GraftValueInfo *const *in,
            GraftValueInfo *const *out,
            GError **error)
{
  const GemmParams *p = node->params;
  const GraftValueInfo *c = node->n_inputs > 2 ? in[2] : NULL;
  int64_t M, N, K, K_b;

  if (!check_float (in[0], "A", error) || !check_float (in[1], "B", error) ||
      (c && !check_float (c, "C", error)))
    return FALSE;
  if (in[0]->shape.ndim != 2 || in[1]->shape.ndim != 2)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "A and B must be 2-D, got ranks %d and %d",
                   in[0]->shape.ndim, in[1]->shape.ndim);
      return FALSE;
    }
  M = in[0]->shape.dims[p->trans_a ? 1 : 0];
  K = in[0]->shape.dims[p->trans_a ? 0 : 1];
  K_b = in[1]->shape.dims[p->trans_b ? 1 : 0];
  N = in[1]->shape.dims[p->trans_b ? 0 : 1];
  if (K != K_b)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "inner dimensions %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                   " differ",
                   K, K_b);
      return FALSE;
    }
  if (!check_blas_dim (M, error) || !check_blas_dim (N, error) ||
      !check_blas_dim (K, error))
    return FALSE;
  if (c)
    {
      GraftShape cs = gemm_c_shape (&c->shape);
      if (c->shape.ndim > 2 || (cs.dims[0] != 1 && cs.dims[0] != M) ||
          (cs.dims[1] != 1 && cs.dims[1] != N))
        {
          g_autofree char *s = graft_shape_to_string (&c->shape);
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "C of shape %s does not broadcast to %" G_GINT64_FORMAT
                       "x%" G_GINT64_FORMAT,
                       s, M, N);
          return FALSE;
        }
    }
  out[0]->dtype = GRAFT_DTYPE_FLOAT;
  out[0]->shape = graft_shape_make (2, (int64_t[]){ M, N });
  return TRUE;
}

static void
gemm_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  const GemmParams *p = node->params;
  const GraftTensor *c = node->n_inputs > 2 ? in[2] : NULL;
  int64_t M = out[0]->shape.dims[0], N = out[0]->shape.dims[1];
  int64_t K = in[0]->shape.dims[p->trans_a ? 0 : 1];
  int64_t c_strides[2] = { 0, 0 };

  if (c)
    {
      GraftShape cs = gemm_c_shape (&c->shape);
      graft_broadcast_strides (c_strides, &cs, &out[0]->shape);
    }
  graft_gemm_forward (out[0]->data, in[0]->data, in[1]->data,
                      c ? c->data : NULL, c_strides[0], c_strides[1], M, N, K,
                      p->trans_a, p->trans_b, p->alpha, p->beta);
}

static void
gemm_backward (const GraftNode *node,
               gboolean train,
               const GraftTensor *const *in,
               const GraftTensor *const *out,
               const GraftTensor *const *dout,
               GraftTensor *const *din,
               GraftWorkspace *ws)
{
  const GemmParams *p = node->params;
  const GraftTensor *c = node->n_inputs > 2 ? in[2] : NULL;
  GraftTensor *dc = c ? din[2] : NULL;
  int64_t M = out[0]->shape.dims[0], N = out[0]->shape.dims[1];
  int64_t K = in[0]->shape.dims[p->trans_a ? 0 : 1];
  int64_t c_strides[2] = { 0, 0 };

  if (dout[0] == NULL)
    return;
  if (c)
    {
      GraftShape cs = gemm_c_shape (&c->shape);
      graft_broadcast_strides (c_strides, &cs, &out[0]->shape);
    }
  graft_gemm_backward (din[0] ? din[0]->data : NULL,
                       din[1] ? din[1]->data : NULL, dc ? dc->data : NULL,
                       dout[0]->data, in[0]->data, in[1]->data, c_strides[0],
                       c_strides[1], M, N, K, p->trans_a, p->trans_b, p->alpha,
                       p->beta);
}

/* ---- MatMul (numpy matmul semantics) ---- */

typedef struct
{
  GraftShape batch;
  int64_t a_strides[GRAFT_MAX_DIMS];
  int64_t b_strides[GRAFT_MAX_DIMS];
  int64_t M, K, N;
} MatMulLayout;

/* Promotes 1-D operands to matrices, broadcasts the batch axes and gives
 * each operand's batch strides. */
static gboolean
matmul_layout (const GraftShape *a,
               const GraftShape *b,
               MatMulLayout *l,
               GraftShape *out,
               GError **error)
{
  GraftShape ab = { 0 }, bb = { 0 };
  int64_t K_b;

  if (a->ndim < 1 || b->ndim < 1)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "inputs must have rank 1 or more, got %d and %d", a->ndim,
                   b->ndim);
      return FALSE;
    }
  l->M = a->ndim == 1 ? 1 : a->dims[a->ndim - 2];
  l->K = a->dims[a->ndim - 1];
  K_b = b->ndim == 1 ? b->dims[0] : b->dims[b->ndim - 2];
  l->N = b->ndim == 1 ? 1 : b->dims[b->ndim - 1];
  if (l->K != K_b)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "inner dimensions %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                   " differ",
                   l->K, K_b);
      return FALSE;
    }
  if (!check_blas_dim (l->M, error) || !check_blas_dim (l->N, error) ||
      !check_blas_dim (l->K, error))
    return FALSE;
  ab.ndim = MAX (a->ndim - 2, 0);
  bb.ndim = MAX (b->ndim - 2, 0);
  for (int i = 0; i < ab.ndim; i++)
    ab.dims[i] = a->dims[i];
  for (int i = 0; i < bb.ndim; i++)
    bb.dims[i] = b->dims[i];
  if (!graft_broadcast_shapes (&ab, &bb, &l->batch, error))
    return FALSE;
  /* Batch strides in elements: one batch step of a is M*K elements. */
  graft_broadcast_strides (l->a_strides, &ab, &l->batch);
  graft_broadcast_strides (l->b_strides, &bb, &l->batch);
  for (int i = 0; i < l->batch.ndim; i++)
    {
      l->a_strides[i] *= l->M * l->K;
      l->b_strides[i] *= l->K * l->N;
    }
  *out = l->batch;
  if (a->ndim > 1)
    out->dims[out->ndim++] = l->M;
  if (b->ndim > 1)
    out->dims[out->ndim++] = l->N;
  return TRUE;
}

static gboolean
matmul_infer (const GraftNode *node,
              const GraftValueInfo *const *in,
              GraftValueInfo *const *out,
              GError **error)
{
  MatMulLayout l;

  if (!check_float (in[0], "A", error) || !check_float (in[1], "B", error))
    return FALSE;
  if (!matmul_layout (&in[0]->shape, &in[1]->shape, &l, &out[0]->shape, error))
    return FALSE;
  out[0]->dtype = GRAFT_DTYPE_FLOAT;
  return TRUE;
}

static void
matmul_forward (const GraftNode *node,
                const GraftTensor *const *in,
                GraftTensor *const *out,
                GraftWorkspace *ws)
{
  MatMulLayout l;
  GraftShape out_shape;

  if (!matmul_layout (&in[0]->shape, &in[1]->shape, &l, &out_shape, NULL))
    return;
  graft_matmul_forward (out[0]->data, in[0]->data, in[1]->data, l.batch.ndim,
                        l.batch.dims, l.a_strides, l.b_strides, l.M, l.K, l.N);
}

static void
matmul_backward (const GraftNode *node,
                 gboolean train,
                 const GraftTensor *const *in,
                 const GraftTensor *const *out,
                 const GraftTensor *const *dout,
                 GraftTensor *const *din,
                 GraftWorkspace *ws)
{
  MatMulLayout l;
  GraftShape out_shape;

  if (dout[0] == NULL || (din[0] == NULL && din[1] == NULL))
    return;
  if (!matmul_layout (&in[0]->shape, &in[1]->shape, &l, &out_shape, NULL))
    return;
  graft_matmul_backward (din[0] ? din[0]->data : NULL,
                         din[1] ? din[1]->data : NULL, dout[0]->data,
                         in[0]->data, in[1]->data, l.batch.ndim, l.batch.dims,
                         l.a_strides, l.b_strides, l.M, l.K, l.N);
}

extern const GraftOpDef graft_op_gemm, graft_op_matmul;

const GraftOpDef graft_op_gemm = {
  .op_type = "Gemm",
  .min_inputs = 2,
  .max_inputs = 3,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = gemm_prepare,
  .infer = gemm_infer,
  .forward = gemm_forward,
  .backward = gemm_backward,
};

const GraftOpDef graft_op_matmul = {
  .op_type = "MatMul",
  .min_inputs = 2,
  .max_inputs = 2,
  .min_outputs = 1,
  .max_outputs = 1,
  .infer = matmul_infer,
  .forward = matmul_forward,
  .backward = matmul_backward,
};
