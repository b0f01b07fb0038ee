/* augment.h: the random transforms of training photos, as plain math.
 *
 * Everything random comes from one small generator seeded per item, so an
 * item's augmentation depends on (seed, index) only, never on threads.
 * The loader samples GraftAugmentParams for an item, then renders them
 * from its cached, resized copy of the photo.
 */
#pragma once

#include "loader.h"

G_BEGIN_DECLS

/* splitmix64: tiny, portable, good enough for augmentation. */
typedef struct
{
  guint64 state;
} GraftRng;

void graft_rng_init (GraftRng *rng, guint64 seed);
guint64 graft_rng_next (GraftRng *rng);
/* Uniform in [lo, hi). */
double graft_rng_uniform (GraftRng *rng, double lo, double hi);

typedef struct
{
  double x0, y0, w, h; /* the crop box, in pixels of the image sampled */
  gboolean flip;       /* mirror left-right */
  double angle;        /* rotation in radians, counterclockwise */
  double brightness, contrast, saturation; /* factors, 1 = unchanged */
} GraftAugmentParams;

/* The identity: pp's central crop of a width x height image, no flip, no
 * rotation, no color change. */
void graft_augment_params_identity (GraftAugmentParams *params,
                                    const GraftPreprocess *pp,
                                    int width,
                                    int height);

/* Draws the parameters for one item of a width x height image from seed:
 * torchvision's RandomResizedCrop (area fraction in [min_crop_area, 1],
 * aspect ratio in [3/4, 4/3] log-uniform, 10 tries then the whole image
 * clamped to that ratio), a flip with probability 1/2, an angle uniform in
 * +-rotate_degrees, and ColorJitter factors uniform in [1 - s, 1 + s]. */
void graft_augment_sample (GraftAugmentParams *params,
                           const GraftAugment *augment,
                           int width,
                           int height,
                           guint64 seed);

/* out (3, pp->height, pp->width): img transformed by params, normalized
 * as pp says. The crop is resized with preprocess's antialiased bilinear
 * filter; a rotation turns the content about the crop's center, sampling
 * a slightly larger box so that corners show the photo (edge pixels
 * repeat at the border), never black; then brightness (scale), contrast
 * (blend with the mean gray), saturation (blend with each pixel's gray),
 * each clamped to 0..255 as torchvision does, in that fixed order. */
void graft_augment_apply (float *out,
                          const GraftImage *img,
                          const GraftPreprocess *pp,
                          const GraftAugmentParams *params);

G_END_DECLS
