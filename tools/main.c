/* tools/main.c — vcpuprobe: parse the command line, run one subcommand, exit with its status. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "qmp/launch.h"
#include "tools/cmd-hook.h"
#include "tools/commands.h"
#include "tools/options.h"

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
static int
report_error (const CliOptions *options, const GError *error)
{
  g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);
  g_autoptr (GString) message = g_string_new (NULL);
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
  fprintf (stderr, "vcpuprobe: %s\n", message->str);
  return cli_exit_for_error (error);
}

int
main (int argc, char **argv)
{
  g_autoptr (CliOptions) options = cli_options_new ();
  g_autoptr (GError) error = NULL;
  CliParseResult parsed;
  int status;
  int hook_argc = 0;
  g_auto (GStrv) hook_argv = NULL;

  /* A reader that went away is a write error to report, not a silent death. */
  signal (SIGPIPE, SIG_IGN);
  qemu_launch_install_signal_cleanup ();

  /* A link in libvirt's hooks directory: libvirt's arguments are the hook command's. */
  hook_argv = cli_hook_command_line (argc, argv, &hook_argc);
  if (hook_argv != NULL)
    {
      argc = hook_argc;
      argv = hook_argv;
    }

  if (!cli_options_parse (options, argc, argv, &parsed, &error))
    return report_error (NULL, error);
  switch (parsed)
    {
    case CLI_PARSE_HELP:
      fputs (cli_usage_text (), stdout);
      return CLI_EXIT_OK;
    case CLI_PARSE_VERSION:
      puts ("vcpuprobe " VCPUPROBE_VERSION);
      return CLI_EXIT_OK;
    case CLI_PARSE_RUN:
      break;
    }

  status = options->command->run (options, &error);
  if (status < 0)
    return report_error (options, error);
  return status;
}
