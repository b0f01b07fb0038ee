/* cli-info.c: graft-cli info: what a model takes and what it is made of. */
#include "blocks.h"
#include "classifier.h"
#include "cli.h"
#include "model-catalog.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

static JsonNode *
shape_json (const GraftShape *shape)
{
  JsonArray *a = json_array_new ();
  for (int d = 0; d < shape->ndim; d++)
    json_array_add_int_element (a, shape->dims[d]);
  return json_node_init_array (json_node_alloc (), a);
}

static void
print_text (const char *path, const GraftClassifier *c, const GraftBlock *blocks,
            int n_blocks)
{
  const GraftGraph *g = c->graph;
  const GraftPreprocess *pp = &c->preprocess;
  const GraftValueInfo *in = graft_plan_value_info (c->plan, g->inputs[0]);
  const GraftValueInfo *out = graft_plan_value_info (c->plan, g->outputs[0]);
  g_autofree char *in_shape = graft_shape_to_string (&in->shape);
  g_autofree char *out_shape = graft_shape_to_string (&out->shape);
  int64_t total = 0;

  printf ("Model: %s\n", path);
  printf ("Input: %s, %s (batch size free)\n", g->values[g->inputs[0]].name, in_shape);
  printf ("Preprocessing: central crop %.1f%% of the shorter side, resize to "
          "%dx%d, RGB, mean %.5g,%.5g,%.5g, std %.5g,%.5g,%.5g\n",
          pp->central_crop * 100, pp->width, pp->height, pp->mean[0], pp->mean[1],
          pp->mean[2], pp->std[0], pp->std[1], pp->std[2]);
  printf ("Output: %s, %s, %d classes%s\n", g->values[g->outputs[0]].name,
          out_shape, c->n_classes, c->ends_in_softmax ? " (probabilities)" : " (scores)");
  printf ("\nLayers (%d):\n", g->n_nodes);
  printf ("  %4s  %-44s %-18s %-16s %10s\n", "#", "name", "operator", "output", "params");
  for (int i = 0; i < g->n_nodes; i++)
    {
      const GraftNode *node = &g->nodes[i];
      const GraftValueInfo *vi = graft_plan_value_info (c->plan, node->outputs[0]);
      g_autofree char *s = graft_shape_to_string (&vi->shape);
      int64_t params = graft_graph_node_params (g, i);
      total += params;
      printf ("  %4d  %-44s %-18s %-16s %10" G_GINT64_FORMAT "\n", i, node->label,
              node->op_type, s, params);
    }
  printf ("\nBlocks (%d), the units that are frozen or trained together:\n", n_blocks);
  printf ("  %4s  %-44s %-20s %-9s %10s\n", "#", "name", "kind", "layers", "params");
  for (int b = 0; b < n_blocks; b++)
    {
      g_autofree char *range = g_strdup_printf ("%d-%d", blocks[b].first_node,
                                                blocks[b].last_node);
      printf ("  %4d  %-44s %-20s %-9s %10" G_GINT64_FORMAT "\n", b, blocks[b].name,
              graft_block_kind_name (blocks[b].kind), range, blocks[b].params);
    }
  printf ("\nParameters: %" G_GINT64_FORMAT "\n", total);
}

static JsonNode *
info_json (const char *path, const GraftClassifier *c, const GraftBlock *blocks,
           int n_blocks)
{
  const GraftGraph *g = c->graph;
  const GraftPreprocess *pp = &c->preprocess;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  int64_t total = 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, path);
  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, g->values[g->inputs[0]].name);
  json_builder_set_member_name (b, "shape");
  json_builder_add_value (b, shape_json (&graft_plan_value_info (c->plan, g->inputs[0])->shape));
  json_builder_end_object (b);
  json_builder_set_member_name (b, "preprocess");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, pp->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, pp->height);
  json_builder_set_member_name (b, "central_crop");
  json_builder_add_double_value (b, pp->central_crop);
  json_builder_set_member_name (b, "mean");
  json_builder_begin_array (b);
  for (int i = 0; i < 3; i++)
    json_builder_add_double_value (b, pp->mean[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "std");
  json_builder_begin_array (b);
  for (int i = 0; i < 3; i++)
    json_builder_add_double_value (b, pp->std[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "classes");
  json_builder_add_int_value (b, c->n_classes);

  json_builder_set_member_name (b, "layers");
  json_builder_begin_array (b);
  for (int i = 0; i < g->n_nodes; i++)
    {
      const GraftNode *node = &g->nodes[i];
      int64_t params = graft_graph_node_params (g, i);
      total += params;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, node->label);
      json_builder_set_member_name (b, "onnx_name");
      json_builder_add_string_value (b, node->name);
      json_builder_set_member_name (b, "op");
      json_builder_add_string_value (b, node->op_type);
      json_builder_set_member_name (b, "output_shape");
      json_builder_add_value (b, shape_json (&graft_plan_value_info (c->plan, node->outputs[0])->shape));
      json_builder_set_member_name (b, "params");
      json_builder_add_int_value (b, params);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "blocks");
  json_builder_begin_array (b);
  for (int i = 0; i < n_blocks; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, blocks[i].name);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, graft_block_kind_name (blocks[i].kind));
      json_builder_set_member_name (b, "first_layer");
      json_builder_add_int_value (b, blocks[i].first_node);
      json_builder_set_member_name (b, "last_layer");
      json_builder_add_int_value (b, blocks[i].last_node);
      json_builder_set_member_name (b, "params");
      json_builder_add_int_value (b, blocks[i].params);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "parameters");
  json_builder_add_int_value (b, total);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

int
graft_cli_info (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[MODEL] - describe a model");
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GraftClassifier) c = NULL;
  GraftBlock *blocks;
  int n_blocks;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return graft_cli_fail (error);
  if (argc > 2)
    {
      fprintf (stderr, "graft-cli info: give at most one model\n");
      return 2;
    }
  path = graft_catalog_resolve (argc == 2 ? argv[1] : NULL, &error);
  if (path == NULL)
    return graft_cli_fail (error);
  c = graft_classifier_new (path, &error);
  if (c == NULL)
    return graft_cli_fail (error);
  blocks = graft_graph_find_blocks (c->graph, &n_blocks);
  if (json)
    {
      g_autoptr (JsonNode) root = info_json (path, c, blocks, n_blocks);
      graft_cli_print_json (root);
    }
  else
    print_text (path, c, blocks, n_blocks);
  graft_blocks_free (blocks, n_blocks);
  return 0;
}
