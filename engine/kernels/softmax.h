/* softmax.h: softmax and log-softmax along one axis of a float32 tensor.
 *
 * The tensor is viewed as (outer, n, inner) with the softmax taken over n:
 * ONNX's opset < 13 form (flatten at axis to 2-D) is inner = 1 with n the
 * product of the trailing dims; opset >= 13 is n = dims[axis].
 *
 * Each backward kernel goes beside its forward, gradients named d*.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* out (outer, n, inner) = softmax of inp over n, or its log when
 * log_softmax. Subtracts the maximum first, so large inputs stay finite. */
void graft_softmax_forward (float *out,
                            const float *inp,
                            int64_t outer,
                            int64_t n,
                            int64_t inner,
                            gboolean log_softmax);
/* The direct formula in double precision, one strided row at a time. */
void graft_softmax_forward_ref (float *out,
                                const float *inp,
                                int64_t outer,
                                int64_t n,
                                int64_t inner,
                                gboolean log_softmax);

/* Accumulates dinp (outer, n, inner) from dout and the forward's out:
 * softmax:      dinp += y * (dout - sum_n dout * y)
 * log-softmax:  dinp += dout - exp(y) * sum_n dout */
void graft_softmax_backward (float *dinp,
                             const float *dout,
                             const float *out,
                             int64_t outer,
                             int64_t n,
                             int64_t inner,
                             gboolean log_softmax);
/* The same formulas in double, one strided row at a time. */
void graft_softmax_backward_ref (float *dinp,
                                 const float *dout,
                                 const float *out,
                                 int64_t outer,
                                 int64_t n,
                                 int64_t inner,
                                 gboolean log_softmax);

G_END_DECLS
