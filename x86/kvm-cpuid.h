/* x86/kvm-cpuid.h — what KVM can give a guest: KVM_GET_SUPPORTED_CPUID and
 * KVM_GET_EMULATED_CPUID on /dev/kvm. The entry buffer grows on E2BIG, never a fixed
 * size. No /dev/kvm or no permission is not an error of the caller's command: the
 * result says "unavailable" and why. */
#pragma once
#include <glib.h>
#include "x86/cpuid-dump.h"
#include "x86/feature-set.h"
#include "x86/kvm-arch-capabilities.h"

/* The typedef is x86/cpuid-dump.h's, as a dump may carry one of these. */
struct X86KvmCpuid {
  gboolean available;
  char *reason;                 /* why not available ("/dev/kvm: No such file or directory"), else NULL */
  X86CpuidDump *supported;      /* one CPU (index 0); NULL when unavailable, and in a view
                                 * read from a dump file, which carries names only */
  X86CpuidDump *emulated;       /* one CPU; NULL when unavailable, the ioctl is missing, or
                                 * the view came from a dump file */
  X86FeatureSet supported_features;
  X86FeatureSet emulated_features;
  /* Whether a vCPU takes IA32_ARCH_CAPABILITIES back (x86/kvm-arch-capabilities.h); in a
   * view read from a dump file, what the dump records, UNKNOWN when it does not. */
  X86KvmArchCapabilities arch_capabilities;
};

/* @device: NULL for /dev/kvm. Never fails: see ->available and ->reason. */
X86KvmCpuid *x86_kvm_cpuid_read (const char *device);
/* The same from @fd, open read-write on @device (NULL: /dev/kvm, for messages), which it
 * closes: a caller that opened the device to see whether kvm can run reads it once. */
X86KvmCpuid *x86_kvm_cpuid_read_fd (int fd, const char *device);
/* An available KVM known only by its named features, as a dump file carries it: the raw
 * tables stay NULL, arch_capabilities UNKNOWN (the reader fills it in when the dump
 * records it). Both sets are copied. */
X86KvmCpuid *x86_kvm_cpuid_new_from_features (const X86FeatureSet *supported,
                                              const X86FeatureSet *emulated);
void         x86_kvm_cpuid_free (X86KvmCpuid *kvm);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X86KvmCpuid, x86_kvm_cpuid_free)
