/* blocks.c: find the units a user freezes or trains together. */
#include "blocks.h"

#include <string.h>

const char *
graft_block_kind_name (GraftBlockKind kind)
{
  switch (kind)
    {
    case GRAFT_BLOCK_LAYER: return "layer";
    case GRAFT_BLOCK_RESIDUAL: return "residual";
    case GRAFT_BLOCK_SEPARABLE: return "depthwise-separable";
    case GRAFT_BLOCK_BOTTLENECK: return "inverted-bottleneck";
    case GRAFT_BLOCK_HEAD: return "head";
    default: return "unknown";
    }
}

static gboolean
is_weight_op (const GraftNode *node)
{
  return g_str_equal (node->op_type, "Conv") || g_str_equal (node->op_type, "Gemm")
         || g_str_equal (node->op_type, "MatMul");
}

static gboolean
is_global_pool (const GraftNode *node)
{
  return g_str_equal (node->op_type, "GlobalAveragePool")
         || g_str_equal (node->op_type, "GlobalMaxPool");
}

static const GraftTensor *
conv_weight (const GraftGraph *graph, const GraftNode *node)
{
  if (!g_str_equal (node->op_type, "Conv") || node->n_inputs < 2
      || node->inputs[1] < 0)
    return NULL;
  return graph->values[node->inputs[1]].constant;
}

/* A conv whose weight has one input channel per group while the layer has
 * several output channels: depthwise (or a channel multiplier of it). */
static gboolean
is_depthwise (const GraftGraph *graph, const GraftNode *node)
{
  const GraftTensor *w = conv_weight (graph, node);
  return w && w->shape.ndim == 4 && w->shape.dims[1] == 1 && w->shape.dims[0] > 1;
}

static gboolean
is_pointwise (const GraftGraph *graph, const GraftNode *node)
{
  const GraftTensor *w = conv_weight (graph, node);
  return w && w->shape.ndim == 4 && w->shape.dims[1] > 1 && w->shape.dims[2] == 1
         && w->shape.dims[3] == 1;
}

int
graft_graph_feature_node (const GraftGraph *graph)
{
  int pool = -1;
  for (int i = 0; i < graph->n_nodes; i++)
    if (is_global_pool (&graph->nodes[i]))
      pool = i;
  if (pool < 0)
    return -1;
  /* Flatten/Reshape/Squeeze right after the pooling still give the same
   * features, in the (N, C) shape a new linear head wants. */
  while (pool + 1 < graph->n_nodes)
    {
      const GraftNode *next = &graph->nodes[pool + 1];
      if (!(g_str_equal (next->op_type, "Flatten") || g_str_equal (next->op_type, "Reshape")
            || g_str_equal (next->op_type, "Squeeze"))
          || next->inputs[0] != graph->nodes[pool].outputs[0])
        break;
      pool++;
    }
  return pool;
}

/* cut[i] is TRUE when, after node i, exactly one activation is still
 * needed later: nothing before i+1 reaches past it any other way. */
static gboolean *
find_cut_points (const GraftGraph *graph)
{
  int nn = graph->n_nodes;
  g_autofree int *last_use = g_new (int, MAX (graph->n_values, 1));
  gboolean *cut = g_new0 (gboolean, MAX (nn, 1));
  int live = 0;

  for (int v = 0; v < graph->n_values; v++)
    last_use[v] = -1;
  for (int i = 0; i < nn; i++)
    for (int k = 0; k < graph->nodes[i].n_inputs; k++)
      {
        int v = graph->nodes[i].inputs[k];
        if (v >= 0 && graph->values[v].constant == NULL)
          last_use[v] = i;
      }
  for (int o = 0; o < graph->n_outputs; o++)
    last_use[graph->outputs[o]] = nn;

  /* Graph inputs are live from the start. */
  for (int i = 0; i < graph->n_inputs; i++)
    if (last_use[graph->inputs[i]] >= 0)
      live++;
  for (int i = 0; i < nn; i++)
    {
      const GraftNode *node = &graph->nodes[i];
      for (int k = 0; k < node->n_outputs; k++)
        if (last_use[node->outputs[k]] > i)
          live++;
      /* Values whose last use is this node die here (count each once). */
      for (int k = 0; k < node->n_inputs; k++)
        {
          int v = node->inputs[k];
          gboolean first = TRUE;
          if (v < 0 || graph->values[v].constant || last_use[v] != i)
            continue;
          for (int j = 0; j < k; j++)
            if (node->inputs[j] == v)
              first = FALSE;
          if (first)
            live--;
        }
      cut[i] = live == 1;
    }
  return cut;
}

static gboolean
is_name_separator (char c)
{
  return c == '\0' || c == '/' || c == '_';
}

/* The block's name: the longest common part of its layers' names that
 * ends at a separator in every one of them ("Net/Conv2d_1" for
 * "Net/Conv2d_1_depthwise" and "Net/Conv2d_1_pointwise", never "Net/block_1"
 * for "Net/block_1x" and "Net/block_12"), or the first layer's name when
 * they share only the network's root. */
/* A layer's name without a trailing "/Conv" that only repeats the
 * operator, and without PyTorch's leading '/'. */
static char *
layer_short_name (const GraftNode *node)
{
  const char *a = node->label;
  const char *slash = strrchr (a, '/');
  size_t len = strlen (a);

  /* PyTorch's exporter names nodes "/module/path/OpType": the last part
   * only repeats the operator. Other exporters' names ("Net/Conv") are kept. */
  if (a[0] == '/' && slash && slash != a && g_str_equal (slash + 1, node->op_type))
    len = slash - a;
  while (len > 0 && a[0] == '/')
    a++, len--;
  return g_strndup (a, len);
}

/* The block's name: the longest common part of the names of its layers
 * with parameters (pooling and flatten layers often sit at the network's
 * root) that ends at a separator in every one of them: "Net/Conv2d_1" for
 * "Net/Conv2d_1_depthwise" and "Net/Conv2d_1_pointwise", never
 * "Net/block_1" for "Net/block_1x" and "Net/block_12". When they share only
 * the root, the first such layer names the block. */
static char *
common_name_prefix (const GraftGraph *graph, int first, int last, int index)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *a;
  size_t len;

  for (int i = first; i <= last; i++)
    if (graft_graph_node_params (graph, i) > 0)
      g_ptr_array_add (names, layer_short_name (&graph->nodes[i]));
  if (names->len == 0)
    for (int i = first; i <= last; i++)
      g_ptr_array_add (names, layer_short_name (&graph->nodes[i]));
  if (names->len == 0)
    return g_strdup_printf ("block %d", index + 1);
  a = names->pdata[0];
  len = strlen (a);
  for (guint i = 1; i < names->len; i++)
    {
      const char *b = names->pdata[i];
      size_t j = 0;
      while (j < len && a[j] && a[j] == b[j])
        j++;
      len = j;
    }
  for (;; len--)
    {
      gboolean boundary = TRUE;
      for (guint i = 0; i < names->len && boundary; i++)
        boundary = is_name_separator (((const char *) names->pdata[i])[len]);
      if (boundary || len == 0)
        break;
    }
  while (len > 0 && is_name_separator (a[len - 1]))
    len--;
  if (len == 0 || (memchr (a, '/', len) == NULL && strchr (a, '/') != NULL))
    return g_strdup (a);
  return g_strndup (a, len);
}

typedef struct
{
  int first, last;
  int weights;         /* weight layers inside */
  gboolean depthwise;  /* ends in a depthwise conv awaiting its 1x1 */
  gboolean pointwise;  /* its one weight layer is a 1x1 conv */
  gboolean expanded;   /* a 1x1 expansion precedes the depthwise */
  GraftBlockKind kind;
} Span;

GraftBlock *
graft_graph_find_blocks (const GraftGraph *graph, int *n_blocks)
{
  int nn = graph->n_nodes;
  int feature = graft_graph_feature_node (graph);
  int trunk_end = feature >= 0 ? feature : nn - 1;
  g_autofree gboolean *cut = find_cut_points (graph);
  g_autoptr (GArray) merged = g_array_new (FALSE, TRUE, sizeof (Span));
  GraftBlock *blocks;
  int start = 0;

  for (int i = 0; i <= trunk_end && i < nn; i++)
    {
      Span s = { .first = start, .last = i };
      Span *prev;

      /* 1. Segments run between cut points; one with several weight layers
       * has no cut inside, so a skip connection spans it. */
      if (!cut[i] && i != trunk_end)
        continue;
      start = i + 1;
      for (int j = s.first; j <= i; j++)
        if (is_weight_op (&graph->nodes[j]))
          {
            s.weights++;
            s.depthwise = is_depthwise (graph, &graph->nodes[j]);
            s.pointwise = is_pointwise (graph, &graph->nodes[j]);
          }
      s.kind = s.weights > 1 ? GRAFT_BLOCK_RESIDUAL : GRAFT_BLOCK_LAYER;
      if (s.weights > 1)
        s.depthwise = s.pointwise = FALSE;

      /* 2. Group single layers into the units people name. */
      prev = merged->len ? &g_array_index (merged, Span, merged->len - 1) : NULL;
      if (prev && s.weights == 0)
        {
          prev->last = s.last; /* activation, pooling, normalization */
          continue;
        }
      if (prev && prev->kind == GRAFT_BLOCK_LAYER && prev->depthwise && s.pointwise)
        {
          prev->last = s.last;
          prev->kind = prev->expanded ? GRAFT_BLOCK_BOTTLENECK : GRAFT_BLOCK_SEPARABLE;
          prev->depthwise = FALSE;
          continue;
        }
      if (prev && prev->kind == GRAFT_BLOCK_LAYER && prev->pointwise
          && !prev->expanded && s.depthwise)
        {
          prev->last = s.last;
          prev->expanded = TRUE;
          prev->pointwise = FALSE;
          prev->depthwise = TRUE;
          continue;
        }
      g_array_append_val (merged, s);
    }

  *n_blocks = (int) merged->len + (trunk_end + 1 < nn ? 1 : 0);
  blocks = g_new0 (GraftBlock, MAX (*n_blocks, 1));
  for (guint i = 0; i < merged->len; i++)
    {
      Span *s = &g_array_index (merged, Span, i);
      blocks[i].first_node = s->first;
      blocks[i].last_node = s->last;
      blocks[i].kind = s->kind;
    }
  if (trunk_end + 1 < nn)
    {
      GraftBlock *head = &blocks[*n_blocks - 1];
      head->kind = GRAFT_BLOCK_HEAD;
      head->first_node = trunk_end + 1;
      head->last_node = nn - 1;
      /* The pooling belongs with the head: it has no weights either way,
       * and users think of "pool + classifier" as the part that is replaced. */
    }
  for (int b = 0; b < *n_blocks; b++)
    {
      blocks[b].name = blocks[b].kind == GRAFT_BLOCK_HEAD
                           ? g_strdup ("classifier")
                           : common_name_prefix (graph, blocks[b].first_node,
                                                 blocks[b].last_node, b);
      for (int j = blocks[b].first_node; j <= blocks[b].last_node; j++)
        blocks[b].params += graft_graph_node_params (graph, j);
    }
  return blocks;
}

void
graft_blocks_free (GraftBlock *blocks, int n_blocks)
{
  for (int i = 0; i < n_blocks; i++)
    g_free (blocks[i].name);
  g_free (blocks);
}
