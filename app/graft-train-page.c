/* graft-train-page.c: step 4, training with live progress.
 *
 * The run lives on one worker thread (GThread), the only thread that
 * touches the model. It reports progress into a queue under a mutex and
 * wakes the main loop at most 10 times a second, so a fast stream of steps
 * or of short epochs never floods the UI: each wake-up drains every queued
 * report at once, and the window redraws only then. Stop and closing the
 * window share one GCancellable, handed to graft_finetune; Pause and
 * Resume set one GraftTrainControl, which every stage of the fine-tune
 * obeys between batches (a stop also cancels it, waking a paused run).
 */
#include "config.h"

#include "graft-train-page.h"

#include "export.h"

#include "graft-chart.h"
#include "graft-error.h"
#include "graph-edit.h"
#include "loader.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define UI_INTERVAL_US (G_USEC_PER_SEC / 10)
#define STATUS_INTERVAL_US G_USEC_PER_SEC
#define WATCHDOG_INTERVAL_MS 10

/* ---- the run, shared by the worker and the page ---- */

typedef struct
{
  gint ref_count;
  GraftTrainPage *page; /* NULL once the page is gone (main thread only) */
  GThread *thread;
  GCancellable *cancellable;
  GraftTrainControl *control; /* pause, and the stop relayed to it */

  /* inputs, owned: the worker never reads the page's state */
  char *model_path;
  char *model_title;
  char **paths;
  int n_paths;
  GArray *train_items; /* int: index into paths */
  GArray *val_items;
  int *item_labels;
  int *train_labels;
  int *val_labels;
  char **classes;
  int n_classes;
  GraftFinetuneOptions options;
  gboolean *trainable; /* NULL for a preset */
  int n_blocks;

  /* worker to main thread */
  GMutex lock;
  GArray *pending; /* GraftTrainProgress */
  gboolean flush_scheduled;
  gint64 last_flush;
  guint n_reports;

  /* the outcome, read after join */
  GraftTrainResult *result;
  GError *error;
  GraftLoader *loader;
} TrainRun;

static TrainRun *
train_run_ref (TrainRun *run)
{
  g_atomic_int_inc (&run->ref_count);
  return run;
}

static void
train_run_unref (TrainRun *run)
{
  if (!g_atomic_int_dec_and_test (&run->ref_count))
    return;
  g_clear_object (&run->cancellable);
  graft_train_control_unref (run->control);
  g_free (run->model_path);
  g_free (run->model_title);
  g_strfreev (run->paths);
  g_array_unref (run->train_items);
  g_array_unref (run->val_items);
  g_free (run->item_labels);
  g_free (run->train_labels);
  g_free (run->val_labels);
  g_strfreev (run->classes);
  graft_finetune_options_clear (&run->options);
  g_free (run->trainable);
  g_mutex_clear (&run->lock);
  g_array_unref (run->pending);
  g_clear_pointer (&run->result, graft_train_result_unref);
  g_clear_error (&run->error);
  g_free (run);
}

struct _GraftTrainPage
{
  AdwBin parent_instance;

  GtkWidget *epochs_spin, *batch_spin, *lr_spin;
  GtkWidget *optimizer_drop, *augment_switch, *smoothing_spin, *decay_spin;
  GtkWidget *backbone_spin, *warmup_spin, *patience_spin, *balance_switch,
      *compare_switch;
  GtkWidget *settings_group;
  GtkWidget *start_button, *pause_button, *stop_button;
  GtkWidget *progress_box;
  GtkWidget *charts_box;
  GtkWidget *stage_label;
  GtkWidget *status_label;
  gint64 status_changed; /* when progress last changed it (monotonic us) */
  gboolean status_held;  /* "Paused…" or "Stopping…" stays */
  char *status_pending;  /* the latest text, shown when the second is up */
  guint status_source;
  GtkWidget *progress_bar;
  GtkWidget *loss_chart, *accuracy_chart;
  GtkWidget *error_box, *error_label, *error_button;
  GtkWidget *done_label;
  int s_step_loss, s_epoch_loss, s_val_loss, s_step_acc, s_epoch_acc, s_val_acc;
  int chart_stage;
  int n_stages;

  GSettings *settings;
  TrainRun *run;
  GraftTrainResult *result;
  char *error_message;
  gboolean error_is_numeric;
  double longest_stall_ms;
  gint64 longest_stall_at;
  gint64 watchdog_last, watchdog_started;
  guint watchdog_source;
  guint n_long_stalls; /* over 50 ms */
  /* GRAFT_DEBUG_STALLS=1: where the main thread's time goes */
  gboolean debug_stalls;
  double longest_flush_ms, longest_frame_ms, frames_ms;
  guint n_frames;
  gint64 frame_start;
  GdkFrameClock *frame_clock;
  gulong frame_before_paint_handler, frame_after_paint_handler;
  guint n_ui_updates;
  guint n_reports;
};

G_DEFINE_FINAL_TYPE (GraftTrainPage, graft_train_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_RUNNING,
  PROP_PAUSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* ---- the worker ---- */

static gboolean flush_progress (gpointer user_data);

static void
queue_progress (const GraftTrainProgress *p, gpointer user)
{
  TrainRun *run = user;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&run->lock);
  g_array_append_val (run->pending, *p);
  run->n_reports++;
  if (!run->flush_scheduled)
    {
      /* One wake-up at a time, UI_INTERVAL_US after the last one at the
       * earliest: a report waits at most that long. */
      gint64 wait_us = run->last_flush + UI_INTERVAL_US - now;

      run->flush_scheduled = TRUE;
      if (wait_us <= 0)
        g_idle_add_full (G_PRIORITY_DEFAULT, flush_progress,
                         train_run_ref (run), (GDestroyNotify) train_run_unref);
      else
        g_timeout_add_full (G_PRIORITY_DEFAULT,
                            (guint) ((wait_us + 999) / 1000), flush_progress,
                            train_run_ref (run),
                            (GDestroyNotify) train_run_unref);
    }
  g_mutex_unlock (&run->lock);
}

static void
cancel_control (GCancellable *cancellable, gpointer control)
{
  graft_train_control_cancel (control);
}

static gboolean
load_batch (gpointer user,
            gboolean validation,
            const int *indices,
            int n,
            gboolean augment,
            guint64 seed,
            float *images,
            GError **error)
{
  TrainRun *run = user;
  GArray *split = validation ? run->val_items : run->train_items;
  g_autofree int *items = g_new (int, n);

  /* Pause and stop are the trainer's, checked before every batch. */
  for (int i = 0; i < n; i++)
    items[i] = g_array_index (split, int, indices[i]);
  return graft_loader_load (run->loader, items, n, augment, seed, images,
                            error);
}

/* The switches as the user set them: exactly those blocks train, without
 * the head-only comparison (that compares presets). */
static GraftTrainer *
train_custom (TrainRun *run,
              const GraftGraph *base,
              const GraftTrainData *data,
              GError **error)
{
  g_autoptr (GraftTrainer) trainer =
      graft_trainer_new (base, run->n_classes, &run->options.train, error);
  int n_blocks = 0;

  if (trainer == NULL)
    return NULL;
  graft_trainer_get_blocks (trainer, &n_blocks);
  for (int b = 0; b < n_blocks && b < run->n_blocks; b++)
    graft_trainer_set_block_trainable (trainer, b, run->trainable[b]);
  graft_trainer_set_control (trainer, run->control);
  if (!graft_trainer_run (trainer, data, queue_progress, run, error))
    return NULL;
  return g_steal_pointer (&trainer);
}

static gboolean
finish_result (TrainRun *run,
               GraftTrainer *trainer,
               const GraftTrainData *data,
               const GraftPreprocess *pp,
               GraftFinetuneReport *report,
               GError **error)
{
  g_autoptr (GraftTrainResult) result = graft_train_result_new ();
  float loss = 0, accuracy = 0;

  result->classes = g_strdupv (run->classes);
  result->n_classes = run->n_classes;
  result->preprocess = *pp;
  result->base_title = g_strdup (run->model_title);
  result->base_model = g_strdup (run->model_path);
  result->n_val = data->n_val;
  result->val_paths = g_new0 (char *, data->n_val + 1);
  result->val_labels =
      g_memdup2 (data->val_labels, sizeof (int) * MAX (data->n_val, 1));
  result->val_predicted = g_new0 (int, MAX (data->n_val, 1));
  for (int i = 0; i < data->n_val; i++)
    result->val_paths[i] =
        g_strdup (run->paths[g_array_index (run->val_items, int, i)]);
  /* Pause and Stop still hold while the photos are checked. */
  graft_trainer_set_control (trainer, run->control);
  if (data->n_val > 0 &&
      !graft_trainer_evaluate (trainer, data, TRUE, &loss, &accuracy,
                               result->val_predicted, NULL, error))
    return FALSE;
  result->metrics = graft_metrics_new (run->n_classes, result->val_labels,
                                       result->val_predicted, data->n_val);
  result->val_accuracy = data->n_val > 0 ? accuracy : report->val_accuracy;
  result->explanation = g_strdup (report->explanation);

  /* The finished classifier, written once: try-an-image runs it, export
   * copies it. */
  result->dir = g_dir_make_tmp ("graft-model-XXXXXX", error);
  if (result->dir == NULL)
    return FALSE;
  result->model_file = g_build_filename (result->dir, "model.onnx", NULL);
  if (!graft_export_classifier (
          graft_trainer_get_graph (trainer), (const char *const *) run->classes,
          run->n_classes, pp, FALSE, result->model_file, error))
    return FALSE;
  result->classifier = graft_classifier_new (result->model_file, error);
  if (result->classifier == NULL)
    return FALSE;
  run->result = g_steal_pointer (&result);
  return TRUE;
}

static gboolean finish_run (gpointer user_data);

static gpointer
train_thread (gpointer user_data)
{
  TrainRun *run = user_data;
  g_autoptr (GraftGraph) base = NULL;
  g_autoptr (GraftTrainer) trainer = NULL;
  GraftFinetuneReport report = { 0 };
  GraftTrainData data = { 0 };
  GraftPreprocess pp;
  GraftAugment augment;
  GError *error = NULL;
  gulong stop_relay;

#ifdef __linux__
  /* Linux nice values are per thread: training yields to the UI thread
   * (and the threads it starts inherit that). */
  setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 5);
#endif
  /* Stop and closing the window cancel the GCancellable; the trainers
   * hear it through the control, which also wakes a paused run. */
  stop_relay = g_cancellable_connect (
      run->cancellable, G_CALLBACK (cancel_control), run->control, NULL);
  base = graft_graph_load (run->model_path, &error);
  if (base == NULL)
    goto out;
  /* As graft-cli train: the model's own preprocessing. */
  if (!graft_preprocess_from_model (&pp, base->model, &error))
    goto out;
  graft_augment_init_default (&augment);
  augment.enabled = run->options.train.augment;
  run->loader =
      graft_loader_new ((const char *const *) run->paths, run->n_paths, &pp,
                        &augment, 0, (size_t) 1 << 30);
  data.n_train = (int) run->train_items->len;
  data.n_val = (int) run->val_items->len;
  data.train_labels = run->train_labels;
  data.val_labels = run->val_labels;
  data.load_batch = load_batch;
  data.user = run;

  if (run->trainable != NULL)
    trainer = train_custom (run, base, &data, &error);
  else
    trainer = graft_finetune_with_control (
        base, run->n_classes, &run->options, &data, queue_progress, run,
        &report, run->cancellable, run->control, &error);
  if (trainer == NULL)
    goto out;
  finish_result (run, trainer, &data, &pp, &report, &error);
out:
  if (g_cancellable_is_cancelled (run->cancellable) && error != NULL)
    {
      /* A stop may surface as any error from the batch it interrupted. */
      g_clear_error (&error);
      g_set_error_literal (&error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED,
                           "Stopped");
    }
  if (error != NULL)
    g_clear_pointer (&run->result, graft_train_result_unref);
  run->error = error;
  graft_finetune_report_clear (&report);
  g_clear_pointer (&run->loader, graft_loader_free);
  g_cancellable_disconnect (run->cancellable, stop_relay);
  g_idle_add_full (G_PRIORITY_DEFAULT, finish_run, train_run_ref (run),
                   (GDestroyNotify) train_run_unref);
  train_run_unref (run); /* the thread's own reference */
  return NULL;
}

/* ---- progress on the main thread ---- */

static char *
format_eta (double seconds)
{
  if (!isfinite (seconds) || seconds <= 0)
    return g_strdup ("");
  if (seconds < 60)
    return g_strdup_printf (_ ("%.0f s left"), ceil (seconds));
  if (seconds < 3600)
    return g_strdup_printf (_ ("%.0f min left"), ceil (seconds / 60));
  return g_strdup_printf (_ ("%.1f h left"), seconds / 3600);
}

static void
reset_charts (GraftTrainPage *self)
{
  GraftChart *loss = GRAFT_CHART (self->loss_chart);
  GraftChart *acc = GRAFT_CHART (self->accuracy_chart);

  graft_chart_clear (loss);
  graft_chart_clear (acc);
  self->s_step_loss = graft_chart_add_series (loss, _ ("Training, each step"),
                                              GRAFT_CHART_SERIES_SOLID);
  self->s_epoch_loss = graft_chart_add_series (loss, _ ("Training, each epoch"),
                                               GRAFT_CHART_SERIES_MARKERS);
  self->s_val_loss = graft_chart_add_series (loss, _ ("Validation"),
                                             GRAFT_CHART_SERIES_DASHED |
                                                 GRAFT_CHART_SERIES_MARKERS);
  self->s_step_acc = graft_chart_add_series (acc, _ ("Training, each step"),
                                             GRAFT_CHART_SERIES_SOLID);
  self->s_epoch_acc = graft_chart_add_series (acc, _ ("Training, each epoch"),
                                              GRAFT_CHART_SERIES_MARKERS);
  self->s_val_acc = graft_chart_add_series (acc, _ ("Validation"),
                                            GRAFT_CHART_SERIES_DASHED |
                                                GRAFT_CHART_SERIES_MARKERS);
}

/* Progress rewrites the status line at most once a second: a rate or a
 * time left read ten times a second is noise, and each new text lays the
 * page out again (three frames in GTK 4.8). The latest text always shows
 * within that second. */
static gboolean
show_pending_status (gpointer user_data)
{
  GraftTrainPage *self = user_data;

  self->status_source = 0;
  self->status_changed = g_get_monotonic_time ();
  gtk_label_set_text (GTK_LABEL (self->status_label), self->status_pending);
  g_clear_pointer (&self->status_pending, g_free);
  return G_SOURCE_REMOVE;
}

static void
show_status (GraftTrainPage *self, const char *text)
{
  gint64 wait_us =
      self->status_changed + STATUS_INTERVAL_US - g_get_monotonic_time ();

  if (self->status_held)
    return;
  g_free (self->status_pending);
  self->status_pending = g_strdup (text);
  if (wait_us <= 0)
    {
      g_clear_handle_id (&self->status_source, g_source_remove);
      show_pending_status (self);
    }
  else if (self->status_source == 0)
    self->status_source = g_timeout_add ((guint) ((wait_us + 999) / 1000),
                                         show_pending_status, self);
}

/* A status that progress leaves alone until the run goes on (hold) or
 * that it may replace at once. */
static void
set_status (GraftTrainPage *self, const char *text, gboolean hold)
{
  g_clear_handle_id (&self->status_source, g_source_remove);
  g_clear_pointer (&self->status_pending, g_free);
  self->status_held = hold;
  self->status_changed = 0;
  gtk_label_set_text (GTK_LABEL (self->status_label), text);
}

static void
show_progress (GraftTrainPage *self, const GraftTrainProgress *p)
{
  GraftChart *loss = GRAFT_CHART (self->loss_chart);
  GraftChart *acc = GRAFT_CHART (self->accuracy_chart);
  double x;

  if (p->stage != self->chart_stage)
    {
      /* The comparison's second run starts from scratch: so do the charts. */
      self->chart_stage = p->stage;
      self->n_stages = p->n_stages;
      reset_charts (self);
      /* The last part's epoch count must not linger into the next one
       * behind the status line's once-a-second limit. */
      set_status (self, _ ("Starting…"), FALSE);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar),
                                     0.0);
      if (p->n_stages > 1)
        gtk_label_set_text (
            GTK_LABEL (self->stage_label),
            p->stage == 1
                ? _ ("Part 1 of 2: training only the new classifier, as "
                     "a baseline")
                : _ ("Part 2 of 2: training the blocks you chose"));
      gtk_widget_set_visible (self->stage_label, p->n_stages > 1);
    }
  switch (p->phase)
    {
    case GRAFT_TRAIN_CACHING:
      {
        g_autofree char *text = g_strdup_printf (
            _ ("Running the frozen layers once over the photos: %d of %d"),
            p->cached, p->cache_total);
        show_status (self, text);
        gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar),
                                       (double) p->cached /
                                           MAX (p->cache_total, 1));
      }
      break;
    case GRAFT_TRAIN_STEP:
      x = (p->epoch - 1) + (double) p->step / MAX (p->steps_per_epoch, 1);
      graft_chart_add_point (loss, self->s_step_loss, x, p->loss);
      graft_chart_add_point (acc, self->s_step_acc, x, p->accuracy);
      {
        g_autofree char *eta = format_eta (p->eta_seconds);
        GString *text = g_string_new (NULL);
        g_string_append_printf (text, _ ("Epoch %d of %d"), p->epoch,
                                p->epochs);
        /* From cached features the rate is not about photos any more. */
        if (p->images_per_second > 0 && p->images_per_second < 10000)
          g_string_append_printf (text, _ (" · %.0f photos/s"),
                                  p->images_per_second);
        if (eta[0] != '\0')
          g_string_append_printf (text, " · %s", eta);
        show_status (self, text->str);
        g_string_free (text, TRUE);
        gtk_progress_bar_set_fraction (
            GTK_PROGRESS_BAR (self->progress_bar),
            ((p->epoch - 1) + (double) p->step / MAX (p->steps_per_epoch, 1)) /
                MAX (p->epochs, 1));
      }
      break;
    case GRAFT_TRAIN_EPOCH:
      graft_chart_add_point (loss, self->s_epoch_loss, p->epoch, p->loss);
      graft_chart_add_point (acc, self->s_epoch_acc, p->epoch, p->accuracy);
      graft_chart_add_point (loss, self->s_val_loss, p->epoch, p->val_loss);
      graft_chart_add_point (acc, self->s_val_acc, p->epoch, p->val_accuracy);
      break;
    }
}

static gboolean
flush_progress (gpointer user_data)
{
  TrainRun *run = user_data;
  g_autoptr (GArray) pending = NULL;
  gint64 start;

  g_mutex_lock (&run->lock);
  pending = run->pending;
  run->pending = g_array_new (FALSE, FALSE, sizeof (GraftTrainProgress));
  run->flush_scheduled = FALSE;
  run->last_flush = g_get_monotonic_time ();
  g_mutex_unlock (&run->lock);
  if (run->page == NULL)
    return G_SOURCE_REMOVE;
  start = g_get_monotonic_time ();
  for (guint i = 0; i < pending->len; i++)
    show_progress (run->page, &g_array_index (pending, GraftTrainProgress, i));
  run->page->longest_flush_ms = MAX (
      run->page->longest_flush_ms, (g_get_monotonic_time () - start) / 1000.0);
  run->page->n_reports += pending->len;
  if (pending->len > 0)
    run->page->n_ui_updates++;
  return G_SOURCE_REMOVE;
}

/* ---- the stall watchdog ---- */

static gboolean
watchdog_tick (gpointer user_data)
{
  GraftTrainPage *self = user_data;
  gint64 now = g_get_monotonic_time ();
  double late_ms = (now - self->watchdog_last) / 1000.0 - WATCHDOG_INTERVAL_MS;

  if (late_ms > self->longest_stall_ms)
    {
      self->longest_stall_ms = late_ms;
      self->longest_stall_at = now;
    }
  if (late_ms > 50)
    self->n_long_stalls++;
  self->watchdog_last = now;
  return G_SOURCE_CONTINUE;
}

static void
frame_before_paint (GdkFrameClock *clock, gpointer user_data)
{
  GraftTrainPage *self = user_data;

  self->frame_start = g_get_monotonic_time ();
}

/* A frame's update, layout, snapshot and rendering: GDK emits
 * before-paint and after-paint around every frame, whatever it was for. */
static void
frame_after_paint (GdkFrameClock *clock, gpointer user_data)
{
  GraftTrainPage *self = user_data;

  if (self->frame_start != 0)
    {
      double ms = (g_get_monotonic_time () - self->frame_start) / 1000.0;
      self->longest_frame_ms = MAX (self->longest_frame_ms, ms);
      self->frames_ms += ms;
      self->n_frames++;
    }
  self->frame_start = 0;
}

static void
watchdog_start (GraftTrainPage *self)
{
  self->longest_stall_ms = 0;
  self->n_long_stalls = 0;
  self->watchdog_started = g_get_monotonic_time ();
  self->longest_flush_ms = 0;
  self->longest_frame_ms = 0;
  self->frames_ms = 0;
  self->n_frames = 0;
  self->watchdog_last = g_get_monotonic_time ();
  self->watchdog_source =
      g_timeout_add (WATCHDOG_INTERVAL_MS, watchdog_tick, self);
  self->debug_stalls = g_strcmp0 (g_getenv ("GRAFT_DEBUG_STALLS"), "1") == 0;
  if (self->debug_stalls && gtk_widget_get_frame_clock (GTK_WIDGET (self)))
    {
      self->frame_clock =
          g_object_ref (gtk_widget_get_frame_clock (GTK_WIDGET (self)));
      self->frame_start = 0;
      self->frame_before_paint_handler =
          g_signal_connect (self->frame_clock, "before-paint",
                            G_CALLBACK (frame_before_paint), self);
      self->frame_after_paint_handler =
          g_signal_connect (self->frame_clock, "after-paint",
                            G_CALLBACK (frame_after_paint), self);
    }
}

static void
watchdog_stop (GraftTrainPage *self)
{
  g_clear_handle_id (&self->watchdog_source, g_source_remove);
  if (self->frame_clock != NULL)
    {
      g_clear_signal_handler (&self->frame_before_paint_handler,
                              self->frame_clock);
      g_clear_signal_handler (&self->frame_after_paint_handler,
                              self->frame_clock);
      g_clear_object (&self->frame_clock);
    }
  if (self->debug_stalls)
    {
      double seconds = (g_get_monotonic_time () - self->watchdog_started) / 1e6;

      g_printerr ("graft: longest main-loop stall during training: %.1f ms "
                  "at %.1f s (%u over 50 ms; longest progress update %.1f "
                  "ms; %u progress updates, %.1f a second; %u frames, %.1f "
                  "a second, %.0f ms in all, the longest %.1f ms; the run "
                  "took %.1f s)\n",
                  self->longest_stall_ms,
                  (self->longest_stall_at - self->watchdog_started) / 1e6,
                  self->n_long_stalls, self->longest_flush_ms,
                  self->n_ui_updates, self->n_ui_updates / MAX (seconds, 1e-3),
                  self->n_frames, self->n_frames / MAX (seconds, 1e-3),
                  self->frames_ms, self->longest_frame_ms, seconds);
    }
}

/* ---- state ---- */

static void
update_actions (GraftTrainPage *self)
{
  gboolean running = self->run != NULL;

  /* While it runs, the progress and charts take the settings' place. */
  gtk_widget_set_visible (self->settings_group, !running);
  gtk_widget_set_visible (self->start_button, !running);
  gtk_widget_set_visible (self->pause_button, running);
  gtk_widget_set_visible (self->stop_button, running);
  gtk_widget_set_visible (self->progress_box, running || self->result != NULL);
  gtk_widget_set_visible (self->charts_box, running || self->result != NULL);
}

static void
show_error (GraftTrainPage *self, const GError *error)
{
  g_autofree char *text = NULL;

  self->error_is_numeric =
      g_error_matches (error, GRAFT_ERROR, GRAFT_ERROR_NUMERIC);
  if (self->error_is_numeric)
    text = g_strdup_printf (_ ("Training went off the rails: the loss stopped "
                               "being a number (%s). This usually "
                               "means the learning rate is too high. Try again "
                               "with a lower one; Graft kept "
                               "nothing from this run."),
                            error->message);
  else if (g_error_matches (error, GRAFT_ERROR, GRAFT_ERROR_PARSE) ||
           g_error_matches (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED) ||
           g_error_matches (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT))
    text = g_strdup_printf (
        _ ("A photo could not be read: %s. Remove or replace it in "
           "its folder, then add the photos again."),
        error->message);
  else
    text = g_strdup_printf (_ ("Training stopped with an error: %s"),
                            error->message);
  g_free (self->error_message);
  self->error_message = g_strdup (error->message);
  gtk_label_set_text (GTK_LABEL (self->error_label), text);
  gtk_button_set_label (GTK_BUTTON (self->error_button),
                        self->error_is_numeric
                            ? _ ("Lower the Learning Rate and Retry")
                            : _ ("Back to the Photos"));
  gtk_widget_set_visible (self->error_box, TRUE);
}

static void
notify_if_unfocused (GraftTrainPage *self, const char *title, const char *body)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GApplication *app = g_application_get_default ();
  g_autoptr (GNotification) notification = NULL;

  if (app == NULL ||
      (GTK_IS_WINDOW (root) && gtk_window_is_active (GTK_WINDOW (root))))
    return;
  notification = g_notification_new (title);
  g_notification_set_body (notification, body);
  g_notification_set_default_action (notification, "app.activate");
  g_application_send_notification (app, "training-finished", notification);
}

static gboolean
finish_run (gpointer user_data)
{
  TrainRun *run = user_data;
  GraftTrainPage *self = run->page;

  if (self == NULL || self->run != run)
    return G_SOURCE_REMOVE; /* shut down already: it joined the thread */
  g_thread_join (run->thread);
  run->thread = NULL;
  flush_progress (run);
  self->run = NULL;
  run->page = NULL;
  watchdog_stop (self);
  if (run->result != NULL)
    {
      g_autofree char *text = NULL;
      g_clear_pointer (&self->result, graft_train_result_unref);
      self->result = graft_train_result_ref (run->result);
      text = g_strdup_printf (
          _ ("Done: the model recognizes %.1f%% of the validation photos."),
          100 * self->result->val_accuracy);
      set_status (self, text, FALSE);
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar),
                                     1.0);
      gtk_label_set_text (GTK_LABEL (self->done_label),
                          self->result->explanation);
      gtk_widget_set_visible (self->done_label,
                              self->result->explanation != NULL);
      notify_if_unfocused (self, _ ("Training Finished"), text);
    }
  else if (g_error_matches (run->error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED))
    set_status (self,
                _ ("Stopped. Change the settings if you like and start again."),
                FALSE);
  else
    {
      show_error (self, run->error);
      set_status (self, _ ("Training failed."), FALSE);
      notify_if_unfocused (self, _ ("Training Failed"), run->error->message);
    }
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
  if (run->result != NULL)
    g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
  train_run_unref (run); /* the page's reference */
  return G_SOURCE_REMOVE;
}

static void
on_error_button (GtkButton *button, gpointer user_data)
{
  GraftTrainPage *self = user_data;

  gtk_widget_set_visible (self->error_box, FALSE);
  if (self->error_is_numeric)
    {
      double lr = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->lr_spin));
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), lr / 10);
      gtk_widget_activate_action (GTK_WIDGET (self), "win.start-training",
                                  NULL);
    }
  else
    gtk_widget_activate_action (GTK_WIDGET (self), "win.show-step", "s",
                                "photos");
}

/* ---- building ---- */

static GtkWidget *
label_new (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static GtkWidget *
spin_row (GtkWidget **spin,
          const char *title,
          const char *explanation,
          double min,
          double max,
          double step,
          int digits)
{
  GtkWidget *row = adw_action_row_new ();

  *spin = gtk_spin_button_new_with_range (min, max, step);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (*spin), (guint) digits);
  gtk_widget_set_valign (*spin, GTK_ALIGN_CENTER);
  gtk_accessible_update_property (GTK_ACCESSIBLE (*spin),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), explanation);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), *spin);
  return row;
}

static GtkWidget *
switch_row (GtkWidget **sw, const char *title, const char *explanation)
{
  GtkWidget *row = adw_action_row_new ();

  *sw = gtk_switch_new ();
  gtk_widget_set_valign (*sw, GTK_ALIGN_CENTER);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), explanation);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), *sw);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), *sw);
  return row;
}

static const char *const optimizer_ids[] = { "adamw", "adam", "sgd", NULL };

static int
optimizer_position (GraftOptimizerKind kind)
{
  switch (kind)
    {
    case GRAFT_OPTIMIZER_ADAM:
      return 1;
    case GRAFT_OPTIMIZER_SGD:
      return 2;
    default:
      return 0;
    }
}

static void
show_defaults (GraftTrainPage *self)
{
  GraftFinetuneOptions o;

  graft_finetune_options_init (&o);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->epochs_spin),
                             o.train.epochs);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->batch_spin),
                             o.train.batch_size);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin),
                             o.train.learning_rate);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->optimizer_drop),
                              (guint) optimizer_position (o.train.optimizer));
  gtk_switch_set_active (GTK_SWITCH (self->augment_switch), o.train.augment);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->smoothing_spin),
                             o.train.label_smoothing);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->decay_spin),
                             o.train.weight_decay);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->backbone_spin),
                             o.train.backbone_lr_scale);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->warmup_spin),
                             o.train.warmup_epochs);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->patience_spin),
                             o.train.patience);
  gtk_switch_set_active (GTK_SWITCH (self->balance_switch),
                         o.train.balance_classes);
  gtk_switch_set_active (GTK_SWITCH (self->compare_switch),
                         o.compare_head_only);
  graft_finetune_options_clear (&o);
}

static void
on_defaults_clicked (GtkButton *button, gpointer user_data)
{
  show_defaults (GRAFT_TRAIN_PAGE (user_data));
}

static GtkWidget *
build_settings (GraftTrainPage *self)
{
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *advanced = adw_expander_row_new ();
  GtkWidget *defaults = gtk_button_new_with_mnemonic (_ ("_Defaults"));
  const char *optimizers[] = { _ ("AdamW"), _ ("Adam"), _ ("SGD with momentum"),
                               NULL };
  GtkWidget *row;

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group),
                                   _ ("Settings"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (group),
      _ ("The defaults work well for most photo collections; the same settings "
         "give the "
         "same model as graft-cli train."));
  gtk_widget_set_valign (defaults, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (defaults,
                               _ ("Restore every setting to Graft's defaults"));
  g_signal_connect (defaults, "clicked", G_CALLBACK (on_defaults_clicked),
                    self);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group),
                                           defaults);
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (group),
      spin_row (&self->epochs_spin, _ ("Epochs"),
                _ ("How many times training goes through every photo."), 1,
                1000, 1, 0));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                             spin_row (&self->batch_spin, _ ("Batch size"),
                                       _ ("Photos per training step; larger is "
                                          "steadier but needs more memory."),
                                       1, 256, 1, 0));
  adw_preferences_group_add (
      ADW_PREFERENCES_GROUP (group),
      spin_row (
          &self->lr_spin, _ ("Learning rate"),
          _ ("How big each correction is; lower it if the loss jumps around."),
          0.000001, 1.0, 0.0001, 6));
  gtk_editable_set_width_chars (GTK_EDITABLE (self->lr_spin), 8);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (advanced),
                                 _ ("Advanced"));
  adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (advanced),
                                 _ ("Optimizer, augmentation, regularization"));
  self->optimizer_drop = gtk_drop_down_new_from_strings (optimizers);
  gtk_widget_set_valign (self->optimizer_drop, GTK_ALIGN_CENTER);
  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ ("Optimizer"));
  adw_action_row_set_subtitle (
      ADW_ACTION_ROW (row), _ ("The rule that turns errors into corrections."));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), self->optimizer_drop);
  adw_expander_row_add_row (ADW_EXPANDER_ROW (advanced), row);
  adw_expander_row_add_row (
      ADW_EXPANDER_ROW (advanced),
      switch_row (&self->augment_switch, _ ("Vary the photos"),
                  _ ("Random crops, flips and colors, so the model does not "
                     "learn by heart.")));
  adw_expander_row_add_row (
      ADW_EXPANDER_ROW (advanced),
      spin_row (&self->smoothing_spin, _ ("Label smoothing"),
                _ ("Keeps the model from being overconfident."), 0, 0.5, 0.05,
                2));
  adw_expander_row_add_row (
      ADW_EXPANDER_ROW (advanced),
      spin_row (
          &self->decay_spin, _ ("Weight decay"),
          _ ("Pulls weights toward zero: simpler models generalize better."), 0,
          0.1, 0.0001, 5));
  adw_expander_row_add_row (
      ADW_EXPANDER_ROW (advanced),
      spin_row (
          &self->backbone_spin, _ ("Pretrained layers' pace"),
          _ ("Their learning rate as a fraction of the new classifier's."), 0,
          1, 0.05, 2));
  adw_expander_row_add_row (
      ADW_EXPANDER_ROW (advanced),
      spin_row (&self->warmup_spin, _ ("Warm-up epochs"),
                _ ("Epochs at the start with a gently rising learning rate."),
                0, 100, 1, 0));
  adw_expander_row_add_row (ADW_EXPANDER_ROW (advanced),
                            spin_row (&self->patience_spin,
                                      _ ("Stop early after"),
                                      _ ("Epochs without improvement before "
                                         "stopping; 0 never stops early."),
                                      0, 1000, 1, 0));
  adw_expander_row_add_row (
      ADW_EXPANDER_ROW (advanced),
      switch_row (
          &self->balance_switch, _ ("Balance categories"),
          _ ("Counts rare categories' photos more, so they are not ignored.")));
  adw_expander_row_add_row (
      ADW_EXPANDER_ROW (advanced),
      switch_row (&self->compare_switch,
                  _ ("Compare with the classifier alone"),
                  _ ("Also trains only the new classifier and keeps whichever "
                     "is better.")));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), advanced);
  show_defaults (self);
  return group;
}

static GtkWidget *
chart_new (GtkWidget **chart, const char *y_title, gboolean percent)
{
  GtkWidget *frame = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  *chart = graft_chart_new ();
  graft_chart_set_x_title (GRAFT_CHART (*chart), _ ("Epoch"));
  graft_chart_set_y_title (GRAFT_CHART (*chart), y_title);
  graft_chart_set_percent (GRAFT_CHART (*chart), percent);
  graft_chart_set_empty_text (GRAFT_CHART (*chart),
                              _ ("Appears after the first training step"));
  gtk_widget_set_size_request (*chart, 240, 200);
  gtk_widget_set_hexpand (*chart, TRUE);
  gtk_widget_add_css_class (frame, "card");
  gtk_widget_set_margin_top (*chart, 6);
  gtk_box_append (GTK_BOX (frame), *chart);
  return frame;
}

static GtkWidget *
button_new (const char *label, const char *action, const char *css_class)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_add_css_class (button, "pill");
  if (css_class != NULL)
    gtk_widget_add_css_class (button, css_class);
  return button;
}

static void
graft_train_page_init (GraftTrainPage *self)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *charts = gtk_flow_box_new ();

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 920);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box), label_new (_ ("Train Your Model"), "title-2"));
  gtk_box_append (
      GTK_BOX (box),
      label_new (_ ("Graft shows the model your photos again and again and "
                    "corrects it each time. You can keep using your computer; "
                    "pause or stop at any time."),
                 NULL));

  self->start_button = button_new (_ ("_Start Training"), "win.start-training",
                                   "suggested-action");
  self->pause_button = gtk_toggle_button_new_with_mnemonic (_ ("_Pause"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->pause_button),
                                  "win.pause-training");
  gtk_widget_add_css_class (self->pause_button, "pill");
  self->stop_button =
      button_new (_ ("S_top"), "win.stop-training", "destructive-action");
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (buttons), self->start_button);
  gtk_box_append (GTK_BOX (buttons), self->pause_button);
  gtk_box_append (GTK_BOX (buttons), self->stop_button);

  self->error_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_add_css_class (self->error_box, "card");
  gtk_widget_add_css_class (self->error_box, "train-error");
  self->error_label = label_new (NULL, NULL);
  gtk_widget_set_margin_start (self->error_label, 12);
  gtk_widget_set_margin_end (self->error_label, 12);
  gtk_widget_set_margin_top (self->error_label, 12);
  gtk_label_set_selectable (GTK_LABEL (self->error_label), TRUE);
  self->error_button = gtk_button_new_with_label ("");
  gtk_widget_set_halign (self->error_button, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_bottom (self->error_button, 12);
  g_signal_connect (self->error_button, "clicked", G_CALLBACK (on_error_button),
                    self);
  gtk_box_append (GTK_BOX (self->error_box), self->error_label);
  gtk_box_append (GTK_BOX (self->error_box), self->error_button);
  gtk_widget_set_visible (self->error_box, FALSE);
  gtk_box_append (GTK_BOX (box), self->error_box);

  self->progress_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  self->stage_label = label_new (NULL, "heading");
  gtk_widget_set_visible (self->stage_label, FALSE);
  self->status_label = label_new (NULL, "numeric");
  self->progress_bar = gtk_progress_bar_new ();
  self->done_label = label_new (NULL, "dim-label");
  gtk_widget_set_visible (self->done_label, FALSE);
  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (charts), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (charts), 2);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (charts), TRUE);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (charts), 12);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (charts), 12);
  gtk_flow_box_append (
      GTK_FLOW_BOX (charts),
      chart_new (&self->loss_chart, _ ("Loss (lower is better)"), FALSE));
  gtk_flow_box_append (GTK_FLOW_BOX (charts),
                       chart_new (&self->accuracy_chart, _ ("Accuracy"), TRUE));
  gtk_box_append (GTK_BOX (self->progress_box), self->stage_label);
  gtk_box_append (GTK_BOX (self->progress_box), self->status_label);
  gtk_box_append (GTK_BOX (self->progress_box), self->progress_bar);
  gtk_box_append (GTK_BOX (self->progress_box), self->done_label);
  gtk_box_append (GTK_BOX (box), self->progress_box);
  gtk_box_append (GTK_BOX (box), buttons);
  self->charts_box = charts;
  gtk_box_append (GTK_BOX (box), charts);
  self->settings_group = build_settings (self);
  gtk_box_append (GTK_BOX (box), self->settings_group);
  reset_charts (self);

  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  adw_bin_set_child (ADW_BIN (self), scrolled);
  update_actions (self);
}

static void
graft_train_page_dispose (GObject *object)
{
  GraftTrainPage *self = GRAFT_TRAIN_PAGE (object);

  graft_train_page_shutdown (self);
  g_clear_handle_id (&self->status_source, g_source_remove);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (graft_train_page_parent_class)->dispose (object);
}

static void
graft_train_page_finalize (GObject *object)
{
  GraftTrainPage *self = GRAFT_TRAIN_PAGE (object);

  g_clear_pointer (&self->result, graft_train_result_unref);
  g_free (self->error_message);
  g_free (self->status_pending);
  G_OBJECT_CLASS (graft_train_page_parent_class)->finalize (object);
}

static void
graft_train_page_get_property (GObject *object,
                               guint prop_id,
                               GValue *value,
                               GParamSpec *pspec)
{
  GraftTrainPage *self = GRAFT_TRAIN_PAGE (object);

  switch (prop_id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, graft_train_page_get_running (self));
      break;
    case PROP_PAUSED:
      g_value_set_boolean (value, graft_train_page_get_paused (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_train_page_class_init (GraftTrainPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = graft_train_page_dispose;
  object_class->finalize = graft_train_page_finalize;
  object_class->get_property = graft_train_page_get_property;
  properties[PROP_RUNNING] = g_param_spec_boolean (
      "running", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PAUSED] = g_param_spec_boolean (
      "paused", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  signals[SIGNAL_FINISHED] =
      g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    NULL, NULL, NULL, G_TYPE_NONE, 0);
}

/* ---- public ---- */

GtkWidget *
graft_train_page_new (void)
{
  return g_object_new (GRAFT_TYPE_TRAIN_PAGE, NULL);
}

static gboolean
optimizer_get_mapping (GValue *value, GVariant *variant, gpointer user_data)
{
  const char *id = g_variant_get_string (variant, NULL);

  for (guint i = 0; optimizer_ids[i] != NULL; i++)
    if (g_str_equal (id, optimizer_ids[i]))
      {
        g_value_set_uint (value, i);
        return TRUE;
      }
  return FALSE;
}

static GVariant *
optimizer_set_mapping (const GValue *value,
                       const GVariantType *type,
                       gpointer user_data)
{
  guint i = g_value_get_uint (value);

  return g_variant_new_string (
      optimizer_ids[MIN (i, G_N_ELEMENTS (optimizer_ids) - 2)]);
}

void
graft_train_page_set_settings (GraftTrainPage *self, GSettings *settings)
{
  g_return_if_fail (GRAFT_IS_TRAIN_PAGE (self));
  if (!g_set_object (&self->settings, settings) || settings == NULL)
    return;
  g_settings_bind (settings, "epochs", self->epochs_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "batch-size", self->batch_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "learning-rate", self->lr_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "augment", self->augment_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "label-smoothing", self->smoothing_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "compare-head-only", self->compare_switch,
                   "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (settings, "optimizer", self->optimizer_drop,
                                "selected", G_SETTINGS_BIND_DEFAULT,
                                optimizer_get_mapping, optimizer_set_mapping,
                                NULL, NULL);
}

void
graft_train_page_get_config (GraftTrainPage *self,
                             GraftTrainConfig *c,
                             gboolean *compare_head_only)
{
  static const GraftOptimizerKind kinds[] = { GRAFT_OPTIMIZER_ADAMW,
                                              GRAFT_OPTIMIZER_ADAM,
                                              GRAFT_OPTIMIZER_SGD };
  guint optimizer =
      gtk_drop_down_get_selected (GTK_DROP_DOWN (self->optimizer_drop));

  graft_train_config_init (c);
  c->epochs =
      gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->epochs_spin));
  c->batch_size =
      gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->batch_spin));
  c->learning_rate =
      (float) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->lr_spin));
  c->optimizer = kinds[MIN (optimizer, G_N_ELEMENTS (kinds) - 1)];
  c->augment = gtk_switch_get_active (GTK_SWITCH (self->augment_switch));
  c->label_smoothing = (float) gtk_spin_button_get_value (
      GTK_SPIN_BUTTON (self->smoothing_spin));
  c->weight_decay =
      (float) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->decay_spin));
  c->backbone_lr_scale =
      (float) gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->backbone_spin));
  c->warmup_epochs =
      gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->warmup_spin));
  c->patience =
      gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->patience_spin));
  c->balance_classes =
      gtk_switch_get_active (GTK_SWITCH (self->balance_switch));
  if (compare_head_only != NULL)
    *compare_head_only =
        gtk_switch_get_active (GTK_SWITCH (self->compare_switch));
}

void
graft_train_page_set_epochs (GraftTrainPage *self, int epochs)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->epochs_spin), epochs);
}

void
graft_train_page_set_batch_size (GraftTrainPage *self, int batch_size)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->batch_spin), batch_size);
}

void
graft_train_page_set_learning_rate (GraftTrainPage *self, double learning_rate)
{
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->lr_spin), learning_rate);
}

gboolean
graft_train_page_start (GraftTrainPage *self,
                        const char *model_path,
                        const char *model_title,
                        const GraftDataset *ds,
                        GraftFreezePreset preset,
                        int last_blocks,
                        const gboolean *trainable,
                        int n_blocks,
                        GError **error)
{
  TrainRun *run;
  gboolean compare;

  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), FALSE);
  if (self->run != NULL)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           _ ("Training is running."));
      return FALSE;
    }
  if (model_path == NULL)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           _ ("Choose a base model first."));
      return FALSE;
    }
  if (ds == NULL || !graft_dataset_usable (ds))
    {
      g_set_error_literal (
          error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
          ds == NULL ? _ ("Add your photos first.")
                     : _ ("The photos have problems that stop training: "
                          "see the health check in the Photos step."));
      return FALSE;
    }

  run = g_new0 (TrainRun, 1);
  run->ref_count = 1;
  run->page = self;
  run->cancellable = g_cancellable_new ();
  run->control = graft_train_control_new ();
  run->model_path = g_strdup (model_path);
  run->model_title = g_strdup (model_title);
  run->n_paths = (int) ds->items->len;
  run->paths = g_new0 (char *, run->n_paths + 1);
  for (int i = 0; i < run->n_paths; i++)
    run->paths[i] =
        g_strdup (g_array_index (ds->items, GraftDatasetItem, i).path);
  run->train_items = graft_dataset_split_indices (ds, GRAFT_SPLIT_TRAIN);
  run->val_items = graft_dataset_split_indices (ds, GRAFT_SPLIT_VAL);
  run->train_labels = g_new (int, MAX (run->train_items->len, 1));
  run->val_labels = g_new (int, MAX (run->val_items->len, 1));
  for (guint i = 0; i < run->train_items->len; i++)
    run->train_labels[i] =
        g_array_index (ds->items, GraftDatasetItem,
                       g_array_index (run->train_items, int, i))
            .label;
  for (guint i = 0; i < run->val_items->len; i++)
    run->val_labels[i] = g_array_index (ds->items, GraftDatasetItem,
                                        g_array_index (run->val_items, int, i))
                             .label;
  run->classes = g_strdupv (ds->classes);
  run->n_classes = ds->n_classes;
  graft_finetune_options_init (&run->options);
  graft_train_config_clear (&run->options.train);
  graft_train_page_get_config (self, &run->options.train, &compare);
  run->options.compare_head_only = compare;
  run->options.preset = preset;
  run->options.last_blocks = last_blocks;
  if (trainable != NULL)
    {
      run->trainable = g_memdup2 (trainable, sizeof (gboolean) * n_blocks);
      run->n_blocks = n_blocks;
    }
  g_mutex_init (&run->lock);
  run->pending = g_array_new (FALSE, FALSE, sizeof (GraftTrainProgress));

  self->run = run;
  self->chart_stage = -1;
  self->n_stages = 0;
  self->n_ui_updates = 0;
  self->n_reports = 0;
  g_clear_pointer (&self->error_message, g_free);
  gtk_widget_set_visible (self->error_box, FALSE);
  gtk_widget_set_visible (self->done_label, FALSE);
  gtk_widget_set_visible (self->stage_label, FALSE);
  set_status (self, _ ("Reading the photos…"), FALSE);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress_bar), 0);
  reset_charts (self);
  watchdog_start (self);
  run->thread = g_thread_new ("graft-train", train_thread, train_run_ref (run));
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
  return TRUE;
}

void
graft_train_page_set_paused (GraftTrainPage *self, gboolean paused)
{
  g_return_if_fail (GRAFT_IS_TRAIN_PAGE (self));
  if (self->run == NULL)
    return;
  graft_train_control_set_paused (self->run->control, paused);
  if (paused)
    set_status (
        self, _ ("Paused after the current step. Resume when you like."), TRUE);
  else
    {
      self->status_held = FALSE;
      self->status_changed = 0;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

void
graft_train_page_stop (GraftTrainPage *self)
{
  g_return_if_fail (GRAFT_IS_TRAIN_PAGE (self));
  if (self->run == NULL)
    return;
  set_status (self, _ ("Stopping after the current step…"), TRUE);
  g_cancellable_cancel (self->run->cancellable);
}

void
graft_train_page_shutdown (GraftTrainPage *self)
{
  TrainRun *run = self->run;

  if (run == NULL)
    return;
  /* The same path as Stop, then wait: the worker stops within a batch and
   * writes nothing once cancelled. */
  g_cancellable_cancel (run->cancellable);
  g_thread_join (run->thread);
  run->thread = NULL;
  run->page = NULL;
  self->run = NULL;
  watchdog_stop (self);
  train_run_unref (run);
}

gboolean
graft_train_page_get_running (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), FALSE);
  return self->run != NULL;
}

gboolean
graft_train_page_get_paused (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), FALSE);
  if (self->run == NULL)
    return FALSE;
  return graft_train_control_get_paused (self->run->control);
}

GraftTrainResult *
graft_train_page_get_result (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), NULL);
  return self->result;
}

const char *
graft_train_page_get_error_message (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), NULL);
  return self->error_message;
}

double
graft_train_page_get_longest_stall_ms (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), 0);
  return self->longest_stall_ms;
}

guint
graft_train_page_get_n_ui_updates (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), 0);
  return self->n_ui_updates;
}

gboolean
graft_train_page_get_in_last_part (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), FALSE);
  return self->chart_stage >= 0 && self->chart_stage >= self->n_stages;
}

guint
graft_train_page_get_n_reports (GraftTrainPage *self)
{
  g_return_val_if_fail (GRAFT_IS_TRAIN_PAGE (self), 0);
  return self->n_reports;
}
