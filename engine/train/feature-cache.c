/* feature-cache.c: the frozen layers' output, computed once per image. */
#include "train/feature-cache.h"

#include "graft-error.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

struct _GraftFeatureCache
{
  int n_items;
  int n_slots;
  size_t *slot_floats;
  size_t *slot_offset; /* floats from the start of an item's record */
  size_t item_floats;
  float *memory; /* n_items x item_floats, or NULL when on file */
  int fd;        /* the spill file, unlinked at once; -1 when unused */
  gboolean complete;
};

void
graft_feature_cache_free (GraftFeatureCache *c)
{
  if (c == NULL)
    return;
  g_free (c->memory);
  if (c->fd >= 0)
    close (c->fd);
  g_free (c->slot_floats);
  g_free (c->slot_offset);
  g_free (c);
}

GraftFeatureCache *
graft_feature_cache_new (int n_items,
                         const size_t *floats_per_item,
                         int n_slots,
                         size_t memory_budget,
                         GError **error)
{
  GraftFeatureCache *c = g_new0 (GraftFeatureCache, 1);
  size_t total;

  c->n_items = n_items;
  c->n_slots = n_slots;
  c->fd = -1;
  c->slot_floats =
      g_memdup2 (floats_per_item, sizeof (size_t) * MAX (n_slots, 1));
  c->slot_offset = g_new0 (size_t, MAX (n_slots, 1));
  for (int s = 0; s < n_slots; s++)
    {
      c->slot_offset[s] = c->item_floats;
      c->item_floats += floats_per_item[s];
    }
  total = (size_t) n_items * c->item_floats * sizeof (float);
  if (total <= memory_budget)
    {
      c->memory = g_try_malloc (MAX (total, 1));
      if (c->memory)
        return c;
    }
  {
    g_autofree char *path = NULL;
    c->fd = g_file_open_tmp ("graft-features-XXXXXX", &path, error);
    if (c->fd < 0)
      {
        graft_feature_cache_free (c);
        return NULL;
      }
    /* Unlinked at once: the space returns to the system even if we crash. */
    g_unlink (path);
  }
  return c;
}

gboolean
graft_feature_cache_write (GraftFeatureCache *c,
                           int slot,
                           const int *items,
                           int n,
                           const float *data,
                           GError **error)
{
  size_t row = c->slot_floats[slot];
  for (int i = 0; i < n; i++)
    {
      size_t offset = (size_t) items[i] * c->item_floats + c->slot_offset[slot];
      if (c->memory)
        {
          memcpy (c->memory + offset, data + (size_t) i * row,
                  row * sizeof (float));
          continue;
        }
      if (pwrite (c->fd, data + (size_t) i * row, row * sizeof (float),
                  (off_t) (offset * sizeof (float))) !=
          (ssize_t) (row * sizeof (float)))
        {
          int saved = errno;
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                       "cannot write the feature cache to a temporary file: %s",
                       g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}

void
graft_feature_cache_read (
    GraftFeatureCache *c, int slot, const int *items, int n, float *out)
{
  size_t row = c->slot_floats[slot];
  for (int i = 0; i < n; i++)
    {
      size_t offset = (size_t) items[i] * c->item_floats + c->slot_offset[slot];
      if (c->memory)
        memcpy (out + (size_t) i * row, c->memory + offset,
                row * sizeof (float));
      else if (pread (c->fd, out + (size_t) i * row, row * sizeof (float),
                      (off_t) (offset * sizeof (float))) !=
               (ssize_t) (row * sizeof (float)))
        /* Written by us a moment ago: a short read means the disk failed;
         * zeros keep training going and the loss will show it. */
        memset (out + (size_t) i * row, 0, row * sizeof (float));
    }
}

void
graft_feature_cache_set_complete (GraftFeatureCache *c)
{
  c->complete = TRUE;
}

gboolean
graft_feature_cache_complete (const GraftFeatureCache *c)
{
  return c->complete;
}

gboolean
graft_feature_cache_in_memory (const GraftFeatureCache *c)
{
  return c->memory != NULL;
}

size_t
graft_feature_cache_bytes (const GraftFeatureCache *c)
{
  return (size_t) c->n_items * c->item_floats * sizeof (float);
}
