/* qmp/replay.h — serves a recorded conversation to the real client code.
 *
 * The peer runs in a thread at the far end of a socketpair (or on a UNIX socket), so the
 * QmpSession talking to it cannot tell it from a QEMU; or, for stored answers where the
 * wire has nothing left to test (host profiles), in the client's own thread, answering
 * each command as the session sends it (qmp_replay_peer_new_in_process()): the same
 * words, with no thread, descriptor or system call between them. It sends the recorded greeting,
 * then answers each command:
 *   EXACT   — the first unused recorded reply of the same command and arguments, else the
 *             first unused of the same command name in file order, else the last used one
 *             of either kind, else {"error": {"class": "CommandNotFound", ...}};
 *   ORDERED — libvirt's older replies-only layout (no commands in the file): replies in order;
 *   SHAPE   — replies-only files whose order does not fit our command sequence: a command
 *             gets the first unused reply whose shape fits what that command returns
 *             (qmp/replay-shapes.c lists the shapes), in file order among equals.
 * Replies carry the id the client sent, whatever id was recorded. Events recorded before
 * a reply are sent before it. A recording that ends in the middle (QEMU killed) ends the
 * stream there, as the dead QEMU did. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/session.h"

#define QMP_REPLAY_ERROR (qmp_replay_error_quark ())
GQuark qmp_replay_error_quark (void);

typedef enum {
  QMP_REPLAY_ERROR_PARSE,     /* the file is not a sequence of JSON objects; message has path:line */
  QMP_REPLAY_ERROR_EMPTY,     /* no greeting / nothing to serve */
  QMP_REPLAY_ERROR_IO,
} QmpReplayError;

typedef enum {
  QMP_REPLAY_AUTO,      /* EXACT when the file records commands, else ORDERED */
  QMP_REPLAY_EXACT,
  QMP_REPLAY_ORDERED,
  QMP_REPLAY_SHAPE,
  QMP_REPLAY_ARGUMENTS, /* only a recorded exchange of the same command and arguments
                         * answers (again, if asked again): stored answers that must never
                         * stand in for a question asked differently (host profiles) */
} QmpReplayMode;

/* A parsed .replies file: one or more segments, each starting at a greeting. */
typedef struct QmpReplies QmpReplies;

/* Loads @path and, when present, @path.json (the recorder's metadata). */
QmpReplies  *qmp_replies_load (const char *path, GError **error);
/* The same from memory: @messages (borrowed) is a JSON array holding what a .replies file
 * holds, in its order; @metadata (borrowed; may be NULL) what FILE.json holds. @name
 * stands for the path in messages ("profile.json"). */
QmpReplies  *qmp_replies_new_from_messages (const char *name, json_object *messages,
                                            json_object *metadata, GError **error);
/* The text of the messages of segment @index of a lazily read recording (a JSON array, as
 * in qmp_replies_new_from_messages(), starting at the segment's greeting; the caller owns
 * the reference), and in *@name what to call it in messages ("FILE: sessions[3].messages",
 * newly allocated); NULL with @error when there is none to read. The messages are parsed
 * one by one; long replies are only checked (QmpRecordedExchange.reply_text). */
typedef GBytes *(*QmpRepliesFillFunc) (guint index, gpointer user_data, char **name,
                                       GError **error);
/* A recording of @n_segments segments, launched as @metadata's "sessions" say (borrowed;
 * must list them all), whose messages are read by @fill only when a segment is first
 * served: a host profile holds a dozen sessions and a question needs one or two. @fill
 * runs once per segment, under a lock (replay peers may run in threads); @fill_data is
 * released with @destroy when the recording is. @shares (may be NULL: each its own) maps
 * each segment to the one, itself or an earlier one, whose messages it holds: those are
 * read once and their objects shared (see qmp_replies_lock()). A segment @fill cannot
 * give is empty, as a QEMU that never answered, and qmp_replies_fill_error() says why. */
QmpReplies  *qmp_replies_new_lazy (const char *name, json_object *metadata, guint n_segments,
                                   const guint *shares, QmpRepliesFillFunc fill,
                                   gpointer fill_data, GDestroyNotify destroy, GError **error);
/* The recorded objects of segments that share their messages may be served by several
 * replay peers at once, and json-c is not made for that: writing an object out keeps its
 * text in the object, and references are counted without atomics. Whoever writes out or
 * references a recorded object holds this lock. */
void         qmp_replies_lock (QmpReplies *replies);
void         qmp_replies_unlock (QmpReplies *replies);
/* The first error a lazy segment's messages met, or a peer met serving one, or NULL
 * (borrowed). */
const GError *qmp_replies_fill_error (QmpReplies *replies);
QmpReplies  *qmp_replies_ref (QmpReplies *replies);
void         qmp_replies_unref (QmpReplies *replies);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpReplies, qmp_replies_unref)

const char  *qmp_replies_path (QmpReplies *replies);
/* Answers a command segment @segment of @replies holds no exchange for, in place of an
 * error: the reply message ({"return": ...} or {"error": ...}, or as text,
 * {QMP_REPLY_TEXT_MEMBER: TEXT} with TEXT such a message in strict JSON: qmp/session.h;
 * the caller owns it), or NULL to leave it unanswered. Called from the replay peer's thread; @command and
 * @arguments (may be NULL) are borrowed. A host profile answers from stored facts so. */
typedef json_object *(*QmpReplayAnswerFunc) (guint segment, const char *command,
                                             json_object *arguments, gpointer user_data);
/* Sets the answerer of every replay of @replies (none by default); @user_data must
 * outlive them. */
void qmp_replies_set_answer_func (QmpReplies *replies, QmpReplayAnswerFunc func,
                                  gpointer user_data);
QmpReplayAnswerFunc qmp_replies_answer_func (QmpReplies *replies, gpointer *user_data);
guint        qmp_replies_n_segments (QmpReplies *replies);
/* TRUE when the file has {"execute": ...} objects (our layout and libvirt's newer one). */
gboolean     qmp_replies_has_commands (QmpReplies *replies);
/* The metadata object (FILE.json), or NULL when there was none. Borrowed. */
json_object *qmp_replies_metadata (QmpReplies *replies);
/* The launch description of segment @index from the metadata, or NULL. Borrowed. */
json_object *qmp_replies_segment_launch (QmpReplies *replies, guint index);
/* The "exit" member of that launch description when its QEMU ended before its monitor
 * answered, else NULL. Borrowed. Such a segment is empty (the file holds nothing of it):
 * opening it fails as the live open did, and a replay peer refuses to serve it. */
json_object *qmp_replies_segment_exit (QmpReplies *replies, guint index);

/* One recorded exchange of a segment: a command, the events that came before its reply,
 * and the reply. All members borrowed from the QmpReplies. */
typedef struct {
  json_object *command;    /* {"execute": ...}, or NULL in the replies-only layout */
  GPtrArray   *events;     /* json_object *, possibly empty */
  json_object *reply;      /* {"return": ...} or {"error": ...}; NULL when the recording
                            * ends before it (QEMU died or quit without answering), or
                            * when it is kept as text: */
  char        *reply_text; /* a lazy recording's long reply ("return" or "error" alone),
                            * kept as read and checked as strict JSON when served: a socket
                            * peer sends it as it is, with the client's id; else NULL */
  char        *reply_text_where;  /* what to call it in messages ("FILE: sessions[3].
                                   * messages[6]") */
  guint        line;       /* line of the file where the exchange starts */
} QmpRecordedExchange;

/* The greeting of segment @index (borrowed). A file without any greeting gets one made
 * from its first query-version reply, as libvirt's newer files leave it out. */
json_object *qmp_replies_segment_greeting (QmpReplies *replies, guint index);
guint        qmp_replies_segment_n_exchanges (QmpReplies *replies, guint index);
const QmpRecordedExchange *qmp_replies_segment_exchange (QmpReplies *replies, guint segment,
                                                         guint index);
/* Notes that @exchange's reply_text is not JSON, for @problem, as the first error of the
 * recording if none came before: a replay peer found it so when it came to serve it. */
void         qmp_replies_note_malformed (QmpReplies *replies,
                                         const QmpRecordedExchange *exchange,
                                         const char *problem);

/* The shape table (qmp/replay-shapes.c): TRUE when @reply_return, the "return" member of
 * a reply, has the shape @command called with @arguments (may be NULL) returns. FALSE for
 * a command the table does not list. */
gboolean qmp_replay_shape_fits (const char *command, json_object *arguments,
                                json_object *reply_return);

typedef struct QmpReplayPeer QmpReplayPeer;

/* Serves segment @segment over a new socketpair; *client_fd receives the client's end
 * (the caller owns it; hand it to qmp_session_new() as both read and write fd). */
QmpReplayPeer *qmp_replay_peer_start (QmpReplies *replies, guint segment, QmpReplayMode mode,
                                      int *client_fd, GError **error);
/* Serves segment @segment to the first client that connects to a new UNIX socket at @path. */
QmpReplayPeer *qmp_replay_peer_listen (QmpReplies *replies, guint segment, QmpReplayMode mode,
                                       const char *socket_path, GError **error);
/* Serves segment @segment in the caller's thread, to the one session
 * qmp_replay_peer_session() opens (free the session before the peer). */
QmpReplayPeer *qmp_replay_peer_new_in_process (QmpReplies *replies, guint segment,
                                               QmpReplayMode mode, GError **error);
QmpSession    *qmp_replay_peer_session (QmpReplayPeer *peer, const QmpSessionOptions *options,
                                        gint64 deadline_us, GError **error);
/* Stops the peer (closing its end) and joins its thread. Safe after the client left. */
void           qmp_replay_peer_free (QmpReplayPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpReplayPeer, qmp_replay_peer_free)

/* After the client is done (call once the client's session has been freed): the
 * commands the recording could not answer ("query-foo {args}"), and the recorded
 * entries never asked for. Both owned by the caller; a strict test wants both empty. */
GPtrArray *qmp_replay_peer_unanswered (QmpReplayPeer *peer);
GPtrArray *qmp_replay_peer_unused (QmpReplayPeer *peer);
/* TRUE if any reply was chosen by shape rather than by command. */
gboolean   qmp_replay_peer_shape_matched (QmpReplayPeer *peer);
QmpReplayMode qmp_replay_peer_mode (QmpReplayPeer *peer);   /* AUTO resolved */
