/* schedule.c: learning-rate schedules in closed form, so that a resumed run
 * needs only its step number. */
#include "train/schedule.h"

#include "graft-error.h"

#include <math.h>

GraftScheduleConfig
graft_schedule_config_default (GraftScheduleKind kind, float base_lr)
{
  GraftScheduleConfig c = {
    .kind = kind,
    .base_lr = base_lr,
    .warmup_steps = 0,
    .warmup_start_factor = 1.0f / 3.0f,
    .step_size = 0,
    .gamma = 0.1f,
    .total_steps = 0,
    .min_lr = 0.0f,
  };
  return c;
}

const char *
graft_schedule_kind_name (GraftScheduleKind kind)
{
  switch (kind)
    {
    case GRAFT_SCHEDULE_CONSTANT:
      return "constant";
    case GRAFT_SCHEDULE_STEP:
      return "step";
    case GRAFT_SCHEDULE_COSINE:
      return "cosine";
    default:
      return "unknown";
    }
}

gboolean
graft_schedule_config_validate (const GraftScheduleConfig *c, GError **error)
{
  const char *problem = NULL;

  g_return_val_if_fail (c != NULL, FALSE);
  if (c->kind != GRAFT_SCHEDULE_CONSTANT && c->kind != GRAFT_SCHEDULE_STEP &&
      c->kind != GRAFT_SCHEDULE_COSINE)
    problem = "unknown schedule";
  else if (!(c->base_lr >= 0.0f && isfinite (c->base_lr)))
    problem = "the learning rate must be a number >= 0";
  else if (c->warmup_steps < 0)
    problem = "warm-up steps must be >= 0";
  else if (c->warmup_steps > 0 &&
           !(c->warmup_start_factor > 0.0f && c->warmup_start_factor <= 1.0f))
    problem = "the warm-up start factor must be in (0, 1]";
  else if (c->kind == GRAFT_SCHEDULE_STEP && c->step_size <= 0)
    problem = "the step size must be above 0";
  else if (c->kind == GRAFT_SCHEDULE_STEP &&
           !(c->gamma >= 0.0f && isfinite (c->gamma)))
    problem = "gamma must be a number >= 0";
  else if (c->kind == GRAFT_SCHEDULE_COSINE &&
           c->total_steps <= c->warmup_steps)
    problem = "the total steps must be more than the warm-up steps";
  else if (c->kind == GRAFT_SCHEDULE_COSINE &&
           !(c->min_lr >= 0.0f && c->min_lr <= c->base_lr))
    problem = "the minimum learning rate must be in [0, base rate]";
  if (problem)
    {
      g_set_error (error, GRAFT_ERROR, GRAFT_ERROR_INVALID,
                   "learning-rate schedule: %s", problem);
      return FALSE;
    }
  return TRUE;
}

float
graft_schedule_lr (const GraftScheduleConfig *c, int step)
{
  double base, since_warmup;

  g_return_val_if_fail (c != NULL, 0.0f);
  base = c->base_lr;
  step = MAX (step, 0);
  if (step < c->warmup_steps)
    {
      double f = c->warmup_start_factor;
      return (float) (base * (f + (1.0 - f) * step / c->warmup_steps));
    }
  since_warmup = step - c->warmup_steps;
  switch (c->kind)
    {
    case GRAFT_SCHEDULE_STEP:
      if (c->step_size <= 0)
        return (float) base;
      return (float) (base *
                      pow (c->gamma, floor (since_warmup / c->step_size)));
    case GRAFT_SCHEDULE_COSINE:
      {
        double period = c->total_steps - c->warmup_steps;
        double min_lr = c->min_lr;
        if (period <= 0 || since_warmup >= period)
          return (float) min_lr;
        return (float) (min_lr +
                        (base - min_lr) *
                            (1.0 + cos (G_PI * since_warmup / period)) / 2.0);
      }
    case GRAFT_SCHEDULE_CONSTANT:
    default:
      return (float) base;
    }
}
