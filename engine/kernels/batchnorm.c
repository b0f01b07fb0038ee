/* batchnorm.c: batch normalization, forward and backward.
 *
 * Shapes: in, out (N, C, S); scale, bias, mean, var (C).
 */
#include "kernels/batchnorm.h"

#include <math.h>

/* dy where the gradient of a clamped output y passes, else 0 (see
 * GraftClamp). hi_eq is hi when it passes at y == hi, else NaN (equal to
 * nothing). Comparisons and bitwise ops on values loaded unconditionally,
 * so that the loops stay vectorized. */
static inline float
masked_grad (float dy, float y, float lo, float hi, float hi_eq)
{
  return ((y > lo) & ((y < hi) | (y == hi_eq))) ? dy : 0.0f;
}

/* out[n, c, :] = in[n, c, :] * a[c] + b[c], the affine form both modes
 * reduce to, then clamped when clamp is not NULL. */
static void
apply_affine (float *out,
              const float *in,
              const float *a,
              const float *b,
              const GraftClamp *clamp,
              int N,
              int C,
              size_t S)
{
  int64_t planes = (int64_t) N * C;

  /* Dynamic schedules here and below: every plane or channel is computed
   * alone, so results do not depend on the schedule, and a thread whose
   * core is busy with another program does not hold the other up. */
#pragma omp parallel for schedule(dynamic, 16)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      int c = (int) (nc % C);
      const float *x = in + (size_t) nc * S;
      float *y = out + (size_t) nc * S;
      float ac = a[c], bc = b[c];
      if (clamp)
        {
          /* The comparisons of graft_clip_forward: NaN passes through. */
          float lo = clamp->lo, hi = clamp->hi;
#pragma omp simd
          for (size_t i = 0; i < S; i++)
            {
              float v = x[i] * ac + bc;
              v = v < lo ? lo : v;
              y[i] = v > hi ? hi : v;
            }
        }
      else
        {
#pragma omp simd
          for (size_t i = 0; i < S; i++)
            y[i] = x[i] * ac + bc;
        }
    }
}

static void
normalize_with (float *out,
                const float *in,
                const float *scale,
                const float *bias,
                const float *mean,
                const float *var,
                float epsilon,
                const GraftClamp *clamp,
                int N,
                int C,
                size_t S)
{
  float *a = g_new (float, C > 0 ? C : 1);
  float *b = g_new (float, C > 0 ? C : 1);

  for (int c = 0; c < C; c++)
    {
      double inv_std = 1.0 / sqrt ((double) var[c] + epsilon);
      a[c] = (float) (scale[c] * inv_std);
      b[c] = (float) (bias[c] - mean[c] * scale[c] * inv_std);
    }
  apply_affine (out, in, a, b, clamp, N, C, S);
  g_free (a);
  g_free (b);
}

void
graft_batchnorm_forward_inference (float *out,
                                   const float *in,
                                   const float *scale,
                                   const float *bias,
                                   const float *mean,
                                   const float *var,
                                   float epsilon,
                                   int N,
                                   int C,
                                   size_t S)
{
  normalize_with (out, in, scale, bias, mean, var, epsilon, NULL, N, C, S);
}

void
graft_batchnorm_forward_inference_clamp (float *out,
                                         const float *in,
                                         const float *scale,
                                         const float *bias,
                                         const float *mean,
                                         const float *var,
                                         float epsilon,
                                         const GraftClamp *clamp,
                                         int N,
                                         int C,
                                         size_t S)
{
  normalize_with (out, in, scale, bias, mean, var, epsilon, clamp, N, C, S);
}

/* Per channel, planes summed in float (vectorized) and the planes in
 * double, images in order: the same numbers on every run. */
/* The mean of channel c's plane in image 0: every later pass sums x - shift
 * rather than x, so a channel whose values sit far from zero keeps its
 * variance (sum of squares minus squared sum) from cancelling away. */
static float
channel_shift (const float *in, int c, int C, size_t S)
{
  const float *x = in + (size_t) c * S;
  double sum = 0.0;
  for (size_t i = 0; i < S; i++)
    sum += x[i];
  return S > 0 ? (float) (sum / S) : 0.0f;
}

/* One pass over channel c of in (and of dout when not NULL): the batch
 * mean and biased variance, and sum dout and sum dout * (x - mean). Per
 * plane sums in float (vectorized), across planes in double, images in
 * order. */
static void
channel_moments (double *mean,
                 double *var,
                 double *sum_dy,
                 double *sum_dy_xc,
                 const float *dout,
                 const float *yout,
                 const GraftClamp *clamp,
                 const float *in,
                 int c,
                 int N,
                 int C,
                 size_t S)
{
  double count = (double) N * S;
  float shift = channel_shift (in, c, C, S);
  double s1 = 0.0, s2 = 0.0, d1 = 0.0, d2 = 0.0;

  for (int n = 0; n < N; n++)
    {
      const float *x = in + ((size_t) n * C + c) * S;
      float p1 = 0.0f, p2 = 0.0f;
      if (dout && yout)
        {
          /* dout masked by the clamped output (see GraftClamp). */
          const float *dy = dout + ((size_t) n * C + c) * S;
          const float *y = yout + ((size_t) n * C + c) * S;
          float lo = clamp->lo, hi = clamp->hi;
          float hi_eq = clamp->upper_inclusive ? hi : NAN;
          float q1 = 0.0f, q2 = 0.0f;
#pragma omp simd reduction(+ : p1, p2, q1, q2)
          for (size_t i = 0; i < S; i++)
            {
              float xs = x[i] - shift;
              float d = masked_grad (dy[i], y[i], lo, hi, hi_eq);
              p1 += xs;
              p2 += xs * xs;
              q1 += d;
              q2 += d * xs;
            }
          d1 += q1;
          d2 += q2;
        }
      else if (dout)
        {
          const float *dy = dout + ((size_t) n * C + c) * S;
          float q1 = 0.0f, q2 = 0.0f;
#pragma omp simd reduction(+ : p1, p2, q1, q2)
          for (size_t i = 0; i < S; i++)
            {
              float xs = x[i] - shift;
              p1 += xs;
              p2 += xs * xs;
              q1 += dy[i];
              q2 += dy[i] * xs;
            }
          d1 += q1;
          d2 += q2;
        }
      else
        {
#pragma omp simd reduction(+ : p1, p2)
          for (size_t i = 0; i < S; i++)
            {
              float xs = x[i] - shift;
              p1 += xs;
              p2 += xs * xs;
            }
        }
      s1 += p1;
      s2 += p2;
    }
  double m = count > 0 ? s1 / count : 0.0; /* mean - shift */
  /* The statistics as the float the forward pass normalizes with. */
  *mean = (float) (shift + m);
  /* Rounding may leave a hair below zero; a NaN (non-finite input) must
   * stay NaN for the trainer to see it, which MAX would not do. */
  double v = count > 0 ? s2 / count - m * m : 0.0;
  *var = (float) (v < 0.0 ? 0.0 : v);
  if (sum_dy)
    {
      *sum_dy = d1;
      /* sum dy (x - mean) about the float mean, as the reference takes it */
      *sum_dy_xc = d2 - (*mean - shift) * d1;
    }
}

void
graft_batchnorm_batch_stats (float *batch_mean,
                             float *batch_var,
                             const float *in,
                             int N,
                             int C,
                             size_t S)
{
  /* One pass (see channel_moments) instead of a mean pass and a squared
   * deviation pass: the activations are far larger than the caches. */
#pragma omp parallel for schedule(dynamic, 1)
  for (int c = 0; c < C; c++)
    {
      double mean, var;
      channel_moments (&mean, &var, NULL, NULL, NULL, NULL, NULL, in, c, N, C,
                       S);
      batch_mean[c] = (float) mean;
      batch_var[c] = (float) var;
    }
}

void
graft_batchnorm_forward_training (float *out,
                                  float *batch_mean,
                                  float *batch_var,
                                  const float *in,
                                  const float *scale,
                                  const float *bias,
                                  float epsilon,
                                  int N,
                                  int C,
                                  size_t S)
{
  graft_batchnorm_batch_stats (batch_mean, batch_var, in, N, C, S);
  normalize_with (out, in, scale, bias, batch_mean, batch_var, epsilon, NULL, N,
                  C, S);
}

void
graft_batchnorm_forward_training_clamp (float *out,
                                        float *batch_mean,
                                        float *batch_var,
                                        const float *in,
                                        const float *scale,
                                        const float *bias,
                                        float epsilon,
                                        const GraftClamp *clamp,
                                        int N,
                                        int C,
                                        size_t S)
{
  graft_batchnorm_batch_stats (batch_mean, batch_var, in, N, C, S);
  normalize_with (out, in, scale, bias, batch_mean, batch_var, epsilon, clamp,
                  N, C, S);
}

void
graft_batchnorm_update_running (
    float *out, const float *running, const float *batch, float momentum, int C)
{
  for (int c = 0; c < C; c++)
    out[c] = running[c] * momentum + batch[c] * (1.0f - momentum);
}

/* ---- backward ---- */

/* Per channel c: sum dout and sum dout * (in - mean[c]), planes in float,
 * images in double. */
static void
channel_sums (double *sum_dy,
              double *sum_dy_xc,
              const float *dout,
              const float *yout,
              const GraftClamp *clamp,
              const float *in,
              float mean,
              int c,
              int N,
              int C,
              size_t S)
{
  double s1 = 0.0, s2 = 0.0;
  for (int n = 0; n < N; n++)
    {
      const float *x = in + ((size_t) n * C + c) * S;
      const float *dy = dout + ((size_t) n * C + c) * S;
      float p1 = 0.0f, p2 = 0.0f;
      if (yout)
        {
          /* dout masked by the clamped output (see GraftClamp). */
          const float *y = yout + ((size_t) n * C + c) * S;
          float lo = clamp->lo, hi = clamp->hi;
          float hi_eq = clamp->upper_inclusive ? hi : NAN;
#pragma omp simd reduction(+ : p1, p2)
          for (size_t i = 0; i < S; i++)
            {
              float d = masked_grad (dy[i], y[i], lo, hi, hi_eq);
              p1 += d;
              p2 += d * (x[i] - mean);
            }
        }
      else
        {
#pragma omp simd reduction(+ : p1, p2)
          for (size_t i = 0; i < S; i++)
            {
              p1 += dy[i];
              p2 += dy[i] * (x[i] - mean);
            }
        }
      s1 += p1;
      s2 += p2;
    }
  *sum_dy = s1;
  *sum_dy_xc = s2;
}

/* dx = k dy + kx x + k0, the training-mode gradient written as an affine
 * map of dy and x (see graft_batchnorm_backward_training). */
static void
backward_training_channel (float *dinput,
                           float *dscale,
                           float *dbias,
                           const float *dout,
                           const float *yout,
                           const GraftClamp *clamp,
                           const float *in,
                           const float *scale,
                           double mean,
                           double var,
                           double sum_dy,
                           double sum_dy_xc,
                           float epsilon,
                           int c,
                           int N,
                           int C,
                           size_t S,
                           gboolean accumulate)
{
  double count = (double) N * S;
  double inv_std = 1.0 / sqrt (var + epsilon);
  if (dscale)
    dscale[c] += (float) (sum_dy_xc * inv_std);
  if (dbias)
    dbias[c] += (float) sum_dy;
  if (!dinput)
    return;
  double k = scale[c] * inv_std;
  double kx = -k * inv_std * inv_std * (sum_dy_xc / count);
  double k0 = -k * (sum_dy / count) - kx * mean;
  float kf = (float) k, kxf = (float) kx, k0f = (float) k0;
  for (int n = 0; n < N; n++)
    {
      const float *x = in + ((size_t) n * C + c) * S;
      const float *dy = dout + ((size_t) n * C + c) * S;
      float *dx = dinput + ((size_t) n * C + c) * S;
      if (yout)
        {
          /* dout masked by the clamped output (see GraftClamp). */
          const float *y = yout + ((size_t) n * C + c) * S;
          float lo = clamp->lo, hi = clamp->hi;
          float hi_eq = clamp->upper_inclusive ? hi : NAN;
          if (accumulate)
            {
#pragma omp simd
              for (size_t i = 0; i < S; i++)
                {
                  float d = masked_grad (dy[i], y[i], lo, hi, hi_eq);
                  dx[i] += kf * d + kxf * x[i] + k0f;
                }
            }
          else
            {
#pragma omp simd
              for (size_t i = 0; i < S; i++)
                {
                  float d = masked_grad (dy[i], y[i], lo, hi, hi_eq);
                  dx[i] = kf * d + kxf * x[i] + k0f;
                }
            }
        }
      /* Assigning skips reading dx: one stream less of three. */
      else if (accumulate)
        {
#pragma omp simd
          for (size_t i = 0; i < S; i++)
            dx[i] += kf * dy[i] + kxf * x[i] + k0f;
        }
      else
        {
#pragma omp simd
          for (size_t i = 0; i < S; i++)
            dx[i] = kf * dy[i] + kxf * x[i] + k0f;
        }
    }
}

void
graft_batchnorm_backward_training (float *dinput,
                                   float *dscale,
                                   float *dbias,
                                   const float *dout,
                                   const float *in,
                                   const float *scale,
                                   const float *batch_mean,
                                   const float *batch_var,
                                   float epsilon,
                                   int N,
                                   int C,
                                   size_t S)
{
  if ((double) N * S == 0)
    return;

#pragma omp parallel for schedule(dynamic, 1)
  for (int c = 0; c < C; c++)
    {
      double sum_dy, sum_dy_xc;
      channel_sums (&sum_dy, &sum_dy_xc, dout, NULL, NULL, in, batch_mean[c], c,
                    N, C, S);
      backward_training_channel (dinput, dscale, dbias, dout, NULL, NULL, in,
                                 scale, batch_mean[c], batch_var[c], sum_dy,
                                 sum_dy_xc, epsilon, c, N, C, S, TRUE);
    }
}

static void
backward_training_batch (float *dinput,
                         float *dscale,
                         float *dbias,
                         const float *dout,
                         const float *yout,
                         const GraftClamp *clamp,
                         const float *in,
                         const float *scale,
                         float epsilon,
                         int N,
                         int C,
                         size_t S,
                         gboolean accumulate)
{
  if ((double) N * S == 0)
    return; /* dinput is empty too */

#pragma omp parallel for schedule(dynamic, 1)
  for (int c = 0; c < C; c++)
    {
      double mean, var, sum_dy, sum_dy_xc;
      channel_moments (&mean, &var, &sum_dy, &sum_dy_xc, dout, yout, clamp, in,
                       c, N, C, S);
      backward_training_channel (dinput, dscale, dbias, dout, yout, clamp, in,
                                 scale, mean, var, sum_dy, sum_dy_xc, epsilon,
                                 c, N, C, S, accumulate);
    }
}

void
graft_batchnorm_backward_training_batch (float *dinput,
                                         float *dscale,
                                         float *dbias,
                                         const float *dout,
                                         const float *in,
                                         const float *scale,
                                         float epsilon,
                                         int N,
                                         int C,
                                         size_t S)
{
  backward_training_batch (dinput, dscale, dbias, dout, NULL, NULL, in, scale,
                           epsilon, N, C, S, TRUE);
}

void
graft_batchnorm_backward_training_batch_assign (float *dinput,
                                                float *dscale,
                                                float *dbias,
                                                const float *dout,
                                                const float *in,
                                                const float *scale,
                                                float epsilon,
                                                int N,
                                                int C,
                                                size_t S)
{
  backward_training_batch (dinput, dscale, dbias, dout, NULL, NULL, in, scale,
                           epsilon, N, C, S, FALSE);
}

void
graft_batchnorm_backward_training_masked (float *dinput,
                                          float *dscale,
                                          float *dbias,
                                          const float *dout,
                                          const float *out,
                                          const float *in,
                                          const float *scale,
                                          float epsilon,
                                          const GraftClamp *clamp,
                                          int N,
                                          int C,
                                          size_t S,
                                          gboolean accumulate)
{
  backward_training_batch (dinput, dscale, dbias, dout, out, clamp, in, scale,
                           epsilon, N, C, S, accumulate);
}

static void
backward_inference (float *dinput,
                    float *dscale,
                    float *dbias,
                    float *dmean,
                    float *dvar,
                    const float *dout,
                    const float *yout,
                    const GraftClamp *clamp,
                    const float *in,
                    const float *scale,
                    const float *mean,
                    const float *var,
                    float epsilon,
                    int N,
                    int C,
                    size_t S,
                    gboolean accumulate)
{
  gboolean sums = dscale || dbias || dmean || dvar;

#pragma omp parallel for schedule(static)
  for (int c = 0; c < C; c++)
    {
      double inv_std = 1.0 / sqrt ((double) var[c] + epsilon);
      double k = scale[c] * inv_std;
      if (sums)
        {
          double sum_dy, sum_dy_xc;
          channel_sums (&sum_dy, &sum_dy_xc, dout, yout, clamp, in, mean[c], c,
                        N, C, S);
          if (dscale)
            dscale[c] += (float) (sum_dy_xc * inv_std);
          if (dbias)
            dbias[c] += (float) sum_dy;
          if (dmean)
            dmean[c] += (float) (-sum_dy * k);
          if (dvar)
            dvar[c] += (float) (-0.5 * sum_dy_xc * k * inv_std * inv_std);
        }
      if (!dinput)
        continue;
      float kf = (float) k;
      for (int n = 0; n < N; n++)
        {
          const float *dy = dout + ((size_t) n * C + c) * S;
          float *dx = dinput + ((size_t) n * C + c) * S;
          if (yout)
            {
              /* dout masked by the clamped output (see GraftClamp). */
              const float *y = yout + ((size_t) n * C + c) * S;
              float lo = clamp->lo, hi = clamp->hi;
              float hi_eq = clamp->upper_inclusive ? hi : NAN;
              if (accumulate)
                {
#pragma omp simd
                  for (size_t i = 0; i < S; i++)
                    dx[i] += kf * (masked_grad (dy[i], y[i], lo, hi, hi_eq));
                }
              else
                {
#pragma omp simd
                  for (size_t i = 0; i < S; i++)
                    dx[i] = kf * (masked_grad (dy[i], y[i], lo, hi, hi_eq));
                }
            }
          else if (accumulate)
            {
#pragma omp simd
              for (size_t i = 0; i < S; i++)
                dx[i] += kf * dy[i];
            }
          else
            {
#pragma omp simd
              for (size_t i = 0; i < S; i++)
                dx[i] = kf * dy[i];
            }
        }
    }
}

void
graft_batchnorm_backward_inference (float *dinput,
                                    float *dscale,
                                    float *dbias,
                                    float *dmean,
                                    float *dvar,
                                    const float *dout,
                                    const float *in,
                                    const float *scale,
                                    const float *mean,
                                    const float *var,
                                    float epsilon,
                                    int N,
                                    int C,
                                    size_t S)
{
  backward_inference (dinput, dscale, dbias, dmean, dvar, dout, NULL, NULL, in,
                      scale, mean, var, epsilon, N, C, S, TRUE);
}

void
graft_batchnorm_backward_inference_assign (float *dinput,
                                           float *dscale,
                                           float *dbias,
                                           float *dmean,
                                           float *dvar,
                                           const float *dout,
                                           const float *in,
                                           const float *scale,
                                           const float *mean,
                                           const float *var,
                                           float epsilon,
                                           int N,
                                           int C,
                                           size_t S)
{
  backward_inference (dinput, dscale, dbias, dmean, dvar, dout, NULL, NULL, in,
                      scale, mean, var, epsilon, N, C, S, FALSE);
}

void
graft_batchnorm_backward_inference_masked (float *dinput,
                                           float *dscale,
                                           float *dbias,
                                           float *dmean,
                                           float *dvar,
                                           const float *dout,
                                           const float *out,
                                           const float *in,
                                           const float *scale,
                                           const float *mean,
                                           const float *var,
                                           float epsilon,
                                           const GraftClamp *clamp,
                                           int N,
                                           int C,
                                           size_t S,
                                           gboolean accumulate)
{
  backward_inference (dinput, dscale, dbias, dmean, dvar, dout, out, clamp, in,
                      scale, mean, var, epsilon, N, C, S, accumulate);
}

/* ---- reference backward: the textbook formulas, in double ---- */

void
graft_batchnorm_backward_training_reference (float *dinput,
                                             float *dscale,
                                             float *dbias,
                                             const float *dout,
                                             const float *in,
                                             const float *scale,
                                             const float *batch_mean,
                                             const float *batch_var,
                                             float epsilon,
                                             int N,
                                             int C,
                                             size_t S)
{
  double count = (double) N * S;
  if (count == 0)
    return;
  for (int c = 0; c < C; c++)
    {
      double inv_std = 1.0 / sqrt ((double) batch_var[c] + epsilon);
      double mean_dxhat = 0.0, mean_dxhat_xhat = 0.0, sum_dy = 0.0;
      double sum_dy_xhat = 0.0;
      for (int n = 0; n < N; n++)
        for (size_t i = 0; i < S; i++)
          {
            size_t at = ((size_t) n * C + c) * S + i;
            double xhat = (in[at] - (double) batch_mean[c]) * inv_std;
            double dxhat = (double) dout[at] * scale[c];
            mean_dxhat += dxhat / count;
            mean_dxhat_xhat += dxhat * xhat / count;
            sum_dy += dout[at];
            sum_dy_xhat += dout[at] * xhat;
          }
      if (dscale)
        dscale[c] += (float) sum_dy_xhat;
      if (dbias)
        dbias[c] += (float) sum_dy;
      if (dinput)
        for (int n = 0; n < N; n++)
          for (size_t i = 0; i < S; i++)
            {
              size_t at = ((size_t) n * C + c) * S + i;
              double xhat = (in[at] - (double) batch_mean[c]) * inv_std;
              double dxhat = (double) dout[at] * scale[c];
              dinput[at] += (float) (inv_std * (dxhat - mean_dxhat -
                                                xhat * mean_dxhat_xhat));
            }
    }
}

void
graft_batchnorm_backward_inference_reference (float *dinput,
                                              float *dscale,
                                              float *dbias,
                                              float *dmean,
                                              float *dvar,
                                              const float *dout,
                                              const float *in,
                                              const float *scale,
                                              const float *mean,
                                              const float *var,
                                              float epsilon,
                                              int N,
                                              int C,
                                              size_t S)
{
  for (int c = 0; c < C; c++)
    {
      double v = (double) var[c] + epsilon, inv_std = 1.0 / sqrt (v);
      double ds = 0.0, db = 0.0, dm = 0.0, dv = 0.0;
      for (int n = 0; n < N; n++)
        for (size_t i = 0; i < S; i++)
          {
            size_t at = ((size_t) n * C + c) * S + i;
            double dy = dout[at], xc = in[at] - (double) mean[c];
            ds += dy * xc * inv_std;
            db += dy;
            dm -= dy * scale[c] * inv_std;
            /* d/dv of xc v^-1/2 = -xc v^-3/2 / 2 */
            dv += dy * scale[c] * xc * -0.5 * pow (v, -1.5);
            if (dinput)
              dinput[at] += (float) (dy * scale[c] * inv_std);
          }
      if (dscale)
        dscale[c] += (float) ds;
      if (dbias)
        dbias[c] += (float) db;
      if (dmean)
        dmean[c] += (float) dm;
      if (dvar)
        dvar[c] += (float) dv;
    }
}

/* ---- references for the fused forms: the separate steps in turn ---- */

/* The clamp alone, graft_clip_forward's comparisons. */
static void
clamp_reference (float *out, const GraftClamp *clamp, size_t n)
{
  for (size_t i = 0; i < n; i++)
    {
      float v = out[i] < clamp->lo ? clamp->lo : out[i];
      out[i] = v > clamp->hi ? clamp->hi : v;
    }
}

/* dout where the activation's gradient passes, 0 elsewhere: what the
 * activation's backward from its output writes. */
static float *
mask_reference (const float *dout,
                const float *out,
                const GraftClamp *clamp,
                size_t n)
{
  float *masked = g_new (float, MAX (n, 1));
  for (size_t i = 0; i < n; i++)
    {
      gboolean passes = out[i] > clamp->lo &&
                        (out[i] < clamp->hi ||
                         (clamp->upper_inclusive && out[i] == clamp->hi));
      masked[i] = passes ? dout[i] : 0.0f;
    }
  return masked;
}

void
graft_batchnorm_forward_training_clamp_reference (float *out,
                                                  float *batch_mean,
                                                  float *batch_var,
                                                  const float *in,
                                                  const float *scale,
                                                  const float *bias,
                                                  float epsilon,
                                                  const GraftClamp *clamp,
                                                  int N,
                                                  int C,
                                                  size_t S)
{
  graft_batchnorm_forward_training (out, batch_mean, batch_var, in, scale, bias,
                                    epsilon, N, C, S);
  clamp_reference (out, clamp, (size_t) N * C * S);
}

void
graft_batchnorm_forward_inference_clamp_reference (float *out,
                                                   const float *in,
                                                   const float *scale,
                                                   const float *bias,
                                                   const float *mean,
                                                   const float *var,
                                                   float epsilon,
                                                   const GraftClamp *clamp,
                                                   int N,
                                                   int C,
                                                   size_t S)
{
  graft_batchnorm_forward_inference (out, in, scale, bias, mean, var, epsilon,
                                     N, C, S);
  clamp_reference (out, clamp, (size_t) N * C * S);
}

void
graft_batchnorm_backward_training_masked_reference (float *dinput,
                                                    float *dscale,
                                                    float *dbias,
                                                    const float *dout,
                                                    const float *out,
                                                    const float *in,
                                                    const float *scale,
                                                    const float *batch_mean,
                                                    const float *batch_var,
                                                    float epsilon,
                                                    const GraftClamp *clamp,
                                                    int N,
                                                    int C,
                                                    size_t S)
{
  float *masked = mask_reference (dout, out, clamp, (size_t) N * C * S);
  graft_batchnorm_backward_training_reference (dinput, dscale, dbias, masked,
                                               in, scale, batch_mean, batch_var,
                                               epsilon, N, C, S);
  g_free (masked);
}

void
graft_batchnorm_backward_inference_masked_reference (float *dinput,
                                                     float *dscale,
                                                     float *dbias,
                                                     float *dmean,
                                                     float *dvar,
                                                     const float *dout,
                                                     const float *out,
                                                     const float *in,
                                                     const float *scale,
                                                     const float *mean,
                                                     const float *var,
                                                     float epsilon,
                                                     const GraftClamp *clamp,
                                                     int N,
                                                     int C,
                                                     size_t S)
{
  float *masked = mask_reference (dout, out, clamp, (size_t) N * C * S);
  graft_batchnorm_backward_inference_reference (dinput, dscale, dbias, dmean,
                                                dvar, masked, in, scale, mean,
                                                var, epsilon, N, C, S);
  g_free (masked);
}
