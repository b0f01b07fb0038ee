/* op-spatial.c: window attributes shared by Conv and the pools. */
#include "ops/op-spatial.h"

#include "graft-error.h"
#include "kernels/conv.h"
#include "ops/ops.h"

#include <string.h>

/* Larger kernels, strides or pads than this are certainly a broken file;
 * the bound keeps every window computation inside int. */
#define WINDOW_ATTR_MAX (1 << 20)

static gboolean
check_range (
    const char *name, const int64_t *v, int n, int64_t min, GError **error)
{
  for (int i = 0; i < n; i++)
    {
      if (v[i] < min)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "%s must be %s, got %" G_GINT64_FORMAT, name,
                       min > 0 ? "positive" : "non-negative", v[i]);
          return FALSE;
        }
      if (v[i] > WINDOW_ATTR_MAX)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                       "%s value %" G_GINT64_FORMAT " is too large", name,
                       v[i]);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
graft_window_attrs_parse (const GraftOnnxNode *proto,
                          gboolean with_ceil_mode,
                          GraftWindowAttrs *attrs,
                          GError **error)
{
  const char *auto_pad;
  int64_t ceil_mode = 0;

  memset (attrs, 0, sizeof *attrs);
  if (!graft_attr_ints (proto, "kernel_shape", attrs->kernel, GRAFT_MAX_DIMS,
                        &attrs->n_kernel, error) ||
      !graft_attr_ints (proto, "strides", attrs->strides, GRAFT_MAX_DIMS,
                        &attrs->n_strides, error) ||
      !graft_attr_ints (proto, "dilations", attrs->dilations, GRAFT_MAX_DIMS,
                        &attrs->n_dilations, error) ||
      !graft_attr_ints (proto, "pads", attrs->pads, 2 * GRAFT_MAX_DIMS,
                        &attrs->n_pads, error) ||
      !graft_attr_string (proto, "auto_pad", "NOTSET", &auto_pad, error))
    return FALSE;
  if (with_ceil_mode &&
      !graft_attr_int (proto, "ceil_mode", 0, &ceil_mode, error))
    return FALSE;
  attrs->ceil_mode = ceil_mode != 0;

  if (!check_range ("kernel_shape", attrs->kernel, attrs->n_kernel, 1, error) ||
      !check_range ("strides", attrs->strides, attrs->n_strides, 1, error) ||
      !check_range ("dilations", attrs->dilations, attrs->n_dilations, 1,
                    error) ||
      !check_range ("pads", attrs->pads, attrs->n_pads, 0, error))
    return FALSE;

  if (strcmp (auto_pad, "NOTSET") == 0 || auto_pad[0] == '\0')
    attrs->auto_pad = GRAFT_AUTO_PAD_NOTSET;
  else if (strcmp (auto_pad, "SAME_UPPER") == 0)
    attrs->auto_pad = GRAFT_AUTO_PAD_SAME_UPPER;
  else if (strcmp (auto_pad, "SAME_LOWER") == 0)
    attrs->auto_pad = GRAFT_AUTO_PAD_SAME_LOWER;
  else if (strcmp (auto_pad, "VALID") == 0)
    attrs->auto_pad = GRAFT_AUTO_PAD_VALID;
  else
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "auto_pad '%s' is not one of NOTSET, SAME_UPPER, "
                   "SAME_LOWER, VALID",
                   auto_pad);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_count (const char *name, int n, int want, int n_spatial, GError **error)
{
  if (n == 0 || n == want)
    return TRUE;
  if (want != n_spatial) /* pads: a begin and an end per axis */
    g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                 "%s has %d values, expected %d for %d spatial dim%s", name, n,
                 want, n_spatial, n_spatial == 1 ? "" : "s");
  else
    g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                 "%s has %d values but the input has %d spatial dim%s", name, n,
                 n_spatial, n_spatial == 1 ? "" : "s");
  return FALSE;
}

gboolean
graft_window_resolve (const GraftWindowAttrs *attrs,
                      int n_spatial,
                      const int64_t *in_dims,
                      const int64_t *kernel,
                      GraftWindow2d *out,
                      GError **error)
{
  int64_t k[2], s[2], d[2], pb[2], pe[2], o[2];

  g_return_val_if_fail (n_spatial == 1 || n_spatial == 2, FALSE);
  if (!check_count ("kernel_shape", attrs->n_kernel, n_spatial, n_spatial,
                    error) ||
      !check_count ("strides", attrs->n_strides, n_spatial, n_spatial, error) ||
      !check_count ("dilations", attrs->n_dilations, n_spatial, n_spatial,
                    error) ||
      !check_count ("pads", attrs->n_pads, 2 * n_spatial, n_spatial, error))
    return FALSE;
  if (attrs->n_kernel == 0 && kernel == NULL)
    {
      g_set_error_literal (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                           "kernel_shape is required");
      return FALSE;
    }

  for (int i = 0; i < n_spatial; i++)
    {
      k[i] = attrs->n_kernel ? attrs->kernel[i] : kernel[i];
      if (kernel != NULL && attrs->n_kernel && kernel[i] != k[i])
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "kernel_shape value %" G_GINT64_FORMAT
                       " does not match the weight's %" G_GINT64_FORMAT
                       " along spatial axis %d",
                       k[i], kernel[i], i);
          return FALSE;
        }
      if (k[i] < 1 || k[i] > WINDOW_ATTR_MAX)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                       "kernel size %" G_GINT64_FORMAT
                       " along spatial axis %d is out of range",
                       k[i], i);
          return FALSE;
        }
      s[i] = attrs->n_strides ? attrs->strides[i] : 1;
      d[i] = attrs->n_dilations ? attrs->dilations[i] : 1;
      pb[i] = pe[i] = 0;
      gboolean ceil_mode = attrs->ceil_mode;
      switch (attrs->auto_pad)
        {
        case GRAFT_AUTO_PAD_NOTSET:
          if (attrs->n_pads)
            {
              pb[i] = attrs->pads[i];
              pe[i] = attrs->pads[n_spatial + i];
            }
          break;
        case GRAFT_AUTO_PAD_SAME_UPPER:
        case GRAFT_AUTO_PAD_SAME_LOWER:
          graft_window_same_pads (in_dims[i], k[i], s[i], d[i],
                                  attrs->auto_pad == GRAFT_AUTO_PAD_SAME_LOWER,
                                  &pb[i], &pe[i]);
          ceil_mode = FALSE; /* SAME always gives ceil(in / stride) */
          break;
        case GRAFT_AUTO_PAD_VALID:
        default:
          break;
        }
      o[i] = graft_window_output_size (in_dims[i], k[i], s[i], d[i], pb[i],
                                       pe[i], ceil_mode);
      if (o[i] <= 0)
        {
          g_set_error (
              error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
              "the window (size %" G_GINT64_FORMAT
              ", dilation %" G_GINT64_FORMAT
              ") does not fit spatial axis %d of size %" G_GINT64_FORMAT
              " padded by %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT,
              k[i], d[i], i, in_dims[i], pb[i], pe[i]);
          return FALSE;
        }
      if ((k[i] - 1) * d[i] + 1 > WINDOW_ATTR_MAX || o[i] > G_MAXINT)
        {
          g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_LIMIT,
                       "the window along spatial axis %d is too large", i);
          return FALSE;
        }
    }

  /* A 1-D window is a 2-D one with H = 1. */
  int h = n_spatial == 2 ? 0 : -1, w = n_spatial - 1;
  out->KH = h < 0 ? 1 : (int) k[h];
  out->stride_h = h < 0 ? 1 : (int) s[h];
  out->dilation_h = h < 0 ? 1 : (int) d[h];
  out->pad_top = h < 0 ? 0 : (int) pb[h];
  out->pad_bottom = h < 0 ? 0 : (int) pe[h];
  out->OH = h < 0 ? 1 : (int) o[h];
  out->KW = (int) k[w];
  out->stride_w = (int) s[w];
  out->dilation_w = (int) d[w];
  out->pad_left = (int) pb[w];
  out->pad_right = (int) pe[w];
  out->OW = (int) o[w];
  return TRUE;
}
