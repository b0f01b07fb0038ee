/* tensor.h: dense n-dimensional arrays.
 *
 * Element types use the numbers of ONNX's TensorProto.DataType so that
 * files map onto them directly. Data is row-major (the last dimension is
 * contiguous) and 64-byte aligned for the BLAS kernels.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

#define GRAFT_MAX_DIMS 8

/* The largest tensor Graft allocates: a bad file must not make us try to
 * allocate petabytes. 4 GiB is above any CNN activation we handle. */
#define GRAFT_TENSOR_MAX_BYTES ((int64_t) 4 << 30)

typedef enum
{
  GRAFT_DTYPE_UNDEFINED = 0,
  GRAFT_DTYPE_FLOAT = 1,
  GRAFT_DTYPE_UINT8 = 2,
  GRAFT_DTYPE_INT8 = 3,
  GRAFT_DTYPE_UINT16 = 4,
  GRAFT_DTYPE_INT16 = 5,
  GRAFT_DTYPE_INT32 = 6,
  GRAFT_DTYPE_INT64 = 7,
  GRAFT_DTYPE_STRING = 8,
  GRAFT_DTYPE_BOOL = 9,
  GRAFT_DTYPE_FLOAT16 = 10,
  GRAFT_DTYPE_DOUBLE = 11,
  GRAFT_DTYPE_UINT32 = 12,
  GRAFT_DTYPE_UINT64 = 13,
} GraftDType;

typedef struct
{
  int ndim;
  int64_t dims[GRAFT_MAX_DIMS];
} GraftShape;

typedef struct
{
  GraftDType dtype;
  GraftShape shape;
  void *data; /* owned; numel * element size bytes, 64-byte aligned */
} GraftTensor;

/* Size in bytes of one element, 0 for types Graft cannot hold in memory
 * (strings, unknown numbers). */
size_t graft_dtype_size (GraftDType dtype);
const char *graft_dtype_name (GraftDType dtype);

/* Number of elements; FALSE when a dim is negative or the product
 * overflows int64 or exceeds GRAFT_TENSOR_MAX_BYTES for element size
 * elem_size (pass 1 to check the count alone). */
gboolean graft_shape_numel_checked (const GraftShape *shape, size_t elem_size,
                                    int64_t *numel);
int64_t graft_shape_numel (const GraftShape *shape);
gboolean graft_shape_equal (const GraftShape *a, const GraftShape *b);
GraftShape graft_shape_make (int ndim, const int64_t *dims);
/* "1x3x224x224"; "scalar" for ndim 0. */
char *graft_shape_to_string (const GraftShape *shape);

/* A zero-filled tensor; NULL with an error when the shape is invalid or
 * too large. */
GraftTensor *graft_tensor_new (GraftDType dtype, const GraftShape *shape,
                               GError **error);
/* Same, for shapes the caller has already checked (aborts only on OOM). */
GraftTensor *graft_tensor_new_float (const GraftShape *shape);
GraftTensor *graft_tensor_copy (const GraftTensor *tensor);
void graft_tensor_free (GraftTensor *tensor);
int64_t graft_tensor_numel (const GraftTensor *tensor);
size_t graft_tensor_nbytes (const GraftTensor *tensor);
/* A float32 copy of any numeric tensor (float16, ints, double...). */
GraftTensor *graft_tensor_to_float (const GraftTensor *tensor, GError **error);
/* Reads element i of an integer tensor (int8..int64, uint8..uint64, bool)
 * as int64. */
int64_t graft_tensor_get_int (const GraftTensor *tensor, int64_t i);

float graft_half_to_float (uint16_t h);
uint16_t graft_float_to_half (float f);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftTensor, graft_tensor_free)

G_END_DECLS
