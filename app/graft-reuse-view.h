/* graft-reuse-view.h: which layers' features a fine-tune kept, drawn with
 * Cairo: one row per block, its CKA as a bar coloured by the reading and
 * how far its weights moved. */
#pragma once

#include <gtk/gtk.h>

#include "reuse.h"

G_BEGIN_DECLS

#define GRAFT_TYPE_REUSE_VIEW (graft_reuse_view_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftReuseView, graft_reuse_view, GRAFT, REUSE_VIEW, GtkWidget)

GtkWidget *graft_reuse_view_new (void);

/* Copies n_blocks blocks (names, numbers, readings and layers), in network
 * order. n_blocks 0 (blocks NULL) clears. */
void graft_reuse_view_set_blocks (GraftReuseView *view,
                                  const GraftReuseBlock *blocks,
                                  int n_blocks);
int graft_reuse_view_get_n_blocks (GraftReuseView *view);
/* The view's copy of block i. */
const GraftReuseBlock *graft_reuse_view_get_block (GraftReuseView *view,
                                                   int index);

/* Draws into cr at (0, 0, width, height) over a transparent background
 * and remembers the geometry for the queries below. */
void graft_reuse_view_draw (GraftReuseView *view,
                            cairo_t *cr,
                            int width,
                            int height);
/* The block whose row is under (x, y) in the last draw, or -1. */
int graft_reuse_view_block_at (GraftReuseView *view, double x, double y);
/* The CKA track of block i in the last draw: the whole 0..1 range, which
 * the bar fills to the CKA. FALSE when the row was not drawn. */
gboolean graft_reuse_view_get_track (GraftReuseView *view,
                                     int index,
                                     graphene_rect_t *track);
/* The height the view needs at a width (what it asks of its parent). */
int graft_reuse_view_get_height_for_width (GraftReuseView *view, int width);

/* The bar colour of a reading: readable over the light and the dark
 * style's backgrounds alike (libadwaita's palette). */
void graft_reuse_view_get_reading_color (GraftReuseReading reading,
                                         GdkRGBA *color);
/* The reading of block i in plain words ("Kept: the features are reused"). */
const char *graft_reuse_view_reading_label (GraftReuseReading reading);

G_END_DECLS
