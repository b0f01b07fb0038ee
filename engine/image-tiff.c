/* image-tiff.c: the first page of a TIFF, through libtiff's RGBA reader.
 *
 * libtiff reads straight from our memory (its "map file" hook); its error
 * and warning handlers are per-file (libtiff >= 4.5), so nothing is printed
 * and the first error becomes our message. The raster is read in stored
 * order and turned upright by the shared EXIF orientation code.
 */
#include "image-private.h"

#include <stdio.h>
#include <string.h>
#include <tiffio.h>

/* Any single allocation libtiff makes for a strip or tile. */
#define TIFF_MAX_SINGLE_ALLOC ((tmsize_t) 256 << 20)

typedef struct
{
  const guint8 *data;
  toff_t len, pos;
  char message[256];
} TiffSource;

static tmsize_t
tiff_read (thandle_t handle, void *out, tmsize_t n)
{
  TiffSource *source = handle;
  toff_t count;

  if (n <= 0 || source->pos >= source->len)
    return 0;
  count = MIN ((toff_t) n, source->len - source->pos);
  memcpy (out, source->data + source->pos, count);
  source->pos += count;
  return (tmsize_t) count;
}

static tmsize_t
tiff_write (thandle_t handle, void *in, tmsize_t n)
{
  return -1;
}

static toff_t
tiff_seek (thandle_t handle, toff_t offset, int whence)
{
  TiffSource *source = handle;
  toff_t base = whence == SEEK_CUR   ? source->pos
                : whence == SEEK_END ? source->len
                                     : 0;

  /* Seeking past the end is allowed; reads there return nothing. */
  if (offset > G_MAXUINT64 - base)
    return (toff_t) -1;
  source->pos = base + offset;
  return source->pos;
}

static int
tiff_close (thandle_t handle)
{
  return 0;
}

static toff_t
tiff_size (thandle_t handle)
{
  return ((TiffSource *) handle)->len;
}

static int
tiff_map (thandle_t handle, void **base, toff_t *size)
{
  TiffSource *source = handle;
  *base = (void *) source->data;
  *size = source->len;
  return 1;
}

static void
tiff_unmap (thandle_t handle, void *base, toff_t size)
{
}

static int
on_tiff_error (TIFF *tif,
               void *user_data,
               const char *module,
               const char *format,
               va_list args)
{
  TiffSource *source = user_data;
  if (source->message[0] == '\0')
    g_vsnprintf (source->message, sizeof source->message, format, args);
  return 1; /* handled: libtiff must not print */
}

static int
on_tiff_warning (TIFF *tif,
                 void *user_data,
                 const char *module,
                 const char *format,
                 va_list args)
{
  return 1; /* unknown tags and the like: not our concern */
}

/* ABGR words (premultiplied, as libtiff gives them) to RGB over white, in
 * place: pixel i's 3 bytes never reach pixel i + 1's word. */
static void
abgr_to_rgb_over_white (guint8 *pixels, size_t n_pixels)
{
  const guint32 *abgr = (const guint32 *) pixels;
  for (size_t i = 0; i < n_pixels; i++)
    {
      guint32 p = abgr[i];
      int background = 255 - (int) TIFFGetA (p);
      pixels[3 * i] = (guint8) MIN (255, (int) TIFFGetR (p) + background);
      pixels[3 * i + 1] = (guint8) MIN (255, (int) TIFFGetG (p) + background);
      pixels[3 * i + 2] = (guint8) MIN (255, (int) TIFFGetB (p) + background);
    }
}

GraftImage *
graft_image_decode_tiff (const guint8 *data,
                         size_t len,
                         const char *name,
                         int min_side,
                         int *orientation,
                         GError **error)
{
  TiffSource source = { data, len, 0, "" };
  TIFFOpenOptions *options;
  TIFF *tif;
  guint32 width = 0, height = 0;
  guint16 stored_orientation = ORIENTATION_TOPLEFT;
  char why[1024] = "";
  guint8 *pixels = NULL;
  GraftImage *image;

  options = TIFFOpenOptionsAlloc ();
  TIFFOpenOptionsSetMaxSingleMemAlloc (options, TIFF_MAX_SINGLE_ALLOC);
  TIFFOpenOptionsSetErrorHandlerExtR (options, on_tiff_error, &source);
  TIFFOpenOptionsSetWarningHandlerExtR (options, on_tiff_warning, &source);
  tif =
      TIFFClientOpenExt (name, "r", &source, tiff_read, tiff_write, tiff_seek,
                         tiff_close, tiff_size, tiff_map, tiff_unmap, options);
  TIFFOpenOptionsFree (options);
  if (tif == NULL)
    goto fail;

  TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &height);
  if (!graft_image_check_size (width, height, name, error))
    goto fail;
  if (!TIFFRGBAImageOK (tif, why))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: a TIFF layout Graft does not support (%s)", name, why);
      goto fail;
    }
  TIFFGetFieldDefaulted (tif, TIFFTAG_ORIENTATION, &stored_orientation);
  if (stored_orientation < 1 || stored_orientation > 8)
    stored_orientation = ORIENTATION_TOPLEFT;

  pixels = g_try_malloc ((size_t) width * height * 4);
  if (pixels == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: not enough memory for %ux%u pixels", name, width,
                   height);
      goto fail;
    }
  /* Asking for the file's own orientation makes libtiff flip nothing. */
  if (!TIFFReadRGBAImageOriented (tif, width, height, (guint32 *) pixels,
                                  stored_orientation, 1))
    goto fail;
  TIFFClose (tif);

  abgr_to_rgb_over_white (pixels, (size_t) width * height);
  image = g_new (GraftImage, 1);
  image->width = (int) width;
  image->height = (int) height;
  image->rgb = g_realloc (pixels, (size_t) width * height * 3);
  *orientation = stored_orientation;
  return image;

fail:
  if (error != NULL && *error == NULL)
    g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                 "%s: invalid or truncated TIFF data (%s)", name,
                 source.message[0] != '\0' ? source.message : "unreadable");
  if (tif != NULL)
    TIFFClose (tif);
  g_free (pixels);
  return NULL;
}
