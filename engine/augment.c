/* augment.c: random resized crop, flip, rotation and color jitter.
 *
 * Work is on the 0..255 scale in (3, H, W) floats, normalized at the end
 * with the very expression graft_preprocess_region uses, so that identity
 * parameters give bit for bit graft_preprocess_image's output.
 */
#include "augment.h"

#include <math.h>
#include <string.h>

void
graft_augment_init_default (GraftAugment *augment)
{
  augment->enabled = TRUE;
  augment->min_crop_area = 0.35;
  augment->flip = TRUE;
  augment->rotate_degrees = 10.0;
  augment->brightness = 0.2;
  augment->contrast = 0.2;
  augment->saturation = 0.2;
}

/* ---- random numbers --------------------------------------------------------
 */

void
graft_rng_init (GraftRng *rng, guint64 seed)
{
  rng->state = seed;
}

guint64
graft_rng_next (GraftRng *rng)
{
  guint64 z = (rng->state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

double
graft_rng_uniform (GraftRng *rng, double lo, double hi)
{
  /* 53 random bits: a double in [0, 1) */
  double u = (graft_rng_next (rng) >> 11) * (1.0 / 9007199254740992.0);
  return lo + (hi - lo) * u;
}

/* ---- parameters -------------------------------------------------------------
 */

void
graft_augment_params_identity (GraftAugmentParams *params,
                               const GraftPreprocess *pp,
                               int width,
                               int height)
{
  double side;

  memset (params, 0, sizeof *params);
  graft_preprocess_crop_box (pp, width, height, &params->x0, &params->y0,
                             &side);
  params->w = params->h = side;
  params->brightness = params->contrast = params->saturation = 1.0;
}

static double
jitter_factor (GraftRng *rng, double strength)
{
  if (!(strength > 0.0))
    return 1.0;
  return graft_rng_uniform (rng, MAX (0.0, 1.0 - strength), 1.0 + strength);
}

void
graft_augment_sample (GraftAugmentParams *params,
                      const GraftAugment *augment,
                      int width,
                      int height,
                      guint64 seed)
{
  const double min_ratio = 3.0 / 4.0, max_ratio = 4.0 / 3.0;
  double area = (double) width * height, in_ratio = (double) width / height;
  double min_area = CLAMP (augment->min_crop_area, 0.01, 1.0);
  GraftRng rng;
  gboolean found = FALSE;

  memset (params, 0, sizeof *params);
  graft_rng_init (&rng, seed);
  for (int attempt = 0; attempt < 10 && !found; attempt++)
    {
      double target = area * graft_rng_uniform (&rng, min_area, 1.0);
      double ratio =
          exp (graft_rng_uniform (&rng, log (min_ratio), log (max_ratio)));
      double w = sqrt (target * ratio), h = sqrt (target / ratio);

      if (w <= width && h <= height)
        {
          params->w = w;
          params->h = h;
          params->x0 = graft_rng_uniform (&rng, 0.0, width - w);
          params->y0 = graft_rng_uniform (&rng, 0.0, height - h);
          found = TRUE;
        }
    }
  if (!found)
    {
      /* The whole image, cut to the nearest allowed aspect ratio. */
      params->w = width;
      params->h = height;
      if (in_ratio < min_ratio)
        params->h = width / min_ratio;
      else if (in_ratio > max_ratio)
        params->w = height * max_ratio;
      params->x0 = (width - params->w) / 2.0;
      params->y0 = (height - params->h) / 2.0;
    }
  params->flip = augment->flip && graft_rng_uniform (&rng, 0.0, 1.0) < 0.5;
  params->angle = augment->rotate_degrees > 0.0
                      ? graft_rng_uniform (&rng, -augment->rotate_degrees,
                                           augment->rotate_degrees) *
                            G_PI / 180.0
                      : 0.0;
  params->brightness = jitter_factor (&rng, augment->brightness);
  params->contrast = jitter_factor (&rng, augment->contrast);
  params->saturation = jitter_factor (&rng, augment->saturation);
}

/* ---- rendering
 * ---------------------------------------------------------------- */

/* out (3, H, W) on the 0..255 scale: the crop box turned by angle about
 * its center. The box that holds the turned crop is resized first (at
 * the output's scale, with a one-pixel margin), then sampled bilinearly
 * on the turned grid; sample positions are linear in (x, y). */
static void
render_rotated (float *out,
                const GraftImage *img,
                int W,
                int H,
                const GraftAugmentParams *p)
{
  double sx = W / p->w, sy = H / p->h;
  double c = cos (p->angle), s = sin (p->angle);
  double bw = p->w * fabs (c) + p->h * fabs (s);
  double bh = p->w * fabs (s) + p->h * fabs (c);
  int iw = (int) ceil (bw * sx) + 2, ih = (int) ceil (bh * sy) + 2;
  double box_w = iw / sx, box_h = ih / sy;
  double cx = p->x0 + p->w / 2.0, cy = p->y0 + p->h / 2.0;
  size_t plane = (size_t) W * H, iplane = (size_t) iw * ih;
  /* pixel (x, y) of out shows (px, py) of big, in index coordinates:
   * u, v = offset from the crop's center in image pixels, turned */
  double dpx_dx = c, dpy_dx = -s * sy / sx;
  g_autofree float *big = g_new (float, 3 * iplane);

  graft_resize_bilinear (big, img, cx - box_w / 2.0, cy - box_h / 2.0, box_w,
                         box_h, iw, ih);
  for (int y = 0; y < H; y++)
    {
      double v = (y + 0.5) / sy - p->h / 2.0, u0 = 0.5 / sx - p->w / 2.0;
      double px0 = (c * u0 + s * v + box_w / 2.0) * sx - 0.5;
      double py0 = (-s * u0 + c * v + box_h / 2.0) * sy - 0.5;

      for (int x = 0; x < W; x++)
        {
          double px = CLAMP (px0 + x * dpx_dx, 0.0, iw - 1.0);
          double py = CLAMP (py0 + x * dpy_dx, 0.0, ih - 1.0);
          int xa = (int) px, ya = (int) py;
          int xb = MIN (xa + 1, iw - 1), yb = MIN (ya + 1, ih - 1);
          float fx = (float) (px - xa), fy = (float) (py - ya);
          float w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy);
          float w10 = (1 - fx) * fy, w11 = fx * fy;
          size_t i00 = (size_t) ya * iw + xa, i01 = (size_t) ya * iw + xb;
          size_t i10 = (size_t) yb * iw + xa, i11 = (size_t) yb * iw + xb;

          for (int ch = 0; ch < 3; ch++)
            {
              const float *q = big + ch * iplane;
              out[ch * plane + (size_t) y * W + x] =
                  w00 * q[i00] + w01 * q[i01] + w10 * q[i10] + w11 * q[i11];
            }
        }
    }
}

/* ColorJitter on (3, n) 0..255 floats; factors of exactly 1 do nothing.
 * Each step clamps to 0..255 as torchvision's float path does. */
static void
color_jitter (float *rgb, size_t n, const GraftAugmentParams *p)
{
  float *restrict r = rgb, *restrict g = rgb + n, *restrict b = rgb + 2 * n;

  if (p->brightness != 1.0)
    {
      float f = (float) p->brightness;
#pragma omp simd
      for (size_t i = 0; i < 3 * n; i++)
        {
          float v = rgb[i] * f; /* >= 0: f and the pixels are */
          rgb[i] = v > 255.f ? 255.f : v;
        }
    }
  if (p->contrast != 1.0)
    {
      float f = (float) p->contrast, mean, shift;
      double sum = 0.0;
      for (size_t i = 0; i < n; i++)
        sum += 0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i];
      mean = (float) (sum / n);
      shift = (1.f - f) * mean;
#pragma omp simd
      for (size_t i = 0; i < 3 * n; i++)
        {
          float v = f * rgb[i] + shift;
          v = v < 0.f ? 0.f : v;
          rgb[i] = v > 255.f ? 255.f : v;
        }
    }
  if (p->saturation != 1.0)
    {
      float f = (float) p->saturation;
#pragma omp simd
      for (size_t i = 0; i < n; i++)
        {
          float gray =
              (1.f - f) * (0.299f * r[i] + 0.587f * g[i] + 0.114f * b[i]);
          float vr = f * r[i] + gray, vg = f * g[i] + gray,
                vb = f * b[i] + gray;
          vr = vr < 0.f ? 0.f : vr;
          vg = vg < 0.f ? 0.f : vg;
          vb = vb < 0.f ? 0.f : vb;
          r[i] = vr > 255.f ? 255.f : vr;
          g[i] = vg > 255.f ? 255.f : vg;
          b[i] = vb > 255.f ? 255.f : vb;
        }
    }
}

void
graft_augment_apply (float *out,
                     const GraftImage *img,
                     const GraftPreprocess *pp,
                     const GraftAugmentParams *params)
{
  int W = pp->width, H = pp->height;
  size_t plane = (size_t) W * H;

  if (params->angle != 0.0)
    render_rotated (out, img, W, H, params);
  else
    graft_resize_bilinear (out, img, params->x0, params->y0, params->w,
                           params->h, W, H);
  color_jitter (out, plane, params);
  for (int c = 0; c < 3; c++)
    {
      float *p = out + c * plane;
      /* as graft_preprocess_region, for identical results */
      float scale = 1.0f / (255.0f * pp->std[c]);
      float shift = pp->mean[c] / pp->std[c];

      for (size_t i = 0; i < plane; i++)
        p[i] = p[i] * scale - shift;
      if (params->flip)
        for (int y = 0; y < H; y++)
          {
            float *row = p + (size_t) y * W;
            for (int a = 0, b = W - 1; a < b; a++, b--)
              {
                float t = row[a];
                row[a] = row[b];
                row[b] = t;
              }
          }
    }
}
