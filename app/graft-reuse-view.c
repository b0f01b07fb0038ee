/* graft-reuse-view.c: which layers' features a fine-tune kept.
 *
 * One row per block of the base model's trunk, in network order: its name,
 * its CKA (engine/reuse.h: 1 when the block still sees the photos as the
 * original model did) as a bar over a 0..1 track, coloured by the reading,
 * and how far its weights moved, as a thin bar on a log scale (1e-4 to 1)
 * with the percentage, or "frozen". Faint lines at 0.5 and 0.9 mark where
 * the readings change. The colours are libadwaita's palette at tones that
 * read over both the light and the dark background; the text and the
 * tracks take the widget's CSS color, so they follow the style. The bar
 * colour is never the only cue: the tooltip says the reading in words.
 */
#include "config.h"

#include "graft-reuse-view.h"

#include "graft-cairo-text.h"

#include <glib/gi18n.h>
#include <math.h>

#define PAD 4.0
#define GAP 12.0
#define MIN_ROW_HEIGHT 26.0
#define SWATCH 12.0
/* The weight bar's scale: a relative change of 1e-4 or less is a sliver,
 * 1 (the weights moved as far as their own size) fills it. */
#define WEIGHT_LOG_MIN -4.0

typedef struct
{
  gboolean valid;
  int width, height;
  double explanation_y, legend_y, header_y, rows_y, axis_y;
  double row_height;
  double name_x, name_w;
  double track_x, track_w;
  double value_x, value_w;
  double weight_x, weight_bar_w, weight_w;
  int n_rows;
} ViewGeometry;

struct _GraftReuseView
{
  GtkWidget parent_instance;

  GraftReuseBlock *blocks;
  int n_blocks;
  char *explanation;
  int hover;
  /* What every name starts with up to a '/' ("MobilenetV2/"), left out of
   * the rows (not the tooltip) so that what tells them apart shows. */
  size_t prefix_len;

  GdkRGBA fg; /* from CSS at each snapshot */
  ViewGeometry geometry;
};

G_DEFINE_FINAL_TYPE (GraftReuseView, graft_reuse_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_N_BLOCKS,
  PROP_EXPLANATION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* libadwaita's blue_3, yellow_5 and red_3: one cool and two warm tones
 * that stay apart for the common colour blindnesses as well. */
static const GdkRGBA kept_color = { 0x35 / 255., 0x84 / 255., 0xe4 / 255., 1 };
static const GdkRGBA adapted_color = { 0xe5 / 255., 0xa5 / 255., 0x0a / 255.,
                                       1 };
static const GdkRGBA rebuilt_color = { 0xe0 / 255., 0x1b / 255., 0x24 / 255.,
                                       1 };
static const GdkRGBA unknown_color = { 0x9a / 255., 0x99 / 255., 0x96 / 255.,
                                       1 };

void
graft_reuse_view_get_reading_color (GraftReuseReading reading, GdkRGBA *color)
{
  switch (reading)
    {
    case GRAFT_REUSE_KEPT:
      *color = kept_color;
      break;
    case GRAFT_REUSE_ADAPTED:
      *color = adapted_color;
      break;
    case GRAFT_REUSE_REBUILT:
      *color = rebuilt_color;
      break;
    case GRAFT_REUSE_UNKNOWN:
    default:
      *color = unknown_color;
      break;
    }
}

const char *
graft_reuse_view_reading_label (GraftReuseReading reading)
{
  switch (reading)
    {
    case GRAFT_REUSE_KEPT:
      return _ ("Kept: the features are reused");
    case GRAFT_REUSE_ADAPTED:
      return _ ("Adapted: the features partly changed");
    case GRAFT_REUSE_REBUILT:
      return _ ("Rebuilt: the features changed a lot");
    case GRAFT_REUSE_UNKNOWN:
    default:
      return _ ("Not measured: these features do not vary over the photos");
    }
}

static const char *
default_explanation (void)
{
  return _ ("How much each layer still sees the photos the way the original "
            "model did: 1 = unchanged features.");
}

/* ---- numbers in words ---------------------------------------------------- */

static char *
cka_text (double cka)
{
  if (!isfinite (cka))
    return g_strdup (_ ("n/a"));
  return g_strdup_printf ("%.2f", cka);
}

/* The relative weight change as a percentage of the weights' own size. */
static char *
weight_text (const GraftReuseBlock *block)
{
  double percent = 100 * block->weight_change;

  if (block->unchanged)
    /* Translators: the block's weights were not trained */
    return g_strdup (_ ("frozen"));
  if (!isfinite (percent))
    return g_strdup (_ ("n/a"));
  if (percent >= 10)
    return g_strdup_printf ("%.0f%%", percent);
  if (percent >= 1)
    return g_strdup_printf ("%.1f%%", percent);
  if (percent >= 0.01)
    return g_strdup_printf ("%.2f%%", percent);
  return g_strdup ("<0.01%");
}

/* 0..1 along the weight bar, log scale */
static double
weight_fraction (double change)
{
  if (!(change > 0) || !isfinite (change))
    return 0;
  return CLAMP ((log10 (change) - WEIGHT_LOG_MIN) / -WEIGHT_LOG_MIN, 0.03, 1);
}

static gboolean
any_unknown (GraftReuseView *self)
{
  for (int i = 0; i < self->n_blocks; i++)
    if (!isfinite (self->blocks[i].cka))
      return TRUE;
  return FALSE;
}

/* ---- layout -------------------------------------------------------------- */

typedef struct
{
  GraftReuseReading reading;
  const char *text;
} LegendItem;

static int
legend_items (GraftReuseView *self, LegendItem items[4])
{
  int n = 0;

  items[n++] = (LegendItem){ GRAFT_REUSE_KEPT, _ ("Kept (0.9 or more)") };
  items[n++] = (LegendItem){ GRAFT_REUSE_ADAPTED, _ ("Adapted (0.5 to 0.9)") };
  items[n++] = (LegendItem){ GRAFT_REUSE_REBUILT, _ ("Rebuilt (below 0.5)") };
  if (any_unknown (self))
    items[n++] = (LegendItem){ GRAFT_REUSE_UNKNOWN, _ ("Not measured") };
  return n;
}

/* Lays the legend out left to right, wrapping; draws it when draw is set.
 * Returns its height. */
static double
legend (
    GraftReuseView *self, cairo_t *cr, double y, double width, gboolean draw)
{
  LegendItem items[4];
  int n = legend_items (self, items);
  double x = PAD, line_h = 0, top = y;

  for (int i = 0; i < n; i++)
    {
      g_autoptr (PangoLayout) layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, items[i].text, 0.9);
      double w, h, item_w;
      GdkRGBA color;

      graft_cairo_text_size (layout, &w, &h);
      item_w = SWATCH + 6 + w;
      if (x > PAD && x + item_w > width - PAD)
        {
          x = PAD;
          y += line_h + 4;
          line_h = 0;
        }
      line_h = MAX (line_h, MAX (h, SWATCH));
      if (draw)
        {
          graft_reuse_view_get_reading_color (items[i].reading, &color);
          graft_cairo_set_color (cr, &color, 1);
          graft_cairo_rounded_rect (cr, x, y + (h - SWATCH) / 2, SWATCH, SWATCH,
                                    3);
          cairo_fill (cr);
          graft_cairo_set_color (cr, &self->fg, 0.8);
          graft_cairo_text_show (cr, layout, x + SWATCH + 6, y);
        }
      x += item_w + 18;
    }
  return y + line_h - top;
}

/* Computes where everything goes at width; returns the height needed. */
static double
compute_geometry (GraftReuseView *self, cairo_t *cr, int width, ViewGeometry *g)
{
  g_autoptr (PangoLayout) explanation =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, self->explanation, 1.0);
  g_autoptr (PangoLayout) header =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, "Ag", 0.85);
  g_autoptr (PangoLayout) value =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, "0.00", 0.9);
  g_autoptr (PangoLayout) weight =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, "<0.01%", 0.9);
  g_autoptr (PangoLayout) frozen =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, _ ("frozen"), 0.9);
  double w, h, header_h, widest = 0, y = PAD;

  memset (g, 0, sizeof *g);
  g->width = width;
  pango_layout_set_width (explanation,
                          (int) (MAX (width - 2 * PAD, 1) * PANGO_SCALE));
  pango_layout_set_wrap (explanation, PANGO_WRAP_WORD_CHAR);
  graft_cairo_text_size (explanation, &w, &h);
  g->explanation_y = y;
  y += h + 8;
  g->legend_y = y;
  y += legend (self, cr, y, width, FALSE) + 14;

  graft_cairo_text_size (header, &w, &header_h);
  g->row_height = MAX (MIN_ROW_HEIGHT, ceil (header_h / 0.85) + 10);
  for (int i = 0; i < self->n_blocks; i++)
    {
      g_autoptr (PangoLayout) name = graft_cairo_text_layout (
          GTK_WIDGET (self), cr, self->blocks[i].name + self->prefix_len, 0.9);
      graft_cairo_text_size (name, &w, &h);
      widest = MAX (widest, w);
    }
  g->name_x = PAD;
  g->name_w = CLAMP (widest, 60, MAX (width * 0.28, 60));
  graft_cairo_text_size (value, &g->value_w, &h);
  graft_cairo_text_size (weight, &w, &h);
  g->weight_w = w;
  graft_cairo_text_size (frozen, &w, &h);
  g->weight_w = MAX (g->weight_w, w);
  g->weight_bar_w = CLAMP (width * 0.12, 24, 90);
  g->weight_x = width - PAD - g->weight_w - 6 - g->weight_bar_w;
  g->value_x = g->weight_x - GAP - g->value_w - 4;
  g->track_x = g->name_x + g->name_w + GAP;
  g->track_w = MAX (g->value_x - 6 - g->track_x, 1);

  g->header_y = y;
  y += header_h + 6;
  g->rows_y = y;
  g->n_rows = self->n_blocks;
  y += g->n_rows * g->row_height;
  g->axis_y = y + 2;
  y += 2 + header_h + PAD;
  g->height = (int) ceil (y);
  return y;
}

/* ---- drawing ------------------------------------------------------------- */

static void
draw_headers (GraftReuseView *self, cairo_t *cr, const ViewGeometry *g)
{
  g_autoptr (PangoLayout) name =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, _ ("Block"), 0.85);
  g_autoptr (PangoLayout) features = graft_cairo_text_layout (
      GTK_WIDGET (self), cr, _ ("Features like the original’s (CKA)"), 0.85);
  g_autoptr (PangoLayout) weights = graft_cairo_text_layout (
      GTK_WIDGET (self), cr, _ ("Weights moved"), 0.85);
  double w, h;

  graft_cairo_set_color (cr, &self->fg, 0.6);
  pango_layout_set_width (name, (int) (g->name_w * PANGO_SCALE));
  pango_layout_set_ellipsize (name, PANGO_ELLIPSIZE_END);
  graft_cairo_text_show (cr, name, g->name_x, g->header_y);
  pango_layout_set_width (features, (int) (g->track_w * PANGO_SCALE));
  pango_layout_set_ellipsize (features, PANGO_ELLIPSIZE_END);
  graft_cairo_text_show (cr, features, g->track_x, g->header_y);
  graft_cairo_text_size (weights, &w, &h);
  graft_cairo_text_show (cr, weights, g->width - PAD - w, g->header_y);
}

/* Where the readings change: faint dashed lines through every row, drawn
 * before the rows so that the bars cover them. */
static void
draw_thresholds (GraftReuseView *self, cairo_t *cr, const ViewGeometry *g)
{
  static const double thresholds[] = { GRAFT_REUSE_REBUILT_CKA,
                                       GRAFT_REUSE_KEPT_CKA };
  const double dash[] = { 2, 3 };

  graft_cairo_set_color (cr, &self->fg, 0.25);
  cairo_set_line_width (cr, 1);
  cairo_set_dash (cr, dash, 2, 0);
  for (guint i = 0; i < G_N_ELEMENTS (thresholds); i++)
    {
      double x = floor (g->track_x + thresholds[i] * g->track_w) + 0.5;
      cairo_move_to (cr, x, g->rows_y);
      cairo_line_to (cr, x, g->rows_y + g->n_rows * g->row_height);
    }
  cairo_stroke (cr);
  cairo_set_dash (cr, NULL, 0, 0);
}

/* The scale under the track. */
static void
draw_axis (GraftReuseView *self, cairo_t *cr, const ViewGeometry *g)
{
  static const double ticks[] = { 0, GRAFT_REUSE_REBUILT_CKA,
                                  GRAFT_REUSE_KEPT_CKA, 1 };

  graft_cairo_set_color (cr, &self->fg, 0.6);
  for (guint i = 0; i < G_N_ELEMENTS (ticks); i++)
    {
      double x = floor (g->track_x + ticks[i] * g->track_w) + 0.5;
      g_autofree char *text = g_strdup_printf ("%g", ticks[i]);
      g_autoptr (PangoLayout) layout =
          graft_cairo_text_layout (GTK_WIDGET (self), cr, text, 0.8);
      double w, h;

      graft_cairo_text_size (layout, &w, &h);
      graft_cairo_text_show (
          cr, layout,
          CLAMP (x - w / 2, g->track_x, g->track_x + g->track_w - w),
          g->axis_y);
    }
}

static void
draw_row (GraftReuseView *self, cairo_t *cr, const ViewGeometry *g, int i)
{
  const GraftReuseBlock *block = &self->blocks[i];
  double y = g->rows_y + i * g->row_height;
  double bar_h = MAX (g->row_height - 12, 6);
  double bar_y = y + (g->row_height - bar_h) / 2;
  g_autoptr (PangoLayout) name = graft_cairo_text_layout (
      GTK_WIDGET (self), cr, block->name + self->prefix_len, 0.9);
  g_autofree char *value_str = cka_text (block->cka);
  g_autoptr (PangoLayout) value =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, value_str, 0.9);
  g_autofree char *weight_str = weight_text (block);
  g_autoptr (PangoLayout) weight =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, weight_str, 0.9);
  GdkRGBA color;
  double w, h;

  if (i == self->hover)
    {
      graft_cairo_set_color (cr, &self->fg, 0.06);
      graft_cairo_rounded_rect (cr, 0, y + 1, g->width, g->row_height - 2, 4);
      cairo_fill (cr);
    }

  graft_cairo_set_color (cr, &self->fg, 0.9);
  pango_layout_set_width (name, (int) (g->name_w * PANGO_SCALE));
  pango_layout_set_ellipsize (name, PANGO_ELLIPSIZE_MIDDLE);
  graft_cairo_text_size (name, &w, &h);
  graft_cairo_text_show (cr, name, g->name_x, y + (g->row_height - h) / 2);

  /* The track, then the bar over it to the CKA */
  graft_cairo_set_color (cr, &self->fg, 0.08);
  graft_cairo_rounded_rect (cr, g->track_x, bar_y, g->track_w, bar_h, 3);
  cairo_fill (cr);
  if (isfinite (block->cka))
    {
      double fill = CLAMP (block->cka, 0, 1) * g->track_w;
      graft_reuse_view_get_reading_color (block->reading, &color);
      graft_cairo_set_color (cr, &color, 1);
      graft_cairo_rounded_rect (cr, g->track_x, bar_y, MAX (fill, 2), bar_h, 3);
      cairo_fill (cr);
    }
  graft_cairo_set_color (cr, &self->fg, isfinite (block->cka) ? 0.9 : 0.5);
  graft_cairo_text_size (value, &w, &h);
  graft_cairo_text_show (cr, value, g->value_x, y + (g->row_height - h) / 2);

  /* The weights: a thin neutral bar, log scale, and the percentage */
  if (!block->unchanged)
    {
      graft_cairo_set_color (cr, &self->fg, 0.08);
      graft_cairo_rounded_rect (cr, g->weight_x, y + g->row_height / 2 - 2,
                                g->weight_bar_w, 4, 2);
      cairo_fill (cr);
      graft_cairo_set_color (cr, &self->fg, 0.55);
      graft_cairo_rounded_rect (
          cr, g->weight_x, y + g->row_height / 2 - 2,
          weight_fraction (block->weight_change) * g->weight_bar_w, 4, 2);
      cairo_fill (cr);
    }
  graft_cairo_set_color (cr, &self->fg, block->unchanged ? 0.5 : 0.9);
  graft_cairo_text_size (weight, &w, &h);
  graft_cairo_text_show (cr, weight, g->width - PAD - w,
                         y + (g->row_height - h) / 2);
}

static void
draw_empty (GraftReuseView *self, cairo_t *cr, int width, int height)
{
  g_autoptr (PangoLayout) layout = graft_cairo_text_layout (
      GTK_WIDGET (self), cr, _ ("Nothing measured yet"), 1.0);
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
graft_reuse_view_draw (GraftReuseView *self, cairo_t *cr, int width, int height)
{
  ViewGeometry *g = &self->geometry;

  g_return_if_fail (GRAFT_IS_REUSE_VIEW (self));
  g_return_if_fail (cr != NULL);

  g->valid = FALSE;
  if (width <= 0 || height <= 0)
    return;
  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_clip (cr);
  if (self->n_blocks == 0)
    {
      draw_empty (self, cr, width, height);
      cairo_restore (cr);
      return;
    }
  compute_geometry (self, cr, width, g);
  g->valid = TRUE;
  {
    g_autoptr (PangoLayout) explanation =
        graft_cairo_text_layout (GTK_WIDGET (self), cr, self->explanation, 1.0);
    pango_layout_set_width (explanation,
                            (int) (MAX (width - 2 * PAD, 1) * PANGO_SCALE));
    pango_layout_set_wrap (explanation, PANGO_WRAP_WORD_CHAR);
    graft_cairo_set_color (cr, &self->fg, 0.85);
    graft_cairo_text_show (cr, explanation, PAD, g->explanation_y);
  }
  legend (self, cr, g->legend_y, width, TRUE);
  draw_headers (self, cr, g);
  draw_thresholds (self, cr, g);
  for (int i = 0; i < g->n_rows; i++)
    draw_row (self, cr, g, i);
  draw_axis (self, cr, g);
  cairo_restore (cr);
}

int
graft_reuse_view_block_at (GraftReuseView *self, double x, double y)
{
  ViewGeometry *g = &self->geometry;
  int row;

  g_return_val_if_fail (GRAFT_IS_REUSE_VIEW (self), -1);
  if (!g->valid || x < 0 || x >= g->width || y < g->rows_y)
    return -1;
  row = (int) ((y - g->rows_y) / g->row_height);
  return row < MIN (g->n_rows, self->n_blocks) ? row : -1;
}

gboolean
graft_reuse_view_get_track (GraftReuseView *self,
                            int index,
                            graphene_rect_t *track)
{
  ViewGeometry *g = &self->geometry;
  double bar_h = MAX (g->row_height - 12, 6);

  g_return_val_if_fail (GRAFT_IS_REUSE_VIEW (self), FALSE);
  g_return_val_if_fail (track != NULL, FALSE);
  if (!g->valid || index < 0 || index >= MIN (g->n_rows, self->n_blocks))
    return FALSE;
  graphene_rect_init (track, g->track_x,
                      g->rows_y + index * g->row_height +
                          (g->row_height - bar_h) / 2,
                      g->track_w, bar_h);
  return TRUE;
}

/* A scratch context to lay text out in when there is no draw. */
int
graft_reuse_view_get_height_for_width (GraftReuseView *self, int width)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  ViewGeometry g;
  double height;

  g_return_val_if_fail (GRAFT_IS_REUSE_VIEW (self), 0);
  if (self->n_blocks == 0)
    return 48;
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, 1, 1);
  cr = cairo_create (surface);
  height = compute_geometry (self, cr, MAX (width, 1), &g);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);
  return (int) ceil (height);
}

/* ---- input --------------------------------------------------------------- */

static void
set_hover (GraftReuseView *self, int row)
{
  if (self->hover == row)
    return;
  self->hover = row;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_motion (GtkEventControllerMotion *motion,
           double x,
           double y,
           GraftReuseView *self)
{
  set_hover (self, graft_reuse_view_block_at (self, x, y));
}

static void
on_leave (GtkEventControllerMotion *motion, GraftReuseView *self)
{
  set_hover (self, -1);
}

static gboolean
graft_reuse_view_query_tooltip (GtkWidget *widget,
                                int x,
                                int y,
                                gboolean keyboard_mode,
                                GtkTooltip *tooltip)
{
  GraftReuseView *self = GRAFT_REUSE_VIEW (widget);
  int i = graft_reuse_view_block_at (self, x, y);
  const GraftReuseBlock *block;
  g_autofree char *features = NULL, *weights = NULL, *text = NULL;
  g_autofree char *params = NULL;

  if (keyboard_mode || i < 0)
    return FALSE;
  block = &self->blocks[i];
  if (isfinite (block->cka))
    /* Translators: a block's tooltip: its CKA, then the reading in words */
    features =
        g_strdup_printf (_ ("Features: CKA %.3f. %s."), block->cka,
                         graft_reuse_view_reading_label (block->reading));
  else
    features = g_strdup_printf (
        _ ("Features: %s."), graft_reuse_view_reading_label (block->reading));
  if (block->unchanged)
    weights = g_strdup (_ ("Weights: frozen, exactly as in the original."));
  else
    /* Translators: ‖ΔW‖ / ‖W‖, the change of the weights relative to
     * their size, in percent */
    weights = g_strdup_printf (_ ("Weights: moved %.3g%% of their size."),
                               100 * block->weight_change);
  params = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "%'" G_GINT64_FORMAT " weight in %d layer",
                   "%'" G_GINT64_FORMAT " weights in %d layers",
                   block->n_layers),
      block->params, block->n_layers);
  text = g_strdup_printf ("%s\n%s\n%s\n%s", block->name, features, weights,
                          params);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* ---- widget -------------------------------------------------------------- */

static void
graft_reuse_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  GraftReuseView *self = GRAFT_REUSE_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  cairo_t *cr;

  /* Deprecated in 4.10 for gtk_widget_get_color, which 4.8 lacks. */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget),
                               &self->fg);
  cr = gtk_snapshot_append_cairo (snapshot,
                                  &GRAPHENE_RECT_INIT (0, 0, width, height));
  graft_reuse_view_draw (self, cr, width, height);
  cairo_destroy (cr);
}

static GtkSizeRequestMode
graft_reuse_view_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
graft_reuse_view_measure (GtkWidget *widget,
                          GtkOrientation orientation,
                          int for_size,
                          int *minimum,
                          int *natural,
                          int *minimum_baseline,
                          int *natural_baseline)
{
  GraftReuseView *self = GRAFT_REUSE_VIEW (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 280;
      *natural = 600;
      return;
    }
  *minimum = *natural = graft_reuse_view_get_height_for_width (
      self, for_size > 0 ? for_size : 600);
}

/* The view's own copies: the analysis that made them may go away. */
static void
clear_blocks (GraftReuseView *self)
{
  for (int i = 0; i < self->n_blocks; i++)
    {
      GraftReuseBlock *block = &self->blocks[i];
      for (int l = 0; l < block->n_layers; l++)
        {
          g_free (block->layers[l].name);
          g_free (block->layers[l].op_type);
        }
      g_free (block->layers);
      g_free (block->name);
      g_free (block->value);
    }
  g_clear_pointer (&self->blocks, g_free);
  self->n_blocks = 0;
  self->prefix_len = 0;
}

static void
graft_reuse_view_finalize (GObject *object)
{
  GraftReuseView *self = GRAFT_REUSE_VIEW (object);

  /* Plain memory only (no references to drop in dispose). */
  clear_blocks (self);
  g_free (self->explanation);
  G_OBJECT_CLASS (graft_reuse_view_parent_class)->finalize (object);
}

static void
graft_reuse_view_get_property (GObject *object,
                               guint prop_id,
                               GValue *value,
                               GParamSpec *pspec)
{
  GraftReuseView *self = GRAFT_REUSE_VIEW (object);

  switch (prop_id)
    {
    case PROP_N_BLOCKS:
      g_value_set_int (value, self->n_blocks);
      break;
    case PROP_EXPLANATION:
      g_value_set_string (value, self->explanation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_reuse_view_set_property (GObject *object,
                               guint prop_id,
                               const GValue *value,
                               GParamSpec *pspec)
{
  GraftReuseView *self = GRAFT_REUSE_VIEW (object);
  const char *text;

  switch (prop_id)
    {
    case PROP_EXPLANATION:
      text = g_value_get_string (value);
      if (text == NULL)
        text = default_explanation ();
      if (g_strcmp0 (text, self->explanation) == 0)
        break;
      g_free (self->explanation);
      self->explanation = g_strdup (text);
      gtk_widget_queue_resize (GTK_WIDGET (self));
      g_object_notify_by_pspec (object, pspec);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_reuse_view_class_init (GraftReuseViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = graft_reuse_view_finalize;
  object_class->get_property = graft_reuse_view_get_property;
  object_class->set_property = graft_reuse_view_set_property;
  widget_class->snapshot = graft_reuse_view_snapshot;
  widget_class->measure = graft_reuse_view_measure;
  widget_class->get_request_mode = graft_reuse_view_get_request_mode;
  widget_class->query_tooltip = graft_reuse_view_query_tooltip;

  properties[PROP_N_BLOCKS] = g_param_spec_int (
      "n-blocks", NULL, NULL, 0, G_MAXINT, 0,
      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The line above the rows; NULL sets the default. */
  properties[PROP_EXPLANATION] = g_param_spec_string (
      "explanation", NULL, NULL, NULL,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "graft-reuse-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
graft_reuse_view_init (GraftReuseView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkEventController *motion = gtk_event_controller_motion_new ();

  self->hover = -1;
  self->fg = (GdkRGBA){ 0, 0, 0, 0.8 };
  self->explanation = g_strdup (default_explanation ());
  gtk_widget_set_has_tooltip (widget, TRUE);
  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (widget, motion);
}

/* ---- public -------------------------------------------------------------- */

GtkWidget *
graft_reuse_view_new (void)
{
  return g_object_new (GRAFT_TYPE_REUSE_VIEW, NULL);
}

static size_t
common_prefix (const GraftReuseBlock *blocks, int n_blocks)
{
  size_t len = 0;

  if (n_blocks < 2)
    return 0;
  for (size_t i = 0; blocks[0].name[i] != '\0'; i++)
    {
      for (int b = 1; b < n_blocks; b++)
        if (blocks[b].name[i] != blocks[0].name[i])
          return len;
      if (blocks[0].name[i] == '/')
        len = i + 1;
    }
  return len;
}

/* For screen readers, the picture in a sentence. */
static void
update_description (GraftReuseView *self)
{
  int counts[GRAFT_REUSE_REBUILT + 1] = { 0 };
  g_autofree char *text = NULL;

  for (int i = 0; i < self->n_blocks; i++)
    counts[CLAMP ((int) self->blocks[i].reading, 0, GRAFT_REUSE_REBUILT)]++;
  /* Translators: numbers of blocks whose features were kept, adapted,
   * rebuilt */
  text = g_strdup_printf (_ ("%d blocks: %d kept their features, %d adapted, "
                             "%d rebuilt"),
                          self->n_blocks, counts[GRAFT_REUSE_KEPT],
                          counts[GRAFT_REUSE_ADAPTED],
                          counts[GRAFT_REUSE_REBUILT]);
  gtk_accessible_update_property (
      GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, text, -1);
}

void
graft_reuse_view_set_blocks (GraftReuseView *self,
                             const GraftReuseBlock *blocks,
                             int n_blocks)
{
  gboolean changed;

  g_return_if_fail (GRAFT_IS_REUSE_VIEW (self));
  g_return_if_fail (n_blocks >= 0);
  g_return_if_fail (n_blocks == 0 || blocks != NULL);

  changed = self->n_blocks != n_blocks;
  clear_blocks (self);
  self->blocks = g_new0 (GraftReuseBlock, MAX (n_blocks, 1));
  for (int i = 0; i < n_blocks; i++)
    {
      GraftReuseBlock *copy = &self->blocks[i];

      *copy = blocks[i];
      copy->name = g_strdup (blocks[i].name ? blocks[i].name : "");
      copy->value = g_strdup (blocks[i].value);
      copy->n_layers = MAX (blocks[i].layers ? blocks[i].n_layers : 0, 0);
      copy->layers = g_new0 (GraftReuseLayer, MAX (copy->n_layers, 1));
      for (int l = 0; l < copy->n_layers; l++)
        {
          copy->layers[l] = blocks[i].layers[l];
          copy->layers[l].name = g_strdup (blocks[i].layers[l].name);
          copy->layers[l].op_type = g_strdup (blocks[i].layers[l].op_type);
        }
    }
  self->n_blocks = n_blocks;
  self->prefix_len = common_prefix (self->blocks, n_blocks);
  /* A name that is nothing but the prefix keeps it whole. */
  for (int i = 0; i < n_blocks; i++)
    if (self->blocks[i].name[self->prefix_len] == '\0')
      self->prefix_len = 0;
  self->hover = -1;
  self->geometry.valid = FALSE;
  update_description (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_BLOCKS]);
}

int
graft_reuse_view_get_n_blocks (GraftReuseView *self)
{
  g_return_val_if_fail (GRAFT_IS_REUSE_VIEW (self), 0);
  return self->n_blocks;
}

const GraftReuseBlock *
graft_reuse_view_get_block (GraftReuseView *self, int index)
{
  g_return_val_if_fail (GRAFT_IS_REUSE_VIEW (self), NULL);
  g_return_val_if_fail (index >= 0 && index < self->n_blocks, NULL);
  return &self->blocks[index];
}
