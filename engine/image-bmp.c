/* image-bmp.c: Windows bitmaps, parsed here.
 *
 * Uncompressed only: 1/4/8-bit palette, 16/32-bit with bit masks
 * (BI_RGB or BI_BITFIELDS), 24-bit; bottom-up (positive height) or
 * top-down (negative height). Every header field is checked against the
 * file's length before a pixel is read.
 */
#include "image-private.h"

#include <string.h>

#define FILE_HEADER_BYTES 14
#define CORE_HEADER_BYTES 12 /* OS/2 BITMAPCOREHEADER */
#define INFO_HEADER_BYTES 40 /* BITMAPINFOHEADER */

enum
{
  BI_RGB = 0,
  BI_RLE8 = 1,
  BI_RLE4 = 2,
  BI_BITFIELDS = 3,
  BI_JPEG = 4,
  BI_PNG = 5,
  BI_ALPHABITFIELDS = 6,
};

typedef struct
{
  guint32 mask;
  int shift, bits;
} BitField;

typedef struct
{
  const char *name;
  GError **error;
  gint64 width, height; /* height > 0 */
  gboolean top_down;
  int bpp;
  guint32 compression;
  BitField fields[4]; /* R, G, B, A */
  guint8 palette[256][3];
} BmpHeader;

static guint32
u16_at (const guint8 *p)
{
  return (guint32) (p[0] | p[1] << 8);
}

static guint32
u32_at (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 |
         (guint32) p[3] << 24;
}

static gboolean
fail (const BmpHeader *h, int code, const char *problem)
{
  g_set_error (h->error, GRAFT_ERROR, code, "%s: %s", h->name, problem);
  return FALSE;
}

/* A mask must be one run of set bits inside the pixel's bpp bits. */
static gboolean
set_bit_field (BitField *field, guint32 mask, int bpp)
{
  field->mask = mask;
  field->shift = field->bits = 0;
  if (mask == 0)
    return TRUE;
  if (bpp < 32 && (mask >> bpp) != 0)
    return FALSE;
  field->shift = __builtin_ctz (mask);
  field->bits = __builtin_popcount (mask);
  return (mask >> field->shift) == (guint32) ((1ull << field->bits) - 1);
}

static guint8
extract_field (const BitField *field, guint32 pixel)
{
  guint64 max, value;

  if (field->bits == 0)
    return 0;
  max = (1ull << field->bits) - 1;
  value = (pixel & field->mask) >> field->shift;
  return (guint8) ((value * 255 + max / 2) / max);
}

static gboolean
parse_masks (BmpHeader *h, const guint8 *data, size_t len, size_t dib_size)
{
  guint32 masks[4] = { 0, 0, 0, 0 };

  if (h->compression == BI_BITFIELDS || h->compression == BI_ALPHABITFIELDS)
    {
      /* V3+ headers hold the masks; a 40-byte header is followed by them. */
      int n = h->compression == BI_ALPHABITFIELDS ? 4 : 3;
      size_t at = FILE_HEADER_BYTES + INFO_HEADER_BYTES;
      if (at + 4 * n > len)
        return fail (h, GRAFT_ERROR_PARSE, "truncated BMP header");
      for (int i = 0; i < n; i++)
        masks[i] = u32_at (data + at + 4 * i);
      if (dib_size >= 56 && n == 3)
        masks[3] = u32_at (data + at + 12);
    }
  else if (h->bpp == 16)
    masks[0] = 0x7c00, masks[1] = 0x03e0, masks[2] = 0x001f;
  else if (h->bpp == 32)
    masks[0] = 0xff0000, masks[1] = 0xff00, masks[2] = 0xff;

  for (int i = 0; i < 4; i++)
    if (!set_bit_field (&h->fields[i], masks[i], h->bpp))
      return fail (h, GRAFT_ERROR_PARSE, "invalid BMP color masks");
  return TRUE;
}

/* Reads the headers and palette; *pixel_offset is where row 0 starts. */
static gboolean
parse_header (BmpHeader *h,
              const guint8 *data,
              size_t len,
              size_t *pixel_offset)
{
  size_t dib_size, palette_offset, entry_bytes, n_colors;
  gint64 height;

  if (len < FILE_HEADER_BYTES + 4)
    return fail (h, GRAFT_ERROR_PARSE, "truncated BMP header");
  *pixel_offset = u32_at (data + 10);
  dib_size = u32_at (data + 14);
  if (dib_size != CORE_HEADER_BYTES && dib_size < INFO_HEADER_BYTES)
    return fail (h, GRAFT_ERROR_PARSE, "invalid BMP header size");
  if (dib_size > len - FILE_HEADER_BYTES)
    return fail (h, GRAFT_ERROR_PARSE, "truncated BMP header");

  if (dib_size == CORE_HEADER_BYTES)
    {
      h->width = u16_at (data + 18);
      height = u16_at (data + 20);
      if (u16_at (data + 22) != 1)
        return fail (h, GRAFT_ERROR_PARSE, "invalid BMP plane count");
      h->bpp = (int) u16_at (data + 24);
      h->compression = BI_RGB;
      n_colors = 0;
      entry_bytes = 3;
    }
  else
    {
      h->width = (gint32) u32_at (data + 18);
      height = (gint32) u32_at (data + 22);
      if (u16_at (data + 26) != 1)
        return fail (h, GRAFT_ERROR_PARSE, "invalid BMP plane count");
      h->bpp = (int) u16_at (data + 28);
      h->compression = u32_at (data + 30);
      n_colors = u32_at (data + 46);
      entry_bytes = 4;
    }
  h->top_down = height < 0;
  h->height = height < 0 ? -height : height;
  if (!graft_image_check_size (h->width, h->height, h->name, h->error))
    return FALSE;

  switch (h->compression)
    {
    case BI_RGB:
      break;
    case BI_BITFIELDS:
    case BI_ALPHABITFIELDS:
      if (h->bpp != 16 && h->bpp != 32)
        return fail (h, GRAFT_ERROR_PARSE,
                     "invalid BMP (bit masks need 16 or 32 bits per pixel)");
      break;
    case BI_RLE8:
    case BI_RLE4:
      return fail (h, GRAFT_ERROR_UNSUPPORTED,
                   "run-length compressed BMP is not supported");
    case BI_JPEG:
    case BI_PNG:
      return fail (h, GRAFT_ERROR_UNSUPPORTED,
                   "BMP holding JPEG or PNG data is not supported");
    default:
      return fail (h, GRAFT_ERROR_PARSE, "invalid BMP compression");
    }
  if (h->bpp != 1 && h->bpp != 4 && h->bpp != 8 && h->bpp != 16 &&
      h->bpp != 24 && h->bpp != 32)
    return fail (h, GRAFT_ERROR_PARSE, "invalid BMP bits per pixel");
  if (!parse_masks (h, data, len, dib_size))
    return FALSE;

  memset (h->palette, 0, sizeof h->palette);
  if (h->bpp <= 8)
    {
      palette_offset = FILE_HEADER_BYTES + dib_size;
      if (n_colors == 0 || n_colors > (1u << h->bpp))
        n_colors = 1u << h->bpp;
      if (palette_offset + n_colors * entry_bytes > len)
        return fail (h, GRAFT_ERROR_PARSE, "truncated BMP palette");
      for (size_t i = 0; i < n_colors; i++)
        {
          const guint8 *bgr = data + palette_offset + i * entry_bytes;
          h->palette[i][0] = bgr[2];
          h->palette[i][1] = bgr[1];
          h->palette[i][2] = bgr[0];
        }
    }
  if (*pixel_offset < FILE_HEADER_BYTES + dib_size || *pixel_offset >= len)
    return fail (h, GRAFT_ERROR_PARSE, "invalid BMP pixel data offset");
  return TRUE;
}

static void
decode_row (const BmpHeader *h,
            guint8 *out,
            const guint8 *in,
            gboolean use_alpha)
{
  for (gint64 x = 0; x < h->width; x++, out += 3)
    {
      guint32 pixel;
      switch (h->bpp)
        {
        case 1:
        case 4:
        case 8:
          {
            int per_byte = 8 / h->bpp;
            int shift = 8 - h->bpp * (int) (x % per_byte + 1);
            int index = (in[x / per_byte] >> shift) & ((1 << h->bpp) - 1);
            memcpy (out, h->palette[index], 3);
            continue;
          }
        case 24:
          out[0] = in[3 * x + 2];
          out[1] = in[3 * x + 1];
          out[2] = in[3 * x];
          continue;
        case 16:
          pixel = u16_at (in + 2 * x);
          break;
        default:
          pixel = u32_at (in + 4 * x);
          break;
        }
      for (int c = 0; c < 3; c++)
        out[c] = extract_field (&h->fields[c], pixel);
      if (use_alpha)
        {
          guint8 alpha = extract_field (&h->fields[3], pixel);
          for (int c = 0; c < 3; c++)
            out[c] = graft_over_white (out[c], alpha);
        }
    }
}

/* Many writers leave the alpha byte 0 though the image is opaque: alpha
 * counts only when some pixel has a non-zero one. */
static gboolean
alpha_is_used (const BmpHeader *h, const guint8 *pixels, size_t stride)
{
  if (h->fields[3].bits == 0)
    return FALSE;
  for (gint64 y = 0; y < h->height; y++)
    {
      const guint8 *row = pixels + (size_t) y * stride;
      for (gint64 x = 0; x < h->width; x++)
        {
          guint32 pixel =
              h->bpp == 16 ? u16_at (row + 2 * x) : u32_at (row + 4 * x);
          if ((pixel & h->fields[3].mask) != 0)
            return TRUE;
        }
    }
  return FALSE;
}

GraftImage *
graft_image_decode_bmp (const guint8 *data,
                        size_t len,
                        const char *name,
                        int min_side,
                        int *orientation,
                        GError **error)
{
  BmpHeader h = { .name = name, .error = error };
  size_t pixel_offset, stride, last_row_bytes;
  const guint8 *pixels;
  gboolean use_alpha;
  GraftImage *image;

  *orientation = 1;
  if (!parse_header (&h, data, len, &pixel_offset))
    return NULL;

  /* Rows are padded to 4 bytes; the last row's padding may be missing. */
  stride = (size_t) ((h.width * h.bpp + 31) / 32) * 4;
  last_row_bytes = (size_t) ((h.width * h.bpp + 7) / 8);
  if ((guint64) (len - pixel_offset) <
      (guint64) stride * (guint64) (h.height - 1) + last_row_bytes)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_PARSE,
                   "%s: truncated BMP data", name);
      return NULL;
    }
  pixels = data + pixel_offset;
  use_alpha = alpha_is_used (&h, pixels, stride);

  image = graft_image_new ((int) h.width, (int) h.height, name, error);
  if (image == NULL)
    return NULL;
  for (gint64 y = 0; y < h.height; y++)
    {
      gint64 stored = h.top_down ? y : h.height - 1 - y;
      decode_row (&h, image->rgb + (size_t) y * image->width * 3,
                  pixels + (size_t) stored * stride, use_alpha);
    }
  return image;
}
