/* graft-model-info.c: reads a model off the main thread and describes its
 * layers for display.
 *
 * Output shapes come from a plan for one photo. A model Graft cannot size
 * (several inputs, integer inputs, undeclared shapes) still lists its
 * layers, without shapes, and says why.
 */
#include "config.h"

#include "graft-model-info.h"

#include "blocks.h"
#include "graft-block-names.h"
#include "graft-error.h"
#include "graft-layer.h"

#include <glib/gi18n.h>

/* Spatial size used for a model whose input size is not fixed. */
#define DEFAULT_INPUT_SIZE 224

typedef struct
{
  char *path;
  int input_size;
} LoadRequest;

static void
load_request_free (gpointer data)
{
  LoadRequest *request = data;

  g_free (request->path);
  g_free (request);
}

void
graft_model_info_free (GraftModelInfo *info)
{
  if (info == NULL)
    return;
  g_clear_pointer (&info->graph, graft_graph_free);
  g_clear_pointer (&info->layers, g_ptr_array_unref);
  g_free (info->input_text);
  g_free (info->shape_error);
  g_free (info);
}

char *
graft_model_info_shape_text (const GraftShape *shape)
{
  GString *text = g_string_new (NULL);

  if (shape->ndim == 0)
    {
      g_string_free (text, TRUE);
      return g_strdup (_ ("single value"));
    }
  for (int d = 0; d < shape->ndim; d++)
    {
      if (d > 0)
        g_string_append (text, " × ");
      g_string_append_printf (text, "%" G_GINT64_FORMAT, shape->dims[d]);
    }
  return g_string_free (text, FALSE);
}

static gboolean
dtype_is_float (GraftDType dtype)
{
  return dtype == GRAFT_DTYPE_FLOAT || dtype == GRAFT_DTYPE_FLOAT16 ||
         dtype == GRAFT_DTYPE_DOUBLE;
}

/* Binds the graph to one photo: an unknown batch dim becomes 1, unknown
 * channel and spatial dims of an NCHW input 3 and input_size. */
static GraftPlan *
plan_for_one_photo (GraftGraph *graph,
                    int input_size,
                    char **input_text,
                    GError **error)
{
  g_autofree GraftShape *shapes = NULL;

  if (graph->n_inputs == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   _ ("the model has no input"));
      return NULL;
    }
  shapes = g_new0 (GraftShape, graph->n_inputs);
  for (int k = 0; k < graph->n_inputs; k++)
    {
      const GraftValue *value = &graph->values[graph->inputs[k]];

      if (!dtype_is_float (value->dtype))
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                       _ ("input “%s” is not an image"), value->name);
          return NULL;
        }
      if (value->declared_ndim < 0)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                       _ ("input “%s” does not declare its shape"),
                       value->name);
          return NULL;
        }
      shapes[k].ndim = value->declared_ndim;
      for (int d = 0; d < value->declared_ndim; d++)
        {
          int64_t dim = value->declared_dims[d];

          if (dim < 0 && d == 0)
            dim = 1;
          else if (dim < 0 && value->declared_ndim == 4 && d == 1)
            dim = 3;
          else if (dim < 0 && value->declared_ndim == 4)
            dim = input_size;
          if (dim < 0)
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                           _ ("input “%s” has a dimension of unknown size"),
                           value->name);
              return NULL;
            }
          shapes[k].dims[d] = dim;
        }
    }
  *input_text = graft_model_info_shape_text (&shapes[0]);
  return graft_plan_new (graph, shapes, NULL, error);
}

static void
load_thread (GTask *task,
             gpointer source_object,
             gpointer task_data,
             GCancellable *cancellable)
{
  LoadRequest *request = task_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) plan_error = NULL;
  g_autoptr (GraftGraph) graph = NULL;
  g_autoptr (GraftPlan) plan = NULL;
  GraftModelInfo *info;
  GraftBlock *blocks;
  int n_blocks, block = 0;
  g_autofree char *prefix = NULL;

  graph = graft_graph_load (request->path, &error);
  if (graph == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  info = g_new0 (GraftModelInfo, 1);
  info->layers = g_ptr_array_new_with_free_func (g_object_unref);
  plan = plan_for_one_photo (graph, request->input_size, &info->input_text,
                             &plan_error);
  if (plan == NULL)
    info->shape_error = g_strdup (plan_error->message);

  /* Each layer says which block it belongs to, the unit the Layers step
   * trains or freezes. */
  blocks = graft_graph_find_blocks (graph, &n_blocks);
  prefix = graft_block_names_prefix (blocks, n_blocks);
  for (int i = 0; i < graph->n_nodes; i++)
    {
      const GraftNode *node = &graph->nodes[i];
      g_autofree char *shape = NULL;
      g_autofree char *block_title = NULL;
      gint64 n_params = graft_graph_node_params (graph, i);

      while (block < n_blocks && blocks[block].last_node < i)
        block++;
      if (block < n_blocks && blocks[block].first_node <= i)
        block_title = graft_block_names_title (blocks, n_blocks, block);

      if (plan != NULL && node->n_outputs > 0 && node->outputs[0] >= 0)
        {
          const GraftValueInfo *value_info =
              graft_plan_value_info (plan, node->outputs[0]);
          if (value_info != NULL)
            shape = graft_model_info_shape_text (&value_info->shape);
        }
      info->n_params += n_params;
      g_ptr_array_add (
          info->layers,
          graft_layer_new (i + 1, node->label,
                           graft_block_names_strip (node->label, prefix),
                           block_title, node->op_type, shape, n_params));
    }
  graft_blocks_free (blocks, n_blocks);
  g_clear_pointer (&plan, graft_plan_free);
  info->graph = g_steal_pointer (&graph);
  g_task_return_pointer (task, info, (GDestroyNotify) graft_model_info_free);
}

void
graft_model_info_load_async (const char *path,
                             int input_size,
                             GCancellable *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  LoadRequest *request;

  g_return_if_fail (path != NULL);
  g_return_if_fail (input_size >= 0);

  request = g_new0 (LoadRequest, 1);
  request->path = g_strdup (path);
  request->input_size = input_size > 0 ? input_size : DEFAULT_INPUT_SIZE;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, graft_model_info_load_async);
  g_task_set_task_data (task, request, load_request_free);
  g_task_run_in_thread (task, load_thread);
}

GraftModelInfo *
graft_model_info_load_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                            graft_model_info_load_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
