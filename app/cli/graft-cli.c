/* graft-cli.c: Graft from the command line. */
#include "config.h"

#include "cli.h"
#include "runtime.h"

#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

static const char usage[]
    = "Usage: graft-cli COMMAND [OPTION...]\n"
      "\n"
      "Commands:\n"
      "  info [MODEL]                 input, preprocessing, layers and blocks\n"
      "  classify [--model MODEL] [--top K] [--json] IMAGE...\n"
      "                               the most likely classes of each photo\n"
      "  run MODEL --input NAME=FILE.pb ... --output-dir DIR\n"
      "                               run a model on ONNX TensorProto files\n"
      "  check-data [--json] [--model MODEL] FOLDER\n"
      "                               check a folder of labeled photos for "
      "training\n"
      "  train --data FOLDER --out MODEL.onnx [OPTION...]\n"
      "                               fine-tune a base model on labeled photos\n"
      "  evaluate MODEL.onnx FOLDER [--json]\n"
      "                               accuracy, per-class figures, confusion, mistakes\n"
      "  analyze BASE FINETUNED.onnx FOLDER [--max-images N] [--json]\n"
      "                               per block, how much of the base model a fine-tune kept\n"
      "\n"
      "MODEL is a bundled model name (mobilenet_v2_1.0_224, "
      "mobilenet_v1_0.5_160,\n"
      "mobilenet_v1_0.25_128) or an ONNX file; the default is "
      "mobilenet_v2_1.0_224.\n"
      "Run 'graft-cli COMMAND --help' for a command's options.\n";

int
graft_cli_fail (const GError *error)
{
  fprintf (stderr, "graft-cli: %s\n", error->message);
  return 1;
}

void
graft_cli_print_json (gpointer json_node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, json_node);
  text = json_generator_to_data (gen, NULL);
  puts (text);
}

int
main (int argc, char **argv)
{
  graft_runtime_init (argv);
  setlocale (LC_ALL, "");
  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0)
    {
      fputs (usage, argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("graft-cli %s\n", GRAFT_VERSION);
      return 0;
    }
  if (strcmp (argv[1], "info") == 0)
    return graft_cli_info (argc - 1, argv + 1);
  if (strcmp (argv[1], "classify") == 0)
    return graft_cli_classify (argc - 1, argv + 1);
  if (strcmp (argv[1], "run") == 0)
    return graft_cli_run (argc - 1, argv + 1);
  if (strcmp (argv[1], "check-data") == 0)
    return graft_cli_check_data (argc - 1, argv + 1);
  if (strcmp (argv[1], "train") == 0)
    return graft_cli_train (argc - 1, argv + 1);
  if (strcmp (argv[1], "evaluate") == 0)
    return graft_cli_evaluate (argc - 1, argv + 1);
  if (strcmp (argv[1], "analyze") == 0)
    return graft_cli_analyze (argc - 1, argv + 1);
  fprintf (stderr, "graft-cli: unknown command '%s'\n\n%s", argv[1], usage);
  return 2;
}
