/* tools/answer-cache.h — `check` and `expand` of a definition already answered on this
 * host, and `host`, printed again without QEMU.
 *
 * What a check prints is a function of the definition as parsed, the options that shape
 * the answer (command, --strict, --format, --method, --accel, --machine, --qemu,
 * --cpu-map) and the host, QEMU and CPU map: the key of probe/check-cache.h. The first run
 * keeps what it printed and its exit status; the next prints them again. Not kept: runs
 * with --no-cache, --replay, --socket, --record, --cpuid-dump or --debug (their answer
 * comes from elsewhere, or they are asked to show the conversation), and failures. */
#pragma once
#include <glib.h>
#include "probe/check-cache.h"
#include "tools/options.h"

typedef struct {
  ProbeCache *cache;
  ProbeCheckKey *key;     /* NULL: this run is not kept */
  GString *output;        /* what the run printed, while it is captured */
} CliAnswerCache;

void cli_answer_cache_clear (CliAnswerCache *answers);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliAnswerCache, cli_answer_cache_clear)

/* Looks @def (read from @argument, with the user's @options) up. On a hit prints the kept
 * answer, sets *@status to its exit status and returns TRUE (FALSE with @error when it
 * cannot be printed: *@status is then -1). On a miss returns FALSE and, when the run can
 * be kept, captures what is printed from now on. */
gboolean cli_answer_cache_replay (CliAnswerCache *answers, const CliOptions *options,
                                  const char *command, const char *argument, const CpuDef *def,
                                  gboolean strict, int *status, GError **error);

/* The same for `host` in text and XML: its report of this host, kept under the host,
 * QEMU and CPU-map parts of the key, the options and the online CPUs. The JSON, which
 * says where each accelerator's facts came from, is not kept. */
gboolean cli_answer_cache_replay_host (CliAnswerCache *answers, const CliOptions *options,
                                       int *status, GError **error);

/* Keeps what was printed since the miss, with exit @status (CLI_EXIT_OK or
 * CLI_EXIT_MISMATCH). A cache that cannot be written only costs the next run a probe. */
void cli_answer_cache_keep (CliAnswerCache *answers, int status);
