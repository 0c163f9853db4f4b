/* tools/cmd-expand.h — what `expand` and `check` share: one probe, three output formats. */
#pragma once
#include <glib.h>
#include "tools/options.h"

/* Probes the CPU argument of @options and prints the result in --format. Returns
 * CLI_EXIT_OK, or for @is_check CLI_EXIT_MISMATCH when the verdict is fail; -1 with
 * @error on failure. @strict: added features fail the check too. */
int cli_probe_cpu_command (const CliOptions *options, gboolean is_check, gboolean strict,
                           GError **error);
