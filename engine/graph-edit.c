/* graph-edit.c: graph surgery and writing a graph back out. */
#include "graph-edit.h"

#include "config.h"
#include "graft-error.h"

#include <math.h>
#include <string.h>

static void
attr_copy (GraftOnnxAttribute *dst, const GraftOnnxAttribute *src)
{
  *dst = *src;
  dst->name = g_strdup (src->name);
  dst->s = src->s ? g_memdup2 (src->s, strlen (src->s) + 1) : NULL;
  dst->t = src->t ? graft_tensor_copy (src->t) : NULL;
  dst->floats = src->n_floats ? g_memdup2 (src->floats, src->n_floats * sizeof (float)) : NULL;
  dst->ints = src->n_ints ? g_memdup2 (src->ints, src->n_ints * sizeof (int64_t)) : NULL;
  dst->strings = NULL;
  if (src->n_strings)
    {
      dst->strings = g_new0 (char *, src->n_strings);
      for (size_t i = 0; i < src->n_strings; i++)
        dst->strings[i] = g_strdup (src->strings[i]);
    }
}

static char **
strv_from_values (const GraftGraph *graph, const int *values, int n,
                  char *const *proto_names)
{
  char **names = g_new0 (char *, MAX (n, 1));
  for (int i = 0; i < n; i++)
    {
      /* An omitted optional input or an unnamed output stays "". */
      gboolean omitted = values[i] < 0 || (proto_names && proto_names[i][0] == '\0');
      names[i] = g_strdup (omitted ? "" : graph->values[values[i]].name);
    }
  return names;
}

static void
value_info_set (GraftOnnxValueInfo *vi, const char *name, GraftDType dtype,
                int ndim, const int64_t *dims)
{
  memset (vi, 0, sizeof *vi);
  vi->name = g_strdup (name);
  vi->elem_type = dtype;
  vi->ndim = ndim;
  for (int d = 0; d < ndim; d++)
    {
      vi->dims[d] = dims[d];
      if (dims[d] < 0)
        vi->dim_params[d] = g_strdup (d == 0 ? "batch" : "unknown");
    }
}

GraftOnnxModel *
graft_graph_to_model (const GraftGraph *graph, int n_nodes, const int *outputs,
                      int n_outputs)
{
  const GraftOnnxModel *src = graph->model;
  GraftOnnxModel *m = g_new0 (GraftOnnxModel, 1);
  GraftOnnxGraph *g = &m->graph;
  g_autofree gboolean *needed = g_new0 (gboolean, MAX (graph->n_values, 1));
  gboolean has_default_opset = FALSE;

  m->ir_version = MAX (src->ir_version, 7);
  m->producer_name = g_strdup ("Graft");
  m->producer_version = g_strdup (GRAFT_VERSION);
  m->domain = g_strdup (src->domain ? src->domain : "");
  m->doc_string = g_strdup (src->doc_string ? src->doc_string : "");
  m->model_version = src->model_version;
  m->n_opsets = src->n_opsets;
  m->opsets = g_new0 (GraftOnnxOpset, MAX (src->n_opsets, 1) + 1);
  for (size_t i = 0; i < src->n_opsets; i++)
    {
      m->opsets[i].domain = g_strdup (src->opsets[i].domain);
      m->opsets[i].version = src->opsets[i].version;
      if (src->opsets[i].domain[0] == '\0' || g_str_equal (src->opsets[i].domain, "ai.onnx"))
        has_default_opset = TRUE;
    }
  if (!has_default_opset)
    {
      m->opsets[m->n_opsets].domain = g_strdup ("");
      m->opsets[m->n_opsets++].version = 13;
    }
  m->n_metadata = src->n_metadata;
  m->metadata = g_new0 (GraftOnnxStringPair, MAX (src->n_metadata, 1));
  for (size_t i = 0; i < src->n_metadata; i++)
    {
      m->metadata[i].key = g_strdup (src->metadata[i].key);
      m->metadata[i].value = g_strdup (src->metadata[i].value);
    }

  g->name = g_strdup (src->graph.name && src->graph.name[0] ? src->graph.name : "graft");
  g->n_nodes = n_nodes;
  g->nodes = g_new0 (GraftOnnxNode, MAX (n_nodes, 1));
  for (int i = 0; i < n_nodes; i++)
    {
      const GraftNode *node = &graph->nodes[i];
      const GraftOnnxNode *proto = node->proto;
      GraftOnnxNode *dst = &g->nodes[i];
      dst->name = g_strdup (node->name);
      dst->op_type = g_strdup (node->op_type);
      dst->domain = g_strdup (proto->domain ? proto->domain : "");
      dst->n_inputs = node->n_inputs;
      dst->inputs = strv_from_values (graph, node->inputs, node->n_inputs, NULL);
      dst->n_outputs = node->n_outputs;
      dst->outputs = strv_from_values (graph, node->outputs, node->n_outputs, proto->outputs);
      dst->n_attrs = proto->n_attrs;
      dst->attrs = g_new0 (GraftOnnxAttribute, MAX (proto->n_attrs, 1));
      for (size_t a = 0; a < proto->n_attrs; a++)
        attr_copy (&dst->attrs[a], &proto->attrs[a]);
      for (int k = 0; k < node->n_inputs; k++)
        if (node->inputs[k] >= 0 && graph->values[node->inputs[k]].constant)
          needed[node->inputs[k]] = TRUE;
    }
  for (int o = 0; o < n_outputs; o++)
    if (graph->values[outputs[o]].constant)
      needed[outputs[o]] = TRUE;

  g->initializers = g_new0 (GraftOnnxNamedTensor, MAX (graph->n_values, 1));
  for (int v = 0; v < graph->n_values; v++)
    if (needed[v])
      {
        GraftOnnxNamedTensor *t = &g->initializers[g->n_initializers++];
        t->name = g_strdup (graph->values[v].name);
        t->tensor = graft_tensor_copy (graph->values[v].constant);
      }

  g->n_inputs = graph->n_inputs;
  g->inputs = g_new0 (GraftOnnxValueInfo, MAX (graph->n_inputs, 1));
  for (int i = 0; i < graph->n_inputs; i++)
    {
      const GraftValue *v = &graph->values[graph->inputs[i]];
      value_info_set (&g->inputs[i], v->name, v->dtype, MAX (v->declared_ndim, 0),
                      v->declared_dims);
    }
  g->n_outputs = n_outputs;
  g->outputs = g_new0 (GraftOnnxValueInfo, MAX (n_outputs, 1));
  for (int o = 0; o < n_outputs; o++)
    {
      const GraftValue *v = &graph->values[outputs[o]];
      value_info_set (&g->outputs[o], v->name,
                      v->dtype ? v->dtype : GRAFT_DTYPE_FLOAT, -1, NULL);
    }
  g->value_info = NULL;
  return m;
}

/* Appends a node to a model under construction. */
static GraftOnnxNode *
add_node (GraftOnnxGraph *g, const char *name, const char *op_type,
          const char *const *inputs, int n_inputs, const char *output)
{
  GraftOnnxNode *n;
  g->nodes = g_renew (GraftOnnxNode, g->nodes, g->n_nodes + 1);
  n = &g->nodes[g->n_nodes++];
  memset (n, 0, sizeof *n);
  n->name = g_strdup (name);
  n->op_type = g_strdup (op_type);
  n->domain = g_strdup ("");
  n->n_inputs = n_inputs;
  n->inputs = g_new0 (char *, MAX (n_inputs, 1));
  for (int i = 0; i < n_inputs; i++)
    n->inputs[i] = g_strdup (inputs[i]);
  n->n_outputs = 1;
  n->outputs = g_new0 (char *, 1);
  n->outputs[0] = g_strdup (output);
  return n;
}

static void
add_int_attr (GraftOnnxNode *n, const char *name, int64_t value)
{
  GraftOnnxAttribute *a;
  n->attrs = g_renew (GraftOnnxAttribute, n->attrs, n->n_attrs + 1);
  a = &n->attrs[n->n_attrs++];
  memset (a, 0, sizeof *a);
  a->name = g_strdup (name);
  a->type = GRAFT_ATTR_INT;
  a->i = value;
}

static void
add_initializer (GraftOnnxGraph *g, const char *name, GraftTensor *tensor)
{
  GraftOnnxNamedTensor *t;
  g->initializers = g_renew (GraftOnnxNamedTensor, g->initializers, g->n_initializers + 1);
  t = &g->initializers[g->n_initializers++];
  t->name = g_strdup (name);
  t->tensor = tensor;
}

/* splitmix64: a small, well-mixed generator for reproducible weights. */
static double
next_uniform (guint64 *state)
{
  guint64 z = (*state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return (double) (z >> 11) * (1.0 / 9007199254740992.0);
}

/* A Gemm (x W^T + b) of fan_in -> fan_out, weights as nn.Linear's. */
static void
add_linear (GraftOnnxGraph *g, const char *name, const char *input, const char *output,
            int fan_in, int fan_out, guint64 *rng)
{
  g_autofree char *w_name = g_strdup_printf ("%s.weight", name);
  g_autofree char *b_name = g_strdup_printf ("%s.bias", name);
  GraftShape ws = graft_shape_make (2, (int64_t[]){ fan_out, fan_in });
  GraftShape bs = graft_shape_make (1, (int64_t[]){ fan_out });
  GraftTensor *w = graft_tensor_new_float (&ws);
  GraftTensor *b = graft_tensor_new_float (&bs);
  float bound = 1.0f / sqrtf ((float) fan_in);
  const char *inputs[] = { input, w_name, b_name };
  GraftOnnxNode *n;

  for (int64_t i = 0; i < graft_tensor_numel (w); i++)
    ((float *) w->data)[i] = (float) ((2 * next_uniform (rng) - 1) * bound);
  for (int64_t i = 0; i < fan_out; i++)
    ((float *) b->data)[i] = (float) ((2 * next_uniform (rng) - 1) * bound);
  add_initializer (g, w_name, w);
  add_initializer (g, b_name, b);
  n = add_node (g, name, "Gemm", inputs, 3, output);
  add_int_attr (n, "transB", 1);
}

static void
add_dropout (GraftOnnxGraph *g, const char *name, const char *input, const char *output,
             float ratio)
{
  g_autofree char *ratio_name = g_strdup_printf ("%s.ratio", name);
  GraftShape scalar = { 0 };
  GraftTensor *r = graft_tensor_new_float (&scalar);
  const char *inputs[] = { input, ratio_name };

  *(float *) r->data = ratio;
  add_initializer (g, ratio_name, r);
  add_node (g, name, "Dropout", inputs, 2, output);
}

/* Before opset 12, Dropout took its ratio as an attribute. */
static void
add_dropout_attr (GraftOnnxGraph *g, const char *name, const char *input,
                  const char *output, float ratio)
{
  const char *inputs[] = { input };
  GraftOnnxNode *n = add_node (g, name, "Dropout", inputs, 1, output);
  GraftOnnxAttribute *a;
  n->attrs = g_renew (GraftOnnxAttribute, n->attrs, n->n_attrs + 1);
  a = &n->attrs[n->n_attrs++];
  memset (a, 0, sizeof *a);
  a->name = g_strdup ("ratio");
  a->type = GRAFT_ATTR_FLOAT;
  a->f = ratio;
}

GraftGraph *
graft_graph_new_with_head (const GraftGraph *base, int feature_node,
                           const GraftHeadConfig *config, GError **error)
{
  int feature_value;
  int64_t n_features;
  GraftOnnxModel *m;
  GraftOnnxGraph *g;
  guint64 rng = config->seed ^ 0x6772616674ull;
  g_autoptr (GraftPlan) plan = NULL;
  const char *x;
  g_autofree char *display = NULL;

  if (feature_node < 0 || feature_node >= base->n_nodes)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: no layer to attach a new classifier to", base->display_name);
      return NULL;
    }
  if (config->n_classes < 2)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "a classifier needs at least two classes, not %d", config->n_classes);
      return NULL;
    }
  feature_value = base->nodes[feature_node].outputs[0];

  /* The feature size comes from the shapes at the model's own input size. */
  {
    const GraftValue *in = &base->values[base->inputs[0]];
    GraftShape shape = { .ndim = in->declared_ndim };
    for (int d = 0; d < in->declared_ndim; d++)
      shape.dims[d] = in->declared_dims[d] > 0 ? in->declared_dims[d] : 1;
    if (in->declared_ndim != 4 || in->declared_dims[2] <= 0)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                     "%s: the input size is not fixed in the file", base->display_name);
        return NULL;
      }
    plan = graft_plan_new ((GraftGraph *) base, &shape, NULL, error);
    if (plan == NULL)
      return NULL;
    n_features = graft_shape_numel (&graft_plan_value_info (plan, feature_value)->shape);
  }

  m = graft_graph_to_model (base, feature_node + 1, &feature_value, 1);
  g = &m->graph;
  /* The head's nodes replace the outputs. */
  for (size_t i = 0; i < g->n_outputs; i++)
    g_free (g->outputs[i].name);
  x = base->values[feature_value].name;
  {
    const char *in[] = { x };
    GraftOnnxNode *flat = add_node (g, "head/flatten", "Flatten", in, 1, "head/features");
    add_int_attr (flat, "axis", 1);
    x = "head/features";
  }
  if (config->hidden > 0)
    {
      const char *in[] = { "head/hidden" };
      add_linear (g, "head/hidden_fc", x, "head/hidden", (int) n_features, config->hidden, &rng);
      add_node (g, "head/hidden_relu", "Relu", in, 1, "head/hidden_relu");
      x = "head/hidden_relu";
      n_features = config->hidden;
    }
  if (config->dropout > 0)
    {
      if (graft_onnx_model_opset (m) >= 12)
        add_dropout (g, "head/dropout", x, "head/dropped", config->dropout);
      else
        add_dropout_attr (g, "head/dropout", x, "head/dropped", config->dropout);
      x = "head/dropped";
    }
  add_linear (g, "head/fc", x, "logits", (int) n_features, config->n_classes, &rng);
  value_info_set (&g->outputs[0], "logits", GRAFT_DTYPE_FLOAT, 2,
                  (int64_t[]){ -1, config->n_classes });

  display = g_strdup (base->display_name);
  return graft_graph_new (m, display, error);
}

GraftOnnxModel *
graft_graph_to_classifier (const GraftGraph *graph, const char *const *labels, int n_labels)
{
  int out = graph->outputs[0];
  GraftOnnxModel *m = graft_graph_to_model (graph, graph->n_nodes, &out, 1);
  GraftOnnxGraph *g = &m->graph;
  const char *in[] = { graph->values[out].name };
  GraftOnnxNode *softmax;
  GString *joined = g_string_new (NULL);
  int64_t dims[] = { -1, n_labels };

  softmax = add_node (g, "probabilities", "Softmax", in, 1, "probabilities");
  add_int_attr (softmax, "axis", 1);
  g_free (g->outputs[0].name);
  for (int d = 0; d < GRAFT_MAX_DIMS; d++)
    g_free (g->outputs[0].dim_params[d]);
  value_info_set (&g->outputs[0], "probabilities", GRAFT_DTYPE_FLOAT, 2, dims);
  /* n_labels counts the labels: the array need not end with NULL. */
  for (int i = 0; i < n_labels; i++)
    g_string_append_printf (joined, i ? "\n%s" : "%s", labels[i]);
  graft_onnx_model_set_metadata (m, "graft.labels", joined->str);
  g_string_free (joined, TRUE);
  return m;
}

/* A (1, 3, 1, 1) constant: one value per channel, broadcast over N, H, W. */
static void
add_channel_constant (GraftOnnxGraph *g, const char *name, const float values[3], float scale)
{
  GraftShape shape = graft_shape_make (4, (int64_t[]){ 1, 3, 1, 1 });
  GraftTensor *t = graft_tensor_new_float (&shape);
  for (int c = 0; c < 3; c++)
    ((float *) t->data)[c] = values[c] * scale;
  add_initializer (g, name, t);
}

void
graft_model_bake_normalization (GraftOnnxModel *model, const float mean[3], const float std[3])
{
  GraftOnnxGraph *g = &model->graph;
  const char *input = g->inputs[0].name;
  const char *sub_in[] = { input, "graft/pixel_mean" };
  const char *div_in[] = { "graft/centered", "graft/pixel_std" };
  size_t n_old = g->n_nodes;
  GraftOnnxNode sub, div;

  /* Every reader of the input now reads the normalized values instead. */
  for (size_t i = 0; i < g->n_nodes; i++)
    for (size_t k = 0; k < g->nodes[i].n_inputs; k++)
      if (g_str_equal (g->nodes[i].inputs[k], input))
        {
          g_free (g->nodes[i].inputs[k]);
          g->nodes[i].inputs[k] = g_strdup ("graft/normalized");
        }
  add_channel_constant (g, "graft/pixel_mean", mean, 255.0f);
  add_channel_constant (g, "graft/pixel_std", std, 255.0f);
  add_node (g, "graft/subtract_mean", "Sub", sub_in, 2, "graft/centered");
  add_node (g, "graft/divide_std", "Div", div_in, 2, "graft/normalized");

  /* Nodes are in execution order: move the two new ones to the front. */
  sub = g->nodes[n_old];
  div = g->nodes[n_old + 1];
  memmove (&g->nodes[2], &g->nodes[0], n_old * sizeof (GraftOnnxNode));
  g->nodes[0] = sub;
  g->nodes[1] = div;
}
