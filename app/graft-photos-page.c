/* graft-photos-page.c: step 2, the user's labeled photos.
 *
 * A folder dropped or chosen is scanned in a worker thread (GTask); the
 * page then shows each category with its counts and a strip of
 * thumbnails (decoded in another worker, small), the split, and the
 * health report in plain words with the files each issue is about.
 * Several folders dropped at once are one category each: they are linked
 * into a private folder that is scanned like any other.
 */
#include "config.h"

#include "graft-photos-page.h"

#include "graft-thumbnail.h"
#include "train/trainer.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#define THUMBS_PER_CLASS 6
#define THUMB_SIZE 56
#define MAX_FILES_LISTED 50

struct _GraftPhotosPage
{
  AdwBin parent_instance;

  GtkWidget *drop_zone;
  GtkWidget *drop_title;
  GtkWidget *scan_box;
  GtkWidget *scan_spinner;
  GtkWidget *scan_label;
  GtkWidget *error_label;
  GtkWidget *summary_label;
  AdwPreferencesGroup *classes_group;
  GtkWidget *classes_list;
  AdwPreferencesGroup *health_group;
  GtkWidget *health_list;
  GtkWidget **thumb_strips; /* per class */

  GSettings *settings;
  GtkFileChooserNative *chooser;
  GCancellable *cancellable;
  GPtrArray *link_dirs; /* private folders for multi-folder drops */
  GraftDataset *dataset;
  char *error_message;
  int min_side;
  gint files_seen; /* atomic: the scan's progress */
  guint progress_source;
  guint n_thumbnails;
  gboolean scanning;
};

G_DEFINE_FINAL_TYPE (GraftPhotosPage, graft_photos_page, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_SCANNING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- showing a dataset ---- */

static void
clear_list (GtkWidget *list)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (list), child);
}

static GtkWidget *
class_row_new (GraftPhotosPage *self, int index, int n_train, int n_val)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *head = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *name = gtk_label_new (self->dataset->classes[index]);
  g_autofree char *counts_text
      /* Translators: counts of photos of one category */
      = g_strdup_printf (_ ("%d for training, %d for checking"), n_train,
                         n_val);
  GtkWidget *counts = gtk_label_new (counts_text);
  GtkWidget *strip = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_widget_set_margin_top (box, 10);
  gtk_widget_set_margin_bottom (box, 10);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_label_set_xalign (GTK_LABEL (name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (name, TRUE);
  gtk_widget_add_css_class (name, "heading");
  gtk_widget_add_css_class (counts, "dim-label");
  gtk_widget_add_css_class (counts, "numeric");
  gtk_box_append (GTK_BOX (head), name);
  gtk_box_append (GTK_BOX (head), counts);
  gtk_box_append (GTK_BOX (box), head);
  gtk_widget_set_overflow (strip, GTK_OVERFLOW_HIDDEN);
  gtk_box_append (GTK_BOX (box), strip);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  self->thumb_strips[index] = strip;
  return row;
}

static const char *
severity_icon (GraftSeverity severity)
{
  switch (severity)
    {
    case GRAFT_SEVERITY_ERROR:
      return "dialog-error-symbolic";
    case GRAFT_SEVERITY_WARNING:
      return "dialog-warning-symbolic";
    default:
      return "dialog-information-symbolic";
    }
}

static GtkWidget *
issue_row_new (const GraftDatasetIssue *issue)
{
  GtkWidget *row;
  GtkWidget *icon =
      gtk_image_new_from_icon_name (severity_icon (issue->severity));
  guint n_files = issue->files ? g_strv_length (issue->files) : 0;

  if (issue->severity == GRAFT_SEVERITY_ERROR)
    gtk_widget_add_css_class (icon, "error");
  else if (issue->severity == GRAFT_SEVERITY_WARNING)
    gtk_widget_add_css_class (icon, "warning");
  if (n_files == 0)
    {
      row = adw_action_row_new ();
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
    }
  else
    {
      g_autofree char *subtitle = g_strdup_printf (
          g_dngettext (GETTEXT_PACKAGE, "%u file", "%u files", n_files),
          n_files);
      row = adw_expander_row_new ();
      adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);
      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), subtitle);
      for (guint i = 0; i < n_files && i < MAX_FILES_LISTED; i++)
        {
          GtkWidget *file_row = adw_action_row_new ();
          g_autofree char *base = g_filename_display_basename (issue->files[i]);
          g_autofree char *dir_path = g_path_get_dirname (issue->files[i]);
          g_autofree char *dir = g_filename_display_name (dir_path);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (file_row), base);
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (file_row),
                                              FALSE);
          adw_action_row_set_subtitle (ADW_ACTION_ROW (file_row), dir);
          adw_expander_row_add_row (ADW_EXPANDER_ROW (row), file_row);
        }
      if (n_files > MAX_FILES_LISTED)
        {
          GtkWidget *more = adw_action_row_new ();
          g_autofree char *text =
              g_strdup_printf (_ ("… and %u more"), n_files - MAX_FILES_LISTED);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (more), text);
          adw_expander_row_add_row (ADW_EXPANDER_ROW (row), more);
        }
    }
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), issue->message);
  gtk_widget_add_css_class (row, "issue-row");
  return row;
}

static void
thumbs_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GraftPhotosPage) self = user_data;
  g_autoptr (GPtrArray) thumbs = graft_thumbnails_load_finish (res, NULL);
  g_autoptr (GArray) shown = NULL;
  int *count;

  if (thumbs == NULL || self->dataset == NULL)
    return; /* cancelled: a newer scan replaced these */
  /* The thumbnails come in the order they were asked for: per class, the
   * first THUMBS_PER_CLASS training photos. */
  count = g_new0 (int, self->dataset->n_classes);
  for (guint i = 0, t = 0; i < self->dataset->items->len && t < thumbs->len;
       i++)
    {
      const GraftDatasetItem *item =
          &g_array_index (self->dataset->items, GraftDatasetItem, i);
      g_autofree char *name = NULL;
      if (count[item->label] >= THUMBS_PER_CLASS)
        continue;
      count[item->label]++;
      name = g_filename_display_basename (item->path);
      gtk_box_append (
          GTK_BOX (self->thumb_strips[item->label]),
          graft_thumbnail_picture (thumbs->pdata[t++], THUMB_SIZE, name));
      self->n_thumbnails++;
    }
  g_free (count);
}

static void
start_thumbnails (GraftPhotosPage *self)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new ();
  int *count = g_new0 (int, self->dataset->n_classes);

  for (guint i = 0; i < self->dataset->items->len; i++)
    {
      const GraftDatasetItem *item =
          &g_array_index (self->dataset->items, GraftDatasetItem, i);
      if (count[item->label] >= THUMBS_PER_CLASS)
        continue;
      count[item->label]++;
      g_ptr_array_add (paths, item->path);
    }
  g_free (count);
  graft_thumbnails_load_async ((const char *const *) paths->pdata,
                               (int) paths->len, THUMB_SIZE, self->cancellable,
                               thumbs_done, g_object_ref (self));
}

static void
show_dataset (GraftPhotosPage *self)
{
  const GraftDataset *ds = self->dataset;
  g_autofree int *n_train = g_new0 (int, MAX (ds->n_classes, 1));
  g_autofree int *n_val = g_new0 (int, MAX (ds->n_classes, 1));
  int total_train = 0, total_val = 0;
  g_autofree char *summary = NULL;
  g_autofree char *root = g_filename_display_name (ds->root);

  graft_dataset_count (ds, n_train, n_val);
  g_free (self->thumb_strips);
  self->thumb_strips = g_new0 (GtkWidget *, MAX (ds->n_classes, 1));
  self->n_thumbnails = 0;
  clear_list (self->classes_list);
  for (int c = 0; c < ds->n_classes; c++)
    {
      gtk_list_box_append (GTK_LIST_BOX (self->classes_list),
                           class_row_new (self, c, n_train[c], n_val[c]));
      total_train += n_train[c];
      total_val += n_val[c];
    }
  if (ds->given_split)
    summary = g_strdup_printf (
        _ ("%d photos in %d categories. Your own training and validation "
           "folders are used "
           "as they are: %d photos to learn from, %d to check the model on."),
        total_train + total_val, ds->n_classes, total_train, total_val);
  else
    summary = g_strdup_printf (_ ("%d photos in %d categories. Graft set aside "
                                  "%d of them (about one in five of "
                                  "each category) to check the model on photos "
                                  "it never learned from; it learns "
                                  "from the other %d."),
                               total_train + total_val, ds->n_classes,
                               total_val, total_train);
  gtk_label_set_text (GTK_LABEL (self->summary_label), summary);
  gtk_widget_set_visible (self->summary_label, TRUE);
  adw_preferences_group_set_description (self->classes_group, root);
  gtk_widget_set_visible (GTK_WIDGET (self->classes_group), ds->n_classes > 0);

  clear_list (self->health_list);
  for (guint i = 0; i < ds->issues->len; i++)
    gtk_list_box_append (GTK_LIST_BOX (self->health_list),
                         issue_row_new (ds->issues->pdata[i]));
  if (ds->issues->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *icon = gtk_image_new_from_icon_name ("emblem-ok-symbolic");
      gtk_widget_add_css_class (icon, "success");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
      adw_preferences_row_set_title (
          ADW_PREFERENCES_ROW (row),
          _ ("No problems found: the photos are ready."));
      gtk_list_box_append (GTK_LIST_BOX (self->health_list), row);
    }
  adw_preferences_group_set_description (
      self->health_group, graft_dataset_usable (ds)
                              ? _ ("Things worth knowing before training. Open "
                                   "an entry to see its files.")
                              : _ ("Training cannot start until the problems "
                                   "marked in red are fixed. Open an "
                                   "entry to see its files."));
  gtk_widget_set_visible (GTK_WIDGET (self->health_group), TRUE);
  gtk_label_set_text (GTK_LABEL (self->drop_title),
                      _ ("Drop Another Folder Here"));
  start_thumbnails (self);
}

/* ---- scanning ---- */

static void
set_scanning (GraftPhotosPage *self, gboolean scanning)
{
  if (self->scanning == scanning)
    return;
  self->scanning = scanning;
  gtk_widget_set_visible (self->scan_box, scanning);
  gtk_spinner_set_spinning (GTK_SPINNER (self->scan_spinner), scanning);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCANNING]);
}

typedef struct
{
  char *root;
  int min_side;
  gint *files_seen;
} ScanJob;

static void
scan_job_free (gpointer data)
{
  ScanJob *job = data;

  g_free (job->root);
  g_free (job);
}

static void
scan_progress (int files_seen, gpointer user)
{
  g_atomic_int_set ((gint *) user, files_seen);
}

static void
scan_thread (GTask *task,
             gpointer source,
             gpointer data,
             GCancellable *cancellable)
{
  ScanJob *job = data;
  GraftDatasetOptions options;
  GraftTrainConfig config;
  GError *error = NULL;
  GraftDataset *ds;

  /* The split seed graft-cli train uses, so both split alike. */
  graft_train_config_init (&config);
  graft_dataset_options_init (&options);
  options.seed = config.seed;
  options.min_side = job->min_side;
  ds = graft_dataset_scan (job->root, &options, cancellable, scan_progress,
                           job->files_seen, &error);
  graft_train_config_clear (&config);
  if (ds == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ds, (GDestroyNotify) graft_dataset_free);
}

static gboolean
update_scan_progress (gpointer user_data)
{
  GraftPhotosPage *self = user_data;
  int seen = g_atomic_int_get (&self->files_seen);
  g_autofree char *text = g_strdup_printf (
      g_dngettext (GETTEXT_PACKAGE, "Looking through the photos… %d file",
                   "Looking through the photos… %d files", seen),
      seen);

  gtk_label_set_text (GTK_LABEL (self->scan_label), text);
  return G_SOURCE_CONTINUE;
}

static void
scan_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GraftPhotosPage) self = user_data;
  g_autoptr (GError) error = NULL;
  GraftDataset *ds = g_task_propagate_pointer (G_TASK (res), &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_task_get_cancellable (G_TASK (res)) != self->cancellable)
    {
      g_clear_pointer (&ds, graft_dataset_free);
      return; /* a newer scan is running */
    }
  g_clear_handle_id (&self->progress_source, g_source_remove);
  if (ds == NULL)
    {
      g_free (self->error_message);
      self->error_message = g_strdup (error->message);
      gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
      gtk_widget_set_visible (self->error_label, TRUE);
    }
  else
    {
      self->dataset = ds;
      show_dataset (self);
    }
  set_scanning (self, FALSE);
}

static void
start_scan (GraftPhotosPage *self, const char *root)
{
  g_autoptr (GTask) task = NULL;
  ScanJob *job = g_new0 (ScanJob, 1);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_clear_pointer (&self->dataset, graft_dataset_free);
  g_clear_pointer (&self->error_message, g_free);
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_widget_set_visible (self->summary_label, FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->classes_group), FALSE);
  gtk_widget_set_visible (GTK_WIDGET (self->health_group), FALSE);

  job->root = g_strdup (root);
  job->min_side = self->min_side;
  job->files_seen = &self->files_seen;
  g_atomic_int_set (&self->files_seen, 0);
  /* The page outlives the task: it holds a reference until scan_done. */
  task = g_task_new (NULL, self->cancellable, scan_done, g_object_ref (self));
  g_task_set_task_data (task, job, scan_job_free);
  g_task_run_in_thread (task, scan_thread);
  update_scan_progress (self);
  if (self->progress_source == 0)
    self->progress_source = g_timeout_add (100, update_scan_progress, self);
  set_scanning (self, TRUE);
}

/* Several folders, one category each: linked side by side in a private
 * folder, named as the folders are. */
static char *
link_folders (GraftPhotosPage *self,
              GFile *const *folders,
              int n,
              GError **error)
{
  g_autofree char *dir = g_dir_make_tmp ("graft-classes-XXXXXX", error);

  if (dir == NULL)
    return NULL;
  g_ptr_array_add (self->link_dirs, g_strdup (dir));
  for (int i = 0; i < n; i++)
    {
      g_autofree char *target = g_file_get_path (folders[i]);
      g_autofree char *name = g_file_get_basename (folders[i]);
      g_autofree char *link = g_build_filename (dir, name, NULL);
      if (target == NULL || symlink (target, link) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _ ("Cannot use the folder “%s” as a category"), name);
          return NULL;
        }
    }
  return g_steal_pointer (&dir);
}

void
graft_photos_page_load (GraftPhotosPage *self, GFile *const *folders, int n)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *root = NULL;

  g_return_if_fail (GRAFT_IS_PHOTOS_PAGE (self));
  if (n <= 0)
    return;
  if (n == 1)
    root = g_file_get_path (folders[0]);
  else
    root = link_folders (self, folders, n, &error);
  if (root == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->error_label),
                          error ? error->message
                                : _ ("Only local folders can be used."));
      gtk_widget_set_visible (self->error_label, TRUE);
      return;
    }
  if (self->settings != NULL && n == 1)
    g_settings_set_string (self->settings, "last-folder", root);
  start_scan (self, root);
}

/* ---- choosing and dropping ---- */

static void
on_chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  GraftPhotosPage *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file =
          gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        graft_photos_page_load (self, &file, 1);
    }
  g_clear_object (&self->chooser);
}

void
graft_photos_page_choose_folder (GraftPhotosPage *self)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (
      _ ("Choose a Folder of Photos"),
      GTK_IS_WINDOW (native) ? GTK_WINDOW (native) : NULL,
      GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Choose"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  if (self->settings != NULL)
    {
      g_autofree char *last =
          g_settings_get_string (self->settings, "last-folder");
      if (last[0] != '\0')
        {
          g_autofree char *parent_path = g_path_get_dirname (last);
          g_autoptr (GFile) parent = g_file_new_for_path (parent_path);
          gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (self->chooser),
                                               parent, NULL);
        }
    }
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
  GraftPhotosPage *self = user_data;
  GSList *files = g_value_get_boxed (value);
  g_autoptr (GPtrArray) folders = g_ptr_array_new ();

  for (GSList *l = files; l != NULL; l = l->next)
    if (g_file_query_file_type (l->data, G_FILE_QUERY_INFO_NONE, NULL) ==
        G_FILE_TYPE_DIRECTORY)
      g_ptr_array_add (folders, l->data);
  if (folders->len == 0)
    {
      gtk_label_set_text (
          GTK_LABEL (self->error_label),
          _ ("Drop folders, not single files: one folder holding a folder "
             "per category, or one folder per category."));
      gtk_widget_set_visible (self->error_label, TRUE);
      return FALSE;
    }
  graft_photos_page_load (self, (GFile *const *) folders->pdata,
                          (int) folders->len);
  return TRUE;
}

static void
on_drop_hover (GtkDropTarget *target, GParamSpec *pspec, gpointer user_data)
{
  GraftPhotosPage *self = user_data;

  if (gtk_drop_target_get_current_drop (target) != NULL)
    gtk_widget_add_css_class (self->drop_zone, "drop-hover");
  else
    gtk_widget_remove_css_class (self->drop_zone, "drop-hover");
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
build_drop_zone (GraftPhotosPage *self)
{
  GtkWidget *zone = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *icon = gtk_image_new_from_icon_name ("folder-pictures-symbolic");
  GtkWidget *text =
      gtk_label_new (_ ("Put each category's photos in a folder of its own "
                        "(for example “cats” and "
                        "“dogs”), then drop the folder that holds them, or "
                        "drop the category folders "
                        "themselves."));
  GtkWidget *button = gtk_button_new_with_mnemonic (_ ("_Choose Folder…"));

  gtk_widget_add_css_class (zone, "card");
  gtk_widget_add_css_class (zone, "drop-zone");
  gtk_widget_set_margin_top (icon, 24);
  gtk_widget_set_margin_start (text, 24);
  gtk_widget_set_margin_end (text, 24);
  gtk_widget_set_margin_bottom (button, 24);
  gtk_image_set_pixel_size (GTK_IMAGE (icon), 64);
  gtk_widget_add_css_class (icon, "dim-label");
  self->drop_title = gtk_label_new (_ ("Drop a Folder of Photos Here"));
  gtk_widget_add_css_class (self->drop_title, "title-3");
  gtk_label_set_wrap (GTK_LABEL (self->drop_title), TRUE);
  gtk_label_set_wrap (GTK_LABEL (text), TRUE);
  gtk_label_set_justify (GTK_LABEL (text), GTK_JUSTIFY_CENTER);
  gtk_widget_add_css_class (text, "dim-label");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.open-folder");
  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "pill");
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_box_append (GTK_BOX (zone), icon);
  gtk_box_append (GTK_BOX (zone), self->drop_title);
  gtk_box_append (GTK_BOX (zone), text);
  gtk_box_append (GTK_BOX (zone), button);
  return zone;
}

static GtkWidget *
group_with_list (AdwPreferencesGroup **group,
                 GtkWidget **list,
                 const char *title)
{
  *group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_title (*group, title);
  *list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (*list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (*list, "boxed-list");
  adw_preferences_group_add (*group, *list);
  gtk_widget_set_visible (GTK_WIDGET (*group), FALSE);
  return GTK_WIDGET (*group);
}

static void
graft_photos_page_init (GraftPhotosPage *self)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 18);
  GtkDropTarget *drop =
      gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  self->link_dirs = g_ptr_array_new_with_free_func (g_free);
  self->cancellable = g_cancellable_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  adw_clamp_set_maximum_size (ADW_CLAMP (clamp), 920);
  adw_clamp_set_tightening_threshold (ADW_CLAMP (clamp), 640);
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);

  gtk_box_append (GTK_BOX (box), label_new (_ ("Add Your Photos"), "title-2"));
  gtk_box_append (
      GTK_BOX (box),
      label_new (_ ("Graft learns your categories from examples. A few dozen "
                    "photos per category is enough to start; more gives a "
                    "better model."),
                 NULL));
  self->drop_zone = build_drop_zone (self);
  gtk_box_append (GTK_BOX (box), self->drop_zone);

  self->scan_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  self->scan_spinner = gtk_spinner_new ();
  self->scan_label = label_new (NULL, "dim-label");
  gtk_box_append (GTK_BOX (self->scan_box), self->scan_spinner);
  gtk_box_append (GTK_BOX (self->scan_box), self->scan_label);
  gtk_widget_set_visible (self->scan_box, FALSE);
  gtk_box_append (GTK_BOX (box), self->scan_box);

  self->error_label = label_new (NULL, "error");
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_box_append (GTK_BOX (box), self->error_label);
  self->summary_label = label_new (NULL, NULL);
  gtk_widget_set_visible (self->summary_label, FALSE);
  gtk_box_append (GTK_BOX (box), self->summary_label);

  gtk_box_append (GTK_BOX (box),
                  group_with_list (&self->classes_group, &self->classes_list,
                                   _ ("Categories")));
  gtk_box_append (GTK_BOX (box),
                  group_with_list (&self->health_group, &self->health_list,
                                   _ ("Health Check")));

  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  adw_bin_set_child (ADW_BIN (self), scrolled);

  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  g_signal_connect (drop, "notify::current-drop", G_CALLBACK (on_drop_hover),
                    self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
}

static void
graft_photos_page_dispose (GObject *object)
{
  GraftPhotosPage *self = GRAFT_PHOTOS_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->progress_source, g_source_remove);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (graft_photos_page_parent_class)->dispose (object);
}

static void
graft_photos_page_finalize (GObject *object)
{
  GraftPhotosPage *self = GRAFT_PHOTOS_PAGE (object);

  for (guint i = 0; i < self->link_dirs->len; i++)
    {
      /* Only the links go: the user's folders stay untouched. */
      const char *dir = self->link_dirs->pdata[i];
      g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
      const char *name;
      while (d && (name = g_dir_read_name (d)) != NULL)
        {
          g_autofree char *link = g_build_filename (dir, name, NULL);
          g_unlink (link);
        }
      g_rmdir (dir);
    }
  g_ptr_array_unref (self->link_dirs);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->dataset, graft_dataset_free);
  g_free (self->thumb_strips);
  g_free (self->error_message);
  G_OBJECT_CLASS (graft_photos_page_parent_class)->finalize (object);
}

static void
graft_photos_page_get_property (GObject *object,
                                guint prop_id,
                                GValue *value,
                                GParamSpec *pspec)
{
  GraftPhotosPage *self = GRAFT_PHOTOS_PAGE (object);

  switch (prop_id)
    {
    case PROP_SCANNING:
      g_value_set_boolean (value, self->scanning);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_photos_page_class_init (GraftPhotosPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = graft_photos_page_dispose;
  object_class->finalize = graft_photos_page_finalize;
  object_class->get_property = graft_photos_page_get_property;
  properties[PROP_SCANNING] = g_param_spec_boolean (
      "scanning", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

/* ---- public ---- */

GtkWidget *
graft_photos_page_new (void)
{
  return g_object_new (GRAFT_TYPE_PHOTOS_PAGE, NULL);
}

void
graft_photos_page_set_settings (GraftPhotosPage *self, GSettings *settings)
{
  g_return_if_fail (GRAFT_IS_PHOTOS_PAGE (self));
  g_set_object (&self->settings, settings);
}

void
graft_photos_page_set_min_side (GraftPhotosPage *self, int min_side)
{
  g_return_if_fail (GRAFT_IS_PHOTOS_PAGE (self));
  self->min_side = min_side;
}

gboolean
graft_photos_page_get_scanning (GraftPhotosPage *self)
{
  g_return_val_if_fail (GRAFT_IS_PHOTOS_PAGE (self), FALSE);
  return self->scanning;
}

const GraftDataset *
graft_photos_page_get_dataset (GraftPhotosPage *self)
{
  g_return_val_if_fail (GRAFT_IS_PHOTOS_PAGE (self), NULL);
  return self->dataset;
}

const char *
graft_photos_page_get_error_message (GraftPhotosPage *self)
{
  g_return_val_if_fail (GRAFT_IS_PHOTOS_PAGE (self), NULL);
  return self->error_message;
}

guint
graft_photos_page_get_n_thumbnails (GraftPhotosPage *self)
{
  g_return_val_if_fail (GRAFT_IS_PHOTOS_PAGE (self), 0);
  return self->n_thumbnails;
}
