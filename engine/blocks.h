/* blocks.h: the units a user freezes or trains together.
 *
 * Blocks are found from the graph's structure: a cut point is a place in
 * the topological order where a single activation carries everything
 * forward. Between cut points lie residual blocks (the skip keeps two
 * values alive); single layers are then grouped: activations, pooling and
 * normalization join the layer before them, a depthwise convolution joins
 * the 1x1 convolution after it (a depthwise-separable pair), and a 1x1
 * expansion right before a depthwise convolution joins that pair (an
 * inverted bottleneck). Everything after the last global pooling is the
 * classifier head.
 */
#pragma once

#include "graph.h"

G_BEGIN_DECLS

typedef enum
{
  GRAFT_BLOCK_LAYER,        /* a single weight layer with its activation */
  GRAFT_BLOCK_RESIDUAL,     /* a block with a skip connection */
  GRAFT_BLOCK_SEPARABLE,    /* depthwise + pointwise */
  GRAFT_BLOCK_BOTTLENECK,   /* 1x1 expand + depthwise + 1x1 project */
  GRAFT_BLOCK_HEAD,         /* global pooling and the classifier */
} GraftBlockKind;

typedef struct
{
  char *name;        /* common prefix of its node names, or "block N" */
  GraftBlockKind kind;
  int first_node;    /* inclusive range in graph->nodes */
  int last_node;
  int64_t params;
} GraftBlock;

/* The blocks in order; free with graft_blocks_free. */
GraftBlock *graft_graph_find_blocks (const GraftGraph *graph, int *n_blocks);
void graft_blocks_free (GraftBlock *blocks, int n_blocks);
const char *graft_block_kind_name (GraftBlockKind kind);

/* The node that produces the features the classifier reads (the last
 * global pooling, or the Flatten/Reshape right after it), or -1. */
int graft_graph_feature_node (const GraftGraph *graph);

G_END_DECLS
