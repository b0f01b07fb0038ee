/* graft-cairo-text.h: text and shapes for the widgets drawn with Cairo
 * (the chart, the confusion matrix, the feature reuse view). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* A layout of text in the widget's font scaled by scale (1 = the widget's
 * size), or in "Sans 10" when the widget is not on screen (tests draw
 * into image surfaces, with no display to ask). */
PangoLayout *graft_cairo_text_layout (GtkWidget *widget,
                                      cairo_t *cr,
                                      const char *text,
                                      double scale);
/* The layout's logical size in pixels. */
void graft_cairo_text_size (PangoLayout *layout, double *width, double *height);
/* Shows the layout with its top-left corner at (x, y). */
void
graft_cairo_text_show (cairo_t *cr, PangoLayout *layout, double x, double y);

/* Sets color, its alpha multiplied by alpha, as the source. */
void graft_cairo_set_color (cairo_t *cr, const GdkRGBA *color, double alpha);
/* Adds a rectangle with corners of radius r (at most half a side) as a
 * sub-path; nothing for an empty rectangle. */
void graft_cairo_rounded_rect (
    cairo_t *cr, double x, double y, double w, double h, double r);

G_END_DECLS
