/* test-finetune-pause.c: pausing and stopping a whole fine-tune from
 * another thread, through a GraftTrainControl, on
 * tests/data/models/tiny_resnet.onnx and a small synthetic dataset.
 *
 * The fine-tune trains the head alone on cached features first (loading no
 * batches), then the last block: a pause must hold every stage, send no
 * progress while it lasts, leave its time out of the elapsed time, and
 * change nothing in the result (bit for bit against an unpaused run); a
 * stop while paused must wake the run and end it at once. */
#include "finetune.h"
#include "graft-error.h"
#include "graph.h"

#include <math.h>
#include <string.h>

#define N_CLASSES 3
#define SIDE 32
#define PIXELS (3 * SIDE * SIDE)
#define N_TRAIN 48
#define N_VAL 24
#define HOLD_US (300 * 1000)
#define WAIT_S 60

static GraftGraph *base_graph;

/* ---- a synthetic dataset: class k raises colour channel k ---- */

typedef struct
{
  float train[N_TRAIN * PIXELS];
  float val[N_VAL * PIXELS];
  int train_labels[N_TRAIN];
  int val_labels[N_VAL];
} Dataset;

static void
dataset_init (Dataset *d)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  for (int i = 0; i < N_TRAIN + N_VAL; i++)
    {
      gboolean val = i >= N_TRAIN;
      int label = val ? (i * 5 + 1) % N_CLASSES : i % N_CLASSES;
      float *img = val ? d->val + (size_t) (i - N_TRAIN) * PIXELS
                       : d->train + (size_t) i * PIXELS;
      for (int p = 0; p < PIXELS; p++)
        img[p] = (p / (SIDE * SIDE) == label ? 1.0f : 0.0f) +
                 (float) g_rand_double_range (rng, -0.8, 0.8);
      if (val)
        d->val_labels[i - N_TRAIN] = label;
      else
        d->train_labels[i] = label;
    }
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
  Dataset *d = user;
  for (int i = 0; i < n; i++)
    memcpy (images + (size_t) i * PIXELS,
            (validation ? d->val : d->train) + (size_t) indices[i] * PIXELS,
            sizeof (float) * PIXELS);
  return TRUE;
}

/* ---- a fine-tune on a worker thread, paused where the plan says ---- */

typedef struct
{
  int stage;
  GraftTrainPhase phase;
  int global_step; /* STEP: this one; CACHING: ignored (the first) */
} PausePoint;

typedef struct
{
  Dataset *dataset;
  GraftTrainControl *control;
  GCancellable *cancellable;
  const PausePoint *plan;
  int n_plan;

  GMutex lock;
  GCond changed;
  int n_reports;
  int n_paused;            /* plan points reached */
  int paused_stage;        /* of the last one */
  double elapsed_at_pause; /* the last STEP report's, when it paused */
  double elapsed_after;    /* the first STEP report's after it; -1 until then */
  gboolean done;

  GraftTrainer *trainer; /* the outcome */
  GraftFinetuneReport report;
  GError *error;
} Run;

static gboolean
at_point (const PausePoint *point, const GraftTrainProgress *p)
{
  return p->stage == point->stage && p->phase == point->phase &&
         (p->phase != GRAFT_TRAIN_STEP || p->global_step == point->global_step);
}

/* On the worker thread: pausing here means the very next thing the run
 * does is wait, so not one report more may arrive. */
static void
on_progress (const GraftTrainProgress *p, gpointer user)
{
  Run *r = user;

  g_mutex_lock (&r->lock);
  r->n_reports++;
  if (p->phase == GRAFT_TRAIN_STEP && r->elapsed_after < 0 && r->n_paused > 0)
    r->elapsed_after = p->elapsed_seconds;
  if (r->n_paused < r->n_plan && at_point (&r->plan[r->n_paused], p))
    {
      graft_train_control_set_paused (r->control, TRUE);
      r->n_paused++;
      r->paused_stage = p->stage;
      r->elapsed_at_pause =
          p->phase == GRAFT_TRAIN_STEP ? p->elapsed_seconds : NAN;
      r->elapsed_after = -1;
      g_cond_broadcast (&r->changed);
    }
  g_mutex_unlock (&r->lock);
}

static GraftFinetuneOptions
options_for_tests (void)
{
  GraftFinetuneOptions o;
  graft_finetune_options_init (&o);
  o.preset = GRAFT_FREEZE_LAST_BLOCKS;
  o.last_blocks = 1;
  o.compare_head_only = TRUE;
  o.train.epochs = 2;
  o.train.batch_size = 8;
  o.train.learning_rate = 0.01f;
  o.train.warmup_epochs = 0;
  o.train.augment = FALSE; /* the head-only stage runs on cached features */
  o.train.seed = 7;
  return o;
}

static gpointer
run_thread (gpointer user)
{
  Run *r = user;
  GraftFinetuneOptions o = options_for_tests ();
  GraftTrainData data = {
    .n_train = N_TRAIN,
    .n_val = N_VAL,
    .train_labels = r->dataset->train_labels,
    .val_labels = r->dataset->val_labels,
    .load_batch = load_batch,
    .user = r->dataset,
  };

  r->trainer = graft_finetune_with_control (
      base_graph, N_CLASSES, &o, &data, on_progress, r, &r->report,
      r->cancellable, r->control, &r->error);
  graft_finetune_options_clear (&o);
  g_mutex_lock (&r->lock);
  r->done = TRUE;
  g_cond_broadcast (&r->changed);
  g_mutex_unlock (&r->lock);
  return NULL;
}

static void
run_init (Run *r, Dataset *d, const PausePoint *plan, int n_plan)
{
  memset (r, 0, sizeof *r);
  r->dataset = d;
  r->control = graft_train_control_new ();
  r->cancellable = g_cancellable_new ();
  r->plan = plan;
  r->n_plan = n_plan;
  r->elapsed_after = -1;
  g_mutex_init (&r->lock);
  g_cond_init (&r->changed);
}

static void
run_clear (Run *r)
{
  g_clear_pointer (&r->trainer, graft_trainer_free);
  graft_finetune_report_clear (&r->report);
  g_clear_error (&r->error);
  graft_train_control_unref (r->control);
  g_object_unref (r->cancellable);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->changed);
}

/* Waits (lock held) until the run reaches plan point n or ends. */
static void
wait_for_pause (Run *r, int n)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  while (r->n_paused < n && !r->done)
    if (!g_cond_wait_until (&r->changed, &r->lock, deadline))
      g_error ("the run never reached pause point %d", n);
  g_assert_cmpint (r->n_paused, ==, n);
}

static void
assert_same_weights (const GraftGraph *a, const GraftGraph *b)
{
  g_assert_cmpint (a->n_values, ==, b->n_values);
  for (int v = 0; v < a->n_values; v++)
    {
      const GraftTensor *x = a->values[v].constant;
      const GraftTensor *y = b->values[v].constant;
      g_assert_true ((x == NULL) == (y == NULL));
      if (x && memcmp (x->data, y->data, graft_tensor_nbytes (x)) != 0)
        g_error ("'%s' differs between the paused and the unpaused run",
                 a->values[v].name);
    }
}

/* ---- tests ---- */

static const PausePoint plan[] = {
  { 1, GRAFT_TRAIN_CACHING, 0 }, /* caching features for the head alone */
  { 1, GRAFT_TRAIN_STEP, 3 },    /* the head alone, on cached features */
  { 2, GRAFT_TRAIN_STEP, 7 },    /* the last block */
};

static void
test_pause_every_stage (void)
{
  g_autofree Dataset *d = g_new (Dataset, 1);
  Run plain, paused;
  GThread *thread;

  dataset_init (d);
  /* The same fine-tune, never paused: what the paused one must match. */
  run_init (&plain, d, NULL, 0);
  run_thread (&plain);
  g_assert_no_error (plain.error);
  g_assert_nonnull (plain.trainer);

  run_init (&paused, d, plan, G_N_ELEMENTS (plan));
  thread = g_thread_new ("finetune", run_thread, &paused);
  g_mutex_lock (&paused.lock);
  for (int i = 0; i < (int) G_N_ELEMENTS (plan); i++)
    {
      int reports;
      wait_for_pause (&paused, i + 1);
      g_assert_cmpint (paused.paused_stage, ==, plan[i].stage);
      g_assert_true (graft_train_control_get_paused (paused.control));
      reports = paused.n_reports;
      g_mutex_unlock (&paused.lock);
      g_usleep (HOLD_US);
      g_mutex_lock (&paused.lock);
      g_assert_cmpint (paused.n_reports, ==, reports);
      g_assert_false (paused.done);
      graft_train_control_set_paused (paused.control, FALSE);
    }
  g_mutex_unlock (&paused.lock);
  g_thread_join (thread);

  g_assert_no_error (paused.error);
  g_assert_nonnull (paused.trainer);
  g_assert_cmpint (paused.n_reports, ==, plain.n_reports);
  /* The last pause was between two steps: the time it held the run is
   * not in the elapsed time (a step of this model takes milliseconds). */
  g_assert_cmpfloat (paused.elapsed_after, >=, paused.elapsed_at_pause);
  g_assert_cmpfloat (paused.elapsed_after - paused.elapsed_at_pause, <,
                     HOLD_US / 1e6);
  g_assert_cmpint (paused.report.kept_head_only, ==,
                   plain.report.kept_head_only);
  g_assert_cmpfloat (paused.report.val_accuracy, ==, plain.report.val_accuracy);
  assert_same_weights (graft_trainer_get_graph (paused.trainer),
                       graft_trainer_get_graph (plain.trainer));
  run_clear (&plain);
  run_clear (&paused);
}

static void
check_stop_while_paused (gboolean through_cancellable)
{
  static const PausePoint head_step[] = { { 1, GRAFT_TRAIN_STEP, 2 } };
  g_autofree Dataset *d = g_new (Dataset, 1);
  GThread *thread;
  gint64 stop_time;
  Run r;

  dataset_init (d);
  run_init (&r, d, head_step, 1);
  thread = g_thread_new ("finetune", run_thread, &r);
  g_mutex_lock (&r.lock);
  wait_for_pause (&r, 1);
  g_mutex_unlock (&r.lock);
  g_usleep (50 * 1000);
  stop_time = g_get_monotonic_time ();
  if (through_cancellable)
    g_cancellable_cancel (r.cancellable);
  else
    graft_train_control_cancel (r.control);
  g_thread_join (thread);
  /* Woken at once: no batch ran after the stop. */
  g_assert_cmpint (g_get_monotonic_time () - stop_time, <, G_USEC_PER_SEC);
  g_assert_null (r.trainer);
  g_assert_error (r.error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED);
  g_assert_true (graft_train_control_is_cancelled (r.control));
  run_clear (&r);
}

static void
test_stop_while_paused (void)
{
  check_stop_while_paused (TRUE);
}

static void
test_cancel_control_while_paused (void)
{
  check_stop_while_paused (FALSE);
}

/* A control cancelled before the run starts stops it at the first batch:
 * the trainer does not forget a shared control's stop. */
static void
test_cancelled_before_start (void)
{
  g_autofree Dataset *d = g_new (Dataset, 1);
  Run r;

  dataset_init (d);
  run_init (&r, d, NULL, 0);
  graft_train_control_cancel (r.control);
  run_thread (&r);
  g_assert_null (r.trainer);
  g_assert_error (r.error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED);
  g_assert_cmpint (r.n_reports, ==, 0);
  run_clear (&r);
}

int
main (int argc, char **argv)
{
  g_autofree char *model = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  model = g_test_build_filename (G_TEST_DIST, "data", "models",
                                 "tiny_resnet.onnx", NULL);
  base_graph = graft_graph_load (model, &error);
  g_assert_no_error (error);

  g_test_add_func ("/finetune-pause/every-stage", test_pause_every_stage);
  g_test_add_func ("/finetune-pause/stop-while-paused", test_stop_while_paused);
  g_test_add_func ("/finetune-pause/cancel-control-while-paused",
                   test_cancel_control_while_paused);
  g_test_add_func ("/finetune-pause/cancelled-before-start",
                   test_cancelled_before_start);
  status = g_test_run ();
  graft_graph_free (base_graph);
  return status;
}
