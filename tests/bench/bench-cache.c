/* bench-cache.c: what the feature cache buys for head-only training.
 *
 *   bench-cache [--images N] [--epochs E] [MODEL]
 *
 * Trains only a new head on MODEL (default: the bundled MobileNetV2) over
 * N seeded random 3xHxW images (default 256) for E epochs (default 3),
 * once with the feature cache and once without, and prints the seconds of
 * each run, the images/s, and the speed-up, measured in this run.
 */
#include "graft-error.h"
#include "graph.h"
#include "model-catalog.h"
#include "runtime.h"
#include "train/trainer.h"

#include <stdio.h>
#include <string.h>

typedef struct
{
  float *images; /* n x image_floats: training items, then validation */
  size_t image_floats;
  int n_train;
} Images;

static gboolean
load_batch (gpointer user, gboolean validation, const int *indices, int n, gboolean augment,
            guint64 seed, float *out, GError **error)
{
  Images *im = user;
  for (int i = 0; i < n; i++)
    {
      size_t item = (size_t) indices[i] + (validation ? im->n_train : 0);
      memcpy (out + i * im->image_floats, im->images + item * im->image_floats,
              im->image_floats * sizeof (float));
    }
  return TRUE;
}

static double
run (const GraftGraph *base, gboolean cache, int n_images, int epochs, Images *im, int *labels,
     float *val_accuracy)
{
  GraftTrainConfig config;
  GraftTrainData data = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftTrainer) t = NULL;
  const GraftEpochRecord *history;
  int n_history;
  gint64 start;

  graft_train_config_init (&config);
  config.epochs = epochs;
  config.feature_cache = cache;
  t = graft_trainer_new (base, 4, &config, &error);
  if (t == NULL)
    g_error ("%s", error->message);
  data.n_train = n_images * 3 / 4;
  data.n_val = n_images - data.n_train;
  data.train_labels = labels;
  data.val_labels = labels + data.n_train;
  data.load_batch = load_batch;
  data.user = im;
  im->n_train = data.n_train;
  start = g_get_monotonic_time ();
  if (!graft_trainer_run (t, &data, NULL, NULL, &error))
    g_error ("%s", error->message);
  history = graft_trainer_get_history (t, &n_history);
  *val_accuracy = history[n_history - 1].val_accuracy;
  graft_train_config_clear (&config);
  return (g_get_monotonic_time () - start) / 1e6;
}

int
main (int argc, char **argv)
{
  int n_images = 256, epochs = 3;
  GOptionEntry entries[] = {
    { "images", 0, 0, G_OPTION_ARG_INT, &n_images, "Images (256)", "N" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &epochs, "Epochs (3)", "E" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("[MODEL] - feature cache speed-up");
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GraftGraph) base = NULL;
  g_autofree int *labels = NULL;
  Images im;
  GRand *rand;
  int side;
  double with, without;
  float acc_with, acc_without;

  graft_runtime_init (argv);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    g_error ("%s", error->message);
  path = graft_catalog_resolve (argc > 1 ? argv[1] : NULL, &error);
  if (path == NULL || (base = graft_graph_load (path, &error)) == NULL)
    g_error ("%s", error->message);
  side = (int) base->values[base->inputs[0]].declared_dims[2];
  im.image_floats = (size_t) 3 * side * side;
  im.images = g_new (float, im.image_floats * n_images);
  labels = g_new (int, n_images);
  rand = g_rand_new_with_seed (7);
  for (size_t i = 0; i < im.image_floats * n_images; i++)
    im.images[i] = (float) g_rand_double_range (rand, -1, 1);
  for (int i = 0; i < n_images; i++)
    labels[i] = i % 4;
  g_rand_free (rand);

  /* The loader in this benchmark copies prepared tensors, so the figures
   * isolate the network: with real photos the cache also saves decoding. */
  without = run (base, FALSE, n_images, epochs, &im, labels, &acc_without);
  with = run (base, TRUE, n_images, epochs, &im, labels, &acc_with);
  printf ("model %s, %d images, %d epochs, head only\n", path, n_images, epochs);
  printf ("  without cache: %.2f s (%.1f images/s)\n", without, epochs * n_images / without);
  printf ("  with cache:    %.2f s (%.1f images/s), including computing the features once\n",
          with, epochs * n_images / with);
  printf ("  speed-up: %.2fx\n", without / with);
  g_free (im.images);
  return 0;
}
