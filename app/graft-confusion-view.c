/* graft-confusion-view.c: a confusion matrix, drawn with Cairo.
 *
 * Rows are the true classes, columns the predicted ones. A cell's shade is
 * its share of the row (so rare classes read as well as common ones): the
 * accent blue at an opacity that grows with the share, over whatever the
 * background is, which works in the light and the dark style alike. Counts
 * go in white on the strong shades and in the foreground color on the
 * faint ones. A click, Enter or space on a cell emits "cell-activated" so
 * that the page can show the photos behind it.
 */
#include "config.h"

#include "graft-confusion-view.h"

#include "graft-cairo-text.h"

#include <glib/gi18n.h>
#include <math.h>

typedef struct
{
  double grid_x, grid_y, cell;
  int n;
  gboolean valid;
} ViewGeometry;

struct _GraftConfusionView
{
  GtkWidget parent_instance;

  int n_classes;
  int *counts; /* [true][predicted] */
  int *row_sums;
  GStrv names;

  int focus_true, focus_predicted;
  int hover_true, hover_predicted;
  int press_true, press_predicted;

  GdkRGBA fg; /* from CSS at each snapshot */
  ViewGeometry geometry;
};

G_DEFINE_FINAL_TYPE (GraftConfusionView, graft_confusion_view, GTK_TYPE_WIDGET)

enum
{
  PROP_0,
  PROP_N_CLASSES,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CELL_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* libadwaita's blue_4, the accent; blue_2 for the focus ring */
static const GdkRGBA cell_color = { 0x1c / 255., 0x71 / 255., 0xd8 / 255., 1 };
static const GdkRGBA focus_color = { 0x62 / 255., 0xa0 / 255., 0xea / 255., 1 };

#define PAD 8.0
#define GAP 6.0
/* Opacity of a cell with no photos and of the weakest non-empty one */
#define EMPTY_ALPHA 0.06
#define MIN_ALPHA 0.12

/* ---- drawing ------------------------------------------------------------- */

static int
count_at (GraftConfusionView *self, int t, int p)
{
  return self->counts[(gsize) t * self->n_classes + p];
}

/* The cell's share of its row, 0..1 */
static double
cell_share (GraftConfusionView *self, int t, int p)
{
  int sum = self->row_sums[t];

  return sum > 0 ? (double) count_at (self, t, p) / sum : 0;
}

static double
cell_alpha (GraftConfusionView *self, int t, int p)
{
  if (count_at (self, t, p) == 0)
    return EMPTY_ALPHA;
  return MIN_ALPHA + (1 - MIN_ALPHA) * cell_share (self, t, p);
}

static void
draw_empty (GraftConfusionView *self, cairo_t *cr, int width, int height)
{
  g_autoptr (PangoLayout) layout = graft_cairo_text_layout (
      GTK_WIDGET (self), cr, _ ("No results yet"), 1.1);
  double w, h;

  pango_layout_set_width (layout,
                          (int) (MAX (width - 2 * PAD, 1) * PANGO_SCALE));
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  graft_cairo_text_size (layout, &w, &h);
  graft_cairo_set_color (cr, &self->fg, 0.55);
  graft_cairo_text_show (cr, layout, PAD, floor ((height - h) / 2));
}

static void
draw_cells (GraftConfusionView *self, cairo_t *cr, const ViewGeometry *g)
{
  double gap = g->cell >= 24 ? 2 : 1;
  double count_scale = CLAMP (g->cell / 40, 0.6, 0.9);
  int n = g->n;

  for (int t = 0; t < n; t++)
    for (int p = 0; p < n; p++)
      {
        double x = g->grid_x + p * g->cell + gap / 2;
        double y = g->grid_y + t * g->cell + gap / 2;
        double side = g->cell - gap;
        double alpha = cell_alpha (self, t, p);

        if (count_at (self, t, p) == 0)
          graft_cairo_set_color (cr, &self->fg, alpha);
        else
          graft_cairo_set_color (cr, &cell_color, alpha);
        graft_cairo_rounded_rect (cr, x, y, side, side, 3);
        cairo_fill (cr);

        g_autofree char *text = g_strdup_printf ("%d", count_at (self, t, p));
        g_autoptr (PangoLayout) layout =
            graft_cairo_text_layout (GTK_WIDGET (self), cr, text, count_scale);
        double w, h;

        graft_cairo_text_size (layout, &w, &h);
        /* Counts only where they fit (the tooltip has them otherwise);
         * zeros only while the grid is sparse enough not to be noise. */
        if (w > side - 4 || h > side - 2 ||
            (count_at (self, t, p) == 0 && g->cell < 28))
          continue;
        if (alpha > 0.5)
          cairo_set_source_rgb (cr, 1, 1, 1);
        else
          graft_cairo_set_color (cr, &self->fg,
                                 count_at (self, t, p) == 0 ? 0.4 : 0.9);
        graft_cairo_text_show (cr, layout, x + (side - w) / 2,
                               y + (side - h) / 2);
      }

  if (self->hover_true >= 0 && self->hover_true < n)
    {
      graft_cairo_set_color (cr, &self->fg, 0.8);
      cairo_set_line_width (cr, 2);
      graft_cairo_rounded_rect (
          cr, g->grid_x + self->hover_predicted * g->cell + gap / 2 + 1,
          g->grid_y + self->hover_true * g->cell + gap / 2 + 1,
          g->cell - gap - 2, g->cell - gap - 2, 3);
      cairo_stroke (cr);
    }
  if (gtk_widget_has_visible_focus (GTK_WIDGET (self)))
    {
      graft_cairo_set_color (cr, &focus_color, 1.0);
      cairo_set_line_width (cr, 2);
      graft_cairo_rounded_rect (cr,
                                g->grid_x + self->focus_predicted * g->cell - 1,
                                g->grid_y + self->focus_true * g->cell - 1,
                                g->cell + 2, g->cell + 2, 4);
      cairo_stroke (cr);
    }
}

/* The class names along the rows (left) and the columns (below); column
 * names run upwards when they do not fit their cell side by side. */
static void
draw_names (GraftConfusionView *self,
            cairo_t *cr,
            const ViewGeometry *g,
            double row_name_w,
            double col_name_len,
            gboolean rotated,
            double scale)
{
  int n = g->n;

  graft_cairo_set_color (cr, &self->fg, 0.8);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (PangoLayout) layout = graft_cairo_text_layout (
          GTK_WIDGET (self), cr, self->names[i], scale);
      double w, h;

      pango_layout_set_width (layout, (int) (row_name_w * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_MIDDLE);
      pango_layout_set_alignment (layout, PANGO_ALIGN_RIGHT);
      graft_cairo_text_size (layout, &w, &h);
      graft_cairo_text_show (cr, layout, g->grid_x - GAP - row_name_w,
                             g->grid_y + (i + 0.5) * g->cell - h / 2);
    }
  for (int i = 0; i < n; i++)
    {
      g_autoptr (PangoLayout) layout = graft_cairo_text_layout (
          GTK_WIDGET (self), cr, self->names[i], scale);
      double w, h;
      double cx = g->grid_x + (i + 0.5) * g->cell;
      double top = g->grid_y + n * g->cell + GAP;

      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_MIDDLE);
      if (!rotated)
        {
          pango_layout_set_width (layout, (int) (g->cell * PANGO_SCALE));
          pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
          graft_cairo_text_size (layout, &w, &h);
          graft_cairo_text_show (cr, layout, cx - g->cell / 2, top);
          continue;
        }
      /* Upwards, right-aligned so every name ends at the grid */
      pango_layout_set_width (layout, (int) (col_name_len * PANGO_SCALE));
      pango_layout_set_alignment (layout, PANGO_ALIGN_RIGHT);
      graft_cairo_text_size (layout, &w, &h);
      cairo_save (cr);
      cairo_translate (cr, cx - h / 2, top + col_name_len);
      cairo_rotate (cr, -G_PI / 2);
      graft_cairo_text_show (cr, layout, 0, 0);
      cairo_restore (cr);
    }
}

void
graft_confusion_view_draw (GraftConfusionView *self,
                           cairo_t *cr,
                           int width,
                           int height)
{
  ViewGeometry *g = &self->geometry;
  int n = self->n_classes;
  double name_scale, w, h;
  double widest = 0, name_h = 0, title_h;

  g_return_if_fail (GRAFT_IS_CONFUSION_VIEW (self));
  g_return_if_fail (cr != NULL);

  g->valid = FALSE;
  if (width <= 0 || height <= 0)
    return;
  cairo_save (cr);
  if (n == 0)
    {
      draw_empty (self, cr, width, height);
      cairo_restore (cr);
      return;
    }

  /* Smaller names for many classes */
  name_scale = n > 12 ? 0.75 : 0.85;
  for (int i = 0; i < n; i++)
    {
      g_autoptr (PangoLayout) layout = graft_cairo_text_layout (
          GTK_WIDGET (self), cr, self->names[i], name_scale);

      graft_cairo_text_size (layout, &w, &h);
      widest = MAX (widest, w);
      name_h = MAX (name_h, h);
    }
  g_autoptr (PangoLayout) y_title =
      graft_cairo_text_layout (GTK_WIDGET (self), cr, _ ("True class"), 0.9);
  g_autoptr (PangoLayout) x_title = graft_cairo_text_layout (
      GTK_WIDGET (self), cr, _ ("Predicted class"), 0.9);
  graft_cairo_text_size (y_title, &w, &title_h);

  /* Long names are cut with an ellipsis rather than squeezing the grid. */
  double row_name_w = MIN (widest, MAX (width * 0.25, 48));
  double avail_w = width - 2 * PAD - title_h - GAP - row_name_w - GAP;
  double fixed_h = 2 * PAD + GAP + GAP + title_h;
  double cell = MIN (avail_w, height - fixed_h - name_h) / n;
  gboolean rotated = widest > cell - 4;
  double col_name_len = name_h;

  if (rotated)
    {
      col_name_len = MIN (widest, MAX (height * 0.22, 48));
      cell = MIN (avail_w, height - fixed_h - col_name_len) / n;
    }
  cell = floor (MIN (cell, 72));
  if (cell < 4)
    cell = 4;

  /* Center the composition in the widget */
  double total_w = title_h + GAP + row_name_w + GAP + n * cell;
  double total_h = n * cell + GAP + col_name_len + GAP + title_h;
  double x0 = floor (MAX (PAD, (width - total_w) / 2));
  double y0 = floor (MAX (PAD, (height - total_h) / 2));

  g->n = n;
  g->cell = cell;
  g->grid_x = x0 + title_h + GAP + row_name_w + GAP;
  g->grid_y = y0;
  g->valid = TRUE;

  draw_cells (self, cr, g);
  draw_names (self, cr, g, row_name_w, col_name_len, rotated, name_scale);

  /* Axis titles: y rotated along the left, x centered below */
  graft_cairo_set_color (cr, &self->fg, 0.9);
  graft_cairo_text_size (y_title, &w, &h);
  cairo_save (cr);
  cairo_translate (cr, x0, g->grid_y + (n * cell + w) / 2);
  cairo_rotate (cr, -G_PI / 2);
  graft_cairo_text_show (cr, y_title, 0, 0);
  cairo_restore (cr);
  graft_cairo_text_size (x_title, &w, &h);
  graft_cairo_text_show (cr, x_title, g->grid_x + (n * cell - w) / 2,
                         g->grid_y + n * cell + GAP + col_name_len + GAP);

  cairo_restore (cr);
}

gboolean
graft_confusion_view_cell_at (GraftConfusionView *self,
                              double x,
                              double y,
                              int *true_class,
                              int *predicted_class)
{
  ViewGeometry *g = &self->geometry;
  int t = -1, p = -1;
  gboolean hit = FALSE;

  g_return_val_if_fail (GRAFT_IS_CONFUSION_VIEW (self), FALSE);

  if (g->valid && g->n == self->n_classes && x >= g->grid_x && y >= g->grid_y &&
      x < g->grid_x + g->n * g->cell && y < g->grid_y + g->n * g->cell)
    {
      p = (int) ((x - g->grid_x) / g->cell);
      t = (int) ((y - g->grid_y) / g->cell);
      hit = TRUE;
    }
  if (true_class != NULL)
    *true_class = t;
  if (predicted_class != NULL)
    *predicted_class = p;
  return hit;
}

/* ---- input --------------------------------------------------------------- */

static void
set_hover (GraftConfusionView *self, int t, int p)
{
  if (self->hover_true == t && self->hover_predicted == p)
    return;
  self->hover_true = t;
  self->hover_predicted = p;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self),
                                   t >= 0 ? "pointer" : NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
on_motion (GtkEventControllerMotion *motion,
           double x,
           double y,
           GraftConfusionView *self)
{
  int t, p;

  graft_confusion_view_cell_at (self, x, y, &t, &p);
  set_hover (self, t, p);
}

static void
on_leave (GtkEventControllerMotion *motion, GraftConfusionView *self)
{
  set_hover (self, -1, -1);
}

static void
on_pressed (GtkGestureClick *click,
            int n_press,
            double x,
            double y,
            GraftConfusionView *self)
{
  if (!graft_confusion_view_cell_at (self, x, y, &self->press_true,
                                     &self->press_predicted))
    return;
  graft_confusion_view_set_focus_cell (self, self->press_true,
                                       self->press_predicted);
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

/* Activates on release over the pressed cell, as buttons do. */
static void
on_released (GtkGestureClick *click,
             int n_press,
             double x,
             double y,
             GraftConfusionView *self)
{
  int t, p;

  if (graft_confusion_view_cell_at (self, x, y, &t, &p) &&
      t == self->press_true && p == self->press_predicted)
    graft_confusion_view_activate_cell (self, t, p);
  self->press_true = self->press_predicted = -1;
}

static gboolean
on_key_pressed (GtkEventControllerKey *key,
                guint keyval,
                guint keycode,
                GdkModifierType state,
                GraftConfusionView *self)
{
  int t = self->focus_true, p = self->focus_predicted;
  int last = self->n_classes - 1;

  if (self->n_classes == 0 ||
      (state & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SHIFT_MASK)) != 0)
    return FALSE;

  switch (keyval)
    {
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      t--;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      t++;
      break;
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      p += gtk_widget_get_direction (GTK_WIDGET (self)) == GTK_TEXT_DIR_RTL
               ? 1
               : -1;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      p += gtk_widget_get_direction (GTK_WIDGET (self)) == GTK_TEXT_DIR_RTL ? -1
                                                                            : 1;
      break;
    case GDK_KEY_Home:
      p = 0;
      break;
    case GDK_KEY_End:
      p = last;
      break;
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
    case GDK_KEY_space:
    case GDK_KEY_KP_Space:
      graft_confusion_view_activate_cell (self, t, p);
      return TRUE;
    default:
      return FALSE;
    }
  /* At an edge the key moves focus out of the view instead. */
  if (t < 0 || p < 0 || t > last || p > last)
    return FALSE;
  graft_confusion_view_set_focus_cell (self, t, p);
  return TRUE;
}

static void
on_focus_changed (GtkEventControllerFocus *focus, GraftConfusionView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static gboolean
graft_confusion_view_query_tooltip (GtkWidget *widget,
                                    int x,
                                    int y,
                                    gboolean keyboard_mode,
                                    GtkTooltip *tooltip)
{
  GraftConfusionView *self = GRAFT_CONFUSION_VIEW (widget);
  int t, p, count;

  if (keyboard_mode)
    {
      t = self->focus_true;
      p = self->focus_predicted;
      if (self->n_classes == 0)
        return FALSE;
    }
  else if (!graft_confusion_view_cell_at (self, x, y, &t, &p))
    return FALSE;

  count = count_at (self, t, p);
  /* Translators: a confusion matrix cell's tooltip: true class, predicted
   * class, the number of photos and their share of the true class */
  g_autofree char *photos =
      g_strdup_printf (ngettext ("%d photo", "%d photos", count), count);
  g_autofree char *text = g_strdup_printf (
      _ ("True: %s\nPredicted: %s\n%s (%.0f%% of %s)"), self->names[t],
      self->names[p], photos, 100 * cell_share (self, t, p), self->names[t]);
  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* ---- widget -------------------------------------------------------------- */

static void
graft_confusion_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  GraftConfusionView *self = GRAFT_CONFUSION_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  cairo_t *cr;

  /* Deprecated in 4.10 for gtk_widget_get_color, which 4.8 lacks. */
  gtk_style_context_get_color (gtk_widget_get_style_context (widget),
                               &self->fg);
  cr = gtk_snapshot_append_cairo (snapshot,
                                  &GRAPHENE_RECT_INIT (0, 0, width, height));
  graft_confusion_view_draw (self, cr, width, height);
  cairo_destroy (cr);
}

static void
graft_confusion_view_measure (GtkWidget *widget,
                              GtkOrientation orientation,
                              int for_size,
                              int *minimum,
                              int *natural,
                              int *minimum_baseline,
                              int *natural_baseline)
{
  *minimum = 200;
  *natural = 420;
}

static void
graft_confusion_view_finalize (GObject *object)
{
  GraftConfusionView *self = GRAFT_CONFUSION_VIEW (object);

  g_clear_pointer (&self->counts, g_free);
  g_clear_pointer (&self->row_sums, g_free);
  g_clear_pointer (&self->names, g_strfreev);

  G_OBJECT_CLASS (graft_confusion_view_parent_class)->finalize (object);
}

static void
graft_confusion_view_get_property (GObject *object,
                                   guint prop_id,
                                   GValue *value,
                                   GParamSpec *pspec)
{
  GraftConfusionView *self = GRAFT_CONFUSION_VIEW (object);

  switch (prop_id)
    {
    case PROP_N_CLASSES:
      g_value_set_int (value, self->n_classes);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_confusion_view_class_init (GraftConfusionViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = graft_confusion_view_finalize;
  object_class->get_property = graft_confusion_view_get_property;
  widget_class->snapshot = graft_confusion_view_snapshot;
  widget_class->measure = graft_confusion_view_measure;
  widget_class->query_tooltip = graft_confusion_view_query_tooltip;

  properties[PROP_N_CLASSES] = g_param_spec_int (
      "n-classes", NULL, NULL, 0, G_MAXINT, 0,
      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * GraftConfusionView::cell-activated:
   * @true_class: the row
   * @predicted_class: the column
   *
   * A cell was clicked, or Enter or space pressed on the focused cell.
   */
  signals[SIGNAL_CELL_ACTIVATED] = g_signal_new (
      "cell-activated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT, G_TYPE_INT);

  gtk_widget_class_set_css_name (widget_class, "graft-confusion-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GRID);
}

static void
graft_confusion_view_init (GraftConfusionView *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  GtkEventController *motion = gtk_event_controller_motion_new ();
  GtkGesture *click = gtk_gesture_click_new ();
  GtkEventController *key = gtk_event_controller_key_new ();
  GtkEventController *focus = gtk_event_controller_focus_new ();

  self->hover_true = self->hover_predicted = -1;
  self->press_true = self->press_predicted = -1;
  self->fg = (GdkRGBA){ 0, 0, 0, 0.8 };
  self->names = g_new0 (char *, 1);

  gtk_widget_set_focusable (widget, TRUE);
  gtk_widget_set_has_tooltip (widget, TRUE);

  g_signal_connect (motion, "motion", G_CALLBACK (on_motion), self);
  g_signal_connect (motion, "leave", G_CALLBACK (on_leave), self);
  gtk_widget_add_controller (widget, motion);
  g_signal_connect (click, "pressed", G_CALLBACK (on_pressed), self);
  g_signal_connect (click, "released", G_CALLBACK (on_released), self);
  gtk_widget_add_controller (widget, GTK_EVENT_CONTROLLER (click));
  g_signal_connect (key, "key-pressed", G_CALLBACK (on_key_pressed), self);
  gtk_widget_add_controller (widget, key);
  g_signal_connect (focus, "enter", G_CALLBACK (on_focus_changed), self);
  g_signal_connect (focus, "leave", G_CALLBACK (on_focus_changed), self);
  gtk_widget_add_controller (widget, focus);
}

/* ---- public -------------------------------------------------------------- */

GtkWidget *
graft_confusion_view_new (void)
{
  return g_object_new (GRAFT_TYPE_CONFUSION_VIEW, NULL);
}

void
graft_confusion_view_set_data (GraftConfusionView *self,
                               int n_classes,
                               const int *counts,
                               const char *const *names)
{
  gsize n_cells;
  gboolean changed;

  g_return_if_fail (GRAFT_IS_CONFUSION_VIEW (self));
  g_return_if_fail (n_classes >= 0 && n_classes <= 1000);
  g_return_if_fail (n_classes == 0 || (counts != NULL && names != NULL));

  n_cells = (gsize) n_classes * n_classes;
  changed = self->n_classes != n_classes;
  g_free (self->counts);
  g_free (self->row_sums);
  g_strfreev (self->names);
  self->n_classes = n_classes;
  self->counts = g_memdup2 (counts, n_cells * sizeof (int));
  self->row_sums = g_new0 (int, MAX (n_classes, 1));
  self->names = g_new0 (char *, n_classes + 1);
  for (int t = 0; t < n_classes; t++)
    {
      self->names[t] = g_strdup (names[t] != NULL ? names[t] : "");
      for (int p = 0; p < n_classes; p++)
        self->row_sums[t] += MAX (count_at (self, t, p), 0);
    }
  self->focus_true = MIN (self->focus_true, MAX (n_classes - 1, 0));
  self->focus_predicted = MIN (self->focus_predicted, MAX (n_classes - 1, 0));
  self->hover_true = self->hover_predicted = -1;
  self->press_true = self->press_predicted = -1;
  self->geometry.valid = FALSE;

  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_CLASSES]);
}

int
graft_confusion_view_get_n_classes (GraftConfusionView *self)
{
  g_return_val_if_fail (GRAFT_IS_CONFUSION_VIEW (self), 0);
  return self->n_classes;
}

int
graft_confusion_view_get_count (GraftConfusionView *self,
                                int true_class,
                                int predicted_class)
{
  g_return_val_if_fail (GRAFT_IS_CONFUSION_VIEW (self), 0);
  g_return_val_if_fail (true_class >= 0 && true_class < self->n_classes, 0);
  g_return_val_if_fail (
      predicted_class >= 0 && predicted_class < self->n_classes, 0);
  return count_at (self, true_class, predicted_class);
}

void
graft_confusion_view_set_focus_cell (GraftConfusionView *self,
                                     int true_class,
                                     int predicted_class)
{
  g_return_if_fail (GRAFT_IS_CONFUSION_VIEW (self));
  g_return_if_fail (true_class >= 0 && true_class < self->n_classes);
  g_return_if_fail (predicted_class >= 0 && predicted_class < self->n_classes);

  self->focus_true = true_class;
  self->focus_predicted = predicted_class;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
graft_confusion_view_get_focus_cell (GraftConfusionView *self,
                                     int *true_class,
                                     int *predicted_class)
{
  g_return_if_fail (GRAFT_IS_CONFUSION_VIEW (self));

  if (true_class != NULL)
    *true_class = self->n_classes > 0 ? self->focus_true : -1;
  if (predicted_class != NULL)
    *predicted_class = self->n_classes > 0 ? self->focus_predicted : -1;
}

void
graft_confusion_view_activate_cell (GraftConfusionView *self,
                                    int true_class,
                                    int predicted_class)
{
  g_return_if_fail (GRAFT_IS_CONFUSION_VIEW (self));
  g_return_if_fail (true_class >= 0 && true_class < self->n_classes);
  g_return_if_fail (predicted_class >= 0 && predicted_class < self->n_classes);

  g_signal_emit (self, signals[SIGNAL_CELL_ACTIVATED], 0, true_class,
                 predicted_class);
}
