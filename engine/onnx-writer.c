/* onnx-writer.c: ONNX ModelProto and TensorProto files from memory.
 *
 * Writes what onnx-reader.c reads. Tensors go out as little-endian
 * raw_data; repeated scalars are unpacked, as onnx's own proto2 encoding
 * has them. The graph is the last field of the model, so that a file cut
 * short anywhere fails to load instead of losing fields quietly.
 */
#include "onnx-model.h"

#include "graft-error.h"
#include "protobuf.h"

#include <string.h>

/* protobuf refuses messages over 2 GiB; so does our reader. */
#define ONNX_MAX_FILE_BYTES ((gint64) 2 << 30)

static void
write_tensor_fields (PbWriter *w, const GraftTensor *t, const char *name)
{
  size_t esize = graft_dtype_size (t->dtype);
  int64_t numel = graft_tensor_numel (t);

  for (int i = 0; i < t->shape.ndim; i++)
    pb_write_int64_field (w, 1, t->shape.dims[i]);
  pb_write_int64_field (w, 2, t->dtype);
  if (name && name[0])
    pb_write_string_field (w, 8, name);
  if (esize > 0 && numel > 0)
    pb_write_le_field (w, 9, t->data, (size_t) numel, esize);
}

static void
write_tensor (PbWriter *w,
              guint32 field,
              const GraftTensor *t,
              const char *name)
{
  size_t mark;

  g_return_if_fail (t != NULL);
  mark = pb_begin_message (w, field);
  write_tensor_fields (w, t, name);
  pb_end_message (w, mark);
}

/* Bitwise, so that -0.0 is written and survives a round trip. */
static gboolean
float_is_plus_zero (float f)
{
  static const float zero = 0.0f;
  return memcmp (&f, &zero, sizeof f) == 0;
}

static void
write_string_if_set (PbWriter *w, guint32 field, const char *s)
{
  if (s && s[0])
    pb_write_string_field (w, field, s);
}

static void
write_attribute (PbWriter *w, const GraftOnnxAttribute *a)
{
  size_t mark = pb_begin_message (w, 5);

  pb_write_string_field (w, 1, a->name);
  /* Always written: a missing type would make the reader infer one. */
  pb_write_int64_field (w, 20, a->type);
  if (a->type == GRAFT_ATTR_FLOAT || !float_is_plus_zero (a->f))
    pb_write_float_field (w, 2, a->f);
  if (a->i != 0 || a->type == GRAFT_ATTR_INT)
    pb_write_int64_field (w, 3, a->i);
  if (a->s)
    pb_write_string_field (w, 4, a->s);
  if (a->t)
    write_tensor (w, 5, a->t, NULL);
  if (a->has_graph)
    {
      /* The body was not kept; an empty graph keeps has_graph true. */
      size_t g = pb_begin_message (w, 6);
      pb_end_message (w, g);
    }
  for (size_t k = 0; k < a->n_floats; k++)
    pb_write_float_field (w, 7, a->floats[k]);
  for (size_t k = 0; k < a->n_ints; k++)
    pb_write_int64_field (w, 8, a->ints[k]);
  for (size_t k = 0; k < a->n_strings; k++)
    pb_write_string_field (w, 9, a->strings[k]);
  pb_end_message (w, mark);
}

static void
write_node (PbWriter *w, const GraftOnnxNode *n)
{
  size_t mark = pb_begin_message (w, 1);

  for (size_t k = 0; k < n->n_inputs; k++)
    pb_write_string_field (w, 1, n->inputs[k]);
  for (size_t k = 0; k < n->n_outputs; k++)
    pb_write_string_field (w, 2, n->outputs[k]);
  write_string_if_set (w, 3, n->name);
  pb_write_string_field (w, 4, n->op_type);
  write_string_if_set (w, 7, n->domain);
  for (size_t k = 0; k < n->n_attrs; k++)
    write_attribute (w, &n->attrs[k]);
  pb_end_message (w, mark);
}

static void
write_value_info (PbWriter *w, guint32 field, const GraftOnnxValueInfo *vi)
{
  size_t mark = pb_begin_message (w, field);

  write_string_if_set (w, 1, vi->name);
  if (vi->elem_type != GRAFT_DTYPE_UNDEFINED || vi->ndim >= 0)
    {
      size_t type = pb_begin_message (w, 2);
      size_t tensor_type = pb_begin_message (w, 1);
      if (vi->elem_type != GRAFT_DTYPE_UNDEFINED)
        pb_write_int64_field (w, 1, vi->elem_type);
      if (vi->ndim >= 0)
        {
          size_t shape = pb_begin_message (w, 2);
          for (int k = 0; k < vi->ndim && k < GRAFT_MAX_DIMS; k++)
            {
              size_t dim = pb_begin_message (w, 1);
              if (vi->dim_params[k])
                pb_write_string_field (w, 2, vi->dim_params[k]);
              else if (vi->dims[k] >= 0)
                pb_write_int64_field (w, 1, vi->dims[k]);
              /* neither: an unknown dim */
              pb_end_message (w, dim);
            }
          pb_end_message (w, shape);
        }
      pb_end_message (w, tensor_type);
      pb_end_message (w, type);
    }
  pb_end_message (w, mark);
}

static void
write_graph (PbWriter *w, const GraftOnnxGraph *g)
{
  size_t mark = pb_begin_message (w, 7);

  for (size_t k = 0; k < g->n_nodes; k++)
    write_node (w, &g->nodes[k]);
  write_string_if_set (w, 2, g->name);
  for (size_t k = 0; k < g->n_initializers; k++)
    write_tensor (w, 5, g->initializers[k].tensor, g->initializers[k].name);
  for (size_t k = 0; k < g->n_inputs; k++)
    write_value_info (w, 11, &g->inputs[k]);
  for (size_t k = 0; k < g->n_outputs; k++)
    write_value_info (w, 12, &g->outputs[k]);
  for (size_t k = 0; k < g->n_value_info; k++)
    write_value_info (w, 13, &g->value_info[k]);
  pb_end_message (w, mark);
}

GBytes *
graft_onnx_model_serialize (const GraftOnnxModel *model)
{
  PbWriter w;

  g_return_val_if_fail (model != NULL, NULL);
  pb_writer_init (&w);
  if (model->ir_version)
    pb_write_int64_field (&w, 1, model->ir_version);
  for (size_t k = 0; k < model->n_opsets; k++)
    {
      size_t mark = pb_begin_message (&w, 8);
      write_string_if_set (&w, 1, model->opsets[k].domain);
      pb_write_int64_field (&w, 2, model->opsets[k].version);
      pb_end_message (&w, mark);
    }
  write_string_if_set (&w, 2, model->producer_name);
  write_string_if_set (&w, 3, model->producer_version);
  write_string_if_set (&w, 4, model->domain);
  if (model->model_version)
    pb_write_int64_field (&w, 5, model->model_version);
  write_string_if_set (&w, 6, model->doc_string);
  for (size_t k = 0; k < model->n_metadata; k++)
    {
      size_t mark = pb_begin_message (&w, 14);
      pb_write_string_field (&w, 1, model->metadata[k].key);
      pb_write_string_field (&w, 2, model->metadata[k].value);
      pb_end_message (&w, mark);
    }
  write_graph (&w, &model->graph);
  return pb_writer_steal (&w);
}

GBytes *
graft_onnx_tensor_serialize (const GraftTensor *tensor, const char *name)
{
  PbWriter w;

  g_return_val_if_fail (tensor != NULL, NULL);
  pb_writer_init (&w);
  write_tensor_fields (&w, tensor, name);
  return pb_writer_steal (&w);
}

/* Replaces path in one step: a reader sees the old file or the new one,
 * never half of one, even after a crash. */
static gboolean
save_bytes (GBytes *bytes, const char *path, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);
  GError *local = NULL;

  if ((gint64) len > ONNX_MAX_FILE_BYTES)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: cannot save: %" G_GSIZE_FORMAT
                   " bytes is more than the 2 GiB an ONNX file can hold",
                   path, len);
      return FALSE;
    }
  if (!g_file_set_contents_full (path, data, (gssize) len,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                     G_FILE_SET_CONTENTS_DURABLE,
                                 0666, &local))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot save: %s",
                   path, local->message);
      g_error_free (local);
      return FALSE;
    }
  return TRUE;
}

gboolean
graft_onnx_model_save (const GraftOnnxModel *model,
                       const char *path,
                       GError **error)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (model != NULL && path != NULL, FALSE);
  bytes = graft_onnx_model_serialize (model);
  return save_bytes (bytes, path, error);
}

gboolean
graft_onnx_tensor_save (const GraftTensor *tensor,
                        const char *name,
                        const char *path,
                        GError **error)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (tensor != NULL && path != NULL, FALSE);
  bytes = graft_onnx_tensor_serialize (tensor, name);
  return save_bytes (bytes, path, error);
}

void
graft_onnx_model_set_metadata (GraftOnnxModel *model,
                               const char *key,
                               const char *value)
{
  size_t found, kept = 0;

  g_return_if_fail (model != NULL && key != NULL);
  found = model->n_metadata; /* not found */
  if (value == NULL)
    value = "";
  /* Replace the first entry with this key and drop any later duplicates,
   * so that get_metadata() and other readers agree on the value. */
  for (size_t k = 0; k < model->n_metadata; k++)
    {
      GraftOnnxStringPair *p = &model->metadata[k];
      if (g_strcmp0 (p->key, key) == 0)
        {
          if (found < model->n_metadata)
            {
              g_free (p->key);
              g_free (p->value);
              continue;
            }
          found = kept;
          g_free (p->value);
          p->value = g_strdup (value);
        }
      model->metadata[kept++] = *p;
    }
  model->n_metadata = kept;
  if (found < model->n_metadata)
    return;
  model->metadata =
      g_renew (GraftOnnxStringPair, model->metadata, model->n_metadata + 1);
  model->metadata[model->n_metadata].key = g_strdup (key);
  model->metadata[model->n_metadata].value = g_strdup (value);
  model->n_metadata++;
}
