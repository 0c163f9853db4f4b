/* tests/qmp-record-session.c — records the QEMU behaviours the vcpuprobe CLI cannot be
 * made to show, for tests/qmp-replies/: a QEMU in --preconfig (the CLI never starts one)
 * and a QEMU killed while it works on a command.
 *
 *   qmp-record-session FILE [--accel A] [--machine M] [--cpu C] [--preconfig]
 *                      [--kill-at N] COMMAND[=ARGS-JSON]...
 *
 * Runs the commands in order in one launched QEMU and records the session into FILE (and
 * FILE.json) as `vcpuprobe --record` does. With --kill-at N, QEMU is stopped (SIGSTOP)
 * before command N (1-based) is sent and killed (SIGKILL) right after, so it can never
 * answer: the recording ends with that command and no reply, whatever the timing. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "qmp/source.h"
#include "qmp/version.h"
#include "x86/cpu-identity.h"
#include "x86/host-cpuid.h"

#define DEADLINE_MS 60000

static void
set_meta_string (QmpRecorder *recorder, const char *key, const char *value)
{
  json_object *string = json_object_new_string (value);

  qmp_recorder_set_meta (recorder, key, string);
  json_object_put (string);
}

static void
describe_recording (QmpRecorder *recorder, QmpSource *source, const char *accel,
                    char **argv)
{
  json_object *recorded_argv = json_object_new_array ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format_iso8601 (now);
  g_autoptr (X86CpuidDump) host = x86_host_cpuid_read (0, NULL);

  /* The program by name only, as vcpuprobe --record writes it. */
  for (guint i = 0; argv[i] != NULL; i++)
    {
      g_autofree char *program = i == 0 ? g_path_get_basename (argv[0]) : NULL;
      json_object_array_add (recorded_argv, json_object_new_string (i == 0 ? program : argv[i]));
    }
  qmp_recorder_set_meta (recorder, "argv", recorded_argv);
  json_object_put (recorded_argv);
  set_meta_string (recorder, "qemu-binary", qmp_source_describe (source));
  set_meta_string (recorder, "accel", accel);
  set_meta_string (recorder, "date", date);
  set_meta_string (recorder, "recorded-by", "qmp-record-session");
  if (host != NULL)
    {
      g_autoptr (X86CpuIdentity) identity = x86_cpu_identity_from_dump (host, TRUE);
      if (identity->brand != NULL)
        set_meta_string (recorder, "host-cpu", identity->brand);
    }
}

/* COMMAND or COMMAND={json}: the name (newly allocated) and the arguments (owned, or NULL). */
static gboolean
parse_command (const char *word, char **name, json_object **arguments)
{
  const char *equals = strchr (word, '=');

  *arguments = NULL;
  if (equals == NULL)
    {
      *name = g_strdup (word);
      return TRUE;
    }
  *name = g_strndup (word, equals - word);
  *arguments = json_tokener_parse (equals + 1);
  if (*arguments == NULL || !json_object_is_type (*arguments, json_type_object))
    {
      fprintf (stderr, "qmp-record-session: %s: arguments are not a JSON object\n", word);
      json_object_put (*arguments);
      g_clear_pointer (name, g_free);
      return FALSE;
    }
  return TRUE;
}

static int
run_commands (QmpConnection *connection, char **commands, int kill_at)
{
  QmpSession *session = qmp_connection_session (connection);
  QemuProcess *process = qmp_connection_process (connection);

  for (int i = 0; commands[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_autoptr (GError) error = NULL;
      json_object *arguments = NULL;
      json_object *reply;
      guint64 id;

      if (!parse_command (commands[i], &name, &arguments))
        return 2;
      if (i + 1 == kill_at)
        kill (qemu_process_pid (process), SIGSTOP);
      id = qmp_session_send (session, name, arguments, &error);
      json_object_put (arguments);
      if (i + 1 == kill_at)
        kill (qemu_process_pid (process), SIGKILL);
      reply = id != 0 ? qmp_session_wait (session, id, qmp_deadline_in_ms (DEADLINE_MS), &error)
                      : NULL;
      /* A QMP error is what the recording is for; only a dead QEMU ends the session. */
      printf ("%s: %s\n", name, reply != NULL ? "answered" : error->message);
      json_object_put (reply);
      if (reply == NULL && !g_error_matches (error, QMP_ERROR, QMP_ERROR_COMMAND)
          && !g_error_matches (error, QMP_ERROR, QMP_ERROR_NOT_FOUND))
        return i + 1 == kill_at ? 0 : 3;
    }
  return kill_at > 0 ? 3 : 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *accel = g_strdup ("tcg");
  g_autofree char *machine = NULL;
  g_autofree char *cpu = NULL;
  gboolean preconfig = FALSE;
  int kill_at = 0;
  g_auto (GStrv) commands = NULL;
  GOptionEntry entries[] = {
    { "accel", 0, 0, G_OPTION_ARG_STRING, &accel, "Accelerator (default tcg)", "A" },
    { "machine", 0, 0, G_OPTION_ARG_STRING, &machine, "Machine type (default none)", "M" },
    { "cpu", 0, 0, G_OPTION_ARG_STRING, &cpu, "-cpu argument", "C" },
    { "preconfig", 0, 0, G_OPTION_ARG_NONE, &preconfig, "Start QEMU with --preconfig", NULL },
    { "kill-at", 0, 0, G_OPTION_ARG_INT, &kill_at, "Kill QEMU on command N", "N" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &commands, NULL, "FILE COMMAND..." },
    { NULL, 0, 0, 0, NULL, NULL, NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("FILE COMMAND[=ARGS]...");
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (QmpRecorder) recorder = NULL;
  QmpConnection *connection;
  QemuLaunchOptions launch = { 0 };
  int status;

  g_auto (GStrv) original_argv = g_strdupv (argv);

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)
      || commands == NULL || commands[0] == NULL || commands[1] == NULL)
    {
      fprintf (stderr, "qmp-record-session: %s\n",
               error != NULL ? error->message : "usage: FILE COMMAND[=ARGS]...");
      return 2;
    }
  source = qmp_source_new_launch (g_getenv ("VCPUPROBE_QEMU"), &error);
  if (source == NULL)
    {
      fprintf (stderr, "qmp-record-session: %s\n", error->message);
      return 3;
    }
  recorder = qmp_recorder_new (commands[0]);
  qmp_source_set_recorder (source, recorder);
  describe_recording (recorder, source, accel, original_argv);

  launch.accel = accel;
  launch.machine = machine;
  launch.cpu = cpu;
  launch.preconfig = preconfig;
  connection = qmp_source_open (source, &launch, qmp_deadline_in_ms (DEADLINE_MS), &error);
  if (connection == NULL)
    {
      fprintf (stderr, "qmp-record-session: %s\n", error->message);
      return 3;
    }
  {
    QmpSession *session = qmp_connection_session (connection);
    g_autofree char *version = qmp_version_to_string (qmp_session_get_version (session));
    set_meta_string (recorder, "qemu-version", version);
    set_meta_string (recorder, "qemu-package", qmp_session_package (session));
  }
  status = run_commands (connection, commands + 1, kill_at);
  qmp_connection_free (connection);
  if (!qmp_recorder_finish (recorder, &error))
    {
      fprintf (stderr, "qmp-record-session: %s\n", error->message);
      return 3;
    }
  return status;
}
