/* test-kernels-spatial.c: Conv, pools, BatchNormalization and Pad.
 *
 * The fast conv and pool kernels are held to the plain reference ones over
 * many random geometries; the rest is checked against hand-worked cases
 * (several from the ONNX operator documentation) and direct formulas. The
 * op-level tests build GraftOnnxNode structs by hand and go through
 * prepare / infer / forward like the graph does.
 */
#include "graft-error.h"
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

/* |got - want| <= rel * max(1, |want|) elementwise; NaN never passes. */
static void
assert_close (
    const float *got, const float *want, size_t n, double rel, const char *what)
{
  for (size_t i = 0; i < n; i++)
    {
      double tol = rel * MAX (1.0, fabs (want[i]));
      if (!(fabs ((double) got[i] - want[i]) <= tol))
        {
          g_test_fail_printf ("%s: element %zu is %.7g, expected %.7g", what, i,
                              got[i], want[i]);
          return;
        }
    }
}

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

static void
check_conv_geometry (GRand *rng, const GraftConvGeometry *g, gboolean bias)
{
  size_t nx = (size_t) g->N * g->C * g->H * g->W;
  size_t nw = (size_t) g->OC * (g->C / g->group) * g->KH * g->KW;
  size_t ny = (size_t) g->N * g->OC * g->OH * g->OW;
  float *x = random_floats (rng, nx), *w = random_floats (rng, nw);
  float *b = bias ? random_floats (rng, g->OC) : NULL;
  float *want = g_new0 (float, ny), *got = g_new (float, ny);
  size_t n_scratch = graft_conv2d_forward_scratch_floats (g);
  float *scratch = n_scratch ? g_new (float, n_scratch) : NULL;
  g_autofree char *what = conv_geometry_string (g);

  for (size_t i = 0; i < ny; i++)
    got[i] = NAN; /* the fast kernel must write every output */
  graft_conv2d_forward_reference (want, x, w, b, g);
  graft_conv2d_forward (got, x, w, b, g, scratch);
  assert_close (got, want, ny, 1e-4, what);

  g_free (x);
  g_free (w);
  g_free (b);
  g_free (want);
  g_free (got);
  g_free (scratch);
}

/* ---- conv ---- */

static void
test_window_arithmetic (void)
{
  int64_t b, e;

  g_assert_cmpint (graft_window_output_size (5, 3, 1, 1, 1, 1, FALSE), ==, 5);
  g_assert_cmpint (graft_window_output_size (5, 3, 2, 1, 1, 1, FALSE), ==, 3);
  g_assert_cmpint (graft_window_output_size (7, 3, 2, 2, 0, 0, FALSE), ==, 2);
  g_assert_cmpint (graft_window_output_size (2, 3, 1, 1, 0, 0, FALSE), ==, 0);
  /* ceil mode: 4 wide, kernel 3, stride 2 -> 2 windows, the second partial */
  g_assert_cmpint (graft_window_output_size (4, 3, 2, 1, 0, 0, TRUE), ==, 2);
  /* ceil mode drops a window that would start in the trailing padding */
  g_assert_cmpint (graft_window_output_size (4, 2, 2, 1, 0, 1, TRUE), ==, 2);
  g_assert_cmpint (graft_window_output_size (5, 2, 2, 1, 0, 0, TRUE), ==, 3);

  graft_window_same_pads (5, 3, 2, 1, FALSE, &b, &e);
  g_assert_cmpint (b, ==, 1);
  g_assert_cmpint (e, ==, 1);
  graft_window_same_pads (4, 2, 1, 1, FALSE, &b, &e);
  g_assert_cmpint (b, ==, 0);
  g_assert_cmpint (e, ==, 1);
  graft_window_same_pads (4, 2, 1, 1, TRUE, &b, &e);
  g_assert_cmpint (b, ==, 1);
  g_assert_cmpint (e, ==, 0);
  graft_window_same_pads (6, 1, 3, 1, FALSE, &b, &e);
  g_assert_cmpint (b, ==, 0);
  g_assert_cmpint (e, ==, 0);
}

/* The examples of the ONNX Conv documentation: x = 0..24 (1x1x5x5), a 3x3
 * kernel of ones. */
static void
test_conv_onnx_examples (void)
{
  float x[25], w[9];
  float y[25];
  static const float with_padding[25] = { 12,  21,  27,  33,  24,  33,  54,
                                          63,  72,  51,  63,  99,  108, 117,
                                          81,  93,  144, 153, 162, 111, 72,
                                          111, 117, 123, 84 };
  static const float without_padding[9] = { 54,  63,  72,  99, 108,
                                            117, 144, 153, 162 };
  static const float strides_padding[9] = {
    12, 27, 24, 63, 108, 81, 72, 117, 84
  };
  static const float asymmetric[8] = { 21, 33, 99, 117, 189, 207, 171, 183 };
  GraftConvGeometry g = { .N = 1,
                          .C = 1,
                          .H = 5,
                          .W = 5,
                          .OC = 1,
                          .KH = 3,
                          .KW = 3,
                          .group = 1,
                          .stride_h = 1,
                          .stride_w = 1,
                          .dilation_h = 1,
                          .dilation_w = 1 };

  for (int i = 0; i < 25; i++)
    x[i] = (float) i;
  for (int i = 0; i < 9; i++)
    w[i] = 1.0f;

  GraftConvGeometry a = g;
  a.pad_top = a.pad_left = a.pad_bottom = a.pad_right = 1;
  g_assert_true (conv_geometry_finish (&a));
  float scratch[9 * 25]; /* the largest im2col matrix here */
  graft_conv2d_forward (y, x, w, NULL, &a, scratch);
  assert_close (y, with_padding, 25, 1e-6, "with padding");

  GraftConvGeometry b = g;
  g_assert_true (conv_geometry_finish (&b));
  g_assert_cmpint (b.OH, ==, 3);
  graft_conv2d_forward (y, x, w, NULL, &b, scratch);
  assert_close (y, without_padding, 9, 1e-6, "without padding");

  GraftConvGeometry c = a;
  c.stride_h = c.stride_w = 2;
  g_assert_true (conv_geometry_finish (&c));
  g_assert_cmpint (c.OH, ==, 3);
  graft_conv2d_forward (y, x, w, NULL, &c, scratch);
  assert_close (y, strides_padding, 9, 1e-6, "strides and padding");

  /* x = 0..34 (1x1x7x5), stride 2 */
  float x35[35];
  for (int i = 0; i < 35; i++)
    x35[i] = (float) i;
  GraftConvGeometry d = g;
  d.H = 7;
  d.stride_h = d.stride_w = 2;
  d.pad_top = d.pad_bottom = 1; /* ONNX pads [1, 0, 1, 0] */
  g_assert_true (conv_geometry_finish (&d));
  g_assert_cmpint (d.OH, ==, 4);
  g_assert_cmpint (d.OW, ==, 2);
  graft_conv2d_forward (y, x35, w, NULL, &d, scratch);
  assert_close (y, asymmetric, 8, 1e-6, "asymmetric padding");

  d.pad_left = d.pad_right = 1;
  g_assert_true (conv_geometry_finish (&d));
  g_assert_cmpint (d.OW, ==, 3);
  graft_conv2d_forward (y, x35, w, NULL, &d, scratch);
  assert_close (
      y,
      (const float[]){ 12, 27, 24, 63, 108, 81, 123, 198, 141, 112, 177, 124 },
      12, 1e-6, "7x5, strides and padding");
}

/* The fast paths by name: pointwise, depthwise 3x3 s1 / s2, channel
 * multiplier, grouped, 1-D, the first layer of a CNN. */
static void
test_conv_named_paths (void)
{
  GRand *rng = g_rand_new_with_seed (7);
  const GraftConvGeometry cases[] = {
    /* pointwise, with and without groups */
    { 2, 8, 5, 7, 6, 5, 7, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0 },
    { 1, 8, 5, 7, 4, 5, 7, 1, 1, 2, 1, 1, 1, 1, 0, 0, 0, 0 },
    /* depthwise 3x3 stride 1 and 2, pad 1 */
    { 3, 5, 9, 11, 5, 0, 0, 3, 3, 5, 1, 1, 1, 1, 1, 1, 1, 1 },
    { 1, 4, 10, 9, 4, 0, 0, 3, 3, 4, 2, 2, 1, 1, 1, 1, 1, 1 },
    { 1, 4, 10, 9, 4, 0, 0, 3, 3, 4, 2, 2, 1, 1, 0, 1, 1, 0 },
    /* depthwise without padding reads the input directly */
    { 2, 3, 8, 8, 3, 0, 0, 3, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0 },
    /* depthwise with channel multiplier 2, 5x5 dilated */
    { 1, 3, 13, 12, 6, 0, 0, 5, 5, 3, 1, 2, 2, 1, 2, 3, 1, 0 },
    /* depthwise 1x1 */
    { 1, 6, 4, 4, 12, 0, 0, 1, 1, 6, 1, 1, 1, 1, 0, 0, 0, 0 },
    /* the 3 -> 32 stride 2 stem */
    { 1, 3, 17, 17, 8, 0, 0, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1 },
    /* 7x7 stride 2 pad 3 (a ResNet stem) */
    { 1, 3, 19, 21, 4, 0, 0, 7, 7, 1, 2, 2, 1, 1, 3, 3, 3, 3 },
    /* 1-D: H = 1 */
    { 2, 4, 1, 15, 3, 0, 0, 1, 3, 1, 1, 2, 1, 1, 0, 1, 0, 2 },
    /* 1x1 with stride 2 takes the im2col path */
    { 1, 4, 7, 7, 5, 0, 0, 1, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0 },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      GraftConvGeometry g = cases[i];
      g_assert_true (conv_geometry_finish (&g));
      check_conv_geometry (rng, &g, TRUE);
      check_conv_geometry (rng, &g, FALSE);
    }
  g_rand_free (rng);
}

static void
test_conv_random (void)
{
  GRand *rng = g_rand_new_with_seed (1234);
  static const int kernels[] = { 1, 3, 5, 7 };
  int done = 0;

  while (done < 300)
    {
      GraftConvGeometry g = { 0 };
      int kind = g_rand_int_range (rng, 0, 4); /* 1, 2 groups, dw, dw x2 */
      int cg = g_rand_int_range (rng, 1, 5);
      g.N = g_rand_boolean (rng) ? 1 : 3;
      switch (kind)
        {
        case 0:
          g.group = 1, g.C = cg, g.OC = g_rand_int_range (rng, 1, 7);
          break;
        case 1:
          g.group = 2, g.C = 2 * cg, g.OC = 2 * g_rand_int_range (rng, 1, 4);
          break;
        case 2:
          g.C = g.group = g.OC = g_rand_int_range (rng, 2, 7);
          break;
        default:
          g.C = g.group = g_rand_int_range (rng, 2, 7);
          g.OC = 2 * g.C;
          break;
        }
      g.KH = kernels[g_rand_int_range (rng, 0, 4)];
      g.KW = g_rand_int_range (rng, 0, 4)
                 ? g.KH
                 : kernels[g_rand_int_range (rng, 0, 4)];
      g.H = g_rand_int_range (rng, 1, 18);
      g.W = g_rand_int_range (rng, 1, 18);
      g.stride_h = g_rand_int_range (rng, 1, 3);
      g.stride_w =
          g_rand_boolean (rng) ? g.stride_h : g_rand_int_range (rng, 1, 3);
      g.dilation_h = g_rand_int_range (rng, 1, 3);
      g.dilation_w = g_rand_int_range (rng, 1, 3);
      if (g_rand_int_range (rng, 0, 4) != 0)
        {
          g.pad_top = g_rand_int_range (rng, 0, g.KH);
          g.pad_left = g_rand_int_range (rng, 0, g.KW);
          g.pad_bottom = g_rand_int_range (rng, 0, g.KH);
          g.pad_right = g_rand_int_range (rng, 0, g.KW);
        }
      if (!conv_geometry_finish (&g))
        continue;
      check_conv_geometry (rng, &g, g_rand_boolean (rng));
      done++;
    }
  g_rand_free (rng);
}

/* ---- pools ---- */

static GraftPoolGeometry
pool_geometry (int H, int W, int K, int stride, int pad, gboolean ceil_mode)
{
  GraftPoolGeometry g = { .N = 1,
                          .C = 1,
                          .H = H,
                          .W = W,
                          .KH = K,
                          .KW = K,
                          .stride_h = stride,
                          .stride_w = stride,
                          .dilation_h = 1,
                          .dilation_w = 1,
                          .pad_top = pad,
                          .pad_left = pad,
                          .pad_bottom = pad,
                          .pad_right = pad };
  g.OH = (int) graft_window_output_size (H, K, stride, 1, pad, pad, ceil_mode);
  g.OW = (int) graft_window_output_size (W, K, stride, 1, pad, pad, ceil_mode);
  return g;
}

static void
check_pool_both (const GraftPoolGeometry *g,
                 const float *x,
                 const float *want,
                 gboolean is_max,
                 const char *what)
{
  size_t ny = (size_t) g->N * g->C * g->OH * g->OW;
  float *y = g_new (float, ny);
  if (is_max)
    graft_maxpool2d_forward (y, x, g);
  else
    graft_avgpool2d_forward (y, x, g);
  assert_close (y, want, ny, 1e-6, what);
  if (is_max)
    graft_maxpool2d_forward_reference (y, x, g);
  else
    graft_avgpool2d_forward_reference (y, x, g);
  assert_close (y, want, ny, 1e-6, what);
  g_free (y);
}

static void
test_pool_hand_cases (void)
{
  float x16[16], x9[9];
  for (int i = 0; i < 16; i++)
    x16[i] = (float) (i + 1);
  for (int i = 0; i < 9; i++)
    x9[i] = (float) (i + 1);

  /* ONNX test_maxpool_2d_ceil / test_averagepool_2d_ceil */
  GraftPoolGeometry g = pool_geometry (4, 4, 3, 2, 0, TRUE);
  g_assert_cmpint (g.OH, ==, 2);
  check_pool_both (&g, x16, (const float[]){ 11, 12, 15, 16 }, TRUE,
                   "maxpool ceil");
  check_pool_both (&g, x16, (const float[]){ 6, 7.5, 12, 13.5 }, FALSE,
                   "avgpool ceil");

  /* ONNX test_maxpool_2d_dilations: kernel 2, dilation 2, stride 1 */
  g = pool_geometry (4, 4, 2, 1, 0, FALSE);
  g.dilation_h = g.dilation_w = 2;
  g.OH = g.OW = 2;
  check_pool_both (&g, x16, (const float[]){ 11, 12, 15, 16 }, TRUE,
                   "maxpool dilations");

  /* 2x2 input, kernel 2, pads 1: a 3x3 output where the corners see one
   * value, the edges two, the center all four. */
  float x4[4] = { 1, 2, 3, 4 };
  g = pool_geometry (2, 2, 2, 1, 1, FALSE);
  g_assert_cmpint (g.OH, ==, 3);
  check_pool_both (&g, x4, (const float[]){ 1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4 },
                   FALSE, "avgpool pads, excluded");
  g.count_include_pad = TRUE;
  check_pool_both (
      &g, x4, (const float[]){ 0.25, 0.75, 0.5, 1, 2.5, 1.5, 0.75, 1.75, 1 },
      FALSE, "avgpool pads, included");
  check_pool_both (&g, x4, (const float[]){ 1, 2, 2, 3, 4, 4, 3, 4, 4 }, TRUE,
                   "maxpool pads");

  /* count_include_pad never counts what ceil_mode adds past the pads:
   * 1-D [1 2 3 4 5], kernel 2, stride 2, ceil -> [1.5 3.5 5]. */
  float x5[5] = { 1, 2, 3, 4, 5 };
  g = pool_geometry (1, 5, 2, 2, 0, TRUE);
  g.KH = 1, g.stride_h = 1, g.OH = 1;
  g_assert_cmpint (g.OW, ==, 3);
  g.count_include_pad = TRUE;
  check_pool_both (&g, x5, (const float[]){ 1.5, 3.5, 5 }, FALSE,
                   "avgpool ceil, included");

  /* SAME_UPPER / SAME_LOWER, kernel 2 on 3x3 1..9 */
  g = pool_geometry (3, 3, 2, 1, 0, FALSE);
  g.pad_bottom = g.pad_right = 1;
  g.OH = g.OW = 3;
  check_pool_both (&g, x9, (const float[]){ 5, 6, 6, 8, 9, 9, 8, 9, 9 }, TRUE,
                   "maxpool same upper");
  check_pool_both (&g, x9, (const float[]){ 3, 4, 4.5, 6, 7, 7.5, 7.5, 8.5, 9 },
                   FALSE, "avgpool same upper");
  g.pad_bottom = g.pad_right = 0;
  g.pad_top = g.pad_left = 1;
  check_pool_both (&g, x9, (const float[]){ 1, 2, 3, 4, 5, 6, 7, 8, 9 }, TRUE,
                   "maxpool same lower");

  /* a window entirely in the padding */
  float one = 7;
  g = pool_geometry (1, 1, 1, 1, 1, FALSE);
  g_assert_cmpint (g.OH, ==, 3);
  float *y = g_new (float, 9);
  graft_maxpool2d_forward (y, &one, &g);
  g_assert_cmpfloat (y[0], ==, -FLT_MAX);
  g_assert_cmpfloat (y[4], ==, 7);
  graft_avgpool2d_forward (y, &one, &g);
  g_assert_cmpfloat (y[0], ==, 0);
  g_free (y);
}

static void
test_pool_random (void)
{
  GRand *rng = g_rand_new_with_seed (99);

  for (int iter = 0; iter < 200; iter++)
    {
      GraftPoolGeometry g = { 0 };
      gboolean ceil_mode = g_rand_boolean (rng);
      g.N = g_rand_int_range (rng, 1, 3);
      g.C = g_rand_int_range (rng, 1, 4);
      g.H = g_rand_int_range (rng, 1, 12);
      g.W = g_rand_int_range (rng, 1, 12);
      g.KH = g_rand_int_range (rng, 1, 5);
      g.KW = g_rand_int_range (rng, 1, 5);
      g.stride_h = g_rand_int_range (rng, 1, 4);
      g.stride_w = g_rand_int_range (rng, 1, 4);
      g.dilation_h = g_rand_int_range (rng, 1, 3);
      g.dilation_w = g_rand_int_range (rng, 1, 3);
      g.pad_top = g_rand_int_range (rng, 0, g.KH);
      g.pad_left = g_rand_int_range (rng, 0, g.KW);
      g.pad_bottom = g_rand_int_range (rng, 0, g.KH);
      g.pad_right = g_rand_int_range (rng, 0, g.KW);
      g.count_include_pad = g_rand_boolean (rng);
      g.OH =
          (int) graft_window_output_size (g.H, g.KH, g.stride_h, g.dilation_h,
                                          g.pad_top, g.pad_bottom, ceil_mode);
      g.OW =
          (int) graft_window_output_size (g.W, g.KW, g.stride_w, g.dilation_w,
                                          g.pad_left, g.pad_right, ceil_mode);
      if (g.OH <= 0 || g.OW <= 0)
        continue;
      size_t nx = (size_t) g.N * g.C * g.H * g.W;
      size_t ny = (size_t) g.N * g.C * g.OH * g.OW;
      float *x = random_floats (rng, nx);
      float *want = g_new (float, ny), *got = g_new (float, ny);
      graft_maxpool2d_forward_reference (want, x, &g);
      graft_maxpool2d_forward (got, x, &g);
      assert_close (got, want, ny, 0, "random maxpool");
      graft_avgpool2d_forward_reference (want, x, &g);
      graft_avgpool2d_forward (got, x, &g);
      assert_close (got, want, ny, 1e-5, "random avgpool");
      g_free (x);
      g_free (want);
      g_free (got);
    }
  g_rand_free (rng);
}

static void
test_global_pools (void)
{
  /* (2, 3, 4): image n, channel c holds c*10 + n + 0..3 */
  float x[24], y[6];
  for (int n = 0; n < 2; n++)
    for (int c = 0; c < 3; c++)
      for (int i = 0; i < 4; i++)
        x[(n * 3 + c) * 4 + i] = (float) (c * 10 + n + i);
  graft_global_avgpool_forward (y, x, 2, 3, 4);
  assert_close (y, (const float[]){ 1.5, 11.5, 21.5, 2.5, 12.5, 22.5 }, 6, 1e-6,
                "global average");
  graft_global_maxpool_forward (y, x, 2, 3, 4);
  assert_close (y, (const float[]){ 3, 13, 23, 4, 14, 24 }, 6, 0, "global max");
}

/* ---- batch normalization ---- */

static void
test_batchnorm (void)
{
  GRand *rng = g_rand_new_with_seed (5);
  int N = 3, C = 4;
  size_t S = 7, n = N * C * S;
  float *x = random_floats (rng, n), *y = g_new (float, n);
  float *scale = random_floats (rng, C), *bias = random_floats (rng, C);
  float *mean = random_floats (rng, C), *var = random_floats (rng, C);
  float *want = g_new (float, n);
  float eps = 1e-3f;

  for (int c = 0; c < C; c++)
    var[c] = fabsf (var[c]) + 0.1f;

  graft_batchnorm_forward_inference (y, x, scale, bias, mean, var, eps, N, C,
                                     S);
  for (int i = 0; i < N; i++)
    for (int c = 0; c < C; c++)
      for (size_t s = 0; s < S; s++)
        {
          size_t k = (i * C + c) * S + s;
          want[k] = (float) ((x[k] - mean[c]) / sqrt (var[c] + eps) * scale[c] +
                             bias[c]);
        }
  assert_close (y, want, n, 1e-5, "batchnorm inference");

  /* training: batch statistics, biased variance */
  float bm[4], bv[4], run[4];
  graft_batchnorm_forward_training (y, bm, bv, x, scale, bias, eps, N, C, S);
  for (int c = 0; c < C; c++)
    {
      double sum = 0, sq = 0;
      for (int i = 0; i < N; i++)
        for (size_t s = 0; s < S; s++)
          sum += x[(i * C + c) * S + s];
      double m = sum / (N * S);
      for (int i = 0; i < N; i++)
        for (size_t s = 0; s < S; s++)
          sq += pow (x[(i * C + c) * S + s] - m, 2);
      double v = sq / (N * S);
      g_assert_cmpfloat_with_epsilon (bm[c], m, 1e-6);
      g_assert_cmpfloat_with_epsilon (bv[c], v, 1e-6);
      for (int i = 0; i < N; i++)
        for (size_t s = 0; s < S; s++)
          {
            size_t k = (i * C + c) * S + s;
            want[k] =
                (float) ((x[k] - m) / sqrt (v + eps) * scale[c] + bias[c]);
          }
    }
  assert_close (y, want, n, 1e-5, "batchnorm training");

  graft_batchnorm_update_running (run, mean, bm, 0.9f, C);
  for (int c = 0; c < C; c++)
    g_assert_cmpfloat_with_epsilon (run[c], mean[c] * 0.9 + bm[c] * 0.1, 1e-6);

  g_free (x);
  g_free (y);
  g_free (scale);
  g_free (bias);
  g_free (mean);
  g_free (var);
  g_free (want);
  g_rand_free (rng);
}

/* ---- pad ---- */

static void
check_pad (GraftPadMode mode,
           int ndim,
           const int64_t *in_dims,
           const float *x,
           const int64_t *begin,
           const int64_t *end,
           float fill,
           const float *want,
           const char *what)
{
  int64_t out_dims[GRAFT_MAX_DIMS];
  size_t n = 1;
  for (int i = 0; i < ndim; i++)
    {
      out_dims[i] = in_dims[i] + begin[i] + end[i];
      n *= (size_t) out_dims[i];
    }
  float *y = g_new (float, n ? n : 1);
  graft_pad_forward (y, x, sizeof (float), &fill, mode, ndim, in_dims, begin,
                     out_dims);
  assert_close (y, want, n, 0, what);
  g_free (y);
}

static void
test_pad (void)
{
  /* the ONNX Pad documentation examples: (3, 2), pads [0, 2, 0, 0] */
  const float x[6] = { 1.0, 1.2, 2.3, 3.4, 4.5, 5.7 };
  const int64_t dims[2] = { 3, 2 }, b[2] = { 0, 2 }, e[2] = { 0, 0 };
  check_pad (GRAFT_PAD_CONSTANT, 2, dims, x, b, e, 0,
             (const float[]){ 0, 0, 1.0, 1.2, 0, 0, 2.3, 3.4, 0, 0, 4.5, 5.7 },
             "constant");
  check_pad (GRAFT_PAD_REFLECT, 2, dims, x, b, e, 0,
             (const float[]){ 1.0, 1.2, 1.0, 1.2, 2.3, 3.4, 2.3, 3.4, 4.5, 5.7,
                              4.5, 5.7 },
             "reflect");
  check_pad (GRAFT_PAD_EDGE, 2, dims, x, b, e, 0,
             (const float[]){ 1.0, 1.0, 1.0, 1.2, 2.3, 2.3, 2.3, 3.4, 4.5, 4.5,
                              4.5, 5.7 },
             "edge");

  /* 1-D: reflect and edge beyond one period, cropping */
  const float v[3] = { 1, 2, 3 };
  const int64_t d3[1] = { 3 };
  check_pad (GRAFT_PAD_REFLECT, 1, d3, v, (const int64_t[]){ 2 },
             (const int64_t[]){ 2 }, 0, (const float[]){ 3, 2, 1, 2, 3, 2, 1 },
             "reflect 1-D");
  check_pad (GRAFT_PAD_REFLECT, 1, d3, v, (const int64_t[]){ 5 },
             (const int64_t[]){ 0 }, 0,
             (const float[]){ 2, 1, 2, 3, 2, 1, 2, 3 }, "reflect, wrapping");
  check_pad (GRAFT_PAD_EDGE, 1, d3, v, (const int64_t[]){ 2 },
             (const int64_t[]){ 1 }, 0, (const float[]){ 1, 1, 1, 2, 3, 3 },
             "edge 1-D");
  check_pad (GRAFT_PAD_CONSTANT, 1, d3, v, (const int64_t[]){ -1 },
             (const int64_t[]){ 2 }, 9, (const float[]){ 2, 3, 9, 9 },
             "crop and pad");
  check_pad (GRAFT_PAD_CONSTANT, 1, d3, v, (const int64_t[]){ -3 },
             (const int64_t[]){ 1 }, 9, (const float[]){ 9 }, "crop all");

  /* (2, 2, 2), pad the middle axis by one at each end, crop the last */
  const float cube[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  const int64_t d222[3] = { 2, 2, 2 };
  check_pad (GRAFT_PAD_CONSTANT, 3, d222, cube, (const int64_t[]){ 0, 1, 0 },
             (const int64_t[]){ 0, 1, -1 }, -1,
             (const float[]){ -1, 1, 3, -1, -1, 5, 7, -1 }, "3-D");
  check_pad (GRAFT_PAD_EDGE, 3, d222, cube, (const int64_t[]){ 0, 1, 0 },
             (const int64_t[]){ 0, 1, -1 }, -1,
             (const float[]){ 1, 1, 3, 3, 5, 5, 7, 7 }, "3-D edge");

  /* any element size: int32 reflect */
  const int32_t xi[4] = { 10, 20, 30, 40 };
  int32_t yi[6];
  const int64_t di[1] = { 4 }, bi[1] = { 1 }, oi[1] = { 6 };
  int32_t zero = 0;
  graft_pad_forward (yi, xi, sizeof (int32_t), &zero, GRAFT_PAD_REFLECT, 1, di,
                     bi, oi);
  const int32_t wi[6] = { 20, 10, 20, 30, 40, 30 };
  g_assert_cmpmem (yi, sizeof yi, wi, sizeof wi);
}

/* ---- op level: prepare / infer / forward ---- */

static GraftValueInfo
info (int ndim, const int64_t *dims)
{
  GraftValueInfo v = { .dtype = GRAFT_DTYPE_FLOAT };
  v.shape = graft_shape_make (ndim, dims);
  return v;
}

/* Runs prepare and infer; returns FALSE with error set at the first
 * failure. node->params is freed by the caller. */
static gboolean
op_infer (GraftNode *node,
          const TestNode *t,
          int64_t opset,
          int n_in,
          const GraftValueInfo *const *in,
          GraftValueInfo *out,
          GError **error)
{
  GraftValueInfo *outs[3] = { &out[0], &out[1], &out[2] };

  memset (node, 0, sizeof *node);
  node->name = (char *) "n";
  node->op_type = t->proto.op_type;
  node->def = graft_op_lookup (t->proto.op_type);
  g_assert_nonnull (node->def);
  node->n_inputs = n_in;
  node->n_outputs = (int) t->proto.n_outputs;
  if (!node->def->prepare (node, &t->proto, opset, error))
    return FALSE;
  return node->def->infer (node, in, (GraftValueInfo *const *) outs, error);
}

static void
expect_infer_error (const TestNode *t,
                    int64_t opset,
                    int n_in,
                    const GraftValueInfo *const *in,
                    int code,
                    const char *message)
{
  GraftNode node;
  GraftValueInfo out[3] = { { 0 } };
  g_autoptr (GError) error = NULL;

  g_assert_false (op_infer (&node, t, opset, n_in, in, out, &error));
  g_assert_error (error, GRAFT_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
  g_free (node.params);
}

static void
test_op_conv_errors (void)
{
  TestNode t;
  const int64_t xd[4] = { 1, 64, 8, 8 }, wd[4] = { 32, 64, 3, 3 };
  GraftValueInfo x = info (4, xd), w = info (4, wd);
  const GraftValueInfo *in[3] = { &x, &w, NULL };

  node_init (&t, "Conv", 1);
  node_ints (&t, "kernel_shape", 3, (const int64_t[]){ 3, 3, 3 });
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_INVALID,
                      "kernel_shape has 3 values but the input has 2 spatial "
                      "dims");

  node_init (&t, "Conv", 1);
  node_int (&t, "group", 3);
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_INVALID,
                      "group 3 does not divide 64 input channels");

  node_init (&t, "Conv", 1);
  node_int (&t, "group", 4);
  const int64_t wd16[4] = { 32, 8, 3, 3 };
  GraftValueInfo w16 = info (4, wd16);
  const GraftValueInfo *in16[3] = { &x, &w16, NULL };
  expect_infer_error (&t, 13, 2, in16, GRAFT_ERROR_INVALID,
                      "weight has 8 input channels per group, expected 16");

  node_init (&t, "Conv", 1);
  node_ints (&t, "pads", 2, (const int64_t[]){ 1, 1 });
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_INVALID,
                      "pads has 2 values, expected 4 for 2 spatial dims");

  node_init (&t, "Conv", 1);
  node_ints (&t, "strides", 2, (const int64_t[]){ 0, 1 });
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_INVALID,
                      "strides must be positive, got 0");

  node_init (&t, "Conv", 1);
  node_string (&t, "auto_pad", "SAME");
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_INVALID,
                      "auto_pad 'SAME' is not one of NOTSET, SAME_UPPER, "
                      "SAME_LOWER, VALID");

  node_init (&t, "Conv", 1);
  node_ints (&t, "kernel_shape", 2, (const int64_t[]){ 5, 5 });
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_INVALID,
                      "kernel_shape value 5 does not match the weight's 3 "
                      "along spatial axis 0");

  node_init (&t, "Conv", 1);
  const int64_t big[4] = { 32, 64, 9, 9 };
  GraftValueInfo wbig = info (4, big);
  const GraftValueInfo *inbig[3] = { &x, &wbig, NULL };
  expect_infer_error (&t, 13, 2, inbig, GRAFT_ERROR_INVALID,
                      "the window (size 9, dilation 1) does not fit spatial "
                      "axis 0 of size 8 padded by 0 and 0");

  node_init (&t, "Conv", 1);
  const int64_t bd[1] = { 31 };
  GraftValueInfo b = info (1, bd);
  const GraftValueInfo *inb[3] = { &x, &w, &b };
  expect_infer_error (&t, 13, 3, inb, GRAFT_ERROR_INVALID,
                      "bias has shape 31, expected 32 (the output channels)");

  node_init (&t, "Conv", 1);
  const int64_t x5[5] = { 1, 64, 4, 4, 4 }, w5[5] = { 8, 64, 3, 3, 3 };
  GraftValueInfo x3d = info (5, x5), w3d = info (5, w5);
  const GraftValueInfo *in3d[3] = { &x3d, &w3d, NULL };
  expect_infer_error (&t, 13, 2, in3d, GRAFT_ERROR_UNSUPPORTED,
                      "3-D convolution is not supported");

  node_init (&t, "Conv", 1);
  GraftValueInfo xi = x;
  xi.dtype = GRAFT_DTYPE_INT64;
  const GraftValueInfo *ini[3] = { &xi, &w, NULL };
  expect_infer_error (&t, 13, 2, ini, GRAFT_ERROR_UNSUPPORTED,
                      "the input is int64, only float32 is supported");
}

static void
test_op_conv_run (void)
{
  /* Conv 1-D through the op: (1, 2, 6) x (2, 1, 3) depthwise, SAME_UPPER,
   * stride 2 -> (1, 2, 3); then the same through the reference. */
  TestNode t;
  GraftNode node;
  GraftValueInfo out[3] = { { 0 } };
  g_autoptr (GError) error = NULL;
  const int64_t xd[3] = { 1, 2, 6 }, wd[3] = { 2, 1, 3 }, bd[1] = { 2 };
  GraftValueInfo x = info (3, xd), w = info (3, wd), b = info (1, bd);
  const GraftValueInfo *in[3] = { &x, &w, &b };

  node_init (&t, "Conv", 1);
  node_int (&t, "group", 2);
  node_ints (&t, "strides", 1, (const int64_t[]){ 2 });
  node_string (&t, "auto_pad", "SAME_UPPER");
  g_assert_true (op_infer (&node, &t, 13, 3, in, out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out[0].shape.ndim, ==, 3);
  g_assert_cmpint (out[0].shape.dims[1], ==, 2);
  g_assert_cmpint (out[0].shape.dims[2], ==, 3);

  g_autoptr (GraftTensor) tx = graft_tensor_new_float (&x.shape);
  g_autoptr (GraftTensor) tw = graft_tensor_new_float (&w.shape);
  g_autoptr (GraftTensor) tb = graft_tensor_new_float (&b.shape);
  g_autoptr (GraftTensor) ty = graft_tensor_new_float (&out[0].shape);
  float *px = tx->data, *pw = tw->data, *pb = tb->data;
  for (int i = 0; i < 12; i++)
    px[i] = (float) i;
  for (int i = 0; i < 6; i++)
    pw[i] = (float) (i + 1);
  pb[0] = 100, pb[1] = 200;

  const GraftTensor *tin[3] = { tx, tw, tb };
  GraftTensor *tout[1] = { ty };
  GraftWorkspace ws = { 0 };
  node.def->forward (&node, tin, tout, &ws);
  /* SAME_UPPER: total pad 1, at the end. Channel 0 (0..5, w 1 2 3):
   * windows [0 1 2] [2 3 4] [4 5 pad]; channel 1 (6..11, w 4 5 6). */
  const float want[6] = {
    100 + 0 + 2 + 6,    100 + 2 + 6 + 12,   100 + 4 + 10,
    200 + 24 + 35 + 48, 200 + 32 + 45 + 60, 200 + 40 + 55
  };
  assert_close (ty->data, want, 6, 1e-6, "conv op 1-D");
  graft_workspace_clear (&ws);
  g_free (node.params);
}

static void
test_op_pool (void)
{
  TestNode t;
  const int64_t xd[4] = { 1, 3, 8, 8 };
  GraftValueInfo x = info (4, xd);
  const GraftValueInfo *in[1] = { &x };
  GraftNode node;
  GraftValueInfo out[3] = { { 0 } };
  g_autoptr (GError) error = NULL;

  node_init (&t, "MaxPool", 1);
  expect_infer_error (&t, 12, 1, in, GRAFT_ERROR_INVALID,
                      "kernel_shape is required");

  node_init (&t, "MaxPool", 2);
  node_ints (&t, "kernel_shape", 2, (const int64_t[]){ 2, 2 });
  expect_infer_error (&t, 12, 1, in, GRAFT_ERROR_UNSUPPORTED,
                      "the Indices output of MaxPool is not supported");

  node_init (&t, "AveragePool", 1);
  node_ints (&t, "kernel_shape", 1, (const int64_t[]){ 2 });
  expect_infer_error (&t, 12, 1, in, GRAFT_ERROR_INVALID,
                      "kernel_shape has 1 values but the input has 2 spatial "
                      "dims");

  const int64_t x5[5] = { 1, 3, 4, 4, 4 };
  GraftValueInfo x3d = info (5, x5);
  const GraftValueInfo *in3d[1] = { &x3d };
  node_init (&t, "MaxPool", 1);
  node_ints (&t, "kernel_shape", 3, (const int64_t[]){ 2, 2, 2 });
  expect_infer_error (&t, 12, 1, in3d, GRAFT_ERROR_UNSUPPORTED,
                      "3-D pooling is not supported");

  /* a good one: 3x3 stride 2, trailing pads 2, ceil -> 4x4: ceil((8 + 2 -
   * 3) / 2) + 1 = 5, but the fifth window would start in the padding */
  node_init (&t, "MaxPool", 1);
  node_ints (&t, "kernel_shape", 2, (const int64_t[]){ 3, 3 });
  node_ints (&t, "strides", 2, (const int64_t[]){ 2, 2 });
  node_ints (&t, "pads", 4, (const int64_t[]){ 0, 0, 2, 2 });
  node_int (&t, "ceil_mode", 1);
  g_assert_true (op_infer (&node, &t, 12, 1, in, out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out[0].shape.dims[2], ==, 4);
  g_assert_cmpint (out[0].shape.dims[3], ==, 4);
  g_free (node.params);

  /* uint8 MaxPool runs through floats */
  node_init (&t, "MaxPool", 1);
  node_ints (&t, "kernel_shape", 2, (const int64_t[]){ 2, 2 });
  const int64_t ud[4] = { 1, 1, 2, 3 };
  GraftValueInfo xu = info (4, ud);
  xu.dtype = GRAFT_DTYPE_UINT8;
  const GraftValueInfo *inu[1] = { &xu };
  g_assert_true (op_infer (&node, &t, 12, 1, inu, out, &error));
  g_assert_cmpint (out[0].dtype, ==, GRAFT_DTYPE_UINT8);
  g_autoptr (GraftTensor) tx =
      graft_tensor_new (GRAFT_DTYPE_UINT8, &xu.shape, NULL);
  g_autoptr (GraftTensor) ty =
      graft_tensor_new (GRAFT_DTYPE_UINT8, &out[0].shape, NULL);
  memcpy (tx->data, (const guint8[]){ 1, 250, 3, 4, 5, 255 }, 6);
  const GraftTensor *tin[1] = { tx };
  GraftTensor *tout[1] = { ty };
  GraftWorkspace ws = { 0 };
  node.def->forward (&node, tin, tout, &ws);
  g_assert_cmpmem (ty->data, 2, ((const guint8[]){ 250, 255 }), 2);
  graft_workspace_clear (&ws);
  g_free (node.params);

  /* global pools keep the rank */
  node_init (&t, "GlobalAveragePool", 1);
  g_assert_true (op_infer (&node, &t, 12, 1, in, out, &error));
  g_assert_cmpint (out[0].shape.ndim, ==, 4);
  g_assert_cmpint (out[0].shape.dims[1], ==, 3);
  g_assert_cmpint (out[0].shape.dims[2], ==, 1);
  g_assert_cmpint (out[0].shape.dims[3], ==, 1);
  g_free (node.params);
}

static void
test_op_batchnorm (void)
{
  TestNode t;
  const int64_t xd[4] = { 2, 3, 4, 5 }, cd[1] = { 3 }, bad[1] = { 4 };
  GraftValueInfo x = info (4, xd), c = info (1, cd), wrong = info (1, bad);
  const GraftValueInfo *in[5] = { &x, &c, &c, &c, &wrong };

  node_init (&t, "BatchNormalization", 1);
  expect_infer_error (&t, 15, 5, in, GRAFT_ERROR_INVALID,
                      "var has shape 4, expected 3 (the channel count)");

  node_init (&t, "BatchNormalization", 3);
  const GraftValueInfo *good[5] = { &x, &c, &c, &c, &c };
  expect_infer_error (&t, 15, 5, good, GRAFT_ERROR_INVALID,
                      "running_mean and running_var outputs need "
                      "training_mode=1");

  node_init (&t, "BatchNormalization", 3);
  expect_infer_error (&t, 9, 5, good, GRAFT_ERROR_UNSUPPORTED,
                      "BatchNormalization training outputs before opset 14 "
                      "are not supported");

  /* training mode through the op: running stats from biased batch
   * variance, as ONNX's test_batchnorm_*_training_mode expect */
  GraftNode node;
  GraftValueInfo out[3] = { { 0 } };
  g_autoptr (GError) error = NULL;
  node_init (&t, "BatchNormalization", 3);
  node_int (&t, "training_mode", 1);
  g_assert_true (op_infer (&node, &t, 15, 5, good, out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out[1].shape.dims[0], ==, 3);

  GRand *rng = g_rand_new_with_seed (3);
  GraftTensor *tin[5], *tout[3];
  tin[0] = graft_tensor_new_float (&x.shape);
  for (int i = 1; i < 5; i++)
    tin[i] = graft_tensor_new_float (&c.shape);
  for (int i = 0; i < 3; i++)
    tout[i] = graft_tensor_new_float (&out[i].shape);
  float *px = tin[0]->data;
  for (int i = 0; i < 120; i++)
    px[i] = (float) g_rand_double_range (rng, -2, 2);
  for (int i = 1; i < 5; i++)
    for (int k = 0; k < 3; k++)
      ((float *) tin[i]->data)[k] = (float) g_rand_double_range (rng, 0.5, 1);
  GraftWorkspace ws = { 0 };
  node.def->forward (&node, (const GraftTensor *const *) tin, tout, &ws);
  for (int ch = 0; ch < 3; ch++)
    {
      double sum = 0, sq = 0;
      for (int n = 0; n < 2; n++)
        for (int s = 0; s < 20; s++)
          sum += px[(n * 3 + ch) * 20 + s];
      double m = sum / 40;
      for (int n = 0; n < 2; n++)
        for (int s = 0; s < 20; s++)
          sq += pow (px[(n * 3 + ch) * 20 + s] - m, 2);
      double rm = ((float *) tin[3]->data)[ch] * 0.9 + m * 0.1;
      double rv = ((float *) tin[4]->data)[ch] * 0.9 + sq / 40 * 0.1;
      g_assert_cmpfloat_with_epsilon (((float *) tout[1]->data)[ch], rm, 1e-5);
      g_assert_cmpfloat_with_epsilon (((float *) tout[2]->data)[ch], rv, 1e-5);
    }
  for (int i = 0; i < 5; i++)
    graft_tensor_free (tin[i]);
  for (int i = 0; i < 3; i++)
    graft_tensor_free (tout[i]);
  graft_workspace_clear (&ws);
  g_rand_free (rng);
  g_free (node.params);
}

static void
test_op_pad (void)
{
  TestNode t;
  const int64_t xd[2] = { 2, 3 }, pd[1] = { 4 };
  GraftValueInfo x = info (2, xd), pads = info (1, pd);
  const GraftValueInfo *in[2] = { &x, &pads };
  GraftNode node;
  GraftValueInfo out[3] = { { 0 } };
  g_autoptr (GError) error = NULL;

  pads.dtype = GRAFT_DTYPE_INT64;
  node_init (&t, "Pad", 1);
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_UNSUPPORTED,
                      "pads must be a constant (computed pads are not "
                      "supported)");

  g_autoptr (GraftTensor) tp =
      graft_tensor_new (GRAFT_DTYPE_INT64, &pads.shape, NULL);
  int64_t *pv = tp->data;
  pads.constant = tp;
  pv[0] = 0, pv[1] = -2, pv[2] = 0, pv[3] = -2; /* crops 4 of 3 columns */
  expect_infer_error (&t, 13, 2, in, GRAFT_ERROR_INVALID,
                      "pads -2 and -2 crop axis 1 of size 3 below zero");

  node_init (&t, "Pad", 1);
  node_string (&t, "mode", "wrap");
  expect_infer_error (&t, 19, 2, in, GRAFT_ERROR_UNSUPPORTED,
                      "Pad mode 'wrap' is not supported (constant, reflect, "
                      "edge are)");

  /* opset 2 attribute form needs 2 x rank values */
  node_init (&t, "Pad", 1);
  node_ints (&t, "pads", 2, (const int64_t[]){ 1, 1 });
  expect_infer_error (&t, 2, 1, in, GRAFT_ERROR_INVALID,
                      "pads has 2 values, expected 4 (2 per padded axis)");

  /* a good run: pads [1, 0, 0, 1], constant_value 7 */
  pv[0] = 1, pv[1] = 0, pv[2] = 0, pv[3] = 1;
  const int64_t none[1] = { 0 };
  GraftValueInfo value = info (0, none);
  const GraftValueInfo *in3[3] = { &x, &pads, &value };
  node_init (&t, "Pad", 1);
  g_assert_true (op_infer (&node, &t, 13, 3, in3, out, &error));
  g_assert_no_error (error);
  g_assert_cmpint (out[0].shape.dims[0], ==, 3);
  g_assert_cmpint (out[0].shape.dims[1], ==, 4);

  g_autoptr (GraftTensor) tx = graft_tensor_new_float (&x.shape);
  g_autoptr (GraftTensor) tv = graft_tensor_new_float (&value.shape);
  g_autoptr (GraftTensor) ty = graft_tensor_new_float (&out[0].shape);
  for (int i = 0; i < 6; i++)
    ((float *) tx->data)[i] = (float) (i + 1);
  *(float *) tv->data = 7;
  const GraftTensor *tin[3] = { tx, tp, tv };
  GraftTensor *tout[1] = { ty };
  GraftWorkspace ws = { 0 };
  node.def->forward (&node, tin, tout, &ws);
  assert_close (ty->data, (const float[]){ 7, 7, 7, 7, 1, 2, 3, 7, 4, 5, 6, 7 },
                12, 0, "pad op");
  g_free (node.params);
}

/* The depthwise 3x3 kernels on the shapes their paths split on: flat
 * stride 1 on small and wide planes, stride 2 by phase planes and by rows,
 * N = 1, channel multipliers, asymmetric pads, one and two threads. */
static void
test_conv_depthwise_shapes (void)
{
  GRand *rng = g_rand_new_with_seed (21);
  int saved = omp_get_max_threads ();

  for (int threads = 1; threads <= 2; threads++)
    {
      omp_set_num_threads (threads);
      for (size_t i = 0; i < n_depthwise_shape_cases; i++)
        {
          GraftConvGeometry g = depthwise_shape_cases[i];
          g_assert_true (conv_geometry_finish (&g));
          check_conv_geometry (rng, &g, i % 2 == 0);
        }
    }
  omp_set_num_threads (saved);
  g_rand_free (rng);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/spatial/window-arithmetic", test_window_arithmetic);
  g_test_add_func ("/spatial/conv/onnx-examples", test_conv_onnx_examples);
  g_test_add_func ("/spatial/conv/named-paths", test_conv_named_paths);
  g_test_add_func ("/spatial/conv/random", test_conv_random);
  g_test_add_func ("/spatial/conv/depthwise-shapes",
                   test_conv_depthwise_shapes);
  g_test_add_func ("/spatial/pool/hand-cases", test_pool_hand_cases);
  g_test_add_func ("/spatial/pool/random", test_pool_random);
  g_test_add_func ("/spatial/pool/global", test_global_pools);
  g_test_add_func ("/spatial/batchnorm", test_batchnorm);
  g_test_add_func ("/spatial/pad", test_pad);
  g_test_add_func ("/spatial/op/conv-errors", test_op_conv_errors);
  g_test_add_func ("/spatial/op/conv-run", test_op_conv_run);
  g_test_add_func ("/spatial/op/pool", test_op_pool);
  g_test_add_func ("/spatial/op/batchnorm", test_op_batchnorm);
  g_test_add_func ("/spatial/op/pad", test_op_pad);

  return g_test_run ();
}
