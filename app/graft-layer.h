/* graft-layer.h: one layer of a model, as the layer tables show it. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define GRAFT_TYPE_LAYER (graft_layer_get_type ())

G_DECLARE_FINAL_TYPE (GraftLayer, graft_layer, GRAFT, LAYER, GObject)

/* index is the position in running order, from 1; name is the graph's
 * name, short_name the same without what every name starts with (NULL:
 * name), block_title the title of its block ("Block 3", NULL: none);
 * shape is the display text of the output shape, NULL when unknown. */
GraftLayer *graft_layer_new (int index,
                             const char *name,
                             const char *short_name,
                             const char *block_title,
                             const char *op_type,
                             const char *shape,
                             gint64 n_params);
int graft_layer_get_index (GraftLayer *self);
const char *graft_layer_get_name (GraftLayer *self);
const char *graft_layer_get_short_name (GraftLayer *self);
const char *graft_layer_get_block_title (GraftLayer *self);
const char *graft_layer_get_op_type (GraftLayer *self);
const char *graft_layer_get_shape (GraftLayer *self);
gint64 graft_layer_get_n_params (GraftLayer *self);
/* n_params with digit grouping, or an en dash for layers without any. */
const char *graft_layer_get_params_text (GraftLayer *self);

G_END_DECLS
