/* loss.h: softmax cross-entropy over class logits, as PyTorch computes it.
 *
 * Matches torch.nn.functional.cross_entropy (logits, labels, weight=w,
 * label_smoothing=s, reduction="mean") of PyTorch 1.13. With
 * lp = log_softmax (logits) and W = sum_i w[labels[i]]:
 *
 *   loss = (1 - s) * sum_i w[y_i] * -lp[i, y_i] / W
 *        + (s / K) * sum_i sum_k w[k] * -lp[i, k] / W
 *
 * Note that PyTorch divides the smoothing term by the weights of the
 * labels too (not by N, nor by sum w). Without weights w = 1, W = N.
 *
 * Labels must lie in [0, K): a label outside makes the loss NaN and its
 * row's gradient NaN (never an out-of-bounds read), which the trainer
 * reports as a numeric error. The smoothing must lie in [0, 1).
 */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Writes probs (N, K) = softmax (logits) and returns the mean loss;
 * logits (N, K), labels (N), weights (K) or NULL for all ones. Sums run in
 * double. */
float graft_cross_entropy_forward (float *probs,
                                   const float *logits,
                                   const int32_t *labels,
                                   const float *weights,
                                   int64_t N,
                                   int64_t K,
                                   float label_smoothing);
/* PyTorch's composition spelled out: a full log_softmax, then the NLL and
 * smoothing means separately. */
float graft_cross_entropy_forward_ref (float *probs,
                                       const float *logits,
                                       const int32_t *labels,
                                       const float *weights,
                                       int64_t N,
                                       int64_t K,
                                       float label_smoothing);

/* Writes (not accumulates) dlogits (N, K) = dloss * dLoss/dlogits from the
 * forward's probs (N, K):
 *   dloss / W * ((1 - s) w[y_i] (p_ik - [k = y_i]) + (s / K) (p_ik sum w -
 *   w[k])) */
void graft_cross_entropy_backward (float *dlogits,
                                   const float *probs,
                                   const int32_t *labels,
                                   const float *weights,
                                   int64_t N,
                                   int64_t K,
                                   float label_smoothing,
                                   float dloss);
/* The two terms' gradients computed apart and added, in double. */
void graft_cross_entropy_backward_ref (float *dlogits,
                                       const float *probs,
                                       const int32_t *labels,
                                       const float *weights,
                                       int64_t N,
                                       int64_t K,
                                       float label_smoothing,
                                       float dloss);

/* Rows whose first largest score (N, K) -- logits or probabilities -- is
 * at the label. */
int64_t graft_cross_entropy_count_correct (const float *scores,
                                           const int32_t *labels,
                                           int64_t N,
                                           int64_t K);

G_END_DECLS
