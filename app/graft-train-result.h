/* graft-train-result.h: what a finished training run leaves behind,
 * shared (reference counted) by the results and export steps. */
#pragma once

#include "classifier.h"
#include "finetune.h"
#include "metrics.h"
#include "preprocess.h"

G_BEGIN_DECLS

typedef struct
{
  char **classes; /* n_classes names */
  int n_classes;
  GraftPreprocess preprocess;
  char *base_title;
  char *base_model; /* the file fine-tuned from */
  /* The finished classifier, written once in a private folder: try-an-image
   * runs it and export copies exactly these bytes. */
  char *dir;
  char *model_file;
  GraftClassifier *classifier; /* use under lock: its plan is not shared */
  GMutex lock;
  /* The validation photos and what the model says about them. */
  char **val_paths;
  int *val_labels;
  int *val_predicted;
  int n_val;
  GraftMetrics *metrics;
  float val_accuracy;
  char *explanation; /* from graft_finetune, or NULL */
} GraftTrainResult;

GraftTrainResult *graft_train_result_new (void);
GraftTrainResult *graft_train_result_ref (GraftTrainResult *result);
void graft_train_result_unref (GraftTrainResult *result);

/* Copies the result's model to path (atomically) and labels.txt beside. */
gboolean graft_train_result_export (GraftTrainResult *result,
                                    const char *path,
                                    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftTrainResult, graft_train_result_unref)

G_END_DECLS
