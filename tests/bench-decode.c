/* bench-decode.c: decode + preprocess every image in a folder, report
 * images per second.
 *
 *   bench-decode FOLDER [SIZE] [--full]
 *
 * SIZE is the model input side (224); --full decodes at full size instead
 * of letting JPEG decode at a reduced scale. Not a test.
 */
#include "image.h"
#include "preprocess.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree float *chw = NULL;
  GraftPreprocess pp;
  gboolean full = FALSE;
  const char *folder = NULL, *name;
  int size = 224, decoded = 0, failed = 0, min_side;
  gint64 start, decode_us = 0, preprocess_us = 0;
  double seconds;

  for (int i = 1; i < argc; i++)
    if (strcmp (argv[i], "--full") == 0)
      full = TRUE;
    else if (folder == NULL)
      folder = argv[i];
    else
      size = atoi (argv[i]);
  if (folder == NULL || size < 1 || size > GRAFT_PREPROCESS_MAX_SIDE)
    {
      fprintf (stderr, "usage: %s FOLDER [SIZE] [--full]\n", argv[0]);
      return 2;
    }

  dir = g_dir_open (folder, 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (paths, g_build_filename (folder, name, NULL));
  g_ptr_array_sort (paths, compare_paths);

  graft_preprocess_init_imagenet (&pp);
  pp.width = pp.height = size;
  min_side = full ? 0 : graft_preprocess_min_side (&pp);
  chw = g_new (float, (size_t) 3 * size * size);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (GraftImage) image = NULL;
      gint64 t0 = g_get_monotonic_time (), t1;

      image = graft_image_load (paths->pdata[i], min_side, &e);
      t1 = g_get_monotonic_time ();
      decode_us += t1 - t0;
      if (image == NULL)
        {
          fprintf (stderr, "%s\n", e->message);
          failed++;
          continue;
        }
      graft_preprocess_image (chw, image, &pp);
      preprocess_us += g_get_monotonic_time () - t1;
      decoded++;
    }
  seconds = (g_get_monotonic_time () - start) / 1e6;

  printf ("%d images (%d failed) in %.3f s: %.1f images/s at %dx%d%s\n",
          decoded, failed, seconds, decoded / MAX (seconds, 1e-9), size, size,
          full ? " (full-size decode)" : "");
  printf ("per image: decode %.2f ms, preprocess %.2f ms\n",
          decode_us / 1e3 / MAX (decoded + failed, 1),
          preprocess_us / 1e3 / MAX (decoded, 1));
  return failed > 0 && decoded == 0;
}
