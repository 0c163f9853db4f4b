/* qmp/source.h — where QMP sessions come from: a launched QEMU, a running QEMU's monitor
 * socket, or a recording. All three yield the same QmpSession, so nothing above this
 * file knows which one it is talking to; a recorder and a --debug trace wrap any of them.
 *
 * A probe may open several sessions (a kvm and a tcg QEMU, one paused QEMU per CPU model).
 * It says how each should be launched; a replay source answers with the recorded segment
 * whose launch options match (accel, machine, cpu, preconfig), in file order among equals,
 * or the whole file when it holds a single session or no metadata. A socket source connects
 * to the QEMU that is already there, whatever was asked.
 *
 * How a request matches a recorded launch object (FILE.json "sessions"[i]):
 *   - a key absent from the recorded object matches anything (hand-written metadata names
 *     only what matters); a segment with no launch object at all matches every request;
 *   - "accel": a request without accel (NULL) matches any accel, else the strings are equal;
 *   - "machine": a request without machine means "none", as for the launcher; strings equal;
 *   - "cpu": a request without -cpu matches only a recorded null; strings equal;
 *   - "preconfig": the booleans are equal;
 *   - "globals": the lists of -global settings are equal, in order (a request without
 *     globals matches only an empty list).
 * Among matching segments the first not yet opened wins; when all were opened, the last
 * matching one is served again. Several segments without metadata are served in file order.
 *
 * A QEMU that ended before its monitor answered (a -cpu line it refuses) is recorded as
 * such (qmp/record.h); opening that segment fails with QEMU_LAUNCH_ERROR_EXITED and the
 * message the live open gave, so live and replayed runs report the same failure. */
#pragma once
#include <glib.h>
#include "qmp/session.h"
#include "qmp/launch.h"
#include "qmp/record.h"
#include "qmp/replay.h"

#define QMP_SOURCE_ERROR (qmp_source_error_quark ())
GQuark qmp_source_error_quark (void);

typedef enum {
  QMP_SOURCE_ERROR_NO_SEGMENT,   /* the recording has no session launched that way */
  QMP_SOURCE_ERROR_CONNECT,      /* the socket could not be connected */
  QMP_SOURCE_ERROR_REPLAY,       /* the replay peer reported unanswered commands (strict mode) */
  QMP_SOURCE_ERROR_NOT_SOCKET,   /* the socket path names something else (a file, a directory) */
} QmpSourceError;

typedef enum {
  QMP_SOURCE_LAUNCH,
  QMP_SOURCE_SOCKET,
  QMP_SOURCE_REPLAY,
} QmpSourceKind;

typedef struct QmpSource QmpSource;
typedef struct QmpConnection QmpConnection;

/* @binary may be NULL (qemu-system-x86_64 on PATH); checked here, so a missing binary is
 * reported before anything starts. */
QmpSource *qmp_source_new_launch (const char *binary, GError **error);
QmpSource *qmp_source_new_socket (const char *socket_path);
QmpSource *qmp_source_new_replay (const char *replies_path, QmpReplayMode mode, GError **error);
/* A replay of @replies (reference taken), described as @description (a host profile). */
QmpSource *qmp_source_new_replay_replies (QmpReplies *replies, const char *description,
                                          QmpReplayMode mode);
void       qmp_source_free (QmpSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpSource, qmp_source_free)

QmpSourceKind qmp_source_kind (QmpSource *source);
/* The QEMU binary (launch), socket path or recording path. Borrowed. */
const char   *qmp_source_describe (QmpSource *source);
/* For a replay: the accel the recording was made with when every segment agrees, else NULL. */
const char   *qmp_source_recorded_accel (QmpSource *source);
QmpReplies   *qmp_source_replies (QmpSource *source);   /* replay only, else NULL; borrowed */

/* Every session opened from now on is recorded into @recorder (reference kept by caller;
 * it must outlive the source). */
void qmp_source_set_recorder (QmpSource *source, QmpRecorder *recorder);
/* Launch only: how the monitor is reached (default QEMU_MONITOR_STDIO). */
void qmp_source_set_transport (QmpSource *source, QemuMonitorTransport transport);
/* Replay only: serve each session in the thread that opens it, with no socket (stored
 * answers, where the wire has nothing to test: host profiles). Default: over a socketpair. */
void     qmp_source_set_in_process (QmpSource *source, gboolean in_process);
gboolean qmp_source_in_process (QmpSource *source);
/* Every message sent and received is printed to stderr ("-> {json}", "<- {json}"). */
void qmp_source_set_debug (QmpSource *source, gboolean debug);
/* Replay only: fail qmp_connection_close() when the recording could not answer a command. */
void qmp_source_set_strict (QmpSource *source, gboolean strict);

/* Opens a session as @options describe (binary and transport are the source's). */
QmpConnection *qmp_source_open (QmpSource *source, const QemuLaunchOptions *options,
                                gint64 deadline_us, GError **error);
QmpSession    *qmp_connection_session (QmpConnection *connection);   /* borrowed */
/* The launched process, or NULL for socket and replay connections. Borrowed. */
QemuProcess   *qmp_connection_process (QmpConnection *connection);
/* TRUE when a replay answered a command by shape matching. */
gboolean       qmp_connection_shape_matched (QmpConnection *connection);

/* Ends the session (quit and reap for a launch; for a replay, collects what the peer
 * could not answer). Returns FALSE with @error only for a strict replay that had
 * unanswered commands. Frees @connection. What the peer could not answer, and whether it
 * matched by shape, is also kept in the source, whoever closed the connection: see
 * qmp_source_check_answered(). */
gboolean qmp_connection_close (QmpConnection *connection, GError **error);
void     qmp_connection_free (QmpConnection *connection);   /* close, ignoring errors */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpConnection, qmp_connection_free)

/* Over every connection of @source closed so far, by whichever caller or thread (a probe
 * closes its own connections with qmp_connection_free()), for a replay:
 * TRUE when some reply was chosen by shape rather than by command; */
gboolean qmp_source_shape_matched (QmpSource *source);
/* and, when strict, FALSE with QMP_SOURCE_ERROR_REPLAY ("recording FILE has no answer for
 * CMD {ARGS}; ...") when the recording could not answer some command. TRUE otherwise,
 * and always for a launch or socket source. */
gboolean qmp_source_check_answered (QmpSource *source, GError **error);
