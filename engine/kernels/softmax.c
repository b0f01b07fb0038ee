/* softmax.c: softmax and log-softmax along one axis. */
#include "kernels/softmax.h"

#include <math.h>

/* One contiguous row of n values. */
static void
softmax_row (float *out, const float *inp, int64_t n, gboolean log_softmax)
{
  float max = -INFINITY, sum = 0.0f;

  for (int64_t i = 0; i < n; i++)
    max = inp[i] > max ? inp[i] : max;
  if (log_softmax)
    {
      for (int64_t i = 0; i < n; i++)
        sum += expf (inp[i] - max);
      float log_sum = logf (sum);
      for (int64_t i = 0; i < n; i++)
        out[i] = (inp[i] - max) - log_sum;
    }
  else
    {
      for (int64_t i = 0; i < n; i++)
        {
          out[i] = expf (inp[i] - max);
          sum += out[i];
        }
      float scale = 1.0f / sum;
      for (int64_t i = 0; i < n; i++)
        out[i] *= scale;
    }
}

/* Softmax over the rows of an (n, stride) block, for the `width` columns
 * starting at out/inp: every pass walks rows contiguously and works on
 * `width` softmaxes at once. */
#define COLUMN_CHUNK 256

static void
softmax_columns (float *out,
                 const float *inp,
                 int64_t n,
                 int64_t stride,
                 int64_t width,
                 gboolean log_softmax)
{
  // out (n, stride), inp (n, stride); columns [0, width), width <= CHUNK
  float max[COLUMN_CHUNK], sum[COLUMN_CHUNK];

  for (int64_t j = 0; j < width; j++)
    {
      max[j] = -INFINITY;
      sum[j] = 0.0f;
    }
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < width; j++)
      max[j] = inp[i * stride + j] > max[j] ? inp[i * stride + j] : max[j];
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < width; j++)
      {
        float e = expf (inp[i * stride + j] - max[j]);
        if (!log_softmax)
          out[i * stride + j] = e;
        sum[j] += e;
      }
  if (log_softmax)
    {
      /* (x - max) first: it is exact, while folding log(sum) into a large
       * max would round it away. */
      for (int64_t j = 0; j < width; j++)
        sum[j] = logf (sum[j]);
      for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < width; j++)
          out[i * stride + j] = (inp[i * stride + j] - max[j]) - sum[j];
      return;
    }
  for (int64_t j = 0; j < width; j++)
    sum[j] = 1.0f / sum[j];
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < width; j++)
      out[i * stride + j] *= sum[j];
}

void
graft_softmax_forward (float *out,
                       const float *inp,
                       int64_t outer,
                       int64_t n,
                       int64_t inner,
                       gboolean log_softmax)
{
  // out (outer, n, inner), inp (outer, n, inner)
  if (n == 0 || inner == 0)
    return;
  for (int64_t o = 0; o < outer; o++)
    {
      if (inner == 1)
        softmax_row (out + o * n, inp + o * n, n, log_softmax);
      else
        for (int64_t j = 0; j < inner; j += COLUMN_CHUNK)
          softmax_columns (out + o * n * inner + j, inp + o * n * inner + j, n,
                           inner, MIN (COLUMN_CHUNK, inner - j), log_softmax);
    }
}

void
graft_softmax_forward_ref (float *out,
                           const float *inp,
                           int64_t outer,
                           int64_t n,
                           int64_t inner,
                           gboolean log_softmax)
{
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++)
      {
        const float *x = inp + o * n * inner + j;
        float *y = out + o * n * inner + j;
        double max = -INFINITY, sum = 0.0;
        for (int64_t i = 0; i < n; i++)
          max = x[i * inner] > max ? x[i * inner] : max;
        for (int64_t i = 0; i < n; i++)
          sum += exp ((double) x[i * inner] - max);
        for (int64_t i = 0; i < n; i++)
          y[i * inner] =
              log_softmax ? (float) ((double) x[i * inner] - max - log (sum))
                          : (float) (exp ((double) x[i * inner] - max) / sum);
      }
}

/* The softmax backward over the rows of an (n, stride) block for `width`
 * columns, as softmax_columns walks them; width 1 with stride 1 is one
 * contiguous row. */
static void
softmax_backward_columns (float *dinp,
                          const float *dout,
                          const float *out,
                          int64_t n,
                          int64_t stride,
                          int64_t width,
                          gboolean log_softmax)
{
  // dinp, dout, out (n, stride); columns [0, width), width <= CHUNK
  double dot[COLUMN_CHUNK];

  for (int64_t j = 0; j < width; j++)
    dot[j] = 0.0;
  /* softmax: sum dout * y; log-softmax: sum dout */
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < width; j++)
      dot[j] += log_softmax ? dout[i * stride + j]
                            : dout[i * stride + j] * out[i * stride + j];
  for (int64_t i = 0; i < n; i++)
    for (int64_t j = 0; j < width; j++)
      {
        int64_t e = i * stride + j;
        float s = (float) dot[j];
        if (log_softmax)
          dinp[e] += dout[e] - expf (out[e]) * s;
        else
          dinp[e] += out[e] * (dout[e] - s);
      }
}

void
graft_softmax_backward (float *dinp,
                        const float *dout,
                        const float *out,
                        int64_t outer,
                        int64_t n,
                        int64_t inner,
                        gboolean log_softmax)
{
  // dinp (outer, n, inner), dout (outer, n, inner), out (outer, n, inner)
  if (n == 0 || inner == 0)
    return;
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j += COLUMN_CHUNK)
      {
        int64_t off = o * n * inner + j;
        softmax_backward_columns (dinp + off, dout + off, out + off, n, inner,
                                  MIN (COLUMN_CHUNK, inner - j), log_softmax);
      }
}

void
graft_softmax_backward_ref (float *dinp,
                            const float *dout,
                            const float *out,
                            int64_t outer,
                            int64_t n,
                            int64_t inner,
                            gboolean log_softmax)
{
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < inner; j++)
      {
        int64_t base = o * n * inner + j;
        double sum = 0.0;
        for (int64_t i = 0; i < n; i++)
          sum += log_softmax
                     ? (double) dout[base + i * inner]
                     : (double) dout[base + i * inner] * out[base + i * inner];
        for (int64_t i = 0; i < n; i++)
          {
            double g = dout[base + i * inner], y = out[base + i * inner];
            dinp[base + i * inner] +=
                (float) (log_softmax ? g - exp (y) * sum : y * (g - sum));
          }
      }
}
