/* tools/host-source.h — the former source of the commands that probe several
 * accelerators at once. tools/qmp-source.h now does that job (cli_source_qmp()); these
 * names forward to it until tools/cmd-expand.c moves over, and then this file goes. */
#pragma once
#include <glib.h>
#include "qmp/source.h"
#include "tools/options.h"
#include "tools/qmp-source.h"

typedef CliSource CliHostSource;

/* cli_source_new(). */
CliHostSource *cli_host_source_new (const CliOptions *options, GError **error);
void           cli_host_source_free (CliHostSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliHostSource, cli_host_source_free)

/* cli_source_qmp(). Borrowed. */
QmpSource *cli_host_source_qmp (CliHostSource *source);

/* cli_source_finish(). */
gboolean cli_host_source_finish (CliHostSource *source, GError **error);
