/* op-softmax.c: Softmax and LogSoftmax.
 *
 * Before opset 13 the input is flattened to 2-D at `axis` (default 1) and
 * each row is normalized; from 13 the softmax runs along the one axis
 * (default -1). */
#include "graft-error.h"
#include "kernels/softmax.h"
#include "ops/ops.h"

typedef struct
{
  int64_t axis;
  gboolean flatten; /* opset < 13 */
  gboolean log_softmax;
} SoftmaxParams;

static gboolean
prepare (GraftNode *node,
         const GraftOnnxNode *proto,
         int64_t opset,
         gboolean log_softmax,
         GError **error)
{
  SoftmaxParams *p = g_new0 (SoftmaxParams, 1);

  node->params = p;
  p->flatten = opset < 13;
  p->log_softmax = log_softmax;
  return graft_attr_int (proto, "axis", p->flatten ? 1 : -1, &p->axis, error);
}

static gboolean
softmax_prepare (GraftNode *node,
                 const GraftOnnxNode *proto,
                 int64_t opset,
                 GError **error)
{
  return prepare (node, proto, opset, FALSE, error);
}

static gboolean
log_softmax_prepare (GraftNode *node,
                     const GraftOnnxNode *proto,
                     int64_t opset,
                     GError **error)
{
  return prepare (node, proto, opset, TRUE, error);
}

static gboolean
softmax_infer (const GraftNode *node,
               const GraftValueInfo *const *in,
               GraftValueInfo *const *out,
               GError **error)
{
  const SoftmaxParams *p = node->params;
  int axis;

  if (in[0]->dtype != GRAFT_DTYPE_FLOAT)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "input is %s, only float32 is supported",
                   graft_dtype_name (in[0]->dtype));
      return FALSE;
    }
  if (!graft_normalize_axis (p->axis, in[0]->shape.ndim, &axis, error))
    return FALSE;
  out[0]->dtype = GRAFT_DTYPE_FLOAT;
  out[0]->shape = in[0]->shape;
  return TRUE;
}

/* The (outer, n, inner) view the kernels take; infer() checked the axis. */
static gboolean
softmax_view (const SoftmaxParams *p,
              const GraftShape *s,
              int64_t *outer,
              int64_t *n,
              int64_t *inner)
{
  int axis;

  if (!graft_normalize_axis (p->axis, s->ndim, &axis, NULL))
    return FALSE;
  *outer = *n = *inner = 1;
  for (int i = 0; i < axis; i++)
    *outer *= s->dims[i];
  if (p->flatten)
    for (int i = axis; i < s->ndim; i++)
      *n *= s->dims[i];
  else
    {
      *n = s->dims[axis];
      for (int i = axis + 1; i < s->ndim; i++)
        *inner *= s->dims[i];
    }
  return TRUE;
}

static void
softmax_forward (const GraftNode *node,
                 const GraftTensor *const *in,
                 GraftTensor *const *out,
                 GraftWorkspace *ws)
{
  const SoftmaxParams *p = node->params;
  int64_t outer, n, inner;

  if (softmax_view (p, &in[0]->shape, &outer, &n, &inner))
    graft_softmax_forward (out[0]->data, in[0]->data, outer, n, inner,
                           p->log_softmax);
}

/* Needs only the forward's output. */
static void
softmax_backward (const GraftNode *node,
                  gboolean train,
                  const GraftTensor *const *in,
                  const GraftTensor *const *out,
                  const GraftTensor *const *dout,
                  GraftTensor *const *din,
                  GraftWorkspace *ws)
{
  const SoftmaxParams *p = node->params;
  int64_t outer, n, inner;

  if (dout[0] == NULL || din[0] == NULL)
    return;
  if (softmax_view (p, &in[0]->shape, &outer, &n, &inner))
    graft_softmax_backward (din[0]->data, dout[0]->data, out[0]->data, outer, n,
                            inner, p->log_softmax);
}

extern const GraftOpDef graft_op_softmax, graft_op_log_softmax;

const GraftOpDef graft_op_softmax = {
  .op_type = "Softmax",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = softmax_prepare,
  .infer = softmax_infer,
  .forward = softmax_forward,
  .backward = softmax_backward,
};

const GraftOpDef graft_op_log_softmax = {
  .op_type = "LogSoftmax",
  .min_inputs = 1,
  .max_inputs = 1,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = log_softmax_prepare,
  .infer = softmax_infer,
  .forward = softmax_forward,
  .backward = softmax_backward,
};
