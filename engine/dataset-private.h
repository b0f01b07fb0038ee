/* dataset-private.h: what the dataset scan's files share.
 *
 * dataset-walk.c finds the class folders and candidate files,
 * dataset-check.c looks inside each file (on worker threads),
 * dataset-report.c turns what was found into issues and JSON, and
 * dataset.c runs the scan and makes the split.
 */
#pragma once

#include "config.h"
#include "dataset.h"

#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

/* User-visible text goes through gettext's "graft" domain without any
 * GTK: po/ collects _() and g_dngettext() from these files. */
#undef _
#define _(String) g_dgettext (GETTEXT_PACKAGE, String)

/* Why a file that looked like a photo cannot be used. */
typedef enum
{
  GRAFT_SKIP_NONE,
  GRAFT_SKIP_NOT_AN_IMAGE, /* named like a photo, but something else */
  GRAFT_SKIP_UNSUPPORTED,  /* an image format Graft does not read (HEIC...) */
  GRAFT_SKIP_CORRUPT,      /* the decoder refused the data */
  GRAFT_SKIP_TRUNCATED,    /* the data stops early */
  GRAFT_SKIP_TOO_LARGE,    /* over the file or pixel limits */
  GRAFT_SKIP_UNREADABLE,   /* permissions, I/O errors, broken links */
  GRAFT_SKIP_EMPTY,        /* zero bytes */
  GRAFT_SKIP_N_REASONS,
} GraftSkipReason;

/* A file found under a class folder, before and after its check. */
typedef struct
{
  char *path;       /* absolute, file system encoding */
  char *display;    /* relative to the root, UTF-8, for messages */
  int class_slot;   /* index into GraftWalk.class_names */
  GraftSplit split; /* as given by the folders (TRAIN when no split given) */
  gboolean broken_link;

  /* Filled in by graft_dataset_check_file (): */
  gboolean is_image;    /* usable photo */
  gboolean ignored;     /* not an image, not named like one */
  GraftSkipReason skip; /* != NONE: named like an image but unusable */
  guint8 sha256[32];
  int width, height;
} GraftCandidate;

/* What the walk of the folder tree found. */
typedef struct
{
  gboolean given_split;
  GPtrArray *class_names; /* char* (UTF-8 display names), not yet sorted */
  GPtrArray *candidates;  /* GraftCandidate* */
  GPtrArray
      *outside_class; /* char* display paths of files not in a class folder */
  GPtrArray *unused_dirs;  /* char* top-level folders the split does not use */
  GPtrArray *too_deep;     /* char* folders beyond max_depth */
  GPtrArray *link_loops;   /* char* links back to a folder above them */
  GPtrArray *link_repeats; /* char* links to a folder already scanned */
  GPtrArray *bad_names;    /* char* names that are not UTF-8 */
  GPtrArray *unreadable_dirs;  /* char* folders that could not be listed */
  GArray *class_has_val_dir;   /* gboolean per class slot (given split) */
  GArray *class_has_train_dir; /* gboolean per class slot (given split) */
  int hidden;                  /* hidden files and folders skipped */
  int files_seen;
} GraftWalk;

void graft_walk_free (GraftWalk *walk);
/* NULL with an error only when root cannot be read at all (or on
 * cancellation). */
GraftWalk *graft_dataset_walk (const char *root,
                               const GraftDatasetOptions *options,
                               GCancellable *cancellable,
                               GError **error);

/* Reads, hashes, sniffs and decodes one file (thread safe). */
void graft_dataset_check_file (GraftCandidate *candidate);

/* Adds issue (kind, severity, files) to dataset->issues; takes message. */
void graft_dataset_add_issue (GraftDataset *dataset,
                              GraftIssueKind kind,
                              GraftSeverity severity,
                              int class_index,
                              char *message,
                              char **files);
/* All issues that follow from the items, the walk and the checks. */
void graft_dataset_report_build (GraftDataset *dataset,
                                 const GraftWalk *walk,
                                 const GraftDatasetOptions *options);

/* A path as the report shows it: relative to the root (or to the separate
 * validation folder, prefixed by its name), UTF-8. Newly allocated. */
char *graft_dataset_display_path (const GraftDataset *dataset,
                                  const char *path);

G_END_DECLS
