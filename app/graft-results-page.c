/* graft-results-page.c: step 5, how well the model does.
 *
 * Everything shown is measured on the validation photos, which training
 * never learned from. Try-an-image (a GraftTryPhoto) runs the very file
 * that export writes, so what the user sees here is what the exported
 * model does.
 */
#include "config.h"

#include "graft-results-page.h"

#include "graft-confusion-view.h"
#include "graft-thumbnail.h"
#include "graft-try-photo.h"

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
  GraftTryPhoto *try_photo;

  GraftTrainResult *result;
  GCancellable *cancellable;
  guint n_misclassified;
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
  G_OBJECT_CLASS (graft_results_page_parent_class)->dispose (object);
}

static void
graft_results_page_finalize (GObject *object)
{
  GraftResultsPage *self = GRAFT_RESULTS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, graft_train_result_unref);
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
