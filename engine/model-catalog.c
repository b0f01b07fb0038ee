/* model-catalog.c: the base models that ship with Graft. */
#include "model-catalog.h"

#include "config.h"
#include "graft-error.h"

static const GraftCatalogEntry entries[] = {
  {
    .id = "mobilenet_v2_1.0_224",
    .file = "mobilenet_v2_1.0_224_qdq.onnx",
    .title = "MobileNetV2",
    .summary = "The most accurate of the three: a good first choice for "
               "most photo collections.",
    .input_size = 224,
    .imagenet_top1 = 70.8,
    .relative_speed = 1.0,
    .is_default = TRUE,
  },
  {
    .id = "mobilenet_v1_0.5_160",
    .file = "mobilenet_v1_0.5_160_qdq.onnx",
    .title = "MobileNet v1 (0.5, 160 px)",
    .summary = "About four times faster: for quick experiments or slow "
               "computers.",
    .input_size = 160,
    .imagenet_top1 = 57.2,
    .relative_speed = 4.1,
  },
  {
    .id = "mobilenet_v1_0.25_128",
    .file = "mobilenet_v1_0.25_128_qdq.onnx",
    .title = "MobileNet v1 (0.25, 128 px)",
    .summary = "The smallest and fastest: for simple categories that look "
               "very different.",
    .input_size = 128,
    .imagenet_top1 = 41.0,
    .relative_speed = 11.6,
  },
};

const GraftCatalogEntry *
graft_catalog_entries (size_t *n)
{
  *n = G_N_ELEMENTS (entries);
  return entries;
}

const GraftCatalogEntry *
graft_catalog_default (void)
{
  return &entries[0];
}

const GraftCatalogEntry *
graft_catalog_find (const char *id)
{
  for (size_t i = 0; i < G_N_ELEMENTS (entries); i++)
    if (g_str_equal (entries[i].id, id))
      return &entries[i];
  return NULL;
}

char *
graft_catalog_models_dir (GError **error)
{
  const char *env = g_getenv ("GRAFT_DATADIR");
  const char *candidates[] = { env, GRAFT_PKGDATADIR, GRAFT_SOURCE_DATADIR };

  for (size_t i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *dir = NULL;
      g_autofree char *probe = NULL;
      if (candidates[i] == NULL || candidates[i][0] == '\0')
        continue;
      dir = g_build_filename (candidates[i], "models", NULL);
      probe = g_build_filename (dir, entries[0].file, NULL);
      if (g_file_test (probe, G_FILE_TEST_IS_REGULAR))
        return g_steal_pointer (&dir);
    }
  g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
               "the bundled models were not found (looked in "
               "$GRAFT_DATADIR, %s and %s)",
               GRAFT_PKGDATADIR, GRAFT_SOURCE_DATADIR);
  return NULL;
}

char *
graft_catalog_entry_path (const GraftCatalogEntry *entry, GError **error)
{
  g_autofree char *dir = graft_catalog_models_dir (error);
  g_autofree char *path = NULL;

  if (dir == NULL)
    return NULL;
  path = g_build_filename (dir, entry->file, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                   "%s: the bundled model file is missing", path);
      return NULL;
    }
  return g_steal_pointer (&path);
}

char *
graft_catalog_resolve (const char *id_or_path, GError **error)
{
  const GraftCatalogEntry *entry;

  if (id_or_path == NULL)
    return graft_catalog_entry_path (graft_catalog_default (), error);
  entry = graft_catalog_find (id_or_path);
  if (entry != NULL)
    return graft_catalog_entry_path (entry, error);
  if (!g_file_test (id_or_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_IO,
                   "%s: no such file, and not a bundled model name "
                   "(mobilenet_v2_1.0_224, mobilenet_v1_0.5_160, "
                   "mobilenet_v1_0.25_128)",
                   id_or_path);
      return NULL;
    }
  return g_strdup (id_or_path);
}

char *
graft_catalog_labels_path (GError **error)
{
  g_autofree char *dir = graft_catalog_models_dir (error);
  if (dir == NULL)
    return NULL;
  return g_build_filename (dir, "imagenet_labels.txt", NULL);
}
