/* app-screenshots.c: drives the app through every step on a folder of
 * photos and takes a screenshot of the X screen at each (with ImageMagick's
 * `import`). Not a test: run it under xvfb-run, e.g.
 *
 *   xvfb-run -s '-screen 0 1280x800x24' build/tests/app-screenshots \
 *       PHOTOS_FOLDER data/screenshots [WIDTH HEIGHT [dark]]
 */
#include "config.h"

#include "app-test-util.h"
#include "graft-chart.h"

#include <glib/gstdio.h>
#include <stdlib.h>

static void
on_import_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
}

/* Scrolls the scrolled window around widget to its end. */
static void
scroll_to_end (GtkWidget *widget)
{
  GtkWidget *scrolled =
      gtk_widget_get_ancestor (widget, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adj;

  if (scrolled == NULL)
    return;
  app_test_spin (0.5); /* let the view get its height */
  adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) -
                                     gtk_adjustment_get_page_size (adj));
}

static gboolean
is_true (gpointer flag)
{
  return *(gboolean *) flag;
}

/* Runs `import` without blocking the main loop, which would show as a
 * stall in the training page's report (GRAFT_DEBUG_STALLS=1). */
static void
snap (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GSubprocess) import = NULL;
  g_autoptr (GError) error = NULL;
  gboolean done = FALSE;

  app_test_spin (1.0); /* let transitions and thumbnails settle */
  import = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "import",
                             "-window", "root", path, NULL);
  if (import == NULL)
    {
      g_printerr ("%s: %s\n", path, error->message);
      return;
    }
  g_subprocess_wait_async (import, NULL, on_import_done, &done);
  app_test_wait_until (is_true, &done);
  if (g_subprocess_get_successful (import))
    g_printerr ("wrote %s\n", path);
  else
    g_printerr ("%s: import failed\n", path);
}

static gboolean
has_two_validation_points (gpointer train_page)
{
  GtkWidget *chart = app_test_find_widget (train_page, GRAFT_TYPE_CHART);

  return !graft_train_page_get_running (train_page) ||
         (graft_train_page_get_in_last_part (train_page) &&
          graft_chart_get_n_points (GRAFT_CHART (chart), 2) >= 2);
}

/* The first photo of a category in the folder's val/ split, or NULL. */
static GFile *
first_val_photo (const char *folder, const char *category)
{
  g_autofree char *path = g_build_filename (folder, "val", category, NULL);
  g_autoptr (GFile) dir = g_file_new_for_path (path);
  g_autoptr (GFileEnumerator) e = g_file_enumerate_children (
      dir, G_FILE_ATTRIBUTE_STANDARD_NAME, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  g_autoptr (GFileInfo) info =
      e != NULL ? g_file_enumerator_next_file (e, NULL, NULL) : NULL;

  return info != NULL ? g_file_get_child (dir, g_file_info_get_name (info))
                      : NULL;
}

int
main (int argc, char *argv[])
{
  AppTestPages app;
  g_autoptr (GFile) folder = NULL;
  g_autoptr (GFile) photo = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *out = NULL;
  g_autofree char *labels = NULL;
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
  if (!app_test_init ())
    {
      g_printerr ("no display: run under xvfb-run\n");
      return 1;
    }
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

  app_test_find_pages (graft_window_new (NULL, NULL), &app);
  gtk_window_set_default_size (GTK_WINDOW (app.window), width, height);
  gtk_window_present (GTK_WINDOW (app.window));

  app_test_spin (0.5);
  graft_model_page_select_bundled (app.model, "mobilenet_v2_1.0_224");
  app_test_wait_until (app_test_model_loaded, app.model);
  snap (argv[2], "step-1-model.png");

  graft_window_set_step (app.window, "photos");
  folder = g_file_new_for_path (argv[1]);
  graft_photos_page_load (app.photos, &folder, 1);
  app_test_wait_until (app_test_scan_done, app.photos);
  app_test_spin (2.0);
  snap (argv[2], "step-2-photos.png");

  graft_window_set_step (app.window, "layers");
  app_test_wait_until (app_test_layers_loaded, app.layers);
  snap (argv[2], "step-3-layers.png");

  graft_train_page_set_epochs (app.train, 4);
  gtk_widget_activate_action (GTK_WIDGET (app.window), "win.start-training",
                              NULL);
  /* Mid-run: two validation points on the loss chart of the last part. */
  app_test_wait_until (has_two_validation_points, app.train);
  snap (argv[2], "step-4-train.png");
  app_test_wait_until (app_test_training_done, app.train);
  if (graft_train_page_get_result (app.train) == NULL)
    {
      g_printerr ("training failed: %s\n",
                  graft_train_page_get_error_message (app.train));
      return 1;
    }

  graft_window_set_step (app.window, "results");
  photo = first_val_photo (argv[1], "cats");
  if (photo != NULL)
    {
      graft_results_page_try_file (app.results, photo);
      app_test_wait_until (app_test_try_done, app.results);
    }
  snap (argv[2], "step-5-results.png");

  /* The end of the results page: what training changed, block by block. */
  app_test_wait_until (app_test_reuse_done, app.results);
  scroll_to_end (GTK_WIDGET (graft_results_page_get_reuse_view (app.results)));
  snap (argv[2], "step-5-changes.png");

  graft_window_set_step (app.window, "export");
  tmp = g_dir_make_tmp ("graft-shot-XXXXXX", NULL);
  out = g_build_filename (tmp, "cats-vs-dogs.onnx", NULL);
  labels = g_build_filename (tmp, "labels.txt", NULL);
  graft_export_page_export_to (app.export, out);
  app_test_wait_until (app_test_export_done, app.export);
  snap (argv[2], "step-6-export.png");

  gtk_window_destroy (GTK_WINDOW (app.window));
  g_unlink (out);
  g_unlink (labels);
  g_rmdir (tmp);
  return 0;
}
