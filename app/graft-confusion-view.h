/* graft-confusion-view.h: a confusion matrix, drawn with Cairo. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRAFT_TYPE_CONFUSION_VIEW (graft_confusion_view_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftConfusionView, graft_confusion_view, GRAFT, CONFUSION_VIEW, GtkWidget)

GtkWidget *graft_confusion_view_new (void);

/* Copies n_classes x n_classes counts, row-major as [true][predicted], and
 * the n_classes class names. n_classes 0 (counts and names NULL) clears. */
void graft_confusion_view_set_data (GraftConfusionView *view,
                                    int n_classes,
                                    const int *counts,
                                    const char *const *names);
int graft_confusion_view_get_n_classes (GraftConfusionView *view);
int graft_confusion_view_get_count (GraftConfusionView *view,
                                    int true_class,
                                    int predicted_class);

/* Draws the matrix into cr at (0, 0, width, height) over a transparent
 * background, and remembers the geometry for graft_confusion_view_cell_at. */
void graft_confusion_view_draw (GraftConfusionView *view,
                                cairo_t *cr,
                                int width,
                                int height);
/* The cell under (x, y) of the last draw (the widget's own size when on
 * screen): TRUE and the pair, or FALSE and -1, -1 outside the cells. */
gboolean graft_confusion_view_cell_at (GraftConfusionView *view,
                                       double x,
                                       double y,
                                       int *true_class,
                                       int *predicted_class);

/* The keyboard's cell (drawn with a focus ring while the view has focus). */
void graft_confusion_view_set_focus_cell (GraftConfusionView *view,
                                          int true_class,
                                          int predicted_class);
void graft_confusion_view_get_focus_cell (GraftConfusionView *view,
                                          int *true_class,
                                          int *predicted_class);
/* Emits "cell-activated" for the cell, as a click or Enter does. */
void graft_confusion_view_activate_cell (GraftConfusionView *view,
                                         int true_class,
                                         int predicted_class);

G_END_DECLS
