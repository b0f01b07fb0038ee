/* graft-export-page.h: step 6, saving the model for use elsewhere. */
#pragma once

#include <adwaita.h>

#include "graft-train-result.h"

G_BEGIN_DECLS

#define GRAFT_TYPE_EXPORT_PAGE (graft_export_page_get_type ())

G_DECLARE_FINAL_TYPE (
    GraftExportPage, graft_export_page, GRAFT, EXPORT_PAGE, AdwBin)

GtkWidget *graft_export_page_new (void);
void graft_export_page_set_settings (GraftExportPage *self,
                                     GSettings *settings);
void graft_export_page_set_result (GraftExportPage *self,
                                   GraftTrainResult *result);

/* Asks where to save (file chooser), then writes. */
void graft_export_page_choose (GraftExportPage *self);
/* Writes MODEL.onnx at path and labels.txt beside it, in a worker. */
void graft_export_page_export_to (GraftExportPage *self, const char *path);
gboolean graft_export_page_get_exporting (GraftExportPage *self);
/* The file last written, or NULL; why the last export failed, or NULL. */
const char *graft_export_page_get_exported_path (GraftExportPage *self);
const char *graft_export_page_get_error_message (GraftExportPage *self);

G_END_DECLS
