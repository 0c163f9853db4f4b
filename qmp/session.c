/* qmp/session.c — one QMP conversation: greeting, negotiation, commands routed by id, events. */
#include "qmp/session.h"
#include "qmp/json-stream.h"
#include "qmp/json-skim.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

G_DEFINE_QUARK (qmp-error-quark, qmp_error)

/* A peer that floods events must not make us grow without bound; the oldest go first.
 * Both the count and the bytes are bounded: 4096 events of up to a whole message each
 * (64 MiB) would otherwise be allowed to pile up. */
#define MAX_QUEUED_EVENTS 4096
#define MAX_QUEUED_EVENT_BYTES (8u * 1024u * 1024u)
#define MAX_QUEUED_STRAY_ERRORS 16
/* How much of an unexpected message an error quotes. */
#define QUOTED_MESSAGE_CHARS 160
#define READ_CHUNK 16384

typedef struct {
  char *command;
  json_object *reply;       /* owned; NULL until it arrives */
} PendingCommand;

struct QmpSession {
  int read_fd;              /* -1 in process */
  int write_fd;
  gboolean write_is_socket;
  const QmpSessionPeer *peer;  /* in process only: */
  gpointer peer_data;
  GPtrArray *inbox;         /* json_object *: what the peer said, not read yet */
  gboolean peer_ended;
  QmpSessionOptions options;
  QmpJsonStream *stream;
  json_object *greeting;    /* owned */
  QmpVersion version;
  char *package;
  guint64 last_id;
  GHashTable *pending;      /* id (guint64 *) -> PendingCommand *, sent and not yet collected */
  GQueue events;            /* QmpEvent *, oldest first */
  gsize queued_event_bytes; /* event_size() of every queued event */
  GQueue stray_errors;      /* GError *: protocol errors no command id points to */
  GError *ended;            /* why nothing more can be read: EOF, bad framing, read error */
  gboolean truncated;       /* the stream ended inside a message */
  char *last_error_class;
  char *last_error_desc;
  guint n_unclaimed_replies; /* replies dropped for an id no command awaits */
};

static void
pending_command_free (PendingCommand *pending)
{
  g_free (pending->command);
  if (pending->reply != NULL)
    json_object_put (pending->reply);
  g_free (pending);
}

void
qmp_event_free (QmpEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->name);
  if (event->data != NULL)
    json_object_put (event->data);
  g_free (event);
}

gint64
qmp_deadline_in_ms (gint64 timeout_ms)
{
  gint64 now = g_get_monotonic_time ();

  if (timeout_ms > (G_MAXINT64 - now) / 1000)
    return G_MAXINT64;
  return now + timeout_ms * 1000;
}

/* Compact JSON text of @message for error messages, cut short when long. Newly allocated. */
static char *
quote_message (json_object *message)
{
  const char *text = json_object_to_json_string_ext (message, JSON_C_TO_STRING_PLAIN);

  if (strlen (text) <= QUOTED_MESSAGE_CHARS)
    return g_strdup (text);
  return g_strdup_printf ("%.*s...", QUOTED_MESSAGE_CHARS, text);
}

static void
tap (QmpSession *session, QmpTapDirection direction, json_object *message)
{
  if (session->options.tap != NULL)
    session->options.tap (direction, message, session->options.tap_data);
}

static void
add_stray_error (QmpSession *session, GError *stray)
{
  /* The first few explain what went wrong; a peer spewing bad messages must not grow us. */
  if (g_queue_get_length (&session->stray_errors) >= MAX_QUEUED_STRAY_ERRORS)
    {
      g_debug ("dropping QMP protocol error: %s", stray->message);
      g_error_free (stray);
      return;
    }
  g_queue_push_tail (&session->stray_errors, stray);
}

static const char *
string_member (json_object *object, const char *key)
{
  json_object *member;

  if (!json_object_object_get_ex (object, key, &member)
      || !json_object_is_type (member, json_type_string))
    return NULL;
  return json_object_get_string (member);
}

static gint64
timestamp_member (json_object *timestamp, const char *key)
{
  json_object *member;

  if (timestamp == NULL || !json_object_object_get_ex (timestamp, key, &member)
      || !json_object_is_type (member, json_type_int))
    return -1;
  return json_object_get_int64 (member);
}

/* What a parsed JSON value holds, roughly: its strings and a fixed cost per value (json-c
 * allocates one object each). The framer bounds the depth, so the recursion is bounded. */
static gsize
json_value_size (json_object *value)
{
  gsize size = 64;

  switch (json_object_get_type (value))
    {
    case json_type_string:
      return size + (gsize) json_object_get_string_len (value);
    case json_type_array:
      for (size_t i = 0; i < json_object_array_length (value); i++)
        size += json_value_size (json_object_array_get_idx (value, i));
      return size;
    case json_type_object:
      {
        json_object_object_foreach (value, key, member)
          size += strlen (key) + json_value_size (member);
      }
      return size;
    default:
      return size;
    }
}

static gsize
event_size (const QmpEvent *event)
{
  return strlen (event->name) + (event->data != NULL ? json_value_size (event->data) : 0);
}

static void
queue_event (QmpSession *session, json_object *message)
{
  const char *name = string_member (message, "event");
  json_object *data = NULL;
  json_object *timestamp = NULL;
  QmpEvent *event;

  if (name == NULL)
    {
      g_autofree char *quoted = quote_message (message);
      add_stray_error (session, g_error_new (QMP_ERROR, QMP_ERROR_PROTOCOL,
                                             "QMP event without a name: %s", quoted));
      return;
    }
  json_object_object_get_ex (message, "data", &data);
  json_object_object_get_ex (message, "timestamp", &timestamp);
  event = g_new0 (QmpEvent, 1);
  event->name = g_strdup (name);
  event->data = data != NULL ? json_object_get (data) : NULL;
  event->seconds = timestamp_member (timestamp, "seconds");
  event->microseconds = timestamp_member (timestamp, "microseconds");
  g_queue_push_tail (&session->events, event);
  session->queued_event_bytes += event_size (event);
  /* The newest event goes too when it alone is over the bound. */
  while (g_queue_get_length (&session->events) > MAX_QUEUED_EVENTS
         || session->queued_event_bytes > MAX_QUEUED_EVENT_BYTES)
    {
      g_autoptr (QmpEvent) dropped = g_queue_pop_head (&session->events);
      session->queued_event_bytes -= event_size (dropped);
      g_debug ("QMP event queue full, dropping %s", dropped->name);
    }
}

/* Hands a reply to the command that waits for it. Takes @message. */
static void
route_reply (QmpSession *session, json_object *message)
{
  json_object *id = NULL;
  PendingCommand *pending = NULL;
  guint64 key;

  if (!json_object_object_get_ex (message, "id", &id))
    {
      /* QEMU leaves the id out when it could not parse the command far enough to read it. */
      g_autofree char *quoted = quote_message (message);
      add_stray_error (session, g_error_new (QMP_ERROR, QMP_ERROR_PROTOCOL,
                                             "QMP reply without an id: %s", quoted));
      json_object_put (message);
      return;
    }
  if (json_object_is_type (id, json_type_int) && json_object_get_int64 (id) > 0)
    {
      key = (guint64) json_object_get_int64 (id);
      pending = g_hash_table_lookup (session->pending, &key);
    }
  if (pending == NULL || pending->reply != NULL)
    {
      g_debug ("dropping QMP reply with unknown id %s", json_object_to_json_string (id));
      session->n_unclaimed_replies++;
      json_object_put (message);
      return;
    }
  pending->reply = message;
}

/* The text of an in-process peer's reply kept as text ({"id", "reply-text"}), or NULL
 * for any other message. Borrowed from @message. */
static const char *
reply_text_of (QmpSession *session, json_object *message)
{
  json_object *text;

  if (session->peer == NULL || !json_object_is_type (message, json_type_object)
      || !json_object_object_get_ex (message, QMP_REPLY_TEXT_MEMBER, &text)
      || !json_object_is_type (text, json_type_string))
    return NULL;
  return json_object_get_string (text);
}

/* A reply kept as text, as the objects a peer on a descriptor sends: its text parsed, with
 * the id it was routed by. Takes @message. The peer checked the text (strict JSON, an
 * object); text that fails to parse all the same becomes an error reply, never a crash. */
static json_object *
reply_parsed (QmpSession *session, json_object *message)
{
  json_object *parsed = json_tokener_parse (reply_text_of (session, message));
  json_object *id = NULL;

  if (!json_object_is_type (parsed, json_type_object))
    {
      json_object_put (parsed);
      parsed = json_tokener_parse ("{\"error\": {\"class\": \"GenericError\", "
                                   "\"desc\": \"the peer's reply text is not a JSON object\"}}");
    }
  if (json_object_object_get_ex (message, "id", &id))
    json_object_object_add (parsed, "id", json_object_get (id));
  json_object_put (message);
  return parsed;
}

/* Files one message from the peer. Takes @message. */
static void
dispatch (QmpSession *session, json_object *message)
{
  if (reply_text_of (session, message) != NULL)
    {
      /* Kept as text until a caller asks for it, unless a tap must see what came. */
      if (session->options.tap != NULL)
        message = reply_parsed (session, message);
      else
        {
          tap (session, QMP_TAP_RECEIVED, message);
          route_reply (session, message);
          return;
        }
    }
  tap (session, QMP_TAP_RECEIVED, message);
  if (!json_object_is_type (message, json_type_object))
    {
      g_autofree char *quoted = quote_message (message);
      add_stray_error (session, g_error_new (QMP_ERROR, QMP_ERROR_PROTOCOL,
                                             "QMP message is not a JSON object: %s", quoted));
      json_object_put (message);
      return;
    }
  if (session->greeting == NULL)
    {
      json_object *qmp;
      if (json_object_object_get_ex (message, "QMP", &qmp)
          && json_object_is_type (qmp, json_type_object))
        session->greeting = message;
      else
        {
          g_autofree char *quoted = quote_message (message);
          add_stray_error (session, g_error_new (QMP_ERROR, QMP_ERROR_PROTOCOL,
                                                 "QMP greeting expected, got %s", quoted));
          json_object_put (message);
        }
      return;
    }
  if (json_object_object_get_ex (message, "event", NULL))
    queue_event (session, message);
  else if (json_object_object_get_ex (message, "return", NULL)
           || json_object_object_get_ex (message, "error", NULL))
    {
      route_reply (session, message);
      return;
    }
  else
    {
      g_autofree char *quoted = quote_message (message);
      add_stray_error (session, g_error_new (QMP_ERROR, QMP_ERROR_PROTOCOL,
                                             "QMP message is neither a reply nor an event: %s",
                                             quoted));
    }
  json_object_put (message);
}

static void
note_end_of_stream (QmpSession *session)
{
  g_autofree char *explanation = NULL;
  g_autoptr (GString) message = g_string_new ("QEMU closed the monitor");

  session->truncated = qmp_json_stream_in_message (session->stream);
  if (session->truncated)
    g_string_append (message, " mid-message");
  if (session->options.explain_close != NULL)
    explanation = session->options.explain_close (session->options.explain_data);
  if (explanation != NULL && *explanation != '\0')
    g_string_append_printf (message, ": %s", explanation);
  session->ended = g_error_new_literal (QMP_ERROR, QMP_ERROR_CLOSED, message->str);
  tap (session, QMP_TAP_CLOSED, NULL);
}

/* Milliseconds poll() may sleep before @deadline_us, rounded up so we never wake early
 * and spin; INT_MAX when the deadline is further away than poll() can express. */
static int
poll_timeout_ms (gint64 deadline_us)
{
  gint64 remaining = deadline_us - g_get_monotonic_time ();

  if (remaining <= 0)
    return 0;
  if (remaining / 1000 >= INT_MAX)
    return INT_MAX;
  return (int) ((remaining + 999) / 1000);
}

/* Reads what the peer sent and files every complete message. Returns FALSE only when
 * @deadline_us passed first; EOF and read or framing errors end the session instead
 * (session->ended), which the callers check. */
static gboolean receive_in_process (QmpSession *session, GError **error);

static gboolean
receive (QmpSession *session, gint64 deadline_us, GError **error)
{
  struct pollfd readable = { .fd = session->read_fd, .events = POLLIN };
  char buffer[READ_CHUNK];
  g_autoptr (GError) feed_error = NULL;
  json_object *message;
  gssize got;
  int ready;

  if (session->peer != NULL)
    return receive_in_process (session, error);
  ready = poll (&readable, 1, poll_timeout_ms (deadline_us));
  if (ready < 0)
    {
      if (errno != EINTR)
        session->ended = g_error_new (QMP_ERROR, QMP_ERROR_IO, "cannot wait for the QMP monitor: %s",
                                      g_strerror (errno));
      return TRUE;
    }
  if (ready == 0)
    {
      if (g_get_monotonic_time () < deadline_us)
        return TRUE;
      g_set_error_literal (error, QMP_ERROR, QMP_ERROR_TIMEOUT, "QMP deadline passed");
      return FALSE;
    }
  if (readable.revents & POLLNVAL)
    {
      session->ended = g_error_new (QMP_ERROR, QMP_ERROR_IO, "QMP monitor fd %d is not open",
                                    session->read_fd);
      return TRUE;
    }

  got = read (session->read_fd, buffer, sizeof buffer);
  if (got < 0)
    {
      if (errno == ECONNRESET)
        note_end_of_stream (session);
      else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
        session->ended = g_error_new (QMP_ERROR, QMP_ERROR_IO, "cannot read from the QMP monitor: %s",
                                      g_strerror (errno));
      return TRUE;
    }
  if (got == 0)
    {
      note_end_of_stream (session);
      return TRUE;
    }
  /* Values completed before a framing error are still good: file them first. */
  if (!qmp_json_stream_feed (session->stream, buffer, (gsize) got, &feed_error))
    session->ended = g_steal_pointer (&feed_error);
  while ((message = qmp_json_stream_pop (session->stream)) != NULL)
    dispatch (session, message);
  return TRUE;
}

/* receive() from an in-process peer: its messages are filed as those read from a
 * descriptor are. */
static gboolean
receive_in_process (QmpSession *session, GError **error)
{
  if (session->inbox->len == 0)
    {
      if (session->peer_ended)
        {
          if (session->ended == NULL)
            note_end_of_stream (session);
          return TRUE;
        }
      /* It answers as it is spoken to: what it has not said, it never will. */
      g_set_error_literal (error, QMP_ERROR, QMP_ERROR_TIMEOUT, "QMP deadline passed");
      return FALSE;
    }
  for (guint i = 0; i < session->inbox->len; i++)
    dispatch (session, g_steal_pointer (&session->inbox->pdata[i]));
  g_ptr_array_set_size (session->inbox, 0);
  return TRUE;
}

/* A write that cannot raise SIGPIPE: the peer closing must be an error, not our death. */
static gssize
write_without_sigpipe (QmpSession *session, const char *bytes, gsize len)
{
  sigset_t sigpipe_only, saved_mask, pending;
  gboolean already_pending;
  gssize written;
  int saved_errno;

  if (session->write_is_socket)
    return send (session->write_fd, bytes, len, MSG_NOSIGNAL);

  /* Pipes have no MSG_NOSIGNAL. Block SIGPIPE for this thread around the write and
   * swallow the one the write raised, leaving alone one that was pending before. */
  sigemptyset (&sigpipe_only);
  sigaddset (&sigpipe_only, SIGPIPE);
  pthread_sigmask (SIG_BLOCK, &sigpipe_only, &saved_mask);
  sigpending (&pending);
  already_pending = sigismember (&pending, SIGPIPE);
  written = write (session->write_fd, bytes, len);
  saved_errno = errno;
  if (written < 0 && saved_errno == EPIPE && !already_pending)
    {
      const struct timespec no_wait = { 0, 0 };
      while (sigtimedwait (&sigpipe_only, NULL, &no_wait) < 0 && errno == EINTR)
        ;
    }
  pthread_sigmask (SIG_SETMASK, &saved_mask, NULL);
  errno = saved_errno;
  return written;
}

/* The peer is gone before we read its EOF; say why, as a read would. */
static void
closed_while_sending (QmpSession *session, const char *command, GError **error)
{
  g_autofree char *explanation = NULL;

  if (session->options.explain_close != NULL)
    explanation = session->options.explain_close (session->options.explain_data);
  g_set_error (error, QMP_ERROR, QMP_ERROR_CLOSED,
               "cannot send %s: QEMU closed the monitor%s%s", command,
               explanation != NULL && *explanation != '\0' ? ": " : "",
               explanation != NULL ? explanation : "");
}

/* write_all() to an in-process peer: @message itself is what it hears. */
static gboolean
say_in_process (QmpSession *session, const char *command, json_object *message, GError **error)
{
  if (session->peer_ended)
    {
      closed_while_sending (session, command, error);
      return FALSE;
    }
  if (!session->peer->converse (session->peer_data, message, session->inbox))
    session->peer_ended = TRUE;
  return TRUE;
}

static gboolean
write_all (QmpSession *session, const char *command, const char *bytes, gsize len,
           GError **error)
{
  while (len > 0)
    {
      gssize written = write_without_sigpipe (session, bytes, len);

      if (written < 0)
        {
          int saved_errno = errno;
          if (saved_errno == EINTR)
            continue;
          if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)
            {
              /* A non-blocking fd from the caller: wait for room rather than spin. */
              struct pollfd writable = { .fd = session->write_fd, .events = POLLOUT };
              poll (&writable, 1, -1);
              continue;
            }
          if (saved_errno == EPIPE || saved_errno == ECONNRESET)
            closed_while_sending (session, command, error);
          else
            g_set_error (error, QMP_ERROR, QMP_ERROR_IO, "cannot send %s: %s", command,
                         g_strerror (saved_errno));
          return FALSE;
        }
      bytes += written;
      len -= (gsize) written;
    }
  return TRUE;
}

static void
clear_last_error (QmpSession *session)
{
  g_clear_pointer (&session->last_error_class, g_free);
  g_clear_pointer (&session->last_error_desc, g_free);
}

guint64
qmp_session_send (QmpSession *session, const char *command, json_object *arguments,
                  GError **error)
{
  json_object *message;
  g_autofree char *wire = NULL;
  PendingCommand *pending;
  guint64 *key;
  guint64 id;

  g_return_val_if_fail (session != NULL, 0);
  g_return_val_if_fail (command != NULL, 0);
  g_return_val_if_fail (arguments == NULL || json_object_is_type (arguments, json_type_object), 0);

  if (session->ended != NULL)
    {
      g_propagate_prefixed_error (error, g_error_copy (session->ended), "cannot send %s: ",
                                  command);
      return 0;
    }
  id = session->last_id + 1;
  message = json_object_new_object ();
  json_object_object_add (message, "execute", json_object_new_string (command));
  if (arguments != NULL)
    json_object_object_add (message, "arguments", json_object_get (arguments));
  json_object_object_add (message, "id", json_object_new_int64 ((gint64) id));
  if (session->peer == NULL)
    wire = g_strconcat (json_object_to_json_string_ext (message, JSON_C_TO_STRING_PLAIN), "\r\n",
                        NULL);
  if (session->peer != NULL ? !say_in_process (session, command, message, error)
                            : !write_all (session, command, wire, strlen (wire), error))
    {
      json_object_put (message);
      return 0;
    }
  session->last_id = id;

  pending = g_new0 (PendingCommand, 1);
  pending->command = g_strdup (command);
  key = g_new (guint64, 1);
  *key = id;
  g_hash_table_insert (session->pending, key, pending);
  tap (session, QMP_TAP_SENT, message);
  json_object_put (message);
  return id;
}

/* The result of a reply: its "return" member, or the error it carries. Takes @reply. */
static json_object *
unpack_reply (QmpSession *session, json_object *reply, GError **error)
{
  json_object *result = NULL;
  json_object *failure = NULL;
  const char *error_class = NULL;
  const char *desc = NULL;

  if (reply_text_of (session, reply) != NULL)
    reply = reply_parsed (session, reply);
  if (json_object_object_get_ex (reply, "return", &result))
    {
      result = json_object_get (result);
      json_object_put (reply);
      return result;
    }
  json_object_object_get_ex (reply, "error", &failure);
  if (failure != NULL && json_object_is_type (failure, json_type_object))
    {
      error_class = string_member (failure, "class");
      desc = string_member (failure, "desc");
    }
  /* Unknown or missing classes are generic errors, as QEMU's own clients treat them. */
  session->last_error_class = g_strdup (error_class != NULL ? error_class : "GenericError");
  session->last_error_desc = g_strdup (desc != NULL ? desc : "");
  g_set_error (error, QMP_ERROR,
               g_str_equal (session->last_error_class, "CommandNotFound") ? QMP_ERROR_NOT_FOUND
                                                                          : QMP_ERROR_COMMAND,
               "%s: %s", session->last_error_class, session->last_error_desc);
  json_object_put (reply);
  return NULL;
}

/* The whole reply to @id, as it came (owned by the caller), or NULL with @error set. */
static json_object *
wait_message (QmpSession *session, guint64 id, gint64 deadline_us, GError **error)
{
  PendingCommand *pending;

  clear_last_error (session);
  pending = g_hash_table_lookup (session->pending, &id);
  if (pending == NULL)
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL, "no QMP command with id %" G_GUINT64_FORMAT
                   " awaits a reply", id);
      return NULL;
    }
  for (;;)
    {
      g_autoptr (GError) timeout = NULL;

      if (pending->reply != NULL)
        {
          json_object *reply = g_steal_pointer (&pending->reply);
          g_hash_table_remove (session->pending, &id);
          return reply;
        }
      if (!g_queue_is_empty (&session->stray_errors))
        {
          g_propagate_error (error, g_queue_pop_head (&session->stray_errors));
          return NULL;
        }
      if (session->ended != NULL)
        {
          g_propagate_error (error, g_error_copy (session->ended));
          g_hash_table_remove (session->pending, &id);
          return NULL;
        }
      if (!receive (session, deadline_us, &timeout))
        {
          /* A peer answering with ids we never sent looks like a silent one: say so. */
          if (session->n_unclaimed_replies > 0)
            g_set_error (error, QMP_ERROR, QMP_ERROR_TIMEOUT,
                         "timed out waiting for the reply to %s (%u replies carried an id "
                         "no command awaits)", pending->command, session->n_unclaimed_replies);
          else
            g_set_error (error, QMP_ERROR, QMP_ERROR_TIMEOUT,
                         "timed out waiting for the reply to %s", pending->command);
          return NULL;
        }
    }
}

/* For an optional command that got no answer: TRUE when QEMU answered it with an error
 * (it lacks or refuses the command), else FALSE with *@failure moved to @error (the
 * conversation itself failed). */
static gboolean
answered_otherwise (GError **failure, GError **error)
{
  if (g_error_matches (*failure, QMP_ERROR, QMP_ERROR_COMMAND)
      || g_error_matches (*failure, QMP_ERROR, QMP_ERROR_NOT_FOUND))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (failure));
  return FALSE;
}

json_object *
qmp_session_wait (QmpSession *session, guint64 id, gint64 deadline_us, GError **error)
{
  json_object *reply;

  g_return_val_if_fail (session != NULL, NULL);
  reply = wait_message (session, id, deadline_us, error);
  return reply != NULL ? unpack_reply (session, reply, error) : NULL;
}

/* @value as compact JSON text, newly allocated; '/' unescaped, as the skim's readers find
 * it plainest. */
static char *
value_text (json_object *value)
{
  return g_strdup (json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN
                                                          | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The text of @reply's "return" member, newly allocated, or NULL when it has none. Takes
 * @reply only when it returns non-NULL. */
static char *
return_text (QmpSession *session, json_object *reply)
{
  const char *text = reply_text_of (session, reply);
  json_object *result;
  char *copy = NULL;

  if (text != NULL)
    {
      gsize length = strlen (text);
      QmpJsonMember member;

      /* Found among the reply's own members without building them. */
      if (qmp_json_skim_find_member (text, qmp_json_skim_space (text, length, 0), length,
                                     "return", &member))
        copy = g_strndup (text + member.start, member.end - member.start);
    }
  else if (json_object_object_get_ex (reply, "return", &result))
    copy = value_text (result);
  if (copy != NULL)
    json_object_put (reply);
  return copy;
}

char *
qmp_session_wait_text (QmpSession *session, guint64 id, gint64 deadline_us, GError **error)
{
  json_object *reply;
  json_object *result;
  char *text;

  g_return_val_if_fail (session != NULL, NULL);
  reply = wait_message (session, id, deadline_us, error);
  if (reply == NULL || (text = return_text (session, reply)) != NULL)
    return reply != NULL ? text : NULL;
  /* No "return" found in it: the error it carries, set as qmp_session_wait() sets it. */
  result = unpack_reply (session, reply, error);
  text = result != NULL ? value_text (result) : NULL;
  json_object_put (result);
  return text;
}

gboolean
qmp_session_wait_optional_text (QmpSession *session, guint64 id, char **text,
                                gint64 deadline_us, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  *text = NULL;
  if (id == 0)
    return TRUE;
  *text = qmp_session_wait_text (session, id, deadline_us, &local_error);
  return *text != NULL || answered_otherwise (&local_error, error);
}

json_object *
qmp_session_execute (QmpSession *session, const char *command, json_object *arguments,
                     gint64 deadline_us, GError **error)
{
  guint64 id;

  g_return_val_if_fail (session != NULL, NULL);
  clear_last_error (session);
  id = qmp_session_send (session, command, arguments, error);
  if (id == 0)
    return NULL;
  return qmp_session_wait (session, id, deadline_us, error);
}

static gboolean
ended_cleanly (QmpSession *session)
{
  return session->ended != NULL && session->ended->code == QMP_ERROR_CLOSED
         && session->ended->domain == QMP_ERROR && !session->truncated;
}

gboolean
qmp_session_wait_optional (QmpSession *session, guint64 id, json_object **reply,
                           gint64 deadline_us, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  *reply = NULL;
  if (id == 0)
    return TRUE;
  *reply = qmp_session_wait (session, id, deadline_us, &local_error);
  return *reply != NULL || answered_otherwise (&local_error, error);
}

gboolean
qmp_session_quit (QmpSession *session, gint64 deadline_us, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  json_object *reply;
  guint64 id;

  g_return_val_if_fail (session != NULL, FALSE);

  if (ended_cleanly (session))
    return TRUE;
  id = qmp_session_send (session, "quit", NULL, &local_error);
  if (id == 0)
    {
      /* QEMU may exit before it reads the whole command; that is what quit asked for. */
      if (g_error_matches (local_error, QMP_ERROR, QMP_ERROR_CLOSED) && !session->truncated)
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  reply = qmp_session_wait (session, id, deadline_us, &local_error);
  if (reply == NULL)
    {
      if (ended_cleanly (session) && g_error_matches (local_error, QMP_ERROR, QMP_ERROR_CLOSED))
        return TRUE;
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  json_object_put (reply);
  while (session->ended == NULL)
    if (!receive (session, deadline_us, NULL))
      {
        g_set_error_literal (error, QMP_ERROR, QMP_ERROR_TIMEOUT,
                             "QEMU kept the monitor open after quit until the deadline");
        return FALSE;
      }
  if (ended_cleanly (session))
    return TRUE;
  g_propagate_error (error, g_error_copy (session->ended));
  return FALSE;
}

QmpEvent *
qmp_session_take_event (QmpSession *session, const char *name)
{
  for (GList *link = session->events.head; link != NULL; link = link->next)
    {
      QmpEvent *event = link->data;
      if (name == NULL || g_str_equal (event->name, name))
        {
          g_queue_delete_link (&session->events, link);
          session->queued_event_bytes -= event_size (event);
          return event;
        }
    }
  return NULL;
}

static gboolean
read_version_number (json_object *qemu, const char *key, guint *number, GError **error)
{
  json_object *member;
  gint64 value;

  if (!json_object_object_get_ex (qemu, key, &member)
      || !json_object_is_type (member, json_type_int)
      || (value = json_object_get_int64 (member)) < 0 || value > G_MAXUINT)
    {
      g_set_error (error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                   "QMP greeting has no valid version.qemu.%s", key);
      return FALSE;
    }
  *number = (guint) value;
  return TRUE;
}

gboolean
qmp_greeting_parse (json_object *greeting, QmpVersion *version, const char **package,
                    GError **error)
{
  json_object *qmp = NULL;
  json_object *version_object = NULL;
  json_object *qemu = NULL;
  json_object *capabilities = NULL;
  QmpVersion parsed;

  if (!json_object_is_type (greeting, json_type_object)
      || !json_object_object_get_ex (greeting, "QMP", &qmp)
      || !json_object_is_type (qmp, json_type_object))
    {
      g_set_error_literal (error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                           "QMP greeting has no QMP object");
      return FALSE;
    }
  if (!json_object_object_get_ex (qmp, "version", &version_object)
      || !json_object_is_type (version_object, json_type_object)
      || !json_object_object_get_ex (version_object, "qemu", &qemu)
      || !json_object_is_type (qemu, json_type_object))
    {
      g_set_error_literal (error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                           "QMP greeting has no version.qemu object");
      return FALSE;
    }
  if (!read_version_number (qemu, "major", &parsed.major, error)
      || !read_version_number (qemu, "minor", &parsed.minor, error)
      || !read_version_number (qemu, "micro", &parsed.micro, error))
    return FALSE;
  if (json_object_object_get_ex (qmp, "capabilities", &capabilities)
      && !json_object_is_type (capabilities, json_type_array))
    {
      g_set_error_literal (error, QMP_ERROR, QMP_ERROR_PROTOCOL,
                           "QMP greeting capabilities is not an array");
      return FALSE;
    }
  if (version != NULL)
    *version = parsed;
  if (package != NULL)
    {
      const char *text = string_member (version_object, "package");
      *package = text != NULL ? text : "";
    }
  return TRUE;
}

static gboolean
parse_greeting (QmpSession *session, GError **error)
{
  const char *package;

  if (!qmp_greeting_parse (session->greeting, &session->version, &package, error))
    return FALSE;
  session->package = g_strdup (package);
  return TRUE;
}

static gboolean
read_greeting (QmpSession *session, gint64 deadline_us, GError **error)
{
  while (session->greeting == NULL)
    {
      if (!g_queue_is_empty (&session->stray_errors))
        {
          g_propagate_error (error, g_queue_pop_head (&session->stray_errors));
          return FALSE;
        }
      if (session->ended != NULL)
        {
          g_propagate_prefixed_error (error, g_error_copy (session->ended),
                                      "no QMP greeting: ");
          return FALSE;
        }
      if (!receive (session, deadline_us, NULL))
        {
          g_set_error_literal (error, QMP_ERROR, QMP_ERROR_TIMEOUT,
                               "timed out waiting for the QMP greeting");
          return FALSE;
        }
    }
  return parse_greeting (session, error);
}

static void
put_message (gpointer message)
{
  json_object_put (message);
}

static QmpSession *
session_alloc (const QmpSessionOptions *options)
{
  QmpSession *session = g_new0 (QmpSession, 1);

  session->read_fd = session->write_fd = -1;
  if (options != NULL)
    session->options = *options;
  session->stream = qmp_json_stream_new (session->options.max_message_size,
                                         session->options.max_depth);
  session->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                            (GDestroyNotify) pending_command_free);
  g_queue_init (&session->events);
  g_queue_init (&session->stray_errors);
  return session;
}

/* Reads the greeting and negotiates; @session is freed when that fails. */
static QmpSession *
session_open (QmpSession *opening, gint64 deadline_us, GError **error)
{
  g_autoptr (QmpSession) session = opening;
  json_object *negotiated;

  if (!read_greeting (session, deadline_us, error))
    return NULL;
  /* No arguments: "enable" is unknown before 2.12 and would be rejected there. */
  negotiated = qmp_session_execute (session, "qmp_capabilities", NULL, deadline_us, error);
  if (negotiated == NULL)
    {
      g_prefix_error (error, "QMP negotiation failed: ");
      return NULL;
    }
  json_object_put (negotiated);
  return g_steal_pointer (&session);
}

QmpSession *
qmp_session_new_full (int read_fd, int write_fd, const QmpSessionOptions *options,
                      gint64 deadline_us, GError **error)
{
  QmpSession *session = session_alloc (options);
  struct stat write_stat;

  session->read_fd = read_fd;
  session->write_fd = write_fd;
  session->write_is_socket = fstat (write_fd, &write_stat) == 0 && S_ISSOCK (write_stat.st_mode);
  return session_open (session, deadline_us, error);
}

QmpSession *
qmp_session_new_in_process (const QmpSessionPeer *peer, gpointer peer_data,
                            const QmpSessionOptions *options, gint64 deadline_us,
                            GError **error)
{
  QmpSession *session = session_alloc (options);

  session->peer = peer;
  session->peer_data = peer_data;
  session->inbox = g_ptr_array_new_with_free_func (put_message);
  session->peer_ended = !peer->converse (peer_data, NULL, session->inbox);
  return session_open (session, deadline_us, error);
}

QmpSession *
qmp_session_new (int read_fd, int write_fd, gint64 deadline_us, GError **error)
{
  return qmp_session_new_full (read_fd, write_fd, NULL, deadline_us, error);
}

void
qmp_session_free (QmpSession *session)
{
  if (session == NULL)
    return;
  if (session->read_fd >= 0)
    close (session->read_fd);
  if (session->write_fd >= 0 && session->write_fd != session->read_fd)
    close (session->write_fd);
  qmp_json_stream_free (session->stream);
  if (session->inbox != NULL)
    g_ptr_array_unref (session->inbox);
  if (session->greeting != NULL)
    json_object_put (session->greeting);
  g_free (session->package);
  g_hash_table_destroy (session->pending);
  g_queue_clear_full (&session->events, (GDestroyNotify) qmp_event_free);
  g_queue_clear_full (&session->stray_errors, (GDestroyNotify) g_error_free);
  g_clear_error (&session->ended);
  clear_last_error (session);
  g_free (session);
}

void
qmp_session_version (QmpSession *session, guint *major, guint *minor, guint *micro)
{
  if (major != NULL)
    *major = session->version.major;
  if (minor != NULL)
    *minor = session->version.minor;
  if (micro != NULL)
    *micro = session->version.micro;
}

const QmpVersion *
qmp_session_get_version (QmpSession *session)
{
  return &session->version;
}

const char *
qmp_session_package (QmpSession *session)
{
  return session->package;
}

gboolean
qmp_session_has_capability (QmpSession *session, const char *capability)
{
  json_object *qmp = json_object_object_get (session->greeting, "QMP");
  json_object *capabilities;

  if (!json_object_object_get_ex (qmp, "capabilities", &capabilities))
    return FALSE;
  for (size_t i = 0; i < json_object_array_length (capabilities); i++)
    {
      json_object *entry = json_object_array_get_idx (capabilities, i);
      if (json_object_is_type (entry, json_type_string)
          && g_str_equal (json_object_get_string (entry), capability))
        return TRUE;
    }
  return FALSE;
}

json_object *
qmp_session_greeting (QmpSession *session)
{
  return session->greeting;
}

const char *
qmp_session_last_error_class (QmpSession *session)
{
  return session->last_error_class;
}

const char *
qmp_session_last_error_desc (QmpSession *session)
{
  return session->last_error_desc;
}
