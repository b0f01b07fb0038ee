/* graft-window.h: the main window, one page per step. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define GRAFT_TYPE_WINDOW (graft_window_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftWindow, graft_window, GRAFT, WINDOW, AdwApplicationWindow)

/* settings may be NULL: the window then remembers nothing. */
GraftWindow *graft_window_new (GtkApplication *application,
                               GSettings *settings);
/* The name of the visible step's page ("model", ...). */
const char *graft_window_get_step (GraftWindow *self);
/* FALSE when there is no such step. */
gboolean graft_window_set_step (GraftWindow *self, const char *step);
/* Number of steps the sidebar offers. */
guint graft_window_get_n_steps (GraftWindow *self);

G_END_DECLS
