/* x86/host-cpuid.c — the CPUID instruction on every online CPU, walked leaf by leaf and
 * subleaf by subleaf the way `cpuid -1r` prints it. A worker thread pins itself to each
 * CPU in turn, so the caller's own affinity never changes. */
#include "x86/host-cpuid.h"

#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

/* Where `cpuid` itself has no bound, these stop a walk on a CPU (or hypervisor) that
 * returns nonsense: a range claiming more leaves is read at its base only, a subleaf walk
 * ends after this many subleaves (`cpuid`'s own bound for leaf 0x1F). */
#define MAX_RANGE_LEAVES 0x1000
#define MAX_SUBLEAVES 256

enum { EAX, EBX, ECX, EDX };

static guint32
reg_of (const X86CpuidLeaf *entry, guint reg)
{
  const guint32 regs[] = { entry->eax, entry->ebx, entry->ecx, entry->edx };

  return regs[reg];
}

/* How `cpuid -1r` (Todd Allen's cpuid 20230120, Debian 12's) walks a leaf's subleaves. */
typedef enum {
  WALK_ONE,       /* subleaf 0 only: every leaf the table does not name */
  WALK_REPEAT,    /* subleaf 0 read again and again, numbered 0..field-1 (at least once) */
  WALK_COUNT,     /* subleaves 0..field */
  WALK_UNTIL,     /* subleaves up to and including the first one, from @from on, whose
                   * field is 0 */
  WALK_WHILE,     /* the subleaves before the first one whose field is 0: none when
                   * subleaf 0's is */
  WALK_BITMAP,    /* subleaf 0, then those named by the set bits of subleaf 0's field */
  WALK_XSAVE,     /* subleaves 0 and 1, then 2..62 as set in XCR0 | IA32_XSS */
  WALK_FIXED,     /* subleaves 0..@from */
} SubleafWalk;

typedef struct {
  guint32 leaf;
  SubleafWalk walk;
  guint8 reg;       /* the register of the field: of subleaf 0 (REPEAT, COUNT, BITMAP) or of
                     * each subleaf (UNTIL, WHILE) */
  guint8 shift;
  guint32 mask;     /* field = (reg >> shift) & mask */
  guint32 from;     /* UNTIL: the first subleaf whose field can end the walk; FIXED: the last */
} LeafRule;

#define COUNT_EAX WALK_COUNT, EAX, 0, 0xffffffffu, 0

/* Every leaf `cpuid -1r` reads more than subleaf 0 of, and how. One exception: cpuid
 * 20230120 reads subleaf 0 only of leaves 0x1E and 0x24, whose later subleaves (0x1E.1,
 * AVX10.2's 0x24.1) came after it; the feature table reads those, so both are walked up
 * to their EAX (the last subleaf), as leaf 7 is. Only a CPU reporting them differs. */
static const LeafRule leaf_rules[] = {
  { 0x2,        WALK_REPEAT, EAX, 0, 0xff, 0 },       /* AL: how often to read leaf 2 */
  { 0x4,        WALK_UNTIL,  EAX, 0, 0x1f, 0 },       /* cache type 0: no more caches */
  { 0x7,        COUNT_EAX },
  { 0xb,        WALK_UNTIL,  ECX, 8, 0xff, 0 },       /* level type 0: invalid */
  { 0xd,        WALK_XSAVE,  EAX, 0, 0, 0 },
  { 0xf,        WALK_BITMAP, EDX, 0, 0x2, 0 },        /* L3 monitoring: subleaf 1 */
  { 0x10,       WALK_BITMAP, EBX, 0, 0xfffffffeu, 0 },  /* one subleaf per resource */
  { 0x12,       WALK_UNTIL,  EAX, 0, 0xf, 2 },        /* EPC section type 0: invalid */
  { 0x14,       COUNT_EAX },
  { 0x17,       COUNT_EAX },
  { 0x18,       COUNT_EAX },
  { 0x1b,       WALK_UNTIL,  EAX, 0, 0xfff, 1 },      /* PCONFIG target type 0: invalid */
  { 0x1d,       COUNT_EAX },
  { 0x1e,       COUNT_EAX },
  { 0x1f,       WALK_UNTIL,  ECX, 8, 0xff, 1 },       /* level type 0: invalid */
  { 0x20,       COUNT_EAX },
  { 0x23,       COUNT_EAX },   /* EAX is a bitmap of subleaves, but cpuid counts up to it */
  { 0x24,       COUNT_EAX },
  { 0x8000001d, WALK_WHILE,  EAX, 0, 0x1f, 0 },       /* cache type 0: no more caches */
  { 0x80000020, WALK_BITMAP, EBX, 0, 0xfffffffeu, 0 },  /* one subleaf per resource */
};

/* Xen's time leaf (its base + 3): subleaves 0..2, only in Xen's own block. */
static const LeafRule xen_time_rule = { 3, WALK_FIXED, EAX, 0, 0, 2 };

static const LeafRule one_subleaf_rule = { 0, WALK_ONE, EAX, 0, 0, 0 };

static const LeafRule *
leaf_rule (guint32 leaf)
{
  for (guint i = 0; i < G_N_ELEMENTS (leaf_rules); i++)
    if (leaf_rules[i].leaf == leaf)
      return &leaf_rules[i];
  return &one_subleaf_rule;
}

typedef struct {
  X86CpuidDump *dump;
  guint cpu_index;
  X86HostCpuidReadFunc read;
  gpointer user_data;
} Walk;

static X86CpuidLeaf
read_leaf (const Walk *walk, guint32 leaf, guint32 subleaf)
{
  X86CpuidLeaf result = walk->read (leaf, subleaf, walk->user_data);

  result.leaf = leaf;
  result.subleaf = subleaf;
  return result;
}

static X86CpuidLeaf
record (const Walk *walk, guint32 leaf, guint32 subleaf)
{
  X86CpuidLeaf result = read_leaf (walk, leaf, subleaf);

  x86_cpuid_dump_set (walk->dump, walk->cpu_index, &result);
  return result;
}

static guint32
field (const LeafRule *rule, const X86CpuidLeaf *entry)
{
  return (reg_of (entry, rule->reg) >> rule->shift) & rule->mask;
}

static void
record_subleaves (const Walk *walk, guint32 leaf, const LeafRule *rule)
{
  /* Subleaf 0 is read once and first, as `cpuid` does: a CPU answering leaf 2 in several
   * rounds gives the next round at each read. */
  X86CpuidLeaf entry = read_leaf (walk, leaf, 0);
  guint32 first = field (rule, &entry);
  guint32 last, subleaf;
  guint64 components;

  if (rule->walk == WALK_WHILE && first == 0)
    return;
  x86_cpuid_dump_set (walk->dump, walk->cpu_index, &entry);

  switch (rule->walk)
    {
    case WALK_ONE:
      break;
    case WALK_REPEAT:
      /* `cpuid` reads leaf 2 with ECX 0 each time and numbers the answers 0, 1, ... */
      for (subleaf = 1; subleaf < MIN (first, MAX_SUBLEAVES); subleaf++)
        {
          entry = read_leaf (walk, leaf, 0);
          entry.subleaf = subleaf;
          x86_cpuid_dump_set (walk->dump, walk->cpu_index, &entry);
        }
      break;
    case WALK_COUNT:
    case WALK_FIXED:
      last = rule->walk == WALK_COUNT ? first : rule->from;
      for (subleaf = 1; subleaf <= MIN (last, MAX_SUBLEAVES - 1); subleaf++)
        record (walk, leaf, subleaf);
      break;
    case WALK_UNTIL:
      if (rule->from == 0 && first == 0)
        break;
      for (subleaf = 1; subleaf < MAX_SUBLEAVES; subleaf++)
        {
          entry = record (walk, leaf, subleaf);
          if (subleaf >= rule->from && field (rule, &entry) == 0)
            break;
        }
      break;
    case WALK_WHILE:
      for (subleaf = 1; subleaf < MAX_SUBLEAVES; subleaf++)
        {
          entry = read_leaf (walk, leaf, subleaf);
          if (field (rule, &entry) == 0)
            break;
          x86_cpuid_dump_set (walk->dump, walk->cpu_index, &entry);
        }
      break;
    case WALK_BITMAP:
      for (subleaf = 1; subleaf < 32; subleaf++)
        if (first & (1u << subleaf))
          record (walk, leaf, subleaf);
      break;
    case WALK_XSAVE:
      components = (guint64) entry.edx << 32 | entry.eax;
      entry = record (walk, leaf, 1);
      components |= (guint64) entry.edx << 32 | entry.ecx;
      for (subleaf = 2; subleaf < 63; subleaf++)
        if (components & (G_GUINT64_CONSTANT (1) << subleaf))
          record (walk, leaf, subleaf);
      break;
    }
}

/* The leaves after @base up to @max, when @max is a maximum leaf of @base's range at all. */
static void
record_range_leaves (const Walk *walk, guint32 base, guint32 max)
{
  if (max <= base || max - base > MAX_RANGE_LEAVES)
    return;
  for (guint32 leaf = base + 1; leaf <= max; leaf++)
    record_subleaves (walk, leaf, leaf_rule (leaf));
}

typedef enum {
  HYPERVISOR_UNKNOWN,
  HYPERVISOR_VMWARE,
  HYPERVISOR_XEN,
  HYPERVISOR_KVM,
  HYPERVISOR_MICROSOFT,
  HYPERVISOR_ACRN,
} Hypervisor;

/* The signatures `cpuid` knows; an unknown one gets a bound on its leaves. */
static Hypervisor
hypervisor_of (const X86CpuidLeaf *base)
{
  static const struct { const char id[13]; Hypervisor hypervisor; } known[] = {
    { "VMwareVMware", HYPERVISOR_VMWARE },
    { "XenVMMXenVMM", HYPERVISOR_XEN },
    { "KVMKVMKVM\0\0\0", HYPERVISOR_KVM },
    { "Microsoft Hv", HYPERVISOR_MICROSOFT },
    { "ACRNACRNACRN", HYPERVISOR_ACRN },
  };
  char id[12];

  memcpy (id, &base->ebx, 4);
  memcpy (id + 4, &base->ecx, 4);
  memcpy (id + 8, &base->edx, 4);
  for (guint i = 0; i < G_N_ELEMENTS (known); i++)
    if (memcmp (id, known[i].id, sizeof id) == 0)
      return known[i].hypervisor;
  return HYPERVISOR_UNKNOWN;
}

/* Hypervisor leaves: a block at 0x4000_0000, then every 0x100 up (Xen and KVM move theirs
 * up when they also offer Hyper-V's). Each block's base is recorded, answering or not; the
 * first that does not answer ends the walk, as in `cpuid`. */
static void
record_hypervisor_leaves (const Walk *walk)
{
  for (guint32 base = 0x40000000; base < 0x40010000; base += 0x100)
    {
      X86CpuidLeaf signature = record (walk, base, 0);
      Hypervisor hypervisor = hypervisor_of (&signature);
      guint32 max = signature.eax;

      if (hypervisor == HYPERVISOR_KVM && max == 0)      /* old KVM: 0x4000_0001 exists */
        max = base + 1;
      if (max < base || max - base > MAX_RANGE_LEAVES
          || (hypervisor == HYPERVISOR_UNKNOWN && max - base > 0x100))
        break;
      for (guint32 leaf = base + 1; leaf <= max; leaf++)
        record_subleaves (walk, leaf, hypervisor == HYPERVISOR_XEN && leaf == base + 3
                                        ? &xen_time_rule : &one_subleaf_rule);
    }
}

typedef enum {
  RANGE_PLAIN,         /* base leaf, then up to its EAX */
  RANGE_HYPERVISOR,    /* only with CPUID.1:ECX[31]; blocks of 0x100 */
} RangeKind;

/* The ranges `cpuid -1r` reads, in its order. Every base leaf is read and recorded
 * whether or not the CPU has that range (AMD's answer all zeros there, Intel's repeat
 * their highest basic leaf); a nonzero @span is cpuid's bound: with EAX past base + span
 * it reads the base leaf only (Pentium 4s answer garbage at 0x2000_0000). */
static const struct {
  guint32 base;
  RangeKind kind;
  guint32 span;
} cpuid_ranges[] = {
  { 0x00000000, RANGE_PLAIN, 0 },           /* basic */
  { 0x20000000, RANGE_PLAIN, 0x100 },       /* Xeon Phi */
  { 0x40000000, RANGE_HYPERVISOR, 0 },
  { 0x80000000, RANGE_PLAIN, 0 },           /* extended */
  { 0x80860000, RANGE_PLAIN, 0 },           /* Transmeta */
  { 0xc0000000, RANGE_PLAIN, 0x1000 },      /* Centaur, Zhaoxin */
};

void
x86_host_cpuid_walk (X86CpuidDump *dump, guint cpu_index, X86HostCpuidReadFunc read,
                     gpointer user_data)
{
  const Walk walk = { .dump = dump, .cpu_index = cpu_index, .read = read, .user_data = user_data };

  for (guint i = 0; i < G_N_ELEMENTS (cpuid_ranges); i++)
    {
      guint32 base = cpuid_ranges[i].base;
      X86CpuidLeaf header;

      if (cpuid_ranges[i].kind == RANGE_HYPERVISOR)
        {
          /* `cpuid` looks at CPUID.1:ECX only when the CPU has leaf 1. */
          if (x86_cpuid_dump_get (dump, cpu_index, 0, 0, EAX) >= 1
              && (x86_cpuid_dump_get (dump, cpu_index, 1, 0, ECX) & (1u << 31)))
            record_hypervisor_leaves (&walk);
          continue;
        }
      header = record (&walk, base, 0);
      if (cpuid_ranges[i].span == 0 || header.eax - base <= cpuid_ranges[i].span)
        record_range_leaves (&walk, base, header.eax);
    }
}

static X86CpuidLeaf
read_instruction (guint32 leaf, guint32 subleaf, gpointer user_data)
{
  X86CpuidLeaf result = { .leaf = leaf, .subleaf = subleaf };

  __cpuid_count (leaf, subleaf, result.eax, result.ebx, result.ecx, result.edx);
  return result;
}

void
x86_host_cpuid_walk_current (X86CpuidDump *dump, guint cpu_index)
{
  x86_host_cpuid_walk (dump, cpu_index, read_instruction, NULL);
}

/* The CPUs of /sys/devices/system/cpu/online ("0-3,8-11"), else those the process may run on. */
static GArray *
online_cpus (void)
{
  g_autofree char *list = NULL;
  GArray *cpus = g_array_new (FALSE, FALSE, sizeof (guint));

  if (g_file_get_contents ("/sys/devices/system/cpu/online", &list, NULL, NULL))
    {
      g_auto (GStrv) ranges = g_strsplit (g_strstrip (list), ",", -1);

      for (guint i = 0; ranges[i] != NULL; i++)
        {
          guint first, last;
          char dash;
          int n = sscanf (ranges[i], "%u%c%u", &first, &dash, &last);

          if (n == 1)
            last = first;
          else if (n != 3 || dash != '-' || last < first)
            continue;
          for (guint cpu = first; cpu <= last && cpu < CPU_SETSIZE; cpu++)
            g_array_append_val (cpus, cpu);
        }
    }
  if (cpus->len == 0)
    {
      cpu_set_t allowed;

      CPU_ZERO (&allowed);
      if (sched_getaffinity (0, sizeof allowed, &allowed) == 0)
        for (guint cpu = 0; cpu < CPU_SETSIZE; cpu++)
          if (CPU_ISSET (cpu, &allowed))
            g_array_append_val (cpus, cpu);
    }
  return cpus;
}

typedef struct {
  GArray *cpus;           /* OS numbers to read */
  gboolean skip_forbidden;  /* TRUE: leave out CPUs our cpuset excludes */
  X86CpuidDump *dump;
  GError *error;
} HostWalk;

static gpointer
walk_cpus (gpointer user_data)
{
  HostWalk *walk = user_data;

  for (guint i = 0; i < walk->cpus->len; i++)
    {
      guint cpu = g_array_index (walk->cpus, guint, i);
      cpu_set_t only;
      int status;

      CPU_ZERO (&only);
      CPU_SET (cpu, &only);
      status = pthread_setaffinity_np (pthread_self (), sizeof only, &only);
      /* EINVAL: a cgroup cpuset keeps us off that CPU; a full read reports what it can. */
      if (status == EINVAL && walk->skip_forbidden)
        continue;
      if (status != 0)
        {
          g_set_error (&walk->error, X86_CPUID_ERROR, X86_CPUID_ERROR_HARDWARE,
                       "CPU %u: cannot run there (%s)", cpu, g_strerror (status));
          return NULL;
        }
      if (sched_getcpu () != (int) cpu)
        {
          g_set_error (&walk->error, X86_CPUID_ERROR, X86_CPUID_ERROR_HARDWARE,
                       "CPU %u: the thread did not move there", cpu);
          return NULL;
        }
      x86_host_cpuid_walk_current (walk->dump, x86_cpuid_dump_add_cpu (walk->dump, cpu));
    }
  return NULL;
}

X86CpuidDump *
x86_host_cpuid_read (int only_cpu, GError **error)
{
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  g_autoptr (GArray) online = online_cpus ();
  g_autoptr (GArray) wanted = g_array_new (FALSE, FALSE, sizeof (guint));
  HostWalk walk = { .cpus = wanted, .skip_forbidden = only_cpu < 0, .dump = dump };
  pthread_t worker;
  int status;

  x86_cpuid_dump_set_origin (dump, "hardware");
  for (guint i = 0; i < online->len; i++)
    if (only_cpu < 0 || g_array_index (online, guint, i) == (guint) only_cpu)
      g_array_append_val (wanted, g_array_index (online, guint, i));
  if (wanted->len == 0)
    {
      if (only_cpu >= 0)
        g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_NO_CPU,
                     "CPU %d: not an online CPU", only_cpu);
      else
        g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_HARDWARE,
                     "/sys/devices/system/cpu/online: no online CPU found");
      return NULL;
    }

  status = pthread_create (&worker, NULL, walk_cpus, &walk);
  if (status != 0)
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_HARDWARE,
                   "cannot start the CPUID thread (%s)", g_strerror (status));
      return NULL;
    }
  pthread_join (worker, NULL);
  if (walk.error != NULL)
    {
      g_propagate_error (error, walk.error);
      return NULL;
    }
  if (x86_cpuid_dump_n_cpus (dump) == 0)
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_HARDWARE,
                   "no online CPU allows this process to run on it");
      return NULL;
    }
  return g_steal_pointer (&dump);
}
