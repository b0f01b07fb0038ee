/* elementwise.h: activations and numpy-broadcasting binary arithmetic.
 *
 * Pure math on flat arrays: outputs first, then inputs, then sizes. The
 * activations work on n contiguous floats (any shape); the binary ops take
 * the three shapes and broadcast the inputs to the output shape.
 *
 * Each backward kernel goes beside its forward, gradients named d*.
 */
#pragma once

#include "tensor.h"

#include <stdint.h>

G_BEGIN_DECLS

/* ---- activations: out (n), inp (n); out may equal inp ---- */

void graft_relu_forward (float *out, const float *inp, int64_t n);
/* min/max are -INFINITY/INFINITY when absent. NaN stays NaN. */
void graft_clip_forward (
    float *out, const float *inp, int64_t n, float min, float max);
void graft_clip_forward_i8 (
    int8_t *out, const int8_t *inp, int64_t n, int8_t min, int8_t max);
void graft_clip_forward_i32 (
    int32_t *out, const int32_t *inp, int64_t n, int32_t min, int32_t max);
void graft_clip_forward_i64 (
    int64_t *out, const int64_t *inp, int64_t n, int64_t min, int64_t max);
void graft_clip_forward_u8 (
    uint8_t *out, const uint8_t *inp, int64_t n, uint8_t min, uint8_t max);
void
graft_leaky_relu_forward (float *out, const float *inp, int64_t n, float alpha);
void graft_sigmoid_forward (float *out, const float *inp, int64_t n);
/* max(0, min(1, alpha * x + beta)) */
void graft_hard_sigmoid_forward (
    float *out, const float *inp, int64_t n, float alpha, float beta);
/* x * max(0, min(1, x / 6 + 1 / 2)) */
void graft_hard_swish_forward (float *out, const float *inp, int64_t n);
void graft_tanh_forward (float *out, const float *inp, int64_t n);
void graft_exp_forward (float *out, const float *inp, int64_t n);

/* ---- activation backward: dinp (n) += dout (n) * f'(x) ----
 * or dinp = dout * f'(x) when accumulate is FALSE (dinp is then not read).
 * Each reads whichever of inp (n) or the forward's out (n) gives f' most
 * directly. Where f has a kink the one-sided choice is PyTorch's: Relu and
 * LeakyRelu take the x < 0 side at 0, Clip and HardSigmoid pass gradient
 * only strictly inside their linear range (as torch's hardtanh and ReLU6
 * do), HardSwish follows torch's hardswish_backward (x / 3 + 1 / 2 on
 * [-3, 3], so -1/2 at -3 and 3/2 at 3). */

/* inp may be the forward's x or its output y: y > 0 exactly where x > 0
 * (NaN neither), so an in-place Relu still has its gradient. */
void graft_relu_backward (float *dinp,
                          const float *dout,
                          const float *inp,
                          int64_t n,
                          gboolean accumulate);
/* dmin, dmax (one value each, may be NULL) += the gradient reaching the
 * bounds: dout summed where inp < min, where inp > max. For dinp alone inp
 * may also be the output y = clip(x): min < y < max exactly where
 * min < x < max. */
void graft_clip_backward (float *dinp,
                          float *dmin,
                          float *dmax,
                          const float *dout,
                          const float *inp,
                          int64_t n,
                          float min,
                          float max,
                          gboolean accumulate);
void graft_leaky_relu_backward (float *dinp,
                                const float *dout,
                                const float *inp,
                                int64_t n,
                                float alpha,
                                gboolean accumulate);
/* f' = y (1 - y) from the forward's out. */
void graft_sigmoid_backward (float *dinp,
                             const float *dout,
                             const float *out,
                             int64_t n,
                             gboolean accumulate);
void graft_hard_sigmoid_backward (float *dinp,
                                  const float *dout,
                                  const float *inp,
                                  int64_t n,
                                  float alpha,
                                  float beta,
                                  gboolean accumulate);
void graft_hard_swish_backward (float *dinp,
                                const float *dout,
                                const float *inp,
                                int64_t n,
                                gboolean accumulate);
/* f' = 1 - y^2 from the forward's out. */
void graft_tanh_backward (float *dinp,
                          const float *dout,
                          const float *out,
                          int64_t n,
                          gboolean accumulate);
/* f' = y from the forward's out. */
void graft_exp_backward (float *dinp,
                         const float *dout,
                         const float *out,
                         int64_t n,
                         gboolean accumulate);

/* ---- broadcasting binary ops ---- */

typedef enum
{
  GRAFT_BINARY_ADD,
  GRAFT_BINARY_SUB,
  GRAFT_BINARY_MUL,
  GRAFT_BINARY_DIV,
} GraftBinaryOp;

/* out (out_shape) = a (a_shape) OP b (b_shape), numpy broadcasting.
 * out_shape must be the broadcast of a_shape and b_shape (the caller checks
 * with graft_broadcast_shapes). Fast paths: equal shapes, and one input
 * varying along a single contiguous block of the output's axes (scalar,
 * per-channel (1,C,1,1), per-column bias); anything else takes the
 * reference path. */
void graft_binary_forward (float *out,
                           const float *a,
                           const float *b,
                           const GraftShape *out_shape,
                           const GraftShape *a_shape,
                           const GraftShape *b_shape,
                           GraftBinaryOp op);
/* The plain strided loop over every output element. */
void graft_binary_forward_ref (float *out,
                               const float *a,
                               const float *b,
                               const GraftShape *out_shape,
                               const GraftShape *a_shape,
                               const GraftShape *b_shape,
                               GraftBinaryOp op);

/* Accumulates the input gradients of graft_binary_forward: da (a_shape)
 * += dOut/da and db (b_shape) += dOut/db for dout (out_shape), summing over
 * the axes each input was broadcast along; with accumulate_a (_b) FALSE,
 * da (db) is assigned instead and its old contents never read. da or db may be
 * NULL when that gradient is not wanted. Mul and Div read a and b; Add and Sub
 * do not (they may be NULL there). Same fast paths as the forward; the sums
 * over broadcast axes run in double. */
void graft_binary_backward (float *da,
                            float *db,
                            const float *dout,
                            const float *a,
                            const float *b,
                            const GraftShape *out_shape,
                            const GraftShape *a_shape,
                            const GraftShape *b_shape,
                            GraftBinaryOp op,
                            gboolean accumulate_a,
                            gboolean accumulate_b);
/* The plain strided walk, summing into double scratch. */
void graft_binary_backward_ref (float *da,
                                float *db,
                                const float *dout,
                                const float *a,
                                const float *b,
                                const GraftShape *out_shape,
                                const GraftShape *a_shape,
                                const GraftShape *b_shape,
                                GraftBinaryOp op,
                                gboolean accumulate_a,
                                gboolean accumulate_b);

/* Integer versions (shape arithmetic in exported graphs). Integer division
 * truncates toward zero; division by zero gives 0 and INT_MIN / -1 wraps,
 * so hostile data cannot trap. */
void graft_binary_forward_i64 (int64_t *out,
                               const int64_t *a,
                               const int64_t *b,
                               const GraftShape *out_shape,
                               const GraftShape *a_shape,
                               const GraftShape *b_shape,
                               GraftBinaryOp op);
void graft_binary_forward_i32 (int32_t *out,
                               const int32_t *a,
                               const int32_t *b,
                               const GraftShape *out_shape,
                               const GraftShape *a_shape,
                               const GraftShape *b_shape,
                               GraftBinaryOp op);
/* uint8 wraps modulo 256 like numpy. */
void graft_binary_forward_u8 (uint8_t *out,
                              const uint8_t *a,
                              const uint8_t *b,
                              const GraftShape *out_shape,
                              const GraftShape *a_shape,
                              const GraftShape *b_shape,
                              GraftBinaryOp op);

/* Element strides (0 on broadcast axes) of a tensor of shape `in` read at
 * the positions of `out`, aligned to out's rank. Shared with ops that
 * broadcast one operand (Gemm's C). */
void graft_broadcast_strides (int64_t *strides,
                              const GraftShape *in,
                              const GraftShape *out);

/* ---- linear quantization ----
 * Tensors viewed as (outer, C, inner) with one scale and zero point per
 * channel c; per-tensor quantization is C = 1. */

/* out = (x - zero_point) * scale; x and zero_point are x_type (uint8, int8
 * or int32), zero_point NULL meaning 0. The difference is taken exactly in
 * integers before the one float multiply. */
void graft_dequantize_linear_forward (float *out,
                                      const void *x,
                                      GraftDType x_type,
                                      const float *scale,
                                      const void *zero_point,
                                      int64_t outer,
                                      int64_t C,
                                      int64_t inner);
/* out = saturate(round_half_even(x / scale) + zero_point) into out_type
 * (uint8 or int8); NaN gives zero_point. */
void graft_quantize_linear_forward (void *out,
                                    GraftDType out_type,
                                    const float *x,
                                    const float *scale,
                                    const void *zero_point,
                                    int64_t outer,
                                    int64_t C,
                                    int64_t inner);

G_END_DECLS
