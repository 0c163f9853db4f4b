/* tests/test-host-post-start.c — the host model and the model list read from paused QEMUs
 * (the post-start path QEMU older than 2.9 needs) against the real QEMU, which can also
 * expand them: `host --method post-start` must show the same QEMU layer as the expansion,
 * and `models --method post-start` the same usability, on the same QEMU and host. The one
 * known difference is said where it is checked: feature-words have no MSR words. */
#include "tests/test-util.h"

#include <stdio.h>
#include <string.h>
#include "x86/feature-table.h"

/* A cache of this program's own, so no earlier run's cache answers for QEMU. */
static char *cache_dir;


#define RUN(...) test_run_vcpuprobe (TRUE, "300", (const char *const[]) { __VA_ARGS__, NULL })

static json_object *
run_json (const char *const *args)
{
  g_autoptr (TestRun) run = test_run_vcpuprobe (TRUE, "300", args);

  test_assert_exit (run, 0);
  return test_parse_json (run->out);
}

#define RUN_JSON(...) run_json ((const char *const[]) { __VA_ARGS__, NULL })

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The CPUID features of a JSON array of feature names, sorted and joined by spaces. */
static char *
cpuid_names (json_object *names)
{
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();

  for (size_t i = 0; i < json_object_array_length (names); i++)
    {
      const char *name = json_object_get_string (json_object_array_get_idx (names, i));
      const X86Feature *feature = x86_feature_lookup (name);

      if (feature == NULL)
        fail_msg ("%s: not a feature this tree knows", name);
      if (x86_feature_words (NULL)[feature->word].kind == X86_WORD_CPUID)
        g_ptr_array_add (kept, (gpointer) feature->name);
    }
  g_ptr_array_sort (kept, compare_names);
  g_ptr_array_add (kept, NULL);
  return g_strjoinv (" ", (char **) kept->pdata);
}

static gboolean
qemu_can_expand (json_object *host)
{
  const char *version = json_object_get_string (
    test_json_member (test_json_member (host, "qemu", json_type_object), "version", json_type_string));
  guint major = 0, minor = 0;

  return sscanf (version, "%u.%u", &major, &minor) == 2 && (major > 2 || (major == 2 && minor >= 9));
}

/* The host model of @accel (`host` under kvm, `max` under tcg), read both ways. */
static void
host_model_agrees (const char *accel)
{
  const char *member = strcmp (accel, "kvm") == 0 ? "host_model" : "max_model";
  const char *model = strcmp (accel, "kvm") == 0 ? "host" : "max";
  json_object *expanded_json = RUN_JSON ("--no-cache", "--format", "json", "--accel", accel,
                                         "--method", "expansion", "host");
  json_object *started_json = NULL;
  json_object *expanded, *started;
  char *why_not;
  const char *sets[] = { "migratable", "enabled" };

  if (!qemu_can_expand (expanded_json))
    {
      print_message ("SKIP: QEMU older than 2.9 cannot expand %s: nothing to compare with\n", model);
      json_object_put (expanded_json);
      skip ();
    }
  /* Some QEMUs cannot start the host model on some hosts at all (this nested KVM refuses
   * the arch-capabilities MSR value QEMU 7.2 writes for `host`): no vCPU to read there. */
  why_not = test_qemu_start_failure (accel, model);
  if (why_not != NULL)
    {
      print_message ("SKIP: QEMU cannot start -cpu %s under %s here: %s\n", model, accel, why_not);
      /* skip() does not return: nothing may be left to free. */
      g_free (why_not);
      json_object_put (expanded_json);
      skip ();
    }
  started_json = RUN_JSON ("--no-cache", "--format", "json", "--accel", accel, "--method",
                           "post-start", "host");
  expanded = test_json_member (test_json_member (expanded_json, "qemu", json_type_object), member,
                               json_type_object);
  started = test_json_member (test_json_member (started_json, "qemu", json_type_object), member,
                              json_type_object);
  assert_true (json_object_get_boolean (test_json_member (expanded, "known", json_type_boolean)));
  if (!json_object_get_boolean (test_json_member (started, "known", json_type_boolean)))
    fail_msg ("%s under %s: post-start did not read it: %s", model, accel,
              json_object_get_string (json_object_object_get (started, "reason")));
  assert_string_equal (json_object_get_string (test_json_member (started, "method", json_type_string)),
                       "post-start");
  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    {
      g_autofree char *by_expansion = cpuid_names (test_json_member (expanded, sets[i], json_type_array));
      g_autofree char *by_post_start = cpuid_names (test_json_member (started, sets[i], json_type_array));

      if (strcmp (by_expansion, by_post_start) != 0)
        fail_msg ("%s under %s, %s: expansion [%s], post-start [%s]", model, accel, sets[i],
                  by_expansion, by_post_start);
      /* A host model with nothing in it would agree trivially. */
      assert_true (strlen (by_expansion) > 0);
    }
  json_object_put (expanded_json);
  json_object_put (started_json);
}

static void
test_host_model_tcg (void **state)
{
  TEST_REQUIRE_QEMU ();
  host_model_agrees ("tcg");
}

static void
test_host_model_kvm (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  host_model_agrees ("kvm");
}

/* The blockers of a model of `models --format json`, CPUID features only. */
static char *
cpuid_blockers (json_object *model)
{
  json_object *blockers = test_json_member (model, "blockers", json_type_array);
  json_object *names = json_object_new_array ();
  char *joined;

  for (size_t i = 0; i < json_object_array_length (blockers); i++)
    json_object_array_add (names, json_object_get (test_json_member (json_object_array_get_idx (blockers, i),
                                                                      "feature", json_type_string)));
  joined = cpuid_names (names);
  json_object_put (names);
  return joined;
}

/* Every model started paused under tcg, as `models` does for QEMU older than 2.8, against
 * query-cpu-definitions' unavailable-features of the same QEMU. */
static void
test_models_tcg (void **state)
{
  TEST_REQUIRE_QEMU ();
  json_object *listed = RUN_JSON ("--no-cache", "--format", "json", "--accel", "tcg", "models");
  json_object *started = RUN_JSON ("--no-cache", "--format", "json", "--accel", "tcg", "--method",
                                   "post-start", "models");
  json_object *listed_models = test_json_member (listed, "models", json_type_array);
  json_object *started_models = test_json_member (started, "models", json_type_array);
  guint n_unusable = 0, n_compared = 0;

  assert_int_equal (json_object_array_length (listed_models), json_object_array_length (started_models));
  for (size_t i = 0; i < json_object_array_length (listed_models); i++)
    {
      json_object *by_list = json_object_array_get_idx (listed_models, i);
      json_object *by_start = json_object_array_get_idx (started_models, i);
      const char *name = json_object_get_string (test_json_member (by_list, "name", json_type_string));
      gboolean usable = json_object_get_boolean (test_json_member (by_list, "usable", json_type_boolean));
      g_autofree char *listed_blockers = NULL;
      g_autofree char *started_blockers = NULL;

      assert_string_equal (name, json_object_get_string (test_json_member (by_start, "name", json_type_string)));
      if (json_object_object_get (by_start, "refused") != NULL)
        {
          /* A model QEMU will not start is one no guest can have: the list must agree
           * (`host` without KVM is the usual one). */
          if (usable)
            fail_msg ("%s: listed usable under tcg, yet QEMU refuses to start it: %s", name,
                      json_object_get_string (json_object_object_get (by_start, "refused")));
          continue;
        }
      listed_blockers = cpuid_blockers (by_list);
      started_blockers = cpuid_blockers (by_start);
      if (usable != json_object_get_boolean (test_json_member (by_start, "usable", json_type_boolean))
          || strcmp (listed_blockers, started_blockers) != 0)
        fail_msg ("%s under tcg: query-cpu-definitions blocks [%s], post-start [%s]", name,
                  listed_blockers, started_blockers);
      n_unusable += !usable;
      n_compared++;
    }
  /* Else the comparison proved nothing about blockers. */
  assert_true (n_unusable > 0 && n_compared > n_unusable);
  json_object_put (listed);
  json_object_put (started);
}

/* A forced method reads the host model another way than the cache's entry says: such a run
 * neither stores nor reads an entry, so the automatic run after it still hits its own. */
static void
test_forced_method_not_cached (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) first = RUN ("--debug", "--accel", "tcg", "host");
  g_autoptr (TestRun) forced = RUN ("--debug", "--accel", "tcg", "--method", "post-start", "host");
  g_autoptr (TestRun) again = RUN ("--debug", "--accel", "tcg", "host");

  test_assert_exit (first, 0);
  test_assert_exit (forced, 0);
  test_assert_exit (again, 0);
  if (strstr (forced->err, "cache tcg: not cached: --method post-start") == NULL)
    fail_msg ("the forced run used the cache: %s", forced->err);
  if (strstr (again->err, "cache tcg: hit") == NULL)
    fail_msg ("the automatic run after a forced one missed the cache: %s", again->err);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_host_model_tcg),
    TEST_CASE_IN_TMPDIR (test_host_model_kvm),
    TEST_CASE_IN_TMPDIR (test_models_tcg),
    TEST_CASE_IN_TMPDIR (test_forced_method_not_cached),
  };
  int failed;

  test_skip_program_without_named_qemu ();
  test_adopt_orphans ();
  cache_dir = test_make_tmpdir ();
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (cache_dir);
  g_free (cache_dir);
  return failed;
}
