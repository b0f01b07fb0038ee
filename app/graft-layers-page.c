/* graft-layers-page.c: step 3, what trains and what stays frozen.
 *
 * The training graph (the base model's trunk with a new classifier for
 * the user's categories) is built in a worker thread; its blocks are
 * listed with a switch each. Three presets set the switches; a switch
 * pattern that is no preset is the user's own choice. Parameter counts
 * come from the trainer; the time per epoch is estimated from two
 * training steps measured on this computer at load (everything trainable,
 * and only the classifier), interpolated by the share of layers that
 * need gradients.
 */
#include "config.h"

#include "graft-layers-page.h"

#include "blocks.h"
#include "finetune.h"
#include "graft-block-names.h"
#include "graph.h"
#include "preprocess.h"

#include <glib/gi18n.h>
#include <math.h>

#define MEASURE_BATCH 4

typedef struct
{
  GraftTrainer *trainer;
  double seconds_forward; /* per image, nothing but the classifier training */
  double seconds_full;    /* per image, everything training */
} Preview;

static void
preview_free (gpointer data)
{
  Preview *preview = data;

  g_clear_pointer (&preview->trainer, graft_trainer_free);
  g_free (preview);
}

struct _GraftLayersPage
{
  AdwBin parent_instance;

  GtkWidget *stack;
  GtkWidget *error_page;
  GtkWidget *spinner;
  GtkWidget *radio_head, *radio_last, *radio_all;
  GtkWidget *last_spin;
  GtkWidget *custom_label;
  GtkWidget *counts_label;
  GtkWidget *time_label;
  GtkWidget *blocks_list;
  GtkWidget **switches;

  GCancellable *cancellable;
  Preview *preview;
  int n_blocks;
  int n_train_photos;
  int n_nodes;
  gboolean applying; /* switches being set by a preset */
  gboolean loading;
};

G_DEFINE_FINAL_TYPE (GraftLayersPage, graft_layers_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_LOADING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *
block_kind_words (GraftBlockKind kind)
{
  switch (kind)
    {
    case GRAFT_BLOCK_LAYER:
      return _ ("A single layer");
    case GRAFT_BLOCK_RESIDUAL:
      return _ ("Layers with a shortcut around them");
    case GRAFT_BLOCK_SEPARABLE:
      return _ ("A light convolution pair");
    case GRAFT_BLOCK_BOTTLENECK:
      return _ ("An expand-filter-shrink block");
    case GRAFT_BLOCK_HEAD:
      return _ ("The new classifier for your categories");
    }
  return "";
}

static char *
format_count (gint64 n)
{
  if (n >= 1000000)
    return g_strdup_printf (_ ("%.1f million"), n / 1e6);
  if (n >= 10000)
    return g_strdup_printf (_ ("%.0f thousand"), n / 1e3);
  return g_strdup_printf ("%" G_GINT64_FORMAT, n);
}

static char *
format_duration (double seconds)
{
  if (seconds < 60)
    return g_strdup_printf (_ ("about %.0f seconds"), MAX (1, ceil (seconds)));
  if (seconds < 3600)
    return g_strdup_printf (_ ("about %.0f minutes"), ceil (seconds / 60));
  return g_strdup_printf (_ ("about %.1f hours"), seconds / 3600);
}

/* ---- the choice ---- */

static gboolean
preset_wants (int n_blocks,
              int block,
              GraftFreezePreset preset,
              int last_blocks)
{
  int trunk = n_blocks - 1;

  return block == n_blocks - 1 || preset == GRAFT_FREEZE_NONE ||
         (preset == GRAFT_FREEZE_LAST_BLOCKS && block >= trunk - last_blocks);
}

/* Which preset the switches show, FALSE when none does. */
static gboolean
switches_match_preset (GraftLayersPage *self,
                       GraftFreezePreset *preset,
                       int *last_blocks)
{
  int trunk = self->n_blocks - 1;
  int first_trainable = trunk;

  for (int b = trunk - 1;
       b >= 0 && gtk_switch_get_active (GTK_SWITCH (self->switches[b])); b--)
    first_trainable = b;
  for (int b = 0; b < first_trainable; b++)
    if (gtk_switch_get_active (GTK_SWITCH (self->switches[b])))
      return FALSE; /* a gap: not a preset */
  *last_blocks = trunk - first_trainable;
  if (*last_blocks == 0)
    *preset = GRAFT_FREEZE_HEAD_ONLY;
  else if (first_trainable == 0)
    *preset = GRAFT_FREEZE_NONE;
  else
    *preset = GRAFT_FREEZE_LAST_BLOCKS;
  return TRUE;
}

static void
update_counts (GraftLayersPage *self)
{
  GraftTrainer *trainer = self->preview->trainer;
  gint64 trainable = graft_trainer_count_params (trainer, TRUE);
  gint64 total = graft_trainer_count_params (trainer, FALSE);
  g_autofree char *n_trainable = format_count (trainable);
  g_autofree char *n_frozen = format_count (total - trainable);
  g_autofree char *counts =
      g_strdup_printf (_ ("%s parameters will learn; %s stay as they are."),
                       n_trainable, n_frozen);
  int first_trainable_node = self->n_nodes;
  int n_blocks_unused;
  const GraftBlock *blocks =
      graft_trainer_get_blocks (trainer, &n_blocks_unused);
  double share, per_image, epoch;
  g_autofree char *duration = NULL;
  g_autofree char *time_text = NULL;

  gtk_label_set_text (GTK_LABEL (self->counts_label), counts);
  for (int b = 0; b < self->n_blocks; b++)
    if (gtk_switch_get_active (GTK_SWITCH (self->switches[b])))
      {
        first_trainable_node = blocks[b].first_node;
        break;
      }
  /* Layers from the first trainable one on need a backward pass; the
   * frozen ones before it only run forward. */
  share =
      (double) (self->n_nodes - first_trainable_node) / MAX (self->n_nodes, 1);
  per_image = self->preview->seconds_forward +
              share * MAX (0, self->preview->seconds_full -
                                  self->preview->seconds_forward);
  epoch = per_image * MAX (self->n_train_photos, 1);
  duration = format_duration (epoch);
  time_text = g_strdup_printf (
      g_dngettext (
          GETTEXT_PACKAGE,
          "One pass over %d photo takes %s on this computer (estimated from "
          "training steps measured when the model was read).",
          "One pass over %d photos takes %s on this computer (estimated from "
          "training steps measured when the model was read).",
          MAX (self->n_train_photos, 1)),
      MAX (self->n_train_photos, 1), duration);
  gtk_label_set_text (GTK_LABEL (self->time_label), time_text);
}

static void
show_preset (GraftLayersPage *self)
{
  GraftFreezePreset preset;
  int last_blocks;
  gboolean is_preset = switches_match_preset (self, &preset, &last_blocks);

  self->applying = TRUE;
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->radio_head),
                               is_preset && preset == GRAFT_FREEZE_HEAD_ONLY);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->radio_last),
                               is_preset && preset == GRAFT_FREEZE_LAST_BLOCKS);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (self->radio_all),
                               is_preset && preset == GRAFT_FREEZE_NONE);
  if (is_preset && preset == GRAFT_FREEZE_LAST_BLOCKS)
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->last_spin), last_blocks);
  self->applying = FALSE;
  gtk_widget_set_visible (self->custom_label, !is_preset);
}

static void
on_switch_active (GtkSwitch *sw, GParamSpec *pspec, gpointer user_data)
{
  GraftLayersPage *self = user_data;
  int block =
      GPOINTER_TO_INT (g_object_get_data (G_OBJECT (sw), "graft-block"));

  graft_trainer_set_block_trainable (self->preview->trainer, block,
                                     gtk_switch_get_active (sw));
  if (self->applying)
    return;
  show_preset (self);
  update_counts (self);
}

static void
apply_preset (GraftLayersPage *self, GraftFreezePreset preset, int last_blocks)
{
  if (self->preview == NULL)
    return;
  self->applying = TRUE;
  for (int b = 0; b < self->n_blocks; b++)
    {
      gboolean train = preset_wants (self->n_blocks, b, preset, last_blocks);
      /* Set the trainer too: a switch already in place does not notify. */
      graft_trainer_set_block_trainable (self->preview->trainer, b, train);
      gtk_switch_set_active (GTK_SWITCH (self->switches[b]), train);
    }
  self->applying = FALSE;
  show_preset (self);
  update_counts (self);
}

static void
on_radio_toggled (GtkCheckButton *radio, gpointer user_data)
{
  GraftLayersPage *self = user_data;
  int n = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->last_spin));

  if (self->applying || !gtk_check_button_get_active (radio))
    return;
  if (GTK_WIDGET (radio) == self->radio_head)
    apply_preset (self, GRAFT_FREEZE_HEAD_ONLY, 0);
  else if (GTK_WIDGET (radio) == self->radio_last)
    apply_preset (self, GRAFT_FREEZE_LAST_BLOCKS, n);
  else
    apply_preset (self, GRAFT_FREEZE_NONE, 0);
}

static void
on_spin_changed (GtkSpinButton *spin, gpointer user_data)
{
  GraftLayersPage *self = user_data;

  if (self->applying)
    return;
  apply_preset (self, GRAFT_FREEZE_LAST_BLOCKS,
                gtk_spin_button_get_value_as_int (spin));
}

/* ---- reading the model ---- */

typedef struct
{
  char *path;
  int n_classes;
} PreviewJob;

static void
preview_job_free (gpointer data)
{
  PreviewJob *job = data;

  g_free (job->path);
  g_free (job);
}

/* Seconds per image of one training step with the trainer's current
 * freezing, the best of two (the first warms the caches). */
static gboolean
time_step (GraftTrainer *trainer,
           const float *images,
           const int *labels,
           double *seconds,
           GError **error)
{
  *seconds = INFINITY;
  for (int r = 0; r < 2; r++)
    {
      gint64 start = g_get_monotonic_time ();
      float loss;
      if (!graft_trainer_compute_gradients (trainer, images, labels,
                                            MEASURE_BATCH, &loss, error))
        return FALSE;
      *seconds = MIN (*seconds,
                      (g_get_monotonic_time () - start) / 1e6 / MEASURE_BATCH);
    }
  return TRUE;
}

static void
preview_thread (GTask *task,
                gpointer source,
                gpointer data,
                GCancellable *cancellable)
{
  PreviewJob *job = data;
  g_autoptr (GraftGraph) base = NULL;
  g_autofree float *images = NULL;
  int labels[MEASURE_BATCH] = { 0 };
  GraftPreprocess pp;
  GraftTrainConfig config;
  Preview *preview = g_new0 (Preview, 1);
  GError *error = NULL;
  size_t n;

  graft_train_config_init (&config);
  base = graft_graph_load (job->path, &error);
  if (base != NULL && graft_preprocess_from_model (&pp, base->model, &error))
    preview->trainer =
        graft_trainer_new (base, MAX (job->n_classes, 2), &config, &error);
  graft_train_config_clear (&config);
  if (preview->trainer == NULL)
    goto fail;
  n = (size_t) MEASURE_BATCH * 3 * pp.width * pp.height;
  images = g_new (float, n);
  for (size_t i = 0; i < n; i++)
    images[i] = (float) ((i * 2654435761u) % 1000) / 500.0f - 1.0f;
  graft_trainer_freeze_preset (preview->trainer, GRAFT_FREEZE_HEAD_ONLY, 0);
  if (!time_step (preview->trainer, images, labels, &preview->seconds_forward,
                  &error))
    goto fail;
  graft_trainer_freeze_preset (preview->trainer, GRAFT_FREEZE_NONE, 0);
  if (!time_step (preview->trainer, images, labels, &preview->seconds_full,
                  &error))
    goto fail;
  g_task_return_pointer (task, preview, preview_free);
  return;
fail:
  preview_free (preview);
  g_task_return_error (task, error);
}

static GtkWidget *
block_row_new (GraftLayersPage *self,
               const GraftBlock *blocks,
               int index,
               const char *prefix)
{
  const GraftBlock *block = &blocks[index];
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *sw = gtk_switch_new ();
  g_autofree char *params = format_count (block->params);
  g_autofree char *title =
      graft_block_names_title (blocks, self->n_blocks, index);
  g_autofree char *subtitle = NULL;

  /* The head is Graft's own new classifier: its graph name says nothing
   * that its kind does not. */
  if (block->kind == GRAFT_BLOCK_HEAD)
    subtitle =
        /* Translators: a block's kind, then its parameter count */
        g_strdup_printf (_ ("%s · %s parameters"),
                         block_kind_words (block->kind), params);
  else
    subtitle = g_strdup_printf (
        /* Translators: a block's kind, its parameter count, then its name
         * in the model file */
        _ ("%s · %s parameters · %s"), block_kind_words (block->kind), params,
        graft_block_names_strip (block->name, prefix));

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_tooltip_text (row, block->name);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (row), 1);
  gtk_widget_set_valign (sw, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (sw, _ ("Learn (on) or stay as it is (off)"));
  g_object_set_data (G_OBJECT (sw), "graft-block", GINT_TO_POINTER (index));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), sw);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), sw);
  if (block->kind == GRAFT_BLOCK_HEAD)
    {
      /* The new classifier starts random: it always learns. */
      gtk_switch_set_active (GTK_SWITCH (sw), TRUE);
      gtk_widget_set_sensitive (sw, FALSE);
    }
  g_signal_connect (sw, "notify::active", G_CALLBACK (on_switch_active), self);
  self->switches[index] = sw;
  return row;
}

static void
set_loading (GraftLayersPage *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  /* A spinning spinner animates even on a hidden page: GTK then lays out
   * and redraws the window at every frame (60 times a second). */
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), loading);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
preview_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GraftLayersPage) self = user_data;
  g_autoptr (GError) error = NULL;
  Preview *preview = g_task_propagate_pointer (G_TASK (res), &error);
  const GraftBlock *blocks;
  g_autofree char *prefix = NULL;
  GtkWidget *child;

  if (g_task_get_cancellable (G_TASK (res)) != self->cancellable)
    {
      g_clear_pointer (&preview, preview_free);
      return; /* superseded */
    }
  set_loading (self, FALSE);
  if (preview == NULL)
    {
      adw_status_page_set_description (ADW_STATUS_PAGE (self->error_page),
                                       error->message);
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "error");
      return;
    }
  g_clear_pointer (&self->preview, preview_free);
  self->preview = preview;
  blocks = graft_trainer_get_blocks (preview->trainer, &self->n_blocks);
  self->n_nodes = graft_trainer_get_graph (preview->trainer)->n_nodes;
  while ((child = gtk_widget_get_first_child (self->blocks_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->blocks_list), child);
  g_free (self->switches);
  self->switches = g_new0 (GtkWidget *, self->n_blocks);
  prefix = graft_block_names_prefix (blocks, self->n_blocks);
  for (int b = 0; b < self->n_blocks; b++)
    gtk_list_box_append (GTK_LIST_BOX (self->blocks_list),
                         block_row_new (self, blocks, b, prefix));
  gtk_spin_button_set_range (GTK_SPIN_BUTTON (self->last_spin), 1,
                             MAX (1, self->n_blocks - 1));
  {
    /* The engine's default preset, as graft-cli train uses it. */
    GraftFinetuneOptions defaults;
    graft_finetune_options_init (&defaults);
    self->applying = TRUE;
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->last_spin),
                               defaults.last_blocks);
    self->applying = FALSE;
    apply_preset (self, defaults.preset, defaults.last_blocks);
    graft_finetune_options_clear (&defaults);
  }
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "blocks");
}

/* ---- building ---- */

static GtkWidget *
label_new (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css_class != NULL)
    gtk_widget_add_css_class (label, css_class);
  return label;
}

static GtkWidget *
preset_row_new (GraftLayersPage *self,
                GtkWidget **radio,
                GtkCheckButton *group,
                const char *title,
                const char *when)
{
  GtkWidget *row = adw_action_row_new ();

  *radio = gtk_check_button_new ();
  if (group != NULL)
    gtk_check_button_set_group (GTK_CHECK_BUTTON (*radio), group);
  gtk_widget_set_valign (*radio, GTK_ALIGN_CENTER);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), when);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), *radio);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), *radio);
  g_signal_connect (*radio, "toggled", G_CALLBACK (on_radio_toggled), self);
  return row;
}

static void
graft_layers_page_init (GraftLayersPage *self)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *presets = adw_preferences_group_new ();
  GtkWidget *blocks_group = adw_preferences_group_new ();
  GtkWidget *row;
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *loading = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  self->cancellable = g_cancellable_new ();
  self->stack = gtk_stack_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "view-list-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty),
                             _ ("Choose a Model and Photos First"));
  adw_status_page_set_description (ADW_STATUS_PAGE (empty),
                                   _ ("The layers you can train depend on the "
                                      "base model and on your categories."));
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_size_request (self->spinner, 32, 32);
  gtk_widget_set_valign (loading, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (loading), self->spinner);
  gtk_box_append (
      GTK_BOX (loading),
      gtk_label_new (_ ("Reading the model and timing a training step…")));
  gtk_stack_add_named (GTK_STACK (self->stack), loading, "loading");
  self->error_page = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->error_page),
                                 "dialog-error-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (self->error_page),
                             _ ("This Model Cannot Be Fine-Tuned"));
  gtk_stack_add_named (GTK_STACK (self->stack), self->error_page, "error");

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 920);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box),
                  label_new (_ ("Choose What Learns"), "title-2"));
  gtk_box_append (GTK_BOX (box),
                  label_new (_ ("The base model's layers already recognize "
                                "shapes and textures. The new "
                                "classifier always learns your categories; the "
                                "layers before it can stay "
                                "as they are (frozen) or adapt too."),
                             NULL));

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (presets),
                                   _ ("How Much to Train"));
  row = preset_row_new (
      self, &self->radio_head, NULL, _ ("Train only the new classifier"),
      _ ("Fastest. Best with few photos, or categories like everyday "
         "things ImageNet already knows."));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (presets), row);
  row = preset_row_new (
      self, &self->radio_last, GTK_CHECK_BUTTON (self->radio_head),
      _ ("Also fine-tune the last blocks"),
      _ ("With a few hundred photos per category. Set how many blocks."));
  self->last_spin = gtk_spin_button_new_with_range (1, 20, 1);
  gtk_widget_set_valign (self->last_spin, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (self->last_spin, _ ("Blocks to fine-tune"));
  g_signal_connect (self->last_spin, "value-changed",
                    G_CALLBACK (on_spin_changed), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), self->last_spin);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (presets), row);
  row = preset_row_new (
      self, &self->radio_all, GTK_CHECK_BUTTON (self->radio_head),
      _ ("Fine-tune everything"),
      _ ("Slowest. For many photos, or images unlike everyday photos "
         "(X-rays, microscopy, satellite views)."));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (presets), row);
  gtk_box_append (GTK_BOX (box), presets);

  self->custom_label =
      label_new (_ ("Your own choice of blocks: Graft trains exactly the "
                    "switched-on blocks, without the comparison with the "
                    "classifier alone."),
                 "dim-label");
  gtk_widget_set_visible (self->custom_label, FALSE);
  gtk_box_append (GTK_BOX (box), self->custom_label);
  self->counts_label = label_new (NULL, "heading");
  gtk_box_append (GTK_BOX (box), self->counts_label);
  self->time_label = label_new (NULL, "dim-label");
  gtk_box_append (GTK_BOX (box), self->time_label);

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (blocks_group),
                                   _ ("Blocks"));
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (blocks_group),
      _ ("From the photo's side (first) to the answer (last). Switch a block "
         "on to let it "
         "learn."));
  self->blocks_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->blocks_list),
                                   GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->blocks_list, "boxed-list");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (blocks_group),
                             self->blocks_list);
  gtk_box_append (GTK_BOX (box), blocks_group);

  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_stack_add_named (GTK_STACK (self->stack), scrolled, "blocks");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
  adw_bin_set_child (ADW_BIN (self), self->stack);
}

static void
graft_layers_page_dispose (GObject *object)
{
  GraftLayersPage *self = GRAFT_LAYERS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  G_OBJECT_CLASS (graft_layers_page_parent_class)->dispose (object);
}

static void
graft_layers_page_finalize (GObject *object)
{
  GraftLayersPage *self = GRAFT_LAYERS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->preview, preview_free);
  g_free (self->switches);
  G_OBJECT_CLASS (graft_layers_page_parent_class)->finalize (object);
}

static void
graft_layers_page_get_property (GObject *object,
                                guint prop_id,
                                GValue *value,
                                GParamSpec *pspec)
{
  GraftLayersPage *self = GRAFT_LAYERS_PAGE (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_layers_page_class_init (GraftLayersPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = graft_layers_page_dispose;
  object_class->finalize = graft_layers_page_finalize;
  object_class->get_property = graft_layers_page_get_property;
  properties[PROP_LOADING] = g_param_spec_boolean (
      "loading", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* ---- public ---- */

GtkWidget *
graft_layers_page_new (void)
{
  return g_object_new (GRAFT_TYPE_LAYERS_PAGE, NULL);
}

void
graft_layers_page_set_model (GraftLayersPage *self,
                             const char *model_path,
                             int n_classes,
                             int n_train_photos)
{
  g_autoptr (GTask) task = NULL;
  PreviewJob *job;

  g_return_if_fail (GRAFT_IS_LAYERS_PAGE (self));
  self->n_train_photos = n_train_photos;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  if (model_path == NULL)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      set_loading (self, FALSE);
      return;
    }
  job = g_new0 (PreviewJob, 1);
  job->path = g_strdup (model_path);
  job->n_classes = n_classes;
  task =
      g_task_new (NULL, self->cancellable, preview_done, g_object_ref (self));
  g_task_set_task_data (task, job, preview_job_free);
  g_task_run_in_thread (task, preview_thread);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "loading");
  set_loading (self, TRUE);
}

gboolean
graft_layers_page_get_loading (GraftLayersPage *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYERS_PAGE (self), FALSE);
  return self->loading;
}

int
graft_layers_page_get_n_blocks (GraftLayersPage *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYERS_PAGE (self), 0);
  return self->preview ? self->n_blocks : 0;
}

void
graft_layers_page_set_preset (GraftLayersPage *self,
                              GraftFreezePreset preset,
                              int last_blocks)
{
  g_return_if_fail (GRAFT_IS_LAYERS_PAGE (self));
  if (preset == GRAFT_FREEZE_LAST_BLOCKS)
    {
      self->applying = TRUE;
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->last_spin),
                                 last_blocks);
      self->applying = FALSE;
    }
  apply_preset (self, preset, last_blocks);
}

void
graft_layers_page_set_block_trainable (GraftLayersPage *self,
                                       int block,
                                       gboolean trainable)
{
  g_return_if_fail (GRAFT_IS_LAYERS_PAGE (self));
  g_return_if_fail (block >= 0 &&
                    block < graft_layers_page_get_n_blocks (self));
  if (gtk_widget_get_sensitive (self->switches[block]))
    gtk_switch_set_active (GTK_SWITCH (self->switches[block]), trainable);
}

gboolean
graft_layers_page_get_block_trainable (GraftLayersPage *self, int block)
{
  g_return_val_if_fail (GRAFT_IS_LAYERS_PAGE (self), FALSE);
  g_return_val_if_fail (
      block >= 0 && block < graft_layers_page_get_n_blocks (self), FALSE);
  return gtk_switch_get_active (GTK_SWITCH (self->switches[block]));
}

gboolean
graft_layers_page_get_choice (GraftLayersPage *self,
                              GraftFreezePreset *preset,
                              int *last_blocks,
                              gboolean **trainable,
                              int *n_blocks)
{
  g_return_val_if_fail (GRAFT_IS_LAYERS_PAGE (self), FALSE);
  *trainable = NULL;
  *n_blocks = graft_layers_page_get_n_blocks (self);
  if (*n_blocks == 0)
    {
      /* Not read yet: the engine's default. */
      GraftFinetuneOptions defaults;
      graft_finetune_options_init (&defaults);
      *preset = defaults.preset;
      *last_blocks = defaults.last_blocks;
      graft_finetune_options_clear (&defaults);
      return FALSE;
    }
  if (switches_match_preset (self, preset, last_blocks))
    return FALSE;
  *trainable = g_new (gboolean, *n_blocks);
  for (int b = 0; b < *n_blocks; b++)
    (*trainable)[b] = gtk_switch_get_active (GTK_SWITCH (self->switches[b]));
  return TRUE;
}

gint64
graft_layers_page_get_trainable_params (GraftLayersPage *self)
{
  g_return_val_if_fail (GRAFT_IS_LAYERS_PAGE (self), 0);
  return self->preview
             ? graft_trainer_count_params (self->preview->trainer, TRUE)
             : 0;
}
