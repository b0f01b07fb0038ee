/* checkpoint.c: named tensors and key/values in an initializer-only ONNX
 * file, the search for the newest good one, and optimizer state. */
#include "train/checkpoint.h"

#include "graft-error.h"
#include "onnx-model.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#define FORMAT_KEY "graft.checkpoint.format"
#define COUNT_KEY "graft.checkpoint.tensors"
#define RESERVED_PREFIX "graft.checkpoint."
#define FORMAT_VERSION 1

#define OPT_KIND_KEY "graft.optimizer.kind"
#define OPT_PARAMS_KEY "graft.optimizer.params"
#define OPT_TENSOR_PREFIX "optimizer/"

struct _GraftCheckpoint
{
  GraftOnnxModel *model; /* user key/values only; the format keys are
                          * added at save time */
  GHashTable *index;     /* tensor name -> position + 1 (borrowed keys) */
  char *display_name;    /* the file it came from, for messages */
};

static GraftCheckpoint *
checkpoint_wrap (GraftOnnxModel *model, const char *display_name)
{
  GraftCheckpoint *ck = g_new0 (GraftCheckpoint, 1);

  ck->model = model;
  ck->index = g_hash_table_new (g_str_hash, g_str_equal);
  ck->display_name = g_strdup (display_name);
  return ck;
}

GraftCheckpoint *
graft_checkpoint_new (void)
{
  GraftOnnxModel *model = g_new0 (GraftOnnxModel, 1);

  model->ir_version = 8;
  model->producer_name = g_strdup ("graft");
  model->producer_version = g_strdup ("");
  model->domain = g_strdup ("");
  model->doc_string = g_strdup ("Graft training checkpoint");
  /* An opset makes it a valid ModelProto for ONNX's checker. */
  model->opsets = g_new0 (GraftOnnxOpset, 1);
  model->opsets[0].domain = g_strdup ("");
  model->opsets[0].version = 13;
  model->n_opsets = 1;
  model->graph.name = g_strdup ("checkpoint");
  return checkpoint_wrap (model, "checkpoint");
}

void
graft_checkpoint_free (GraftCheckpoint *ck)
{
  if (ck == NULL)
    return;
  g_hash_table_destroy (ck->index);
  graft_onnx_model_free (ck->model);
  g_free (ck->display_name);
  g_free (ck);
}

/* ---- tensors ---- */

static void
put_tensor (GraftCheckpoint *ck, const char *name, GraftTensor *owned)
{
  GraftOnnxGraph *g = &ck->model->graph;
  size_t pos = GPOINTER_TO_SIZE (g_hash_table_lookup (ck->index, name));

  if (pos > 0)
    {
      graft_tensor_free (g->initializers[pos - 1].tensor);
      g->initializers[pos - 1].tensor = owned;
      return;
    }
  g->initializers =
      g_renew (GraftOnnxNamedTensor, g->initializers, g->n_initializers + 1);
  g->initializers[g->n_initializers].name = g_strdup (name);
  g->initializers[g->n_initializers].tensor = owned;
  g->n_initializers++;
  /* g_renew may have moved the array, not the name strings. */
  g_hash_table_insert (ck->index, g->initializers[g->n_initializers - 1].name,
                       GSIZE_TO_POINTER (g->n_initializers));
}

void
graft_checkpoint_add_tensor (GraftCheckpoint *ck,
                             const char *name,
                             const GraftTensor *tensor)
{
  g_return_if_fail (ck != NULL && name != NULL && name[0] != '\0');
  g_return_if_fail (tensor != NULL && graft_dtype_size (tensor->dtype) > 0);
  put_tensor (ck, name, graft_tensor_copy (tensor));
}

void
graft_checkpoint_add_floats (GraftCheckpoint *ck,
                             const char *name,
                             const float *data,
                             size_t n)
{
  GraftShape shape = { .ndim = 1, .dims = { (int64_t) n } };
  GraftTensor *t;

  g_return_if_fail (ck != NULL && name != NULL && name[0] != '\0');
  g_return_if_fail (data != NULL || n == 0);
  t = graft_tensor_new_float (&shape);
  if (n > 0)
    memcpy (t->data, data, n * sizeof (float));
  put_tensor (ck, name, t);
}

const GraftTensor *
graft_checkpoint_get_tensor (const GraftCheckpoint *ck, const char *name)
{
  size_t pos;

  g_return_val_if_fail (ck != NULL && name != NULL, NULL);
  pos = GPOINTER_TO_SIZE (g_hash_table_lookup (ck->index, name));
  return pos > 0 ? ck->model->graph.initializers[pos - 1].tensor : NULL;
}

int
graft_checkpoint_get_n_tensors (const GraftCheckpoint *ck)
{
  g_return_val_if_fail (ck != NULL, 0);
  return (int) ck->model->graph.n_initializers;
}

const GraftTensor *
graft_checkpoint_get_tensor_at (const GraftCheckpoint *ck,
                                int index,
                                const char **name)
{
  const GraftOnnxNamedTensor *nt;

  g_return_val_if_fail (ck != NULL && index >= 0 &&
                            (size_t) index < ck->model->graph.n_initializers,
                        NULL);
  nt = &ck->model->graph.initializers[index];
  if (name)
    *name = nt->name;
  return nt->tensor;
}

/* ---- key/values ---- */

void
graft_checkpoint_set (GraftCheckpoint *ck, const char *key, const char *value)
{
  g_return_if_fail (ck != NULL && key != NULL && key[0] != '\0');
  g_return_if_fail (!g_str_has_prefix (key, RESERVED_PREFIX));
  graft_onnx_model_set_metadata (ck->model, key, value);
}

void
graft_checkpoint_set_int (GraftCheckpoint *ck, const char *key, int64_t value)
{
  char buf[32];

  g_snprintf (buf, sizeof buf, "%" G_GINT64_FORMAT, value);
  graft_checkpoint_set (ck, key, buf);
}

const char *
graft_checkpoint_get (const GraftCheckpoint *ck, const char *key)
{
  g_return_val_if_fail (ck != NULL && key != NULL, NULL);
  return graft_onnx_model_get_metadata (ck->model, key);
}

gboolean
graft_checkpoint_get_int (const GraftCheckpoint *ck,
                          const char *key,
                          int64_t *value,
                          GError **error)
{
  const char *s;
  gint64 v;

  g_return_val_if_fail (ck != NULL && key != NULL && value != NULL, FALSE);
  s = graft_checkpoint_get (ck, key);
  if (s == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: the checkpoint has no '%s'", ck->display_name, key);
      return FALSE;
    }
  if (!g_ascii_string_to_signed (s, 10, G_MININT64, G_MAXINT64, &v, NULL))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: '%s' is '%s', not an integer", ck->display_name, key,
                   s);
      return FALSE;
    }
  *value = v;
  return TRUE;
}

/* ---- files ---- */

gboolean
graft_checkpoint_save (const GraftCheckpoint *ck,
                       const char *path,
                       GError **error)
{
  const GraftOnnxModel *m;
  GraftOnnxModel out;
  g_autofree GraftOnnxStringPair *meta = NULL;
  char format[16], count[32];
  size_t n = 0;

  g_return_val_if_fail (ck != NULL && path != NULL, FALSE);
  m = ck->model;
  g_snprintf (format, sizeof format, "%d", FORMAT_VERSION);
  g_snprintf (count, sizeof count, "%" G_GSIZE_FORMAT, m->graph.n_initializers);

  /* A shallow copy whose metadata starts with the format and ends with the
   * tensor count: the graph follows the metadata in the file, so a file cut
   * anywhere loses the count or fails to match it. */
  meta = g_new (GraftOnnxStringPair, m->n_metadata + 2);
  meta[n++] = (GraftOnnxStringPair){ FORMAT_KEY, format };
  for (size_t i = 0; i < m->n_metadata; i++)
    if (!g_str_has_prefix (m->metadata[i].key, RESERVED_PREFIX))
      meta[n++] = m->metadata[i];
  meta[n++] = (GraftOnnxStringPair){ COUNT_KEY, count };
  out = *m;
  out.metadata = meta;
  out.n_metadata = n;
  return graft_onnx_model_save (&out, path, error);
}

static gboolean
check_format (const GraftOnnxModel *m, const char *path, GError **error)
{
  const char *format = graft_onnx_model_get_metadata (m, FORMAT_KEY);
  const char *count = graft_onnx_model_get_metadata (m, COUNT_KEY);
  guint64 version, n;

  if (format == NULL || m->graph.n_nodes > 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: not a Graft checkpoint (an ONNX file without "
                   "checkpoint data)",
                   path);
      return FALSE;
    }
  if (!g_ascii_string_to_unsigned (format, 10, 1, G_MAXINT, &version, NULL))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: bad checkpoint format '%s'", path, format);
      return FALSE;
    }
  if (version > FORMAT_VERSION)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: checkpoint format %" G_GUINT64_FORMAT
                   " is newer than this Graft reads (%d)",
                   path, version, FORMAT_VERSION);
      return FALSE;
    }
  if (count == NULL ||
      !g_ascii_string_to_unsigned (count, 10, 0, G_MAXSIZE, &n, NULL) ||
      n != m->graph.n_initializers)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: the checkpoint is incomplete (%" G_GSIZE_FORMAT
                   " tensors of %s)",
                   path, m->graph.n_initializers, count ? count : "unknown");
      return FALSE;
    }
  return TRUE;
}

GraftCheckpoint *
graft_checkpoint_load (const char *path, GError **error)
{
  g_autoptr (GraftCheckpoint) ck = NULL;
  GraftOnnxModel *model;

  g_return_val_if_fail (path != NULL, NULL);
  model = graft_onnx_model_load (path, error);
  if (model == NULL)
    return NULL;
  if (!check_format (model, path, error))
    {
      graft_onnx_model_free (model);
      return NULL;
    }
  ck = checkpoint_wrap (model, path);
  for (size_t i = 0; i < model->graph.n_initializers; i++)
    {
      const char *name = model->graph.initializers[i].name;
      if (name[0] == '\0' || !g_hash_table_insert (ck->index, (gpointer) name,
                                                   GSIZE_TO_POINTER (i + 1)))
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                       "%s: tensor name '%s' is empty or repeated", path, name);
          return NULL;
        }
    }
  return g_steal_pointer (&ck);
}

/* ---- the folder of checkpoints ---- */

char *
graft_checkpoint_filename (const char *prefix, int64_t step)
{
  g_return_val_if_fail (prefix != NULL && strchr (prefix, '/') == NULL, NULL);
  g_return_val_if_fail (step >= 0, NULL);
  return g_strdup_printf ("%s-%08" G_GINT64_FORMAT ".onnx", prefix, step);
}

/* The step of "<prefix>-<digits>.onnx<suffix>", or -1. */
static int64_t
parse_filename (const char *name, const char *prefix, const char *suffix)
{
  size_t prefix_len = strlen (prefix);
  const char *digits, *end;
  g_autofree char *number = NULL;
  guint64 step;

  if (strncmp (name, prefix, prefix_len) != 0 || name[prefix_len] != '-')
    return -1;
  digits = name + prefix_len + 1;
  end = digits;
  while (g_ascii_isdigit (*end))
    end++;
  if (end == digits || !g_str_has_prefix (end, ".onnx") ||
      strcmp (end + strlen (".onnx"), suffix) != 0)
    return -1;
  number = g_strndup (digits, (gsize) (end - digits));
  if (!g_ascii_string_to_unsigned (number, 10, 0, G_MAXINT64, &step, NULL))
    return -1;
  return (int64_t) step;
}

typedef struct
{
  int64_t step;
  char *name;
} Candidate;

static void
candidate_clear (gpointer p)
{
  g_free (((Candidate *) p)->name);
}

/* Newest first; equal steps ("-7" and "-007") by name, for a fixed order. */
static gint
candidate_compare (gconstpointer a, gconstpointer b)
{
  const Candidate *x = a, *y = b;

  if (x->step != y->step)
    return x->step > y->step ? -1 : 1;
  return strcmp (y->name, x->name);
}

/* The checkpoint files in dir, newest first. NULL with an error when dir
 * cannot be read; an empty array when it does not exist. */
static GArray *
list_checkpoints (const char *dir, const char *prefix, GError **error)
{
  GArray *found = g_array_new (FALSE, FALSE, sizeof (Candidate));
  GError *local = NULL;
  GDir *d;
  const char *name;

  g_array_set_clear_func (found, candidate_clear);
  d = g_dir_open (dir, 0, &local);
  if (d == NULL)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_error_free (local);
          return found;
        }
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                   "%s: cannot list checkpoints: %s", dir, local->message);
      g_error_free (local);
      g_array_unref (found);
      return NULL;
    }
  while ((name = g_dir_read_name (d)) != NULL)
    {
      Candidate c = { parse_filename (name, prefix, ""), NULL };
      if (c.step < 0)
        continue;
      c.name = g_strdup (name);
      g_array_append_val (found, c);
    }
  g_dir_close (d);
  g_array_sort (found, candidate_compare);
  return found;
}

GraftCheckpoint *
graft_checkpoint_load_latest (const char *dir,
                              const char *prefix,
                              char **path,
                              GError **error)
{
  g_autoptr (GArray) found = NULL;

  g_return_val_if_fail (dir != NULL && prefix != NULL, NULL);
  g_return_val_if_fail (strchr (prefix, '/') == NULL, NULL);
  if (path)
    *path = NULL;
  found = list_checkpoints (dir, prefix, error);
  if (found == NULL)
    return NULL;
  for (guint i = 0; i < found->len; i++)
    {
      g_autofree char *file = g_build_filename (
          dir, g_array_index (found, Candidate, i).name, NULL);
      g_autoptr (GError) local = NULL;
      GraftCheckpoint *ck = graft_checkpoint_load (file, &local);

      if (ck)
        {
          if (path)
            *path = g_steal_pointer (&file);
          return ck;
        }
      g_info ("skipping checkpoint %s", local->message);
    }
  return NULL;
}

char *
graft_checkpoint_find_latest (const char *dir,
                              const char *prefix,
                              GError **error)
{
  char *path = NULL;
  GraftCheckpoint *ck =
      graft_checkpoint_load_latest (dir, prefix, &path, error);

  graft_checkpoint_free (ck);
  return path;
}

/* "<prefix>-<digits>.onnx.XXXXXX": the temporary file of a save that did
 * not finish (g_file_set_contents_full's naming). */
static gboolean
is_stray_temp (const char *name, const char *prefix)
{
  const char *dot = strrchr (name, '.');
  g_autofree char *base = NULL;

  if (dot == NULL || strlen (dot + 1) != 6)
    return FALSE;
  base = g_strndup (name, (gsize) (dot - name));
  return parse_filename (base, prefix, "") >= 0;
}

static gboolean
remove_file (const char *dir, const char *name, GError **error)
{
  g_autofree char *file = g_build_filename (dir, name, NULL);

  if (g_unlink (file) != 0 && errno != ENOENT)
    {
      int saved = errno;
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot delete: %s",
                   file, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
graft_checkpoint_prune (const char *dir,
                        const char *prefix,
                        int keep,
                        GError **error)
{
  g_autoptr (GArray) found = NULL;
  g_autoptr (GPtrArray) temps = g_ptr_array_new_with_free_func (g_free);
  GDir *d;
  const char *name;

  g_return_val_if_fail (dir != NULL && prefix != NULL && keep >= 0, FALSE);
  g_return_val_if_fail (strchr (prefix, '/') == NULL, FALSE);
  found = list_checkpoints (dir, prefix, error);
  if (found == NULL)
    return FALSE;
  for (guint i = (guint) keep; i < found->len; i++)
    if (!remove_file (dir, g_array_index (found, Candidate, i).name, error))
      return FALSE;

  d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return TRUE; /* listed above, so it was removed meanwhile */
  while ((name = g_dir_read_name (d)) != NULL)
    if (is_stray_temp (name, prefix))
      g_ptr_array_add (temps, g_strdup (name));
  g_dir_close (d);
  for (guint i = 0; i < temps->len; i++)
    if (!remove_file (dir, temps->pdata[i], error))
      return FALSE;
  return TRUE;
}

/* ---- optimizer state ---- */

static char *
state_tensor_name (const char *param, const char *state)
{
  return g_strconcat (OPT_TENSOR_PREFIX, param, "/", state, NULL);
}

/* The "graft.optimizer." keys go through graft_checkpoint_set(), which
 * refuses only the "graft.checkpoint." ones. */
void
graft_optimizer_save_state (GraftOptimizer *opt, GraftCheckpoint *ck)
{
  const char *const *states;
  int n_params;

  g_return_if_fail (opt != NULL && ck != NULL);
  states = graft_optimizer_state_names (opt);
  n_params = graft_optimizer_get_n_params (opt);
  graft_checkpoint_set (
      ck, OPT_KIND_KEY,
      graft_optimizer_kind_name (graft_optimizer_get_config (opt)->kind));
  graft_checkpoint_set_int (ck, OPT_PARAMS_KEY, n_params);
  for (int i = 0; i < n_params; i++)
    {
      const GraftParamRef *p = graft_optimizer_get_param (opt, i);
      g_autofree char *step_name = state_tensor_name (p->name, "step");
      GraftShape scalar = { .ndim = 0 };
      g_autoptr (GraftTensor) step =
          graft_tensor_new (GRAFT_DTYPE_INT64, &scalar, NULL);

      *(int64_t *) step->data = graft_optimizer_get_step (opt, i);
      put_tensor (ck, step_name, g_steal_pointer (&step));
      for (int s = 0; states[s]; s++)
        {
          g_autofree char *name = state_tensor_name (p->name, states[s]);
          graft_checkpoint_add_floats (
              ck, name, graft_optimizer_get_state (opt, i, states[s]), p->n);
        }
    }
}

/* The checkpoint's step count for param, or -1 with an error. */
static int64_t
find_step (const GraftCheckpoint *ck, const char *param, GError **error)
{
  g_autofree char *name = state_tensor_name (param, "step");
  const GraftTensor *t = graft_checkpoint_get_tensor (ck, name);

  if (t == NULL || t->dtype != GRAFT_DTYPE_INT64 ||
      graft_tensor_numel (t) != 1 || *(const int64_t *) t->data < 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: no valid optimizer step count for parameter '%s'",
                   ck->display_name, param);
      return -1;
    }
  return *(const int64_t *) t->data;
}

static const float *
find_buffer (const GraftCheckpoint *ck,
             const GraftParamRef *p,
             const char *state,
             GError **error)
{
  g_autofree char *name = state_tensor_name (p->name, state);
  const GraftTensor *t = graft_checkpoint_get_tensor (ck, name);

  if (t == NULL || t->dtype != GRAFT_DTYPE_FLOAT ||
      graft_tensor_numel (t) != (int64_t) p->n)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: optimizer state '%s' of parameter '%s' is %s",
                   ck->display_name, state, p->name,
                   t ? "of another size or type" : "missing");
      return NULL;
    }
  return t->data;
}

gboolean
graft_optimizer_load_state (GraftOptimizer *opt,
                            const GraftCheckpoint *ck,
                            GError **error)
{
  const char *const *states;
  const char *kind, *want;
  int64_t n_saved;
  int n_params;

  g_return_val_if_fail (opt != NULL && ck != NULL, FALSE);
  states = graft_optimizer_state_names (opt);
  n_params = graft_optimizer_get_n_params (opt);
  kind = graft_checkpoint_get (ck, OPT_KIND_KEY);
  want = graft_optimizer_kind_name (graft_optimizer_get_config (opt)->kind);
  if (kind == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: the checkpoint has no optimizer state",
                   ck->display_name);
      return FALSE;
    }
  if (strcmp (kind, want) != 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: the optimizer state is for %s, not %s",
                   ck->display_name, kind, want);
      return FALSE;
    }
  if (!graft_checkpoint_get_int (ck, OPT_PARAMS_KEY, &n_saved, error))
    return FALSE;
  if (n_saved != n_params)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s: the optimizer state has %" G_GINT64_FORMAT
                   " parameters, the model %d",
                   ck->display_name, n_saved, n_params);
      return FALSE;
    }

  /* Check everything first, so that a bad checkpoint changes nothing. */
  for (int i = 0; i < n_params; i++)
    {
      const GraftParamRef *p = graft_optimizer_get_param (opt, i);
      if (find_step (ck, p->name, error) < 0)
        return FALSE;
      for (int s = 0; states[s]; s++)
        if (!find_buffer (ck, p, states[s], error))
          return FALSE;
    }
  for (int i = 0; i < n_params; i++)
    {
      const GraftParamRef *p = graft_optimizer_get_param (opt, i);
      graft_optimizer_set_step (opt, i, find_step (ck, p->name, NULL));
      for (int s = 0; states[s]; s++)
        if (p->n > 0)
          memcpy (graft_optimizer_get_state (opt, i, states[s]),
                  find_buffer (ck, p, states[s], NULL), p->n * sizeof (float));
    }
  return TRUE;
}
