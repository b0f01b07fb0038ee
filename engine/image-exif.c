/* image-exif.c: the EXIF orientation tag, and turning images upright.
 *
 * Phones store photos as the sensor saw them and record in EXIF tag 0x0112
 * how to turn them; a viewer (and the person labelling the photo) sees the
 * turned image, so training must too.
 */
#include "image-private.h"

#include <string.h>

#define EXIF_TAG_ORIENTATION 0x0112
#define EXIF_TYPE_SHORT 3
#define EXIF_TYPE_LONG 4

typedef struct
{
  const guint8 *data;
  size_t len;
  gboolean big_endian;
} ExifReader;

static guint32
read_u16 (const ExifReader *r, size_t offset)
{
  const guint8 *p = r->data + offset;
  return r->big_endian ? (guint32) (p[0] << 8 | p[1])
                       : (guint32) (p[1] << 8 | p[0]);
}

static guint32
read_u32 (const ExifReader *r, size_t offset)
{
  const guint8 *p = r->data + offset;
  if (r->big_endian)
    return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 |
           p[3];
  return (guint32) p[3] << 24 | (guint32) p[2] << 16 | (guint32) p[1] << 8 |
         p[0];
}

int
graft_exif_orientation (const guint8 *data, size_t len)
{
  ExifReader r;
  guint32 ifd, count;

  /* JPEG APP1 payloads start with "Exif\0\0"; PNG eXIf usually does not. */
  if (len >= 6 && memcmp (data, "Exif\0\0", 6) == 0)
    {
      data += 6;
      len -= 6;
    }
  if (len < 8)
    return 1;
  if (memcmp (data, "II*\0", 4) == 0)
    r.big_endian = FALSE;
  else if (memcmp (data, "MM\0*", 4) == 0)
    r.big_endian = TRUE;
  else
    return 1;
  r.data = data;
  r.len = len;

  /* Orientation lives in IFD0; each entry is 12 bytes after a 2-byte
   * count, and the whole directory must lie inside the block. */
  ifd = read_u32 (&r, 4);
  if (ifd < 8 || (size_t) ifd > len - 2)
    return 1;
  count = read_u16 (&r, ifd);
  if ((size_t) count > (len - ifd - 2) / 12)
    return 1;
  for (guint32 i = 0; i < count; i++)
    {
      size_t entry = ifd + 2 + (size_t) i * 12;
      guint32 value;

      if (read_u16 (&r, entry) != EXIF_TAG_ORIENTATION)
        continue;
      if (read_u32 (&r, entry + 4) != 1)
        return 1;
      /* The value sits in the first bytes of the 4-byte value field. */
      if (read_u16 (&r, entry + 2) == EXIF_TYPE_SHORT)
        value = read_u16 (&r, entry + 8);
      else if (read_u16 (&r, entry + 2) == EXIF_TYPE_LONG)
        value = read_u32 (&r, entry + 8);
      else
        return 1;
      return value >= 1 && value <= 8 ? (int) value : 1;
    }
  return 1;
}

GraftImage *
graft_image_apply_orientation (GraftImage *image,
                               int orientation,
                               const char *name,
                               GError **error)
{
  /* Orientations 5..8 swap the axes. */
  gboolean transposed = orientation >= 5 && orientation <= 8;
  int w = image->width, h = image->height;
  GraftImage *out;

  if (orientation < 2 || orientation > 8)
    return image;
  out = graft_image_new (transposed ? h : w, transposed ? w : h, name, error);
  if (out == NULL)
    {
      graft_image_free (image);
      return NULL;
    }

  /* For each upright pixel (x, y), the stored pixel (sx, sy) it shows. */
  for (int y = 0; y < out->height; y++)
    for (int x = 0; x < out->width; x++)
      {
        int sx, sy;
        switch (orientation)
          {
          case 2: /* mirrored left-right */
            sx = w - 1 - x, sy = y;
            break;
          case 3: /* turned 180 degrees */
            sx = w - 1 - x, sy = h - 1 - y;
            break;
          case 4: /* mirrored top-bottom */
            sx = x, sy = h - 1 - y;
            break;
          case 5: /* transposed */
            sx = y, sy = x;
            break;
          case 6: /* needs a quarter turn clockwise */
            sx = y, sy = h - 1 - x;
            break;
          case 7: /* transversed */
            sx = w - 1 - y, sy = h - 1 - x;
            break;
          default: /* 8: needs a quarter turn counter-clockwise */
            sx = w - 1 - y, sy = x;
            break;
          }
        memcpy (out->rgb + ((size_t) y * out->width + x) * 3,
                image->rgb + ((size_t) sy * w + sx) * 3, 3);
      }
  graft_image_free (image);
  return out;
}
