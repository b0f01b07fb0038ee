/* graft-model-page.h: step 1, choosing the base model. */
#pragma once

#include <adwaita.h>

#include "graft-try-photo.h"
#include "graph.h"

G_BEGIN_DECLS

#define GRAFT_TYPE_MODEL_PAGE (graft_model_page_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftModelPage, graft_model_page, GRAFT, MODEL_PAGE, AdwBin)

GtkWidget *graft_model_page_new (void);

/* Where the last choice and folder are kept; NULL (the default) keeps
 * nothing. Set it before the page is shown to restore the last choice. */
void graft_model_page_set_settings (GraftModelPage *self, GSettings *settings);

/* Chooses a bundled model by catalog id; FALSE when there is no such id. */
gboolean graft_model_page_select_bundled (GraftModelPage *self, const char *id);
/* Chooses an ONNX file of the user's. */
void graft_model_page_select_file (GraftModelPage *self, GFile *file);

/* The chosen model's file, NULL before a choice. */
const char *graft_model_page_get_model_path (GraftModelPage *self);
const char *graft_model_page_get_model_title (GraftModelPage *self);
/* TRUE while the chosen model is being read. */
gboolean graft_model_page_get_loading (GraftModelPage *self);
/* The loaded model, NULL while loading or when it could not be read. */
GraftGraph *graft_model_page_get_graph (GraftModelPage *self);
/* Why the chosen model could not be read, or NULL. */
const char *graft_model_page_get_error_message (GraftModelPage *self);
/* GraftLayer items of the loaded model, in running order. */
GListModel *graft_model_page_get_layers (GraftModelPage *self);
/* The "Try a Photo" widget, which runs the chosen model. */
GraftTryPhoto *graft_model_page_get_try_photo (GraftModelPage *self);

G_END_DECLS
