/* test-node.h: hand-built ONNX nodes for the operator tests. */
#pragma once

#include "onnx-model.h"

#include <glib.h>

G_BEGIN_DECLS

/* One node's proto with room for its attributes; strings are borrowed. */
typedef struct
{
  GraftOnnxNode proto;
  GraftOnnxAttribute attrs[8];
  char *outputs[3];
} TestNode;

/* A node of op_type named "n" with n_outputs outputs "y", "y1", "y2". */
void node_init (TestNode *t, const char *op_type, int n_outputs);
/* Attributes, added in order; values are borrowed. */
void node_ints (TestNode *t, const char *name, int n, const int64_t *values);
void node_int (TestNode *t, const char *name, int64_t value);
void node_float (TestNode *t, const char *name, float value);
void node_string (TestNode *t, const char *name, const char *value);

G_END_DECLS
