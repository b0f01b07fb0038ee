/* image-jpeg.c: JPEG through libjpeg(-turbo).
 *
 * libjpeg reports fatal errors by calling error_exit, which by default
 * exits the process: ours longjmps back here. A file cut short only makes
 * libjpeg warn and fill the rest with grey; we turn that into an error so
 * a broken photo is not silently trained on. The one exception is a file
 * that lacks only its end marker: the decoder's read-ahead reaches the end
 * of the data, but no pixel needs the missing bytes.
 */
#include "image-private.h"

#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

/* Progressive files decode every scan over the whole image; a hostile one
 * can hold thousands of tiny scans (libjpeg-turbo's own tools cap 500). */
#define MAX_PROGRESSIVE_SCANS 500

typedef struct
{
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  gboolean reached_end; /* the data ran out (libjpeg then feeds an EOI) */
  gboolean truncated;
} JpegErrorManager;

static void
on_error_exit (j_common_ptr cinfo)
{
  JpegErrorManager *err = (JpegErrorManager *) cinfo->err;
  cinfo->err->format_message (cinfo, err->message);
  /* Past the end of the data, libjpeg reads garbage from a cut segment. */
  err->truncated = err->reached_end;
  longjmp (err->jump, 1);
}

static void
on_emit_message (j_common_ptr cinfo, int msg_level)
{
  JpegErrorManager *err = (JpegErrorManager *) cinfo->err;

  /* Level -1 is a warning. Other warnings ("extraneous bytes before
   * marker") are common in real photos that decode fine; but once the data
   * has run out, any warning ("premature end of data segment") means
   * pixels are missing. */
  if (msg_level != -1)
    return;
  if (cinfo->err->msg_code == JWRN_JPEG_EOF)
    err->reached_end = TRUE;
  else if (err->reached_end)
    {
      err->truncated = TRUE;
      longjmp (err->jump, 1);
    }
}

static void
on_output_message (j_common_ptr cinfo)
{
  /* Never print to stderr. */
}

static void
on_progress (j_common_ptr cinfo)
{
  JpegErrorManager *err = (JpegErrorManager *) cinfo->err;
  j_decompress_ptr dinfo = (j_decompress_ptr) cinfo;

  if (dinfo->input_scan_number > MAX_PROGRESSIVE_SCANS)
    {
      g_snprintf (err->message, sizeof err->message,
                  "more than %d progressive scans", MAX_PROGRESSIVE_SCANS);
      longjmp (err->jump, 1);
    }
}

/* The largest DCT scaling 1/denom that keeps the shorter side >= min_side
 * (libjpeg rounds scaled sizes up). */
static int
choose_scale_denom (int width, int height, int min_side)
{
  int shorter = MIN (width, height);

  if (min_side <= 0)
    return 1;
  for (int denom = 8; denom >= 2; denom /= 2)
    if ((shorter + denom - 1) / denom >= min_side)
      return denom;
  return 1;
}

static int
find_exif_orientation (j_decompress_ptr cinfo)
{
  for (jpeg_saved_marker_ptr m = cinfo->marker_list; m != NULL; m = m->next)
    if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
        memcmp (m->data, "Exif\0\0", 6) == 0)
      return graft_exif_orientation (m->data, m->data_length);
  return 1;
}

/* One CMYK row to RGB. Adobe writes CMYK inverted (255 = no ink), which
 * libjpeg passes through; plain CMYK files store ink amounts. */
static void
cmyk_row_to_rgb (guint8 *rgb, const guint8 *cmyk, int width, gboolean inverted)
{
  for (int x = 0; x < width; x++)
    {
      int c = cmyk[4 * x], m = cmyk[4 * x + 1], y = cmyk[4 * x + 2],
          k = cmyk[4 * x + 3];
      if (!inverted)
        c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
      rgb[3 * x] = (guint8) ((c * k + 127) / 255);
      rgb[3 * x + 1] = (guint8) ((m * k + 127) / 255);
      rgb[3 * x + 2] = (guint8) ((y * k + 127) / 255);
    }
}

GraftImage *
graft_image_decode_jpeg (const guint8 *data,
                         size_t len,
                         const char *name,
                         int min_side,
                         int *orientation,
                         GError **error)
{
  struct jpeg_decompress_struct cinfo;
  struct jpeg_progress_mgr progress;
  JpegErrorManager err;
  /* volatile: assigned after setjmp and needed after a longjmp */
  GraftImage *volatile image = NULL;
  guint8 *volatile cmyk_row = NULL;
  gboolean cmyk;

  cinfo.err = jpeg_std_error (&err.pub);
  err.pub.error_exit = on_error_exit;
  err.pub.emit_message = on_emit_message;
  err.pub.output_message = on_output_message;
  err.reached_end = FALSE;
  err.truncated = FALSE;
  err.message[0] = '\0';
  if (setjmp (err.jump))
    {
      if (err.truncated)
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                     "%s: truncated JPEG data", name);
      else if (error != NULL && *error == NULL)
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                     "%s: invalid JPEG data (%s)", name, err.message);
      jpeg_destroy_decompress (&cinfo);
      graft_image_free (image);
      g_free (cmyk_row);
      return NULL;
    }

  jpeg_create_decompress (&cinfo);
  progress.progress_monitor = on_progress;
  cinfo.progress = &progress;
  jpeg_mem_src (&cinfo, data, (unsigned long) len);
  jpeg_save_markers (&cinfo, JPEG_APP0 + 1, 0xffff);
  jpeg_read_header (&cinfo, TRUE);

  if (!graft_image_check_size (cinfo.image_width, cinfo.image_height, name,
                               error))
    longjmp (err.jump, 1);
  *orientation = find_exif_orientation (&cinfo);

  cmyk =
      cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned int) choose_scale_denom (
      (int) cinfo.image_width, (int) cinfo.image_height, min_side);
  jpeg_calc_output_dimensions (&cinfo);

  image = graft_image_new ((int) cinfo.output_width, (int) cinfo.output_height,
                           name, error);
  if (image == NULL)
    longjmp (err.jump, 1);
  if (cmyk)
    cmyk_row = g_malloc ((size_t) cinfo.output_width * 4);

  jpeg_start_decompress (&cinfo);
  /* A progressive file is read whole here; running out of data means
   * whole scans (detail everywhere) are missing. */
  if (err.reached_end && cinfo.progressive_mode)
    {
      err.truncated = TRUE;
      longjmp (err.jump, 1);
    }
  if (cinfo.output_components != (cmyk ? 4 : 3))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: JPEG with %d color components is not supported", name,
                   cinfo.output_components);
      longjmp (err.jump, 1);
    }
  while (cinfo.output_scanline < cinfo.output_height)
    {
      guint8 *row =
          image->rgb + (size_t) cinfo.output_scanline * image->width * 3;
      JSAMPROW rows[1] = { cmyk ? cmyk_row : row };

      if (jpeg_read_scanlines (&cinfo, rows, 1) != 1)
        {
          /* Only a suspending data source returns early; ours never does,
           * but do not loop forever if it did. */
          err.truncated = TRUE;
          longjmp (err.jump, 1);
        }
      if (cmyk)
        cmyk_row_to_rgb (row, cmyk_row, image->width, cinfo.saw_Adobe_marker);
    }
  /* No jpeg_finish_decompress: every pixel is in, and a file that only
   * lacks its end marker is still a complete photo. */
  jpeg_destroy_decompress (&cinfo);
  g_free (cmyk_row);
  return image;
}
