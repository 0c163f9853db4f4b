/* tests/test-launch.c — the QEMU launcher against the real QEMU and against binaries that
 * are not QEMU: every case must end with no child, no process group and no directory left. */
#include "tests/test-util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "qmp/launch.h"

#define TMPDIR_PREFIX "vcpuprobe-qemu-"

static guint tmpdirs_before;

static int
setup_case (void **state)
{
  tmpdirs_before = test_count_entries (g_get_tmp_dir (), TMPDIR_PREFIX);
  return 0;
}

/* Nothing of ours survives a case: children, their process groups, socket directories. */
static void
assert_all_gone (pid_t pid)
{
  assert_int_equal (test_count_children (), 0);
  assert_int_equal (test_count_entries (g_get_tmp_dir (), TMPDIR_PREFIX), tmpdirs_before);
  if (pid > 0)
    {
      /* Killed helpers are orphans that init reaps in its own time: wait for that. */
      for (guint tries = 0; kill (-pid, 0) == 0 && tries < 1000; tries++)
        g_usleep (10000);
      assert_int_equal (kill (-pid, 0), -1);
      assert_int_equal (errno, ESRCH);
    }
}

/* An executable shell script in a fresh directory. */
static char *
write_script (const char *dir, const char *name, const char *body)
{
  char *path = g_build_filename (dir, name, NULL);

  assert_true (g_file_set_contents (path, body, -1, NULL));
  assert_int_equal (g_chmod (path, 0755), 0);
  return path;
}

static void
launch_query_stop (const char *accel, QemuMonitorTransport transport)
{
  QemuLaunchOptions options = { .binary = test_qemu_binary (), .accel = accel,
                                .transport = transport };
  g_autoptr (GError) error = NULL;
  g_autoptr (QemuProcess) qemu = NULL;
  g_autoptr (QmpSession) session = NULL;
  json_object *version;
  json_object *qemu_member = NULL;
  g_autofree char *exit_text = NULL;
  pid_t pid;

  qemu = qemu_process_launch (&options, qmp_deadline_in_ms (20000), &error);
  assert_non_null (qemu);
  pid = qemu_process_pid (qemu);
  assert_true (pid > 0);
  assert_string_equal (qemu_process_accel (qemu), accel);
  assert_string_equal (qemu_process_machine (qemu), "none");
  assert_true (g_path_is_absolute (qemu_process_binary (qemu)));
  assert_string_equal (qemu_process_argv (qemu)[1], "-S");
  assert_null (qemu_process_describe_exit (qemu));

  session = qemu_process_connect (qemu, NULL, qmp_deadline_in_ms (20000), &error);
  if (session == NULL)
    fail_msg ("connect: %s", error->message);
  version = qmp_session_execute (session, "query-version", NULL, qmp_deadline_in_ms (20000),
                                 &error);
  assert_non_null (version);
  assert_true (json_object_object_get_ex (version, "qemu", &qemu_member));
  json_object_put (version);

  qemu_process_stop (qemu, session);
  exit_text = qemu_process_describe_exit (qemu);
  assert_non_null (exit_text);
  /* quit is a clean exit, not a signal */
  assert_string_equal (exit_text, "exited with status 0");
  qemu_process_stop (qemu, session);
  g_clear_pointer (&session, qmp_session_free);
  g_clear_pointer (&qemu, qemu_process_free);
  assert_all_gone (pid);
}

static void
test_tcg_stdio (void **state)
{
  TEST_REQUIRE_QEMU ();
  launch_query_stop ("tcg", QEMU_MONITOR_STDIO);
}

static void
test_tcg_unix (void **state)
{
  TEST_REQUIRE_QEMU ();
  launch_query_stop ("tcg", QEMU_MONITOR_UNIX);
}

static void
test_kvm_stdio (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  launch_query_stop ("kvm", QEMU_MONITOR_STDIO);
}

static void
test_kvm_unix (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  launch_query_stop ("kvm", QEMU_MONITOR_UNIX);
}

static gpointer
launch_in_thread (gpointer unused)
{
  QemuLaunchOptions options = { .binary = test_qemu_binary (), .accel = "tcg" };
  g_autoptr (GError) error = NULL;
  QemuProcess *qemu = qemu_process_launch (&options, qmp_deadline_in_ms (20000), &error);

  if (qemu == NULL)
    fail_msg ("launch: %s", error->message);
  return qemu;
}

/* A QEMU launched by a thread that has ended is still alive and usable: the death signal
 * must follow the process, not the thread that happened to start QEMU. */
static void
test_launching_thread_may_exit (void **state)
{
  g_autoptr (QemuProcess) qemu = NULL;
  g_autoptr (QmpSession) session = NULL;
  g_autoptr (GError) error = NULL;
  json_object *version;
  pid_t pid;

  TEST_REQUIRE_QEMU ();
  qemu = g_thread_join (g_thread_new ("launcher", launch_in_thread, NULL));
  pid = qemu_process_pid (qemu);
  /* Give a thread-bound death signal time to arrive before we look. */
  g_usleep (200000);
  session = qemu_process_connect (qemu, NULL, qmp_deadline_in_ms (20000), &error);
  if (session == NULL)
    fail_msg ("connect after the launching thread ended: %s", error->message);
  version = qmp_session_execute (session, "query-version", NULL, qmp_deadline_in_ms (20000),
                                 &error);
  if (version == NULL)
    fail_msg ("query-version after the launching thread ended: %s", error->message);
  json_object_put (version);
  qemu_process_stop (qemu, session);
  g_clear_pointer (&session, qmp_session_free);
  g_clear_pointer (&qemu, qemu_process_free);
  assert_all_gone (pid);
}

static guint
count_threads (void)
{
  g_autoptr (GDir) tasks = g_dir_open ("/proc/self/task", 0, NULL);
  guint count = 0;

  assert_non_null (tasks);
  while (g_dir_read_name (tasks) != NULL)
    count++;
  return count;
}

static void
launch_and_stop (void)
{
  QemuProcess *qemu = launch_in_thread (NULL);
  pid_t pid = qemu_process_pid (qemu);

  qemu_process_stop (qemu, NULL);
  qemu_process_free (qemu);
  assert_all_gone (pid);
}

/* qemu_launch_shutdown() ends the thread QEMUs are forked from, so that nothing is left
 * running at exit (valgrind reports what is); a later launch starts it again. */
static void
test_shutdown_then_launch (void **state)
{
  guint with_forker;

  TEST_REQUIRE_QEMU ();
  launch_and_stop ();
  with_forker = count_threads ();
  qemu_launch_shutdown ();
  assert_int_equal (count_threads (), with_forker - 1);
  qemu_launch_shutdown ();
  launch_and_stop ();
  assert_int_equal (count_threads (), with_forker);
}

static void
test_default_accel (void **state)
{
  assert_string_equal (qemu_default_accel (), test_kvm_usable () ? "kvm" : "tcg");
}

/* Launches @binary and connects within @timeout_ms; the whole attempt must fail with
 * @domain/@code, and the message must contain @expected (if given). */
static void
expect_failure (const char *binary, const char *const *extra, QemuMonitorTransport transport,
                gint64 timeout_ms, GQuark domain, int code, const char *expected)
{
  QemuLaunchOptions options = { .binary = binary, .accel = "tcg", .extra_args = extra,
                                .transport = transport };
  g_autoptr (GError) error = NULL;
  g_autoptr (QemuProcess) qemu = NULL;
  g_autoptr (QmpSession) session = NULL;
  gint64 deadline = qmp_deadline_in_ms (timeout_ms);
  pid_t pid = 0;

  qemu = qemu_process_launch (&options, deadline, &error);
  if (qemu != NULL)
    {
      pid = qemu_process_pid (qemu);
      session = qemu_process_connect (qemu, NULL, deadline, &error);
      assert_null (session);
    }
  assert_non_null (error);
  if (!g_error_matches (error, domain, code))
    fail_msg ("expected %s %d, got %s %d: %s", g_quark_to_string (domain), code,
              g_quark_to_string (error->domain), error->code, error->message);
  if (expected != NULL && strstr (error->message, expected) == NULL)
    fail_msg ("\"%s\" not in \"%s\"", expected, error->message);
  /* Never beyond the deadline, give or take the stop sequence's grace. */
  assert_true (g_get_monotonic_time () < deadline + 3 * G_USEC_PER_SEC);
  g_clear_pointer (&qemu, qemu_process_free);
  assert_all_gone (pid);
}

static void
test_missing_binary (void **state)
{
  expect_failure ("/nonexistent/qemu-system-x86_64", NULL, QEMU_MONITOR_STDIO, 5000,
                  QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_BINARY, "does not exist");
  expect_failure ("no-such-qemu-binary-here", NULL, QEMU_MONITOR_STDIO, 5000,
                  QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_BINARY, "not found");
}

static void
test_directory_and_text_file (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *text = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *no_shebang = g_build_filename (dir, "no-shebang", NULL);

  expect_failure (dir, NULL, QEMU_MONITOR_STDIO, 5000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_BINARY, "not a regular file");
  assert_true (g_file_set_contents (text, "just text\n", -1, NULL));
  expect_failure (text, NULL, QEMU_MONITOR_STDIO, 5000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_BINARY, "not executable");
  /* Executable bit but no #!: execve() refuses it with ENOEXEC. */
  assert_true (g_file_set_contents (no_shebang, "just text\n", -1, NULL));
  assert_int_equal (g_chmod (no_shebang, 0755), 0);
  expect_failure (no_shebang, NULL, QEMU_MONITOR_STDIO, 5000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_BINARY, "cannot be executed");
  test_rmdir_r (dir);
}

static void
test_bin_true (void **state)
{
  expect_failure ("/bin/true", NULL, QEMU_MONITOR_STDIO, 5000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_EXITED, "exited with status 0");
  expect_failure ("/bin/true", NULL, QEMU_MONITOR_UNIX, 5000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_EXITED, "exited with status 0");
}

static void
test_script_fails_with_message (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *script = write_script (dir, "fake-qemu",
                                          "#!/bin/sh\necho 'warming up' >&2\n"
                                          "echo 'fake-qemu: no such machine' >&2\nexit 1\n");

  expect_failure (script, NULL, QEMU_MONITOR_STDIO, 5000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_EXITED, "fake-qemu: no such machine");
  expect_failure (script, NULL, QEMU_MONITOR_UNIX, 5000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_EXITED, "exited with status 1");
  test_rmdir_r (dir);
}

/* A binary that says nothing, with a helper process of its own: the deadline ends it,
 * and stopping it takes the helper along. */
static void
test_script_sleeps_forever (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *script = write_script (dir, "silent-qemu",
                                          "#!/bin/sh\nwhile :; do sleep 1; done\n");

  expect_failure (script, NULL, QEMU_MONITOR_STDIO, 400, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_TIMEOUT, NULL);
  expect_failure (script, NULL, QEMU_MONITOR_UNIX, 400, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_TIMEOUT, NULL);
  test_rmdir_r (dir);
}

static void
test_script_prints_garbage (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *script = write_script (dir, "chatty",
                                          "#!/bin/sh\necho 'Usage: chatty [options]'\n"
                                          "exec sleep 100\n");

  expect_failure (script, NULL, QEMU_MONITOR_STDIO, 5000, QMP_ERROR, QMP_ERROR_PROTOCOL, NULL);
  test_rmdir_r (dir);
}

static void
test_qemu_bad_machine (void **state)
{
  const char *const extra[] = { "-machine", "no-such-machine-type", NULL };

  TEST_REQUIRE_QEMU ();
  expect_failure (test_qemu_binary (), extra, QEMU_MONITOR_STDIO, 20000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_EXITED, "unsupported machine type");
  expect_failure (test_qemu_binary (), extra, QEMU_MONITOR_UNIX, 20000, QEMU_LAUNCH_ERROR,
                  QEMU_LAUNCH_ERROR_EXITED, "unsupported machine type");
}

static void
killed_mid_command (QemuMonitorTransport transport)
{
  QemuLaunchOptions options = { .binary = test_qemu_binary (), .accel = "tcg",
                                .transport = transport };
  g_autoptr (GError) error = NULL;
  g_autoptr (QemuProcess) qemu = NULL;
  g_autoptr (QmpSession) session = NULL;
  json_object *reply;
  pid_t pid;

  qemu = qemu_process_launch (&options, qmp_deadline_in_ms (20000), &error);
  assert_non_null (qemu);
  pid = qemu_process_pid (qemu);
  session = qemu_process_connect (qemu, NULL, qmp_deadline_in_ms (20000), &error);
  assert_non_null (session);
  assert_int_equal (kill (pid, SIGKILL), 0);
  /* Dead for sure (but not reaped) before the command, so the outcome does not depend on
   * whether the write or the read notices first. */
  {
    siginfo_t info;
    assert_int_equal (waitid (P_PID, (id_t) pid, &info, WEXITED | WNOWAIT), 0);
  }
  reply = qmp_session_execute (session, "query-version", NULL, qmp_deadline_in_ms (20000),
                               &error);
  /* Clean up before judging, so a failure here does not leave a child to later cases. */
  qemu_process_stop (qemu, session);
  g_clear_pointer (&session, qmp_session_free);
  g_clear_pointer (&qemu, qemu_process_free);
  assert_null (reply);
  if (!g_error_matches (error, QMP_ERROR, QMP_ERROR_CLOSED))
    fail_msg ("expected CLOSED, got: %s", error->message);
  if (strstr (error->message, "killed by signal 9") == NULL)
    fail_msg ("no exit status in: %s", error->message);
  assert_all_gone (pid);
}

static void
test_killed_mid_command (void **state)
{
  TEST_REQUIRE_QEMU ();
  killed_mid_command (QEMU_MONITOR_STDIO);
  killed_mid_command (QEMU_MONITOR_UNIX);
}

/* Stopping without a session: SIGTERM, which QEMU obeys. */
static void
test_stop_without_session (void **state)
{
  QemuLaunchOptions options = { .binary = test_qemu_binary (), .accel = "tcg",
                                .transport = QEMU_MONITOR_UNIX };
  g_autoptr (GError) error = NULL;
  g_autoptr (QemuProcess) qemu = NULL;
  g_autofree char *exit_text = NULL;
  g_autofree char *stderr_text = NULL;
  pid_t pid;

  TEST_REQUIRE_QEMU ();
  qemu = qemu_process_launch (&options, qmp_deadline_in_ms (20000), &error);
  assert_non_null (qemu);
  pid = qemu_process_pid (qemu);
  qemu_process_stop (qemu, NULL);
  exit_text = qemu_process_describe_exit (qemu);
  assert_non_null (exit_text);
  stderr_text = qemu_process_stderr (qemu);
  assert_non_null (stderr_text);
  g_clear_pointer (&qemu, qemu_process_free);
  assert_all_gone (pid);
}

/* A program that dies of SIGTERM while its QEMU runs takes the QEMU and its directory
 * along. The child reports QEMU's pid and socket directory through a pipe. */
static void
test_signal_cleanup (void **state)
{
  int report[2];
  pid_t child;
  int status = 0;
  pid_t qemu_pid = 0;
  char dir[4096] = "";
  FILE *from_child;

  TEST_REQUIRE_QEMU ();
  assert_int_equal (pipe (report), 0);
  child = fork ();
  assert_true (child >= 0);
  if (child == 0)
    {
      QemuLaunchOptions options = { .binary = test_qemu_binary (), .accel = "tcg",
                                    .transport = QEMU_MONITOR_UNIX };
      QemuProcess *qemu;
      const char *const *argv;
      FILE *to_parent;

      close (report[0]);
      qemu_launch_install_signal_cleanup ();
      qemu = qemu_process_launch (&options, qmp_deadline_in_ms (20000), NULL);
      if (qemu == NULL)
        _exit (2);
      to_parent = fdopen (report[1], "w");
      argv = qemu_process_argv (qemu);
      for (guint i = 0; argv[i] != NULL; i++)
        if (g_str_has_prefix (argv[i], "socket,"))
          {
            const char *path = strstr (argv[i], "path=") + 5;
            g_autofree char *socket_path = g_strndup (path, strcspn (path, ","));
            g_autofree char *socket_dir = g_path_get_dirname (socket_path);
            fprintf (to_parent, "%d %s\n", (int) qemu_process_pid (qemu), socket_dir);
          }
      fclose (to_parent);
      for (;;)
        pause ();
    }
  close (report[1]);
  from_child = fdopen (report[0], "r");
  assert_int_equal (fscanf (from_child, "%d %4095s", &qemu_pid, dir), 2);
  fclose (from_child);
  assert_true (qemu_pid > 0);
  assert_true (g_file_test (dir, G_FILE_TEST_IS_DIR));
  assert_int_equal (kill (child, SIGTERM), 0);
  assert_int_equal (waitpid (child, &status, 0), child);
  assert_true (WIFSIGNALED (status));
  assert_int_equal (WTERMSIG (status), SIGTERM);
  /* Reaped by the handler, not left to init: the pid is gone at once. */
  assert_int_equal (kill (qemu_pid, 0), -1);
  assert_int_equal (errno, ESRCH);
  assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  assert_all_gone (0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup (test_default_accel, setup_case),
    cmocka_unit_test_setup (test_tcg_stdio, setup_case),
    cmocka_unit_test_setup (test_tcg_unix, setup_case),
    cmocka_unit_test_setup (test_kvm_stdio, setup_case),
    cmocka_unit_test_setup (test_kvm_unix, setup_case),
    cmocka_unit_test_setup (test_missing_binary, setup_case),
    cmocka_unit_test_setup (test_directory_and_text_file, setup_case),
    cmocka_unit_test_setup (test_bin_true, setup_case),
    cmocka_unit_test_setup (test_script_fails_with_message, setup_case),
    cmocka_unit_test_setup (test_script_sleeps_forever, setup_case),
    cmocka_unit_test_setup (test_script_prints_garbage, setup_case),
    cmocka_unit_test_setup (test_qemu_bad_machine, setup_case),
    cmocka_unit_test_setup (test_killed_mid_command, setup_case),
    cmocka_unit_test_setup (test_stop_without_session, setup_case),
    cmocka_unit_test_setup (test_signal_cleanup, setup_case),
    cmocka_unit_test_setup (test_launching_thread_may_exit, setup_case),
    cmocka_unit_test_setup (test_shutdown_then_launch, setup_case),
  };

  test_skip_program_without_named_qemu ();

  return cmocka_run_group_tests (tests, NULL, NULL);
}
