/* qmp/launch.h — a QEMU started for probing: argv, pid, monitor channel, captured stderr.
 *
 * QEMU always runs with -S -no-user-config -nodefaults -nographic, started from an argv
 * array (never a shell). Whatever happens — success, error, timeout, crash, a binary that
 * is not QEMU, SIGINT/SIGTERM to us — no process, zombie, socket or temporary directory
 * stays behind: qemu_process_free() asks nicely (quit), then SIGTERM, then SIGKILL, and
 * always reaps; the child gets PR_SET_PDEATHSIG so it dies with its parent.
 *
 * QEMU runs in a process group of its own: a terminal's Ctrl-C reaches only us (the
 * signal cleanup below then stops QEMU), and stopping QEMU also kills anything it
 * started. PR_SET_PDEATHSIG fires when the *thread* that forked exits, so every fork
 * happens in one internal thread that lives as long as the process: any thread may
 * launch a QEMU and hand it to another. QEMU's stderr goes to an in-memory file that can never fill
 * up and block it. STDIO is the default transport: it needs no filesystem object and
 * measured at least as fast as the socket. */
#pragma once
#include <glib.h>
#include <sys/types.h>
#include "qmp/session.h"

#define QEMU_LAUNCH_ERROR (qemu_launch_error_quark ())
GQuark qemu_launch_error_quark (void);

typedef enum {
  QEMU_LAUNCH_ERROR_BINARY,    /* not found, not executable, or not a QEMU */
  QEMU_LAUNCH_ERROR_START,     /* fork/exec/pipe/socket failed */
  QEMU_LAUNCH_ERROR_EXITED,    /* QEMU exited before the monitor answered; stderr tail in message */
  QEMU_LAUNCH_ERROR_TIMEOUT,   /* no greeting or negotiation before the deadline */
} QemuLaunchError;

typedef enum {
  QEMU_MONITOR_STDIO,      /* -qmp stdio over a pipe pair: no filesystem object at all */
  QEMU_MONITOR_UNIX,       /* -chardev socket,server=on,wait=off in a private 0700 directory */
} QemuMonitorTransport;

typedef struct {
  const char *binary;          /* path or NULL: qemu-system-x86_64 from PATH */
  const char *machine;         /* machine type; NULL: "none" (query mode) */
  const char *accel;           /* "kvm", "tcg", ...; NULL: qemu_default_accel() */
  const char *cpu;             /* -cpu argument or NULL */
  gboolean preconfig;          /* add --preconfig */
  /* "DRIVER.PROPERTY=VALUE" each given as -global, NULL-terminated, or NULL. A property
   * set on the command line costs QEMU nothing per question; the same property in every
   * QMP command costs it a main-loop turn per byte. */
  const char *const *globals;
  const char *const *extra_args;  /* more arguments, NULL-terminated, or NULL */
  QemuMonitorTransport transport;
} QemuLaunchOptions;

typedef struct QemuProcess QemuProcess;

/* Resolves @requested (NULL: qemu-system-x86_64 on PATH) to an absolute path of an
 * executable file. Returns NULL with QEMU_LAUNCH_ERROR_BINARY. */
char *qemu_find_binary (const char *requested, GError **error);

/* "kvm" when /dev/kvm can be opened read-write, else "tcg". Static string. */
const char *qemu_default_accel (void);

/* Starts QEMU. The monitor is not connected yet. */
QemuProcess *qemu_process_launch (const QemuLaunchOptions *options, gint64 deadline_us,
                                  GError **error);

/* Connects to the monitor, reads the greeting and negotiates. The session is owned by the
 * caller and must be freed before the process. A stream closed because QEMU died reports
 * QMP_ERROR_CLOSED with QEMU's exit status and the last lines of its stderr.
 * Errors: QEMU_LAUNCH_ERROR_EXITED when the binary exits (or closes the monitor) before
 * negotiation finished, with its exit status and stderr tail; QEMU_LAUNCH_ERROR_TIMEOUT
 * when nothing answered before @deadline_us; QMP_ERROR_PROTOCOL (from the session) when
 * the binary talks but not QMP. Call once per process. */
QmpSession *qemu_process_connect (QemuProcess *qemu, const QmpSessionOptions *options,
                                  gint64 deadline_us, GError **error);

/* Stops QEMU (quit through @session if given and alive, then SIGTERM, then SIGKILL),
 * reaps it and removes its temporary directory. Safe to call twice. */
void qemu_process_stop (QemuProcess *qemu, QmpSession *session);
void qemu_process_free (QemuProcess *qemu);   /* stops it if still running */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QemuProcess, qemu_process_free)

pid_t        qemu_process_pid (QemuProcess *qemu);
const char  *qemu_process_binary (QemuProcess *qemu);   /* absolute path */
/* The argv QEMU was started with, NULL-terminated. Borrowed. */
const char *const *qemu_process_argv (QemuProcess *qemu);
const char  *qemu_process_accel (QemuProcess *qemu);
const char  *qemu_process_machine (QemuProcess *qemu);
/* Everything QEMU wrote to stderr so far (newly allocated). */
char        *qemu_process_stderr (QemuProcess *qemu);
/* After exit: "exited with status 1" or "killed by signal 9". NULL while running. */
char        *qemu_process_describe_exit (QemuProcess *qemu);

/* How a QEMU ended before its monitor answered, in the pieces the QEMU_LAUNCH_ERROR_EXITED
 * message is made of, so that a recording can keep them and its replay fail alike. */
typedef struct {
  char *how;                   /* "exited with status 1", "killed by signal 9", ... */
  char *stderr_tail;           /* its last stderr lines on one line, or NULL when it said nothing */
  gboolean monitor_reached;    /* FALSE: it ended before its monitor socket appeared */
} QemuEarlyExit;

void qemu_early_exit_clear (QemuEarlyExit *early_exit);

/* What the last qemu_process_connect() found when it failed with QEMU_LAUNCH_ERROR_EXITED,
 * else NULL. Borrowed. */
const QemuEarlyExit *qemu_process_early_exit (QemuProcess *qemu);

/* Sets @error to the QEMU_LAUNCH_ERROR_EXITED that qemu_process_connect() reports for
 * @early_exit of @binary: "QEMU BINARY exited with status 1 (stderr: ...) before its
 * monitor answered". */
void qemu_early_exit_set_error (const QemuEarlyExit *early_exit, const char *binary,
                                GError **error);

/* Installs SIGINT/SIGTERM/SIGHUP handlers that kill and reap every live QEMU and remove
 * its directory before the program dies of the signal. Call once from main(). */
void qemu_launch_install_signal_cleanup (void);

/* Ends the thread every QEMU is forked from, if one was started, and waits for it: call
 * from main() when no QEMU will be launched any more (nothing of the process is then left
 * running for a leak checker to report). A later launch starts it again. */
void qemu_launch_shutdown (void);

/* Between hold and release, those signals wait: a file replaced meanwhile (written to a
 * temporary name beside it, then renamed) is never left half-way, its temporary behind.
 * The handler then runs at the release. Calls nest, from any thread. */
void qemu_launch_hold_signal_cleanup (void);
void qemu_launch_release_signal_cleanup (void);
