/* graft-try-photo.h: drop or choose a photo, see a model's best guesses.
 *
 * Runs the ONNX file named by "model-path" on the photo in a worker thread
 * (the classifier is loaded there and kept until the path changes) and
 * shows the photo with bars for the "top-k" most probable classes.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define GRAFT_TYPE_TRY_PHOTO (graft_try_photo_get_type ())

G_DECLARE_FINAL_TYPE (GraftTryPhoto, graft_try_photo, GRAFT, TRY_PHOTO, AdwBin)

GtkWidget *graft_try_photo_new (void);

/* The model to run; NULL disables trying. A new path clears what is shown. */
void graft_try_photo_set_model_path (GraftTryPhoto *self, const char *path);
const char *graft_try_photo_get_model_path (GraftTryPhoto *self);
/* How many classes to show, best first (default 5). */
void graft_try_photo_set_top_k (GraftTryPhoto *self, int top_k);
int graft_try_photo_get_top_k (GraftTryPhoto *self);

/* Classifies a photo with the model (in a worker). */
void graft_try_photo_try_file (GraftTryPhoto *self, GFile *file);
/* Asks for a photo with a file chooser, then tries it. */
void graft_try_photo_choose_file (GraftTryPhoto *self);
/* Forgets the photo shown and any answer still on its way. */
void graft_try_photo_clear (GraftTryPhoto *self);

/* TRUE while a photo is being classified. */
gboolean graft_try_photo_get_busy (GraftTryPhoto *self);
/* The best class of the last photo tried, or NULL. */
const char *graft_try_photo_get_top_label (GraftTryPhoto *self);

G_END_DECLS
