/* tests/test-compare.c — every reason and every verdict rule of probe/compare.h, on
 * hand-written feature sets. */
#include "tests/test-util.h"
#include "probe/compare.h"

#include <string.h>

static void
set_of (X86FeatureSet *set, const char *names)
{
  g_auto (GStrv) split = g_strsplit (names, " ", -1);

  x86_feature_set_clear (set);
  for (guint i = 0; split[i] != NULL; i++)
    {
      const X86Feature *feature;

      if (split[i][0] == '\0')
        continue;
      feature = x86_feature_lookup (split[i]);
      if (feature == NULL)
        fail_msg ("unknown feature in test: %s", split[i]);
      x86_feature_set_add (set, feature);
    }
}

/* A kvm guest of a small model whose expansion equals the model and nothing is filtered. */
static void
plain_input (ProbeCompareInput *input, const char *accel, const char *machine,
             const char *model_features)
{
  memset (input, 0, sizeof *input);
  input->accel = accel;
  input->machine = machine;
  set_of (&input->model, model_features);
  input->expansion = input->model;
  input->guest = input->model;
}

static const ProbeChange *
change_of (GArray *changes, const char *name)
{
  return probe_diff_find (changes, x86_feature_lookup (name));
}

static void
assert_change (GArray *changes, const char *name, ProbeReason reason, const char *detail)
{
  const ProbeChange *change = change_of (changes, name);

  if (change == NULL)
    fail_msg ("%s is not in the list", name);
  assert_string_equal (probe_reason_name (change->reason), probe_reason_name (reason));
  if (detail != NULL)
    assert_string_equal (change->detail, detail);
}

static gboolean
has_problem (ProbeDiff *diff, const char *phrase)
{
  for (guint i = 0; i < diff->problems->len; i++)
    if (strcmp (g_ptr_array_index (diff->problems, i), phrase) == 0)
      return TRUE;
  return FALSE;
}

static void
test_identical_passes (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu sse sse2 hypervisor");
  diff = probe_compare (&input);
  assert_int_equal (diff->added->len, 0);
  assert_int_equal (diff->removed->len, 0);
  assert_true (diff->pass);
}

static void
test_added_accel_default (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;
  g_autoptr (ProbeDiff) strict = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu sse");
  set_of (&input.guest, "fpu sse x2apic kvmclock kvmclock2");
  assert_true (x86_feature_set_has (&input.guest, x86_feature_lookup ("kvmclock2")));
  input.expansion = input.guest;
  diff = probe_compare (&input);
  assert_change (diff->added, "x2apic", PROBE_REASON_ACCEL_DEFAULT, "kvm");
  assert_change (diff->added, "kvmclock", PROBE_REASON_ACCEL_DEFAULT, "kvm");
  /* One QEMU property drives both kvmclock bits, and one line says so. */
  assert_null (change_of (diff->added, "kvmclock2"));
  assert_int_equal (diff->removed->len, 0);
  assert_true (diff->pass);

  input.strict = TRUE;
  strict = probe_compare (&input);
  assert_false (strict->pass);
  assert_true (has_problem (strict, "x2apic added by accel-default"));
}

static void
test_added_accel_default_is_per_accel (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu");
  set_of (&input.guest, "fpu x2apic");
  input.expansion = input.guest;
  diff = probe_compare (&input);
  assert_change (diff->added, "x2apic", PROBE_REASON_MACHINE_TYPE, "pc-i440fx-7.2");
}

static void
test_added_model_version (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu sse");
  input.versioned_model = "Nehalem-v2";
  set_of (&input.versioned, "fpu sse spec-ctrl");
  input.expansion = input.versioned;
  input.guest = input.versioned;
  diff = probe_compare (&input);
  assert_change (diff->added, "spec-ctrl", PROBE_REASON_MODEL_VERSION, "Nehalem-v2");
  assert_true (diff->pass);
}

static void
test_added_qemu_fixup_machine_type_and_unexplained (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) on_none = NULL;
  g_autoptr (ProbeDiff) on_pc = NULL;

  plain_input (&input, "tcg", "none", "fpu");
  set_of (&input.guest, "fpu hypervisor pcid");
  input.expansion = input.guest;
  on_none = probe_compare (&input);
  assert_change (on_none->added, "hypervisor", PROBE_REASON_QEMU_FIXUP,
                 "QEMU sets it in every named model");
  assert_change (on_none->added, "pcid", PROBE_REASON_QEMU, NULL);

  input.machine = "pc-q35-7.2";
  on_pc = probe_compare (&input);
  assert_change (on_pc->added, "hypervisor", PROBE_REASON_QEMU_FIXUP, NULL);
  assert_change (on_pc->added, "pcid", PROBE_REASON_MACHINE_TYPE, "pc-q35-7.2");
  assert_true (on_pc->pass);
}

static void
test_removed_policy_passes (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu avx");
  set_of (&input.off, "avx");
  set_of (&input.expansion, "fpu");
  input.guest = input.expansion;
  diff = probe_compare (&input);
  assert_change (diff->removed, "avx", PROBE_REASON_POLICY, "disable");
  assert_true (diff->pass);
}

static void
test_removed_accel_default_fails (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu monitor");
  set_of (&input.expansion, "fpu");
  input.guest = input.expansion;
  diff = probe_compare (&input);
  assert_change (diff->removed, "monitor", PROBE_REASON_ACCEL_DEFAULT, "kvm");
  assert_false (diff->pass);
  assert_true (has_problem (diff, "monitor of the model removed by accel-default"));
}

static void
test_removed_model_version (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu hle rtm");
  input.versioned_model = "Haswell-v2";
  set_of (&input.versioned, "fpu");
  input.expansion = input.versioned;
  input.guest = input.versioned;
  diff = probe_compare (&input);
  assert_change (diff->removed, "hle", PROBE_REASON_MODEL_VERSION, "Haswell-v2");
  assert_change (diff->removed, "rtm", PROBE_REASON_MODEL_VERSION, "Haswell-v2");
  assert_false (diff->pass);
}

static void
test_removed_machine_type (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-1.4", "fpu arat f16c");
  set_of (&input.expansion, "fpu");
  input.guest = input.expansion;
  diff = probe_compare (&input);
  assert_change (diff->removed, "arat", PROBE_REASON_MACHINE_TYPE, "pc-i440fx-1.4");
  assert_change (diff->removed, "f16c", PROBE_REASON_MACHINE_TYPE, "pc-i440fx-1.4");
  assert_true (has_problem (diff, "arat of the model removed by machine-type"));
  assert_false (diff->pass);
}

static void
test_removed_kvm_leaf_off_kvm (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  /* Asked for under tcg, the KVM leaf is gone before filtering, whatever the machine. */
  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu");
  set_of (&input.on, "kvmclock");
  diff = probe_compare (&input);
  assert_change (diff->removed, "kvmclock", PROBE_REASON_ACCELERATOR, "tcg");
  assert_true (has_problem (diff, "kvmclock required but removed by accelerator"));
}

static void
test_removed_accelerator (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu avx2 hle");
  set_of (&input.guest, "fpu avx2");
  diff = probe_compare (&input);
  assert_change (diff->removed, "hle", PROBE_REASON_ACCELERATOR, "tcg");
  assert_false (diff->pass);
}

/* The host layers of a nested KVM: the silicon has AVX2 and AVX-512F, KVM gives neither
 * of them, but it emulates x2apic, which the silicon lacks. */
static ProbeHostLayers *
nested_host (void)
{
  ProbeHostLayers *layers = g_new0 (ProbeHostLayers, 1);

  layers->hardware_known = TRUE;
  layers->hardware_origin = g_strdup ("hardware");
  set_of (&layers->hardware, "fpu sse avx avx2 avx512f pcid");
  layers->kvm_known = TRUE;
  set_of (&layers->kvm, "fpu sse avx x2apic pcid kvmclock");
  return layers;
}

static void
test_removed_kvm_not_hardware (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu sse avx2");
  input.layers = layers;
  set_of (&input.guest, "fpu sse");
  diff = probe_compare (&input);
  assert_change (diff->removed, "avx2", PROBE_REASON_KVM, NULL);
  assert_true (has_problem (diff, "avx2 of the model removed by kvm"));
  assert_false (diff->pass);
}

static void
test_removed_hardware (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu");
  input.layers = layers;
  set_of (&input.on, "avx512bw");
  set_of (&input.expansion, "fpu avx512bw");
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_change (diff->removed, "avx512bw", PROBE_REASON_HARDWARE, "not in the CPUID of every CPU");
  assert_true (has_problem (diff, "avx512bw required but removed by hardware"));
}

/* A KVM whose vCPUs refuse IA32_ARCH_CAPABILITIES: QEMU would abort with any of its bits,
 * so they leave the guest, removed by kvm, and the verdict says why it cannot start. */
static void
test_refused_msr_bits_abort (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  layers->kvm_arch_capabilities = X86_KVM_MSR_REFUSED;
  layers->kvm_arch_capabilities_offered = 0x69;
  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu arch-capabilities rdctl-no");
  set_of (&input.expansion, "fpu arch-capabilities rdctl-no mds-no");
  set_of (&input.guest, "fpu arch-capabilities rdctl-no mds-no");
  input.layers = layers;
  probe_compare_refuse_msr_bits (&input);
  diff = probe_compare (&input);
  assert_false (x86_feature_set_has (&input.guest, x86_feature_lookup ("rdctl-no")));
  assert_true (x86_feature_set_has (&input.guest, x86_feature_lookup ("arch-capabilities")));
  assert_change (diff->removed, "rdctl-no", PROBE_REASON_KVM,
                 "a vCPU of this KVM refuses IA32_ARCH_CAPABILITIES (KVM's own 0x69): "
                 "QEMU aborts at start with it set");
  /* Not in the definition, yet removed: the updated definition must turn it off. */
  assert_change (diff->removed, "mds-no", PROBE_REASON_KVM, NULL);
  assert_true (has_problem (diff, "QEMU aborts at start: a vCPU of this KVM refuses "
                                  "IA32_ARCH_CAPABILITIES with rdctl-no, mds-no set"));
  assert_false (diff->pass);
}

/* ht and topoext pass QEMU's kvm filter only when KVM's table has them; the KVM leaf's
 * kvm-hint-dedicated is QEMU's own and stays. */
static void
test_no_auto_features_follow_kvm (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  set_of (&layers->hardware, "fpu sse ht topoext");
  set_of (&layers->kvm, "fpu sse topoext");
  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu sse");
  set_of (&input.on, "ht topoext kvm-hint-dedicated");
  set_of (&input.expansion, "fpu sse ht topoext kvm-hint-dedicated");
  set_of (&input.guest, "fpu sse ht topoext kvm-hint-dedicated");
  input.layers = layers;
  probe_compare_filter_no_auto (&input);
  diff = probe_compare (&input);
  assert_false (x86_feature_set_has (&input.guest, x86_feature_lookup ("ht")));
  assert_true (x86_feature_set_has (&input.guest, x86_feature_lookup ("topoext")));
  assert_true (x86_feature_set_has (&input.guest, x86_feature_lookup ("kvm-hint-dedicated")));
  assert_change (diff->removed, "ht", PROBE_REASON_KVM, NULL);
  assert_true (has_problem (diff, "ht required but removed by kvm"));

  /* Unknown KVM, or tcg: nothing to go by, the guest stays as the expansion made it. */
  layers->kvm_known = FALSE;
  set_of (&input.guest, "fpu sse ht");
  probe_compare_filter_no_auto (&input);
  assert_true (x86_feature_set_has (&input.guest, x86_feature_lookup ("ht")));
}

/* A KVM that takes the MSR, or another accelerator, leaves the guest as QEMU made it. */
static void
test_accepted_msr_bits_stay (void **state)
{
  const X86KvmMsrWrite writes[] = { X86_KVM_MSR_ACCEPTED, X86_KVM_MSR_UNKNOWN, X86_KVM_MSR_REFUSED };
  const char *accels[] = { "kvm", "kvm", "tcg" };

  for (guint i = 0; i < G_N_ELEMENTS (writes); i++)
    {
      ProbeCompareInput input;
      g_autoptr (ProbeHostLayers) layers = nested_host ();
      g_autoptr (ProbeDiff) diff = NULL;

      layers->kvm_arch_capabilities = writes[i];
      plain_input (&input, accels[i], "pc-i440fx-7.2", "fpu arch-capabilities rdctl-no");
      input.layers = layers;
      probe_compare_refuse_msr_bits (&input);
      diff = probe_compare (&input);
      assert_true (x86_feature_set_has (&input.guest, x86_feature_lookup ("rdctl-no")));
      assert_int_equal (diff->removed->len, 0);
      assert_true (diff->pass);
    }
}

static void
test_removed_qemu_when_kvm_supports (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  /* The silicon lacks x2apic, but KVM emulates it: the silicon is not to blame. */
  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu x2apic pcid");
  input.layers = layers;
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_change (diff->removed, "x2apic", PROBE_REASON_QEMU, NULL);
  assert_change (diff->removed, "pcid", PROBE_REASON_QEMU, NULL);
}

static void
test_removed_kvm_leaf_is_never_hardware (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu");
  input.layers = layers;
  set_of (&input.on, "kvm-pv-unhalt");
  set_of (&input.expansion, "fpu kvm-pv-unhalt");
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_change (diff->removed, "kvm-pv-unhalt", PROBE_REASON_KVM, NULL);
}

static void
test_removed_msr_bit_under_kvm (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu rdctl-no");
  input.layers = layers;
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_change (diff->removed, "rdctl-no", PROBE_REASON_KVM, "KVM's feature MSRs lack it");
}

static void
test_removed_unknown_without_layers (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = probe_host_layers_new_unknown ("a replay");
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu avx2");
  input.layers = layers;
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_change (diff->removed, "avx2", PROBE_REASON_UNKNOWN, "a replay");
  assert_false (diff->pass);
}

static void
test_removed_hardware_known_kvm_unknown (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  layers->kvm_known = FALSE;
  layers->kvm_unknown_reason = g_strdup ("a replay");
  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu avx2 avx512bw");
  input.layers = layers;
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  /* The silicon lacks avx512bw: that alone explains it. Not so for avx2. */
  assert_change (diff->removed, "avx512bw", PROBE_REASON_HARDWARE, NULL);
  assert_change (diff->removed, "avx2", PROBE_REASON_UNKNOWN, "a replay");
}

static void
test_removed_unknown_to_qemu (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-2.0", "fpu");
  set_of (&input.on, "avx512-fp16");
  set_of (&input.unknown_to_qemu, "avx512-fp16");
  diff = probe_compare (&input);
  assert_change (diff->removed, "avx512-fp16", PROBE_REASON_QEMU,
                 "this QEMU has no property of that name");
  assert_true (has_problem (diff, "avx512-fp16 required but removed by qemu"));
}

static void
test_disabled_but_present_fails (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu");
  set_of (&input.off, "x2apic");
  set_of (&input.guest, "fpu x2apic");
  input.expansion = input.guest;
  diff = probe_compare (&input);
  assert_true (has_problem (diff, "x2apic disabled but present"));
  /* Present against the definition is an addition too, with the layer that made it. */
  assert_change (diff->added, "x2apic", PROBE_REASON_ACCEL_DEFAULT, "kvm");
  assert_false (diff->pass);
}

static void
test_forbid (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) host_has_it = NULL;
  g_autoptr (ProbeDiff) host_lacks_it = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu");
  set_of (&input.off, "avx");
  set_of (&input.forbidden, "avx");
  input.supported_known = TRUE;
  set_of (&input.supported, "fpu avx");
  host_has_it = probe_compare (&input);
  assert_true (has_problem (host_has_it, "avx forbidden but supported by the host"));
  assert_false (host_has_it->pass);

  set_of (&input.supported, "fpu");
  host_lacks_it = probe_compare (&input);
  assert_true (host_lacks_it->pass);
}

static void
test_forbid_falls_back_to_kvm_layer (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = nested_host ();
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu");
  input.layers = layers;
  set_of (&input.off, "pcid");
  set_of (&input.forbidden, "pcid");
  diff = probe_compare (&input);
  assert_true (has_problem (diff, "pcid forbidden but supported by the host"));
}

static void
test_optional_filtered_passes (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu");
  set_of (&input.optional, "hle");
  set_of (&input.expansion, "fpu hle");
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_change (diff->removed, "hle", PROBE_REASON_ACCELERATOR, NULL);
  assert_true (diff->pass);
}

static void
test_required_missing_fails_once (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu hle");
  set_of (&input.on, "hle");
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_int_equal (diff->problems->len, 1);
  assert_true (has_problem (diff, "hle required but removed by accelerator"));
}

static void
test_baseline_blind (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) unnamed = NULL;
  g_autoptr (ProbeDiff) named = NULL;

  /* tcg's vme=off hides whether the model has vme; under kvm the guest shows it. */
  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu");
  probe_compare_baseline_blind ("tcg", &input.baseline_blind);
  assert_true (x86_feature_set_has (&input.baseline_blind, x86_feature_lookup ("vme")));
  set_of (&input.guest, "fpu vme");
  input.expansion = input.guest;
  unnamed = probe_compare (&input);
  assert_int_equal (unnamed->added->len, 0);
  assert_true (unnamed->pass);

  /* Named by the definition, it counts again. */
  input.accel = "tcg";
  set_of (&input.on, "vme");
  set_of (&input.guest, "fpu");
  named = probe_compare (&input);
  assert_change (named->removed, "vme", PROBE_REASON_ACCELERATOR, "tcg");
  assert_false (named->pass);
}

static void
test_json_shape (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeDiff) diff = NULL;
  json_object *json;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu");
  set_of (&input.guest, "fpu x2apic");
  input.expansion = input.guest;
  diff = probe_compare (&input);
  json = probe_changes_to_json (diff->added);
  assert_string_equal (json_object_to_json_string_ext (json, JSON_C_TO_STRING_PLAIN),
                       "[{\"feature\":\"x2apic\",\"reason\":\"accel-default\",\"detail\":\"kvm\"}]");
  json_object_put (json);
}

/* An AMD host (kvm_amd) with AMD's ibpb and ibrs, whose KVM offers Intel's spec-ctrl. */
static ProbeHostLayers *
amd_host (const char *kvm_features)
{
  ProbeHostLayers *layers = g_new0 (ProbeHostLayers, 1);

  layers->hardware_known = TRUE;
  layers->hardware_origin = g_strdup ("hardware");
  set_of (&layers->hardware, "fpu sse ibpb ibrs amd-ssbd");
  layers->kvm_host_kind.module = X86_KVM_MODULE_SVM;
  layers->kvm_known = TRUE;
  set_of (&layers->kvm, kvm_features);
  return layers;
}

/* The guest owes spec-ctrl and ssbd to KVM, not to the silicon: said, and no failure. */
static void
test_kvm_emulated_listed (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = amd_host ("fpu sse ibpb ibrs amd-ssbd spec-ctrl ssbd x2apic");
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu sse spec-ctrl ssbd x2apic");
  input.layers = layers;
  diff = probe_compare (&input);
  assert_true (diff->pass);
  assert_int_equal (diff->emulated->len, 3);
  assert_change (diff->emulated, "spec-ctrl", PROBE_REASON_KVM_EMULATED, NULL);
  assert_change (diff->emulated, "ssbd", PROBE_REASON_KVM_EMULATED, NULL);
  assert_change (diff->emulated, "x2apic", PROBE_REASON_KVM_EMULATED, NULL);
  assert_non_null (strstr (change_of (diff->emulated, "spec-ctrl")->detail, "kvm/cpuid.c"));

  /* Under tcg nothing is KVM's. */
  plain_input (&input, "tcg", "pc-i440fx-7.2", "fpu sse spec-ctrl ssbd x2apic");
  input.layers = layers;
  g_clear_pointer (&diff, probe_diff_free);
  diff = probe_compare (&input);
  assert_int_equal (diff->emulated->len, 0);
}

/* A KVM that could have derived spec-ctrl from the silicon and did not is to blame, not
 * the silicon; umip, which only VMX hosts emulate, stays the silicon's. */
static void
test_removed_kvm_could_emulate (void **state)
{
  ProbeCompareInput input;
  g_autoptr (ProbeHostLayers) layers = amd_host ("fpu sse ibpb ibrs amd-ssbd");
  g_autoptr (ProbeDiff) diff = NULL;

  plain_input (&input, "kvm", "pc-i440fx-7.2", "fpu spec-ctrl umip");
  input.layers = layers;
  set_of (&input.guest, "fpu");
  diff = probe_compare (&input);
  assert_change (diff->removed, "spec-ctrl", PROBE_REASON_KVM, NULL);
  assert_non_null (strstr (change_of (diff->removed, "spec-ctrl")->detail, "although KVM can"));
  assert_change (diff->removed, "umip", PROBE_REASON_HARDWARE, "not in the CPUID of every CPU");
  assert_true (has_problem (diff, "spec-ctrl of the model removed by kvm"));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_identical_passes),
    cmocka_unit_test (test_added_accel_default),
    cmocka_unit_test (test_added_accel_default_is_per_accel),
    cmocka_unit_test (test_added_model_version),
    cmocka_unit_test (test_added_qemu_fixup_machine_type_and_unexplained),
    cmocka_unit_test (test_removed_policy_passes),
    cmocka_unit_test (test_removed_accel_default_fails),
    cmocka_unit_test (test_removed_model_version),
    cmocka_unit_test (test_removed_machine_type),
    cmocka_unit_test (test_removed_accelerator),
    cmocka_unit_test (test_removed_kvm_leaf_off_kvm),
    cmocka_unit_test (test_removed_kvm_not_hardware),
    cmocka_unit_test (test_removed_hardware),
    cmocka_unit_test (test_kvm_emulated_listed),
    cmocka_unit_test (test_removed_kvm_could_emulate),
    cmocka_unit_test (test_removed_qemu_when_kvm_supports),
    cmocka_unit_test (test_removed_kvm_leaf_is_never_hardware),
    cmocka_unit_test (test_removed_msr_bit_under_kvm),
    cmocka_unit_test (test_removed_unknown_without_layers),
    cmocka_unit_test (test_removed_hardware_known_kvm_unknown),
    cmocka_unit_test (test_removed_unknown_to_qemu),
    cmocka_unit_test (test_disabled_but_present_fails),
    cmocka_unit_test (test_forbid),
    cmocka_unit_test (test_forbid_falls_back_to_kvm_layer),
    cmocka_unit_test (test_optional_filtered_passes),
    cmocka_unit_test (test_required_missing_fails_once),
    cmocka_unit_test (test_baseline_blind),
    cmocka_unit_test (test_json_shape),
    cmocka_unit_test (test_refused_msr_bits_abort),
    cmocka_unit_test (test_accepted_msr_bits_stay),
    cmocka_unit_test (test_no_auto_features_follow_kvm),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
