/* checkpoint.h: training state on disk.
 *
 * A checkpoint is a set of named tensors (weights, optimizer state, RNG
 * state...) and string key/values (epoch, step, config JSON...). The file
 * is an ONNX ModelProto whose graph holds only initializers, the key/values
 * in metadata_props, so ONNX tools can open it. Saving is atomic (temporary
 * file, fsync, rename): a killed run leaves the previous checkpoint and at
 * most a stray "<name>.XXXXXX" temporary file, never a half-written one. A
 * file cut short anyway (a copy, a full disk outside our control) fails to
 * load: the tensor count is recorded after every other key and checked.
 *
 * Reserved names: metadata keys starting with "graft.checkpoint." (the
 * format) and "graft.optimizer.", tensors starting with "optimizer/".
 */
#pragma once

#include "tensor.h"
#include "train/optimizer.h"

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GraftCheckpoint GraftCheckpoint;

GraftCheckpoint *graft_checkpoint_new (void);
void graft_checkpoint_free (GraftCheckpoint *ck);

/* Stores a copy of tensor under name, replacing one of the same name.
 * Any dtype with a fixed element size (not strings). */
void graft_checkpoint_add_tensor (GraftCheckpoint *ck,
                                  const char *name,
                                  const GraftTensor *tensor);
/* Stores a copy of n floats as a 1-D tensor. */
void graft_checkpoint_add_floats (GraftCheckpoint *ck,
                                  const char *name,
                                  const float *data,
                                  size_t n);
/* NULL when absent. */
const GraftTensor *graft_checkpoint_get_tensor (const GraftCheckpoint *ck,
                                                const char *name);
int graft_checkpoint_get_n_tensors (const GraftCheckpoint *ck);
/* Tensors in the order they were added (or stored); *name gets its name. */
const GraftTensor *graft_checkpoint_get_tensor_at (const GraftCheckpoint *ck,
                                                   int index,
                                                   const char **name);

/* Sets or replaces a key/value (a NULL value stores ""). */
void
graft_checkpoint_set (GraftCheckpoint *ck, const char *key, const char *value);
void
graft_checkpoint_set_int (GraftCheckpoint *ck, const char *key, int64_t value);
/* NULL when absent. */
const char *graft_checkpoint_get (const GraftCheckpoint *ck, const char *key);
/* GRAFT_ERROR_INVALID when the key is absent or not a decimal integer. */
gboolean graft_checkpoint_get_int (const GraftCheckpoint *ck,
                                   const char *key,
                                   int64_t *value,
                                   GError **error);

/* Writes atomically: path holds the old file or the whole new one. */
gboolean graft_checkpoint_save (const GraftCheckpoint *ck,
                                const char *path,
                                GError **error);
/* GRAFT_ERROR_IO (cannot read), GRAFT_ERROR_PARSE (not ONNX, not a
 * checkpoint, cut short), GRAFT_ERROR_UNSUPPORTED (a newer format). */
GraftCheckpoint *graft_checkpoint_load (const char *path, GError **error);

/* Checkpoint files are "<prefix>-<step>.onnx", the step zero-padded to 8
 * digits so that listings sort. prefix must not contain '/'. */
char *graft_checkpoint_filename (const char *prefix, int64_t step);

/* The newest "<prefix>-<step>.onnx" in dir (by step) that loads, skipping
 * (with a g_info) those that do not. NULL without an error when there is
 * none or dir does not exist; NULL with an error when dir cannot be read.
 * path (optional) receives the file's path. */
GraftCheckpoint *graft_checkpoint_load_latest (const char *dir,
                                               const char *prefix,
                                               char **path,
                                               GError **error);
/* The same, returning only the path. */
char *graft_checkpoint_find_latest (const char *dir,
                                    const char *prefix,
                                    GError **error);

/* Deletes all but the keep newest "<prefix>-<step>.onnx" in dir, and the
 * temporary files an interrupted save of one of them left behind. */
gboolean graft_checkpoint_prune (const char *dir,
                                 const char *prefix,
                                 int keep,
                                 GError **error);

/* Optimizer state: tensors "optimizer/<param>/<state>" (float, n) and
 * "optimizer/<param>/step" (int64 scalar), keys "graft.optimizer.kind" and
 * "graft.optimizer.params". */
void graft_optimizer_save_state (GraftOptimizer *opt, GraftCheckpoint *ck);
/* Restores every parameter's state, or nothing: GRAFT_ERROR_INVALID when
 * the checkpoint is for another optimizer kind or other parameters, names
 * the first that does not fit. */
gboolean graft_optimizer_load_state (GraftOptimizer *opt,
                                     const GraftCheckpoint *ck,
                                     GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftCheckpoint, graft_checkpoint_free)

G_END_DECLS
