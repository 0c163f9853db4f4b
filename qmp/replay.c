/* qmp/replay.c — plays QEMU from a recording: in a thread over a socketpair or a UNIX
 * socket, or in the client's own thread (qmp_replay_peer_new_in_process()). */
#include "qmp/replay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "qmp/json-skim.h"
#include "qmp/json-stream.h"

struct QmpReplayPeer
{
  QmpReplies *replies;
  guint segment;
  QmpReplayMode mode;
  int fd;                    /* the conversation; -1 until a client connects */
  int listen_fd;             /* qmp_replay_peer_listen() only */
  char *socket_path;
  int stop_pipe[2];
  GThread *thread;
  /* In process, while the session talks to the peer (converse()): where its messages go. */
  GPtrArray *to_client;

  GMutex lock;               /* guards everything below */
  guint n_exchanges;
  guint64 *used_serial;      /* per exchange: 0 never used, else when it was last served */
  guint64 serial;
  guint ordered_next;
  GPtrArray *unanswered;     /* char * */
  gboolean shape_matched;
};

/* ---- Choosing the recorded exchange ---- */

static const char *
command_name (json_object *command)
{
  json_object *name = NULL;

  if (command == NULL)
    return NULL;
  if (!json_object_object_get_ex (command, "execute", &name))
    json_object_object_get_ex (command, "exec-oob", &name);
  return name != NULL && json_object_is_type (name, json_type_string)
         ? json_object_get_string (name) : NULL;
}

static json_object *
command_arguments (json_object *command)
{
  json_object *arguments = NULL;

  if (command != NULL)
    json_object_object_get_ex (command, "arguments", &arguments);
  return arguments;
}

/* Absent arguments and {} mean the same to QEMU. */
static gboolean
same_arguments (json_object *a, json_object *b)
{
  gboolean a_empty = a == NULL || (json_object_is_type (a, json_type_object)
                                   && json_object_object_length (a) == 0);
  gboolean b_empty = b == NULL || (json_object_is_type (b, json_type_object)
                                   && json_object_object_length (b) == 0);

  if (a_empty || b_empty)
    return a_empty && b_empty;
  return json_object_equal (a, b);
}

typedef enum {
  MATCH_ARGUMENTS,     /* same name and arguments */
  MATCH_NAME,          /* same name */
  MATCH_SHAPE,         /* a reply that looks like what the command returns */
} MatchKind;

static gboolean
exchange_matches (const QmpRecordedExchange *exchange, MatchKind kind, const char *name,
                  json_object *arguments)
{
  json_object *reply_return = NULL;

  switch (kind)
    {
    case MATCH_ARGUMENTS:
      return g_strcmp0 (command_name (exchange->command), name) == 0
             && same_arguments (command_arguments (exchange->command), arguments);
    case MATCH_NAME:
      return g_strcmp0 (command_name (exchange->command), name) == 0;
    case MATCH_SHAPE:
      return exchange->reply != NULL
             && json_object_object_get_ex (exchange->reply, "return", &reply_return)
             && qmp_replay_shape_fits (name, arguments, reply_return);
    }
  return FALSE;
}

/* The first unused exchange that matches, in file order, or -1. */
static int
find_unused (QmpReplayPeer *peer, MatchKind kind, const char *name, json_object *arguments)
{
  for (guint i = 0; i < peer->n_exchanges; i++)
    if (peer->used_serial[i] == 0
        && exchange_matches (qmp_replies_segment_exchange (peer->replies, peer->segment, i),
                             kind, name, arguments))
      return (int) i;
  return -1;
}

/* The matching exchange served most recently, or -1. */
static int
find_last_used (QmpReplayPeer *peer, MatchKind kind, const char *name, json_object *arguments)
{
  int best = -1;

  for (guint i = 0; i < peer->n_exchanges; i++)
    if (peer->used_serial[i] != 0
        && (best < 0 || peer->used_serial[i] > peer->used_serial[best])
        && exchange_matches (qmp_replies_segment_exchange (peer->replies, peer->segment, i),
                             kind, name, arguments))
      best = (int) i;
  return best;
}

static int
choose_exchange (QmpReplayPeer *peer, const char *name, json_object *arguments)
{
  int chosen = -1;

  if (peer->mode == QMP_REPLAY_ORDERED)
    return peer->ordered_next < peer->n_exchanges ? (int) peer->ordered_next++ : -1;

  chosen = find_unused (peer, MATCH_ARGUMENTS, name, arguments);
  /* The same question again gets the same answer; any other is not answered. */
  if (peer->mode == QMP_REPLAY_ARGUMENTS)
    return chosen >= 0 ? chosen : find_last_used (peer, MATCH_ARGUMENTS, name, arguments);
  if (chosen < 0)
    chosen = find_unused (peer, MATCH_NAME, name, arguments);
  if (chosen < 0 && peer->mode == QMP_REPLAY_SHAPE)
    {
      chosen = find_unused (peer, MATCH_SHAPE, name, arguments);
      if (chosen >= 0)
        peer->shape_matched = TRUE;
    }
  if (chosen < 0)
    chosen = find_last_used (peer, MATCH_ARGUMENTS, name, arguments);
  if (chosen < 0)
    chosen = find_last_used (peer, MATCH_NAME, name, arguments);
  return chosen;
}

static char *
describe_command (const char *name, json_object *arguments)
{
  if (arguments == NULL)
    return g_strdup (name);
  return g_strdup_printf ("%s %s", name,
                          json_object_to_json_string_ext (arguments, JSON_C_TO_STRING_PLAIN
                                                          | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* ---- Talking ---- */

/* @message as a line of the QMP stream (newly allocated). */
static char *
message_line (json_object *message)
{
  return g_strconcat (json_object_to_json_string_ext (message, JSON_C_TO_STRING_PLAIN
                                                      | JSON_C_TO_STRING_NOSLASHESCAPE),
                      "\r\n", NULL);
}

static gboolean
send_line (QmpReplayPeer *peer, const char *line)
{
  gsize left = strlen (line);
  const char *p = line;

  while (left > 0)
    {
      ssize_t n = send (peer->fd, p, left, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      p += n;
      left -= (gsize) n;
    }
  return TRUE;
}


/* Sends @recorded, an object of the recording, which other peers may be writing out at
 * the same time (qmp_replies_lock()). */
static gboolean
send_recorded (QmpReplayPeer *peer, json_object *recorded)
{
  g_autofree char *line = NULL;
  json_object *copy = NULL;
  int copied = 0;

  qmp_replies_lock (peer->replies);
  if (peer->to_client != NULL)
    copied = json_object_deep_copy (recorded, &copy, NULL);
  else
    line = message_line (recorded);
  qmp_replies_unlock (peer->replies);
  if (peer->to_client == NULL)
    return send_line (peer, line);
  if (copied != 0)
    return FALSE;
  g_ptr_array_add (peer->to_client, copy);
  return TRUE;
}

/* @recorded with the client's id instead of the recorded one. Caller owns the result. */
static json_object *
reply_with_id (json_object *recorded, json_object *id)
{
  json_object *reply = json_object_new_object ();

  json_object_object_foreach (recorded, key, value)
    if (!g_str_equal (key, "id"))
      json_object_object_add (reply, key, json_object_get (value));
  if (id != NULL)
    json_object_object_add (reply, "id", json_object_get (id));
  return reply;
}

static json_object *
error_reply (const char *error_class, const char *description, json_object *id)
{
  json_object *error = json_object_new_object ();
  json_object *reply = json_object_new_object ();

  json_object_object_add (error, "class", json_object_new_string (error_class));
  json_object_object_add (error, "desc", json_object_new_string (description));
  json_object_object_add (reply, "error", error);
  if (id != NULL)
    json_object_object_add (reply, "id", json_object_get (id));
  return reply;
}

/* Sends @message, the peer's own, and lets it go: in process, to the session. */
static gboolean
send_owned (QmpReplayPeer *peer, json_object *message)
{
  g_autofree char *line = NULL;

  if (peer->to_client != NULL)
    {
      g_ptr_array_add (peer->to_client, message);
      return TRUE;
    }
  line = message_line (message);
  json_object_put (message);
  return send_line (peer, line);
}

/* The line that sends @text (a reply object's JSON, checked, without an id) with @id (may
 * be NULL) put before its closing brace. Newly allocated. */
static char *
reply_text_line (const char *text, json_object *id)
{
  gsize length = strlen (text);

  while (length > 0 && strchr (" \t\r\n", text[length - 1]) != NULL)
    length--;
  return g_strdup_printf ("%.*s%s%s}\r\n", (int) (length - 1), text,
                          id != NULL ? ",\"id\":" : "",
                          id != NULL ? json_object_to_json_string_ext (id, JSON_C_TO_STRING_PLAIN)
                                     : "");
}

/* Answers one command. FALSE when the conversation is over. */
static gboolean
answer (QmpReplayPeer *peer, json_object *command)
{
  const char *name = command_name (command);
  json_object *arguments = command_arguments (command);
  json_object *id = NULL;
  const QmpRecordedExchange *exchange = NULL;
  json_object *answered = NULL;
  int chosen;

  json_object_object_get_ex (command, "id", &id);
  if (name == NULL)
    return send_owned (peer, error_reply ("GenericError",
                                              "QMP input lacks member 'execute'", id));

  g_mutex_lock (&peer->lock);
  chosen = choose_exchange (peer, name, arguments);
  if (chosen >= 0)
    {
      peer->used_serial[chosen] = ++peer->serial;
      exchange = qmp_replies_segment_exchange (peer->replies, peer->segment, (guint) chosen);
    }
  else if (!g_str_equal (name, "qmp_capabilities") && !g_str_equal (name, "quit"))
    {
      gpointer answer_data = NULL;
      QmpReplayAnswerFunc answer_func = qmp_replies_answer_func (peer->replies, &answer_data);

      /* What the recording lacks may still be answered from elsewhere (the hook). */
      if (answer_func != NULL)
        answered = answer_func (peer->segment, name, arguments, answer_data);
      if (answered == NULL)
        g_ptr_array_add (peer->unanswered, describe_command (name, arguments));
    }
  g_mutex_unlock (&peer->lock);

  if (exchange == NULL)
    {
      g_autofree char *description = NULL;

      if (answered != NULL)
        {
          json_object *text = NULL;

          /* An answer given as text goes on as text: as it is in process, else as a line
           * with the client's id before its closing brace. */
          if (peer->to_client == NULL
              && json_object_object_get_ex (answered, QMP_REPLY_TEXT_MEMBER, &text))
            {
              g_autofree char *line = reply_text_line (json_object_get_string (text), id);

              json_object_put (answered);
              return send_line (peer, line);
            }
          json_object_object_del (answered, "id");
          if (id != NULL)
            json_object_object_add (answered, "id", json_object_get (id));
          return send_owned (peer, answered);
        }

      /* Recordings made without these still answer them, as every QEMU does. */
      if (g_str_equal (name, "qmp_capabilities") || g_str_equal (name, "quit"))
        {
          json_object *empty = json_object_new_object ();
          json_object *reply = json_object_new_object ();
          json_object_object_add (reply, "return", empty);
          if (id != NULL)
            json_object_object_add (reply, "id", json_object_get (id));
          return send_owned (peer, reply) && !g_str_equal (name, "quit");
        }
      description = g_strdup_printf ("The command %s has not been found", name);
      return send_owned (peer, error_reply ("CommandNotFound", description, id));
    }

  for (guint i = 0; i < exchange->events->len; i++)
    if (!send_recorded (peer, g_ptr_array_index (exchange->events, i)))
      return FALSE;
  /* Kept as its text, with no id of its own: the client's goes before its closing brace,
   * or in process, where the session takes messages, into the message read from it. */
  if (exchange->reply_text != NULL && peer->to_client != NULL)
    {
      gsize length = strlen (exchange->reply_text);
      const char *problem = NULL;
      json_object *reply;

      /* Not JSON: the recording says where, and ends here as a QEMU that broke off. */
      if (!qmp_json_valid (exchange->reply_text, 0, length, &problem)
          || exchange->reply_text[qmp_json_skim_space (exchange->reply_text, length, 0)] != '{')
        {
          qmp_replies_note_malformed (peer->replies, exchange,
                                      problem != NULL ? problem : "not an object");
          return FALSE;
        }
      /* Handed over as text: the session builds it only for a reader that wants objects. */
      reply = json_object_new_object ();
      if (id != NULL)
        json_object_object_add (reply, "id", json_object_get (id));
      json_object_object_add (reply, QMP_REPLY_TEXT_MEMBER,
                              json_object_new_string_len (exchange->reply_text, (int) length));
      return send_owned (peer, reply);
    }
  if (exchange->reply_text != NULL)
    {
      gsize length = strlen (exchange->reply_text);
      g_autofree char *line = NULL;
      const char *problem = NULL;

      if (!qmp_json_valid (exchange->reply_text, 0, length, &problem))
        {
          qmp_replies_note_malformed (peer->replies, exchange, problem);
          return FALSE;
        }

      line = reply_text_line (exchange->reply_text, id);
      return send_line (peer, line);
    }
  /* The recording ends here, as the QEMU it was made from did. */
  if (exchange->reply == NULL)
    return FALSE;
  {
    g_autofree char *line = NULL;
    json_object *reply;

    /* The reply refers to the recorded values: made, written out (or copied) and let go
     * under the recording's lock. */
    qmp_replies_lock (peer->replies);
    reply = reply_with_id (exchange->reply, id);
    if (peer->to_client != NULL)
      {
        json_object *copy = NULL;

        if (json_object_deep_copy (reply, &copy, NULL) == 0)
          g_ptr_array_add (peer->to_client, copy);
      }
    else
      line = message_line (reply);
    json_object_put (reply);
    qmp_replies_unlock (peer->replies);
    return peer->to_client != NULL || send_line (peer, line);
  }
}

/* Waits for @fd to be readable; FALSE when asked to stop. */
static gboolean
wait_readable (QmpReplayPeer *peer, int fd)
{
  struct pollfd fds[2] = {
    { .fd = fd, .events = POLLIN },
    { .fd = peer->stop_pipe[0], .events = POLLIN },
  };

  for (;;)
    {
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          return FALSE;
        }
      if (fds[1].revents != 0)
        return FALSE;
      if (fds[0].revents != 0)
        return TRUE;
    }
}

/* Adds @len bytes the client sent to @stream and answers every whole command it holds.
 * FALSE when the conversation is over. */
static gboolean
answer_sent (QmpReplayPeer *peer, QmpJsonStream *stream, const char *bytes, gsize len)
{
  json_object *command;

  if (!qmp_json_stream_feed (stream, bytes, len, NULL))
    {
      send_owned (peer, error_reply ("GenericError", "JSON parse error", NULL));
      return FALSE;
    }
  while ((command = qmp_json_stream_pop (stream)) != NULL)
    {
      gboolean more = json_object_is_type (command, json_type_object)
                      ? answer (peer, command)
                      : send_owned (peer, error_reply ("GenericError",
                                                       "QMP input must be a JSON object", NULL));
      json_object_put (command);
      if (!more)
        return FALSE;
    }
  return TRUE;
}

static void
serve (QmpReplayPeer *peer)
{
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  char buffer[16384];

  if (!send_recorded (peer, qmp_replies_segment_greeting (peer->replies, peer->segment)))
    return;
  while (wait_readable (peer, peer->fd))
    {
      ssize_t n = recv (peer->fd, buffer, sizeof buffer, 0);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || !answer_sent (peer, stream, buffer, (gsize) n))
        return;
    }
}

/* The in-process session's side of the conversation (QmpSessionPeer.converse): the
 * commands come as the session made them, always objects. */
static gboolean
converse (gpointer data, json_object *command, GPtrArray *to_client)
{
  QmpReplayPeer *peer = data;
  gboolean more;

  peer->to_client = to_client;
  if (command == NULL)
    more = send_recorded (peer, qmp_replies_segment_greeting (peer->replies, peer->segment));
  else
    more = answer (peer, command);
  peer->to_client = NULL;
  return more;
}

static gpointer
peer_thread (gpointer data)
{
  QmpReplayPeer *peer = data;

  if (peer->listen_fd >= 0)
    {
      if (!wait_readable (peer, peer->listen_fd))
        return NULL;
      peer->fd = accept4 (peer->listen_fd, NULL, NULL, SOCK_CLOEXEC);
      if (peer->fd < 0)
        return NULL;
    }
  serve (peer);
  /* The client sees the end of the stream, as when QEMU exits. */
  shutdown (peer->fd, SHUT_RDWR);
  return NULL;
}

/* ---- Lifetime ---- */

static QmpReplayPeer *
peer_new (QmpReplies *replies, guint segment, QmpReplayMode mode, GError **error)
{
  QmpReplayPeer *peer;

  if (segment >= qmp_replies_n_segments (replies))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_EMPTY,
                   "%s has no segment %u", qmp_replies_path (replies), segment);
      return NULL;
    }
  if (qmp_replies_segment_greeting (replies, segment) == NULL)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_EMPTY,
                   "%s: segment %u records a QEMU that ended before its monitor answered",
                   qmp_replies_path (replies), segment);
      return NULL;
    }
  peer = g_new0 (QmpReplayPeer, 1);
  peer->replies = qmp_replies_ref (replies);
  peer->segment = segment;
  if (mode == QMP_REPLAY_AUTO)
    mode = qmp_replies_has_commands (replies) ? QMP_REPLAY_EXACT : QMP_REPLAY_ORDERED;
  peer->mode = mode;
  peer->fd = -1;
  peer->listen_fd = -1;
  peer->stop_pipe[0] = peer->stop_pipe[1] = -1;
  g_mutex_init (&peer->lock);
  peer->n_exchanges = qmp_replies_segment_n_exchanges (replies, segment);
  peer->used_serial = g_new0 (guint64, MAX (peer->n_exchanges, 1));
  peer->unanswered = g_ptr_array_new_with_free_func (g_free);
  if (pipe2 (peer->stop_pipe, O_CLOEXEC) < 0)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_IO,
                   "cannot create a pipe for the replay of %s: %s",
                   qmp_replies_path (replies), g_strerror (errno));
      qmp_replay_peer_free (peer);
      return NULL;
    }
  return peer;
}

QmpReplayPeer *
qmp_replay_peer_start (QmpReplies *replies, guint segment, QmpReplayMode mode,
                       int *client_fd, GError **error)
{
  QmpReplayPeer *peer = peer_new (replies, segment, mode, error);
  int pair[2];

  if (peer == NULL)
    return NULL;
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_IO,
                   "cannot create a socket pair for the replay of %s: %s",
                   qmp_replies_path (replies), g_strerror (errno));
      qmp_replay_peer_free (peer);
      return NULL;
    }
  peer->fd = pair[1];
  *client_fd = pair[0];
  peer->thread = g_thread_new ("qmp-replay", peer_thread, peer);
  return peer;
}

QmpReplayPeer *
qmp_replay_peer_new_in_process (QmpReplies *replies, guint segment, QmpReplayMode mode,
                                GError **error)
{
  return peer_new (replies, segment, mode, error);
}

QmpSession *
qmp_replay_peer_session (QmpReplayPeer *peer, const QmpSessionOptions *options,
                         gint64 deadline_us, GError **error)
{
  static const QmpSessionPeer talk = { converse };

  g_return_val_if_fail (peer->fd < 0 && peer->thread == NULL, NULL);
  return qmp_session_new_in_process (&talk, peer, options, deadline_us, error);
}

QmpReplayPeer *
qmp_replay_peer_listen (QmpReplies *replies, guint segment, QmpReplayMode mode,
                        const char *socket_path, GError **error)
{
  QmpReplayPeer *peer = peer_new (replies, segment, mode, error);
  struct sockaddr_un address;

  if (peer == NULL)
    return NULL;
  memset (&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (strlen (socket_path) >= sizeof address.sun_path)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_IO,
                   "socket path %s is too long", socket_path);
      qmp_replay_peer_free (peer);
      return NULL;
    }
  g_strlcpy (address.sun_path, socket_path, sizeof address.sun_path);
  peer->listen_fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (peer->listen_fd < 0
      || bind (peer->listen_fd, (struct sockaddr *) &address, sizeof address) < 0)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_IO,
                   "cannot listen on socket %s: %s", socket_path, g_strerror (errno));
      qmp_replay_peer_free (peer);
      return NULL;
    }
  peer->socket_path = g_strdup (socket_path);
  if (listen (peer->listen_fd, 1) < 0)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_IO,
                   "cannot listen on socket %s: %s", socket_path, g_strerror (errno));
      qmp_replay_peer_free (peer);
      return NULL;
    }
  peer->thread = g_thread_new ("qmp-replay", peer_thread, peer);
  return peer;
}

void
qmp_replay_peer_free (QmpReplayPeer *peer)
{
  if (peer == NULL)
    return;
  if (peer->thread != NULL)
    {
      char stop = 's';
      while (write (peer->stop_pipe[1], &stop, 1) < 0 && errno == EINTR)
        ;
      g_thread_join (peer->thread);
    }
  if (peer->fd >= 0)
    close (peer->fd);
  if (peer->listen_fd >= 0)
    close (peer->listen_fd);
  if (peer->socket_path != NULL)
    g_unlink (peer->socket_path);
  g_free (peer->socket_path);
  for (guint i = 0; i < 2; i++)
    if (peer->stop_pipe[i] >= 0)
      close (peer->stop_pipe[i]);
  g_mutex_clear (&peer->lock);
  g_free (peer->used_serial);
  g_ptr_array_unref (peer->unanswered);
  qmp_replies_unref (peer->replies);
  g_free (peer);
}

/* ---- Afterwards ---- */

GPtrArray *
qmp_replay_peer_unanswered (QmpReplayPeer *peer)
{
  GPtrArray *unanswered = g_ptr_array_new_with_free_func (g_free);

  g_mutex_lock (&peer->lock);
  for (guint i = 0; i < peer->unanswered->len; i++)
    g_ptr_array_add (unanswered, g_strdup (g_ptr_array_index (peer->unanswered, i)));
  g_mutex_unlock (&peer->lock);
  return unanswered;
}

static char *
describe_exchange (QmpReplies *replies, const QmpRecordedExchange *exchange)
{
  const char *name = command_name (exchange->command);
  g_autofree char *what = NULL;

  /* Recorded objects are written out under the recording's lock (qmp_replies_lock()). */
  qmp_replies_lock (replies);
  if (name != NULL)
    what = describe_command (name, command_arguments (exchange->command));
  else
    what = g_strdup_printf ("reply %.60s",
                            json_object_to_json_string_ext (exchange->reply,
                                                            JSON_C_TO_STRING_PLAIN
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE));
  qmp_replies_unlock (replies);
  return g_strdup_printf ("%s:%u: %s", qmp_replies_path (replies), exchange->line, what);
}

GPtrArray *
qmp_replay_peer_unused (QmpReplayPeer *peer)
{
  GPtrArray *unused = g_ptr_array_new_with_free_func (g_free);

  g_mutex_lock (&peer->lock);
  for (guint i = 0; i < peer->n_exchanges; i++)
    if (peer->used_serial[i] == 0)
      g_ptr_array_add (unused, describe_exchange (peer->replies,
                                                  qmp_replies_segment_exchange (peer->replies,
                                                                                peer->segment,
                                                                                i)));
  g_mutex_unlock (&peer->lock);
  return unused;
}

gboolean
qmp_replay_peer_shape_matched (QmpReplayPeer *peer)
{
  gboolean matched;

  g_mutex_lock (&peer->lock);
  matched = peer->shape_matched;
  g_mutex_unlock (&peer->lock);
  return matched;
}

QmpReplayMode
qmp_replay_peer_mode (QmpReplayPeer *peer)
{
  return peer->mode;
}
