/* qmp/replies.c — reads .replies files (and the .json metadata beside them) into segments
 * of recorded exchanges. */
#include "qmp/replay.h"

#include <string.h>
#include "qmp/json-skim.h"
#include "qmp/json-stream.h"
#include "qmp/record.h"
#include "qmp/session.h"

G_DEFINE_QUARK (qmp-replay-error-quark, qmp_replay_error)

typedef struct {
  json_object *greeting;
  GPtrArray *exchanges;          /* QmpRecordedExchange * */
  gint filled;                   /* lazy recordings: messages read (atomic) */
  guint shares;                  /* lazy recordings: the segment whose messages these are */
} Segment;

struct QmpReplies
{
  gatomicrefcount ref_count;
  char *path;
  json_object *metadata;
  GPtrArray *segments;           /* Segment * */
  gboolean has_commands;
  QmpReplayAnswerFunc answer_func;   /* what the recording lacks, answered otherwise */
  gpointer answer_data;
  /* Lazy recordings (qmp_replies_new_lazy()): each segment read when first served. */
  QmpRepliesFillFunc fill;
  gpointer fill_data;
  GDestroyNotify fill_destroy;
  GMutex fill_lock;
  GError *fill_error;            /* the first segment that could not be read */
  GMutex shared_lock;            /* qmp_replies_lock() */
};

static void segment_free (gpointer data);

static QmpReplies *
replies_new (const char *path)
{
  QmpReplies *replies = g_new0 (QmpReplies, 1);

  g_atomic_ref_count_init (&replies->ref_count);
  replies->path = g_strdup (path);
  replies->segments = g_ptr_array_new_with_free_func (segment_free);
  g_mutex_init (&replies->fill_lock);
  g_mutex_init (&replies->shared_lock);
  return replies;
}

static void
exchange_free (gpointer data)
{
  QmpRecordedExchange *exchange = data;

  json_object_put (exchange->command);
  json_object_put (exchange->reply);
  g_free (exchange->reply_text);
  g_free (exchange->reply_text_where);
  g_ptr_array_unref (exchange->events);
  g_free (exchange);
}

static void
json_put (gpointer object)
{
  json_object_put (object);
}

static QmpRecordedExchange *
exchange_new (guint line)
{
  QmpRecordedExchange *exchange = g_new0 (QmpRecordedExchange, 1);

  exchange->events = g_ptr_array_new_with_free_func (json_put);
  exchange->line = line;
  return exchange;
}

static Segment *
segment_new (void)
{
  Segment *segment = g_new0 (Segment, 1);

  segment->exchanges = g_ptr_array_new_with_free_func (exchange_free);
  return segment;
}

static void
segment_free (gpointer data)
{
  Segment *segment = data;

  json_object_put (segment->greeting);
  g_ptr_array_unref (segment->exchanges);
  g_free (segment);
}

/* ---- Reading a file of JSON objects, remembering where each starts ---- */

typedef gboolean (*ObjectFunc) (json_object *object, guint line, gpointer user_data,
                                GError **error);

static gboolean
has_non_space (const char *line, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (line[i]))
      return TRUE;
  return FALSE;
}

/* Why @path could not be read, in the "<input>: <problem>" words of every other error:
 * GLib's own message repeats the path in quotes and is translated. */
static const char *
read_problem (const GError *read_error)
{
  if (read_error->domain == G_FILE_ERROR)
    switch (read_error->code)
      {
      case G_FILE_ERROR_NOENT:
        return "no such file";
      case G_FILE_ERROR_ISDIR:
        return "is a directory";
      case G_FILE_ERROR_ACCES:
        return "permission denied";
      default:
        break;
      }
  return read_error->message;
}

/* Calls @func for each top-level JSON value of @path, with the line it starts on. */
static gboolean
read_json_objects (const char *path, ObjectFunc func, gpointer user_data, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (QmpJsonStream) stream = NULL;
  g_autofree char *contents = NULL;
  gsize length;
  guint line_number = 0;
  guint start_line = 0;
  gsize offset = 0;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_IO, "%s: %s", path,
                   read_problem (local_error));
      return FALSE;
    }
  stream = qmp_json_stream_new (0, 0);
  while (offset < length)
    {
      const char *line = contents + offset;
      const char *newline = memchr (line, '\n', length - offset);
      gsize line_length = newline != NULL ? (gsize) (newline - line) + 1 : length - offset;
      json_object *object;

      offset += line_length;
      line_number++;
      if (start_line == 0 && has_non_space (line, line_length))
        start_line = line_number;
      if (!qmp_json_stream_feed (stream, line, line_length, &local_error))
        {
          g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE, "%s:%u: %s", path,
                       line_number, local_error->message);
          return FALSE;
        }
      while ((object = qmp_json_stream_pop (stream)) != NULL)
        {
          gboolean ok = func (object, start_line, user_data, error);
          json_object_put (object);
          if (!ok)
            return FALSE;
          /* A second value completed on this line also started on it. */
          start_line = line_number;
        }
      if (!qmp_json_stream_in_message (stream))
        start_line = 0;
    }
  /* A number at the very end has no delimiter yet: a final newline settles it. */
  if (!qmp_json_stream_feed (stream, "\n", 1, &local_error))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE, "%s:%u: %s", path,
                   line_number, local_error->message);
      return FALSE;
    }
  for (json_object *object; (object = qmp_json_stream_pop (stream)) != NULL;)
    {
      gboolean ok = func (object, start_line, user_data, error);
      json_object_put (object);
      if (!ok)
        return FALSE;
    }
  if (qmp_json_stream_in_message (stream))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s:%u: JSON value not finished at the end of the file", path, start_line);
      return FALSE;
    }
  return TRUE;
}

/* ---- The .replies layout ---- */

typedef struct {
  QmpReplies *replies;
  Segment *segment;                 /* the one being filled */
  QmpRecordedExchange *open;        /* command still waiting for its reply */
  GPtrArray *pending_events;        /* events before the next exchange starts */
} ParseState;

static QmpRecordedExchange *
start_exchange (ParseState *state, guint line)
{
  QmpRecordedExchange *exchange = exchange_new (line);

  /* Events recorded before a command belong to its exchange: they came before its reply. */
  g_ptr_array_extend_and_steal (exchange->events, state->pending_events);
  state->pending_events = g_ptr_array_new_with_free_func (json_put);
  g_ptr_array_add (state->segment->exchanges, exchange);
  return exchange;
}

static void
start_segment (ParseState *state)
{
  state->segment = segment_new ();
  state->open = NULL;
  /* Events after the last reply of a segment answer nothing and are dropped. */
  g_ptr_array_set_size (state->pending_events, 0);
  g_ptr_array_add (state->replies->segments, state->segment);
}

static gboolean
add_replies_object (json_object *object, guint line, gpointer user_data, GError **error)
{
  ParseState *state = user_data;
  const char *path = state->replies->path;
  json_object *name = NULL;

  if (!json_object_is_type (object, json_type_object))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s:%u: expected a JSON object", path, line);
      return FALSE;
    }
  if (json_object_object_get_ex (object, "QMP", NULL))
    {
      g_autoptr (GError) greeting_error = NULL;

      /* Checked here, as the session would check it, so a bad recording is the file's
       * fault (with its line) and not a QEMU that stopped speaking QMP. */
      if (!qmp_greeting_parse (object, NULL, NULL, &greeting_error))
        {
          g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE, "%s:%u: %s", path, line,
                       greeting_error->message);
          return FALSE;
        }
      if (state->segment->greeting != NULL || state->segment->exchanges->len > 0)
        start_segment (state);
      state->segment->greeting = json_object_get (object);
    }
  else if (json_object_object_get_ex (object, "execute", &name)
           || json_object_object_get_ex (object, "exec-oob", &name))
    {
      if (!json_object_is_type (name, json_type_string))
        {
          g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                       "%s:%u: the command name is not a string", path, line);
          return FALSE;
        }
      state->open = start_exchange (state, line);
      state->open->command = json_object_get (object);
      state->replies->has_commands = TRUE;
    }
  else if (json_object_object_get_ex (object, "return", NULL)
           || json_object_object_get_ex (object, "error", NULL))
    {
      QmpRecordedExchange *exchange = state->open != NULL ? state->open
                                                          : start_exchange (state, line);
      exchange->reply = json_object_get (object);
      state->open = NULL;
    }
  else if (json_object_object_get_ex (object, "event", NULL))
    g_ptr_array_add (state->open != NULL ? state->open->events : state->pending_events,
                     json_object_get (object));
  else
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s:%u: not a QMP message (no QMP, execute, return, error or event member)",
                   path, line);
      return FALSE;
    }
  return TRUE;
}

/* libvirt's newer files leave the greeting out: make one from the query-version reply. */
static gboolean
make_greeting (QmpReplies *replies, Segment *segment, GError **error)
{
  for (guint i = 0; i < segment->exchanges->len; i++)
    {
      QmpRecordedExchange *exchange = g_ptr_array_index (segment->exchanges, i);
      json_object *version = NULL;
      json_object *command_name = NULL;
      json_object *qmp;

      if (exchange->reply == NULL || !json_object_object_get_ex (exchange->reply, "return", &version))
        continue;
      if (exchange->command != NULL
          && (!json_object_object_get_ex (exchange->command, "execute", &command_name)
              || g_strcmp0 (json_object_get_string (command_name), "query-version") != 0))
        continue;
      if (!qmp_replay_shape_fits ("query-version", NULL, version))
        continue;
      qmp = json_object_new_object ();
      json_object_object_add (qmp, "version", json_object_get (version));
      json_object_object_add (qmp, "capabilities", json_object_new_array ());
      segment->greeting = json_object_new_object ();
      json_object_object_add (segment->greeting, "QMP", qmp);
      return TRUE;
    }
  g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_EMPTY,
               "%s has no QMP greeting and no query-version reply to make one from",
               replies->path);
  return FALSE;
}

/* ---- Metadata ---- */

typedef struct {
  const char *path;
  json_object *object;
} MetadataState;

static gboolean
take_metadata_object (json_object *object, guint line, gpointer user_data, GError **error)
{
  MetadataState *state = user_data;

  if (state->object != NULL || !json_object_is_type (object, json_type_object))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s:%u: expected a single JSON object", state->path, line);
      return FALSE;
    }
  state->object = json_object_get (object);
  return TRUE;
}

static gboolean
is_string_list (json_object *value)
{
  if (!json_object_is_type (value, json_type_array))
    return FALSE;
  for (guint i = 0; i < json_object_array_length (value); i++)
    if (!json_object_is_type (json_object_array_get_idx (value, i), json_type_string))
      return FALSE;
  return TRUE;
}

/* The members a segment is chosen by (qmp/source.h) must have the types the recorder
 * writes, or a replay would quietly match the wrong segment or none. */
static gboolean
check_sessions (const char *path, json_object *metadata, GError **error)
{
  static const char *const string_members[] = { "accel", "machine", "cpu" };
  json_object *sessions = NULL;

  if (!json_object_object_get_ex (metadata, "sessions", &sessions) || sessions == NULL)
    return TRUE;
  if (!json_object_is_type (sessions, json_type_array))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s: \"sessions\" is not a list", path);
      return FALSE;
    }
  for (guint i = 0; i < json_object_array_length (sessions); i++)
    {
      json_object *launch = json_object_array_get_idx (sessions, i);
      json_object *member = NULL;

      if (!json_object_is_type (launch, json_type_object))
        {
          g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                       "%s: sessions[%u] is not an object", path, i);
          return FALSE;
        }
      for (guint m = 0; m < G_N_ELEMENTS (string_members); m++)
        if (json_object_object_get_ex (launch, string_members[m], &member) && member != NULL
            && !json_object_is_type (member, json_type_string))
          {
            g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                         "%s: sessions[%u].%s is not a string", path, i, string_members[m]);
            return FALSE;
          }
      if (json_object_object_get_ex (launch, "preconfig", &member)
          && !json_object_is_type (member, json_type_boolean))
        {
          g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                       "%s: sessions[%u].preconfig is not a boolean", path, i);
          return FALSE;
        }
      if (json_object_object_get_ex (launch, "globals", &member)
          && !is_string_list (member))
        {
          g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                       "%s: sessions[%u].globals is not a list of strings", path, i);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
load_metadata (QmpReplies *replies, GError **error)
{
  g_autofree char *path = g_strconcat (replies->path, ".json", NULL);
  MetadataState state = { path, NULL };

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!read_json_objects (path, take_metadata_object, &state, error))
    {
      json_object_put (state.object);
      return FALSE;
    }
  if (state.object == NULL)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s: expected a JSON object, found nothing", path);
      return FALSE;
    }
  if (!check_sessions (path, state.object, error))
    {
      json_object_put (state.object);
      return FALSE;
    }
  replies->metadata = state.object;
  return TRUE;
}

/* A session whose QEMU ended before its monitor answered has a launch object in the
 * metadata and nothing in the file (qmp/record.h): an empty segment at its index keeps
 * every later segment at the index of its own launch object. */
static void
insert_exited_segments (QmpReplies *replies)
{
  json_object *sessions = NULL;

  if (replies->metadata == NULL
      || !json_object_object_get_ex (replies->metadata, "sessions", &sessions)
      || !json_object_is_type (sessions, json_type_array))
    return;
  for (guint i = 0; i < json_object_array_length (sessions); i++)
    if (qmp_recorded_launch_exited (json_object_array_get_idx (sessions, i)))
      g_ptr_array_insert (replies->segments, (gint) MIN (i, replies->segments->len),
                          segment_new ());
}

/* ---- Public ---- */

QmpReplies *
qmp_replies_load (const char *path, GError **error)
{
  g_autoptr (QmpReplies) replies = replies_new (path);
  ParseState state = { 0 };
  gboolean ok;


  state.replies = replies;
  state.pending_events = g_ptr_array_new_with_free_func (json_put);
  start_segment (&state);
  ok = read_json_objects (path, add_replies_object, &state, error);
  g_ptr_array_unref (state.pending_events);
  if (!ok)
    return NULL;

  if (replies->segments->len == 1)
    {
      Segment *only = g_ptr_array_index (replies->segments, 0);
      if (only->greeting == NULL && only->exchanges->len == 0)
        g_ptr_array_set_size (replies->segments, 0);
    }
  for (guint i = 0; i < replies->segments->len; i++)
    {
      Segment *segment = g_ptr_array_index (replies->segments, i);
      if (segment->greeting == NULL && !make_greeting (replies, segment, error))
        return NULL;
    }
  if (!load_metadata (replies, error))
    return NULL;
  insert_exited_segments (replies);
  if (replies->segments->len == 0)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_EMPTY,
                   "%s holds no QMP messages", path);
      return NULL;
    }
  return g_steal_pointer (&replies);
}

QmpReplies *
qmp_replies_new_from_messages (const char *name, json_object *messages, json_object *metadata,
                               GError **error)
{
  g_autoptr (QmpReplies) replies = replies_new (name);
  ParseState state = { 0 };
  gboolean ok = TRUE;

  if (!json_object_is_type (messages, json_type_array))
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s: the QMP messages are not a list", name);
      return NULL;
    }

  state.replies = replies;
  state.pending_events = g_ptr_array_new_with_free_func (json_put);
  start_segment (&state);
  /* A message's "line" is its place in the list, counted from 1 like a file's lines. */
  for (guint i = 0; ok && i < json_object_array_length (messages); i++)
    ok = add_replies_object (json_object_array_get_idx (messages, i), i + 1, &state, error);
  g_ptr_array_unref (state.pending_events);
  if (!ok)
    return NULL;
  for (guint i = 0; i < replies->segments->len; i++)
    {
      Segment *segment = g_ptr_array_index (replies->segments, i);
      if (segment->greeting == NULL && !make_greeting (replies, segment, error))
        return NULL;
    }
  if (metadata != NULL)
    {
      if (!json_object_is_type (metadata, json_type_object))
        {
          g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                       "%s: the recording's metadata is not an object", name);
          return NULL;
        }
      if (!check_sessions (name, metadata, error))
        return NULL;
      replies->metadata = json_object_get (metadata);
    }
  insert_exited_segments (replies);
  return g_steal_pointer (&replies);
}

QmpReplies *
qmp_replies_new_lazy (const char *name, json_object *metadata, guint n_segments,
                      const guint *shares, QmpRepliesFillFunc fill, gpointer fill_data,
                      GDestroyNotify destroy, GError **error)
{
  QmpReplies *replies;
  json_object *sessions = NULL;

  if (!json_object_is_type (metadata, json_type_object) || !check_sessions (name, metadata, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                     "%s: the recording's metadata is not an object", name);
      return NULL;
    }
  if (!json_object_object_get_ex (metadata, "sessions", &sessions)
      || json_object_array_length (sessions) != n_segments)
    {
      g_set_error (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                   "%s: the metadata does not launch each of the %u sessions", name, n_segments);
      return NULL;
    }
  for (guint i = 0; shares != NULL && i < n_segments; i++)
    g_return_val_if_fail (shares[i] <= i, NULL);
  replies = replies_new (name);
  replies->metadata = json_object_get (metadata);
  for (guint i = 0; i < n_segments; i++)
    {
      Segment *segment = segment_new ();

      segment->shares = shares != NULL ? shares[i] : i;
      g_ptr_array_add (replies->segments, segment);
    }
  /* A lazy recording is ours: it records commands, and answers only those. */
  replies->has_commands = TRUE;
  replies->fill = fill;
  replies->fill_data = fill_data;
  replies->fill_destroy = destroy;
  return replies;
}

void
qmp_replies_lock (QmpReplies *replies)
{
  g_mutex_lock (&replies->shared_lock);
}

void
qmp_replies_unlock (QmpReplies *replies)
{
  g_mutex_unlock (&replies->shared_lock);
}

void
qmp_replies_note_malformed (QmpReplies *replies, const QmpRecordedExchange *exchange,
                            const char *problem)
{
  g_mutex_lock (&replies->fill_lock);
  if (replies->fill_error == NULL)
    replies->fill_error = g_error_new (QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                                       "%s is not JSON (%s)", exchange->reply_text_where,
                                       problem);
  g_mutex_unlock (&replies->fill_lock);
}

const GError *
qmp_replies_fill_error (QmpReplies *replies)
{
  const GError *error;

  g_mutex_lock (&replies->fill_lock);
  error = replies->fill_error;
  g_mutex_unlock (&replies->fill_lock);
  return error;
}

static void fill_segment_messages (QmpReplies *replies, guint index, Segment *segment);

/* Reads @segment's messages (index @index) into it, once. Called under fill_lock. */
static void
fill_segment (QmpReplies *replies, guint index, Segment *segment)
{
  /* Segments sharing another's messages share its parsed objects: whoever writes them out
   * holds the shared lock (qmp_replies_lock()). */
  if (segment->shares != index)
    {
      Segment *source = g_ptr_array_index (replies->segments, segment->shares);

      if (!g_atomic_int_get (&source->filled))
        fill_segment (replies, segment->shares, source);
      g_mutex_lock (&replies->shared_lock);
      segment->greeting = json_object_get (source->greeting);
      g_mutex_unlock (&replies->shared_lock);
      g_ptr_array_unref (segment->exchanges);
      segment->exchanges = g_ptr_array_ref (source->exchanges);
      g_atomic_int_set (&segment->filled, 1);
      return;
    }
  fill_segment_messages (replies, index, segment);
}

/* Replies at least this long are kept as their text and sent as read: a profile's model
 * list is 30 KB and its peer would otherwise parse it only to write it out again. */
#define REPLY_KEPT_AS_TEXT 1024

/* When the message at text[@start, @end) is a reply with no other member ("return" or
 * "error" alone, no "id"), its text is kept rather than parsed: TRUE with the exchange it
 * answers completed. It is checked when it is first served (a model list a question never
 * asks for is never read), and said to be @name[@line - 1] if it is not JSON. FALSE for
 * any other message: parse it. */
static gboolean
add_reply_text (ParseState *state, const char *name, guint line, const char *text, gsize start,
                gsize end)
{
  QmpJsonMember member = { 0 };
  QmpRecordedExchange *exchange;
  gsize at = qmp_json_skim_space (text, end, start + 1);

  if (end - start < REPLY_KEPT_AS_TEXT || text[start] != '{'
      || !qmp_json_skim_member (text, end, &at, &member)
      || !((member.name_length == 6 && memcmp (member.name, "return", 6) == 0)
           || (member.name_length == 5 && memcmp (member.name, "error", 5) == 0))
      || at + 1 != end || text[at] != '}')
    return FALSE;
  exchange = state->open != NULL ? state->open : start_exchange (state, line);
  exchange->reply_text = g_strndup (text + start, end - start);
  exchange->reply_text_where = g_strdup_printf ("%s[%u]", name, line - 1);
  state->open = NULL;
  return TRUE;
}

static void
fill_segment_messages (QmpReplies *replies, guint index, Segment *segment)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;
  g_autoptr (GBytes) bytes = replies->fill (index, replies->fill_data, &name, &error);
  /* The messages are read as a recording of their own, so that one that does not hold
   * exactly this segment (a second greeting, none) is found out, not spliced in. */
  QmpReplies scratch = { .path = replies->path };
  ParseState state = { 0 };
  gboolean ok = bytes != NULL;

  if (ok)
    {
      gsize length, at;
      const char *text = g_bytes_get_data (bytes, &length);
      guint line = 0;

      scratch.segments = g_ptr_array_new_with_free_func (segment_free);
      state.replies = &scratch;
      state.pending_events = g_ptr_array_new_with_free_func (json_put);
      start_segment (&state);
      at = qmp_json_skim_space (text, length, 0);
      if (at >= length || text[at] != '[')
        ok = FALSE, g_set_error (&error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                                 "%s is not a list", name);
      else
        at = qmp_json_skim_space (text, length, at + 1);
      while (ok && at < length && text[at] != ']')
        {
          gsize end = qmp_json_skim_value (text, length, at);
          const char *problem = NULL;
          json_object *message;

          /* A message's "line" is its place in the list, counted from 1 like a file's. */
          line++;
          if (end == 0)
            {
              ok = FALSE, g_set_error (&error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                                       "%s is not JSON (cut short)", name);
              break;
            }
          if (!add_reply_text (&state, name, line, text, at, end))
            {
              message = qmp_json_skim_parse (text, at, end, &problem);
              if (problem != NULL)
                {
                  ok = FALSE, g_set_error (&error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                                           "%s[%u] is not JSON (%s)", name, line - 1, problem);
                  break;
                }
              ok = add_replies_object (message, line, &state, &error);
              json_object_put (message);
            }
          at = qmp_json_skim_next (text, length, end);
        }
      if (ok && at >= length)
        ok = FALSE, g_set_error (&error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                                 "%s is not JSON (cut short)", name);
      g_ptr_array_unref (state.pending_events);
      if (ok && (scratch.segments->len != 1
                 || ((Segment *) g_ptr_array_index (scratch.segments, 0))->greeting == NULL))
        ok = FALSE, g_set_error (&error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_PARSE,
                                 "%s do not hold one session from its QMP greeting on", name);
      if (ok)
        {
          Segment *read = g_ptr_array_index (scratch.segments, 0);

          segment->greeting = g_steal_pointer (&read->greeting);
          g_ptr_array_extend_and_steal (segment->exchanges, g_steal_pointer (&read->exchanges));
          read->exchanges = g_ptr_array_new ();
        }
      g_ptr_array_unref (scratch.segments);
    }
  if (!ok && replies->fill_error == NULL)
    replies->fill_error = g_steal_pointer (&error);
  g_atomic_int_set (&segment->filled, 1);
}

/* Segment @index, its messages read first when the recording is lazy. */
static Segment *
segment_at (QmpReplies *replies, guint index)
{
  Segment *segment = g_ptr_array_index (replies->segments, index);

  if (replies->fill != NULL && !g_atomic_int_get (&segment->filled))
    {
      g_mutex_lock (&replies->fill_lock);
      if (!g_atomic_int_get (&segment->filled))
        fill_segment (replies, index, segment);
      g_mutex_unlock (&replies->fill_lock);
    }
  return segment;
}

QmpReplies *
qmp_replies_ref (QmpReplies *replies)
{
  g_atomic_ref_count_inc (&replies->ref_count);
  return replies;
}

void
qmp_replies_unref (QmpReplies *replies)
{
  if (replies == NULL || !g_atomic_ref_count_dec (&replies->ref_count))
    return;
  if (replies->fill_destroy != NULL)
    replies->fill_destroy (replies->fill_data);
  g_clear_error (&replies->fill_error);
  g_mutex_clear (&replies->fill_lock);
  g_mutex_clear (&replies->shared_lock);
  g_free (replies->path);
  json_object_put (replies->metadata);
  g_ptr_array_unref (replies->segments);
  g_free (replies);
}

void
qmp_replies_set_answer_func (QmpReplies *replies, QmpReplayAnswerFunc func, gpointer user_data)
{
  replies->answer_func = func;
  replies->answer_data = user_data;
}

QmpReplayAnswerFunc
qmp_replies_answer_func (QmpReplies *replies, gpointer *user_data)
{
  *user_data = replies->answer_data;
  return replies->answer_func;
}

const char *
qmp_replies_path (QmpReplies *replies)
{
  return replies->path;
}

guint
qmp_replies_n_segments (QmpReplies *replies)
{
  return replies->segments->len;
}

gboolean
qmp_replies_has_commands (QmpReplies *replies)
{
  return replies->has_commands;
}

json_object *
qmp_replies_metadata (QmpReplies *replies)
{
  return replies->metadata;
}

json_object *
qmp_replies_segment_launch (QmpReplies *replies, guint index)
{
  json_object *sessions = NULL;
  json_object *launch;

  if (replies->metadata == NULL
      || !json_object_object_get_ex (replies->metadata, "sessions", &sessions)
      || !json_object_is_type (sessions, json_type_array)
      || index >= json_object_array_length (sessions))
    return NULL;
  launch = json_object_array_get_idx (sessions, index);
  return json_object_is_type (launch, json_type_object) ? launch : NULL;
}

json_object *
qmp_replies_segment_exit (QmpReplies *replies, guint index)
{
  json_object *launch = qmp_replies_segment_launch (replies, index);
  json_object *early_exit = NULL;

  if (launch == NULL || !json_object_object_get_ex (launch, "exit", &early_exit))
    return NULL;
  return early_exit;
}

json_object *
qmp_replies_segment_greeting (QmpReplies *replies, guint index)
{
  g_return_val_if_fail (index < replies->segments->len, NULL);
  return segment_at (replies, index)->greeting;
}

guint
qmp_replies_segment_n_exchanges (QmpReplies *replies, guint index)
{
  g_return_val_if_fail (index < replies->segments->len, 0);
  return segment_at (replies, index)->exchanges->len;
}

const QmpRecordedExchange *
qmp_replies_segment_exchange (QmpReplies *replies, guint segment, guint index)
{
  Segment *recorded;

  g_return_val_if_fail (segment < replies->segments->len, NULL);
  recorded = segment_at (replies, segment);
  g_return_val_if_fail (index < recorded->exchanges->len, NULL);
  return g_ptr_array_index (recorded->exchanges, index);
}
