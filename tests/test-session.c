/* tests/test-session.c — QMP sessions against a scripted peer thread, and one real QEMU. */
#include "tests/test-util.h"
#include "qmp/json-stream.h"
#include "qmp/session.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define GREETING_1_5_3                                                                   \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 3, \"minor\": 5, \"major\": 1}, "      \
  "\"package\": \"\"}, \"capabilities\": []}}\r\n"
#define GREETING_7_2                                                                     \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "      \
  "\"package\": \"Debian 1:7.2+dfsg-7+deb12u7\"}, \"capabilities\": [\"oob\"]}}\r\n"

/* What the scripted peer does, in order. In WRITE texts "@N@" stands for the id of the
 * N-th command the peer read (0 is qmp_capabilities), echoed exactly as received. */
typedef enum {
  PEER_END,
  PEER_WRITE,        /* write the text as it stands */
  PEER_READ,         /* read one command; the text, when set, is the command name expected */
  PEER_NOTIFY,       /* tell the test that everything before was written */
  PEER_AWAIT,        /* block until the test says go on */
  PEER_CLOSE,        /* close both directions */
  PEER_DRAIN,        /* read until the client closes its side */
  PEER_INTERRUPT,    /* send SIGUSR1 to the test thread, to break into its poll() or read() */
  PEER_FLOOD,        /* write 5000 numbered FLOOD events */
  PEER_FLOOD_LARGE,  /* write 40 numbered BIG events of 1 MiB each */
} PeerAction;

typedef struct {
  PeerAction action;
  const char *text;
} PeerStep;

#define NEGOTIATE(greeting)                                                              \
  { PEER_WRITE, greeting }, { PEER_READ, "qmp_capabilities" },                           \
  { PEER_WRITE, "{\"return\": {}, \"id\": @0@}\r\n" }

#define FLOOD_EVENTS 5000
#define LARGE_EVENTS 40
#define LARGE_EVENT_PAD (1024 * 1024)

typedef enum {
  TRANSPORT_SOCKETPAIR,
  TRANSPORT_PIPES,
} Transport;

typedef struct {
  const PeerStep *script;
  int read_fd;              /* commands from the client */
  int write_fd;             /* messages to the client; may equal read_fd */
  int notify_fd;            /* peer -> test */
  int await_fd;             /* test -> peer */
  int test_notify_fd;
  int test_await_fd;
  GPtrArray *commands;      /* json_object *: every command read, in order */
  char *failure;            /* what went wrong on the peer side, checked after the join */
  GThread *thread;
  pthread_t test_thread;
} Peer;

static void
put_json (gpointer value)
{
  json_object_put (value);
}

static gboolean
peer_write (Peer *peer, const char *bytes, gsize len)
{
  while (len > 0)
    {
      gssize written = write (peer->write_fd, bytes, len);
      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        return FALSE;
      bytes += written;
      len -= (gsize) written;
    }
  return TRUE;
}

/* @text with each "@N@" replaced by the id of the N-th command read. */
static char *
peer_expand (Peer *peer, const char *text)
{
  GString *expanded = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      char *end;
      guint64 index;

      if (*p == '@' && g_ascii_isdigit (p[1]))
        {
          index = g_ascii_strtoull (p + 1, &end, 10);
          if (*end == '@' && index < peer->commands->len)
            {
              json_object *id = json_object_object_get (g_ptr_array_index (peer->commands, index),
                                                        "id");
              g_string_append (expanded, json_object_to_json_string_ext (id, JSON_C_TO_STRING_PLAIN));
              p = end;
              continue;
            }
        }
      g_string_append_c (expanded, *p);
    }
  return g_string_free (expanded, FALSE);
}

/* Reads one command; FALSE at EOF. */
static gboolean
peer_read (Peer *peer, QmpJsonStream *stream)
{
  json_object *command;
  char buffer[4096];

  while ((command = qmp_json_stream_pop (stream)) == NULL)
    {
      g_autoptr (GError) error = NULL;
      gssize got = read (peer->read_fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR)
        continue;
      if (got <= 0)
        return FALSE;
      if (!qmp_json_stream_feed (stream, buffer, (gsize) got, &error))
        {
          peer->failure = g_strdup_printf ("peer: %s", error->message);
          return FALSE;
        }
    }
  g_ptr_array_add (peer->commands, command);
  return TRUE;
}

static void
peer_close (Peer *peer)
{
  if (peer->read_fd >= 0)
    close (peer->read_fd);
  if (peer->write_fd >= 0 && peer->write_fd != peer->read_fd)
    close (peer->write_fd);
  peer->read_fd = peer->write_fd = -1;
}

static gpointer
peer_run (gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  char token = 'x';

  for (const PeerStep *step = peer->script; step->action != PEER_END && peer->failure == NULL;
       step++)
    switch (step->action)
      {
      case PEER_WRITE:
        {
          g_autofree char *text = peer_expand (peer, step->text);
          if (!peer_write (peer, text, strlen (text)))
            peer->failure = g_strdup_printf ("peer: cannot write %s", text);
          break;
        }
      case PEER_READ:
        if (!peer_read (peer, stream))
          {
            if (peer->failure == NULL)
              peer->failure = g_strdup_printf ("peer: EOF instead of %s",
                                               step->text ? step->text : "a command");
          }
        else if (step->text != NULL)
          {
            json_object *command = g_ptr_array_index (peer->commands, peer->commands->len - 1);
            const char *name = json_object_get_string (json_object_object_get (command, "execute"));
            if (g_strcmp0 (name, step->text) != 0)
              peer->failure = g_strdup_printf ("peer: got %s, expected %s", name, step->text);
          }
        break;
      case PEER_NOTIFY:
        if (write (peer->notify_fd, &token, 1) != 1)
          peer->failure = g_strdup ("peer: cannot notify the test");
        break;
      case PEER_AWAIT:
        if (read (peer->await_fd, &token, 1) != 1)
          peer->failure = g_strdup ("peer: the test went away");
        break;
      case PEER_CLOSE:
        peer_close (peer);
        break;
      case PEER_DRAIN:
        while (peer_read (peer, stream))
          ;
        break;
      case PEER_INTERRUPT:
        pthread_kill (peer->test_thread, SIGUSR1);
        break;
      case PEER_FLOOD:
        for (guint i = 0; i < FLOOD_EVENTS && peer->failure == NULL; i++)
          {
            g_autofree char *event = g_strdup_printf ("{\"event\": \"FLOOD\", \"data\": "
                                                      "{\"n\": %u}}\r\n", i);
            if (!peer_write (peer, event, strlen (event)))
              peer->failure = g_strdup ("peer: cannot write events");
          }
        break;
      case PEER_FLOOD_LARGE:
        {
          g_autofree char *pad = g_strnfill (LARGE_EVENT_PAD, 'A');

          for (guint i = 0; i < LARGE_EVENTS && peer->failure == NULL; i++)
            {
              g_autofree char *event = g_strdup_printf ("{\"event\": \"BIG\", \"data\": "
                                                        "{\"n\": %u, \"pad\": \"%s\"}}\r\n",
                                                        i, pad);
              if (!peer_write (peer, event, strlen (event)))
                peer->failure = g_strdup ("peer: cannot write events");
            }
        }
        break;
      case PEER_END:
        break;
      }
  peer_close (peer);
  return NULL;
}

/* Starts a peer on a fresh connection; the client's ends come back in @client_read and
 * @client_write (equal for a socketpair). */
static Peer *
peer_start (const PeerStep *script, Transport transport, int *client_read, int *client_write)
{
  Peer *peer = g_new0 (Peer, 1);
  int notify[2], await[2];

  peer->script = script;
  peer->test_thread = pthread_self ();
  peer->commands = g_ptr_array_new_with_free_func (put_json);
  if (transport == TRANSPORT_SOCKETPAIR)
    {
      int pair[2];
      assert_int_equal (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
      *client_read = *client_write = pair[0];
      peer->read_fd = peer->write_fd = pair[1];
    }
  else
    {
      int to_client[2], to_peer[2];
      assert_int_equal (pipe2 (to_client, O_CLOEXEC), 0);
      assert_int_equal (pipe2 (to_peer, O_CLOEXEC), 0);
      *client_read = to_client[0];
      peer->write_fd = to_client[1];
      peer->read_fd = to_peer[0];
      *client_write = to_peer[1];
    }
  assert_int_equal (pipe2 (notify, O_CLOEXEC), 0);
  assert_int_equal (pipe2 (await, O_CLOEXEC), 0);
  peer->test_notify_fd = notify[0];
  peer->notify_fd = notify[1];
  peer->await_fd = await[0];
  peer->test_await_fd = await[1];
  peer->thread = g_thread_new ("qmp-peer", peer_run, peer);
  return peer;
}

static void
peer_wait_notify (Peer *peer)
{
  char token;

  assert_int_equal (read (peer->test_notify_fd, &token, 1), 1);
}

static void
peer_go_on (Peer *peer)
{
  assert_int_equal (write (peer->test_await_fd, "x", 1), 1);
}

/* Waits for the peer to end (the client must have closed its side, or the script must
 * end) and fails the test on a peer-side failure. Its commands stay readable. */
static void
peer_finish (Peer *peer)
{
  g_thread_join (peer->thread);
  peer->thread = NULL;
  if (peer->failure != NULL)
    fail_msg ("%s", peer->failure);
}

static void
peer_free (Peer *peer)
{
  if (peer == NULL)
    return;
  close (peer->test_await_fd);
  if (peer->thread != NULL)
    g_thread_join (peer->thread);
  close (peer->test_notify_fd);
  close (peer->notify_fd);
  close (peer->await_fd);
  g_ptr_array_unref (peer->commands);
  g_free (peer->failure);
  g_free (peer);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Peer, peer_free)

static json_object *
peer_command (Peer *peer, guint index)
{
  assert_true (index < peer->commands->len);
  return g_ptr_array_index (peer->commands, index);
}

/* A session over a fresh peer; the test fails if negotiation does. */
static QmpSession *
session_start (const PeerStep *script, Transport transport, const QmpSessionOptions *options,
               Peer **peer)
{
  g_autoptr (GError) error = NULL;
  int client_read, client_write;
  QmpSession *session;

  *peer = peer_start (script, transport, &client_read, &client_write);
  session = qmp_session_new_full (client_read, client_write, options, qmp_deadline_in_ms (20000),
                                  &error);
  if (session == NULL)
    fail_msg ("session: %s", error->message);
  return session;
}

static void
assert_error (const GError *error, QmpError code, const char *phrase)
{
  assert_non_null (error);
  if (!g_error_matches (error, QMP_ERROR, (gint) code))
    fail_msg ("expected error code %d, got %d: %s", code, error->code, error->message);
  if (phrase != NULL && strstr (error->message, phrase) == NULL)
    fail_msg ("error \"%s\" does not mention \"%s\"", error->message, phrase);
}

static const char *
member_string (json_object *object, const char *key)
{
  return json_object_get_string (json_object_object_get (object, key));
}

/* ---- greeting and negotiation ---- */

static void
check_old_greeting (Transport transport)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_1_5_3),
    { PEER_READ, "query-version" },
    { PEER_WRITE, "{\"return\": {\"qemu\": {\"micro\": 3, \"minor\": 5, \"major\": 1}, "
                  "\"package\": \"\"}, \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, transport, NULL, &peer);
  json_object *negotiation;
  json_object *reply;
  guint major = 0, minor = 0, micro = 0;

  qmp_session_version (session, &major, &minor, &micro);
  assert_int_equal (major, 1);
  assert_int_equal (minor, 5);
  assert_int_equal (micro, 3);
  assert_int_equal (qmp_session_get_version (session)->micro, 3);
  assert_string_equal (qmp_session_package (session), "");
  assert_false (qmp_session_has_capability (session, "oob"));
  assert_non_null (json_object_object_get (qmp_session_greeting (session), "QMP"));

  reply = qmp_session_execute (session, "query-version", NULL, qmp_deadline_in_ms (20000), &error);
  assert_non_null (reply);
  assert_int_equal (json_object_get_int (json_object_object_get (
                      json_object_object_get (reply, "qemu"), "minor")), 5);
  json_object_put (reply);
  qmp_session_free (session);
  peer_finish (peer);

  /* qmp_capabilities went without arguments, as 1.5 rejects unknown ones. */
  negotiation = peer_command (peer, 0);
  assert_string_equal (member_string (negotiation, "execute"), "qmp_capabilities");
  assert_false (json_object_object_get_ex (negotiation, "arguments", NULL));
  assert_true (json_object_object_get_ex (negotiation, "id", NULL));
  assert_int_equal (peer->commands->len, 2);
}

static void
test_greeting_1_5_3_socketpair (void **state)
{
  check_old_greeting (TRANSPORT_SOCKETPAIR);
}

static void
test_greeting_1_5_3_pipes (void **state)
{
  check_old_greeting (TRANSPORT_PIPES);
}

static void
test_greeting_7_2_with_oob (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_PIPES, NULL, &peer);
  guint major = 0, minor = 0, micro = 9;

  qmp_session_version (session, &major, &minor, &micro);
  assert_int_equal (major, 7);
  assert_int_equal (minor, 2);
  assert_int_equal (micro, 0);
  assert_string_equal (qmp_session_package (session), "Debian 1:7.2+dfsg-7+deb12u7");
  assert_true (qmp_session_has_capability (session, "oob"));
  assert_false (qmp_session_has_capability (session, "o"));
  qmp_session_free (session);
  peer_finish (peer);
  /* oob is advertised but never enabled. */
  assert_false (json_object_object_get_ex (peer_command (peer, 0), "arguments", NULL));
}

/* Runs qmp_session_new() against @script and expects it to fail with @code and @phrase. */
static void
check_start_fails (const PeerStep *script, gint64 timeout_ms, QmpError code, const char *phrase)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  int client_read, client_write;
  QmpSession *session;

  peer = peer_start (script, TRANSPORT_SOCKETPAIR, &client_read, &client_write);
  session = qmp_session_new (client_read, client_write, qmp_deadline_in_ms (timeout_ms), &error);
  assert_null (session);
  assert_error (error, code, phrase);
  /* The fds were taken even on failure: the peer sees EOF and ends. */
  peer_finish (peer);
}

static void
test_greeting_errors (void **state)
{
  static const PeerStep not_a_greeting[] = {
    { PEER_WRITE, "{\"return\": {}}\r\n" }, { PEER_DRAIN, NULL }, { PEER_END, NULL },
  };
  static const PeerStep no_version[] = {
    { PEER_WRITE, "{\"QMP\": {\"capabilities\": []}}\r\n" }, { PEER_DRAIN, NULL }, { PEER_END, NULL },
  };
  static const PeerStep bad_micro[] = {
    { PEER_WRITE, "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": \"3\", \"minor\": 5, "
                  "\"major\": 1}}}}\r\n" },
    { PEER_DRAIN, NULL }, { PEER_END, NULL },
  };
  static const PeerStep banner[] = {
    { PEER_WRITE, "QEMU 7.2.0 monitor - type 'help' for more information\r\n(qemu) " },
    { PEER_DRAIN, NULL }, { PEER_END, NULL },
  };
  static const PeerStep silent[] = {
    { PEER_DRAIN, NULL }, { PEER_END, NULL },
  };
  static const PeerStep closes[] = {
    { PEER_CLOSE, NULL }, { PEER_END, NULL },
  };
  static const PeerStep refuses[] = {
    { PEER_WRITE, GREETING_7_2 },
    { PEER_READ, "qmp_capabilities" },
    { PEER_WRITE, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Capabilities "
                  "negotiation is already complete, command ignored\"}, \"id\": @0@}\r\n" },
    { PEER_DRAIN, NULL }, { PEER_END, NULL },
  };

  check_start_fails (not_a_greeting, 20000, QMP_ERROR_PROTOCOL, "greeting expected");
  check_start_fails (no_version, 20000, QMP_ERROR_PROTOCOL, "version.qemu");
  check_start_fails (bad_micro, 20000, QMP_ERROR_PROTOCOL, "version.qemu.micro");
  check_start_fails (banner, 20000, QMP_ERROR_PROTOCOL, "not JSON");
  check_start_fails (silent, 100, QMP_ERROR_TIMEOUT, "greeting");
  check_start_fails (closes, 20000, QMP_ERROR_CLOSED, "QEMU closed the monitor");
  check_start_fails (refuses, 20000, QMP_ERROR_COMMAND, "negotiation");
}

/* ---- ids, events, pipelining ---- */

static void
test_events_between_replies (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-status" },
    { PEER_WRITE, "{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 5}, "
                  "\"event\": \"STOP\"}\r\n"
                  "{\"event\": \"RESUME\", \"data\": {\"why\": \"test\"}, \"timestamp\": "
                  "{\"seconds\": 1700000002, \"microseconds\": 6}}\r\n"
                  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": @1@}\r\n"
                  "{\"event\": \"STOP\", \"timestamp\": {\"seconds\": -1, \"microseconds\": -1}}\r\n" },
    { PEER_READ, "query-name" },
    { PEER_WRITE, "{\"event\": \"NO_TIMESTAMP\"}\r\n{\"return\": {}, \"id\": @2@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, NULL, &peer);
  json_object *reply;
  QmpEvent *event;

  assert_null (qmp_session_take_event (session, NULL));
  reply = qmp_session_execute (session, "query-status", NULL, qmp_deadline_in_ms (20000), &error);
  assert_non_null (reply);
  assert_string_equal (member_string (reply, "status"), "running");
  json_object_put (reply);

  /* By name first, out of arrival order. */
  event = qmp_session_take_event (session, "RESUME");
  assert_non_null (event);
  assert_string_equal (event->name, "RESUME");
  assert_int_equal (event->seconds, 1700000002);
  assert_int_equal (event->microseconds, 6);
  assert_string_equal (member_string (event->data, "why"), "test");
  qmp_event_free (event);
  assert_null (qmp_session_take_event (session, "RESUME"));

  event = qmp_session_take_event (session, NULL);
  assert_non_null (event);
  assert_string_equal (event->name, "STOP");
  assert_int_equal (event->seconds, 1700000001);
  assert_null (event->data);
  qmp_event_free (event);

  /* The STOP after the reply was read with it, and keeps QEMU's "no clock" stamp. */
  event = qmp_session_take_event (session, "STOP");
  assert_non_null (event);
  assert_int_equal (event->seconds, -1);
  assert_int_equal (event->microseconds, -1);
  qmp_event_free (event);
  assert_null (qmp_session_take_event (session, NULL));

  reply = qmp_session_execute (session, "query-name", NULL, qmp_deadline_in_ms (20000), &error);
  assert_non_null (reply);
  json_object_put (reply);
  event = qmp_session_take_event (session, "NO_TIMESTAMP");
  assert_non_null (event);
  assert_int_equal (event->seconds, -1);
  qmp_event_free (event);

  qmp_session_free (session);
  peer_finish (peer);
}

static void
check_pipelining (Transport transport)
{
  /* Replies come back c, a, b; the client collects b, c, a. */
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "cmd-a" }, { PEER_READ, "cmd-b" }, { PEER_READ, "cmd-c" },
    { PEER_WRITE, "{\"return\": {\"answer\": \"c\"}, \"id\": @3@}\r\n" },
    { PEER_WRITE, "{\"event\": \"BETWEEN\"}\r\n{\"return\": {\"answer\": \"a\"}, \"id\": @1@}" },
    { PEER_WRITE, "\n{\"return\": {\"answer\": \"b\"}, \"id\": @2@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  static const char *const collect[] = { "b", "c", "a" };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  json_object *arguments = json_object_new_object ();
  QmpSession *session = session_start (script, transport, NULL, &peer);
  QmpEvent *event;
  guint64 ids[3];

  json_object_object_add (arguments, "path", json_object_new_string ("/machine"));
  ids[0] = qmp_session_send (session, "cmd-a", arguments, &error);
  ids[1] = qmp_session_send (session, "cmd-b", NULL, &error);
  ids[2] = qmp_session_send (session, "cmd-c", NULL, &error);
  json_object_put (arguments);
  assert_null (error);
  assert_true (ids[0] > 0 && ids[1] != ids[0] && ids[2] != ids[1] && ids[2] != ids[0]);

  for (gsize i = 0; i < G_N_ELEMENTS (collect); i++)
    {
      guint which = (guint) (collect[i][0] - 'a');
      json_object *reply = qmp_session_wait (session, ids[which], qmp_deadline_in_ms (20000),
                                             &error);
      assert_non_null (reply);
      assert_string_equal (member_string (reply, "answer"), collect[i]);
      json_object_put (reply);
    }
  /* A collected id is gone. */
  assert_null (qmp_session_wait (session, ids[0], qmp_deadline_in_ms (20000), &error));
  assert_error (error, QMP_ERROR_PROTOCOL, "no QMP command with id");
  event = qmp_session_take_event (session, "BETWEEN");
  assert_non_null (event);
  qmp_event_free (event);
  assert_null (qmp_session_take_event (session, NULL));

  qmp_session_free (session);
  peer_finish (peer);
  /* The arguments went out as given. */
  assert_string_equal (member_string (json_object_object_get (peer_command (peer, 1), "arguments"),
                                      "path"), "/machine");
}

static void
test_pipelining_socketpair (void **state)
{
  check_pipelining (TRANSPORT_SOCKETPAIR);
}

static void
test_pipelining_pipes (void **state)
{
  check_pipelining (TRANSPORT_PIPES);
}

static void
test_unknown_ids_dropped (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-kvm" },
    { PEER_WRITE, "{\"return\": {\"stale\": true}, \"id\": 999}\r\n"
                  "{\"return\": {\"stale\": true}, \"id\": \"probe-7\"}\r\n"
                  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"stale\"}, \"id\": [1]}\r\n"
                  "{\"return\": {\"enabled\": false, \"present\": true}, \"id\": @1@}\r\n"
                  "{\"return\": {\"duplicate\": true}, \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, NULL, &peer);
  json_object *reply;

  reply = qmp_session_execute (session, "query-kvm", NULL, qmp_deadline_in_ms (20000), &error);
  assert_non_null (reply);
  assert_true (json_object_get_boolean (json_object_object_get (reply, "present")));
  assert_false (json_object_object_get_ex (reply, "stale", NULL));
  json_object_put (reply);
  qmp_session_free (session);
  peer_finish (peer);
}

/* ---- error paths ---- */

static void
test_command_errors (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "qom-get" },
    { PEER_WRITE, "{\"error\": {\"class\": \"DeviceNotFound\", \"desc\": \"Device "
                  "'/machine/nothing' not found\"}, \"id\": @1@}\r\n" },
    { PEER_READ, "query-cpu-model-expansion" },
    { PEER_WRITE, "{\"id\": @2@, \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
                  "command query-cpu-model-expansion has not been found\"}}\r\n" },
    { PEER_READ, "query-status" },
    { PEER_WRITE, "{\"return\": {\"status\": \"prelaunch\"}, \"id\": @3@}\r\n" },
    { PEER_READ, "odd-error" },
    { PEER_WRITE, "{\"error\": {}, \"id\": @4@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_PIPES, NULL, &peer);
  gint64 deadline = qmp_deadline_in_ms (20000);
  json_object *reply;

  {
    g_autoptr (GError) error = NULL;
    assert_null (qmp_session_execute (session, "qom-get", NULL, deadline, &error));
    assert_error (error, QMP_ERROR_COMMAND, NULL);
    assert_string_equal (error->message, "DeviceNotFound: Device '/machine/nothing' not found");
    assert_string_equal (qmp_session_last_error_class (session), "DeviceNotFound");
    assert_string_equal (qmp_session_last_error_desc (session),
                         "Device '/machine/nothing' not found");
  }
  {
    g_autoptr (GError) error = NULL;
    assert_null (qmp_session_execute (session, "query-cpu-model-expansion", NULL, deadline,
                                      &error));
    assert_error (error, QMP_ERROR_NOT_FOUND, "CommandNotFound: The command");
    assert_string_equal (qmp_session_last_error_class (session), "CommandNotFound");
  }
  {
    g_autoptr (GError) error = NULL;
    reply = qmp_session_execute (session, "query-status", NULL, deadline, &error);
    assert_non_null (reply);
    json_object_put (reply);
    assert_null (qmp_session_last_error_class (session));
    assert_null (qmp_session_last_error_desc (session));
  }
  {
    /* An error without class or desc is still an error, of the generic kind. */
    g_autoptr (GError) error = NULL;
    assert_null (qmp_session_execute (session, "odd-error", NULL, deadline, &error));
    assert_error (error, QMP_ERROR_COMMAND, "GenericError");
  }
  qmp_session_free (session);
  peer_finish (peer);
}

/* A reply wanted as text: the "return" written out from a descriptor, an error leaves it
 * NULL as qmp_session_wait_optional() does, and the in-process text form is no reply
 * when a peer on a descriptor sends it. */
static void
test_wait_optional_text (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-machines" },
    { PEER_WRITE, "{\"return\": [{\"name\": \"pc-i440fx-7.2\", \"alias\": \"pc\"}], "
                  "\"id\": @1@}\r\n" },
    { PEER_READ, "query-cpu-definitions" },
    { PEER_WRITE, "{\"id\": @2@, \"error\": {\"class\": \"CommandNotFound\", \"desc\": "
                  "\"The command query-cpu-definitions has not been found\"}}\r\n" },
    { PEER_READ, "query-kvm" },
    { PEER_WRITE, "{\"id\": @3@, \"reply-text\": \"{\\\"return\\\": {}}\"}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, NULL, &peer);
  gint64 deadline = qmp_deadline_in_ms (20000);
  g_autoptr (GError) error = NULL;
  g_autofree char *machines = NULL;
  g_autofree char *definitions = NULL;
  g_autofree char *kvm = NULL;
  guint64 id;

  id = qmp_session_send (session, "query-machines", NULL, &error);
  assert_true (qmp_session_wait_optional_text (session, id, &machines, deadline, &error));
  assert_string_equal (machines, "[{\"name\":\"pc-i440fx-7.2\",\"alias\":\"pc\"}]");

  id = qmp_session_send (session, "query-cpu-definitions", NULL, &error);
  assert_true (qmp_session_wait_optional_text (session, id, &definitions, deadline, &error));
  assert_null (definitions);
  assert_string_equal (qmp_session_last_error_class (session), "CommandNotFound");

  id = qmp_session_send (session, "query-kvm", NULL, &error);
  assert_false (qmp_session_wait_optional_text (session, id, &kvm, deadline, &error));
  assert_null (kvm);
  assert_error (error, QMP_ERROR_PROTOCOL, "neither a reply nor an event");
  qmp_session_free (session);
  peer_finish (peer);
}

static void
test_reply_without_id (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-version" },
    { PEER_WRITE, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"JSON parse error, "
                  "expecting value\"}}\r\n" },
    { PEER_READ, "query-status" },
    { PEER_WRITE, "[\"not\", \"an\", \"object\"]\r\n" },
    { PEER_READ, "query-name" },
    { PEER_WRITE, "{\"neither\": 1}\r\n" },
    { PEER_READ, "query-uuid" },
    { PEER_WRITE, "{\"return\": {\"UUID\": \"00000000-0000-0000-0000-000000000000\"}, "
                  "\"id\": @4@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, NULL, &peer);
  gint64 deadline = qmp_deadline_in_ms (20000);
  json_object *reply;

  {
    g_autoptr (GError) error = NULL;
    assert_null (qmp_session_execute (session, "query-version", NULL, deadline, &error));
    assert_error (error, QMP_ERROR_PROTOCOL, "JSON parse error, expecting value");
    assert_null (qmp_session_last_error_class (session));
  }
  {
    g_autoptr (GError) error = NULL;
    assert_null (qmp_session_execute (session, "query-status", NULL, deadline, &error));
    assert_error (error, QMP_ERROR_PROTOCOL, "not a JSON object");
  }
  {
    g_autoptr (GError) error = NULL;
    assert_null (qmp_session_execute (session, "query-name", NULL, deadline, &error));
    assert_error (error, QMP_ERROR_PROTOCOL, "neither a reply nor an event");
  }
  {
    /* Those were single bad messages; the stream is still in step. */
    g_autoptr (GError) error = NULL;
    reply = qmp_session_execute (session, "query-uuid", NULL, deadline, &error);
    assert_non_null (reply);
    json_object_put (reply);
  }
  qmp_session_free (session);
  peer_finish (peer);
}

typedef struct {
  GPtrArray *log;           /* "received <json>", "sent <command>", "closed" */
} TapLog;

static void
record_tap (QmpTapDirection direction, json_object *message, gpointer user_data)
{
  TapLog *tap_log = user_data;

  switch (direction)
    {
    case QMP_TAP_RECEIVED:
      g_ptr_array_add (tap_log->log, g_strdup_printf ("received %s",
                                                      json_object_to_json_string_ext (
                                                        message, JSON_C_TO_STRING_PLAIN)));
      break;
    case QMP_TAP_SENT:
      g_ptr_array_add (tap_log->log, g_strdup_printf ("sent %s", member_string (message,
                                                                                "execute")));
      break;
    case QMP_TAP_CLOSED:
      assert_null (message);
      g_ptr_array_add (tap_log->log, g_strdup ("closed"));
      break;
    }
}

static char *
explain_exit (gpointer user_data)
{
  return g_strdup (user_data);
}

static void
test_closed (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-status" },
    { PEER_WRITE, "{\"event\": \"SHUTDOWN\"}\r\n" },
    { PEER_CLOSE, NULL },
    { PEER_END, NULL },
  };
  static const char *const expected_log[] = {
    ("received {\"QMP\":{\"version\":{\"qemu\":{\"micro\":0,\"minor\":2,\"major\":7},"
     "\"package\":\"Debian 1:7.2+dfsg-7+deb12u7\"},\"capabilities\":[\"oob\"]}}"),
    "sent qmp_capabilities",
    "received {\"return\":{},\"id\":1}",
    "sent query-status",
    "received {\"event\":\"SHUTDOWN\"}",
    "closed",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) again = NULL;
  g_autoptr (GError) send_error = NULL;
  g_autoptr (Peer) peer = NULL;
  g_autoptr (GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  TapLog tap_log = { log };
  QmpSessionOptions options = {
    .tap = record_tap, .tap_data = &tap_log,
    .explain_close = explain_exit, .explain_data = (gpointer) "exited with status 1: boom",
  };
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, &options, &peer);
  QmpEvent *event;
  guint64 id;

  assert_null (qmp_session_execute (session, "query-status", NULL, qmp_deadline_in_ms (20000),
                                    &error));
  assert_error (error, QMP_ERROR_CLOSED, NULL);
  assert_string_equal (error->message, "QEMU closed the monitor: exited with status 1: boom");
  /* Events read before the end stay readable. */
  event = qmp_session_take_event (session, "SHUTDOWN");
  assert_non_null (event);
  qmp_event_free (event);
  /* Sending after the end fails the same way, without touching the fd. */
  id = qmp_session_send (session, "query-status", NULL, &send_error);
  assert_int_equal (id, 0);
  assert_error (send_error, QMP_ERROR_CLOSED, "exited with status 1");
  assert_null (qmp_session_execute (session, "x", NULL, qmp_deadline_in_ms (20000), &again));
  assert_error (again, QMP_ERROR_CLOSED, NULL);

  qmp_session_free (session);
  peer_finish (peer);
  assert_int_equal (log->len, G_N_ELEMENTS (expected_log));
  for (guint i = 0; i < log->len; i++)
    assert_string_equal (g_ptr_array_index (log, i), expected_log[i]);
}

static void
test_closed_mid_message (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-cpu-definitions" },
    { PEER_WRITE, "{\"return\": [{\"name\": \"Haswell\", \"unavailable-features\": [\"hle\"," },
    { PEER_CLOSE, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) quit_error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_PIPES, NULL, &peer);

  assert_null (qmp_session_execute (session, "query-cpu-definitions", NULL,
                                    qmp_deadline_in_ms (20000), &error));
  assert_error (error, QMP_ERROR_CLOSED, "mid-message");
  /* A truncated message is not the clean end quit waits for. */
  assert_false (qmp_session_quit (session, qmp_deadline_in_ms (20000), &quit_error));
  assert_error (quit_error, QMP_ERROR_CLOSED, "mid-message");
  qmp_session_free (session);
  peer_finish (peer);
}

static void
test_oversized_message (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "qom-list-types" },
    { PEER_WRITE, "{\"return\": [\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
                  "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\", "
                  "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"], "
                  "\"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSessionOptions options = { .max_message_size = 200 };
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, &options, &peer);

  assert_null (qmp_session_execute (session, "qom-list-types", NULL, qmp_deadline_in_ms (20000),
                                    &error));
  assert_error (error, QMP_ERROR_PROTOCOL, "exceeds the limit of 200 bytes");
  qmp_session_free (session);
  peer_finish (peer);
}

static void
test_too_deep_message (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "qom-get" },
    { PEER_WRITE, "{\"return\": [[[[[1]]]]], \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSessionOptions options = { .max_depth = 4 };
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, &options, &peer);

  assert_null (qmp_session_execute (session, "qom-get", NULL, qmp_deadline_in_ms (20000), &error));
  assert_error (error, QMP_ERROR_PROTOCOL, "deeper than 4 levels");
  qmp_session_free (session);
  peer_finish (peer);
}

/* ---- deadlines ---- */

static void
test_timeout_then_late_reply (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-migrate" },
    { PEER_AWAIT, NULL },
    { PEER_WRITE, "{\"return\": {\"status\": \"none\"}, \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) past_error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, NULL, &peer);
  gint64 deadline = qmp_deadline_in_ms (100);
  json_object *reply;
  guint64 id;

  id = qmp_session_send (session, "query-migrate", NULL, &error);
  assert_true (id > 0);
  assert_null (qmp_session_wait (session, id, deadline, &error));
  assert_error (error, QMP_ERROR_TIMEOUT, "query-migrate");
  /* A deadline is a point in time: giving up before it would be a bug. */
  assert_true (g_get_monotonic_time () >= deadline);
  /* A deadline already past still gives up, after looking once. */
  assert_null (qmp_session_wait (session, id, deadline, &past_error));
  assert_error (past_error, QMP_ERROR_TIMEOUT, NULL);

  /* The command is still in flight; its reply arrives later and is still delivered. */
  peer_go_on (peer);
  g_clear_error (&error);
  reply = qmp_session_wait (session, id, qmp_deadline_in_ms (20000), &error);
  assert_non_null (reply);
  assert_string_equal (member_string (reply, "status"), "none");
  json_object_put (reply);
  qmp_session_free (session);
  peer_finish (peer);
}

static void
test_past_deadline_with_reply_waiting (void **state)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-balloon" },
    { PEER_WRITE, "{\"return\": {\"actual\": 1073741824}, \"id\": @1@}\r\n" },
    { PEER_NOTIFY, NULL },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_PIPES, NULL, &peer);
  json_object *reply;
  guint64 id;

  id = qmp_session_send (session, "query-balloon", NULL, &error);
  assert_true (id > 0);
  peer_wait_notify (peer);
  /* The reply is already in the pipe: an expired deadline must not hide it. */
  reply = qmp_session_wait (session, id, g_get_monotonic_time () - 1000000, &error);
  assert_non_null (reply);
  assert_int_equal (json_object_get_int64 (json_object_object_get (reply, "actual")), 1073741824);
  json_object_put (reply);
  qmp_session_free (session);
  peer_finish (peer);
}

static void
test_deadline_in_ms (void **state)
{
  gint64 before = g_get_monotonic_time ();
  gint64 deadline = qmp_deadline_in_ms (1500);
  gint64 after = g_get_monotonic_time ();

  assert_true (deadline >= before + 1500000);
  assert_true (deadline <= after + 1500000);
  assert_int_equal (qmp_deadline_in_ms (G_MAXINT64), G_MAXINT64);
}

static void
test_far_deadline (void **state)
{
  /* A deadline too far for poll() to express must not turn into "now" or overflow. */
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_1_5_3),
    { PEER_READ, "query-commands" },
    { PEER_WRITE, "{\"return\": [{\"name\": \"quit\"}], \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, NULL, &peer);
  json_object *reply;

  reply = qmp_session_execute (session, "query-commands", NULL, G_MAXINT64, &error);
  assert_non_null (reply);
  assert_int_equal (json_object_array_length (reply), 1);
  json_object_put (reply);
  qmp_session_free (session);
  peer_finish (peer);
}

static void
ignore_interrupt (int signal_number)
{
}

static void
test_interrupted_wait (void **state)
{
  /* Signals without SA_RESTART make poll() and read() fail with EINTR; a wait must
   * carry on rather than fail or lose its place. */
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-iothreads" },
    { PEER_INTERRUPT, NULL }, { PEER_INTERRUPT, NULL }, { PEER_INTERRUPT, NULL },
    { PEER_WRITE, "{\"return\": [], \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  struct sigaction interrupt = { .sa_handler = ignore_interrupt, .sa_flags = 0 };
  struct sigaction previous;
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session;
  json_object *reply;

  sigemptyset (&interrupt.sa_mask);
  assert_int_equal (sigaction (SIGUSR1, &interrupt, &previous), 0);
  session = session_start (script, TRANSPORT_PIPES, NULL, &peer);
  reply = qmp_session_execute (session, "query-iothreads", NULL, qmp_deadline_in_ms (20000),
                               &error);
  assert_non_null (reply);
  assert_int_equal (json_object_array_length (reply), 0);
  json_object_put (reply);
  qmp_session_free (session);
  peer_finish (peer);
  sigaction (SIGUSR1, &previous, NULL);
}

/* A peer floods events with @flood between a query-status and its reply; the queue is
 * bounded, and what it keeps are the newest, in order. Returns how many it kept, each
 * event named @name with a number "n" in its data, the last of them @n_sent - 1. */
static guint
kept_of_flood (PeerAction flood, const char *name, guint n_sent)
{
  const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "query-status" },
    { flood, NULL },
    { PEER_WRITE, "{\"return\": {}, \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, TRANSPORT_SOCKETPAIR, NULL, &peer);
  json_object *reply;
  QmpEvent *event;
  guint kept = 0;
  gint64 last = -1;

  reply = qmp_session_execute (session, "query-status", NULL, qmp_deadline_in_ms (20000), &error);
  assert_non_null (reply);
  json_object_put (reply);
  while ((event = qmp_session_take_event (session, name)) != NULL)
    {
      gint64 n = json_object_get_int64 (json_object_object_get (event->data, "n"));
      if (last >= 0)
        assert_int_equal (n, last + 1);
      last = n;
      kept++;
      qmp_event_free (event);
    }
  assert_int_equal (last, n_sent - 1);
  qmp_session_free (session);
  peer_finish (peer);
  return kept;
}

static void
test_event_flood_is_bounded (void **state)
{
  guint kept = kept_of_flood (PEER_FLOOD, "FLOOD", FLOOD_EVENTS);

  assert_true (kept > 0 && kept < FLOOD_EVENTS);
}

/* Large events are bounded by their bytes too: 40 MiB of events keep a few MiB, the
 * newest, however few they are in number. */
static void
test_large_event_flood_is_bounded (void **state)
{
  guint kept = kept_of_flood (PEER_FLOOD_LARGE, "BIG", LARGE_EVENTS);

  assert_true (kept > 0 && kept <= 8);
}

/* ---- quit ---- */

static void
check_quit (const PeerStep *script, Transport transport, gboolean expect_success,
            QmpError code, gint64 timeout_ms)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSession *session = session_start (script, transport, NULL, &peer);
  gboolean quit = qmp_session_quit (session, qmp_deadline_in_ms (timeout_ms), &error);

  if (expect_success)
    {
      if (!quit)
        fail_msg ("quit failed: %s", error->message);
    }
  else
    {
      assert_false (quit);
      assert_error (error, code, NULL);
    }
  qmp_session_free (session);
  peer_finish (peer);
}

static void
test_quit (void **state)
{
  static const PeerStep with_reply[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "quit" },
    { PEER_WRITE, "{\"return\": {}, \"id\": @1@}\r\n{\"timestamp\": {\"seconds\": 1, "
                  "\"microseconds\": 2}, \"event\": \"SHUTDOWN\", \"data\": {\"guest\": false, "
                  "\"reason\": \"host-qmp-quit\"}}\r\n" },
    { PEER_CLOSE, NULL },
    { PEER_END, NULL },
  };
  static const PeerStep without_reply[] = {
    NEGOTIATE (GREETING_1_5_3),
    { PEER_READ, "quit" },
    { PEER_CLOSE, NULL },
    { PEER_END, NULL },
  };
  static const PeerStep refused[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "quit" },
    { PEER_WRITE, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"no\"}, \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  static const PeerStep stays_open[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "quit" },
    { PEER_WRITE, "{\"return\": {}, \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  static const PeerStep never_answers[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };

  check_quit (with_reply, TRANSPORT_SOCKETPAIR, TRUE, 0, 20000);
  check_quit (with_reply, TRANSPORT_PIPES, TRUE, 0, 20000);
  check_quit (without_reply, TRANSPORT_SOCKETPAIR, TRUE, 0, 20000);
  check_quit (without_reply, TRANSPORT_PIPES, TRUE, 0, 20000);
  check_quit (refused, TRANSPORT_SOCKETPAIR, FALSE, QMP_ERROR_COMMAND, 20000);
  check_quit (stays_open, TRANSPORT_SOCKETPAIR, FALSE, QMP_ERROR_TIMEOUT, 100);
  check_quit (never_answers, TRANSPORT_PIPES, FALSE, QMP_ERROR_TIMEOUT, 100);
}

/* ---- writing to a peer that is gone ---- */

static gboolean
sigpipe_pending (void)
{
  sigset_t pending;

  sigpending (&pending);
  return sigismember (&pending, SIGPIPE);
}

static void
check_send_to_closed_peer (Transport transport)
{
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_CLOSE, NULL },
    { PEER_NOTIFY, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  QmpSessionOptions options = {
    .explain_close = explain_exit, .explain_data = (gpointer) "killed by signal 9",
  };
  QmpSession *session = session_start (script, transport, &options, &peer);
  struct sigaction previous;
  struct sigaction default_action = { .sa_handler = SIG_DFL };

  /* The default action is what would kill a careless client. */
  sigemptyset (&default_action.sa_mask);
  assert_int_equal (sigaction (SIGPIPE, &default_action, &previous), 0);
  peer_wait_notify (peer);
  /* The session has not read the EOF yet, so it writes into the closed connection. */
  assert_int_equal (qmp_session_send (session, "query-status", NULL, &error), 0);
  assert_error (error, QMP_ERROR_CLOSED, NULL);
  assert_string_equal (error->message,
                       "cannot send query-status: QEMU closed the monitor: killed by signal 9");
  assert_false (sigpipe_pending ());
  sigaction (SIGPIPE, &previous, NULL);
  qmp_session_free (session);
  peer_finish (peer);
}

static void
test_send_to_closed_socketpair (void **state)
{
  check_send_to_closed_peer (TRANSPORT_SOCKETPAIR);
}

static void
test_send_to_closed_pipe (void **state)
{
  check_send_to_closed_peer (TRANSPORT_PIPES);
}

static void
test_large_command_partial_writes (void **state)
{
  /* Larger than a pipe buffer, so the write goes out in pieces while the peer reads. */
  static const PeerStep script[] = {
    NEGOTIATE (GREETING_7_2),
    { PEER_READ, "qom-set" },
    { PEER_WRITE, "{\"return\": {}, \"id\": @1@}\r\n" },
    { PEER_DRAIN, NULL },
    { PEER_END, NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (Peer) peer = NULL;
  g_autofree char *value = g_strnfill (300000, 'v');
  json_object *arguments = json_object_new_object ();
  QmpSession *session = session_start (script, TRANSPORT_PIPES, NULL, &peer);
  json_object *reply;
  json_object *sent;

  json_object_object_add (arguments, "value", json_object_new_string (value));
  reply = qmp_session_execute (session, "qom-set", arguments, qmp_deadline_in_ms (20000), &error);
  json_object_put (arguments);
  assert_non_null (reply);
  json_object_put (reply);
  qmp_session_free (session);
  peer_finish (peer);
  sent = json_object_object_get (peer_command (peer, 1), "arguments");
  assert_int_equal (strlen (member_string (sent, "value")), 300000);
}

/* ---- the real thing ---- */

static void
test_real_qemu (void **state)
{
  const char *qemu = test_qemu_binary ();
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSession) session = NULL;
  json_object *version;
  json_object *qemu_version;
  GPid pid;
  int to_qemu, from_qemu;
  int status = 0;

  TEST_REQUIRE_QEMU ();
  {
    const char *argv[] = {
      qemu, "-S", "-no-user-config", "-nodefaults", "-nographic",
      "-machine", "none,accel=tcg", "-qmp", "stdio", NULL,
    };
    if (!g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                   G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL,
                                   NULL, NULL, &pid, &to_qemu, &from_qemu, NULL, &error))
      fail_msg ("cannot start %s: %s", qemu, error->message);
  }
  session = qmp_session_new (from_qemu, to_qemu, qmp_deadline_in_ms (30000), &error);
  if (session == NULL)
    fail_msg ("QMP with %s: %s", qemu, error->message);

  version = qmp_session_execute (session, "query-version", NULL, qmp_deadline_in_ms (30000),
                                 &error);
  assert_non_null (version);
  qemu_version = json_object_object_get (version, "qemu");
  assert_int_equal (json_object_get_int (json_object_object_get (qemu_version, "major")),
                    qmp_session_get_version (session)->major);
  assert_int_equal (json_object_get_int (json_object_object_get (qemu_version, "minor")),
                    qmp_session_get_version (session)->minor);
  json_object_put (version);

  /* A command this QEMU lacks is told apart from other failures. */
  assert_null (qmp_session_execute (session, "no-such-command", NULL, qmp_deadline_in_ms (30000),
                                    &error));
  assert_error (error, QMP_ERROR_NOT_FOUND, NULL);
  assert_string_equal (qmp_session_last_error_class (session), "CommandNotFound");
  g_clear_error (&error);

  if (!qmp_session_quit (session, qmp_deadline_in_ms (30000), &error))
    fail_msg ("quit: %s", error->message);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
  g_spawn_close_pid (pid);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_greeting_1_5_3_socketpair),
    cmocka_unit_test (test_greeting_1_5_3_pipes),
    cmocka_unit_test (test_greeting_7_2_with_oob),
    cmocka_unit_test (test_greeting_errors),
    cmocka_unit_test (test_events_between_replies),
    cmocka_unit_test (test_pipelining_socketpair),
    cmocka_unit_test (test_pipelining_pipes),
    cmocka_unit_test (test_unknown_ids_dropped),
    cmocka_unit_test (test_command_errors),
    cmocka_unit_test (test_reply_without_id),
    cmocka_unit_test (test_wait_optional_text),
    cmocka_unit_test (test_closed),
    cmocka_unit_test (test_closed_mid_message),
    cmocka_unit_test (test_oversized_message),
    cmocka_unit_test (test_too_deep_message),
    cmocka_unit_test (test_timeout_then_late_reply),
    cmocka_unit_test (test_past_deadline_with_reply_waiting),
    cmocka_unit_test (test_deadline_in_ms),
    cmocka_unit_test (test_far_deadline),
    cmocka_unit_test (test_interrupted_wait),
    cmocka_unit_test (test_event_flood_is_bounded),
    cmocka_unit_test (test_large_event_flood_is_bounded),
    cmocka_unit_test (test_quit),
    cmocka_unit_test (test_send_to_closed_socketpair),
    cmocka_unit_test (test_send_to_closed_pipe),
    cmocka_unit_test (test_large_command_partial_writes),
    cmocka_unit_test (test_real_qemu),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
