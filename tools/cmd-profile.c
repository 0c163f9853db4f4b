/* tools/cmd-profile.c — `vcpuprobe profile [--output FILE]`: this host's profile
 * (probe/profile.h), to stdout or written atomically to FILE. */
#include <string.h>
#include "probe/profile.h"
#include "probe/qemu-info.h"
#include "tools/commands.h"
#include "tools/output-text.h"
#include "tools/progress.h"
#include "tools/qmp-source.h"
#include "x86/cpu-identity.h"
#include "x86/host-cpuid.h"
#include "x86/kvm-cpuid.h"

/* The machine types every profile covers: "none" (host, models, the baseline), and the
 * probes' default "pc" with its sibling "q35"; --machine adds one. */
static const char *const default_machines[] = { "none", "pc", "q35" };
static const char *const both_accels[] = { "kvm", "tcg", NULL };

/* Recording metadata that lets a replay of `profile --record` make the same profile. */
#define META_HOST_NAME "host-name"
#define META_CPUID "host-cpuid"
#define META_DATE "date"

static void
set_meta_string (QmpRecorder *recorder, const char *key, const char *value)
{
  json_object *string = json_object_new_string (value);

  qmp_recorder_set_meta (recorder, key, string);
  json_object_put (string);
}

/* This host's CPUID of every CPU, with KVM's tables when /dev/kvm can be read. */
static X86CpuidDump *
read_this_host (GError **error)
{
  g_autoptr (X86CpuidDump) dump = x86_host_cpuid_read (-1, error);
  g_autoptr (X86KvmCpuid) kvm = NULL;

  if (dump == NULL)
    return NULL;
  kvm = x86_kvm_cpuid_read (NULL);
  if (kvm->available)
    x86_cpuid_dump_set_kvm (dump, g_steal_pointer (&kvm));
  return g_steal_pointer (&dump);
}

/* The host a replayed `profile --record` was made on: --cpuid-dump, else what the
 * recording kept of it. */
static X86CpuidDump *
read_recorded_host (const CliOptions *options, json_object *metadata, GError **error)
{
  json_object *cpuid = NULL;

  if (options->cpuid_dump != NULL)
    return x86_cpuid_dump_load (options->cpuid_dump, error);
  if (metadata == NULL || !json_object_object_get_ex (metadata, META_CPUID, &cpuid))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "--replay %s: no host CPUID in the "
                   "recording (made by `profile --record`?): give --cpuid-dump", options->replay);
      return NULL;
    }
  return x86_cpuid_dump_from_json (cpuid, options->replay, error);
}

static const char *
recorded_string (json_object *metadata, const char *key, const char *fallback)
{
  json_object *value = NULL;

  if (metadata != NULL && json_object_object_get_ex (metadata, key, &value)
      && json_object_is_type (value, json_type_string))
    return json_object_get_string (value);
  return fallback;
}

static gboolean
write_profile (const CliOptions *options, json_object *profile, GError **error)
{
  const char *output = cli_options_command_value (options, "output");
  const char *text = json_object_to_json_string_ext (profile, JSON_C_TO_STRING_PLAIN
                                                              | JSON_C_TO_STRING_NOSLASHESCAPE);
  g_autofree char *line = g_strconcat (text, "\n", NULL);

  if (output == NULL)
    return cli_output_print (line, error);
  /* g_file_set_contents() writes a temporary file and renames it: never half a profile. */
  if (!g_file_set_contents (output, line, -1, error))
    {
      g_prefix_error (error, "--output: ");
      return FALSE;
    }
  return TRUE;
}

static int
run_profile (const CliOptions *options, GError **error)
{
  CliOptions unrecorded = *options;
  g_autoptr (CliSource) source = NULL;
  g_autoptr (QmpRecorder) recorder = NULL;
  g_autoptr (X86CpuidDump) cpuid = NULL;
  g_autoptr (QmpReplies) recording = NULL;
  g_autoptr (ProbeJson) profile = NULL;
  g_autoptr (ProbeJson) cpuid_json = NULL;
  g_autoptr (ProbeJson) facts = NULL;
  g_autoptr (GPtrArray) machines = g_ptr_array_new ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *now_text = g_date_time_format_iso8601 (now);
  const char *single_accel[] = { options->accel, NULL };
  const char *const *accels = options->accel != NULL ? single_accel : both_accels;
  json_object *recorded_meta = NULL;
  const char *host_name, *made;
  QmpSource *qmp;

  /* The recording is this command's own: --record writes it, else it stays in memory. */
  unrecorded.record = NULL;
  source = cli_source_new (&unrecorded, error);
  if (source == NULL)
    return -1;
  qmp = cli_source_qmp (source);
  if (qmp_source_kind (qmp) == QMP_SOURCE_SOCKET)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "--socket %s: a profile starts QEMU "
                   "under every accelerator and machine type; a running QEMU cannot",
                   options->socket);
      return -1;
    }
  if (qmp_source_kind (qmp) == QMP_SOURCE_REPLAY)
    {
      recorded_meta = qmp_replies_metadata (qmp_source_replies (qmp));
      /* A profile recorded under one accelerator is remade under that one: asked for the
       * other as well, the session that measures the dependencies would be one the
       * recording lacks, and the profile would differ from the one recorded. */
      if (options->accel == NULL && qmp_source_recorded_accel (qmp) != NULL)
        {
          single_accel[0] = qmp_source_recorded_accel (qmp);
          accels = single_accel;
        }
    }
  cpuid = recorded_meta != NULL || options->replay != NULL
          ? read_recorded_host (options, recorded_meta, error)
          : options->cpuid_dump != NULL ? x86_cpuid_dump_load (options->cpuid_dump, error)
                                        : read_this_host (error);
  if (cpuid == NULL)
    return -1;
  host_name = recorded_string (recorded_meta, META_HOST_NAME, g_get_host_name ());
  made = recorded_string (recorded_meta, META_DATE, now_text);

  recorder = qmp_recorder_new (options->record != NULL ? options->record
                                                      : "(the profile's conversation)");
  qmp_source_set_recorder (qmp, recorder);
  set_meta_string (recorder, "qemu-binary", qmp_source_describe (qmp));
  set_meta_string (recorder, META_DATE, made);
  set_meta_string (recorder, META_HOST_NAME, host_name);
  cpuid_json = x86_cpuid_dump_to_json (cpuid);
  qmp_recorder_set_meta (recorder, META_CPUID, cpuid_json);

  for (guint i = 0; i < G_N_ELEMENTS (default_machines); i++)
    g_ptr_array_add (machines, (gpointer) default_machines[i]);
  if (options->machine != NULL
      && !g_ptr_array_find_with_equal_func (machines, options->machine, g_str_equal, NULL))
    g_ptr_array_add (machines, options->machine);
  g_ptr_array_add (machines, NULL);

  {
    g_autoptr (CliProgress) progress = cli_progress_new ("profiling QEMU sessions");
    gboolean gathered = probe_profile_gather (
      qmp, accels,
      (const char *const *) machines->pdata, cli_source_deadline (source),
      cli_progress_report, progress, &facts, error);

    if (!gathered)
      return -1;
  }
  if (options->record != NULL)
    recording = qmp_recorder_finish (recorder, error) ? qmp_replies_load (options->record, error)
                                                      : NULL;
  else
    recording = qmp_recorder_finish_in_memory (recorder, error);
  if (recording == NULL)
    return -1;
  {
    ProbeProfileParts parts = {
      .host = host_name,
      .made = made,
      .qemu_binary = recorded_string (recorded_meta, "qemu-binary", qmp_source_describe (qmp)),
      .cpuid = cpuid,
      .recording = recording,
      .facts = facts,
    };

    profile = probe_profile_build (&parts, error);
  }
  if (profile == NULL || !write_profile (options, profile, error))
    return -1;
  return CLI_EXIT_OK;
}

static const CliCommandOption profile_options[] = {
  { "output", "FILE" },
  { NULL, NULL },
};

const CliCommand cli_command_profile = {
  .name = "profile",
  .arg_names = NULL,
  .min_args = 0,
  .max_args = 0,
  .options = profile_options,
  .run = run_profile,
};
