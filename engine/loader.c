/* loader.c: photos to batches of tensors, on worker threads, with a cache.
 *
 * Each item of a batch is one job on a GThreadPool: the worker finds the
 * item's cache entry (or decodes the photo to make one) and writes the
 * item's slice of the output. Outputs depend only on (entry, seed ^ index),
 * so any number of threads gives the same bits.
 *
 * The cache holds two kinds of entry, in one LRU under one byte budget:
 *  - for augmented loads, the photo as 8-bit RGB with its shorter side
 *    shrunk to graft_preprocess_min_side (256 for 224: about 1.15x the
 *    input), so later epochs only crop, turn, jitter and normalize;
 *  - for un-augmented loads, the finished (3, H, W) float tensor. Cropping
 *    the shrunk copy would resample twice and differ from
 *    graft_preprocess_image by up to a few levels; the exact tensor keeps
 *    evaluation identical to the classifier, at 4 bytes per value.
 * Augmented outputs are always rendered from the shrunk copy, whether it
 * was just decoded or cached, so the cache never changes results.
 *
 * Load jobs go ahead of prefetch jobs in the pool's queue. A job that
 * needs an entry another worker is decoding waits for it instead of
 * decoding it twice.
 */
#include "loader.h"

#include "augment.h"
#include "graft-error.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>

typedef enum
{
  KIND_TENSOR = 0, /* exact un-augmented output */
  KIND_IMAGE = 1,  /* shrunk RGB copy for augmentation */
} EntryKind;

typedef struct
{
  gsize key; /* index * 2 + kind */
  int refs;  /* jobs using it */
  gboolean in_cache;
  size_t bytes;
  GraftImage *image;
  float *tensor;
  GList link; /* in the LRU queue, most recent at the head */
} Entry;

typedef struct
{
  int remaining;
  float *out;
  GError **errors; /* per slot */
} Batch;

typedef struct
{
  int priority; /* 0 load, 1 prefetch */
  guint64 seq;
  int index;
  EntryKind kind;
  Batch *batch; /* NULL for prefetch */
  int slot;
  guint64 seed;
} Job;

struct _GraftLoader
{
  char **paths;
  int n_paths;
  GraftPreprocess pp;
  GraftAugment augment;
  int min_side;   /* decode at least this shorter side (JPEG DCT scaling) */
  int cache_side; /* shorter side of KIND_IMAGE entries */
  size_t budget;
  GThreadPool *pool;

  GMutex lock;       /* guards everything below */
  GCond cond;        /* an entry stopped being busy, or a batch finished */
  GHashTable *cache; /* key -> Entry* */
  GQueue lru;
  GHashTable *busy; /* keys being decoded */
  size_t cached_bytes;
  guint64 decodes;
  gboolean last_augment;
  gint closing;
  guint64 seq;
};

static gsize
entry_key (int index, EntryKind kind)
{
  return (gsize) index * 2 + kind;
}

static void
entry_free (Entry *e)
{
  graft_image_free (e->image);
  g_free (e->tensor);
  g_free (e);
}

/* ---- making entries
 * ----------------------------------------------------------- */

static GraftImage *
decode (GraftLoader *loader, int index, GError **error)
{
  const char *path = loader->paths[index];
  g_autofree char *name = g_filename_display_name (path);
  g_autofree char *data = NULL;
  g_autoptr (GError) local = NULL;
  struct stat st;
  gsize len;

  /* the image module's limit, checked before reading */
  if (g_stat (path, &st) == 0 &&
      (guint64) st.st_size > GRAFT_IMAGE_MAX_FILE_BYTES)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "%s: %" G_GUINT64_FORMAT
                   " MB is more than the %zu MB file size limit",
                   name, (guint64) st.st_size >> 20,
                   GRAFT_IMAGE_MAX_FILE_BYTES >> 20);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &len, &local))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO, "%s: cannot read (%s)",
                   name, local->message);
      return NULL;
    }
  return graft_image_load_from_memory ((const guint8 *) data, len, name,
                                       loader->min_side, error);
}

/* img with its shorter side brought down to side (a new image), or img
 * itself when it is not larger. */
static GraftImage *
shrink (GraftImage *img, int side)
{
  int w = img->width, h = img->height, nw, nh;
  size_t plane;
  g_autofree float *chw = NULL;
  GraftImage *out;

  if (MIN (w, h) <= side)
    return img;
  if (w <= h)
    {
      nw = side;
      nh = MAX (1, (int) lround ((double) h * side / w));
    }
  else
    {
      nh = side;
      nw = MAX (1, (int) lround ((double) w * side / h));
    }
  plane = (size_t) nw * nh;
  chw = g_new (float, 3 * plane);
  graft_resize_bilinear (chw, img, 0.0, 0.0, w, h, nw, nh);
  out = g_new (GraftImage, 1);
  out->width = nw;
  out->height = nh;
  out->rgb = g_new (guint8, 3 * plane);
  for (size_t i = 0; i < plane; i++)
    for (int c = 0; c < 3; c++)
      {
        float v = chw[c * plane + i] + 0.5f;
        out->rgb[i * 3 + c] = (guint8) (v < 0.f ? 0.f : v > 255.f ? 255.f : v);
      }
  graft_image_free (img);
  return out;
}

static Entry *
produce (GraftLoader *loader, int index, EntryKind kind, GError **error)
{
  GraftImage *img = decode (loader, index, error);
  Entry *e;

  g_mutex_lock (&loader->lock);
  loader->decodes++;
  g_mutex_unlock (&loader->lock);
  if (img == NULL)
    return NULL;
  e = g_new0 (Entry, 1);
  e->key = entry_key (index, kind);
  e->link.data = e;
  if (kind == KIND_TENSOR)
    {
      size_t n = (size_t) 3 * loader->pp.width * loader->pp.height;
      e->tensor = g_new (float, n);
      graft_preprocess_image (e->tensor, img, &loader->pp);
      e->bytes = n * sizeof (float);
      graft_image_free (img);
    }
  else
    {
      e->image = shrink (img, loader->cache_side);
      e->bytes = (size_t) 3 * e->image->width * e->image->height;
    }
  return e;
}

/* ---- the cache (call with the lock held)
 * ------------------------------------------ */

static void
evict_one (GraftLoader *loader)
{
  GList *link = g_queue_pop_tail_link (&loader->lru);
  Entry *e = link->data;

  g_hash_table_remove (loader->cache, GSIZE_TO_POINTER (e->key));
  loader->cached_bytes -= e->bytes;
  e->in_cache = FALSE;
  if (e->refs == 0)
    entry_free (e);
}

static void
cache_insert (GraftLoader *loader, Entry *e)
{
  if (e->bytes > loader->budget)
    return;
  while (loader->cached_bytes + e->bytes > loader->budget)
    evict_one (loader);
  g_hash_table_insert (loader->cache, GSIZE_TO_POINTER (e->key), e);
  g_queue_push_head_link (&loader->lru, &e->link);
  loader->cached_bytes += e->bytes;
  e->in_cache = TRUE;
}

/* The entry for (index, kind) with a reference held: from the cache,
 * from a worker that is making it, or made here. */
static Entry *
acquire (GraftLoader *loader, int index, EntryKind kind, GError **error)
{
  gsize key = entry_key (index, kind);
  Entry *e;

  g_mutex_lock (&loader->lock);
  for (;;)
    {
      e = g_hash_table_lookup (loader->cache, GSIZE_TO_POINTER (key));
      if (e != NULL)
        {
          e->refs++;
          g_queue_unlink (&loader->lru, &e->link);
          g_queue_push_head_link (&loader->lru, &e->link);
          g_mutex_unlock (&loader->lock);
          return e;
        }
      if (!g_hash_table_contains (loader->busy, GSIZE_TO_POINTER (key)))
        break;
      g_cond_wait (&loader->cond, &loader->lock);
    }
  g_hash_table_add (loader->busy, GSIZE_TO_POINTER (key));
  g_mutex_unlock (&loader->lock);

  e = produce (loader, index, kind, error);

  g_mutex_lock (&loader->lock);
  g_hash_table_remove (loader->busy, GSIZE_TO_POINTER (key));
  if (e != NULL)
    {
      e->refs = 1;
      cache_insert (loader, e);
    }
  g_cond_broadcast (&loader->cond);
  g_mutex_unlock (&loader->lock);
  return e;
}

static void
release (GraftLoader *loader, Entry *e)
{
  g_mutex_lock (&loader->lock);
  if (--e->refs == 0 && !e->in_cache)
    entry_free (e);
  g_mutex_unlock (&loader->lock);
}

/* ---- workers
 * ------------------------------------------------------------------------ */

static void
render (GraftLoader *loader, const Entry *e, const Job *job, float *out)
{
  if (job->kind == KIND_TENSOR)
    memcpy (out, e->tensor, e->bytes);
  else
    {
      GraftAugmentParams params;
      graft_augment_sample (&params, &loader->augment, e->image->width,
                            e->image->height, job->seed ^ (guint64) job->index);
      graft_augment_apply (out, e->image, &loader->pp, &params);
    }
}

static void
run_job (gpointer data, gpointer user)
{
  Job *job = data;
  GraftLoader *loader = user;
  GError *error = NULL;
  Entry *e;

  if (job->batch == NULL)
    {
      if (!g_atomic_int_get (&loader->closing))
        {
          e = acquire (loader, job->index, job->kind, NULL);
          if (e != NULL)
            release (loader, e);
        }
      g_free (job);
      return;
    }

  e = acquire (loader, job->index, job->kind, &error);
  if (e != NULL)
    {
      size_t n = (size_t) 3 * loader->pp.width * loader->pp.height;
      render (loader, e, job, job->batch->out + n * job->slot);
      release (loader, e);
    }
  g_mutex_lock (&loader->lock);
  job->batch->errors[job->slot] = error;
  if (--job->batch->remaining == 0)
    g_cond_broadcast (&loader->cond);
  g_mutex_unlock (&loader->lock);
  g_free (job);
}

static gint
compare_jobs (gconstpointer pa, gconstpointer pb, gpointer user)
{
  const Job *a = pa, *b = pb;

  if (a->priority != b->priority)
    return a->priority < b->priority ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/* ---- the API
 * -------------------------------------------------------------------------- */

GraftLoader *
graft_loader_new (const char *const *paths,
                  int n_paths,
                  const GraftPreprocess *pp,
                  const GraftAugment *augment,
                  int n_threads,
                  size_t cache_budget_bytes)
{
  GraftLoader *loader = g_new0 (GraftLoader, 1);

  loader->paths = g_new0 (char *, n_paths + 1);
  for (int i = 0; i < n_paths; i++)
    loader->paths[i] = g_strdup (paths[i]);
  loader->n_paths = n_paths;
  loader->pp = *pp;
  if (augment != NULL)
    loader->augment = *augment;
  loader->min_side = graft_preprocess_min_side (pp);
  loader->cache_side = loader->min_side;
  loader->budget = cache_budget_bytes;
  loader->last_augment = loader->augment.enabled;
  g_mutex_init (&loader->lock);
  g_cond_init (&loader->cond);
  loader->cache = g_hash_table_new (g_direct_hash, g_direct_equal);
  loader->busy = g_hash_table_new (g_direct_hash, g_direct_equal);
  g_queue_init (&loader->lru);
  if (n_threads <= 0)
    n_threads = (int) g_get_num_processors ();
  /* exclusive: the threads live as long as the loader, no start-up cost
   * per batch */
  loader->pool =
      g_thread_pool_new (run_job, loader, MAX (n_threads, 1), TRUE, NULL);
  if (loader->pool == NULL)
    g_error ("cannot start the loader's threads");
  g_thread_pool_set_sort_function (loader->pool, compare_jobs, NULL);
  return loader;
}

void
graft_loader_free (GraftLoader *loader)
{
  if (loader == NULL)
    return;
  /* Queued prefetch jobs see closing and return at once. */
  g_atomic_int_set (&loader->closing, 1);
  g_thread_pool_free (loader->pool, FALSE, TRUE);
  while (loader->lru.length > 0)
    evict_one (loader);
  g_hash_table_unref (loader->cache);
  g_hash_table_unref (loader->busy);
  g_mutex_clear (&loader->lock);
  g_cond_clear (&loader->cond);
  g_strfreev (loader->paths);
  g_free (loader);
}

static EntryKind
kind_for (const GraftLoader *loader, gboolean augment)
{
  return augment && loader->augment.enabled ? KIND_IMAGE : KIND_TENSOR;
}

gboolean
graft_loader_load (GraftLoader *loader,
                   const int *indices,
                   int n,
                   gboolean augment,
                   guint64 seed,
                   float *out,
                   GError **error)
{
  Batch batch = { 0 };
  EntryKind kind = kind_for (loader, augment);
  gboolean ok = TRUE;

  for (int i = 0; i < n; i++)
    if (indices[i] < 0 || indices[i] >= loader->n_paths)
      {
        g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                     "item %d is not one of the %d photos", indices[i],
                     loader->n_paths);
        return FALSE;
      }
  if (n <= 0)
    return TRUE;

  batch.remaining = n;
  batch.out = out;
  batch.errors = g_new0 (GError *, n);
  g_mutex_lock (&loader->lock);
  loader->last_augment = augment;
  for (int i = 0; i < n; i++)
    {
      Job *job = g_new0 (Job, 1);
      job->priority = 0;
      job->seq = loader->seq++;
      job->index = indices[i];
      job->kind = kind;
      job->batch = &batch;
      job->slot = i;
      job->seed = seed;
      g_thread_pool_push (loader->pool, job, NULL);
    }
  while (batch.remaining > 0)
    g_cond_wait (&loader->cond, &loader->lock);
  g_mutex_unlock (&loader->lock);

  /* The first failure in batch order, whichever thread saw it first. */
  for (int i = 0; i < n; i++)
    if (batch.errors[i] != NULL)
      {
        if (ok)
          g_propagate_error (error, batch.errors[i]);
        else
          g_error_free (batch.errors[i]);
        ok = FALSE;
      }
  g_free (batch.errors);
  return ok;
}

void
graft_loader_prefetch (GraftLoader *loader, const int *indices, int n)
{
  g_mutex_lock (&loader->lock);
  for (int i = 0; i < n; i++)
    {
      EntryKind kind = kind_for (loader, loader->last_augment);
      gsize key;
      Job *job;

      if (indices[i] < 0 || indices[i] >= loader->n_paths)
        continue;
      key = entry_key (indices[i], kind);
      if (g_hash_table_contains (loader->cache, GSIZE_TO_POINTER (key)) ||
          g_hash_table_contains (loader->busy, GSIZE_TO_POINTER (key)))
        continue;
      job = g_new0 (Job, 1);
      job->priority = 1;
      job->seq = loader->seq++;
      job->index = indices[i];
      job->kind = kind;
      g_thread_pool_push (loader->pool, job, NULL);
    }
  g_mutex_unlock (&loader->lock);
}

void
graft_loader_get_stats (GraftLoader *loader, GraftLoaderStats *stats)
{
  g_mutex_lock (&loader->lock);
  stats->cached_bytes = loader->cached_bytes;
  stats->cached_items = (int) g_hash_table_size (loader->cache);
  stats->decodes = loader->decodes;
  g_mutex_unlock (&loader->lock);
}
