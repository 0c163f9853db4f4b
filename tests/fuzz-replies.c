/* tests/fuzz-replies.c — libFuzzer target for `.replies` recordings: loading
 * (qmp/replies.c), the replay peer serving them to a real QmpSession (qmp/replay.c) and
 * the shape table that matches replies-only files (qmp/replay-shapes.c).
 *
 * The input is the .replies file; bytes after a first NUL, when there is one, are its
 * FILE.json metadata (the runner makes such seeds from the recordings that have one).
 * A file is loaded or refused with a message naming it. A loaded file is then served,
 * in each mode, to a session that asks the recorded commands and then those vcpuprobe
 * asks; whatever the peer sends, the session ends with an answer or an error, and the
 * peer accounts for every command. */
#include "fuzz-util.h"
#include "qmp/replay.h"
#include "qmp/session.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Enough to reach every branch of a segment without making one input slow. */
#define MAX_SEGMENTS 3
#define MAX_RECORDED_COMMANDS 24
/* The peer answers at once; this only bounds an input the session waits on in vain. */
#define SESSION_TIMEOUT_MS 2000

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *replies_path;
static char *metadata_path;

/* What vcpuprobe itself asks a QEMU (probe/expansion.c, probe/post-start.c), as
 * {"execute", "arguments"} texts. */
static const char *const probe_commands[] = {
  "{\"execute\": \"query-version\"}",
  "{\"execute\": \"query-kvm\"}",
  "{\"execute\": \"query-machines\"}",
  "{\"execute\": \"query-cpu-definitions\"}",
  "{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {\"type\": \"full\","
  " \"model\": {\"name\": \"host\", \"props\": {\"migratable\": false}}}}",
  "{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {\"type\": \"static\","
  " \"model\": {\"name\": \"Haswell\"}}}",
  "{\"execute\": \"query-cpus-fast\"}",
  "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/unattached/device[0]\","
  " \"property\": \"feature-words\"}}",
  "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/unattached/device[0]\","
  " \"property\": \"filtered-features\"}}",
  "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/unattached/device[0]\","
  " \"property\": \"unavailable-features\"}}",
  "{\"execute\": \"quit\"}",
};

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  replies_path = g_build_filename (fuzz_private_dir ("fuzz-replies"), "input.replies", NULL);
  metadata_path = g_strconcat (replies_path, ".json", NULL);
  return 0;
}

static const char *
command_name (json_object *command)
{
  json_object *execute;

  if (!json_object_object_get_ex (command, "execute", &execute)
      || !json_object_is_type (execute, json_type_string))
    return NULL;
  return json_object_get_string (execute);
}

static json_object *
command_arguments (json_object *command)
{
  json_object *arguments;

  if (!json_object_object_get_ex (command, "arguments", &arguments)
      || !json_object_is_type (arguments, json_type_object))
    return NULL;
  return arguments;
}

/* One command: an answer, or an error with a message. Returns FALSE once the peer is gone,
 * when asking more only repeats the same error. */
static gboolean
ask (QmpSession *session, json_object *command)
{
  g_autoptr (GError) error = NULL;
  const char *name = command_name (command);
  json_object *answer;

  if (name == NULL)
    return TRUE;
  answer = qmp_session_execute (session, name, command_arguments (command),
                                qmp_deadline_in_ms (SESSION_TIMEOUT_MS), &error);
  if (answer == NULL && (error == NULL || *error->message == '\0'))
    abort ();
  json_object_put (answer);
  return error == NULL || !g_error_matches (error, QMP_ERROR, QMP_ERROR_CLOSED);
}

/* Served over a socketpair by the peer's thread, or, @in_process, in this thread as a
 * host profile's sessions are: the same answers either way. */
static void
serve_segment (QmpReplies *replies, guint segment, QmpReplayMode mode, gboolean in_process)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplayPeer) peer = NULL;
  g_autoptr (QmpSession) session = NULL;
  g_autoptr (GPtrArray) unanswered = NULL;
  g_autoptr (GPtrArray) unused = NULL;
  guint n_exchanges = qmp_replies_segment_n_exchanges (replies, segment);
  gboolean open = TRUE;
  int fd = -1;

  peer = in_process ? qmp_replay_peer_new_in_process (replies, segment, mode, &error)
                    : qmp_replay_peer_start (replies, segment, mode, &fd, &error);
  if (peer == NULL)
    {
      if (error == NULL || *error->message == '\0')
        abort ();
      return;
    }
  session = in_process
            ? qmp_replay_peer_session (peer, NULL, qmp_deadline_in_ms (SESSION_TIMEOUT_MS), &error)
            : qmp_session_new (fd, fd, qmp_deadline_in_ms (SESSION_TIMEOUT_MS), &error);
  if (session == NULL)
    {
      if (error == NULL || *error->message == '\0')
        abort ();
    }
  else
    {
      for (guint i = 0; i < MIN (n_exchanges, MAX_RECORDED_COMMANDS) && open; i++)
        {
          const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (replies, segment, i);

          if (exchange->command != NULL)
            open = ask (session, exchange->command);
        }
      for (guint i = 0; i < G_N_ELEMENTS (probe_commands) && open; i++)
        {
          json_object *command = json_tokener_parse (probe_commands[i]);

          open = ask (session, command);
          json_object_put (command);
        }
      g_clear_pointer (&session, qmp_session_free);
    }
  unanswered = qmp_replay_peer_unanswered (peer);
  unused = qmp_replay_peer_unused (peer);
  if (unanswered == NULL || unused == NULL)
    abort ();
}

/* Every recorded reply against every shape the table knows. */
static void
match_shapes (QmpReplies *replies, guint segment)
{
  guint n_exchanges = qmp_replies_segment_n_exchanges (replies, segment);

  for (guint i = 0; i < n_exchanges; i++)
    {
      const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (replies, segment, i);
      json_object *reply_return;

      if (exchange->reply == NULL
          || !json_object_object_get_ex (exchange->reply, "return", &reply_return))
        continue;
      for (guint c = 0; c < G_N_ELEMENTS (probe_commands); c++)
        {
          json_object *command = json_tokener_parse (probe_commands[c]);

          qmp_replay_shape_fits (command_name (command), command_arguments (command),
                                 reply_return);
          json_object_put (command);
        }
      if (exchange->command != NULL && command_name (exchange->command) != NULL)
        qmp_replay_shape_fits (command_name (exchange->command),
                               command_arguments (exchange->command), reply_return);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const QmpReplayMode modes[] = { QMP_REPLAY_AUTO, QMP_REPLAY_ORDERED, QMP_REPLAY_SHAPE };
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplies) replies = NULL;
  const uint8_t *separator = memchr (data, '\0', size);
  size_t replies_len = separator != NULL ? (size_t) (separator - data) : size;

  fuzz_write_file (replies_path, data, replies_len);
  if (separator != NULL)
    fuzz_write_file (metadata_path, separator + 1, size - replies_len - 1);
  else
    unlink (metadata_path);

  replies = qmp_replies_load (replies_path, &error);
  if (replies == NULL)
    {
      /* Refused, naming the file (or its metadata file). */
      fuzz_expect_refusal (error, replies_path);
      return 0;
    }
  for (guint segment = 0; segment < MIN (qmp_replies_n_segments (replies), MAX_SEGMENTS);
       segment++)
    {
      match_shapes (replies, segment);
      for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
        serve_segment (replies, segment, modes[m], FALSE);
      /* In process once: the exchanges are chosen alike, the transport is what differs
       * (and each run of a seed costs CI's fuzz stage its time). */
      serve_segment (replies, segment, QMP_REPLAY_AUTO, TRUE);
    }
  return 0;
}
