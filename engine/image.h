/* image.h: decoding photos into 8-bit RGB.
 *
 * JPEG, PNG, BMP, GIF (first frame), WebP and TIFF, recognised by their
 * first bytes rather than the file name. Transparency is composited over
 * white; the EXIF orientation (JPEG, PNG eXIf, WebP EXIF, TIFF Orientation)
 * is applied, so the result is upright as a photo viewer shows it.
 *
 * Errors are GRAFT_ERROR with messages "<file name>: <problem>".
 */
#pragma once

#include <glib.h>
#include <stddef.h>

G_BEGIN_DECLS

/* A bad or hostile file must not make us allocate gigabytes: the header's
 * size is checked against these before any pixel buffer exists. */
#define GRAFT_IMAGE_MAX_PIXELS (100 * 1000 * 1000) /* 100 megapixels */
#define GRAFT_IMAGE_MAX_SIDE 65535
#define GRAFT_IMAGE_MAX_FILE_BYTES ((size_t) 200 * 1024 * 1024)

typedef struct
{
  int width, height;
  guint8 *rgb; /* (height, width, 3) row-major, owned */
} GraftImage;

/* Decodes the file at path. min_side > 0 lets the decoder work at a reduced
 * size (JPEG: DCT scaling by 1/2, 1/4, 1/8) as long as the result's shorter
 * side stays >= min_side (or the image is already smaller); 0 = full size. */
GraftImage *graft_image_load (const char *path, int min_side, GError **error);
/* Same for bytes in memory; display_name is used in error messages. */
GraftImage *graft_image_load_from_memory (const guint8 *data,
                                          size_t len,
                                          const char *display_name,
                                          int min_side,
                                          GError **error);

/* A black image; NULL with a GRAFT_ERROR_LIMIT error (messages prefixed by
 * display_name) when the size is invalid, over the limits or memory is
 * short. */
GraftImage *graft_image_new (int width,
                             int height,
                             const char *display_name,
                             GError **error);
void graft_image_free (GraftImage *image);

/* Writes an 8-bit RGB PNG (thumbnails, debugging). */
gboolean graft_image_save_png (const GraftImage *image,
                               const char *path,
                               GError **error);

/* The format name sniffed from the first bytes ("JPEG", "PNG", ...), or
 * NULL when it is none Graft decodes. */
const char *graft_image_sniff_format (const guint8 *data, size_t len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftImage, graft_image_free)

G_END_DECLS
