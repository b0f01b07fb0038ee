/* graft-chart.c: a line chart of training curves, drawn with Cairo.
 *
 * Points arrive live from the trainer, thousands per run, so each series
 * keeps a plain GArray and the drawing reduces it to at most a few points
 * per pixel column (first, min, max, last), which keeps spikes visible.
 * Text and lines take the widget's CSS foreground color, so the chart
 * follows the light and dark styles; series use libadwaita's palette,
 * whose mid tones read on both.
 */
#include "config.h"

#include "graft-chart.h"

#include "graft-cairo-text.h"

#include <glib/gi18n.h>
#include <math.h>

typedef struct
{
  double x;
  double y;
} ChartPoint;

typedef struct
{
  char *name;
  GraftChartSeriesFlags flags;
  GArray *points; /* of ChartPoint, x non-decreasing */
} ChartSeries;

/* Where the last draw put the plot, to map the pointer back to data. */
typedef struct
{
  double left, top, width, height;
  double x_lo, x_hi, y_lo, y_hi;
  gboolean valid;
} ChartFrame;

struct _GraftChart
{
  GtkWidget parent_instance;

  GPtrArray *series; /* of ChartSeries */
  char *x_title;
  char *y_title;
  char *empty_text;
  gboolean percent;
  double hover_x;

  GdkRGBA fg; /* from CSS at each snapshot */
  ChartFrame frame;
};

G_DEFINE_FINAL_TYPE (GraftChart, graft_chart, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_X_TITLE,
  PROP_Y_TITLE,
  PROP_EMPTY_TEXT,
  PROP_PERCENT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* libadwaita's blue_3, orange_3, green_4, purple_3, red_3, yellow_5 */
static const GdkRGBA palette[] = {
  { 0x35 / 255., 0x84 / 255., 0xe4 / 255., 1 },
  { 0xff / 255., 0x78 / 255., 0x00 / 255., 1 },
  { 0x2e / 255., 0xc2 / 255., 0x7e / 255., 1 },
  { 0x91 / 255., 0x41 / 255., 0xac / 255., 1 },
  { 0xe0 / 255., 0x1b / 255., 0x24 / 255., 1 },
  { 0xe5 / 255., 0xa5 / 255., 0x0a / 255., 1 },
};

#define PAD 8.0
#define TICK_LEN 4.0
#define LEGEND_SWATCH 18.0
#define LEGEND_GAP 12.0

static void
chart_series_free (gpointer data)
{
  ChartSeries *series = data;

  g_free (series->name);
  g_array_unref (series->points);
  g_free (series);
}

/* ---- scales -------------------------------------------------------------- */

/* A 1-2-5 step that gives about max_ticks intervals over range. */
static double
nice_step (double range, int max_ticks)
{
  double raw = range / MAX (max_ticks, 1);
  double magnitude = pow (10, floor (log10 (raw)));
  double fraction = raw / magnitude;
  double nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;

  return nice * magnitude;
}

static int
step_decimals (double step)
{
  return MAX (0, (int) -floor (log10 (step) + 1e-9));
}

static char *
format_tick (GraftChart *self, double value, double step)
{
  if (self->percent)
    /* Translators: an axis tick in percent, e.g. "80%" */
    return g_strdup_printf (_ ("%.*f%%"), step_decimals (step * 100),
                            value * 100);
  return g_strdup_printf ("%.*f", step_decimals (step), value);
}

static char *
format_value (GraftChart *self, double value)
{
  if (!isfinite (value))
    return g_strdup ("–");
  if (self->percent)
    /* Translators: a value in percent, e.g. "81.3%" */
    return g_strdup_printf (_ ("%.1f%%"), value * 100);
  return g_strdup_printf ("%.4g", value);
}

static gboolean
data_extent (GraftChart *self,
             double *x_min,
             double *x_max,
             double *y_min,
             double *y_max)
{
  gboolean any = FALSE;

  *x_min = *y_min = INFINITY;
  *x_max = *y_max = -INFINITY;
  for (guint s = 0; s < self->series->len; s++)
    {
      ChartSeries *series = g_ptr_array_index (self->series, s);

      for (guint i = 0; i < series->points->len; i++)
        {
          ChartPoint *p = &g_array_index (series->points, ChartPoint, i);

          if (!isfinite (p->x) || !isfinite (p->y))
            continue;
          *x_min = MIN (*x_min, p->x);
          *x_max = MAX (*x_max, p->x);
          *y_min = MIN (*y_min, p->y);
          *y_max = MAX (*y_max, p->y);
          any = TRUE;
        }
    }
  return any;
}

static double
map_x (const ChartFrame *f, double x)
{
  return f->left + (x - f->x_lo) / (f->x_hi - f->x_lo) * f->width;
}

static double
map_y (const ChartFrame *f, double y)
{
  return f->top + f->height - (y - f->y_lo) / (f->y_hi - f->y_lo) * f->height;
}

/* ---- drawing ------------------------------------------------------------- */

static void
set_series_style (cairo_t *cr, ChartSeries *series, int index)
{
  static const double dash[] = { 6.0, 4.0 };

  graft_cairo_set_color (cr, &palette[index % G_N_ELEMENTS (palette)], 1.0);
  cairo_set_line_width (cr, 2.0);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  cairo_set_dash (cr, dash, (series->flags & GRAFT_CHART_SERIES_DASHED) ? 2 : 0,
                  0);
}

static void
path_point (cairo_t *cr, gboolean *pen_down, double px, double py)
{
  if (*pen_down)
    cairo_line_to (cr, px, py);
  else
    cairo_move_to (cr, px, py);
  *pen_down = TRUE;
}

/* The series as a path with at most four vertices per pixel column: the
 * column's first, lowest, highest and last point, in their order. */
static void
draw_series_line (cairo_t *cr, const ChartFrame *f, ChartSeries *series)
{
  GArray *points = series->points;
  gboolean pen_down = FALSE;
  guint i = 0;

  while (i < points->len)
    {
      ChartPoint *p = &g_array_index (points, ChartPoint, i);
      double column;
      guint first = i, lowest = i, highest = i, last = i;

      if (!isfinite (p->y) || !isfinite (p->x))
        {
          pen_down = FALSE;
          i++;
          continue;
        }
      column = floor (map_x (f, p->x));
      for (i++; i < points->len; i++)
        {
          ChartPoint *q = &g_array_index (points, ChartPoint, i);

          if (!isfinite (q->y) || !isfinite (q->x) ||
              floor (map_x (f, q->x)) != column)
            break;
          if (q->y < g_array_index (points, ChartPoint, lowest).y)
            lowest = i;
          if (q->y > g_array_index (points, ChartPoint, highest).y)
            highest = i;
          last = i;
        }

      guint order[4] = { first, MIN (lowest, highest), MAX (lowest, highest),
                         last };
      for (int k = 0; k < 4; k++)
        {
          ChartPoint *v = &g_array_index (points, ChartPoint, order[k]);

          if (k > 0 && order[k] == order[k - 1])
            continue;
          path_point (cr, &pen_down, map_x (f, v->x), map_y (f, v->y));
        }
    }
  /* A lone point has no length; a round cap makes it a dot. */
  cairo_stroke (cr);
}

static void
draw_series_markers (cairo_t *cr, const ChartFrame *f, ChartSeries *series)
{
  /* Markers only while they stay apart; a crowd of dots is noise. */
  if (series->points->len > f->width / 6)
    return;
  for (guint i = 0; i < series->points->len; i++)
    {
      ChartPoint *p = &g_array_index (series->points, ChartPoint, i);

      if (!isfinite (p->y))
        continue;
      cairo_new_sub_path (cr);
      cairo_arc (cr, map_x (f, p->x), map_y (f, p->y), 3.0, 0, 2 * G_PI);
    }
  cairo_fill (cr);
}

/* The legend's rows of swatch + name, right-aligned above the plot;
 * returns its height. With draw FALSE it only measures. */
static double
draw_legend (GraftChart *self,
             cairo_t *cr,
             double right,
             double top,
             double max_width,
             gboolean draw)
{
  double x = 0, row_height = 0, height = 0;
  double row_start = 0;
  g_autoptr (GArray) widths = g_array_new (FALSE, FALSE, sizeof (double));

  /* Measure first so that each row can be right-aligned. */
  for (guint s = 0; s < self->series->len; s++)
    {
      ChartSeries *series = g_ptr_array_index (self->series, s);
      g_autoptr (PangoLayout) layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, series->name, 0.85);
      double w, h, item;

      graft_cairo_text_size (layout, &w, &h);
      item = LEGEND_SWATCH + 6 + w;
      g_array_append_val (widths, item);
      row_height = MAX (row_height, h);
    }

  guint s = 0;
  while (s < self->series->len)
    {
      guint row_end = s;
      double row_width = 0;

      while (row_end < self->series->len)
        {
          double item = g_array_index (widths, double, row_end);
          double gap = row_end > s ? LEGEND_GAP : 0;

          if (row_end > s && row_width + gap + item > max_width)
            break;
          row_width += gap + item;
          row_end++;
        }
      row_start = right - MIN (row_width, max_width);
      x = row_start;
      for (; s < row_end; s++)
        {
          ChartSeries *series = g_ptr_array_index (self->series, s);
          double y_mid = top + height + row_height / 2;

          if (draw)
            {
              g_autoptr (PangoLayout) layout = graft_cairo_text_layout (
                  GTK_WIDGET (self), cr, series->name, 0.9);

              pango_layout_set_width (
                  layout,
                  (int) ((max_width - LEGEND_SWATCH - 6) * PANGO_SCALE));
              pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
              set_series_style (cr, series, s);
              cairo_move_to (cr, x + 1, floor (y_mid) + 0.5);
              cairo_line_to (cr, x + LEGEND_SWATCH - 1, floor (y_mid) + 0.5);
              cairo_stroke (cr);
              if (series->flags & GRAFT_CHART_SERIES_MARKERS)
                {
                  cairo_arc (cr, x + LEGEND_SWATCH / 2, floor (y_mid) + 0.5,
                             3.0, 0, 2 * G_PI);
                  cairo_fill (cr);
                }
              graft_cairo_set_color (cr, &self->fg, 0.85);
              graft_cairo_text_show (cr, layout, x + LEGEND_SWATCH + 6,
                                     top + height);
            }
          x += g_array_index (widths, double, s) + LEGEND_GAP;
        }
      height += row_height + 2;
    }
  return height;
}

/* The index of the point nearest to x in a series, or -1 if it has none. */
static int
nearest_point (ChartSeries *series, double x)
{
  GArray *points = series->points;
  guint lo = 0, hi = points->len;

  if (points->len == 0)
    return -1;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (g_array_index (points, ChartPoint, mid).x < x)
        lo = mid + 1;
      else
        hi = mid;
    }
  if (lo == points->len)
    return (int) points->len - 1;
  if (lo > 0 && x - g_array_index (points, ChartPoint, lo - 1).x <=
                    g_array_index (points, ChartPoint, lo).x - x)
    return (int) lo - 1;
  return (int) lo;
}

static void
draw_hover (GraftChart *self, cairo_t *cr, const ChartFrame *f)
{
  double guide_x = NAN, best = INFINITY;
  double w_names = 0, w_values = 0, row_height = 0, title_w, title_h;
  int n_rows = 0;

  /* Snap the guide to the data point nearest to the pointer. */
  for (guint s = 0; s < self->series->len; s++)
    {
      ChartSeries *series = g_ptr_array_index (self->series, s);
      int i = nearest_point (series, self->hover_x);

      if (i < 0)
        continue;
      double px = g_array_index (series->points, ChartPoint, i).x;
      if (fabs (px - self->hover_x) < best)
        {
          best = fabs (px - self->hover_x);
          guide_x = px;
        }
    }
  if (!isfinite (guide_x))
    return;

  double gx = floor (map_x (f, guide_x)) + 0.5;
  graft_cairo_set_color (cr, &self->fg, 0.45);
  cairo_set_line_width (cr, 1.0);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_move_to (cr, gx, f->top);
  cairo_line_to (cr, gx, f->top + f->height);
  cairo_stroke (cr);

  /* Translators: the hover readout's title, the x of the values below */
  g_autofree char *title =
      g_strdup_printf (_ ("%s %.4g"), self->x_title, guide_x);
  g_autoptr (PangoLayout) title_layout =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, title, 0.9);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) values =
      g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GArray) rows = g_array_new (FALSE, FALSE, sizeof (guint));

  {
    g_autoptr (PangoAttrList) bold = pango_attr_list_new ();

    pango_attr_list_insert (bold, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
    pango_layout_set_attributes (title_layout, bold);
  }
  graft_cairo_text_size (title_layout, &title_w, &title_h);
  for (guint s = 0; s < self->series->len; s++)
    {
      ChartSeries *series = g_ptr_array_index (self->series, s);
      int i = nearest_point (series, guide_x);
      double w, h;

      if (i < 0)
        continue;
      ChartPoint *p = &g_array_index (series->points, ChartPoint, i);
      g_autofree char *value = format_value (self, p->y);
      PangoLayout *name_layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, series->name, 0.9);
      PangoLayout *value_layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, value, 0.9);

      graft_cairo_text_size (name_layout, &w, &h);
      w_names = MAX (w_names, w);
      row_height = MAX (row_height, h);
      graft_cairo_text_size (value_layout, &w, &h);
      w_values = MAX (w_values, w);
      g_ptr_array_add (names, name_layout);
      g_ptr_array_add (values, value_layout);
      g_array_append_val (rows, s);
      n_rows++;

      /* The point the value belongs to */
      set_series_style (cr, series, s);
      cairo_arc (cr, map_x (f, p->x), map_y (f, p->y), 4.0, 0, 2 * G_PI);
      cairo_fill (cr);
    }

  double box_w = MAX (title_w, 14 + w_names + 16 + w_values) + 2 * PAD;
  double box_h = title_h + 4 + n_rows * row_height + 2 * PAD;
  double bx = gx + 10;
  double by = f->top + 4;
  gboolean dark = self->fg.red + self->fg.green + self->fg.blue > 1.5;

  if (bx + box_w > f->left + f->width)
    bx = gx - 10 - box_w;
  bx = MAX (bx, 0);

  /* An opaque card, so the readout stays legible over the lines. */
  cairo_new_path (cr);
  cairo_arc (cr, bx + box_w - 6, by + 6, 6, -G_PI / 2, 0);
  cairo_arc (cr, bx + box_w - 6, by + box_h - 6, 6, 0, G_PI / 2);
  cairo_arc (cr, bx + 6, by + box_h - 6, 6, G_PI / 2, G_PI);
  cairo_arc (cr, bx + 6, by + 6, 6, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
  cairo_set_dash (cr, NULL, 0, 0);
  cairo_set_line_width (cr, 1.0);
  if (dark)
    cairo_set_source_rgba (cr, 0.22, 0.22, 0.24, 0.96);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 0.96);
  cairo_fill_preserve (cr);
  graft_cairo_set_color (cr, &self->fg, 0.15);
  cairo_stroke (cr);

  graft_cairo_set_color (cr, &self->fg, 1.0);
  graft_cairo_text_show (cr, title_layout, bx + PAD, by + PAD);
  for (int r = 0; r < n_rows; r++)
    {
      guint s = g_array_index (rows, guint, r);
      double y = by + PAD + title_h + 4 + r * row_height;

      graft_cairo_set_color (cr, &palette[s % G_N_ELEMENTS (palette)], 1.0);
      cairo_arc (cr, bx + PAD + 4, y + row_height / 2, 4, 0, 2 * G_PI);
      cairo_fill (cr);
      graft_cairo_set_color (cr, &self->fg, 0.75);
      graft_cairo_text_show (cr, g_ptr_array_index (names, r), bx + PAD + 14,
                             y);
      graft_cairo_set_color (cr, &self->fg, 1.0);
      double vw, vh;
      graft_cairo_text_size (g_ptr_array_index (values, r), &vw, &vh);
      graft_cairo_text_show (cr, g_ptr_array_index (values, r),
                             bx + box_w - PAD - vw, y);
    }
}

static void
draw_empty (GraftChart *self, cairo_t *cr, int width, int height)
{
  g_autoptr (PangoLayout) layout =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, self->empty_text, 1.1);
  double w, h;

  pango_layout_set_width (layout,
                          (int) (MAX (width - 2 * PAD, 1) * PANGO_SCALE));
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  graft_cairo_text_size (layout, &w, &h);
  graft_cairo_set_color (cr, &self->fg, 0.55);
  graft_cairo_text_show (cr, layout, PAD, floor ((height - h) / 2));
}

void
graft_chart_draw (GraftChart *self, cairo_t *cr, int width, int height)
{
  double x_min, x_max, y_min, y_max;
  double x_step, y_step, w, h;
  ChartFrame *f = &self->frame;

  g_return_if_fail (GRAFT_IS_CHART (self));
  g_return_if_fail (cr != NULL);

  f->valid = FALSE;
  if (width <= 0 || height <= 0)
    return;

  cairo_save (cr);
  if (!data_extent (self, &x_min, &x_max, &y_min, &y_max))
    {
      draw_empty (self, cr, width, height);
      cairo_restore (cr);
      return;
    }

  /* Data ranges: x from the first epoch (or 0), y from 0 for losses. */
  f->x_lo = MIN (0, x_min);
  f->x_hi = x_max > f->x_lo ? x_max : f->x_lo + 1;
  if (self->percent)
    {
      f->y_lo = 0;
      f->y_hi = 1;
    }
  else
    {
      f->y_lo = y_min >= 0 ? 0 : y_min;
      f->y_hi = y_max > f->y_lo ? y_max : f->y_lo + 1;
    }

  /* Space for the text around the plot */
  g_autoptr (PangoLayout) x_title =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, self->x_title, 0.9);
  g_autoptr (PangoLayout) y_title =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, self->y_title, 0.9);
  g_autoptr (PangoLayout) sample =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, "0.0", 0.85);
  double tick_h, x_title_h, y_title_h;

  graft_cairo_text_size (sample, &w, &tick_h);
  graft_cairo_text_size (x_title, &w, &x_title_h);
  graft_cairo_text_size (y_title, &w, &y_title_h);

  double legend_h = draw_legend (self, cr, width - PAD, PAD,
                                 MAX (width - 2 * PAD, 40), FALSE);
  f->top = PAD + legend_h + PAD;
  f->height = height - f->top - (TICK_LEN + 2 + tick_h + 4 + x_title_h + PAD);
  if (f->height < 20)
    f->height = 20;

  /* y ticks: nice steps over the range, widened to whole steps */
  y_step = self->percent ? (f->height > 160 ? 0.2 : 0.25)
                         : nice_step (f->y_hi - f->y_lo,
                                      CLAMP ((int) (f->height / 40), 2, 8));
  if (!self->percent)
    {
      f->y_lo = floor (f->y_lo / y_step + 1e-9) * y_step;
      f->y_hi = ceil (f->y_hi / y_step - 1e-9) * y_step;
    }

  double label_w = 0, right_room = PAD;
  for (double v = f->y_lo; v <= f->y_hi + y_step / 2; v += y_step)
    {
      g_autofree char *text = format_tick (self, v, y_step);
      g_autoptr (PangoLayout) layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, text, 0.85);

      graft_cairo_text_size (layout, &w, &h);
      label_w = MAX (label_w, w);
    }
  f->left = PAD + y_title_h + 6 + label_w + TICK_LEN + 2;

  /* The last x tick's label is centered on the plot's right edge, so the
   * plot leaves room for its right half. Its text ("4", "4.0", "1000")
   * follows the step, and the step the plot's width: measure the label the
   * width gives, and narrow the plot until it fits. */
  double data_x_hi = f->x_hi;
  for (int pass = 0; pass < 3; pass++)
    {
      f->width = MAX (width - f->left - right_room, 20);
      x_step =
          nice_step (data_x_hi - f->x_lo, CLAMP ((int) (f->width / 70), 1, 10));
      /* Epochs are whole numbers; halves only when there is little data. */
      f->x_hi = ceil (data_x_hi / x_step - 1e-9) * x_step;

      g_autofree char *text =
          g_strdup_printf ("%.*f", step_decimals (x_step), f->x_hi);
      g_autoptr (PangoLayout) layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, text, 0.85);
      double needed;

      graft_cairo_text_size (layout, &w, &h);
      needed = MAX (PAD, ceil (w / 2) + 2);
      if (needed <= right_room)
        break;
      right_room = needed;
    }
  f->valid = TRUE;

  /* Grid and ticks */
  cairo_set_line_width (cr, 1.0);
  for (double v = f->y_lo; v <= f->y_hi + y_step / 2; v += y_step)
    {
      double py = floor (map_y (f, v)) + 0.5;
      g_autofree char *text = format_tick (self, v, y_step);
      g_autoptr (PangoLayout) layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, text, 0.85);

      graft_cairo_set_color (cr, &self->fg,
                             fabs (v - f->y_lo) < y_step / 2 ? 0.35 : 0.1);
      cairo_move_to (cr, f->left - TICK_LEN, py);
      cairo_line_to (cr, f->left + f->width, py);
      cairo_stroke (cr);
      graft_cairo_text_size (layout, &w, &h);
      graft_cairo_set_color (cr, &self->fg, 0.7);
      graft_cairo_text_show (cr, layout, f->left - TICK_LEN - 2 - w,
                             py - h / 2);
    }
  for (double v = f->x_lo; v <= f->x_hi + x_step / 2; v += x_step)
    {
      double px = floor (map_x (f, v)) + 0.5;
      g_autofree char *text =
          g_strdup_printf ("%.*f", step_decimals (x_step), v);
      g_autoptr (PangoLayout) layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, text, 0.85);

      graft_cairo_set_color (cr, &self->fg, 0.35);
      cairo_move_to (cr, px, f->top + f->height);
      cairo_line_to (cr, px, f->top + f->height + TICK_LEN);
      cairo_stroke (cr);
      graft_cairo_text_size (layout, &w, &h);
      graft_cairo_set_color (cr, &self->fg, 0.7);
      graft_cairo_text_show (cr, layout, px - w / 2,
                             f->top + f->height + TICK_LEN + 2);
    }

  /* Axis titles: x centered below, y rotated along the left edge */
  graft_cairo_set_color (cr, &self->fg, 0.85);
  graft_cairo_text_size (x_title, &w, &h);
  graft_cairo_text_show (cr, x_title, f->left + (f->width - w) / 2,
                         height - PAD - h);
  graft_cairo_text_size (y_title, &w, &h);
  cairo_save (cr);
  cairo_translate (cr, PAD, f->top + (f->height + w) / 2);
  cairo_rotate (cr, -G_PI / 2);
  graft_cairo_text_show (cr, y_title, 0, 0);
  cairo_restore (cr);

  /* Series, clipped to the plot with room for the line's width */
  cairo_save (cr);
  cairo_rectangle (cr, f->left - 4, f->top - 4, f->width + 8, f->height + 8);
  cairo_clip (cr);
  for (guint s = 0; s < self->series->len; s++)
    {
      ChartSeries *series = g_ptr_array_index (self->series, s);

      set_series_style (cr, series, s);
      draw_series_line (cr, f, series);
      if (series->flags & GRAFT_CHART_SERIES_MARKERS)
        draw_series_markers (cr, f, series);
    }
  cairo_restore (cr);

  draw_legend (self, cr, width - PAD, PAD, MAX (width - 2 * PAD, 40), TRUE);

  if (isfinite (self->hover_x))
    draw_hover (self, cr, f);

  cairo_restore (cr);
}

/* ---- widget -------------------------------------------------------------- */

static void
graft_chart_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  GraftChart *self = GRAFT_CHART (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  cairo_t *cr;

  /* Deprecated in 4.10 for gtk_widget_get_color, which 4.8 lacks. */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget),
                               &self->fg);
  cr = gtk_snapshot_append_cairo (snapshot,
                                  &GRAPHENE_RECT_INIT (0, 0, width, height));
  graft_chart_draw (self, cr, width, height);
  cairo_destroy (cr);
}

static void
graft_chart_measure (GtkWidget *widget,
                     GtkOrientation orientation,
                     int for_size,
                     int *minimum,
                     int *natural,
                     int *minimum_baseline,
                     int *natural_baseline)
{
  gboolean horizontal = orientation == GTK_ORIENTATION_HORIZONTAL;

  *minimum = horizontal ? 240 : 160;
  *natural = horizontal ? 480 : 280;
}

static void
on_motion (GtkEventControllerMotion *motion,
           double x,
           double y,
           GraftChart *self)
{
  ChartFrame *f = &self->frame;

  if (!f->valid || x < f->left - 8 || x > f->left + f->width + 8)
    {
      graft_chart_set_hover_x (self, NAN);
      return;
    }
  graft_chart_set_hover_x (self, f->x_lo + (x - f->left) / f->width *
                                               (f->x_hi - f->x_lo));
}

static void
on_leave (GtkEventControllerMotion *motion, GraftChart *self)
{
  graft_chart_set_hover_x (self, NAN);
}

static void
graft_chart_finalize (GObject *object)
{
  GraftChart *self = GRAFT_CHART (object);

  g_clear_pointer (&self->series, g_ptr_array_unref);
  g_clear_pointer (&self->x_title, g_free);
  g_clear_pointer (&self->y_title, g_free);
  g_clear_pointer (&self->empty_text, g_free);

  G_OBJECT_CLASS (graft_chart_parent_class)->finalize (object);
}

static void
graft_chart_get_property (GObject *object,
                          guint prop_id,
                          GValue *value,
                          GParamSpec *pspec)
{
  GraftChart *self = GRAFT_CHART (object);

  switch (prop_id)
    {
    case PROP_X_TITLE:
      g_value_set_string (value, self->x_title);
      break;
    case PROP_Y_TITLE:
      g_value_set_string (value, self->y_title);
      break;
    case PROP_EMPTY_TEXT:
      g_value_set_string (value, self->empty_text);
      break;
    case PROP_PERCENT:
      g_value_set_boolean (value, self->percent);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_chart_set_property (GObject *object,
                          guint prop_id,
                          const GValue *value,
                          GParamSpec *pspec)
{
  GraftChart *self = GRAFT_CHART (object);

  switch (prop_id)
    {
    case PROP_X_TITLE:
      graft_chart_set_x_title (self, g_value_get_string (value));
      break;
    case PROP_Y_TITLE:
      graft_chart_set_y_title (self, g_value_get_string (value));
      break;
    case PROP_EMPTY_TEXT:
      graft_chart_set_empty_text (self, g_value_get_string (value));
      break;
    case PROP_PERCENT:
      graft_chart_set_percent (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_chart_class_init (GraftChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags flags =
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = graft_chart_finalize;
  object_class->get_property = graft_chart_get_property;
  object_class->set_property = graft_chart_set_property;
  widget_class->snapshot = graft_chart_snapshot;
  widget_class->measure = graft_chart_measure;

  properties[PROP_X_TITLE] =
      g_param_spec_string ("x-title", NULL, NULL, NULL, flags);
  properties[PROP_Y_TITLE] =
      g_param_spec_string ("y-title", NULL, NULL, NULL, flags);
  properties[PROP_EMPTY_TEXT] =
      g_param_spec_string ("empty-text", NULL, NULL, NULL, flags);
  properties[PROP_PERCENT] =
      g_param_spec_boolean ("percent", NULL, NULL, FALSE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "graft-chart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
graft_chart_init (GraftChart *self)
{
  GtkEventController *motion = gtk_event_controller_motion_new ();

  self->series = g_ptr_array_new_with_free_func (chart_series_free);
  self->x_title = g_strdup (_ ("Epoch"));
  self->y_title = g_strdup (_ ("Loss"));
  self->empty_text = g_strdup (_ ("Training has not started"));
  self->hover_x = NAN;
  /* Adwaita's light foreground until the first snapshot reads the CSS */
  self->fg = (GdkRGBA){ 0, 0, 0, 0.8 };

  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

/* ---- public -------------------------------------------------------------- */

GtkWidget *
graft_chart_new (void)
{
  return g_object_new (GRAFT_TYPE_CHART, NULL);
}

int
graft_chart_add_series (GraftChart *self,
                        const char *name,
                        GraftChartSeriesFlags flags)
{
  ChartSeries *series;

  g_return_val_if_fail (GRAFT_IS_CHART (self), -1);
  g_return_val_if_fail (name != NULL, -1);

  series = g_new0 (ChartSeries, 1);
  series->name = g_strdup (name);
  series->flags = flags;
  series->points = g_array_new (FALSE, FALSE, sizeof (ChartPoint));
  g_ptr_array_add (self->series, series);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return (int) self->series->len - 1;
}

int
graft_chart_get_n_series (GraftChart *self)
{
  g_return_val_if_fail (GRAFT_IS_CHART (self), 0);
  return (int) self->series->len;
}

void
graft_chart_add_point (GraftChart *self, int series, double x, double y)
{
  ChartPoint point = { x, y };
  ChartSeries *s;

  g_return_if_fail (GRAFT_IS_CHART (self));
  g_return_if_fail (series >= 0 && (guint) series < self->series->len);
  g_return_if_fail (isfinite (x));

  s = g_ptr_array_index (self->series, series);
  g_return_if_fail (
      s->points->len == 0 ||
      x >= g_array_index (s->points, ChartPoint, s->points->len - 1).x);
  g_array_append_val (s->points, point);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
graft_chart_get_n_points (GraftChart *self, int series)
{
  g_return_val_if_fail (GRAFT_IS_CHART (self), 0);
  g_return_val_if_fail (series >= 0 && (guint) series < self->series->len, 0);
  return ((ChartSeries *) g_ptr_array_index (self->series, series))
      ->points->len;
}

void
graft_chart_clear (GraftChart *self)
{
  g_return_if_fail (GRAFT_IS_CHART (self));

  g_ptr_array_set_size (self->series, 0);
  self->hover_x = NAN;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Sets a string property; returns FALSE when nothing changed. */
static gboolean
set_string (GraftChart *self, char **field, const char *value, int prop)
{
  if (value == NULL)
    value = "";
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
  return TRUE;
}

const char *
graft_chart_get_x_title (GraftChart *self)
{
  g_return_val_if_fail (GRAFT_IS_CHART (self), NULL);
  return self->x_title;
}

void
graft_chart_set_x_title (GraftChart *self, const char *title)
{
  g_return_if_fail (GRAFT_IS_CHART (self));
  set_string (self, &self->x_title, title, PROP_X_TITLE);
}

const char *
graft_chart_get_y_title (GraftChart *self)
{
  g_return_val_if_fail (GRAFT_IS_CHART (self), NULL);
  return self->y_title;
}

void
graft_chart_set_y_title (GraftChart *self, const char *title)
{
  g_return_if_fail (GRAFT_IS_CHART (self));
  set_string (self, &self->y_title, title, PROP_Y_TITLE);
}

const char *
graft_chart_get_empty_text (GraftChart *self)
{
  g_return_val_if_fail (GRAFT_IS_CHART (self), NULL);
  return self->empty_text;
}

void
graft_chart_set_empty_text (GraftChart *self, const char *text)
{
  g_return_if_fail (GRAFT_IS_CHART (self));
  set_string (self, &self->empty_text, text, PROP_EMPTY_TEXT);
}

gboolean
graft_chart_get_percent (GraftChart *self)
{
  g_return_val_if_fail (GRAFT_IS_CHART (self), FALSE);
  return self->percent;
}

void
graft_chart_set_percent (GraftChart *self, gboolean percent)
{
  g_return_if_fail (GRAFT_IS_CHART (self));

  percent = !!percent;
  if (self->percent == percent)
    return;
  self->percent = percent;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PERCENT]);
}

void
graft_chart_set_hover_x (GraftChart *self, double x)
{
  g_return_if_fail (GRAFT_IS_CHART (self));

  if (self->hover_x == x || (isnan (self->hover_x) && isnan (x)))
    return;
  self->hover_x = x;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
graft_chart_get_hover_x (GraftChart *self)
{
  g_return_val_if_fail (GRAFT_IS_CHART (self), NAN);
  return self->hover_x;
}
