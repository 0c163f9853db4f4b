/* tests/test-answer-cache.c — check and expand asked again on this host print the same
 * answer and exit alike without starting QEMU, host prints the same report; what must not
 * be answered from the cache is not. A QEMU wrapper counts the QEMUs started. */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "test-util.h"

static char *work;       /* XDG_CACHE_HOME and the wrapper */
static char *counter;    /* one line per QEMU the wrapper started */
static char *wrapper;

static guint
qemu_starts (void)
{
  g_autofree char *text = NULL;
  guint lines = 0;

  if (!g_file_get_contents (counter, &text, NULL, NULL))
    return 0;
  for (const char *p = text; *p != '\0'; p++)
    lines += *p == '\n';
  return lines;
}

static TestRun *
run (const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  va_list args;

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  g_ptr_array_add (argv, "--qemu");
  g_ptr_array_add (argv, wrapper);
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);
  return test_run ((const char *const *) argv->pdata, NULL);
}

static void
assert_same_answer (const TestRun *a, const TestRun *b)
{
  assert_int_equal (a->status, b->status);
  assert_string_equal (a->out, b->out);
  assert_string_equal (a->err, b->err);
}

static void
test_warm_check_starts_no_qemu (void **state)
{
  static const char *const formats[] = { "text", "json", "xml" };

  TEST_REQUIRE_QEMU ();
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr (TestRun) cold = run ("check", "Haswell", "--accel", "tcg", "--format", formats[i], NULL);
      guint after_cold = qemu_starts ();
      g_autoptr (TestRun) warm = run ("check", "Haswell", "--accel", "tcg", "--format", formats[i], NULL);
      g_autoptr (TestRun) expand = NULL;

      print_message ("check --format %s: exit %d\n", formats[i], cold->status);
      assert_true (cold->status == 0 || cold->status == 1);
      assert_true (after_cold > 0);
      assert_same_answer (cold, warm);
      assert_int_equal (qemu_starts (), after_cold);
      /* expand of the same CPU is another answer (it exits 0 whatever the verdict) */
      expand = run ("expand", "Haswell", "--accel", "tcg", "--format", formats[i], NULL);
      test_assert_exit (expand, 0);
      assert_true (qemu_starts () > after_cold);
    }
  test_assert_nothing_left ();
}

static void
test_not_served (void **state)
{
  g_autoptr (TestRun) first = NULL;
  guint before;

  TEST_REQUIRE_QEMU ();
  first = run ("check", "Westmere", "--accel", "tcg", NULL);
  assert_true (first->status == 0 || first->status == 1);
  before = qemu_starts ();
  /* Asked not to, or asked to show the conversation: QEMU answers again. */
  {
    g_autoptr (TestRun) again = run ("check", "Westmere", "--accel", "tcg", "--no-cache", NULL);
    assert_same_answer (first, again);
    assert_true (qemu_starts () > before);
    before = qemu_starts ();
  }
  {
    g_autoptr (TestRun) again = run ("check", "Westmere", "--accel", "tcg", "--debug", NULL);
    assert_int_equal (again->status, first->status);
    assert_true (qemu_starts () > before);
    before = qemu_starts ();
  }
  /* Another definition, another answer. */
  {
    g_autoptr (TestRun) other = run ("check", "Westmere,-sse4.2", "--accel", "tcg", NULL);
    assert_true (other->status == 0 || other->status == 1);
    assert_true (qemu_starts () > before);
    before = qemu_starts ();
  }
  /* Another QEMU binary at the same path (an upgrade): the kept answer is not trusted. */
  {
    g_autofree char *script = NULL;
    g_autoptr (TestRun) again = NULL;

    assert_true (g_file_get_contents (wrapper, &script, NULL, NULL));
    assert_int_equal (unlink (wrapper), 0);
    assert_true (g_file_set_contents (wrapper, script, -1, NULL));
    assert_int_equal (chmod (wrapper, 0755), 0);
    again = run ("check", "Westmere", "--accel", "tcg", NULL);
    assert_same_answer (first, again);
    assert_true (qemu_starts () > before);
  }
  test_assert_nothing_left ();
}

static guint
kept_answers (void)
{
  g_autofree char *directory = g_build_filename (work, "vcpuprobe", NULL);

  return test_count_entries (directory, "check-");
}

static void
test_host_report_kept (void **state)
{
  g_autoptr (TestRun) cold = NULL;
  g_autoptr (TestRun) warm = NULL;
  g_autoptr (TestRun) json = NULL;
  guint answers;

  TEST_REQUIRE_QEMU ();
  answers = kept_answers ();
  cold = run ("host", NULL);
  test_assert_exit (cold, 0);
  assert_int_equal (kept_answers (), answers + 1);
  warm = run ("host", NULL);
  assert_same_answer (cold, warm);
  {
    g_autoptr (TestRun) fresh = run ("host", "--no-cache", NULL);
    assert_same_answer (cold, fresh);
  }
  /* The JSON says where each accelerator's facts came from: never kept. */
  json = run ("host", "--format", "json", NULL);
  test_assert_exit (json, 0);
  assert_int_equal (kept_answers (), answers + 1);
  test_assert_nothing_left ();
}

/* A report that says an accelerator is unusable because its QEMU failed this time (here:
 * the tcg QEMU exits at once while a flag file exists) is not printed again once QEMU
 * works: the next host run asks QEMU again. */
static void
test_host_failure_not_kept (void **state)
{
  g_autofree char *flag = g_build_filename (work, "tcg-fails", NULL);
  g_autofree char *flaky = g_build_filename (work, "flaky-qemu", NULL);
  g_autofree char *script = g_strdup_printf ("#!/bin/sh\n"
                                             "case \"$*\" in *accel=tcg*) [ -e '%s' ] && exit 1;; esac\n"
                                             "exec '%s' \"$@\"\n", flag, test_qemu_binary ());
  const char *argv[] = { test_vcpuprobe (), "--qemu", flaky, "host", NULL };
  g_autoptr (TestRun) failed = NULL;
  g_autoptr (TestRun) again = NULL;

  TEST_REQUIRE_QEMU ();
  assert_true (g_file_set_contents (flaky, script, -1, NULL));
  assert_int_equal (chmod (flaky, 0755), 0);
  assert_true (g_file_set_contents (flag, "", -1, NULL));
  failed = test_run (argv, NULL);
  /* Exit 3 where kvm is unusable too; else a report that names the failure. */
  if (failed->status == 0)
    assert_non_null (strstr (failed->out, "tcg              unusable"));
  assert_int_equal (unlink (flag), 0);
  again = test_run (argv, NULL);
  test_assert_exit (again, 0);
  assert_null (strstr (again->out, "tcg              unusable"));
  test_assert_nothing_left ();
}

/* The facts one command keeps answer another as they would cold: models --accel tcg
 * keeps tcg's facts with a closest model (asked for tcg when tcg alone is asked), and host
 * (which asks it for kvm alone when kvm can run) used to print it from there. A QEMU path
 * of its own, so that no kept answer or facts of the other cases count. */
static void
test_facts_kept_by_models (void **state)
{
  g_autofree char *other = g_build_filename (work, "models-first-qemu", NULL);
  g_autofree char *script = NULL;
  const char *host[] = { test_vcpuprobe (), "--qemu", other, "host", NULL };
  const char *host_cold[] = { test_vcpuprobe (), "--qemu", other, "--no-cache", "host", NULL };
  const char *models[] = { test_vcpuprobe (), "--qemu", other, "--accel", "tcg", "models", NULL };
  g_autoptr (TestRun) cold = NULL;
  g_autoptr (TestRun) listed = NULL;
  g_autoptr (TestRun) after = NULL;

  TEST_REQUIRE_QEMU ();
  assert_true (g_file_get_contents (wrapper, &script, NULL, NULL));
  assert_true (g_file_set_contents (other, script, -1, NULL));
  assert_int_equal (chmod (other, 0755), 0);
  cold = test_run (host_cold, NULL);
  test_assert_exit (cold, 0);
  listed = test_run (models, NULL);
  test_assert_exit (listed, 0);
  after = test_run (host, NULL);
  assert_same_answer (cold, after);
  test_assert_nothing_left ();
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_warm_check_starts_no_qemu),
    TEST_CASE_IN_TMPDIR (test_not_served),
    TEST_CASE_IN_TMPDIR (test_host_report_kept),
    TEST_CASE_IN_TMPDIR (test_host_failure_not_kept),
    TEST_CASE_IN_TMPDIR (test_facts_kept_by_models),
  };
  g_autofree char *script = NULL;
  int failed;

  test_adopt_orphans ();
  work = test_make_tmpdir ();
  g_setenv ("XDG_CACHE_HOME", work, TRUE);
  counter = g_build_filename (work, "qemu-starts", NULL);
  wrapper = g_build_filename (work, "counting-qemu", NULL);
  if (test_qemu_binary () != NULL)
    {
      script = g_strdup_printf ("#!/bin/sh\necho started >> '%s'\nexec '%s' \"$@\"\n", counter,
                                test_qemu_binary ());
      if (!g_file_set_contents (wrapper, script, -1, NULL) || chmod (wrapper, 0755) != 0)
        return 1;
    }
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (work);
  g_free (work);
  g_free (counter);
  g_free (wrapper);
  return failed;
}
