/* tests/test-host-cpuid.c — the hardware walk on this machine, checked against the
 * `cpuid` tool, /proc/cpuinfo and libcpuid; its rules on synthetic CPUs, against what
 * `cpuid` printed for them; the identity of dumps from elsewhere. */
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

/* Lines we print and cpuid 20230120 cannot: the subleaves past 0 of leaves 0x1E and 0x24,
 * which came after it (x86/host-cpuid.h). Only a CPU reporting them has such lines. */
static gboolean
newer_than_cpuid_tool (const char *line)
{
  return (g_str_has_prefix (line, "   0x0000001e ") || g_str_has_prefix (line, "   0x00000024 "))
         && !g_str_has_prefix (line + 14, "0x00:");
}

/* @ours without the lines newer_than_cpuid_tool() names that @theirs (whole `cpuid -1r`
 * output, so every leaf line follows a newline) lacks, newly allocated. */
static char *
without_newer_lines (const char *ours, const char *theirs)
{
  g_auto (GStrv) lines = g_strsplit (ours, "\n", -1);
  g_autoptr (GString) kept = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *needle = g_strconcat ("\n", lines[i], "\n", NULL);

      if (newer_than_cpuid_tool (lines[i]) && strstr (theirs, needle) == NULL)
        {
          print_message ("NOTE: cpuid predates %s\n", lines[i]);
          continue;
        }
      g_string_append (kept, lines[i]);
      if (lines[i + 1] != NULL)
        g_string_append_c (kept, '\n');
    }
  return g_string_free (g_steal_pointer (&kept), FALSE);
}

/* Prints the first line where @ours and @theirs part, to read before cmocka's full dump. */
static void
print_first_difference (const char *ours, const char *theirs)
{
  g_auto (GStrv) a = g_strsplit (ours, "\n", -1);
  g_auto (GStrv) b = g_strsplit (theirs, "\n", -1);

  for (guint i = 0; a[i] != NULL || b[i] != NULL; i++)
    {
      if (a[i] != NULL && b[i] != NULL && strcmp (a[i], b[i]) == 0)
        continue;
      print_message ("line %u: we print \"%s\", cpuid -1r prints \"%s\"\n", i + 1,
                     a[i] != NULL ? a[i] : "(nothing)", b[i] != NULL ? b[i] : "(nothing)");
      return;
    }
}

/* Our walk of CPU 0, printed, is `taskset -c 0 cpuid -1r` line for line: every leaf and
 * subleaf it prints, the all-zero base leaves of the ranges this CPU lacks included, and
 * nothing else. The header is the one `cpuid -r` gives CPU 0 ("CPU 0:"); -1r, which does
 * not know which CPU it ran on, says "CPU:". */
static void
check_walk_matches_cpuid_tool (void)
{
  g_autofree char *cpuid_tool = g_find_program_in_path ("cpuid");
  g_autofree char *taskset = g_find_program_in_path ("taskset");
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) ours = NULL;
  g_autoptr (TestRun) run = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *our_lines = NULL;
  const char *their_lines;

  if (cpuid_tool == NULL || taskset == NULL)
    {
      print_message ("SKIP: %s is not installed (Debian package %s)\n",
                     cpuid_tool == NULL ? "the cpuid tool" : "taskset",
                     cpuid_tool == NULL ? "cpuid" : "util-linux");
      g_clear_pointer (&cpuid_tool, g_free);
      g_clear_pointer (&taskset, g_free);
      skip ();
    }
  {
    const char *argv[] = { taskset, "-c", "0", cpuid_tool, "-1r", NULL };
    run = test_run (argv, NULL);
  }
  assert_int_equal (run->status, 0);
  ours = x86_host_cpuid_read (0, &error);
  assert_null (error);
  assert_int_equal (x86_cpuid_dump_n_cpus (ours), 1);
  x86_cpuid_dump_format_text (ours, 0, text);

  assert_true (g_str_has_prefix (run->out, "CPU:\n"));
  assert_true (g_str_has_prefix (text->str, "CPU 0:\n"));
  their_lines = run->out + strlen ("CPU:\n");
  our_lines = without_newer_lines (text->str + strlen ("CPU 0:\n"), run->out);
  if (strcmp (our_lines, their_lines) != 0)
    print_first_difference (our_lines, their_lines);
  assert_string_equal (our_lines, their_lines);
}

/* Skips before any allocation: skip() leaves the function by longjmp. */
static void
test_walk_matches_cpuid_tool (void **state)
{
  REQUIRE_REAL_CPUID ();
  check_walk_matches_cpuid_tool ();
}

/* Synthetic CPUs, so the walk's rules are checked where this host has no such leaves.
 * Each expected list is what `cpuid -1rk` 20230120 printed for the same table, fed to it
 * in place of /dev/cpu/0/cpuid (apart from 0x1E.1 and 0x24.1, marked). A list holds
 * "LEAF.SUBLEAF" and "FIRST-LAST" (subleaf 0 of each), in hex. */
#define ANY G_MAXUINT32   /* any subleaf */

typedef struct {
  guint32 leaf, subleaf, eax, ebx, ecx, edx;
} FakeLeaf;

typedef struct {
  const FakeLeaf *leaves;
  gsize n_leaves;
  guint leaf2_reads;      /* leaf 2 answers in rounds: EBX is the round */
} FakeCpu;

/* The table's (leaf, subleaf), else its (leaf, ANY), else zeros, as AMD answers. */
static X86CpuidLeaf
fake_read (guint32 leaf, guint32 subleaf, gpointer user_data)
{
  FakeCpu *cpu = user_data;
  X86CpuidLeaf result = { .leaf = leaf, .subleaf = subleaf };
  const FakeLeaf *any = NULL;

  for (gsize i = 0; i < cpu->n_leaves; i++)
    {
      const FakeLeaf *entry = &cpu->leaves[i];

      if (entry->leaf == leaf && entry->subleaf == subleaf)
        {
          any = entry;
          break;
        }
      if (entry->leaf == leaf && entry->subleaf == ANY && any == NULL)
        any = entry;
    }
  if (any != NULL)
    {
      result.eax = any->eax;
      result.ebx = any->ebx;
      result.ecx = any->ecx;
      result.edx = any->edx;
    }
  if (leaf == 2)
    result.ebx = cpu->leaf2_reads++;
  return result;
}

static X86CpuidDump *
walk_fake (FakeCpu *cpu)
{
  X86CpuidDump *dump = x86_cpuid_dump_new ();

  x86_host_cpuid_walk (dump, x86_cpuid_dump_add_cpu (dump, 0), fake_read, cpu);
  return dump;
}

static char *
positions_of (const X86CpuidDump *dump)
{
  guint n_leaves;
  const X86CpuidLeaf *leaves = x86_cpuid_dump_leaves (dump, 0, &n_leaves);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n_leaves; i++)
    g_string_append_printf (out, "%s%x.%x", i > 0 ? " " : "", leaves[i].leaf, leaves[i].subleaf);
  return g_string_free (out, FALSE);
}

static char *
expand_positions (const char *list)
{
  g_auto (GStrv) tokens = g_strsplit_set (list, " ", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; tokens[i] != NULL; i++)
    {
      char *dash = strchr (tokens[i], '-');

      if (*tokens[i] == '\0')
        continue;
      if (dash == NULL)
        {
          g_string_append_printf (out, "%s%s", out->len > 0 ? " " : "", tokens[i]);
          continue;
        }
      for (guint64 leaf = g_ascii_strtoull (tokens[i], NULL, 16);
           leaf <= g_ascii_strtoull (dash + 1, NULL, 16); leaf++)
        g_string_append_printf (out, "%s%x.0", out->len > 0 ? " " : "", (guint32) leaf);
    }
  return g_string_free (out, FALSE);
}

/* Positions are long lists: say where they part before cmocka prints them whole. */
static void
assert_positions_equal (const char *got, const char *want)
{
  g_auto (GStrv) a = g_strsplit (got, " ", -1);
  g_auto (GStrv) b = g_strsplit (want, " ", -1);

  for (guint i = 0; a[i] != NULL || b[i] != NULL; i++)
    if (a[i] == NULL || b[i] == NULL || strcmp (a[i], b[i]) != 0)
      {
        print_message ("position %u: walked %s, expected %s\n", i,
                       a[i] != NULL ? a[i] : "nothing", b[i] != NULL ? b[i] : "nothing");
        break;
      }
  assert_string_equal (got, want);
}

#define ASSERT_WALK(cpu, list)                                                 \
  do {                                                                          \
    g_autoptr (X86CpuidDump) walked_ = walk_fake (cpu);                         \
    g_autofree char *got_ = positions_of (walked_);                             \
    g_autofree char *want_ = expand_positions (list);                           \
    assert_positions_equal (got_, want_);                                       \
  } while (0)

#define FAKE_CPU(table) { .leaves = (table), .n_leaves = G_N_ELEMENTS (table) }

/* "GenuineIntel", "AuthenticAMD" in EBX, ECX, EDX order as CPUID returns them. */
#define INTEL 0x756e6547, 0x6c65746e, 0x49656e69
#define AMD 0x68747541, 0x444d4163, 0x69746e65
/* Hypervisor signatures in EBX, ECX, EDX. */
#define KVM_ID 0x4b4d564b, 0x564b4d56, 0x0000004d
#define XEN_ID 0x566e6558, 0x65584d4d, 0x4d4d566e
#define HYPERV_ID 0x7263694d, 0x666f736f, 0x76482074

/* Every basic subleaf rule, KVM's old EAX 0, Xeon Phi, Transmeta and Centaur ranges, and
 * 0x8000_001D answering "no more caches" at once, as on Intel. */
static const FakeLeaf intel_leaves[] = {
  { 0x0, ANY, 0x24, INTEL },
  { 0x1, ANY, 0x000906a3, 0x00100800, 0xfffafbff, 0xbfebfbff },
  { 0x2, ANY, 0x00feff03, 0, 0x22, 0x33 },                /* AL 3: three rounds */
  { 0x4, 0, 0x121, 1, 1, 1 }, { 0x4, 1, 0x122, 2, 2, 2 }, { 0x4, 2, 0x143, 3, 3, 3 },
  { 0x4, 3, 0x163, 4, 4, 4 }, { 0x4, 4, 0, 0x55, 0, 0 }, { 0x4, 5, 0x121, 6, 6, 6 },
  { 0x7, 0, 2, 1, 1, 1 }, { 0x7, 1, 1, 2, 3, 4 }, { 0x7, 2, 7, 5, 6, 7 }, { 0x7, 3, 9, 9, 9, 9 },
  { 0xb, 0, 1, 2, 0x100, 0x10 }, { 0xb, 1, 5, 8, 0x201, 0x10 }, { 0xb, 2, 0, 0, 2, 0x10 },
  { 0xb, 3, 7, 7, 0x303, 7 },
  /* XCR0 bits 0-2, 5-7, 9, 62, 63; IA32_XSS bits 8, 11, 12: cpuid stops before bit 63 */
  { 0xd, 0, 0x2e7, 0x340, 0x340, 0xc0000000 }, { 0xd, 1, 0xf, 0x368, 0x1900, 0 },
  { 0xd, ANY, 0x100, 0x200, 0, 0 },
  { 0xf, 0, 0, 0xff, 0, 0x2 }, { 0xf, 1, 1, 2, 3, 4 }, { 0xf, 2, 5, 5, 5, 5 },
  { 0x10, 0, 0, 0xe, 0, 0 }, { 0x10, ANY, 1, 1, 1, 1 },
  { 0x12, 0, 3, 1, 0, 0 }, { 0x12, 1, 7, 2, 0, 0 }, { 0x12, 2, 1, 3, 0, 0 },
  { 0x12, 3, 0x21, 4, 0, 0 }, { 0x12, 4, 0x10, 5, 0, 0 }, { 0x12, 5, 1, 6, 0, 0 },
  { 0x14, 0, 1, 0x1f, 0, 0 }, { 0x14, ANY, 2, 3, 0, 0 },
  { 0x17, 0, 3, 1, 1, 1 }, { 0x17, ANY, 2, 2, 2, 2 },
  { 0x18, 0, 2, 1, 1, 1 }, { 0x18, ANY, 2, 2, 2, 2 },
  { 0x1b, 0, 0, 0, 0, 1 }, { 0x1b, 1, 1, 2, 2, 2 }, { 0x1b, 2, 0x1000, 3, 3, 3 },
  { 0x1b, 3, 1, 4, 4, 4 },
  { 0x1d, 0, 1, 0, 0, 0 }, { 0x1d, ANY, 0x4002000, 2, 3, 0 },
  { 0x1e, 0, 1, 0x4010, 0, 0 }, { 0x1e, ANY, 0x1234, 0x10, 0, 0 },
  { 0x1f, 0, 1, 2, 0x100, 0x10 }, { 0x1f, 1, 4, 8, 0x201, 0x10 }, { 0x1f, 2, 6, 16, 0x502, 0x10 },
  { 0x1f, 3, 0, 0, 3, 0x10 }, { 0x1f, 4, 9, 9, 0x604, 9 },
  { 0x20, 0, 1, 2, 0, 0 }, { 0x20, ANY, 3, 3, 3, 3 },
  { 0x21, ANY, 0, 0x61, 0x62, 0x63 },
  { 0x23, 0, 0xb, 1, 1, 1 }, { 0x23, ANY, 0x101, 1, 2, 3 },     /* a bitmap, counted */
  { 0x24, 0, 1, 0x70002, 0, 0 }, { 0x24, ANY, 0x11, 0x22, 0x33, 0x44 },
  { 0x20000000, ANY, 0x20000002, 1, 2, 3 }, { 0x20000001, ANY, 4, 5, 6, 7 },
  { 0x20000002, ANY, 8, 9, 10, 11 }, { 0x20000003, ANY, 12, 13, 14, 15 },
  { 0x40000000, ANY, 0, KVM_ID }, { 0x40000001, ANY, 0x01007efb, 0, 0, 0 },
  { 0x40000002, ANY, 2, 2, 2, 2 },
  { 0x80000000, ANY, 0x80000026, 0, 0, 0 },
  { 0x80000001, ANY, 0, 0, 0x121, 0x2c100800 },
  { 0x8000001d, 0, 0, 0x55, 0x66, 0x77 }, { 0x8000001d, 1, 0x122, 1, 1, 1 },
  { 0x80000020, 0, 0, 0x6, 0, 0 }, { 0x80000020, ANY, 1, 1, 1, 1 },
  { 0x80000026, 0, 1, 2, 0x100, 0x10 }, { 0x80000026, 1, 4, 8, 0x201, 0x10 },
  { 0x80000026, 2, 0, 0, 2, 0x10 },
  { 0x80860000, ANY, 0x80860002, 1, 1, 1 }, { 0x80860001, ANY, 2, 2, 2, 2 },
  { 0x80860002, ANY, 3, 3, 3, 3 }, { 0x80860003, ANY, 4, 4, 4, 4 },
  { 0xc0000000, ANY, 0xc0000001, 1, 1, 1 }, { 0xc0000001, ANY, 2, 2, 2, 2 },
  { 0xc0000002, ANY, 3, 3, 3, 3 },
};

static void
test_walk_rules_intel (void **state)
{
  FakeCpu cpu = FAKE_CPU (intel_leaves);
  g_autoptr (X86CpuidDump) dump = NULL;

  ASSERT_WALK (&cpu,
    "0.0 1.0 2.0 2.1 2.2 3.0 4.0 4.1 4.2 4.3 4.4 5.0 6.0 7.0 7.1 7.2 8-a b.0 b.1 b.2 "
    "c.0 d.0 d.1 d.2 d.5 d.6 d.7 d.8 d.9 d.b d.c d.3e e.0 f.0 f.1 10.0 10.1 10.2 "
    "10.3 11.0 12.0 12.1 12.2 12.3 12.4 13.0 14.0 14.1 15.0 16.0 17.0 17.1 17.2 17.3 "
    "18.0 18.1 18.2 19.0 1a.0 1b.0 1b.1 1b.2 1c.0 1d.0 1d.1 "
    "1e.0 1e.1 "                                   /* cpuid 20230120: 1e.0 only */
    "1f.0 1f.1 1f.2 1f.3 20.0 20.1 21.0 22.0 "
    "23.0 23.1 23.2 23.3 23.4 23.5 23.6 23.7 23.8 23.9 23.a 23.b "
    "24.0 24.1 "                                   /* cpuid 20230120: 24.0 only */
    "20000000-20000002 40000000.0 40000001.0 40000100.0 "
    "80000000-8000001c 8000001e.0 8000001f.0 80000020.0 80000020.1 80000020.2 "
    "80000021-80000026 80860000-80860002 c0000000.0 c0000001.0");

  /* Leaf 2 is read once per round, subleaf 0 first, and the rounds numbered. */
  cpu.leaf2_reads = 0;
  dump = walk_fake (&cpu);
  for (guint32 round = 0; round < 3; round++)
    assert_int_equal (x86_cpuid_dump_get (dump, 0, 2, round, 1), round);
}

/* Hyper-V's block, Xen's behind it with its time leaf's subleaves, KVM's behind that; the
 * cache leaves of 0x8000_001D without their "no more caches" subleaf. */
static const FakeLeaf amd_leaves[] = {
  { 0x0, ANY, 0x10, AMD },
  { 0x1, ANY, 0x00a00f11, 0x00020800, 0xfffa3203, 0x178bfbff },
  { 0xd, 0, 0x207, 0x340, 0x340, 0 }, { 0xd, 1, 0xf, 0x368, 0x1800, 0 },
  { 0xd, ANY, 0x100, 0x200, 1, 0 },
  { 0x10, 0, 0, 0x2, 0, 0 }, { 0x10, 1, 0xf, 0, 0, 0xf },
  { 0x40000000, ANY, 0x40000005, HYPERV_ID },
  { 0x40000001, ANY, 1, 1, 1, 1 }, { 0x40000005, ANY, 5, 5, 5, 5 },
  { 0x40000100, ANY, 0x40000104, XEN_ID },
  { 0x40000103, 0, 3, 0, 0, 0 }, { 0x40000103, 1, 3, 1, 0, 0 }, { 0x40000103, 2, 3, 2, 0, 0 },
  { 0x40000103, 3, 3, 3, 0, 0 },
  { 0x40000200, ANY, 0x40000201, KVM_ID }, { 0x40000201, ANY, 7, 0, 0, 0 },
  { 0x80000000, ANY, 0x80000022, 0, 0, 0 },
  { 0x80000001, ANY, 0x00a00f11, 0, 0x00400000, 0 },
  { 0x8000001d, 0, 0x121, 1, 1, 1 }, { 0x8000001d, 1, 0x122, 2, 2, 2 },
  { 0x8000001d, 2, 0x143, 3, 3, 3 }, { 0x8000001d, 3, 0x163, 4, 4, 4 },
  { 0x8000001d, 4, 0, 0x55, 0, 0 }, { 0x8000001d, 5, 0x121, 6, 6, 6 },
  { 0x80000020, 1, 1, 1, 1, 1 },
};

static void
test_walk_rules_amd_hypervisors (void **state)
{
  FakeCpu cpu = FAKE_CPU (amd_leaves);

  ASSERT_WALK (&cpu,
    "0-c d.0 d.1 d.2 d.9 d.b d.c e.0 f.0 10.0 10.1 20000000.0 "
    "40000000-40000005 40000100-40000102 40000103.0 40000103.1 40000103.2 40000104.0 "
    "40000200.0 40000201.0 40000300.0 "
    "80000000-8000001c 8000001d.0 8000001d.1 8000001d.2 8000001d.3 8000001e-80000022 "
    "80860000.0 c0000000.0");
}

/* cpuid's bounds: Xeon Phi up to 0x100 leaves, Centaur up to 0x1000, an unknown
 * hypervisor up to 0x100 (a second block claiming more ends the walk), the extended and
 * Transmeta ranges none (ours: 0x1000). */
static const FakeLeaf bounds_inside_leaves[] = {
  { 0x0, ANY, 1, 0x746e6543, 0x736c7561, 0x48727561 },          /* "CentaurHauls" */
  { 0x1, ANY, 0x6fe, 0, 0x80000000, 0 },
  { 0x20000000, ANY, 0x20000100, 0, 0, 0 },
  { 0x40000000, ANY, 0x40000100, 0x426f6f46, 0x7a615a72, 0x78755142 },  /* "FooBarBazQux" */
  { 0x40000100, ANY, 0x40000201, 0x426f6f46, 0x7a615a72, 0x78755142 },
  { 0x80000000, ANY, 0x80000301, 0, 0, 0 },
  { 0x80860000, ANY, 0x80860401, 0, 0, 0 },
  { 0xc0000000, ANY, 0xc0001000, 0, 0, 0 },
};

static const FakeLeaf bounds_past_leaves[] = {
  { 0x0, ANY, 1, INTEL },
  { 0x1, ANY, 0x6fe, 0, 0, 0 },                                 /* no hypervisor */
  { 0x20000000, ANY, 0x20000101, 0, 0, 0 },
  { 0x40000000, ANY, 0x40000003, 1, 1, 1 },
  { 0x80000000, ANY, 0x80001001, 0, 0, 0 },
  { 0x80860000, ANY, 0x7fffffff, 0, 0, 0 },
  { 0xc0000000, ANY, 0xc0001001, 0, 0, 0 },
};

static void
test_walk_range_bounds (void **state)
{
  FakeCpu inside = FAKE_CPU (bounds_inside_leaves);
  FakeCpu past = FAKE_CPU (bounds_past_leaves);

  ASSERT_WALK (&inside, "0.0 1.0 20000000-20000100 40000000-40000100 80000000-8000001c "
                        "8000001e-80000301 "
                        "80860000-80860401 c0000000-c0001000");
  /* Past every bound: the base leaves alone (0x8000_1001 is past ours, not cpuid's). */
  ASSERT_WALK (&past, "0.0 1.0 20000000.0 80000000.0 80860000.0 c0000000.0");
}

/* The hypervisors cpuid knows are walked to their EAX however far; any other only up to
 * 0x100 leaves. KVM's base answering below itself ends the walk after its base. (Where a
 * block runs into the next base, cpuid prints that leaf twice; a dump holds it once.) */
static void
test_walk_hypervisor_signatures (void **state)
{
  static const guint32 ids[][3] = {
    { 0x61774d56, 0x4d566572, 0x65726177 },     /* "VMwareVMware" */
    { XEN_ID }, { KVM_ID }, { HYPERV_ID },
    { 0x4e524341, 0x4e524341, 0x4e524341 },     /* "ACRNACRNACRN" */
    { 0x54474354, 0x43544743, 0x47435447 },     /* "TCGTCGTCGTCG": unknown to cpuid */
  };
  static const FakeLeaf kvm_below_base[] = {
    { 0x0, ANY, 1, AMD }, { 0x1, ANY, 0, 0, 0x80000000, 0 },
    { 0x40000000, ANY, 0x40000001, KVM_ID }, { 0x40000001, ANY, 1, 0, 0, 0 },
    { 0x40000100, ANY, 0x12345, KVM_ID },
    { 0x40000200, ANY, 0x40000201, 1, 2, 3 },
    { 0x80000000, ANY, 0x80000000, 0, 0, 0 },
  };
  FakeCpu below = FAKE_CPU (kvm_below_base);

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      const FakeLeaf leaves[] = {
        { 0x0, ANY, 1, INTEL }, { 0x1, ANY, 0, 0, 0x80000000, 0 },
        { 0x40000000, ANY, 0x40000102, ids[i][0], ids[i][1], ids[i][2] },
      };
      FakeCpu cpu = FAKE_CPU (leaves);

      if (i == 1)         /* Xen: its time leaf with subleaves 0..2 */
        ASSERT_WALK (&cpu, "0.0 1.0 20000000.0 40000000-40000002 40000003.0 40000003.1 "
                           "40000003.2 40000004-40000102 80000000.0 80860000.0 c0000000.0");
      else if (i + 1 < G_N_ELEMENTS (ids))
        ASSERT_WALK (&cpu, "0.0 1.0 20000000.0 40000000-40000102 80000000.0 80860000.0 "
                           "c0000000.0");
      else
        ASSERT_WALK (&cpu, "0.0 1.0 20000000.0 40000000.0 80000000.0 80860000.0 c0000000.0");
    }
  ASSERT_WALK (&below, "0.0 1.0 20000000.0 40000000.0 40000001.0 40000100.0 80000000.0 "
                       "80860000.0 c0000000.0");
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
    cmocka_unit_test (test_walk_rules_intel),
    cmocka_unit_test (test_walk_rules_amd_hypervisors),
    cmocka_unit_test (test_walk_range_bounds),
    cmocka_unit_test (test_walk_hypervisor_signatures),
    cmocka_unit_test (test_every_online_cpu),
    cmocka_unit_test (test_not_heterogeneous_here),
    cmocka_unit_test (test_bad_cpu),
    cmocka_unit_test (test_identity_here),
    cmocka_unit_test (test_identity_from_file),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
