/* tools/progress.c — a progress line on standard error, only when it is a terminal. */
#include "tools/progress.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct CliProgress {
  char *what;
  GMutex lock;      /* the probe reports from its worker threads */
  guint done;       /* the highest count shown */
  int shown;        /* length of the line on screen, to erase it */
};

CliProgress *
cli_progress_new (const char *what)
{
  CliProgress *progress;

  if (!isatty (STDERR_FILENO))
    return NULL;
  progress = g_new0 (CliProgress, 1);
  progress->what = g_strdup (what);
  g_mutex_init (&progress->lock);
  return progress;
}

void
cli_progress_update (CliProgress *progress, guint done, guint total)
{
  g_autofree char *line = NULL;

  if (progress == NULL)
    return;
  line = g_strdup_printf ("%s: %u/%u", progress->what, done, total);
  g_mutex_lock (&progress->lock);
  /* The counts come from threads that may report out of order: never go backwards. */
  if (done >= progress->done)
    {
      progress->done = done;
      /* Padded to the longest line shown, so no digit of an earlier one is left over. */
      fprintf (stderr, "\r%-*s", progress->shown, line);
      progress->shown = MAX (progress->shown, (int) strlen (line));
      fflush (stderr);
    }
  g_mutex_unlock (&progress->lock);
}

void
cli_progress_report (guint done, guint total, gpointer user_data)
{
  cli_progress_update (user_data, done, total);
}

void
cli_progress_free (CliProgress *progress)
{
  if (progress == NULL)
    return;
  if (progress->shown > 0)
    {
      fprintf (stderr, "\r%*s\r", progress->shown, "");
      fflush (stderr);
    }
  g_mutex_clear (&progress->lock);
  g_free (progress->what);
  g_free (progress);
}
