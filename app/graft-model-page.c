/* graft-model-page.c: step 1, choosing the base model.
 *
 * Lists the bundled models with the facts that matter when choosing one
 * (accuracy, speed, photo size, size on disk, licence), lets the user open
 * any ONNX file instead, and reads the chosen model in a worker thread to
 * show its layers. A failure to read shows the engine's message in place
 * of the layer table.
 */
#include "config.h"

#include "graft-model-page.h"

#include "preprocess.h"

#include "graft-layer.h"
#include "graft-model-info.h"
#include "graft-try-photo.h"
#include "model-catalog.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>

/* The bundled models are Google's MobileNets from the Coral test data,
 * see data/models/LICENSE.coral-test-data. */
#define BUNDLED_LICENCE "Apache 2.0"

struct _GraftModelPage
{
  AdwBin parent_instance;

  /* template */
  GtkListBox *model_list;
  GtkLabel *facts_note;
  AdwPreferencesGroup *details_group;
  GtkStack *details_stack;
  GtkSpinner *spinner;
  AdwStatusPage *error_status;
  GtkColumnView *layer_view;
  GtkColumnViewColumn *index_column;
  GraftTryPhoto *try_photo;
  GtkWidget *preparation_box; /* above the layer table */
  GtkWidget *preparation_label;
  GtkWidget *preparation_exact;

  GListStore *layers;
  GSettings *settings;
  GtkCheckButton *radio_group; /* the first row's radio */
  GtkWidget *file_row;         /* the user's own model, or NULL */
  GtkFileChooserNative *chooser;
  GCancellable *load_cancellable;

  GraftGraph *graph;
  char *model_path;
  char *model_title;
  char *error_message;
  gboolean loading;
};

G_DEFINE_FINAL_TYPE (GraftModelPage, graft_model_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_MODEL_PATH,
  PROP_MODEL_TITLE,
  PROP_LOADING,
  PROP_ERROR_MESSAGE,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* What a row of the model list stands for; attached to the row. */
typedef struct
{
  char *path; /* NULL when a bundled file is missing */
  char *title;
  char *setting;  /* catalog id, or the path for the user's files */
  int input_size; /* 0 when the model decides */
  GtkCheckButton *radio;
} ModelChoice;

static void
model_choice_free (gpointer data)
{
  ModelChoice *choice = data;

  g_free (choice->path);
  g_free (choice->title);
  g_free (choice->setting);
  g_free (choice);
}

static ModelChoice *
row_get_choice (GtkWidget *row)
{
  return g_object_get_data (G_OBJECT (row), "graft-model-choice");
}

/* ---- showing the state ---- */

/* g_set_str() arrived in GLib 2.76. */
static gboolean
set_str (char **str_pointer, const char *new_str)
{
  if (g_strcmp0 (*str_pointer, new_str) == 0)
    return FALSE;
  g_free (*str_pointer);
  *str_pointer = g_strdup (new_str);
  return TRUE;
}

static void
set_loading (GraftModelPage *self, gboolean loading)
{
  if (self->loading == loading)
    return;
  self->loading = loading;
  gtk_spinner_set_spinning (self->spinner, loading);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_error_message (GraftModelPage *self, const char *message)
{
  if (set_str (&self->error_message, message))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR_MESSAGE]);
}

static char *
format_params (gint64 n_params)
{
  if (n_params >= 1000000)
    /* Translators: a parameter count, e.g. "3.5 million" */
    return g_strdup_printf (_ ("%.1f million"), n_params / 1e6);
  return g_strdup_printf ("%'" G_GINT64_FORMAT, n_params);
}

/* How photos are prepared for the model, in plain words, with the exact
 * colour scaling below for those who want it. Hidden when the model's
 * metadata cannot be read (the layer table then says why). */
static void
show_preparation (GraftModelPage *self, const GraftModelInfo *result)
{
  GraftPreprocess pp;
  g_autofree char *prepared = NULL;
  g_autofree char *exact = NULL;
  g_autofree char *scaling = NULL;

  if (result->graph == NULL ||
      !graft_preprocess_from_model (&pp, result->graph->model, NULL))
    {
      gtk_widget_set_visible (self->preparation_box, FALSE);
      return;
    }
  if (pp.central_crop < 1.0)
    prepared = g_strdup_printf (
        /* Translators: %.0f%% is a share of the photo's shorter side, e.g.
         * "88%"; %d × %d a size in pixels */
        _ ("Before the model sees a photo, Graft keeps its center (%.0f%% of "
           "the shorter side) and resizes it to %d × %d pixels, the way the "
           "model's own photos were prepared when it learned."),
        100 * pp.central_crop, pp.width, pp.height);
  else
    prepared = g_strdup_printf (
        _ ("Before the model sees a photo, Graft crops it to a square and "
           "resizes it to %d × %d pixels, the way the model's own photos "
           "were prepared when it learned."),
        pp.width, pp.height);
  scaling = g_strdup_printf (
      /* Translators: for experts: how color values (0 to 1) are scaled */
      _ ("crop %.1f%%; color values v become (v − mean) ÷ standard deviation "
         "with mean %.3g, %.3g, %.3g and standard deviation %.3g, %.3g, %.3g "
         "(red, green, blue)."),
      100 * pp.central_crop, pp.mean[0], pp.mean[1], pp.mean[2], pp.std[0],
      pp.std[1], pp.std[2]);
  if (result->input_text != NULL)
    exact = g_strdup_printf (
        /* Translators: the first %s is a shape such as 1 × 3 × 224 × 224,
         * the second the color scaling */
        _ ("For experts: input %s (batch, color channels, height, width); "
           "%s"),
        result->input_text, scaling);
  else
    /* Translators: %s is the color scaling */
    exact = g_strdup_printf (_ ("For experts: %s"), scaling);
  gtk_label_set_text (GTK_LABEL (self->preparation_label), prepared);
  gtk_label_set_text (GTK_LABEL (self->preparation_exact), exact);
  gtk_widget_set_visible (self->preparation_box, TRUE);
}

static void
show_result (GraftModelPage *self, GraftModelInfo *result)
{
  g_autofree char *params = format_params (result->n_params);
  g_autofree char *summary = NULL;
  int n_layers = (int) result->layers->len;

  g_list_store_splice (self->layers, 0,
                       g_list_model_get_n_items (G_LIST_MODEL (self->layers)),
                       result->layers->pdata, result->layers->len);

  if (result->shape_error != NULL)
    summary = g_strdup_printf (
        /* Translators: the first %s is a model name, the last is a reason */
        g_dngettext (GETTEXT_PACKAGE,
                     "%s has %d layer and %s parameters. Output shapes are "
                     "unknown: %s.",
                     "%s has %d layers and %s parameters. Output shapes are "
                     "unknown: %s.",
                     n_layers),
        self->model_title, n_layers, params, result->shape_error);
  else
    summary = g_strdup_printf (
        /* Translators: %s is a model name, then a parameter count */
        g_dngettext (GETTEXT_PACKAGE,
                     "%s has %d layer and %s parameters: the numbers it "
                     "learned, which training adjusts.",
                     "%s has %d layers and %s parameters: the numbers it "
                     "learned, which training adjusts.",
                     n_layers),
        self->model_title, n_layers, params);
  show_preparation (self, result);
  adw_preferences_group_set_description (self->details_group, summary);

  g_clear_pointer (&self->graph, graft_graph_free);
  self->graph = g_steal_pointer (&result->graph);
  gtk_stack_set_visible_child_name (self->details_stack, "layers");
}

static void
show_error (GraftModelPage *self, const GError *error)
{
  g_autofree char *escaped = g_markup_escape_text (error->message, -1);
  g_autofree char *description = NULL;
  GtkWidget *overlay;

  /* Status page descriptions and toast titles are markup. */
  description = g_strdup_printf (
      "%s\n\n%s", escaped,
      _ ("Graft can use image classification models saved in the ONNX "
         "format."));
  adw_status_page_set_description (self->error_status, description);
  adw_preferences_group_set_description (self->details_group, NULL);
  gtk_widget_set_visible (self->preparation_box, FALSE);
  gtk_stack_set_visible_child_name (self->details_stack, "error");
  set_error_message (self, error->message);

  /* The details may be scrolled out of sight: say it where it is seen. */
  overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  if (overlay != NULL)
    {
      g_autofree char *title = g_markup_escape_text (self->model_title, -1);
      adw_toast_overlay_add_toast (
          ADW_TOAST_OVERLAY (overlay),
          adw_toast_new_format (_ ("“%s” cannot be used: see Layers below"),
                                title));
    }
}

static void
load_done (GObject *source_object, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GraftModelPage) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GraftModelInfo) info = NULL;

  info = graft_model_info_load_finish (res, &error);
  /* A newer choice (or dispose) replaced this one: nothing to show. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->load_cancellable);

  if (info == NULL)
    show_error (self, error);
  else
    show_result (self, info);
  set_loading (self, FALSE);
}

static void
start_load (GraftModelPage *self, ModelChoice *choice)
{
  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  self->load_cancellable = g_cancellable_new ();

  g_list_store_remove_all (self->layers);
  g_clear_pointer (&self->graph, graft_graph_free);
  set_error_message (self, NULL);
  adw_preferences_group_set_description (self->details_group, NULL);
  gtk_widget_set_visible (self->preparation_box, FALSE);
  gtk_stack_set_visible_child_name (self->details_stack, "loading");
  set_loading (self, TRUE);

  /* The page stays alive until the load reports. */
  graft_model_info_load_async (choice->path, choice->input_size,
                               self->load_cancellable, load_done,
                               g_object_ref (self));
}

/* ---- choosing ---- */

static void
choose (GraftModelPage *self, ModelChoice *choice)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (set_str (&self->model_path, choice->path))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_PATH]);
  if (set_str (&self->model_title, choice->title))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_TITLE]);
  g_object_thaw_notify (G_OBJECT (self));

  if (self->settings != NULL)
    g_settings_set_string (self->settings, "last-model", choice->setting);
  start_load (self, choice);
}

static void
on_radio_toggled (GtkCheckButton *radio, gpointer user_data)
{
  GtkWidget *row = user_data;
  GraftModelPage *self;
  ModelChoice *choice = row_get_choice (row);

  if (!gtk_check_button_get_active (radio))
    return;
  self =
      GRAFT_MODEL_PAGE (gtk_widget_get_ancestor (row, GRAFT_TYPE_MODEL_PAGE));
  if (self != NULL && g_strcmp0 (self->model_path, choice->path) != 0)
    choose (self, choice);
}

static void
on_model_row_activated (GtkListBox *list,
                        GtkListBoxRow *row,
                        GraftModelPage *self)
{
  ModelChoice *choice = row_get_choice (GTK_WIDGET (row));

  if (choice != NULL && choice->path != NULL)
    gtk_check_button_set_active (choice->radio, TRUE);
}

/* ---- the model rows ---- */

/* Appends "Caption value" to a facts line. Spaces inside a fact do not
 * break, so a narrow window wraps between facts, never inside one. */
static void
add_fact (GString *facts, const char *caption, const char *value)
{
  g_autofree char *caption_escaped = g_markup_escape_text (caption, -1);
  g_autofree char *value_escaped = g_markup_escape_text (value, -1);
  g_autoptr (GString) caption_markup = g_string_new (caption_escaped);
  g_autoptr (GString) value_markup = g_string_new (value_escaped);

  g_string_replace (caption_markup, " ", "\u00a0", 0);
  g_string_replace (value_markup, " ", "\u00a0", 0);
  if (facts->len > 0)
    g_string_append (facts, "\u2003 ");
  g_string_append_printf (facts, "<span alpha=\"55%%\">%s</span>\u00a0",
                          caption_markup->str);
  g_string_append (facts, value_markup->str);
}

static char *
size_on_disk (const char *path)
{
  GStatBuf st;

  if (path == NULL || g_stat (path, &st) != 0)
    return g_strdup (_ ("unknown"));
  return g_format_size ((guint64) st.st_size);
}

/* A row with a radio, a title (and a tag), a sentence, and the facts. */
static GtkWidget *
model_row_new (GraftModelPage *self,
               ModelChoice *choice,
               const char *summary,
               const char *tag,
               const char *facts_markup)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *vbox = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *title_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *radio = gtk_check_button_new ();
  GtkWidget *title = gtk_label_new (choice->title);
  GtkWidget *summary_label = gtk_label_new (summary);
  GtkWidget *facts = gtk_label_new (NULL);

  gtk_widget_set_margin_top (hbox, 12);
  gtk_widget_set_margin_bottom (hbox, 12);
  gtk_widget_set_margin_start (hbox, 12);
  gtk_widget_set_margin_end (hbox, 12);

  gtk_widget_set_valign (radio, GTK_ALIGN_CENTER);
  gtk_widget_set_focusable (radio, FALSE);
  if (self->radio_group == NULL)
    self->radio_group = GTK_CHECK_BUTTON (radio);
  else
    gtk_check_button_set_group (GTK_CHECK_BUTTON (radio), self->radio_group);
  choice->radio = GTK_CHECK_BUTTON (radio);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (title_box), title);
  if (tag != NULL)
    {
      GtkWidget *tag_label = gtk_label_new (tag);
      gtk_widget_set_valign (tag_label, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (tag_label, "model-tag");
      gtk_box_append (GTK_BOX (title_box), tag_label);
    }

  gtk_label_set_xalign (GTK_LABEL (summary_label), 0);
  gtk_label_set_wrap (GTK_LABEL (summary_label), TRUE);
  gtk_label_set_natural_wrap_mode (GTK_LABEL (summary_label),
                                   GTK_NATURAL_WRAP_NONE);

  gtk_label_set_markup (GTK_LABEL (facts), facts_markup);
  gtk_label_set_xalign (GTK_LABEL (facts), 0);
  gtk_label_set_wrap (GTK_LABEL (facts), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (facts), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_natural_wrap_mode (GTK_LABEL (facts), GTK_NATURAL_WRAP_NONE);
  gtk_widget_add_css_class (facts, "model-facts");

  gtk_widget_set_hexpand (vbox, TRUE);
  gtk_box_append (GTK_BOX (vbox), title_box);
  gtk_box_append (GTK_BOX (vbox), summary_label);
  gtk_box_append (GTK_BOX (vbox), facts);
  gtk_box_append (GTK_BOX (hbox), radio);
  gtk_box_append (GTK_BOX (hbox), vbox);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), hbox);

  gtk_accessible_update_property (
      GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, choice->title,
      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, summary, -1);
  gtk_accessible_update_relation (GTK_ACCESSIBLE (radio),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, title,
                                  NULL, -1);

  g_object_set_data_full (G_OBJECT (row), "graft-model-choice", choice,
                          model_choice_free);
  g_signal_connect_object (radio, "toggled", G_CALLBACK (on_radio_toggled), row,
                           0);
  return row;
}

static void
add_bundled_rows (GraftModelPage *self)
{
  const GraftCatalogEntry *reference = graft_catalog_default ();
  const GraftCatalogEntry *entries;
  size_t n;

  entries = graft_catalog_entries (&n);
  for (size_t i = 0; i < n; i++)
    {
      const GraftCatalogEntry *entry = &entries[i];
      g_autoptr (GError) error = NULL;
      ModelChoice *choice = g_new0 (ModelChoice, 1);
      g_autoptr (GString) facts = g_string_new (NULL);
      GtkWidget *row;
      g_autofree char *accuracy = NULL;
      g_autofree char *speed = NULL;
      g_autofree char *photo = NULL;
      g_autofree char *size = NULL;

      choice->path = graft_catalog_entry_path (entry, &error);
      choice->title = g_strdup (entry->title);
      choice->setting = g_strdup (entry->id);
      choice->input_size = entry->input_size;

      /* Translators: ImageNet top-1 accuracy, e.g. "70.8 %" */
      accuracy = g_strdup_printf (_ ("%.1f %%"), entry->imagenet_top1);
      if (entry == reference)
        speed = g_strdup (_ ("reference"));
      else
        /* Translators: relative speed, e.g. "4.1× faster" */
        speed =
            g_strdup_printf (_ ("%g× faster"),
                             entry->relative_speed / reference->relative_speed);
      /* Translators: photo size in pixels, e.g. "224 × 224 px" */
      photo = g_strdup_printf (_ ("%d × %d px"), entry->input_size,
                               entry->input_size);
      size = size_on_disk (choice->path);

      add_fact (facts, _ ("Accuracy"), accuracy);
      add_fact (facts, _ ("Speed"), speed);
      add_fact (facts, _ ("Photo size"), photo);
      add_fact (facts, _ ("Size"), size);
      add_fact (facts, _ ("Licence"), BUNDLED_LICENCE);

      row = model_row_new (
          self, choice, choice->path != NULL ? entry->summary : error->message,
          entry->is_default ? _ ("Recommended") : NULL, facts->str);

      gtk_widget_set_sensitive (row, choice->path != NULL);
      gtk_list_box_append (self->model_list, row);
    }
}

/* Says what the numbers in the rows measure. */
static void
set_facts_note (GraftModelPage *self)
{
  g_autofree char *note = g_strdup_printf (
      /* Translators: %s is the name of the reference model */
      _ ("Accuracy is how often a model names a photo of the ImageNet "
         "collection right on its first guess; your own categories will "
         "score differently. Speed is how many photos a second a model "
         "processes, compared with %s. Photo "
         "size is the size photos are scaled to."),
      graft_catalog_default ()->title);

  gtk_label_set_label (self->facts_note, note);
}

/* Adds (or replaces) the row for the user's own file. */
static ModelChoice *
set_file_row (GraftModelPage *self, GFile *file)
{
  ModelChoice *choice = g_new0 (ModelChoice, 1);
  g_autofree char *size = NULL;
  g_autofree char *folder = NULL;
  g_autoptr (GFile) parent = g_file_get_parent (file);
  g_autoptr (GString) facts = g_string_new (NULL);

  choice->path = g_file_get_path (file);
  choice->title = g_filename_display_basename (choice->path);
  choice->setting = g_strdup (choice->path);

  if (self->file_row != NULL)
    gtk_list_box_remove (self->model_list, self->file_row);
  folder = parent != NULL ? g_file_get_parse_name (parent) : g_strdup ("/");
  size = size_on_disk (choice->path);
  add_fact (facts, _ ("Folder"), folder);
  add_fact (facts, _ ("Size"), size);
  self->file_row = model_row_new (self, choice, _ ("Your own model file."),
                                  NULL, facts->str);
  gtk_list_box_append (self->model_list, self->file_row);
  return choice;
}

/* ---- opening a file ---- */

static void
on_chooser_response (GtkNativeDialog *dialog,
                     int response,
                     GraftModelPage *self)
{
  g_autoptr (GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
  g_clear_object (&self->chooser);

  if (file == NULL)
    return;
  if (g_file_peek_path (file) == NULL)
    {
      AdwToast *toast =
          adw_toast_new (_ ("Only files on this computer can be opened"));
      GtkWidget *overlay =
          gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
      if (overlay != NULL)
        adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
      else
        g_object_unref (toast);
      return;
    }
  if (self->settings != NULL)
    {
      g_autoptr (GFile) parent = g_file_get_parent (file);
      g_autofree char *folder =
          parent != NULL ? g_file_get_path (parent) : NULL;
      if (folder != NULL)
        g_settings_set_string (self->settings, "last-folder", folder);
    }
  graft_model_page_select_file (self, file);
}

static void
open_file_action (GtkWidget *widget,
                  const char *action_name,
                  GVariant *parameter)
{
  GraftModelPage *self = GRAFT_MODEL_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr (GtkFileFilter) onnx_filter = gtk_file_filter_new ();
  g_autoptr (GtkFileFilter) all_filter = gtk_file_filter_new ();

  if (self->chooser != NULL)
    {
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
      return;
    }

  self->chooser = gtk_file_chooser_native_new (
      _ ("Open Model File"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
      GTK_FILE_CHOOSER_ACTION_OPEN, _ ("_Open"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);

  gtk_file_filter_set_name (onnx_filter, _ ("ONNX Models"));
  gtk_file_filter_add_suffix (onnx_filter, "onnx");
  gtk_file_filter_set_name (all_filter, _ ("All Files"));
  gtk_file_filter_add_pattern (all_filter, "*");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), onnx_filter);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all_filter);
  gtk_file_chooser_set_filter (GTK_FILE_CHOOSER (self->chooser), onnx_filter);

  if (self->settings != NULL)
    {
      g_autofree char *folder =
          g_settings_get_string (self->settings, "last-folder");
      if (folder[0] != '\0' && g_file_test (folder, G_FILE_TEST_IS_DIR))
        {
          g_autoptr (GFile) dir = g_file_new_for_path (folder);
          gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser),
                                               dir, NULL);
        }
    }

  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response),
                    self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- the first choice ---- */

static void
select_initial (GraftModelPage *self)
{
  g_autofree char *last = NULL;

  if (self->settings != NULL)
    last = g_settings_get_string (self->settings, "last-model");
  if (last != NULL && last[0] != '\0')
    {
      if (graft_model_page_select_bundled (self, last))
        return;
      if (g_file_test (last, G_FILE_TEST_IS_REGULAR))
        {
          g_autoptr (GFile) file = g_file_new_for_path (last);
          graft_model_page_select_file (self, file);
          return;
        }
    }
  graft_model_page_select_bundled (self, graft_catalog_default ()->id);
}

static void
graft_model_page_map (GtkWidget *widget)
{
  GraftModelPage *self = GRAFT_MODEL_PAGE (widget);

  GTK_WIDGET_CLASS (graft_model_page_parent_class)->map (widget);
  if (self->model_path == NULL && !self->loading)
    select_initial (self);
}

/* ---- GObject ---- */

static void
graft_model_page_dispose (GObject *object)
{
  GraftModelPage *self = GRAFT_MODEL_PAGE (object);

  if (self->load_cancellable != NULL)
    g_cancellable_cancel (self->load_cancellable);
  g_clear_object (&self->load_cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);
  self->file_row = NULL;
  self->radio_group = NULL;

  gtk_widget_dispose_template (GTK_WIDGET (self), GRAFT_TYPE_MODEL_PAGE);

  G_OBJECT_CLASS (graft_model_page_parent_class)->dispose (object);
}

static void
graft_model_page_finalize (GObject *object)
{
  GraftModelPage *self = GRAFT_MODEL_PAGE (object);

  g_clear_object (&self->layers);
  g_clear_pointer (&self->graph, graft_graph_free);
  g_clear_pointer (&self->model_path, g_free);
  g_clear_pointer (&self->model_title, g_free);
  g_clear_pointer (&self->error_message, g_free);

  G_OBJECT_CLASS (graft_model_page_parent_class)->finalize (object);
}

static void
graft_model_page_get_property (GObject *object,
                               guint prop_id,
                               GValue *value,
                               GParamSpec *pspec)
{
  GraftModelPage *self = GRAFT_MODEL_PAGE (object);

  switch (prop_id)
    {
    case PROP_MODEL_PATH:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_MODEL_TITLE:
      g_value_set_string (value, self->model_title);
      break;
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;
    case PROP_ERROR_MESSAGE:
      g_value_set_string (value, self->error_message);
      break;
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_model_page_set_property (GObject *object,
                               guint prop_id,
                               const GValue *value,
                               GParamSpec *pspec)
{
  GraftModelPage *self = GRAFT_MODEL_PAGE (object);

  switch (prop_id)
    {
    case PROP_SETTINGS:
      graft_model_page_set_settings (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_model_page_class_init (GraftModelPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = graft_model_page_dispose;
  object_class->finalize = graft_model_page_finalize;
  object_class->get_property = graft_model_page_get_property;
  object_class->set_property = graft_model_page_set_property;
  widget_class->map = graft_model_page_map;

  properties[PROP_MODEL_PATH] =
      g_param_spec_string ("model-path", NULL, NULL, NULL, ro);
  properties[PROP_MODEL_TITLE] =
      g_param_spec_string ("model-title", NULL, NULL, NULL, ro);
  properties[PROP_LOADING] =
      g_param_spec_boolean ("loading", NULL, NULL, FALSE, ro);
  properties[PROP_ERROR_MESSAGE] =
      g_param_spec_string ("error-message", NULL, NULL, NULL, ro);
  properties[PROP_SETTINGS] = g_param_spec_object (
      "settings", NULL, NULL, G_TYPE_SETTINGS,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* The layer table's factories look the item type up by name. */
  g_type_ensure (GRAFT_TYPE_LAYER);
  g_type_ensure (GRAFT_TYPE_TRY_PHOTO);

  gtk_widget_class_set_template_from_resource (
      widget_class, "/org/graft/Graft/ui/graft-model-page.ui");
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        model_list);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        facts_note);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        details_group);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        details_stack);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        preparation_box);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        preparation_label);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        preparation_exact);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        error_status);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        layer_view);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        index_column);
  gtk_widget_class_bind_template_child (widget_class, GraftModelPage,
                                        try_photo);
  gtk_widget_class_bind_template_callback (widget_class,
                                           on_model_row_activated);

  gtk_widget_class_install_action (widget_class, "model.open-file", NULL,
                                   open_file_action);
}

static void
graft_model_page_init (GraftModelPage *self)
{
  g_autoptr (GtkSortListModel) sorted = NULL;
  g_autoptr (GtkNoSelection) selection = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->layers = g_list_store_new (GRAFT_TYPE_LAYER);
  sorted = gtk_sort_list_model_new (
      G_LIST_MODEL (g_object_ref (self->layers)),
      g_object_ref (gtk_column_view_get_sorter (self->layer_view)));
  selection = gtk_no_selection_new (G_LIST_MODEL (g_steal_pointer (&sorted)));
  gtk_column_view_set_model (self->layer_view, GTK_SELECTION_MODEL (selection));
  /* Running order first: that is how the model reads a photo. */
  gtk_column_view_sort_by_column (self->layer_view, self->index_column,
                                  GTK_SORT_ASCENDING);

  /* The photo is tried on whichever model is chosen. */
  g_object_bind_property (self, "model-path", self->try_photo, "model-path",
                          G_BINDING_SYNC_CREATE);

  add_bundled_rows (self);
  set_facts_note (self);
}

/* ---- public ---- */

GtkWidget *
graft_model_page_new (void)
{
  return g_object_new (GRAFT_TYPE_MODEL_PAGE, NULL);
}

void
graft_model_page_set_settings (GraftModelPage *self, GSettings *settings)
{
  g_return_if_fail (GRAFT_IS_MODEL_PAGE (self));
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));

  if (g_set_object (&self->settings, settings))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SETTINGS]);
}

gboolean
graft_model_page_select_bundled (GraftModelPage *self, const char *id)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  for (GtkWidget *row =
           gtk_widget_get_first_child (GTK_WIDGET (self->model_list));
       row != NULL; row = gtk_widget_get_next_sibling (row))
    {
      ModelChoice *choice = row_get_choice (row);

      if (choice == NULL || row == self->file_row ||
          g_strcmp0 (choice->setting, id) != 0)
        continue;
      if (choice->path == NULL)
        return FALSE;
      if (gtk_check_button_get_active (choice->radio))
        {
          /* Already chosen, maybe by a load that failed: read it again. */
          if (!self->loading && self->graph == NULL)
            choose (self, choice);
        }
      else
        gtk_check_button_set_active (choice->radio, TRUE);
      return TRUE;
    }
  return FALSE;
}

void
graft_model_page_select_file (GraftModelPage *self, GFile *file)
{
  ModelChoice *choice;

  g_return_if_fail (GRAFT_IS_MODEL_PAGE (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (g_file_peek_path (file) != NULL);

  choice = set_file_row (self, file);
  /* The new radio starts inactive, so this always loads, even when the
   * same path is opened again after the file changed. */
  g_clear_pointer (&self->model_path, g_free);
  gtk_check_button_set_active (choice->radio, TRUE);
}

const char *
graft_model_page_get_model_path (GraftModelPage *self)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), NULL);
  return self->model_path;
}

const char *
graft_model_page_get_model_title (GraftModelPage *self)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), NULL);
  return self->model_title;
}

gboolean
graft_model_page_get_loading (GraftModelPage *self)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), FALSE);
  return self->loading;
}

GraftGraph *
graft_model_page_get_graph (GraftModelPage *self)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), NULL);
  return self->graph;
}

const char *
graft_model_page_get_error_message (GraftModelPage *self)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), NULL);
  return self->error_message;
}

GListModel *
graft_model_page_get_layers (GraftModelPage *self)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), NULL);
  return G_LIST_MODEL (self->layers);
}

GraftTryPhoto *
graft_model_page_get_try_photo (GraftModelPage *self)
{
  g_return_val_if_fail (GRAFT_IS_MODEL_PAGE (self), NULL);
  return self->try_photo;
}
