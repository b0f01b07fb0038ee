/* graft-results-page.h: step 5, how well the model does. */
#pragma once

#include <adwaita.h>

#include "graft-reuse-view.h"
#include "graft-train-result.h"

G_BEGIN_DECLS

#define GRAFT_TYPE_RESULTS_PAGE (graft_results_page_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftResultsPage, graft_results_page, GRAFT, RESULTS_PAGE, AdwBin)

GtkWidget *graft_results_page_new (void);
/* Shows a finished run; NULL shows nothing yet. */
void graft_results_page_set_result (GraftResultsPage *self,
                                    GraftTrainResult *result);

/* The photos behind one cell of the confusion matrix, in a window (also
 * what activating the cell opens). Returns that window. */
GtkWindow *graft_results_page_show_cell (GraftResultsPage *self,
                                         int true_class,
                                         int predicted_class);
/* Classifies a photo with the trained model (in a worker). */
void graft_results_page_try_file (GraftResultsPage *self, GFile *file);
void graft_results_page_choose_file (GraftResultsPage *self);
gboolean graft_results_page_get_trying (GraftResultsPage *self);
/* The best class of the last photo tried, or NULL. */
const char *graft_results_page_get_top_label (GraftResultsPage *self);
guint graft_results_page_get_n_misclassified (GraftResultsPage *self);

/* The base model the shown result was fine-tuned from (a file). With it
 * and a result, the page measures in a worker, block by block, how much
 * of the base the training kept (engine/reuse.h) and shows it; NULL hides
 * that section. Set it with the result, in either order. */
void graft_results_page_set_base_model (GraftResultsPage *self,
                                        const char *path);
const char *graft_results_page_get_base_model (GraftResultsPage *self);
/* TRUE while that measurement runs. */
gboolean graft_results_page_get_measuring (GraftResultsPage *self);
/* Why the last measurement failed, or NULL. */
const char *graft_results_page_get_reuse_error (GraftResultsPage *self);
GraftReuseView *graft_results_page_get_reuse_view (GraftResultsPage *self);

G_END_DECLS
