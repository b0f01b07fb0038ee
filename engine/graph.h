/* graph.h: a model as Graft runs it.
 *
 * A GraftGraph is built from an ONNX model: nodes in topological order with
 * their names kept (they are the layer names users see), initializer-only
 * subgraphs (Constant, Identity, DequantizeLinear on weights, shape chains
 * on constants) folded away at load, and every remaining node bound to an
 * operator implementation.
 *
 * A GraftPlan binds a graph to concrete input shapes: it infers every
 * value's shape, folds what then becomes constant (Shape of an input),
 * allocates the buffers and runs the forward pass. Plans are cheap to
 * rebuild when the batch size changes.
 */
#pragma once

#include "onnx-model.h"
#include "ops/ops.h"
#include "tensor.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  char *name;
  GraftDType dtype;
  /* As declared in the file; -1 for unknown dims, ndim -1 when unknown. */
  int declared_ndim;
  int64_t declared_dims[GRAFT_MAX_DIMS];
  GraftTensor *constant; /* initializer or load-time folded value, owned */
  int producer;          /* node index, or -1 */
} GraftValue;

typedef struct
{
  char *display_name; /* the file name used in messages */
  GraftOnnxModel *model; /* the source, kept for metadata and export */
  GraftValue *values;
  int n_values;
  GraftNode *nodes; /* topological order */
  int n_nodes;
  int *inputs; /* value indices of graph inputs that are not initializers */
  int n_inputs;
  int *outputs;
  int n_outputs;
} GraftGraph;

GraftGraph *graft_graph_load (const char *path, GError **error);
/* Takes ownership of model (freed on error too). */
GraftGraph *graft_graph_new (GraftOnnxModel *model, const char *display_name,
                             GError **error);
void graft_graph_free (GraftGraph *graph);

int graft_graph_find_value (const GraftGraph *graph, const char *name);
/* Number of float parameters held by the node's constant inputs. */
int64_t graft_graph_node_params (const GraftGraph *graph, int node);

typedef struct _GraftPlan GraftPlan;

/* Binds input shapes (one per graph input, in graph->inputs order).
 * Integer-typed inputs (shape parameters) must also be given by value in
 * input_values (may be NULL when the graph has none). */
GraftPlan *graft_plan_new (GraftGraph *graph, const GraftShape *input_shapes,
                           const GraftTensor *const *input_values,
                           GError **error);
void graft_plan_free (GraftPlan *plan);

/* Inferred type and shape of a value under this plan. */
const GraftValueInfo *graft_plan_value_info (const GraftPlan *plan, int value);

/* Copies inputs in (shapes must match the plan) and runs every node.
 * Results stay in the plan until the next run. */
gboolean graft_plan_run (GraftPlan *plan, const GraftTensor *const *inputs,
                         GError **error);
/* A value's tensor after a run (constants included); owned by the plan. */
const GraftTensor *graft_plan_get (const GraftPlan *plan, int value);

/* ---- node by node, for training ---- */
/* The tensor of a value (mutable: the trainer fills inputs and cached
 * features into it). */
GraftTensor *graft_plan_tensor (GraftPlan *plan, int value);
GraftWorkspace *graft_plan_workspace (GraftPlan *plan);
/* TRUE when the node was computed once when the plan was made. */
gboolean graft_plan_node_folded (const GraftPlan *plan, int node);
/* Runs one node, in training mode (forward_train) when train is TRUE and
 * the op has one (with its fused activation; nothing for an activation
 * fused into another node). */
void graft_plan_forward_node (GraftPlan *plan, int node, gboolean train);
/* Accumulates the node's input gradients. grads[v] is the gradient
 * tensor of value v, or NULL where none is wanted. A node with a fused
 * activation reads the gradient of graft_plan_node_grad_output; an
 * activation fused into another node does nothing. */
void graft_plan_backward_node (GraftPlan *plan, int node, gboolean train,
                               GraftTensor *const *grads);
/* The same, but the gradient of input slot k is assigned, not accumulated,
 * when bit k of assign is set: its tensor may hold stale data (a buffer
 * reused from another value). Ops without backward_assigns get such a
 * tensor zeroed first. */
void graft_plan_backward_node_assign (GraftPlan *plan,
                                      int node,
                                      gboolean train,
                                      GraftTensor *const *grads,
                                      guint64 assign);
/* Lets elementwise nodes from first_node on write their output over their
 * input (GraftOpDef.inplace_forward) where nothing else needs that input:
 * it has no other reader, is no graph output, is made by a node from
 * first_node on whose backward ignores its outputs, and the node's other
 * inputs are constants. Saves one activation buffer per such node; the
 * input's value then holds the output after a run, so only the trainer,
 * which reads just the graph outputs and its cut values, uses this.
 * Returns the number of buffers saved. */
int graft_plan_share_inplace (GraftPlan *plan, int first_node);
/* Fuses, from first_node on, each clamp activation (GraftOpDef.clamp_bounds:
 * Relu, Clip with constant bounds) that runs in place (see
 * graft_plan_share_inplace) over the output of a node that can take it
 * (GraftOpDef.fuses_clamp: BatchNormalization) into that node: the node
 * then writes the activation's output in its own pass, and its backward
 * reads the gradient of the activation's output and masks it; the
 * activation node itself does nothing, forward or backward, and the
 * gradient of the value between the two is never used. Call after
 * graft_plan_share_inplace. Returns the number of activations fused. */
int graft_plan_fuse_activations (GraftPlan *plan, int first_node);
/* The node an activation was fused into, or -1. */
int graft_plan_node_absorbed_into (const GraftPlan *plan, int node);
/* The value whose gradient the node's backward reads as dout[0]: its first
 * output, or, for a node with a fused activation, the activation's
 * output. */
int graft_plan_node_grad_output (const GraftPlan *plan, int node);

/* One-shot convenience: plan for the inputs' shapes, run, and return new
 * copies of the graph outputs (n = graph->n_outputs). */
GraftTensor **graft_graph_run (GraftGraph *graph,
                               const GraftTensor *const *inputs,
                               GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftGraph, graft_graph_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftPlan, graft_plan_free)

G_END_DECLS
