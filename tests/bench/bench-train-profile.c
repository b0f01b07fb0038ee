/* bench-train-profile.c: where one whole-network training step spends its
 * time, per op type and direction.
 *
 *   bench-train-profile [--batch N] [--size S] [--steps K] [--threads T]
 *                       MODEL.onnx
 *
 * The same set-up as bench-train (new 10-class head, every block trainable,
 * feature cache off), then K steps (default 2, after one untimed warm-up)
 * of the trainer's own step split node by node: each node's forward and
 * backward is timed with g_get_monotonic_time and summed by op type (Conv
 * split into 1x1, depthwise and other kernels) and direction, beside the
 * backward set-up (loss gradient, zeroing what must start at zero), the
 * loss and the optimizer update. Conv rows also
 * give GFLOP/s (2 multiply-adds per weight tap and output pixel; backward
 * counts dX and dW, when computed), and the "cpu" columns the CPU time of
 * all threads (which includes OpenMP's spinning unless
 * OMP_WAIT_POLICY=PASSIVE).
 */
#include "bench-train-setup.h"
#include "graft-error.h"
#include "graph.h"
#include "kernels/loss.h"
#include "train/trainer-private.h"
#include "train/trainer.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xmmintrin.h>

typedef struct
{
  double fwd_s, bwd_s;
  double fwd_cpu, bwd_cpu;
  double fwd_flop, bwd_flop;
  int count;
} OpTime;

/* The row a node is summed into, and its forward multiply-add FLOPs. */
static const char *
node_kind (GraftPlan *plan, const GraftNode *node, double *flop)
{
  *flop = 0;
  if (strcmp (node->op_type, "Conv") != 0)
    return node->op_type;
  const GraftTensor *x = graft_plan_tensor (plan, node->inputs[0]);
  const GraftTensor *w = graft_plan_tensor (plan, node->inputs[1]);
  const GraftTensor *y = graft_plan_tensor (plan, node->outputs[0]);
  int64_t taps = 1; /* weight elements per output channel */
  for (int i = 1; i < w->shape.ndim; i++)
    taps *= w->shape.dims[i];
  *flop = 2.0 * (double) graft_tensor_numel (y) * (double) taps;
  int64_t C = x->shape.dims[1], Cg = w->shape.dims[1];
  if (Cg == 1 && C > 1)
    return "Conv depthwise";
  if (taps == Cg)
    return "Conv 1x1";
  return "Conv KxK";
}

static OpTime *
row (GHashTable *rows, const char *kind)
{
  OpTime *r = g_hash_table_lookup (rows, kind);
  if (r == NULL)
    {
      r = g_new0 (OpTime, 1);
      g_hash_table_insert (rows, g_strdup (kind), r);
    }
  return r;
}

static gint
by_total_time (gconstpointer a, gconstpointer b, gpointer rows)
{
  const OpTime *ra = g_hash_table_lookup (rows, *(const char *const *) a);
  const OpTime *rb = g_hash_table_lookup (rows, *(const char *const *) b);
  double ta = ra->fwd_s + ra->bwd_s, tb = rb->fwd_s + rb->bwd_s;
  return ta < tb ? 1 : ta > tb ? -1 : 0;
}

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* CPU seconds of every thread of the process: on a busy machine the wall
 * clock also counts other programs' turns, this does not. */
static double
cpu_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main (int argc, char **argv)
{
  int batch = 32, size = 224, steps = 2, threads = 2, classes = 10;
  gboolean ftz = FALSE, per_node = FALSE;
  GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Images per step (32)", "N" },
    { "size", 0, 0, G_OPTION_ARG_INT, &size, "Image side (224)", "S" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, "Profiled steps (2)", "K" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads,
      "OpenMP and OpenBLAS threads (2)", "T" },
    { "nodes", 0, 0, G_OPTION_ARG_NONE, &per_node,
      "Also list every Conv node (last step)", NULL },
    { "ftz", 0, 0, G_OPTION_ARG_NONE, &ftz,
      "Flush denormals to zero in every thread", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("MODEL.onnx");
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftTrainer) trainer = NULL;
  g_autoptr (GHashTable) rows = NULL;
  g_autofree float *images = NULL;
  g_autofree int *labels = NULL;
  double zero_s = 0, loss_s = 0, update_s = 0, total_s = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc != 2 ||
      batch < 2 || size < 8 || steps < 1 || threads < 1)
    {
      fprintf (stderr, "bench-train-profile: %s\n",
               error ? error->message : "give one model file");
      return 2;
    }
  omp_set_num_threads (threads);
  openblas_set_num_threads (threads);
  if (ftz)
    {
#pragma omp parallel
      _mm_setcsr (_mm_getcsr () | 0x8040); /* FTZ | DAZ */
    }

  trainer = bench_train_setup (argv[1], batch, size, classes, &images, &labels,
                               &error);
  if (trainer == NULL)
    {
      fprintf (stderr, "bench-train-profile: %s\n", error->message);
      return 1;
    }

  /* One ordinary step first: plans, workspace and lazily grown buffers. */
  float loss;
  if (!graft_trainer_step (trainer, images, labels, batch, 1e-4f, &loss,
                           &error))
    {
      fprintf (stderr, "bench-train-profile: %s\n", error->message);
      return 1;
    }

  rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GraftTrainer *t = trainer;
  GraftGraph *g = t->graph;
  PlanState *ps = graft_trainer_get_plan (t, batch, &error);
  if (ps == NULL)
    {
      fprintf (stderr, "bench-train-profile: %s\n", error->message);
      return 1;
    }
  g_autofree double *node_fwd = g_new0 (double, g->n_nodes);
  g_autofree double *node_bwd = g_new0 (double, g->n_nodes);
  for (int s = 0; s < steps; s++)
    {
      double step_start = now_s (), t0;
      graft_trainer_run_prefix (t, ps, images, NULL, NULL);
      graft_trainer_keep_running_stats (t);
      for (int n = t->first_trainable; n < g->n_nodes; n++)
        {
          double flop;
          const char *kind = node_kind (ps->plan, &g->nodes[n], &flop);
          double c0 = cpu_s ();
          t0 = now_s ();
          graft_plan_forward_node (ps->plan, n,
                                   graft_trainer_node_train_mode (t, n));
          OpTime *r = row (rows, kind);
          r->fwd_s += now_s () - t0;
          r->fwd_cpu += cpu_s () - c0;
          node_fwd[n] = now_s () - t0;
          r->fwd_flop += flop;
          r->count++;
        }
      t0 = now_s ();
      const GraftTensor *logits = graft_plan_tensor (ps->plan, g->outputs[0]);
      loss = graft_cross_entropy_forward (ps->probs, logits->data, labels,
                                          t->class_weights, batch, t->n_classes,
                                          t->config.label_smoothing);
      loss_s += now_s () - t0;

      t0 = now_s ();
      graft_trainer_backward_begin (t, ps, labels);
      zero_s += now_s () - t0;
      for (int n = g->n_nodes - 1; n >= t->first_trainable; n--)
        {
          const GraftNode *node = &g->nodes[n];
          double flop;
          const char *kind = node_kind (ps->plan, node, &flop);
          double c0 = cpu_s ();
          t0 = now_s ();
          graft_trainer_backward_node (t, ps, n);
          OpTime *r = row (rows, kind);
          r->bwd_s += now_s () - t0;
          r->bwd_cpu += cpu_s () - c0;
          node_bwd[n] = now_s () - t0;
          if (flop > 0)
            {
              gboolean dx = ps->grads[node->inputs[0]] != NULL;
              gboolean dw = ps->grads[node->inputs[1]] != NULL;
              r->bwd_flop += flop * ((dx ? 1 : 0) + (dw ? 1 : 0));
            }
        }
      t0 = now_s ();
      if (!graft_trainer_apply_update (t, 1e-4f, &error))
        {
          fprintf (stderr, "bench-train-profile: %s\n", error->message);
          return 1;
        }
      update_s += now_s () - t0;
      total_s += now_s () - step_start;
    }

  printf ("model %s, batch %d, %dx%d, %d threads, %d profiled steps, last "
          "loss %.4f\n",
          argv[1], batch, size, size, threads, steps, loss);
  for (int n = t->first_trainable; per_node && n < g->n_nodes; n++)
    {
      const GraftNode *node = &g->nodes[n];
      double flop;
      const char *kind = node_kind (ps->plan, node, &flop);
      if (flop == 0)
        continue;
      const GraftShape *x =
          &graft_plan_tensor (ps->plan, node->inputs[0])->shape;
      const GraftShape *w =
          &graft_plan_tensor (ps->plan, node->inputs[1])->shape;
      const GraftShape *y =
          &graft_plan_tensor (ps->plan, node->outputs[0])->shape;
      printf ("%-16s %-15s C%-4d %3dx%-3d OC%-4d k%dx%d %3dx%-3d fwd %6.1f ms "
              "%5.1f GF/s  bwd %6.1f ms\n",
              node->label, kind, (int) x->dims[1], (int) x->dims[2],
              (int) x->dims[3], (int) w->dims[0], (int) w->dims[2],
              (int) w->dims[3], (int) y->dims[2], (int) y->dims[3],
              1e3 * node_fwd[n], flop / node_fwd[n] / 1e9, 1e3 * node_bwd[n]);
    }
  printf ("%-22s %5s %9s %9s %9s %8s %8s %9s %9s\n", "op (per step)", "nodes",
          "fwd ms", "bwd ms", "total ms", "fwd GF/s", "bwd GF/s", "fwd cpu",
          "bwd cpu");
  guint n_kinds;
  g_autofree const char **kinds =
      (const char **) g_hash_table_get_keys_as_array (rows, &n_kinds);
  g_qsort_with_data (kinds, (gint) n_kinds, sizeof *kinds, by_total_time, rows);
  double sum_s = 0;
  for (guint i = 0; i < n_kinds; i++)
    {
      const OpTime *r = g_hash_table_lookup (rows, kinds[i]);
      sum_s += r->fwd_s + r->bwd_s;
      printf ("%-22s %5d %9.1f %9.1f %9.1f", kinds[i], r->count / steps,
              1e3 * r->fwd_s / steps, 1e3 * r->bwd_s / steps,
              1e3 * (r->fwd_s + r->bwd_s) / steps);
      if (r->fwd_flop > 0)
        printf (" %8.1f %8.1f", r->fwd_flop / r->fwd_s / 1e9,
                r->bwd_s > 0 ? r->bwd_flop / r->bwd_s / 1e9 : 0.0);
      else
        printf (" %8s %8s", "", "");
      printf (" %9.1f %9.1f\n", 1e3 * r->fwd_cpu / steps,
              1e3 * r->bwd_cpu / steps);
    }
  printf ("%-22s %5s %29.1f\n", "backward set-up", "", 1e3 * zero_s / steps);
  printf ("%-22s %5s %29.1f\n", "loss", "", 1e3 * loss_s / steps);
  printf ("%-22s %5s %29.1f\n", "optimizer update", "", 1e3 * update_s / steps);
  sum_s += zero_s + loss_s + update_s;
  printf ("%-22s %5s %29.1f (%.2f images/s; ops above sum to %.1f)\n", "step",
          "", 1e3 * total_s / steps, batch * steps / total_s,
          1e3 * sum_s / steps);
  return 0;
}
