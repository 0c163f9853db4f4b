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

/* The QEMU the tests run: $VCPUPROBE_TEST_QEMU when it runs (it may be a wrapper such as
 * tests/qemu-bullseye), else qemu-system-x86_64 on PATH; NULL when there is none. */
const char *test_qemu_binary (void);
/* Why test_qemu_binary() is NULL (NULL when it is not). */
const char *test_qemu_missing_reason (void);
/* For the copies of a program that meson runs against a named QEMU: when that QEMU cannot
 * run, say why and exit 77 (skipped), as every case would skip. Call first in main(). */
void        test_skip_program_without_named_qemu (void);
/* TRUE when /dev/kvm opens read-write. */
gboolean    test_kvm_usable (void);

/* Runs the QEMU under test (machine none, -S, @accel) over -qmp stdio with one @command (a
 * QMP command as JSON text) after the negotiation, and returns the "return" member of its
 * reply (the caller owns the reference); fails the test on an error reply or none. The
 * greeting's "major.minor.micro" goes into @version unless it is NULL. */
json_object *test_qemu_execute (const char *accel, const char *command, char **version);
/* The "props" of the QEMU under test's full expansion of @model (a CpuModelInfo as JSON
 * text) under @accel, owned by the caller; @version as for test_qemu_execute(). */
json_object *test_qemu_full_expansion (const char *accel, const char *model, char **version);
/* NULL when the QEMU under test starts a VM (paused, default machine type) with -cpu @cpu
 * under @accel; else why not, with QEMU's error lines (newly allocated). A QEMU may be
 * unable to start a model on a host at all (KVM refusing a value QEMU sets for it): there
 * is no vCPU then for a probe's prediction to equal. */
char        *test_qemu_start_failure (const char *accel, const char *cpu);
/* The name of the QEMU under test's default machine type (query-machines), newly allocated. */
char        *test_qemu_default_machine (void);

/* Skip the current cmocka test, printing why, when QEMU (or KVM) is missing. */
#define TEST_REQUIRE_QEMU()                                                   \
  do { if (test_qemu_binary () == NULL) {                                     \
         print_message ("SKIP: %s\n", test_qemu_missing_reason ());          \
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
/* Processes (anyone's) whose command line holds @marker. */
guint test_count_marked_processes (const char *marker);

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

/* vcpuprobe [--qemu QEMU] --timeout @timeout ARGS..., then the leak checks
 * (test_assert_nothing_left). With @on_test_qemu, QEMU is the one the tests were pointed at
 * (test_qemu_binary()), when there is one; without, the definition or PATH names it. */
TestRun *test_run_vcpuprobe (gboolean on_test_qemu, const char *timeout, const char *const *args);

/* Checks on a vcpuprobe run, shared by the CLI test programs. */
void test_assert_exit (const TestRun *run, int status);
/* stderr is exactly one line "vcpuprobe: ...", naming @input when it is not NULL. */
void test_assert_one_error_line (const TestRun *run, const char *input);
/* @text parsed as JSON (the caller owns the reference); fails the test otherwise. */
json_object *test_parse_json (const char *text);
/* @object's member @key, of @type (borrowed); json_type_null also accepts any other type,
 * for a member that may be null. Fails the test when it is missing or of another type. */
json_object *test_json_member (json_object *object, const char *key, json_type type);
