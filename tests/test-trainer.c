/* test-trainer.c: the trainer end to end on tests/data/models/tiny_resnet.onnx
 * (a PyTorch ResNet-like export with BatchNorm) and a synthetic dataset of
 * three easy classes: learning, progress reports and history, what freezing
 * keeps bit for bit (weights and BN running statistics), the feature cache
 * (in memory, spilled to a file, and not reused for other data),
 * determinism, cancelling, non-finite data, resuming from a checkpoint, and
 * a finite-difference check of the whole training graph's gradients. */
#include "graft-error.h"
#include "graph.h"
#include "train/feature-cache.h"
#include "train/trainer-private.h"
#include "train/trainer.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define N_CLASSES 3
#define SIDE 32
#define PIXELS (3 * SIDE * SIDE)
#define N_TRAIN 60
#define N_VAL 30

/* ---- a synthetic dataset ---- */

typedef struct
{
  float *train; /* (N_TRAIN, 3, SIDE, SIDE) */
  float *val;
  int train_labels[N_TRAIN];
  int val_labels[N_VAL];
  int calls;    /* load_batch calls so far */
  int nan_from; /* calls from this one on return a poisoned pixel; -1: never */
  float poison; /* NaN or Inf */
} Dataset;

static float
gaussian (GRand *rng)
{
  /* Box-Muller; 1 - u keeps log away from 0. */
  double u = 1.0 - g_rand_double (rng), v = g_rand_double (rng);
  return (float) (sqrt (-2.0 * log (u)) * cos (2.0 * G_PI * v));
}

/* Class k: colour channel k raised, with a class-specific pattern on it
 * (0: flat, 1: horizontal stripes, 2: vertical stripes), under noise. */
static void
make_image (float *img, int label, GRand *rng)
{
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++)
        {
          float signal = 0;
          if (c == label)
            signal = 1.0f;
          if (label == 1 && (y / 4) % 2)
            signal += 0.5f;
          else if (label == 2 && (x / 4) % 2)
            signal += 0.5f;
          img[(c * SIDE + y) * SIDE + x] = signal + 0.7f * gaussian (rng);
        }
}

static void
dataset_init (Dataset *d, guint32 seed)
{
  g_autoptr (GRand) rng = g_rand_new_with_seed (seed);
  memset (d, 0, sizeof *d);
  d->nan_from = -1;
  d->train = g_new (float, (size_t) N_TRAIN *PIXELS);
  d->val = g_new (float, (size_t) N_VAL *PIXELS);
  for (int i = 0; i < N_TRAIN; i++)
    {
      d->train_labels[i] = i % N_CLASSES;
      make_image (d->train + (size_t) i * PIXELS, d->train_labels[i], rng);
    }
  for (int i = 0; i < N_VAL; i++)
    {
      d->val_labels[i] = (i * 7 + 1) % N_CLASSES;
      make_image (d->val + (size_t) i * PIXELS, d->val_labels[i], rng);
    }
}

static void
dataset_clear (Dataset *d)
{
  g_free (d->train);
  g_free (d->val);
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
  const float *src = validation ? d->val : d->train;
  int limit = validation ? N_VAL : N_TRAIN;
  gboolean poison = d->nan_from >= 0 && d->calls >= d->nan_from && !validation;

  d->calls++;
  for (int i = 0; i < n; i++)
    {
      g_assert_cmpint (indices[i], >=, 0);
      g_assert_cmpint (indices[i], <, limit);
      memcpy (images + (size_t) i * PIXELS, src + (size_t) indices[i] * PIXELS,
              sizeof (float) * PIXELS);
      if (poison)
        images[(size_t) i * PIXELS + 5] = d->poison;
    }
  return TRUE;
}

static GraftTrainData
train_data (Dataset *d)
{
  return (GraftTrainData){
    .n_train = N_TRAIN,
    .n_val = N_VAL,
    .train_labels = d->train_labels,
    .val_labels = d->val_labels,
    .load_batch = load_batch,
    .user = d,
  };
}

/* ---- helpers ---- */

static GraftGraph *base_graph;

static void
config_for_tests (GraftTrainConfig *c)
{
  graft_train_config_init (c);
  c->epochs = 3;
  c->batch_size = 8;
  c->learning_rate = 0.01f;
  c->warmup_epochs = 0;
  c->keep_best = FALSE;
  c->seed = 7;
}

static GraftTrainer *
make_trainer (const GraftTrainConfig *c)
{
  g_autoptr (GError) error = NULL;
  GraftTrainer *t = graft_trainer_new (base_graph, N_CLASSES, c, &error);
  g_assert_no_error (error);
  g_assert_nonnull (t);
  return t;
}

/* The trunk block before the head: "the last block". */
static void
train_last_block (GraftTrainer *t)
{
  graft_trainer_freeze_preset (t, GRAFT_FREEZE_LAST_BLOCKS, 1);
}

/* Copies of every constant the graph holds (weights, BN statistics). */
static GraftTensor **
constants_copy (const GraftGraph *g)
{
  GraftTensor **copy = g_new0 (GraftTensor *, g->n_values);
  for (int v = 0; v < g->n_values; v++)
    if (g->values[v].constant)
      copy[v] = graft_tensor_copy (g->values[v].constant);
  return copy;
}

static void
constants_free (const GraftGraph *g, GraftTensor **copy)
{
  for (int v = 0; v < g->n_values; v++)
    graft_tensor_free (copy[v]);
  g_free (copy);
}

static gboolean
value_unchanged (const GraftGraph *g, GraftTensor **copy, int v)
{
  return memcmp (g->values[v].constant->data, copy[v]->data,
                 graft_tensor_nbytes (copy[v])) == 0;
}

/* Every constant float value of the two graphs, bit for bit. */
static void
assert_same_weights (const GraftGraph *a, const GraftGraph *b)
{
  g_assert_cmpint (a->n_values, ==, b->n_values);
  for (int v = 0; v < a->n_values; v++)
    {
      const GraftTensor *x = a->values[v].constant;
      const GraftTensor *y = b->values[v].constant;
      g_assert_true ((x == NULL) == (y == NULL));
      if (x == NULL)
        continue;
      if (memcmp (x->data, y->data, graft_tensor_nbytes (x)) != 0)
        g_error ("'%s' differs between the two runs", a->values[v].name);
    }
}

static gboolean
run (GraftTrainer *t,
     Dataset *d,
     GraftTrainProgressFunc progress,
     gpointer user,
     GError **error)
{
  GraftTrainData data = train_data (d);
  return graft_trainer_run (t, &data, progress, user, error);
}

/* ---- end to end ---- */

typedef struct
{
  int n_caching, n_steps, n_epochs;
  int last_cached, last_global_step;
  int epochs;
  GraftTrainProgress epoch_reports[16];
} ProgressLog;

static void
log_progress (const GraftTrainProgress *p, gpointer user)
{
  ProgressLog *log = user;

  g_assert_cmpint (p->epochs, ==, log->epochs);
  switch (p->phase)
    {
    case GRAFT_TRAIN_CACHING:
      /* Caching comes before any step and counts up to its total. */
      g_assert_cmpint (log->n_steps, ==, 0);
      g_assert_cmpint (p->cached, >, log->last_cached);
      g_assert_cmpint (p->cached, <=, p->cache_total);
      log->last_cached = p->cached;
      log->n_caching++;
      break;
    case GRAFT_TRAIN_STEP:
      g_assert_cmpint (p->epoch, >=, 1);
      g_assert_cmpint (p->epoch, <=, p->epochs);
      g_assert_cmpint (p->step, >=, 1);
      g_assert_cmpint (p->step, <=, p->steps_per_epoch);
      g_assert_cmpint (p->global_step, ==, log->last_global_step + 1);
      g_assert_cmpint (p->global_step, ==,
                       (p->epoch - 1) * p->steps_per_epoch + p->step);
      g_assert_true (isfinite (p->loss) && p->loss > 0);
      g_assert_cmpfloat (p->accuracy, >=, 0);
      g_assert_cmpfloat (p->accuracy, <=, 1);
      g_assert_cmpfloat (p->learning_rate, >, 0);
      g_assert_cmpfloat (p->learning_rate, <=, 0.01f);
      g_assert_cmpfloat (p->images_per_second, >=, 0);
      g_assert_cmpfloat (p->eta_seconds, >=, 0);
      g_assert_cmpfloat (p->elapsed_seconds, >=, 0);
      log->last_global_step = p->global_step;
      log->n_steps++;
      break;
    case GRAFT_TRAIN_EPOCH:
      g_assert_cmpint (p->epoch, ==, log->n_epochs + 1);
      g_assert_cmpint (p->global_step, ==, p->epoch * p->steps_per_epoch);
      g_assert_true (isfinite (p->val_loss) && p->val_loss > 0);
      g_assert_cmpfloat (p->val_accuracy, >=, 0);
      g_assert_cmpfloat (p->val_accuracy, <=, 1);
      g_assert_cmpint (log->n_epochs, <,
                       (int) G_N_ELEMENTS (log->epoch_reports));
      log->epoch_reports[log->n_epochs++] = *p;
      break;
    default:
      g_assert_not_reached ();
    }
}

static void
test_end_to_end (void)
{
  GraftTrainConfig c;
  g_autoptr (GraftTrainer) t = NULL;
  g_autoptr (GError) error = NULL;
  ProgressLog log = { 0 };
  const GraftEpochRecord *history;
  int n_history, steps_per_epoch;
  Dataset d;
  float loss, accuracy;
  int predictions[N_VAL];
  float probs[N_VAL * N_CLASSES];

  dataset_init (&d, 1);
  config_for_tests (&c);
  c.epochs = 4;
  c.warmup_epochs = 1;
  t = make_trainer (&c);
  log.epochs = c.epochs;
  g_assert_cmpint (graft_trainer_count_params (t, TRUE), <,
                   graft_trainer_count_params (t, FALSE));

  g_assert_true (run (t, &d, log_progress, &log, &error));
  g_assert_no_error (error);

  /* 60 images in batches of 8: 7 full batches and one of 4. */
  steps_per_epoch = 8;
  g_assert_cmpint (log.n_steps, ==, c.epochs * steps_per_epoch);
  g_assert_cmpint (log.n_epochs, ==, c.epochs);
  /* The feature cache was filled once, validation and training images. */
  g_assert_cmpint (log.last_cached, ==, N_TRAIN + N_VAL);
  g_assert_cmpint (log.n_caching, ==, 4 + 8);

  history = graft_trainer_get_history (t, &n_history);
  g_assert_cmpint (n_history, ==, c.epochs);
  for (int e = 0; e < n_history; e++)
    {
      g_assert_cmpint (history[e].epoch, ==, e + 1);
      g_assert_cmpfloat (history[e].val_loss, ==,
                         log.epoch_reports[e].val_loss);
      g_assert_cmpfloat (history[e].val_accuracy, ==,
                         log.epoch_reports[e].val_accuracy);
      g_assert_cmpfloat (history[e].train_loss, ==, log.epoch_reports[e].loss);
      g_assert_cmpfloat (history[e].seconds, >=, 0);
      g_test_message (
          "epoch %d: train loss %.4f acc %.3f, val loss %.4f acc %.3f", e + 1,
          history[e].train_loss, history[e].train_accuracy, history[e].val_loss,
          history[e].val_accuracy);
    }
  /* An easy task: it learns. */
  g_assert_cmpfloat (history[n_history - 1].train_loss, <,
                     history[0].train_loss);
  g_assert_cmpfloat (history[n_history - 1].val_accuracy, >=, 0.9f);

  /* evaluate agrees with the last epoch's validation. */
  g_assert_true (graft_trainer_evaluate (
      t,
      &(GraftTrainData){ .n_train = N_TRAIN,
                         .n_val = N_VAL,
                         .train_labels = d.train_labels,
                         .val_labels = d.val_labels,
                         .load_batch = load_batch,
                         .user = &d },
      TRUE, &loss, &accuracy, predictions, probs, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (loss, history[n_history - 1].val_loss, 1e-6);
  g_assert_cmpfloat (accuracy, ==, history[n_history - 1].val_accuracy);
  {
    int correct = 0;
    for (int i = 0; i < N_VAL; i++)
      {
        float sum = 0;
        for (int k = 0; k < N_CLASSES; k++)
          {
            float p = probs[i * N_CLASSES + k];
            g_assert_true (p >= 0 && p <= 1);
            sum += p;
            if (k != predictions[i])
              g_assert_cmpfloat (p, <=, probs[i * N_CLASSES + predictions[i]]);
          }
        g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
        correct += predictions[i] == d.val_labels[i];
      }
    g_assert_cmpfloat_with_epsilon ((float) correct / N_VAL, accuracy, 1e-6);
  }
  graft_train_config_clear (&c);
  dataset_clear (&d);
}

/* ---- freezing ---- */

/* The output of node n for the validation images, in inference mode, run on
 * its own plan of the trainer's graph. */
static GraftTensor *
inference_output (GraftGraph *g, Dataset *d, int n)
{
  GraftShape shape = graft_shape_make (4, (int64_t[]){ 4, 3, SIDE, SIDE });
  g_autoptr (GraftTensor) input = graft_tensor_new_float (&shape);
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftPlan) plan = graft_plan_new (g, &shape, NULL, &error);
  const GraftTensor *inputs[] = { input };

  g_assert_no_error (error);
  memcpy (input->data, d->val, graft_tensor_nbytes (input));
  g_assert_true (graft_plan_run (plan, inputs, &error));
  g_assert_no_error (error);
  return graft_tensor_copy (graft_plan_get (plan, g->nodes[n].outputs[0]));
}

static void
check_freezing (gboolean last_block)
{
  GraftTrainConfig c;
  g_autoptr (GraftTrainer) t = NULL;
  g_autoptr (GError) error = NULL;
  GraftGraph *g;
  GraftTensor **before;
  const GraftBlock *blocks;
  int n_blocks, trained_first, frozen_bn = -1, trained_bn = -1;
  int n_frozen_checked = 0, n_trained_changed = 0, n_stats_changed = 0;
  g_autoptr (GraftTensor) frozen_out_before = NULL;
  g_autoptr (GraftTensor) frozen_out_after = NULL;
  Dataset d;

  dataset_init (&d, 2);
  config_for_tests (&c);
  c.epochs = 1;
  t = make_trainer (&c);
  if (last_block)
    train_last_block (t);
  g = graft_trainer_get_graph (t);
  blocks = graft_trainer_get_blocks (t, &n_blocks);
  g_assert_cmpint (n_blocks, >=, 3);
  /* Head-only trains the new head's nodes (named "head/..."); the last
   * block adds the trunk block before the head block. */
  trained_first = g->n_nodes;
  while (trained_first > 0 &&
         g_str_has_prefix (g->nodes[trained_first - 1].name, "head/"))
    trained_first--;
  g_assert_cmpint (trained_first, <, g->n_nodes);
  if (last_block)
    trained_first = blocks[n_blocks - 2].first_node;
  for (int n = 0; n < g->n_nodes; n++)
    {
      g_assert_cmpint (graft_trainer_node_trainable (t, n), ==,
                       n >= trained_first);
      if (g_str_equal (g->nodes[n].op_type, "BatchNormalization"))
        {
          if (n < trained_first)
            frozen_bn = n;
          else if (trained_bn < 0)
            trained_bn = n;
        }
    }
  g_assert_cmpint (frozen_bn, >=, 0);
  g_assert_cmpint (trained_bn >= 0, ==, last_block);

  before = constants_copy (g);
  frozen_out_before = inference_output (g, &d, frozen_bn);
  g_assert_true (run (t, &d, NULL, NULL, &error));
  g_assert_no_error (error);
  frozen_out_after = inference_output (g, &d, frozen_bn);

  /* A frozen BN layer computes exactly what it did. */
  g_assert_cmpmem (
      frozen_out_before->data, graft_tensor_nbytes (frozen_out_before),
      frozen_out_after->data, graft_tensor_nbytes (frozen_out_after));

  for (int n = 0; n < g->n_nodes; n++)
    for (int k = 0; k < g->nodes[n].n_inputs; k++)
      {
        int v = g->nodes[n].inputs[k];
        gboolean is_bn_stat;
        if (v < 0 || before[v] == NULL ||
            before[v]->dtype != GRAFT_DTYPE_FLOAT || before[v]->shape.ndim == 0)
          continue;
        is_bn_stat =
            g_str_equal (g->nodes[n].op_type, "BatchNormalization") && k >= 3;
        if (n < trained_first)
          {
            /* Frozen: weights and running statistics, bit for bit. */
            if (!value_unchanged (g, before, v))
              g_error ("frozen '%s' of node '%s' changed", g->values[v].name,
                       g->nodes[n].name);
            n_frozen_checked++;
          }
        else if (!value_unchanged (g, before, v))
          {
            n_trained_changed += !is_bn_stat;
            n_stats_changed += is_bn_stat;
          }
        else if (!is_bn_stat)
          g_error ("trained '%s' of node '%s' did not change",
                   g->values[v].name, g->nodes[n].name);
        else
          g_error ("running statistic '%s' of trained node '%s' did not change",
                   g->values[v].name, g->nodes[n].name);
      }
  g_assert_cmpint (n_frozen_checked, >, 10);
  g_assert_cmpint (n_trained_changed, >=, 2);
  if (last_block)
    {
      /* The block's convs, BN scales and shifts, and every running mean and
       * variance of its BNs (three BNs in tiny_resnet's last block). */
      g_assert_cmpint (n_stats_changed, ==, 6);
      g_assert_cmpint (n_trained_changed, >, 6);
    }
  else
    g_assert_cmpint (n_stats_changed, ==, 0);

  constants_free (g, before);
  graft_train_config_clear (&c);
  dataset_clear (&d);
}

static void
test_freeze_head_only (void)
{
  check_freezing (FALSE);
}

static void
test_freeze_last_block (void)
{
  check_freezing (TRUE);
}

/* ---- feature cache and determinism ---- */

typedef enum
{
  CACHE_OFF,
  CACHE_MEMORY,
  CACHE_FILE,
} CacheMode;

/* Two epochs on dataset 3, the head (and the last block) training. */
static GraftTrainer *
train_small (CacheMode mode, gboolean last_block)
{
  GraftTrainConfig c;
  GraftTrainer *t;
  g_autoptr (GError) error = NULL;
  Dataset d;

  dataset_init (&d, 3);
  config_for_tests (&c);
  c.epochs = 2;
  c.feature_cache = mode != CACHE_OFF;
  if (mode == CACHE_FILE)
    c.cache_memory_budget = 1024;
  t = make_trainer (&c);
  if (last_block)
    train_last_block (t);
  g_assert_true (run (t, &d, NULL, NULL, &error));
  g_assert_no_error (error);
  /* The cache was used, and where it was meant to be. */
  for (int i = 0; i < 2; i++)
    {
      g_assert_true ((t->cache[i] != NULL) == (mode != CACHE_OFF));
      if (t->cache[i])
        {
          g_assert_true (graft_feature_cache_complete (t->cache[i]));
          g_assert_true (graft_feature_cache_in_memory (t->cache[i]) ==
                         (mode == CACHE_MEMORY));
          g_assert_cmpuint (graft_feature_cache_bytes (t->cache[i]), >, 1024);
        }
    }
  graft_train_config_clear (&c);
  dataset_clear (&d);
  return t;
}

static void
test_feature_cache (void)
{
  g_autoptr (GraftTrainer) off = train_small (CACHE_OFF, FALSE);
  g_autoptr (GraftTrainer) memory = train_small (CACHE_MEMORY, FALSE);
  g_autoptr (GraftTrainer) file = train_small (CACHE_FILE, FALSE);

  assert_same_weights (graft_trainer_get_graph (off),
                       graft_trainer_get_graph (memory));
  assert_same_weights (graft_trainer_get_graph (off),
                       graft_trainer_get_graph (file));
}

static void
test_feature_cache_last_block (void)
{
  /* With a trunk block training, the cache holds the frozen stem's output
   * and two values cross the cut (the residual block reads its input
   * twice). */
  g_autoptr (GraftTrainer) off = train_small (CACHE_OFF, TRUE);
  g_autoptr (GraftTrainer) file = train_small (CACHE_FILE, TRUE);

  assert_same_weights (graft_trainer_get_graph (off),
                       graft_trainer_get_graph (file));
}

/* A trainer that ran on one dataset and then evaluates or trains on
 * another must not serve the first one's cached features. */
static GraftTrainer *
train_two_datasets (gboolean cache)
{
  GraftTrainConfig c;
  GraftTrainer *t;
  g_autoptr (GError) error = NULL;
  Dataset a, b;

  dataset_init (&a, 9);
  dataset_init (&b, 10);
  config_for_tests (&c);
  c.epochs = 1;
  c.feature_cache = cache;
  t = make_trainer (&c);
  g_assert_true (run (t, &a, NULL, NULL, &error));
  g_assert_no_error (error);

  /* evaluate on b agrees with running the graph on b's images. */
  {
    GraftTrainData data = train_data (&b);
    GraftGraph *g = graft_trainer_get_graph (t);
    GraftShape shape =
        graft_shape_make (4, (int64_t[]){ N_VAL, 3, SIDE, SIDE });
    g_autoptr (GraftTensor) input = graft_tensor_new_float (&shape);
    const GraftTensor *inputs[] = { input };
    GraftTensor **logits;
    int predictions[N_VAL];
    float probs[N_VAL * N_CLASSES];
    float loss, accuracy;

    g_assert_true (graft_trainer_evaluate (t, &data, TRUE, &loss, &accuracy,
                                           predictions, probs, &error));
    g_assert_no_error (error);
    memcpy (input->data, b.val, graft_tensor_nbytes (input));
    logits = graft_graph_run (g, inputs, &error);
    g_assert_no_error (error);
    for (int i = 0; i < N_VAL; i++)
      {
        const float *row = (const float *) logits[0]->data + i * N_CLASSES;
        int best = 0;
        for (int k = 1; k < N_CLASSES; k++)
          if (row[k] > row[best])
            best = k;
        g_assert_cmpint (predictions[i], ==, best);
        /* The same probabilities, as softmax of the graph's logits. */
        {
          double sum = 0;
          for (int k = 0; k < N_CLASSES; k++)
            sum += exp ((double) row[k] - row[best]);
          for (int k = 0; k < N_CLASSES; k++)
            g_assert_cmpfloat_with_epsilon (
                probs[i * N_CLASSES + k],
                exp ((double) row[k] - row[best]) / sum, 1e-5);
        }
      }
    for (int o = 0; o < g->n_outputs; o++)
      graft_tensor_free (logits[o]);
    g_free (logits);
  }

  /* A second run trains again (its schedule starts afresh). */
  {
    GraftGraph *g = graft_trainer_get_graph (t);
    int v = graft_graph_find_value (g, "head/fc.weight");
    g_autoptr (GraftTensor) before = graft_tensor_copy (g->values[v].constant);
    g_assert_true (run (t, &b, NULL, NULL, &error));
    g_assert_no_error (error);
    g_assert_true (memcmp (before->data, g->values[v].constant->data,
                           graft_tensor_nbytes (before)) != 0);
  }
  graft_train_config_clear (&c);
  dataset_clear (&a);
  dataset_clear (&b);
  return t;
}

static void
test_feature_cache_new_data (void)
{
  g_autoptr (GraftTrainer) off = train_two_datasets (FALSE);
  g_autoptr (GraftTrainer) on = train_two_datasets (TRUE);

  assert_same_weights (graft_trainer_get_graph (off),
                       graft_trainer_get_graph (on));
}

static void
test_determinism (void)
{
  g_autoptr (GraftTrainer) a = train_small (CACHE_OFF, TRUE);
  g_autoptr (GraftTrainer) b = train_small (CACHE_OFF, TRUE);
  g_autoptr (GraftTrainer) fresh = NULL;
  GraftGraph *g = graft_trainer_get_graph (a);
  GraftGraph *fg;
  GraftTrainConfig c;
  int v;

  assert_same_weights (graft_trainer_get_graph (a),
                       graft_trainer_get_graph (b));
  /* ...and the head did train, so the comparison means something. */
  config_for_tests (&c);
  fresh = make_trainer (&c);
  fg = graft_trainer_get_graph (fresh);
  v = graft_graph_find_value (g, "head/fc.weight");
  g_assert_cmpint (v, >=, 0);
  g_assert_cmpint (graft_graph_find_value (fg, "head/fc.weight"), ==, v);
  g_assert_true (memcmp (g->values[v].constant->data,
                         fg->values[v].constant->data,
                         graft_tensor_nbytes (g->values[v].constant)) != 0);
  graft_train_config_clear (&c);
}

/* ---- cancel ---- */

typedef struct
{
  GraftTrainer *trainer;
  int cancel_at; /* global step */
  int steps_after;
  int n_steps;
} CancelState;

static void
cancel_progress (const GraftTrainProgress *p, gpointer user)
{
  CancelState *s = user;
  if (p->phase != GRAFT_TRAIN_STEP)
    return;
  s->n_steps++;
  if (p->global_step > s->cancel_at)
    s->steps_after++;
  if (p->global_step == s->cancel_at)
    graft_trainer_cancel (s->trainer);
}

static void
test_cancel (void)
{
  GraftTrainConfig c;
  g_autoptr (GraftTrainer) t = NULL;
  g_autoptr (GError) error = NULL;
  CancelState s = { .cancel_at = 3 };
  Dataset d;

  dataset_init (&d, 4);
  config_for_tests (&c);
  c.feature_cache = FALSE;
  t = make_trainer (&c);
  s.trainer = t;
  g_assert_false (run (t, &d, cancel_progress, &s, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED);
  g_assert_cmpint (s.steps_after, ==, 0);
  g_assert_cmpint (s.n_steps, ==, 3);
  /* Training images were loaded for those three batches and no more. */
  g_assert_cmpint (d.calls, ==, 3);

  /* A new run starts afresh: cancel does not stick. */
  g_clear_error (&error);
  c.epochs = 1;
  s.cancel_at = 1000;
  g_assert_true (run (t, &d, cancel_progress, &s, &error));
  g_assert_no_error (error);
  graft_train_config_clear (&c);
  dataset_clear (&d);
}

/* ---- non-finite data ---- */

typedef struct
{
  GraftGraph *graph;
  GraftTensor **last_good; /* the constants after the last finished step */
} NanState;

static void
nan_progress (const GraftTrainProgress *p, gpointer user)
{
  NanState *s = user;
  if (p->phase != GRAFT_TRAIN_STEP)
    return;
  if (s->last_good)
    constants_free (s->graph, s->last_good);
  s->last_good = constants_copy (s->graph);
}

static void
check_nan (float poison, gboolean last_block)
{
  GraftTrainConfig c;
  g_autoptr (GraftTrainer) t = NULL;
  g_autoptr (GError) error = NULL;
  NanState s = { 0 };
  Dataset d;
  GraftGraph *g;

  dataset_init (&d, 5);
  config_for_tests (&c);
  c.feature_cache = FALSE;
  t = make_trainer (&c);
  if (last_block)
    train_last_block (t);
  g = s.graph = graft_trainer_get_graph (t);
  /* Epoch 1 has 8 batches; from the 11th training batch on, one pixel of
   * each image is poisoned. */
  d.nan_from = 10;
  d.poison = poison;
  g_assert_false (run (t, &d, nan_progress, &s, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_NUMERIC);
  g_test_message ("%s", error->message);
  g_assert_nonnull (s.last_good);
  /* Every weight and running statistic is what the last good step left. */
  for (int v = 0; v < g->n_values; v++)
    if (s.last_good[v] && !value_unchanged (g, s.last_good, v))
      g_error ("'%s' changed after the last good step", g->values[v].name);
  constants_free (g, s.last_good);
  graft_train_config_clear (&c);
  dataset_clear (&d);
}

static void
test_nan_head_only (void)
{
  check_nan (NAN, FALSE);
}

static void
test_nan_last_block (void)
{
  check_nan (NAN, TRUE);
}

static void
test_inf_last_block (void)
{
  check_nan (INFINITY, TRUE);
}

/* ---- checkpoint resume ---- */

static void
cancel_after_epoch (const GraftTrainProgress *p, gpointer user)
{
  if (p->phase == GRAFT_TRAIN_EPOCH && p->epoch == 2)
    graft_trainer_cancel (user);
}

typedef struct
{
  int first_epoch; /* of the first STEP report; 0 before one */
  int n_steps;
} StepCount;

static void
count_steps (const GraftTrainProgress *p, gpointer user)
{
  StepCount *s = user;
  if (p->phase != GRAFT_TRAIN_STEP)
    return;
  if (s->n_steps++ == 0)
    s->first_epoch = p->epoch;
}

static void
test_resume (void)
{
  GraftTrainConfig c;
  g_autoptr (GraftTrainer) whole = NULL;
  g_autoptr (GraftTrainer) first = NULL;
  g_autoptr (GraftTrainer) resumed = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("graft-test-resume-XXXXXX", NULL);
  const GraftEpochRecord *history, *whole_history;
  int n_history, n_whole;
  StepCount steps = { 0 };
  Dataset d;

  g_assert_nonnull (dir);
  dataset_init (&d, 6);
  config_for_tests (&c);
  c.epochs = 4;
  c.warmup_epochs = 1;

  /* Uninterrupted, without checkpoints. */
  whole = make_trainer (&c);
  train_last_block (whole);
  g_assert_true (run (whole, &d, NULL, NULL, &error));
  g_assert_no_error (error);

  /* Stopped after epoch 2 (its checkpoint is written), then a new trainer
   * on the same folder carries on. */
  c.checkpoint_dir = g_strdup (dir);
  first = make_trainer (&c);
  train_last_block (first);
  g_assert_false (run (first, &d, cancel_after_epoch, first, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_CANCELLED);
  g_clear_error (&error);
  history = graft_trainer_get_history (first, &n_history);
  g_assert_cmpint (n_history, ==, 2);

  resumed = make_trainer (&c);
  train_last_block (resumed);
  g_assert_true (run (resumed, &d, count_steps, &steps, &error));
  g_assert_no_error (error);
  /* It carried on from epoch 3 (a fresh 4-epoch run would end the same). */
  g_assert_cmpint (steps.first_epoch, ==, 3);
  g_assert_cmpint (steps.n_steps, ==, 2 * 8);

  assert_same_weights (graft_trainer_get_graph (whole),
                       graft_trainer_get_graph (resumed));
  history = graft_trainer_get_history (resumed, &n_history);
  whole_history = graft_trainer_get_history (whole, &n_whole);
  g_assert_cmpint (n_history, ==, 4);
  g_assert_cmpint (n_whole, ==, 4);
  for (int e = 0; e < 4; e++)
    {
      g_assert_cmpint (history[e].epoch, ==, e + 1);
      g_assert_cmpfloat (history[e].train_loss, ==,
                         whole_history[e].train_loss);
      g_assert_cmpfloat (history[e].val_accuracy, ==,
                         whole_history[e].val_accuracy);
    }

  {
    g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
    const char *f;
    while ((f = g_dir_read_name (listing)) != NULL)
      {
        g_autofree char *path = g_build_filename (dir, f, NULL);
        g_unlink (path);
      }
    g_rmdir (dir);
  }
  graft_train_config_clear (&c);
  dataset_clear (&d);
}

/* ---- gradients of the whole training graph ----
 *
 * ReLU and max pooling make the loss piecewise smooth, and a weight of the
 * first conv moves every activation after it: a central difference of any
 * useful step crosses kinks. But the loss is continuous, so
 * L(w + h) - L(w - h) is exactly the integral of dL/dw over [w - h, w + h]:
 * the test compares the difference quotient with the trainer's gradient
 * averaged over the step (trapezoid rule), which holds across kinks. */
#define FD_STEP 1e-2f
#define FD_POINTS 16
#define FD_REL_TOL 0.05
#define FD_ABS_TOL 5e-4

static void
test_gradient_check (void)
{
  GraftTrainConfig c;
  g_autoptr (GraftTrainer) t = NULL;
  g_autoptr (GError) error = NULL;
  const char *names[] = {
    "conv1.weight",
    "bn1.weight",
    "layer1.0.conv2.weight",
    "layer2.0.bn1.bias",
    "layer2.0.downsample.0.weight",
    "layer2.0.bn2.weight",
    "head/fc.weight",
    "head/fc.bias",
  };
  enum
  {
    N = 8
  };
  float images[N * PIXELS];
  int labels[N];
  Dataset d;
  GraftGraph *g;
  float loss0;
  double worst = 0;

  dataset_init (&d, 8);
  memcpy (images, d.train, sizeof images);
  memcpy (labels, d.train_labels, sizeof labels);
  config_for_tests (&c);
  c.label_smoothing = 0.1f;
  c.batch_size = N;
  t = make_trainer (&c);
  graft_trainer_freeze_preset (t, GRAFT_FREEZE_NONE, 0);
  g = graft_trainer_get_graph (t);

  g_assert_true (
      graft_trainer_compute_gradients (t, images, labels, N, &loss0, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      int v = graft_graph_find_value (g, names[i]);
      float *w;
      g_autofree float *grad = NULL;
      int64_t n, picks[3];

      if (v < 0)
        g_error ("tiny_resnet has no '%s'", names[i]);
      w = g->values[v].constant->data;
      n = graft_tensor_numel (g->values[v].constant);
      g_assert_nonnull (graft_trainer_get_param_grad (t, v));
      grad =
          g_memdup2 (graft_trainer_get_param_grad (t, v), sizeof (float) * n);
      /* The largest gradient and two fixed elements. */
      picks[0] = 0;
      for (int64_t j = 1; j < n; j++)
        if (fabsf (grad[j]) > fabsf (grad[picks[0]]))
          picks[0] = j;
      picks[1] = n / 3;
      picks[2] = n - 1;
      for (int p = 0; p < 3; p++)
        {
          int64_t j = picks[p];
          float saved = w[j], plus, minus;
          double fd, mean_grad = 0;

          w[j] = saved + FD_STEP;
          g_assert_true (graft_trainer_compute_gradients (t, images, labels, N,
                                                          &plus, NULL));
          w[j] = saved - FD_STEP;
          g_assert_true (graft_trainer_compute_gradients (t, images, labels, N,
                                                          &minus, NULL));
          fd = ((double) plus - minus) / (2.0 * FD_STEP);
          for (int k = 0; k <= FD_POINTS; k++)
            {
              float l;
              w[j] = saved - FD_STEP + 2 * FD_STEP * k / FD_POINTS;
              g_assert_true (graft_trainer_compute_gradients (t, images, labels,
                                                              N, &l, NULL));
              mean_grad += (k == 0 || k == FD_POINTS ? 0.5 : 1.0) *
                           graft_trainer_get_param_grad (t, v)[j] / FD_POINTS;
            }
          w[j] = saved;
          if (fabs (fd - mean_grad) > FD_REL_TOL * fabs (fd) + FD_ABS_TOL)
            g_error ("%s[%" G_GINT64_FORMAT
                     "]: gradient %.6g (mean over the step %.6g), "
                     "finite difference %.6g",
                     names[i], j, grad[j], mean_grad, fd);
          worst = MAX (worst, fabs (fd - mean_grad) / (fabs (fd) + FD_ABS_TOL));
        }
      /* The largest gradient is no numerical noise. */
      g_assert_cmpfloat (fabsf (grad[picks[0]]), >, 1e-3);
    }
  g_test_message ("loss %.5f; finite differences within %.3g", loss0, worst);
  graft_train_config_clear (&c);
  dataset_clear (&d);
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

  g_test_add_func ("/trainer/end-to-end", test_end_to_end);
  g_test_add_func ("/trainer/freeze/head-only", test_freeze_head_only);
  g_test_add_func ("/trainer/freeze/last-block", test_freeze_last_block);
  g_test_add_func ("/trainer/feature-cache/head-only", test_feature_cache);
  g_test_add_func ("/trainer/feature-cache/last-block",
                   test_feature_cache_last_block);
  g_test_add_func ("/trainer/feature-cache/new-data",
                   test_feature_cache_new_data);
  g_test_add_func ("/trainer/determinism", test_determinism);
  g_test_add_func ("/trainer/cancel", test_cancel);
  g_test_add_func ("/trainer/non-finite/nan-head-only", test_nan_head_only);
  g_test_add_func ("/trainer/non-finite/nan-last-block", test_nan_last_block);
  g_test_add_func ("/trainer/non-finite/inf-last-block", test_inf_last_block);
  g_test_add_func ("/trainer/resume", test_resume);
  g_test_add_func ("/trainer/gradient-check", test_gradient_check);
  status = g_test_run ();
  graft_graph_free (base_graph);
  return status;
}
