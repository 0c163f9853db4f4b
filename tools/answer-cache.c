/* tools/answer-cache.c — printed answers of check and expand, kept per definition. */
#include "tools/answer-cache.h"

#include "probe/libvirt-cpu-map.h"
#include "qmp/launch.h"
#include "tools/guest-origin.h"
#include "tools/output-text.h"

void
cli_answer_cache_clear (CliAnswerCache *answers)
{
  if (answers->output != NULL)
    cli_output_capture (NULL);
  g_clear_pointer (&answers->cache, probe_cache_free);
  g_clear_pointer (&answers->key, probe_check_key_free);
  if (answers->output != NULL)
    g_string_free (g_steal_pointer (&answers->output), TRUE);
}

static gboolean
keepable (const CliOptions *options)
{
  return !options->no_cache && options->replay == NULL && options->socket == NULL
         && options->record == NULL && options->cpuid_dump == NULL && !options->debug;
}

/* Prints the answer kept for @inputs (the QEMU binary as the user named it) and sets
 * *@status: TRUE. Else starts capturing the output when it can be kept: FALSE. */
static gboolean
replay (CliAnswerCache *answers, const char *qemu_named, ProbeCheckKeyInputs *inputs,
        int *status, GError **error)
{
  g_autofree char *qemu = NULL;
  json_object *answer;
  json_object *member;

  /* A QEMU that cannot be found is the run's error to report, not the cache's. */
  qemu = qemu_find_binary (qemu_named, NULL);
  if (qemu == NULL)
    return FALSE;
  inputs->qemu_binary = qemu;
  answers->key = probe_check_key_new (inputs, NULL);
  if (answers->key == NULL)
    return FALSE;
  answers->cache = probe_cache_new (NULL);
  answer = probe_check_cache_lookup (answers->cache, answers->key, NULL);
  if (answer != NULL && json_object_object_get_ex (answer, "output", &member)
      && json_object_is_type (member, json_type_string))
    {
      gboolean printed = cli_output_print (json_object_get_string (member), error);

      *status = json_object_get_int (json_object_object_get (answer, "status"));
      json_object_put (answer);
      if (!printed)
        *status = -1;
      return TRUE;
    }
  json_object_put (answer);
  answers->output = g_string_new (NULL);
  cli_output_capture (answers->output);
  return FALSE;
}

gboolean
cli_answer_cache_replay (CliAnswerCache *answers, const CliOptions *options, const char *command,
                         const char *argument, const CpuDef *def, gboolean strict, int *status,
                         GError **error)
{
  g_autofree char *definition = NULL;
  g_autofree char *settings = NULL;
  CliGuestOrigin origin;

  *status = -1;
  if (!keepable (options))
    return FALSE;
  /* The domain's QEMU, accelerator and machine type, as the run itself will take them. */
  cli_guest_origin_init (&origin, options, def);
  definition = probe_check_definition_text (def);
  /* The argument itself too: the text names the file it read. */
  settings = g_strdup_printf ("%s; strict %d; format %d; method %d; argument %s", command,
                              strict, options->format, options->method, argument);
  {
    ProbeCheckKeyInputs inputs = {
      .definition = definition,
      .accel = origin.options.accel,
      .machine = origin.options.machine,
      .cpu_map = options->cpu_map != NULL ? options->cpu_map : LIBVIRT_CPU_MAP_DEFAULT_DIR,
      .settings = settings,
    };

    return replay (answers, origin.options.qemu, &inputs, status, error);
  }
}

gboolean
cli_answer_cache_replay_host (CliAnswerCache *answers, const CliOptions *options, int *status,
                              GError **error)
{
  g_autofree char *online = NULL;
  g_autofree char *settings = NULL;

  *status = -1;
  /* The JSON says where each accelerator's facts came from, which a kept answer would
   * repeat rather than say. */
  if (!keepable (options) || options->format == CLI_FORMAT_JSON)
    return FALSE;
  /* The key reads the CPU it runs on; the report covers every online CPU. */
  if (!g_file_get_contents ("/sys/devices/system/cpu/online", &online, NULL, NULL))
    return FALSE;
  settings = g_strdup_printf ("host; format %d; method %d; online CPUs %s", options->format,
                              options->method, g_strstrip (online));
  {
    ProbeCheckKeyInputs inputs = {
      .definition = "host",
      .accel = options->accel,
      .machine = options->machine,
      .cpu_map = options->cpu_map != NULL ? options->cpu_map : LIBVIRT_CPU_MAP_DEFAULT_DIR,
      .settings = settings,
    };

    return replay (answers, options->qemu, &inputs, status, error);
  }
}

void
cli_answer_cache_keep (CliAnswerCache *answers, int status)
{
  json_object *answer;

  if (answers->key == NULL || answers->output == NULL)
    return;
  cli_output_capture (NULL);
  answer = json_object_new_object ();
  json_object_object_add (answer, "status", json_object_new_int (status));
  json_object_object_add (answer, "output", json_object_new_string_len (answers->output->str,
                                                                         (int) answers->output->len));
  probe_check_cache_store (answers->cache, answers->key, answer, NULL);
  json_object_put (answer);
}
