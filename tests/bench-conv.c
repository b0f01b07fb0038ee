/* bench-conv.c: the fast conv kernels on MobileNetV2- and ResNet-like
 * layers in GFLOP/s (2 x multiply-adds per second): forward at batch 1
 * and 8, then training at batch 32: forward, dX (input gradient) and dW
 * (weight and bias gradient), each the same multiply-add count.
 *
 * Usage: bench-conv [--check] [--train-only] [seconds-per-layer]
 * Prints the best time of the runs made within seconds-per-layer (0.5 by
 * default), the figure least disturbed by other processes. --check also
 * runs the reference kernel once per layer and prints the largest relative
 * difference. The last rows chain three layers of a MobileNetV2 block
 * (sgemm, OpenMP depthwise, sgemm), where the BLAS and OpenMP thread
 * pools hand the cores to each other.
 */
#include "kernels/conv.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct
{
  const char *name;
  int C, H, W, OC, K, stride, pad, group;
} Layer;

static const Layer layers[] = {
  { "mnv2 stem 3x3 s2 3->32 @224", 3, 224, 224, 32, 3, 2, 1, 1 },
  { "mnv2 dw 3x3 s1 32 @112", 32, 112, 112, 32, 3, 1, 1, 32 },
  { "mnv2 pw 1x1 32->16 @112", 32, 112, 112, 16, 1, 1, 0, 1 },
  { "mnv2 pw 1x1 16->96 @112", 16, 112, 112, 96, 1, 1, 0, 1 },
  { "mnv2 dw 3x3 s2 96 @112", 96, 112, 112, 96, 3, 2, 1, 96 },
  { "mnv2 dw 3x3 s1 144 @56", 144, 56, 56, 144, 3, 1, 1, 144 },
  { "mnv2 pw 1x1 320->1280 @7", 320, 7, 7, 1280, 1, 1, 0, 1 },
  { "resnet stem 7x7 s2 3->64 @224", 3, 224, 224, 64, 7, 2, 3, 1 },
  { "resnet 3x3 64->64 @56", 64, 56, 56, 64, 3, 1, 1, 1 },
  { "resnet 3x3 s2 128->256 @28", 128, 28, 28, 256, 3, 2, 1, 1 },
  { "resnet 3x3 512->512 @7", 512, 7, 7, 512, 3, 1, 1, 1 },
};

/* expand, depthwise, project: one inverted residual block at 56x56 */
static const Layer block[] = {
  { "expand 1x1 24->144", 24, 56, 56, 144, 1, 1, 0, 1 },
  { "dw 3x3 144", 144, 56, 56, 144, 3, 1, 1, 144 },
  { "project 1x1 144->24", 144, 56, 56, 24, 1, 1, 0, 1 },
};

typedef enum
{
  PASS_FORWARD,
  PASS_DINPUT,
  PASS_DWEIGHT,
} Pass;

typedef struct
{
  GraftConvGeometry g;
  float *x, *w, *b, *y, *scratch;
  float *dx, *dw, *db; /* backward only */
  size_t ny;
  double flops;
  Pass pass;
} Run;

static float *
random_floats (size_t n)
{
  float *v = g_new (float, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    v[i] = (float) (rand () / (double) RAND_MAX - 0.5);
  return v;
}

static void
run_init (Run *r, const Layer *L, int batch)
{
  GraftConvGeometry g = {
    .N = batch,
    .C = L->C,
    .H = L->H,
    .W = L->W,
    .OC = L->OC,
    .KH = L->K,
    .KW = L->K,
    .group = L->group,
    .stride_h = L->stride,
    .stride_w = L->stride,
    .dilation_h = 1,
    .dilation_w = 1,
    .pad_top = L->pad,
    .pad_left = L->pad,
    .pad_bottom = L->pad,
    .pad_right = L->pad,
  };
  g.OH = (int) graft_window_output_size (g.H, g.KH, g.stride_h, 1, g.pad_top,
                                         g.pad_bottom, FALSE);
  g.OW = (int) graft_window_output_size (g.W, g.KW, g.stride_w, 1, g.pad_left,
                                         g.pad_right, FALSE);
  r->g = g;
  r->ny = (size_t) g.N * g.OC * g.OH * g.OW;
  r->x = random_floats ((size_t) g.N * g.C * g.H * g.W);
  r->w = random_floats ((size_t) g.OC * (g.C / g.group) * g.KH * g.KW);
  r->b = random_floats (g.OC);
  r->y = g_new (float, r->ny);
  r->scratch = random_floats (MAX (graft_conv2d_forward_scratch_floats (&g),
                                   graft_conv2d_backward_scratch_floats (&g)));
  r->flops = 2.0 * r->ny * (g.C / g.group) * g.KH * g.KW;
  r->pass = PASS_FORWARD;
  r->dx = r->dw = r->db = NULL;
}

static void
run_init_backward (Run *r, const Layer *L, int batch, Pass pass)
{
  run_init (r, L, batch);
  r->pass = pass;
  if (pass == PASS_DINPUT)
    r->dx = g_new0 (float, (size_t) batch * L->C * L->H * L->W);
  else
    {
      r->dw = g_new0 (float, (size_t) L->OC *(L->C / L->group) * L->K * L->K);
      r->db = g_new0 (float, L->OC);
    }
  /* dout: reuse y as a random gradient */
  for (size_t i = 0; i < r->ny; i++)
    r->y[i] = (float) (rand () / (double) RAND_MAX - 0.5);
}

static void
run_clear (Run *r)
{
  g_free (r->x);
  g_free (r->w);
  g_free (r->b);
  g_free (r->y);
  g_free (r->scratch);
  g_free (r->dx);
  g_free (r->dw);
  g_free (r->db);
}

static void
run_once (Run *r)
{
  switch (r->pass)
    {
    case PASS_FORWARD:
      graft_conv2d_forward (r->y, r->x, r->w, r->b, &r->g, r->scratch);
      break;
    case PASS_DINPUT:
      graft_conv2d_backward (r->dx, NULL, NULL, r->y, r->x, r->w, &r->g,
                             r->scratch);
      break;
    case PASS_DWEIGHT:
      graft_conv2d_backward (NULL, r->dw, r->db, r->y, r->x, r->w, &r->g,
                             r->scratch);
      break;
    }
}

/* The best time of runs of all n layers in a row, in seconds. */
static double
best_time (Run *runs, int n, double min_seconds)
{
  double best = G_MAXDOUBLE;
  gint64 start = g_get_monotonic_time (), now;

  for (int i = 0; i < n; i++)
    run_once (&runs[i]); /* warm up */
  do
    {
      gint64 t0 = g_get_monotonic_time ();
      for (int i = 0; i < n; i++)
        run_once (&runs[i]);
      now = g_get_monotonic_time ();
      best = MIN (best, (now - t0) / 1e6);
    }
  while (now - start < min_seconds * 1e6);
  return best;
}

/* Training at batch 32: forward, dX, dW per layer, and the totals. */
static void
train_table (double min_seconds)
{
  double total_s[3] = { 0 }, total_flops = 0;

  printf ("\n%-32s %5s %21s %21s %21s\n", "training layer", "batch",
          "forward ms  GFLOP/s", "dX ms  GFLOP/s", "dW ms  GFLOP/s");
  for (size_t l = 0; l < G_N_ELEMENTS (layers); l++)
    {
      printf ("%-32s %5d", layers[l].name, 32);
      for (int p = 0; p < 3; p++)
        {
          Run r;
          run_init_backward (&r, &layers[l], 32, (Pass) p);
          double seconds = best_time (&r, 1, min_seconds);
          printf (" %12.2f %8.1f", seconds * 1e3, r.flops / seconds / 1e9);
          total_s[p] += seconds;
          if (p == 0)
            total_flops += r.flops;
          run_clear (&r);
        }
      printf ("\n");
      fflush (stdout);
    }
  printf ("%-32s %5s", "all layers", "");
  for (int p = 0; p < 3; p++)
    printf (" %12.2f %8.1f", total_s[p] * 1e3, total_flops / total_s[p] / 1e9);
  printf ("\n");
}

int
main (int argc, char **argv)
{
  gboolean check = FALSE, train_only = FALSE;
  double min_seconds = 0.5;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--check") == 0)
      check = TRUE;
    else if (strcmp (argv[i], "--train-only") == 0)
      train_only = TRUE;
    else
      min_seconds = g_ascii_strtod (argv[i], NULL);

  if (train_only)
    {
      train_table (min_seconds);
      return 0;
    }

  printf ("%-32s %5s %10s %10s\n", "layer", "batch", "ms", "GFLOP/s");
  for (size_t l = 0; l < G_N_ELEMENTS (layers); l++)
    for (int batch = 1; batch <= 8; batch += 7)
      {
        Run r;
        run_init (&r, &layers[l], batch);
        double seconds = best_time (&r, 1, min_seconds);
        printf ("%-32s %5d %10.3f %10.1f", layers[l].name, batch, seconds * 1e3,
                r.flops / seconds / 1e9);
        if (check)
          {
            float *ref = g_new (float, r.ny);
            double worst = 0;
            graft_conv2d_forward_reference (ref, r.x, r.w, r.b, &r.g);
            for (size_t i = 0; i < r.ny; i++)
              worst = MAX (worst,
                           fabs (r.y[i] - ref[i]) / MAX (1.0, fabs (ref[i])));
            printf ("  max rel diff %.2g", worst);
            g_free (ref);
          }
        printf ("\n");
        run_clear (&r);
      }

  for (int batch = 1; batch <= 8; batch += 7)
    {
      Run runs[G_N_ELEMENTS (block)];
      double flops = 0;
      for (size_t l = 0; l < G_N_ELEMENTS (block); l++)
        {
          run_init (&runs[l], &block[l], batch);
          flops += runs[l].flops;
        }
      double seconds = best_time (runs, G_N_ELEMENTS (block), min_seconds);
      printf ("%-32s %5d %10.3f %10.1f\n", "mnv2 block pw+dw+pw @56", batch,
              seconds * 1e3, flops / seconds / 1e9);
      for (size_t l = 0; l < G_N_ELEMENTS (block); l++)
        run_clear (&runs[l]);
    }
  train_table (min_seconds);
  return 0;
}
