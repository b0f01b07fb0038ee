/* bench-train-setup.h: the training set-up bench-train and
 * bench-train-profile share, so both time the same work. */
#pragma once

#include "train/trainer.h"

#include <glib.h>

G_BEGIN_DECLS

/* A trainer with a new head of classes classes on model's trunk, every
 * block trainable, feature cache off, the backbone at the head's learning
 * rate, for batches of batch images of size x size (whatever the file
 * declares); and one batch of seeded random images (batch, 3, size, size)
 * in [-1, 1] with random labels (batch). NULL with an error when the
 * model cannot be loaded or trained. */
GraftTrainer *bench_train_setup (const char *model,
                                 int batch,
                                 int size,
                                 int classes,
                                 float **images,
                                 int **labels,
                                 GError **error);

G_END_DECLS
