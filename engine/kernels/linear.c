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

/* Accumulates beta * dy (M, N) into C's storage, read with its broadcast
 * strides: summed in double over the rows or columns C was broadcast along. */
static void
gemm_backward_c (float *dc,
                 const float *dy,
                 int64_t c_stride_m,
                 int64_t c_stride_n,
                 int64_t M,
                 int64_t N,
                 float beta)
{
  // dc (M or 1, N or 1), dy (M, N)
  int64_t cm = c_stride_m ? M : 1, cn = c_stride_n ? N : 1;
  double *acc;

  if (c_stride_m && c_stride_n)
    {
      for (int64_t m = 0; m < M; m++)
        for (int64_t n = 0; n < N; n++)
          dc[m * c_stride_m + n * c_stride_n] += beta * dy[m * N + n];
      return;
    }
  acc = g_new0 (double, cm *cn);
  for (int64_t m = 0; m < M; m++)
    for (int64_t n = 0; n < N; n++)
      acc[(c_stride_m ? m : 0) * cn + (c_stride_n ? n : 0)] += dy[m * N + n];
  for (int64_t i = 0; i < cm; i++)
    for (int64_t j = 0; j < cn; j++)
      dc[i * c_stride_m + j * c_stride_n] += (float) (beta * acc[i * cn + j]);
  g_free (acc);
}

void
graft_gemm_backward (float *da,
                     float *db,
                     float *dc,
                     const float *dy,
                     const float *a,
                     const float *b,
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
  // da, a (M, K) or (K, M); db, b (K, N) or (N, K); dy (M, N);
  // dc (M or 1, N or 1)
  if (M == 0 || N == 0)
    return;
  /* Every product below runs over M, N or K; BLAS wants none of them 0. */
  if (da && K > 0)
    {
      if (!trans_a) /* dA (M, K) += alpha dY (M, N) op(B)^T (N, K) */
        cblas_sgemm (CblasRowMajor, CblasNoTrans,
                     trans_b ? CblasNoTrans : CblasTrans, (blasint) M,
                     (blasint) K, (blasint) N, alpha, dy, (blasint) N, b,
                     (blasint) (trans_b ? K : N), 1.0f, da, (blasint) K);
      else /* dA (K, M) += alpha op(B) (K, N) dY^T (N, M) */
        cblas_sgemm (CblasRowMajor, trans_b ? CblasTrans : CblasNoTrans,
                     CblasTrans, (blasint) K, (blasint) M, (blasint) N, alpha,
                     b, (blasint) (trans_b ? K : N), dy, (blasint) N, 1.0f, da,
                     (blasint) M);
    }
  if (db && K > 0)
    {
      if (!trans_b) /* dB (K, N) += alpha op(A)^T (K, M) dY (M, N) */
        cblas_sgemm (CblasRowMajor, trans_a ? CblasNoTrans : CblasTrans,
                     CblasNoTrans, (blasint) K, (blasint) N, (blasint) M, alpha,
                     a, (blasint) (trans_a ? M : K), dy, (blasint) N, 1.0f, db,
                     (blasint) N);
      else /* dB (N, K) += alpha dY^T (N, M) op(A) (M, K) */
        cblas_sgemm (CblasRowMajor, CblasTrans,
                     trans_a ? CblasTrans : CblasNoTrans, (blasint) N,
                     (blasint) K, (blasint) M, alpha, dy, (blasint) N, a,
                     (blasint) (trans_a ? M : K), 1.0f, db, (blasint) K);
    }
  if (dc && beta != 0.0f)
    gemm_backward_c (dc, dy, c_stride_m, c_stride_n, M, N, beta);
}

void
graft_gemm_backward_ref (float *da,
                         float *db,
                         float *dc,
                         const float *dy,
                         const float *a,
                         const float *b,
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
  for (int64_t m = 0; da && m < M; m++)
    for (int64_t k = 0; k < K; k++)
      {
        double sum = 0.0;
        for (int64_t n = 0; n < N; n++)
          sum +=
              (double) dy[m * N + n] * (trans_b ? b[n * K + k] : b[k * N + n]);
        da[trans_a ? k * M + m : m * K + k] += (float) (alpha * sum);
      }
  for (int64_t k = 0; db && k < K; k++)
    for (int64_t n = 0; n < N; n++)
      {
        double sum = 0.0;
        for (int64_t m = 0; m < M; m++)
          sum +=
              (double) (trans_a ? a[k * M + m] : a[m * K + k]) * dy[m * N + n];
        db[trans_b ? n * K + k : k * N + n] += (float) (alpha * sum);
      }
  for (int64_t m = 0; dc && m < M; m++)
    for (int64_t n = 0; n < N; n++)
      dc[m * c_stride_m + n * c_stride_n] += beta * dy[m * N + n];
}

/* Runs BODY once per batch index bi of the (batch_dims) grid, with oa and
 * ob the element offsets of that batch's matrices in a and b. */
#define FOR_EACH_BATCH(BODY)                                                   \
  do                                                                           \
    {                                                                          \
      int64_t idx[GRAFT_MAX_DIMS] = { 0 };                                     \
      int64_t n_batch = 1, oa = 0, ob = 0;                                     \
      for (int d = 0; d < n_batch_dims; d++)                                   \
        n_batch *= batch_dims[d];                                              \
      for (int64_t bi = 0; bi < n_batch; bi++)                                 \
        {                                                                      \
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
    float *ob_out = out + bi * M * N;
    if (K == 0)
      memset (ob_out, 0, (size_t) (M * N) * sizeof (float));
    else
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint) M,
                   (blasint) N, (blasint) K, 1.0f, a + oa, (blasint) K, b + ob,
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
    const float *ab = a + oa;
    const float *bb = b + ob;
    float *ob_out = out + bi * M * N;
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

/* TRUE when the operand's batches lie back to back (strides of a dense
 * (batch_dims, block) array): with the other operand shared, the whole
 * batch is then one large GEMM. */
static gboolean
batches_packed (const int64_t *strides,
                const int64_t *batch_dims,
                int n_batch_dims,
                int64_t block)
{
  int64_t expect = block;
  for (int d = n_batch_dims - 1; d >= 0; d--)
    {
      if (batch_dims[d] != 1 && strides[d] != expect)
        return FALSE;
      expect *= batch_dims[d];
    }
  return TRUE;
}

static gboolean
batches_shared (const int64_t *strides, int n_batch_dims)
{
  for (int d = 0; d < n_batch_dims; d++)
    if (strides[d] != 0)
      return FALSE;
  return TRUE;
}

void
graft_matmul_backward (float *da,
                       float *db,
                       const float *dout,
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
  // da, a (batch, M, K); db, b (batch, K, N); dout (batch, M, N)
  int64_t rows = M;

  g_return_if_fail (n_batch_dims <= GRAFT_MAX_DIMS);
  if (M == 0 || N == 0 || K == 0)
    return;
  for (int d = 0; d < n_batch_dims; d++)
    rows *= batch_dims[d];
  /* (batch, M, K) @ (K, N), a linear layer over a sequence: stack the
   * batches into the rows of one (batch * M, K) matrix. */
  if (batches_shared (b_batch_strides, n_batch_dims) &&
      batches_packed (a_batch_strides, batch_dims, n_batch_dims, M * K))
    {
      if (rows == 0)
        return;
      if (da) /* dA (rows, K) += dOut (rows, N) B^T (N, K) */
        cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (blasint) rows,
                     (blasint) K, (blasint) N, 1.0f, dout, (blasint) N, b,
                     (blasint) N, 1.0f, da, (blasint) K);
      if (db) /* dB (K, N) += A^T (K, rows) dOut (rows, N) */
        cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (blasint) K,
                     (blasint) N, (blasint) rows, 1.0f, a, (blasint) K, dout,
                     (blasint) N, 1.0f, db, (blasint) N);
      return;
    }
  FOR_EACH_BATCH ({
    const float *g = dout + bi * M * N;
    if (da) /* dA (M, K) += dOut (M, N) B^T (N, K) */
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (blasint) M,
                   (blasint) K, (blasint) N, 1.0f, g, (blasint) N, b + ob,
                   (blasint) N, 1.0f, da + oa, (blasint) K);
    if (db) /* dB (K, N) += A^T (K, M) dOut (M, N) */
      cblas_sgemm (CblasRowMajor, CblasTrans, CblasNoTrans, (blasint) K,
                   (blasint) N, (blasint) M, 1.0f, a + oa, (blasint) K, g,
                   (blasint) N, 1.0f, db + ob, (blasint) N);
  });
}

void
graft_matmul_backward_ref (float *da,
                           float *db,
                           const float *dout,
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
    const float *g = dout + bi * M * N;
    for (int64_t m = 0; da && m < M; m++)
      for (int64_t k = 0; k < K; k++)
        {
          double sum = 0.0;
          for (int64_t n = 0; n < N; n++)
            sum += (double) g[m * N + n] * b[ob + k * N + n];
          da[oa + m * K + k] += (float) sum;
        }
    for (int64_t k = 0; db && k < K; k++)
      for (int64_t n = 0; n < N; n++)
        {
          double sum = 0.0;
          for (int64_t m = 0; m < M; m++)
            sum += (double) a[oa + m * K + k] * g[m * N + n];
          db[ob + k * N + n] += (float) sum;
        }
  });
}
