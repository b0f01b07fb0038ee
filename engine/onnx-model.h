/* onnx-model.h: ONNX files in memory, read and written without libprotobuf.
 *
 * These structs mirror the parts of onnx.proto that a CNN uses: ModelProto,
 * GraphProto, NodeProto, AttributeProto, TensorProto, ValueInfoProto and
 * StringStringEntryProto. Every string is NUL-terminated UTF-8 owned by its
 * struct; arrays carry their length beside them.
 *
 * The reader validates as it decodes (lengths inside the buffer, varints of
 * at most 10 bytes, nesting depth, element counts, raw_data size equal to
 * dims x element size, dims >= 0) and returns a GError whose message names
 * the file and the problem. It never aborts on a bad file.
 */
#pragma once

#include "tensor.h"

#include <glib.h>

G_BEGIN_DECLS

/* AttributeProto.AttributeType */
typedef enum
{
  GRAFT_ATTR_UNDEFINED = 0,
  GRAFT_ATTR_FLOAT = 1,
  GRAFT_ATTR_INT = 2,
  GRAFT_ATTR_STRING = 3,
  GRAFT_ATTR_TENSOR = 4,
  GRAFT_ATTR_GRAPH = 5,
  GRAFT_ATTR_FLOATS = 6,
  GRAFT_ATTR_INTS = 7,
  GRAFT_ATTR_STRINGS = 8,
} GraftAttrType;

typedef struct
{
  char *name;
  GraftAttrType type;
  float f;
  int64_t i;
  char *s; /* bytes as given, NUL added */
  GraftTensor *t;
  float *floats;
  size_t n_floats;
  int64_t *ints;
  size_t n_ints;
  char **strings;
  size_t n_strings;
  /* Graph-valued attributes (If/Loop bodies) are skipped by the reader:
   * has_graph says one was present so the op can be refused by name. */
  gboolean has_graph;
} GraftOnnxAttribute;

typedef struct
{
  char *name;    /* "" when the file has none */
  char *op_type;
  char *domain;  /* "" for the default ONNX domain */
  char **inputs; /* "" marks an omitted optional input */
  size_t n_inputs;
  char **outputs;
  size_t n_outputs;
  GraftOnnxAttribute *attrs;
  size_t n_attrs;
} GraftOnnxNode;

typedef struct
{
  char *name;
  GraftDType elem_type;    /* UNDEFINED when not given */
  int ndim;                /* -1 when the shape is not given */
  int64_t dims[GRAFT_MAX_DIMS]; /* -1 for a symbolic or unknown dim */
  char *dim_params[GRAFT_MAX_DIMS]; /* symbolic name, or NULL */
} GraftOnnxValueInfo;

typedef struct
{
  char *name;
  GraftTensor *tensor;
} GraftOnnxNamedTensor;

typedef struct
{
  char *name;
  GraftOnnxNode *nodes;
  size_t n_nodes;
  GraftOnnxNamedTensor *initializers;
  size_t n_initializers;
  GraftOnnxValueInfo *inputs;
  size_t n_inputs;
  GraftOnnxValueInfo *outputs;
  size_t n_outputs;
  GraftOnnxValueInfo *value_info;
  size_t n_value_info;
} GraftOnnxGraph;

typedef struct
{
  char *key;
  char *value;
} GraftOnnxStringPair;

typedef struct
{
  char *domain; /* "" or "ai.onnx" for the default domain */
  int64_t version;
} GraftOnnxOpset;

typedef struct
{
  int64_t ir_version;
  char *producer_name;
  char *producer_version;
  char *domain;
  int64_t model_version;
  char *doc_string;
  GraftOnnxOpset *opsets;
  size_t n_opsets;
  GraftOnnxGraph graph;
  GraftOnnxStringPair *metadata;
  size_t n_metadata;
} GraftOnnxModel;

/* Reads a model file. External tensor data is loaded only from regular
 * files inside the model's folder (no '..', no absolute path, no symlink);
 * anything else is refused with a message. */
GraftOnnxModel *graft_onnx_model_load (const char *path, GError **error);

/* Parses a model from memory. display_name names the source in messages.
 * base_dir is the folder for external data; NULL refuses external data. */
GraftOnnxModel *graft_onnx_model_parse (const guint8 *data, size_t len,
                                        const char *display_name,
                                        const char *base_dir, GError **error);

void graft_onnx_model_free (GraftOnnxModel *model);

/* The opset version of the default domain (1 when none is listed). */
int64_t graft_onnx_model_opset (const GraftOnnxModel *model);

/* metadata_props value for key, or NULL. */
const char *graft_onnx_model_get_metadata (const GraftOnnxModel *model,
                                           const char *key);
/* Sets or replaces a metadata_props entry. */
void graft_onnx_model_set_metadata (GraftOnnxModel *model, const char *key,
                                    const char *value);

/* Serializes to ModelProto bytes (tensors as raw_data, little-endian). */
GBytes *graft_onnx_model_serialize (const GraftOnnxModel *model);

/* Writes atomically: a temporary file in the same folder, fsync, rename. */
gboolean graft_onnx_model_save (const GraftOnnxModel *model, const char *path,
                                GError **error);

/* A bare TensorProto, the format of ONNX's test data (input_0.pb). *name
 * receives the tensor's name ("" if none) when name is not NULL. */
GraftTensor *graft_onnx_tensor_parse (const guint8 *data, size_t len,
                                      const char *display_name, char **name,
                                      GError **error);
GraftTensor *graft_onnx_tensor_load (const char *path, char **name,
                                     GError **error);
GBytes *graft_onnx_tensor_serialize (const GraftTensor *tensor,
                                     const char *name);
gboolean graft_onnx_tensor_save (const GraftTensor *tensor, const char *name,
                                 const char *path, GError **error);

/* Lookup helpers on a node's attributes; NULL when absent. */
const GraftOnnxAttribute *graft_onnx_node_get_attr (const GraftOnnxNode *node,
                                                    const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftOnnxModel, graft_onnx_model_free)

G_END_DECLS
