/* graft-photos-page.h: step 2, the user's labeled photos. */
#pragma once

#include <adwaita.h>

#include "dataset.h"

G_BEGIN_DECLS

#define GRAFT_TYPE_PHOTOS_PAGE (graft_photos_page_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftPhotosPage, graft_photos_page, GRAFT, PHOTOS_PAGE, AdwBin)

GtkWidget *graft_photos_page_new (void);
void graft_photos_page_set_settings (GraftPhotosPage *self,
                                     GSettings *settings);
/* The model's input side, for the "too small" check; 0 skips it. */
void graft_photos_page_set_min_side (GraftPhotosPage *self, int min_side);

/* One folder holds class folders; several folders are one class each. */
void
graft_photos_page_load (GraftPhotosPage *self, GFile *const *folders, int n);
void graft_photos_page_choose_folder (GraftPhotosPage *self);

gboolean graft_photos_page_get_scanning (GraftPhotosPage *self);
/* The scanned photos, NULL before a scan or when it failed. */
const GraftDataset *graft_photos_page_get_dataset (GraftPhotosPage *self);
/* Why the folder could not be read, or NULL. */
const char *graft_photos_page_get_error_message (GraftPhotosPage *self);
/* Thumbnails shown so far (for tests). */
guint graft_photos_page_get_n_thumbnails (GraftPhotosPage *self);

G_END_DECLS
