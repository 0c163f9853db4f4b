/* tests/fuzz-libvirt-xml.c — libFuzzer target for libvirt <cpu> and domain XML judged by
 * libvirt's rules against a fixed CPU map (probe/cpu-def-xml.c, probe/libvirt-rules.c).
 *
 * The map is the installed libvirt's (or $VCPUPROBE_FUZZ_CPU_MAP), read once. An input
 * is read as check reads a CPU file; an accepted definition goes through everything
 * libvirt's rules make of it: the -cpu definition, and a verdict against three guests
 * (exactly the model, every feature the map knows, nothing at all), each under kvm and
 * tcg. Whatever is judged must be written out as XML and JSON, and the updated
 * definition a full check writes must read back from its own XML. */
#include "probe/compare.h"
#include "probe/cpu-def.h"
#include "probe/libvirt-cpu-map.h"
#include "probe/libvirt-rules.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static LibvirtCpuMap *cpu_map;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  const char *path = g_getenv ("VCPUPROBE_FUZZ_CPU_MAP");

  cpu_map = libvirt_cpu_map_load (path != NULL ? path : LIBVIRT_CPU_MAP_DEFAULT_DIR, &error);
  if (cpu_map == NULL)
    {
      fprintf (stderr, "fuzz-libvirt-xml: needs a libvirt CPU map: %s\n", error->message);
      abort ();
    }
  return 0;
}

static void
write_out (const LibvirtVerdict *verdict)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *updated_xml = libvirt_verdict_updated_xml (verdict, cpu_map);
  json_object *json = libvirt_verdict_to_json (verdict, cpu_map);
  g_autoptr (GPtrArray) extra = libvirt_rules_feature_names (cpu_map, &verdict->extra);
  g_autoptr (GPtrArray) missing = libvirt_rules_feature_names (cpu_map, &verdict->missing);

  if (json == NULL || (verdict->pass != (verdict->message == NULL) && verdict->refusals->len == 0))
    abort ();
  json_object_put (json);
  for (guint i = 0; i < extra->len + missing->len; i++)
    {
      const char *name = i < extra->len ? g_ptr_array_index (extra, i)
                                        : g_ptr_array_index (missing, i - extra->len);
      if (name == NULL || *name == '\0')
        abort ();
    }
  if (updated_xml != NULL)
    {
      g_autoptr (CpuDef) reread = cpu_def_from_xml (updated_xml, -1, "updated", &error);

      if (reread == NULL)
        {
          fprintf (stderr, "the updated XML does not read back: %s\n%s", error->message,
                   updated_xml);
          abort ();
        }
    }
}

static void
judge (const CpuDef *def, const char *accel, const X86FeatureSet *guest,
       const X86FeatureSet *filtered)
{
  g_autoptr (LibvirtVerdict) verdict = NULL;
  g_autoptr (GArray) added = g_array_new (FALSE, TRUE, sizeof (ProbeChange));
  g_autoptr (GArray) removed = g_array_new (FALSE, TRUE, sizeof (ProbeChange));
  LibvirtGuestFacts facts = {
    .accel = accel,
    .guest = guest,
    .filtered = filtered,
    .supported_known = TRUE,
    .supported = guest,
    .host_cpuid = guest,
    .added = added,
    .removed = removed,
  };

  verdict = libvirt_rules_judge (def, cpu_map, &facts);
  if (verdict == NULL || verdict->refusals == NULL)
    abort ();
  write_out (verdict);
  libvirt_verdict_refuse_start (verdict, "qemu-system-x86_64: the CPU cannot start");
  if (verdict->pass || verdict->message == NULL)
    abort ();
}

static void
judge_all (const CpuDef *def)
{
  static const char *const accels[] = { "kvm", "tcg" };
  const LibvirtCpuModel *model = def->model != NULL
                                 ? libvirt_cpu_map_find_model (cpu_map, def->model) : NULL;
  X86FeatureSet as_modelled = { 0 };
  X86FeatureSet nothing = { 0 };
  X86FeatureSet required = { 0 };
  const X86FeatureSet *everything = libvirt_cpu_map_known (cpu_map);

  if (model != NULL)
    as_modelled = model->features;
  cpu_def_add_features_with_policy (def, CPU_POLICY_REQUIRE, &required);
  for (guint a = 0; a < G_N_ELEMENTS (accels); a++)
    {
      judge (def, accels[a], &as_modelled, &nothing);
      judge (def, accels[a], everything, &nothing);
      judge (def, accels[a], &nothing, &required);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def = NULL;
  g_autoptr (CpuDef) qemu_definition = NULL;
  g_autofree char *qemu_line = NULL;

  def = cpu_def_from_xml ((const char *) data, (gssize) size, "fuzz-input", &error);
  if (def == NULL)
    {
      if (error == NULL || *error->message == '\0')
        abort ();
      return 0;
    }
  qemu_definition = libvirt_rules_qemu_definition (def, cpu_map);
  if (qemu_definition == NULL || qemu_definition->mode != def->mode)
    abort ();
  qemu_line = cpu_def_to_qemu_cpu_string (qemu_definition, FALSE);
  libvirt_rules_effective_check (def, "kvm");
  libvirt_rules_effective_check (def, "tcg");
  judge_all (def);
  return 0;
}
