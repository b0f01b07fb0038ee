/* loss.c: softmax cross-entropy with class weights and label smoothing. */
#include "kernels/loss.h"

#include <math.h>

static inline gboolean
label_valid (int32_t label, int64_t K)
{
  return label >= 0 && label < K;
}

static inline double
class_weight (const float *weights, int64_t k)
{
  return weights ? (double) weights[k] : 1.0;
}

float
graft_cross_entropy_forward (float *probs,
                             const float *logits,
                             const int32_t *labels,
                             const float *weights,
                             int64_t N,
                             int64_t K,
                             float label_smoothing)
{
  // probs (N, K), logits (N, K), labels (N), weights (K)
  double nll = 0.0, smooth = 0.0, label_weights = 0.0, weight_sum = 0.0;
  gboolean labels_ok = TRUE;

  for (int64_t k = 0; k < K; k++)
    weight_sum += class_weight (weights, k);
  for (int64_t i = 0; i < N; i++)
    {
      const float *z = logits + i * K;
      float *p = probs + i * K;
      int32_t y = labels[i];
      double max = -INFINITY, sum = 0.0, weighted_z = 0.0, lse;

      for (int64_t k = 0; k < K; k++)
        max = z[k] > max ? z[k] : max;
      for (int64_t k = 0; k < K; k++)
        {
          sum += exp ((double) z[k] - max);
          weighted_z += class_weight (weights, k) * z[k];
        }
      /* exp again rather than keeping it rounded to float in p. */
      for (int64_t k = 0; k < K; k++)
        p[k] = (float) (exp ((double) z[k] - max) / sum);
      lse = max + log (sum);
      /* sum_k w_k * -lp_k = sum_k w_k (lse - z_k) */
      smooth += weight_sum * lse - weighted_z;
      if (!label_valid (y, K))
        {
          labels_ok = FALSE;
          continue;
        }
      nll += class_weight (weights, y) * (lse - z[y]);
      label_weights += class_weight (weights, y);
    }
  if (!labels_ok)
    return NAN;
  return (float) ((1.0 - label_smoothing) * nll / label_weights +
                  label_smoothing / (double) K * smooth / label_weights);
}

float
graft_cross_entropy_forward_ref (float *probs,
                                 const float *logits,
                                 const int32_t *labels,
                                 const float *weights,
                                 int64_t N,
                                 int64_t K,
                                 float label_smoothing)
{
  double *lp = g_new (double, N *K);
  double nll = 0.0, smooth = 0.0, label_weights = 0.0;

  for (int64_t i = 0; i < N; i++)
    {
      double max = -INFINITY, sum = 0.0;
      for (int64_t k = 0; k < K; k++)
        max = MAX (max, (double) logits[i * K + k]);
      for (int64_t k = 0; k < K; k++)
        sum += exp (logits[i * K + k] - max);
      for (int64_t k = 0; k < K; k++)
        {
          lp[i * K + k] = logits[i * K + k] - max - log (sum);
          probs[i * K + k] = (float) exp (lp[i * K + k]);
        }
    }
  for (int64_t i = 0; i < N; i++)
    {
      if (!label_valid (labels[i], K))
        {
          g_free (lp);
          return NAN;
        }
      nll += class_weight (weights, labels[i]) * -lp[i * K + labels[i]];
      label_weights += class_weight (weights, labels[i]);
      for (int64_t k = 0; k < K; k++)
        smooth += class_weight (weights, k) * -lp[i * K + k];
    }
  g_free (lp);
  nll /= label_weights;
  smooth /= label_weights;
  return (float) ((1.0 - label_smoothing) * nll +
                  label_smoothing / (double) K * smooth);
}

/* W = sum_i w[y_i]; NaN when a label is out of range. */
static double
label_weight_sum (const int32_t *labels,
                  const float *weights,
                  int64_t N,
                  int64_t K)
{
  double sum = 0.0;
  for (int64_t i = 0; i < N; i++)
    sum += label_valid (labels[i], K) ? class_weight (weights, labels[i]) : NAN;
  return sum;
}

void
graft_cross_entropy_backward (float *dlogits,
                              const float *probs,
                              const int32_t *labels,
                              const float *weights,
                              int64_t N,
                              int64_t K,
                              float label_smoothing,
                              float dloss)
{
  // dlogits (N, K), probs (N, K), labels (N), weights (K)
  double s = label_smoothing, weight_sum = 0.0;
  double scale = dloss / label_weight_sum (labels, weights, N, K);

  for (int64_t k = 0; k < K; k++)
    weight_sum += class_weight (weights, k);
  for (int64_t i = 0; i < N; i++)
    {
      const float *p = probs + i * K;
      float *dz = dlogits + i * K;
      int32_t y = labels[i];
      double wy;

      if (!label_valid (y, K))
        {
          for (int64_t k = 0; k < K; k++)
            dz[k] = NAN;
          continue;
        }
      wy = class_weight (weights, y);
      for (int64_t k = 0; k < K; k++)
        {
          double g =
              (1.0 - s) * wy * p[k] +
              s / (double) K * (weight_sum * p[k] - class_weight (weights, k));
          if (k == y)
            g -= (1.0 - s) * wy;
          dz[k] = (float) (scale * g);
        }
    }
}

void
graft_cross_entropy_backward_ref (float *dlogits,
                                  const float *probs,
                                  const int32_t *labels,
                                  const float *weights,
                                  int64_t N,
                                  int64_t K,
                                  float label_smoothing,
                                  float dloss)
{
  double W = label_weight_sum (labels, weights, N, K);

  for (int64_t i = 0; i < N; i++)
    for (int64_t k = 0; k < K; k++)
      {
        int32_t y = labels[i];
        double p = probs[i * K + k], dnll, dsmooth = 0.0;
        if (!label_valid (y, K))
          {
            dlogits[i * K + k] = NAN;
            continue;
          }
        /* d(-lp[i, j]) / dz[i, k] = p[i, k] - [j = k] */
        dnll = class_weight (weights, y) * (p - (k == y ? 1.0 : 0.0)) / W;
        for (int64_t j = 0; j < K; j++)
          dsmooth += class_weight (weights, j) * (p - (j == k ? 1.0 : 0.0)) / W;
        dlogits[i * K + k] =
            (float) (dloss * ((1.0 - label_smoothing) * dnll +
                              label_smoothing / (double) K * dsmooth));
      }
}

int64_t
graft_cross_entropy_count_correct (const float *scores,
                                   const int32_t *labels,
                                   int64_t N,
                                   int64_t K)
{
  // scores (N, K), labels (N)
  int64_t correct = 0;

  for (int64_t i = 0; i < N; i++)
    {
      int64_t best = 0;
      for (int64_t k = 1; k < K; k++)
        if (scores[i * K + k] > scores[i * K + best])
          best = k;
      correct += K > 0 && labels[i] == best;
    }
  return correct;
}
