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
  {
    g_autoptr (GPtrArray) escaped = probe_cpu_models_parse (
      "[{\"na\\u006de\": \"EPYC\", \"alias\\u002dof\": \"EPYC-v1\"}]", &error);

    assert_non_null (escaped);
    assert_string_equal (probe_cpu_models_find (escaped, "EPYC")->alias_of, "EPYC-v1");
  }
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

/* Both readers of an expansion see the same features, from the same reply: QEMU's name
 * or an older spelling (lahf_lm), null as absent, a repeated name's last value, values
 * that are not booleans as known but off. */
static void
assert_readers_agree (const char *reply, const char *expect_on, const char *expect_vendor)
{
  g_autoptr (GError) error = NULL;
  json_object *object = json_tokener_parse (reply);
  X86FeatureSet by_object, known_by_object, by_text, known_by_text;
  g_autofree char *vendor = NULL;
  g_auto (GStrv) names = g_strsplit (expect_on, " ", -1);

  assert_non_null (object);
  assert_true (probe_features_from_expansion (object, &by_object, &known_by_object, NULL));
  if (!probe_features_from_expansion_text (reply, &by_text, &known_by_text, &vendor, &error))
    fail_msg ("%s", error->message);
  assert_true (x86_feature_set_equal (&by_object, &by_text));
  assert_true (x86_feature_set_equal (&known_by_object, &known_by_text));
  assert_int_equal (x86_feature_set_count (&by_text), g_strv_length (names));
  for (guint i = 0; names[i] != NULL; i++)
    assert_true (x86_feature_set_has (&by_text, x86_feature_lookup (names[i])));
  assert_string_equal (vendor != NULL ? vendor : "(none)", expect_vendor);
  json_object_put (object);
}

static void
test_expansion_readers (void **state)
{
  assert_readers_agree ("{\"model\": {\"name\": \"Haswell\", \"props\": {\"sse4.2\": true,"
                        " \"avx2\": false, \"lahf_lm\": true, \"vendor\": \"GenuineIntel\","
                        " \"x2apic\": null, \"pdpe1gb\": 1, \"fma\": false, \"fma\": true,"
                        " \"family\": 6}}}", "sse4.2 lahf-lm fma", "GenuineIntel");
  /* The canonical name wins over an older spelling, in whichever order they come. */
  assert_readers_agree ("{\"model\": {\"props\": {\"lahf_lm\": false, \"lahf-lm\": true},"
                        " \"name\": \"x\"}, \"deprecated-props\": []}", "lahf-lm", "(none)");
  assert_readers_agree ("{\"model\": {\"name\": \"x\", \"props\": {}}}", "", "(none)");
  /* Names with escapes are the names they decode to; of two "model"s the last counts. */
  assert_readers_agree ("{\"model\": {\"props\": {\"avx\": true}}, \"mod\\u0065l\": {\"pr\\u006fps\":"
                        " {\"av\\u0078\": false, \"ss\\u0065\": true, \"vendor\": \"A\\/B\"}}}",
                        "sse", "A/B");
}

static void
test_expansion_refused (void **state)
{
  static const char *const replies[] = {
    "{\"model\": {\"name\": \"x\"}}", "{\"model\": {\"props\": []}}", "[]", "{}",
    "{\"props\": {\"avx\": true}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      g_autoptr (GError) error = NULL;
      X86FeatureSet set;

      assert_false (probe_features_from_expansion_text (replies[i], &set, NULL, NULL, &error));
      assert_string_equal (error->message, "query-cpu-model-expansion: reply without model.props");
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_models),
    cmocka_unit_test (test_models_refused),
    cmocka_unit_test (test_machines),
    cmocka_unit_test (test_expansion_readers),
    cmocka_unit_test (test_expansion_refused),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
