/* test-blocks.c: freezable blocks come from the graph's structure. */
#include "blocks.h"
#include "model-catalog.h"

#include <string.h>

static GraftGraph *
load (const char *id_or_path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = graft_catalog_resolve (id_or_path, &error);
  GraftGraph *graph;

  g_assert_no_error (error);
  graph = graft_graph_load (path, &error);
  g_assert_no_error (error);
  return graph;
}

/* Blocks tile the layers: consecutive, no gaps, head last. */
static void
check_tiling (const GraftGraph *graph, const GraftBlock *blocks, int n)
{
  int next = 0;
  for (int b = 0; b < n; b++)
    {
      g_assert_cmpint (blocks[b].first_node, ==, next);
      g_assert_cmpint (blocks[b].last_node, >=, blocks[b].first_node);
      next = blocks[b].last_node + 1;
      g_assert_true (blocks[b].name && blocks[b].name[0]);
    }
  g_assert_cmpint (next, ==, graph->n_nodes);
  g_assert_cmpint (blocks[n - 1].kind, ==, GRAFT_BLOCK_HEAD);
}

static void
test_mobilenet_v2 (void)
{
  g_autoptr (GraftGraph) graph = load ("mobilenet_v2_1.0_224");
  int n;
  GraftBlock *blocks = graft_graph_find_blocks (graph, &n);
  int residual = 0, bottleneck = 0;

  check_tiling (graph, blocks, n);
  /* Stem, the first separable block, 16 inverted residual blocks (10 with a
   * skip), the last 1x1 conv, the head. */
  g_assert_cmpint (n, ==, 20);
  g_assert_cmpint (blocks[0].kind, ==, GRAFT_BLOCK_LAYER);
  g_assert_cmpstr (blocks[0].name, ==, "MobilenetV2/Conv");
  g_assert_cmpint (blocks[1].kind, ==, GRAFT_BLOCK_SEPARABLE);
  for (int b = 2; b < 18; b++)
    {
      residual += blocks[b].kind == GRAFT_BLOCK_RESIDUAL;
      bottleneck += blocks[b].kind == GRAFT_BLOCK_BOTTLENECK;
    }
  g_assert_cmpint (residual, ==, 10);
  g_assert_cmpint (bottleneck, ==, 6);
  g_assert_cmpstr (blocks[3].name, ==, "MobilenetV2/expanded_conv_2");
  g_assert_cmpint (graft_graph_feature_node (graph), ==, blocks[n - 1].first_node - 1);
  graft_blocks_free (blocks, n);
}

static void
test_mobilenet_v1 (void)
{
  g_autoptr (GraftGraph) graph = load ("mobilenet_v1_0.25_128");
  int n, separable = 0;
  GraftBlock *blocks = graft_graph_find_blocks (graph, &n);

  check_tiling (graph, blocks, n);
  /* A plain chain: no residuals; depthwise + pointwise pairs by structure. */
  g_assert_cmpint (n, ==, 15);
  for (int b = 0; b < n; b++)
    separable += blocks[b].kind == GRAFT_BLOCK_SEPARABLE;
  g_assert_cmpint (separable, ==, 13);
  g_assert_cmpstr (blocks[1].name, ==, "MobilenetV1/MobilenetV1/Conv2d_1");
  graft_blocks_free (blocks, n);
}

static void
test_resnet_like (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "models", "tiny_resnet.onnx", NULL);
  g_autoptr (GraftGraph) graph = load (path);
  int n;
  GraftBlock *blocks = graft_graph_find_blocks (graph, &n);

  check_tiling (graph, blocks, n);
  /* Stem (conv, BN, ReLU, max pool), two residual blocks (the second with a
   * 1x1 projection on its skip), the linear head. */
  g_assert_cmpint (n, ==, 4);
  g_assert_cmpint (blocks[0].kind, ==, GRAFT_BLOCK_LAYER);
  g_assert_cmpstr (blocks[0].name, ==, "conv1");
  g_assert_cmpint (blocks[1].kind, ==, GRAFT_BLOCK_RESIDUAL);
  g_assert_cmpstr (blocks[1].name, ==, "layer1/layer1.0");
  g_assert_cmpint (blocks[2].kind, ==, GRAFT_BLOCK_RESIDUAL);
  g_assert_cmpstr (blocks[2].name, ==, "layer2/layer2.0");
  g_assert_cmpstr (graph->nodes[blocks[3].first_node].op_type, ==, "Gemm");
  g_assert_cmpint (blocks[3].params, ==, 16 * 10 + 10);
  graft_blocks_free (blocks, n);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blocks/mobilenet-v2", test_mobilenet_v2);
  g_test_add_func ("/blocks/mobilenet-v1", test_mobilenet_v1);
  g_test_add_func ("/blocks/resnet-like", test_resnet_like);
  return g_test_run ();
}
