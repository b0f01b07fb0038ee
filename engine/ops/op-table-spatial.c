/* op-table-spatial.c: the spatial ops (Conv, pools, BatchNormalization, Pad).
 */
#include "ops/ops.h"

extern const GraftOpDef graft_op_conv, graft_op_max_pool, graft_op_average_pool,
    graft_op_global_average_pool, graft_op_global_max_pool,
    graft_op_batch_normalization, graft_op_pad;

extern const GraftOpDef *const graft_ops_spatial[];
const GraftOpDef *const graft_ops_spatial[] = {
  &graft_op_conv,
  &graft_op_max_pool,
  &graft_op_average_pool,
  &graft_op_global_average_pool,
  &graft_op_global_max_pool,
  &graft_op_batch_normalization,
  &graft_op_pad,
  NULL,
};
