/* batchnorm.h: batch normalization (ONNX BatchNormalization), forward.
 *
 * Shapes: in, out (N, C, S) where S is the product of the spatial dims
 * (1 for a (N, C) input); scale, bias, mean, var and the statistics (C).
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

/* Backward (to come): graft_batchnorm_backward (dinput, dscale, dbias, dout,
 * in, scale, batch_mean, batch_var, epsilon, N, C, S) will sit here. */

G_END_DECLS
