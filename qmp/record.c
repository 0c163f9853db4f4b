/* qmp/record.c — collects live conversations and writes them as a .replies file with
 * its .json metadata. */
#include "qmp/record.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>

/* A command sent and not answered yet, with the events that arrived meanwhile. */
typedef struct {
  json_object *command;
  GPtrArray *events;
} PendingCommand;

struct QmpRecordedSession
{
  QmpRecorder *recorder;
  json_object *launch;          /* may be NULL */
  GPtrArray *messages;          /* json_object *, in the order they are written */
  GPtrArray *pending;           /* PendingCommand *, in the order they were sent */
  gboolean has_greeting;
};

struct QmpRecorder
{
  GMutex lock;
  char *path;
  json_object *meta;
  GPtrArray *sessions;          /* QmpRecordedSession * */
};

static void
json_put (gpointer object)
{
  json_object_put (object);
}

static void
pending_free (gpointer data)
{
  PendingCommand *pending = data;

  json_object_put (pending->command);
  g_ptr_array_unref (pending->events);
  g_free (pending);
}

static void
recorded_session_free (gpointer data)
{
  QmpRecordedSession *session = data;

  json_object_put (session->launch);
  g_ptr_array_unref (session->messages);
  g_ptr_array_unref (session->pending);
  g_free (session);
}

QmpRecorder *
qmp_recorder_new (const char *path)
{
  QmpRecorder *recorder = g_new0 (QmpRecorder, 1);

  g_mutex_init (&recorder->lock);
  recorder->path = g_strdup (path);
  recorder->meta = json_object_new_object ();
  recorder->sessions = g_ptr_array_new_with_free_func (recorded_session_free);
  return recorder;
}

void
qmp_recorder_free (QmpRecorder *recorder)
{
  if (recorder == NULL)
    return;
  g_mutex_clear (&recorder->lock);
  g_free (recorder->path);
  json_object_put (recorder->meta);
  g_ptr_array_unref (recorder->sessions);
  g_free (recorder);
}

QmpRecordedSession *
qmp_recorder_add_session (QmpRecorder *recorder, json_object *launch)
{
  QmpRecordedSession *session = g_new0 (QmpRecordedSession, 1);

  session->recorder = recorder;
  session->launch = launch != NULL ? json_object_get (launch) : NULL;
  session->messages = g_ptr_array_new_with_free_func (json_put);
  session->pending = g_ptr_array_new_with_free_func (pending_free);
  g_mutex_lock (&recorder->lock);
  g_ptr_array_add (recorder->sessions, session);
  g_mutex_unlock (&recorder->lock);
  return session;
}

void
qmp_recorder_session_exited (QmpRecordedSession *session, json_object *early_exit)
{
  json_object *launch = NULL;

  g_mutex_lock (&session->recorder->lock);
  /* A copy: the launch object may be shared with a recording being replayed. */
  if (session->launch == NULL || json_object_deep_copy (session->launch, &launch, NULL) != 0)
    launch = json_object_new_object ();
  json_object_object_add (launch, "exit", json_object_get (early_exit));
  json_object_put (session->launch);
  session->launch = launch;
  g_mutex_unlock (&session->recorder->lock);
}

gboolean
qmp_recorded_launch_exited (json_object *launch)
{
  return launch != NULL && json_object_is_type (launch, json_type_object)
         && json_object_object_get_ex (launch, "exit", NULL);
}

static void
append_message (QmpRecordedSession *session, json_object *message)
{
  g_ptr_array_add (session->messages, json_object_get (message));
}

static void
append_pending (QmpRecordedSession *session, PendingCommand *pending)
{
  append_message (session, pending->command);
  for (guint i = 0; i < pending->events->len; i++)
    append_message (session, g_ptr_array_index (pending->events, i));
}

static gboolean
same_id (json_object *command, json_object *reply)
{
  json_object *command_id = NULL;
  json_object *reply_id = NULL;

  json_object_object_get_ex (command, "id", &command_id);
  json_object_object_get_ex (reply, "id", &reply_id);
  if (command_id == NULL || reply_id == NULL)
    return command_id == reply_id;
  return json_object_equal (command_id, reply_id);
}

/* Writes the reply right after its own command: pipelined commands stay paired. */
static void
record_reply (QmpRecordedSession *session, json_object *reply)
{
  guint index;

  for (index = 0; index < session->pending->len; index++)
    if (same_id (((PendingCommand *) g_ptr_array_index (session->pending, index))->command,
                 reply))
      break;
  /* A reply without a known id (QEMU could not parse the command) answers the oldest. */
  if (index == session->pending->len && session->pending->len > 0)
    index = 0;
  if (index < session->pending->len)
    {
      append_pending (session, g_ptr_array_index (session->pending, index));
      g_ptr_array_remove_index (session->pending, index);
    }
  append_message (session, reply);
}

static void
record_received (QmpRecordedSession *session, json_object *message)
{
  if (json_object_object_get_ex (message, "QMP", NULL))
    {
      session->has_greeting = TRUE;
      append_message (session, message);
    }
  else if (json_object_object_get_ex (message, "return", NULL)
           || json_object_object_get_ex (message, "error", NULL))
    record_reply (session, message);
  else if (session->pending->len > 0)
    {
      /* QEMU runs commands in order: an event comes before the oldest pending reply. */
      PendingCommand *oldest = g_ptr_array_index (session->pending, 0);
      g_ptr_array_add (oldest->events, json_object_get (message));
    }
  else
    append_message (session, message);
}

void
qmp_recorder_tap (QmpTapDirection direction, json_object *message, gpointer user_data)
{
  QmpRecordedSession *session = user_data;
  GMutex *lock = &session->recorder->lock;
  PendingCommand *pending;

  g_mutex_lock (lock);
  switch (direction)
    {
    case QMP_TAP_SENT:
      pending = g_new0 (PendingCommand, 1);
      pending->command = json_object_get (message);
      pending->events = g_ptr_array_new_with_free_func (json_put);
      g_ptr_array_add (session->pending, pending);
      break;
    case QMP_TAP_RECEIVED:
      record_received (session, message);
      break;
    case QMP_TAP_CLOSED:
      /* Cut short: the unanswered commands end the segment, as they ended the conversation. */
      for (guint i = 0; i < session->pending->len; i++)
        append_pending (session, g_ptr_array_index (session->pending, i));
      g_ptr_array_set_size (session->pending, 0);
      break;
    }
  g_mutex_unlock (lock);
}

void
qmp_recorder_set_meta (QmpRecorder *recorder, const char *key, json_object *value)
{
  g_mutex_lock (&recorder->lock);
  json_object_object_add (recorder->meta, key, value != NULL ? json_object_get (value) : NULL);
  g_mutex_unlock (&recorder->lock);
}

/* libvirt's look: two-space indent, "key": value, slashes as they are. */
#define RECORD_JSON_FLAGS \
  (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

static void
append_json (GString *text, json_object *object)
{
  if (text->len > 0)
    g_string_append (text, "\n");
  g_string_append (text, json_object_to_json_string_ext (object, RECORD_JSON_FLAGS));
  g_string_append (text, "\n");
}

static gboolean
write_atomically (const char *path, const GString *text, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!g_file_set_contents_full (path, text->str, (gssize) text->len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0644, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   "cannot write recording %s: %s", path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* What FILE holds, as a list of its messages in their order, and what FILE.json holds
 * (references owned by the caller). */
static void
collect (QmpRecorder *recorder, json_object **messages, json_object **metadata)
{
  json_object *launches = json_object_new_array ();

  *messages = json_object_new_array ();
  *metadata = json_object_new_object ();
  g_mutex_lock (&recorder->lock);
  json_object_object_add (*metadata, "format", json_object_new_string ("vcpuprobe-replies"));
  json_object_object_add (*metadata, "version", json_object_new_int (1));
  json_object_object_foreach (recorder->meta, key, value)
    json_object_object_add (*metadata, key, json_object_get (value));
  for (guint i = 0; i < recorder->sessions->len; i++)
    {
      QmpRecordedSession *session = g_ptr_array_index (recorder->sessions, i);

      /* A QEMU that ended early is replayed from its launch object alone: whatever it
       * managed to say (a greeting, on some QEMUs) is no conversation to serve. */
      if (qmp_recorded_launch_exited (session->launch))
        {
          json_object_array_add (launches, json_object_get (session->launch));
          continue;
        }
      /* Without a greeting there was no conversation, and no segment to replay. */
      if (!session->has_greeting)
        continue;
      for (guint m = 0; m < session->messages->len; m++)
        json_object_array_add (*messages, json_object_get (g_ptr_array_index (session->messages, m)));
      for (guint p = 0; p < session->pending->len; p++)
        {
          PendingCommand *pending = g_ptr_array_index (session->pending, p);
          json_object_array_add (*messages, json_object_get (pending->command));
          for (guint e = 0; e < pending->events->len; e++)
            json_object_array_add (*messages,
                                   json_object_get (g_ptr_array_index (pending->events, e)));
        }
      json_object_array_add (launches, session->launch != NULL
                                       ? json_object_get (session->launch) : NULL);
    }
  g_mutex_unlock (&recorder->lock);
  json_object_object_add (*metadata, "sessions", launches);
}

gboolean
qmp_recorder_finish (QmpRecorder *recorder, GError **error)
{
  g_autoptr (GString) replies = g_string_new (NULL);
  g_autoptr (GString) metadata_text = g_string_new (NULL);
  g_autofree char *metadata_path = g_strconcat (recorder->path, ".json", NULL);
  json_object *messages, *metadata;
  gboolean ok;

  collect (recorder, &messages, &metadata);
  for (guint i = 0; i < json_object_array_length (messages); i++)
    append_json (replies, json_object_array_get_idx (messages, i));
  g_string_append (metadata_text, json_object_to_json_string_ext (metadata, RECORD_JSON_FLAGS));
  g_string_append (metadata_text, "\n");
  json_object_put (messages);
  json_object_put (metadata);

  ok = write_atomically (recorder->path, replies, error)
       && write_atomically (metadata_path, metadata_text, error);
  return ok;
}

QmpReplies *
qmp_recorder_finish_in_memory (QmpRecorder *recorder, GError **error)
{
  json_object *messages, *metadata;
  QmpReplies *replies;

  collect (recorder, &messages, &metadata);
  replies = qmp_replies_new_from_messages (recorder->path, messages, metadata, error);
  json_object_put (messages);
  json_object_put (metadata);
  return replies;
}
