/* cli-train.c: graft-cli train: a folder of labeled photos in, a
 * fine-tuned model file out. */
#include "cli.h"
#include "dataset.h"
#include "export.h"
#include "finetune.h"
#include "graft-error.h"
#include "graph-edit.h"
#include "loader.h"
#include "model-catalog.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  GraftLoader *loader;
  GArray *train;   /* dataset item index of each training item */
  GArray *val;
  FILE *log;       /* --log-json, or NULL */
  gboolean tty;
  gint64 started;
} TrainRun;

static gboolean
load_batch (gpointer user, gboolean validation, const int *indices, int n, gboolean augment,
            guint64 seed, float *images, GError **error)
{
  TrainRun *run = user;
  GArray *split = validation ? run->val : run->train;
  g_autofree int *items = g_new (int, n);
  for (int i = 0; i < n; i++)
    items[i] = g_array_index (split, int, indices[i]);
  return graft_loader_load (run->loader, items, n, augment, seed, images, error);
}

static void
report (const GraftTrainProgress *p, gpointer user)
{
  TrainRun *run = user;
  const char *stage = p->n_stages > 1 ? (p->stage == 1 ? "[head only] " : "[fine-tune] ") : "";

  switch (p->phase)
    {
    case GRAFT_TRAIN_CACHING:
      if (run->tty)
        fprintf (stderr, "\r%sComputing the frozen layers' features: %d/%d   ", stage, p->cached,
                 p->cache_total);
      if (p->cached == p->cache_total)
        fprintf (stderr, "%s%sComputed the frozen layers' features of %d photos\n",
                 run->tty ? "\r" : "", stage, p->cache_total);
      break;
    case GRAFT_TRAIN_STEP:
      if (run->tty)
        {
          int width = 30, done = width * p->step / MAX (p->steps_per_epoch, 1);
          fprintf (stderr, "\r%sepoch %d/%d [%.*s%*s] loss %.3f  %.0f img/s  ETA %.0fs   ", stage,
                   p->epoch, p->epochs, done, "##############################", width - done, "",
                   p->loss, p->images_per_second, p->eta_seconds);
        }
      break;
    case GRAFT_TRAIN_EPOCH:
      fprintf (stderr,
               "%s%sepoch %d/%d: train loss %.4f, accuracy %.1f%%; validation loss %.4f, "
               "accuracy %.1f%%%s\n",
               run->tty ? "\r" : "", stage, p->epoch, p->epochs, p->loss, 100 * p->accuracy,
               p->val_loss, 100 * p->val_accuracy, p->improved ? " (best so far)" : "");
      if (run->log)
        {
          fprintf (run->log,
                   "{\"stage\": %d, \"epoch\": %d, \"train_loss\": %.6f, \"train_accuracy\": %.6f, "
                   "\"val_loss\": %.6f, \"val_accuracy\": %.6f, \"seconds\": %.3f}\n",
                   p->stage ? p->stage : 1, p->epoch, p->loss, p->accuracy,
                   isnan (p->val_loss) ? -1.0 : p->val_loss,
                   isnan (p->val_accuracy) ? -1.0 : p->val_accuracy, p->elapsed_seconds);
          fflush (run->log);
        }
      break;
    default:
      break;
    }
}

static gboolean
parse_freeze (const char *text, GraftFreezePreset *preset, GError **error)
{
  if (g_str_equal (text, "head"))
    *preset = GRAFT_FREEZE_HEAD_ONLY;
  else if (g_str_equal (text, "last"))
    *preset = GRAFT_FREEZE_LAST_BLOCKS;
  else if (g_str_equal (text, "none") || g_str_equal (text, "all"))
    *preset = GRAFT_FREEZE_NONE;
  else
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "--freeze takes head, last or none, not '%s'", text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_optimizer (const char *text, GraftOptimizerKind *kind, GError **error)
{
  if (g_str_equal (text, "adamw"))
    *kind = GRAFT_OPTIMIZER_ADAMW;
  else if (g_str_equal (text, "adam"))
    *kind = GRAFT_OPTIMIZER_ADAM;
  else if (g_str_equal (text, "sgd"))
    *kind = GRAFT_OPTIMIZER_SGD;
  else
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "--optimizer takes adamw, adam or sgd, not '%s'", text);
      return FALSE;
    }
  return TRUE;
}

/* Fails early, before a long training, when --out cannot be written. */
static gboolean
check_out_path (const char *out, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (out);

  if (g_file_test (out, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: is a folder, not a model file name", out);
      return FALSE;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || access (dir, W_OK | X_OK) != 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot write there (%s is not a writable folder)",
                   out, dir);
      return FALSE;
    }
  return TRUE;
}

int
graft_cli_train (int argc, char **argv)
{
  g_autofree char *data_dir = NULL, *val_dir = NULL, *model = NULL, *out = NULL;
  g_autofree char *freeze = NULL, *optimizer = NULL, *log_json = NULL, *checkpoints = NULL;
  GraftFinetuneOptions opt;
  gboolean augment = FALSE, no_compare = FALSE, bake = FALSE;
  int blocks = -1, epochs = -1, batch = -1;
  double lr = -1;
  gint64 seed = -1;
  GOptionEntry entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir, "Folder of class folders of photos", "FOLDER" },
    { "val", 0, 0, G_OPTION_ARG_FILENAME, &val_dir, "Separate validation folder", "FOLDER" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model, "Base model (default mobilenet_v2_1.0_224)", "MODEL" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Where to write the fine-tuned model", "MODEL.onnx" },
    { "freeze", 0, 0, G_OPTION_ARG_STRING, &freeze, "What stays frozen: head (train only the new head), last (also train the last --blocks blocks), none (train everything)", "PRESET" },
    { "blocks", 0, 0, G_OPTION_ARG_INT, &blocks, "Blocks trained with --freeze last", "N" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &epochs, "Passes over the training photos", "N" },
    { "batch-size", 'b', 0, G_OPTION_ARG_INT, &batch, "Photos per step", "N" },
    { "learning-rate", 0, 0, G_OPTION_ARG_DOUBLE, &lr, "Learning rate of the new head", "X" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &optimizer, "adamw, adam or sgd", "NAME" },
    { "augment", 0, 0, G_OPTION_ARG_NONE, &augment, "Vary the training photos (crops, flips, colors)", NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed", "N" },
    { "log-json", 0, 0, G_OPTION_ARG_FILENAME, &log_json, "Write one JSON object per epoch", "FILE" },
    { "checkpoint-dir", 0, 0, G_OPTION_ARG_FILENAME, &checkpoints, "Save and resume checkpoints here", "DIR" },
    { "no-compare", 0, 0, G_OPTION_ARG_NONE, &no_compare, "Do not also train the head alone to compare", NULL },
    { "bake-normalization", 0, 0, G_OPTION_ARG_NONE, &bake, "Normalize inside the exported model, which then takes RGB 0..255", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("- fine-tune a base model on your photos");
  g_autoptr (GError) error = NULL;
  g_autofree char *model_path = NULL;
  g_autoptr (GraftGraph) base = NULL;
  g_autoptr (GraftDataset) ds = NULL;
  g_autoptr (GraftTrainer) trainer = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  g_autofree int *train_labels = NULL, *val_labels = NULL;
  GraftDatasetOptions ds_opt;
  GraftPreprocess pp;
  GraftAugment aug;
  GraftFinetuneReport result = { 0 };
  GraftTrainData data = { 0 };
  TrainRun run = { 0 };
  int status = 0;

  graft_finetune_options_init (&opt);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return graft_cli_fail (error);
  if (data_dir == NULL || out == NULL)
    {
      fprintf (stderr, "graft-cli train: give --data FOLDER and --out MODEL.onnx\n");
      return 2;
    }
  if (!check_out_path (out, &error))
    return graft_cli_fail (error);
  if ((freeze && !parse_freeze (freeze, &opt.preset, &error))
      || (optimizer && !parse_optimizer (optimizer, &opt.train.optimizer, &error)))
    return graft_cli_fail (error);
  if (blocks >= 0)
    opt.last_blocks = blocks;
  if (epochs > 0)
    opt.train.epochs = epochs;
  if (batch > 0)
    opt.train.batch_size = batch;
  if (lr > 0)
    opt.train.learning_rate = (float) lr;
  if (seed >= 0)
    opt.train.seed = (guint64) seed;
  opt.train.augment = augment;
  opt.train.checkpoint_dir = g_strdup (checkpoints);
  opt.compare_head_only = !no_compare;

  model_path = graft_catalog_resolve (model, &error);
  if (model_path == NULL || (base = graft_graph_load (model_path, &error)) == NULL)
    return graft_cli_fail (error);
  if (!graft_preprocess_from_model (&pp, base->model, &error))
    {
      g_prefix_error (&error, "%s: ", model_path);
      return graft_cli_fail (error);
    }

  graft_dataset_options_init (&ds_opt);
  ds_opt.seed = opt.train.seed;
  ds_opt.min_side = MIN (pp.width, pp.height);
  ds_opt.val_dir = val_dir;
  ds = graft_dataset_scan (data_dir, &ds_opt, NULL, NULL, NULL, &error);
  if (ds == NULL)
    return graft_cli_fail (error);
  for (guint i = 0; i < ds->issues->len; i++)
    {
      const GraftDatasetIssue *issue = ds->issues->pdata[i];
      if (issue->severity >= GRAFT_SEVERITY_WARNING)
        fprintf (stderr, "graft-cli: %s: %s: %s\n", data_dir,
                 issue->severity == GRAFT_SEVERITY_ERROR ? "error" : "warning", issue->message);
    }
  if (!graft_dataset_usable (ds))
    {
      fprintf (stderr, "graft-cli: %s: the photos cannot be used for training as they are "
                       "(see the errors above; 'graft-cli check-data' shows the details)\n",
               data_dir);
      return 1;
    }

  run.train = graft_dataset_split_indices (ds, GRAFT_SPLIT_TRAIN);
  run.val = graft_dataset_split_indices (ds, GRAFT_SPLIT_VAL);
  train_labels = g_new (int, MAX (run.train->len, 1));
  val_labels = g_new (int, MAX (run.val->len, 1));
  for (guint i = 0; i < run.train->len; i++)
    train_labels[i] = g_array_index (ds->items, GraftDatasetItem, g_array_index (run.train, int, i)).label;
  for (guint i = 0; i < run.val->len; i++)
    val_labels[i] = g_array_index (ds->items, GraftDatasetItem, g_array_index (run.val, int, i)).label;
  for (guint i = 0; i < ds->items->len; i++)
    g_ptr_array_add (paths, g_array_index (ds->items, GraftDatasetItem, i).path);
  graft_augment_init_default (&aug);
  aug.enabled = augment;
  run.loader = graft_loader_new ((const char *const *) paths->pdata, (int) paths->len, &pp, &aug, 0,
                                 (size_t) 1 << 30);
  run.tty = isatty (STDERR_FILENO);
  run.started = g_get_monotonic_time ();
  if (log_json && (run.log = fopen (log_json, "w")) == NULL)
    {
      fprintf (stderr, "graft-cli: %s: cannot write the log\n", log_json);
      status = 1;
      goto out;
    }
  data.n_train = (int) run.train->len;
  data.n_val = (int) run.val->len;
  data.train_labels = train_labels;
  data.val_labels = val_labels;
  data.load_batch = load_batch;
  data.user = &run;

  fprintf (stderr, "Training on %d photos of %d classes, checking on %d; base model %s\n",
           data.n_train, ds->n_classes, data.n_val, model_path);
  trainer = graft_finetune (base, ds->n_classes, &opt, &data, report, &run, &result, NULL, &error);
  if (trainer == NULL)
    {
      status = graft_cli_fail (error);
      goto out;
    }
  if (result.explanation)
    fprintf (stderr, "%s\n", result.explanation);
  if (!graft_export_classifier (graft_trainer_get_graph (trainer), (const char *const *) ds->classes,
                                ds->n_classes, &pp, bake, out, &error))
    {
      status = graft_cli_fail (error);
      goto out;
    }
  fprintf (stderr, "Validation accuracy %.1f%%. Wrote %s and labels.txt beside it (%.0f s).\n",
           100 * result.val_accuracy, out, (g_get_monotonic_time () - run.started) / 1e6);

out:
  if (run.log)
    fclose (run.log);
  graft_finetune_report_clear (&result);
  graft_finetune_options_clear (&opt);
  g_clear_pointer (&run.loader, graft_loader_free);
  g_clear_pointer (&run.train, g_array_unref);
  g_clear_pointer (&run.val, g_array_unref);
  return status;
}
