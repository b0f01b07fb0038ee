/* tensor.c: dense n-dimensional arrays. */
#include "tensor.h"

#include "graft-error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t
graft_dtype_size (GraftDType dtype)
{
  switch (dtype)
    {
    case GRAFT_DTYPE_FLOAT:
    case GRAFT_DTYPE_INT32:
    case GRAFT_DTYPE_UINT32:
      return 4;
    case GRAFT_DTYPE_UINT8:
    case GRAFT_DTYPE_INT8:
    case GRAFT_DTYPE_BOOL:
      return 1;
    case GRAFT_DTYPE_UINT16:
    case GRAFT_DTYPE_INT16:
    case GRAFT_DTYPE_FLOAT16:
      return 2;
    case GRAFT_DTYPE_INT64:
    case GRAFT_DTYPE_UINT64:
    case GRAFT_DTYPE_DOUBLE:
      return 8;
    case GRAFT_DTYPE_UNDEFINED:
    case GRAFT_DTYPE_STRING:
    default:
      return 0;
    }
}

const char *
graft_dtype_name (GraftDType dtype)
{
  switch (dtype)
    {
    case GRAFT_DTYPE_FLOAT: return "float32";
    case GRAFT_DTYPE_UINT8: return "uint8";
    case GRAFT_DTYPE_INT8: return "int8";
    case GRAFT_DTYPE_UINT16: return "uint16";
    case GRAFT_DTYPE_INT16: return "int16";
    case GRAFT_DTYPE_INT32: return "int32";
    case GRAFT_DTYPE_INT64: return "int64";
    case GRAFT_DTYPE_STRING: return "string";
    case GRAFT_DTYPE_BOOL: return "bool";
    case GRAFT_DTYPE_FLOAT16: return "float16";
    case GRAFT_DTYPE_DOUBLE: return "float64";
    case GRAFT_DTYPE_UINT32: return "uint32";
    case GRAFT_DTYPE_UINT64: return "uint64";
    case GRAFT_DTYPE_UNDEFINED:
    default:
      return "unknown";
    }
}

gboolean
graft_shape_numel_checked (const GraftShape *shape, size_t elem_size,
                           int64_t *numel)
{
  int64_t n = 1;

  if (shape->ndim < 0 || shape->ndim > GRAFT_MAX_DIMS)
    return FALSE;
  for (int i = 0; i < shape->ndim; i++)
    {
      int64_t d = shape->dims[i];
      if (d < 0)
        return FALSE;
      if (d != 0 && n > INT64_MAX / d)
        return FALSE;
      n *= d;
    }
  if (elem_size > 0 && n > GRAFT_TENSOR_MAX_BYTES / (int64_t) elem_size)
    return FALSE;
  if (numel)
    *numel = n;
  return TRUE;
}

int64_t
graft_shape_numel (const GraftShape *shape)
{
  int64_t n = 1;
  for (int i = 0; i < shape->ndim; i++)
    n *= shape->dims[i];
  return n;
}

gboolean
graft_shape_equal (const GraftShape *a, const GraftShape *b)
{
  if (a->ndim != b->ndim)
    return FALSE;
  for (int i = 0; i < a->ndim; i++)
    if (a->dims[i] != b->dims[i])
      return FALSE;
  return TRUE;
}

GraftShape
graft_shape_make (int ndim, const int64_t *dims)
{
  GraftShape s = { 0 };
  g_return_val_if_fail (ndim >= 0 && ndim <= GRAFT_MAX_DIMS, s);
  s.ndim = ndim;
  for (int i = 0; i < ndim; i++)
    s.dims[i] = dims[i];
  return s;
}

char *
graft_shape_to_string (const GraftShape *shape)
{
  GString *s;

  if (shape->ndim == 0)
    return g_strdup ("scalar");
  s = g_string_new (NULL);
  for (int i = 0; i < shape->ndim; i++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, i ? "x" : "",
                            shape->dims[i]);
  return g_string_free (s, FALSE);
}

static void *
aligned_zeroed (size_t nbytes)
{
  /* Round up so that aligned_alloc's size rule holds and a zero-size tensor
   * still has a valid pointer. */
  size_t rounded = (nbytes + 63) / 64 * 64;
  void *p;

  if (rounded == 0)
    rounded = 64;
  p = aligned_alloc (64, rounded);
  if (p == NULL)
    g_error ("out of memory allocating %zu bytes", rounded);
  memset (p, 0, rounded);
  return p;
}

GraftTensor *
graft_tensor_new (GraftDType dtype, const GraftShape *shape, GError **error)
{
  size_t esize = graft_dtype_size (dtype);
  int64_t numel;
  GraftTensor *t;

  if (esize == 0)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "element type %s (%d) is not supported",
                   graft_dtype_name (dtype), (int) dtype);
      return NULL;
    }
  if (!graft_shape_numel_checked (shape, esize, &numel))
    {
      g_autofree char *s = NULL;
      GraftShape clipped = *shape;
      if (clipped.ndim < 0 || clipped.ndim > GRAFT_MAX_DIMS)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                       "tensor has %d dimensions (at most %d are supported)",
                       shape->ndim, GRAFT_MAX_DIMS);
          return NULL;
        }
      s = graft_shape_to_string (&clipped);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                   "tensor shape %s is invalid or larger than %" G_GINT64_FORMAT
                   " bytes",
                   s, GRAFT_TENSOR_MAX_BYTES);
      return NULL;
    }
  t = g_new0 (GraftTensor, 1);
  t->dtype = dtype;
  t->shape = *shape;
  t->data = aligned_zeroed ((size_t) numel * esize);
  return t;
}

GraftTensor *
graft_tensor_new_float (const GraftShape *shape)
{
  g_autoptr (GError) error = NULL;
  GraftTensor *t = graft_tensor_new (GRAFT_DTYPE_FLOAT, shape, &error);
  if (t == NULL)
    g_error ("graft_tensor_new_float: %s", error->message);
  return t;
}

int64_t
graft_tensor_numel (const GraftTensor *tensor)
{
  return graft_shape_numel (&tensor->shape);
}

size_t
graft_tensor_nbytes (const GraftTensor *tensor)
{
  return (size_t) graft_tensor_numel (tensor) * graft_dtype_size (tensor->dtype);
}

GraftTensor *
graft_tensor_copy (const GraftTensor *tensor)
{
  GraftTensor *t = g_new0 (GraftTensor, 1);
  size_t n = graft_tensor_nbytes (tensor);

  t->dtype = tensor->dtype;
  t->shape = tensor->shape;
  t->data = aligned_zeroed (n);
  if (n)
    memcpy (t->data, tensor->data, n);
  return t;
}

void
graft_tensor_free (GraftTensor *tensor)
{
  if (tensor == NULL)
    return;
  free (tensor->data);
  g_free (tensor);
}

/* IEEE 754 binary16 conversions, exact for every half value. */
float
graft_half_to_float (uint16_t h)
{
  uint32_t sign = (uint32_t) (h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  float f;

  if (exp == 0)
    {
      /* zero or subnormal: mant * 2^-24 */
      f = ldexpf ((float) mant, -24);
      return sign ? -f : f;
    }
  if (exp == 31)
    bits = sign | 0x7f800000 | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  memcpy (&f, &bits, 4);
  return f;
}

uint16_t
graft_float_to_half (float f)
{
  uint32_t bits;
  uint32_t sign, mant;
  int32_t exp;

  memcpy (&bits, &f, 4);
  sign = (bits >> 16) & 0x8000;
  exp = (int32_t) ((bits >> 23) & 0xff) - 127 + 15;
  mant = bits & 0x7fffff;
  if (((bits >> 23) & 0xff) == 0xff)
    return (uint16_t) (sign | 0x7c00 | (mant ? 0x200 : 0));
  if (exp >= 31)
    return (uint16_t) (sign | 0x7c00);
  if (exp <= 0)
    {
      if (exp < -10)
        return (uint16_t) sign;
      mant |= 0x800000;
      {
        uint32_t shift = (uint32_t) (14 - exp);
        uint32_t half_mant = mant >> shift;
        uint32_t rem = mant & ((1u << shift) - 1);
        uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (half_mant & 1)))
          half_mant++;
        return (uint16_t) (sign | half_mant);
      }
    }
  {
    uint32_t half = sign | ((uint32_t) exp << 10) | (mant >> 13);
    uint32_t rem = mant & 0x1fff;
    if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
      half++;
    return (uint16_t) half;
  }
}

int64_t
graft_tensor_get_int (const GraftTensor *t, int64_t i)
{
  switch (t->dtype)
    {
    case GRAFT_DTYPE_INT64: return ((const int64_t *) t->data)[i];
    case GRAFT_DTYPE_INT32: return ((const int32_t *) t->data)[i];
    case GRAFT_DTYPE_INT16: return ((const int16_t *) t->data)[i];
    case GRAFT_DTYPE_INT8: return ((const int8_t *) t->data)[i];
    case GRAFT_DTYPE_UINT8:
    case GRAFT_DTYPE_BOOL: return ((const uint8_t *) t->data)[i];
    case GRAFT_DTYPE_UINT16: return ((const uint16_t *) t->data)[i];
    case GRAFT_DTYPE_UINT32: return ((const uint32_t *) t->data)[i];
    case GRAFT_DTYPE_UINT64: return (int64_t) ((const uint64_t *) t->data)[i];
    case GRAFT_DTYPE_FLOAT: return (int64_t) ((const float *) t->data)[i];
    case GRAFT_DTYPE_DOUBLE: return (int64_t) ((const double *) t->data)[i];
    case GRAFT_DTYPE_FLOAT16:
      return (int64_t) graft_half_to_float (((const uint16_t *) t->data)[i]);
    default: return 0;
    }
}

GraftTensor *
graft_tensor_to_float (const GraftTensor *t, GError **error)
{
  int64_t n = graft_tensor_numel (t);
  GraftTensor *out;
  float *o;

  if (t->dtype == GRAFT_DTYPE_FLOAT)
    return graft_tensor_copy (t);
  out = graft_tensor_new (GRAFT_DTYPE_FLOAT, &t->shape, error);
  if (out == NULL)
    return NULL;
  o = out->data;
  switch (t->dtype)
    {
    case GRAFT_DTYPE_FLOAT16:
      for (int64_t i = 0; i < n; i++)
        o[i] = graft_half_to_float (((const uint16_t *) t->data)[i]);
      break;
    case GRAFT_DTYPE_DOUBLE:
      for (int64_t i = 0; i < n; i++)
        o[i] = (float) ((const double *) t->data)[i];
      break;
    case GRAFT_DTYPE_UINT8:
    case GRAFT_DTYPE_INT8:
    case GRAFT_DTYPE_UINT16:
    case GRAFT_DTYPE_INT16:
    case GRAFT_DTYPE_INT32:
    case GRAFT_DTYPE_INT64:
    case GRAFT_DTYPE_UINT32:
    case GRAFT_DTYPE_UINT64:
    case GRAFT_DTYPE_BOOL:
      for (int64_t i = 0; i < n; i++)
        o[i] = (float) graft_tensor_get_int (t, i);
      break;
    default:
      graft_tensor_free (out);
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_UNSUPPORTED,
                   "cannot convert %s to float32", graft_dtype_name (t->dtype));
      return NULL;
    }
  return out;
}
