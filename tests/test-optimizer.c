/* test-optimizer.c: SGD, Adam and AdamW against PyTorch 1.13 (fixture from
 * tests/reference/optimizer-reference.py), the threaded path against the
 * single-threaded one, gradient clipping, the non-finite check and the
 * learning-rate schedules. */
#include "graft-error.h"
#include "train/optimizer.h"
#include "train/schedule.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "data/optimizer/optimizer-reference.h"

/* ---- against PyTorch ---- */

/* Float32 arithmetic in another order (PyTorch fuses multiply-adds with
 * AVX2) differs in the last bits; five steps keep it within this. */
#define REF_REL_TOL 1e-6
#define REF_ABS_TOL 1e-7

static void
check_variant (const RefVariant *v)
{
  GraftOptimizerConfig config = graft_optimizer_config_default (v->kind);
  float params[REF_N_PARAMS][REF_MAX_NUMEL];
  float grads[REF_N_PARAMS][REF_MAX_NUMEL];
  GraftParamRef refs[REF_N_PARAMS];
  g_autoptr (GraftOptimizer) opt = NULL;
  double worst = 0.0;

  config.momentum = v->momentum;
  config.nesterov = v->nesterov;
  config.weight_decay = v->weight_decay;
  config.beta1 = v->beta1;
  config.beta2 = v->beta2;
  config.eps = v->eps;
  g_assert_true (graft_optimizer_config_validate (&config, NULL));

  memcpy (params, ref_init, sizeof params);
  for (int i = 0; i < REF_N_PARAMS; i++)
    refs[i] = (GraftParamRef){
      .name = ref_params[i].name,
      .param = params[i],
      .grad = ref_params[i].frozen ? NULL : grads[i],
      .n = (size_t) ref_params[i].numel,
      .lr_scale = ref_params[i].lr_scale,
      .decay = ref_params[i].decay,
    };
  opt = graft_optimizer_new (&config, refs, REF_N_PARAMS);
  g_assert_nonnull (opt);

  for (int step = 0; step < REF_N_STEPS; step++)
    {
      memcpy (grads, ref_grads[step], sizeof grads);
      graft_optimizer_step (opt, ref_lrs[step]);
      for (int i = 0; i < REF_N_PARAMS; i++)
        for (int k = 0; k < ref_params[i].numel; k++)
          {
            double want = v->params[step][i][k];
            double diff = fabs (params[i][k] - want);
            if (diff > REF_REL_TOL * fabs (want) + REF_ABS_TOL)
              g_error ("%s step %d %s[%d]: %.9g, PyTorch %.9g", v->name,
                       step + 1, ref_params[i].name, k, params[i][k], want);
            worst = MAX (worst, diff / (fabs (want) + 1e-30));
          }
    }
  /* The frozen parameter is untouched, bit for bit, and took no step. */
  for (int i = 0; i < REF_N_PARAMS; i++)
    {
      if (!ref_params[i].frozen)
        {
          g_assert_cmpint (graft_optimizer_get_step (opt, i), ==, REF_N_STEPS);
          continue;
        }
      g_assert_cmpmem (params[i], ref_params[i].numel * sizeof (float),
                       ref_init[i], ref_params[i].numel * sizeof (float));
      g_assert_cmpint (graft_optimizer_get_step (opt, i), ==, 0);
    }
  g_test_message ("%s: largest relative difference from PyTorch %.3g", v->name,
                  worst);
}

static void
test_reference (gconstpointer data)
{
  check_variant (data);
}

/* The fixture's variants differ: a kernel that ignored momentum, Nesterov
 * or the kind would still have to match each of them. */
static void
test_reference_variants_differ (void)
{
  int n = G_N_ELEMENTS (ref_variants);

  for (int a = 0; a < n; a++)
    for (int b = a + 1; b < n; b++)
      g_assert_true (memcmp (ref_variants[a].params[REF_N_STEPS - 1],
                             ref_variants[b].params[REF_N_STEPS - 1],
                             sizeof ref_variants[a].params[0]) != 0);
}

/* ---- threaded against single-threaded ---- */

static void
fill_random (float *x, size_t n, GRand *rng, double lo, double hi)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rng, lo, hi);
}

/* Steps one large parameter (threaded loops) and the same numbers cut into
 * small parameters (serial loops); both must agree bit for bit, and with 1
 * and 2 threads. */
static void
check_large (GraftOptimizerKind kind, int n_threads)
{
  enum
  {
    N = 200000,
    CHUNK = 1000,
    N_CHUNKS = N / CHUNK,
    STEPS = 3
  };
  GraftOptimizerConfig config = graft_optimizer_config_default (kind);
  g_autoptr (GRand) rng = g_rand_new_with_seed (7);
  g_autofree float *big = g_new (float, N);
  g_autofree float *small = g_new (float, N);
  g_autofree float *grad = g_new (float, N);
  GraftParamRef big_ref = { "big", big, grad, N, 0.5f, TRUE };
  g_autofree GraftParamRef *small_refs = g_new0 (GraftParamRef, N_CHUNKS);
  g_autofree char **names = g_new0 (char *, N_CHUNKS + 1);
  g_autoptr (GraftOptimizer) big_opt = NULL;
  g_autoptr (GraftOptimizer) small_opt = NULL;
  int saved_threads = omp_get_max_threads ();

  config.weight_decay = 0.01f;
  config.nesterov = kind == GRAFT_OPTIMIZER_SGD;
  fill_random (big, N, rng, -1.0, 1.0);
  memcpy (small, big, N * sizeof (float));
  for (int c = 0; c < N_CHUNKS; c++)
    {
      names[c] = g_strdup_printf ("chunk%d", c);
      small_refs[c] = (GraftParamRef){
        names[c], small + c * CHUNK, grad + c * CHUNK, CHUNK, 0.5f, TRUE
      };
    }
  big_opt = graft_optimizer_new (&config, &big_ref, 1);
  small_opt = graft_optimizer_new (&config, small_refs, N_CHUNKS);

  omp_set_num_threads (n_threads);
  for (int s = 0; s < STEPS; s++)
    {
      fill_random (grad, N, rng, -0.5, 0.5);
      graft_optimizer_step (big_opt, 0.01f);
      graft_optimizer_step (small_opt, 0.01f);
    }
  omp_set_num_threads (saved_threads);

  g_assert_cmpmem (big, N * sizeof (float), small, N * sizeof (float));
  for (const char *const *st = graft_optimizer_state_names (big_opt); *st; st++)
    for (int c = 0; c < N_CHUNKS; c++)
      g_assert_cmpmem (graft_optimizer_get_state (big_opt, 0, *st) + c * CHUNK,
                       CHUNK * sizeof (float),
                       graft_optimizer_get_state (small_opt, c, *st),
                       CHUNK * sizeof (float));
  g_strfreev (g_steal_pointer (&names));
}

static void
test_large_threaded (void)
{
  const GraftOptimizerKind kinds[] = { GRAFT_OPTIMIZER_SGD,
                                       GRAFT_OPTIMIZER_ADAM,
                                       GRAFT_OPTIMIZER_ADAMW };

  for (size_t k = 0; k < G_N_ELEMENTS (kinds); k++)
    for (int threads = 1; threads <= 2; threads++)
      check_large (kinds[k], threads);
}

/* ---- configuration and state access ---- */

static void
test_config (void)
{
  GraftOptimizerConfig sgd =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_SGD);
  GraftOptimizerConfig adam =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_ADAM);
  GraftOptimizerConfig adamw =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_ADAMW);
  GraftOptimizerConfig bad;
  GError *error = NULL;

  g_assert_cmpfloat (sgd.momentum, ==, 0.9f);
  g_assert_cmpfloat (sgd.weight_decay, ==, 0.0f);
  g_assert_false (sgd.nesterov);
  g_assert_cmpfloat (adam.weight_decay, ==, 0.0f);
  g_assert_cmpfloat (adamw.weight_decay, ==, 0.01f);
  g_assert_cmpfloat (adamw.beta1, ==, 0.9f);
  g_assert_cmpfloat (adamw.beta2, ==, 0.999f);
  g_assert_cmpfloat (adamw.eps, ==, 1e-8f);
  g_assert_true (graft_optimizer_config_validate (&sgd, NULL));
  g_assert_true (graft_optimizer_config_validate (&adam, NULL));
  g_assert_true (graft_optimizer_config_validate (&adamw, NULL));

  bad = sgd;
  bad.momentum = 0.0f;
  bad.nesterov = TRUE;
  g_assert_false (graft_optimizer_config_validate (&bad, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Nesterov"));
  g_clear_error (&error);

  bad = adamw;
  bad.beta2 = 1.0f;
  g_assert_false (graft_optimizer_config_validate (&bad, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_clear_error (&error);

  bad = adam;
  bad.weight_decay = NAN;
  g_assert_false (graft_optimizer_config_validate (&bad, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_clear_error (&error);

  bad = sgd;
  bad.momentum = -0.1f;
  g_assert_false (graft_optimizer_config_validate (&bad, &error));
  g_clear_error (&error);
}

static void
test_state_access (void)
{
  float p[3] = { 1, 2, 3 }, g[3] = { 0.5f, -0.5f, 1 }, q[2] = { 4, 5 };
  GraftParamRef refs[] = {
    { "a", p, g, 3, 1.0f, TRUE },
    { "b", q, NULL, 2, 1.0f, FALSE },
  };
  GraftOptimizerConfig sgd =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_SGD);
  GraftOptimizerConfig plain = sgd;
  GraftOptimizerConfig adam =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_ADAM);
  g_autoptr (GraftOptimizer) opt = NULL;
  const char *const *names;

  plain.momentum = 0.0f;
  opt = graft_optimizer_new (&plain, refs, 2);
  g_assert_null (graft_optimizer_state_names (opt)[0]);
  g_assert_null (graft_optimizer_get_state (opt, 0, "momentum_buffer"));
  g_clear_pointer (&opt, graft_optimizer_free);

  opt = graft_optimizer_new (&sgd, refs, 2);
  names = graft_optimizer_state_names (opt);
  g_assert_cmpstr (names[0], ==, "momentum_buffer");
  g_assert_null (names[1]);
  graft_optimizer_step (opt, 0.1f);
  /* First step: the buffer is the gradient. */
  g_assert_cmpmem (graft_optimizer_get_state (opt, 0, "momentum_buffer"),
                   sizeof g, g, sizeof g);
  g_assert_cmpfloat (p[0], ==, 1.0f - 0.1f * 0.5f);
  g_assert_cmpint (graft_optimizer_get_step (opt, 0), ==, 1);
  g_assert_cmpint (graft_optimizer_get_step (opt, 1), ==, 0);
  g_assert_cmpfloat (q[0], ==, 4.0f);
  g_assert_cmpint (graft_optimizer_find_param (opt, "b"), ==, 1);
  g_assert_cmpint (graft_optimizer_find_param (opt, "c"), ==, -1);
  g_assert_cmpstr (graft_optimizer_get_param (opt, 1)->name, ==, "b");

  /* Unfreezing b makes it move from then on. */
  {
    float gb[2] = { 1, 1 };
    graft_optimizer_set_grad (opt, 1, gb);
    graft_optimizer_step (opt, 0.1f);
    g_assert_cmpfloat (q[0], ==, 4.0f - 0.1f * 1.0f);
    g_assert_cmpint (graft_optimizer_get_step (opt, 1), ==, 1);
    graft_optimizer_set_grad (opt, 1, NULL);
  }
  g_clear_pointer (&opt, graft_optimizer_free);

  opt = graft_optimizer_new (&adam, refs, 2);
  names = graft_optimizer_state_names (opt);
  g_assert_cmpstr (names[0], ==, "exp_avg");
  g_assert_cmpstr (names[1], ==, "exp_avg_sq");
  g_assert_null (names[2]);
  g_assert_nonnull (graft_optimizer_get_state (opt, 1, "exp_avg_sq"));
  g_assert_null (graft_optimizer_get_state (opt, 1, "momentum_buffer"));
}

/* Hand-computed first Adam step: m = 0.1 g, v = 0.001 g^2, and the bias
 * corrections make the update lr * g / (|g| + eps'), about lr * sign(g). */
static void
test_adam_first_step (void)
{
  float p[2] = { 1.0f, -2.0f }, g[2] = { 0.25f, -4.0f };
  GraftParamRef ref = { "w", p, g, 2, 2.0f, TRUE };
  GraftOptimizerConfig c =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_ADAMW);
  g_autoptr (GraftOptimizer) opt = NULL;

  c.weight_decay = 0.5f;
  opt = graft_optimizer_new (&c, &ref, 1);
  graft_optimizer_step (opt, 0.01f);
  /* lr 0.02; decay: p *= 1 - 0.02 * 0.5 = 0.99; then -= 0.02 * sign(g). */
  g_assert_cmpfloat_with_epsilon (p[0], 0.99 - 0.02, 1e-6);
  g_assert_cmpfloat_with_epsilon (p[1], -1.98 + 0.02, 1e-6);
  g_assert_cmpfloat_with_epsilon (
      graft_optimizer_get_state (opt, 0, "exp_avg")[1], -0.4, 1e-6);
  g_assert_cmpfloat_with_epsilon (
      graft_optimizer_get_state (opt, 0, "exp_avg_sq")[1], 0.016, 1e-6);
}

/* ---- clipping and the non-finite check ---- */

static void
test_clip (void)
{
  float a[2] = { 3, 4 }, b[1] = { 12 };
  float p[3] = { 0 };
  GraftParamRef refs[] = {
    { "a", p, a, 2, 1, TRUE },
    { "b", p, b, 1, 1, TRUE },
    { "c", p, NULL, 1, 1, TRUE },
  };
  float norm, coef;

  /* Below the limit: nothing changes, bit for bit. */
  norm = graft_clip_grad_norm (refs, 3, 100.0f);
  g_assert_cmpfloat (norm, ==, 13.0f);
  g_assert_cmpfloat (a[0], ==, 3.0f);
  g_assert_cmpfloat (b[0], ==, 12.0f);

  /* Above: scaled by max_norm / (norm + 1e-6). */
  norm = graft_clip_grad_norm (refs, 3, 6.5f);
  g_assert_cmpfloat (norm, ==, 13.0f);
  coef = 6.5f / (13.0f + 1e-6f);
  g_assert_cmpfloat (a[0], ==, 3.0f * coef);
  g_assert_cmpfloat (a[1], ==, 4.0f * coef);
  g_assert_cmpfloat (b[0], ==, 12.0f * coef);
  g_assert_cmpfloat_with_epsilon (graft_clip_grad_norm (refs, 3, 1e9f), 6.5,
                                  1e-5);

  /* Non-finite: reported, gradients left alone. */
  a[0] = INFINITY;
  b[0] = 1.0f;
  norm = graft_clip_grad_norm (refs, 3, 1.0f);
  g_assert_false (isfinite (norm));
  g_assert_cmpfloat (b[0], ==, 1.0f);

  g_assert_cmpfloat (graft_clip_grad_norm (refs, 0, 1.0f), ==, 0.0f);
}

/* The blocked, threaded sum agrees with a plain double sum, and does not
 * depend on the thread count. */
static void
test_clip_large (void)
{
  enum
  {
    N = 1000003
  };
  g_autoptr (GRand) rng = g_rand_new_with_seed (11);
  g_autofree float *g = g_new (float, N);
  GraftParamRef ref = { "g", g, g, N, 1, TRUE };
  int saved = omp_get_max_threads ();
  double plain = 0.0;
  float norm1, norm2;

  fill_random (g, N, rng, -1.0, 1.0);
  for (size_t i = 0; i < N; i++)
    plain += (double) g[i] * g[i];
  plain = sqrt (plain);
  omp_set_num_threads (1);
  norm1 = graft_clip_grad_norm (&ref, 1, 1e30f);
  omp_set_num_threads (2);
  norm2 = graft_clip_grad_norm (&ref, 1, 1e30f);
  omp_set_num_threads (saved);
  g_assert_cmpfloat (norm1, ==, norm2);
  g_assert_cmpfloat_with_epsilon (norm1 / plain, 1.0, 1e-6);

  /* Clipping to half: the new norm is half, every element scaled alike. */
  {
    float before = g[12345], coef = (float) (norm1 / 2) / (norm1 + 1e-6f);
    graft_clip_grad_norm (&ref, 1, norm1 / 2);
    g_assert_cmpfloat (g[12345], ==, before * coef);
    g_assert_cmpfloat_with_epsilon (
        graft_clip_grad_norm (&ref, 1, 1e30f) / (norm1 / 2), 1.0, 1e-5);
  }
}

static void
test_finite (void)
{
  enum
  {
    N = 1037
  };
  float g[N], h[5] = { 1, 2, 3, 4, 5 }, p[N];
  GraftParamRef refs[] = {
    { "h", p, h, 5, 1, TRUE },
    { "g", p, g, N, 1, TRUE },
    { "frozen", p, NULL, N, 1, TRUE },
  };
  const float bad[] = { NAN, INFINITY, -INFINITY };
  const size_t where[] = { 0, 1, 511, 1031, N - 1 };

  for (size_t i = 0; i < N; i++)
    g[i] = (float) i * ((i & 1) ? -1e30f : 1e-30f);
  g_assert_true (graft_grads_finite (refs, 3));
  g_assert_true (graft_grads_finite (refs, 0));
  for (size_t b = 0; b < G_N_ELEMENTS (bad); b++)
    for (size_t w = 0; w < G_N_ELEMENTS (where); w++)
      {
        float keep = g[where[w]];
        g[where[w]] = bad[b];
        g_assert_false (graft_grads_finite (refs, 3));
        g_assert_true (graft_grads_finite (refs, 1)); /* h alone is fine */
        g[where[w]] = keep;
      }
  g_assert_true (graft_grads_finite (refs, 3));
}

/* ---- schedules ---- */

static void
assert_lr (const GraftScheduleConfig *c, int step, double want)
{
  float got = graft_schedule_lr (c, step);
  if (fabs (got - want) > 1e-7 * fabs (want) + 1e-12)
    g_error ("%s schedule, step %d: %.9g, want %.9g",
             graft_schedule_kind_name (c->kind), step, got, want);
}

static void
test_schedule_constant_warmup (void)
{
  GraftScheduleConfig c =
      graft_schedule_config_default (GRAFT_SCHEDULE_CONSTANT, 0.1f);

  g_assert_true (graft_schedule_config_validate (&c, NULL));
  g_assert_cmpfloat_with_epsilon (c.warmup_start_factor, 1.0 / 3.0, 1e-7);
  assert_lr (&c, 0, 0.1);
  assert_lr (&c, 1000, 0.1);
  /* Linear from 0.25 * 0.1 to 0.1 over 4 steps. */
  c.warmup_steps = 4;
  c.warmup_start_factor = 0.25f;
  assert_lr (&c, -3, 0.025);
  assert_lr (&c, 0, 0.025);
  assert_lr (&c, 1, 0.04375);
  assert_lr (&c, 2, 0.0625);
  assert_lr (&c, 3, 0.08125);
  assert_lr (&c, 4, 0.1);
  assert_lr (&c, 50, 0.1);
}

static void
test_schedule_step (void)
{
  GraftScheduleConfig c =
      graft_schedule_config_default (GRAFT_SCHEDULE_STEP, 0.1f);

  c.warmup_steps = 2;
  c.warmup_start_factor = 0.5f;
  c.step_size = 3;
  c.gamma = 0.1f;
  g_assert_true (graft_schedule_config_validate (&c, NULL));
  assert_lr (&c, 0, 0.05);
  assert_lr (&c, 1, 0.075);
  /* Decays count from the end of the warm-up. */
  assert_lr (&c, 2, 0.1);
  assert_lr (&c, 4, 0.1);
  assert_lr (&c, 5, 0.01);
  assert_lr (&c, 7, 0.01);
  assert_lr (&c, 8, 0.001);
  assert_lr (&c, 11, 0.0001);
}

static void
test_schedule_cosine (void)
{
  GraftScheduleConfig c =
      graft_schedule_config_default (GRAFT_SCHEDULE_COSINE, 0.1f);

  c.warmup_steps = 2;
  c.warmup_start_factor = 0.5f;
  c.total_steps = 10;
  c.min_lr = 0.001f;
  g_assert_true (graft_schedule_config_validate (&c, NULL));
  assert_lr (&c, 0, 0.05);
  assert_lr (&c, 1, 0.075);
  /* T = 8 steps after the warm-up: min + (base - min) (1 + cos(pi s/8))/2 */
  assert_lr (&c, 2, 0.1);
  assert_lr (&c, 4, 0.001 + 0.099 * (1 + 0.70710678118654752) / 2);
  assert_lr (&c, 6, 0.0505);
  assert_lr (&c, 8, 0.001 + 0.099 * (1 - 0.70710678118654752) / 2);
  assert_lr (&c, 9, 0.001 + 0.099 * (1 - 0.92387953251128674) / 2);
  assert_lr (&c, 10, 0.001);
  assert_lr (&c, 1000, 0.001);

  /* No warm-up: the first step is at base_lr. */
  c.warmup_steps = 0;
  c.min_lr = 0.0f;
  assert_lr (&c, 0, 0.1);
  assert_lr (&c, 5, 0.05);
}

static void
test_schedule_invalid (void)
{
  GraftScheduleConfig c =
      graft_schedule_config_default (GRAFT_SCHEDULE_STEP, 0.1f);
  GError *error = NULL;

  /* step_size left at 0 */
  g_assert_false (graft_schedule_config_validate (&c, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_clear_error (&error);

  c = graft_schedule_config_default (GRAFT_SCHEDULE_COSINE, 0.1f);
  c.total_steps = 5;
  c.warmup_steps = 5;
  g_assert_false (graft_schedule_config_validate (&c, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_clear_error (&error);

  c = graft_schedule_config_default (GRAFT_SCHEDULE_CONSTANT, -1.0f);
  g_assert_false (graft_schedule_config_validate (&c, &error));
  g_clear_error (&error);

  c = graft_schedule_config_default (GRAFT_SCHEDULE_CONSTANT, 0.1f);
  c.warmup_steps = 3;
  c.warmup_start_factor = 0.0f;
  g_assert_false (graft_schedule_config_validate (&c, &error));
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (size_t i = 0; i < G_N_ELEMENTS (ref_variants); i++)
    {
      g_autofree char *path =
          g_strdup_printf ("/optimizer/pytorch/%s", ref_variants[i].name);
      g_test_add_data_func (path, &ref_variants[i], test_reference);
    }
  g_test_add_func ("/optimizer/pytorch/variants-differ",
                   test_reference_variants_differ);
  g_test_add_func ("/optimizer/large-threaded", test_large_threaded);
  g_test_add_func ("/optimizer/config", test_config);
  g_test_add_func ("/optimizer/state-access", test_state_access);
  g_test_add_func ("/optimizer/adam-first-step", test_adam_first_step);
  g_test_add_func ("/optimizer/clip", test_clip);
  g_test_add_func ("/optimizer/clip-large", test_clip_large);
  g_test_add_func ("/optimizer/finite", test_finite);
  g_test_add_func ("/schedule/constant-warmup", test_schedule_constant_warmup);
  g_test_add_func ("/schedule/step", test_schedule_step);
  g_test_add_func ("/schedule/cosine", test_schedule_cosine);
  g_test_add_func ("/schedule/invalid", test_schedule_invalid);
  return g_test_run ();
}
