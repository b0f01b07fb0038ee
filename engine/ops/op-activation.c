/* op-activation.c: Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish,
 * Tanh and Exp. */
#include "graft-error.h"
#include "kernels/elementwise.h"
#include "ops/ops.h"

#include <math.h>
#include <string.h>

typedef struct
{
  float alpha;
  float beta;
  /* Clip before opset 11: bounds from attributes. */
  gboolean bounds_from_attrs;
  float min;
  float max;
} ActivationParams;

static gboolean
check_float_input (const GraftValueInfo *x, GError **error)
{
  if (x->dtype == GRAFT_DTYPE_FLOAT)
    return TRUE;
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
               "input is %s, only float32 is supported",
               graft_dtype_name (x->dtype));
  return FALSE;
}

static gboolean
infer_float_unary (const GraftNode *node,
                   const GraftValueInfo *const *in,
                   GraftValueInfo *const *out,
                   GError **error)
{
  if (!check_float_input (in[0], error))
    return FALSE;
  out[0]->dtype = in[0]->dtype;
  out[0]->shape = in[0]->shape;
  return TRUE;
}

/* ---- Relu, Sigmoid, Tanh, Exp, HardSwish: no attributes ---- */

static void
relu_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  graft_relu_forward (out[0]->data, in[0]->data, graft_tensor_numel (in[0]));
}

static void
sigmoid_forward (const GraftNode *node,
                 const GraftTensor *const *in,
                 GraftTensor *const *out,
                 GraftWorkspace *ws)
{
  graft_sigmoid_forward (out[0]->data, in[0]->data, graft_tensor_numel (in[0]));
}

static void
tanh_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  graft_tanh_forward (out[0]->data, in[0]->data, graft_tensor_numel (in[0]));
}

static void
exp_forward (const GraftNode *node,
             const GraftTensor *const *in,
             GraftTensor *const *out,
             GraftWorkspace *ws)
{
  graft_exp_forward (out[0]->data, in[0]->data, graft_tensor_numel (in[0]));
}

static void
hard_swish_forward (const GraftNode *node,
                    const GraftTensor *const *in,
                    GraftTensor *const *out,
                    GraftWorkspace *ws)
{
  graft_hard_swish_forward (out[0]->data, in[0]->data,
                            graft_tensor_numel (in[0]));
}

/* ---- LeakyRelu, HardSigmoid: alpha (and beta) ---- */

static gboolean
leaky_relu_prepare (GraftNode *node,
                    const GraftOnnxNode *proto,
                    int64_t opset,
                    GError **error)
{
  ActivationParams *p = g_new0 (ActivationParams, 1);
  node->params = p;
  return graft_attr_float (proto, "alpha", 0.01f, &p->alpha, error);
}

static void
leaky_relu_forward (const GraftNode *node,
                    const GraftTensor *const *in,
                    GraftTensor *const *out,
                    GraftWorkspace *ws)
{
  const ActivationParams *p = node->params;
  graft_leaky_relu_forward (out[0]->data, in[0]->data,
                            graft_tensor_numel (in[0]), p->alpha);
}

static gboolean
hard_sigmoid_prepare (GraftNode *node,
                      const GraftOnnxNode *proto,
                      int64_t opset,
                      GError **error)
{
  ActivationParams *p = g_new0 (ActivationParams, 1);
  node->params = p;
  return graft_attr_float (proto, "alpha", 0.2f, &p->alpha, error) &&
         graft_attr_float (proto, "beta", 0.5f, &p->beta, error);
}

static void
hard_sigmoid_forward (const GraftNode *node,
                      const GraftTensor *const *in,
                      GraftTensor *const *out,
                      GraftWorkspace *ws)
{
  const ActivationParams *p = node->params;
  graft_hard_sigmoid_forward (out[0]->data, in[0]->data,
                              graft_tensor_numel (in[0]), p->alpha, p->beta);
}

/* ---- Clip ----
 * Before opset 11 the bounds are attributes; from 11 they are optional
 * inputs (constant or computed at run time), absent meaning unbounded. */

static gboolean
clip_prepare (GraftNode *node,
              const GraftOnnxNode *proto,
              int64_t opset,
              GError **error)
{
  ActivationParams *p = g_new0 (ActivationParams, 1);
  node->params = p;
  if (opset >= 11)
    return TRUE;
  p->bounds_from_attrs = TRUE;
  return graft_attr_float (proto, "min", -INFINITY, &p->min, error) &&
         graft_attr_float (proto, "max", INFINITY, &p->max, error);
}

static gboolean
clip_infer (const GraftNode *node,
            const GraftValueInfo *const *in,
            GraftValueInfo *const *out,
            GError **error)
{
  const ActivationParams *p = node->params;
  GraftDType t = in[0]->dtype;

  if (t != GRAFT_DTYPE_FLOAT && t != GRAFT_DTYPE_INT8 &&
      t != GRAFT_DTYPE_UINT8 && t != GRAFT_DTYPE_INT32 &&
      t != GRAFT_DTYPE_INT64)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "input is %s, supported are float32, int8, uint8, int32 "
                   "and int64",
                   graft_dtype_name (t));
      return FALSE;
    }
  if (p->bounds_from_attrs && t != GRAFT_DTYPE_FLOAT)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "input is %s, only float32 is supported before opset 11",
                   graft_dtype_name (t));
      return FALSE;
    }
  for (int i = 1; i < node->n_inputs && i < 3; i++)
    {
      const char *what = i == 1 ? "min" : "max";
      int64_t numel;
      if (in[i] == NULL)
        continue;
      if (in[i]->dtype != t)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s is %s but the input is %s", what,
                       graft_dtype_name (in[i]->dtype), graft_dtype_name (t));
          return FALSE;
        }
      /* ONNX wants a scalar; exporters also write shape [1]. */
      if (!graft_shape_numel_checked (&in[i]->shape, 1, &numel) || numel != 1)
        {
          g_autofree char *s = graft_shape_to_string (&in[i]->shape);
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s must be a single value, got shape %s", what, s);
          return FALSE;
        }
    }
  out[0]->dtype = t;
  out[0]->shape = in[0]->shape;
  return TRUE;
}

#define CLIP_BOUND(T, idx, dflt)                                               \
  (node->n_inputs > (idx) && in[idx] != NULL ? *(const T *) in[idx]->data      \
                                             : (dflt))

static void
clip_forward (const GraftNode *node,
              const GraftTensor *const *in,
              GraftTensor *const *out,
              GraftWorkspace *ws)
{
  const ActivationParams *p = node->params;
  int64_t n = graft_tensor_numel (in[0]);

  switch (in[0]->dtype)
    {
    case GRAFT_DTYPE_FLOAT:
      if (p->bounds_from_attrs)
        graft_clip_forward (out[0]->data, in[0]->data, n, p->min, p->max);
      else
        graft_clip_forward (out[0]->data, in[0]->data, n,
                            CLIP_BOUND (float, 1, -INFINITY),
                            CLIP_BOUND (float, 2, INFINITY));
      break;
    case GRAFT_DTYPE_INT8:
      graft_clip_forward_i8 (out[0]->data, in[0]->data, n,
                             CLIP_BOUND (int8_t, 1, INT8_MIN),
                             CLIP_BOUND (int8_t, 2, INT8_MAX));
      break;
    case GRAFT_DTYPE_UINT8:
      graft_clip_forward_u8 (out[0]->data, in[0]->data, n,
                             CLIP_BOUND (uint8_t, 1, 0),
                             CLIP_BOUND (uint8_t, 2, UINT8_MAX));
      break;
    case GRAFT_DTYPE_INT32:
      graft_clip_forward_i32 (out[0]->data, in[0]->data, n,
                              CLIP_BOUND (int32_t, 1, INT32_MIN),
                              CLIP_BOUND (int32_t, 2, INT32_MAX));
      break;
    case GRAFT_DTYPE_INT64:
      graft_clip_forward_i64 (out[0]->data, in[0]->data, n,
                              CLIP_BOUND (int64_t, 1, INT64_MIN),
                              CLIP_BOUND (int64_t, 2, INT64_MAX));
      break;
    default:
      /* infer() admits only the types above. */
      break;
    }
}

/* ---- backward ----
 * Gradients are float32: the trainer trains float graphs only. Each
 * accumulates into din[0] when the input needs a gradient, or assigns it
 * when the graph marks it fresh (ws->assign). */

static gboolean
unary_wants_grad (const GraftTensor *const *in,
                  const GraftTensor *const *dout,
                  GraftTensor *const *din)
{
  g_return_val_if_fail (in[0]->dtype == GRAFT_DTYPE_FLOAT, FALSE);
  return dout[0] != NULL && din[0] != NULL;
}

/* Activations whose derivative comes from the input. */
#define DEFINE_BACKWARD_FROM_INPUT(NAME, KERNEL, ...)                          \
  static void NAME (                                                           \
      const GraftNode *node, gboolean train, const GraftTensor *const *in,     \
      const GraftTensor *const *out, const GraftTensor *const *dout,           \
      GraftTensor *const *din, GraftWorkspace *ws)                             \
  {                                                                            \
    const ActivationParams *p G_GNUC_UNUSED = node->params;                    \
    if (unary_wants_grad (in, dout, din))                                      \
      KERNEL (din[0]->data, dout[0]->data, in[0]->data,                        \
              graft_tensor_numel (in[0]), ##__VA_ARGS__,                       \
              !graft_din_assign (ws, 0));                                      \
  }

/* Activations whose derivative comes from the output: they may run in
 * place (inplace_forward), in[0] then holding the output too. */
#define DEFINE_BACKWARD_FROM_OUTPUT(NAME, KERNEL)                              \
  static void NAME (                                                           \
      const GraftNode *node, gboolean train, const GraftTensor *const *in,     \
      const GraftTensor *const *out, const GraftTensor *const *dout,           \
      GraftTensor *const *din, GraftWorkspace *ws)                             \
  {                                                                            \
    if (unary_wants_grad (in, dout, din))                                      \
      KERNEL (din[0]->data, dout[0]->data, out[0]->data,                       \
              graft_tensor_numel (in[0]), !graft_din_assign (ws, 0));          \
  }

/* Relu's gradient mask is the same from y as from x (y > 0 iff x > 0). */
DEFINE_BACKWARD_FROM_OUTPUT (relu_backward, graft_relu_backward)
DEFINE_BACKWARD_FROM_INPUT (hard_swish_backward, graft_hard_swish_backward)
DEFINE_BACKWARD_FROM_INPUT (leaky_relu_backward,
                            graft_leaky_relu_backward,
                            p->alpha)
DEFINE_BACKWARD_FROM_INPUT (hard_sigmoid_backward,
                            graft_hard_sigmoid_backward,
                            p->alpha,
                            p->beta)
DEFINE_BACKWARD_FROM_OUTPUT (sigmoid_backward, graft_sigmoid_backward)
DEFINE_BACKWARD_FROM_OUTPUT (tanh_backward, graft_tanh_backward)
DEFINE_BACKWARD_FROM_OUTPUT (exp_backward, graft_exp_backward)

/* The bounds may be computed inputs too, so they get their gradients. X's
 * gradient is masked from the output (min < y < max iff min < x < max),
 * which lets Clip run in place; the bounds' gradients need x, and the plan
 * runs Clip in place only when the bounds are constants, which never want
 * one. */
static void
clip_backward (const GraftNode *node,
               gboolean train,
               const GraftTensor *const *in,
               const GraftTensor *const *out,
               const GraftTensor *const *dout,
               GraftTensor *const *din,
               GraftWorkspace *ws)
{
  const ActivationParams *p = node->params;
  float min = p->min, max = p->max;
  float *dbound[3] = { NULL, NULL, NULL };
  int64_t n = graft_tensor_numel (in[0]);

  g_return_if_fail (in[0]->dtype == GRAFT_DTYPE_FLOAT);
  if (dout[0] == NULL)
    return;
  if (!p->bounds_from_attrs)
    {
      min = CLIP_BOUND (float, 1, -INFINITY);
      max = CLIP_BOUND (float, 2, INFINITY);
    }
  for (int i = 0; i < node->n_inputs && i < 3; i++)
    dbound[i] = in[i] && din[i] ? din[i]->data : NULL;
  if (dbound[0])
    graft_clip_backward (dbound[0], NULL, NULL, dout[0]->data, out[0]->data, n,
                         min, max, !graft_din_assign (ws, 0));
  /* The two bounds are one value each: assign by zeroing first. */
  for (int i = 1; i < 3; i++)
    if (dbound[i] && graft_din_assign (ws, i))
      *dbound[i] = 0.0f;
  if (dbound[1] || dbound[2])
    graft_clip_backward (NULL, dbound[1], dbound[2], dout[0]->data, in[0]->data,
                         n, min, max, TRUE);
}

/* ---- bounds, for fusing into the op before (see ops.h clamp_bounds) ---- */

static gboolean
relu_clamp_bounds (const GraftNode *node,
                   const GraftTensor *const *in,
                   float *lo,
                   float *hi,
                   gboolean *upper_inclusive)
{
  /* x < 0 ? 0 : x is the clamp to [0, +inf]; its gradient passes where
   * y > 0, +inf included. */
  *lo = 0.0f;
  *hi = INFINITY;
  *upper_inclusive = TRUE;
  return in[0]->dtype == GRAFT_DTYPE_FLOAT;
}

static gboolean
clip_clamp_bounds (const GraftNode *node,
                   const GraftTensor *const *in,
                   float *lo,
                   float *hi,
                   gboolean *upper_inclusive)
{
  const ActivationParams *p = node->params;

  if (in[0]->dtype != GRAFT_DTYPE_FLOAT)
    return FALSE;
  *lo = p->bounds_from_attrs ? p->min : CLIP_BOUND (float, 1, -INFINITY);
  *hi = p->bounds_from_attrs ? p->max : CLIP_BOUND (float, 2, INFINITY);
  *upper_inclusive = FALSE; /* clip_backward: min < y < max */
  return TRUE;
}

/* ---- definitions ---- */

#define UNARY_DEF(NAME, OP, PREPARE, FORWARD, BACKWARD, INPLACE, CLAMP_BOUNDS) \
  const GraftOpDef NAME = {                                                    \
    .op_type = OP,                                                             \
    .min_inputs = 1,                                                           \
    .max_inputs = 1,                                                           \
    .min_outputs = 1,                                                          \
    .max_outputs = 1,                                                          \
    .prepare = PREPARE,                                                        \
    .infer = infer_float_unary,                                                \
    .forward = FORWARD,                                                        \
    .backward = BACKWARD,                                                      \
    .overwrites_output = TRUE, /* elementwise assignment */                    \
    .backward_assigns = TRUE,                                                  \
    .inplace_forward = INPLACE,                                                \
    .clamp_bounds = CLAMP_BOUNDS,                                              \
  }

extern const GraftOpDef graft_op_relu, graft_op_sigmoid, graft_op_tanh,
    graft_op_exp, graft_op_hard_swish, graft_op_leaky_relu,
    graft_op_hard_sigmoid, graft_op_clip;

/* INPLACE: the ops whose backward reads only their output. */
UNARY_DEF (graft_op_relu,
           "Relu",
           NULL,
           relu_forward,
           relu_backward,
           TRUE,
           relu_clamp_bounds);
UNARY_DEF (graft_op_sigmoid,
           "Sigmoid",
           NULL,
           sigmoid_forward,
           sigmoid_backward,
           TRUE,
           NULL);
UNARY_DEF (
    graft_op_tanh, "Tanh", NULL, tanh_forward, tanh_backward, TRUE, NULL);
UNARY_DEF (graft_op_exp, "Exp", NULL, exp_forward, exp_backward, TRUE, NULL);
UNARY_DEF (graft_op_hard_swish,
           "HardSwish",
           NULL,
           hard_swish_forward,
           hard_swish_backward,
           FALSE,
           NULL);
UNARY_DEF (graft_op_leaky_relu,
           "LeakyRelu",
           leaky_relu_prepare,
           leaky_relu_forward,
           leaky_relu_backward,
           FALSE,
           NULL);
UNARY_DEF (graft_op_hard_sigmoid,
           "HardSigmoid",
           hard_sigmoid_prepare,
           hard_sigmoid_forward,
           hard_sigmoid_backward,
           FALSE,
           NULL);

const GraftOpDef graft_op_clip = {
  .op_type = "Clip",
  .min_inputs = 1,
  .max_inputs = 3,
  .min_outputs = 1,
  .max_outputs = 1,
  .prepare = clip_prepare,
  .infer = clip_infer,
  .forward = clip_forward,
  .backward = clip_backward,
  .overwrites_output = TRUE, /* every dtype's loop assigns each element */
  .backward_assigns = TRUE,
  .inplace_forward = TRUE,
  .clamp_bounds = clip_clamp_bounds,
};
