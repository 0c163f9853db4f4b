/* tests/test-util.h — what every test program shares: finding QEMU and KVM (and saying
 * why a test skips when they are missing), fixtures, and leak checks for children and
 * temporary files. */
#pragma once
#include <glib.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <json-c/json.h>

/* Absolute path of qemu-system-x86_64 ($VCPUPROBE_TEST_QEMU, else PATH), or NULL. */
const char *test_qemu_binary (void);
/* TRUE when /dev/kvm opens read-write. */
gboolean    test_kvm_usable (void);

/* Skip the current cmocka test, printing why, when QEMU (or KVM) is missing. */
#define TEST_REQUIRE_QEMU()                                                   \
  do { if (test_qemu_binary () == NULL) {                                     \
         print_message ("SKIP: qemu-system-x86_64 not found (set VCPUPROBE_TEST_QEMU)\n"); \
         skip (); } } while (0)
#define TEST_REQUIRE_KVM()                                                    \
  do { if (!test_kvm_usable ()) {                                             \
         print_message ("SKIP: /dev/kvm cannot be opened read-write\n");      \
         skip (); } } while (0)

/* $VCPUPROBE_TESTDIR/... (the tests/ source directory). Newly allocated. */
char *test_data_path (const char *relative);
/* The vcpuprobe executable under test ($VCPUPROBE). */
const char *test_vcpuprobe (void);
/* The shared corpus directory ($VCPUPROBE_CORPUS, else the build default) or NULL when absent. */
const char *test_corpus_dir (void);

/* Children of this process that are still alive or unreaped (from /proc). */
guint test_count_children (void);
/* A fresh temporary directory for the test; removed with everything in it by test_rmdir_r(). */
char *test_make_tmpdir (void);
void  test_rmdir_r (const char *path);
/* Number of entries in @dir whose name starts with @prefix. */
guint test_count_entries (const char *dir, const char *prefix);

/* For programs that run vcpuprobe. Each case runs it with TMPDIR pointing at a directory
 * of its own, so a temporary file it leaves is seen: cmocka setup and teardown functions,
 * and the directory of the case under way. */
int         test_case_setup_tmpdir (void **state);
int         test_case_teardown_tmpdir (void **state);
const char *test_case_tmpdir (void);
#define TEST_CASE_IN_TMPDIR(test) \
  cmocka_unit_test_setup_teardown (test, test_case_setup_tmpdir, test_case_teardown_tmpdir)
/* Makes this process the subreaper of its descendants: a QEMU whose vcpuprobe died comes
 * to us, so none escapes test_count_children(). Call once, before the tests. */
void test_adopt_orphans (void);
/* After a run: no child of ours is left, alive or zombie (every QEMU vcpuprobe orphans
 * is ours after test_adopt_orphans()), and the case's TMPDIR is empty. */
void test_assert_nothing_left (void);

/* Runs @argv (NULL-terminated) with @stdin_text, collecting stdout, stderr and the exit status. */
typedef struct {
  char *out;
  char *err;
  int status;      /* exit code, or 128 + signal */
} TestRun;
TestRun *test_run (const char *const *argv, const char *stdin_text);
void     test_run_free (TestRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestRun, test_run_free)

/* Checks on a vcpuprobe run, shared by the CLI test programs. */
void test_assert_exit (const TestRun *run, int status);
/* stderr is exactly one line "vcpuprobe: ...", naming @input when it is not NULL. */
void test_assert_one_error_line (const TestRun *run, const char *input);
/* @text parsed as JSON (the caller owns the reference); fails the test otherwise. */
json_object *test_parse_json (const char *text);
/* @object's member @key, of @type (borrowed); json_type_null also accepts any other type,
 * for a member that may be null. Fails the test when it is missing or of another type. */
json_object *test_json_member (json_object *object, const char *key, json_type type);
