/* tests/test-post-start.c — the post-start strategy's reading of QEMU's words that need no
 * QEMU: which features a QEMU names when it refuses its -cpu line (every spelling since
 * 1.x, most of which no QEMU we can run prints any more), and where the first CPU sits
 * in a qom-list. */
#include "tests/test-util.h"
#include "probe/post-start.h"

#include <string.h>

static char *
refused_names (const char *message, gboolean *found)
{
  X86FeatureSet refused;
  g_autoptr (GPtrArray) names = NULL;

  x86_feature_set_clear (&refused);
  *found = probe_post_start_refused_features (message, &refused);
  names = x86_feature_set_to_names (&refused, TRUE);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static void
assert_refused (const char *message, const char *expected)
{
  gboolean found;
  g_autofree char *names = refused_names (message, &found);

  if (g_strcmp0 (names, expected) != 0 || found != (expected[0] != '\0'))
    fail_msg ("%s: refused [%s] (found %d), expected [%s]", message, names, found, expected);
}

#define EXITED(tail) \
  "QEMU /usr/bin/qemu-system-x86_64 exited with status 1 (stderr: " tail \
  ") before its monitor answered"

static void
test_refused_features (void **state)
{
  /* QEMU 7.2, as test-probe-qemu sees it live. */
  assert_refused (EXITED ("qemu-system-x86_64: Property 'Haswell-x86_64-cpu.sha512' not found"),
                  "sha512");
  /* Early QOM properties: no type name before the dot. */
  assert_refused (EXITED ("qemu-system-x86_64: Property '.sm3' not found"), "sm3");
  /* A name with a dot of its own is not cut at it. */
  assert_refused (EXITED ("Property 'qemu64-x86_64-cpu.sse4.1' not found"), "sse4.1");
  /* The 2.x parser of +feat, and an underscore spelling of the time. */
  assert_refused (EXITED ("qemu-system-x86_64: CPU feature sha512 not found"), "sha512");
  assert_refused (EXITED ("CPU feature lahf_lm not found"), "lahf-lm");
  /* The 1.x parser of feat=value, among other stderr lines. */
  assert_refused (EXITED ("warning: x / unrecognized feature sm3 / qemu: bad -cpu"), "sm3");
  assert_refused (EXITED ("unrecognized feature sha512"), "sha512");
}

static void
test_refusals_without_features (void **state)
{
  /* Nothing a -cpu line without unknown features can be retried without. */
  assert_refused (EXITED ("qemu-system-x86_64: unable to find CPU model 'No-Such-CPU'"), "");
  assert_refused (EXITED ("Property 'Haswell-x86_64-cpu.no-such-feature' not found"), "");
  assert_refused (EXITED ("Property 'sha512' not found"), "");
  assert_refused (EXITED ("Property 'Haswell-x86_64-cpu.sha512' is read-only"), "");
  assert_refused ("QEMU /usr/bin/qemu-system-x86_64 exited with status 1 before its monitor "
                  "answered", "");
  assert_refused ("", "");
}

static void
test_cpu_in_list (void **state)
{
  json_object *children = json_tokener_parse (
    "[{\"name\": \"type\", \"type\": \"string\"},"
    " {\"name\": \"sysbus\", \"type\": \"child<System>\"},"
    " {\"name\": \"device[3]\", \"type\": \"child<Haswell-x86_64-cpu>\"},"
    " {\"name\": \"device[4]\", \"type\": \"child<qemu64-x86_64-cpu>\"}]");
  g_autofree char *path = probe_post_start_cpu_in_list (children);
  json_object *no_cpu = json_tokener_parse ("[{\"name\": \"sysbus\", \"type\": \"child<System>\"}]");

  assert_string_equal (path, "/machine/unattached/device[3]");
  assert_null (probe_post_start_cpu_in_list (no_cpu));
  assert_null (probe_post_start_cpu_in_list (NULL));
  json_object_put (children);
  json_object_put (no_cpu);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_refused_features),
    cmocka_unit_test (test_refusals_without_features),
    cmocka_unit_test (test_cpu_in_list),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
