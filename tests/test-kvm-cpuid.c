/* tests/test-kvm-cpuid.c — KVM's supported and emulated CPUID from the real /dev/kvm. */
#include "tests/test-util.h"
#include "x86/host-cpuid.h"
#include "x86/kvm-cpuid.h"

#include <errno.h>
#include <string.h>

static X86KvmCpuid *
read_kvm_or_skip (void)
{
  X86KvmCpuid *kvm;

  TEST_REQUIRE_KVM ();
  kvm = x86_kvm_cpuid_read (NULL);
  if (!kvm->available)
    print_message ("unexpected: %s\n", kvm->reason);
  assert_true (kvm->available);
  assert_null (kvm->reason);
  return kvm;
}

/* What every KVM reports, whatever the host CPU. */
static void
test_supported_table (void **state)
{
  g_autoptr (X86KvmCpuid) kvm = read_kvm_or_skip ();
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) hardware = x86_host_cpuid_read (-1, &error);
  const X86CpuidLeaf *signature;
  const X86CpuidLeaf *vendor;
  const X86CpuidLeaf *host_vendor;
  const X86Feature *x2apic = x86_feature_lookup ("x2apic");

  assert_non_null (hardware);
  assert_string_equal (x86_cpuid_dump_origin (kvm->supported), "KVM_GET_SUPPORTED_CPUID");
  assert_int_equal (x86_cpuid_dump_n_cpus (kvm->supported), 1);

  /* x2APIC is emulated in software irrespective of the host. */
  assert_true (x86_cpuid_dump_get (kvm->supported, 0, 1, 0, 2) & (1u << 21));
  assert_non_null (x2apic);
  assert_true (x86_feature_set_has (&kvm->supported_features, x2apic));

  /* Leaf 0 is the host's vendor; the hypervisor leaves carry KVM's signature. */
  vendor = x86_cpuid_dump_lookup (kvm->supported, 0, 0, 0);
  host_vendor = x86_cpuid_dump_lookup (hardware, 0, 0, 0);
  assert_non_null (vendor);
  assert_int_equal (vendor->ebx, host_vendor->ebx);
  assert_int_equal (vendor->ecx, host_vendor->ecx);
  assert_int_equal (vendor->edx, host_vendor->edx);
  signature = x86_cpuid_dump_lookup (kvm->supported, 0, 0x40000000, 0);
  assert_non_null (signature);
  assert_int_equal (signature->ebx, 0x4b4d564b);   /* "KVMK" */
  assert_int_equal (signature->ecx, 0x564b4d56);   /* "VMKV" */
  assert_int_equal (signature->edx, 0x0000004d);   /* "M\0\0\0" */

  /* Indexed leaves keep their subleaves: XSAVE's two summary subleaves at least. */
  assert_non_null (x86_cpuid_dump_lookup (kvm->supported, 0, 0xd, 0));
  assert_non_null (x86_cpuid_dump_lookup (kvm->supported, 0, 0xd, 1));
  assert_non_null (x86_cpuid_dump_lookup (kvm->supported, 0, 7, 0));
}

static void
test_emulated_table (void **state)
{
  g_autoptr (X86KvmCpuid) kvm = read_kvm_or_skip ();
  guint n_leaves = 0;

  if (kvm->emulated == NULL)
    {
      print_message ("NOTE: this kernel has no KVM_GET_EMULATED_CPUID\n");
      assert_true (x86_feature_set_is_empty (&kvm->emulated_features));
      return;
    }
  assert_string_equal (x86_cpuid_dump_origin (kvm->emulated), "KVM_GET_EMULATED_CPUID");
  x86_cpuid_dump_leaves (kvm->emulated, 0, &n_leaves);
  /* Every kernel with the ioctl emulates at least MOVBE or RDPID. */
  assert_true (n_leaves > 0);
  assert_false (x86_feature_set_is_empty (&kvm->emulated_features));
}

/* Our machines run a nested KVM that offers no SSE3 to guests although the CPU has it.
 * Only such a host can show that; elsewhere the same comparison is printed as a note.
 * VCPUPROBE_TEST_NESTED_NO_SSE3=1 says "this is such a host" and makes it an assertion. */
static void
test_nested_sse3 (void **state)
{
  g_autoptr (X86KvmCpuid) kvm = read_kvm_or_skip ();
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) hardware = x86_host_cpuid_read (0, &error);
  gboolean hardware_sse3, supported_sse3, nested;
  const char *expected = g_getenv ("VCPUPROBE_TEST_NESTED_NO_SSE3");

  assert_non_null (hardware);
  hardware_sse3 = x86_cpuid_dump_get (hardware, 0, 1, 0, 2) & 1;
  supported_sse3 = x86_cpuid_dump_get (kvm->supported, 0, 1, 0, 2) & 1;
  nested = (x86_cpuid_dump_get (hardware, 0, 1, 0, 2) & (1u << 31)) != 0;
  print_message ("NOTE: %s KVM; SSE3 in hardware: %s, in KVM_GET_SUPPORTED_CPUID: %s\n",
                 nested ? "nested" : "bare-metal", hardware_sse3 ? "yes" : "no",
                 supported_sse3 ? "yes" : "no");
  if (expected != NULL && strcmp (expected, "1") == 0)
    {
      assert_true (nested);
      assert_true (hardware_sse3);
      assert_false (supported_sse3);
      assert_false (x86_feature_set_has (&kvm->supported_features, x86_feature_lookup ("pni")));
    }
}

static void
test_missing_device (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *device = g_build_filename (dir, "no-such-kvm", NULL);
  g_autofree char *expected = g_strdup_printf ("%s: %s", device, g_strerror (ENOENT));
  g_autoptr (X86KvmCpuid) kvm = x86_kvm_cpuid_read (device);

  assert_false (kvm->available);
  assert_string_equal (kvm->reason, expected);
  assert_null (kvm->supported);
  assert_null (kvm->emulated);
  assert_true (x86_feature_set_is_empty (&kvm->supported_features));
  test_rmdir_r (dir);
}

/* A device that opens but is not KVM: the ioctl fails, and the reason says which. */
static void
test_not_kvm_device (void **state)
{
  g_autoptr (X86KvmCpuid) kvm = x86_kvm_cpuid_read ("/dev/null");
  g_autofree char *expected =
    g_strdup_printf ("/dev/null: KVM_GET_SUPPORTED_CPUID failed (%s)", g_strerror (ENOTTY));

  assert_false (kvm->available);
  assert_string_equal (kvm->reason, expected);
  assert_null (kvm->supported);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_supported_table),
    cmocka_unit_test (test_emulated_table),
    cmocka_unit_test (test_nested_sse3),
    cmocka_unit_test (test_missing_device),
    cmocka_unit_test (test_not_kvm_device),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
