/* op-table-dense.c: the dense ops (activations, arithmetic, Gemm, shape ops).
 */
#include "ops/ops.h"

/* Defined in op-activation.c, op-binary.c, op-linear.c, op-softmax.c,
 * op-shape.c and op-quantize.c. */
extern const GraftOpDef graft_op_relu, graft_op_clip, graft_op_leaky_relu,
    graft_op_sigmoid, graft_op_hard_sigmoid, graft_op_hard_swish, graft_op_tanh,
    graft_op_exp;
extern const GraftOpDef graft_op_add, graft_op_sub, graft_op_mul, graft_op_div;
extern const GraftOpDef graft_op_gemm, graft_op_matmul;
extern const GraftOpDef graft_op_softmax, graft_op_log_softmax;
extern const GraftOpDef graft_op_flatten, graft_op_reshape, graft_op_identity,
    graft_op_dropout, graft_op_concat, graft_op_constant, graft_op_shape,
    graft_op_gather, graft_op_unsqueeze, graft_op_squeeze, graft_op_cast,
    graft_op_cast_like, graft_op_constant_of_shape, graft_op_transpose;
extern const GraftOpDef graft_op_dequantize_linear, graft_op_quantize_linear;

extern const GraftOpDef *const graft_ops_dense[];
const GraftOpDef *const graft_ops_dense[] = {
  &graft_op_relu,
  &graft_op_clip,
  &graft_op_leaky_relu,
  &graft_op_sigmoid,
  &graft_op_hard_sigmoid,
  &graft_op_hard_swish,
  &graft_op_tanh,
  &graft_op_exp,
  &graft_op_add,
  &graft_op_sub,
  &graft_op_mul,
  &graft_op_div,
  &graft_op_gemm,
  &graft_op_matmul,
  &graft_op_softmax,
  &graft_op_log_softmax,
  &graft_op_flatten,
  &graft_op_reshape,
  &graft_op_identity,
  &graft_op_dropout,
  &graft_op_concat,
  &graft_op_constant,
  &graft_op_shape,
  &graft_op_gather,
  &graft_op_unsqueeze,
  &graft_op_squeeze,
  &graft_op_cast,
  &graft_op_cast_like,
  &graft_op_constant_of_shape,
  &graft_op_transpose,
  &graft_op_dequantize_linear,
  &graft_op_quantize_linear,
  NULL,
};
