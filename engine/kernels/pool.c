/* pool.c: 2-D max and average pooling, forward and backward; global
 * pools.
 *
 * Shapes: in, dinput (N, C, H, W), out, dout (N, C, OH, OW). Backward runs
 * parallel over planes: windows overlap only within a plane, which one
 * thread owns.
 */
#include "kernels/pool.h"

#include <float.h>
#include <string.h>

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

/* ==== backward ==== */

/* ---- reference ---- */

void
graft_maxpool2d_backward_reference (float *dinput,
                                    const float *dout,
                                    const float *in,
                                    const GraftPoolGeometry *g)
{
  for (int nc = 0; nc < g->N * g->C; nc++)
    for (int oh = 0; oh < g->OH; oh++)
      for (int ow = 0; ow < g->OW; ow++)
        {
          size_t best = 0;
          gboolean found = FALSE;
          for (int kh = 0; kh < g->KH; kh++)
            for (int kw = 0; kw < g->KW; kw++)
              {
                int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                if (ih < 0 || ih >= g->H || iw < 0 || iw >= g->W)
                  continue;
                size_t at = ((size_t) nc * g->H + ih) * g->W + iw;
                if (!found || in[at] > in[best])
                  best = at;
                found = TRUE;
              }
          if (found)
            dinput[best] += dout[((size_t) nc * g->OH + oh) * g->OW + ow];
        }
}

void
graft_avgpool2d_backward_reference (float *dinput,
                                    const float *dout,
                                    const GraftPoolGeometry *g)
{
  for (int nc = 0; nc < g->N * g->C; nc++)
    for (int oh = 0; oh < g->OH; oh++)
      for (int ow = 0; ow < g->OW; ow++)
        {
          int count = 0;
          for (int pass = 0; pass < 2; pass++)
            for (int kh = 0; kh < g->KH; kh++)
              for (int kw = 0; kw < g->KW; kw++)
                {
                  int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                  int iw = ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                  gboolean inside =
                      ih >= 0 && ih < g->H && iw >= 0 && iw < g->W;
                  gboolean padded =
                      ih >= -g->pad_top && ih < g->H + g->pad_bottom &&
                      iw >= -g->pad_left && iw < g->W + g->pad_right;
                  if (pass == 0)
                    count += inside || (g->count_include_pad && padded);
                  else if (inside)
                    dinput[((size_t) nc * g->H + ih) * g->W + iw] +=
                        dout[((size_t) nc * g->OH + oh) * g->OW + ow] / count;
                }
        }
}

/* ---- fast: tap ranges once per window ---- */

/* With accumulate FALSE each plane of dinput is zeroed just before its
 * windows scatter into it (while it is in cache), instead of the whole
 * tensor in a pass of its own. */
static void
maxpool2d_backward (float *dinput,
                    const float *dout,
                    const float *in,
                    const GraftPoolGeometry *g,
                    gboolean accumulate)
{
  int64_t planes = (int64_t) g->N * g->C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      const float *x = in + (size_t) nc * g->H * g->W;
      float *dx = dinput + (size_t) nc * g->H * g->W;
      const float *dy = dout + (size_t) nc * g->OH * g->OW;
      if (!accumulate)
        memset (dx, 0, sizeof (float) * g->H * g->W);
      for (int oh = 0; oh < g->OH; oh++)
        {
          int hs = oh * g->stride_h - g->pad_top, kh0, kh1;
          tap_range (hs, g->KH, g->dilation_h, 0, g->H, &kh0, &kh1);
          for (int ow = 0; ow < g->OW; ow++)
            {
              int ws = ow * g->stride_w - g->pad_left, kw0, kw1;
              tap_range (ws, g->KW, g->dilation_w, 0, g->W, &kw0, &kw1);
              if (kh0 == kh1 || kw0 == kw1)
                continue;
              size_t best = (size_t) (hs + kh0 * g->dilation_h) * g->W + ws +
                            kw0 * g->dilation_w;
              float m = x[best];
              for (int kh = kh0; kh < kh1; kh++)
                {
                  size_t row = (size_t) (hs + kh * g->dilation_h) * g->W;
                  for (int kw = kw0; kw < kw1; kw++)
                    {
                      size_t at = row + ws + kw * g->dilation_w;
                      if (x[at] > m)
                        {
                          m = x[at];
                          best = at;
                        }
                    }
                }
              dx[best] += dy[(size_t) oh * g->OW + ow];
            }
        }
    }
}

void
graft_maxpool2d_backward (float *dinput,
                          const float *dout,
                          const float *in,
                          const GraftPoolGeometry *g)
{
  maxpool2d_backward (dinput, dout, in, g, TRUE);
}

void
graft_maxpool2d_backward_assign (float *dinput,
                                 const float *dout,
                                 const float *in,
                                 const GraftPoolGeometry *g)
{
  maxpool2d_backward (dinput, dout, in, g, FALSE);
}

static void
avgpool2d_backward (float *dinput,
                    const float *dout,
                    const GraftPoolGeometry *g,
                    gboolean accumulate)
{
  int64_t planes = (int64_t) g->N * g->C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      float *dx = dinput + (size_t) nc * g->H * g->W;
      const float *dy = dout + (size_t) nc * g->OH * g->OW;
      if (!accumulate)
        memset (dx, 0, sizeof (float) * g->H * g->W);
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
              int count = g->count_include_pad ? (ph1 - ph0) * (pw1 - pw0)
                                               : (kh1 - kh0) * (kw1 - kw0);
              if (count == 0)
                continue;
              float share = dy[(size_t) oh * g->OW + ow] / count;
              for (int kh = kh0; kh < kh1; kh++)
                {
                  float *r = dx + (size_t) (hs + kh * g->dilation_h) * g->W;
                  for (int kw = kw0; kw < kw1; kw++)
                    r[ws + kw * g->dilation_w] += share;
                }
            }
        }
    }
}

void
graft_avgpool2d_backward (float *dinput,
                          const float *dout,
                          const GraftPoolGeometry *g)
{
  avgpool2d_backward (dinput, dout, g, TRUE);
}

void
graft_avgpool2d_backward_assign (float *dinput,
                                 const float *dout,
                                 const GraftPoolGeometry *g)
{
  avgpool2d_backward (dinput, dout, g, FALSE);
}

static void
global_avgpool_backward (float *dinput,
                         const float *dout,
                         int N,
                         int C,
                         size_t S,
                         gboolean accumulate)
{
  int64_t planes = (int64_t) N * C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      float *dx = dinput + (size_t) nc * S;
      float share = S ? dout[nc] / (float) S : 0.0f;
      if (accumulate)
        {
#pragma omp simd
          for (size_t i = 0; i < S; i++)
            dx[i] += share;
        }
      else
        {
#pragma omp simd
          for (size_t i = 0; i < S; i++)
            dx[i] = share;
        }
    }
}

void
graft_global_avgpool_backward (
    float *dinput, const float *dout, int N, int C, size_t S)
{
  global_avgpool_backward (dinput, dout, N, C, S, TRUE);
}

void
graft_global_avgpool_backward_assign (
    float *dinput, const float *dout, int N, int C, size_t S)
{
  global_avgpool_backward (dinput, dout, N, C, S, FALSE);
}

static void
global_maxpool_backward (float *dinput,
                         const float *dout,
                         const float *in,
                         int N,
                         int C,
                         size_t S,
                         gboolean accumulate)
{
  int64_t planes = (int64_t) N * C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      const float *x = in + (size_t) nc * S;
      if (S == 0)
        continue;
      if (!accumulate)
        memset (dinput + (size_t) nc * S, 0, sizeof (float) * S);
      size_t best = 0;
      for (size_t i = 1; i < S; i++)
        if (x[i] > x[best])
          best = i;
      dinput[(size_t) nc * S + best] += dout[nc];
    }
}

void
graft_global_maxpool_backward (
    float *dinput, const float *dout, const float *in, int N, int C, size_t S)
{
  global_maxpool_backward (dinput, dout, in, N, C, S, TRUE);
}

void
graft_global_maxpool_backward_assign (
    float *dinput, const float *dout, const float *in, int N, int C, size_t S)
{
  global_maxpool_backward (dinput, dout, in, N, C, S, FALSE);
}
