/* classifier.c: from an image file to class probabilities. */
#include "classifier.h"

#include "graft-error.h"
#include "image.h"
#include "model-catalog.h"

#include <math.h>
#include <string.h>

char **
graft_labels_load (const char *path, int *n, GError **error)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  int count;

  if (!g_file_get_contents (path, &text, NULL, error))
    return NULL;
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: labels are not UTF-8 text", path);
      return NULL;
    }
  lines = g_strsplit (text, "\n", -1);
  count = (int) g_strv_length (lines);
  while (count > 0 && g_strstrip (lines[count - 1])[0] == '\0')
    g_free (lines[--count]), lines[count] = NULL;
  for (int i = 0; i < count; i++)
    g_strstrip (lines[i]);
  *n = count;
  return g_steal_pointer (&lines);
}

static char **
labels_from_metadata (const GraftOnnxModel *model, int *n)
{
  const char *text = graft_onnx_model_get_metadata (model, "graft.labels");
  char **lines;
  if (text == NULL)
    return NULL;
  lines = g_strsplit (text, "\n", -1);
  *n = (int) g_strv_length (lines);
  return lines;
}

static char **
find_labels (const char *model_path, const GraftOnnxModel *model, int n_classes)
{
  g_autofree char *dir = g_path_get_dirname (model_path);
  g_autofree char *base = g_path_get_basename (model_path);
  char *dot = strrchr (base, '.');
  g_autofree char *beside = NULL;
  g_autofree char *plain = g_build_filename (dir, "labels.txt", NULL);
  g_autofree char *bundled = NULL;
  char **labels;
  int n = 0;

  labels = labels_from_metadata (model, &n);
  if (labels && n == n_classes)
    return labels;
  g_strfreev (labels);

  if (dot)
    *dot = '\0';
  beside = g_strdup_printf ("%s/%s.labels.txt", dir, base);
  bundled = graft_catalog_labels_path (NULL);
  {
    const char *candidates[] = { beside, plain, n_classes == 1001 ? bundled : NULL };
    for (size_t i = 0; i < G_N_ELEMENTS (candidates); i++)
      {
        if (candidates[i] == NULL || !g_file_test (candidates[i], G_FILE_TEST_IS_REGULAR))
          continue;
        labels = graft_labels_load (candidates[i], &n, NULL);
        if (labels && n == n_classes)
          return labels;
        g_strfreev (labels);
      }
  }
  labels = g_new0 (char *, n_classes + 1);
  for (int i = 0; i < n_classes; i++)
    labels[i] = g_strdup_printf ("class %d", i);
  return labels;
}

void
graft_classifier_free (GraftClassifier *c)
{
  if (c == NULL)
    return;
  graft_plan_free (c->plan);
  graft_graph_free (c->graph);
  g_strfreev (c->labels);
  g_free (c);
}

GraftClassifier *
graft_classifier_new (const char *model_path, GError **error)
{
  g_autoptr (GraftClassifier) c = g_new0 (GraftClassifier, 1);
  const GraftOnnxModel *model;
  const GraftValueInfo *out;
  GraftShape shape;
  int last;

  c->graph = graft_graph_load (model_path, error);
  if (c->graph == NULL)
    return NULL;
  model = c->graph->model;
  if (c->graph->n_inputs != 1)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: an image classifier has one input, this model has %d",
                   model_path, c->graph->n_inputs);
      return NULL;
    }
  if (!graft_preprocess_from_model (&c->preprocess, model, error))
    {
      g_prefix_error (error, "%s: ", model_path);
      return NULL;
    }
  {
    const char *range = graft_onnx_model_get_metadata (model, "preprocess.input_range");
    if (range != NULL && !g_str_equal (range, "0..255"))
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                     "%s: preprocess.input_range “%s” is not supported (only 0..255)",
                     model_path, range);
        return NULL;
      }
  }
  {
    /* Without a size in the metadata, a fixed input size in the graph wins
     * over the ImageNet default. */
    const GraftValue *in = &c->graph->values[c->graph->inputs[0]];
    if (graft_onnx_model_get_metadata (model, "preprocess.size") == NULL
        && in->declared_ndim == 4 && in->declared_dims[2] > 0 && in->declared_dims[3] > 0)
      {
        c->preprocess.height = (int) MIN (in->declared_dims[2], 4096);
        c->preprocess.width = (int) MIN (in->declared_dims[3], 4096);
      }
  }
  shape = graft_shape_make (4, (int64_t[]){ 1, 3, c->preprocess.height,
                                            c->preprocess.width });
  c->plan = graft_plan_new (c->graph, &shape, NULL, error);
  if (c->plan == NULL)
    return NULL;
  out = graft_plan_value_info (c->plan, c->graph->outputs[0]);
  if (out->dtype != GRAFT_DTYPE_FLOAT || out->shape.ndim < 2
      || graft_shape_numel (&out->shape) != out->shape.dims[out->shape.ndim - 1])
    {
      g_autofree char *s = graft_shape_to_string (&out->shape);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: the first output is %s, not one score per class",
                   model_path, s);
      return NULL;
    }
  c->n_classes = (int) out->shape.dims[out->shape.ndim - 1];
  last = c->graph->values[c->graph->outputs[0]].producer;
  c->ends_in_softmax = last >= 0 && g_str_equal (c->graph->nodes[last].op_type, "Softmax");
  c->labels = find_labels (model_path, model, c->n_classes);
  return g_steal_pointer (&c);
}

gboolean
graft_classifier_run (GraftClassifier *c, const float *chw, float *probs,
                      GError **error)
{
  int input = c->graph->inputs[0];
  const GraftTensor *in = graft_plan_get (c->plan, input);
  const GraftTensor *out;

  /* The plan owns its input buffer; fill it and run in place. */
  memcpy (in->data, chw, graft_tensor_nbytes (in));
  {
    const GraftTensor *inputs[] = { in };
    if (!graft_plan_run (c->plan, inputs, error))
      return FALSE;
  }
  out = graft_plan_get (c->plan, c->graph->outputs[0]);
  memcpy (probs, out->data, sizeof (float) * c->n_classes);
  if (!c->ends_in_softmax)
    {
      float max = probs[0], sum = 0;
      for (int i = 1; i < c->n_classes; i++)
        max = fmaxf (max, probs[i]);
      for (int i = 0; i < c->n_classes; i++)
        sum += probs[i] = expf (probs[i] - max);
      for (int i = 0; i < c->n_classes; i++)
        probs[i] /= sum;
    }
  return TRUE;
}

/* Set by --bake-normalization: the graph normalizes RGB 0..255 itself. */
static gboolean
takes_0_255 (const GraftClassifier *c)
{
  const char *range = graft_onnx_model_get_metadata (c->graph->model, "preprocess.input_range");
  return range != NULL && g_str_equal (range, "0..255");
}

gboolean
graft_classifier_preprocess_file (const GraftClassifier *c, const char *image_path,
                                  float *chw, GError **error)
{
  g_autoptr (GraftImage) image = NULL;
  const GraftPreprocess *pp = &c->preprocess;

  image = graft_image_load (image_path, graft_preprocess_min_side (pp), error);
  if (image == NULL)
    return FALSE;
  if (takes_0_255 (c))
    {
      /* The resize alone, as graft_preprocess_image does before normalizing. */
      double x0, y0, side;
      graft_preprocess_crop_box (pp, image->width, image->height, &x0, &y0, &side);
      graft_resize_bilinear (chw, image, x0, y0, side, side, pp->width, pp->height);
    }
  else
    graft_preprocess_image (chw, image, pp);
  return TRUE;
}

gboolean
graft_classifier_classify_file (GraftClassifier *c, const char *image_path,
                                float *probs, GError **error)
{
  g_autofree float *chw = g_new (float, (size_t) 3 * c->preprocess.height * c->preprocess.width);

  if (!graft_classifier_preprocess_file (c, image_path, chw, error))
    return FALSE;
  return graft_classifier_run (c, chw, probs, error);
}

void
graft_classifier_top_k (const GraftClassifier *c, const float *probs, int k,
                        GraftPrediction *top)
{
  k = MIN (k, c->n_classes);
  for (int j = 0; j < k; j++)
    top[j].index = -1;
  for (int i = 0; i < c->n_classes; i++)
    {
      int j = k;
      while (j > 0 && (top[j - 1].index < 0 || probs[i] > top[j - 1].probability))
        j--;
      if (j >= k)
        continue;
      memmove (&top[j + 1], &top[j], sizeof (GraftPrediction) * (k - j - 1));
      top[j].index = i;
      top[j].probability = probs[i];
      top[j].label = c->labels[i];
    }
}
