/* test-reuse-view.c: the feature-reuse view and the results page's "What
 * Training Changed" section.
 *
 * The view is drawn into image surfaces from hand-made blocks (kept,
 * adapted, rebuilt, frozen, a NaN CKA) and checked by pixel: each bar in
 * its reading's colour, as long as its CKA says on its track, nothing
 * outside the surface, no crash without blocks. The page then measures a
 * real fine-tune: mobilenet_v1_0.25_128 with only its last block trained a
 * few steps on tests/data/app-dataset, every earlier block frozen, so
 * those must come out CKA 1 and "frozen" and the last one changed. GTK
 * 4.8 needs a display to create widgets: without one the test runs itself
 * again under xvfb-run.
 */
#include "config.h"

#include "export.h"
#include "graft-results-page.h"
#include "graft-reuse-view.h"
#include "image.h"
#include "model-catalog.h"
#include "preprocess.h"
#include "train/trainer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

/* Adwaita's light window background, what the view is drawn over */
#define BG 0xfa
/* The measurement must finish within this on the test machine */
#define MEASURE_TIMEOUT_S 60

/* ---- drawing ------------------------------------------------------------- */

typedef struct
{
  const char *name;
  double cka;
  double weight_change;
  gboolean frozen;
} BlockSpec;

static const BlockSpec specs[] = {
  { "stem (conv 3×3)", 1.0, 0, TRUE },
  { "block 1", 0.95, 0.002, FALSE },
  { "block 2 with a long name that cannot fit its column at all", 0.7, 0.05,
    FALSE },
  { "block 3", 0.25, 0.4, FALSE },
  { "block 4", NAN, 0.01, FALSE },
};

static GraftReuseBlock *
make_blocks (int *n)
{
  GraftReuseBlock *blocks = g_new0 (GraftReuseBlock, G_N_ELEMENTS (specs));

  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      blocks[i].name = (char *) specs[i].name;
      blocks[i].cka = specs[i].cka;
      blocks[i].weight_change = specs[i].weight_change;
      blocks[i].unchanged = specs[i].frozen;
      blocks[i].reading = graft_reuse_reading_for_cka (specs[i].cka);
      blocks[i].params = 1000 * (i + 1);
    }
  *n = G_N_ELEMENTS (specs);
  return blocks;
}

static cairo_surface_t *
render (GraftReuseView *view, int width, int height, int margin)
{
  cairo_surface_t *surface = cairo_image_surface_create (
      CAIRO_FORMAT_ARGB32, width + 2 * margin, height + 2 * margin);
  cairo_t *cr = cairo_create (surface);

  cairo_translate (cr, margin, margin);
  graft_reuse_view_draw (view, cr, width, height);
  cairo_destroy (cr);
  cairo_surface_flush (surface);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  return surface;
}

/* The pixel at (x, y) composited over the light background, 0..255 */
static void
pixel_at (cairo_surface_t *surface, int x, int y, int rgb[3])
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  guint32 p = *(const guint32 *) (data + (gsize) y * stride + 4 * x);
  int a = p >> 24;

  /* Premultiplied: over a background, c + bg * (1 - a) */
  rgb[0] = (int) ((p >> 16) & 0xff) + BG * (255 - a) / 255;
  rgb[1] = (int) ((p >> 8) & 0xff) + BG * (255 - a) / 255;
  rgb[2] = (int) (p & 0xff) + BG * (255 - a) / 255;
}

static guint8
alpha_at (cairo_surface_t *surface, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);

  return *(const guint32 *) (data + (gsize) y * stride + 4 * x) >> 24;
}

static gboolean
is_color (const int rgb[3], const GdkRGBA *color)
{
  return abs (rgb[0] - (int) round (color->red * 255)) <= 6 &&
         abs (rgb[1] - (int) round (color->green * 255)) <= 6 &&
         abs (rgb[2] - (int) round (color->blue * 255)) <= 6;
}

/* How far from the track's start the colour runs along its middle. */
static double
bar_length (cairo_surface_t *surface,
            const graphene_rect_t *track,
            const GdkRGBA *color)
{
  int y = (int) (track->origin.y + track->size.height / 2);
  int x0 = (int) ceil (track->origin.x) + 1;
  int x = x0;
  int rgb[3];

  for (; x < cairo_image_surface_get_width (surface); x++)
    {
      pixel_at (surface, x, y, rgb);
      if (!is_color (rgb, color))
        break;
    }
  return x - track->origin.x;
}

static gboolean
color_anywhere_on (cairo_surface_t *surface,
                   const graphene_rect_t *track,
                   const GdkRGBA *color)
{
  int y = (int) (track->origin.y + track->size.height / 2);
  int rgb[3];

  for (int x = (int) track->origin.x;
       x < (int) (track->origin.x + track->size.width); x++)
    {
      pixel_at (surface, x, y, rgb);
      if (is_color (rgb, color))
        return TRUE;
    }
  return FALSE;
}

static GraftReuseView *
view_with_specs (void)
{
  GraftReuseView *view =
      g_object_ref_sink (GRAFT_REUSE_VIEW (graft_reuse_view_new ()));
  g_autofree GraftReuseBlock *blocks = NULL;
  int n;

  blocks = make_blocks (&n);
  graft_reuse_view_set_blocks (view, blocks, n);
  return view;
}

static void
test_view_bars (void)
{
  g_autoptr (GraftReuseView) view = view_with_specs ();
  int width = 640;
  int height = graft_reuse_view_get_height_for_width (view, width);
  cairo_surface_t *surface = render (view, width, height, 0);
  GdkRGBA kept, adapted, rebuilt;
  graphene_rect_t track;

  g_assert_cmpint (graft_reuse_view_get_n_blocks (view), ==,
                   G_N_ELEMENTS (specs));
  /* The copies are the view's own */
  g_assert_true (graft_reuse_view_get_block (view, 2)->name != specs[2].name);
  g_assert_cmpstr (graft_reuse_view_get_block (view, 2)->name, ==,
                   specs[2].name);
  graft_reuse_view_get_reading_color (GRAFT_REUSE_KEPT, &kept);
  graft_reuse_view_get_reading_color (GRAFT_REUSE_ADAPTED, &adapted);
  graft_reuse_view_get_reading_color (GRAFT_REUSE_REBUILT, &rebuilt);
  g_assert_false (gdk_rgba_equal (&kept, &adapted));
  g_assert_false (gdk_rgba_equal (&adapted, &rebuilt));

  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      GraftReuseReading reading = graft_reuse_reading_for_cka (specs[i].cka);
      GdkRGBA color;
      int y;

      g_assert_true (graft_reuse_view_get_track (view, (int) i, &track));
      g_assert_cmpfloat (track.size.width, >, width / 4.0);
      g_assert_cmpfloat (track.origin.x + track.size.width, <=, width);
      g_assert_cmpfloat (track.origin.y + track.size.height, <=, height);
      /* The row under the track's middle is this block's */
      y = (int) (track.origin.y + track.size.height / 2);
      g_assert_cmpint (graft_reuse_view_block_at (view, track.origin.x + 1, y),
                       ==, (int) i);
      if (isnan (specs[i].cka))
        {
          /* No bar at all, in any reading's colour */
          g_assert_false (color_anywhere_on (surface, &track, &kept));
          g_assert_false (color_anywhere_on (surface, &track, &adapted));
          g_assert_false (color_anywhere_on (surface, &track, &rebuilt));
          continue;
        }
      graft_reuse_view_get_reading_color (reading, &color);
      /* Proportional to the CKA, within the rounding of the ends */
      g_assert_cmpfloat_with_epsilon (bar_length (surface, &track, &color),
                                      specs[i].cka * track.size.width, 3.0);
      /* The other readings' colours are not on this row */
      if (reading != GRAFT_REUSE_KEPT)
        g_assert_false (color_anywhere_on (surface, &track, &kept));
      if (reading != GRAFT_REUSE_REBUILT)
        g_assert_false (color_anywhere_on (surface, &track, &rebuilt));
    }
  g_assert_cmpint (graft_reuse_view_block_at (view, 10, 1), ==, -1);
  g_assert_cmpint (graft_reuse_view_block_at (view, 10, height + 100), ==, -1);
  cairo_surface_destroy (surface);
}

/* Drawn at (0, 0, w, h) inside a larger surface: the margin stays empty,
 * at a comfortable size, a cramped one and a tiny one. */
static void
test_view_within_bounds (void)
{
  g_autoptr (GraftReuseView) view = view_with_specs ();
  const int sizes[][2] = { { 640, 0 }, { 200, 120 }, { 30, 12 } };
  const int margin = 16;

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      int w = sizes[s][0];
      int h = sizes[s][1] ? sizes[s][1]
                          : graft_reuse_view_get_height_for_width (view, w);
      cairo_surface_t *surface = render (view, w, h, margin);
      int W = w + 2 * margin, H = h + 2 * margin;
      gboolean inked = FALSE;

      for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
          {
            gboolean inside =
                x >= margin && x < margin + w && y >= margin && y < margin + h;
            if (!inside)
              g_assert_cmpint (alpha_at (surface, x, y), ==, 0);
            else
              inked |= alpha_at (surface, x, y) > 0;
          }
      g_assert_true (inked);
      cairo_surface_destroy (surface);
    }
}

static void
test_view_empty (void)
{
  g_autoptr (GraftReuseView) view =
      g_object_ref_sink (GRAFT_REUSE_VIEW (graft_reuse_view_new ()));
  g_autofree GraftReuseBlock *blocks = NULL;
  cairo_surface_t *surface;
  graphene_rect_t track;
  int n, with_blocks;

  g_assert_cmpint (graft_reuse_view_get_n_blocks (view), ==, 0);
  surface = render (view, 300, 80, 0);
  g_assert_false (graft_reuse_view_get_track (view, 0, &track));
  g_assert_cmpint (graft_reuse_view_block_at (view, 10, 40), ==, -1);
  cairo_surface_destroy (surface);
  /* Zero-size draws do nothing */
  surface = render (view, 0, 0, 1);
  cairo_surface_destroy (surface);

  /* More rows need more height; clearing returns to the empty view */
  blocks = make_blocks (&n);
  graft_reuse_view_set_blocks (view, blocks, 2);
  with_blocks = graft_reuse_view_get_height_for_width (view, 500);
  graft_reuse_view_set_blocks (view, blocks, n);
  g_assert_cmpint (graft_reuse_view_get_height_for_width (view, 500), >,
                   with_blocks);
  graft_reuse_view_set_blocks (view, NULL, 0);
  g_assert_cmpint (graft_reuse_view_get_n_blocks (view), ==, 0);
  surface = render (view, 300, 80, 0);
  g_assert_false (graft_reuse_view_get_track (view, 0, &track));
  cairo_surface_destroy (surface);
}

static void
count_notify (GObject *object, GParamSpec *pspec, int *count)
{
  (*count)++;
}

static void
test_view_properties (void)
{
  g_autoptr (GraftReuseView) view =
      g_object_ref_sink (GRAFT_REUSE_VIEW (graft_reuse_view_new ()));
  g_autofree GraftReuseBlock *blocks = NULL;
  g_autofree char *text = NULL, *default_text = NULL;
  int n, n_notify = 0, text_notify = 0, n_blocks = -1;

  g_signal_connect (view, "notify::n-blocks", G_CALLBACK (count_notify),
                    &n_notify);
  g_signal_connect (view, "notify::explanation", G_CALLBACK (count_notify),
                    &text_notify);
  blocks = make_blocks (&n);
  graft_reuse_view_set_blocks (view, blocks, n);
  graft_reuse_view_set_blocks (view, blocks, n);
  g_assert_cmpint (n_notify, ==, 1);
  g_object_get (view, "n-blocks", &n_blocks, "explanation", &default_text,
                NULL);
  g_assert_cmpint (n_blocks, ==, n);
  g_assert_nonnull (default_text);
  g_object_set (view, "explanation", "Hello", NULL);
  g_object_set (view, "explanation", "Hello", NULL);
  g_assert_cmpint (text_notify, ==, 1);
  g_object_get (view, "explanation", &text, NULL);
  g_assert_cmpstr (text, ==, "Hello");
  g_clear_pointer (&text, g_free);
  g_object_set (view, "explanation", NULL, NULL);
  g_object_get (view, "explanation", &text, NULL);
  g_assert_cmpstr (text, ==, default_text);
  g_assert_cmpint (text_notify, ==, 2);
}

/* ---- the results page ---------------------------------------------------- */

static const char *const photo_names[] = {
  "circles/circle-1.jpg",  "circles/circle-2.jpg",  "circles/circle-3.jpg",
  "circles/circle-4.jpg",  "circles/circle-5.jpg",  "circles/circle-6.jpg",
  "stripes/stripes-1.jpg", "stripes/stripes-2.jpg", "stripes/stripes-3.jpg",
  "stripes/stripes-4.jpg", "stripes/stripes-5.jpg", "stripes/stripes-6.jpg",
};

static char *base_path;

/* A result as the train page leaves one: the base's last block and a new
 * head trained a few steps, exported into the result's own folder. */
static GraftTrainResult *
make_result (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftGraph) base = NULL;
  g_autoptr (GraftTrainer) trainer = NULL;
  g_autofree float *images = NULL;
  GraftTrainResult *result = graft_train_result_new ();
  const char *classes[] = { "circles", "stripes", NULL };
  int n = G_N_ELEMENTS (photo_names);
  GraftTrainConfig config;
  size_t pixels;

  base = graft_graph_load (base_path, &error);
  g_assert_no_error (error);
  g_assert_true (
      graft_preprocess_from_model (&result->preprocess, base->model, &error));
  pixels = (size_t) 3 * result->preprocess.width * result->preprocess.height;
  images = g_new (float, n *pixels);
  result->n_val = n;
  result->val_paths = g_new0 (char *, n + 1);
  result->val_labels = g_new0 (int, n);
  result->val_predicted = g_new0 (int, n);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GraftImage) img = NULL;

      result->val_paths[i] = g_test_build_filename (
          G_TEST_DIST, "data", "app-dataset", photo_names[i], NULL);
      img = graft_image_load (result->val_paths[i],
                              graft_preprocess_min_side (&result->preprocess),
                              &error);
      g_assert_no_error (error);
      graft_preprocess_image (images + i * pixels, img, &result->preprocess);
      result->val_labels[i] = result->val_predicted[i] =
          g_str_has_prefix (photo_names[i], "stripes");
    }

  graft_train_config_init (&config);
  config.batch_size = 8;
  config.warmup_epochs = 0;
  config.keep_best = FALSE;
  config.seed = 5;
  trainer = graft_trainer_new (base, 2, &config, &error);
  g_assert_no_error (error);
  graft_train_config_clear (&config);
  graft_trainer_freeze_preset (trainer, GRAFT_FREEZE_LAST_BLOCKS, 1);
  for (int step = 0; step < 3; step++)
    {
      float loss;
      g_assert_true (graft_trainer_step (trainer, images, result->val_labels, n,
                                         0.5f, &loss, &error));
      g_assert_no_error (error);
    }

  result->classes = g_strdupv ((char **) classes);
  result->n_classes = 2;
  result->base_title = g_strdup ("MobileNet");
  result->metrics =
      graft_metrics_new (2, result->val_labels, result->val_predicted, n);
  result->val_accuracy = 1;
  result->dir = g_dir_make_tmp ("graft-reuse-view-XXXXXX", &error);
  g_assert_no_error (error);
  result->model_file = g_build_filename (result->dir, "model.onnx", NULL);
  g_assert_true (graft_export_classifier (graft_trainer_get_graph (trainer),
                                          classes, 2, &result->preprocess,
                                          FALSE, result->model_file, &error));
  g_assert_no_error (error);
  return result;
}

static void
wait_measured (GraftResultsPage *page)
{
  gint64 end = g_get_monotonic_time () + MEASURE_TIMEOUT_S * G_USEC_PER_SEC;

  while (graft_results_page_get_measuring (page) &&
         g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5000);
  g_assert_false (graft_results_page_get_measuring (page));
}

static void
spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (5000);
}

static GtkWidget *
reuse_group (GraftResultsPage *page)
{
  return gtk_widget_get_ancestor (
      GTK_WIDGET (graft_results_page_get_reuse_view (page)),
      ADW_TYPE_PREFERENCES_GROUP);
}

static void
test_page_measures (void)
{
  g_autoptr (GraftTrainResult) result = make_result ();
  GtkWidget *window = gtk_window_new ();
  GraftResultsPage *page = GRAFT_RESULTS_PAGE (graft_results_page_new ());
  GraftReuseView *view = graft_results_page_get_reuse_view (page);
  cairo_surface_t *surface;
  graphene_rect_t track;
  GdkRGBA kept;
  int n_blocks, rgb[3];
  gint64 started;

  gtk_window_set_default_size (GTK_WINDOW (window), 900, 700);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (window));

  /* Without the base model there is nothing to compare with: no section */
  graft_results_page_set_result (page, result);
  g_assert_false (graft_results_page_get_measuring (page));
  g_assert_false (gtk_widget_get_visible (reuse_group (page)));

  started = g_get_monotonic_time ();
  graft_results_page_set_base_model (page, base_path);
  g_assert_true (graft_results_page_get_measuring (page));
  g_assert_true (gtk_widget_get_visible (reuse_group (page)));
  wait_measured (page);
  g_test_message ("measured in %.1f s",
                  (g_get_monotonic_time () - started) / 1e6);
  g_assert_null (graft_results_page_get_reuse_error (page));

  /* Every block before the last frozen, so unchanged features; the last
   * one trained, so its weights moved */
  n_blocks = graft_reuse_view_get_n_blocks (view);
  g_assert_cmpint (n_blocks, >, 2);
  for (int b = 0; b < n_blocks; b++)
    {
      const GraftReuseBlock *block = graft_reuse_view_get_block (view, b);
      g_assert_true (isfinite (block->cka));
      if (b < n_blocks - 1)
        {
          g_assert_true (block->unchanged);
          g_assert_cmpfloat_with_epsilon (block->cka, 1.0, 1e-4);
          g_assert_cmpint (block->reading, ==, GRAFT_REUSE_KEPT);
        }
    }
  g_assert_false (graft_reuse_view_get_block (view, n_blocks - 1)->unchanged);
  g_assert_cmpfloat (
      graft_reuse_view_get_block (view, n_blocks - 1)->weight_change, >, 0);

  /* What the section shows draws the first block as kept, full length */
  surface =
      render (view, 700, graft_reuse_view_get_height_for_width (view, 700), 0);
  g_assert_true (graft_reuse_view_get_track (view, 0, &track));
  graft_reuse_view_get_reading_color (GRAFT_REUSE_KEPT, &kept);
  pixel_at (surface, (int) (track.origin.x + track.size.width - 4),
            (int) (track.origin.y + track.size.height / 2), rgb);
  g_assert_true (is_color (rgb, &kept));
  cairo_surface_destroy (surface);

  /* A base model that cannot be read: a message, not a crash */
  graft_results_page_set_base_model (page, "/nonexistent/model.onnx");
  g_assert_true (graft_results_page_get_measuring (page));
  wait_measured (page);
  g_assert_nonnull (graft_results_page_get_reuse_error (page));
  g_assert_cmpint (graft_reuse_view_get_n_blocks (view), ==, 0);

  /* A new result cancels the measurement under way; no result, none */
  graft_results_page_set_base_model (page, base_path);
  g_assert_true (graft_results_page_get_measuring (page));
  graft_results_page_set_result (page, result);
  g_assert_true (graft_results_page_get_measuring (page));
  graft_results_page_set_result (page, NULL);
  g_assert_false (graft_results_page_get_measuring (page));
  g_assert_false (gtk_widget_get_visible (reuse_group (page)));
  g_assert_cmpint (graft_reuse_view_get_n_blocks (view), ==, 0);

  /* Closing the window while it measures: the worker's end finds no page */
  graft_results_page_set_result (page, result);
  g_assert_true (graft_results_page_get_measuring (page));
  gtk_window_destroy (GTK_WINDOW (window));
  spin (3);
}

/* ---- main ---------------------------------------------------------------- */

/* Runs the test again under xvfb-run: GTK needs a display for widgets. */
static int
rerun_under_xvfb (int argc, char *argv[])
{
  g_autofree char *xvfb_run = g_find_program_in_path ("xvfb-run");
  g_autoptr (GPtrArray) args = g_ptr_array_new ();

  if (xvfb_run == NULL || g_getenv ("GRAFT_TEST_XVFB") != NULL)
    {
      g_printerr ("No display and no xvfb-run: skipping\n");
      return 77;
    }
  g_setenv ("GRAFT_TEST_XVFB", "1", TRUE);
  g_ptr_array_add (args, xvfb_run);
  g_ptr_array_add (args, "-a");
  for (int i = 0; i < argc; i++)
    g_ptr_array_add (args, argv[i]);
  g_ptr_array_add (args, NULL);
  execv (xvfb_run, (char **) args->pdata);
  g_printerr ("Could not run xvfb-run: %s\n", g_strerror (errno));
  return 1;
}

int
main (int argc, char *argv[])
{
  g_autoptr (GError) error = NULL;
  int status;

  /* No session bus under xvfb-run: keep accessibility and settings off
   * D-Bus, whose absence GTK reports as (fatal) warnings. */
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  if (!gtk_init_check ())
    return rerun_under_xvfb (argc, argv);
  adw_init ();
  g_test_init (&argc, &argv, NULL);

  base_path = graft_catalog_resolve ("mobilenet_v1_0.25_128", &error);
  g_assert_no_error (error);

  g_test_add_func ("/reuse-view/bars", test_view_bars);
  g_test_add_func ("/reuse-view/within-bounds", test_view_within_bounds);
  g_test_add_func ("/reuse-view/empty", test_view_empty);
  g_test_add_func ("/reuse-view/properties", test_view_properties);
  g_test_add_func ("/reuse-view/results-page", test_page_measures);
  status = g_test_run ();
  g_free (base_path);
  return status;
}
