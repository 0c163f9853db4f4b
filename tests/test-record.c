/* tests/test-record.c — recording live conversations and replaying them through a source. */
#include "tests/test-util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "qmp/source.h"

#define GREETING \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7},\n" \
  "  \"package\": \"\"}, \"capabilities\": []}}\n\n"

static void
json_put (gpointer object)
{
  json_object_put (object);
}

static json_object *
execute_ok (QmpSession *session, const char *command, const char *arguments_json)
{
  g_autoptr (GError) error = NULL;
  json_object *arguments = arguments_json != NULL ? json_tokener_parse (arguments_json) : NULL;
  json_object *reply = qmp_session_execute (session, command, arguments,
                                            qmp_deadline_in_ms (20000), &error);

  json_object_put (arguments);
  if (reply == NULL)
    fail_msg ("%s: %s", command, error->message);
  return reply;
}

static json_object *
load_json (const char *path)
{
  json_object *object = json_object_from_file (path);

  assert_non_null (object);
  return object;
}

static const char *
member_string (json_object *object, const char *key)
{
  json_object *member = NULL;

  if (!json_object_object_get_ex (object, key, &member))
    return NULL;
  return json_object_get_string (member);
}

/* The commands a probe of this QEMU sends, each reply kept for comparison. */
static const char *const probe_commands[][2] = {
  { "query-version", NULL },
  { "query-cpu-definitions", NULL },
  { "query-cpu-model-expansion", "{\"type\": \"full\", \"model\": {\"name\": \"qemu64\"}}" },
  { "query-cpus-fast", NULL },
};

static GPtrArray *
run_probe (QmpSource *source, const char *machine, const char *cpu)
{
  QemuLaunchOptions options = { .accel = "tcg", .machine = machine, .cpu = cpu };
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpConnection) connection = NULL;
  GPtrArray *replies = g_ptr_array_new_with_free_func (json_put);

  connection = qmp_source_open (source, &options, qmp_deadline_in_ms (20000), &error);
  if (connection == NULL)
    fail_msg ("open: %s", error->message);
  for (guint i = 0; i < G_N_ELEMENTS (probe_commands); i++)
    g_ptr_array_add (replies, execute_ok (qmp_connection_session (connection),
                                          probe_commands[i][0], probe_commands[i][1]));
  assert_true (qmp_connection_close (g_steal_pointer (&connection), &error));
  return replies;
}

static void
assert_same_replies (GPtrArray *live, GPtrArray *replayed)
{
  assert_int_equal (live->len, replayed->len);
  for (guint i = 0; i < live->len; i++)
    if (!json_object_equal (g_ptr_array_index (live, i), g_ptr_array_index (replayed, i)))
      fail_msg ("reply to %s differs after replay", probe_commands[i][0]);
}

static guint
cpu_count (GPtrArray *replies)
{
  return (guint) json_object_array_length (g_ptr_array_index (replies, 3));
}

/* A launching source recording into @dir/@name (and @name.json), in *@live and *@recorder. */
static void
record_into (const char *dir, const char *name, char **path, char **metadata_path,
             QmpSource **live, QmpRecorder **recorder)
{
  g_autoptr (GError) error = NULL;

  *path = g_build_filename (dir, name, NULL);
  *metadata_path = g_strconcat (*path, ".json", NULL);
  *live = qmp_source_new_launch (test_qemu_binary (), &error);
  assert_non_null (*live);
  *recorder = qmp_recorder_new (*path);
  qmp_source_set_recorder (*live, *recorder);
}

/* Two QEMUs, a paused PC with -cpu and a query-mode one without (QEMU 7.2's "none"
 * machine cannot create an x86 CPU), recorded into one file, then replayed in the
 * other order: each open gets the segment launched its way. */
static void
test_record_qemu_and_replay (void **state)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *metadata_path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) live = NULL;
  g_autoptr (QmpSource) replay = NULL;
  g_autoptr (QmpRecorder) recorder = NULL;
  g_autoptr (GPtrArray) live_plain = NULL;
  g_autoptr (GPtrArray) live_cpu = NULL;
  g_autoptr (GPtrArray) replayed_plain = NULL;
  g_autoptr (GPtrArray) replayed_cpu = NULL;
  json_object *metadata;
  json_object *sessions = NULL;
  json_object *argv = NULL;
  json_object *host = json_object_new_string ("test host");

  TEST_REQUIRE_QEMU ();
  dir = test_make_tmpdir ();
  record_into (dir, "probe.replies", &path, &metadata_path, &live, &recorder);
  qmp_recorder_set_meta (recorder, "host", host);
  json_object_put (host);
  live_plain = run_probe (live, NULL, NULL);
  live_cpu = run_probe (live, "pc", "qemu64");
  assert_int_equal (cpu_count (live_plain), 0);
  assert_int_equal (cpu_count (live_cpu), 1);
  /* Nothing reaches the destination before finish. */
  assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  assert_true (qmp_recorder_finish (recorder, &error));
  assert_int_equal (test_count_entries (dir, ""), 2);
  assert_int_equal (test_count_children (), 0);

  metadata = load_json (metadata_path);
  assert_string_equal (member_string (metadata, "format"), "vcpuprobe-replies");
  assert_string_equal (member_string (metadata, "version"), "1");
  assert_string_equal (member_string (metadata, "host"), "test host");
  assert_true (json_object_object_get_ex (metadata, "sessions", &sessions));
  assert_int_equal (json_object_array_length (sessions), 2);
  assert_string_equal (member_string (json_object_array_get_idx (sessions, 0), "accel"), "tcg");
  assert_string_equal (member_string (json_object_array_get_idx (sessions, 0), "machine"),
                       "none");
  assert_null (member_string (json_object_array_get_idx (sessions, 0), "cpu"));
  assert_string_equal (member_string (json_object_array_get_idx (sessions, 1), "machine"), "pc");
  assert_string_equal (member_string (json_object_array_get_idx (sessions, 1), "cpu"), "qemu64");
  assert_true (json_object_object_get_ex (json_object_array_get_idx (sessions, 1), "argv",
                                          &argv));
  assert_string_equal (json_object_get_string (json_object_array_get_idx (argv, 1)), "-S");
  json_object_put (metadata);

  replay = qmp_source_new_replay (path, QMP_REPLAY_AUTO, &error);
  assert_non_null (replay);
  qmp_source_set_strict (replay, TRUE);
  assert_int_equal (qmp_replies_n_segments (qmp_source_replies (replay)), 2);
  assert_string_equal (qmp_source_recorded_accel (replay), "tcg");
  replayed_cpu = run_probe (replay, "pc", "qemu64");
  replayed_plain = run_probe (replay, NULL, NULL);
  assert_same_replies (live_cpu, replayed_cpu);
  assert_same_replies (live_plain, replayed_plain);

  /* No session was recorded with that CPU. */
  {
    QemuLaunchOptions options = { .accel = "tcg", .machine = "pc", .cpu = "Haswell" };
    QmpConnection *connection = qmp_source_open (replay, &options, qmp_deadline_in_ms (5000),
                                                 &error);
    assert_null (connection);
    assert_true (g_error_matches (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT));
  }
  test_rmdir_r (dir);
}

/* Whether max's expansion in a session launched with @globals has @feature on. */
static gboolean
max_has (QmpSource *source, const char *const *globals, const char *feature)
{
  QemuLaunchOptions options = { .accel = "tcg", .globals = globals };
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpConnection) connection = qmp_source_open (source, &options,
                                                          qmp_deadline_in_ms (20000), &error);
  json_object *reply, *props = NULL, *model = NULL, *value = NULL;
  gboolean on;

  if (connection == NULL)
    fail_msg ("open: %s", error->message);
  reply = execute_ok (qmp_connection_session (connection), "query-cpu-model-expansion",
                      "{\"type\": \"full\", \"model\": {\"name\": \"max\"}}");
  assert_true (json_object_object_get_ex (reply, "model", &model));
  assert_true (json_object_object_get_ex (model, "props", &props));
  assert_true (json_object_object_get_ex (props, feature, &value));
  on = json_object_get_boolean (value);
  json_object_put (reply);
  return on;
}

/* Two query-mode QEMUs alike but for a -global setting: recorded with their globals, and
 * replayed in the other order each open gets the segment launched its way, never the
 * other, though accel, machine and -cpu are the same. */
static void
test_record_globals (void **state)
{
  static const char *const globals[] = { "max-x86_64-cpu.pdpe1gb=off", NULL };
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *metadata_path = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) live = NULL;
  g_autoptr (QmpSource) replay = NULL;
  g_autoptr (QmpRecorder) recorder = NULL;
  json_object *metadata, *sessions = NULL, *recorded = NULL;

  TEST_REQUIRE_QEMU ();
  dir = test_make_tmpdir ();
  record_into (dir, "globals.replies", &path, &metadata_path, &live, &recorder);
  /* tcg's max has pdpe1gb: the global takes it away. */
  assert_true (max_has (live, NULL, "pdpe1gb"));
  assert_false (max_has (live, globals, "pdpe1gb"));
  assert_true (qmp_recorder_finish (recorder, &error));

  metadata = load_json (metadata_path);
  assert_true (json_object_object_get_ex (metadata, "sessions", &sessions));
  assert_int_equal (json_object_array_length (sessions), 2);
  assert_true (json_object_object_get_ex (json_object_array_get_idx (sessions, 0), "globals",
                                          &recorded));
  assert_int_equal (json_object_array_length (recorded), 0);
  assert_true (json_object_object_get_ex (json_object_array_get_idx (sessions, 1), "globals",
                                          &recorded));
  assert_int_equal (json_object_array_length (recorded), 1);
  assert_string_equal (json_object_get_string (json_object_array_get_idx (recorded, 0)),
                       globals[0]);
  json_object_put (metadata);

  replay = qmp_source_new_replay (path, QMP_REPLAY_AUTO, &error);
  assert_non_null (replay);
  qmp_source_set_strict (replay, TRUE);
  assert_false (max_has (replay, globals, "pdpe1gb"));
  assert_true (max_has (replay, NULL, "pdpe1gb"));
  /* No session was recorded with another global. */
  {
    static const char *const other[] = { "max-x86_64-cpu.lm=off", NULL };
    QemuLaunchOptions options = { .accel = "tcg", .globals = other };
    QmpConnection *connection = qmp_source_open (replay, &options, qmp_deadline_in_ms (5000),
                                                 &error);
    assert_null (connection);
    assert_true (g_error_matches (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT));
  }
  test_rmdir_r (dir);
}

/* Opens a session that must fail, returning its error. */
static GError *
open_failing (QmpSource *source, const char *machine, const char *cpu)
{
  QemuLaunchOptions options = { .accel = "tcg", .machine = machine, .cpu = cpu };
  GError *error = NULL;
  QmpConnection *connection = qmp_source_open (source, &options, qmp_deadline_in_ms (20000),
                                               &error);

  if (connection != NULL)
    {
      qmp_connection_free (connection);
      fail_msg ("open of -cpu %s did not fail", cpu);
    }
  return error;
}

/* A QEMU that refuses its -cpu line ends before its monitor answers. Replayed, and
 * replayed again from a re-recording, the open fails with the live code and words, and
 * the session recorded after it still gets its own segment. */
static void
test_record_early_exit (void **state)
{
  static const char refused_cpu[] = "qemu64,+no-such-feature";
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *rerecorded_path = NULL;
  g_autoptr (GError) live_error = NULL;
  g_autoptr (GError) replayed_error = NULL;
  g_autoptr (GError) rerecorded_error = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) live = NULL;
  g_autoptr (QmpSource) replay = NULL;
  g_autoptr (QmpSource) rereplay = NULL;
  g_autoptr (QmpRecorder) recorder = NULL;
  g_autoptr (QmpRecorder) rerecorder = NULL;
  g_autoptr (GPtrArray) live_cpu = NULL;
  g_autoptr (GPtrArray) replayed_cpu = NULL;
  json_object *early_exit;

  TEST_REQUIRE_QEMU ();
  dir = test_make_tmpdir ();
  path = g_build_filename (dir, "refused.replies", NULL);
  rerecorded_path = g_build_filename (dir, "again.replies", NULL);

  live = qmp_source_new_launch (test_qemu_binary (), &error);
  assert_non_null (live);
  recorder = qmp_recorder_new (path);
  qmp_source_set_recorder (live, recorder);
  live_error = open_failing (live, "pc", refused_cpu);
  assert_true (g_error_matches (live_error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_EXITED));
  assert_non_null (strstr (live_error->message, "no-such-feature"));
  live_cpu = run_probe (live, "pc", "qemu64");
  assert_true (qmp_recorder_finish (recorder, &error));
  assert_int_equal (test_count_children (), 0);

  replay = qmp_source_new_replay (path, QMP_REPLAY_AUTO, &error);
  assert_non_null (replay);
  qmp_source_set_strict (replay, TRUE);
  assert_int_equal (qmp_replies_n_segments (qmp_source_replies (replay)), 2);
  early_exit = qmp_replies_segment_exit (qmp_source_replies (replay), 0);
  assert_non_null (early_exit);
  assert_string_equal (member_string (early_exit, "how"), "exited with status 1");
  assert_null (qmp_replies_segment_exit (qmp_source_replies (replay), 1));
  rerecorder = qmp_recorder_new (rerecorded_path);
  qmp_source_set_recorder (replay, rerecorder);
  replayed_cpu = run_probe (replay, "pc", "qemu64");
  assert_same_replies (live_cpu, replayed_cpu);
  replayed_error = open_failing (replay, "pc", refused_cpu);
  assert_int_equal (replayed_error->domain, live_error->domain);
  assert_int_equal (replayed_error->code, live_error->code);
  assert_string_equal (replayed_error->message, live_error->message);
  assert_true (qmp_recorder_finish (rerecorder, &error));

  /* Re-recorded in the other order: the exit moved to the second segment with its launch. */
  rereplay = qmp_source_new_replay (rerecorded_path, QMP_REPLAY_AUTO, &error);
  assert_non_null (rereplay);
  assert_null (qmp_replies_segment_exit (qmp_source_replies (rereplay), 0));
  assert_non_null (qmp_replies_segment_exit (qmp_source_replies (rereplay), 1));
  rerecorded_error = open_failing (rereplay, "pc", refused_cpu);
  assert_string_equal (rerecorded_error->message, live_error->message);
  test_rmdir_r (dir);
}

/* Replaying through a recorder writes the same conversation back: the layout, pipelined
 * commands each right before its own reply, events before their reply. */
static void
test_rerecord_pipelined (void **state)
{
  static const char original[] =
    GREETING
    "{\"execute\": \"qmp_capabilities\", \"id\": \"libvirt-1\"}\n\n"
    "{\"return\": {}, \"id\": \"libvirt-1\"}\n\n"
    "{\"execute\": \"query-version\", \"id\": \"libvirt-2\"}\n\n"
    "{\"event\": \"RESUME\", \"timestamp\": {\"seconds\": 5, \"microseconds\": 6}}\n\n"
    "{\"return\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"\"},"
    " \"id\": \"libvirt-2\"}\n\n"
    "{\"execute\": \"query-kvm\", \"id\": \"libvirt-3\"}\n\n"
    "{\"return\": {\"enabled\": false, \"present\": false}, \"id\": \"libvirt-3\"}\n";
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *source_path = g_build_filename (dir, "in.replies", NULL);
  g_autofree char *path = g_build_filename (dir, "out.replies", NULL);
  g_autofree char *written = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (QmpRecorder) recorder = NULL;
  g_autoptr (QmpConnection) connection = NULL;
  g_autoptr (QmpReplies) rerecorded = NULL;
  QemuLaunchOptions options = { .accel = "tcg" };
  QmpSession *session;
  const QmpRecordedExchange *exchange;
  guint64 version_id, kvm_id;
  json_object *id = NULL;

  assert_true (g_file_set_contents (source_path, original, -1, NULL));
  source = qmp_source_new_replay (source_path, QMP_REPLAY_AUTO, &error);
  assert_non_null (source);
  recorder = qmp_recorder_new (path);
  qmp_source_set_recorder (source, recorder);
  connection = qmp_source_open (source, &options, qmp_deadline_in_ms (10000), &error);
  assert_non_null (connection);
  session = qmp_connection_session (connection);
  version_id = qmp_session_send (session, "query-version", NULL, &error);
  kvm_id = qmp_session_send (session, "query-kvm", NULL, &error);
  assert_true (version_id > 0 && kvm_id > 0);
  json_object_put (qmp_session_wait (session, kvm_id, qmp_deadline_in_ms (10000), &error));
  json_object_put (qmp_session_wait (session, version_id, qmp_deadline_in_ms (10000), &error));
  assert_true (qmp_connection_close (g_steal_pointer (&connection), &error));
  assert_true (qmp_recorder_finish (recorder, &error));

  /* libvirt's look: two-space indent, "key": value, a blank line between objects. */
  assert_true (g_file_get_contents (path, &written, NULL, NULL));
  assert_true (g_str_has_prefix (written, "{\n  \"QMP\": {\n    \"version\": {\n"));
  assert_non_null (strstr (written, "}\n\n{\n  \"execute\": \"query-version\""));

  rerecorded = qmp_replies_load (path, &error);
  assert_non_null (rerecorded);
  assert_int_equal (qmp_replies_segment_n_exchanges (rerecorded, 0), 3);
  exchange = qmp_replies_segment_exchange (rerecorded, 0, 1);
  assert_string_equal (member_string (exchange->command, "execute"), "query-version");
  assert_int_equal (exchange->events->len, 1);
  /* The reply stands after its own command, with the id that command was sent with. */
  assert_true (json_object_object_get_ex (exchange->reply, "id", &id));
  assert_int_equal (json_object_get_int64 (id), (gint64) version_id);
  exchange = qmp_replies_segment_exchange (rerecorded, 0, 2);
  assert_string_equal (member_string (exchange->command, "execute"), "query-kvm");
  assert_true (json_object_object_get_ex (exchange->reply, "id", &id));
  assert_int_equal (json_object_get_int64 (id), (gint64) kvm_id);
  test_rmdir_r (dir);
}

/* A conversation cut short stays cut short: the last command stands without a reply. */
static void
test_record_truncated (void **state)
{
  static const char original[] =
    GREETING
    "{\"execute\": \"qmp_capabilities\", \"id\": 1}\n\n"
    "{\"return\": {}, \"id\": 1}\n\n"
    "{\"execute\": \"query-version\", \"id\": 2}\n";
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *source_path = g_build_filename (dir, "in.replies", NULL);
  g_autofree char *path = g_build_filename (dir, "out.replies", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (QmpRecorder) recorder = NULL;
  g_autoptr (QmpConnection) connection = NULL;
  g_autoptr (QmpReplies) rerecorded = NULL;
  QemuLaunchOptions options = { 0 };
  const QmpRecordedExchange *exchange;
  json_object *reply;

  assert_true (g_file_set_contents (source_path, original, -1, NULL));
  source = qmp_source_new_replay (source_path, QMP_REPLAY_AUTO, &error);
  recorder = qmp_recorder_new (path);
  qmp_source_set_recorder (source, recorder);
  connection = qmp_source_open (source, &options, qmp_deadline_in_ms (10000), &error);
  assert_non_null (connection);
  reply = qmp_session_execute (qmp_connection_session (connection), "query-version", NULL,
                               qmp_deadline_in_ms (10000), &error);
  assert_null (reply);
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_CLOSED));
  g_clear_error (&error);
  assert_true (qmp_connection_close (g_steal_pointer (&connection), &error));
  assert_true (qmp_recorder_finish (recorder, &error));

  rerecorded = qmp_replies_load (path, &error);
  assert_non_null (rerecorded);
  assert_int_equal (qmp_replies_segment_n_exchanges (rerecorded, 0), 2);
  exchange = qmp_replies_segment_exchange (rerecorded, 0, 1);
  assert_string_equal (member_string (exchange->command, "execute"), "query-version");
  assert_null (exchange->reply);
  test_rmdir_r (dir);
}

/* A strict replay fails the close when a command found no recorded answer. */
static void
test_strict_replay (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "in.replies", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) source = NULL;
  QmpConnection *connection;
  QemuLaunchOptions options = { 0 };

  assert_true (g_file_set_contents (path, GREETING "{\"execute\": \"qmp_capabilities\"}\n\n"
                                          "{\"return\": {}}\n", -1, NULL));
  source = qmp_source_new_replay (path, QMP_REPLAY_AUTO, &error);
  qmp_source_set_strict (source, TRUE);
  connection = qmp_source_open (source, &options, qmp_deadline_in_ms (10000), &error);
  assert_non_null (connection);
  assert_null (qmp_session_execute (qmp_connection_session (connection), "query-kvm", NULL,
                                    qmp_deadline_in_ms (10000), &error));
  g_clear_error (&error);
  assert_false (qmp_connection_close (connection, &error));
  assert_true (g_error_matches (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_REPLAY));
  assert_non_null (strstr (error->message, "query-kvm"));
  test_rmdir_r (dir);
}

/* --debug: every message, both ways, on stderr. */
static void
test_debug_trace (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "in.replies", NULL);
  g_autofree char *trace_path = g_build_filename (dir, "trace", NULL);
  g_autofree char *trace = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) source = NULL;
  QmpConnection *connection;
  QemuLaunchOptions options = { 0 };
  int saved_stderr, trace_fd;

  assert_true (g_file_set_contents (path, GREETING "{\"execute\": \"qmp_capabilities\"}\n\n"
                                          "{\"return\": {}}\n", -1, NULL));
  source = qmp_source_new_replay (path, QMP_REPLAY_AUTO, &error);
  qmp_source_set_debug (source, TRUE);
  fflush (stderr);
  saved_stderr = dup (STDERR_FILENO);
  trace_fd = open (trace_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  dup2 (trace_fd, STDERR_FILENO);
  connection = qmp_source_open (source, &options, qmp_deadline_in_ms (10000), &error);
  qmp_connection_free (connection);
  fflush (stderr);
  dup2 (saved_stderr, STDERR_FILENO);
  close (saved_stderr);
  close (trace_fd);
  assert_non_null (connection);
  assert_true (g_file_get_contents (trace_path, &trace, NULL, NULL));
  assert_true (g_str_has_prefix (trace, "<- {\"QMP\":"));
  assert_non_null (strstr (trace, "\n-> {\"execute\":\"qmp_capabilities\""));
  assert_non_null (strstr (trace, "\n<- {\"return\":{}"));
  test_rmdir_r (dir);
}

/* An unwritable destination is an error, and leaves nothing behind. */
static void
test_finish_fails_cleanly (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "missing-subdir", "out.replies", NULL);
  g_autoptr (QmpRecorder) recorder = qmp_recorder_new (path);
  g_autoptr (GError) error = NULL;

  assert_false (qmp_recorder_finish (recorder, &error));
  assert_non_null (strstr (error->message, path));
  assert_int_equal (test_count_entries (dir, ""), 0);
  test_rmdir_r (dir);
}

/* A socket source talks to whatever listens there, whatever launch options were asked. */
static void
test_socket_source (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "in.replies", NULL);
  g_autofree char *socket_path = g_build_filename (dir, "qmp.sock", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplies) replies = NULL;
  g_autoptr (QmpReplayPeer) peer = NULL;
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (QmpConnection) connection = NULL;
  QemuLaunchOptions options = { .accel = "kvm", .machine = "q35" };
  json_object *reply;

  assert_true (g_file_set_contents (path, GREETING "{\"execute\": \"qmp_capabilities\"}\n\n"
                                          "{\"return\": {}}\n\n"
                                          "{\"execute\": \"query-kvm\"}\n\n"
                                          "{\"return\": {\"enabled\": true, \"present\": true}}\n",
                                    -1, NULL));
  replies = qmp_replies_load (path, &error);
  assert_non_null (replies);
  peer = qmp_replay_peer_listen (replies, 0, QMP_REPLAY_AUTO, socket_path, &error);
  assert_non_null (peer);
  source = qmp_source_new_socket (socket_path);
  assert_int_equal (qmp_source_kind (source), QMP_SOURCE_SOCKET);
  assert_string_equal (qmp_source_describe (source), socket_path);
  connection = qmp_source_open (source, &options, qmp_deadline_in_ms (10000), &error);
  if (connection == NULL)
    fail_msg ("open: %s", error->message);
  assert_null (qmp_connection_process (connection));
  reply = execute_ok (qmp_connection_session (connection), "query-kvm", NULL);
  assert_string_equal (member_string (reply, "enabled"), "true");
  json_object_put (reply);
  assert_true (qmp_connection_close (g_steal_pointer (&connection), &error));
  g_clear_pointer (&peer, qmp_replay_peer_free);

  /* Nobody listening any more. */
  connection = qmp_source_open (source, &options, qmp_deadline_in_ms (10000), &error);
  assert_null (connection);
  assert_true (g_error_matches (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_CONNECT));
  test_rmdir_r (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_record_qemu_and_replay),
    cmocka_unit_test (test_record_early_exit),
    cmocka_unit_test (test_record_globals),
    cmocka_unit_test (test_rerecord_pipelined),
    cmocka_unit_test (test_record_truncated),
    cmocka_unit_test (test_strict_replay),
    cmocka_unit_test (test_debug_trace),
    cmocka_unit_test (test_finish_fails_cleanly),
    cmocka_unit_test (test_socket_source),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
