/* tests/test-host-cpuid.c — the hardware walk on this machine, checked against the
 * `cpuid` tool, /proc/cpuinfo and libcpuid; the identity of dumps from elsewhere. */
#include "tests/test-util.h"
#include "x86/cpu-identity.h"
#include "x86/host-cpuid.h"

#include <sched.h>
#include <string.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Valgrind answers CPUID with a CPU of its own, so nothing read inside it matches the
 * machine that the cpuid tool, /proc/cpuinfo and the APIC ids describe. */
#define REQUIRE_REAL_CPUID()                                                   \
  do { if (RUNNING_ON_VALGRIND) {                                              \
         print_message ("SKIP: valgrind emulates CPUID, the hardware cannot be compared\n"); \
         skip (); } } while (0)

/* Ranges `cpuid` prints even when nothing answers there (Xeon Phi, Transmeta, Centaur);
 * our walk reads them only when they hold leaves, so they are compared only when both have them. */
static gboolean
optional_range (guint32 leaf)
{
  return (leaf >> 28) == 0x2 || (leaf >> 16) == 0x8086 || (leaf >> 28) == 0xc;
}

static void
check_walk_matches_cpuid_tool (void)
{
  g_autofree char *cpuid_tool = g_find_program_in_path ("cpuid");
  g_autofree char *taskset = g_find_program_in_path ("taskset");
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) ours = NULL;
  g_autoptr (X86CpuidDump) theirs = NULL;
  g_autoptr (TestRun) run = NULL;
  guint n_ours, n_theirs, i = 0, j = 0, compared = 0;
  const X86CpuidLeaf *leaves_ours, *leaves_theirs;

  if (cpuid_tool == NULL || taskset == NULL)
    {
      print_message ("SKIP: the cpuid tool or taskset is not installed\n");
      g_clear_pointer (&cpuid_tool, g_free);
      g_clear_pointer (&taskset, g_free);
      skip ();
    }
  {
    const char *argv[] = { taskset, "-c", "0", cpuid_tool, "-1r", NULL };
    run = test_run (argv, NULL);
  }
  assert_int_equal (run->status, 0);
  theirs = x86_cpuid_dump_parse_cpuid_text (run->out, strlen (run->out), "cpuid -1r", &error);
  assert_null (error);
  ours = x86_host_cpuid_read (0, &error);
  assert_null (error);
  assert_int_equal (x86_cpuid_dump_n_cpus (ours), 1);

  leaves_ours = x86_cpuid_dump_leaves (ours, 0, &n_ours);
  leaves_theirs = x86_cpuid_dump_leaves (theirs, 0, &n_theirs);
  while (i < n_ours || j < n_theirs)
    {
      const X86CpuidLeaf *a = i < n_ours ? &leaves_ours[i] : NULL;
      const X86CpuidLeaf *b = j < n_theirs ? &leaves_theirs[j] : NULL;

      if (a != NULL && b != NULL && a->leaf == b->leaf && a->subleaf == b->subleaf)
        {
          if (memcmp (a, b, sizeof *a) != 0)
            print_message ("leaf 0x%08x 0x%02x differs from cpuid -1r\n", a->leaf, a->subleaf);
          assert_memory_equal (a, b, sizeof *a);
          compared++;
          i++, j++;
        }
      else if (b == NULL
               || (a != NULL && (a->leaf < b->leaf || (a->leaf == b->leaf && a->subleaf < b->subleaf))))
        {
          print_message ("only we read leaf 0x%08x 0x%02x\n", a->leaf, a->subleaf);
          assert_true (optional_range (a->leaf));
          i++;
        }
      else
        {
          if (!optional_range (b->leaf))
            print_message ("only cpuid -1r prints leaf 0x%08x 0x%02x\n", b->leaf, b->subleaf);
          assert_true (optional_range (b->leaf));
          j++;
        }
    }
  assert_true (compared >= 3);
}

/* Skips before any allocation: skip() leaves the function by longjmp. */
static void
test_walk_matches_cpuid_tool (void **state)
{
  REQUIRE_REAL_CPUID ();
  check_walk_matches_cpuid_tool ();
}

static guint
count_online_cpus (void)
{
  return (guint) sysconf (_SC_NPROCESSORS_ONLN);
}

static void
check_every_online_cpu (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = NULL;
  g_autoptr (GHashTable) apic_ids = g_hash_table_new (NULL, NULL);
  cpu_set_t before, pinned, after;

  /* Pinned to one CPU, the caller must stay pinned there while every CPU is read. */
  assert_int_equal (sched_getaffinity (0, sizeof before, &before), 0);
  CPU_ZERO (&pinned);
  CPU_SET (sched_getcpu (), &pinned);
  assert_int_equal (sched_setaffinity (0, sizeof pinned, &pinned), 0);

  dump = x86_host_cpuid_read (-1, &error);

  assert_int_equal (sched_getaffinity (0, sizeof after, &after), 0);
  assert_true (CPU_EQUAL (&pinned, &after));
  assert_int_equal (sched_setaffinity (0, sizeof before, &before), 0);

  assert_null (error);
  assert_non_null (dump);
  assert_string_equal (x86_cpuid_dump_origin (dump), "hardware");
  assert_int_equal (x86_cpuid_dump_n_cpus (dump), count_online_cpus ());
  for (guint i = 0; i < x86_cpuid_dump_n_cpus (dump); i++)
    {
      guint32 apic_id = x86_cpuid_dump_get (dump, i, 1, 0, 1) >> 24;

      assert_non_null (x86_cpuid_dump_lookup (dump, i, 0, 0));
      assert_non_null (x86_cpuid_dump_lookup (dump, i, 0x80000000, 0));
      /* Each CPU answered for itself: no two share an initial APIC id. */
      assert_false (g_hash_table_contains (apic_ids, GUINT_TO_POINTER (apic_id + 1)));
      g_hash_table_add (apic_ids, GUINT_TO_POINTER (apic_id + 1));
    }
}

static void
test_every_online_cpu (void **state)
{
  REQUIRE_REAL_CPUID ();
  check_every_online_cpu ();
}

static void
test_not_heterogeneous_here (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = x86_host_cpuid_read (-1, &error);
  g_autoptr (X86CpuIdentity) identity = NULL;
  g_autoptr (GPtrArray) differences = NULL;
  gboolean heterogeneous;

  assert_non_null (dump);
  identity = x86_cpu_identity_from_dump (dump, TRUE);
  heterogeneous = x86_cpuid_dump_heterogeneous (dump, &differences);
  for (guint i = 0; i < differences->len; i++)
    print_message ("%s\n", (const char *) g_ptr_array_index (differences, i));
  if (identity->hybrid)
    {
      print_message ("NOTE: hybrid CPU, its core types may differ\n");
      return;
    }
  assert_false (heterogeneous);
}

static void
test_bad_cpu (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = x86_host_cpuid_read (CPU_SETSIZE + 7, &error);

  assert_null (dump);
  assert_true (g_error_matches (error, X86_CPUID_ERROR, X86_CPUID_ERROR_NO_CPU));
  assert_string_equal (error->message, "CPU 1031: not an online CPU");
}

/* The value of "@key : value" for the first processor in /proc/cpuinfo, or NULL. */
static char *
cpuinfo_field (const char *key)
{
  g_autofree char *cpuinfo = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return NULL;
  lines = g_strsplit (cpuinfo, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');
      g_autofree char *name = NULL;

      if (colon == NULL)
        continue;
      name = g_strstrip (g_strndup (lines[i], (gsize) (colon - lines[i])));
      if (strcmp (name, key) == 0)
        return g_strstrip (g_strdup (colon + 1));
    }
  return NULL;
}

static void
check_identity_here (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = x86_host_cpuid_read (-1, &error);
  g_autoptr (X86CpuIdentity) identity = NULL;
  g_autofree char *vendor = cpuinfo_field ("vendor_id");
  g_autofree char *family = cpuinfo_field ("cpu family");
  g_autofree char *model = cpuinfo_field ("model");
  g_autofree char *stepping = cpuinfo_field ("stepping");
  g_autofree char *microcode = cpuinfo_field ("microcode");
  g_autofree char *flags = cpuinfo_field ("flags");
  json_object *json;

  assert_non_null (dump);
  assert_non_null (vendor);
  identity = x86_cpu_identity_from_dump (dump, TRUE);
  print_message ("this host: %s, family 0x%x model 0x%x stepping %u, %s, \"%s\", microcode %s, "
                 "hypervisor %s\n", identity->vendor, identity->family, identity->model,
                 identity->stepping, identity->codename, identity->brand,
                 identity->microcode != NULL ? identity->microcode : "-",
                 identity->hypervisor != NULL ? identity->hypervisor : "-");
  assert_string_equal (identity->vendor, vendor);
  assert_int_equal (identity->family, g_ascii_strtoull (family, NULL, 10));
  assert_int_equal (identity->model, g_ascii_strtoull (model, NULL, 10));
  assert_int_equal (identity->stepping, g_ascii_strtoull (stepping, NULL, 10));
  assert_string_equal (identity->microcode != NULL ? identity->microcode : "", microcode != NULL ? microcode : "");
  assert_int_equal (identity->n_cpus, count_online_cpus ());
  /* The kernel's own reading of the hypervisor bit. */
  assert_int_equal (identity->hypervisor != NULL,
                    flags != NULL && strstr (flags, " hypervisor") != NULL);
  /* libcpuid 0.6 calls every family 6 model it lacks "Conroe", a 2006 part that still
   * reported family 6 model 0xf: any other model with that name is a misidentification. */
  if (identity->model != 0xf)
    assert_null (strstr (identity->codename, "Conroe"));
  if (strcmp (identity->vendor, "GenuineIntel") == 0 && identity->family == 6
      && identity->model == 0xcf)
    assert_string_equal (identity->codename, "Emerald Rapids");

  json = x86_cpu_identity_to_json (identity);
  assert_string_equal (json_object_get_string (json_object_object_get (json, "vendor")), vendor);
  assert_int_equal (json_object_get_int (json_object_object_get (json, "family")), identity->family);
  json_object_put (json);
}

static void
test_identity_here (void **state)
{
  REQUIRE_REAL_CPUID ();
  check_identity_here ();
}

/* A dump from a file names that CPU, not this one: a hybrid Alder Lake part here. */
static void
test_identity_from_file (void **state)
{
  static const char alder_lake[] =
    "CPU 0:\n"
    "   0x00000000 0x00: eax=0x00000020 ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
    "   0x00000001 0x00: eax=0x00090672 ebx=0x00800800 ecx=0x7ffafbff edx=0xbfebfbff\n"
    "   0x00000007 0x00: eax=0x00000002 ebx=0x239c27eb ecx=0x98c027ac edx=0xfc1cc410\n"
    "   0x0000001a 0x00: eax=0x40000001 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
    "   0x80000000 0x00: eax=0x80000008 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
    "CPU 16:\n"
    "   0x00000000 0x00: eax=0x00000020 ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
    "   0x00000001 0x00: eax=0x00090672 ebx=0x20800800 ecx=0x7ffafbff edx=0xbfebfbff\n"
    "   0x00000007 0x00: eax=0x00000002 ebx=0x239c27eb ecx=0x98c027ac edx=0xfc1cc410\n"
    "   0x0000001a 0x00: eax=0x20000001 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
    "   0x80000000 0x00: eax=0x80000008 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump =
    x86_cpuid_dump_parse (alder_lake, sizeof alder_lake - 1, "alder-lake.txt", &error);
  g_autoptr (X86CpuIdentity) identity = NULL;
  g_autoptr (GPtrArray) differences = NULL;

  assert_non_null (dump);
  identity = x86_cpu_identity_from_dump (dump, FALSE);
  assert_string_equal (identity->vendor, "GenuineIntel");
  assert_int_equal (identity->family, 6);
  assert_int_equal (identity->model, 0x97);
  assert_int_equal (identity->stepping, 2);
  assert_string_equal (identity->codename, "Alder Lake");
  assert_null (identity->microcode);
  assert_null (identity->hypervisor);
  assert_true (identity->hybrid);
  assert_int_equal (identity->core_types->len, 2);
  assert_string_equal (g_ptr_array_index (identity->core_types, 0), "performance");
  assert_string_equal (g_ptr_array_index (identity->core_types, 1), "efficiency");
  /* Core types are a real difference between CPUs, APIC ids are not. */
  assert_true (x86_cpuid_dump_heterogeneous (dump, &differences));
  assert_int_equal (differences->len, 1);
  assert_string_equal (g_ptr_array_index (differences, 0),
                       "CPU 16: leaf 0x1a.0 EAX 0x20000001 (CPU 0: 0x40000001)");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_walk_matches_cpuid_tool),
    cmocka_unit_test (test_every_online_cpu),
    cmocka_unit_test (test_not_heterogeneous_here),
    cmocka_unit_test (test_bad_cpu),
    cmocka_unit_test (test_identity_here),
    cmocka_unit_test (test_identity_from_file),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
