/* graft-thumbnail.c: small square previews of photos.
 *
 * JPEG decodes at 1/2..1/8 scale when asked for a small side, so a
 * thumbnail costs a fraction of a full decode; the center square is then
 * box-filtered down to the requested size.
 */
#include "config.h"

#include "graft-thumbnail.h"

#include "image.h"

GBytes *
graft_thumbnail_decode (const char *path, int size, GError **error)
{
  g_autoptr (GraftImage) img = graft_image_load (path, size, error);
  int side, x0, y0;
  guint8 *out;

  if (img == NULL)
    return NULL;
  side = MIN (img->width, img->height);
  x0 = (img->width - side) / 2;
  y0 = (img->height - side) / 2;
  out = g_malloc ((size_t) size * size * 3);
  /* Box filter: each output pixel averages the source pixels it covers
   * (at least one, when the photo is smaller than the thumbnail). */
  for (int oy = 0; oy < size; oy++)
    {
      int sy0 = y0 + oy * side / size;
      int sy1 = MAX (sy0 + 1, y0 + (oy + 1) * side / size);
      for (int ox = 0; ox < size; ox++)
        {
          int sx0 = x0 + ox * side / size;
          int sx1 = MAX (sx0 + 1, x0 + (ox + 1) * side / size);
          guint sum[3] = { 0, 0, 0 }, count = 0;
          for (int y = sy0; y < sy1; y++)
            for (int x = sx0; x < sx1; x++)
              {
                const guint8 *p = img->rgb + ((size_t) y * img->width + x) * 3;
                sum[0] += p[0];
                sum[1] += p[1];
                sum[2] += p[2];
                count++;
              }
          for (int c = 0; c < 3; c++)
            out[((size_t) oy * size + ox) * 3 + c] = (guint8) (sum[c] / count);
        }
    }
  return g_bytes_new_take (out, (size_t) size * size * 3);
}

GdkTexture *
graft_thumbnail_texture (GBytes *rgb, int size)
{
  return gdk_memory_texture_new (size, size, GDK_MEMORY_R8G8B8, rgb,
                                 (gsize) size * 3);
}

GtkWidget *
graft_thumbnail_picture (GBytes *rgb, int size, const char *tooltip)
{
  GtkWidget *widget;

  if (rgb != NULL)
    {
      g_autoptr (GdkTexture) texture = graft_thumbnail_texture (rgb, size);
      widget = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
      gtk_picture_set_can_shrink (GTK_PICTURE (widget), TRUE);
    }
  else
    {
      widget = gtk_image_new_from_icon_name ("image-missing-symbolic");
      gtk_image_set_pixel_size (GTK_IMAGE (widget), size / 2);
    }
  gtk_widget_set_size_request (widget, size, size);
  gtk_widget_set_overflow (widget, GTK_OVERFLOW_HIDDEN);
  gtk_widget_add_css_class (widget, "thumbnail");
  if (tooltip != NULL)
    gtk_widget_set_tooltip_text (widget, tooltip);
  return widget;
}

typedef struct
{
  char **paths;
  int size;
} ThumbJob;

static void
thumb_job_free (gpointer data)
{
  ThumbJob *job = data;

  g_strfreev (job->paths);
  g_free (job);
}

static void
thumbs_thread (GTask *task,
               gpointer source,
               gpointer data,
               GCancellable *cancellable)
{
  ThumbJob *job = data;
  GPtrArray *out =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (int i = 0; job->paths[i] != NULL; i++)
    {
      if (g_cancellable_is_cancelled (cancellable))
        break;
      /* An unreadable photo shows as a placeholder; the health report
       * names it. */
      g_ptr_array_add (out,
                       graft_thumbnail_decode (job->paths[i], job->size, NULL));
    }
  if (g_task_return_error_if_cancelled (task))
    g_ptr_array_unref (out);
  else
    g_task_return_pointer (task, out, (GDestroyNotify) g_ptr_array_unref);
}

void
graft_thumbnails_load_async (const char *const *paths,
                             int n,
                             int size,
                             GCancellable *cancellable,
                             GAsyncReadyCallback done,
                             gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, done, user_data);
  ThumbJob *job = g_new0 (ThumbJob, 1);

  job->paths = g_new0 (char *, n + 1);
  for (int i = 0; i < n; i++)
    job->paths[i] = g_strdup (paths[i]);
  job->size = size;
  g_task_set_task_data (task, job, thumb_job_free);
  g_task_run_in_thread (task, thumbs_thread);
}

GPtrArray *
graft_thumbnails_load_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
