/* dataset.h: a user's folder of labeled photos as a checked, split dataset.
 *
 * Class-per-subfolder. When the top level holds train/ and val/ (or
 * validation/, test/), those are used as given; otherwise a stratified,
 * seeded split is made. Scanning also builds the health report the app and
 * `graft-cli check-data` show.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  GRAFT_SPLIT_TRAIN,
  GRAFT_SPLIT_VAL,
} GraftSplit;

typedef struct
{
  char *path;    /* absolute, in the file system's encoding */
  int label;     /* index into classes */
  GraftSplit split;
  guint8 sha256[32]; /* content hash, for duplicates */
  int width, height; /* from the header, 0 when unknown */
} GraftDatasetItem;

typedef enum
{
  GRAFT_ISSUE_SKIPPED_FILE,      /* a file that cannot be used: reason in message */
  GRAFT_ISSUE_NOT_AN_IMAGE,      /* a non-image file, ignored */
  GRAFT_ISSUE_DUPLICATE,         /* same content twice in one split */
  GRAFT_ISSUE_LEAKAGE,           /* same content in training and validation */
  GRAFT_ISSUE_CONFLICTING_LABEL, /* same content in two classes */
  GRAFT_ISSUE_IMBALANCE,         /* largest class much larger than smallest */
  GRAFT_ISSUE_FEW_IMAGES,        /* a class with too few photos */
  GRAFT_ISSUE_EMPTY_CLASS,       /* a class folder with no photos */
  GRAFT_ISSUE_SINGLE_CLASS,      /* fewer than two classes */
  GRAFT_ISSUE_TINY_IMAGE,        /* smaller than the model's input */
  GRAFT_ISSUE_NAME_ENCODING,     /* a file or folder name that is not UTF-8 */
  GRAFT_ISSUE_TOO_DEEP,          /* nesting beyond the depth Graft follows */
  GRAFT_ISSUE_LINK_LOOP,         /* a symbolic link loop, not followed */
  GRAFT_ISSUE_NO_VALIDATION,     /* a class without a validation photo */
  GRAFT_ISSUE_OUTSIDE_CLASS,     /* files (or folders) not inside a class folder, unused */
} GraftIssueKind;

typedef enum
{
  GRAFT_SEVERITY_INFO,
  GRAFT_SEVERITY_WARNING,
  GRAFT_SEVERITY_ERROR, /* training cannot start */
} GraftSeverity;

typedef struct
{
  GraftIssueKind kind;
  GraftSeverity severity;
  char *message;   /* plain words for a non-programmer, translatable */
  char **files;    /* the affected files (NULL-terminated), may be empty: UTF-8
                   * paths relative to the root, as the report shows them */
  int class_index; /* -1 when not about one class */
} GraftDatasetIssue;

typedef struct
{
  char *root;
  char **classes;      /* sorted names, n_classes */
  int n_classes;
  GArray *items;       /* GraftDatasetItem, train then val order as found */
  GPtrArray *issues;   /* GraftDatasetIssue* */
  gboolean given_split; /* train/ and val/ folders were used as they are */
  char *val_root;       /* options->val_dir, absolute, or NULL */
  int n_skipped;        /* files named like photos that cannot be used */
  int n_ignored;        /* other files (not images), left out */
} GraftDataset;

typedef struct
{
  double val_fraction;   /* 0.2 */
  guint64 seed;
  int min_side;          /* the model's input size, for "tiny image" */
  int min_per_class;     /* fewer photos gets a warning: 10 */
  int max_depth;         /* 8 */
  const char *val_dir;   /* a separate validation folder, or NULL */
} GraftDatasetOptions;

void graft_dataset_options_init (GraftDatasetOptions *options);

/* Scans root. Bad files never fail the scan: they become issues. NULL
 * with an error only when root itself cannot be read. cancellable may be
 * NULL; progress (may be NULL) gets files seen so far. */
GraftDataset *graft_dataset_scan (const char *root, const GraftDatasetOptions *options,
                                  GCancellable *cancellable,
                                  void (*progress) (int files_seen, gpointer user),
                                  gpointer user, GError **error);
void graft_dataset_free (GraftDataset *dataset);

/* Counts per class and split (arrays of n_classes; either may be NULL). */
void graft_dataset_count (const GraftDataset *dataset, int *train_counts, int *val_counts);
/* Items of one split, in a stable order: indices into dataset->items. */
GArray *graft_dataset_split_indices (const GraftDataset *dataset, GraftSplit split);
/* TRUE when no issue has error severity. */
gboolean graft_dataset_usable (const GraftDataset *dataset);
/* The health report as JSON text (see README: graft-cli check-data --json). */
char *graft_dataset_report_json (const GraftDataset *dataset);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftDataset, graft_dataset_free)

G_END_DECLS
