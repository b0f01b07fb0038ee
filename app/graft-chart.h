/* graft-chart.h: a line chart of training curves, drawn with Cairo. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GRAFT_TYPE_CHART (graft_chart_get_type ())

G_DECLARE_FINAL_TYPE (GraftChart, graft_chart, GRAFT, CHART, GtkWidget)

typedef enum
{
  GRAFT_CHART_SERIES_SOLID = 0,
  GRAFT_CHART_SERIES_DASHED = 1 << 0,
  /* A dot on every point: for per-epoch values such as validation loss. */
  GRAFT_CHART_SERIES_MARKERS = 1 << 1,
} GraftChartSeriesFlags;

GtkWidget *graft_chart_new (void);

/* Adds a named series and returns its index (0, 1, ...); series take the
 * palette's colors in the order they are added. */
int graft_chart_add_series (GraftChart *chart,
                            const char *name,
                            GraftChartSeriesFlags flags);
int graft_chart_get_n_series (GraftChart *chart);
/* Appends a point to a series and redraws. x must not decrease within a
 * series (it is the epoch, fractional for per-step values); a non-finite y
 * leaves a gap in the line. */
void graft_chart_add_point (GraftChart *chart, int series, double x, double y);
guint graft_chart_get_n_points (GraftChart *chart, int series);
/* Removes every series and point. */
void graft_chart_clear (GraftChart *chart);

const char *graft_chart_get_x_title (GraftChart *chart);
void graft_chart_set_x_title (GraftChart *chart, const char *title);
const char *graft_chart_get_y_title (GraftChart *chart);
void graft_chart_set_y_title (GraftChart *chart, const char *title);
const char *graft_chart_get_empty_text (GraftChart *chart);
void graft_chart_set_empty_text (GraftChart *chart, const char *text);
/* TRUE: the y axis is fixed to 0..1 and labelled in percent (accuracy). */
gboolean graft_chart_get_percent (GraftChart *chart);
void graft_chart_set_percent (GraftChart *chart, gboolean percent);

/* The hover readout at data x (an epoch), or none when x is NAN. The
 * pointer sets it; tests set it directly. */
void graft_chart_set_hover_x (GraftChart *chart, double x);
double graft_chart_get_hover_x (GraftChart *chart);

/* Draws the chart into cr at (0, 0, width, height) over a transparent
 * background. The widget's snapshot uses it; tests render with it. */
void graft_chart_draw (GraftChart *chart, cairo_t *cr, int width, int height);

G_END_DECLS
