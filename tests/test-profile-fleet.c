/* tests/test-profile-fleet.c — a fleet of profiles read as one (ProbeProfileShelf): twins,
 * profiles that differ from one another only in the host's name and date, are parsed once
 * and answered once, and every host's answer is still its own — equal to the answer from
 * its profile alone, its errors naming its own file, a profile that differs anywhere else
 * answered on its own, a twin with a broken header refused; and a profile's parts read
 * when a question needs them, a malformed one named when read. One profile of this host
 * is made with the test QEMU; the twins are written from its text. */
#include <string.h>
#include <glib/gstdio.h>
#include "probe/qemu-info.h"
#include "test-util.h"

static char *work;
static char *base_text;     /* the profile of this host, as `vcpuprobe profile` wrote it */

/* @base_text with the host named @name and made at @made, written as @dir/@file. */
static char *
write_twin (const char *dir, const char *file, const char *name, const char *made)
{
  g_autoptr (GString) text = g_string_new (base_text);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  const char *host = strstr (text->str, "\"host\":{\"name\":\"");
  const char *made_at = strstr (text->str, "\"made\":\"");
  g_autofree char *old_host = NULL, *old_made = NULL;

  assert_non_null (host);
  assert_non_null (made_at);
  old_host = g_strndup (host, strchr (host + 16, '"') + 1 - host);
  old_made = g_strndup (made_at, strchr (made_at + 8, '"') + 1 - made_at);
  g_string_replace (text, old_host, "\"host\":{\"name\":\"@HOST@\"", 1);
  g_string_replace (text, old_made, "\"made\":\"@MADE@\"", 1);
  g_string_replace (text, "@HOST@", name, 1);
  g_string_replace (text, "@MADE@", made, 1);
  assert_true (g_file_set_contents (path, text->str, -1, NULL));
  return g_steal_pointer (&path);
}

/* Replaces the first @from in the file at @path by @to. */
static void
edit_file (const char *path, const char *from, const char *to)
{
  g_autofree char *text = NULL;
  g_autoptr (GString) changed = NULL;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  changed = g_string_new (text);
  assert_int_equal (g_string_replace (changed, from, to, 1), 1);
  assert_true (g_file_set_contents (path, changed->str, -1, NULL));
}

/* The members of a host's answer but where it came from. */
static json_object *
without_provenance (json_object *answer)
{
  json_object *copy = NULL;

  assert_int_equal (json_object_deep_copy (answer, &copy, NULL), 0);
  json_object_object_del (copy, "profile");
  json_object_object_del (copy, "host");
  json_object_object_del (copy, "made");
  return copy;
}

static json_object *
hosts_of (const TestRun *run, guint expected)
{
  json_object *document = test_parse_json (run->out);
  json_object *hosts = NULL;

  assert_true (json_object_object_get_ex (document, "hosts", &hosts));
  assert_int_equal (json_object_array_length (hosts), expected);
  json_object_get (hosts);
  json_object_put (document);
  return hosts;
}

static void
test_twins_answer_as_alone (void **state)
{
  g_autofree char *dir = g_build_filename (work, "twins", NULL);
  g_autofree char *alone = NULL;
  const char *names[] = { "node-a", "node-b", "node-c" };
  const char *questions[][5] = {
    { "check", "Haswell-noTSX", "--accel", "tcg", NULL },
    { "expand", "EPYC-Rome,-avx2", "--accel", "tcg", NULL },
    { "check", "qemu64,+vmx", "--accel", "kvm", NULL },
  };

  if (base_text == NULL)
    skip ();
  g_mkdir (dir, 0700);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *file = g_strdup_printf ("%s.json", names[i]);

      g_free (write_twin (dir, file, names[i],
                          i == 1 ? "2026-01-01T00:00:00Z" : "2026-02-02T00:00:00Z"));
    }
  alone = g_build_filename (dir, "node-a.json", NULL);
  for (guint q = 0; q < G_N_ELEMENTS (questions); q++)
    {
      g_autoptr (TestRun) one = NULL;
      g_autoptr (TestRun) fleet = NULL;
      g_autoptr (ProbeJson) expected = NULL;
      g_autoptr (ProbeJson) hosts = NULL;
      g_autoptr (ProbeJson) one_document = NULL;

      if (g_strcmp0 (questions[q][3], "kvm") == 0 && !test_kvm_usable ())
        continue;
      one = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
        "--profile", alone, "--format", "json", questions[q][0], questions[q][1],
        questions[q][2], questions[q][3], NULL });
      fleet = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
        "--profile", dir, "--format", "json", questions[q][0], questions[q][1],
        questions[q][2], questions[q][3], NULL });
      assert_int_equal (fleet->status, one->status);
      one_document = test_parse_json (one->out);
      expected = without_provenance (one_document);
      hosts = hosts_of (fleet, G_N_ELEMENTS (names));
      for (guint h = 0; h < G_N_ELEMENTS (names); h++)
        {
          json_object *answer = json_object_array_get_idx (hosts, h);
          g_autoptr (ProbeJson) members = without_provenance (answer);

          /* Each host is named as itself, with its own date, and answered as alone. */
          assert_string_equal (json_object_get_string (json_object_object_get (answer, "host")),
                               names[h]);
          assert_string_equal (json_object_get_string (json_object_object_get (answer, "made")),
                               h == 1 ? "2026-01-01T00:00:00Z" : "2026-02-02T00:00:00Z");
          assert_true (json_object_equal (members, expected));
        }
    }
}

static void
test_twins_errors_name_their_file (void **state)
{
  g_autofree char *dir = g_build_filename (work, "errors", NULL);
  g_autoptr (TestRun) fleet = NULL;
  g_autoptr (ProbeJson) hosts = NULL;

  if (base_text == NULL)
    skip ();
  g_mkdir (dir, 0700);
  g_free (write_twin (dir, "one.json", "one", "2026-01-01T00:00:00Z"));
  g_free (write_twin (dir, "two.json", "two", "2026-01-01T00:00:00Z"));
  /* A property no profile holds: exit 3, said by each host about its own profile. */
  fleet = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
    "--profile", dir, "--format", "json", "check", "Haswell-noTSX,level=5", "--accel", "tcg",
    NULL });
  test_assert_exit (fleet, 3);
  hosts = hosts_of (fleet, 2);
  for (guint h = 0; h < 2; h++)
    {
      json_object *answer = json_object_array_get_idx (hosts, h);
      const char *error = json_object_get_string (json_object_object_get (answer, "error"));
      const char *path = json_object_get_string (json_object_object_get (answer, "profile"));

      assert_non_null (error);
      assert_non_null (strstr (error, path));
    }
}

static void
test_other_text_answered_alone (void **state)
{
  g_autofree char *dir = g_build_filename (work, "other", NULL);
  g_autofree char *other = NULL;
  g_autoptr (TestRun) fleet = NULL;
  g_autoptr (ProbeJson) hosts = NULL;

  if (base_text == NULL)
    skip ();
  g_mkdir (dir, 0700);
  g_free (write_twin (dir, "a.json", "a", "2026-01-01T00:00:00Z"));
  /* The same profile but for its QEMU binary, past the header: not a twin. */
  other = write_twin (dir, "b.json", "b", "2026-01-01T00:00:00Z");
  edit_file (other, "\"binary\":\"", "\"binary\":\"/other");
  fleet = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
    "--profile", dir, "--format", "json", "check", "Haswell-noTSX", "--accel", "tcg", NULL });
  hosts = hosts_of (fleet, 2);
  {
    json_object *qemu_a = json_object_object_get (json_object_array_get_idx (hosts, 0), "qemu");
    json_object *qemu_b = json_object_object_get (json_object_array_get_idx (hosts, 1), "qemu");
    const char *binary_a = json_object_get_string (json_object_object_get (qemu_a, "binary"));
    const char *binary_b = json_object_get_string (json_object_object_get (qemu_b, "binary"));

    /* Shared by mistake, b would print a's binary. */
    assert_non_null (binary_a);
    assert_non_null (binary_b);
    assert_false (g_str_has_prefix (binary_a, "/other"));
    assert_true (g_str_has_prefix (binary_b, "/other"));
  }
}

static void
test_twin_with_broken_header (void **state)
{
  g_autofree char *dir = g_build_filename (work, "broken", NULL);
  g_autofree char *broken = NULL;
  g_autoptr (TestRun) fleet = NULL;

  if (base_text == NULL)
    skip ();
  g_mkdir (dir, 0700);
  g_free (write_twin (dir, "a.json", "a", "2026-01-01T00:00:00Z"));
  broken = write_twin (dir, "b.json", "b", "2026-01-01T00:00:00Z");
  edit_file (broken, "\"host\":{\"name\":\"b\"}", "\"host\":\"b\"");
  fleet = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
    "--profile", dir, "check", "Haswell-noTSX", "--accel", "tcg", NULL });
  test_assert_exit (fleet, 2);
  test_assert_one_error_line (fleet, broken);
}

/* Replaces in the file at @path the first @from after the first @anchor by @to. */
static void
edit_after (const char *path, const char *anchor, const char *from, const char *to)
{
  g_autofree char *text = NULL;
  g_autoptr (GString) changed = NULL;
  const char *at, *found;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  at = strstr (text, anchor);
  assert_non_null (at);
  found = strstr (at, from);
  assert_non_null (found);
  changed = g_string_new_len (text, found - text);
  g_string_append (changed, to);
  g_string_append (changed, found + strlen (from));
  assert_true (g_file_set_contents (path, changed->str, -1, NULL));
}

/* @run answered as @expected did (exit status, and JSON but where it came from). */
static void
assert_answers_equal (const TestRun *expected, const TestRun *run)
{
  g_autoptr (ProbeJson) expected_json = test_parse_json (expected->out);
  g_autoptr (ProbeJson) run_json = test_parse_json (run->out);
  g_autoptr (ProbeJson) expected_answer = without_provenance (expected_json);
  g_autoptr (ProbeJson) run_answer = without_provenance (run_json);

  test_assert_exit (run, expected->status);
  assert_true (json_object_equal (expected_answer, run_answer));
}

/* A profile's sessions are read when a question needs them (probe/profile-sessions.h):
 * a malformed part a question reads fails it as a malformed profile does (exit 2, one
 * line naming the file and the part); one it does not read leaves its answer as it was. */
static void
test_malformed_part_named_when_read (void **state)
{
  /* Each spoils the tcg session asked below with a value json-c refuses, leaving the
   * brackets balanced: found only when the part is parsed. */
  static const char *const spoils[][3] = {
    { "{\"execute\":\"query-machines\"}", "{\"execute\":\"query-machines\",\"x\":tru}",
      "messages" },
    { "\"features\":[", "\"features\":[tru,", "features" },
    { "\"Haswell-noTSX\":{", "\"Haswell-noTSX\":{\"x\":tru,", "Haswell-noTSX" },
    /* Inside the model list, a reply long enough to be kept as text and checked only
     * when it is served. */
    { "\"unavailable-features\":[", "\"unavailable-features\":[tru,", "messages[" },
  };
  const char *const tcg_session = "\"accel\":\"tcg\",\"machine\":\"none\"";
  g_autofree char *dir = g_build_filename (work, "spoiled", NULL);
  g_autofree char *clean = NULL, *unread = NULL;
  g_autoptr (TestRun) clean_run = NULL;
  g_autoptr (TestRun) unread_run = NULL;

  if (base_text == NULL)
    skip ();
  g_mkdir (dir, 0700);
  for (guint i = 0; i < G_N_ELEMENTS (spoils); i++)
    {
      g_autofree char *file = g_strdup_printf ("spoiled-%u.json", i);
      g_autofree char *spoiled = write_twin (dir, file, "spoiled", "2026-01-01T00:00:00Z");
      g_autoptr (TestRun) run = NULL;

      edit_after (spoiled, tcg_session, spoils[i][0], spoils[i][1]);
      run = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
        "--profile", spoiled, "check", "Haswell-noTSX", "--accel", "tcg", NULL });
      test_assert_exit (run, 2);
      test_assert_one_error_line (run, spoiled);
      if (strstr (run->err, spoils[i][2]) == NULL || strstr (run->err, "not JSON") == NULL)
        fail_msg ("the error does not say which part is malformed: %s", run->err);
    }

  /* An entry that is JSON but not a stored expansion (its properties not an object) is
   * malformed too, named when read; it aborted the answer in json-c before. */
  {
    g_autofree char *bad = write_twin (dir, "entry.json", "e", "2026-01-01T00:00:00Z");
    g_autoptr (TestRun) run = NULL;

    edit_after (bad, tcg_session, "\"Haswell-noTSX\",\"props\":{",
                "\"Haswell-noTSX\",\"props\":5,\"x\":{");
    run = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
      "--profile", bad, "check", "Haswell-noTSX", "--accel", "tcg", NULL });
    test_assert_exit (run, 2);
    test_assert_one_error_line (run, bad);
    assert_non_null (strstr (run->err, "expansions.Haswell-noTSX is not a stored expansion"));
  }

  /* Dependents that are not lists of features are refused when the profile is read (they
   * answer every toggle; read as lists, they crashed a toggle's answer). */
  {
    g_autofree char *bad = write_twin (dir, "dependents.json", "d", "2026-01-01T00:00:00Z");
    g_autoptr (TestRun) run = NULL;

    edit_file (bad, "\"dependents\":{", "\"dependents\":{\"x-bad\":7,");
    run = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
      "--profile", bad, "check", "Haswell-noTSX,-avx2", "--accel", "tcg", NULL });
    test_assert_exit (run, 2);
    test_assert_one_error_line (run, bad);
    assert_non_null (strstr (run->err, "dependents.x-bad is not a list of features"));
  }

  /* No session at all is a malformed profile, whatever is asked. */
  {
    g_autofree char *empty = write_twin (dir, "empty.json", "empty", "2026-01-01T00:00:00Z");
    g_autofree char *text = NULL;
    g_autoptr (GString) emptied = NULL;
    g_autoptr (TestRun) run = NULL;
    const char *sessions;

    assert_true (g_file_get_contents (empty, &text, NULL, NULL));
    sessions = strstr (text, "\"sessions\":[");
    assert_non_null (sessions);
    emptied = g_string_new_len (text, sessions - text);
    g_string_append (emptied, "\"sessions\":[]}");
    assert_true (g_file_set_contents (empty, emptied->str, -1, NULL));
    run = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
      "--profile", empty, "check", "Haswell-noTSX", "--accel", "tcg", NULL });
    test_assert_exit (run, 2);
    test_assert_one_error_line (run, empty);
    assert_non_null (strstr (run->err, "no QEMU session"));
  }

  /* Another model's entry, never read by this question: the answer is the clean one's. */
  clean = write_twin (dir, "clean.json", "h", "2026-01-01T00:00:00Z");
  unread = write_twin (dir, "unread.json", "h", "2026-01-01T00:00:00Z");
  edit_after (unread, tcg_session, "\"Westmere\":{", "\"Westmere\":{\"x\":tru,");
  clean_run = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
    "--profile", clean, "--format", "json", "check", "Haswell-noTSX", "--accel", "tcg", NULL });
  unread_run = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
    "--profile", unread, "--format", "json", "check", "Haswell-noTSX", "--accel", "tcg", NULL });
  assert_answers_equal (clean_run, unread_run);

  /* The host's CPUID is read by the questions whose answers owe anything to it (kvm's,
   * models' layers): those fail naming it; a tcg check answers as from the clean one. */
  {
    g_autofree char *bad = write_twin (dir, "cpuid.json", "h", "2026-01-01T00:00:00Z");
    const char *const *asked[] = {
      (const char *const[]) { "--profile", bad, "check", "Haswell-noTSX", "--accel", "kvm", NULL },
      (const char *const[]) { "--profile", bad, "models", "--accel", "tcg", NULL },
    };
    g_autoptr (TestRun) tcg_run = NULL;

    edit_file (bad, "\"leaf\":\"0x00000000\"", "\"leaf\":tru");
    for (guint i = 0; i < G_N_ELEMENTS (asked); i++)
      {
        g_autoptr (TestRun) run = test_run_vcpuprobe (FALSE, "60", asked[i]);

        test_assert_exit (run, 2);
        test_assert_one_error_line (run, bad);
        assert_non_null (strstr (run->err, "cpuid is not JSON"));
      }
    tcg_run = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
      "--profile", bad, "--format", "json", "check", "Haswell-noTSX", "--accel", "tcg", NULL });
    assert_answers_equal (clean_run, tcg_run);
  }
}

static void
test_baseline_of_twins (void **state)
{
  g_autofree char *dir = g_build_filename (work, "pool", NULL);
  g_autofree char *a = NULL, *b = NULL;
  g_autoptr (TestRun) one = NULL;
  g_autoptr (TestRun) pool = NULL;
  g_autoptr (ProbeJson) one_json = NULL;
  g_autoptr (ProbeJson) pool_json = NULL;
  json_object *left_out = NULL;

  if (base_text == NULL)
    skip ();
  g_mkdir (dir, 0700);
  a = write_twin (dir, "a.json", "a", "2026-01-01T00:00:00Z");
  b = write_twin (dir, "b.json", "b", "2026-03-01T00:00:00Z");
  one = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
    "baseline", "--accel", "tcg", "--format", "json", a, NULL });
  pool = test_run_vcpuprobe (FALSE, "60", (const char *const[]) {
    "baseline", "--accel", "tcg", "--format", "json", a, b, NULL });
  test_assert_exit (one, 0);
  test_assert_exit (pool, 0);
  one_json = test_parse_json (one->out);
  pool_json = test_parse_json (pool->out);
  /* Twins give the pool what either gives alone... */
  assert_true (json_object_equal (json_object_object_get (one_json, "cpu"),
                                  json_object_object_get (pool_json, "cpu")));
  /* ...and each left-out feature names both, the layer the same on each. */
  assert_true (json_object_object_get_ex (pool_json, "left_out", &left_out));
  for (guint i = 0; i < json_object_array_length (left_out); i++)
    {
      json_object *removed_by = json_object_object_get (json_object_array_get_idx (left_out, i),
                                                        "removed_by");
      guint n = json_object_array_length (removed_by);

      assert_int_equal (n % 2, 0);
      for (guint r = 0; r < n / 2; r++)
        assert_string_equal (
          json_object_get_string (json_object_object_get (json_object_array_get_idx (removed_by, r),
                                                          "layer")),
          json_object_get_string (json_object_object_get (json_object_array_get_idx (removed_by,
                                                                                     r + n / 2),
                                                          "layer")));
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_twins_answer_as_alone),
    TEST_CASE_IN_TMPDIR (test_twins_errors_name_their_file),
    TEST_CASE_IN_TMPDIR (test_other_text_answered_alone),
    TEST_CASE_IN_TMPDIR (test_twin_with_broken_header),
    TEST_CASE_IN_TMPDIR (test_baseline_of_twins),
    TEST_CASE_IN_TMPDIR (test_malformed_part_named_when_read),
  };
  int failed;

  test_adopt_orphans ();
  work = test_make_tmpdir ();
  if (test_qemu_binary () != NULL)
    {
      g_autofree char *path = g_build_filename (work, "base.json", NULL);
      g_autoptr (TestRun) made = test_run_vcpuprobe (TRUE, "600", (const char *const[]) {
        "profile", "--output", path, NULL });

      if (made->status == 0)
        g_file_get_contents (path, &base_text, NULL, NULL);
      else
        print_message ("SKIP: no profile of this host: %s", made->err);
    }
  else
    print_message ("SKIP: %s\n", test_qemu_missing_reason ());
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (work);
  g_free (work);
  g_free (base_text);
  return failed;
}
