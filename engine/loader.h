/* loader.h: photos to preprocessed tensors, fast.
 *
 * Decodes on worker threads with prefetch and keeps decoded, resized
 * images in a bounded memory cache so that later epochs do not decode
 * again. Augmentation (random resized crop, flip, small rotation, color
 * jitter) is deterministic for a given seed and item.
 */
#pragma once

#include "dataset.h"
#include "preprocess.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean enabled;
  double min_crop_area;   /* random resized crop: area fraction range lower bound, 0.35 */
  gboolean flip;          /* horizontal flip */
  double rotate_degrees;  /* up to +- this, 10 */
  double brightness, contrast, saturation; /* jitter strengths, 0.2 each */
} GraftAugment;

void graft_augment_init_default (GraftAugment *augment);

typedef struct _GraftLoader GraftLoader;

/* items: paths of all images (indexable by the trainer's item indices);
 * n_threads 0 picks the number of cores. */
GraftLoader *graft_loader_new (const char *const *paths, int n_paths, const GraftPreprocess *pp,
                               const GraftAugment *augment, int n_threads,
                               size_t cache_budget_bytes);
void graft_loader_free (GraftLoader *loader);

/* Writes n images (n, 3, H, W) for the given item indices, augmented when
 * augment is TRUE (per item seed = seed ^ index) and the loader's augment
 * is enabled. Un-augmented output is bit for bit graft_preprocess_image
 * of graft_image_load (path, graft_preprocess_min_side (pp)), the decode
 * the classifier uses. A photo that fails to decode makes the call fail
 * with an error naming the file. */
gboolean graft_loader_load (GraftLoader *loader, const int *indices, int n, gboolean augment,
                            guint64 seed, float *out, GError **error);
/* Hints the next batch so workers can decode it while the trainer runs.
 * It prepares what the previous load asked for (augmented or not; before
 * any load, augmented when augment->enabled). */
void graft_loader_prefetch (GraftLoader *loader, const int *indices, int n);

typedef struct
{
  size_t cached_bytes; /* never above cache_budget_bytes */
  int cached_items;
  guint64 decodes;     /* photos decoded so far */
} GraftLoaderStats;

void graft_loader_get_stats (GraftLoader *loader, GraftLoaderStats *stats);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftLoader, graft_loader_free)

G_END_DECLS
