/* tools/qmp-source.c — turns --qemu/--socket/--replay, --record, --accel, --debug and
 * --timeout into one QmpSource, a recorder and a deadline. */
#include "tools/qmp-source.h"

#include <string.h>
#include <sys/stat.h>
#include "probe/profile.h"
#include "x86/cpu-identity.h"
#include "x86/host-cpuid.h"

struct CliSource {
  QmpSource *qmp;
  QmpRecorder *recorder;   /* NULL without --record */
  char *accel;
  gint64 deadline_us;
  guint n_opened;
  gboolean lent;           /* a probe opens sessions of its own: see cli_source_qmp() */
  gboolean from_profile;   /* answers from a host profile: no recording to speak of */
};

void
cli_source_free (CliSource *source)
{
  if (source == NULL)
    return;
  qmp_source_free (source->qmp);
  qmp_recorder_free (source->recorder);
  g_free (source->accel);
  g_free (source);
}

/* libvirt's older replies-only files follow libvirt's command order, not ours: match each
 * command to a reply of the right shape rather than to the next reply in the file. */
static QmpSource *
open_replay (const char *path, GError **error)
{
  g_autoptr (QmpSource) replay = qmp_source_new_replay (path, QMP_REPLAY_AUTO, error);

  if (replay == NULL)
    return NULL;
  if (!qmp_replies_has_commands (qmp_source_replies (replay)))
    {
      g_clear_pointer (&replay, qmp_source_free);
      replay = qmp_source_new_replay (path, QMP_REPLAY_SHAPE, error);
    }
  if (replay != NULL && g_strcmp0 (g_getenv ("VCPUPROBE_REPLAY_STRICT"), "1") == 0)
    qmp_source_set_strict (replay, TRUE);
  return g_steal_pointer (&replay);
}

static QmpSource *
open_qmp_source (const CliOptions *options, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  QmpSource *qmp;

  if (options->socket != NULL)
    {
      struct stat st;

      /* A path that is not there, or is no socket, is a typo; one that refuses connections
       * is a QEMU gone. Checked here, before any command connects: host and models turn
       * every failed open into an unusable accelerator, which is a QEMU failure. */
      if (stat (options->socket, &st) < 0)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "--socket %s: no such file",
                       options->socket);
          return NULL;
        }
      if (!S_ISSOCK (st.st_mode))
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "--socket %s: not a socket",
                       options->socket);
          return NULL;
        }
      return qmp_source_new_socket (options->socket);
    }
  if (options->replay != NULL)
    return open_replay (options->replay, error);
  /* Results name the profiled host's QEMU, as a live run there would. */
  if (options->profile != NULL)
    return probe_profile_source (options->profile,
                                 ((const ProbeProfile *) options->profile)->qemu_binary);

  qmp = qmp_source_new_launch (options->qemu, &local_error);
  if (qmp != NULL)
    return qmp;
  /* A --qemu that names no executable is the user's input; a QEMU missing from PATH is not. */
  if (options->qemu != NULL)
    g_set_error_literal (error, CLI_ERROR, CLI_ERROR_INPUT, local_error->message);
  else
    g_propagate_error (error, g_steal_pointer (&local_error));
  return NULL;
}

static void
set_meta_string (QmpRecorder *recorder, const char *key, const char *value)
{
  json_object *string = json_object_new_string (value);

  qmp_recorder_set_meta (recorder, key, string);
  json_object_put (string);
}

/* The recording says where it came from, so a replay years later can be trusted or not. */
static void
describe_recording (CliSource *source, const CliOptions *options)
{
  json_object *argv = json_object_new_array ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format_iso8601 (now);
  g_autoptr (X86CpuidDump) host = x86_host_cpuid_read (0, NULL);

  /* The program by name only: where the recording tool was built is of no interest to a
   * reader and would tie the recording to one machine. */
  for (guint i = 0; i < options->argv->len; i++)
    {
      g_autofree char *program = i == 0 ? g_path_get_basename (g_ptr_array_index (options->argv, 0))
                                        : NULL;
      json_object_array_add (argv, json_object_new_string (i == 0 ? program
                                                           : g_ptr_array_index (options->argv, i)));
    }
  qmp_recorder_set_meta (source->recorder, "argv", argv);
  json_object_put (argv);
  set_meta_string (source->recorder, "qemu-binary", qmp_source_describe (source->qmp));
  set_meta_string (source->recorder, "date", date);
  if (host != NULL)
    {
      g_autoptr (X86CpuIdentity) identity = x86_cpu_identity_from_dump (host, TRUE);
      if (identity->brand != NULL)
        set_meta_string (source->recorder, "host-cpu", identity->brand);
    }
}

CliSource *
cli_source_new (const CliOptions *options, GError **error)
{
  g_autoptr (CliSource) source = g_new0 (CliSource, 1);
  const char *accel = options->accel;

  source->qmp = open_qmp_source (options, error);
  if (source->qmp == NULL)
    return NULL;
  source->deadline_us = cli_options_deadline (options);
  source->from_profile = options->profile != NULL;

  if (accel == NULL && options->replay != NULL)
    accel = qmp_source_recorded_accel (source->qmp);
  source->accel = g_strdup (accel != NULL ? accel : qemu_default_accel ());

  qmp_source_set_debug (source->qmp, options->debug);
  if (options->record != NULL)
    {
      source->recorder = qmp_recorder_new (options->record);
      qmp_source_set_recorder (source->qmp, source->recorder);
      describe_recording (source, options);
    }
  return g_steal_pointer (&source);
}

const char *
cli_source_accel (CliSource *source)
{
  return source->accel;
}

gint64
cli_source_deadline (CliSource *source)
{
  return source->deadline_us;
}

QmpSource *
cli_source_qmp (CliSource *source)
{
  source->lent = TRUE;
  return source->qmp;
}

QmpConnection *
cli_source_open (CliSource *source, const char *machine, const char *cpu, GError **error)
{
  return cli_source_open_accel (source, NULL, machine, cpu, error);
}

QmpConnection *
cli_source_open_accel (CliSource *source, const char *accel, const char *machine,
                       const char *cpu, GError **error)
{
  QemuLaunchOptions launch = {
    .machine = machine,
    .accel = accel != NULL ? accel : source->accel,
    .cpu = cpu,
  };
  g_autoptr (GError) local_error = NULL;
  QmpConnection *connection;

  connection = qmp_source_open (source->qmp, &launch, source->deadline_us, &local_error);
  if (connection == NULL)
    {
      const char *where = qmp_source_describe (source->qmp);
      /* The launcher names its binary; a socket or a recording may go unnamed. */
      if (strstr (local_error->message, where) == NULL)
        g_prefix_error (&local_error, "%s: ", where);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  /* Only the greeting knows the version, so the recording learns it from the first session. */
  if (source->n_opened++ == 0 && source->recorder != NULL)
    {
      QmpSession *session = qmp_connection_session (connection);
      g_autofree char *version = qmp_version_to_string (qmp_session_get_version (session));

      set_meta_string (source->recorder, "qemu-version", version);
      set_meta_string (source->recorder, "qemu-package", qmp_session_package (session));
      set_meta_string (source->recorder, "accel", launch.accel);
    }
  return connection;
}

gboolean
cli_source_close (CliSource *source, QmpConnection *connection, GError **error)
{
  return qmp_connection_close (connection, error);
}

gboolean
cli_source_shape_matched (CliSource *source)
{
  return qmp_source_shape_matched (source->qmp);
}

const char *
cli_source_replay_file (CliSource *source)
{
  return qmp_source_kind (source->qmp) == QMP_SOURCE_REPLAY && !source->from_profile
         ? qmp_source_describe (source->qmp) : NULL;
}

void
cli_source_add_replay_json (CliSource *source, json_object *document)
{
  json_object *replay;

  if (cli_source_replay_file (source) == NULL)
    return;
  replay = json_object_new_object ();
  json_object_object_add (replay, "file", json_object_new_string (cli_source_replay_file (source)));
  json_object_object_add (replay, "shape_matched",
                          json_object_new_boolean (cli_source_shape_matched (source)));
  json_object_object_add (document, "replay", replay);
}

void
cli_source_add_replay_text (CliSource *source, GString *out)
{
  if (cli_source_replay_file (source) != NULL && cli_source_shape_matched (source))
    g_string_append_printf (out, "replayed from %s (replies matched by shape: libvirt's "
                                 "replies-only layout)\n", cli_source_replay_file (source));
}

static gboolean
write_recording (CliSource *source, GError **error)
{
  if (source->recorder == NULL || (source->n_opened == 0 && !source->lent))
    return TRUE;
  if (!qmp_recorder_finish (source->recorder, error))
    {
      g_prefix_error (error, "--record: ");
      return FALSE;
    }
  return TRUE;
}

gboolean
cli_source_finish (CliSource *source, GError **error)
{
  return write_recording (source, error) && qmp_source_check_answered (source->qmp, error);
}

void
cli_source_finish_failed (CliSource *source, GError **error)
{
  g_autoptr (GError) unanswered = NULL;

  write_recording (source, NULL);
  if (!qmp_source_check_answered (source->qmp, &unanswered))
    {
      g_clear_error (error);
      g_propagate_error (error, g_steal_pointer (&unanswered));
    }
}
