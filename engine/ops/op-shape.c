/* op-shape.c: ops that move or relabel data without arithmetic: Flatten,
 * Reshape, Identity, Dropout, Concat, Constant, Shape, Gather, Unsqueeze,
 * Squeeze, Cast, CastLike, ConstantOfShape and Transpose.
 *
 * They work on any element type by copying graft_dtype_size() bytes.
 * Everything a forward() indexes with is checked in infer(), so hostile
 * shapes never make it read or write out of bounds.
 *
 * Backward passes (Flatten, Reshape, Identity, Squeeze, Unsqueeze, Dropout,
 * Concat, Transpose) move float32 gradients the way the forward moved the
 * values, adding into din. */
#include "graft-error.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>

typedef struct
{
  int64_t opset;
  int64_t axis;
  int64_t start, end;
  gboolean has_end;
  gboolean allowzero;
  /* axes (Squeeze/Unsqueeze before 13), perm (Transpose) or shape
   * (Reshape before 5) given as an attribute */
  gboolean list_from_attr;
  int n_list;
  int64_t list[GRAFT_MAX_DIMS];
  GraftDType to; /* Cast */
  float ratio;   /* Dropout before opset 12 */
} ShapeParams;

static double get_floating (const GraftTensor *t, int64_t i);
static gboolean dtype_is_floating (GraftDType t);

static ShapeParams *
params_new (GraftNode *node, int64_t opset)
{
  ShapeParams *p = g_new0 (ShapeParams, 1);
  p->opset = opset;
  node->params = p;
  return p;
}

static const GraftValueInfo *
optional_input (const GraftNode *node, const GraftValueInfo *const *in, int i)
{
  return node->n_inputs > i ? in[i] : NULL;
}

static gboolean
check_storable (GraftDType t, const char *what, GError **error)
{
  if (graft_dtype_size (t) > 0)
    return TRUE;
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
               "%s has element type %s (%d), which is not supported", what,
               graft_dtype_name (t), (int) t);
  return FALSE;
}

/* The values of a constant 1-D integer input (shape, axes). */
static gboolean
constant_ints (const GraftValueInfo *v,
               const char *what,
               int64_t *out,
               int max_n,
               int *n,
               GError **error)
{
  const GraftTensor *t = v ? v->constant : NULL;
  int64_t numel;

  if (v == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s input is missing", what);
      return FALSE;
    }
  if (t == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s input must be a constant", what);
      return FALSE;
    }
  if (t->dtype != GRAFT_DTYPE_INT64 && t->dtype != GRAFT_DTYPE_INT32)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s input is %s, expected int64", what,
                   graft_dtype_name (t->dtype));
      return FALSE;
    }
  if (t->shape.ndim > 1)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s input must be 1-D, got rank %d", what, t->shape.ndim);
      return FALSE;
    }
  numel = graft_tensor_numel (t);
  if (numel > max_n)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s input has %" G_GINT64_FORMAT
                   " values, at most %d are supported",
                   what, numel, max_n);
      return FALSE;
    }
  for (int64_t i = 0; i < numel; i++)
    out[i] = graft_tensor_get_int (t, i);
  *n = (int) numel;
  return TRUE;
}

static gboolean
infer_same (const GraftValueInfo *x, GraftValueInfo *y, GError **error)
{
  if (!check_storable (x->dtype, "input", error))
    return FALSE;
  y->dtype = x->dtype;
  y->shape = x->shape;
  return TRUE;
}

/* Shared forward of every op whose output holds the input's bytes. */
static void
copy_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  size_t n = graft_tensor_nbytes (out[0]);
  if (n)
    memcpy (out[0]->data, in[0]->data, n);
}

/* Backward of every copy_forward op: the gradient passes straight through. */
static void
copy_backward (const GraftNode *node,
               gboolean train,
               const GraftTensor *const *in,
               const GraftTensor *const *out,
               const GraftTensor *const *dout,
               GraftTensor *const *din,
               GraftWorkspace *ws)
{
  int64_t n;
  const float *g;
  float *d;

  if (dout[0] == NULL || din[0] == NULL)
    return;
  n = graft_tensor_numel (dout[0]);
  g_return_if_fail (dout[0]->dtype == GRAFT_DTYPE_FLOAT &&
                    din[0]->dtype == GRAFT_DTYPE_FLOAT &&
                    graft_tensor_numel (din[0]) == n);
  // din (n), dout (n): the same elements under another shape
  g = dout[0]->data;
  d = din[0]->data;
  if (graft_din_assign (ws, 0))
    {
      if (n)
        memcpy (d, g, sizeof (float) * n);
      return;
    }
  for (int64_t i = 0; i < n; i++)
    d[i] += g[i];
}

/* ---- Identity ---- */

static gboolean
identity_infer (const GraftNode *node,
                const GraftValueInfo *const *in,
                GraftValueInfo *const *out,
                GError **error)
{
  return infer_same (in[0], out[0], error);
}

/* ---- Flatten: (d0..d[axis-1], d[axis]..) -> 2-D ---- */

static gboolean
axis_prepare (GraftNode *node,
              const GraftOnnxNode *proto,
              int64_t opset,
              int64_t default_axis,
              GError **error)
{
  ShapeParams *p = params_new (node, opset);
  return graft_attr_int (proto, "axis", default_axis, &p->axis, error);
}

static gboolean
flatten_prepare (GraftNode *node,
                 const GraftOnnxNode *proto,
                 int64_t opset,
                 GError **error)
{
  return axis_prepare (node, proto, opset, 1, error);
}

static gboolean
flatten_infer (const GraftNode *node,
               const GraftValueInfo *const *in,
               GraftValueInfo *const *out,
               GError **error)
{
  const ShapeParams *p = node->params;
  const GraftShape *s = &in[0]->shape;
  int64_t axis = p->axis < 0 ? p->axis + s->ndim : p->axis;
  int64_t rows = 1, cols = 1;

  if (!check_storable (in[0]->dtype, "input", error))
    return FALSE;
  /* Flatten's axis may equal the rank (everything in the rows). */
  if (axis < 0 || axis > s->ndim)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "axis %" G_GINT64_FORMAT " is out of range for rank %d",
                   p->axis, s->ndim);
      return FALSE;
    }
  for (int i = 0; i < s->ndim; i++)
    {
      if (i < axis)
        rows *= s->dims[i];
      else
        cols *= s->dims[i];
    }
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = graft_shape_make (2, (int64_t[]){ rows, cols });
  return TRUE;
}

/* ---- Reshape ---- */

static gboolean
reshape_prepare (GraftNode *node,
                 const GraftOnnxNode *proto,
                 int64_t opset,
                 GError **error)
{
  ShapeParams *p = params_new (node, opset);
  int64_t allowzero;

  if (!graft_attr_int (proto, "allowzero", 0, &allowzero, error))
    return FALSE;
  p->allowzero = allowzero != 0;
  /* Before opset 5 the target shape is an attribute. */
  if (opset < 5)
    {
      p->list_from_attr = TRUE;
      return graft_attr_ints (proto, "shape", p->list, GRAFT_MAX_DIMS,
                              &p->n_list, error);
    }
  return TRUE;
}

static gboolean
reshape_error (const GraftShape *from,
               const int64_t *req,
               int n,
               GError **error)
{
  GraftShape to = graft_shape_make (n, req);
  g_autofree char *fs = graft_shape_to_string (from);
  g_autofree char *ts = graft_shape_to_string (&to);
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
               "cannot reshape %s (%" G_GINT64_FORMAT " values) to %s", fs,
               graft_shape_numel (from), ts);
  return FALSE;
}

static gboolean
reshape_infer (const GraftNode *node,
               const GraftValueInfo *const *in,
               GraftValueInfo *const *out,
               GError **error)
{
  const ShapeParams *p = node->params;
  const GraftShape *from = &in[0]->shape;
  int64_t req[GRAFT_MAX_DIMS];
  int n, infer_at = -1;
  int64_t known = 1, numel = graft_shape_numel (from);
  GraftShape to;

  if (!check_storable (in[0]->dtype, "input", error))
    return FALSE;
  if (p->list_from_attr)
    {
      n = p->n_list;
      memcpy (req, p->list, sizeof req);
    }
  else if (!constant_ints (optional_input (node, in, 1), "shape", req,
                           GRAFT_MAX_DIMS, &n, error))
    return FALSE;
  to.ndim = n;
  for (int i = 0; i < n; i++)
    {
      int64_t d = req[i];
      if (d == 0 && !p->allowzero)
        {
          if (i >= from->ndim)
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "shape value 0 at position %d copies a dimension "
                           "the rank %d input does not have",
                           i, from->ndim);
              return FALSE;
            }
          d = from->dims[i];
        }
      if (d == -1)
        {
          if (infer_at >= 0)
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "shape has more than one -1");
              return FALSE;
            }
          infer_at = i;
          to.dims[i] = 1;
          continue;
        }
      if (d < 0)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "shape value %" G_GINT64_FORMAT " is invalid", d);
          return FALSE;
        }
      if (d != 0 && known > G_MAXINT64 / d)
        return reshape_error (from, req, n, error);
      known *= d;
      to.dims[i] = d;
    }
  if (infer_at >= 0)
    {
      if (known == 0 || numel % known != 0)
        return reshape_error (from, req, n, error);
      to.dims[infer_at] = numel / known;
    }
  else if (known != numel)
    return reshape_error (from, req, n, error);
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = to;
  return TRUE;
}

/* ---- Dropout: the identity at inference ----
 * Opset 12 moved ratio to an input and added training_mode; the optional
 * mask output is bool from opset 10, the input's type before.
 *
 * In training (forward_train) element i is kept iff
 * graft_random_uniform (ws->seed, ws->step, node->id, i) >= ratio, and kept
 * elements are scaled by 1 / (1 - ratio). The trainer decides the mode, so
 * the training_mode input is not consulted. Backward draws the same numbers
 * again instead of storing the mask: it must run with the ws->seed and
 * ws->step of its forward_train (before the trainer advances the step). */

static gboolean
dropout_prepare (GraftNode *node,
                 const GraftOnnxNode *proto,
                 int64_t opset,
                 GError **error)
{
  ShapeParams *p = params_new (node, opset);
  p->ratio = 0.5f;
  return opset >= 12 ||
         graft_attr_float (proto, "ratio", 0.5f, &p->ratio, error);
}

/* The attribute before opset 12, then the optional ratio input (default
 * 0.5), clamped to [0, 1]: 1 drops everything, as torch's p = 1 does. */
static float
dropout_ratio (const GraftNode *node, const GraftTensor *const *in)
{
  const ShapeParams *p = node->params;
  const GraftTensor *r = p->opset >= 12 && node->n_inputs > 1 ? in[1] : NULL;
  float ratio = p->opset >= 12 ? 0.5f : p->ratio;

  if (r && dtype_is_floating (r->dtype) && graft_tensor_numel (r) > 0)
    ratio = (float) get_floating (r, 0);
  if (!(ratio > 0.0f)) /* NaN too */
    return 0.0f;
  return MIN (ratio, 1.0f);
}

static inline gboolean
dropout_keeps (const GraftNode *node,
               const GraftWorkspace *ws,
               float ratio,
               int64_t i)
{
  return graft_random_uniform (ws->seed, ws->step, (guint64) node->id,
                               (guint64) i) >= ratio;
}

static gboolean
dropout_infer (const GraftNode *node,
               const GraftValueInfo *const *in,
               GraftValueInfo *const *out,
               GError **error)
{
  const ShapeParams *p = node->params;
  const GraftValueInfo *training = optional_input (node, in, 2);
  GraftDType t = in[0]->dtype;

  if (t != GRAFT_DTYPE_FLOAT && t != GRAFT_DTYPE_DOUBLE &&
      t != GRAFT_DTYPE_FLOAT16)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "input is %s, expected a floating-point type",
                   graft_dtype_name (t));
      return FALSE;
    }
  if (training && training->constant &&
      graft_tensor_numel (training->constant) > 0 &&
      graft_tensor_get_int (training->constant, 0) != 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "training_mode = true is not supported");
      return FALSE;
    }
  out[0]->dtype = t;
  out[0]->shape = in[0]->shape;
  if (node->n_outputs > 1)
    {
      out[1]->dtype = p->opset >= 10 ? GRAFT_DTYPE_BOOL : t;
      out[1]->shape = in[0]->shape;
    }
  return TRUE;
}

static void
dropout_forward (const GraftNode *node,
                 const GraftTensor *const *in,
                 GraftTensor *const *out,
                 GraftWorkspace *ws)
{
  int64_t n = graft_tensor_numel (in[0]);

  copy_forward (node, in, out, ws);
  if (node->n_outputs < 2)
    return;
  /* Nothing is dropped: the mask keeps every element. */
  for (int64_t i = 0; i < n; i++)
    switch (out[1]->dtype)
      {
      case GRAFT_DTYPE_FLOAT:
        ((float *) out[1]->data)[i] = 1.0f;
        break;
      case GRAFT_DTYPE_DOUBLE:
        ((double *) out[1]->data)[i] = 1.0;
        break;
      case GRAFT_DTYPE_FLOAT16:
        ((uint16_t *) out[1]->data)[i] = graft_float_to_half (1.0f);
        break;
      default:
        ((uint8_t *) out[1]->data)[i] = 1;
        break;
      }
}

static void
dropout_forward_train (const GraftNode *node,
                       GraftTensor *const *in,
                       GraftTensor *const *out,
                       GraftWorkspace *ws)
{
  float ratio = dropout_ratio (node, (const GraftTensor *const *) in);
  float scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
  int64_t n = graft_tensor_numel (in[0]);
  GraftTensor *mask = node->n_outputs > 1 ? out[1] : NULL;
  const float *x = in[0]->data;
  float *y = out[0]->data;

  g_return_if_fail (in[0]->dtype == GRAFT_DTYPE_FLOAT);
  // y (n), x (n), mask (n): bool, or float before opset 10
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; i++)
    {
      gboolean keep = dropout_keeps (node, ws, ratio, i);
      y[i] = keep ? x[i] * scale : 0.0f;
      if (mask && mask->dtype == GRAFT_DTYPE_FLOAT)
        ((float *) mask->data)[i] = keep ? 1.0f : 0.0f;
      else if (mask)
        ((uint8_t *) mask->data)[i] = keep;
    }
}

/* The mask output carries no gradient. */
static void
dropout_backward (const GraftNode *node,
                  gboolean train,
                  const GraftTensor *const *in,
                  const GraftTensor *const *out,
                  const GraftTensor *const *dout,
                  GraftTensor *const *din,
                  GraftWorkspace *ws)
{
  float ratio, scale;
  int64_t n;
  const float *g;
  float *d;

  if (!train)
    {
      copy_backward (node, train, in, out, dout, din, ws);
      return;
    }
  if (dout[0] == NULL || din[0] == NULL)
    return;
  g_return_if_fail (in[0]->dtype == GRAFT_DTYPE_FLOAT);
  ratio = dropout_ratio (node, in);
  scale = ratio < 1.0f ? 1.0f / (1.0f - ratio) : 0.0f;
  n = graft_tensor_numel (in[0]);
  g = dout[0]->data;
  d = din[0]->data;
  // din (n), dout (n)
  if (graft_din_assign (ws, 0))
    {
#pragma omp parallel for if (n > 65536)
      for (int64_t i = 0; i < n; i++)
        d[i] = dropout_keeps (node, ws, ratio, i) ? g[i] * scale : 0.0f;
      return;
    }
#pragma omp parallel for if (n > 65536)
  for (int64_t i = 0; i < n; i++)
    if (dropout_keeps (node, ws, ratio, i))
      d[i] += g[i] * scale;
}

/* ---- Concat ---- */

static gboolean
concat_prepare (GraftNode *node,
                const GraftOnnxNode *proto,
                int64_t opset,
                GError **error)
{
  ShapeParams *p = params_new (node, opset);
  if (graft_onnx_node_get_attr (proto, "axis") == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "attribute 'axis' is missing");
      return FALSE;
    }
  return graft_attr_int (proto, "axis", 0, &p->axis, error);
}

static gboolean
concat_infer (const GraftNode *node,
              const GraftValueInfo *const *in,
              GraftValueInfo *const *out,
              GError **error)
{
  const ShapeParams *p = node->params;
  GraftShape s;
  int axis;

  for (int i = 0; i < node->n_inputs; i++)
    if (in[i] == NULL)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                     "input %d is missing", i);
        return FALSE;
      }
  if (!check_storable (in[0]->dtype, "input", error) ||
      !graft_normalize_axis (p->axis, in[0]->shape.ndim, &axis, error))
    return FALSE;
  s = in[0]->shape;
  for (int i = 1; i < node->n_inputs; i++)
    {
      const GraftShape *si = &in[i]->shape;
      gboolean fits = in[i]->dtype == in[0]->dtype && si->ndim == s.ndim;
      for (int d = 0; fits && d < s.ndim; d++)
        fits = d == axis || si->dims[d] == s.dims[d];
      if (!fits)
        {
          g_autofree char *s0 = graft_shape_to_string (&in[0]->shape);
          g_autofree char *s1 = graft_shape_to_string (si);
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "input %d (%s %s) does not fit input 0 (%s %s) on "
                       "axis %d",
                       i, graft_dtype_name (in[i]->dtype), s1,
                       graft_dtype_name (in[0]->dtype), s0, axis);
          return FALSE;
        }
      if (s.dims[axis] > G_MAXINT64 - si->dims[axis])
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                       "concatenated axis is too long");
          return FALSE;
        }
      s.dims[axis] += si->dims[axis];
    }
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = s;
  return TRUE;
}

static void
concat_forward (const GraftNode *node,
                const GraftTensor *const *in,
                GraftTensor *const *out,
                GraftWorkspace *ws)
{
  const ShapeParams *p = node->params;
  size_t esize = graft_dtype_size (out[0]->dtype);
  int axis;
  int64_t outer = 1;
  guint8 *dst = out[0]->data;

  if (!graft_normalize_axis (p->axis, out[0]->shape.ndim, &axis, NULL))
    return;
  for (int d = 0; d < axis; d++)
    outer *= out[0]->shape.dims[d];
  // out (outer, sum of the inputs' chunks), each input (outer, chunk)
  for (int64_t o = 0; o < outer; o++)
    for (int i = 0; i < node->n_inputs; i++)
      {
        size_t chunk = esize;
        for (int d = axis; d < in[i]->shape.ndim; d++)
          chunk *= (size_t) in[i]->shape.dims[d];
        if (chunk)
          memcpy (dst, (const guint8 *) in[i]->data + o * chunk, chunk);
        dst += chunk;
      }
}

/* Splits the gradient back into the inputs' chunks. */
static void
concat_backward (const GraftNode *node,
                 gboolean train,
                 const GraftTensor *const *in,
                 const GraftTensor *const *out,
                 const GraftTensor *const *dout,
                 GraftTensor *const *din,
                 GraftWorkspace *ws)
{
  const ShapeParams *p = node->params;
  int axis;
  int64_t outer = 1;
  const float *src;

  if (dout[0] == NULL)
    return;
  g_return_if_fail (dout[0]->dtype == GRAFT_DTYPE_FLOAT);
  if (!graft_normalize_axis (p->axis, dout[0]->shape.ndim, &axis, NULL))
    return;
  for (int d = 0; d < axis; d++)
    outer *= dout[0]->shape.dims[d];
  // dout (outer, sum of the inputs' chunks), each din (outer, chunk)
  src = dout[0]->data;
  for (int64_t o = 0; o < outer; o++)
    for (int i = 0; i < node->n_inputs; i++)
      {
        int64_t chunk = 1;
        for (int d = axis; d < in[i]->shape.ndim; d++)
          chunk *= in[i]->shape.dims[d];
        if (din[i] && graft_din_assign (ws, i))
          memcpy ((float *) din[i]->data + o * chunk, src,
                  sizeof (float) * chunk);
        else if (din[i])
          {
            float *dst = (float *) din[i]->data + o * chunk;
            for (int64_t j = 0; j < chunk; j++)
              dst[j] += src[j];
          }
        src += chunk;
      }
}

/* ---- Constant ---- */

typedef struct
{
  GraftDType dtype;
  GraftShape shape;
  size_t nbytes;
  guint8 data[];
} ConstantParams;

static ConstantParams *
constant_params_new (GraftNode *node,
                     GraftDType dtype,
                     const GraftShape *shape,
                     const void *data,
                     GError **error)
{
  size_t esize = graft_dtype_size (dtype);
  int64_t numel;
  ConstantParams *p;

  if (!check_storable (dtype, "value", error))
    return NULL;
  if (!graft_shape_numel_checked (shape, esize, &numel))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT, "value is too large");
      return NULL;
    }
  p = g_malloc0 (sizeof (ConstantParams) + (size_t) numel * esize);
  p->dtype = dtype;
  p->shape = *shape;
  p->nbytes = (size_t) numel * esize;
  if (p->nbytes)
    memcpy (p->data, data, p->nbytes);
  node->params = p;
  return p;
}

static gboolean
constant_prepare (GraftNode *node,
                  const GraftOnnxNode *proto,
                  int64_t opset,
                  GError **error)
{
  const GraftOnnxAttribute *a;
  GraftShape scalar = { .ndim = 0 };

  if ((a = graft_onnx_node_get_attr (proto, "value")) != NULL)
    {
      if (a->type != GRAFT_ATTR_TENSOR || a->t == NULL)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "attribute 'value' is not a tensor");
          return FALSE;
        }
      return constant_params_new (node, a->t->dtype, &a->t->shape, a->t->data,
                                  error) != NULL;
    }
  if ((a = graft_onnx_node_get_attr (proto, "value_float")) != NULL)
    {
      float f;
      return graft_attr_float (proto, "value_float", 0, &f, error) &&
             constant_params_new (node, GRAFT_DTYPE_FLOAT, &scalar, &f, error);
    }
  if ((a = graft_onnx_node_get_attr (proto, "value_int")) != NULL)
    {
      int64_t i;
      return graft_attr_int (proto, "value_int", 0, &i, error) &&
             constant_params_new (node, GRAFT_DTYPE_INT64, &scalar, &i, error);
    }
  if ((a = graft_onnx_node_get_attr (proto, "value_floats")) != NULL)
    {
      GraftShape s = { .ndim = 1, .dims = { (int64_t) a->n_floats } };
      if (a->type != GRAFT_ATTR_FLOATS)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "attribute 'value_floats' is not a list of floats");
          return FALSE;
        }
      return constant_params_new (node, GRAFT_DTYPE_FLOAT, &s, a->floats,
                                  error) != NULL;
    }
  if ((a = graft_onnx_node_get_attr (proto, "value_ints")) != NULL)
    {
      GraftShape s = { .ndim = 1, .dims = { (int64_t) a->n_ints } };
      if (a->type != GRAFT_ATTR_INTS)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "attribute 'value_ints' is not a list of ints");
          return FALSE;
        }
      return constant_params_new (node, GRAFT_DTYPE_INT64, &s, a->ints,
                                  error) != NULL;
    }
  if (graft_onnx_node_get_attr (proto, "value_string") ||
      graft_onnx_node_get_attr (proto, "value_strings") ||
      graft_onnx_node_get_attr (proto, "sparse_value"))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "string and sparse constants are not supported");
      return FALSE;
    }
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID, "no value attribute");
  return FALSE;
}

static gboolean
constant_infer (const GraftNode *node,
                const GraftValueInfo *const *in,
                GraftValueInfo *const *out,
                GError **error)
{
  const ConstantParams *p = node->params;
  out[0]->dtype = p->dtype;
  out[0]->shape = p->shape;
  return TRUE;
}

static void
constant_forward (const GraftNode *node,
                  const GraftTensor *const *in,
                  GraftTensor *const *out,
                  GraftWorkspace *ws)
{
  const ConstantParams *p = node->params;
  if (p->nbytes)
    memcpy (out[0]->data, p->data, p->nbytes);
}

/* ---- Shape: dims[start:end] as int64 ---- */

static gboolean
shape_prepare (GraftNode *node,
               const GraftOnnxNode *proto,
               int64_t opset,
               GError **error)
{
  ShapeParams *p = params_new (node, opset);
  p->has_end = graft_onnx_node_get_attr (proto, "end") != NULL;
  return graft_attr_int (proto, "start", 0, &p->start, error) &&
         graft_attr_int (proto, "end", 0, &p->end, error);
}

/* start and end clamped into [0, rank] as ONNX says. */
static void
shape_range (const ShapeParams *p, int rank, int *start, int *end)
{
  int64_t s = p->start < 0 ? p->start + rank : p->start;
  int64_t e = p->has_end ? (p->end < 0 ? p->end + rank : p->end) : rank;
  *start = (int) CLAMP (s, 0, rank);
  *end = (int) CLAMP (e, 0, rank);
  if (*end < *start)
    *end = *start;
}

static gboolean
shape_infer (const GraftNode *node,
             const GraftValueInfo *const *in,
             GraftValueInfo *const *out,
             GError **error)
{
  int start, end;
  shape_range (node->params, in[0]->shape.ndim, &start, &end);
  out[0]->dtype = GRAFT_DTYPE_INT64;
  out[0]->shape = graft_shape_make (1, (int64_t[]){ end - start });
  return TRUE;
}

static void
shape_forward (const GraftNode *node,
               const GraftTensor *const *in,
               GraftTensor *const *out,
               GraftWorkspace *ws)
{
  int start, end;
  int64_t *o = out[0]->data;

  /* Reads only the input's shape: the graph runs it before data exists. */
  shape_range (node->params, in[0]->shape.ndim, &start, &end);
  for (int i = start; i < end; i++)
    o[i - start] = in[0]->shape.dims[i];
}

/* ---- Gather: out = data[..., indices, ...] along axis ---- */

static gboolean
gather_prepare (GraftNode *node,
                const GraftOnnxNode *proto,
                int64_t opset,
                GError **error)
{
  return axis_prepare (node, proto, opset, 0, error);
}

static gboolean
gather_infer (const GraftNode *node,
              const GraftValueInfo *const *in,
              GraftValueInfo *const *out,
              GError **error)
{
  const ShapeParams *p = node->params;
  const GraftShape *ds = &in[0]->shape, *is = &in[1]->shape;
  GraftShape s = { 0 };
  int axis;

  if (!check_storable (in[0]->dtype, "data", error) ||
      !graft_normalize_axis (p->axis, ds->ndim, &axis, error))
    return FALSE;
  if (in[1]->dtype != GRAFT_DTYPE_INT64 && in[1]->dtype != GRAFT_DTYPE_INT32)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "indices are %s, expected int64 or int32",
                   graft_dtype_name (in[1]->dtype));
      return FALSE;
    }
  if (ds->ndim + is->ndim - 1 > GRAFT_MAX_DIMS)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "output would have rank %d, at most %d is supported",
                   ds->ndim + is->ndim - 1, GRAFT_MAX_DIMS);
      return FALSE;
    }
  if (in[1]->constant)
    {
      int64_t n = graft_tensor_numel (in[1]->constant), size = ds->dims[axis];
      for (int64_t j = 0; j < n; j++)
        {
          int64_t idx = graft_tensor_get_int (in[1]->constant, j);
          if (idx < -size || idx >= size)
            {
              g_set_error (
                  error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                  "index %" G_GINT64_FORMAT
                  " is out of range for axis %d of size %" G_GINT64_FORMAT,
                  idx, axis, size);
              return FALSE;
            }
        }
    }
  for (int i = 0; i < axis; i++)
    s.dims[s.ndim++] = ds->dims[i];
  for (int i = 0; i < is->ndim; i++)
    s.dims[s.ndim++] = is->dims[i];
  for (int i = axis + 1; i < ds->ndim; i++)
    s.dims[s.ndim++] = ds->dims[i];
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = s;
  return TRUE;
}

static void
gather_forward (const GraftNode *node,
                const GraftTensor *const *in,
                GraftTensor *const *out,
                GraftWorkspace *ws)
{
  const ShapeParams *p = node->params;
  const GraftShape *ds = &in[0]->shape;
  size_t block = graft_dtype_size (in[0]->dtype);
  int64_t outer = 1, size, n_idx = graft_tensor_numel (in[1]);
  int axis;

  if (!graft_normalize_axis (p->axis, ds->ndim, &axis, NULL))
    return;
  size = ds->dims[axis];
  for (int i = 0; i < axis; i++)
    outer *= ds->dims[i];
  for (int i = axis + 1; i < ds->ndim; i++)
    block *= (size_t) ds->dims[i];
  // out (outer, n_idx, block bytes), data (outer, size, block bytes)
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < n_idx; j++)
      {
        int64_t idx = graft_tensor_get_int (in[1], j);
        if (idx < 0)
          idx += size;
        /* A run-time index out of range leaves its slice zero. */
        if (idx < 0 || idx >= size || block == 0)
          continue;
        memcpy ((guint8 *) out[0]->data + (o * n_idx + j) * block,
                (const guint8 *) in[0]->data + (o * size + idx) * block, block);
      }
}

/* ---- Unsqueeze, Squeeze: axes as attribute before 13, input from 13 ---- */

static gboolean
axes_prepare (GraftNode *node,
              const GraftOnnxNode *proto,
              int64_t opset,
              GError **error)
{
  ShapeParams *p = params_new (node, opset);
  if (opset >= 13)
    return TRUE;
  p->list_from_attr = TRUE;
  return graft_attr_ints (proto, "axes", p->list, GRAFT_MAX_DIMS, &p->n_list,
                          error);
}

/* The axes from the attribute or the constant input; *given is FALSE when
 * Squeeze has none at all. */
static gboolean
get_axes (const GraftNode *node,
          const GraftValueInfo *const *in,
          int64_t *axes,
          int *n,
          gboolean *given,
          GError **error)
{
  const ShapeParams *p = node->params;
  const GraftValueInfo *axes_in = optional_input (node, in, 1);

  if (p->list_from_attr)
    {
      *n = p->n_list;
      memcpy (axes, p->list, sizeof (p->list));
      *given = *n > 0;
      return TRUE;
    }
  *given = axes_in != NULL;
  *n = 0;
  return axes_in == NULL ||
         constant_ints (axes_in, "axes", axes, GRAFT_MAX_DIMS, n, error);
}

static gboolean
unsqueeze_infer (const GraftNode *node,
                 const GraftValueInfo *const *in,
                 GraftValueInfo *const *out,
                 GError **error)
{
  const GraftShape *s = &in[0]->shape;
  int64_t axes[GRAFT_MAX_DIMS];
  gboolean inserted[GRAFT_MAX_DIMS] = { FALSE };
  int n, rank, next = 0;
  gboolean given;
  GraftShape r;

  if (!check_storable (in[0]->dtype, "input", error) ||
      !get_axes (node, in, axes, &n, &given, error))
    return FALSE;
  if (!given)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID, "axes are missing");
      return FALSE;
    }
  rank = s->ndim + n;
  if (rank > GRAFT_MAX_DIMS)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "output would have rank %d, at most %d is supported", rank,
                   GRAFT_MAX_DIMS);
      return FALSE;
    }
  for (int i = 0; i < n; i++)
    {
      int a;
      if (!graft_normalize_axis (axes[i], rank, &a, error))
        return FALSE;
      if (inserted[a])
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "axis %d is given twice", a);
          return FALSE;
        }
      inserted[a] = TRUE;
    }
  r.ndim = rank;
  for (int i = 0; i < rank; i++)
    r.dims[i] = inserted[i] ? 1 : s->dims[next++];
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = r;
  return TRUE;
}

static gboolean
squeeze_infer (const GraftNode *node,
               const GraftValueInfo *const *in,
               GraftValueInfo *const *out,
               GError **error)
{
  const GraftShape *s = &in[0]->shape;
  int64_t axes[GRAFT_MAX_DIMS];
  gboolean removed[GRAFT_MAX_DIMS] = { FALSE };
  int n;
  gboolean given;
  GraftShape r = { 0 };

  if (!check_storable (in[0]->dtype, "input", error) ||
      !get_axes (node, in, axes, &n, &given, error))
    return FALSE;
  for (int i = 0; i < s->ndim; i++)
    removed[i] = !given && s->dims[i] == 1;
  for (int i = 0; i < n; i++)
    {
      int a;
      if (!graft_normalize_axis (axes[i], s->ndim, &a, error))
        return FALSE;
      if (s->dims[a] != 1)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "cannot squeeze axis %d of size %" G_GINT64_FORMAT, a,
                       s->dims[a]);
          return FALSE;
        }
      removed[a] = TRUE;
    }
  for (int i = 0; i < s->ndim; i++)
    if (!removed[i])
      r.dims[r.ndim++] = s->dims[i];
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = r;
  return TRUE;
}

/* ---- Cast ---- */

static gboolean
cast_prepare (GraftNode *node,
              const GraftOnnxNode *proto,
              int64_t opset,
              GError **error)
{
  ShapeParams *p = params_new (node, opset);
  int64_t to;

  if (graft_onnx_node_get_attr (proto, "to") == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "attribute 'to' is missing");
      return FALSE;
    }
  if (!graft_attr_int (proto, "to", 0, &to, error))
    return FALSE;
  if (to < 0 || to > G_MAXINT || graft_dtype_size ((GraftDType) to) == 0)
    {
      g_set_error (
          error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
          "cast to element type %s (%" G_GINT64_FORMAT ") is not supported",
          to == 16 ? "bfloat16" : graft_dtype_name ((GraftDType) to), to);
      return FALSE;
    }
  p->to = (GraftDType) to;
  return TRUE;
}

static gboolean
cast_infer (const GraftNode *node,
            const GraftValueInfo *const *in,
            GraftValueInfo *const *out,
            GError **error)
{
  const ShapeParams *p = node->params;
  if (!check_storable (in[0]->dtype, "input", error))
    return FALSE;
  out[0]->dtype = p->to;
  out[0]->shape = in[0]->shape;
  return TRUE;
}

/* CastLike: the type of the second input. */
static gboolean
cast_like_infer (const GraftNode *node,
                 const GraftValueInfo *const *in,
                 GraftValueInfo *const *out,
                 GError **error)
{
  if (!check_storable (in[0]->dtype, "input", error) ||
      !check_storable (in[1]->dtype, "target_type", error))
    return FALSE;
  out[0]->dtype = in[1]->dtype;
  out[0]->shape = in[0]->shape;
  return TRUE;
}

static gboolean
dtype_is_floating (GraftDType t)
{
  return t == GRAFT_DTYPE_FLOAT || t == GRAFT_DTYPE_DOUBLE ||
         t == GRAFT_DTYPE_FLOAT16;
}

static double
get_floating (const GraftTensor *t, int64_t i)
{
  switch (t->dtype)
    {
    case GRAFT_DTYPE_FLOAT:
      return ((const float *) t->data)[i];
    case GRAFT_DTYPE_DOUBLE:
      return ((const double *) t->data)[i];
    default:
      return graft_half_to_float (((const uint16_t *) t->data)[i]);
    }
}

static void
put_floating (GraftTensor *t, int64_t i, double v)
{
  switch (t->dtype)
    {
    case GRAFT_DTYPE_FLOAT:
      ((float *) t->data)[i] = (float) v;
      return;
    case GRAFT_DTYPE_DOUBLE:
      ((double *) t->data)[i] = v;
      return;
    default:
      ((uint16_t *) t->data)[i] = graft_float_to_half ((float) v);
      return;
    }
}

/* Integers wrap modulo the target width, like C and numpy. */
static void
put_int (GraftTensor *t, int64_t i, int64_t v)
{
  switch (t->dtype)
    {
    case GRAFT_DTYPE_INT8:
      ((int8_t *) t->data)[i] = (int8_t) v;
      return;
    case GRAFT_DTYPE_UINT8:
      ((uint8_t *) t->data)[i] = (uint8_t) v;
      return;
    case GRAFT_DTYPE_INT16:
      ((int16_t *) t->data)[i] = (int16_t) v;
      return;
    case GRAFT_DTYPE_UINT16:
      ((uint16_t *) t->data)[i] = (uint16_t) v;
      return;
    case GRAFT_DTYPE_INT32:
      ((int32_t *) t->data)[i] = (int32_t) v;
      return;
    case GRAFT_DTYPE_UINT32:
      ((uint32_t *) t->data)[i] = (uint32_t) v;
      return;
    case GRAFT_DTYPE_INT64:
      ((int64_t *) t->data)[i] = v;
      return;
    case GRAFT_DTYPE_UINT64:
      ((uint64_t *) t->data)[i] = (uint64_t) v;
      return;
    case GRAFT_DTYPE_BOOL:
      ((uint8_t *) t->data)[i] = v != 0;
      return;
    default:
      return;
    }
}

/* Float to integer truncates toward zero; values beyond int64 (and NaN)
 * are pinned first because converting them is undefined in C. */
static int64_t
floating_to_int (double v)
{
  if (isnan (v))
    return 0;
  if (v >= 9223372036854775807.0)
    return G_MAXINT64;
  if (v <= -9223372036854775808.0)
    return G_MININT64;
  return (int64_t) v;
}

static void
cast_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  const GraftTensor *x = in[0];
  GraftTensor *y = out[0];
  int64_t n = graft_tensor_numel (x);
  gboolean from_f = dtype_is_floating (x->dtype);
  gboolean to_f = dtype_is_floating (y->dtype);

  if (x->dtype == y->dtype)
    {
      copy_forward (node, in, out, ws);
      return;
    }
  for (int64_t i = 0; i < n; i++)
    {
      if (from_f && to_f)
        put_floating (y, i, get_floating (x, i));
      else if (from_f && y->dtype == GRAFT_DTYPE_BOOL)
        ((uint8_t *) y->data)[i] = get_floating (x, i) != 0.0;
      else if (from_f)
        put_int (y, i, floating_to_int (get_floating (x, i)));
      else if (to_f)
        put_floating (y, i,
                      x->dtype == GRAFT_DTYPE_UINT64
                          ? (double) ((const uint64_t *) x->data)[i]
                          : (double) graft_tensor_get_int (x, i));
      else
        put_int (y, i, graft_tensor_get_int (x, i));
    }
}

/* ---- ConstantOfShape ---- */

typedef struct
{
  GraftDType dtype;
  guint8 value[8];
} FillParams;

static gboolean
constant_of_shape_prepare (GraftNode *node,
                           const GraftOnnxNode *proto,
                           int64_t opset,
                           GError **error)
{
  const GraftOnnxAttribute *a = graft_onnx_node_get_attr (proto, "value");
  FillParams *p = g_new0 (FillParams, 1);

  node->params = p;
  p->dtype = GRAFT_DTYPE_FLOAT; /* default value: float 0 */
  if (a == NULL)
    return TRUE;
  if (a->type != GRAFT_ATTR_TENSOR || a->t == NULL ||
      graft_tensor_numel (a->t) != 1)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "attribute 'value' must be a tensor of one element");
      return FALSE;
    }
  if (!check_storable (a->t->dtype, "value", error))
    return FALSE;
  p->dtype = a->t->dtype;
  memcpy (p->value, a->t->data, graft_dtype_size (p->dtype));
  return TRUE;
}

static gboolean
constant_of_shape_infer (const GraftNode *node,
                         const GraftValueInfo *const *in,
                         GraftValueInfo *const *out,
                         GError **error)
{
  const FillParams *p = node->params;
  int64_t dims[GRAFT_MAX_DIMS];
  int n;

  if (!constant_ints (in[0], "shape", dims, GRAFT_MAX_DIMS, &n, error))
    return FALSE;
  for (int i = 0; i < n; i++)
    if (dims[i] < 0)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                     "shape value %" G_GINT64_FORMAT " is negative", dims[i]);
        return FALSE;
      }
  out[0]->dtype = p->dtype;
  out[0]->shape = graft_shape_make (n, dims);
  return TRUE;
}

static void
constant_of_shape_forward (const GraftNode *node,
                           const GraftTensor *const *in,
                           GraftTensor *const *out,
                           GraftWorkspace *ws)
{
  const FillParams *p = node->params;
  size_t esize = graft_dtype_size (p->dtype);
  int64_t n = graft_tensor_numel (out[0]);

  for (int64_t i = 0; i < n; i++)
    memcpy ((guint8 *) out[0]->data + i * esize, p->value, esize);
}

/* ---- Transpose ---- */

static gboolean
transpose_prepare (GraftNode *node,
                   const GraftOnnxNode *proto,
                   int64_t opset,
                   GError **error)
{
  ShapeParams *p = params_new (node, opset);
  return graft_attr_ints (proto, "perm", p->list, GRAFT_MAX_DIMS, &p->n_list,
                          error);
}

/* perm from the attribute, reversed axes when absent. */
static gboolean
get_perm (const ShapeParams *p, int rank, int *perm, GError **error)
{
  gboolean seen[GRAFT_MAX_DIMS] = { FALSE };

  if (p->n_list == 0)
    {
      for (int i = 0; i < rank; i++)
        perm[i] = rank - 1 - i;
      return TRUE;
    }
  if (p->n_list != rank)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "perm has %d values for an input of rank %d", p->n_list,
                   rank);
      return FALSE;
    }
  for (int i = 0; i < rank; i++)
    {
      int64_t a = p->list[i];
      if (a < 0 || a >= rank || seen[a])
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "perm is not a permutation of 0..%d", rank - 1);
          return FALSE;
        }
      seen[a] = TRUE;
      perm[i] = (int) a;
    }
  return TRUE;
}

static gboolean
transpose_infer (const GraftNode *node,
                 const GraftValueInfo *const *in,
                 GraftValueInfo *const *out,
                 GError **error)
{
  const GraftShape *s = &in[0]->shape;
  int perm[GRAFT_MAX_DIMS];

  if (!check_storable (in[0]->dtype, "input", error) ||
      !get_perm (node->params, s->ndim, perm, error))
    return FALSE;
  out[0]->dtype = in[0]->dtype;
  out[0]->shape.ndim = s->ndim;
  for (int i = 0; i < s->ndim; i++)
    out[0]->shape.dims[i] = s->dims[perm[i]];
  return TRUE;
}

/* strides[i]: the input element stride that output axis i walks. */
static gboolean
transpose_strides (const GraftNode *node, const GraftShape *s, int64_t *strides)
{
  int perm[GRAFT_MAX_DIMS];
  int64_t in_strides[GRAFT_MAX_DIMS], stride = 1;

  if (!get_perm (node->params, s->ndim, perm, NULL))
    return FALSE;
  for (int i = s->ndim - 1; i >= 0; i--)
    {
      in_strides[i] = stride;
      stride *= s->dims[i];
    }
  for (int i = 0; i < s->ndim; i++)
    strides[i] = in_strides[perm[i]];
  return TRUE;
}

/* Runs BODY for every output element i in order, with off the offset of
 * its input element. */
#define TRANSPOSE_WALK(os, n, strides, BODY)                                   \
  do                                                                           \
    {                                                                          \
      int64_t idx[GRAFT_MAX_DIMS] = { 0 }, off = 0;                            \
      for (int64_t i = 0; i < (n); i++)                                        \
        {                                                                      \
          BODY;                                                                \
          for (int d = (os)->ndim - 1; d >= 0; d--)                            \
            {                                                                  \
              off += (strides)[d];                                             \
              if (++idx[d] < (os)->dims[d])                                    \
                break;                                                         \
              off -= (strides)[d] * (os)->dims[d];                             \
              idx[d] = 0;                                                      \
            }                                                                  \
        }                                                                      \
    }                                                                          \
  while (0)

static void
transpose_forward (const GraftNode *node,
                   const GraftTensor *const *in,
                   GraftTensor *const *out,
                   GraftWorkspace *ws)
{
  size_t esize = graft_dtype_size (in[0]->dtype);
  int64_t strides[GRAFT_MAX_DIMS], n = graft_tensor_numel (out[0]);
  const guint8 *src = in[0]->data;
  guint8 *dst = out[0]->data;

  if (transpose_strides (node, &in[0]->shape, strides))
    TRANSPOSE_WALK (&out[0]->shape, n, strides,
                    memcpy (dst + i * esize, src + off * esize, esize));
}

/* Each output gradient goes back to the input element it came from. */
static void
transpose_backward (const GraftNode *node,
                    gboolean train,
                    const GraftTensor *const *in,
                    const GraftTensor *const *out,
                    const GraftTensor *const *dout,
                    GraftTensor *const *din,
                    GraftWorkspace *ws)
{
  int64_t strides[GRAFT_MAX_DIMS], n;
  const float *g;
  float *dx;

  if (dout[0] == NULL || din[0] == NULL)
    return;
  g_return_if_fail (dout[0]->dtype == GRAFT_DTYPE_FLOAT &&
                    din[0]->dtype == GRAFT_DTYPE_FLOAT);
  n = graft_tensor_numel (dout[0]);
  g = dout[0]->data;
  dx = din[0]->data;
  /* A permutation: with assign every element of dx is written once. */
  if (!transpose_strides (node, &in[0]->shape, strides))
    return;
  if (graft_din_assign (ws, 0))
    TRANSPOSE_WALK (&dout[0]->shape, n, strides, dx[off] = g[i]);
  else
    TRANSPOSE_WALK (&dout[0]->shape, n, strides, dx[off] += g[i]);
}

/* ---- definitions ---- */

extern const GraftOpDef graft_op_flatten, graft_op_reshape, graft_op_identity,
    graft_op_dropout, graft_op_concat, graft_op_constant, graft_op_shape,
    graft_op_gather, graft_op_unsqueeze, graft_op_squeeze, graft_op_cast,
    graft_op_cast_like, graft_op_constant_of_shape, graft_op_transpose;

const GraftOpDef graft_op_flatten = {
  .op_type = "Flatten",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = flatten_prepare,
  .infer = flatten_infer,
  .forward = copy_forward,
  .backward = copy_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_reshape = {
  .op_type = "Reshape",
  .min_inputs = 1,
  .max_inputs = 2,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = reshape_prepare,
  .infer = reshape_infer,
  .forward = copy_forward,
  .backward = copy_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_identity = {
  .op_type = "Identity",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .infer = identity_infer,
  .forward = copy_forward,
  .backward = copy_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_dropout = {
  .op_type = "Dropout",
  .min_inputs = 1,
  .max_inputs = 3,
  .min_outputs = 1,
  .max_outputs = 2,
  .prepare = dropout_prepare,
  .infer = dropout_infer,
  .forward = dropout_forward,
  .forward_train = dropout_forward_train,
  .backward = dropout_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_concat = {
  .op_type = "Concat",
  .min_inputs = 1,
  .max_inputs = G_MAXINT,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = concat_prepare,
  .infer = concat_infer,
  .forward = concat_forward,
  .backward = concat_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_constant = {
  .op_type = "Constant",
  .min_inputs = 0,
  .max_inputs = 0,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = constant_prepare,
  .infer = constant_infer,
  .forward = constant_forward,
};

const GraftOpDef graft_op_shape = {
  .op_type = "Shape",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = shape_prepare,
  .infer = shape_infer,
  .forward = shape_forward,
  .shape_only = TRUE,
};

const GraftOpDef graft_op_gather = {
  .op_type = "Gather",
  .min_inputs = 2,
  .max_inputs = 2,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = gather_prepare,
  .infer = gather_infer,
  .forward = gather_forward,
};

const GraftOpDef graft_op_unsqueeze = {
  .op_type = "Unsqueeze",
  .min_inputs = 1,
  .max_inputs = 2,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = axes_prepare,
  .infer = unsqueeze_infer,
  .forward = copy_forward,
  .backward = copy_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_squeeze = {
  .op_type = "Squeeze",
  .min_inputs = 1,
  .max_inputs = 2,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = axes_prepare,
  .infer = squeeze_infer,
  .forward = copy_forward,
  .backward = copy_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};

const GraftOpDef graft_op_cast = {
  .op_type = "Cast",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = cast_prepare,
  .infer = cast_infer,
  .forward = cast_forward,
};

const GraftOpDef graft_op_cast_like = {
  .op_type = "CastLike",
  .min_inputs = 2,
  .max_inputs = 2,
  .min_outputs = 1,
  .max_outputs = 1,
  .infer = cast_like_infer,
  .forward = cast_forward,
};

const GraftOpDef graft_op_constant_of_shape = {
  .op_type = "ConstantOfShape",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = constant_of_shape_prepare,
  .infer = constant_of_shape_infer,
  .forward = constant_of_shape_forward,
};

const GraftOpDef graft_op_transpose = {
  .op_type = "Transpose",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = transpose_prepare,
  .infer = transpose_infer,
  .forward = transpose_forward,
  .backward = transpose_backward,
  .backward_assigns = TRUE,
  .backward_ignores_output = TRUE,
};
