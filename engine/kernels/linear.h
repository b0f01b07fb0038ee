/* linear.h: Gemm and batched MatMul on float32.
 *
 * Row-major throughout. The optimized kernels call cblas_sgemm; the _ref
 * kernels are plain loops kept to test them against.
 *
 * Each backward kernel goes beside its forward, gradients named d*.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Y (M, N) = alpha * op(A) * op(B) + beta * C
 * A is (M, K), or (K, M) when trans_a; B is (K, N), or (N, K) when trans_b.
 * C is optional (NULL): element (m, n) is read at c[m * c_stride_m +
 * n * c_stride_n], so strides of 0 broadcast a row, a column or a scalar. */
void graft_gemm_forward (float *y,
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
                         float beta);
void graft_gemm_forward_ref (float *y,
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
                             float beta);

/* Accumulates the gradients of graft_gemm_forward from dy (M, N):
 * da (A's layout) += alpha * dy op(B)^T, transposed back when trans_a;
 * db (B's layout) += alpha * op(A)^T dy, transposed back when trans_b;
 * dc (C's storage, read with c's strides) += beta * dy summed over the
 * axes C was broadcast along. Any of da, db, dc may be NULL. */
void graft_gemm_backward (float *da,
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
                          float beta);
void graft_gemm_backward_ref (float *da,
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
                              float beta);

/* out (batch..., M, N) = a (batch..., M, K) @ b (batch..., K, N)
 * The batch axes are batch_dims[0..n_batch_dims); a_batch_strides and
 * b_batch_strides give each operand's element stride along them (0 where
 * it is broadcast). out is contiguous. */
void graft_matmul_forward (float *out,
                           const float *a,
                           const float *b,
                           int n_batch_dims,
                           const int64_t *batch_dims,
                           const int64_t *a_batch_strides,
                           const int64_t *b_batch_strides,
                           int64_t M,
                           int64_t K,
                           int64_t N);
void graft_matmul_forward_ref (float *out,
                               const float *a,
                               const float *b,
                               int n_batch_dims,
                               const int64_t *batch_dims,
                               const int64_t *a_batch_strides,
                               const int64_t *b_batch_strides,
                               int64_t M,
                               int64_t K,
                               int64_t N);

/* Accumulates the gradients of graft_matmul_forward from dout (batch...,
 * M, N): da (a's batch..., M, K) += dout @ b^T and db (b's batch..., K, N)
 * += a^T @ dout, summed over the batches an operand was broadcast across.
 * Strides are the forward's. da or db may be NULL. */
void graft_matmul_backward (float *da,
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
                            int64_t N);
void graft_matmul_backward_ref (float *da,
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
                                int64_t N);

G_END_DECLS
