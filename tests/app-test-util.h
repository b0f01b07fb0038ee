/* app-test-util.h: what the window tests and the screenshot driver share:
 * setting GTK up under Xvfb, finding the pages, waiting on the main loop.
 */
#pragma once

#include "graft-export-page.h"
#include "graft-layers-page.h"
#include "graft-model-page.h"
#include "graft-photos-page.h"
#include "graft-results-page.h"
#include "graft-train-page.h"
#include "graft-window.h"

#include <adwaita.h>

G_BEGIN_DECLS

/* How long app_test_wait_until waits before it fails the test */
#define APP_TEST_TIMEOUT_SECONDS 300

/* Initializes GTK and libadwaita with accessibility and settings kept off
 * D-Bus (there is no session bus under xvfb-run, and GTK reports its
 * absence as fatal warnings). FALSE without a display. */
gboolean app_test_init (void);

/* The first widget of the type in the tree under widget, or NULL. */
GtkWidget *app_test_find_widget (GtkWidget *widget, GType type);

typedef struct
{
  GraftWindow *window;
  GraftModelPage *model;
  GraftPhotosPage *photos;
  GraftLayersPage *layers;
  GraftTrainPage *train;
  GraftResultsPage *results;
  GraftExportPage *export;
} AppTestPages;

/* Finds the window's six step pages; asserts that each is there. */
void app_test_find_pages (GraftWindow *window, AppTestPages *pages);

typedef gboolean (*AppTestCondition) (gpointer object);

/* Runs the main loop until done (object) is TRUE; asserts that it became
 * so within APP_TEST_TIMEOUT_SECONDS. */
void app_test_wait_until (AppTestCondition done, gpointer object);

/* Runs the main loop for the given time, without blocking in it. */
void app_test_spin (double seconds);

/* Conditions on the pages, for app_test_wait_until */
gboolean app_test_model_loaded (gpointer model_page);
gboolean app_test_scan_done (gpointer photos_page);
gboolean app_test_layers_loaded (gpointer layers_page);
gboolean app_test_training_done (gpointer train_page);
gboolean app_test_try_done (gpointer results_page);
gboolean app_test_reuse_done (gpointer results_page);
gboolean app_test_export_done (gpointer export_page);

G_END_DECLS
