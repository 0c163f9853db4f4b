/* tests/test-baseline-qemu.c — `vcpuprobe baseline` against real QEMUs: profiles of this
 * host made with the test QEMU and, where tests/qemu-bullseye runs, with Debian 11's QEMU
 * 5.2; the baseline of the pool passes `check` offline against every profile and live on
 * every one of those QEMUs, and its libvirt <cpu> (check='full') passes a live check by
 * libvirt's rules, under each accelerator this host can run, on pc and q35. */
#include <string.h>
#include "probe/qemu-info.h"
#include "test-util.h"

static char *work;

/* A profile made with @qemu (NULL: the test QEMU), or NULL when that QEMU cannot run. */
static char *
make_profile (const char *qemu, const char *name)
{
  g_autofree char *path = g_build_filename (work, name, NULL);
  g_autoptr (TestRun) made = NULL;

  if (qemu == NULL)
    made = test_run_vcpuprobe (TRUE, "600", (const char *const[]) {
      "profile", "--output", path, NULL });
  else
    made = test_run_vcpuprobe (FALSE, "600", (const char *const[]) {
      "--qemu", qemu, "profile", "--output", path, NULL });
  if (made->status != 0)
    {
      print_message ("no profile with %s: %s", qemu != NULL ? qemu : "the test QEMU", made->err);
      return NULL;
    }
  return g_steal_pointer (&path);
}

/* Debian 11's QEMU through tests/qemu-bullseye, when its tree is ready here. */
static const char *
second_qemu (void)
{
  static char *path;
  const char *testdir = g_getenv ("VCPUPROBE_TESTDIR");
  g_autofree char *setup = NULL;
  int status = -1;

  if (path != NULL || testdir == NULL)
    return path;
  setup = g_build_filename (testdir, "setup-qemu-bullseye", NULL);
  if (g_spawn_sync (NULL, (char *[]) { setup, (char *) "--dir", NULL }, NULL,
                    G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                    NULL, &status, NULL)
      && g_spawn_check_wait_status (status, NULL))
    path = g_build_filename (testdir, "qemu-bullseye", NULL);
  else
    print_message ("tests/qemu-bullseye cannot run here: the pool is the test QEMU alone\n");
  return path;
}

static void
test_baseline_passes_everywhere (void **state)
{
  const char *accels[] = { "tcg", "kvm" };
  const char *machines[] = { "pc", "q35" };
  g_autoptr (GPtrArray) qemus = g_ptr_array_new ();
  g_autoptr (GPtrArray) profiles = g_ptr_array_new_with_free_func (g_free);

  TEST_REQUIRE_QEMU ();
  g_ptr_array_add (qemus, NULL);
  g_ptr_array_add (profiles, make_profile (NULL, "test-qemu.json"));
  assert_non_null (g_ptr_array_index (profiles, 0));
  if (second_qemu () != NULL && g_strcmp0 (second_qemu (), test_qemu_binary ()) != 0)
    {
      char *second = make_profile (second_qemu (), "second-qemu.json");

      if (second != NULL)
        {
          g_ptr_array_add (qemus, (gpointer) second_qemu ());
          g_ptr_array_add (profiles, second);
        }
    }

  for (guint a = 0; a < (test_kvm_usable () ? 2u : 1u); a++)
    for (guint m = 0; m < G_N_ELEMENTS (machines); m++)
      {
        g_autoptr (GPtrArray) args = g_ptr_array_new ();
        g_autoptr (TestRun) baseline = NULL;
        g_autoptr (ProbeJson) document = NULL;
        g_autofree char *xml_path = NULL;
        const char *cpu;

        g_ptr_array_add (args, "--accel");
        g_ptr_array_add (args, (gpointer) accels[a]);
        g_ptr_array_add (args, "--machine");
        g_ptr_array_add (args, (gpointer) machines[m]);
        g_ptr_array_add (args, "--format");
        g_ptr_array_add (args, "json");
        g_ptr_array_add (args, "baseline");
        for (guint p = 0; p < profiles->len; p++)
          g_ptr_array_add (args, g_ptr_array_index (profiles, p));
        g_ptr_array_add (args, NULL);
        baseline = test_run_vcpuprobe (FALSE, "120", (const char *const *) args->pdata);
        test_assert_exit (baseline, 0);
        document = test_parse_json (baseline->out);
        cpu = json_object_get_string (test_json_member (document, "cpu", json_type_string));
        xml_path = g_strdup_printf ("%s/baseline-%s-%s.xml", work, accels[a], machines[m]);
        assert_true (g_file_set_contents (xml_path, json_object_get_string (
          test_json_member (document, "xml", json_type_string)), -1, NULL));
        test_json_member (document, "left_out", json_type_array);
        print_message ("%s on %s: %s\n", accels[a], machines[m], cpu);

        for (guint p = 0; p < profiles->len; p++)
          {
            const char *qemu = g_ptr_array_index (qemus, p);
            g_autoptr (TestRun) offline = test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
              "--profile", g_ptr_array_index (profiles, p), "--accel", accels[a],
              "--machine", machines[m], "check", cpu, NULL });
            g_autoptr (TestRun) live = qemu == NULL
              ? test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
                  "--no-cache", "--accel", accels[a], "--machine", machines[m], "check", cpu, NULL })
              : test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
                  "--qemu", qemu, "--no-cache", "--accel", accels[a], "--machine", machines[m],
                  "check", cpu, NULL });

            /* libvirt's <cpu> with check='full', judged by libvirt's rules on the live QEMU. */
            g_autoptr (TestRun) live_xml = qemu == NULL
              ? test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
                  "--no-cache", "--accel", accels[a], "--machine", machines[m], "check", xml_path, NULL })
              : test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
                  "--qemu", qemu, "--no-cache", "--accel", accels[a], "--machine", machines[m],
                  "check", xml_path, NULL });

            print_message ("  %s: offline %d, live %d, libvirt <cpu> live %d\n",
                           (const char *) g_ptr_array_index (profiles, p), offline->status,
                           live->status, live_xml->status);
            /* A guest with arch-capabilities under kvm is one a profile does not settle. */
            if (offline->status != 3 || strstr (offline->err, "arch-capabilities") == NULL)
              test_assert_exit (offline, 0);
            test_assert_exit (live, 0);
            test_assert_exit (live_xml, 0);
          }
      }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_baseline_passes_everywhere),
  };
  int failed;

  test_adopt_orphans ();
  work = test_make_tmpdir ();
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (work);
  g_free (work);
  return failed;
}
