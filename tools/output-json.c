/* tools/output-json.c — the JSON documents vcpuprobe prints. */
#include "tools/output-json.h"

#include "tools/output-text.h"
#include "x86/feature-set.h"

gboolean
cli_json_print (json_object *value, GError **error)
{
  const char *text = json_object_to_json_string_ext (value, JSON_C_TO_STRING_PRETTY
                                                            | JSON_C_TO_STRING_SPACED
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE);
  g_autofree char *line = g_strconcat (text, "\n", NULL);

  return cli_output_print (line, error);
}

static json_object *
strings_to_json (GPtrArray *strings)
{
  json_object *array = json_object_new_array_ext ((int) strings->len);

  for (guint i = 0; i < strings->len; i++)
    json_object_array_add (array, json_object_new_string (g_ptr_array_index (strings, i)));
  return array;
}

static json_object *
feature_names_to_json (const X86FeatureSet *set)
{
  g_autoptr (GPtrArray) names = x86_feature_set_to_names (set, FALSE);

  return strings_to_json (names);
}

static json_object *
cpu_to_json (const X86CpuidDump *dump, guint cpu_index)
{
  json_object *cpu = x86_cpuid_dump_cpu_to_json (dump, cpu_index);
  X86FeatureSet features;

  x86_feature_set_from_cpuid (&features, dump, cpu_index);
  json_object_object_add (cpu, "features", feature_names_to_json (&features));
  return cpu;
}

static json_object *
kvm_to_json (const X86KvmCpuid *kvm, const char *kvm_not_read)
{
  json_object *object = json_object_new_object ();
  gboolean available = kvm != NULL && kvm->available;
  const char *reason = kvm != NULL ? kvm->reason : kvm_not_read;

  json_object_object_add (object, "available", json_object_new_boolean (available));
  json_object_object_add (object, "reason", reason != NULL ? json_object_new_string (reason) : NULL);
  json_object_object_add (object, "supported",
                          available ? feature_names_to_json (&kvm->supported_features)
                                    : json_object_new_array ());
  json_object_object_add (object, "emulated",
                          available ? feature_names_to_json (&kvm->emulated_features)
                                    : json_object_new_array ());
  return object;
}

json_object *
cli_json_cpuid (const X86CpuidDump *dump, const X86CpuIdentity *identity,
                const X86KvmCpuid *kvm, const char *kvm_not_read)
{
  json_object *report = json_object_new_object ();
  json_object *cpus = json_object_new_array ();
  g_autoptr (GPtrArray) differences = NULL;
  gboolean heterogeneous = x86_cpuid_dump_heterogeneous (dump, &differences);

  for (guint i = 0; i < x86_cpuid_dump_n_cpus (dump); i++)
    json_object_array_add (cpus, cpu_to_json (dump, i));
  json_object_object_add (report, "identity", x86_cpu_identity_to_json (identity));
  json_object_object_add (report, "cpus", cpus);
  json_object_object_add (report, "heterogeneous", json_object_new_boolean (heterogeneous));
  json_object_object_add (report, "differences",
                          differences != NULL ? strings_to_json (differences)
                                              : json_object_new_array ());
  json_object_object_add (report, "kvm", kvm_to_json (kvm, kvm_not_read));
  return report;
}
