/* bench-train.c: how fast Graft's trainer fine-tunes a whole network.
 *
 *   bench-train [--batch N] [--size S] [--steps K] [--warmup W]
 *               [--threads T] [--classes C] MODEL.onnx
 *
 * A trainer with a new head of C classes (default 10) on MODEL's trunk,
 * every block trainable, feature cache off, AdamW at a fixed learning
 * rate: W warm-up steps (default 2), then K timed steps (default 5) of
 * forward, loss, backward and update on one batch of N (default 32)
 * seeded random images of SxS (default 224) with random labels. Prints the
 * mean seconds per step, images/s and the process's peak resident memory
 * (getrusage), the same rule as bench-train-torch.py so the two can be
 * divided. --threads sets both OpenMP's and OpenBLAS's thread count
 * (default 2).
 */
#include "bench-train-setup.h"
#include "graft-error.h"
#include "graph.h"
#include "runtime.h"
#include "train/trainer.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

static double
peak_rss_mib (void)
{
  struct rusage usage;
  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0; /* kilobytes on Linux */
}

int
main (int argc, char **argv)
{
  int batch = 32, size = 224, steps = 5, warmup = 2, threads = 2, classes = 10;
  GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Images per step (32)", "N" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Image side (224)", "S" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Timed steps (5)", "K" },
    { "warmup", 0, 0, G_OPTION_ARG_INT, &warmup, "Untimed steps first (2)",
      "W" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "OpenMP and OpenBLAS threads (2)", "T" },
    { "classes", 0, 0, G_OPTION_ARG_INT, &classes,
      "Classes of the new head (10)", "C" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL.onnx");
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftTrainer) trainer = NULL;
  g_autofree float *images = NULL;
  g_autofree int *labels = NULL;
  gint64 start = 0;
  double seconds, rss_before;
  float loss = 0;

  graft_runtime_init (argv);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2)
    {
      fprintf (stderr, "bench-train: %s\n",
               error ? error->message : "give one model file");
      return 2;
    }
  if (batch < 2 || size < 8 || steps < 1 || warmup < 0 || threads < 1 ||
      classes < 2)
    {
      fprintf (stderr, "bench-train: batch >= 2, size >= 8, steps >= 1, "
                       "threads >= 1, classes >= 2\n");
      return 2;
    }
  omp_set_num_threads (threads);
  openblas_set_num_threads (threads);

  trainer = bench_train_setup (argv[1], batch, size, classes, &images, &labels,
                               &error);
  if (trainer == NULL)
    {
      fprintf (stderr, "bench-train: %s\n", error->message);
      return 1;
    }

  rss_before = peak_rss_mib ();
  for (int s = 0; s < warmup + steps; s++)
    {
      if (s == warmup)
        start = g_get_monotonic_time ();
      if (!graft_trainer_step (trainer, images, labels, batch, 1e-4f, &loss,
                               &error))
        {
          fprintf (stderr, "bench-train: step %d: %s\n", s + 1, error->message);
          return 1;
        }
    }
  seconds = (g_get_monotonic_time () - start) / 1e6;

  printf ("model %s\n", argv[1]);
  printf ("trainable parameters %" G_GINT64_FORMAT "\n",
          graft_trainer_count_params (trainer, TRUE));
  printf ("batch %d, %dx%d, %d threads, %d warm-up + %d timed steps, last loss "
          "%.4f\n",
          batch, size, size, threads, warmup, steps, loss);
  printf ("seconds/step %.3f\n", seconds / steps);
  printf ("images/s %.2f\n", batch * steps / seconds);
  printf ("peak RSS MiB %.0f (%.0f before the first step)\n", peak_rss_mib (),
          rss_before);
  return 0;
}
