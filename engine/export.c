/* export.c: the fine-tuned classifier as a file other tools can run. */
#include "export.h"

#include "graph-edit.h"

char *
graft_export_labels_path (const char *model_path)
{
  g_autofree char *dir = g_path_get_dirname (model_path);
  return g_build_filename (dir, "labels.txt", NULL);
}

gboolean
graft_export_classifier (const GraftGraph *graph, const char *const *classes, int n_classes,
                         const GraftPreprocess *pp, gboolean bake_normalization,
                         const char *path, GError **error)
{
  g_autoptr (GraftOnnxModel) model = graft_graph_to_classifier (graph, classes, n_classes);
  g_autofree char *size = g_strdup_printf ("%dx%d", pp->width, pp->height);
  g_autofree char *crop = g_strdup_printf ("%.6g", pp->central_crop);
  g_autofree char *mean = NULL, *std = NULL;
  g_autofree char *labels_path = graft_export_labels_path (path);
  GString *labels = g_string_new (NULL);
  gboolean ok;

  if (bake_normalization)
    {
      graft_model_bake_normalization (model, pp->mean, pp->std);
      mean = g_strdup ("0,0,0");
      std = g_strdup_printf ("%.9g,%.9g,%.9g", 1 / 255.0, 1 / 255.0, 1 / 255.0);
      graft_onnx_model_set_metadata (model, "preprocess.input_range", "0..255");
    }
  else
    {
      mean = g_strdup_printf ("%.6g,%.6g,%.6g", pp->mean[0], pp->mean[1], pp->mean[2]);
      std = g_strdup_printf ("%.6g,%.6g,%.6g", pp->std[0], pp->std[1], pp->std[2]);
    }
  graft_onnx_model_set_metadata (model, "preprocess.size", size);
  graft_onnx_model_set_metadata (model, "preprocess.central_crop", crop);
  graft_onnx_model_set_metadata (model, "preprocess.mean", mean);
  graft_onnx_model_set_metadata (model, "preprocess.std", std);
  graft_onnx_model_set_metadata (model, "preprocess.layout",
                                 bake_normalization ? "NCHW, RGB 0..255, float32"
                                                    : "NCHW, RGB, float32");
  if (!graft_onnx_model_save (model, path, error))
    {
      g_string_free (labels, TRUE);
      return FALSE;
    }
  for (int i = 0; i < n_classes; i++)
    g_string_append_printf (labels, "%s\n", classes[i]);
  ok = g_file_set_contents_full (labels_path, labels->str, (gssize) labels->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, error);
  g_string_free (labels, TRUE);
  return ok;
}
