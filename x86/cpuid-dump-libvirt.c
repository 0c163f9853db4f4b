/* x86/cpuid-dump-libvirt.c — libvirt's <cpudata arch='x86'> (the layout of its
 * tests/cputestdata/x86_64-cpuid-*.xml and of virCPUx86DataFormat), one CPU per file;
 * also its older layout, <cpuid function='0x...' eax= ebx= ecx= edx=/> without ecx_in.
 * <msr> elements are accepted and skipped: they are not CPUID. */
#include "x86/cpuid-dump.h"

#include <errno.h>
#include <string.h>

typedef struct {
  X86CpuidDump *dump;
  const char *origin;
  gboolean in_cpudata;
  gboolean seen_cpudata;
  gboolean any_leaf;
} LibvirtParse;

static void
set_parse_error (GMarkupParseContext *context, const LibvirtParse *parse, GError **error,
                 const char *expected)
{
  int line = 0;
  int column = 0;

  g_markup_parse_context_get_position (context, &line, &column);
  /* GMarkup reports a start tag once it has read the character after '>': at the start
   * of a line, that tag ended on the line before. */
  if (column <= 1 && line > 1)
    line--;
  g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE, "%s:%d: expected %s",
               parse->origin, line, expected);
}

static gboolean
parse_hex_attribute (const char *text, guint32 *value)
{
  char *end = NULL;
  guint64 parsed;

  if (text == NULL || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')
      || !g_ascii_isxdigit (text[2]))
    return FALSE;
  errno = 0;
  parsed = g_ascii_strtoull (text + 2, &end, 16);
  if (errno != 0 || *end != '\0' || parsed > G_MAXUINT32)
    return FALSE;
  *value = (guint32) parsed;
  return TRUE;
}

static void
start_element (GMarkupParseContext *context, const char *element_name,
               const char **attribute_names, const char **attribute_values,
               gpointer user_data, GError **error)
{
  LibvirtParse *parse = user_data;
  static const char *const wanted[] = { "eax_in", "ecx_in", "eax", "ebx", "ecx", "edx" };
  const char *found[G_N_ELEMENTS (wanted)] = { NULL };
  guint32 values[G_N_ELEMENTS (wanted)] = { 0 };
  X86CpuidLeaf leaf;

  if (strcmp (element_name, "cpudata") == 0 && !parse->seen_cpudata)
    {
      for (guint i = 0; attribute_names[i] != NULL; i++)
        if (strcmp (attribute_names[i], "arch") == 0 && strcmp (attribute_values[i], "x86") != 0)
          {
            set_parse_error (context, parse, error, "<cpudata arch='x86'>");
            return;
          }
      parse->in_cpudata = parse->seen_cpudata = TRUE;
      return;
    }
  if (!parse->in_cpudata)
    {
      set_parse_error (context, parse, error, "<cpudata arch='x86'>");
      return;
    }
  if (strcmp (element_name, "msr") == 0)
    return;
  if (strcmp (element_name, "cpuid") != 0)
    {
      set_parse_error (context, parse, error, "<cpuid> or <msr>");
      return;
    }
  for (guint i = 0; attribute_names[i] != NULL; i++)
    {
      for (guint j = 0; j < G_N_ELEMENTS (wanted); j++)
        if (strcmp (attribute_names[i], wanted[j]) == 0)
          found[j] = attribute_values[i];
      /* libvirt's older layout names the leaf `function` and has no subleaf (its
       * virCPUx86DataParse still reads both spellings). */
      if (strcmp (attribute_names[i], "function") == 0 && found[0] == NULL)
        found[0] = attribute_values[i];
    }
  for (guint j = 0; j < G_N_ELEMENTS (wanted); j++)
    /* libvirt writes ecx_in always but reads a missing one as 0 */
    if ((found[j] != NULL || j != 1) && !parse_hex_attribute (found[j], &values[j]))
      {
        set_parse_error (context, parse, error,
                         "<cpuid eax_in='0x...' ecx_in='0x...' eax='0x...' ebx='0x...' "
                         "ecx='0x...' edx='0x...'/> with 32-bit hex values");
        return;
      }
  leaf = (X86CpuidLeaf) { .leaf = values[0], .subleaf = values[1], .eax = values[2],
                          .ebx = values[3], .ecx = values[4], .edx = values[5] };
  if (x86_cpuid_dump_n_cpus (parse->dump) == 0)
    x86_cpuid_dump_add_cpu (parse->dump, 0);
  x86_cpuid_dump_set (parse->dump, 0, &leaf);
  parse->any_leaf = TRUE;
}

static void
end_element (GMarkupParseContext *context, const char *element_name, gpointer user_data,
             GError **error)
{
  LibvirtParse *parse = user_data;

  if (strcmp (element_name, "cpudata") == 0)
    parse->in_cpudata = FALSE;
}

static void
text_content (GMarkupParseContext *context, const char *text, gsize len, gpointer user_data,
              GError **error)
{
  LibvirtParse *parse = user_data;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isspace (text[i]))
      {
        set_parse_error (context, parse, error, "elements, found text");
        return;
      }
}

X86CpuidDump *
x86_cpuid_dump_parse_libvirt (const char *text, gsize len, const char *origin, GError **error)
{
  static const GMarkupParser parser = { start_element, end_element, text_content, NULL, NULL };
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  LibvirtParse parse = { .dump = dump, .origin = origin };
  g_autoptr (GMarkupParseContext) context =
    g_markup_parse_context_new (&parser, 0, &parse, NULL);
  g_autoptr (GError) markup_error = NULL;
  int line = 0;

  x86_cpuid_dump_set_origin (dump, origin);
  if (!g_markup_parse_context_parse (context, text, (gssize) len, &markup_error)
      || !g_markup_parse_context_end_parse (context, &markup_error))
    {
      if (markup_error->domain == X86_CPUID_ERROR)
        {
          g_propagate_error (error, g_steal_pointer (&markup_error));
          return NULL;
        }
      g_markup_parse_context_get_position (context, &line, NULL);
      /* GMarkup's own text carries its position and is translated: keep ours stable. */
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s:%d: expected well-formed XML", origin, line);
      return NULL;
    }
  if (!parse.any_leaf)
    {
      g_markup_parse_context_get_position (context, &line, NULL);
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s:%d: expected <cpuid> elements in <cpudata>, found none", origin,
                   MAX (line, 1));
      return NULL;
    }
  return g_steal_pointer (&dump);
}

void
x86_cpuid_dump_format_libvirt (const X86CpuidDump *dump, guint cpu_index, GString *out)
{
  guint n_leaves;
  const X86CpuidLeaf *leaves = x86_cpuid_dump_leaves (dump, cpu_index, &n_leaves);

  g_string_append (out, "<cpudata arch='x86'>\n");
  for (guint i = 0; i < n_leaves; i++)
    g_string_append_printf (out,
                            "  <cpuid eax_in='0x%08x' ecx_in='0x%02x' eax='0x%08x' ebx='0x%08x' "
                            "ecx='0x%08x' edx='0x%08x'/>\n",
                            leaves[i].leaf, leaves[i].subleaf, leaves[i].eax, leaves[i].ebx,
                            leaves[i].ecx, leaves[i].edx);
  g_string_append (out, "</cpudata>\n");
}
