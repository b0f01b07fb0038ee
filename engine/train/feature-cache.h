/* feature-cache.h: the frozen layers' output, computed once per image.
 *
 * When every layer before the first trained one is frozen and the images
 * are not augmented, those layers give the same output for an image every
 * epoch. The cache keeps it per image and value (slot), in memory up to a
 * budget, beyond it in an unlinked temporary file.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GraftFeatureCache GraftFeatureCache;

/* floats_per_item[s]: the size of slot s for one image. */
GraftFeatureCache *graft_feature_cache_new (int n_items,
                                            const size_t *floats_per_item,
                                            int n_slots,
                                            size_t memory_budget,
                                            GError **error);
void graft_feature_cache_free (GraftFeatureCache *cache);

/* Stores rows for n items: data is (n, floats_per_item[slot]). */
gboolean graft_feature_cache_write (GraftFeatureCache *cache,
                                    int slot,
                                    const int *items,
                                    int n,
                                    const float *data,
                                    GError **error);
/* Reads rows for n items into out (n, floats_per_item[slot]). */
void graft_feature_cache_read (
    GraftFeatureCache *cache, int slot, const int *items, int n, float *out);
void graft_feature_cache_set_complete (GraftFeatureCache *cache);
gboolean graft_feature_cache_complete (const GraftFeatureCache *cache);
gboolean graft_feature_cache_in_memory (const GraftFeatureCache *cache);
size_t graft_feature_cache_bytes (const GraftFeatureCache *cache);

G_END_DECLS
