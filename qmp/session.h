/* qmp/session.h — one QMP conversation over a connected file descriptor pair. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/version.h"

#define QMP_ERROR (qmp_error_quark ())
GQuark qmp_error_quark (void);

typedef enum {
  QMP_ERROR_COMMAND,        /* QEMU answered {"error": ...}; message is "Class: desc" */
  QMP_ERROR_NOT_FOUND,      /* class CommandNotFound: the QEMU lacks the command */
  QMP_ERROR_TIMEOUT,        /* the deadline passed before the reply */
  QMP_ERROR_CLOSED,         /* end of stream; the launcher adds QEMU's exit status and stderr tail */
  QMP_ERROR_PROTOCOL,       /* not QMP: bad JSON, oversized message, reply without id, ... */
  QMP_ERROR_IO,             /* read/write failed for another reason (errno in the message) */
} QmpError;

/* Which way a message went, for taps (recorder, --debug). */
typedef enum {
  QMP_TAP_RECEIVED,   /* greeting, reply or event from QEMU */
  QMP_TAP_SENT,       /* command we sent */
  QMP_TAP_CLOSED,     /* the stream ended; @message is NULL */
} QmpTapDirection;

/* Called for every message in wire order. @message is borrowed. */
typedef void (*QmpTapFunc) (QmpTapDirection direction, json_object *message, gpointer user_data);

/* Called when the peer closes the stream, to add context to the QMP_ERROR_CLOSED
 * message (the launcher adds QEMU's exit status and the tail of its stderr).
 * Returns a newly allocated phrase, or NULL. */
typedef char *(*QmpCloseExplainFunc) (gpointer user_data);

typedef struct {
  gsize max_message_size;   /* 0: QMP_JSON_STREAM_DEFAULT_MAX_SIZE */
  int max_depth;            /* 0: QMP_JSON_STREAM_DEFAULT_MAX_DEPTH */
  QmpTapFunc tap;           /* may be NULL; sees the greeting too */
  gpointer tap_data;
  QmpCloseExplainFunc explain_close;  /* may be NULL */
  gpointer explain_data;
} QmpSessionOptions;

typedef struct QmpSession QmpSession;

/* An event read while waiting for a reply. */
typedef struct {
  char *name;
  json_object *data;        /* owned; NULL when the event had none */
  gint64 seconds;           /* QEMU's timestamp; -1 when QEMU could not read the clock */
  gint64 microseconds;
} QmpEvent;
void qmp_event_free (QmpEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpEvent, qmp_event_free)

/* Reads the greeting and negotiates capabilities (qmp_capabilities without
 * arguments; oob is never enabled). Takes ownership of both fds (they may be equal),
 * also when it fails: they are closed then. @options may be NULL.
 * Every @deadline_us here may be G_MAXINT64 to wait without limit. A deadline that has
 * passed still collects what the peer has already sent. */
QmpSession *qmp_session_new (int read_fd, int write_fd, gint64 deadline_us, GError **error);
QmpSession *qmp_session_new_full (int read_fd, int write_fd, const QmpSessionOptions *options,
                                  gint64 deadline_us, GError **error);
/* An in-process peer (a replay of stored answers, qmp/replay.h): the session hands it
 * each command it sends and takes what it says back, as messages, with no text, thread or
 * system call between. @converse gets the command (borrowed; NULL once, first, for the
 * greeting) and adds the messages the peer says in return to @to_client, in order, each
 * owned by the array and shared with nothing else; FALSE once the peer has ended the
 * stream (what it added still counts). A peer answers as it is spoken to: a reply it did
 * not give at once never comes, as from a QEMU that stays silent past the deadline.
 * A reply the peer keeps as text may be added unparsed, as {"id": ID, "reply-text": TEXT},
 * TEXT the whole reply without its id, which the peer has checked to be strict JSON and
 * an object: the session builds it only for a caller that wants objects, and hands the
 * text of its "return" as it is to one that wants text (qmp_session_wait_optional_text()).
 * A peer on a descriptor cannot send this form: from there it is not a reply. */
#define QMP_REPLY_TEXT_MEMBER "reply-text"
typedef struct {
  gboolean (*converse) (gpointer peer, json_object *command, GPtrArray *to_client);
} QmpSessionPeer;
/* @peer (static) and @peer_data stay the caller's and must outlive the session. */
QmpSession *qmp_session_new_in_process (const QmpSessionPeer *peer, gpointer peer_data,
                                        const QmpSessionOptions *options, gint64 deadline_us,
                                        GError **error);
void        qmp_session_free (QmpSession *session);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpSession, qmp_session_free)

/* Reads @greeting (a whole {"QMP": ...} message, borrowed) as qmp_session_new() does:
 * FALSE with QMP_ERROR_PROTOCOL when it lacks a version.qemu of non-negative numbers or
 * has capabilities that are not a list. @version and @package (borrowed from @greeting,
 * "" when absent) may be NULL. For callers that hold greetings before any session does. */
gboolean qmp_greeting_parse (json_object *greeting, QmpVersion *version, const char **package,
                             GError **error);

/* QEMU's version from the greeting, e.g. 2.8.0 or 10.2.50 (a development tree). */
void qmp_session_version (QmpSession *session, guint *major, guint *minor, guint *micro);
const QmpVersion *qmp_session_get_version (QmpSession *session);
/* The greeting's package string ("" for upstream builds). Borrowed. */
const char *qmp_session_package (QmpSession *session);
gboolean    qmp_session_has_capability (QmpSession *session, const char *capability);
/* The whole greeting object. Borrowed. */
json_object *qmp_session_greeting (QmpSession *session);

/* Sends @command with @arguments (borrowed; may be NULL) and waits for its reply until
 * @deadline_us (g_get_monotonic_time() scale). Returns the "return" member, owned by the
 * caller (json_object_put() it), or NULL with @error set. Events read meanwhile are queued. */
json_object *qmp_session_execute (QmpSession *session, const char *command,
                                  json_object *arguments, gint64 deadline_us, GError **error);

/* Pipelining: send now, collect later. Returns the id the command was sent with (> 0),
 * or 0 with @error set. Replies are routed by id, so several commands may be in flight. */
guint64      qmp_session_send (QmpSession *session, const char *command,
                               json_object *arguments, GError **error);
/* Waits for the reply to @id. Same ownership and errors as qmp_session_execute(). */
json_object *qmp_session_wait (QmpSession *session, guint64 id, gint64 deadline_us,
                               GError **error);
/* For a command whose answer is optional (the QEMU may lack it, or refuse it): *@reply is
 * its reply (owned by the caller) or NULL when QEMU answered an error or @id is 0; FALSE,
 * with @error set, only when the conversation itself failed (closed, timed out, not QMP),
 * which no answer may be built on. */
gboolean     qmp_session_wait_optional (QmpSession *session, guint64 id, json_object **reply,
                                        gint64 deadline_us, GError **error);

/* As qmp_session_wait(), for a reply wanted as JSON text: the text of its "return"
 * value, newly allocated (g_free() it), or NULL with @error set. */
char        *qmp_session_wait_text (QmpSession *session, guint64 id, gint64 deadline_us,
                                    GError **error);
/* As qmp_session_wait_optional(), for a reply wanted as JSON text: *@text is the text of
 * its "return" value (newly allocated), or NULL when QEMU answered an error or @id is 0.
 * For a large answer of which the caller reads a little (the model list): from an
 * in-process peer that keeps it as text no object is built at all; from a descriptor the
 * parsed reply is written out again. */
gboolean     qmp_session_wait_optional_text (QmpSession *session, guint64 id, char **text,
                                             gint64 deadline_us, GError **error);

/* Sends "quit" and waits for the stream to end. A missing reply followed by EOF is
 * success, as QEMU does not promise one; an EOF inside a message is not. */
gboolean qmp_session_quit (QmpSession *session, gint64 deadline_us, GError **error);

/* The oldest queued event called @name (any name when NULL), removed from the queue and
 * owned by the caller; NULL when none was queued. */
QmpEvent *qmp_session_take_event (QmpSession *session, const char *name);

/* When an error of QMP_ERROR_COMMAND or QMP_ERROR_NOT_FOUND was the last failure, its QMP
 * class ("GenericError", "DeviceNotFound", ...) and description; NULL otherwise. Borrowed.
 * Each qmp_session_execute() and qmp_session_wait() clears them first. */
const char *qmp_session_last_error_class (QmpSession *session);
const char *qmp_session_last_error_desc (QmpSession *session);

/* A deadline @timeout_ms from now, on the scale every call here uses. */
gint64 qmp_deadline_in_ms (gint64 timeout_ms);
