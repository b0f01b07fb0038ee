/* main.c: starts Graft. */
#include "config.h"

#include "graft-application.h"
#include "runtime.h"

#include <glib/gi18n.h>
#include <locale.h>

/* Without a GPU render node Mesa draws GL on the CPU (llvmpipe). GTK's GL
 * renderer on it took up to 80-100 ms a frame beside a training run (Xvfb,
 * 2 cores), stalling the main loop; the cairo renderer took under 30 ms,
 * and training ran about 7% faster. An explicit GSK_RENDERER still wins. */
static void
prefer_cairo_without_gpu (void)
{
  g_autoptr (GDir) dri = NULL;
  const char *name;

  if (g_getenv ("GSK_RENDERER") != NULL)
    return;
  if (g_strcmp0 (g_getenv ("LIBGL_ALWAYS_SOFTWARE"), "1") != 0)
    {
      dri = g_dir_open ("/dev/dri", 0, NULL);
      while (dri != NULL && (name = g_dir_read_name (dri)) != NULL)
        if (g_str_has_prefix (name, "renderD") ||
            g_str_has_prefix (name, "card"))
          return;
      if (g_file_test ("/dev/nvidiactl", G_FILE_TEST_EXISTS))
        return;
    }
  g_debug ("No GPU: drawing with the cairo renderer");
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
}

int
main (int argc, char *argv[])
{
  g_autoptr (GraftApplication) app = NULL;

  graft_runtime_init (argv);
  prefer_cairo_without_gpu ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, GRAFT_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  app = graft_application_new ();
  return g_application_run (G_APPLICATION (app), argc, argv);
}
