/* op-pad.c: ONNX Pad (constant, reflect and edge modes; any rank and
 * element type; negative pads crop). Pads come from the 'pads' attribute
 * before opset 11 and from a constant second input since. */
#include "graft-error.h"
#include "kernels/pad.h"
#include "ops/ops.h"

#include <string.h>

/* Pads beyond this are a broken file; the bound keeps sums in range. */
#define PAD_MAX ((int64_t) G_MAXINT32)

typedef struct
{
  GraftPadMode mode;
  gboolean from_inputs; /* opset >= 11 */
  int n_pads;           /* attribute form */
  int64_t pads[2 * GRAFT_MAX_DIMS];
  float value;
} PadParams;

static gboolean
pad_prepare (GraftNode *node,
             const GraftOnnxNode *proto,
             int64_t opset,
             GError **error)
{
  PadParams p = { .from_inputs = opset >= 11 };
  const char *mode;

  if (!graft_attr_string (proto, "mode", "constant", &mode, error))
    return FALSE;
  if (strcmp (mode, "constant") == 0)
    p.mode = GRAFT_PAD_CONSTANT;
  else if (strcmp (mode, "reflect") == 0)
    p.mode = GRAFT_PAD_REFLECT;
  else if (strcmp (mode, "edge") == 0)
    p.mode = GRAFT_PAD_EDGE;
  else
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "Pad mode '%s' is not supported (constant, reflect, edge "
                   "are)",
                   mode);
      return FALSE;
    }
  if (!p.from_inputs)
    {
      if (!graft_attr_ints (proto, "pads", p.pads, 2 * GRAFT_MAX_DIMS,
                            &p.n_pads, error) ||
          !graft_attr_float (proto, "value", 0.0f, &p.value, error))
        return FALSE;
      if (graft_onnx_node_get_attr (proto, "pads") == NULL)
        {
          g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                               "the 'pads' attribute is required");
          return FALSE;
        }
    }
  node->params = g_memdup2 (&p, sizeof p);
  return TRUE;
}

/* Pads per axis for data of rank `rank`, from the attribute or from the
 * pads and axes tensors (axes may be NULL). */
static gboolean
pad_amounts (const PadParams *p,
             int rank,
             const GraftTensor *pads,
             const GraftTensor *axes,
             int64_t *begin,
             int64_t *end,
             GError **error)
{
  int axis_of[GRAFT_MAX_DIMS];
  int n_axes = rank;

  for (int i = 0; i < rank; i++)
    {
      begin[i] = end[i] = 0;
      axis_of[i] = i;
    }

  if (axes != NULL)
    {
      int64_t n = graft_tensor_numel (axes);
      if (axes->shape.ndim != 1 || graft_dtype_size (axes->dtype) == 0 ||
          axes->dtype == GRAFT_DTYPE_FLOAT ||
          axes->dtype == GRAFT_DTYPE_DOUBLE ||
          axes->dtype == GRAFT_DTYPE_FLOAT16 || n > rank)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "axes must be a list of at most %d integers", rank);
          return FALSE;
        }
      n_axes = (int) n;
      gboolean seen[GRAFT_MAX_DIMS] = { FALSE };
      for (int i = 0; i < n_axes; i++)
        {
          if (!graft_normalize_axis (graft_tensor_get_int (axes, i), rank,
                                     &axis_of[i], error))
            return FALSE;
          if (seen[axis_of[i]])
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "axis %d is listed twice in axes", axis_of[i]);
              return FALSE;
            }
          seen[axis_of[i]] = TRUE;
        }
    }

  int64_t n_pads;
  if (p->from_inputs)
    {
      if (pads->shape.ndim != 1 || graft_dtype_size (pads->dtype) == 0 ||
          pads->dtype == GRAFT_DTYPE_FLOAT ||
          pads->dtype == GRAFT_DTYPE_DOUBLE ||
          pads->dtype == GRAFT_DTYPE_FLOAT16)
        {
          g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                               "pads must be a 1-D integer tensor");
          return FALSE;
        }
      n_pads = graft_tensor_numel (pads);
    }
  else
    n_pads = p->n_pads;

  if (n_pads != 2 * n_axes)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "pads has %" G_GINT64_FORMAT
                   " values, expected %d (2 per padded axis)",
                   n_pads, 2 * n_axes);
      return FALSE;
    }
  for (int i = 0; i < n_axes; i++)
    {
      int64_t b = p->from_inputs ? graft_tensor_get_int (pads, i) : p->pads[i];
      int64_t e = p->from_inputs ? graft_tensor_get_int (pads, n_axes + i)
                                 : p->pads[n_axes + i];
      if (b > PAD_MAX || b < -PAD_MAX || e > PAD_MAX || e < -PAD_MAX)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                       "pads for axis %d are too large", axis_of[i]);
          return FALSE;
        }
      begin[axis_of[i]] = b;
      end[axis_of[i]] = e;
    }
  return TRUE;
}

static gboolean
pad_infer (const GraftNode *node,
           const GraftValueInfo *const *in,
           GraftValueInfo *const *out,
           GError **error)
{
  const PadParams *p = node->params;
  const GraftShape *x = &in[0]->shape;
  int64_t begin[GRAFT_MAX_DIMS], end[GRAFT_MAX_DIMS];
  const GraftTensor *pads = NULL, *axes = NULL;

  if (graft_dtype_size (in[0]->dtype) == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "Pad of %s tensors is not supported",
                   graft_dtype_name (in[0]->dtype));
      return FALSE;
    }
  if (p->from_inputs)
    {
      if (node->n_inputs < 2 || in[1] == NULL)
        {
          g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                               "the pads input is missing");
          return FALSE;
        }
      if (in[1]->constant == NULL)
        {
          g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                               "pads must be a constant (computed pads are "
                               "not supported)");
          return FALSE;
        }
      pads = in[1]->constant;
      if (node->n_inputs > 2 && in[2] != NULL)
        {
          if (in[2]->dtype != in[0]->dtype)
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "constant_value is %s but the data is %s",
                           graft_dtype_name (in[2]->dtype),
                           graft_dtype_name (in[0]->dtype));
              return FALSE;
            }
          if (graft_shape_numel (&in[2]->shape) > 1)
            {
              g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                                   "constant_value must be a scalar");
              return FALSE;
            }
        }
      if (node->n_inputs > 3 && in[3] != NULL)
        {
          if (in[3]->constant == NULL)
            {
              g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                                   "axes must be a constant");
              return FALSE;
            }
          axes = in[3]->constant;
        }
    }
  if (!pad_amounts (p, x->ndim, pads, axes, begin, end, error))
    return FALSE;

  out[0]->dtype = in[0]->dtype;
  out[0]->shape = *x;
  for (int i = 0; i < x->ndim; i++)
    {
      int64_t d = x->dims[i] + begin[i] + end[i];
      if (d < 0)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "pads %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT
                       " crop axis %d of size %" G_GINT64_FORMAT " below zero",
                       begin[i], end[i], i, x->dims[i]);
          return FALSE;
        }
      if (p->mode != GRAFT_PAD_CONSTANT && x->dims[i] == 0 && d > 0)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "cannot %s-pad axis %d of size 0",
                       p->mode == GRAFT_PAD_EDGE ? "edge" : "reflect", i);
          return FALSE;
        }
      out[0]->shape.dims[i] = d;
    }
  return TRUE;
}

/* value converted to one element of dtype. */
static void
write_element (void *dst, GraftDType dtype, double v)
{
  switch (dtype)
    {
    case GRAFT_DTYPE_FLOAT:
      *(float *) dst = (float) v;
      break;
    case GRAFT_DTYPE_DOUBLE:
      *(double *) dst = v;
      break;
    case GRAFT_DTYPE_FLOAT16:
      *(uint16_t *) dst = graft_float_to_half ((float) v);
      break;
    case GRAFT_DTYPE_UINT8:
      *(uint8_t *) dst = (uint8_t) CLAMP (v, 0, G_MAXUINT8);
      break;
    case GRAFT_DTYPE_INT8:
      *(int8_t *) dst = (int8_t) CLAMP (v, G_MININT8, G_MAXINT8);
      break;
    case GRAFT_DTYPE_UINT16:
      *(uint16_t *) dst = (uint16_t) CLAMP (v, 0, G_MAXUINT16);
      break;
    case GRAFT_DTYPE_INT16:
      *(int16_t *) dst = (int16_t) CLAMP (v, G_MININT16, G_MAXINT16);
      break;
    case GRAFT_DTYPE_INT32:
      *(int32_t *) dst = (int32_t) CLAMP (v, G_MININT32, G_MAXINT32);
      break;
    case GRAFT_DTYPE_UINT32:
      *(uint32_t *) dst = (uint32_t) CLAMP (v, 0, G_MAXUINT32);
      break;
    case GRAFT_DTYPE_INT64:
      *(int64_t *) dst = (int64_t) CLAMP (v, -9.2e18, 9.2e18);
      break;
    case GRAFT_DTYPE_UINT64:
      *(uint64_t *) dst = (uint64_t) CLAMP (v, 0, 1.8e19);
      break;
    case GRAFT_DTYPE_BOOL:
      *(uint8_t *) dst = v != 0.0;
      break;
    default:
      break;
    }
}

static void
pad_forward (const GraftNode *node,
             const GraftTensor *const *in,
             GraftTensor *const *out,
             GraftWorkspace *ws)
{
  const PadParams *p = node->params;
  const GraftTensor *x = in[0];
  int64_t begin[GRAFT_MAX_DIMS], end[GRAFT_MAX_DIMS];
  size_t elem = graft_dtype_size (x->dtype);
  guint64 fill_storage[2] = { 0, 0 }; /* one element of any type */

  if (p->from_inputs)
    {
      const GraftTensor *value = node->n_inputs > 2 ? in[2] : NULL;
      if (value != NULL && graft_tensor_numel (value) >= 1)
        memcpy (fill_storage, value->data, elem);
    }
  else
    write_element (fill_storage, x->dtype, p->value);

  if (!pad_amounts (p, x->shape.ndim, p->from_inputs ? in[1] : NULL,
                    node->n_inputs > 3 ? in[3] : NULL, begin, end, NULL))
    g_return_if_reached (); /* infer() accepted these pads */

  if (x->shape.ndim == 0)
    {
      memcpy (out[0]->data, x->data, elem);
      return;
    }
  graft_pad_forward (out[0]->data, x->data, elem, fill_storage, p->mode,
                     x->shape.ndim, x->shape.dims, begin, out[0]->shape.dims);
}

/* Float data: din[0] gets the copied positions' gradient, and a float
 * constant_value input (din[2]) the filled positions' sum. */
static void
pad_backward (const GraftNode *node,
              gboolean train,
              const GraftTensor *const *in,
              const GraftTensor *const *out,
              const GraftTensor *const *dout,
              GraftTensor *const *din,
              GraftWorkspace *ws)
{
  const PadParams *p = node->params;
  const GraftTensor *x = in[0];
  int64_t begin[GRAFT_MAX_DIMS], end[GRAFT_MAX_DIMS];
  float *dvalue = NULL;

  g_return_if_fail (x->dtype == GRAFT_DTYPE_FLOAT);
  if (p->from_inputs && p->mode == GRAFT_PAD_CONSTANT && node->n_inputs > 2 &&
      in[2] != NULL && din[2] != NULL && graft_tensor_numel (din[2]) >= 1)
    dvalue = din[2]->data;
  if (din[0] == NULL && dvalue == NULL)
    return;
  if (!pad_amounts (p, x->shape.ndim, p->from_inputs ? in[1] : NULL,
                    node->n_inputs > 3 ? in[3] : NULL, begin, end, NULL))
    g_return_if_reached (); /* infer() accepted these pads */

  if (x->shape.ndim == 0)
    {
      if (din[0])
        ((float *) din[0]->data)[0] += ((const float *) dout[0]->data)[0];
      return;
    }
  double dfill = 0.0;
  graft_pad_backward (din[0] ? din[0]->data : NULL, dvalue ? &dfill : NULL,
                      dout[0]->data, p->mode, x->shape.ndim, x->shape.dims,
                      begin, out[0]->shape.dims);
  if (dvalue)
    dvalue[0] += (float) dfill;
}

extern const GraftOpDef graft_op_pad;
const GraftOpDef graft_op_pad = {
  .op_type = "Pad",
  .min_inputs = 1,
  .max_inputs = 4,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = pad_prepare,
  .infer = pad_infer,
  .forward = pad_forward,
  .backward = pad_backward,
};
