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

G_END_DECLS
