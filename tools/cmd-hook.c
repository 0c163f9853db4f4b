/* tools/cmd-hook.c — `vcpuprobe hook DOMAIN OPERATION [SUB-OPERATION [EXTRA]]`: libvirt's
 * qemu hook. Installed as a link in libvirt's hooks directory
 * (`ln -s /usr/bin/vcpuprobe /etc/libvirt/hooks/qemu.d/vcpuprobe`), libvirt runs it at
 * every phase of every domain with the domain XML on standard input.
 *
 * On `prepare begin`, before libvirt labels anything or starts QEMU, a domain whose CPU
 * libvirt checks (check='full' or 'partial', given or defaulted) is judged exactly as
 * `vcpuprobe check --format json` judges it; a failing verdict exits 1 with one line on
 * standard error, which libvirt puts into the error the start fails with. Every other
 * phase, and every domain whose CPU libvirt does not check, exits 0 at once and says
 * nothing. Standard output stays empty: for the phases where libvirt reads it (migrate,
 * restore) empty means "the XML unchanged".
 *
 * The hook must never be why a VM cannot start. When it cannot answer (input it does not
 * understand, a QEMU that cannot be probed, the bound passing) the start goes on and the
 * reason is logged: on standard error and to syslog. libvirt 9.0 shows a hook's standard
 * error in its error and log when the hook fails; when it succeeds, only in its debug log
 * (virCommandRun's "Result status 0, ... stderr: ...", log_filters "1:util.command"),
 * hence syslog too. An administrator who prefers a refused start then says
 * `on-error = refuse`. No start waits longer than the bound (2 s unless configured): the
 * probe runs in a child `vcpuprobe check` with a deadline inside the bound, and a child
 * still running at the bound is stopped (its own signal cleanup stops its QEMU).
 *
 * Settings: /etc/vcpuprobe/hook.conf (or --config FILE), a key file:
 *     [hook]
 *     timeout = 2          # seconds, the bound on the whole hook
 *     on-error = allow     # or refuse: exit 2 (bad input) or 3 (QEMU, probe, deadline)
 * and the same as options after `hook`: --hook-timeout SECONDS, --on-error allow|refuse.
 *
 * A warm path: each answer is kept in the check cache (probe/check-cache.h) under the
 * definition as parsed (so a domain's changing id or disks do not matter) and the host,
 * QEMU and CPU-map parts of the key; a definition already judged is answered without QEMU
 * and without a child process. Only verdicts are kept, never "could not answer". */
#include "tools/cmd-hook.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <json-c/json.h>
#include "probe/check-cache.h"
#include "probe/libvirt-cpu-map.h"
#include "probe/libvirt-rules.h"
#include "qmp/launch.h"
#include "tools/commands.h"
#include "tools/guest-origin.h"

#define HOOK_CONFIG_DEFAULT "/etc/vcpuprobe/hook.conf"
#define HOOK_DEFAULT_TIMEOUT_SECONDS 2.0
/* A domain XML is a few KB; anything near this is not one. */
#define HOOK_MAX_INPUT (16 * 1024 * 1024)
/* The child's own deadline comes this much before the bound, so that it can still say
 * what it was waiting for; the parent stops it this much before the bound. */
#define CHILD_DEADLINE_MARGIN_US (250 * 1000)
#define CHILD_STOP_MARGIN_US (100 * 1000)
#define CHILD_KILL_GRACE_US (50 * 1000)
/* The fd the child reads the domain XML from. */
#define CHILD_INPUT_FD 3

typedef struct {
  const char *domain;
  double timeout_seconds;
  gboolean refuse_on_error;
  gint64 deadline_us;
} HookSettings;

/* ---- being run as a hook ---- */

char **
cli_hook_command_line (int argc, char **argv, int *new_argc)
{
  g_autofree char *name = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *directory_name = NULL;
  GPtrArray *command_line;

  if (argc < 1 || argv[0] == NULL || strchr (argv[0], '/') == NULL)
    return NULL;
  name = g_path_get_basename (argv[0]);
  directory = g_path_get_dirname (argv[0]);
  directory_name = g_path_get_basename (directory);
  if (strcmp (directory_name, "qemu.d") != 0
      && !(strcmp (name, "qemu") == 0 && strcmp (directory_name, "hooks") == 0))
    return NULL;

  command_line = g_ptr_array_new ();
  g_ptr_array_add (command_line, g_strdup (argv[0]));
  g_ptr_array_add (command_line, g_strdup ("hook"));
  /* A domain may be called "--help": what libvirt passes is never an option. */
  g_ptr_array_add (command_line, g_strdup ("--"));
  for (int i = 1; i < argc; i++)
    g_ptr_array_add (command_line, g_strdup (argv[i]));
  *new_argc = (int) command_line->len;
  g_ptr_array_add (command_line, NULL);
  return (char **) g_ptr_array_free (command_line, FALSE);
}

/* ---- what the administrator said ---- */

static gboolean
parse_on_error (const char *value, gboolean *refuse)
{
  if (g_strcmp0 (value, "allow") == 0)
    *refuse = FALSE;
  else if (g_strcmp0 (value, "refuse") == 0)
    *refuse = TRUE;
  else
    return FALSE;
  return TRUE;
}

static gboolean
parse_timeout (const char *value, double *seconds)
{
  char *end = NULL;
  double parsed;

  if (value == NULL)
    return FALSE;
  parsed = g_ascii_strtod (value, &end);
  if (end == value || *end != '\0' || !(parsed > 0) || parsed > 3600)
    return FALSE;
  *seconds = parsed;
  return TRUE;
}

/* Reads the key file at @path into @settings. A missing default file is no problem; any
 * other problem is returned (newly allocated) for the log, and the defaults stay. */
static char *
load_config (HookSettings *settings, const char *path, gboolean path_given)
{
  g_autoptr (GKeyFile) file = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = NULL;
  g_autofree char *on_error = NULL;

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &error))
    {
      if (!path_given && g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return NULL;
      return g_strdup_printf ("%s: %s", path, error->message);
    }
  timeout = g_key_file_get_string (file, "hook", "timeout", NULL);
  on_error = g_key_file_get_string (file, "hook", "on-error", NULL);
  if (timeout != NULL && !parse_timeout (g_strstrip (timeout), &settings->timeout_seconds))
    return g_strdup_printf ("%s: timeout '%s' is not a number of seconds between 0 and 3600",
                            path, timeout);
  if (on_error != NULL && !parse_on_error (g_strstrip (on_error), &settings->refuse_on_error))
    return g_strdup_printf ("%s: on-error '%s' is neither allow nor refuse", path, on_error);
  return NULL;
}

/* ---- saying it where libvirt and the administrator look ---- */

/* One line on standard error (libvirt's error message and log when the hook fails) and
 * the same to syslog (where it is kept when the hook succeeds and libvirt drops it). */
G_GNUC_PRINTF (2, 3) static void
hook_log (int priority, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_strdelimit (message, "\n", ' ');
  fprintf (stderr, "vcpuprobe: %s\n", message);
  fflush (stderr);
  openlog ("vcpuprobe", LOG_PID, LOG_DAEMON);
  syslog (priority, "%s", message);
  closelog ();
}

/* vcpuprobe could not answer: the start goes on, unless the administrator chose to refuse. */
static int
cannot_answer (const HookSettings *settings, CliExit status, const char *reason)
{
  if (settings->refuse_on_error)
    {
      hook_log (LOG_ERR, "domain %s: cannot check its CPU, start refused (on-error = refuse): %s",
                settings->domain, reason);
      return status;
    }
  hook_log (LOG_WARNING, "domain %s: cannot check its CPU, start allowed: %s",
            settings->domain, reason);
  return CLI_EXIT_OK;
}

/* ---- reading the domain ---- */

/* Everything on @fd until end of file or @deadline_us. */
static GString *
read_input (int fd, gint64 deadline_us, GError **error)
{
  g_autoptr (GString) input = g_string_new (NULL);
  char buffer[16384];

  for (;;)
    {
      gint64 left_ms = (deadline_us - g_get_monotonic_time () + 999) / 1000;
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      ssize_t got;
      int ready;

      if (left_ms <= 0)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_FAILURE,
                       "standard input: no end of the domain XML before the deadline");
          return NULL;
        }
      ready = poll (&pfd, 1, (int) MIN (left_ms, G_MAXINT));
      if (ready < 0 && errno == EINTR)
        continue;
      if (ready < 0)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "standard input: %s", g_strerror (errno));
          return NULL;
        }
      if (ready == 0)
        continue;
      got = read (fd, buffer, sizeof buffer);
      if (got < 0 && (errno == EINTR || errno == EAGAIN))
        continue;
      if (got < 0)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "standard input: %s", g_strerror (errno));
          return NULL;
        }
      if (got == 0)
        return g_steal_pointer (&input);
      if (input->len + (gsize) got > HOOK_MAX_INPUT)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT,
                       "standard input: more than %d bytes, not a domain XML", HOOK_MAX_INPUT);
          return NULL;
        }
      g_string_append_len (input, buffer, got);
    }
}

/* ---- the answer: cached, or from a child `vcpuprobe check` ---- */

typedef struct {
  gboolean pass;
  char *message;       /* libvirt's wording of why it fails (or the problems), else NULL */
  char *updated_xml;   /* the <cpu> that starts, else NULL */
} HookVerdict;

static void
hook_verdict_clear (HookVerdict *verdict)
{
  g_clear_pointer (&verdict->message, g_free);
  g_clear_pointer (&verdict->updated_xml, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HookVerdict, hook_verdict_clear)

static const char *
member_string (json_object *object, const char *name)
{
  json_object *member;

  if (object == NULL || !json_object_object_get_ex (object, name, &member)
      || !json_object_is_type (member, json_type_string))
    return NULL;
  return json_object_get_string (member);
}

/* The verdict of a `check --format json` document: libvirt's message where libvirt's
 * rules judged, else the problems, one phrase each. FALSE when it has no verdict. */
static gboolean
verdict_from_check_json (json_object *root, HookVerdict *verdict)
{
  const char *pass = member_string (root, "verdict");
  json_object *libvirt = NULL, *problems = NULL, *xml = NULL;
  const char *message = NULL;

  if (pass == NULL || (strcmp (pass, "pass") != 0 && strcmp (pass, "fail") != 0))
    return FALSE;
  verdict->pass = strcmp (pass, "pass") == 0;
  if (json_object_object_get_ex (root, "libvirt", &libvirt))
    message = member_string (libvirt, "message");
  if (message != NULL)
    verdict->message = g_strdup (message);
  else if (json_object_object_get_ex (root, "problems", &problems)
           && json_object_is_type (problems, json_type_array)
           && json_object_array_length (problems) > 0)
    {
      g_autoptr (GString) joined = g_string_new (NULL);

      for (size_t i = 0; i < json_object_array_length (problems); i++)
        g_string_append_printf (joined, "%s%s", i > 0 ? "; " : "",
                                json_object_get_string (json_object_array_get_idx (problems, i)));
      verdict->message = g_string_free (g_steal_pointer (&joined), FALSE);
    }
  if (json_object_object_get_ex (root, "xml", &xml))
    verdict->updated_xml = g_strdup (member_string (xml, "updated"));
  return TRUE;
}

static json_object *
verdict_to_answer (const HookVerdict *verdict)
{
  json_object *answer = json_object_new_object ();

  json_object_object_add (answer, "verdict", json_object_new_string (verdict->pass ? "pass" : "fail"));
  json_object_object_add (answer, "message", verdict->message != NULL
                                             ? json_object_new_string (verdict->message) : NULL);
  json_object_object_add (answer, "updated", verdict->updated_xml != NULL
                                             ? json_object_new_string (verdict->updated_xml) : NULL);
  return answer;
}

static gboolean
verdict_from_answer (json_object *answer, HookVerdict *verdict)
{
  const char *pass = member_string (answer, "verdict");

  if (pass == NULL)
    return FALSE;
  verdict->pass = strcmp (pass, "pass") == 0;
  verdict->message = g_strdup (member_string (answer, "message"));
  verdict->updated_xml = g_strdup (member_string (answer, "updated"));
  return TRUE;
}

/* Reads both pipes until both close or @deadline_us passes; FALSE on the deadline. */
static gboolean
collect_output (int out_fd, int err_fd, GString *out, GString *err, gint64 deadline_us)
{
  struct pollfd pfds[2] = { { .fd = out_fd, .events = POLLIN }, { .fd = err_fd, .events = POLLIN } };
  GString *sinks[2] = { out, err };
  int open_fds = 2;

  while (open_fds > 0)
    {
      gint64 left_ms = (deadline_us - g_get_monotonic_time () + 999) / 1000;
      int ready;

      if (left_ms <= 0)
        return FALSE;
      ready = poll (pfds, 2, (int) MIN (left_ms, G_MAXINT));
      if (ready < 0 && errno != EINTR)
        return FALSE;
      for (guint i = 0; ready > 0 && i < 2; i++)
        {
          char buffer[16384];
          ssize_t got;

          if (pfds[i].fd < 0 || pfds[i].revents == 0)
            continue;
          got = read (pfds[i].fd, buffer, sizeof buffer);
          if (got > 0 && sinks[i]->len < HOOK_MAX_INPUT)
            g_string_append_len (sinks[i], buffer, got);
          else if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN))
            {
              pfds[i].fd = -1;
              open_fds--;
            }
        }
    }
  return TRUE;
}

/* Waits for @pid until @deadline_us; then stops it (SIGTERM: its signal cleanup stops its
 * QEMU and removes its files; SIGKILL if it does not go). The wait status, or -1 when it
 * had to be stopped. */
static int
reap_child (GPid pid, gint64 deadline_us)
{
  int status;

  for (;;)
    {
      pid_t done = waitpid (pid, &status, WNOHANG);

      if (done == pid)
        return status;
      if (done < 0 && errno != EINTR)
        return -1;
      if (g_get_monotonic_time () >= deadline_us)
        break;
      g_usleep (1000);
    }
  kill (pid, SIGTERM);
  deadline_us = g_get_monotonic_time () + CHILD_KILL_GRACE_US;
  while (waitpid (pid, &status, WNOHANG) == 0)
    {
      if (g_get_monotonic_time () >= deadline_us)
        {
          kill (pid, SIGKILL);
          while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
            ;
          break;
        }
      g_usleep (1000);
    }
  return -1;
}

/* The global options the hook was given that the check must see too. */
static void
add_forwarded_options (GPtrArray *argv, const CliOptions *options, gint64 child_deadline_us)
{
  static const char *const method_names[] = {
    [CLI_METHOD_AUTO] = "auto", [CLI_METHOD_EXPANSION] = "expansion",
    [CLI_METHOD_POST_START] = "post-start",
  };
  double seconds = MAX (child_deadline_us - g_get_monotonic_time (), 50000) / (double) G_USEC_PER_SEC;
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  g_ptr_array_add (argv, g_strdup ("--format=json"));
  g_ptr_array_add (argv, g_strconcat ("--timeout=", g_ascii_dtostr (number, sizeof number, seconds),
                                      NULL));
  g_ptr_array_add (argv, g_strconcat ("--method=", method_names[options->method], NULL));
  if (options->qemu != NULL)
    g_ptr_array_add (argv, g_strconcat ("--qemu=", options->qemu, NULL));
  if (options->accel != NULL)
    g_ptr_array_add (argv, g_strconcat ("--accel=", options->accel, NULL));
  if (options->machine != NULL)
    g_ptr_array_add (argv, g_strconcat ("--machine=", options->machine, NULL));
  if (options->cpu_map != NULL)
    g_ptr_array_add (argv, g_strconcat ("--cpu-map=", options->cpu_map, NULL));
  if (options->no_cache)
    g_ptr_array_add (argv, g_strdup ("--no-cache"));
}

/* The last non-empty line the child wrote on standard error, without our prefix. */
static char *
child_error_line (const GString *err, const char *input_path, const char *domain)
{
  g_auto (GStrv) lines = g_strsplit (err->str, "\n", -1);
  const char *last = NULL;
  g_autofree char *named = g_strdup_printf ("domain %s", domain);

  for (guint i = 0; lines[i] != NULL; i++)
    if (*g_strstrip (lines[i]) != '\0')
      last = lines[i];
  if (last == NULL)
    return g_strdup ("vcpuprobe check said nothing");
  if (g_str_has_prefix (last, "vcpuprobe: "))
    last += strlen ("vcpuprobe: ");
  /* The check read the domain from our pipe: name the domain instead. */
  {
    g_auto (GStrv) parts = g_strsplit (last, input_path, -1);

    return g_strjoinv (named, parts);
  }
}

/* Runs in the check's process between fork() and exec(): async-signal-safe calls only. A
 * hook that is stopped (SIGTERM from libvirt or an administrator, SIGKILL) takes its check
 * with it, and the check's own signal cleanup stops its QEMU. */
static void
die_with_hook (gpointer hook_pid)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  /* The hook may have died before the line above. */
  if (getppid () != (pid_t) GPOINTER_TO_INT (hook_pid))
    raise (SIGTERM);
}

/* Runs `vcpuprobe check --format json /proc/self/fd/3` with the domain on fd 3: the check
 * command's own code path, in a process that can be stopped at the bound. TRUE with
 * @verdict set; FALSE with *@exit_status (CLI_EXIT_USAGE or CLI_EXIT_FAILURE) and
 * *@reason when it could not answer. */
static gboolean
run_check_child (const CliOptions *options, const HookSettings *settings, const GString *input,
                 HookVerdict *verdict, CliExit *exit_status, char **reason)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (GString) err = g_string_new (NULL);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", &error);
  g_autofree char *input_path = g_strdup_printf ("/proc/self/fd/%d", CHILD_INPUT_FD);
  gint64 stop_us = settings->deadline_us - CHILD_STOP_MARGIN_US;
  int source_fds[1] = { -1 };
  int target_fds[1] = { CHILD_INPUT_FD };
  int out_fd = -1, err_fd = -1;
  GPid pid;
  int status;
  json_object *root;

  *exit_status = CLI_EXIT_FAILURE;
  if (self == NULL)
    {
      *reason = g_strdup_printf ("cannot find this program: %s", error->message);
      return FALSE;
    }
  /* An in-memory file, not a temporary one: nothing to remove, whatever happens. */
  source_fds[0] = memfd_create ("vcpuprobe-hook-domain", MFD_CLOEXEC);
  if (source_fds[0] < 0 || write (source_fds[0], input->str, input->len) != (ssize_t) input->len)
    {
      *reason = g_strdup_printf ("cannot hand the domain XML to the check: %s", g_strerror (errno));
      if (source_fds[0] >= 0)
        close (source_fds[0]);
      return FALSE;
    }

  g_ptr_array_add (argv, g_strdup (self));
  g_ptr_array_add (argv, g_strdup ("check"));
  add_forwarded_options (argv, options, settings->deadline_us - CHILD_DEADLINE_MARGIN_US);
  g_ptr_array_add (argv, g_strdup ("--"));
  g_ptr_array_add (argv, g_strdup (input_path));
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_async_with_pipes_and_fds (NULL, (const char *const *) argv->pdata, NULL,
                                         G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDIN_FROM_DEV_NULL,
                                         die_with_hook, GINT_TO_POINTER (getpid ()),
                                         -1, -1, -1, source_fds, target_fds, 1,
                                         &pid, NULL, &out_fd, &err_fd, &error))
    {
      close (source_fds[0]);
      *reason = g_strdup_printf ("cannot run vcpuprobe check: %s", error->message);
      return FALSE;
    }
  close (source_fds[0]);

  collect_output (out_fd, err_fd, out, err, stop_us);
  close (out_fd);
  close (err_fd);
  status = reap_child (pid, stop_us);
  if (status == -1)
    {
      *reason = g_strdup_printf ("no answer within the bound of %g s", settings->timeout_seconds);
      return FALSE;
    }
  if (!WIFEXITED (status) || (WEXITSTATUS (status) != CLI_EXIT_OK
                              && WEXITSTATUS (status) != CLI_EXIT_MISMATCH))
    {
      if (WIFEXITED (status) && WEXITSTATUS (status) == CLI_EXIT_USAGE)
        *exit_status = CLI_EXIT_USAGE;
      *reason = child_error_line (err, input_path, settings->domain);
      return FALSE;
    }
  root = json_tokener_parse (out->str);
  if (root == NULL || !verdict_from_check_json (root, verdict))
    {
      json_object_put (root);
      *reason = g_strdup ("vcpuprobe check printed no verdict");
      return FALSE;
    }
  json_object_put (root);
  return TRUE;
}

/* The updated definition where the administrator can take it from; its path, or NULL
 * when it cannot be written (the message then says how to get it). */
static char *
write_updated (ProbeCache *cache, const char *domain, const char *updated_xml)
{
  g_autofree char *directory = g_build_filename (probe_cache_directory (cache), "hook", NULL);
  g_autofree char *name = g_strconcat (domain, ".cpu.xml", NULL);
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *current = NULL;

  /* libvirt refuses a '/' in a domain name, but this name came on a command line. */
  g_strdelimit (name, "/", '_');
  path = g_build_filename (directory, name, NULL);
  text = g_strdup_printf ("<!-- The <cpu> of domain %s that starts under check='full' with the "
                          "guest CPU vcpuprobe predicts here: put it in place of the domain's "
                          "<cpu> (virsh edit %s) -->\n%s%s",
                          domain, domain, updated_xml,
                          g_str_has_suffix (updated_xml, "\n") ? "" : "\n");
  /* Written again only when it changed: a refused domain is often started again, and a
   * durable write costs a warm answer more than everything else it does. */
  if (g_file_get_contents (path, &current, NULL, NULL) && strcmp (current, text) == 0)
    return g_steal_pointer (&path);
  if (g_mkdir_with_parents (directory, 0755) != 0
      || !probe_cache_replace_file (path, text, NULL))
    return NULL;
  return g_steal_pointer (&path);
}

static int
refuse (const HookSettings *settings, ProbeCache *cache, const char *check,
        const HookVerdict *verdict)
{
  g_autofree char *updated = NULL;
  g_autofree char *where = NULL;

  /* A definition libvirt refuses before QEMU runs has no guest, so no updated one. */
  if (verdict->updated_xml == NULL)
    {
      hook_log (LOG_ERR, "domain %s: libvirt would refuse it: %s", settings->domain,
                verdict->message != NULL ? verdict->message : "the guest CPU differs");
      return CLI_EXIT_MISMATCH;
    }
  updated = write_updated (cache, settings->domain, verdict->updated_xml);
  where = updated != NULL ? g_strdup_printf ("updated definition: %s", updated)
                          : g_strdup ("updated definition: vcpuprobe check --format xml "
                                      "(with the domain XML)");
  hook_log (LOG_ERR, "domain %s: check='%s' would refuse it after QEMU starts: %s; %s",
            settings->domain, check,
            verdict->message != NULL ? verdict->message : "the guest CPU differs", where);
  return CLI_EXIT_MISMATCH;
}

static int
judge_domain (const CliOptions *options, const HookSettings *settings, const GString *input)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def = NULL;
  g_autoptr (ProbeCheckKey) key = NULL;
  g_autoptr (ProbeCache) cache = probe_cache_new (NULL);
  g_autofree char *definition = NULL;
  g_autofree char *qemu = NULL;
  g_autofree char *reason = NULL;
  g_auto (HookVerdict) verdict = { 0 };
  CliGuestOrigin origin;
  CpuCheck check;
  CliExit failure;
  const char *accel;
  json_object *answer = NULL;

  def = cpu_def_from_xml (input->str, (gssize) input->len, "standard input", &error);
  if (def == NULL && g_error_matches (error, CPU_DEF_ERROR, CPU_DEF_ERROR_NO_CPU))
    return CLI_EXIT_OK;   /* no <cpu>: libvirt compares nothing */
  if (def == NULL)
    return cannot_answer (settings, CLI_EXIT_USAGE, error->message);

  cli_guest_origin_init (&origin, options, def);
  accel = origin.options.accel != NULL ? origin.options.accel : qemu_default_accel ();
  check = libvirt_rules_effective_check (def, accel);
  if (check != CPU_CHECK_FULL && check != CPU_CHECK_PARTIAL)
    return CLI_EXIT_OK;

  qemu = qemu_find_binary (origin.options.qemu, &error);
  if (qemu == NULL)
    return cannot_answer (settings, CLI_EXIT_FAILURE, error->message);

  definition = probe_check_definition_text (def);
  if (!options->no_cache)
    {
      g_autofree char *settings_text = g_strdup_printf ("hook; method %d", options->method);
      ProbeCheckKeyInputs inputs = {
        .definition = definition,
        .qemu_binary = qemu,
        .accel = accel,
        .machine = origin.options.machine,
        .cpu_map = options->cpu_map != NULL ? options->cpu_map : LIBVIRT_CPU_MAP_DEFAULT_DIR,
        .settings = settings_text,
      };

      /* Without a key the hook still answers, only slower. */
      key = probe_check_key_new (&inputs, NULL);
      if (key != NULL)
        answer = probe_check_cache_lookup (cache, key, NULL);
    }
  if (answer != NULL && verdict_from_answer (answer, &verdict))
    json_object_put (answer);
  else
    {
      json_object_put (answer);
      hook_verdict_clear (&verdict);
      if (!run_check_child (options, settings, input, &verdict, &failure, &reason))
        return cannot_answer (settings, failure, reason);
      if (key != NULL)
        {
          json_object *stored = verdict_to_answer (&verdict);

          /* A cache that cannot be written costs the next start a probe, nothing more. */
          probe_check_cache_store (cache, key, stored, NULL);
          json_object_put (stored);
        }
    }
  if (verdict.pass)
    return CLI_EXIT_OK;
  return refuse (settings, cache, cpu_check_name (check), &verdict);
}

static int
run_hook (const CliOptions *options, GError **error)
{
  const char *operation = options->args->len > 1 ? g_ptr_array_index (options->args, 1) : "";
  const char *sub_operation = options->args->len > 2 ? g_ptr_array_index (options->args, 2) : "-";
  const char *config = cli_options_command_value (options, "config");
  const char *on_error = cli_options_command_value (options, "on-error");
  const char *timeout = cli_options_command_value (options, "hook-timeout");
  g_autofree char *config_problem = NULL;
  g_autoptr (GError) input_error = NULL;
  g_autoptr (GString) input = NULL;
  HookSettings settings = {
    .domain = g_ptr_array_index (options->args, 0),
    .timeout_seconds = HOOK_DEFAULT_TIMEOUT_SECONDS,
  };

  /* The administrator's command line is checked like any other; libvirt gives none. */
  if (on_error != NULL && !parse_on_error (on_error, &settings.refuse_on_error))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--on-error %s: expected allow or refuse", on_error);
      return -1;
    }
  if (timeout != NULL && !parse_timeout (timeout, &settings.timeout_seconds))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--hook-timeout %s: expected seconds, more than 0 and at most 3600", timeout);
      return -1;
    }
  config_problem = load_config (&settings, config != NULL ? config : HOOK_CONFIG_DEFAULT,
                                config != NULL);
  /* The command line wins over the file. */
  if (on_error != NULL)
    parse_on_error (on_error, &settings.refuse_on_error);
  if (timeout != NULL)
    parse_timeout (timeout, &settings.timeout_seconds);
  settings.deadline_us = options->start_us + (gint64) (settings.timeout_seconds * G_USEC_PER_SEC);
  if (config_problem != NULL)
    hook_log (LOG_WARNING, "hook settings ignored: %s", config_problem);

  /* Drained in every phase: libvirt writes the whole domain XML before it reads ours. */
  input = read_input (STDIN_FILENO, settings.deadline_us, &input_error);
  if (strcmp (operation, "prepare") != 0 || strcmp (sub_operation, "begin") != 0)
    return CLI_EXIT_OK;
  if (input == NULL)
    return cannot_answer (&settings, cli_exit_for_error (input_error), input_error->message);
  return judge_domain (options, &settings, input);
}

static const char *const hook_args[] = { "DOMAIN", "OPERATION", "SUB-OPERATION", "EXTRA", NULL };
static const CliCommandOption hook_options[] = {
  { "config", "FILE" },
  { "on-error", "allow|refuse" },
  { "hook-timeout", "SECONDS" },
  { NULL, NULL },
};

const CliCommand cli_command_hook = {
  .name = "hook",
  .arg_names = hook_args,
  .min_args = 2,
  .max_args = 4,
  .options = hook_options,
  .run = run_hook,
};
