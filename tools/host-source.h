/* tools/host-source.h — the QMP source of the commands that ask QEMU about several
 * accelerators at once (host, models): cli_source_open() opens sessions under one
 * accelerator only, so these commands hold the QmpSource themselves. The same options
 * apply: --qemu, --socket or --replay, with --record and --debug. */
#pragma once
#include <glib.h>
#include "qmp/source.h"
#include "tools/options.h"

typedef struct CliHostSource CliHostSource;

/* Errors like cli_source_new(): a --qemu that is not an executable or an unreadable
 * --replay is the user's input (CLI_ERROR_INPUT). */
CliHostSource *cli_host_source_new (const CliOptions *options, GError **error);
void           cli_host_source_free (CliHostSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliHostSource, cli_host_source_free)

QmpSource *cli_host_source_qmp (CliHostSource *source);   /* borrowed */

/* Writes the --record recording, if any. Call after every session has closed. */
gboolean cli_host_source_finish (CliHostSource *source, GError **error);
