/* tests/test-libvirt-cli.c — check and expand of libvirt definitions through the CLI, against
 * the real QEMU under tcg and (where /dev/kvm opens) kvm, judged with the libvirt CPU map
 * installed on this host: the -cpu libvirt builds (removed features off, QEMU's
 * spellings), the verdict by the definition's check, and an updated definition that
 * passes check='full' with the same guest. Skips, saying why, without QEMU or the map. */
#include "tests/test-util.h"
#include "probe/libvirt-cpu-map.h"

#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

static char *cache_dir;
static char *domain_dir;          /* not the case's TMPDIR, which must stay empty */
static LibvirtCpuMap *installed_map;

#define REQUIRE_MAP()                                                                    \
  do { if (installed_map == NULL) {                                                      \
         print_message ("SKIP: no libvirt CPU map at %s (Debian: apt-get install "       \
                        "libvirt0)\n", LIBVIRT_CPU_MAP_DEFAULT_DIR);                     \
         skip (); } } while (0)

static const char *const accels[] = { "tcg", "kvm" };


#define RUN(...) test_run_vcpuprobe (TRUE, "120", (const char *const[]) { __VA_ARGS__, NULL })

/* A domain of @accel ("kvm", or "tcg" written as libvirt's type='qemu') around @cpu, in
 * the case's directory. Newly allocated path. */
static char *
write_domain_on (const char *accel, const char *machine, const char *cpu)
{
  g_autofree char *text = g_strdup_printf (
    "<domain type='%s'>\n  <name>lvjudge</name>\n"
    "  <os><type arch='x86_64' machine='%s'>hvm</type></os>\n  %s\n</domain>\n",
    strcmp (accel, "kvm") == 0 ? "kvm" : "qemu", machine, cpu);
  char *path = g_build_filename (domain_dir, "domain.xml", NULL);
  g_autoptr (GError) error = NULL;

  if (!g_file_set_contents (path, text, -1, &error))
    fail_msg ("%s", error->message);
  return path;
}

static char *
write_domain (const char *accel, const char *cpu)
{
  return write_domain_on (accel, "pc", cpu);
}

/* check|expand FILE --format json under @accel, with exit status @status; the JSON. */
static json_object *
run_json (const char *command, const char *accel, const char *cpu, int status)
{
  g_autofree char *path = write_domain (accel, cpu);
  g_autoptr (TestRun) run = RUN (command, path, "--format", "json");
  json_object *json;

  test_assert_exit (run, status);
  json = test_parse_json (run->out);
  /* The domain file names the accelerator. */
  assert_string_equal (json_object_get_string (test_json_member (
                         test_json_member (json, "qemu", json_type_object), "accel",
                         json_type_string)), accel);
  unlink (path);
  return json;
}

static gboolean
skip_accel (const char *accel)
{
  if (strcmp (accel, "kvm") == 0 && !test_kvm_usable ())
    {
      print_message ("SKIP (kvm part): /dev/kvm cannot be opened read-write\n");
      return TRUE;
    }
  return FALSE;
}

static gboolean
array_has (json_object *array, const char *name)
{
  for (size_t i = 0; i < json_object_array_length (array); i++)
    if (strcmp (json_object_get_string (json_object_array_get_idx (array, i)), name) == 0)
      return TRUE;
  return FALSE;
}

static json_object *
guest_enabled (json_object *json)
{
  return test_json_member (test_json_member (json, "guest", json_type_object), "enabled",
                           json_type_array);
}

static const char *
libvirt_string (json_object *json, const char *key)
{
  return json_object_get_string (test_json_member (
                                   test_json_member (json, "libvirt", json_type_object),
                                   key, json_type_string));
}

static json_object *
libvirt_array (json_object *json, const char *key)
{
  return test_json_member (test_json_member (json, "libvirt", json_type_object), key,
                           json_type_array);
}

static const char *
string_member (json_object *json, const char *key)
{
  return json_object_get_string (test_json_member (json, key, json_type_string));
}

/* EPYC: libvirt marks monitor removed='yes' and passes monitor=off, so a tcg guest, where
 * QEMU's own EPYC keeps monitor (a -cpu string shows it), has none. */
static void
test_epyc_monitor_off (void **state)
{
  REQUIRE_MAP ();
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      json_object *json;

      if (skip_accel (accels[i]))
        continue;
      json = run_json ("expand", accels[i], "<cpu check='full'><model>EPYC</model></cpu>", 0);
      assert_string_equal (libvirt_string (json, "cpu_string"), "EPYC,monitor=off");
      /* Under kvm the line is also started once; under tcg nothing refuses a start. */
      if (strcmp (accels[i], "kvm") == 0)
        {
          const char *start = libvirt_string (json, "start_confirmed");

          assert_true (strcmp (start, "started") == 0 || strcmp (start, "refused") == 0);
          if (strcmp (start, "refused") == 0)
            assert_true (g_str_has_prefix (json_object_get_string (json_object_array_get_idx (
                           json_object_object_get (json, "problems"), 0)),
                           "QEMU exited while starting the CPU: "));
        }
      else
        assert_true (json_object_is_type (json_object_object_get (
                       json_object_object_get (json, "libvirt"), "start_confirmed"),
                       json_type_null));
      assert_false (array_has (guest_enabled (json), "monitor"));
      assert_false (array_has (libvirt_array (json, "missing"), "monitor"));
      assert_string_equal (string_member (json, "rule"), "libvirt-check-full");
      json_object_put (json);
    }

  g_autoptr (TestRun) run = RUN ("expand", "EPYC", "--accel", "tcg", "--format", "json");
  json_object *json;

  test_assert_exit (run, 0);
  json = test_parse_json (run->out);
  assert_true (array_has (guest_enabled (json), "monitor"));
  assert_string_equal (string_member (json, "rule"), "qemu-model");
  assert_true (json_object_is_type (json_object_object_get (json, "libvirt"), json_type_null));
  json_object_put (json);
}

/* Icelake-Server: intel-pt is removed='yes' in libvirt's model, passed as off, so it is
 * never filtered, hence never missing. */
static void
test_icelake_intel_pt_off (void **state)
{
  REQUIRE_MAP ();
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      json_object *json;

      if (skip_accel (accels[i]))
        continue;
      json = run_json ("check", accels[i],
                       "<cpu check='full'><model>Icelake-Server</model></cpu>", 1);
      assert_string_equal (libvirt_string (json, "cpu_string"), "Icelake-Server,intel-pt=off");
      assert_false (array_has (guest_enabled (json), "intel-pt"));
      assert_false (array_has (libvirt_array (json, "missing"), "intel-pt"));
      assert_false (array_has (test_json_member (json_object_object_get (json, "guest"),
                                                 "disabled", json_type_array), "intel-pt"));
      json_object_put (json);
    }
}

/* Every <feature> name of @xml is a name of libvirt's map, in its own spelling. */
static void
assert_libvirt_names_only (const char *xml)
{
  const char *at = xml;
  guint n_features = 0;

  while ((at = strstr (at, "name='")) != NULL)
    {
      g_autofree char *name = NULL;
      const char *end;
      const LibvirtCpuFeature *feature;

      at += strlen ("name='");
      end = strchr (at, '\'');
      assert_non_null (end);
      name = g_strndup (at, end - at);
      feature = libvirt_cpu_map_find_feature (installed_map, name);
      if (feature == NULL || strcmp (feature->name, name) != 0)
        fail_msg ("updated definition names '%s', not a name of libvirt's map", name);
      n_features++;
      at = end;
    }
  assert_true (n_features > 0);
}

/* pclmuldq and lahf_lm go to QEMU as pclmulqdq and lahf-lm, and come back in libvirt's
 * spelling in the verdict and the updated definition. */
static void
test_spellings (void **state)
{
  REQUIRE_MAP ();
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      json_object *json, *updated;
      const char *xml;

      if (skip_accel (accels[i]))
        continue;
      json = run_json ("check", accels[i],
                       "<cpu check='full'><model>Nehalem</model>"
                       "<feature policy='require' name='pclmuldq'/>"
                       "<feature policy='disable' name='lahf_lm'/></cpu>", 1);
      assert_string_equal (libvirt_string (json, "cpu_string"),
                           "Nehalem,pclmulqdq=on,lahf-lm=off");
      assert_false (array_has (guest_enabled (json), "lahf-lm"));
      /* The requested definition is the user's, features by QEMU's canonical names. */
      assert_string_equal (json_object_get_string (json_object_object_get (
                             test_json_member (test_json_member (json, "requested",
                                                                 json_type_object),
                                               "features", json_type_object), "pclmulqdq")),
                           "require");
      updated = test_json_member (json, "xml", json_type_object);
      xml = string_member (updated, "updated");
      assert_non_null (strstr (xml, "<feature policy='disable' name='lahf_lm'/>"));
      assert_null (strstr (xml, "lahf-lm"));
      assert_null (strstr (xml, "pclmulqdq"));
      assert_libvirt_names_only (xml);
      /* Words in the message are libvirt's too. */
      if (json_object_array_length (test_json_member (json, "problems", json_type_array)) > 0)
        assert_null (strstr (json_object_get_string (json_object_array_get_idx (
                               json_object_object_get (json, "problems"), 0)), "pclmulqdq"));
      json_object_put (json);
    }
}

/* One definition, three checks, under tcg where Nehalem is all there: partial compares the
 * host-model CPU before start and passes, full finds what QEMU adds (hypervisor), and
 * with no check libvirt does not compare a tcg custom CPU at all. */
static void
test_check_modes (void **state)
{
  static const struct {
    const char *check_attribute;
    int status;
    const char *rule;
    const char *message;
  } cases[] = {
    { " check='partial'", 0, "libvirt-check-partial", NULL },
    { " check='full'", 1, "libvirt-check-full",
      "guest CPU doesn't match specification: extra features: hypervisor" },
    { "", 0, "libvirt-check-none", NULL },
  };

  REQUIRE_MAP ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *cpu = g_strdup_printf ("<cpu%s><model>Nehalem</model></cpu>",
                                              cases[i].check_attribute);
      json_object *json = run_json ("check", "tcg", cpu, cases[i].status);
      json_object *problems = test_json_member (json, "problems", json_type_array);
      json_object *qemu_model = test_json_member (json, "qemu_model", json_type_object);

      assert_string_equal (string_member (json, "rule"), cases[i].rule);
      assert_string_equal (string_member (json, "verdict"), cases[i].status == 0 ? "pass" : "fail");
      if (cases[i].message != NULL)
        {
          assert_int_equal (json_object_array_length (problems), 1);
          assert_string_equal (json_object_get_string (json_object_array_get_idx (problems, 0)),
                               cases[i].message);
        }
      else
        assert_int_equal (json_object_array_length (problems), 0);
      /* QEMU's model rule is kept beside it. */
      test_json_member (qemu_model, "verdict", json_type_string);
      json_object_put (json);
    }
}

/* The updated definition, put back in the domain, passes check='full' with the same guest. */
static void
test_updated_round_trip (void **state)
{
  static const char *const cpus[] = {
    "<cpu check='full'><model>EPYC</model><feature policy='require' name='pclmuldq'/></cpu>",
    ("<cpu check='full'><model>Icelake-Server</model>"
     "<feature policy='disable' name='lahf_lm'/></cpu>"),
    "<cpu check='partial'><model>Nehalem</model></cpu>",
  };

  REQUIRE_MAP ();
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    for (guint j = 0; j < G_N_ELEMENTS (cpus); j++)
      {
        json_object *first, *second;
        const char *updated;

        if (skip_accel (accels[i]))
          break;
        first = run_json ("expand", accels[i], cpus[j], 0);
        updated = string_member (test_json_member (first, "xml", json_type_object), "updated");
        assert_libvirt_names_only (updated);
        assert_null (strstr (updated, "kvmclock'"));
        second = run_json ("check", accels[i], updated, 0);
        assert_string_equal (string_member (second, "verdict"), "pass");
        assert_string_equal (string_member (second, "rule"), "libvirt-check-full");
        assert_string_equal (json_object_to_json_string (guest_enabled (first)),
                             json_object_to_json_string (guest_enabled (second)));
        assert_string_equal (json_object_to_json_string (libvirt_array (first, "updated_guest")),
                             json_object_to_json_string (guest_enabled (second)));
        json_object_put (first);
        json_object_put (second);
      }
}

/* libvirt refuses QEMU's versioned names; the updated definition names the model libvirt
 * knows, settled to the guest predicted for the original: on pc-i440fx-2.0 the machine
 * type's compat properties give qemu32 popcnt, which qemu32-v1 lacks, so the update
 * turns it off. */
static void
test_versioned_model_updated (void **state)
{
  REQUIRE_MAP ();
  g_autofree char *path = write_domain_on ("tcg", "pc-i440fx-2.0",
                                           "<cpu><model>qemu32-v1</model></cpu>");
  g_autoptr (TestRun) first = RUN ("check", path, "--format", "json");
  g_autofree char *updated_path = NULL;
  g_autoptr (TestRun) second = NULL;
  json_object *json, *again;
  const char *updated;

  test_assert_exit (first, 1);
  json = test_parse_json (first->out);
  assert_string_equal (json_object_get_string (json_object_array_get_idx (
                         json_object_object_get (json, "problems"), 0)),
                       "Unknown CPU model qemu32-v1");
  updated = string_member (test_json_member (json, "xml", json_type_object), "updated");
  assert_non_null (strstr (updated, "<model fallback='forbid'>qemu32</model>"));
  updated_path = write_domain_on ("tcg", "pc-i440fx-2.0", updated);
  second = RUN ("check", updated_path, "--format", "json");
  test_assert_exit (second, 0);
  again = test_parse_json (second->out);
  assert_string_equal (string_member (again, "verdict"), "pass");
  /* The guest the update was said to give is the one it gives. */
  assert_string_equal (json_object_to_json_string (libvirt_array (json, "updated_guest")),
                       json_object_to_json_string (guest_enabled (again)));
  assert_string_equal (json_object_to_json_string (libvirt_array (json, "updated_guest")),
                       json_object_to_json_string (guest_enabled (json)));
  assert_false (array_has (guest_enabled (json), "popcnt"));
  assert_non_null (strstr (updated, "<feature policy='disable' name='popcnt'/>"));
  json_object_put (json);
  json_object_put (again);
  unlink (path);
}

/* A QEMU model libvirt's map knows in no form (Denverton under libvirt 9.0), or NULL. */
static char *
model_the_map_lacks (void)
{
  g_autoptr (TestRun) run = RUN ("models", "--accel", "tcg", "--format", "json");
  json_object *json, *models;
  char *found = NULL;

  test_assert_exit (run, 0);
  json = test_parse_json (run->out);
  models = test_json_member (json, "models", json_type_array);
  for (size_t i = 0; found == NULL && i < json_object_array_length (models); i++)
    {
      const char *name = string_member (json_object_array_get_idx (models, i), "name");
      g_autofree char *unversioned = g_strdup (name);
      char *suffix = strrchr (unversioned, '-');

      if (suffix != NULL && suffix[1] == 'v' && g_ascii_isdigit (suffix[2]))
        *suffix = '\0';
      if (strcmp (name, "max") != 0 && strcmp (name, "host") != 0 && strcmp (name, "base") != 0
          && libvirt_cpu_map_find_model (installed_map, name) == NULL
          && libvirt_cpu_map_find_model (installed_map, unversioned) == NULL)
        found = g_strdup (name);
    }
  json_object_put (json);
  return found;
}

/* A model libvirt does not know at all: refused, and the updated definition names the
 * map's nearest model, settled so that it gives the original's guest and passes. */
static void
test_unknown_model_updated (void **state)
{
  REQUIRE_MAP ();
  g_autofree char *model = model_the_map_lacks ();
  g_autofree char *cpu = NULL;
  g_autofree char *path = NULL;
  g_autofree char *refused = NULL;
  g_autofree char *updated_path = NULL;
  g_autoptr (TestRun) first = NULL;
  g_autoptr (TestRun) second = NULL;
  json_object *json, *again, *updated_json;
  const char *updated;

  if (model == NULL)
    {
      print_message ("SKIP: libvirt's CPU map knows every model of this QEMU\n");
      skip ();
    }
  cpu = g_strdup_printf ("<cpu><model>%s</model></cpu>", model);
  path = write_domain ("tcg", cpu);
  first = RUN ("check", path, "--format", "json");
  test_assert_exit (first, 1);
  json = test_parse_json (first->out);
  refused = g_strdup_printf ("Unknown CPU model %s", model);
  assert_string_equal (json_object_get_string (json_object_array_get_idx (
                         json_object_object_get (json, "problems"), 0)), refused);
  updated_json = test_json_member (json, "updated", json_type_object);
  assert_non_null (libvirt_cpu_map_find_model (installed_map,
                                               string_member (updated_json, "model")));
  updated = string_member (test_json_member (json, "xml", json_type_object), "updated");
  updated_path = write_domain ("tcg", updated);
  second = RUN ("check", updated_path, "--format", "json");
  test_assert_exit (second, 0);
  again = test_parse_json (second->out);
  assert_string_equal (json_object_to_json_string (guest_enabled (json)),
                       json_object_to_json_string (guest_enabled (again)));
  assert_string_equal (json_object_to_json_string (libvirt_array (json, "updated_guest")),
                       json_object_to_json_string (guest_enabled (again)));
  json_object_put (json);
  json_object_put (again);
  unlink (path);
  unlink (updated_path);
}

/* A -cpu string keeps QEMU's meaning, and QEMU's way with repeats: "+X,-X" leaves X off. */
static void
test_cpu_string_repeats (void **state)
{
  g_autoptr (TestRun) run = RUN ("check", "qemu64,+sse4.1,-sse4.1,popcnt=on,popcnt=off",
                                 "--accel", "tcg", "--format", "json");
  json_object *json, *features;

  test_assert_exit (run, 0);
  json = test_parse_json (run->out);
  assert_false (array_has (guest_enabled (json), "sse4.1"));
  assert_false (array_has (guest_enabled (json), "popcnt"));
  features = test_json_member (test_json_member (json, "requested", json_type_object), "features",
                               json_type_object);
  assert_string_equal (json_object_get_string (json_object_object_get (features, "sse4.1")),
                       "disable");
  assert_string_equal (string_member (json, "rule"), "qemu-model");
  json_object_put (json);
}

/* A --cpu-map that cannot be read is bad input: one line, exit 2, no QEMU started. */
static void
test_bad_cpu_map (void **state)
{
  g_autofree char *path = write_domain ("tcg", "<cpu><model>Nehalem</model></cpu>");
  g_autofree char *missing = g_build_filename (domain_dir, "no-such-map", NULL);
  g_autoptr (TestRun) run = RUN ("check", path, "--cpu-map", missing);

  test_assert_exit (run, 2);
  test_assert_one_error_line (run, missing);
  unlink (path);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_epyc_monitor_off),
    TEST_CASE_IN_TMPDIR (test_icelake_intel_pt_off),
    TEST_CASE_IN_TMPDIR (test_spellings),
    TEST_CASE_IN_TMPDIR (test_check_modes),
    TEST_CASE_IN_TMPDIR (test_updated_round_trip),
    TEST_CASE_IN_TMPDIR (test_versioned_model_updated),
    TEST_CASE_IN_TMPDIR (test_unknown_model_updated),
    TEST_CASE_IN_TMPDIR (test_cpu_string_repeats),
    TEST_CASE_IN_TMPDIR (test_bad_cpu_map),
  };
  g_autoptr (GError) error = NULL;
  int failed;

  test_skip_program_without_named_qemu ();
  installed_map = libvirt_cpu_map_load (LIBVIRT_CPU_MAP_DEFAULT_DIR, &error);
  test_adopt_orphans ();
  cache_dir = test_make_tmpdir ();
  domain_dir = test_make_tmpdir ();
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (cache_dir);
  g_free (cache_dir);
  test_rmdir_r (domain_dir);
  g_free (domain_dir);
  libvirt_cpu_map_free (installed_map);
  return failed;
}
