/* op-batchnorm.c: ONNX BatchNormalization, inference and (opset 14+)
 * training mode; the trainer's training mode (PyTorch's) and backward. */
#include "graft-error.h"
#include "kernels/batchnorm.h"
#include "ops/ops.h"

#include <string.h>

typedef struct
{
  float epsilon;
  float momentum;
  gboolean training;
} BatchNormParams;

static gboolean
output_requested (const GraftOnnxNode *proto, size_t i)
{
  return proto->n_outputs > i && proto->outputs[i][0] != '\0';
}

static gboolean
batchnorm_prepare (GraftNode *node,
                   const GraftOnnxNode *proto,
                   int64_t opset,
                   GError **error)
{
  BatchNormParams p;
  int64_t training = 0, spatial = 1;

  if (!graft_attr_float (proto, "epsilon", 1e-5f, &p.epsilon, error) ||
      !graft_attr_float (proto, "momentum", 0.9f, &p.momentum, error))
    return FALSE;
  if (opset >= 14 &&
      !graft_attr_int (proto, "training_mode", 0, &training, error))
    return FALSE;
  if (opset < 9 && !graft_attr_int (proto, "spatial", 1, &spatial, error))
    return FALSE;
  if (spatial == 0)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                           "BatchNormalization with spatial=0 is not "
                           "supported");
      return FALSE;
    }
  if (!(p.epsilon >= 0.0f))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "epsilon must be non-negative, got %g", p.epsilon);
      return FALSE;
    }
  if (opset >= 14 && proto->n_outputs > 3)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%zu outputs, at most 3 (Y, running_mean, running_var)",
                   proto->n_outputs);
      return FALSE;
    }
  gboolean more_outputs = FALSE;
  for (size_t i = 1; i < proto->n_outputs; i++)
    more_outputs |= output_requested (proto, i);
  if (opset < 14 && more_outputs)
    {
      /* Before opset 14 the extra outputs meant training mode, with
       * saved_mean/saved_var whose meaning varied between runtimes. */
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                           "BatchNormalization training outputs before "
                           "opset 14 are not supported");
      return FALSE;
    }
  if (opset >= 14 && !training && more_outputs)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "running_mean and running_var outputs need "
                           "training_mode=1");
      return FALSE;
    }
  p.training = training != 0;
  node->params = g_memdup2 (&p, sizeof p);
  return TRUE;
}

static gboolean
batchnorm_infer (const GraftNode *node,
                 const GraftValueInfo *const *in,
                 GraftValueInfo *const *out,
                 GError **error)
{
  static const char *const names[] = { "X", "scale", "B", "mean", "var" };
  const GraftShape *x = &in[0]->shape;

  for (int i = 0; i < 5; i++)
    if (in[i] == NULL || in[i]->dtype != GRAFT_DTYPE_FLOAT)
      {
        if (in[i] == NULL)
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "input %s is missing", names[i]);
        else
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                       "%s is %s, only float32 is supported", names[i],
                       graft_dtype_name (in[i]->dtype));
        return FALSE;
      }
  if (x->ndim < 2)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "X has rank %d, expected at least 2 (N, C, ...)", x->ndim);
      return FALSE;
    }
  if (x->dims[0] > G_MAXINT || x->dims[1] > G_MAXINT)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                           "X batch or channel count is too large");
      return FALSE;
    }
  for (int i = 1; i < 5; i++)
    {
      const GraftShape *s = &in[i]->shape;
      if (s->ndim != 1 || s->dims[0] != x->dims[1])
        {
          g_autofree char *str = graft_shape_to_string (s);
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s has shape %s, expected %" G_GINT64_FORMAT
                       " (the channel count)",
                       names[i], str, x->dims[1]);
          return FALSE;
        }
    }
  out[0]->dtype = GRAFT_DTYPE_FLOAT;
  out[0]->shape = *x;
  for (int i = 1; i < node->n_outputs && i < 3; i++)
    if (out[i] != NULL)
      {
        out[i]->dtype = GRAFT_DTYPE_FLOAT;
        out[i]->shape = in[3]->shape;
      }
  return TRUE;
}

/* The activation the plan fused into this node, or NULL. */
static const GraftClamp *
fused_clamp (const GraftWorkspace *ws, GraftClamp *storage)
{
  if (!ws->clamp)
    return NULL;
  storage->lo = ws->clamp_lo;
  storage->hi = ws->clamp_hi;
  storage->upper_inclusive = ws->clamp_upper_inclusive;
  return storage;
}

static void
batchnorm_forward (const GraftNode *node,
                   const GraftTensor *const *in,
                   GraftTensor *const *out,
                   GraftWorkspace *ws)
{
  const BatchNormParams *p = node->params;
  const GraftTensor *x = in[0];
  int N = (int) x->shape.dims[0], C = (int) x->shape.dims[1];
  size_t S = 1;
  GraftClamp storage;
  const GraftClamp *clamp = fused_clamp (ws, &storage);

  for (int i = 2; i < x->shape.ndim; i++)
    S *= (size_t) x->shape.dims[i];

  if (!p->training)
    {
      if (clamp)
        graft_batchnorm_forward_inference_clamp (
            out[0]->data, x->data, in[1]->data, in[2]->data, in[3]->data,
            in[4]->data, p->epsilon, clamp, N, C, S);
      else
        graft_batchnorm_forward_inference (out[0]->data, x->data, in[1]->data,
                                           in[2]->data, in[3]->data,
                                           in[4]->data, p->epsilon, N, C, S);
      return;
    }

  float *batch_mean = graft_workspace_floats (ws, 2 * (size_t) C + 1);
  float *batch_var = batch_mean + C;
  if (clamp)
    graft_batchnorm_forward_training_clamp (out[0]->data, batch_mean, batch_var,
                                            x->data, in[1]->data, in[2]->data,
                                            p->epsilon, clamp, N, C, S);
  else
    graft_batchnorm_forward_training (out[0]->data, batch_mean, batch_var,
                                      x->data, in[1]->data, in[2]->data,
                                      p->epsilon, N, C, S);
  if (node->n_outputs > 1 && out[1] != NULL)
    graft_batchnorm_update_running (out[1]->data, in[3]->data, batch_mean,
                                    p->momentum, C);
  if (node->n_outputs > 2 && out[2] != NULL)
    graft_batchnorm_update_running (out[2]->data, in[4]->data, batch_var,
                                    p->momentum, C);
}

static void
batchnorm_dims (const GraftTensor *x, int *N, int *C, size_t *S)
{
  *N = (int) x->shape.dims[0];
  *C = (int) x->shape.dims[1];
  *S = 1;
  for (int i = 2; i < x->shape.ndim; i++)
    *S *= (size_t) x->shape.dims[i];
}

/* torch.nn.BatchNorm2d in train mode: normalize with the biased batch
 * variance; running_mean (in[3]) and running_var (in[4]) move in place
 * towards the batch mean and the UNBIASED batch variance, by 1 - momentum
 * (ONNX's momentum is the old value's weight, PyTorch's the new one's).
 * A channel of a single value keeps its biased variance (0) where
 * PyTorch would refuse the batch. The running-stat outputs, when the node
 * has them, receive the updated values. */
static void
batchnorm_forward_train (const GraftNode *node,
                         GraftTensor *const *in,
                         GraftTensor *const *out,
                         GraftWorkspace *ws)
{
  const BatchNormParams *p = node->params;
  int N, C;
  size_t S;
  GraftClamp storage;
  const GraftClamp *clamp = fused_clamp (ws, &storage);
  batchnorm_dims (in[0], &N, &C, &S);

  float *batch_mean = graft_workspace_floats (ws, 2 * (size_t) C + 1);
  float *batch_var = batch_mean + C;
  if (clamp)
    graft_batchnorm_forward_training_clamp (
        out[0]->data, batch_mean, batch_var, in[0]->data, in[1]->data,
        in[2]->data, p->epsilon, clamp, N, C, S);
  else
    graft_batchnorm_forward_training (out[0]->data, batch_mean, batch_var,
                                      in[0]->data, in[1]->data, in[2]->data,
                                      p->epsilon, N, C, S);
  double count = (double) N * S;
  if (count > 1)
    for (int c = 0; c < C; c++)
      batch_var[c] = (float) (batch_var[c] * (count / (count - 1)));
  graft_batchnorm_update_running (in[3]->data, in[3]->data, batch_mean,
                                  p->momentum, C);
  graft_batchnorm_update_running (in[4]->data, in[4]->data, batch_var,
                                  p->momentum, C);
  for (int i = 1; i < node->n_outputs && i < 3; i++)
    if (out[i] != NULL)
      memcpy (out[i]->data, in[2 + i]->data, sizeof (float) * C);
}

/* Gradients of Y only (the running-stat outputs are not differentiated).
 * Batch statistics (train, or an ONNX training_mode node): X, scale and B
 * get PyTorch's full gradient, mean and var none (Y does not depend on
 * them); the statistics are recomputed from X, which keeps the op
 * stateless. Inference: the per-channel affine map's gradient, mean and
 * var included. With a fused activation (ws->clamp), dout is the gradient
 * of the activation's output, which out[0] holds, and is masked on the
 * fly. */
static void
batchnorm_backward (const GraftNode *node,
                    gboolean train,
                    const GraftTensor *const *in,
                    const GraftTensor *const *out,
                    const GraftTensor *const *dout,
                    GraftTensor *const *din,
                    GraftWorkspace *ws)
{
  const BatchNormParams *p = node->params;
  int N, C;
  size_t S;
  batchnorm_dims (in[0], &N, &C, &S);
  float *dx = din[0] ? din[0]->data : NULL;
  float *dscale = din[1] ? din[1]->data : NULL;
  float *dbias = din[2] ? din[2]->data : NULL;
  gboolean assign_dx = dx && graft_din_assign (ws, 0);
  GraftClamp storage;
  const GraftClamp *clamp = fused_clamp (ws, &storage);

  /* The per-channel gradients are C floats: zeroing them costs nothing,
   * so only dx has an assigning kernel. */
  for (int k = 1; k < 5; k++)
    if (din[k] && graft_din_assign (ws, k))
      memset (din[k]->data, 0, sizeof (float) * C);
  if (clamp && (train || p->training))
    {
      graft_batchnorm_backward_training_masked (
          dx, dscale, dbias, dout[0]->data, out[0]->data, in[0]->data,
          in[1]->data, p->epsilon, clamp, N, C, S, !assign_dx);
      return;
    }
  if (clamp)
    {
      graft_batchnorm_backward_inference_masked (
          dx, dscale, dbias, din[3] ? din[3]->data : NULL,
          din[4] ? din[4]->data : NULL, dout[0]->data, out[0]->data,
          in[0]->data, in[1]->data, in[3]->data, in[4]->data, p->epsilon, clamp,
          N, C, S, !assign_dx);
      return;
    }
  if (train || p->training)
    {
      (assign_dx ? graft_batchnorm_backward_training_batch_assign
                 : graft_batchnorm_backward_training_batch) (
          dx, dscale, dbias, dout[0]->data, in[0]->data, in[1]->data,
          p->epsilon, N, C, S);
      return;
    }
  (assign_dx ? graft_batchnorm_backward_inference_assign
             : graft_batchnorm_backward_inference) (
      dx, dscale, dbias, din[3] ? din[3]->data : NULL,
      din[4] ? din[4]->data : NULL, dout[0]->data, in[0]->data, in[1]->data,
      in[3]->data, in[4]->data, p->epsilon, N, C, S);
}

extern const GraftOpDef graft_op_batch_normalization;
const GraftOpDef graft_op_batch_normalization = {
  .op_type = "BatchNormalization",
  .min_inputs = 5,
  .max_inputs = 5,
  .min_outputs = 1,
  .max_outputs = 5,
  .prepare = batchnorm_prepare,
  .infer = batchnorm_infer,
  .forward = batchnorm_forward,
  .forward_train = batchnorm_forward_train,
  .backward = batchnorm_backward,
  /* Y is assigned; the running-stat outputs are copied or computed. */
  .overwrites_output = TRUE,
  .backward_assigns = TRUE,
  /* Backward recomputes the statistics from X: Y may be overwritten by
   * an in-place activation after it. */
  .backward_ignores_output = TRUE,
  .fuses_clamp = TRUE,
};
