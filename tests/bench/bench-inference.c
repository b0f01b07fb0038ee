/* bench-inference.c: how fast Graft's engine runs a model forward.
 *
 *   bench-inference [--batch N ...] [--seconds S] [--threads T] [--json]
 *                   [--blas-threads T] [--shape 3x224x224] MODEL.onnx
 *
 * Per batch size (default 1 and 8): a plan for input (N, C, H, W) filled
 * with seeded uniform values in [-1, 1), 3 warm-up runs, then runs until S
 * seconds (default 3) have passed, at least 5. Prints the mean ms per batch
 * and images/s, the same rule as ort-speed.mjs so the two can be divided.
 * The plan is built once per batch size and not timed: that is what the
 * app does too (plans are reused while the batch size stays the same).
 * --threads sets both OpenMP's and OpenBLAS's thread count (they are
 * separate pools); --blas-threads sets OpenBLAS's alone.
 */
#include "graft-error.h"
#include "graph.h"
#include "runtime.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WARMUP_RUNS 3
#define MIN_RUNS 5

typedef struct
{
  int64_t batch;
  int runs;
  double ms_per_batch;
  double images_per_s;
} BenchResult;

/* Parses "3x224x224" (the dims after the batch) into dims[1..]. */
static gboolean
parse_dims (const char *text, GraftShape *shape, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "x", -1);
  int n = (int) g_strv_length (parts);

  if (n < 1 || n + 1 > GRAFT_MAX_DIMS)
    {
      g_set_error (
          error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
          "--shape '%s': give the dims after the batch, e.g. 3x224x224", text);
      return FALSE;
    }
  shape->ndim = n + 1;
  for (int i = 0; i < n; i++)
    {
      guint64 d;
      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, G_MAXINT32, &d, NULL))
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "--shape '%s': '%s' is not a dimension", text, parts[i]);
          return FALSE;
        }
      shape->dims[i + 1] = (int64_t) d;
    }
  return TRUE;
}

/* The input shape at this batch size: the declared dims with the first
 * one replaced, or --shape when given. */
static gboolean
input_shape (const GraftGraph *graph,
             const char *shape_flag,
             int64_t batch,
             GraftShape *shape,
             GError **error)
{
  const GraftValue *input;

  if (graph->n_inputs != 1)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: %d graph inputs, the benchmark feeds exactly one",
                   graph->display_name, graph->n_inputs);
      return FALSE;
    }
  input = &graph->values[graph->inputs[0]];
  if (input->dtype != GRAFT_DTYPE_FLOAT)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: input '%s' is %s, the benchmark feeds float",
                   graph->display_name, input->name,
                   graft_dtype_name (input->dtype));
      return FALSE;
    }
  if (shape_flag != NULL)
    {
      if (!parse_dims (shape_flag, shape, error))
        return FALSE;
    }
  else
    {
      if (input->declared_ndim < 2)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s: input '%s' declares no shape; give --shape",
                       graph->display_name, input->name);
          return FALSE;
        }
      shape->ndim = input->declared_ndim;
      for (int d = 1; d < shape->ndim; d++)
        {
          if (input->declared_dims[d] < 0)
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "%s: input '%s' dim %d is not fixed; give --shape",
                           graph->display_name, input->name, d);
              return FALSE;
            }
          shape->dims[d] = input->declared_dims[d];
        }
    }
  shape->dims[0] = batch;
  return TRUE;
}

static gboolean
bench_batch (GraftGraph *graph,
             const char *shape_flag,
             int64_t batch,
             double seconds,
             BenchResult *result,
             GError **error)
{
  GraftShape shape;
  g_autoptr (GraftTensor) input = NULL;
  g_autoptr (GraftPlan) plan = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  const GraftTensor *inputs[1];
  float *x;
  int64_t n;
  gint64 start, elapsed = 0;
  int runs = 0;

  if (!input_shape (graph, shape_flag, batch, &shape, error))
    return FALSE;
  input = graft_tensor_new (GRAFT_DTYPE_FLOAT, &shape, error);
  if (input == NULL)
    return FALSE;
  x = input->data;
  n = graft_tensor_numel (input);
  for (int64_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, -1.0, 1.0);
  inputs[0] = input;

  plan = graft_plan_new (graph, &shape, NULL, error);
  if (plan == NULL)
    return FALSE;
  for (int i = 0; i < WARMUP_RUNS; i++)
    if (!graft_plan_run (plan, inputs, error))
      return FALSE;

  start = g_get_monotonic_time ();
  while (elapsed < (gint64) (seconds * G_USEC_PER_SEC) || runs < MIN_RUNS)
    {
      if (!graft_plan_run (plan, inputs, error))
        return FALSE;
      runs++;
      elapsed = g_get_monotonic_time () - start;
    }
  result->batch = batch;
  result->runs = runs;
  result->ms_per_batch = (double) elapsed / 1000.0 / runs;
  result->images_per_s = 1000.0 * (double) batch / result->ms_per_batch;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_auto (GStrv) batch_args = NULL;
  g_autofree char *shape_flag = NULL;
  double seconds = 3.0;
  int threads = 2;
  int blas_threads = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "batch", 'b', 0, G_OPTION_ARG_STRING_ARRAY, &batch_args,
      "Batch size to time (repeat; default 1 and 8)", "N" },
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds,
      "Timed duration per batch size (default 3)", "S" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads,
      "OpenMP and OpenBLAS threads (default 2)", "T" },
    { "blas-threads", 0, 0, G_OPTION_ARG_INT, &blas_threads,
      "OpenBLAS threads when they should differ from --threads", "T" },
    { "shape", 0, 0, G_OPTION_ARG_STRING, &shape_flag,
      "Input dims after the batch when the model does not fix them",
      "3x224x224" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "One JSON object per line",
      NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("MODEL.onnx - time inference");
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftGraph) graph = NULL;
  g_autofree char *model_name = NULL;
  int64_t default_batches[] = { 1, 8 };
  int64_t *batches = default_batches;
  int n_batches = G_N_ELEMENTS (default_batches);
  g_autofree int64_t *given_batches = NULL;

  graft_runtime_init (argv);

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    {
      fprintf (stderr, "bench-inference: %s\n", error->message);
      return 2;
    }
  if (argc != 2 || threads < 1 || blas_threads < 0 || !(seconds > 0))
    {
      fprintf (stderr, "bench-inference: give one MODEL.onnx (see --help)\n");
      return 2;
    }
  if (batch_args != NULL)
    {
      n_batches = (int) g_strv_length (batch_args);
      given_batches = g_new (int64_t, n_batches);
      for (int i = 0; i < n_batches; i++)
        {
          guint64 b;
          if (!g_ascii_string_to_unsigned (batch_args[i], 10, 1, 4096, &b,
                                           NULL))
            {
              fprintf (stderr, "bench-inference: --batch '%s' is not 1..4096\n",
                       batch_args[i]);
              return 2;
            }
          given_batches[i] = (int64_t) b;
        }
      batches = given_batches;
    }

  omp_set_num_threads (threads);
  openblas_set_num_threads (blas_threads > 0 ? blas_threads : threads);

  graph = graft_graph_load (argv[1], &error);
  if (graph == NULL)
    {
      fprintf (stderr, "bench-inference: %s\n", error->message);
      return 1;
    }
  {
    g_autofree char *base = g_path_get_basename (argv[1]);
    model_name = g_strescape (base, NULL); /* safe inside JSON quotes */
  }

  for (int i = 0; i < n_batches; i++)
    {
      BenchResult r;
      if (!bench_batch (graph, shape_flag, batches[i], seconds, &r, &error))
        {
          fprintf (stderr, "bench-inference: %s\n", error->message);
          return 1;
        }
      if (json)
        printf ("{\"model\":\"%s\",\"runtime\":\"graft\",\"threads\":%d,"
                "\"batch\":%" G_GINT64_FORMAT ",\"runs\":%d,"
                "\"ms_per_batch\":%.4f,\"images_per_s\":%.4f}\n",
                model_name, threads, r.batch, r.runs, r.ms_per_batch,
                r.images_per_s);
      else
        printf ("%s batch %" G_GINT64_FORMAT ": %.2f ms per batch, %.1f "
                "images/s (%d runs, %d threads)\n",
                model_name, r.batch, r.ms_per_batch, r.images_per_s, r.runs,
                threads);
      fflush (stdout);
    }
  return 0;
}
