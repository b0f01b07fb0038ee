/* graft-layer.c: one layer of a model, as the layer tables show it.
 *
 * Immutable once made, so a loader thread may build them and hand them to
 * the main thread.
 */
#include "graft-layer.h"

struct _GraftLayer
{
  GObject parent_instance;

  int index;
  char *name;
  char *short_name;
  char *block_title;
  char *op_type;
  char *shape;
  gint64 n_params;
  char *params_text;
};

G_DEFINE_FINAL_TYPE (GraftLayer, graft_layer, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_INDEX,
  PROP_NAME,
  PROP_SHORT_NAME,
  PROP_BLOCK_TITLE,
  PROP_OP_TYPE,
  PROP_SHAPE,
  PROP_N_PARAMS,
  PROP_PARAMS_TEXT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
graft_layer_finalize (GObject *object)
{
  GraftLayer *self = GRAFT_LAYER (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->short_name, g_free);
  g_clear_pointer (&self->block_title, g_free);
  g_clear_pointer (&self->op_type, g_free);
  g_clear_pointer (&self->shape, g_free);
  g_clear_pointer (&self->params_text, g_free);

  G_OBJECT_CLASS (graft_layer_parent_class)->finalize (object);
}

static void
graft_layer_get_property (GObject *object,
                          guint prop_id,
                          GValue *value,
                          GParamSpec *pspec)
{
  GraftLayer *self = GRAFT_LAYER (object);

  switch (prop_id)
    {
    case PROP_INDEX:
      g_value_set_int (value, self->index);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SHORT_NAME:
      g_value_set_string (value, self->short_name);
      break;
    case PROP_BLOCK_TITLE:
      g_value_set_string (value, self->block_title);
      break;
    case PROP_OP_TYPE:
      g_value_set_string (value, self->op_type);
      break;
    case PROP_SHAPE:
      g_value_set_string (value, self->shape);
      break;
    case PROP_N_PARAMS:
      g_value_set_int64 (value, self->n_params);
      break;
    case PROP_PARAMS_TEXT:
      g_value_set_string (value, self->params_text);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_layer_class_init (GraftLayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = graft_layer_finalize;
  object_class->get_property = graft_layer_get_property;

  properties[PROP_INDEX] =
      g_param_spec_int ("index", NULL, NULL, 0, G_MAXINT, 0, flags);
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, flags);
  properties[PROP_SHORT_NAME] =
      g_param_spec_string ("short-name", NULL, NULL, NULL, flags);
  properties[PROP_BLOCK_TITLE] =
      g_param_spec_string ("block-title", NULL, NULL, NULL, flags);
  properties[PROP_OP_TYPE] =
      g_param_spec_string ("op-type", NULL, NULL, NULL, flags);
  properties[PROP_SHAPE] =
      g_param_spec_string ("shape", NULL, NULL, NULL, flags);
  properties[PROP_N_PARAMS] =
      g_param_spec_int64 ("n-params", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_PARAMS_TEXT] =
      g_param_spec_string ("params-text", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
graft_layer_init (GraftLayer *self)
{
}

GraftLayer *
graft_layer_new (int index,
                 const char *name,
                 const char *short_name,
                 const char *block_title,
                 const char *op_type,
                 const char *shape,
                 gint64 n_params)
{
  GraftLayer *self = g_object_new (GRAFT_TYPE_LAYER, NULL);

  self->index = index;
  self->name = g_strdup (name);
  self->short_name = g_strdup (short_name != NULL ? short_name : name);
  self->block_title = g_strdup (block_title != NULL ? block_title : "");
  self->op_type = g_strdup (op_type);
  /* An en dash reads as "not known" in a table, an empty cell as a bug. */
  self->shape = g_strdup (shape != NULL ? shape : "–");
  self->n_params = n_params;
  /* %' groups digits the way the user's locale does. */
  self->params_text = n_params > 0
                          ? g_strdup_printf ("%'" G_GINT64_FORMAT, n_params)
                          : g_strdup ("–");
  return self;
}

int
graft_layer_get_index (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), 0);
  return self->index;
}

const char *
graft_layer_get_name (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), NULL);
  return self->name;
}

const char *
graft_layer_get_short_name (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), NULL);
  return self->short_name;
}

const char *
graft_layer_get_block_title (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), NULL);
  return self->block_title;
}

const char *
graft_layer_get_op_type (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), NULL);
  return self->op_type;
}

const char *
graft_layer_get_shape (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), NULL);
  return self->shape;
}

gint64
graft_layer_get_n_params (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), 0);
  return self->n_params;
}

const char *
graft_layer_get_params_text (GraftLayer *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYER (self), NULL);
  return self->params_text;
}
