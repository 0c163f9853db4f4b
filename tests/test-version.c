/* tests/test-version.c — QEMU version parsing and the development/candidate ordering rules. */
#include "tests/test-util.h"
#include "qmp/version.h"

static QmpVersion
version_of (const char *text)
{
  QmpVersion version = { 0, 0, 0 };

  if (!qmp_version_parse (text, &version))
    fail_msg ("cannot parse version %s", text);
  return version;
}

static int
compare_texts (const char *a, const char *b)
{
  QmpVersion left = version_of (a);
  QmpVersion right = version_of (b);

  return qmp_version_compare (&left, &right);
}

static void
test_parse (void **state)
{
  QmpVersion version = { 9, 9, 9 };

  assert_true (qmp_version_parse ("1.5.3", &version));
  assert_int_equal (version.major, 1);
  assert_int_equal (version.minor, 5);
  assert_int_equal (version.micro, 3);
  assert_true (qmp_version_parse ("10.2", &version));
  assert_int_equal (version.major, 10);
  assert_int_equal (version.minor, 2);
  assert_int_equal (version.micro, 0);
  assert_true (qmp_version_parse ("2.11.90", &version));
  assert_int_equal (version.micro, 90);
}

static void
test_parse_rejects (void **state)
{
  static const char *const bad[] = {
    "", "7", "7.", ".7", "7..2", "7.2.", "7.2.0.1", "7.2.0 ", " 7.2.0", "v7.2.0", "7.2-rc1",
    "-1.0.0", "7.x.0", "1234567890.0.0", "7.2.0\n",
  };
  QmpVersion version = { 4, 5, 6 };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    if (qmp_version_parse (bad[i], &version))
      fail_msg ("\"%s\" parsed as a version", bad[i]);
  assert_false (qmp_version_parse (NULL, &version));
  /* A failed parse leaves the output alone. */
  assert_int_equal (version.major, 4);
  assert_int_equal (version.minor, 5);
  assert_int_equal (version.micro, 6);
}

static void
test_to_string (void **state)
{
  const QmpVersion version = { 7, 2, 22 };
  g_autofree char *text = qmp_version_to_string (&version);
  g_autofree char *again = NULL;

  assert_string_equal (text, "7.2.22");
  again = qmp_version_to_string (&(QmpVersion) { 10, 2, 50 });
  assert_string_equal (again, "10.2.50");
}

static void
test_plain_order (void **state)
{
  assert_true (compare_texts ("1.5.3", "2.9.0") < 0);
  assert_true (compare_texts ("2.9.0", "2.10.0") < 0);   /* numeric, not textual */
  assert_true (compare_texts ("2.12.0", "3.0.0") < 0);
  assert_true (compare_texts ("7.2.1", "7.2.0") > 0);
  assert_int_equal (compare_texts ("7.2.0", "7.2"), 0);
}

static void
test_development_trees (void **state)
{
  /* 7.2.50 is master after 7.2.0: it has what 7.2.0 and its stable updates have. */
  assert_true (compare_texts ("7.2.50", "7.2.0") > 0);
  assert_true (compare_texts ("7.2.50", "7.2.9") > 0);
  assert_true (compare_texts ("7.2.50", "8.0.0") < 0);
  assert_true (qmp_version_at_least (&(QmpVersion) { 2, 8, 50 }, 2, 8, 0));
  assert_false (qmp_version_at_least (&(QmpVersion) { 2, 8, 50 }, 2, 9, 0));
}

static void
test_release_candidates (void **state)
{
  /* 2.11.90 is 2.12.0-rc0: for feature gates it is 2.12. */
  assert_int_equal (compare_texts ("2.11.90", "2.12.0"), 0);
  assert_int_equal (compare_texts ("2.11.93", "2.12.0"), 0);
  assert_true (compare_texts ("2.11.90", "2.11.50") > 0);
  assert_true (compare_texts ("2.11.90", "2.12.1") < 0);
  assert_true (qmp_version_at_least (&(QmpVersion) { 2, 8, 90 }, 2, 9, 0));
  assert_false (qmp_version_at_least (&(QmpVersion) { 2, 8, 90 }, 2, 10, 0));
}

static void
test_candidates_of_a_new_major (void **state)
{
  /* The release after these minors was a new major, and so is the candidate. */
  assert_int_equal (compare_texts ("1.7.90", "2.0.0"), 0);
  assert_int_equal (compare_texts ("2.12.90", "3.0.0"), 0);
  assert_int_equal (compare_texts ("3.1.90", "4.0.0"), 0);
  assert_int_equal (compare_texts ("7.2.90", "8.0.0"), 0);
  assert_int_equal (compare_texts ("10.2.90", "11.0.0"), 0);
  assert_true (qmp_version_at_least (&(QmpVersion) { 8, 2, 91 }, 9, 0, 0));
  /* ...but not of the minors in between. */
  assert_int_equal (compare_texts ("4.1.90", "4.2.0"), 0);
  assert_int_equal (compare_texts ("1.6.90", "1.7.0"), 0);
}

static void
test_at_least (void **state)
{
  const QmpVersion v15 = { 1, 5, 3 };
  const QmpVersion v72 = { 7, 2, 0 };

  assert_true (qmp_version_at_least (&v15, 1, 5, 0));
  assert_true (qmp_version_at_least (&v15, 1, 5, 3));
  assert_false (qmp_version_at_least (&v15, 1, 5, 4));
  assert_false (qmp_version_at_least (&v15, 2, 9, 0));
  assert_true (qmp_version_at_least (&v72, 2, 9, 0));
  assert_false (qmp_version_at_least (&v72, 10, 1, 0));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_parse),
    cmocka_unit_test (test_parse_rejects),
    cmocka_unit_test (test_to_string),
    cmocka_unit_test (test_plain_order),
    cmocka_unit_test (test_development_trees),
    cmocka_unit_test (test_release_candidates),
    cmocka_unit_test (test_candidates_of_a_new_major),
    cmocka_unit_test (test_at_least),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
