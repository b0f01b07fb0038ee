/* preprocess.c: crop, antialiased bilinear resize, normalize.
 *
 * The resize follows Pillow's ImagingResample with the BILINEAR filter:
 * output pixel x covers input centered at x0 + (x + 0.5) * scale; when
 * shrinking (scale > 1) the triangle's support widens to scale input
 * pixels so every input pixel contributes (antialiasing); weights are
 * renormalized where the window meets the image border. Pillow rounds to
 * 8 bits between its two passes; we keep floats, which differs by at most
 * about half a level.
 */
#include "preprocess.h"

#include "graft-error.h"

#include <errno.h>
#include <math.h>
#include <string.h>

static const GraftPreprocess imagenet = {
  .width = 224,
  .height = 224,
  .central_crop = 0.875,
  .mean = { 0.485f, 0.456f, 0.406f },
  .std = { 0.229f, 0.224f, 0.225f },
};

void
graft_preprocess_init_imagenet (GraftPreprocess *out)
{
  *out = imagenet;
}

/* ---- metadata ---------------------------------------------------------- */

static gboolean
parse_int (const char *text, char **end, int *value)
{
  gint64 v;

  if (!g_ascii_isdigit (*text))
    return FALSE;
  errno = 0;
  v = g_ascii_strtoll (text, end, 10);
  if (errno != 0 || v < 1 || v > GRAFT_PREPROCESS_MAX_SIDE)
    return FALSE;
  *value = (int) v;
  return TRUE;
}

static gboolean
parse_size (const char *text, int *width, int *height)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  char *end;

  if (!parse_int (copy, &end, width))
    return FALSE;
  if (*end == '\0')
    {
      *height = *width;
      return TRUE;
    }
  if (*end != 'x' && *end != 'X')
    return FALSE;
  return parse_int (end + 1, &end, height) && *end == '\0';
}

static gboolean
parse_double (const char *text, double *value)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  char *end;

  if (*copy == '\0')
    return FALSE;
  errno = 0;
  *value = g_ascii_strtod (copy, &end);
  return errno == 0 && *end == '\0' && isfinite (*value);
}

/* "r,g,b" or one value for all three channels. */
static gboolean
parse_triple (const char *text, float values[3], gboolean positive)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint n = g_strv_length (parts);

  if (n != 1 && n != 3)
    return FALSE;
  for (guint i = 0; i < 3; i++)
    {
      double v;
      if (!parse_double (parts[n == 1 ? 0 : i], &v) || fabs (v) > 1e6 ||
          (positive && !(v > 1e-8)))
        return FALSE;
      values[i] = (float) v;
    }
  return TRUE;
}

gboolean
graft_preprocess_from_metadata (GraftPreprocess *out,
                                const char *size,
                                const char *central_crop,
                                const char *mean,
                                const char *std,
                                GError **error)
{
  GraftPreprocess pp = imagenet;

  if (size != NULL && !parse_size (size, &pp.width, &pp.height))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "preprocess.size “%s” is not a size like 224x224 "
                   "(1 to %d pixels)",
                   size, GRAFT_PREPROCESS_MAX_SIDE);
      return FALSE;
    }
  if (central_crop != NULL &&
      (!parse_double (central_crop, &pp.central_crop) ||
       !(pp.central_crop > 0.0 && pp.central_crop <= 1.0)))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "preprocess.central_crop “%s” is not a fraction in (0, 1]",
                   central_crop);
      return FALSE;
    }
  if (mean != NULL && !parse_triple (mean, pp.mean, FALSE))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "preprocess.mean “%s” is not three numbers like "
                   "0.485,0.456,0.406",
                   mean);
      return FALSE;
    }
  if (std != NULL && !parse_triple (std, pp.std, TRUE))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "preprocess.std “%s” is not three positive numbers like "
                   "0.229,0.224,0.225",
                   std);
      return FALSE;
    }
  *out = pp;
  return TRUE;
}

int
graft_preprocess_min_side (const GraftPreprocess *pp)
{
  /* The small slack keeps 224 / 0.875 at 256 despite rounding. */
  return (int) ceil (MAX (pp->width, pp->height) / pp->central_crop - 1e-6);
}

void
graft_preprocess_crop_box (const GraftPreprocess *pp,
                           int width,
                           int height,
                           double *x0,
                           double *y0,
                           double *side)
{
  *side = pp->central_crop * MIN (width, height);
  *x0 = (width - *side) / 2.0;
  *y0 = (height - *side) / 2.0;
}

/* ---- resize ------------------------------------------------------------ */

static double
triangle (double x)
{
  x = fabs (x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

/* Filter taps of a 1-D resize of the span [in0, in0 + box) of in_size
 * pixels to out_size: output i reads inputs start[i] .. start[i] +
 * count[i] - 1 with weights[i * max_taps + k]. As Pillow's
 * precompute_coeffs. */
typedef struct
{
  int max_taps;
  int *start, *count;
  float *weights;
} Taps;

static void
taps_init (Taps *t, double in0, double box, int in_size, int out_size)
{
  double scale = box / out_size;
  double filter_scale = MAX (scale, 1.0);
  double support = filter_scale; /* the triangle's support is 1 */

  t->max_taps = (int) ceil (support) * 2 + 1;
  t->start = g_new (int, out_size);
  t->count = g_new (int, out_size);
  t->weights = g_new0 (float, (size_t) out_size * t->max_taps);
  for (int i = 0; i < out_size; i++)
    {
      double center = in0 + (i + 0.5) * scale;
      double sum = 0.0;
      int lo = (int) (center - support + 0.5), hi;
      float *weights = t->weights + (size_t) i * t->max_taps;

      lo = CLAMP (lo, 0, in_size - 1);
      hi = MIN ((int) (center + support + 0.5), in_size);
      hi = MAX (hi, lo + 1);
      hi = MIN (hi, lo + t->max_taps);
      for (int k = 0; k < hi - lo; k++)
        {
          double v = triangle ((lo + k - center + 0.5) / filter_scale);
          weights[k] = (float) v;
          sum += v;
        }
      for (int k = 0; k < hi - lo; k++)
        weights[k] = sum > 0.0 ? (float) (weights[k] / sum) : 1.0f / (hi - lo);
      t->start[i] = lo;
      t->count[i] = hi - lo;
    }
}

static void
taps_clear (Taps *t)
{
  g_free (t->start);
  g_free (t->count);
  g_free (t->weights);
}

/* acc[i] += w * src[i]: the vertical pass's inner loop, over a whole
 * row of interleaved RGB (simd: GCC's -O2 cost model would not). */
static void
accumulate_row (float *restrict acc, const guint8 *restrict src, float w, int n)
{
#pragma omp simd
  for (int i = 0; i < n; i++)
    acc[i] += w * (float) src[i];
}

void
graft_resize_bilinear (float *out,
                       const GraftImage *img,
                       double x0,
                       double y0,
                       double box_w,
                       double box_h,
                       int out_w,
                       int out_h)
{
  Taps tx, ty;
  int col0, n_cols = 0;
  size_t plane = (size_t) out_w * out_h;
  g_autofree float *row =
      NULL; /* (n_cols, 3) one row after the vertical pass */

  g_return_if_fail (box_w > 0.0 && box_h > 0.0 && out_w > 0 && out_h > 0);
  taps_init (&tx, x0, box_w, img->width, out_w);
  taps_init (&ty, y0, box_h, img->height, out_h);

  /* Vertical pass first, over just the columns the horizontal pass reads:
   * when shrinking it works on whole rows, which vectorize. */
  col0 = tx.start[0];
  for (int x = 0; x < out_w; x++)
    n_cols = MAX (n_cols, tx.start[x] + tx.count[x] - col0);
  row = g_new (float, (size_t) n_cols * 3);
  for (int y = 0; y < out_h; y++)
    {
      const float *wy = ty.weights + (size_t) y * ty.max_taps;

      memset (row, 0, sizeof (float) * n_cols * 3);
      for (int k = 0; k < ty.count[y]; k++)
        accumulate_row (
            row,
            img->rgb + ((size_t) (ty.start[y] + k) * img->width + col0) * 3,
            wy[k], n_cols * 3);

      /* Horizontal pass on that row, written channels first. */
      for (int x = 0; x < out_w; x++)
        {
          const float *wx = tx.weights + (size_t) x * tx.max_taps;
          const float *p = row + (size_t) (tx.start[x] - col0) * 3;
          float r = 0.f, g = 0.f, b = 0.f;
          for (int k = 0; k < tx.count[x]; k++, p += 3)
            {
              r += wx[k] * p[0];
              g += wx[k] * p[1];
              b += wx[k] * p[2];
            }
          out[(size_t) y * out_w + x] = r;
          out[plane + (size_t) y * out_w + x] = g;
          out[2 * plane + (size_t) y * out_w + x] = b;
        }
    }
  taps_clear (&tx);
  taps_clear (&ty);
}

void
graft_resize_bilinear_reference (float *out,
                                 const GraftImage *img,
                                 double x0,
                                 double y0,
                                 double box_w,
                                 double box_h,
                                 int out_w,
                                 int out_h)
{
  double scale_x = box_w / out_w, scale_y = box_h / out_h;
  double fs_x = MAX (scale_x, 1.0), fs_y = MAX (scale_y, 1.0);
  size_t plane = (size_t) out_w * out_h;

  for (int y = 0; y < out_h; y++)
    for (int x = 0; x < out_w; x++)
      {
        double cx = x0 + (x + 0.5) * scale_x, cy = y0 + (y + 0.5) * scale_y;
        int i0 = MAX (0, (int) floor (cx - fs_x));
        int i1 = MIN (img->width - 1, (int) ceil (cx + fs_x));
        int j0 = MAX (0, (int) floor (cy - fs_y));
        int j1 = MIN (img->height - 1, (int) ceil (cy + fs_y));
        double sum[3] = { 0, 0, 0 }, total = 0.0;

        for (int j = j0; j <= j1; j++)
          for (int i = i0; i <= i1; i++)
            {
              double w = triangle ((i + 0.5 - cx) / fs_x) *
                         triangle ((j + 0.5 - cy) / fs_y);
              const guint8 *p = img->rgb + ((size_t) j * img->width + i) * 3;
              for (int c = 0; c < 3; c++)
                sum[c] += w * p[c];
              total += w;
            }
        for (int c = 0; c < 3; c++)
          out[c * plane + (size_t) y * out_w + x] =
              total > 0.0 ? (float) (sum[c] / total) : 0.0f;
      }
}

/* ---- the whole preprocess ---------------------------------------------- */

void
graft_preprocess_region (float *out,
                         const GraftImage *img,
                         const GraftPreprocess *pp,
                         double x0,
                         double y0,
                         double box_w,
                         double box_h,
                         gboolean flip)
{
  size_t plane = (size_t) pp->width * pp->height;

  graft_resize_bilinear (out, img, x0, y0, box_w, box_h, pp->width, pp->height);
  for (int c = 0; c < 3; c++)
    {
      float *p = out + c * plane;
      float scale = 1.0f / (255.0f * pp->std[c]);
      float shift = pp->mean[c] / pp->std[c];

      for (size_t i = 0; i < plane; i++)
        p[i] = p[i] * scale - shift;
      if (flip)
        for (int y = 0; y < pp->height; y++)
          {
            float *row = p + (size_t) y * pp->width;
            for (int a = 0, b = pp->width - 1; a < b; a++, b--)
              {
                float t = row[a];
                row[a] = row[b];
                row[b] = t;
              }
          }
    }
}

void
graft_preprocess_image (float *out,
                        const GraftImage *img,
                        const GraftPreprocess *pp)
{
  double x0, y0, side;

  graft_preprocess_crop_box (pp, img->width, img->height, &x0, &y0, &side);
  graft_preprocess_region (out, img, pp, x0, y0, side, side, FALSE);
}

gboolean
graft_preprocess_from_model (GraftPreprocess *out,
                             const GraftOnnxModel *model,
                             GError **error)
{
  return graft_preprocess_from_metadata (
      out, graft_onnx_model_get_metadata (model, "preprocess.size"),
      graft_onnx_model_get_metadata (model, "preprocess.central_crop"),
      graft_onnx_model_get_metadata (model, "preprocess.mean"),
      graft_onnx_model_get_metadata (model, "preprocess.std"), error);
}
