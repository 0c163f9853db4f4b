/* x86/cpuid-dump-text.c — the `cpuid -r` / `cpuid -1r` text layout, read and written. */
#include "x86/cpuid-dump.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_EXPECTED "expected \"CPU N:\" or \"0xLEAF 0xSUBLEAF: eax=0x... ebx=0x... ecx=0x... edx=0x...\""

/* Parses "0x" and 1..8 hex digits at *cursor into @value and moves past them. */
static gboolean
take_hex (const char **cursor, guint32 *value)
{
  const char *start = *cursor;
  guint64 parsed = 0;
  guint digits = 0;

  if (start[0] != '0' || (start[1] != 'x' && start[1] != 'X'))
    return FALSE;
  start += 2;
  while (g_ascii_isxdigit (start[digits]))
    {
      parsed = parsed * 16 + (guint64) g_ascii_xdigit_value (start[digits]);
      if (++digits > 8)
        return FALSE;
    }
  if (digits == 0)
    return FALSE;
  *value = (guint32) parsed;
  *cursor = start + digits;
  return TRUE;
}

static void
skip_blanks (const char **cursor)
{
  while (**cursor == ' ' || **cursor == '\t')
    (*cursor)++;
}

static gboolean
take_literal (const char **cursor, const char *literal)
{
  gsize len = strlen (literal);

  if (strncmp (*cursor, literal, len) != 0)
    return FALSE;
  *cursor += len;
  return TRUE;
}

/* "0x00000007 0x00: eax=0x... ebx=0x... ecx=0x... edx=0x..."; old `cpuid` versions
 * leave out the subleaf. */
static gboolean
parse_leaf_line (const char *line, X86CpuidLeaf *leaf)
{
  static const char *const labels[] = { "eax=", "ebx=", "ecx=", "edx=" };
  guint32 regs[4];
  const char *cursor = line;

  memset (leaf, 0, sizeof *leaf);
  skip_blanks (&cursor);
  if (!take_hex (&cursor, &leaf->leaf))
    return FALSE;
  skip_blanks (&cursor);
  if (*cursor != ':' && !take_hex (&cursor, &leaf->subleaf))
    return FALSE;
  if (!take_literal (&cursor, ":"))
    return FALSE;
  for (guint reg = 0; reg < 4; reg++)
    {
      skip_blanks (&cursor);
      if (!take_literal (&cursor, labels[reg]) || !take_hex (&cursor, &regs[reg]))
        return FALSE;
    }
  skip_blanks (&cursor);
  if (*cursor != '\0' && *cursor != '\r')
    return FALSE;
  leaf->eax = regs[0];
  leaf->ebx = regs[1];
  leaf->ecx = regs[2];
  leaf->edx = regs[3];
  return TRUE;
}

/* "CPU:" (cpuid -1r, taken as CPU 0) or "CPU 12:". */
static gboolean
parse_cpu_header (const char *line, guint *cpu_number)
{
  const char *cursor = line;
  char *end = NULL;
  guint64 number = 0;

  skip_blanks (&cursor);
  if (!take_literal (&cursor, "CPU"))
    return FALSE;
  if (*cursor == ' ')
    {
      skip_blanks (&cursor);
      if (!g_ascii_isdigit (*cursor))
        return FALSE;
      errno = 0;
      number = g_ascii_strtoull (cursor, &end, 10);
      if (errno != 0 || number > G_MAXINT)
        return FALSE;
      cursor = end;
    }
  if (!take_literal (&cursor, ":"))
    return FALSE;
  skip_blanks (&cursor);
  if (*cursor != '\0' && *cursor != '\r')
    return FALSE;
  *cpu_number = (guint) number;
  return TRUE;
}

static gboolean
blank_line (const char *line)
{
  for (; *line != '\0'; line++)
    if (!g_ascii_isspace (*line))
      return FALSE;
  return TRUE;
}

X86CpuidDump *
x86_cpuid_dump_parse_cpuid_text (const char *text, gsize len, const char *origin, GError **error)
{
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  const char *end = text + len;
  const char *line_start = text;
  guint line_number = 0;
  int cpu_index = -1;
  gboolean any_leaf = FALSE;

  x86_cpuid_dump_set_origin (dump, origin);
  while (line_start < end)
    {
      const char *newline = memchr (line_start, '\n', (gsize) (end - line_start));
      const char *line_end = newline != NULL ? newline : end;
      g_autofree char *line = NULL;
      X86CpuidLeaf leaf;
      guint cpu_number;

      line_number++;
      if (memchr (line_start, '\0', (gsize) (line_end - line_start)) != NULL)
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s:%u: expected text, found a NUL byte", origin, line_number);
          return NULL;
        }
      line = g_strndup (line_start, (gsize) (line_end - line_start));
      line_start = line_end + 1;

      if (blank_line (line))
        continue;
      if (parse_cpu_header (line, &cpu_number))
        {
          if (x86_cpuid_dump_find_cpu (dump, cpu_number) >= 0)
            {
              g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                           "%s:%u: expected a new CPU, CPU %u appears twice", origin,
                           line_number, cpu_number);
              return NULL;
            }
          cpu_index = (int) x86_cpuid_dump_add_cpu (dump, cpu_number);
          continue;
        }
      if (!parse_leaf_line (line, &leaf))
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE, "%s:%u: " TEXT_EXPECTED,
                       origin, line_number);
          return NULL;
        }
      if (cpu_index < 0)
        cpu_index = (int) x86_cpuid_dump_add_cpu (dump, 0);
      x86_cpuid_dump_set (dump, (guint) cpu_index, &leaf);
      any_leaf = TRUE;
    }
  if (!any_leaf)
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s:%u: expected CPUID lines, found none", origin, MAX (line_number, 1));
      return NULL;
    }
  return g_steal_pointer (&dump);
}

void
x86_cpuid_dump_format_text (const X86CpuidDump *dump, guint cpu_index, GString *out)
{
  guint n_leaves;
  const X86CpuidLeaf *leaves = x86_cpuid_dump_leaves (dump, cpu_index, &n_leaves);

  g_string_append_printf (out, "CPU %u:\n", x86_cpuid_dump_cpu_number (dump, cpu_index));
  for (guint i = 0; i < n_leaves; i++)
    g_string_append_printf (out, "   0x%08x 0x%02x: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
                            leaves[i].leaf, leaves[i].subleaf, leaves[i].eax, leaves[i].ebx,
                            leaves[i].ecx, leaves[i].edx);
}
