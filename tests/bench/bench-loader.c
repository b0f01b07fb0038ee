/* bench-loader.c: decode + preprocess speed of the training loader.
 *
 *   bench-loader [FOLDER] [--size N] [--threads N] [--batch N]
 *
 * Scans FOLDER (default /work/shared/datasets/cats_vs_dogs), then runs two
 * epochs over all its photos in batches, as the trainer does (load a
 * batch, prefetch the next): the first epoch decodes (cold), the second
 * is served from the cache (warm). Augmented and plain loads are timed
 * separately. Not a test.
 */
#include "dataset.h"
#include "loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double
run_epoch (GraftLoader *loader,
           const int *order,
           int n,
           int batch,
           gboolean augment,
           guint64 seed,
           float *out)
{
  gint64 start = g_get_monotonic_time ();

  for (int b = 0; b < n; b += batch)
    {
      g_autoptr (GError) error = NULL;
      int count = MIN (batch, n - b);

      if (!graft_loader_load (loader, order + b, count, augment, seed, out,
                              &error))
        {
          fprintf (stderr, "%s\n", error->message);
          exit (1);
        }
      if (b + batch < n)
        graft_loader_prefetch (loader, order + b + batch,
                               MIN (batch, n - b - batch));
    }
  return (g_get_monotonic_time () - start) / 1e6;
}

int
main (int argc, char **argv)
{
  const char *folder = "/work/shared/datasets/cats_vs_dogs";
  int size = 224, threads = 0, batch = 32;
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftDataset) ds = NULL;
  g_autofree const char **paths = NULL;
  g_autofree int *order = NULL;
  g_autofree float *out = NULL;
  GraftDatasetOptions options;
  GraftPreprocess pp;
  GraftAugment augment;
  GRand *rand;
  gint64 t0;
  int n;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--size") == 0 && i + 1 < argc)
      size = atoi (argv[++i]);
    else if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc)
      threads = atoi (argv[++i]);
    else if (strcmp (argv[i], "--batch") == 0 && i + 1 < argc)
      batch = atoi (argv[++i]);
    else if (argv[i][0] != '-')
      folder = argv[i];
    else
      {
        fprintf (stderr,
                 "usage: %s [FOLDER] [--size N] [--threads N] [--batch N]\n",
                 argv[0]);
        return 2;
      }
  if (size < 1 || size > GRAFT_PREPROCESS_MAX_SIDE || batch < 1)
    return 2;

  graft_dataset_options_init (&options);
  options.min_side = size;
  t0 = g_get_monotonic_time ();
  ds = graft_dataset_scan (folder, &options, NULL, NULL, NULL, &error);
  if (ds == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  n = (int) ds->items->len;
  printf ("scan (hash + checking decode): %d photos in %.3f s\n", n,
          (g_get_monotonic_time () - t0) / 1e6);
  if (n == 0)
    return 1;

  paths = g_new (const char *, n);
  order = g_new (int, n);
  for (int i = 0; i < n; i++)
    {
      paths[i] = g_array_index (ds->items, GraftDatasetItem, i).path;
      order[i] = i;
    }
  rand = g_rand_new_with_seed (1);
  for (int i = n - 1; i > 0; i--) /* a training epoch's shuffled order */
    {
      int j = g_rand_int_range (rand, 0, i + 1), t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
  g_rand_free (rand);

  graft_preprocess_init_imagenet (&pp);
  pp.width = pp.height = size;
  graft_augment_init_default (&augment);
  out = g_new (float, (size_t) batch * 3 * size * size);

  for (int augmented = 1; augmented >= 0; augmented--)
    {
      g_autoptr (GraftLoader) loader =
          graft_loader_new (paths, n, &pp, &augment, threads, (size_t) 2 << 30);
      GraftLoaderStats stats;
      double cold = run_epoch (loader, order, n, batch, augmented, 1, out);
      double warm = run_epoch (loader, order, n, batch, augmented, 2, out);

      graft_loader_get_stats (loader, &stats);
      printf ("%s, %dx%d, %d threads, batch %d:\n",
              augmented ? "augmented" : "plain", size, size,
              threads > 0 ? threads : (int) g_get_num_processors (), batch);
      printf ("  cold (first epoch, decoding): %7.1f images/s\n", n / cold);
      printf ("  warm (cached epoch):          %7.1f images/s\n", n / warm);
      printf ("  cache: %d entries, %.1f MB\n", stats.cached_items,
              stats.cached_bytes / 1048576.0);
    }
  return 0;
}
