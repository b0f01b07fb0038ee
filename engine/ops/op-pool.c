/* op-pool.c: ONNX MaxPool, AveragePool (1-D and 2-D), GlobalAveragePool
 * and GlobalMaxPool (any rank). */
#include "graft-error.h"
#include "kernels/pool.h"
#include "ops/op-spatial.h"
#include "ops/ops.h"

typedef struct
{
  GraftWindowAttrs window;
  gboolean is_max;
  gboolean count_include_pad;
} PoolParams;

static gboolean
pool_prepare (GraftNode *node,
              const GraftOnnxNode *proto,
              gboolean is_max,
              GError **error)
{
  PoolParams p = { .is_max = is_max };
  int64_t count_include_pad = 0;

  if (!graft_window_attrs_parse (proto, TRUE, &p.window, error))
    return FALSE;
  if (!is_max && !graft_attr_int (proto, "count_include_pad", 0,
                                  &count_include_pad, error))
    return FALSE;
  p.count_include_pad = count_include_pad != 0;
  /* storage_order only shapes the Indices output, which is refused. */
  if (is_max && proto->n_outputs > 1 && proto->outputs[1][0] != '\0')
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                           "the Indices output of MaxPool is not supported");
      return FALSE;
    }
  node->params = g_memdup2 (&p, sizeof p);
  return TRUE;
}

static gboolean
maxpool_prepare (GraftNode *node,
                 const GraftOnnxNode *proto,
                 int64_t opset,
                 GError **error)
{
  return pool_prepare (node, proto, TRUE, error);
}

static gboolean
avgpool_prepare (GraftNode *node,
                 const GraftOnnxNode *proto,
                 int64_t opset,
                 GError **error)
{
  return pool_prepare (node, proto, FALSE, error);
}

/* MaxPool also takes 8-bit integers (opset 12): they pool exactly as
 * floats, so the op converts instead of keeping integer kernels. */
static gboolean
pool_dtype_ok (const PoolParams *p, GraftDType dtype)
{
  return dtype == GRAFT_DTYPE_FLOAT ||
         (p->is_max &&
          (dtype == GRAFT_DTYPE_UINT8 || dtype == GRAFT_DTYPE_INT8));
}

static gboolean
pool_geometry (const PoolParams *p,
               const GraftShape *x,
               GraftPoolGeometry *g,
               GError **error)
{
  if (x->ndim == 5)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                           "3-D pooling is not supported");
      return FALSE;
    }
  if (x->ndim != 3 && x->ndim != 4)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "input has rank %d, expected 3 (N, C, W) or 4 (N, C, H, W)",
                   x->ndim);
      return FALSE;
    }
  for (int i = 0; i < x->ndim; i++)
    if (x->dims[i] > G_MAXINT)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                     "input dim %d (%" G_GINT64_FORMAT ") is too large", i,
                     x->dims[i]);
        return FALSE;
      }

  int n_spatial = x->ndim - 2;
  GraftWindow2d win;
  if (!graft_window_resolve (&p->window, n_spatial, x->dims + 2, NULL, &win,
                             error))
    return FALSE;
  *g = (GraftPoolGeometry){
    .N = (int) x->dims[0],
    .C = (int) x->dims[1],
    .H = n_spatial == 2 ? (int) x->dims[2] : 1,
    .W = (int) x->dims[x->ndim - 1],
    .OH = win.OH,
    .OW = win.OW,
    .KH = win.KH,
    .KW = win.KW,
    .stride_h = win.stride_h,
    .stride_w = win.stride_w,
    .dilation_h = win.dilation_h,
    .dilation_w = win.dilation_w,
    .pad_top = win.pad_top,
    .pad_left = win.pad_left,
    .pad_bottom = win.pad_bottom,
    .pad_right = win.pad_right,
    .count_include_pad = p->count_include_pad,
  };
  return TRUE;
}

static gboolean
pool_infer (const GraftNode *node,
            const GraftValueInfo *const *in,
            GraftValueInfo *const *out,
            GError **error)
{
  const PoolParams *p = node->params;
  GraftPoolGeometry g;

  if (!pool_dtype_ok (p, in[0]->dtype))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "the input is %s, only float32%s is supported",
                   graft_dtype_name (in[0]->dtype),
                   p->is_max ? ", uint8 or int8" : "");
      return FALSE;
    }
  if (!pool_geometry (p, &in[0]->shape, &g, error))
    return FALSE;
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = in[0]->shape;
  if (in[0]->shape.ndim == 4)
    out[0]->shape.dims[2] = g.OH;
  out[0]->shape.dims[in[0]->shape.ndim - 1] = g.OW;
  return TRUE;
}

static void
to_float (float *dst, const GraftTensor *t, size_t n)
{
  for (size_t i = 0; i < n; i++)
    dst[i] = t->dtype == GRAFT_DTYPE_UINT8 ? ((const uint8_t *) t->data)[i]
                                           : ((const int8_t *) t->data)[i];
}

static void
from_float (GraftTensor *t, const float *src, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (t->dtype == GRAFT_DTYPE_UINT8)
      ((uint8_t *) t->data)[i] = (uint8_t) CLAMP (src[i], 0.0f, 255.0f);
    else
      ((int8_t *) t->data)[i] = (int8_t) CLAMP (src[i], -128.0f, 127.0f);
}

static void
pool_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  const PoolParams *p = node->params;
  GraftPoolGeometry g;

  if (!pool_geometry (p, &in[0]->shape, &g, NULL))
    g_return_if_reached (); /* infer() accepted this shape */

  const float *x = in[0]->data;
  float *y = out[0]->data;
  size_t nx = graft_tensor_numel (in[0]), ny = graft_tensor_numel (out[0]);
  gboolean integer = in[0]->dtype != GRAFT_DTYPE_FLOAT;
  if (integer)
    {
      float *buf = graft_workspace_floats (ws, nx + ny + 1);
      to_float (buf, in[0], nx);
      x = buf;
      y = buf + nx;
    }
  if (p->is_max)
    graft_maxpool2d_forward (y, x, &g);
  else
    graft_avgpool2d_forward (y, x, &g);
  if (integer)
    from_float (out[0], y, ny);
}

/* Float inputs only: integer MaxPool has no gradient. */
static void
pool_backward (const GraftNode *node,
               gboolean train,
               const GraftTensor *const *in,
               const GraftTensor *const *out,
               const GraftTensor *const *dout,
               GraftTensor *const *din,
               GraftWorkspace *ws)
{
  const PoolParams *p = node->params;
  GraftPoolGeometry g;

  if (din[0] == NULL)
    return;
  g_return_if_fail (in[0]->dtype == GRAFT_DTYPE_FLOAT);
  if (!pool_geometry (p, &in[0]->shape, &g, NULL))
    g_return_if_reached (); /* infer() accepted this shape */
  if (p->is_max)
    (graft_din_assign (ws, 0) ? graft_maxpool2d_backward_assign
                              : graft_maxpool2d_backward) (
        din[0]->data, dout[0]->data, in[0]->data, &g);
  else
    (graft_din_assign (ws, 0)
         ? graft_avgpool2d_backward_assign
         : graft_avgpool2d_backward) (din[0]->data, dout[0]->data, &g);
}

/* ---- global pools ---- */

static gboolean
global_pool_prepare (GraftNode *node,
                     const GraftOnnxNode *proto,
                     int64_t opset,
                     GError **error)
{
  node->params = NULL; /* no attributes */
  return TRUE;
}

static gboolean
global_pool_infer (const GraftNode *node,
                   const GraftValueInfo *const *in,
                   GraftValueInfo *const *out,
                   GError **error)
{
  const GraftShape *x = &in[0]->shape;

  if (in[0]->dtype != GRAFT_DTYPE_FLOAT)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "the input is %s, only float32 is supported",
                   graft_dtype_name (in[0]->dtype));
      return FALSE;
    }
  if (x->ndim < 3)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "input has rank %d, expected at least 3 (N, C, spatial...)",
                   x->ndim);
      return FALSE;
    }
  if (x->dims[0] > G_MAXINT || x->dims[1] > G_MAXINT)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                           "input batch or channel count is too large");
      return FALSE;
    }
  out[0]->dtype = GRAFT_DTYPE_FLOAT;
  out[0]->shape = *x;
  for (int i = 2; i < x->ndim; i++)
    out[0]->shape.dims[i] = 1;
  return TRUE;
}

static void
global_pool_forward (const GraftTensor *x, GraftTensor *y, gboolean is_max)
{
  int N = (int) x->shape.dims[0], C = (int) x->shape.dims[1];
  size_t S = 1;
  for (int i = 2; i < x->shape.ndim; i++)
    S *= (size_t) x->shape.dims[i];
  if (is_max)
    graft_global_maxpool_forward (y->data, x->data, N, C, S);
  else
    graft_global_avgpool_forward (y->data, x->data, N, C, S);
}

static void
global_avgpool_forward (const GraftNode *node,
                        const GraftTensor *const *in,
                        GraftTensor *const *out,
                        GraftWorkspace *ws)
{
  global_pool_forward (in[0], out[0], FALSE);
}

static void
global_maxpool_forward (const GraftNode *node,
                        const GraftTensor *const *in,
                        GraftTensor *const *out,
                        GraftWorkspace *ws)
{
  global_pool_forward (in[0], out[0], TRUE);
}

static void
global_pool_backward (const GraftNode *node,
                      const GraftTensor *const *in,
                      const GraftTensor *const *dout,
                      GraftTensor *const *din,
                      gboolean is_max,
                      gboolean assign)
{
  const GraftTensor *x = in[0];
  if (din[0] == NULL)
    return;
  int N = (int) x->shape.dims[0], C = (int) x->shape.dims[1];
  size_t S = 1;
  for (int i = 2; i < x->shape.ndim; i++)
    S *= (size_t) x->shape.dims[i];
  if (is_max)
    (assign ? graft_global_maxpool_backward_assign
            : graft_global_maxpool_backward) (din[0]->data, dout[0]->data,
                                              x->data, N, C, S);
  else
    (assign ? graft_global_avgpool_backward_assign
            : graft_global_avgpool_backward) (din[0]->data, dout[0]->data, N, C,
                                              S);
}

static void
global_avgpool_backward (const GraftNode *node,
                         gboolean train,
                         const GraftTensor *const *in,
                         const GraftTensor *const *out,
                         const GraftTensor *const *dout,
                         GraftTensor *const *din,
                         GraftWorkspace *ws)
{
  global_pool_backward (node, in, dout, din, FALSE, graft_din_assign (ws, 0));
}

static void
global_maxpool_backward (const GraftNode *node,
                         gboolean train,
                         const GraftTensor *const *in,
                         const GraftTensor *const *out,
                         const GraftTensor *const *dout,
                         GraftTensor *const *din,
                         GraftWorkspace *ws)
{
  global_pool_backward (node, in, dout, din, TRUE, graft_din_assign (ws, 0));
}

extern const GraftOpDef graft_op_max_pool, graft_op_average_pool,
    graft_op_global_average_pool, graft_op_global_max_pool;

const GraftOpDef graft_op_max_pool = {
  .op_type = "MaxPool",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 2,
  .prepare = maxpool_prepare,
  .infer = pool_infer,
  .forward = pool_forward,
  .backward = pool_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_average_pool = {
  .op_type = "AveragePool",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = avgpool_prepare,
  .infer = pool_infer,
  .forward = pool_forward,
  .backward = pool_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_global_average_pool = {
  .op_type = "GlobalAveragePool",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = global_pool_prepare,
  .infer = global_pool_infer,
  .forward = global_avgpool_forward,
  .backward = global_avgpool_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_global_max_pool = {
  .op_type = "GlobalMaxPool",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = global_pool_prepare,
  .infer = global_pool_infer,
  .forward = global_maxpool_forward,
  .backward = global_maxpool_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};
