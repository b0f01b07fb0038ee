/* image-gif.c: the first frame of a GIF, through giflib.
 *
 * Read record by record (not DGifSlurp, which would decode every frame of
 * an animation). The frame is drawn on a white canvas of the logical
 * screen's size; transparent pixels stay white.
 */
#include "image-private.h"

#include <gif_lib.h>
#include <string.h>

typedef struct
{
  const guint8 *data;
  size_t len, pos;
} GifSource;

static int
read_gif_bytes (GifFileType *gif, GifByteType *out, int n)
{
  GifSource *source = gif->UserData;
  size_t count = MIN ((size_t) MAX (n, 0), source->len - source->pos);

  memcpy (out, source->data + source->pos, count);
  source->pos += count;
  return (int) count;
}

static void
set_gif_error (GError **error, const char *name, int code)
{
  if (code == D_GIF_ERR_READ_FAILED || code == D_GIF_ERR_EOF_TOO_SOON)
    g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                 "%s: truncated GIF data", name);
  else
    {
      const char *message = GifErrorString (code);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: invalid GIF data (%s)", name,
                   message != NULL ? message : "unknown error");
    }
}

/* The transparent color index from a Graphic Control Extension, or -1. */
static int
read_extension (GifFileType *gif, int *transparent)
{
  GifByteType *block = NULL;
  int code;

  if (DGifGetExtension (gif, &code, &block) == GIF_ERROR)
    return GIF_ERROR;
  if (code == GRAPHICS_EXT_FUNC_CODE && block != NULL && block[0] >= 4)
    *transparent = (block[1] & 1) ? block[4] : -1;
  while (block != NULL)
    if (DGifGetExtensionNext (gif, &block) == GIF_ERROR)
      return GIF_ERROR;
  return GIF_OK;
}

/* Draws the frame's rows onto the canvas, clipped to it. */
static int
draw_frame (GifFileType *gif, GraftImage *canvas, int transparent)
{
  static const int pass_start[4] = { 0, 4, 2, 1 };
  static const int pass_step[4] = { 8, 8, 4, 2 };
  const GifImageDesc *desc = &gif->Image;
  const ColorMapObject *map =
      desc->ColorMap != NULL ? desc->ColorMap : gif->SColorMap;
  int n_passes = desc->Interlace ? 4 : 1;
  g_autofree GifPixelType *line = g_new (GifPixelType, desc->Width);

  for (int pass = 0; pass < n_passes; pass++)
    for (int y = desc->Interlace ? pass_start[pass] : 0; y < desc->Height;
         y += desc->Interlace ? pass_step[pass] : 1)
      {
        int cy = desc->Top + y;
        guint8 *row = canvas->rgb + (size_t) cy * canvas->width * 3;

        if (DGifGetLine (gif, line, desc->Width) == GIF_ERROR)
          return GIF_ERROR;
        if (cy >= canvas->height)
          continue;
        for (int x = 0; x < desc->Width; x++)
          {
            int cx = desc->Left + x;
            if (cx >= canvas->width || line[x] == transparent)
              continue;
            if (line[x] < map->ColorCount)
              {
                const GifColorType *color = &map->Colors[line[x]];
                row[3 * cx] = color->Red;
                row[3 * cx + 1] = color->Green;
                row[3 * cx + 2] = color->Blue;
              }
            else
              memset (row + 3 * cx, 0, 3);
          }
      }
  return GIF_OK;
}

GraftImage *
graft_image_decode_gif (const guint8 *data,
                        size_t len,
                        const char *name,
                        int min_side,
                        int *orientation,
                        GError **error)
{
  GifSource source = { data, len, 0 };
  GraftImage *canvas = NULL;
  GifFileType *gif;
  int gif_error = 0, transparent = -1;
  GifRecordType type = UNDEFINED_RECORD_TYPE;

  *orientation = 1;
  gif = DGifOpen (&source, read_gif_bytes, &gif_error);
  if (gif == NULL)
    {
      set_gif_error (error, name, gif_error);
      return NULL;
    }

  do
    {
      if (DGifGetRecordType (gif, &type) == GIF_ERROR)
        break;
      if (type == EXTENSION_RECORD_TYPE)
        {
          if (read_extension (gif, &transparent) == GIF_ERROR)
            break;
        }
      else if (type == IMAGE_DESC_RECORD_TYPE)
        {
          const GifImageDesc *desc = &gif->Image;
          gint64 width = gif->SWidth, height = gif->SHeight;

          if (DGifGetImageDesc (gif) == GIF_ERROR)
            break;
          /* A zero logical screen occurs in the wild: use the frame. */
          if (width == 0 || height == 0)
            width = desc->Left + desc->Width, height = desc->Top + desc->Height;
          if (!graft_image_check_size (desc->Width, desc->Height, name,
                                       error) ||
              !graft_image_check_size (width, height, name, error))
            break;
          if (desc->ColorMap == NULL && gif->SColorMap == NULL)
            {
              g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                           "%s: invalid GIF data (no color table)", name);
              break;
            }
          canvas = graft_image_new ((int) width, (int) height, name, error);
          if (canvas == NULL)
            break;
          memset (canvas->rgb, 255,
                  (size_t) canvas->width * canvas->height * 3);
          if (draw_frame (gif, canvas, transparent) == GIF_ERROR)
            g_clear_pointer (&canvas, graft_image_free);
          break;
        }
    }
  while (type != TERMINATE_RECORD_TYPE);

  if (canvas == NULL && error != NULL && *error == NULL)
    {
      if (type == TERMINATE_RECORD_TYPE)
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                     "%s: GIF without an image", name);
      else
        set_gif_error (error, name, gif->Error);
    }
  DGifCloseFile (gif, &gif_error);
  return canvas;
}
