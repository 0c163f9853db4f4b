/* tests/test-check-cache.c — probe/check-cache: an answer is served only for the key it
 * was stored under, and an unusable entry is a miss that says why. */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "probe/check-cache.h"
#include "test-util.h"

typedef struct {
  char *directory;
  char *binary;          /* a file standing in for QEMU: only its inode and times count */
  char *cpu_map;
} Fixture;

static int
setup (void **state)
{
  Fixture *fixture = g_new0 (Fixture, 1);

  fixture->directory = test_make_tmpdir ();
  fixture->binary = g_build_filename (fixture->directory, "qemu", NULL);
  fixture->cpu_map = g_build_filename (fixture->directory, "cpu_map", NULL);
  assert_true (g_file_set_contents (fixture->binary, "#!/bin/sh\n", -1, NULL));
  assert_int_equal (g_mkdir (fixture->cpu_map, 0755), 0);
  *state = fixture;
  return 0;
}

static int
teardown (void **state)
{
  Fixture *fixture = *state;

  test_rmdir_r (fixture->directory);
  g_free (fixture->directory);
  g_free (fixture->binary);
  g_free (fixture->cpu_map);
  g_free (fixture);
  return 0;
}

static ProbeCheckKey *
make_key (const Fixture *fixture, const char *definition, const char *settings)
{
  g_autoptr (GError) error = NULL;
  ProbeCheckKeyInputs inputs = {
    .definition = definition,
    .qemu_binary = fixture->binary,
    .accel = "tcg",
    .machine = "pc",
    .cpu_map = fixture->cpu_map,
    .settings = settings,
  };
  ProbeCheckKey *key = probe_check_key_new (&inputs, &error);

  if (key == NULL)
    fail_msg ("no key: %s", error->message);
  return key;
}

static json_object *
answer_of (const char *verdict)
{
  json_object *answer = json_object_new_object ();

  json_object_object_add (answer, "verdict", json_object_new_string (verdict));
  return answer;
}

static void
assert_hit (ProbeCache *cache, const ProbeCheckKey *key, const char *verdict)
{
  g_autofree char *reason = NULL;
  json_object *answer = probe_check_cache_lookup (cache, key, &reason);

  if (answer == NULL)
    fail_msg ("miss: %s", reason);
  assert_string_equal (json_object_get_string (json_object_object_get (answer, "verdict")), verdict);
  json_object_put (answer);
}

static char *
assert_miss (ProbeCache *cache, const ProbeCheckKey *key)
{
  char *reason = NULL;
  json_object *answer = probe_check_cache_lookup (cache, key, &reason);

  assert_null (answer);
  assert_non_null (reason);
  return reason;
}

static void
test_round_trip_and_other_keys (void **state)
{
  Fixture *fixture = *state;
  g_autoptr (ProbeCache) cache = probe_cache_new (fixture->directory);
  g_autoptr (ProbeCheckKey) key = make_key (fixture, "{\"model\":\"Haswell\"}", "check");
  g_autoptr (ProbeCheckKey) other_definition = make_key (fixture, "{\"model\":\"Skylake\"}", "check");
  g_autoptr (ProbeCheckKey) other_settings = make_key (fixture, "{\"model\":\"Haswell\"}", "hook");
  json_object *answer = answer_of ("fail");
  g_autofree char *before = NULL;

  before = assert_miss (cache, key);
  assert_string_equal (before, "no entry");
  assert_true (probe_check_cache_store (cache, key, answer, NULL));
  json_object_put (answer);
  assert_hit (cache, key, "fail");
  g_free (assert_miss (cache, other_definition));
  g_free (assert_miss (cache, other_settings));

  /* The key is the same when computed again from the same inputs. */
  {
    g_autoptr (ProbeCheckKey) again = make_key (fixture, "{\"model\":\"Haswell\"}", "check");
    assert_hit (cache, again, "fail");
  }
}

static void
test_changed_binary_or_map_is_a_miss (void **state)
{
  Fixture *fixture = *state;
  g_autoptr (ProbeCache) cache = probe_cache_new (fixture->directory);
  g_autoptr (ProbeCheckKey) key = make_key (fixture, "{}", "check");
  g_autofree char *renamed = g_strconcat (fixture->binary, ".new", NULL);
  json_object *answer = answer_of ("pass");

  assert_true (probe_check_cache_store (cache, key, answer, NULL));
  json_object_put (answer);

  /* An upgrade replaces the binary: another inode. */
  assert_true (g_file_set_contents (renamed, "#!/bin/sh\n", -1, NULL));
  assert_int_equal (g_rename (renamed, fixture->binary), 0);
  {
    g_autoptr (ProbeCheckKey) upgraded = make_key (fixture, "{}", "check");
    g_free (assert_miss (cache, upgraded));
  }
  /* A new map file in the map's directory. */
  {
    g_autofree char *file = g_build_filename (fixture->cpu_map, "x86_New.xml", NULL);
    g_autoptr (ProbeCheckKey) before = make_key (fixture, "{}", "check");
    g_autoptr (ProbeCheckKey) after = NULL;
    json_object *stored = answer_of ("pass");

    assert_true (probe_check_cache_store (cache, before, stored, NULL));
    json_object_put (stored);
    /* Directory times have a clock tick of resolution: wait one out. */
    g_usleep (20000);
    assert_true (g_file_set_contents (file, "<cpus/>", -1, NULL));
    after = make_key (fixture, "{}", "check");
    g_free (assert_miss (cache, after));
  }
}

static void
test_unusable_entries (void **state)
{
  Fixture *fixture = *state;
  g_autoptr (ProbeCache) cache = probe_cache_new (fixture->directory);
  g_autoptr (ProbeCheckKey) key = make_key (fixture, "{}", "check");
  g_autoptr (ProbeCheckKey) other = make_key (fixture, "{\"model\":\"qemu64\"}", "check");
  g_autofree char *path = probe_check_cache_entry_path (cache, key);
  g_autofree char *other_path = probe_check_cache_entry_path (cache, other);
  json_object *answer = answer_of ("pass");

  assert_true (probe_check_cache_store (cache, other, answer, NULL));
  json_object_put (answer);

  /* Half a file, another kind of document, another key's entry under this name. */
  {
    g_autofree char *reason = NULL;

    assert_true (g_file_set_contents (path, "{\"format\":\"vcpuprobe-check\",", -1, NULL));
    reason = assert_miss (cache, key);
    assert_non_null (strstr (reason, "corrupt"));
  }
  {
    g_autofree char *reason = NULL;

    assert_true (g_file_set_contents (path, "{\"format\":\"vcpuprobe-cache\",\"version\":1,"
                                            "\"key\":{},\"result\":{}}", -1, NULL));
    reason = assert_miss (cache, key);
    assert_non_null (strstr (reason, "corrupt"));
  }
  {
    g_autofree char *reason = NULL;
    g_autofree char *text = NULL;

    assert_true (g_file_get_contents (other_path, &text, NULL, NULL));
    assert_true (g_file_set_contents (path, text, -1, NULL));
    reason = assert_miss (cache, key);
    assert_non_null (strstr (reason, "another key"));
  }
}

static void
test_definition_text (void **state)
{
  g_autoptr (CpuDef) a = cpu_def_from_xml ("<domain type='kvm' id='1'><name>a</name>"
                                           "<cpu check='full'><model>Haswell</model>"
                                           "<feature policy='require' name='x2apic'/></cpu>"
                                           "<os><type machine='pc'>hvm</type></os></domain>",
                                           -1, NULL, NULL);
  g_autoptr (CpuDef) b = cpu_def_from_xml ("<domain type='kvm' id='9'><name>b</name>"
                                           "<os><type machine='pc'>hvm</type></os>"
                                           "<cpu check='full'>\n  <model>Haswell</model>\n"
                                           "  <feature name='x2apic' policy='require'/>\n</cpu>"
                                           "</domain>", -1, NULL, NULL);
  g_autoptr (CpuDef) tcg = cpu_def_from_xml ("<domain type='qemu'><cpu check='full'>"
                                             "<model>Haswell</model>"
                                             "<feature policy='require' name='x2apic'/></cpu>"
                                             "<os><type machine='pc'>hvm</type></os></domain>",
                                             -1, NULL, NULL);
  g_autofree char *text_a = NULL, *text_b = NULL, *text_tcg = NULL;

  assert_non_null (a);
  assert_non_null (b);
  assert_non_null (tcg);
  text_a = probe_check_definition_text (a);
  text_b = probe_check_definition_text (b);
  text_tcg = probe_check_definition_text (tcg);
  /* What does not change the CPU does not change the text; the accelerator does. */
  assert_string_equal (text_a, text_b);
  assert_string_not_equal (text_a, text_tcg);
  assert_null (strchr (text_a, '\n'));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_round_trip_and_other_keys, setup, teardown),
    cmocka_unit_test_setup_teardown (test_changed_binary_or_map_is_a_miss, setup, teardown),
    cmocka_unit_test_setup_teardown (test_unusable_entries, setup, teardown),
    cmocka_unit_test (test_definition_text),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
