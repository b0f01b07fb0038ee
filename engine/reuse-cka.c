/* reuse-cka.c: linear CKA between two sets of features of the same images,
 * the Gram-form reference beside the feature-form kernels (see reuse.h). */
#include "reuse.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

/* ---- reference ---- */

/* k (n, n) = H (x x^T) H, H the centering matrix; x (n, p). */
static void
centered_gram_ref (double *k, const float *x, int n, int p)
{
  g_autofree double *row_mean = g_new0 (double, n);
  double mean = 0;

  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      {
        double dot = 0;
        for (int c = 0; c < p; c++)
          dot += (double) x[(size_t) i * p + c] * x[(size_t) j * p + c];
        k[(size_t) i * n + j] = dot;
      }
  /* (HKH)_ij = K_ij - rowmean_i - colmean_j + mean; K is symmetric. */
  for (int i = 0; i < n; i++)
    {
      for (int j = 0; j < n; j++)
        row_mean[i] += k[(size_t) i * n + j];
      row_mean[i] /= n;
      mean += row_mean[i];
    }
  mean /= n;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      k[(size_t) i * n + j] += mean - row_mean[i] - row_mean[j];
}

double
graft_cka_reference (const float *x, const float *y, int n, int p, int q)
{
  g_autofree double *k = NULL, *l = NULL;
  double kl = 0, kk = 0, ll = 0;

  if (n < 2)
    return NAN;
  k = g_new (double, (size_t) n *n);
  l = g_new (double, (size_t) n *n);
  centered_gram_ref (k, x, n, p);
  centered_gram_ref (l, y, n, q);
  /* HSIC(K, L) = tr(K H L H) / (n-1)^2 = <HKH, HLH> / (n-1)^2; the
   * normalization cancels in the ratio. */
  for (size_t i = 0; i < (size_t) n * n; i++)
    {
      kl += k[i] * l[i];
      kk += k[i] * k[i];
      ll += l[i] * l[i];
    }
  if (kk <= 0 || ll <= 0)
    return NAN;
  return kl / (sqrt (kk) * sqrt (ll));
}

/* ---- feature form ---- */

static double
frobenius_sq_float (const float *a, size_t count)
{
  double s = 0;
  for (size_t i = 0; i < count; i++)
    s += (double) a[i] * a[i];
  return s;
}

/* xc (n, p) = x with each column's mean subtracted (means in double). */
static void
center_columns (float *xc, const float *x, int n, int p)
{
  g_autofree double *mean = g_new0 (double, p);

  for (int i = 0; i < n; i++)
    for (int c = 0; c < p; c++)
      mean[c] += x[(size_t) i * p + c];
  for (int c = 0; c < p; c++)
    mean[c] /= n;
  for (int i = 0; i < n; i++)
    for (int c = 0; c < p; c++)
      xc[(size_t) i * p + c] = (float) (x[(size_t) i * p + c] - mean[c]);
}

/* c (a_cols, b_cols) = a^T b; a (n, a_cols), b (n, b_cols). */
static void
gram_t (float *c, const float *a, const float *b, int n, int a_cols, int b_cols)
{
  cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, a_cols, b_cols, n, 1.0f,
               a, a_cols, b, b_cols, 0.0f, c, b_cols);
}

double
graft_cka (const float *x, const float *y, int n, int p, int q)
{
  g_autofree float *xc = NULL, *yc = NULL, *xx = NULL, *yy = NULL, *yx = NULL;
  double num, dx, dy;

  if (n < 2)
    return NAN;
  xc = g_new (float, (size_t) n *p);
  yc = g_new (float, (size_t) n *q);
  xx = g_new (float, (size_t) p *p);
  yy = g_new (float, (size_t) q *q);
  yx = g_new (float, (size_t) q *p);
  center_columns (xc, x, n, p);
  center_columns (yc, y, n, q);
  gram_t (xx, xc, xc, n, p, p);
  gram_t (yy, yc, yc, n, q, q);
  gram_t (yx, yc, xc, n, q, p);
  num = frobenius_sq_float (yx, (size_t) q * p);
  dx = sqrt (frobenius_sq_float (xx, (size_t) p * p));
  dy = sqrt (frobenius_sq_float (yy, (size_t) q * q));
  if (dx <= 0 || dy <= 0)
    return NAN;
  return num / (dx * dy);
}

/* ---- streaming ---- */

struct _GraftCkaAccum
{
  int p, q;
  int64_t rows;
  float *shift_x, *shift_y; /* (p), (q): the first batch's column means */
  double *sum_x, *sum_y;    /* (p), (q): column sums of the shifted rows */
  double *xx, *yy, *yx;     /* (p, p), (q, q), (q, p) */
  /* per-batch scratch, grown as needed */
  float *bx, *by, *gxx, *gyy, *gyx;
  int scratch_rows;
};

GraftCkaAccum *
graft_cka_accum_new (int p, int q)
{
  GraftCkaAccum *acc = g_new0 (GraftCkaAccum, 1);

  acc->p = p;
  acc->q = q;
  acc->shift_x = g_new0 (float, p);
  acc->shift_y = g_new0 (float, q);
  acc->sum_x = g_new0 (double, p);
  acc->sum_y = g_new0 (double, q);
  acc->xx = g_new0 (double, (size_t) p *p);
  acc->yy = g_new0 (double, (size_t) q *q);
  acc->yx = g_new0 (double, (size_t) q *p);
  acc->gxx = g_new (float, (size_t) p *p);
  acc->gyy = g_new (float, (size_t) q *q);
  acc->gyx = g_new (float, (size_t) q *p);
  return acc;
}

void
graft_cka_accum_free (GraftCkaAccum *acc)
{
  if (acc == NULL)
    return;
  g_free (acc->shift_x);
  g_free (acc->shift_y);
  g_free (acc->sum_x);
  g_free (acc->sum_y);
  g_free (acc->xx);
  g_free (acc->yy);
  g_free (acc->yx);
  g_free (acc->bx);
  g_free (acc->by);
  g_free (acc->gxx);
  g_free (acc->gyy);
  g_free (acc->gyx);
  g_free (acc);
}

static void
column_means (float *mean, const float *x, int n, int p)
{
  for (int c = 0; c < p; c++)
    {
      double s = 0;
      for (int i = 0; i < n; i++)
        s += x[(size_t) i * p + c];
      mean[c] = (float) (s / n);
    }
}

/* out (n, p) = x - shift; sum (p) += its column sums. */
static void
shift_rows (
    float *out, double *sum, const float *x, const float *shift, int n, int p)
{
  for (int i = 0; i < n; i++)
    for (int c = 0; c < p; c++)
      {
        float v = x[(size_t) i * p + c] - shift[c];
        out[(size_t) i * p + c] = v;
        sum[c] += v;
      }
}

static void
add_to (double *acc, const float *g, size_t count)
{
  for (size_t i = 0; i < count; i++)
    acc[i] += g[i];
}

void
graft_cka_accum_add (GraftCkaAccum *acc, const float *x, const float *y, int n)
{
  int p = acc->p, q = acc->q;

  if (n <= 0)
    return;
  if (acc->rows == 0)
    {
      column_means (acc->shift_x, x, n, p);
      column_means (acc->shift_y, y, n, q);
    }
  if (n > acc->scratch_rows)
    {
      acc->bx = g_renew (float, acc->bx, (size_t) n *p);
      acc->by = g_renew (float, acc->by, (size_t) n *q);
      acc->scratch_rows = n;
    }
  shift_rows (acc->bx, acc->sum_x, x, acc->shift_x, n, p);
  shift_rows (acc->by, acc->sum_y, y, acc->shift_y, n, q);
  gram_t (acc->gxx, acc->bx, acc->bx, n, p, p);
  gram_t (acc->gyy, acc->by, acc->by, n, q, q);
  gram_t (acc->gyx, acc->by, acc->bx, n, q, p);
  add_to (acc->xx, acc->gxx, (size_t) p * p);
  add_to (acc->yy, acc->gyy, (size_t) q * q);
  add_to (acc->yx, acc->gyx, (size_t) q * p);
  acc->rows += n;
}

int64_t
graft_cka_accum_rows (const GraftCkaAccum *acc)
{
  return acc->rows;
}

/* ||a^T b - sa sb^T / n||_F^2 for an accumulated (rows, cols) product. */
static double
centered_frobenius_sq (const double *prod,
                       const double *s_rows,
                       const double *s_cols,
                       int rows,
                       int cols,
                       double n)
{
  double s = 0;
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < cols; j++)
      {
        double v = prod[(size_t) i * cols + j] - s_rows[i] * s_cols[j] / n;
        s += v * v;
      }
  return s;
}

double
graft_cka_accum_value (const GraftCkaAccum *acc)
{
  double n = (double) acc->rows, num, dx, dy;

  if (acc->rows < 2)
    return NAN;
  num = centered_frobenius_sq (acc->yx, acc->sum_y, acc->sum_x, acc->q, acc->p,
                               n);
  dx = sqrt (centered_frobenius_sq (acc->xx, acc->sum_x, acc->sum_x, acc->p,
                                    acc->p, n));
  dy = sqrt (centered_frobenius_sq (acc->yy, acc->sum_y, acc->sum_y, acc->q,
                                    acc->q, n));
  if (dx <= 0 || dy <= 0)
    return NAN;
  return num / (dx * dy);
}
