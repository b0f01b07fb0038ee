/* cli-evaluate.c: graft-cli evaluate: how well a model sorts a folder of
 * labeled photos. */
#include "classifier.h"
#include "cli.h"
#include "dataset.h"
#include "metrics.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>

typedef struct
{
  char *file;
  int truth;
  int predicted;
  float probability;
} Mistake;

static void
add_number (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isnan (value))
    json_builder_add_null_value (b);
  else
    json_builder_add_double_value (b, value);
}

int
graft_cli_evaluate (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL.onnx FOLDER - measure a model on labeled photos");
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftClassifier) c = NULL;
  g_autoptr (GraftDataset) ds = NULL;
  g_autoptr (GArray) items = NULL;
  g_autoptr (GArray) mistakes = g_array_new (FALSE, FALSE, sizeof (Mistake));
  g_autoptr (GPtrArray) failed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GraftMetrics) m = NULL;
  g_autofree int *class_map = NULL, *truth = NULL, *predicted = NULL;
  g_autofree float *probs = NULL;
  GraftDatasetOptions opt;
  int n = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return graft_cli_fail (error);
  if (argc != 3)
    {
      fprintf (stderr, "graft-cli evaluate: give MODEL.onnx and FOLDER\n");
      return 2;
    }
  c = graft_classifier_new (argv[1], &error);
  if (c == NULL)
    return graft_cli_fail (error);
  graft_dataset_options_init (&opt);
  opt.val_fraction = 0; /* every photo is a test photo unless the folder says otherwise */
  opt.min_side = MIN (c->preprocess.width, c->preprocess.height);
  ds = graft_dataset_scan (argv[2], &opt, NULL, NULL, NULL, &error);
  if (ds == NULL)
    return graft_cli_fail (error);

  /* The folder's class names must be among the model's. */
  class_map = g_new (int, MAX (ds->n_classes, 1));
  for (int k = 0; k < ds->n_classes; k++)
    {
      class_map[k] = -1;
      for (int j = 0; j < c->n_classes; j++)
        if (g_str_equal (ds->classes[k], c->labels[j]))
          class_map[k] = j;
      if (class_map[k] < 0)
        {
          fprintf (stderr, "graft-cli: %s: class folder '%s' is not one of the model's classes\n",
                   argv[2], ds->classes[k]);
          return 1;
        }
    }
  items = graft_dataset_split_indices (ds, ds->given_split ? GRAFT_SPLIT_VAL : GRAFT_SPLIT_TRAIN);
  if (!ds->given_split)
    {
      g_autoptr (GArray) more = graft_dataset_split_indices (ds, GRAFT_SPLIT_VAL);
      g_array_append_vals (items, more->data, more->len);
    }
  truth = g_new (int, MAX (items->len, 1));
  predicted = g_new (int, MAX (items->len, 1));
  probs = g_new (float, c->n_classes);
  for (guint i = 0; i < items->len; i++)
    {
      const GraftDatasetItem *item = &g_array_index (ds->items, GraftDatasetItem, g_array_index (items, int, i));
      g_autoptr (GError) img_error = NULL;
      int best = 0;
      if (!graft_classifier_classify_file (c, item->path, probs, &img_error))
        {
          g_ptr_array_add (failed, g_strdup (img_error->message));
          continue;
        }
      for (int k = 1; k < c->n_classes; k++)
        if (probs[k] > probs[best])
          best = k;
      truth[n] = class_map[item->label];
      predicted[n] = best;
      if (best != truth[n])
        {
          Mistake mk = { item->path, truth[n], best, probs[best] };
          g_array_append_val (mistakes, mk);
        }
      n++;
    }
  m = graft_metrics_new (c->n_classes, truth, predicted, n);

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, argv[1]);
      json_builder_set_member_name (b, "folder");
      json_builder_add_string_value (b, argv[2]);
      json_builder_set_member_name (b, "images");
      json_builder_add_int_value (b, n);
      add_number (b, "accuracy", graft_metrics_accuracy (m));
      add_number (b, "macro_f1", graft_metrics_macro_f1 (m));
      json_builder_set_member_name (b, "classes");
      json_builder_begin_array (b);
      for (int k = 0; k < c->n_classes; k++)
        {
          int support = 0;
          for (int j = 0; j < c->n_classes; j++)
            support += m->confusion[k * c->n_classes + j];
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "name");
          json_builder_add_string_value (b, c->labels[k]);
          add_number (b, "precision", m->precision[k]);
          add_number (b, "recall", m->recall[k]);
          add_number (b, "f1", m->f1[k]);
          json_builder_set_member_name (b, "support");
          json_builder_add_int_value (b, support);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "confusion");
      json_builder_begin_array (b);
      for (int k = 0; k < c->n_classes; k++)
        {
          json_builder_begin_array (b);
          for (int j = 0; j < c->n_classes; j++)
            json_builder_add_int_value (b, m->confusion[k * c->n_classes + j]);
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "misclassified");
      json_builder_begin_array (b);
      for (guint i = 0; i < mistakes->len; i++)
        {
          const Mistake *mk = &g_array_index (mistakes, Mistake, i);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "file");
          json_builder_add_string_value (b, mk->file);
          json_builder_set_member_name (b, "true");
          json_builder_add_string_value (b, c->labels[mk->truth]);
          json_builder_set_member_name (b, "predicted");
          json_builder_add_string_value (b, c->labels[mk->predicted]);
          add_number (b, "probability", mk->probability);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "failed");
      json_builder_begin_array (b);
      for (guint i = 0; i < failed->len; i++)
        json_builder_add_string_value (b, failed->pdata[i]);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      graft_cli_print_json (root);
    }
  else
    {
      printf ("%d photos, accuracy %.1f%%, mean F1 %.3f\n\n", n, 100 * graft_metrics_accuracy (m),
              graft_metrics_macro_f1 (m));
      printf ("  %-24s %9s %9s %9s\n", "class", "precision", "recall", "F1");
      for (int k = 0; k < c->n_classes; k++)
        printf ("  %-24s %9.3f %9.3f %9.3f\n", c->labels[k], m->precision[k], m->recall[k], m->f1[k]);
      printf ("\nConfusion (rows: true class, columns: predicted):\n");
      for (int k = 0; k < c->n_classes; k++)
        {
          printf ("  %-24s", c->labels[k]);
          for (int j = 0; j < c->n_classes; j++)
            printf (" %5d", m->confusion[k * c->n_classes + j]);
          printf ("\n");
        }
      if (mistakes->len)
        printf ("\nMisclassified:\n");
      for (guint i = 0; i < mistakes->len; i++)
        {
          const Mistake *mk = &g_array_index (mistakes, Mistake, i);
          printf ("  %s: %s, predicted %s (%.2f)\n", mk->file, c->labels[mk->truth],
                  c->labels[mk->predicted], mk->probability);
        }
      for (guint i = 0; i < failed->len; i++)
        fprintf (stderr, "graft-cli: %s\n", (char *) failed->pdata[i]);
    }
  return failed->len ? 1 : 0;
}
