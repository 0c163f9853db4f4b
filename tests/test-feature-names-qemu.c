/* tests/test-feature-names-qemu.c — every boolean CPU property of the real QEMU's full
 * expansion of max (TCG) and host (KVM) must be known to the feature table, as a feature
 * in some spelling or as a property that is not a feature. QEMU is spoken to directly
 * over -qmp stdio and read with json-c: x86/ knows nothing of the qmp/ layer. */
#include "tests/test-util.h"
#include "x86/feature-table.h"

#include <json-c/json.h>
#include <string.h>

static void
check_expansion (const char *accel, const char *model)
{
  g_autofree char *model_json = g_strdup_printf ("{\"name\": \"%s\"}", model);
  json_object *props = test_qemu_full_expansion (accel, model_json, NULL);
  g_autoptr (GString) unknown = g_string_new (NULL);
  g_autoptr (GString) mismatched = g_string_new (NULL);
  guint n_booleans = 0, n_features = 0;

  json_object_object_foreach (props, name, value)
    {
      const X86Feature *feature;
      const char *property;
      json_object *canonical;

      if (!json_object_is_type (value, json_type_boolean))
        continue;
      n_booleans++;
      if (x86_is_non_feature_property (name))
        continue;
      feature = x86_feature_lookup_property (name);
      if (feature == NULL)
        {
          g_string_append_printf (unknown, " %s", name);
          continue;
        }
      n_features++;
      /* A full expansion lists every alias with its feature's value: an alias the table
       * ties to the wrong feature shows up as a different value. */
      property = x86_feature_qemu_property (feature);
      if (json_object_object_get_ex (props, property, &canonical)
          && json_object_get_boolean (canonical) != json_object_get_boolean (value))
        g_string_append_printf (mismatched, " %s≠%s", name, property);
    }
  print_message ("%s/%s: %u boolean properties, %u of them features\n", accel, model,
                 n_booleans, n_features);
  json_object_put (props);
  if (unknown->len > 0 || mismatched->len > 0)
    fail_msg ("%s/%s: boolean properties unknown to the feature table:%s; aliases whose value "
              "differs from their feature's:%s", accel, model,
              unknown->len > 0 ? unknown->str : " none", mismatched->len > 0 ? mismatched->str : " none");
  /* A parse that found almost nothing would pass the checks above vacuously. */
  assert_true (n_features > 200);
}

static void
test_max_under_tcg (void **state)
{
  TEST_REQUIRE_QEMU ();
  check_expansion ("tcg", "max");
}

static void
test_host_under_kvm (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  check_expansion ("kvm", "host");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_max_under_tcg),
    cmocka_unit_test (test_host_under_kvm),
  };

  test_skip_program_without_named_qemu ();

  return cmocka_run_group_tests (tests, NULL, NULL);
}
