/* elementwise.c: activations and numpy-broadcasting binary arithmetic. */
#include "kernels/elementwise.h"

#include <math.h>
#include <string.h>

/* Loops below this many elements stay on one thread: waking the OpenMP
 * team costs more than it saves. */
#define PARALLEL_MIN 65536

/* ---- activations ---- */

void
graft_relu_forward (float *out, const float *inp, int64_t n)
{
  // out (n), inp (n); NaN passes through, as in PyTorch, so a bad input
  // shows in the loss instead of training as zeros.
#pragma omp parallel for simd if (n > PARALLEL_MIN)
  for (int64_t i = 0; i < n; i++)
    out[i] = inp[i] < 0.0f ? 0.0f : inp[i];
}

/* Comparisons rather than fminf/fmaxf so that NaN passes through. */
#define CLIP_LOOP                                                              \
  for (int64_t i = 0; i < n; i++)                                              \
    {                                                                          \
      __typeof__ (out[0]) x = inp[i];                                          \
      x = x < min ? min : x;                                                   \
      out[i] = x > max ? max : x;                                              \
    }

void
graft_clip_forward (
    float *out, const float *inp, int64_t n, float min, float max)
{
  // out (n), inp (n)
#pragma omp parallel for simd if (n > PARALLEL_MIN)
  CLIP_LOOP
}

void
graft_clip_forward_i8 (
    int8_t *out, const int8_t *inp, int64_t n, int8_t min, int8_t max)
{
  CLIP_LOOP
}

void
graft_clip_forward_i32 (
    int32_t *out, const int32_t *inp, int64_t n, int32_t min, int32_t max)
{
  CLIP_LOOP
}

void
graft_clip_forward_i64 (
    int64_t *out, const int64_t *inp, int64_t n, int64_t min, int64_t max)
{
  CLIP_LOOP
}

void
graft_clip_forward_u8 (
    uint8_t *out, const uint8_t *inp, int64_t n, uint8_t min, uint8_t max)
{
  CLIP_LOOP
}

void
graft_leaky_relu_forward (float *out, const float *inp, int64_t n, float alpha)
{
  // out (n), inp (n)
  for (int64_t i = 0; i < n; i++)
    out[i] = inp[i] >= 0.0f ? inp[i] : alpha * inp[i];
}

void
graft_sigmoid_forward (float *out, const float *inp, int64_t n)
{
  // out (n), inp (n); expf(-x) overflows to inf for x < -88, giving 0.
  for (int64_t i = 0; i < n; i++)
    out[i] = 1.0f / (1.0f + expf (-inp[i]));
}

void
graft_hard_sigmoid_forward (
    float *out, const float *inp, int64_t n, float alpha, float beta)
{
  // out (n), inp (n)
  for (int64_t i = 0; i < n; i++)
    {
      float y = alpha * inp[i] + beta;
      y = y < 0.0f ? 0.0f : y;
      out[i] = y > 1.0f ? 1.0f : y;
    }
}

void
graft_hard_swish_forward (float *out, const float *inp, int64_t n)
{
  // out (n), inp (n)
  for (int64_t i = 0; i < n; i++)
    {
      float x = inp[i];
      float gate = x * (1.0f / 6.0f) + 0.5f;
      gate = gate < 0.0f ? 0.0f : gate;
      gate = gate > 1.0f ? 1.0f : gate;
      out[i] = x * gate;
    }
}

void
graft_tanh_forward (float *out, const float *inp, int64_t n)
{
  // out (n), inp (n)
  for (int64_t i = 0; i < n; i++)
    out[i] = tanhf (inp[i]);
}

void
graft_exp_forward (float *out, const float *inp, int64_t n)
{
  // out (n), inp (n)
  for (int64_t i = 0; i < n; i++)
    out[i] = expf (inp[i]);
}

/* ---- activation backward ---- */

/* dinp[i] += VALUE, or = VALUE when not accumulating (dinp is then never
 * read: one memory stream less). Both loops are spelled out so each
 * vectorizes. VALUE sees d = dout[i] and x = src[i], loaded before any
 * select: a load inside a ?: is conditional, which keeps the loop from
 * vectorizing (and branches on random signs mispredict half the time). */
#define BACKWARD_LOOP(src, VALUE)                                              \
  do                                                                           \
    {                                                                          \
      if (accumulate)                                                          \
        {                                                                      \
          _Pragma (                                                            \
              "omp parallel for simd if (n > PARALLEL_MIN)") for (int64_t i =  \
                                                                      0;       \
                                                                  i < n; i++)  \
          {                                                                    \
            float d = dout[i];                                                 \
            float x = (src)[i];                                                \
            dinp[i] += (VALUE);                                                \
          }                                                                    \
        }                                                                      \
      else                                                                     \
        {                                                                      \
          _Pragma (                                                            \
              "omp parallel for simd if (n > PARALLEL_MIN)") for (int64_t i =  \
                                                                      0;       \
                                                                  i < n; i++)  \
          {                                                                    \
            float d = dout[i];                                                 \
            float x = (src)[i];                                                \
            dinp[i] = (VALUE);                                                 \
          }                                                                    \
        }                                                                      \
    }                                                                          \
  while (0)

void
graft_relu_backward (float *dinp,
                     const float *dout,
                     const float *inp,
                     int64_t n,
                     gboolean accumulate)
{
  // dinp (n), dout (n), inp (n): x or y, which are > 0 at the same places
  BACKWARD_LOOP (inp, x > 0.0f ? d : 0.0f);
}

void
graft_clip_backward (float *dinp,
                     float *dmin,
                     float *dmax,
                     const float *dout,
                     const float *inp,
                     int64_t n,
                     float min,
                     float max,
                     gboolean accumulate)
{
  // dinp (n), dmin (1), dmax (1), dout (n), inp (n)
  double below = 0.0, above = 0.0;

  /* & rather than &&: no branch (see BACKWARD_LOOP). */
  if (dinp)
    BACKWARD_LOOP (inp, (x > min) & (x < max) ? d : 0.0f);
  if (dmin == NULL && dmax == NULL)
    return;
  for (int64_t i = 0; i < n; i++)
    {
      below += inp[i] < min ? dout[i] : 0.0f;
      above += inp[i] > max ? dout[i] : 0.0f;
    }
  if (dmin)
    *dmin = (accumulate ? *dmin : 0.0f) + (float) below;
  if (dmax)
    *dmax = (accumulate ? *dmax : 0.0f) + (float) above;
}

void
graft_leaky_relu_backward (float *dinp,
                           const float *dout,
                           const float *inp,
                           int64_t n,
                           float alpha,
                           gboolean accumulate)
{
  // dinp (n), dout (n), inp (n)
  BACKWARD_LOOP (inp, x > 0.0f ? d : alpha * d);
}

void
graft_sigmoid_backward (float *dinp,
                        const float *dout,
                        const float *out,
                        int64_t n,
                        gboolean accumulate)
{
  // dinp (n), dout (n), out (n)
  BACKWARD_LOOP (out, d * x * (1.0f - x));
}

static inline gboolean
hard_sigmoid_linear (float x, float alpha, float beta)
{
  float y = alpha * x + beta;
  return y > 0.0f && y < 1.0f;
}

void
graft_hard_sigmoid_backward (float *dinp,
                             const float *dout,
                             const float *inp,
                             int64_t n,
                             float alpha,
                             float beta,
                             gboolean accumulate)
{
  // dinp (n), dout (n), inp (n)
  BACKWARD_LOOP (inp, hard_sigmoid_linear (x, alpha, beta) ? alpha * d : 0.0f);
}

static inline float
hard_swish_slope (float x)
{
  return x < -3.0f ? 0.0f : x > 3.0f ? 1.0f : x * (1.0f / 3.0f) + 0.5f;
}

void
graft_hard_swish_backward (float *dinp,
                           const float *dout,
                           const float *inp,
                           int64_t n,
                           gboolean accumulate)
{
  // dinp (n), dout (n), inp (n)
  BACKWARD_LOOP (inp, d * hard_swish_slope (x));
}

void
graft_tanh_backward (float *dinp,
                     const float *dout,
                     const float *out,
                     int64_t n,
                     gboolean accumulate)
{
  // dinp (n), dout (n), out (n)
  BACKWARD_LOOP (out, d * (1.0f - x * x));
}

void
graft_exp_backward (float *dinp,
                    const float *dout,
                    const float *out,
                    int64_t n,
                    gboolean accumulate)
{
  // dinp (n), dout (n), out (n)
  BACKWARD_LOOP (out, d * x);
}

/* ---- broadcasting ---- */

void
graft_broadcast_strides (int64_t *strides,
                         const GraftShape *in,
                         const GraftShape *out)
{
  int64_t stride = 1;
  int lead = out->ndim - in->ndim;

  for (int i = out->ndim - 1; i >= 0; i--)
    {
      int j = i - lead;
      if (j < 0 || in->dims[j] == 1)
        strides[i] = 0;
      else
        {
          strides[i] = stride;
          stride *= in->dims[j];
        }
    }
}

/* The reference walk: an index counter over out_shape, with each input's
 * offset advanced by its broadcast stride. EXPR combines x = a[.], y = b[.]. */
#define STRIDED_LOOP(T, EXPR)                                                  \
  do                                                                           \
    {                                                                          \
      int64_t sa[GRAFT_MAX_DIMS], sb[GRAFT_MAX_DIMS];                          \
      int64_t idx[GRAFT_MAX_DIMS] = { 0 };                                     \
      int64_t n = graft_shape_numel (out_shape), oa = 0, ob = 0;               \
      int rank = out_shape->ndim;                                              \
      graft_broadcast_strides (sa, a_shape, out_shape);                        \
      graft_broadcast_strides (sb, b_shape, out_shape);                        \
      for (int64_t i = 0; i < n; i++)                                          \
        {                                                                      \
          T x = a[oa], y = b[ob];                                              \
          out[i] = (EXPR);                                                     \
          for (int d = rank - 1; d >= 0; d--)                                  \
            {                                                                  \
              oa += sa[d];                                                     \
              ob += sb[d];                                                     \
              if (++idx[d] < out_shape->dims[d])                               \
                break;                                                         \
              oa -= sa[d] * out_shape->dims[d];                                \
              ob -= sb[d] * out_shape->dims[d];                                \
              idx[d] = 0;                                                      \
            }                                                                  \
        }                                                                      \
    }                                                                          \
  while (0)

void
graft_binary_forward_ref (float *out,
                          const float *a,
                          const float *b,
                          const GraftShape *out_shape,
                          const GraftShape *a_shape,
                          const GraftShape *b_shape,
                          GraftBinaryOp op)
{
  switch (op)
    {
    case GRAFT_BINARY_ADD:
      STRIDED_LOOP (float, x + y);
      break;
    case GRAFT_BINARY_SUB:
      STRIDED_LOOP (float, x - y);
      break;
    case GRAFT_BINARY_MUL:
      STRIDED_LOOP (float, x *y);
      break;
    case GRAFT_BINARY_DIV:
      STRIDED_LOOP (float, x / y);
      break;
    }
}

/* The smaller operand of a fast-path broadcast: it varies only along the
 * output axes [first, last], where it matches the output, so its element
 * for output index i is (i / inner) % count. */
typedef struct
{
  int64_t outer; /* product of output dims before the block */
  int64_t count; /* elements of the small operand */
  int64_t inner; /* product of output dims after the block */
} BlockBroadcast;

static gboolean
shape_equal_aligned (const GraftShape *s, const GraftShape *out)
{
  int lead = out->ndim - s->ndim;
  for (int i = 0; i < out->ndim; i++)
    if ((i < lead ? 1 : s->dims[i - lead]) != out->dims[i])
      return FALSE;
  return TRUE;
}

static gboolean
find_block (const GraftShape *small, const GraftShape *out, BlockBroadcast *bb)
{
  int lead = out->ndim - small->ndim;
  int first = -1, last = -1;

  for (int i = 0; i < out->ndim; i++)
    {
      int64_t d = i < lead ? 1 : small->dims[i - lead];
      if (d != 1)
        {
          if (first < 0)
            first = i;
          last = i;
        }
    }
  bb->outer = bb->count = bb->inner = 1;
  if (first < 0)
    {
      bb->outer = graft_shape_numel (out);
      return TRUE;
    }
  for (int i = first; i <= last; i++)
    {
      if (small->dims[i - lead] != out->dims[i])
        return FALSE;
      bb->count *= out->dims[i];
    }
  for (int i = 0; i < first; i++)
    bb->outer *= out->dims[i];
  for (int i = last + 1; i < out->ndim; i++)
    bb->inner *= out->dims[i];
  return TRUE;
}

/* x: the full operand's element, s: the small one's. */
#define BLOCK_LOOP(EXPR)                                                       \
  do                                                                           \
    {                                                                          \
      if (bb.inner == 1)                                                       \
        for (int64_t o = 0; o < bb.outer; o++)                                 \
          for (int64_t c = 0; c < bb.count; c++)                               \
            {                                                                  \
              float x = full[o * bb.count + c], s = small[c];                  \
              out[o * bb.count + c] = (EXPR);                                  \
            }                                                                  \
      else                                                                     \
        for (int64_t o = 0; o < bb.outer; o++)                                 \
          for (int64_t c = 0; c < bb.count; c++)                               \
            {                                                                  \
              int64_t base = (o * bb.count + c) * bb.inner;                    \
              float s = small[c];                                              \
              for (int64_t k = 0; k < bb.inner; k++)                           \
                {                                                              \
                  float x = full[base + k];                                    \
                  out[base + k] = (EXPR);                                      \
                }                                                              \
            }                                                                  \
    }                                                                          \
  while (0)

#define SAME_LOOP(EXPR)                                                        \
  do                                                                           \
    {                                                                          \
      _Pragma ("omp parallel for simd if (n > PARALLEL_MIN)") for (int64_t i = \
                                                                       0;      \
                                                                   i < n; i++) \
      {                                                                        \
        float x = a[i], y = b[i];                                              \
        out[i] = (EXPR);                                                       \
      }                                                                        \
    }                                                                          \
  while (0)

void
graft_binary_forward (float *out,
                      const float *a,
                      const float *b,
                      const GraftShape *out_shape,
                      const GraftShape *a_shape,
                      const GraftShape *b_shape,
                      GraftBinaryOp op)
{
  // out (out_shape), a (a_shape), b (b_shape)
  int64_t n = graft_shape_numel (out_shape);
  gboolean a_full = shape_equal_aligned (a_shape, out_shape);
  gboolean b_full = shape_equal_aligned (b_shape, out_shape);
  BlockBroadcast bb;

  if (n == 0)
    return;
  if (a_full && b_full)
    {
      switch (op)
        {
        case GRAFT_BINARY_ADD:
          SAME_LOOP (x + y);
          break;
        case GRAFT_BINARY_SUB:
          SAME_LOOP (x - y);
          break;
        case GRAFT_BINARY_MUL:
          SAME_LOOP (x * y);
          break;
        case GRAFT_BINARY_DIV:
          SAME_LOOP (x / y);
          break;
        }
      return;
    }
  if (a_full && find_block (b_shape, out_shape, &bb))
    {
      const float *full = a, *small = b;
      switch (op)
        {
        case GRAFT_BINARY_ADD:
          BLOCK_LOOP (x + s);
          break;
        case GRAFT_BINARY_SUB:
          BLOCK_LOOP (x - s);
          break;
        case GRAFT_BINARY_MUL:
          BLOCK_LOOP (x * s);
          break;
        case GRAFT_BINARY_DIV:
          BLOCK_LOOP (x / s);
          break;
        }
      return;
    }
  if (b_full && find_block (a_shape, out_shape, &bb))
    {
      const float *full = b, *small = a;
      switch (op)
        {
        case GRAFT_BINARY_ADD:
          BLOCK_LOOP (s + x);
          break;
        case GRAFT_BINARY_SUB:
          BLOCK_LOOP (s - x);
          break;
        case GRAFT_BINARY_MUL:
          BLOCK_LOOP (s * x);
          break;
        case GRAFT_BINARY_DIV:
          BLOCK_LOOP (s / x);
          break;
        }
      return;
    }
  graft_binary_forward_ref (out, a, b, out_shape, a_shape, b_shape, op);
}

/* ---- broadcasting backward ---- */

/* The partial derivatives of x OP y with respect to x and to y. */
static inline void
binary_partials (GraftBinaryOp op, float x, float y, float *px, float *py)
{
  switch (op)
    {
    case GRAFT_BINARY_ADD:
      *px = 1.0f;
      *py = 1.0f;
      return;
    case GRAFT_BINARY_SUB:
      *px = 1.0f;
      *py = -1.0f;
      return;
    case GRAFT_BINARY_MUL:
      *px = y;
      *py = x;
      return;
    case GRAFT_BINARY_DIV:
      *px = 1.0f / y;
      *py = -(x / y) / y;
      return;
    }
  *px = *py = 0.0f;
}

/* dst (n) += src (n) in float, or = when not accumulating. */
static void
store_sums (float *dst, const double *src, int64_t n, gboolean accumulate)
{
  for (int64_t j = 0; j < n; j++)
    dst[j] = accumulate ? dst[j] + (float) src[j] : (float) src[j];
}

void
graft_binary_backward_ref (float *da,
                           float *db,
                           const float *dout,
                           const float *a,
                           const float *b,
                           const GraftShape *out_shape,
                           const GraftShape *a_shape,
                           const GraftShape *b_shape,
                           GraftBinaryOp op,
                           gboolean accumulate_a,
                           gboolean accumulate_b)
{
  // da (a_shape), db (b_shape), dout (out_shape), a (a_shape), b (b_shape)
  int64_t sa[GRAFT_MAX_DIMS], sb[GRAFT_MAX_DIMS];
  int64_t idx[GRAFT_MAX_DIMS] = { 0 };
  int64_t n = graft_shape_numel (out_shape), oa = 0, ob = 0;
  int64_t na = graft_shape_numel (a_shape), nb = graft_shape_numel (b_shape);
  int rank = out_shape->ndim;
  double *acc_a = g_new0 (double, da ? na : 0);
  double *acc_b = g_new0 (double, db ? nb : 0);

  graft_broadcast_strides (sa, a_shape, out_shape);
  graft_broadcast_strides (sb, b_shape, out_shape);
  for (int64_t i = 0; i < n; i++)
    {
      float pa, pb;
      binary_partials (op, a ? a[oa] : 0.0f, b ? b[ob] : 0.0f, &pa, &pb);
      if (da)
        acc_a[oa] += (double) dout[i] * pa;
      if (db)
        acc_b[ob] += (double) dout[i] * pb;
      for (int d = rank - 1; d >= 0; d--)
        {
          oa += sa[d];
          ob += sb[d];
          if (++idx[d] < out_shape->dims[d])
            break;
          oa -= sa[d] * out_shape->dims[d];
          ob -= sb[d] * out_shape->dims[d];
          idx[d] = 0;
        }
    }
  if (da)
    store_sums (da, acc_a, na, accumulate_a);
  if (db)
    store_sums (db, acc_b, nb, accumulate_b);
  g_free (acc_a);
  g_free (acc_b);
}

/* dst[i] += VALUE over n, or = VALUE when not accumulating (dst is then
 * never read). */
#define GRAD_LOOP(dst, accumulate, VALUE)                                      \
  do                                                                           \
    {                                                                          \
      if (accumulate)                                                          \
        {                                                                      \
          _Pragma (                                                            \
              "omp parallel for simd if (n > PARALLEL_MIN)") for (int64_t i =  \
                                                                      0;       \
                                                                  i < n; i++)  \
              dst[i] += (VALUE);                                               \
        }                                                                      \
      else                                                                     \
        {                                                                      \
          _Pragma (                                                            \
              "omp parallel for simd if (n > PARALLEL_MIN)") for (int64_t i =  \
                                                                      0;       \
                                                                  i < n; i++)  \
              dst[i] = (VALUE);                                                \
        }                                                                      \
    }                                                                          \
  while (0)

/* Both inputs have the output's shape: no sums. */
static void
binary_backward_same (float *da,
                      float *db,
                      const float *dout,
                      const float *a,
                      const float *b,
                      int64_t n,
                      GraftBinaryOp op,
                      gboolean accumulate_a,
                      gboolean accumulate_b)
{
  // da (n), db (n), dout (n), a (n), b (n)
  switch (op)
    {
    case GRAFT_BINARY_ADD:
      if (da)
        GRAD_LOOP (da, accumulate_a, dout[i]);
      if (db)
        GRAD_LOOP (db, accumulate_b, dout[i]);
      return;
    case GRAFT_BINARY_SUB:
      if (da)
        GRAD_LOOP (da, accumulate_a, dout[i]);
      if (db)
        GRAD_LOOP (db, accumulate_b, -1.0f * dout[i]);
      return;
    case GRAFT_BINARY_MUL:
      if (da)
        GRAD_LOOP (da, accumulate_a, dout[i] * b[i]);
      if (db)
        GRAD_LOOP (db, accumulate_b, dout[i] * a[i]);
      return;
    case GRAFT_BINARY_DIV:
      if (da)
        GRAD_LOOP (da, accumulate_a, dout[i] / b[i]);
      /* db -= g (a / b) / b, written as += its negation: the same float */
      if (db)
        GRAD_LOOP (db, accumulate_b, -(dout[i] * (a[i] / b[i]) / b[i]));
      return;
    }
}

/* One full-shape operand and one block-broadcast operand (bias, per-channel
 * scale, scalar): the full one's gradient is elementwise, the small one's
 * sums over the outer and inner axes. full_is_a says which side of OP the
 * full operand is on. */
static void
binary_backward_block (float *dfull,
                       float *dsmall,
                       const float *dout,
                       const float *full,
                       const float *small,
                       const BlockBroadcast *bb,
                       gboolean full_is_a,
                       GraftBinaryOp op,
                       gboolean accumulate_full,
                       gboolean accumulate_small)
{
  // dfull, dout, full (outer, count, inner); dsmall, small (count)
  double *acc = g_new0 (double, dsmall ? bb->count : 0);

  for (int64_t o = 0; o < bb->outer; o++)
    for (int64_t c = 0; c < bb->count; c++)
      {
        int64_t base = (o * bb->count + c) * bb->inner;
        float s = small ? small[c] : 0.0f;
        double sum = 0.0;
        for (int64_t k = 0; k < bb->inner; k++)
          {
            float x = full ? full[base + k] : 0.0f, g = dout[base + k];
            float pa, pb;
            if (full_is_a)
              binary_partials (op, x, s, &pa, &pb);
            else
              binary_partials (op, s, x, &pa, &pb);
            if (dfull)
              {
                float v = g * (full_is_a ? pa : pb);
                dfull[base + k] = accumulate_full ? dfull[base + k] + v : v;
              }
            sum += (double) g * (full_is_a ? pb : pa);
          }
        if (dsmall)
          acc[c] += sum;
      }
  if (dsmall)
    store_sums (dsmall, acc, bb->count, accumulate_small);
  g_free (acc);
}

void
graft_binary_backward (float *da,
                       float *db,
                       const float *dout,
                       const float *a,
                       const float *b,
                       const GraftShape *out_shape,
                       const GraftShape *a_shape,
                       const GraftShape *b_shape,
                       GraftBinaryOp op,
                       gboolean accumulate_a,
                       gboolean accumulate_b)
{
  // da (a_shape), db (b_shape), dout (out_shape), a (a_shape), b (b_shape)
  int64_t n = graft_shape_numel (out_shape);
  gboolean a_full = shape_equal_aligned (a_shape, out_shape);
  gboolean b_full = shape_equal_aligned (b_shape, out_shape);
  BlockBroadcast bb;

  if (da == NULL && db == NULL)
    return;
  if (n == 0)
    {
      /* Nothing reaches the inputs: an assigned gradient is zero. */
      if (da && !accumulate_a)
        memset (da, 0, sizeof (float) * graft_shape_numel (a_shape));
      if (db && !accumulate_b)
        memset (db, 0, sizeof (float) * graft_shape_numel (b_shape));
      return;
    }
  if (a_full && b_full)
    binary_backward_same (da, db, dout, a, b, n, op, accumulate_a,
                          accumulate_b);
  else if (a_full && find_block (b_shape, out_shape, &bb))
    binary_backward_block (da, db, dout, a, b, &bb, TRUE, op, accumulate_a,
                           accumulate_b);
  else if (b_full && find_block (a_shape, out_shape, &bb))
    binary_backward_block (db, da, dout, b, a, &bb, FALSE, op, accumulate_b,
                           accumulate_a);
  else
    graft_binary_backward_ref (da, db, dout, a, b, out_shape, a_shape, b_shape,
                               op, accumulate_a, accumulate_b);
}

/* ---- integer arithmetic ----
 * Add, Sub and Mul go through the unsigned type so that overflow wraps
 * instead of being undefined. */

static inline int64_t
div_i64 (int64_t x, int64_t y)
{
  if (y == 0)
    return 0;
  if (y == -1)
    return (int64_t) (0 - (uint64_t) x);
  return x / y;
}

static inline int32_t
div_i32 (int32_t x, int32_t y)
{
  if (y == 0)
    return 0;
  if (y == -1)
    return (int32_t) (0 - (uint32_t) x);
  return x / y;
}

static inline uint8_t
div_u8 (uint8_t x, uint8_t y)
{
  return y == 0 ? 0 : (uint8_t) (x / y);
}

#define DEFINE_INT_BINARY(NAME, T, UT, DIV)                                    \
  void NAME (T *out, const T *a, const T *b, const GraftShape *out_shape,      \
             const GraftShape *a_shape, const GraftShape *b_shape,             \
             GraftBinaryOp op)                                                 \
  {                                                                            \
    switch (op)                                                                \
      {                                                                        \
      case GRAFT_BINARY_ADD:                                                   \
        STRIDED_LOOP (T, (T) ((UT) x + (UT) y));                               \
        break;                                                                 \
      case GRAFT_BINARY_SUB:                                                   \
        STRIDED_LOOP (T, (T) ((UT) x - (UT) y));                               \
        break;                                                                 \
      case GRAFT_BINARY_MUL:                                                   \
        STRIDED_LOOP (T, (T) ((UT) x * (UT) y));                               \
        break;                                                                 \
      case GRAFT_BINARY_DIV:                                                   \
        STRIDED_LOOP (T, DIV (x, y));                                          \
        break;                                                                 \
      }                                                                        \
  }

DEFINE_INT_BINARY (graft_binary_forward_i64, int64_t, uint64_t, div_i64)
DEFINE_INT_BINARY (graft_binary_forward_i32, int32_t, uint32_t, div_i32)
/* uint8 promotes to int before multiplying; unsigned int keeps it defined. */
DEFINE_INT_BINARY (graft_binary_forward_u8, uint8_t, unsigned int, div_u8)

/* ---- linear quantization ---- */

#define DEQUANTIZE_LOOP(T)                                                     \
  do                                                                           \
    {                                                                          \
      const T *xv = x, *zv = zero_point;                                       \
      for (int64_t o = 0; o < outer; o++)                                      \
        for (int64_t c = 0; c < C; c++)                                        \
          {                                                                    \
            int64_t base = (o * C + c) * inner;                                \
            int64_t zp = zv ? zv[c] : 0;                                       \
            float s = scale[c];                                                \
            for (int64_t k = 0; k < inner; k++)                                \
              out[base + k] = (float) ((int64_t) xv[base + k] - zp) * s;       \
          }                                                                    \
    }                                                                          \
  while (0)

void
graft_dequantize_linear_forward (float *out,
                                 const void *x,
                                 GraftDType x_type,
                                 const float *scale,
                                 const void *zero_point,
                                 int64_t outer,
                                 int64_t C,
                                 int64_t inner)
{
  // out (outer, C, inner), x (outer, C, inner), scale (C), zero_point (C)
  switch (x_type)
    {
    case GRAFT_DTYPE_UINT8:
      DEQUANTIZE_LOOP (uint8_t);
      break;
    case GRAFT_DTYPE_INT8:
      DEQUANTIZE_LOOP (int8_t);
      break;
    case GRAFT_DTYPE_INT32:
      DEQUANTIZE_LOOP (int32_t);
      break;
    default:
      g_return_if_reached ();
    }
}

#define QUANTIZE_LOOP(T, LO, HI)                                               \
  do                                                                           \
    {                                                                          \
      T *yv = out;                                                             \
      const T *zv = zero_point;                                                \
      for (int64_t o = 0; o < outer; o++)                                      \
        for (int64_t c = 0; c < C; c++)                                        \
          {                                                                    \
            int64_t base = (o * C + c) * inner;                                \
            float zp = zv ? (float) zv[c] : 0.0f;                              \
            float s = scale[c];                                                \
            for (int64_t k = 0; k < inner; k++)                                \
              {                                                                \
                /* rintf rounds half to even in the default mode. */           \
                float q = rintf (x[base + k] / s) + zp;                        \
                if (isnan (q))                                                 \
                  q = zp;                                                      \
                q = q < (LO) ? (LO) : q;                                       \
                q = q > (HI) ? (HI) : q;                                       \
                yv[base + k] = (T) q;                                          \
              }                                                                \
          }                                                                    \
    }                                                                          \
  while (0)

void
graft_quantize_linear_forward (void *out,
                               GraftDType out_type,
                               const float *x,
                               const float *scale,
                               const void *zero_point,
                               int64_t outer,
                               int64_t C,
                               int64_t inner)
{
  // out (outer, C, inner), x (outer, C, inner), scale (C), zero_point (C)
  switch (out_type)
    {
    case GRAFT_DTYPE_UINT8:
      QUANTIZE_LOOP (uint8_t, 0.0f, 255.0f);
      break;
    case GRAFT_DTYPE_INT8:
      QUANTIZE_LOOP (int8_t, -128.0f, 127.0f);
      break;
    default:
      g_return_if_reached ();
    }
}
