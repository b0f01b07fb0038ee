/* test-onnx-node.c: ONNX's own operator conformance tests.
 *
 * Runs every node test in Debian's libonnx-testdata whose operators Graft
 * supports through graft-cli run (the path users and benchmarks take) and
 * compares each output within 1e-4 relative. Cases of supported operators
 * that Graft refuses by design are skipped with the reason; the operators
 * and cases covered are printed at the end.
 */
#include "graft-error.h"
#include "onnx-model.h"
#include "ops/ops.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"

typedef struct
{
  char *name;
  char *dir;
  char *ops; /* "Conv" or "Shape+Gather", for the summary */
} Case;

static GPtrArray *cases;
static GHashTable *passed_by_op; /* op -> GPtrArray of case names */
static GPtrArray *skipped;        /* "case: reason" */

/* Reasons a case of a supported operator is out of scope, by name. */
static const struct
{
  const char *prefix;
  const char *reason;
} out_of_scope[] = {
  { "test_training_dropout", "Dropout in training mode draws random masks" },
  { "test_cast_BFLOAT16", "bfloat16 tensors are not supported" },
  { "test_cast_FLOAT_to_BFLOAT16", "bfloat16 tensors are not supported" },
  { "test_castlike_BFLOAT16", "bfloat16 tensors are not supported" },
  { "test_castlike_FLOAT_to_BFLOAT16", "bfloat16 tensors are not supported" },
  { "test_cast_STRING", "string tensors are not supported" },
  { "test_cast_FLOAT_to_STRING", "string tensors are not supported" },
  { "test_castlike_STRING", "string tensors are not supported" },
  { "test_castlike_FLOAT_to_STRING", "string tensors are not supported" },
  { "test_averagepool_3d", "3-D pooling: Graft handles 1-D and 2-D images" },
  { "test_maxpool_3d", "3-D pooling: Graft handles 1-D and 2-D images" },
  { "test_maxpool_with_argmax", "MaxPool's Indices output is not supported" },
  { "test_identity_sequence", "sequence types are not supported" },
  { "test_identity_opt", "optional types are not supported" },
};

static gboolean
op_supported (const char *op)
{
  for (const char *const *s = graft_op_supported (); *s; s++)
    if (strcmp (*s, op) == 0)
      return TRUE;
  return FALSE;
}

static void
case_free (gpointer p)
{
  Case *c = p;
  g_free (c->name);
  g_free (c->dir);
  g_free (c->ops);
  g_free (c);
}

static gboolean
close_enough (float got, float want)
{
  if (isnan (want))
    return isnan (got);
  if (isinf (want))
    return got == want;
  return fabsf (got - want) <= 1e-4f * fabsf (want) + 1e-5f;
}

/* Reports the first difference as a test failure; FALSE when there is one. */
static gboolean
compare_tensors (const char *what, const GraftTensor *got, const GraftTensor *want)
{
  g_autofree char *gs = graft_shape_to_string (&got->shape);
  g_autofree char *ws = graft_shape_to_string (&want->shape);
  int64_t n = graft_tensor_numel (want);

  if (!graft_shape_equal (&got->shape, &want->shape))
    {
      g_test_fail_printf ("%s: shape %s, expected %s", what, gs, ws);
      return FALSE;
    }
  if (got->dtype != want->dtype)
    {
      g_test_fail_printf ("%s: type %s, expected %s", what,
                          graft_dtype_name (got->dtype), graft_dtype_name (want->dtype));
      return FALSE;
    }
  if (want->dtype == GRAFT_DTYPE_FLOAT)
    {
      const float *g = got->data, *w = want->data;
      for (int64_t i = 0; i < n; i++)
        if (!close_enough (g[i], w[i]))
          {
            g_test_fail_printf ("%s: element %" G_GINT64_FORMAT " is %.8g, expected %.8g",
                                what, i, g[i], w[i]);
            return FALSE;
          }
    }
  else if (memcmp (got->data, want->data, graft_tensor_nbytes (want)) != 0)
    {
      g_test_fail_printf ("%s: %s values differ", what, graft_dtype_name (want->dtype));
      return FALSE;
    }
  return TRUE;
}

static void
run_case (gconstpointer data)
{
  const Case *c = data;
  const char *cli = g_getenv ("GRAFT_CLI");
  g_autofree char *model = g_build_filename (c->dir, "model.onnx", NULL);
  g_autoptr (GraftOnnxModel) proto = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out_dir = g_dir_make_tmp ("graft-node-XXXXXX", &error);
  g_autofree char *std_err = NULL;
  int status = 0;
  size_t n_inputs = 0;
  gboolean ok = TRUE;

  g_assert_no_error (error);
  g_assert_nonnull (cli);
  proto = graft_onnx_model_load (model, &error);
  g_assert_no_error (error);

  g_ptr_array_add (argv, g_strdup (cli));
  g_ptr_array_add (argv, g_strdup ("run"));
  g_ptr_array_add (argv, g_strdup (model));
  /* input_k.pb belongs to the k-th graph input that is not an initializer. */
  for (size_t i = 0; i < proto->graph.n_inputs; i++)
    {
      const char *name = proto->graph.inputs[i].name;
      gboolean is_init = FALSE;
      g_autofree char *file = NULL;
      for (size_t j = 0; j < proto->graph.n_initializers; j++)
        if (strcmp (proto->graph.initializers[j].name, name) == 0)
          is_init = TRUE;
      if (is_init)
        continue;
      file = g_strdup_printf ("%s/test_data_set_0/input_%zu.pb", c->dir, n_inputs++);
      g_ptr_array_add (argv, g_strdup ("--input"));
      g_ptr_array_add (argv, g_strdup_printf ("%s=%s", name, file));
    }
  g_ptr_array_add (argv, g_strdup ("--output-dir"));
  g_ptr_array_add (argv, g_strdup (out_dir));
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                &std_err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_fail_printf ("%s: graft-cli run failed: %s", c->name, std_err);
      return;
    }

  for (size_t k = 0; k < proto->graph.n_outputs; k++)
    {
      g_autofree char *want_path
          = g_strdup_printf ("%s/test_data_set_0/output_%zu.pb", c->dir, k);
      g_autofree char *safe = g_strdup (proto->graph.outputs[k].name);
      g_autofree char *got_path = NULL;
      g_autoptr (GraftTensor) want = NULL;
      g_autoptr (GraftTensor) got = NULL;
      g_autofree char *what = g_strdup_printf ("%s output %zu", c->name, k);
      if (!g_file_test (want_path, G_FILE_TEST_EXISTS))
        continue;
      for (char *p = safe; *p; p++)
        if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
          *p = '_';
      got_path = g_strdup_printf ("%s/%s.pb", out_dir, safe);
      want = graft_onnx_tensor_load (want_path, NULL, &error);
      g_assert_no_error (error);
      got = graft_onnx_tensor_load (got_path, NULL, &error);
      g_assert_no_error (error);
      ok = compare_tensors (what, got, want) && ok;
      g_remove (got_path);
    }
  g_rmdir (out_dir);
  if (!ok)
    return;

  {
    GPtrArray *list = g_hash_table_lookup (passed_by_op, c->ops);
    if (list == NULL)
      {
        list = g_ptr_array_new ();
        g_hash_table_insert (passed_by_op, g_strdup (c->ops), list);
      }
    g_ptr_array_add (list, c->name);
  }
}

static void
skip_case (gconstpointer data)
{
  g_test_skip (data);
}

static void
fail_case (gconstpointer data)
{
  g_test_fail_printf ("%s", (const char *) data);
}

static void
print_summary (void)
{
  g_autoptr (GList) ops = g_list_sort (g_hash_table_get_keys (passed_by_op),
                                       (GCompareFunc) strcmp);
  guint total = 0;

  g_print ("# ONNX node conformance: cases passed, by operator\n");
  for (GList *l = ops; l; l = l->next)
    {
      GPtrArray *list = g_hash_table_lookup (passed_by_op, l->data);
      g_print ("#   %-24s %2u:", (char *) l->data, list->len);
      for (guint i = 0; i < list->len; i++)
        g_print (" %s", (char *) list->pdata[i] + 5);
      g_print ("\n");
      total += list->len;
    }
  g_print ("# %u cases passed, %u skipped:\n", total, skipped->len);
  for (guint i = 0; i < skipped->len; i++)
    g_print ("#   %s\n", (char *) skipped->pdata[i]);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Adds one GLib test per case; FALSE when the test data is not installed. */
static gboolean
discover (void)
{
  g_autoptr (GDir) dir = g_dir_open (NODE_DIR, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  if (dir == NULL)
    return FALSE;
  while ((entry = g_dir_read_name (dir)))
    g_ptr_array_add (names, g_strdup (entry));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char *name = names->pdata[i];
      g_autofree char *case_dir = g_build_filename (NODE_DIR, name, NULL);
      g_autofree char *model_path = g_build_filename (case_dir, "model.onnx", NULL);
      g_autoptr (GraftOnnxModel) model = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GString) ops = g_string_new (NULL);
      g_autofree char *path = g_strdup_printf ("/onnx-node/%s", name);
      gboolean all_supported = TRUE;
      const char *reason = NULL;
      Case *c;

      model = graft_onnx_model_load (model_path, &error);
      if (model == NULL)
        {
          /* Every file in ONNX's own test data is valid: reading must not fail. */
          g_test_add_data_func_full (path, g_strdup (error->message),
                                     fail_case, g_free);
          continue;
        }
      for (size_t n = 0; n < model->graph.n_nodes; n++)
        {
          const char *op = model->graph.nodes[n].op_type;
          if (!op_supported (op) || model->graph.nodes[n].domain[0])
            all_supported = FALSE;
          if (!strstr (ops->str, op))
            g_string_append_printf (ops, "%s%s", ops->len ? "+" : "", op);
        }
      if (!all_supported || model->graph.n_nodes == 0)
        continue;
      for (size_t r = 0; r < G_N_ELEMENTS (out_of_scope); r++)
        if (g_str_has_prefix (name, out_of_scope[r].prefix))
          reason = out_of_scope[r].reason;
      if (reason)
        {
          g_ptr_array_add (skipped, g_strdup_printf ("%s: %s", name, reason));
          g_test_add_data_func (path, reason, skip_case);
          continue;
        }
      c = g_new0 (Case, 1);
      c->name = g_strdup (name);
      c->dir = g_steal_pointer (&case_dir);
      c->ops = g_strdup (ops->str);
      g_ptr_array_add (cases, c);
      g_test_add_data_func (path, c, run_case);
    }
  return TRUE;
}

static void
no_test_data (void)
{
  g_test_skip ("libonnx-testdata is not installed (apt-get install libonnx-testdata)");
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  cases = g_ptr_array_new_with_free_func (case_free);
  skipped = g_ptr_array_new_with_free_func (g_free);
  passed_by_op = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_ptr_array_unref);
  if (!discover ())
    g_test_add_func ("/onnx-node/no-test-data", no_test_data);
  status = g_test_run ();
  print_summary ();
  g_hash_table_unref (passed_by_op);
  g_ptr_array_unref (skipped);
  g_ptr_array_unref (cases);
  return status;
}
