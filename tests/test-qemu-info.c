/* tests/test-qemu-info.c — the model list and machine types read from the text of QEMU's
 * replies with the skim (probe/qemu-info.h), on hand-written replies: the members read, the
 * ones passed over, escapes, repeats, and the replies that are not lists. */
#include "tests/test-util.h"
#include "probe/qemu-info.h"

#include <string.h>

static void
test_models (void **state)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) models = probe_cpu_models_parse (
    " [{\"name\": \"Haswell\", \"typename\": \"Haswell-x86_64-cpu\", \"alias-of\": \"Haswell-v1\","
    "   \"unavailable-features\": [\"avx2\", {\"odd\": [1, \"]\"]}], \"static\": false},\n"
    "  {\"unavailable-features\": [], \"name\": \"Haswell-v1\", \"deprecated\": false},"
    "  {\"name\": \"we\\u0069rd\\\"name\", \"alias-of\": null},"
    "  {\"name\": \"first\", \"name\": \"last\"}] ", &error);

  if (models == NULL)
    fail_msg ("%s", error->message);
  assert_int_equal (models->len, 4);
  assert_string_equal (probe_cpu_models_find (models, "Haswell")->alias_of, "Haswell-v1");
  assert_null (probe_cpu_models_find (models, "Haswell-v1")->alias_of);
  /* Escapes are decoded; a null alias is none. */
  assert_non_null (probe_cpu_models_find (models, "weird\"name"));
  assert_null (probe_cpu_models_find (models, "weird\"name")->alias_of);
  /* Of repeated members the last counts, as json-c keeps it. */
  assert_non_null (probe_cpu_models_find (models, "last"));
  assert_null (probe_cpu_models_find (models, "first"));
  assert_null (probe_cpu_models_find (models, "Skylake"));
}

static void
test_models_refused (void **state)
{
  static const char *const not_lists[] = { "{}", "\"Haswell\"", "", "null" };
  static const char *const nameless[] = { "[{\"alias-of\": \"x\"}]", "[{\"name\": 5}]",
                                          "[\"Haswell\"]", "[{\"name\": \"a\"}, []]" };

  for (guint i = 0; i < G_N_ELEMENTS (not_lists); i++)
    {
      g_autoptr (GError) error = NULL;

      assert_null (probe_cpu_models_parse (not_lists[i], &error));
      assert_string_equal (error->message, "query-cpu-definitions: expected a list");
    }
  for (guint i = 0; i < G_N_ELEMENTS (nameless); i++)
    {
      g_autoptr (GError) error = NULL;

      assert_null (probe_cpu_models_parse (nameless[i], &error));
      assert_non_null (strstr (error->message, "has no name"));
    }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GPtrArray) empty = probe_cpu_models_parse ("[ ]", &error);

    assert_non_null (empty);
    assert_int_equal (empty->len, 0);
  }
}

static void
test_machines (void **state)
{
  const char *machines =
    "[{\"name\": \"pc-q35-7.2\", \"alias\": \"q35\", \"cpu-max\": 288, \"is-default\": false},"
    " {\"hotpluggable-cpus\": true, \"name\": \"pc-i440fx-7.2\", \"alias\": \"pc\","
    "  \"is-default\": true, \"cpu-max\": 255},"
    " {\"name\": \"isapc\", \"cpu-max\": 1}, 7, {\"alias\": \"orphan\"}]";
  g_autofree char *by_alias = probe_machine_resolve (machines, "q35");
  g_autofree char *by_name = probe_machine_resolve (machines, "isapc");
  g_autofree char *by_default = probe_machine_resolve (machines, NULL);
  g_autofree char *unknown = probe_machine_resolve (machines, "microvm");
  g_autofree char *orphan = probe_machine_resolve (machines, "orphan");
  g_autofree char *no_reply = probe_machine_resolve (NULL, "pc");
  g_autofree char *no_default = probe_machine_resolve ("[{\"name\": \"isapc\"}]", NULL);

  assert_string_equal (by_alias, "pc-q35-7.2");
  assert_string_equal (by_name, "isapc");
  assert_string_equal (by_default, "pc-i440fx-7.2");
  assert_string_equal (unknown, "microvm");
  assert_string_equal (orphan, "orphan");
  assert_string_equal (no_reply, "pc");
  assert_null (no_default);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_models),
    cmocka_unit_test (test_models_refused),
    cmocka_unit_test (test_machines),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
