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

/* Bounds that stop a walk on a CPU (or hypervisor) returning nonsense in EAX. */
#define MAX_RANGE_LEAVES 0x100
#define MAX_SUBLEAVES 64

static X86CpuidLeaf
read_leaf (guint32 leaf, guint32 subleaf)
{
  X86CpuidLeaf result = { .leaf = leaf, .subleaf = subleaf };

  __cpuid_count (leaf, subleaf, result.eax, result.ebx, result.ecx, result.edx);
  return result;
}

static X86CpuidLeaf
record (X86CpuidDump *dump, guint cpu_index, guint32 leaf, guint32 subleaf)
{
  X86CpuidLeaf result = read_leaf (leaf, subleaf);

  x86_cpuid_dump_set (dump, cpu_index, &result);
  return result;
}

/* Subleaf 0 and then 1..@last. */
static void
record_counted (X86CpuidDump *dump, guint cpu_index, guint32 leaf, guint32 last)
{
  for (guint32 subleaf = 0; subleaf <= MIN (last, MAX_SUBLEAVES - 1); subleaf++)
    record (dump, cpu_index, leaf, subleaf);
}

/* Subleaf 0, then the subleaves named by the set bits 1..31 of @bitmap. */
static void
record_bitmap (X86CpuidDump *dump, guint cpu_index, guint32 leaf, guint32 bitmap)
{
  for (guint32 subleaf = 1; subleaf < 32; subleaf++)
    if (bitmap & (1u << subleaf))
      record (dump, cpu_index, leaf, subleaf);
}

typedef enum {
  END_CACHE_TYPE,     /* EAX[4:0] == 0: leaves 4 and 0x8000_001D */
  END_LEVEL_TYPE,     /* ECX[15:8] == 0: leaves 0xB, 0x1F and 0x8000_0026 */
  END_PCONFIG_TYPE,   /* EAX[11:0] == 0: leaf 0x1B */
  END_SGX_TYPE,       /* EAX[3:0] == 0 from subleaf 2 on: leaf 0x12 */
} EndRule;

static gboolean
is_last_subleaf (EndRule rule, const X86CpuidLeaf *entry)
{
  switch (rule)
    {
    case END_CACHE_TYPE:
      return (entry->eax & 0x1f) == 0;
    case END_LEVEL_TYPE:
      return ((entry->ecx >> 8) & 0xff) == 0;
    case END_PCONFIG_TYPE:
      return entry->subleaf >= 1 && (entry->eax & 0xfff) == 0;
    case END_SGX_TYPE:
      return entry->subleaf >= 2 && (entry->eax & 0xf) == 0;
    default:
      return TRUE;
    }
}

/* Subleaves up to and including the one that says "no more", as `cpuid` prints them. */
static void
record_until (X86CpuidDump *dump, guint cpu_index, guint32 leaf, EndRule rule)
{
  for (guint32 subleaf = 0; subleaf < MAX_SUBLEAVES; subleaf++)
    {
      X86CpuidLeaf entry = record (dump, cpu_index, leaf, subleaf);

      if (is_last_subleaf (rule, &entry))
        break;
    }
}

/* Leaf 0xD: the two summary subleaves, then one per state component enabled in XCR0 or
 * IA32_XSS (bits 2..63). */
static void
record_xsave (X86CpuidDump *dump, guint cpu_index)
{
  X86CpuidLeaf user = record (dump, cpu_index, 0xd, 0);
  X86CpuidLeaf supervisor = record (dump, cpu_index, 0xd, 1);
  guint64 components = ((guint64) user.edx << 32 | user.eax)
                       | ((guint64) supervisor.edx << 32 | supervisor.ecx);

  for (guint32 component = 2; component < 64; component++)
    if (components & (G_GUINT64_CONSTANT (1) << component))
      record (dump, cpu_index, 0xd, component);
}

static void
record_basic_leaf (X86CpuidDump *dump, guint cpu_index, guint32 leaf)
{
  X86CpuidLeaf first;

  switch (leaf)
    {
    case 0x4:
      record_until (dump, cpu_index, leaf, END_CACHE_TYPE);
      break;
    case 0xb:
    case 0x1f:
      record_until (dump, cpu_index, leaf, END_LEVEL_TYPE);
      break;
    case 0xd:
      record_xsave (dump, cpu_index);
      break;
    case 0xf:           /* RDT monitoring: subleaf 1 when EDX bit 1 (L3) is set */
      first = record (dump, cpu_index, leaf, 0);
      if (first.edx & (1u << 1))
        record (dump, cpu_index, leaf, 1);
      break;
    case 0x10:          /* RDT allocation: one subleaf per resource bit in EBX */
      first = record (dump, cpu_index, leaf, 0);
      record_bitmap (dump, cpu_index, leaf, first.ebx);
      break;
    case 0x12:
      record_until (dump, cpu_index, leaf, END_SGX_TYPE);
      break;
    case 0x1b:
      record_until (dump, cpu_index, leaf, END_PCONFIG_TYPE);
      break;
    case 0x23:          /* architectural PMU extensions: EAX is a bitmap of valid subleaves */
      first = record (dump, cpu_index, leaf, 0);
      record_bitmap (dump, cpu_index, leaf, first.eax);
      break;
    case 0x7:           /* EAX of subleaf 0 is the last subleaf */
    case 0x14:
    case 0x17:
    case 0x18:
    case 0x1d:
    case 0x1e:
    case 0x20:
    case 0x24:
      first = read_leaf (leaf, 0);
      record_counted (dump, cpu_index, leaf, first.eax);
      break;
    default:
      record (dump, cpu_index, leaf, 0);
      break;
    }
}

static void
record_extended_leaf (X86CpuidDump *dump, guint cpu_index, guint32 leaf)
{
  X86CpuidLeaf first;

  switch (leaf)
    {
    case 0x8000001d:
      record_until (dump, cpu_index, leaf, END_CACHE_TYPE);
      break;
    case 0x80000020:    /* AMD PQoS: one subleaf per resource bit in EBX */
      first = record (dump, cpu_index, leaf, 0);
      record_bitmap (dump, cpu_index, leaf, first.ebx);
      break;
    case 0x80000026:
      record_until (dump, cpu_index, leaf, END_LEVEL_TYPE);
      break;
    default:
      record (dump, cpu_index, leaf, 0);
      break;
    }
}

/* A range base's EAX is its maximum leaf; anything outside the range is not one. */
static gboolean
sane_range_max (guint32 base, guint32 max)
{
  return max >= base && max - base < MAX_RANGE_LEAVES;
}

/* Hypervisor leaves: 0x4000_0000, then further blocks every 0x100 (Xen and KVM move
 * theirs up when they also offer Hyper-V's), each printed up to its EAX; the first block
 * that does not answer is recorded too, as `cpuid` does, and ends the walk. */
static void
record_hypervisor_leaves (X86CpuidDump *dump, guint cpu_index)
{
  for (guint32 base = 0x40000000; base < 0x40010000; base += 0x100)
    {
      X86CpuidLeaf signature = record (dump, cpu_index, base, 0);

      if (!sane_range_max (base, signature.eax))
        break;
      for (guint32 leaf = base + 1; leaf <= signature.eax; leaf++)
        record (dump, cpu_index, leaf, 0);
    }
}

static gboolean
vendor_is (const X86CpuidLeaf *leaf0, const char *vendor)
{
  char name[13];

  memcpy (name, &leaf0->ebx, 4);
  memcpy (name + 4, &leaf0->edx, 4);
  memcpy (name + 8, &leaf0->ecx, 4);
  name[12] = '\0';
  return strcmp (name, vendor) == 0;
}

void
x86_host_cpuid_walk_current (X86CpuidDump *dump, guint cpu_index)
{
  X86CpuidLeaf leaf0 = record (dump, cpu_index, 0, 0);
  X86CpuidLeaf centaur;
  X86CpuidLeaf extended;
  guint32 max_basic = MIN (leaf0.eax, MAX_RANGE_LEAVES - 1);

  for (guint32 leaf = 1; leaf <= max_basic; leaf++)
    record_basic_leaf (dump, cpu_index, leaf);

  if (max_basic >= 1 && (x86_cpuid_dump_get (dump, cpu_index, 1, 0, 2) & (1u << 31)))
    record_hypervisor_leaves (dump, cpu_index);

  extended = record (dump, cpu_index, 0x80000000, 0);
  if (sane_range_max (0x80000000, extended.eax))
    for (guint32 leaf = 0x80000001; leaf <= extended.eax; leaf++)
      record_extended_leaf (dump, cpu_index, leaf);

  centaur = read_leaf (0xc0000000, 0);
  if (vendor_is (&leaf0, "CentaurHauls") || vendor_is (&leaf0, "  Shanghai  ")
      || (sane_range_max (0xc0000000, centaur.eax) && centaur.eax > 0xc0000000))
    {
      x86_cpuid_dump_set (dump, cpu_index, &centaur);
      if (sane_range_max (0xc0000000, centaur.eax))
        for (guint32 leaf = 0xc0000001; leaf <= centaur.eax; leaf++)
          record (dump, cpu_index, leaf, 0);
    }
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
