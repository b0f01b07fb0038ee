/* ops.h: how an ONNX operator plugs into the graph.
 *
 * Each operator is a GraftOpDef: prepare() reads its attributes once when
 * the graph is built, infer() gives output types and shapes from input
 * ones, forward() computes. The graph prefixes every error an op sets with
 * "FILE: node 'NAME' (OP): ", so an op only states the problem, e.g.
 * "kernel_shape has 3 values, expected 2".
 *
 * Ops live in engine/ops/op-*.c and call the math in engine/kernels/.
 * Each op file exports a NULL-terminated table that ops.c collects.
 */
#pragma once

#include "onnx-model.h"
#include "tensor.h"

#include <glib.h>

G_BEGIN_DECLS

/* What shape inference knows of one value. */
typedef struct
{
  GraftDType dtype;
  GraftShape shape;
  /* Data known before running: an initializer, a folded constant, or an
   * integer graph input bound by value. NULL for activations. */
  const GraftTensor *constant;
} GraftValueInfo;

/* Grow-on-demand scratch memory shared by the ops of one run, and the
 * random stream of training-mode ops (Dropout). */
typedef struct
{
  float *data;
  size_t capacity; /* floats */
  /* Training randomness: an op draws element i of its call from
   * graft_random_uniform (seed, step, node_id, i), so results do not depend
   * on thread scheduling. The trainer sets seed and step. */
  guint64 seed;
  guint64 step;
  /* Set by the graph for one backward call of an op with backward_assigns:
   * bit k set means din[k] holds stale data that backward must overwrite
   * (=) rather than add to (+=). Never set for an input that shares its
   * gradient tensor with another input of the node. */
  guint64 assign;
  /* Set by the graph for one forward or backward call of an op with
   * fuses_clamp whose activation the plan fused into it (see
   * graft_plan_fuse_activations): forward writes min (max (y, lo), hi)
   * over out[0]; backward receives in dout[0] the gradient of that clamped
   * output, and out[0] holds it, and uses dout[0] only where
   * lo < out[0] < hi (out[0] <= hi too when clamp_upper_inclusive). */
  gboolean clamp;
  float clamp_lo;
  float clamp_hi;
  gboolean clamp_upper_inclusive;
} GraftWorkspace;

/* Whether backward must assign din[k] (see GraftWorkspace.assign). */
static inline gboolean
graft_din_assign (const GraftWorkspace *ws, int k)
{
  return k < 64 && ((ws->assign >> k) & 1) != 0;
}

/* Counter-based uniform random number in [0, 1) (splitmix64 of the
 * arguments): the same arguments always give the same number. */
float graft_random_uniform (guint64 seed, guint64 step, guint64 stream,
                            guint64 index);

float *graft_workspace_floats (GraftWorkspace *ws, size_t n_floats);
void graft_workspace_clear (GraftWorkspace *ws);

/* The most inputs or outputs one node may have (Concat of many branches). */
#define GRAFT_NODE_MAX_IO 64

typedef struct _GraftNode GraftNode;
typedef struct _GraftOpDef GraftOpDef;

struct _GraftNode
{
  char *name;    /* ONNX node name, or "OpType_index" when the file has none */
  char *label;   /* the name shortened for people (see graph.c) */
  char *op_type;
  const GraftOpDef *def;
  int n_inputs;
  int *inputs;   /* value index; -1 for an omitted optional input */
  int n_outputs;
  int *outputs;
  void *params;  /* op-specific, set by prepare(), released by g_free() */
  /* The node as read from the file (owned by the graph's model): its
   * attributes, for writing the graph back out. */
  const GraftOnnxNode *proto;
  int id;        /* stable index for random streams (training Dropout) */
};

struct _GraftOpDef
{
  const char *op_type;
  int min_inputs;
  int max_inputs;
  int min_outputs;
  int max_outputs;

  /* Reads and checks attributes into node->params (a g_malloc'ed struct
   * or NULL). opset is the model's default-domain opset version. */
  gboolean (*prepare) (GraftNode *node, const GraftOnnxNode *proto,
                       int64_t opset, GError **error);

  /* Sets out[i]->dtype and out[i]->shape from in[]; in[i] is NULL for an
   * omitted optional input. out[i]->constant is left NULL. */
  gboolean (*infer) (const GraftNode *node, const GraftValueInfo *const *in,
                     GraftValueInfo *const *out, GError **error);

  /* Computes out[] from in[]; outputs are allocated at the inferred shapes
   * and zero-filled. in[i] is NULL for an omitted optional input. */
  void (*forward) (const GraftNode *node, const GraftTensor *const *in,
                   GraftTensor *const *out, GraftWorkspace *ws);

  /* TRUE when the outputs depend only on input shapes, not their data
   * (Shape): such a node folds as soon as shapes are known. */
  gboolean shape_only;

  /* TRUE when forward (and forward_train) assign every element of every
   * output, so the graph need not zero the outputs first (a full write
   * pass saved per node). Default FALSE: outputs start at zero. */
  gboolean overwrites_output;

  /* ---- training ----
   * forward_train: forward in training mode, where it differs (NULL: the
   * same as forward). BatchNormalization normalizes with batch statistics
   * and updates its running mean and variance inputs in place, PyTorch's
   * way (momentum from the node, unbiased variance for the running
   * estimate); Dropout draws its mask from ws (see graft_random_uniform)
   * and writes it to its second output when it has one, or keeps what
   * backward needs in node-private form (documented by the op). */
  void (*forward_train) (const GraftNode *node, GraftTensor *const *in,
                         GraftTensor *const *out, GraftWorkspace *ws);

  /* Accumulates input gradients: din[k] += dLoss/d(in[k]) for every k
   * whose din[k] is not NULL (the trainer passes NULL for frozen weights
   * and for inputs nothing upstream needs). dout[j] is dLoss/d(out[j]),
   * NULL when output j does not reach the loss. in and out are the tensors
   * of the forward pass just run; train says which forward it was.
   * NULL backward: the op cannot sit in a trainable part. */
  void (*backward) (const GraftNode *node, gboolean train,
                    const GraftTensor *const *in, const GraftTensor *const *out,
                    const GraftTensor *const *dout, GraftTensor *const *din,
                    GraftWorkspace *ws);

  /* TRUE when backward honours ws->assign (assigns the marked din[k],
   * accumulates into the others). Default FALSE: the graph zeroes a
   * marked din[k] before calling backward, which costs a write pass. */
  gboolean backward_assigns;

  /* TRUE when forward may write out[0] over in[0] (same buffer; an
   * elementwise op of one output) and backward then still works: it reads
   * out[0] but never in[0]'s data (in[k > 0] are only read when they are
   * constants, which the plan checks). */
  gboolean inplace_forward;

  /* TRUE when backward never reads the data of out[]: a consumer may then
   * overwrite the output in place (see inplace_forward). */
  gboolean backward_ignores_output;

  /* For an activation that is a clamp (Relu; Clip with constant bounds):
   * its bounds, and whether its gradient passes at y == hi (Relu's, at
   * +inf). in[] as for forward. FALSE, or NULL: not a clamp here. */
  gboolean (*clamp_bounds) (const GraftNode *node,
                            const GraftTensor *const *in,
                            float *lo,
                            float *hi,
                            gboolean *upper_inclusive);

  /* TRUE when forward, forward_train and backward honour ws->clamp: a
   * clamp activation after the op runs inside the op's passes. */
  gboolean fuses_clamp;
};

/* The op for an ONNX op_type in the default domain, or NULL. */
const GraftOpDef *graft_op_lookup (const char *op_type);
/* Sorted, NULL-terminated list of the supported op_type names. */
const char *const *graft_op_supported (void);

/* ---- attribute helpers for prepare() ----
 * Each returns FALSE with an error when the attribute is present with the
 * wrong type; an absent attribute gives the default. */
gboolean graft_attr_int (const GraftOnnxNode *proto, const char *name,
                         int64_t default_value, int64_t *out, GError **error);
gboolean graft_attr_float (const GraftOnnxNode *proto, const char *name,
                           float default_value, float *out, GError **error);
/* Copies up to max_n ints into out; *n gets the count (0 when absent).
 * More than max_n values is an error. */
gboolean graft_attr_ints (const GraftOnnxNode *proto, const char *name,
                          int64_t *out, int max_n, int *n, GError **error);
/* The string value, or default_value when absent (not copied). */
gboolean graft_attr_string (const GraftOnnxNode *proto, const char *name,
                            const char *default_value, const char **out,
                            GError **error);

/* ---- helpers for infer() ---- */
/* Normalizes a possibly negative axis against rank; FALSE with an error
 * when out of range. */
gboolean graft_normalize_axis (int64_t axis, int rank, int *out,
                               GError **error);
/* Numpy-style broadcast of two shapes; FALSE with an error when they do
 * not broadcast. */
gboolean graft_broadcast_shapes (const GraftShape *a, const GraftShape *b,
                                 GraftShape *out, GError **error);

G_END_DECLS
