/* schedule.h: the learning rate at each optimizer step.
 *
 * An optional linear warm-up (torch.optim.lr_scheduler.LinearLR from
 * warmup_start_factor to 1 over warmup_steps), then one of:
 *   CONSTANT  base_lr
 *   STEP      base_lr * gamma^floor(s / step_size)       (StepLR)
 *   COSINE    min_lr + (base_lr - min_lr) * (1 + cos(pi * s / T)) / 2
 *             with T = total_steps - warmup_steps        (CosineAnnealingLR)
 * where s counts steps from the end of the warm-up, as SequentialLR
 * restarts the second schedule at its milestone. COSINE holds min_lr after
 * total_steps instead of rising again.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  GRAFT_SCHEDULE_CONSTANT,
  GRAFT_SCHEDULE_STEP,
  GRAFT_SCHEDULE_COSINE,
} GraftScheduleKind;

typedef struct
{
  GraftScheduleKind kind;
  float base_lr;
  int warmup_steps;          /* 0: none */
  float warmup_start_factor; /* lr at step 0 is base_lr * this; (0, 1] */
  int step_size;             /* STEP: steps between decays, > 0 */
  float gamma;               /* STEP: decay factor */
  int total_steps;           /* COSINE: length including the warm-up */
  float min_lr;              /* COSINE: final lr */
} GraftScheduleConfig;

/* kind at base_lr with PyTorch's defaults: no warm-up, start factor 1/3
 * (LinearLR), gamma 0.1 (StepLR), min_lr 0. step_size and total_steps are
 * left 0 and must be set for STEP and COSINE. */
GraftScheduleConfig graft_schedule_config_default (GraftScheduleKind kind,
                                                   float base_lr);

/* For settings from the user: GRAFT_ERROR_INVALID with a one-line message. */
gboolean graft_schedule_config_validate (const GraftScheduleConfig *config,
                                         GError **error);

const char *graft_schedule_kind_name (GraftScheduleKind kind);

/* The learning rate for the optimizer step with index step (from 0).
 * Steps below 0 count as 0. */
float graft_schedule_lr (const GraftScheduleConfig *config, int step);

G_END_DECLS
