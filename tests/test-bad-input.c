/* tests/test-bad-input.c — vcpuprobe against bad input of every kind: wrong --qemu
 * binaries, fake QEMUs that crash, hang, stammer, flood or lie about ids, socket peers
 * that do the same, malformed recordings, CPUID dumps and CPU definitions, a --timeout
 * shorter than QEMU needs, and SIGTERM/SIGINT while QEMU runs.
 *
 * Whatever the input, the contract is the same: exactly one stderr line
 * "vcpuprobe: <input>: <problem>" that names the input, the documented exit status
 * (2 bad input, 3 QEMU failure), nothing on stdout, no crash, and nothing left behind:
 * no process (we are a subreaper, so an orphaned QEMU comes to us and is counted), no
 * QEMU alive in /proc, no file in the TMPDIR vcpuprobe ran with. */
#include "tests/test-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* What every fake QEMU greets with: a QEMU 7.2, new enough for the expansion strategy. */
#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, " \
                 "\"package\": \"\"}, \"capabilities\": []}}"
#define CAPS_REPLY "{\"return\": {}, \"id\": 1}"

/* The fakes, bad files and sockets of the whole run; the cache vcpuprobe may fill. */
static char *fixtures_dir;

/* The commands that talk to QEMU, as argument lists. */
static const char *const qemu_commands[][3] = {
  { "qmp", "query-version", NULL },
  { "host", NULL },
  { "models", NULL },
  { "expand", "Haswell", NULL },
  { "check", "Haswell", NULL },
};

/* ---- Fixtures ---- */

static char *
fixture_path (const char *name)
{
  return g_build_filename (fixtures_dir, name, NULL);
}

static char *
write_fixture (const char *name, const char *contents, gssize length, int mode)
{
  g_autoptr (GError) error = NULL;
  char *path = fixture_path (name);

  if (!g_file_set_contents (path, contents, length, &error))
    fail_msg ("cannot write %s: %s", path, error->message);
  assert_int_equal (g_chmod (path, mode), 0);
  return path;
}

/* A fake QEMU: a shell script that first notes its pid (so the test can look for it in
 * /proc afterwards), then runs @body with stdin and stdout as the QMP monitor. */
static char *
write_fake_qemu (const char *name, const char *body)
{
  g_autofree char *script_name = g_strconcat (name, ".sh", NULL);
  g_autofree char *pids = g_strconcat (name, ".pids", NULL);
  g_autofree char *pids_path = fixture_path (pids);
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\necho $$ >> '%s'\n%s\n", pids_path, body);

  return write_fixture (script_name, script, -1, 0755);
}

/* Every pid fake @name wrote is gone: not alive, not a zombie. */
static void
assert_fake_gone (const char *name)
{
  g_autofree char *pids_name = g_strconcat (name, ".pids", NULL);
  g_autofree char *pids_path = fixture_path (pids_name);
  g_autofree char *pids = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (pids_path, &pids, NULL, NULL))
    return;
  lines = g_strsplit (pids, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *proc = NULL;

      if (*lines[i] == '\0')
        continue;
      proc = g_build_filename ("/proc", lines[i], NULL);
      if (g_file_test (proc, G_FILE_TEST_EXISTS))
        fail_msg ("fake QEMU %s (pid %s) is still there", name, lines[i]);
    }
  g_unlink (pids_path);
}

static int
setup_group (void **state)
{
  g_autofree char *cache = NULL;

  fixtures_dir = test_make_tmpdir ();
  cache = fixture_path ("cache");
  /* A run that caches writes here, never into the machine's cache. */
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_unsetenv ("VCPUPROBE_REPLAY_STRICT");
  return 0;
}

static int
teardown_group (void **state)
{
  test_rmdir_r (fixtures_dir);
  g_clear_pointer (&fixtures_dir, g_free);
  return 0;
}

/* ---- Running vcpuprobe ---- */

/* Children of ours that are alive (not zombies), from /proc. */
static guint
count_live_children (void)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint live = 0;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *stat_path = NULL;
      g_autofree char *stat = NULL;
      const char *after_comm;
      char state = 0;
      int ppid = 0;

      if (!g_ascii_isdigit (name[0]))
        continue;
      stat_path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
        continue;
      after_comm = strrchr (stat, ')');
      if (after_comm != NULL && sscanf (after_comm + 1, " %c %d", &state, &ppid) == 2
          && ppid == (int) getpid () && state != 'Z')
        live++;
    }
  return live;
}

/* vcpuprobe must reap its QEMU itself: a child of ours after the run is one it left.
 * A wrapper's own children (a fake QEMU's helpers) die with the process group vcpuprobe
 * kills, but are reparented to us, the subreaper, to be reaped: they may take a moment
 * to die, and are only left behind if they stay alive. */
static void
assert_nothing_left (void)
{
  guint live = 0;

  for (guint waited = 0; waited < 200; waited++)
    {
      while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
      live = count_live_children ();
      if (live == 0)
        break;
      g_usleep (10000);
    }
  if (live != 0)
    fail_msg ("%u processes left behind", live);
  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  if (test_count_entries (test_case_tmpdir (), "") != 0)
    fail_msg ("files left behind in TMPDIR %s", test_case_tmpdir ());
}

static TestRun *
run_argv (const char *const *prefix, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  TestRun *run;

  for (guint i = 0; prefix != NULL && prefix[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) prefix[i]);
  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  run = test_run ((const char *const *) argv->pdata, NULL);
  assert_nothing_left ();
  return run;
}

/* @options (NULL-terminated, may be NULL) then the command @command (NULL-terminated). */
static TestRun *
run_command (const char *const *options, const char *const *command)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();

  for (guint i = 0; options != NULL && options[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) options[i]);
  for (guint i = 0; command[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) command[i]);
  g_ptr_array_add (args, NULL);
  return run_argv (NULL, (const char *const *) args->pdata);
}

#define OPTIONS(...) ((const char *const[]) { __VA_ARGS__, NULL })

static char *
describe (const char *const *options, const char *const *command)
{
  g_autofree char *joined_options = options != NULL ? g_strjoinv (" ", (char **) options)
                                                    : g_strdup ("");
  g_autofree char *joined_command = g_strjoinv (" ", (char **) command);

  return g_strdup_printf ("vcpuprobe %s %s", joined_options, joined_command);
}

/* The contract: @status, nothing on stdout, one stderr line "vcpuprobe: ..." naming
 * @input, and @problem in it when given. */
static void
assert_bad_input (const TestRun *run, const char *shown, int status, const char *input,
                  const char *problem)
{
  const char *newline = strchr (run->err, '\n');

  if (run->status != status)
    fail_msg ("%s: exit status %d, expected %d; stderr: %s", shown, run->status, status,
              run->err);
  if (newline == NULL || newline[1] != '\0' || !g_str_has_prefix (run->err, "vcpuprobe: "))
    fail_msg ("%s: expected one line \"vcpuprobe: ...\" on stderr, got: \"%s\"", shown, run->err);
  if (input != NULL && strstr (run->err, input) == NULL)
    fail_msg ("%s: stderr \"%s\" does not name \"%s\"", shown, run->err, input);
  if (problem != NULL && strstr (run->err, problem) == NULL)
    fail_msg ("%s: stderr \"%s\" does not say \"%s\"", shown, run->err, problem);
  if (*run->out != '\0')
    fail_msg ("%s: expected nothing on stdout, got: %s", shown, run->out);
}

static void
check_case (const char *const *options, const char *const *command, int status,
            const char *input, const char *problem)
{
  g_autofree char *shown = describe (options, command);
  g_autoptr (TestRun) run = NULL;

  print_message ("%s\n", shown);
  run = run_command (options, command);
  print_message ("  %s", run->err);
  assert_bad_input (run, shown, status, input, problem);
}

/* A committed recording that answers expand and check of Haswell, so CPU and dump
 * cases need no QEMU. */
static char *
good_recording (void)
{
  return test_data_path ("qmp-replies/expand-Haswell-tcg-expansion.replies");
}

/* ---- --qemu that is not a usable QEMU ---- */

static void
test_qemu_binary_unusable (void **state)
{
  g_autofree char *missing = fixture_path ("no-such-qemu");
  g_autofree char *directory = fixture_path ("qemu-directory");
  g_autofree char *not_executable = write_fixture ("qemu-not-executable",
                                                   "#!/bin/sh\nexit 0\n", -1, 0644);
  g_autofree char *not_qemu = write_fake_qemu ("not-qemu",
                                               "echo 'usage: not-qemu FILE' >&2\nexit 1");

  assert_int_equal (g_mkdir (directory, 0755), 0);
  for (guint i = 0; i < G_N_ELEMENTS (qemu_commands); i++)
    {
      check_case (OPTIONS ("--qemu", missing), qemu_commands[i], 2, missing, NULL);
      check_case (OPTIONS ("--qemu", directory), qemu_commands[i], 2, directory, NULL);
      /* root may read a 0644 file but no one may execute it */
      check_case (OPTIONS ("--qemu", not_executable), qemu_commands[i], 2, not_executable, NULL);
      check_case (OPTIONS ("--qemu", not_qemu, "--no-cache", "--timeout", "10"),
                  qemu_commands[i], 3, not_qemu, NULL);
      assert_fake_gone ("not-qemu");
    }
}

/* cpuid reads the CPU itself and starts no QEMU; a --qemu that names no executable is
 * still bad input, as it is for every other command, rather than silently ignored.
 * (Open at the time of writing: tools/cmd-cpuid.c never looks at --qemu.) */
static void
test_cpuid_qemu_option (void **state)
{
  g_autofree char *missing = fixture_path ("no-such-qemu");
  g_autofree char *not_qemu = write_fake_qemu ("cpuid-not-qemu", "exit 1");
  g_autofree char *not_qemu_pids = fixture_path ("cpuid-not-qemu.pids");
  g_autoptr (TestRun) ignored = NULL;

  ignored = run_command (OPTIONS ("--qemu", not_qemu), (const char *const[]) { "cpuid", NULL });
  assert_int_equal (ignored->status, 0);
  assert_string_equal (ignored->err, "");
  assert_false (g_file_test (not_qemu_pids, G_FILE_TEST_EXISTS));
  check_case (OPTIONS ("--qemu", missing), (const char *const[]) { "cpuid", NULL }, 2, missing,
              NULL);
}

/* ---- Fake QEMUs that misbehave ---- */

typedef struct {
  const char *name;
  const char *body;
  const char *problem;   /* what the error line must say, or NULL */
  const char *timeout;   /* --timeout: NULL for 1 s, which the hanging ones run into */
} FakeQemu;

static const FakeQemu fake_qemus[] = {
  { "crash-after-greeting", "echo '" GREETING "'\nread line\nkill -SEGV $$", "signal 11", NULL },
  { "crash-mid-command",
    "echo '" GREETING "'\nread line\necho '" CAPS_REPLY "'\nread line\nkill -SEGV $$",
    "signal 11", NULL },
  { "hang-after-greeting", "echo '" GREETING "'\nexec sleep 600", "timed out", NULL },
  { "hang-mid-command", "echo '" GREETING "'\nread line\necho '" CAPS_REPLY "'\nexec sleep 600",
    "timed out", NULL },
  { "half-greeting", "printf '{\"QMP\": {\"version\": {\"qemu\": {\"mic'\nexit 0", NULL, NULL },
  { "flood",
    "echo '" GREETING "'\nread line\necho '" CAPS_REPLY "'\nread line\n"
    "printf '{\"return\": \"'\nyes aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa | tr -d '\\n'",
    /* 64 MiB through a shell pipe can take more than a second on a loaded machine: the
     * size limit, not the deadline, is what this case is about. */
    "exceeds", "20" },
  { "garbage", "echo 'Welcome to the machine. Type help for help.'\nexec sleep 600", NULL, NULL },
  { "wrong-ids",
    "echo '" GREETING "'\nwhile read line; do echo '{\"return\": {}, \"id\": 4242}'; done",
    "timed out", NULL },
};

static void
test_fake_qemus (void **state)
{
  for (guint f = 0; f < G_N_ELEMENTS (fake_qemus); f++)
    {
      g_autofree char *fake = write_fake_qemu (fake_qemus[f].name, fake_qemus[f].body);

      for (guint i = 0; i < G_N_ELEMENTS (qemu_commands); i++)
        {
          check_case (OPTIONS ("--qemu", fake, "--no-cache", "--timeout",
                               fake_qemus[f].timeout != NULL ? fake_qemus[f].timeout : "1"),
                      qemu_commands[i], 3, fake, fake_qemus[f].problem);
          assert_fake_gone (fake_qemus[f].name);
        }
    }
}

/* The baseline QEMU (the plain model: tcg on machine none) is killed while the guest's
 * QEMU answers: a QEMU failure like any other, never an answer without the plain model
 * (which check and expand used to print, exit 0, and keep). */
static void
test_baseline_qemu_killed (void **state)
{
  g_autofree char *body = NULL;
  g_autofree char *wrapper = NULL;
  static const char *const commands[][3] = { { "check", "qemu64", NULL },
                                             { "expand", "qemu64", NULL } };

  TEST_REQUIRE_QEMU ();
  body = g_strdup_printf ("case \"$*\" in *none,accel=tcg*) kill -KILL $$;; esac\n"
                          "exec '%s' \"$@\"", test_qemu_binary ());
  wrapper = write_fake_qemu ("baseline-killed", body);
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      check_case (OPTIONS ("--qemu", wrapper, "--accel", "tcg"), commands[i], 3, wrapper,
                  "signal 9");
      assert_fake_gone ("baseline-killed");
    }
}

/* The real QEMU behind a filter that drops the commands matching @pattern, so that QEMU
 * answers everything else and never those: a conversation that breaks in the middle of
 * what the probe asks alongside its main question. */
static char *
write_dropping_qemu (const char *name, const char *pattern)
{
  g_autofree char *body = g_strdup_printf ("grep --line-buffered -v '%s' | '%s' \"$@\"",
                                           pattern, test_qemu_binary ());

  return write_fake_qemu (name, body);
}

/* query-machines unanswered: expand used to print the machine type unresolved ("pc"
 * instead of "pc-i440fx-7.2"), exit 0, and keep that answer. */
static void
test_machines_unanswered (void **state)
{
  g_autofree char *wrapper = NULL;

  TEST_REQUIRE_QEMU ();
  wrapper = write_dropping_qemu ("no-machines", "query-machines");
  check_case (OPTIONS ("--qemu", wrapper, "--no-cache", "--accel", "tcg", "--timeout", "2"),
              (const char *const[]) { "expand", "qemu64", NULL }, 3, wrapper, "query-machines");
  assert_fake_gone ("no-machines");
}

/* One candidate of host's closest-model search unanswered: host used to name the closest
 * of the models that answered, and keep that report. Now the accelerator it was asked for
 * is unusable, naming the timeout (exit 3 when it was the only usable one). */
static void
test_closest_candidate_unanswered (void **state)
{
  g_autofree char *wrapper = NULL;
  g_autoptr (TestRun) run = NULL;

  TEST_REQUIRE_QEMU ();
  wrapper = write_dropping_qemu ("no-pentium3", "query-cpu-model-expansion.*\"pentium3\"");
  run = run_command (OPTIONS ("--qemu", wrapper, "--no-cache", "--timeout", "2"),
                     (const char *const[]) { "host", NULL });
  print_message ("host: exit %d\n%s", run->status, run->err);
  if (run->status != 3
      && (run->status != 0 || strstr (run->out, "timed out waiting for the reply to "
                                                "query-cpu-model-expansion") == NULL))
    fail_msg ("host with a candidate unanswered: exit %d, and no unusable accelerator:\n%s",
              run->status, run->out);
  assert_fake_gone ("no-pentium3");
  assert_nothing_left ();
}

/* ---- --timeout shorter than QEMU needs ---- */

static void
test_timeout_too_short (void **state)
{
  TEST_REQUIRE_QEMU ();
  for (guint i = 0; i < G_N_ELEMENTS (qemu_commands); i++)
    check_case (OPTIONS ("--qemu", test_qemu_binary (), "--no-cache", "--timeout", "0.001"),
                qemu_commands[i], 3, test_qemu_binary (), "timed out");
}

/* ---- SIGTERM and SIGINT while QEMU runs ---- */

/* Starts vcpuprobe with @args, waits until @marker shows a process of its QEMU, sends
 * @signo and checks that vcpuprobe dies of it and takes its QEMU along. */
static void
interrupt_while_qemu_runs (const char *const *args, const char *marker, int signo)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *shown = NULL;
  GPid pid;
  int status = 0;
  guint waited;

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  shown = g_strjoinv (" ", (char **) argv->pdata);
  print_message ("%s, then signal %d\n", shown, signo);
  if (!g_spawn_async (NULL, (char **) argv->pdata, NULL,
                      G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                      | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &error))
    fail_msg ("cannot run %s: %s", shown, error->message);
  for (waited = 0; waited < 1000 && test_count_marked_processes (marker) == 0; waited++)
    g_usleep (10000);
  if (waited == 1000)
    {
      kill (pid, SIGKILL);
      waitpid (pid, NULL, 0);
      fail_msg ("%s: no QEMU process appeared", shown);
    }
  /* Let QEMU greet, so the signal lands in the middle of the conversation. */
  g_usleep (200000);
  kill (pid, signo);
  waitpid (pid, &status, 0);
  g_spawn_close_pid (pid);
  if (!WIFSIGNALED (status) || WTERMSIG (status) != signo)
    fail_msg ("%s: expected death by signal %d, got wait status 0x%x", shown, signo, status);
  /* A QEMU that is not the group leader is SIGKILLed with the group but not waited for:
   * give the kernel a moment to finish tearing down its threads. */
  for (waited = 0; waited < 200 && test_count_marked_processes (marker) != 0; waited++)
    g_usleep (10000);
  if (test_count_marked_processes (marker) != 0)
    fail_msg ("%s: its QEMU outlived it", shown);
  assert_nothing_left ();
}

static void
test_signals (void **state)
{
  static const int signals[] = { SIGTERM, SIGINT };
  g_autofree char *marker = g_strdup_printf ("vcpuprobe-bad-input-%d", (int) getpid ());
  /* GNU sleep takes fractions: a duration no other process on the machine sleeps. */
  g_autofree char *sleeper = g_strdup_printf ("sleep 600.%d", (int) getpid ());
  g_autofree char *fake_body = g_strdup_printf ("echo '" GREETING "'\nread line\necho '"
                                                CAPS_REPLY "'\nexec %s", sleeper);
  g_autofree char *fake = write_fake_qemu ("slow-worker", fake_body);
  g_autofree char *real_wrapper = NULL;

  /* A fake QEMU that answers the negotiation and then works forever on the first command. */
  for (guint s = 0; s < G_N_ELEMENTS (signals); s++)
    for (guint i = 0; i < G_N_ELEMENTS (qemu_commands); i++)
      {
        g_autoptr (GPtrArray) args = g_ptr_array_new ();

        g_ptr_array_add (args, (gpointer) "--qemu");
        g_ptr_array_add (args, fake);
        g_ptr_array_add (args, (gpointer) "--no-cache");
        for (guint a = 0; qemu_commands[i][a] != NULL; a++)
          g_ptr_array_add (args, (gpointer) qemu_commands[i][a]);
        g_ptr_array_add (args, NULL);
        interrupt_while_qemu_runs ((const char *const *) args->pdata, sleeper, signals[s]);
        assert_fake_gone ("slow-worker");
      }

  /* The real QEMU, greeting at once but reading the monitor only after a long pause, so
   * it is running, paused, while vcpuprobe waits for its answer. */
  TEST_REQUIRE_QEMU ();
  {
    g_autofree char *body = g_strdup_printf ("{ %s; cat; } | '%s' \"$@\" -name %s",
                                             sleeper, test_qemu_binary (), marker);
    real_wrapper = write_fake_qemu ("real-qemu-paused", body);
  }
  for (guint s = 0; s < G_N_ELEMENTS (signals); s++)
    {
      interrupt_while_qemu_runs (OPTIONS ("--qemu", real_wrapper, "--accel", "tcg",
                                          "qmp", "query-version"), marker, signals[s]);
      interrupt_while_qemu_runs (OPTIONS ("--qemu", real_wrapper, "--accel", "tcg",
                                          "--no-cache", "expand", "Haswell"), marker, signals[s]);
      assert_fake_gone ("real-qemu-paused");
    }
}

/* ---- QMP sockets whose peer misbehaves ---- */

typedef enum {
  PEER_GARBAGE,            /* bytes that are not JSON, then silence */
  PEER_PARTIAL_GREETING,   /* half a greeting, then close */
  PEER_PARTIAL_THEN_HANG,  /* half a greeting, then silence */
  PEER_OVERSIZED,          /* a greeting that never ends (past the 64 MiB cap) */
  PEER_CLOSE,              /* accept and close */
  PEER_CUT_REPLY,          /* negotiate, then close in the middle of the first reply */
  PEER_WRONG_IDS,          /* every reply carries an id we never sent */
} PeerBehaviour;

typedef struct {
  char *path;
  PeerBehaviour behaviour;
  int listener;
  int stop_pipe[2];
  GThread *thread;
} SocketPeer;

/* Reads one line (a command) from @fd; FALSE at EOF. */
static gboolean
read_command (int fd)
{
  char byte;
  ssize_t got;

  while ((got = read (fd, &byte, 1)) == 1)
    if (byte == '\n')
      return TRUE;
  return FALSE;
}

static void
write_text (int fd, const char *text)
{
  gsize left = strlen (text);

  while (left > 0)
    {
      ssize_t written = send (fd, text, left, MSG_NOSIGNAL);

      if (written <= 0)
        return;
      text += written;
      left -= (gsize) written;
    }
}

/* Waits until @fd is readable or the test says stop; FALSE on stop. */
static gboolean
wait_readable (SocketPeer *peer, int fd)
{
  struct pollfd fds[2] = {
    { .fd = fd, .events = POLLIN },
    { .fd = peer->stop_pipe[0], .events = POLLIN },
  };

  while (poll (fds, 2, -1) < 0)
    if (errno != EINTR)
      return FALSE;
  return (fds[1].revents & POLLIN) == 0;
}

/* Reads and drops what the client sends until it closes (or the test stops us). */
static void
wait_client_gone (SocketPeer *peer, int client)
{
  char buffer[4096];

  while (wait_readable (peer, client))
    if (read (client, buffer, sizeof buffer) <= 0)
      return;
}

static void
serve (SocketPeer *peer, int client)
{
  switch (peer->behaviour)
    {
    case PEER_GARBAGE:
      write_text (client, "\x01\xff garbage, not QMP\n");
      wait_client_gone (peer, client);
      break;
    case PEER_PARTIAL_GREETING:
      write_text (client, "{\"QMP\": {\"version\": {\"qemu\": ");
      break;
    case PEER_PARTIAL_THEN_HANG:
      write_text (client, "{\"QMP\": {\"version\": {\"qemu\": ");
      wait_client_gone (peer, client);
      break;
    case PEER_OVERSIZED:
      {
        g_autofree char *chunk = g_strnfill (65536, 'a');

        write_text (client, "{\"QMP\": \"");
        for (guint i = 0; i < 2048; i++)
          {
            ssize_t written = send (client, chunk, 65536, MSG_NOSIGNAL);
            if (written < 0)
              break;
          }
        break;
      }
    case PEER_CLOSE:
      break;
    case PEER_CUT_REPLY:
      write_text (client, GREETING "\r\n");
      if (read_command (client))
        write_text (client, CAPS_REPLY "\r\n");
      if (read_command (client))
        write_text (client, "{\"return\": {\"qemu\": {\"major\": ");
      break;
    case PEER_WRONG_IDS:
      write_text (client, GREETING "\r\n");
      while (wait_readable (peer, client) && read_command (client))
        write_text (client, "{\"return\": {}, \"id\": 4242}\r\n");
      break;
    }
  close (client);
}

static gpointer
socket_peer_thread (gpointer data)
{
  SocketPeer *peer = data;

  for (;;)
    {
      int client;

      if (!wait_readable (peer, peer->listener))
        return NULL;
      client = accept4 (peer->listener, NULL, NULL, SOCK_CLOEXEC);
      if (client >= 0)
        serve (peer, client);
    }
}

static SocketPeer *
socket_peer_start (PeerBehaviour behaviour)
{
  SocketPeer *peer = g_new0 (SocketPeer, 1);
  struct sockaddr_un address = { .sun_family = AF_UNIX };

  peer->path = g_strdup_printf ("%s/peer-%d.sock", fixtures_dir, (int) behaviour);
  peer->behaviour = behaviour;
  g_unlink (peer->path);
  g_strlcpy (address.sun_path, peer->path, sizeof address.sun_path);
  peer->listener = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true (peer->listener >= 0);
  assert_int_equal (bind (peer->listener, (struct sockaddr *) &address, sizeof address), 0);
  assert_int_equal (listen (peer->listener, 8), 0);
  assert_int_equal (pipe2 (peer->stop_pipe, O_CLOEXEC), 0);
  peer->thread = g_thread_new ("socket-peer", socket_peer_thread, peer);
  return peer;
}

static void
socket_peer_stop (SocketPeer *peer)
{
  assert_int_equal (write (peer->stop_pipe[1], "x", 1), 1);
  g_thread_join (peer->thread);
  close (peer->listener);
  close (peer->stop_pipe[0]);
  close (peer->stop_pipe[1]);
  g_unlink (peer->path);
  g_free (peer->path);
  g_free (peer);
}

static void
test_socket_peers (void **state)
{
  static const struct {
    PeerBehaviour behaviour;
    const char *problem;
  } peers[] = {
    { PEER_GARBAGE, "not JSON" },
    { PEER_PARTIAL_GREETING, "mid-message" },
    { PEER_PARTIAL_THEN_HANG, "timed out" },
    { PEER_OVERSIZED, "exceeds" },
    { PEER_CLOSE, "closed" },
    { PEER_CUT_REPLY, NULL },
    { PEER_WRONG_IDS, "timed out" },
  };
  g_autofree char *not_a_socket = write_fixture ("not-a-socket", "plain file\n", -1, 0644);

  for (guint p = 0; p < G_N_ELEMENTS (peers); p++)
    {
      SocketPeer *peer = socket_peer_start (peers[p].behaviour);

      for (guint i = 0; i < G_N_ELEMENTS (qemu_commands); i++)
        /* The oversized reply is about the size limit: a loaded machine must not turn it
         * into a timeout. */
        check_case (OPTIONS ("--socket", peer->path, "--timeout",
                             peers[p].behaviour == PEER_OVERSIZED ? "20" : "1"),
                    qemu_commands[i], 3, peer->path, peers[p].problem);
      socket_peer_stop (peer);
    }
  /* A path that is there but is no socket is the user's mistake, not a QEMU's. (Open at
   * the time of writing for host and models, whose tools/host-source.c checks only that
   * the path exists and whose commands make every open failure exit 3.) */
  for (guint i = 0; i < G_N_ELEMENTS (qemu_commands); i++)
    check_case (OPTIONS ("--socket", not_a_socket), qemu_commands[i], 2, not_a_socket, NULL);
}

/* ---- Malformed recordings ---- */

typedef struct {
  const char *name;
  const char *replies;      /* NULL: random bytes */
  const char *sidecar;      /* FILE.json beside it, or NULL */
  gboolean names_sidecar;   /* the error is about FILE.json */
} BadRecording;

#define VERSION_REPLY "{\"return\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}}"

static const BadRecording bad_recordings[] = {
  { "empty.replies", "", NULL, FALSE },
  { "blank.replies", "\n\n  \n", NULL, FALSE },
  { "binary.replies", NULL, NULL, FALSE },
  { "truncated.replies",
    GREETING "\n\n{\"execute\": \"qmp_capabilities\"}\n\n{\"return\": {}}\n\n"
    "{\"execute\": \"query-version\"}\n\n{\"return\": {\"qemu\": {\"mi", NULL, FALSE },
  { "not-qmp.replies", "{\"hello\": \"world\"}\n\n{\"answer\": 42}\n", NULL, FALSE },
  { "array.replies", "[1, 2, 3]\n", NULL, FALSE },
  { "greeting-not-object.replies",
    "{\"QMP\": \"hello\"}\n\n{\"execute\": \"qmp_capabilities\"}\n\n{\"return\": {}}\n", NULL, FALSE },
  { "greeting-bad-version.replies",
    "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": -1, \"minor\": \"2\", \"major\": 7}}, "
    "\"capabilities\": []}}\n\n{\"execute\": \"qmp_capabilities\"}\n\n{\"return\": {}}\n", NULL, FALSE },
  { "execute-not-string.replies",
    GREETING "\n\n{\"execute\": 5}\n\n{\"return\": {}}\n", NULL, FALSE },
  { "sidecar-truncated.replies",
    GREETING "\n\n{\"execute\": \"query-version\"}\n\n" VERSION_REPLY "\n",
    "{\"sessions\": [{\"accel\": \"tcg\"", TRUE },
  { "sidecar-array.replies",
    GREETING "\n\n{\"execute\": \"query-version\"}\n\n" VERSION_REPLY "\n", "[1, 2]\n", TRUE },
  { "sidecar-sessions-not-array.replies",
    GREETING "\n\n{\"execute\": \"query-version\"}\n\n" VERSION_REPLY "\n",
    "{\"sessions\": 5}\n", TRUE },
  { "sidecar-session-not-object.replies",
    GREETING "\n\n{\"execute\": \"query-version\"}\n\n" VERSION_REPLY "\n",
    "{\"sessions\": [\"tcg\"]}\n", TRUE },
  { "sidecar-accel-not-string.replies",
    GREETING "\n\n{\"execute\": \"query-version\"}\n\n" VERSION_REPLY "\n",
    "{\"sessions\": [{\"accel\": 7, \"machine\": \"none\", \"preconfig\": \"no\"}]}\n", TRUE },
};

static const char *const replay_commands[][3] = {
  { "qmp", "query-version", NULL },
  { "host", NULL },
  { "models", NULL },
  { "expand", "Haswell", NULL },
  { "check", "Haswell", NULL },
};

static void
test_replay_malformed (void **state)
{
  g_autofree char *missing = fixture_path ("no-such.replies");
  g_autofree char *directory = fixture_path ("directory.replies");

  assert_int_equal (g_mkdir (directory, 0755), 0);
  for (guint r = 0; r < G_N_ELEMENTS (bad_recordings); r++)
    {
      const BadRecording *bad = &bad_recordings[r];
      g_autofree char *path = NULL;
      g_autofree char *sidecar = g_strconcat (bad->name, ".json", NULL);
      g_autofree char *sidecar_path = fixture_path (sidecar);

      if (bad->replies != NULL)
        path = write_fixture (bad->name, bad->replies, -1, 0644);
      else
        {
          char bytes[512];

          for (guint i = 0; i < sizeof bytes; i++)
            bytes[i] = (char) g_random_int_range (0, 256);
          bytes[0] = '\x01';
          path = write_fixture (bad->name, bytes, sizeof bytes, 0644);
        }
      if (bad->sidecar != NULL)
        g_free (write_fixture (sidecar, bad->sidecar, -1, 0644));
      for (guint i = 0; i < G_N_ELEMENTS (replay_commands); i++)
        check_case (OPTIONS ("--replay", path), replay_commands[i], 2,
                    bad->names_sidecar ? sidecar_path : path, NULL);
    }
  for (guint i = 0; i < G_N_ELEMENTS (replay_commands); i++)
    {
      check_case (OPTIONS ("--replay", missing), replay_commands[i], 2, missing, NULL);
      check_case (OPTIONS ("--replay", directory), replay_commands[i], 2, directory, NULL);
    }
}

/* ---- Malformed CPUID dumps, in each layout ---- */

typedef struct {
  const char *name;
  const char *contents;
  gssize length;            /* -1: NUL-terminated */
  const char *where;        /* ":LINE" the error must give after the path, or NULL */
} BadDump;

#define TEXT_LEAF_0 "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
#define RAW_LEAF_0 "basic_cpuid[0]=0000000d 756e6547 6c65746e 49656e69\n"
#define XML_LEAF_0 "  <cpuid eax_in='0x00000000' ecx_in='0x00' eax='0x0000000d' ebx='0x756e6547' " \
                   "ecx='0x6c65746e' edx='0x49656e69'/>\n"
#define JSON_HEAD "{\"format\": \"vcpuprobe-cpuid\", \"version\": 1, \"cpus\": "

static const BadDump bad_dumps[] = {
  /* cpuid -1r text */
  { "empty.txt", "", -1, ":1" },
  { "bad-register.txt", "CPU 0:\n" TEXT_LEAF_0 "   0x00000001 0x00: eax=0x000306c3 ebx=banana\n", -1, ":3" },
  { "truncated.txt", "CPU 0:\n" TEXT_LEAF_0 "   0x00000001 0x00: eax=0x000306c3 ebx=0x0000", -1, ":3" },
  { "nul.txt", "CPU 0:\n" TEXT_LEAF_0 "   0x0000\0\0\0\n", 7 + sizeof TEXT_LEAF_0 - 1 + 13, ":3" },
  { "cpu-without-leaves.txt", "CPU 0:\n" TEXT_LEAF_0 "CPU 1:\n", -1, NULL },
  { "cpu-twice.txt", "CPU 0:\n" TEXT_LEAF_0 "CPU 0:\n" TEXT_LEAF_0, -1, ":3" },
  /* our JSON */
  { "truncated.json", JSON_HEAD "[{\"cpu\": 0, \"leaves\": [{\"leaf\": \"0x0\", \"eax", -1, ":1" },
  { "other-format.json", "{\"format\": \"something-else\", \"cpus\": []}", -1, NULL },
  { "cpus-not-array.json", JSON_HEAD "{}}", -1, NULL },
  { "no-cpus.json", JSON_HEAD "[]}", -1, NULL },
  { "no-leaves.json", JSON_HEAD "[{\"cpu\": 0, \"leaves\": []}]}", -1, NULL },
  { "bad-hex.json", JSON_HEAD "[{\"cpu\": 0, \"leaves\": [{\"leaf\": \"0x0\", \"eax\": \"0xZZ\", "
    "\"ebx\": \"0x0\", \"ecx\": \"0x0\", \"edx\": \"0x0\"}]}]}", -1, NULL },
  { "trailing.json", JSON_HEAD "[]} {}", -1, ":1" },
  /* libcpuid's raw dump */
  { "truncated.raw", "version=0.6.0\n" RAW_LEAF_0 "basic_cpuid[1]=000306c3 0000", -1, ":3" },
  { "no-basic.raw", "version=0.6.0\next_cpuid[0]=80000008 00000000 00000000 00000000\n", -1, NULL },
  { "cpu-without-entries.raw",
    "version=0.6.0\n_____ Logical CPU #0 _____\n" RAW_LEAF_0 "_____ Logical CPU #1 _____\n", -1, NULL },
  /* libvirt's <cpudata> */
  { "truncated.xml", "<cpudata arch='x86'>\n" XML_LEAF_0 "  <cpuid eax_in='0x0000", -1, ":3" },
  { "other-arch.xml", "<cpudata arch='s390'>\n" XML_LEAF_0 "</cpudata>\n", -1, ":1" },
  { "bad-attribute.xml", "<cpudata arch='x86'>\n  <cpuid eax_in='zero' eax='0x1' ebx='0x0' "
    "ecx='0x0' edx='0x0'/>\n</cpudata>\n", -1, ":2" },
  { "empty-cpudata.xml", "<cpudata arch='x86'>\n</cpudata>\n", -1, NULL },
};

static void
test_cpuid_dump_malformed (void **state)
{
  g_autofree char *recording = good_recording ();
  g_autofree char *missing = fixture_path ("no-such-dump.txt");
  g_autofree char *directory = fixture_path ("dump-directory");
  const char *const cpuid[] = { "cpuid", NULL };
  const char *const cpuid_json[] = { "cpuid", "--format", "json", NULL };
  const char *const host[] = { "host", NULL };
  const char *const models[] = { "models", NULL };
  const char *const expand[] = { "expand", "Haswell", NULL };
  const char *const check[] = { "check", "Haswell", NULL };

  assert_int_equal (g_mkdir (directory, 0755), 0);
  for (guint d = 0; d < G_N_ELEMENTS (bad_dumps); d++)
    {
      g_autofree char *path = write_fixture (bad_dumps[d].name, bad_dumps[d].contents,
                                             bad_dumps[d].length, 0644);
      g_autofree char *where = g_strconcat (path, bad_dumps[d].where, NULL);

      check_case (OPTIONS ("--cpuid-dump", path), cpuid, 2, where, NULL);
      check_case (OPTIONS ("--cpuid-dump", path), cpuid_json, 2, where, NULL);
      check_case (OPTIONS ("--cpuid-dump", path, "--replay", recording), host, 2, where, NULL);
      check_case (OPTIONS ("--cpuid-dump", path, "--replay", recording), models, 2, where, NULL);
      /* Before any QEMU answers: the dump is the user's input whether or not the probe
       * would have needed the host layers. */
      check_case (OPTIONS ("--cpuid-dump", path, "--replay", recording), expand, 2, where, NULL);
      check_case (OPTIONS ("--cpuid-dump", path, "--replay", recording), check, 2, where, NULL);
    }
  check_case (OPTIONS ("--cpuid-dump", missing), cpuid, 2, missing, NULL);
  check_case (OPTIONS ("--cpuid-dump", directory), cpuid, 2, directory, NULL);
  check_case (OPTIONS ("--cpuid-dump", missing, "--replay", recording), expand, 2, missing, NULL);
  check_case (OPTIONS ("--cpuid-dump", directory, "--replay", recording), check, 2, directory, NULL);
  check_case (OPTIONS ("--cpuid-dump", missing, "--replay", recording), models, 2, missing, NULL);
}

/* ---- Malformed CPU definitions ---- */

typedef struct {
  const char *name;        /* a file name, or NULL: @text is a -cpu string */
  const char *text;
  const char *named;       /* what the error names beyond the file, or NULL */
} BadCpu;

static const BadCpu bad_cpus[] = {
  { "truncated.xml", "<cpu mode='custom'><model>Haswell</model><feature policy='require' name='avx2'/>", NULL },
  { "binary.xml", "\x01\x02\xff\xfe not xml at all", NULL },
  { "empty-file.xml", "", NULL },
  { "no-cpu.xml", "<domain type='kvm'><name>guest</name></domain>", NULL },
  { "bad-mode.xml", "<cpu mode='bogus'><model>Haswell</model></cpu>", "bogus" },
  { "bad-policy.xml", "<cpu><model>Haswell</model><feature policy='sometimes' name='avx2'/></cpu>",
    "sometimes" },
  { "unknown-feature.xml", "<cpu><model>Haswell</model><feature policy='require' name='avx99'/></cpu>",
    "avx99" },
  { "conflict.xml", "<cpu><model>Haswell</model><feature policy='require' name='avx2'/>"
    "<feature policy='disable' name='avx2'/></cpu>", "avx2" },
  { "feature-without-name.xml", "<cpu><model>Haswell</model><feature policy='require'/></cpu>", NULL },
  { "empty-model.xml", "<cpu mode='custom'><model></model></cpu>", NULL },
  { "host-cpu-only.xml", "<capabilities><host><cpu><model>Haswell</model></cpu></host></capabilities>",
    NULL },
  { NULL, "", "''" },
  { NULL, ",", "','" },
  { NULL, ",+avx2", NULL },
  { NULL, "Haswell,,+avx2", NULL },
  { NULL, "Haswell,", "Haswell," },
  { NULL, "Haswell,+", NULL },
  { NULL, "Haswell,+avx99", "avx99" },
  { NULL, "Haswell,avx2=maybe", "maybe" },
  { NULL, "Haswell,+avx2=on", "avx2=on" },
  { NULL, "Haswell,=on", NULL },
  { NULL, "Haswell,-cmt", "cmt" },
  { NULL, "No-Such-Model", NULL },
};

static void
test_cpu_malformed (void **state)
{
  g_autofree char *recording = good_recording ();
  g_autofree char *missing = fixture_path ("no-such-cpu.xml");
  g_autofree char *directory = fixture_path ("cpu-directory.xml");

  assert_int_equal (g_mkdir (directory, 0755), 0);
  for (guint c = 0; c < G_N_ELEMENTS (bad_cpus); c++)
    {
      g_autofree char *path = bad_cpus[c].name != NULL
                              ? write_fixture (bad_cpus[c].name, bad_cpus[c].text, -1, 0644)
                              : NULL;
      const char *argument = path != NULL ? path : bad_cpus[c].text;

      for (guint k = 0; k < 2; k++)
        {
          const char *const command[] = { k == 0 ? "expand" : "check", argument, NULL };

          check_case (OPTIONS ("--replay", recording), command, 2, argument, bad_cpus[c].named);
        }
    }
  /* Control characters and broken UTF-8 are no model QEMU has; the line shows them escaped. */
  check_case (OPTIONS ("--replay", recording), ((const char *const[]) { "expand", "Has\twell", NULL }),
              2, "Has\\twell", "not printable");
  check_case (OPTIONS ("--replay", recording),
              ((const char *const[]) { "check", "Haswell,+avx2\xff", NULL }), 2, "avx2\\377",
              "not printable");
  /* A path that names no file is not a model name to ask QEMU about. */
  check_case (OPTIONS ("--replay", recording), ((const char *const[]) { "expand", missing, NULL }),
              2, missing, NULL);
  check_case (OPTIONS ("--replay", recording), ((const char *const[]) { "check", directory, NULL }),
              2, directory, NULL);
}

/* ---- Leaks on the error paths, under valgrind ---- */

static gboolean
have_valgrind (void)
{
  g_autofree char *path = g_find_program_in_path ("valgrind");

  return path != NULL;
}

static void
valgrind_case (const char *const *args, int status)
{
  const char *const valgrind[] = { "valgrind", "--leak-check=full",
                                   "--errors-for-leak-kinds=definite", "--error-exitcode=99",
                                   "-q", NULL };
  g_autofree char *shown = g_strjoinv (" ", (char **) args);
  g_autoptr (TestRun) run = NULL;

  print_message ("valgrind vcpuprobe %s\n", shown);
  run = run_argv (valgrind, args);
  if (run->status != status)
    fail_msg ("under valgrind, vcpuprobe %s: exit status %d, expected %d; stderr: %s",
              shown, run->status, status, run->err);
}

static void
test_valgrind (void **state)
{
#if defined(__SANITIZE_ADDRESS__)
  print_message ("SKIP: valgrind cannot run a program built with AddressSanitizer\n");
  skip ();
#endif
  if (!have_valgrind ())
    {
      print_message ("SKIP: valgrind is not installed\n");
      skip ();
    }
  g_autofree char *recording = good_recording ();
  g_autofree char *crash = write_fake_qemu ("valgrind-crash", fake_qemus[1].body);
  g_autofree char *flood = write_fake_qemu ("valgrind-flood", fake_qemus[5].body);
  g_autofree char *bad_replay = write_fixture ("valgrind.replies", "{\"QMP\": {\"version\": [",
                                               -1, 0644);
  g_autofree char *bad_dump = write_fixture ("valgrind-dump.txt",
                                             "CPU 0:\n   0x00000000 0x00: eax=banana\n", -1, 0644);
  g_autofree char *hang = write_fake_qemu ("valgrind-hang", fake_qemus[3].body);
  g_autofree char *not_qemu = write_fake_qemu ("valgrind-not-qemu", "exit 1");
  g_autofree char *missing = fixture_path ("no-such-qemu");
  g_autofree char *bad_sidecar = write_fixture ("valgrind-sidecar.replies",
                                                GREETING "\n\n{\"execute\": \"query-version\"}\n\n"
                                                VERSION_REPLY "\n", -1, 0644);
  g_autofree char *bad_cpu = write_fixture ("valgrind-cpu.xml",
                                            "<cpu><model>Haswell</model><feature policy='require' "
                                            "name='avx99'/></cpu>", -1, 0644);

  g_free (write_fixture ("valgrind-sidecar.replies.json", "{\"sessions\": [", -1, 0644));
  valgrind_case (OPTIONS ("--replay", bad_replay, "qmp", "query-version"), 2);
  valgrind_case (OPTIONS ("--cpuid-dump", bad_dump, "cpuid"), 2);
  valgrind_case (OPTIONS ("--replay", recording, "check", bad_cpu), 2);
  valgrind_case (OPTIONS ("--replay", recording, "expand", "Haswell,+avx2=on"), 2);
  valgrind_case (OPTIONS ("--qemu", crash, "--no-cache", "--timeout", "20", "expand", "Haswell"), 3);
  valgrind_case (OPTIONS ("--qemu", crash, "--no-cache", "--timeout", "20", "models"), 3);
  valgrind_case (OPTIONS ("--qemu", flood, "--timeout", "20", "qmp", "query-version"), 3);
  valgrind_case (OPTIONS ("--qemu", hang, "--no-cache", "--timeout", "1", "check", "Haswell"), 3);
  valgrind_case (OPTIONS ("--qemu", not_qemu, "--no-cache", "--timeout", "20", "host"), 3);
  valgrind_case (OPTIONS ("--qemu", missing, "expand", "Haswell"), 2);
  valgrind_case (OPTIONS ("--replay", bad_sidecar, "models"), 2);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_qemu_binary_unusable),
    TEST_CASE_IN_TMPDIR (test_cpuid_qemu_option),
    TEST_CASE_IN_TMPDIR (test_fake_qemus),
    TEST_CASE_IN_TMPDIR (test_baseline_qemu_killed),
    TEST_CASE_IN_TMPDIR (test_machines_unanswered),
    TEST_CASE_IN_TMPDIR (test_closest_candidate_unanswered),
    TEST_CASE_IN_TMPDIR (test_timeout_too_short),
    TEST_CASE_IN_TMPDIR (test_signals),
    TEST_CASE_IN_TMPDIR (test_socket_peers),
    TEST_CASE_IN_TMPDIR (test_replay_malformed),
    TEST_CASE_IN_TMPDIR (test_cpuid_dump_malformed),
    TEST_CASE_IN_TMPDIR (test_cpu_malformed),
    TEST_CASE_IN_TMPDIR (test_valgrind),
  };

  test_skip_program_without_named_qemu ();
  test_adopt_orphans ();
  return cmocka_run_group_tests (tests, setup_group, teardown_group);
}
