/* preprocess.h: from a decoded photo to a model's input tensor.
 *
 * The one path used by training, evaluation, try-an-image and export
 * checks: the centered square crop whose side is central_crop x the
 * image's shorter side, resized to width x height with PIL's antialiased
 * bilinear filter (Image.resize(size, BILINEAR, box=crop)), then per
 * channel (p / 255 - mean) / std, written channels first.
 */
#pragma once

#include "image.h"
#include "onnx-model.h"

G_BEGIN_DECLS

#define GRAFT_PREPROCESS_MAX_SIDE 4096

typedef struct
{
  int width, height;     /* the model's input size */
  double central_crop;   /* fraction of the shorter side, in (0, 1] */
  float mean[3], std[3]; /* RGB, on the 0..1 scale */
} GraftPreprocess;

/* 224x224, crop 0.875, torchvision's ImageNet mean and std. */
void graft_preprocess_init_imagenet (GraftPreprocess *out);

/* Parses a model's metadata_props: preprocess.size "224x224" (WIDTHxHEIGHT,
 * or one number for a square), preprocess.central_crop "0.875",
 * preprocess.mean and preprocess.std "r,g,b" (or one value for all three).
 * A NULL string keeps the ImageNet default for that field. FALSE with a
 * GRAFT_ERROR_INVALID error naming the key when a string is malformed. */
gboolean graft_preprocess_from_metadata (GraftPreprocess *out,
                                         const char *size,
                                         const char *central_crop,
                                         const char *mean,
                                         const char *std,
                                         GError **error);

/* The same, reading the four keys from a model's metadata_props. */
gboolean graft_preprocess_from_model (GraftPreprocess *out,
                                      const GraftOnnxModel *model,
                                      GError **error);

/* The shorter side an image needs for the crop not to be enlarged:
 * ceil(max(width, height) / central_crop). Pass it to graft_image_load. */
int graft_preprocess_min_side (const GraftPreprocess *pp);

/* The crop pp takes from a width x height image, in pixels (fractional). */
void graft_preprocess_crop_box (const GraftPreprocess *pp,
                                int width,
                                int height,
                                double *x0,
                                double *y0,
                                double *side);

/* out (3, pp->height, pp->width): the crop of img, resized, normalized. */
void graft_preprocess_image (float *out,
                             const GraftImage *img,
                             const GraftPreprocess *pp);
/* Same for any box of img (x0, y0, box_w > 0, box_h > 0 in pixels, meant
 * to lie inside the image; beyond it the edge pixels repeat), for
 * augmentations such as random crops; mirrored left-right when flip. */
void graft_preprocess_region (float *out,
                              const GraftImage *img,
                              const GraftPreprocess *pp,
                              double x0,
                              double y0,
                              double box_w,
                              double box_h,
                              gboolean flip);

/* The resize alone: out (3, out_h, out_w) on the 0..255 scale, from the
 * box of img, with a triangle filter whose support grows with the
 * shrinking factor and pixel centers at i + 0.5. The separable version is
 * the one used; the reference computes each output pixel directly from
 * the 2-D filter and exists to test it. */
void graft_resize_bilinear (float *out,
                            const GraftImage *img,
                            double x0,
                            double y0,
                            double box_w,
                            double box_h,
                            int out_w,
                            int out_h);
void graft_resize_bilinear_reference (float *out,
                                      const GraftImage *img,
                                      double x0,
                                      double y0,
                                      double box_w,
                                      double box_h,
                                      int out_w,
                                      int out_h);

G_END_DECLS
