/* conv-depthwise.c: depthwise convolution (group == C), forward and
 * backward.
 *
 * Shapes: in (N, C, H, W), weight (OC, 1, KH, KW), bias (OC),
 * out (N, OC, OH, OW); channel c feeds output channels c*M .. c*M+M-1
 * (M = OC / C, the channel multiplier). The plain reference is conv.c's.
 *
 * Three ways, by geometry:
 * - 3x3 stride 1 that keeps the width (pad_left + pad_right == 2, the
 *   usual "same" conv): a plane is read flat, as one row of OH * W values,
 *   so every vector is full however small the plane is; a tap that would
 *   wrap around a row's edge is masked out. dX is the same correlation of
 *   dY with the flipped kernel.
 * - 3x3 stride 2: the input plane is split once into six phase planes
 *   (row parity x column offset), after which the output is flat again;
 *   dX is built as its four parity planes, then interleaved.
 * - anything else: row loops over a zero-padded copy of each plane.
 */
#include "kernels/conv-depthwise.h"

#include <omp.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GRAFT_VECTOR_CLONES                                                    \
  __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define GRAFT_VECTOR_CLONES
#endif

/* The dweight kernels keep 9 x LANES partial sums per output channel over
 * all of a channel's images, and reduce them once at the end, in a fixed
 * order: the result does not depend on the thread count. */
#define LANES 8

/* v where mask m (all ones) keeps it, else +0: a bitwise and, because a
 * select would leave the taps' sums in a branch that trapping math keeps
 * scalar, and not v * m, which would turn an Inf outside the window into
 * a NaN. */
static inline float
keep (uint32_t m, float v)
{
  uint32_t u;
  memcpy (&u, &v, sizeof u);
  u &= m;
  memcpy (&v, &u, sizeof v);
  return v;
}

gboolean
graft_depthwise_applies (const GraftConvGeometry *g)
{
  return g->group == g->C && g->C > 1;
}

typedef enum
{
  DEPTHWISE_FLAT_S1,  /* 3x3 stride 1, OW == W */
  DEPTHWISE_PHASE_S2, /* 3x3 stride 2 */
  DEPTHWISE_ROWS_S1,  /* 3x3 stride 1, other pads */
  DEPTHWISE_ROWS_S2,  /* 3x3 stride 2, wide planes */
  DEPTHWISE_GENERIC,
} DepthwiseKind;

static DepthwiseKind
depthwise_kind (const GraftConvGeometry *g)
{
  if (g->KH != 3 || g->KW != 3 || g->dilation_h != 1 || g->dilation_w != 1 ||
      g->stride_h != g->stride_w)
    return DEPTHWISE_GENERIC;
  /* Phase planes keep small outputs flat; on wide ones, rows already fill
   * the vectors and copying the planes would cost more than it saves. */
  if (g->stride_h == 2)
    return g->OW <= 16 ? DEPTHWISE_PHASE_S2 : DEPTHWISE_ROWS_S2;
  if (g->stride_h != 1)
    return DEPTHWISE_GENERIC;
  /* pads up to 2 keep the flipped kernel's pads (2 - pad) for dX valid */
  if (g->pad_left + g->pad_right == 2 && g->pad_top <= 2 && g->pad_bottom <= 2)
    return DEPTHWISE_FLAT_S1;
  return DEPTHWISE_ROWS_S1;
}

/* ==== 3x3 stride 1, flat ==== */

/* The masks repeat with the row (W) and the kernels step by whole vectors:
 * one period is lcm (W, LANES) values. */
static int
mask_period (int W)
{
  int a = W, b = LANES;
  while (b)
    {
      int t = a % b;
      a = b;
      b = t;
    }
  return W / a * LANES;
}

/* mask (3, P): mask[kw][j] = all ones where output column j % W reads an
 * input column inside the row through tap kw (pad_left pl), else 0. */
static void
fill_masks (uint32_t *mask, int W, int P, int pl)
{
  for (int kw = 0; kw < 3; kw++)
    for (int j = 0; j < P; j++)
      {
        int iw = j % W + kw - pl;
        mask[(size_t) kw * P + j] = iw >= 0 && iw < W ? UINT32_MAX : 0;
      }
}

/* A plane (rows, W) padded for an output of R rows: `pad_top` zero rows
 * and `pad_left` zeros before it, zeros after, so that output i reads
 * p[i + kh * W + kw]. */
static size_t
flat_floats (int R, int W)
{
  return ((size_t) R + 2) * W + 2;
}

static size_t
flat_offset (int W, int pad_top, int pad_left)
{
  return (size_t) pad_top * W + pad_left;
}

/* o[i] (=, or += when accumulate) b + sum w[kh][kw] p[i + kh W + kw] over
 * the taps mask (3, P) keeps, for i in [0, n): a 3x3 stride-1 correlation
 * of a plane of width W with the padded plane p. */
GRAFT_VECTOR_CLONES
static void
flat_3x3 (float *restrict o,
          const float *restrict p,
          int W,
          size_t n,
          const float *restrict w,
          float b,
          const uint32_t *restrict mask,
          int P,
          gboolean accumulate)
{
  const uint32_t *m0 = mask, *m1 = mask + P, *m2 = mask + 2 * (size_t) P;
  float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5],
        w6 = w[6], w7 = w[7], w8 = w[8];
  for (size_t base = 0; base < n; base += P)
    {
      int len = (int) MIN ((size_t) P, n - base);
      const float *r0 = p + base, *r1 = r0 + W, *r2 = r1 + W;
      float *d = o + base;
#define FLAT_TAPS(j, OP)                                                       \
  do                                                                           \
    {                                                                          \
      float a0 = w0 * r0[j] + w3 * r1[j] + w6 * r2[j];                         \
      float a1 = w1 * r0[j + 1] + w4 * r1[j + 1] + w7 * r2[j + 1];             \
      float a2 = w2 * r0[j + 2] + w5 * r1[j + 2] + w8 * r2[j + 2];             \
      float k0 = keep (m0[j], a0), k1 = keep (m1[j], a1);                      \
      float k2 = keep (m2[j], a2);                                             \
      d[j] OP b + k0 + k1 + k2;                                                \
    }                                                                          \
  while (0)
      if (accumulate)
        {
#pragma omp simd
          for (int j = 0; j < len; j++)
            FLAT_TAPS (j, +=);
        }
      else
        {
#pragma omp simd
          for (int j = 0; j < len; j++)
            FLAT_TAPS (j, =);
        }
#undef FLAT_TAPS
    }
}

/* acc (9, LANES) += dy (n) times the padded plane p at each tap, as
 * flat_3x3 reads it: acc[kh*3+kw][i % LANES] += dy[i] p[i + kh W + kw]. */
GRAFT_VECTOR_CLONES
static void
flat_dweight_3x3 (float (*acc)[LANES],
                  const float *restrict p,
                  int W,
                  size_t n,
                  const float *restrict dy,
                  const uint32_t *restrict mask,
                  int P)
{
  const uint32_t *m0 = mask, *m1 = mask + P, *m2 = mask + 2 * (size_t) P;
  float s[9][LANES] = { { 0 } };
  for (size_t base = 0; base < n; base += P)
    {
      int len = (int) MIN ((size_t) P, n - base);
      int body = len / LANES * LANES;
      const float *r0 = p + base, *r1 = r0 + W, *r2 = r1 + W;
      const float *d = dy + base;
#define FLAT_DW(l, j)                                                          \
  do                                                                           \
    {                                                                          \
      float v = d[j];                                                          \
      float v0 = keep (m0[j], v), v1 = keep (m1[j], v), v2 = keep (m2[j], v);  \
      s[0][l] += v0 * r0[j];                                                   \
      s[1][l] += v1 * r0[j + 1];                                               \
      s[2][l] += v2 * r0[j + 2];                                               \
      s[3][l] += v0 * r1[j];                                                   \
      s[4][l] += v1 * r1[j + 1];                                               \
      s[5][l] += v2 * r1[j + 2];                                               \
      s[6][l] += v0 * r2[j];                                                   \
      s[7][l] += v1 * r2[j + 1];                                               \
      s[8][l] += v2 * r2[j + 2];                                               \
    }                                                                          \
  while (0)
      for (int j0 = 0; j0 < body; j0 += LANES)
#pragma omp simd
        for (int l = 0; l < LANES; l++)
          FLAT_DW (l, j0 + l);
      for (int j = body; j < len; j++)
        FLAT_DW (j - body, j);
#undef FLAT_DW
    }
  for (int k = 0; k < 9; k++)
    for (int l = 0; l < LANES; l++)
      acc[k][l] += s[k][l];
}

/* ==== 3x3 stride 2, phase planes ==== */

/* Six phase planes of a channel plane: X[rp][kw] (rows, OW) with
 * X[rp][kw][a][b] = x[2a + rp - pad_top][2b + kw - pad_left] (0 outside
 * x); rp = 0 has OH + 1 rows (kh 0 reads row a, kh 2 row a + 1), rp = 1
 * has OH. Output (oh, ow) = i then reads X[kh % 2][kw][i + kh / 2 * OW]. */
static size_t
phase_floats (const GraftConvGeometry *g)
{
  return (size_t) 3 * (2 * g->OH + 1) * g->OW;
}

static const float *
phase_plane (const float *X, const GraftConvGeometry *g, int rp, int kw)
{
  size_t even = (size_t) (g->OH + 1) * g->OW, odd = (size_t) g->OH * g->OW;
  return X + (rp ? 3 * even + kw * odd : kw * even);
}

/* Writes the entries of the phase planes that lie inside x; the others
 * keep the zeros the buffer started with. */
GRAFT_VECTOR_CLONES
static void
gather_phases (float *restrict X,
               const float *restrict x,
               const GraftConvGeometry *g)
{
  int b0[3], b1[3];
  for (int kw = 0; kw < 3; kw++)
    {
      b0[kw] = graft_window_first (g->pad_left, kw, 2, g->OW);
      b1[kw] = MAX (b0[kw], graft_window_end (g->W, g->pad_left, kw, 2, g->OW));
    }
  int r0 = MAX (0, g->pad_top), r1 = MIN (2 * g->OH, g->H - 1 + g->pad_top);
  for (int r = r0; r <= r1; r++)
    {
      const float *s = x + (size_t) (r - g->pad_top) * g->W;
      for (int kw = 0; kw < 3; kw++)
        {
          float *d = (float *) phase_plane (X, g, r & 1, kw) +
                     (size_t) (r >> 1) * g->OW;
          const float *src = s + kw - g->pad_left;
#pragma omp simd
          for (int b = b0[kw]; b < b1[kw]; b++)
            d[b] = src[2 * b];
        }
    }
}

GRAFT_VECTOR_CLONES
static void
phase_3x3_s2 (float *restrict o,
              const float *restrict X,
              const float *restrict w,
              float b,
              const GraftConvGeometry *g)
{
  const float *e0 = phase_plane (X, g, 0, 0), *e1 = phase_plane (X, g, 0, 1),
              *e2 = phase_plane (X, g, 0, 2), *o0 = phase_plane (X, g, 1, 0),
              *o1 = phase_plane (X, g, 1, 1), *o2 = phase_plane (X, g, 1, 2);
  const float *f0 = e0 + g->OW, *f1 = e1 + g->OW, *f2 = e2 + g->OW;
  float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5],
        w6 = w[6], w7 = w[7], w8 = w[8];
  size_t n = (size_t) g->OH * g->OW;
#pragma omp simd
  for (size_t i = 0; i < n; i++)
    o[i] = b + w0 * e0[i] + w1 * e1[i] + w2 * e2[i] + w3 * o0[i] + w4 * o1[i] +
           w5 * o2[i] + w6 * f0[i] + w7 * f1[i] + w8 * f2[i];
}

/* acc (9, LANES) += dy (OH, OW) times each tap's phase plane. */
GRAFT_VECTOR_CLONES
static void
phase_dweight_3x3_s2 (float (*acc)[LANES],
                      const float *restrict X,
                      const float *restrict dy,
                      const GraftConvGeometry *g)
{
  const float *e0 = phase_plane (X, g, 0, 0), *e1 = phase_plane (X, g, 0, 1),
              *e2 = phase_plane (X, g, 0, 2), *o0 = phase_plane (X, g, 1, 0),
              *o1 = phase_plane (X, g, 1, 1), *o2 = phase_plane (X, g, 1, 2);
  const float *f0 = e0 + g->OW, *f1 = e1 + g->OW, *f2 = e2 + g->OW;
  float s[9][LANES] = { { 0 } };
  size_t n = (size_t) g->OH * g->OW, body = n / LANES * LANES;
#define PHASE_DW(l, i)                                                         \
  do                                                                           \
    {                                                                          \
      float v = dy[i];                                                         \
      s[0][l] += v * e0[i];                                                    \
      s[1][l] += v * e1[i];                                                    \
      s[2][l] += v * e2[i];                                                    \
      s[3][l] += v * o0[i];                                                    \
      s[4][l] += v * o1[i];                                                    \
      s[5][l] += v * o2[i];                                                    \
      s[6][l] += v * f0[i];                                                    \
      s[7][l] += v * f1[i];                                                    \
      s[8][l] += v * f2[i];                                                    \
    }                                                                          \
  while (0)
  for (size_t i0 = 0; i0 < body; i0 += LANES)
#pragma omp simd
    for (int l = 0; l < LANES; l++)
      PHASE_DW (l, i0 + l);
  for (size_t i = body; i < n; i++)
    PHASE_DW (i - body, i);
#undef PHASE_DW
  for (int k = 0; k < 9; k++)
    for (int l = 0; l < LANES; l++)
      acc[k][l] += s[k][l];
}

/* dX of stride 2 by the parity of its padded position (r, s) = (ih +
 * pad_top, iw + pad_left): with r = 2a + rp and s = 2b + cp, D[rp][cp]
 * (OH + 1, S = OW + 1) at (a, b) sums w[kh][kw] dy[oh][ow] over 2 oh + kh
 * = r, 2 ow + kw = s. Q is dy with a zero row above and below and a zero
 * column before each row (Q[a+1][b+1] = dy[a][b], stride S, one more zero
 * at the end), so every read is flat. */
static size_t
parity_stride (const GraftConvGeometry *g)
{
  return (size_t) g->OW + 1;
}

static size_t
parity_q_floats (const GraftConvGeometry *g)
{
  return ((size_t) g->OH + 2) * parity_stride (g) + 1;
}

static size_t
parity_d_floats (const GraftConvGeometry *g)
{
  return ((size_t) g->OH + 1) * parity_stride (g);
}

/* Copies dy (OH, OW) inside Q; Q's zeros stay from the start. */
static void
fill_parity_q (float *restrict q,
               const float *restrict dy,
               const GraftConvGeometry *g)
{
  size_t S = parity_stride (g);
  for (int a = 0; a < g->OH; a++)
    memcpy (q + (a + 1) * S + 1, dy + (size_t) a * g->OW,
            sizeof (float) * g->OW);
}

/* D (4 planes of parity_d_floats) = (or += when accumulate) the parity
 * planes of one output channel's dY in Q, with its 3x3 kernel w. */
GRAFT_VECTOR_CLONES
static void
parity_dinput_3x3_s2 (float *restrict D,
                      const float *restrict q,
                      const float *restrict w,
                      const GraftConvGeometry *g,
                      gboolean accumulate)
{
  size_t S = parity_stride (g), n = parity_d_floats (g);
  float *d00 = D, *d01 = D + n, *d10 = D + 2 * n, *d11 = D + 3 * n;
  const float *q11 = q + S + 1, *q10 = q + S, *q01 = q + 1;
  float w0 = w[0], w1 = w[1], w2 = w[2], w3 = w[3], w4 = w[4], w5 = w[5],
        w6 = w[6], w7 = w[7], w8 = w[8];
  /* dy[a][b] is q11[j], dy[a][b-1] q10[j], dy[a-1][b] q01[j],
   * dy[a-1][b-1] q[j], at j = a S + b */
  if (accumulate)
    {
#pragma omp simd
      for (size_t j = 0; j < n; j++)
        {
          d00[j] += w0 * q11[j] + w2 * q10[j] + w6 * q01[j] + w8 * q[j];
          d01[j] += w1 * q11[j] + w7 * q01[j];
          d10[j] += w3 * q11[j] + w5 * q10[j];
          d11[j] += w4 * q11[j];
        }
    }
  else
    {
#pragma omp simd
      for (size_t j = 0; j < n; j++)
        {
          d00[j] = w0 * q11[j] + w2 * q10[j] + w6 * q01[j] + w8 * q[j];
          d01[j] = w1 * q11[j] + w7 * q01[j];
          d10[j] = w3 * q11[j] + w5 * q10[j];
          d11[j] = w4 * q11[j];
        }
    }
}

/* dx (H, W) = (or += unless assign) the parity planes D interleaved: input
 * column iw is padded column s = iw + pad_left; with pad_left = 2c, x[2k]
 * is D[.][0][k + c] and x[2k+1] D[.][1][k + c]; with pad_left = 2c + 1,
 * x[2k] is D[.][1][k + c] and x[2k+1] D[.][0][k + c + 1]. */
GRAFT_VECTOR_CLONES
static void
parity_interleave (float *restrict dx,
                   const float *restrict D,
                   const GraftConvGeometry *g,
                   gboolean assign)
{
  size_t S = parity_stride (g), n = parity_d_floats (g);
  int c = g->pad_left / 2, odd_pad = g->pad_left % 2, pairs = g->W / 2;
  for (int ih = 0; ih < g->H; ih++)
    {
      int r = ih + g->pad_top;
      const float *even = D + (size_t) (r & 1) * 2 * n + (size_t) (r >> 1) * S;
      const float *odd = even + n;
      const float *lo = odd_pad ? odd + c : even + c;
      const float *hi = odd_pad ? even + c + 1 : odd + c;
      float *x = dx + (size_t) ih * g->W;
      if (assign)
        {
#pragma omp simd
          for (int k = 0; k < pairs; k++)
            {
              x[2 * k] = lo[k];
              x[2 * k + 1] = hi[k];
            }
          if (g->W % 2)
            x[g->W - 1] = lo[pairs];
        }
      else
        {
#pragma omp simd
          for (int k = 0; k < pairs; k++)
            {
              x[2 * k] += lo[k];
              x[2 * k + 1] += hi[k];
            }
          if (g->W % 2)
            x[g->W - 1] += lo[pairs];
        }
    }
}

/* ==== any kernel: row loops over a zero-padded plane ==== */

/* The zero-padded input plane a window reads: rows and columns up to the
 * last tap of the last output, no further. */
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

/* TRUE when the plane needs neither padding nor reordering: the input
 * itself serves. */
static gboolean
rows_read_input (const GraftConvGeometry *g)
{
  return depthwise_kind (g) != DEPTHWISE_ROWS_S2 && g->pad_top == 0 &&
         g->pad_left == 0 && padded_rows (g) <= g->H && padded_cols (g) <= g->W;
}

/* One output plane (OH, OW) from one zero-padded input plane with row
 * stride ps; w is the (3, 3) kernel. */
GRAFT_VECTOR_CLONES
static void
rows_3x3_s1 (float *restrict o,
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
rows_3x3_s2 (float *restrict o,
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
rows_generic (float *restrict o,
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

/* dw (3x3) += the correlation of dy (OH, OW) with the padded plane p (row
 * stride ps), stride 1: dw[kh][kw] = sum dy[oh][ow] p[oh+kh][ow+kw]. */
GRAFT_VECTOR_CLONES
static void
rows_dweight_3x3_s1 (float *restrict dw,
                     const float *restrict p,
                     size_t ps,
                     const float *restrict dy,
                     int OH,
                     int OW)
{
  float acc[9][LANES] = { { 0 } }, tail[9] = { 0 };
  int body = OW / LANES * LANES;
  for (int oh = 0; oh < OH; oh++)
    {
      const float *r0 = p + (size_t) oh * ps, *r1 = r0 + ps, *r2 = r1 + ps;
      const float *d = dy + (size_t) oh * OW;
      for (int ow0 = 0; ow0 < body; ow0 += LANES)
#pragma omp simd
        for (int l = 0; l < LANES; l++)
          {
            int ow = ow0 + l;
            float v = d[ow];
            acc[0][l] += v * r0[ow];
            acc[1][l] += v * r0[ow + 1];
            acc[2][l] += v * r0[ow + 2];
            acc[3][l] += v * r1[ow];
            acc[4][l] += v * r1[ow + 1];
            acc[5][l] += v * r1[ow + 2];
            acc[6][l] += v * r2[ow];
            acc[7][l] += v * r2[ow + 1];
            acc[8][l] += v * r2[ow + 2];
          }
      for (int ow = body; ow < OW; ow++)
        {
          float v = d[ow];
          tail[0] += v * r0[ow];
          tail[1] += v * r0[ow + 1];
          tail[2] += v * r0[ow + 2];
          tail[3] += v * r1[ow];
          tail[4] += v * r1[ow + 1];
          tail[5] += v * r1[ow + 2];
          tail[6] += v * r2[ow];
          tail[7] += v * r2[ow + 1];
          tail[8] += v * r2[ow + 2];
        }
    }
  for (int k = 0; k < 9; k++)
    {
      float s = tail[k];
      for (int l = 0; l < LANES; l++)
        s += acc[k][l];
      dw[k] += s;
    }
}

/* Stride 2 over a plane split into even then odd columns (see
 * rows_3x3_s2). */
GRAFT_VECTOR_CLONES
static void
rows_dweight_3x3_s2 (float *restrict dw,
                     const float *restrict p,
                     size_t ps,
                     const float *restrict dy,
                     int OH,
                     int OW)
{
  float acc[9][LANES] = { { 0 } }, tail[9] = { 0 };
  int body = OW / LANES * LANES;
  for (int oh = 0; oh < OH; oh++)
    {
      const float *e0 = p + (size_t) 2 * oh * ps, *e1 = e0 + ps, *e2 = e1 + ps;
      const float *o0 = e0 + OW + 1, *o1 = e1 + OW + 1, *o2 = e2 + OW + 1;
      const float *d = dy + (size_t) oh * OW;
      for (int ow0 = 0; ow0 < body; ow0 += LANES)
#pragma omp simd
        for (int l = 0; l < LANES; l++)
          {
            int ow = ow0 + l;
            float v = d[ow];
            acc[0][l] += v * e0[ow];
            acc[1][l] += v * o0[ow];
            acc[2][l] += v * e0[ow + 1];
            acc[3][l] += v * e1[ow];
            acc[4][l] += v * o1[ow];
            acc[5][l] += v * e1[ow + 1];
            acc[6][l] += v * e2[ow];
            acc[7][l] += v * o2[ow];
            acc[8][l] += v * e2[ow + 1];
          }
      for (int ow = body; ow < OW; ow++)
        {
          float v = d[ow];
          tail[0] += v * e0[ow];
          tail[1] += v * o0[ow];
          tail[2] += v * e0[ow + 1];
          tail[3] += v * e1[ow];
          tail[4] += v * o1[ow];
          tail[5] += v * e1[ow + 1];
          tail[6] += v * e2[ow];
          tail[7] += v * o2[ow];
          tail[8] += v * e2[ow + 1];
        }
    }
  for (int k = 0; k < 9; k++)
    {
      float s = tail[k];
      for (int l = 0; l < LANES; l++)
        s += acc[k][l];
      dw[k] += s;
    }
}

GRAFT_VECTOR_CLONES
static void
rows_dweight_generic (float *restrict dw,
                      const float *restrict p,
                      size_t ps,
                      const float *restrict dy,
                      const GraftConvGeometry *g)
{
  int sw = g->stride_w;
  for (int kh = 0; kh < g->KH; kh++)
    for (int kw = 0; kw < g->KW; kw++)
      {
        float acc = 0.0f;
        for (int oh = 0; oh < g->OH; oh++)
          {
            const float *s =
                p + (size_t) (oh * g->stride_h + kh * g->dilation_h) * ps +
                kw * g->dilation_w;
            const float *d = dy + (size_t) oh * g->OW;
#pragma omp simd reduction(+ : acc)
            for (int ow = 0; ow < g->OW; ow++)
              acc += d[ow] * s[(size_t) ow * sw];
          }
        dw[kh * g->KW + kw] += acc;
      }
}

/* dx (H, W) += the 3x3 stride-1 transposed convolution of dy: with q the
 * dy plane zero-padded by 2 on every side and shifted by the pads,
 * dx[ih][iw] = sum w[2-a][2-b] q[ih+a][iw+b]. */
GRAFT_VECTOR_CLONES
static void
rows_dinput_3x3_s1 (float *restrict dx,
                    const float *restrict q,
                    size_t qs,
                    const float *restrict w,
                    int H,
                    int W)
{
  for (int ih = 0; ih < H; ih++)
    {
      const float *r0 = q + (size_t) ih * qs, *r1 = r0 + qs, *r2 = r1 + qs;
      float *d = dx + (size_t) ih * W;
#pragma omp simd
      for (int iw = 0; iw < W; iw++)
        d[iw] += w[8] * r0[iw] + w[7] * r0[iw + 1] + w[6] * r0[iw + 2] +
                 w[5] * r1[iw] + w[4] * r1[iw + 1] + w[3] * r1[iw + 2] +
                 w[2] * r2[iw] + w[1] * r2[iw + 1] + w[0] * r2[iw + 2];
    }
}

/* The even / odd row buffers of rows_dinput_3x3_s2: OW + 1 entries,
 * and as far as the input columns read (W / 2 + pad_left / 2 + 2). */
static int
split_parity_floats (const GraftConvGeometry *g)
{
  return MAX (g->OW + 1, g->W / 2 + g->pad_left / 2 + 2);
}

/* Stride 2, one input row at a time: padded row r = ih + pad_top gets dy
 * row (r - kh) / 2 for each kh of matching parity; its even padded columns
 * 2p gather dy[p] (kw 0) and dy[p-1] (kw 2), its odd ones 2p+1 dy[p] (kw
 * 1). q is dy with one zero column before and after each row (stride
 * OW + 2); even and odd hold split_parity_floats (g) floats each, zero
 * past OW + 1 and OW. */
GRAFT_VECTOR_CLONES
static void
rows_dinput_3x3_s2 (float *restrict dx,
                    const float *restrict q,
                    const float *restrict w,
                    float *restrict even,
                    float *restrict odd,
                    const GraftConvGeometry *g)
{
  int OW = g->OW, qs = OW + 2;

  int len = split_parity_floats (g);
  for (int p = OW + 1; p < len; p++)
    even[p] = 0.0f;
  for (int p = OW; p < len; p++)
    odd[p] = 0.0f;

  for (int ih = 0; ih < g->H; ih++)
    {
      int r = ih + g->pad_top;
      gboolean any = FALSE;
      for (int kh = 0; kh < 3; kh++)
        {
          int t = r - kh;
          if (t < 0 || t % 2 != 0 || t / 2 >= g->OH)
            continue;
          const float *d = q + (size_t) (t / 2) * qs; /* d[p + 1] = dy[p] */
          float w0 = w[kh * 3], w1 = w[kh * 3 + 1], w2 = w[kh * 3 + 2];
          if (!any)
            {
#pragma omp simd
              for (int p = 0; p <= OW; p++)
                even[p] = w0 * d[p + 1] + w2 * d[p];
#pragma omp simd
              for (int p = 0; p < OW; p++)
                odd[p] = w1 * d[p + 1];
              any = TRUE;
              continue;
            }
#pragma omp simd
          for (int p = 0; p <= OW; p++)
            even[p] += w0 * d[p + 1] + w2 * d[p];
#pragma omp simd
          for (int p = 0; p < OW; p++)
            odd[p] += w1 * d[p + 1];
        }
      if (!any)
        continue;
      /* Input column iw is padded column j = iw + pad_left: with
       * pad_left = 2a, x[2q] gets even[q+a] and x[2q+1] odd[q+a]; with
       * pad_left = 2a+1, x[2q] gets odd[q+a] and x[2q+1] even[q+a+1].
       * Both arrays are zero beyond the columns a tap reaches. */
      float *x = dx + (size_t) ih * g->W;
      int a = g->pad_left / 2;
      const float *lo = g->pad_left % 2 ? odd + a : even + a;
      const float *hi = g->pad_left % 2 ? even + a + 1 : odd + a;
      int pairs = g->W / 2;
#pragma omp simd
      for (int k = 0; k < pairs; k++)
        {
          x[2 * k] += lo[k];
          x[2 * k + 1] += hi[k];
        }
      if (g->W % 2)
        x[g->W - 1] += lo[pairs];
    }
}

/* Any kernel: scatter into the zeroed padded plane dp (PH, PW), then crop
 * into dx. */
static void
rows_dinput_generic (float *restrict dx,
                     float *restrict dp,
                     const float *restrict dy,
                     const float *restrict w,
                     const GraftConvGeometry *g,
                     int PH,
                     int PW)
{
  int sw = g->stride_w;
  memset (dp, 0, sizeof (float) * PH * PW);
  for (int oh = 0; oh < g->OH; oh++)
    {
      const float *d = dy + (size_t) oh * g->OW;
      for (int kh = 0; kh < g->KH; kh++)
        {
          float *r = dp + (size_t) (oh * g->stride_h + kh * g->dilation_h) * PW;
          for (int kw = 0; kw < g->KW; kw++)
            {
              float *s = r + kw * g->dilation_w;
              float wv = w[kh * g->KW + kw];
              for (int ow = 0; ow < g->OW; ow++)
                s[(size_t) ow * sw] += wv * d[ow];
            }
        }
    }
  int ih_end = MIN (g->H, PH - g->pad_top);
  int iw_end = MIN (g->W, PW - g->pad_left);
  for (int ih = 0; ih < ih_end; ih++)
    {
      float *x = dx + (size_t) ih * g->W;
      const float *s = dp + (size_t) (ih + g->pad_top) * PW + g->pad_left;
#pragma omp simd
      for (int iw = 0; iw < iw_end; iw++)
        x[iw] += s[iw];
    }
}

/* Copies dy (OH, OW) into q with `margin` zero rows and columns around. */
static void
pad_dout_plane (float *q, const float *dy, int OH, int OW, int margin)
{
  int qs = OW + 2 * margin;
  memset (q, 0, sizeof (float) * qs * margin);
  for (int oh = 0; oh < OH; oh++)
    {
      float *d = q + (size_t) (oh + margin) * qs;
      memset (d, 0, sizeof (float) * margin);
      memcpy (d + margin, dy + (size_t) oh * OW, sizeof (float) * OW);
      memset (d + margin + OW, 0, sizeof (float) * margin);
    }
  memset (q + (size_t) (OH + margin) * qs, 0, sizeof (float) * qs * margin);
}

/* ==== forward ==== */

size_t
graft_depthwise_forward_scratch_floats (const GraftConvGeometry *g)
{
  size_t threads = (size_t) omp_get_max_threads ();
  switch (depthwise_kind (g))
    {
    case DEPTHWISE_FLAT_S1:
      return 3 * (size_t) mask_period (g->W) +
             threads * flat_floats (g->OH, g->W);
    case DEPTHWISE_PHASE_S2:
      return threads * phase_floats (g);
    case DEPTHWISE_ROWS_S1:
    case DEPTHWISE_ROWS_S2:
    case DEPTHWISE_GENERIC:
    default:
      if (rows_read_input (g))
        return 0;
      return threads * padded_rows (g) * padded_cols (g);
    }
}

/* Planes go to whichever thread is free, 16 at a time: small planes are
 * cheap, and a thread's buffer keeps its zeros from one plane to the next
 * (only the part inside the input is rewritten). */
void
graft_depthwise_forward (float *out,
                         const float *in,
                         const float *weight,
                         const float *bias,
                         const GraftConvGeometry *g,
                         float *scratch)
{
  int M = g->OC / g->C;
  DepthwiseKind kind = depthwise_kind (g);
  int64_t tasks = (int64_t) g->N * g->C;
  size_t HW = (size_t) g->H * g->W, P = (size_t) g->OH * g->OW;
  int threads = omp_get_max_threads ();
  int period = mask_period (g->W);
  /* the masks' bits live in the head of scratch */
  uint32_t *mask = (uint32_t *) scratch;
  size_t per_thread;
  float *buffers;

  switch (kind)
    {
    case DEPTHWISE_FLAT_S1:
      fill_masks (mask, g->W, period, g->pad_left);
      buffers = scratch + 3 * (size_t) period;
      per_thread = flat_floats (g->OH, g->W);
      break;
    case DEPTHWISE_PHASE_S2:
      buffers = scratch;
      per_thread = phase_floats (g);
      break;
    case DEPTHWISE_ROWS_S1:
    case DEPTHWISE_ROWS_S2:
    case DEPTHWISE_GENERIC:
    default:
      buffers = scratch;
      per_thread =
          rows_read_input (g) ? 0 : (size_t) padded_rows (g) * padded_cols (g);
      break;
    }

#pragma omp parallel num_threads(threads)
  {
    float *mine = buffers + (size_t) omp_get_thread_num () * per_thread;
    if (kind == DEPTHWISE_FLAT_S1 || kind == DEPTHWISE_PHASE_S2)
      memset (mine, 0, sizeof (float) * per_thread);

#pragma omp for schedule(dynamic, 16)
    for (int64_t t = 0; t < tasks; t++)
      {
        int c = (int) (t % g->C);
        int n = (int) (t / g->C);
        const float *x = in + (size_t) t * HW;
        const float *p = x;
        size_t ps = g->W;
        if (kind == DEPTHWISE_FLAT_S1)
          memcpy (mine + flat_offset (g->W, g->pad_top, g->pad_left), x,
                  sizeof (float) * HW);
        else if (kind == DEPTHWISE_PHASE_S2)
          gather_phases (mine, x, g);
        else if (kind == DEPTHWISE_ROWS_S2)
          {
            pad_plane_split (mine, x, g, padded_rows (g), padded_cols (g));
            p = mine;
            ps = padded_cols (g);
          }
        else if (per_thread)
          {
            pad_plane (mine, x, g, padded_rows (g), padded_cols (g));
            p = mine;
            ps = padded_cols (g);
          }
        for (int m = 0; m < M; m++)
          {
            int oc = c * M + m;
            float *o = out + ((size_t) n * g->OC + oc) * P;
            const float *w = weight + (size_t) oc * g->KH * g->KW;
            float b = bias ? bias[oc] : 0.0f;
            switch (kind)
              {
              case DEPTHWISE_FLAT_S1:
                flat_3x3 (o, mine, g->W, P, w, b, mask, period, FALSE);
                break;
              case DEPTHWISE_PHASE_S2:
                phase_3x3_s2 (o, mine, w, b, g);
                break;
              case DEPTHWISE_ROWS_S1:
                rows_3x3_s1 (o, p, ps, w, b, g->OH, g->OW);
                break;
              case DEPTHWISE_ROWS_S2:
                rows_3x3_s2 (o, p, ps, w, b, g->OH, g->OW);
                break;
              case DEPTHWISE_GENERIC:
              default:
                rows_generic (o, p, ps, w, b, g);
                break;
              }
          }
      }
  }
}

/* ==== backward ==== */

/* One thread's scratch in depthwise_backward, by kind: the input plane as
 * the dweight kernel reads it, then the dout plane as the dinput kernel
 * reads it (and D for stride 2), then M (9, LANES) dweight sums. */
typedef struct
{
  size_t x_floats, dy_floats, d_floats, acc_floats;
} BackwardLayout;

static BackwardLayout
backward_layout (const GraftConvGeometry *g)
{
  BackwardLayout l = { 0 };
  int M = g->OC / g->C;
  switch (depthwise_kind (g))
    {
    case DEPTHWISE_FLAT_S1:
      l.x_floats = flat_floats (g->OH, g->W);
      l.dy_floats = flat_floats (g->H, g->W);
      l.acc_floats = (size_t) M * 9 * LANES;
      break;
    case DEPTHWISE_PHASE_S2:
      l.x_floats = phase_floats (g);
      l.dy_floats = parity_q_floats (g);
      l.d_floats = 4 * parity_d_floats (g);
      l.acc_floats = (size_t) M * 9 * LANES;
      break;
    case DEPTHWISE_ROWS_S1:
      l.x_floats = (size_t) padded_rows (g) * padded_cols (g);
      l.dy_floats = (size_t) (g->OH + 4) * (g->OW + 4);
      break;
    case DEPTHWISE_ROWS_S2:
      l.x_floats = (size_t) padded_rows (g) * padded_cols (g);
      l.dy_floats =
          (size_t) g->OH * (g->OW + 2) + 2 * (size_t) split_parity_floats (g);
      break;
    case DEPTHWISE_GENERIC:
    default:
      l.x_floats = (size_t) padded_rows (g) * padded_cols (g);
      l.dy_floats = l.x_floats;
      break;
    }
  return l;
}

static size_t
backward_thread_floats (const BackwardLayout *l)
{
  return l->x_floats + l->dy_floats + l->d_floats + l->acc_floats;
}

size_t
graft_depthwise_backward_scratch_floats (const GraftConvGeometry *g)
{
  BackwardLayout l = backward_layout (g);
  size_t shared = depthwise_kind (g) == DEPTHWISE_FLAT_S1
                      ? 6 * (size_t) mask_period (g->W)
                      : 0;
  return shared + (size_t) omp_get_max_threads () * backward_thread_floats (&l);
}

/* The former per-plane scheme for the row kernels: accumulates dx, so an
 * assigned plane is zeroed just before it is written. */
static void
rows_backward_plane (float *dx,
                     gboolean assign_dinput,
                     float *dweight,
                     const float *dout_n,
                     const float *x,
                     const float *weight,
                     int c,
                     const GraftConvGeometry *g,
                     float *xp,
                     float *work)
{
  int M = g->OC / g->C, KK = g->KH * g->KW;
  int PH = padded_rows (g), PW = padded_cols (g);
  size_t P = (size_t) g->OH * g->OW;
  DepthwiseKind kind = depthwise_kind (g);
  const float *p = x;
  size_t ps = g->W;

  if (dx && assign_dinput)
    memset (dx, 0, sizeof (float) * g->H * g->W);
  if (dweight && kind == DEPTHWISE_ROWS_S2)
    {
      pad_plane_split (xp, x, g, PH, PW);
      p = xp;
      ps = PW;
    }
  else if (dweight && !rows_read_input (g))
    {
      pad_plane (xp, x, g, PH, PW);
      p = xp;
      ps = PW;
    }
  for (int m = 0; m < M; m++)
    {
      int oc = c * M + m;
      const float *dy = dout_n + (size_t) oc * P;
      const float *w = weight + (size_t) oc * KK;
      float *dw = dweight ? dweight + (size_t) oc * KK : NULL;
      if (kind == DEPTHWISE_ROWS_S1)
        {
          if (dw)
            rows_dweight_3x3_s1 (dw, p, ps, dy, g->OH, g->OW);
          if (dx)
            {
              size_t qs = g->OW + 4;
              pad_dout_plane (work, dy, g->OH, g->OW, 2);
              rows_dinput_3x3_s1 (dx,
                                  work + (size_t) g->pad_top * qs + g->pad_left,
                                  qs, w, g->H, g->W);
            }
        }
      else if (kind == DEPTHWISE_ROWS_S2)
        {
          if (dw)
            rows_dweight_3x3_s2 (dw, p, ps, dy, g->OH, g->OW);
          if (dx)
            {
              float *q = work;
              float *even = q + (size_t) g->OH * (g->OW + 2);
              float *odd = even + split_parity_floats (g);
              for (int oh = 0; oh < g->OH; oh++)
                {
                  float *d = q + (size_t) oh * (g->OW + 2);
                  d[0] = 0.0f;
                  memcpy (d + 1, dy + (size_t) oh * g->OW,
                          sizeof (float) * g->OW);
                  d[g->OW + 1] = 0.0f;
                }
              rows_dinput_3x3_s2 (dx, q, w, even, odd, g);
            }
        }
      else
        {
          if (dw)
            rows_dweight_generic (dw, p, ps, dy, g);
          if (dx)
            rows_dinput_generic (dx, work, dy, w, g, PH, PW);
        }
    }
}

void
graft_depthwise_backward (float *dinput,
                          gboolean assign_dinput,
                          float *dweight,
                          const float *dout,
                          const float *in,
                          const float *weight,
                          const GraftConvGeometry *g,
                          float *scratch)
{
  int M = g->OC / g->C;
  size_t HW = (size_t) g->H * g->W, P = (size_t) g->OH * g->OW;
  DepthwiseKind kind = depthwise_kind (g);
  BackwardLayout l = backward_layout (g);
  size_t per_thread = backward_thread_floats (&l);
  int threads = omp_get_max_threads ();
  int period = mask_period (g->W);
  /* the flat kernels' masks: the forward pads for dW, the flipped
   * kernel's (2 - pad) for dX */
  uint32_t *mask_x = (uint32_t *) scratch;
  uint32_t *mask_dy = mask_x + 3 * (size_t) period;
  float *buffers = scratch;
  size_t x_off = flat_offset (g->W, g->pad_top, g->pad_left);
  size_t dy_off = flat_offset (g->W, 2 - g->pad_top, 2 - g->pad_left);

  if (kind == DEPTHWISE_FLAT_S1)
    {
      fill_masks (mask_x, g->W, period, g->pad_left);
      fill_masks (mask_dy, g->W, period, 2 - g->pad_left);
      buffers = scratch + 6 * (size_t) period;
    }

    /* A thread owns whole channels: dweight sums its images in order.
     * Channels go to whichever thread is free; a channel's sums do not
     * depend on which. */
#pragma omp parallel num_threads(threads)
  {
    float *mine = buffers + (size_t) omp_get_thread_num () * per_thread;
    float *xb = mine, *dyb = xb + l.x_floats, *D = dyb + l.dy_floats;
    float (*acc)[LANES] = (float (*)[LANES]) (D + l.d_floats);
    gboolean flat = kind == DEPTHWISE_FLAT_S1,
             phase = kind == DEPTHWISE_PHASE_S2;
    if (flat || phase)
      memset (mine, 0, sizeof (float) * (l.x_floats + l.dy_floats));

#pragma omp for schedule(dynamic, 1)
    for (int c = 0; c < g->C; c++)
      {
        if (dweight)
          memset (acc, 0, sizeof (float) * l.acc_floats);
        for (int n = 0; n < g->N; n++)
          {
            const float *x = in + ((size_t) n * g->C + c) * HW;
            const float *dout_n = dout + (size_t) n * g->OC * P;
            float *dx = dinput ? dinput + ((size_t) n * g->C + c) * HW : NULL;
            if (!flat && !phase)
              {
                rows_backward_plane (dx, assign_dinput, dweight, dout_n, x,
                                     weight, c, g, xb, dyb);
                continue;
              }
            if (dweight && flat)
              memcpy (xb + x_off, x, sizeof (float) * HW);
            else if (dweight)
              gather_phases (xb, x, g);
            for (int m = 0; m < M; m++)
              {
                int oc = c * M + m;
                const float *dy = dout_n + (size_t) oc * P;
                const float *w = weight + (size_t) oc * 9;
                float (*acc_m)[LANES] = acc + (size_t) m * 9;
                if (flat)
                  {
                    if (dweight)
                      flat_dweight_3x3 (acc_m, xb, g->W, P, dy, mask_x, period);
                    if (dx)
                      {
                        float flipped[9];
                        for (int k = 0; k < 9; k++)
                          flipped[k] = w[8 - k];
                        memcpy (dyb + dy_off, dy, sizeof (float) * P);
                        flat_3x3 (dx, dyb, g->W, HW, flipped, 0.0f, mask_dy,
                                  period, !assign_dinput || m > 0);
                      }
                  }
                else
                  {
                    if (dweight)
                      phase_dweight_3x3_s2 (acc_m, xb, dy, g);
                    if (dx)
                      {
                        fill_parity_q (dyb, dy, g);
                        parity_dinput_3x3_s2 (D, dyb, w, g, m > 0);
                      }
                  }
              }
            if (dx && phase)
              parity_interleave (dx, D, g, assign_dinput);
          }
        if (dweight && (flat || phase))
          for (int m = 0; m < M; m++)
            for (int k = 0; k < 9; k++)
              {
                float s = 0.0f;
                for (int ln = 0; ln < LANES; ln++)
                  s += acc[m * 9 + k][ln];
                dweight[(size_t) (c * M + m) * 9 + k] += s;
              }
      }
  }
}
