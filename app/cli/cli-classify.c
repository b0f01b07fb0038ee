/* cli-classify.c: graft-cli classify: the most likely classes of photos. */
#include "classifier.h"
#include "cli.h"
#include "model-catalog.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

/* Writes the tensor the model is fed for image number index as
 * DIR/image_INDEX.pb, named after the graph input (for graft-cli run). */
static gboolean
dump_input (const GraftClassifier *c,
            const GraftTensor *input,
            const char *dir,
            int index,
            GError **error)
{
  g_autofree char *base = g_strdup_printf ("image_%d.pb", index);
  g_autofree char *path = g_build_filename (dir, base, NULL);
  return graft_onnx_tensor_save (
      input, c->graph->values[c->graph->inputs[0]].name, path, error);
}

int
graft_cli_classify (int argc, char **argv)
{
  g_autofree char *model = NULL, *dump_dir = NULL;
  gboolean json = FALSE;
  int top = 5;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
      "Bundled model name or ONNX file (default: mobilenet_v2_1.0_224)",
      "MODEL" },
    { "top", 'k', 0, G_OPTION_ARG_INT, &top, "How many classes to show (5)",
      "K" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON", NULL },
    { "dump-input", 0, 0, G_OPTION_ARG_FILENAME, &dump_dir,
      "Also write each photo's model input as DIR/image_N.pb (TensorProto, N "
      "from 0)",
      "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("IMAGE... - the most likely classes of each photo");
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GraftClassifier) c = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree float *probs = NULL;
  g_autoptr (GraftTensor) input = NULL;
  g_autofree GraftPrediction *preds = NULL;
  int failures = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return graft_cli_fail (error);
  if (argc < 2)
    {
      fprintf (stderr, "graft-cli classify: give at least one image\n");
      return 2;
    }
  if (top < 1)
    {
      fprintf (stderr, "graft-cli classify: --top must be at least 1\n");
      return 2;
    }
  path = graft_catalog_resolve (model, &error);
  if (path == NULL)
    return graft_cli_fail (error);
  c = graft_classifier_new (path, &error);
  if (c == NULL)
    return graft_cli_fail (error);
  top = MIN (top, c->n_classes);
  probs = g_new (float, c->n_classes);
  input = graft_tensor_new_float (&(GraftShape){
      .ndim = 4, .dims = { 1, 3, c->preprocess.height, c->preprocess.width } });
  if (dump_dir && g_mkdir_with_parents (dump_dir, 0755) != 0)
    {
      fprintf (stderr, "graft-cli: %s: cannot create the folder\n", dump_dir);
      return 1;
    }
  preds = g_new (GraftPrediction, top);

  json_builder_begin_array (b);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr (GError) img_error = NULL;
      /* The same steps as graft_classifier_classify_file, with the input kept.
       */
      gboolean ok = graft_classifier_preprocess_file (c, argv[i], input->data,
                                                      &img_error) &&
                    (dump_dir == NULL ||
                     dump_input (c, input, dump_dir, i - 1, &img_error)) &&
                    graft_classifier_run (c, input->data, probs, &img_error);

      if (json)
        {
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "image");
          json_builder_add_string_value (b, argv[i]);
        }
      if (!ok)
        {
          failures++;
          if (json)
            {
              json_builder_set_member_name (b, "error");
              json_builder_add_string_value (b, img_error->message);
              json_builder_end_object (b);
            }
          else
            fprintf (stderr, "graft-cli: %s\n", img_error->message);
          continue;
        }
      graft_classifier_top_k (c, probs, top, preds);
      if (json)
        {
          json_builder_set_member_name (b, "predictions");
          json_builder_begin_array (b);
          for (int k = 0; k < top; k++)
            {
              json_builder_begin_object (b);
              json_builder_set_member_name (b, "index");
              json_builder_add_int_value (b, preds[k].index);
              json_builder_set_member_name (b, "label");
              json_builder_add_string_value (b, preds[k].label);
              json_builder_set_member_name (b, "probability");
              json_builder_add_double_value (b, preds[k].probability);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      else
        {
          printf ("%s\n", argv[i]);
          for (int k = 0; k < top; k++)
            printf ("  %5.3f  %4d  %s\n", preds[k].probability, preds[k].index,
                    preds[k].label);
        }
    }
  json_builder_end_array (b);
  if (json)
    {
      g_autoptr (JsonNode) root = json_builder_get_root (b);
      graft_cli_print_json (root);
    }
  return failures ? 1 : 0;
}
