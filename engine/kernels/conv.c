/* conv.c: 2-D convolution forward, a reference kernel and a fast one.
 *
 * Shapes: in (N, C, H, W), weight (OC, C/group, KH, KW), bias (OC),
 * out (N, OC, OH, OW). Cg = C/group, OCg = OC/group.
 */
#include "kernels/conv.h"

#include <cblas.h>
#include <omp.h>
#include <string.h>

int64_t
graft_window_output_size (int64_t in,
                          int64_t kernel,
                          int64_t stride,
                          int64_t dilation,
                          int64_t pad_begin,
                          int64_t pad_end,
                          gboolean ceil_mode)
{
  int64_t span = in + pad_begin + pad_end - ((kernel - 1) * dilation + 1);
  if (span < 0)
    return 0;
  if (!ceil_mode)
    return span / stride + 1;
  int64_t out = (span + stride - 1) / stride + 1;
  /* The last window must start inside the input or the leading padding,
   * never in the trailing padding alone (as PyTorch and onnxruntime). */
  if ((out - 1) * stride >= in + pad_begin)
    out--;
  return out;
}

void
graft_window_same_pads (int64_t in,
                        int64_t kernel,
                        int64_t stride,
                        int64_t dilation,
                        gboolean lower,
                        int64_t *pad_begin,
                        int64_t *pad_end)
{
  int64_t out = (in + stride - 1) / stride;
  int64_t total = (out - 1) * stride + (kernel - 1) * dilation + 1 - in;
  if (total < 0)
    total = 0;
  *pad_begin = lower ? (total + 1) / 2 : total / 2;
  *pad_end = total - *pad_begin;
}

/* ---- reference ---- */

void
graft_conv2d_forward_reference (float *out,
                                const float *in,
                                const float *weight,
                                const float *bias,
                                const GraftConvGeometry *g)
{
  int Cg = g->C / g->group, OCg = g->OC / g->group;

  for (int n = 0; n < g->N; n++)
    for (int oc = 0; oc < g->OC; oc++)
      {
        int grp = oc / OCg;
        for (int oh = 0; oh < g->OH; oh++)
          for (int ow = 0; ow < g->OW; ow++)
            {
              double sum = bias ? bias[oc] : 0.0;
              for (int ci = 0; ci < Cg; ci++)
                {
                  int c = grp * Cg + ci;
                  for (int kh = 0; kh < g->KH; kh++)
                    {
                      int ih =
                          oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                      if (ih < 0 || ih >= g->H)
                        continue;
                      for (int kw = 0; kw < g->KW; kw++)
                        {
                          int iw = ow * g->stride_w - g->pad_left +
                                   kw * g->dilation_w;
                          if (iw < 0 || iw >= g->W)
                            continue;
                          float x =
                              in[(((size_t) n * g->C + c) * g->H + ih) * g->W +
                                 iw];
                          float w =
                              weight[(((size_t) oc * Cg + ci) * g->KH + kh) *
                                         g->KW +
                                     kw];
                          sum += (double) x * w;
                        }
                    }
                }
              out[(((size_t) n * g->OC + oc) * g->OH + oh) * g->OW + ow] =
                  (float) sum;
            }
      }
}

/* ---- fast path: helpers ---- */

static gboolean
is_pointwise (const GraftConvGeometry *g)
{
  return g->KH == 1 && g->KW == 1 && g->stride_h == 1 && g->stride_w == 1 &&
         g->pad_top == 0 && g->pad_left == 0 && g->pad_bottom == 0 &&
         g->pad_right == 0;
}

static gboolean
is_depthwise (const GraftConvGeometry *g)
{
  return g->group == g->C && g->C > 1;
}

/* The zero-padded input plane a depthwise window reads: rows and columns
 * up to the last tap of the last output, no further. */
static int
padded_rows (const GraftConvGeometry *g)
{
  return (g->OH - 1) * g->stride_h + (g->KH - 1) * g->dilation_h + 1;
}

static int
padded_cols (const GraftConvGeometry *g)
{
  return (g->OW - 1) * g->stride_w + (g->KW - 1) * g->dilation_w + 1;
}

typedef enum
{
  DEPTHWISE_3X3_S1,
  DEPTHWISE_3X3_S2, /* reads a plane split into even and odd columns */
  DEPTHWISE_GENERIC,
} DepthwiseKind;

static DepthwiseKind
depthwise_kind (const GraftConvGeometry *g)
{
  if (g->KH != 3 || g->KW != 3 || g->dilation_h != 1 || g->dilation_w != 1 ||
      g->stride_h != g->stride_w)
    return DEPTHWISE_GENERIC;
  if (g->stride_h == 1)
    return DEPTHWISE_3X3_S1;
  if (g->stride_h == 2)
    return DEPTHWISE_3X3_S2;
  return DEPTHWISE_GENERIC;
}

/* TRUE when the plane needs neither padding nor reordering: the input
 * itself serves. */
static gboolean
depthwise_reads_input (const GraftConvGeometry *g)
{
  return depthwise_kind (g) != DEPTHWISE_3X3_S2 && g->pad_top == 0 &&
         g->pad_left == 0 && padded_rows (g) <= g->H && padded_cols (g) <= g->W;
}

size_t
graft_conv2d_forward_scratch_floats (const GraftConvGeometry *g)
{
  if (g->N == 0 || g->OH <= 0 || g->OW <= 0)
    return 0;
  if (is_depthwise (g))
    {
      if (depthwise_reads_input (g))
        return 0;
      return (size_t) omp_get_max_threads () * padded_rows (g) *
             padded_cols (g);
    }
  if (is_pointwise (g))
    return 0;
  return (size_t) (g->C / g->group) * g->KH * g->KW * g->OH * g->OW;
}

static void
fill_bias (float *out, const float *bias, const GraftConvGeometry *g)
{
  size_t plane = (size_t) g->OH * g->OW;
  for (int n = 0; n < g->N; n++)
    for (int oc = 0; oc < g->OC; oc++)
      {
        float *o = out + ((size_t) n * g->OC + oc) * plane;
        float b = bias ? bias[oc] : 0.0f;
#pragma omp simd
        for (size_t i = 0; i < plane; i++)
          o[i] = b;
      }
}

/* ---- fast path: im2col + sgemm ---- */

void
graft_conv2d_im2col (float *col,
                     const float *in_group,
                     const GraftConvGeometry *g)
{
  int Cg = g->C / g->group;
  int rows = Cg * g->KH * g->KW;
  size_t plane = (size_t) g->OH * g->OW;

#pragma omp parallel for schedule(static)
  for (int row = 0; row < rows; row++)
    {
      int kw = row % g->KW;
      int kh = (row / g->KW) % g->KH;
      int ci = row / (g->KW * g->KH);
      const float *src = in_group + (size_t) ci * g->H * g->W;
      float *dst = col + (size_t) row * plane;
      int woff = kw * g->dilation_w;
      int ow_first = graft_window_first (g->pad_left, woff, g->stride_w, g->OW);
      int ow_end =
          graft_window_end (g->W, g->pad_left, woff, g->stride_w, g->OW);
      if (ow_end < ow_first)
        ow_end = ow_first;

      for (int oh = 0; oh < g->OH; oh++)
        {
          float *d = dst + (size_t) oh * g->OW;
          int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
          if (ih < 0 || ih >= g->H)
            {
              memset (d, 0, sizeof (float) * g->OW);
              continue;
            }
          /* output ow reads input column ow * stride_w + shift */
          const float *s = src + (size_t) ih * g->W;
          int shift = woff - g->pad_left;
          for (int ow = 0; ow < ow_first; ow++)
            d[ow] = 0.0f;
          if (g->stride_w == 1 && ow_end > ow_first)
            memcpy (d + ow_first, s + ow_first + shift,
                    sizeof (float) * (ow_end - ow_first));
          else
            for (int ow = ow_first; ow < ow_end; ow++)
              d[ow] = s[ow * g->stride_w + shift];
          for (int ow = ow_end; ow < g->OW; ow++)
            d[ow] = 0.0f;
        }
    }
}

/* out[n, g] (OCg, OH*OW) += W[g] (OCg, Cg*KH*KW) x col (Cg*KH*KW, OH*OW) */
static void
conv_im2col_sgemm (float *out,
                   const float *in,
                   const float *weight,
                   const GraftConvGeometry *g,
                   float *col)
{
  int Cg = g->C / g->group, OCg = g->OC / g->group;
  int K = Cg * g->KH * g->KW;
  int P = g->OH * g->OW;
  gboolean pointwise = is_pointwise (g); /* the input is the column matrix */

  for (int n = 0; n < g->N; n++)
    for (int grp = 0; grp < g->group; grp++)
      {
        const float *x =
            in + ((size_t) n * g->C + (size_t) grp * Cg) * g->H * g->W;
        float *y = out + ((size_t) n * g->OC + (size_t) grp * OCg) * P;
        const float *w = weight + (size_t) grp * OCg * K;
        const float *b = x;
        if (!pointwise)
          {
            graft_conv2d_im2col (col, x, g);
            b = col;
          }
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OCg, P, K, 1.0f,
                     w, K, b, P, 1.0f, y, P);
      }
}

/* ---- fast path: depthwise ---- */

/* One output plane (OH, OW) from one zero-padded input plane with row
 * stride ps; w is the (KH, KW) kernel. The 3x3 cases hold all nine taps
 * in registers and vectorize across ow. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GRAFT_VECTOR_CLONES                                                    \
  __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define GRAFT_VECTOR_CLONES
#endif

GRAFT_VECTOR_CLONES
static void
depthwise_3x3_s1 (float *restrict o,
                  const float *restrict p,
                  size_t ps,
                  const float *restrict w,
                  float b,
                  int OH,
                  int OW)
{
  for (int oh = 0; oh < OH; oh++)
    {
      const float *r0 = p + (size_t) oh * ps, *r1 = r0 + ps, *r2 = r1 + ps;
      float *d = o + (size_t) oh * OW;
#pragma omp simd
      for (int ow = 0; ow < OW; ow++)
        d[ow] = b + w[0] * r0[ow] + w[1] * r0[ow + 1] + w[2] * r0[ow + 2] +
                w[3] * r1[ow] + w[4] * r1[ow + 1] + w[5] * r1[ow + 2] +
                w[6] * r2[ow] + w[7] * r2[ow + 1] + w[8] * r2[ow + 2];
    }
}

/* Stride 2 reads every other column; with the plane's rows split into
 * even columns (OW + 1 of them) then odd ones (OW), every load is
 * contiguous again: column 2ow is e[ow], 2ow+1 is o[ow], 2ow+2 is e[ow+1]. */
GRAFT_VECTOR_CLONES
static void
depthwise_3x3_s2 (float *restrict o,
                  const float *restrict p,
                  size_t ps,
                  const float *restrict w,
                  float b,
                  int OH,
                  int OW)
{
  for (int oh = 0; oh < OH; oh++)
    {
      const float *e0 = p + (size_t) 2 * oh * ps, *e1 = e0 + ps, *e2 = e1 + ps;
      const float *o0 = e0 + OW + 1, *o1 = e1 + OW + 1, *o2 = e2 + OW + 1;
      float *d = o + (size_t) oh * OW;
#pragma omp simd
      for (int ow = 0; ow < OW; ow++)
        d[ow] = b + w[0] * e0[ow] + w[1] * o0[ow] + w[2] * e0[ow + 1] +
                w[3] * e1[ow] + w[4] * o1[ow] + w[5] * e1[ow + 1] +
                w[6] * e2[ow] + w[7] * o2[ow] + w[8] * e2[ow + 1];
    }
}

GRAFT_VECTOR_CLONES
static void
depthwise_generic (float *restrict o,
                   const float *restrict p,
                   size_t ps,
                   const float *restrict w,
                   float b,
                   const GraftConvGeometry *g)
{
  int sw = g->stride_w;
  for (int oh = 0; oh < g->OH; oh++)
    {
      float *d = o + (size_t) oh * g->OW;
      for (int ow = 0; ow < g->OW; ow++)
        d[ow] = b;
      for (int kh = 0; kh < g->KH; kh++)
        {
          const float *r =
              p + (size_t) (oh * g->stride_h + kh * g->dilation_h) * ps;
          for (int kw = 0; kw < g->KW; kw++)
            {
              const float *s = r + kw * g->dilation_w;
              float wv = w[kh * g->KW + kw];
              if (sw == 1)
#pragma omp simd
                for (int ow = 0; ow < g->OW; ow++)
                  d[ow] += wv * s[ow];
              else
#pragma omp simd
                for (int ow = 0; ow < g->OW; ow++)
                  d[ow] += wv * s[(size_t) ow * sw];
            }
        }
    }
}

/* Copies channel plane x (H, W) into p (PH, PW) with the leading pads and
 * zeros elsewhere. */
static void
pad_plane (float *p, const float *x, const GraftConvGeometry *g, int PH, int PW)
{
  for (int r = 0; r < PH; r++)
    {
      float *d = p + (size_t) r * PW;
      int ih = r - g->pad_top;
      if (ih < 0 || ih >= g->H)
        {
          memset (d, 0, sizeof (float) * PW);
          continue;
        }
      const float *s = x + (size_t) ih * g->W;
      int lead = MIN (g->pad_left, PW);
      int copy = MIN (g->W, PW - lead);
      memset (d, 0, sizeof (float) * lead);
      memcpy (d + lead, s, sizeof (float) * copy);
      memset (d + lead + copy, 0, sizeof (float) * (PW - lead - copy));
    }
}

/* dst[k] = src[2k + first - pad_left] where inside [0, W), else 0, for k
 * in [0, n): one parity of a padded row. */
static void
gather_parity (float *restrict dst,
               const float *restrict src,
               int n,
               int first,
               const GraftConvGeometry *g)
{
  /* column j = 2k + first reads iw = j - pad_left */
  int k0 = graft_window_first (g->pad_left, first, 2, n);
  int k1 = graft_window_end (g->W, g->pad_left, first, 2, n);
  if (k1 < k0)
    k1 = k0;
  int shift = first - g->pad_left;
  for (int k = 0; k < k0; k++)
    dst[k] = 0.0f;
#pragma omp simd
  for (int k = k0; k < k1; k++)
    dst[k] = src[2 * k + shift];
  for (int k = k1; k < n; k++)
    dst[k] = 0.0f;
}

/* Same as pad_plane, with each row split into its even columns then its
 * odd ones. */
static void
pad_plane_split (
    float *p, const float *x, const GraftConvGeometry *g, int PH, int PW)
{
  int even = (PW + 1) / 2;
  for (int r = 0; r < PH; r++)
    {
      float *d = p + (size_t) r * PW;
      int ih = r - g->pad_top;
      if (ih < 0 || ih >= g->H)
        {
          memset (d, 0, sizeof (float) * PW);
          continue;
        }
      const float *s = x + (size_t) ih * g->W;
      gather_parity (d, s, even, 0, g);
      gather_parity (d + even, s, PW - even, 1, g);
    }
}

/* Channel c of image n feeds output channels c*M .. c*M+M-1 (M, the
 * channel multiplier, is OC / C). */
static void
conv_depthwise (float *out,
                const float *in,
                const float *weight,
                const float *bias,
                const GraftConvGeometry *g,
                float *scratch)
{
  int M = g->OC / g->C;
  int PH = padded_rows (g), PW = padded_cols (g);
  gboolean direct = depthwise_reads_input (g);
  int64_t tasks = (int64_t) g->N * g->C;
  DepthwiseKind kind = depthwise_kind (g);
  /* scratch holds one plane per thread, as many as sized for */
  int threads = omp_get_max_threads ();

#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t t = 0; t < tasks; t++)
    {
      int c = (int) (t % g->C);
      int n = (int) (t / g->C);
      const float *x = in + (size_t) t * g->H * g->W;
      const float *p = x;
      size_t ps = g->W;
      if (!direct)
        {
          float *mine = scratch + (size_t) omp_get_thread_num () * PH * PW;
          if (kind == DEPTHWISE_3X3_S2)
            pad_plane_split (mine, x, g, PH, PW);
          else
            pad_plane (mine, x, g, PH, PW);
          p = mine;
          ps = PW;
        }
      for (int m = 0; m < M; m++)
        {
          int oc = c * M + m;
          float *o = out + ((size_t) n * g->OC + oc) * g->OH * g->OW;
          const float *w = weight + (size_t) oc * g->KH * g->KW;
          float b = bias ? bias[oc] : 0.0f;
          switch (kind)
            {
            case DEPTHWISE_3X3_S1:
              depthwise_3x3_s1 (o, p, ps, w, b, g->OH, g->OW);
              break;
            case DEPTHWISE_3X3_S2:
              depthwise_3x3_s2 (o, p, ps, w, b, g->OH, g->OW);
              break;
            case DEPTHWISE_GENERIC:
            default:
              depthwise_generic (o, p, ps, w, b, g);
              break;
            }
        }
    }
}

void
graft_conv2d_forward (float *out,
                      const float *in,
                      const float *weight,
                      const float *bias,
                      const GraftConvGeometry *g,
                      float *scratch)
{
  if (g->N == 0 || g->OH <= 0 || g->OW <= 0 || g->OC == 0)
    return;
  if (is_depthwise (g))
    {
      conv_depthwise (out, in, weight, bias, g, scratch);
      return;
    }
  fill_bias (out, bias, g);
  if (g->C == 0)
    return;
  conv_im2col_sgemm (out, in, weight, g, scratch);
}
