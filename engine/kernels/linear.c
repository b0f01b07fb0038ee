/* linear.c: Gemm and batched MatMul on float32. */
#include "kernels/linear.h"

#include "tensor.h"

#include <cblas.h>
#include <string.h>

void
graft_gemm_forward (float *y,
                    const float *a,
                    const float *b,
                    const float *c,
                    int64_t c_stride_m,
                    int64_t c_stride_n,
                    int64_t M,
                    int64_t N,
                    int64_t K,
                    gboolean trans_a,
                    gboolean trans_b,
                    float alpha,
                    float beta)
{
  // y (M, N), a (M, K) or (K, M), b (K, N) or (N, K), c broadcast to (M, N)
  float beta_blas = 0.0f;

  if (M == 0 || N == 0)
    return;
  /* Write beta * C first and let BLAS accumulate onto it. */
  if (c != NULL && beta != 0.0f)
    {
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++)
          y[m * N + n] = beta * c[m * c_stride_m + n * c_stride_n];
      beta_blas = 1.0f;
    }
  if (K == 0)
    {
      if (beta_blas == 0.0f)
        memset (y, 0, (size_t) (M * N) * sizeof (float));
      return;
    }
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
               trans_b ? CblasTrans : CblasNoTrans, (blasint) M, (blasint) N,
               (blasint) K, alpha, a, (blasint) (trans_a ? M : K), b,
               (blasint) (trans_b ? K : N), beta_blas, y, (blasint) N);
}

void
graft_gemm_forward_ref (float *y,
                        const float *a,
                        const float *b,
                        const float *c,
                        int64_t c_stride_m,
                        int64_t c_stride_n,
                        int64_t M,
                        int64_t N,
                        int64_t K,
                        gboolean trans_a,
                        gboolean trans_b,
                        float alpha,
                        float beta)
{
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++)
      {
        double sum = 0.0;
        for (int64_t k = 0; k < K; k++)
          {
            float av = trans_a ? a[k * M + m] : a[m * K + k];
            float bv = trans_b ? b[n * K + k] : b[k * N + n];
            sum += (double) av * bv;
          }
        sum *= alpha;
        if (c != NULL && beta != 0.0f)
          sum += (double) beta * c[m * c_stride_m + n * c_stride_n];
        y[m * N + n] = (float) sum;
      }
}

/* Runs BODY once per batch index with ab, bb and ob_out pointing at that
 * batch's matrices of a, b and out. */
#define FOR_EACH_BATCH(BODY)                                                   \
  do                                                                           \
    {                                                                          \
      int64_t idx[GRAFT_MAX_DIMS] = { 0 };                                     \
      int64_t n_batch = 1, oa = 0, ob = 0;                                     \
      for (int d = 0; d < n_batch_dims; d++)                                   \
        n_batch *= batch_dims[d];                                              \
      for (int64_t bi = 0; bi < n_batch; bi++)                                 \
        {                                                                      \
          const float *ab = a + oa, *bb = b + ob;                              \
          float *ob_out = out + bi * M * N;                                    \
          BODY;                                                                \
          for (int d = n_batch_dims - 1; d >= 0; d--)                          \
            {                                                                  \
              oa += a_batch_strides[d];                                        \
              ob += b_batch_strides[d];                                        \
              if (++idx[d] < batch_dims[d])                                    \
                break;                                                         \
              oa -= a_batch_strides[d] * batch_dims[d];                        \
              ob -= b_batch_strides[d] * batch_dims[d];                        \
              idx[d] = 0;                                                      \
            }                                                                  \
        }                                                                      \
    }                                                                          \
  while (0)

void
graft_matmul_forward (float *out,
                      const float *a,
                      const float *b,
                      int n_batch_dims,
                      const int64_t *batch_dims,
                      const int64_t *a_batch_strides,
                      const int64_t *b_batch_strides,
                      int64_t M,
                      int64_t K,
                      int64_t N)
{
  // out (batch, M, N), a (batch, M, K), b (batch, K, N)
  g_return_if_fail (n_batch_dims <= GRAFT_MAX_DIMS);
  if (M == 0 || N == 0)
    return;
  FOR_EACH_BATCH ({
    if (K == 0)
      memset (ob_out, 0, (size_t) (M * N) * sizeof (float));
    else
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint) M,
                   (blasint) N, (blasint) K, 1.0f, ab, (blasint) K, bb,
                   (blasint) N, 0.0f, ob_out, (blasint) N);
  });
}

void
graft_matmul_forward_ref (float *out,
                          const float *a,
                          const float *b,
                          int n_batch_dims,
                          const int64_t *batch_dims,
                          const int64_t *a_batch_strides,
                          const int64_t *b_batch_strides,
                          int64_t M,
                          int64_t K,
                          int64_t N)
{
  g_return_if_fail (n_batch_dims <= GRAFT_MAX_DIMS);
  FOR_EACH_BATCH ({
    for (int64_t m = 0; m < M; m++)
      for (int64_t n = 0; n < N; n++)
        {
          double sum = 0.0;
          for (int64_t k = 0; k < K; k++)
            sum += (double) ab[m * K + k] * bb[k * N + n];
          ob_out[m * N + n] = (float) sum;
        }
  });
}
