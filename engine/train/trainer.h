/* trainer.h: fine-tuning a pretrained graph, as an API.
 *
 * A trainer owns a training graph (the pretrained trunk with a new head,
 * see graph-edit.h), decides per layer what trains, and runs epochs on the
 * caller's thread: only that thread touches the model while it runs.
 * Nothing before the first trainable layer gets a gradient, so the frozen
 * prefix costs one inference pass, and when it sees un-augmented images its
 * output is computed once per image and reused (the feature cache).
 */
#pragma once

#include "blocks.h"
#include "graph.h"
#include "train/optimizer.h"
#include "train/schedule.h"

G_BEGIN_DECLS

typedef enum
{
  GRAFT_FREEZE_HEAD_ONLY,   /* train only the new head */
  GRAFT_FREEZE_LAST_BLOCKS, /* the head and the last N blocks */
  GRAFT_FREEZE_NONE,        /* fine-tune everything */
} GraftFreezePreset;

typedef struct
{
  int epochs;
  int batch_size;
  GraftOptimizerKind optimizer;
  float learning_rate;     /* of the new head */
  float backbone_lr_scale; /* pretrained layers learn at lr x this */
  float weight_decay;
  float momentum; /* SGD */
  int warmup_epochs;
  GraftScheduleKind schedule;
  float label_smoothing;
  gboolean balance_classes; /* class weights inverse to their frequency */
  float clip_norm;          /* 0: no clipping */
  int patience;       /* epochs without improvement before stopping; 0: never */
  gboolean keep_best; /* end with the weights of the best validation epoch */
  gboolean augment;   /* the data source augments training images */
  gboolean feature_cache;
  size_t cache_memory_budget; /* bytes; beyond it the cache spills to a file */
  guint64 seed;
  char *checkpoint_dir; /* NULL: no checkpoints */
} GraftTrainConfig;

/* The defaults are the product: chosen to work well untouched. */
void graft_train_config_init (GraftTrainConfig *config);
void graft_train_config_clear (GraftTrainConfig *config);

/* Where the photos come from. load_batch writes n preprocessed images
 * (n, 3, H, W) for the given item indices of one split, augmented with the
 * given seed when augment is TRUE. */
typedef struct
{
  int n_train;
  int n_val;
  const int *train_labels;
  const int *val_labels;
  gboolean (*load_batch) (gpointer user,
                          gboolean validation,
                          const int *indices,
                          int n,
                          gboolean augment,
                          guint64 seed,
                          float *images,
                          GError **error);
  gpointer user;
} GraftTrainData;

typedef enum
{
  GRAFT_TRAIN_STEP,    /* after each training batch */
  GRAFT_TRAIN_EPOCH,   /* after each epoch's validation */
  GRAFT_TRAIN_CACHING, /* while the frozen layers' features are computed */
} GraftTrainPhase;

typedef struct
{
  GraftTrainPhase phase;
  int epoch; /* from 1 */
  int epochs;
  int step; /* in the epoch, from 1 */
  int steps_per_epoch;
  int global_step;
  float loss; /* this batch (STEP) or the epoch's mean (EPOCH) */
  float accuracy;
  float val_loss; /* EPOCH only */
  float val_accuracy;
  float learning_rate;
  double images_per_second;
  double eta_seconds;
  double elapsed_seconds;
  int cached; /* CACHING: images done, of cache_total */
  int cache_total;
  gboolean improved; /* EPOCH: best validation accuracy so far */
  int stage;         /* which of n_stages runs this is (see finetune.h) */
  int n_stages;
} GraftTrainProgress;

typedef void (*GraftTrainProgressFunc) (const GraftTrainProgress *progress,
                                        gpointer user);

typedef struct
{
  int epoch;
  float train_loss, train_accuracy;
  float val_loss, val_accuracy;
  double seconds;
} GraftEpochRecord;

typedef struct _GraftTrainer GraftTrainer;

/* A trainer for n_classes on base's trunk (cut at its feature layer).
 * Starts with the head-only preset. */
GraftTrainer *graft_trainer_new (const GraftGraph *base,
                                 int n_classes,
                                 const GraftTrainConfig *config,
                                 GError **error);
/* A trainer for a graph as it is, its first output being the class scores
 * (logits): nothing is cut or added. Takes ownership of graph. */
GraftTrainer *graft_trainer_new_for_graph (GraftGraph *graph, const GraftTrainConfig *config,
                                           GError **error);
void graft_trainer_free (GraftTrainer *trainer);

/* The training graph (trunk + new head); its weights change as it trains. */
GraftGraph *graft_trainer_get_graph (GraftTrainer *trainer);
const GraftBlock *graft_trainer_get_blocks (GraftTrainer *trainer,
                                            int *n_blocks);

void graft_trainer_freeze_preset (GraftTrainer *trainer,
                                  GraftFreezePreset preset,
                                  int n_last_blocks);
void graft_trainer_set_block_trainable (GraftTrainer *trainer,
                                        int block,
                                        gboolean trainable);
void graft_trainer_set_node_trainable (GraftTrainer *trainer,
                                       int node,
                                       gboolean trainable);
gboolean graft_trainer_node_trainable (GraftTrainer *trainer, int node);
/* Per-layer learning-rate multiplier on top of the backbone scale. */
void
graft_trainer_set_node_lr_scale (GraftTrainer *trainer, int node, float scale);
/* Parameters that will train, and all of them. */
int64_t graft_trainer_count_params (GraftTrainer *trainer,
                                    gboolean trainable_only);

/* Runs all epochs. FALSE with GRAFT_ERROR_CANCELLED when stopped,
 * GRAFT_ERROR_NUMERIC when the loss or a gradient stops being finite (the
 * last good weights are kept), or the data source's error. */
gboolean graft_trainer_run (GraftTrainer *trainer,
                            const GraftTrainData *data,
                            GraftTrainProgressFunc progress,
                            gpointer user,
                            GError **error);

/* Pause and stop for training in progress, thread-safe, and shareable:
 * one control handed to several trainers (as graft_finetune does with its
 * stages) reaches whichever of them is running. A run checks it before
 * every batch (training, validation and feature caching): it stops within
 * one batch once cancelled, and while paused it waits, reporting nothing
 * and leaving the paused time out of its speed, ETA and elapsed figures.
 * Cancelling wakes a paused run. A shared control's cancel is final. */
typedef struct _GraftTrainControl GraftTrainControl;

GraftTrainControl *graft_train_control_new (void);
GraftTrainControl *graft_train_control_ref (GraftTrainControl *control);
void graft_train_control_unref (GraftTrainControl *control);
void graft_train_control_set_paused (GraftTrainControl *control,
                                     gboolean paused);
gboolean graft_train_control_get_paused (GraftTrainControl *control);
void graft_train_control_cancel (GraftTrainControl *control);
gboolean graft_train_control_is_cancelled (GraftTrainControl *control);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftTrainControl, graft_train_control_unref)

/* The trainer obeys control (it takes a reference) instead of its own;
 * NULL gives it back its own. Not while it runs. */
void graft_trainer_set_control (GraftTrainer *trainer,
                                GraftTrainControl *control);

/* Thread-safe controls for a run in progress, through the trainer's
 * control (its own unless one was set): stop within one batch; pause and
 * resume between batches. The trainer's own control is reset when a run
 * starts, so a stop ends only the run in progress. */
void graft_trainer_cancel (GraftTrainer *trainer);
void graft_trainer_set_paused (GraftTrainer *trainer, gboolean paused);

/* Inference over one split: mean loss and accuracy; predictions (n) and
 * probabilities (n, n_classes) when not NULL. */
gboolean graft_trainer_evaluate (GraftTrainer *trainer,
                                 const GraftTrainData *data,
                                 gboolean validation,
                                 float *loss,
                                 float *accuracy,
                                 int *predictions,
                                 float *probabilities,
                                 GError **error);

/* One training step on a batch given directly (tests, benchmarks):
 * forward, loss, backward, optimizer update at learning rate lr. Returns
 * the loss. */
gboolean graft_trainer_step (GraftTrainer *trainer,
                             const float *images,
                             const int *labels,
                             int n,
                             float lr,
                             float *loss,
                             GError **error);
/* Gradient of the mean loss for a batch, without updating: grads are then
 * readable with graft_trainer_get_param_grad. */
gboolean graft_trainer_compute_gradients (GraftTrainer *trainer,
                                          const float *images,
                                          const int *labels,
                                          int n,
                                          float *loss,
                                          GError **error);
/* The gradient buffer of a constant value (a weight), or NULL when frozen. */
const float *graft_trainer_get_param_grad (GraftTrainer *trainer, int value);

/* The history of the last run, one record per epoch. */
const GraftEpochRecord *graft_trainer_get_history (GraftTrainer *trainer,
                                                   int *n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftTrainer, graft_trainer_free)

G_END_DECLS
