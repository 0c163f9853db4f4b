/* tools/cmd-baseline.c — `vcpuprobe baseline PROFILE...`: the most capable CPU definition
 * every host of the pool gives the guest identically (probe/baseline.h), as libvirt
 * <cpu> (check='full'), JSON and a -cpu string, with what was left out and why. */
#include <string.h>
#include "probe/baseline.h"
#include "tools/commands.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "tools/progress.h"
#include "x86/feature-table.h"

/* The libvirt map that names the models and features: --cpu-map, else the installed one,
 * else none (then the definition is QEMU's, libvirt names assumed to be QEMU's). */
static LibvirtCpuMap *
load_map (const CliOptions *options, GError **error)
{
  g_autofree char *index = g_build_filename (LIBVIRT_CPU_MAP_DEFAULT_DIR, "index.xml", NULL);

  if (options->cpu_map != NULL)
    return libvirt_cpu_map_load (options->cpu_map, error);
  if (!g_file_test (index, G_FILE_TEST_EXISTS))
    return NULL;
  return libvirt_cpu_map_load (LIBVIRT_CPU_MAP_DEFAULT_DIR, error);
}

typedef struct {
  GString *xml;
  const char *policy;
  const LibvirtCpuMap *map;
} XmlFeatures;

static void
add_xml_feature (guint word, guint bit, const X86Feature *feature, gpointer data)
{
  XmlFeatures *features = data;
  const char *name = feature != NULL ? x86_feature_libvirt_name (feature) : NULL;

  /* What libvirt cannot name (QEMU's KVM paravirt bits) it leaves to QEMU. */
  if (name == NULL || (features->map != NULL && libvirt_cpu_map_find_feature (features->map, name) == NULL))
    return;
  g_string_append_printf (features->xml, "  <feature policy='%s' name='%s'/>\n", features->policy,
                          name);
}

/* libvirt's <cpu>: the definition's own toggles and, with libvirt's own definition of the
 * model, every feature the guest has and libvirt's model lacks required and every one it
 * has and the guest lacks disabled, as check='full' compares the guest with both. */
static char *
libvirt_xml (const ProbeBaseline *baseline, const LibvirtCpuMap *map)
{
  GString *xml = g_string_new ("<cpu mode='custom' match='exact' check='full'>\n");
  const LibvirtCpuModel *model = map != NULL ? libvirt_cpu_map_find_model (map, baseline->model) : NULL;
  X86FeatureSet require, disable;
  XmlFeatures features = { xml, "require", map };

  g_string_append_printf (xml, "  <model fallback='forbid'>%s</model>\n", baseline->model);
  x86_feature_set_clear (&require);
  x86_feature_set_clear (&disable);
  if (model != NULL)
    {
      x86_feature_set_subtract (&require, &baseline->guest, &model->features);
      x86_feature_set_subtract (&disable, &model->features, &baseline->guest);
    }
  for (guint i = 0; i < baseline->enabled->len; i++)
    x86_feature_set_add (&require, g_ptr_array_index (baseline->enabled, i));
  for (guint i = 0; i < baseline->disabled->len; i++)
    x86_feature_set_add (&disable, g_ptr_array_index (baseline->disabled, i));
  x86_feature_set_foreach (&require, add_xml_feature, &features);
  features.policy = "disable";
  x86_feature_set_foreach (&disable, add_xml_feature, &features);
  g_string_append (xml, "</cpu>\n");
  return g_string_free (xml, FALSE);
}

static json_object *
left_out_json (const ProbeBaseline *baseline)
{
  json_object *list = json_object_new_array ();

  for (guint i = 0; i < baseline->left_out->len; i++)
    {
      const ProbeBaselineLeftOut *left_out = g_ptr_array_index (baseline->left_out, i);
      json_object *entry = json_object_new_object ();
      json_object *removals = json_object_new_array ();

      for (guint r = 0; r < left_out->removals->len; r++)
        {
          const ProbeBaselineRemoval *removal = g_ptr_array_index (left_out->removals, r);
          json_object *by = json_object_new_object ();

          json_object_object_add (by, "host", json_object_new_string (removal->host));
          json_object_object_add (by, "layer", json_object_new_string (removal->layer));
          json_object_array_add (removals, by);
        }
      json_object_object_add (entry, "feature", json_object_new_string (left_out->feature->name));
      json_object_object_add (entry, "removed_by", removals);
      json_object_array_add (list, entry);
    }
  return list;
}

static json_object *
baseline_json (const ProbeBaseline *baseline, GPtrArray *profiles, const char *accel,
               const char *machine, const char *cpu, const char *xml)
{
  json_object *document = json_object_new_object ();
  json_object *hosts = json_object_new_array ();
  json_object *features = json_object_new_object ();

  for (guint i = 0; i < profiles->len; i++)
    {
      const ProbeProfile *profile = g_ptr_array_index (profiles, i);
      json_object *host = json_object_new_object ();

      json_object_object_add (host, "profile", json_object_new_string (profile->path));
      json_object_object_add (host, "host", json_object_new_string (profile->host));
      json_object_object_add (host, "qemu", json_object_new_string (profile->qemu_version));
      json_object_array_add (hosts, host);
    }
  for (guint i = 0; i < baseline->enabled->len; i++)
    json_object_object_add (features, ((const X86Feature *) g_ptr_array_index (baseline->enabled, i))->name,
                            json_object_new_string ("require"));
  for (guint i = 0; i < baseline->disabled->len; i++)
    json_object_object_add (features, ((const X86Feature *) g_ptr_array_index (baseline->disabled, i))->name,
                            json_object_new_string ("disable"));
  json_object_object_add (document, "accel", json_object_new_string (accel));
  json_object_object_add (document, "machine", json_object_new_string (machine));
  json_object_object_add (document, "hosts", hosts);
  json_object_object_add (document, "candidates", json_object_new_int ((int) baseline->n_candidates));
  json_object_object_add (document, "model", json_object_new_string (baseline->model));
  json_object_object_add (document, "features", features);
  json_object_object_add (document, "cpu", json_object_new_string (cpu));
  json_object_object_add (document, "xml", json_object_new_string (xml));
  json_object_object_add (document, "guest", x86_feature_set_to_names_json (&baseline->guest));
  json_object_object_add (document, "left_out", left_out_json (baseline));
  return document;
}

static char *
baseline_text (const ProbeBaseline *baseline, GPtrArray *profiles, const char *accel,
               const char *machine, const char *cpu, const char *xml)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "Baseline of %u hosts under %s (machine %s): %s, %u features, "
                          "best of %u models every host defines\n", profiles->len, accel,
                          machine, baseline->model, x86_feature_set_count (&baseline->guest),
                          baseline->n_candidates);
  g_string_append_printf (out, "  -cpu %s\n", cpu);
  for (guint i = 0; i < baseline->left_out->len; i++)
    {
      const ProbeBaselineLeftOut *left_out = g_ptr_array_index (baseline->left_out, i);

      g_string_append_printf (out, "  left out %s:", left_out->feature->name);
      for (guint r = 0; r < left_out->removals->len; r++)
        {
          const ProbeBaselineRemoval *removal = g_ptr_array_index (left_out->removals, r);

          g_string_append_printf (out, "%s %s (%s)", r > 0 ? "," : "", removal->host, removal->layer);
        }
      g_string_append_c (out, '\n');
    }
  g_string_append (out, xml);
  return g_string_free (out, FALSE);
}

static int
run_baseline (const CliOptions *options, GError **error)
{
  /* Declared first, freed last: the profiles borrow from it. */
  g_autoptr (ProbeProfileShelf) shelf = probe_profile_shelf_new ();
  g_autoptr (GPtrArray) profiles = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_profile_free);
  g_autoptr (LibvirtCpuMap) map = NULL;
  g_autoptr (ProbeBaseline) baseline = NULL;
  g_autofree char *cpu = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (GError) map_error = NULL;
  const char *machine = options->machine != NULL ? options->machine : "pc";
  const char *accel = options->accel;

  {
    g_autoptr (CliProgress) reading = options->args->len > 1 ? cli_progress_new ("reading profiles")
                                                             : NULL;

    for (guint i = 0; i < options->args->len; i++)
      {
        ProbeProfile *profile = probe_profile_shelf_load (shelf, g_ptr_array_index (options->args, i),
                                                          error);

        if (profile == NULL)
          return -1;
        g_ptr_array_add (profiles, profile);
        cli_progress_update (reading, i + 1, options->args->len);
      }
  }
  /* One accelerator for the pool: --accel, else the first host's default. */
  if (accel == NULL)
    accel = ((const ProbeProfile *) g_ptr_array_index (profiles, 0))->default_accel;
  map = load_map (options, &map_error);
  if (map_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&map_error));
      return -1;
    }
  baseline = probe_baseline_compute (profiles, accel, machine, map, error);
  if (baseline == NULL)
    return -1;
  cpu = probe_baseline_cpu_string (baseline);
  xml = libvirt_xml (baseline, map);
  if (options->format == CLI_FORMAT_JSON)
    {
      g_autoptr (ProbeJson) document = baseline_json (baseline, profiles, accel, machine, cpu, xml);

      return cli_json_print (document, error) ? CLI_EXIT_OK : -1;
    }
  if (options->format == CLI_FORMAT_XML)
    return cli_output_print (xml, error) ? CLI_EXIT_OK : -1;
  {
    g_autofree char *text = baseline_text (baseline, profiles, accel, machine, cpu, xml);

    return cli_output_print (text, error) ? CLI_EXIT_OK : -1;
  }
}

static const char *const baseline_args[] = { "PROFILE", NULL };

const CliCommand cli_command_baseline = {
  .name = "baseline",
  .arg_names = baseline_args,
  .min_args = 1,
  .max_args = G_MAXUINT,
  .options = NULL,
  .run = run_baseline,
};
