/* export.h: the fine-tuned classifier as a file other tools can run.
 * graft-cli train and the app write it with this one function, so both
 * exports read back the same. */
#pragma once

#include "graph.h"
#include "preprocess.h"

G_BEGIN_DECLS

/* Writes graph as an ONNX classifier (Softmax output "probabilities",
 * class names in metadata_props "graft.labels", preprocessing in
 * "preprocess.*") atomically to path, then labels.txt beside it, one class
 * per line. With bake_normalization the graph takes RGB 0..255 and
 * normalizes it itself: metadata mean 0 and std 1/255 keep
 * (p / 255 - mean) / std true for tools that only read those, and
 * preprocess.input_range = "0..255" tells Graft to feed pixels as they are. */
gboolean graft_export_classifier (const GraftGraph *graph, const char *const *classes,
                                  int n_classes, const GraftPreprocess *pp,
                                  gboolean bake_normalization, const char *path,
                                  GError **error);

/* The labels.txt that goes with a model file (newly allocated). */
char *graft_export_labels_path (const char *model_path);

G_END_DECLS
