/* tools/host-source.c — the old names of tools/qmp-source.c's functions. */
#include "tools/host-source.h"

CliHostSource *
cli_host_source_new (const CliOptions *options, GError **error)
{
  return cli_source_new (options, error);
}

void
cli_host_source_free (CliHostSource *source)
{
  cli_source_free (source);
}

QmpSource *
cli_host_source_qmp (CliHostSource *source)
{
  return cli_source_qmp (source);
}

gboolean
cli_host_source_finish (CliHostSource *source, GError **error)
{
  return cli_source_finish (source, error);
}
