/* tests/test-libvirt-cpu-map.c — libvirt's CPU map: the one installed on this host (skipped,
 * saying so, where libvirt's map is not installed) and small maps written here for the
 * layouts and mistakes the installed one does not show. */
#include "tests/test-util.h"
#include "probe/libvirt-cpu-map.h"

#include <string.h>
#include <glib/gstdio.h>

static const char *
installed_map_dir (void)
{
  const char *dir = g_getenv ("VCPUPROBE_TEST_CPU_MAP");

  return dir != NULL ? dir : LIBVIRT_CPU_MAP_DEFAULT_DIR;
}

#define REQUIRE_INSTALLED_MAP()                                                             \
  do {                                                                                      \
    g_autofree char *index_ = g_build_filename (installed_map_dir (), "index.xml", NULL);   \
    if (!g_file_test (index_, G_FILE_TEST_IS_REGULAR)) {                                    \
      print_message ("SKIP: no libvirt CPU map at %s (Debian: apt-get install libvirt0)\n", \
                     installed_map_dir ());                                                 \
      skip (); } } while (0)

static LibvirtCpuMap *
load_installed (void)
{
  g_autoptr (GError) error = NULL;
  LibvirtCpuMap *map = libvirt_cpu_map_load (installed_map_dir (), &error);

  if (map == NULL)
    fail_msg ("%s", error->message);
  return map;
}

static const X86Feature *
table (const char *name)
{
  const X86Feature *feature = x86_feature_lookup (name);

  if (feature == NULL)
    fail_msg ("feature table lacks '%s'", name);
  return feature;
}

/* Every CPUID feature the installed libvirt names is one feature of our table: otherwise
 * a difference in it could neither be judged nor written back in libvirt's name. */
static void
test_installed_features_all_mapped (void **state)
{
  REQUIRE_INSTALLED_MAP ();
  g_autoptr (LibvirtCpuMap) map = load_installed ();
  guint n_features;
  const LibvirtCpuFeature *const *features = libvirt_cpu_map_features (map, &n_features);
  g_autoptr (GString) unmapped = g_string_new (NULL);

  assert_true (n_features >= 100);
  for (guint i = 0; i < n_features; i++)
    {
      assert_int_equal (features[i]->index, i);
      if (features[i]->feature == NULL)
        g_string_append_printf (unmapped, " %s", features[i]->name);
    }
  if (unmapped->len > 0)
    fail_msg ("libvirt features without a table feature:%s", unmapped->str);
  assert_int_equal (x86_feature_set_count (libvirt_cpu_map_known (map)), n_features);
}

static void
test_installed_spellings (void **state)
{
  REQUIRE_INSTALLED_MAP ();
  g_autoptr (LibvirtCpuMap) map = load_installed ();
  static const struct { const char *libvirt, *qemu; } pairs[] = {
    { "pclmuldq", "pclmulqdq" }, { "lahf_lm", "lahf-lm" }, { "tsc_adjust", "tsc-adjust" },
    { "fxsr_opt", "fxsr-opt" }, { "pni", "pni" }, { "sse4.1", "sse4.1" }, { "svm-lock", "svm-lock" },
    { "cmp_legacy", "cmp-legacy" }, { "nodeid_msr", "nodeid-msr" }, { "monitor", "monitor" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      const LibvirtCpuFeature *feature = libvirt_cpu_map_find_feature (map, pairs[i].libvirt);

      assert_non_null (feature);
      assert_string_equal (feature->name, pairs[i].libvirt);
      assert_ptr_equal (feature->feature, table (pairs[i].qemu));
      assert_ptr_equal (libvirt_cpu_map_feature_of (map, table (pairs[i].qemu)), feature);
    }
  /* QEMU's spellings are libvirt's aliases of its own names. */
  assert_string_equal (libvirt_cpu_map_find_feature (map, "pclmulqdq")->name, "pclmuldq");
  assert_string_equal (libvirt_cpu_map_find_feature (map, "lahf-lm")->name, "lahf_lm");
  assert_string_equal (libvirt_cpu_map_find_feature (map, "sse3")->name, "pni");
  /* The KVM paravirt leaf has no libvirt name. */
  assert_null (libvirt_cpu_map_feature_of (map, table ("kvmclock")));
  assert_null (libvirt_cpu_map_find_feature (map, "kvmclock"));
}

static void
test_installed_models (void **state)
{
  REQUIRE_INSTALLED_MAP ();
  g_autoptr (LibvirtCpuMap) map = load_installed ();
  const LibvirtCpuModel *epyc = libvirt_cpu_map_find_model (map, "EPYC");
  const LibvirtCpuModel *icelake = libvirt_cpu_map_find_model (map, "Icelake-Server");
  const LibvirtCpuModel *haswell = libvirt_cpu_map_find_model (map, "Haswell-noTSX");
  g_autoptr (GPtrArray) names = libvirt_cpu_map_model_names (map);

  assert_non_null (epyc);
  assert_string_equal (epyc->vendor, "AMD");
  assert_true (x86_feature_set_has (&epyc->removed, table ("monitor")));
  assert_false (x86_feature_set_has (&epyc->features, table ("monitor")));
  assert_true (x86_feature_set_has (&epyc->features, table ("pclmulqdq")));
  assert_true (g_ptr_array_find_with_equal_func (epyc->feature_names, "monitor", g_str_equal, NULL));

  assert_non_null (icelake);
  assert_string_equal (icelake->vendor, "Intel");
  assert_true (x86_feature_set_has (&icelake->removed, table ("intel-pt")));
  assert_false (x86_feature_set_has (&icelake->features, table ("intel-pt")));

  /* libvirt's models are not QEMU's: no hypervisor bit in any of them. */
  assert_non_null (haswell);
  assert_false (x86_feature_set_has (&haswell->features, table ("hypervisor")));
  assert_true (x86_feature_set_is_empty (&haswell->removed));

  assert_null (libvirt_cpu_map_find_model (map, "Haswell-noTSX-v1"));
  assert_null (libvirt_cpu_map_find_model (map, "POWER9"));   /* another arch: not read */
  assert_true (names->len >= 40);
  assert_string_equal (libvirt_cpu_map_vendor_string (map, "Intel"), "GenuineIntel");
  assert_string_equal (libvirt_cpu_map_vendor_name (map, "AuthenticAMD"), "AMD");
  assert_null (libvirt_cpu_map_vendor_string (map, "IBM"));
}

/* ---- Small maps written here ---- */

typedef struct {
  const char *name;
  const char *text;
} MapFile;

static char *
write_map (const MapFile *files, guint n_files)
{
  char *dir = test_make_tmpdir ();

  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i].name, NULL);
      g_autoptr (GError) error = NULL;

      if (!g_file_set_contents (path, files[i].text, -1, &error))
        fail_msg ("%s", error->message);
    }
  return dir;
}

static const char features_xml[] =
  "<cpus>\n"
  "  <feature name='fpu'><cpuid eax_in='0x01' edx='0x00000001'/></feature>\n"
  "  <feature name='pclmuldq'>\n"
  "    <alias name='pclmulqdq' source='qemu'/>\n"
  "    <cpuid eax_in='0x01' ecx='0x00000002'/>\n"
  "  </feature>\n"
  "  <feature name='monitor'><cpuid eax_in='0x01' ecx='0x00000008'/></feature>\n"
  "  <feature name='avx2'><cpuid eax_in='0x07' ecx_in='0x00' ebx='0x00000020'/></feature>\n"
  "  <feature name='mds-no'><msr index='0x10a' edx='0x00000000' eax='0x00000020'/></feature>\n"
  "  <feature name='future'><cpuid eax_in='0x4000ffff' eax='0x00000001'/></feature>\n"
  "</cpus>\n";

static void
test_written_layout (void **state)
{
  const MapFile files[] = {
    { "index.xml",
      "<cpus>\n"
      "  <arch name='ppc64'><include filename='ppc.xml'/></arch>\n"
      "  <arch name='x86'>\n"
      "    <vendor name='AMD' string='AuthenticAMD'/>\n"
      "    <include filename='f.xml'/>\n"
      "    <include filename='m.xml'/>\n"
      "  </arch>\n"
      "</cpus>\n" },
    { "f.xml", features_xml },
    { "m.xml",
      "<cpus>\n"
      "  <model name='Base'>\n"
      "    <vendor name='AMD'/>\n"
      "    <feature name='fpu'/><feature name='monitor' removed='yes'/>\n"
      "  </model>\n"
      "  <model name='Child'>\n"
      "    <model name='Base'/>\n"
      "    <feature name='pclmuldq'/><feature name='avx2'/><feature name='mds-no'/>\n"
      "  </model>\n"
      "</cpus>\n" },
  };
  g_autofree char *dir = write_map (files, G_N_ELEMENTS (files));
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtCpuMap) map = libvirt_cpu_map_load (dir, &error);
  const LibvirtCpuModel *child;

  assert_non_null (map);
  /* The ppc64 include names a file that is not there: never read. */
  child = libvirt_cpu_map_find_model (map, "Child");
  assert_non_null (child);
  assert_string_equal (child->vendor, "AMD");
  assert_int_equal (x86_feature_set_count (&child->features), 4);
  assert_true (x86_feature_set_has (&child->features, table ("mds-no")));
  assert_true (x86_feature_set_has (&child->removed, table ("monitor")));
  assert_int_equal (child->feature_names->len, 5);
  /* A leaf our table has no word for leaves the feature unmapped, and not known. */
  assert_null (libvirt_cpu_map_find_feature (map, "future")->feature);
  assert_int_equal (x86_feature_set_count (libvirt_cpu_map_known (map)), 5);
  assert_ptr_equal (libvirt_cpu_map_find_feature (map, "pclmulqdq")->feature, table ("pclmulqdq"));
  test_rmdir_r (dir);
}

/* The single-file layout of older libvirt (cpu_map.xml), given as a file. */
static void
test_written_single_file (void **state)
{
  const MapFile files[] = {
    { "cpu_map.xml",
      "<cpus><arch name='x86'>"
      "<vendor name='Intel' string='GenuineIntel'/>"
      "<feature name='fpu'><cpuid eax_in='0x01' edx='0x00000001'/></feature>"
      "<model name='M'><vendor name='Intel'/><feature name='fpu'/></model>"
      "</arch></cpus>" },
  };
  g_autofree char *dir = write_map (files, G_N_ELEMENTS (files));
  g_autofree char *path = g_build_filename (dir, "cpu_map.xml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtCpuMap) map = libvirt_cpu_map_load (path, &error);

  assert_non_null (map);
  assert_string_equal (libvirt_cpu_map_path (map), path);
  assert_string_equal (libvirt_cpu_map_find_model (map, "M")->vendor, "Intel");
  assert_true (x86_feature_set_has (&libvirt_cpu_map_find_model (map, "M")->features,
                                    table ("fpu")));
  test_rmdir_r (dir);
}

/* Element names come from the file: none may stay in GLib's interned strings, which are
 * never freed (a hostile map would grow the process for good). */
static void
test_element_names_not_kept (void **state)
{
  const char *name = "vcpuprobe-test-element-never-interned";
  g_autofree char *text = g_strdup_printf (
    "<cpus><arch name='x86'><%s/>"
    "<vendor name='Intel' string='GenuineIntel'/>"
    "<feature name='fpu'><cpuid eax_in='0x01' edx='0x00000001'/></feature>"
    "<model name='M'><vendor name='Intel'/><feature name='fpu'/></model>"
    "</arch></cpus>", name);
  const MapFile files[] = { { "cpu_map.xml", text } };
  g_autofree char *dir = write_map (files, G_N_ELEMENTS (files));
  g_autofree char *path = g_build_filename (dir, "cpu_map.xml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtCpuMap) map = libvirt_cpu_map_load (path, &error);

  assert_non_null (map);
  assert_int_equal (g_quark_try_string (name), 0);
  test_rmdir_r (dir);
}

static void
assert_load_error (const MapFile *files, guint n_files, LibvirtCpuMapError code,
                   const char *message_part)
{
  g_autofree char *dir = write_map (files, n_files);
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtCpuMap) map = libvirt_cpu_map_load (dir, &error);

  assert_null (map);
  assert_non_null (error);
  assert_true (error->domain == LIBVIRT_CPU_MAP_ERROR);
  assert_int_equal (error->code, code);
  if (strstr (error->message, message_part) == NULL)
    fail_msg ("'%s' lacks '%s'", error->message, message_part);
  assert_true (g_str_has_prefix (error->message, "libvirt CPU map "));
  test_rmdir_r (dir);
}

static void
test_written_errors (void **state)
{
  const char index_xml[] = "<cpus><arch name='x86'><include filename='f.xml'/>"
                           "<include filename='m.xml'/></arch></cpus>";
  const MapFile unknown_feature[] = {
    { "index.xml", index_xml }, { "f.xml", features_xml },
    { "m.xml", "<cpus><model name='M'><feature name='avx9'/></model></cpus>" },
  };
  const MapFile unknown_parent[] = {
    { "index.xml", index_xml }, { "f.xml", features_xml },
    { "m.xml", "<cpus><model name='M'><model name='Nope'/></model></cpus>" },
  };
  const MapFile bad_number[] = {
    { "index.xml", index_xml },
    { "f.xml", "<cpus><feature name='x'><cpuid eax_in='0x1' ecx='zz'/></feature></cpus>" },
    { "m.xml", "<cpus/>" },
  };
  const MapFile twice[] = {
    { "index.xml", index_xml },
    { "f.xml", "<cpus><feature name='x'><cpuid eax_in='1' ecx='1'/></feature>"
               "<feature name='x'><cpuid eax_in='1' ecx='2'/></feature></cpus>" },
    { "m.xml", "<cpus/>" },
  };
  const MapFile broken[] = { { "index.xml", "<cpus><arch name='x86'>" } };
  const MapFile missing_include[] = { { "index.xml", index_xml } };
  const MapFile empty[] = { { "index.xml", "<cpus><arch name='x86'/></cpus>" } };
  const MapFile own_parent[] = {
    { "index.xml", index_xml }, { "f.xml", features_xml },
    { "m.xml", "<cpus><model name='M'><signature family='6' model='1'/>"
               "<feature name='fpu'/><model name='M'/></model></cpus>" },
  };
  /* Includes that come back to a file already read would be read for ever. */
  const MapFile includes_itself[] = {
    { "index.xml", "<cpus><arch name='x86'><include filename='index.xml'/></arch></cpus>" },
  };
  const MapFile include_cycle[] = {
    { "index.xml", "<cpus><arch name='x86'><include filename='f.xml'/></arch></cpus>" },
    { "f.xml", "<cpus><arch name='x86'><include filename='f.xml'/></arch>"
               "<feature name='x'><cpuid eax_in='1' ecx='1'/></feature></cpus>" },
  };
  g_autoptr (GError) error = NULL;

  assert_load_error (unknown_feature, G_N_ELEMENTS (unknown_feature),
                     LIBVIRT_CPU_MAP_ERROR_INVALID, "m.xml:1: model 'M' names unknown feature 'avx9'");
  assert_load_error (unknown_parent, G_N_ELEMENTS (unknown_parent),
                     LIBVIRT_CPU_MAP_ERROR_INVALID, "model 'M' based on unknown model 'Nope'");
  assert_load_error (bad_number, G_N_ELEMENTS (bad_number), LIBVIRT_CPU_MAP_ERROR_INVALID,
                     "ecx='zz' is not a 32-bit number");
  assert_load_error (twice, G_N_ELEMENTS (twice), LIBVIRT_CPU_MAP_ERROR_INVALID,
                     "feature 'x' defined twice");
  assert_load_error (broken, G_N_ELEMENTS (broken), LIBVIRT_CPU_MAP_ERROR_SYNTAX, "index.xml: ");
  assert_load_error (missing_include, G_N_ELEMENTS (missing_include), LIBVIRT_CPU_MAP_ERROR_IO,
                     "f.xml");
  assert_load_error (empty, G_N_ELEMENTS (empty), LIBVIRT_CPU_MAP_ERROR_INVALID, "no x86 features");
  assert_load_error (own_parent, G_N_ELEMENTS (own_parent), LIBVIRT_CPU_MAP_ERROR_INVALID,
                     "m.xml:1: model 'M' based on itself");
  assert_load_error (includes_itself, G_N_ELEMENTS (includes_itself),
                     LIBVIRT_CPU_MAP_ERROR_INVALID, "index.xml is included more than once");
  assert_load_error (include_cycle, G_N_ELEMENTS (include_cycle),
                     LIBVIRT_CPU_MAP_ERROR_INVALID, "f.xml is included more than once");

  assert_null (libvirt_cpu_map_load ("/nonexistent/cpu_map", &error));
  assert_int_equal (error->code, LIBVIRT_CPU_MAP_ERROR_IO);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_installed_features_all_mapped),
    cmocka_unit_test (test_installed_spellings),
    cmocka_unit_test (test_installed_models),
    cmocka_unit_test (test_written_layout),
    cmocka_unit_test (test_written_single_file),
    cmocka_unit_test (test_element_names_not_kept),
    cmocka_unit_test (test_written_errors),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
