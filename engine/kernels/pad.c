/* pad.c: n-dimensional padding and cropping, forward and backward. */
#include "kernels/pad.h"

#include <string.h>

/* The input index an output index o reads along an axis of length n, or -1
 * for the fill value. */
static int64_t
source_index (int64_t o, int64_t pad_begin, int64_t n, GraftPadMode mode)
{
  int64_t i = o - pad_begin;
  if (i >= 0 && i < n)
    return i;
  switch (mode)
    {
    case GRAFT_PAD_EDGE:
      return i < 0 ? 0 : n - 1;
    case GRAFT_PAD_REFLECT:
      {
        if (n == 1)
          return 0;
        /* Reflection is periodic with period 2 (n - 1). */
        int64_t period = 2 * (n - 1);
        int64_t r = i % period;
        if (r < 0)
          r += period;
        return r < n ? r : period - r;
      }
    case GRAFT_PAD_CONSTANT:
    default:
      return -1;
    }
}

static void
fill_elements (char *dst, const void *fill, size_t elem_size, int64_t count)
{
  for (int64_t k = 0; k < count; k++)
    memcpy (dst + k * elem_size, fill, elem_size);
}

void
graft_pad_forward (void *out,
                   const void *in,
                   size_t elem_size,
                   const void *fill,
                   GraftPadMode mode,
                   int ndim,
                   const int64_t *in_dims,
                   const int64_t *pads_begin,
                   const int64_t *out_dims)
{
  g_return_if_fail (ndim >= 1 && ndim <= 16);

  int last = ndim - 1;
  int64_t rows = 1, in_strides[16];
  int64_t in_len = in_dims[last], out_len = out_dims[last];
  int64_t pad = pads_begin[last];
  for (int d = 0; d < last; d++)
    rows *= out_dims[d];
  in_strides[last] = 1;
  for (int d = last - 1; d >= 0; d--)
    in_strides[d] = in_strides[d + 1] * in_dims[d + 1];
  if (out_len == 0 || rows == 0)
    return;

  /* The output columns [copy_first, copy_end) read the input contiguously;
   * the others are filled, or mapped one by one. */
  int64_t copy_first = CLAMP (pad, 0, out_len);
  int64_t copy_end = CLAMP (pad + in_len, copy_first, out_len);

  for (int64_t row = 0; row < rows; row++)
    {
      char *dst = (char *) out + (size_t) (row * out_len) * elem_size;
      /* The input row this output row reads, walking the outer axes. */
      int64_t rem = row, src_row = 0;
      gboolean outside = FALSE;
      for (int d = last - 1; d >= 0; d--)
        {
          int64_t o = rem % out_dims[d];
          rem /= out_dims[d];
          int64_t i = source_index (o, pads_begin[d], in_dims[d], mode);
          if (i < 0)
            outside = TRUE;
          else
            src_row += i * in_strides[d];
        }
      if (outside)
        {
          fill_elements (dst, fill, elem_size, out_len);
          continue;
        }
      const char *src = (const char *) in + (size_t) src_row * elem_size;
      for (int64_t o = 0; o < copy_first; o++)
        {
          int64_t i = source_index (o, pad, in_len, mode);
          if (i < 0)
            memcpy (dst + o * elem_size, fill, elem_size);
          else
            memcpy (dst + o * elem_size, src + i * elem_size, elem_size);
        }
      if (copy_end > copy_first)
        memcpy (dst + copy_first * elem_size,
                src + (copy_first - pad) * elem_size,
                (size_t) (copy_end - copy_first) * elem_size);
      for (int64_t o = copy_end; o < out_len; o++)
        {
          int64_t i = source_index (o, pad, in_len, mode);
          if (i < 0)
            memcpy (dst + o * elem_size, fill, elem_size);
          else
            memcpy (dst + o * elem_size, src + i * elem_size, elem_size);
        }
    }
}

/* Walks the output rows as graft_pad_forward does, sending each element
 * back to its source. */
void
graft_pad_backward (float *dinput,
                    double *dfill,
                    const float *dout,
                    GraftPadMode mode,
                    int ndim,
                    const int64_t *in_dims,
                    const int64_t *pads_begin,
                    const int64_t *out_dims)
{
  g_return_if_fail (ndim >= 1 && ndim <= 16);

  int last = ndim - 1;
  int64_t rows = 1, in_strides[16];
  int64_t in_len = in_dims[last], out_len = out_dims[last];
  int64_t pad = pads_begin[last];
  double fill_sum = 0.0;
  for (int d = 0; d < last; d++)
    rows *= out_dims[d];
  in_strides[last] = 1;
  for (int d = last - 1; d >= 0; d--)
    in_strides[d] = in_strides[d + 1] * in_dims[d + 1];
  if (out_len == 0 || rows == 0)
    return;

  int64_t copy_first = CLAMP (pad, 0, out_len);
  int64_t copy_end = CLAMP (pad + in_len, copy_first, out_len);

  for (int64_t row = 0; row < rows; row++)
    {
      const float *dy = dout + row * out_len;
      int64_t rem = row, src_row = 0;
      gboolean outside = FALSE;
      for (int d = last - 1; d >= 0; d--)
        {
          int64_t o = rem % out_dims[d];
          rem /= out_dims[d];
          int64_t i = source_index (o, pads_begin[d], in_dims[d], mode);
          if (i < 0)
            outside = TRUE;
          else
            src_row += i * in_strides[d];
        }
      if (outside)
        {
          for (int64_t o = 0; o < out_len; o++)
            fill_sum += dy[o];
          continue;
        }
      float *dx = dinput ? dinput + src_row : NULL;
      for (int64_t o = 0; o < out_len; o++)
        {
          if (o == copy_first && copy_end > copy_first && dx)
            {
              /* the contiguous middle */
              float *d = dx + (copy_first - pad);
              const float *s = dy + copy_first;
              int64_t n = copy_end - copy_first;
              for (int64_t k = 0; k < n; k++)
                d[k] += s[k];
              o = copy_end - 1;
              continue;
            }
          int64_t i = source_index (o, pad, in_len, mode);
          if (i < 0)
            fill_sum += dy[o];
          else if (dx)
            dx[i] += dy[o];
        }
    }
  if (dfill)
    *dfill += fill_sum;
}
