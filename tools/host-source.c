/* tools/host-source.c — a QmpSource from the command line, for multi-accelerator probes. */
#include "tools/host-source.h"

struct CliHostSource {
  QmpSource *qmp;
  QmpRecorder *recorder;
};

void
cli_host_source_free (CliHostSource *source)
{
  if (source == NULL)
    return;
  qmp_source_free (source->qmp);
  qmp_recorder_free (source->recorder);
  g_free (source);
}

static void
set_meta_string (QmpRecorder *recorder, const char *key, const char *value)
{
  qmp_recorder_set_meta (recorder, key, json_object_new_string (value));
}

CliHostSource *
cli_host_source_new (const CliOptions *options, GError **error)
{
  g_autoptr (CliHostSource) source = g_new0 (CliHostSource, 1);
  g_autoptr (GError) local_error = NULL;

  if (options->socket != NULL)
    {
      if (!g_file_test (options->socket, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "--socket %s: no such file",
                       options->socket);
          return NULL;
        }
      source->qmp = qmp_source_new_socket (options->socket);
    }
  else if (options->replay != NULL)
    source->qmp = qmp_source_new_replay (options->replay, QMP_REPLAY_AUTO, error);
  else
    {
      source->qmp = qmp_source_new_launch (options->qemu, &local_error);
      /* A --qemu that names no executable is the user's input; a QEMU missing from PATH is not. */
      if (source->qmp == NULL && options->qemu != NULL)
        g_set_error_literal (error, CLI_ERROR, CLI_ERROR_INPUT, local_error->message);
      else if (source->qmp == NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
    }
  if (source->qmp == NULL)
    return NULL;

  qmp_source_set_debug (source->qmp, options->debug);
  if (options->record != NULL)
    {
      json_object *argv = json_object_new_array ();
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *date = g_date_time_format_iso8601 (now);

      source->recorder = qmp_recorder_new (options->record);
      qmp_source_set_recorder (source->qmp, source->recorder);
      for (guint i = 0; i < options->argv->len; i++)
        json_object_array_add (argv, json_object_new_string (options->argv->pdata[i]));
      qmp_recorder_set_meta (source->recorder, "argv", argv);
      set_meta_string (source->recorder, "qemu-binary", qmp_source_describe (source->qmp));
      set_meta_string (source->recorder, "date", date);
    }
  return g_steal_pointer (&source);
}

QmpSource *
cli_host_source_qmp (CliHostSource *source)
{
  return source->qmp;
}

gboolean
cli_host_source_finish (CliHostSource *source, GError **error)
{
  if (source->recorder == NULL)
    return TRUE;
  if (!qmp_recorder_finish (source->recorder, error))
    {
      g_prefix_error (error, "--record: ");
      return FALSE;
    }
  return TRUE;
}
