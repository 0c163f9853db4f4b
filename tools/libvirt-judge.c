/* tools/libvirt-judge.c — the rule that judges a check or expand (tools/libvirt-judge.h). */
#include "tools/libvirt-judge.h"

#include <string.h>
#include "qmp/launch.h"

void
cli_judge_clear (CliJudge *judge)
{
  g_clear_pointer (&judge->map, libvirt_cpu_map_free);
  g_clear_pointer (&judge->no_map_reason, g_free);
  g_clear_pointer (&judge->original, cpu_def_free);
  g_clear_pointer (&judge->started, cpu_def_free);
  g_clear_pointer (&judge->verdict, libvirt_verdict_free);
}

gboolean
cli_judge_start (CliJudge *judge, const CliOptions *options, const char *argument,
                 const CpuDef *def, GError **error)
{
  g_autofree char *index = NULL;

  memset (judge, 0, sizeof *judge);
  /* cpu_def_from_argument() reads a libvirt definition exactly when the argument is a file. */
  judge->libvirt_input = g_file_test (argument, G_FILE_TEST_IS_REGULAR);
  if (options->cpu_map != NULL)
    {
      judge->map = libvirt_cpu_map_load (options->cpu_map, error);
      if (judge->map == NULL)
        return FALSE;
    }
  if (!judge->libvirt_input)
    {
      g_clear_pointer (&judge->map, libvirt_cpu_map_free);
      return TRUE;
    }
  judge->original = cpu_def_copy (def);
  if (judge->map != NULL)
    return TRUE;
  index = g_build_filename (LIBVIRT_CPU_MAP_DEFAULT_DIR, "index.xml", NULL);
  if (!g_file_test (index, G_FILE_TEST_EXISTS))
    {
      judge->no_map_reason = g_strdup_printf ("no libvirt CPU map at %s (give one with --cpu-map)",
                                              LIBVIRT_CPU_MAP_DEFAULT_DIR);
      return TRUE;
    }
  judge->map = libvirt_cpu_map_load (LIBVIRT_CPU_MAP_DEFAULT_DIR, error);
  return judge->map != NULL;
}

CpuDef *
cli_judge_definition_to_probe (const CliJudge *judge, const CpuDef *def)
{
  return judge->map != NULL ? libvirt_rules_qemu_definition (def, judge->map) : cpu_def_copy (def);
}

/* What the probe found, as libvirt's rules take it (borrowed from @result). */
static LibvirtGuestFacts
guest_facts_of (const ProbeResult *result)
{
  LibvirtGuestFacts facts = {
    .accel = result->accel,
    .guest = &result->guest,
    .filtered = &result->filtered,
    .supported_known = result->supported_known,
    .supported = &result->supported,
    .unknown_to_qemu = &result->unknown_to_qemu,
    .host_vendor = result->supported_vendor,
    .added = result->diff->added,
    .removed = result->diff->removed,
  };

  return facts;
}

void
cli_judge_finish (CliJudge *judge, const CpuDef *started, const ProbeResult *result,
                  const X86CpuidDump *cpuid_dump, gboolean qemu_is_local)
{
  g_autoptr (ProbeHostLayers) layers = NULL;
  const ProbeHostLayers *host = result->layers;
  LibvirtGuestFacts facts = guest_facts_of (result);

  facts.written = judge->original;

  if (judge->map == NULL)
    return;
  /* Under kvm, check='partial' compares with the host's own CPUID as well. */
  if (g_strcmp0 (result->accel, "kvm") == 0
      && libvirt_rules_effective_check (started, result->accel) == CPU_CHECK_PARTIAL
      && (host == NULL || !host->hardware_known))
    {
      g_autoptr (GError) error = NULL;

      /* CPUID that cannot be read leaves QEMU's supported set to stand alone, which can
       * only make check='partial' stricter than libvirt, never let a refused CPU pass. */
      layers = probe_host_layers_read (cpuid_dump, qemu_is_local, &error);
      host = layers;
    }
  if (host != NULL && host->hardware_known)
    facts.host_cpuid = &host->hardware;
  g_clear_pointer (&judge->verdict, libvirt_verdict_free);
  g_clear_pointer (&judge->started, cpu_def_free);
  judge->started = cpu_def_copy (started);
  judge->verdict = libvirt_rules_judge (started, judge->map, &facts);
  judge->updated_guest = result->guest;
}

void
cli_judge_confirm_start (CliJudge *judge, const ProbeOptions *options, const ProbeResult *result)
{
  g_autoptr (CpuDef) asked = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GPtrArray) started = NULL;
  const ProbeStartedCpu *cpu;
  ProbeOptions start_options;

  if (judge->verdict == NULL || judge->verdict->refused_before_start
      || g_strcmp0 (result->accel, "kvm") != 0 || !options->qemu_is_local
      || !options->sessions_are_new)
    return;
  asked = libvirt_rules_qemu_definition (judge->started, judge->map);
  line = cpu_def_to_qemu_cpu_string (asked, !qmp_version_at_least (&result->version, 2, 9, 0));
  if (line == NULL)
    return;
  start_options = *options;
  start_options.machine = result->machine;
  started = probe_start_cpus (&start_options, (const char *const[]) { line, NULL });
  cpu = started->len > 0 ? g_ptr_array_index (started, 0) : NULL;
  if (cpu == NULL || cpu->error == NULL)
    {
      judge->start_confirmed = "started";
      return;
    }
  if (!g_error_matches (cpu->error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_EXITED))
    {
      /* A start that timed out or could not be read says nothing about the CPU. */
      judge->start_confirmed = "unknown";
      return;
    }
  judge->start_confirmed = "refused";
  {
    g_autofree char *message = g_strdup_printf ("QEMU exited while starting the CPU: %s",
                                                cpu->error->message);

    libvirt_verdict_refuse_start (judge->verdict, message);
  }
}

/* Pins on @updated the named features where @got (what it gives) and @wanted differ:
 * those only got disabled, those only wanted required. FALSE when no difference has a
 * name libvirt's map knows, so nothing changed. */
static gboolean
pin_differences (CpuDef *updated, const LibvirtCpuMap *map, const X86FeatureSet *got,
                 const X86FeatureSet *wanted)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);
  gboolean changed = FALSE;

  for (guint i = 0; i < n_features; i++)
    {
      gboolean in_got = x86_feature_set_has (got, &features[i]);

      if (in_got == x86_feature_set_has (wanted, &features[i])
          || libvirt_cpu_map_feature_of (map, &features[i]) == NULL)
        continue;
      cpu_def_set_policy (updated, &features[i], in_got ? CPU_POLICY_DISABLE : CPU_POLICY_REQUIRE);
      changed = TRUE;
    }
  return changed;
}

/* Stand-ins tried for a model the map lacks before the update is left as it stands. */
#define MAX_STAND_INS 4

/* The updated definition's guest, probed: NULL when the probe fails. A model this QEMU
 * lacks (a map model QEMU dropped, as Icelake-Client) gives way to the next nearest. */
static ProbeResult *
probe_updated (CliJudge *judge, const ProbeOptions *options)
{
  g_autoptr (GPtrArray) nearest = NULL;
  guint next = 0;

  for (;;)
    {
      g_autoptr (CpuDef) asked = libvirt_rules_qemu_definition (judge->verdict->updated,
                                                                 judge->map);
      g_autoptr (GError) error = NULL;
      ProbeResult *result = probe_run (asked, options, &error);

      if (result != NULL || !g_error_matches (error, PROBE_ERROR, PROBE_ERROR_UNKNOWN_MODEL)
          || libvirt_cpu_map_find_model (judge->map, judge->started->model) != NULL)
        return result;
      if (nearest == NULL)
        nearest = libvirt_rules_models_nearest (judge->map, &judge->updated_guest);
      while (next < nearest->len
             && g_strcmp0 (nearest->pdata[next], judge->verdict->updated->model) == 0)
        next++;
      if (next >= nearest->len || next >= MAX_STAND_INS)
        return NULL;
      g_free (judge->verdict->updated->model);
      judge->verdict->updated->model = g_strdup (nearest->pdata[next++]);
    }
}

void
cli_judge_settle_updated (CliJudge *judge, const ProbeOptions *options, gboolean computed)
{
  X86FeatureSet wanted;

  if (judge->verdict == NULL || !(options->qemu_is_local || computed)
      || !options->sessions_are_new
      || g_strcmp0 (judge->verdict->updated->model, judge->started->model) == 0)
    return;
  wanted = judge->updated_guest;
  /* Each round pins what the last probe showed differing; two settle every case met
   * (compat properties of the machine type, a stand-in model's own features). */
  for (guint round = 0; round < 3; round++)
    {
      g_autoptr (ProbeResult) result = probe_updated (judge, options);
      g_autoptr (LibvirtVerdict) again = NULL;

      if (result == NULL)
        return;
      if (round < 2 && pin_differences (judge->verdict->updated, judge->map, &result->guest,
                                        &wanted))
        continue;
      {
        LibvirtGuestFacts facts = guest_facts_of (result);

        again = libvirt_rules_judge (judge->verdict->updated, judge->map, &facts);
      }
      cpu_def_free (judge->verdict->updated);
      judge->verdict->updated = g_steal_pointer (&again->updated);
      judge->updated_guest = result->guest;
      return;
    }
}

gboolean
cli_judge_pass (const CliJudge *judge, const ProbeResult *result)
{
  return judge->verdict != NULL ? judge->verdict->pass : result->diff->pass;
}

/* ---- JSON ---- */

static json_object *
features_json (const CpuDef *def)
{
  json_object *features = json_object_new_object ();

  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);

      json_object_object_add (features, entry->feature->name,
                              json_object_new_string (cpu_policy_name (entry->policy)));
    }
  return features;
}

/* {"model", "features"} with QEMU's canonical names, as DESIGN.md §4 has them; with
 * @whole, the whole definition too, as probe_result_to_json() writes it. */
static json_object *
definition_json (const CpuDef *def, gboolean whole)
{
  json_object *object = json_object_new_object ();

  json_object_object_add (object, "model", def->model != NULL ? json_object_new_string (def->model)
                                                              : NULL);
  json_object_object_add (object, "features", features_json (def));
  if (whole)
    json_object_object_add (object, "definition", cpu_def_to_json (def));
  return object;
}

void
cli_judge_amend_json (const CliJudge *judge, json_object *root)
{
  const LibvirtVerdict *verdict = judge->verdict;
  json_object *libvirt, *xml, *qemu_model, *problems, *old;
  g_autofree char *cpu_string = NULL;
  g_autoptr (CpuDef) asked = NULL;

  json_object_object_add (root, "rule", json_object_new_string (
                            libvirt_rule_name (verdict != NULL ? verdict->rule
                                                               : LIBVIRT_RULE_QEMU_MODEL)));
  json_object_object_add (root, "libvirt_map_note", judge->no_map_reason != NULL
                          ? json_object_new_string (judge->no_map_reason) : NULL);
  if (verdict == NULL)
    {
      json_object_object_add (root, "libvirt", NULL);
      return;
    }

  libvirt = libvirt_verdict_to_json (verdict, judge->map);
  asked = libvirt_rules_qemu_definition (judge->started, judge->map);
  cpu_string = cpu_def_to_qemu_cpu_string (asked, FALSE);
  json_object_object_add (libvirt, "cpu_string", cpu_string != NULL
                          ? json_object_new_string (cpu_string) : NULL);
  json_object_object_add (libvirt, "updated_guest",
                          x86_feature_set_to_names_json (&judge->updated_guest));
  json_object_object_add (libvirt, "start_confirmed", judge->start_confirmed != NULL
                          ? json_object_new_string (judge->start_confirmed) : NULL);
  json_object_object_add (root, "libvirt", libvirt);

  /* QEMU's model judged too: that judgement stays, under its own name. */
  qemu_model = json_object_new_object ();
  if (json_object_object_get_ex (root, "verdict", &old))
    json_object_object_add (qemu_model, "verdict", json_object_get (old));
  if (json_object_object_get_ex (root, "problems", &old))
    json_object_object_add (qemu_model, "problems", json_object_get (old));
  json_object_object_add (root, "qemu_model", qemu_model);

  json_object_object_add (root, "verdict", json_object_new_string (verdict->pass ? "pass" : "fail"));
  problems = json_object_new_array ();
  if (verdict->message != NULL)
    json_object_array_add (problems, json_object_new_string (verdict->message));
  json_object_object_add (root, "problems", problems);

  /* The probe was asked for what libvirt passes QEMU; the user asked for the original. */
  json_object_object_add (root, "requested", definition_json (judge->original, FALSE));
  json_object_object_add (root, "original", definition_json (judge->original, TRUE));
  json_object_object_add (root, "updated", definition_json (verdict->updated, TRUE));
  /* The -cpu that reproduces the guest: the one libvirt builds for the updated definition. */
  {
    g_autoptr (CpuDef) updated_asked = libvirt_rules_qemu_definition (verdict->updated, judge->map);
    g_autofree char *updated_line = cpu_def_to_qemu_cpu_string (updated_asked, FALSE);

    json_object_object_add (root, "cpu_string", updated_line != NULL
                            ? json_object_new_string (updated_line) : NULL);
  }
  if (json_object_object_get_ex (root, "xml", &xml))
    {
      g_autofree char *original_xml = cpu_def_to_xml (judge->original);
      g_autofree char *updated_xml = libvirt_verdict_updated_xml (verdict, judge->map);

      json_object_object_add (xml, "original", json_object_new_string (original_xml));
      json_object_object_add (xml, "updated", json_object_new_string (updated_xml));
    }
}

/* ---- Text and XML ---- */

static void
names_line (GString *out, const char *title, const LibvirtCpuMap *map, const X86FeatureSet *set)
{
  g_autoptr (GPtrArray) names = libvirt_rules_feature_names (map, set);

  if (names->len == 0)
    return;
  g_string_append_printf (out, "  %s:", title);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (out, " %s", (char *) g_ptr_array_index (names, i));
  g_string_append_c (out, '\n');
}

gboolean
cli_judge_text (const CliJudge *judge, gboolean is_check, GString *out)
{
  const LibvirtVerdict *verdict = judge->verdict;
  g_autofree char *updated_xml = NULL;
  g_autoptr (CpuDef) asked = NULL;
  g_autofree char *cpu_string = NULL;

  if (verdict == NULL)
    {
      g_string_append_printf (out, "\nRule: %s%s%s\n", libvirt_rule_name (LIBVIRT_RULE_QEMU_MODEL),
                              judge->no_map_reason != NULL ? ", " : "",
                              judge->no_map_reason != NULL ? judge->no_map_reason : "");
      return FALSE;
    }
  asked = libvirt_rules_qemu_definition (judge->started, judge->map);
  cpu_string = cpu_def_to_qemu_cpu_string (asked, FALSE);
  g_string_append_printf (out, "\nRule: %s (check='%s'%s, libvirt CPU map %s)\n",
                          libvirt_rule_name (verdict->rule), cpu_check_name (verdict->check),
                          verdict->check_defaulted ? ", libvirt's default" : "",
                          libvirt_cpu_map_path (judge->map));
  if (cpu_string != NULL)
    g_string_append_printf (out, "libvirt passes QEMU: -cpu %s\n", cpu_string);
  g_string_append_printf (out, "%s: %s\n", is_check ? "Verdict" : "Verdict of libvirt's check",
                          verdict->pass ? "pass" : "fail");
  if (verdict->message != NULL)
    g_string_append_printf (out, "  %s\n", verdict->message);
  /* Worked out whatever the check: the updated definition is made of them. */
  names_line (out, verdict->rule == LIBVIRT_RULE_CHECK_FULL ? "extra features"
                   : "extra features under check='full'", judge->map, &verdict->extra);
  names_line (out, verdict->rule == LIBVIRT_RULE_CHECK_FULL ? "missing features"
                   : "missing features under check='full'", judge->map, &verdict->missing);
  names_line (out, "differences libvirt cannot name, added", judge->map, &verdict->unnamed_added);
  names_line (out, "differences libvirt cannot name, removed", judge->map,
              &verdict->unnamed_removed);
  updated_xml = libvirt_verdict_updated_xml (verdict, judge->map);
  g_string_append_printf (out, "\nUpdated definition (libvirt starts it with check='full'):\n%s",
                          updated_xml);
  return TRUE;
}

gboolean
cli_judge_xml (const CliJudge *judge, GString *out)
{
  g_autofree char *updated_xml = NULL;
  g_autofree char *original_xml = NULL;

  if (judge->verdict == NULL)
    return FALSE;
  updated_xml = libvirt_verdict_updated_xml (judge->verdict, judge->map);
  original_xml = cpu_def_to_xml (judge->original);
  g_string_append (out, updated_xml);
  g_string_append_printf (out, "<!-- verdict (%s): %s; original definition:\n%s-->\n",
                          libvirt_rule_name (judge->verdict->rule),
                          judge->verdict->pass ? "pass" : "fail", original_xml);
  return TRUE;
}
