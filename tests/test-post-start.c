/* tests/test-post-start.c — the post-start strategy's reading of QEMU's words that need no
 * QEMU: which features a QEMU names when it refuses its -cpu line (every spelling since
 * 1.x, most of which no QEMU we can run prints any more), where the first CPU sits in a
 * qom-list, and CPUs started from a recording, which serves only the sessions it has. */
#include "tests/test-util.h"
#include "probe/post-start.h"
#include "probe/probe.h"

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

static gboolean
has_feature (const X86FeatureSet *set, const char *name)
{
  return x86_feature_set_has (set, x86_feature_lookup (name));
}

/* The synthetic QEMU 2.8.0 host recording holds -cpu host with migratable on and off, and no
 * Haswell: the first two are read, in order, and Haswell is not even opened. */
static void
test_start_cpus_replay (void **state)
{
  g_autofree char *path = test_data_path ("qmp-replies/synthetic-qemu-2.8.0-host.replies");
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) source = qmp_source_new_replay (path, QMP_REPLAY_AUTO, &error);
  const char *const cpus[] = { "host", "host,migratable=off", "Haswell", NULL };
  g_autoptr (GPtrArray) started = NULL;
  ProbeStartedCpu *migratable, *supported, *haswell;
  ProbeOptions options;

  assert_non_null (source);
  probe_options_init_source (&options, source, g_get_monotonic_time () + 30 * G_USEC_PER_SEC);
  options.accel = "kvm";
  started = probe_start_cpus (&options, cpus);
  assert_int_equal (started->len, 3);
  migratable = started->pdata[0];
  supported = started->pdata[1];
  haswell = started->pdata[2];
  if (migratable->error != NULL || supported->error != NULL)
    fail_msg ("%s", (migratable->error != NULL ? migratable->error : supported->error)->message);
  assert_string_equal (migratable->cpu, "host");
  assert_string_equal (migratable->machine, "pc-i440fx-2.8");
  assert_true (migratable->filtered_known && x86_feature_set_is_empty (&migratable->filtered));
  assert_true (has_feature (&migratable->guest, "kvmclock"));
  /* invtsc is QEMU 2.8's one unmigratable feature, and gfni a bit it has no name for. */
  assert_false (has_feature (&migratable->guest, "invtsc"));
  assert_false (has_feature (&migratable->guest, "gfni"));
  assert_true (has_feature (&supported->guest, "invtsc"));
  assert_true (has_feature (&supported->guest, "gfni"));
  assert_true (g_error_matches (haswell->error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT));
  assert_non_null (strstr (haswell->error->message, "no post-start session of -cpu Haswell"));
}

/* A real QEMU 2.8.0 host recording made before host read the host model after start: the
 * dump still comes out, and says why the host model is missing. */
static void
test_corpus_host_without_post_start (void **state)
{
  g_autofree char *path = test_corpus_dir () != NULL
    ? g_build_filename (test_corpus_dir (), "recordings", "qemu-2.8.0-host.replies", NULL) : NULL;
  const char *argv[] = { test_vcpuprobe (), "--replay", path, "--format", "json", "host", NULL };
  g_autoptr (TestRun) run = NULL;
  json_object *output, *qemu;
  const char *reason;

  if (path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      print_message ("SKIP: no corpus recording qemu-2.8.0-host.replies\n");
      skip ();
    }
  g_setenv ("VCPUPROBE_REPLAY_STRICT", "1", TRUE);
  run = test_run (argv, NULL);
  g_unsetenv ("VCPUPROBE_REPLAY_STRICT");
  test_assert_exit (run, 0);
  output = test_parse_json (run->out);
  qemu = test_json_member (output, "qemu", json_type_object);
  reason = json_object_get_string (test_json_member (test_json_member (qemu, "host_model", json_type_object),
                                                     "reason", json_type_string));
  assert_non_null (strstr (reason, "has no post-start session of -cpu host under kvm"));
  reason = json_object_get_string (test_json_member (test_json_member (qemu, "max_model", json_type_object),
                                                     "reason", json_type_string));
  assert_non_null (strstr (reason, "no `max` CPU model"));
  json_object_put (output);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_refused_features),
    cmocka_unit_test (test_refusals_without_features),
    cmocka_unit_test (test_cpu_in_list),
    cmocka_unit_test (test_start_cpus_replay),
    cmocka_unit_test (test_corpus_host_without_post_start),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
