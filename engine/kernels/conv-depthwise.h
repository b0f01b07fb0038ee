/* conv-depthwise.h: conv.c's depthwise fast path (group == C), private to
 * the conv kernels.
 *
 * Shapes: in (N, C, H, W), weight (OC, 1, KH, KW), bias (OC),
 * out (N, OC, OH, OW), OC = C * M (M, the channel multiplier).
 */
#pragma once

#include "kernels/conv.h"

G_BEGIN_DECLS

gboolean graft_depthwise_applies (const GraftConvGeometry *g);

size_t graft_depthwise_forward_scratch_floats (const GraftConvGeometry *g);

/* out (N, OC, OH, OW) from in (N, C, H, W); bias may be NULL. */
void graft_depthwise_forward (float *out,
                              const float *in,
                              const float *weight,
                              const float *bias,
                              const GraftConvGeometry *g,
                              float *scratch);

size_t graft_depthwise_backward_scratch_floats (const GraftConvGeometry *g);

/* dweight += dW; dinput = dX when assign_dinput, else dinput += dX. Either
 * may be NULL. dB is conv.c's. */
void graft_depthwise_backward (float *dinput,
                               gboolean assign_dinput,
                               float *dweight,
                               const float *dout,
                               const float *in,
                               const float *weight,
                               const GraftConvGeometry *g,
                               float *scratch);

G_END_DECLS
