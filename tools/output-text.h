/* tools/output-text.h — plain text output, and the one writer to stdout every format uses. */
#pragma once
#include <glib.h>
#include "x86/cpuid-dump.h"

/* Writes @text to stdout and flushes it; a closed pipe or a full disk is an error
 * (CLI_ERROR_FAILURE), not a silently truncated answer. */
gboolean cli_output_print (const char *text, GError **error);
/* From now on, cli_output_print() also appends what it writes to @sink (borrowed; NULL
 * stops it): the answer cache keeps what a command printed (tools/answer-cache.h). */
void     cli_output_capture (GString *sink);
/* From now on, cli_output_print() appends to @sink (borrowed; NULL stops it) instead of
 * writing stdout: answers from several host profiles are printed together at the end. */
void     cli_output_divert (GString *sink);
/* From now on, what cli_output_print() would write to stdout is appended to @sink
 * (borrowed; NULL stops it): a command's whole answer, for the library to return and the
 * CLI to print (tools/command-run.h). A divert still comes first, since what it holds
 * back is printed later, into this sink. */
void     cli_output_collect (GString *sink);

/* Every CPU of @dump in the `cpuid -r` layout: "CPU N:" then its leaf lines. */
void cli_text_cpuid (const X86CpuidDump *dump, GString *out);
