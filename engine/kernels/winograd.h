/* winograd.h: 3x3 stride-1 convolution by Winograd's minimal filtering
 * F(4x4, 3x3), forward and backward.
 *
 * Shapes (row-major, NCHW), as conv.h:
 *   in     (N, C, H, W)
 *   weight (OC, C, 3, 3)
 *   bias   (OC) or NULL
 *   out    (N, OC, OH, OW)
 *
 * Each 4x4 output tile is Y = A^T [ (G w G^T) (.) (B^T d B) ] A, where d is
 * the 6x6 input patch under it and (.) the elementwise product; summed
 * over input channels this is one (OC x C) x (C x tiles) sgemm per each of
 * the 36 transform positions, 4x fewer multiplies than im2col + sgemm.
 * The backward passes are the exact adjoints of the same transforms.
 *
 * Tiles are processed a block at a time (a few hundred tiles of the whole
 * batch), each block by one OpenMP thread with OpenBLAS single-threaded:
 * forward hands blocks out as threads come free; backward gives each
 * thread a fixed run of whole images (their patches overlap in dX) and
 * its own dW partial sum, added in thread order. No result depends on the
 * schedule; dW's rounding depends on the thread count only.
 */
#pragma once

#include "kernels/conv.h"

G_BEGIN_DECLS

/* TRUE when conv.c should hand g to the kernels below: a 3x3, stride 1,
 * dilation 1, ungrouped convolution (any zero padding) large enough for
 * the transforms to pay off, unless the environment variable
 * GRAFT_NO_WINOGRAD is set to 1 (read once). */
gboolean graft_winograd_applies (const GraftConvGeometry *g);

/* Floats of scratch memory for graft_winograd_forward (g). */
size_t graft_winograd_forward_scratch_floats (const GraftConvGeometry *g);

/* out = conv (in, weight) + bias, as graft_conv2d_forward (). g must be
 * 3x3, stride 1, dilation 1, group 1 (graft_winograd_applies without the
 * size test). scratch holds graft_winograd_forward_scratch_floats (g). */
void graft_winograd_forward (float *out,
                             const float *in,
                             const float *weight,
                             const float *bias,
                             const GraftConvGeometry *g,
                             float *scratch);

/* Floats of scratch memory for graft_winograd_backward (g). */
size_t graft_winograd_backward_scratch_floats (const GraftConvGeometry *g);

/* As graft_conv2d_backward (): ACCUMULATES (+=) into
 *   dinput  (N, C, H, W)
 *   dweight (OC, C, 3, 3)
 *   dbias   (OC)
 * any of which may be NULL; dout is (N, OC, OH, OW). scratch holds
 * graft_winograd_backward_scratch_floats (g). */
void graft_winograd_backward (float *dinput,
                              float *dweight,
                              float *dbias,
                              const float *dout,
                              const float *in,
                              const float *weight,
                              const GraftConvGeometry *g,
                              float *scratch);

G_END_DECLS
