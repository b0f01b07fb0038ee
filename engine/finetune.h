/* finetune.h: the whole fine-tune a user asks for, with a safety net.
 *
 * Unfreezing pretrained layers can make a model worse on few photos
 * (negative transfer): they drift away from features that already fit.
 * When the user asks for more than the new head, Graft also trains the
 * head alone (cheap: the frozen features are cached) and keeps whichever
 * does better on the validation photos, saying why in plain words.
 */
#pragma once

#include "train/trainer.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GraftFreezePreset preset;
  int last_blocks;          /* for GRAFT_FREEZE_LAST_BLOCKS */
  gboolean compare_head_only;
  GraftTrainConfig train;
} GraftFinetuneOptions;

void graft_finetune_options_init (GraftFinetuneOptions *options);
void graft_finetune_options_clear (GraftFinetuneOptions *options);

typedef struct
{
  float val_accuracy;            /* of the model kept */
  float head_only_accuracy;      /* NAN when not compared */
  float requested_accuracy;      /* of the preset asked for */
  gboolean kept_head_only;
  char *explanation;             /* one or two sentences, or NULL */
} GraftFinetuneReport;

void graft_finetune_report_clear (GraftFinetuneReport *report);

/* Trains and returns the trainer holding the model kept. Cancelling
 * cancellable stops whichever stage runs, within one batch. */
GraftTrainer *graft_finetune (const GraftGraph *base, int n_classes,
                              const GraftFinetuneOptions *options, const GraftTrainData *data,
                              GraftTrainProgressFunc progress, gpointer user,
                              GraftFinetuneReport *report, GCancellable *cancellable,
                              GError **error);

/* The same, and every stage obeys control (may be NULL): pausing it holds
 * the run within one batch or step, whichever stage runs (caching
 * features, training the head alone, the requested preset), and
 * cancelling it stops the run as cancellable does. The trainer returned
 * no longer follows control. */
GraftTrainer *graft_finetune_with_control (const GraftGraph *base,
                                           int n_classes,
                                           const GraftFinetuneOptions *options,
                                           const GraftTrainData *data,
                                           GraftTrainProgressFunc progress,
                                           gpointer user,
                                           GraftFinetuneReport *report,
                                           GCancellable *cancellable,
                                           GraftTrainControl *control,
                                           GError **error);

G_END_DECLS
