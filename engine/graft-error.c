/* graft-error.c: the engine's error domain. */
#include "graft-error.h"

G_DEFINE_QUARK (graft - error - quark, graft_error)
