/* test-checkpoint.c: checkpoint files (round trip, files cut short, atomic
 * replacement, the newest-good search, pruning), optimizer state resume
 * bit for bit, and errors. */
#include "graft-error.h"
#include "onnx-model.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"

#include <glib/gstdio.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

/* ---- helpers ---- */

static char *
make_tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("graft-checkpoint-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
remove_tree (const char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        remove_tree (path);
      else
        g_assert_cmpint (g_unlink (path), ==, 0);
    }
  g_dir_close (d);
  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* The names in dir, sorted, joined by spaces. */
static char *
list_dir (const char *dir)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static GraftTensor *
float_tensor (int ndim, const int64_t *dims, float first)
{
  GraftShape shape = graft_shape_make (ndim, dims);
  GraftTensor *t = graft_tensor_new_float (&shape);
  float *d = t->data;

  for (int64_t i = 0; i < graft_tensor_numel (t); i++)
    d[i] = first + 0.5f * (float) i;
  return t;
}

static void
assert_tensor_equal (const GraftTensor *a, const GraftTensor *b)
{
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpint (a->dtype, ==, b->dtype);
  g_assert_true (graft_shape_equal (&a->shape, &b->shape));
  g_assert_cmpmem (a->data, graft_tensor_nbytes (a), b->data,
                   graft_tensor_nbytes (b));
}

/* A checkpoint whose tensors and keys all depend on tag. */
static GraftCheckpoint *
sample_checkpoint (int tag, size_t big_floats)
{
  GraftCheckpoint *ck = graft_checkpoint_new ();
  const int64_t dims[] = { 2, 3 };
  g_autoptr (GraftTensor) w = float_tensor (2, dims, (float) tag);

  graft_checkpoint_add_tensor (ck, "conv.weight", w);
  graft_checkpoint_set_int (ck, "step", tag);
  if (big_floats > 0)
    {
      g_autofree float *data = g_new (float, big_floats);
      for (size_t i = 0; i < big_floats; i++)
        data[i] = (float) (i % 1000) + (float) tag;
      graft_checkpoint_add_floats (ck, "big", data, big_floats);
    }
  return ck;
}

static gboolean
write_bytes (const char *path, const void *data, size_t len)
{
  return g_file_set_contents (path, data, (gssize) len, NULL);
}

/* ---- round trip ---- */

static void
test_round_trip (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "ck.onnx", NULL);
  g_autofree char *path2 = g_build_filename (dir, "ck2.onnx", NULL);
  g_autoptr (GraftCheckpoint) ck = graft_checkpoint_new ();
  g_autoptr (GraftCheckpoint) back = NULL;
  g_autoptr (GraftCheckpoint) again = NULL;
  g_autoptr (GraftOnnxModel) model = NULL;
  const int64_t dims[] = { 2, 3 }, dims4[] = { 1, 2, 1, 2 };
  g_autoptr (GraftTensor) w = float_tensor (2, dims, -1.0f);
  g_autoptr (GraftTensor) w2 = float_tensor (4, dims4, 7.0f);
  g_autoptr (GraftTensor) scalar = NULL;
  g_autoptr (GraftTensor) bytes = NULL;
  GraftShape scalar_shape = { .ndim = 0 }, five = { .ndim = 1, .dims = { 5 } };
  const char *json = "{\"lr\": 0.001, \"name\": \"caf\xc3\xa9\\n\"}\nline 2";
  const float bias[3] = { -0.0f, 1e-40f, 3.5f };
  const char *name = NULL;
  GError *error = NULL;
  int64_t v = 0;
  int n_format = 0;

  scalar = graft_tensor_new (GRAFT_DTYPE_INT64, &scalar_shape, NULL);
  *(int64_t *) scalar->data = G_MAXINT64 - 5;
  bytes = graft_tensor_new (GRAFT_DTYPE_UINT8, &five, NULL);
  memcpy (bytes->data, "\x00\xff\x10\x20\x7f", 5);

  graft_checkpoint_add_tensor (ck, "conv.weight", w);
  graft_checkpoint_add_floats (ck, "conv.bias", bias, 3);
  graft_checkpoint_add_tensor (ck, "rng/state", bytes);
  graft_checkpoint_add_tensor (ck, "counter", scalar);
  /* Replacing keeps the position and the latest value. */
  graft_checkpoint_add_tensor (ck, "conv.weight", w2);
  graft_checkpoint_set (ck, "config", "old");
  graft_checkpoint_set (ck, "config", json);
  graft_checkpoint_set_int (ck, "epoch", -3);
  graft_checkpoint_set (ck, "empty", NULL);
  g_assert_cmpint (graft_checkpoint_get_n_tensors (ck), ==, 4);
  g_assert_true (graft_checkpoint_save (ck, path, &error));
  g_assert_no_error (error);

  back = graft_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpint (graft_checkpoint_get_n_tensors (back), ==, 4);
  assert_tensor_equal (graft_checkpoint_get_tensor (back, "conv.weight"), w2);
  assert_tensor_equal (graft_checkpoint_get_tensor (back, "counter"), scalar);
  assert_tensor_equal (graft_checkpoint_get_tensor (back, "rng/state"), bytes);
  g_assert_cmpmem (graft_checkpoint_get_tensor (back, "conv.bias")->data,
                   sizeof bias, bias, sizeof bias);
  g_assert_null (graft_checkpoint_get_tensor (back, "nothing"));
  g_assert_nonnull (graft_checkpoint_get_tensor_at (back, 0, &name));
  g_assert_cmpstr (name, ==, "conv.weight");
  graft_checkpoint_get_tensor_at (back, 3, &name);
  g_assert_cmpstr (name, ==, "counter");
  g_assert_cmpstr (graft_checkpoint_get (back, "config"), ==, json);
  g_assert_cmpstr (graft_checkpoint_get (back, "empty"), ==, "");
  g_assert_null (graft_checkpoint_get (back, "missing"));
  g_assert_true (graft_checkpoint_get_int (back, "epoch", &v, &error));
  g_assert_cmpint (v, ==, -3);
  g_assert_false (graft_checkpoint_get_int (back, "config", &v, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (graft_checkpoint_get_int (back, "missing", &v, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_clear_error (&error);

  /* It is a plain ONNX model: initializers only, keys in metadata_props. */
  model = graft_onnx_model_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (model->graph.n_nodes, ==, 0);
  g_assert_cmpuint (model->graph.n_initializers, ==, 4);
  g_assert_cmpstr (graft_onnx_model_get_metadata (model, "epoch"), ==, "-3");

  /* A loaded checkpoint saves again without doubling its format keys, and
   * takes new tensors and keys. */
  graft_checkpoint_add_floats (back, "extra", bias, 2);
  graft_checkpoint_set (back, "epoch", "4");
  g_assert_true (graft_checkpoint_save (back, path2, &error));
  g_clear_pointer (&model, graft_onnx_model_free);
  model = graft_onnx_model_load (path2, &error);
  g_assert_no_error (error);
  for (size_t i = 0; i < model->n_metadata; i++)
    n_format += g_str_has_prefix (model->metadata[i].key, "graft.checkpoint.");
  g_assert_cmpint (n_format, ==, 2);
  again = graft_checkpoint_load (path2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (graft_checkpoint_get_n_tensors (again), ==, 5);
  g_assert_cmpstr (graft_checkpoint_get (again, "epoch"), ==, "4");
  g_assert_cmpstr (graft_checkpoint_get (again, "config"), ==, json);

  remove_tree (dir);
}

/* Every prefix of a checkpoint file fails to load: a file cut short is
 * never taken for a good one. */
static void
test_truncated (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "ck.onnx", NULL);
  g_autofree char *cut = g_build_filename (dir, "cut.onnx", NULL);
  g_autoptr (GraftCheckpoint) ck = sample_checkpoint (3, 10);
  g_autofree char *data = NULL;
  gsize len;

  graft_checkpoint_set (ck, "config", "{\"a\": 1}");
  graft_checkpoint_set (ck, "z-last-key", "value");
  g_assert_true (graft_checkpoint_save (ck, path, NULL));
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  for (gsize n = 0; n < len; n++)
    {
      GError *error = NULL;
      GraftCheckpoint *bad;

      g_assert_true (write_bytes (cut, data, n));
      bad = graft_checkpoint_load (cut, &error);
      if (bad)
        g_error ("a checkpoint cut to %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT
                 " bytes loaded",
                 n, len);
      g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE);
      g_clear_error (&error);
    }
  remove_tree (dir);
}

/* ---- atomic replacement ---- */

/* A save that fails part-way (here: the file-size limit stops the write of
 * the temporary file after 64 KiB) leaves the old checkpoint whole and no
 * temporary file behind. */
static void
test_atomic_save (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "ckpt-00000001.onnx", NULL);
  g_autoptr (GraftCheckpoint) old_ck = sample_checkpoint (1, 0);
  g_autoptr (GraftCheckpoint) new_ck = sample_checkpoint (2, 1 << 20);
  g_autoptr (GraftCheckpoint) back = NULL;
  g_autofree char *old_bytes = NULL, *now_bytes = NULL, *listing = NULL;
  gsize old_len, now_len;
  struct rlimit saved, limited;
  void (*saved_handler) (int);
  GError *error = NULL;
  gboolean ok;

  g_assert_true (graft_checkpoint_save (old_ck, path, &error));
  g_assert_true (g_file_get_contents (path, &old_bytes, &old_len, NULL));

  g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  limited = saved;
  limited.rlim_cur = 64 * 1024;
  saved_handler = signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limited), ==, 0);
  ok = graft_checkpoint_save (new_ck, path, &error);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &saved), ==, 0);
  signal (SIGXFSZ, saved_handler);

  g_assert_false (ok);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  g_test_message ("interrupted save: %s", error->message);
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (path, &now_bytes, &now_len, NULL));
  g_assert_cmpmem (now_bytes, now_len, old_bytes, old_len);
  back = graft_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (graft_checkpoint_get (back, "step"), ==, "1");
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "ckpt-00000001.onnx");

  /* Without the limit the same save replaces the file. */
  g_assert_true (graft_checkpoint_save (new_ck, path, &error));
  g_clear_pointer (&back, graft_checkpoint_free);
  back = graft_checkpoint_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (graft_checkpoint_get (back, "step"), ==, "2");
  g_assert_nonnull (graft_checkpoint_get_tensor (back, "big"));
  remove_tree (dir);
}

/* ---- the newest good checkpoint ---- */

static void
save_step (const char *dir, const char *prefix, int step)
{
  g_autofree char *name = graft_checkpoint_filename (prefix, step);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GraftCheckpoint) ck = sample_checkpoint (step, 0);
  GError *error = NULL;

  g_assert_true (graft_checkpoint_save (ck, path, &error));
  g_assert_no_error (error);
}

static void
test_find_latest (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *name3 = graft_checkpoint_filename ("ckpt", 3);
  g_autofree char *path3 = g_build_filename (dir, name3, NULL);
  g_autofree char *path4 = g_build_filename (dir, "ckpt-00000004.onnx", NULL);
  g_autofree char *path12 = g_build_filename (dir, "ckpt-12.onnx", NULL);
  g_autofree char *subdir = g_build_filename (dir, "ckpt-00000020.onnx", NULL);
  g_autofree char *temp =
      g_build_filename (dir, "ckpt-00000030.onnx.Ab3xYz", NULL);
  g_autofree char *missing = g_build_filename (dir, "nope", NULL);
  g_autofree char *data = NULL, *found = NULL, *found_path = NULL;
  g_autofree char *listing = NULL;
  g_autoptr (GraftCheckpoint) ck = NULL;
  GError *error = NULL;
  gsize len;

  g_assert_cmpstr (name3, ==, "ckpt-00000003.onnx");

  /* Nothing yet: NULL, no error, also for a folder that does not exist. */
  g_assert_null (graft_checkpoint_find_latest (dir, "ckpt", &error));
  g_assert_no_error (error);
  g_assert_null (graft_checkpoint_find_latest (missing, "ckpt", &error));
  g_assert_no_error (error);

  save_step (dir, "ckpt", 1);
  save_step (dir, "ckpt", 2);
  save_step (dir, "ckpt", 3);
  save_step (dir, "other", 9);
  /* Step 4 cut short under its final name, a folder and a stray temporary
   * file under newer names, and names that do not match the pattern. */
  g_assert_true (g_file_get_contents (path3, &data, &len, NULL));
  g_assert_true (write_bytes (path4, data, len - 7));
  g_assert_cmpint (g_mkdir (subdir, 0755), ==, 0);
  g_assert_true (write_bytes (temp, data, len / 2));
  g_assert_true (write_bytes (path12, "garbage", 7));
  save_step (dir, "ckpt-best", 100);

  found = graft_checkpoint_find_latest (dir, "ckpt", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, path3);
  ck = graft_checkpoint_load_latest (dir, "ckpt", &found_path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found_path, ==, path3);
  g_assert_cmpstr (graft_checkpoint_get (ck, "step"), ==, "3");
  g_clear_pointer (&found, g_free);
  found = graft_checkpoint_find_latest (dir, "other", &error);
  g_assert_true (g_str_has_suffix (found, "other-00000009.onnx"));
  g_clear_pointer (&found, g_free);

  /* A folder that is a file cannot be listed: an error. */
  g_assert_null (graft_checkpoint_find_latest (path3, "ckpt", &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  g_clear_error (&error);

  /* Pruning keeps the three newest files by step (bad ones among them),
   * removes the stray temporary file, and leaves other prefixes. */
  g_assert_cmpint (g_rmdir (subdir), ==, 0);
  g_assert_true (graft_checkpoint_prune (dir, "ckpt", 3, &error));
  g_assert_no_error (error);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==,
                   "ckpt-00000003.onnx ckpt-00000004.onnx ckpt-12.onnx "
                   "ckpt-best-00000100.onnx other-00000009.onnx");
  found = graft_checkpoint_find_latest (dir, "ckpt", &error);
  g_assert_cmpstr (found, ==, path3);
  g_clear_pointer (&found, g_free);
  g_assert_true (graft_checkpoint_prune (dir, "ckpt", 0, &error));
  g_clear_pointer (&listing, g_free);
  listing = list_dir (dir);
  g_assert_cmpstr (listing, ==, "ckpt-best-00000100.onnx other-00000009.onnx");
  remove_tree (dir);
}

/* ---- errors ---- */

static void
test_errors (void)
{
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *missing = g_build_filename (dir, "missing.onnx", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.onnx", NULL);
  g_autofree char *model_path = g_build_filename (dir, "model.onnx", NULL);
  g_autofree char *newer = g_build_filename (dir, "newer.onnx", NULL);
  g_autoptr (GraftOnnxModel) model = g_new0 (GraftOnnxModel, 1);
  g_autoptr (GraftCheckpoint) ck = NULL;
  GError *error = NULL;

  ck = graft_checkpoint_load (missing, &error);
  g_assert_null (ck);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "missing.onnx"));
  g_clear_error (&error);

  g_assert_true (write_bytes (text, "epoch = 3\n", 10));
  ck = graft_checkpoint_load (text, &error);
  g_assert_null (ck);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE);
  g_clear_error (&error);

  /* An ONNX model that is not a checkpoint: one node, one weight. */
  model->ir_version = 8;
  model->graph.n_nodes = 1;
  model->graph.nodes = g_new0 (GraftOnnxNode, 1);
  model->graph.nodes[0].op_type = g_strdup ("Relu");
  model->graph.nodes[0].name = g_strdup ("");
  model->graph.nodes[0].domain = g_strdup ("");
  model->graph.nodes[0].n_inputs = 1;
  model->graph.nodes[0].inputs = g_new0 (char *, 1);
  model->graph.nodes[0].inputs[0] = g_strdup ("x");
  model->graph.n_initializers = 1;
  model->graph.initializers = g_new0 (GraftOnnxNamedTensor, 1);
  model->graph.initializers[0].name = g_strdup ("w");
  {
    const int64_t dims[] = { 2 };
    model->graph.initializers[0].tensor = float_tensor (1, dims, 1.0f);
  }
  g_assert_true (graft_onnx_model_save (model, model_path, NULL));
  ck = graft_checkpoint_load (model_path, &error);
  g_assert_null (ck);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, "not a Graft checkpoint"));
  g_clear_error (&error);

  /* A later format than this build reads. */
  graft_onnx_model_set_metadata (model, "graft.checkpoint.format", "2");
  graft_onnx_model_set_metadata (model, "graft.checkpoint.tensors", "1");
  model->graph.n_nodes = 0; /* the node is still freed with the model */
  g_assert_true (graft_onnx_model_save (model, newer, NULL));
  model->graph.n_nodes = 1;
  ck = graft_checkpoint_load (newer, &error);
  g_assert_null (ck);
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* Saving into a folder that does not exist. */
  ck = graft_checkpoint_new ();
  {
    g_autofree char *bad = g_build_filename (dir, "no", "such.onnx", NULL);
    g_assert_false (graft_checkpoint_save (ck, bad, &error));
    g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_IO);
    g_clear_error (&error);
  }
  remove_tree (dir);
}

/* ---- optimizer state ---- */

enum
{
  N_W = 37,
  N_B = 5,
  N_F = 4,
  RESUME_STEPS = 10,
  RESUME_AT = 4
};

typedef struct
{
  float w[N_W], b[N_B], f[N_F];
  float dw[N_W], db[N_B];
  GraftParamRef refs[3];
} Model;

static void
model_init (Model *m)
{
  for (int i = 0; i < N_W; i++)
    m->w[i] = sinf ((float) i);
  for (int i = 0; i < N_B; i++)
    m->b[i] = 0.1f * (float) i;
  for (int i = 0; i < N_F; i++)
    m->f[i] = (float) i;
  m->refs[0] = (GraftParamRef){ "w", m->w, m->dw, N_W, 1.0f, TRUE };
  m->refs[1] = (GraftParamRef){ "b", m->b, m->db, N_B, 2.0f, FALSE };
  m->refs[2] = (GraftParamRef){ "frozen", m->f, NULL, N_F, 1.0f, TRUE };
}

/* Gradients that depend on the parameters, as a loss's would. */
static void
model_grads (Model *m, int step)
{
  for (int i = 0; i < N_W; i++)
    m->dw[i] = cosf (3.0f * m->w[i] + (float) step) + 0.1f * m->w[i];
  for (int i = 0; i < N_B; i++)
    m->db[i] = m->b[i] - 0.5f + 0.01f * (float) step;
}

static float
lr_at (int step)
{
  return 0.05f / (1.0f + (float) step);
}

static void
check_resume (GraftOptimizerKind kind)
{
  GraftOptimizerConfig config = graft_optimizer_config_default (kind);
  g_autofree char *dir = make_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "ckpt-00000004.onnx", NULL);
  Model straight, first, resumed;
  g_autoptr (GraftOptimizer) opt = NULL;
  g_autoptr (GraftCheckpoint) ck = NULL;
  GError *error = NULL;

  config.weight_decay = 0.02f;
  config.nesterov = kind == GRAFT_OPTIMIZER_SGD;

  /* Without interruption. */
  model_init (&straight);
  opt = graft_optimizer_new (&config, straight.refs, 3);
  for (int s = 0; s < RESUME_STEPS; s++)
    {
      model_grads (&straight, s);
      graft_optimizer_step (opt, lr_at (s));
    }
  g_clear_pointer (&opt, graft_optimizer_free);

  /* RESUME_AT steps, then a checkpoint of weights and optimizer state. */
  model_init (&first);
  opt = graft_optimizer_new (&config, first.refs, 3);
  for (int s = 0; s < RESUME_AT; s++)
    {
      model_grads (&first, s);
      graft_optimizer_step (opt, lr_at (s));
    }
  ck = graft_checkpoint_new ();
  graft_checkpoint_add_floats (ck, "w", first.w, N_W);
  graft_checkpoint_add_floats (ck, "b", first.b, N_B);
  graft_checkpoint_set_int (ck, "step", RESUME_AT);
  graft_optimizer_save_state (opt, ck);
  g_assert_true (graft_checkpoint_save (ck, path, &error));
  g_assert_no_error (error);
  g_clear_pointer (&opt, graft_optimizer_free);
  g_clear_pointer (&ck, graft_checkpoint_free);

  /* A new process: fresh model and optimizer from the file. */
  {
    int64_t at = 0;

    model_init (&resumed);
    memset (resumed.w, 0, sizeof resumed.w);
    memset (resumed.b, 0, sizeof resumed.b);
    ck = graft_checkpoint_load_latest (dir, "ckpt", NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (ck);
    memcpy (resumed.w, graft_checkpoint_get_tensor (ck, "w")->data,
            sizeof resumed.w);
    memcpy (resumed.b, graft_checkpoint_get_tensor (ck, "b")->data,
            sizeof resumed.b);
    g_assert_true (graft_checkpoint_get_int (ck, "step", &at, &error));
    opt = graft_optimizer_new (&config, resumed.refs, 3);
    g_assert_true (graft_optimizer_load_state (opt, ck, &error));
    g_assert_no_error (error);
    g_assert_cmpint (graft_optimizer_get_step (opt, 0), ==, RESUME_AT);
    g_assert_cmpint (graft_optimizer_get_step (opt, 2), ==, 0);
    for (int s = (int) at; s < RESUME_STEPS; s++)
      {
        model_grads (&resumed, s);
        graft_optimizer_step (opt, lr_at (s));
      }
  }

  g_assert_cmpmem (resumed.w, sizeof resumed.w, straight.w, sizeof straight.w);
  g_assert_cmpmem (resumed.b, sizeof resumed.b, straight.b, sizeof straight.b);
  g_assert_cmpmem (resumed.f, sizeof resumed.f, straight.f, sizeof straight.f);
  /* The interruption mattered: a fresh optimizer would have diverged. */
  g_assert_true (memcmp (first.w, straight.w, sizeof first.w) != 0);
  remove_tree (dir);
}

static void
test_resume (void)
{
  check_resume (GRAFT_OPTIMIZER_SGD);
  check_resume (GRAFT_OPTIMIZER_ADAM);
  check_resume (GRAFT_OPTIMIZER_ADAMW);
}

/* Losing the state on resume changes the result: the test above can fail. */
static void
test_resume_needs_state (void)
{
  GraftOptimizerConfig config =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_ADAM);
  Model straight, restarted;
  g_autoptr (GraftOptimizer) opt = NULL;

  model_init (&straight);
  opt = graft_optimizer_new (&config, straight.refs, 3);
  for (int s = 0; s < RESUME_STEPS; s++)
    {
      model_grads (&straight, s);
      graft_optimizer_step (opt, lr_at (s));
    }
  g_clear_pointer (&opt, graft_optimizer_free);

  model_init (&restarted);
  opt = graft_optimizer_new (&config, restarted.refs, 3);
  for (int s = 0; s < RESUME_STEPS; s++)
    {
      if (s == RESUME_AT)
        {
          g_clear_pointer (&opt, graft_optimizer_free);
          opt = graft_optimizer_new (&config, restarted.refs, 3);
        }
      model_grads (&restarted, s);
      graft_optimizer_step (opt, lr_at (s));
    }
  g_assert_true (memcmp (restarted.w, straight.w, sizeof straight.w) != 0);
}

static void
test_state_errors (void)
{
  GraftOptimizerConfig sgd =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_SGD);
  GraftOptimizerConfig adam =
      graft_optimizer_config_default (GRAFT_OPTIMIZER_ADAM);
  Model m, other;
  g_autoptr (GraftOptimizer) sgd_opt = NULL;
  g_autoptr (GraftOptimizer) adam_opt = NULL;
  g_autoptr (GraftCheckpoint) ck = graft_checkpoint_new ();
  g_autoptr (GraftCheckpoint) empty = graft_checkpoint_new ();
  float before[N_W];
  GError *error = NULL;

  model_init (&m);
  model_init (&other);
  sgd_opt = graft_optimizer_new (&sgd, m.refs, 3);
  adam_opt = graft_optimizer_new (&adam, other.refs, 3);
  model_grads (&m, 0);
  graft_optimizer_step (sgd_opt, 0.1f);
  graft_optimizer_save_state (sgd_opt, ck);

  g_assert_false (graft_optimizer_load_state (sgd_opt, empty, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_false (graft_optimizer_load_state (adam_opt, ck, &error));
  g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "sgd"));
  g_clear_error (&error);

  /* Fewer parameters than saved. */
  {
    g_autoptr (GraftOptimizer) two = graft_optimizer_new (&sgd, m.refs, 2);
    g_assert_false (graft_optimizer_load_state (two, ck, &error));
    g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* A buffer of the wrong size for the last parameter: nothing changes,
   * not even the parameters checked before it. */
  {
    g_autoptr (GraftOptimizer) fresh =
        graft_optimizer_new (&sgd, other.refs, 3);
    float wrong[3] = { 1, 2, 3 };
    graft_checkpoint_add_floats (ck, "optimizer/frozen/momentum_buffer", wrong,
                                 3);
    memcpy (before, graft_optimizer_get_state (fresh, 0, "momentum_buffer"),
            sizeof before);
    g_assert_false (graft_optimizer_load_state (fresh, ck, &error));
    g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID);
    g_assert_nonnull (strstr (error->message, "frozen"));
    g_clear_error (&error);
    g_assert_cmpint (graft_optimizer_get_step (fresh, 0), ==, 0);
    g_assert_cmpmem (graft_optimizer_get_state (fresh, 0, "momentum_buffer"),
                     sizeof before, before, sizeof before);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/checkpoint/round-trip", test_round_trip);
  g_test_add_func ("/checkpoint/truncated", test_truncated);
  g_test_add_func ("/checkpoint/atomic-save", test_atomic_save);
  g_test_add_func ("/checkpoint/find-latest", test_find_latest);
  g_test_add_func ("/checkpoint/errors", test_errors);
  g_test_add_func ("/checkpoint/optimizer-resume", test_resume);
  g_test_add_func ("/checkpoint/optimizer-resume-needs-state",
                   test_resume_needs_state);
  g_test_add_func ("/checkpoint/optimizer-state-errors", test_state_errors);
  return g_test_run ();
}
