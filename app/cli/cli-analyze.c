/* cli-analyze.c: graft-cli analyze: per block, how much of the pretrained
 * model a fine-tune kept (CKA of the features on the user's photos) and
 * how far its weights moved. See engine/reuse.h and README-analyze.md. */
#include "cli.h"
#include "dataset.h"
#include "graft-error.h"
#include "model-catalog.h"
#include "reuse.h"
#include "train/trainer.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>

/* A frozen prefix must give the base's features exactly (reuse.h). */
#define MATCH_TOLERANCE 1e-6

static void
add_number (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isnan (value) || isinf (value))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, value);
}

/* The photos to compare on: the validation photos as graft-cli train
 * splits the folder (its val/ when given), or every photo with all;
 * at most max_images of them, spread evenly so every class is in. */
static GPtrArray *
choose_photos (const GraftDataset *ds, gboolean all, int max_images)
{
  g_autoptr (GArray) items = graft_dataset_split_indices (ds, GRAFT_SPLIT_VAL);
  GPtrArray *paths = g_ptr_array_new ();
  guint n;

  if (all || items->len == 0)
    {
      g_autoptr (GArray) train =
          graft_dataset_split_indices (ds, GRAFT_SPLIT_TRAIN);
      if (!all && ds->given_split)
        g_array_set_size (train, 0);
      g_array_append_vals (items, train->data, train->len);
    }
  n = max_images > 0 ? MIN (items->len, (guint) max_images) : items->len;
  for (guint i = 0; i < n; i++)
    {
      guint pick = (guint) ((guint64) i * items->len / n);
      g_ptr_array_add (paths, g_array_index (ds->items, GraftDatasetItem,
                                             g_array_index (items, int, pick))
                                  .path);
    }
  return paths;
}

static void
print_json (const char *base,
            const char *tuned,
            const char *folder,
            const GraftReuseBlock *blocks,
            int n_blocks,
            GraftReuseAnalysis *analysis,
            GPtrArray *skipped,
            double seconds)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "base");
  json_builder_add_string_value (b, base);
  json_builder_set_member_name (b, "finetuned");
  json_builder_add_string_value (b, tuned);
  json_builder_set_member_name (b, "folder");
  json_builder_add_string_value (b, folder);
  json_builder_set_member_name (b, "images");
  json_builder_add_int_value (b, graft_reuse_analysis_n_images (analysis));
  json_builder_set_member_name (b, "skipped");
  json_builder_begin_array (b);
  for (guint i = 0; i < skipped->len; i++)
    json_builder_add_string_value (b, skipped->pdata[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "unmatched_blocks");
  json_builder_add_int_value (b, graft_reuse_analysis_n_unmatched (analysis));
  json_builder_set_member_name (b, "pooling");
  json_builder_add_string_value (b, "spatial-mean");
  json_builder_set_member_name (b, "thresholds");
  json_builder_begin_object (b);
  add_number (b, "kept", GRAFT_REUSE_KEPT_CKA);
  add_number (b, "rebuilt", GRAFT_REUSE_REBUILT_CKA);
  json_builder_end_object (b);
  add_number (b, "seconds", seconds);
  json_builder_set_member_name (b, "blocks");
  json_builder_begin_array (b);
  for (int i = 0; i < n_blocks; i++)
    {
      const GraftReuseBlock *blk = &blocks[i];
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, blk->name);
      json_builder_set_member_name (b, "kind");
      json_builder_add_string_value (b, graft_block_kind_name (blk->kind));
      json_builder_set_member_name (b, "params");
      json_builder_add_int_value (b, blk->params);
      json_builder_set_member_name (b, "activation");
      json_builder_add_string_value (b, blk->value);
      json_builder_set_member_name (b, "features");
      json_builder_add_int_value (b, blk->features);
      add_number (b, "cka", blk->cka);
      add_number (b, "weight_change", blk->weight_change);
      json_builder_set_member_name (b, "frozen");
      json_builder_add_boolean_value (b, blk->unchanged);
      json_builder_set_member_name (b, "reading");
      json_builder_add_string_value (b, graft_reuse_reading_id (blk->reading));
      json_builder_set_member_name (b, "reading_text");
      json_builder_add_string_value (b,
                                     graft_reuse_reading_text (blk->reading));
      json_builder_set_member_name (b, "layers");
      json_builder_begin_array (b);
      for (int l = 0; l < blk->n_layers; l++)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, blk->layers[l].name);
          json_builder_set_member_name (b, "op");
          json_builder_add_string_value (b, blk->layers[l].op_type);
          json_builder_set_member_name (b, "params");
          json_builder_add_int_value (b, blk->layers[l].params);
          add_number (b, "weight_change", blk->layers[l].weight_change);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  graft_cli_print_json (root);
}

static void
print_table (const GraftReuseBlock *blocks,
             int n_blocks,
             GraftReuseAnalysis *analysis,
             gboolean verbose,
             double seconds)
{
  printf ("Compared on %" G_GINT64_FORMAT
          " photos (%.1f s). CKA: 1 = same features as the base "
          "model, 0 = unrelated.\n\n",
          graft_reuse_analysis_n_images (analysis), seconds);
  printf ("  %3s  %-40s %-20s %7s %14s  %s\n", "#", "block", "kind", "CKA",
          "weight change", "reading");
  for (int i = 0; i < n_blocks; i++)
    {
      const GraftReuseBlock *blk = &blocks[i];
      g_autofree char *change =
          blk->unchanged ? g_strdup ("0 (frozen)")
                         : g_strdup_printf ("%.4f", blk->weight_change);
      printf ("  %3d  %-40s %-20s %7.4f %14s  %s\n", i, blk->name,
              graft_block_kind_name (blk->kind), blk->cka, change,
              graft_reuse_reading_text (blk->reading));
      for (int l = 0; verbose && l < blk->n_layers; l++)
        printf ("       %-61s %7s %14.4f\n", blk->layers[l].name, "",
                blk->layers[l].weight_change);
    }
  printf ("\nkept: CKA >= %.1f, adapted: %.1f to %.1f, rebuilt: below %.1f. "
          "Weight change: "
          "||W_ft - W_pre|| / ||W_pre||.\n",
          GRAFT_REUSE_KEPT_CKA, GRAFT_REUSE_REBUILT_CKA, GRAFT_REUSE_KEPT_CKA,
          GRAFT_REUSE_REBUILT_CKA);
  if (graft_reuse_analysis_n_unmatched (analysis))
    printf ("%d block(s) of the base model are not in the fine-tuned one and "
            "were left out.\n",
            graft_reuse_analysis_n_unmatched (analysis));
}

int
graft_cli_analyze (int argc, char **argv)
{
  gboolean json = FALSE, all = FALSE, layers = FALSE;
  int max_images = 0;
  gint64 seed = -1;
  GOptionEntry entries[] = {
    { "max-images", 'n', 0, G_OPTION_ARG_INT, &max_images,
      "Compare on at most N photos", "N" },
    { "all-photos", 0, 0, G_OPTION_ARG_NONE, &all,
      "Use every photo, not only the validation ones", NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed,
      "The --seed the model was trained with (picks the validation photos)",
      "N" },
    { "layers", 0, 0, G_OPTION_ARG_NONE, &layers,
      "Also show each layer's weight change", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("BASE FINETUNED.onnx FOLDER - how much of the base "
                            "model a fine-tune kept, block by block");
  g_autoptr (GError) error = NULL;
  g_autofree char *base_path = NULL;
  g_autoptr (GraftGraph) base = NULL, tuned = NULL;
  g_autoptr (GraftReuseAnalysis) analysis = NULL;
  g_autoptr (GraftDataset) ds = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (GPtrArray) skipped = g_ptr_array_new_with_free_func (g_free);
  const GraftReuseBlock *blocks;
  GraftDatasetOptions opt;
  GraftTrainConfig train_defaults;
  int n_blocks, width, height, status = 0;
  gint64 started;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return graft_cli_fail (error);
  if (argc != 4)
    {
      fprintf (stderr,
               "graft-cli analyze: give BASE, FINETUNED.onnx and FOLDER\n");
      return 2;
    }
  if (max_images < 0)
    {
      fprintf (stderr, "graft-cli analyze: --max-images must be positive\n");
      return 2;
    }
  base_path = graft_catalog_resolve (argv[1], &error);
  if (base_path == NULL ||
      (base = graft_graph_load (base_path, &error)) == NULL ||
      (tuned = graft_graph_load (argv[2], &error)) == NULL)
    return graft_cli_fail (error);
  analysis = graft_reuse_analysis_new (base, tuned, 0, &error);
  if (analysis == NULL)
    return graft_cli_fail (error);
  graft_reuse_analysis_input_size (analysis, &width, &height);

  /* The same split graft-cli train makes with the same seed. */
  graft_train_config_init (&train_defaults);
  graft_dataset_options_init (&opt);
  opt.seed = seed >= 0 ? (guint64) seed : train_defaults.seed;
  opt.min_side = MIN (width, height);
  graft_train_config_clear (&train_defaults);
  ds = graft_dataset_scan (argv[3], &opt, NULL, NULL, NULL, &error);
  if (ds == NULL)
    return graft_cli_fail (error);
  paths = choose_photos (ds, all, max_images);
  if (paths->len < 2)
    {
      fprintf (stderr, "graft-cli: %s: CKA needs at least 2 photos, found %u\n",
               argv[3], paths->len);
      return 1;
    }

  started = g_get_monotonic_time ();
  if (!graft_reuse_analysis_add_files (analysis,
                                       (const char *const *) paths->pdata,
                                       (int) paths->len, skipped, NULL, &error))
    return graft_cli_fail (error);
  if (graft_reuse_analysis_n_images (analysis) < 2)
    {
      fprintf (stderr,
               "graft-cli: %s: fewer than 2 of its photos could be read\n",
               argv[3]);
      status = 1;
    }
  blocks = graft_reuse_analysis_blocks (analysis, &n_blocks);
  if (json)
    print_json (base_path, argv[2], argv[3], blocks, n_blocks, analysis,
                skipped, (g_get_monotonic_time () - started) / 1e6);
  else
    print_table (blocks, n_blocks, analysis, layers,
                 (g_get_monotonic_time () - started) / 1e6);
  for (guint i = 0; i < skipped->len; i++)
    fprintf (stderr, "graft-cli: skipped %s\n", (char *) skipped->pdata[i]);
  for (int i = 0; i < n_blocks && graft_reuse_analysis_n_images (analysis) >= 2;
       i++)
    if (blocks[i].must_match && !(fabs (blocks[i].cka - 1) <= MATCH_TOLERANCE))
      {
        fprintf (stderr,
                 "graft-cli: block '%s' and all before it are unchanged, yet "
                 "its CKA is "
                 "%.9f, not 1: the analysis is wrong\n",
                 blocks[i].name, blocks[i].cka);
        status = 1;
      }
  return status;
}
