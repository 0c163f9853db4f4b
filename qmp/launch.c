/* qmp/launch.c — starting, watching and stopping a QEMU for probing. */
#include "qmp/launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (qemu-launch-error-quark, qemu_launch_error)

/* How long QEMU gets to leave on its own after quit, and after SIGTERM. */
#define QUIT_GRACE_MS 300
#define TERM_GRACE_MS 1000
/* What an error message quotes of QEMU's stderr. */
#define STDERR_TAIL_LINES 4
#define STDERR_TAIL_CHARS 600
/* qemu_process_stderr() never reads more than this from the end. */
#define STDERR_MAX_READ (1024 * 1024)

struct QemuProcess
{
  char *binary;
  GPtrArray *argv;           /* char *, NULL-terminated */
  char *accel;
  char *machine;
  QemuMonitorTransport transport;
  pid_t pid;
  gboolean reaped;
  int wait_status;
  int stderr_fd;             /* memfd QEMU writes its stderr (and in UNIX mode stdout) to */
  int monitor_read_fd;       /* STDIO: our ends of the pipes until the session takes them */
  int monitor_write_fd;
  char *socket_dir;          /* UNIX only */
  char *socket_path;
  int registry_slot;         /* -1 when not registered */
  QemuEarlyExit early_exit;  /* set when connect failed because QEMU had ended */
  gboolean ended_early;
};

/* ---- Live children, for the signal handlers ----
 *
 * A fixed table, because the handlers may only read memory that is never freed or
 * reallocated under them. A slot is filled before it is marked used and marked unused
 * before it is cleared, so a handler that interrupts either step sees a consistent
 * entry or none. */

#define REGISTRY_SIZE 64

typedef struct {
  int used;                       /* accessed atomically */
  pid_t pid;                      /* 0 once reaped; accessed atomically */
  char socket_path[sizeof ((struct sockaddr_un *) 0)->sun_path];
  char dir[PATH_MAX];
} RegistryEntry;

static RegistryEntry registry[REGISTRY_SIZE];

static int
registry_add (pid_t pid, const char *dir, const char *socket_path)
{
  for (int i = 0; i < REGISTRY_SIZE; i++)
    {
      int expected = 0;
      if (!__atomic_compare_exchange_n (&registry[i].used, &expected, -1, FALSE,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        continue;
      g_strlcpy (registry[i].dir, dir != NULL ? dir : "", sizeof registry[i].dir);
      g_strlcpy (registry[i].socket_path, socket_path != NULL ? socket_path : "",
                 sizeof registry[i].socket_path);
      __atomic_store_n (&registry[i].pid, pid, __ATOMIC_SEQ_CST);
      __atomic_store_n (&registry[i].used, 1, __ATOMIC_SEQ_CST);
      return i;
    }
  /* A full table only loses the directory cleanup on a signal: PR_SET_PDEATHSIG still
   * takes QEMU down with us. */
  return -1;
}

static void
registry_forget_pid (int slot)
{
  if (slot >= 0)
    __atomic_store_n (&registry[slot].pid, 0, __ATOMIC_SEQ_CST);
}

static void
registry_remove (int slot)
{
  if (slot < 0)
    return;
  __atomic_store_n (&registry[slot].used, -1, __ATOMIC_SEQ_CST);
  registry[slot].pid = 0;
  registry[slot].dir[0] = '\0';
  registry[slot].socket_path[0] = '\0';
  __atomic_store_n (&registry[slot].used, 0, __ATOMIC_SEQ_CST);
}

static const int cleanup_signals[] = { SIGINT, SIGTERM, SIGHUP };

/* Threads inside hold/release, and the signal that came meanwhile. Blocking the signals
 * would not do: another thread would take them. */
static int cleanup_holds;
static volatile sig_atomic_t cleanup_deferred;

/* Async-signal-safe calls only. */
static void
cleanup_signal_handler (int signo)
{
  int saved_errno = errno;
  struct sigaction default_action;

  /* Noted first, so that a release that follows the check below still sees it. */
  cleanup_deferred = signo;
  if (__atomic_load_n (&cleanup_holds, __ATOMIC_SEQ_CST) > 0)
    {
      errno = saved_errno;
      return;
    }
  for (int i = 0; i < REGISTRY_SIZE; i++)
    {
      pid_t pid;

      if (__atomic_load_n (&registry[i].used, __ATOMIC_SEQ_CST) != 1)
        continue;
      pid = __atomic_load_n (&registry[i].pid, __ATOMIC_SEQ_CST);
      if (pid > 0)
        {
          kill (-pid, SIGKILL);
          kill (pid, SIGKILL);
          while (waitpid (pid, NULL, 0) < 0 && errno == EINTR)
            ;
        }
      if (registry[i].socket_path[0] != '\0')
        unlink (registry[i].socket_path);
      if (registry[i].dir[0] != '\0')
        rmdir (registry[i].dir);
    }

  memset (&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  sigemptyset (&default_action.sa_mask);
  sigaction (signo, &default_action, NULL);
  errno = saved_errno;
  /* Still blocked inside the handler: delivered, with the default action, on return. */
  raise (signo);
}

void
qemu_launch_install_signal_cleanup (void)
{
  struct sigaction action;

  memset (&action, 0, sizeof action);
  action.sa_handler = cleanup_signal_handler;
  sigemptyset (&action.sa_mask);
  for (guint i = 0; i < G_N_ELEMENTS (cleanup_signals); i++)
    sigaddset (&action.sa_mask, cleanup_signals[i]);
  for (guint i = 0; i < G_N_ELEMENTS (cleanup_signals); i++)
    sigaction (cleanup_signals[i], &action, NULL);
}

void
qemu_launch_hold_signal_cleanup (void)
{
  __atomic_add_fetch (&cleanup_holds, 1, __ATOMIC_SEQ_CST);
}

void
qemu_launch_release_signal_cleanup (void)
{
  int signo;

  if (__atomic_sub_fetch (&cleanup_holds, 1, __ATOMIC_SEQ_CST) > 0)
    return;
  signo = __atomic_exchange_n (&cleanup_deferred, 0, __ATOMIC_SEQ_CST);
  if (signo != 0)
    raise (signo);
}

/* ---- Finding the binary ---- */

char *
qemu_find_binary (const char *requested, GError **error)
{
  g_autofree char *path = NULL;
  const char *name = requested != NULL ? requested : "qemu-system-x86_64";

  if (strchr (name, '/') != NULL)
    path = g_canonicalize_filename (name, NULL);
  else
    {
      path = g_find_program_in_path (name);
      if (path == NULL)
        {
          g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_BINARY,
                       "QEMU binary %s not found on PATH", name);
          return NULL;
        }
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_BINARY,
                   "QEMU binary %s does not exist", path);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_BINARY,
                   "QEMU binary %s is not a regular file", path);
      return NULL;
    }
  if (g_access (path, X_OK) != 0)
    {
      g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_BINARY,
                   "QEMU binary %s is not executable", path);
      return NULL;
    }
  return g_steal_pointer (&path);
}

const char *
qemu_default_accel (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd < 0)
    return "tcg";
  close (fd);
  return "kvm";
}

/* ---- Process state ---- */

static void
record_exit (QemuProcess *qemu, int status)
{
  registry_forget_pid (qemu->registry_slot);
  qemu->reaped = TRUE;
  qemu->wait_status = status;
}

/* Reaps QEMU if it has exited; never blocks. The registry forgets the pid before
 * waitpid() frees it, so a signal handler can never kill a recycled pid. */
static gboolean
try_reap (QemuProcess *qemu)
{
  siginfo_t info;
  int status;

  if (qemu->reaped)
    return TRUE;
  if (qemu->pid <= 0)
    return FALSE;
  memset (&info, 0, sizeof info);
  if (waitid (P_PID, qemu->pid, &info, WEXITED | WNOHANG | WNOWAIT) < 0)
    {
      if (errno == ECHILD)
        {
          /* Someone else reaped it: nothing left to wait for. */
          record_exit (qemu, 0);
          return TRUE;
        }
      return FALSE;
    }
  if (info.si_pid == 0)
    return FALSE;
  /* While the zombie still holds the pid, the group id cannot name anyone else: sweep up
   * whatever the child started (a wrapper script's helpers). */
  kill (-qemu->pid, SIGKILL);
  registry_forget_pid (qemu->registry_slot);
  while (waitpid (qemu->pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        status = 0;
        break;
      }
  record_exit (qemu, status);
  return TRUE;
}

static int
open_pidfd (pid_t pid)
{
#ifdef SYS_pidfd_open
  return (int) syscall (SYS_pidfd_open, pid, 0);
#else
  errno = ENOSYS;
  return -1;
#endif
}

/* Waits until QEMU has exited (and reaps it) or @deadline_us passes. */
static gboolean
wait_exit_until (QemuProcess *qemu, gint64 deadline_us)
{
  int pidfd;

  if (try_reap (qemu))
    return TRUE;
  pidfd = open_pidfd (qemu->pid);
  for (;;)
    {
      gint64 left_us = deadline_us - g_get_monotonic_time ();

      if (try_reap (qemu))
        break;
      if (left_us <= 0)
        break;
      if (pidfd >= 0)
        {
          struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
          poll (&pfd, 1, (int) MAX (1, MIN (left_us / 1000, G_MAXINT)));
        }
      else
        g_usleep (MIN (left_us, 5000));
    }
  if (pidfd >= 0)
    close (pidfd);
  return qemu->reaped;
}

static void
signal_qemu (QemuProcess *qemu, int signo)
{
  if (qemu->reaped || qemu->pid <= 0)
    return;
  /* The group as well: a wrapper script's children die with it. */
  kill (-qemu->pid, signo);
  kill (qemu->pid, signo);
}

static char *
describe_status (int status)
{
  if (WIFEXITED (status))
    return g_strdup_printf ("exited with status %d", WEXITSTATUS (status));
  if (WIFSIGNALED (status))
    return g_strdup_printf ("killed by signal %d", WTERMSIG (status));
  return g_strdup_printf ("ended with wait status 0x%x", (unsigned) status);
}

char *
qemu_process_describe_exit (QemuProcess *qemu)
{
  if (!try_reap (qemu))
    return NULL;
  return describe_status (qemu->wait_status);
}

char *
qemu_process_stderr (QemuProcess *qemu)
{
  struct stat st;
  off_t start;
  GString *text;
  char buffer[8192];

  if (qemu->stderr_fd < 0 || fstat (qemu->stderr_fd, &st) < 0)
    return g_strdup ("");
  start = st.st_size > STDERR_MAX_READ ? st.st_size - STDERR_MAX_READ : 0;
  text = g_string_sized_new ((gsize) (st.st_size - start));
  for (off_t offset = start; offset < st.st_size;)
    {
      ssize_t n = pread (qemu->stderr_fd, buffer,
                         MIN ((off_t) sizeof buffer, st.st_size - offset), offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      g_string_append_len (text, buffer, n);
      offset += n;
    }
  return g_string_free (text, FALSE);
}

/* The last few non-empty lines of stderr on one line, or NULL when QEMU said nothing. */
static char *
stderr_tail (QemuProcess *qemu)
{
  g_autofree char *all = qemu_process_stderr (qemu);
  g_auto (GStrv) lines = g_strsplit (all, "\n", -1);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  guint n_lines = g_strv_length (lines);
  GString *tail;

  for (guint i = n_lines; i > 0 && kept->len < STDERR_TAIL_LINES; i--)
    {
      char *line = g_strstrip (lines[i - 1]);
      if (*line != '\0')
        g_ptr_array_insert (kept, 0, line);
    }
  if (kept->len == 0)
    return NULL;
  tail = g_string_new (NULL);
  for (guint i = 0; i < kept->len; i++)
    {
      if (i > 0)
        g_string_append (tail, " / ");
      g_string_append (tail, g_ptr_array_index (kept, i));
    }
  if (tail->len > STDERR_TAIL_CHARS)
    {
      g_string_erase (tail, 0, (gssize) (tail->len - STDERR_TAIL_CHARS));
      g_string_prepend (tail, "...");
    }
  return g_string_free (tail, FALSE);
}

/* How QEMU ended (waiting a little for the exit it is in) and the tail of its stderr. */
static void
read_early_exit (QemuProcess *qemu, QemuEarlyExit *early_exit)
{
  qemu_early_exit_clear (early_exit);
  if (!wait_exit_until (qemu, g_get_monotonic_time () + QUIT_GRACE_MS * 1000))
    early_exit->how = g_strdup ("closed its monitor but is still running");
  else
    early_exit->how = describe_status (qemu->wait_status);
  early_exit->stderr_tail = stderr_tail (qemu);
  early_exit->monitor_reached = TRUE;
}

static char *
describe_early_exit (const QemuEarlyExit *early_exit)
{
  if (early_exit->stderr_tail == NULL)
    return g_strdup (early_exit->how);
  return g_strdup_printf ("%s (stderr: %s)", early_exit->how, early_exit->stderr_tail);
}

/* "exited with status 1 (stderr: ...)". */
static char *
describe_death (QemuProcess *qemu)
{
  QemuEarlyExit early_exit = { 0 };
  char *death;

  read_early_exit (qemu, &early_exit);
  death = describe_early_exit (&early_exit);
  qemu_early_exit_clear (&early_exit);
  return death;
}

void
qemu_early_exit_clear (QemuEarlyExit *early_exit)
{
  g_clear_pointer (&early_exit->how, g_free);
  g_clear_pointer (&early_exit->stderr_tail, g_free);
  early_exit->monitor_reached = FALSE;
}

void
qemu_early_exit_set_error (const QemuEarlyExit *early_exit, const char *binary, GError **error)
{
  g_autofree char *death = describe_early_exit (early_exit);

  g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_EXITED,
               "QEMU %s %s before its monitor %s", binary, death,
               early_exit->monitor_reached ? "answered" : "socket appeared");
}

const QemuEarlyExit *
qemu_process_early_exit (QemuProcess *qemu)
{
  return qemu->ended_early ? &qemu->early_exit : NULL;
}

/* ---- Launch ---- */

static GPtrArray *
build_argv (QemuProcess *qemu, const QemuLaunchOptions *options)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (qemu->binary));
  g_ptr_array_add (argv, g_strdup ("-S"));
  g_ptr_array_add (argv, g_strdup ("-no-user-config"));
  g_ptr_array_add (argv, g_strdup ("-nodefaults"));
  g_ptr_array_add (argv, g_strdup ("-nographic"));
  g_ptr_array_add (argv, g_strdup ("-machine"));
  g_ptr_array_add (argv, g_strdup_printf ("%s,accel=%s", qemu->machine, qemu->accel));
  if (options->cpu != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("-cpu"));
      g_ptr_array_add (argv, g_strdup (options->cpu));
    }
  if (options->preconfig)
    g_ptr_array_add (argv, g_strdup ("--preconfig"));
  for (guint i = 0; options->globals != NULL && options->globals[i] != NULL; i++)
    {
      g_ptr_array_add (argv, g_strdup ("-global"));
      g_ptr_array_add (argv, g_strdup (options->globals[i]));
    }
  for (guint i = 0; options->extra_args != NULL && options->extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (options->extra_args[i]));
  if (qemu->transport == QEMU_MONITOR_UNIX)
    {
      g_ptr_array_add (argv, g_strdup ("-chardev"));
      g_ptr_array_add (argv, g_strdup_printf ("socket,id=qmp0,path=%s,server=on,wait=off",
                                              qemu->socket_path));
      g_ptr_array_add (argv, g_strdup ("-mon"));
      g_ptr_array_add (argv, g_strdup ("chardev=qmp0,mode=control"));
    }
  else
    {
      g_ptr_array_add (argv, g_strdup ("-qmp"));
      g_ptr_array_add (argv, g_strdup ("stdio"));
    }
  g_ptr_array_add (argv, NULL);
  return argv;
}

static gboolean
make_socket_dir (QemuProcess *qemu, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  struct sockaddr_un address;

  qemu->socket_dir = g_dir_make_tmp ("vcpuprobe-qemu-XXXXXX", &local_error);
  if (qemu->socket_dir == NULL)
    {
      g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                   "cannot create a directory for the QMP socket: %s", local_error->message);
      return FALSE;
    }
  qemu->socket_path = g_build_filename (qemu->socket_dir, "qmp.sock", NULL);
  if (strlen (qemu->socket_path) >= sizeof address.sun_path)
    {
      g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                   "QMP socket path %s is too long for a UNIX socket (set TMPDIR)",
                   qemu->socket_path);
      return FALSE;
    }
  return TRUE;
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

static void
close_fd_pair (int fds[2])
{
  close_fd (&fds[0]);
  close_fd (&fds[1]);
}

typedef struct {
  int stdin_fd;
  int stdout_fd;
  int stderr_fd;
  int report_fd;          /* CLOEXEC pipe: EOF means exec worked, an int means errno */
  int max_fd;
  pid_t parent;
  char *const *argv;
} ChildSetup;

static void
close_fds_from (int first, int max_fd)
{
#ifdef SYS_close_range
  if (syscall (SYS_close_range, (unsigned) first, ~0u, 0) == 0)
    return;
#endif
  for (int fd = first; fd <= max_fd; fd++)
    close (fd);
}

/* Runs in the child between fork() and exec(): async-signal-safe calls only. */
G_GNUC_NORETURN static void
child_exec (const ChildSetup *setup)
{
  sigset_t all;
  struct sigaction default_action;
  int report_fd = setup->report_fd;
  int saved_errno;

  memset (&default_action, 0, sizeof default_action);
  default_action.sa_handler = SIG_DFL;
  sigemptyset (&default_action.sa_mask);
  for (guint i = 0; i < G_N_ELEMENTS (cleanup_signals); i++)
    sigaction (cleanup_signals[i], &default_action, NULL);
  sigaction (SIGPIPE, &default_action, NULL);
  sigemptyset (&all);
  sigprocmask (SIG_SETMASK, &all, NULL);

  /* Its own process group, so a terminal's Ctrl-C reaches only us and we stop QEMU in
   * order, and so that stopping it takes any helper processes along. */
  setpgid (0, 0);
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != setup->parent)
    _exit (127);   /* the parent died before the line above: nobody would stop us */

  if (dup2 (setup->stdin_fd, STDIN_FILENO) < 0
      || dup2 (setup->stdout_fd, STDOUT_FILENO) < 0
      || dup2 (setup->stderr_fd, STDERR_FILENO) < 0)
    goto fail;
  if (report_fd != 3)
    {
      if (dup3 (report_fd, 3, O_CLOEXEC) < 0)
        goto fail;
      report_fd = 3;
    }
  close_fds_from (4, setup->max_fd);

  execv (setup->argv[0], setup->argv);
fail:
  saved_errno = errno;
  while (write (report_fd, &saved_errno, sizeof saved_errno) < 0 && errno == EINTR)
    ;
  _exit (127);
}

/* Reads the child's exec report: TRUE when exec succeeded. */
static gboolean
read_exec_report (QemuProcess *qemu, int report_fd, gint64 deadline_us, GError **error)
{
  int child_errno = 0;
  gsize got = 0;

  while (got < sizeof child_errno)
    {
      struct pollfd pfd = { .fd = report_fd, .events = POLLIN };
      gint64 left_ms = (deadline_us - g_get_monotonic_time ()) / 1000;
      ssize_t n;
      int ready;

      ready = poll (&pfd, 1, (int) CLAMP (left_ms, 0, G_MAXINT));
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready == 0)
        {
          g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_TIMEOUT,
                       "QEMU %s timed out before it started", qemu->binary);
          return FALSE;
        }
      n = read (report_fd, ((char *) &child_errno) + got, sizeof child_errno - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return got == 0;
      got += (gsize) n;
    }
  if (child_errno == ENOENT || child_errno == EACCES || child_errno == ENOEXEC
      || child_errno == EISDIR || child_errno == ENOTDIR || child_errno == ELOOP
      || child_errno == EPERM)
    g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_BINARY,
                 "QEMU binary %s cannot be executed: %s", qemu->binary,
                 g_strerror (child_errno));
  else
    g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                 "cannot start QEMU %s: %s", qemu->binary, g_strerror (child_errno));
  return FALSE;
}

/* PR_SET_PDEATHSIG fires when the *thread* that forked exits, not the process. A QEMU
 * started from a worker thread (the probe runs its baseline QEMU in one) would be killed
 * as soon as that thread ended, in the middle of its conversation. So every fork happens
 * in one thread that lives as long as the process, and the child still dies with us. */
typedef struct {
  const ChildSetup *setup;     /* NULL: a request to end the thread */
  pid_t pid;
  int fork_errno;
  gboolean done;
} ForkRequest;

static GMutex fork_lock;
static GCond fork_cond;
static ForkRequest *fork_pending;
static GThread *forker_thread;

static gpointer
forker_main (gpointer unused)
{
  g_mutex_lock (&fork_lock);
  for (;;)
    {
      ForkRequest *request;
      pid_t pid;

      while (fork_pending == NULL)
        g_cond_wait (&fork_cond, &fork_lock);
      request = fork_pending;
      fork_pending = NULL;
      if (request->setup == NULL)
        {
          request->done = TRUE;
          g_cond_broadcast (&fork_cond);
          break;
        }
      pid = fork ();
      if (pid == 0)
        child_exec (request->setup);
      request->fork_errno = pid < 0 ? errno : 0;
      request->pid = pid;
      request->done = TRUE;
      g_cond_broadcast (&fork_cond);
    }
  g_mutex_unlock (&fork_lock);
  return NULL;
}

/* Hands @request to the forker thread and waits until it is done. Called with fork_lock
 * held, the thread running. */
static void
forker_serve (ForkRequest *request)
{
  while (fork_pending != NULL)
    g_cond_wait (&fork_cond, &fork_lock);
  fork_pending = request;
  g_cond_broadcast (&fork_cond);
  while (!request->done)
    g_cond_wait (&fork_cond, &fork_lock);
}

void
qemu_launch_shutdown (void)
{
  ForkRequest request = { .setup = NULL };
  GThread *thread;

  g_mutex_lock (&fork_lock);
  thread = g_steal_pointer (&forker_thread);
  if (thread != NULL)
    forker_serve (&request);
  g_mutex_unlock (&fork_lock);
  if (thread != NULL)
    g_thread_join (thread);
}

/* A process forked by someone else (a test, a daemonizing caller) has no forker thread,
 * only the copied state of ours: start afresh there. */
static void
forker_forget_after_fork (void)
{
  memset (&fork_lock, 0, sizeof fork_lock);
  memset (&fork_cond, 0, sizeof fork_cond);
  fork_pending = NULL;
  forker_thread = NULL;
}

/* fork() in the forker thread; the child runs child_exec(). Returns the pid or -1 with
 * *fork_errno set. */
static pid_t
fork_from_forker (const ChildSetup *setup, int *fork_errno)
{
  ForkRequest request = { .setup = setup };

  static gsize atfork_installed;

  if (g_once_init_enter (&atfork_installed))
    {
      pthread_atfork (NULL, NULL, forker_forget_after_fork);
      g_once_init_leave (&atfork_installed, 1);
    }
  g_mutex_lock (&fork_lock);
  if (forker_thread == NULL)
    forker_thread = g_thread_new ("qemu-forker", forker_main, NULL);
  forker_serve (&request);
  g_mutex_unlock (&fork_lock);
  *fork_errno = request.fork_errno;
  return request.pid;
}

static int
highest_fd (void)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    return (int) MIN (limit.rlim_cur, 65536);
  return 65536;
}

QemuProcess *
qemu_process_launch (const QemuLaunchOptions *options, gint64 deadline_us, GError **error)
{
  g_autoptr (QemuProcess) qemu = g_new0 (QemuProcess, 1);
  int stdin_pipe[2] = { -1, -1 };
  int stdout_pipe[2] = { -1, -1 };
  int report_pipe[2] = { -1, -1 };
  int devnull = -1;
  ChildSetup setup;
  gboolean started;
  int fork_errno = 0;
  pid_t pid;

  qemu->pid = -1;
  qemu->stderr_fd = -1;
  qemu->monitor_read_fd = -1;
  qemu->monitor_write_fd = -1;
  qemu->registry_slot = -1;
  qemu->transport = options->transport;
  qemu->binary = qemu_find_binary (options->binary, error);
  if (qemu->binary == NULL)
    return NULL;
  qemu->accel = g_strdup (options->accel != NULL ? options->accel : qemu_default_accel ());
  qemu->machine = g_strdup (options->machine != NULL ? options->machine : "none");
  if (qemu->transport == QEMU_MONITOR_UNIX && !make_socket_dir (qemu, error))
    return NULL;
  qemu->argv = build_argv (qemu, options);

  qemu->stderr_fd = memfd_create ("qemu-stderr", MFD_CLOEXEC);
  if (qemu->stderr_fd < 0
      || pipe2 (report_pipe, O_CLOEXEC) < 0
      || (qemu->transport == QEMU_MONITOR_STDIO
          && (pipe2 (stdin_pipe, O_CLOEXEC) < 0 || pipe2 (stdout_pipe, O_CLOEXEC) < 0))
      || (qemu->transport == QEMU_MONITOR_UNIX
          && (devnull = open ("/dev/null", O_RDONLY | O_CLOEXEC)) < 0))
    {
      int saved_errno = errno;
      close_fd_pair (stdin_pipe);
      close_fd_pair (stdout_pipe);
      close_fd_pair (report_pipe);
      close_fd (&devnull);
      g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                   "cannot set up the channels to QEMU %s: %s", qemu->binary,
                   g_strerror (saved_errno));
      return NULL;
    }

  setup.stdin_fd = qemu->transport == QEMU_MONITOR_STDIO ? stdin_pipe[0] : devnull;
  setup.stdout_fd = qemu->transport == QEMU_MONITOR_STDIO ? stdout_pipe[1] : qemu->stderr_fd;
  setup.stderr_fd = qemu->stderr_fd;
  setup.report_fd = report_pipe[1];
  setup.max_fd = highest_fd ();
  setup.parent = getpid ();
  setup.argv = (char *const *) qemu->argv->pdata;

  pid = fork_from_forker (&setup, &fork_errno);
  if (pid < 0)
    {
      int saved_errno = fork_errno;
      close_fd_pair (stdin_pipe);
      close_fd_pair (stdout_pipe);
      close_fd_pair (report_pipe);
      close_fd (&devnull);
      g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                   "cannot fork to start QEMU %s: %s", qemu->binary, g_strerror (saved_errno));
      return NULL;
    }
  /* Also here, so the group exists before anyone signals it. */
  setpgid (pid, pid);
  qemu->pid = pid;
  qemu->registry_slot = registry_add (pid, qemu->socket_dir, qemu->socket_path);

  close_fd (&stdin_pipe[0]);
  close_fd (&stdout_pipe[1]);
  close_fd (&report_pipe[1]);
  close_fd (&devnull);
  qemu->monitor_read_fd = stdout_pipe[0];
  qemu->monitor_write_fd = stdin_pipe[1];

  started = read_exec_report (qemu, report_pipe[0], deadline_us, error);
  close_fd (&report_pipe[0]);
  if (!started)
    return NULL;
  return g_steal_pointer (&qemu);
}

/* ---- Connect ---- */

static char *
explain_close (gpointer user_data)
{
  QemuProcess *qemu = user_data;
  g_autofree char *death = describe_death (qemu);

  return g_strdup_printf ("QEMU %s", death);
}

static int
connect_unix_until (QemuProcess *qemu, gint64 deadline_us, GError **error)
{
  struct sockaddr_un address;
  gulong pause_us = 1000;

  memset (&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  g_strlcpy (address.sun_path, qemu->socket_path, sizeof address.sun_path);
  for (;;)
    {
      int fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      gint64 left_us;

      if (fd < 0)
        {
          g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                       "cannot create a socket for QMP: %s", g_strerror (errno));
          return -1;
        }
      if (connect (fd, (struct sockaddr *) &address, sizeof address) == 0)
        return fd;
      close (fd);
      if (errno != ENOENT && errno != ECONNREFUSED && errno != EINTR && errno != EAGAIN)
        {
          g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                       "cannot connect to QMP socket %s: %s", qemu->socket_path,
                       g_strerror (errno));
          return -1;
        }
      if (try_reap (qemu))
        {
          read_early_exit (qemu, &qemu->early_exit);
          qemu->early_exit.monitor_reached = FALSE;
          qemu->ended_early = TRUE;
          qemu_early_exit_set_error (&qemu->early_exit, qemu->binary, error);
          return -1;
        }
      left_us = deadline_us - g_get_monotonic_time ();
      if (left_us <= 0)
        {
          g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_TIMEOUT,
                       "QEMU %s timed out before opening its monitor socket",
                       qemu->binary);
          return -1;
        }
      g_usleep (MIN ((gint64) pause_us, left_us));
      pause_us = MIN (pause_us * 2, 5000);
    }
}

QmpSession *
qemu_process_connect (QemuProcess *qemu, const QmpSessionOptions *options,
                      gint64 deadline_us, GError **error)
{
  QmpSessionOptions session_options = { 0 };
  g_autoptr (GError) local_error = NULL;
  QmpSession *session;
  int read_fd, write_fd;

  if (options != NULL)
    session_options = *options;
  session_options.explain_close = explain_close;
  session_options.explain_data = qemu;

  if (qemu->transport == QEMU_MONITOR_UNIX)
    {
      read_fd = write_fd = connect_unix_until (qemu, deadline_us, error);
      if (read_fd < 0)
        return NULL;
    }
  else
    {
      if (qemu->monitor_read_fd < 0)
        {
          g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_START,
                       "QEMU %s monitor is already connected", qemu->binary);
          return NULL;
        }
      read_fd = qemu->monitor_read_fd;
      write_fd = qemu->monitor_write_fd;
      qemu->monitor_read_fd = qemu->monitor_write_fd = -1;
    }

  session = qmp_session_new_full (read_fd, write_fd, &session_options, deadline_us,
                                  &local_error);
  if (session != NULL)
    return session;

  /* The failed session has closed the monitor, and a QEMU (or an impostor) that reads
   * it exits on that EOF: only a monitor that closed first means QEMU ended first. */
  if (g_error_matches (local_error, QMP_ERROR, QMP_ERROR_CLOSED))
    {
      read_early_exit (qemu, &qemu->early_exit);
      qemu->ended_early = TRUE;
      qemu_early_exit_set_error (&qemu->early_exit, qemu->binary, error);
    }
  else if (g_error_matches (local_error, QMP_ERROR, QMP_ERROR_TIMEOUT))
    /* The session says what it waited for: the greeting, or the reply to the negotiation
     * of a QEMU that greeted and then fell silent. */
    g_set_error (error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_TIMEOUT, "QEMU %s: %s",
                 qemu->binary, local_error->message);
  else
    g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "QEMU %s: ",
                                qemu->binary);
  return NULL;
}

/* ---- Stop ---- */

static void
remove_socket_dir (QemuProcess *qemu)
{
  if (qemu->socket_path != NULL)
    g_unlink (qemu->socket_path);
  if (qemu->socket_dir != NULL)
    g_rmdir (qemu->socket_dir);
  registry_remove (qemu->registry_slot);
  qemu->registry_slot = -1;
}

void
qemu_process_stop (QemuProcess *qemu, QmpSession *session)
{
  if (qemu == NULL)
    return;
  if (qemu->pid > 0 && !qemu->reaped)
    {
      gint64 quit_deadline = g_get_monotonic_time () + QUIT_GRACE_MS * 1000;

      if (session != NULL)
        qmp_session_quit (session, quit_deadline, NULL);
      /* Closing the monitor pipes unblocks a QEMU still writing to us. */
      close_fd (&qemu->monitor_read_fd);
      close_fd (&qemu->monitor_write_fd);
      if (session == NULL || !wait_exit_until (qemu, quit_deadline))
        {
          signal_qemu (qemu, SIGTERM);
          if (!wait_exit_until (qemu, g_get_monotonic_time () + TERM_GRACE_MS * 1000))
            {
              signal_qemu (qemu, SIGKILL);
              wait_exit_until (qemu, G_MAXINT64);
            }
        }
    }
  close_fd (&qemu->monitor_read_fd);
  close_fd (&qemu->monitor_write_fd);
  remove_socket_dir (qemu);
}

void
qemu_process_free (QemuProcess *qemu)
{
  if (qemu == NULL)
    return;
  qemu_process_stop (qemu, NULL);
  close_fd (&qemu->stderr_fd);
  g_free (qemu->binary);
  if (qemu->argv != NULL)
    g_ptr_array_unref (qemu->argv);
  g_free (qemu->accel);
  g_free (qemu->machine);
  g_free (qemu->socket_dir);
  g_free (qemu->socket_path);
  qemu_early_exit_clear (&qemu->early_exit);
  g_free (qemu);
}

pid_t
qemu_process_pid (QemuProcess *qemu)
{
  return qemu->pid;
}

const char *
qemu_process_binary (QemuProcess *qemu)
{
  return qemu->binary;
}

const char *const *
qemu_process_argv (QemuProcess *qemu)
{
  return (const char *const *) qemu->argv->pdata;
}

const char *
qemu_process_accel (QemuProcess *qemu)
{
  return qemu->accel;
}

const char *
qemu_process_machine (QemuProcess *qemu)
{
  return qemu->machine;
}
