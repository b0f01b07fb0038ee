/* graft-results-page.c: step 5, how well the model does.
 *
 * Everything shown is measured on the validation photos, which training
 * never learned from. Try-an-image runs the very file that export writes
 * (a GraftClassifier on the finished model), so what the user sees here
 * is what the exported model does.
 */
#include "config.h"

#include "graft-results-page.h"

#include "graft-confusion-view.h"
#include "graft-thumbnail.h"

#include <glib/gi18n.h>
#include <math.h>

#define THUMB_SIZE 96
#define MAX_MISCLASSIFIED 60
#define TOP_K 5

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
  GtkWidget *try_zone;
  GtkWidget *try_picture_box;
  GtkWidget *try_bars;
  GtkWidget *try_error;

  GraftTrainResult *result;
  GCancellable *cancellable;
  GtkFileChooserNative *chooser;
  char *top_label;
  guint n_misclassified;
  gboolean trying;
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

typedef struct
{
  GraftTrainResult *result;
  char *path;
} TryJob;

typedef struct
{
  float *probs;
  GBytes *thumb;
} TryOutcome;

static void
try_job_free (gpointer data)
{
  TryJob *job = data;

  graft_train_result_unref (job->result);
  g_free (job->path);
  g_free (job);
}

static void
try_outcome_free (gpointer data)
{
  TryOutcome *outcome = data;

  g_free (outcome->probs);
  g_clear_pointer (&outcome->thumb, g_bytes_unref);
  g_free (outcome);
}

static void
try_thread (GTask *task,
            gpointer source,
            gpointer data,
            GCancellable *cancellable)
{
  TryJob *job = data;
  TryOutcome *outcome = g_new0 (TryOutcome, 1);
  GError *error = NULL;
  gboolean ok;

  outcome->probs = g_new0 (float, job->result->n_classes);
  g_mutex_lock (&job->result->lock);
  ok = graft_classifier_classify_file (job->result->classifier, job->path,
                                       outcome->probs, &error);
  g_mutex_unlock (&job->result->lock);
  if (!ok)
    {
      try_outcome_free (outcome);
      g_task_return_error (task, error);
      return;
    }
  outcome->thumb = graft_thumbnail_decode (job->path, 128, NULL);
  g_task_return_pointer (task, outcome, try_outcome_free);
}

static void
try_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GraftResultsPage) self = user_data;
  g_autoptr (GError) error = NULL;
  TryOutcome *outcome = g_task_propagate_pointer (G_TASK (res), &error);
  TryJob *job = g_task_get_task_data (G_TASK (res));
  GraftPrediction top[TOP_K];
  int k;

  self->trying = FALSE;
  if (self->result != job->result)
    {
      g_clear_pointer (&outcome, try_outcome_free);
      return; /* a newer model replaced the one asked */
    }
  clear_box (self->try_bars);
  clear_box (self->try_picture_box);
  if (outcome == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->try_error), error->message);
      gtk_widget_set_visible (self->try_error, TRUE);
      return;
    }
  gtk_widget_set_visible (self->try_error, FALSE);
  gtk_box_append (GTK_BOX (self->try_picture_box),
                  graft_thumbnail_picture (outcome->thumb, 128, NULL));
  k = MIN (TOP_K, self->result->n_classes);
  graft_classifier_top_k (self->result->classifier, outcome->probs, k, top);
  g_free (self->top_label);
  self->top_label = g_strdup (top[0].label);
  for (int i = 0; i < k; i++)
    {
      GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
      GtkWidget *name = gtk_label_new (top[i].label);
      GtkWidget *bar = gtk_level_bar_new_for_interval (0, 1);
      g_autofree char *value =
          g_strdup_printf ("%.1f%%", 100 * top[i].probability);
      GtkWidget *value_label = gtk_label_new (value);

      gtk_label_set_xalign (GTK_LABEL (name), 0);
      /* A fixed width (not in characters: the best is bold) lines the
       * bars up. */
      gtk_widget_set_size_request (name, 140, -1);
      gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
      if (i == 0)
        gtk_widget_add_css_class (name, "heading");
      gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), top[i].probability);
      /* No low/high colors: a probability is not a warning. */
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar),
                                         GTK_LEVEL_BAR_OFFSET_LOW);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar),
                                         GTK_LEVEL_BAR_OFFSET_HIGH);
      gtk_level_bar_remove_offset_value (GTK_LEVEL_BAR (bar),
                                         GTK_LEVEL_BAR_OFFSET_FULL);
      gtk_widget_set_hexpand (bar, TRUE);
      gtk_widget_set_valign (bar, GTK_ALIGN_CENTER);
      gtk_label_set_width_chars (GTK_LABEL (value_label), 6);
      gtk_label_set_xalign (GTK_LABEL (value_label), 1);
      gtk_widget_add_css_class (value_label, "numeric");
      gtk_box_append (GTK_BOX (row), name);
      gtk_box_append (GTK_BOX (row), bar);
      gtk_box_append (GTK_BOX (row), value_label);
      gtk_box_append (GTK_BOX (self->try_bars), row);
    }
  try_outcome_free (outcome);
}

void
graft_results_page_try_file (GraftResultsPage *self, GFile *file)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *path = NULL;
  TryJob *job;

  g_return_if_fail (GRAFT_IS_RESULTS_PAGE (self));
  path = g_file_get_path (file);
  if (self->result == NULL || path == NULL)
    return;
  job = g_new0 (TryJob, 1);
  job->result = graft_train_result_ref (self->result);
  job->path = g_steal_pointer (&path);
  self->trying = TRUE;
  task = g_task_new (NULL, NULL, try_done, g_object_ref (self));
  g_task_set_task_data (task, job, try_job_free);
  g_task_run_in_thread (task, try_thread);
}

static void
on_chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  GraftResultsPage *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file =
          gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        graft_results_page_try_file (self, file);
    }
  g_clear_object (&self->chooser);
}

void
graft_results_page_choose_file (GraftResultsPage *self)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  g_autoptr (GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->chooser != NULL || self->result == NULL)
    return;
  gtk_file_filter_set_name (filter, _ ("Photos"));
  gtk_file_filter_add_mime_type (filter, "image/*");
  self->chooser = gtk_file_chooser_native_new (
      _ ("Try a Photo"), GTK_IS_WINDOW (native) ? GTK_WINDOW (native) : NULL,
      GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Try"), _ ("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response),
                    self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static gboolean
on_drop (GtkDropTarget *target,
         const GValue *value,
         double x,
         double y,
         gpointer user_data)
{
  GSList *files = g_value_get_boxed (value);

  if (files == NULL)
    return FALSE;
  graft_results_page_try_file (GRAFT_RESULTS_PAGE (user_data), files->data);
  return TRUE;
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
  g_clear_pointer (&self->top_label, g_free);
  clear_box (self->try_bars);
  clear_box (self->try_picture_box);
  clear_box (self->classes_list);
  clear_box (self->misclassified_box);
  self->n_misclassified = 0;
  if (result == NULL)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
      graft_confusion_view_set_data (GRAFT_CONFUSION_VIEW (self->confusion), 0,
                                     NULL, NULL);
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
  gtk_widget_set_visible (self->try_error, FALSE);
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

static GtkWidget *
build_try_zone (GraftResultsPage *self)
{
  GtkWidget *zone = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 18);
  GtkWidget *hint =
      label_new (_ ("Drop a photo here, or choose one, to see what the model "
                    "says about it."),
                 "dim-label");
  GtkWidget *button = gtk_button_new_with_mnemonic (_ ("Choose a _Photo…"));
  GtkDropTarget *drop =
      gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  gtk_widget_add_css_class (zone, "card");
  gtk_widget_add_css_class (zone, "try-zone");
  gtk_widget_set_margin_start (hint, 12);
  gtk_widget_set_margin_top (hint, 12);
  gtk_widget_set_margin_start (button, 12);
  gtk_widget_set_margin_start (row, 12);
  gtk_widget_set_margin_end (row, 12);
  gtk_widget_set_margin_bottom (row, 12);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.try-image");
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  self->try_picture_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->try_bars = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_hexpand (self->try_bars, TRUE);
  gtk_widget_set_valign (self->try_bars, GTK_ALIGN_CENTER);
  self->try_error = label_new (NULL, "error");
  gtk_widget_set_visible (self->try_error, FALSE);
  gtk_box_append (GTK_BOX (zone), hint);
  gtk_box_append (GTK_BOX (zone), button);
  gtk_box_append (GTK_BOX (row), self->try_picture_box);
  gtk_box_append (GTK_BOX (row), self->try_bars);
  gtk_box_append (GTK_BOX (zone), row);
  gtk_box_append (GTK_BOX (zone), self->try_error);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (zone, GTK_EVENT_CONTROLLER (drop));
  return zone;
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

  gtk_box_append (GTK_BOX (box),
                  group_new (_ ("Try a Photo"), NULL, build_try_zone (self)));

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
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  G_OBJECT_CLASS (graft_results_page_parent_class)->dispose (object);
}

static void
graft_results_page_finalize (GObject *object)
{
  GraftResultsPage *self = GRAFT_RESULTS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, graft_train_result_unref);
  g_free (self->top_label);
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
  return self->trying;
}

const char *
graft_results_page_get_top_label (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), NULL);
  return self->top_label;
}

guint
graft_results_page_get_n_misclassified (GraftResultsPage *self)
{
  g_return_val_if_fail (GRAFT_IS_RESULTS_PAGE (self), 0);
  return self->n_misclassified;
}
