/* optimizer.c: SGD, Adam and AdamW as torch.optim 1.13 computes them.
 *
 * PyTorch evaluates the scalar factors (bias corrections, step size,
 * 1 - beta) in double and rounds them to float once; the element-wise
 * arithmetic is float, in the order of its single-tensor code path
 * (torch/optim/sgd.py, adam.py, adamw.py with foreach=False). The kernels
 * below keep both. Every element is updated independently, so splitting a
 * loop over threads cannot change a result.
 */
#include "train/optimizer.h"

#include "graft-error.h"

#include <math.h>
#include <string.h>

/* Below this many elements a parameter is updated on one thread: starting
 * the team would cost more than the loop. */
#define PARALLEL_MIN_ELEMENTS ((size_t) 1 << 15)

/* The gradient norm is summed in blocks of this many elements, then the
 * blocks in order: the same sum for any thread count. */
#define NORM_BLOCK ((size_t) 4096)

typedef struct
{
  GraftParamRef ref; /* ref.name points at name below */
  char *name;
  int64_t step;
  float *buf0; /* SGD: momentum_buffer; Adam(W): exp_avg */
  float *buf1; /* Adam(W): exp_avg_sq */
} ParamState;

struct _GraftOptimizer
{
  GraftOptimizerConfig config;
  ParamState *params;
  int n_params;
};

static const char *const sgd_state_names[] = { "momentum_buffer", NULL };
static const char *const sgd_plain_state_names[] = { NULL };
static const char *const adam_state_names[] = { "exp_avg", "exp_avg_sq", NULL };

/* ---- kernels ---- */

/* One SGD step of n elements (torch.optim.sgd._single_tensor_sgd):
 *   g = grad + wd * p
 *   buf = g on the first step, else momentum * buf + g   (dampening 0)
 *   g = nesterov ? g + momentum * buf : buf
 *   p = p - lr * g
 * momentum_buf: (n), NULL when momentum is 0.
 *
 * The bodies are straight-line arithmetic, because GCC at -O2 vectorizes
 * no loop that branches: a weight decay of 0 is added (PyTorch skips it;
 * the sums differ at most in the sign of a zero), and the first step
 * scales the zeroed buffer by 0 rather than testing. */
static void
sgd_update (float *param,
            float *momentum_buf,
            const float *grad,
            float lr,
            float weight_decay,
            float momentum,
            gboolean nesterov,
            gboolean first_step,
            size_t n)
{
  const float neg_lr = -lr;
  const float buf_scale = first_step ? 0.0f : momentum;

  if (momentum_buf == NULL)
    {
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
      for (size_t i = 0; i < n; i++)
        {
          float g = grad[i] + weight_decay * param[i];
          param[i] = param[i] + neg_lr * g;
        }
    }
  else if (nesterov)
    {
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
      for (size_t i = 0; i < n; i++)
        {
          float g = grad[i] + weight_decay * param[i];
          float buf = momentum_buf[i] * buf_scale + g;
          momentum_buf[i] = buf;
          param[i] = param[i] + neg_lr * (g + momentum * buf);
        }
    }
  else
    {
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
      for (size_t i = 0; i < n; i++)
        {
          float g = grad[i] + weight_decay * param[i];
          float buf = momentum_buf[i] * buf_scale + g;
          momentum_buf[i] = buf;
          param[i] = param[i] + neg_lr * buf;
        }
    }
}

/* One Adam or AdamW step of n elements (torch.optim.adam / adamw,
 * _single_tensor_*):
 *   p = p * param_scale                     (AdamW: 1 - lr * wd; Adam: 1)
 *   g = grad + l2_decay * p                 (Adam's L2 decay; AdamW: 0)
 *   m = m * beta1 + (1 - beta1) * g
 *   v = v * beta2 + (1 - beta2) * g * g
 *   p = p + (-step_size * m) / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * with step_size = lr / (1 - beta1^t). exp_avg, exp_avg_sq: (n).
 *
 * Straight-line like sgd_update, yet sqrtf keeps it scalar at -O2: GCC
 * guards the call in case it sets errno, and only -fno-math-errno on the
 * command line removes the guard (the optimize attribute and pragma do
 * not). The loop streams four arrays and writes three, so memory bounds
 * it on large parameters anyway. */
static void
adam_update (float *param,
             float *exp_avg,
             float *exp_avg_sq,
             const float *grad,
             float param_scale,
             float l2_decay,
             float beta1,
             float one_minus_beta1,
             float beta2,
             float one_minus_beta2,
             float bias_correction2_sqrt,
             float eps,
             float neg_step_size,
             size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
  for (size_t i = 0; i < n; i++)
    {
      float p = param[i] * param_scale;
      float g = grad[i] + l2_decay * p;
      float m = exp_avg[i] * beta1 + one_minus_beta1 * g;
      float v = exp_avg_sq[i] * beta2 + (one_minus_beta2 * g) * g;
      exp_avg[i] = m;
      exp_avg_sq[i] = v;
      float denom = sqrtf (v) / bias_correction2_sqrt + eps;
      param[i] = p + (neg_step_size * m) / denom;
    }
}

/* Sum of squares of x (n), in double, block by block. */
static double
sum_squares (const float *x, size_t n)
{
  size_t n_blocks = (n + NORM_BLOCK - 1) / NORM_BLOCK;
  double *partial;
  double total = 0.0;

  if (n_blocks <= 1)
    {
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (size_t i = 0; i < n; i++)
        s += (double) x[i] * (double) x[i];
      return s;
    }
  partial = g_new (double, n_blocks);
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
  for (size_t b = 0; b < n_blocks; b++)
    {
      size_t start = b * NORM_BLOCK;
      size_t end = MIN (n, start + NORM_BLOCK);
      double s = 0.0;
#pragma omp simd reduction(+ : s)
      for (size_t i = start; i < end; i++)
        s += (double) x[i] * (double) x[i];
      partial[b] = s;
    }
  for (size_t b = 0; b < n_blocks; b++)
    total += partial[b];
  g_free (partial);
  return total;
}

/* x (n) *= scale */
static void
scale_in_place (float *x, float scale, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN_ELEMENTS)
  for (size_t i = 0; i < n; i++)
    x[i] = x[i] * scale;
}

/* ---- configuration ---- */

GraftOptimizerConfig
graft_optimizer_config_default (GraftOptimizerKind kind)
{
  GraftOptimizerConfig c = {
    .kind = kind,
    .momentum = 0.0f,
    .nesterov = FALSE,
    .weight_decay = 0.0f,
    .beta1 = 0.9f,
    .beta2 = 0.999f,
    .eps = 1e-8f,
  };

  if (kind == GRAFT_OPTIMIZER_SGD)
    c.momentum = 0.9f;
  else if (kind == GRAFT_OPTIMIZER_ADAMW)
    c.weight_decay = 0.01f;
  return c;
}

const char *
graft_optimizer_kind_name (GraftOptimizerKind kind)
{
  switch (kind)
    {
    case GRAFT_OPTIMIZER_SGD:
      return "sgd";
    case GRAFT_OPTIMIZER_ADAM:
      return "adam";
    case GRAFT_OPTIMIZER_ADAMW:
      return "adamw";
    default:
      return "unknown";
    }
}

/* x >= 0 and finite; FALSE for NaN. */
static gboolean
is_non_negative (float x)
{
  return x >= 0.0f && isfinite (x);
}

gboolean
graft_optimizer_config_validate (const GraftOptimizerConfig *c, GError **error)
{
  const char *problem = NULL;

  g_return_val_if_fail (c != NULL, FALSE);
  if (c->kind != GRAFT_OPTIMIZER_SGD && c->kind != GRAFT_OPTIMIZER_ADAM &&
      c->kind != GRAFT_OPTIMIZER_ADAMW)
    problem = "unknown optimizer";
  else if (!is_non_negative (c->weight_decay))
    problem = "weight decay must be a number >= 0";
  else if (c->kind == GRAFT_OPTIMIZER_SGD && !is_non_negative (c->momentum))
    problem = "momentum must be a number >= 0";
  else if (c->kind == GRAFT_OPTIMIZER_SGD && c->nesterov && c->momentum == 0)
    problem = "Nesterov momentum needs a momentum above 0";
  else if (c->kind != GRAFT_OPTIMIZER_SGD &&
           !(c->beta1 >= 0.0f && c->beta1 < 1.0f))
    problem = "beta1 must be in [0, 1)";
  else if (c->kind != GRAFT_OPTIMIZER_SGD &&
           !(c->beta2 >= 0.0f && c->beta2 < 1.0f))
    problem = "beta2 must be in [0, 1)";
  else if (c->kind != GRAFT_OPTIMIZER_SGD && !is_non_negative (c->eps))
    problem = "eps must be a number >= 0";
  if (problem)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "optimizer settings: %s", problem);
      return FALSE;
    }
  return TRUE;
}

/* ---- the optimizer ---- */

static gboolean
params_are_valid (const GraftParamRef *params, int n_params)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  for (int i = 0; i < n_params; i++)
    {
      const GraftParamRef *p = &params[i];
      if (p->name == NULL || p->name[0] == '\0' ||
          !g_hash_table_add (names, (gpointer) p->name))
        {
          g_critical ("optimizer parameter %d: missing or repeated name '%s'",
                      i, p->name ? p->name : "(null)");
          return FALSE;
        }
      if ((p->param == NULL && p->n > 0) || !is_non_negative (p->lr_scale))
        {
          g_critical ("optimizer parameter '%s': no data or bad lr_scale",
                      p->name);
          return FALSE;
        }
    }
  return TRUE;
}

GraftOptimizer *
graft_optimizer_new (const GraftOptimizerConfig *config,
                     const GraftParamRef *params,
                     int n_params)
{
  GraftOptimizer *opt;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (n_params >= 0 && (params != NULL || n_params == 0),
                        NULL);
  g_return_val_if_fail (graft_optimizer_config_validate (config, NULL), NULL);
  if (!params_are_valid (params, n_params))
    return NULL;

  opt = g_new0 (GraftOptimizer, 1);
  opt->config = *config;
  opt->n_params = n_params;
  opt->params = g_new0 (ParamState, MAX (n_params, 1));
  for (int i = 0; i < n_params; i++)
    {
      ParamState *s = &opt->params[i];
      size_t n = params[i].n;

      s->ref = params[i];
      s->name = g_strdup (params[i].name);
      s->ref.name = s->name;
      if (config->kind == GRAFT_OPTIMIZER_SGD)
        {
          if (config->momentum != 0.0f)
            s->buf0 = g_new0 (float, MAX (n, 1));
        }
      else
        {
          s->buf0 = g_new0 (float, MAX (n, 1));
          s->buf1 = g_new0 (float, MAX (n, 1));
        }
    }
  return opt;
}

void
graft_optimizer_free (GraftOptimizer *opt)
{
  if (opt == NULL)
    return;
  for (int i = 0; i < opt->n_params; i++)
    {
      g_free (opt->params[i].name);
      g_free (opt->params[i].buf0);
      g_free (opt->params[i].buf1);
    }
  g_free (opt->params);
  g_free (opt);
}

static void
step_sgd (const GraftOptimizerConfig *c, ParamState *s, double lr)
{
  float wd = s->ref.decay ? c->weight_decay : 0.0f;

  sgd_update (s->ref.param, s->buf0, s->ref.grad, (float) lr, wd, c->momentum,
              c->nesterov, s->step == 1, s->ref.n);
}

static void
step_adam (const GraftOptimizerConfig *c, ParamState *s, double lr)
{
  double wd = s->ref.decay ? c->weight_decay : 0.0;
  double t = (double) s->step;
  double bias_correction1 = 1.0 - pow (c->beta1, t);
  double bias_correction2 = 1.0 - pow (c->beta2, t);
  double step_size = lr / bias_correction1;
  gboolean decoupled = c->kind == GRAFT_OPTIMIZER_ADAMW;

  adam_update (
      s->ref.param, s->buf0, s->buf1, s->ref.grad,
      decoupled ? (float) (1.0 - lr * wd) : 1.0f, decoupled ? 0.0f : (float) wd,
      c->beta1, (float) (1.0 - c->beta1), c->beta2, (float) (1.0 - c->beta2),
      (float) sqrt (bias_correction2), c->eps, (float) -step_size, s->ref.n);
}

void
graft_optimizer_step (GraftOptimizer *opt, float lr)
{
  g_return_if_fail (opt != NULL);

  for (int i = 0; i < opt->n_params; i++)
    {
      ParamState *s = &opt->params[i];
      /* PyTorch keeps the per-group lr as a double: lr * lr_scale. */
      double param_lr = (double) lr * (double) s->ref.lr_scale;

      if (s->ref.grad == NULL)
        continue;
      s->step++;
      if (opt->config.kind == GRAFT_OPTIMIZER_SGD)
        step_sgd (&opt->config, s, param_lr);
      else
        step_adam (&opt->config, s, param_lr);
    }
}

void
graft_optimizer_set_grad (GraftOptimizer *opt, int index, float *grad)
{
  g_return_if_fail (opt != NULL && index >= 0 && index < opt->n_params);
  opt->params[index].ref.grad = grad;
}

const GraftOptimizerConfig *
graft_optimizer_get_config (const GraftOptimizer *opt)
{
  g_return_val_if_fail (opt != NULL, NULL);
  return &opt->config;
}

int
graft_optimizer_get_n_params (const GraftOptimizer *opt)
{
  g_return_val_if_fail (opt != NULL, 0);
  return opt->n_params;
}

const GraftParamRef *
graft_optimizer_get_param (const GraftOptimizer *opt, int index)
{
  g_return_val_if_fail (opt != NULL && index >= 0 && index < opt->n_params,
                        NULL);
  return &opt->params[index].ref;
}

int
graft_optimizer_find_param (const GraftOptimizer *opt, const char *name)
{
  g_return_val_if_fail (opt != NULL && name != NULL, -1);
  for (int i = 0; i < opt->n_params; i++)
    if (strcmp (opt->params[i].name, name) == 0)
      return i;
  return -1;
}

const char *const *
graft_optimizer_state_names (const GraftOptimizer *opt)
{
  g_return_val_if_fail (opt != NULL, sgd_plain_state_names);
  if (opt->config.kind != GRAFT_OPTIMIZER_SGD)
    return adam_state_names;
  return opt->config.momentum != 0.0f ? sgd_state_names : sgd_plain_state_names;
}

float *
graft_optimizer_get_state (GraftOptimizer *opt,
                           int index,
                           const char *state_name)
{
  const char *const *names;

  g_return_val_if_fail (opt != NULL && index >= 0 && index < opt->n_params,
                        NULL);
  g_return_val_if_fail (state_name != NULL, NULL);
  names = graft_optimizer_state_names (opt);
  if (names[0] && strcmp (state_name, names[0]) == 0)
    return opt->params[index].buf0;
  if (names[0] && names[1] && strcmp (state_name, names[1]) == 0)
    return opt->params[index].buf1;
  return NULL;
}

int64_t
graft_optimizer_get_step (const GraftOptimizer *opt, int index)
{
  g_return_val_if_fail (opt != NULL && index >= 0 && index < opt->n_params, 0);
  return opt->params[index].step;
}

void
graft_optimizer_set_step (GraftOptimizer *opt, int index, int64_t step)
{
  g_return_if_fail (opt != NULL && index >= 0 && index < opt->n_params);
  g_return_if_fail (step >= 0);
  opt->params[index].step = step;
}

/* ---- gradient checks ---- */

float
graft_clip_grad_norm (const GraftParamRef *params, int n_params, float max_norm)
{
  double sum = 0.0;
  float norm, coef;

  g_return_val_if_fail (params != NULL || n_params == 0, 0.0f);
  for (int i = 0; i < n_params; i++)
    if (params[i].grad)
      sum += sum_squares (params[i].grad, params[i].n);
  norm = (float) sqrt (sum);
  if (!isfinite (norm))
    return norm;
  coef = max_norm / (norm + 1e-6f);
  if (coef < 1.0f)
    for (int i = 0; i < n_params; i++)
      if (params[i].grad)
        scale_in_place (params[i].grad, coef, params[i].n);
  return norm;
}

gboolean
graft_grads_finite (const GraftParamRef *params, int n_params)
{
  g_return_val_if_fail (params != NULL || n_params == 0, FALSE);
  for (int i = 0; i < n_params; i++)
    {
      const float *g = params[i].grad;
      float poison = 0.0f;

      if (g == NULL)
        continue;
        /* x * 0 is 0 for finite x and NaN for NaN and Inf: the loop has no
         * branch, so it vectorizes. */
#pragma omp simd reduction(+ : poison)
      for (size_t k = 0; k < params[i].n; k++)
        poison += g[k] * 0.0f;
      if (poison != 0.0f)
        return FALSE;
    }
  return TRUE;
}
