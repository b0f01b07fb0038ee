/* image-private.h: what image.c shares with the per-format decoders.
 *
 * Each decoder takes the whole file in memory and returns the pixels as
 * stored (not yet oriented) plus the EXIF orientation it found (1..8, 1
 * when there is none); image.c applies the orientation.
 */
#pragma once

#include "graft-error.h"
#include "image.h"

G_BEGIN_DECLS

typedef GraftImage *(*GraftImageDecodeFunc) (const guint8 *data,
                                             size_t len,
                                             const char *name,
                                             int min_side,
                                             int *orientation,
                                             GError **error);

GraftImage *graft_image_decode_jpeg (const guint8 *data,
                                     size_t len,
                                     const char *name,
                                     int min_side,
                                     int *orientation,
                                     GError **error);
GraftImage *graft_image_decode_png (const guint8 *data,
                                    size_t len,
                                    const char *name,
                                    int min_side,
                                    int *orientation,
                                    GError **error);
GraftImage *graft_image_decode_bmp (const guint8 *data,
                                    size_t len,
                                    const char *name,
                                    int min_side,
                                    int *orientation,
                                    GError **error);
GraftImage *graft_image_decode_gif (const guint8 *data,
                                    size_t len,
                                    const char *name,
                                    int min_side,
                                    int *orientation,
                                    GError **error);
GraftImage *graft_image_decode_webp (const guint8 *data,
                                     size_t len,
                                     const char *name,
                                     int min_side,
                                     int *orientation,
                                     GError **error);
GraftImage *graft_image_decode_tiff (const guint8 *data,
                                     size_t len,
                                     const char *name,
                                     int min_side,
                                     int *orientation,
                                     GError **error);

/* FALSE with a GRAFT_ERROR_LIMIT (or _PARSE for sizes <= 0) error when a
 * header's width x height is not one Graft accepts. Call before
 * allocating. */
gboolean graft_image_check_size (gint64 width,
                                 gint64 height,
                                 const char *name,
                                 GError **error);

/* One channel of a straight (not premultiplied) RGBA pixel composited
 * over white. */
static inline guint8
graft_over_white (guint8 value, guint8 alpha)
{
  /* value * a/255 + 255 * (1 - a/255), rounded */
  return (guint8) ((value * alpha + 255 * (255 - alpha) + 127) / 255);
}

/* The orientation (1..8) in a TIFF-structured EXIF block (what follows
 * "Exif\0\0" in a JPEG APP1 segment, or a PNG eXIf chunk); 1 when absent
 * or unreadable. Never reads outside data[0..len). */
int graft_exif_orientation (const guint8 *data, size_t len);

/* The image turned upright for EXIF orientation 1..8: a new image, or
 * image itself for 1 (and out-of-range values). Frees image when it
 * returns a new one. NULL with an error when memory is short. */
GraftImage *graft_image_apply_orientation (GraftImage *image,
                                           int orientation,
                                           const char *name,
                                           GError **error);

G_END_DECLS
