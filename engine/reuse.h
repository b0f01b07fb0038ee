/* reuse.h: how much of the pretrained model a fine-tune kept.
 *
 * Two measures per block of the pretrained trunk, on the user's photos:
 *
 * - Linear CKA (centered kernel alignment, Kornblith et al. 2019) between
 *   the block's output in the base model and in the fine-tuned model over
 *   the same images: 1 when the features are the same up to a rotation and
 *   a scale, near 0 when unrelated. A conv activation (N, C, H, W) is
 *   pooled to (N, C) by its spatial mean before comparing: the channels are
 *   what the next layers and the head read, the pooled size is at most a
 *   few thousand whatever the resolution (flattening C x H x W would need
 *   (CHW)^2 accumulators at 224x224), and it is what the classifier itself
 *   sees at the last block. Other ranks: (N, C, ...) pooled over the rest.
 *
 * - The relative weight change ||W_ft - W_pre|| / ||W_pre|| (Frobenius,
 *   over all float constants a layer reads: conv weights and biases,
 *   BatchNorm scale, bias and running statistics), per block and per layer.
 *   Exactly 0 when every weight is bit for bit the same (a frozen block).
 *
 * The fine-tuned model has a new head, so only the base's trunk blocks are
 * compared, each matched in the fine-tuned graph by the names of its
 * nodes' outputs (which graph surgery and export keep).
 *
 * Readings (the CKA of the block's output):
 *   CKA >= 0.9           kept: features reused
 *   0.5 <= CKA < 0.9     adapted: features partly changed
 *   CKA < 0.5            rebuilt: features changed a lot
 * 0.9 is about where two trainings of one network from different seeds
 * still agree on their early layers; below 0.5 the block computes mostly
 * something else.
 */
#pragma once

#include "blocks.h"
#include "graph.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* ---- linear CKA kernels ----
 * x (n, p) and y (n, q), row-major, one row per image. NAN when either
 * side has no variance over the rows (or n < 2). */

/* The Gram form, plain loops, double accumulation: K = X X^T and
 * L = Y Y^T (n, n), both centered as H K H (H = I - 11^T / n), then
 * <Kc, Lc> / (||Kc||_F ||Lc||_F). O(n^2 (p + q)): for tests. */
double
graft_cka_reference (const float *x, const float *y, int n, int p, int q);
/* The feature form: columns centered, then
 * ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F) with cblas_sgemm. */
double graft_cka (const float *x, const float *y, int n, int p, int q);

/* The feature form over rows that arrive in batches, in memory that does
 * not grow with n: X^T X (p, p), Y^T Y (q, q), Y^T X (q, p) and the column
 * sums, accumulated in double. Centering at the end is exact:
 * Xc^T Xc = X^T X - sx sx^T / n. The rows are shifted by the first batch's
 * column means before accumulating (centering does not see a shift) so
 * that the subtraction does not cancel away the variance. */
typedef struct _GraftCkaAccum GraftCkaAccum;

GraftCkaAccum *graft_cka_accum_new (int p, int q);
void graft_cka_accum_free (GraftCkaAccum *acc);
/* Adds n rows: x (n, p), y (n, q). */
void
graft_cka_accum_add (GraftCkaAccum *acc, const float *x, const float *y, int n);
int64_t graft_cka_accum_rows (const GraftCkaAccum *acc);
double graft_cka_accum_value (const GraftCkaAccum *acc);

/* ---- the analysis of a fine-tune ---- */

#define GRAFT_REUSE_KEPT_CKA 0.9
#define GRAFT_REUSE_REBUILT_CKA 0.5

typedef enum
{
  GRAFT_REUSE_UNKNOWN, /* no CKA: no images yet, or constant features */
  GRAFT_REUSE_KEPT,
  GRAFT_REUSE_ADAPTED,
  GRAFT_REUSE_REBUILT,
} GraftReuseReading;

GraftReuseReading graft_reuse_reading_for_cka (double cka);
/* "kept", "adapted", "rebuilt", "unknown" (for JSON). */
const char *graft_reuse_reading_id (GraftReuseReading reading);
/* "kept: features reused", ... (for people). */
const char *graft_reuse_reading_text (GraftReuseReading reading);

typedef struct
{
  char *
      name; /* the node's label in the base model, as graft-cli info shows it */
  char *op_type;
  int64_t params;
  double weight_change;
} GraftReuseLayer;

typedef struct
{
  char *name; /* as the layers page shows it (blocks.h) */
  GraftBlockKind kind;
  int64_t params;
  char *value;          /* the activation compared: the block's output */
  int features;         /* per image, after pooling */
  double cka;           /* NAN until images are added, or when undefined */
  double weight_change; /* over the whole block; 0 when unchanged */
  gboolean unchanged;   /* every float constant bit for bit the same: frozen */
  /* This block and every node before it unchanged and both models fed the
   * same tensors: its CKA must come out 1 (a check on the analysis). */
  gboolean must_match;
  GraftReuseReading reading;
  GraftReuseLayer *layers; /* the nodes that hold weights */
  int n_layers;
} GraftReuseBlock;

typedef struct _GraftReuseAnalysis GraftReuseAnalysis;

/* Matches base's trunk blocks in tuned and measures the weight change.
 * Both graphs are borrowed and must outlive the analysis. Images go in
 * batch_size at a time; 0 picks up to 8 as memory allows (both models'
 * activations within 384 MiB). Fails with GRAFT_ERROR_INVALID when the
 * inputs differ in size, a matched layer's weights differ in shape, or no
 * block is common to both. */
GraftReuseAnalysis *graft_reuse_analysis_new (GraftGraph *base,
                                              GraftGraph *tuned,
                                              int batch_size,
                                              GError **error);
void graft_reuse_analysis_free (GraftReuseAnalysis *analysis);

/* The input both models take, (3, height, width) per image. */
void graft_reuse_analysis_input_size (const GraftReuseAnalysis *analysis,
                                      int *width,
                                      int *height);

/* Runs both models on n preprocessed images (n, 3, H, W) and accumulates
 * every block's CKA. tuned_images NULL: the same tensors as base_images. */
gboolean graft_reuse_analysis_add (GraftReuseAnalysis *analysis,
                                   const float *base_images,
                                   const float *tuned_images,
                                   int n,
                                   GError **error);

/* Decodes and prepares each photo for each model as its metadata says
 * (preprocess.*, and preprocess.input_range 0..255 for a model that
 * normalizes inside), then adds them. A photo that cannot be read is
 * skipped: its error message goes into skipped (may be NULL). FALSE only
 * when running the models fails or on cancel. */
gboolean graft_reuse_analysis_add_files (GraftReuseAnalysis *analysis,
                                         const char *const *paths,
                                         int n_paths,
                                         GPtrArray *skipped,
                                         GCancellable *cancellable,
                                         GError **error);

int64_t graft_reuse_analysis_n_images (const GraftReuseAnalysis *analysis);
/* Base blocks that were not found in tuned (its trunk is shorter). */
int graft_reuse_analysis_n_unmatched (const GraftReuseAnalysis *analysis);

/* The compared blocks in order, CKA and reading from the images so far.
 * Owned by the analysis. */
const GraftReuseBlock *
graft_reuse_analysis_blocks (GraftReuseAnalysis *analysis, int *n_blocks);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftCkaAccum, graft_cka_accum_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftReuseAnalysis, graft_reuse_analysis_free)

G_END_DECLS
