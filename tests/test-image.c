/* test-image.c: image decoding, EXIF orientation, limits, hostile files,
 * and preprocessing. Fixtures: tests/data/images (see its README). */
#include "graft-error.h"
#include "image-private.h"
#include "image.h"
#include "preprocess.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

static void assert_refused (const guint8 *data,
                            size_t len,
                            const char *name,
                            int code,
                            const char *fragment);

static char *
fixture_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "images", name, NULL);
}

static guint8 *
read_fixture (const char *name, size_t *len)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr (GError) error = NULL;
  char *data = NULL;

  g_file_get_contents (path, &data, len, &error);
  g_assert_no_error (error);
  return (guint8 *) data;
}

static GraftImage *
load_fixture (const char *name, int min_side)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr (GError) error = NULL;
  GraftImage *image = graft_image_load (path, min_side, &error);

  g_assert_no_error (error);
  g_assert_nonnull (image);
  return image;
}

static const guint8 *
pixel_at (const GraftImage *image, int x, int y)
{
  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (x, <, image->width);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (y, <, image->height);
  return image->rgb + ((size_t) y * image->width + x) * 3;
}

static gboolean
color_near (const guint8 *p, int r, int g, int b, int tolerance)
{
  return abs (p[0] - r) <= tolerance && abs (p[1] - g) <= tolerance &&
         abs (p[2] - b) <= tolerance;
}

static void
assert_color (const char *what,
              const GraftImage *image,
              int x,
              int y,
              int r,
              int g,
              int b,
              int tolerance)
{
  const guint8 *p = pixel_at (image, x, y);
  if (!color_near (p, r, g, b, tolerance))
    g_error ("%s: pixel (%d, %d) is %d,%d,%d, expected %d,%d,%d +- %d", what, x,
             y, p[0], p[1], p[2], r, g, b, tolerance);
}

typedef enum
{
  CORNER_TL,
  CORNER_TR,
  CORNER_BL,
  CORNER_BR
} Corner;

/* The center of one quadrant of the image. */
static const guint8 *
quadrant (const GraftImage *image, Corner corner)
{
  int x = (corner == CORNER_TL || corner == CORNER_BL) ? image->width / 4
                                                       : image->width * 3 / 4;
  int y = (corner == CORNER_TL || corner == CORNER_TR) ? image->height / 4
                                                       : image->height * 3 / 4;
  return pixel_at (image, x, y);
}

/* ---- every decoder path ------------------------------------------------ */

typedef enum
{
  EXPECT_QUADRANTS,    /* red, green / blue, white */
  EXPECT_ALPHA,        /* red, green / half-transparent blue, transparent */
  EXPECT_ALPHA_BINARY, /* red, green / (either), transparent */
  EXPECT_GRAY,         /* gray of the quadrants */
  EXPECT_GRAY_ALPHA,
} Expect;

typedef struct
{
  const char *file;
  Expect expect;
  int tolerance;
} DecodeCase;

static const DecodeCase decode_cases[] = {
  { "q-baseline.jpg", EXPECT_QUADRANTS, 24 },
  { "q-progressive.jpg", EXPECT_QUADRANTS, 24 },
  { "q-gray.jpg", EXPECT_GRAY, 6 },
  { "q-cmyk.jpg", EXPECT_QUADRANTS, 24 },
  { "q.png", EXPECT_QUADRANTS, 0 },
  { "q-palette.png", EXPECT_QUADRANTS, 0 },
  { "q-interlaced.png", EXPECT_QUADRANTS, 0 },
  { "q-16.png", EXPECT_QUADRANTS, 0 },
  { "q-gray.png", EXPECT_GRAY, 0 },
  { "q-alpha.png", EXPECT_ALPHA, 1 },
  { "q-gray-alpha.png", EXPECT_GRAY_ALPHA, 1 },
  { "q-trns.png", EXPECT_ALPHA_BINARY, 0 },
  { "q-24.bmp", EXPECT_QUADRANTS, 0 },
  { "q-24-topdown.bmp", EXPECT_QUADRANTS, 0 },
  { "q-32-bitfields.bmp", EXPECT_QUADRANTS, 0 },
  { "q-32-alpha.bmp", EXPECT_ALPHA, 1 },
  { "q-16-565.bmp", EXPECT_QUADRANTS, 0 },
  { "q-8.bmp", EXPECT_QUADRANTS, 0 },
  { "q-8-topdown.bmp", EXPECT_QUADRANTS, 0 },
  { "q-4.bmp", EXPECT_QUADRANTS, 0 },
  { "q.gif", EXPECT_QUADRANTS, 0 },
  { "q-interlaced.gif", EXPECT_QUADRANTS, 0 },
  { "q-trns.gif", EXPECT_ALPHA_BINARY, 0 },
  { "q-lossy.webp", EXPECT_QUADRANTS, 40 },
  { "q-lossless.webp", EXPECT_QUADRANTS, 0 },
  { "q-alpha.webp", EXPECT_ALPHA, 1 },
  { "q-anim.webp", EXPECT_QUADRANTS, 0 },
  { "q.tif", EXPECT_QUADRANTS, 0 },
  { "q-alpha.tif", EXPECT_ALPHA, 1 },
};

static void
check_gray (const char *file,
            const GraftImage *image,
            int tolerance,
            gboolean with_alpha)
{
  const guint8 *red = quadrant (image, CORNER_TL);
  const guint8 *green = quadrant (image, CORNER_TR);
  const guint8 *blue = quadrant (image, CORNER_BL);
  const guint8 *white = quadrant (image, CORNER_BR);

  for (int corner = CORNER_TL; corner <= CORNER_BR; corner++)
    {
      const guint8 *p = quadrant (image, corner);
      if (abs (p[0] - p[1]) > tolerance || abs (p[1] - p[2]) > tolerance)
        g_error ("%s: quadrant %d is not gray", file, corner);
    }
  /* Any luma weighs green over red over blue. */
  g_assert_cmpint (green[0], >, red[0] + 30);
  g_assert_cmpint (red[0], >, 30);
  g_assert_cmpint (white[0], >=, 250 - tolerance);
  if (!with_alpha)
    g_assert_cmpint (red[0], >, blue[0] + 20);
}

static void
test_decode_formats (void)
{
  for (size_t i = 0; i < G_N_ELEMENTS (decode_cases); i++)
    {
      const DecodeCase *c = &decode_cases[i];
      g_autoptr (GraftImage) image = load_fixture (c->file, 0);
      int t = c->tolerance;
      const guint8 *bl;

      g_test_message ("%s", c->file);
      g_assert_cmpint (image->width, ==, 64);
      g_assert_cmpint (image->height, ==, 48);
      switch (c->expect)
        {
        case EXPECT_QUADRANTS:
          assert_color (c->file, image, 16, 12, 255, 0, 0, t);
          assert_color (c->file, image, 48, 12, 0, 255, 0, t);
          assert_color (c->file, image, 16, 36, 0, 0, 255, t);
          assert_color (c->file, image, 48, 36, 255, 255, 255, t);
          /* And the quadrants' borders sit where they should. */
          if (t == 0)
            {
              assert_color (c->file, image, 31, 23, 255, 0, 0, 0);
              assert_color (c->file, image, 32, 23, 0, 255, 0, 0);
              assert_color (c->file, image, 31, 24, 0, 0, 255, 0);
              assert_color (c->file, image, 63, 47, 255, 255, 255, 0);
              assert_color (c->file, image, 0, 0, 255, 0, 0, 0);
            }
          break;
        case EXPECT_ALPHA:
          assert_color (c->file, image, 16, 12, 255, 0, 0, t);
          assert_color (c->file, image, 48, 12, 0, 255, 0, t);
          /* 50% blue over white */
          assert_color (c->file, image, 16, 36, 127, 127, 255, t + 1);
          /* transparent black over white */
          assert_color (c->file, image, 48, 36, 255, 255, 255, t);
          break;
        case EXPECT_ALPHA_BINARY:
          assert_color (c->file, image, 16, 12, 255, 0, 0, t);
          assert_color (c->file, image, 48, 12, 0, 255, 0, t);
          assert_color (c->file, image, 48, 36, 255, 255, 255, t);
          /* Half transparency rounds to blue or to white. */
          bl = pixel_at (image, 16, 36);
          g_assert_true (color_near (bl, 0, 0, 255, 0) ||
                         color_near (bl, 255, 255, 255, 0));
          break;
        case EXPECT_GRAY:
          check_gray (c->file, image, t, FALSE);
          break;
        case EXPECT_GRAY_ALPHA:
          check_gray (c->file, image, t, TRUE);
          break;
        }
    }
}

static void
test_sniff (void)
{
  static const struct
  {
    const char *file, *format;
  } cases[] = {
    { "q-baseline.jpg", "JPEG" }, { "q.png", "PNG" },
    { "q-24.bmp", "BMP" },        { "q.gif", "GIF" },
    { "q-lossy.webp", "WebP" },   { "q.tif", "TIFF" },
  };
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      size_t len;
      g_autofree guint8 *data = read_fixture (cases[i].file, &len);
      g_assert_cmpstr (graft_image_sniff_format (data, len), ==,
                       cases[i].format);
    }
  g_assert_null (graft_image_sniff_format ((const guint8 *) "hello", 5));
  g_assert_null (graft_image_sniff_format ((const guint8 *) "BM", 2));
  g_assert_null (graft_image_sniff_format (NULL, 0));
}

static void
test_save_png_roundtrip (void)
{
  g_autoptr (GraftImage) image = load_fixture ("q-24.bmp", 0);
  g_autoptr (GraftImage) again = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("graft-image-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "out.png", NULL);

  g_assert_true (graft_image_save_png (image, path, &error));
  g_assert_no_error (error);
  again = graft_image_load (path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->width, ==, image->width);
  g_assert_cmpint (again->height, ==, image->height);
  g_assert_cmpmem (again->rgb, (size_t) again->width * again->height * 3,
                   image->rgb, (size_t) image->width * image->height * 3);
  g_unlink (path);
  g_rmdir (dir);
}

/* A BMP with a 40-byte header, n_colors palette entries (RGB) and the
 * given rows, stored bottom-up. */
static GByteArray *
build_bmp (int bpp,
           int width,
           int height,
           const guint8 (*palette)[3],
           int n_colors,
           const guint8 *rows,
           size_t rows_len)
{
  GByteArray *bmp = g_byte_array_new ();
  guint8 header[54];
  size_t offset = sizeof header + 4 * (size_t) n_colors;

  memset (header, 0, sizeof header);
  memcpy (header, "BM", 2);
  header[2] = (guint8) (offset + rows_len); /* small files only */
  header[10] = (guint8) offset;
  header[14] = 40;
  header[18] = (guint8) width;
  header[22] = (guint8) height;
  header[26] = 1;
  header[28] = (guint8) bpp;
  header[46] = (guint8) n_colors;
  g_byte_array_append (bmp, header, sizeof header);
  for (int i = 0; i < n_colors; i++)
    g_byte_array_append (
        bmp, (const guint8[]){ palette[i][2], palette[i][1], palette[i][0], 0 },
        4);
  g_byte_array_append (bmp, rows, (guint) rows_len);
  return bmp;
}

/* Bit order inside bytes and row padding, which the quadrant files (whose
 * colors change on byte boundaries) cannot show. */
static void
test_bmp_packed_pixels (void)
{
  static const guint8 bw[2][3] = { { 0, 0, 0 }, { 255, 255, 255 } };
  static const guint8 rgb[4][3] = {
    { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 }, { 0, 0, 255 }
  };
  /* 1-bit, 9x2: bottom row 011111110, top row 101010101. */
  static const guint8 one_bit[] = { 0x7f, 0x00, 0, 0, 0xaa, 0x80, 0, 0 };
  /* 4-bit, 3x1: indices 1, 2, 3 */
  static const guint8 four_bit[] = { 0x12, 0x30, 0, 0 };
  /* 16-bit BI_RGB is 5-5-5: red, blue */
  static const guint8 sixteen[] = { 0x00, 0x7c, 0x1f, 0x00 };
  g_autoptr (GByteArray) a =
      build_bmp (1, 9, 2, bw, 2, one_bit, sizeof one_bit);
  g_autoptr (GByteArray) b =
      build_bmp (4, 3, 1, rgb, 4, four_bit, sizeof four_bit);
  g_autoptr (GByteArray) c =
      build_bmp (16, 2, 1, NULL, 0, sixteen, sizeof sixteen);
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftImage) ia = NULL, ib = NULL, ic = NULL;

  ia = graft_image_load_from_memory (a->data, a->len, "1.bmp", 0, &error);
  g_assert_no_error (error);
  for (int x = 0; x < 9; x++)
    {
      int top = x % 2 == 0 ? 255 : 0, bottom = x == 0 || x == 8 ? 0 : 255;
      assert_color ("1-bit", ia, x, 0, top, top, top, 0);
      assert_color ("1-bit", ia, x, 1, bottom, bottom, bottom, 0);
    }
  ib = graft_image_load_from_memory (b->data, b->len, "4.bmp", 0, &error);
  g_assert_no_error (error);
  assert_color ("4-bit", ib, 0, 0, 255, 0, 0, 0);
  assert_color ("4-bit", ib, 1, 0, 0, 255, 0, 0);
  assert_color ("4-bit", ib, 2, 0, 0, 0, 255, 0);
  ic = graft_image_load_from_memory (c->data, c->len, "16.bmp", 0, &error);
  g_assert_no_error (error);
  assert_color ("16-bit", ic, 0, 0, 255, 0, 0, 0);
  assert_color ("16-bit", ic, 1, 0, 0, 0, 255, 0);

  /* The same files with a missing last byte, a bad plane count, RLE. */
  assert_refused (a->data, a->len - 3, "1.bmp", GRAFT_ERROR_PARSE,
                  "truncated BMP data");
  a->data[26] = 2;
  assert_refused (a->data, a->len, "1.bmp", GRAFT_ERROR_PARSE, "plane");
  b->data[30] = 2;
  assert_refused (b->data, b->len, "4.bmp", GRAFT_ERROR_UNSUPPORTED,
                  "run-length");
}

/* ---- EXIF orientation -------------------------------------------------- */

/* Where the stored top-left (red) and top-right (green) quadrants end up
 * once upright, for orientations 1..8. */
static const Corner red_corner[9] = { 0,         CORNER_TL, CORNER_TR,
                                      CORNER_BR, CORNER_BL, CORNER_TL,
                                      CORNER_TR, CORNER_BR, CORNER_BL };
static const Corner green_corner[9] = { 0,         CORNER_TR, CORNER_TL,
                                        CORNER_BL, CORNER_BR, CORNER_BL,
                                        CORNER_BR, CORNER_TR, CORNER_TL };

static void
assert_oriented (const char *what,
                 const GraftImage *image,
                 int orientation,
                 int tolerance)
{
  gboolean turned = orientation >= 5;
  const guint8 *red = quadrant (image, red_corner[orientation]);
  const guint8 *green = quadrant (image, green_corner[orientation]);

  g_assert_cmpint (image->width, ==, turned ? 48 : 64);
  g_assert_cmpint (image->height, ==, turned ? 64 : 48);
  if (!color_near (red, 255, 0, 0, tolerance) ||
      !color_near (green, 0, 255, 0, tolerance))
    g_error ("%s: orientation %d: red or green in the wrong corner", what,
             orientation);
}

/* An APP1 Exif segment holding just the orientation, in either byte
 * order, with a padding entry before it. */
static GByteArray *
exif_segment (int orientation, gboolean big_endian)
{
  GByteArray *seg = g_byte_array_new ();
  guint8 tiff[38];
  int n = 0;

#define PUT16(v)                                                               \
  do                                                                           \
    {                                                                          \
      guint16 v16 = (guint16) (v);                                             \
      tiff[n++] = big_endian ? v16 >> 8 : v16 & 0xff;                          \
      tiff[n++] = big_endian ? v16 & 0xff : v16 >> 8;                          \
    }                                                                          \
  while (0)
#define PUT32(v)                                                               \
  do                                                                           \
    {                                                                          \
      guint32 v32 = (guint32) (v);                                             \
      PUT16 (big_endian ? v32 >> 16 : v32 & 0xffff);                           \
      PUT16 (big_endian ? v32 & 0xffff : v32 >> 16);                           \
    }                                                                          \
  while (0)
  memcpy (tiff, big_endian ? "MM\0*" : "II*\0", 4);
  n = 4;
  PUT32 (8);      /* IFD0 */
  PUT16 (2);      /* entries */
  PUT16 (0x010f); /* Make, ASCII, 4 bytes inline: "Cam" */
  PUT16 (2);
  PUT32 (4);
  memcpy (tiff + n, "Cam", 4);
  n += 4;
  PUT16 (0x0112); /* Orientation, SHORT, 1 */
  PUT16 (3);
  PUT32 (1);
  PUT16 (orientation);
  PUT16 (0);
  PUT32 (0); /* no next IFD */
#undef PUT16
#undef PUT32
  g_assert_cmpint (n, ==, (int) sizeof tiff);

  g_byte_array_append (seg, (const guint8 *) "\xff\xe1", 2);
  g_byte_array_append (
      seg, (const guint8[]){ 0, (guint8) (2 + 6 + sizeof tiff) }, 2);
  g_byte_array_append (seg, (const guint8 *) "Exif\0\0", 6);
  g_byte_array_append (seg, tiff, sizeof tiff);
  return seg;
}

static void
test_exif_orientation_jpeg (void)
{
  size_t len;
  g_autofree guint8 *jpeg = read_fixture ("q-baseline.jpg", &len);

  for (int big_endian = 0; big_endian <= 1; big_endian++)
    for (int orientation = 1; orientation <= 8; orientation++)
      {
        g_autoptr (GByteArray) file = g_byte_array_new ();
        g_autoptr (GByteArray) seg = exif_segment (orientation, big_endian);
        g_autoptr (GraftImage) image = NULL;
        g_autoptr (GError) error = NULL;

        /* SOI, then our APP1, then the rest of the file. */
        g_byte_array_append (file, jpeg, 2);
        g_byte_array_append (file, seg->data, seg->len);
        g_byte_array_append (file, jpeg + 2, len - 2);
        image = graft_image_load_from_memory (file->data, file->len, "o.jpg", 0,
                                              &error);
        g_assert_no_error (error);
        assert_oriented ("jpeg", image, orientation, 24);
      }
}

static void
test_exif_orientation_other_formats (void)
{
  g_autoptr (GraftImage) png = load_fixture ("q-exif6.png", 0);
  g_autoptr (GraftImage) tiff = load_fixture ("q-orient6.tif", 0);
  g_autoptr (GraftImage) webp = load_fixture ("q-exif8.webp", 0);

  assert_oriented ("png eXIf", png, 6, 0);
  assert_oriented ("tiff Orientation", tiff, 6, 0);
  assert_oriented ("webp EXIF", webp, 8, 0);
}

static void
test_exif_parser_hostile (void)
{
  g_autoptr (GByteArray) seg = exif_segment (6, FALSE);
  const guint8 *block = seg->data + 4; /* "Exif\0\0..." */
  size_t len = seg->len - 4;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);

  g_assert_cmpint (graft_exif_orientation (block, len), ==, 6);
  /* Every truncation, in a buffer of exactly that size (ASan sees any
   * read past it): only the complete block yields 6. */
  for (size_t n = 0; n < len; n++)
    {
      g_autofree guint8 *cut = g_memdup2 (block, MAX (n, 1));
      int o = graft_exif_orientation (cut, n);
      g_assert_cmpint (o, ==, n >= 6 + 34 ? 6 : 1);
    }
  /* IFD offset outside, huge entry count, bad values. */
  {
    g_autofree guint8 *b = g_memdup2 (block, len);
    b[6 + 4] = 0xf0; /* IFD0 offset 0xf0 */
    g_assert_cmpint (graft_exif_orientation (b, len), ==, 1);
    memcpy (b, block, len);
    b[6 + 8] = 0xff, b[6 + 9] = 0xff; /* 65535 entries */
    g_assert_cmpint (graft_exif_orientation (b, len), ==, 1);
    memcpy (b, block, len);
    b[6 + 30] = 9; /* orientation 9 */
    g_assert_cmpint (graft_exif_orientation (b, len), ==, 1);
  }
  /* Random mutations never crash and give 1..8. */
  for (int i = 0; i < 2000; i++)
    {
      g_autofree guint8 *b = g_memdup2 (block, len);
      for (int k = 0; k < 3; k++)
        b[g_rand_int_range (rand, 6, (gint32) len)] =
            (guint8) g_rand_int (rand);
      int o = graft_exif_orientation (b, len);
      g_assert_cmpint (o, >=, 1);
      g_assert_cmpint (o, <=, 8);
    }
}

/* ---- reduced-size JPEG decoding ---------------------------------------- */

static void
test_jpeg_reduced_size (void)
{
  static const struct
  {
    int min_side, width, height;
  } cases[] = {
    { 0, 2000, 1500 },    { 224, 500, 375 },  { 188, 250, 188 },
    { 189, 500, 375 },    { 376, 1000, 750 }, { 1500, 2000, 1500 },
    { 5000, 2000, 1500 },
  };
  g_autoptr (GraftImage) full = load_fixture ("big-2000x1500.jpg", 0);

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GraftImage) image =
          load_fixture ("big-2000x1500.jpg", cases[i].min_side);
      g_assert_cmpint (image->width, ==, cases[i].width);
      g_assert_cmpint (image->height, ==, cases[i].height);
      /* The same picture: compare a few points with the full decode. */
      for (int k = 1; k < 4; k++)
        {
          const guint8 *a =
              pixel_at (full, full->width * k / 4, full->height * k / 4);
          const guint8 *b =
              pixel_at (image, image->width * k / 4, image->height * k / 4);
          g_assert_true (color_near (a, b[0], b[1], b[2], 12));
        }
    }
  /* Other formats ignore min_side. */
  {
    g_autoptr (GraftImage) png = load_fixture ("q.png", 8);
    g_assert_cmpint (png->width, ==, 64);
  }
}

/* ---- limits ------------------------------------------------------------ */

static guint32
crc32_of (const guint8 *data, size_t len)
{
  guint32 crc = 0xffffffff;
  for (size_t i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320 & (0u - (crc & 1)));
    }
  return ~crc;
}

static void
put_be32 (guint8 *p, guint32 v)
{
  p[0] = v >> 24, p[1] = v >> 16, p[2] = v >> 8, p[3] = (guint8) v;
}

static void
put_le32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) v, p[1] = v >> 8, p[2] = v >> 16, p[3] = v >> 24;
}

static void
assert_refused (const guint8 *data,
                size_t len,
                const char *name,
                int code,
                const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftImage) image =
      graft_image_load_from_memory (data, len, name, 0, &error);

  g_assert_null (image);
  g_assert_error (error, GRAFT_ERROR, code);
  g_assert_true (g_str_has_prefix (error->message, name));
  if (strstr (error->message, fragment) == NULL)
    g_error ("message “%s” lacks “%s”", error->message, fragment);
}

/* A PNG signature and IHDR declaring width x height, then a tiny IDAT. */
static void
png_header (guint8 out[57], guint32 width, guint32 height)
{
  static const guint8 idat[] = { 0,    0,    0,    10, 'I', 'D', 'A', 'T',
                                 0x78, 0x9c, 0x63, 0,  0,   0,   1,   0,
                                 1,    0,    0,    0,  0,   0 };
  memcpy (out, "\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
  put_be32 (out + 16, width);
  put_be32 (out + 20, height);
  memcpy (out + 24, "\x08\x02\0\0\0", 5);
  put_be32 (out + 29, crc32_of (out + 12, 17));
  memcpy (out + 33, idat, sizeof idat);
  out[55] = out[56] = 0;
}

static void
test_limits (void)
{
  guint8 png[57];
  guint8 bmp[54];
  size_t len;

  png_header (png, 50000, 50000);
  assert_refused (png, sizeof png, "big.png", GRAFT_ERROR_LIMIT,
                  "50000x50000 pixels is more than the 100-megapixel limit");
  png_header (png, 100000, 100000);
  assert_refused (png, sizeof png, "big.png", GRAFT_ERROR_LIMIT,
                  "100000x100000 pixels");
  png_header (png, 200000, 1);
  assert_refused (png, sizeof png, "wide.png", GRAFT_ERROR_LIMIT,
                  "65535-pixel limit");

  /* BMP: bottom-up and top-down declarations. */
  memset (bmp, 0, sizeof bmp);
  memcpy (bmp, "BM", 2);
  put_le32 (bmp + 10, 54);
  put_le32 (bmp + 14, 40);
  put_le32 (bmp + 18, 100000);
  put_le32 (bmp + 22, 100000);
  bmp[26] = 1, bmp[28] = 24;
  assert_refused (bmp, sizeof bmp, "big.bmp", GRAFT_ERROR_LIMIT,
                  "100000x100000 pixels");
  put_le32 (bmp + 18, 20000);
  put_le32 (bmp + 22, (guint32) -20000);
  assert_refused (bmp, sizeof bmp, "big.bmp", GRAFT_ERROR_LIMIT,
                  "20000x20000 pixels is more than the 100-megapixel limit");

  /* JPEG: the frame header of a real file, patched. */
  {
    g_autofree guint8 *jpeg = read_fixture ("q-baseline.jpg", &len);
    gboolean patched = FALSE;
    for (size_t i = 2; i + 9 < len && !patched; i++)
      if (jpeg[i] == 0xff && jpeg[i + 1] == 0xc0)
        {
          jpeg[i + 5] = 0xea, jpeg[i + 6] = 0x60; /* height 60000 */
          jpeg[i + 7] = 0xea, jpeg[i + 8] = 0x60; /* width 60000 */
          patched = TRUE;
        }
    g_assert_true (patched);
    assert_refused (jpeg, len, "big.jpg", GRAFT_ERROR_LIMIT,
                    "60000x60000 pixels is more than");
  }

  /* GIF: a 65535x65535 screen and frame. */
  {
    static const guint8 gif[] = {
      'G',  'I', 'F',  '8',  '9', 'a',  0xff, 0xff, 0xff, 0xff,
      0x80, 0,   0,    0,    0,   0,    255,  255,  255, /* two-color table */
      ',',  0,   0,    0,    0,   0xff, 0xff, 0xff, 0xff, 0,
      2,    2,   0x4c, 0x01, 0,   ';',
    };
    assert_refused (gif, sizeof gif, "big.gif", GRAFT_ERROR_LIMIT,
                    "65535x65535 pixels is more than");
  }

  /* WebP: a VP8X canvas of 16384x16384 around a 64x48 bitstream. */
  {
    g_autofree guint8 *webp = read_fixture ("q-exif8.webp", &len);
    g_autoptr (GError) error = NULL;
    g_assert_cmpmem (webp + 12, 4, "VP8X", 4);
    webp[24] = 0xff, webp[25] = 0x3f, webp[26] = 0; /* width - 1 */
    webp[27] = 0xff, webp[28] = 0x3f, webp[29] = 0; /* height - 1 */
    g_assert_null (
        graft_image_load_from_memory (webp, len, "big.webp", 0, &error));
    g_assert_nonnull (error);
  }

  /* TIFF: width and length tags patched to 60000. */
  {
    g_autofree guint8 *tiff = read_fixture ("q.tif", &len);
    guint32 ifd =
        tiff[4] | tiff[5] << 8 | tiff[6] << 16 | (guint32) tiff[7] << 24;
    int n = tiff[ifd] | tiff[ifd + 1] << 8, found = 0;
    for (int i = 0; i < n; i++)
      {
        guint8 *entry = tiff + ifd + 2 + 12 * i;
        int tag = entry[0] | entry[1] << 8;
        if (tag == 256 || tag == 257)
          {
            g_assert_cmpint (entry[2] | entry[3] << 8, ==, 3); /* SHORT */
            entry[8] = 0x60, entry[9] = 0xea;
            found++;
          }
      }
    g_assert_cmpint (found, ==, 2);
    assert_refused (tiff, len, "big.tif", GRAFT_ERROR_LIMIT,
                    "60000x60000 pixels is more than");
  }

  /* The file size limit, checked before reading a byte. */
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (graft_image_load_from_memory (
        png, GRAFT_IMAGE_MAX_FILE_BYTES + 1, "huge.png", 0, &error));
    g_assert_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT);
  }
}

/* ---- hostile files ----------------------------------------------------- */

static void
assert_load_fails (const char *path, int code, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftImage) image = graft_image_load (path, 0, &error);

  g_assert_null (image);
  g_assert_error (error, GRAFT_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
}

static void
test_hostile_files (void)
{
  g_autofree char *dir = g_dir_make_tmp ("graft-image-XXXXXX", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.png", NULL);
  g_autofree char *text = g_build_filename (dir, "photo.jpg", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.jpg", NULL);
  static const char heic[] = "\0\0\0\x18"
                             "ftypheic\0\0\0\0mif1heic";

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (
      text, "Dear diary,\ntoday I saved a text file as photo.jpg.\n", -1,
      NULL));
  assert_load_fails (empty, GRAFT_ERROR_PARSE, "empty.png: empty file");
  assert_load_fails (text, GRAFT_ERROR_PARSE,
                     "photo.jpg: not an image (this looks like a text file)");
  assert_load_fails (missing, GRAFT_ERROR_IO, NULL);
  assert_load_fails (dir, GRAFT_ERROR_IO, NULL);
  assert_refused ((const guint8 *) heic, sizeof heic - 1, "p.heic",
                  GRAFT_ERROR_UNSUPPORTED, "HEIC");
  assert_refused ((const guint8 *) "%PDF-1.4\n\xe2\xe3", 11, "d.pdf",
                  GRAFT_ERROR_PARSE, "PDF");
  g_unlink (empty);
  g_unlink (text);
  g_rmdir (dir);
}

/* Cut a file at offset n into a buffer of exactly n bytes, decode it. */
static GraftImage *
decode_prefix (const guint8 *data, size_t n, const char *name, GError **error)
{
  g_autofree guint8 *cut = g_memdup2 (data, MAX (n, 1));
  return graft_image_load_from_memory (cut, n, name, 0, error);
}

static void
test_truncated (void)
{
  static const struct
  {
    const char *file, *truncated; /* the message for a cut in the pixels */
  } cases[] = {
    { "q-baseline.jpg", "truncated JPEG data" },
    { "q-progressive.jpg", "truncated JPEG data" },
    { "big-2000x1500.jpg", "truncated JPEG data" },
    { "q.png", "truncated PNG data" },
    { "q-interlaced.png", "truncated PNG data" },
    { "q.gif", "truncated GIF data" },
    { "q-lossy.webp", "truncated WebP data" },
    { "q-lossless.webp", "truncated WebP data" },
    { "q-anim.webp", "truncated WebP data" },
    { "q-24.bmp", "truncated BMP data" },
    { "q.tif", NULL },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      size_t len;
      g_autofree guint8 *data = read_fixture (cases[i].file, &len);
      size_t offsets[] = { 0,        1,       2,       3,       5,
                           8,        12,      16,      24,      33,
                           40,       60,      len / 3, len / 2, len * 2 / 3,
                           len - 16, len - 2, len - 1 };

      for (size_t k = 0; k < G_N_ELEMENTS (offsets); k++)
        {
          size_t n = MIN (offsets[k], len - 1);
          g_autoptr (GError) error = NULL;
          g_autoptr (GraftImage) image =
              decode_prefix (data, n, cases[i].file, &error);

          /* Up to half the file, the pixels are surely incomplete; past
           * that a decoder may or may not need the rest (a JPEG without
           * its end marker is complete), but must not crash. */
          if (n <= len / 2)
            g_assert_null (image);
          if (image == NULL)
            {
              g_assert_nonnull (error);
              g_assert_true (g_str_has_prefix (error->message, cases[i].file));
            }
          else
            g_assert_true (image->width == 64 || image->width == 2000);
        }
      /* A cut in the middle of the pixel data says so. */
      if (cases[i].truncated != NULL)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (GraftImage) image =
              decode_prefix (data, len / 2, cases[i].file, &error);
          g_assert_null (image);
          if (strstr (error->message, cases[i].truncated) == NULL)
            g_error ("%s: “%s”", cases[i].file, error->message);
        }
    }
}

static void
test_random_bytes (void)
{
  static const char *const magics[] = {
    "",
    "\xff\xd8\xff",
    "\x89PNG\r\n\x1a\n",
    "GIF89a",
    "RIFF\0\0\0\0WEBP",
    "II*\0",
    "MM\0*",
    "BM\0\0\0\0\0\0\0\0\0\0\0\0\x28\0\0\0",
  };
  static const size_t magic_lens[] = { 0, 3, 8, 6, 12, 4, 4, 18 };
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240611);

  for (int round = 0; round < 300; round++)
    for (size_t m = 0; m < G_N_ELEMENTS (magics); m++)
      {
        size_t len = magic_lens[m] + (size_t) g_rand_int_range (rand, 0, 600);
        g_autofree guint8 *data = g_malloc (MAX (len, 1));
        g_autoptr (GError) error = NULL;
        g_autoptr (GraftImage) image = NULL;

        memcpy (data, magics[m], magic_lens[m]);
        for (size_t i = magic_lens[m]; i < len; i++)
          data[i] = (guint8) g_rand_int (rand);
        image = graft_image_load_from_memory (data, len, "noise", 0, &error);
        if (image == NULL)
          {
            g_assert_nonnull (error);
            g_assert_true (g_str_has_prefix (error->message, "noise: "));
          }
        else
          {
            /* Random BMP headers can be valid; then the size is sane. */
            g_assert_cmpint ((gint64) image->width * image->height, <=,
                             GRAFT_IMAGE_MAX_PIXELS);
          }
      }
}

/* Single-byte corruptions of real files: errors or images, never a crash. */
static void
test_corrupted_bytes (void)
{
  static const char *const files[] = {
    "q-baseline.jpg", "q-progressive.jpg", "q-cmyk.jpg",  "q.png",
    "q-palette.png",  "q-24.bmp",          "q-8.bmp",     "q.gif",
    "q-lossy.webp",   "q-lossless.webp",   "q-anim.webp", "q.tif",
    "q-alpha.tif",
  };
  g_autoptr (GRand) rand = g_rand_new_with_seed (99);

  for (size_t f = 0; f < G_N_ELEMENTS (files); f++)
    {
      size_t len;
      g_autofree guint8 *data = read_fixture (files[f], &len);
      for (int round = 0; round < 60; round++)
        {
          g_autofree guint8 *bad = g_memdup2 (data, len);
          g_autoptr (GError) error = NULL;
          g_autoptr (GraftImage) image = NULL;
          for (int k = 0; k < 4; k++)
            bad[g_rand_int_range (rand, 0, (gint32) len)] =
                (guint8) g_rand_int (rand);
          image = graft_image_load_from_memory (bad, len, files[f], 0, &error);
          g_assert_true ((image == NULL) != (error == NULL));
        }
    }
}

/* ---- preprocessing ----------------------------------------------------- */

static void
test_preprocess_metadata (void)
{
  GraftPreprocess pp;
  g_autoptr (GError) error = NULL;
  static const struct
  {
    const char *size, *crop, *mean, *std, *key;
  } bad[] = {
    { "224x", NULL, NULL, NULL, "preprocess.size" },
    { "x224", NULL, NULL, NULL, "preprocess.size" },
    { "0x224", NULL, NULL, NULL, "preprocess.size" },
    { "224x224x3", NULL, NULL, NULL, "preprocess.size" },
    { "-5", NULL, NULL, NULL, "preprocess.size" },
    { "5000x5000", NULL, NULL, NULL, "preprocess.size" },
    { "", NULL, NULL, NULL, "preprocess.size" },
    { NULL, "0", NULL, NULL, "preprocess.central_crop" },
    { NULL, "1.5", NULL, NULL, "preprocess.central_crop" },
    { NULL, "nan", NULL, NULL, "preprocess.central_crop" },
    { NULL, "0.8x", NULL, NULL, "preprocess.central_crop" },
    { NULL, NULL, "0.5,0.5", NULL, "preprocess.mean" },
    { NULL, NULL, "a,b,c", NULL, "preprocess.mean" },
    { NULL, NULL, "0.5,,0.5", NULL, "preprocess.mean" },
    { NULL, NULL, NULL, "0,1,1", "preprocess.std" },
    { NULL, NULL, NULL, "1,-1,1", "preprocess.std" },
    { NULL, NULL, NULL, "inf", "preprocess.std" },
  };

  g_assert_true (
      graft_preprocess_from_metadata (&pp, NULL, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pp.width, ==, 224);
  g_assert_cmpint (pp.height, ==, 224);
  g_assert_cmpfloat (pp.central_crop, ==, 0.875);
  g_assert_cmpfloat_with_epsilon (pp.mean[0], 0.485, 1e-6);
  g_assert_cmpfloat_with_epsilon (pp.std[2], 0.225, 1e-6);
  g_assert_cmpint (graft_preprocess_min_side (&pp), ==, 256);

  g_assert_true (graft_preprocess_from_metadata (
      &pp, "160x160", "0.875", "0.50196,0.50196,0.50196",
      " 0.50196 , 0.50196,0.50196 ", &error));
  g_assert_no_error (error);
  g_assert_cmpint (pp.width, ==, 160);
  g_assert_cmpfloat_with_epsilon (pp.mean[1], 0.50196, 1e-6);
  g_assert_cmpfloat_with_epsilon (pp.std[1], 0.50196, 1e-6);
  g_assert_cmpint (graft_preprocess_min_side (&pp), ==, 183);

  g_assert_true (graft_preprocess_from_metadata (&pp, "320x240", "1", "0.5",
                                                 "0.25", &error));
  g_assert_cmpint (pp.width, ==, 320);
  g_assert_cmpint (pp.height, ==, 240);
  g_assert_cmpfloat (pp.mean[2], ==, 0.5f);
  g_assert_cmpfloat (pp.std[0], ==, 0.25f);
  g_assert_cmpint (graft_preprocess_min_side (&pp), ==, 320);
  g_assert_true (
      graft_preprocess_from_metadata (&pp, "128", NULL, NULL, NULL, &error));
  g_assert_cmpint (pp.height, ==, 128);

  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GraftPreprocess untouched = { .width = -7 };
      g_autoptr (GError) e = NULL;
      g_assert_false (graft_preprocess_from_metadata (
          &untouched, bad[i].size, bad[i].crop, bad[i].mean, bad[i].std, &e));
      g_assert_error (e, GRAFT_ERROR, GRAFT_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (e->message, bad[i].key));
      g_assert_cmpint (untouched.width, ==, -7);
    }
}

static GraftImage *
random_image (GRand *rand, int width, int height)
{
  GraftImage *image = graft_image_new (width, height, "random", NULL);
  for (size_t i = 0; i < (size_t) width * height * 3; i++)
    image->rgb[i] = (guint8) g_rand_int (rand);
  return image;
}

static float
max_abs_diff (const float *a, const float *b, size_t n)
{
  float worst = 0.f;
  for (size_t i = 0; i < n; i++)
    worst = MAX (worst, fabsf (a[i] - b[i]));
  return worst;
}

/* The separable resize against the direct 2-D filter. */
static void
test_resize_matches_reference (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (1234);

  for (int round = 0; round < 200; round++)
    {
      int w = g_rand_int_range (rand, 1, 90),
          h = g_rand_int_range (rand, 1, 90);
      int ow = g_rand_int_range (rand, 1, 70),
          oh = g_rand_int_range (rand, 1, 70);
      g_autoptr (GraftImage) img = random_image (rand, w, h);
      double bw = g_rand_double_range (rand, 0.3, w);
      double bh = g_rand_double_range (rand, 0.3, h);
      double x0 = g_rand_double_range (rand, 0, w - bw);
      double y0 = g_rand_double_range (rand, 0, h - bh);
      size_t n = (size_t) 3 * ow * oh;
      g_autofree float *fast = g_new (float, n);
      g_autofree float *slow = g_new (float, n);

      graft_resize_bilinear (fast, img, x0, y0, bw, bh, ow, oh);
      graft_resize_bilinear_reference (slow, img, x0, y0, bw, bh, ow, oh);
      if (max_abs_diff (fast, slow, n) > 2e-3f)
        g_error ("%dx%d box %g,%g %gx%g -> %dx%d: differs by %g", w, h, x0, y0,
                 bw, bh, ow, oh, max_abs_diff (fast, slow, n));
    }
}

/* Values worked out by hand from the triangle filter. */
static void
test_resize_by_hand (void)
{
  g_autoptr (GraftImage) stripes = graft_image_new (8, 8, "s", NULL);
  g_autoptr (GraftImage) pair = graft_image_new (2, 1, "p", NULL);
  float out[3 * 4 * 4];
  /* 8 -> 4: weights 1/8, 3/8, 3/8, 1/8 over 4 inputs, renormalized at the
   * borders where one input is missing. */
  const float shrink[4] = { 10.f * 0.625f / 0.875f, 25.f, 45.f,
                            10.f * 5.5f / 0.875f };
  /* 2 -> 4: the first and last outputs see one input, the middle two
   * 3/4 and 1/4. */
  const float grow[4] = { 0.f, 25.f, 75.f, 100.f };

  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++)
      memset (stripes->rgb + (y * 8 + x) * 3, 10 * x, 3);
  memset (pair->rgb, 0, 3);
  memset (pair->rgb + 3, 100, 3);

  for (int impl = 0; impl < 2; impl++)
    {
      (impl ? graft_resize_bilinear_reference
            : graft_resize_bilinear) (out, stripes, 0, 0, 8, 8, 4, 4);
      for (int c = 0; c < 3; c++)
        for (int y = 0; y < 4; y++)
          for (int x = 0; x < 4; x++)
            g_assert_cmpfloat_with_epsilon (out[c * 16 + y * 4 + x], shrink[x],
                                            1e-4);
      (impl ? graft_resize_bilinear_reference
            : graft_resize_bilinear) (out, pair, 0, 0, 2, 1, 4, 1);
      for (int c = 0; c < 3; c++)
        for (int x = 0; x < 4; x++)
          g_assert_cmpfloat_with_epsilon (out[c * 4 + x], grow[x], 1e-4);
    }
}

/* A crop the same size as the output is a plain copy of the centered
 * square: checks the crop box and the normalization directly. */
static void
test_preprocess_identity_crop (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (5);
  g_autoptr (GraftImage) img = random_image (rand, 40, 20);
  GraftPreprocess pp = {
    .width = 14,
    .height = 14,
    .central_crop = 0.7,
    .mean = { 0.1f, 0.5f, 0.9f },
    .std = { 0.2f, 0.3f, 0.5f },
  };
  float out[3 * 14 * 14];
  float flipped[3 * 14 * 14];

  graft_preprocess_image (out, img, &pp);
  graft_preprocess_region (flipped, img, &pp, 13, 3, 14, 14, TRUE);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < 14; y++)
      for (int x = 0; x < 14; x++)
        {
          /* side 0.7 * 20 = 14, at x0 = (40 - 14) / 2 = 13, y0 = 3 */
          float p = pixel_at (img, x + 13, y + 3)[c];
          float want = (p / 255.f - pp.mean[c]) / pp.std[c];
          g_assert_cmpfloat_with_epsilon (out[c * 196 + y * 14 + x], want,
                                          1e-4);
          g_assert_cmpfloat_with_epsilon (flipped[c * 196 + y * 14 + 13 - x],
                                          want, 1e-4);
        }
}

/* The whole preprocess against the reference resize and a direct
 * normalization, on images wider and taller than they are long. */
static void
test_preprocess_against_reference (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (77);
  GraftPreprocess pp;

  graft_preprocess_init_imagenet (&pp);
  for (int round = 0; round < 3; round++)
    {
      int w = round == 1 ? 180 : 300, h = round == 1 ? 300 : 257;
      g_autoptr (GraftImage) img = random_image (rand, w, h);
      size_t plane = (size_t) pp.width * pp.height;
      g_autofree float *got = g_new (float, 3 * plane);
      g_autofree float *want = g_new (float, 3 * plane);
      double side = 0.875 * MIN (w, h);

      graft_preprocess_image (got, img, &pp);
      graft_resize_bilinear_reference (want, img, (w - side) / 2,
                                       (h - side) / 2, side, side, pp.width,
                                       pp.height);
      for (int c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
          want[c * plane + i] =
              (want[c * plane + i] / 255.f - pp.mean[c]) / pp.std[c];
      g_assert_cmpfloat (max_abs_diff (got, want, 3 * plane), <, 1e-4f);
    }
}

/* A decoded photo preprocessed: a uniform quadrant stays its color. */
static void
test_preprocess_decoded (void)
{
  g_autoptr (GraftImage) img = load_fixture ("q.png", 0);
  GraftPreprocess pp = {
    .width = 8,
    .height = 8,
    .central_crop = 1.0,
    .mean = { 0.5f, 0.5f, 0.5f },
    .std = { 0.5f, 0.5f, 0.5f },
  };
  float out[3 * 8 * 8];

  /* crop 48x48 at x0 = 8: red top-left, green top-right. */
  graft_preprocess_image (out, img, &pp);
  g_assert_cmpfloat_with_epsilon (out[0 * 64 + 1 * 8 + 1], 1.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[1 * 64 + 1 * 8 + 1], -1.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[1 * 64 + 1 * 8 + 6], 1.0, 1e-5);
  g_assert_cmpfloat_with_epsilon (out[2 * 64 + 6 * 8 + 1], 1.0, 1e-5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/decode-formats", test_decode_formats);
  g_test_add_func ("/image/bmp-packed-pixels", test_bmp_packed_pixels);
  g_test_add_func ("/image/sniff", test_sniff);
  g_test_add_func ("/image/save-png", test_save_png_roundtrip);
  g_test_add_func ("/image/exif/jpeg", test_exif_orientation_jpeg);
  g_test_add_func ("/image/exif/other-formats",
                   test_exif_orientation_other_formats);
  g_test_add_func ("/image/exif/hostile", test_exif_parser_hostile);
  g_test_add_func ("/image/jpeg-reduced-size", test_jpeg_reduced_size);
  g_test_add_func ("/image/limits", test_limits);
  g_test_add_func ("/image/hostile/files", test_hostile_files);
  g_test_add_func ("/image/hostile/truncated", test_truncated);
  g_test_add_func ("/image/hostile/random", test_random_bytes);
  g_test_add_func ("/image/hostile/corrupted", test_corrupted_bytes);
  g_test_add_func ("/preprocess/metadata", test_preprocess_metadata);
  g_test_add_func ("/preprocess/resize-reference",
                   test_resize_matches_reference);
  g_test_add_func ("/preprocess/resize-by-hand", test_resize_by_hand);
  g_test_add_func ("/preprocess/identity-crop", test_preprocess_identity_crop);
  g_test_add_func ("/preprocess/against-reference",
                   test_preprocess_against_reference);
  g_test_add_func ("/preprocess/decoded", test_preprocess_decoded);
  return g_test_run ();
}
