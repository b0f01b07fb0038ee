/* pool.h: 2-D pooling (ONNX MaxPool, AveragePool, GlobalAveragePool,
 * GlobalMaxPool), forward and backward.
 *
 * Shapes (NCHW): in (N, C, H, W), out (N, C, OH, OW). 1-D pooling is the
 * H = 1, KH = 1 case. The window arithmetic is the one of conv.h
 * (graft_window_*), so a backward pass can walk the same windows.
 */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

typedef struct
{
  int N, C, H, W; /* input */
  int OH, OW;     /* output */
  int KH, KW;
  int stride_h, stride_w;
  int dilation_h, dilation_w;
  int pad_top, pad_left, pad_bottom, pad_right;
  /* AveragePool: divide by the taps inside the padded input (TRUE) or
   * inside the input alone (FALSE). Taps that ceil_mode adds beyond the
   * trailing padding never count. */
  gboolean count_include_pad;
} GraftPoolGeometry;

/* out[n,c,oh,ow] = max over the window's taps inside the input (padding
 * never wins). A window with no tap inside gives -FLT_MAX. */
void graft_maxpool2d_forward (float *out,
                              const float *in,
                              const GraftPoolGeometry *g);

/* out[n,c,oh,ow] = sum over the window's taps inside the input / count,
 * count as g->count_include_pad says. */
void graft_avgpool2d_forward (float *out,
                              const float *in,
                              const GraftPoolGeometry *g);

/* Plain per-tap versions of the two above, for the tests. */
void graft_maxpool2d_forward_reference (float *out,
                                        const float *in,
                                        const GraftPoolGeometry *g);
void graft_avgpool2d_forward_reference (float *out,
                                        const float *in,
                                        const GraftPoolGeometry *g);

/* Global pools: in (N, C, S) with S the product of the spatial dims,
 * out (N, C). */
void graft_global_avgpool_forward (
    float *out, const float *in, int N, int C, size_t S);
void graft_global_maxpool_forward (
    float *out, const float *in, int N, int C, size_t S);

/* ---- backward: dinput (N, C, H, W) ACCUMULATES (+=) ----
 * dout is (N, C, OH, OW). */

/* Each window's gradient goes to its largest tap, the first one in
 * row-major window order on ties (as PyTorch); a window with no tap
 * inside the input passes nothing. */
void graft_maxpool2d_backward (float *dinput,
                               const float *dout,
                               const float *in,
                               const GraftPoolGeometry *g);

/* Each window's gradient / count goes to every tap inside the input. */
void graft_avgpool2d_backward (float *dinput,
                               const float *dout,
                               const GraftPoolGeometry *g);

/* Plain per-tap versions of the two above, for the tests. */
void graft_maxpool2d_backward_reference (float *dinput,
                                         const float *dout,
                                         const float *in,
                                         const GraftPoolGeometry *g);
void graft_avgpool2d_backward_reference (float *dinput,
                                         const float *dout,
                                         const GraftPoolGeometry *g);

/* Global pools: dinput (N, C, S), dout (N, C). Max: the first largest. */
void graft_global_avgpool_backward (
    float *dinput, const float *dout, int N, int C, size_t S);
void graft_global_maxpool_backward (
    float *dinput, const float *dout, const float *in, int N, int C, size_t S);

/* The four fast kernels above with dinput ASSIGNED (=) rather than
 * accumulated: its old contents are never read (each plane is zeroed
 * just before its windows scatter into it, where windows may overlap). */
void graft_maxpool2d_backward_assign (float *dinput,
                                      const float *dout,
                                      const float *in,
                                      const GraftPoolGeometry *g);
void graft_avgpool2d_backward_assign (float *dinput,
                                      const float *dout,
                                      const GraftPoolGeometry *g);
void graft_global_avgpool_backward_assign (
    float *dinput, const float *dout, int N, int C, size_t S);
void graft_global_maxpool_backward_assign (
    float *dinput, const float *dout, const float *in, int N, int C, size_t S);

G_END_DECLS
