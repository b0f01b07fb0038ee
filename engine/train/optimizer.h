/* optimizer.h: SGD, Adam and AdamW updates over the trainer's parameters,
 * with PyTorch 1.13's semantics (torch.optim, foreach=False), plus
 * gradient-norm clipping and the non-finite check.
 *
 * The trainer owns the parameter and gradient arrays; the optimizer keeps
 * pointers to them and its own state (momentum buffer, or Adam's exp_avg
 * and exp_avg_sq, and a step count per parameter), which checkpoint.h
 * saves and restores.
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct
{
  const char *name; /* unique; names the state in checkpoints (copied) */
  float *param;     /* n floats, updated in place */
  float *grad;      /* n floats; NULL: frozen, never updated */
  size_t n;
  float lr_scale; /* per-layer multiplier of the learning rate */
  gboolean decay; /* FALSE for biases and normalization parameters */
} GraftParamRef;

typedef enum
{
  GRAFT_OPTIMIZER_SGD,
  GRAFT_OPTIMIZER_ADAM,  /* weight decay as L2: added to the gradient */
  GRAFT_OPTIMIZER_ADAMW, /* decoupled weight decay: p *= 1 - lr * wd */
} GraftOptimizerKind;

typedef struct
{
  GraftOptimizerKind kind;
  float momentum;    /* SGD; 0 keeps no momentum buffer */
  gboolean nesterov; /* SGD; needs momentum > 0 */
  float weight_decay;
  float beta1, beta2, eps; /* Adam, AdamW */
} GraftOptimizerConfig;

/* PyTorch's defaults for kind, except SGD's momentum, which is 0.9 here
 * (0 in PyTorch): SGD wd 0; Adam wd 0; AdamW wd 0.01; betas 0.9, 0.999;
 * eps 1e-8. */
GraftOptimizerConfig graft_optimizer_config_default (GraftOptimizerKind kind);

/* For configurations from user settings: ranges as PyTorch checks them
 * (momentum, weight decay, eps >= 0, betas in [0, 1), Nesterov needs
 * momentum). GRAFT_ERROR_INVALID with a one-line message. */
gboolean graft_optimizer_config_validate (const GraftOptimizerConfig *config,
                                          GError **error);

const char *graft_optimizer_kind_name (GraftOptimizerKind kind);

typedef struct _GraftOptimizer GraftOptimizer;

/* config must validate and names must be unique and non-empty, lr_scale
 * >= 0 (programmer errors: NULL with a critical). params is copied; the
 * arrays it points to must outlive the optimizer. */
GraftOptimizer *graft_optimizer_new (const GraftOptimizerConfig *config,
                                     const GraftParamRef *params,
                                     int n_params);
void graft_optimizer_free (GraftOptimizer *opt);

/* One update of every parameter that has a gradient, at learning rate
 * lr * lr_scale. Frozen parameters keep their state and step count. */
void graft_optimizer_step (GraftOptimizer *opt, float lr);

/* Freezes (grad NULL) or unfreezes parameter index. */
void graft_optimizer_set_grad (GraftOptimizer *opt, int index, float *grad);

const GraftOptimizerConfig *
graft_optimizer_get_config (const GraftOptimizer *opt);
int graft_optimizer_get_n_params (const GraftOptimizer *opt);
const GraftParamRef *graft_optimizer_get_param (const GraftOptimizer *opt,
                                                int index);
/* Index of the parameter with this name, or -1. */
int graft_optimizer_find_param (const GraftOptimizer *opt, const char *name);

/* State: names of the per-element buffers each parameter has, in order
 * ("momentum_buffer" for SGD with momentum; "exp_avg", "exp_avg_sq" for
 * Adam and AdamW); NULL-terminated, static. */
const char *const *graft_optimizer_state_names (const GraftOptimizer *opt);
/* The buffer of n floats for parameter index, or NULL for an unknown name. */
float *graft_optimizer_get_state (GraftOptimizer *opt,
                                  int index,
                                  const char *state_name);
/* Updates parameter index has taken (0: its state is still unset). */
int64_t graft_optimizer_get_step (const GraftOptimizer *opt, int index);
void graft_optimizer_set_step (GraftOptimizer *opt, int index, int64_t step);

/* Scales all gradients together so that their L2 norm is at most max_norm,
 * as torch.nn.utils.clip_grad_norm_: scale = max_norm / (norm + 1e-6) when
 * below 1. Returns the norm before clipping. When the norm is not finite
 * the gradients are left as they are (the caller skips the step). The sum
 * runs in fixed-size blocks, so the result does not depend on the thread
 * count. */
float graft_clip_grad_norm (const GraftParamRef *params,
                            int n_params,
                            float max_norm);

/* FALSE when any gradient holds NaN or +-Inf. */
gboolean graft_grads_finite (const GraftParamRef *params, int n_params);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GraftOptimizer, graft_optimizer_free)

G_END_DECLS
