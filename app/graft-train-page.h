/* graft-train-page.h: step 4, training with live progress. */
#pragma once

#include <adwaita.h>

#include "dataset.h"
#include "graft-train-result.h"

G_BEGIN_DECLS

#define GRAFT_TYPE_TRAIN_PAGE (graft_train_page_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftTrainPage, graft_train_page, GRAFT, TRAIN_PAGE, AdwBin)

GtkWidget *graft_train_page_new (void);
/* Binds the settings rows to the saved choices; NULL keeps nothing. */
void graft_train_page_set_settings (GraftTrainPage *self, GSettings *settings);

/* The options the rows show: the engine's defaults unless changed. */
void graft_train_page_get_config (GraftTrainPage *self,
                                  GraftTrainConfig *config,
                                  gboolean *compare_head_only);
void graft_train_page_set_epochs (GraftTrainPage *self, int epochs);
void graft_train_page_set_batch_size (GraftTrainPage *self, int batch_size);
void graft_train_page_set_learning_rate (GraftTrainPage *self,
                                         double learning_rate);

/* Starts training on a worker thread. trainable (n_blocks) is NULL for a
 * preset. FALSE with an error when it cannot start. */
gboolean graft_train_page_start (GraftTrainPage *self,
                                 const char *model_path,
                                 const char *model_title,
                                 const GraftDataset *dataset,
                                 GraftFreezePreset preset,
                                 int last_blocks,
                                 const gboolean *trainable,
                                 int n_blocks,
                                 GError **error);
void graft_train_page_set_paused (GraftTrainPage *self, gboolean paused);
/* Stops the run: the one cancellation path, shared with closing. */
void graft_train_page_stop (GraftTrainPage *self);
/* Stops and waits for the worker: nothing runs after it returns. */
void graft_train_page_shutdown (GraftTrainPage *self);

gboolean graft_train_page_get_running (GraftTrainPage *self);
gboolean graft_train_page_get_paused (GraftTrainPage *self);
/* The last finished run, or NULL. */
GraftTrainResult *graft_train_page_get_result (GraftTrainPage *self);
/* Why the last run failed, or NULL. */
const char *graft_train_page_get_error_message (GraftTrainPage *self);
/* Longest main-loop stall seen during the last run, in milliseconds. */
double graft_train_page_get_longest_stall_ms (GraftTrainPage *self);
/* UI updates made from progress, and progress reports received. */
guint graft_train_page_get_n_ui_updates (GraftTrainPage *self);
guint graft_train_page_get_n_reports (GraftTrainPage *self);
/* TRUE once progress comes from the run's last part (a fine-tune first
 * trains the new classifier alone, then the blocks chosen). */
gboolean graft_train_page_get_in_last_part (GraftTrainPage *self);

G_END_DECLS
