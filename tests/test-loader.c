/* test-loader.c: the threaded, caching loader and its augmentations.
 * Photos: tests/data/datasets/pets (JPEG and PNG, 16 to 240 pixels). A
 * 32x32 input keeps the tests fast while every path runs: JPEG DCT
 * scaling (240x180 at min_side 37), shrinking for the cache, photos
 * smaller than the input. */
#include "augment.h"
#include "graft-error.h"
#include "loader.h"

#include <math.h>
#include <string.h>

#define SIDE 32
#define PLANE (SIDE * SIDE)
#define ITEM (3 * PLANE)

static const char *const photo_names[] = {
  "cats/cat01.jpg", "cats/cat02.jpg", "cats/cat03.jpg",  "cats/cat04.jpg",
  "cats/cat05.jpg", "cats/cat06.jpg", "dogs/dog01.png",  "dogs/dog02.png",
  "dogs/dog03.png", "dogs/dog12.jpg", "birds/bird1.jpg", "birds/tiny.png",
};
#define N_PHOTOS ((int) G_N_ELEMENTS (photo_names))

static GPtrArray *
photo_paths (void)
{
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  for (int i = 0; i < N_PHOTOS; i++)
    g_ptr_array_add (paths,
                     g_test_build_filename (G_TEST_DIST, "data", "datasets",
                                            "pets", photo_names[i], NULL));
  g_ptr_array_add (paths, NULL);
  return paths;
}

static void
small_preprocess (GraftPreprocess *pp)
{
  graft_preprocess_init_imagenet (pp);
  pp->width = pp->height = SIDE;
}

static GraftLoader *
new_loader (GPtrArray *paths,
            gboolean augment_enabled,
            int threads,
            size_t budget)
{
  GraftPreprocess pp;
  GraftAugment augment;

  small_preprocess (&pp);
  graft_augment_init_default (&augment);
  augment.enabled = augment_enabled;
  return graft_loader_new ((const char *const *) paths->pdata, N_PHOTOS, &pp,
                           &augment, threads, budget);
}

static float *
load_all (GraftLoader *loader, gboolean augment, guint64 seed)
{
  g_autoptr (GError) error = NULL;
  float *out = g_new (float, (size_t) N_PHOTOS *ITEM);
  int indices[N_PHOTOS];

  /* two batches, in an order other than the items' */
  for (int i = 0; i < N_PHOTOS; i++)
    indices[i] = N_PHOTOS - 1 - i;
  g_assert_true (
      graft_loader_load (loader, indices, 5, augment, seed, out, &error));
  g_assert_no_error (error);
  g_assert_true (graft_loader_load (loader, indices + 5, N_PHOTOS - 5, augment,
                                    seed, out + (size_t) 5 * ITEM, &error));
  g_assert_no_error (error);
  return out;
}

/* out of load_all, item i's slice */
static const float *
item_of (const float *all, int i)
{
  return all + (size_t) (N_PHOTOS - 1 - i) * ITEM;
}

/* ---- un-augmented output is the classifier's preprocessing
 * ---------------------- */

static void
test_unaugmented_exact (void)
{
  g_autoptr (GPtrArray) paths = photo_paths ();
  g_autoptr (GraftLoader) loader = new_loader (paths, TRUE, 2, 64 << 20);
  g_autoptr (GraftLoader) plain = new_loader (paths, FALSE, 2, 64 << 20);
  g_autofree float *cold = load_all (loader, FALSE, 1);
  g_autofree float *warm = NULL;
  g_autofree float *not_enabled = load_all (plain, TRUE, 1);
  g_autofree float *expected = g_new (float, ITEM);
  GraftLoaderStats stats;
  GraftPreprocess pp;

  small_preprocess (&pp);
  for (int i = 0; i < N_PHOTOS; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GraftImage) img = graft_image_load (
          paths->pdata[i], graft_preprocess_min_side (&pp), &error);
      g_assert_no_error (error);
      graft_preprocess_image (expected, img, &pp);
      g_assert_cmpmem (item_of (cold, i), ITEM * sizeof (float), expected,
                       ITEM * sizeof (float));
      /* augment requested, but the loader's augmentation is off */
      g_assert_cmpmem (item_of (not_enabled, i), ITEM * sizeof (float),
                       expected, ITEM * sizeof (float));
    }
  graft_loader_get_stats (loader, &stats);
  g_assert_cmpint (stats.decodes, ==, N_PHOTOS);
  g_assert_cmpint (stats.cached_items, ==, N_PHOTOS);
  g_assert_cmpuint (stats.cached_bytes, ==,
                    (size_t) N_PHOTOS * ITEM * sizeof (float));

  /* the second epoch comes from the cache, unchanged */
  warm = load_all (loader, FALSE, 2);
  g_assert_cmpmem (warm, (size_t) N_PHOTOS * ITEM * sizeof (float), cold,
                   (size_t) N_PHOTOS * ITEM * sizeof (float));
  graft_loader_get_stats (loader, &stats);
  g_assert_cmpint (stats.decodes, ==, N_PHOTOS);
}

/* ---- augmentation: per seed and item, whatever the threads and cache
 * ------------- */

static int
count_differing_items (const float *a, const float *b)
{
  int n = 0;
  for (int i = 0; i < N_PHOTOS; i++)
    n += memcmp (a + (size_t) i * ITEM, b + (size_t) i * ITEM,
                 ITEM * sizeof (float)) != 0;
  return n;
}

static void
test_augment_deterministic (void)
{
  g_autoptr (GPtrArray) paths = photo_paths ();
  g_autoptr (GraftLoader) one = new_loader (paths, TRUE, 1, 64 << 20);
  g_autoptr (GraftLoader) four = new_loader (paths, TRUE, 4, 0); /* no cache */
  g_autofree float *a = load_all (one, TRUE, 7);
  g_autofree float *a_cached = load_all (one, TRUE, 7);
  g_autofree float *b = load_all (four, TRUE, 7);
  g_autofree float *other_seed = load_all (one, TRUE, 8);
  g_autofree float *plain_one = load_all (one, FALSE, 7);
  g_autofree float *plain_four = load_all (four, FALSE, 7);
  size_t bytes = (size_t) N_PHOTOS * ITEM * sizeof (float);
  GraftLoaderStats stats;

  g_assert_cmpmem (a, bytes, a_cached, bytes);
  g_assert_cmpmem (a, bytes, b, bytes); /* 1 thread == 4 threads, bit for bit */
  g_assert_cmpmem (plain_one, bytes, plain_four, bytes);
  g_assert_cmpint (count_differing_items (a, other_seed), ==, N_PHOTOS);
  g_assert_cmpint (count_differing_items (a, plain_one), ==, N_PHOTOS);

  /* the cache made the second and third epochs free; no cache, no reuse */
  graft_loader_get_stats (one, &stats);
  g_assert_cmpint (stats.decodes, ==,
                   2 * N_PHOTOS); /* image + tensor entries */
  graft_loader_get_stats (four, &stats);
  g_assert_cmpint (stats.decodes, ==, 2 * N_PHOTOS);
  g_assert_cmpuint (stats.cached_bytes, ==, 0);

  /* normalized values of photos stay in the normalized 0..255 range */
  for (size_t i = 0; i < (size_t) N_PHOTOS * ITEM; i++)
    g_assert_true (a[i] >= -2.2f && a[i] <= 2.7f);
}

/* ---- errors
 * ----------------------------------------------------------------------------
 */

static void
test_corrupt_in_batch (void)
{
  g_autofree char *good1 = g_test_build_filename (
      G_TEST_DIST, "data", "datasets", "pets", "cats", "cat01.jpg", NULL);
  g_autofree char *bad = g_test_build_filename (
      G_TEST_DIST, "data", "datasets", "pets", "birds", "cut-short.jpg", NULL);
  g_autofree char *good2 = g_test_build_filename (
      G_TEST_DIST, "data", "datasets", "pets", "dogs", "dog01.png", NULL);
  const char *paths[] = { good1, bad, good2, "/nonexistent/graft/x.jpg" };
  g_autoptr (GraftLoader) loader = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *out = g_new (float, 4 * ITEM);
  GraftPreprocess pp;
  GraftAugment augment;
  int all[] = { 0, 1, 2 }, fine[] = { 0, 2 }, missing[] = { 3 },
      wrong[] = { 4 };

  small_preprocess (&pp);
  graft_augment_init_default (&augment);
  loader = graft_loader_new (paths, 4, &pp, &augment, 2, 1 << 20);
  for (int augmented = 0; augmented < 2; augmented++)
    {
      g_assert_false (
          graft_loader_load (loader, all, 3, augmented, 0, out, &error));
      g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, "cut-short.jpg"));
      g_clear_error (&error);
    }
  g_assert_true (graft_loader_load (loader, fine, 2, TRUE, 0, out, &error));
  g_assert_no_error (error);
  g_assert_false (
      graft_loader_load (loader, missing, 1, FALSE, 0, out, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/nonexistent/graft/x.jpg"));
  g_clear_error (&error);
  g_assert_false (graft_loader_load (loader, wrong, 1, FALSE, 0, out, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
}

/* ---- the cache budget
 * -------------------------------------------------------------------- */

static void
test_cache_budget (void)
{
  g_autoptr (GPtrArray) paths = photo_paths ();
  size_t entry = ITEM * sizeof (float); /* an un-augmented entry */
  /* One worker: which three entries stay cached depends on the order in
   * which a batch's photos finish, and with two workers that order varies. */
  g_autoptr (GraftLoader) loader = new_loader (paths, TRUE, 1, 3 * entry + 100);
  g_autofree float *out = g_new (float, (size_t) N_PHOTOS *ITEM);
  g_autoptr (GError) error = NULL;
  GraftLoaderStats stats;
  int indices[N_PHOTOS], last3[] = { N_PHOTOS - 3, N_PHOTOS - 2, N_PHOTOS - 1 },
                         first[] = { 0 };

  for (int i = 0; i < N_PHOTOS; i++)
    indices[i] = i;
  for (int b = 0; b < N_PHOTOS; b += 4)
    {
      g_assert_true (
          graft_loader_load (loader, indices + b, 4, FALSE, 0, out, &error));
      graft_loader_get_stats (loader, &stats);
      g_assert_cmpuint (stats.cached_bytes, <=, 3 * entry + 100);
    }
  g_assert_cmpint (stats.cached_items, ==, 3);
  g_assert_cmpint (stats.decodes, ==, N_PHOTOS);
  /* the last three are the ones kept */
  g_assert_true (graft_loader_load (loader, last3, 3, FALSE, 0, out, &error));
  graft_loader_get_stats (loader, &stats);
  g_assert_cmpint (stats.decodes, ==, N_PHOTOS);
  g_assert_true (graft_loader_load (loader, first, 1, FALSE, 0, out, &error));
  graft_loader_get_stats (loader, &stats);
  g_assert_cmpint (stats.decodes, ==, N_PHOTOS + 1);

  /* augmented entries (small RGB copies) share the same budget */
  for (int b = 0; b < N_PHOTOS; b += 4)
    {
      g_assert_true (
          graft_loader_load (loader, indices + b, 4, TRUE, 0, out, &error));
      graft_loader_get_stats (loader, &stats);
      g_assert_cmpuint (stats.cached_bytes, <=, 3 * entry + 100);
    }
  g_assert_no_error (error);
}

static void
test_prefetch (void)
{
  g_autoptr (GPtrArray) paths = photo_paths ();
  g_autoptr (GraftLoader) loader = new_loader (paths, TRUE, 2, 64 << 20);
  g_autoptr (GraftLoader) reference = new_loader (paths, TRUE, 1, 0);
  g_autoptr (GError) error = NULL;
  g_autofree float *a = g_new (float, 6 * ITEM);
  g_autofree float *b = g_new (float, 6 * ITEM);
  int indices[] = { 0, 3, 6, 9, 10, 11 };
  GraftLoaderStats stats;

  graft_loader_prefetch (loader, indices, 6);
  graft_loader_prefetch (loader, indices, 6); /* again: nothing more to do */
  g_assert_true (graft_loader_load (loader, indices, 6, TRUE, 3, a, &error));
  g_assert_true (graft_loader_load (reference, indices, 6, TRUE, 3, b, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (a, 6 * ITEM * sizeof (float), b, 6 * ITEM * sizeof (float));
  /* each photo decoded once, by the prefetch or the load, never both */
  graft_loader_get_stats (loader, &stats);
  g_assert_cmpint (stats.decodes, ==, 6);
}

/* ---- the augmentation math
 * --------------------------------------------------------------- */

static GraftImage *
load_photo (const char *name)
{
  g_autofree char *path = g_test_build_filename (
      G_TEST_DIST, "data", "datasets", "pets", name, NULL);
  g_autoptr (GError) error = NULL;
  GraftImage *img = graft_image_load (path, 0, &error);
  g_assert_no_error (error);
  return img;
}

static void
test_identity_and_flip (void)
{
  g_autoptr (GraftImage) img = load_photo ("cats/cat01.jpg");
  g_autofree float *expected = g_new (float, ITEM);
  g_autofree float *out = g_new (float, ITEM);
  GraftPreprocess pp;
  GraftAugmentParams params;

  small_preprocess (&pp);
  graft_preprocess_image (expected, img, &pp);
  graft_augment_params_identity (&params, &pp, img->width, img->height);
  graft_augment_apply (out, img, &pp, &params);
  g_assert_cmpmem (out, ITEM * sizeof (float), expected, ITEM * sizeof (float));

  params.flip = TRUE;
  graft_augment_apply (out, img, &pp, &params);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++)
        g_assert_cmpfloat (out[c * PLANE + y * SIDE + x], ==,
                           expected[c * PLANE + y * SIDE + SIDE - 1 - x]);
}

/* A quarter turn of a square crop is the un-turned output turned, away
 * from the border: the rotation's geometry and direction. */
static void
test_rotation (void)
{
  g_autoptr (GraftImage) img = load_photo ("cats/cat02.jpg");
  g_autofree float *straight = g_new (float, ITEM);
  g_autofree float *turned = g_new (float, ITEM);
  GraftPreprocess pp;
  GraftAugmentParams params;
  double max_diff = 0.0, sum_small = 0.0;

  small_preprocess (&pp);
  graft_augment_params_identity (&params, &pp, img->width, img->height);
  graft_augment_apply (straight, img, &pp, &params);
  params.angle = G_PI / 2;
  graft_augment_apply (turned, img, &pp, &params);
  for (int c = 0; c < 3; c++)
    for (int y = 1; y < SIDE - 1; y++)
      for (int x = 1; x < SIDE - 1; x++)
        {
          double d = fabs (turned[c * PLANE + y * SIDE + x] -
                           straight[c * PLANE + (SIDE - 1 - x) * SIDE + y]);
          max_diff = MAX (max_diff, d);
        }
  g_assert_cmpfloat (max_diff, <, 1e-3);

  /* a small angle changes the picture a little, the center least */
  params.angle = 5.0 * G_PI / 180.0;
  graft_augment_apply (turned, img, &pp, &params);
  for (int i = 0; i < ITEM; i++)
    sum_small += fabs (turned[i] - straight[i]);
  g_assert_cmpfloat (sum_small, >, 0.0);
  g_assert_cmpfloat (fabs (turned[(SIDE / 2) * SIDE + SIDE / 2] -
                           straight[(SIDE / 2) * SIDE + SIDE / 2]),
                     <, 0.3);
}

static double
mean_of (const float *v, int n)
{
  double s = 0.0;
  for (int i = 0; i < n; i++)
    s += v[i];
  return s / n;
}

static double
channel_spread (const float *v)
{
  /* mean absolute difference between channels: zero for gray */
  double s = 0.0;
  for (int i = 0; i < PLANE; i++)
    s += fabs (v[i] - v[PLANE + i]) + fabs (v[PLANE + i] - v[2 * PLANE + i]);
  return s / PLANE;
}

static void
test_color_jitter (void)
{
  g_autoptr (GraftImage) img = load_photo ("cats/cat03.jpg");
  g_autofree float *base = g_new (float, ITEM);
  g_autofree float *out = g_new (float, ITEM);
  GraftPreprocess pp;
  GraftAugmentParams params;

  /* mean 0, std 1 on the 0..1 scale: outputs are p / 255 */
  small_preprocess (&pp);
  for (int c = 0; c < 3; c++)
    {
      pp.mean[c] = 0.f;
      pp.std[c] = 1.f;
    }
  graft_augment_params_identity (&params, &pp, img->width, img->height);
  graft_augment_apply (base, img, &pp, &params);

  params.brightness = 0.5;
  graft_augment_apply (out, img, &pp, &params);
  g_assert_cmpfloat (fabs (mean_of (out, ITEM) - 0.5 * mean_of (base, ITEM)), <,
                     1e-4);

  params.brightness = 1.0;
  params.saturation = 0.0; /* gray */
  graft_augment_apply (out, img, &pp, &params);
  g_assert_cmpfloat (channel_spread (base), >, 0.01);
  g_assert_cmpfloat (channel_spread (out), <, 1e-5);

  params.saturation = 1.0;
  params.contrast = 0.0; /* the mean gray everywhere */
  graft_augment_apply (out, img, &pp, &params);
  for (int i = 1; i < ITEM; i++)
    g_assert_cmpfloat (fabs (out[i] - out[0]), <, 1e-5);
}

static void
test_sample_ranges (void)
{
  GraftAugment augment;
  gboolean flips[2] = { FALSE, FALSE };
  double min_fraction = 1.0;

  graft_augment_init_default (&augment);
  g_assert_true (augment.enabled);
  g_assert_cmpfloat (augment.min_crop_area, ==, 0.35);
  for (guint64 seed = 0; seed < 2000; seed++)
    {
      GraftAugmentParams p, again;
      int w = seed % 3 == 0 ? 300 : 200, h = seed % 3 == 1 ? 90 : 150;
      double ratio, fraction;

      graft_augment_sample (&p, &augment, w, h, seed * 7919);
      graft_augment_sample (&again, &augment, w, h, seed * 7919);
      g_assert_cmpmem (&p, sizeof p, &again, sizeof again);
      g_assert_cmpfloat (p.x0, >=, 0.0);
      g_assert_cmpfloat (p.y0, >=, 0.0);
      g_assert_cmpfloat (p.x0 + p.w, <=, w + 1e-9);
      g_assert_cmpfloat (p.y0 + p.h, <=, h + 1e-9);
      ratio = p.w / p.h;
      g_assert_cmpfloat (ratio, >=, 0.75 - 1e-9);
      g_assert_cmpfloat (ratio, <=, 4.0 / 3.0 + 1e-9);
      fraction = p.w * p.h / (w * h);
      g_assert_cmpfloat (fraction, <=, 1.0 + 1e-9);
      /* RandomResizedCrop's fallback (the whole image at an allowed ratio)
       * is the only way below min_crop_area */
      if (fraction < 0.35)
        g_assert_cmpfloat (fabs (p.x0 + p.w / 2 - w / 2.0) +
                               fabs (p.y0 + p.h / 2 - h / 2.0),
                           <, 1e-9);
      min_fraction = MIN (min_fraction, fraction);
      g_assert_cmpfloat (fabs (p.angle), <=, 10.0 * G_PI / 180.0);
      g_assert_cmpfloat (p.brightness, >=, 0.8);
      g_assert_cmpfloat (p.brightness, <=, 1.2);
      g_assert_cmpfloat (p.contrast, >=, 0.8);
      g_assert_cmpfloat (p.saturation, <=, 1.2);
      flips[p.flip] = TRUE;
    }
  g_assert_true (flips[0] && flips[1]);
  g_assert_cmpfloat (min_fraction, <, 0.4); /* the range is used */

  /* everything off: no flip, no turn, no color change */
  augment.flip = FALSE;
  augment.rotate_degrees = augment.brightness = augment.contrast =
      augment.saturation = 0;
  for (guint64 seed = 0; seed < 50; seed++)
    {
      GraftAugmentParams p;
      graft_augment_sample (&p, &augment, 100, 80, seed);
      g_assert_false (p.flip);
      g_assert_cmpfloat (p.angle, ==, 0.0);
      g_assert_cmpfloat (p.brightness, ==, 1.0);
      g_assert_cmpfloat (p.contrast, ==, 1.0);
      g_assert_cmpfloat (p.saturation, ==, 1.0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/loader/unaugmented-exact", test_unaugmented_exact);
  g_test_add_func ("/loader/augment-deterministic", test_augment_deterministic);
  g_test_add_func ("/loader/corrupt-in-batch", test_corrupt_in_batch);
  g_test_add_func ("/loader/cache-budget", test_cache_budget);
  g_test_add_func ("/loader/prefetch", test_prefetch);
  g_test_add_func ("/augment/identity-and-flip", test_identity_and_flip);
  g_test_add_func ("/augment/rotation", test_rotation);
  g_test_add_func ("/augment/color-jitter", test_color_jitter);
  g_test_add_func ("/augment/sample-ranges", test_sample_ranges);
  return g_test_run ();
}
