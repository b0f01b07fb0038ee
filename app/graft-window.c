/* graft-window.c: the main window, one page per step.
 *
 * The steps are the pages of a GtkStack; the sidebar lists them straight
 * from the stack, so a later step is added by adding a page to the
 * template. On narrow screens the leaflet folds and shows one side at a
 * time.
 */
#include "config.h"

#include "graft-window.h"

#include "graft-export-page.h"
#include "graft-layers-page.h"
#include "graft-model-page.h"
#include "graft-photos-page.h"
#include "graft-results-page.h"
#include "graft-train-page.h"
#include "preprocess.h"

#include <glib/gi18n.h>

struct _GraftWindow
{
  AdwApplicationWindow parent_instance;

  /* template */
  AdwToastOverlay *toast_overlay;
  AdwLeaflet *leaflet;
  GtkWidget *sidebar_box;
  GtkWidget *content_box;
  GtkListBox *step_list;
  AdwWindowTitle *content_title;
  GtkStack *step_stack;
  GraftModelPage *model_page;
  GraftPhotosPage *photos_page;
  GraftLayersPage *layers_page;
  GraftTrainPage *train_page;
  GraftResultsPage *results_page;
  GraftExportPage *export_page;

  GSettings *settings;
  AdwToast *finished_toast; /* while shown */
  gint64 finished_toast_added;
  guint dismiss_source;
  char *layers_model_path; /* what the layers page shows */
  const GraftDataset *layers_dataset;
};

G_DEFINE_FINAL_TYPE (GraftWindow, graft_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_SETTINGS,
  PROP_STEP,
  PROP_TRAINING_PAUSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- the step sidebar ---- */

static guint
page_position (GListModel *pages, gpointer page)
{
  guint n = g_list_model_get_n_items (pages);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GObject) item = g_list_model_get_item (pages, i);
      if (item == page)
        return i;
    }
  return GTK_INVALID_LIST_POSITION;
}

static GtkWidget *
create_step_row (gpointer item, gpointer user_data)
{
  GraftWindow *self = user_data;
  GtkStackPage *page = item;
  g_autoptr (GtkSelectionModel) pages = gtk_stack_get_pages (self->step_stack);
  g_autofree char *number =
      g_strdup_printf ("%u", page_position (G_LIST_MODEL (pages), page) + 1);
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *number_label = gtk_label_new (number);
  GtkWidget *title_label = gtk_label_new (NULL);

  gtk_widget_add_css_class (number_label, "step-number");
  gtk_widget_set_valign (number_label, GTK_ALIGN_CENTER);
  g_object_bind_property (page, "title", title_label, "label",
                          G_BINDING_SYNC_CREATE);
  gtk_label_set_xalign (GTK_LABEL (title_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (title_label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (box), number_label);
  gtk_box_append (GTK_BOX (box), title_label);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_bind_property (page, "title", row, "tooltip-text",
                          G_BINDING_SYNC_CREATE);
  return row;
}

/* libadwaita 1.2.2 crashes when a toast is dismissed during its 300 ms
 * show animation (seen in test-app-flow): dismiss it once that is over. */
#define TOAST_SHOW_MS 400

static gboolean
dismiss_finished_toast_later (gpointer user_data)
{
  GraftWindow *self = user_data;

  self->dismiss_source = 0;
  if (self->finished_toast != NULL)
    adw_toast_dismiss (self->finished_toast);
  return G_SOURCE_REMOVE;
}

static void
dismiss_finished_toast (GraftWindow *self)
{
  gint64 shown_ms;

  if (self->finished_toast == NULL || self->dismiss_source != 0)
    return;
  shown_ms = (g_get_monotonic_time () - self->finished_toast_added) / 1000;
  if (shown_ms >= TOAST_SHOW_MS)
    adw_toast_dismiss (self->finished_toast);
  else
    self->dismiss_source = g_timeout_add ((guint) (TOAST_SHOW_MS - shown_ms),
                                          dismiss_finished_toast_later, self);
}

static void
on_visible_step_changed (GraftWindow *self)
{
  GtkWidget *child = gtk_stack_get_visible_child (self->step_stack);
  g_autoptr (GtkSelectionModel) pages = NULL;
  GtkStackPage *page;
  GtkListBoxRow *row;

  if (child == NULL)
    return;
  page = gtk_stack_get_page (self->step_stack, child);
  pages = gtk_stack_get_pages (self->step_stack);
  row = gtk_list_box_get_row_at_index (
      self->step_list, (int) page_position (G_LIST_MODEL (pages), page));
  gtk_list_box_select_row (self->step_list, row);
  adw_window_title_set_title (self->content_title,
                              gtk_stack_page_get_title (page));
  /* "Training finished" leads to the results; once the user has moved on,
   * it has said its piece. */
  dismiss_finished_toast (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
}

static void
on_step_row_activated (GtkListBox *list, GtkListBoxRow *row, GraftWindow *self)
{
  g_autoptr (GtkSelectionModel) pages = gtk_stack_get_pages (self->step_stack);
  g_autoptr (GObject) page = g_list_model_get_item (
      G_LIST_MODEL (pages), (guint) gtk_list_box_row_get_index (row));

  if (page == NULL)
    return;
  gtk_stack_set_visible_child (
      self->step_stack, gtk_stack_page_get_child (GTK_STACK_PAGE (page)));
  adw_leaflet_set_visible_child (self->leaflet, self->content_box);
}

/* ---- actions ---- */

static void
open_model_action (GtkWidget *widget,
                   const char *action_name,
                   GVariant *parameter)
{
  GraftWindow *self = GRAFT_WINDOW (widget);

  graft_window_set_step (self, "model");
  adw_leaflet_set_visible_child (self->leaflet, self->content_box);
  gtk_widget_activate_action (GTK_WIDGET (self->model_page), "model.open-file",
                              NULL);
}

static void
show_steps_action (GtkWidget *widget,
                   const char *action_name,
                   GVariant *parameter)
{
  GraftWindow *self = GRAFT_WINDOW (widget);

  adw_leaflet_set_visible_child (self->leaflet, self->sidebar_box);
}

static void
show_step_action (GtkWidget *widget,
                  const char *action_name,
                  GVariant *parameter)
{
  GraftWindow *self = GRAFT_WINDOW (widget);

  graft_window_set_step (self, g_variant_get_string (parameter, NULL));
  adw_leaflet_set_visible_child (self->leaflet, self->content_box);
}

static void
open_folder_action (GtkWidget *widget,
                    const char *action_name,
                    GVariant *parameter)
{
  GraftWindow *self = GRAFT_WINDOW (widget);

  graft_window_set_step (self, "photos");
  adw_leaflet_set_visible_child (self->leaflet, self->content_box);
  graft_photos_page_choose_folder (self->photos_page);
}

static void
toast (GraftWindow *self, const char *text)
{
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

static void
start_training_action (GtkWidget *widget,
                       const char *action_name,
                       GVariant *parameter)
{
  GraftWindow *self = GRAFT_WINDOW (widget);
  g_autoptr (GError) error = NULL;
  g_autofree gboolean *trainable = NULL;
  GraftFreezePreset preset;
  int last_blocks, n_blocks;

  graft_layers_page_get_choice (self->layers_page, &preset, &last_blocks,
                                &trainable, &n_blocks);
  graft_window_set_step (self, "train");
  if (!graft_train_page_start (
          self->train_page, graft_model_page_get_model_path (self->model_page),
          graft_model_page_get_model_title (self->model_page),
          graft_photos_page_get_dataset (self->photos_page), preset,
          last_blocks, trainable, n_blocks, &error))
    toast (self, error->message);
}

static void
stop_training_action (GtkWidget *widget,
                      const char *action_name,
                      GVariant *parameter)
{
  graft_train_page_stop (GRAFT_WINDOW (widget)->train_page);
}

static void
export_action (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  GraftWindow *self = GRAFT_WINDOW (widget);

  graft_window_set_step (self, "export");
  graft_export_page_choose (self->export_page);
}

static void
try_image_action (GtkWidget *widget,
                  const char *action_name,
                  GVariant *parameter)
{
  GraftWindow *self = GRAFT_WINDOW (widget);

  graft_window_set_step (self, "results");
  graft_results_page_choose_file (self->results_page);
}

static void
update_actions (GraftWindow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  gboolean running = graft_train_page_get_running (self->train_page);
  gboolean trained = graft_train_page_get_result (self->train_page) != NULL;

  gtk_widget_action_set_enabled (widget, "win.start-training", !running);
  gtk_widget_action_set_enabled (widget, "win.stop-training", running);
  gtk_widget_action_set_enabled (widget, "win.pause-training", running);
  gtk_widget_action_set_enabled (widget, "win.export", trained);
  gtk_widget_action_set_enabled (widget, "win.try-image", trained);
}

/* ---- keeping the steps in step ---- */

/* The layers depend on the model and on the number of categories. */
static void
update_layers (GraftWindow *self)
{
  const char *path = graft_model_page_get_model_path (self->model_page);
  const GraftDataset *ds = graft_photos_page_get_dataset (self->photos_page);
  GraftGraph *graph = graft_model_page_get_graph (self->model_page);
  int n_train = 0;

  if (graft_model_page_get_loading (self->model_page) ||
      graft_photos_page_get_scanning (self->photos_page))
    return;
  if (graph == NULL)
    path = NULL;
  if (g_strcmp0 (path, self->layers_model_path) == 0 &&
      ds == self->layers_dataset)
    return;
  g_free (self->layers_model_path);
  self->layers_model_path = g_strdup (path);
  self->layers_dataset = ds;
  if (graph != NULL)
    {
      GraftPreprocess pp;
      if (graft_preprocess_from_metadata (
              &pp,
              graft_onnx_model_get_metadata (graph->model, "preprocess.size"),
              NULL, NULL, NULL, NULL))
        graft_photos_page_set_min_side (self->photos_page,
                                        MIN (pp.width, pp.height));
    }
  if (ds != NULL)
    {
      g_autoptr (GArray) train =
          graft_dataset_split_indices (ds, GRAFT_SPLIT_TRAIN);
      n_train = (int) train->len;
    }
  graft_layers_page_set_model (self->layers_page, path, ds ? ds->n_classes : 2,
                               n_train);
}

static void
on_training_changed (GraftWindow *self)
{
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRAINING_PAUSED]);
}

static void
on_toast_button (AdwToast *toast_widget, gpointer user_data)
{
  graft_window_set_step (GRAFT_WINDOW (user_data), "results");
}

static void
on_finished_toast_dismissed (AdwToast *toast_widget, gpointer user_data)
{
  GraftWindow *self = user_data;

  if (self->finished_toast == toast_widget)
    g_clear_object (&self->finished_toast);
}

static void
on_training_finished (GraftWindow *self)
{
  GraftTrainResult *result = graft_train_page_get_result (self->train_page);

  graft_results_page_set_base_model (self->results_page, result->base_model);
  graft_results_page_set_result (self->results_page, result);
  graft_export_page_set_result (self->export_page, result);
  update_actions (self);
  /* The results are news only to someone not already looking at them. */
  if (g_strcmp0 (graft_window_get_step (self), "results") == 0)
    return;
  g_clear_handle_id (&self->dismiss_source, g_source_remove);
  if (self->finished_toast != NULL)
    adw_toast_dismiss (self->finished_toast);
  self->finished_toast = adw_toast_new (_ ("Training finished"));
  self->finished_toast_added = g_get_monotonic_time ();
  adw_toast_set_button_label (self->finished_toast, _ ("See Results"));
  adw_toast_set_timeout (self->finished_toast, 10);
  g_signal_connect_object (self->finished_toast, "button-clicked",
                           G_CALLBACK (on_toast_button), self, 0);
  g_signal_connect_object (self->finished_toast, "dismissed",
                           G_CALLBACK (on_finished_toast_dismissed), self, 0);
  /* The overlay takes a reference; the window keeps its own. */
  adw_toast_overlay_add_toast (self->toast_overlay,
                               g_object_ref (self->finished_toast));
}

/* ---- window state ---- */

static void
restore_window_state (GraftWindow *self)
{
  if (self->settings == NULL)
    return;
  gtk_window_set_default_size (
      GTK_WINDOW (self), g_settings_get_int (self->settings, "window-width"),
      g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));
}

static gboolean
graft_window_close_request (GtkWindow *window)
{
  GraftWindow *self = GRAFT_WINDOW (window);

  /* Closing while training takes Stop's path, then waits for the worker:
   * it stops within a batch and leaves no file behind. */
  graft_train_page_shutdown (self->train_page);
  if (self->settings != NULL)
    {
      int width, height;

      /* The default size is the unmaximized size in GTK 4. */
      gtk_window_get_default_size (window, &width, &height);
      g_settings_delay (self->settings);
      g_settings_set_int (self->settings, "window-width", width);
      g_settings_set_int (self->settings, "window-height", height);
      g_settings_set_boolean (self->settings, "window-maximized",
                              gtk_window_is_maximized (window));
      g_settings_apply (self->settings);
    }
  return GTK_WINDOW_CLASS (graft_window_parent_class)->close_request (window);
}

/* ---- GObject ---- */

static void
graft_window_constructed (GObject *object)
{
  GraftWindow *self = GRAFT_WINDOW (object);

  G_OBJECT_CLASS (graft_window_parent_class)->constructed (object);

  restore_window_state (self);
  graft_model_page_set_settings (self->model_page, self->settings);
  graft_photos_page_set_settings (self->photos_page, self->settings);
  graft_train_page_set_settings (self->train_page, self->settings);
  graft_export_page_set_settings (self->export_page, self->settings);
}

static void
graft_window_dispose (GObject *object)
{
  GraftWindow *self = GRAFT_WINDOW (object);

  if (self->train_page != NULL)
    graft_train_page_shutdown (self->train_page);
  gtk_widget_dispose_template (GTK_WIDGET (self), GRAFT_TYPE_WINDOW);
  g_clear_handle_id (&self->dismiss_source, g_source_remove);
  g_clear_object (&self->finished_toast);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->layers_model_path, g_free);

  G_OBJECT_CLASS (graft_window_parent_class)->dispose (object);
}

static void
graft_window_get_property (GObject *object,
                           guint prop_id,
                           GValue *value,
                           GParamSpec *pspec)
{
  GraftWindow *self = GRAFT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_STEP:
      g_value_set_string (value, graft_window_get_step (self));
      break;
    case PROP_TRAINING_PAUSED:
      g_value_set_boolean (value,
                           self->train_page != NULL &&
                               graft_train_page_get_paused (self->train_page));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_window_set_property (GObject *object,
                           guint prop_id,
                           const GValue *value,
                           GParamSpec *pspec)
{
  GraftWindow *self = GRAFT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    case PROP_STEP:
      graft_window_set_step (self, g_value_get_string (value));
      break;
    case PROP_TRAINING_PAUSED:
      graft_train_page_set_paused (self->train_page,
                                   g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_window_class_init (GraftWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = graft_window_constructed;
  object_class->dispose = graft_window_dispose;
  object_class->get_property = graft_window_get_property;
  object_class->set_property = graft_window_set_property;
  window_class->close_request = graft_window_close_request;

  properties[PROP_SETTINGS] = g_param_spec_object (
      "settings", NULL, NULL, G_TYPE_SETTINGS,
      G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STEP] = g_param_spec_string (
      "step", NULL, NULL, NULL,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TRAINING_PAUSED] = g_param_spec_boolean (
      "training-paused", NULL, NULL, FALSE,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (GRAFT_TYPE_MODEL_PAGE);
  g_type_ensure (GRAFT_TYPE_PHOTOS_PAGE);
  g_type_ensure (GRAFT_TYPE_LAYERS_PAGE);
  g_type_ensure (GRAFT_TYPE_TRAIN_PAGE);
  g_type_ensure (GRAFT_TYPE_RESULTS_PAGE);
  g_type_ensure (GRAFT_TYPE_EXPORT_PAGE);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/graft/Graft/ui/graft-window.ui");
  gtk_widget_class_bind_template_child (widget_class, GraftWindow,
                                        toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, sidebar_box);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, content_box);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, step_list);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow,
                                        content_title);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, step_stack);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, model_page);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, photos_page);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, layers_page);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, train_page);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow,
                                        results_page);
  gtk_widget_class_bind_template_child (widget_class, GraftWindow, export_page);
  gtk_widget_class_bind_template_callback (widget_class,
                                           on_visible_step_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_step_row_activated);

  gtk_widget_class_install_action (widget_class, "window.open-model", NULL,
                                   open_model_action);
  gtk_widget_class_install_action (widget_class, "window.show-steps", NULL,
                                   show_steps_action);
  gtk_widget_class_install_action (widget_class, "win.show-step", "s",
                                   show_step_action);
  gtk_widget_class_install_action (widget_class, "win.open-folder", NULL,
                                   open_folder_action);
  gtk_widget_class_install_action (widget_class, "win.start-training", NULL,
                                   start_training_action);
  gtk_widget_class_install_property_action (widget_class, "win.pause-training",
                                            "training-paused");
  gtk_widget_class_install_action (widget_class, "win.stop-training", NULL,
                                   stop_training_action);
  gtk_widget_class_install_action (widget_class, "win.export", NULL,
                                   export_action);
  gtk_widget_class_install_action (widget_class, "win.try-image", NULL,
                                   try_image_action);
  gtk_widget_class_add_binding_action (
      widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "window.open-model", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_o,
                                       GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.open-folder", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return,
                                       GDK_CONTROL_MASK, "win.start-training",
                                       NULL);
  gtk_widget_class_add_binding_action (
      widget_class, GDK_KEY_p, GDK_CONTROL_MASK, "win.pause-training", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_period,
                                       GDK_CONTROL_MASK, "win.stop-training",
                                       NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_e,
                                       GDK_CONTROL_MASK, "win.export", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_i,
                                       GDK_CONTROL_MASK, "win.try-image", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w,
                                       GDK_CONTROL_MASK, "window.close", NULL);
}

static void
graft_window_init (GraftWindow *self)
{
  g_autoptr (GtkSelectionModel) pages = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  pages = gtk_stack_get_pages (self->step_stack);
  gtk_list_box_bind_model (self->step_list, G_LIST_MODEL (pages),
                           create_step_row, self, NULL);
  g_object_bind_property (self->model_page, "model-title", self->content_title,
                          "subtitle", G_BINDING_SYNC_CREATE);
  g_signal_connect_swapped (self->model_page, "notify::loading",
                            G_CALLBACK (update_layers), self);
  g_signal_connect_swapped (self->photos_page, "notify::scanning",
                            G_CALLBACK (update_layers), self);
  g_signal_connect_swapped (self->train_page, "notify::running",
                            G_CALLBACK (on_training_changed), self);
  g_signal_connect_swapped (self->train_page, "notify::paused",
                            G_CALLBACK (on_training_changed), self);
  g_signal_connect_swapped (self->train_page, "finished",
                            G_CALLBACK (on_training_finished), self);
  update_actions (self);
  on_visible_step_changed (self);
}

/* ---- public ---- */

GraftWindow *
graft_window_new (GtkApplication *application, GSettings *settings)
{
  return g_object_new (GRAFT_TYPE_WINDOW, "application", application,
                       "settings", settings, NULL);
}

const char *
graft_window_get_step (GraftWindow *self)
{
  g_return_val_if_fail (GRAFT_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->step_stack);
}

gboolean
graft_window_set_step (GraftWindow *self, const char *step)
{
  g_return_val_if_fail (GRAFT_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (step != NULL, FALSE);

  if (gtk_stack_get_child_by_name (self->step_stack, step) == NULL)
    return FALSE;
  /* The stack's notify::visible-child handler notifies "step". */
  gtk_stack_set_visible_child_name (self->step_stack, step);
  return TRUE;
}

guint
graft_window_get_n_steps (GraftWindow *self)
{
  g_autoptr (GtkSelectionModel) pages = NULL;

  g_return_val_if_fail (GRAFT_IS_WINDOW (self), 0);
  pages = gtk_stack_get_pages (self->step_stack);
  return g_list_model_get_n_items (G_LIST_MODEL (pages));
}
