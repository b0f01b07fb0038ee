/* cli-run.c: graft-cli run: a model on ONNX TensorProto files, the format
 * of ONNX's own test data, so any runtime's results can be compared. */
#include "cli.h"
#include "graft-error.h"
#include "graph.h"

#include <stdio.h>
#include <string.h>

/* Output names become file names: keep letters, digits, '.', '-', '_'. */
static char *
safe_file_name (const char *name)
{
  char *s = g_strdup (name[0] ? name : "output");
  for (char *p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '-' && *p != '_')
      *p = '_';
  if (s[0] == '.')
    s[0] = '_';
  return s;
}

int
graft_cli_run (int argc, char **argv)
{
  g_auto (GStrv) input_args = NULL;
  g_autofree char *output_dir = NULL;
  GOptionEntry entries[] = {
    { "input", 'i', 0, G_OPTION_ARG_FILENAME_ARRAY, &input_args,
      "A graph input and its TensorProto file (repeat per input)", "NAME=FILE.pb" },
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &output_dir,
      "Folder for one OUTPUT.pb per graph output", "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL - run a model on tensor files");
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftGraph) graph = NULL;
  GraftTensor **inputs = NULL;
  GraftTensor **outputs = NULL;
  int status = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error))
    return graft_cli_fail (error);
  if (argc != 2 || output_dir == NULL)
    {
      fprintf (stderr, "graft-cli run: give one MODEL and --output-dir DIR\n");
      return 2;
    }
  graph = graft_graph_load (argv[1], &error);
  if (graph == NULL)
    return graft_cli_fail (error);

  inputs = g_new0 (GraftTensor *, MAX (graph->n_inputs, 1));
  for (guint a = 0; input_args && input_args[a]; a++)
    {
      const char *eq = strchr (input_args[a], '=');
      g_autofree char *name = eq ? g_strndup (input_args[a], eq - input_args[a]) : NULL;
      int slot = -1;
      if (eq == NULL)
        {
          fprintf (stderr, "graft-cli run: --input takes NAME=FILE.pb, not '%s'\n",
                   input_args[a]);
          status = 2;
          goto out;
        }
      for (int i = 0; i < graph->n_inputs; i++)
        if (strcmp (graph->values[graph->inputs[i]].name, name) == 0)
          slot = i;
      if (slot < 0)
        {
          fprintf (stderr, "graft-cli run: %s: the model has no input '%s'\n",
                   argv[1], name);
          status = 1;
          goto out;
        }
      graft_tensor_free (inputs[slot]);
      inputs[slot] = graft_onnx_tensor_load (eq + 1, NULL, &error);
      if (inputs[slot] == NULL)
        {
          status = graft_cli_fail (error);
          goto out;
        }
    }
  for (int i = 0; i < graph->n_inputs; i++)
    if (inputs[i] == NULL)
      {
        fprintf (stderr, "graft-cli run: %s: no --input given for '%s'\n", argv[1],
                 graph->values[graph->inputs[i]].name);
        status = 2;
        goto out;
      }

  outputs = graft_graph_run (graph, (const GraftTensor *const *) inputs, &error);
  if (outputs == NULL)
    {
      status = graft_cli_fail (error);
      goto out;
    }
  if (g_mkdir_with_parents (output_dir, 0755) != 0)
    {
      fprintf (stderr, "graft-cli run: %s: cannot create folder\n", output_dir);
      status = 1;
      goto out;
    }
  for (int i = 0; i < graph->n_outputs; i++)
    {
      const char *name = graph->values[graph->outputs[i]].name;
      g_autofree char *file = safe_file_name (name);
      g_autofree char *base = g_strconcat (file, ".pb", NULL);
      g_autofree char *dest = g_build_filename (output_dir, base, NULL);
      if (!graft_onnx_tensor_save (outputs[i], name, dest, &error))
        {
          status = graft_cli_fail (error);
          goto out;
        }
    }

out:
  for (int i = 0; i < graph->n_inputs; i++)
    graft_tensor_free (inputs[i]);
  g_free (inputs);
  if (outputs)
    for (int i = 0; i < graph->n_outputs; i++)
      graft_tensor_free (outputs[i]);
  g_free (outputs);
  return status;
}
