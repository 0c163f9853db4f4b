/* tools/profile-run.h — `--profile FILE|DIR ...`: a command answered per host from host
 * profiles alone (probe/profile.h), starting nothing. */
#pragma once
#include <glib.h>
#include "tools/options.h"

/* TRUE when @options names profiles: the command is then run through cli_profile_run(). */
gboolean cli_profile_requested (const CliOptions *options);

/* Runs @options->command once per profile (a directory stands for its *.json files, in
 * name order), each with its output held back, then prints them: one profile as a live
 * run prints, plus where the answer came from ("profile" in JSON, a first line in text);
 * several as {"hosts": [{"profile", "host", "made", ...the usual members...}]} or one
 * text block per host. A profile that cannot be read fails the run before any answer
 * (exit 2); a host that cannot be answered is reported in its entry. Returns the worst
 * status of all hosts: 0 only when every host passes, else -1 with @error (one host) or
 * the worst exit status (several). */
int cli_profile_run (const CliOptions *options, GError **error);
