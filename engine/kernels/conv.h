/* conv.h: 2-D convolution (ONNX Conv), forward and backward.
 *
 * Shapes (row-major, NCHW):
 *   in     (N, C, H, W)
 *   weight (OC, C / group, KH, KW)
 *   bias   (OC) or NULL
 *   out    (N, OC, OH, OW)
 * 1-D convolution is the H = 1, KH = 1 case.
 *
 * The geometry struct holds everything a kernel needs, so that the backward
 * kernels (dinput, dweight, dbias) reuse the exact window arithmetic of the
 * forward ones.
 *
 * Threads: with at least as many images as OpenMP threads, the sgemm paths
 * give each OpenMP thread whole images and run OpenBLAS single-threaded
 * (openblas_set_num_threads (1), left so while such batches keep coming,
 * given back at the next smaller batch), so one thread pool owns the
 * cores. Every result is the same from run to run.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  int N, C, H, W; /* input */
  int OC, OH, OW; /* output */
  int KH, KW;     /* kernel */
  int group;      /* C and OC are both multiples of group */
  int stride_h, stride_w;
  int dilation_h, dilation_w;
  int pad_top, pad_left, pad_bottom, pad_right; /* zero padding, >= 0 */
} GraftConvGeometry;

/* ---- sliding-window arithmetic, shared with the pooling ops ---- */

/* The number of window positions along one axis of length in, with a
 * kernel of size kernel dilated by dilation, moved by stride over the axis
 * padded by pad_begin and pad_end. ceil_mode (pools only) keeps a last,
 * partial window as long as it starts inside the input or the leading
 * padding. May return <= 0 when the window does not fit. */
int64_t graft_window_output_size (int64_t in,
                                  int64_t kernel,
                                  int64_t stride,
                                  int64_t dilation,
                                  int64_t pad_begin,
                                  int64_t pad_end,
                                  gboolean ceil_mode);

/* The pads of ONNX auto_pad SAME_UPPER / SAME_LOWER: the output has
 * ceil(in / stride) positions and the odd pad goes to the end (UPPER) or
 * the beginning (LOWER). */
void graft_window_same_pads (int64_t in,
                             int64_t kernel,
                             int64_t stride,
                             int64_t dilation,
                             gboolean lower,
                             int64_t *pad_begin,
                             int64_t *pad_end);

/* The output positions o in [0, out_size) whose tap o * stride - pad +
 * offset lands inside [0, in_size) form one range [first, end): the
 * kernels loop over it without bounds checks. */
static inline int
graft_window_first (int pad, int offset, int stride, int out_size)
{
  int need = pad - offset; /* o * stride >= need */
  int o = need <= 0 ? 0 : (need + stride - 1) / stride;
  return o < out_size ? o : out_size;
}

static inline int
graft_window_end (int in_size, int pad, int offset, int stride, int out_size)
{
  int limit = in_size + pad - offset; /* o * stride < limit */
  int o = limit <= 0 ? 0 : (limit + stride - 1) / stride;
  return o < out_size ? o : out_size;
}

/* ---- forward ---- */

/* Direct seven-loop convolution: slow, obviously right; the tests compare
 * the fast path with it. */
void graft_conv2d_forward_reference (float *out,
                                     const float *in,
                                     const float *weight,
                                     const float *bias,
                                     const GraftConvGeometry *g);

/* Floats of scratch memory graft_conv2d_forward() needs for g (may be 0). */
size_t graft_conv2d_forward_scratch_floats (const GraftConvGeometry *g);

/* Fast convolution. Picks one of:
 *  - pointwise (1x1, stride 1, no padding): sgemm straight on the input;
 *  - depthwise (group == C, OC a multiple of C): a direct loop over padded
 *    planes, parallel over images x channels;
 *  - anything else: im2col into scratch + sgemm.
 * The sgemm paths run one sgemm per group and image, or per group and run
 * of images packed side by side when planes are small (7x7, 14x14).
 * scratch holds graft_conv2d_forward_scratch_floats (g) floats. */
void graft_conv2d_forward (float *out,
                           const float *in,
                           const float *weight,
                           const float *bias,
                           const GraftConvGeometry *g,
                           float *scratch);

/* The im2col layout used by the general path: col (C/group * KH * KW,
 * OH * OW) for one image and one group, where in_group points at (C/group,
 * H, W). Out-of-input taps are zero. */
void graft_conv2d_im2col (float *col,
                          const float *in_group,
                          const GraftConvGeometry *g);

/* Its adjoint: dinput_group (C/group, H, W) += col scattered back to the
 * input positions it was read from (padding taps dropped). */
void graft_conv2d_col2im (float *dinput_group,
                          const float *col,
                          const GraftConvGeometry *g);

/* ---- backward ----
 * All three ACCUMULATE (+=); pass NULL for a gradient not wanted:
 *   dinput  (N, C, H, W)          += conv_transpose (dout, weight)
 *   dweight (OC, C/group, KH, KW) += sum over images of dout x im2col (in)
 *   dbias   (OC)                  += sum over N, OH, OW of dout
 * dout is (N, OC, OH, OW). */

/* Plain loops accumulating in double: slow, obviously right. */
void graft_conv2d_backward_reference (float *dinput,
                                      float *dweight,
                                      float *dbias,
                                      const float *dout,
                                      const float *in,
                                      const float *weight,
                                      const GraftConvGeometry *g);

/* Floats of scratch memory graft_conv2d_backward() needs for g. */
size_t graft_conv2d_backward_scratch_floats (const GraftConvGeometry *g);

/* Fast backward:
 *  - sgemm paths: dX via W^T x dY then col2im (pointwise: straight into
 *    dinput), dW via dY x im2col(X)^T; images split over OpenMP threads,
 *    each thread's dW summed in thread order at the end;
 *  - depthwise: direct loops, parallel over channels (a thread owns whole
 *    channels, so dW sums images in order), with 3x3 stride 1 and 2 fast
 *    paths.
 * scratch holds graft_conv2d_backward_scratch_floats (g) floats. */
void graft_conv2d_backward (float *dinput,
                            float *dweight,
                            float *dbias,
                            const float *dout,
                            const float *in,
                            const float *weight,
                            const GraftConvGeometry *g,
                            float *scratch);

/* The same, except that dinput is ASSIGNED (its old contents ignored):
 * the trainer's first writer of a gradient buffer calls this instead of
 * zeroing the buffer in a pass of its own. dweight and dbias accumulate. */
void graft_conv2d_backward_assign (float *dinput,
                                   float *dweight,
                                   float *dbias,
                                   const float *dout,
                                   const float *in,
                                   const float *weight,
                                   const GraftConvGeometry *g,
                                   float *scratch);

G_END_DECLS
