/* tests/test-libvirt-domain.c — a domain XML read as libvirt reads it, through the CLI and
 * against the real QEMU: its type gives the accelerator (qemu = tcg), <os><type machine>
 * the machine type (an alias resolved by QEMU), <devices><emulator> the QEMU; options
 * still win, and every output says where each came from. libvirt's own CPU modes:
 * host-model probed as the custom CPU libvirt makes of it, host-passthrough refused for
 * a qemu (TCG) domain. */
#include "tests/test-util.h"

#include <string.h>
#include <json-c/json.h>
#include "probe/cpu-def.h"

/* A cache of this program's own, so no earlier run's cache answers for QEMU; the domain
 * files beside it, since each case's TMPDIR must end empty. */
static char *cache_dir;
static char *domain_dir;

/* A domain of @type on @machine (NULL: no machine attribute) with @cpu, run by @emulator
 * (NULL: no <emulator>), written into domain_dir. Newly allocated path. */
static char *
write_domain (const char *type, const char *machine, const char *cpu, const char *emulator)
{
  g_autofree char *machine_attribute
    = machine != NULL ? g_strdup_printf (" machine='%s'", machine) : g_strdup ("");
  g_autofree char *devices
    = emulator != NULL ? g_strdup_printf ("  <devices><emulator>%s</emulator></devices>\n", emulator)
                       : g_strdup ("");
  g_autofree char *xml = g_strdup_printf ("<domain type='%s'>\n"
                                          "  <name>guest</name>\n"
                                          "  <os><type arch='x86_64'%s>hvm</type></os>\n"
                                          "  %s\n"
                                          "%s"
                                          "</domain>\n",
                                          type, machine_attribute, cpu, devices);
  char *path = g_build_filename (domain_dir, "domain.xml", NULL);

  g_assert_true (g_file_set_contents (path, xml, -1, NULL));
  return path;
}


#define RUN(...) test_run_vcpuprobe (FALSE, "120", (const char *const[]) { __VA_ARGS__, NULL })

static const char *
member_string (json_object *object, const char *key)
{
  return json_object_get_string (test_json_member (object, key, json_type_string));
}

/* The guest's features of a check or expand document, as one space-separated string. */
static char *
guest_features (json_object *result)
{
  json_object *enabled = test_json_member (test_json_member (result, "guest", json_type_object),
                                           "enabled", json_type_array);
  g_autoptr (GString) names = g_string_new (NULL);

  for (size_t i = 0; i < json_object_array_length (enabled); i++)
    g_string_append_printf (names, " %s", json_object_get_string (json_object_array_get_idx (enabled, i)));
  return g_string_free (g_steal_pointer (&names), FALSE);
}

static void
assert_sources (json_object *result, const char *binary, const char *accel, const char *machine)
{
  json_object *sources = test_json_member (test_json_member (result, "qemu", json_type_object),
                                           "sources", json_type_object);

  assert_string_equal (member_string (sources, "binary"), binary);
  assert_string_equal (member_string (sources, "accel"), accel);
  assert_string_equal (member_string (sources, "machine"), machine);
}

/* The parser takes the guest's accelerator, machine type and emulator from the <domain>
 * that holds the chosen <cpu>, and nothing from elsewhere. */
static void
test_domain_parsed (void **state)
{
  static const char snapshot[] =
    "<domainsnapshot>\n"
    "  <name>s1</name>\n"
    "  <domain type='qemu'>\n"
    "    <os><type arch='x86_64' machine='pc-i440fx-2.4'>hvm</type></os>\n"
    "    <cpu><model>Westmere</model></cpu>\n"
    "    <devices>\n"
    "      <emulator>\n        /usr/bin/qemu-system-x86_64\n      </emulator>\n"
    "    </devices>\n"
    "  </domain>\n"
    "</domainsnapshot>\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def = cpu_def_from_xml (snapshot, -1, "test.xml", &error);

  assert_null (error);
  assert_string_equal (def->domain_accel, "tcg");
  assert_string_equal (def->domain_machine, "pc-i440fx-2.4");
  assert_string_equal (def->domain_emulator, "/usr/bin/qemu-system-x86_64");

  /* A bare <cpu>, or a <domain> without type, machine or emulator, says nothing. */
  g_autoptr (CpuDef) bare = cpu_def_from_xml ("<cpu><model>Westmere</model></cpu>", -1, "test.xml",
                                              &error);
  assert_null (error);
  assert_null (bare->domain_accel);
  assert_null (bare->domain_machine);
  assert_null (bare->domain_emulator);
  g_autoptr (CpuDef) untyped = cpu_def_from_xml ("<domain><os><type machine=''>hvm</type></os>"
                                                 "<cpu><model>Westmere</model></cpu></domain>",
                                                 -1, "test.xml", &error);
  assert_null (error);
  assert_null (untyped->domain_accel);
  assert_null (untyped->domain_machine);

  /* kvm is kvm; a type QEMU does not run is refused where the domain starts. */
  g_autoptr (CpuDef) kvm = cpu_def_from_xml ("<domain type='kvm'><cpu><model>Westmere</model>"
                                             "</cpu></domain>", -1, "test.xml", &error);
  assert_null (error);
  assert_string_equal (kvm->domain_accel, "kvm");
  g_autoptr (CpuDef) xen = cpu_def_from_xml ("<domain type='xen'>\n  <cpu><model>Westmere</model>"
                                             "</cpu>\n</domain>", -1, "test.xml", &error);
  assert_null (xen);
  assert_true (g_error_matches (error, CPU_DEF_ERROR, CPU_DEF_ERROR_INVALID));
  assert_string_equal (error->message,
                       "test.xml:1:1: domain type 'xen' is not one QEMU runs (expected kvm or qemu)");
}

/* type='qemu' on pc-i440fx-1.4 is tcg on pc-i440fx-1.4: the same guest as those options
 * give, feature for feature (arat and vme included), and not the default guest. */
static void
test_domain_type_and_machine (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *path = write_domain ("qemu", "pc-i440fx-1.4",
                                        "<cpu mode='custom' match='exact'><model>Westmere</model></cpu>",
                                        test_qemu_binary ());
  g_autoptr (TestRun) from_domain = RUN ("expand", path, "--format", "json");
  g_autoptr (TestRun) from_options = RUN ("--qemu", test_qemu_binary (), "--accel", "tcg",
                                          "--machine", "pc-i440fx-1.4", "expand", "Westmere",
                                          "--format", "json");
  test_assert_exit (from_domain, 0);
  test_assert_exit (from_options, 0);
  json_object *domain_result = test_parse_json (from_domain->out);
  json_object *options_result = test_parse_json (from_options->out);
  json_object *qemu = test_json_member (domain_result, "qemu", json_type_object);
  g_autofree char *domain_guest = guest_features (domain_result);
  g_autofree char *options_guest = guest_features (options_result);

  assert_string_equal (member_string (qemu, "accel"), "tcg");
  assert_string_equal (member_string (qemu, "machine"), "pc-i440fx-1.4");
  assert_string_equal (member_string (qemu, "binary"), test_qemu_binary ());
  assert_sources (domain_result, "domain", "domain", "domain");
  assert_string_equal (domain_guest, options_guest);
  assert_sources (options_result, "option", "option", "option");
  json_object_put (domain_result);
  json_object_put (options_result);

  /* The text says it too. */
  g_autoptr (TestRun) text = RUN ("check", path);
  assert_true (text->status == 0 || text->status == 1);
  assert_non_null (strstr (text->out, "Sources: QEMU from domain, accel from domain, machine from domain\n"));
  assert_non_null (strstr (text->out, "accel tcg, machine pc-i440fx-1.4"));
}

/* Options win over the domain; what the domain does not say comes from the defaults. */
static void
test_options_override_domain (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *path = write_domain ("qemu", "pc-i440fx-1.4",
                                        "<cpu><model>qemu64</model></cpu>", NULL);
  g_autoptr (TestRun) run = RUN ("--qemu", test_qemu_binary (), "--machine", "pc-i440fx-2.4",
                                 "check", path, "--format", "json");
  assert_true (run->status == 0 || run->status == 1);
  json_object *result = test_parse_json (run->out);
  json_object *qemu = test_json_member (result, "qemu", json_type_object);

  assert_string_equal (member_string (qemu, "machine"), "pc-i440fx-2.4");
  assert_string_equal (member_string (qemu, "accel"), "tcg");
  assert_sources (result, "option", "domain", "option");
  json_object_put (result);

  if (test_kvm_usable ())
    {
      g_autoptr (TestRun) kvm = RUN ("--qemu", test_qemu_binary (), "--accel", "kvm",
                                     "check", path, "--format", "json");
      assert_true (kvm->status == 0 || kvm->status == 1);
      result = test_parse_json (kvm->out);
      assert_string_equal (member_string (test_json_member (result, "qemu", json_type_object),
                                          "accel"), "kvm");
      assert_sources (result, "option", "option", "domain");
      json_object_put (result);
    }
}

/* A recording answers for the accelerator it ran under: replayed, the domain's own type
 * does not override it, and the output says so. */
static void
test_replay_keeps_recorded_accel (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *path = write_domain ("qemu", "pc-i440fx-2.4",
                                        "<cpu><model>qemu64</model></cpu>", test_qemu_binary ());
  g_autofree char *recording = g_build_filename (domain_dir, "domain.replies", NULL);
  g_autoptr (TestRun) recorded = RUN ("--record", recording, "check", path, "--format", "json");
  assert_true (recorded->status == 0 || recorded->status == 1);
  json_object *live = test_parse_json (recorded->out);
  assert_sources (live, "domain", "domain", "domain");

  g_autoptr (TestRun) replayed = RUN ("--replay", recording, "check", path, "--format", "json");
  test_assert_exit (replayed, recorded->status);
  json_object *result = test_parse_json (replayed->out);
  json_object *qemu = test_json_member (result, "qemu", json_type_object);

  assert_sources (result, "option", "recording", "domain");
  assert_string_equal (member_string (qemu, "accel"), "tcg");
  assert_string_equal (member_string (qemu, "machine"), "pc-i440fx-2.4");
  json_object_put (live);
  json_object_put (result);
}

/* An alias of a machine type is resolved by QEMU's query-machines, as libvirt does. */
static void
test_machine_alias_resolved (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *path = write_domain ("qemu", "pc", "<cpu><model>qemu64</model></cpu>",
                                        test_qemu_binary ());
  g_autoptr (TestRun) run = RUN ("expand", path, "--format", "json");
  test_assert_exit (run, 0);
  json_object *result = test_parse_json (run->out);
  const char *machine = member_string (test_json_member (result, "qemu", json_type_object),
                                       "machine");

  assert_true (g_str_has_prefix (machine, "pc-i440fx-"));
  assert_sources (result, "domain", "domain", "domain");
  json_object_put (result);
}

/* A domain QEMU cannot stand for, and an emulator that is no QEMU: one clear line. */
static void
test_domain_refused (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *xen = write_domain ("xen", NULL, "<cpu><model>qemu64</model></cpu>", NULL);
  g_autoptr (TestRun) run = RUN ("check", xen);

  test_assert_exit (run, 2);
  test_assert_one_error_line (run, "domain type 'xen'");

  g_autofree char *missing = write_domain ("qemu", NULL, "<cpu><model>qemu64</model></cpu>",
                                           "/nonexistent/qemu-system-x86_64");
  g_autoptr (TestRun) no_qemu = RUN ("check", missing);
  assert_true (no_qemu->status == 2 || no_qemu->status == 3);
  test_assert_one_error_line (no_qemu, "/nonexistent/qemu-system-x86_64");
}

/* host-model is the custom CPU libvirt makes of the host model: a named model and
 * features, with the definition's own over them; check partial unless said. */
static void
test_host_model_resolved (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *machine = test_qemu_default_machine ();   /* one the QEMU under test has */
  g_autofree char *path = write_domain ("qemu", machine,
                                        "<cpu mode='host-model'>"
                                        "<feature policy='disable' name='sse4.2'/></cpu>",
                                        test_qemu_binary ());
  g_autoptr (TestRun) run = RUN ("expand", path, "--format", "json");
  test_assert_exit (run, 0);
  json_object *result = test_parse_json (run->out);
  json_object *requested = test_json_member (result, "requested", json_type_object);
  json_object *features = test_json_member (requested, "features", json_type_object);
  g_autofree char *guest = guest_features (result);
  g_autofree char *guest_end = g_strconcat (guest, " ", NULL);

  /* The guest is a named model's, less what the definition disables. */
  assert_string_equal (member_string (result, "resolved_from"), "host-model");
  assert_non_null (member_string (test_json_member (result, "guest", json_type_object), "model"));
  assert_string_equal (member_string (features, "sse4.2"), "disable");
  assert_null (strstr (guest_end, " sse4.2 "));
  json_object_put (result);

  g_autoptr (TestRun) text = RUN ("check", path);
  assert_true (text->status == 0 || text->status == 1);
  assert_non_null (strstr (text->out, "CPU mode host-model: probed as the custom CPU libvirt makes of it, "));
}

/* libvirt refuses host-passthrough for a qemu domain before it runs QEMU: check says so as
 * its verdict (exit 1), expand has no guest to show (exit 2); maximum it starts. */
static void
test_passthrough_refused_under_tcg (void **state)
{
  TEST_REQUIRE_QEMU ();
  g_autofree char *passthrough = write_domain ("qemu", NULL, "<cpu mode='host-passthrough'/>",
                                               test_qemu_binary ());
  g_autoptr (TestRun) run = RUN ("check", passthrough, "--format", "json");
  g_autoptr (TestRun) expand = RUN ("expand", passthrough);
  json_object *json;
  json_object *problems;

  test_assert_exit (run, 1);
  json = test_parse_json (run->out);
  assert_string_equal (json_object_get_string (test_json_member (json, "verdict", json_type_string)),
                       "fail");
  assert_string_equal (json_object_get_string (test_json_member (json, "rule", json_type_string)),
                       "libvirt-refuses");
  assert_string_equal (json_object_get_string (test_json_member (json, "accel", json_type_string)),
                       "tcg");
  problems = test_json_member (json, "problems", json_type_array);
  assert_int_equal (json_object_array_length (problems), 1);
  assert_non_null (strstr (json_object_get_string (json_object_array_get_idx (problems, 0)),
                           "host-passthrough"));
  json_object_put (json);
  /* No QEMU was needed to know. */
  assert_int_equal (test_count_children (), 0);

  test_assert_exit (expand, 2);
  test_assert_one_error_line (expand, "host-passthrough");

  g_autofree char *maximum = write_domain ("qemu", NULL, "<cpu mode='maximum'/>", test_qemu_binary ());
  g_autoptr (TestRun) max = RUN ("expand", maximum, "--format", "json");
  test_assert_exit (max, 0);
}

/* A model of libvirt's map that this QEMU lacks: under fallback='forbid' libvirt refuses it
 * before QEMU runs, and so does check; under 'allow' libvirt picks a model of its own, which
 * check does not guess (exit 2, the QEMU named). */
static void
test_model_qemu_lacks (void **state)
{
  TEST_REQUIRE_QEMU ();
  const char *model = "cpu64-rhel6";
  g_autofree char *map_file = g_strdup_printf ("/usr/share/libvirt/cpu_map/x86_%s.xml", model);
  g_autofree char *forbid_cpu = g_strdup_printf ("<cpu mode='custom' match='exact' check='full'>"
                                                 "<model fallback='forbid'>%s</model></cpu>", model);
  g_autofree char *allow_cpu = g_strdup_printf ("<cpu mode='custom' match='exact' check='full'>"
                                                "<model fallback='allow'>%s</model></cpu>", model);
  g_autofree char *forbid = NULL;
  g_autofree char *allow = NULL;
  g_autofree char *expected = g_strdup_printf ("unsupported configuration: CPU model %s is not "
                                               "supported by hypervisor", model);
  g_autoptr (TestRun) refused = NULL;
  g_autoptr (TestRun) unjudged = NULL;
  g_autoptr (TestRun) models = NULL;
  json_object *json;
  const char *models_argv[] = { test_vcpuprobe (), "--accel", "tcg", "qmp", "query-cpu-definitions", NULL };

  if (!g_file_test (map_file, G_FILE_TEST_EXISTS))
    {
      print_message ("SKIP: libvirt's CPU map has no %s here\n", model);
      skip ();
    }
  models = test_run (models_argv, NULL);
  test_assert_exit (models, 0);
  if (strstr (models->out, "\"cpu64-rhel6\"") != NULL)
    {
      print_message ("SKIP: this QEMU has %s\n", model);
      skip ();
    }
  /* One domain file at a time: write_domain() writes the same path. */
  forbid = write_domain ("qemu", NULL, forbid_cpu, test_qemu_binary ());
  refused = RUN ("check", forbid, "--format", "json");
  test_assert_exit (refused, 1);
  json = test_parse_json (refused->out);
  assert_string_equal (json_object_get_string (test_json_member (json, "rule", json_type_string)),
                       "libvirt-refuses");
  assert_string_equal (json_object_get_string (
                         json_object_array_get_idx (test_json_member (json, "problems",
                                                                      json_type_array), 0)),
                       expected);
  json_object_put (json);
  allow = write_domain ("qemu", NULL, allow_cpu, test_qemu_binary ());
  unjudged = RUN ("check", allow);
  test_assert_exit (unjudged, 2);
  test_assert_one_error_line (unjudged, model);
  assert_int_equal (test_count_children (), 0);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_domain_parsed),
    TEST_CASE_IN_TMPDIR (test_domain_type_and_machine),
    TEST_CASE_IN_TMPDIR (test_options_override_domain),
    TEST_CASE_IN_TMPDIR (test_machine_alias_resolved),
    TEST_CASE_IN_TMPDIR (test_replay_keeps_recorded_accel),
    TEST_CASE_IN_TMPDIR (test_domain_refused),
    TEST_CASE_IN_TMPDIR (test_host_model_resolved),
    TEST_CASE_IN_TMPDIR (test_passthrough_refused_under_tcg),
    TEST_CASE_IN_TMPDIR (test_model_qemu_lacks),
  };
  int failed;

  test_skip_program_without_named_qemu ();
  test_adopt_orphans ();
  cache_dir = test_make_tmpdir ();
  domain_dir = test_make_tmpdir ();
  g_setenv ("XDG_CACHE_HOME", cache_dir, TRUE);
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (cache_dir);
  test_rmdir_r (domain_dir);
  g_free (cache_dir);
  g_free (domain_dir);
  return failed;
}
