/* cli-check-data.c: graft-cli check-data: is a folder of photos ready for
 * training? The health report as text or JSON (see README.md). Exit
 * status 0 when it can be used, 1 when it has errors or cannot be read. */
#include "classifier.h"
#include "cli.h"
#include "dataset.h"
#include "model-catalog.h"

#include <stdio.h>

#define MAX_FILES_SHOWN 10

static const char *
severity_label (GraftSeverity severity)
{
  switch (severity)
    {
    case GRAFT_SEVERITY_ERROR:
      return "error";
    case GRAFT_SEVERITY_WARNING:
      return "warning";
    case GRAFT_SEVERITY_INFO:
    default:
      return "note";
    }
}

/* The model's input side, for "smaller than the model's input". */
static gboolean
model_input_side (const char *model, int *side, GError **error)
{
  const GraftCatalogEntry *entry =
      model != NULL ? graft_catalog_find (model) : graft_catalog_default ();
  g_autofree char *path = NULL;
  g_autoptr (GraftClassifier) c = NULL;

  if (entry != NULL)
    {
      *side = entry->input_size;
      return TRUE;
    }
  path = graft_catalog_resolve (model, error);
  if (path == NULL)
    return FALSE;
  c = graft_classifier_new (path, error);
  if (c == NULL)
    return FALSE;
  *side = MAX (c->preprocess.width, c->preprocess.height);
  return TRUE;
}

static void
print_text (const GraftDataset *ds)
{
  g_autofree int *train = g_new0 (int, MAX (ds->n_classes, 1));
  g_autofree int *val = g_new0 (int, MAX (ds->n_classes, 1));
  g_autofree char *root = g_filename_display_name (ds->root);
  int total_train = 0, total_val = 0;

  graft_dataset_count (ds, train, val);
  printf ("Folder: %s\n", root);
  printf ("Split: %s\n", ds->given_split
                             ? "as given by the training and validation folders"
                             : "made by Graft (stratified, seeded)");
  printf ("\n  %-30s %8s %8s\n", "class", "train", "val");
  for (int c = 0; c < ds->n_classes; c++)
    {
      printf ("  %-30s %8d %8d\n", ds->classes[c], train[c], val[c]);
      total_train += train[c];
      total_val += val[c];
    }
  printf ("  %-30s %8d %8d\n", "total", total_train, total_val);
  if (ds->n_skipped > 0)
    printf ("  unusable files left out: %d\n", ds->n_skipped);
  if (ds->n_ignored > 0)
    printf ("  non-image files ignored: %d\n", ds->n_ignored);
  if (ds->issues->len > 0)
    printf ("\n");
  for (guint i = 0; i < ds->issues->len; i++)
    {
      const GraftDatasetIssue *issue = ds->issues->pdata[i];
      guint n = g_strv_length (issue->files);

      printf ("%s: %s\n", severity_label (issue->severity), issue->message);
      for (guint f = 0; f < MIN (n, MAX_FILES_SHOWN); f++)
        printf ("    %s\n", issue->files[f]);
      if (n > MAX_FILES_SHOWN)
        printf ("    ... and %u more\n", n - MAX_FILES_SHOWN);
    }
  printf ("\n%s\n",
          graft_dataset_usable (ds)
              ? "Ready for training."
              : "Not ready for training: fix the errors above first.");
}

int
graft_cli_check_data (int argc, char **argv)
{
  g_autofree char *model = NULL;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
      "Bundled model name or ONNX file, for its input size (default: "
      "mobilenet_v2_1.0_224)",
      "MODEL" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new (
      "FOLDER - check a folder of labeled photos (one subfolder per class)");
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftDataset) ds = NULL;
  GraftDatasetOptions options;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return graft_cli_fail (error);
  if (argc != 2)
    {
      fprintf (stderr, "graft-cli check-data: give one folder\n");
      return 2;
    }
  graft_dataset_options_init (&options);
  if (!model_input_side (model, &options.min_side, &error))
    return graft_cli_fail (error);
  ds = graft_dataset_scan (argv[1], &options, NULL, NULL, NULL, &error);
  if (ds == NULL)
    return graft_cli_fail (error);
  if (json)
    {
      g_autofree char *text = graft_dataset_report_json (ds);
      fputs (text, stdout);
    }
  else
    print_text (ds);
  return graft_dataset_usable (ds) ? 0 : 1;
}
