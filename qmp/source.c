/* qmp/source.c — opens QMP sessions from a launched QEMU, a socket or a recording, with
 * the recorder and the --debug trace attached. */
#include "qmp/source.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

G_DEFINE_QUARK (qmp-source-error-quark, qmp_source_error)

struct QmpSource
{
  QmpSourceKind kind;
  char *target;                  /* binary, socket path or recording path */
  QemuMonitorTransport transport;
  QmpReplies *replies;
  QmpReplayMode replay_mode;
  gboolean *segment_used;        /* replay: per segment */
  QmpRecorder *recorder;         /* borrowed */
  gboolean debug;
  gboolean strict;
  gboolean in_process;           /* replay: peers in the caller's thread */
  /* Replay: what the connections closed so far could not answer, and whether any matched
   * a reply by shape. Probes open and close connections of their own, in threads of their
   * own, so the command that lent them this source learns it here. */
  GMutex replay_lock;
  GPtrArray *unanswered;         /* char *, each command once, in the order first asked */
  gboolean shape_matched;
};

/* What the session's single tap feeds. Lives in the connection, which outlives the session. */
typedef struct {
  QmpRecordedSession *recorded;
  gboolean debug;
} TapTargets;

struct QmpConnection
{
  QmpSource *source;             /* borrowed */
  QmpSession *session;
  QemuProcess *process;
  QmpReplayPeer *peer;
  TapTargets taps;
};

/* ---- Sources ---- */

static QmpSource *
source_new (QmpSourceKind kind, const char *target)
{
  QmpSource *source = g_new0 (QmpSource, 1);

  source->kind = kind;
  source->target = g_strdup (target);
  source->transport = QEMU_MONITOR_STDIO;
  g_mutex_init (&source->replay_lock);
  source->unanswered = g_ptr_array_new_with_free_func (g_free);
  return source;
}

QmpSource *
qmp_source_new_launch (const char *binary, GError **error)
{
  g_autofree char *path = qemu_find_binary (binary, error);

  if (path == NULL)
    return NULL;
  return source_new (QMP_SOURCE_LAUNCH, path);
}

QmpSource *
qmp_source_new_socket (const char *socket_path)
{
  return source_new (QMP_SOURCE_SOCKET, socket_path);
}

QmpSource *
qmp_source_new_replay_replies (QmpReplies *replies, const char *description, QmpReplayMode mode)
{
  QmpSource *source = source_new (QMP_SOURCE_REPLAY, description);

  source->replies = qmp_replies_ref (replies);
  source->replay_mode = mode;
  source->segment_used = g_new0 (gboolean, qmp_replies_n_segments (replies));
  return source;
}

QmpSource *
qmp_source_new_replay (const char *replies_path, QmpReplayMode mode, GError **error)
{
  g_autoptr (QmpReplies) replies = qmp_replies_load (replies_path, error);

  if (replies == NULL)
    return NULL;
  return qmp_source_new_replay_replies (replies, replies_path, mode);
}

void
qmp_source_set_in_process (QmpSource *source, gboolean in_process)
{
  source->in_process = in_process;
}

gboolean
qmp_source_in_process (QmpSource *source)
{
  return source->in_process;
}

void
qmp_source_free (QmpSource *source)
{
  if (source == NULL)
    return;
  g_free (source->target);
  qmp_replies_unref (source->replies);
  g_free (source->segment_used);
  g_ptr_array_unref (source->unanswered);
  g_mutex_clear (&source->replay_lock);
  g_free (source);
}

QmpSourceKind
qmp_source_kind (QmpSource *source)
{
  return source->kind;
}

const char *
qmp_source_describe (QmpSource *source)
{
  return source->target;
}

QmpReplies *
qmp_source_replies (QmpSource *source)
{
  return source->replies;
}

void
qmp_source_set_recorder (QmpSource *source, QmpRecorder *recorder)
{
  source->recorder = recorder;
}

void
qmp_source_set_debug (QmpSource *source, gboolean debug)
{
  source->debug = debug;
}

void
qmp_source_set_strict (QmpSource *source, gboolean strict)
{
  source->strict = strict;
}

void
qmp_source_set_transport (QmpSource *source, QemuMonitorTransport transport)
{
  source->transport = transport;
}

static const char *
launch_string (json_object *launch, const char *key, gboolean *present)
{
  json_object *value = NULL;

  *present = launch != NULL && json_object_object_get_ex (launch, key, &value);
  return value != NULL && json_object_is_type (value, json_type_string)
         ? json_object_get_string (value) : NULL;
}

const char *
qmp_source_recorded_accel (QmpSource *source)
{
  const char *agreed = NULL;

  if (source->replies == NULL)
    return NULL;
  for (guint i = 0; i < qmp_replies_n_segments (source->replies); i++)
    {
      gboolean present;
      const char *accel = launch_string (qmp_replies_segment_launch (source->replies, i),
                                         "accel", &present);
      if (accel == NULL || (agreed != NULL && !g_str_equal (agreed, accel)))
        return NULL;
      agreed = accel;
    }
  return agreed;
}

/* ---- Picking a recorded segment (the rules are in qmp/source.h) ---- */

static gboolean
string_matches (json_object *launch, const char *key, const char *requested,
                gboolean null_is_wildcard)
{
  gboolean present;
  const char *recorded = launch_string (launch, key, &present);

  if (!present)
    return TRUE;
  if (requested == NULL && null_is_wildcard)
    return TRUE;
  return g_strcmp0 (recorded, requested) == 0;
}

/* Whether the recorded "globals" (absent: any) are the requested ones, in order. */
static gboolean
globals_match (json_object *launch, const char *const *requested)
{
  json_object *recorded = NULL;
  guint n_requested = requested != NULL ? g_strv_length ((char **) requested) : 0;

  if (!json_object_object_get_ex (launch, "globals", &recorded))
    return TRUE;
  if (json_object_array_length (recorded) != n_requested)
    return FALSE;
  for (guint i = 0; i < n_requested; i++)
    if (g_strcmp0 (json_object_get_string (json_object_array_get_idx (recorded, i)),
                   requested[i]) != 0)
      return FALSE;
  return TRUE;
}

static gboolean
launch_matches (json_object *launch, const QemuLaunchOptions *options)
{
  json_object *preconfig = NULL;

  if (launch == NULL)
    return TRUE;
  if (!string_matches (launch, "accel", options->accel, TRUE)
      || !string_matches (launch, "machine", options->machine != NULL ? options->machine : "none",
                          FALSE)
      || !string_matches (launch, "cpu", options->cpu, FALSE)
      || !globals_match (launch, options->globals))
    return FALSE;
  if (json_object_object_get_ex (launch, "preconfig", &preconfig)
      && json_object_get_boolean (preconfig) != (options->preconfig != FALSE))
    return FALSE;
  return TRUE;
}

static char *
describe_request (const QemuLaunchOptions *options)
{
  guint n_globals = options->globals != NULL ? g_strv_length ((char **) options->globals) : 0;
  g_autofree char *globals = n_globals > 0 ? g_strdup_printf (" %u globals", n_globals) : NULL;

  return g_strdup_printf ("accel=%s machine=%s cpu=%s%s%s",
                          options->accel != NULL ? options->accel : "any",
                          options->machine != NULL ? options->machine : "none",
                          options->cpu != NULL ? options->cpu : "(none)",
                          options->preconfig ? " preconfig" : "", globals != NULL ? globals : "");
}

static gboolean
choose_segment (QmpSource *source, const QemuLaunchOptions *options, guint *segment,
                GError **error)
{
  guint n_segments = qmp_replies_n_segments (source->replies);
  gboolean by_launch = qmp_replies_metadata (source->replies) != NULL && n_segments > 1;
  int last_match = -1;

  for (guint i = 0; i < n_segments; i++)
    {
      if (by_launch
          && !launch_matches (qmp_replies_segment_launch (source->replies, i), options))
        continue;
      last_match = (int) i;
      if (!source->segment_used[i])
        {
          *segment = i;
          return TRUE;
        }
    }
  if (last_match >= 0)
    {
      *segment = (guint) last_match;
      return TRUE;
    }
  {
    g_autofree char *request = describe_request (options);
    g_set_error (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT,
                 "recording %s has no session launched with %s",
                 qmp_replies_path (source->replies), request);
  }
  return FALSE;
}

/* ---- Taps ---- */

/* Sessions of one run may be traced from several threads at once (host probes kvm and tcg
 * in parallel): each line goes out whole, under a lock, so traces never interleave. */
static void
print_debug (QmpTapDirection direction, json_object *message)
{
  static GMutex trace_lock;
  g_autofree char *line = NULL;
  const char *rest;
  gsize left;

  if (direction == QMP_TAP_CLOSED)
    line = g_strdup ("<- (end of stream)\n");
  else
    line = g_strdup_printf ("%s %s\n", direction == QMP_TAP_SENT ? "->" : "<-",
                            json_object_to_json_string_ext (message, JSON_C_TO_STRING_PLAIN
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE));
  g_mutex_lock (&trace_lock);
  fflush (stderr);
  for (rest = line, left = strlen (line); left > 0;)
    {
      ssize_t written = write (STDERR_FILENO, rest, left);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        break;
      rest += written;
      left -= (gsize) written;
    }
  g_mutex_unlock (&trace_lock);
}

static void
connection_tap (QmpTapDirection direction, json_object *message, gpointer user_data)
{
  TapTargets *taps = user_data;

  if (taps->recorded != NULL)
    qmp_recorder_tap (direction, message, taps->recorded);
  if (taps->debug)
    print_debug (direction, message);
}

static json_object *
launch_description (const QemuLaunchOptions *options, const char *accel, const char *machine,
                    const char *const *argv)
{
  json_object *launch = json_object_new_object ();

  json_object_object_add (launch, "accel", accel != NULL ? json_object_new_string (accel) : NULL);
  json_object_object_add (launch, "machine",
                          json_object_new_string (machine != NULL ? machine : "none"));
  json_object_object_add (launch, "cpu",
                          options->cpu != NULL ? json_object_new_string (options->cpu) : NULL);
  json_object_object_add (launch, "preconfig", json_object_new_boolean (options->preconfig));
  /* Always written, so that a session launched without globals never answers for one
   * launched with them. */
  {
    json_object *globals = json_object_new_array ();

    for (guint i = 0; options->globals != NULL && options->globals[i] != NULL; i++)
      json_object_array_add (globals, json_object_new_string (options->globals[i]));
    json_object_object_add (launch, "globals", globals);
  }
  if (argv != NULL)
    {
      json_object *array = json_object_new_array ();
      for (guint i = 0; argv[i] != NULL; i++)
        json_object_array_add (array, json_object_new_string (argv[i]));
      json_object_object_add (launch, "argv", array);
    }
  return launch;
}

static void
start_recording (QmpConnection *connection, json_object *launch)
{
  QmpSource *source = connection->source;

  if (source->recorder != NULL)
    connection->taps.recorded = qmp_recorder_add_session (source->recorder, launch);
  json_object_put (launch);
}

/* ---- A QEMU that ended before its monitor answered ----
 *
 * Kept in the launch object as {"how": "exited with status 1", "stderr": TAIL or null,
 * "monitor-reached": true}, the pieces of the live QEMU_LAUNCH_ERROR_EXITED message, so
 * a replay fails the open with the same code and words. */

static json_object *
early_exit_to_json (const QemuEarlyExit *early_exit)
{
  json_object *object = json_object_new_object ();

  json_object_object_add (object, "how", json_object_new_string (early_exit->how));
  json_object_object_add (object, "stderr", early_exit->stderr_tail != NULL
                                            ? json_object_new_string (early_exit->stderr_tail)
                                            : NULL);
  json_object_object_add (object, "monitor-reached",
                          json_object_new_boolean (early_exit->monitor_reached));
  return object;
}

/* The QEMU binary a recorded segment ran: its argv[0], else the recording's qemu-binary. */
static const char *
recorded_binary (QmpReplies *replies, guint segment)
{
  json_object *launch = qmp_replies_segment_launch (replies, segment);
  json_object *metadata = qmp_replies_metadata (replies);
  json_object *argv = NULL;
  json_object *binary = NULL;

  if (launch != NULL && json_object_object_get_ex (launch, "argv", &argv)
      && json_object_is_type (argv, json_type_array) && json_object_array_length (argv) > 0
      && json_object_is_type (json_object_array_get_idx (argv, 0), json_type_string))
    return json_object_get_string (json_object_array_get_idx (argv, 0));
  if (metadata != NULL && json_object_object_get_ex (metadata, "qemu-binary", &binary)
      && json_object_is_type (binary, json_type_string))
    return json_object_get_string (binary);
  return "(unknown binary)";
}

static void
replay_early_exit (QmpReplies *replies, guint segment, json_object *recorded, GError **error)
{
  json_object *how = NULL;
  json_object *tail = NULL;
  json_object *monitor_reached = NULL;
  QemuEarlyExit early_exit = { 0 };

  json_object_object_get_ex (recorded, "how", &how);
  json_object_object_get_ex (recorded, "stderr", &tail);
  early_exit.how = g_strdup (how != NULL && json_object_is_type (how, json_type_string)
                             ? json_object_get_string (how) : "ended");
  early_exit.stderr_tail = tail != NULL && json_object_is_type (tail, json_type_string)
                           ? g_strdup (json_object_get_string (tail)) : NULL;
  early_exit.monitor_reached = !json_object_object_get_ex (recorded, "monitor-reached",
                                                           &monitor_reached)
                               || json_object_get_boolean (monitor_reached);
  qemu_early_exit_set_error (&early_exit, recorded_binary (replies, segment), error);
  qemu_early_exit_clear (&early_exit);
}

/* ---- Opening ---- */

static int
connect_socket (const char *path, GError **error)
{
  struct sockaddr_un address;
  struct stat st;
  int fd;

  memset (&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (strlen (path) >= sizeof address.sun_path)
    {
      g_set_error (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_CONNECT,
                   "socket path %s is too long", path);
      return -1;
    }
  g_strlcpy (address.sun_path, path, sizeof address.sun_path);
  /* connect() calls a regular file "Connection refused", as if a QEMU had gone away. */
  if (stat (path, &st) == 0 && !S_ISSOCK (st.st_mode))
    {
      g_set_error (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NOT_SOCKET,
                   "%s is not a socket", path);
      return -1;
    }
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &address, sizeof address) < 0)
    {
      int saved_errno = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_CONNECT,
                   "cannot connect to QMP socket %s: %s", path, g_strerror (saved_errno));
      return -1;
    }
  return fd;
}

static gboolean
open_launch (QmpConnection *connection, const QmpSessionOptions *session_options,
             const QemuLaunchOptions *options, gint64 deadline_us, GError **error)
{
  QemuLaunchOptions launch_options = *options;

  launch_options.binary = connection->source->target;
  launch_options.transport = connection->source->transport;
  connection->process = qemu_process_launch (&launch_options, deadline_us, error);
  if (connection->process == NULL)
    return FALSE;
  start_recording (connection,
                   launch_description (options, qemu_process_accel (connection->process),
                                       qemu_process_machine (connection->process),
                                       qemu_process_argv (connection->process)));
  connection->session = qemu_process_connect (connection->process, session_options,
                                              deadline_us, error);
  if (connection->session == NULL && connection->taps.recorded != NULL
      && qemu_process_early_exit (connection->process) != NULL)
    {
      json_object *early_exit = early_exit_to_json (qemu_process_early_exit (connection->process));

      qmp_recorder_session_exited (connection->taps.recorded, early_exit);
      json_object_put (early_exit);
    }
  return connection->session != NULL;
}

static gboolean
open_socket (QmpConnection *connection, const QmpSessionOptions *session_options,
             const QemuLaunchOptions *options, gint64 deadline_us, GError **error)
{
  int fd = connect_socket (connection->source->target, error);

  if (fd < 0)
    return FALSE;
  start_recording (connection, launch_description (options, options->accel, options->machine,
                                                   NULL));
  connection->session = qmp_session_new_full (fd, fd, session_options, deadline_us, error);
  return connection->session != NULL;
}

static gboolean
open_replay (QmpConnection *connection, const QmpSessionOptions *session_options,
             const QemuLaunchOptions *options, gint64 deadline_us, GError **error)
{
  QmpSource *source = connection->source;
  json_object *recorded_launch;
  guint segment;
  int fd = -1;

  if (!choose_segment (source, options, &segment, error))
    return FALSE;
  source->segment_used[segment] = TRUE;
  if (qmp_replies_segment_exit (source->replies, segment) != NULL)
    {
      /* A recorder keeps the launch object, "exit" and all: a re-recording fails alike. */
      start_recording (connection,
                       json_object_get (qmp_replies_segment_launch (source->replies, segment)));
      replay_early_exit (source->replies, segment,
                         qmp_replies_segment_exit (source->replies, segment), error);
      return FALSE;
    }
  if (source->in_process)
    connection->peer = qmp_replay_peer_new_in_process (source->replies, segment,
                                                       source->replay_mode, error);
  else
    connection->peer = qmp_replay_peer_start (source->replies, segment, source->replay_mode,
                                              &fd, error);
  if (connection->peer == NULL)
    return FALSE;
  recorded_launch = qmp_replies_segment_launch (source->replies, segment);
  start_recording (connection, recorded_launch != NULL
                                 ? json_object_get (recorded_launch)
                                 : launch_description (options, options->accel,
                                                       options->machine, NULL));
  connection->session = source->in_process
                          ? qmp_replay_peer_session (connection->peer, session_options,
                                                     deadline_us, error)
                          : qmp_session_new_full (fd, fd, session_options, deadline_us, error);
  return connection->session != NULL;
}

QmpConnection *
qmp_source_open (QmpSource *source, const QemuLaunchOptions *options, gint64 deadline_us,
                 GError **error)
{
  g_autoptr (QmpConnection) connection = g_new0 (QmpConnection, 1);
  QmpSessionOptions session_options = { 0 };
  gboolean opened = FALSE;

  connection->source = source;
  connection->taps.debug = source->debug;
  /* Only where something listens: a tapped session builds every message it is handed as
   * text (an in-process replay's model list) to show it. */
  if (source->debug || source->recorder != NULL)
    {
      session_options.tap = connection_tap;
      session_options.tap_data = &connection->taps;
    }

  switch (source->kind)
    {
    case QMP_SOURCE_LAUNCH:
      opened = open_launch (connection, &session_options, options, deadline_us, error);
      break;
    case QMP_SOURCE_SOCKET:
      opened = open_socket (connection, &session_options, options, deadline_us, error);
      break;
    case QMP_SOURCE_REPLAY:
      opened = open_replay (connection, &session_options, options, deadline_us, error);
      break;
    }
  if (!opened)
    return NULL;
  return g_steal_pointer (&connection);
}

QmpSession *
qmp_connection_session (QmpConnection *connection)
{
  return connection->session;
}

QemuProcess *
qmp_connection_process (QmpConnection *connection)
{
  return connection->process;
}

gboolean
qmp_connection_shape_matched (QmpConnection *connection)
{
  return connection->peer != NULL && qmp_replay_peer_shape_matched (connection->peer);
}

static char *
join_strings (GPtrArray *strings, const char *separator)
{
  GString *joined = g_string_new (NULL);

  for (guint i = 0; i < strings->len; i++)
    {
      if (i > 0)
        g_string_append (joined, separator);
      g_string_append (joined, g_ptr_array_index (strings, i));
    }
  return g_string_free (joined, FALSE);
}

static void
note_replay_outcome (QmpSource *source, GPtrArray *unanswered, gboolean shape_matched)
{
  g_mutex_lock (&source->replay_lock);
  for (guint i = 0; i < unanswered->len; i++)
    if (!g_ptr_array_find_with_equal_func (source->unanswered, unanswered->pdata[i],
                                           g_str_equal, NULL))
      g_ptr_array_add (source->unanswered, g_strdup (unanswered->pdata[i]));
  source->shape_matched |= shape_matched;
  g_mutex_unlock (&source->replay_lock);
}

gboolean
qmp_source_shape_matched (QmpSource *source)
{
  gboolean shape_matched;

  g_mutex_lock (&source->replay_lock);
  shape_matched = source->shape_matched;
  g_mutex_unlock (&source->replay_lock);
  return shape_matched;
}

gboolean
qmp_source_check_answered (QmpSource *source, GError **error)
{
  g_autofree char *list = NULL;

  g_mutex_lock (&source->replay_lock);
  if (source->strict && source->unanswered->len > 0)
    list = join_strings (source->unanswered, "; ");
  g_mutex_unlock (&source->replay_lock);
  if (list == NULL)
    return TRUE;
  g_set_error (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_REPLAY,
               "recording %s has no answer for %s", source->target, list);
  return FALSE;
}

gboolean
qmp_connection_close (QmpConnection *connection, GError **error)
{
  gboolean ok = TRUE;

  if (connection == NULL)
    return TRUE;
  if (connection->process != NULL)
    qemu_process_stop (connection->process, connection->session);
  /* The session goes first: it holds the far end of the peer and refers to the process. */
  g_clear_pointer (&connection->session, qmp_session_free);
  g_clear_pointer (&connection->process, qemu_process_free);
  if (connection->peer != NULL)
    {
      g_autoptr (GPtrArray) unanswered = NULL;

      /* Complete now: the peer notes a miss before it sends the error reply. */
      unanswered = qmp_replay_peer_unanswered (connection->peer);
      note_replay_outcome (connection->source, unanswered,
                           qmp_replay_peer_shape_matched (connection->peer));
      if (connection->source->strict && unanswered->len > 0)
        {
          g_autofree char *list = join_strings (unanswered, "; ");
          g_set_error (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_REPLAY,
                       "recording %s has no answer for %s",
                       qmp_source_describe (connection->source), list);
          ok = FALSE;
        }
      g_clear_pointer (&connection->peer, qmp_replay_peer_free);
    }
  g_free (connection);
  return ok;
}

void
qmp_connection_free (QmpConnection *connection)
{
  qmp_connection_close (connection, NULL);
}
