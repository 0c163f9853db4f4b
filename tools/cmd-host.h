/* tools/cmd-host.h — what `host` and `models` share: reading the host's layers as the
 * command line asks. */
#pragma once
#include <glib.h>
#include "probe/host-model.h"
#include "tools/options.h"
#include "tools/qmp-source.h"

/* Reads the host through @source under each of @accels (NULL-terminated), with the
 * machine, CPUID dump, cache and deadline of @options, and the closest named model.
 * On failure ends @source as failed (cli_source_finish_failed(), so a recording still
 * shows why) and returns NULL with @error set. */
ProbeHost *cli_host_read (CliSource *source, const CliOptions *options,
                          const char *const *accels, GError **error);
