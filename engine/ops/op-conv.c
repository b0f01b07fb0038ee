/* op-conv.c: ONNX Conv (1-D and 2-D, any group count). */
#include "graft-error.h"
#include "kernels/conv.h"
#include "ops/op-spatial.h"
#include "ops/ops.h"

#include <string.h>

typedef struct
{
  GraftWindowAttrs window;
  int group;
} ConvParams;

static gboolean
conv_prepare (GraftNode *node,
              const GraftOnnxNode *proto,
              int64_t opset,
              GError **error)
{
  ConvParams p;
  int64_t group;

  if (!graft_window_attrs_parse (proto, FALSE, &p.window, error) ||
      !graft_attr_int (proto, "group", 1, &group, error))
    return FALSE;
  if (group < 1 || group > G_MAXINT)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "group must be positive, got %" G_GINT64_FORMAT, group);
      return FALSE;
    }
  p.group = (int) group;
  node->params = g_memdup2 (&p, sizeof p);
  return TRUE;
}

static gboolean
check_float (const char *what, GraftDType dtype, GError **error)
{
  if (dtype == GRAFT_DTYPE_FLOAT)
    return TRUE;
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
               "%s is %s, only float32 is supported", what,
               graft_dtype_name (dtype));
  return FALSE;
}

static gboolean
check_int_dims (const char *what, const GraftShape *s, GError **error)
{
  for (int i = 0; i < s->ndim; i++)
    if (s->dims[i] > G_MAXINT)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                     "%s dim %d (%" G_GINT64_FORMAT ") is too large", what, i,
                     s->dims[i]);
        return FALSE;
      }
  return TRUE;
}

/* The geometry of x (N, C, [H,] W) convolved with w (OC, C/group, [KH,] KW). */
static gboolean
conv_geometry (const ConvParams *p,
               const GraftShape *x,
               const GraftShape *w,
               GraftConvGeometry *g,
               GError **error)
{
  if (x->ndim == 5)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                           "3-D convolution is not supported");
      return FALSE;
    }
  if (x->ndim != 3 && x->ndim != 4)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "input has rank %d, expected 3 (N, C, W) or 4 (N, C, H, W)",
                   x->ndim);
      return FALSE;
    }
  if (w->ndim != x->ndim)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "weight has rank %d but the input has rank %d", w->ndim,
                   x->ndim);
      return FALSE;
    }
  if (!check_int_dims ("input", x, error) ||
      !check_int_dims ("weight", w, error))
    return FALSE;

  int64_t C = x->dims[1], OC = w->dims[0];
  if (C % p->group != 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "group %d does not divide %" G_GINT64_FORMAT
                   " input channels",
                   p->group, C);
      return FALSE;
    }
  if (OC % p->group != 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "group %d does not divide %" G_GINT64_FORMAT
                   " output channels",
                   p->group, OC);
      return FALSE;
    }
  if (w->dims[1] != C / p->group)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "weight has %" G_GINT64_FORMAT
                   " input channels per group, expected %" G_GINT64_FORMAT,
                   w->dims[1], C / p->group);
      return FALSE;
    }

  int n_spatial = x->ndim - 2;
  GraftWindow2d win;
  if (!graft_window_resolve (&p->window, n_spatial, x->dims + 2, w->dims + 2,
                             &win, error))
    return FALSE;

  *g = (GraftConvGeometry){
    .N = (int) x->dims[0],
    .C = (int) C,
    .H = n_spatial == 2 ? (int) x->dims[2] : 1,
    .W = (int) x->dims[x->ndim - 1],
    .OC = (int) OC,
    .OH = win.OH,
    .OW = win.OW,
    .KH = win.KH,
    .KW = win.KW,
    .group = p->group,
    .stride_h = win.stride_h,
    .stride_w = win.stride_w,
    .dilation_h = win.dilation_h,
    .dilation_w = win.dilation_w,
    .pad_top = win.pad_top,
    .pad_left = win.pad_left,
    .pad_bottom = win.pad_bottom,
    .pad_right = win.pad_right,
  };
  return TRUE;
}

static gboolean
conv_infer (const GraftNode *node,
            const GraftValueInfo *const *in,
            GraftValueInfo *const *out,
            GError **error)
{
  const ConvParams *p = node->params;
  const GraftValueInfo *bias = node->n_inputs > 2 ? in[2] : NULL;
  GraftConvGeometry g;

  if (!check_float ("the input", in[0]->dtype, error) ||
      !check_float ("the weight", in[1]->dtype, error) ||
      (bias && !check_float ("the bias", bias->dtype, error)))
    return FALSE;
  if (!conv_geometry (p, &in[0]->shape, &in[1]->shape, &g, error))
    return FALSE;
  if (bias && (bias->shape.ndim != 1 || bias->shape.dims[0] != g.OC))
    {
      g_autofree char *s = graft_shape_to_string (&bias->shape);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "bias has shape %s, expected %d (the output channels)", s,
                   g.OC);
      return FALSE;
    }

  out[0]->dtype = GRAFT_DTYPE_FLOAT;
  out[0]->shape = in[0]->shape;
  out[0]->shape.dims[1] = g.OC;
  if (in[0]->shape.ndim == 4)
    out[0]->shape.dims[2] = g.OH;
  out[0]->shape.dims[in[0]->shape.ndim - 1] = g.OW;
  return TRUE;
}

static void
conv_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  const ConvParams *p = node->params;
  GraftConvGeometry g;

  if (!conv_geometry (p, &in[0]->shape, &in[1]->shape, &g, NULL))
    g_return_if_reached (); /* infer() accepted these shapes */

  size_t n_scratch = graft_conv2d_forward_scratch_floats (&g);
  float *scratch = n_scratch ? graft_workspace_floats (ws, n_scratch) : NULL;
  const GraftTensor *bias = node->n_inputs > 2 ? in[2] : NULL;
  graft_conv2d_forward (out[0]->data, in[0]->data, in[1]->data,
                        bias ? bias->data : NULL, &g, scratch);
}

/* din[0] (X), din[1] (W), din[2] (B) accumulate, or are assigned when
 * ws->assign says so; any may be NULL. */
static void
conv_backward (const GraftNode *node,
               gboolean train,
               const GraftTensor *const *in,
               const GraftTensor *const *out,
               const GraftTensor *const *dout,
               GraftTensor *const *din,
               GraftWorkspace *ws)
{
  const ConvParams *p = node->params;
  GraftConvGeometry g;

  if (!conv_geometry (p, &in[0]->shape, &in[1]->shape, &g, NULL))
    g_return_if_reached (); /* infer() accepted these shapes */

  float *dx = din[0] ? din[0]->data : NULL;
  float *dw = din[1] ? din[1]->data : NULL;
  float *db = node->n_inputs > 2 && in[2] && din[2] ? din[2]->data : NULL;
  size_t n_scratch = graft_conv2d_backward_scratch_floats (&g);
  float *scratch = n_scratch ? graft_workspace_floats (ws, n_scratch) : NULL;
  /* Weight and bias gradients are small: zeroing them costs nothing. */
  if (dw && graft_din_assign (ws, 1))
    memset (dw, 0, graft_tensor_nbytes (din[1]));
  if (db && graft_din_assign (ws, 2))
    memset (db, 0, graft_tensor_nbytes (din[2]));
  if (dx && graft_din_assign (ws, 0))
    graft_conv2d_backward_assign (dx, dw, db, dout[0]->data, in[0]->data,
                                  in[1]->data, &g, scratch);
  else
    graft_conv2d_backward (dx, dw, db, dout[0]->data, in[0]->data, in[1]->data,
                           &g, scratch);
}

extern const GraftOpDef graft_op_conv;
const GraftOpDef graft_op_conv = {
  .op_type = "Conv",
  .min_inputs = 2,
  .max_inputs = 3,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = conv_prepare,
  .infer = conv_infer,
  .forward = conv_forward,
  .backward = conv_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
  /* Every path assigns the bias (or zero) before accumulating taps. */
  .overwrites_output = TRUE,
};
