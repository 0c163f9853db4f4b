/* tests/libvirt/libvirt-start.c — starts domain XML files in a private libvirt (the
 * harness of tests/libvirt/) and prints what libvirt did, one JSON object per file:
 *   {"file", "started", "error", "qemu_cpu", "live_cpu", "feature_words", "seconds"}
 * For looking at libvirt's behaviour by hand:
 *   build-DIR/tests/libvirt/libvirt-start DOMAIN.xml...
 * Exit 0 when every domain started, 1 when libvirt refused one, 2 on bad input, 77 when
 * libvirt cannot run here. */
#include "tests/libvirt/libvirt-harness.h"

#include <stdio.h>
#include <json-c/json.h>

static json_object *
string_or_null (const char *text)
{
  return text != NULL ? json_object_new_string (text) : NULL;
}

/* The text of the domain's <name>, or NULL. */
static char *
domain_name (const char *xml)
{
  g_autoptr (GRegex) name = g_regex_new ("<name>\\s*([^<\\s]+)\\s*</name>", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  return g_regex_match (name, xml, 0, &match) ? g_match_info_fetch (match, 1) : NULL;
}

int
main (int argc, char **argv)
{
  g_autofree char *skip_reason = NULL;
  g_autoptr (LibvirtHarness) harness = NULL;
  int status = 0;

  if (argc < 2)
    {
      fprintf (stderr, "usage: %s DOMAIN.xml...\n", argv[0]);
      return 2;
    }
  harness = libvirt_harness_new (&skip_reason);
  if (harness == NULL)
    {
      fprintf (stderr, "libvirt-start: %s\n", skip_reason);
      return 77;
    }
  for (int i = 1; i < argc; i++)
    {
      g_autofree char *xml = NULL;
      g_autofree char *name = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (LibvirtStart) start = NULL;
      json_object *result;

      if (!g_file_get_contents (argv[i], &xml, NULL, &error)
          || (name = domain_name (xml)) == NULL)
        {
          fprintf (stderr, "libvirt-start: %s: %s\n", argv[i],
                   error != NULL ? error->message : "no <name> in the domain");
          return 2;
        }
      start = libvirt_harness_start (harness, name, xml, &error);
      if (start == NULL)
        {
          fprintf (stderr, "libvirt-start: %s: %s\n", argv[i], error->message);
          return 2;
        }
      result = json_object_new_object ();
      json_object_object_add (result, "file", json_object_new_string (argv[i]));
      json_object_object_add (result, "started", json_object_new_boolean (start->started));
      json_object_object_add (result, "error", string_or_null (start->error));
      json_object_object_add (result, "qemu_cpu", string_or_null (start->qemu_cpu_arg));
      json_object_object_add (result, "live_cpu", string_or_null (start->live_cpu));
      json_object_object_add (result, "feature_words",
                              start->feature_words != NULL
                                ? json_tokener_parse (start->feature_words) : NULL);
      json_object_object_add (result, "seconds", json_object_new_double (start->seconds));
      printf ("%s\n", json_object_to_json_string_ext (result, JSON_C_TO_STRING_PRETTY
                                                              | JSON_C_TO_STRING_NOSLASHESCAPE));
      json_object_put (result);
      if (!start->started)
        status = 1;
    }
  return status;
}
