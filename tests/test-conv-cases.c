/* test-conv-cases.c: see test-conv-cases.h. */
#include "test-conv-cases.h"

gboolean
conv_geometry_finish (GraftConvGeometry *g)
{
  g->OH =
      (int) graft_window_output_size (g->H, g->KH, g->stride_h, g->dilation_h,
                                      g->pad_top, g->pad_bottom, FALSE);
  g->OW =
      (int) graft_window_output_size (g->W, g->KW, g->stride_w, g->dilation_w,
                                      g->pad_left, g->pad_right, FALSE);
  return g->OH > 0 && g->OW > 0;
}

const GraftConvGeometry depthwise_shape_cases[] = {
  /* N, C, H, W, OC, OH, OW, KH, KW, group, strides, dilations, pads
   * top, left, bottom, right. 3x3 stride 1 read flat: 7x7, 14x14
   * (several mask periods) with multiplier 2, asymmetric pads */
  { 1, 4, 7, 7, 4, 0, 0, 3, 3, 4, 1, 1, 1, 1, 1, 1, 1, 1 },
  { 3, 3, 14, 14, 6, 0, 0, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1 },
  { 2, 3, 12, 19, 3, 0, 0, 3, 3, 3, 1, 1, 1, 1, 2, 2, 0, 0 },
  { 1, 2, 9, 33, 4, 0, 0, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 2 },
  /* stride 2 phase planes: 14 -> 7, odd sizes with asymmetric pads and
   * multipliers, 7 -> 4 */
  { 2, 5, 14, 14, 5, 0, 0, 3, 3, 5, 2, 2, 1, 1, 1, 1, 1, 1 },
  { 1, 3, 15, 13, 6, 0, 0, 3, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0 },
  { 2, 2, 7, 7, 6, 0, 0, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1 },
  /* stride 2 on planes wide enough for the row kernels */
  { 2, 3, 9, 40, 3, 0, 0, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1 },
  { 1, 2, 7, 41, 4, 0, 0, 3, 3, 2, 2, 2, 1, 1, 1, 0, 0, 1 },
};

const size_t n_depthwise_shape_cases = G_N_ELEMENTS (depthwise_shape_cases);
