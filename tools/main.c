/* tools/main.c — vcpuprobe: parse the command line, run one subcommand, exit with its status. */
#include <signal.h>
#include <stdio.h>
#include "qmp/launch.h"
#include "tools/cmd-hook.h"
#include "tools/command-run.h"
#include "tools/commands.h"
#include "tools/options.h"

/* One stderr line, worded as the library words the same error (tools/command-run.h). */
static int
report_error (const CliOptions *options, const GError *error)
{
  g_autofree char *line = cli_error_line (options, error);

  fprintf (stderr, "vcpuprobe: %s\n", line);
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

  status = cli_command_run (options, &error);
  /* Every QEMU is gone by now: nothing of the run is left running at exit. */
  qemu_launch_shutdown ();
  if (status < 0)
    return report_error (options, error);
  return status;
}
