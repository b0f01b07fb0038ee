/* test-conv-cases.h: convolution geometries the kernel tests share. */
#pragma once

#include "kernels/conv.h"

G_BEGIN_DECLS

/* Fills OH, OW from the rest; FALSE when the window does not fit. */
gboolean conv_geometry_finish (GraftConvGeometry *g);

/* Depthwise 3x3 geometries on the shapes the fast kernels split on (OH
 * and OW left 0: see conv_geometry_finish). */
extern const GraftConvGeometry depthwise_shape_cases[];
extern const size_t n_depthwise_shape_cases;

G_END_DECLS
