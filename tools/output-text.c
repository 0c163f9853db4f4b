/* tools/output-text.c — plain text output. */
#include "tools/output-text.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "tools/options.h"

static GString *capture_sink;
static GString *divert_sink;
static GString *collect_sink;

void
cli_output_divert (GString *sink)
{
  divert_sink = sink;
}

void
cli_output_collect (GString *sink)
{
  collect_sink = sink;
}

void
cli_output_capture (GString *sink)
{
  capture_sink = sink;
}

gboolean
cli_output_print (const char *text, GError **error)
{
  gsize len = strlen (text);

  if (capture_sink != NULL)
    g_string_append_len (capture_sink, text, (gssize) len);
  if (divert_sink != NULL)
    {
      g_string_append_len (divert_sink, text, (gssize) len);
      return TRUE;
    }
  if (collect_sink != NULL)
    {
      g_string_append_len (collect_sink, text, (gssize) len);
      return TRUE;
    }

  if (fwrite (text, 1, len, stdout) != len || fflush (stdout) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, CLI_ERROR, CLI_ERROR_FAILURE, "standard output: %s",
                   g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

void
cli_text_cpuid (const X86CpuidDump *dump, GString *out)
{
  for (guint i = 0; i < x86_cpuid_dump_n_cpus (dump); i++)
    x86_cpuid_dump_format_text (dump, i, out);
}
