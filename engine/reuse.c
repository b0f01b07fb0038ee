/* reuse.c: compare a fine-tuned model with its base, block by block:
 * weight change from the constants, CKA from both models run on the same
 * photos (see reuse.h). */
#include "reuse.h"

#include "graft-error.h"
#include "image.h"
#include "preprocess.h"

#include <math.h>
#include <string.h>

GraftReuseReading
graft_reuse_reading_for_cka (double cka)
{
  if (isnan (cka))
    return GRAFT_REUSE_UNKNOWN;
  if (cka >= GRAFT_REUSE_KEPT_CKA)
    return GRAFT_REUSE_KEPT;
  if (cka >= GRAFT_REUSE_REBUILT_CKA)
    return GRAFT_REUSE_ADAPTED;
  return GRAFT_REUSE_REBUILT;
}

const char *
graft_reuse_reading_id (GraftReuseReading reading)
{
  switch (reading)
    {
    case GRAFT_REUSE_KEPT:
      return "kept";
    case GRAFT_REUSE_ADAPTED:
      return "adapted";
    case GRAFT_REUSE_REBUILT:
      return "rebuilt";
    default:
      return "unknown";
    }
}

const char *
graft_reuse_reading_text (GraftReuseReading reading)
{
  switch (reading)
    {
    case GRAFT_REUSE_KEPT:
      return "kept: features reused";
    case GRAFT_REUSE_ADAPTED:
      return "adapted: features partly changed";
    case GRAFT_REUSE_REBUILT:
      return "rebuilt: features changed a lot";
    default:
      return "unknown: features do not vary over these photos";
    }
}

#define REUSE_MAX_BATCH 8
#define REUSE_MEMORY_BUDGET ((size_t) 384 << 20)

/* One model as the analysis runs it. */
typedef struct
{
  GraftGraph *graph;
  GraftPlan *plan; /* batch images at a time */
  GraftPreprocess pp;
  gboolean takes_0_255; /* preprocess.input_range 0..255: normalizes itself */
} Side;

struct _GraftReuseAnalysis
{
  Side base, tuned;
  int batch, width, height;
  gboolean same_input; /* both models take the same tensor for a photo */
  GraftReuseBlock *blocks;
  int n_blocks;
  int n_unmatched;
  int *base_values, *tuned_values; /* per block: the activation compared */
  GraftCkaAccum **acc;
  float *fx, *fy;              /* (batch, features) scratch */
  float *pad_base, *pad_tuned; /* (batch, 3, H, W) for a short last batch */
  int64_t n_images;
};

static gboolean
side_init (Side *side, GraftGraph *graph, GError **error)
{
  const char *range;

  side->graph = graph;
  if (graph->n_inputs != 1)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "%s: takes %d inputs; only models with one image input can "
                   "be compared",
                   graph->display_name, graph->n_inputs);
      return FALSE;
    }
  if (!graft_preprocess_from_model (&side->pp, graph->model, error))
    {
      g_prefix_error (error, "%s: ", graph->display_name);
      return FALSE;
    }
  range =
      graft_onnx_model_get_metadata (graph->model, "preprocess.input_range");
  side->takes_0_255 = range != NULL && g_str_equal (range, "0..255");
  return TRUE;
}

/* The input's (H, W): as declared in the file, else the preprocessing's. */
static void
side_input_size (const Side *side, int *width, int *height)
{
  const GraftValue *in = &side->graph->values[side->graph->inputs[0]];
  *width = side->pp.width;
  *height = side->pp.height;
  if (in->declared_ndim == 4 && in->declared_dims[2] > 0 &&
      in->declared_dims[3] > 0)
    {
      *height = (int) in->declared_dims[2];
      *width = (int) in->declared_dims[3];
    }
}

static gboolean
side_plan (Side *side, int batch, int width, int height, GError **error)
{
  int64_t dims[4] = { batch, 3, height, width };
  GraftShape shape = graft_shape_make (4, dims);

  side->plan = graft_plan_new (side->graph, &shape, NULL, error);
  return side->plan != NULL;
}

/* Bytes of the activations a plan holds per image. */
static size_t
activation_bytes (const GraftGraph *graph, const GraftPlan *plan)
{
  size_t bytes = 0;
  for (int v = 0; v < graph->n_values; v++)
    {
      const GraftValueInfo *info = graft_plan_value_info (plan, v);
      if (info->constant == NULL && graph->values[v].constant == NULL)
        bytes += (size_t) graft_shape_numel (&info->shape) *
                 graft_dtype_size (info->dtype);
    }
  return bytes;
}

/* The largest batch, up to REUSE_MAX_BATCH, whose activations in both
 * plans (every value is kept: we read the blocks' outputs after the run)
 * stay within REUSE_MEMORY_BUDGET. */
static gboolean
choose_batch (GraftReuseAnalysis *a, GError **error)
{
  size_t per_image;

  if (!side_plan (&a->base, 1, a->width, a->height, error) ||
      !side_plan (&a->tuned, 1, a->width, a->height, error))
    return FALSE;
  per_image = activation_bytes (a->base.graph, a->base.plan) +
              activation_bytes (a->tuned.graph, a->tuned.plan);
  a->batch = (int) CLAMP (REUSE_MEMORY_BUDGET / MAX (per_image, 1), 1,
                          REUSE_MAX_BATCH);
  g_clear_pointer (&a->base.plan, graft_plan_free);
  g_clear_pointer (&a->tuned.plan, graft_plan_free);
  return TRUE;
}

/* tuned's node producing each value name, by the name of its first output. */
static GHashTable *
index_nodes_by_output (const GraftGraph *graph)
{
  GHashTable *index = g_hash_table_new (g_str_hash, g_str_equal);
  for (int i = 0; i < graph->n_nodes; i++)
    if (graph->nodes[i].n_outputs > 0 && graph->nodes[i].outputs[0] >= 0)
      g_hash_table_insert (index,
                           graph->values[graph->nodes[i].outputs[0]].name,
                           GINT_TO_POINTER (i + 1));
  return index;
}

static int
lookup_node (GHashTable *index, const GraftGraph *base, int node)
{
  const char *key = base->values[base->nodes[node].outputs[0]].name;
  return GPOINTER_TO_INT (g_hash_table_lookup (index, key)) - 1;
}

static void
block_clear (GraftReuseBlock *b)
{
  g_free (b->name);
  g_free (b->value);
  for (int i = 0; i < b->n_layers; i++)
    {
      g_free (b->layers[i].name);
      g_free (b->layers[i].op_type);
    }
  g_free (b->layers);
}

/* Sums ||w_t - w_b||^2 and ||w_b||^2 over the float constants node reads;
 * *same stays TRUE while they are bit for bit equal. */
static gboolean
compare_node_weights (const GraftGraph *base,
                      int bn,
                      const GraftGraph *tuned,
                      int tn,
                      double *diff_sq,
                      double *norm_sq,
                      gboolean *same,
                      GError **error)
{
  const GraftNode *a = &base->nodes[bn], *b = &tuned->nodes[tn];

  if (!g_str_equal (a->op_type, b->op_type) || a->n_inputs != b->n_inputs)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s and %s are not the same network: layer '%s' is %s in "
                   "one, %s in the other",
                   base->display_name, tuned->display_name, a->name, a->op_type,
                   b->op_type);
      return FALSE;
    }
  for (int k = 0; k < a->n_inputs; k++)
    {
      const GraftTensor *wa =
          a->inputs[k] >= 0 ? base->values[a->inputs[k]].constant : NULL;
      const GraftTensor *wb =
          b->inputs[k] >= 0 ? tuned->values[b->inputs[k]].constant : NULL;
      const float *pa, *pb;
      int64_t n;

      if (wa == NULL || wa->dtype != GRAFT_DTYPE_FLOAT)
        continue;
      if (wb == NULL || wb->dtype != GRAFT_DTYPE_FLOAT ||
          !graft_shape_equal (&wa->shape, &wb->shape))
        {
          g_autofree char *sa = graft_shape_to_string (&wa->shape);
          g_autofree char *sb = wb ? graft_shape_to_string (&wb->shape)
                                   : g_strdup ("not a weight");
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s and %s are not the same network: layer '%s' input "
                       "%d is %s in one, %s "
                       "in the other",
                       base->display_name, tuned->display_name, a->name, k, sa,
                       sb);
          return FALSE;
        }
      n = graft_tensor_numel (wa);
      pa = wa->data;
      pb = wb->data;
      if (memcmp (pa, pb, graft_tensor_nbytes (wa)) != 0)
        *same = FALSE;
      for (int64_t i = 0; i < n; i++)
        {
          double d = (double) pb[i] - pa[i];
          *diff_sq += d * d;
          *norm_sq += (double) pa[i] * pa[i];
        }
    }
  return TRUE;
}

static double
relative_change (double diff_sq, double norm_sq, gboolean same)
{
  if (same)
    return 0;
  return norm_sq > 0 ? sqrt (diff_sq / norm_sq) : INFINITY;
}

static void
layers_clear (GArray *layers)
{
  for (guint i = 0; i < layers->len; i++)
    {
      g_free (g_array_index (layers, GraftReuseLayer, i).name);
      g_free (g_array_index (layers, GraftReuseLayer, i).op_type);
    }
}

/* Fills out for block of base when all its nodes are in tuned; FALSE with
 * *matched FALSE when some are not, FALSE with an error on a mismatch. */
static gboolean
match_block (GraftReuseAnalysis *a,
             GHashTable *index,
             const GraftBlock *block,
             GraftReuseBlock *out,
             int *tuned_value,
             gboolean *matched,
             GError **error)
{
  const GraftGraph *base = a->base.graph, *tuned = a->tuned.graph;
  g_autoptr (GArray) layers =
      g_array_new (FALSE, TRUE, sizeof (GraftReuseLayer));
  double block_diff = 0, block_norm = 0;
  gboolean block_same = TRUE;
  int last_tuned = -1;

  *matched = FALSE;
  for (int n = block->first_node; n <= block->last_node; n++)
    {
      int t = lookup_node (index, base, n);
      double diff = 0, norm = 0;
      gboolean same = TRUE;

      if (t < 0 ||
          !compare_node_weights (base, n, tuned, t, &diff, &norm, &same, error))
        {
          layers_clear (layers);
          return FALSE;
        }
      if (graft_graph_node_params (base, n) > 0)
        {
          GraftReuseLayer layer = {
            .name = g_strdup (base->nodes[n].label),
            .op_type = g_strdup (base->nodes[n].op_type),
            .params = graft_graph_node_params (base, n),
            .weight_change = relative_change (diff, norm, same),
          };
          g_array_append_val (layers, layer);
        }
      block_diff += diff;
      block_norm += norm;
      block_same = block_same && same;
      last_tuned = t;
    }
  *matched = TRUE;
  out->name = g_strdup (block->name);
  out->kind = block->kind;
  out->params = block->params;
  out->value =
      g_strdup (base->values[base->nodes[block->last_node].outputs[0]].name);
  out->cka = NAN;
  out->weight_change = relative_change (block_diff, block_norm, block_same);
  out->unchanged = block_same;
  out->reading = GRAFT_REUSE_UNKNOWN;
  out->n_layers = (int) layers->len;
  out->layers =
      (GraftReuseLayer *) g_array_free (g_steal_pointer (&layers), FALSE);
  *tuned_value = tuned->nodes[last_tuned].outputs[0];
  return TRUE;
}

/* Features per image of an activation (N, C, ...): C. */
static int
pooled_features (const GraftValueInfo *info)
{
  return info->shape.ndim >= 2 ? (int) info->shape.dims[1] : 1;
}

GraftReuseAnalysis *
graft_reuse_analysis_new (GraftGraph *base,
                          GraftGraph *tuned,
                          int batch_size,
                          GError **error)
{
  g_autoptr (GraftReuseAnalysis) a = g_new0 (GraftReuseAnalysis, 1);
  g_autoptr (GHashTable) index = NULL;
  GraftBlock *blocks;
  int n_base_blocks, tw, th, max_features = 1;
  gboolean prefix_unchanged = TRUE;
  size_t image_floats;

  a->batch = batch_size > 0 ? batch_size : 1;
  if (!side_init (&a->base, base, error) ||
      !side_init (&a->tuned, tuned, error))
    return NULL;
  side_input_size (&a->base, &a->width, &a->height);
  side_input_size (&a->tuned, &tw, &th);
  if (tw != a->width || th != a->height)
    {
      g_set_error (
          error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
          "%s takes %dx%d images and %s %dx%d: not a fine-tune of one another",
          base->display_name, a->width, a->height, tuned->display_name, tw, th);
      return NULL;
    }
  a->same_input =
      a->base.takes_0_255 == a->tuned.takes_0_255 &&
      a->base.pp.central_crop == a->tuned.pp.central_crop &&
      memcmp (a->base.pp.mean, a->tuned.pp.mean, sizeof a->base.pp.mean) == 0 &&
      memcmp (a->base.pp.std, a->tuned.pp.std, sizeof a->base.pp.std) == 0;

  index = index_nodes_by_output (tuned);
  blocks = graft_graph_find_blocks (base, &n_base_blocks);
  a->blocks = g_new0 (GraftReuseBlock, MAX (n_base_blocks, 1));
  a->tuned_values = g_new0 (int, MAX (n_base_blocks, 1));
  a->base_values = g_new0 (int, MAX (n_base_blocks, 1));
  for (int b = 0; b < n_base_blocks; b++)
    {
      gboolean matched;
      GError *match_error = NULL;

      if (blocks[b].kind == GRAFT_BLOCK_HEAD)
        continue;
      if (!match_block (a, index, &blocks[b], &a->blocks[a->n_blocks],
                        &a->tuned_values[a->n_blocks], &matched, &match_error))
        {
          if (match_error)
            {
              g_propagate_error (error, match_error);
              graft_blocks_free (blocks, n_base_blocks);
              return NULL;
            }
          a->n_unmatched++;
          prefix_unchanged = FALSE;
          continue;
        }
      a->base_values[a->n_blocks] = base->nodes[blocks[b].last_node].outputs[0];
      prefix_unchanged = prefix_unchanged && a->blocks[a->n_blocks].unchanged;
      a->blocks[a->n_blocks].must_match = prefix_unchanged && a->same_input;
      a->n_blocks++;
    }
  graft_blocks_free (blocks, n_base_blocks);
  if (a->n_blocks == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "%s and %s have no block in common: the second is not a "
                   "fine-tune of the first",
                   base->display_name, tuned->display_name);
      return NULL;
    }

  if (batch_size <= 0 && !choose_batch (a, error))
    return NULL;
  if (!side_plan (&a->base, a->batch, a->width, a->height, error) ||
      !side_plan (&a->tuned, a->batch, a->width, a->height, error))
    return NULL;
  a->acc = g_new0 (GraftCkaAccum *, a->n_blocks);
  for (int b = 0; b < a->n_blocks; b++)
    {
      const GraftValueInfo *bi =
          graft_plan_value_info (a->base.plan, a->base_values[b]);
      const GraftValueInfo *ti =
          graft_plan_value_info (a->tuned.plan, a->tuned_values[b]);
      int p = pooled_features (bi), q = pooled_features (ti);
      if (bi->dtype != GRAFT_DTYPE_FLOAT || ti->dtype != GRAFT_DTYPE_FLOAT ||
          bi->shape.dims[0] != a->batch || ti->shape.dims[0] != a->batch)
        {
          g_set_error (
              error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
              "%s: block '%s' does not output one float activation per image",
              base->display_name, a->blocks[b].name);
          return NULL;
        }
      a->acc[b] = graft_cka_accum_new (p, q);
      a->blocks[b].features = p;
      max_features = MAX (max_features, MAX (p, q));
    }
  a->fx = g_new (float, (size_t) a->batch *max_features);
  a->fy = g_new (float, (size_t) a->batch *max_features);
  image_floats = (size_t) a->batch * 3 * a->width * a->height;
  a->pad_base = g_new0 (float, image_floats);
  a->pad_tuned = g_new0 (float, image_floats);
  return g_steal_pointer (&a);
}

void
graft_reuse_analysis_free (GraftReuseAnalysis *a)
{
  if (a == NULL)
    return;
  for (int b = 0; b < a->n_blocks; b++)
    {
      block_clear (&a->blocks[b]);
      if (a->acc)
        graft_cka_accum_free (a->acc[b]);
    }
  g_free (a->blocks);
  g_free (a->acc);
  g_free (a->base_values);
  g_free (a->tuned_values);
  g_free (a->fx);
  g_free (a->fy);
  g_free (a->pad_base);
  g_free (a->pad_tuned);
  g_clear_pointer (&a->base.plan, graft_plan_free);
  g_clear_pointer (&a->tuned.plan, graft_plan_free);
  g_free (a);
}

void
graft_reuse_analysis_input_size (const GraftReuseAnalysis *a,
                                 int *width,
                                 int *height)
{
  *width = a->width;
  *height = a->height;
}

int64_t
graft_reuse_analysis_n_images (const GraftReuseAnalysis *a)
{
  return a->n_images;
}

int
graft_reuse_analysis_n_unmatched (const GraftReuseAnalysis *a)
{
  return a->n_unmatched;
}

/* features (n, C) = the spatial mean of act (N >= n, C, S...) for its
 * first n images. */
static void
pool_features (float *features, const GraftTensor *act, int n)
{
  int64_t c_count = act->shape.ndim >= 2 ? act->shape.dims[1] : 1;
  int64_t per_image = graft_tensor_numel (act) / MAX (act->shape.dims[0], 1);
  int64_t spatial = per_image / MAX (c_count, 1);
  const float *data = act->data;

  for (int i = 0; i < n; i++)
    for (int64_t c = 0; c < c_count; c++)
      {
        const float *src = data + i * per_image + c * spatial;
        double s = 0;
        for (int64_t k = 0; k < spatial; k++)
          s += src[k];
        features[i * c_count + c] = (float) (s / spatial);
      }
}

static gboolean
run_batch (GraftReuseAnalysis *a,
           const float *base_images,
           const float *tuned_images,
           int n,
           GError **error)
{
  size_t image_floats = (size_t) 3 * a->width * a->height;
  int64_t dims[4] = { a->batch, 3, a->height, a->width };
  GraftTensor in = { .dtype = GRAFT_DTYPE_FLOAT,
                     .shape = graft_shape_make (4, dims) };
  const GraftTensor *inputs[1] = { &in };

  /* A short batch runs padded to the plan's size (inference treats images
   * independently); only its first n rows count. */
  if (n < a->batch)
    {
      memcpy (a->pad_base, base_images, n * image_floats * sizeof (float));
      memcpy (a->pad_tuned, tuned_images, n * image_floats * sizeof (float));
      base_images = a->pad_base;
      tuned_images = a->pad_tuned;
    }
  in.data = (void *) base_images;
  if (!graft_plan_run (a->base.plan, inputs, error))
    return FALSE;
  in.data = (void *) tuned_images;
  if (!graft_plan_run (a->tuned.plan, inputs, error))
    return FALSE;
  for (int b = 0; b < a->n_blocks; b++)
    {
      pool_features (a->fx, graft_plan_get (a->base.plan, a->base_values[b]),
                     n);
      pool_features (a->fy, graft_plan_get (a->tuned.plan, a->tuned_values[b]),
                     n);
      graft_cka_accum_add (a->acc[b], a->fx, a->fy, n);
    }
  a->n_images += n;
  return TRUE;
}

gboolean
graft_reuse_analysis_add (GraftReuseAnalysis *a,
                          const float *base_images,
                          const float *tuned_images,
                          int n,
                          GError **error)
{
  size_t image_floats = (size_t) 3 * a->width * a->height;

  if (tuned_images == NULL)
    tuned_images = base_images;
  for (int start = 0; start < n; start += a->batch)
    if (!run_batch (a, base_images + start * image_floats,
                    tuned_images + start * image_floats,
                    MIN (a->batch, n - start), error))
      return FALSE;
  return TRUE;
}

/* out (3, H, W) for one model from a decoded photo, as its metadata says. */
static void
prepare_for (const Side *side,
             float *out,
             const GraftImage *image,
             int width,
             int height)
{
  GraftPreprocess pp = side->pp;
  pp.width = width;
  pp.height = height;
  if (side->takes_0_255)
    {
      /* The resize alone, as graft_preprocess_image does before normalizing. */
      double x0, y0, side_px;
      graft_preprocess_crop_box (&pp, image->width, image->height, &x0, &y0,
                                 &side_px);
      graft_resize_bilinear (out, image, x0, y0, side_px, side_px, width,
                             height);
    }
  else
    graft_preprocess_image (out, image, &pp);
}

gboolean
graft_reuse_analysis_add_files (GraftReuseAnalysis *a,
                                const char *const *paths,
                                int n_paths,
                                GPtrArray *skipped,
                                GCancellable *cancellable,
                                GError **error)
{
  size_t image_floats = (size_t) 3 * a->width * a->height;
  g_autofree float *base_images = g_new (float, a->batch *image_floats);
  g_autofree float *tuned_images =
      a->same_input ? NULL : g_new (float, a->batch *image_floats);
  g_autofree GError **errors = g_new0 (GError *, a->batch);
  g_autofree gboolean *ok = g_new0 (gboolean, a->batch);
  GraftPreprocess size_pp = a->base.pp;
  int min_side;

  size_pp.width = a->width;
  size_pp.height = a->height;
  size_pp.central_crop =
      MIN (a->base.pp.central_crop, a->tuned.pp.central_crop);
  min_side = graft_preprocess_min_side (&size_pp);
  for (int start = 0; start < n_paths; start += a->batch)
    {
      int count = MIN (a->batch, n_paths - start), n = 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
        /* Decoding is independent per photo: spread it over the cores. */
#pragma omp parallel for schedule(dynamic)
      for (int i = 0; i < count; i++)
        {
          g_autoptr (GraftImage) image =
              graft_image_load (paths[start + i], min_side, &errors[i]);
          ok[i] = image != NULL;
          if (ok[i])
            {
              prepare_for (&a->base, base_images + i * image_floats, image,
                           a->width, a->height);
              if (tuned_images)
                prepare_for (&a->tuned, tuned_images + i * image_floats, image,
                             a->width, a->height);
            }
        }
      /* Close the gaps the unreadable photos left. */
      for (int i = 0; i < count; i++)
        {
          if (!ok[i])
            {
              if (skipped)
                g_ptr_array_add (skipped, g_strdup (errors[i]->message));
              g_clear_error (&errors[i]);
              continue;
            }
          if (i != n)
            {
              memcpy (base_images + n * image_floats,
                      base_images + i * image_floats,
                      image_floats * sizeof (float));
              if (tuned_images)
                memcpy (tuned_images + n * image_floats,
                        tuned_images + i * image_floats,
                        image_floats * sizeof (float));
            }
          n++;
        }
      if (n > 0 &&
          !run_batch (a, base_images, tuned_images ? tuned_images : base_images,
                      n, error))
        return FALSE;
    }
  return TRUE;
}

const GraftReuseBlock *
graft_reuse_analysis_blocks (GraftReuseAnalysis *a, int *n_blocks)
{
  for (int b = 0; b < a->n_blocks; b++)
    {
      a->blocks[b].cka = graft_cka_accum_value (a->acc[b]);
      a->blocks[b].reading = graft_reuse_reading_for_cka (a->blocks[b].cka);
    }
  *n_blocks = a->n_blocks;
  return a->blocks;
}
