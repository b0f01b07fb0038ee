/* test-app-model-page.c: the base-model step and the window around it.
 *
 * Needs a display (run under xvfb-run); without one the test is skipped.
 * The bundled models are found through $GRAFT_DATADIR.
 */
#include "config.h"

#include "app-test-util.h"
#include "graft-layer.h"
#include "graft-model-page.h"
#include "graft-window.h"
#include "model-catalog.h"

#include <adwaita.h>
#include <glib/gstdio.h>

/* Runs the main loop until the page has finished reading its model. */
static void
wait_for_load (GraftModelPage *page)
{
  app_test_wait_until (app_test_model_loaded, page);
}

static GraftModelPage *
model_page_new (void)
{
  return GRAFT_MODEL_PAGE (g_object_ref_sink (graft_model_page_new ()));
}

static GraftLayer *
find_layer (GListModel *layers, const char *op_type, guint *position)
{
  guint n = g_list_model_get_n_items (layers);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GraftLayer) layer = g_list_model_get_item (layers, i);
      if (g_str_equal (graft_layer_get_op_type (layer), op_type))
        {
          *position = i;
          return g_steal_pointer (&layer);
        }
    }
  return NULL;
}

/* The smallest bundled model: its layers, shapes and parameter counts. */
static void
test_bundled_layers (void)
{
  g_autoptr (GraftModelPage) page = model_page_new ();
  g_autoptr (GraftLayer) conv = NULL;
  g_autoptr (GraftLayer) last = NULL;
  GListModel *layers;
  guint position = 0;
  guint n;

  g_assert_true (
      graft_model_page_select_bundled (page, "mobilenet_v1_0.25_128"));
  g_assert_true (graft_model_page_get_loading (page));
  wait_for_load (page);

  g_assert_null (graft_model_page_get_error_message (page));
  g_assert_nonnull (graft_model_page_get_graph (page));
  g_assert_cmpstr (graft_model_page_get_model_title (page), ==,
                   graft_catalog_find ("mobilenet_v1_0.25_128")->title);
  g_assert_true (g_str_has_suffix (graft_model_page_get_model_path (page),
                                   "mobilenet_v1_0.25_128_qdq.onnx"));

  layers = graft_model_page_get_layers (page);
  n = g_list_model_get_n_items (layers);
  g_assert_cmpuint (n, ==, (guint) graft_model_page_get_graph (page)->n_nodes);
  g_assert_cmpuint (n, >, 20);

  /* MobileNet v1 0.25 starts with a stride-2 3x3 convolution to 8
   * channels: 128 px in, 64 px out, 8*3*3*3 weights + 8 biases. */
  conv = find_layer (layers, "Conv", &position);
  g_assert_nonnull (conv);
  g_assert_cmpint (graft_layer_get_index (conv), ==, (int) position + 1);
  g_assert_cmpstr (graft_layer_get_shape (conv), ==, "1 × 8 × 64 × 64");
  g_assert_cmpint (graft_layer_get_n_params (conv), ==, 8 * 3 * 3 * 3 + 8);

  /* 1001 ImageNet classes come out of the last layer. */
  last = g_list_model_get_item (layers, n - 1);
  g_assert_true (g_str_has_suffix (graft_layer_get_shape (last), "1001"));
}

/* Choosing another model replaces the layers; choosing a broken file
 * shows the engine's message naming the file. */
static void
test_switch_and_error (void)
{
  g_autoptr (GraftModelPage) page = model_page_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("graft-app-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr (GFile) file = NULL;
  guint n_small;

  g_assert_no_error (error);
  graft_model_page_select_bundled (page, "mobilenet_v1_0.25_128");
  /* Switch before the first load finishes: only the second one counts. */
  graft_model_page_select_bundled (page, "mobilenet_v2_1.0_224");
  wait_for_load (page);
  g_assert_cmpstr (graft_model_page_get_model_title (page), ==,
                   graft_catalog_find ("mobilenet_v2_1.0_224")->title);
  n_small = g_list_model_get_n_items (graft_model_page_get_layers (page));
  g_assert_cmpuint (n_small, ==,
                    (guint) graft_model_page_get_graph (page)->n_nodes);

  path = g_build_filename (dir, "broken.onnx", NULL);
  g_file_set_contents (path, "this is not a protobuf", -1, &error);
  g_assert_no_error (error);
  file = g_file_new_for_path (path);
  graft_model_page_select_file (page, file);
  g_assert_cmpstr (graft_model_page_get_model_path (page), ==, path);
  wait_for_load (page);

  g_assert_null (graft_model_page_get_graph (page));
  g_assert_cmpuint (
      g_list_model_get_n_items (graft_model_page_get_layers (page)), ==, 0);
  g_assert_nonnull (graft_model_page_get_error_message (page));
  g_assert_nonnull (
      strstr (graft_model_page_get_error_message (page), "broken.onnx"));

  /* Back to a bundled model: the error goes away. */
  g_assert_true (
      graft_model_page_select_bundled (page, "mobilenet_v1_0.25_128"));
  wait_for_load (page);
  g_assert_null (graft_model_page_get_error_message (page));
  g_assert_nonnull (graft_model_page_get_graph (page));

  g_assert_false (graft_model_page_select_bundled (page, "no-such-model"));

  g_unlink (path);
  g_rmdir (dir);
}

static GtkWidget *
find_widget_with_class (GtkWidget *widget, GType type, const char *css_class)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type) &&
      gtk_widget_has_css_class (widget, css_class))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget_with_class (child, type, css_class);
      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The window's sidebar lists one row per step page and follows it. */
static void
test_window_steps (void)
{
  GraftWindow *window = graft_window_new (NULL, NULL);
  GtkWidget *sidebar;
  GtkListBoxRow *selected;
  guint n_rows = 0;

  g_assert_cmpuint (graft_window_get_n_steps (window), >=, 1);
  g_assert_cmpstr (graft_window_get_step (window), ==, "model");

  sidebar = find_widget_with_class (GTK_WIDGET (window), GTK_TYPE_LIST_BOX,
                                    "navigation-sidebar");
  g_assert_nonnull (sidebar);
  while (gtk_list_box_get_row_at_index (GTK_LIST_BOX (sidebar), (int) n_rows))
    n_rows++;
  g_assert_cmpuint (n_rows, ==, graft_window_get_n_steps (window));
  selected = gtk_list_box_get_selected_row (GTK_LIST_BOX (sidebar));
  g_assert_nonnull (selected);
  g_assert_cmpint (gtk_list_box_row_get_index (selected), ==, 0);

  g_assert_false (graft_window_set_step (window, "no-such-step"));
  g_assert_true (graft_window_set_step (window, "model"));
  g_assert_cmpstr (graft_window_get_step (window), ==, "model");

  gtk_window_destroy (GTK_WINDOW (window));
}

static gboolean
try_photo_idle (gpointer try_photo)
{
  return !graft_try_photo_get_busy (try_photo);
}

/* Step 1's "Try a Photo" runs the chosen base model: its top guess for a
 * parrot is an ImageNet class (the bundled labels), and choosing another
 * model clears the answer. */
static void
test_try_photo (void)
{
  g_autoptr (GraftModelPage) page = model_page_new ();
  g_autofree char *photo_path =
      g_build_filename (GRAFT_SOURCE_DATADIR, "..", "tests", "data", "photos",
                        "parrot.jpg", NULL);
  g_autoptr (GFile) photo = g_file_new_for_path (photo_path);
  GraftTryPhoto *try_photo = graft_model_page_get_try_photo (page);

  g_assert_nonnull (try_photo);
  g_assert_null (graft_try_photo_get_model_path (try_photo));
  g_assert_true (
      graft_model_page_select_bundled (page, "mobilenet_v2_1.0_224"));
  g_assert_cmpstr (graft_try_photo_get_model_path (try_photo), ==,
                   graft_model_page_get_model_path (page));
  g_assert_cmpint (graft_try_photo_get_top_k (try_photo), ==, 5);

  graft_try_photo_try_file (try_photo, photo);
  g_assert_true (graft_try_photo_get_busy (try_photo));
  app_test_wait_until (try_photo_idle, try_photo);
  g_assert_cmpstr (graft_try_photo_get_top_label (try_photo), ==, "macaw");

  /* Another model: the old answer goes, the new model is the one tried. */
  g_assert_true (
      graft_model_page_select_bundled (page, "mobilenet_v1_0.25_128"));
  g_assert_cmpstr (graft_try_photo_get_model_path (try_photo), ==,
                   graft_model_page_get_model_path (page));
  g_assert_null (graft_try_photo_get_top_label (try_photo));
  wait_for_load (page);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  if (!app_test_init ())
    {
      g_printerr ("No display: skipping the app tests\n");
      return 77;
    }

  g_test_add_func ("/app/model-page/bundled-layers", test_bundled_layers);
  g_test_add_func ("/app/model-page/switch-and-error", test_switch_and_error);
  g_test_add_func ("/app/model-page/try-photo", test_try_photo);
  g_test_add_func ("/app/window/steps", test_window_steps);
  return g_test_run ();
}
