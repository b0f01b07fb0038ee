/* batchnorm.c: batch normalization forward.
 *
 * Shapes: in, out (N, C, S); scale, bias, mean, var (C).
 */
#include "kernels/batchnorm.h"

#include <math.h>

/* out[n, c, :] = in[n, c, :] * a[c] + b[c], the affine form both modes
 * reduce to. */
static void
apply_affine (float *out,
              const float *in,
              const float *a,
              const float *b,
              int N,
              int C,
              size_t S)
{
  int64_t planes = (int64_t) N * C;

#pragma omp parallel for schedule(static)
  for (int64_t nc = 0; nc < planes; nc++)
    {
      int c = (int) (nc % C);
      const float *x = in + (size_t) nc * S;
      float *y = out + (size_t) nc * S;
      float ac = a[c], bc = b[c];
#pragma omp simd
      for (size_t i = 0; i < S; i++)
        y[i] = x[i] * ac + bc;
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
  apply_affine (out, in, a, b, N, C, S);
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
  normalize_with (out, in, scale, bias, mean, var, epsilon, N, C, S);
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
  double count = (double) N * S;

  /* Two passes in double: the mean first, then squared deviations, so a
   * large mean does not eat the variance. */
#pragma omp parallel for schedule(static)
  for (int c = 0; c < C; c++)
    {
      double sum = 0.0, sq = 0.0;
      for (int n = 0; n < N; n++)
        {
          const float *x = in + ((size_t) n * C + c) * S;
          for (size_t i = 0; i < S; i++)
            sum += x[i];
        }
      double mean = count > 0 ? sum / count : 0.0;
      for (int n = 0; n < N; n++)
        {
          const float *x = in + ((size_t) n * C + c) * S;
          for (size_t i = 0; i < S; i++)
            sq += (x[i] - mean) * (x[i] - mean);
        }
      batch_mean[c] = (float) mean;
      batch_var[c] = count > 0 ? (float) (sq / count) : 0.0f;
    }
  normalize_with (out, in, scale, bias, batch_mean, batch_var, epsilon, N, C,
                  S);
}

void
graft_batchnorm_update_running (
    float *out, const float *running, const float *batch, float momentum, int C)
{
  for (int c = 0; c < C; c++)
    out[c] = running[c] * momentum + batch[c] * (1.0f - momentum);
}
