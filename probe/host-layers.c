/* probe/host-layers.c — reads the silicon and KVM layers of probe/host-layers.h. */
#include "probe/host-layers.h"

#include "x86/host-cpuid.h"
#include "x86/kvm-cpuid.h"

void
probe_host_layers_free (ProbeHostLayers *layers)
{
  if (layers == NULL)
    return;
  g_free (layers->hardware_origin);
  g_free (layers->kvm_unknown_reason);
  g_free (layers->kvm_origin);
  g_free (layers);
}

ProbeHostLayers *
probe_host_layers_new_unknown (const char *reason)
{
  ProbeHostLayers *layers = g_new0 (ProbeHostLayers, 1);

  layers->kvm_unknown_reason = g_strdup (reason);
  return layers;
}

void
probe_host_layers_common_features (const X86CpuidDump *dump, X86FeatureSet *set)
{
  guint n_cpus = x86_cpuid_dump_n_cpus (dump);

  x86_feature_set_clear (set);
  for (guint i = 0; i < n_cpus; i++)
    {
      X86FeatureSet cpu;

      x86_feature_set_from_cpuid (&cpu, dump, i);
      if (i == 0)
        *set = cpu;
      else
        x86_feature_set_intersect (set, set, &cpu);
    }
  x86_feature_set_named_only (set);
}

/* The KVM layer from @kvm, read from @origin ("/dev/kvm" or a dump): a dump's record of
 * IA32_ARCH_CAPABILITIES counts as a live read does, so a profile's answers drop what
 * QEMU could not start with, as live ones do. */
static void
set_kvm (ProbeHostLayers *layers, const X86KvmCpuid *kvm, const char *origin)
{
  layers->kvm_known = TRUE;
  layers->kvm_origin = g_strdup (origin);
  layers->kvm = kvm->supported_features;
  x86_feature_set_named_only (&layers->kvm);
  layers->kvm_arch_capabilities = kvm->arch_capabilities.write;
  layers->kvm_arch_capabilities_offered = kvm->arch_capabilities.offered;
}

ProbeHostLayers *
probe_host_layers_read (const X86CpuidDump *cpuid_dump, gboolean this_host, GError **error)
{
  g_autoptr (ProbeHostLayers) layers = probe_host_layers_new_unknown (NULL);
  g_autoptr (X86CpuidDump) walked = NULL;
  const X86CpuidDump *hardware = cpuid_dump;
  const X86KvmCpuid *recorded_kvm;

  if (hardware == NULL && this_host)
    {
      walked = x86_host_cpuid_read (-1, error);
      if (walked == NULL)
        return NULL;
      hardware = walked;
    }
  if (hardware != NULL)
    {
      layers->hardware_known = TRUE;
      layers->hardware_origin = g_strdup (cpuid_dump != NULL ? x86_cpuid_dump_origin (cpuid_dump)
                                                             : "hardware");
      probe_host_layers_common_features (hardware, &layers->hardware);
      x86_kvm_host_kind (hardware, &layers->hardware, &layers->kvm_host_kind);
    }

  recorded_kvm = hardware != NULL ? x86_cpuid_dump_kvm (hardware) : NULL;
  if (recorded_kvm != NULL)
    set_kvm (layers, recorded_kvm, x86_cpuid_dump_origin (hardware));
  else if (this_host)
    {
      g_autoptr (X86KvmCpuid) kvm = x86_kvm_cpuid_read (NULL);

      if (kvm->available)
        set_kvm (layers, kvm, "/dev/kvm");
      else
        layers->kvm_unknown_reason = g_strdup (kvm->reason);
    }
  else
    layers->kvm_unknown_reason = g_strdup ("KVM of the recorded host is not known");
  return g_steal_pointer (&layers);
}
