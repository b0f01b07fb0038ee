/* test-node.c: see test-node.h. */
#include "test-node.h"

#include <string.h>

void
node_init (TestNode *t, const char *op_type, int n_outputs)
{
  memset (t, 0, sizeof *t);
  t->proto.name = (char *) "n";
  t->proto.op_type = (char *) op_type;
  t->proto.domain = (char *) "";
  t->proto.attrs = t->attrs;
  for (int i = 0; i < n_outputs; i++)
    t->outputs[i] = (char *) (i == 0 ? "y" : i == 1 ? "y1" : "y2");
  t->proto.outputs = t->outputs;
  t->proto.n_outputs = n_outputs;
}

static GraftOnnxAttribute *
next_attr (TestNode *t, const char *name, GraftAttrType type)
{
  GraftOnnxAttribute *a;

  g_assert_cmpint (t->proto.n_attrs, <, (int) G_N_ELEMENTS (t->attrs));
  a = &t->attrs[t->proto.n_attrs++];
  a->name = (char *) name;
  a->type = type;
  return a;
}

void
node_ints (TestNode *t, const char *name, int n, const int64_t *values)
{
  GraftOnnxAttribute *a = next_attr (t, name, GRAFT_ATTR_INTS);
  a->ints = (int64_t *) values;
  a->n_ints = n;
}

void
node_int (TestNode *t, const char *name, int64_t value)
{
  next_attr (t, name, GRAFT_ATTR_INT)->i = value;
}

void
node_float (TestNode *t, const char *name, float value)
{
  next_attr (t, name, GRAFT_ATTR_FLOAT)->f = value;
}

void
node_string (TestNode *t, const char *name, const char *value)
{
  next_attr (t, name, GRAFT_ATTR_STRING)->s = (char *) value;
}
