/* graph.c: build a runnable graph from an ONNX model, bind shapes, run.
 *
 * Building keeps node names, orders nodes topologically, binds each node to
 * its operator and folds nodes whose inputs are all constants (dequantized
 * weights, Constant/Identity chains, shape arithmetic on initializers), so
 * that what remains are the layers a user sees.
 */
#include "graph.h"

#include "graft-error.h"

#include <string.h>

typedef struct
{
  float lo;
  float hi;
  gboolean upper_inclusive;
} FusedClamp;

struct _GraftPlan
{
  GraftGraph *graph;
  GraftValueInfo *info;    /* per value */
  GraftTensor **tensors;   /* per value: the value's data during a run */
  gboolean *owned;         /* tensors[i] is the plan's to free */
  gboolean *node_folded;   /* computed once at plan time */
  GraftWorkspace ws;
  /* Activations fused into the node before (NULL until
   * graft_plan_fuse_activations fuses one), per node: */
  int *fused_act;        /* the activation fused into this node, or -1 */
  int *absorbed_into;    /* the node this activation runs in, or -1 */
  FusedClamp *clamps;    /* the fused activation's bounds */
};

static void
node_clear (GraftNode *node)
{
  g_free (node->name);
  g_free (node->label);
  g_free (node->op_type);
  g_free (node->inputs);
  g_free (node->outputs);
  g_free (node->params);
}

void
graft_graph_free (GraftGraph *graph)
{
  if (graph == NULL)
    return;
  for (int i = 0; i < graph->n_nodes; i++)
    node_clear (&graph->nodes[i]);
  g_free (graph->nodes);
  for (int i = 0; i < graph->n_values; i++)
    {
      g_free (graph->values[i].name);
      graft_tensor_free (graph->values[i].constant);
    }
  g_free (graph->values);
  g_free (graph->inputs);
  g_free (graph->outputs);
  graft_onnx_model_free (graph->model);
  g_free (graph->display_name);
  g_free (graph);
}

int
graft_graph_find_value (const GraftGraph *graph, const char *name)
{
  for (int i = 0; i < graph->n_values; i++)
    if (strcmp (graph->values[i].name, name) == 0)
      return i;
  return -1;
}

/* Values are appended while building; a hash table keeps lookups linear. */
typedef struct
{
  GraftGraph *graph;
  GArray *values;      /* GraftValue */
  GHashTable *by_name; /* name -> index + 1 */
} Builder;

static int
builder_add_value (Builder *b, const char *name)
{
  GraftValue v = { 0 };
  v.name = g_strdup (name);
  v.declared_ndim = -1;
  v.producer = -1;
  g_array_append_val (b->values, v);
  g_hash_table_insert (b->by_name, v.name, GINT_TO_POINTER (b->values->len));
  return (int) b->values->len - 1;
}

static int
builder_lookup (Builder *b, const char *name)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (b->by_name, name)) - 1;
}

static void
value_set_declared (GraftValue *v, const GraftOnnxValueInfo *vi)
{
  v->dtype = vi->elem_type;
  v->declared_ndim = vi->ndim;
  for (int d = 0; d < vi->ndim && d < GRAFT_MAX_DIMS; d++)
    v->declared_dims[d] = vi->dims[d];
}

static char *
node_display_name (const GraftOnnxNode *proto, size_t index)
{
  if (proto->name && proto->name[0])
    return g_strdup (proto->name);
  return g_strdup_printf ("%s_%zu", proto->op_type, index);
}

/* Converters from TFLite name a node after its op and all its inputs
 * ("Net/conv_1/expand_Net/conv_1/expand/add_fold_Net/..."): people need the
 * first part, and the last one when it names the activation. */
static char *
node_label (const char *name)
{
  const char *slash = strchr (name, '/');
  g_autofree char *marker = NULL;
  const char *repeat, *last;

  if (slash == NULL || slash == name)
    return g_strdup (name);
  marker = g_strdup_printf ("_%.*s/", (int) (slash - name), name);
  repeat = strstr (name, marker);
  if (repeat == NULL)
    return g_strdup (name);
  last = strrchr (name, '/');
  if (last > repeat && g_ascii_strncasecmp (last + 1, "relu", 4) == 0)
    return g_strdup_printf ("%.*s%s", (int) (repeat - name), name, last);
  return g_strndup (name, repeat - name);
}

static void
prefix_node_error (GError **error, const char *file, const GraftNode *node)
{
  g_prefix_error (error, "%s: node '%s' (%s): ", file, node->name,
                  node->op_type);
}

/* Kahn's algorithm over the ONNX node list; FALSE on a cycle or on an input
 * that nothing produces. order receives node indices. */
static gboolean
topological_order (const GraftOnnxGraph *g, Builder *b, int *order,
                   const char *file, GError **error)
{
  size_t n = g->n_nodes;
  g_autofree int *missing = g_new0 (int, n);
  g_autoptr (GHashTable) producer = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) consumers
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                               (GDestroyNotify) g_array_unref);
  g_autofree int *queue = g_new (int, n);
  size_t head = 0, tail = 0, done = 0;

  for (size_t i = 0; i < n; i++)
    for (size_t o = 0; o < g->nodes[i].n_outputs; o++)
      {
        const char *out = g->nodes[i].outputs[o];
        if (out[0] == '\0')
          continue;
        if (g_hash_table_contains (producer, out) || builder_lookup (b, out) >= 0)
          {
            g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                         "%s: value '%s' is produced twice", file, out);
            return FALSE;
          }
        g_hash_table_insert (producer, (gpointer) out, GSIZE_TO_POINTER (i + 1));
      }

  for (size_t i = 0; i < n; i++)
    {
      for (size_t k = 0; k < g->nodes[i].n_inputs; k++)
        {
          const char *in = g->nodes[i].inputs[k];
          GArray *list;
          if (in[0] == '\0' || builder_lookup (b, in) >= 0)
            continue;
          if (!g_hash_table_contains (producer, in))
            {
              g_autofree char *name = node_display_name (&g->nodes[i], i);
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "%s: node '%s' (%s): input '%s' is not a graph "
                           "input, an initializer or any node's output",
                           file, name, g->nodes[i].op_type, in);
              return FALSE;
            }
          missing[i]++;
          list = g_hash_table_lookup (consumers, in);
          if (list == NULL)
            {
              list = g_array_new (FALSE, FALSE, sizeof (int));
              g_hash_table_insert (consumers, (gpointer) in, list);
            }
          g_array_append_val (list, i);
        }
      if (missing[i] == 0)
        queue[tail++] = (int) i;
    }

  while (head < tail)
    {
      int i = queue[head++];
      order[done++] = i;
      for (size_t o = 0; o < g->nodes[i].n_outputs; o++)
        {
          GArray *list = g_hash_table_lookup (consumers, g->nodes[i].outputs[o]);
          if (list == NULL || g->nodes[i].outputs[o][0] == '\0')
            continue;
          for (guint c = 0; c < list->len; c++)
            {
              int j = g_array_index (list, int, c);
              if (--missing[j] == 0)
                queue[tail++] = j;
            }
        }
    }
  if (done != n)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: the graph has a cycle (%zu of %zu nodes cannot be "
                   "ordered)",
                   file, n - done, n);
      return FALSE;
    }
  return TRUE;
}

static gboolean
bind_node (GraftGraph *graph, Builder *b, GraftNode *node,
           const GraftOnnxNode *proto, int64_t opset, GError **error)
{
  const GraftOpDef *def;

  if (proto->domain && proto->domain[0] && strcmp (proto->domain, "ai.onnx") != 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "operators of domain '%s' are not supported", proto->domain);
      return FALSE;
    }
  def = graft_op_lookup (proto->op_type);
  if (def == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "operator %s is not supported", proto->op_type);
      return FALSE;
    }
  node->def = def;
  node->proto = proto;
  if (proto->n_inputs > GRAFT_NODE_MAX_IO || proto->n_outputs > GRAFT_NODE_MAX_IO)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "has %zu inputs and %zu outputs, at most %d each are "
                   "supported",
                   proto->n_inputs, proto->n_outputs, GRAFT_NODE_MAX_IO);
      return FALSE;
    }
  if ((int) proto->n_inputs < def->min_inputs
      || (int) proto->n_inputs > def->max_inputs)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "has %zu inputs, expected %d to %d", proto->n_inputs,
                   def->min_inputs, def->max_inputs);
      return FALSE;
    }
  if ((int) proto->n_outputs < def->min_outputs
      || (int) proto->n_outputs > def->max_outputs)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "has %zu outputs, expected %d to %d", proto->n_outputs,
                   def->min_outputs, def->max_outputs);
      return FALSE;
    }
  for (size_t a = 0; a < proto->n_attrs; a++)
    if (proto->attrs[a].has_graph || proto->attrs[a].type == GRAFT_ATTR_GRAPH)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                     "graph-valued attribute '%s' is not supported",
                     proto->attrs[a].name);
        return FALSE;
      }

  node->n_inputs = (int) proto->n_inputs;
  node->inputs = g_new (int, MAX (node->n_inputs, 1));
  for (int k = 0; k < node->n_inputs; k++)
    node->inputs[k] = proto->inputs[k][0] ? builder_lookup (b, proto->inputs[k]) : -1;
  node->n_outputs = (int) proto->n_outputs;
  node->outputs = g_new (int, MAX (node->n_outputs, 1));
  for (int k = 0; k < node->n_outputs; k++)
    {
      /* An unnamed optional output still gets a value, so ops can write it. */
      const char *name = proto->outputs[k];
      g_autofree char *anon = NULL;
      if (name[0] == '\0')
        name = anon = g_strdup_printf ("%s:unused%d", node->name, k);
      node->outputs[k] = builder_add_value (b, name);
      g_array_index (b->values, GraftValue, node->outputs[k]).producer
          = graph->n_nodes;
    }
  return def->prepare == NULL || def->prepare (node, proto, opset, error);
}

/* Runs a node whose inputs are all constants and stores its outputs as new
 * constants. FALSE with an error when infer() rejects the node. */
static gboolean
fold_node (GraftValue *values, const GraftNode *node, GError **error)
{
  GraftValueInfo in_info[GRAFT_NODE_MAX_IO], out_info[GRAFT_NODE_MAX_IO];
  const GraftValueInfo *in_ptr[GRAFT_NODE_MAX_IO];
  GraftValueInfo *out_ptr[GRAFT_NODE_MAX_IO];
  const GraftTensor *in_t[GRAFT_NODE_MAX_IO];
  GraftTensor *out_t[GRAFT_NODE_MAX_IO] = { 0 };
  GraftWorkspace ws = { 0 };

  g_assert (node->n_inputs <= GRAFT_NODE_MAX_IO
            && node->n_outputs <= GRAFT_NODE_MAX_IO);
  for (int k = 0; k < node->n_inputs; k++)
    {
      int v = node->inputs[k];
      if (v < 0)
        {
          in_ptr[k] = NULL;
          in_t[k] = NULL;
          continue;
        }
      in_info[k].dtype = values[v].constant->dtype;
      in_info[k].shape = values[v].constant->shape;
      in_info[k].constant = values[v].constant;
      in_ptr[k] = &in_info[k];
      in_t[k] = values[v].constant;
    }
  for (int k = 0; k < node->n_outputs; k++)
    {
      memset (&out_info[k], 0, sizeof out_info[k]);
      out_ptr[k] = &out_info[k];
    }
  if (!node->def->infer (node, in_ptr, out_ptr, error))
    return FALSE;
  for (int k = 0; k < node->n_outputs; k++)
    {
      out_t[k] = graft_tensor_new (out_info[k].dtype, &out_info[k].shape, error);
      if (out_t[k] == NULL)
        {
          for (int j = 0; j < k; j++)
            graft_tensor_free (out_t[j]);
          return FALSE;
        }
    }
  node->def->forward (node, in_t, out_t, &ws);
  graft_workspace_clear (&ws);
  for (int k = 0; k < node->n_outputs; k++)
    values[node->outputs[k]].constant = out_t[k];
  return TRUE;
}

/* TRUE when every given input is a constant; a node without inputs
 * (Constant) qualifies too. */
static gboolean
node_inputs_constant (const GraftValue *values, const GraftNode *node)
{
  for (int k = 0; k < node->n_inputs; k++)
    if (node->inputs[k] >= 0 && values[node->inputs[k]].constant == NULL)
      return FALSE;
  return TRUE;
}

GraftGraph *
graft_graph_new (GraftOnnxModel *model, const char *display_name, GError **error)
{
  g_autoptr (GraftGraph) graph = g_new0 (GraftGraph, 1);
  const GraftOnnxGraph *g = &model->graph;
  int64_t opset = graft_onnx_model_opset (model);
  Builder b;
  g_autofree int *order = NULL;
  g_autofree gboolean *folded = NULL;
  GArray *inputs, *kept;
  gboolean ok = TRUE;

  graph->model = model;
  graph->display_name = g_strdup (display_name ? display_name : "model");
  b.graph = graph;
  b.values = g_array_new (FALSE, TRUE, sizeof (GraftValue));
  b.by_name = g_hash_table_new (g_str_hash, g_str_equal);

  for (size_t i = 0; i < g->n_initializers; i++)
    {
      int v;
      if (builder_lookup (&b, g->initializers[i].name) >= 0)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s: initializer '%s' appears twice",
                       graph->display_name, g->initializers[i].name);
          ok = FALSE;
          break;
        }
      v = builder_add_value (&b, g->initializers[i].name);
      g_array_index (b.values, GraftValue, v).constant
          = graft_tensor_copy (g->initializers[i].tensor);
      g_array_index (b.values, GraftValue, v).dtype
          = g->initializers[i].tensor->dtype;
    }

  inputs = g_array_new (FALSE, FALSE, sizeof (int));
  for (size_t i = 0; ok && i < g->n_inputs; i++)
    {
      int v = builder_lookup (&b, g->inputs[i].name);
      if (v >= 0)
        continue; /* an initializer listed as input (old exporters) */
      v = builder_add_value (&b, g->inputs[i].name);
      value_set_declared (&g_array_index (b.values, GraftValue, v), &g->inputs[i]);
      if (g_array_index (b.values, GraftValue, v).dtype == GRAFT_DTYPE_UNDEFINED)
        g_array_index (b.values, GraftValue, v).dtype = GRAFT_DTYPE_FLOAT;
      g_array_append_val (inputs, v);
    }

  order = g_new0 (int, MAX (g->n_nodes, 1));
  if (ok)
    ok = topological_order (g, &b, order, graph->display_name, error);

  graph->nodes = g_new0 (GraftNode, MAX (g->n_nodes, 1));
  for (size_t i = 0; ok && i < g->n_nodes; i++)
    {
      const GraftOnnxNode *proto = &g->nodes[order[i]];
      GraftNode *node = &graph->nodes[graph->n_nodes];
      node->name = node_display_name (proto, order[i]);
      node->label = node_label (node->name);
      node->op_type = g_strdup (proto->op_type);
      if (!bind_node (graph, &b, node, proto, opset, error))
        {
          prefix_node_error (error, graph->display_name, node);
          ok = FALSE;
        }
      graph->n_nodes++;
    }

  graph->values = (GraftValue *) b.values->data;
  graph->n_values = (int) b.values->len;
  g_array_free (b.values, FALSE);
  g_hash_table_unref (b.by_name);
  graph->n_inputs = (int) inputs->len;
  graph->inputs = (int *) g_array_free (inputs, FALSE);
  if (!ok)
    return NULL;

  /* Declared shapes of intermediate and output values, for messages. */
  for (size_t i = 0; i < g->n_value_info + g->n_outputs; i++)
    {
      const GraftOnnxValueInfo *vi = i < g->n_value_info
                                         ? &g->value_info[i]
                                         : &g->outputs[i - g->n_value_info];
      int v = graft_graph_find_value (graph, vi->name);
      if (v >= 0 && graph->values[v].constant == NULL
          && graph->values[v].producer >= 0)
        value_set_declared (&graph->values[v], vi);
    }

  graph->n_outputs = (int) g->n_outputs;
  graph->outputs = g_new (int, MAX (graph->n_outputs, 1));
  for (int i = 0; i < graph->n_outputs; i++)
    {
      graph->outputs[i] = graft_graph_find_value (graph, g->outputs[i].name);
      if (graph->outputs[i] < 0)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s: graph output '%s' is not produced by any node",
                       graph->display_name, g->outputs[i].name);
          return NULL;
        }
    }
  if (graph->n_outputs == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: the graph has no outputs", graph->display_name);
      return NULL;
    }

  /* Fold initializer-only nodes at load, then drop them. */
  folded = g_new0 (gboolean, MAX (graph->n_nodes, 1));
  for (int i = 0; i < graph->n_nodes; i++)
    {
      GraftNode *node = &graph->nodes[i];
      if (!node_inputs_constant (graph->values, node))
        continue;
      if (!fold_node (graph->values, node, error))
        {
          prefix_node_error (error, graph->display_name, node);
          return NULL;
        }
      folded[i] = TRUE;
    }
  kept = g_array_new (FALSE, FALSE, sizeof (GraftNode));
  for (int i = 0; i < graph->n_nodes; i++)
    {
      if (folded[i])
        {
          for (int k = 0; k < graph->nodes[i].n_outputs; k++)
            graph->values[graph->nodes[i].outputs[k]].producer = -1;
          node_clear (&graph->nodes[i]);
          continue;
        }
      for (int k = 0; k < graph->nodes[i].n_outputs; k++)
        graph->values[graph->nodes[i].outputs[k]].producer = (int) kept->len;
      g_array_append_val (kept, graph->nodes[i]);
    }
  g_free (graph->nodes);
  graph->n_nodes = (int) kept->len;
  graph->nodes = (GraftNode *) g_array_free (kept, FALSE);
  for (int i = 0; i < graph->n_nodes; i++)
    graph->nodes[i].id = i;

  return g_steal_pointer (&graph);
}

GraftGraph *
graft_graph_load (const char *path, GError **error)
{
  GraftOnnxModel *model = graft_onnx_model_load (path, error);
  if (model == NULL)
    return NULL;
  return graft_graph_new (model, path, error);
}

int64_t
graft_graph_node_params (const GraftGraph *graph, int node)
{
  const GraftNode *n = &graph->nodes[node];
  int64_t total = 0;
  for (int k = 0; k < n->n_inputs; k++)
    {
      int v = n->inputs[k];
      /* Scalars are settings (Clip bounds), not learned parameters. */
      if (v >= 0 && graph->values[v].constant
          && graph->values[v].constant->dtype == GRAFT_DTYPE_FLOAT
          && graph->values[v].constant->shape.ndim > 0)
        total += graft_tensor_numel (graph->values[v].constant);
    }
  return total;
}

/* ---- plans ---- */

void
graft_plan_free (GraftPlan *plan)
{
  if (plan == NULL)
    return;
  for (int i = 0; i < plan->graph->n_values; i++)
    if (plan->owned[i])
      graft_tensor_free (plan->tensors[i]);
  g_free (plan->tensors);
  g_free (plan->owned);
  g_free (plan->info);
  g_free (plan->node_folded);
  g_free (plan->fused_act);
  g_free (plan->absorbed_into);
  g_free (plan->clamps);
  graft_workspace_clear (&plan->ws);
  g_free (plan);
}

static gboolean
check_input_shape (const GraftGraph *graph, const GraftValue *v,
                   const GraftShape *shape, GError **error)
{
  if (v->declared_ndim < 0)
    return TRUE;
  if (v->declared_ndim != shape->ndim)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: input '%s' has %d dimensions, the model expects %d",
                   graph->display_name, v->name, shape->ndim, v->declared_ndim);
      return FALSE;
    }
  for (int d = 0; d < shape->ndim; d++)
    if (v->declared_dims[d] >= 0 && v->declared_dims[d] != shape->dims[d])
      {
        g_autofree char *got = graft_shape_to_string (shape);
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                     "%s: input '%s' is %s, but the model expects size %"
                     G_GINT64_FORMAT " in dimension %d",
                     graph->display_name, v->name, got, v->declared_dims[d], d);
        return FALSE;
      }
  return TRUE;
}

static gboolean
dtype_is_integer (GraftDType t)
{
  return t == GRAFT_DTYPE_INT64 || t == GRAFT_DTYPE_INT32;
}

GraftPlan *
graft_plan_new (GraftGraph *graph, const GraftShape *input_shapes,
                const GraftTensor *const *input_values, GError **error)
{
  g_autoptr (GraftPlan) plan = g_new0 (GraftPlan, 1);
  int nv = graph->n_values;

  plan->graph = graph;
  plan->info = g_new0 (GraftValueInfo, MAX (nv, 1));
  plan->tensors = g_new0 (GraftTensor *, MAX (nv, 1));
  plan->owned = g_new0 (gboolean, MAX (nv, 1));
  plan->node_folded = g_new0 (gboolean, MAX (graph->n_nodes, 1));

  for (int i = 0; i < nv; i++)
    if (graph->values[i].constant)
      {
        plan->tensors[i] = graph->values[i].constant;
        plan->info[i].dtype = graph->values[i].constant->dtype;
        plan->info[i].shape = graph->values[i].constant->shape;
        plan->info[i].constant = graph->values[i].constant;
      }

  for (int i = 0; i < graph->n_inputs; i++)
    {
      int v = graph->inputs[i];
      const GraftValue *value = &graph->values[v];
      if (!check_input_shape (graph, value, &input_shapes[i], error))
        return NULL;
      if (dtype_is_integer (value->dtype))
        {
          if (input_values == NULL || input_values[i] == NULL)
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "%s: integer input '%s' must be given by value",
                           graph->display_name, value->name);
              return NULL;
            }
          plan->tensors[v] = graft_tensor_copy (input_values[i]);
          plan->info[v].constant = plan->tensors[v];
        }
      else
        plan->tensors[v] = graft_tensor_new (value->dtype, &input_shapes[i], error);
      if (plan->tensors[v] == NULL)
        return NULL;
      plan->owned[v] = TRUE;
      plan->info[v].dtype = value->dtype;
      plan->info[v].shape = plan->tensors[v]->shape;
    }

  for (int n = 0; n < graph->n_nodes; n++)
    {
      const GraftNode *node = &graph->nodes[n];
      const GraftValueInfo *in[GRAFT_NODE_MAX_IO];
      GraftValueInfo *out[GRAFT_NODE_MAX_IO];
      const GraftTensor *in_t[GRAFT_NODE_MAX_IO];
      gboolean all_constant = TRUE;

      g_assert (node->n_inputs <= GRAFT_NODE_MAX_IO
            && node->n_outputs <= GRAFT_NODE_MAX_IO);
      for (int k = 0; k < node->n_inputs; k++)
        {
          int v = node->inputs[k];
          in[k] = v >= 0 ? &plan->info[v] : NULL;
          in_t[k] = v >= 0 ? plan->tensors[v] : NULL;
          if (v >= 0 && plan->info[v].constant == NULL)
            all_constant = FALSE;
        }
      for (int k = 0; k < node->n_outputs; k++)
        out[k] = &plan->info[node->outputs[k]];
      if (!node->def->infer (node, in, out, error))
        {
          prefix_node_error (error, graph->display_name, node);
          return NULL;
        }
      for (int k = 0; k < node->n_outputs; k++)
        {
          int v = node->outputs[k];
          plan->tensors[v] = graft_tensor_new (plan->info[v].dtype,
                                               &plan->info[v].shape, error);
          if (plan->tensors[v] == NULL)
            {
              prefix_node_error (error, graph->display_name, node);
              return NULL;
            }
          plan->owned[v] = TRUE;
        }
      if (all_constant || node->def->shape_only)
        {
          GraftTensor *out_t[GRAFT_NODE_MAX_IO];
          for (int k = 0; k < node->n_outputs; k++)
            {
              out_t[k] = plan->tensors[node->outputs[k]];
              plan->info[node->outputs[k]].constant = out_t[k];
            }
          node->def->forward (node, in_t, out_t, &plan->ws);
          plan->node_folded[n] = TRUE;
        }
    }
  return g_steal_pointer (&plan);
}

const GraftValueInfo *
graft_plan_value_info (const GraftPlan *plan, int value)
{
  g_return_val_if_fail (value >= 0 && value < plan->graph->n_values, NULL);
  return &plan->info[value];
}

const GraftTensor *
graft_plan_get (const GraftPlan *plan, int value)
{
  g_return_val_if_fail (value >= 0 && value < plan->graph->n_values, NULL);
  return plan->tensors[value];
}

gboolean
graft_plan_run (GraftPlan *plan, const GraftTensor *const *inputs,
                GError **error)
{
  GraftGraph *graph = plan->graph;

  for (int i = 0; i < graph->n_inputs; i++)
    {
      GraftTensor *dst = plan->tensors[graph->inputs[i]];
      if (plan->info[graph->inputs[i]].constant)
        continue; /* bound by value when the plan was made */
      if (inputs[i]->dtype != dst->dtype
          || !graft_shape_equal (&inputs[i]->shape, &dst->shape))
        {
          g_autofree char *want = graft_shape_to_string (&dst->shape);
          g_autofree char *got = graft_shape_to_string (&inputs[i]->shape);
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s: input '%s' is %s %s, expected %s %s",
                       graph->display_name, graph->values[graph->inputs[i]].name,
                       graft_dtype_name (inputs[i]->dtype), got,
                       graft_dtype_name (dst->dtype), want);
          return FALSE;
        }
      memcpy (dst->data, inputs[i]->data, graft_tensor_nbytes (dst));
    }

  for (int n = 0; n < graph->n_nodes; n++)
    graft_plan_forward_node (plan, n, FALSE);
  return TRUE;
}

GraftTensor *
graft_plan_tensor (GraftPlan *plan, int value)
{
  g_return_val_if_fail (value >= 0 && value < plan->graph->n_values, NULL);
  return plan->tensors[value];
}

GraftWorkspace *
graft_plan_workspace (GraftPlan *plan)
{
  return &plan->ws;
}

gboolean
graft_plan_node_folded (const GraftPlan *plan, int node)
{
  return plan->node_folded[node];
}

/* Tells the op of node n, through ws, of the activation fused into it. */
static void
set_fused_clamp (GraftPlan *plan, int n)
{
  GraftWorkspace *ws = &plan->ws;
  ws->clamp = plan->fused_act && plan->fused_act[n] >= 0;
  if (!ws->clamp)
    return;
  ws->clamp_lo = plan->clamps[n].lo;
  ws->clamp_hi = plan->clamps[n].hi;
  ws->clamp_upper_inclusive = plan->clamps[n].upper_inclusive;
}

void
graft_plan_forward_node (GraftPlan *plan, int n, gboolean train)
{
  const GraftNode *node = &plan->graph->nodes[n];
  GraftTensor *in_t[GRAFT_NODE_MAX_IO];
  GraftTensor *out_t[GRAFT_NODE_MAX_IO];

  if (plan->node_folded[n] || graft_plan_node_absorbed_into (plan, n) >= 0)
    return;
  for (int k = 0; k < node->n_inputs; k++)
    in_t[k] = node->inputs[k] >= 0 ? plan->tensors[node->inputs[k]] : NULL;
  for (int k = 0; k < node->n_outputs; k++)
    {
      out_t[k] = plan->tensors[node->outputs[k]];
      if (!node->def->overwrites_output)
        memset (out_t[k]->data, 0, graft_tensor_nbytes (out_t[k]));
    }
  set_fused_clamp (plan, n);
  if (train && node->def->forward_train)
    node->def->forward_train (node, in_t, out_t, &plan->ws);
  else
    node->def->forward (node, (const GraftTensor *const *) in_t, out_t, &plan->ws);
  plan->ws.clamp = FALSE;
}

void
graft_plan_backward_node (GraftPlan *plan, int n, gboolean train,
                          GraftTensor *const *grads)
{
  graft_plan_backward_node_assign (plan, n, train, grads, 0);
}

void
graft_plan_backward_node_assign (GraftPlan *plan,
                                 int n,
                                 gboolean train,
                                 GraftTensor *const *grads,
                                 guint64 assign)
{
  const GraftNode *node = &plan->graph->nodes[n];
  const GraftTensor *in_t[GRAFT_NODE_MAX_IO];
  const GraftTensor *out_t[GRAFT_NODE_MAX_IO];
  const GraftTensor *dout[GRAFT_NODE_MAX_IO];
  GraftTensor *din[GRAFT_NODE_MAX_IO];
  gboolean any = FALSE;

  if (graft_plan_node_absorbed_into (plan, n) >= 0)
    return; /* its node's backward masks the gradient */
  for (int k = 0; k < node->n_inputs; k++)
    {
      int v = node->inputs[k];
      in_t[k] = v >= 0 ? plan->tensors[v] : NULL;
      din[k] = v >= 0 ? grads[v] : NULL;
      any = any || din[k] != NULL;
    }
  for (int k = 0; k < node->n_outputs; k++)
    {
      out_t[k] = plan->tensors[node->outputs[k]];
      dout[k] = grads[node->outputs[k]];
    }
  dout[0] = grads[graft_plan_node_grad_output (plan, n)];
  if (!any || dout[0] == NULL)
    return;
  g_return_if_fail (node->def->backward != NULL);
  plan->ws.assign = 0;
  for (int k = 0; k < node->n_inputs && k < 64; k++)
    {
      gboolean shared = FALSE;
      if (din[k] == NULL || ((assign >> k) & 1) == 0)
        continue;
      /* Mul (x, x): both slots add into one tensor, so it must start at
       * zero. */
      for (int j = 0; j < node->n_inputs; j++)
        shared = shared || (j != k && din[j] == din[k]);
      if (shared || !node->def->backward_assigns)
        memset (din[k]->data, 0, graft_tensor_nbytes (din[k]));
      else
        plan->ws.assign |= (guint64) 1 << k;
    }
  set_fused_clamp (plan, n);
  node->def->backward (node, train, in_t, out_t, dout, din, &plan->ws);
  plan->ws.assign = 0;
  plan->ws.clamp = FALSE;
}

int
graft_plan_share_inplace (GraftPlan *plan, int first_node)
{
  GraftGraph *graph = plan->graph;
  g_autofree int *readers = g_new0 (int, MAX (graph->n_values, 1));
  int saved = 0;

  for (int n = 0; n < graph->n_nodes; n++)
    for (int k = 0; k < graph->nodes[n].n_inputs; k++)
      if (graph->nodes[n].inputs[k] >= 0)
        readers[graph->nodes[n].inputs[k]]++;
  for (int i = 0; i < graph->n_outputs; i++)
    readers[graph->outputs[i]]++;

  for (int n = MAX (first_node, 0); n < graph->n_nodes; n++)
    {
      const GraftNode *node = &graph->nodes[n];
      int v = node->inputs[0], out = node->outputs[0];
      int producer = v >= 0 ? graph->values[v].producer : -1;
      gboolean ok =
          node->def->inplace_forward && node->def->overwrites_output &&
          node->n_outputs == 1 && !plan->node_folded[n] && v >= 0 &&
          readers[v] == 1 && producer >= first_node && plan->owned[v] &&
          plan->info[v].constant == NULL &&
          graph->nodes[producer].def->backward_ignores_output &&
          plan->info[v].dtype == plan->info[out].dtype &&
          graft_shape_equal (&plan->info[v].shape, &plan->info[out].shape);
      for (int k = 1; ok && k < node->n_inputs; k++)
        ok = node->inputs[k] < 0 || plan->info[node->inputs[k]].constant;
      if (!ok)
        continue;
      /* The output takes over the input's buffer: v's own values are gone
       * once this node has run, which nothing reads afterwards. */
      graft_tensor_free (plan->tensors[out]);
      plan->tensors[out] = plan->tensors[v];
      plan->owned[out] = FALSE;
      saved++;
    }
  return saved;
}

int
graft_plan_fuse_activations (GraftPlan *plan, int first_node)
{
  GraftGraph *graph = plan->graph;
  g_autofree int *readers = g_new0 (int, MAX (graph->n_values, 1));
  int fused = 0;

  for (int n = 0; n < graph->n_nodes; n++)
    for (int k = 0; k < graph->nodes[n].n_inputs; k++)
      if (graph->nodes[n].inputs[k] >= 0)
        readers[graph->nodes[n].inputs[k]]++;
  for (int i = 0; i < graph->n_outputs; i++)
    readers[graph->outputs[i]]++;

  for (int a = MAX (first_node, 0); a < graph->n_nodes; a++)
    {
      const GraftNode *act = &graph->nodes[a];
      const GraftTensor *in_t[GRAFT_NODE_MAX_IO];
      int v = act->inputs[0];
      int b = v >= 0 ? graph->values[v].producer : -1;
      FusedClamp c;
      /* In place over the output of b, which nothing else reads (the
       * sharing already checked most of this; the fusion depends on it). */
      gboolean ok = act->def->clamp_bounds && !plan->node_folded[a] &&
                    act->n_outputs == 1 && b >= MAX (first_node, 0) &&
                    !plan->node_folded[b] &&
                    graph->nodes[b].def->fuses_clamp &&
                    graph->nodes[b].outputs[0] == v && readers[v] == 1 &&
                    plan->tensors[act->outputs[0]] == plan->tensors[v] &&
                    (plan->fused_act == NULL || plan->fused_act[b] < 0);
      for (int k = 1; ok && k < act->n_inputs; k++)
        ok = act->inputs[k] < 0 || plan->info[act->inputs[k]].constant;
      if (!ok)
        continue;
      for (int k = 0; k < act->n_inputs; k++)
        in_t[k] = act->inputs[k] >= 0 ? plan->tensors[act->inputs[k]] : NULL;
      if (!act->def->clamp_bounds (act, in_t, &c.lo, &c.hi,
                                   &c.upper_inclusive))
        continue;
      if (plan->fused_act == NULL)
        {
          plan->fused_act = g_new (int, graph->n_nodes);
          plan->absorbed_into = g_new (int, graph->n_nodes);
          plan->clamps = g_new0 (FusedClamp, graph->n_nodes);
          for (int n = 0; n < graph->n_nodes; n++)
            plan->fused_act[n] = plan->absorbed_into[n] = -1;
        }
      plan->fused_act[b] = a;
      plan->absorbed_into[a] = b;
      plan->clamps[b] = c;
      fused++;
    }
  return fused;
}

int
graft_plan_node_absorbed_into (const GraftPlan *plan, int node)
{
  return plan->absorbed_into ? plan->absorbed_into[node] : -1;
}

int
graft_plan_node_grad_output (const GraftPlan *plan, int node)
{
  const GraftGraph *graph = plan->graph;
  if (plan->fused_act && plan->fused_act[node] >= 0)
    return graph->nodes[plan->fused_act[node]].outputs[0];
  return graph->nodes[node].outputs[0];
}

GraftTensor **
graft_graph_run (GraftGraph *graph, const GraftTensor *const *inputs,
                 GError **error)
{
  g_autofree GraftShape *shapes = g_new0 (GraftShape, MAX (graph->n_inputs, 1));
  g_autoptr (GraftPlan) plan = NULL;
  GraftTensor **outputs;

  for (int i = 0; i < graph->n_inputs; i++)
    shapes[i] = inputs[i]->shape;
  plan = graft_plan_new (graph, shapes, inputs, error);
  if (plan == NULL || !graft_plan_run (plan, inputs, error))
    return NULL;
  outputs = g_new0 (GraftTensor *, graph->n_outputs);
  for (int i = 0; i < graph->n_outputs; i++)
    outputs[i] = graft_tensor_copy (plan->tensors[graph->outputs[i]]);
  return outputs;
}
