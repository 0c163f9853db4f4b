/* tests/test-util.c — helpers shared by the test programs. */
#include "tests/test-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

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
        binary = g_access (forced, X_OK) == 0 ? g_strdup (forced) : NULL;
      else
        binary = g_find_program_in_path ("qemu-system-x86_64");
    }
  return binary;
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
      while (left > 0 && (n = write (in_fd, p, left)) > 0)
        {
          p += n;
          left -= (gsize) n;
        }
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
