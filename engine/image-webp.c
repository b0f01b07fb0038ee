/* image-webp.c: WebP through libwebp (the first frame of animations).
 *
 * The demuxer reads the container first: canvas size (checked before any
 * pixel buffer), the EXIF chunk, whether the file is animated, and whether
 * it is complete.
 */
#include "image-private.h"

#include <webp/decode.h>
#include <webp/demux.h>

static void
set_status_error (GError **error, const char *name, VP8StatusCode status)
{
  switch (status)
    {
    case VP8_STATUS_NOT_ENOUGH_DATA:
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: truncated WebP data", name);
      break;
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: a WebP feature Graft does not support", name);
      break;
    case VP8_STATUS_OUT_OF_MEMORY:
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: not enough memory to decode", name);
      break;
    default:
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: invalid WebP data (libwebp status %d)", name,
                   (int) status);
      break;
    }
}

static void
rgba_over_white (GraftImage *image, const guint8 *rgba)
{
  size_t n = (size_t) image->width * image->height;
  for (size_t i = 0; i < n; i++)
    for (int c = 0; c < 3; c++)
      image->rgb[3 * i + c] =
          graft_over_white (rgba[4 * i + c], rgba[4 * i + 3]);
}

/* The first frame of an animation, composited by libwebp onto its canvas. */
static gboolean
decode_first_frame (GraftImage *image,
                    const WebPData *webp,
                    const char *name,
                    GError **error)
{
  WebPAnimDecoderOptions options;
  WebPAnimDecoder *decoder;
  guint8 *rgba = NULL;
  int timestamp;
  gboolean ok;

  if (!WebPAnimDecoderOptionsInit (&options))
    g_error ("libwebp version mismatch");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  decoder = WebPAnimDecoderNew (webp, &options);
  if (decoder == NULL)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: invalid animated WebP data", name);
      return FALSE;
    }
  ok = WebPAnimDecoderGetNext (decoder, &rgba, &timestamp) && rgba != NULL;
  if (ok)
    rgba_over_white (image, rgba);
  else
    g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                 "%s: invalid WebP data in the first frame", name);
  WebPAnimDecoderDelete (decoder);
  return ok;
}

static gboolean
decode_still (GraftImage *image,
              const guint8 *data,
              size_t len,
              const char *name,
              GError **error)
{
  WebPDecoderConfig config;
  VP8StatusCode status;
  g_autofree guint8 *rgba = NULL;
  size_t n_pixels = (size_t) image->width * image->height;

  if (!WebPInitDecoderConfig (&config))
    g_error ("libwebp version mismatch");
  status = WebPGetFeatures (data, len, &config.input);
  if (status != VP8_STATUS_OK)
    {
      set_status_error (error, name, status);
      return FALSE;
    }
  if (config.input.width != image->width ||
      config.input.height != image->height)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: invalid WebP data (frame and canvas sizes differ)",
                   name);
      return FALSE;
    }

  /* Decode straight into our buffer; with alpha, into RGBA first. */
  config.output.is_external_memory = 1;
  if (config.input.has_alpha)
    {
      rgba = g_try_malloc (n_pixels * 4);
      if (rgba == NULL)
        {
          set_status_error (error, name, VP8_STATUS_OUT_OF_MEMORY);
          return FALSE;
        }
      config.output.colorspace = MODE_RGBA;
      config.output.u.RGBA.rgba = rgba;
      config.output.u.RGBA.stride = image->width * 4;
      config.output.u.RGBA.size = n_pixels * 4;
    }
  else
    {
      config.output.colorspace = MODE_RGB;
      config.output.u.RGBA.rgba = image->rgb;
      config.output.u.RGBA.stride = image->width * 3;
      config.output.u.RGBA.size = n_pixels * 3;
    }
  status = WebPDecode (data, len, &config);
  WebPFreeDecBuffer (&config.output);
  if (status != VP8_STATUS_OK)
    {
      set_status_error (error, name, status);
      return FALSE;
    }
  if (rgba != NULL)
    rgba_over_white (image, rgba);
  return TRUE;
}

GraftImage *
graft_image_decode_webp (const guint8 *data,
                         size_t len,
                         const char *name,
                         int min_side,
                         int *orientation,
                         GError **error)
{
  WebPData webp = { data, len };
  WebPDemuxState state = WEBP_DEMUX_PARSE_ERROR;
  WebPDemuxer *demux;
  WebPChunkIterator exif;
  GraftImage *image = NULL;
  guint32 width, height, flags;
  gboolean ok;

  *orientation = 1;
  demux = WebPDemuxPartial (&webp, &state);
  if (demux == NULL || state != WEBP_DEMUX_DONE)
    {
      if (demux != NULL || state == WEBP_DEMUX_PARSING_HEADER)
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                     "%s: truncated WebP data", name);
      else
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                     "%s: invalid WebP data", name);
      WebPDemuxDelete (demux);
      return NULL;
    }
  width = WebPDemuxGetI (demux, WEBP_FF_CANVAS_WIDTH);
  height = WebPDemuxGetI (demux, WEBP_FF_CANVAS_HEIGHT);
  flags = WebPDemuxGetI (demux, WEBP_FF_FORMAT_FLAGS);
  if ((flags & EXIF_FLAG) && WebPDemuxGetChunk (demux, "EXIF", 1, &exif))
    {
      *orientation = graft_exif_orientation (exif.chunk.bytes, exif.chunk.size);
      WebPDemuxReleaseChunkIterator (&exif);
    }
  WebPDemuxDelete (demux);

  image = graft_image_new ((int) MIN (width, (guint32) G_MAXINT),
                           (int) MIN (height, (guint32) G_MAXINT), name, error);
  if (image == NULL)
    return NULL;
  if (flags & ANIMATION_FLAG)
    ok = decode_first_frame (image, &webp, name, error);
  else
    ok = decode_still (image, data, len, name, error);
  if (!ok)
    g_clear_pointer (&image, graft_image_free);
  return image;
}
