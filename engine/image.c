/* image.c: reading image files, recognising their format, size limits. */
#include "image-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <png.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  const char *name;
  GraftImageDecodeFunc decode;
} GraftImageFormat;

static const GraftImageFormat format_jpeg = { "JPEG", graft_image_decode_jpeg };
static const GraftImageFormat format_png = { "PNG", graft_image_decode_png };
static const GraftImageFormat format_bmp = { "BMP", graft_image_decode_bmp };
static const GraftImageFormat format_gif = { "GIF", graft_image_decode_gif };
static const GraftImageFormat format_webp = { "WebP", graft_image_decode_webp };
static const GraftImageFormat format_tiff = { "TIFF", graft_image_decode_tiff };

static gboolean
has_prefix (const guint8 *data, size_t len, const char *magic, size_t n)
{
  return len >= n && memcmp (data, magic, n) == 0;
}

static const GraftImageFormat *
sniff (const guint8 *data, size_t len)
{
  if (has_prefix (data, len, "\xff\xd8\xff", 3))
    return &format_jpeg;
  if (has_prefix (data, len, "\x89PNG\r\n\x1a\n", 8))
    return &format_png;
  if (has_prefix (data, len, "GIF87a", 6) ||
      has_prefix (data, len, "GIF89a", 6))
    return &format_gif;
  if (has_prefix (data, len, "RIFF", 4) && len >= 12 &&
      memcmp (data + 8, "WEBP", 4) == 0)
    return &format_webp;
  /* Classic TIFF (42) and BigTIFF (43), both byte orders. */
  if (has_prefix (data, len, "II*\0", 4) ||
      has_prefix (data, len, "MM\0*", 4) ||
      has_prefix (data, len, "II+\0", 4) || has_prefix (data, len, "MM\0+", 4))
    return &format_tiff;
  /* "BM" alone is two common letters; the DIB header size narrows it. */
  if (has_prefix (data, len, "BM", 2) && len >= 18)
    {
      guint32 dib =
          data[14] | data[15] << 8 | data[16] << 16 | (guint32) data[17] << 24;
      if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 ||
          dib == 108 || dib == 124)
        return &format_bmp;
    }
  return NULL;
}

const char *
graft_image_sniff_format (const guint8 *data, size_t len)
{
  const GraftImageFormat *format = sniff (data, len);
  return format != NULL ? format->name : NULL;
}

/* Text has no control bytes but tab, newlines and form feed, and is UTF-8
 * (a character cut at the end of the sample is fine). */
static gboolean
looks_like_text (const guint8 *data, size_t len)
{
  size_t n = MIN (len, 4096);
  const char *end;

  for (size_t i = 0; i < n; i++)
    if (data[i] < 0x20 && data[i] != '\t' && data[i] != '\n' &&
        data[i] != '\r' && data[i] != '\f')
      return FALSE;
  if (!g_utf8_validate ((const char *) data, (gssize) n, &end))
    return n < len && (const guint8 *) end + 4 > data + n;
  return TRUE;
}

/* Why bytes that are not a supported image are not one, for the message. */
static void
set_unknown_format_error (const guint8 *data,
                          size_t len,
                          const char *name,
                          GError **error)
{
  int code = GRAFT_ERROR_PARSE;
  const char *problem = "not an image Graft can read (unknown format)";

  if (len == 0)
    problem = "empty file";
  else if (len >= 12 && memcmp (data + 4, "ftyp", 4) == 0)
    {
      if (memcmp (data + 8, "avif", 4) == 0 ||
          memcmp (data + 8, "avis", 4) == 0)
        problem = "AVIF images are not supported (convert it to JPEG or PNG)";
      else if (memcmp (data + 8, "hei", 3) == 0 ||
               memcmp (data + 8, "hev", 3) == 0 ||
               memcmp (data + 8, "mif1", 4) == 0 ||
               memcmp (data + 8, "msf1", 4) == 0)
        problem = "HEIC images are not supported (convert it to JPEG or PNG)";
      else
        problem = "not an image (this looks like a video or MP4 file)";
      code = GRAFT_ERROR_UNSUPPORTED;
    }
  else if (has_prefix (data, len, "%PDF", 4))
    problem = "not an image (this looks like a PDF document)";
  else if (has_prefix (data, len, "PK\3\4", 4))
    problem = "not an image (this looks like a ZIP archive)";
  else if (has_prefix (data, len, "8BPS", 4))
    {
      problem = "Photoshop files are not supported";
      code = GRAFT_ERROR_UNSUPPORTED;
    }
  else if (has_prefix (data, len, "\0\0\1\0", 4))
    {
      problem = "icon files are not supported";
      code = GRAFT_ERROR_UNSUPPORTED;
    }
  else if (has_prefix (data, len, "\0\0\0\x0cjP  ", 8) ||
           has_prefix (data, len, "\xff\x4f\xff\x51", 4))
    {
      problem = "JPEG 2000 images are not supported";
      code = GRAFT_ERROR_UNSUPPORTED;
    }
  else if (looks_like_text (data, len))
    problem = "not an image (this looks like a text file)";
  g_set_error (error, GRAFT_ERROR, code, "%s: %s", name, problem);
}

gboolean
graft_image_check_size (gint64 width,
                        gint64 height,
                        const char *name,
                        GError **error)
{
  if (width <= 0 || height <= 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: invalid image size %" G_GINT64_FORMAT
                   "x%" G_GINT64_FORMAT,
                   name, width, height);
      return FALSE;
    }
  if (width > GRAFT_IMAGE_MAX_SIDE || height > GRAFT_IMAGE_MAX_SIDE)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                   " pixels has a side longer than the %d-pixel limit",
                   name, width, height, GRAFT_IMAGE_MAX_SIDE);
      return FALSE;
    }
  if (width * height > GRAFT_IMAGE_MAX_PIXELS)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                   " pixels is more than the %d-megapixel limit",
                   name, width, height, GRAFT_IMAGE_MAX_PIXELS / 1000000);
      return FALSE;
    }
  return TRUE;
}

GraftImage *
graft_image_new (int width,
                 int height,
                 const char *display_name,
                 GError **error)
{
  GraftImage *image;
  guint8 *rgb;

  if (!graft_image_check_size (width, height, display_name, error))
    return NULL;
  rgb = g_try_malloc0 ((size_t) width * height * 3);
  if (rgb == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: not enough memory for %dx%d pixels", display_name,
                   width, height);
      return NULL;
    }
  image = g_new (GraftImage, 1);
  image->width = width;
  image->height = height;
  image->rgb = rgb;
  return image;
}

void
graft_image_free (GraftImage *image)
{
  if (image == NULL)
    return;
  g_free (image->rgb);
  g_free (image);
}

GraftImage *
graft_image_load_from_memory (const guint8 *data,
                              size_t len,
                              const char *display_name,
                              int min_side,
                              GError **error)
{
  const GraftImageFormat *format;
  GraftImage *image;
  int orientation = 1;

  if (len > GRAFT_IMAGE_MAX_FILE_BYTES)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: %zu MB is more than the %zu MB file size limit",
                   display_name, len >> 20, GRAFT_IMAGE_MAX_FILE_BYTES >> 20);
      return NULL;
    }
  format = sniff (data, len);
  if (format == NULL)
    {
      set_unknown_format_error (data, len, display_name, error);
      return NULL;
    }
  image = format->decode (data, len, display_name, MAX (min_side, 0),
                          &orientation, error);
  if (image == NULL)
    return NULL;
  return graft_image_apply_orientation (image, orientation, display_name,
                                        error);
}

/* The whole file, refused before reading when over the size limit. */
static guint8 *
read_file (const char *path, const char *name, size_t *len, GError **error)
{
  struct stat st;
  guint8 *data;
  size_t size, done = 0;
  int fd, saved_errno;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot open (%s)",
                   name, g_strerror (saved_errno));
      return NULL;
    }
  if (fstat (fd, &st) != 0)
    st.st_mode = 0;
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: %s", name,
                   S_ISDIR (st.st_mode) ? "a folder, not an image"
                                        : "not a regular file");
      close (fd);
      return NULL;
    }
  if ((guint64) st.st_size > GRAFT_IMAGE_MAX_FILE_BYTES)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: %" G_GUINT64_FORMAT
                   " MB is more than the %zu MB file size limit",
                   name, (guint64) st.st_size >> 20,
                   GRAFT_IMAGE_MAX_FILE_BYTES >> 20);
      close (fd);
      return NULL;
    }
  size = (size_t) st.st_size;
  data = g_malloc (MAX (size, 1));
  while (done < size)
    {
      ssize_t n = read (fd, data + done, size - done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          saved_errno = errno;
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                       "%s: cannot read (%s)", name, g_strerror (saved_errno));
          g_free (data);
          close (fd);
          return NULL;
        }
      if (n == 0) /* the file shrank meanwhile: decode what there is */
        break;
      done += (size_t) n;
    }
  close (fd);
  *len = done;
  return data;
}

GraftImage *
graft_image_load (const char *path, int min_side, GError **error)
{
  g_autofree char *name = g_filename_display_basename (path);
  g_autofree guint8 *data = NULL;
  size_t len = 0;

  data = read_file (path, name, &len, error);
  if (data == NULL)
    return NULL;
  return graft_image_load_from_memory (data, len, name, min_side, error);
}

gboolean
graft_image_save_png (const GraftImage *image, const char *path, GError **error)
{
  png_image png;

  memset (&png, 0, sizeof png);
  png.version = PNG_IMAGE_VERSION;
  png.width = (png_uint_32) image->width;
  png.height = (png_uint_32) image->height;
  png.format = PNG_FORMAT_RGB;
  if (!png_image_write_to_file (&png, path, 0, image->rgb, image->width * 3,
                                NULL))
    {
      g_autofree char *name = g_filename_display_basename (path);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                   "%s: cannot write PNG (%s)", name, png.message);
      png_image_free (&png);
      return FALSE;
    }
  return TRUE;
}
