/* graft-train-result.c: what a finished training run leaves behind. */
#include "config.h"

#include "graft-train-result.h"

#include "export.h"

#include "graph-edit.h"

#include <glib/gstdio.h>

GraftTrainResult *
graft_train_result_new (void)
{
  GraftTrainResult *result = g_atomic_rc_box_new0 (GraftTrainResult);

  g_mutex_init (&result->lock);
  return result;
}

GraftTrainResult *
graft_train_result_ref (GraftTrainResult *result)
{
  return g_atomic_rc_box_acquire (result);
}

static gboolean
labels_path_for (const char *model_path, char **labels_path)
{
  *labels_path = graft_export_labels_path (model_path);
  return TRUE;
}

static void
train_result_clear (gpointer data)
{
  GraftTrainResult *result = data;

  g_clear_pointer (&result->classifier, graft_classifier_free);
  if (result->model_file != NULL)
    {
      g_autofree char *labels = NULL;
      labels_path_for (result->model_file, &labels);
      g_unlink (result->model_file);
      g_unlink (labels);
    }
  if (result->dir != NULL)
    g_rmdir (result->dir);
  g_strfreev (result->classes);
  g_free (result->base_title);
  g_free (result->base_model);
  g_free (result->dir);
  g_free (result->model_file);
  g_strfreev (result->val_paths);
  g_free (result->val_labels);
  g_free (result->val_predicted);
  g_clear_pointer (&result->metrics, graft_metrics_free);
  g_free (result->explanation);
  g_mutex_clear (&result->lock);
}

void
graft_train_result_unref (GraftTrainResult *result)
{
  g_atomic_rc_box_release_full (result, train_result_clear);
}

static char *
labels_text (const char *const *classes, int n_classes)
{
  GString *text = g_string_new (NULL);

  for (int i = 0; i < n_classes; i++)
    g_string_append_printf (text, "%s\n", classes[i]);
  return g_string_free (text, FALSE);
}

gboolean
graft_train_result_export (GraftTrainResult *result,
                           const char *path,
                           GError **error)
{
  g_autofree char *bytes = NULL;
  g_autofree char *labels_path = NULL;
  g_autofree char *labels =
      labels_text ((const char *const *) result->classes, result->n_classes);
  gsize len = 0;

  if (!g_file_get_contents (result->model_file, &bytes, &len, error))
    return FALSE;
  /* CONSISTENT writes a temporary file and renames it over path: a reader
   * never sees half a model, even if Graft stops midway. */
  if (!g_file_set_contents_full (path, bytes, (gssize) len,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                     G_FILE_SET_CONTENTS_DURABLE,
                                 0644, error))
    return FALSE;
  labels_path_for (path, &labels_path);
  return g_file_set_contents_full (labels_path, labels, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                       G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}
