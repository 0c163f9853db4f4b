/* tools/qmp-source.h — the QMP source the command line asks for (--qemu, --socket,
 * --replay, else qemu-system-x86_64 from PATH), with --record and --debug attached,
 * the accelerator settled, and the one deadline of --timeout. Commands open their
 * sessions here, or hand the QmpSource to a probe that opens its own (host and models
 * ask several accelerators at once, expand and check start a baseline QEMU beside the
 * guest's), and never see which kind of source they talk to. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/source.h"
#include "tools/options.h"

typedef struct CliSource CliSource;

/* Checks what the options name before anything starts: a --qemu that is not an
 * executable or a --replay that cannot be read fails with CLI_EXIT_USAGE's errors. */
CliSource *cli_source_new (const CliOptions *options, GError **error);
void       cli_source_free (CliSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliSource, cli_source_free)

/* --accel; else for a replay the accelerator it was recorded with; else
 * qemu_default_accel(). Static or owned by @source. */
const char *cli_source_accel (CliSource *source);
gint64      cli_source_deadline (CliSource *source);

/* The source itself, for probes that open their sessions themselves, under accelerators
 * of their choosing (probe_host_read(), probe_run()). Borrowed. Its sessions are recorded
 * like those of cli_source_open(), and cli_source_finish() then writes the recording
 * even if this CliSource opened none itself. */
QmpSource *cli_source_qmp (CliSource *source);

/* Opens a session: QEMU in query mode with @machine (NULL: "none") and @cpu (may be NULL)
 * under cli_source_accel(). The first session also completes the recording's metadata
 * (QEMU version and package, and the accelerator). Errors name the source. */
QmpConnection *cli_source_open (CliSource *source, const char *machine, const char *cpu,
                                GError **error);
/* The same under @accel (NULL: cli_source_accel()). */
QmpConnection *cli_source_open_accel (CliSource *source, const char *accel, const char *machine,
                                      const char *cpu, GError **error);

/* Ends @connection: quit and reap a launched QEMU; for a replay, collect what the
 * recording could not answer, which fails the run (QMP_SOURCE_ERROR_REPLAY) when
 * VCPUPROBE_REPLAY_STRICT=1 is set, so replay tests notice a recording that falls short.
 * Frees @connection. */
gboolean cli_source_close (CliSource *source, QmpConnection *connection, GError **error);
/* TRUE when a replay answered some command by the shape of a reply rather than by its
 * name (old replies-only recordings), in any session closed so far, including those a
 * probe opened through cli_source_qmp(): worth saying in the output. */
gboolean cli_source_shape_matched (CliSource *source);
/* The --replay recording as the user named it, or NULL when the source is no replay. */
const char *cli_source_replay_file (CliSource *source);

/* For a replay, adds to @document (a JSON object) the member
 * "replay": {"file": PATH, "shape_matched": bool}; nothing otherwise. Call once every
 * session is closed. */
void cli_source_add_replay_json (CliSource *source, json_object *document);
/* For a replay matched by shape, appends the line that says so to @out. */
void cli_source_add_replay_text (CliSource *source, GString *out);

/* Ends a run that succeeded: writes the --record recording (nothing without --record, or
 * when no session was opened, neither here nor through cli_source_qmp()), then fails as
 * cli_source_close() does when a strict replay could not answer a command in any session,
 * including those a probe opened and closed itself. Call after every connection has been
 * closed, so each conversation is complete, whether its commands succeeded or not: a QMP
 * error is worth replaying too. */
gboolean cli_source_finish (CliSource *source, GError **error);
/* The same for a run that failed with *@error (set): the recording is written, as it
 * shows why, and a strict replay's "recording FILE has no answer for CMD" replaces
 * *@error, since the CommandNotFound the replay peer made up for CMD is what the run
 * failed on, and a replay suite must tell it from a CommandNotFound QEMU recorded. A
 * recording that cannot be written says less than the failure and is not reported. */
void cli_source_finish_failed (CliSource *source, GError **error);
