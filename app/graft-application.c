/* graft-application.c: the application: windows, app actions, settings.
 *
 * Settings are optional: an uninstalled build run outside `meson devenv`
 * has no compiled schema, and GSettings aborts on a missing schema, so the
 * schema is looked up first and the app runs without settings when it is
 * absent.
 */
#include "config.h"

#include "graft-application.h"

#include "graft-window.h"

#include <glib/gi18n.h>

struct _GraftApplication
{
  AdwApplication parent_instance;

  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (GraftApplication, graft_application, ADW_TYPE_APPLICATION)

enum
{
  PROP_0,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GSettings *
settings_new_if_installed (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, GRAFT_APP_ID, TRUE);
  if (schema == NULL)
    {
      g_message ("The settings schema %s is not installed: "
                 "Graft will not remember its window or your choices. "
                 "Run it with `meson devenv` or install it.",
                 GRAFT_APP_ID);
      return NULL;
    }
  return g_settings_new_full (schema, NULL, NULL);
}

/* GRAFT_COLOR_SCHEME=light|dark forces a style, for screenshots and
 * testing both; anything else follows the system. */
static void
apply_color_scheme_override (void)
{
  const char *scheme = g_getenv ("GRAFT_COLOR_SCHEME");
  AdwStyleManager *manager = adw_style_manager_get_default ();

  if (g_strcmp0 (scheme, "dark") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_DARK);
  else if (g_strcmp0 (scheme, "light") == 0)
    adw_style_manager_set_color_scheme (manager, ADW_COLOR_SCHEME_FORCE_LIGHT);
}

static void
quit_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GApplication *app = G_APPLICATION (user_data);
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  /* Closing (not destroying) lets each window save its state. */
  for (GList *l = windows; l != NULL;)
    {
      GtkWindow *window = l->data;
      l = l->next;
      gtk_window_close (window);
    }
  g_application_quit (app);
}

static void
about_action (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (app);
  const char *developers[] = { "The Graft authors", NULL };
  AdwAboutWindow *about;

  about = ADW_ABOUT_WINDOW (adw_about_window_new ());
  adw_about_window_set_application_name (about, _ ("Graft"));
  adw_about_window_set_application_icon (about, GRAFT_APP_ID);
  adw_about_window_set_developer_name (about, "The Graft authors");
  adw_about_window_set_version (about, GRAFT_VERSION);
  adw_about_window_set_comments (
      about, _ ("Teach an image recognition model your own categories, on "
                "your own computer."));
  adw_about_window_set_developers (about, developers);
  adw_about_window_set_copyright (about, "© 2026 The Graft authors");
  adw_about_window_set_license_type (about, GTK_LICENSE_GPL_3_0);
  /* Translators: your names, one per line, as credited in the about window */
  adw_about_window_set_translator_credits (about, _ ("translator-credits"));
  adw_about_window_add_legal_section (
      about, _ ("Bundled Models"),
      "MobileNet V1 and V2 © Google LLC, from the Coral test data",
      GTK_LICENSE_APACHE_2_0, NULL);
  if (parent != NULL)
    gtk_window_set_transient_for (GTK_WINDOW (about), parent);
  gtk_window_present (GTK_WINDOW (about));
}

static const GActionEntry app_actions[] = {
  { .name = "quit", .activate = quit_action },
  { .name = "about", .activate = about_action },
};

static void
graft_application_startup (GApplication *application)
{
  GraftApplication *self = GRAFT_APPLICATION (application);
  const char *quit_accels[] = { "<Primary>q", NULL };

  G_APPLICATION_CLASS (graft_application_parent_class)->startup (application);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit",
                                         quit_accels);
  gtk_window_set_default_icon_name (GRAFT_APP_ID);
  apply_color_scheme_override ();

  self->settings = settings_new_if_installed ();
}

static void
graft_application_activate (GApplication *application)
{
  GraftApplication *self = GRAFT_APPLICATION (application);
  GtkWindow *window =
      gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window =
        GTK_WINDOW (graft_window_new (GTK_APPLICATION (self), self->settings));
  gtk_window_present (window);
}

static void
graft_application_dispose (GObject *object)
{
  GraftApplication *self = GRAFT_APPLICATION (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (graft_application_parent_class)->dispose (object);
}

static void
graft_application_get_property (GObject *object,
                                guint prop_id,
                                GValue *value,
                                GParamSpec *pspec)
{
  GraftApplication *self = GRAFT_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_application_class_init (GraftApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = graft_application_dispose;
  object_class->get_property = graft_application_get_property;
  app_class->startup = graft_application_startup;
  app_class->activate = graft_application_activate;

  properties[PROP_SETTINGS] =
      g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
graft_application_init (GraftApplication *self)
{
}

GraftApplication *
graft_application_new (void)
{
  return g_object_new (GRAFT_TYPE_APPLICATION, "application-id", GRAFT_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS, NULL);
}

GSettings *
graft_application_get_settings (GraftApplication *self)
{
  g_return_val_if_fail (GRAFT_IS_APPLICATION (self), NULL);
  return self->settings;
}
