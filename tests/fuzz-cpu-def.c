/* tests/fuzz-cpu-def.c — libFuzzer target for CPU definitions: QEMU -cpu strings and
 * libvirt <cpu> XML, the two ways a user names the CPU to check.
 *
 * The same bytes are read both ways. Each reader accepts the input or refuses it with a
 * message; whatever was accepted is written back as XML, JSON and a -cpu string, and the
 * XML and JSON we write must read back: a definition vcpuprobe prints (the "updated"
 * one) is fed to it again by users. */
#include "probe/cpu-def.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
write_back (const CpuDef *def)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = cpu_def_to_xml (def);
  g_autofree char *cpu_string = cpu_def_to_qemu_cpu_string (def, FALSE);
  g_autofree char *legacy = cpu_def_to_qemu_cpu_string (def, TRUE);
  g_autoptr (CpuDef) from_xml = NULL;
  g_autoptr (CpuDef) from_json = NULL;
  json_object *json = cpu_def_to_json (def);
  json_object *props = cpu_def_expansion_props (def);

  /* A -cpu string exactly when there is a model QEMU can create. */
  if ((cpu_string == NULL) != (cpu_def_qemu_model (def) == NULL)
      || (legacy == NULL) != (cpu_string == NULL))
    abort ();
  from_xml = cpu_def_from_xml (xml, -1, NULL, &error);
  if (from_xml == NULL)
    {
      fprintf (stderr, "our XML does not read back: %s\n%s", error->message, xml);
      abort ();
    }
  from_json = cpu_def_from_json (json, &error);
  if (from_json == NULL)
    {
      fprintf (stderr, "our JSON does not read back: %s\n%s\n", error->message,
               json_object_to_json_string (json));
      abort ();
    }
  json_object_put (json);
  json_object_put (props);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr (GError) string_error = NULL;
  g_autoptr (GError) xml_error = NULL;
  g_autoptr (CpuDef) from_string = NULL;
  g_autoptr (CpuDef) from_xml = NULL;

  from_string = cpu_def_from_qemu_cpu_string (text, &string_error);
  if (from_string != NULL)
    write_back (from_string);
  else if (string_error == NULL || *string_error->message == '\0')
    abort ();

  from_xml = cpu_def_from_xml ((const char *) data, (gssize) size, "fuzz-input", &xml_error);
  if (from_xml != NULL)
    write_back (from_xml);
  else if (xml_error == NULL || *xml_error->message == '\0')
    abort ();
  return 0;
}
