/* graph-edit.h: graph surgery for transfer learning, and writing a graph
 * back out as an ONNX model.
 *
 * A fine-tune keeps the pretrained trunk up to its feature layer (the
 * input of the original classifier), removes what follows and grafts a new
 * head for the user's classes. The result is again an ONNX model, so the
 * trained graph exports with the same code that reads it.
 */
#pragma once

#include "graph.h"

G_BEGIN_DECLS

typedef struct
{
  int n_classes;
  float dropout;  /* 0 for none */
  int hidden;     /* units of a hidden ReLU layer; 0 for a linear head */
  guint64 seed;   /* for the new weights */
} GraftHeadConfig;

/* Nodes [0, n_nodes) of graph as a new ONNX model whose outputs are the
 * given values; every constant they read (weights as they are now,
 * dequantized or folded) becomes an initializer. */
GraftOnnxModel *graft_graph_to_model (const GraftGraph *graph, int n_nodes,
                                      const int *outputs, int n_outputs);

/* A new graph: base's nodes up to and including feature_node, then a new
 * head (Flatten, [Dropout], [Gemm, Relu, Dropout,] Gemm) whose output
 * "logits" has config->n_classes scores. Weights start as PyTorch's
 * nn.Linear does: uniform in +-1/sqrt(fan_in). */
GraftGraph *graft_graph_new_with_head (const GraftGraph *base, int feature_node,
                                       const GraftHeadConfig *config,
                                       GError **error);

/* The finished classifier for export: the whole graph, a Softmax named
 * "probabilities" after its first output, the class names in
 * metadata_props "graft.labels" (one per line), the preprocessing kept. */
GraftOnnxModel *graft_graph_to_classifier (const GraftGraph *graph,
                                           const char *const *labels,
                                           int n_labels);

/* Makes model take float RGB on the 0..255 scale: prepends, on its first
 * input (which keeps its name, so callers feed it as before), a Sub of
 * mean * 255 and a Div by std * 255, per channel constants of shape
 * (1, 3, 1, 1) named "graft/pixel_mean" and "graft/pixel_std". The
 * metadata is the caller's to update (see README, --bake-normalization). */
void graft_model_bake_normalization (GraftOnnxModel *model, const float mean[3],
                                     const float std[3]);

G_END_DECLS
