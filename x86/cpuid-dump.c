/* x86/cpuid-dump.c — the CPUID data model: CPUs, their sorted leaves, lookup, the
 * per-CPU fields that do not make CPUs different, and recognising a file's layout. */
#include "x86/cpuid-dump.h"
#include "x86/kvm-cpuid.h"

#include <string.h>

G_DEFINE_QUARK (x86-cpuid-error-quark, x86_cpuid_error)

typedef struct {
  guint number;
  GArray *leaves;    /* X86CpuidLeaf sorted by (leaf, subleaf) */
} DumpCpu;

struct X86CpuidDump {
  char *origin;
  GPtrArray *cpus;   /* DumpCpu */
  X86KvmCpuid *kvm;  /* the view of KVM the file carried, or NULL */
};

static void
dump_cpu_free (gpointer pointer)
{
  DumpCpu *cpu = pointer;

  g_array_unref (cpu->leaves);
  g_free (cpu);
}

X86CpuidDump *
x86_cpuid_dump_new (void)
{
  X86CpuidDump *dump = g_new0 (X86CpuidDump, 1);

  dump->cpus = g_ptr_array_new_with_free_func (dump_cpu_free);
  return dump;
}

void
x86_cpuid_dump_free (X86CpuidDump *dump)
{
  if (dump == NULL)
    return;
  g_ptr_array_unref (dump->cpus);
  x86_kvm_cpuid_free (dump->kvm);
  g_free (dump->origin);
  g_free (dump);
}

const X86KvmCpuid *
x86_cpuid_dump_kvm (const X86CpuidDump *dump)
{
  return dump->kvm;
}

void
x86_cpuid_dump_set_kvm (X86CpuidDump *dump, X86KvmCpuid *kvm)
{
  x86_kvm_cpuid_free (dump->kvm);
  dump->kvm = kvm;
}

guint
x86_cpuid_dump_add_cpu (X86CpuidDump *dump, guint cpu_number)
{
  DumpCpu *cpu = g_new0 (DumpCpu, 1);

  cpu->number = cpu_number;
  cpu->leaves = g_array_new (FALSE, TRUE, sizeof (X86CpuidLeaf));
  g_ptr_array_add (dump->cpus, cpu);
  return dump->cpus->len - 1;
}

static int
compare_position (guint32 leaf_a, guint32 subleaf_a, guint32 leaf_b, guint32 subleaf_b)
{
  if (leaf_a != leaf_b)
    return leaf_a < leaf_b ? -1 : 1;
  if (subleaf_a != subleaf_b)
    return subleaf_a < subleaf_b ? -1 : 1;
  return 0;
}

/* Index of (leaf, subleaf) in @leaves, or where it would be inserted with *found FALSE. */
static guint
bisect (GArray *leaves, guint32 leaf, guint32 subleaf, gboolean *found)
{
  guint low = 0, high = leaves->len;

  while (low < high)
    {
      guint middle = low + (high - low) / 2;
      const X86CpuidLeaf *entry = &g_array_index (leaves, X86CpuidLeaf, middle);
      int order = compare_position (entry->leaf, entry->subleaf, leaf, subleaf);

      if (order == 0)
        {
          *found = TRUE;
          return middle;
        }
      if (order < 0)
        low = middle + 1;
      else
        high = middle;
    }
  *found = FALSE;
  return low;
}

void
x86_cpuid_dump_set (X86CpuidDump *dump, guint cpu_index, const X86CpuidLeaf *leaf)
{
  DumpCpu *cpu;
  gboolean found;
  guint position;

  g_return_if_fail (cpu_index < dump->cpus->len);
  cpu = g_ptr_array_index (dump->cpus, cpu_index);
  position = bisect (cpu->leaves, leaf->leaf, leaf->subleaf, &found);
  if (found)
    g_array_index (cpu->leaves, X86CpuidLeaf, position) = *leaf;
  else
    g_array_insert_val (cpu->leaves, position, *leaf);
}

guint
x86_cpuid_dump_n_cpus (const X86CpuidDump *dump)
{
  return dump->cpus->len;
}

guint
x86_cpuid_dump_cpu_number (const X86CpuidDump *dump, guint cpu_index)
{
  g_return_val_if_fail (cpu_index < dump->cpus->len, 0);
  return ((DumpCpu *) g_ptr_array_index (dump->cpus, cpu_index))->number;
}

int
x86_cpuid_dump_find_cpu (const X86CpuidDump *dump, guint cpu_number)
{
  for (guint i = 0; i < dump->cpus->len; i++)
    if (((DumpCpu *) g_ptr_array_index (dump->cpus, i))->number == cpu_number)
      return (int) i;
  return -1;
}

const X86CpuidLeaf *
x86_cpuid_dump_leaves (const X86CpuidDump *dump, guint cpu_index, guint *n_leaves)
{
  DumpCpu *cpu;

  if (cpu_index >= dump->cpus->len)
    {
      *n_leaves = 0;
      return NULL;
    }
  cpu = g_ptr_array_index (dump->cpus, cpu_index);
  *n_leaves = cpu->leaves->len;
  return (const X86CpuidLeaf *) cpu->leaves->data;
}

gboolean
x86_cpuid_leaf_has_subleaves (guint32 leaf)
{
  /* Leaves whose output depends on ECX, per the Intel SDM and AMD APM (and the ones
   * KVM marks KVM_CPUID_FLAG_SIGNIFCANT_INDEX). */
  static const guint32 indexed[] = {
    0x4, 0x7, 0xb, 0xd, 0xf, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1b, 0x1d, 0x1e, 0x1f,
    0x20, 0x23, 0x24, 0x8000001d, 0x80000020, 0x80000026,
  };

  for (guint i = 0; i < G_N_ELEMENTS (indexed); i++)
    if (indexed[i] == leaf)
      return TRUE;
  return FALSE;
}

const X86CpuidLeaf *
x86_cpuid_dump_lookup (const X86CpuidDump *dump, guint cpu_index, guint32 leaf, guint32 subleaf)
{
  DumpCpu *cpu;
  gboolean found;
  guint position;

  if (cpu_index >= dump->cpus->len)
    return NULL;
  cpu = g_ptr_array_index (dump->cpus, cpu_index);
  position = bisect (cpu->leaves, leaf, subleaf, &found);
  if (!found && subleaf != 0 && !x86_cpuid_leaf_has_subleaves (leaf))
    position = bisect (cpu->leaves, leaf, 0, &found);
  return found ? &g_array_index (cpu->leaves, X86CpuidLeaf, position) : NULL;
}

guint32
x86_cpuid_dump_get (const X86CpuidDump *dump, guint cpu_index, guint32 leaf, guint32 subleaf,
                    guint reg)
{
  const X86CpuidLeaf *entry = x86_cpuid_dump_lookup (dump, cpu_index, leaf, subleaf);

  if (entry == NULL)
    return 0;
  switch (reg)
    {
    case 0: return entry->eax;
    case 1: return entry->ebx;
    case 2: return entry->ecx;
    case 3: return entry->edx;
    default:
      g_return_val_if_reached (0);
    }
}

const char *
x86_cpuid_dump_origin (const X86CpuidDump *dump)
{
  return dump->origin;
}

void
x86_cpuid_dump_set_origin (X86CpuidDump *dump, const char *origin)
{
  g_free (dump->origin);
  dump->origin = g_strdup (origin);
}

/* Base of the Xen leaves of CPU @cpu_index (0x4000_0000 or a multiple of 0x100 above it,
 * as Xen moves them when it also offers Viridian), or 0 when Xen is not there. */
static guint32
xen_leaf_base (const X86CpuidDump *dump, guint cpu_index)
{
  if (!(x86_cpuid_dump_get (dump, cpu_index, 1, 0, 2) & (1u << 31)))
    return 0;
  for (guint32 base = 0x40000000; base < 0x40010000; base += 0x100)
    {
      const X86CpuidLeaf *signature = x86_cpuid_dump_lookup (dump, cpu_index, base, 0);

      /* "XenVMMXenVMM" in EBX, ECX, EDX */
      if (signature != NULL && signature->ebx == 0x566e6558 && signature->ecx == 0x65584d4d
          && signature->edx == 0x4d4d566e)
        return base;
    }
  return 0;
}

/* Zeroes what describes where this logical CPU sits rather than what it can do. */
static void
mask_per_cpu_fields (X86CpuidLeaf *entry, guint32 xen_base)
{
  switch (entry->leaf)
    {
    case 0x1:           /* EBX[31:24] initial APIC id */
      entry->ebx &= 0x00ffffffu;
      break;
    case 0xb:           /* EDX x2APIC id of every topology level */
    case 0x1f:
    case 0x80000026:    /* AMD extended topology: EDX extended APIC id */
      entry->edx = 0;
      break;
    case 0x8000001e:    /* AMD/Hygon: EAX extended APIC id, EBX[7:0] core (compute unit)
                         * id, ECX[7:0] node id */
      entry->eax = 0;
      entry->ebx &= ~0xffu;
      entry->ecx &= ~0xffu;
      break;
    default:
      /* Xen's HVM leaf: EBX is the vCPU id when EAX bit 3 says it is valid */
      if (xen_base != 0 && entry->leaf == xen_base + 4 && (entry->eax & (1u << 3)))
        entry->ebx = 0;
      break;
    }
}

GArray *
x86_cpuid_dump_masked_leaves (const X86CpuidDump *dump, guint cpu_index)
{
  guint n_leaves;
  const X86CpuidLeaf *leaves = x86_cpuid_dump_leaves (dump, cpu_index, &n_leaves);
  guint32 xen_base = xen_leaf_base (dump, cpu_index);
  GArray *masked = g_array_sized_new (FALSE, TRUE, sizeof (X86CpuidLeaf), n_leaves);

  if (n_leaves > 0)
    g_array_append_vals (masked, leaves, n_leaves);
  for (guint i = 0; i < masked->len; i++)
    mask_per_cpu_fields (&g_array_index (masked, X86CpuidLeaf, i), xen_base);
  return masked;
}

static void
note_register_differences (GPtrArray *differences, guint number, guint first_number,
                           const X86CpuidLeaf *other, const X86CpuidLeaf *first)
{
  static const char *const names[] = { "EAX", "EBX", "ECX", "EDX" };
  const guint32 other_regs[] = { other->eax, other->ebx, other->ecx, other->edx };
  const guint32 first_regs[] = { first->eax, first->ebx, first->ecx, first->edx };

  for (guint reg = 0; reg < 4; reg++)
    if (other_regs[reg] != first_regs[reg])
      g_ptr_array_add (differences,
                       g_strdup_printf ("CPU %u: leaf 0x%x.%u %s 0x%08x (CPU %u: 0x%08x)",
                                        number, other->leaf, other->subleaf, names[reg],
                                        other_regs[reg], first_number, first_regs[reg]));
}

/* Walks two sorted leaf lists side by side, noting every difference. */
static guint
compare_cpus (GPtrArray *differences, GArray *first, guint first_number, GArray *other,
              guint number)
{
  guint i = 0, j = 0, n_differences = 0;

  while (i < first->len || j < other->len)
    {
      const X86CpuidLeaf *a = i < first->len ? &g_array_index (first, X86CpuidLeaf, i) : NULL;
      const X86CpuidLeaf *b = j < other->len ? &g_array_index (other, X86CpuidLeaf, j) : NULL;
      int order = a == NULL ? 1 : b == NULL ? -1
                  : compare_position (a->leaf, a->subleaf, b->leaf, b->subleaf);

      if (order == 0)
        {
          gboolean same = memcmp (a, b, sizeof *a) == 0;
          if (!same)
            {
              n_differences++;
              if (differences != NULL)
                note_register_differences (differences, number, first_number, b, a);
            }
          i++, j++;
        }
      else
        {
          const X86CpuidLeaf *lone = order < 0 ? a : b;
          n_differences++;
          if (differences != NULL)
            g_ptr_array_add (differences,
                             g_strdup_printf ("CPU %u: leaf 0x%x.%u %s (CPU %u: %s)", number,
                                              lone->leaf, lone->subleaf,
                                              order < 0 ? "missing" : "present",
                                              first_number, order < 0 ? "present" : "missing"));
          if (order < 0)
            i++;
          else
            j++;
        }
    }
  return n_differences;
}

gboolean
x86_cpuid_dump_heterogeneous (const X86CpuidDump *dump, GPtrArray **differences)
{
  g_autoptr (GArray) first = NULL;
  g_autoptr (GPtrArray) found = differences != NULL ? g_ptr_array_new_with_free_func (g_free) : NULL;
  guint n_differences = 0;

  if (dump->cpus->len > 0)
    first = x86_cpuid_dump_masked_leaves (dump, 0);
  for (guint i = 1; i < dump->cpus->len; i++)
    {
      g_autoptr (GArray) other = x86_cpuid_dump_masked_leaves (dump, i);
      n_differences += compare_cpus (found, first, x86_cpuid_dump_cpu_number (dump, 0), other,
                                     x86_cpuid_dump_cpu_number (dump, i));
    }
  if (differences != NULL)
    *differences = g_steal_pointer (&found);
  return n_differences > 0;
}

/* The first character that is not white space, or '\0'. */
static char
first_significant (const char *text, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (text[i]))
      return text[i];
  return '\0';
}

static X86CpuidDump *
parse_any_layout (const char *text, gsize len, const char *origin, GError **error)
{
  /* Each layout starts in its own way: an object, an element or comment, libcpuid's
   * "version=" or array line; anything else is read (and rejected) as cpuid text. */
  switch (first_significant (text, len))
    {
    case '{':
      return x86_cpuid_dump_parse_json (text, len, origin, error);
    case '<':
      return x86_cpuid_dump_parse_libvirt (text, len, origin, error);
    default:
      break;
    }
  {
    const char *start = text;

    while (start < text + len && g_ascii_isspace (*start))
      start++;
    gsize rest = (gsize) (text + len - start);

    if ((rest >= 8 && memcmp (start, "version=", 8) == 0)
        || (rest >= 12 && memcmp (start, "basic_cpuid[", 12) == 0)
        || (rest >= 5 && memcmp (start, "_____", 5) == 0))
      return x86_cpuid_dump_parse_libcpuid (text, len, origin, error);
  }
  return x86_cpuid_dump_parse_cpuid_text (text, len, origin, error);
}

X86CpuidDump *
x86_cpuid_dump_parse (const char *text, gsize len, const char *origin, GError **error)
{
  g_autoptr (X86CpuidDump) dump = parse_any_layout (text, len, origin, error);

  if (dump == NULL)
    return NULL;
  /* Every layout can name a CPU and give it nothing (a header, an empty list): such a
   * CPU has no vendor, no features, nothing a probe could compare, so the file is wrong. */
  if (x86_cpuid_dump_n_cpus (dump) == 0)
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: expected at least one CPU, found none", origin);
      return NULL;
    }
  for (guint i = 0; i < x86_cpuid_dump_n_cpus (dump); i++)
    {
      guint n_leaves = 0;

      x86_cpuid_dump_leaves (dump, i, &n_leaves);
      if (n_leaves == 0)
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s: expected CPUID leaves for CPU %u, found none", origin,
                       x86_cpuid_dump_cpu_number (dump, i));
          return NULL;
        }
    }
  return g_steal_pointer (&dump);
}

/* Why @path could not be read, in the "<input>: <problem>" words of every other error:
 * GLib's own message repeats the path in quotes and is translated. */
static const char *
read_problem (const GError *read_error)
{
  if (read_error->domain == G_FILE_ERROR)
    switch (read_error->code)
      {
      case G_FILE_ERROR_NOENT:
        return "no such file";
      case G_FILE_ERROR_ISDIR:
        return "is a directory";
      case G_FILE_ERROR_ACCES:
        return "permission denied";
      default:
        break;
      }
  return read_error->message;
}

X86CpuidDump *
x86_cpuid_dump_load (const char *path, GError **error)
{
  g_autoptr (GError) read_error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, &read_error))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_IO, "%s: %s", path,
                   read_problem (read_error));
      return NULL;
    }
  return x86_cpuid_dump_parse (contents, len, path, error);
}
