/* pool.c: 2-D max and average pooling, forward; global pools.
 *
 * Shapes: in (N, C, H, W), out (N, C, OH, OW).
 */
#include "kernels/pool.h"

#include <float.h>

/* The kernel taps k in [0, K) whose position start + k * dilation lies in
 * [lo, hi) form one range; returns it in *first, *end. */
static void
tap_range (int start, int K, int dilation, int lo, int hi, int *first, int *end)
{
  int f = 0, e = K;
  if (start < lo)
    f = (lo - start + dilation - 1) / dilation;
  if (start + (K - 1) * dilation >= hi)
    e = hi - start <= 0 ? 0 : (hi - start + dilation - 1) / dilation;
  *first = f < K ? f : K;
  *end = e > *first ? e : *first;
}

/* ---- reference: per-tap bounds checks ---- */

void
graft_maxpool2d_forward_reference (float *out,
                                   const float *in,
                                   const GraftPoolGeometry *g)
{
  for (int nc = 0; nc < g->N * g->C; nc++)
    for (int oh = 0; oh < g->OH; oh++)
      for (int ow = 0; ow < g->OW; ow++)
        {
          float m = -FLT_MAX;
          for (int kh = 0; kh < g->KH; kh++)
            for (int kw = 0; kw < g->KW; kw++)
              {
                int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W)
                  continue;
                float x = in[((size_t) nc * g->H + ih) * g->W + iw];
                if (x > m)
                  m = x;
              }
          out[((size_t) nc * g->OH + oh) * g->OW + ow] = m;
        }
}

void
graft_avgpool2d_forward_reference (float *out,
                                   const float *in,
                                   const GraftPoolGeometry *g)
{
  for (int nc = 0; nc < g->N * g->C; nc++)
    for (int oh = 0; oh < g->OH; oh++)
      for (int ow = 0; ow < g->OW; ow++)
        {
          double sum = 0.0;
          int count = 0;
          for (int kh = 0; kh < g->KH; kh++)
            for (int kw = 0; kw < g->KW; kw++)
              {
                int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                gboolean inside = ih >= 0 && ih < g->H && iw >= 0 && iw < g->W;
                gboolean padded =
                    ih >= -g->pad_top && ih < g->H + g->pad_bottom &&
                    iw >= -g->pad_left && iw < g->W + g->pad_right;
                if (inside)
                  sum += in[((size_t) nc * g->H + ih) * g->W + iw];
                if (inside || (g->count_include_pad && padded))
                  count++;
              }
          out[((size_t) nc * g->OH + oh) * g->OW + ow] =
              count ? (float) (sum / count) : 0.0f;
        }
}

/* ---- fast: tap ranges computed once per output, no checks inside ---- */

void
graft_maxpool2d_forward (float *out,
                         const float *in,
                         const GraftPoolGeometry *g)
{
  int64_t planes = (int64_t) g->N * g->C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      const float *x = in + (size_t) nc * g->H * g->W;
      float *y = out + (size_t) nc * g->OH * g->OW;
      for (int oh = 0; oh < g->OH; oh++)
        {
          int hs = oh * g->stride_h - g->pad_top, kh0, kh1;
          tap_range (hs, g->KH, g->dilation_h, 0, g->H, &kh0, &kh1);
          for (int ow = 0; ow < g->OW; ow++)
            {
              int ws = ow * g->stride_w - g->pad_left, kw0, kw1;
              tap_range (ws, g->KW, g->dilation_w, 0, g->W, &kw0, &kw1);
              float m = -FLT_MAX;
              for (int kh = kh0; kh < kh1; kh++)
                {
                  const float *r =
                      x + (size_t) (hs + kh * g->dilation_h) * g->W;
                  for (int kw = kw0; kw < kw1; kw++)
                    m = MAX (m, r[ws + kw * g->dilation_w]);
                }
              y[(size_t) oh * g->OW + ow] = m;
            }
        }
    }
}

void
graft_avgpool2d_forward (float *out,
                         const float *in,
                         const GraftPoolGeometry *g)
{
  int64_t planes = (int64_t) g->N * g->C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      const float *x = in + (size_t) nc * g->H * g->W;
      float *y = out + (size_t) nc * g->OH * g->OW;
      for (int oh = 0; oh < g->OH; oh++)
        {
          int hs = oh * g->stride_h - g->pad_top, kh0, kh1, ph0, ph1;
          tap_range (hs, g->KH, g->dilation_h, 0, g->H, &kh0, &kh1);
          tap_range (hs, g->KH, g->dilation_h, -g->pad_top,
                     g->H + g->pad_bottom, &ph0, &ph1);
          for (int ow = 0; ow < g->OW; ow++)
            {
              int ws = ow * g->stride_w - g->pad_left, kw0, kw1, pw0, pw1;
              tap_range (ws, g->KW, g->dilation_w, 0, g->W, &kw0, &kw1);
              tap_range (ws, g->KW, g->dilation_w, -g->pad_left,
                         g->W + g->pad_right, &pw0, &pw1);
              float sum = 0.0f;
              for (int kh = kh0; kh < kh1; kh++)
                {
                  const float *r =
                      x + (size_t) (hs + kh * g->dilation_h) * g->W;
                  for (int kw = kw0; kw < kw1; kw++)
                    sum += r[ws + kw * g->dilation_w];
                }
              int count = g->count_include_pad ? (ph1 - ph0) * (pw1 - pw0)
                                               : (kh1 - kh0) * (kw1 - kw0);
              y[(size_t) oh * g->OW + ow] = count ? sum / count : 0.0f;
            }
        }
    }
}

void
graft_global_avgpool_forward (
    float *out, const float *in, int N, int C, size_t S)
{
  int64_t planes = (int64_t) N * C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      const float *x = in + (size_t) nc * S;
      double sum = 0.0;
#pragma omp simd reduction(+ : sum)
      for (size_t i = 0; i < S; i++)
        sum += x[i];
      out[nc] = S ? (float) (sum / S) : 0.0f;
    }
}

void
graft_global_maxpool_forward (
    float *out, const float *in, int N, int C, size_t S)
{
  int64_t planes = (int64_t) N * C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      const float *x = in + (size_t) nc * S;
      float m = -FLT_MAX;
#pragma omp simd reduction(max : m)
      for (size_t i = 0; i < S; i++)
        m = MAX (m, x[i]);
      out[nc] = m;
    }
}
