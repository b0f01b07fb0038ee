/* onnx-reader.c: ONNX ModelProto and TensorProto files into memory.
 *
 * Decodes the protobuf wire format directly (see protobuf.h) and checks
 * each value as it goes, so that a damaged or hostile file gives a message
 * and never a crash or a huge allocation. Field numbers are onnx.proto's.
 */
#include "onnx-model.h"

#include "graft-error.h"
#include "protobuf.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* protobuf caps a message at 2 GiB; larger models use external data. */
#define ONNX_MAX_FILE_BYTES ((gint64) 2 << 30)
/* Caps on repeated messages and strings (nodes, initializers, inputs...)
 * and on numeric lists in attributes, far above any real model, so that a
 * file of tiny empty entries cannot make us allocate gigabytes. */
#define ONNX_MAX_ITEMS (1 << 20)
#define ONNX_MAX_VALUES (1 << 24)

typedef struct
{
  const char *display_name;
  const char *base_dir; /* external data folder, or NULL to refuse it */
} OnnxSource;

/* Field names, for error messages. */
static const PbField model_fields[] = {
  { 1, "ir_version" },     { 2, "producer_name" }, { 3, "producer_version" },
  { 4, "domain" },         { 5, "model_version" }, { 6, "doc_string" },
  { 7, "graph" },          { 8, "opset_import" },  { 14, "metadata_props" },
  { 20, "training_info" }, { 25, "functions" },    { 0, NULL },
};
static const PbField graph_fields[] = {
  { 1, "node" },
  { 2, "name" },
  { 5, "initializer" },
  { 10, "doc_string" },
  { 11, "input" },
  { 12, "output" },
  { 13, "value_info" },
  { 14, "quantization_annotation" },
  { 15, "sparse_initializer" },
  { 0, NULL },
};
static const PbField node_fields[] = {
  { 1, "input" },     { 2, "output" },     { 3, "name" },   { 4, "op_type" },
  { 5, "attribute" }, { 6, "doc_string" }, { 7, "domain" }, { 0, NULL },
};
static const PbField attr_fields[] = {
  { 1, "name" },
  { 2, "f" },
  { 3, "i" },
  { 4, "s" },
  { 5, "t" },
  { 6, "g" },
  { 7, "floats" },
  { 8, "ints" },
  { 9, "strings" },
  { 10, "tensors" },
  { 11, "graphs" },
  { 13, "doc_string" },
  { 14, "tp" },
  { 15, "type_protos" },
  { 20, "type" },
  { 21, "ref_attr_name" },
  { 22, "sparse_tensor" },
  { 23, "sparse_tensors" },
  { 0, NULL },
};
static const PbField tensor_fields[] = {
  { 1, "dims" },           { 2, "data_type" },      { 3, "segment" },
  { 4, "float_data" },     { 5, "int32_data" },     { 6, "string_data" },
  { 7, "int64_data" },     { 8, "name" },           { 9, "raw_data" },
  { 10, "double_data" },   { 11, "uint64_data" },   { 12, "doc_string" },
  { 13, "external_data" }, { 14, "data_location" }, { 0, NULL },
};
static const PbField value_info_fields[] = {
  { 1, "name" },
  { 2, "type" },
  { 3, "doc_string" },
  { 0, NULL },
};
static const PbField type_fields[] = {
  { 1, "tensor_type" }, { 4, "sequence_type" },      { 5, "map_type" },
  { 6, "denotation" },  { 8, "sparse_tensor_type" }, { 9, "optional_type" },
  { 0, NULL },
};
static const PbField type_tensor_fields[] = {
  { 1, "elem_type" },
  { 2, "shape" },
  { 0, NULL },
};
static const PbField shape_fields[] = {
  { 1, "dim" },
  { 0, NULL },
};
static const PbField dim_fields[] = {
  { 1, "dim_value" },
  { 2, "dim_param" },
  { 3, "denotation" },
  { 0, NULL },
};
static const PbField string_pair_fields[] = {
  { 1, "key" },
  { 2, "value" },
  { 0, NULL },
};
static const PbField opset_fields[] = {
  { 1, "domain" },
  { 2, "version" },
  { 0, NULL },
};

enum
{
  TENSOR_DIMS = 1,
  TENSOR_DATA_TYPE = 2,
  TENSOR_SEGMENT = 3,
  TENSOR_FLOAT_DATA = 4,
  TENSOR_INT32_DATA = 5,
  TENSOR_STRING_DATA = 6,
  TENSOR_INT64_DATA = 7,
  TENSOR_NAME = 8,
  TENSOR_RAW_DATA = 9,
  TENSOR_DOUBLE_DATA = 10,
  TENSOR_UINT64_DATA = 11,
  TENSOR_EXTERNAL_DATA = 13,
  TENSOR_DATA_LOCATION = 14,
};

/* Freeing, also of partly filled structs (everything starts zeroed). */

static void
attr_clear (GraftOnnxAttribute *a)
{
  g_free (a->name);
  g_free (a->s);
  graft_tensor_free (a->t);
  g_free (a->floats);
  g_free (a->ints);
  for (size_t i = 0; i < a->n_strings; i++)
    g_free (a->strings[i]);
  g_free (a->strings);
  memset (a, 0, sizeof *a);
}

static void
node_clear (GraftOnnxNode *n)
{
  g_free (n->name);
  g_free (n->op_type);
  g_free (n->domain);
  for (size_t i = 0; i < n->n_inputs; i++)
    g_free (n->inputs[i]);
  g_free (n->inputs);
  for (size_t i = 0; i < n->n_outputs; i++)
    g_free (n->outputs[i]);
  g_free (n->outputs);
  for (size_t i = 0; i < n->n_attrs; i++)
    attr_clear (&n->attrs[i]);
  g_free (n->attrs);
  memset (n, 0, sizeof *n);
}

static void
value_info_clear (GraftOnnxValueInfo *v)
{
  g_free (v->name);
  for (int i = 0; i < GRAFT_MAX_DIMS; i++)
    g_free (v->dim_params[i]);
  memset (v, 0, sizeof *v);
}

static void
named_tensor_clear (GraftOnnxNamedTensor *t)
{
  g_free (t->name);
  graft_tensor_free (t->tensor);
  memset (t, 0, sizeof *t);
}

static void
graph_clear (GraftOnnxGraph *g)
{
  g_free (g->name);
  for (size_t i = 0; i < g->n_nodes; i++)
    node_clear (&g->nodes[i]);
  g_free (g->nodes);
  for (size_t i = 0; i < g->n_initializers; i++)
    named_tensor_clear (&g->initializers[i]);
  g_free (g->initializers);
  for (size_t i = 0; i < g->n_inputs; i++)
    value_info_clear (&g->inputs[i]);
  g_free (g->inputs);
  for (size_t i = 0; i < g->n_outputs; i++)
    value_info_clear (&g->outputs[i]);
  g_free (g->outputs);
  for (size_t i = 0; i < g->n_value_info; i++)
    value_info_clear (&g->value_info[i]);
  g_free (g->value_info);
  memset (g, 0, sizeof *g);
}

static void
string_pair_clear (GraftOnnxStringPair *p)
{
  g_free (p->key);
  g_free (p->value);
  memset (p, 0, sizeof *p);
}

static void
opset_clear (GraftOnnxOpset *o)
{
  g_free (o->domain);
  memset (o, 0, sizeof *o);
}

void
graft_onnx_model_free (GraftOnnxModel *model)
{
  if (model == NULL)
    return;
  g_free (model->producer_name);
  g_free (model->producer_version);
  g_free (model->domain);
  g_free (model->doc_string);
  for (size_t i = 0; i < model->n_opsets; i++)
    opset_clear (&model->opsets[i]);
  g_free (model->opsets);
  graph_clear (&model->graph);
  for (size_t i = 0; i < model->n_metadata; i++)
    string_pair_clear (&model->metadata[i]);
  g_free (model->metadata);
  g_free (model);
}

/* Parsing helpers */

/* Absent strings read as "" so that users of the structs need no checks. */
static void
ensure_string (char **s)
{
  if (*s == NULL)
    *s = g_strdup ("");
}

static GArray *
items_new (size_t elem_size, GDestroyNotify clear)
{
  GArray *a = g_array_new (FALSE, TRUE, elem_size);
  if (clear)
    g_array_set_clear_func (a, clear);
  return a;
}

/* Appends a zeroed element after checking the cap; parse into it, and the
 * array's clear function frees it if the parse fails. */
static void *
items_add (PbReader *r, GArray *items, const char *what, GError **error)
{
  if (items->len >= ONNX_MAX_ITEMS)
    {
      pb_error (r, error, GRAFT_ERROR_LIMIT, "more than %d %s", ONNX_MAX_ITEMS,
                what);
      return NULL;
    }
  g_array_set_size (items, items->len + 1);
  return items->data +
         (size_t) (items->len - 1) * g_array_get_element_size (items);
}

static void *
items_steal (GArray *items, size_t *n)
{
  gsize len = 0;
  void *data = g_array_steal (items, &len);
  *n = len;
  return data;
}

static gboolean
add_string (PbReader *r, GPtrArray *strings, const char *what, GError **error)
{
  char *s = NULL;

  if (strings->len >= ONNX_MAX_ITEMS)
    {
      pb_error (r, error, GRAFT_ERROR_LIMIT, "more than %d %s", ONNX_MAX_ITEMS,
                what);
      return FALSE;
    }
  if (!pb_read_string (r, &s, NULL, error))
    return FALSE;
  g_ptr_array_add (strings, s);
  return TRUE;
}

static char **
strings_steal (GPtrArray *strings, size_t *n)
{
  gsize len = 0;
  char **data = (char **) g_ptr_array_steal (strings, &len);
  *n = len;
  return data;
}

static gboolean
duplicate_field (PbReader *r, GError **error)
{
  g_autofree char *what = pb_field_describe (r);
  pb_error (r, error, GRAFT_ERROR_PARSE, "%s appears twice", what);
  return FALSE;
}

static const char *
elem_type_name (gint32 type)
{
  switch (type)
    {
    case 14:
      return "complex64";
    case 15:
      return "complex128";
    case 16:
      return "bfloat16";
    case 17:
      return "float8e4m3fn";
    case 18:
      return "float8e4m3fnuz";
    case 19:
      return "float8e5m2";
    case 20:
      return "float8e5m2fnuz";
    case 21:
      return "uint4";
    case 22:
      return "int4";
    default:
      return graft_dtype_name ((GraftDType) type);
    }
}

/* TensorProto */

typedef struct
{
  size_t ndim; /* as many as the file lists, even past GRAFT_MAX_DIMS */
  int64_t dims[GRAFT_MAX_DIMS];
  gint32 data_type;
  gint32 data_location;
  const guint8 *raw;
  size_t raw_len;
  gboolean has_raw;
  gboolean has_segment;
  guint32 typed_fields; /* bit per *_data field number present */
  char *name;
  char *location;
  size_t location_len;
  char *offset;
  char *length;
} TensorMeta;

static void
tensor_meta_clear (TensorMeta *m)
{
  g_free (m->name);
  g_free (m->location);
  g_free (m->offset);
  g_free (m->length);
}

static char *
tensor_label (const TensorMeta *m)
{
  if (m->name && m->name[0])
    {
      g_autofree char *name = pb_printable (m->name);
      return g_strdup_printf ("tensor '%s'", name);
    }
  return g_strdup ("unnamed tensor");
}

static const char *
typed_field_name (int field)
{
  for (const PbField *f = tensor_fields; f->name; f++)
    if ((int) f->number == field)
      return f->name;
  return "?";
}

static gboolean
parse_external_entry (PbReader *r, TensorMeta *m, GError **error)
{
  PbReader sub;
  g_autofree char *key = NULL;
  g_autofree char *value = NULL;
  size_t value_len = 0;

  if (!pb_read_message (r, &sub, string_pair_fields, error))
    return FALSE;
  while (!pb_at_end (&sub))
    {
      gboolean ok;
      if (!pb_next (&sub, error))
        return FALSE;
      if (sub.field == 1)
        ok = pb_read_string (&sub, &key, NULL, error);
      else if (sub.field == 2)
        ok = pb_read_string (&sub, &value, &value_len, error);
      else
        ok = pb_skip (&sub, error);
      if (!ok)
        return FALSE;
    }
  if (key == NULL || value == NULL)
    return TRUE;
  if (strcmp (key, "location") == 0)
    {
      g_free (m->location);
      m->location = g_steal_pointer (&value);
      m->location_len = value_len;
    }
  else if (strcmp (key, "offset") == 0)
    {
      g_free (m->offset);
      m->offset = g_steal_pointer (&value);
    }
  else if (strcmp (key, "length") == 0)
    {
      g_free (m->length);
      m->length = g_steal_pointer (&value);
    }
  return TRUE;
}

/* First pass: everything but the typed value lists. */
static gboolean
tensor_scan (PbReader r, TensorMeta *m, GError **error)
{
  while (!pb_at_end (&r))
    {
      gboolean ok = TRUE;

      if (!pb_next (&r, error))
        return FALSE;
      switch (r.field)
        {
        case TENSOR_DIMS:
          {
            PbRepeated rep;
            ok = pb_read_repeated (&r, PB_WIRE_VARINT, &rep, error);
            for (size_t i = 0; ok && i < rep.count; i++, m->ndim++)
              {
                gint64 d = (gint64) pb_repeated_varint (&rep);
                if (m->ndim < GRAFT_MAX_DIMS)
                  m->dims[m->ndim] = d;
              }
            break;
          }
        case TENSOR_DATA_TYPE:
          ok = pb_read_int32 (&r, &m->data_type, error);
          break;
        case TENSOR_SEGMENT:
          m->has_segment = TRUE;
          ok = pb_skip (&r, error);
          break;
        case TENSOR_NAME:
          ok = pb_read_string (&r, &m->name, NULL, error);
          break;
        case TENSOR_RAW_DATA:
          m->has_raw = TRUE;
          ok = pb_read_bytes (&r, &m->raw, &m->raw_len, error);
          break;
        case TENSOR_EXTERNAL_DATA:
          ok = parse_external_entry (&r, m, error);
          break;
        case TENSOR_DATA_LOCATION:
          ok = pb_read_int32 (&r, &m->data_location, error);
          break;
        case TENSOR_FLOAT_DATA:
        case TENSOR_INT32_DATA:
        case TENSOR_STRING_DATA:
        case TENSOR_INT64_DATA:
        case TENSOR_DOUBLE_DATA:
        case TENSOR_UINT64_DATA:
          m->typed_fields |= 1u << r.field;
          ok = pb_skip (&r, error);
          break;
        default:
          ok = pb_skip (&r, error);
          break;
        }
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* The typed field that holds values of dtype, and its element wire type. */
static int
typed_field_for (GraftDType dtype, PbWireType *wire)
{
  switch (dtype)
    {
    case GRAFT_DTYPE_FLOAT:
      *wire = PB_WIRE_I32;
      return TENSOR_FLOAT_DATA;
    case GRAFT_DTYPE_DOUBLE:
      *wire = PB_WIRE_I64;
      return TENSOR_DOUBLE_DATA;
    case GRAFT_DTYPE_INT64:
      *wire = PB_WIRE_VARINT;
      return TENSOR_INT64_DATA;
    case GRAFT_DTYPE_UINT32:
    case GRAFT_DTYPE_UINT64:
      *wire = PB_WIRE_VARINT;
      return TENSOR_UINT64_DATA;
    case GRAFT_DTYPE_FLOAT16:
    case GRAFT_DTYPE_INT32:
    case GRAFT_DTYPE_INT16:
    case GRAFT_DTYPE_INT8:
    case GRAFT_DTYPE_UINT8:
    case GRAFT_DTYPE_UINT16:
    case GRAFT_DTYPE_BOOL:
    case GRAFT_DTYPE_UNDEFINED:
    case GRAFT_DTYPE_STRING:
    default:
      *wire = PB_WIRE_VARINT;
      return TENSOR_INT32_DATA;
    }
}

static void
store_value (GraftTensor *t, size_t i, guint64 v)
{
  /* Narrower types keep the low bits, as C casts do. */
  switch (graft_dtype_size (t->dtype))
    {
    case 1:
      ((guint8 *) t->data)[i] =
          t->dtype == GRAFT_DTYPE_BOOL ? (v != 0) : (guint8) v;
      break;
    case 2:
      ((guint16 *) t->data)[i] = (guint16) v;
      break;
    case 4:
      ((guint32 *) t->data)[i] = (guint32) v;
      break;
    case 8:
    default:
      ((guint64 *) t->data)[i] = v;
      break;
    }
}

/* Counts (t == NULL) or stores the values of the typed field. */
static gboolean
tensor_typed_values (PbReader r,
                     int field,
                     PbWireType wire,
                     GraftTensor *t,
                     size_t *count,
                     GError **error)
{
  size_t n = 0;
  size_t numel = t ? (size_t) graft_tensor_numel (t) : 0;

  while (!pb_at_end (&r))
    {
      PbRepeated rep;

      if (!pb_next (&r, error))
        return FALSE;
      if ((int) r.field != field)
        {
          if (!pb_skip (&r, error))
            return FALSE;
          continue;
        }
      if (!pb_read_repeated (&r, wire, &rep, error))
        return FALSE;
      if (t == NULL)
        {
          n += rep.count;
          continue;
        }
      /* The count was checked against numel in the counting pass. */
      for (size_t i = 0; i < rep.count && n < numel; i++, n++)
        {
          guint64 v;
          if (wire == PB_WIRE_I32)
            v = pb_repeated_fixed32 (&rep);
          else if (wire == PB_WIRE_I64)
            v = pb_repeated_fixed64 (&rep);
          else
            v = pb_repeated_varint (&rep);
          store_value (t, n, v);
        }
    }
  *count = n;
  return TRUE;
}

static gboolean
parse_decimal (const PbReader *r,
               const char *label,
               const char *key,
               const char *text,
               gint64 *value,
               GError **error)
{
  guint64 v;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT64, &v, NULL))
    {
      g_autofree char *shown = pb_printable (text);
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s: external data %s '%s' is not a valid byte count", label,
                key, shown);
      return FALSE;
    }
  *value = (gint64) v;
  return TRUE;
}

/* Opens base_dir/location for reading after checking that the path stays
 * inside base_dir: relative, no '..', no symbolic link anywhere. */
static int
open_external (const PbReader *r,
               const OnnxSource *src,
               const char *label,
               const TensorMeta *m,
               GError **error)
{
  g_auto (GStrv) parts = NULL;
  g_autofree char *path = g_strdup (src->base_dir);
  g_autofree char *shown = pb_printable (m->location);
  const char *loc = m->location;
  struct stat st;
  int fd;

  if (loc[0] == '\0' || strlen (loc) != m->location_len)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s: external data location is empty or contains a NUL byte",
                label);
      return -1;
    }
  if (g_path_is_absolute (loc))
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s: external data location '%s' is an absolute path; only "
                "files in the model's folder are read",
                label, shown);
      return -1;
    }
  parts = g_strsplit (loc, "/", -1);
  for (int i = 0; parts[i]; i++)
    if (strcmp (parts[i], "..") == 0)
      {
        pb_error (r, error, GRAFT_ERROR_INVALID,
                  "%s: external data location '%s' contains '..'; only files "
                  "in the model's folder are read",
                  label, shown);
        return -1;
      }
  for (int i = 0; parts[i]; i++)
    {
      gboolean last = parts[i + 1] == NULL;
      char *next;

      if (parts[i][0] == '\0' || strcmp (parts[i], ".") == 0)
        {
          if (last)
            {
              pb_error (r, error, GRAFT_ERROR_INVALID,
                        "%s: external data location '%s' is not a file name",
                        label, shown);
              return -1;
            }
          continue;
        }
      next = g_build_filename (path, parts[i], NULL);
      g_free (path);
      path = next;
      if (lstat (path, &st) != 0)
        {
          int saved = errno;
          pb_error (r, error, GRAFT_ERROR_IO,
                    "%s: cannot read external data file '%s': %s", label, shown,
                    g_strerror (saved));
          return -1;
        }
      if (S_ISLNK (st.st_mode))
        {
          pb_error (r, error, GRAFT_ERROR_INVALID,
                    "%s: external data location '%s' goes through a symbolic "
                    "link, which is refused",
                    label, shown);
          return -1;
        }
      if (last ? !S_ISREG (st.st_mode) : !S_ISDIR (st.st_mode))
        {
          pb_error (r, error, GRAFT_ERROR_INVALID,
                    "%s: external data location '%s' is not a regular file",
                    label, shown);
          return -1;
        }
    }
  /* O_NOFOLLOW and fstat close the gap between the checks and the open. */
  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      pb_error (r, error, GRAFT_ERROR_IO,
                "%s: cannot open external data file '%s': %s", label, shown,
                fd >= 0 ? "not a regular file" : g_strerror (saved));
      return -1;
    }
  return fd;
}

static gboolean
read_external (const PbReader *r,
               const OnnxSource *src,
               const TensorMeta *m,
               GraftTensor *t,
               GError **error)
{
  g_autofree char *label = tensor_label (m);
  size_t nbytes = graft_tensor_nbytes (t);
  g_autofree char *shown = pb_printable (m->location);
  gint64 offset = 0, length = (gint64) nbytes;
  struct stat st;
  size_t done = 0;
  int fd;

  if (src->base_dir == NULL)
    {
      pb_error (r, error, GRAFT_ERROR_UNSUPPORTED,
                "%s keeps its data in the external file '%s', which is read "
                "only when the model is loaded from a file",
                label, shown);
      return FALSE;
    }
  if (m->location == NULL)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s: external data has no location", label);
      return FALSE;
    }
  if (m->offset &&
      !parse_decimal (r, label, "offset", m->offset, &offset, error))
    return FALSE;
  if (m->length &&
      !parse_decimal (r, label, "length", m->length, &length, error))
    return FALSE;
  if ((guint64) length != nbytes)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s: external data length is %" G_GINT64_FORMAT
                " bytes but its shape and type need %zu",
                label, length, nbytes);
      return FALSE;
    }
  fd = open_external (r, src, label, m, error);
  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) != 0 || offset > st.st_size ||
      length > st.st_size - offset)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s: external data at offset %" G_GINT64_FORMAT
                " with length %" G_GINT64_FORMAT
                " runs past the end of '%s' (%" G_GINT64_FORMAT " bytes)",
                label, offset, length, shown, (gint64) st.st_size);
      close (fd);
      return FALSE;
    }
  while (done < nbytes)
    {
      ssize_t got = pread (fd, (guint8 *) t->data + done, nbytes - done,
                           (off_t) (offset + (gint64) done));
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        {
          int saved = errno;
          pb_error (r, error, GRAFT_ERROR_IO,
                    "%s: cannot read external data file '%s': %s", label, shown,
                    got == 0 ? "the file is shorter than expected"
                             : g_strerror (saved));
          close (fd);
          return FALSE;
        }
      done += (size_t) got;
    }
  close (fd);
#if G_BYTE_ORDER != G_LITTLE_ENDIAN
  pb_copy_le (t->data, t->data, graft_tensor_numel (t),
              graft_dtype_size (t->dtype));
#endif
  return TRUE;
}

/* Checks the metadata of pass one against itself and the data. */
static gboolean
tensor_check (const PbReader *r,
              const TensorMeta *m,
              const char *label,
              GraftShape *shape,
              GError **error)
{
  GraftDType dtype = (GraftDType) m->data_type;
  size_t esize = graft_dtype_size (dtype);
  int64_t numel;

  if (m->has_segment)
    {
      pb_error (r, error, GRAFT_ERROR_UNSUPPORTED,
                "%s is split into segments, which Graft does not support",
                label);
      return FALSE;
    }
  if (m->ndim > GRAFT_MAX_DIMS)
    {
      pb_error (r, error, GRAFT_ERROR_LIMIT,
                "%s has %zu dimensions (at most %d are supported)", label,
                m->ndim, GRAFT_MAX_DIMS);
      return FALSE;
    }
  shape->ndim = (int) m->ndim;
  for (size_t i = 0; i < m->ndim; i++)
    {
      if (m->dims[i] < 0)
        {
          pb_error (r, error, GRAFT_ERROR_INVALID,
                    "%s has the negative dimension %" G_GINT64_FORMAT, label,
                    m->dims[i]);
          return FALSE;
        }
      shape->dims[i] = m->dims[i];
    }
  if (m->data_type == GRAFT_DTYPE_UNDEFINED)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID, "%s has no data_type", label);
      return FALSE;
    }
  if (m->data_type == GRAFT_DTYPE_STRING)
    {
      pb_error (r, error, GRAFT_ERROR_UNSUPPORTED,
                "%s holds strings, which Graft does not support", label);
      return FALSE;
    }
  if (esize == 0)
    {
      pb_error (r, error, GRAFT_ERROR_UNSUPPORTED,
                "%s has the element type %d (%s), which Graft does not "
                "support",
                label, (int) m->data_type, elem_type_name (m->data_type));
      return FALSE;
    }
  if (!graft_shape_numel_checked (shape, esize, &numel))
    {
      g_autofree char *s = graft_shape_to_string (shape);
      pb_error (r, error, GRAFT_ERROR_LIMIT,
                "%s of shape %s (%s) is larger than the %" G_GINT64_FORMAT
                " bytes Graft accepts",
                label, s, graft_dtype_name (dtype), GRAFT_TENSOR_MAX_BYTES);
      return FALSE;
    }
  if (m->data_location != 0 && m->data_location != 1)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s has the unknown data_location %d", label,
                (int) m->data_location);
      return FALSE;
    }
  if (m->data_location == 1 && (m->has_raw || m->typed_fields))
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s has external data and also data in the file", label);
      return FALSE;
    }
  if (m->has_raw && m->typed_fields)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s has both raw_data and typed values", label);
      return FALSE;
    }
  if (m->typed_fields)
    {
      PbWireType wire;
      int field = typed_field_for (dtype, &wire);
      if (m->typed_fields & ~(1u << field))
        {
          int other = 0;
          while (!(m->typed_fields & (1u << other)) || other == field)
            other++;
          pb_error (r, error, GRAFT_ERROR_INVALID,
                    "%s of type %s has values in %s; they belong in %s", label,
                    graft_dtype_name (dtype), typed_field_name (other),
                    typed_field_name (field));
          return FALSE;
        }
    }
  if (m->has_raw && m->raw_len != (size_t) numel * esize)
    {
      g_autofree char *s = graft_shape_to_string (shape);
      pb_error (r, error, GRAFT_ERROR_INVALID,
                "%s: raw_data has %zu bytes but shape %s of %s needs %zu",
                label, m->raw_len, s, graft_dtype_name (dtype),
                (size_t) numel * esize);
      return FALSE;
    }
  if (!m->has_raw && !m->typed_fields && m->data_location != 1 && numel > 0)
    {
      pb_error (r, error, GRAFT_ERROR_INVALID, "%s has no data", label);
      return FALSE;
    }
  return TRUE;
}

/* Parses the TensorProto that r spans. */
static GraftTensor *
parse_tensor (PbReader *r, const OnnxSource *src, char **name, GError **error)
{
  TensorMeta m = { 0 };
  g_autofree char *label = NULL;
  g_autoptr (GraftTensor) t = NULL;
  g_autoptr (GError) local = NULL;
  GraftShape shape = { 0 };
  PbWireType wire;
  int field;

  if (!tensor_scan (*r, &m, error))
    goto fail;
  label = tensor_label (&m);
  if (!tensor_check (r, &m, label, &shape, error))
    goto fail;
  field = typed_field_for ((GraftDType) m.data_type, &wire);
  if (m.typed_fields)
    {
      size_t count = 0;
      if (!tensor_typed_values (*r, field, wire, NULL, &count, error))
        goto fail;
      if (count != (size_t) graft_shape_numel (&shape))
        {
          g_autofree char *s = graft_shape_to_string (&shape);
          pb_error (r, error, GRAFT_ERROR_INVALID,
                    "%s has %zu values in %s but its shape %s needs "
                    "%" G_GINT64_FORMAT,
                    label, count, typed_field_name (field), s,
                    graft_shape_numel (&shape));
          goto fail;
        }
    }
  t = graft_tensor_new ((GraftDType) m.data_type, &shape, &local);
  if (t == NULL)
    {
      pb_error (r, error, local->code, "%s: %s", label, local->message);
      goto fail;
    }
  if (m.has_raw)
    pb_copy_le (t->data, m.raw, (size_t) graft_tensor_numel (t),
                graft_dtype_size (t->dtype));
  else if (m.typed_fields)
    {
      size_t count;
      if (!tensor_typed_values (*r, field, wire, t, &count, error))
        goto fail;
    }
  else if (m.data_location == 1 && !read_external (r, src, &m, t, error))
    goto fail;
  if (name)
    {
      *name = m.name ? m.name : g_strdup ("");
      m.name = NULL;
    }
  tensor_meta_clear (&m);
  return g_steal_pointer (&t);

fail:
  tensor_meta_clear (&m);
  return NULL;
}

static GraftTensor *
parse_tensor_field (PbReader *r,
                    const OnnxSource *src,
                    char **name,
                    GError **error)
{
  PbReader sub;

  if (!pb_read_message (r, &sub, tensor_fields, error))
    return NULL;
  return parse_tensor (&sub, src, name, error);
}

/* ValueInfoProto */

static gboolean
parse_dim (PbReader *r, GraftOnnxValueInfo *vi, GError **error)
{
  PbReader sub;
  int k = vi->ndim;

  if (k >= GRAFT_MAX_DIMS)
    {
      g_autofree char *name = pb_printable (vi->name);
      pb_error (r, error, GRAFT_ERROR_LIMIT,
                "value '%s' has more than %d dimensions", name, GRAFT_MAX_DIMS);
      return FALSE;
    }
  if (!pb_read_message (r, &sub, dim_fields, error))
    return FALSE;
  vi->ndim++;
  vi->dims[k] = -1;
  g_clear_pointer (&vi->dim_params[k], g_free);
  while (!pb_at_end (&sub))
    {
      gboolean ok;
      gint64 v;

      if (!pb_next (&sub, error))
        return FALSE;
      switch (sub.field)
        {
        case 1:
          ok = pb_read_int64 (&sub, &v, error);
          /* Some exporters wrote -1 for an unknown dim: read it as that. */
          vi->dims[k] = v < 0 ? -1 : v;
          g_clear_pointer (&vi->dim_params[k], g_free);
          break;
        case 2:
          ok = pb_read_string (&sub, &vi->dim_params[k], NULL, error);
          vi->dims[k] = -1;
          break;
        default:
          ok = pb_skip (&sub, error);
          break;
        }
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_type_tensor (PbReader *r, GraftOnnxValueInfo *vi, GError **error)
{
  PbReader sub;
  gboolean has_shape = FALSE;

  if (!pb_read_message (r, &sub, type_tensor_fields, error))
    return FALSE;
  while (!pb_at_end (&sub))
    {
      gboolean ok = TRUE;
      gint32 v;

      if (!pb_next (&sub, error))
        return FALSE;
      if (sub.field == 1)
        {
          ok = pb_read_int32 (&sub, &v, error);
          vi->elem_type = (GraftDType) v;
        }
      else if (sub.field == 2)
        {
          PbReader shape;
          if (has_shape)
            return duplicate_field (&sub, error);
          has_shape = TRUE;
          ok = pb_read_message (&sub, &shape, shape_fields, error);
          vi->ndim = 0;
          while (ok && !pb_at_end (&shape))
            {
              ok = pb_next (&shape, error);
              if (ok && shape.field == 1)
                ok = parse_dim (&shape, vi, error);
              else if (ok)
                ok = pb_skip (&shape, error);
            }
        }
      else
        ok = pb_skip (&sub, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

static gboolean
parse_value_info (PbReader *r, GraftOnnxValueInfo *vi, GError **error)
{
  PbReader sub;
  gboolean has_type = FALSE;

  if (!pb_read_message (r, &sub, value_info_fields, error))
    return FALSE;
  vi->ndim = -1;
  while (!pb_at_end (&sub))
    {
      gboolean ok = TRUE;

      if (!pb_next (&sub, error))
        return FALSE;
      if (sub.field == 1)
        ok = pb_read_string (&sub, &vi->name, NULL, error);
      else if (sub.field == 2)
        {
          PbReader type;
          if (has_type)
            return duplicate_field (&sub, error);
          has_type = TRUE;
          ok = pb_read_message (&sub, &type, type_fields, error);
          /* Sequence, map and optional types stay unknown. */
          while (ok && !pb_at_end (&type))
            {
              ok = pb_next (&type, error);
              if (ok && type.field == 1)
                ok = parse_type_tensor (&type, vi, error);
              else if (ok)
                ok = pb_skip (&type, error);
            }
        }
      else
        ok = pb_skip (&sub, error);
      if (!ok)
        return FALSE;
    }
  ensure_string (&vi->name);
  return TRUE;
}

/* NodeProto and AttributeProto */

static gboolean parse_graph (PbReader *r,
                             const OnnxSource *src,
                             GraftOnnxGraph *graph,
                             GError **error);

/* Graph attributes are not kept, but are parsed and checked like the main
 * graph so that a damaged body is still reported. */
static gboolean
check_subgraph (PbReader *r, const OnnxSource *src, GError **error)
{
  PbReader sub;
  GraftOnnxGraph graph = { 0 };
  gboolean ok;

  if (!pb_read_message (r, &sub, graph_fields, error))
    return FALSE;
  ok = parse_graph (&sub, src, &graph, error);
  graph_clear (&graph);
  return ok;
}

static gboolean
add_attr_values (PbReader *r, GArray *values, PbWireType wire, GError **error)
{
  PbRepeated rep;

  if (!pb_read_repeated (r, wire, &rep, error))
    return FALSE;
  if (rep.count > (size_t) ONNX_MAX_VALUES - values->len)
    {
      g_autofree char *what = pb_field_describe (r);
      pb_error (r, error, GRAFT_ERROR_LIMIT,
                "attribute %s has more than %d values", what, ONNX_MAX_VALUES);
      return FALSE;
    }
  for (size_t i = 0; i < rep.count; i++)
    {
      if (wire == PB_WIRE_I32)
        {
          guint32 bits = pb_repeated_fixed32 (&rep);
          float f;
          memcpy (&f, &bits, 4);
          g_array_append_val (values, f);
        }
      else
        {
          gint64 v = (gint64) pb_repeated_varint (&rep);
          g_array_append_val (values, v);
        }
    }
  return TRUE;
}

static gboolean
parse_attribute (PbReader *r,
                 const OnnxSource *src,
                 GraftOnnxAttribute *a,
                 GError **error)
{
  PbReader sub;
  g_autoptr (GArray) floats = g_array_new (FALSE, FALSE, sizeof (float));
  g_autoptr (GArray) ints = g_array_new (FALSE, FALSE, sizeof (int64_t));
  g_autoptr (GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  gboolean has_type = FALSE, has_f = FALSE, has_i = FALSE;

  if (!pb_read_message (r, &sub, attr_fields, error))
    return FALSE;
  while (!pb_at_end (&sub))
    {
      gboolean ok = TRUE;
      gint32 type;

      if (!pb_next (&sub, error))
        return FALSE;
      switch (sub.field)
        {
        case 1:
          ok = pb_read_string (&sub, &a->name, NULL, error);
          break;
        case 2:
          has_f = TRUE;
          ok = pb_read_float (&sub, &a->f, error);
          break;
        case 3:
          has_i = TRUE;
          ok = pb_read_int64 (&sub, &a->i, error);
          break;
        case 4:
          ok = pb_read_string (&sub, &a->s, NULL, error);
          break;
        case 5:
          if (a->t)
            return duplicate_field (&sub, error);
          a->t = parse_tensor_field (&sub, src, NULL, error);
          ok = a->t != NULL;
          break;
        case 6:
        case 11:
          a->has_graph = TRUE;
          ok = check_subgraph (&sub, src, error);
          break;
        case 7:
          ok = add_attr_values (&sub, floats, PB_WIRE_I32, error);
          break;
        case 8:
          ok = add_attr_values (&sub, ints, PB_WIRE_VARINT, error);
          break;
        case 9:
          ok = add_string (&sub, strings, "strings in an attribute", error);
          break;
        case 20:
          has_type = TRUE;
          ok = pb_read_int32 (&sub, &type, error);
          a->type = (GraftAttrType) type;
          break;
        default:
          ok = pb_skip (&sub, error);
          break;
        }
      if (!ok)
        return FALSE;
    }
  if (floats->len)
    {
      a->n_floats = floats->len;
      a->floats = (float *) g_array_free (g_steal_pointer (&floats), FALSE);
    }
  if (ints->len)
    {
      a->n_ints = ints->len;
      a->ints = (int64_t *) g_array_free (g_steal_pointer (&ints), FALSE);
    }
  if (strings->len)
    a->strings = strings_steal (strings, &a->n_strings);
  /* Files from before IR version 2 have no type: infer it as onnx does. */
  if (!has_type)
    {
      if (a->t)
        a->type = GRAFT_ATTR_TENSOR;
      else if (a->has_graph)
        a->type = GRAFT_ATTR_GRAPH;
      else if (a->s)
        a->type = GRAFT_ATTR_STRING;
      else if (a->n_floats)
        a->type = GRAFT_ATTR_FLOATS;
      else if (a->n_ints)
        a->type = GRAFT_ATTR_INTS;
      else if (a->n_strings)
        a->type = GRAFT_ATTR_STRINGS;
      else if (has_f)
        a->type = GRAFT_ATTR_FLOAT;
      else if (has_i)
        a->type = GRAFT_ATTR_INT;
    }
  ensure_string (&a->name);
  return TRUE;
}

static gboolean
parse_node (PbReader *r,
            const OnnxSource *src,
            size_t index,
            GraftOnnxNode *node,
            GError **error)
{
  PbReader sub;
  g_autoptr (GPtrArray) inputs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) outputs = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) attrs =
      items_new (sizeof (GraftOnnxAttribute), (GDestroyNotify) attr_clear);

  if (!pb_read_message (r, &sub, node_fields, error))
    return FALSE;
  while (!pb_at_end (&sub))
    {
      gboolean ok = TRUE;
      GraftOnnxAttribute *a;

      if (!pb_next (&sub, error))
        return FALSE;
      switch (sub.field)
        {
        case 1:
          ok = add_string (&sub, inputs, "node inputs", error);
          break;
        case 2:
          ok = add_string (&sub, outputs, "node outputs", error);
          break;
        case 3:
          ok = pb_read_string (&sub, &node->name, NULL, error);
          break;
        case 4:
          ok = pb_read_string (&sub, &node->op_type, NULL, error);
          break;
        case 5:
          a = items_add (&sub, attrs, "node attributes", error);
          ok = a && parse_attribute (&sub, src, a, error);
          break;
        case 7:
          ok = pb_read_string (&sub, &node->domain, NULL, error);
          break;
        default:
          ok = pb_skip (&sub, error);
          break;
        }
      if (!ok)
        return FALSE;
    }
  node->inputs = strings_steal (inputs, &node->n_inputs);
  node->outputs = strings_steal (outputs, &node->n_outputs);
  node->attrs = items_steal (attrs, &node->n_attrs);
  ensure_string (&node->name);
  ensure_string (&node->domain);
  if (node->op_type == NULL || node->op_type[0] == '\0')
    {
      g_autofree char *name = pb_printable (node->name);
      pb_error (r, error, GRAFT_ERROR_INVALID, "node %zu ('%s') has no op_type",
                index, name);
      return FALSE;
    }
  return TRUE;
}

/* GraphProto */

static gboolean
parse_graph (PbReader *r,
             const OnnxSource *src,
             GraftOnnxGraph *graph,
             GError **error)
{
  g_autoptr (GArray) nodes =
      items_new (sizeof (GraftOnnxNode), (GDestroyNotify) node_clear);
  g_autoptr (GArray) inits = items_new (sizeof (GraftOnnxNamedTensor),
                                        (GDestroyNotify) named_tensor_clear);
  g_autoptr (GArray) inputs = items_new (sizeof (GraftOnnxValueInfo),
                                         (GDestroyNotify) value_info_clear);
  g_autoptr (GArray) outputs = items_new (sizeof (GraftOnnxValueInfo),
                                          (GDestroyNotify) value_info_clear);
  g_autoptr (GArray) infos = items_new (sizeof (GraftOnnxValueInfo),
                                        (GDestroyNotify) value_info_clear);

  while (!pb_at_end (r))
    {
      gboolean ok = TRUE;
      GraftOnnxNode *node;
      GraftOnnxNamedTensor *init;
      GraftOnnxValueInfo *vi;

      if (!pb_next (r, error))
        return FALSE;
      switch (r->field)
        {
        case 1:
          node = items_add (r, nodes, "nodes", error);
          ok = node && parse_node (r, src, nodes->len - 1, node, error);
          break;
        case 2:
          ok = pb_read_string (r, &graph->name, NULL, error);
          break;
        case 5:
          init = items_add (r, inits, "initializers", error);
          if (init)
            init->tensor = parse_tensor_field (r, src, &init->name, error);
          ok = init && init->tensor;
          break;
        case 11:
          vi = items_add (r, inputs, "graph inputs", error);
          ok = vi && parse_value_info (r, vi, error);
          break;
        case 12:
          vi = items_add (r, outputs, "graph outputs", error);
          ok = vi && parse_value_info (r, vi, error);
          break;
        case 13:
          vi = items_add (r, infos, "value_info entries", error);
          ok = vi && parse_value_info (r, vi, error);
          break;
        case 15:
          /* Dropping one would leave a weight missing: refuse instead. */
          pb_error (r, error, GRAFT_ERROR_UNSUPPORTED,
                    "the graph has sparse initializers, which Graft does not "
                    "support");
          return FALSE;
        default:
          ok = pb_skip (r, error);
          break;
        }
      if (!ok)
        return FALSE;
    }
  ensure_string (&graph->name);
  graph->nodes = items_steal (nodes, &graph->n_nodes);
  graph->initializers = items_steal (inits, &graph->n_initializers);
  graph->inputs = items_steal (inputs, &graph->n_inputs);
  graph->outputs = items_steal (outputs, &graph->n_outputs);
  graph->value_info = items_steal (infos, &graph->n_value_info);
  return TRUE;
}

/* ModelProto */

static gboolean
parse_string_pair (PbReader *r, GraftOnnxStringPair *p, GError **error)
{
  PbReader sub;

  if (!pb_read_message (r, &sub, string_pair_fields, error))
    return FALSE;
  while (!pb_at_end (&sub))
    {
      gboolean ok;
      if (!pb_next (&sub, error))
        return FALSE;
      if (sub.field == 1)
        ok = pb_read_string (&sub, &p->key, NULL, error);
      else if (sub.field == 2)
        ok = pb_read_string (&sub, &p->value, NULL, error);
      else
        ok = pb_skip (&sub, error);
      if (!ok)
        return FALSE;
    }
  ensure_string (&p->key);
  ensure_string (&p->value);
  return TRUE;
}

static gboolean
parse_opset (PbReader *r, GraftOnnxOpset *o, GError **error)
{
  PbReader sub;

  if (!pb_read_message (r, &sub, opset_fields, error))
    return FALSE;
  while (!pb_at_end (&sub))
    {
      gboolean ok;
      if (!pb_next (&sub, error))
        return FALSE;
      if (sub.field == 1)
        ok = pb_read_string (&sub, &o->domain, NULL, error);
      else if (sub.field == 2)
        ok = pb_read_int64 (&sub, &o->version, error);
      else
        ok = pb_skip (&sub, error);
      if (!ok)
        return FALSE;
    }
  ensure_string (&o->domain);
  return TRUE;
}

static gboolean
parse_model (PbReader *r,
             const OnnxSource *src,
             GraftOnnxModel *m,
             GError **error)
{
  g_autoptr (GArray) opsets =
      items_new (sizeof (GraftOnnxOpset), (GDestroyNotify) opset_clear);
  g_autoptr (GArray) metadata = items_new (sizeof (GraftOnnxStringPair),
                                           (GDestroyNotify) string_pair_clear);
  gboolean has_graph = FALSE;

  while (!pb_at_end (r))
    {
      gboolean ok = TRUE;
      GraftOnnxOpset *o;
      GraftOnnxStringPair *p;
      PbReader sub;

      if (!pb_next (r, error))
        return FALSE;
      switch (r->field)
        {
        case 1:
          ok = pb_read_int64 (r, &m->ir_version, error);
          break;
        case 2:
          ok = pb_read_string (r, &m->producer_name, NULL, error);
          break;
        case 3:
          ok = pb_read_string (r, &m->producer_version, NULL, error);
          break;
        case 4:
          ok = pb_read_string (r, &m->domain, NULL, error);
          break;
        case 5:
          ok = pb_read_int64 (r, &m->model_version, error);
          break;
        case 6:
          ok = pb_read_string (r, &m->doc_string, NULL, error);
          break;
        case 7:
          if (has_graph)
            return duplicate_field (r, error);
          has_graph = TRUE;
          ok = pb_read_message (r, &sub, graph_fields, error) &&
               parse_graph (&sub, src, &m->graph, error);
          break;
        case 8:
          o = items_add (r, opsets, "opset_import entries", error);
          ok = o && parse_opset (r, o, error);
          break;
        case 14:
          p = items_add (r, metadata, "metadata_props entries", error);
          ok = p && parse_string_pair (r, p, error);
          break;
        default:
          ok = pb_skip (r, error);
          break;
        }
      if (!ok)
        return FALSE;
    }
  if (!has_graph)
    {
      pb_error (r, error, GRAFT_ERROR_PARSE, "the model has no graph");
      return FALSE;
    }
  m->opsets = items_steal (opsets, &m->n_opsets);
  m->metadata = items_steal (metadata, &m->n_metadata);
  ensure_string (&m->producer_name);
  ensure_string (&m->producer_version);
  ensure_string (&m->domain);
  ensure_string (&m->doc_string);
  return TRUE;
}

/* Names common files that are not ONNX, for a friendlier message. */
static const char *
sniff_foreign_format (const guint8 *data, size_t len)
{
  static const struct
  {
    size_t offset;
    const char *magic;
    size_t magic_len;
    const char *what;
  } signatures[] = {
    { 0, "\x89PNG\r\n\x1a\n", 8, "a PNG image" },
    { 0, "\xff\xd8\xff", 3, "a JPEG image" },
    { 0, "GIF8", 4, "a GIF image" },
    { 8, "WEBP", 4, "a WebP image" },
    { 0, "PK\x03\x04", 4,
      "a ZIP archive; PyTorch .pt files are ZIP archives and must be "
      "exported to ONNX first" },
    { 0, "\x1f\x8b", 2, "a gzip archive" },
    { 0, "%PDF", 4, "a PDF document" },
    { 0,
      "\x7f"
      "ELF",
      4, "a program" },
    { 0, "\x89HDF", 4, "an HDF5 file, as Keras saves" },
    { 4, "TFL3", 4, "a TensorFlow Lite model" },
  };
  size_t n = MIN (len, (size_t) 512);
  const char *end;

  for (size_t i = 0; i < G_N_ELEMENTS (signatures); i++)
    if (len >= signatures[i].offset + signatures[i].magic_len &&
        memcmp (data + signatures[i].offset, signatures[i].magic,
                signatures[i].magic_len) == 0)
      return signatures[i].what;
  /* Text: valid UTF-8 without control characters other than spacing.
   * The cut at 512 bytes may split a character, so allow an unfinished
   * one at the end. */
  if (!g_utf8_validate ((const char *) data, (gssize) n, &end) &&
      (len == n || (size_t) ((const guint8 *) end - data) + 4 < n))
    return NULL;
  for (const guint8 *p = data; p < (const guint8 *) end; p++)
    if (*p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t')
      return NULL;
  if (end == (const char *) data)
    return NULL;
  if (data[0] == '<')
    return "an HTML or XML page";
  return "a text file";
}

static void
replace_with_foreign (GError **error,
                      const char *display_name,
                      const char *kind,
                      const guint8 *data,
                      size_t len)
{
  const char *what = sniff_foreign_format (data, len);

  if (what == NULL || error == NULL || *error == NULL)
    return;
  g_clear_error (error);
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
               "%s: not an ONNX %s (this looks like %s)", display_name, kind,
               what);
}

static GraftOnnxModel *
model_parse (const guint8 *data,
             size_t len,
             const OnnxSource *src,
             GError **error)
{
  GraftOnnxModel *model;
  PbReader r;
  GError *local = NULL;

  if (len == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: the file is empty", src->display_name);
      return NULL;
    }
  model = g_new0 (GraftOnnxModel, 1);
  pb_reader_init (&r, data, len, src->display_name, model_fields);
  if (!parse_model (&r, src, model, &local))
    {
      replace_with_foreign (&local, src->display_name, "model", data, len);
      g_propagate_error (error, local);
      graft_onnx_model_free (model);
      return NULL;
    }
  return model;
}

GraftOnnxModel *
graft_onnx_model_parse (const guint8 *data,
                        size_t len,
                        const char *display_name,
                        const char *base_dir,
                        GError **error)
{
  OnnxSource src = { display_name ? display_name : "(memory)", base_dir };

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  return model_parse (data, len, &src, error);
}

static GraftTensor *
tensor_parse (const guint8 *data,
              size_t len,
              const OnnxSource *src,
              char **name,
              GError **error)
{
  GraftTensor *t;
  PbReader r;
  GError *local = NULL;

  if (len == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: the file is empty", src->display_name);
      return NULL;
    }
  pb_reader_init (&r, data, len, src->display_name, tensor_fields);
  t = parse_tensor (&r, src, name, &local);
  if (t == NULL)
    {
      replace_with_foreign (&local, src->display_name, "tensor", data, len);
      g_propagate_error (error, local);
    }
  return t;
}

GraftTensor *
graft_onnx_tensor_parse (const guint8 *data,
                         size_t len,
                         const char *display_name,
                         char **name,
                         GError **error)
{
  OnnxSource src = { display_name ? display_name : "(memory)", NULL };

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  return tensor_parse (data, len, &src, name, error);
}

/* Files */

static gboolean
read_whole_file (const char *path, guint8 **data, size_t *len, GError **error)
{
  struct stat st;
  guint8 *buf;
  size_t done = 0;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot open: %s",
                   path, g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot read: %s",
                   path, g_strerror (saved));
      close (fd);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (
          error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot read: %s", path,
          S_ISDIR (st.st_mode) ? "it is a folder" : "not a regular file");
      close (fd);
      return FALSE;
    }
  if (st.st_size > ONNX_MAX_FILE_BYTES)
    {
      g_autofree char *size = g_format_size ((guint64) st.st_size);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: the file is %s, more than the 2 GiB an ONNX file can "
                   "hold",
                   path, size);
      close (fd);
      return FALSE;
    }
  buf = g_malloc ((size_t) st.st_size + 1);
  while (done < (size_t) st.st_size)
    {
      ssize_t got = read (fd, buf + done, (size_t) st.st_size - done);
      if (got < 0 && errno == EINTR)
        continue;
      if (got < 0)
        {
          int saved = errno;
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                       "%s: cannot read: %s", path, g_strerror (saved));
          g_free (buf);
          close (fd);
          return FALSE;
        }
      if (got == 0)
        break; /* shrank while we read: parse what is there */
      done += (size_t) got;
    }
  close (fd);
  *data = buf;
  *len = done;
  return TRUE;
}

GraftOnnxModel *
graft_onnx_model_load (const char *path, GError **error)
{
  g_autofree guint8 *data = NULL;
  g_autofree char *dir = NULL;
  size_t len;
  OnnxSource src;

  g_return_val_if_fail (path != NULL, NULL);
  if (!read_whole_file (path, &data, &len, error))
    return NULL;
  dir = g_path_get_dirname (path);
  src.display_name = path;
  src.base_dir = dir;
  return model_parse (data, len, &src, error);
}

GraftTensor *
graft_onnx_tensor_load (const char *path, char **name, GError **error)
{
  g_autofree guint8 *data = NULL;
  g_autofree char *dir = NULL;
  size_t len;
  OnnxSource src;

  g_return_val_if_fail (path != NULL, NULL);
  if (!read_whole_file (path, &data, &len, error))
    return NULL;
  dir = g_path_get_dirname (path);
  src.display_name = path;
  src.base_dir = dir;
  return tensor_parse (data, len, &src, name, error);
}

/* Lookups */

int64_t
graft_onnx_model_opset (const GraftOnnxModel *model)
{
  g_return_val_if_fail (model != NULL, 1);
  for (size_t i = 0; i < model->n_opsets; i++)
    {
      const char *d = model->opsets[i].domain;
      if (d == NULL || d[0] == '\0' || strcmp (d, "ai.onnx") == 0)
        return model->opsets[i].version;
    }
  return 1;
}

const char *
graft_onnx_model_get_metadata (const GraftOnnxModel *model, const char *key)
{
  g_return_val_if_fail (model != NULL && key != NULL, NULL);
  for (size_t i = 0; i < model->n_metadata; i++)
    if (g_strcmp0 (model->metadata[i].key, key) == 0)
      return model->metadata[i].value;
  return NULL;
}

const GraftOnnxAttribute *
graft_onnx_node_get_attr (const GraftOnnxNode *node, const char *name)
{
  g_return_val_if_fail (node != NULL && name != NULL, NULL);
  for (size_t i = 0; i < node->n_attrs; i++)
    if (g_strcmp0 (node->attrs[i].name, name) == 0)
      return &node->attrs[i];
  return NULL;
}
