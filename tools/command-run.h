/* tools/command-run.h — the one path a command's answer takes to whoever asked: the CLI
 * (tools/main.c) and the library (tools/vcpuprobe.c) both run a parsed command here, so
 * the CLI cannot print an answer of expand, check, host or models that the library would
 * not return for the same options, nor an error line the library would word otherwise. */
#pragma once
#include <glib.h>
#include "tools/options.h"

/* TRUE for the commands whose whole answer is one document (expand, check, host, models):
 * the library's questions, collected before anything is printed. */
gboolean cli_command_collected (const CliCommand *command);

/* Runs @options->command (through tools/profile-run.h when @options names profiles) with
 * everything it prints appended to @output instead of written to stdout. Returns
 * CLI_EXIT_OK or CLI_EXIT_MISMATCH; -1 with @error set on failure, @output then holding
 * whatever was printed before it. */
int cli_command_run_collected (const CliOptions *options, GString *output, GError **error);

/* The CLI's run of @options->command: a collected command through
 * cli_command_run_collected(), its output then written to stdout; any other as it
 * prints. Returns as cli_command_run_collected(). */
int cli_command_run (const CliOptions *options, GError **error);

/* @error as the one line the CLI prints after "vcpuprobe: ": the source named when the
 * error does not already name it, a message of several lines folded into one. @options
 * may be NULL (the command line itself was wrong). Caller frees. */
char *cli_error_line (const CliOptions *options, const GError *error);
