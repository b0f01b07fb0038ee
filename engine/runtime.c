/* runtime.c: process-wide settings the engine's speed depends on. */
#include "runtime.h"

#include <unistd.h>

void
graft_runtime_init (char **argv)
{
  if (g_getenv ("OMP_WAIT_POLICY") != NULL || argv == NULL || argv[0] == NULL)
    return;
  g_setenv ("OMP_WAIT_POLICY", "PASSIVE", TRUE);
  execv ("/proc/self/exe", argv);
  /* Exec failed (no /proc): run on, only slower under load. */
}
