/* batchnorm.h: batch normalization (ONNX BatchNormalization), forward and
 * backward.
 *
 * Shapes: in, out, dout, dinput (N, C, S) where S is the product of the
 * spatial dims (1 for a (N, C) input); scale, bias, mean, var, the
 * statistics and their gradients (C).
 */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/* Inference: out = (in - mean) / sqrt(var + epsilon) * scale + bias. */
void graft_batchnorm_forward_inference (float *out,
                                        const float *in,
                                        const float *scale,
                                        const float *bias,
                                        const float *mean,
                                        const float *var,
                                        float epsilon,
                                        int N,
                                        int C,
                                        size_t S);

/* Training: normalizes with the batch statistics. batch_mean and batch_var
 * (biased: divided by N*S) receive them; backward will reuse them. */
void graft_batchnorm_forward_training (float *out,
                                       float *batch_mean,
                                       float *batch_var,
                                       const float *in,
                                       const float *scale,
                                       const float *bias,
                                       float epsilon,
                                       int N,
                                       int C,
                                       size_t S);

/* running = running * momentum + batch * (1 - momentum), C values; out may
 * alias running. */
void graft_batchnorm_update_running (float *out,
                                     const float *running,
                                     const float *batch,
                                     float momentum,
                                     int C);

/* The batch statistics alone: per-channel mean and biased variance (the
 * numbers graft_batchnorm_forward_training normalizes with; backward
 * recomputes them with this). */
void graft_batchnorm_batch_stats (float *batch_mean,
                                  float *batch_var,
                                  const float *in,
                                  int N,
                                  int C,
                                  size_t S);

/* ---- backward: all outputs ACCUMULATE (+=), NULL when not wanted ----
 * With xhat = (in - mean) / sqrt(var + epsilon):
 *   dscale += sum over N, S of dout * xhat
 *   dbias  += sum over N, S of dout */

/* Training mode, mean and var the batch statistics of in (as computed by
 * graft_batchnorm_batch_stats): their dependence on in is part of the
 * gradient, as in PyTorch:
 *   dinput += scale / std * (dout - mean(dout) - xhat * mean(dout * xhat))
 * with the means over N and S. */
void graft_batchnorm_backward_training (float *dinput,
                                        float *dscale,
                                        float *dbias,
                                        const float *dout,
                                        const float *in,
                                        const float *scale,
                                        const float *batch_mean,
                                        const float *batch_var,
                                        float epsilon,
                                        int N,
                                        int C,
                                        size_t S);

/* The same from in alone: the batch statistics are computed in the pass
 * that sums dout and dout * (in - mean), which saves reading in twice
 * more than batch_stats + backward_training. */
void graft_batchnorm_backward_training_batch (float *dinput,
                                              float *dscale,
                                              float *dbias,
                                              const float *dout,
                                              const float *in,
                                              const float *scale,
                                              float epsilon,
                                              int N,
                                              int C,
                                              size_t S);

/* The same, but dinput is ASSIGNED (=): its old contents are never read
 * (one memory stream less); dscale and dbias still accumulate. */
void graft_batchnorm_backward_training_batch_assign (float *dinput,
                                                     float *dscale,
                                                     float *dbias,
                                                     const float *dout,
                                                     const float *in,
                                                     const float *scale,
                                                     float epsilon,
                                                     int N,
                                                     int C,
                                                     size_t S);

/* Inference mode, mean and var fixed inputs:
 *   dinput += dout * scale / std
 *   dmean  += -sum (dout) * scale / std
 *   dvar   += -sum (dout * (in - mean)) * scale / (2 std^3) */
void graft_batchnorm_backward_inference (float *dinput,
                                         float *dscale,
                                         float *dbias,
                                         float *dmean,
                                         float *dvar,
                                         const float *dout,
                                         const float *in,
                                         const float *scale,
                                         const float *mean,
                                         const float *var,
                                         float epsilon,
                                         int N,
                                         int C,
                                         size_t S);
/* The same with dinput ASSIGNED (=); the per-channel gradients still
 * accumulate. */
void graft_batchnorm_backward_inference_assign (float *dinput,
                                                float *dscale,
                                                float *dbias,
                                                float *dmean,
                                                float *dvar,
                                                const float *dout,
                                                const float *in,
                                                const float *scale,
                                                const float *mean,
                                                const float *var,
                                                float epsilon,
                                                int N,
                                                int C,
                                                size_t S);

/* ---- an activation fused after the normalization ----
 * A Relu or Clip that runs in place over the normalized output can run
 * inside the normalization's passes: forward writes
 *   out = min (max (bn, lo), hi)
 * by comparisons, as graft_clip_forward does (NaN passes through), and
 * backward takes dout, the gradient of that clamped output, and out itself
 * (y), and uses dout where lo < y < hi and 0 elsewhere, in every pass, as
 * the activation's backward from its output would. Relu is lo 0, hi
 * +inf, with upper_inclusive: its gradient passes at y = +inf, where
 * Clip's (y < max) does not. The masked gradient is never written. */
typedef struct
{
  float lo;
  float hi;
  gboolean upper_inclusive;
} GraftClamp;

/* graft_batchnorm_forward_inference followed by the clamp. */
void graft_batchnorm_forward_inference_clamp (float *out,
                                              const float *in,
                                              const float *scale,
                                              const float *bias,
                                              const float *mean,
                                              const float *var,
                                              float epsilon,
                                              const GraftClamp *clamp,
                                              int N,
                                              int C,
                                              size_t S);

/* graft_batchnorm_forward_training followed by the clamp. */
void graft_batchnorm_forward_training_clamp (float *out,
                                             float *batch_mean,
                                             float *batch_var,
                                             const float *in,
                                             const float *scale,
                                             const float *bias,
                                             float epsilon,
                                             const GraftClamp *clamp,
                                             int N,
                                             int C,
                                             size_t S);

/* graft_batchnorm_backward_training_batch(_assign) of the masked dout; out
 * (N, C, S) is the clamped forward output. dinput accumulates, or is
 * assigned when accumulate is FALSE; dscale and dbias accumulate. */
void graft_batchnorm_backward_training_masked (float *dinput,
                                               float *dscale,
                                               float *dbias,
                                               const float *dout,
                                               const float *out,
                                               const float *in,
                                               const float *scale,
                                               float epsilon,
                                               const GraftClamp *clamp,
                                               int N,
                                               int C,
                                               size_t S,
                                               gboolean accumulate);

/* graft_batchnorm_backward_inference(_assign) of the masked dout. */
void graft_batchnorm_backward_inference_masked (float *dinput,
                                                float *dscale,
                                                float *dbias,
                                                float *dmean,
                                                float *dvar,
                                                const float *dout,
                                                const float *out,
                                                const float *in,
                                                const float *scale,
                                                const float *mean,
                                                const float *var,
                                                float epsilon,
                                                const GraftClamp *clamp,
                                                int N,
                                                int C,
                                                size_t S,
                                                gboolean accumulate);

/* References for the fused forms, composed of the separate steps: the
 * forward kernel then a plain clamp loop; a plain mask loop then the
 * double-precision backward references below (which accumulate). */
void graft_batchnorm_forward_training_clamp_reference (float *out,
                                                       float *batch_mean,
                                                       float *batch_var,
                                                       const float *in,
                                                       const float *scale,
                                                       const float *bias,
                                                       float epsilon,
                                                       const GraftClamp *clamp,
                                                       int N,
                                                       int C,
                                                       size_t S);
void graft_batchnorm_forward_inference_clamp_reference (float *out,
                                                        const float *in,
                                                        const float *scale,
                                                        const float *bias,
                                                        const float *mean,
                                                        const float *var,
                                                        float epsilon,
                                                        const GraftClamp *clamp,
                                                        int N,
                                                        int C,
                                                        size_t S);
void
graft_batchnorm_backward_training_masked_reference (float *dinput,
                                                    float *dscale,
                                                    float *dbias,
                                                    const float *dout,
                                                    const float *out,
                                                    const float *in,
                                                    const float *scale,
                                                    const float *batch_mean,
                                                    const float *batch_var,
                                                    float epsilon,
                                                    const GraftClamp *clamp,
                                                    int N,
                                                    int C,
                                                    size_t S);
void
graft_batchnorm_backward_inference_masked_reference (float *dinput,
                                                     float *dscale,
                                                     float *dbias,
                                                     float *dmean,
                                                     float *dvar,
                                                     const float *dout,
                                                     const float *out,
                                                     const float *in,
                                                     const float *scale,
                                                     const float *mean,
                                                     const float *var,
                                                     float epsilon,
                                                     const GraftClamp *clamp,
                                                     int N,
                                                     int C,
                                                     size_t S);

/* Plain double-precision versions of the training and inference
 * backward, for the tests. */
void graft_batchnorm_backward_training_reference (float *dinput,
                                                  float *dscale,
                                                  float *dbias,
                                                  const float *dout,
                                                  const float *in,
                                                  const float *scale,
                                                  const float *batch_mean,
                                                  const float *batch_var,
                                                  float epsilon,
                                                  int N,
                                                  int C,
                                                  size_t S);
void graft_batchnorm_backward_inference_reference (float *dinput,
                                                   float *dscale,
                                                   float *dbias,
                                                   float *dmean,
                                                   float *dvar,
                                                   const float *dout,
                                                   const float *in,
                                                   const float *scale,
                                                   const float *mean,
                                                   const float *var,
                                                   float epsilon,
                                                   int N,
                                                   int C,
                                                   size_t S);

G_END_DECLS
