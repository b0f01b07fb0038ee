/* test-drawing.c: the Cairo-drawn chart and confusion matrix, rendered
 * into image surfaces and checked pixel by pixel.
 *
 * GTK 4.8 cannot create a widget without a display (gtk_widget_init
 * crashes), so without one the test runs itself again under xvfb-run.
 * The drawing itself never touches the display: it goes to an image.
 * With GRAFT_DRAWING_PNG_DIR set, the images are also written there to be
 * looked at.
 */
#include "config.h"

#include "graft-chart.h"
#include "graft-confusion-view.h"

#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

/* Adwaita's light window background, what the widgets are drawn over */
#define BG_R 0xfa
#define BG_G 0xfa
#define BG_B 0xfa

static char *png_dir;

typedef struct
{
  int r, g, b;
} Rgb;

static const Rgb blue_3 = { 0x35, 0x84, 0xe4 };
static const Rgb orange_3 = { 0xff, 0x78, 0x00 };

static cairo_surface_t *
new_canvas (int width, int height, cairo_t **cr)
{
  cairo_surface_t *surface =
      cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);

  *cr = cairo_create (surface);
  cairo_set_source_rgb (*cr, BG_R / 255., BG_G / 255., BG_B / 255.);
  cairo_paint (*cr);
  return surface;
}

static void
save_png (cairo_surface_t *surface, const char *name)
{
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  g_autofree char *path = g_build_filename (png_dir, file, NULL);
  const char *user_dir = g_getenv ("GRAFT_DRAWING_PNG_DIR");

  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==,
                   CAIRO_STATUS_SUCCESS);
  if (user_dir != NULL && *user_dir != '\0')
    {
      g_autofree char *user_path = g_build_filename (user_dir, file, NULL);

      g_mkdir_with_parents (user_dir, 0755);
      g_assert_cmpint (cairo_surface_write_to_png (surface, user_path), ==,
                       CAIRO_STATUS_SUCCESS);
    }
}

static Rgb
pixel (cairo_surface_t *surface, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  guint32 argb;

  cairo_surface_flush (surface);
  g_assert_true (x >= 0 && x < cairo_image_surface_get_width (surface));
  g_assert_true (y >= 0 && y < cairo_image_surface_get_height (surface));
  argb = *(const guint32 *) (data + (gsize) y * stride + (gsize) x * 4);
  /* Opaque, since the canvas was painted first: no unpremultiplying */
  return (Rgb){ (argb >> 16) & 0xff, (argb >> 8) & 0xff, argb & 0xff };
}

static gboolean
near_color (Rgb a, Rgb b, int tolerance)
{
  return abs (a.r - b.r) <= tolerance && abs (a.g - b.g) <= tolerance &&
         abs (a.b - b.b) <= tolerance;
}

static gboolean
is_background (Rgb c)
{
  return near_color (c, (Rgb){ BG_R, BG_G, BG_B }, 2);
}

static double
luminance (Rgb c)
{
  return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b;
}

/* Pixels in the rectangle that are not background */
static int
count_ink (cairo_surface_t *surface, int x0, int y0, int x1, int y1)
{
  int n = 0;

  for (int y = MAX (y0, 0); y < y1; y++)
    for (int x = MAX (x0, 0); x < x1; x++)
      n += !is_background (pixel (surface, x, y));
  return n;
}

static int
count_color (cairo_surface_t *surface,
             Rgb color,
             int tolerance,
             int x0,
             int y0,
             int x1,
             int y1)
{
  int n = 0;

  for (int y = MAX (y0, 0); y < y1; y++)
    for (int x = MAX (x0, 0); x < x1; x++)
      n += near_color (pixel (surface, x, y), color, tolerance);
  return n;
}

/* The mean row of a color's pixels in column x below the legend (y 30),
 * or -1 without any. */
static double
color_row_in_column (cairo_surface_t *surface, Rgb color, int x)
{
  int height = cairo_image_surface_get_height (surface);
  double sum = 0;
  int n = 0;

  for (int y = 30; y < height; y++)
    if (near_color (pixel (surface, x, y), color, 30))
      {
        sum += y;
        n++;
      }
  return n > 0 ? sum / n : -1;
}

static GraftChart *
new_chart (void)
{
  return g_object_ref_sink (GRAFT_CHART (graft_chart_new ()));
}

static GraftConfusionView *
new_confusion_view (void)
{
  return g_object_ref_sink (GRAFT_CONFUSION_VIEW (graft_confusion_view_new ()));
}

/* ---- chart --------------------------------------------------------------- */

static void
test_chart_empty (void)
{
  g_autoptr (GraftChart) chart = new_chart ();
  cairo_t *cr;
  cairo_surface_t *surface = new_canvas (400, 300, &cr);

  graft_chart_draw (chart, cr, 400, 300);
  save_png (surface, "chart-empty");
  /* The empty text across the middle, nothing else */
  g_assert_cmpint (count_ink (surface, 0, 130, 400, 170), >, 50);
  g_assert_cmpint (count_ink (surface, 0, 0, 400, 120), ==, 0);
  g_assert_cmpint (count_ink (surface, 0, 180, 400, 300), ==, 0);

  /* Series without points are still empty */
  graft_chart_add_series (chart, "Training loss", GRAFT_CHART_SERIES_SOLID);
  cairo_set_source_rgb (cr, BG_R / 255., BG_G / 255., BG_B / 255.);
  cairo_paint (cr);
  graft_chart_draw (chart, cr, 400, 300);
  g_assert_cmpint (count_ink (surface, 0, 0, 400, 120), ==, 0);

  /* A size of nothing draws nothing and does not crash */
  graft_chart_draw (chart, cr, 0, 0);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* A straight accuracy line from (0, 0%) to (10, 100%) and per-epoch
 * validation markers: the markers must land where the line's own ends say
 * the axes are. */
static void
test_chart_points_map (void)
{
  const int width = 600, height = 400;
  g_autoptr (GraftChart) chart = new_chart ();
  const double val[] = { 0.3, 0.55, 0.5, 0.8, 0.7 };
  cairo_t *cr;
  cairo_surface_t *surface = new_canvas (width, height, &cr);
  int train, valid, left = -1, right = -1;
  double bottom, top;

  graft_chart_set_percent (chart, TRUE);
  graft_chart_set_y_title (chart, "Accuracy");
  train = graft_chart_add_series (chart, "Training accuracy",
                                  GRAFT_CHART_SERIES_SOLID);
  valid = graft_chart_add_series (chart, "Validation accuracy",
                                  GRAFT_CHART_SERIES_DASHED |
                                      GRAFT_CHART_SERIES_MARKERS);
  for (int i = 0; i <= 1000; i++)
    graft_chart_add_point (chart, train, i / 100.0, i / 1000.0);
  for (int e = 0; e < 5; e++)
    graft_chart_add_point (chart, valid, 2.0 * (e + 1), val[e]);
  g_assert_cmpuint (graft_chart_get_n_points (chart, train), ==, 1001);
  g_assert_cmpuint (graft_chart_get_n_points (chart, valid), ==, 5);

  graft_chart_draw (chart, cr, width, height);
  save_png (surface, "chart-accuracy");

  /* The blue line's extent below the legend gives the plot's corners */
  for (int x = 0; x < width; x++)
    if (color_row_in_column (surface, blue_3, x) > 0)
      {
        if (left < 0)
          left = x;
        right = x;
      }
  g_assert_cmpint (left, >, 20);
  g_assert_cmpint (right - left, >, width / 2);
  bottom = color_row_in_column (surface, blue_3, left + 2);
  top = color_row_in_column (surface, blue_3, right - 2);
  g_assert_cmpfloat (bottom - top, >, height / 2);

  /* The line is straight: every column on the slope between the ends */
  for (int x = left + 5; x < right - 5; x += 7)
    {
      double expected =
          bottom + (top - bottom) * (x - left - 2) / (right - left - 4);
      double row = color_row_in_column (surface, blue_3, x);

      if (row < 0)
        continue; /* crossed by the other series or the legend */
      g_assert_cmpfloat (fabs (row - expected), <, 4);
    }

  /* Each validation point has an orange dot where it maps */
  for (int e = 0; e < 5; e++)
    {
      double px = left + 1 + (right - left - 2) * (2.0 * (e + 1)) / 10;
      double py = bottom + (top - bottom) * val[e];

      g_assert_cmpint (count_color (surface, orange_3, 40, (int) px - 3,
                                    (int) py - 3, (int) px + 4, (int) py + 4),
                       >=, 9);
    }

  /* The legend above the plot: both colors and text */
  g_assert_cmpint (
      count_color (surface, blue_3, 30, 0, 0, width, (int) top - 6), >, 10);
  g_assert_cmpint (
      count_color (surface, orange_3, 30, 0, 0, width, (int) top - 6), >, 5);
  g_assert_cmpint (count_ink (surface, 0, 0, width, (int) top - 6), >, 200);

  /* Hovering epoch 5 draws a guide through the plot and a readout card */
  cairo_set_source_rgb (cr, BG_R / 255., BG_G / 255., BG_B / 255.);
  cairo_paint (cr);
  graft_chart_set_hover_x (chart, 5.02);
  g_assert_cmpfloat (graft_chart_get_hover_x (chart), ==, 5.02);
  graft_chart_draw (chart, cr, width, height);
  save_png (surface, "chart-accuracy-hover");
  {
    int guide_x = (int) (left + 1 + (right - left - 2) * 0.5);
    int best = 0;

    /* The guide: a column of gray ink from the top to the bottom of the
     * plot, within a pixel of epoch 5 */
    for (int x = guide_x - 2; x <= guide_x + 2; x++)
      {
        int n = 0;

        for (int y = (int) top; y < (int) bottom; y++)
          {
            Rgb c = pixel (surface, x, y);

            n += !is_background (c) && abs (c.r - c.g) < 10 &&
                 abs (c.g - c.b) < 10;
          }
        best = MAX (best, n);
      }
    g_assert_cmpint (best, >, (bottom - top) * 0.3);
  }

  /* Without the hover the card is gone again */
  graft_chart_set_hover_x (chart, NAN);
  g_assert_true (isnan (graft_chart_get_hover_x (chart)));

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

/* 200 000 points, one spike: the drawing keeps each pixel column's extremes
 * so the spike still shows. */
static void
test_chart_downsample (void)
{
  const int width = 500, height = 300;
  g_autoptr (GraftChart) chart = new_chart ();
  cairo_t *cr;
  cairo_surface_t *surface = new_canvas (width, height, &cr);
  int series = graft_chart_add_series (chart, "Training loss", 0);
  const int n = 200000, spike = 123457;
  int top_row = height;
  gint64 start;

  for (int i = 0; i < n; i++)
    graft_chart_add_point (chart, series, i / 20000.0,
                           i == spike ? 4.0 : 1.0 + 0.1 * sin (i * 0.01));
  start = g_get_monotonic_time ();
  graft_chart_draw (chart, cr, width, height);
  g_test_message ("drawing %d points took %.1f ms", n,
                  (g_get_monotonic_time () - start) / 1000.0);
  save_png (surface, "chart-downsample");

  /* The spike rises far above the band of the rest (y 0.9..1.1 of 0..4) */
  for (int x = 0; x < width; x++)
    {
      double row = -1;

      for (int y = 30; y < height; y++)
        if (near_color (pixel (surface, x, y), blue_3, 30))
          {
            row = y;
            break;
          }
      if (row >= 0)
        top_row = MIN (top_row, (int) row);
    }
  {
    /* The band's top: the middle column's highest blue */
    int band = -1;

    for (int y = 30; y < height && band < 0; y++)
      if (near_color (pixel (surface, width / 2 + 40, y), blue_3, 30))
        band = y;
    g_assert_cmpint (band, >, 0);
    g_assert_cmpint (band - top_row, >, 100);
  }

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_chart_sizes (void)
{
  const int sizes[][2] = {
    { 240, 160 }, { 480, 280 }, { 800, 600 }, { 1200, 300 }
  };
  g_autoptr (GraftChart) chart = new_chart ();
  int train = graft_chart_add_series (chart, "Training loss", 0);
  int valid = graft_chart_add_series (chart, "Validation loss",
                                      GRAFT_CHART_SERIES_DASHED |
                                          GRAFT_CHART_SERIES_MARKERS);

  for (int i = 0; i <= 300; i++)
    graft_chart_add_point (chart, train, i / 30.0,
                           2.3 * exp (-i / 80.0) + 0.1 + 0.05 * sin (i));
  for (int e = 1; e <= 10; e++)
    graft_chart_add_point (chart, valid, e, 2.3 * exp (-e * 30 / 80.0) + 0.25);
  graft_chart_set_hover_x (chart, 7.4);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      int w = sizes[i][0], h = sizes[i][1];
      cairo_t *cr;
      cairo_surface_t *surface = new_canvas (w, h, &cr);
      g_autofree char *name = g_strdup_printf ("chart-loss-%dx%d", w, h);

      graft_chart_draw (chart, cr, w, h);
      save_png (surface, name);
      g_assert_cmpint (count_color (surface, blue_3, 30, 0, 0, w, h), >, w / 4);
      g_assert_cmpint (count_color (surface, orange_3, 30, 0, 0, w, h), >, 20);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
    }

  graft_chart_clear (chart);
  g_assert_cmpint (graft_chart_get_n_series (chart), ==, 0);
}

/* Nothing is drawn outside the chart's own rectangle, which a widget clips
 * to: drawn at a margin into a larger canvas, the margin stays empty. The
 * last x label is centered on the plot's right edge, and its text ("4.0",
 * "1.5", "1000") depends on the step chosen for the width. */
static void
test_chart_within_bounds (void)
{
  const int sizes[][2] = {
    { 240, 160 }, { 360, 200 }, { 480, 280 }, { 1200, 300 }
  };
  const double x_ends[] = { 0.3, 1.0, 1.5, 4.0, 9.5, 37.0, 1000.0 };
  const int margin = 24;

  for (guint e = 0; e < G_N_ELEMENTS (x_ends); e++)
    for (int percent = 0; percent <= 1; percent++)
      {
        g_autoptr (GraftChart) chart = new_chart ();
        int steps = graft_chart_add_series (chart, "Training, each step", 0);
        int valid = graft_chart_add_series (chart, "Validation",
                                            GRAFT_CHART_SERIES_DASHED |
                                                GRAFT_CHART_SERIES_MARKERS);

        graft_chart_set_percent (chart, percent);
        for (int i = 1; i <= 200; i++)
          graft_chart_add_point (chart, steps, x_ends[e] * i / 200,
                                 percent ? 0.5 + 0.5 * i / 200.0
                                         : 2.0 / (1 + i / 20.0));
        graft_chart_add_point (chart, valid, x_ends[e], percent ? 1.0 : 0.1);
        for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
          {
            int w = sizes[i][0], h = sizes[i][1];
            int cw = w + 2 * margin, ch = h + 2 * margin;
            cairo_t *cr;
            cairo_surface_t *surface = new_canvas (cw, ch, &cr);
            int outside;

            cairo_translate (cr, margin, margin);
            graft_chart_draw (chart, cr, w, h);
            outside = count_ink (surface, 0, 0, cw, margin) +
                      count_ink (surface, 0, margin + h, cw, ch) +
                      count_ink (surface, 0, margin, margin, margin + h) +
                      count_ink (surface, margin + w, margin, cw, margin + h);
            if (outside > 0)
              {
                g_autofree char *name =
                    g_strdup_printf ("chart-outside-%g-%s-%dx%d", x_ends[e],
                                     percent ? "percent" : "loss", w, h);
                save_png (surface, name);
                g_test_message ("%s: %d pixels outside", name, outside);
              }
            g_assert_cmpint (outside, ==, 0);
            /* and the chart is there: the last x label inside the edge */
            g_assert_cmpint (count_ink (surface, margin + w - 40,
                                        margin + h - 40, margin + w,
                                        margin + h),
                             >, 0);
            cairo_destroy (cr);
            cairo_surface_destroy (surface);
          }
      }
}

static void
test_chart_properties (void)
{
  g_autoptr (GraftChart) chart = new_chart ();
  int notified = 0;

  g_signal_connect_swapped (chart, "notify::percent",
                            G_CALLBACK (g_atomic_int_inc), &notified);
  graft_chart_set_percent (chart, TRUE);
  graft_chart_set_percent (chart, TRUE);
  g_assert_cmpint (notified, ==, 1);
  g_object_set (chart, "x-title", "Step", "y-title", "Loss", NULL);
  g_assert_cmpstr (graft_chart_get_x_title (chart), ==, "Step");
  graft_chart_set_empty_text (chart, "Waiting");
  g_assert_cmpstr (graft_chart_get_empty_text (chart), ==, "Waiting");
}

/* ---- confusion matrix ---------------------------------------------------- */

typedef struct
{
  double x0, y0, cell;
} Grid;

/* Finds the grid from the solid diagonal of a perfect classifier, without
 * asking the widget. */
static Grid
find_diagonal_grid (cairo_surface_t *surface, int n)
{
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  const Rgb solid = { 0x1c, 0x71, 0xd8 };
  int x0 = width, y0 = height, x1 = -1, y1 = -1;
  Grid grid;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      if (near_color (pixel (surface, x, y), solid, 6))
        {
          x0 = MIN (x0, x);
          y0 = MIN (y0, y);
          x1 = MAX (x1, x);
          y1 = MAX (y1, y);
        }
  g_assert_cmpint (x1, >, x0);
  /* Square cells */
  g_assert_cmpint (abs ((x1 - x0) - (y1 - y0)), <=, 1);
  grid.x0 = x0 - 1;
  grid.y0 = y0 - 1;
  grid.cell = (x1 - x0 + 3) / (double) n;
  return grid;
}

static void
make_perfect (int n, int **counts, char ***names, gboolean long_names)
{
  *counts = g_new0 (int, n *n);
  *names = g_new0 (char *, n + 1);
  for (int i = 0; i < n; i++)
    {
      (*counts)[i * n + i] = 10 + 7 * i;
      (*names)[i] =
          long_names
              ? g_strdup_printf ("Cavalier King Charles spaniel no. %d", i)
              : g_strdup_printf ("class %d", i);
    }
}

static void
check_perfect (int n, int width, int height, gboolean long_names)
{
  g_autoptr (GraftConfusionView) view = new_confusion_view ();
  g_autofree int *counts = NULL;
  g_auto (GStrv) names = NULL;
  g_autofree char *name = g_strdup_printf (
      "confusion-%d%s-%dx%d", n, long_names ? "-long" : "", width, height);
  cairo_t *cr;
  cairo_surface_t *surface = new_canvas (width, height, &cr);
  Grid grid;
  double diagonal = 0, lightest_off = 255;

  make_perfect (n, &counts, &names, long_names);
  graft_confusion_view_set_data (view, n, counts, (const char *const *) names);
  g_assert_cmpint (graft_confusion_view_get_n_classes (view), ==, n);
  g_assert_cmpint (graft_confusion_view_get_count (view, 1, 1), ==, 17);
  graft_confusion_view_draw (view, cr, width, height);
  save_png (surface, name);

  grid = find_diagonal_grid (surface, n);
  /* Big enough to read, and inside the widget with room for the names */
  g_assert_cmpfloat (grid.cell, >=, MIN (14, (height - 80) / n));
  g_assert_cmpfloat (grid.x0, >, 30);
  g_assert_cmpfloat (grid.x0 + n * grid.cell, <=, width);
  g_assert_cmpfloat (grid.y0 + n * grid.cell, <, height - 20);
  /* Names and the title left of the grid, names and title below it */
  g_assert_cmpint (
      count_ink (surface, 0, grid.y0, grid.x0 - 2, grid.y0 + n * grid.cell), >,
      30 * n);
  g_assert_cmpint (count_ink (surface, grid.x0, grid.y0 + n * grid.cell + 2,
                              grid.x0 + n * grid.cell, height),
                   >, 30 * n);
  /* Long names are cut, not run off the left edge */
  g_assert_cmpint (count_ink (surface, 0, 0, 4, height), ==, 0);

  for (int t = 0; t < n; t++)
    for (int p = 0; p < n; p++)
      {
        double cx = grid.x0 + (p + 0.5) * grid.cell;
        double cy = grid.y0 + (t + 0.5) * grid.cell;
        /* Off the count, which sits in the middle */
        Rgb shade = pixel (surface, (int) (grid.x0 + (p + 0.2) * grid.cell),
                           (int) (grid.y0 + (t + 0.2) * grid.cell));
        int hit_t, hit_p;

        g_assert_true (
            graft_confusion_view_cell_at (view, cx, cy, &hit_t, &hit_p));
        g_assert_cmpint (hit_t, ==, t);
        g_assert_cmpint (hit_p, ==, p);
        if (t == p)
          diagonal = MAX (diagonal, luminance (shade));
        else
          lightest_off = MIN (lightest_off, luminance (shade));
      }
  /* The diagonal is the darkest shade, clearly */
  g_assert_cmpfloat (diagonal + 40, <, lightest_off);

  /* Counts in white on the dark diagonal */
  if (grid.cell >= 20)
    {
      int white = 0;

      for (int y = (int) grid.y0 + 3; y < grid.y0 + grid.cell - 3; y++)
        for (int x = (int) grid.x0 + 3; x < grid.x0 + grid.cell - 3; x++)
          white += luminance (pixel (surface, x, y)) > 200;
      g_assert_cmpint (white, >, 3);
    }

  /* Outside the cells there is no cell */
  {
    int t = 0, p = 0;

    g_assert_false (graft_confusion_view_cell_at (view, 1, 1, &t, &p));
    g_assert_cmpint (t, ==, -1);
    g_assert_cmpint (p, ==, -1);
    g_assert_false (graft_confusion_view_cell_at (
        view, grid.x0 + n * grid.cell + 3, grid.y0 + 2, &t, &p));
    g_assert_false (graft_confusion_view_cell_at (
        view, grid.x0 + 2, grid.y0 + n * grid.cell + 3, &t, &p));
    g_assert_false (
        graft_confusion_view_cell_at (view, grid.x0 - 3, grid.y0 + 2, &t, &p));
    g_assert_false (
        graft_confusion_view_cell_at (view, width - 1, height - 1, &t, &p));
  }

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_confusion_perfect (void)
{
  check_perfect (2, 400, 300, FALSE);
  check_perfect (2, 800, 600, TRUE);
  check_perfect (12, 800, 600, FALSE);
  check_perfect (12, 800, 600, TRUE);
  check_perfect (12, 480, 360, TRUE);
  check_perfect (20, 800, 600, TRUE);
}

/* A real-looking matrix: the shade follows the row's share, so a rare
 * class's correct cell is as strong as a common one's. */
static void
test_confusion_row_normalized (void)
{
  const int n = 3, width = 500, height = 400;
  const int counts[] = { 900, 50, 50, /* */ 2, 8, 0, /* */ 30, 30, 40 };
  const char *const names[] = { "cat", "dog", "fox" };
  g_autoptr (GraftConfusionView) view = new_confusion_view ();
  cairo_t *cr;
  cairo_surface_t *surface = new_canvas (width, height, &cr);
  double l[3][3];
  int cx0 = -1, cy0 = -1;

  graft_confusion_view_set_data (view, n, counts, names);
  graft_confusion_view_draw (view, cr, width, height);
  save_png (surface, "confusion-3-mixed");

  /* Find the cells through hit testing, sample each off its count */
  for (int y = 0; y < height && cy0 < 0; y++)
    for (int x = 0; x < width; x++)
      {
        int t, p;

        if (graft_confusion_view_cell_at (view, x, y, &t, &p))
          {
            g_assert_cmpint (t, ==, 0);
            g_assert_cmpint (p, ==, 0);
            cx0 = x;
            cy0 = y;
            break;
          }
      }
  g_assert_cmpint (cx0, >=, 0);
  for (int t = 0; t < n; t++)
    for (int p = 0; p < n; p++)
      {
        int x = cx0, y = cy0, ht = -1, hp = -1;

        /* Walk to the cell, then a few pixels in */
        while (graft_confusion_view_cell_at (view, x, cy0, NULL, &hp) && hp < p)
          x++;
        while (graft_confusion_view_cell_at (view, cx0, y, &ht, NULL) && ht < t)
          y++;
        l[t][p] = luminance (pixel (surface, x + 6, y + 6));
      }
  /* 90% (cat→cat) and 80% (dog→dog) are close; 40% lighter; 2% lightest */
  g_assert_cmpfloat (fabs (l[0][0] - l[1][1]), <, 30);
  g_assert_cmpfloat (l[2][2], >, l[1][1] + 20);
  g_assert_cmpfloat (l[0][1], >, l[2][2] + 20);
  /* An empty cell is lighter than any cell with photos */
  g_assert_cmpfloat (l[1][2], >, l[0][1]);

  /* Counts in the foreground color on a light cell (dog→cat, 20%): ink
   * darker than the cell around the middle */
  {
    int x = cx0, y = cy0, ht = -1, hp = -1, dark = 0;
    double cell;

    while (graft_confusion_view_cell_at (view, x, cy0, NULL, &hp) && hp < 1)
      x++;
    cell = x - cx0;
    while (graft_confusion_view_cell_at (view, cx0, y, &ht, NULL) && ht < 1)
      y++;
    for (int yy = y + (int) (cell * 0.3); yy < y + cell * 0.7; yy++)
      for (int xx = cx0 + (int) (cell * 0.3); xx < cx0 + cell * 0.7; xx++)
        dark += luminance (pixel (surface, xx, yy)) < l[1][0] - 60;
    g_assert_cmpint (dark, >, 3);
  }

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
test_confusion_empty (void)
{
  g_autoptr (GraftConfusionView) view = new_confusion_view ();
  cairo_t *cr;
  cairo_surface_t *surface = new_canvas (400, 300, &cr);
  int t, p;

  graft_confusion_view_draw (view, cr, 400, 300);
  save_png (surface, "confusion-empty");
  g_assert_cmpint (count_ink (surface, 0, 130, 400, 170), >, 50);
  g_assert_cmpint (count_ink (surface, 0, 0, 400, 120), ==, 0);
  g_assert_false (graft_confusion_view_cell_at (view, 200, 150, &t, &p));
  graft_confusion_view_get_focus_cell (view, &t, &p);
  g_assert_cmpint (t, ==, -1);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
}

static void
on_cell_activated (GraftConfusionView *view, int t, int p, int *got)
{
  got[0] = t;
  got[1] = p;
  got[2]++;
}

static GtkEventController *
find_controller (GtkWidget *widget, GType type)
{
  g_autoptr (GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr (GtkEventController) c = g_list_model_get_item (controllers, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (c, type))
        return c; /* the widget keeps it alive */
    }
  g_assert_not_reached ();
}

static void
test_confusion_activate (void)
{
  const int n = 4;
  g_autoptr (GraftConfusionView) view = new_confusion_view ();
  g_autofree int *counts = NULL;
  g_auto (GStrv) names = NULL;
  int got[3] = { -1, -1, 0 };
  cairo_t *cr;
  cairo_surface_t *surface = new_canvas (500, 400, &cr);
  GtkEventController *click, *key;
  gboolean handled = FALSE;
  Grid grid;
  int t, p;

  make_perfect (n, &counts, &names, FALSE);
  graft_confusion_view_set_data (view, n, counts, (const char *const *) names);
  graft_confusion_view_draw (view, cr, 500, 400);
  grid = find_diagonal_grid (surface, n);
  g_signal_connect (view, "cell-activated", G_CALLBACK (on_cell_activated),
                    got);

  graft_confusion_view_activate_cell (view, 1, 0);
  g_assert_cmpint (got[0], ==, 1);
  g_assert_cmpint (got[1], ==, 0);
  g_assert_cmpint (got[2], ==, 1);

  /* A click: press and release over cell (2, 3) */
  click = find_controller (GTK_WIDGET (view), GTK_TYPE_GESTURE_CLICK);
  g_signal_emit_by_name (click, "pressed", 1, grid.x0 + 3.5 * grid.cell,
                         grid.y0 + 2.5 * grid.cell);
  g_signal_emit_by_name (click, "released", 1, grid.x0 + 3.4 * grid.cell,
                         grid.y0 + 2.6 * grid.cell);
  g_assert_cmpint (got[0], ==, 2);
  g_assert_cmpint (got[1], ==, 3);
  g_assert_cmpint (got[2], ==, 2);
  graft_confusion_view_get_focus_cell (view, &t, &p);
  g_assert_cmpint (t, ==, 2);
  g_assert_cmpint (p, ==, 3);

  /* Released over another cell, or outside: no activation */
  g_signal_emit_by_name (click, "pressed", 1, grid.x0 + 0.5 * grid.cell,
                         grid.y0 + 0.5 * grid.cell);
  g_signal_emit_by_name (click, "released", 1, grid.x0 + 1.5 * grid.cell,
                         grid.y0 + 0.5 * grid.cell);
  g_signal_emit_by_name (click, "pressed", 1, 2.0, 2.0);
  g_signal_emit_by_name (click, "released", 1, 2.0, 2.0);
  g_assert_cmpint (got[2], ==, 2);

  /* Keys: from (0, 0) down, right, right, Enter; edges let focus out */
  key = find_controller (GTK_WIDGET (view), GTK_TYPE_EVENT_CONTROLLER_KEY);
  graft_confusion_view_get_focus_cell (view, &t, &p);
  g_assert_cmpint (t, ==, 0);
  g_assert_cmpint (p, ==, 0);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Up, 0, 0, &handled);
  g_assert_false (handled);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Down, 0, 0, &handled);
  g_assert_true (handled);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Right, 0, 0, &handled);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Right, 0, 0, &handled);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Return, 0, 0, &handled);
  g_assert_true (handled);
  g_assert_cmpint (got[0], ==, 1);
  g_assert_cmpint (got[1], ==, 2);
  g_assert_cmpint (got[2], ==, 3);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_End, 0, 0, &handled);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_space, 0, 0, &handled);
  g_assert_cmpint (got[1], ==, n - 1);
  g_assert_cmpint (got[2], ==, 4);
  g_signal_emit_by_name (key, "key-pressed", GDK_KEY_Right, 0, 0, &handled);
  g_assert_false (handled);

  /* Hover over a cell draws its outline */
  {
    GtkEventController *motion =
        find_controller (GTK_WIDGET (view), GTK_TYPE_EVENT_CONTROLLER_MOTION);
    int x = (int) (grid.x0 + 1.5 * grid.cell),
        y = (int) (grid.y0 + 2.5 * grid.cell);
    int cell_top = (int) (grid.y0 + 2 * grid.cell);
    double before = 255, after = 255;

    /* The darkest pixel across the cell's top edge, before and after */
    for (int yy = cell_top - 1; yy <= cell_top + 5; yy++)
      before = MIN (before, luminance (pixel (surface, x, yy)));
    g_signal_emit_by_name (motion, "motion", (double) x, (double) y);
    cairo_set_source_rgb (cr, BG_R / 255., BG_G / 255., BG_B / 255.);
    cairo_paint (cr);
    graft_confusion_view_draw (view, cr, 500, 400);
    save_png (surface, "confusion-4-hover");
    for (int yy = cell_top - 1; yy <= cell_top + 5; yy++)
      after = MIN (after, luminance (pixel (surface, x, yy)));
    g_assert_cmpfloat (after, <, before - 60);
  }

  /* New data with fewer classes keeps the focus inside */
  graft_confusion_view_set_data (view, 2, counts, (const char *const *) names);
  graft_confusion_view_get_focus_cell (view, &t, &p);
  g_assert_cmpint (t, <, 2);
  g_assert_cmpint (p, <, 2);

  cairo_destroy (cr);
  cairo_surface_destroy (surface);
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
      g_printerr ("No display and no xvfb-run: skipping the drawing tests\n");
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
  g_autofree char *tmp_dir = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  /* No session bus under xvfb-run: keep accessibility and settings off
   * D-Bus, whose absence GTK reports as (fatal) warnings. */
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  if (!gtk_init_check ())
    return rerun_under_xvfb (argc, argv);
  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("graft-drawing-XXXXXX", &error);
  g_assert_no_error (error);
  png_dir = tmp_dir;

  g_test_add_func ("/drawing/chart/empty", test_chart_empty);
  g_test_add_func ("/drawing/chart/points-map", test_chart_points_map);
  g_test_add_func ("/drawing/chart/downsample", test_chart_downsample);
  g_test_add_func ("/drawing/chart/sizes", test_chart_sizes);
  g_test_add_func ("/drawing/chart/within-bounds", test_chart_within_bounds);
  g_test_add_func ("/drawing/chart/properties", test_chart_properties);
  g_test_add_func ("/drawing/confusion/perfect", test_confusion_perfect);
  g_test_add_func ("/drawing/confusion/row-normalized",
                   test_confusion_row_normalized);
  g_test_add_func ("/drawing/confusion/empty", test_confusion_empty);
  g_test_add_func ("/drawing/confusion/activate", test_confusion_activate);
  status = g_test_run ();

  /* The PNGs are for looking at; the temporary copies go with the run. */
  {
    g_autoptr (GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (tmp_dir, name, NULL);
        g_unlink (path);
      }
    g_rmdir (tmp_dir);
  }
  return status;
}
