/* probe/host-layers.h — what the host below QEMU can give a guest, layer by layer.
 *
 * A feature QEMU filters out of a guest CPU was refused by one layer: the silicon (the
 * CPUID of every logical CPU: a feature one CPU lacks is one the guest may not get),
 * KVM (KVM_GET_SUPPORTED_CPUID) or QEMU itself. probe/compare.c names the layer from
 * these sets. A layer that could not be read is "unknown", never guessed: a --replay of
 * another host's recording knows that host's silicon only from its --cpuid-dump, and its
 * KVM only when that dump carries it (`vcpuprobe cpuid --format json` captured there). */
#pragma once
#include <glib.h>
#include "x86/feature-set.h"
#include "x86/kvm-emulated.h"
#include "x86/kvm-arch-capabilities.h"

typedef struct {
  gboolean hardware_known;
  X86FeatureSet hardware;       /* named features present on every logical CPU */
  X86KvmHostKind kvm_host_kind; /* which of KVM's rules apply (x86/kvm-emulated.h); when
                                 * hardware_known */
  char *hardware_origin;        /* "hardware" or the dump's path; NULL when unknown */
  gboolean kvm_known;
  X86FeatureSet kvm;            /* KVM_GET_SUPPORTED_CPUID, named features */
  char *kvm_origin;             /* "/dev/kvm" or the dump's path; NULL when unknown */
  char *kvm_unknown_reason;     /* why kvm_known is FALSE ("/dev/kvm: ...", "a replay"); else NULL */
  /* Whether a vCPU of this KVM takes IA32_ARCH_CAPABILITIES (x86/kvm-arch-capabilities.h):
   * from /dev/kvm, or from the dump that carries the KVM view (UNKNOWN when it was made
   * before dumps recorded it). */
  X86KvmMsrWrite kvm_arch_capabilities;
  guint64 kvm_arch_capabilities_offered;
} ProbeHostLayers;

void probe_host_layers_free (ProbeHostLayers *layers);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeHostLayers, probe_host_layers_free)

/* An empty description: both layers unknown, for @reason (copied). */
ProbeHostLayers *probe_host_layers_new_unknown (const char *reason);

/* The layers of the host the QEMU runs on. The hardware layer comes from @cpuid_dump
 * (borrowed; its origin names it in reasons) when given, else from the CPUID instruction
 * on every online CPU when @this_host, else it is unknown. KVM comes from the dump when
 * it carries a KVM view (it describes the host looked at, live or replayed), else from
 * /dev/kvm when @this_host (an unreadable /dev/kvm leaves it unknown, with the reason),
 * and is unknown otherwise. Errors: CPUID that cannot be read on an online CPU. */
ProbeHostLayers *probe_host_layers_read (const X86CpuidDump *cpuid_dump, gboolean this_host,
                                         GError **error);

/* The named features present on every CPU of @dump, into @set (cleared first). */
void probe_host_layers_common_features (const X86CpuidDump *dump, X86FeatureSet *set);
