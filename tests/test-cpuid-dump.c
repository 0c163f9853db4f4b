/* tests/test-cpuid-dump.c — the CPUID data model and every file layout it reads. */
#include "tests/test-util.h"
#include "x86/cpuid-dump.h"
#include "x86/kvm-cpuid.h"

#include <string.h>
#include <glib/gstdio.h>
#include <libcpuid/libcpuid.h>

/* Two CPUs of one package: only the APIC ids differ. */
static const char two_cpus_text[] =
  "CPU 0:\n"
  "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
  "   0x00000001 0x00: eax=0x000306c3 ebx=0x00100800 ecx=0x7ffafbff edx=0xbfebfbff\n"
  "   0x00000004 0x00: eax=0x1c004121 ebx=0x01c0003f ecx=0x0000003f edx=0x00000000\n"
  "   0x00000004 0x01: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
  "   0x00000007 0x00: eax=0x00000000 ebx=0x000027ab ecx=0x00000000 edx=0x9c000000\n"
  "   0x0000000b 0x00: eax=0x00000001 ebx=0x00000002 ecx=0x00000100 edx=0x00000000\n"
  "   0x0000000b 0x01: eax=0x00000004 ebx=0x00000008 ecx=0x00000201 edx=0x00000000\n"
  "   0x80000000 0x00: eax=0x80000008 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
  "CPU 1:\n"
  "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
  "   0x00000001 0x00: eax=0x000306c3 ebx=0x02100800 ecx=0x7ffafbff edx=0xbfebfbff\n"
  "   0x00000004 0x00: eax=0x1c004121 ebx=0x01c0003f ecx=0x0000003f edx=0x00000000\n"
  "   0x00000004 0x01: eax=0x00000000 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
  "   0x00000007 0x00: eax=0x00000000 ebx=0x000027ab ecx=0x00000000 edx=0x9c000000\n"
  "   0x0000000b 0x00: eax=0x00000001 ebx=0x00000002 ecx=0x00000100 edx=0x00000002\n"
  "   0x0000000b 0x01: eax=0x00000004 ebx=0x00000008 ecx=0x00000201 edx=0x00000002\n"
  "   0x80000000 0x00: eax=0x80000008 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n";

static X86CpuidDump *
parse_ok (const char *text, const char *origin)
{
  g_autoptr (GError) error = NULL;
  X86CpuidDump *dump = x86_cpuid_dump_parse (text, strlen (text), origin, &error);

  if (dump == NULL)
    print_message ("unexpected error: %s\n", error->message);
  assert_non_null (dump);
  return dump;
}

static void
assert_parse_error (const char *text, gssize len, const char *expected_message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump =
    x86_cpuid_dump_parse (text, len < 0 ? strlen (text) : (gsize) len, "sample", &error);

  assert_null (dump);
  assert_non_null (error);
  assert_true (g_error_matches (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE));
  assert_string_equal (error->message, expected_message);
}

static void
test_text_sections (void **state)
{
  g_autoptr (X86CpuidDump) dump = parse_ok (two_cpus_text, "two.txt");
  guint n_leaves;
  const X86CpuidLeaf *leaves;

  assert_int_equal (x86_cpuid_dump_n_cpus (dump), 2);
  assert_int_equal (x86_cpuid_dump_cpu_number (dump, 1), 1);
  assert_int_equal (x86_cpuid_dump_find_cpu (dump, 1), 1);
  assert_int_equal (x86_cpuid_dump_find_cpu (dump, 7), -1);
  assert_string_equal (x86_cpuid_dump_origin (dump), "two.txt");
  leaves = x86_cpuid_dump_leaves (dump, 0, &n_leaves);
  assert_int_equal (n_leaves, 8);
  assert_int_equal (leaves[3].leaf, 4);
  assert_int_equal (leaves[3].subleaf, 1);
  assert_int_equal (x86_cpuid_dump_get (dump, 1, 1, 0, 1), 0x02100800);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 7, 0, 3), 0x9c000000);
}

static void
test_text_without_header (void **state)
{
  g_autoptr (X86CpuidDump) bare = parse_ok (
    "   0x00000000 0x00: eax=0x00000001 ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65\n"
    "   0x00000001 0x00: eax=0x00a00f11 ebx=0x00000800 ecx=0x00000000 edx=0x00000000", "bare");
  g_autoptr (X86CpuidDump) single = parse_ok (
    "CPU:\n"
    "   0x00000000 0x00: eax=0x00000001 ebx=0x68747541 ecx=0x444d4163 edx=0x69746e65\n", "single");

  assert_int_equal (x86_cpuid_dump_n_cpus (bare), 1);
  assert_int_equal (x86_cpuid_dump_cpu_number (bare, 0), 0);
  assert_int_equal (x86_cpuid_dump_get (bare, 0, 1, 0, 0), 0x00a00f11);
  assert_int_equal (x86_cpuid_dump_n_cpus (single), 1);
  assert_int_equal (x86_cpuid_dump_get (single, 0, 0, 0, 1), 0x68747541);
}

static void
test_text_round_trip (void **state)
{
  g_autoptr (X86CpuidDump) dump = parse_ok (two_cpus_text, "two.txt");
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < x86_cpuid_dump_n_cpus (dump); i++)
    x86_cpuid_dump_format_text (dump, i, out);
  assert_string_equal (out->str, two_cpus_text);
}

static void
assert_same_leaves (const X86CpuidDump *a, const X86CpuidDump *b)
{
  assert_int_equal (x86_cpuid_dump_n_cpus (a), x86_cpuid_dump_n_cpus (b));
  for (guint i = 0; i < x86_cpuid_dump_n_cpus (a); i++)
    {
      guint n_a, n_b;
      const X86CpuidLeaf *leaves_a = x86_cpuid_dump_leaves (a, i, &n_a);
      const X86CpuidLeaf *leaves_b = x86_cpuid_dump_leaves (b, i, &n_b);

      assert_int_equal (x86_cpuid_dump_cpu_number (a, i), x86_cpuid_dump_cpu_number (b, i));
      assert_int_equal (n_a, n_b);
      assert_memory_equal (leaves_a, leaves_b, n_a * sizeof (X86CpuidLeaf));
    }
}

static void
test_json_round_trip (void **state)
{
  g_autoptr (X86CpuidDump) dump = parse_ok (two_cpus_text, "two.txt");
  json_object *json = x86_cpuid_dump_to_json (dump);
  const char *text = json_object_to_json_string_ext (json, JSON_C_TO_STRING_PRETTY);
  g_autoptr (X86CpuidDump) again = parse_ok (text, "two.json");
  json_object *leaf = json_object_array_get_idx (
    json_object_object_get (json_object_array_get_idx (json_object_object_get (json, "cpus"), 0),
                            "leaves"), 1);

  assert_string_equal (json_object_get_string (json_object_object_get (json, "format")),
                       "vcpuprobe-cpuid");
  assert_string_equal (json_object_get_string (json_object_object_get (leaf, "leaf")), "0x00000001");
  assert_string_equal (json_object_get_string (json_object_object_get (leaf, "ebx")), "0x00100800");
  assert_same_leaves (dump, again);
  assert_string_equal (x86_cpuid_dump_origin (again), "two.json");
  json_object_put (json);
}

static void
test_libvirt_xml (void **state)
{
  static const char xml[] =
    "<!-- Intel(R) Xeon(R) CPU E5-2630 v3 @ 2.40GHz -->\n"
    "<cpudata arch='x86'>\n"
    "  <cpuid eax_in='0x00000000' ecx_in='0x00' eax='0x0000000f' ebx='0x756e6547' ecx='0x6c65746e' edx='0x49656e69'/>\n"
    "  <cpuid eax_in='0x00000007' ecx_in='0x00' eax='0x00000000' ebx='0x000037ab' ecx='0x00000000' edx='0x00000000'/>\n"
    "  <cpuid eax_in='0x00000004' ecx_in='0x01' eax='0x1c004122' ebx='0x01c0003f' ecx='0x0000003f' edx='0x00000000'/>\n"
    "  <msr index='0x10a' edx='0x00000000' eax='0x0000000b'/>\n"
    "</cpudata>\n";
  g_autoptr (X86CpuidDump) dump = parse_ok (xml, "cpu.xml");
  g_autoptr (GString) written = g_string_new (NULL);
  g_autoptr (X86CpuidDump) again = NULL;
  guint n_leaves;

  x86_cpuid_dump_leaves (dump, 0, &n_leaves);
  assert_int_equal (n_leaves, 3);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 4, 1, 0), 0x1c004122);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 7, 0, 1), 0x000037ab);
  x86_cpuid_dump_format_libvirt (dump, 0, written);
  again = parse_ok (written->str, "again.xml");
  assert_same_leaves (dump, again);
}

/* libvirt's older <cpudata> (the .data files of its tests/qemumonitorjsondata): `function` names the
 * leaf and no subleaf is given, so every leaf reads as subleaf 0. */
static void
test_libvirt_xml_function_layout (void **state)
{
  static const char xml[] =
    "<cpudata arch='x86'>\n"
    "  <cpuid function='0x00000001' eax='0x00000000' ebx='0x00000000' ecx='0x97ba2223' edx='0x078bfbfd'/>\n"
    "  <cpuid function='0x40000001' eax='0x0100003b' ebx='0x00000000' ecx='0x00000000' edx='0x00000000'/>\n"
    "</cpudata>\n";
  static const char no_leaf[] =
    "<cpudata arch='x86'>\n  <cpuid eax='0x1' ebx='0x2' ecx='0x3' edx='0x4'/>\n</cpudata>\n";
  g_autoptr (X86CpuidDump) dump = parse_ok (xml, "old.data");
  guint n_leaves;

  x86_cpuid_dump_leaves (dump, 0, &n_leaves);
  assert_int_equal (n_leaves, 2);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 1, 0, 2), 0x97ba2223);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 0x40000001, 0, 0), 0x0100003b);
  /* Neither spelling of the leaf: still refused. */
  assert_parse_error (no_leaf, sizeof no_leaf - 1,
                      "sample:2: expected <cpuid eax_in='0x...' ecx_in='0x...' eax='0x...' "
                      "ebx='0x...' ecx='0x...' edx='0x...'/> with 32-bit hex values");
}

/* libcpuid writes its own file from arrays we fill, so the reader is checked against the
 * real writer rather than our idea of it. */
static void
test_libcpuid_generated (void **state)
{
  struct cpu_raw_data_t raw;
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "raw.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = NULL;

  memset (&raw, 0, sizeof raw);
  raw.basic_cpuid[0][0] = 0xb;                /* max basic leaf 0xB */
  raw.basic_cpuid[0][1] = 0x756e6547;
  raw.basic_cpuid[0][2] = 0x6c65746e;
  raw.basic_cpuid[0][3] = 0x49656e69;
  raw.basic_cpuid[1][0] = 0x000306c3;
  raw.basic_cpuid[7][1] = 0x000027ab;
  raw.ext_cpuid[0][0] = 0x80000001;
  raw.ext_cpuid[1][3] = 0x2c100800;
  raw.intel_fn4[0][0] = 0x1c004121;           /* data cache, then instruction, then end */
  raw.intel_fn4[1][0] = 0x1c004122;
  raw.intel_fn11[0][2] = 0x00000100;          /* SMT level, then the end */
  assert_int_equal (cpuid_serialize_raw_data (&raw, path), 0);

  dump = x86_cpuid_dump_load (path, &error);
  assert_null (error);
  assert_non_null (dump);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 1, 0, 0), 0x000306c3);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 7, 0, 1), 0x000027ab);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 0x80000001, 0, 3), 0x2c100800);
  assert_int_equal (x86_cpuid_dump_get (dump, 0, 4, 1, 0), 0x1c004122);
  assert_non_null (x86_cpuid_dump_lookup (dump, 0, 4, 2));     /* the terminating subleaf */
  assert_null (x86_cpuid_dump_lookup (dump, 0, 4, 3));
  assert_non_null (x86_cpuid_dump_lookup (dump, 0, 0xb, 1));
  assert_null (x86_cpuid_dump_lookup (dump, 0, 0xb, 2));
  assert_null (x86_cpuid_dump_lookup (dump, 0, 0xc, 0));       /* past the max basic leaf */
  assert_null (x86_cpuid_dump_lookup (dump, 0, 0x80000002, 0));
  assert_null (x86_cpuid_dump_lookup (dump, 0, 0x12, 0));
  test_rmdir_r (dir);
}

static void
test_libcpuid_by_hand (void **state)
{
  static const char raw[] =
    "version=0.6.2\n"
    "\n"
    "_________________ Logical CPU #0 _________________\n"
    "basic_cpuid[0]=00000001 68747541 444d4163 69746e65\n"
    "basic_cpuid[1]=00a00f11 00000800 7ef8320b 178bfbff\n"
    "basic_cpuid[2]=12345678 00000000 00000000 00000000\n"
    "intel_fn80000026h[0]=00000000 00000000 00000000 00000000\n"
    "_________________ Logical CPU #2 _________________\n"
    "basic_cpuid[0]=00000001 68747541 444d4163 69746e65\n"
    "basic_cpuid[1]=00a00f11 02000800 7ef8320b 178bfbff\n";
  g_autoptr (X86CpuidDump) dump = parse_ok (raw, "raw");

  assert_int_equal (x86_cpuid_dump_n_cpus (dump), 2);
  assert_int_equal (x86_cpuid_dump_cpu_number (dump, 1), 2);
  assert_int_equal (x86_cpuid_dump_get (dump, 1, 1, 0, 1), 0x02000800);
  assert_null (x86_cpuid_dump_lookup (dump, 0, 2, 0));
  assert_false (x86_cpuid_dump_heterogeneous (dump, NULL));
}

static void
test_lookup_subleaves (void **state)
{
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  X86CpuidLeaf ext = { .leaf = 0x80000001, .ecx = 0x121 };
  X86CpuidLeaf features = { .leaf = 7, .subleaf = 0, .ebx = 0x1 };
  guint cpu = x86_cpuid_dump_add_cpu (dump, 5);

  x86_cpuid_dump_set (dump, cpu, &ext);
  x86_cpuid_dump_set (dump, cpu, &features);
  features.ebx = 0x3;
  x86_cpuid_dump_set (dump, cpu, &features);     /* replaces, never duplicates */
  assert_int_equal (x86_cpuid_dump_get (dump, cpu, 7, 0, 1), 0x3);
  assert_int_equal (x86_cpuid_dump_get (dump, cpu, 0x80000001, 9, 2), 0x121);
  assert_null (x86_cpuid_dump_lookup (dump, cpu, 7, 1));
  assert_null (x86_cpuid_dump_lookup (dump, 1, 7, 0));
  assert_int_equal (x86_cpuid_dump_get (dump, cpu, 0x80000008, 0, 0), 0);
  assert_true (x86_cpuid_leaf_has_subleaves (0xd));
  assert_false (x86_cpuid_leaf_has_subleaves (0x80000001));
}

static void
test_heterogeneous (void **state)
{
  g_autoptr (X86CpuidDump) dump = parse_ok (two_cpus_text, "two.txt");
  g_autoptr (GPtrArray) differences = NULL;
  g_autoptr (GArray) masked = NULL;
  X86CpuidLeaf changed = { .leaf = 7, .ebx = 0x000027ab, .edx = 0x9c000400 };
  X86CpuidLeaf extra = { .leaf = 0x1a, .eax = 0x40000000 };

  assert_false (x86_cpuid_dump_heterogeneous (dump, &differences));
  assert_int_equal (differences->len, 0);
  g_clear_pointer (&differences, g_ptr_array_unref);

  masked = x86_cpuid_dump_masked_leaves (dump, 1);
  assert_int_equal (g_array_index (masked, X86CpuidLeaf, 1).ebx, 0x00100800);
  assert_int_equal (g_array_index (masked, X86CpuidLeaf, 5).edx, 0);

  x86_cpuid_dump_set (dump, 1, &changed);
  x86_cpuid_dump_set (dump, 1, &extra);
  assert_true (x86_cpuid_dump_heterogeneous (dump, &differences));
  assert_int_equal (differences->len, 2);
  assert_string_equal (g_ptr_array_index (differences, 0),
                       "CPU 1: leaf 0x7.0 EDX 0x9c000400 (CPU 0: 0x9c000000)");
  assert_string_equal (g_ptr_array_index (differences, 1),
                       "CPU 1: leaf 0x1a.0 present (CPU 0: missing)");
}

static void
test_amd_topology_masked (void **state)
{
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  X86CpuidLeaf topology = { .leaf = 0x8000001e, .eax = 0x4, .ebx = 0x0102, .ecx = 0x0300 };

  x86_cpuid_dump_add_cpu (dump, 0);
  x86_cpuid_dump_add_cpu (dump, 1);
  x86_cpuid_dump_set (dump, 0, &topology);
  topology.eax = 0x5;
  topology.ebx = 0x0103;
  topology.ecx = 0x0301;
  x86_cpuid_dump_set (dump, 1, &topology);
  assert_false (x86_cpuid_dump_heterogeneous (dump, NULL));
  topology.ebx = 0x0003;     /* threads per core differ: a real difference */
  x86_cpuid_dump_set (dump, 1, &topology);
  assert_true (x86_cpuid_dump_heterogeneous (dump, NULL));
}

static void
test_malformed_text (void **state)
{
  static const char binary[] = "\x7f" "ELF\x02\x01\x01\x00\x00\x00garbage";
  const char *expected_line =
    "expected \"CPU N:\" or \"0xLEAF 0xSUBLEAF: eax=0x... ebx=0x... ecx=0x... edx=0x...\"";
  g_autofree char *truncated = g_strdup_printf ("sample:2: %s", expected_line);
  g_autofree char *garbage = g_strdup_printf ("sample:1: %s", expected_line);

  assert_parse_error ("   0x00000000 0x00: eax=0x00000001 ebx=0x0 ecx=0x0 edx=0x0\n"
                      "   0x00000001 0x00: eax=0x00000001 ebx=0x0 ec", -1, truncated);
  assert_parse_error ("\n   0x0000000g 0x00: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\n", -1, truncated);
  assert_parse_error ("\n   0x00000000 0x00: eax=0x123456789 ebx=0x2 ecx=0x3 edx=0x4\n", -1, truncated);
  assert_parse_error ("garbage\n", -1, garbage);
  assert_parse_error ("\xff\xfe\x80\x81\x01\x02", -1, garbage);
  assert_parse_error (binary, sizeof binary - 1, "sample:1: expected text, found a NUL byte");
  assert_parse_error ("", 0, "sample:1: expected CPUID lines, found none");
  assert_parse_error ("CPU 0:\n\n", -1, "sample:2: expected CPUID lines, found none");
  assert_parse_error ("CPU 3:\n   0x0 0x0: eax=0x1 ebx=0x2 ecx=0x3 edx=0x4\nCPU 3:\n", -1,
                      "sample:3: expected a new CPU, CPU 3 appears twice");
}

static void
test_malformed_other_layouts (void **state)
{
  static const char bad_json[] = "{\"format\": \"vcpuprobe-cpuid\",\n \"cpus\": [\n";
  static const char wrong_json[] =
    "{\"format\": \"vcpuprobe-cpuid\", \"cpus\": [{\"cpu\": 0, \"leaves\": [{\"leaf\": \"0x1\", \"eax\": \"zz\"}]}]}";
  static const char bad_xml[] =
    "<cpudata arch='x86'>\n  <cpuid eax_in='0x1' ecx_in='0x0' eax='0x1' ebx='0x2' ecx='0x3'/>\n</cpudata>\n";
  static const char bad_raw[] = "version=0.6.2\nbasic_cpuid[0]=00000001 68747541\n";

  assert_parse_error (bad_json, sizeof bad_json - 1,
                      "sample:3: expected JSON, the document ends early");
  assert_parse_error (wrong_json, sizeof wrong_json - 1,
                      "sample: cpus[0].leaves[0].eax: expected a 32-bit hex string");
  assert_parse_error (bad_xml, sizeof bad_xml - 1,
                      "sample:2: expected <cpuid eax_in='0x...' ecx_in='0x...' eax='0x...' "
                      "ebx='0x...' ecx='0x...' edx='0x...'/> with 32-bit hex values");
  assert_parse_error ("<cpudata arch='x86'>\n<cpuid eax_in='0x1'", -1,
                      "sample:2: expected well-formed XML");
  assert_parse_error (bad_raw, sizeof bad_raw - 1,
                      "sample:2: expected \"version=...\", \"Logical CPU #N\" or "
                      "\"NAME[INDEX]=EAX EBX ECX EDX\"");
}

/* Recognised by how the file starts, not by words it may mention further down. */
static void
test_sniffing (void **state)
{
  assert_parse_error ("/* mentions <cpudata arch='x86'> and basic_cpuid[0]= */\n", -1,
                      "sample:1: expected \"CPU N:\" or \"0xLEAF 0xSUBLEAF: eax=0x... "
                      "ebx=0x... ecx=0x... edx=0x...\"");
  assert_parse_error ("  <html><body/></html>\n", -1, "sample:1: expected <cpudata arch='x86'>");
  assert_parse_error ("\n[1, 2]", -1,
                      "sample:2: expected \"CPU N:\" or \"0xLEAF 0xSUBLEAF: eax=0x... "
                      "ebx=0x... ecx=0x... edx=0x...\"");
}

static void
test_load_errors (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *missing = g_build_filename (dir, "missing.txt", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.txt", NULL);
  g_autofree char *expected_empty = g_strdup_printf ("%s:1: expected CPUID lines, found none", empty);
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = NULL;

  dump = x86_cpuid_dump_load (missing, &error);
  assert_null (dump);
  assert_true (g_error_matches (error, X86_CPUID_ERROR, X86_CPUID_ERROR_IO));
  assert_non_null (strstr (error->message, missing));
  g_clear_error (&error);

  dump = x86_cpuid_dump_load (dir, &error);
  assert_null (dump);
  assert_true (g_error_matches (error, X86_CPUID_ERROR, X86_CPUID_ERROR_IO));
  assert_non_null (strstr (error->message, dir));
  g_clear_error (&error);

  assert_true (g_file_set_contents (empty, "", 0, NULL));
  dump = x86_cpuid_dump_load (empty, &error);
  assert_null (dump);
  assert_true (g_error_matches (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE));
  assert_string_equal (error->message, expected_empty);
  test_rmdir_r (dir);
}

/* The report of `vcpuprobe cpuid --format json` on a host whose KVM was read: cut down
 * to one leaf and a few features, in the layout tools/output-json.c writes. */
static const char cli_report_with_kvm[] =
  "{\"identity\": {\"vendor\": \"GenuineIntel\", \"cpus\": 1},\n"
  " \"cpus\": [{\"cpu\": 0, \"leaves\": [{\"leaf\": \"0x00000001\", \"subleaf\": \"0x00\",\n"
  "   \"eax\": \"0x000306c3\", \"ebx\": \"0x00100800\", \"ecx\": \"0x7ffafbff\",\n"
  "   \"edx\": \"0xbfebfbff\"}], \"features\": [\"fpu\"]}],\n"
  " \"heterogeneous\": false, \"differences\": [],\n"
  " \"kvm\": {\"available\": true, \"reason\": null,\n"
  "   \"supported\": [\"fpu\", \"sse4.1\", \"x2apic\", \"avx2\"],\n"
  "   \"emulated\": [\"movbe\"]}}\n";

static void
assert_features (const X86FeatureSet *set, const char *const *names)
{
  g_autoptr (GError) error = NULL;
  X86FeatureSet expected;

  assert_true (x86_feature_set_from_names (&expected, names, g_strv_length ((char **) names),
                                           &error));
  assert_true (x86_feature_set_equal (set, &expected));
}

static void
test_json_kvm_view (void **state)
{
  static const char *const supported[] = { "fpu", "sse4.1", "x2apic", "avx2", NULL };
  static const char *const emulated[] = { "movbe", NULL };
  g_autoptr (X86CpuidDump) dump = parse_ok (cli_report_with_kvm, "host.cpuid");
  g_autoptr (X86CpuidDump) again = NULL;
  g_autoptr (X86CpuidDump) text_dump = parse_ok (two_cpus_text, "two.txt");
  const X86KvmCpuid *kvm = x86_cpuid_dump_kvm (dump);
  json_object *json;

  assert_non_null (kvm);
  assert_true (kvm->available);
  assert_null (kvm->reason);
  assert_null (kvm->supported);
  assert_features (&kvm->supported_features, supported);
  assert_features (&kvm->emulated_features, emulated);

  /* Our own layout carries the view too, and reads back as the same sets. */
  json = x86_cpuid_dump_to_json (dump);
  again = parse_ok (json_object_to_json_string (json), "again.json");
  json_object_put (json);
  assert_same_leaves (dump, again);
  assert_non_null (x86_cpuid_dump_kvm (again));
  assert_features (&x86_cpuid_dump_kvm (again)->supported_features, supported);
  assert_features (&x86_cpuid_dump_kvm (again)->emulated_features, emulated);

  /* Layouts that cannot say anything of KVM carry no view, nor write one. */
  assert_null (x86_cpuid_dump_kvm (text_dump));
  json = x86_cpuid_dump_to_json (text_dump);
  assert_false (json_object_object_get_ex (json, "kvm", NULL));
  json_object_put (json);
}

/* A capture on a host whose /dev/kvm could not be read keeps the old behaviour: no view. */
static void
test_json_kvm_unavailable (void **state)
{
  static const char report[] =
    "{\"identity\": {}, \"cpus\": [{\"cpu\": 0, \"leaves\": [{\"leaf\": \"0x0\", \"eax\": \"0x1\",\n"
    "   \"ebx\": \"0x0\", \"ecx\": \"0x0\", \"edx\": \"0x0\"}]}],\n"
    " \"kvm\": {\"available\": false, \"reason\": \"/dev/kvm: No such file or directory\",\n"
    "   \"supported\": [], \"emulated\": []}}";
  g_autoptr (X86CpuidDump) dump = parse_ok (report, "host.cpuid");

  assert_null (x86_cpuid_dump_kvm (dump));
}

static void
assert_load_error (const char *dir, const char *contents, const char *expected_tail)
{
  g_autofree char *path = g_build_filename (dir, "host.cpuid", NULL);
  g_autofree char *expected = g_strdup_printf ("%s: %s", path, expected_tail);
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = NULL;

  assert_true (g_file_set_contents (path, contents, -1, NULL));
  dump = x86_cpuid_dump_load (path, &error);
  assert_null (dump);
  assert_true (g_error_matches (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE));
  assert_string_equal (error->message, expected);
}

/* We wrote the member, so anything we would not write is the file's fault, named with it
 * (X86_CPUID_ERROR_PARSE: the CLI's exit 2). */
static void
test_json_kvm_malformed (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();

  assert_load_error (dir, "{\"identity\": {}, \"cpus\": [], \"kvm\": [true]}",
                     "kvm: expected {\"available\": true|false, ...}");
  assert_load_error (dir, "{\"identity\": {}, \"cpus\": [], \"kvm\": {\"available\": \"yes\"}}",
                     "kvm: expected {\"available\": true|false, ...}");
  assert_load_error (dir, "{\"identity\": {}, \"cpus\": [], \"kvm\": {\"available\": false, "
                     "\"reason\": 3}}", "kvm.reason: expected a string or null");
  assert_load_error (dir, "{\"identity\": {}, \"cpus\": [], \"kvm\": {\"available\": true, "
                     "\"supported\": [\"fpu\", \"warp-drive\"], \"emulated\": []}}",
                     "kvm.supported[1]: unknown feature \"warp-drive\"");
  assert_load_error (dir, "{\"identity\": {}, \"cpus\": [], \"kvm\": {\"available\": true, "
                     "\"supported\": []}}", "kvm.emulated: expected an array of feature names");
  assert_load_error (dir, "{\"identity\": {}, \"cpus\": [], \"kvm\": {\"available\": true, "
                     "\"supported\": [], \"emulated\": [7]}}",
                     "kvm.emulated[0]: expected a feature name");
  test_rmdir_r (dir);
}

/* What a vCPU of the dump's KVM did with IA32_ARCH_CAPABILITIES: each value written and
 * read back as it was, and a dump made before the member existed reads as not recorded
 * and is written again without it, so that it never comes to claim a try. */
static void
test_json_kvm_arch_capabilities (void **state)
{
  static const struct {
    X86KvmMsrWrite write;
    guint64 offered;
    const char *detail;
    const char *vcpu;
  } cases[] = {
    /* Past 2^63, as on a nested host: the top bit must survive the trip. */
    { X86_KVM_MSR_REFUSED, G_GUINT64_CONSTANT (0xc00000000c000069), NULL, "refused" },
    { X86_KVM_MSR_ACCEPTED, 0x2b, NULL, "accepted" },
    { X86_KVM_MSR_NOT_WRITTEN, 0, NULL, "not-written" },
    { X86_KVM_MSR_UNKNOWN, 0, "KVM_CREATE_VM failed (Cannot allocate memory)", "unknown" },
  };
  static const char integer_offered[] =
    "{\"format\": \"vcpuprobe-cpuid\", \"cpus\": [{\"cpu\": 0, \"leaves\": [{\"leaf\": \"0x0\",\n"
    "  \"eax\": \"0x1\", \"ebx\": \"0x0\", \"ecx\": \"0x0\", \"edx\": \"0x0\"}]}],\n"
    " \"kvm\": {\"available\": true, \"supported\": [], \"emulated\": [],\n"
    "  \"arch_capabilities\": {\"offered\": 18446744073709551615, \"vcpu\": \"accepted\"}}}";
  g_autoptr (X86CpuidDump) old = parse_ok (cli_report_with_kvm, "old.cpuid");
  g_autoptr (X86CpuidDump) integer = parse_ok (integer_offered, "integer.json");
  json_object *json, *view = NULL;

  assert_int_equal (x86_cpuid_dump_kvm (old)->arch_capabilities.write, X86_KVM_MSR_UNKNOWN);
  assert_null (x86_cpuid_dump_kvm (old)->arch_capabilities.detail);
  json = x86_cpuid_dump_to_json (old);
  assert_true (json_object_object_get_ex (json, "kvm", &view));
  assert_false (json_object_object_get_ex (view, "arch_capabilities", NULL));
  json_object_put (json);

  assert_int_equal (x86_cpuid_dump_kvm (integer)->arch_capabilities.write, X86_KVM_MSR_ACCEPTED);
  assert_true (x86_cpuid_dump_kvm (integer)->arch_capabilities.offered == G_MAXUINT64);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (X86CpuidDump) dump = parse_ok (two_cpus_text, "two.txt");
      g_autoptr (X86CpuidDump) again = NULL;
      X86FeatureSet none;
      X86KvmCpuid *kvm;
      const X86KvmArchCapabilities *read_back;
      json_object *member = NULL, *vcpu = NULL;

      x86_feature_set_clear (&none);
      kvm = x86_kvm_cpuid_new_from_features (&none, &none);
      kvm->arch_capabilities.write = cases[i].write;
      kvm->arch_capabilities.offered = cases[i].offered;
      kvm->arch_capabilities.detail = g_strdup (cases[i].detail);
      x86_cpuid_dump_set_kvm (dump, kvm);

      json = x86_cpuid_dump_to_json (dump);
      assert_true (json_object_object_get_ex (json, "kvm", &view));
      assert_true (json_object_object_get_ex (view, "arch_capabilities", &member));
      assert_true (json_object_object_get_ex (member, "vcpu", &vcpu));
      assert_string_equal (json_object_get_string (vcpu), cases[i].vcpu);
      again = parse_ok (json_object_to_json_string (json), "again.json");
      json_object_put (json);

      read_back = &x86_cpuid_dump_kvm (again)->arch_capabilities;
      assert_int_equal (read_back->write, cases[i].write);
      assert_true (read_back->offered == cases[i].offered);
      if (cases[i].detail != NULL)
        assert_string_equal (read_back->detail, cases[i].detail);
      else
        assert_null (read_back->detail);
    }
}

static void
assert_arch_capabilities_error (const char *dir, const char *member, const char *expected_tail)
{
  g_autofree char *contents =
    g_strdup_printf ("{\"format\": \"vcpuprobe-cpuid\", \"cpus\": [], \"kvm\": "
                     "{\"available\": true, \"supported\": [], \"emulated\": [], "
                     "\"arch_capabilities\": %s}}", member);

  assert_load_error (dir, contents, expected_tail);
}

static void
test_json_kvm_arch_capabilities_malformed (void **state)
{
  static const char offered_problem[] =
    "kvm.arch_capabilities.offered: expected a 64-bit hex string";
  static const char vcpu_problem[] =
    "kvm.arch_capabilities.vcpu: expected \"accepted\", \"refused\", \"not-written\" "
    "or \"unknown\"";
  g_autofree char *dir = test_make_tmpdir ();

  assert_arch_capabilities_error (dir, "\"refused\"",
                                  "kvm.arch_capabilities: expected {\"offered\": \"0x...\", "
                                  "\"vcpu\": ...}");
  assert_arch_capabilities_error (dir, "{\"vcpu\": \"refused\"}", offered_problem);
  assert_arch_capabilities_error (dir, "{\"offered\": \"0x1g\", \"vcpu\": \"refused\"}",
                                  offered_problem);
  assert_arch_capabilities_error (dir, "{\"offered\": \"0x10000000000000000\", "
                                  "\"vcpu\": \"refused\"}", offered_problem);
  assert_arch_capabilities_error (dir, "{\"offered\": -1, \"vcpu\": \"refused\"}",
                                  offered_problem);
  assert_arch_capabilities_error (dir, "{\"offered\": \"0x1\"}", vcpu_problem);
  assert_arch_capabilities_error (dir, "{\"offered\": \"0x1\", \"vcpu\": \"maybe\"}",
                                  vcpu_problem);
  assert_arch_capabilities_error (dir, "{\"offered\": \"0x1\", \"vcpu\": 1}", vcpu_problem);
  assert_arch_capabilities_error (dir, "{\"offered\": \"0x1\", \"vcpu\": \"unknown\", "
                                  "\"detail\": 3}",
                                  "kvm.arch_capabilities.detail: expected a string or null");
  test_rmdir_r (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_text_sections),
    cmocka_unit_test (test_text_without_header),
    cmocka_unit_test (test_text_round_trip),
    cmocka_unit_test (test_json_round_trip),
    cmocka_unit_test (test_libvirt_xml),
    cmocka_unit_test (test_libvirt_xml_function_layout),
    cmocka_unit_test (test_libcpuid_generated),
    cmocka_unit_test (test_libcpuid_by_hand),
    cmocka_unit_test (test_lookup_subleaves),
    cmocka_unit_test (test_heterogeneous),
    cmocka_unit_test (test_amd_topology_masked),
    cmocka_unit_test (test_malformed_text),
    cmocka_unit_test (test_malformed_other_layouts),
    cmocka_unit_test (test_sniffing),
    cmocka_unit_test (test_load_errors),
    cmocka_unit_test (test_json_kvm_view),
    cmocka_unit_test (test_json_kvm_unavailable),
    cmocka_unit_test (test_json_kvm_malformed),
    cmocka_unit_test (test_json_kvm_arch_capabilities),
    cmocka_unit_test (test_json_kvm_arch_capabilities_malformed),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
