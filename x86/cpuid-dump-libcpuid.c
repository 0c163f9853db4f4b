/* x86/cpuid-dump-libcpuid.c — libcpuid's raw dump (cpuid_serialize_raw_data and
 * cpuid_serialize_all_raw_data), read with our own parser so a bad file gets a line number.
 *
 * The layout: "version=X.Y.Z", then per CPU an optional "____ Logical CPU #N ____" line
 * and lines "ARRAY[INDEX]=EAX EBX ECX EDX" (8 hex digits each, no 0x). The arrays are
 * fixed-size and zero-filled, so entries past the leaf's real end are dropped here. */
#include "x86/cpuid-dump.h"

#include <errno.h>
#include <string.h>

#define RAW_EXPECTED "expected \"version=...\", \"Logical CPU #N\" or \"NAME[INDEX]=EAX EBX ECX EDX\""

typedef enum {
  SUBLEAVES_NONE,
  SUBLEAVES_CACHE,       /* until cache type (EAX[4:0]) 0, that one included */
  SUBLEAVES_TOPOLOGY,    /* until level type (ECX[15:8]) 0, that one included */
  SUBLEAVES_SGX,         /* 0, 1, then EPC sections until type (EAX[3:0]) 0 */
  SUBLEAVES_COUNTED,     /* 0 .. EAX of subleaf 0 */
} SubleafRule;

typedef struct {
  const char *name;
  guint32 leaf;          /* the leaf of entry 0; the index adds to it when rule is NONE */
  SubleafRule rule;      /* else the index is the subleaf of @leaf */
} RawArray;

/* libcpuid 0.6's arrays; names it adds later are skipped, so newer files still load. */
static const RawArray raw_arrays[] = {
  { "basic_cpuid", 0x0, SUBLEAVES_NONE },
  { "ext_cpuid", 0x80000000, SUBLEAVES_NONE },
  { "intel_fn4", 0x4, SUBLEAVES_CACHE },
  { "intel_fn11", 0xb, SUBLEAVES_TOPOLOGY },
  { "intel_fn12h", 0x12, SUBLEAVES_SGX },
  { "intel_fn14h", 0x14, SUBLEAVES_COUNTED },
  { "amd_fn8000001dh", 0x8000001d, SUBLEAVES_CACHE },
};

#define MAX_RAW_INDEX 1024

typedef struct {
  guint number;
  GArray *entries[G_N_ELEMENTS (raw_arrays)];   /* X86CpuidLeaf by index, zero where unset */
} RawCpu;

static void
raw_cpu_free (gpointer pointer)
{
  RawCpu *cpu = pointer;

  for (guint i = 0; i < G_N_ELEMENTS (raw_arrays); i++)
    g_array_unref (cpu->entries[i]);
  g_free (cpu);
}

static RawCpu *
raw_cpu_new (guint number)
{
  RawCpu *cpu = g_new0 (RawCpu, 1);

  cpu->number = number;
  for (guint i = 0; i < G_N_ELEMENTS (raw_arrays); i++)
    cpu->entries[i] = g_array_new (FALSE, TRUE, sizeof (X86CpuidLeaf));
  return cpu;
}

static gboolean
take_word (const char **cursor, guint32 *value)
{
  guint64 parsed = 0;
  guint digits = 0;

  while (**cursor == ' ' || **cursor == '\t')
    (*cursor)++;
  while (g_ascii_isxdigit ((*cursor)[digits]))
    {
      parsed = parsed * 16 + (guint64) g_ascii_xdigit_value ((*cursor)[digits]);
      if (++digits > 8)
        return FALSE;
    }
  if (digits == 0)
    return FALSE;
  *value = (guint32) parsed;
  *cursor += digits;
  return TRUE;
}

/* "NAME[INDEX]=EAX EBX ECX EDX"; *array is -1 for a name libcpuid added after 0.6. */
static gboolean
parse_entry (const char *line, int *array, guint *index, guint32 regs[4])
{
  const char *bracket = strchr (line, '[');
  const char *cursor;
  char *end = NULL;
  guint64 parsed;
  g_autofree char *name = NULL;

  if (bracket == NULL || bracket == line)
    return FALSE;
  name = g_strndup (line, (gsize) (bracket - line));
  for (const char *c = name; *c != '\0'; c++)
    if (!g_ascii_isalnum (*c) && *c != '_')
      return FALSE;
  if (!g_ascii_isdigit (bracket[1]))
    return FALSE;
  errno = 0;
  parsed = g_ascii_strtoull (bracket + 1, &end, 10);
  if (errno != 0 || parsed >= MAX_RAW_INDEX || end[0] != ']' || end[1] != '=')
    return FALSE;
  cursor = end + 2;
  for (guint reg = 0; reg < 4; reg++)
    if (!take_word (&cursor, &regs[reg]))
      return FALSE;
  while (*cursor == ' ' || *cursor == '\t' || *cursor == '\r')
    cursor++;
  if (*cursor != '\0')
    return FALSE;
  *index = (guint) parsed;
  *array = -1;
  for (guint i = 0; i < G_N_ELEMENTS (raw_arrays); i++)
    if (strcmp (name, raw_arrays[i].name) == 0)
      *array = (int) i;
  return TRUE;
}

/* "_____ Logical CPU #3 _____" */
static gboolean
parse_cpu_separator (const char *line, guint *number)
{
  const char *marker = strstr (line, "Logical CPU #");
  char *end = NULL;
  guint64 parsed;

  if (marker == NULL || line[0] != '_')
    return FALSE;
  errno = 0;
  parsed = g_ascii_strtoull (marker + strlen ("Logical CPU #"), &end, 10);
  if (errno != 0 || end == marker + strlen ("Logical CPU #") || parsed > G_MAXINT)
    return FALSE;
  for (; *end != '\0'; end++)
    if (*end != ' ' && *end != '_' && *end != '\r')
      return FALSE;
  *number = (guint) parsed;
  return TRUE;
}

static const X86CpuidLeaf *
entry_at (GArray *entries, guint index)
{
  return index < entries->len ? &g_array_index (entries, X86CpuidLeaf, index) : NULL;
}

static gboolean
subleaf_ends_here (SubleafRule rule, const X86CpuidLeaf *entry)
{
  switch (rule)
    {
    case SUBLEAVES_CACHE:
      return (entry->eax & 0x1f) == 0;
    case SUBLEAVES_TOPOLOGY:
      return ((entry->ecx >> 8) & 0xff) == 0;
    case SUBLEAVES_SGX:
      return entry->subleaf >= 2 && (entry->eax & 0xf) == 0;
    case SUBLEAVES_NONE:
    case SUBLEAVES_COUNTED:
    default:
      return FALSE;
    }
}

/* Turns the fixed arrays into the leaves the CPU really has: up to the maximum leaves
 * given by leaf 0 and 0x8000_0000, each subleaf array to its documented end. */
static void
add_raw_cpu (X86CpuidDump *dump, const RawCpu *raw)
{
  guint cpu_index = x86_cpuid_dump_add_cpu (dump, raw->number);
  const X86CpuidLeaf *basic_zero = entry_at (raw->entries[0], 0);
  const X86CpuidLeaf *ext_zero = entry_at (raw->entries[1], 0);
  guint32 max_basic = basic_zero != NULL ? basic_zero->eax : 0;
  guint32 max_ext = ext_zero != NULL ? ext_zero->eax : 0;

  for (guint array = 0; array < G_N_ELEMENTS (raw_arrays); array++)
    {
      const RawArray *shape = &raw_arrays[array];
      GArray *entries = raw->entries[array];
      gboolean extended = shape->leaf >= 0x80000000;
      guint32 max_leaf = extended ? max_ext : max_basic;
      guint n_entries = entries->len;

      if (shape->rule == SUBLEAVES_NONE)
        {
          for (guint i = 0; i < n_entries && shape->leaf + i <= max_leaf; i++)
            x86_cpuid_dump_set (dump, cpu_index, entry_at (entries, i));
          continue;
        }
      if (shape->leaf > max_leaf || n_entries == 0)
        continue;
      if (shape->rule == SUBLEAVES_COUNTED)
        n_entries = MIN (n_entries, entry_at (entries, 0)->eax + 1);
      for (guint i = 0; i < n_entries; i++)
        {
          const X86CpuidLeaf *entry = entry_at (entries, i);

          x86_cpuid_dump_set (dump, cpu_index, entry);
          if (subleaf_ends_here (shape->rule, entry))
            break;
        }
    }
}

X86CpuidDump *
x86_cpuid_dump_parse_libcpuid (const char *text, gsize len, const char *origin, GError **error)
{
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  g_autoptr (GPtrArray) cpus = g_ptr_array_new_with_free_func (raw_cpu_free);
  const char *end = text + len;
  const char *line_start = text;
  guint line_number = 0;

  x86_cpuid_dump_set_origin (dump, origin);
  while (line_start < end)
    {
      const char *newline = memchr (line_start, '\n', (gsize) (end - line_start));
      const char *line_end = newline != NULL ? newline : end;
      g_autofree char *line = NULL;
      guint32 regs[4];
      guint index, number;
      int array;

      line_number++;
      if (memchr (line_start, '\0', (gsize) (line_end - line_start)) != NULL)
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s:%u: expected text, found a NUL byte", origin, line_number);
          return NULL;
        }
      line = g_strstrip (g_strndup (line_start, (gsize) (line_end - line_start)));
      line_start = line_end + 1;

      if (*line == '\0' || g_str_has_prefix (line, "version="))
        continue;
      if (parse_cpu_separator (line, &number))
        {
          for (guint i = 0; i < cpus->len; i++)
            if (((RawCpu *) g_ptr_array_index (cpus, i))->number == number)
              {
                g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                             "%s:%u: expected a new CPU, CPU %u appears twice", origin,
                             line_number, number);
                return NULL;
              }
          g_ptr_array_add (cpus, raw_cpu_new (number));
          continue;
        }
      if (!parse_entry (line, &array, &index, regs))
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE, "%s:%u: " RAW_EXPECTED,
                       origin, line_number);
          return NULL;
        }
      if (array < 0)
        continue;
      if (cpus->len == 0)
        g_ptr_array_add (cpus, raw_cpu_new (0));
      {
        RawCpu *cpu = g_ptr_array_index (cpus, cpus->len - 1);
        GArray *entries = cpu->entries[array];
        const RawArray *shape = &raw_arrays[array];
        X86CpuidLeaf *entry;

        /* Entries the file skips read as zeros, as libcpuid's own arrays do. */
        while (entries->len <= index)
          {
            guint position = entries->len;
            X86CpuidLeaf gap = {
              .leaf = shape->rule == SUBLEAVES_NONE ? shape->leaf + position : shape->leaf,
              .subleaf = shape->rule == SUBLEAVES_NONE ? 0 : position,
            };
            g_array_append_val (entries, gap);
          }
        entry = &g_array_index (entries, X86CpuidLeaf, index);
        entry->eax = regs[0];
        entry->ebx = regs[1];
        entry->ecx = regs[2];
        entry->edx = regs[3];
      }
    }
  if (cpus->len == 0 || ((RawCpu *) g_ptr_array_index (cpus, 0))->entries[0]->len == 0)
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s:%u: expected basic_cpuid[0]=..., found no CPUID entries", origin,
                   MAX (line_number, 1));
      return NULL;
    }
  for (guint i = 0; i < cpus->len; i++)
    add_raw_cpu (dump, g_ptr_array_index (cpus, i));
  return g_steal_pointer (&dump);
}
