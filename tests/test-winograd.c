/* test-winograd.c: the Winograd F(4x4, 3x3) kernels against the plain
 * reference convolution.
 *
 * Forward, dinput, dweight and dbias on random data over odd planes (1x1,
 * 2x3, 5x9, 7x7, 13x13, several blocks of tiles), channel counts that are
 * multiples of nothing, one and several images, symmetric, asymmetric and
 * zero padding, with and without bias; backward must add to what the
 * gradients already hold; two runs must agree bit for bit. Also which
 * geometries graft_winograd_applies() takes.
 */
#include "kernels/conv.h"
#include "kernels/winograd.h"

#include <math.h>
#include <string.h>

/* F(4x4, 3x3) in float: max |got - want| / max |want| stays around 1e-6
 * to 1e-5 on these sizes (growing with C); the bound leaves room. */
#define TOLERANCE 5e-5

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

/* max |got - (base + delta)| / max |delta|; base may be NULL (zero). */
static double
relative_error (const float *got,
                const float *base,
                const float *delta,
                size_t n)
{
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < n; i++)
    {
      double want = (double) delta[i] + (base ? base[i] : 0.0);
      double d = fabs ((double) got[i] - want);
      if (!(d <= diff)) /* NaN sticks */
        diff = isnan (d) ? INFINITY : d;
      scale = MAX (scale, fabs ((double) delta[i]));
    }
  return scale > 0.0 ? diff / scale : diff;
}

static void
check_error (const char *what, const GraftConvGeometry *g, double err)
{
  if (g_test_verbose ())
    g_test_message ("N%d C%d %dx%d OC%d pads %d,%d,%d,%d: %s error %.3g", g->N,
                    g->C, g->H, g->W, g->OC, g->pad_top, g->pad_left,
                    g->pad_bottom, g->pad_right, what, err);
  if (!(err <= TOLERANCE))
    g_test_fail_printf (
        "N%d C%d %dx%d OC%d pads %d,%d,%d,%d: %s relative error %.3g > %.3g",
        g->N, g->C, g->H, g->W, g->OC, g->pad_top, g->pad_left, g->pad_bottom,
        g->pad_right, what, err, TOLERANCE);
}

static GraftConvGeometry
geometry (int N, int C, int H, int W, int OC, int pt, int pl, int pb, int pr)
{
  GraftConvGeometry g = {
    .N = N,
    .C = C,
    .H = H,
    .W = W,
    .OC = OC,
    .KH = 3,
    .KW = 3,
    .group = 1,
    .stride_h = 1,
    .stride_w = 1,
    .dilation_h = 1,
    .dilation_w = 1,
    .pad_top = pt,
    .pad_left = pl,
    .pad_bottom = pb,
    .pad_right = pr,
  };
  g.OH = H + pt + pb - 2;
  g.OW = W + pl + pr - 2;
  return g;
}

/* Forward and backward of g against the reference, then again for
 * bit-identical results. */
static void
check_geometry (GRand *rng, const GraftConvGeometry *g, gboolean with_bias)
{
  size_t nx = (size_t) g->N * g->C * g->H * g->W;
  size_t nw = (size_t) g->OC * g->C * 9;
  size_t ny = (size_t) g->N * g->OC * g->OH * g->OW;
  float *x = random_floats (rng, nx), *w = random_floats (rng, nw);
  float *b = with_bias ? random_floats (rng, g->OC) : NULL;
  float *dy = random_floats (rng, ny);
  size_t n_scratch = MAX (graft_winograd_forward_scratch_floats (g),
                          graft_winograd_backward_scratch_floats (g));
  float *scratch = g_new (float, n_scratch);

  /* forward: every output written, matching the reference */
  float *want = g_new0 (float, ny), *got = g_new (float, ny);
  for (size_t i = 0; i < ny; i++)
    got[i] = NAN;
  graft_conv2d_forward_reference (want, x, w, b, g);
  graft_winograd_forward (got, x, w, b, g, scratch);
  check_error ("forward", g, relative_error (got, NULL, want, ny));
  float *again = g_new (float, ny);
  graft_winograd_forward (again, x, w, b, g, scratch);
  g_assert_true (memcmp (got, again, sizeof (float) * ny) == 0);

  /* backward: the reference's pure gradients, then the fast kernel adding
   * to random prior contents */
  float *ref_dx = g_new0 (float, nx), *ref_dw = g_new0 (float, nw);
  float *ref_db = g_new0 (float, g->OC);
  graft_conv2d_backward_reference (ref_dx, ref_dw, ref_db, dy, x, w, g);
  float *prior_dx = random_floats (rng, nx),
        *prior_dw = random_floats (rng, nw);
  float *prior_db = random_floats (rng, g->OC);
  float *dx = copy_floats (prior_dx, nx), *dw = copy_floats (prior_dw, nw);
  float *db = copy_floats (prior_db, g->OC);
  graft_winograd_backward (dx, dw, with_bias ? db : NULL, dy, x, w, g, scratch);
  check_error ("dinput", g, relative_error (dx, prior_dx, ref_dx, nx));
  check_error ("dweight", g, relative_error (dw, prior_dw, ref_dw, nw));
  if (with_bias)
    check_error ("dbias", g, relative_error (db, prior_db, ref_db, g->OC));
  else
    g_assert_true (memcmp (db, prior_db, sizeof (float) * g->OC) == 0);

  /* the same again: bit-identical */
  float *dx2 = copy_floats (prior_dx, nx), *dw2 = copy_floats (prior_dw, nw);
  float *db2 = copy_floats (prior_db, g->OC);
  graft_winograd_backward (dx2, dw2, with_bias ? db2 : NULL, dy, x, w, g,
                           scratch);
  g_assert_true (memcmp (dx, dx2, sizeof (float) * nx) == 0);
  g_assert_true (memcmp (dw, dw2, sizeof (float) * nw) == 0);
  g_assert_true (memcmp (db, db2, sizeof (float) * g->OC) == 0);

  /* one gradient at a time gives the same as all together */
  float *dx3 = copy_floats (prior_dx, nx), *dw3 = copy_floats (prior_dw, nw);
  graft_winograd_backward (dx3, NULL, NULL, dy, x, w, g, scratch);
  graft_winograd_backward (NULL, dw3, NULL, dy, x, w, g, scratch);
  g_assert_true (memcmp (dx, dx3, sizeof (float) * nx) == 0);
  g_assert_true (memcmp (dw, dw3, sizeof (float) * nw) == 0);

  g_free (x);
  g_free (w);
  g_free (b);
  g_free (dy);
  g_free (scratch);
  g_free (want);
  g_free (got);
  g_free (again);
  g_free (ref_dx);
  g_free (ref_dw);
  g_free (ref_db);
  g_free (prior_dx);
  g_free (prior_dw);
  g_free (prior_db);
  g_free (dx);
  g_free (dw);
  g_free (db);
  g_free (dx2);
  g_free (dw2);
  g_free (db2);
  g_free (dx3);
  g_free (dw3);
}

static void
test_small_planes (void)
{
  GRand *rng = g_rand_new_with_seed (1);
  GraftConvGeometry cases[] = {
    geometry (1, 3, 7, 7, 5, 1, 1, 1, 1),
    geometry (2, 17, 5, 9, 9, 1, 1, 1, 1),
    geometry (3, 8, 13, 13, 16, 1, 1, 1, 1),
    geometry (2, 5, 1, 1, 7, 1, 1, 1, 1),
    geometry (2, 4, 2, 3, 3, 1, 1, 1, 1),
    geometry (1, 1, 6, 6, 1, 1, 1, 1, 1),
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    check_geometry (rng, &cases[i], i % 2 == 0);
  g_rand_free (rng);
}

static void
test_pads (void)
{
  GRand *rng = g_rand_new_with_seed (2);
  GraftConvGeometry cases[] = {
    geometry (2, 6, 9, 11, 5, 0, 0, 0, 0), /* valid: 7x9 */
    geometry (1, 7, 8, 10, 4, 0, 2, 1, 0), /* asymmetric */
    geometry (2, 3, 5, 6, 6, 2, 2, 2, 2),  /* output wider than input */
    geometry (1, 5, 3, 4, 3, 2, 0, 0, 1),  /* 3x3 from 3x4 */
    geometry (1, 4, 10, 7, 3, 3, 1, 0, 4), /* rows of pure padding */
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    check_geometry (rng, &cases[i], i % 2 == 1);
  g_rand_free (rng);
}

/* More tiles than one block holds, and wide channel counts (narrower
 * blocks, partial groups of eight channels). */
static void
test_blocks (void)
{
  GRand *rng = g_rand_new_with_seed (3);
  GraftConvGeometry cases[] = {
    geometry (2, 12, 70, 70, 10, 1, 1, 1, 1), /* 648 tiles */
    geometry (3, 45, 28, 28, 37, 1, 1, 1, 1),
    geometry (2, 150, 14, 14, 140, 1, 1, 1, 1),
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    check_geometry (rng, &cases[i], TRUE);
  g_rand_free (rng);
}

/* What conv.c hands over, and that doing so changes nothing it promises. */
static void
test_applies (void)
{
  GraftConvGeometry resnet = geometry (1, 64, 56, 56, 64, 1, 1, 1, 1);
  const char *off = g_getenv ("GRAFT_NO_WINOGRAD");
  GraftConvGeometry wide = geometry (32, 512, 7, 7, 512, 1, 1, 1, 1);
  if (off == NULL || strcmp (off, "1") != 0)
    {
      g_assert_true (graft_winograd_applies (&resnet));
      g_assert_true (graft_winograd_applies (&wide));
    }
  wide.N = 1; /* 4 tiles: transforming 512 x 512 kernels costs more */
  g_assert_false (graft_winograd_applies (&wide));

  GraftConvGeometry g = resnet;
  g.stride_h = g.stride_w = 2;
  g.OH = g.OW = 28;
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.dilation_h = g.dilation_w = 2;
  g.OH = g.OW = 54;
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.group = 2;
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.group = 64; /* depthwise */
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.KH = g.KW = 1;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 0;
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.KH = g.KW = 5;
  g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 2;
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.KH = 1; /* 1x3 */
  g.OH = 58;
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.C = 3; /* too few channels to pay */
  g_assert_false (graft_winograd_applies (&g));

  g = resnet;
  g.N = 0;
  g_assert_false (graft_winograd_applies (&g));
}

/* graft_conv2d_forward/backward on a geometry Winograd takes still match
 * the reference (the dispatch and its scratch size). */
static void
test_through_conv (void)
{
  GRand *rng = g_rand_new_with_seed (4);
  GraftConvGeometry g = geometry (2, 32, 12, 12, 24, 1, 1, 1, 1);
  size_t nx = (size_t) g.N * g.C * g.H * g.W, nw = (size_t) g.OC * g.C * 9;
  size_t ny = (size_t) g.N * g.OC * g.OH * g.OW;
  float *x = random_floats (rng, nx), *w = random_floats (rng, nw);
  float *b = random_floats (rng, g.OC), *dy = random_floats (rng, ny);
  float *y = g_new (float, ny), *want_y = g_new0 (float, ny);
  float *dx = g_new0 (float, nx), *dw = g_new0 (float, nw);
  float *db = g_new0 (float, g.OC);
  float *ref_dx = g_new0 (float, nx), *ref_dw = g_new0 (float, nw);
  float *ref_db = g_new0 (float, g.OC);
  float *fs = g_new (float, graft_conv2d_forward_scratch_floats (&g) + 1);
  float *bs = g_new (float, graft_conv2d_backward_scratch_floats (&g) + 1);

  graft_conv2d_forward (y, x, w, b, &g, fs);
  graft_conv2d_forward_reference (want_y, x, w, b, &g);
  check_error ("conv forward", &g, relative_error (y, NULL, want_y, ny));
  graft_conv2d_backward (dx, dw, db, dy, x, w, &g, bs);
  graft_conv2d_backward_reference (ref_dx, ref_dw, ref_db, dy, x, w, &g);
  check_error ("conv dinput", &g, relative_error (dx, NULL, ref_dx, nx));
  check_error ("conv dweight", &g, relative_error (dw, NULL, ref_dw, nw));
  check_error ("conv dbias", &g, relative_error (db, NULL, ref_db, g.OC));

  g_free (x);
  g_free (w);
  g_free (b);
  g_free (dy);
  g_free (y);
  g_free (want_y);
  g_free (dx);
  g_free (dw);
  g_free (db);
  g_free (ref_dx);
  g_free (ref_dw);
  g_free (ref_db);
  g_free (fs);
  g_free (bs);
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/winograd/small-planes", test_small_planes);
  g_test_add_func ("/winograd/pads", test_pads);
  g_test_add_func ("/winograd/blocks", test_blocks);
  g_test_add_func ("/winograd/applies", test_applies);
  g_test_add_func ("/winograd/through-conv", test_through_conv);

  return g_test_run ();
}
