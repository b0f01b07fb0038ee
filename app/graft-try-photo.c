/* graft-try-photo.c: drop or choose a photo, see a model's best guesses.
 *
 * Reading a model takes a while, so the classifier is created in the
 * worker on the first photo and kept for the next ones. It lives in a
 * reference-counted cache tied to one path: changing the path drops the
 * widget's reference, and the last job still using it frees it, so the
 * main thread never waits for a worker.
 */
#include "config.h"

#include "graft-try-photo.h"

#include "classifier.h"
#include "graft-thumbnail.h"

#include <glib/gi18n.h>

#define PICTURE_SIZE 128
#define DEFAULT_TOP_K 5
#define MAX_TOP_K 100

typedef struct
{
  char *path;
  GMutex lock; /* guards classifier: its plan is not shared */
  GraftClassifier *classifier;
} ClassifierCache;

struct _GraftTryPhoto
{
  AdwBin parent_instance;

  GtkWidget *choose_button;
  GtkWidget *picture_box;
  GtkWidget *bars;
  GtkWidget *error_label;
  GtkFileChooserNative *chooser;

  char *model_path;
  ClassifierCache *cache; /* for model_path; NULL when there is none */
  int top_k;
  guint serial; /* of the last photo asked: older answers are dropped */
  guint n_running;
  char *top_label;
};

G_DEFINE_FINAL_TYPE (GraftTryPhoto, graft_try_photo, ADW_TYPE_BIN)

enum
{
  PROP_0,
  PROP_MODEL_PATH,
  PROP_TOP_K,
  PROP_BUSY,
  PROP_TOP_LABEL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ---- the classifier cache ---- */

static void
cache_clear (gpointer data)
{
  ClassifierCache *cache = data;

  g_clear_pointer (&cache->classifier, graft_classifier_free);
  g_mutex_clear (&cache->lock);
  g_free (cache->path);
}

static ClassifierCache *
cache_new (const char *path)
{
  ClassifierCache *cache = g_atomic_rc_box_new0 (ClassifierCache);

  cache->path = g_strdup (path);
  g_mutex_init (&cache->lock);
  return cache;
}

static void
cache_unref (ClassifierCache *cache)
{
  g_atomic_rc_box_release_full (cache, cache_clear);
}

/* ---- the worker ---- */

typedef struct
{
  ClassifierCache *cache;
  char *photo_path;
  int top_k;
  guint serial;
} TryJob;

typedef struct
{
  GraftPrediction *top; /* labels owned here */
  int k;
  GBytes *thumb;
} TryOutcome;

static void
try_job_free (gpointer data)
{
  TryJob *job = data;

  cache_unref (job->cache);
  g_free (job->photo_path);
  g_free (job);
}

static void
try_outcome_free (gpointer data)
{
  TryOutcome *outcome = data;

  for (int i = 0; i < outcome->k; i++)
    g_free ((char *) outcome->top[i].label);
  g_free (outcome->top);
  g_clear_pointer (&outcome->thumb, g_bytes_unref);
  g_free (outcome);
}

/* Classifies under the cache's lock, creating the classifier if needed;
 * the labels are copied out so the answer outlives the classifier. */
static TryOutcome *
classify (ClassifierCache *cache,
          const char *photo_path,
          int top_k,
          GError **error)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);
  g_autofree float *probs = NULL;
  TryOutcome *outcome;

  if (cache->classifier == NULL)
    cache->classifier = graft_classifier_new (cache->path, error);
  if (cache->classifier == NULL)
    return NULL;
  probs = g_new0 (float, cache->classifier->n_classes);
  if (!graft_classifier_classify_file (cache->classifier, photo_path, probs,
                                       error))
    return NULL;
  outcome = g_new0 (TryOutcome, 1);
  outcome->k = MIN (top_k, cache->classifier->n_classes);
  outcome->top = g_new0 (GraftPrediction, outcome->k);
  graft_classifier_top_k (cache->classifier, probs, outcome->k, outcome->top);
  for (int i = 0; i < outcome->k; i++)
    outcome->top[i].label = g_strdup (outcome->top[i].label);
  return outcome;
}

static void
try_thread (GTask *task,
            gpointer source,
            gpointer data,
            GCancellable *cancellable)
{
  TryJob *job = data;
  GError *error = NULL;
  TryOutcome *outcome =
      classify (job->cache, job->photo_path, job->top_k, &error);

  if (outcome == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  outcome->thumb = graft_thumbnail_decode (job->photo_path, PICTURE_SIZE, NULL);
  g_task_return_pointer (task, outcome, try_outcome_free);
}

/* ---- showing an answer ---- */

static void
clear_box (GtkWidget *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    gtk_box_remove (GTK_BOX (box), child);
}

static void
set_top_label (GraftTryPhoto *self, const char *label)
{
  if (g_strcmp0 (self->top_label, label) == 0)
    return;
  g_free (self->top_label);
  self->top_label = g_strdup (label);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOP_LABEL]);
}

static GtkWidget *
bar_row_new (const GraftPrediction *prediction, gboolean best)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *name = gtk_label_new (prediction->label);
  GtkWidget *bar = gtk_level_bar_new_for_interval (0, 1);
  g_autofree char *value =
      g_strdup_printf ("%.1f%%", 100 * prediction->probability);
  GtkWidget *value_label = gtk_label_new (value);

  gtk_label_set_xalign (GTK_LABEL (name), 0);
  /* A fixed width (not in characters: the best is bold) lines the bars
   * up. */
  gtk_widget_set_size_request (name, 140, -1);
  gtk_label_set_ellipsize (GTK_LABEL (name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_tooltip_text (name, prediction->label);
  if (best)
    gtk_widget_add_css_class (name, "heading");
  gtk_level_bar_set_value (GTK_LEVEL_BAR (bar), prediction->probability);
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
  return row;
}

static void
try_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  g_autoptr (GraftTryPhoto) self = user_data;
  g_autoptr (GError) error = NULL;
  TryOutcome *outcome = g_task_propagate_pointer (G_TASK (res), &error);
  TryJob *job = g_task_get_task_data (G_TASK (res));

  self->n_running--;
  if (self->n_running == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
  if (job->serial != self->serial)
    {
      /* A newer photo or model replaced the one asked. */
      g_clear_pointer (&outcome, try_outcome_free);
      return;
    }
  clear_box (self->bars);
  clear_box (self->picture_box);
  if (outcome == NULL)
    {
      set_top_label (self, NULL);
      gtk_label_set_text (GTK_LABEL (self->error_label), error->message);
      gtk_widget_set_visible (self->error_label, TRUE);
      return;
    }
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_box_append (GTK_BOX (self->picture_box),
                  graft_thumbnail_picture (outcome->thumb, PICTURE_SIZE, NULL));
  for (int i = 0; i < outcome->k; i++)
    gtk_box_append (GTK_BOX (self->bars),
                    bar_row_new (&outcome->top[i], i == 0));
  set_top_label (self, outcome->k > 0 ? outcome->top[0].label : NULL);
  try_outcome_free (outcome);
}

/* ---- public ---- */

void
graft_try_photo_try_file (GraftTryPhoto *self, GFile *file)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *path = NULL;
  TryJob *job;

  g_return_if_fail (GRAFT_IS_TRY_PHOTO (self));
  g_return_if_fail (G_IS_FILE (file));
  path = g_file_get_path (file);
  if (self->cache == NULL || path == NULL)
    return;
  job = g_new0 (TryJob, 1);
  job->cache = g_atomic_rc_box_acquire (self->cache);
  job->photo_path = g_steal_pointer (&path);
  job->top_k = self->top_k;
  job->serial = ++self->serial;
  self->n_running++;
  if (self->n_running == 1)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
  task = g_task_new (NULL, NULL, try_done, g_object_ref (self));
  g_task_set_task_data (task, job, try_job_free);
  g_task_run_in_thread (task, try_thread);
}

static void
on_chooser_response (GtkNativeDialog *dialog, int response, gpointer user_data)
{
  GraftTryPhoto *self = user_data;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr (GFile) file =
          gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      if (file != NULL)
        graft_try_photo_try_file (self, file);
    }
  g_clear_object (&self->chooser);
}

void
graft_try_photo_choose_file (GraftTryPhoto *self)
{
  GtkNative *native;
  g_autoptr (GtkFileFilter) filter = NULL;

  g_return_if_fail (GRAFT_IS_TRY_PHOTO (self));
  if (self->chooser != NULL || self->model_path == NULL)
    return;
  native = gtk_widget_get_native (GTK_WIDGET (self));
  filter = gtk_file_filter_new ();
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

void
graft_try_photo_clear (GraftTryPhoto *self)
{
  g_return_if_fail (GRAFT_IS_TRY_PHOTO (self));
  self->serial++;
  clear_box (self->bars);
  clear_box (self->picture_box);
  gtk_widget_set_visible (self->error_label, FALSE);
  set_top_label (self, NULL);
}

void
graft_try_photo_set_model_path (GraftTryPhoto *self, const char *path)
{
  g_return_if_fail (GRAFT_IS_TRY_PHOTO (self));
  if (g_strcmp0 (self->model_path, path) == 0)
    return;
  g_free (self->model_path);
  self->model_path = g_strdup (path);
  /* Jobs still running hold their own reference to the old cache. */
  g_clear_pointer (&self->cache, cache_unref);
  if (path != NULL)
    self->cache = cache_new (path);
  gtk_widget_set_sensitive (self->choose_button, path != NULL);
  graft_try_photo_clear (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_PATH]);
}

const char *
graft_try_photo_get_model_path (GraftTryPhoto *self)
{
  g_return_val_if_fail (GRAFT_IS_TRY_PHOTO (self), NULL);
  return self->model_path;
}

void
graft_try_photo_set_top_k (GraftTryPhoto *self, int top_k)
{
  g_return_if_fail (GRAFT_IS_TRY_PHOTO (self));
  g_return_if_fail (top_k >= 1 && top_k <= MAX_TOP_K);
  if (self->top_k == top_k)
    return;
  self->top_k = top_k;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOP_K]);
}

int
graft_try_photo_get_top_k (GraftTryPhoto *self)
{
  g_return_val_if_fail (GRAFT_IS_TRY_PHOTO (self), 0);
  return self->top_k;
}

gboolean
graft_try_photo_get_busy (GraftTryPhoto *self)
{
  g_return_val_if_fail (GRAFT_IS_TRY_PHOTO (self), FALSE);
  return self->n_running > 0;
}

const char *
graft_try_photo_get_top_label (GraftTryPhoto *self)
{
  g_return_val_if_fail (GRAFT_IS_TRY_PHOTO (self), NULL);
  return self->top_label;
}

GtkWidget *
graft_try_photo_new (void)
{
  return g_object_new (GRAFT_TYPE_TRY_PHOTO, NULL);
}

/* ---- building ---- */

static void
on_choose_clicked (GtkButton *button, gpointer user_data)
{
  graft_try_photo_choose_file (GRAFT_TRY_PHOTO (user_data));
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
  graft_try_photo_try_file (GRAFT_TRY_PHOTO (user_data), files->data);
  return TRUE;
}

static GtkWidget *
label_new (const char *text, const char *css_class)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, css_class);
  return label;
}

static void
graft_try_photo_init (GraftTryPhoto *self)
{
  GtkWidget *zone = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 18);
  GtkWidget *hint =
      label_new (_ ("Drop a photo here, or choose one, to see what the model "
                    "says about it."),
                 "dim-label");
  GtkDropTarget *drop =
      gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  self->top_k = DEFAULT_TOP_K;
  gtk_widget_add_css_class (zone, "card");
  gtk_widget_add_css_class (zone, "try-zone");
  gtk_widget_set_margin_start (hint, 12);
  gtk_widget_set_margin_end (hint, 12);
  gtk_widget_set_margin_top (hint, 12);
  self->choose_button = gtk_button_new_with_mnemonic (_ ("Choose a _Photo…"));
  gtk_widget_set_margin_start (self->choose_button, 12);
  gtk_widget_set_halign (self->choose_button, GTK_ALIGN_START);
  gtk_widget_set_sensitive (self->choose_button, FALSE);
  g_signal_connect (self->choose_button, "clicked",
                    G_CALLBACK (on_choose_clicked), self);
  gtk_widget_set_margin_start (row, 12);
  gtk_widget_set_margin_end (row, 12);
  gtk_widget_set_margin_bottom (row, 12);
  self->picture_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->bars = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_hexpand (self->bars, TRUE);
  gtk_widget_set_valign (self->bars, GTK_ALIGN_CENTER);
  self->error_label = label_new (NULL, "error");
  gtk_widget_set_margin_start (self->error_label, 12);
  gtk_widget_set_margin_end (self->error_label, 12);
  gtk_widget_set_margin_bottom (self->error_label, 12);
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_box_append (GTK_BOX (zone), hint);
  gtk_box_append (GTK_BOX (zone), self->choose_button);
  gtk_box_append (GTK_BOX (row), self->picture_box);
  gtk_box_append (GTK_BOX (row), self->bars);
  gtk_box_append (GTK_BOX (zone), row);
  gtk_box_append (GTK_BOX (zone), self->error_label);
  g_signal_connect (drop, "drop", G_CALLBACK (on_drop), self);
  gtk_widget_add_controller (zone, GTK_EVENT_CONTROLLER (drop));
  adw_bin_set_child (ADW_BIN (self), zone);
}

static void
graft_try_photo_dispose (GObject *object)
{
  GraftTryPhoto *self = GRAFT_TRY_PHOTO (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  G_OBJECT_CLASS (graft_try_photo_parent_class)->dispose (object);
}

static void
graft_try_photo_finalize (GObject *object)
{
  GraftTryPhoto *self = GRAFT_TRY_PHOTO (object);

  g_clear_pointer (&self->cache, cache_unref);
  g_free (self->model_path);
  g_free (self->top_label);
  G_OBJECT_CLASS (graft_try_photo_parent_class)->finalize (object);
}

static void
graft_try_photo_get_property (GObject *object,
                              guint prop_id,
                              GValue *value,
                              GParamSpec *pspec)
{
  GraftTryPhoto *self = GRAFT_TRY_PHOTO (object);

  switch (prop_id)
    {
    case PROP_MODEL_PATH:
      g_value_set_string (value, self->model_path);
      break;
    case PROP_TOP_K:
      g_value_set_int (value, self->top_k);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, graft_try_photo_get_busy (self));
      break;
    case PROP_TOP_LABEL:
      g_value_set_string (value, self->top_label);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_try_photo_set_property (GObject *object,
                              guint prop_id,
                              const GValue *value,
                              GParamSpec *pspec)
{
  GraftTryPhoto *self = GRAFT_TRY_PHOTO (object);

  switch (prop_id)
    {
    case PROP_MODEL_PATH:
      graft_try_photo_set_model_path (self, g_value_get_string (value));
      break;
    case PROP_TOP_K:
      graft_try_photo_set_top_k (self, g_value_get_int (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
graft_try_photo_class_init (GraftTryPhotoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw =
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = graft_try_photo_dispose;
  object_class->finalize = graft_try_photo_finalize;
  object_class->get_property = graft_try_photo_get_property;
  object_class->set_property = graft_try_photo_set_property;

  properties[PROP_MODEL_PATH] =
      g_param_spec_string ("model-path", NULL, NULL, NULL, rw);
  properties[PROP_TOP_K] =
      g_param_spec_int ("top-k", NULL, NULL, 1, MAX_TOP_K, DEFAULT_TOP_K, rw);
  properties[PROP_BUSY] = g_param_spec_boolean ("busy", NULL, NULL, FALSE, ro);
  properties[PROP_TOP_LABEL] =
      g_param_spec_string ("top-label", NULL, NULL, NULL, ro);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}
