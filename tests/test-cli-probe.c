/* tests/test-cli-probe.c — the commands that probe QEMU (host, models, expand, check) as
 * scripts see them, against the real QEMU: every format parses and carries the keys
 * DESIGN.md §4 and the README promise, exit statuses, a recording replays to the same
 * answer, and no QEMU or temporary file outlives a run. */
#include "tests/test-util.h"

#include <string.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include "x86/feature-table.h"

/* A cache of this program's own, so no earlier run's cache answers for QEMU. */
static char *cache_dir;


#define RUN(...) test_run_vcpuprobe (TRUE, "120", (const char *const[]) { __VA_ARGS__, NULL })

/* ---- XML: well-formed by GMarkup, with the expected root ---- */

typedef struct {
  char *root;
  guint depth;
  guint roots;
} XmlShape;

static void
xml_start (GMarkupParseContext *context, const char *element, const char **names,
           const char **values, gpointer user_data, GError **error)
{
  XmlShape *shape = user_data;

  if (shape->depth++ == 0)
    {
      shape->roots++;
      g_free (shape->root);
      shape->root = g_strdup (element);
    }
}

static void
xml_end (GMarkupParseContext *context, const char *element, gpointer user_data, GError **error)
{
  XmlShape *shape = user_data;

  shape->depth--;
}

static void
assert_xml (const char *text, const char *root)
{
  static const GMarkupParser parser = { xml_start, xml_end, NULL, NULL, NULL };
  XmlShape shape = { NULL, 0, 0 };
  g_autoptr (GError) error = NULL;
  GMarkupParseContext *context = g_markup_parse_context_new (&parser, 0, &shape, NULL);
  gboolean parsed = g_markup_parse_context_parse (context, text, -1, &error)
                    && g_markup_parse_context_end_parse (context, &error);

  g_markup_parse_context_free (context);
  if (!parsed)
    fail_msg ("not well-formed XML (%s): %.2000s", error->message, text);
  if (shape.roots != 1 || g_strcmp0 (shape.root, root) != 0)
    fail_msg ("expected one <%s> element, got %u roots, the last <%s>", root, shape.roots,
              shape.root);
  g_free (shape.root);
}

/* ---- the keys of each command's JSON ---- */

static void
assert_model_entry (json_object *model, gboolean usable_per_accel)
{
  test_json_member (model, "name", json_type_string);
  if (usable_per_accel)
    {
      test_json_member (model, "usable", json_type_object);
      test_json_member (model, "blockers", json_type_object);
    }
  else
    {
      json_object *blockers = test_json_member (model, "blockers", json_type_array);

      test_json_member (model, "usable", json_type_null);
      for (size_t i = 0; i < json_object_array_length (blockers); i++)
        {
          test_json_member (json_object_array_get_idx (blockers, i), "feature", json_type_string);
          test_json_member (json_object_array_get_idx (blockers, i), "layer", json_type_string);
        }
    }
  test_json_member (model, "alias_of", json_type_null);
  test_json_member (model, "deprecated", json_type_null);
  test_json_member (model, "migration_safe", json_type_null);
}

static void
assert_host_model (json_object *model)
{
  if (!json_object_get_boolean (test_json_member (model, "known", json_type_boolean)))
    fail_msg ("a host model QEMU did not answer: %s", json_object_to_json_string (model));
  test_json_member (model, "migratable", json_type_array);
  test_json_member (model, "enabled", json_type_array);
  test_json_member (model, "non_migratable", json_type_array);
}

static void
assert_host_json (const char *text)
{
  json_object *root = test_parse_json (text);
  json_object *qemu = test_json_member (root, "qemu", json_type_object);
  json_object *accels = test_json_member (qemu, "accels", json_type_object);
  json_object *features = test_json_member (root, "features", json_type_object);
  json_object *models = test_json_member (root, "models", json_type_array);
  json_object *fpu;

  test_json_member (root, "host", json_type_object);
  test_json_member (test_json_member (root, "kvm", json_type_object), "available", json_type_boolean);
  test_json_member (qemu, "version", json_type_string);
  test_json_member (qemu, "package", json_type_string);
  test_json_member (qemu, "binary", json_type_string);
  test_json_member (test_json_member (accels, "tcg", json_type_object), "usable", json_type_boolean);
  if (test_kvm_usable ())
    assert_host_model (test_json_member (qemu, "host_model", json_type_object));
  assert_host_model (test_json_member (qemu, "max_model", json_type_object));
  fpu = test_json_member (features, "fpu", json_type_object);
  assert_string_equal (json_object_get_string (test_json_member (fpu, "hardware", json_type_string)), "all");
  test_json_member (fpu, "kvm", json_type_null);
  test_json_member (fpu, "qemu_host", json_type_null);
  assert_true (json_object_get_boolean (test_json_member (fpu, "qemu_max", json_type_boolean)));
  assert_true (json_object_array_length (models) > 0);
  for (size_t i = 0; i < json_object_array_length (models); i++)
    assert_model_entry (json_object_array_get_idx (models, i), TRUE);
  json_object_put (root);
}

static void
assert_models_json (const char *text, const char *accel)
{
  json_object *root = test_parse_json (text);
  json_object *models = test_json_member (root, "models", json_type_array);

  assert_string_equal (json_object_get_string (test_json_member (root, "accel", json_type_string)), accel);
  assert_true (json_object_array_length (models) > 0);
  for (size_t i = 0; i < json_object_array_length (models); i++)
    assert_model_entry (json_object_array_get_idx (models, i), FALSE);
  json_object_put (root);
}

static void
assert_changes (json_object *changes)
{
  for (size_t i = 0; i < json_object_array_length (changes); i++)
    {
      test_json_member (json_object_array_get_idx (changes, i), "feature", json_type_string);
      test_json_member (json_object_array_get_idx (changes, i), "reason", json_type_string);
    }
}

/* DESIGN.md §4's keys of check and expand; returns the verdict. */
static char *
assert_probe_json (const char *text, const char *model)
{
  json_object *root = test_parse_json (text);
  json_object *qemu = test_json_member (root, "qemu", json_type_object);
  json_object *requested = test_json_member (root, "requested", json_type_object);
  json_object *guest = test_json_member (root, "guest", json_type_object);
  json_object *xml = test_json_member (root, "xml", json_type_object);
  char *verdict;

  for (guint i = 0; i < 5; i++)
    test_json_member (qemu, (const char *[]) { "binary", "version", "package", "accel", "machine" }[i],
            i == 0 ? json_type_null : json_type_string);
  test_json_member (root, "method", json_type_string);
  assert_string_equal (json_object_get_string (test_json_member (requested, "model", json_type_string)), model);
  test_json_member (requested, "features", json_type_object);
  test_json_member (guest, "model", json_type_string);
  test_json_member (guest, "enabled", json_type_array);
  test_json_member (guest, "disabled", json_type_array);
  assert_changes (test_json_member (root, "added", json_type_array));
  assert_changes (test_json_member (root, "removed", json_type_array));
  test_json_member (root, "problems", json_type_array);
  test_json_member (test_json_member (root, "updated", json_type_object), "model", json_type_string);
  test_json_member (test_json_member (root, "updated", json_type_object), "features", json_type_object);
  assert_xml (json_object_get_string (test_json_member (xml, "original", json_type_string)), "cpu");
  assert_xml (json_object_get_string (test_json_member (xml, "updated", json_type_string)), "cpu");
  verdict = g_strdup (json_object_get_string (test_json_member (root, "verdict", json_type_string)));
  json_object_put (root);
  return verdict;
}

/* ---- formats ---- */

static void
test_host_formats (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) text = RUN ("host", "--no-cache");
  g_autoptr (TestRun) json = RUN ("host", "--format", "json");
  g_autoptr (TestRun) xml = RUN ("--format=xml", "host");

  test_assert_exit (text, 0);
  assert_true (g_str_has_prefix (text->out, "Host CPU\n"));
  assert_non_null (strstr (text->out, "\nLayers per feature "));
  test_assert_exit (json, 0);
  assert_host_json (json->out);
  test_assert_exit (xml, 0);
  assert_xml (xml->out, "domainCapabilities");
}

static void
test_models_formats (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) text = RUN ("models", "--accel", "tcg");
  g_autoptr (TestRun) json = RUN ("models", "--accel", "tcg", "--format", "json");
  g_autoptr (TestRun) xml = RUN ("models", "--accel", "tcg", "--format", "xml");

  test_assert_exit (text, 0);
  assert_true (g_str_has_prefix (text->out, "Named models under tcg "));
  assert_non_null (strstr (text->out, "\n  qemu64 "));
  test_assert_exit (json, 0);
  assert_models_json (json->out, "tcg");
  test_assert_exit (xml, 0);
  assert_xml (xml->out, "mode");
  /* A model with a canonical name carries it as an attribute, not as escaped text. */
  assert_non_null (strstr (xml->out, " canonical='qemu64-v1'"));
}

static void
test_expand_check_formats (void **state)
{
  TEST_REQUIRE_QEMU ();
  static const char *const commands[] = { "expand", "check" };

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr (TestRun) text = RUN (commands[i], "Haswell", "--accel", "tcg");
      g_autoptr (TestRun) json = RUN (commands[i], "Haswell", "--accel", "tcg", "--format", "json");
      g_autoptr (TestRun) xml = RUN (commands[i], "Haswell", "--accel", "tcg", "--format", "xml");
      g_autofree char *verdict = NULL;
      int status = i == 1 ? 1 : 0;   /* tcg lacks some of Haswell: only check says so by exit */

      print_message ("%s Haswell --accel tcg\n", commands[i]);
      test_assert_exit (text, status);
      /* Where QEMU, accelerator and machine type came from, then the QEMU line. */
      assert_true (g_str_has_prefix (text->out, "Sources: QEMU from option, accel from option,"
                                                " machine from default\nQEMU "));
      assert_non_null (strstr (text->out, "\nUpdated definition (-cpu "));
      test_assert_exit (json, status);
      verdict = assert_probe_json (json->out, "Haswell");
      assert_string_equal (verdict, "fail");
      test_assert_exit (xml, status);
      assert_xml (xml->out, "cpu");
    }
}

/* ---- exit statuses ---- */

static void
test_check_exit_statuses (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autoptr (TestRun) pass = RUN ("check", "pentium3", "--accel", "tcg", "--format", "json");
  g_autoptr (TestRun) bad_cpu = RUN ("check", "Pentium9000", "--accel", "tcg");
  g_autoptr (TestRun) bad_feature = RUN ("check", "qemu64,+no-such-feature", "--accel", "tcg");
  g_autoptr (TestRun) not_qemu = NULL;
  g_autofree char *verdict = NULL;

  test_assert_exit (pass, 0);
  verdict = assert_probe_json (pass->out, "pentium3");
  assert_string_equal (verdict, "pass");
  test_assert_exit (bad_cpu, 2);
  test_assert_one_error_line (bad_cpu, NULL);
  assert_non_null (strstr (bad_cpu->err, "Pentium9000"));
  assert_string_equal (bad_cpu->out, "");
  test_assert_exit (bad_feature, 2);
  test_assert_one_error_line (bad_feature, NULL);

  not_qemu = test_run ((const char *const[]) { test_vcpuprobe (), "--qemu", "/bin/false",
                                               "check", "qemu64", NULL }, NULL);
  test_assert_nothing_left ();
  test_assert_exit (not_qemu, 3);
  test_assert_one_error_line (not_qemu, NULL);
  assert_non_null (strstr (not_qemu->err, "/bin/false"));
}

static void
test_check_kvm_mismatch (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  g_autoptr (TestRun) fail = RUN ("check", "Haswell", "--accel", "kvm", "--format", "json");
  g_autofree char *verdict = NULL;

  /* Nested KVM here supports far less than Haswell, as on most hosts a test runs on; a
   * host that does run Haswell whole makes this a pass, which says so. */
  if (fail->status == 0)
    {
      print_message ("SKIP: this host's KVM runs Haswell whole: no mismatch to check\n");
      skip ();
    }
  test_assert_exit (fail, 1);
  verdict = assert_probe_json (fail->out, "Haswell");
  assert_string_equal (verdict, "fail");
}

/* A QEMU that answers under no accelerator is a failure of host and models too, not an
 * empty report a script could take for an answer. */
static void
test_host_models_not_qemu (void **state)
{
  static const char *const commands[] = { "host", "models" };

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autoptr (TestRun) run = test_run ((const char *const[]) { test_vcpuprobe (), "--qemu",
                                                                  "/bin/false", "--no-cache",
                                                                  commands[i], NULL }, NULL);
      test_assert_nothing_left ();
      test_assert_exit (run, 3);
      test_assert_one_error_line (run, NULL);
      assert_non_null (strstr (run->err, "/bin/false"));
      assert_string_equal (run->out, "");
    }
}

/* ---- record, then replay ---- */

/* The members that name where the answer came from (the QEMU or the recording, the cache
 * or the replay), set to null: everything else must be the same. */
static void
drop_source_members (json_object *value)
{
  if (json_object_is_type (value, json_type_array))
    for (size_t i = 0; i < json_object_array_length (value); i++)
      drop_source_members (json_object_array_get_idx (value, i));
  if (!json_object_is_type (value, json_type_object))
    return;
  json_object_object_foreach (value, key, child)
    {
      if (strcmp (key, "binary") == 0 || strcmp (key, "cache") == 0)
        json_object_object_add (value, key, NULL);
      else
        drop_source_members (child);
    }
}

static void
assert_replay_answers_alike (const char *const *command, const char *name)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *recording = g_strconcat (dir, "/", name, ".replies", NULL);
  g_autofree char *dump = g_build_filename (dir, "host.cpuid", NULL);
  g_autoptr (GPtrArray) live_args = g_ptr_array_new ();
  g_autoptr (GPtrArray) replay_args = g_ptr_array_new ();
  g_autoptr (TestRun) cpuid = RUN ("cpuid");
  g_autoptr (TestRun) live = NULL;
  g_autoptr (TestRun) replayed = NULL;
  json_object *live_json;
  json_object *replayed_json;
  json_object *replay;
  json_object *kvm;

  /* A replay reads no local KVM (the recording may come from anywhere); a dump of this
   * host's CPUID gives both runs the same layers. */
  test_assert_exit (cpuid, 0);
  assert_true (g_file_set_contents (dump, cpuid->out, -1, NULL));
  g_ptr_array_add (replay_args, (gpointer) test_vcpuprobe ());
  for (guint i = 0; command[i] != NULL; i++)
    {
      g_ptr_array_add (live_args, (gpointer) command[i]);
      g_ptr_array_add (replay_args, (gpointer) command[i]);
    }
  g_ptr_array_add (live_args, "--record");
  g_ptr_array_add (live_args, recording);
  g_ptr_array_add (replay_args, "--replay");
  g_ptr_array_add (replay_args, recording);
  g_ptr_array_add (live_args, "--cpuid-dump");
  g_ptr_array_add (replay_args, "--cpuid-dump");
  g_ptr_array_add (live_args, dump);
  g_ptr_array_add (replay_args, dump);
  g_ptr_array_add (live_args, NULL);
  g_ptr_array_add (replay_args, NULL);

  print_message ("%s\n", name);
  live = test_run_vcpuprobe (TRUE, "120", (const char *const *) live_args->pdata);
  if (live->status != 0 && live->status != 1)
    fail_msg ("%s: live run exit %d: %s", name, live->status, live->err);
  assert_true (g_file_test (recording, G_FILE_TEST_IS_REGULAR));
  /* Strict: a replay that needs a command the recording lacks fails rather than guesses. */
  g_setenv ("VCPUPROBE_REPLAY_STRICT", "1", TRUE);
  replayed = test_run ((const char *const *) replay_args->pdata, NULL);
  g_unsetenv ("VCPUPROBE_REPLAY_STRICT");
  test_assert_nothing_left ();
  test_assert_exit (replayed, live->status);
  live_json = test_parse_json (live->out);
  replayed_json = test_parse_json (replayed->out);
  /* Only the replay names its recording, and (host) says KVM went unread for that reason. */
  assert_false (json_object_object_get_ex (live_json, "replay", NULL));
  replay = test_json_member (replayed_json, "replay", json_type_object);
  assert_string_equal (json_object_get_string (test_json_member (replay, "file", json_type_string)),
                       recording);
  assert_false (json_object_get_boolean (test_json_member (replay, "shape_matched", json_type_boolean)));
  json_object_object_del (replayed_json, "replay");
  if (json_object_object_get_ex (replayed_json, "kvm", &kvm))
    {
      g_autofree char *not_read = g_strdup_printf ("not read (replayed from %s)", recording);

      assert_string_equal (json_object_get_string (test_json_member (kvm, "reason", json_type_string)),
                           not_read);
      json_object_object_del (kvm, "reason");
      json_object_object_del (test_json_member (live_json, "kvm", json_type_object), "reason");
    }
  drop_source_members (live_json);
  drop_source_members (replayed_json);
  if (!json_object_equal (live_json, replayed_json))
    fail_msg ("%s: the replay answers differently:\n%s\nlive:\n%s", name, replayed->out, live->out);
  json_object_put (live_json);
  json_object_put (replayed_json);
  test_rmdir_r (dir);
}

static void
test_record_replay (void **state)
{
  TEST_REQUIRE_QEMU ();
  assert_replay_answers_alike ((const char *const[]) { "--format", "json", "host", NULL }, "host");
  assert_replay_answers_alike ((const char *const[]) { "--format", "json", "models", NULL },
                               "models");
  assert_replay_answers_alike ((const char *const[]) { "--format", "json", "--accel", "tcg",
                                                       "expand", "Nehalem", NULL }, "expand");
  /* Under tcg: a replay of a kvm probe names no KVM reason, as the recorded host's KVM
   * is not known, where the live run reads this one's. */
  assert_replay_answers_alike ((const char *const[]) { "--format", "json", "--accel", "tcg",
                                                       "check", "Haswell,+x2apic", NULL }, "check");
  assert_replay_answers_alike ((const char *const[]) { "--format", "json", "--accel", "tcg",
                                                       "--method", "post-start", "check",
                                                       "pentium3", NULL }, "check-post-start");
}

/* ---- models --probe-old on a QEMU that also answers query-cpu-definitions ---- */

static GHashTable *
models_by_name (json_object *document)
{
  GHashTable *by_name = g_hash_table_new (g_str_hash, g_str_equal);
  json_object *models = test_json_member (document, "models", json_type_array);

  for (size_t i = 0; i < json_object_array_length (models); i++)
    {
      json_object *model = json_object_array_get_idx (models, i);

      g_hash_table_insert (by_name, (gpointer) json_object_get_string (test_json_member (model, "name",
                                                                                json_type_string)),
                           model);
    }
  return by_name;
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The blockers a post-start probe can see: feature-words hold CPUID words only, so a
 * feature of an MSR word (arch-capabilities' taa-no, ...) is QEMU's unavailable-features
 * alone. QEMU also lists one feature several times (mpx): a set, sorted. */
static char *
cpuid_blockers (json_object *model)
{
  json_object *blockers = test_json_member (model, "blockers", json_type_array);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GString) joined = g_string_new (NULL);

  for (size_t i = 0; i < json_object_array_length (blockers); i++)
    {
      const char *name = json_object_get_string (test_json_member (json_object_array_get_idx (blockers, i),
                                                         "feature", json_type_string));
      const X86Feature *feature = x86_feature_lookup (name);

      if (feature != NULL && x86_feature_words (NULL)[feature->word].kind != X86_WORD_CPUID)
        continue;
      if (!g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL))
        g_ptr_array_add (names, (gpointer) name);
    }
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (joined, "%s ", (char *) g_ptr_array_index (names, i));
  return g_strdup (joined->str);
}

/* The model a failed post-start listing (@probed) stopped at, when QEMU itself cannot start
 * it here at all: why not (newly allocated), else NULL. The error names the model. */
static char *
unstartable_model (GHashTable *listed_models, const TestRun *probed, const char *accel)
{
  GHashTableIter iter;
  gpointer name;

  g_hash_table_iter_init (&iter, listed_models);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    {
      g_autofree char *named = g_strdup_printf (" %s: ", (char *) name);

      if (strstr (probed->err, named) != NULL)
        {
          char *why = test_qemu_start_failure (accel, name);

          if (why != NULL)
            return why;
        }
    }
  return NULL;
}

/* On a QEMU >= 2.9 both answers exist: --method post-start --probe-old starts every model
 * paused and must find what query-cpu-definitions says, model by model. Returns why the
 * comparison cannot be made here (a model QEMU cannot start, so that it has no vCPU to
 * compare with), or NULL when it was made. */
static char *
compare_probe_old (void)
{
  const char *accel = test_kvm_usable () ? "kvm" : "tcg";
  g_autoptr (TestRun) listed = RUN ("models", "--accel", accel, "--format", "json");
  g_autoptr (TestRun) probed = RUN ("models", "--accel", accel, "--format", "json",
                                    "--method", "post-start", "--probe-old");
  g_autoptr (TestRun) probed_text = NULL;
  g_autoptr (GHashTable) listed_models = NULL;
  g_autoptr (GHashTable) probed_models = NULL;
  json_object *listed_json;
  json_object *probed_json;
  GHashTableIter iter;
  gpointer name, model;
  guint n_unusable = 0;

  test_assert_exit (listed, 0);
  listed_json = test_parse_json (listed->out);
  listed_models = models_by_name (listed_json);
  if (probed->status != 0)
    {
      char *why = unstartable_model (listed_models, probed, accel);

      if (why != NULL)
        {
          g_clear_pointer (&listed_models, g_hash_table_unref);
          json_object_put (listed_json);
          return why;
        }
    }
  test_assert_exit (probed, 0);
  probed_json = test_parse_json (probed->out);
  probed_models = models_by_name (probed_json);
  assert_int_equal (g_hash_table_size (probed_models), g_hash_table_size (listed_models));
  g_hash_table_iter_init (&iter, listed_models);
  while (g_hash_table_iter_next (&iter, &name, &model))
    {
      json_object *other = g_hash_table_lookup (probed_models, name);
      g_autofree char *listed_blockers = NULL;
      g_autofree char *probed_blockers = NULL;

      if (other == NULL)
        fail_msg ("%s: not in the post-start list", (char *) name);
      /* QEMU cannot start it here at all: no vCPU to compare ("refused" says why). */
      if (json_object_object_get_ex (other, "refused", NULL))
        continue;
      listed_blockers = cpuid_blockers (model);
      probed_blockers = cpuid_blockers (other);
      if (json_object_get_boolean (test_json_member (model, "usable", json_type_boolean))
          != json_object_get_boolean (test_json_member (other, "usable", json_type_boolean))
          || strcmp (listed_blockers, probed_blockers) != 0)
        fail_msg ("%s under %s: query-cpu-definitions blocks [%s], post-start [%s]",
                  (char *) name, accel, listed_blockers, probed_blockers);
      n_unusable += !json_object_get_boolean (test_json_member (model, "usable", json_type_boolean));
    }
  /* Else the comparison proved nothing about blockers. */
  assert_true (n_unusable > 0);
  json_object_put (listed_json);
  json_object_put (probed_json);

  /* Without --method only what QEMU left unknown is probed: nothing on this QEMU. */
  probed_text = RUN ("models", "--accel", accel, "--probe-old");
  test_assert_exit (probed_text, 0);
  assert_null (strstr (probed_text->out, "post-start"));
  return NULL;
}

static void
test_models_probe_old_agrees (void **state)
{
  g_autofree char *why = NULL;

  TEST_REQUIRE_QEMU ();
  why = compare_probe_old ();
  if (why != NULL)
    {
      print_message ("SKIP: the post-start listing stops at a model QEMU cannot start: %s\n", why);
      g_clear_pointer (&why, g_free);
      skip ();
    }
}

/* ---- a dump that carries its host's KVM ---- */

/* The reason @removed (check's "removed" array) gives for @feature, or NULL. */
static const char *
removal_reason (json_object *removed, const char *feature)
{
  for (size_t i = 0; i < json_object_array_length (removed); i++)
    {
      json_object *change = json_object_array_get_idx (removed, i);

      if (strcmp (json_object_get_string (test_json_member (change, "feature", json_type_string)),
                  feature) == 0)
        return json_object_get_string (test_json_member (change, "reason", json_type_string));
    }
  return NULL;
}

/* vcpuprobe ARGS... without --qemu, which a replay refuses; then the leak checks. */
static TestRun *
run_replay (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  TestRun *run;

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  run = test_run ((const char *const *) argv->pdata, NULL);
  test_assert_nothing_left ();
  return run;
}

#define RUN_REPLAY(...) run_replay ((const char *const[]) { __VA_ARGS__, NULL })

/* `cpuid --format json` captures this host's KVM beside its CPUID, so a replay with that
 * dump explains KVM's removals as the live run does, where a text dump leaves them unknown. */
static void
test_dump_supplies_kvm (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *dump = g_build_filename (dir, "host.cpuid", NULL);
  g_autofree char *check_recording = g_build_filename (dir, "check.replies", NULL);
  g_autofree char *host_recording = g_build_filename (dir, "host.replies", NULL);
  g_autofree char *from_dump = g_strdup_printf ("from the dump %s", dump);
  g_autoptr (TestRun) cpuid = RUN ("cpuid", "--format", "json");
  g_autoptr (TestRun) live = NULL;
  g_autoptr (TestRun) replayed = NULL;
  g_autoptr (TestRun) host_live = NULL;
  g_autoptr (TestRun) host_replayed = NULL;
  g_autoptr (GHashTable) dump_supported = g_hash_table_new (g_str_hash, g_str_equal);
  json_object *captured, *live_json, *replayed_json, *host_json, *kvm, *features;
  json_object *captured_supported;
  guint supported = 0;

  test_assert_exit (cpuid, 0);
  assert_true (g_file_set_contents (dump, cpuid->out, -1, NULL));
  captured = test_parse_json (cpuid->out);
  assert_true (json_object_get_boolean (test_json_member (test_json_member (captured, "kvm", json_type_object),
                                                "available", json_type_boolean)));

  live = RUN ("--format", "json", "check", "Haswell", "--accel", "kvm",
              "--record", check_recording);
  live_json = test_parse_json (live->out);
  if (g_strcmp0 (removal_reason (test_json_member (live_json, "removed", json_type_array), "avx2"),
                 "kvm") != 0)
    {
      json_object_put (live_json);
      json_object_put (captured);
      test_rmdir_r (dir);
      print_message ("SKIP: this host's KVM does not remove avx2 from Haswell\n");
      skip ();
    }
  test_assert_exit (live, 1);
  replayed = RUN_REPLAY ("--format", "json", "check", "Haswell", "--accel", "kvm",
                         "--replay", check_recording, "--cpuid-dump", dump);
  test_assert_exit (replayed, 1);
  replayed_json = test_parse_json (replayed->out);
  assert_string_equal (removal_reason (test_json_member (replayed_json, "removed", json_type_array), "avx2"),
                       "kvm");
  assert_string_equal (json_object_get_string (test_json_member (test_json_member (replayed_json, "layers",
                                                               json_type_object),
                                                       "kvm", json_type_string)),
                       from_dump);

  host_live = RUN ("--format", "json", "host", "--record", host_recording);
  test_assert_exit (host_live, 0);
  host_replayed = RUN_REPLAY ("--format", "json", "host", "--replay", host_recording,
                              "--cpuid-dump", dump);
  test_assert_exit (host_replayed, 0);
  host_json = test_parse_json (host_replayed->out);
  kvm = test_json_member (host_json, "kvm", json_type_object);
  assert_true (json_object_get_boolean (test_json_member (kvm, "available", json_type_boolean)));
  assert_string_equal (json_object_get_string (test_json_member (kvm, "source", json_type_string)),
                       from_dump);
  /* Every feature the dump's KVM supports is "supported" in the kvm layer, and no other. */
  captured_supported = test_json_member (test_json_member (captured, "kvm", json_type_object), "supported",
                               json_type_array);
  for (size_t i = 0; i < json_object_array_length (captured_supported); i++)
    {
      json_object *name = json_object_array_get_idx (captured_supported, i);

      g_hash_table_add (dump_supported, (gpointer) json_object_get_string (name));
    }
  features = test_json_member (host_json, "features", json_type_object);
  json_object_object_foreach (features, name, layers)
    {
      const char *layer = json_object_get_string (test_json_member (layers, "kvm", json_type_string));

      if (strcmp (layer, "supported") == 0 && !g_hash_table_contains (dump_supported, name))
        fail_msg ("%s: supported in the kvm layer, not by the dump's KVM", name);
      if (strcmp (layer, "supported") == 0)
        supported++;
    }
  assert_int_equal (supported, g_hash_table_size (dump_supported));
  json_object_put (host_json);
  json_object_put (replayed_json);
  json_object_put (live_json);
  json_object_put (captured);
  test_rmdir_r (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_host_formats),
    TEST_CASE_IN_TMPDIR (test_models_formats),
    TEST_CASE_IN_TMPDIR (test_expand_check_formats),
    TEST_CASE_IN_TMPDIR (test_check_exit_statuses),
    TEST_CASE_IN_TMPDIR (test_check_kvm_mismatch),
    TEST_CASE_IN_TMPDIR (test_host_models_not_qemu),
    TEST_CASE_IN_TMPDIR (test_record_replay),
    TEST_CASE_IN_TMPDIR (test_dump_supplies_kvm),
    TEST_CASE_IN_TMPDIR (test_models_probe_old_agrees),
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
