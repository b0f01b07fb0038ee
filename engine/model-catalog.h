/* model-catalog.h: the base models that ship with Graft.
 *
 * The catalog finds data/models without any argument: $GRAFT_DATADIR when
 * set (tests, running from the build tree), else the installed
 * GRAFT_PKGDATADIR, else the source tree's data/ (an uninstalled build).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  const char *id;          /* "mobilenet_v2_1.0_224" */
  const char *file;        /* file name inside models/ */
  const char *title;       /* "MobileNetV2" */
  const char *summary;     /* what it is good at, one sentence */
  int input_size;          /* 224 */
  double imagenet_top1;    /* published top-1, percent */
  /* Photos per second relative to the default (larger is faster), measured
   * with tests/bench/bench-inference at batch 8 on 2 cores: 115.5, 478.2 and
   * 1334.6 images/s. */
  double relative_speed;
  gboolean is_default;
} GraftCatalogEntry;

/* The bundled models, the default first; n receives the count. */
const GraftCatalogEntry *graft_catalog_entries (size_t *n);
const GraftCatalogEntry *graft_catalog_default (void);
const GraftCatalogEntry *graft_catalog_find (const char *id);

/* Folder holding the bundled models (newly allocated), or NULL with an
 * error naming the places searched. */
char *graft_catalog_models_dir (GError **error);
/* Full path of an entry's file, or NULL with an error when missing. */
char *graft_catalog_entry_path (const GraftCatalogEntry *entry,
                                GError **error);
/* Resolves what a user typed: a catalog id, or a path to an ONNX file.
 * NULL selects the default model. */
char *graft_catalog_resolve (const char *id_or_path, GError **error);
/* Path of imagenet_labels.txt beside the bundled models. */
char *graft_catalog_labels_path (GError **error);

G_END_DECLS
