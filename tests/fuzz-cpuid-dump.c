/* tests/fuzz-cpuid-dump.c — libFuzzer target for the CPUID dump readers.
 *
 * The input is a --cpuid-dump file in any layout (cpuid text, our JSON, libcpuid's raw
 * dump, libvirt's <cpudata>); x86_cpuid_dump_parse() picks the reader by content, as
 * for a user's file. A file is either read or refused with a message naming it; what
 * was read survives our own JSON layout unchanged, and the writers of the other layouts
 * cope with whatever a reader accepted. */
#include "x86/cpuid-dump.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN "fuzz-input"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static gboolean
same_dump (const X86CpuidDump *a, const X86CpuidDump *b)
{
  if (x86_cpuid_dump_n_cpus (a) != x86_cpuid_dump_n_cpus (b))
    return FALSE;
  for (guint cpu = 0; cpu < x86_cpuid_dump_n_cpus (a); cpu++)
    {
      guint n_a, n_b;
      const X86CpuidLeaf *leaves_a = x86_cpuid_dump_leaves (a, cpu, &n_a);
      const X86CpuidLeaf *leaves_b = x86_cpuid_dump_leaves (b, cpu, &n_b);

      if (x86_cpuid_dump_cpu_number (a, cpu) != x86_cpuid_dump_cpu_number (b, cpu)
          || n_a != n_b || memcmp (leaves_a, leaves_b, n_a * sizeof *leaves_a) != 0)
        return FALSE;
    }
  return TRUE;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) reread_error = NULL;
  g_autoptr (X86CpuidDump) dump = NULL;
  g_autoptr (X86CpuidDump) reread = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  json_object *json;

  dump = x86_cpuid_dump_parse ((const char *) data, size, ORIGIN, &error);
  if (dump == NULL)
    {
      /* Refused, and the message says which file. */
      if (error == NULL || strstr (error->message, ORIGIN) == NULL)
        abort ();
      return 0;
    }
  if (error != NULL || x86_cpuid_dump_n_cpus (dump) == 0)
    abort ();

  json = x86_cpuid_dump_to_json (dump);
  reread = x86_cpuid_dump_from_json (json, ORIGIN, &reread_error);
  json_object_put (json);
  if (reread == NULL || !same_dump (dump, reread))
    abort ();

  for (guint cpu = 0; cpu < x86_cpuid_dump_n_cpus (dump); cpu++)
    {
      x86_cpuid_dump_format_text (dump, cpu, text);
      x86_cpuid_dump_format_libvirt (dump, cpu, text);
    }
  x86_cpuid_dump_heterogeneous (dump, NULL);
  return 0;
}
