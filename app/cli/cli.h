/* cli.h: the graft-cli subcommands, each in its own file. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int graft_cli_info (int argc, char **argv);
int graft_cli_classify (int argc, char **argv);
int graft_cli_run (int argc, char **argv);
int graft_cli_check_data (int argc, char **argv);
int graft_cli_train (int argc, char **argv);
int graft_cli_evaluate (int argc, char **argv);
int graft_cli_analyze (int argc, char **argv);

/* Prints "graft-cli: MESSAGE" to stderr; returns the exit status 1. */
int graft_cli_fail (const GError *error);
/* Prints a JSON node to stdout, pretty. */
void graft_cli_print_json (gpointer json_node);

G_END_DECLS
