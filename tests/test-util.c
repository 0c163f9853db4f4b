/* tests/test-util.c — helpers shared by the test programs. */
#include "tests/test-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

static char *qemu_missing_reason;

/* TRUE when @binary answers -version as a QEMU does; else sets qemu_missing_reason. */
static gboolean
qemu_runs (const char *binary)
{
  const char *argv[] = { binary, "-version", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                     &status, &error))
    qemu_missing_reason = g_strdup_printf ("%s cannot run: %s", binary, error->message);
  else if (!g_spawn_check_wait_status (status, NULL)
           || !g_str_has_prefix (out, "QEMU emulator version"))
    qemu_missing_reason = g_strdup_printf ("%s -version fails: %s", binary, g_strstrip (err));
  return qemu_missing_reason == NULL;
}

const char *
test_qemu_binary (void)
{
  static char *binary;
  static gboolean looked;

  if (!looked)
    {
      const char *forced = g_getenv ("VCPUPROBE_TEST_QEMU");
      looked = TRUE;
      if (forced != NULL && *forced != '\0')
        {
          /* A named QEMU may be a wrapper around one that is not set up here: it must run. */
          if (g_access (forced, X_OK) != 0)
            qemu_missing_reason = g_strdup_printf ("VCPUPROBE_TEST_QEMU=%s is not executable",
                                                   forced);
          else if (qemu_runs (forced))
            binary = g_strdup (forced);
        }
      else
        {
          binary = g_find_program_in_path ("qemu-system-x86_64");
          if (binary == NULL)
            qemu_missing_reason = g_strdup ("qemu-system-x86_64 not found on PATH"
                                            " (set VCPUPROBE_TEST_QEMU)");
        }
    }
  return binary;
}

const char *
test_qemu_missing_reason (void)
{
  return test_qemu_binary () == NULL ? qemu_missing_reason : NULL;
}

void
test_skip_program_without_named_qemu (void)
{
  const char *forced = g_getenv ("VCPUPROBE_TEST_QEMU");

  if (forced != NULL && *forced != '\0' && test_qemu_binary () == NULL)
    {
      printf ("SKIP: every case of this program: %s\n", test_qemu_missing_reason ());
      exit (77);
    }
}

json_object *
test_qemu_execute (const char *accel, const char *command, char **version)
{
  g_autofree char *machine = g_strdup_printf ("none,accel=%s", accel);
  const char *argv[] = {
    test_qemu_binary (), "-S", "-no-user-config", "-nodefaults", "-nographic",
    "-machine", machine, "-qmp", "stdio", NULL,
  };
  g_autofree char *commands = g_strdup_printf ("{\"execute\": \"qmp_capabilities\"}\n"
                                               "%s\n{\"execute\": \"quit\"}\n", command);
  g_autoptr (TestRun) run = test_run (argv, commands);
  g_auto (GStrv) lines = g_strsplit (run->out != NULL ? run->out : "", "\n", -1);
  g_autofree char *greeting_version = NULL;
  json_object *result = NULL;
  guint n_returns = 0;

  /* The replies come in order: the negotiation's, the command's, quit's. */
  for (guint i = 0; lines[i] != NULL && result == NULL; i++)
    {
      json_object *message = json_tokener_parse (lines[i]);
      json_object *member, *qemu, *major, *minor, *micro;

      if (message == NULL)
        continue;
      if (json_object_object_get_ex (message, "QMP", &member)
          && json_object_object_get_ex (member, "version", &member)
          && json_object_object_get_ex (member, "qemu", &qemu)
          && json_object_object_get_ex (qemu, "major", &major)
          && json_object_object_get_ex (qemu, "minor", &minor)
          && json_object_object_get_ex (qemu, "micro", &micro))
        greeting_version = g_strdup_printf ("%d.%d.%d", json_object_get_int (major),
                                            json_object_get_int (minor),
                                            json_object_get_int (micro));
      if (json_object_object_get_ex (message, "error", &member))
        fail_msg ("QEMU %s (accel=%s) refused %s: %s", test_qemu_binary (), accel, command,
                  json_object_to_json_string (member));
      if (json_object_object_get_ex (message, "return", &member) && n_returns++ == 1)
        result = json_object_get (member);
      json_object_put (message);
    }
  if (result == NULL || greeting_version == NULL)
    fail_msg ("no greeting or reply to %s in the output of QEMU %s (accel=%s, status %d): %s",
              command, test_qemu_binary (), accel, run->status, run->err != NULL ? run->err : "");
  if (version != NULL)
    *version = g_steal_pointer (&greeting_version);
  return result;
}

json_object *
test_qemu_full_expansion (const char *accel, const char *model, char **version)
{
  g_autofree char *command = g_strdup_printf (
    "{\"execute\": \"query-cpu-model-expansion\","
    " \"arguments\": {\"type\": \"full\", \"model\": %s}}", model);
  json_object *expansion = test_qemu_execute (accel, command, version);
  json_object *expanded, *props = NULL;
  gboolean found = json_object_object_get_ex (expansion, "model", &expanded)
                   && json_object_object_get_ex (expanded, "props", &props)
                   && json_object_is_type (props, json_type_object);

  if (found)
    json_object_get (props);
  json_object_put (expansion);
  if (!found)
    fail_msg ("QEMU's full expansion of %s (accel=%s) has no props", model, accel);
  return props;
}

char *
test_qemu_start_failure (const char *accel, const char *cpu)
{
  g_autofree char *machine = g_strdup_printf ("accel=%s", accel);
  const char *argv[] = {
    test_qemu_binary (), "-S", "-no-user-config", "-nodefaults", "-nographic",
    "-machine", machine, "-cpu", cpu, "-qmp", "stdio", NULL,
  };
  g_autoptr (TestRun) run = test_run (argv, "{\"execute\": \"qmp_capabilities\"}\n"
                                            "{\"execute\": \"quit\"}\n");
  g_auto (GStrv) lines = NULL;
  g_autoptr (GString) errors = g_string_new (NULL);

  if (run->status == 0)
    return NULL;
  /* QEMU's errors, without its warnings about features the host lacks, which are many. */
  lines = g_strsplit (g_strstrip (run->err), "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "warning:") == NULL)
      g_string_append_printf (errors, "%s%s", errors->len > 0 ? " / " : "", lines[i]);
  return g_strdup_printf ("QEMU %s -cpu %s (accel=%s) ends with status %d: %s", test_qemu_binary (),
                          cpu, accel, run->status, errors->str);
}

char *
test_qemu_default_machine (void)
{
  json_object *machines = test_qemu_execute ("tcg", "{\"execute\": \"query-machines\"}", NULL);
  char *name = NULL;

  for (size_t i = 0; json_object_is_type (machines, json_type_array)
                     && i < json_object_array_length (machines) && name == NULL; i++)
    {
      json_object *machine = json_object_array_get_idx (machines, i);
      json_object *is_default, *found;

      if (json_object_object_get_ex (machine, "is-default", &is_default)
          && json_object_get_boolean (is_default)
          && json_object_object_get_ex (machine, "name", &found))
        name = g_strdup (json_object_get_string (found));
    }
  json_object_put (machines);
  if (name == NULL)
    fail_msg ("QEMU %s names no default machine type in query-machines", test_qemu_binary ());
  return name;
}

gboolean
test_kvm_usable (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return FALSE;
  close (fd);
  return TRUE;
}

char *
test_data_path (const char *relative)
{
  const char *dir = g_getenv ("VCPUPROBE_TESTDIR");

  return g_build_filename (dir != NULL ? dir : "tests", relative, NULL);
}

const char *
test_vcpuprobe (void)
{
  const char *path = g_getenv ("VCPUPROBE");

  return path != NULL ? path : "vcpuprobe";
}

const char *
test_corpus_dir (void)
{
  const char *dir = g_getenv ("VCPUPROBE_CORPUS");

  if (dir == NULL || *dir == '\0')
    dir = g_getenv ("VCPUPROBE_CORPUS_DEFAULT");
  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    return NULL;
  return dir;
}

guint
test_count_children (void)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  pid_t self = getpid ();
  const char *name;
  guint children = 0;

  if (proc == NULL)
    return 0;
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *stat_path = NULL;
      g_autofree char *stat = NULL;
      const char *after_comm;
      int ppid = 0;

      if (!g_ascii_isdigit (name[0]))
        continue;
      stat_path = g_build_filename ("/proc", name, "stat", NULL);
      if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
        continue;
      /* The command name may hold spaces and parentheses: the fields start after the last ')'. */
      after_comm = strrchr (stat, ')');
      if (after_comm != NULL && sscanf (after_comm + 1, " %*c %d", &ppid) == 1 && ppid == self)
        children++;
    }
  return children;
}

char *
test_make_tmpdir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("vcpuprobe-test-XXXXXX", &error);

  assert_non_null (dir);
  return dir;
}

void
test_rmdir_r (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);
        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          test_rmdir_r (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

guint
test_count_entries (const char *dir_path, const char *prefix)
{
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint count = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix))
      count++;
  return count;
}

static char *case_tmpdir;

int
test_case_setup_tmpdir (void **state)
{
  case_tmpdir = test_make_tmpdir ();
  g_setenv ("TMPDIR", case_tmpdir, TRUE);
  return 0;
}

int
test_case_teardown_tmpdir (void **state)
{
  test_rmdir_r (case_tmpdir);
  g_clear_pointer (&case_tmpdir, g_free);
  g_unsetenv ("TMPDIR");
  return 0;
}

const char *
test_case_tmpdir (void)
{
  return case_tmpdir;
}

void
test_adopt_orphans (void)
{
  prctl (PR_SET_CHILD_SUBREAPER, 1);
}

void
test_assert_nothing_left (void)
{
  guint children = test_count_children ();

  while (waitpid (-1, NULL, WNOHANG) > 0)
    ;
  assert_int_equal (children, 0);
  assert_int_equal (test_count_entries (case_tmpdir, ""), 0);
}

/* Processes whose command line holds @marker. */
guint
test_count_marked_processes (const char *marker)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;
  guint found = 0;

  while (proc != NULL && (name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *cmdline = NULL;
      gsize length = 0;

      if (!g_ascii_isdigit (name[0]))
        continue;
      path = g_build_filename ("/proc", name, "cmdline", NULL);
      if (!g_file_get_contents (path, &cmdline, &length, NULL))
        continue;
      for (gsize i = 0; i + 1 < length; i++)
        if (cmdline[i] == '\0')
          cmdline[i] = ' ';
      if (strstr (cmdline, marker) != NULL)
        found++;
    }
  return found;
}

TestRun *
test_run (const char *const *argv, const char *stdin_text)
{
  g_autoptr (GError) error = NULL;
  TestRun *run = g_new0 (TestRun, 1);
  GString *bufs[2] = { g_string_new (NULL), g_string_new (NULL) };
  struct pollfd fds[2];
  GPid pid;
  int in_fd, out_fd, err_fd;
  int wait_status = 0;
  char buffer[65536];
  guint open_fds = 2;

  if (!g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_SEARCH_PATH,
                                 NULL, NULL, &pid, &in_fd, &out_fd, &err_fd, &error))
    fail_msg ("cannot run %s: %s", argv[0], error->message);
  if (stdin_text != NULL)
    {
      gsize left = strlen (stdin_text);
      const char *p = stdin_text;
      gssize n;
      struct sigaction ignore = { .sa_handler = SIG_IGN }, previous;

      /* A child may exit before it reads its input (a usage error): the write then fails
       * with EPIPE, and must not kill the test with SIGPIPE. */
      sigemptyset (&ignore.sa_mask);
      sigaction (SIGPIPE, &ignore, &previous);
      while (left > 0 && (n = write (in_fd, p, left)) > 0)
        {
          p += n;
          left -= (gsize) n;
        }
      sigaction (SIGPIPE, &previous, NULL);
    }
  close (in_fd);
  /* Read both pipes together, so that neither can fill up and block the child. */
  fds[0] = (struct pollfd) { .fd = out_fd, .events = POLLIN };
  fds[1] = (struct pollfd) { .fd = err_fd, .events = POLLIN };
  while (open_fds > 0)
    {
      if (poll (fds, 2, -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      for (guint i = 0; i < 2; i++)
        if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
          {
            gssize n = read (fds[i].fd, buffer, sizeof buffer);
            if (n > 0)
              g_string_append_len (bufs[i], buffer, n);
            else if (n == 0 || errno != EINTR)
              {
                close (fds[i].fd);
                fds[i].fd = -1;
                open_fds--;
              }
          }
    }
  waitpid (pid, &wait_status, 0);
  g_spawn_close_pid (pid);
  run->out = g_string_free (bufs[0], FALSE);
  run->err = g_string_free (bufs[1], FALSE);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status)
                                        : 128 + WTERMSIG (wait_status);
  return run;
}

void
test_run_free (TestRun *run)
{
  if (run == NULL)
    return;
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

void
test_assert_exit (const TestRun *run, int status)
{
  if (run->status != status)
    fail_msg ("exit status %d, expected %d; stderr: %s", run->status, status, run->err);
}

void
test_assert_one_error_line (const TestRun *run, const char *input)
{
  const char *newline = strchr (run->err, '\n');

  if (newline == NULL || newline[1] != '\0' || !g_str_has_prefix (run->err, "vcpuprobe: "))
    fail_msg ("expected one line \"vcpuprobe: ...\" on stderr, got: \"%s\"", run->err);
  if (input != NULL && strstr (run->err, input) == NULL)
    fail_msg ("stderr \"%s\" does not name \"%s\"", run->err, input);
}

json_object *
test_parse_json (const char *text)
{
  json_object *value = json_tokener_parse (text);

  if (value == NULL)
    fail_msg ("not JSON: %s", text);
  return value;
}

json_object *
test_json_member (json_object *object, const char *key, json_type type)
{
  json_object *value = NULL;

  if (!json_object_object_get_ex (object, key, &value))
    fail_msg ("no \"%s\" in %.400s", key, json_object_to_json_string (object));
  if (type != json_type_null && !json_object_is_type (value, type))
    fail_msg ("\"%s\" has the wrong type in %.400s", key, json_object_to_json_string (object));
  return value;
}

TestRun *
test_run_vcpuprobe (gboolean on_test_qemu, const char *timeout, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  TestRun *run;

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  if (on_test_qemu && test_qemu_binary () != NULL)
    {
      g_ptr_array_add (argv, "--qemu");
      g_ptr_array_add (argv, (gpointer) test_qemu_binary ());
    }
  g_ptr_array_add (argv, "--timeout");
  g_ptr_array_add (argv, (gpointer) timeout);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  run = test_run ((const char *const *) argv->pdata, NULL);
  test_assert_nothing_left ();
  return run;
}
