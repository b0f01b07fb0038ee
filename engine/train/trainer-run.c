/* trainer-run.c: epochs, evaluation, the feature cache, best weights and
 * checkpoints. */
#include "graft-error.h"
#include "kernels/loss.h"
#include "train/checkpoint.h"
#include "train/trainer-private.h"

#include <math.h>
#include <string.h>

#define CHECKPOINT_PREFIX "graft"

/* ---- pause and stop ---- */

struct _GraftTrainControl
{
  gint ref_count;
  GMutex lock;
  GCond changed; /* paused or cancelled changed */
  gboolean paused;
  gint cancelled; /* atomic: read without the lock between batches */
};

GraftTrainControl *
graft_train_control_new (void)
{
  GraftTrainControl *c = g_new0 (GraftTrainControl, 1);
  c->ref_count = 1;
  g_mutex_init (&c->lock);
  g_cond_init (&c->changed);
  return c;
}

GraftTrainControl *
graft_train_control_ref (GraftTrainControl *c)
{
  g_atomic_int_inc (&c->ref_count);
  return c;
}

void
graft_train_control_unref (GraftTrainControl *c)
{
  if (c == NULL || !g_atomic_int_dec_and_test (&c->ref_count))
    return;
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->changed);
  g_free (c);
}

void
graft_train_control_set_paused (GraftTrainControl *c, gboolean paused)
{
  g_mutex_lock (&c->lock);
  c->paused = paused;
  g_cond_broadcast (&c->changed);
  g_mutex_unlock (&c->lock);
}

gboolean
graft_train_control_get_paused (GraftTrainControl *c)
{
  gboolean paused;
  g_mutex_lock (&c->lock);
  paused = c->paused;
  g_mutex_unlock (&c->lock);
  return paused;
}

void
graft_train_control_cancel (GraftTrainControl *c)
{
  g_mutex_lock (&c->lock);
  g_atomic_int_set (&c->cancelled, TRUE);
  g_cond_broadcast (&c->changed);
  g_mutex_unlock (&c->lock);
}

gboolean
graft_train_control_is_cancelled (GraftTrainControl *c)
{
  return g_atomic_int_get (&c->cancelled);
}

void
graft_trainer_set_control (GraftTrainer *t, GraftTrainControl *control)
{
  GraftTrainControl *old = t->control;
  t->control = graft_train_control_ref (control ? control : t->own_control);
  graft_train_control_unref (old);
}

void
graft_trainer_cancel (GraftTrainer *t)
{
  graft_train_control_cancel (t->control);
}

void
graft_trainer_set_paused (GraftTrainer *t, gboolean paused)
{
  graft_train_control_set_paused (t->control, paused);
}

/* Waits while paused; FALSE with an error once cancelled. The seconds
 * spent paused go to t->paused_seconds so speed figures leave them out. */
static gboolean
check_controls (GraftTrainer *t, GError **error)
{
  GraftTrainControl *c = t->control;

  g_mutex_lock (&c->lock);
  if (c->paused && !g_atomic_int_get (&c->cancelled))
    {
      gint64 start = g_get_monotonic_time ();
      while (c->paused && !g_atomic_int_get (&c->cancelled))
        g_cond_wait (&c->changed, &c->lock);
      t->paused_seconds += (g_get_monotonic_time () - start) / 1e6;
    }
  g_mutex_unlock (&c->lock);
  if (g_atomic_int_get (&c->cancelled))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED,
                   "training was stopped");
      return FALSE;
    }
  return TRUE;
}

/* ---- the weights training changes: for best-epoch snapshots and
 * checkpoints ---- */

static gboolean
is_state_value (GraftTrainer *t, int v)
{
  GraftGraph *g = t->graph;
  if (t->param_grads[v])
    return TRUE;
  /* Running statistics of a BatchNormalization that trains. */
  for (int n = t->first_trainable; n < g->n_nodes; n++)
    if (graft_trainer_node_train_mode (t, n)
        && g_str_equal (g->nodes[n].op_type, "BatchNormalization"))
      for (int k = 3; k < g->nodes[n].n_inputs; k++)
        if (g->nodes[n].inputs[k] == v)
          return TRUE;
  return FALSE;
}

static GPtrArray *
snapshot_take (GraftTrainer *t)
{
  GPtrArray *snap = g_ptr_array_new_with_free_func ((GDestroyNotify) graft_tensor_free);
  for (int v = 0; v < t->graph->n_values; v++)
    g_ptr_array_add (snap, is_state_value (t, v) ? graft_tensor_copy (t->graph->values[v].constant)
                                                 : NULL);
  return snap;
}

static void
snapshot_restore (GraftTrainer *t, GPtrArray *snap)
{
  for (int v = 0; v < t->graph->n_values; v++)
    if (snap->pdata[v])
      memcpy (t->graph->values[v].constant->data, ((GraftTensor *) snap->pdata[v])->data,
              graft_tensor_nbytes (snap->pdata[v]));
}

/* ---- the feature cache ---- */

static gboolean
fill_cache (GraftTrainer *t, const GraftTrainData *data, gboolean validation,
            GraftFeatureCache **cache_out, GraftTrainProgressFunc progress, gpointer user,
            GraftTrainProgress *report, GError **error)
{
  int n_items = validation ? data->n_val : data->n_train;
  int batch = t->config.batch_size;
  g_autofree size_t *floats = g_new (size_t, MAX (t->n_cut_values, 1));
  g_autofree float *images = NULL;
  g_autofree int *items = g_new (int, batch);
  GraftFeatureCache *cache;
  PlanState *ps = graft_trainer_get_plan (t, batch, error);
  GraftGraph *g = t->graph;
  size_t image_floats;

  if (ps == NULL)
    return FALSE;
  image_floats = graft_tensor_numel (graft_plan_tensor (ps->plan, g->inputs[0])) / batch;
  for (int c = 0; c < t->n_cut_values; c++)
    floats[c] = graft_tensor_numel (graft_plan_tensor (ps->plan, t->cut_values[c])) / batch;
  cache = graft_feature_cache_new (n_items, floats, t->n_cut_values,
                                   t->config.cache_memory_budget, error);
  if (cache == NULL)
    return FALSE;
  images = g_new (float, image_floats * batch);
  for (int start = 0; start < n_items; start += batch)
    {
      int n = MIN (batch, n_items - start);
      PlanState *bs = n == batch ? ps : graft_trainer_get_plan (t, n, error);
      if (bs == NULL || !check_controls (t, error))
        goto fail;
      for (int i = 0; i < n; i++)
        items[i] = start + i;
      if (!data->load_batch (data->user, validation, items, n, FALSE, 0, images, error))
        goto fail;
      graft_trainer_run_prefix (t, bs, images, NULL, NULL);
      for (int c = 0; c < t->n_cut_values; c++)
        if (!graft_feature_cache_write (cache, c, items, n,
                                        graft_plan_tensor (bs->plan, t->cut_values[c])->data, error))
          goto fail;
      report->phase = GRAFT_TRAIN_CACHING;
      report->cached += n;
      if (progress)
        progress (report, user);
    }
  graft_feature_cache_set_complete (cache);
  *cache_out = cache;
  return TRUE;

fail:
  graft_feature_cache_free (cache);
  return FALSE;
}

/* The caches hold features of the images of one data source: another one
 * (or the same with other photos) must not be served them. */
static gboolean
same_data (const GraftTrainData *a, const GraftTrainData *b)
{
  return a->load_batch == b->load_batch && a->user == b->user && a->n_train == b->n_train
         && a->n_val == b->n_val && a->train_labels == b->train_labels
         && a->val_labels == b->val_labels;
}

static void
drop_caches (GraftTrainer *t)
{
  for (int i = 0; i < 2; i++)
    g_clear_pointer (&t->cache[i], graft_feature_cache_free);
}

/* ---- evaluation ---- */

static gboolean
evaluate (GraftTrainer *t, const GraftTrainData *data, gboolean validation, float *loss_out,
          float *accuracy_out, int *predictions, float *probabilities, GError **error)
{
  int n_items = validation ? data->n_val : data->n_train;
  const int *all_labels = validation ? data->val_labels : data->train_labels;
  GraftFeatureCache *cache = t->cache[validation ? 1 : 0];
  int batch = t->config.batch_size;
  g_autofree int *items = g_new (int, batch);
  g_autofree float *images = NULL;
  double loss_sum = 0;
  int correct = 0;

  if (n_items == 0)
    {
      *loss_out = NAN;
      *accuracy_out = NAN;
      return TRUE;
    }
  for (int start = 0; start < n_items; start += batch)
    {
      int n = MIN (batch, n_items - start);
      PlanState *ps = graft_trainer_get_plan (t, n, error);
      int batch_correct = 0;
      if (ps == NULL || !check_controls (t, error))
        return FALSE;
      for (int i = 0; i < n; i++)
        items[i] = start + i;
      if (cache == NULL || !graft_feature_cache_complete (cache))
        {
          GraftTensor *input = graft_plan_tensor (ps->plan, t->graph->inputs[0]);
          if (images == NULL)
            images = g_new (float, graft_tensor_numel (input) / n * batch);
          if (!data->load_batch (data->user, validation, items, n, FALSE, 0, images, error))
            return FALSE;
        }
      graft_trainer_run_prefix (t, ps, images, cache, items);
      loss_sum += (double) graft_trainer_forward_loss (t, ps, all_labels + start, FALSE,
                                                       &batch_correct) * n;
      correct += batch_correct;
      for (int i = 0; i < n; i++)
        {
          const float *p = ps->probs + (size_t) i * t->n_classes;
          int best = 0;
          for (int k = 1; k < t->n_classes; k++)
            if (p[k] > p[best])
              best = k;
          if (predictions)
            predictions[start + i] = best;
          if (probabilities)
            memcpy (probabilities + (size_t) (start + i) * t->n_classes, p,
                    sizeof (float) * t->n_classes);
        }
    }
  *loss_out = (float) (loss_sum / n_items);
  *accuracy_out = (float) correct / n_items;
  return TRUE;
}

gboolean
graft_trainer_evaluate (GraftTrainer *t, const GraftTrainData *data, gboolean validation,
                        float *loss, float *accuracy, int *predictions, float *probabilities,
                        GError **error)
{
  if (!graft_trainer_set_up (t, error))
    return FALSE;
  /* The last run's caches serve its own data only. */
  if (!same_data (data, &t->cache_data))
    drop_caches (t);
  return evaluate (t, data, validation, loss, accuracy, predictions, probabilities, error);
}

/* ---- checkpoints ---- */

static gboolean
save_checkpoint (GraftTrainer *t, int epoch, GError **error)
{
  g_autoptr (GraftCheckpoint) ck = graft_checkpoint_new ();
  g_autofree char *name = graft_checkpoint_filename (CHECKPOINT_PREFIX, t->global_step);
  g_autofree char *path = NULL;

  if (g_mkdir_with_parents (t->config.checkpoint_dir, 0755) != 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot create the folder",
                   t->config.checkpoint_dir);
      return FALSE;
    }
  for (int v = 0; v < t->graph->n_values; v++)
    if (is_state_value (t, v))
      graft_checkpoint_add_tensor (ck, t->graph->values[v].name, t->graph->values[v].constant);
  graft_optimizer_save_state (t->optimizer, ck);
  graft_checkpoint_set_int (ck, "graft.trainer.epoch", epoch);
  graft_checkpoint_set_int (ck, "graft.trainer.global_step", t->global_step);
  if (t->history->len)
    graft_checkpoint_add_floats (ck, "trainer/history", (const float *) t->history->data,
                                 t->history->len * sizeof (GraftEpochRecord) / sizeof (float));
  path = g_build_filename (t->config.checkpoint_dir, name, NULL);
  return graft_checkpoint_save (ck, path, error)
         && graft_checkpoint_prune (t->config.checkpoint_dir, CHECKPOINT_PREFIX, 2, error);
}

/* Restores the newest good checkpoint in the checkpoint folder; *epoch
 * gets the last finished epoch (0 when there is none). */
static gboolean
resume (GraftTrainer *t, int *epoch, GError **error)
{
  g_autoptr (GraftCheckpoint) ck = NULL;
  int64_t value = 0;

  *epoch = 0;
  if (t->config.checkpoint_dir == NULL)
    return TRUE;
  ck = graft_checkpoint_load_latest (t->config.checkpoint_dir, CHECKPOINT_PREFIX, NULL, error);
  if (ck == NULL)
    return error == NULL || *error == NULL;
  for (int v = 0; v < t->graph->n_values; v++)
    if (is_state_value (t, v))
      {
        const GraftTensor *saved = graft_checkpoint_get_tensor (ck, t->graph->values[v].name);
        GraftTensor *live = t->graph->values[v].constant;
        if (saved == NULL || !graft_shape_equal (&saved->shape, &live->shape))
          {
            g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                         "%s: the checkpoint is for another model or other frozen layers "
                         "('%s' does not fit)",
                         t->config.checkpoint_dir, t->graph->values[v].name);
            return FALSE;
          }
        memcpy (live->data, saved->data, graft_tensor_nbytes (live));
      }
  if (!graft_optimizer_load_state (t->optimizer, ck, error))
    return FALSE;
  if (graft_checkpoint_get_int (ck, "graft.trainer.epoch", &value, NULL))
    *epoch = (int) value;
  if (graft_checkpoint_get_int (ck, "graft.trainer.global_step", &value, NULL))
    t->global_step = (int) value;
  {
    const GraftTensor *h = graft_checkpoint_get_tensor (ck, "trainer/history");
    g_array_set_size (t->history, 0);
    if (h)
      g_array_append_vals (t->history, h->data,
                           graft_tensor_nbytes (h) / sizeof (GraftEpochRecord));
  }
  return TRUE;
}

/* ---- the run ---- */

static void
compute_class_weights (GraftTrainer *t, const GraftTrainData *data)
{
  g_autofree int *counts = g_new0 (int, t->n_classes);

  g_clear_pointer (&t->class_weights, g_free);
  if (!t->config.balance_classes || data->n_train == 0)
    return;
  for (int i = 0; i < data->n_train; i++)
    if (data->train_labels[i] >= 0 && data->train_labels[i] < t->n_classes)
      counts[data->train_labels[i]]++;
  t->class_weights = g_new (float, t->n_classes);
  for (int k = 0; k < t->n_classes; k++)
    t->class_weights[k] = counts[k] ? (float) data->n_train / ((float) t->n_classes * counts[k])
                                    : 0.0f;
}

static void
shuffle (int *order, int n, guint64 seed, int epoch)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed ((guint32) (seed * 1000003u + (guint64) epoch));
  for (int i = 0; i < n; i++)
    order[i] = i;
  for (int i = n - 1; i > 0; i--)
    {
      int j = g_rand_int_range (rand, 0, i + 1);
      int tmp = order[i];
      order[i] = order[j];
      order[j] = tmp;
    }
}

static gboolean
check_labels (GraftTrainer *t, const int *labels, int n, GError **error)
{
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= t->n_classes)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                     "label %d of item %d is not one of the %d classes", labels[i], i,
                     t->n_classes);
        return FALSE;
      }
  return TRUE;
}

gboolean
graft_trainer_run (GraftTrainer *t, const GraftTrainData *data, GraftTrainProgressFunc progress,
                   gpointer user, GError **error)
{
  GraftTrainConfig *cfg = &t->config;
  int batch = cfg->batch_size;
  /* A last batch of one would make batch statistics meaningless: drop it. */
  int steps_per_epoch = data->n_train / batch + (data->n_train % batch >= 2 ? 1 : 0);
  g_autofree int *order = g_new (int, MAX (data->n_train, 1));
  g_autofree int *labels = g_new (int, batch);
  g_autofree float *images = NULL;
  g_autoptr (GPtrArray) best = NULL;
  GraftScheduleConfig schedule;
  GraftTrainProgress report = { 0 };
  float best_accuracy = -1, best_loss = INFINITY;
  int stale_epochs = 0, start_epoch = 0;
  gint64 run_start = g_get_monotonic_time ();
  gboolean train_cache_ok;

  if (cfg->batch_size < 2 || cfg->epochs < 1)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "batch size must be at least 2 and epochs at least 1");
      return FALSE;
    }
  if (data->n_train < 2)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "training needs at least two photos, there are %d", data->n_train);
      return FALSE;
    }
  if (!check_labels (t, data->train_labels, data->n_train, error)
      || !check_labels (t, data->val_labels, data->n_val, error)
      || !graft_trainer_set_up (t, error))
    return FALSE;
  /* The trainer's own control serves one run at a time; a shared one
   * belongs to its owner, whose stop must not be forgotten here. */
  if (t->control == t->own_control)
    g_atomic_int_set (&t->own_control->cancelled, FALSE);
  t->paused_seconds = 0;
  compute_class_weights (t, data);
  g_array_set_size (t->history, 0);
  /* A run starts its schedule afresh (resume below may move it on), and
   * caches its features anew: the photos may have changed since the last
   * run. */
  t->global_step = 0;
  drop_caches (t);
  t->cache_data = *data;
  if (!resume (t, &start_epoch, error))
    return FALSE;

  schedule = graft_schedule_config_default (cfg->schedule, cfg->learning_rate);
  schedule.total_steps = cfg->epochs * steps_per_epoch;
  schedule.warmup_steps = MIN (cfg->warmup_epochs * steps_per_epoch, schedule.total_steps / 2);
  schedule.step_size = MAX (1, schedule.total_steps / 3);
  schedule.min_lr = 0;

  /* Cache the frozen prefix's output when it is worth it and valid. */
  report.epochs = cfg->epochs;
  report.cache_total = data->n_val + (cfg->augment ? 0 : data->n_train);
  train_cache_ok = cfg->feature_cache && t->first_trainable > 0;
  if (train_cache_ok && data->n_val > 0 && t->cache[1] == NULL
      && !fill_cache (t, data, TRUE, &t->cache[1], progress, user, &report, error))
    return FALSE;
  if (train_cache_ok && !cfg->augment && t->cache[0] == NULL
      && !fill_cache (t, data, FALSE, &t->cache[0], progress, user, &report, error))
    return FALSE;

  for (int epoch = start_epoch + 1; epoch <= cfg->epochs; epoch++)
    {
      GraftFeatureCache *cache = cfg->augment ? NULL : t->cache[0];
      gint64 epoch_start = g_get_monotonic_time ();
      double epoch_paused = t->paused_seconds;
      double loss_sum = 0;
      int correct_sum = 0, seen = 0;
      GraftEpochRecord record = { .epoch = epoch };

      shuffle (order, data->n_train, cfg->seed, epoch);
      for (int step = 0; step < steps_per_epoch; step++)
        {
          int start = step * batch;
          int n = MIN (batch, data->n_train - start);
          PlanState *ps;
          GraftWorkspace *ws;
          float loss, lr;
          int correct = 0;
          double seconds;

          if (!check_controls (t, error))
            return FALSE;
          ps = graft_trainer_get_plan (t, n, error);
          if (ps == NULL)
            return FALSE;
          for (int i = 0; i < n; i++)
            labels[i] = data->train_labels[order[start + i]];
          if (cache == NULL)
            {
              GraftTensor *input = graft_plan_tensor (ps->plan, t->graph->inputs[0]);
              if (images == NULL)
                images = g_new (float, graft_tensor_numel (input) / n * batch);
              if (!data->load_batch (data->user, FALSE, order + start, n, cfg->augment,
                                     cfg->seed ^ ((guint64) t->global_step << 20), images,
                                     error))
                return FALSE;
            }
          ws = graft_plan_workspace (ps->plan);
          ws->seed = cfg->seed;
          ws->step = (guint64) t->global_step;
          graft_trainer_run_prefix (t, ps, images, cache, order + start);
          graft_trainer_keep_running_stats (t);
          loss = graft_trainer_forward_loss (t, ps, labels, TRUE, &correct);
          if (!isfinite (loss))
            {
              graft_trainer_restore_running_stats (t);
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_NUMERIC,
                           "the loss stopped being a finite number in epoch %d; the last good "
                           "weights are kept. A lower learning rate usually helps.",
                           epoch);
              if (best)
                snapshot_restore (t, best);
              return FALSE;
            }
          graft_trainer_backward (t, ps, labels);
          lr = graft_schedule_lr (&schedule, t->global_step);
          if (!graft_trainer_apply_update (t, lr, error))
            {
              if (best)
                snapshot_restore (t, best);
              return FALSE;
            }
          loss_sum += (double) loss * n;
          correct_sum += correct;
          seen += n;

          seconds = (g_get_monotonic_time () - epoch_start) / 1e6 -
                    (t->paused_seconds - epoch_paused);
          report.phase = GRAFT_TRAIN_STEP;
          report.epoch = epoch;
          report.step = step + 1;
          report.steps_per_epoch = steps_per_epoch;
          report.global_step = t->global_step;
          report.loss = loss;
          report.accuracy = (float) correct / n;
          report.learning_rate = lr;
          report.images_per_second = seconds > 0 ? seen / seconds : 0;
          report.elapsed_seconds =
              (g_get_monotonic_time () - run_start) / 1e6 - t->paused_seconds;
          report.eta_seconds
              = report.images_per_second > 0
                    ? ((double) (cfg->epochs - epoch) * data->n_train + (data->n_train - seen))
                          / report.images_per_second
                    : 0;
          if (progress)
            progress (&report, user);
        }

      record.train_loss = (float) (loss_sum / MAX (seen, 1));
      record.train_accuracy = (float) correct_sum / MAX (seen, 1);
      if (!evaluate (t, data, TRUE, &record.val_loss, &record.val_accuracy, NULL, NULL, error))
        return FALSE;
      record.seconds = (g_get_monotonic_time () - epoch_start) / 1e6 -
                       (t->paused_seconds - epoch_paused);
      g_array_append_val (t->history, record);

      {
        /* Without validation photos, training accuracy is all there is. */
        float score = data->n_val > 0 ? record.val_accuracy : record.train_accuracy;
        float score_loss = data->n_val > 0 ? record.val_loss : record.train_loss;
        report.improved = score > best_accuracy || (score == best_accuracy && score_loss < best_loss);
        if (report.improved)
          {
            best_accuracy = score;
            best_loss = score_loss;
            stale_epochs = 0;
            if (cfg->keep_best)
              {
                g_clear_pointer (&best, g_ptr_array_unref);
                best = snapshot_take (t);
              }
          }
        else
          stale_epochs++;
      }
      report.phase = GRAFT_TRAIN_EPOCH;
      report.epoch = epoch;
      report.loss = record.train_loss;
      report.accuracy = record.train_accuracy;
      report.val_loss = record.val_loss;
      report.val_accuracy = record.val_accuracy;
      report.elapsed_seconds =
          (g_get_monotonic_time () - run_start) / 1e6 - t->paused_seconds;
      if (progress)
        progress (&report, user);
      if (cfg->checkpoint_dir && !save_checkpoint (t, epoch, error))
        return FALSE;
      if (cfg->patience > 0 && stale_epochs >= cfg->patience)
        break;
    }
  if (best)
    snapshot_restore (t, best);
  return TRUE;
}
