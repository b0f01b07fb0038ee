/* graft-export-page.c: step 6, saving the model for use elsewhere.
 *
 * The model was written once when training finished; export copies those
 * bytes (atomically, in a worker) with labels.txt beside them, and says
 * how to use the file.
 */
#include "config.h"

#include "graft-export-page.h"

#include <glib/gi18n.h>

struct _GraftExportPage
{
  AdwBin parent_instance;

  GtkWidget *stack;
  GtkWidget *intro_label;
  GtkWidget *export_button;
  GtkWidget *spinner;
  GtkWidget *error_label;
  GtkWidget *summary_group;
  GtkWidget *summary_label;
  GtkWidget *command_label;

  GSettings *settings;
  GraftTrainResult *result;
  GtkFileChooserNative *chooser;
  char *exported_path;
  char *error_message;
  gboolean exporting;
};

G_DEFINE_FINAL_TYPE (GraftExportPage, graft_export_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_EXPORTING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
set_exporting (GraftExportPage *self, gboolean exporting)
{
  self->exporting = exporting;
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), exporting);
  gtk_widget_set_visible (self->spinner, exporting);
  gtk_widget_set_sensitive (self->export_button, !exporting);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXPORTING]);
}

static void
show_summary (GraftExportPage *self)
{
  const GraftTrainResult *r = self->result;
  g_autofree char *dir = g_path_get_dirname (self->exported_path);
  g_autofree char *name = g_filename_display_basename (self->exported_path);
  g_autofree char *dir_name = g_filename_display_name (dir);
  g_autofree char *classes = g_strjoinv (", ", r->classes);
  g_autofree char *summary = NULL;
  g_autofree char *quoted = g_shell_quote (self->exported_path);
  g_autofree char *command =
      g_strdup_printf ("graft-cli classify --model %s PHOTO.jpg", quoted);

  summary = g_strdup_printf (
      _ ("Wrote %s and labels.txt in %s.\n\n"
         "The model sorts photos into %d categories: %s. It is a standard ONNX "
         "file: any ONNX "
         "runtime can run it. Its input “%s” is a batch of RGB images of %d × "
         "%d pixels, "
         "channels first (N, 3, %d, %d), float32: take the centered square of "
         "%.1f%% of the "
         "shorter side, resize it, divide by 255, subtract the mean (%.3f, "
         "%.3f, %.3f) and "
         "divide by the standard deviation (%.3f, %.3f, %.3f). Its output "
         "“probabilities” has "
         "one value per category, in the order of labels.txt; the same details "
         "are stored "
         "in the file's metadata."),
      name, dir_name, r->n_classes, classes,
      r->classifier->graph->values[r->classifier->graph->inputs[0]].name,
      r->preprocess.width, r->preprocess.height, r->preprocess.height,
      r->preprocess.width, 100 * r->preprocess.central_crop,
      r->preprocess.mean[0], r->preprocess.mean[1], r->preprocess.mean[2],
      r->preprocess.std[0], r->preprocess.std[1], r->preprocess.std[2]);
  gtk_label_set_text (GTK_LABEL (self->summary_label), summary);
  gtk_label_set_text (GTK_LABEL (self->command_label), command);
  gtk_widget_set_visible (self->summary_group, TRUE);
}

typedef struct
{
  GraftTrainResult *result;
  char *path;
} ExportJob;

static void
export_job_free (gpointer data)
{
  ExportJob *job = data;

  graft_train_result_unref (job->result);
  g_free (job->path);
  g_free (job);
}

static void
export_thread (GTask *task,
               gpointer source,
               gpointer data,
               GCancellable *cancellable)
{
  ExportJob *job = data;
  GError *error = NULL;

  if (graft_train_result_export (job->result, job->path, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
export_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GraftExportPage) self = user_data;
  g_autoptr (GError) error = NULL;
  ExportJob *job = g_task_get_task_data (G_TASK (res));

  set_exporting (self, FALSE);
  if (!g_task_propagate_boolean (G_TASK (res), &error))
    {
      g_free (self->error_message);
      self->error_message = g_strdup (error->message);
      gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
      gtk_widget_set_visible (self->error_label, TRUE);
      return;
    }
  g_free (self->exported_path);
  self->exported_path = g_strdup (job->path);
  show_summary (self);
}

void
graft_export_page_export_to (GraftExportPage *self, const char *path)
{
  g_autoptr (GTask) task = NULL;
  ExportJob *job;

  g_return_if_fail (GRAFT_IS_EXPORT_PAGE (self));
  if (self->result == NULL || self->exporting)
    return;
  job = g_new0 (ExportJob, 1);
  job->result = graft_train_result_ref (self->result);
  job->path = g_strdup (path);
  g_clear_pointer (&self->error_message, g_free);
  gtk_widget_set_visible (self->error_label, FALSE);
  task = g_task_new (NULL, NULL, export_done, g_object_ref (self));
  g_task_set_task_data (task, job, export_job_free);
  set_exporting (self, TRUE);
  g_task_run_in_thread (task, export_thread);
}

static void
on_chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  GraftExportPage *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file =
          gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      if (path != NULL)
        {
          if (self->settings != NULL)
            {
              g_autofree char *dir = g_path_get_dirname (path);
              g_settings_set_string (self->settings, "last-export-folder", dir);
            }
          graft_export_page_export_to (self, path);
        }
    }
  g_clear_object (&self->chooser);
}

void
graft_export_page_choose (GraftExportPage *self)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));

  g_return_if_fail (GRAFT_IS_EXPORT_PAGE (self));
  if (self->chooser != NULL || self->result == NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (
      _ ("Export the Model"),
      GTK_IS_WINDOW (native) ? GTK_WINDOW (native) : NULL,
      GTK_FILE_CHOOSER_ACTION_SAVE, _ ("_Export"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser),
                                     "model.onnx");
  if (self->settings != NULL)
    {
      g_autofree char *last =
          g_settings_get_string (self->settings, "last-export-folder");
      if (last[0] != '\0')
        {
          g_autoptr (GFile) folder = g_file_new_for_path (last);
          gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser),
                                               folder, NULL);
        }
    }
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response),
                    self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

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

static void
graft_export_page_init (GraftExportPage *self)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *empty = adw_status_page_new ();
  GtkWidget *summary_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  self->stack = gtk_stack_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (empty),
                                 "document-save-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (empty),
                             _ ("Nothing to Export Yet"));
  adw_status_page_set_description (
      ADW_STATUS_PAGE (empty), _ ("Train a model first; then save it here."));
  gtk_stack_add_named (GTK_STACK (self->stack), empty, "empty");

  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 920);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_box_append (GTK_BOX (box),
                  label_new (_ ("Export Your Model"), "title-2"));
  self->intro_label =
      label_new (_ ("Save the model as an ONNX file to use it in your own "
                    "programs, with labels.txt beside it."),
                 NULL);
  gtk_box_append (GTK_BOX (box), self->intro_label);
  self->export_button = gtk_button_new_with_mnemonic (_ ("_Export Model…"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->export_button),
                                  "win.export");
  gtk_widget_add_css_class (self->export_button, "pill");
  gtk_widget_add_css_class (self->export_button, "suggested-action");
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (self->spinner, FALSE);
  gtk_widget_set_halign (buttons, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (buttons), self->export_button);
  gtk_box_append (GTK_BOX (buttons), self->spinner);
  gtk_box_append (GTK_BOX (box), buttons);
  self->error_label = label_new (NULL, "error");
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_box_append (GTK_BOX (box), self->error_label);

  self->summary_label = label_new (NULL, NULL);
  gtk_label_set_selectable (GTK_LABEL (self->summary_label), TRUE);
  self->command_label = label_new (NULL, "monospace");
  gtk_label_set_selectable (GTK_LABEL (self->command_label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (self->command_label), PANGO_WRAP_CHAR);
  gtk_widget_add_css_class (self->command_label, "command");
  gtk_box_append (GTK_BOX (summary_box), self->summary_label);
  gtk_box_append (GTK_BOX (summary_box),
                  label_new (_ ("Try it from a terminal:"), "heading"));
  gtk_box_append (GTK_BOX (summary_box), self->command_label);
  self->summary_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->summary_group),
                                   _ ("Saved"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->summary_group),
                             summary_box);
  gtk_widget_set_visible (self->summary_group, FALSE);
  gtk_box_append (GTK_BOX (box), self->summary_group);

  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_stack_add_named (GTK_STACK (self->stack), scrolled, "export");
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "empty");
  adw_bin_set_child (ADW_BIN (self), self->stack);
}

static void
graft_export_page_dispose (GObject *object)
{
  GraftExportPage *self = GRAFT_EXPORT_PAGE (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (graft_export_page_parent_class)->dispose (object);
}

static void
graft_export_page_finalize (GObject *object)
{
  GraftExportPage *self = GRAFT_EXPORT_PAGE (object);

  g_clear_pointer (&self->result, graft_train_result_unref);
  g_free (self->exported_path);
  g_free (self->error_message);
  G_OBJECT_CLASS (graft_export_page_parent_class)->finalize (object);
}

static void
graft_export_page_get_property (GObject *object,
                                guint prop_id,
                                GValue *value,
                                GParamSpec *pspec)
{
  GraftExportPage *self = GRAFT_EXPORT_PAGE (object);

  switch (prop_id)
    {
    case PROP_EXPORTING:
      g_value_set_boolean (value, self->exporting);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_export_page_class_init (GraftExportPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = graft_export_page_dispose;
  object_class->finalize = graft_export_page_finalize;
  object_class->get_property = graft_export_page_get_property;
  properties[PROP_EXPORTING] =
      g_param_spec_boolean ("exporting", NULL, NULL, FALSE,
                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

GtkWidget *
graft_export_page_new (void)
{
  return g_object_new (GRAFT_TYPE_EXPORT_PAGE, NULL);
}

void
graft_export_page_set_settings (GraftExportPage *self, GSettings *settings)
{
  g_return_if_fail (GRAFT_IS_EXPORT_PAGE (self));
  g_set_object (&self->settings, settings);
}

void
graft_export_page_set_result (GraftExportPage *self, GraftTrainResult *result)
{
  g_return_if_fail (GRAFT_IS_EXPORT_PAGE (self));
  g_clear_pointer (&self->result, graft_train_result_unref);
  g_clear_pointer (&self->exported_path, g_free);
  gtk_widget_set_visible (self->summary_group, FALSE);
  if (result != NULL)
    {
      g_autofree char *intro = g_strdup_printf (
          _ ("Save the model fine-tuned from %s (right on %.1f%% of the "
             "validation photos) "
             "as an ONNX file to use it in your own programs, with labels.txt "
             "beside it."),
          result->base_title ? result->base_title : _ ("the base model"),
          100 * result->val_accuracy);
      self->result = graft_train_result_ref (result);
      gtk_label_set_text (GTK_LABEL (self->intro_label), intro);
    }
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack),
                                    result ? "export" : "empty");
}

gboolean
graft_export_page_get_exporting (GraftExportPage *self)
{
  g_return_val_if_fail (GRAFT_IS_EXPORT_PAGE (self), FALSE);
  return self->exporting;
}

const char *
graft_export_page_get_exported_path (GraftExportPage *self)
{
  g_return_val_if_fail (GRAFT_IS_EXPORT_PAGE (self), NULL);
  return self->exported_path;
}

const char *
graft_export_page_get_error_message (GraftExportPage *self)
{
  g_return_val_if_fail (GRAFT_IS_EXPORT_PAGE (self), NULL);
  return self->error_message;
}
