/* finetune.c: the requested fine-tune, checked against the head alone. */
#include "config.h"

#include "finetune.h"

#include "graft-error.h"

#include <glib/gi18n-lib.h>
#include <math.h>

void
graft_finetune_options_init (GraftFinetuneOptions *o)
{
  o->preset = GRAFT_FREEZE_LAST_BLOCKS;
  o->last_blocks = 10;
  o->compare_head_only = TRUE;
  graft_train_config_init (&o->train);
}

void
graft_finetune_options_clear (GraftFinetuneOptions *o)
{
  graft_train_config_clear (&o->train);
}

void
graft_finetune_report_clear (GraftFinetuneReport *r)
{
  g_clear_pointer (&r->explanation, g_free);
}

typedef struct
{
  GraftTrainProgressFunc progress;
  gpointer user;
  int stage;
  int n_stages;
} StageRelay;

static void
relay_progress (const GraftTrainProgress *p, gpointer data)
{
  StageRelay *relay = data;
  GraftTrainProgress copy = *p;
  copy.stage = relay->stage;
  copy.n_stages = relay->n_stages;
  if (relay->progress)
    relay->progress (&copy, relay->user);
}

static void
cancel_control (GCancellable *cancellable, gpointer control)
{
  graft_train_control_cancel (control);
}

static GraftTrainer *
train_one (const GraftGraph *base,
           int n_classes,
           const GraftTrainConfig *config,
           GraftFreezePreset preset,
           int last_blocks,
           const GraftTrainData *data,
           StageRelay *relay,
           GraftTrainControl *control,
           float *val_accuracy,
           GError **error)
{
  g_autoptr (GraftTrainer) t = graft_trainer_new (base, n_classes, config, error);
  gboolean ok;
  const GraftEpochRecord *history;
  int n_history;

  if (t == NULL)
    return NULL;
  graft_trainer_freeze_preset (t, preset, last_blocks);
  graft_trainer_set_control (t, control);
  ok = graft_trainer_run (t, data, relay_progress, relay, error);
  /* The caller may run the trainer again: it must not inherit a stop. */
  graft_trainer_set_control (t, NULL);
  if (!ok)
    return NULL;
  /* keep_best restored the best epoch: its accuracy is the max recorded. */
  history = graft_trainer_get_history (t, &n_history);
  *val_accuracy = -1;
  for (int i = 0; i < n_history; i++)
    {
      float acc = data->n_val > 0 ? history[i].val_accuracy : history[i].train_accuracy;
      if (config->keep_best ? acc > *val_accuracy : TRUE)
        *val_accuracy = acc;
    }
  return g_steal_pointer (&t);
}

static GraftTrainer *
finetune_stages (const GraftGraph *base,
                 int n_classes,
                 const GraftFinetuneOptions *options,
                 const GraftTrainData *data,
                 StageRelay *relay,
                 GraftFinetuneReport *report,
                 GraftTrainControl *control,
                 GError **error)
{
  gboolean compare = options->compare_head_only && options->preset != GRAFT_FREEZE_HEAD_ONLY
                     && data->n_val > 0;
  g_autoptr (GraftTrainer) head = NULL;
  g_autoptr (GraftTrainer) requested = NULL;
  float head_acc = NAN, requested_acc = NAN;

  relay->n_stages = compare ? 2 : 1;
  report->head_only_accuracy = NAN;
  report->kept_head_only = FALSE;
  report->explanation = NULL;

  if (compare)
    {
      /* The head alone first: fast, and the baseline to beat. */
      head =
          train_one (base, n_classes, &options->train, GRAFT_FREEZE_HEAD_ONLY,
                     0, data, relay, control, &head_acc, error);
      if (head == NULL)
        return NULL;
      relay->stage = 2;
    }
  requested = train_one (base, n_classes, &options->train, options->preset,
                         options->last_blocks, data, relay, control,
                         &requested_acc, error);
  if (requested == NULL)
    return NULL;
  report->requested_accuracy = requested_acc;
  report->head_only_accuracy = head_acc;
  if (compare && head_acc > requested_acc)
    {
      report->kept_head_only = TRUE;
      report->val_accuracy = head_acc;
      report->explanation = g_strdup_printf (
          _ ("Fine-tuning the pretrained layers made the model worse on your validation photos "
             "(%.1f%% instead of %.1f%% when only the new classifier is trained). This happens "
             "when there are few photos: the pretrained layers drift away from features that "
             "already suited your categories. Graft kept the better model, which trains only "
             "the new classifier."),
          100 * requested_acc, 100 * head_acc);
      return g_steal_pointer (&head);
    }
  report->val_accuracy = requested_acc;
  if (compare && requested_acc > head_acc)
    report->explanation = g_strdup_printf (
        _ ("Fine-tuning the pretrained layers helped: %.1f%% on your validation photos, against "
           "%.1f%% when only the new classifier is trained."),
        100 * requested_acc, 100 * head_acc);
  else if (compare)
    report->explanation = g_strdup_printf (
        _ ("Fine-tuning the pretrained layers did as well as training only the new classifier "
           "(%.1f%% on your validation photos)."),
        100 * requested_acc);
  return g_steal_pointer (&requested);
}

GraftTrainer *
graft_finetune_with_control (const GraftGraph *base,
                             int n_classes,
                             const GraftFinetuneOptions *options,
                             const GraftTrainData *data,
                             GraftTrainProgressFunc progress,
                             gpointer user,
                             GraftFinetuneReport *report,
                             GCancellable *cancellable,
                             GraftTrainControl *control,
                             GError **error)
{
  /* One control for every stage: whichever trainer runs obeys it, and a
   * stop between stages is not lost. */
  g_autoptr (GraftTrainControl) stages =
      control ? graft_train_control_ref (control) : graft_train_control_new ();
  StageRelay relay = { progress, user, 1, 1 };
  gulong handler = 0;
  GraftTrainer *kept;

  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancel_control),
                                     stages, NULL);
  kept = finetune_stages (base, n_classes, options, data, &relay, report,
                          stages, error);
  if (cancellable)
    g_cancellable_disconnect (cancellable, handler);
  return kept;
}

GraftTrainer *
graft_finetune (const GraftGraph *base,
                int n_classes,
                const GraftFinetuneOptions *options,
                const GraftTrainData *data,
                GraftTrainProgressFunc progress,
                gpointer user,
                GraftFinetuneReport *report,
                GCancellable *cancellable,
                GError **error)
{
  return graft_finetune_with_control (base, n_classes, options, data, progress,
                                      user, report, cancellable, NULL, error);
}
