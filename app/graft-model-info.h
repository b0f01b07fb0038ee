/* graft-model-info.h: reads a model off the main thread and describes its
 * layers for display. */
#pragma once

#include <gio/gio.h>

#include "graph.h"

G_BEGIN_DECLS

typedef struct
{
  GraftGraph *graph;
  GPtrArray *layers; /* GraftLayer, in running order */
  gint64 n_params;
  char *input_text;  /* "1 × 3 × 224 × 224", NULL when unknown */
  char *shape_error; /* why output shapes are unknown, or NULL */
} GraftModelInfo;

/* Loads path in a worker thread. Unknown spatial input dims are taken as
 * input_size (0 for Graft's default of 224). */
void graft_model_info_load_async (const char *path,
                                  int input_size,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data);
GraftModelInfo *graft_model_info_load_finish (GAsyncResult *result,
                                              GError **error);
void graft_model_info_free (GraftModelInfo *info);

/* "1 × 32 × 112 × 112"; newly allocated. */
char *graft_model_info_shape_text (const GraftShape *shape);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftModelInfo, graft_model_info_free)

G_END_DECLS
