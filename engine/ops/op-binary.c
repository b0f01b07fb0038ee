/* op-binary.c: Add, Sub, Mul and Div with numpy broadcasting. */
#include "graft-error.h"
#include "kernels/elementwise.h"
#include "ops/ops.h"

typedef struct
{
  GraftBinaryOp op;
  /* Before opset 7, B broadcasts only with broadcast=1, its dims aligned at
   * `axis` of A (-1: aligned at the end, as numpy does). */
  gboolean legacy;
  gboolean legacy_broadcast;
  int64_t legacy_axis;
} BinaryParams;

static gboolean
binary_prepare (GraftNode *node,
                const GraftOnnxNode *proto,
                int64_t opset,
                GraftBinaryOp op,
                GError **error)
{
  BinaryParams *p = g_new0 (BinaryParams, 1);
  int64_t broadcast;

  node->params = p;
  p->op = op;
  p->legacy_axis = -1;
  if (opset >= 7)
    return TRUE;
  p->legacy = TRUE;
  if (!graft_attr_int (proto, "broadcast", 0, &broadcast, error) ||
      !graft_attr_int (proto, "axis", -1, &p->legacy_axis, error))
    return FALSE;
  p->legacy_broadcast = broadcast != 0;
  return TRUE;
}

#define DEFINE_PREPARE(NAME, OP)                                               \
  static gboolean NAME (GraftNode *node, const GraftOnnxNode *proto,           \
                        int64_t opset, GError **error)                         \
  {                                                                            \
    return binary_prepare (node, proto, opset, OP, error);                     \
  }

DEFINE_PREPARE (add_prepare, GRAFT_BINARY_ADD)
DEFINE_PREPARE (sub_prepare, GRAFT_BINARY_SUB)
DEFINE_PREPARE (mul_prepare, GRAFT_BINARY_MUL)
DEFINE_PREPARE (div_prepare, GRAFT_BINARY_DIV)

/* B's shape as numpy broadcasting sees it. Legacy broadcasting with an axis
 * places B's dims at A's axis: trailing ones make numpy agree. */
static gboolean
effective_b_shape (const BinaryParams *p,
                   const GraftShape *a,
                   const GraftShape *b,
                   GraftShape *out,
                   GError **error)
{
  *out = *b;
  if (!p->legacy || !p->legacy_broadcast || p->legacy_axis < 0)
    return TRUE;
  if (p->legacy_axis + b->ndim > a->ndim)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "B of rank %d does not fit at axis %" G_GINT64_FORMAT
                   " of A of rank %d",
                   b->ndim, p->legacy_axis, a->ndim);
      return FALSE;
    }
  out->ndim = a->ndim - (int) p->legacy_axis;
  for (int i = b->ndim; i < out->ndim; i++)
    out->dims[i] = 1;
  return TRUE;
}

static gboolean
binary_infer (const GraftNode *node,
              const GraftValueInfo *const *in,
              GraftValueInfo *const *out,
              GError **error)
{
  const BinaryParams *p = node->params;
  GraftDType t = in[0]->dtype;
  GraftShape b_shape;

  if (in[1]->dtype != t)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "inputs have different types, %s and %s",
                   graft_dtype_name (t), graft_dtype_name (in[1]->dtype));
      return FALSE;
    }
  if (t != GRAFT_DTYPE_FLOAT && t != GRAFT_DTYPE_INT64 &&
      t != GRAFT_DTYPE_INT32 && t != GRAFT_DTYPE_UINT8)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "inputs are %s, supported are float32, int64, int32 and "
                   "uint8",
                   graft_dtype_name (t));
      return FALSE;
    }
  if (!effective_b_shape (p, &in[0]->shape, &in[1]->shape, &b_shape, error))
    return FALSE;
  if (p->legacy && !p->legacy_broadcast &&
      !graft_shape_equal (&in[0]->shape, &in[1]->shape))
    {
      g_autofree char *sa = graft_shape_to_string (&in[0]->shape);
      g_autofree char *sb = graft_shape_to_string (&in[1]->shape);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "shapes %s and %s differ and broadcast is not set", sa, sb);
      return FALSE;
    }
  if (!graft_broadcast_shapes (&in[0]->shape, &b_shape, &out[0]->shape, error))
    return FALSE;
  out[0]->dtype = t;
  return TRUE;
}

static void
binary_forward (const GraftNode *node,
                const GraftTensor *const *in,
                GraftTensor *const *out,
                GraftWorkspace *ws)
{
  const BinaryParams *p = node->params;
  const GraftShape *a_shape = &in[0]->shape, *out_shape = &out[0]->shape;
  GraftShape b_shape;

  /* infer() has accepted this shape already. */
  if (!effective_b_shape (p, a_shape, &in[1]->shape, &b_shape, NULL))
    return;
  switch (in[0]->dtype)
    {
    case GRAFT_DTYPE_FLOAT:
      graft_binary_forward (out[0]->data, in[0]->data, in[1]->data, out_shape,
                            a_shape, &b_shape, p->op);
      break;
    case GRAFT_DTYPE_INT64:
      graft_binary_forward_i64 (out[0]->data, in[0]->data, in[1]->data,
                                out_shape, a_shape, &b_shape, p->op);
      break;
    case GRAFT_DTYPE_INT32:
      graft_binary_forward_i32 (out[0]->data, in[0]->data, in[1]->data,
                                out_shape, a_shape, &b_shape, p->op);
      break;
    case GRAFT_DTYPE_UINT8:
      graft_binary_forward_u8 (out[0]->data, in[0]->data, in[1]->data,
                               out_shape, a_shape, &b_shape, p->op);
      break;
    default:
      break;
    }
}

/* Gradients are float32: integer arithmetic only computes shapes. */
static void
binary_backward (const GraftNode *node,
                 gboolean train,
                 const GraftTensor *const *in,
                 const GraftTensor *const *out,
                 const GraftTensor *const *dout,
                 GraftTensor *const *din,
                 GraftWorkspace *ws)
{
  const BinaryParams *p = node->params;
  GraftShape b_shape;

  if (dout[0] == NULL || (din[0] == NULL && din[1] == NULL))
    return;
  g_return_if_fail (in[0]->dtype == GRAFT_DTYPE_FLOAT);
  if (!effective_b_shape (p, &in[0]->shape, &in[1]->shape, &b_shape, NULL))
    return;
  graft_binary_backward (
      din[0] ? din[0]->data : NULL, din[1] ? din[1]->data : NULL, dout[0]->data,
      in[0]->data, in[1]->data, &out[0]->shape, &in[0]->shape, &b_shape, p->op,
      !graft_din_assign (ws, 0), !graft_din_assign (ws, 1));
}

#define BINARY_DEF(NAME, OP, PREPARE)                                          \
  const GraftOpDef NAME = {                                                    \
    .op_type = OP,                                                             \
    .min_inputs = 2,                                                           \
    .max_inputs = 2,                                                           \
    .min_outputs = 1,                                                          \
    .max_outputs = 1,                                                          \
    .prepare = PREPARE,                                                        \
    .infer = binary_infer,                                                     \
    .forward = binary_forward,                                                 \
    .backward = binary_backward,                                               \
    .overwrites_output = TRUE, /* every dtype's loop assigns each element */   \
    .backward_assigns = TRUE,                                                  \
    .backward_ignores_output = TRUE,                                           \
  }

extern const GraftOpDef graft_op_add, graft_op_sub, graft_op_mul, graft_op_div;

BINARY_DEF (graft_op_add, "Add", add_prepare);
BINARY_DEF (graft_op_sub, "Sub", sub_prepare);
BINARY_DEF (graft_op_mul, "Mul", mul_prepare);
BINARY_DEF (graft_op_div, "Div", div_prepare);
