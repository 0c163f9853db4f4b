/* tests/test-completion.c — `vcpuprobe cached` and the bash completion
 * (tools/vcpuprobe.bash-completion): model and machine names come from the probe cache of
 * the QEMU in question, as the probe stored them, and pressing Tab starts no QEMU.
 *
 * The cache is a private one (XDG_CACHE_HOME) holding entries stored through probe/cache.h
 * for a stand-in QEMU: a script that, if anything ever ran it, leaves a mark. */
#include "tests/test-util.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include "probe/cache.h"

typedef struct {
  char *dir;        /* the case's directory, removed afterwards */
  char *qemu;       /* the stand-in QEMU */
  char *ran_mark;   /* the file it creates when run */
  char *empty;      /* an empty working directory: no file names among the completions */
} Fixture;

static Fixture fixture;

static void
write_stand_in_qemu (const char *extra_line)
{
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\n: > '%s'\nexit 1\n%s", fixture.ran_mark,
                                             extra_line);

  assert_true (g_file_set_contents (fixture.qemu, script, -1, NULL));
  assert_int_equal (chmod (fixture.qemu, 0755), 0);
}

/* Stores facts for the stand-in under @accel, as a `vcpuprobe host` run would: the models
 * as QEMU's compact list ([name, ...]) and the machine types as one string. */
static void
store_facts (const char *accel, const char *const *models, const char *machines)
{
  g_autoptr (X86CpuidDump) cpuid = x86_cpuid_dump_new ();
  g_autoptr (ProbeCache) cache = probe_cache_new (NULL);
  g_autoptr (ProbeCacheKey) key = NULL;
  g_autoptr (GError) error = NULL;
  ProbeCacheKeyInputs inputs = {
    .qemu_binary = fixture.qemu,
    .qemu_version = "7.2.0",
    .accel = accel,
    .machine = "none",
    .cpuid = cpuid,
  };
  json_object *facts = json_object_new_object ();
  json_object *compact = json_object_new_object ();
  json_object *list = json_object_new_array ();

  for (guint i = 0; models[i] != NULL; i++)
    {
      json_object *model = json_object_new_array ();

      json_object_array_add (model, json_object_new_string (models[i]));
      json_object_array_add (model, NULL);
      json_object_array_add (list, model);
    }
  json_object_object_add (compact, "list", list);
  json_object_object_add (facts, "models", compact);
  json_object_object_add (facts, "machines", json_object_new_string (machines));

  key = probe_cache_key_new (&inputs, &error);
  assert_non_null (key);
  assert_true (probe_cache_store (cache, key, facts, &error));
  json_object_put (facts);
}

static const char *const tcg_models[] = { "Haswell-v1", "Haswell", "qemu64", "max", NULL };
static const char *const kvm_models[] = { "host", "Haswell", "EPYC", NULL };

static int
setup (void **state)
{
  fixture.dir = test_make_tmpdir ();
  fixture.qemu = g_build_filename (fixture.dir, "qemu-stand-in", NULL);
  fixture.ran_mark = g_build_filename (fixture.dir, "qemu-ran", NULL);
  fixture.empty = g_build_filename (fixture.dir, "cwd", NULL);
  assert_int_equal (g_mkdir (fixture.empty, 0755), 0);
  g_setenv ("XDG_CACHE_HOME", fixture.dir, TRUE);
  write_stand_in_qemu ("");
  store_facts ("tcg", tcg_models, "pc-i440fx-7.2 pc pc-q35-7.2 q35");
  store_facts ("kvm", kvm_models, "pc-i440fx-7.2 pc pc-q35-7.2 q35 microvm");
  return 0;
}

static int
teardown (void **state)
{
  test_rmdir_r (fixture.dir);
  g_clear_pointer (&fixture.dir, g_free);
  g_clear_pointer (&fixture.qemu, g_free);
  g_clear_pointer (&fixture.ran_mark, g_free);
  g_clear_pointer (&fixture.empty, g_free);
  return 0;
}

static TestRun *
run_cached (const char *accel, const char *kind)
{
  g_autofree char *accel_option = accel != NULL ? g_strdup_printf ("--accel=%s", accel) : NULL;
  /* Without --accel the list ends at the kind. */
  const char *argv[] = { test_vcpuprobe (), "--qemu", fixture.qemu, "cached", kind, accel_option,
                         NULL };

  return test_run (argv, NULL);
}

static void
assert_output (const TestRun *run, const char *expected)
{
  if (run->status != 0 || strcmp (run->out, expected) != 0)
    fail_msg ("expected exit 0 and\n%s\ngot exit %d and\n%s\nstderr: %s", expected, run->status,
              run->out, run->err);
}

static void
test_cached_lists_names_of_every_accelerator (void **state)
{
  g_autoptr (TestRun) models = run_cached (NULL, "models");
  g_autoptr (TestRun) machines = run_cached (NULL, "machines");

  assert_output (models, "EPYC\nHaswell\nHaswell-v1\nhost\nmax\nqemu64\n");
  assert_output (machines, "microvm\npc\npc-i440fx-7.2\npc-q35-7.2\nq35\n");
  assert_false (g_file_test (fixture.ran_mark, G_FILE_TEST_EXISTS));
}

static void
test_cached_keeps_to_the_accelerator (void **state)
{
  g_autoptr (TestRun) tcg = run_cached ("tcg", "models");
  g_autoptr (TestRun) kvm = run_cached ("kvm", "machines");

  assert_output (tcg, "Haswell\nHaswell-v1\nmax\nqemu64\n");
  assert_output (kvm, "microvm\npc\npc-i440fx-7.2\npc-q35-7.2\nq35\n");
}

/* A QEMU upgraded in place is another QEMU: its old names are not offered. */
static void
test_cached_ignores_a_replaced_binary (void **state)
{
  g_autoptr (TestRun) run = NULL;

  write_stand_in_qemu ("# upgraded\n");
  run = run_cached (NULL, "models");
  assert_output (run, "");
}

static void
test_cached_refuses_what_is_not_a_kind (void **state)
{
  g_autoptr (TestRun) run = run_cached (NULL, "features");

  test_assert_exit (run, 2);
  test_assert_one_error_line (run, "features");
}

/* The completions bash offers for @words, the last one being completed, as lines. */
static char *
complete (const char *const *words)
{
  g_autofree char *script_path = g_build_filename (g_getenv ("VCPUPROBE_SRCDIR"), "tools",
                                                   "vcpuprobe.bash-completion", NULL);
  g_autoptr (GString) script = g_string_new (NULL);
  g_autoptr (TestRun) run = NULL;
  guint n_words = g_strv_length ((char **) words);
  const char *argv[] = { "bash", "--norc", "--noprofile", "-c", NULL, "bash", script_path,
                         fixture.empty, NULL };

  /* Word 0 is the vcpuprobe under test, as a user would type its path. */
  g_string_append (script, "cd \"$2\" && source \"$1\" || exit 99\nCOMP_WORDS=(\"$0\"");
  for (guint i = 0; i < n_words; i++)
    {
      g_autofree char *quoted = g_shell_quote (words[i]);

      g_string_append_printf (script, " %s", quoted);
    }
  g_string_append_printf (script, ")\nCOMP_CWORD=%u\n_vcpuprobe\n"
                                  "[ ${#COMPREPLY[@]} -eq 0 ] || printf '%%s\\n' \"${COMPREPLY[@]}\" | sort\n", n_words);
  argv[4] = script->str;
  argv[5] = test_vcpuprobe ();
  run = test_run (argv, NULL);
  if (run->status != 0)
    fail_msg ("bash exited %d: %s", run->status, run->err);
  return g_strdup (run->out);
}

#define ASSERT_COMPLETES(expected, ...)                                 \
  do {                                                                  \
    const char *const words_[] = { __VA_ARGS__, NULL };                 \
    g_autofree char *got_ = complete (words_);                          \
    if (strcmp (got_, expected) != 0)                                   \
      fail_msg ("completing %s: expected\n%s\ngot\n%s", #__VA_ARGS__,  \
                expected, got_);                                        \
  } while (0)

static void
test_completes_commands_and_options (void **state)
{
  ASSERT_COMPLETES ("baseline\ncached\ncheck\ncpuid\nexpand\nhook\nhost\nlabels\nmodels\nprofile\nqmp\n", "");
  ASSERT_COMPLETES ("check\n", "--debug", "ch");
  ASSERT_COMPLETES ("--accel\n", "--ac");
  /* A command's own options only after it. */
  ASSERT_COMPLETES ("--socket\n", "--s");
  ASSERT_COMPLETES ("--socket\n--strict\n", "check", "--s");
  ASSERT_COMPLETES ("--cpu\n--cpu-map\n--cpuid-dump\n", "cpuid", "--cpu");
  ASSERT_COMPLETES ("--hook-timeout\n", "hook", "--hook");
  ASSERT_COMPLETES ("machines\nmodels\n", "cached", "m");
}

static void
test_completes_option_values (void **state)
{
  ASSERT_COMPLETES ("kvm\ntcg\n", "--accel", "");
  ASSERT_COMPLETES ("json\n", "--format", "=", "j");
  ASSERT_COMPLETES ("auto\nexpansion\npost-start\n", "host", "--method", "=");
  ASSERT_COMPLETES ("allow\nrefuse\n", "hook", "--on-error", "");
  /* The value of an option is not the command: "host" here is a --machine. */
  ASSERT_COMPLETES ("check\n", "--machine", "host", "che");
}

static void
test_completes_names_from_the_cache (void **state)
{
  ASSERT_COMPLETES ("Haswell\nHaswell-v1\n", "--qemu", fixture.qemu, "check", "Has");
  ASSERT_COMPLETES ("EPYC\nHaswell\nhost\n", "--qemu", fixture.qemu, "--accel", "kvm", "expand", "");
  ASSERT_COMPLETES ("Haswell\nHaswell-v1\nmax\nqemu64\n", "expand", "--accel", "=", "tcg", "--qemu",
                    fixture.qemu, "");
  ASSERT_COMPLETES ("q35\n", "--qemu", fixture.qemu, "--machine", "q");
  ASSERT_COMPLETES ("pc-q35-7.2\n", "--qemu", "=", fixture.qemu, "--machine", "=", "pc-q");
  /* Features after a comma are the user's to type. */
  ASSERT_COMPLETES ("", "--qemu", fixture.qemu, "check", "Haswell,+x2");
  assert_false (g_file_test (fixture.ran_mark, G_FILE_TEST_EXISTS));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown (test_cached_lists_names_of_every_accelerator, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cached_keeps_to_the_accelerator, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cached_ignores_a_replaced_binary, setup, teardown),
    cmocka_unit_test_setup_teardown (test_cached_refuses_what_is_not_a_kind, setup, teardown),
    cmocka_unit_test_setup_teardown (test_completes_commands_and_options, setup, teardown),
    cmocka_unit_test_setup_teardown (test_completes_option_values, setup, teardown),
    cmocka_unit_test_setup_teardown (test_completes_names_from_the_cache, setup, teardown),
  };

  if (!g_file_test ("/bin/bash", G_FILE_TEST_IS_EXECUTABLE))
    {
      printf ("SKIP: no bash to drive the completion\n");
      return 77;
    }
  return cmocka_run_group_tests (tests, NULL, NULL);
}
