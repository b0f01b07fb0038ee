/* test-onnx-format.c: reading and writing ONNX files without libprotobuf.
 *
 * Models are built in memory with the structs (or byte by byte with the
 * wire-format writer for what the structs cannot express), serialized and
 * parsed back. Damaged files of every kind must give a GRAFT_ERROR whose
 * message starts with the display name, and never crash.
 */
#include "graft-error.h"
#include "onnx-model.h"
#include "protobuf.h"

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define TESTDATA_DIR "/usr/share/libonnx-testdata/data"

/* Helpers */

static void
assert_graft_error (const GError *error, const char *display_name)
{
  g_autofree char *prefix = g_strdup_printf ("%s: ", display_name);

  g_assert_nonnull (error);
  g_assert_true (error->domain == GRAFT_ERROR);
  if (!g_str_has_prefix (error->message, prefix))
    g_error ("message does not start with '%s': %s", prefix, error->message);
  /* One line, with something after the name. */
  g_assert_null (strchr (error->message, '\n'));
  g_assert_cmpuint (strlen (error->message), >, strlen (prefix) + 4);
}

/* Parse must fail with a proper error; returns the message for checks. */
static char *
parse_fails (const guint8 *data,
             size_t len,
             const char *display_name,
             const char *base_dir)
{
  GError *error = NULL;
  GraftOnnxModel *model =
      graft_onnx_model_parse (data, len, display_name, base_dir, &error);
  char *message;

  if (model)
    g_error ("%s: parsed but should have failed", display_name);
  assert_graft_error (error, display_name);
  message = g_strdup (error->message);
  g_error_free (error);
  return message;
}

static void
assert_contains (const char *message, const char *part)
{
  if (strstr (message, part) == NULL)
    g_error ("expected '%s' in: %s", part, message);
}

static GraftTensor *
make_tensor (GraftDType dtype, int ndim, const int64_t *dims)
{
  GraftShape shape = graft_shape_make (ndim, dims);
  g_autoptr (GError) error = NULL;
  GraftTensor *t = graft_tensor_new (dtype, &shape, &error);
  guint8 *bytes;
  size_t n;

  g_assert_no_error (error);
  bytes = t->data;
  n = graft_tensor_nbytes (t);
  for (size_t i = 0; i < n; i++)
    bytes[i] = dtype == GRAFT_DTYPE_BOOL ? (guint8) (i % 3 == 0)
                                         : (guint8) (i * 37 + (size_t) dtype);
  return t;
}

static void
assert_tensor_equal (const GraftTensor *a, const GraftTensor *b)
{
  if (a == NULL || b == NULL)
    {
      g_assert_true (a == b);
      return;
    }
  g_assert_cmpint (a->dtype, ==, b->dtype);
  g_assert_true (graft_shape_equal (&a->shape, &b->shape));
  g_assert_cmpmem (a->data, graft_tensor_nbytes (a), b->data,
                   graft_tensor_nbytes (b));
}

static char **
strv_new (size_t n, const char *const *items)
{
  char **v = g_new0 (char *, n + 1);
  for (size_t i = 0; i < n; i++)
    v[i] = g_strdup (items[i]);
  return v;
}

static void
value_info_init (GraftOnnxValueInfo *vi,
                 const char *name,
                 GraftDType type,
                 int ndim,
                 const int64_t *dims,
                 const char *const *params)
{
  vi->name = g_strdup (name);
  vi->elem_type = type;
  vi->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    {
      vi->dims[i] = dims[i];
      vi->dim_params[i] = params && params[i] ? g_strdup (params[i]) : NULL;
    }
}

/* A model with every field the structs hold set to something. */
static GraftOnnxModel *
build_model (void)
{
  static const int64_t d23[] = { 2, 3 };
  static const int64_t d4[] = { 4 };
  static const int64_t d0[] = { 0, 5 };
  static const int64_t d2222[] = { 2, 1, 2, 3 };
  static const GraftDType init_types[] = {
    GRAFT_DTYPE_FLOAT, GRAFT_DTYPE_FLOAT16, GRAFT_DTYPE_DOUBLE,
    GRAFT_DTYPE_INT64, GRAFT_DTYPE_INT32,   GRAFT_DTYPE_INT16,
    GRAFT_DTYPE_INT8,  GRAFT_DTYPE_UINT8,   GRAFT_DTYPE_UINT16,
    GRAFT_DTYPE_BOOL,  GRAFT_DTYPE_UINT32,  GRAFT_DTYPE_UINT64,
  };
  static const char *const conv_in[] = { "x", "w_float32", "" };
  static const char *const conv_out[] = { "y" };
  static const char *const relu_in[] = { "y" };
  static const char *const relu_out[] = { "z", "" };
  static const char *const strs[] = { "a", "", "h\xc3\xa9llo" };
  static const int64_t x_dims[] = { -1, 3, -1, 5 };
  static const char *const x_params[] = { "batch", NULL, NULL, NULL };
  GraftOnnxModel *m = g_new0 (GraftOnnxModel, 1);
  GraftOnnxGraph *g = &m->graph;
  GraftOnnxAttribute *a;
  size_t n_types = G_N_ELEMENTS (init_types);

  m->ir_version = 8;
  m->producer_name = g_strdup ("graft-test");
  m->producer_version = g_strdup ("1.2.3");
  m->domain = g_strdup ("org.graft.test");
  m->model_version = 42;
  m->doc_string = g_strdup ("A model\nwith two lines.");
  m->n_opsets = 2;
  m->opsets = g_new0 (GraftOnnxOpset, 2);
  m->opsets[0].domain = g_strdup ("com.example");
  m->opsets[0].version = 1;
  m->opsets[1].domain = g_strdup ("");
  m->opsets[1].version = 13;
  m->n_metadata = 2;
  m->metadata = g_new0 (GraftOnnxStringPair, 2);
  m->metadata[0].key = g_strdup ("graft.labels");
  m->metadata[0].value = g_strdup ("cat\ndog");
  m->metadata[1].key = g_strdup ("empty");
  m->metadata[1].value = g_strdup ("");

  g->name = g_strdup ("main");
  g->n_nodes = 3;
  g->nodes = g_new0 (GraftOnnxNode, 3);

  g->nodes[0].name = g_strdup ("conv0");
  g->nodes[0].op_type = g_strdup ("Conv");
  g->nodes[0].domain = g_strdup ("");
  g->nodes[0].n_inputs = 3;
  g->nodes[0].inputs = strv_new (3, conv_in);
  g->nodes[0].n_outputs = 1;
  g->nodes[0].outputs = strv_new (1, conv_out);
  g->nodes[0].n_attrs = 11;
  g->nodes[0].attrs = a = g_new0 (GraftOnnxAttribute, 11);
  a[0].name = g_strdup ("alpha");
  a[0].type = GRAFT_ATTR_FLOAT;
  a[0].f = -0.25f;
  a[1].name = g_strdup ("group");
  a[1].type = GRAFT_ATTR_INT;
  a[1].i = -((int64_t) 1 << 40);
  a[2].name = g_strdup ("auto_pad");
  a[2].type = GRAFT_ATTR_STRING;
  a[2].s = g_strdup ("SAME_UPPER");
  a[3].name = g_strdup ("value");
  a[3].type = GRAFT_ATTR_TENSOR;
  a[3].t = make_tensor (GRAFT_DTYPE_INT64, 2, d23);
  a[4].name = g_strdup ("then_branch");
  a[4].type = GRAFT_ATTR_GRAPH;
  a[4].has_graph = TRUE;
  a[5].name = g_strdup ("scales");
  a[5].type = GRAFT_ATTR_FLOATS;
  a[5].n_floats = 3;
  a[5].floats = g_new (float, 3);
  a[5].floats[0] = 1.5f;
  a[5].floats[1] = -2.0f;
  a[5].floats[2] = 0.0f;
  a[6].name = g_strdup ("pads");
  a[6].type = GRAFT_ATTR_INTS;
  a[6].n_ints = 4;
  a[6].ints = g_new (int64_t, 4);
  a[6].ints[0] = 0;
  a[6].ints[1] = -1;
  a[6].ints[2] = (int64_t) 1 << 40;
  a[6].ints[3] = INT64_MIN;
  a[7].name = g_strdup ("names");
  a[7].type = GRAFT_ATTR_STRINGS;
  a[7].n_strings = 3;
  a[7].strings = strv_new (3, strs);
  a[8].name = g_strdup ("no_ints");
  a[8].type = GRAFT_ATTR_INTS;
  a[9].name = g_strdup ("zero");
  a[9].type = GRAFT_ATTR_FLOAT;
  a[10].name = g_strdup ("empty_s");
  a[10].type = GRAFT_ATTR_STRING;
  a[10].s = g_strdup ("");

  g->nodes[1].name = g_strdup ("");
  g->nodes[1].op_type = g_strdup ("Relu");
  g->nodes[1].domain = g_strdup ("");
  g->nodes[1].n_inputs = 1;
  g->nodes[1].inputs = strv_new (1, relu_in);
  g->nodes[1].n_outputs = 2;
  g->nodes[1].outputs = strv_new (2, relu_out);

  g->nodes[2].name = g_strdup ("custom");
  g->nodes[2].op_type = g_strdup ("Frobnicate");
  g->nodes[2].domain = g_strdup ("com.example");

  g->n_initializers = n_types + 2;
  g->initializers = g_new0 (GraftOnnxNamedTensor, n_types + 2);
  for (size_t i = 0; i < n_types; i++)
    {
      g->initializers[i].name =
          g_strdup_printf ("w_%s", graft_dtype_name (init_types[i]));
      g->initializers[i].tensor = make_tensor (init_types[i], 4, d2222);
    }
  g->initializers[n_types].name = g_strdup ("scalar");
  g->initializers[n_types].tensor = make_tensor (GRAFT_DTYPE_FLOAT, 0, NULL);
  g->initializers[n_types + 1].name = g_strdup ("");
  g->initializers[n_types + 1].tensor = make_tensor (GRAFT_DTYPE_FLOAT, 2, d0);

  g->n_inputs = 1;
  g->inputs = g_new0 (GraftOnnxValueInfo, 1);
  value_info_init (&g->inputs[0], "x", GRAFT_DTYPE_FLOAT, 4, x_dims, x_params);
  g->n_outputs = 2;
  g->outputs = g_new0 (GraftOnnxValueInfo, 2);
  value_info_init (&g->outputs[0], "z", GRAFT_DTYPE_FLOAT, -1, NULL, NULL);
  value_info_init (&g->outputs[1], "scalar_out", GRAFT_DTYPE_INT64, 0, NULL,
                   NULL);
  g->n_value_info = 2;
  g->value_info = g_new0 (GraftOnnxValueInfo, 2);
  value_info_init (&g->value_info[0], "y", GRAFT_DTYPE_UNDEFINED, -1, NULL,
                   NULL);
  value_info_init (&g->value_info[1], "v", GRAFT_DTYPE_FLOAT16, 1, d4, NULL);
  return m;
}

static void
assert_value_info_equal (const GraftOnnxValueInfo *a,
                         const GraftOnnxValueInfo *b)
{
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpint (a->elem_type, ==, b->elem_type);
  g_assert_cmpint (a->ndim, ==, b->ndim);
  for (int i = 0; i < a->ndim; i++)
    {
      g_assert_cmpint (a->dims[i], ==, b->dims[i]);
      g_assert_cmpstr (a->dim_params[i], ==, b->dim_params[i]);
    }
}

static void
assert_attr_equal (const GraftOnnxAttribute *a, const GraftOnnxAttribute *b)
{
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpint (a->type, ==, b->type);
  g_assert_cmpmem (&a->f, sizeof a->f, &b->f, sizeof b->f);
  g_assert_cmpint (a->i, ==, b->i);
  g_assert_cmpstr (a->s, ==, b->s);
  assert_tensor_equal (a->t, b->t);
  g_assert_cmpmem (a->floats, a->n_floats * sizeof (float), b->floats,
                   b->n_floats * sizeof (float));
  g_assert_cmpmem (a->ints, a->n_ints * sizeof (int64_t), b->ints,
                   b->n_ints * sizeof (int64_t));
  g_assert_cmpuint (a->n_strings, ==, b->n_strings);
  for (size_t i = 0; i < a->n_strings; i++)
    g_assert_cmpstr (a->strings[i], ==, b->strings[i]);
  g_assert_cmpint (a->has_graph, ==, b->has_graph);
}

static void
assert_graph_equal (const GraftOnnxGraph *a, const GraftOnnxGraph *b)
{
  g_assert_cmpstr (a->name, ==, b->name);
  g_assert_cmpuint (a->n_nodes, ==, b->n_nodes);
  for (size_t i = 0; i < a->n_nodes; i++)
    {
      const GraftOnnxNode *na = &a->nodes[i], *nb = &b->nodes[i];
      g_assert_cmpstr (na->name, ==, nb->name);
      g_assert_cmpstr (na->op_type, ==, nb->op_type);
      g_assert_cmpstr (na->domain, ==, nb->domain);
      g_assert_cmpuint (na->n_inputs, ==, nb->n_inputs);
      for (size_t k = 0; k < na->n_inputs; k++)
        g_assert_cmpstr (na->inputs[k], ==, nb->inputs[k]);
      g_assert_cmpuint (na->n_outputs, ==, nb->n_outputs);
      for (size_t k = 0; k < na->n_outputs; k++)
        g_assert_cmpstr (na->outputs[k], ==, nb->outputs[k]);
      g_assert_cmpuint (na->n_attrs, ==, nb->n_attrs);
      for (size_t k = 0; k < na->n_attrs; k++)
        assert_attr_equal (&na->attrs[k], &nb->attrs[k]);
    }
  g_assert_cmpuint (a->n_initializers, ==, b->n_initializers);
  for (size_t i = 0; i < a->n_initializers; i++)
    {
      g_assert_cmpstr (a->initializers[i].name, ==, b->initializers[i].name);
      assert_tensor_equal (a->initializers[i].tensor,
                           b->initializers[i].tensor);
    }
  g_assert_cmpuint (a->n_inputs, ==, b->n_inputs);
  for (size_t i = 0; i < a->n_inputs; i++)
    assert_value_info_equal (&a->inputs[i], &b->inputs[i]);
  g_assert_cmpuint (a->n_outputs, ==, b->n_outputs);
  for (size_t i = 0; i < a->n_outputs; i++)
    assert_value_info_equal (&a->outputs[i], &b->outputs[i]);
  g_assert_cmpuint (a->n_value_info, ==, b->n_value_info);
  for (size_t i = 0; i < a->n_value_info; i++)
    assert_value_info_equal (&a->value_info[i], &b->value_info[i]);
}

static void
assert_model_equal (const GraftOnnxModel *a, const GraftOnnxModel *b)
{
  g_assert_cmpint (a->ir_version, ==, b->ir_version);
  g_assert_cmpstr (a->producer_name, ==, b->producer_name);
  g_assert_cmpstr (a->producer_version, ==, b->producer_version);
  g_assert_cmpstr (a->domain, ==, b->domain);
  g_assert_cmpint (a->model_version, ==, b->model_version);
  g_assert_cmpstr (a->doc_string, ==, b->doc_string);
  g_assert_cmpuint (a->n_opsets, ==, b->n_opsets);
  for (size_t i = 0; i < a->n_opsets; i++)
    {
      g_assert_cmpstr (a->opsets[i].domain, ==, b->opsets[i].domain);
      g_assert_cmpint (a->opsets[i].version, ==, b->opsets[i].version);
    }
  g_assert_cmpuint (a->n_metadata, ==, b->n_metadata);
  for (size_t i = 0; i < a->n_metadata; i++)
    {
      g_assert_cmpstr (a->metadata[i].key, ==, b->metadata[i].key);
      g_assert_cmpstr (a->metadata[i].value, ==, b->metadata[i].value);
    }
  assert_graph_equal (&a->graph, &b->graph);
}

static GBytes *
serialize_test_model (void)
{
  g_autoptr (GraftOnnxModel) model = build_model ();
  return graft_onnx_model_serialize (model);
}

/* Removes a folder made by a test; symbolic links are removed, not
 * followed. */
static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_assert_cmpint (g_unlink (child), ==, 0);
    }
  g_dir_close (dir);
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

/* Round trips */

static void
test_roundtrip (void)
{
  g_autoptr (GraftOnnxModel) model = build_model ();
  g_autoptr (GBytes) bytes = graft_onnx_model_serialize (model);
  g_autoptr (GBytes) again = NULL;
  g_autoptr (GraftOnnxModel) parsed = NULL;
  g_autoptr (GraftOnnxModel) loaded = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("graft-onnx-XXXXXX", &error);
  g_autofree char *path = NULL;
  GDir *listing;
  int n_files = 0;

  g_assert_no_error (error);
  parsed = graft_onnx_model_parse (g_bytes_get_data (bytes, NULL),
                                   g_bytes_get_size (bytes), "memory.onnx",
                                   NULL, &error);
  g_assert_no_error (error);
  assert_model_equal (model, parsed);

  /* The writer is deterministic: the parsed model writes the same bytes. */
  again = graft_onnx_model_serialize (parsed);
  g_assert_true (g_bytes_equal (bytes, again));

  path = g_build_filename (dir, "model.onnx", NULL);
  g_assert_true (graft_onnx_model_save (model, path, &error));
  g_assert_no_error (error);
  /* Saving over an existing file replaces it. */
  g_assert_true (graft_onnx_model_save (model, path, &error));
  loaded = graft_onnx_model_load (path, &error);
  g_assert_no_error (error);
  assert_model_equal (model, loaded);
  /* No temporary file is left beside it. */
  listing = g_dir_open (dir, 0, NULL);
  while (g_dir_read_name (listing))
    n_files++;
  g_dir_close (listing);
  g_assert_cmpint (n_files, ==, 1);
  remove_tree (dir);
}

static void
test_tensor_roundtrip (void)
{
  static const int64_t dims[] = { 3, 1, 4, 1, 5 };
  static const GraftDType types[] = {
    GRAFT_DTYPE_FLOAT,  GRAFT_DTYPE_UINT8,  GRAFT_DTYPE_INT8,
    GRAFT_DTYPE_UINT16, GRAFT_DTYPE_INT16,  GRAFT_DTYPE_INT32,
    GRAFT_DTYPE_INT64,  GRAFT_DTYPE_BOOL,   GRAFT_DTYPE_FLOAT16,
    GRAFT_DTYPE_DOUBLE, GRAFT_DTYPE_UINT32, GRAFT_DTYPE_UINT64,
  };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("graft-onnx-XXXXXX", &error);

  for (size_t i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (GraftTensor) t = make_tensor (types[i], 5, dims);
      g_autoptr (GBytes) bytes = graft_onnx_tensor_serialize (t, "input_0");
      g_autoptr (GraftTensor) back = NULL;
      g_autoptr (GraftTensor) loaded = NULL;
      g_autofree char *name = NULL;
      g_autofree char *name2 = NULL;
      g_autofree char *path = g_build_filename (dir, "input_0.pb", NULL);

      back = graft_onnx_tensor_parse (g_bytes_get_data (bytes, NULL),
                                      g_bytes_get_size (bytes), "t.pb", &name,
                                      &error);
      g_assert_no_error (error);
      g_assert_cmpstr (name, ==, "input_0");
      assert_tensor_equal (t, back);

      g_assert_true (graft_onnx_tensor_save (t, NULL, path, &error));
      g_assert_no_error (error);
      loaded = graft_onnx_tensor_load (path, &name2, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (name2, ==, "");
      assert_tensor_equal (t, loaded);
    }
  remove_tree (dir);
}

/* TensorProtos with typed value lists, packed and unpacked. */
static GraftTensor *
parse_pb (PbWriter *w, GError **error)
{
  GraftTensor *t =
      graft_onnx_tensor_parse (w->data, w->len, "typed.pb", NULL, error);
  pb_writer_clear (w);
  return t;
}

static void
test_typed_values (void)
{
  static const float fv[] = { 1.0f, -2.5f, 3.25f };
  static const int64_t iv[] = { -1, 0, (int64_t) 1 << 50 };
  g_autoptr (GError) error = NULL;
  PbWriter w;
  GraftTensor *t;

  /* float_data packed, dims unpacked */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 3);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_packed_float (&w, 4, fv, 3);
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (t->data, 12, fv, 12);
  graft_tensor_free (t);

  /* float_data unpacked, split in two runs, dims packed */
  pb_writer_init (&w);
  pb_write_packed_int64 (&w, 1, (const int64_t[]){ 1, 3 }, 2);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_float_field (&w, 4, fv[0]);
  pb_write_packed_float (&w, 4, fv + 1, 2);
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_cmpint (t->shape.ndim, ==, 2);
  g_assert_cmpmem (t->data, 12, fv, 12);
  graft_tensor_free (t);

  /* int64_data */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 3);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_INT64);
  pb_write_packed_int64 (&w, 7, iv, 3);
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (t->data, 24, iv, 24);
  graft_tensor_free (t);

  /* int32_data for int8 (negative), bool, float16 bits */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 3);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_INT8);
  pb_write_packed_int64 (&w, 5, iv, 2);
  pb_write_int64_field (&w, 5, -128);
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_cmpint (((int8_t *) t->data)[0], ==, -1);
  g_assert_cmpint (((int8_t *) t->data)[1], ==, 0);
  g_assert_cmpint (((int8_t *) t->data)[2], ==, -128);
  graft_tensor_free (t);

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 2);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT16);
  pb_write_int64_field (&w, 5, graft_float_to_half (1.5f));
  pb_write_int64_field (&w, 5, graft_float_to_half (-0.25f));
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (graft_half_to_float (((guint16 *) t->data)[0]), ==, 1.5f);
  g_assert_cmpfloat (graft_half_to_float (((guint16 *) t->data)[1]), ==,
                     -0.25f);
  graft_tensor_free (t);

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 2);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_BOOL);
  pb_write_packed_int64 (&w, 5, (const int64_t[]){ 0, 7 }, 2);
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_cmpint (((guint8 *) t->data)[0], ==, 0);
  g_assert_cmpint (((guint8 *) t->data)[1], ==, 1);
  graft_tensor_free (t);

  /* double_data, unpacked 64-bit values then a packed run */
  {
    double d[2] = { -1.0 / 3.0, 1e300 };
    guint8 le[8];
    pb_copy_le (le, &d[0], 1, 8);
    pb_writer_init (&w);
    pb_write_int64_field (&w, 1, 3);
    pb_write_int64_field (&w, 2, GRAFT_DTYPE_DOUBLE);
    pb_write_tag (&w, 10, PB_WIRE_I64);
    pb_write_raw (&w, le, 8);
    pb_write_le_field (&w, 10, d, 2, 8);
    t = parse_pb (&w, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (((double *) t->data)[0], ==, d[0]);
    g_assert_cmpfloat (((double *) t->data)[1], ==, d[0]);
    g_assert_cmpfloat (((double *) t->data)[2], ==, d[1]);
    graft_tensor_free (t);
  }

  /* uint64_data for uint32 and uint64 */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 1);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_UINT64);
  pb_write_uint64_field (&w, 11, G_MAXUINT64);
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_true (((guint64 *) t->data)[0] == G_MAXUINT64);
  graft_tensor_free (t);

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 1);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_UINT32);
  pb_write_uint64_field (&w, 11, 4000000000u);
  t = parse_pb (&w, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (((guint32 *) t->data)[0], ==, 4000000000u);
  graft_tensor_free (t);

  /* Wrong count of typed values, values in the wrong list, both kinds of
   * storage, string tensors. */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 4);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_packed_float (&w, 4, fv, 3);
  g_assert_null (parse_pb (&w, &error));
  assert_graft_error (error, "typed.pb");
  assert_contains (error->message, "3 values in float_data");
  g_clear_error (&error);

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 3);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_packed_int64 (&w, 7, iv, 3);
  g_assert_null (parse_pb (&w, &error));
  assert_graft_error (error, "typed.pb");
  assert_contains (error->message, "int64_data");
  g_clear_error (&error);

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 3);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_packed_float (&w, 4, fv, 3);
  pb_write_le_field (&w, 9, fv, 3, 4);
  g_assert_null (parse_pb (&w, &error));
  assert_graft_error (error, "typed.pb");
  g_clear_error (&error);

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 1);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_STRING);
  pb_write_string_field (&w, 6, "hello");
  g_assert_null (parse_pb (&w, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED);
  assert_graft_error (error, "typed.pb");
  g_clear_error (&error);

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 1);
  pb_write_int64_field (&w, 2, 16); /* bfloat16 */
  pb_write_le_field (&w, 9, "ab", 1, 2);
  g_assert_null (parse_pb (&w, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED);
  assert_contains (error->message, "bfloat16");
  g_clear_error (&error);

  /* packed floats whose length is not a multiple of 4 */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_bytes_field (&w, 4, "abcde", 5);
  g_assert_null (parse_pb (&w, &error));
  assert_graft_error (error, "typed.pb");
  assert_contains (error->message, "multiple of 4");
  g_clear_error (&error);
}

static void
test_accessors (void)
{
  g_autoptr (GraftOnnxModel) model = build_model ();
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GraftOnnxModel) parsed = NULL;
  g_autoptr (GError) error = NULL;
  const GraftOnnxAttribute *a;

  g_assert_cmpint (graft_onnx_model_opset (model), ==, 13);
  g_free (model->opsets[1].domain);
  model->opsets[1].domain = g_strdup ("ai.onnx");
  g_assert_cmpint (graft_onnx_model_opset (model), ==, 13);
  model->n_opsets = 1; /* only com.example left */
  g_assert_cmpint (graft_onnx_model_opset (model), ==, 1);
  model->n_opsets = 2;

  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "graft.labels"), ==,
                   "cat\ndog");
  g_assert_null (graft_onnx_model_get_metadata (model, "missing"));
  graft_onnx_model_set_metadata (model, "graft.labels", "a\nb\nc");
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "graft.labels"), ==,
                   "a\nb\nc");
  g_assert_cmpuint (model->n_metadata, ==, 2);
  graft_onnx_model_set_metadata (model, "new", "value");
  g_assert_cmpuint (model->n_metadata, ==, 3);
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "new"), ==, "value");

  /* A duplicate key in a file: setting it leaves one entry. */
  model->metadata = g_renew (GraftOnnxStringPair, model->metadata, 4);
  model->metadata[3].key = g_strdup ("new");
  model->metadata[3].value = g_strdup ("shadowed");
  model->n_metadata = 4;
  graft_onnx_model_set_metadata (model, "new", "final");
  g_assert_cmpuint (model->n_metadata, ==, 3);
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "new"), ==, "final");

  bytes = graft_onnx_model_serialize (model);
  parsed =
      graft_onnx_model_parse (g_bytes_get_data (bytes, NULL),
                              g_bytes_get_size (bytes), "m.onnx", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (graft_onnx_model_get_metadata (parsed, "new"), ==, "final");
  g_assert_cmpstr (graft_onnx_model_get_metadata (parsed, "graft.labels"), ==,
                   "a\nb\nc");

  a = graft_onnx_node_get_attr (&parsed->graph.nodes[0], "pads");
  g_assert_nonnull (a);
  g_assert_cmpint (a->type, ==, GRAFT_ATTR_INTS);
  g_assert_cmpint (a->ints[3], ==, INT64_MIN);
  g_assert_null (graft_onnx_node_get_attr (&parsed->graph.nodes[0], "nope"));
  g_assert_null (graft_onnx_node_get_attr (&parsed->graph.nodes[1], "pads"));
}

/* Hand-built models for what the structs cannot say. */

static GBytes *
wrap_graph_in_model (const guint8 *graph, size_t len)
{
  PbWriter w;

  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 8);
  pb_write_bytes_field (&w, 7, graph, len);
  return pb_writer_steal (&w);
}

static void
test_wire_variants (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftOnnxModel) model = NULL;
  g_autoptr (GBytes) bytes = NULL;
  const GraftOnnxAttribute *a;
  PbWriter g;
  size_t node, attr;

  /* A 64-bit unknown field with only 2 bytes left in its node */
  pb_writer_init (&g);
  node = pb_begin_message (&g, 1);
  pb_write_string_field (&g, 4, "Relu");
  pb_write_tag (&g, 1001, PB_WIRE_I64);
  pb_write_raw (&g, "ab", 2);
  pb_end_message (&g, node);
  pb_write_string_field (&g, 2, "padding so the graph goes on");
  bytes = wrap_graph_in_model (g.data, g.len);
  pb_writer_clear (&g);
  {
    g_autofree char *message =
        parse_fails (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                     "wire.onnx", NULL);
    assert_contains (message, "truncated: field 1001 needs 8 bytes but only "
                              "2 remain");
  }
  g_clear_pointer (&bytes, g_bytes_unref);

  /* ints split across an unpacked value and a packed run, no type field
   * (files before IR version 2), unknown fields of every wire type. */
  pb_writer_init (&g);
  node = pb_begin_message (&g, 1);
  pb_write_string_field (&g, 1, "x");
  pb_write_string_field (&g, 4, "MaxPool");
  attr = pb_begin_message (&g, 5);
  pb_write_string_field (&g, 1, "pads");
  pb_write_int64_field (&g, 8, 1);
  pb_write_packed_int64 (&g, 8, (const int64_t[]){ 2, -3 }, 2);
  pb_end_message (&g, attr);
  pb_write_uint64_field (&g, 999, 12345);
  pb_write_float_field (&g, 1000, 1.0f);
  pb_write_tag (&g, 1001, PB_WIRE_I64);
  pb_write_raw (&g, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  pb_write_le_field (&g, 1002, "12345678", 1, 8);
  pb_write_string_field (&g, 6, "a doc string");
  pb_end_message (&g, node);
  bytes = wrap_graph_in_model (g.data, g.len);
  pb_writer_clear (&g);
  model = graft_onnx_model_parse (g_bytes_get_data (bytes, NULL),
                                  g_bytes_get_size (bytes), "wire.onnx", NULL,
                                  &error);
  g_assert_no_error (error);
  g_assert_cmpuint (model->graph.n_nodes, ==, 1);
  g_assert_cmpstr (model->graph.nodes[0].op_type, ==, "MaxPool");
  g_assert_cmpstr (model->graph.nodes[0].name, ==, "");
  g_assert_cmpstr (model->graph.nodes[0].domain, ==, "");
  g_assert_cmpstr (model->graph.name, ==, "");
  g_assert_cmpstr (model->producer_name, ==, "");
  a = graft_onnx_node_get_attr (&model->graph.nodes[0], "pads");
  g_assert_cmpint (a->type, ==, GRAFT_ATTR_INTS);
  g_assert_cmpuint (a->n_ints, ==, 3);
  g_assert_cmpint (a->ints[0], ==, 1);
  g_assert_cmpint (a->ints[1], ==, 2);
  g_assert_cmpint (a->ints[2], ==, -3);
  g_assert_cmpint (graft_onnx_model_opset (model), ==, 1);
}

/* Subgraphs nested n deep: If nodes whose then_branch holds the next. */
static GBytes *
nested_if_model (int levels)
{
  PbWriter inner;

  pb_writer_init (&inner); /* the innermost graph is empty */
  for (int level = 0; level < levels; level++)
    {
      PbWriter g;
      size_t node, attr;

      pb_writer_init (&g);
      node = pb_begin_message (&g, 1);
      pb_write_string_field (&g, 4, "If");
      attr = pb_begin_message (&g, 5);
      pb_write_string_field (&g, 1, "then_branch");
      pb_write_int64_field (&g, 20, GRAFT_ATTR_GRAPH);
      pb_write_bytes_field (&g, 6, inner.data, inner.len);
      pb_end_message (&g, attr);
      pb_end_message (&g, node);
      pb_writer_clear (&inner);
      inner = g;
    }
  {
    GBytes *model = wrap_graph_in_model (inner.data, inner.len);
    pb_writer_clear (&inner);
    return model;
  }
}

static void
test_nesting (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) shallow = nested_if_model (5);
  g_autoptr (GBytes) deep = nested_if_model (2000);
  g_autoptr (GraftOnnxModel) model = NULL;
  g_autofree char *message = NULL;

  model = graft_onnx_model_parse (g_bytes_get_data (shallow, NULL),
                                  g_bytes_get_size (shallow), "if.onnx", NULL,
                                  &error);
  g_assert_no_error (error);
  g_assert_cmpstr (model->graph.nodes[0].op_type, ==, "If");
  g_assert_true (model->graph.nodes[0].attrs[0].has_graph);
  g_assert_cmpint (model->graph.nodes[0].attrs[0].type, ==, GRAFT_ATTR_GRAPH);

  message = parse_fails (g_bytes_get_data (deep, NULL), g_bytes_get_size (deep),
                         "deep.onnx", NULL);
  assert_contains (message, "nested");
}

/* Malformed input */

static void
test_empty (void)
{
  g_autofree char *message =
      parse_fails ((const guint8 *) "", 0, "model.onnx", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (message, ==, "model.onnx: the file is empty");
  g_assert_null (
      graft_onnx_tensor_parse ((const guint8 *) "", 0, "t.pb", NULL, &error));
  assert_graft_error (error, "t.pb");
}

static void
test_truncated (void)
{
  g_autoptr (GBytes) bytes = serialize_test_model ();
  size_t len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  /* Every prefix fails: the graph comes last, so nothing can be lost
   * silently. A copy of exactly n bytes lets ASan catch reads past it. */
  for (size_t n = 0; n < len; n++)
    {
      guint8 *copy = g_memdup2 (data, n);
      g_free (parse_fails (copy, n, "cut.onnx", NULL));
      g_free (copy);
    }
}

static void
test_truncated_tensor (void)
{
  static const int64_t dims[] = { 2, 3 };
  g_autoptr (GraftTensor) t = make_tensor (GRAFT_DTYPE_FLOAT, 2, dims);
  g_autoptr (GBytes) bytes = graft_onnx_tensor_serialize (t, "x");
  size_t len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  for (size_t n = 0; n < len; n++)
    {
      g_autoptr (GError) error = NULL;
      guint8 *copy = g_memdup2 (data, n);
      GraftTensor *back =
          graft_onnx_tensor_parse (copy, n, "cut.pb", NULL, &error);
      /* A prefix that ends right after dims or data_type is a valid but
       * incomplete tensor: it must still be refused (no data). */
      g_assert_null (back);
      assert_graft_error (error, "cut.pb");
      g_free (copy);
    }
}

static void
test_random_bytes (void)
{
  for (guint32 seed = 1; seed <= 400; seed++)
    {
      GRand *rand = g_rand_new_with_seed (seed);
      size_t len = (size_t) g_rand_int_range (rand, 16, 4096);
      guint8 *data = g_malloc (len);
      g_autoptr (GError) error = NULL;
      GraftTensor *t;

      for (size_t i = 0; i < len; i++)
        data[i] = (guint8) g_rand_int_range (rand, 0, 256);
      g_free (parse_fails (data, len, "random.onnx", NULL));
      t = graft_onnx_tensor_parse (data, len, "random.pb", NULL, &error);
      if (t == NULL)
        assert_graft_error (error, "random.pb");
      graft_tensor_free (t);
      g_free (data);
      g_rand_free (rand);
    }
}

static void
test_foreign_files (void)
{
  static const guint8 png[] = {
    0x89, 'P',  'N',  'G',  '\r', '\n', 0x1a, '\n', 0x00, 0x00, 0x00,
    0x0d, 'I',  'H',  'D',  'R',  0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x08, 0x06, 0x00, 0x00, 0x00, 0x5c, 0x72, 0xa8, 0x66,
  };
  static const guint8 jpeg[] = { 0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10,
                                 'J',  'F',  'I',  'F',  0x00, 0x01 };
  static const char zip[] =
      "PK\x03\x04\x14\x00\x00\x00\x08\x00archive/data.pkl";
  static const char text[] =
      "ir_version: 8\ngraph {\n  node { op_type: \"Relu\" }\n}\n";
  g_autofree char *m1 = parse_fails (png, sizeof png, "photo.onnx", NULL);
  g_autofree char *m2 = parse_fails (jpeg, sizeof jpeg, "photo.onnx", NULL);
  g_autofree char *m3 =
      parse_fails ((const guint8 *) zip, sizeof zip - 1, "model.pt.onnx", NULL);
  g_autofree char *m4 =
      parse_fails ((const guint8 *) text, sizeof text - 1, "model.onnx", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (m1, ==,
                   "photo.onnx: not an ONNX model (this looks like a PNG "
                   "image)");
  assert_contains (m2, "JPEG image");
  assert_contains (m3, "ZIP archive");
  assert_contains (m4, "not an ONNX model (this looks like a text file)");

  g_assert_null (
      graft_onnx_tensor_parse (png, sizeof png, "input_0.pb", NULL, &error));
  assert_graft_error (error, "input_0.pb");
  assert_contains (error->message, "PNG image");
}

/* Builds a model whose single initializer is the given TensorProto. */
static GBytes *
model_with_tensor (PbWriter *tensor)
{
  PbWriter g;
  GBytes *bytes;

  pb_writer_init (&g);
  pb_write_bytes_field (&g, 5, tensor->data, tensor->len);
  pb_writer_clear (tensor);
  bytes = wrap_graph_in_model (g.data, g.len);
  pb_writer_clear (&g);
  return bytes;
}

static char *
tensor_model_fails (PbWriter *tensor, const char *base_dir)
{
  g_autoptr (GBytes) bytes = model_with_tensor (tensor);
  return parse_fails (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                      "bad.onnx", base_dir);
}

static void
test_bad_tensors (void)
{
  PbWriter w;
  char *message;

  /* (1<<40) x (1<<40) float: the element count overflows */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, (int64_t) 1 << 40);
  pb_write_int64_field (&w, 1, (int64_t) 1 << 40);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_string_field (&w, 8, "huge");
  pb_write_le_field (&w, 9, "abcd", 1, 4);
  message = tensor_model_fails (&w, NULL);
  assert_contains (message, "tensor 'huge'");
  assert_contains (message, "larger than");
  g_free (message);

  /* 65536 x 65536 float fits int64 but is 16 GiB: refused before any
   * allocation. */
  pb_writer_init (&w);
  pb_write_packed_int64 (&w, 1, (const int64_t[]){ 65536, 65536 }, 2);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  message = tensor_model_fails (&w, NULL);
  assert_contains (message, "larger than");
  g_free (message);

  /* negative dim */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 2);
  pb_write_int64_field (&w, 1, -3);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  message = tensor_model_fails (&w, NULL);
  assert_contains (message, "negative dimension -3");
  g_free (message);

  /* raw_data size does not match dims */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 2);
  pb_write_int64_field (&w, 1, 3);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_string_field (&w, 8, "w");
  pb_write_le_field (&w, 9, "0123456789abcdefghij", 20, 1);
  message = tensor_model_fails (&w, NULL);
  g_assert_cmpstr (message, ==,
                   "bad.onnx: tensor 'w': raw_data has 20 bytes but shape 2x3 "
                   "of float32 needs 24");
  g_free (message);

  /* more dims than GRAFT_MAX_DIMS */
  pb_writer_init (&w);
  for (int i = 0; i < GRAFT_MAX_DIMS + 1; i++)
    pb_write_int64_field (&w, 1, 1);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_le_field (&w, 9, "abcd", 1, 4);
  message = tensor_model_fails (&w, NULL);
  assert_contains (message, "9 dimensions");
  g_free (message);

  /* no data_type */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 1);
  message = tensor_model_fails (&w, NULL);
  assert_contains (message, "no data_type");
  g_free (message);

  /* dims but no data */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 1, 4);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_INT64);
  message = tensor_model_fails (&w, NULL);
  assert_contains (message, "no data");
  g_free (message);

  /* segments */
  pb_writer_init (&w);
  pb_write_int64_field (&w, 2, GRAFT_DTYPE_FLOAT);
  pb_write_bytes_field (&w, 3, "\x08\x00", 2);
  pb_write_le_field (&w, 9, "abcd", 1, 4);
  message = tensor_model_fails (&w, NULL);
  assert_contains (message, "segments");
  g_free (message);
}

static void
test_bad_wire (void)
{
  char *message;

  /* a varint of 11 bytes (ir_version) */
  {
    static const guint8 data[] = { 0x08, 0x80, 0x80, 0x80, 0x80, 0x80,
                                   0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    message = parse_fails (data, sizeof data, "v.onnx", NULL);
    assert_contains (message, "longer than 10 bytes");
    g_free (message);
  }
  /* 10 bytes but more than 64 bits */
  {
    static const guint8 data[] = { 0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x7f };
    message = parse_fails (data, sizeof data, "v.onnx", NULL);
    assert_contains (message, "64 bits");
    g_free (message);
  }
  /* a 10-byte varint that fits (a negative int64) is fine */
  {
    PbWriter w;
    g_autoptr (GError) error = NULL;
    g_autoptr (GraftOnnxModel) model = NULL;
    pb_writer_init (&w);
    pb_write_int64_field (&w, 5, -7);
    pb_write_bytes_field (&w, 7, "", 0);
    model = graft_onnx_model_parse (w.data, w.len, "v.onnx", NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (model->model_version, ==, -7);
    pb_writer_clear (&w);
  }
  /* a nested length beyond the buffer */
  {
    static const guint8 data[] = { 0x08, 0x07, 0x3a, 0xff,
                                   0x01, 0x0a, 0x00, 0x12 };
    message = parse_fails (data, sizeof data, "model.onnx", NULL);
    g_assert_cmpstr (message, ==,
                     "model.onnx: truncated: field 'graph' (7) needs 255 "
                     "bytes but only 3 remain");
    g_free (message);
  }
  /* a length inside a submessage that runs past the submessage */
  {
    static const guint8 data[] = { 0x3a, 0x04, 0x12, 0x05, 'a',
                                   'b',  0x20, 0x01, 0x02, 0x03 };
    message = parse_fails (data, sizeof data, "model.onnx", NULL);
    assert_contains (message, "truncated: field 'name' (2) needs 5 bytes");
    g_free (message);
  }
  /* deprecated groups (wire types 3 and 4) and invalid wire types */
  {
    static const guint8 group[] = { 0x0b, 0x0c, 0x3a, 0x00 };
    static const guint8 wire6[] = { 0x0e, 0x3a, 0x00 };
    message = parse_fails (group, sizeof group, "g.onnx", NULL);
    assert_contains (message, "group");
    g_free (message);
    message = parse_fails (wire6, sizeof wire6, "g.onnx", NULL);
    assert_contains (message, "wire type 6");
    g_free (message);
  }
  /* field number 0 */
  {
    static const guint8 data[] = { 0x00, 0x00 };
    message = parse_fails (data, sizeof data, "z.onnx", NULL);
    assert_contains (message, "field number 0");
    g_free (message);
  }
  /* a known field with the wrong wire type */
  {
    static const guint8 data[] = { 0x38, 0x01 }; /* graph as varint */
    message = parse_fails (data, sizeof data, "w.onnx", NULL);
    assert_contains (message, "field 'graph' (7) has wire type 0");
    g_free (message);
  }
  /* no graph, and a graph given twice */
  {
    static const guint8 none[] = { 0x08, 0x07 };
    static const guint8 twice[] = { 0x3a, 0x00, 0x3a, 0x00 };
    message = parse_fails (none, sizeof none, "n.onnx", NULL);
    g_assert_cmpstr (message, ==, "n.onnx: the model has no graph");
    g_free (message);
    message = parse_fails (twice, sizeof twice, "n.onnx", NULL);
    assert_contains (message, "twice");
    g_free (message);
  }
  /* a node without op_type */
  {
    static const guint8 data[] = { 0x3a, 0x05, 0x0a, 0x03, 0x1a, 0x01, 'n' };
    message = parse_fails (data, sizeof data, "op.onnx", NULL);
    assert_contains (message, "has no op_type");
    g_free (message);
  }
  /* a value with more than GRAFT_MAX_DIMS dims */
  {
    PbWriter g;
    size_t vi, type, tt, shape;
    g_autoptr (GBytes) bytes = NULL;

    pb_writer_init (&g);
    vi = pb_begin_message (&g, 11);
    pb_write_string_field (&g, 1, "x");
    type = pb_begin_message (&g, 2);
    tt = pb_begin_message (&g, 1);
    pb_write_int64_field (&g, 1, GRAFT_DTYPE_FLOAT);
    shape = pb_begin_message (&g, 2);
    for (int i = 0; i < GRAFT_MAX_DIMS + 1; i++)
      pb_write_bytes_field (&g, 1, "\x08\x01", 2);
    pb_end_message (&g, shape);
    pb_end_message (&g, tt);
    pb_end_message (&g, type);
    pb_end_message (&g, vi);
    bytes = wrap_graph_in_model (g.data, g.len);
    pb_writer_clear (&g);
    message = parse_fails (g_bytes_get_data (bytes, NULL),
                           g_bytes_get_size (bytes), "dims.onnx", NULL);
    assert_contains (message, "value 'x' has more than 8 dimensions");
    g_free (message);
  }
}

static void
test_bit_flips (void)
{
  g_autoptr (GBytes) bytes = serialize_test_model ();
  size_t len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  guint8 *copy = g_malloc (len);
  static const int bits[] = { 0, 3, 6, 7 };
  int rejected = 0, accepted = 0;

  for (size_t i = 0; i < len; i++)
    for (size_t b = 0; b < G_N_ELEMENTS (bits); b++)
      {
        GError *error = NULL;
        GraftOnnxModel *model;

        memcpy (copy, data, len);
        copy[i] ^= (guint8) (1u << bits[b]);
        model = graft_onnx_model_parse (copy, len, "flip.onnx", NULL, &error);
        if (model)
          {
            /* A flip inside a value (tensor data, a name) still parses;
             * the result must be a complete model that writes out again. */
            GBytes *again = graft_onnx_model_serialize (model);
            g_bytes_unref (again);
            graft_onnx_model_free (model);
            accepted++;
          }
        else
          {
            assert_graft_error (error, "flip.onnx");
            g_error_free (error);
            rejected++;
          }
      }
  g_free (copy);
  g_test_message ("bit flips: %d rejected, %d accepted", rejected, accepted);
  g_assert_cmpint (rejected, >, 0);
  g_assert_cmpint (accepted, >, 0);
}

/* External data */

static GBytes *
external_model (const char *location,
                const char *offset,
                const char *length,
                gboolean with_location_entry)
{
  PbWriter t, g;
  size_t entry;
  GBytes *bytes;

  pb_writer_init (&t);
  pb_write_int64_field (&t, 1, 2);
  pb_write_int64_field (&t, 1, 3);
  pb_write_int64_field (&t, 2, GRAFT_DTYPE_FLOAT);
  pb_write_string_field (&t, 8, "weights");
  if (with_location_entry)
    {
      entry = pb_begin_message (&t, 13);
      pb_write_string_field (&t, 1, "location");
      pb_write_string_field (&t, 2, location);
      pb_end_message (&t, entry);
    }
  if (offset)
    {
      entry = pb_begin_message (&t, 13);
      pb_write_string_field (&t, 1, "offset");
      pb_write_string_field (&t, 2, offset);
      pb_end_message (&t, entry);
    }
  if (length)
    {
      entry = pb_begin_message (&t, 13);
      pb_write_string_field (&t, 1, "length");
      pb_write_string_field (&t, 2, length);
      pb_end_message (&t, entry);
    }
  pb_write_int64_field (&t, 14, 1);
  pb_writer_init (&g);
  pb_write_bytes_field (&g, 5, t.data, t.len);
  bytes = wrap_graph_in_model (g.data, g.len);
  pb_writer_clear (&t);
  pb_writer_clear (&g);
  return bytes;
}

static void
save_bytes (const char *path, GBytes *bytes)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                       (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static char *
external_fails (const char *dir, GBytes *bytes)
{
  g_autofree char *path = g_build_filename (dir, "ext.onnx", NULL);
  g_autoptr (GError) error = NULL;
  GraftOnnxModel *model;

  save_bytes (path, bytes);
  model = graft_onnx_model_load (path, &error);
  g_assert_null (model);
  assert_graft_error (error, path);
  return g_strdup (error->message);
}

static void
test_external_data (void)
{
  static const float values[6] = { 1, 2, 3, 4, 5, 6 };
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("graft-onnx-XXXXXX", &error);
  g_autofree char *sub = g_build_filename (dir, "sub", NULL);
  g_autofree char *bin = g_build_filename (dir, "w.bin", NULL);
  g_autofree char *subbin = g_build_filename (sub, "w.bin", NULL);
  g_autofree char *link = g_build_filename (dir, "link.bin", NULL);
  g_autofree char *dirlink = g_build_filename (dir, "sublink", NULL);
  g_autofree char *model_path = g_build_filename (dir, "ext.onnx", NULL);
  g_autofree guint8 *file = g_malloc (8 + sizeof values);
  g_autoptr (GraftOnnxModel) model = NULL;
  char *message;

  g_assert_no_error (error);
  memset (file, 0xee, 8);
  memcpy (file + 8, values, sizeof values);
  g_assert_true (
      g_file_set_contents (bin, (const char *) file, 8 + sizeof values, NULL));
  g_assert_cmpint (g_mkdir (sub, 0755), ==, 0);
  g_assert_true (g_file_set_contents (subbin, (const char *) file + 8,
                                      sizeof values, NULL));
  g_assert_cmpint (symlink ("w.bin", link), ==, 0);
  g_assert_cmpint (symlink ("sub", dirlink), ==, 0);

  /* In the same folder, with offset and length */
  {
    g_autoptr (GBytes) bytes = external_model ("w.bin", "8", "24", TRUE);
    save_bytes (model_path, bytes);
    model = graft_onnx_model_load (model_path, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (model->graph.n_initializers, ==, 1);
    g_assert_cmpstr (model->graph.initializers[0].name, ==, "weights");
    g_assert_cmpmem (model->graph.initializers[0].tensor->data, 24, values, 24);
    g_clear_pointer (&model, graft_onnx_model_free);
  }
  /* In a subfolder, no offset or length */
  {
    g_autoptr (GBytes) bytes = external_model ("sub/w.bin", NULL, NULL, TRUE);
    save_bytes (model_path, bytes);
    model = graft_onnx_model_load (model_path, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (model->graph.initializers[0].tensor->data, 24, values, 24);
    g_clear_pointer (&model, graft_onnx_model_free);
  }
  /* From memory without a folder: refused */
  {
    g_autoptr (GBytes) bytes = external_model ("w.bin", NULL, NULL, TRUE);
    message = parse_fails (g_bytes_get_data (bytes, NULL),
                           g_bytes_get_size (bytes), "mem.onnx", NULL);
    assert_contains (message, "external file 'w.bin'");
    g_free (message);
  }
  /* Paths that leave the folder, links, bad ranges */
  {
    static const struct
    {
      const char *location, *offset, *length, *expect;
    } bad[] = {
      { "../w.bin", NULL, NULL, "contains '..'" },
      { "sub/../../etc/passwd", NULL, NULL, "contains '..'" },
      { "/etc/passwd", NULL, NULL, "absolute path" },
      { "link.bin", NULL, NULL, "symbolic link" },
      { "sublink/w.bin", NULL, NULL, "symbolic link" },
      { "sub", NULL, NULL, "not a regular file" },
      { "missing.bin", NULL, NULL, "No such file" },
      { "w.bin", "16", "24", "runs past the end" },
      { "w.bin", "99999", NULL, "runs past the end" },
      { "w.bin", "8", "20", "length is 20 bytes" },
      { "w.bin", "-1", NULL, "not a valid byte count" },
      { "w.bin", "12abc", NULL, "not a valid byte count" },
      { "", NULL, NULL, "empty" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr (GBytes) bytes = external_model (
            bad[i].location, bad[i].offset, bad[i].length, TRUE);
        message = external_fails (dir, bytes);
        assert_contains (message, "tensor 'weights'");
        assert_contains (message, bad[i].expect);
        g_free (message);
      }
  }
  /* No location at all */
  {
    g_autoptr (GBytes) bytes = external_model (NULL, "0", NULL, FALSE);
    message = external_fails (dir, bytes);
    assert_contains (message, "no location");
    g_free (message);
  }
  remove_tree (dir);
}

static void
test_load_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("graft-onnx-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.onnx", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.onnx", NULL);
  g_autofree char *unwritable =
      g_build_filename (dir, "no", "such", "dir.onnx", NULL);
  g_autoptr (GraftOnnxModel) model = build_model ();

  g_assert_null (graft_onnx_model_load (missing, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  assert_graft_error (error, missing);
  assert_contains (error->message, g_strerror (ENOENT));
  g_clear_error (&error);

  g_assert_null (graft_onnx_model_load (dir, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  assert_graft_error (error, dir);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_null (graft_onnx_model_load (empty, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE);
  g_assert_true (g_str_has_suffix (error->message, ": the file is empty"));
  g_clear_error (&error);

  g_assert_null (graft_onnx_tensor_load (missing, NULL, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  g_clear_error (&error);

  g_assert_false (graft_onnx_model_save (model, unwritable, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  assert_graft_error (error, unwritable);
  g_clear_error (&error);
  remove_tree (dir);
}

/* ONNX's own test files (Debian package libonnx-testdata) */

static gboolean
have_testdata (void)
{
  if (!g_file_test (TESTDATA_DIR, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("libonnx-testdata is not installed (" TESTDATA_DIR ")");
      return FALSE;
    }
  return TRUE;
}

static void
test_testdata_conv (void)
{
  const char *dir = TESTDATA_DIR "/node/test_conv_with_strides_padding";
  g_autofree char *model_path = g_build_filename (dir, "model.onnx", NULL);
  g_autofree char *in0 =
      g_build_filename (dir, "test_data_set_0", "input_0.pb", NULL);
  g_autofree char *out0 =
      g_build_filename (dir, "test_data_set_0", "output_0.pb", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftOnnxModel) model = NULL;
  g_autoptr (GraftTensor) x = NULL;
  g_autoptr (GraftTensor) y = NULL;
  g_autofree char *name = NULL;
  const GraftOnnxNode *conv;
  const GraftOnnxAttribute *a;

  if (!have_testdata ())
    return;
  model = graft_onnx_model_load (model_path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (model->graph.n_nodes, ==, 1);
  conv = &model->graph.nodes[0];
  g_assert_cmpstr (conv->op_type, ==, "Conv");
  g_assert_cmpuint (conv->n_inputs, ==, 2);
  g_assert_cmpstr (conv->inputs[0], ==, "x");
  g_assert_cmpstr (conv->inputs[1], ==, "W");
  g_assert_cmpstr (conv->outputs[0], ==, "y");
  a = graft_onnx_node_get_attr (conv, "strides");
  g_assert_nonnull (a);
  g_assert_cmpint (a->type, ==, GRAFT_ATTR_INTS);
  g_assert_cmpuint (a->n_ints, ==, 2);
  g_assert_cmpint (a->ints[0], ==, 2);
  a = graft_onnx_node_get_attr (conv, "pads");
  g_assert_cmpuint (a->n_ints, ==, 4);
  g_assert_cmpint (a->ints[0], ==, 1);
  a = graft_onnx_node_get_attr (conv, "kernel_shape");
  g_assert_cmpint (a->ints[0], ==, 3);
  g_assert_cmpint (a->ints[1], ==, 3);
  g_assert_cmpuint (model->graph.n_inputs, ==, 2);
  g_assert_cmpstr (model->graph.inputs[0].name, ==, "x");
  g_assert_cmpint (model->graph.inputs[0].elem_type, ==, GRAFT_DTYPE_FLOAT);
  g_assert_cmpint (model->graph.inputs[0].ndim, ==, 4);
  g_assert_cmpint (model->graph.inputs[0].dims[2], ==, 7);
  g_assert_cmpint (model->graph.inputs[0].dims[3], ==, 5);
  g_assert_cmpint (model->graph.outputs[0].dims[2], ==, 4);
  g_assert_cmpint (model->graph.outputs[0].dims[3], ==, 3);
  g_assert_cmpint (graft_onnx_model_opset (model), >=, 1);

  x = graft_onnx_tensor_load (in0, &name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (name, ==, "x");
  g_assert_cmpint (x->dtype, ==, GRAFT_DTYPE_FLOAT);
  g_assert_cmpint (x->shape.ndim, ==, 4);
  g_assert_cmpint (x->shape.dims[0], ==, 1);
  g_assert_cmpint (x->shape.dims[1], ==, 1);
  g_assert_cmpint (x->shape.dims[2], ==, 7);
  g_assert_cmpint (x->shape.dims[3], ==, 5);
  /* The input is np.arange(35) */
  for (int i = 0; i < 35; i++)
    g_assert_cmpfloat (((float *) x->data)[i], ==, (float) i);

  y = graft_onnx_tensor_load (out0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (y->shape.dims[2], ==, 4);
  g_assert_cmpint (y->shape.dims[3], ==, 3);
  /* The top-left output: a 3x3 window of ones over the zero-padded corner
   * 0 1 / 5 6 sums to 12. */
  g_assert_cmpfloat (((float *) y->data)[0], ==, 12.0f);
}

/* Every model and tensor of the package: those that load must round trip;
 * those that do not must say why. */
static void
test_testdata_all (void)
{
  g_autoptr (GPtrArray) dirs = g_ptr_array_new_with_free_func (g_free);
  int loaded = 0, refused = 0, tensors = 0;

  if (!have_testdata ())
    return;
  {
    static const char *const groups[] = { "node", "simple", "pytorch-operator",
                                          "pytorch-converted", "real" };
    for (size_t i = 0; i < G_N_ELEMENTS (groups); i++)
      {
        g_autofree char *group =
            g_build_filename (TESTDATA_DIR, groups[i], NULL);
        GDir *d = g_dir_open (group, 0, NULL);
        const char *name;
        if (d == NULL)
          continue;
        while ((name = g_dir_read_name (d)))
          g_ptr_array_add (dirs, g_build_filename (group, name, NULL));
        g_dir_close (d);
      }
  }
  for (guint i = 0; i < dirs->len; i++)
    {
      g_autofree char *path =
          g_build_filename (dirs->pdata[i], "model.onnx", NULL);
      g_autofree char *set =
          g_build_filename (dirs->pdata[i], "test_data_set_0", NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (GraftOnnxModel) model = NULL;
      GDir *d;
      const char *name;

      if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
        continue;
      model = graft_onnx_model_load (path, &error);
      if (model == NULL)
        {
          assert_graft_error (error, path);
          g_assert_true (error->code == GRAFT_ERROR_UNSUPPORTED ||
                         error->code == GRAFT_ERROR_LIMIT);
          g_test_message ("%s", error->message);
          refused++;
        }
      else
        {
          g_autoptr (GBytes) bytes = graft_onnx_model_serialize (model);
          g_autoptr (GraftOnnxModel) back = graft_onnx_model_parse (
              g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
              "again.onnx", NULL, &error);
          g_assert_no_error (error);
          assert_model_equal (model, back);
          loaded++;
        }
      d = g_dir_open (set, 0, NULL);
      while (d && (name = g_dir_read_name (d)))
        {
          g_autofree char *pb = g_build_filename (set, name, NULL);
          g_autoptr (GraftTensor) t = NULL;
          g_autofree char *tname = NULL;
          if (!g_str_has_suffix (name, ".pb"))
            continue;
          t = graft_onnx_tensor_load (pb, &tname, &error);
          if (t == NULL)
            {
              /* Sequences, maps and string tensors are not tensors Graft
               * holds. */
              assert_graft_error (error, pb);
              g_clear_error (&error);
              continue;
            }
          {
            g_autoptr (GBytes) bytes = graft_onnx_tensor_serialize (t, tname);
            g_autofree char *tname2 = NULL;
            g_autoptr (GraftTensor) back = graft_onnx_tensor_parse (
                g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                "again.pb", &tname2, &error);
            g_assert_no_error (error);
            g_assert_cmpstr (tname, ==, tname2);
            assert_tensor_equal (t, back);
          }
          tensors++;
        }
      if (d)
        g_dir_close (d);
    }
  g_test_message ("testdata: %d models loaded, %d refused, %d tensors", loaded,
                  refused, tensors);
  g_assert_cmpint (loaded, >, 500);
  g_assert_cmpint (tensors, >, 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/onnx-format/roundtrip", test_roundtrip);
  g_test_add_func ("/onnx-format/tensor-roundtrip", test_tensor_roundtrip);
  g_test_add_func ("/onnx-format/typed-values", test_typed_values);
  g_test_add_func ("/onnx-format/accessors", test_accessors);
  g_test_add_func ("/onnx-format/wire-variants", test_wire_variants);
  g_test_add_func ("/onnx-format/nesting", test_nesting);
  g_test_add_func ("/onnx-format/malformed/empty", test_empty);
  g_test_add_func ("/onnx-format/malformed/truncated", test_truncated);
  g_test_add_func ("/onnx-format/malformed/truncated-tensor",
                   test_truncated_tensor);
  g_test_add_func ("/onnx-format/malformed/random", test_random_bytes);
  g_test_add_func ("/onnx-format/malformed/foreign", test_foreign_files);
  g_test_add_func ("/onnx-format/malformed/tensors", test_bad_tensors);
  g_test_add_func ("/onnx-format/malformed/wire", test_bad_wire);
  g_test_add_func ("/onnx-format/malformed/bit-flips", test_bit_flips);
  g_test_add_func ("/onnx-format/external-data", test_external_data);
  g_test_add_func ("/onnx-format/load-errors", test_load_errors);
  g_test_add_func ("/onnx-format/testdata/conv", test_testdata_conv);
  g_test_add_func ("/onnx-format/testdata/all", test_testdata_all);
  return g_test_run ();
}
