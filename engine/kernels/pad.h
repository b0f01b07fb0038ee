/* pad.h: padding and cropping of an n-dimensional array (ONNX Pad).
 *
 * Works on elements of any size (the op pads float, int and bool tensors
 * alike). For each axis i: out_dims[i] = in_dims[i] + pads_begin[i] +
 * pads_end[i]; a negative pad crops.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum
{
  GRAFT_PAD_CONSTANT, /* fill with a value */
  GRAFT_PAD_REFLECT,  /* mirror without repeating the edge: 2 1 | 0 1 2 | 1 0 */
  GRAFT_PAD_EDGE,     /* repeat the edge: 0 0 | 0 1 2 | 2 2 */
} GraftPadMode;

/* out (out_dims), in (in_dims), ndim >= 1 axes; fill points at one element
 * (used by GRAFT_PAD_CONSTANT only). in_dims must be > 0 along any axis
 * that reads outside the input in REFLECT or EDGE mode. */
void graft_pad_forward (void *out,
                        const void *in,
                        size_t elem_size,
                        const void *fill,
                        GraftPadMode mode,
                        int ndim,
                        const int64_t *in_dims,
                        const int64_t *pads_begin,
                        const int64_t *out_dims);

/* The gradient of graft_pad_forward on floats: dinput (in_dims) += every
 * dout (out_dims) element at the input element it was copied from (edge
 * and reflect copy some several times; cropped elements get nothing).
 * *dfill += the sum of dout over the filled elements (CONSTANT mode) when
 * dfill is not NULL; dinput may be NULL. */
void graft_pad_backward (float *dinput,
                         double *dfill,
                         const float *dout,
                         GraftPadMode mode,
                         int ndim,
                         const int64_t *in_dims,
                         const int64_t *pads_begin,
                         const int64_t *out_dims);

G_END_DECLS
