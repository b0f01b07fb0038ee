/* graft-layers-page.h: step 3, what trains and what stays frozen. */
#pragma once

#include <adwaita.h>

#include "train/trainer.h"

G_BEGIN_DECLS

#define GRAFT_TYPE_LAYERS_PAGE (graft_layers_page_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftLayersPage, graft_layers_page, GRAFT, LAYERS_PAGE, AdwBin)

GtkWidget *graft_layers_page_new (void);

/* Reads the model (in a worker) and lists its blocks for n_classes. */
void graft_layers_page_set_model (GraftLayersPage *self,
                                  const char *model_path,
                                  int n_classes,
                                  int n_train_photos);
gboolean graft_layers_page_get_loading (GraftLayersPage *self);
/* Blocks of the training graph, the new classifier last; 0 before. */
int graft_layers_page_get_n_blocks (GraftLayersPage *self);

void graft_layers_page_set_preset (GraftLayersPage *self,
                                   GraftFreezePreset preset,
                                   int last_blocks);
void graft_layers_page_set_block_trainable (GraftLayersPage *self,
                                            int block,
                                            gboolean trainable);
gboolean graft_layers_page_get_block_trainable (GraftLayersPage *self,
                                                int block);

/* The choice: a preset when the switches match one (custom FALSE), or the
 * switches themselves (custom TRUE, trainable has n_blocks entries, free
 * it with g_free). */
gboolean graft_layers_page_get_choice (GraftLayersPage *self,
                                       GraftFreezePreset *preset,
                                       int *last_blocks,
                                       gboolean **trainable,
                                       int *n_blocks);
gint64 graft_layers_page_get_trainable_params (GraftLayersPage *self);

G_END_DECLS
