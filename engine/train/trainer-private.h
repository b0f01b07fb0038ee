/* trainer-private.h: the trainer's state, shared by trainer.c (set-up,
 * freezing, one step) and trainer-run.c (epochs, evaluation, caching,
 * checkpoints). */
#pragma once

#include "train/feature-cache.h"
#include "train/trainer.h"

G_BEGIN_DECLS

/* A plan for one batch size, with the gradient buffers that go with it.
 *
 * Backward writes each gradient first by assignment, then accumulates
 * (see graft_trainer_backward_node), so nothing is zeroed per step, and
 * activation gradients whose lifetimes in the backward pass do not
 * overlap share memory: a gradient lives from its first writer (the
 * highest-numbered node reading the value, or the loss) down to the node
 * that made the value, which reads it last. */
typedef struct
{
  int batch;
  int n_values;
  GraftPlan *plan;
  GraftTensor **grads; /* per value: activation gradients (views into
                          arena) and the trainer's weight gradients
                          (borrowed); NULL where no gradient reaches */
  gboolean *owned;     /* grads[v] is a view to g_free */
  GraftTensor **arena; /* the memory the activation gradients share */
  int n_arena;
  guint64 *assign;  /* per node: input slots its backward writes first */
  int *zero_values; /* trained weights no gradient reaches: zeroed */
  int n_zero_values;
  size_t grad_floats;          /* floats in arena (for tests and reports) */
  size_t grad_floats_unshared; /* what one buffer per value would take */
  int n_fused;                 /* activations fused into the BN before */
  float *probs;                /* (batch, n_classes) */
} PlanState;

struct _GraftTrainer
{
  GraftTrainConfig config;
  GraftGraph *graph;
  int n_classes;
  int head_first; /* first node of the new head */
  GraftBlock *blocks;
  int n_blocks;
  gboolean *trainable;       /* per node */
  float *lr_scale;           /* per node */
  GraftTensor **param_grads; /* per value: the gradient of a trained weight */
  GArray *params;            /* GraftParamRef of the trained weights */
  GraftOptimizer *optimizer;
  GPtrArray *plans;    /* PlanState */
  int first_trainable; /* first node whose weights train */
  int *cut_values;     /* values the trained part reads from the frozen part */
  int n_cut_values;
  GraftFeatureCache *cache[2]; /* [0] training, [1] validation */
  GraftTrainData cache_data;   /* the data source the caches hold */
  /* Running statistics a training-mode BatchNormalization updates in its
   * forward pass: copied before each step, put back when the step fails. */
  int *stat_values;
  int n_stat_values;
  GraftTensor **stat_backup;
  float *class_weights;
  int global_step;
  GraftTrainControl *control; /* pause and stop: own_control or a shared one */
  GraftTrainControl *own_control;
  double paused_seconds; /* waited while paused, this run */
  GArray *history; /* GraftEpochRecord */
  /* Fuse in-place Relu/Clip into the BatchNormalization before them (see
   * graft_plan_fuse_activations); environment GRAFT_NO_FUSE=1 turns it
   * off, for comparisons. Read by plans made afterwards. */
  gboolean fuse_activations;
};

gboolean graft_trainer_node_train_mode (const GraftTrainer *t, int n);
PlanState *graft_trainer_get_plan (GraftTrainer *t, int batch, GError **error);
gboolean graft_trainer_run_prefix (GraftTrainer *t,
                                   PlanState *ps,
                                   const float *images,
                                   GraftFeatureCache *cache,
                                   const int *items);
float graft_trainer_forward_loss (GraftTrainer *t,
                                  PlanState *ps,
                                  const int *labels,
                                  gboolean train,
                                  int *correct);
void graft_trainer_backward (GraftTrainer *t, PlanState *ps, const int *labels);
/* The parts of graft_trainer_backward, for profiling node by node:
 * backward_begin zeroes the unreached weight gradients and writes the
 * loss gradient; then backward_node for n from the last node down to
 * t->first_trainable. */
void graft_trainer_backward_begin (GraftTrainer *t,
                                   PlanState *ps,
                                   const int *labels);
void graft_trainer_backward_node (GraftTrainer *t, PlanState *ps, int n);
void graft_trainer_keep_running_stats (GraftTrainer *t);
void graft_trainer_restore_running_stats (GraftTrainer *t);
gboolean graft_trainer_set_up (GraftTrainer *t, GError **error);
gboolean graft_trainer_apply_update (GraftTrainer *t, float lr, GError **error);

G_END_DECLS
