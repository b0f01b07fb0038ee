/* test-grad-spatial.c: backward passes of Conv, BatchNormalization, the
 * pools and Pad.
 *
 * Every backward is held to finite differences of its forward (loss =
 * sum (out * R) for a random R, so dout = R), for inputs and weights, with
 * the gradients accumulating onto non-zero starting values. The fast
 * backward kernels are held to the plain reference ones over many random
 * geometries and thread counts, and the ops to the kernels.
 */
#include "kernels/batchnorm.h"
#include "kernels/conv.h"
#include "kernels/pad.h"
#include "kernels/pool.h"
#include "ops/ops.h"
#include "test-conv-cases.h"
#include "test-node.h"

#include <float.h>
#include <math.h>
#include <omp.h>
#include <string.h>

/* ---- helpers ---- */

static float *
random_floats (GRand *rng, size_t n)
{
  float *v = g_new (float, n ? n : 1);
  for (size_t i = 0; i < n; i++)
    v[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  return v;
}

static float *
copy_floats (const float *v, size_t n)
{
  return g_memdup2 (v, sizeof (float) * (n ? n : 1));
}

static double
dot (const float *a, const float *b, size_t n)
{
  double s = 0.0;
  for (size_t i = 0; i < n; i++)
    s += (double) a[i] * b[i];
  return s;
}

/* |got - want| <= rel * max(1, |want|) elementwise; NaN never passes. */
static gboolean
check_close (
    const float *got, const float *want, size_t n, double rel, const char *what)
{
  for (size_t i = 0; i < n; i++)
    {
      double tol = rel * MAX (1.0, fabs (want[i]));
      if (!(fabs ((double) got[i] - want[i]) <= tol))
        {
          g_test_fail_printf ("%s: element %zu is %.7g, expected %.7g", what, i,
                              got[i], want[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* The loss of a forward pass: sum (out * R). */
typedef double (*LossFn) (void *ctx);

/* Central differences of loss() in param[i] against analytic[i], for up to
 * `samples` indices (all when n is small). analytic was accumulated onto
 * `start`, which is subtracted first. Linear ops are exact up to rounding;
 * tolerance is relative to the largest gradient. */
static void
check_fd (const char *what,
          LossFn loss,
          void *ctx,
          float *param,
          size_t n,
          const float *analytic,
          const float *start,
          double h,
          double rel,
          GRand *rng)
{
  double scale = 0.0;
  for (size_t i = 0; i < n; i++)
    scale = MAX (scale, fabs ((double) analytic[i] - start[i]));
  int samples = n <= 48 ? (int) n : 48;
  for (int s = 0; s < samples; s++)
    {
      size_t i = n <= 48 ? (size_t) s : (size_t) g_rand_int_range (rng, 0, n);
      float v = param[i];
      param[i] = (float) (v + h);
      double lp = loss (ctx);
      param[i] = (float) (v - h);
      double lm = loss (ctx);
      param[i] = v;
      double numeric = (lp - lm) / (2 * h);
      double got = (double) analytic[i] - start[i];
      if (!(fabs (numeric - got) <= rel * MAX (scale, 1e-3) + 1e-4))
        {
          g_test_fail_printf ("%s: d[%zu] is %.6g, finite differences give "
                              "%.6g (largest gradient %.3g)",
                              what, i, got, numeric, scale);
          return;
        }
    }
}

/* ---- conv ---- */

typedef struct
{
  GraftConvGeometry g;
  float *x, *w, *b, *r;
  size_t nx, nw, ny;
  float *y;
} ConvCase;

static char *
conv_geometry_string (const GraftConvGeometry *g)
{
  return g_strdup_printf (
      "N%d C%d %dx%d OC%d k%dx%d group %d stride %d,%d dil %d,%d "
      "pads %d,%d,%d,%d -> %dx%d",
      g->N, g->C, g->H, g->W, g->OC, g->KH, g->KW, g->group, g->stride_h,
      g->stride_w, g->dilation_h, g->dilation_w, g->pad_top, g->pad_left,
      g->pad_bottom, g->pad_right, g->OH, g->OW);
}

static double
conv_loss (void *ctx)
{
  ConvCase *c = ctx;
  graft_conv2d_forward_reference (c->y, c->x, c->w, c->b, &c->g);
  return dot (c->y, c->r, c->ny);
}

/* Fast backward accumulating onto random starts vs finite differences of
 * the reference forward, for dX, dW and dB. */
static void
check_conv_fd (GRand *rng, const GraftConvGeometry *geometry)
{
  ConvCase c = { .g = *geometry };
  GraftConvGeometry *g = &c.g;
  g_autofree char *what = conv_geometry_string (g);
  c.nx = (size_t) g->N * g->C * g->H * g->W;
  c.nw = (size_t) g->OC * (g->C / g->group) * g->KH * g->KW;
  c.ny = (size_t) g->N * g->OC * g->OH * g->OW;
  c.x = random_floats (rng, c.nx);
  c.w = random_floats (rng, c.nw);
  c.b = random_floats (rng, g->OC);
  c.r = random_floats (rng, c.ny);
  c.y = g_new (float, c.ny);
  float *dx0 = random_floats (rng, c.nx), *dw0 = random_floats (rng, c.nw);
  float *db0 = random_floats (rng, g->OC);
  float *dx = copy_floats (dx0, c.nx), *dw = copy_floats (dw0, c.nw);
  float *db = copy_floats (db0, g->OC);
  size_t n_scratch = graft_conv2d_backward_scratch_floats (g);
  float *scratch = g_new (float, n_scratch + 1);

  graft_conv2d_backward (dx, dw, db, c.r, c.x, c.w, g, scratch);
  g_autofree char *wx = g_strdup_printf ("conv dX %s", what);
  g_autofree char *ww = g_strdup_printf ("conv dW %s", what);
  g_autofree char *wb = g_strdup_printf ("conv dB %s", what);
  check_fd (wx, conv_loss, &c, c.x, c.nx, dx, dx0, 1e-2, 2e-3, rng);
  check_fd (ww, conv_loss, &c, c.w, c.nw, dw, dw0, 1e-2, 2e-3, rng);
  check_fd (wb, conv_loss, &c, c.b, g->OC, db, db0, 1e-2, 2e-3, rng);

  g_free (c.x);
  g_free (c.w);
  g_free (c.b);
  g_free (c.r);
  g_free (c.y);
  g_free (dx0);
  g_free (dw0);
  g_free (db0);
  g_free (dx);
  g_free (dw);
  g_free (db);
  g_free (scratch);
}

static GraftConvGeometry
conv_make (int N,
           int C,
           int H,
           int W,
           int OC,
           int KH,
           int KW,
           int group,
           int sh,
           int sw,
           int dh,
           int dw,
           int pt,
           int pl,
           int pb,
           int pr)
{
  GraftConvGeometry g = {
    .N = N,
    .C = C,
    .H = H,
    .W = W,
    .OC = OC,
    .KH = KH,
    .KW = KW,
    .group = group,
    .stride_h = sh,
    .stride_w = sw,
    .dilation_h = dh,
    .dilation_w = dw,
    .pad_top = pt,
    .pad_left = pl,
    .pad_bottom = pb,
    .pad_right = pr,
  };
  g_assert_true (conv_geometry_finish (&g));
  return g;
}

static void
test_conv_finite_differences (void)
{
  GRand *rng = g_rand_new_with_seed (11);
  const GraftConvGeometry cases[] = {
    /* im2col + sgemm, plain 3x3 */
    conv_make (2, 3, 5, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    /* grouped, stride 2, dilation 2, asymmetric pads */
    conv_make (3, 4, 9, 8, 6, 3, 3, 2, 2, 2, 2, 2, 1, 0, 2, 1),
    /* non-square kernel and strides */
    conv_make (2, 3, 7, 6, 2, 5, 3, 1, 2, 1, 1, 1, 2, 1, 0, 1),
    /* pointwise, and 1x1 stride 2 */
    conv_make (3, 5, 4, 5, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0),
    conv_make (2, 4, 5, 5, 3, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0),
    /* depthwise 3x3 fast paths: stride 1 padded, unpadded, stride 2 */
    conv_make (2, 3, 6, 7, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1),
    conv_make (2, 3, 6, 7, 3, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0),
    conv_make (3, 4, 7, 8, 4, 3, 3, 4, 2, 2, 1, 1, 1, 1, 1, 1),
    /* depthwise 3x3 stride 2 with asymmetric pads, multiplier 2 */
    conv_make (2, 3, 8, 7, 6, 3, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0),
    /* depthwise generic: dilation 2, stride 2, asymmetric pads */
    conv_make (2, 3, 9, 9, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 0, 2),
    /* depthwise 5x5 stride 1 with multiplier 3 */
    conv_make (2, 2, 6, 6, 6, 5, 5, 2, 1, 1, 1, 1, 2, 2, 2, 2),
  };
  int saved = omp_get_max_threads ();

  for (int threads = 1; threads <= 2; threads++)
    {
      omp_set_num_threads (threads);
      for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
        check_conv_fd (rng, &cases[i]);
    }
  omp_set_num_threads (saved);
  g_rand_free (rng);
}

/* Fast vs reference backward (both accumulating onto the same start). */
static void
check_conv_vs_reference (GRand *rng, const GraftConvGeometry *g, int wanted)
{
  size_t nx = (size_t) g->N * g->C * g->H * g->W;
  size_t nw = (size_t) g->OC * (g->C / g->group) * g->KH * g->KW;
  size_t ny = (size_t) g->N * g->OC * g->OH * g->OW;
  float *x = random_floats (rng, nx), *w = random_floats (rng, nw);
  float *dy = random_floats (rng, ny);
  float *dx = random_floats (rng, nx), *dw = random_floats (rng, nw);
  float *db = random_floats (rng, g->OC);
  float *rdx = copy_floats (dx, nx), *rdw = copy_floats (dw, nw);
  float *rdb = copy_floats (db, g->OC);
  size_t n_scratch = graft_conv2d_backward_scratch_floats (g);
  float *scratch = g_new (float, n_scratch + 1);
  g_autofree char *what = conv_geometry_string (g);
  gboolean want_x = wanted & 1, want_w = wanted & 2, want_b = wanted & 4;

  graft_conv2d_backward_reference (want_x ? rdx : NULL, want_w ? rdw : NULL,
                                   want_b ? rdb : NULL, dy, x, w, g);
  graft_conv2d_backward (want_x ? dx : NULL, want_w ? dw : NULL,
                         want_b ? db : NULL, dy, x, w, g, scratch);
  g_autofree char *wx = g_strdup_printf ("dX %s", what);
  g_autofree char *ww = g_strdup_printf ("dW %s", what);
  g_autofree char *wb = g_strdup_printf ("dB %s", what);
  if (check_close (dx, rdx, nx, 1e-4, wx) &&
      check_close (dw, rdw, nw, 1e-4, ww))
    check_close (db, rdb, g->OC, 1e-4, wb);

  g_free (x);
  g_free (w);
  g_free (dy);
  g_free (dx);
  g_free (dw);
  g_free (db);
  g_free (rdx);
  g_free (rdw);
  g_free (rdb);
  g_free (scratch);
}

static void
test_conv_random (void)
{
  GRand *rng = g_rand_new_with_seed (12);
  int saved = omp_get_max_threads ();
  int done = 0;

  while (done < 400)
    {
      GraftConvGeometry g = { 0 };
      int kind = g_rand_int_range (rng, 0, 4);
      g.N = g_rand_int_range (rng, 1, 6);
      g.H = g_rand_int_range (rng, 1, 12);
      g.W = g_rand_int_range (rng, 1, 12);
      g.KH = g_rand_int_range (rng, 1, 5);
      g.KW = g_rand_int_range (rng, 1, 5);
      g.stride_h = g_rand_int_range (rng, 1, 4);
      g.stride_w = g_rand_int_range (rng, 1, 4);
      g.dilation_h = g_rand_int_range (rng, 1, 3);
      g.dilation_w = g_rand_int_range (rng, 1, 3);
      g.pad_top = g_rand_int_range (rng, 0, 3);
      g.pad_left = g_rand_int_range (rng, 0, 3);
      g.pad_bottom = g_rand_int_range (rng, 0, 3);
      g.pad_right = g_rand_int_range (rng, 0, 3);
      int cg = g_rand_int_range (rng, 1, 5), ocg = g_rand_int_range (rng, 1, 5);
      g.group = g_rand_int_range (rng, 1, 4);
      switch (kind)
        {
        case 0: /* depthwise with a multiplier; often 3x3 stride 1 or 2 */
          g.group = g.C = g_rand_int_range (rng, 2, 7);
          g.OC = g.C * g_rand_int_range (rng, 1, 3);
          if (g_rand_boolean (rng))
            {
              g.KH = g.KW = 3;
              g.dilation_h = g.dilation_w = 1;
              g.stride_w = g.stride_h = g_rand_int_range (rng, 1, 3);
            }
          break;
        case 1: /* pointwise */
          g.KH = g.KW = 1;
          g.stride_h = g.stride_w = 1;
          g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 0;
          g.C = cg * g.group;
          g.OC = ocg * g.group;
          break;
        default:
          g.C = cg * g.group;
          g.OC = ocg * g.group;
          break;
        }
      if (!conv_geometry_finish (&g))
        continue;
      omp_set_num_threads (g_rand_int_range (rng, 1, 4));
      check_conv_vs_reference (rng, &g, g_rand_int_range (rng, 1, 8));
      done++;
    }
  /* wide planes (at least 128 positions), where images are not packed, and
   * a batch of 16 small ones, where they are */
  omp_set_num_threads (2);
  GraftConvGeometry wide =
      conv_make (3, 4, 20, 18, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  GraftConvGeometry packed =
      conv_make (16, 8, 7, 7, 6, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1);
  GraftConvGeometry dw112 =
      conv_make (2, 4, 30, 29, 4, 3, 3, 4, 2, 2, 1, 1, 1, 1, 1, 1);
  GraftConvGeometry wide_pointwise =
      conv_make (3, 4, 12, 12, 5, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
  check_conv_vs_reference (rng, &wide, 7);
  check_conv_vs_reference (rng, &wide_pointwise, 7);
  check_conv_vs_reference (rng, &packed, 7);
  check_conv_vs_reference (rng, &dw112, 7);
  /* images large enough to be cut into bands of output rows (an im2col
   * band of at most 256Ki floats): two equal bands; grouped, stride 2 with
   * a short last band; a banded pointwise sgemm straight on the input */
  GraftConvGeometry banded =
      conv_make (2, 64, 30, 30, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1);
  GraftConvGeometry banded_s2 =
      conv_make (2, 80, 61, 61, 6, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1);
  GraftConvGeometry banded_pointwise =
      conv_make (2, 64, 70, 70, 4, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0);
  check_conv_vs_reference (rng, &banded, 7);
  check_conv_vs_reference (rng, &banded_s2, 7);
  check_conv_vs_reference (rng, &banded_pointwise, 7);
  omp_set_num_threads (saved);
  g_rand_free (rng);
}

/* The same gradients from every run, and the forward's batch-parallel
 * path agrees with the reference. */
static void
test_conv_deterministic (void)
{
  GRand *rng = g_rand_new_with_seed (13);
  GraftConvGeometry cases[] = {
    conv_make (9, 6, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1),
    conv_make (5, 6, 10, 10, 6, 3, 3, 6, 2, 2, 1, 1, 1, 1, 1, 1),
  };
  int saved = omp_get_max_threads ();
  omp_set_num_threads (2);

  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    {
      GraftConvGeometry *g = &cases[k];
      size_t nx = (size_t) g->N * g->C * g->H * g->W;
      size_t nw = (size_t) g->OC * (g->C / g->group) * g->KH * g->KW;
      size_t ny = (size_t) g->N * g->OC * g->OH * g->OW;
      float *x = random_floats (rng, nx), *w = random_floats (rng, nw);
      float *dy = random_floats (rng, ny);
      float *first[2] = { g_new0 (float, nx), g_new0 (float, nw) };
      size_t n_scratch = graft_conv2d_backward_scratch_floats (g);
      float *scratch = g_new (float, n_scratch + 1);
      graft_conv2d_backward (first[0], first[1], NULL, dy, x, w, g, scratch);
      for (int run = 0; run < 5; run++)
        {
          float *dx = g_new0 (float, nx), *dw = g_new0 (float, nw);
          graft_conv2d_backward (dx, dw, NULL, dy, x, w, g, scratch);
          g_assert_cmpmem (dx, nx * sizeof (float), first[0],
                           nx * sizeof (float));
          g_assert_cmpmem (dw, nw * sizeof (float), first[1],
                           nw * sizeof (float));
          g_free (dx);
          g_free (dw);
        }

      float *y = g_new (float, ny), *ref = g_new (float, ny);
      float *b = random_floats (rng, g->OC);
      float *fs = g_new (float, graft_conv2d_forward_scratch_floats (g) + 1);
      graft_conv2d_forward (y, x, w, b, g, fs);
      graft_conv2d_forward_reference (ref, x, w, b, g);
      check_close (y, ref, ny, 1e-4, "batch-parallel forward");

      g_free (x);
      g_free (w);
      g_free (dy);
      g_free (first[0]);
      g_free (first[1]);
      g_free (scratch);
      g_free (y);
      g_free (ref);
      g_free (b);
      g_free (fs);
    }
  omp_set_num_threads (saved);
  g_rand_free (rng);
}

/* ---- batch normalization ---- */

typedef struct
{
  float *x, *scale, *bias, *mean, *var, *r, *y;
  int N, C;
  size_t S;
  gboolean training;
} BnCase;

static double
bn_loss (void *ctx)
{
  BnCase *c = ctx;
  size_t n = (size_t) c->N * c->C * c->S;
  if (c->training)
    {
      float *m = g_new (float, c->C), *v = g_new (float, c->C);
      graft_batchnorm_forward_training (c->y, m, v, c->x, c->scale, c->bias,
                                        1e-3f, c->N, c->C, c->S);
      g_free (m);
      g_free (v);
    }
  else
    graft_batchnorm_forward_inference (c->y, c->x, c->scale, c->bias, c->mean,
                                       c->var, 1e-3f, c->N, c->C, c->S);
  return dot (c->y, c->r, n);
}

static void
test_batchnorm_finite_differences (void)
{
  GRand *rng = g_rand_new_with_seed (21);

  for (int training = 0; training <= 1; training++)
    {
      BnCase c = { .N = 3, .C = 2, .S = 5, .training = training };
      size_t n = (size_t) c.N * c.C * c.S;
      c.x = random_floats (rng, n);
      for (size_t i = 0; i < n; i++)
        c.x[i] = c.x[i] * 2 + 0.5f;
      c.scale = random_floats (rng, c.C);
      c.bias = random_floats (rng, c.C);
      c.mean = random_floats (rng, c.C);
      c.var = random_floats (rng, c.C);
      for (int k = 0; k < c.C; k++)
        c.var[k] = 0.5f + fabsf (c.var[k]);
      c.r = random_floats (rng, n);
      c.y = g_new (float, n);

      float *start[5], *grad[5];
      size_t sizes[5] = { n, c.C, c.C, c.C, c.C };
      for (int i = 0; i < 5; i++)
        {
          start[i] = random_floats (rng, sizes[i]);
          grad[i] = copy_floats (start[i], sizes[i]);
        }
      if (training)
        {
          float *m = g_new (float, c.C), *v = g_new (float, c.C);
          graft_batchnorm_batch_stats (m, v, c.x, c.N, c.C, c.S);
          graft_batchnorm_backward_training (grad[0], grad[1], grad[2], c.r,
                                             c.x, c.scale, m, v, 1e-3f, c.N,
                                             c.C, c.S);
          g_free (m);
          g_free (v);
        }
      else
        graft_batchnorm_backward_inference (grad[0], grad[1], grad[2], grad[3],
                                            grad[4], c.r, c.x, c.scale, c.mean,
                                            c.var, 1e-3f, c.N, c.C, c.S);
      float *params[5] = { c.x, c.scale, c.bias, c.mean, c.var };
      static const char *const names[5] = { "dX", "dscale", "dB", "dmean",
                                            "dvar" };
      for (int i = 0; i < (training ? 3 : 5); i++)
        {
          g_autofree char *what = g_strdup_printf (
              "batchnorm %s %s", training ? "training" : "inference", names[i]);
          check_fd (what, bn_loss, &c, params[i], sizes[i], grad[i], start[i],
                    1e-3, 5e-3, rng);
        }
      for (int i = 0; i < 5; i++)
        {
          g_free (start[i]);
          g_free (grad[i]);
          g_free (params[i]);
        }
      g_free (c.r);
      g_free (c.y);
    }
  g_rand_free (rng);
}

/* The one-pass batch statistics against two passes in double, on channels
 * whose values sit far from zero (the shift keeps the variance), and the
 * fused backward (statistics computed inside) against batch_stats + the
 * reference backward. */
static void
test_batchnorm_one_pass_stats (void)
{
  GRand *rng = g_rand_new_with_seed (23);

  for (int iter = 0; iter < 30; iter++)
    {
      int N = g_rand_int_range (rng, 1, 6), C = g_rand_int_range (rng, 1, 5);
      size_t S = g_rand_int_range (rng, 1, 300);
      size_t n = (size_t) N * C * S;
      float *x = random_floats (rng, n), *dy = random_floats (rng, n);
      float *scale = random_floats (rng, C);
      float mean[8], var[8];
      /* image n of channel c around offset + n: the batch mean differs from
       * image 0's, as the shift assumes nothing about that */
      float offset = iter % 3 == 0 ? 0.0f : iter % 3 == 1 ? 1000.0f : -3e4f;
      for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++)
          for (size_t i = 0; i < S; i++)
            x[((size_t) b * C + c) * S + i] =
                offset + b + (c + 1) * x[((size_t) b * C + c) * S + i];
      graft_batchnorm_batch_stats (mean, var, x, N, C, S);
      for (int c = 0; c < C; c++)
        {
          double sum = 0.0, sq = 0.0, count = (double) N * S;
          for (int b = 0; b < N; b++)
            for (size_t i = 0; i < S; i++)
              sum += x[((size_t) b * C + c) * S + i];
          double m = sum / count;
          for (int b = 0; b < N; b++)
            for (size_t i = 0; i < S; i++)
              {
                double d = x[((size_t) b * C + c) * S + i] - m;
                sq += d * d;
              }
          double v = sq / count;
          g_autofree char *what = g_strdup_printf (
              "batch stats, offset %g, N%d C%d S%zu, channel %d", offset, N, C,
              S, c);
          float want[2] = { (float) m, (float) v },
                got[2] = { mean[c], var[c] };
          /* the data are floats: their rounding near 3e4 is 2e-3 */
          if (!check_close (got, want, 2, fabs (offset) > 1e4 ? 1e-4 : 1e-5,
                            what))
            break;
        }

      float *got[3], *ref[3];
      for (int i = 0; i < 3; i++)
        {
          size_t len = i == 0 ? n : (size_t) C;
          got[i] = random_floats (rng, len);
          ref[i] = copy_floats (got[i], len);
        }
      graft_batchnorm_backward_training_batch (got[0], got[1], got[2], dy, x,
                                               scale, 1e-5f, N, C, S);
      graft_batchnorm_backward_training_reference (
          ref[0], ref[1], ref[2], dy, x, scale, mean, var, 1e-5f, N, C, S);
      for (int i = 0; i < 3; i++)
        {
          g_autofree char *what = g_strdup_printf (
              "fused batchnorm backward, offset %g, gradient %d, N%d C%d S%zu",
              offset, i, N, C, S);
          /* far from zero, x - mean loses digits in float: the reference
           * sees the same floats, so only the sums' rounding differs */
          double tol = N * S == 1 ? 1e-2 : offset != 0.0f ? 2e-3 : 1e-4;
          check_close (got[i], ref[i], i == 0 ? n : (size_t) C, tol, what);
          g_free (got[i]);
          g_free (ref[i]);
        }
      g_free (x);
      g_free (dy);
      g_free (scale);
    }
  g_rand_free (rng);
}

static void
test_batchnorm_vs_reference (void)
{
  GRand *rng = g_rand_new_with_seed (22);

  for (int iter = 0; iter < 40; iter++)
    {
      int N = g_rand_int_range (rng, 1, 5), C = g_rand_int_range (rng, 1, 6);
      size_t S = g_rand_int_range (rng, 1, 70);
      size_t n = (size_t) N * C * S;
      float *x = random_floats (rng, n), *dy = random_floats (rng, n);
      float *scale = random_floats (rng, C), *mean = random_floats (rng, C);
      float *var = random_floats (rng, C);
      for (int k = 0; k < C; k++)
        var[k] = fabsf (var[k]) + 0.1f;
      for (size_t i = 0; i < n; i++)
        x[i] = x[i] * 3 + 1;
      gboolean training = iter % 2;
      if (training)
        graft_batchnorm_batch_stats (mean, var, x, N, C, S);

      float *got[5], *want[5];
      size_t sizes[5] = { n, C, C, C, C };
      for (int i = 0; i < 5; i++)
        {
          got[i] = random_floats (rng, sizes[i]);
          want[i] = copy_floats (got[i], sizes[i]);
        }
      if (training)
        {
          graft_batchnorm_backward_training (got[0], got[1], got[2], dy, x,
                                             scale, mean, var, 1e-5f, N, C, S);
          graft_batchnorm_backward_training_reference (
              want[0], want[1], want[2], dy, x, scale, mean, var, 1e-5f, N, C,
              S);
        }
      else
        {
          graft_batchnorm_backward_inference (got[0], got[1], got[2], got[3],
                                              got[4], dy, x, scale, mean, var,
                                              1e-5f, N, C, S);
          graft_batchnorm_backward_inference_reference (
              want[0], want[1], want[2], want[3], want[4], dy, x, scale, mean,
              var, 1e-5f, N, C, S);
        }
      for (int i = 0; i < 5; i++)
        {
          g_autofree char *what = g_strdup_printf (
              "batchnorm %s backward, gradient %d, N%d C%d S%zu",
              training ? "training" : "inference", i, N, C, S);
          /* a channel of one value has a 1/sqrt(epsilon) slope: scale the
           * tolerance by it */
          check_close (got[i], want[i], sizes[i], N * S == 1 ? 1e-2 : 1e-4,
                       what);
          g_free (got[i]);
          g_free (want[i]);
        }
      g_free (x);
      g_free (dy);
      g_free (scale);
      g_free (mean);
      g_free (var);
    }
  g_rand_free (rng);
}

/* ---- op level ---- */

/* prepare + infer on the tensors' shapes; allocates zeroed outputs. */
static void
op_setup (GraftNode *node,
          const TestNode *t,
          int64_t opset,
          int n_in,
          GraftTensor *const *in,
          GraftTensor **out)
{
  GraftValueInfo vin[GRAFT_NODE_MAX_IO], vout[3] = { { 0 } };
  const GraftValueInfo *pin[GRAFT_NODE_MAX_IO];
  GraftValueInfo *pout[3] = { &vout[0], &vout[1], &vout[2] };
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < n_in; i++)
    {
      pin[i] = in[i] ? &vin[i] : NULL;
      if (in[i])
        vin[i] = (GraftValueInfo){ .dtype = in[i]->dtype,
                                   .shape = in[i]->shape,
                                   .constant = in[i] };
    }
  memset (node, 0, sizeof *node);
  node->name = (char *) "n";
  node->op_type = t->proto.op_type;
  node->def = graft_op_lookup (t->proto.op_type);
  g_assert_nonnull (node->def);
  node->n_inputs = n_in;
  node->n_outputs = (int) t->proto.n_outputs;
  g_assert_true (node->def->prepare (node, &t->proto, opset, &error));
  g_assert_true (node->def->infer (node, pin, pout, &error));
  g_assert_no_error (error);
  for (int i = 0; i < node->n_outputs; i++)
    out[i] = graft_tensor_new_float (&vout[i].shape);
}

static GraftTensor *
random_tensor (GRand *rng, int ndim, const int64_t *dims)
{
  GraftShape s = graft_shape_make (ndim, dims);
  GraftTensor *t = graft_tensor_new_float (&s);
  float *v = t->data;
  for (int64_t i = 0; i < graft_tensor_numel (t); i++)
    v[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  return t;
}

/* forward_train: PyTorch's BatchNorm2d train step; backward in both modes
 * through the op matches the kernels. */
static void
test_op_batchnorm_train (void)
{
  GRand *rng = g_rand_new_with_seed (23);
  const int64_t xd[4] = { 3, 2, 3, 4 }, cd[1] = { 2 };
  GraftTensor *in[5], *out[3] = { NULL };
  GraftNode node;
  TestNode t;
  GraftWorkspace ws = { 0 };
  int N = 3, C = 2;
  size_t S = 12, n = 72;

  in[0] = random_tensor (rng, 4, xd);
  for (int i = 1; i < 5; i++)
    in[i] = random_tensor (rng, 1, cd);
  for (int k = 0; k < C; k++)
    ((float *) in[4]->data)[k] = 0.5f + fabsf (((float *) in[4]->data)[k]);
  float *x = in[0]->data;
  float rm[2], rv[2];
  memcpy (rm, in[3]->data, sizeof rm);
  memcpy (rv, in[4]->data, sizeof rv);

  node_init (&t, "BatchNormalization", 1);
  node_float (&t, "momentum", 0.8f); /* PyTorch momentum 0.2 */
  node_float (&t, "epsilon", 1e-4f);
  op_setup (&node, &t, 15, 5, in, out);
  node.def->forward_train (&node, in, out, &ws);

  for (int c = 0; c < C; c++)
    {
      double sum = 0, sq = 0;
      for (int b = 0; b < N; b++)
        for (size_t s = 0; s < S; s++)
          sum += x[(b * C + c) * S + s];
      double mean = sum / (N * S);
      for (int b = 0; b < N; b++)
        for (size_t s = 0; s < S; s++)
          sq += pow (x[(b * C + c) * S + s] - mean, 2);
      double biased = sq / (N * S), unbiased = sq / (N * S - 1);
      /* torch: running = (1 - m) running + m batch, m = 0.2 */
      g_assert_cmpfloat_with_epsilon (((float *) in[3]->data)[c],
                                      0.8 * rm[c] + 0.2 * mean, 1e-6);
      g_assert_cmpfloat_with_epsilon (((float *) in[4]->data)[c],
                                      0.8 * rv[c] + 0.2 * unbiased, 1e-6);
      for (int b = 0; b < N; b++)
        for (size_t s = 0; s < S; s++)
          {
            size_t at = (b * C + c) * S + s;
            double want = (x[at] - mean) / sqrt (biased + 1e-4) *
                              ((float *) in[1]->data)[c] +
                          ((float *) in[2]->data)[c];
            g_assert_cmpfloat_with_epsilon (((float *) out[0]->data)[at], want,
                                            1e-5);
          }
    }

  /* backward through the op, onto non-zero gradients */
  GraftTensor *dout = random_tensor (rng, 4, xd);
  for (int train = 0; train <= 1; train++)
    {
      GraftTensor *din[5], *want[5];
      din[0] = random_tensor (rng, 4, xd);
      want[0] = graft_tensor_copy (din[0]);
      for (int i = 1; i < 5; i++)
        {
          din[i] = random_tensor (rng, 1, cd);
          want[i] = graft_tensor_copy (din[i]);
        }
      node.def->backward (&node, train, (const GraftTensor *const *) in,
                          (const GraftTensor *const *) out,
                          (const GraftTensor *const *) &dout, din, &ws);
      if (train)
        {
          float m[2], v[2];
          graft_batchnorm_batch_stats (m, v, x, N, C, S);
          graft_batchnorm_backward_training_reference (
              want[0]->data, want[1]->data, want[2]->data, dout->data, x,
              in[1]->data, m, v, 1e-4f, N, C, S);
        }
      else
        graft_batchnorm_backward_inference_reference (
            want[0]->data, want[1]->data, want[2]->data, want[3]->data,
            want[4]->data, dout->data, x, in[1]->data, in[3]->data, in[4]->data,
            1e-4f, N, C, S);
      size_t sizes[5] = { n, 2, 2, 2, 2 };
      for (int i = 0; i < 5; i++)
        {
          check_close (din[i]->data, want[i]->data, sizes[i], 1e-4,
                       train ? "op batchnorm backward (train)"
                             : "op batchnorm backward (inference)");
          graft_tensor_free (din[i]);
          graft_tensor_free (want[i]);
        }
    }

  graft_tensor_free (dout);
  for (int i = 0; i < 5; i++)
    graft_tensor_free (in[i]);
  graft_tensor_free (out[0]);
  graft_workspace_clear (&ws);
  g_free (node.params);
  g_rand_free (rng);
}

/* Conv through the op: all three gradients, bias optional. */
static void
test_op_conv_backward (void)
{
  GRand *rng = g_rand_new_with_seed (24);
  const int64_t xd[4] = { 2, 4, 7, 6 }, wd[4] = { 6, 2, 3, 3 }, bd[1] = { 6 };
  const int64_t strides[2] = { 2, 1 }, pads[4] = { 1, 0, 0, 2 };
  GraftTensor *in[3] = { random_tensor (rng, 4, xd), random_tensor (rng, 4, wd),
                         random_tensor (rng, 1, bd) };
  GraftTensor *out[1] = { NULL };
  GraftNode node;
  TestNode t;
  GraftWorkspace ws = { 0 };

  node_init (&t, "Conv", 1);
  node_int (&t, "group", 2);
  node_ints (&t, "strides", 2, strides);
  node_ints (&t, "pads", 4, pads);
  op_setup (&node, &t, 13, 3, in, out);
  GraftTensor *dout =
      random_tensor (rng, out[0]->shape.ndim, out[0]->shape.dims);
  GraftTensor *din[3], *want[3];
  for (int i = 0; i < 3; i++)
    {
      din[i] = random_tensor (rng, in[i]->shape.ndim, in[i]->shape.dims);
      want[i] = graft_tensor_copy (din[i]);
    }
  /* no input gradient wanted: din[0] stays as it was */
  GraftTensor *sparse[3] = { NULL, din[1], din[2] };
  node.def->backward (&node, TRUE, (const GraftTensor *const *) in,
                      (const GraftTensor *const *) out,
                      (const GraftTensor *const *) &dout, sparse, &ws);
  node.def->backward (&node, TRUE, (const GraftTensor *const *) in,
                      (const GraftTensor *const *) out,
                      (const GraftTensor *const *) &dout, din, &ws);

  GraftConvGeometry g =
      conv_make (2, 4, 7, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 0, 0, 2);
  g_assert_cmpint (out[0]->shape.dims[2], ==, g.OH);
  g_assert_cmpint (out[0]->shape.dims[3], ==, g.OW);
  graft_conv2d_backward_reference (want[0]->data, want[1]->data, want[2]->data,
                                   dout->data, in[0]->data, in[1]->data, &g);
  graft_conv2d_backward_reference (NULL, want[1]->data, want[2]->data,
                                   dout->data, in[0]->data, in[1]->data, &g);
  for (int i = 0; i < 3; i++)
    {
      check_close (din[i]->data, want[i]->data, graft_tensor_numel (din[i]),
                   1e-4, "op conv backward");
      graft_tensor_free (din[i]);
      graft_tensor_free (want[i]);
      graft_tensor_free (in[i]);
    }
  graft_tensor_free (dout);
  graft_tensor_free (out[0]);
  graft_workspace_clear (&ws);
  g_free (node.params);
  g_rand_free (rng);
}

/* ---- pools ---- */

typedef struct
{
  GraftPoolGeometry g;
  gboolean is_max;
  float *x, *r, *y;
  size_t nx, ny;
} PoolCase;

static double
pool_loss (void *ctx)
{
  PoolCase *c = ctx;
  if (c->is_max)
    graft_maxpool2d_forward_reference (c->y, c->x, &c->g);
  else
    graft_avgpool2d_forward_reference (c->y, c->x, &c->g);
  return dot (c->y, c->r, c->ny);
}

static gboolean
pool_make (GraftPoolGeometry *g,
           int N,
           int C,
           int H,
           int W,
           int KH,
           int KW,
           int stride,
           int dilation,
           int pt,
           int pl,
           int pb,
           int pr,
           gboolean ceil_mode,
           gboolean count_include_pad)
{
  *g = (GraftPoolGeometry){
    .N = N,
    .C = C,
    .H = H,
    .W = W,
    .KH = KH,
    .KW = KW,
    .stride_h = stride,
    .stride_w = stride,
    .dilation_h = dilation,
    .dilation_w = dilation,
    .pad_top = pt,
    .pad_left = pl,
    .pad_bottom = pb,
    .pad_right = pr,
    .count_include_pad = count_include_pad,
  };
  g->OH = (int) graft_window_output_size (H, KH, stride, dilation, pt, pb,
                                          ceil_mode);
  g->OW = (int) graft_window_output_size (W, KW, stride, dilation, pl, pr,
                                          ceil_mode);
  return g->OH > 0 && g->OW > 0;
}

/* Distinct values 0.01 apart: a step of 1e-3 never changes an argmax. */
static void
distinct_values (GRand *rng, float *x, size_t n)
{
  for (size_t i = 0; i < n; i++)
    x[i] = (float) i * 0.01f;
  for (size_t i = n; i > 1; i--)
    {
      size_t j = (size_t) g_rand_int_range (rng, 0, (gint32) i);
      float tmp = x[i - 1];
      x[i - 1] = x[j];
      x[j] = tmp;
    }
}

static void
test_pool_finite_differences (void)
{
  GRand *rng = g_rand_new_with_seed (31);
  struct
  {
    int H, W, KH, KW, stride, dilation, pt, pl, pb, pr;
    gboolean ceil_mode;
  } cases[] = {
    { 6, 6, 2, 2, 2, 1, 0, 0, 0, 0, FALSE },
    { 7, 6, 3, 3, 2, 1, 1, 1, 1, 1, FALSE },
    { 7, 8, 3, 2, 2, 1, 1, 0, 0, 1, TRUE }, /* ceil_mode, asymmetric pads */
    { 5, 5, 2, 2, 2, 1, 0, 0, 0, 0, TRUE },
    { 8, 7, 3, 3, 1, 2, 2, 1, 0, 2, FALSE }, /* dilation */
    { 5, 7, 3, 3, 3, 1, 2, 2, 2, 2, TRUE },
  };

  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    for (int mode = 0; mode < 3; mode++)
      {
        PoolCase c = { .is_max = mode == 0 };
        gboolean ok = pool_make (
            &c.g, 2, 3, cases[k].H, cases[k].W, cases[k].KH, cases[k].KW,
            cases[k].stride, cases[k].dilation, cases[k].pt, cases[k].pl,
            cases[k].pb, cases[k].pr, cases[k].ceil_mode, mode == 2);
        g_assert_true (ok);
        c.nx = (size_t) 6 * c.g.H * c.g.W;
        c.ny = (size_t) 6 * c.g.OH * c.g.OW;
        c.x = g_new (float, c.nx);
        distinct_values (rng, c.x, c.nx);
        c.r = random_floats (rng, c.ny);
        c.y = g_new (float, c.ny);
        float *start = random_floats (rng, c.nx);
        float *dx = copy_floats (start, c.nx);
        if (c.is_max)
          graft_maxpool2d_backward (dx, c.r, c.x, &c.g);
        else
          graft_avgpool2d_backward (dx, c.r, &c.g);
        g_autofree char *what =
            g_strdup_printf ("%s case %zu",
                             mode == 0   ? "maxpool"
                             : mode == 1 ? "avgpool"
                                         : "avgpool count_include_pad",
                             k);
        check_fd (what, pool_loss, &c, c.x, c.nx, dx, start, 1e-3, 2e-3, rng);
        g_free (c.x);
        g_free (c.r);
        g_free (c.y);
        g_free (start);
        g_free (dx);
      }
  g_rand_free (rng);
}

static void
test_pool_vs_reference (void)
{
  GRand *rng = g_rand_new_with_seed (32);
  int done = 0;

  while (done < 300)
    {
      GraftPoolGeometry g;
      int K = g_rand_int_range (rng, 1, 4);
      if (!pool_make (
              &g, g_rand_int_range (rng, 1, 3), g_rand_int_range (rng, 1, 4),
              g_rand_int_range (rng, 1, 10), g_rand_int_range (rng, 1, 10), K,
              g_rand_int_range (rng, 1, 4), g_rand_int_range (rng, 1, 4),
              g_rand_int_range (rng, 1, 3), g_rand_int_range (rng, 0, K),
              g_rand_int_range (rng, 0, K), g_rand_int_range (rng, 0, K),
              g_rand_int_range (rng, 0, K), g_rand_boolean (rng),
              g_rand_boolean (rng)))
        continue;
      size_t nx = (size_t) g.N * g.C * g.H * g.W;
      size_t ny = (size_t) g.N * g.C * g.OH * g.OW;
      float *x = random_floats (rng, nx), *dy = random_floats (rng, ny);
      /* coarse values: plenty of ties inside windows */
      for (size_t i = 0; i < nx; i++)
        x[i] = roundf (x[i] * 2);
      float *got = random_floats (rng, nx), *want = copy_floats (got, nx);
      graft_maxpool2d_backward (got, dy, x, &g);
      graft_maxpool2d_backward_reference (want, dy, x, &g);
      check_close (got, want, nx, 1e-5, "maxpool backward vs reference");
      graft_avgpool2d_backward (got, dy, &g);
      graft_avgpool2d_backward_reference (want, dy, &g);
      check_close (got, want, nx, 1e-5, "avgpool backward vs reference");
      g_free (x);
      g_free (dy);
      g_free (got);
      g_free (want);
      done++;
    }
  g_rand_free (rng);
}

/* Ties go to the first maximum in window order, as in PyTorch. */
static void
test_maxpool_ties (void)
{
  GraftPoolGeometry g;
  g_assert_true (
      pool_make (&g, 1, 1, 2, 4, 2, 2, 2, 1, 0, 0, 0, 0, FALSE, FALSE));
  const float x[8] = { 1, 5, 7, 7, 5, 2, 7, 7 };
  const float dy[2] = { 10, 20 };
  float dx[8] = { 0 };
  graft_maxpool2d_backward (dx, dy, x, &g);
  const float want[8] = { 0, 10, 20, 0, 0, 0, 0, 0 };
  g_assert_cmpmem (dx, sizeof dx, want, sizeof want);

  /* global max: first of equal maxima; global average: an even share */
  const float gx[6] = { 3, 9, 9, 1, 1, 1 }, gdy[2] = { 2, 3 };
  float gdx[6] = { 1, 1, 1, 1, 1, 1 };
  graft_global_maxpool_backward (gdx, gdy, gx, 1, 2, 3);
  const float gwant[6] = { 1, 3, 1, 4, 1, 1 };
  g_assert_cmpmem (gdx, sizeof gdx, gwant, sizeof gwant);
  graft_global_avgpool_backward (gdx, gdy, 1, 2, 3);
  const float awant[6] = { 1 + 2.0f / 3, 3 + 2.0f / 3, 1 + 2.0f / 3, 5, 2, 2 };
  check_close (gdx, awant, 6, 1e-6, "global average backward");
}

typedef struct
{
  float *x, *r, *y;
  int N, C;
  size_t S;
  gboolean is_max;
} GlobalCase;

static double
global_loss (void *ctx)
{
  GlobalCase *c = ctx;
  if (c->is_max)
    graft_global_maxpool_forward (c->y, c->x, c->N, c->C, c->S);
  else
    graft_global_avgpool_forward (c->y, c->x, c->N, c->C, c->S);
  return dot (c->y, c->r, (size_t) c->N * c->C);
}

static void
test_global_pool_finite_differences (void)
{
  GRand *rng = g_rand_new_with_seed (33);
  for (int is_max = 0; is_max <= 1; is_max++)
    {
      GlobalCase c = { .N = 2, .C = 3, .S = 10, .is_max = is_max };
      size_t n = 60;
      c.x = g_new (float, n);
      distinct_values (rng, c.x, n);
      c.r = random_floats (rng, 6);
      c.y = g_new (float, 6);
      float *start = random_floats (rng, n), *dx = copy_floats (start, n);
      if (is_max)
        graft_global_maxpool_backward (dx, c.r, c.x, c.N, c.C, c.S);
      else
        graft_global_avgpool_backward (dx, c.r, c.N, c.C, c.S);
      check_fd (is_max ? "global max" : "global average", global_loss, &c, c.x,
                n, dx, start, 1e-3, 2e-3, rng);
      g_free (c.x);
      g_free (c.r);
      g_free (c.y);
      g_free (start);
      g_free (dx);
    }
  g_rand_free (rng);
}

/* Pools through the ops. */
static void
test_op_pool_backward (void)
{
  GRand *rng = g_rand_new_with_seed (34);
  const int64_t xd[4] = { 2, 3, 7, 6 }, kernel[2] = { 3, 2 };
  const int64_t strides[2] = { 2, 2 }, pads[4] = { 1, 0, 1, 1 };
  static const char *const ops[] = { "MaxPool", "AveragePool",
                                     "GlobalAveragePool", "GlobalMaxPool" };
  GraftWorkspace ws = { 0 };

  for (size_t k = 0; k < G_N_ELEMENTS (ops); k++)
    {
      GraftTensor *in[1] = { random_tensor (rng, 4, xd) }, *out[1] = { NULL };
      GraftNode node;
      TestNode t;
      node_init (&t, ops[k], 1);
      if (k < 2)
        {
          node_ints (&t, "kernel_shape", 2, kernel);
          node_ints (&t, "strides", 2, strides);
          node_ints (&t, "pads", 4, pads);
          node_int (&t, "ceil_mode", 1);
        }
      if (k == 1)
        node_int (&t, "count_include_pad", 1);
      op_setup (&node, &t, 13, 1, in, out);
      node.def->forward (&node, (const GraftTensor *const *) in, out, &ws);
      GraftTensor *dout =
          random_tensor (rng, out[0]->shape.ndim, out[0]->shape.dims);
      GraftTensor *din[1] = { random_tensor (rng, 4, xd) };
      GraftTensor *want = graft_tensor_copy (din[0]);
      node.def->backward (&node, TRUE, (const GraftTensor *const *) in,
                          (const GraftTensor *const *) out,
                          (const GraftTensor *const *) &dout, din, &ws);
      GraftPoolGeometry g;
      g_assert_true (
          pool_make (&g, 2, 3, 7, 6, 3, 2, 2, 1, 1, 0, 1, 1, TRUE, k == 1));
      if (k < 2)
        {
          g_assert_cmpint (out[0]->shape.dims[2], ==, g.OH);
          g_assert_cmpint (out[0]->shape.dims[3], ==, g.OW);
        }
      if (k == 0)
        graft_maxpool2d_backward_reference (want->data, dout->data, in[0]->data,
                                            &g);
      else if (k == 1)
        graft_avgpool2d_backward_reference (want->data, dout->data, &g);
      else if (k == 2)
        graft_global_avgpool_backward (want->data, dout->data, 2, 3, 42);
      else
        graft_global_maxpool_backward (want->data, dout->data, in[0]->data, 2,
                                       3, 42);
      check_close (din[0]->data, want->data, 252, 1e-5, ops[k]);
      graft_tensor_free (in[0]);
      graft_tensor_free (out[0]);
      graft_tensor_free (dout);
      graft_tensor_free (din[0]);
      graft_tensor_free (want);
      g_free (node.params);
    }
  graft_workspace_clear (&ws);
  g_rand_free (rng);
}

/* ---- pad ---- */

typedef struct
{
  float *x, *r, *y;
  float fill;
  GraftPadMode mode;
  int ndim;
  int64_t in_dims[4], begin[4], out_dims[4];
  size_t ny;
} PadCase;

static double
pad_loss (void *ctx)
{
  PadCase *c = ctx;
  graft_pad_forward (c->y, c->x, sizeof (float), &c->fill, c->mode, c->ndim,
                     c->in_dims, c->begin, c->out_dims);
  return dot (c->y, c->r, c->ny);
}

static void
test_pad_finite_differences (void)
{
  GRand *rng = g_rand_new_with_seed (41);
  struct
  {
    int ndim;
    int64_t dims[4], begin[4], end[4];
  } cases[] = {
    { 1, { 5 }, { 2 }, { 3 } },
    { 2, { 3, 4 }, { 1, 2 }, { 2, 3 } },
    { 2, { 4, 5 }, { -1, 2 }, { 1, -2 } }, /* crops */
    { 3, { 2, 3, 4 }, { 0, 2, 1 }, { 1, 1, 3 } },
    { 4, { 2, 2, 3, 3 }, { 0, 0, 2, 1 }, { 0, 0, 1, 2 } },
  };

  for (size_t k = 0; k < G_N_ELEMENTS (cases); k++)
    for (int mode = 0; mode < 3; mode++)
      {
        PadCase c = { .mode = (GraftPadMode) mode, .ndim = cases[k].ndim };
        size_t nx = 1;
        c.ny = 1;
        for (int d = 0; d < c.ndim; d++)
          {
            c.in_dims[d] = cases[k].dims[d];
            c.begin[d] = cases[k].begin[d];
            c.out_dims[d] = c.in_dims[d] + cases[k].begin[d] + cases[k].end[d];
            nx *= c.in_dims[d];
            c.ny *= c.out_dims[d];
          }
        c.x = random_floats (rng, nx);
        c.r = random_floats (rng, c.ny);
        c.y = g_new (float, c.ny);
        c.fill = 0.25f;
        float *start = random_floats (rng, nx), *dx = copy_floats (start, nx);
        double dfill = 0.5;
        graft_pad_backward (dx, &dfill, c.r, c.mode, c.ndim, c.in_dims, c.begin,
                            c.out_dims);
        g_autofree char *what =
            g_strdup_printf ("pad mode %d case %zu", mode, k);
        check_fd (what, pad_loss, &c, c.x, nx, dx, start, 1e-2, 1e-3, rng);
        if (c.mode == GRAFT_PAD_CONSTANT)
          {
            float got = (float) dfill, zero = 0.5f;
            g_autofree char *wf = g_strdup_printf ("%s fill", what);
            check_fd (wf, pad_loss, &c, &c.fill, 1, &got, &zero, 1e-2, 1e-3,
                      rng);
          }
        else
          g_assert_cmpfloat (dfill, ==, 0.5); /* nothing is filled */
        g_free (c.x);
        g_free (c.r);
        g_free (c.y);
        g_free (start);
        g_free (dx);
      }
  g_rand_free (rng);
}

/* Pad through the op (opset 11+: pads and constant_value as inputs). */
static void
test_op_pad_backward (void)
{
  GRand *rng = g_rand_new_with_seed (42);
  const int64_t xd[4] = { 1, 2, 3, 4 }, pd[1] = { 8 }, sd[1] = { 1 };
  const int64_t pads[8] = { 0, 0, 1, 2, 0, 0, 2, -1 };
  GraftWorkspace ws = { 0 };

  for (int mode = 0; mode < 3; mode++)
    {
      GraftShape ps = graft_shape_make (1, pd);
      GraftTensor *p = graft_tensor_new (GRAFT_DTYPE_INT64, &ps, NULL);
      memcpy (p->data, pads, sizeof pads);
      GraftTensor *in[3] = { random_tensor (rng, 4, xd), p,
                             random_tensor (rng, 1, sd) };
      GraftTensor *out[1] = { NULL };
      GraftNode node;
      TestNode t;
      node_init (&t, "Pad", 1);
      node_string (&t, "mode",
                   mode == 0   ? "constant"
                   : mode == 1 ? "reflect"
                               : "edge");
      op_setup (&node, &t, 13, 3, in, out);
      GraftTensor *dout = random_tensor (rng, 4, out[0]->shape.dims);
      GraftTensor *din[3] = { random_tensor (rng, 4, xd), NULL,
                              random_tensor (rng, 1, sd) };
      GraftTensor *want = graft_tensor_copy (din[0]);
      float fill0 = ((float *) din[2]->data)[0];
      node.def->backward (&node, TRUE, (const GraftTensor *const *) in,
                          (const GraftTensor *const *) out,
                          (const GraftTensor *const *) &dout, din, &ws);
      const int64_t begin[4] = { 0, 0, 1, 2 };
      double dfill = 0.0;
      graft_pad_backward (want->data, &dfill, dout->data, (GraftPadMode) mode,
                          4, xd, begin, out[0]->shape.dims);
      check_close (din[0]->data, want->data, 24, 1e-6, "op pad backward");
      if (mode == 0)
        g_assert_cmpfloat_with_epsilon (((float *) din[2]->data)[0],
                                        fill0 + dfill, 1e-5);
      else
        g_assert_cmpfloat (((float *) din[2]->data)[0], ==, fill0);
      for (int i = 0; i < 3; i++)
        {
          graft_tensor_free (in[i]);
          graft_tensor_free (din[i]);
        }
      graft_tensor_free (want);
      graft_tensor_free (out[0]);
      graft_tensor_free (dout);
      g_free (node.params);
    }
  graft_workspace_clear (&ws);
  g_rand_free (rng);
}

/* Depthwise 3x3 backward on the shapes its paths split on (see
 * test-kernels-spatial's depthwise-shapes), each gradient alone and all
 * together, on one and two threads. */
static void
test_conv_depthwise_shapes (void)
{
  GRand *rng = g_rand_new_with_seed (22);
  int saved = omp_get_max_threads ();

  for (int threads = 1; threads <= 2; threads++)
    {
      omp_set_num_threads (threads);
      for (size_t i = 0; i < n_depthwise_shape_cases; i++)
        {
          GraftConvGeometry g = depthwise_shape_cases[i];
          g_assert_true (conv_geometry_finish (&g));
          for (int wanted = 1; wanted <= 7; wanted++)
            check_conv_vs_reference (rng, &g, wanted);
        }
    }
  omp_set_num_threads (saved);
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/grad-spatial/conv/finite-differences",
                   test_conv_finite_differences);
  g_test_add_func ("/grad-spatial/conv/vs-reference", test_conv_random);
  g_test_add_func ("/grad-spatial/conv/depthwise-shapes",
                   test_conv_depthwise_shapes);
  g_test_add_func ("/grad-spatial/conv/deterministic", test_conv_deterministic);
  g_test_add_func ("/grad-spatial/conv/op", test_op_conv_backward);
  g_test_add_func ("/grad-spatial/batchnorm/finite-differences",
                   test_batchnorm_finite_differences);
  g_test_add_func ("/grad-spatial/batchnorm/vs-reference",
                   test_batchnorm_vs_reference);
  g_test_add_func ("/grad-spatial/batchnorm/op-train", test_op_batchnorm_train);
  g_test_add_func ("/grad-spatial/pool/finite-differences",
                   test_pool_finite_differences);
  g_test_add_func ("/grad-spatial/pool/vs-reference", test_pool_vs_reference);
  g_test_add_func ("/grad-spatial/pool/ties", test_maxpool_ties);
  g_test_add_func ("/grad-spatial/pool/global-finite-differences",
                   test_global_pool_finite_differences);
  g_test_add_func ("/grad-spatial/pool/op", test_op_pool_backward);
  g_test_add_func ("/grad-spatial/pad/finite-differences",
                   test_pad_finite_differences);
  g_test_add_func ("/grad-spatial/pad/op", test_op_pad_backward);
  g_test_add_func ("/grad-spatial/batchnorm/one-pass-stats",
                   test_batchnorm_one_pass_stats);
  return g_test_run ();
}
