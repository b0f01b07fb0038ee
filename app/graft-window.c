/* graft-window.c: the main window, one page per step.
 *
 * The steps are the pages of a GtkStack; the sidebar lists them straight
 * from the stack, so a later step is added by adding a page to the
 * template. On narrow screens the leaflet folds and shows one side at a
 * time.
 */
#include "config.h"

#include "graft-window.h"

#include "graft-model-page.h"

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

  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (GraftWindow, graft_window, ADW_TYPE_APPLICATION_WINDOW)

enum
{
  PROP_0,
  PROP_SETTINGS,
  PROP_STEP,
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
}

static void
graft_window_dispose (GObject *object)
{
  GraftWindow *self = GRAFT_WINDOW (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), GRAFT_TYPE_WINDOW);
  g_clear_object (&self->settings);

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
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (GRAFT_TYPE_MODEL_PAGE);

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
  gtk_widget_class_bind_template_callback (widget_class,
                                           on_visible_step_changed);
  gtk_widget_class_bind_template_callback (widget_class, on_step_row_activated);

  gtk_widget_class_install_action (widget_class, "window.open-model", NULL,
                                   open_model_action);
  gtk_widget_class_install_action (widget_class, "window.show-steps", NULL,
                                   show_steps_action);
  gtk_widget_class_add_binding_action (
      widget_class, GDK_KEY_o, GDK_CONTROL_MASK, "window.open-model", NULL);
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
