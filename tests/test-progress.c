/* tests/test-progress.c — tools/progress.c: a progress line on standard error only when
 * it is a terminal (a pseudo-terminal here), never going backwards, erased at the end; and
 * not one byte when standard error is a pipe. */
#include "tests/test-util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tools/progress.h"

/* Runs @body with standard error redirected to @fd, then restores it. */
static void
with_stderr (int fd, void (*body) (void))
{
  int saved = dup (STDERR_FILENO);

  assert_true (saved >= 0);
  fflush (stderr);
  assert_int_equal (dup2 (fd, STDERR_FILENO), STDERR_FILENO);
  body ();
  fflush (stderr);
  assert_int_equal (dup2 (saved, STDERR_FILENO), STDERR_FILENO);
  close (saved);
}

/* Everything readable from @fd now, without blocking. */
static char *
drain (int fd)
{
  GString *text = g_string_new (NULL);
  char buffer[4096];
  ssize_t n;

  assert_int_equal (fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) | O_NONBLOCK), 0);
  while ((n = read (fd, buffer, sizeof buffer)) > 0)
    g_string_append_len (text, buffer, n);
  return g_string_free (text, FALSE);
}

static void
report_out_of_order (void)
{
  g_autoptr (CliProgress) progress = cli_progress_new ("probing models");

  cli_progress_report (1, 12, progress);
  /* A worker that finished earlier reports later: the line keeps the higher count. */
  cli_progress_report (3, 12, progress);
  cli_progress_report (2, 12, progress);
  cli_progress_report (12, 12, progress);
}

static void
test_terminal_shows_and_erases (void **state)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY);
  int slave;
  g_autofree char *shown = NULL;

  assert_true (master >= 0);
  assert_int_equal (grantpt (master), 0);
  assert_int_equal (unlockpt (master), 0);
  slave = open (ptsname (master), O_RDWR | O_NOCTTY);
  assert_true (slave >= 0);

  with_stderr (slave, report_out_of_order);
  close (slave);
  shown = drain (master);
  close (master);
  /* The terminal turns nothing into anything else here: \r stays \r. Each line is padded
   * to the longest one shown, and the end erases that many columns. */
  assert_string_equal (shown, "\rprobing models: 1/12\rprobing models: 3/12"
                              "\rprobing models: 12/12\r                     \r");
}

static void
test_pipe_gets_nothing (void **state)
{
  int pipe_fds[2];
  g_autofree char *shown = NULL;

  assert_int_equal (pipe (pipe_fds), 0);
  with_stderr (pipe_fds[1], report_out_of_order);
  close (pipe_fds[1]);
  shown = drain (pipe_fds[0]);
  close (pipe_fds[0]);
  assert_string_equal (shown, "");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_terminal_shows_and_erases),
    cmocka_unit_test (test_pipe_gets_nothing),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
