/* image-png.c: PNG through libpng.
 *
 * libpng reports errors by longjmp to png_jmpbuf; our error callback keeps
 * the message and jumps itself, so libpng never prints. Every layout
 * (palette, gray, gray+alpha, 16-bit, tRNS) is expanded by libpng's
 * transforms to 8-bit RGB or RGBA; alpha is composited over white here.
 */
#include "image-private.h"

#include <png.h>
#include <string.h>

typedef struct
{
  const guint8 *data;
  size_t len, pos;
  char message[160];
  gboolean truncated;
} PngReader;

static void
on_png_error (png_structp png, png_const_charp message)
{
  PngReader *reader = png_get_error_ptr (png);
  g_strlcpy (reader->message, message, sizeof reader->message);
  png_longjmp (png, 1);
}

static void
on_png_warning (png_structp png, png_const_charp message)
{
  /* Ancillary-chunk trouble (bad gamma, CRC in a text chunk): the pixels
   * are still fine. */
}

static void
read_bytes (png_structp png, png_bytep out, size_t n)
{
  PngReader *reader = png_get_io_ptr (png);

  if (n > reader->len - reader->pos)
    {
      reader->truncated = TRUE;
      png_error (png, "truncated");
    }
  memcpy (out, reader->data + reader->pos, n);
  reader->pos += n;
}

/* RGBA to RGB over white, in place: pixel i's 3 output bytes never reach
 * pixel i + 1's 4 input bytes. */
static void
rgba_to_rgb_over_white (guint8 *pixels, size_t n_pixels)
{
  for (size_t i = 0; i < n_pixels; i++)
    {
      guint8 r = pixels[4 * i], g = pixels[4 * i + 1], b = pixels[4 * i + 2],
             a = pixels[4 * i + 3];
      pixels[3 * i] = graft_over_white (r, a);
      pixels[3 * i + 1] = graft_over_white (g, a);
      pixels[3 * i + 2] = graft_over_white (b, a);
    }
}

/* Trailing chunks (eXIf may follow the pixels): a file that is complete
 * up to its pixels but damaged after them still gives the image. */
static void
read_trailing_chunks (png_structp png, png_infop info, int *orientation)
{
  png_uint_32 exif_len = 0;
  png_bytep exif = NULL;

  if (setjmp (png_jmpbuf (png)))
    return;
  png_read_end (png, info);
  if (png_get_eXIf_1 (png, info, &exif_len, &exif) != 0 && exif != NULL)
    *orientation = graft_exif_orientation (exif, exif_len);
}

GraftImage *
graft_image_decode_png (const guint8 *data,
                        size_t len,
                        const char *name,
                        int min_side,
                        int *orientation,
                        GError **error)
{
  PngReader reader = { data, len, 0, "", FALSE };
  png_structp png;
  png_infop info;
  /* volatile: assigned after setjmp and freed after a longjmp */
  guint8 *volatile pixels = NULL;
  png_bytep *volatile rows = NULL;
  GraftImage *image;
  png_uint_32 width, height;
  int channels;

  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &reader, on_png_error,
                                on_png_warning);
  if (png == NULL)
    g_error ("out of memory");
  info = png_create_info_struct (png);
  if (info == NULL)
    g_error ("out of memory");
  if (setjmp (png_jmpbuf (png)))
    {
      if (error != NULL && *error == NULL)
        {
          if (reader.truncated)
            g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                         "%s: truncated PNG data", name);
          else
            g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                         "%s: invalid PNG data (%s)", name, reader.message);
        }
      png_destroy_read_struct (&png, &info, NULL);
      g_free (pixels);
      g_free (rows);
      return NULL;
    }

  png_set_read_fn (png, &reader, read_bytes);
  /* Let sizes through to our own check, which has the clearer message. */
  png_set_user_limits (png, PNG_UINT_31_MAX, PNG_UINT_31_MAX);
  png_read_info (png, info);
  width = png_get_image_width (png, info);
  height = png_get_image_height (png, info);
  if (!graft_image_check_size (width, height, name, error))
    png_longjmp (png, 1);

  png_set_expand (png);
  png_set_scale_16 (png);
  png_set_gray_to_rgb (png);
  png_set_interlace_handling (png);
  png_read_update_info (png, info);
  channels = png_get_channels (png, info);
  if (channels != 3 && channels != 4)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: PNG with %d channels is not supported", name, channels);
      png_longjmp (png, 1);
    }

  pixels = g_try_malloc ((size_t) width * height * channels);
  rows = g_try_new (png_bytep, height);
  if (pixels == NULL || rows == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: not enough memory for %ux%u pixels", name, width,
                   height);
      png_longjmp (png, 1);
    }
  for (png_uint_32 y = 0; y < height; y++)
    rows[y] = pixels + (size_t) y * width * channels;
  png_read_image (png, rows);

  *orientation = 1;
  read_trailing_chunks (png, info, orientation);
  png_destroy_read_struct (&png, &info, NULL);
  g_free (rows);

  if (channels == 4)
    {
      rgba_to_rgb_over_white (pixels, (size_t) width * height);
      pixels = g_realloc (pixels, (size_t) width * height * 3);
    }
  image = g_new (GraftImage, 1);
  image->width = (int) width;
  image->height = (int) height;
  image->rgb = pixels;
  return image;
}
