/* op-quantize.c: DequantizeLinear and QuantizeLinear, per tensor or per
 * axis. The bundled _qdq models keep their weights as int8/uint8 behind
 * DequantizeLinear, which the graph folds at load with this forward. */
#include "graft-error.h"
#include "kernels/elementwise.h"
#include "ops/ops.h"

typedef struct
{
  int64_t axis;
} QuantizeParams;

static gboolean
quantize_prepare (GraftNode *node,
                  const GraftOnnxNode *proto,
                  int64_t opset,
                  GError **error)
{
  QuantizeParams *p = g_new0 (QuantizeParams, 1);
  node->params = p;
  return graft_attr_int (proto, "axis", 1, &p->axis, error);
}

/* The (outer, C, inner) view of x for a scale of the given shape. */
typedef struct
{
  int64_t outer, C, inner;
} QuantLayout;

static gboolean
quant_layout (const QuantizeParams *p,
              const GraftShape *x,
              const GraftShape *scale,
              const GraftShape *zero_point,
              QuantLayout *l,
              GError **error)
{
  int64_t n_scale = graft_shape_numel (scale);
  int axis;

  /* A scalar scale may come with a zero point of shape [1] and back. */
  if (zero_point && !graft_shape_equal (scale, zero_point) &&
      !(n_scale == 1 && graft_shape_numel (zero_point) == 1 &&
        scale->ndim <= 1 && zero_point->ndim <= 1))
    {
      g_autofree char *ss = graft_shape_to_string (scale);
      g_autofree char *zs = graft_shape_to_string (zero_point);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "scale of shape %s and zero point of shape %s differ", ss,
                   zs);
      return FALSE;
    }
  if (scale->ndim == 0 || (scale->ndim == 1 && n_scale == 1))
    {
      l->outer = 1;
      l->C = 1;
      l->inner = graft_shape_numel (x);
      return TRUE;
    }
  if (scale->ndim != 1)
    {
      g_autofree char *ss = graft_shape_to_string (scale);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "scale must be a scalar or 1-D, got shape %s", ss);
      return FALSE;
    }
  if (!graft_normalize_axis (p->axis, x->ndim, &axis, error))
    return FALSE;
  if (x->dims[axis] != n_scale)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "scale has %" G_GINT64_FORMAT " values but axis %d has "
                   "size %" G_GINT64_FORMAT,
                   n_scale, axis, x->dims[axis]);
      return FALSE;
    }
  l->outer = l->inner = 1;
  l->C = n_scale;
  for (int i = 0; i < axis; i++)
    l->outer *= x->dims[i];
  for (int i = axis + 1; i < x->ndim; i++)
    l->inner *= x->dims[i];
  return TRUE;
}

static const GraftValueInfo *
optional_input (const GraftNode *node, const GraftValueInfo *const *in, int i)
{
  return node->n_inputs > i ? in[i] : NULL;
}

static const GraftTensor *
optional_tensor (const GraftNode *node, const GraftTensor *const *in, int i)
{
  return node->n_inputs > i ? in[i] : NULL;
}

/* ---- DequantizeLinear: y = (x - zero_point) * scale ---- */

static gboolean
dequantize_infer (const GraftNode *node,
                  const GraftValueInfo *const *in,
                  GraftValueInfo *const *out,
                  GError **error)
{
  const GraftValueInfo *zp = optional_input (node, in, 2);
  GraftDType t = in[0]->dtype;
  QuantLayout l;

  if (t != GRAFT_DTYPE_UINT8 && t != GRAFT_DTYPE_INT8 && t != GRAFT_DTYPE_INT32)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "x is %s, supported are uint8, int8 and int32",
                   graft_dtype_name (t));
      return FALSE;
    }
  if (in[1]->dtype != GRAFT_DTYPE_FLOAT)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "scale is %s, only float32 is supported",
                   graft_dtype_name (in[1]->dtype));
      return FALSE;
    }
  if (zp && zp->dtype != t)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "zero point is %s but x is %s", graft_dtype_name (zp->dtype),
                   graft_dtype_name (t));
      return FALSE;
    }
  if (!quant_layout (node->params, &in[0]->shape, &in[1]->shape,
                     zp ? &zp->shape : NULL, &l, error))
    return FALSE;
  out[0]->dtype = GRAFT_DTYPE_FLOAT;
  out[0]->shape = in[0]->shape;
  return TRUE;
}

static void
dequantize_forward (const GraftNode *node,
                    const GraftTensor *const *in,
                    GraftTensor *const *out,
                    GraftWorkspace *ws)
{
  const GraftTensor *zp = optional_tensor (node, in, 2);
  QuantLayout l;

  if (!quant_layout (node->params, &in[0]->shape, &in[1]->shape,
                     zp ? &zp->shape : NULL, &l, NULL))
    return;
  graft_dequantize_linear_forward (out[0]->data, in[0]->data, in[0]->dtype,
                                   in[1]->data, zp ? zp->data : NULL, l.outer,
                                   l.C, l.inner);
}

/* ---- QuantizeLinear: y = saturate(round(x / scale) + zero_point) ---- */

static gboolean
quantize_infer (const GraftNode *node,
                const GraftValueInfo *const *in,
                GraftValueInfo *const *out,
                GError **error)
{
  const GraftValueInfo *zp = optional_input (node, in, 2);
  GraftDType t = zp ? zp->dtype : GRAFT_DTYPE_UINT8;
  QuantLayout l;

  if (in[0]->dtype != GRAFT_DTYPE_FLOAT || in[1]->dtype != GRAFT_DTYPE_FLOAT)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "x and scale are %s and %s, only float32 is supported",
                   graft_dtype_name (in[0]->dtype),
                   graft_dtype_name (in[1]->dtype));
      return FALSE;
    }
  if (t != GRAFT_DTYPE_UINT8 && t != GRAFT_DTYPE_INT8)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "zero point is %s, supported are uint8 and int8",
                   graft_dtype_name (t));
      return FALSE;
    }
  if (!quant_layout (node->params, &in[0]->shape, &in[1]->shape,
                     zp ? &zp->shape : NULL, &l, error))
    return FALSE;
  out[0]->dtype = t;
  out[0]->shape = in[0]->shape;
  return TRUE;
}

static void
quantize_forward (const GraftNode *node,
                  const GraftTensor *const *in,
                  GraftTensor *const *out,
                  GraftWorkspace *ws)
{
  const GraftTensor *zp = optional_tensor (node, in, 2);
  QuantLayout l;

  if (!quant_layout (node->params, &in[0]->shape, &in[1]->shape,
                     zp ? &zp->shape : NULL, &l, NULL))
    return;
  graft_quantize_linear_forward (out[0]->data, out[0]->dtype, in[0]->data,
                                 in[1]->data, zp ? zp->data : NULL, l.outer,
                                 l.C, l.inner);
}

extern const GraftOpDef graft_op_dequantize_linear, graft_op_quantize_linear;

const GraftOpDef graft_op_dequantize_linear = {
  .op_type = "DequantizeLinear",
  .min_inputs = 2,
  .max_inputs = 3,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = quantize_prepare,
  .infer = dequantize_infer,
  .forward = dequantize_forward,
};

const GraftOpDef graft_op_quantize_linear = {
  .op_type = "QuantizeLinear",
  .min_inputs = 2,
  .max_inputs = 3,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = quantize_prepare,
  .infer = quantize_infer,
  .forward = quantize_forward,
};
