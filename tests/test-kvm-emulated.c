/* tests/test-kvm-emulated.c — the rules of x86/kvm-emulated.h on hosts of each kind, written
 * here leaf by leaf: the vendor string and family decide the KVM module and Linux's
 * LS_CFG_SSBD, the silicon's features decide the rest. */
#include "tests/test-util.h"
#include "x86/feature-table.h"
#include "x86/kvm-emulated.h"

#include <string.h>

/* What the kernel may synthesize on any host from the bugs it found. */
#define MITIGATIONS "lfence-always-serializing verw-clear tsa-sq-no tsa-l1-no"

/* A one-CPU dump: leaf 0 with @vendor, leaf 1 with @signature (CPUID.1:EAX). */
static X86CpuidDump *
host_dump (const char *vendor, guint32 signature)
{
  X86CpuidDump *dump = x86_cpuid_dump_new ();
  X86CpuidLeaf leaf0 = { .leaf = 0, .eax = 0xd };
  X86CpuidLeaf leaf1 = { .leaf = 1, .eax = signature };
  guint cpu = x86_cpuid_dump_add_cpu (dump, 0);

  memcpy (&leaf0.ebx, vendor, 4);
  memcpy (&leaf0.edx, vendor + 4, 4);
  memcpy (&leaf0.ecx, vendor + 8, 4);
  x86_cpuid_dump_set (dump, cpu, &leaf0);
  x86_cpuid_dump_set (dump, cpu, &leaf1);
  return dump;
}

static void
set_of (X86FeatureSet *set, const char *const *names)
{
  x86_feature_set_clear (set);
  for (guint i = 0; names[i] != NULL; i++)
    {
      const X86Feature *feature = x86_feature_lookup (names[i]);
      if (feature == NULL)
        fail_msg ("unknown feature in test: %s", names[i]);
      x86_feature_set_add (set, feature);
    }
}

static char *
emulated_names (const X86KvmHostKind *kind, const X86FeatureSet *hardware)
{
  X86FeatureSet emulated;
  g_autoptr (GPtrArray) names = NULL;

  x86_kvm_emulated_features (kind, hardware, &emulated);
  names = x86_feature_set_to_names (&emulated, TRUE);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* An Intel host with Intel's speculation controls: AMD's equivalents, and UMIP by VMX. */
static void
test_intel_host (void **state)
{
  static const char *const silicon[] = { "fpu", "spec-ctrl", "stibp", "ssbd", NULL };
  g_autoptr (X86CpuidDump) dump = host_dump ("GenuineIntel", 0x00050654);   /* Skylake-SP */
  X86FeatureSet hardware;
  X86KvmHostKind kind;
  g_autofree char *names = NULL;

  set_of (&hardware, silicon);
  x86_kvm_host_kind (dump, &hardware, &kind);
  assert_int_equal (kind.module, X86_KVM_MODULE_VMX);
  assert_false (kind.ls_cfg_ssbd);
  names = emulated_names (&kind, &hardware);
  assert_string_equal (names, "x2apic tsc-adjust umip arch-capabilities ibpb ibrs amd-stibp "
                              "amd-ssbd amd-no-ssb " MITIGATIONS);
  /* Whatever the silicon has needs no rule. */
  assert_null (x86_kvm_emulated_why (&kind, &hardware, x86_feature_lookup ("spec-ctrl")));
  assert_null (x86_kvm_emulated_why (&kind, &hardware, x86_feature_lookup ("virt-ssbd")));
}

/* A Zen 2 with AMD's controls: Intel's equivalents and VIRT_SSBD from kvm_amd, no UMIP rule. */
static void
test_amd_zen2_host (void **state)
{
  static const char *const silicon[] = { "fpu", "ibpb", "ibrs", "amd-stibp", "amd-ssbd", "umip", NULL };
  g_autoptr (X86CpuidDump) dump = host_dump ("AuthenticAMD", 0x00870f10);   /* family 17h */
  X86FeatureSet hardware;
  X86KvmHostKind kind;
  g_autofree char *names = NULL;

  set_of (&hardware, silicon);
  x86_kvm_host_kind (dump, &hardware, &kind);
  assert_int_equal (kind.module, X86_KVM_MODULE_SVM);
  assert_false (kind.ls_cfg_ssbd);      /* it has amd-ssbd */
  names = emulated_names (&kind, &hardware);
  assert_string_equal (names, "x2apic tsc-adjust spec-ctrl stibp arch-capabilities ssbd "
                              "virt-ssbd amd-no-ssb " MITIGATIONS);
}

/* A Zen 1 without amd-ssbd controls store bypass through LS_CFG: virt-ssbd only; ibpb
 * without ibrs gives no spec-ctrl. An unknown vendor gets the vendor-neutral rules only. */
static void
test_ls_cfg_and_unknown_vendor (void **state)
{
  static const char *const silicon[] = { "fpu", "ibpb", NULL };
  g_autoptr (X86CpuidDump) zen1 = host_dump ("AuthenticAMD", 0x00800f12);
  g_autoptr (X86CpuidDump) other = host_dump ("SomeVendorXX", 0x00000600);
  X86FeatureSet hardware;
  X86KvmHostKind kind;
  g_autofree char *zen1_names = NULL;
  g_autofree char *other_names = NULL;

  set_of (&hardware, silicon);
  x86_kvm_host_kind (zen1, &hardware, &kind);
  assert_true (kind.ls_cfg_ssbd);
  zen1_names = emulated_names (&kind, &hardware);
  assert_string_equal (zen1_names, "x2apic tsc-adjust arch-capabilities virt-ssbd amd-no-ssb "
                      MITIGATIONS);
  x86_kvm_host_kind (other, &hardware, &kind);
  assert_int_equal (kind.module, X86_KVM_MODULE_UNKNOWN);
  other_names = emulated_names (&kind, &hardware);
  assert_string_equal (other_names, "x2apic tsc-adjust arch-capabilities amd-no-ssb " MITIGATIONS);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_intel_host),
    cmocka_unit_test (test_amd_zen2_host),
    cmocka_unit_test (test_ls_cfg_and_unknown_vendor),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
