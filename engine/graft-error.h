/* graft-error.h: the engine's error domain.
 *
 * Every failure that comes from input (a file, a model, a dataset) is
 * returned as a GError in this domain; the message names the file and,
 * where there is one, the node, then the problem.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GRAFT_ERROR (graft_error_quark ())

typedef enum
{
  GRAFT_ERROR_IO,          /* cannot read or write a file */
  GRAFT_ERROR_PARSE,       /* not a valid file of the expected format */
  GRAFT_ERROR_UNSUPPORTED, /* valid, but something Graft does not handle */
  GRAFT_ERROR_INVALID,     /* an attribute, shape or value that does not fit */
  GRAFT_ERROR_LIMIT,       /* larger than Graft accepts (memory, pixels, dims) */
  GRAFT_ERROR_CANCELLED,   /* stopped on request */
  GRAFT_ERROR_NUMERIC,     /* non-finite loss or gradient */
} GraftError;

GQuark graft_error_quark (void);

G_END_DECLS
