/* tools/command-run.c — running one parsed command for the CLI or the library. */
#include "tools/command-run.h"

#include <string.h>
#include "qmp/session.h"
#include "tools/commands.h"
#include "tools/output-text.h"
#include "tools/profile-run.h"

gboolean
cli_command_collected (const CliCommand *command)
{
  return command == &cli_command_expand || command == &cli_command_check
         || command == &cli_command_host || command == &cli_command_models;
}

int
cli_command_run_collected (const CliOptions *options, GString *output, GError **error)
{
  int status;

  cli_output_collect (output);
  status = cli_profile_requested (options) ? cli_profile_run (options, error)
                                           : options->command->run (options, error);
  cli_output_collect (NULL);
  return status;
}

int
cli_command_run (const CliOptions *options, GError **error)
{
  g_autoptr (GString) output = NULL;
  g_autoptr (GError) print_error = NULL;
  int status;

  if (!cli_command_collected (options->command))
    return cli_profile_requested (options) ? cli_profile_run (options, error)
                                           : options->command->run (options, error);

  output = g_string_new (NULL);
  status = cli_command_run_collected (options, output, error);
  /* Printed even when the run failed after printing, as the command itself would have. */
  if (output->len > 0 && !cli_output_print (output->str, &print_error) && status >= 0)
    {
      g_propagate_error (error, g_steal_pointer (&print_error));
      return -1;
    }
  return status;
}

/* The QMP source as the user named it: --replay, --socket or --qemu, else the QEMU on PATH. */
static const char *
named_source (const CliOptions *options)
{
  if (options->replay != NULL)
    return options->replay;
  if (options->socket != NULL)
    return options->socket;
  return options->qemu != NULL ? options->qemu : "qemu-system-x86_64";
}

/* A QMP session that broke (closed, timed out, not QMP) says what went wrong but not with
 * whom, and a run may talk to several QEMUs; every such line names the source, unless the
 * layer below already did. QEMU's own answers to a command name the command instead. */
static gboolean
needs_source_named (const CliOptions *options, const GError *error)
{
  const char *source = named_source (options);
  g_autofree char *canonical = NULL;

  if (options->command == NULL || error->domain != QMP_ERROR
      || error->code == QMP_ERROR_COMMAND || error->code == QMP_ERROR_NOT_FOUND)
    return FALSE;
  if (strstr (error->message, source) != NULL)
    return FALSE;
  canonical = g_canonicalize_filename (source, NULL);
  return strchr (source, '/') == NULL || strstr (error->message, canonical) == NULL;
}

/* Scripts read the first stderr line, so a message that spans lines (QEMU's stderr tail)
 * is folded into one. */
char *
cli_error_line (const CliOptions *options, const GError *error)
{
  g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);
  GString *message = g_string_new (NULL);
  gboolean first = TRUE;

  if (options != NULL && needs_source_named (options, error))
    g_string_append_printf (message, "%s: ", named_source (options));

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);
      if (*line == '\0')
        continue;
      if (!first)
        g_string_append (message, "; ");
      g_string_append (message, line);
      first = FALSE;
    }
  return g_string_free (message, FALSE);
}
