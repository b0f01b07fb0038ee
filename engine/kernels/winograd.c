/* winograd.c: F(4x4, 3x3) Winograd convolution, forward and backward.
 *
 * Shapes: in (N, C, H, W), weight (OC, C, 3, 3), out (N, OC, OH, OW).
 * Tiles: the output is cut into TH x TW tiles of 4x4 per image (the last
 * row and column of tiles hang over the edge and are cropped), numbered
 * t = (n * TH + th) * TW + tw over the whole batch; tile t reads the 6x6
 * input patch at (4 th - pad_top, 4 tw - pad_left), zero outside the input.
 *
 * Transform-domain buffers, for a block of nt tiles (ld = nt rounded up to
 * LANES; the extra lanes are zero patches):
 *   U  (36, OC, C)   G w G^T of every (oc, c) kernel
 *   V  (36, C, ld)   B^T d B of every (c, tile) input patch
 *   M  (36, OC, ld)  U x V at each position; A^T M A is the output tile
 * and backward:
 *   dM (36, OC, ld)  A dY A^T of every (oc, tile) output-gradient tile
 *   dU (36, OC, C)   dM x V^T summed over every tile; G^T dU G is dW
 *   dV (36, C, ld)   U^T x dM at each position (in V's memory); B dV B^T
 *                    is the input patch's gradient, added into dX
 * with, for the points 0, 1, -1, 2, -2 and infinity (Lavin and Gray),
 *   B^T = [ 4  0 -5  0  1  0 ]   G = [  1/4     0     0  ]
 *         [ 0 -4 -4  1  1  0 ]       [ -1/6  -1/6  -1/6  ]
 *         [ 0  4 -4 -1  1  0 ]       [ -1/6   1/6  -1/6  ]
 *         [ 0 -2 -1  2  1  0 ]       [ 1/24  1/12   1/6  ]
 *         [ 0  2 -1 -2  1  0 ]       [ 1/24 -1/12   1/6  ]
 *         [ 0  4  0 -5  0  1 ]       [    0     0     1  ]
 *   A^T = [ 1  1  1  1  1  0 ]
 *         [ 0  1 -1  2 -2  0 ]
 *         [ 0  1  1  4  4  0 ]
 *         [ 0  1 -1  8 -8  1 ]
 */
#include "kernels/winograd.h"

#include <cblas.h>
#include <omp.h>
#include <string.h>

#define TILE 4  /* output tile side */
#define ALPHA 6 /* input tile side, TILE + 3 - 1 */
#define NPOS 36 /* ALPHA * ALPHA transform positions */
#define LANES 8 /* tiles (or channels) transformed side by side */

/* Tiles per block: the block's V and M together stay within about
 * BLOCK_FLOATS floats (the shared L3 holds them between the transforms and
 * the sgemms), but no fewer than MIN_BLOCK tiles (narrower sgemms lose
 * speed, and each block reads all of U again) and no more than
 * MAX_BLOCK. */
#define BLOCK_FLOATS ((size_t) 1 << 20)
#define MIN_BLOCK 128
#define MAX_BLOCK 512

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define WINOGRAD_VECTOR_CLONES                                                 \
  __attribute__ ((target_clones ("arch=x86-64-v3", "default")))
#else
#define WINOGRAD_VECTOR_CLONES
#endif

/* ---- when ---- */

static gboolean
winograd_supports (const GraftConvGeometry *g)
{
  return g->KH == 3 && g->KW == 3 && g->stride_h == 1 && g->stride_w == 1 &&
         g->dilation_h == 1 && g->dilation_w == 1 && g->group == 1 &&
         g->pad_top >= 0 && g->pad_left >= 0 && g->pad_bottom >= 0 &&
         g->pad_right >= 0 && g->N > 0 && g->C > 0 && g->OC > 0 && g->OH > 0 &&
         g->OW > 0;
}

static gboolean
winograd_disabled (void)
{
  static gsize once = 0;
  static gboolean disabled = FALSE;
  if (g_once_init_enter (&once))
    {
      const char *value = g_getenv ("GRAFT_NO_WINOGRAD");
      disabled = value != NULL && strcmp (value, "1") == 0;
      g_once_init_leave (&once, 1);
    }
  return disabled;
}

static int
tiles_across (int size)
{
  return (size + TILE - 1) / TILE;
}

gboolean
graft_winograd_applies (const GraftConvGeometry *g)
{
  if (!winograd_supports (g) || winograd_disabled ())
    return FALSE;
  /* Below these the transforms cost more than the multiplies they save
   * (measured with single images and small batches): U, 4x the weights,
   * is written and read again for every call, which wide layers only
   * repay over many tiles (512 channels at 7x7 broke even at 8 images). */
  int64_t tiles = (int64_t) g->N * tiles_across (g->OH) * tiles_across (g->OW);
  int64_t pairs = (int64_t) g->C * g->OC;
  if (g->C < 16 || g->OC < 16)
    return FALSE;
  return tiles >= (pairs > 128 * 128 ? 64 : 16);
}

/* ---- sizes ---- */

typedef struct
{
  int TH, TW;     /* tiles per image, down and across */
  int64_t tiles;  /* N * TH * TW */
  int threads;    /* OpenMP threads */
  int block;      /* tiles per block, a multiple of LANES */
  size_t u, v, m; /* floats of U (or dU), V (or dV), M (or dM) */
} Plan;

static size_t
round_up (size_t n, size_t to)
{
  return (n + to - 1) / to * to;
}

/* Forward: threads take blocks of the whole batch's tiles as they come
 * free. Backward: each thread owns a fixed run of whole images (patches
 * of one image overlap, so one thread adds all of them into dX, and its
 * own dU partial sum keeps dW independent of timing). */
static void
plan_init (Plan *p, const GraftConvGeometry *g, gboolean backward)
{
  int threads = omp_get_max_threads ();
  p->TH = tiles_across (g->OH);
  p->TW = tiles_across (g->OW);
  p->tiles = (int64_t) g->N * p->TH * p->TW;
  p->threads = MAX (1, backward ? MIN (threads, g->N) : threads);
  /* the most tiles one thread walks through */
  int64_t range = backward ? (int64_t) ((g->N + p->threads - 1) / p->threads) *
                                 p->TH * p->TW
                           : (p->tiles + p->threads - 1) / p->threads;
  size_t fit = BLOCK_FLOATS / ((size_t) NPOS * (g->C + g->OC));
  size_t most = MIN (CLAMP (fit, MIN_BLOCK, MAX_BLOCK), (size_t) range);
  /* blocks of about equal size, none a small remainder */
  size_t blocks = ((size_t) range + most - 1) / most;
  size_t even = ((size_t) range + blocks - 1) / blocks;
  p->block = (int) MIN (round_up (even, LANES), MAX_BLOCK);
  /* Sections start 64-byte aligned relative to scratch. */
  p->u = round_up ((size_t) NPOS * g->OC * g->C, 16);
  p->v = round_up ((size_t) NPOS * g->C * p->block, 16);
  p->m = round_up ((size_t) NPOS * g->OC * p->block, 16);
}

/* scratch: U, then V and M for each thread */
size_t
graft_winograd_forward_scratch_floats (const GraftConvGeometry *g)
{
  if (!winograd_supports (g))
    return 0;
  Plan p;
  plan_init (&p, g, FALSE);
  return p.u + p.threads * (p.v + p.m);
}

/* scratch: U, dU for each thread, then dV and dM for each thread */
size_t
graft_winograd_backward_scratch_floats (const GraftConvGeometry *g)
{
  if (!winograd_supports (g))
    return 0;
  Plan p;
  plan_init (&p, g, TRUE);
  return p.u + p.threads * (p.u + p.v + p.m);
}

/* ---- one-dimensional transforms, LANES at a time ----
 * d/o point at element 0 of LANES consecutive lanes; element i is at
 * i * stride. */

static inline void
input_1d (float *restrict o, size_t os, const float *restrict d, size_t ds)
{
  for (int l = 0; l < LANES; l++)
    {
      float d0 = d[l], d1 = d[ds + l], d2 = d[2 * ds + l];
      float d3 = d[3 * ds + l], d4 = d[4 * ds + l], d5 = d[5 * ds + l];
      o[l] = 4.0f * d0 - 5.0f * d2 + d4;
      o[os + l] = -4.0f * (d1 + d2) + d3 + d4;
      o[2 * os + l] = 4.0f * (d1 - d2) - d3 + d4;
      o[3 * os + l] = 2.0f * (d3 - d1) - d2 + d4;
      o[4 * os + l] = 2.0f * (d1 - d3) - d2 + d4;
      o[5 * os + l] = 4.0f * d1 - 5.0f * d3 + d5;
    }
}

/* The adjoint of input_1d: o = B v. */
static inline void
input_1d_adjoint (float *restrict o,
                  size_t os,
                  const float *restrict v,
                  size_t vs)
{
  for (int l = 0; l < LANES; l++)
    {
      float v0 = v[l], v1 = v[vs + l], v2 = v[2 * vs + l];
      float v3 = v[3 * vs + l], v4 = v[4 * vs + l], v5 = v[5 * vs + l];
      o[l] = 4.0f * v0;
      o[os + l] = 4.0f * (v2 - v1 + v5) + 2.0f * (v4 - v3);
      o[2 * os + l] = -5.0f * v0 - 4.0f * (v1 + v2) - v3 - v4;
      o[3 * os + l] = v1 - v2 + 2.0f * (v3 - v4) - 5.0f * v5;
      o[4 * os + l] = v0 + v1 + v2 + v3 + v4;
      o[5 * os + l] = v5;
    }
}

/* o (4 elements) = A^T m (6 elements) */
static inline void
output_1d (float *restrict o, size_t os, const float *restrict m, size_t ms)
{
  for (int l = 0; l < LANES; l++)
    {
      float m0 = m[l], m1 = m[ms + l], m2 = m[2 * ms + l];
      float m3 = m[3 * ms + l], m4 = m[4 * ms + l], m5 = m[5 * ms + l];
      float p12 = m1 + m2, d12 = m1 - m2, p34 = m3 + m4, d34 = m3 - m4;
      o[l] = m0 + p12 + p34;
      o[os + l] = d12 + 2.0f * d34;
      o[2 * os + l] = p12 + 4.0f * p34;
      o[3 * os + l] = d12 + 8.0f * d34 + m5;
    }
}

/* The adjoint of output_1d: o (6) = A y (4). */
static inline void
output_1d_adjoint (float *restrict o,
                   size_t os,
                   const float *restrict y,
                   size_t ys)
{
  for (int l = 0; l < LANES; l++)
    {
      float y0 = y[l], y1 = y[ys + l], y2 = y[2 * ys + l], y3 = y[3 * ys + l];
      float even = y0 + y2, odd = y1 + y3;
      float even4 = y0 + 4.0f * y2, odd8 = 2.0f * y1 + 8.0f * y3;
      o[l] = y0;
      o[os + l] = even + odd;
      o[2 * os + l] = even - odd;
      o[3 * os + l] = even4 + odd8;
      o[4 * os + l] = even4 - odd8;
      o[5 * os + l] = y3;
    }
}

/* o (6) = G w (3) */
static inline void
weight_1d (float *restrict o, size_t os, const float *restrict w, size_t ws)
{
  for (int l = 0; l < LANES; l++)
    {
      float w0 = w[l], w1 = w[ws + l], w2 = w[2 * ws + l];
      o[l] = 0.25f * w0;
      o[os + l] = (-1.0f / 6.0f) * (w0 + w1 + w2);
      o[2 * os + l] = (-1.0f / 6.0f) * (w0 - w1 + w2);
      o[3 * os + l] =
          (1.0f / 24.0f) * w0 + (1.0f / 12.0f) * w1 + (1.0f / 6.0f) * w2;
      o[4 * os + l] =
          (1.0f / 24.0f) * w0 - (1.0f / 12.0f) * w1 + (1.0f / 6.0f) * w2;
      o[5 * os + l] = w2;
    }
}

/* The adjoint of weight_1d: o (3) = G^T u (6). */
static inline void
weight_1d_adjoint (float *restrict o,
                   size_t os,
                   const float *restrict u,
                   size_t us)
{
  for (int l = 0; l < LANES; l++)
    {
      float u0 = u[l], u1 = u[us + l], u2 = u[2 * us + l];
      float u3 = u[3 * us + l], u4 = u[4 * us + l], u5 = u[5 * us + l];
      o[l] =
          0.25f * u0 - (1.0f / 6.0f) * (u1 + u2) + (1.0f / 24.0f) * (u3 + u4);
      o[os + l] = (1.0f / 6.0f) * (u2 - u1) + (1.0f / 12.0f) * (u3 - u4);
      o[2 * os + l] = (1.0f / 6.0f) * (u3 + u4 - u1 - u2) + u5;
    }
}

/* ---- tiles of a block ---- */

typedef struct
{
  int n;      /* image, -1 for a lane past the block's end */
  int oh, ow; /* the tile's top left output position */
} TileAt;

static void
block_tiles (TileAt *at, const Plan *p, int64_t t0, int nt, int ld)
{
  int per_image = p->TH * p->TW;
  for (int k = 0; k < ld; k++)
    {
      if (k >= nt)
        {
          at[k] = (TileAt){ -1, 0, 0 };
          continue;
        }
      int64_t t = t0 + k;
      int r = (int) (t % per_image);
      at[k] =
          (TileAt){ (int) (t / per_image), r / p->TW * TILE, r % p->TW * TILE };
    }
}

/* ---- weights: U = G w G^T and dW += G^T dU G ---- */

/* Channels per chunk of dweight_row: dU's 36 rows for them are copied
 * into a local buffer first, 36 runs of contiguous floats. */
#define CHUNK 64

/* U[:, oc, :] (36, C) of weight[oc] (C, 3, 3). */
WINOGRAD_VECTOR_CLONES
static void
weight_transform_row (float *U,
                      const float *weight,
                      const GraftConvGeometry *g,
                      int oc)
{
  size_t pos_stride = (size_t) g->OC * g->C;
  for (int c0 = 0; c0 < g->C; c0 += LANES)
    {
      int nl = MIN (LANES, g->C - c0);
      float w[3][3][LANES] = { 0 }, t[ALPHA][3][LANES], u[ALPHA][ALPHA][LANES];
      for (int l = 0; l < nl; l++)
        {
          const float *k = weight + ((size_t) oc * g->C + c0 + l) * 9;
          for (int i = 0; i < 9; i++)
            w[i / 3][i % 3][l] = k[i];
        }
      for (int j = 0; j < 3; j++)
        weight_1d (t[0][j], 3 * LANES, w[0][j], 3 * LANES);
      for (int i = 0; i < ALPHA; i++)
        weight_1d (u[i][0], LANES, t[i][0], LANES);
      float *dst = U + (size_t) oc * g->C + c0;
      for (int xi = 0; xi < NPOS; xi++)
        memcpy (dst + xi * pos_stride, u[xi / ALPHA][xi % ALPHA],
                sizeof (float) * nl);
    }
}

/* dweight[oc] (C, 3, 3) += G^T dU[:, oc, :] G, where dU is the sum of
 * n_parts partial sums (36, OC, C) part_stride floats apart, in order. */
WINOGRAD_VECTOR_CLONES
static void
dweight_row (float *dweight,
             const float *dU,
             int n_parts,
             size_t part_stride,
             const GraftConvGeometry *g,
             int oc)
{
  size_t pos_stride = (size_t) g->OC * g->C;
  float u[NPOS][CHUNK];
  for (int c1 = 0; c1 < g->C; c1 += CHUNK)
    {
      int nc = MIN (CHUNK, g->C - c1);
      const float *src = dU + (size_t) oc * g->C + c1;
      for (int xi = 0; xi < NPOS; xi++)
        {
          memcpy (u[xi], src + xi * pos_stride, sizeof (float) * nc);
          memset (u[xi] + nc, 0, sizeof (float) * (CHUNK - nc));
          for (int part = 1; part < n_parts; part++)
            {
              const float *more = src + part * part_stride + xi * pos_stride;
              for (int c = 0; c < nc; c++)
                u[xi][c] += more[c];
            }
        }
      for (int c0 = 0; c0 < nc; c0 += LANES)
        {
          int nl = MIN (LANES, nc - c0);
          float v[ALPHA][ALPHA][LANES], t[3][ALPHA][LANES], w[3][3][LANES];
          for (int xi = 0; xi < NPOS; xi++)
            memcpy (v[xi / ALPHA][xi % ALPHA], &u[xi][c0],
                    sizeof (float) * LANES);
          for (int j = 0; j < ALPHA; j++)
            weight_1d_adjoint (t[0][j], ALPHA * LANES, v[0][j], ALPHA * LANES);
          for (int i = 0; i < 3; i++)
            weight_1d_adjoint (w[i][0], LANES, t[i][0], LANES);
          float *k = dweight + ((size_t) oc * g->C + c1 + c0) * 9;
          for (int l = 0; l < nl; l++)
            for (int i = 0; i < 9; i++)
              k[l * 9 + i] += w[i / 3][i % 3][l];
        }
    }
}

/* ---- inputs: V = B^T d B and dX += B dV B^T ---- */

/* d[:, :, l] = the 6x6 patch of plane (H, W) at (ih0, iw0), zero outside. */
static inline void
gather_patch (float d[ALPHA][ALPHA][LANES],
              int l,
              const float *plane,
              int H,
              int W,
              int ih0,
              int iw0)
{
  if (ih0 >= 0 && iw0 >= 0 && ih0 + ALPHA <= H && iw0 + ALPHA <= W)
    {
      for (int i = 0; i < ALPHA; i++)
        for (int j = 0; j < ALPHA; j++)
          d[i][j][l] = plane[(size_t) (ih0 + i) * W + iw0 + j];
      return;
    }
  /* An edge tile: zeros, then the rows and columns inside the plane. */
  int i0 = MAX (0, -ih0), i1 = MIN (ALPHA, H - ih0);
  int j0 = MAX (0, -iw0), j1 = MIN (ALPHA, W - iw0);
  for (int i = 0; i < ALPHA; i++)
    for (int j = 0; j < ALPHA; j++)
      d[i][j][l] = 0.0f;
  for (int i = i0; i < i1; i++)
    for (int j = j0; j < j1; j++)
      d[i][j][l] = plane[(size_t) (ih0 + i) * W + iw0 + j];
}

/* V[:, c, :] (36, ld) of channel c's patches under the block's tiles. */
WINOGRAD_VECTOR_CLONES
static void
input_transform_channel (float *V,
                         const float *in,
                         const GraftConvGeometry *g,
                         int c,
                         const TileAt *at,
                         int ld)
{
  size_t HW = (size_t) g->H * g->W, pos_stride = (size_t) g->C * ld;
  for (int k0 = 0; k0 < ld; k0 += LANES)
    {
      float d[ALPHA][ALPHA][LANES], t[ALPHA][ALPHA][LANES];
      for (int l = 0; l < LANES; l++)
        {
          const TileAt *a = &at[k0 + l];
          if (a->n < 0)
            {
              for (int i = 0; i < NPOS; i++)
                d[i / ALPHA][i % ALPHA][l] = 0.0f;
              continue;
            }
          gather_patch (d, l, in + ((size_t) a->n * g->C + c) * HW, g->H, g->W,
                        a->oh - g->pad_top, a->ow - g->pad_left);
        }
      for (int j = 0; j < ALPHA; j++)
        input_1d (t[0][j], ALPHA * LANES, d[0][j], ALPHA * LANES);
      for (int i = 0; i < ALPHA; i++)
        input_1d (d[i][0], LANES, t[i][0], LANES);
      float *dst = V + (size_t) c * ld + k0;
      for (int xi = 0; xi < NPOS; xi++)
        memcpy (dst + xi * pos_stride, d[xi / ALPHA][xi % ALPHA],
                sizeof (float) * LANES);
    }
}

/* dinput[n, c] += B dV[:, c, tile] B^T for each tile of the block in
 * order (neighbouring patches overlap by two rows or columns). */
WINOGRAD_VECTOR_CLONES
static void
dinput_channel (float *dinput,
                const float *dV,
                const GraftConvGeometry *g,
                int c,
                const TileAt *at,
                int ld)
{
  size_t HW = (size_t) g->H * g->W, pos_stride = (size_t) g->C * ld;
  for (int k0 = 0; k0 < ld; k0 += LANES)
    {
      float v[ALPHA][ALPHA][LANES], t[ALPHA][ALPHA][LANES];
      const float *src = dV + (size_t) c * ld + k0;
      for (int xi = 0; xi < NPOS; xi++)
        memcpy (v[xi / ALPHA][xi % ALPHA], src + xi * pos_stride,
                sizeof (float) * LANES);
      for (int j = 0; j < ALPHA; j++)
        input_1d_adjoint (t[0][j], ALPHA * LANES, v[0][j], ALPHA * LANES);
      for (int i = 0; i < ALPHA; i++)
        input_1d_adjoint (v[i][0], LANES, t[i][0], LANES);
      for (int l = 0; l < LANES; l++)
        {
          const TileAt *a = &at[k0 + l];
          if (a->n < 0)
            break;
          float *plane = dinput + ((size_t) a->n * g->C + c) * HW;
          int ih0 = a->oh - g->pad_top, iw0 = a->ow - g->pad_left;
          int i0 = MAX (0, -ih0), i1 = MIN (ALPHA, g->H - ih0);
          int j0 = MAX (0, -iw0), j1 = MIN (ALPHA, g->W - iw0);
          for (int i = i0; i < i1; i++)
            for (int j = j0; j < j1; j++)
              plane[(size_t) (ih0 + i) * g->W + iw0 + j] += v[i][j][l];
        }
    }
}

/* ---- outputs: Y = A^T M A and dM = A dY A^T ---- */

/* out[n, oc] tiles = A^T M[:, oc, tile] A + bias[oc], cropped. */
WINOGRAD_VECTOR_CLONES
static void
output_transform_channel (float *out,
                          const float *M,
                          const float *bias,
                          const GraftConvGeometry *g,
                          int oc,
                          const TileAt *at,
                          int ld)
{
  size_t P = (size_t) g->OH * g->OW, pos_stride = (size_t) g->OC * ld;
  float b = bias ? bias[oc] : 0.0f;
  for (int k0 = 0; k0 < ld; k0 += LANES)
    {
      float m[ALPHA][ALPHA][LANES], t[TILE][ALPHA][LANES], y[TILE][TILE][LANES];
      const float *src = M + (size_t) oc * ld + k0;
      for (int xi = 0; xi < NPOS; xi++)
        memcpy (m[xi / ALPHA][xi % ALPHA], src + xi * pos_stride,
                sizeof (float) * LANES);
      for (int j = 0; j < ALPHA; j++)
        output_1d (t[0][j], ALPHA * LANES, m[0][j], ALPHA * LANES);
      for (int i = 0; i < TILE; i++)
        output_1d (y[i][0], LANES, t[i][0], LANES);
      for (int l = 0; l < LANES; l++)
        {
          const TileAt *a = &at[k0 + l];
          if (a->n < 0)
            break;
          float *plane = out + ((size_t) a->n * g->OC + oc) * P;
          float *o = plane + (size_t) a->oh * g->OW + a->ow;
          int rows = MIN (TILE, g->OH - a->oh),
              cols = MIN (TILE, g->OW - a->ow);
          if (rows == TILE && cols == TILE)
            for (int i = 0; i < TILE; i++)
              for (int j = 0; j < TILE; j++)
                o[(size_t) i * g->OW + j] = y[i][j][l] + b;
          else
            for (int i = 0; i < rows; i++)
              for (int j = 0; j < cols; j++)
                o[(size_t) i * g->OW + j] = y[i][j][l] + b;
        }
    }
}

/* dM[:, oc, :] (36, ld) = A dY A^T of dout[n, oc]'s tiles (zero past the
 * output's edge). */
WINOGRAD_VECTOR_CLONES
static void
dout_transform_channel (float *dM,
                        const float *dout,
                        const GraftConvGeometry *g,
                        int oc,
                        const TileAt *at,
                        int ld)
{
  size_t P = (size_t) g->OH * g->OW, pos_stride = (size_t) g->OC * ld;
  for (int k0 = 0; k0 < ld; k0 += LANES)
    {
      float y[TILE][TILE][LANES], t[ALPHA][TILE][LANES], m[ALPHA][ALPHA][LANES];
      for (int l = 0; l < LANES; l++)
        {
          const TileAt *a = &at[k0 + l];
          int rows = 0, cols = 0;
          const float *plane = NULL;
          if (a->n >= 0)
            {
              plane = dout + ((size_t) a->n * g->OC + oc) * P;
              rows = MIN (TILE, g->OH - a->oh);
              cols = MIN (TILE, g->OW - a->ow);
            }
          for (int i = 0; i < TILE; i++)
            for (int j = 0; j < TILE; j++)
              y[i][j][l] = i < rows && j < cols
                               ? plane[(size_t) (a->oh + i) * g->OW + a->ow + j]
                               : 0.0f;
        }
      for (int j = 0; j < TILE; j++)
        output_1d_adjoint (t[0][j], TILE * LANES, y[0][j], TILE * LANES);
      for (int i = 0; i < ALPHA; i++)
        output_1d_adjoint (m[i][0], LANES, t[i][0], LANES);
      float *dst = dM + (size_t) oc * ld + k0;
      for (int xi = 0; xi < NPOS; xi++)
        memcpy (dst + xi * pos_stride, m[xi / ALPHA][xi % ALPHA],
                sizeof (float) * LANES);
    }
}

/* ---- threads ---- */

/* Inside the parallel regions every sgemm is single-threaded; a
 * multi-threaded OpenBLAS (set so by conv.c for a single image, or never
 * touched) gets its count back at the end. */
static int
blas_single_begin (int threads)
{
  if (threads <= 1)
    return 0;
  int current = openblas_get_num_threads ();
  if (current == 1)
    return 0;
  openblas_set_num_threads (1);
  return current;
}

static void
blas_single_end (int saved)
{
  if (saved > 1)
    openblas_set_num_threads (saved);
}

/* ---- forward ---- */

void
graft_winograd_forward (float *out,
                        const float *in,
                        const float *weight,
                        const float *bias,
                        const GraftConvGeometry *g,
                        float *scratch)
{
  g_return_if_fail (winograd_supports (g));
  Plan p;
  plan_init (&p, g, FALSE);
  float *U = scratch, *work = scratch + p.u;
  int C = g->C, OC = g->OC, T = p.threads;
  int64_t n_blocks = (p.tiles + p.block - 1) / p.block;
  int saved = blas_single_begin (T);

#pragma omp parallel num_threads(T) if (T > 1)
  {
    float *V = work + (size_t) omp_get_thread_num () * (p.v + p.m);
    float *M = V + p.v;
    TileAt at[MAX_BLOCK];

#pragma omp for schedule(dynamic, 4)
    for (int oc = 0; oc < OC; oc++)
      weight_transform_row (U, weight, g, oc);

      /* Whole blocks handed out as threads come free: a thread that lost
       * its core for a while holds up no other. */
#pragma omp for schedule(dynamic, 1)
    for (int64_t b = 0; b < n_blocks; b++)
      {
        int64_t t0 = b * p.block;
        int nt = (int) MIN ((int64_t) p.block, p.tiles - t0);
        int ld = (int) round_up (nt, LANES);
        block_tiles (at, &p, t0, nt, ld);

        for (int c = 0; c < C; c++)
          input_transform_channel (V, in, g, c, at, ld);
        /* M[xi] (OC, ld) = U[xi] (OC, C) x V[xi] (C, ld) */
        for (int xi = 0; xi < NPOS; xi++)
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OC, ld, C,
                       1.0f, U + (size_t) xi * OC * C, C,
                       V + (size_t) xi * C * ld, ld, 0.0f,
                       M + (size_t) xi * OC * ld, ld);
        for (int oc = 0; oc < OC; oc++)
          output_transform_channel (out, M, bias, g, oc, at, ld);
      }
  }
  blas_single_end (saved);
}

/* ---- backward ---- */

/* dbias[oc] += the sum of dout[:, oc], images in order. */
static void
winograd_dbias (float *dbias, const float *dout, const GraftConvGeometry *g)
{
  size_t P = (size_t) g->OH * g->OW;
#pragma omp parallel for schedule(static)
  for (int oc = 0; oc < g->OC; oc++)
    {
      double sum = 0.0;
      for (int n = 0; n < g->N; n++)
        {
          const float *dy = dout + ((size_t) n * g->OC + oc) * P;
          float part = 0.0f;
#pragma omp simd reduction(+ : part)
          for (size_t i = 0; i < P; i++)
            part += dy[i];
          sum += part;
        }
      dbias[oc] += (float) sum;
    }
}

void
graft_winograd_backward (float *dinput,
                         float *dweight,
                         float *dbias,
                         const float *dout,
                         const float *in,
                         const float *weight,
                         const GraftConvGeometry *g,
                         float *scratch)
{
  g_return_if_fail (winograd_supports (g));
  if (dbias)
    winograd_dbias (dbias, dout, g);
  if (dinput == NULL && dweight == NULL)
    return;
  Plan p;
  plan_init (&p, g, TRUE);
  int C = g->C, OC = g->OC, T = p.threads;
  float *U = scratch, *dU = U + p.u, *work = dU + T * p.u;
  int64_t per_image = (int64_t) p.TH * p.TW;
  int saved = blas_single_begin (T);

#pragma omp parallel num_threads(T) if (T > 1)
  {
    int t = omp_get_thread_num ();
    float *V = work + (size_t) t * (p.v + p.m), *dM = V + p.v;
    float *my_dU = dU + (size_t) t * p.u;
    TileAt at[MAX_BLOCK];

    if (dinput)
      {
#pragma omp for schedule(dynamic, 4)
        for (int oc = 0; oc < OC; oc++)
          weight_transform_row (U, weight, g, oc);
      }

    int64_t first = (int64_t) g->N * t / T * per_image;
    int64_t end = (int64_t) g->N * (t + 1) / T * per_image;
    for (int64_t t0 = first; t0 < end; t0 += p.block)
      {
        int nt = (int) MIN ((int64_t) p.block, end - t0);
        int ld = (int) round_up (nt, LANES);
        block_tiles (at, &p, t0, nt, ld);

        if (dweight)
          for (int c = 0; c < C; c++)
            input_transform_channel (V, in, g, c, at, ld);
        for (int oc = 0; oc < OC; oc++)
          dout_transform_channel (dM, dout, g, oc, at, ld);
        for (int xi = 0; xi < NPOS; xi++)
          {
            const float *dm = dM + (size_t) xi * OC * ld;
            float *v = V + (size_t) xi * C * ld;
            /* dU[xi] (OC, C) (+)= dM[xi] (OC, ld) x V[xi]^T (ld, C) */
            if (dweight)
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, OC, C, ld,
                           1.0f, dm, ld, v, ld, t0 == first ? 0.0f : 1.0f,
                           my_dU + (size_t) xi * OC * C, C);
            /* dV[xi] (C, ld) = U[xi]^T (C, OC) x dM[xi] (OC, ld), over V */
            if (dinput)
              cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, C, ld, OC,
                           1.0f, U + (size_t) xi * OC * C, C, dm, ld, 0.0f, v,
                           ld);
          }
        if (dinput)
          for (int c = 0; c < C; c++)
            dinput_channel (dinput, V, g, c, at, ld);
      }

    if (dweight)
      {
#pragma omp barrier
#pragma omp for schedule(dynamic, 4)
        for (int oc = 0; oc < OC; oc++)
          dweight_row (dweight, dU, T, p.u, g, oc);
      }
  }
  blas_single_end (saved);
}
