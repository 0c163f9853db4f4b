/* tools/output-text.h — plain text output, and the one writer to stdout every format uses. */
#pragma once
#include <glib.h>
#include "x86/cpuid-dump.h"

/* Writes @text to stdout and flushes it; a closed pipe or a full disk is an error
 * (CLI_ERROR_FAILURE), not a silently truncated answer. */
gboolean cli_output_print (const char *text, GError **error);

/* Every CPU of @dump in the `cpuid -r` layout: "CPU N:" then its leaf lines. */
void cli_text_cpuid (const X86CpuidDump *dump, GString *out);
