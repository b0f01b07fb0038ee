/* bench-train-setup.c: see bench-train-setup.h. */
#include "bench-train-setup.h"

#include "graph.h"

GraftTrainer *
bench_train_setup (const char *model,
                   int batch,
                   int size,
                   int classes,
                   float **images,
                   int **labels,
                   GError **error)
{
  g_autoptr (GraftGraph) base = NULL;
  g_autoptr (GRand) rng = g_rand_new_with_seed (1);
  GraftTrainConfig config;
  GraftTrainer *trainer;
  size_t n_floats = (size_t) batch * 3 * size * size;

  base = graft_graph_load (model, error);
  if (base == NULL)
    return NULL;
  if (base->n_inputs == 1)
    {
      GraftValue *in = &base->values[base->inputs[0]];
      in->declared_dims[2] = size;
      in->declared_dims[3] = size;
    }
  graft_train_config_init (&config);
  config.batch_size = batch;
  config.feature_cache = FALSE;
  config.backbone_lr_scale = 1.0f;
  trainer = graft_trainer_new (base, classes, &config, error);
  graft_train_config_clear (&config);
  if (trainer == NULL)
    return NULL;
  graft_trainer_freeze_preset (trainer, GRAFT_FREEZE_NONE, 0);

  *images = g_new (float, n_floats);
  *labels = g_new (int, batch);
  for (size_t i = 0; i < n_floats; i++)
    (*images)[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  for (int i = 0; i < batch; i++)
    (*labels)[i] = g_rand_int_range (rng, 0, classes);
  return trainer;
}
