/* runtime.h: process-wide settings the engine's speed depends on. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call first in main(). OpenMP threads that spin while they wait steal the
 * core OpenBLAS's sgemm needs next; with other programs running (a
 * desktop) that made inference 5 to 20 times slower. libgomp reads
 * OMP_WAIT_POLICY before main() runs, so when it is unset the program
 * re-executes itself once with OMP_WAIT_POLICY=PASSIVE. */
void graft_runtime_init (char **argv);

G_END_DECLS
