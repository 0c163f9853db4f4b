/* x86/kvm-emulated.h — features KVM offers a guest although the silicon's CPUID lacks them.
 *
 * KVM_GET_SUPPORTED_CPUID is not the host's CPUID masked: KVM emulates some features in
 * software (x2apic, tsc-adjust, arch-capabilities; umip through VMX descriptor-table
 * exiting) and sets the speculation-control bits of one vendor from the other vendor's
 * equivalents and from the host kernel's mitigations (an AMD host's guest sees Intel's
 * spec-ctrl, stibp and ssbd; an Intel host's guest sees AMD's ibpb, ibrs, amd-stibp and
 * amd-ssbd). Each rule here names the kernel source that applies it, so a feature of a
 * guest or a host model that the silicon lacks is either explained by one of them or is a
 * real surprise. The rules only say what KVM *may* add: whether this host's KVM did is
 * KVM_GET_SUPPORTED_CPUID's answer (x86/kvm-cpuid.c). */
#pragma once
#include <glib.h>
#include "x86/cpuid-dump.h"
#include "x86/feature-set.h"

/* Which of KVM's vendor modules runs on the host: it decides the vendor-specific rules. */
typedef enum {
  X86_KVM_MODULE_UNKNOWN,
  X86_KVM_MODULE_VMX,          /* kvm_intel: GenuineIntel, CentaurHauls, "  Shanghai  " */
  X86_KVM_MODULE_SVM,          /* kvm_amd: AuthenticAMD, HygonGenuine */
} X86KvmModule;

/* What the rules need to know of a host besides its features. */
typedef struct {
  X86KvmModule module;
  /* Linux's synthetic LS_CFG_SSBD: AMD family 15h-17h and Hygon family 18h control
   * speculative store bypass through the LS_CFG MSR when they lack amd-ssbd
   * (arch/x86/kernel/cpu/amd.c, hygon.c). */
  gboolean ls_cfg_ssbd;
} X86KvmHostKind;

/* The kind of host CPU 0 of @dump is. @hardware: the named features of every CPU. */
void x86_kvm_host_kind (const X86CpuidDump *dump, const X86FeatureSet *hardware,
                        X86KvmHostKind *kind);

/* Why KVM may offer @feature on a host of @kind whose every CPU has @hardware, although
 * @hardware lacks it: a static phrase naming the rule and its source, or NULL when no rule
 * of KVM's gives it (or @hardware has it: then nothing needs explaining). */
const char *x86_kvm_emulated_why (const X86KvmHostKind *kind, const X86FeatureSet *hardware,
                                  const X86Feature *feature);

/* Every feature x86_kvm_emulated_why() explains on that host, into @set (cleared first). */
void x86_kvm_emulated_features (const X86KvmHostKind *kind, const X86FeatureSet *hardware,
                                X86FeatureSet *set);
