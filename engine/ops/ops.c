/* ops.c: the operator registry and helpers shared by the op files. */
#include "ops/ops.h"

#include "graft-error.h"

#include <stdlib.h>
#include <string.h>

extern const GraftOpDef *const graft_ops_spatial[];
extern const GraftOpDef *const graft_ops_dense[];

static const GraftOpDef *const *const op_tables[] = {
  graft_ops_spatial,
  graft_ops_dense,
};

const GraftOpDef *
graft_op_lookup (const char *op_type)
{
  for (size_t t = 0; t < G_N_ELEMENTS (op_tables); t++)
    for (const GraftOpDef *const *d = op_tables[t]; *d; d++)
      if (strcmp ((*d)->op_type, op_type) == 0)
        return *d;
  return NULL;
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

const char *const *
graft_op_supported (void)
{
  static gsize names_once;

  if (g_once_init_enter (&names_once))
    {
      GPtrArray *list = g_ptr_array_new ();
      for (size_t t = 0; t < G_N_ELEMENTS (op_tables); t++)
        for (const GraftOpDef *const *d = op_tables[t]; *d; d++)
          g_ptr_array_add (list, (gpointer) (*d)->op_type);
      qsort (list->pdata, list->len, sizeof (gpointer), compare_strings);
      g_ptr_array_add (list, NULL);
      g_once_init_leave (&names_once, (gsize) g_ptr_array_free (list, FALSE));
    }
  return (const char *const *) names_once;
}

float *
graft_workspace_floats (GraftWorkspace *ws, size_t n_floats)
{
  if (n_floats > ws->capacity)
    {
      free (ws->data);
      ws->capacity = n_floats;
      ws->data = aligned_alloc (64, (n_floats * sizeof (float) + 63) / 64 * 64);
      if (ws->data == NULL)
        g_error ("out of memory for %zu scratch floats", n_floats);
    }
  return ws->data;
}

float
graft_random_uniform (guint64 seed, guint64 step, guint64 stream, guint64 index)
{
  guint64 z = seed + 0x9e3779b97f4a7c15ull * (step + 1)
              + 0xbf58476d1ce4e5b9ull * (stream + 1) + 0x94d049bb133111ebull * index;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  /* The top 24 bits make an exactly representable float in [0, 1). */
  return (float) (z >> 40) * (1.0f / 16777216.0f);
}

void
graft_workspace_clear (GraftWorkspace *ws)
{
  free (ws->data);
  ws->data = NULL;
  ws->capacity = 0;
}

static const char *
attr_type_name (GraftAttrType type)
{
  switch (type)
    {
    case GRAFT_ATTR_FLOAT: return "float";
    case GRAFT_ATTR_INT: return "int";
    case GRAFT_ATTR_STRING: return "string";
    case GRAFT_ATTR_TENSOR: return "tensor";
    case GRAFT_ATTR_GRAPH: return "graph";
    case GRAFT_ATTR_FLOATS: return "floats";
    case GRAFT_ATTR_INTS: return "ints";
    case GRAFT_ATTR_STRINGS: return "strings";
    case GRAFT_ATTR_UNDEFINED:
    default: return "undefined";
    }
}

static gboolean
check_type (const GraftOnnxAttribute *a, GraftAttrType want, GError **error)
{
  if (a->type == want)
    return TRUE;
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
               "attribute '%s' is a %s, expected %s", a->name,
               attr_type_name (a->type), attr_type_name (want));
  return FALSE;
}

gboolean
graft_attr_int (const GraftOnnxNode *proto, const char *name,
                int64_t default_value, int64_t *out, GError **error)
{
  const GraftOnnxAttribute *a = graft_onnx_node_get_attr (proto, name);
  if (a == NULL)
    {
      *out = default_value;
      return TRUE;
    }
  if (!check_type (a, GRAFT_ATTR_INT, error))
    return FALSE;
  *out = a->i;
  return TRUE;
}

gboolean
graft_attr_float (const GraftOnnxNode *proto, const char *name,
                  float default_value, float *out, GError **error)
{
  const GraftOnnxAttribute *a = graft_onnx_node_get_attr (proto, name);
  if (a == NULL)
    {
      *out = default_value;
      return TRUE;
    }
  if (!check_type (a, GRAFT_ATTR_FLOAT, error))
    return FALSE;
  *out = a->f;
  return TRUE;
}

gboolean
graft_attr_ints (const GraftOnnxNode *proto, const char *name, int64_t *out,
                 int max_n, int *n, GError **error)
{
  const GraftOnnxAttribute *a = graft_onnx_node_get_attr (proto, name);
  *n = 0;
  if (a == NULL)
    return TRUE;
  if (!check_type (a, GRAFT_ATTR_INTS, error))
    return FALSE;
  if (a->n_ints > (size_t) max_n)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "attribute '%s' has %zu values, at most %d are supported",
                   name, a->n_ints, max_n);
      return FALSE;
    }
  for (size_t i = 0; i < a->n_ints; i++)
    out[i] = a->ints[i];
  *n = (int) a->n_ints;
  return TRUE;
}

gboolean
graft_attr_string (const GraftOnnxNode *proto, const char *name,
                   const char *default_value, const char **out, GError **error)
{
  const GraftOnnxAttribute *a = graft_onnx_node_get_attr (proto, name);
  if (a == NULL)
    {
      *out = default_value;
      return TRUE;
    }
  if (!check_type (a, GRAFT_ATTR_STRING, error))
    return FALSE;
  *out = a->s;
  return TRUE;
}

gboolean
graft_normalize_axis (int64_t axis, int rank, int *out, GError **error)
{
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "axis %" G_GINT64_FORMAT " is out of range for rank %d",
                   axis, rank);
      return FALSE;
    }
  *out = (int) a;
  return TRUE;
}

gboolean
graft_broadcast_shapes (const GraftShape *a, const GraftShape *b,
                        GraftShape *out, GError **error)
{
  int rank = MAX (a->ndim, b->ndim);
  GraftShape r = { .ndim = rank };

  for (int i = 0; i < rank; i++)
    {
      int ia = a->ndim - rank + i, ib = b->ndim - rank + i;
      int64_t da = ia >= 0 ? a->dims[ia] : 1;
      int64_t db = ib >= 0 ? b->dims[ib] : 1;
      if (da == db || db == 1)
        r.dims[i] = da;
      else if (da == 1)
        r.dims[i] = db;
      else
        {
          g_autofree char *sa = graft_shape_to_string (a);
          g_autofree char *sb = graft_shape_to_string (b);
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "shapes %s and %s do not broadcast", sa, sb);
          return FALSE;
        }
    }
  *out = r;
  return TRUE;
}
