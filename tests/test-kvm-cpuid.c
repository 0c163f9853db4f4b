/* tests/test-kvm-cpuid.c — KVM's supported and emulated CPUID from the real /dev/kvm, and
 * how they match what QEMU's host model reports under KVM. */
#include "tests/test-util.h"
#include "x86/host-cpuid.h"
#include "x86/kvm-cpuid.h"

#include <errno.h>
#include <string.h>
#include <json-c/json.h>

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

/* ---- KVM_GET_SUPPORTED_CPUID against QEMU's host model ----
 *
 * Under KVM, QEMU builds `host` (migratable=false) from KVM_GET_SUPPORTED_CPUID plus its own
 * fix-ups, minus what it filters. Both readers must agree up to the differences the
 * reference documents, so each difference is explained by a line of data below or fails.
 * Only CPUID features are compared: MSR features (arch-capabilities bits, vmx-*) come from
 * KVM_GET_MSRS on the system fd, not from the table we read, and the KVM paravirt leaf
 * 0x40000001 is an interface QEMU chooses per accelerator and irqchip (§4.1, §4.2), where
 * one property drives two bits (kvmclock), so its bits say nothing about the host CPU. */

#define KVM_PARAVIRT_LEAF 0x40000001u

typedef enum {
  FIXUP_ALWAYS,          /* QEMU sets the bit on every host */
  FIXUP_FROM_HARDWARE,   /* QEMU copies the raw host bit: the hardware must have it */
} FixupKind;

typedef struct {
  const char *name;
  FixupKind kind;
  const char *why;
} QemuFixup;

/* Bits QEMU's host model may enable although KVM_GET_SUPPORTED_CPUID lacks them (reference
 * §4.2, "QEMU fix-up" rows). */
static const QemuFixup qemu_fixups[] = {
  { "mtrr", FIXUP_ALWAYS, "§4.2: leaf 1 EDX, always set as a workaround for old kernels" },
  { "pat", FIXUP_ALWAYS, "§4.2: leaf 1 EDX, always set as a workaround for old kernels" },
  { "mce", FIXUP_ALWAYS, "§4.2: leaf 1 EDX, always set as a workaround for old kernels" },
  { "mca", FIXUP_ALWAYS, "§4.2: leaf 1 EDX, always set as a workaround for old kernels" },
  { "ht", FIXUP_ALWAYS, "§4.2: leaf 1 EDX, always allowed by recent QEMU" },
  { "hypervisor", FIXUP_ALWAYS, "§4.2: leaf 1 ECX, always set" },
  { "tsc-deadline", FIXUP_ALWAYS, "§4.2: leaf 1 ECX, set with the in-kernel irqchip and "
    "KVM_CAP_TSC_DEADLINE_TIMER, which KVM reports as a capability, not as CPUID" },
  { "monitor", FIXUP_ALWAYS, "§4.2: leaf 1 ECX, added with -overcommit cpu-pm=on" },
  { "arat", FIXUP_ALWAYS, "§4.2: leaf 6 EAX, always set since the APIC timer is emulated" },
  { "erms", FIXUP_FROM_HARDWARE, "§4.2: leaf 7, copied from the raw host as an optimisation" },
  { "fsrm", FIXUP_FROM_HARDWARE, "§4.2: leaf 7, copied from the raw host as an optimisation" },
  { "fzrm", FIXUP_FROM_HARDWARE, "§4.2: leaf 7.1 EAX, copied from the raw host" },
  { "fsrs", FIXUP_FROM_HARDWARE, "§4.2: leaf 7.1 EAX, copied from the raw host" },
  { "fsrc", FIXUP_FROM_HARDWARE, "§4.2: leaf 7.1 EAX, copied from the raw host" },
  { "mcdt-no", FIXUP_FROM_HARDWARE, "§4.2: leaf 7.2 EDX, copied from the raw host" },
  { "topoext", FIXUP_ALWAYS, "§4.2: 0x80000001 ECX, always allowed" },
  { "overflow-recov", FIXUP_ALWAYS, "§4.2: 0x80000007 EBX, always set (then dropped unless AMD)" },
  { "succor", FIXUP_ALWAYS, "§4.2: 0x80000007 EBX, always set (then dropped unless AMD)" },
};

typedef enum {
  REMOVAL_UNSEEN,        /* depends on host state this test cannot observe */
  REMOVAL_UNLESS_AMD,    /* the vendor is not AuthenticAMD */
  REMOVAL_WITHOUT_SGX,   /* the host offers no SGX enclave memory to guests (/dev/sgx_vepc) */
} RemovalCondition;

typedef struct {
  const char *name;
  RemovalCondition condition;
  const char *why;
} QemuRemoval;

/* Bits KVM supports that QEMU takes out of its host model (reference §4.3 and the removal
 * rows of §4.2). */
static const QemuRemoval qemu_removals[] = {
  { "sgx", REMOVAL_WITHOUT_SGX, "§4.3: removed when the host has no SGX support" },
  { "sgxlc", REMOVAL_WITHOUT_SGX, "§4.3: removed when the host has no SGX support" },
  { "overflow-recov", REMOVAL_UNLESS_AMD, "§4.3: the 0x80000007 EBX word is dropped for non-AMD vendors" },
  { "succor", REMOVAL_UNLESS_AMD, "§4.3: the 0x80000007 EBX word is dropped for non-AMD vendors" },
  { "intel-pt", REMOVAL_UNSEEN, "§4.3: removed when the host cannot emulate the PT capabilities QEMU needs" },
  { "hle", REMOVAL_UNSEEN, "§4.2: removed on hosts with broken TSX" },
  { "rtm", REMOVAL_UNSEEN, "§4.2: removed on hosts with broken TSX" },
  { "arch-capabilities", REMOVAL_UNSEEN, "§4.2: removed when KVM does not list the MSR" },
  { "x2apic", REMOVAL_UNSEEN, "§4.2: removed without the in-kernel irqchip" },
};

/* The features both readers can speak of: named CPUID bits outside the paravirt leaf that
 * QEMU switches by their own property (osxsave and ospke follow guest state and have none;
 * cmt, pconfig, ... are libvirt's names only; a SECOND_BIT shares its property). */
static gboolean
is_comparable (const X86Feature *feature)
{
  const X86FeatureWord *word = &x86_feature_words (NULL)[feature->word];

  return word->kind == X86_WORD_CPUID && word->leaf != KVM_PARAVIRT_LEAF
         && !(feature->flags & (X86_FEATURE_DYNAMIC | X86_FEATURE_LIBVIRT_ONLY | X86_FEATURE_SECOND_BIT));
}

static gboolean
host_vendor_is_amd (const X86CpuidDump *hardware)
{
  /* "AuthenticAMD" in EBX, EDX, ECX of leaf 0. */
  return x86_cpuid_dump_get (hardware, 0, 0, 0, X86_REG_EBX) == 0x68747541
         && x86_cpuid_dump_get (hardware, 0, 0, 0, X86_REG_EDX) == 0x69746e65
         && x86_cpuid_dump_get (hardware, 0, 0, 0, X86_REG_ECX) == 0x444d4163;
}

/* Why QEMU's host model may have @feature without KVM listing it, or NULL. */
static const char *
explain_qemu_only (const X86Feature *feature, const X86FeatureSet *hardware)
{
  for (guint i = 0; i < G_N_ELEMENTS (qemu_fixups); i++)
    if (g_str_equal (qemu_fixups[i].name, feature->name))
      {
        if (qemu_fixups[i].kind == FIXUP_FROM_HARDWARE && !x86_feature_set_has (hardware, feature))
          return NULL;
        return qemu_fixups[i].why;
      }
  return NULL;
}

/* Why QEMU's host model may lack @feature although KVM lists it, or NULL. */
static const char *
explain_kvm_only (const X86Feature *feature, const X86CpuidDump *hardware)
{
  if (feature->flags & X86_FEATURE_NO_AUTO)
    return "§4.5: never auto-enabled in host/max";
  for (guint i = 0; i < G_N_ELEMENTS (qemu_removals); i++)
    if (g_str_equal (qemu_removals[i].name, feature->name))
      {
        if (qemu_removals[i].condition == REMOVAL_UNLESS_AMD && host_vendor_is_amd (hardware))
          return NULL;
        if (qemu_removals[i].condition == REMOVAL_WITHOUT_SGX
            && g_file_test ("/dev/sgx_vepc", G_FILE_TEST_EXISTS))
          return NULL;
        return qemu_removals[i].why;
      }
  return NULL;
}

static void
test_qemu_host_model (void **state)
{
  g_autoptr (X86KvmCpuid) kvm = NULL;
  g_autoptr (X86CpuidDump) hardware = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) unexplained = g_string_new (NULL);
  g_autofree char *version = NULL;
  json_object *props;
  X86FeatureSet hardware_features;
  guint n_features, n_agreed = 0, n_allowed = 0;
  const X86Feature *features = x86_features (&n_features);

  TEST_REQUIRE_QEMU ();
  kvm = read_kvm_or_skip ();
  hardware = x86_host_cpuid_read (0, &error);
  assert_non_null (hardware);
  x86_feature_set_from_cpuid (&hardware_features, hardware, 0);
  /* Spoken over -qmp stdio (test-util) because x86/ must not depend on qmp/. */
  props = test_qemu_full_expansion ("kvm", "{\"name\": \"host\", \"props\": {\"migratable\": false}}",
                                    &version);

  for (guint i = 0; i < n_features; i++)
    {
      const X86Feature *feature = &features[i];
      json_object *value = NULL;
      gboolean known, in_qemu, in_kvm;
      const char *why;

      if (!is_comparable (feature))
        continue;
      /* A full expansion lists every property the QEMU has, true or false. */
      known = json_object_object_get_ex (props, x86_feature_qemu_property (feature), &value);
      in_qemu = known && json_object_get_boolean (value);
      in_kvm = x86_feature_set_has (&kvm->supported_features, feature);
      if (in_qemu == in_kvm)
        {
          n_agreed += in_kvm;
          continue;
        }
      if (in_qemu)
        {
          why = explain_qemu_only (feature, &hardware_features);
          if (why == NULL)
            {
              g_string_append_printf (unexplained, " %s (QEMU's host model enables it, "
                                      "KVM_GET_SUPPORTED_CPUID lacks it)", feature->name);
              continue;
            }
          print_message ("ALLOWED: %s in QEMU's host model, not in KVM_GET_SUPPORTED_CPUID: %s\n",
                         feature->name, why);
        }
      else
        {
          g_autofree char *unknown = NULL;

          if (!known)
            why = unknown = g_strdup_printf ("QEMU %s has no property %s", version,
                                             x86_feature_qemu_property (feature));
          else
            why = explain_kvm_only (feature, hardware);
          if (why == NULL)
            {
              g_string_append_printf (unexplained, " %s (KVM supports it, QEMU's host model "
                                      "leaves it out)", feature->name);
              continue;
            }
          print_message ("ALLOWED: %s in KVM_GET_SUPPORTED_CPUID, not in QEMU's host model: %s\n",
                         feature->name, why);
        }
      n_allowed++;
    }
  json_object_put (props);
  print_message ("QEMU %s host model and KVM_GET_SUPPORTED_CPUID: %u features agree, "
                 "%u allowed differences\n", version, n_agreed, n_allowed);
  if (unexplained->len > 0)
    fail_msg ("unexplained differences:%s", unexplained->str);
  /* Every KVM offers the basic x86-64 set; agreeing on almost nothing means a broken read. */
  assert_true (n_agreed > 20);
}

/* The lowest bit of KVM's IA32_ARCH_CAPABILITIES value that has a name, or NULL. */
static const X86Feature *
first_offered_bit (guint64 offered)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);
  const X86FeatureWord *words = x86_feature_words (NULL);

  for (guint i = 0; i < n_features; i++)
    {
      const X86FeatureWord *word = &words[features[i].word];

      if (word->kind == X86_WORD_MSR && word->msr == 0x10a
          && (offered >> (features[i].bit + word->bit_offset)) & 1)
        return &features[i];
    }
  return NULL;
}

/* What the scratch vCPU said about IA32_ARCH_CAPABILITIES is what QEMU meets: a refusing
 * KVM makes QEMU abort on a guest with one of KVM's own bits, an accepting one starts it. */
static void
test_arch_capabilities_as_qemu_meets_it (void **state)
{
  g_autoptr (X86KvmCpuid) kvm = read_kvm_or_skip ();
  const X86KvmArchCapabilities *caps = &kvm->arch_capabilities;
  const X86Feature *bit;
  g_autofree char *cpu = NULL;
  g_autofree char *failure = NULL;

  TEST_REQUIRE_QEMU ();
  print_message ("IA32_ARCH_CAPABILITIES: KVM offers 0x%" G_GINT64_MODIFIER "x, a vCPU: %s\n",
                 caps->offered, x86_kvm_msr_write_name (caps->write));
  assert_int_not_equal (caps->write, X86_KVM_MSR_UNKNOWN);
  if (caps->write == X86_KVM_MSR_NOT_WRITTEN)
    {
      print_message ("SKIP: this KVM does not list IA32_ARCH_CAPABILITIES; QEMU never writes it\n");
      skip ();
    }
  bit = first_offered_bit (caps->offered);
  cpu = bit != NULL ? g_strdup_printf ("qemu64,arch-capabilities=on,%s=on", bit->name)
                    : g_strdup ("qemu64,arch-capabilities=on");
  failure = test_qemu_start_failure ("kvm", cpu);
  print_message ("-cpu %s: %s\n", cpu, failure != NULL ? failure : "starts");
  if (caps->write == X86_KVM_MSR_REFUSED && bit != NULL)
    {
      assert_non_null (failure);
      assert_non_null (strstr (failure, "0x10a"));
    }
  else
    assert_null (failure);
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
    cmocka_unit_test (test_qemu_host_model),
    cmocka_unit_test (test_arch_capabilities_as_qemu_meets_it),
  };

  test_skip_program_without_named_qemu ();

  return cmocka_run_group_tests (tests, NULL, NULL);
}
