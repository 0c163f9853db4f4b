/* qmp/record.h — writes live conversations in the .replies layout (DESIGN.md §5).
 *
 * One recording may hold several sessions (vcpuprobe host talks to a kvm and a tcg
 * QEMU; a post-start probe starts one QEMU per CPU). Each session is one segment of
 * the file: its greeting first, then each command followed by the events that came
 * before its reply and then its reply (pipelined commands are each written right
 * before their own reply). Segments are written in the order the sessions were added,
 * whatever order their messages arrived in, so parallel sessions still record
 * deterministically. FILE.json beside it names the QEMU and host and lists each
 * segment's launch options, which is how the replay side picks the segment a probe asks for.
 *
 * Nothing reaches the destination until qmp_recorder_finish(), which writes both files
 * through a temporary file and rename(): a crash never leaves a half-written recording.
 * A conversation cut short (QEMU killed) is kept as it was: the last command stands
 * without a reply. A QEMU that ended before its monitor answered leaves no segment in
 * FILE, only its launch object with an "exit" member in FILE.json. Thread-safe: sessions may be recorded from several threads. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/replay.h"
#include "qmp/session.h"

typedef struct QmpRecorder QmpRecorder;
typedef struct QmpRecordedSession QmpRecordedSession;

QmpRecorder *qmp_recorder_new (const char *path);
void         qmp_recorder_free (QmpRecorder *recorder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpRecorder, qmp_recorder_free)

/* Starts a segment. @launch (reference taken; may be NULL) describes how the session was
 * opened: {"accel", "machine", "cpu", "preconfig", "argv"}. The result, owned by the
 * recorder, is the user data for qmp_recorder_tap(). */
QmpRecordedSession *qmp_recorder_add_session (QmpRecorder *recorder, json_object *launch);

/* The session's QEMU ended before its monitor answered: @early_exit (reference taken)
 * goes into the segment's launch object as "exit", and the segment keeps no messages
 * in FILE, as nothing of it but that failure can be replayed (see qmp/replay.h). */
void qmp_recorder_session_exited (QmpRecordedSession *session, json_object *early_exit);

/* TRUE when @launch, a session's launch object, records a QEMU that ended before its
 * monitor answered. */
gboolean qmp_recorded_launch_exited (json_object *launch);

/* The QmpTapFunc to put in QmpSessionOptions, with a QmpRecordedSession as user data. */
void qmp_recorder_tap (QmpTapDirection direction, json_object *message, gpointer session);

/* Sets @key to @value (reference taken) in FILE.json (qemu binary, version, host CPU, date...). */
void qmp_recorder_set_meta (QmpRecorder *recorder, const char *key, json_object *value);

/* Writes FILE and FILE.json atomically. */
gboolean qmp_recorder_finish (QmpRecorder *recorder, GError **error);
/* The recording as qmp_replies_load() would read FILE and FILE.json back, without writing
 * them (FILE only names it in messages): nothing reaches the disk, so nothing is left
 * behind by a signal, and nothing is printed and parsed again. */
QmpReplies *qmp_recorder_finish_in_memory (QmpRecorder *recorder, GError **error);
