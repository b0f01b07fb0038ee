/* app-test-util.c: see app-test-util.h. */
#include "config.h"

#include "app-test-util.h"

gboolean
app_test_init (void)
{
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  if (!gtk_init_check ())
    return FALSE;
  adw_init ();
  return TRUE;
}

GtkWidget *
app_test_find_widget (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = app_test_find_widget (child, type);
      if (found != NULL)
        return found;
    }
  return NULL;
}

void
app_test_find_pages (GraftWindow *window, AppTestPages *pages)
{
  GtkWidget *w = GTK_WIDGET (window);

  pages->window = window;
  pages->model =
      GRAFT_MODEL_PAGE (app_test_find_widget (w, GRAFT_TYPE_MODEL_PAGE));
  pages->photos =
      GRAFT_PHOTOS_PAGE (app_test_find_widget (w, GRAFT_TYPE_PHOTOS_PAGE));
  pages->layers =
      GRAFT_LAYERS_PAGE (app_test_find_widget (w, GRAFT_TYPE_LAYERS_PAGE));
  pages->train =
      GRAFT_TRAIN_PAGE (app_test_find_widget (w, GRAFT_TYPE_TRAIN_PAGE));
  pages->results =
      GRAFT_RESULTS_PAGE (app_test_find_widget (w, GRAFT_TYPE_RESULTS_PAGE));
  pages->export =
      GRAFT_EXPORT_PAGE (app_test_find_widget (w, GRAFT_TYPE_EXPORT_PAGE));
  g_assert_nonnull (pages->model);
  g_assert_nonnull (pages->photos);
  g_assert_nonnull (pages->layers);
  g_assert_nonnull (pages->train);
  g_assert_nonnull (pages->results);
  g_assert_nonnull (pages->export);
}

static gboolean
on_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

void
app_test_wait_until (AppTestCondition done, gpointer object)
{
  gboolean timed_out = FALSE;
  guint id =
      g_timeout_add_seconds (APP_TEST_TIMEOUT_SECONDS, on_timeout, &timed_out);

  while (!done (object) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (id);
}

void
app_test_spin (double seconds)
{
  gint64 end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);

  while (g_get_monotonic_time () < end)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (10000);
}

gboolean
app_test_model_loaded (gpointer model_page)
{
  return !graft_model_page_get_loading (model_page);
}

gboolean
app_test_scan_done (gpointer photos_page)
{
  return !graft_photos_page_get_scanning (photos_page);
}

gboolean
app_test_layers_loaded (gpointer layers_page)
{
  return !graft_layers_page_get_loading (layers_page) &&
         graft_layers_page_get_n_blocks (layers_page) > 0;
}

gboolean
app_test_training_done (gpointer train_page)
{
  return !graft_train_page_get_running (train_page);
}

gboolean
app_test_try_done (gpointer results_page)
{
  return !graft_results_page_get_trying (results_page);
}

gboolean
app_test_reuse_done (gpointer results_page)
{
  return !graft_results_page_get_measuring (results_page);
}

gboolean
app_test_export_done (gpointer export_page)
{
  return !graft_export_page_get_exporting (export_page);
}
