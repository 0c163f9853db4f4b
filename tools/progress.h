/* tools/progress.h — "probing models: 12/40" on standard error while long work runs.
 *
 * Only when standard error is a terminal: a script, a log or libvirt reading our standard
 * error gets nothing from here. The line is rewritten in place (\r) and erased when the
 * work ends, so what the command prints afterwards starts on a clean line. */
#pragma once
#include <glib.h>

typedef struct CliProgress CliProgress;

/* Progress of @what ("probing models"). NULL when standard error is not a terminal; every
 * function here accepts NULL and then does nothing. */
CliProgress *cli_progress_new (const char *what);
/* Shows "@what: @done/@total". Safe to call from several threads at once. */
void         cli_progress_update (CliProgress *progress, guint done, guint total);
/* Erases the line and frees @progress. */
void         cli_progress_free (CliProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliProgress, cli_progress_free)

/* cli_progress_update() in the shape of a ProbeProgressFunc (probe/probe.h); @user_data
 * is the CliProgress (may be NULL). */
void         cli_progress_report (guint done, guint total, gpointer user_data);
