/* tools/commands.h — the vcpuprobe subcommands, one table of them.
 *
 * To add a subcommand NAME:
 *   1. write tools/cmd-NAME.c (tools/meson.build picks it up) defining
 *        const CliCommand cli_command_NAME = { .name = "NAME", ... };
 *      with its arguments, its own options and its run function;
 *   2. add one line `X (NAME)` to CLI_COMMAND_LIST below.
 * Parsing, argument counts, usage errors and exit statuses are then handled for it. */
#pragma once
#include <glib.h>
#include "tools/options.h"

/* An option that only one command accepts, after the command: `--NAME VALUE` or `--NAME`. */
typedef struct {
  const char *name;         /* without the dashes: "cpu" */
  const char *value_name;   /* "N", or NULL for a flag */
} CliCommandOption;

/* Runs the command. Returns CLI_EXIT_OK, or CLI_EXIT_MISMATCH when a check found the
 * guest CPU differs from the request; on failure returns -1 with @error set, and
 * main() turns @error into one stderr line and cli_exit_for_error()'s status. */
typedef int (*CliCommandFunc) (const CliOptions *options, GError **error);

struct CliCommand {
  const char *name;
  /* Positional arguments, by name ("CMD", "ARGS"); the first min_args are required. */
  const char *const *arg_names;
  guint min_args;
  guint max_args;
  const CliCommandOption *options;   /* terminated by { NULL }; may be NULL */
  CliCommandFunc run;
};

#define CLI_COMMAND_LIST(X) \
  X (qmp)                   \
  X (cpuid)                 \
  X (host)                  \
  X (models)                \
  X (expand)                \
  X (check)                 \
  X (hook)                  \
  X (profile)               \
  X (cached)                \
  X (labels)                \
  X (baseline)

#define CLI_COMMAND_DECLARE(name) extern const CliCommand cli_command_##name;
CLI_COMMAND_LIST (CLI_COMMAND_DECLARE)
#undef CLI_COMMAND_DECLARE

/* The command called @name, or NULL. */
const CliCommand *cli_command_find (const char *name);
/* The command that declares option @name, or NULL: for "an option of cpuid" errors. */
const CliCommand *cli_command_find_option_owner (const char *option_name);
/* @command's option @name, or NULL. */
const CliCommandOption *cli_command_find_option (const CliCommand *command, const char *name);
