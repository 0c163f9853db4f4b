/* tools/cmd-expand.c — `vcpuprobe expand CPU`: the guest CPU QEMU will create for CPU, what
 * it adds and removes and why, and the original and updated definitions. `check` runs the
 * same probe and only exits differently (tools/cmd-check.c). */
#include "tools/cmd-expand.h"

#include <string.h>
#include "probe/libvirt-host-model.h"
#include "probe/probe.h"
#include "probe/profile.h"
#include "qmp/launch.h"
#include "tools/answer-cache.h"
#include "tools/commands.h"
#include "tools/cpu-mode.h"
#include "tools/guest-origin.h"
#include "tools/libvirt-judge.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "tools/qmp-source.h"
#include "x86/cpuid-dump.h"
#include "x86/kvm-cpuid.h"

static const ProbeMethod methods[] = {
  [CLI_METHOD_AUTO] = PROBE_METHOD_AUTO,
  [CLI_METHOD_EXPANSION] = PROBE_METHOD_EXPANSION,
  [CLI_METHOD_POST_START] = PROBE_METHOD_POST_START,
};

/* Errors about the CPU argument are the user's input (exit 2); the layers below report
 * them in their own domains, which cli_exit_for_error() leaves to QEMU failures. A
 * definition the probe cannot run says so without naming the file it came from. */
static void
classify_input_error (GError *error, const char *argument)
{
  if (error == NULL)
    return;
  if (error->domain == CPU_DEF_ERROR
      || g_error_matches (error, PROBE_ERROR, PROBE_ERROR_UNKNOWN_MODEL)
      || g_error_matches (error, PROBE_ERROR, PROBE_ERROR_BAD_INPUT))
    {
      if (error->domain == PROBE_ERROR && strstr (error->message, argument) == NULL)
        g_prefix_error (&error, "%s: ", argument);
      error->domain = CLI_ERROR;
      error->code = CLI_ERROR_USAGE;
    }
}

/* The accelerator of the guest: --accel; for a recording, the one its guest session ran
 * (a check records a tcg baseline beside it, on machine "none"); else this host's. */
static const char *
guest_accel (const CliOptions *options, QmpSource *source)
{
  QmpReplies *replies = qmp_source_replies (source);

  if (options->accel != NULL)
    return options->accel;
  if (replies != NULL)
    {
      const char *recorded = qmp_source_recorded_accel (source);

      if (recorded != NULL)
        return recorded;
      for (guint i = 0; i < qmp_replies_n_segments (replies); i++)
        {
          json_object *launch = qmp_replies_segment_launch (replies, i);
          json_object *machine, *accel;

          if (launch != NULL && json_object_object_get_ex (launch, "machine", &machine)
              && g_strcmp0 (json_object_get_string (machine), "none") != 0
              && json_object_object_get_ex (launch, "accel", &accel)
              && json_object_is_type (accel, json_type_string))
            return json_object_get_string (accel);
        }
    }
  return qemu_default_accel ();
}

/* ---- text ---- */

static void
changes_text (GString *out, const char *title, GArray *changes)
{
  if (changes->len == 0)
    {
      g_string_append_printf (out, "%s: none\n", title);
      return;
    }
  g_string_append_printf (out, "%s:\n", title);
  for (guint i = 0; i < changes->len; i++)
    {
      const ProbeChange *change = &g_array_index (changes, ProbeChange, i);

      g_string_append_printf (out, "  %-24s %-14s %s\n", change->feature->name,
                              probe_reason_name (change->reason),
                              change->detail != NULL ? change->detail : "");
    }
}

static void
result_text (GString *out, CliSource *source, const ProbeResult *result, const CliJudge *judge,
             gboolean is_check)
{
  g_autofree char *version = qmp_version_to_string (&result->version);
  g_autofree char *updated_xml = cpu_def_to_xml (result->updated);
  g_autoptr (GPtrArray) enabled = x86_feature_set_to_names (&result->guest, FALSE);

  g_string_append_printf (out, "QEMU %s%s%s, accel %s, machine %s, method %s\n", version,
                          result->binary != NULL ? " " : "",
                          result->binary != NULL ? result->binary : "", result->accel,
                          result->machine, probe_method_name (result->method));
  /* The probe never reads this machine's /dev/kvm for a recording made elsewhere. */
  if (cli_source_replay_file (source) != NULL && g_strcmp0 (result->accel, "kvm") == 0)
    g_string_append_printf (out, "KVM: not read (replayed from %s)\n",
                            cli_source_replay_file (source));
  g_string_append_printf (out, "Requested %s, guest model %s\n",
                          result->requested->model != NULL ? result->requested->model
                                                           : cpu_mode_name (result->requested->mode),
                          result->guest_model);
  if (!result->baseline_known)
    g_string_append (out, "No baseline QEMU: reasons that depend on the plain model are "
                          "not told apart\n");
  g_string_append_printf (out, "Guest features (%u):", enabled->len);
  for (guint i = 0; i < enabled->len; i++)
    g_string_append_printf (out, " %s", (char *) g_ptr_array_index (enabled, i));
  g_string_append (out, "\n\n");

  changes_text (out, "Added (in the guest, not in the definition)", result->diff->added);
  changes_text (out, "Removed (in the definition, not in the guest)", result->diff->removed);
  if (result->diff->emulated->len > 0)
    changes_text (out, "Emulated (in the guest, not in the silicon)", result->diff->emulated);
  if (cli_judge_text (judge, is_check, out))
    return;
  g_string_append_printf (out, "\n%s: %s\n", is_check ? "Verdict" : "Verdict for check='full'",
                          result->diff->pass ? "pass" : "fail");
  for (guint i = 0; i < result->diff->problems->len; i++)
    g_string_append_printf (out, "  %s\n", (char *) g_ptr_array_index (result->diff->problems, i));
  g_string_append_printf (out, "\nUpdated definition (-cpu %s):\n%s", result->cpu_string,
                          updated_xml);
}

/* ---- XML: the updated <cpu>, then the original in a comment ---- */

static void
result_xml (GString *out, const ProbeResult *result)
{
  g_autofree char *updated_xml = cpu_def_to_xml (result->updated);
  g_autofree char *original_xml = cpu_def_to_xml (result->requested);

  g_string_append (out, updated_xml);
  g_string_append_printf (out, "<!-- verdict: %s; original definition:\n%s-->\n",
                          result->diff->pass ? "pass" : "fail", original_xml);
}

static gboolean
print_result (const CliOptions *options, const CliGuestOrigin *origin, CliSource *source,
              const ProbeResult *result, const CliJudge *judge, gboolean is_check,
              GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  switch (options->format)
    {
    case CLI_FORMAT_JSON:
      {
        json_object *json = probe_result_to_json (result);
        gboolean printed;

        cli_source_add_replay_json (source, json);
        cli_guest_origin_add_json (origin, json);
        cli_judge_amend_json (judge, json);
        printed = cli_json_print (json, error);

        json_object_put (json);
        return printed;
      }
    case CLI_FORMAT_XML:
      if (!cli_judge_xml (judge, out))
        result_xml (out, result);
      break;
    case CLI_FORMAT_TEXT:
    default:
      cli_source_add_replay_text (source, out);
      cli_guest_origin_add_text (origin, out);
      result_text (out, source, result, judge, is_check);
      break;
    }
  return cli_output_print (out->str, error);
}

/* check's answer for a definition libvirt refuses before it runs QEMU: there is no guest
 * to show, only libvirt's reason. */
static gboolean
print_refusal (const CliOptions *options, const CliGuestOrigin *origin, const char *refusal,
               GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  switch (options->format)
    {
    case CLI_FORMAT_JSON:
      {
        json_object *json = json_object_new_object ();
        json_object *problems = json_object_new_array ();
        gboolean printed;

        json_object_array_add (problems, json_object_new_string (refusal));
        json_object_object_add (json, "accel", json_object_new_string (options->accel));
        json_object_object_add (json, "rule", json_object_new_string ("libvirt-refuses"));
        json_object_object_add (json, "verdict", json_object_new_string ("fail"));
        json_object_object_add (json, "problems", problems);
        cli_guest_origin_add_json (origin, json);
        printed = cli_json_print (json, error);
        json_object_put (json);
        return printed;
      }
    case CLI_FORMAT_XML:
      g_string_append_printf (out, "<!-- %s -->\n", refusal);
      break;
    case CLI_FORMAT_TEXT:
    default:
      cli_guest_origin_add_text (origin, out);
      g_string_append_printf (out, "Rule: libvirt-refuses (before it starts QEMU)\n"
                                   "Verdict: fail\n  %s\n", refusal);
      break;
    }
  return cli_output_print (out->str, error);
}

/* libvirt's refusal of a model its map knows and this QEMU lacks, under fallback='forbid'
 * ("unsupported configuration: CPU model cpu64-rhel6 is not supported by hypervisor",
 * before QEMU runs), or NULL. With fallback='allow' libvirt starts a model of its own
 * choosing instead, which is not judged here. */
static char *
unsupported_model_refusal (const CliJudge *judge, const CpuDef *started, const GError *error)
{
  if (judge->map == NULL || started == NULL || started->mode != CPU_MODE_CUSTOM
      || started->fallback != CPU_FALLBACK_FORBID || started->model == NULL
      || !g_error_matches (error, PROBE_ERROR, PROBE_ERROR_UNKNOWN_MODEL)
      || libvirt_cpu_map_find_model (judge->map, started->model) == NULL)
    return NULL;
  return g_strdup_printf ("unsupported configuration: CPU model %s is not supported by "
                          "hypervisor", started->model);
}

/* Why @dump cannot say what a vCPU of its host's KVM does with IA32_ARCH_CAPABILITIES
 * (a phrase), or NULL when it records it. */
static const char *
arch_capabilities_unrecorded (const X86CpuidDump *dump)
{
  const X86KvmCpuid *kvm = dump != NULL ? x86_cpuid_dump_kvm (dump) : NULL;

  if (kvm == NULL)
    return "is not known: the profile has no KVM of its host";
  if (kvm->arch_capabilities.write != X86_KVM_MSR_UNKNOWN)
    return NULL;
  return kvm->arch_capabilities.detail != NULL
         ? "could not be tried when the profile was made"
         : "is not recorded (a profile made before it was): make the profile again";
}

int
cli_probe_cpu_command (const CliOptions *options, gboolean is_check, gboolean strict,
                       GError **error)
{
  const char *argument = g_ptr_array_index (options->args, 0);
  g_autoptr (CpuDef) def = NULL;
  g_autoptr (CpuDef) started = NULL;
  g_autoptr (CpuDef) asked = NULL;
  g_auto (CliJudge) judge = { 0 };
  g_autoptr (CliSource) source = NULL;
  g_autoptr (ProbeResult) result = NULL;
  g_autoptr (X86CpuidDump) dump = NULL;
  const X86CpuidDump *layers_dump;
  g_auto (CliAnswerCache) answers = { 0 };
  ProbeOptions probe;
  CliGuestOrigin origin;
  const char *refusal;
  const char *unrecorded;
  g_autofree char *refusal_text = NULL;
  int status;

  def = cpu_def_from_argument (argument, error);
  if (def == NULL)
    {
      classify_input_error (*error, argument);
      return -1;
    }
  /* Asked before on this host: printed again without QEMU or libvirt's map. */
  if (cli_answer_cache_replay (&answers, options, is_check ? "check" : "expand", argument, def,
                               strict, &status, error))
    return status;
  if (!cli_judge_start (&judge, options, argument, def, error))
    return -1;
  /* A domain XML names its QEMU, accelerator and machine type; options still win. */
  cli_guest_origin_init (&origin, options, def);
  options = &origin.options;
  /* libvirt refuses some definitions before it runs QEMU: that is check's answer too. */
  refusal = is_check && g_file_test (argument, G_FILE_TEST_IS_REGULAR)
            ? libvirt_cpu_mode_refusal (def, options->accel) : NULL;
  if (refusal != NULL)
    return print_refusal (options, &origin, refusal, error) ? CLI_EXIT_MISMATCH : -1;
  /* Read once, before QEMU starts, so a bad file is reported as such and not as a layer
   * the probe could not read. */
  if (options->cpuid_dump != NULL)
    {
      dump = x86_cpuid_dump_load (options->cpuid_dump, error);
      if (dump == NULL)
        return -1;
    }
  source = cli_source_new (options, error);
  if (source == NULL)
    return -1;

  probe_options_init_source (&probe, cli_source_qmp (source), cli_source_deadline (source));
  probe.accel = guest_accel (options, cli_source_qmp (source));
  /* A profile carries its host's CPUID and KVM, as --cpuid-dump does: read only for kvm,
   * the one accelerator whose answers owe anything to the host's layers. */
  layers_dump = dump != NULL ? dump
                : options->profile != NULL && g_strcmp0 (probe.accel, "kvm") == 0
                  ? probe_profile_cpuid (options->profile)
                : NULL;
  probe.machine = options->machine;
  probe.method = methods[options->method];
  probe.strict = strict;
  probe.cpuid_dump = layers_dump;
  /* host-model: the custom CPU libvirt would start instead. */
  started = cli_resolve_cpu_mode (def, argument, probe.accel, judge.map, &origin, source, error);
  /* libvirt input: the -cpu libvirt itself would build for it. */
  asked = started != NULL ? cli_judge_definition_to_probe (&judge, started) : NULL;
  result = asked != NULL ? probe_run (asked, &probe, error) : NULL;
  refusal_text = result == NULL && is_check ? unsupported_model_refusal (&judge, started, *error)
                                            : NULL;
  if (refusal_text != NULL)
    {
      g_autoptr (GError) finish_error = NULL;

      g_clear_error (error);
      cli_source_finish_failed (source, &finish_error);
      return print_refusal (options, &origin, refusal_text, error) ? CLI_EXIT_MISMATCH : -1;
    }
  if (result == NULL)
    {
      cli_source_finish_failed (source, error);
      classify_input_error (*error, argument);
      return -1;
    }
  if (!cli_source_finish (source, error))
    return -1;
  /* Whether KVM takes IA32_ARCH_CAPABILITIES back at start decides whether QEMU starts
   * with the guest's MSR bits; a profile made before it was recorded cannot say, and a
   * guest that has the MSR is then not answered rather than guessed. */
  if (options->profile != NULL && g_strcmp0 (result->accel, "kvm") == 0
      && x86_feature_set_has (&result->guest, x86_feature_lookup ("arch-capabilities"))
      && (unrecorded = arch_capabilities_unrecorded (layers_dump)) != NULL)
    {
      g_set_error (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_UNANSWERED,
                   "%s: the profile of %s cannot answer this exactly: the guest has "
                   "arch-capabilities, and whether KVM accepts it at start %s",
                   ((const ProbeProfile *) options->profile)->path,
                   ((const ProbeProfile *) options->profile)->host, unrecorded);
      return -1;
    }
  /* A replayed QEMU has no process to name: the profile names its host's binary. */
  if (options->profile != NULL && result->binary == NULL)
    result->binary = g_strdup (((const ProbeProfile *) options->profile)->qemu_binary);
  cli_judge_finish (&judge, started, result, layers_dump, probe.qemu_is_local);
  /* Under kvm libvirt's rules settle a definition by starting QEMU on the host, which a
   * profile cannot: whether it starts, and QEMU's words when it does not, are the host's.
   * Under tcg nothing is started: the profile answers as the host would. */
  if (options->profile != NULL && judge.verdict != NULL && g_strcmp0 (result->accel, "kvm") == 0)
    {
      g_set_error (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_UNANSWERED,
                   "%s: the profile of %s cannot answer this exactly: under kvm libvirt's "
                   "rules start QEMU on the host to settle %s",
                   ((const ProbeProfile *) options->profile)->path,
                   ((const ProbeProfile *) options->profile)->host, argument);
      return -1;
    }
  cli_judge_confirm_start (&judge, &probe, result);
  cli_judge_settle_updated (&judge, &probe, options->profile != NULL);
  if (!print_result (options, &origin, source, result, &judge, is_check, error))
    return -1;
  status = is_check && !cli_judge_pass (&judge, result) ? CLI_EXIT_MISMATCH : CLI_EXIT_OK;
  cli_answer_cache_keep (&answers, status);
  return status;
}

static int
run_expand (const CliOptions *options, GError **error)
{
  return cli_probe_cpu_command (options, FALSE, FALSE, error);
}

static const char *const expand_args[] = { "CPU", NULL };

const CliCommand cli_command_expand = {
  .name = "expand",
  .arg_names = expand_args,
  .min_args = 1,
  .max_args = 1,
  .run = run_expand,
};
