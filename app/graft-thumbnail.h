/* graft-thumbnail.h: small square previews of photos, decoded off the
 * main thread. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Decodes path at a reduced size and crops its center to a size x size
 * RGB square. Safe on any thread. NULL with an error when unreadable. */
GBytes *graft_thumbnail_decode (const char *path, int size, GError **error);

/* A texture from graft_thumbnail_decode's pixels (main thread). */
GdkTexture *graft_thumbnail_texture (GBytes *rgb, int size);

/* A picture widget showing the texture, or a placeholder icon when rgb is
 * NULL (the photo could not be read). */
GtkWidget *graft_thumbnail_picture (GBytes *rgb, int size, const char *tooltip);

/* Starts decoding paths in a worker thread; done receives a GPtrArray of
 * GBytes (NULL entries for unreadable photos) in the same order. */
void graft_thumbnails_load_async (const char *const *paths,
                                  int n,
                                  int size,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback done,
                                  gpointer user_data);
GPtrArray *graft_thumbnails_load_finish (GAsyncResult *result, GError **error);

G_END_DECLS
