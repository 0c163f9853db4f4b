/* tests/test-hook.c — `vcpuprobe hook` as libvirt runs it: the domain XML on standard
 * input, the real QEMU behind it.
 *
 * What the hook must do is what `vcpuprobe check --format json` says of the same domain,
 * so the expectations come from the check command on this host, never from a list of
 * what this host supports. One domain is chosen to fail anywhere: a tcg guest that
 * requires vmx, which QEMU's TCG does not emulate. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "test-util.h"

static char *cache_home;   /* XDG_CACHE_HOME of every run: the hook's cache is private */

/* A tcg domain of @check whose CPU names @model and requires @feature (NULL: none). */
static char *
domain_xml (const char *check, const char *model, const char *feature, const char *emulator)
{
  return g_strdup_printf (
    "<domain type='qemu' id='4'>\n"
    "  <name>hooked</name>\n"
    "  <memory unit='KiB'>131072</memory>\n"
    "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
    "  <cpu mode='custom' match='exact' check='%s'>\n"
    "    <model fallback='forbid'>%s</model>\n"
    "%s%s%s"
    "  </cpu>\n"
    "  <devices><emulator>%s</emulator></devices>\n"
    "</domain>\n",
    check, model, feature != NULL ? "    <feature policy='require' name='" : "",
    feature != NULL ? feature : "", feature != NULL ? "'/>\n" : "", emulator);
}

/* Runs `vcpuprobe [GLOBAL...] hook [OPTIONS...] hooked OPERATION SUB -` with @xml. */
static TestRun *
run_hook (const char *const *global, const char *const *options, const char *operation,
          const char *sub_operation, const char *xml)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  for (guint i = 0; global != NULL && global[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) global[i]);
  g_ptr_array_add (argv, "hook");
  for (guint i = 0; options != NULL && options[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) options[i]);
  g_ptr_array_add (argv, "hooked");
  g_ptr_array_add (argv, (gpointer) operation);
  g_ptr_array_add (argv, (gpointer) sub_operation);
  g_ptr_array_add (argv, "-");
  g_ptr_array_add (argv, NULL);
  return test_run ((const char *const *) argv->pdata, xml);
}

/* `vcpuprobe check --format json` of @xml, through a file, as a user would run it. */
static json_object *
check_json (const char *xml)
{
  g_autofree char *path = g_build_filename (cache_home, "domain.xml", NULL);
  const char *argv[] = { test_vcpuprobe (), "check", "--no-cache", "--format", "json", path, NULL };
  g_autoptr (TestRun) run = NULL;

  assert_true (g_file_set_contents (path, xml, -1, NULL));
  run = test_run (argv, NULL);
  if (run->status != 0 && run->status != 1)
    fail_msg ("check exited %d: %s", run->status, run->err);
  return test_parse_json (run->out);
}

static void
assert_silent_pass (const TestRun *run)
{
  test_assert_exit (run, 0);
  assert_string_equal (run->out, "");
  assert_string_equal (run->err, "");
}

/* One line, "vcpuprobe: domain hooked: cannot check its CPU, start allowed|refused...". */
static void
assert_cannot_answer (const TestRun *run, int status, const char *reason_part)
{
  test_assert_exit (run, status);
  assert_string_equal (run->out, "");
  test_assert_one_error_line (run, NULL);
  assert_non_null (strstr (run->err, "domain hooked: cannot check its CPU"));
  assert_non_null (strstr (run->err, status == 0 ? "start allowed" : "start refused"));
  if (reason_part != NULL && strstr (run->err, reason_part) == NULL)
    fail_msg ("the reason does not say '%s': %s", reason_part, run->err);
}

/* Each name in the JSON array @names appears in @text, in a list after @label. */
static void
assert_names_listed (const char *text, const char *label, json_object *names)
{
  const char *list = strstr (text, label);

  if (json_object_array_length (names) == 0)
    return;
  if (list == NULL)
    fail_msg ("no '%s' in: %s", label, text);
  for (size_t i = 0; i < json_object_array_length (names); i++)
    {
      g_autofree char *name = g_strdup (json_object_get_string (json_object_array_get_idx (names, i)));

      if (strstr (list, name) == NULL)
        fail_msg ("'%s' is not named after '%s' in: %s", name, label, text);
    }
}

/* ---- the verdict ---- */

static void
test_failing_domain_refused (void **state)
{
  g_autofree char *xml = NULL;
  g_autoptr (TestRun) run = NULL;
  json_object *check, *libvirt;
  const char *updated;
  g_autofree char *updated_text = NULL;

  TEST_REQUIRE_QEMU ();
  xml = domain_xml ("full", "qemu64", "vmx", test_qemu_binary ());
  check = check_json (xml);
  assert_string_equal (json_object_get_string (test_json_member (check, "verdict", json_type_string)),
                       "fail");
  libvirt = test_json_member (check, "libvirt", json_type_object);

  run = run_hook (NULL, NULL, "prepare", "begin", xml);
  test_assert_exit (run, 1);
  assert_string_equal (run->out, "");
  test_assert_one_error_line (run, NULL);
  assert_non_null (strstr (run->err, "domain hooked"));
  assert_non_null (strstr (run->err, "check='full'"));
  /* libvirt's own wording, and every feature it would name */
  assert_non_null (strstr (run->err, json_object_get_string (test_json_member (libvirt, "message",
                                                                               json_type_string))));
  assert_names_listed (run->err, "missing features: ", test_json_member (libvirt, "missing", json_type_array));
  assert_names_listed (run->err, "extra features: ", test_json_member (libvirt, "extra", json_type_array));

  /* the updated definition is where the line says, and is the check's */
  updated = strstr (run->err, "updated definition: ");
  assert_non_null (updated);
  {
    g_autofree char *path = g_strstrip (g_strdup (updated + strlen ("updated definition: ")));
    const char *expected = json_object_get_string (
      test_json_member (test_json_member (check, "xml", json_type_object), "updated", json_type_string));

    assert_true (g_file_get_contents (path, &updated_text, NULL, NULL));
    assert_non_null (strstr (updated_text, expected));
  }
  json_object_put (check);
  test_assert_nothing_left ();
}

/* A qemu domain with host-passthrough: libvirt refuses it before QEMU runs, so does the
 * hook, with libvirt's reason and no updated definition to offer. */
static void
test_passthrough_qemu_domain_refused (void **state)
{
  g_autofree char *xml = NULL;
  g_autoptr (TestRun) run = NULL;

  TEST_REQUIRE_QEMU ();
  xml = g_strdup_printf ("<domain type='qemu'>\n"
                         "  <name>hooked</name>\n"
                         "  <memory unit='KiB'>131072</memory>\n"
                         "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                         "  <cpu mode='host-passthrough' check='full'/>\n"
                         "  <devices><emulator>%s</emulator></devices>\n"
                         "</domain>\n", test_qemu_binary ());
  run = run_hook (NULL, NULL, "prepare", "begin", xml);
  test_assert_exit (run, 1);
  assert_string_equal (run->out, "");
  test_assert_one_error_line (run, NULL);
  assert_non_null (strstr (run->err, "domain hooked: libvirt would refuse it: "));
  assert_non_null (strstr (run->err, "host-passthrough"));
  assert_null (strstr (run->err, "updated definition"));
  test_assert_nothing_left ();
}

static void
test_verdict_agrees_with_check (void **state)
{
  /* Whatever this host gives: the hook refuses exactly what check fails. */
  static const char *const cases[][2] = {
    { "full", "qemu64" }, { "full", "Haswell-noTSX" }, { "partial", "qemu64" },
    { "partial", "Westmere" },
  };

  TEST_REQUIRE_QEMU ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *xml = domain_xml (cases[i][0], cases[i][1], NULL, test_qemu_binary ());
      json_object *check = check_json (xml);
      gboolean pass = strcmp (json_object_get_string (test_json_member (check, "verdict",
                                                                        json_type_string)), "pass") == 0;
      g_autoptr (TestRun) run = run_hook (NULL, NULL, "prepare", "begin", xml);

      print_message ("check='%s' %s: %s\n", cases[i][0], cases[i][1], pass ? "pass" : "fail");
      if (pass)
        assert_silent_pass (run);
      else
        {
          test_assert_exit (run, 1);
          test_assert_one_error_line (run, NULL);
          assert_non_null (strstr (run->err, cases[i][0]));
        }
      json_object_put (check);
    }
  test_assert_nothing_left ();
}

/* ---- what passes silently ---- */

static void
test_unchecked_and_other_phases_pass_silently (void **state)
{
  /* A QEMU that would hang: had the hook asked it anything, it would have waited and
   * said so. */
  g_autofree char *hang = g_build_filename (cache_home, "hanging-qemu", NULL);
  g_autofree char *none = domain_xml ("none", "qemu64", "vmx", hang);
  g_autofree char *failing = domain_xml ("full", "qemu64", "vmx", hang);
  g_autofree char *no_cpu = g_strdup ("<domain type='qemu'><name>hooked</name>"
                                      "<os><type>hvm</type></os></domain>");
  static const char *const phases[][2] = {
    { "start", "begin" }, { "started", "begin" }, { "stopped", "end" }, { "release", "end" },
    { "migrate", "begin" }, { "restore", "begin" }, { "reconnect", "begin" }, { "attach", "begin" },
  };

  assert_true (g_file_set_contents (hang, "#!/bin/sh\nexec sleep 60\n", -1, NULL));
  assert_int_equal (chmod (hang, 0755), 0);
  {
    g_autoptr (TestRun) run = run_hook (NULL, NULL, "prepare", "begin", none);
    assert_silent_pass (run);
  }
  {
    g_autoptr (TestRun) run = run_hook (NULL, NULL, "prepare", "begin", no_cpu);
    assert_silent_pass (run);
  }
  for (guint i = 0; i < G_N_ELEMENTS (phases); i++)
    {
      g_autoptr (TestRun) run = run_hook (NULL, NULL, phases[i][0], phases[i][1], failing);
      assert_silent_pass (run);
    }
  test_assert_nothing_left ();
}

/* ---- when vcpuprobe cannot answer ---- */

static void
test_unreadable_input (void **state)
{
  const char *const refuse[] = { "--on-error", "refuse", NULL };
  static const char *const inputs[] = {
    "not XML at all",
    "",
    ("<domain type='qemu'><cpu mode='custom' check='full'><model>qemu64</model>"
     "<feature policy='require' name='no-such-feature'/></cpu></domain>"),
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (TestRun) allowed = run_hook (NULL, NULL, "prepare", "begin", inputs[i]);
      g_autoptr (TestRun) refused = run_hook (NULL, refuse, "prepare", "begin", inputs[i]);

      assert_cannot_answer (allowed, 0, "standard input");
      assert_cannot_answer (refused, 2, "standard input");
    }
  test_assert_nothing_left ();
}

static void
test_qemu_missing (void **state)
{
  g_autofree char *nonexistent = domain_xml ("full", "qemu64", NULL, "/nonexistent/qemu");
  const char *const refuse[] = { "--on-error", "refuse", NULL };
  const char *const false_qemu[] = { "--no-cache", "--qemu", "/bin/false", NULL };
  g_autofree char *xml = NULL;

  {
    g_autoptr (TestRun) run = run_hook (NULL, NULL, "prepare", "begin", nonexistent);
    assert_cannot_answer (run, 0, "/nonexistent/qemu");
  }
  {
    g_autoptr (TestRun) run = run_hook (NULL, refuse, "prepare", "begin", nonexistent);
    assert_cannot_answer (run, 3, "/nonexistent/qemu");
  }
  TEST_REQUIRE_QEMU ();
  xml = domain_xml ("full", "qemu64", "vmx", test_qemu_binary ());
  {
    g_autoptr (TestRun) run = run_hook (false_qemu, NULL, "prepare", "begin", xml);
    assert_cannot_answer (run, 0, "/bin/false");
  }
  {
    g_autoptr (TestRun) run = run_hook (false_qemu, refuse, "prepare", "begin", xml);
    assert_cannot_answer (run, 3, "/bin/false");
  }
  test_assert_nothing_left ();
}

static void
test_hanging_qemu_bounded (void **state)
{
  g_autofree char *hang = g_build_filename (cache_home, "hanging-qemu", NULL);
  g_autofree char *xml = domain_xml ("full", "qemu64", NULL, hang);
  const char *const bound[] = { "--hook-timeout", "1", NULL };
  gint64 started;
  g_autoptr (TestRun) run = NULL;

  assert_true (g_file_set_contents (hang, "#!/bin/sh\nexec sleep 60\n", -1, NULL));
  assert_int_equal (chmod (hang, 0755), 0);
  started = g_get_monotonic_time ();
  run = run_hook (NULL, bound, "prepare", "begin", xml);
  /* The QEMU sleeps a minute: an answer long before it says the bound held. The margin
   * is for a loaded machine, not a measurement. */
  assert_true (g_get_monotonic_time () - started < 10 * G_USEC_PER_SEC);
  assert_cannot_answer (run, 0, hang);
  test_assert_nothing_left ();
}

/* libvirt (or an administrator) stops a hook that takes too long with SIGTERM: the check
 * it runs, and that check's QEMU, stop with it instead of running on to their deadline. */
static void
test_signal_stops_check (void **state)
{
  /* A QEMU that never greets, named by a duration no other process on the machine sleeps. */
  g_autofree char *sleeper = g_strdup_printf ("sleep 600.%d", (int) getpid ());
  g_autofree char *body = g_strdup_printf ("#!/bin/sh\nexec %s\n", sleeper);
  g_autofree char *silent = g_build_filename (cache_home, "silent-qemu", NULL);
  g_autofree char *xml = domain_xml ("full", "qemu64", NULL, silent);
  const char *argv[] = { test_vcpuprobe (), "--no-cache", "hook", "--hook-timeout", "60",
                         "hooked", "prepare", "begin", "-", NULL };
  g_autoptr (GError) error = NULL;
  GPid pid;
  int in_fd, status = 0;
  guint waited;

  assert_true (g_file_set_contents (silent, body, -1, NULL));
  assert_int_equal (chmod (silent, 0755), 0);
  if (!g_spawn_async_with_pipes (NULL, (char **) argv, NULL,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                 | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, &pid, &in_fd, NULL, NULL, &error))
    fail_msg ("cannot run the hook: %s", error->message);
  assert_int_equal (write (in_fd, xml, strlen (xml)), (ssize_t) strlen (xml));
  close (in_fd);
  /* Until the check's QEMU runs: the hook is then waiting for its check. */
  for (waited = 0; waited < 1000 && test_count_marked_processes (sleeper) == 0; waited++)
    g_usleep (10000);
  assert_true (waited < 1000);
  assert_int_equal (kill (pid, SIGTERM), 0);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  g_spawn_close_pid (pid);
  assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGTERM);
  /* The check gets its SIGTERM as the hook dies, and stops its QEMU in its own handler: a
   * moment, where running on to its deadline would take a minute. */
  for (waited = 0; waited < 200 && test_count_children () > 0; waited++)
    {
      while (waitpid (-1, NULL, WNOHANG) > 0)
        ;
      g_usleep (10000);
    }
  if (test_count_children () > 0 || test_count_marked_processes (sleeper) > 0)
    fail_msg ("the hook's check or its QEMU outlived the hook");
  test_assert_nothing_left ();
}

/* ---- settings ---- */

static void
test_config_file (void **state)
{
  g_autofree char *config = g_build_filename (cache_home, "hook.conf", NULL);
  g_autofree char *bad_config = g_build_filename (cache_home, "bad-hook.conf", NULL);
  g_autofree char *xml = domain_xml ("full", "qemu64", NULL, "/nonexistent/qemu");
  const char *const with_config[] = { "--config", config, NULL };
  const char *const with_bad_config[] = { "--config", bad_config, NULL };
  const char *const option_wins[] = { "--config", config, "--on-error", "allow", NULL };

  assert_true (g_file_set_contents (config, "[hook]\ntimeout = 1.5\non-error = refuse\n", -1, NULL));
  assert_true (g_file_set_contents (bad_config, "[hook]\non-error = sometimes\n", -1, NULL));
  {
    g_autoptr (TestRun) run = run_hook (NULL, with_config, "prepare", "begin", xml);
    assert_cannot_answer (run, 3, "/nonexistent/qemu");
  }
  {
    g_autoptr (TestRun) run = run_hook (NULL, option_wins, "prepare", "begin", xml);
    assert_cannot_answer (run, 0, "/nonexistent/qemu");
  }
  {
    /* A bad file is said, then the defaults hold: the start goes on. */
    g_autoptr (TestRun) run = run_hook (NULL, with_bad_config, "prepare", "begin", xml);
    test_assert_exit (run, 0);
    assert_non_null (strstr (run->err, "hook settings ignored"));
    assert_non_null (strstr (run->err, "sometimes"));
    assert_non_null (strstr (run->err, "start allowed"));
  }
  {
    const char *const bad_option[] = { "--on-error", "sometimes", NULL };
    g_autoptr (TestRun) run = run_hook (NULL, bad_option, "prepare", "begin", xml);
    test_assert_exit (run, 2);
    test_assert_one_error_line (run, "--on-error");
  }
  test_assert_nothing_left ();
}

/* ---- the warm path ---- */

static void
test_warm_answer_asks_no_qemu (void **state)
{
  g_autofree char *counter = g_build_filename (cache_home, "qemu-starts", NULL);
  g_autofree char *wrapper = g_build_filename (cache_home, "counting-qemu", NULL);
  g_autofree char *script = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *starts_cold = NULL;
  g_autofree char *starts_warm = NULL;
  g_autoptr (TestRun) cold = NULL;
  g_autoptr (TestRun) warm = NULL;
  g_autoptr (TestRun) other_id = NULL;

  TEST_REQUIRE_QEMU ();
  script = g_strdup_printf ("#!/bin/sh\necho started >> '%s'\nexec '%s' \"$@\"\n", counter,
                            test_qemu_binary ());
  assert_true (g_file_set_contents (wrapper, script, -1, NULL));
  assert_int_equal (chmod (wrapper, 0755), 0);
  xml = domain_xml ("full", "qemu64", "vmx", wrapper);

  cold = run_hook (NULL, NULL, "prepare", "begin", xml);
  test_assert_exit (cold, 1);
  assert_true (g_file_get_contents (counter, &starts_cold, NULL, NULL));
  assert_true (strlen (starts_cold) > 0);

  warm = run_hook (NULL, NULL, "prepare", "begin", xml);
  test_assert_exit (warm, 1);
  assert_string_equal (warm->err, cold->err);
  /* Another start of the same domain: libvirt gives it another id. */
  {
    g_auto (GStrv) parts = g_strsplit (xml, "id='4'", 2);
    g_autofree char *renumbered = g_strjoinv ("id='5'", parts);

    other_id = run_hook (NULL, NULL, "prepare", "begin", renumbered);
  }
  test_assert_exit (other_id, 1);
  assert_string_equal (other_id->err, cold->err);
  assert_true (g_file_get_contents (counter, &starts_warm, NULL, NULL));
  assert_string_equal (starts_warm, starts_cold);
  test_assert_nothing_left ();
}

/* ---- installed as libvirt installs hooks ---- */

static void
test_run_through_hooks_directory (void **state)
{
  g_autofree char *hooks = g_build_filename (cache_home, "hooks", "qemu.d", NULL);
  g_autofree char *link = g_build_filename (hooks, "vcpuprobe", NULL);
  g_autofree char *absolute = g_canonicalize_filename (test_vcpuprobe (), NULL);
  g_autofree char *xml = NULL;
  g_autofree char *none = NULL;

  TEST_REQUIRE_QEMU ();
  assert_int_equal (g_mkdir_with_parents (hooks, 0755), 0);
  assert_int_equal (symlink (absolute, link), 0);
  xml = domain_xml ("full", "qemu64", "vmx", test_qemu_binary ());
  none = domain_xml ("none", "qemu64", "vmx", test_qemu_binary ());
  {
    const char *argv[] = { link, "hooked", "prepare", "begin", "-", NULL };
    g_autoptr (TestRun) run = test_run (argv, xml);

    test_assert_exit (run, 1);
    test_assert_one_error_line (run, NULL);
    assert_non_null (strstr (run->err, "domain hooked"));
  }
  {
    /* A domain named like an option is still a domain. */
    const char *argv[] = { link, "--help", "prepare", "begin", "-", NULL };
    g_autoptr (TestRun) run = test_run (argv, none);

    assert_silent_pass (run);
  }
  test_assert_nothing_left ();
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_failing_domain_refused),
    TEST_CASE_IN_TMPDIR (test_passthrough_qemu_domain_refused),
    TEST_CASE_IN_TMPDIR (test_verdict_agrees_with_check),
    TEST_CASE_IN_TMPDIR (test_unchecked_and_other_phases_pass_silently),
    TEST_CASE_IN_TMPDIR (test_unreadable_input),
    TEST_CASE_IN_TMPDIR (test_qemu_missing),
    TEST_CASE_IN_TMPDIR (test_hanging_qemu_bounded),
    TEST_CASE_IN_TMPDIR (test_signal_stops_check),
    TEST_CASE_IN_TMPDIR (test_config_file),
    TEST_CASE_IN_TMPDIR (test_warm_answer_asks_no_qemu),
    TEST_CASE_IN_TMPDIR (test_run_through_hooks_directory),
  };
  int failed;

  test_adopt_orphans ();
  cache_home = test_make_tmpdir ();
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (cache_home);
  g_free (cache_home);
  return failed;
}
