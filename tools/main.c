/* tools/main.c — vcpuprobe: parse the command line, run one subcommand, exit with its status. */
#include <signal.h>
#include <stdio.h>
#include "qmp/launch.h"
#include "tools/commands.h"
#include "tools/options.h"

/* Scripts read the first stderr line, so a message that spans lines (QEMU's stderr tail)
 * is folded into one. */
static int
report_error (const GError *error)
{
  g_auto (GStrv) lines = g_strsplit (error->message, "\n", -1);
  g_autoptr (GString) message = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);
      if (*line == '\0')
        continue;
      if (message->len > 0)
        g_string_append (message, "; ");
      g_string_append (message, line);
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

  /* A reader that went away is a write error to report, not a silent death. */
  signal (SIGPIPE, SIG_IGN);
  qemu_launch_install_signal_cleanup ();

  if (!cli_options_parse (options, argc, argv, &parsed, &error))
    return report_error (error);
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
    return report_error (error);
  return status;
}
