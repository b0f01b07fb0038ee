/* graft-cairo-text.c: text and shapes for the widgets drawn with Cairo. */
#include "config.h"

#include "graft-cairo-text.h"

PangoLayout *
graft_cairo_text_layout (GtkWidget *widget,
                         cairo_t *cr,
                         const char *text,
                         double scale)
{
  PangoLayout *layout;
  g_autoptr (PangoFontDescription) font = NULL;

  if (gtk_widget_get_root (widget) != NULL)
    {
      layout = gtk_widget_create_pango_layout (widget, NULL);
      font = pango_font_description_copy (pango_context_get_font_description (
          pango_layout_get_context (layout)));
    }
  else
    {
      layout = pango_cairo_create_layout (cr);
      font = pango_font_description_from_string ("Sans 10");
    }
  /* The widget's font may come in pixels (absolute) rather than points:
   * scale it in its own unit. Setting a point size from a pixel size would
   * make 13 px at 0.85 into 11 pt, about 15 px: larger, not smaller. */
  if (scale != 1.0 && pango_font_description_get_size_is_absolute (font))
    pango_font_description_set_absolute_size (
        font, pango_font_description_get_size (font) * scale);
  else if (scale != 1.0)
    pango_font_description_set_size (
        font, (int) (pango_font_description_get_size (font) * scale));
  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, text, -1);
  return layout;
}

void
graft_cairo_text_size (PangoLayout *layout, double *width, double *height)
{
  PangoRectangle logical;

  pango_layout_get_pixel_extents (layout, NULL, &logical);
  *width = logical.width;
  *height = logical.height;
}

void
graft_cairo_text_show (cairo_t *cr, PangoLayout *layout, double x, double y)
{
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

void
graft_cairo_set_color (cairo_t *cr, const GdkRGBA *color, double alpha)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue,
                         color->alpha * alpha);
}

void
graft_cairo_rounded_rect (
    cairo_t *cr, double x, double y, double w, double h, double r)
{
  if (w <= 0 || h <= 0)
    return;
  r = MIN (r, MIN (w, h) / 2);
  cairo_new_sub_path (cr);
  cairo_arc (cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc (cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc (cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc (cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);
}
