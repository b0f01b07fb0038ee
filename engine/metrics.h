/* metrics.h: how well a classifier does on labeled photos. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  int n_classes;
  int *confusion;   /* n_classes x n_classes: [true][predicted] */
  int total;
  int correct;
  double *precision; /* per class; NAN when nothing was predicted as it */
  double *recall;    /* per class; NAN when it has no photos */
  double *f1;
} GraftMetrics;

/* From true labels and predictions of n photos. */
GraftMetrics *graft_metrics_new (int n_classes, const int *truth, const int *predicted, int n);
void graft_metrics_free (GraftMetrics *metrics);
double graft_metrics_accuracy (const GraftMetrics *metrics);
/* Mean F1 over classes that have photos. */
double graft_metrics_macro_f1 (const GraftMetrics *metrics);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftMetrics, graft_metrics_free)

G_END_DECLS
