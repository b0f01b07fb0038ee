/* metrics.c: accuracy, per-class precision, recall and F1, confusion. */
#include "metrics.h"

#include <math.h>

GraftMetrics *
graft_metrics_new (int n_classes, const int *truth, const int *predicted, int n)
{
  GraftMetrics *m = g_new0 (GraftMetrics, 1);
  int k = n_classes;

  m->n_classes = k;
  m->confusion = g_new0 (int, (size_t) k * k);
  m->precision = g_new (double, k);
  m->recall = g_new (double, k);
  m->f1 = g_new (double, k);
  for (int i = 0; i < n; i++)
    {
      if (truth[i] < 0 || truth[i] >= k || predicted[i] < 0 || predicted[i] >= k)
        continue;
      m->confusion[truth[i] * k + predicted[i]]++;
      m->total++;
      m->correct += truth[i] == predicted[i];
    }
  for (int c = 0; c < k; c++)
    {
      int tp = m->confusion[c * k + c], row = 0, col = 0;
      for (int j = 0; j < k; j++)
        {
          row += m->confusion[c * k + j];
          col += m->confusion[j * k + c];
        }
      m->precision[c] = col ? (double) tp / col : NAN;
      m->recall[c] = row ? (double) tp / row : NAN;
      if (isnan (m->precision[c]) || isnan (m->recall[c]))
        m->f1[c] = row ? 0.0 : NAN;
      else
        m->f1[c] = m->precision[c] + m->recall[c] > 0
                       ? 2 * m->precision[c] * m->recall[c] / (m->precision[c] + m->recall[c])
                       : 0.0;
    }
  return m;
}

void
graft_metrics_free (GraftMetrics *m)
{
  if (m == NULL)
    return;
  g_free (m->confusion);
  g_free (m->precision);
  g_free (m->recall);
  g_free (m->f1);
  g_free (m);
}

double
graft_metrics_accuracy (const GraftMetrics *m)
{
  return m->total ? (double) m->correct / m->total : NAN;
}

double
graft_metrics_macro_f1 (const GraftMetrics *m)
{
  double sum = 0;
  int n = 0;
  for (int c = 0; c < m->n_classes; c++)
    if (!isnan (m->f1[c]))
      {
        sum += m->f1[c];
        n++;
      }
  return n ? sum / n : NAN;
}
