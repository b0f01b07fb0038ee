/* test-app-flow.c: the whole flow through the window's actions, on a tiny
 * committed dataset (tests/data/app-dataset: 2 categories x 8 photos).
 *
 * Needs a display (run under xvfb-run); without one the test is skipped.
 * The bundled models are found through $GRAFT_DATADIR.
 */
#include "config.h"

#include "app-test-util.h"
#include "classifier.h"
#include "graft-confusion-view.h"
#include "graft-reuse-view.h"

#include <glib/gstdio.h>

static gboolean
thumbnails_shown (gpointer page)
{
  /* 6 per category are asked for. */
  return graft_photos_page_get_n_thumbnails (page) == 12;
}

static void
count_frame (guint *n_frames)
{
  (*n_frames)++;
}

static char *
dataset_dir (void)
{
  return g_test_build_filename (G_TEST_DIST, "data", "app-dataset", NULL);
}

typedef AppTestPages Flow;

/* A window with the smallest model and the tiny dataset loaded. */
static void
flow_open (Flow *flow)
{
  g_autofree char *dir = dataset_dir ();
  g_autoptr (GFile) folder = g_file_new_for_path (dir);

  app_test_find_pages (graft_window_new (NULL, NULL), flow);
  gtk_window_present (GTK_WINDOW (flow->window));
  g_assert_cmpuint (graft_window_get_n_steps (flow->window), ==, 6);

  g_assert_true (
      graft_model_page_select_bundled (flow->model, "mobilenet_v1_0.25_128"));
  app_test_wait_until (app_test_model_loaded, flow->model);
  g_assert_nonnull (graft_model_page_get_graph (flow->model));

  g_assert_true (graft_window_set_step (flow->window, "photos"));
  graft_photos_page_load (flow->photos, &folder, 1);
  g_assert_true (graft_photos_page_get_scanning (flow->photos));
  app_test_wait_until (app_test_scan_done, flow->photos);
  app_test_wait_until (app_test_layers_loaded, flow->layers);
}

/* The whole flow: photos, a freeze switch, training, a confusion cell,
 * try-an-image and export. */
static void
test_flow (void)
{
  Flow flow = { 0 };
  const GraftDataset *ds;
  g_autofree int *n_train = NULL, *n_val = NULL;
  g_autofree gboolean *trainable = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("graft-app-flow-XXXXXX", &error);
  g_autofree char *model_path = NULL, *labels_path = NULL, *photo = NULL,
                  *dir = dataset_dir ();
  g_autoptr (GraftClassifier) classifier = NULL;
  g_autoptr (GFile) photo_file = NULL;
  GListModel *toplevels; /* owned by GTK */
  GraftTrainResult *result;
  GraftFreezePreset preset;
  GtkWidget *confusion;
  GtkWindow *cell_window;
  gint64 head_params, last_params;
  int last_blocks, n_blocks, n_windows;

  g_assert_no_error (error);
  flow_open (&flow);

  /* Photos: two categories, the 80/20 split made, thumbnails shown. */
  ds = graft_photos_page_get_dataset (flow.photos);
  g_assert_nonnull (ds);
  g_assert_null (graft_photos_page_get_error_message (flow.photos));
  g_assert_cmpint (ds->n_classes, ==, 2);
  g_assert_cmpstr (ds->classes[0], ==, "circles");
  g_assert_cmpstr (ds->classes[1], ==, "stripes");
  g_assert_false (ds->given_split);
  g_assert_true (graft_dataset_usable (ds));
  n_train = g_new0 (int, 2);
  n_val = g_new0 (int, 2);
  graft_dataset_count (ds, n_train, n_val);
  for (int c = 0; c < 2; c++)
    {
      g_assert_cmpint (n_train[c] + n_val[c], ==, 8);
      g_assert_cmpint (n_val[c], >=, 1);
    }
  app_test_wait_until (thumbnails_shown, flow.photos);

  /* Layers: presets and switches agree; a switch changes what trains. */
  n_blocks = graft_layers_page_get_n_blocks (flow.layers);
  g_assert_cmpint (n_blocks, >, 3);
  graft_layers_page_set_preset (flow.layers, GRAFT_FREEZE_HEAD_ONLY, 0);
  head_params = graft_layers_page_get_trainable_params (flow.layers);
  /* At least the new Gemm: 256 features x 2 classes + 2 biases. */
  g_assert_cmpint (head_params, >=, 2 * 256 + 2);
  g_assert_false (
      graft_layers_page_get_block_trainable (flow.layers, n_blocks - 2));
  graft_layers_page_set_block_trainable (flow.layers, n_blocks - 2, TRUE);
  last_params = graft_layers_page_get_trainable_params (flow.layers);
  g_assert_cmpint (last_params, >, head_params);
  g_assert_false (graft_layers_page_get_choice (
      flow.layers, &preset, &last_blocks, &trainable, &n_blocks));
  g_assert_cmpint (preset, ==, GRAFT_FREEZE_LAST_BLOCKS);
  g_assert_cmpint (last_blocks, ==, 1);
  /* A gap in the switched-on blocks is the user's own choice. */
  graft_layers_page_set_block_trainable (flow.layers, 0, TRUE);
  g_assert_true (graft_layers_page_get_choice (
      flow.layers, &preset, &last_blocks, &trainable, &n_blocks));
  g_assert_true (trainable[0]);
  g_assert_false (trainable[1]);
  g_assert_true (trainable[n_blocks - 2]);
  g_clear_pointer (&trainable, g_free);
  graft_layers_page_set_block_trainable (flow.layers, 0, FALSE);
  g_assert_cmpint (graft_layers_page_get_trainable_params (flow.layers), ==,
                   last_params);

  /* Train: the last block and the classifier, compared with the
   * classifier alone, through the window's action. */
  graft_train_page_set_epochs (flow.train, 2);
  graft_train_page_set_batch_size (flow.train, 4);
  g_assert_false (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                              "win.export", NULL) &&
                  graft_export_page_get_exporting (flow.export));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.start-training", NULL));
  g_assert_cmpstr (graft_window_get_step (flow.window), ==, "train");
  g_assert_true (graft_train_page_get_running (flow.train));
  app_test_wait_until (app_test_training_done, flow.train);
  g_assert_null (graft_train_page_get_error_message (flow.train));
  /* "Training finished" shows on the Train step and goes with it. */
  g_assert_nonnull (app_test_find_widget (GTK_WIDGET (flow.window),
                                          g_type_from_name ("AdwToastWidget")));
  result = graft_train_page_get_result (flow.train);
  g_assert_nonnull (result);
  g_assert_cmpint (result->n_classes, ==, 2);
  g_assert_cmpint (result->n_val, ==, n_val[0] + n_val[1]);
  g_assert_cmpint (result->metrics->total, ==, result->n_val);
  g_assert_cmpfloat (result->val_accuracy, >=, 0);
  g_assert_cmpfloat (result->val_accuracy, <=, 1);
  /* Progress arrived, and in fewer UI updates than reports when steps
   * came fast; never more. */
  g_assert_cmpuint (graft_train_page_get_n_reports (flow.train), >, 0);
  g_assert_cmpuint (graft_train_page_get_n_ui_updates (flow.train), <=,
                    graft_train_page_get_n_reports (flow.train));
  g_assert_cmpfloat (graft_train_page_get_longest_stall_ms (flow.train), >=, 0);

  /* Results: a confusion cell opens the photos behind it. */
  g_assert_true (graft_window_set_step (flow.window, "results"));
  app_test_spin (1.0); /* the toast's fade */
  g_assert_null (app_test_find_widget (GTK_WIDGET (flow.window),
                                       g_type_from_name ("AdwToastWidget")));
  confusion = app_test_find_widget (GTK_WIDGET (flow.results),
                                    GRAFT_TYPE_CONFUSION_VIEW);
  g_assert_nonnull (confusion);
  g_assert_cmpint (
      graft_confusion_view_get_n_classes (GRAFT_CONFUSION_VIEW (confusion)), ==,
      2);
  toplevels = gtk_window_get_toplevels ();
  n_windows = (int) g_list_model_get_n_items (toplevels);
  graft_confusion_view_activate_cell (GRAFT_CONFUSION_VIEW (confusion), 0, 0);
  g_assert_cmpint ((int) g_list_model_get_n_items (toplevels), ==,
                   n_windows + 1);
  cell_window = graft_results_page_show_cell (flow.results, 0, 0);
  g_assert_cmpuint (GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (cell_window),
                                                         "graft-cell-count")),
                    ==,
                    (guint) graft_confusion_view_get_count (
                        GRAFT_CONFUSION_VIEW (confusion), 0, 0));
  gtk_window_destroy (cell_window);
  /* Close the one the activation opened. */
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) opened = g_list_model_get_item (toplevels, i);
      if (g_object_get_data (G_OBJECT (opened), "graft-cell-count") != NULL ||
          g_object_get_data (G_OBJECT (opened), "graft-cell-flow") != NULL)
        {
          gtk_window_destroy (opened);
          break;
        }
    }
  g_assert_cmpint ((int) g_list_model_get_n_items (toplevels), ==, n_windows);

  /* Try an image with the trained model. */
  photo = g_build_filename (dir, "stripes", "stripes-1.jpg", NULL);
  photo_file = g_file_new_for_path (photo);
  graft_results_page_try_file (flow.results, photo_file);
  g_assert_true (graft_results_page_get_trying (flow.results));
  app_test_wait_until (app_test_try_done, flow.results);

  /* What training changed: measured against the base model just trained
   * from, one row per block of its trunk. */
  g_assert_nonnull (graft_results_page_get_base_model (flow.results));
  app_test_wait_until (app_test_reuse_done, flow.results);
  g_assert_null (graft_results_page_get_reuse_error (flow.results));
  g_assert_cmpint (graft_reuse_view_get_n_blocks (
                       graft_results_page_get_reuse_view (flow.results)),
                   >, 0);
  g_assert_nonnull (graft_results_page_get_top_label (flow.results));
  g_assert_true (
      g_str_equal (graft_results_page_get_top_label (flow.results),
                   "circles") ||
      g_str_equal (graft_results_page_get_top_label (flow.results), "stripes"));

  /* Export: the model and labels.txt, readable as a classifier. */
  model_path = g_build_filename (tmp, "model.onnx", NULL);
  labels_path = g_build_filename (tmp, "labels.txt", NULL);
  graft_export_page_export_to (flow.export, model_path);
  g_assert_true (graft_export_page_get_exporting (flow.export));
  app_test_wait_until (app_test_export_done, flow.export);
  g_assert_null (graft_export_page_get_error_message (flow.export));
  g_assert_cmpstr (graft_export_page_get_exported_path (flow.export), ==,
                   model_path);
  g_assert_true (g_file_test (labels_path, G_FILE_TEST_IS_REGULAR));
  classifier = graft_classifier_new (model_path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (classifier->n_classes, ==, 2);
  g_assert_cmpstr (classifier->labels[0], ==, "circles");
  g_assert_cmpstr (classifier->labels[1], ==, "stripes");

  gtk_window_destroy (GTK_WINDOW (flow.window));
  g_unlink (model_path);
  g_unlink (labels_path);
  g_rmdir (tmp);
}

/* Stop, and closing the window while training, share one path: the run
 * ends cancelled, the worker is joined, nothing is kept. */
static void
test_stop_and_close (void)
{
  Flow flow = { 0 };
  g_autoptr (GraftTrainPage) train = NULL;
  GdkFrameClock *frame_clock;
  gulong frames_handler;
  guint n_frames = 0;
  gint64 started;

  flow_open (&flow);
  graft_layers_page_set_preset (flow.layers, GRAFT_FREEZE_NONE, 0);
  graft_train_page_set_epochs (flow.train, 50);
  graft_train_page_set_batch_size (flow.train, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.start-training", NULL));
  g_assert_true (graft_train_page_get_running (flow.train));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.pause-training", NULL));
  g_assert_true (graft_train_page_get_paused (flow.train));
  /* Stop wakes a paused run. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.stop-training", NULL));
  app_test_wait_until (app_test_training_done, flow.train);
  g_assert_null (graft_train_page_get_result (flow.train));
  g_assert_null (graft_train_page_get_error_message (flow.train));

  /* Start again, after a look at the layers step while it reads the model
   * (as a user does). Progress reaches the window at most 10 times a
   * second; once stopped, nothing changes and the window does not redraw,
   * as it did 60 times a second while the layers step's hidden spinner
   * spun. */
  g_assert_true (graft_window_set_step (flow.window, "layers"));
  graft_layers_page_set_model (
      flow.layers, graft_model_page_get_model_path (flow.model), 2, 12);
  g_assert_true (graft_layers_page_get_loading (flow.layers));
  app_test_wait_until (app_test_layers_loaded, flow.layers);
  g_assert_true (graft_window_set_step (flow.window, "train"));
  started = g_get_monotonic_time ();
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.start-training", NULL));
  g_assert_true (graft_train_page_get_running (flow.train));
  app_test_spin (1.0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.stop-training", NULL));
  app_test_wait_until (app_test_training_done, flow.train);
  g_assert_cmpuint (graft_train_page_get_n_ui_updates (flow.train), <=,
                    10 * (g_get_monotonic_time () - started) / G_USEC_PER_SEC +
                        2);
  app_test_spin (0.5); /* the last layout */
  frame_clock = gtk_widget_get_frame_clock (GTK_WIDGET (flow.window));
  g_assert_nonnull (frame_clock);
  frames_handler = g_signal_connect_swapped (
      frame_clock, "after-paint", G_CALLBACK (count_frame), &n_frames);
  app_test_spin (1.0);
  g_signal_handler_disconnect (frame_clock, frames_handler);
  g_test_message ("%u frames in 1 s after Stop", n_frames);
  g_assert_cmpuint (n_frames, <=, 3);

  /* Once more, then close the window mid-run. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.start-training", NULL));
  g_assert_true (graft_train_page_get_running (flow.train));
  app_test_spin (0.5);
  train = g_object_ref (flow.train); /* closing destroys the window */
  gtk_window_close (GTK_WINDOW (flow.window));
  g_assert_false (graft_train_page_get_running (train));
  g_assert_null (graft_train_page_get_result (train));
  /* Let the worker's last idle callbacks run against the closed window. */
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
}

/* Several folders dropped at once are one category each. */
static void
test_several_folders (void)
{
  g_autoptr (GraftPhotosPage) page =
      GRAFT_PHOTOS_PAGE (g_object_ref_sink (graft_photos_page_new ()));
  g_autofree char *dir = dataset_dir ();
  g_autofree char *circles = g_build_filename (dir, "circles", NULL);
  g_autofree char *stripes = g_build_filename (dir, "stripes", NULL);
  GFile *folders[2];
  const GraftDataset *ds;

  folders[0] = g_file_new_for_path (stripes);
  folders[1] = g_file_new_for_path (circles);
  graft_photos_page_load (page, folders, 2);
  app_test_wait_until (app_test_scan_done, page);
  ds = graft_photos_page_get_dataset (page);
  g_assert_nonnull (ds);
  g_assert_cmpint (ds->n_classes, ==, 2);
  g_assert_cmpstr (ds->classes[0], ==, "circles");
  g_assert_cmpstr (ds->classes[1], ==, "stripes");
  g_assert_cmpuint (ds->items->len, ==, 16);
  g_object_unref (folders[0]);
  g_object_unref (folders[1]);
}

/* A folder that does not exist: the page says so and keeps no dataset. */
static void
test_missing_folder (void)
{
  g_autoptr (GraftPhotosPage) page =
      GRAFT_PHOTOS_PAGE (g_object_ref_sink (graft_photos_page_new ()));
  g_autoptr (GFile) missing = g_file_new_for_path ("/nonexistent/graft-photos");

  graft_photos_page_load (page, &missing, 1);
  app_test_wait_until (app_test_scan_done, page);
  g_assert_null (graft_photos_page_get_dataset (page));
  g_assert_nonnull (graft_photos_page_get_error_message (page));
}

/* Pause reaches the trainer of whichever stage of the fine-tune runs, not
 * only the loading of photos: no progress while paused, and it goes on
 * after Resume. (test-finetune-pause holds each stage in turn.) */
static guint reports_before;

static gboolean
reports_grew (gpointer train_page)
{
  return graft_train_page_get_n_reports (train_page) > reports_before ||
         !graft_train_page_get_running (train_page);
}

static void
test_pause_holds (void)
{
  Flow flow = { 0 };
  guint reports;

  flow_open (&flow);
  graft_layers_page_set_preset (flow.layers, GRAFT_FREEZE_NONE, 0);
  graft_train_page_set_epochs (flow.train, 50);
  graft_train_page_set_batch_size (flow.train, 2);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.start-training", NULL));
  /* Past the caching of the 16 photos, 2 at a time. */
  reports_before = 20;
  app_test_wait_until (reports_grew, flow.train);
  g_assert_true (graft_train_page_get_running (flow.train));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.pause-training", NULL));
  g_assert_true (graft_train_page_get_paused (flow.train));
  app_test_spin (1.0); /* the step in flight, and its report */
  reports = graft_train_page_get_n_reports (flow.train);
  app_test_spin (1.0);
  g_assert_cmpuint (graft_train_page_get_n_reports (flow.train), ==, reports);
  g_assert_true (graft_train_page_get_running (flow.train));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.pause-training", NULL));
  g_assert_false (graft_train_page_get_paused (flow.train));
  reports_before = reports;
  app_test_wait_until (reports_grew, flow.train);
  g_assert_true (graft_train_page_get_running (flow.train));
  g_assert_cmpuint (graft_train_page_get_n_reports (flow.train), >, reports);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (flow.window),
                                             "win.stop-training", NULL));
  app_test_wait_until (app_test_training_done, flow.train);
  g_assert_null (graft_train_page_get_result (flow.train));
  gtk_window_destroy (GTK_WINDOW (flow.window));
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

  g_test_add_func ("/app/photos/several-folders", test_several_folders);
  g_test_add_func ("/app/photos/missing-folder", test_missing_folder);
  g_test_add_func ("/app/flow/train-and-export", test_flow);
  g_test_add_func ("/app/flow/stop-and-close", test_stop_and_close);
  g_test_add_func ("/app/flow/pause-holds", test_pause_holds);
  return g_test_run ();
}
