/* conv.c: 2-D convolution forward, a reference kernel and a fast one.
 *
 * Shapes: in (N, C, H, W), weight (OC, C/group, KH, KW), bias (OC),
 * out (N, OC, OH, OW). Cg = C/group, OCg = OC/group.
 */
#include "kernels/conv.h"
#include "kernels/winograd.h"

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

/* ---- fast path: im2col + sgemm ---- */

/* im2col of output rows [oh0, oh1) with a row stride: col (Cg*KH*KW, ld),
 * the (oh1 - oh0) * OW columns at the start of each row. Several images
 * packed side by side make one wide sgemm out of many thin ones; a band of
 * rows of a large image keeps col inside the cache. */
static void
im2col_ld (float *col,
           size_t ld,
           const float *in_group,
           const GraftConvGeometry *g,
           int oh0,
           int oh1)
{
  int Cg = g->C / g->group;
  int rows = Cg * g->KH * g->KW;

  for (int row = 0; row < rows; row++)
    {
      int kw = row % g->KW;
      int kh = (row / g->KW) % g->KH;
      int ci = row / (g->KW * g->KH);
      const float *src = in_group + (size_t) ci * g->H * g->W;
      float *dst = col + (size_t) row * ld;
      int woff = kw * g->dilation_w;
      int ow_first = graft_window_first (g->pad_left, woff, g->stride_w, g->OW);
      int ow_end =
          graft_window_end (g->W, g->pad_left, woff, g->stride_w, g->OW);
      if (ow_end < ow_first)
        ow_end = ow_first;

      for (int oh = oh0; oh < oh1; oh++)
        {
          float *d = dst + (size_t) (oh - oh0) * g->OW;
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
          else if (g->stride_w == 2) /* a constant stride vectorizes */
            {
#pragma omp simd
              for (int ow = ow_first; ow < ow_end; ow++)
                d[ow] = s[2 * ow + shift];
            }
          else
            for (int ow = ow_first; ow < ow_end; ow++)
              d[ow] = s[ow * g->stride_w + shift];
          for (int ow = ow_end; ow < g->OW; ow++)
            d[ow] = 0.0f;
        }
    }
}

void
graft_conv2d_im2col (float *col,
                     const float *in_group,
                     const GraftConvGeometry *g)
{
  im2col_ld (col, (size_t) g->OH * g->OW, in_group, g, 0, g->OH);
}

/* The adjoint of im2col_ld: dinput_group (Cg, H, W) += every column entry
 * at the input position it was copied from. */
static void
col2im_ld (float *dinput_group,
           const float *col,
           size_t ld,
           const GraftConvGeometry *g,
           int oh0,
           int oh1)
{
  int Cg = g->C / g->group;
  int rows = Cg * g->KH * g->KW;

  for (int row = 0; row < rows; row++)
    {
      int kw = row % g->KW;
      int kh = (row / g->KW) % g->KH;
      int ci = row / (g->KW * g->KH);
      float *dst = dinput_group + (size_t) ci * g->H * g->W;
      const float *src = col + (size_t) row * ld;
      int woff = kw * g->dilation_w;
      int ow_first = graft_window_first (g->pad_left, woff, g->stride_w, g->OW);
      int ow_end =
          graft_window_end (g->W, g->pad_left, woff, g->stride_w, g->OW);
      int shift = woff - g->pad_left;

      for (int oh = oh0; oh < oh1; oh++)
        {
          int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
          if (ih < 0 || ih >= g->H)
            continue;
          float *d = dst + (size_t) ih * g->W;
          const float *s = src + (size_t) (oh - oh0) * g->OW;
          if (g->stride_w == 1)
            {
#pragma omp simd
              for (int ow = ow_first; ow < ow_end; ow++)
                d[ow + shift] += s[ow];
            }
          else
            for (int ow = ow_first; ow < ow_end; ow++)
              d[ow * g->stride_w + shift] += s[ow];
        }
    }
}

void
graft_conv2d_col2im (float *dinput_group,
                     const float *col,
                     const GraftConvGeometry *g)
{
  col2im_ld (dinput_group, col, (size_t) g->OH * g->OW, g, 0, g->OH);
}

/* How the sgemm paths split a batch. With at least as many images as
 * threads, each OpenMP thread owns a contiguous run of whole images and
 * calls a single-threaded sgemm: no thread pool hands cores to another,
 * and no result depends on scheduling. Fewer images (inference at batch
 * 1) leave the threading to OpenBLAS. Small planes are packed nb images
 * side by side so that every sgemm is wide enough to run near peak. */
typedef struct
{
  int threads;
  int nb;            /* images per sgemm */
  size_t col;        /* im2col floats per thread */
  size_t pack;       /* packed output / dout floats per thread */
  size_t per_thread; /* col + pack */
  size_t dweight;    /* private dweight of threads 1.. (backward) */
} GemmPlan;

/* Planes narrower than this get packed ... */
#define PACK_BELOW_COLS 128
/* ... up to about this many columns, */
#define PACK_TARGET_COLS 1024
/* ... within this much im2col memory per thread. */
#define PACK_MAX_COL_FLOATS ((size_t) 4 << 20)

static void
gemm_plan (GemmPlan *pl, const GraftConvGeometry *g, gboolean backward)
{
  int Cg = g->C / g->group, OCg = g->OC / g->group;
  size_t K = (size_t) Cg * g->KH * g->KW;
  size_t P = (size_t) g->OH * g->OW;
  int threads = omp_get_max_threads ();

  pl->threads = threads > 1 && g->N >= threads ? threads : 1;
  pl->nb = 1;
  if (P < PACK_BELOW_COLS && g->N > 1)
    {
      int per_thread = (g->N + pl->threads - 1) / pl->threads;
      int want = (int) ((PACK_TARGET_COLS + P - 1) / P);
      pl->nb = MIN (per_thread, want);
      while (pl->nb > 1 && K * pl->nb * P > PACK_MAX_COL_FLOATS)
        pl->nb--;
    }
  size_t cols = (size_t) pl->nb * P;
  pl->col = is_pointwise (g) && pl->nb == 1 ? 0 : K * cols;
  pl->pack = pl->nb > 1 ? (size_t) OCg * cols : 0;
  pl->per_thread = pl->col + pl->pack;
  pl->dweight = backward ? (size_t) g->OC * K : 0;
}

/* One band's sgemm operands, the im2col rows (K, band * OW) and the
 * output or output-gradient rows (OCg, band * OW), stay within about this
 * many floats (a core's 1 MiB L2 here): sgemm on a 3x3 im2col band that
 * fits ran at 100 GFLOP/s a core, on a whole 56x56 or 112x112 image at
 * 70-75, and backward reads each dY band twice (dW, then dX) while it is
 * still cached. */
#define BAND_TARGET_FLOATS ((size_t) 256 << 10)

/* Output rows per band of a single-image sgemm. A multi-threaded
 * OpenBLAS (a batch smaller than the thread count) gets the whole image:
 * its threads meet at the end of every call, and many small calls spent
 * more time meeting than the cache saved. */
static int
band_rows (const GraftConvGeometry *g, int K, int OCg)
{
  if (openblas_get_num_threads () > 1)
    return g->OH;
  size_t rows = BAND_TARGET_FLOATS / ((size_t) (K + OCg) * g->OW);
  return rows < 1 ? 1 : rows >= (size_t) g->OH ? g->OH : (int) rows;
}

static size_t
gemm_plan_floats (const GemmPlan *pl)
{
  return pl->threads * pl->per_thread + (pl->threads - 1) * pl->dweight;
}

/* Inside the batch-parallel region OpenBLAS must not start its own
 * threads. The count is set to 1 on the way in and left there while
 * batches keep coming (a training run switches nothing after its first
 * step, and idle BLAS threads never spin beside the OpenMP ones); the
 * first small batch after them gives the count back. */
static int blas_threads_to_restore; /* 0: nothing to restore */

static void
blas_enter_batch_parallel (void)
{
  int current = openblas_get_num_threads ();
  if (current != 1)
    {
      g_atomic_int_set (&blas_threads_to_restore, current);
      openblas_set_num_threads (1);
    }
}

static void
blas_leave_batch_parallel (void)
{
  int saved = g_atomic_int_get (&blas_threads_to_restore);
  if (saved > 1 &&
      g_atomic_int_compare_and_exchange (&blas_threads_to_restore, saved, 0))
    openblas_set_num_threads (saved);
}

/* out[n0 .. n0+nb) = conv of in[n0 .. n0+nb), every group. */
static void
forward_chunk (float *out,
               const float *in,
               const float *weight,
               const float *bias,
               const GraftConvGeometry *g,
               int n0,
               int nb,
               float *col,
               float *pack)
{
  int Cg = g->C / g->group, OCg = g->OC / g->group;
  int K = Cg * g->KH * g->KW;
  size_t P = (size_t) g->OH * g->OW, HW = (size_t) g->H * g->W;
  size_t cols = (size_t) nb * P;
  gboolean direct = is_pointwise (g) && nb == 1; /* the input is col */

  for (int grp = 0; grp < g->group; grp++)
    {
      const float *w = weight + (size_t) grp * OCg * K;
      const float *b = in + ((size_t) n0 * g->C + (size_t) grp * Cg) * HW;
      if (!direct)
        {
          if (nb > 1)
            for (int i = 0; i < nb; i++)
              im2col_ld (col + i * P, cols,
                         in + ((size_t) (n0 + i) * g->C + (size_t) grp * Cg) *
                                  HW,
                         g, 0, g->OH);
          b = col;
        }
      if (nb == 1)
        {
          float *y = out + ((size_t) n0 * g->OC + (size_t) grp * OCg) * P;
          for (int j = 0; j < OCg; j++)
            {
              float bj = bias ? bias[grp * OCg + j] : 0.0f;
#pragma omp simd
              for (size_t s = 0; s < P; s++)
                y[j * P + s] = bj;
            }
          /* Y[:, band] += W x col (band) */
          int rows = band_rows (g, K, OCg);
          for (int oh0 = 0; oh0 < g->OH; oh0 += rows)
            {
              int oh1 = MIN (oh0 + rows, g->OH);
              int bc = (oh1 - oh0) * g->OW;
              size_t at = (size_t) oh0 * g->OW;
              if (direct)
                cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OCg, bc,
                             K, 1.0f, w, K, b + at, (int) P, 1.0f, y + at,
                             (int) P);
              else
                {
                  im2col_ld (col, bc,
                             in + ((size_t) n0 * g->C + (size_t) grp * Cg) * HW,
                             g, oh0, oh1);
                  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OCg,
                               bc, K, 1.0f, w, K, col, bc, 1.0f, y + at,
                               (int) P);
                }
            }
          continue;
        }
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, OCg, (int) cols,
                   K, 1.0f, w, K, b, (int) cols, 0.0f, pack, (int) cols);
      for (int i = 0; i < nb; i++)
        for (int j = 0; j < OCg; j++)
          {
            float *y = out + ((size_t) (n0 + i) * g->OC + grp * OCg + j) * P;
            const float *s = pack + j * cols + i * P;
            float bj = bias ? bias[grp * OCg + j] : 0.0f;
#pragma omp simd
            for (size_t k = 0; k < P; k++)
              y[k] = s[k] + bj;
          }
    }
}

static void
conv_gemm_forward (float *out,
                   const float *in,
                   const float *weight,
                   const float *bias,
                   const GraftConvGeometry *g,
                   float *scratch)
{
  GemmPlan pl;
  gemm_plan (&pl, g, FALSE);
  int T = pl.threads;
  if (T > 1)
    blas_enter_batch_parallel ();
  else
    blas_leave_batch_parallel ();

  /* Chunks of nb images handed out as threads come free: on a busy
   * machine a thread that lost its core for a while no longer holds up
   * the other with a fixed half of the batch. Chunk boundaries do not
   * depend on the schedule, so neither does any output. */
  int n_chunks = (g->N + pl.nb - 1) / pl.nb;
#pragma omp parallel num_threads(T) if (T > 1)
  {
    int t = omp_get_thread_num ();
    float *mine = scratch ? scratch + t * pl.per_thread : NULL;
#pragma omp for schedule(dynamic, 1)
    for (int i = 0; i < n_chunks; i++)
      {
        int n0 = i * pl.nb;
        forward_chunk (out, in, weight, bias, g, n0, MIN (pl.nb, g->N - n0),
                       mine, mine ? mine + pl.col : NULL);
      }
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
  /* scratch holds one plane per thread, as many as sized for; planes go
   * to whichever thread is free (see conv_gemm_forward) */
  int threads = omp_get_max_threads ();

#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
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

/* C == 0: the output is the bias alone. */
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

size_t
graft_conv2d_forward_scratch_floats (const GraftConvGeometry *g)
{
  if (graft_winograd_applies (g))
    return graft_winograd_forward_scratch_floats (g);
  if (g->N == 0 || g->OH <= 0 || g->OW <= 0)
    return 0;
  if (is_depthwise (g))
    {
      if (depthwise_reads_input (g))
        return 0;
      return (size_t) omp_get_max_threads () * padded_rows (g) *
             padded_cols (g);
    }
  GemmPlan pl;
  gemm_plan (&pl, g, FALSE);
  return gemm_plan_floats (&pl);
}

void
graft_conv2d_forward (float *out,
                      const float *in,
                      const float *weight,
                      const float *bias,
                      const GraftConvGeometry *g,
                      float *scratch)
{
  if (graft_winograd_applies (g))
    {
      graft_winograd_forward (out, in, weight, bias, g, scratch);
      return;
    }
  if (g->N == 0 || g->OH <= 0 || g->OW <= 0 || g->OC == 0)
    return;
  if (is_depthwise (g))
    {
      conv_depthwise (out, in, weight, bias, g, scratch);
      return;
    }
  if (g->C == 0)
    {
      fill_bias (out, bias, g);
      return;
    }
  conv_gemm_forward (out, in, weight, bias, g, scratch);
}

/* ==== backward ==== */

/* ---- reference ---- */

void
graft_conv2d_backward_reference (float *dinput,
                                 float *dweight,
                                 float *dbias,
                                 const float *dout,
                                 const float *in,
                                 const float *weight,
                                 const GraftConvGeometry *g)
{
  int Cg = g->C / g->group, OCg = g->OC / g->group;
  size_t nx = (size_t) g->N * g->C * g->H * g->W;
  size_t nw = (size_t) g->OC * Cg * g->KH * g->KW;
  double *dx = g_new0 (double, nx + 1), *dw = g_new0 (double, nw + 1);
  double *db = g_new0 (double, (size_t) g->OC + 1);

  for (int n = 0; n < g->N; n++)
    for (int oc = 0; oc < g->OC; oc++)
      for (int oh = 0; oh < g->OH; oh++)
        for (int ow = 0; ow < g->OW; ow++)
          {
            double dy =
                dout[(((size_t) n * g->OC + oc) * g->OH + oh) * g->OW + ow];
            db[oc] += dy;
            for (int ci = 0; ci < Cg; ci++)
              {
                int c = oc / OCg * Cg + ci;
                for (int kh = 0; kh < g->KH; kh++)
                  {
                    int ih = oh * g->stride_h - g->pad_top + kh * g->dilation_h;
                    if (ih < 0 || ih >= g->H)
                      continue;
                    for (int kw = 0; kw < g->KW; kw++)
                      {
                        int iw =
                            ow * g->stride_w - g->pad_left + kw * g->dilation_w;
                        if (iw < 0 || iw >= g->W)
                          continue;
                        size_t xi =
                            (((size_t) n * g->C + c) * g->H + ih) * g->W + iw;
                        size_t wi =
                            (((size_t) oc * Cg + ci) * g->KH + kh) * g->KW + kw;
                        dx[xi] += dy * weight[wi];
                        dw[wi] += dy * in[xi];
                      }
                  }
              }
          }

  if (dinput)
    for (size_t i = 0; i < nx; i++)
      dinput[i] += (float) dx[i];
  if (dweight)
    for (size_t i = 0; i < nw; i++)
      dweight[i] += (float) dw[i];
  if (dbias)
    for (int oc = 0; oc < g->OC; oc++)
      dbias[oc] += (float) db[oc];
  g_free (dx);
  g_free (dw);
  g_free (db);
}

/* ---- dbias: a sum per output channel, images in order ---- */

static void
conv_dbias (float *dbias, const float *dout, const GraftConvGeometry *g)
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

/* ---- sgemm paths ---- */

/* backward_chunk for the single image n, band of output rows by band of
 * output rows (see band_rows) so that each im2col band is still in the
 * cache when sgemm reads it: dweight_acc (OC, K) += dY[:, band] x
 * col(band)^T, then col(band) = W^T x dY[:, band] scattered into dinput. */
static void
backward_image_banded (float *dinput,
                       gboolean assign_dinput,
                       float *dweight_acc,
                       gboolean fresh,
                       const float *dout,
                       const float *in,
                       const float *weight,
                       const GraftConvGeometry *g,
                       int n,
                       float *col)
{
  int Cg = g->C / g->group, OCg = g->OC / g->group;
  int K = Cg * g->KH * g->KW;
  size_t P = (size_t) g->OH * g->OW, HW = (size_t) g->H * g->W;
  gboolean direct = is_pointwise (g); /* the input is col */
  int rows = band_rows (g, K, OCg);

  for (int grp = 0; grp < g->group; grp++)
    {
      const float *w = weight + (size_t) grp * OCg * K;
      const float *dy = dout + ((size_t) n * g->OC + (size_t) grp * OCg) * P;
      const float *x = in + ((size_t) n * g->C + (size_t) grp * Cg) * HW;
      float *dx =
          dinput ? dinput + ((size_t) n * g->C + (size_t) grp * Cg) * HW : NULL;
      float *dw = dweight_acc ? dweight_acc + (size_t) grp * OCg * K : NULL;
      /* Bands of col2im overlap in dX: start the group's dX at zero. */
      if (dx && assign_dinput && !direct)
        memset (dx, 0, sizeof (float) * Cg * HW);
      for (int oh0 = 0; oh0 < g->OH; oh0 += rows)
        {
          int oh1 = MIN (oh0 + rows, g->OH);
          int bc = (oh1 - oh0) * g->OW;
          size_t at = (size_t) oh0 * g->OW;
          if (dw)
            {
              const float *xb = x + at; /* direct: (Cg, band) of ld P */
              int ldx = (int) P;
              if (!direct)
                {
                  im2col_ld (col, bc, x, g, oh0, oh1);
                  xb = col;
                  ldx = bc;
                }
              /* dW (OCg, K) += dY (OCg, bc) x col^T (bc, K) */
              cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, OCg, K, bc,
                           1.0f, dy + at, (int) P, xb, ldx,
                           fresh && oh0 == 0 ? 0.0f : 1.0f, dw, K);
            }
          if (dx == NULL)
            continue;
          if (direct)
            {
              /* dX (Cg, band) (+)= W^T (Cg, OCg) x dY (OCg, band) */
              cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, Cg, bc, OCg,
                           1.0f, w, K, dy + at, (int) P,
                           assign_dinput ? 0.0f : 1.0f, dx + at, (int) P);
              continue;
            }
          /* col (K, bc) = W^T (K, OCg) x dY (OCg, bc) */
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, bc, OCg,
                       1.0f, w, K, dy + at, (int) P, 0.0f, col, bc);
          col2im_ld (dx, col, bc, g, oh0, oh1);
        }
    }
}

/* Images n0 .. n0+nb, every group: dweight_acc (OC, K) gets dY x col^T
 * (overwritten when fresh, else accumulated), dinput gets col2im (W^T x
 * dY). */
static void
backward_chunk (float *dinput,
                gboolean assign_dinput,
                float *dweight_acc,
                gboolean fresh,
                const float *dout,
                const float *in,
                const float *weight,
                const GraftConvGeometry *g,
                int n0,
                int nb,
                float *col,
                float *pack)
{
  int Cg = g->C / g->group, OCg = g->OC / g->group;
  int K = Cg * g->KH * g->KW;
  size_t P = (size_t) g->OH * g->OW, HW = (size_t) g->H * g->W;
  int cols = nb * (int) P;
  gboolean direct = is_pointwise (g) && nb == 1; /* the input is col */

  if (nb == 1)
    {
      backward_image_banded (dinput, assign_dinput, dweight_acc, fresh, dout,
                             in, weight, g, n0, col);
      return;
    }
  for (int grp = 0; grp < g->group; grp++)
    {
      const float *w = weight + (size_t) grp * OCg * K;
      /* dY of the group: (OCg, cols) */
      const float *dy = dout + ((size_t) n0 * g->OC + (size_t) grp * OCg) * P;
      if (nb > 1)
        {
          for (int j = 0; j < OCg; j++)
            for (int i = 0; i < nb; i++)
              memcpy (pack + (size_t) j * cols + i * P,
                      dout + ((size_t) (n0 + i) * g->OC + grp * OCg + j) * P,
                      sizeof (float) * P);
          dy = pack;
        }

      if (dweight_acc)
        {
          const float *x = in + ((size_t) n0 * g->C + (size_t) grp * Cg) * HW;
          if (!direct)
            {
              for (int i = 0; i < nb; i++)
                im2col_ld (col + i * P, cols,
                           in + ((size_t) (n0 + i) * g->C + (size_t) grp * Cg) *
                                    HW,
                           g, 0, g->OH);
              x = col;
            }
          /* dW (OCg, K) += dY (OCg, cols) x col^T (cols, K) */
          cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, OCg, K, cols,
                       1.0f, dy, cols, x, cols, fresh ? 0.0f : 1.0f,
                       dweight_acc + (size_t) grp * OCg * K, K);
        }

      if (dinput)
        {
          float *dx = dinput + ((size_t) n0 * g->C + (size_t) grp * Cg) * HW;
          if (direct)
            {
              /* dX (Cg, P) += W^T (Cg, OCg) x dY (OCg, P) */
              cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, Cg, (int) P,
                           OCg, 1.0f, w, K, dy, (int) P, 1.0f, dx, (int) P);
              continue;
            }
          /* col (K, cols) = W^T (K, OCg) x dY (OCg, cols) */
          cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, K, cols, OCg,
                       1.0f, w, K, dy, cols, 0.0f, col, cols);
          for (int i = 0; i < nb; i++)
            {
              float *dxi =
                  dinput + ((size_t) (n0 + i) * g->C + (size_t) grp * Cg) * HW;
              if (assign_dinput)
                memset (dxi, 0, sizeof (float) * Cg * HW);
              col2im_ld (dxi, col + i * P, cols, g, 0, g->OH);
            }
        }
    }
}

static void
conv_gemm_backward (float *dinput,
                    gboolean assign_dinput,
                    float *dweight,
                    const float *dout,
                    const float *in,
                    const float *weight,
                    const GraftConvGeometry *g,
                    float *scratch)
{
  GemmPlan pl;
  gemm_plan (&pl, g, TRUE);
  int T = pl.threads;
  float *partials = scratch + T * pl.per_thread; /* threads 1 .. T-1 */
  size_t nw = pl.dweight;
  if (T > 1)
    blas_enter_batch_parallel ();
  else
    blas_leave_batch_parallel ();

#pragma omp parallel num_threads(T) if (T > 1)
  {
    int t = omp_get_thread_num ();
    float *mine = scratch + t * pl.per_thread;
    int n_begin = (int) ((int64_t) g->N * t / T);
    int n_end = (int) ((int64_t) g->N * (t + 1) / T);
    /* Thread 0 accumulates into dweight itself, the others into their own
     * partial sum (every thread has an image: N >= T). */
    float *dw = dweight;
    gboolean fresh = FALSE;
    if (dweight && t > 0)
      {
        dw = partials + (t - 1) * nw;
        fresh = TRUE;
      }
    for (int n0 = n_begin; n0 < n_end; n0 += pl.nb)
      {
        backward_chunk (dinput, assign_dinput, dw, fresh, dout, in, weight, g,
                        n0, MIN (pl.nb, n_end - n0), mine, mine + pl.col);
        fresh = FALSE;
      }
    if (dweight && T > 1)
      {
#pragma omp barrier
#pragma omp for schedule(static)
        for (size_t i = 0; i < nw; i++)
          {
            float sum = 0.0f;
            for (int u = 0; u < T - 1; u++)
              sum += partials[u * nw + i];
            dweight[i] += sum;
          }
      }
  }
}

/* ---- depthwise ---- */

/* The 3x3 dweight kernels keep 9 x LANES partial sums across the whole
 * plane (vector registers) and reduce them once at the end, in a fixed
 * order. */
#define LANES 8

/* dw (3x3) += the correlation of dy (OH, OW) with the padded plane p (row
 * stride ps), stride 1: dw[kh][kw] = sum dy[oh][ow] p[oh+kh][ow+kw]. */
GRAFT_VECTOR_CLONES
static void
depthwise_dweight_3x3_s1 (float *restrict dw,
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
 * depthwise_3x3_s2). */
GRAFT_VECTOR_CLONES
static void
depthwise_dweight_3x3_s2 (float *restrict dw,
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
depthwise_dweight_generic (float *restrict dw,
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
depthwise_dinput_3x3_s1 (float *restrict dx,
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

/* The even / odd row buffers of depthwise_dinput_3x3_s2: OW + 1 entries,
 * and as far as the input columns read (W / 2 + pad_left / 2 + 2). */
static int
depthwise_parity_floats (const GraftConvGeometry *g)
{
  return MAX (g->OW + 1, g->W / 2 + g->pad_left / 2 + 2);
}

/* Stride 2, one input row at a time: padded row r = ih + pad_top gets dy
 * row (r - kh) / 2 for each kh of matching parity; its even padded columns
 * 2p gather dy[p] (kw 0) and dy[p-1] (kw 2), its odd ones 2p+1 dy[p] (kw
 * 1). q is dy with one zero column before and after each row (stride
 * OW + 2); even and odd hold depthwise_parity_floats (g) floats each, zero
 * past OW + 1 and OW. */
GRAFT_VECTOR_CLONES
static void
depthwise_dinput_3x3_s2 (float *restrict dx,
                         const float *restrict q,
                         const float *restrict w,
                         float *restrict even,
                         float *restrict odd,
                         const GraftConvGeometry *g)
{
  int OW = g->OW, qs = OW + 2;

  int len = depthwise_parity_floats (g);
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
depthwise_dinput_generic (float *restrict dx,
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

/* Scratch floats one thread of depthwise_backward uses. */
static size_t
depthwise_backward_thread_floats (const GraftConvGeometry *g)
{
  size_t plane = (size_t) padded_rows (g) * padded_cols (g);
  size_t work;
  switch (depthwise_kind (g))
    {
    case DEPTHWISE_3X3_S1:
      work = (size_t) (g->OH + 4) * (g->OW + 4);
      break;
    case DEPTHWISE_3X3_S2:
      work = (size_t) g->OH * (g->OW + 2) + 2 * depthwise_parity_floats (g);
      break;
    case DEPTHWISE_GENERIC:
    default:
      work = plane;
      break;
    }
  return plane + work;
}

static void
depthwise_backward (float *dinput,
                    gboolean assign_dinput,
                    float *dweight,
                    const float *dout,
                    const float *in,
                    const float *weight,
                    const GraftConvGeometry *g,
                    float *scratch)
{
  int M = g->OC / g->C, KK = g->KH * g->KW;
  int PH = padded_rows (g), PW = padded_cols (g);
  size_t HW = (size_t) g->H * g->W, P = (size_t) g->OH * g->OW;
  gboolean direct = depthwise_reads_input (g);
  DepthwiseKind kind = depthwise_kind (g);
  size_t per_thread = depthwise_backward_thread_floats (g);
  int threads = omp_get_max_threads ();

  /* A thread owns whole channels: dweight sums its images in order.
   * Channels go to whichever thread is free (see conv_gemm_forward); a
   * channel's sums do not depend on which. */
#pragma omp parallel for schedule(dynamic, 2) num_threads(threads)
  for (int c = 0; c < g->C; c++)
    {
      float *mine = scratch + (size_t) omp_get_thread_num () * per_thread;
      float *xp = mine, *work = mine + (size_t) PH * PW;
      for (int n = 0; n < g->N; n++)
        {
          const float *x = in + ((size_t) n * g->C + c) * HW;
          float *dx = dinput ? dinput + ((size_t) n * g->C + c) * HW : NULL;
          const float *p = x;
          /* Zeroed here, where the plane is about to be written anyway,
           * not in a pass of its own over the whole tensor. */
          if (dx && assign_dinput)
            memset (dx, 0, sizeof (float) * HW);
          size_t ps = g->W;
          if (dweight && !direct)
            {
              if (kind == DEPTHWISE_3X3_S2)
                pad_plane_split (xp, x, g, PH, PW);
              else
                pad_plane (xp, x, g, PH, PW);
              p = xp;
              ps = PW;
            }
          for (int m = 0; m < M; m++)
            {
              int oc = c * M + m;
              const float *dy = dout + ((size_t) n * g->OC + oc) * P;
              const float *w = weight + (size_t) oc * KK;
              float *dw = dweight ? dweight + (size_t) oc * KK : NULL;
              switch (kind)
                {
                case DEPTHWISE_3X3_S1:
                  if (dw)
                    depthwise_dweight_3x3_s1 (dw, p, ps, dy, g->OH, g->OW);
                  if (dx)
                    {
                      size_t qs = g->OW + 4;
                      pad_dout_plane (work, dy, g->OH, g->OW, 2);
                      depthwise_dinput_3x3_s1 (
                          dx, work + (size_t) g->pad_top * qs + g->pad_left, qs,
                          w, g->H, g->W);
                    }
                  break;
                case DEPTHWISE_3X3_S2:
                  if (dw)
                    depthwise_dweight_3x3_s2 (dw, p, ps, dy, g->OH, g->OW);
                  if (dx)
                    {
                      float *q = work;
                      float *even = q + (size_t) g->OH * (g->OW + 2);
                      float *odd = even + depthwise_parity_floats (g);
                      for (int oh = 0; oh < g->OH; oh++)
                        {
                          float *d = q + (size_t) oh * (g->OW + 2);
                          d[0] = 0.0f;
                          memcpy (d + 1, dy + (size_t) oh * g->OW,
                                  sizeof (float) * g->OW);
                          d[g->OW + 1] = 0.0f;
                        }
                      depthwise_dinput_3x3_s2 (dx, q, w, even, odd, g);
                    }
                  break;
                case DEPTHWISE_GENERIC:
                default:
                  if (dw)
                    depthwise_dweight_generic (dw, p, ps, dy, g);
                  if (dx)
                    depthwise_dinput_generic (dx, work, dy, w, g, PH, PW);
                  break;
                }
            }
        }
    }
}

/* ---- dispatch ---- */

static gboolean
backward_is_empty (const GraftConvGeometry *g)
{
  return g->N == 0 || g->OH <= 0 || g->OW <= 0 || g->OC == 0 || g->C == 0;
}

size_t
graft_conv2d_backward_scratch_floats (const GraftConvGeometry *g)
{
  if (graft_winograd_applies (g))
    return graft_winograd_backward_scratch_floats (g);
  if (backward_is_empty (g))
    return 0;
  if (is_depthwise (g))
    return (size_t) omp_get_max_threads () *
           depthwise_backward_thread_floats (g);
  GemmPlan pl;
  gemm_plan (&pl, g, TRUE);
  return gemm_plan_floats (&pl);
}

static void
conv2d_backward (float *dinput,
                 gboolean assign_dinput,
                 float *dweight,
                 float *dbias,
                 const float *dout,
                 const float *in,
                 const float *weight,
                 const GraftConvGeometry *g,
                 float *scratch)
{
  if (dinput && assign_dinput &&
      (graft_winograd_applies (g) || backward_is_empty (g)))
    {
      /* Paths that only accumulate into dX (or never reach it). */
      memset (dinput, 0, sizeof (float) * g->N * g->C * g->H * g->W);
      assign_dinput = FALSE;
    }
  if (graft_winograd_applies (g))
    {
      graft_winograd_backward (dinput, dweight, dbias, dout, in, weight, g,
                               scratch);
      return;
    }
  if (g->N == 0 || g->OH <= 0 || g->OW <= 0 || g->OC == 0)
    return;
  if (dbias)
    conv_dbias (dbias, dout, g);
  if (g->C == 0 || (dinput == NULL && dweight == NULL))
    return;
  if (is_depthwise (g))
    depthwise_backward (dinput, assign_dinput, dweight, dout, in, weight, g,
                        scratch);
  else
    conv_gemm_backward (dinput, assign_dinput, dweight, dout, in, weight, g,
                        scratch);
}

void
graft_conv2d_backward (float *dinput,
                       float *dweight,
                       float *dbias,
                       const float *dout,
                       const float *in,
                       const float *weight,
                       const GraftConvGeometry *g,
                       float *scratch)
{
  conv2d_backward (dinput, FALSE, dweight, dbias, dout, in, weight, g, scratch);
}

void
graft_conv2d_backward_assign (float *dinput,
                              float *dweight,
                              float *dbias,
                              const float *dout,
                              const float *in,
                              const float *weight,
                              const GraftConvGeometry *g,
                              float *scratch)
{
  conv2d_backward (dinput, TRUE, dweight, dbias, dout, in, weight, g, scratch);
}
