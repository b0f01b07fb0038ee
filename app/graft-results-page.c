/* graft-results-page.c: step 5, how well the model does.
 *
 * Everything shown is measured on the validation photos, which training
 * never learned from. Try-an-image (a GraftTryPhoto) runs the very file
 * that export writes, so what the user sees here is what the exported
 * model does.
 *
 * "What Training Changed" compares the trained model with the base it
 * came from on (up to MAX_REUSE_PHOTOS of) the same validation photos,
 * block by block (engine/reuse.h, as graft-cli analyze does): a worker
 * loads both models from their files and runs them, cancelled when a new
 * result comes or the page goes away.
 */
#include "config.h"

#include "graft-results-page.h"

#include "graft-confusion-view.h"
#include "graft-error.h"
#include "graft-reuse-view.h"
#include "graft-thumbnail.h"
#include "graft-try-photo.h"

#include <glib/gi18n.h>
#include <math.h>

#define THUMB_SIZE 96
#define MAX_MISCLASSIFIED 60
#define TOP_K 5
/* As graft-cli analyze --max-images: enough for a steady CKA, a few
 * seconds on a laptop for the largest bundled model. */
#define MAX_REUSE_PHOTOS 200

struct _GraftResultsPage
{
  AdwBin parent_instance;

  GtkWidget *stack;
  GtkWidget *accuracy_label;
  GtkWidget *explanation_label;
  GtkWidget *classes_list;
  GtkWidget *confusion;
  GtkWidget *misclassified_group;
  GtkWidget *misclassified_box;
  GraftTryPhoto *try_photo;

  GtkWidget *reuse_group;
  GtkWidget *reuse_stack;
  GtkWidget *reuse_error_label;
  GtkWidget *reuse_spinner;
  GraftReuseView *reuse_view;

  GraftTrainResult *result;
  GCancellable *cancellable;
  guint n_misclassified;

  char *base_model;
  GCancellable *reuse_cancellable; /* the running measurement's, or NULL */
  char *reuse_error;
};

G_DEFINE_FINAL_TYPE (GraftResultsPage, graft_results_page, ADW_TYPE_BIN)

static char *
percent (double value)
{
  if (isnan (value))
    return g_strdup (_ ("n/a"));
  return g_strdup_printf ("%.0f%%", 100 * value);
}

static void
clear_box (GtkWidget *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    {
      if (GTK_IS_LIST_BOX (box))
        gtk_list_box_remove (GTK_LIST_BOX (box), child);
      else if (GTK_IS_FLOW_BOX (box))
        gtk_flow_box_remove (GTK_FLOW_BOX (box), child);
      else
        gtk_box_remove (GTK_BOX (box), child);
    }
}

/* A thumbnail with a caption under it. */
static GtkWidget *
captioned (GBytes *rgb, const char *caption, const char *tooltip)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *label = gtk_label_new (caption);

  gtk_box_append (GTK_BOX (box),
                  graft_thumbnail_picture (rgb, THUMB_SIZE, tooltip));
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 12);
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), label);
  return box;
}

/* ---- photos behind a cell, and the misclassified ---- */

typedef struct
{
  GtkWidget *flow; /* weak */
  GraftTrainResult *result;
  GArray *indices; /* into result->val_paths */
  gboolean show_classes;
} ThumbRequest;

static void
thumb_request_free (ThumbRequest *request)
{
  g_clear_weak_pointer (&request->flow);
  graft_train_result_unref (request->result);
  g_array_unref (request->indices);
  g_free (request);
}

static void
thumbs_ready (GObject *source, GAsyncResult *res, gpointer user_data)
{
  ThumbRequest *request = user_data;
  g_autoptr (GPtrArray) thumbs = graft_thumbnails_load_finish (res, NULL);

  if (thumbs != NULL && request->flow != NULL)
    for (guint i = 0; i < thumbs->len && i < request->indices->len; i++)
      {
        int v = g_array_index (request->indices, int, i);
        g_autofree char *name =
            g_filename_display_basename (request->result->val_paths[v]);
        g_autofree char *caption = NULL;
        if (request->show_classes)
          /* Translators: true category → what the model said */
          caption = g_strdup_printf (
              _ ("%s → %s"),
              request->result->classes[request->result->val_labels[v]],
              request->result->classes[request->result->val_predicted[v]]);
        gtk_flow_box_append (
            GTK_FLOW_BOX (request->flow),
            captioned (thumbs->pdata[i], caption ? caption : name, name));
      }
  thumb_request_free (request);
}

static void
load_thumbs_into (GtkWidget *flow,
                  GraftTrainResult *result,
                  GArray *indices,
                  gboolean show_classes,
                  GCancellable *cancellable)
{
  ThumbRequest *request = g_new0 (ThumbRequest, 1);
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();

  g_set_weak_pointer (&request->flow, flow);
  request->result = graft_train_result_ref (result);
  request->indices = g_array_ref (indices);
  request->show_classes = show_classes;
  for (guint i = 0; i < indices->len; i++)
    g_ptr_array_add (paths, result->val_paths[g_array_index (indices, int, i)]);
  graft_thumbnails_load_async ((const char *const *) paths->pdata,
                               (int) paths->len, THUMB_SIZE, cancellable,
                               thumbs_ready, request);
}

static GtkWidget *
flow_new (void)
{
  GtkWidget *flow = gtk_flow_box_new ();

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (flow), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (flow), 12);
  gtk_flow_box_set_column_spacing (GTK_FLOW_BOX (flow), 6);
  gtk_flow_box_set_row_spacing (GTK_FLOW_BOX (flow), 6);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (flow), TRUE);
  return flow;
}

GtkWindow *
graft_results_page_show_cell (GraftResultsPage *self,
                              int true_class,
                              int predicted_class)
{
  GraftTrainResult *result = self->result;
  GtkWidget *window, *toolbar, *header, *scrolled, *flow, *label;
  g_autoptr (GArray) indices = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *title = NULL;
  g_autofree char *subtitle = NULL;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), NULL);
  g_return_val_if_fail (result != NULL, NULL);
  g_return_val_if_fail (true_class >= 0 && true_class < result->n_classes,
                        NULL);
  g_return_val_if_fail (
      predicted_class >= 0 && predicted_class < result->n_classes, NULL);

  for (int v = 0; v < result->n_val; v++)
    if (result->val_labels[v] == true_class &&
        result->val_predicted[v] == predicted_class)
      g_array_append_val (indices, v);
  title = true_class == predicted_class
              ? g_strdup_printf (_ ("“%s”, Recognized"),
                                 result->classes[true_class])
              : g_strdup_printf (_ ("“%s” Taken for “%s”"),
                                 result->classes[true_class],
                                 result->classes[predicted_class]);
  subtitle =
      g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u validation photo",
                                    "%u validation photos", indices->len),
                       indices->len);
  window = adw_window_new ();
  gtk_window_set_title (GTK_WINDOW (window), title);
  gtk_window_set_modal (GTK_WINDOW (window), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (window), 560, 420);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (window), GTK_WINDOW (root));
  toolbar = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  header = adw_header_bar_new ();
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header),
                                   adw_window_title_new (title, subtitle));
  gtk_box_append (GTK_BOX (toolbar), header);
  scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scrolled, TRUE);
  flow = flow_new ();
  gtk_widget_set_margin_top (flow, 12);
  gtk_widget_set_margin_bottom (flow, 12);
  gtk_widget_set_margin_start (flow, 12);
  gtk_widget_set_margin_end (flow, 12);
  gtk_widget_set_valign (flow, GTK_ALIGN_START);
  if (indices->len == 0)
    {
      label = gtk_label_new (_ ("No validation photo is in this cell."));
      gtk_widget_add_css_class (label, "dim-label");
      gtk_widget_set_vexpand (label, TRUE);
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), label);
    }
  else
    {
      gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), flow);
      load_thumbs_into (flow, result, indices, FALSE, self->cancellable);
    }
  gtk_box_append (GTK_BOX (toolbar), scrolled);
  adw_window_set_content (ADW_WINDOW (window), toolbar);
  g_object_set_data (G_OBJECT (window), "graft-cell-count",
                     GUINT_TO_POINTER (indices->len));
  g_object_set_data (G_OBJECT (window), "graft-cell-flow", flow);
  gtk_window_present (GTK_WINDOW (window));
  return GTK_WINDOW (window);
}

static void
on_cell_activated (GraftConfusionView *view,
                   int true_class,
                   int predicted_class,
                   gpointer user_data)
{
  graft_results_page_show_cell (GRAFT_RESULTS_PAGE (user_data), true_class,
                                predicted_class);
}

/* ---- try an image ---- */

void
graft_results_page_try_file (GraftResultsPage *self, GFile *file)
{
  g_return_if_fail (GRAFT_IS_RESULTS_PAGE (self));
  graft_try_photo_try_file (self->try_photo, file);
}

void
graft_results_page_choose_file (GraftResultsPage *self)
{
  g_return_if_fail (GRAFT_IS_RESULTS_PAGE (self));
  graft_try_photo_choose_file (self->try_photo);
}

/* ---- what training changed ---- */

static GtkWidget *label_new (const char *text, const char *css_class);
static GtkWidget *
group_new (const char *title, const char *description, GtkWidget *child);

typedef struct
{
  GraftTrainResult *result;
  char *base_model;
  GraftGraph *base, *tuned; /* the analysis borrows them */
  GraftReuseAnalysis *analysis;
  GPtrArray *skipped;
} MeasureJob;

static void
measure_job_free (MeasureJob *job)
{
  /* The analysis first: it borrows the graphs. */
  g_clear_pointer (&job->analysis, graft_reuse_analysis_free);
  g_clear_pointer (&job->base, graft_graph_free);
  g_clear_pointer (&job->tuned, graft_graph_free);
  g_clear_pointer (&job->skipped, g_ptr_array_unref);
  graft_train_result_unref (job->result);
  g_free (job->base_model);
  g_free (job);
}

/* What the callback needs of the page: a weak pointer, set and cleared on
 * the main thread only (the task's data may be freed in the worker). */
typedef struct
{
  GraftResultsPage *page;
} MeasureRequest;

static void
measure_thread (GTask *task,
                gpointer source_object,
                gpointer task_data,
                GCancellable *cancellable)
{
  MeasureJob *job = task_data;
  GraftTrainResult *result = job->result;
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  GError *error = NULL;
  int n;

  if (result->n_val < 2)
    {
      g_task_return_new_error (
          task, GRAFT_ERROR, GRAFT_ERROR_INVALID, "%s",
          _ ("There are fewer than 2 validation photos to compare on."));
      return;
    }
  job->base = graft_graph_load (job->base_model, &error);
  if (job->base != NULL)
    job->tuned = graft_graph_load (result->model_file, &error);
  if (job->tuned != NULL)
    job->analysis = graft_reuse_analysis_new (job->base, job->tuned, 0, &error);
  if (job->analysis == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  /* Spread over the whole list, so that every category is in. */
  n = MIN (result->n_val, MAX_REUSE_PHOTOS);
  for (int i = 0; i < n; i++)
    g_ptr_array_add (paths, result->val_paths[(gint64) i * result->n_val / n]);
  job->skipped = g_ptr_array_new_with_free_func (g_free);
  if (!graft_reuse_analysis_add_files (
          job->analysis, (const char *const *) paths->pdata, (int) paths->len,
          job->skipped, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (graft_reuse_analysis_n_images (job->analysis) < 2)
    {
      g_task_return_new_error (
          task, GRAFT_ERROR, GRAFT_ERROR_INVALID, "%s",
          _ ("Fewer than 2 of the validation photos could be read."));
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
reuse_show_error (GraftResultsPage *self, const char *message)
{
  g_autofree char *text = g_strdup_printf (
      _ ("Could not compare the trained model with the original: %s"), message);

  g_free (self->reuse_error);
  self->reuse_error = g_strdup (message);
  gtk_label_set_text (GTK_LABEL (self->reuse_error_label), text);
  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (self->reuse_group), NULL);
  gtk_stack_set_visible_child_name (GTK_STACK (self->reuse_stack), "error");
}

/* The summary under the title, in plain words. */
static char *
reuse_summary (const GraftReuseBlock *blocks,
               int n_blocks,
               GraftReuseAnalysis *analysis,
               guint n_skipped)
{
  int counts[GRAFT_REUSE_REBUILT + 1] = { 0 };
  int n_images = (int) graft_reuse_analysis_n_images (analysis);
  int unmatched = graft_reuse_analysis_n_unmatched (analysis);
  g_autofree char *photos = NULL, *kept = NULL;
  GString *text = g_string_new (NULL);

  for (int i = 0; i < n_blocks; i++)
    counts[CLAMP ((int) blocks[i].reading, 0, GRAFT_REUSE_REBUILT)]++;
  photos = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                         "Compared with the original model on "
                                         "%d validation photo",
                                         "Compared with the original model on "
                                         "%d validation photos",
                                         n_images),
                            n_images);
  if (counts[GRAFT_REUSE_KEPT] == n_blocks)
    kept = g_strdup (_ ("Every block kept its features: training reused "
                        "what the original model had learned."));
  else if (counts[GRAFT_REUSE_REBUILT] == 0)
    /* Translators: numbers of blocks by how much their features changed */
    kept = g_strdup_printf (_ ("Of %d blocks, %d kept their features and %d "
                               "adapted them; none was rebuilt."),
                            n_blocks, counts[GRAFT_REUSE_KEPT],
                            counts[GRAFT_REUSE_ADAPTED]);
  else
    /* Translators: numbers of blocks by how much their features changed */
    kept = g_strdup_printf (_ ("Of %d blocks, %d kept their features, %d "
                               "adapted them and %d rebuilt them."),
                            n_blocks, counts[GRAFT_REUSE_KEPT],
                            counts[GRAFT_REUSE_ADAPTED],
                            counts[GRAFT_REUSE_REBUILT]);
  g_string_append_printf (text, "%s. %s", photos, kept);
  if (unmatched > 0)
    g_string_append_printf (
        text, " %s",
        _ ("Blocks the trained model no longer has are left out."));
  if (n_skipped > 0)
    g_string_append_printf (
        text,
        g_dngettext (GETTEXT_PACKAGE, " %u photo could not be read.",
                     " %u photos could not be read.", n_skipped),
        n_skipped);
  return g_string_free (text, FALSE);
}

/* A spinner spins, and the window redraws, even where it cannot be seen:
 * only while measuring and on screen. */
static void
update_spinner (GraftResultsPage *self)
{
  gtk_spinner_set_spinning (GTK_SPINNER (self->reuse_spinner),
                            self->reuse_cancellable != NULL &&
                                gtk_widget_get_mapped (self->reuse_spinner));
}

static void
measured (GObject *source, GAsyncResult *res, gpointer user_data)
{
  MeasureRequest *request = user_data;
  GraftResultsPage *self = request->page;
  GTask *task = G_TASK (res);
  MeasureJob *job = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (task, &error);

  g_clear_weak_pointer (&request->page);
  g_free (request);
  /* Gone, or no longer the page's measurement (a newer one replaced it). */
  if (self == NULL || self->reuse_cancellable == NULL ||
      self->reuse_cancellable != g_task_get_cancellable (task))
    return;
  g_clear_object (&self->reuse_cancellable);
  update_spinner (self);
  if (!ok)
    reuse_show_error (self, error->message);
  else
    {
      int n_blocks;
      const GraftReuseBlock *blocks =
          graft_reuse_analysis_blocks (job->analysis, &n_blocks);
      g_autofree char *summary =
          reuse_summary (blocks, n_blocks, job->analysis, job->skipped->len);

      graft_reuse_view_set_blocks (self->reuse_view, blocks, n_blocks);
      adw_preferences_group_set_description (
          ADW_PREFERENCES_GROUP (self->reuse_group), summary);
      gtk_stack_set_visible_child_name (GTK_STACK (self->reuse_stack), "view");
    }
}

static void
reuse_cancel (GraftResultsPage *self)
{
  g_cancellable_cancel (self->reuse_cancellable);
  g_clear_object (&self->reuse_cancellable);
  update_spinner (self);
}

/* Starts measuring when there is both a result and its base model. */
static void
reuse_restart (GraftResultsPage *self)
{
  g_autoptr (GTask) task = NULL;
  MeasureJob *job;
  MeasureRequest *request;

  reuse_cancel (self);
  g_clear_pointer (&self->reuse_error, g_free);
  graft_reuse_view_set_blocks (self->reuse_view, NULL, 0);
  gtk_widget_set_visible (self->reuse_group,
                          self->result != NULL && self->base_model != NULL);
  if (self->result == NULL || self->base_model == NULL)
    return;

  adw_preferences_group_set_description (
      ADW_PREFERENCES_GROUP (self->reuse_group),
      _ ("Comparing the trained model with the original on the validation "
         "photos…"));
  gtk_stack_set_visible_child_name (GTK_STACK (self->reuse_stack), "measuring");
  self->reuse_cancellable = g_cancellable_new ();
  update_spinner (self);
  job = g_new0 (MeasureJob, 1);
  job->result = graft_train_result_ref (self->result);
  job->base_model = g_strdup (self->base_model);
  request = g_new0 (MeasureRequest, 1);
  g_set_weak_pointer (&request->page, self);
  task = g_task_new (NULL, self->reuse_cancellable, measured, request);
  g_task_set_source_tag (task, reuse_restart);
  g_task_set_task_data (task, job, (GDestroyNotify) measure_job_free);
  g_task_run_in_thread (task, measure_thread);
}

void
graft_results_page_set_base_model (GraftResultsPage *self, const char *path)
{
  g_return_if_fail (GRAFT_IS_RESULTS_PAGE (self));

  if (g_strcmp0 (path, self->base_model) == 0)
    return;
  g_free (self->base_model);
  self->base_model = g_strdup (path);
  reuse_restart (self);
}

const char *
graft_results_page_get_base_model (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), NULL);
  return self->base_model;
}

gboolean
graft_results_page_get_measuring (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), FALSE);
  return self->reuse_cancellable != NULL;
}

const char *
graft_results_page_get_reuse_error (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), NULL);
  return self->reuse_error;
}

GraftReuseView *
graft_results_page_get_reuse_view (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), NULL);
  return self->reuse_view;
}

static GtkWidget *
reuse_section_new (GraftResultsPage *self)
{
  GtkWidget *card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *measuring = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *label = label_new (_ ("Measuring…"), "dim-label");

  self->reuse_stack = gtk_stack_new ();
  gtk_stack_set_vhomogeneous (GTK_STACK (self->reuse_stack), FALSE);
  gtk_widget_set_halign (measuring, GTK_ALIGN_CENTER);
  gtk_widget_set_margin_top (measuring, 24);
  gtk_widget_set_margin_bottom (measuring, 24);
  self->reuse_spinner = gtk_spinner_new ();
  g_signal_connect_swapped (self->reuse_spinner, "map",
                            G_CALLBACK (update_spinner), self);
  g_signal_connect_swapped (self->reuse_spinner, "unmap",
                            G_CALLBACK (update_spinner), self);
  gtk_box_append (GTK_BOX (measuring), self->reuse_spinner);
  gtk_box_append (GTK_BOX (measuring), label);
  gtk_stack_add_named (GTK_STACK (self->reuse_stack), measuring, "measuring");

  self->reuse_view = GRAFT_REUSE_VIEW (graft_reuse_view_new ());
  gtk_widget_set_margin_top (GTK_WIDGET (self->reuse_view), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->reuse_view), 12);
  gtk_widget_set_margin_start (GTK_WIDGET (self->reuse_view), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->reuse_view), 12);
  gtk_stack_add_named (GTK_STACK (self->reuse_stack),
                       GTK_WIDGET (self->reuse_view), "view");

  self->reuse_error_label = label_new (NULL, "error");
  gtk_widget_set_margin_top (self->reuse_error_label, 18);
  gtk_widget_set_margin_bottom (self->reuse_error_label, 18);
  gtk_widget_set_margin_start (self->reuse_error_label, 12);
  gtk_widget_set_margin_end (self->reuse_error_label, 12);
  gtk_label_set_selectable (GTK_LABEL (self->reuse_error_label), TRUE);
  gtk_stack_add_named (GTK_STACK (self->reuse_stack), self->reuse_error_label,
                       "error");

  gtk_widget_add_css_class (card, "card");
  gtk_box_append (GTK_BOX (card), self->reuse_stack);
  self->reuse_group = group_new (_ ("What Training Changed"), NULL, card);
  gtk_widget_set_visible (self->reuse_group, FALSE);
  return self->reuse_group;
}

/* ---- showing a result ---- */

void
graft_results_page_set_result (GraftResultsPage *self, GraftTrainResult *result)
{
  g_autoptr (GArray) wrong = g_array_new (FALSE, FALSE, sizeof (int));
  g_autofree char *accuracy = NULL;
  const GraftMetrics *m;

  g_return_if_fail (GRAFT_IS_RESULTS_PAGE (self));
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->result, graft_train_result_unref);
  /* Try-an-image runs the very file that export writes. */
  graft_try_photo_set_model_path (self->try_photo,
                                  result ? result->model_file : NULL);
  graft_try_photo_clear (self->try_photo);
  clear_box (self->classes_list);
  clear_box (self->misclassified_box);
  self->n_misclassified = 0;
  if (result == NULL)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      graft_confusion_view_set_data (GRAFT_CONFUSION_VIEW (self->confusion), 0,
                                     NULL, NULL);
      reuse_restart (self);
      return;
    }
  self->result = graft_train_result_ref (result);
  m = result->metrics;
  accuracy = g_strdup_printf (_ ("Right on %.1f%% of the validation photos"),
                              100 * result->val_accuracy);
  gtk_label_set_text (GTK_LABEL (self->accuracy_label), accuracy);
  gtk_label_set_text (
      GTK_LABEL (self->explanation_label),
      result->explanation
          ? result->explanation
          : _ ("Validation photos are the ones set aside: the model never "
               "learned from them, so this is how it will do on new photos."));
  for (int c = 0; c < result->n_classes; c++)
    {
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *p = percent (m->precision[c]);
      g_autofree char *r = percent (m->recall[c]);
      g_autofree char *subtitle = g_strdup_printf (
          /* Translators: precision, then recall, in plain words */
          _ ("Precision %s: right when it says “%s” · Recall %s: finds that "
             "share of them"),
          p, result->classes[c], r);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     result->classes[c]);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_list_box_append (GTK_LIST_BOX (self->classes_list), row);
    }
  graft_confusion_view_set_data (GRAFT_CONFUSION_VIEW (self->confusion),
                                 result->n_classes, m->confusion,
                                 (const char *const *) result->classes);
  for (int v = 0; v < result->n_val && wrong->len < MAX_MISCLASSIFIED; v++)
    if (result->val_labels[v] != result->val_predicted[v])
      g_array_append_val (wrong, v);
  for (int v = 0; v < result->n_val; v++)
    self->n_misclassified += result->val_labels[v] != result->val_predicted[v];
  gtk_widget_set_visible (self->misclassified_group, wrong->len > 0);
  if (wrong->len > 0)
    load_thumbs_into (self->misclassified_box, result, wrong, TRUE,
                      self->cancellable);
  reuse_restart (self);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "results");
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
group_new (const char *title, const char *description, GtkWidget *child)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                           description);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), child);
  return group;
}

static void
graft_results_page_init (GraftResultsPage *self)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *confusion_card = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  self->cancellable = g_cancellable_new ();
  self->stack = gtk_stack_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty), "emblem-ok-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty), _ ("No Results Yet"));
  adw_status_page_set_description (
      ADW_STATUS_PAGE (empty),
      _ ("Train a model first: its results appear here."));
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 920);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  self->accuracy_label = label_new (NULL, "title-2");
  self->explanation_label = label_new (NULL, NULL);
  gtk_box_append (GTK_BOX (box), self->accuracy_label);
  gtk_box_append (GTK_BOX (box), self->explanation_label);

  self->try_photo = GRAFT_TRY_PHOTO (graft_try_photo_new ());
  graft_try_photo_set_top_k (self->try_photo, TOP_K);
  gtk_box_append (GTK_BOX (box), group_new (_ ("Try a Photo"), NULL,
                                            GTK_WIDGET (self->try_photo)));

  self->confusion = graft_confusion_view_new ();
  gtk_widget_set_size_request (self->confusion, 280, 280);
  gtk_widget_set_margin_top (self->confusion, 12);
  gtk_widget_set_margin_bottom (self->confusion, 12);
  gtk_widget_set_margin_start (self->confusion, 12);
  gtk_widget_set_margin_end (self->confusion, 12);
  g_signal_connect (self->confusion, "cell-activated",
                    G_CALLBACK (on_cell_activated), self);
  gtk_widget_add_css_class (confusion_card, "card");
  gtk_box_append (GTK_BOX (confusion_card), self->confusion);
  gtk_box_append (
      GTK_BOX (box),
      group_new (
          _ ("Who Is Taken for Whom"),
          _ ("Rows are the true categories, columns what the model said. "
             "Click a cell to see its photos."),
          confusion_card));

  self->classes_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->classes_list),
                                   GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->classes_list, "boxed-list");
  gtk_box_append (GTK_BOX (box),
                  group_new (_ ("Each Category"), NULL, self->classes_list));

  self->misclassified_box = flow_new ();
  self->misclassified_group =
      group_new (_ ("Mistakes"),
                 _ ("Validation photos the model got wrong: true category → "
                    "what it said. Mislabeled photos often show up here."),
                 self->misclassified_box);
  gtk_box_append (GTK_BOX (box), self->misclassified_group);

  gtk_box_append (GTK_BOX (box), reuse_section_new (self));

  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_stack_add_named (GTK_STACK (self->stack), scrolled, "results");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
  adw_bin_set_child (ADW_BIN (self), self->stack);
}

static void
graft_results_page_dispose (GObject *object)
{
  GraftResultsPage *self = GRAFT_RESULTS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  reuse_cancel (self);
  G_OBJECT_CLASS (graft_results_page_parent_class)->dispose (object);
}

static void
graft_results_page_finalize (GObject *object)
{
  GraftResultsPage *self = GRAFT_RESULTS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, graft_train_result_unref);
  g_free (self->base_model);
  g_free (self->reuse_error);
  G_OBJECT_CLASS (graft_results_page_parent_class)->finalize (object);
}

static void
graft_results_page_class_init (GraftResultsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = graft_results_page_dispose;
  object_class->finalize = graft_results_page_finalize;
}

GtkWidget *
graft_results_page_new (void)
{
  return g_object_new (GRAFT_TYPE_RESULTS_PAGE, NULL);
}

gboolean
graft_results_page_get_trying (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), FALSE);
  return graft_try_photo_get_busy (self->try_photo);
}

const char *
graft_results_page_get_top_label (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), NULL);
  return graft_try_photo_get_top_label (self->try_photo);
}

guint
graft_results_page_get_n_misclassified (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), 0);
  return self->n_misclassified;
}
