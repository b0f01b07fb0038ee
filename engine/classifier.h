/* classifier.h: a model, its preprocessing and its class names, ready to
 * sort photos. The one path from an image file to probabilities, shared by
 * graft-cli classify, the app's try-an-image and evaluation.
 */
#pragma once

#include "graph.h"
#include "preprocess.h"

G_BEGIN_DECLS

typedef struct
{
  GraftGraph *graph;
  GraftPlan *plan;       /* batch 1 */
  GraftPreprocess preprocess;
  char **labels;         /* n_classes names */
  int n_classes;
  /* FALSE when the graph ends in logits: softmax is applied here. */
  gboolean ends_in_softmax;
} GraftClassifier;

typedef struct
{
  int index;
  float probability;
  const char *label; /* owned by the classifier */
} GraftPrediction;

/* Loads model_path; labels come from the model's metadata (graft.labels),
 * else a labels.txt or MODEL.labels.txt beside it, else the bundled
 * ImageNet list when the model has 1001 outputs, else "class N". */
GraftClassifier *graft_classifier_new (const char *model_path, GError **error);
void graft_classifier_free (GraftClassifier *classifier);

/* Probabilities for one preprocessed image (3, H, W); probs has n_classes. */
gboolean graft_classifier_run (GraftClassifier *classifier, const float *chw,
                               float *probs, GError **error);
/* Decodes and preprocesses one image file into chw (3, H, W) exactly as
 * the model takes it: normalized with preprocess.mean and std, or the
 * plain 0..255 RGB of the resized crop when the model's metadata says
 * preprocess.input_range "0..255" (the normalization is in the graph). */
gboolean graft_classifier_preprocess_file (const GraftClassifier *classifier,
                                           const char *image_path, float *chw,
                                           GError **error);
/* Decodes, preprocesses and runs one image file. */
gboolean graft_classifier_classify_file (GraftClassifier *classifier,
                                         const char *image_path, float *probs,
                                         GError **error);
/* The k most probable classes, best first; top has room for k. */
void graft_classifier_top_k (const GraftClassifier *classifier,
                             const float *probs, int k, GraftPrediction *top);

/* Reads one label per line (trailing empty lines dropped). */
char **graft_labels_load (const char *path, int *n, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftClassifier, graft_classifier_free)

G_END_DECLS
