/* op-spatial.h: the window attributes Conv, MaxPool and AveragePool share
 * (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode), read once
 * in prepare() and resolved against the input shape in infer().
 */
#pragma once

#include "onnx-model.h"

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  GRAFT_AUTO_PAD_NOTSET,
  GRAFT_AUTO_PAD_SAME_UPPER,
  GRAFT_AUTO_PAD_SAME_LOWER,
  GRAFT_AUTO_PAD_VALID,
} GraftAutoPad;

/* As given in the node; n_* is 0 for an absent attribute. */
typedef struct
{
  int n_kernel, n_strides, n_dilations, n_pads;
  int64_t kernel[GRAFT_MAX_DIMS];
  int64_t strides[GRAFT_MAX_DIMS];
  int64_t dilations[GRAFT_MAX_DIMS];
  int64_t pads[2 * GRAFT_MAX_DIMS]; /* all begins, then all ends */
  GraftAutoPad auto_pad;
  gboolean ceil_mode;
} GraftWindowAttrs;

/* One 2-D window placement; 1-D windows have KH = 1, stride_h = 1, ... */
typedef struct
{
  int KH, KW;
  int stride_h, stride_w;
  int dilation_h, dilation_w;
  int pad_top, pad_left, pad_bottom, pad_right;
  int OH, OW;
} GraftWindow2d;

/* Reads the attributes and checks their values (positive kernel, strides
 * and dilations, non-negative pads, a known auto_pad). Pools pass
 * with_ceil_mode; dilations are read for all three ops. */
gboolean graft_window_attrs_parse (const GraftOnnxNode *proto,
                                   gboolean with_ceil_mode,
                                   GraftWindowAttrs *attrs,
                                   GError **error);

/* Places the window on the spatial dims in_dims[0 .. n_spatial) (n_spatial
 * is 1 or 2). kernel gives the kernel size when the attribute is absent
 * (Conv passes the weight's dims), or NULL when kernel_shape is required
 * (pools). Checks the attribute counts against n_spatial and that the
 * output is not empty. */
gboolean graft_window_resolve (const GraftWindowAttrs *attrs,
                               int n_spatial,
                               const int64_t *in_dims,
                               const int64_t *kernel,
                               GraftWindow2d *out,
                               GError **error);

G_END_DECLS
