/* app-screenshots.c: drives the app through every step on a folder of
 * photos and takes a screenshot of the X screen at each (with ImageMagick's
 * `import`). Not a test: run it under xvfb-run, e.g.
 *
 *   xvfb-run -s '-screen 0 1280x800x24' build/tests/app-screenshots \
 *       PHOTOS_FOLDER data/screenshots [WIDTH HEIGHT [dark]]
 */
#include "config.h"

#include "graft-chart.h"
#include "graft-export-page.h"
#include "graft-layers-page.h"
#include "graft-model-page.h"
#include "graft-photos-page.h"
#include "graft-results-page.h"
#include "graft-train-page.h"
#include "graft-window.h"

#include <adwaita.h>
#include <stdlib.h>

static GtkWidget *
find_widget (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

static void
spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (10000);
}

typedef gboolean (*Condition) (gpointer object);

static void
wait_until (Condition done, gpointer object)
{
  while (!done (object))
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
model_loaded (gpointer page)
{
  return !graft_model_page_get_loading (page);
}

static gboolean
scan_done (gpointer page)
{
  return !graft_photos_page_get_scanning (page);
}

static gboolean
layers_loaded (gpointer page)
{
  return !graft_layers_page_get_loading (page) &&
         graft_layers_page_get_n_blocks (page) > 0;
}

static gboolean
training_done (gpointer page)
{
  return !graft_train_page_get_running (page);
}

static gboolean
try_done (gpointer page)
{
  return !graft_results_page_get_trying (page);
}

static gboolean
export_done (gpointer page)
{
  return !graft_export_page_get_exporting (page);
}

static void
snap (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  const char *argv[] = { "import", "-window", "root", path, NULL };
  g_autoptr (GError) error = NULL;
  int status = 0;

  spin (1.0); /* let transitions and thumbnails settle */
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                     NULL, NULL, NULL, &status, &error))
    g_printerr ("%s: %s\n", path, error->message);
  else
    g_printerr ("wrote %s\n", path);
}

int
main (int argc, char *argv[])
{
  GraftWindow *window;
  GraftModelPage *model;
  GraftPhotosPage *photos;
  GraftLayersPage *layers;
  GraftTrainPage *train;
  GraftResultsPage *results;
  GraftExportPage *export;
  g_autoptr (GFile) folder = NULL;
  g_autoptr (GFile) photo = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *out = NULL;
  int width = 1280, height = 800;

  if (argc < 3)
    {
      g_printerr (
          "usage: %s PHOTOS_FOLDER OUTPUT_FOLDER [WIDTH HEIGHT [dark]]\n",
          argv[0]);
      return 2;
    }
  if (argc >= 5)
    {
      width = atoi (argv[3]);
      height = atoi (argv[4]);
    }
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_init ();
  adw_init ();
  if (argc >= 6 && g_str_equal (argv[5], "dark"))
    adw_style_manager_set_color_scheme (adw_style_manager_get_default (),
                                        ADW_COLOR_SCHEME_FORCE_DARK);
  g_mkdir_with_parents (argv[2], 0755);
  {
    /* AdwApplication loads style.css; there is no application here. */
    g_autoptr (GtkCssProvider) css = gtk_css_provider_new ();
    gtk_css_provider_load_from_resource (css, "/org/graft/Graft/style.css");
    gtk_style_context_add_provider_for_display (
        gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
        GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }

  window = graft_window_new (NULL, NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), width, height);
  gtk_window_present (GTK_WINDOW (window));
  model = GRAFT_MODEL_PAGE (
      find_widget (GTK_WIDGET (window), GRAFT_TYPE_MODEL_PAGE));
  photos = GRAFT_PHOTOS_PAGE (
      find_widget (GTK_WIDGET (window), GRAFT_TYPE_PHOTOS_PAGE));
  layers = GRAFT_LAYERS_PAGE (
      find_widget (GTK_WIDGET (window), GRAFT_TYPE_LAYERS_PAGE));
  train = GRAFT_TRAIN_PAGE (
      find_widget (GTK_WIDGET (window), GRAFT_TYPE_TRAIN_PAGE));
  results = GRAFT_RESULTS_PAGE (
      find_widget (GTK_WIDGET (window), GRAFT_TYPE_RESULTS_PAGE));
  export = GRAFT_EXPORT_PAGE (
      find_widget (GTK_WIDGET (window), GRAFT_TYPE_EXPORT_PAGE));

  spin (0.5);
  graft_model_page_select_bundled (model, "mobilenet_v2_1.0_224");
  wait_until (model_loaded, model);
  snap (argv[2], "step-1-model.png");

  graft_window_set_step (window, "photos");
  folder = g_file_new_for_path (argv[1]);
  graft_photos_page_load (photos, &folder, 1);
  wait_until (scan_done, photos);
  spin (2.0);
  snap (argv[2], "step-2-photos.png");

  graft_window_set_step (window, "layers");
  wait_until (layers_loaded, layers);
  snap (argv[2], "step-3-layers.png");

  graft_train_page_set_epochs (train, 4);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.start-training", NULL);
  /* Mid-run: the charts have a few epochs in them. */
  {
    /* Wait for two validation points on the accuracy chart. */
    GtkWidget *chart = find_widget (GTK_WIDGET (train), GRAFT_TYPE_CHART);
    while (graft_train_page_get_running (train) &&
           graft_chart_get_n_points (GRAFT_CHART (chart), 2) < 2)
      g_main_context_iteration (NULL, TRUE);
  }
  snap (argv[2], "step-4-train.png");
  wait_until (training_done, train);
  if (graft_train_page_get_result (train) == NULL)
    {
      g_printerr ("training failed: %s\n",
                  graft_train_page_get_error_message (train));
      return 1;
    }

  graft_window_set_step (window, "results");
  {
    g_autoptr (GFileEnumerator) e = NULL;
    g_autofree char *val_cats = g_build_filename (argv[1], "val", "cats", NULL);
    g_autoptr (GFile) dir = g_file_new_for_path (val_cats);
    GFileInfo *info;
    e = g_file_enumerate_children (dir, G_FILE_ATTRIBUTE_STANDARD_NAME, 0, NULL,
                                   NULL);
    if (e && (info = g_file_enumerator_next_file (e, NULL, NULL)) != NULL)
      {
        photo = g_file_get_child (dir, g_file_info_get_name (info));
        g_object_unref (info);
      }
  }
  if (photo != NULL)
    {
      graft_results_page_try_file (results, photo);
      wait_until (try_done, results);
    }
  snap (argv[2], "step-5-results.png");

  graft_window_set_step (window, "export");
  tmp = g_dir_make_tmp ("graft-shot-XXXXXX", NULL);
  out = g_build_filename (tmp, "cats-vs-dogs.onnx", NULL);
  graft_export_page_export_to (export, out);
  wait_until (export_done, export);
  snap (argv[2], "step-6-export.png");

  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
