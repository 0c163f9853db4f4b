/* tests/test-cpu-def.c — CPU definitions: -cpu strings, libvirt XML, JSON, and the views
 * the probe takes of them. */
#include "tests/test-util.h"
#include "probe/cpu-def.h"

#include <string.h>
#include <glib/gstdio.h>

static const X86Feature *
feature (const char *name)
{
  const X86Feature *found = x86_feature_lookup (name);

  if (found == NULL)
    fail_msg ("feature table lacks '%s'", name);
  return found;
}

static void
assert_policy (const CpuDef *def, const char *name, CpuPolicy expected)
{
  CpuPolicy policy;

  if (!cpu_def_get_policy (def, feature (name), &policy))
    fail_msg ("definition does not name '%s'", name);
  assert_string_equal (cpu_policy_name (policy), cpu_policy_name (expected));
}

/* The feature at @index, by canonical name. */
static const char *
feature_name_at (const CpuDef *def, guint index)
{
  assert_true (index < def->features->len);
  return g_array_index (def->features, CpuFeature, index).feature->name;
}

static void
assert_property (const CpuDef *def, guint index, const char *name, const char *value)
{
  assert_true (index < def->properties->len);
  const CpuProperty *property = g_ptr_array_index (def->properties, index);
  assert_string_equal (property->name, name);
  if (value == NULL)
    assert_null (property->value);
  else
    assert_string_equal (property->value, value);
}

static void
assert_cpu_string_error (const char *cpu_string, CpuDefError code, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def = cpu_def_from_qemu_cpu_string (cpu_string, &error);

  assert_null (def);
  assert_non_null (error);
  assert_true (error->domain == CPU_DEF_ERROR);
  assert_string_equal (error->message, message);
  assert_int_equal (error->code, code);
}

static void
assert_xml_error (const char *xml, CpuDefError code, const char *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def = cpu_def_from_xml (xml, -1, "test.xml", &error);

  assert_null (def);
  assert_non_null (error);
  assert_true (error->domain == CPU_DEF_ERROR);
  assert_string_equal (error->message, message);
  assert_int_equal (error->code, code);
}

static CpuDef *
parse_cpu_string (const char *cpu_string)
{
  g_autoptr (GError) error = NULL;
  CpuDef *def = cpu_def_from_qemu_cpu_string (cpu_string, &error);

  if (def == NULL)
    fail_msg ("'%s': %s", cpu_string, error->message);
  return def;
}

static CpuDef *
parse_xml (const char *xml)
{
  g_autoptr (GError) error = NULL;
  CpuDef *def = cpu_def_from_xml (xml, -1, "test.xml", &error);

  if (def == NULL)
    fail_msg ("%s", error->message);
  return def;
}

/* -cpu strings ---------------------------------------------------------------------------- */

static void
test_cpu_string_plus_minus (void **state)
{
  g_autoptr (CpuDef) def = parse_cpu_string ("Haswell-noTSX,+x2apic,-hle");

  assert_int_equal (def->mode, CPU_MODE_CUSTOM);
  assert_string_equal (def->model, "Haswell-noTSX");
  assert_int_equal (def->match, CPU_MATCH_EXACT);
  assert_int_equal (def->check, CPU_CHECK_UNSET);
  assert_int_equal (def->features->len, 2);
  assert_string_equal (feature_name_at (def, 0), "x2apic");
  assert_string_equal (feature_name_at (def, 1), "hle");
  assert_policy (def, "x2apic", CPU_POLICY_REQUIRE);
  assert_policy (def, "hle", CPU_POLICY_DISABLE);
  assert_int_equal (def->properties->len, 0);
}

static void
test_cpu_string_on_off (void **state)
{
  g_autoptr (CpuDef) skylake = parse_cpu_string ("Skylake-Server,hle=off,pcid=on");
  g_autoptr (CpuDef) epyc = parse_cpu_string ("EPYC,topoext=on,svm=off");

  assert_string_equal (skylake->model, "Skylake-Server");
  assert_policy (skylake, "hle", CPU_POLICY_DISABLE);
  assert_policy (skylake, "pcid", CPU_POLICY_REQUIRE);
  assert_string_equal (epyc->model, "EPYC");
  assert_policy (epyc, "topoext", CPU_POLICY_REQUIRE);
  assert_policy (epyc, "svm", CPU_POLICY_DISABLE);
}

static void
test_cpu_string_special_models (void **state)
{
  g_autoptr (CpuDef) host = parse_cpu_string ("host");
  g_autoptr (CpuDef) max = parse_cpu_string ("max");
  g_autoptr (CpuDef) qemu64 = parse_cpu_string ("qemu64");

  assert_int_equal (host->mode, CPU_MODE_HOST_PASSTHROUGH);
  assert_null (host->model);
  assert_string_equal (cpu_def_qemu_model (host), "host");
  assert_int_equal (max->mode, CPU_MODE_MAXIMUM);
  assert_null (max->model);
  assert_string_equal (cpu_def_qemu_model (max), "max");
  assert_int_equal (qemu64->mode, CPU_MODE_CUSTOM);
  assert_string_equal (qemu64->model, "qemu64");
  assert_int_equal (qemu64->features->len, 0);
}

static void
test_cpu_string_boolean_words (void **state)
{
  g_autoptr (CpuDef) def
    = parse_cpu_string ("Haswell,avx2=true,bmi1=yes,bmi2,erms=false,invpcid=no,smep=on,smap=off");

  assert_policy (def, "avx2", CPU_POLICY_REQUIRE);
  assert_policy (def, "bmi1", CPU_POLICY_REQUIRE);
  assert_policy (def, "bmi2", CPU_POLICY_REQUIRE);
  assert_policy (def, "erms", CPU_POLICY_DISABLE);
  assert_policy (def, "invpcid", CPU_POLICY_DISABLE);
  assert_policy (def, "smep", CPU_POLICY_REQUIRE);
  assert_policy (def, "smap", CPU_POLICY_DISABLE);
}

static void
test_cpu_string_spellings (void **state)
{
  g_autoptr (CpuDef) def
    = parse_cpu_string ("Opteron_G3,+sse4_1,sse4-2=on,lahf_lm=on,+pclmuldq,-i64,fxsr_opt=off,"
                        "kvm_pv_eoi,+sse3,tsc_deadline,-xd,+ds_cpl,svm_lock=on");
  const char *const expected[] = { "sse4.1", "sse4.2", "lahf-lm", "pclmulqdq", "lm", "fxsr-opt",
                                   "kvm-pv-eoi", "pni", "tsc-deadline", "nx", "ds-cpl", "svm-lock" };

  assert_int_equal (def->features->len, G_N_ELEMENTS (expected));
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    assert_string_equal (feature_name_at (def, i), expected[i]);
  assert_policy (def, "lm", CPU_POLICY_DISABLE);
  assert_policy (def, "fxsr-opt", CPU_POLICY_DISABLE);
  assert_policy (def, "nx", CPU_POLICY_DISABLE);
  assert_policy (def, "sse4.1", CPU_POLICY_REQUIRE);
}

static void
test_cpu_string_properties (void **state)
{
  g_autoptr (CpuDef) def
    = parse_cpu_string ("host,migratable=off,pmu=off,l3-cache=on,check,enforce,hv-relaxed,"
                        "hv_vapic,kvm=off,level=13,vendor=GenuineIntel,model-id=Fancy CPU,"
                        "tsc-frequency=2000000000,+x2apic");

  assert_int_equal (def->features->len, 1);
  assert_policy (def, "x2apic", CPU_POLICY_REQUIRE);
  assert_int_equal (def->properties->len, 12);
  assert_property (def, 0, "migratable", "off");
  assert_property (def, 1, "pmu", "off");
  assert_property (def, 2, "l3-cache", "on");
  assert_property (def, 3, "check", NULL);
  assert_property (def, 4, "enforce", NULL);
  assert_property (def, 5, "hv-relaxed", NULL);
  assert_property (def, 6, "hv_vapic", NULL);
  assert_property (def, 7, "kvm", "off");
  assert_property (def, 8, "level", "13");
  assert_property (def, 9, "vendor", "GenuineIntel");
  assert_property (def, 10, "model-id", "Fancy CPU");
  assert_property (def, 11, "tsc-frequency", "2000000000");
}

static void
test_cpu_string_repeats (void **state)
{
  /* Two spellings of one feature with one policy collapse into one entry. */
  g_autoptr (CpuDef) def = parse_cpu_string ("Haswell,+hle,hle=on,sse4_1,+sse4.1,-rtm,rtm=off");

  assert_int_equal (def->features->len, 3);
  assert_string_equal (feature_name_at (def, 0), "hle");
  assert_string_equal (feature_name_at (def, 1), "sse4.1");
  assert_string_equal (feature_name_at (def, 2), "rtm");
  assert_policy (def, "rtm", CPU_POLICY_DISABLE);
}

/* Measured on QEMU 7.2 (qom-get of the feature after -S): "+X,-X" and "-X,+X" both leave X
 * off, "X=on,X=off" off and "X=off,X=on" on, "+X,X=off" and "X=off,+X" on, "-X,X=on" off. */
static void
test_cpu_string_repeats_as_qemu (void **state)
{
  static const struct {
    const char *cpu_string;
    const char *feature;
    CpuPolicy policy;
  } cases[] = {
    { "qemu64,+sse4.1,-sse4.1", "sse4.1", CPU_POLICY_DISABLE },
    { "qemu64,-sse4.1,+sse4.1", "sse4.1", CPU_POLICY_DISABLE },
    { "qemu64,sse4.1=on,sse4.1=off", "sse4.1", CPU_POLICY_DISABLE },
    { "qemu64,sse4.1=off,sse4.1=on", "sse4.1", CPU_POLICY_REQUIRE },
    { "qemu64,+sse4.1,sse4.1=off", "sse4.1", CPU_POLICY_REQUIRE },
    { "qemu64,sse4.1=off,+sse4.1", "sse4.1", CPU_POLICY_REQUIRE },
    { "qemu64,-sse4.1,sse4.1=on", "sse4.1", CPU_POLICY_DISABLE },
    { "Haswell,+hle,x2apic,hle=off", "hle", CPU_POLICY_REQUIRE },
    { "Haswell,-sse4_1,+sse4.1", "sse4.1", CPU_POLICY_DISABLE },
    { "Haswell,sse4_1=off,sse4-1=on,sse4.1", "sse4.1", CPU_POLICY_REQUIRE },
    { "Haswell,lahf_lm=on,+lahf-lm,-lahf_lm,lahf-lm=on", "lahf-lm", CPU_POLICY_DISABLE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (CpuDef) def = parse_cpu_string (cases[i].cpu_string);

      assert_policy (def, cases[i].feature, cases[i].policy);
      assert_string_equal (feature_name_at (def, 0), cases[i].feature);
    }
}

static void
test_cpu_string_errors (void **state)
{
  assert_cpu_string_error ("", CPU_DEF_ERROR_SYNTAX, "CPU '': empty string");
  assert_cpu_string_error (",+x2apic", CPU_DEF_ERROR_SYNTAX,
                           "CPU ',+x2apic' item 1: empty model name");
  assert_cpu_string_error ("Haswell,+avx3", CPU_DEF_ERROR_UNKNOWN_FEATURE,
                           "CPU 'Haswell,+avx3' item 2: unknown feature 'avx3' (did you mean avx2, avx?)");
  assert_cpu_string_error ("Haswell,avx3=on", CPU_DEF_ERROR_UNKNOWN_FEATURE,
                           "CPU 'Haswell,avx3=on' item 2: unknown feature 'avx3' (did you mean avx2, avx?)");
  assert_cpu_string_error ("Haswell,sse4.2=maybe", CPU_DEF_ERROR_SYNTAX,
                           "CPU 'Haswell,sse4.2=maybe' item 2: bad value 'maybe' for feature "
                           "'sse4.2' (expected on or off)");
  assert_cpu_string_error ("Haswell,,+hle", CPU_DEF_ERROR_SYNTAX,
                           "CPU 'Haswell,,+hle' item 2: empty item");
  assert_cpu_string_error ("Haswell,+", CPU_DEF_ERROR_SYNTAX,
                           "CPU 'Haswell,+' item 2: '+' without a feature name");
  assert_cpu_string_error ("Haswell,=on", CPU_DEF_ERROR_SYNTAX,
                           "CPU 'Haswell,=on' item 2: empty name before '='");
  assert_cpu_string_error ("Haswell,+cmt", CPU_DEF_ERROR_UNKNOWN_FEATURE,
                           "CPU 'Haswell,+cmt' item 2: feature 'cmt' is known to libvirt only, "
                           "QEMU has no property for it");
  assert_cpu_string_error ("Haswell,osxsave=on", CPU_DEF_ERROR_UNKNOWN_FEATURE,
                           "CPU 'Haswell,osxsave=on' item 2: feature 'osxsave' has no QEMU property");
  assert_cpu_string_error ("Haswell,-kvmclock2", CPU_DEF_ERROR_UNKNOWN_FEATURE,
                           "CPU 'Haswell,-kvmclock2' item 2: feature 'kvmclock2' has no QEMU "
                           "property of its own, 'kvmclock' sets it");
}

static void
test_cpu_string_output (void **state)
{
  g_autoptr (CpuDef) def = parse_cpu_string ("Haswell-noTSX,+x2apic,-hle,pmu=off,enforce");
  g_autofree char *modern = cpu_def_to_qemu_cpu_string (def, FALSE);
  g_autofree char *legacy = cpu_def_to_qemu_cpu_string (def, TRUE);

  assert_string_equal (modern, "Haswell-noTSX,x2apic=on,hle=off,pmu=off,enforce");
  assert_string_equal (legacy, "Haswell-noTSX,+x2apic,-hle,pmu=off,enforce");
}

static void
test_cpu_string_legacy_spellings (void **state)
{
  g_autoptr (CpuDef) def
    = parse_cpu_string ("Opteron_G3,lahf-lm=on,kvm-pv-eoi=on,svm-lock=off,tsc-deadline=on,"
                        "fxsr-opt=on,sse4-1=on,ds-cpl=on,tsc-adjust=off");
  g_autofree char *legacy = cpu_def_to_qemu_cpu_string (def, TRUE);
  g_autofree char *modern = cpu_def_to_qemu_cpu_string (def, FALSE);

  /* QEMU 1.x named these with underscores, tsc-deadline and sse4.1 as now. */
  assert_string_equal (legacy, "Opteron_G3,+lahf_lm,+kvm_pv_eoi,-svm_lock,+tsc-deadline,"
                               "+fxsr_opt,+sse4.1,+ds_cpl,-tsc_adjust");
  assert_string_equal (modern, "Opteron_G3,lahf-lm=on,kvm-pv-eoi=on,svm-lock=off,"
                               "tsc-deadline=on,fxsr-opt=on,sse4.1=on,ds-cpl=on,tsc-adjust=off");
}

static void
test_cpu_string_round_trip (void **state)
{
  const char *const inputs[] = {
    "Haswell-noTSX,+x2apic,-hle",
    "Skylake-Server,hle=off,pcid=on",
    "host",
    "max,migratable=off",
    "qemu64",
    "EPYC,topoext=on,svm=off",
    "Opteron_G3,+lahf_lm,-i64,sse4_2=no,level=13,model-id=Old CPU,check",
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    for (int legacy = 0; legacy <= 1; legacy++)
      {
        g_autoptr (CpuDef) def = parse_cpu_string (inputs[i]);
        g_autofree char *text = cpu_def_to_qemu_cpu_string (def, legacy);
        g_autoptr (CpuDef) again = parse_cpu_string (text);
        g_autofree char *text_again = cpu_def_to_qemu_cpu_string (again, legacy);

        assert_true (cpu_def_equal (def, again));
        assert_string_equal (text, text_again);
      }
}

static void
test_cpu_string_not_expressible (void **state)
{
  g_autoptr (CpuDef) host_model = cpu_def_new (CPU_MODE_HOST_MODEL, NULL);
  g_autoptr (CpuDef) no_model = cpu_def_new (CPU_MODE_CUSTOM, NULL);
  g_autoptr (CpuDef) def = cpu_def_new (CPU_MODE_CUSTOM, "Haswell");

  assert_null (cpu_def_to_qemu_cpu_string (host_model, FALSE));
  assert_null (cpu_def_to_qemu_cpu_string (no_model, TRUE));

  /* Optional waits for the host; libvirt-only names never reach QEMU. */
  cpu_def_set_policy (def, feature ("avx2"), CPU_POLICY_OPTIONAL);
  cpu_def_set_policy (def, feature ("cmt"), CPU_POLICY_REQUIRE);
  cpu_def_set_policy (def, feature ("hle"), CPU_POLICY_FORBID);
  cpu_def_set_policy (def, feature ("osxsave"), CPU_POLICY_REQUIRE);
  cpu_def_set_policy (def, feature ("x2apic"), CPU_POLICY_FORCE);
  def->vendor_id = g_strdup ("AuthenticAMD");
  g_autofree char *text = cpu_def_to_qemu_cpu_string (def, FALSE);
  assert_string_equal (text, "Haswell,hle=off,x2apic=on,vendor=AuthenticAMD");
}

/* libvirt XML ----------------------------------------------------------------------------- */

static const char custom_xml[] =
  "<cpu mode='custom' match='strict' check='full'>\n"
  "  <model fallback='forbid' vendor_id='GenuineIntel'>Skylake-Client</model>\n"
  "  <vendor>Intel</vendor>\n"
  "  <topology sockets='1' dies='1' cores='2' threads='1'/>\n"
  "  <feature policy='require' name='pclmuldq'/>\n"
  "  <feature policy='force' name='lahf_lm'/>\n"
  "  <feature policy='optional' name='tsc_adjust'/>\n"
  "  <feature policy='disable' name='cmt'/>\n"
  "  <feature policy='forbid' name='ds_cpl'/>\n"
  "  <feature name='x2apic'/>\n"
  "  <cache mode='passthrough'/>\n"
  "</cpu>\n";

static void
test_xml_custom (void **state)
{
  g_autoptr (CpuDef) def = parse_xml (custom_xml);

  assert_int_equal (def->mode, CPU_MODE_CUSTOM);
  assert_int_equal (def->match, CPU_MATCH_STRICT);
  assert_int_equal (def->check, CPU_CHECK_FULL);
  assert_int_equal (def->fallback, CPU_FALLBACK_FORBID);
  assert_string_equal (def->model, "Skylake-Client");
  assert_string_equal (def->vendor, "Intel");
  assert_string_equal (def->vendor_id, "GenuineIntel");
  assert_int_equal (def->features->len, 6);
  assert_string_equal (feature_name_at (def, 0), "pclmulqdq");
  assert_string_equal (feature_name_at (def, 1), "lahf-lm");
  assert_string_equal (feature_name_at (def, 2), "tsc-adjust");
  assert_string_equal (feature_name_at (def, 3), "cmt");
  assert_string_equal (feature_name_at (def, 4), "ds-cpl");
  assert_string_equal (feature_name_at (def, 5), "x2apic");
  assert_policy (def, "pclmulqdq", CPU_POLICY_REQUIRE);
  assert_policy (def, "lahf-lm", CPU_POLICY_FORCE);
  assert_policy (def, "tsc-adjust", CPU_POLICY_OPTIONAL);
  assert_policy (def, "cmt", CPU_POLICY_DISABLE);
  assert_policy (def, "ds-cpl", CPU_POLICY_FORBID);
  assert_policy (def, "x2apic", CPU_POLICY_REQUIRE);
  assert_int_equal (def->properties->len, 0);
}

static void
test_xml_defaults (void **state)
{
  g_autoptr (CpuDef) def = parse_xml ("<cpu><model>Westmere</model>"
                                      "<feature name='aes'/></cpu>");

  assert_int_equal (def->mode, CPU_MODE_CUSTOM);
  assert_int_equal (def->match, CPU_MATCH_EXACT);
  assert_int_equal (def->check, CPU_CHECK_UNSET);
  assert_int_equal (def->fallback, CPU_FALLBACK_ALLOW);
  assert_null (def->vendor);
  assert_null (def->vendor_id);
  assert_policy (def, "aes", CPU_POLICY_REQUIRE);
}

static void
test_xml_host_modes (void **state)
{
  g_autoptr (CpuDef) passthrough
    = parse_xml ("<cpu mode='host-passthrough' check='none' migratable='off'>"
                 "<feature policy='disable' name='vmx'/></cpu>");
  g_autoptr (CpuDef) host_model
    = parse_xml ("<cpu mode='host-model'><model fallback='allow'/></cpu>");
  g_autoptr (CpuDef) maximum = parse_xml ("<cpu mode='maximum' migratable='on'/>");

  assert_int_equal (passthrough->mode, CPU_MODE_HOST_PASSTHROUGH);
  assert_null (passthrough->model);
  assert_int_equal (passthrough->check, CPU_CHECK_NONE);
  assert_property (passthrough, 0, "migratable", "off");
  assert_policy (passthrough, "vmx", CPU_POLICY_DISABLE);
  g_autofree char *text = cpu_def_to_qemu_cpu_string (passthrough, FALSE);
  assert_string_equal (text, "host,vmx=off,migratable=off");

  assert_int_equal (host_model->mode, CPU_MODE_HOST_MODEL);
  assert_null (host_model->model);
  assert_null (cpu_def_qemu_model (host_model));

  assert_int_equal (maximum->mode, CPU_MODE_MAXIMUM);
  assert_property (maximum, 0, "migratable", "on");
}

static const char snapshot_xml[] =
  "<?xml version='1.0'?>\n"
  "<domainsnapshot>\n"
  "  <name>before-upgrade</name>\n"
  "  <!-- a comment with <cpu> in it -->\n"
  "  <domain type='kvm'>\n"
  "    <name>guest</name>\n"
  "    <memory unit='KiB'>1048576</memory>\n"
  "    <features><acpi/><apic/></features>\n"
  "    <cpu mode='custom' match='exact' check='partial'>\n"
  "      <model fallback='allow'>Haswell-noTSX</model>\n"
  "      <numa>\n"
  "        <cell id='0' cpus='0-1' memory='1048576' unit='KiB'/>\n"
  "      </numa>\n"
  "      <feature policy='disable' name='hle'/>\n"
  "    </cpu>\n"
  "    <devices><disk type='file'/></devices>\n"
  "  </domain>\n"
  "</domainsnapshot>\n";

static void
test_xml_domain_deep (void **state)
{
  g_autoptr (CpuDef) def = parse_xml (snapshot_xml);

  assert_string_equal (def->model, "Haswell-noTSX");
  assert_int_equal (def->check, CPU_CHECK_PARTIAL);
  assert_int_equal (def->features->len, 1);
  assert_policy (def, "hle", CPU_POLICY_DISABLE);
}

static void
test_xml_host_cpu_never_taken (void **state)
{
  assert_xml_error ("<capabilities><host><cpu><arch>x86_64</arch><model>Skylake-Client</model>"
                    "</cpu></host></capabilities>",
                    CPU_DEF_ERROR_NO_CPU,
                    "test.xml: no <cpu> element at the top or in a <domain>");

  assert_xml_error ("<domainCapabilities><cpu><mode name='host-passthrough' supported='yes'/>"
                    "</cpu></domainCapabilities>",
                    CPU_DEF_ERROR_NO_CPU,
                    "test.xml: no <cpu> element at the top or in a <domain>");

  /* A host <cpu> first, then the guest's: the guest's is used. */
  g_autoptr (CpuDef) def
    = parse_xml ("<root><host><cpu><model>Skylake-Client</model></cpu></host>"
                 "<domain><cpu><model>Nehalem</model></cpu></domain></root>");
  assert_string_equal (def->model, "Nehalem");
}

static void
test_xml_round_trip (void **state)
{
  g_autoptr (CpuDef) def = parse_xml (custom_xml);
  g_autofree char *xml = cpu_def_to_xml (def);
  g_autoptr (CpuDef) again = parse_xml (xml);
  g_autofree char *xml_again = cpu_def_to_xml (again);

  assert_string_equal (xml,
    "<cpu mode='custom' match='strict' check='full'>\n"
    "  <model fallback='forbid' vendor_id='GenuineIntel'>Skylake-Client</model>\n"
    "  <vendor>Intel</vendor>\n"
    "  <feature policy='require' name='pclmuldq'/>\n"
    "  <feature policy='force' name='lahf_lm'/>\n"
    "  <feature policy='optional' name='tsc_adjust'/>\n"
    "  <feature policy='disable' name='cmt'/>\n"
    "  <feature policy='forbid' name='ds_cpl'/>\n"
    "  <feature policy='require' name='x2apic'/>\n"
    "</cpu>\n");
  assert_true (cpu_def_equal (def, again));
  assert_string_equal (xml, xml_again);

  g_autoptr (CpuDef) passthrough = parse_xml ("<cpu mode='host-passthrough' migratable='off'/>");
  g_autofree char *short_xml = cpu_def_to_xml (passthrough);
  assert_string_equal (short_xml, "<cpu mode='host-passthrough' migratable='off'/>\n");

  g_autoptr (CpuDef) from_string = parse_cpu_string ("Broadwell,+pclmulqdq,-fxsr-opt,pmu=off,migratable=no");
  g_autofree char *converted = cpu_def_to_xml (from_string);
  assert_string_equal (converted,
    "<cpu mode='custom' match='exact' migratable='off'>\n"
    "  <model fallback='allow'>Broadwell</model>\n"
    "  <feature policy='require' name='pclmuldq'/>\n"
    "  <feature policy='disable' name='fxsr_opt'/>\n"
    "</cpu>\n");
}

static void
test_xml_escaping (void **state)
{
  g_autoptr (CpuDef) def = cpu_def_new (CPU_MODE_CUSTOM, "A<B&'C'");
  g_autofree char *xml = cpu_def_to_xml (def);
  g_autoptr (CpuDef) again = parse_xml (xml);

  assert_string_equal (again->model, "A<B&'C'");
}

/* A start tag whose end is the end of the input: its position is found without reading
 * past the input, which need not be NUL-terminated. The byte after it here is a '<', so a
 * reader that looks there names the wrong place even where no sanitizer watches. */
static void
test_xml_error_at_end_of_input (void **state)
{
  const char text[] = "<cpu mode='cuisable' >\n<";
  g_autofree char *unterminated = g_memdup2 (text, sizeof text - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def = cpu_def_from_xml (unterminated, (gssize) sizeof text - 2, "end.xml",
                                             &error);

  assert_null (def);
  assert_int_equal (error->code, CPU_DEF_ERROR_INVALID);
  assert_string_equal (error->message, "end.xml:1:1: unknown CPU mode 'cuisable'");
}

static void
test_xml_errors (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def
    = cpu_def_from_xml ("<cpu>\n  <model>Haswell</mode>\n</cpu>", -1, "bad.xml", &error);

  assert_null (def);
  assert_int_equal (error->code, CPU_DEF_ERROR_SYNTAX);
  assert_true (g_str_has_prefix (error->message, "bad.xml:2:"));
  assert_non_null (strstr (error->message, "model"));

  assert_xml_error ("<domain><name>x</name></domain>", CPU_DEF_ERROR_NO_CPU,
                    "test.xml: no <cpu> element at the top or in a <domain>");
  assert_xml_error ("<domain>\n  <cpu mode='host-modle'/>\n</domain>", CPU_DEF_ERROR_INVALID,
                    "test.xml:2:3: unknown CPU mode 'host-modle'");
  assert_xml_error ("<cpu match='loose'/>", CPU_DEF_ERROR_INVALID,
                    "test.xml:1:1: unknown CPU match 'loose'");
  assert_xml_error ("<cpu check='some'/>", CPU_DEF_ERROR_INVALID,
                    "test.xml:1:1: unknown CPU check 'some'");
  assert_xml_error ("<cpu>\n <model fallback='never'>Haswell</model>\n</cpu>", CPU_DEF_ERROR_INVALID,
                    "test.xml:2:2: unknown model fallback 'never'");
  assert_xml_error ("<cpu>\n  <feature policy='maybe' name='hle'/>\n</cpu>", CPU_DEF_ERROR_INVALID,
                    "test.xml:2:3: unknown feature policy 'maybe'");
  assert_xml_error ("<cpu>\n  <feature policy='require' name='avx3'/>\n</cpu>",
                    CPU_DEF_ERROR_UNKNOWN_FEATURE,
                    "test.xml:2:3: unknown feature 'avx3' (did you mean avx2, avx?)");
  assert_xml_error ("<cpu>\n  <feature policy='require'/>\n</cpu>", CPU_DEF_ERROR_INVALID,
                    "test.xml:2:3: feature without a name");
  assert_xml_error ("<cpu mode='custom'>\n"
                    "  <model>Haswell</model>\n"
                    "  <feature policy='require' name='lahf_lm'/>\n"
                    "  <feature policy='disable' name='lahf-lm'/>\n"
                    "</cpu>",
                    CPU_DEF_ERROR_CONFLICT,
                    "test.xml:4:3: conflicting policies for feature 'lahf_lm': disable here, "
                    "require at 3:3");
  assert_xml_error ("<cpu mode='host-passthrough' migratable='maybe'/>", CPU_DEF_ERROR_INVALID,
                    "test.xml:1:1: bad migratable value 'maybe' (expected on or off)");
  assert_xml_error ("<cpu><model vendor_id='Intel'>Haswell</model></cpu>", CPU_DEF_ERROR_INVALID,
                    "test.xml:1:6: vendor_id 'Intel' is not 12 characters long");
}

static void
test_xml_duplicate_same_policy (void **state)
{
  g_autoptr (CpuDef) def = parse_xml ("<cpu><model>Haswell</model>"
                                      "<feature policy='require' name='sse4.1'/>"
                                      "<feature name='sse4_1'/></cpu>");

  assert_int_equal (def->features->len, 1);
  assert_policy (def, "sse4.1", CPU_POLICY_REQUIRE);
}

static void
test_xml_file_and_argument (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "domain.xml", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.xml", NULL);
  g_autoptr (GError) error = NULL;

  assert_true (g_file_set_contents (path, snapshot_xml, -1, NULL));
  g_autoptr (CpuDef) from_file = cpu_def_from_argument (path, &error);
  assert_non_null (from_file);
  assert_string_equal (from_file->model, "Haswell-noTSX");

  g_autoptr (CpuDef) from_string = cpu_def_from_argument ("Haswell-noTSX,-hle", &error);
  assert_non_null (from_string);
  from_string->check = CPU_CHECK_PARTIAL;
  assert_true (cpu_def_equal (from_file, from_string));

  g_autoptr (CpuDef) none = cpu_def_from_xml_file (missing, &error);
  assert_null (none);
  assert_int_equal (error->code, CPU_DEF_ERROR_IO);
  assert_non_null (strstr (error->message, "missing.xml"));

  g_clear_error (&error);
  assert_true (g_file_set_contents (path, "<cpu mode='bad'/>", -1, NULL));
  g_autoptr (CpuDef) bad = cpu_def_from_argument (path, &error);
  assert_null (bad);
  g_autofree char *expected = g_strdup_printf ("%s:1:1: unknown CPU mode 'bad'", path);
  assert_string_equal (error->message, expected);
  test_rmdir_r (dir);
}

/* JSON ------------------------------------------------------------------------------------ */

static void
test_json_output (void **state)
{
  g_autoptr (CpuDef) def = parse_xml (custom_xml);
  cpu_def_add_property (def, "pmu", "off");
  cpu_def_add_property (def, "enforce", NULL);
  json_object *json = cpu_def_to_json (def);

  assert_string_equal (json_object_to_json_string_ext (json, JSON_C_TO_STRING_PLAIN),
    "{\"mode\":\"custom\",\"model\":\"Skylake-Client\",\"vendor\":\"Intel\",\"match\":\"strict\","
    "\"check\":\"full\",\"fallback\":\"forbid\",\"vendor_id\":\"GenuineIntel\","
    "\"features\":{\"pclmulqdq\":\"require\",\"lahf-lm\":\"force\",\"tsc-adjust\":\"optional\","
    "\"cmt\":\"disable\",\"ds-cpl\":\"forbid\",\"x2apic\":\"require\"},"
    "\"properties\":{\"pmu\":\"off\",\"enforce\":true}}");

  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) again = cpu_def_from_json (json, &error);
  assert_non_null (again);
  assert_true (cpu_def_equal (def, again));
  json_object_put (json);

  g_autoptr (CpuDef) host = parse_cpu_string ("host");
  json = cpu_def_to_json (host);
  assert_string_equal (json_object_to_json_string_ext (json, JSON_C_TO_STRING_PLAIN),
    "{\"mode\":\"host-passthrough\",\"model\":null,\"vendor\":null,\"match\":\"exact\","
    "\"check\":null,\"fallback\":\"allow\",\"vendor_id\":null,\"features\":{},\"properties\":{}}");
  json_object_put (json);
}

static CpuDef *
from_json_text (const char *text, GError **error)
{
  json_object *json = json_tokener_parse (text);
  CpuDef *def;

  assert_non_null (json);
  def = cpu_def_from_json (json, error);
  json_object_put (json);
  return def;
}

static void
test_json_input (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def
    = from_json_text ("{\"model\":\"EPYC\",\"features\":{\"sse4_1\":\"require\",\"svm\":\"disable\"},"
                      "\"properties\":{\"level\":13,\"pmu\":false,\"check\":true}}", &error);

  assert_non_null (def);
  assert_int_equal (def->mode, CPU_MODE_CUSTOM);
  assert_int_equal (def->match, CPU_MATCH_EXACT);
  assert_policy (def, "sse4.1", CPU_POLICY_REQUIRE);
  assert_policy (def, "svm", CPU_POLICY_DISABLE);
  assert_property (def, 0, "level", "13");
  assert_property (def, 1, "pmu", "off");
  assert_property (def, 2, "check", NULL);
  g_autofree char *text = cpu_def_to_qemu_cpu_string (def, FALSE);
  assert_string_equal (text, "EPYC,sse4.1=on,svm=off,level=13,pmu=off,check");
}

static void
test_json_errors (void **state)
{
  const struct {
    const char *json;
    CpuDefError code;
    const char *message;
  } cases[] = {
    { "[]", CPU_DEF_ERROR_SYNTAX, "JSON CPU definition: not an object" },
    { "{\"mode\":\"sideways\"}", CPU_DEF_ERROR_INVALID, "JSON CPU definition: unknown mode 'sideways'" },
    { "{\"match\":1}", CPU_DEF_ERROR_SYNTAX, "JSON CPU definition: member 'match' is not a string" },
    { "{\"check\":\"most\"}", CPU_DEF_ERROR_INVALID, "JSON CPU definition: unknown check 'most'" },
    { "{\"fallback\":\"no\"}", CPU_DEF_ERROR_INVALID, "JSON CPU definition: unknown fallback 'no'" },
    { "{\"features\":[]}", CPU_DEF_ERROR_SYNTAX, "JSON CPU definition: member 'features' is not an object" },
    { "{\"features\":{\"avx3\":\"require\"}}", CPU_DEF_ERROR_UNKNOWN_FEATURE,
      "JSON CPU definition: unknown feature 'avx3' (did you mean avx2, avx?)" },
    { "{\"features\":{\"hle\":\"sometimes\"}}", CPU_DEF_ERROR_INVALID,
      "JSON CPU definition: feature 'hle' has no valid policy" },
    { "{\"features\":{\"sse4.1\":\"require\",\"sse4_1\":\"forbid\"}}", CPU_DEF_ERROR_CONFLICT,
      "JSON CPU definition: conflicting policies for feature 'sse4.1': forbid for 'sse4_1', require earlier" },
    { "{\"properties\":{\"level\":[13]}}", CPU_DEF_ERROR_SYNTAX,
      "JSON CPU definition: property 'level' is not a string, number or boolean" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (CpuDef) def = from_json_text (cases[i].json, &error);
      assert_null (def);
      assert_string_equal (error->message, cases[i].message);
      assert_int_equal (error->code, cases[i].code);
    }
}

/* Views for the probe ------------------------------------------------------------------------ */

static void
test_feature_sets (void **state)
{
  g_autoptr (CpuDef) def = parse_xml (custom_xml);
  X86FeatureSet set, expected;

  cpu_def_enabled_features (def, &set);
  x86_feature_set_clear (&expected);
  x86_feature_set_add (&expected, feature ("pclmulqdq"));
  x86_feature_set_add (&expected, feature ("lahf-lm"));
  x86_feature_set_add (&expected, feature ("x2apic"));
  assert_true (x86_feature_set_equal (&set, &expected));

  cpu_def_disabled_features (def, &set);
  x86_feature_set_clear (&expected);
  x86_feature_set_add (&expected, feature ("cmt"));
  x86_feature_set_add (&expected, feature ("ds-cpl"));
  assert_true (x86_feature_set_equal (&set, &expected));

  cpu_def_optional_features (def, &set);
  x86_feature_set_clear (&expected);
  x86_feature_set_add (&expected, feature ("tsc-adjust"));
  assert_true (x86_feature_set_equal (&set, &expected));

  x86_feature_set_clear (&set);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORBID, &set);
  assert_int_equal (x86_feature_set_count (&set), 1);
  assert_true (x86_feature_set_has (&set, feature ("ds-cpl")));
}

static void
test_expansion_props (void **state)
{
  g_autoptr (CpuDef) def = parse_xml (custom_xml);
  cpu_def_add_property (def, "pmu", "off");
  cpu_def_add_property (def, "enforce", NULL);
  cpu_def_add_property (def, "level", "13");
  cpu_def_add_property (def, "xlevel", "0x8000001f");
  cpu_def_add_property (def, "model-id", "Fancy CPU");
  json_object *props = cpu_def_expansion_props (def);

  assert_string_equal (json_object_to_json_string_ext (props, JSON_C_TO_STRING_PLAIN),
    "{\"pclmulqdq\":true,\"lahf-lm\":true,\"tsc-adjust\":false,\"ds-cpl\":false,"
    "\"x2apic\":true,\"pmu\":false,\"enforce\":true,\"level\":13,\"xlevel\":2147483679,"
    "\"model-id\":\"Fancy CPU\"}");
  json_object_put (props);
}

static void
test_copy_equal_update (void **state)
{
  g_autoptr (CpuDef) def = parse_xml (custom_xml);
  g_autoptr (CpuDef) copy = cpu_def_copy (def);
  g_autoptr (CpuDef) a = parse_cpu_string ("Haswell,+avx2,-hle,pmu=off");
  g_autoptr (CpuDef) b = parse_cpu_string ("Haswell,-hle,+avx2,pmu=off");
  g_autoptr (CpuDef) c = parse_cpu_string ("Haswell,-hle,-avx2,pmu=off");
  g_autoptr (CpuDef) d = parse_cpu_string ("Haswell,-hle,+avx2,pmu=on");
  g_autoptr (CpuDef) e = parse_cpu_string ("Haswell,-hle,+avx2,pmu=off,level=13");

  assert_true (cpu_def_equal (def, copy));
  assert_true (cpu_def_equal (a, b));
  assert_false (cpu_def_equal (a, c));
  assert_false (cpu_def_equal (a, d));
  assert_false (cpu_def_equal (a, e));

  copy->check = CPU_CHECK_PARTIAL;
  assert_false (cpu_def_equal (def, copy));

  /* Updating one feature keeps its place. */
  cpu_def_set_policy (a, feature ("avx2"), CPU_POLICY_DISABLE);
  assert_string_equal (feature_name_at (a, 0), "avx2");
  assert_true (cpu_def_equal (a, c));
  assert_true (cpu_def_remove_feature (a, feature ("avx2")));
  assert_false (cpu_def_remove_feature (a, feature ("avx2")));
  assert_false (cpu_def_get_policy (a, feature ("avx2"), NULL));
  assert_int_equal (a->features->len, 1);

  gboolean found;
  assert_string_equal (cpu_def_get_property (e, "level", &found), "13");
  assert_true (found);
  assert_null (cpu_def_get_property (e, "vendor", &found));
  assert_false (found);
}

static void
test_names (void **state)
{
  CpuMode mode;
  CpuMatch match;
  CpuCheck check;
  CpuFallback fallback;
  CpuPolicy policy;

  for (CpuMode m = CPU_MODE_CUSTOM; m <= CPU_MODE_MAXIMUM; m++)
    assert_true (cpu_mode_from_name (cpu_mode_name (m), &mode) && mode == m);
  for (CpuMatch m = CPU_MATCH_EXACT; m <= CPU_MATCH_STRICT; m++)
    assert_true (cpu_match_from_name (cpu_match_name (m), &match) && match == m);
  for (CpuCheck c = CPU_CHECK_NONE; c <= CPU_CHECK_FULL; c++)
    assert_true (cpu_check_from_name (cpu_check_name (c), &check) && check == c);
  for (CpuFallback f = CPU_FALLBACK_ALLOW; f <= CPU_FALLBACK_FORBID; f++)
    assert_true (cpu_fallback_from_name (cpu_fallback_name (f), &fallback) && fallback == f);
  for (CpuPolicy p = CPU_POLICY_FORCE; p <= CPU_POLICY_FORBID; p++)
    assert_true (cpu_policy_from_name (cpu_policy_name (p), &policy) && policy == p);
  assert_null (cpu_check_name (CPU_CHECK_UNSET));
  assert_false (cpu_check_from_name (NULL, &check));
  assert_false (cpu_mode_from_name ("host", &mode));
  assert_false (cpu_policy_from_name ("Require", &policy));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_cpu_string_plus_minus),
    cmocka_unit_test (test_cpu_string_on_off),
    cmocka_unit_test (test_cpu_string_special_models),
    cmocka_unit_test (test_cpu_string_boolean_words),
    cmocka_unit_test (test_cpu_string_spellings),
    cmocka_unit_test (test_cpu_string_properties),
    cmocka_unit_test (test_cpu_string_repeats),
    cmocka_unit_test (test_cpu_string_repeats_as_qemu),
    cmocka_unit_test (test_cpu_string_errors),
    cmocka_unit_test (test_cpu_string_output),
    cmocka_unit_test (test_cpu_string_legacy_spellings),
    cmocka_unit_test (test_cpu_string_round_trip),
    cmocka_unit_test (test_cpu_string_not_expressible),
    cmocka_unit_test (test_xml_custom),
    cmocka_unit_test (test_xml_defaults),
    cmocka_unit_test (test_xml_host_modes),
    cmocka_unit_test (test_xml_domain_deep),
    cmocka_unit_test (test_xml_host_cpu_never_taken),
    cmocka_unit_test (test_xml_round_trip),
    cmocka_unit_test (test_xml_escaping),
    cmocka_unit_test (test_xml_errors),
    cmocka_unit_test (test_xml_error_at_end_of_input),
    cmocka_unit_test (test_xml_duplicate_same_policy),
    cmocka_unit_test (test_xml_file_and_argument),
    cmocka_unit_test (test_json_output),
    cmocka_unit_test (test_json_input),
    cmocka_unit_test (test_json_errors),
    cmocka_unit_test (test_feature_sets),
    cmocka_unit_test (test_expansion_props),
    cmocka_unit_test (test_copy_equal_update),
    cmocka_unit_test (test_names),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
