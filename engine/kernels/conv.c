/* conv.c: 2-D convolution forward, a reference kernel and a fast one.
 *
 * Shapes: in (N, C, H, W), weight (OC, C/group, KH, KW), bias (OC),
 * out (N, OC, OH, OW). Cg = C/group, OCg = OC/group.
 */
#include "kernels/conv.h"
#include "kernels/conv-depthwise.h"
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
  if (graft_depthwise_applies (g))
    return graft_depthwise_forward_scratch_floats (g);
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
  if (graft_depthwise_applies (g))
    {
      graft_depthwise_forward (out, in, weight, bias, g, scratch);
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
  if (graft_depthwise_applies (g))
    return graft_depthwise_backward_scratch_floats (g);
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
  if (graft_depthwise_applies (g))
    graft_depthwise_backward (dinput, assign_dinput, dweight, dout, in, weight,
                              g, scratch);
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
