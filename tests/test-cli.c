/* tests/test-cli.c — the vcpuprobe command line as scripts see it: exit statuses, one-line
 * errors, and real answers from the real QEMU, a QEMU's socket and a recording of it. */
#include "tests/test-util.h"

#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

static TestRun *
run_argv (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  TestRun *run;

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  run = test_run ((const char *const *) argv->pdata, NULL);
  test_assert_nothing_left ();
  return run;
}

#define RUN(...) run_argv ((const char *const[]) { __VA_ARGS__, NULL })
/* The QEMU the tests were pointed at ($VCPUPROBE_TEST_QEMU), not just the one on PATH. */
#define RUN_QEMU(...) RUN ("--qemu", test_qemu_binary (), __VA_ARGS__)

/* ---- Usage errors ---- */

typedef struct {
  const char *argv[8];
  const char *named;    /* what the error line must name */
} UsageCase;

static const UsageCase usage_cases[] = {
  { { NULL }, "COMMAND" },
  { { "--frobnicate", "cpuid" }, "--frobnicate" },
  { { "cpuid", "--frobnicate" }, "--frobnicate" },
  { { "-x", "cpuid" }, "-x" },
  { { "frob" }, "frob" },
  { { "--qemu" }, "--qemu" },
  { { "qmp", "query-version", "--machine" }, "--machine" },
  { { "--qemu", "--debug", "qmp", "query-version" }, "--qemu" },
  { { "--qemu=", "qmp", "query-version" }, "--qemu=" },
  { { "--accel", "xen", "qmp", "query-version" }, "xen" },
  { { "qmp", "query-version", "--accel=hvf" }, "hvf" },
  { { "--method", "guess", "cpuid" }, "guess" },
  { { "--format=yaml", "cpuid" }, "yaml" },
  { { "--timeout", "0", "cpuid" }, "--timeout 0" },
  { { "--timeout=-5", "cpuid" }, "-5" },
  { { "--timeout", "soon", "cpuid" }, "soon" },
  { { "--timeout=nan", "cpuid" }, "nan" },
  { { "--debug=yes", "cpuid" }, "--debug=yes" },
  { { "--no-cache=1", "cpuid" }, "--no-cache=1" },
  { { "--help=me" }, "--help=me" },
  { { "--accel", "tcg", "--accel", "kvm", "cpuid" }, "--accel" },
  { { "--qemu", "/a", "--socket", "/b", "qmp", "query-version" }, "--socket" },
  { { "--replay", "/a", "--qemu", "/b", "qmp", "query-version" }, "--qemu" },
  { { "--socket=/a", "--replay=/b", "qmp", "query-version" }, "--replay" },
  { { "qmp" }, "CMD" },
  { { "qmp", "query-version", "{}", "extra" }, "extra" },
  { { "qmp", "query-version", "[1]" }, "[1]" },
  { { "qmp", "query-version", "{\"a\":" }, "{\"a\":" },
  { { "qmp", "query-version", "{} {}" }, "{} {}" },
  { { "qmp", "query-version", "\"text\"" }, "\"text\"" },
  { { "cpuid", "extra" }, "extra" },
  { { "--cpu", "0", "cpuid" }, "--cpu" },
  { { "qmp", "--cpu", "0", "query-version" }, "--cpu" },
  { { "--probe-old", "models" }, "--probe-old" },
  { { "--strict", "check", "host" }, "--strict" },
  { { "cpuid", "--cpu" }, "--cpu" },
  { { "cpuid", "--cpu", "first" }, "first" },
  { { "cpuid", "--cpu=-1" }, "-1" },
  { { "cpuid", "--cpu", "0", "--cpu", "1" }, "--cpu" },
  { { "cpuid", "--cpu", "99999" }, "99999" },
  { { "--qemu", "/nonexistent/qemu", "qmp", "query-version" }, "/nonexistent/qemu" },
  { { "--replay", "/nonexistent/rec.replies", "qmp", "query-version" }, "/nonexistent/rec.replies" },
  { { "--socket", "/nonexistent/qmp.sock", "qmp", "query-version" }, "/nonexistent/qmp.sock" },
  { { "--cpuid-dump", "/nonexistent/dump.txt", "cpuid" }, "/nonexistent/dump.txt" },
};

static void
test_usage_errors (void **state)
{
  for (guint i = 0; i < G_N_ELEMENTS (usage_cases); i++)
    {
      g_autoptr (TestRun) run = run_argv (usage_cases[i].argv);
      g_autofree char *shown = g_strjoinv (" ", (char **) usage_cases[i].argv);

      print_message ("vcpuprobe %s\n", shown);
      test_assert_exit (run, 2);
      test_assert_one_error_line (run, usage_cases[i].named);
      assert_string_equal (run->out, "");
    }
}

/* ---- --help, --version ---- */

static void
test_help (void **state)
{
  g_autoptr (TestRun) before = RUN ("--help");
  g_autoptr (TestRun) after = RUN ("cpuid", "--help");

  test_assert_exit (before, 0);
  assert_true (g_str_has_prefix (before->out, "vcpuprobe [OPTIONS] COMMAND [ARGS]\n"));
  assert_non_null (strstr (before->out, "  qmp CMD [ARGS]  run one QMP command"));
  assert_true (g_str_has_suffix (before->out, "Exit: 0 success / pass, 1 check mismatch, "
                                              "2 usage or bad input, 3 QEMU or probe failure.\n"));
  assert_string_equal (before->err, "");
  /* A global option after the command still works, and --help does not run the command. */
  test_assert_exit (after, 0);
  assert_string_equal (after->out, before->out);
}

static void
test_version (void **state)
{
  g_autoptr (TestRun) run = RUN ("--version");

  test_assert_exit (run, 0);
  assert_string_equal (run->out, "vcpuprobe " VCPUPROBE_VERSION "\n");
  assert_string_equal (run->err, "");
}

/* ---- qmp against the real QEMU ---- */

/* "major.minor.micro" from `qemu-system-x86_64 --version`. */
static char *
qemu_version_from_binary (void)
{
  g_autoptr (TestRun) run = test_run ((const char *const[]) { test_qemu_binary (), "--version", NULL },
                                      NULL);
  g_autoptr (GRegex) regex = g_regex_new ("version (\\d+\\.\\d+\\.\\d+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  assert_int_equal (run->status, 0);
  if (!g_regex_match (regex, run->out, 0, &match))
    fail_msg ("no version in: %s", run->out);
  return g_match_info_fetch (match, 1);
}

/* The query-version reply printed by vcpuprobe is the binary's own version. */
static void
assert_query_version_output (const char *out)
{
  json_object *reply = test_parse_json (out);
  json_object *qemu = test_json_member (reply, "qemu", json_type_object);
  g_autofree char *expected = qemu_version_from_binary ();
  g_autofree char *printed = g_strdup_printf ("%d.%d.%d",
                                              json_object_get_int (test_json_member (qemu, "major", json_type_int)),
                                              json_object_get_int (test_json_member (qemu, "minor", json_type_int)),
                                              json_object_get_int (test_json_member (qemu, "micro", json_type_int)));

  assert_string_equal (printed, expected);
  test_json_member (reply, "package", json_type_string);
  json_object_put (reply);
}

static void
test_qmp_tcg (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) run = RUN_QEMU ("--accel", "tcg", "qmp", "query-version");

  test_assert_exit (run, 0);
  assert_query_version_output (run->out);
}

static void
test_qmp_kvm (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  g_autoptr (TestRun) run = RUN_QEMU ("qmp", "query-version", "--accel=kvm");
  g_autoptr (TestRun) kvm = RUN_QEMU ("qmp", "--accel", "kvm", "query-kvm");
  json_object *reply;

  test_assert_exit (run, 0);
  assert_query_version_output (run->out);
  /* The QEMU really runs under KVM, not a silent TCG fallback. */
  test_assert_exit (kvm, 0);
  reply = test_parse_json (kvm->out);
  assert_true (json_object_get_boolean (test_json_member (reply, "enabled", json_type_boolean)));
  json_object_put (reply);
}

static void
test_qmp_arguments (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) run = RUN_QEMU ("--accel", "tcg", "qmp", "query-cpu-model-expansion",
                                 "{\"type\": \"static\", \"model\": {\"name\": \"qemu64\"}}");
  json_object *reply;
  json_object *model;

  test_assert_exit (run, 0);
  reply = test_parse_json (run->out);
  model = test_json_member (reply, "model", json_type_object);
  test_json_member (model, "name", json_type_string);
  test_json_member (model, "props", json_type_object);
  json_object_put (reply);
}

static void
test_qmp_errors (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) unknown = RUN_QEMU ("--accel", "tcg", "qmp", "no-such-command");
  g_autoptr (TestRun) missing = RUN_QEMU ("--accel", "tcg", "qmp", "query-cpu-model-expansion", "{}");

  test_assert_exit (unknown, 3);
  test_assert_one_error_line (unknown, NULL);
  assert_true (g_str_has_prefix (unknown->err, "vcpuprobe: no-such-command: CommandNotFound: "));
  assert_string_equal (unknown->out, "");
  test_assert_exit (missing, 3);
  test_assert_one_error_line (missing, NULL);
  assert_true (g_str_has_prefix (missing->err, "vcpuprobe: query-cpu-model-expansion: GenericError: "));
}

/* Query mode runs machine none, which has no CPU, unless --machine names a board. */
static void
test_qmp_machine (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) none = RUN_QEMU ("--accel", "tcg", "qmp", "query-cpus-fast");
  g_autoptr (TestRun) pc = RUN_QEMU ("--accel", "tcg", "--machine", "pc", "qmp", "query-cpus-fast");
  json_object *cpus;

  test_assert_exit (none, 0);
  cpus = test_parse_json (none->out);
  assert_int_equal (json_object_array_length (cpus), 0);
  json_object_put (cpus);
  test_assert_exit (pc, 0);
  cpus = test_parse_json (pc->out);
  assert_int_equal (json_object_array_length (cpus), 1);
  json_object_put (cpus);
}

/* --debug traces the conversation on stderr and leaves stdout to the answer. */
static void
test_qmp_debug (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) quiet = RUN_QEMU ("--accel", "tcg", "qmp", "query-version");
  g_autoptr (TestRun) traced = RUN_QEMU ("--accel", "tcg", "qmp", "query-version", "--debug");

  test_assert_exit (traced, 0);
  assert_string_equal (traced->out, quiet->out);
  assert_string_equal (quiet->err, "");
  assert_non_null (strstr (traced->err, "\"execute\":\"query-version\""));
}

static void
test_not_qemu (void **state)
{
  g_autoptr (TestRun) run = RUN ("--qemu", "/bin/false", "--timeout", "20", "qmp", "query-version");

  test_assert_exit (run, 3);
  test_assert_one_error_line (run, "/bin/false");
  assert_string_equal (run->out, "");
}

/* ---- --socket: a QEMU started here ---- */

/* A failed assertion leaves the test before it stops QEMU: let QEMU die with the test. */
static void
die_with_test (gpointer unused)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static void
test_qmp_socket (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *socket_path = g_build_filename (dir, "qmp.sock", NULL);
  g_autofree char *monitor = g_strdup_printf ("unix:%s,server=on,wait=off", socket_path);
  const char *qemu_argv[] = { test_qemu_binary (), "-S", "-nodefaults", "-display", "none",
                              "-machine", "none", "-accel", "tcg", "-qmp", monitor, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TestRun) run = NULL;
  GPid qemu;
  int status;

  if (!g_spawn_async (NULL, (char **) qemu_argv, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                      | G_SPAWN_STDERR_TO_DEV_NULL, die_with_test, NULL, &qemu, &error))
    fail_msg ("cannot start QEMU: %s", error->message);
  /* QEMU creates the socket before it listens; a QEMU that died is caught by the check. */
  for (guint i = 0; i < 3000 && !g_file_test (socket_path, G_FILE_TEST_EXISTS); i++)
    {
      if (waitpid (qemu, &status, WNOHANG) == qemu)
        fail_msg ("QEMU exited before creating %s", socket_path);
      g_usleep (10000);
    }

  run = test_run ((const char *const[]) { test_vcpuprobe (), "--socket", socket_path,
                                          "qmp", "query-version", NULL }, NULL);
  kill (qemu, SIGTERM);
  waitpid (qemu, &status, 0);
  g_spawn_close_pid (qemu);
  test_rmdir_r (dir);

  test_assert_exit (run, 0);
  assert_query_version_output (run->out);
  test_assert_nothing_left ();
}

/* A monitor that accepts and never greets: only the --timeout deadline ends the wait. */
static void
test_timeout (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *socket_path = g_build_filename (dir, "silent.sock", NULL);
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  g_autoptr (TestRun) run = NULL;
  int listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

  assert_true (listener >= 0);
  g_strlcpy (address.sun_path, socket_path, sizeof address.sun_path);
  assert_int_equal (bind (listener, (struct sockaddr *) &address, sizeof address), 0);
  assert_int_equal (listen (listener, 4), 0);

  run = RUN ("--socket", socket_path, "--timeout", "0.5", "qmp", "query-version");
  close (listener);
  test_rmdir_r (dir);

  test_assert_exit (run, 3);
  test_assert_one_error_line (run, socket_path);
  assert_string_equal (run->out, "");
}

/* ---- --record, then --replay of it ---- */

static void
test_record_replay (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *recording = g_build_filename (dir, "query-version.replies", NULL);
  g_autofree char *metadata_path = g_strconcat (recording, ".json", NULL);
  g_autoptr (TestRun) live = RUN_QEMU ("--accel", "tcg", "--record", recording, "qmp", "query-version");
  g_autoptr (TestRun) replayed = NULL;
  g_autoptr (TestRun) unrecorded = NULL;
  json_object *metadata;

  test_assert_exit (live, 0);
  /* The recording and its description, and nothing half-written beside them. */
  assert_int_equal (test_count_entries (dir, ""), 2);
  assert_true (g_file_test (recording, G_FILE_TEST_IS_REGULAR));
  metadata = json_object_from_file (metadata_path);
  assert_non_null (metadata);
  json_object_put (metadata);

  replayed = RUN ("--replay", recording, "qmp", "query-version");
  test_assert_exit (replayed, 0);
  assert_string_equal (replayed->out, live->out);
  assert_string_equal (replayed->err, "");

  /* What the recording never saw is QEMU's CommandNotFound, as from a real QEMU. */
  unrecorded = RUN ("--replay", recording, "qmp", "query-kvm");
  test_assert_exit (unrecorded, 3);
  test_assert_one_error_line (unrecorded, "query-kvm");
  test_rmdir_r (dir);
}

/* VCPUPROBE_REPLAY_STRICT=1: a recording that cannot answer fails the run, by name. */
static void
test_replay_strict (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *recording = g_build_filename (dir, "query-version.replies", NULL);
  g_autoptr (TestRun) live = RUN_QEMU ("--accel", "tcg", "--record", recording, "qmp", "query-version");
  g_autoptr (TestRun) answered = NULL;
  g_autoptr (TestRun) unanswered = NULL;

  test_assert_exit (live, 0);
  g_setenv ("VCPUPROBE_REPLAY_STRICT", "1", TRUE);
  answered = RUN ("--replay", recording, "qmp", "query-version");
  unanswered = RUN ("--replay", recording, "qmp", "query-kvm");
  g_unsetenv ("VCPUPROBE_REPLAY_STRICT");
  test_assert_exit (answered, 0);
  assert_string_equal (answered->out, live->out);
  test_assert_exit (unanswered, 3);
  test_assert_one_error_line (unanswered, "query-kvm");
  assert_null (strstr (unanswered->err, "CommandNotFound"));
  test_rmdir_r (dir);
}

/* libvirt's older recordings hold replies only, in libvirt's order: a command gets the
 * reply of its shape, not merely the next one. */
static void
test_replay_replies_only (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *recording = g_build_filename (dir, "caps_2.5.0.replies", NULL);
  g_autoptr (TestRun) run = NULL;
  json_object *reply;
  json_object *qemu;

  assert_true (g_file_set_contents (recording,
                                    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 5, "
                                    "\"major\": 2}, \"package\": \"\"}, \"capabilities\": []}}\n\n"
                                    "{\"return\": {}, \"id\": \"libvirt-1\"}\n\n"
                                    "{\"return\": {\"enabled\": true, \"present\": true}, "
                                    "\"id\": \"libvirt-2\"}\n\n"
                                    "{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 5, \"major\": 2}, "
                                    "\"package\": \"\"}, \"id\": \"libvirt-3\"}\n",
                                    -1, NULL));
  run = RUN ("--replay", recording, "qmp", "query-version");
  test_assert_exit (run, 0);
  reply = test_parse_json (run->out);
  qemu = test_json_member (reply, "qemu", json_type_object);
  assert_int_equal (json_object_get_int (test_json_member (qemu, "minor", json_type_int)), 5);
  json_object_put (reply);
  test_rmdir_r (dir);
}

/* A copy in @dir of the recording tests/qmp-replies/@name without the exchanges of
 * @command, with its metadata; NULL @command keeps the replies and greetings only, as in
 * libvirt's older layout, without metadata as libvirt has none. Returns the copy's path. */
static char *
copy_recording_without (const char *dir, const char *name, const char *command)
{
  g_autofree char *relative = g_build_filename ("qmp-replies", name, NULL);
  g_autofree char *source = test_data_path (relative);
  g_autofree char *source_json = g_strconcat (source, ".json", NULL);
  char *copy = g_build_filename (dir, name, NULL);
  g_autofree char *copy_json = g_strconcat (copy, ".json", NULL);
  g_autofree char *text = NULL;
  g_autofree char *metadata = NULL;
  g_auto (GStrv) messages = NULL;
  g_autoptr (GString) kept = g_string_new (NULL);
  gboolean dropping = FALSE;

  assert_true (g_file_get_contents (source, &text, NULL, NULL));
  /* The recorder separates the messages it writes by one blank line. */
  messages = g_strsplit (text, "\n\n", -1);
  for (guint i = 0; messages[i] != NULL; i++)
    {
      json_object *message = json_tokener_parse (messages[i]);
      json_object *execute = NULL;
      gboolean keep;

      if (message == NULL)
        continue;
      if (json_object_object_get_ex (message, "execute", &execute))
        {
          dropping = command != NULL && g_str_equal (json_object_get_string (execute), command);
          keep = command != NULL && !dropping;
        }
      else
        keep = !dropping;
      /* Events and the reply belong to the command before them; the reply ends its exchange. */
      if (json_object_object_get_ex (message, "return", NULL)
          || json_object_object_get_ex (message, "error", NULL))
        dropping = FALSE;
      if (keep)
        g_string_append_printf (kept, "%s%s\n", kept->len > 0 ? "\n" : "", g_strstrip (messages[i]));
      json_object_put (message);
    }
  assert_true (g_file_set_contents (copy, kept->str, -1, NULL));
  if (command != NULL)
    {
      assert_true (g_file_get_contents (source_json, &metadata, NULL, NULL));
      assert_true (g_file_set_contents (copy_json, metadata, -1, NULL));
    }
  return copy;
}

/* Under VCPUPROBE_REPLAY_STRICT=1 every command that probes reports a command the recording
 * lacks as such, in one line and with exit 3, never as the CommandNotFound the replay
 * peer made up for it, whether that error failed the probe (qom-get in post-start) or
 * only left a layer unknown (host, models). */
static void
test_replay_strict_probes (void **state)
{
  static const struct {
    const char *recording;
    const char *dropped;
    const char *args[10];
  } cases[] = {
    { "expand-Haswell-kvm-post-start.replies", "qom-get",
      { "--accel", "kvm", "--method", "post-start", "expand", "Haswell" } },
    { "check-qemu64-feats-tcg-post-start.replies", "qom-get",
      { "--accel", "tcg", "--method", "post-start", "check", "qemu64,+sse4.2,-lahf-lm" } },
    { "check-qemu64-feats-tcg-expansion.replies", "query-cpu-model-expansion",
      { "--accel", "tcg", "--method", "expansion", "--format", "json", "check", "qemu64" } },
    { "host-kvm.replies", "query-cpu-model-expansion", { "--accel", "kvm", "host" } },
    { "models-tcg.replies", "query-cpu-definitions", { "--accel", "tcg", "models" } },
  };
  g_autofree char *dump = test_data_path ("qmp-replies/host.cpuid");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = test_make_tmpdir ();
      g_autofree char *recording = copy_recording_without (dir, cases[i].recording,
                                                           cases[i].dropped);
      g_autofree char *expected = g_strdup_printf ("recording %s has no answer for %s",
                                                   recording, cases[i].dropped);
      g_autoptr (GPtrArray) argv = g_ptr_array_new ();
      g_autoptr (TestRun) run = NULL;

      g_ptr_array_add (argv, "--replay");
      g_ptr_array_add (argv, recording);
      g_ptr_array_add (argv, "--cpuid-dump");
      g_ptr_array_add (argv, dump);
      g_ptr_array_add (argv, "--no-cache");
      for (guint j = 0; cases[i].args[j] != NULL; j++)
        g_ptr_array_add (argv, (gpointer) cases[i].args[j]);
      g_ptr_array_add (argv, NULL);
      g_setenv ("VCPUPROBE_REPLAY_STRICT", "1", TRUE);
      run = run_argv ((const char *const *) argv->pdata);
      g_unsetenv ("VCPUPROBE_REPLAY_STRICT");
      print_message ("%s without %s: %s", cases[i].recording, cases[i].dropped, run->err);
      test_assert_exit (run, 3);
      test_assert_one_error_line (run, expected);
      assert_null (strstr (run->err, "CommandNotFound"));
      assert_string_equal (run->out, "");
      test_rmdir_r (dir);
    }
}

/* A replay matched by shape says so, in JSON and text alike; one matched by command says
 * it was a replay, and nothing of shapes. */
static void
test_replay_says_shape (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *replies_only = copy_recording_without (dir, "models-tcg.replies", NULL);
  g_autofree char *by_command = test_data_path ("qmp-replies/models-tcg.replies");
  g_autofree char *line = g_strdup_printf ("replayed from %s (replies matched by shape: "
                                           "libvirt's replies-only layout)\n", replies_only);
  g_autoptr (TestRun) json_run = RUN ("--replay", replies_only, "--accel", "tcg", "--format",
                                      "json", "models");
  g_autoptr (TestRun) text_run = RUN ("--replay", replies_only, "--accel", "tcg", "models");
  g_autoptr (TestRun) exact_run = RUN ("--replay", by_command, "--accel", "tcg", "--format",
                                       "json", "models");
  g_autoptr (TestRun) exact_text = RUN ("--replay", by_command, "--accel", "tcg", "models");
  json_object *document;
  json_object *replay;

  test_assert_exit (json_run, 0);
  document = test_parse_json (json_run->out);
  replay = test_json_member (document, "replay", json_type_object);
  assert_string_equal (json_object_get_string (test_json_member (replay, "file", json_type_string)),
                       replies_only);
  assert_true (json_object_get_boolean (test_json_member (replay, "shape_matched", json_type_boolean)));
  json_object_put (document);

  test_assert_exit (text_run, 0);
  assert_true (g_str_has_prefix (text_run->out, line));

  test_assert_exit (exact_run, 0);
  document = test_parse_json (exact_run->out);
  replay = test_json_member (document, "replay", json_type_object);
  assert_false (json_object_get_boolean (test_json_member (replay, "shape_matched", json_type_boolean)));
  json_object_put (document);
  test_assert_exit (exact_text, 0);
  assert_null (strstr (exact_text->out, "matched by shape"));
  test_rmdir_r (dir);
}

static void
test_replay_malformed (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *recording = g_build_filename (dir, "broken.replies", NULL);
  g_autoptr (TestRun) run = NULL;

  assert_true (g_file_set_contents (recording, "{\"QMP\": {\"version\": \n\nnot json at all\n",
                                    -1, NULL));
  run = RUN ("--replay", recording, "qmp", "query-version");
  test_assert_exit (run, 2);
  test_assert_one_error_line (run, recording);
  test_rmdir_r (dir);
}

/* ---- cpuid ---- */

static gboolean
have_program (const char *name)
{
  g_autofree char *path = g_find_program_in_path (name);

  return path != NULL;
}

/* Our lines without those of leaves the cpuid tool predates (subleaves past 0 of 0x1E and
 * 0x24, which the feature table needs), where the tool does not print them. */
static char *
without_lines_newer_than_tool (const char *ours, const char *theirs)
{
  g_auto (GStrv) lines = g_strsplit (ours, "\n", -1);
  g_autoptr (GString) kept = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *needle = g_strconcat (lines[i], "\n", NULL);
      gboolean newer = (g_str_has_prefix (lines[i], "   0x0000001e 0x")
                        || g_str_has_prefix (lines[i], "   0x00000024 0x"))
                       && !g_str_has_prefix (lines[i] + 14, "00:");

      if (newer && strstr (theirs, needle) == NULL)
        continue;
      g_string_append (kept, lines[i]);
      if (lines[i + 1] != NULL)
        g_string_append_c (kept, '\n');
    }
  return g_string_free (g_steal_pointer (&kept), FALSE);
}

static void
test_cpuid_matches_cpuid_tool (void **state)
{
  if (!have_program ("cpuid") || !have_program ("taskset"))
    {
      print_message ("SKIP: the cpuid or taskset program is not installed\n");
      skip ();
    }
  g_autoptr (TestRun) ours = test_run ((const char *const[]) { "taskset", "-c", "0",
                                                               test_vcpuprobe (), "cpuid", "--cpu", "0",
                                                               NULL }, NULL);
  g_autoptr (TestRun) theirs = test_run ((const char *const[]) { "taskset", "-c", "0", "cpuid", "-1r",
                                                                 NULL }, NULL);
  g_autofree char *our_lines = NULL;

  test_assert_exit (ours, 0);
  assert_int_equal (theirs->status, 0);
  /* Line for line, the header included. */
  our_lines = without_lines_newer_than_tool (ours->out, theirs->out);
  assert_string_equal (our_lines, theirs->out);
  test_assert_nothing_left ();
}

static void
test_cpuid_all_cpus_text (void **state)
{
  g_autoptr (TestRun) run = RUN ("cpuid");
  long online = sysconf (_SC_NPROCESSORS_ONLN);
  guint headers = 0;
  g_auto (GStrv) lines = NULL;

  test_assert_exit (run, 0);
  lines = g_strsplit (run->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "CPU "))
      headers++;
  assert_int_equal (headers, online);
}

static void
test_cpuid_json (void **state)
{
  g_autoptr (TestRun) run = RUN ("cpuid", "--format", "json");
  json_object *report;
  json_object *cpus;
  json_object *cpu0;
  json_object *features;
  json_object *leaf;
  json_object *kvm;
  gboolean has_fpu = FALSE;

  test_assert_exit (run, 0);
  report = test_parse_json (run->out);
  test_json_member (report, "identity", json_type_object);
  test_json_member (report, "heterogeneous", json_type_boolean);
  cpus = test_json_member (report, "cpus", json_type_array);
  assert_int_equal (json_object_array_length (cpus), sysconf (_SC_NPROCESSORS_ONLN));
  cpu0 = json_object_array_get_idx (cpus, 0);
  test_json_member (cpu0, "cpu", json_type_int);
  features = test_json_member (cpu0, "features", json_type_array);
  for (size_t i = 0; i < json_object_array_length (features); i++)
    if (strcmp (json_object_get_string (json_object_array_get_idx (features, i)), "fpu") == 0)
      has_fpu = TRUE;
  assert_true (has_fpu);
  leaf = json_object_array_get_idx (test_json_member (cpu0, "leaves", json_type_array), 0);
  assert_non_null (leaf);
  for (guint i = 0; i < 6; i++)
    assert_true (json_object_object_get_ex (leaf, (const char *[]) { "leaf", "subleaf", "eax", "ebx",
                                                                      "ecx", "edx" }[i], NULL));
  kvm = test_json_member (report, "kvm", json_type_object);
  test_json_member (kvm, "supported", json_type_array);
  test_json_member (kvm, "emulated", json_type_array);
  assert_int_equal (json_object_get_boolean (test_json_member (kvm, "available", json_type_boolean)),
                    test_kvm_usable ());
  if (test_kvm_usable ())
    assert_true (json_object_array_length (test_json_member (kvm, "supported", json_type_array)) > 0);
  else
    test_json_member (kvm, "reason", json_type_string);
  json_object_put (report);
}

static void
test_cpuid_xml (void **state)
{
  g_autoptr (TestRun) run = RUN ("cpuid", "--format=xml");

  test_assert_exit (run, 0);
  assert_true (g_str_has_prefix (run->out, "<cpudata arch='x86'>\n"));
  assert_non_null (strstr (run->out, "<cpuid eax_in='0x00000000' ecx_in='0x00' "));
  assert_true (g_str_has_suffix (run->out, "</cpudata>\n"));
}

/* A dump written by `cpuid --cpu 0` reads back as the same CPU, and its JSON does not
 * claim this machine's KVM for the dump's host. */
static void
test_cpuid_dump_round_trip (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *dump = g_build_filename (dir, "cpu0.txt", NULL);
  g_autoptr (TestRun) live = RUN ("cpuid", "--cpu", "0");
  g_autoptr (TestRun) text = NULL;
  g_autoptr (TestRun) json = NULL;
  g_autoptr (TestRun) absent = NULL;
  json_object *report;
  json_object *kvm;

  test_assert_exit (live, 0);
  assert_true (g_file_set_contents (dump, live->out, -1, NULL));

  /* One CPU's dump is headed "CPU:", as `cpuid -1r` heads it, and reads back as CPU 0. */
  text = RUN ("--cpuid-dump", dump, "cpuid", "--cpu", "0");
  test_assert_exit (text, 0);
  assert_string_equal (text->out, live->out);

  json = RUN ("cpuid", "--format", "json", "--cpuid-dump", dump);
  test_assert_exit (json, 0);
  report = test_parse_json (json->out);
  assert_int_equal (json_object_array_length (test_json_member (report, "cpus", json_type_array)), 1);
  kvm = test_json_member (report, "kvm", json_type_object);
  assert_false (json_object_get_boolean (test_json_member (kvm, "available", json_type_boolean)));
  assert_non_null (strstr (json_object_get_string (test_json_member (kvm, "reason", json_type_string)), "dump"));
  assert_int_equal (json_object_array_length (test_json_member (kvm, "supported", json_type_array)), 0);
  json_object_put (report);

  absent = RUN ("--cpuid-dump", dump, "cpuid", "--cpu", "1");
  test_assert_exit (absent, 2);
  test_assert_one_error_line (absent, "1");
  test_rmdir_r (dir);
}

/* The way users capture a host: `cpuid --format json > host.json`, later --cpuid-dump
 * host.json. Every CPU and leaf comes back; a JSON document of neither layout is refused. */
static void
test_cpuid_json_round_trip (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *capture = g_build_filename (dir, "host.json", NULL);
  g_autofree char *stranger = g_build_filename (dir, "other.json", NULL);
  g_autoptr (TestRun) live_json = RUN ("cpuid", "--format", "json");
  g_autoptr (TestRun) live_text = RUN ("cpuid");
  g_autoptr (TestRun) text = NULL;
  g_autoptr (TestRun) json = NULL;
  g_autoptr (TestRun) refused = NULL;
  json_object *captured;
  json_object *reread;
  json_object *captured_cpus;
  json_object *reread_cpus;

  test_assert_exit (live_json, 0);
  test_assert_exit (live_text, 0);
  assert_true (g_file_set_contents (capture, live_json->out, -1, NULL));

  text = RUN ("--cpuid-dump", capture, "cpuid");
  test_assert_exit (text, 0);
  assert_string_equal (text->out, live_text->out);

  json = RUN ("--cpuid-dump", capture, "cpuid", "--format", "json");
  test_assert_exit (json, 0);
  captured = test_parse_json (live_json->out);
  reread = test_parse_json (json->out);
  captured_cpus = test_json_member (captured, "cpus", json_type_array);
  reread_cpus = test_json_member (reread, "cpus", json_type_array);
  assert_int_equal (json_object_array_length (reread_cpus), json_object_array_length (captured_cpus));
  for (size_t i = 0; i < json_object_array_length (captured_cpus); i++)
    {
      json_object *before = json_object_array_get_idx (captured_cpus, i);
      json_object *after = json_object_array_get_idx (reread_cpus, i);

      assert_true (json_object_equal (test_json_member (before, "cpu", json_type_int),
                                      test_json_member (after, "cpu", json_type_int)));
      assert_true (json_object_equal (test_json_member (before, "leaves", json_type_array),
                                      test_json_member (after, "leaves", json_type_array)));
      assert_true (json_object_equal (test_json_member (before, "features", json_type_array),
                                      test_json_member (after, "features", json_type_array)));
    }
  json_object_put (captured);
  json_object_put (reread);

  assert_true (g_file_set_contents (stranger, "{\"cpus\": []}\n", -1, NULL));
  refused = RUN ("--cpuid-dump", stranger, "cpuid");
  test_assert_exit (refused, 2);
  test_assert_one_error_line (refused, stranger);
  test_rmdir_r (dir);
}

static void
test_cpuid_dump_malformed (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *dump = g_build_filename (dir, "broken.txt", NULL);
  g_autofree char *where = g_strconcat (dump, ":3", NULL);
  g_autoptr (TestRun) run = NULL;

  assert_true (g_file_set_contents (dump,
                                    "CPU 0:\n"
                                    "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
                                    "   0x00000001 0x00: eax=0x000306c3 ebx=banana\n",
                                    -1, NULL));
  run = RUN ("--cpuid-dump", dump, "cpuid");
  test_assert_exit (run, 2);
  test_assert_one_error_line (run, where);
  assert_string_equal (run->out, "");
  test_rmdir_r (dir);
}

/* ---- valgrind ---- */

static void
run_under_valgrind (const char *const *args, int expected_status)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (TestRun) run = NULL;

  for (const char *const *v = (const char *const[]) { "valgrind", "--leak-check=full",
                                                      "--errors-for-leak-kinds=definite",
                                                      "--error-exitcode=99", "-q",
                                                      test_vcpuprobe (), NULL }; *v != NULL; v++)
    g_ptr_array_add (argv, (gpointer) *v);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  run = test_run ((const char *const *) argv->pdata, NULL);
  if (run->status != expected_status)
    fail_msg ("under valgrind: exit status %d, expected %d; stderr: %s",
              run->status, expected_status, run->err);
  test_assert_nothing_left ();
}

static void
test_valgrind (void **state)
{
#if defined(__SANITIZE_ADDRESS__)
  print_message ("SKIP: valgrind cannot run a program built with AddressSanitizer\n");
  skip ();
#endif
  if (!have_program ("valgrind"))
    {
      print_message ("SKIP: valgrind is not installed\n");
      skip ();
    }
  run_under_valgrind ((const char *const[]) { "--frobnicate", "cpuid", NULL }, 2);
  run_under_valgrind ((const char *const[]) { "cpuid", "--format", "json", NULL }, 0);
  TEST_REQUIRE_QEMU ();
  run_under_valgrind ((const char *const[]) { "qmp", "query-version", "--accel", "tcg",
                                              "--qemu", test_qemu_binary (),
                                              "--timeout", "120", NULL }, 0);
}

/* --record describes the recording in metadata whose every value the recorder holds a
 * reference to: the commands that hand their source to a probe once leaked theirs. */
static void
test_valgrind_record (void **state)
{
#if defined(__SANITIZE_ADDRESS__)
  print_message ("SKIP: valgrind cannot run a program built with AddressSanitizer "
                 "(the record cases of this build's own runs are checked by LeakSanitizer)\n");
  skip ();
#endif
  if (!have_program ("valgrind"))
    {
      print_message ("SKIP: valgrind is not installed\n");
      skip ();
    }
  TEST_REQUIRE_QEMU ();
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *host_recording = g_build_filename (dir, "host.replies", NULL);
  g_autofree char *expand_recording = g_build_filename (dir, "expand.replies", NULL);

  run_under_valgrind ((const char *const[]) { "host", "--record", host_recording,
                                              "--qemu", test_qemu_binary (),
                                              "--timeout", "120", NULL }, 0);
  run_under_valgrind ((const char *const[]) { "expand", "qemu64", "--accel", "tcg",
                                              "--record", expand_recording,
                                              "--qemu", test_qemu_binary (),
                                              "--timeout", "120", NULL }, 0);
  assert_true (g_file_test (host_recording, G_FILE_TEST_IS_REGULAR));
  assert_true (g_file_test (expand_recording, G_FILE_TEST_IS_REGULAR));
  test_rmdir_r (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_usage_errors),
    TEST_CASE_IN_TMPDIR (test_help),
    TEST_CASE_IN_TMPDIR (test_version),
    TEST_CASE_IN_TMPDIR (test_qmp_tcg),
    TEST_CASE_IN_TMPDIR (test_qmp_kvm),
    TEST_CASE_IN_TMPDIR (test_qmp_arguments),
    TEST_CASE_IN_TMPDIR (test_qmp_errors),
    TEST_CASE_IN_TMPDIR (test_qmp_machine),
    TEST_CASE_IN_TMPDIR (test_qmp_debug),
    TEST_CASE_IN_TMPDIR (test_not_qemu),
    TEST_CASE_IN_TMPDIR (test_timeout),
    TEST_CASE_IN_TMPDIR (test_qmp_socket),
    TEST_CASE_IN_TMPDIR (test_record_replay),
    TEST_CASE_IN_TMPDIR (test_replay_strict),
    TEST_CASE_IN_TMPDIR (test_replay_replies_only),
    TEST_CASE_IN_TMPDIR (test_replay_strict_probes),
    TEST_CASE_IN_TMPDIR (test_replay_says_shape),
    TEST_CASE_IN_TMPDIR (test_replay_malformed),
    TEST_CASE_IN_TMPDIR (test_cpuid_matches_cpuid_tool),
    TEST_CASE_IN_TMPDIR (test_cpuid_all_cpus_text),
    TEST_CASE_IN_TMPDIR (test_cpuid_json),
    TEST_CASE_IN_TMPDIR (test_cpuid_xml),
    TEST_CASE_IN_TMPDIR (test_cpuid_dump_round_trip),
    TEST_CASE_IN_TMPDIR (test_cpuid_json_round_trip),
    TEST_CASE_IN_TMPDIR (test_cpuid_dump_malformed),
    TEST_CASE_IN_TMPDIR (test_valgrind),
    TEST_CASE_IN_TMPDIR (test_valgrind_record),
  };

  test_skip_program_without_named_qemu ();
  test_adopt_orphans ();
  return cmocka_run_group_tests (tests, NULL, NULL);
}
