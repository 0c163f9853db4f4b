/* tests/test-libvirt-rules.c — libvirt's -cpu line, check modes and updated <cpu>, on the
 * CPU map installed on this host (skipped, saying so, where libvirt's map is missing) and
 * guest facts set here: the rules themselves, whatever QEMU this host runs. */
#include "tests/test-util.h"
#include "probe/libvirt-rules.h"
#include "probe/compare.h"

#include <string.h>

static LibvirtCpuMap *installed_map;

static int
load_map (void **state)
{
  const char *dir = g_getenv ("VCPUPROBE_TEST_CPU_MAP");
  g_autofree char *index = NULL;

  dir = dir != NULL ? dir : LIBVIRT_CPU_MAP_DEFAULT_DIR;
  index = g_build_filename (dir, "index.xml", NULL);
  if (g_file_test (index, G_FILE_TEST_IS_REGULAR))
    installed_map = libvirt_cpu_map_load (dir, NULL);
  return 0;
}

static int
free_map (void **state)
{
  g_clear_pointer (&installed_map, libvirt_cpu_map_free);
  return 0;
}

#define REQUIRE_MAP()                                                                    \
  do { if (installed_map == NULL) {                                                      \
         print_message ("SKIP: no libvirt CPU map installed (Debian: apt-get install "   \
                        "libvirt0)\n");                                                  \
         skip (); } } while (0)

static const X86Feature *
table (const char *name)
{
  const X86Feature *feature = x86_feature_lookup (name);

  if (feature == NULL)
    fail_msg ("feature table lacks '%s'", name);
  return feature;
}

static CpuDef *
xml_def (const char *xml)
{
  g_autoptr (GError) error = NULL;
  CpuDef *def = cpu_def_from_xml (xml, -1, NULL, &error);

  if (def == NULL)
    fail_msg ("%s", error->message);
  return def;
}

static void
add_names (X86FeatureSet *set, const char *names)
{
  g_auto (GStrv) list = g_strsplit (names, " ", -1);

  for (guint i = 0; list[i] != NULL; i++)
    if (*list[i] != '\0')
      x86_feature_set_add (set, table (list[i]));
}

static void
remove_names (X86FeatureSet *set, const char *names)
{
  g_auto (GStrv) list = g_strsplit (names, " ", -1);

  for (guint i = 0; list[i] != NULL; i++)
    if (*list[i] != '\0')
      x86_feature_set_remove (set, table (list[i]));
}

/* A guest that has exactly libvirt's model @model, then @plus, less @minus. */
typedef struct {
  X86FeatureSet guest;
  X86FeatureSet filtered;
  X86FeatureSet supported;
  LibvirtGuestFacts facts;
} Facts;

static void
facts_for_model (Facts *facts, const char *model, const char *accel, const char *plus,
                 const char *minus)
{
  const LibvirtCpuModel *libvirt_model = libvirt_cpu_map_find_model (installed_map, model);

  memset (facts, 0, sizeof *facts);
  assert_non_null (libvirt_model);
  facts->guest = libvirt_model->features;
  add_names (&facts->guest, plus);
  remove_names (&facts->guest, minus);
  facts->supported = facts->guest;
  facts->facts = (LibvirtGuestFacts) {
    .accel = accel, .guest = &facts->guest, .filtered = &facts->filtered,
    .supported_known = TRUE, .supported = &facts->supported,
  };
}

static void
test_qemu_definition (void **state)
{
  REQUIRE_MAP ();
  g_autoptr (CpuDef) epyc = xml_def ("<cpu><model>EPYC</model>"
                                     "<feature policy='require' name='pclmuldq'/>"
                                     "<feature policy='disable' name='lahf_lm'/></cpu>");
  g_autoptr (CpuDef) epyc_asked = libvirt_rules_qemu_definition (epyc, installed_map);
  g_autofree char *epyc_line = cpu_def_to_qemu_cpu_string (epyc_asked, FALSE);
  g_autoptr (CpuDef) ice = xml_def ("<cpu><model>Icelake-Server</model>"
                                    "<feature policy='require' name='intel-pt'/></cpu>");
  g_autoptr (CpuDef) ice_asked = libvirt_rules_qemu_definition (ice, installed_map);
  g_autofree char *ice_line = cpu_def_to_qemu_cpu_string (ice_asked, FALSE);
  g_autoptr (CpuDef) haswell = xml_def ("<cpu><model>Haswell-noTSX</model></cpu>");
  g_autoptr (CpuDef) haswell_asked = libvirt_rules_qemu_definition (haswell, installed_map);
  g_autoptr (CpuDef) unknown = xml_def ("<cpu><model>Westmere-v1</model></cpu>");
  g_autoptr (CpuDef) unknown_asked = libvirt_rules_qemu_definition (unknown, installed_map);

  /* As libvirt 9.0 wrote it for this definition (virsh domxml-to-native qemu-argv). */
  assert_string_equal (epyc_line, "EPYC,pclmulqdq=on,lahf-lm=off,monitor=off");
  /* A removed feature the definition names keeps the definition's policy. */
  assert_string_equal (ice_line, "Icelake-Server,intel-pt=on");
  assert_true (cpu_def_equal (haswell_asked, haswell));
  {
    g_autoptr (CpuDef) host = xml_def ("<cpu mode='host-passthrough'>"
                                       "<feature policy='require' name='ds_cpl'/></cpu>");
    g_autoptr (CpuDef) host_asked = libvirt_rules_qemu_definition (host, installed_map);
    g_autofree char *host_line = cpu_def_to_qemu_cpu_string (host_asked, FALSE);
    g_autoptr (CpuDef) pinned = xml_def ("<cpu mode='host-passthrough' migratable='off'/>");
    g_autoptr (CpuDef) pinned_asked = libvirt_rules_qemu_definition (pinned, installed_map);
    g_autofree char *pinned_line = cpu_def_to_qemu_cpu_string (pinned_asked, FALSE);

    /* libvirt writes "host,migratable=on,ds-cpl=on": the same settings. */
    assert_string_equal (host_line, "host,ds-cpl=on,migratable=on");
    assert_string_equal (pinned_line, "host,migratable=off");
  }
  assert_true (cpu_def_equal (unknown_asked, unknown));
}

static void
test_default_check (void **state)
{
  g_autoptr (CpuDef) custom = cpu_def_new (CPU_MODE_CUSTOM, "Haswell");
  g_autoptr (CpuDef) passthrough = cpu_def_new (CPU_MODE_HOST_PASSTHROUGH, NULL);
  g_autoptr (CpuDef) host_model = cpu_def_new (CPU_MODE_HOST_MODEL, NULL);

  assert_int_equal (libvirt_rules_effective_check (custom, "kvm"), CPU_CHECK_PARTIAL);
  assert_int_equal (libvirt_rules_effective_check (custom, "tcg"), CPU_CHECK_NONE);
  assert_int_equal (libvirt_rules_effective_check (passthrough, "kvm"), CPU_CHECK_NONE);
  assert_int_equal (libvirt_rules_effective_check (host_model, "tcg"), CPU_CHECK_PARTIAL);
  custom->check = CPU_CHECK_FULL;
  assert_int_equal (libvirt_rules_effective_check (custom, "tcg"), CPU_CHECK_FULL);
}

static void
test_full (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) def = xml_def ("<cpu check='full'><model>EPYC</model>"
                                    "<feature policy='disable' name='svm'/></cpu>");
  g_autoptr (LibvirtVerdict) verdict = NULL;
  g_autoptr (LibvirtVerdict) again = NULL;
  g_autoptr (GPtrArray) extra = NULL;
  g_autofree char *xml = NULL;

  /* What kvm does to EPYC: the paravirt leaf, x2apic and hypervisor on, svm off (asked
   * here), and a model feature the host lacks filtered. */
  facts_for_model (&facts, "EPYC", "kvm", "x2apic hypervisor kvmclock", "svm sha-ni");
  add_names (&facts.filtered, "sha-ni");
  verdict = libvirt_rules_judge (def, installed_map, &facts.facts);
  assert_int_equal (verdict->rule, LIBVIRT_RULE_CHECK_FULL);
  assert_false (verdict->check_defaulted);
  assert_false (verdict->pass);
  assert_string_equal (verdict->message, "guest CPU doesn't match specification: "
                                         "extra features: x2apic,hypervisor, "
                                         "missing features: sha-ni");
  /* kvmclock has no libvirt name: not judged, listed apart only when the probe says QEMU
   * added it (no diff here). */
  extra = libvirt_rules_feature_names (installed_map, &verdict->extra);
  assert_int_equal (extra->len, 2);

  /* The updated definition: libvirt's names, extra required, missing disabled; judged
   * again against the same guest it passes. */
  assert_string_equal (verdict->updated->model, "EPYC");
  assert_int_equal (verdict->updated->check, CPU_CHECK_FULL);
  xml = libvirt_verdict_updated_xml (verdict, installed_map);
  assert_non_null (strstr (xml, "<feature policy='disable' name='svm'/>"));
  assert_non_null (strstr (xml, "<feature policy='require' name='x2apic'/>"));
  assert_non_null (strstr (xml, "<feature policy='disable' name='sha-ni'/>"));
  assert_non_null (strstr (xml, "<feature policy='disable' name='monitor'/>"));
  assert_null (strstr (xml, "kvmclock"));
  /* Once disabled, sha-ni is no longer asked for, so QEMU has nothing to filter. */
  x86_feature_set_clear (&facts.filtered);
  again = libvirt_rules_judge (verdict->updated, installed_map, &facts.facts);
  assert_true (again->pass);
  assert_null (again->message);
}

static void
test_full_names_and_unnamed (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) def = xml_def ("<cpu check='full'><model>Haswell-noTSX</model>"
                                    "<feature policy='require' name='tsc_adjust'/></cpu>");
  g_autoptr (LibvirtVerdict) verdict = NULL;
  g_autoptr (GArray) added = g_array_new (FALSE, TRUE, sizeof (ProbeChange));
  g_autofree char *xml = NULL;
  ProbeChange kvmclock = { .feature = table ("kvmclock"), .reason = PROBE_REASON_ACCEL_DEFAULT };
  ProbeChange hypervisor = { .feature = table ("hypervisor"), .reason = PROBE_REASON_QEMU_FIXUP };
  json_object *json, *member;

  facts_for_model (&facts, "Haswell-noTSX", "kvm", "hypervisor kvmclock",
                   "pclmulqdq lahf-lm tsc-adjust");
  g_array_append_val (added, kvmclock);
  g_array_append_val (added, hypervisor);
  facts.facts.added = added;
  verdict = libvirt_rules_judge (def, installed_map, &facts.facts);
  /* libvirt's spellings, in the map's order. */
  assert_string_equal (verdict->message, "guest CPU doesn't match specification: "
                                         "extra features: hypervisor, "
                                         "missing features: pclmuldq,tsc_adjust,lahf_lm");
  assert_true (x86_feature_set_has (&verdict->unnamed_added, table ("kvmclock")));
  assert_false (x86_feature_set_has (&verdict->unnamed_added, table ("hypervisor")));
  xml = libvirt_verdict_updated_xml (verdict, installed_map);
  assert_non_null (strstr (xml, "<feature policy='disable' name='tsc_adjust'/>"));
  assert_non_null (strstr (xml, "<feature policy='disable' name='lahf_lm'/>"));
  assert_non_null (strstr (xml, "<!-- added by QEMU, no name in libvirt's CPU map: kvmclock -->"));
  assert_null (strstr (xml, "name='kvmclock'"));

  json = libvirt_verdict_to_json (verdict, installed_map);
  assert_string_equal (json_object_get_string (json_object_object_get (json, "rule")),
                       "libvirt-check-full");
  member = json_object_object_get (json_object_object_get (json, "not_in_libvirt_map"), "added");
  assert_int_equal (json_object_array_length (member), 1);
  assert_string_equal (json_object_get_string (json_object_array_get_idx (member, 0)), "kvmclock");
  member = json_object_object_get (json_object_object_get (json, "updated"), "features");
  assert_string_equal (json_object_get_string (json_object_object_get (member, "pclmuldq")),
                       "disable");
  json_object_put (json);
}

static void
test_partial_and_none (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) unset = xml_def ("<cpu><model>Haswell-noTSX</model>"
                                      "<feature policy='require' name='avx512f'/>"
                                      "<feature policy='forbid' name='vmx'/>"
                                      "<feature policy='force' name='rdseed'/></cpu>");
  g_autoptr (LibvirtVerdict) partial = NULL;
  g_autoptr (LibvirtVerdict) none = NULL;
  g_autoptr (LibvirtVerdict) full = NULL;

  /* The host-model CPU lacks avx512f and fma, has vmx; the guest lacks them too. */
  facts_for_model (&facts, "Haswell-noTSX", "kvm", "vmx hypervisor", "fma");
  remove_names (&facts.supported, "rdseed");
  partial = libvirt_rules_judge (unset, installed_map, &facts.facts);
  assert_int_equal (partial->rule, LIBVIRT_RULE_CHECK_PARTIAL);
  assert_true (partial->check_defaulted);
  /* forbid is told first, as virCPUx86Compare does; force needs nothing of the host. */
  assert_string_equal (partial->message, "the CPU is incompatible with host CPU: "
                                         "Host CPU provides forbidden feature 'vmx'");
  assert_true (x86_feature_set_has (&partial->host_lacks, table ("fma")));
  assert_true (x86_feature_set_has (&partial->host_lacks, table ("avx512f")));
  assert_false (x86_feature_set_has (&partial->host_lacks, table ("rdseed")));

  x86_feature_set_remove (&facts.supported, table ("vmx"));
  x86_feature_set_remove (&facts.guest, table ("vmx"));
  g_clear_pointer (&partial, libvirt_verdict_free);
  partial = libvirt_rules_judge (unset, installed_map, &facts.facts);
  assert_string_equal (partial->message, "the CPU is incompatible with host CPU: "
                                         "Host CPU does not provide required features: fma, avx512f");

  /* Under kvm libvirt's host-model CPU holds the host's own CPUID too: a feature KVM
   * does not offer but the silicon has is no lack (measured: a nested host whose KVM
   * hides bmi1 still starts check='partial' with bmi1 required). */
  {
    X86FeatureSet host_cpuid;
    g_autoptr (LibvirtVerdict) with_cpuid = NULL;

    x86_feature_set_clear (&host_cpuid);
    add_names (&host_cpuid, "fma avx512f");
    facts.facts.host_cpuid = &host_cpuid;
    with_cpuid = libvirt_rules_judge (unset, installed_map, &facts.facts);
    assert_true (with_cpuid->pass);
    facts.facts.accel = "tcg";
    unset->check = CPU_CHECK_PARTIAL;
    g_clear_pointer (&with_cpuid, libvirt_verdict_free);
    with_cpuid = libvirt_rules_judge (unset, installed_map, &facts.facts);
    assert_false (with_cpuid->pass);   /* tcg: QEMU's max alone */
    unset->check = CPU_CHECK_UNSET;
    facts.facts.host_cpuid = NULL;
  }

  /* Under tcg a custom CPU is not checked unless the definition asks. */
  facts.facts.accel = "tcg";
  none = libvirt_rules_judge (unset, installed_map, &facts.facts);
  assert_int_equal (none->rule, LIBVIRT_RULE_CHECK_NONE);
  assert_true (none->pass);
  unset->check = CPU_CHECK_FULL;
  full = libvirt_rules_judge (unset, installed_map, &facts.facts);
  assert_false (full->pass);
  assert_non_null (strstr (full->message, "missing features: fma,avx512f"));
}

/* check='partial' compares the vendor before any feature (x86Compute), under kvm and tcg
 * alike; check='full' and 'none' do not (measured with libvirt 9.0: a kvm domain with
 * <vendor>Intel</vendor> on an AMD host fails full by its features only, none starts). */
static void
test_partial_vendor (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) intel = xml_def ("<cpu check='partial'><model>Haswell-noTSX</model>"
                                      "<vendor>Intel</vendor>"
                                      "<feature policy='require' name='avx512f'/></cpu>");
  const char *checks[] = { "full", "none" };

  facts_for_model (&facts, "Haswell-noTSX", "tcg", "hypervisor", "");
  facts.facts.host_vendor = "AuthenticAMD";
  {
    g_autoptr (LibvirtVerdict) verdict = libvirt_rules_judge (intel, installed_map, &facts.facts);

    assert_false (verdict->pass);
    assert_true (verdict->refused_before_start);
    assert_string_equal (verdict->message, "the CPU is incompatible with host CPU: host CPU "
                                           "vendor does not match required CPU vendor Intel");
  }
  /* The host's own vendor: the features decide (avx512f is lacking). */
  facts.facts.host_vendor = "GenuineIntel";
  {
    g_autoptr (LibvirtVerdict) verdict = libvirt_rules_judge (intel, installed_map, &facts.facts);

    assert_string_equal (verdict->message, "the CPU is incompatible with host CPU: "
                                           "Host CPU does not provide required features: avx512f");
  }
  /* Unknown vendor (a post-start probe): not judged, never guessed. */
  facts.facts.host_vendor = NULL;
  add_names (&facts.supported, "avx512f");
  add_names (&facts.guest, "avx512f");
  {
    g_autoptr (LibvirtVerdict) verdict = libvirt_rules_judge (intel, installed_map, &facts.facts);

    assert_true (verdict->pass);
  }
  facts.facts.host_vendor = "AuthenticAMD";
  for (guint i = 0; i < G_N_ELEMENTS (checks); i++)
    {
      g_autofree char *xml = g_strdup_printf ("<cpu check='%s'><model>Haswell-noTSX</model>"
                                              "<vendor>Intel</vendor>"
                                              "<feature policy='require' name='avx512f'/>"
                                              "<feature policy='require' name='hypervisor'/>"
                                              "</cpu>", checks[i]);
      g_autoptr (CpuDef) def = xml_def (xml);
      g_autoptr (LibvirtVerdict) verdict = libvirt_rules_judge (def, installed_map, &facts.facts);

      assert_true (verdict->pass);
    }
}

/* What libvirt settles or drops before it builds the -cpu line is not held against the
 * guest: an optional feature the host lacks goes as off (never filtered), cmt is never
 * passed, and a feature this QEMU lacks is left out when it is to be off. Required, it
 * is passed, and QEMU refuses to start (the private libvirt harness: "require cvt16" gives
 * "can't apply global pentium2-x86_64-cpu.cvt16=on: Property ... not found"). */
static void
test_full_settled_and_dropped (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  X86FeatureSet unknown;
  g_autoptr (CpuDef) def = xml_def ("<cpu check='full'><model>Haswell-noTSX</model>"
                                    "<feature policy='optional' name='avx512f'/>"
                                    "<feature policy='optional' name='erms'/>"
                                    "<feature policy='require' name='cmt'/>"
                                    "<feature policy='disable' name='avx512-fp16'/>"
                                    "<feature policy='forbid' name='cvt16'/></cpu>");
  g_autoptr (CpuDef) required = xml_def ("<cpu check='none'><model>Haswell-noTSX</model>"
                                         "<feature policy='require' name='avx512-fp16'/>"
                                         "<feature policy='require' name='cvt16'/></cpu>");
  g_autoptr (LibvirtVerdict) verdict = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *required_xml = NULL;

  facts_for_model (&facts, "Haswell-noTSX", "kvm", "", "");
  add_names (&facts.filtered, "avx512f");
  x86_feature_set_clear (&unknown);
  add_names (&unknown, "avx512-fp16");
  facts.facts.unknown_to_qemu = &unknown;
  verdict = libvirt_rules_judge (def, installed_map, &facts.facts);
  assert_true (verdict->pass);
  xml = libvirt_verdict_updated_xml (verdict, installed_map);
  assert_non_null (strstr (xml, "<feature policy='disable' name='avx512f'/>"));
  assert_non_null (strstr (xml, "<feature policy='require' name='erms'/>"));
  assert_null (strstr (xml, "cmt"));
  assert_null (strstr (xml, "avx512-fp16"));
  assert_null (strstr (xml, "cvt16"));

  g_clear_pointer (&verdict, libvirt_verdict_free);
  verdict = libvirt_rules_judge (required, installed_map, &facts.facts);
  assert_false (verdict->pass);
  assert_false (verdict->refused_before_start);
  assert_string_equal (verdict->message, "QEMU has no CPU property 'avx512-fp16': it does not start");
  assert_int_equal (verdict->refusals->len, 2);
  /* The updated definition leaves them out, so that it starts. */
  required_xml = libvirt_verdict_updated_xml (verdict, installed_map);
  assert_null (strstr (required_xml, "avx512-fp16"));
  assert_null (strstr (required_xml, "cvt16"));
}

/* maximum and host-passthrough have no model: under check='full' only what they name is
 * held against the guest (the private libvirt harness: "maximum, check='full', require
 * serialize" under tcg is refused with "missing features: serialize"). */
static void
test_full_without_model (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) def = xml_def ("<cpu mode='maximum' check='full'>"
                                    "<feature policy='require' name='serialize'/>"
                                    "<feature policy='disable' name='pbe'/></cpu>");
  g_autoptr (CpuDef) quiet = xml_def ("<cpu mode='host-passthrough' check='full'/>");
  g_autoptr (LibvirtVerdict) verdict = NULL;

  facts_for_model (&facts, "Nehalem", "tcg", "hypervisor pbe", "");
  add_names (&facts.filtered, "serialize");
  verdict = libvirt_rules_judge (def, installed_map, &facts.facts);
  assert_string_equal (verdict->message, "guest CPU doesn't match specification: "
                                         "extra features: pbe, missing features: serialize");
  /* Asking for nothing, nothing is filtered, and whatever the guest has is right. */
  x86_feature_set_clear (&facts.filtered);
  g_clear_pointer (&verdict, libvirt_verdict_free);
  verdict = libvirt_rules_judge (quiet, installed_map, &facts.facts);
  assert_true (verdict->pass);
  add_names (&facts.filtered, "serialize");
  /* check='partial' compares nothing for these modes. */
  def->check = CPU_CHECK_PARTIAL;
  g_clear_pointer (&verdict, libvirt_verdict_free);
  verdict = libvirt_rules_judge (def, installed_map, &facts.facts);
  assert_true (verdict->pass);
}

/* A QEMU that exits while starting the CPU is refused by libvirt at start: after any
 * refusal before start, before anything judged of the started CPU. */
/* host-model: libvirt takes its check from the definition as written and compares that,
 * with no model, before it resolves it (the private libvirt harness: a tcg host-model
 * with check='partial' starts although the EPYC it resolves to has arat, which max lacks). */
static void
test_host_model_written (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) written = xml_def ("<cpu mode='host-model'>"
                                        "<feature policy='disable' name='osvw'/></cpu>");
  g_autoptr (CpuDef) resolved = xml_def ("<cpu><model>EPYC</model>"
                                         "<feature policy='disable' name='osvw'/></cpu>");
  g_autoptr (LibvirtVerdict) verdict = NULL;

  facts_for_model (&facts, "EPYC", "tcg", "", "osvw");
  remove_names (&facts.supported, "arat");
  facts.facts.written = written;
  verdict = libvirt_rules_judge (resolved, installed_map, &facts.facts);
  assert_int_equal (verdict->rule, LIBVIRT_RULE_CHECK_PARTIAL);   /* host-model's default */
  assert_true (verdict->check_defaulted);
  assert_true (verdict->pass);
  /* Judged as the resolved custom CPU alone, it would be no check at all under tcg. */
  facts.facts.written = NULL;
  g_clear_pointer (&verdict, libvirt_verdict_free);
  verdict = libvirt_rules_judge (resolved, installed_map, &facts.facts);
  assert_int_equal (verdict->rule, LIBVIRT_RULE_CHECK_NONE);
}

static void
test_refused_start (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) full = xml_def ("<cpu check='full'><model>Nehalem</model></cpu>");
  g_autoptr (CpuDef) partial = xml_def ("<cpu check='partial'><model>Nehalem</model></cpu>");
  g_autoptr (LibvirtVerdict) verdict = NULL;

  facts_for_model (&facts, "Nehalem", "kvm", "", "");
  verdict = libvirt_rules_judge (full, installed_map, &facts.facts);
  assert_true (verdict->pass);
  libvirt_verdict_refuse_start (verdict, "QEMU exited while starting the CPU: abort");
  assert_false (verdict->pass);
  assert_string_equal (verdict->message, "QEMU exited while starting the CPU: abort");

  /* After start, the hypervisor's bit would fail check='full': the start fails first. */
  add_names (&facts.guest, "hypervisor");
  g_clear_pointer (&verdict, libvirt_verdict_free);
  verdict = libvirt_rules_judge (full, installed_map, &facts.facts);
  assert_false (verdict->refused_before_start);
  libvirt_verdict_refuse_start (verdict, "QEMU exited while starting the CPU: abort");
  assert_string_equal (verdict->message, "QEMU exited while starting the CPU: abort");

  /* check='partial' refuses before QEMU runs: that stays the message. */
  remove_names (&facts.supported, "ssse3");
  g_clear_pointer (&verdict, libvirt_verdict_free);
  verdict = libvirt_rules_judge (partial, installed_map, &facts.facts);
  assert_true (verdict->refused_before_start);
  libvirt_verdict_refuse_start (verdict, "QEMU exited while starting the CPU: abort");
  assert_string_equal (verdict->message, "the CPU is incompatible with host CPU: "
                                         "Host CPU does not provide required features: ssse3");
  assert_int_equal (verdict->refusals->len, 1);
}

static void
test_refusals (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (CpuDef) kvmclock = xml_def ("<cpu check='none'><model>Haswell-noTSX</model>"
                                         "<feature policy='require' name='kvmclock'/></cpu>");
  g_autoptr (CpuDef) versioned = xml_def ("<cpu check='none'><model>Westmere-v1</model></cpu>");
  g_autoptr (CpuDef) invtsc = xml_def ("<cpu check='none'><model>Haswell-noTSX</model>"
                                       "<feature policy='require' name='invtsc'/></cpu>");
  g_autoptr (LibvirtVerdict) verdict = NULL;
  g_autofree char *xml = NULL;

  facts_for_model (&facts, "Haswell-noTSX", "kvm", "kvmclock", "");
  verdict = libvirt_rules_judge (kvmclock, installed_map, &facts.facts);
  assert_false (verdict->pass);
  assert_string_equal (verdict->message, "unknown CPU feature: kvmclock");
  /* The updated definition leaves out what libvirt cannot name. */
  xml = libvirt_verdict_updated_xml (verdict, installed_map);
  assert_null (strstr (xml, "kvmclock"));
  g_clear_pointer (&verdict, libvirt_verdict_free);

  verdict = libvirt_rules_judge (versioned, installed_map, &facts.facts);
  assert_string_equal (verdict->message, "Unknown CPU model Westmere-v1");
  /* libvirt knows QEMU's versions by the unversioned name. */
  assert_string_equal (verdict->updated->model, "Westmere");
  {
    g_autoptr (CpuDef) v2 = xml_def ("<cpu><model>IvyBridge-v2</model></cpu>");
    g_autoptr (CpuDef) not_a_version = xml_def ("<cpu><model>IvyBridge-vx</model></cpu>");
    g_autoptr (LibvirtVerdict) v2_verdict = libvirt_rules_judge (v2, installed_map, &facts.facts);
    g_autoptr (LibvirtVerdict) other = libvirt_rules_judge (not_a_version, installed_map,
                                                            &facts.facts);

    assert_string_equal (v2_verdict->message, "Unknown CPU model IvyBridge-v2");
    assert_string_equal (v2_verdict->updated->model, "IvyBridge");
    /* A name the map knows in no form: still refused, and the updated definition names
     * the map's model nearest to the guest, here the one the guest is made of. */
    assert_string_equal (other->message, "Unknown CPU model IvyBridge-vx");
    assert_string_equal (other->updated->model, "Haswell-noTSX");
  }
  g_clear_pointer (&verdict, libvirt_verdict_free);

  verdict = libvirt_rules_judge (invtsc, installed_map, &facts.facts);
  assert_string_equal (verdict->message, "host doesn't support invariant TSC");
  g_clear_pointer (&verdict, libvirt_verdict_free);
  x86_feature_set_add (&facts.guest, table ("invtsc"));
  verdict = libvirt_rules_judge (invtsc, installed_map, &facts.facts);
  assert_true (verdict->pass);
}

/* The nearest models: the one the guest is made of first, then those one feature away;
 * the <decode guest='off'> twins never. */
static void
test_models_nearest (void **state)
{
  REQUIRE_MAP ();
  Facts facts;
  g_autoptr (GPtrArray) nearest = NULL;
  g_autoptr (GPtrArray) with_one_more = NULL;

  facts_for_model (&facts, "Westmere", "tcg", "", "");
  nearest = libvirt_rules_models_nearest (installed_map, &facts.guest);
  assert_true (nearest->len > 10);
  assert_string_equal (nearest->pdata[0], "Westmere");
  for (guint i = 0; i < nearest->len; i++)
    assert_true (libvirt_cpu_map_find_model (installed_map, nearest->pdata[i])->decode_guest);

  /* One feature more (libvirt's Westmere has no pclmuldq): Westmere is one away, and no
   * model of the map is Westmere with it. */
  facts_for_model (&facts, "Westmere", "tcg", "pclmulqdq", "");
  with_one_more = libvirt_rules_models_nearest (installed_map, &facts.guest);
  assert_string_equal (with_one_more->pdata[0], "Westmere");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_qemu_definition),
    cmocka_unit_test (test_default_check),
    cmocka_unit_test (test_full),
    cmocka_unit_test (test_full_names_and_unnamed),
    cmocka_unit_test (test_partial_and_none),
    cmocka_unit_test (test_full_settled_and_dropped),
    cmocka_unit_test (test_full_without_model),
    cmocka_unit_test (test_host_model_written),
    cmocka_unit_test (test_refused_start),
    cmocka_unit_test (test_refusals),
    cmocka_unit_test (test_partial_vendor),
    cmocka_unit_test (test_models_nearest),
  };

  return cmocka_run_group_tests (tests, load_map, free_map);
}
