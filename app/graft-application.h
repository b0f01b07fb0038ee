/* graft-application.h: the application: windows, app actions, settings. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define GRAFT_TYPE_APPLICATION (graft_application_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftApplication, graft_application, GRAFT, APPLICATION, AdwApplication)

GraftApplication *graft_application_new (void);
/* NULL when the org.graft.Graft schema is not installed: Graft then runs
 * without remembering anything. */
GSettings *graft_application_get_settings (GraftApplication *self);

G_END_DECLS
