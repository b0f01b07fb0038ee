/* graft-train-result.c: what a finished training run leaves behind. */
#include "config.h"

#include "graft-train-result.h"

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
  g_autofree char *dir = g_path_get_dirname (model_path);

  *labels_path = g_build_filename (dir, "labels.txt", NULL);
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
graft_export_classifier (const GraftGraph *graph,
                         const char *const *classes,
                         int n_classes,
                         const GraftPreprocess *pp,
                         const char *path,
                         GError **error)
{
  g_autoptr (GraftOnnxModel) model =
      graft_graph_to_classifier (graph, classes, n_classes);
  g_autofree char *size = g_strdup_printf ("%dx%d", pp->width, pp->height);
  g_autofree char *crop = g_strdup_printf ("%.6g", pp->central_crop);
  g_autofree char *mean =
      g_strdup_printf ("%.6g,%.6g,%.6g", pp->mean[0], pp->mean[1], pp->mean[2]);
  g_autofree char *std =
      g_strdup_printf ("%.6g,%.6g,%.6g", pp->std[0], pp->std[1], pp->std[2]);
  g_autofree char *labels_path = NULL;
  g_autofree char *labels = labels_text (classes, n_classes);

  /* The same keys graft-cli train writes, so both read back the same. */
  graft_onnx_model_set_metadata (model, "preprocess.size", size);
  graft_onnx_model_set_metadata (model, "preprocess.central_crop", crop);
  graft_onnx_model_set_metadata (model, "preprocess.mean", mean);
  graft_onnx_model_set_metadata (model, "preprocess.std", std);
  graft_onnx_model_set_metadata (model, "preprocess.layout",
                                 "NCHW, RGB, float32");
  if (!graft_onnx_model_save (model, path, error))
    return FALSE;
  labels_path_for (path, &labels_path);
  return g_file_set_contents_full (labels_path, labels, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT |
                                       G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
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
