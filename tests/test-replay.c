/* tests/test-replay.c — .replies parsing and the replay peer, driven by the real QmpSession. */
#include "tests/test-util.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "qmp/json-skim.h"
#include "qmp/replay.h"
#include "qmp/session.h"

#define GREETING \
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7},\n" \
  "  \"package\": \"Debian 1:7.2\"}, \"capabilities\": [\"oob\"]}}\n\n"

/* Our layout: commands with libvirt-style ids, an event before a reply, two expansions
 * of different models. */
static const char exact_replies[] =
  GREETING
  "{\"execute\": \"qmp_capabilities\", \"id\": \"libvirt-1\"}\n\n"
  "{\"return\": {}, \"id\": \"libvirt-1\"}\n\n"
  "{\"execute\": \"query-version\", \"id\": \"libvirt-2\"}\n\n"
  "{\"return\": {\"qemu\": {\"micro\": 22, \"minor\": 2, \"major\": 7}, \"package\": \"x\"},\n"
  " \"id\": \"libvirt-2\"}\n\n"
  "{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {\"type\": \"full\",\n"
  "  \"model\": {\"name\": \"Haswell\"}}, \"id\": \"libvirt-3\"}\n\n"
  "{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 7},\n"
  " \"timestamp\": {\"seconds\": 1, \"microseconds\": 2}}\n\n"
  "{\"return\": {\"model\": {\"name\": \"Haswell\", \"props\": {\"avx2\": true}}},\n"
  " \"id\": \"libvirt-3\"}\n\n"
  "{\"execute\": \"query-cpu-model-expansion\", \"arguments\": {\"type\": \"full\",\n"
  "  \"model\": {\"name\": \"Nehalem\"}}, \"id\": \"libvirt-4\"}\n\n"
  "{\"return\": {\"model\": {\"name\": \"Nehalem\", \"props\": {\"avx2\": false}}},\n"
  " \"id\": \"libvirt-4\"}\n\n"
  "{\"execute\": \"query-kvm\", \"id\": \"libvirt-5\"}\n\n"
  "{\"return\": {\"enabled\": false, \"present\": true}, \"id\": \"libvirt-5\"}\n";

/* A conversation cut short: the last command has no reply. */
static const char truncated_replies[] =
  GREETING
  "{\"execute\": \"qmp_capabilities\", \"id\": 1}\n\n"
  "{\"return\": {}, \"id\": 1}\n\n"
  "{\"execute\": \"query-version\", \"id\": 2}\n";

/* libvirt's older layout: greeting and replies only, in libvirt's own order. */
static const char replies_only[] =
  GREETING
  "{\"return\": {}, \"id\": \"libvirt-1\"}\n\n"
  "{\"return\": [{\"name\": \"qmp_capabilities\"}, {\"name\": \"quit\"}], \"id\": \"libvirt-2\"}\n\n"
  "{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 9, \"major\": 2}, \"package\": \"\"},\n"
  " \"id\": \"libvirt-3\"}\n\n"
  "{\"return\": [{\"name\": \"Haswell\", \"unavailable-features\": []}], \"id\": \"libvirt-4\"}\n\n"
  "{\"return\": {\"model\": {\"name\": \"base\", \"props\": {\"fpu\": true}}},"
  " \"id\": \"libvirt-5\"}\n\n"
  "{\"return\": {\"model\": {\"name\": \"max\", \"props\": {\"fpu\": true}}},"
  " \"id\": \"libvirt-6\"}\n";

typedef struct {
  char *dir;
  char *path;
  QmpReplies *replies;
  QmpReplayPeer *peer;
  QmpSession *session;
} Fixture;

static char *
write_file (const char *dir, const char *name, const char *contents)
{
  char *path = g_build_filename (dir, name, NULL);

  assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static Fixture *
fixture_new (const char *contents)
{
  Fixture *fixture = g_new0 (Fixture, 1);
  g_autoptr (GError) error = NULL;

  fixture->dir = test_make_tmpdir ();
  fixture->path = write_file (fixture->dir, "test.replies", contents);
  fixture->replies = qmp_replies_load (fixture->path, &error);
  if (fixture->replies == NULL)
    fail_msg ("load: %s", error->message);
  return fixture;
}

/* Whether the peers below serve in the test's own thread (qmp_replay_peer_new_in_process)
 * rather than over a socketpair: test_in_process() runs the conversations again so. */
static gboolean serve_in_process;

/* A real session against a peer serving @segment; the peer into *@peer. NULL with @error
 * when the peer or the session cannot start. */
static QmpSession *
open_replay (QmpReplies *replies, guint segment, QmpReplayMode mode, QmpReplayPeer **peer,
             GError **error)
{
  int fd = -1;

  if (serve_in_process)
    {
      *peer = qmp_replay_peer_new_in_process (replies, segment, mode, error);
      return *peer != NULL ? qmp_replay_peer_session (*peer, NULL, qmp_deadline_in_ms (10000),
                                                      error)
                           : NULL;
    }
  *peer = qmp_replay_peer_start (replies, segment, mode, &fd, error);
  return *peer != NULL ? qmp_session_new (fd, fd, qmp_deadline_in_ms (10000), error) : NULL;
}

/* Starts a peer and a real session against it. */
static void
fixture_connect (Fixture *fixture, QmpReplayMode mode)
{
  g_autoptr (GError) error = NULL;

  fixture->session = open_replay (fixture->replies, 0, mode, &fixture->peer, &error);
  assert_non_null (fixture->peer);
  if (fixture->session == NULL)
    fail_msg ("session: %s", error->message);
}

static void
fixture_free (Fixture *fixture)
{
  g_clear_pointer (&fixture->session, qmp_session_free);
  g_clear_pointer (&fixture->peer, qmp_replay_peer_free);
  g_clear_pointer (&fixture->replies, qmp_replies_unref);
  test_rmdir_r (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->path);
  g_free (fixture);
}

static json_object *
execute_ok (QmpSession *session, const char *command, const char *arguments_json)
{
  g_autoptr (GError) error = NULL;
  json_object *arguments = arguments_json != NULL ? json_tokener_parse (arguments_json) : NULL;
  json_object *reply = qmp_session_execute (session, command, arguments,
                                            qmp_deadline_in_ms (10000), &error);

  json_object_put (arguments);
  if (reply == NULL)
    fail_msg ("%s: %s", command, error->message);
  return reply;
}

static const char *
expanded_name (json_object *expansion)
{
  json_object *model = NULL;
  json_object *name = NULL;

  assert_true (json_object_object_get_ex (expansion, "model", &model));
  assert_true (json_object_object_get_ex (model, "name", &name));
  return json_object_get_string (name);
}

static void
test_parse_segments (void **state)
{
  Fixture *fixture = fixture_new (exact_replies);
  const QmpRecordedExchange *exchange;

  assert_int_equal (qmp_replies_n_segments (fixture->replies), 1);
  assert_true (qmp_replies_has_commands (fixture->replies));
  assert_null (qmp_replies_metadata (fixture->replies));
  assert_int_equal (qmp_replies_segment_n_exchanges (fixture->replies, 0), 5);
  exchange = qmp_replies_segment_exchange (fixture->replies, 0, 2);
  assert_int_equal (exchange->events->len, 1);
  assert_non_null (exchange->reply);
  assert_int_equal (exchange->line, 13);
  fixture_free (fixture);
}

static void
expect_parse_error (const char *contents, int code, const char *where)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = write_file (dir, "bad.replies", contents);
  g_autofree char *expected = g_strdup_printf ("%s%s", path, where);
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplies) replies = qmp_replies_load (path, &error);

  test_rmdir_r (dir);
  assert_null (replies);
  assert_true (g_error_matches (error, QMP_REPLAY_ERROR, code));
  if (!g_str_has_prefix (error->message, expected))
    fail_msg ("expected \"%s...\", got \"%s\"", expected, error->message);
}

static void
test_parse_errors (void **state)
{
  expect_parse_error (GREETING "{\"return\": {}}\n\n{\"return\": {]}\n", QMP_REPLAY_ERROR_PARSE,
                      ":6:");
  expect_parse_error (GREETING "\n\n{\"nothing\": 1}\n", QMP_REPLAY_ERROR_PARSE, ":6:");
  expect_parse_error (GREETING "[1, 2]\n", QMP_REPLAY_ERROR_PARSE, ":4:");
  expect_parse_error (GREETING "{\"return\":\n {\n", QMP_REPLAY_ERROR_PARSE, ":4:");
  expect_parse_error ("\n\n", QMP_REPLAY_ERROR_EMPTY, " holds no QMP messages");
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (QmpReplies) replies = qmp_replies_load ("/nonexistent/file.replies", &error);
    assert_null (replies);
    assert_true (g_error_matches (error, QMP_REPLAY_ERROR, QMP_REPLAY_ERROR_IO));
  }
}

static void
test_metadata_parse_error (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = write_file (dir, "m.replies", exact_replies);
  g_autofree char *meta = write_file (dir, "m.replies.json", "{\"sessions\": [\n  {,}\n]}\n");
  g_autofree char *expected = g_strdup_printf ("%s:2:", meta);
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplies) replies = qmp_replies_load (path, &error);

  test_rmdir_r (dir);
  assert_null (replies);
  assert_true (g_str_has_prefix (error->message, expected));
}

static void
test_exact (void **state)
{
  Fixture *fixture = fixture_new (exact_replies);
  json_object *reply;
  QmpEvent *event;
  guint major, minor, micro;

  fixture_connect (fixture, QMP_REPLAY_AUTO);
  assert_int_equal (qmp_replay_peer_mode (fixture->peer), QMP_REPLAY_EXACT);
  qmp_session_version (fixture->session, &major, &minor, &micro);
  assert_int_equal (major * 10000 + minor * 100 + micro, 70222);

  /* Asked in another order than recorded, with our own ids: the replies follow the
   * arguments, not the order. */
  reply = execute_ok (fixture->session, "query-cpu-model-expansion",
                      "{\"type\": \"full\", \"model\": {\"name\": \"Nehalem\"}}");
  assert_string_equal (expanded_name (reply), "Nehalem");
  json_object_put (reply);
  assert_null (qmp_session_take_event (fixture->session, NULL));

  reply = execute_ok (fixture->session, "query-cpu-model-expansion",
                      "{\"type\": \"full\", \"model\": {\"name\": \"Haswell\"}}");
  assert_string_equal (expanded_name (reply), "Haswell");
  json_object_put (reply);
  event = qmp_session_take_event (fixture->session, "RTC_CHANGE");
  assert_non_null (event);
  assert_int_equal (event->seconds, 1);
  qmp_event_free (event);

  reply = execute_ok (fixture->session, "query-version", NULL);
  json_object_put (reply);

  /* Same name, other arguments, everything used: the last one served of that name. */
  reply = execute_ok (fixture->session, "query-cpu-model-expansion",
                      "{\"type\": \"full\", \"model\": {\"name\": \"Skylake-Client\"}}");
  assert_string_equal (expanded_name (reply), "Haswell");
  json_object_put (reply);

  g_clear_pointer (&fixture->session, qmp_session_free);
  {
    g_autoptr (GPtrArray) unanswered = qmp_replay_peer_unanswered (fixture->peer);
    g_autoptr (GPtrArray) unused = qmp_replay_peer_unused (fixture->peer);
    g_autofree char *where = g_strdup_printf ("%s:28: query-kvm", fixture->path);
    assert_int_equal (unanswered->len, 0);
    assert_int_equal (unused->len, 1);
    assert_string_equal (g_ptr_array_index (unused, 0), where);
    assert_false (qmp_replay_peer_shape_matched (fixture->peer));
  }
  fixture_free (fixture);
}

static void
test_by_name_when_arguments_differ (void **state)
{
  Fixture *fixture = fixture_new (exact_replies);
  json_object *reply;

  fixture_connect (fixture, QMP_REPLAY_EXACT);
  /* No recorded Westmere: the first unused of the same name, in file order. */
  reply = execute_ok (fixture->session, "query-cpu-model-expansion",
                      "{\"type\": \"full\", \"model\": {\"name\": \"Westmere\"}}");
  assert_string_equal (expanded_name (reply), "Haswell");
  json_object_put (reply);
  reply = execute_ok (fixture->session, "query-cpu-model-expansion",
                      "{\"type\": \"full\", \"model\": {\"name\": \"Westmere\"}}");
  assert_string_equal (expanded_name (reply), "Nehalem");
  json_object_put (reply);
  fixture_free (fixture);
}

static void
test_unknown_command (void **state)
{
  Fixture *fixture = fixture_new (exact_replies);
  g_autoptr (GError) error = NULL;
  json_object *arguments = json_tokener_parse ("{\"typename\": \"max-x86_64-cpu\"}");
  json_object *reply;

  fixture_connect (fixture, QMP_REPLAY_AUTO);
  reply = qmp_session_execute (fixture->session, "qom-list-properties", arguments,
                               qmp_deadline_in_ms (10000), &error);
  json_object_put (arguments);
  assert_null (reply);
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_NOT_FOUND));
  assert_string_equal (qmp_session_last_error_class (fixture->session), "CommandNotFound");
  /* The session goes on after the error, as with a QEMU lacking the command. */
  json_object_put (execute_ok (fixture->session, "query-kvm", NULL));

  g_clear_pointer (&fixture->session, qmp_session_free);
  {
    g_autoptr (GPtrArray) unanswered = qmp_replay_peer_unanswered (fixture->peer);
    assert_int_equal (unanswered->len, 1);
    assert_string_equal (g_ptr_array_index (unanswered, 0),
                         "qom-list-properties {\"typename\":\"max-x86_64-cpu\"}");
  }
  fixture_free (fixture);
}

static void
test_truncated (void **state)
{
  Fixture *fixture = fixture_new (truncated_replies);
  g_autoptr (GError) error = NULL;
  json_object *reply;

  fixture_connect (fixture, QMP_REPLAY_AUTO);
  reply = qmp_session_execute (fixture->session, "query-version", NULL,
                               qmp_deadline_in_ms (10000), &error);
  assert_null (reply);
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_CLOSED));
  fixture_free (fixture);
}

static void
test_ordered (void **state)
{
  Fixture *fixture = fixture_new (replies_only);
  json_object *reply;
  json_object *qemu = NULL;

  assert_false (qmp_replies_has_commands (fixture->replies));
  fixture_connect (fixture, QMP_REPLAY_AUTO);
  assert_int_equal (qmp_replay_peer_mode (fixture->peer), QMP_REPLAY_ORDERED);
  /* The first reply answered qmp_capabilities; the second whatever comes next. */
  reply = execute_ok (fixture->session, "query-commands", NULL);
  assert_true (json_object_is_type (reply, json_type_array));
  json_object_put (reply);
  reply = execute_ok (fixture->session, "query-version", NULL);
  assert_true (json_object_object_get_ex (reply, "qemu", &qemu));
  json_object_put (reply);
  g_clear_pointer (&fixture->session, qmp_session_free);
  {
    g_autoptr (GPtrArray) unused = qmp_replay_peer_unused (fixture->peer);
    assert_int_equal (unused->len, 3);
  }
  fixture_free (fixture);
}

static void
test_shape (void **state)
{
  Fixture *fixture = fixture_new (replies_only);
  g_autoptr (GError) error = NULL;
  json_object *reply;
  json_object *member = NULL;

  fixture_connect (fixture, QMP_REPLAY_SHAPE);
  assert_int_equal (qmp_replay_peer_mode (fixture->peer), QMP_REPLAY_SHAPE);
  /* Out of libvirt's order: each command still gets the reply that fits it. */
  reply = execute_ok (fixture->session, "query-cpu-model-expansion",
                      "{\"type\": \"full\", \"model\": {\"name\": \"max\"}}");
  assert_string_equal (expanded_name (reply), "max");
  json_object_put (reply);
  reply = execute_ok (fixture->session, "query-cpu-model-expansion",
                      "{\"type\": \"static\", \"model\": {\"name\": \"max\"}}");
  assert_string_equal (expanded_name (reply), "base");
  json_object_put (reply);
  reply = execute_ok (fixture->session, "query-version", NULL);
  assert_true (json_object_object_get_ex (reply, "package", &member));
  json_object_put (reply);
  reply = execute_ok (fixture->session, "query-cpu-definitions", NULL);
  assert_true (json_object_object_get_ex (json_object_array_get_idx (reply, 0),
                                          "unavailable-features", &member));
  json_object_put (reply);
  /* Nothing left that looks like a machine list. */
  reply = qmp_session_execute (fixture->session, "query-machines", NULL,
                               qmp_deadline_in_ms (10000), &error);
  assert_null (reply);
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_NOT_FOUND));

  g_clear_pointer (&fixture->session, qmp_session_free);
  assert_true (qmp_replay_peer_shape_matched (fixture->peer));
  {
    g_autoptr (GPtrArray) unanswered = qmp_replay_peer_unanswered (fixture->peer);
    g_autoptr (GPtrArray) unused = qmp_replay_peer_unused (fixture->peer);
    assert_int_equal (unanswered->len, 1);
    assert_string_equal (g_ptr_array_index (unanswered, 0), "query-machines");
    assert_int_equal (unused->len, 1);
    assert_non_null (strstr (g_ptr_array_index (unused, 0), ":6: reply {\"return\":[{\"name\""));
  }
  fixture_free (fixture);
}

static void
test_shape_table (void **state)
{
  json_object *commands = json_tokener_parse ("[{\"name\": \"quit\"},"
                                              " {\"name\": \"qmp_capabilities\"}]");
  json_object *definitions = json_tokener_parse ("[{\"name\": \"qemu64\", \"static\": false}]");
  json_object *words = json_tokener_parse ("[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1,"
                                           " \"features\": 0}]");
  json_object *feature_words = json_tokener_parse ("{\"path\": \"/machine/unattached/device[0]\","
                                                   " \"property\": \"feature-words\"}");
  json_object *type = json_tokener_parse ("{\"path\": \"/machine/unattached/device[0]\","
                                          " \"property\": \"type\"}");
  json_object *empty = json_tokener_parse ("{}");
  /* What else a replies-only file of QEMU 1.5.3 lists by name: events, QOM types and
   * device properties are not CPU models. */
  json_object *events = json_tokener_parse ("[{\"name\": \"GUEST_PANICKED\"}, {\"name\": \"STOP\"}]");
  json_object *types = json_tokener_parse ("[{\"name\": \"x86_64-cpu\"}, {\"name\": \"container\"}]");
  json_object *properties = json_tokener_parse ("[{\"name\": \"rombar\", \"type\": \"uint32\"}]");

  assert_false (qmp_replay_shape_fits ("query-cpu-definitions", NULL, events));
  assert_false (qmp_replay_shape_fits ("query-cpu-definitions", NULL, types));
  assert_false (qmp_replay_shape_fits ("query-cpu-definitions", NULL, properties));
  json_object_put (events);
  json_object_put (types);
  json_object_put (properties);
  assert_true (qmp_replay_shape_fits ("query-commands", NULL, commands));
  assert_false (qmp_replay_shape_fits ("query-commands", NULL, definitions));
  assert_true (qmp_replay_shape_fits ("query-cpu-definitions", NULL, definitions));
  assert_false (qmp_replay_shape_fits ("qom-list", NULL, definitions));
  assert_true (qmp_replay_shape_fits ("qom-get", feature_words, words));
  assert_false (qmp_replay_shape_fits ("qom-get", type, words));
  assert_true (qmp_replay_shape_fits ("qmp_capabilities", NULL, empty));
  assert_false (qmp_replay_shape_fits ("query-version", NULL, empty));
  assert_false (qmp_replay_shape_fits ("no-such-command", NULL, empty));
  json_object_put (commands);
  json_object_put (definitions);
  json_object_put (words);
  json_object_put (feature_words);
  json_object_put (type);
  json_object_put (empty);
}

/* libvirt's newer files leave the greeting out; the version comes from query-version. */
static void
test_no_greeting (void **state)
{
  Fixture *fixture = fixture_new (
    "{\"execute\": \"qmp_capabilities\", \"id\": \"libvirt-1\"}\n\n"
    "{\"return\": {}, \"id\": \"libvirt-1\"}\n\n"
    "{\"execute\": \"query-version\", \"id\": \"libvirt-2\"}\n\n"
    "{\"return\": {\"qemu\": {\"micro\": 50, \"minor\": 1, \"major\": 10}, \"package\": \"\"},"
    " \"id\": \"libvirt-2\"}\n");
  guint major, minor, micro;

  fixture_connect (fixture, QMP_REPLAY_AUTO);
  qmp_session_version (fixture->session, &major, &minor, &micro);
  assert_int_equal (major, 10);
  assert_int_equal (minor, 1);
  assert_int_equal (micro, 50);
  fixture_free (fixture);
}

static void
test_segments_and_listen (void **state)
{
  Fixture *fixture = fixture_new (GREETING "{\"execute\": \"qmp_capabilities\", \"id\": 1}\n\n"
                                  "{\"return\": {}, \"id\": 1}\n\n"
                                  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 5,"
                                  " \"major\": 1}, \"package\": \"\"}, \"capabilities\": []}}\n\n"
                                  "{\"execute\": \"qmp_capabilities\", \"id\": 1}\n\n"
                                  "{\"return\": {}, \"id\": 1}\n");
  g_autoptr (GError) error = NULL;
  g_autofree char *socket_path = g_build_filename (fixture->dir, "replay.sock", NULL);
  g_autoptr (QmpReplayPeer) peer = NULL;
  g_autoptr (QmpSession) session = NULL;
  guint major, minor, micro;
  int fd;
  struct sockaddr_un address = { .sun_family = AF_UNIX };

  assert_int_equal (qmp_replies_n_segments (fixture->replies), 2);
  peer = qmp_replay_peer_listen (fixture->replies, 1, QMP_REPLAY_AUTO, socket_path, &error);
  assert_non_null (peer);
  fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  g_strlcpy (address.sun_path, socket_path, sizeof address.sun_path);
  assert_int_equal (connect (fd, (struct sockaddr *) &address, sizeof address), 0);
  session = qmp_session_new (fd, fd, qmp_deadline_in_ms (10000), &error);
  assert_non_null (session);
  qmp_session_version (session, &major, &minor, &micro);
  assert_int_equal (minor, 5);
  g_clear_pointer (&session, qmp_session_free);
  g_clear_pointer (&peer, qmp_replay_peer_free);
  assert_false (g_file_test (socket_path, G_FILE_TEST_EXISTS));
  fixture_free (fixture);
}

/* ---- Lazily read recordings (qmp_replies_new_lazy()) ---- */

typedef json_object ReplayJson;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReplayJson, json_object_put)

typedef struct {
  GBytes *text;      /* the messages of segment 0 */
  guint fills;
} LazyText;

static GBytes *
fill_lazy (guint index, gpointer data, char **name, GError **error)
{
  LazyText *lazy = data;

  lazy->fills++;
  *name = g_strdup_printf ("lazy[%u]", index);
  return g_bytes_ref (lazy->text);
}

/* A model list long enough to be kept as text (qmp/replies.c), as a profile's is. */
static char *
long_model_list (const char *spoil)
{
  g_autoptr (GString) list = g_string_new ("{\"return\": [");

  for (guint i = 0; i < 60; i++)
    g_string_append_printf (list, "%s{\"name\": \"model-%u\", \"unavailable-features\": "
                            "[\"avx2\", \"x2apic\\u0041\"], \"static\": false}",
                            i > 0 ? ", " : "", i);
  g_string_append_printf (list, "%s]}", spoil);
  return g_string_free (g_steal_pointer (&list), FALSE);
}

/* The messages of one session as a profile holds them: greeting, a short reply, a long one. */
static char *
lazy_messages (const char *spoil)
{
  g_autofree char *models = long_model_list (spoil);

  return g_strdup_printf ("[{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 22, \"minor\": 2, "
                          "\"major\": 7}, \"package\": \"\"}, \"capabilities\": []}},\n"
                          " {\"execute\": \"query-kvm\"}, {\"return\": {\"enabled\": false, "
                          "\"present\": true}},\n"
                          " {\"execute\": \"query-cpu-definitions\"}, %s]", models);
}

static QmpReplies *
lazy_replies (LazyText *lazy, const char *spoil)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ReplayJson) metadata = json_tokener_parse (
    "{\"sessions\": [{\"accel\": \"tcg\", \"machine\": \"none\"},"
    " {\"accel\": \"tcg\", \"machine\": \"pc\"}]}");
  const guint shares[] = { 0, 0 };
  QmpReplies *replies;

  char *messages = lazy_messages (spoil);

  lazy->text = g_bytes_new_take (messages, strlen (messages));
  replies = qmp_replies_new_lazy ("lazy", metadata, 2, shares, fill_lazy, lazy, NULL, &error);
  if (replies == NULL)
    fail_msg ("lazy: %s", error->message);
  return replies;
}

/* Segments are read when first served, a shared one once; a long reply is kept as its text
 * and served as it was recorded, with the client's id. */
static void
test_lazy_segments (void **state)
{
  LazyText lazy = { 0 };
  g_autoptr (QmpReplies) replies = lazy_replies (&lazy, "");
  g_autofree char *models_text = long_model_list ("");
  g_autoptr (ReplayJson) recorded = json_tokener_parse (models_text);

  assert_int_equal (lazy.fills, 0);
  for (guint segment = 0; segment < 2; segment++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (QmpReplayPeer) peer = NULL;
      g_autoptr (QmpSession) session = NULL;
      g_autoptr (ReplayJson) kvm = NULL;
      g_autoptr (ReplayJson) models = NULL;

      session = open_replay (replies, segment, QMP_REPLAY_ARGUMENTS, &peer, &error);
      assert_non_null (peer);
      if (session == NULL)
        fail_msg ("session: %s", error->message);
      models = execute_ok (session, "query-cpu-definitions", NULL);
      kvm = execute_ok (session, "query-kvm", NULL);
      assert_true (json_object_equal (models, json_object_object_get (recorded, "return")));
      assert_int_equal (json_object_array_length (models), 60);
      /* Asked for as text, the same list: in process the recorded text itself. */
      {
        guint64 id = qmp_session_send (session, "query-cpu-definitions", NULL, &error);
        g_autofree char *text = NULL;
        g_autoptr (ReplayJson) parsed = NULL;

        if (!qmp_session_wait_optional_text (session, id, &text, qmp_deadline_in_ms (10000),
                                             &error))
          fail_msg ("text: %s", error->message);
        assert_non_null (text);
        parsed = json_tokener_parse (text);
        assert_true (json_object_equal (parsed, json_object_object_get (recorded, "return")));
        if (serve_in_process)
          assert_non_null (strstr (models_text, text));
      }
    }
  /* One read for both segments; the long reply kept as text, the short one parsed. */
  assert_int_equal (lazy.fills, 1);
  assert_non_null (qmp_replies_segment_exchange (replies, 1, 1)->reply_text);
  assert_null (qmp_replies_segment_exchange (replies, 1, 1)->reply);
  assert_null (qmp_replies_segment_exchange (replies, 1, 0)->reply_text);
  assert_null (qmp_replies_fill_error (replies));
  g_bytes_unref (lazy.text);
}

/* A long reply that is not JSON is found when it is served, though kept as text: the
 * conversation ends there, as with a QEMU that broke off, and the recording says where.
 * Until then the segment answers what it holds. */
static void
test_lazy_malformed_reply (void **state)
{
  LazyText lazy = { 0 };
  g_autoptr (QmpReplies) replies = lazy_replies (&lazy, ", tru");
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplayPeer) peer = NULL;
  g_autoptr (QmpSession) session = open_replay (replies, 0, QMP_REPLAY_ARGUMENTS, &peer,
                                                &error);

  if (session == NULL)
    fail_msg ("session: %s", error->message);
  json_object_put (execute_ok (session, "query-kvm", NULL));
  assert_null (qmp_replies_fill_error (replies));
  assert_null (qmp_session_execute (session, "query-cpu-definitions", NULL,
                                    qmp_deadline_in_ms (10000), &error));
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_CLOSED));
  assert_non_null (qmp_replies_fill_error (replies));
  if (strstr (qmp_replies_fill_error (replies)->message, "lazy[0][4] is not JSON") == NULL)
    fail_msg ("unexpected: %s", qmp_replies_fill_error (replies)->message);
  g_clear_pointer (&session, qmp_session_free);
  g_bytes_unref (lazy.text);
}

/* The same conversations served in the client's own thread give the same replies, events
 * and misses; a recording cut short ends the stream there, and what is sent after the end
 * is refused as a closed QEMU's monitor refuses it. */
static void
test_in_process (void **state)
{
  Fixture *fixture;
  g_autoptr (GError) error = NULL;

  serve_in_process = TRUE;
  test_exact (state);
  test_unknown_command (state);
  test_truncated (state);
  test_lazy_segments (state);
  test_lazy_malformed_reply (state);

  fixture = fixture_new (truncated_replies);
  fixture_connect (fixture, QMP_REPLAY_AUTO);
  assert_null (qmp_session_execute (fixture->session, "query-version", NULL,
                                    qmp_deadline_in_ms (10000), NULL));
  assert_null (qmp_session_execute (fixture->session, "query-kvm", NULL,
                                    qmp_deadline_in_ms (10000), &error));
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_CLOSED));
  fixture_free (fixture);

  /* quit is answered, then the stream ends: the session sees a clean end. */
  g_clear_error (&error);
  fixture = fixture_new (exact_replies);
  fixture_connect (fixture, QMP_REPLAY_AUTO);
  if (!qmp_session_quit (fixture->session, qmp_deadline_in_ms (10000), &error))
    fail_msg ("quit: %s", error->message);
  fixture_free (fixture);
  serve_in_process = FALSE;
}

/* qmp_json_valid() holds text to RFC 8259, as json-c would read it, without building it. */
static void
test_json_valid (void **state)
{
  static const char *const valid[] = {
    "{\"a\": [1, -2.5e3, 0, 1E+2, true, false, null, \"x\\u00e9\\n\\\"\"], \"b\": {}}",
    " [] ", "\"\"", "0", "-0.5",
  };
  static const char *const invalid[] = {
    "{\"a\": tru}", "[1,]", "{\"a\" 1}", "\"\x01\"", "01", "1.", "-", "{\"a\": 1}}",
    "[\"\\x\"]", "{1: 2}", "[1 2]", "", "\"never ends", "[\"\\u12g4\"]",
  };
  g_autoptr (GString) deep = g_string_new (NULL);
  const char *problem = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autoptr (ReplayJson) parsed = json_tokener_parse (valid[i]);

      if (!qmp_json_valid (valid[i], 0, strlen (valid[i]), &problem))
        fail_msg ("%s refused: %s", valid[i], problem);
      assert_true (parsed != NULL || strcmp (valid[i], "null") == 0);
    }
  for (guint i = 0; i < G_N_ELEMENTS (invalid); i++)
    if (qmp_json_valid (invalid[i], 0, strlen (invalid[i]), &problem))
      fail_msg ("%s taken for JSON", invalid[i]);
    else
      assert_non_null (problem);
  for (guint i = 0; i < 300; i++)
    g_string_append_c (deep, '[');
  for (guint i = 0; i < 300; i++)
    g_string_append_c (deep, ']');
  assert_false (qmp_json_valid (deep->str, 0, deep->len, &problem));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse_segments),
    cmocka_unit_test (test_parse_errors),
    cmocka_unit_test (test_metadata_parse_error),
    cmocka_unit_test (test_exact),
    cmocka_unit_test (test_by_name_when_arguments_differ),
    cmocka_unit_test (test_unknown_command),
    cmocka_unit_test (test_truncated),
    cmocka_unit_test (test_ordered),
    cmocka_unit_test (test_shape),
    cmocka_unit_test (test_shape_table),
    cmocka_unit_test (test_no_greeting),
    cmocka_unit_test (test_segments_and_listen),
    cmocka_unit_test (test_lazy_segments),
    cmocka_unit_test (test_lazy_malformed_reply),
    cmocka_unit_test (test_in_process),
    cmocka_unit_test (test_json_valid),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
