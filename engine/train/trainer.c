/* trainer.c: fine-tuning a pretrained graph. */
#include "train/trainer.h"

#include "graft-error.h"
#include "graph-edit.h"
#include "kernels/loss.h"
#include "train/feature-cache.h"
#include "train/trainer-private.h"

#include <math.h>
#include <string.h>

void
graft_train_config_init (GraftTrainConfig *c)
{
  memset (c, 0, sizeof *c);
  c->epochs = 10;
  c->batch_size = 32;
  c->optimizer = GRAFT_OPTIMIZER_ADAMW;
  c->learning_rate = 1e-3f;
  c->backbone_lr_scale = 0.1f;
  c->weight_decay = 1e-4f;
  c->momentum = 0.9f;
  c->warmup_epochs = 1;
  c->schedule = GRAFT_SCHEDULE_COSINE;
  c->label_smoothing = 0.1f;
  c->balance_classes = TRUE;
  c->clip_norm = 5.0f;
  c->keep_best = TRUE;
  c->feature_cache = TRUE;
  c->cache_memory_budget = (size_t) 2 << 30;
  c->seed = 42;
}

void
graft_train_config_clear (GraftTrainConfig *c)
{
  g_clear_pointer (&c->checkpoint_dir, g_free);
}

/* ---- what trains ---- */

/* Whether input k of a node is a learned weight: a constant float tensor,
 * except BatchNormalization's running mean and variance, which training
 * averages instead, and the settings of Clip and Dropout. */
static gboolean
is_learned_input (const GraftGraph *graph, const GraftNode *node, int k)
{
  int v = node->inputs[k];
  const GraftTensor *c;

  if (v < 0 || (c = graph->values[v].constant) == NULL)
    return FALSE;
  if (c->dtype != GRAFT_DTYPE_FLOAT || c->shape.ndim == 0)
    return FALSE;
  if (g_str_equal (node->op_type, "BatchNormalization") && k >= 3)
    return FALSE;
  if (g_str_equal (node->op_type, "Dropout") ||
      g_str_equal (node->op_type, "Clip"))
    return FALSE;
  return TRUE;
}

static gboolean
node_has_weights (const GraftGraph *graph, int n)
{
  for (int k = 0; k < graph->nodes[n].n_inputs; k++)
    if (is_learned_input (graph, &graph->nodes[n], k))
      return TRUE;
  return FALSE;
}

/* A node runs in training mode when it is past the frozen prefix and its
 * weights train, or it has none (Relu, Add, Dropout). A frozen
 * BatchNormalization keeps using its running statistics. */
gboolean
graft_trainer_node_train_mode (const GraftTrainer *t, int n)
{
  return n >= t->first_trainable &&
         (t->trainable[n] || !node_has_weights (t->graph, n));
}

static void
invalidate_run_state (GraftTrainer *t)
{
  g_ptr_array_set_size (t->plans, 0);
  for (int i = 0; i < 2; i++)
    g_clear_pointer (&t->cache[i], graft_feature_cache_free);
  g_clear_pointer (&t->optimizer, graft_optimizer_free);
}

void
graft_trainer_set_node_trainable (GraftTrainer *t, int node, gboolean trainable)
{
  g_return_if_fail (node >= 0 && node < t->graph->n_nodes);
  /* The new head always trains: it starts from random weights. */
  if (node >= t->head_first)
    trainable = TRUE;
  if (t->trainable[node] != trainable)
    invalidate_run_state (t);
  t->trainable[node] = trainable;
}

gboolean
graft_trainer_node_trainable (GraftTrainer *t, int node)
{
  return t->trainable[node];
}

void
graft_trainer_set_block_trainable (GraftTrainer *t,
                                   int block,
                                   gboolean trainable)
{
  g_return_if_fail (block >= 0 && block < t->n_blocks);
  for (int n = t->blocks[block].first_node; n <= t->blocks[block].last_node;
       n++)
    graft_trainer_set_node_trainable (t, n, trainable);
}

void
graft_trainer_set_node_lr_scale (GraftTrainer *t, int node, float scale)
{
  g_return_if_fail (node >= 0 && node < t->graph->n_nodes);
  t->lr_scale[node] = scale;
  invalidate_run_state (t);
}

void
graft_trainer_freeze_preset (GraftTrainer *t,
                             GraftFreezePreset preset,
                             int n_last)
{
  int trunk_blocks = t->n_blocks - 1; /* the last block is the head */

  for (int b = 0; b < t->n_blocks; b++)
    {
      gboolean train =
          b == t->n_blocks - 1 || preset == GRAFT_FREEZE_NONE ||
          (preset == GRAFT_FREEZE_LAST_BLOCKS && b >= trunk_blocks - n_last);
      graft_trainer_set_block_trainable (t, b, train);
    }
}

int64_t
graft_trainer_count_params (GraftTrainer *t, gboolean trainable_only)
{
  int64_t total = 0;
  for (int n = 0; n < t->graph->n_nodes; n++)
    if (!trainable_only || t->trainable[n])
      for (int k = 0; k < t->graph->nodes[n].n_inputs; k++)
        if (is_learned_input (t->graph, &t->graph->nodes[n], k))
          total += graft_tensor_numel (
              t->graph->values[t->graph->nodes[n].inputs[k]].constant);
  return total;
}

GraftGraph *
graft_trainer_get_graph (GraftTrainer *t)
{
  return t->graph;
}

const GraftBlock *
graft_trainer_get_blocks (GraftTrainer *t, int *n_blocks)
{
  *n_blocks = t->n_blocks;
  return t->blocks;
}

const GraftEpochRecord *
graft_trainer_get_history (GraftTrainer *t, int *n)
{
  *n = (int) t->history->len;
  return (const GraftEpochRecord *) t->history->data;
}

const float *
graft_trainer_get_param_grad (GraftTrainer *t, int value)
{
  g_return_val_if_fail (value >= 0 && value < t->graph->n_values, NULL);
  return t->param_grads[value] ? t->param_grads[value]->data : NULL;
}

/* ---- set-up ---- */

static void
running_stats_clear (GraftTrainer *t)
{
  for (int i = 0; i < t->n_stat_values; i++)
    graft_tensor_free (t->stat_backup[i]);
  g_clear_pointer (&t->stat_backup, g_free);
  g_clear_pointer (&t->stat_values, g_free);
  t->n_stat_values = 0;
}

void
graft_trainer_keep_running_stats (GraftTrainer *t)
{
  for (int i = 0; i < t->n_stat_values; i++)
    memcpy (t->stat_backup[i]->data, t->graph->values[t->stat_values[i]].constant->data,
            graft_tensor_nbytes (t->stat_backup[i]));
}

void
graft_trainer_restore_running_stats (GraftTrainer *t)
{
  for (int i = 0; i < t->n_stat_values; i++)
    memcpy (t->graph->values[t->stat_values[i]].constant->data, t->stat_backup[i]->data,
            graft_tensor_nbytes (t->stat_backup[i]));
}

static void
plan_state_free (gpointer p)
{
  PlanState *ps = p;
  for (int v = 0; v < ps->n_values; v++)
    if (ps->owned[v])
      g_free (ps->grads[v]); /* a view: its data is in the arena */
  for (int i = 0; i < ps->n_arena; i++)
    graft_tensor_free (ps->arena[i]);
  g_free (ps->arena);
  g_free (ps->assign);
  g_free (ps->zero_values);
  g_free (ps->grads);
  g_free (ps->owned);
  g_free (ps->probs);
  graft_plan_free (ps->plan);
  g_free (ps);
}

/* The parts of a trainer that do not depend on how its graph was made. */
static GraftTrainer *
trainer_alloc (const GraftTrainConfig *config, int n_classes)
{
  GraftTrainer *t = g_new0 (GraftTrainer, 1);
  t->config = *config;
  t->config.checkpoint_dir = g_strdup (config->checkpoint_dir);
  t->n_classes = n_classes;
  t->own_control = graft_train_control_new ();
  t->control = graft_train_control_ref (t->own_control);
  t->plans = g_ptr_array_new_with_free_func (plan_state_free);
  t->params = g_array_new (FALSE, TRUE, sizeof (GraftParamRef));
  t->history = g_array_new (FALSE, TRUE, sizeof (GraftEpochRecord));
  t->fuse_activations = g_strcmp0 (g_getenv ("GRAFT_NO_FUSE"), "1") != 0;
  return t;
}

static GraftTrainer *
trainer_attach_graph (GraftTrainer *t, GraftGraph *graph, int head_first)
{
  t->graph = graph;
  t->head_first = head_first;
  t->blocks = graft_graph_find_blocks (t->graph, &t->n_blocks);
  t->trainable = g_new0 (gboolean, t->graph->n_nodes);
  t->lr_scale = g_new (float, t->graph->n_nodes);
  for (int n = 0; n < t->graph->n_nodes; n++)
    t->lr_scale[n] = 1.0f;
  t->param_grads = g_new0 (GraftTensor *, t->graph->n_values);
  graft_trainer_freeze_preset (t, GRAFT_FREEZE_HEAD_ONLY, 0);
  return t;
}

GraftTrainer *
graft_trainer_new (const GraftGraph *base, int n_classes, const GraftTrainConfig *config,
                   GError **error)
{
  g_autoptr (GraftTrainer) t = trainer_alloc (config, n_classes);
  GraftHeadConfig head = { .n_classes = n_classes, .dropout = 0.2f, .seed = config->seed };
  int feature = graft_graph_feature_node (base);
  GraftGraph *graph;
  int head_first;

  if (feature < 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: no global pooling layer, so no place to attach a new classifier",
                   base->display_name);
      return NULL;
    }
  graph = graft_graph_new_with_head (base, feature, &head, error);
  if (graph == NULL)
    return NULL;
  for (head_first = graph->n_nodes - 1; head_first > 0; head_first--)
    if (!g_str_has_prefix (graph->nodes[head_first - 1].name, "head/"))
      break;
  return trainer_attach_graph (g_steal_pointer (&t), graph, head_first);
}

GraftTrainer *
graft_trainer_new_for_graph (GraftGraph *graph, const GraftTrainConfig *config, GError **error)
{
  GraftShape shape = { .ndim = 4, .dims = { 1, 3, 0, 0 } };
  g_autoptr (GraftPlan) plan = NULL;
  const GraftValue *in = graph->n_inputs == 1 ? &graph->values[graph->inputs[0]] : NULL;
  int feature = graft_graph_feature_node (graph);
  int n_classes;

  if (in && in->declared_ndim == 4)
    {
      shape.dims[2] = in->declared_dims[2];
      shape.dims[3] = in->declared_dims[3];
    }
  if (in == NULL || in->declared_ndim != 4 || shape.dims[2] <= 0 || shape.dims[3] <= 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: training needs one image input of a fixed size", graph->display_name);
      graft_graph_free (graph);
      return NULL;
    }
  plan = graft_plan_new (graph, &shape, NULL, error);
  if (plan == NULL)
    {
      graft_graph_free (graph);
      return NULL;
    }
  {
    const GraftValueInfo *out = graft_plan_value_info (plan, graph->outputs[0]);
    if (out->shape.ndim != 2 || out->shape.dims[1] < 2)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                     "%s: the first output is not one score per class", graph->display_name);
        g_clear_pointer (&plan, graft_plan_free);
        graft_graph_free (graph);
        return NULL;
      }
    n_classes = (int) out->shape.dims[1];
  }
  g_clear_pointer (&plan, graft_plan_free);
  return trainer_attach_graph (trainer_alloc (config, n_classes), graph,
                               feature >= 0 ? feature + 1 : graph->n_nodes - 1);
}

void
graft_trainer_free (GraftTrainer *t)
{
  if (t == NULL)
    return;
  invalidate_run_state (t);
  g_ptr_array_unref (t->plans);
  if (t->param_grads && t->graph)
    for (int v = 0; v < t->graph->n_values; v++)
      graft_tensor_free (t->param_grads[v]);
  g_free (t->param_grads);
  for (guint i = 0; i < t->params->len; i++)
    g_free ((char *) g_array_index (t->params, GraftParamRef, i).name);
  g_array_unref (t->params);
  g_array_unref (t->history);
  if (t->blocks)
    graft_blocks_free (t->blocks, t->n_blocks);
  g_free (t->trainable);
  g_free (t->lr_scale);
  g_free (t->cut_values);
  running_stats_clear (t);
  g_free (t->class_weights);
  graft_graph_free (t->graph);
  graft_train_config_clear (&t->config);
  graft_train_control_unref (t->control);
  graft_train_control_unref (t->own_control);
  g_free (t);
}

/* Gradient buffers for the trained weights, the optimizer over them, and
 * the boundary between the frozen prefix and the trained part. */
static void
prepare_params (GraftTrainer *t)
{
  GraftGraph *g = t->graph;
  g_autoptr (GArray) cut = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree gboolean *seen = g_new0 (gboolean, g->n_values);

  if (t->optimizer)
    return;
  for (guint i = 0; i < t->params->len; i++)
    g_free ((char *) g_array_index (t->params, GraftParamRef, i).name);
  g_array_set_size (t->params, 0);
  for (int v = 0; v < g->n_values; v++)
    g_clear_pointer (&t->param_grads[v], graft_tensor_free);

  t->first_trainable = g->n_nodes;
  for (int n = 0; n < g->n_nodes; n++)
    {
      const GraftNode *node = &g->nodes[n];
      if (!t->trainable[n] || !node_has_weights (g, n))
        continue;
      t->first_trainable = MIN (t->first_trainable, n);
      for (int k = 0; k < node->n_inputs; k++)
        {
          int v = node->inputs[k];
          const GraftTensor *w;
          GraftParamRef ref = { 0 };
          if (!is_learned_input (g, node, k) || t->param_grads[v])
            continue;
          w = g->values[v].constant;
          t->param_grads[v] = graft_tensor_new_float (&w->shape);
          ref.name = g_strdup (g->values[v].name);
          ref.param = w->data;
          ref.grad = t->param_grads[v]->data;
          ref.n = (size_t) graft_tensor_numel (w);
          ref.lr_scale =
              t->lr_scale[n] *
              (n >= t->head_first ? 1.0f : t->config.backbone_lr_scale);
          ref.decay = w->shape.ndim >= 2;
          g_array_append_val (t->params, ref);
        }
    }

  /* The running statistics the trained part's forward pass updates. */
  running_stats_clear (t);
  t->stat_values = g_new (int, 2 * g->n_nodes + 1);
  for (int n = t->first_trainable; n < g->n_nodes; n++)
    if (graft_trainer_node_train_mode (t, n) &&
        g_str_equal (g->nodes[n].op_type, "BatchNormalization"))
      for (int k = 3; k < g->nodes[n].n_inputs; k++)
        if (g->nodes[n].inputs[k] >= 0 && g->values[g->nodes[n].inputs[k]].constant)
          t->stat_values[t->n_stat_values++] = g->nodes[n].inputs[k];
  t->stat_backup = g_new0 (GraftTensor *, MAX (t->n_stat_values, 1));
  for (int i = 0; i < t->n_stat_values; i++)
    t->stat_backup[i] = graft_tensor_copy (g->values[t->stat_values[i]].constant);

  /* Values made before the first trained layer and read after it: what the
   * feature cache keeps per image. */
  for (int n = t->first_trainable; n < g->n_nodes; n++)
    for (int k = 0; k < g->nodes[n].n_inputs; k++)
      {
        int v = g->nodes[n].inputs[k];
        if (v < 0 || seen[v] || g->values[v].constant)
          continue;
        seen[v] = TRUE;
        if (g->values[v].producer < t->first_trainable)
          g_array_append_val (cut, v);
      }
  g_free (t->cut_values);
  t->n_cut_values = (int) cut->len;
  t->cut_values = g_memdup2 (cut->data, sizeof (int) * MAX (cut->len, 1));

  {
    GraftOptimizerConfig oc =
        graft_optimizer_config_default (t->config.optimizer);
    oc.weight_decay = t->config.weight_decay;
    if (t->config.optimizer == GRAFT_OPTIMIZER_SGD)
      oc.momentum = t->config.momentum;
    t->optimizer = graft_optimizer_new (&oc, (GraftParamRef *) t->params->data,
                                        (int) t->params->len);
  }
}

/* Which node writes each gradient first in the backward pass, and so
 * assigns it (ps->assign), walking the nodes as graft_trainer_backward
 * does: a node runs when its first output has a gradient and one of its
 * inputs wants one (the output of its fused activation when it has one;
 * a fused activation does not run). wanted[v]: a gradient buffer may be
 * kept for v.
 * first_writer[v] gets that node (n_nodes for the loss), -1 when nothing
 * writes v. */
static void
schedule_writers (GraftTrainer *t,
                  PlanState *ps,
                  const gboolean *wanted,
                  int *first_writer)
{
  GraftGraph *g = t->graph;

  for (int v = 0; v < g->n_values; v++)
    first_writer[v] = -1;
  first_writer[g->outputs[0]] = g->n_nodes;
  for (int n = g->n_nodes - 1; n >= t->first_trainable; n--)
    {
      const GraftNode *node = &g->nodes[n];
      gboolean any = FALSE;
      if (graft_plan_node_absorbed_into (ps->plan, n) >= 0 ||
          first_writer[graft_plan_node_grad_output (ps->plan, n)] < 0)
        continue;
      for (int k = 0; k < node->n_inputs; k++)
        any = any || (node->inputs[k] >= 0 && wanted[node->inputs[k]]);
      if (!any)
        continue;
      for (int k = 0; k < node->n_inputs; k++)
        {
          int v = node->inputs[k];
          if (v < 0 || !wanted[v] || first_writer[v] >= 0)
            continue;
          first_writer[v] = n;
          /* A node reading v in two slots gets the bit on the first only;
           * the graph zeroes such a shared tensor. */
          if (k < 64)
            ps->assign[n] |= (guint64) 1 << k;
        }
    }
}

typedef struct
{
  int value;
  int start; /* first writer (node index, n_nodes for the loss) */
  int end;   /* producer: the last node to read the gradient */
  size_t floats;
} GradLife;

static gint
by_start_descending (gconstpointer a, gconstpointer b)
{
  const GradLife *x = a, *y = b;
  if (x->start != y->start)
    return x->start > y->start ? -1 : 1;
  return x->value < y->value ? -1 : x->value > y->value;
}

/* Gives each gradient in lives a piece of memory that no gradient alive
 * at the same time uses: greedy over the backward pass, taking the
 * smallest free block that fits, else growing the largest free one, else
 * a new block. Fills ps->grads with views and ps->arena with the blocks. */
static void
share_gradient_memory (PlanState *ps, const GraftPlan *plan, GArray *lives)
{
  int n = (int) lives->len;
  g_autofree int *block_of = g_new (int, MAX (n, 1));
  g_autoptr (GArray) block_floats = g_array_new (FALSE, FALSE, sizeof (size_t));
  g_autoptr (GArray) block_free_after =
      g_array_new (FALSE, FALSE, sizeof (int));

  g_array_sort (lives, by_start_descending);
  for (int i = 0; i < n; i++)
    {
      const GradLife *l = &g_array_index (lives, GradLife, i);
      int best = -1, largest = -1;
      for (guint b = 0; b < block_floats->len; b++)
        {
          size_t floats = g_array_index (block_floats, size_t, b);
          /* Free once the gradient it holds has been read for the last
           * time, at a node after (in node order) l's first writer. */
          if (g_array_index (block_free_after, int, b) <= l->start)
            continue;
          if (floats >= l->floats &&
              (best < 0 || floats < g_array_index (block_floats, size_t, best)))
            best = (int) b;
          if (largest < 0 ||
              floats > g_array_index (block_floats, size_t, largest))
            largest = (int) b;
        }
      if (best < 0 && largest >= 0)
        {
          best = largest;
          g_array_index (block_floats, size_t, best) = l->floats;
        }
      if (best < 0)
        {
          g_array_append_val (block_floats, l->floats);
          g_array_append_val (block_free_after, l->end);
          best = (int) block_floats->len - 1;
        }
      g_array_index (block_free_after, int, best) = l->end;
      block_of[i] = best;
    }

  ps->n_arena = (int) block_floats->len;
  ps->arena = g_new0 (GraftTensor *, MAX (ps->n_arena, 1));
  for (int b = 0; b < ps->n_arena; b++)
    {
      GraftShape s = { .ndim = 1 };
      s.dims[0] = (int64_t) MAX (g_array_index (block_floats, size_t, b), 1);
      ps->arena[b] = graft_tensor_new_float (&s);
      ps->grad_floats += (size_t) s.dims[0];
    }
  for (int i = 0; i < n; i++)
    {
      const GradLife *l = &g_array_index (lives, GradLife, i);
      GraftTensor *view = g_new0 (GraftTensor, 1);
      view->dtype = GRAFT_DTYPE_FLOAT;
      view->shape = graft_plan_value_info (plan, l->value)->shape;
      view->data = ps->arena[block_of[i]]->data;
      ps->grads[l->value] = view;
      ps->owned[l->value] = TRUE;
      ps->grad_floats_unshared += l->floats;
    }
}

/* Gradient buffers and the backward schedule of a new plan. */
static void
plan_gradients (GraftTrainer *t, PlanState *ps)
{
  GraftGraph *g = t->graph;
  g_autofree gboolean *wanted = g_new0 (gboolean, g->n_values);
  g_autofree int *first_writer = g_new (int, g->n_values);
  g_autoptr (GArray) lives = g_array_new (FALSE, FALSE, sizeof (GradLife));
  g_autoptr (GArray) zero = g_array_new (FALSE, FALSE, sizeof (int));

  for (int v = 0; v < g->n_values; v++)
    if (t->param_grads[v])
      wanted[v] = TRUE;
    else if (g->values[v].constant == NULL &&
             g->values[v].producer >= t->first_trainable)
      wanted[v] =
          graft_plan_value_info (ps->plan, v)->dtype == GRAFT_DTYPE_FLOAT;
  /* Between a BN and its fused activation no gradient is ever formed. */
  for (int n = t->first_trainable; n < g->n_nodes; n++)
    if (graft_plan_node_absorbed_into (ps->plan, n) >= 0)
      wanted[g->nodes[n].inputs[0]] = FALSE;
  ps->assign = g_new0 (guint64, MAX (g->n_nodes, 1));
  schedule_writers (t, ps, wanted, first_writer);

  for (int v = 0; v < g->n_values; v++)
    {
      if (t->param_grads[v])
        {
          ps->grads[v] = t->param_grads[v];
          if (first_writer[v] < 0)
            g_array_append_val (zero, v);
        }
      else if (wanted[v] && first_writer[v] >= 0)
        {
          /* A fused activation's output gradient is read by the BN it
           * runs in. */
          int producer = g->values[v].producer;
          int into = graft_plan_node_absorbed_into (ps->plan, producer);
          GradLife l = { .value = v,
                         .start = first_writer[v],
                         .end = into >= 0 ? into : producer };
          l.floats = (size_t) graft_shape_numel (
              &graft_plan_value_info (ps->plan, v)->shape);
          g_array_append_val (lives, l);
        }
    }
  ps->n_zero_values = (int) zero->len;
  ps->zero_values = (int *) g_array_free (g_steal_pointer (&zero), FALSE);
  share_gradient_memory (ps, ps->plan, lives);
}

PlanState *
graft_trainer_get_plan (GraftTrainer *t, int batch, GError **error)
{
  GraftGraph *g = t->graph;
  const GraftValue *in = &g->values[g->inputs[0]];
  PlanState *ps;
  GraftShape shape = { .ndim = 4 };

  for (guint i = 0; i < t->plans->len; i++)
    if (((PlanState *) t->plans->pdata[i])->batch == batch)
      return t->plans->pdata[i];
  shape.dims[0] = batch;
  shape.dims[1] = 3;
  shape.dims[2] = in->declared_dims[2];
  shape.dims[3] = in->declared_dims[3];
  ps = g_new0 (PlanState, 1);
  ps->batch = batch;
  ps->n_values = g->n_values;
  ps->plan = graft_plan_new (g, &shape, NULL, error);
  if (ps->plan == NULL)
    {
      g_free (ps);
      return NULL;
    }
  ps->grads = g_new0 (GraftTensor *, g->n_values);
  ps->owned = g_new0 (gboolean, g->n_values);
  ps->probs = g_new (float, (size_t) batch * t->n_classes);
  graft_plan_share_inplace (ps->plan, t->first_trainable);
  if (t->fuse_activations)
    ps->n_fused = graft_plan_fuse_activations (ps->plan, t->first_trainable);
  plan_gradients (t, ps);
  g_ptr_array_add (t->plans, ps);
  return ps;
}

/* ---- one batch ---- */

/* Copies the batch's images in and runs the frozen prefix, or fills the
 * cut values from the feature cache. */
gboolean
graft_trainer_run_prefix (GraftTrainer *t,
                          PlanState *ps,
                          const float *images,
                          GraftFeatureCache *cache,
                          const int *items)
{
  GraftGraph *g = t->graph;
  if (cache && graft_feature_cache_complete (cache))
    {
      for (int c = 0; c < t->n_cut_values; c++)
        graft_feature_cache_read (
            cache, c, items, ps->batch,
            graft_plan_tensor (ps->plan, t->cut_values[c])->data);
      return TRUE;
    }
  {
    GraftTensor *input = graft_plan_tensor (ps->plan, g->inputs[0]);
    memcpy (input->data, images, graft_tensor_nbytes (input));
  }
  for (int n = 0; n < t->first_trainable; n++)
    graft_plan_forward_node (ps->plan, n, FALSE);
  return TRUE;
}

float
graft_trainer_forward_loss (GraftTrainer *t,
                            PlanState *ps,
                            const int *labels,
                            gboolean train,
                            int *correct)
{
  GraftGraph *g = t->graph;
  const GraftTensor *logits;
  float loss;

  for (int n = t->first_trainable; n < g->n_nodes; n++)
    graft_plan_forward_node (ps->plan, n,
                             train && graft_trainer_node_train_mode (t, n));
  logits = graft_plan_tensor (ps->plan, g->outputs[0]);
  loss = graft_cross_entropy_forward (
      ps->probs, logits->data, labels, train ? t->class_weights : NULL,
      ps->batch, t->n_classes, train ? t->config.label_smoothing : 0.0f);
  if (correct)
    *correct = (int) graft_cross_entropy_count_correct (
        ps->probs, labels, ps->batch, t->n_classes);
  return loss;
}

void
graft_trainer_backward_begin (GraftTrainer *t, PlanState *ps, const int *labels)
{
  GraftGraph *g = t->graph;

  for (int i = 0; i < ps->n_zero_values; i++)
    {
      GraftTensor *grad = ps->grads[ps->zero_values[i]];
      memset (grad->data, 0, graft_tensor_nbytes (grad));
    }
  /* The loss writes (not adds) the logits' gradient: it is the first. */
  graft_cross_entropy_backward (ps->grads[g->outputs[0]]->data, ps->probs,
                                labels, t->class_weights, ps->batch,
                                t->n_classes, t->config.label_smoothing, 1.0f);
}

void
graft_trainer_backward_node (GraftTrainer *t, PlanState *ps, int n)
{
  graft_plan_backward_node_assign (ps->plan, n,
                                   graft_trainer_node_train_mode (t, n),
                                   ps->grads, ps->assign[n]);
}

void
graft_trainer_backward (GraftTrainer *t, PlanState *ps, const int *labels)
{
  graft_trainer_backward_begin (t, ps, labels);
  for (int n = t->graph->n_nodes - 1; n >= t->first_trainable; n--)
    graft_trainer_backward_node (t, ps, n);
}

gboolean
graft_trainer_set_up (GraftTrainer *t, GError **error)
{
  prepare_params (t);
  if (t->params->len == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "nothing is set to train");
      return FALSE;
    }
  return TRUE;
}

gboolean
graft_trainer_compute_gradients (GraftTrainer *t,
                                 const float *images,
                                 const int *labels,
                                 int n,
                                 float *loss,
                                 GError **error)
{
  PlanState *ps;
  GraftWorkspace *ws;

  if (!graft_trainer_set_up (t, error) ||
      (ps = graft_trainer_get_plan (t, n, error)) == NULL)
    return FALSE;
  ws = graft_plan_workspace (ps->plan);
  ws->seed = t->config.seed;
  ws->step = (guint64) t->global_step;
  graft_trainer_run_prefix (t, ps, images, NULL, NULL);
  graft_trainer_keep_running_stats (t);
  *loss = graft_trainer_forward_loss (t, ps, labels, TRUE, NULL);
  if (!isfinite (*loss))
    {
      graft_trainer_restore_running_stats (t);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_NUMERIC,
                   "the loss is no longer a finite number (%g)", *loss);
      return FALSE;
    }
  graft_trainer_backward (t, ps, labels);
  return TRUE;
}

/* Clipping, the finite check and the update, after backward. */
gboolean
graft_trainer_apply_update (GraftTrainer *t, float lr, GError **error)
{
  const GraftParamRef *refs = (const GraftParamRef *) t->params->data;
  int n = (int) t->params->len;

  if (!graft_grads_finite (refs, n))
    {
      /* The forward pass of this step (after keep_running_stats) moved
       * them. */
      graft_trainer_restore_running_stats (t);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_NUMERIC,
                   "a gradient is no longer a finite number; the last good "
                   "weights are kept");
      return FALSE;
    }
  if (t->config.clip_norm > 0)
    graft_clip_grad_norm (refs, n, t->config.clip_norm);
  graft_optimizer_step (t->optimizer, lr);
  t->global_step++;
  return TRUE;
}

gboolean
graft_trainer_step (GraftTrainer *t,
                    const float *images,
                    const int *labels,
                    int n,
                    float lr,
                    float *loss,
                    GError **error)
{
  return graft_trainer_compute_gradients (t, images, labels, n, loss, error) &&
         graft_trainer_apply_update (t, lr, error);
}
