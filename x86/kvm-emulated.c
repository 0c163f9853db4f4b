/* x86/kvm-emulated.c — the rules of x86/kvm-emulated.h, as data.
 *
 * Sources (Linux, the kernel whose KVM answers KVM_GET_SUPPORTED_CPUID):
 *  - arch/x86/kvm/cpuid.c, kvm_set_cpu_caps(): "TSC_ADJUST and ARCH_CAPABILITIES are
 *    emulated in software"; x2apic is set for every host (it was set per CPUID entry, "we
 *    support x2apic emulation even if host does not support it", before 5.7); SPEC_CTRL when
 *    the host has IBPB and IBRS, INTEL_STIBP when it has STIBP, SPEC_CTRL_SSBD when it has
 *    AMD_SSBD; "AMD has separate bits for each SPEC_CTRL bit": AMD_IBPB from IBPB, AMD_IBRS
 *    from IBRS, AMD_STIBP from STIBP, AMD_SSBD from SPEC_CTRL_SSBD, AMD_SSB_NO unless the
 *    kernel found X86_BUG_SPEC_STORE_BYPASS, VIRT_SSBD from LS_CFG_SSBD without AMD_SSBD;
 *  - arch/x86/kvm/svm/svm.c, svm_set_cpu_caps(): VIRT_SSBD when the host has LS_CFG_SSBD
 *    or AMD_SSBD;
 *  - arch/x86/kvm/vmx/vmx.c, vmx_set_cpu_caps(): UMIP whenever vmx_umip_emulated(), i.e.
 *    the VMX secondary control "descriptor-table exiting", which every VMX host since
 *    Westmere has (CPUID cannot show VMX controls: any VMX host is taken to have it);
 *  - arch/x86/kvm/cpuid.c also offers, as SYNTHESIZED_F, bits the kernel sets in its own
 *    view of the CPU from the bugs it found: tsa-sq-no and tsa-l1-no (Linux 6.16 and the
 *    stable kernels that took the TSA mitigation), verw-clear, lfence-always-serializing;
 *  - arch/x86/kernel/cpu/common.c, init_speculation_control(): the kernel's synthetic
 *    IBRS and IBPB come from Intel's spec-ctrl or AMD's ibrs / ibpb, STIBP from Intel's
 *    stibp or AMD's amd-stibp.
 * A rule lists the silicon features it needs (all of @needs_all, and one of @needs_any when
 * that is not empty), in QEMU's names. */
#include "x86/kvm-emulated.h"

#include <string.h>
#include "x86/feature-table.h"

typedef struct {
  const char *feature;
  X86KvmModule module;            /* UNKNOWN: any host */
  gboolean needs_ls_cfg_ssbd;     /* the LS_CFG_SSBD host kind counts as one of @needs_any */
  const char *needs_all[2];
  const char *needs_any[2];
  const char *why;
} KvmRule;

static const KvmRule rules[] = {
  { "x2apic", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM emulates the x2APIC in software (kvm/cpuid.c)" },
  { "tsc-adjust", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM emulates IA32_TSC_ADJUST in software (kvm/cpuid.c)" },
  { "arch-capabilities", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM emulates IA32_ARCH_CAPABILITIES in software (kvm/cpuid.c)" },
  { "umip", X86_KVM_MODULE_VMX, FALSE, { NULL }, { NULL },
    "KVM emulates UMIP with VMX descriptor-table exiting (kvm/vmx/vmx.c)" },
  /* Intel's bits on any host, from AMD's. */
  { "spec-ctrl", X86_KVM_MODULE_UNKNOWN, FALSE, { "ibpb", "ibrs" }, { NULL },
    "KVM sets it from the host's IBPB and IBRS (AMD's ibpb and ibrs) (kvm/cpuid.c)" },
  { "stibp", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { "amd-stibp", NULL },
    "KVM sets it from the host's STIBP (AMD's amd-stibp) (kvm/cpuid.c)" },
  { "ssbd", X86_KVM_MODULE_UNKNOWN, FALSE, { "amd-ssbd" }, { NULL },
    "KVM sets it from the host's AMD SSBD (amd-ssbd) (kvm/cpuid.c)" },
  /* AMD's bits on any host, from Intel's. */
  { "ibpb", X86_KVM_MODULE_UNKNOWN, FALSE, { "spec-ctrl" }, { NULL },
    "KVM sets it from the host's IBPB (Intel's spec-ctrl) (kvm/cpuid.c)" },
  { "ibrs", X86_KVM_MODULE_UNKNOWN, FALSE, { "spec-ctrl" }, { NULL },
    "KVM sets it from the host's IBRS (Intel's spec-ctrl) (kvm/cpuid.c)" },
  { "amd-stibp", X86_KVM_MODULE_UNKNOWN, FALSE, { "stibp" }, { NULL },
    "KVM sets it from the host's STIBP (Intel's stibp) (kvm/cpuid.c)" },
  { "amd-ssbd", X86_KVM_MODULE_UNKNOWN, FALSE, { "ssbd" }, { NULL },
    "KVM sets it from the host's SPEC_CTRL_SSBD (Intel's ssbd) (kvm/cpuid.c)" },
  { "amd-no-ssb", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM sets it when the host kernel finds the CPU immune to speculative store bypass "
    "(kvm/cpuid.c)" },
  /* Mitigation bits the kernel synthesizes from what it found (SYNTHESIZED_F). */
  { "tsa-sq-no", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM sets it when the host kernel finds the CPU not affected by transient scheduler "
    "attacks (kvm/cpuid.c)" },
  { "tsa-l1-no", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM sets it when the host kernel finds the CPU not affected by transient scheduler "
    "attacks (kvm/cpuid.c)" },
  { "verw-clear", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM sets it when the host kernel knows VERW clears CPU buffers (kvm/cpuid.c)" },
  { "lfence-always-serializing", X86_KVM_MODULE_UNKNOWN, FALSE, { NULL }, { NULL },
    "KVM sets it when the host kernel made LFENCE serializing (kvm/cpuid.c)" },
  { "virt-ssbd", X86_KVM_MODULE_SVM, TRUE, { NULL }, { "amd-ssbd", NULL },
    "KVM offers VIRT_SPEC_CTRL on AMD hosts with amd-ssbd or the LS_CFG control of family "
    "15h-18h (kvm/svm/svm.c)" },
};

static gboolean
hardware_has (const X86FeatureSet *hardware, const char *name)
{
  const X86Feature *feature = x86_feature_lookup (name);

  return feature != NULL && x86_feature_set_has (hardware, feature);
}

static gboolean
rule_holds (const KvmRule *rule, const X86KvmHostKind *kind, const X86FeatureSet *hardware)
{
  gboolean any = rule->needs_any[0] == NULL;

  if (rule->module != X86_KVM_MODULE_UNKNOWN && rule->module != kind->module)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (rule->needs_all) && rule->needs_all[i] != NULL; i++)
    if (!hardware_has (hardware, rule->needs_all[i]))
      return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (rule->needs_any) && rule->needs_any[i] != NULL; i++)
    any = any || hardware_has (hardware, rule->needs_any[i]);
  return any || (rule->needs_ls_cfg_ssbd && kind->ls_cfg_ssbd);
}

static gboolean
vendor_is (const char *vendor, const char *const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (vendor, names[i]) == 0)
      return TRUE;
  return FALSE;
}

void
x86_kvm_host_kind (const X86CpuidDump *dump, const X86FeatureSet *hardware, X86KvmHostKind *kind)
{
  static const char *const vmx_vendors[] = { "GenuineIntel", "CentaurHauls", "  Shanghai  ", NULL };
  static const char *const svm_vendors[] = { "AuthenticAMD", "HygonGenuine", NULL };
  const X86CpuidLeaf *leaf0 = x86_cpuid_dump_n_cpus (dump) > 0
                              ? x86_cpuid_dump_lookup (dump, 0, 0, 0) : NULL;
  guint32 signature = x86_cpuid_dump_n_cpus (dump) > 0 ? x86_cpuid_dump_get (dump, 0, 1, 0, 0) : 0;
  guint family = (signature >> 8) & 0xf;
  char vendor[13] = "";

  memset (kind, 0, sizeof *kind);
  if (leaf0 == NULL)
    return;
  memcpy (vendor, &leaf0->ebx, 4);
  memcpy (vendor + 4, &leaf0->edx, 4);
  memcpy (vendor + 8, &leaf0->ecx, 4);
  if (family == 0xf)
    family += (signature >> 20) & 0xff;
  if (vendor_is (vendor, vmx_vendors))
    kind->module = X86_KVM_MODULE_VMX;
  else if (vendor_is (vendor, svm_vendors))
    kind->module = X86_KVM_MODULE_SVM;
  kind->ls_cfg_ssbd = !hardware_has (hardware, "amd-ssbd")
                      && ((strcmp (vendor, "AuthenticAMD") == 0 && family >= 0x15 && family <= 0x17)
                          || (strcmp (vendor, "HygonGenuine") == 0 && family == 0x18));
}

const char *
x86_kvm_emulated_why (const X86KvmHostKind *kind, const X86FeatureSet *hardware,
                      const X86Feature *feature)
{
  if (x86_feature_set_has (hardware, feature))
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    if (strcmp (rules[i].feature, feature->name) == 0 && rule_holds (&rules[i], kind, hardware))
      return rules[i].why;
  return NULL;
}

void
x86_kvm_emulated_features (const X86KvmHostKind *kind, const X86FeatureSet *hardware,
                           X86FeatureSet *set)
{
  x86_feature_set_clear (set);
  for (guint i = 0; i < G_N_ELEMENTS (rules); i++)
    {
      const X86Feature *feature = x86_feature_lookup (rules[i].feature);

      if (feature != NULL && !x86_feature_set_has (hardware, feature)
          && rule_holds (&rules[i], kind, hardware))
        x86_feature_set_add (set, feature);
    }
}
