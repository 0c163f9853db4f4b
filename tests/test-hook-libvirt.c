/* tests/test-hook-libvirt.c — the hook installed in a real libvirtd, end to end.
 *
 * A private libvirtd runs in a mount namespace of this test alone: /etc/libvirt (a
 * qemu.conf for tests and hooks/qemu.d/vcpuprobe, a link to the vcpuprobe under test),
 * /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt and
 * /var/cache/vcpuprobe are bind mounts of temporary directories, so nothing of the host's
 * libvirt is read or written. libvirt's own verdict on each domain comes from the embedded
 * driver of tests/libvirt/ (which runs no hooks); with the hook, every domain libvirt
 * refuses after QEMU started must be refused before QEMU starts, with libvirt's own
 * words, and every domain libvirt starts must still start.
 *
 * Skipped, saying why, without root (bind mounts), a mount namespace, libvirtd, virsh or
 * QEMU. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "libvirt/libvirt-harness.h"
#include "test-util.h"

static char *private_root;
static GPid libvirtd_pid;
static LibvirtHarness *own;      /* libvirt without hooks */
static char *skip_reason;

static const char qemu_conf[] =
  "stdio_handler = \"file\"\n"
  "security_driver = \"none\"\n"
  "dynamic_ownership = 0\n"
  "remember_owner = 0\n"
  "namespaces = [ ]\n"
  "cgroup_controllers = [ ]\n"
  "user = \"root\"\n"
  "group = \"root\"\n";

/* Bind-mounts ROOT/@name over @target; FALSE with *@reason. */
static gboolean
bind_private (const char *name, const char *target, char **reason)
{
  g_autofree char *source = g_build_filename (private_root, name, NULL);

  if (g_mkdir_with_parents (source, 0755) != 0
      || mount (source, target, NULL, MS_BIND, NULL) != 0)
    {
      *reason = g_strdup_printf ("cannot bind a private %s over %s: %s", name, target,
                                 g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
start_private_libvirtd (char **reason)
{
  g_autofree char *libvirtd = g_find_program_in_path ("libvirtd");
  g_autofree char *etc = NULL;
  g_autofree char *hooks = NULL;
  g_autofree char *link = NULL;
  g_autofree char *vcpuprobe = g_canonicalize_filename (test_vcpuprobe (), NULL);
  g_autofree char *pid_file = NULL;
  g_autoptr (GError) error = NULL;
  static const char *const targets[][2] = {
    { "run", "/run/libvirt" }, { "lib", "/var/lib/libvirt" }, { "cache", "/var/cache/libvirt" },
    { "log", "/var/log/libvirt" }, { "vcpuprobe-cache", "/var/cache/vcpuprobe" },
  };

  if (libvirtd == NULL && g_file_test ("/usr/sbin/libvirtd", G_FILE_TEST_IS_EXECUTABLE))
    libvirtd = g_strdup ("/usr/sbin/libvirtd");
  if (libvirtd == NULL)
    return (*reason = g_strdup ("no libvirtd (Debian: libvirt-daemon)")), FALSE;
  if (geteuid () != 0)
    return (*reason = g_strdup ("needs root for the private libvirtd's bind mounts")), FALSE;
  if (!g_file_test ("/etc/libvirt", G_FILE_TEST_IS_DIR) || !g_file_test ("/run/libvirt", G_FILE_TEST_IS_DIR))
    return (*reason = g_strdup ("no /etc/libvirt or /run/libvirt to hide behind private ones")), FALSE;
  if (unshare (CLONE_NEWNS) != 0 || mount (NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    return (*reason = g_strdup_printf ("no private mount namespace: %s", g_strerror (errno))), FALSE;

  private_root = test_make_tmpdir ();
  etc = g_build_filename (private_root, "etc", NULL);
  hooks = g_build_filename (etc, "hooks", "qemu.d", NULL);
  link = g_build_filename (hooks, "vcpuprobe", NULL);
  /* The documented install: a link named anything in hooks/qemu.d. */
  if (g_mkdir_with_parents (hooks, 0755) != 0 || symlink (vcpuprobe, link) != 0)
    return (*reason = g_strdup_printf ("cannot make %s: %s", link, g_strerror (errno))), FALSE;
  {
    g_autofree char *conf = g_build_filename (etc, "qemu.conf", NULL);
    g_autofree char *daemon_conf = g_build_filename (etc, "libvirtd.conf", NULL);

    if (!g_file_set_contents (conf, qemu_conf, -1, &error)
        || !g_file_set_contents (daemon_conf,
                                 "log_outputs = \"3:file:/var/log/libvirt/libvirtd.log\"\n",
                                 -1, &error))
      return (*reason = g_strdup (error->message)), FALSE;
  }
  if (!bind_private ("etc", "/etc/libvirt", reason))
    return FALSE;
  /* vcpuprobe run by root keeps its cache there: make the mount point if it is missing. */
  g_mkdir_with_parents ("/var/cache/vcpuprobe", 0755);
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    if (!bind_private (targets[i][0], targets[i][1], reason))
      return FALSE;

  pid_file = g_build_filename (private_root, "libvirtd.pid", NULL);
  {
    const char *argv[] = { libvirtd, "--pid-file", pid_file, NULL };
    g_auto (GStrv) env = g_environ_unsetenv (g_get_environ (), "LIBVIRT_DEFAULT_URI");

    if (!g_spawn_async (NULL, (char **) argv, env,
                        G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                        | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &libvirtd_pid, &error))
      return (*reason = g_strdup_printf ("cannot run libvirtd: %s", error->message)), FALSE;
  }
  for (guint i = 0; i < 300 && !g_file_test ("/run/libvirt/libvirt-sock", G_FILE_TEST_EXISTS); i++)
    g_usleep (100000);
  if (!g_file_test ("/run/libvirt/libvirt-sock", G_FILE_TEST_EXISTS))
    return (*reason = g_strdup ("the private libvirtd opened no socket in 30 s")), FALSE;
  return TRUE;
}

static void
stop_private_libvirtd (void)
{
  if (libvirtd_pid > 0)
    {
      kill (libvirtd_pid, SIGTERM);
      waitpid (libvirtd_pid, NULL, 0);
      libvirtd_pid = 0;
    }
}

/* virsh on the private libvirtd with @commands; stderr in *@err. */
static char *
virsh (const char *commands, char **err)
{
  const char *argv[] = { "virsh", "-q", "-c", "qemu:///system", commands, NULL };
  g_autoptr (TestRun) run = test_run (argv, NULL);

  *err = g_strdup (run->err);
  return g_strdup (run->out);
}

static char *
domain_xml (const char *name, const char *type, const char *cpu)
{
  return g_strdup_printf ("<domain type='%s'>\n  <name>%s</name>\n"
                          "  <memory unit='KiB'>131072</memory>\n"
                          "  <os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                          "%s"
                          "  <devices><emulator>%s</emulator></devices>\n</domain>\n",
                          type, name, cpu, test_qemu_binary ());
}

/* The updated <cpu> vcpuprobe check gives for @xml. */
static char *
updated_cpu (const char *xml)
{
  g_autofree char *path = g_build_filename (private_root, "to-update.xml", NULL);
  const char *argv[] = { test_vcpuprobe (), "--no-cache", "check", "--format", "json", path, NULL };
  g_autoptr (TestRun) run = NULL;
  json_object *root;
  char *cpu;

  assert_true (g_file_set_contents (path, xml, -1, NULL));
  run = test_run (argv, NULL);
  root = test_parse_json (run->out);
  cpu = g_strdup (json_object_get_string (
    test_json_member (test_json_member (root, "xml", json_type_object), "updated", json_type_string)));
  json_object_put (root);
  return cpu;
}

/* Runs the hook once on the XML libvirt will hand it, so that its answer is cached and
 * libvirt's call cannot run into the bound on a loaded machine (the cold path is
 * tests/test-hook.c's). */
static void
warm_hook (const char *name, const char *file)
{
  g_autofree char *err = NULL;
  g_autofree char *define = g_strdup_printf ("define %s", file);
  g_autofree char *dump = g_strdup_printf ("dumpxml %s", name);
  g_autofree char *undefine = g_strdup_printf ("undefine %s", name);
  g_autofree char *defined = NULL;
  const char *argv[] = { test_vcpuprobe (), "hook", "--hook-timeout", "60", name, "prepare",
                         "begin", "-", NULL };

  g_free (virsh (define, &err));
  defined = virsh (dump, &err);
  g_free (virsh (undefine, &err));
  if (*defined != '\0')
    {
      g_autoptr (TestRun) run = NULL;
      g_autofree char *home = g_strdup (g_getenv ("XDG_CACHE_HOME"));

      /* As libvirt runs it: root's cache, /var/cache/vcpuprobe (private here). */
      g_unsetenv ("XDG_CACHE_HOME");
      run = test_run (argv, defined);
      if (home != NULL)
        g_setenv ("XDG_CACHE_HOME", home, TRUE);
    }
}

static gboolean
qemu_ran (const char *name)
{
  g_autofree char *log_name = g_strdup_printf ("%s.log", name);
  g_autofree char *path = g_build_filename ("/var/log/libvirt/qemu", log_name, NULL);
  g_autofree char *log = NULL;

  return g_file_get_contents (path, &log, NULL, NULL) && strstr (log, "-cpu") != NULL;
}

static void
check_domain (const char *name, const char *xml)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtStart) alone = libvirt_harness_start (own, name, xml, &error);
  g_autofree char *file_name = g_strdup_printf ("%s.xml", name);
  g_autofree char *file = g_build_filename (private_root, file_name, NULL);
  g_autofree char *commands = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out = NULL;
  gboolean started;

  if (alone == NULL)
    fail_msg ("%s: libvirt without hooks: %s", name, error->message);
  assert_true (g_file_set_contents (file, xml, -1, NULL));
  warm_hook (name, file);
  commands = g_strdup_printf ("create %s; destroy %s", file, name);
  out = virsh (commands, &err);
  started = strstr (err, "error: Failed to create domain") == NULL;
  print_message ("%-10s libvirt alone: %s%s; with the hook: %s\n", name,
                 alone->started ? "starts" : "refuses",
                 alone->started ? "" : alone->qemu_cpu_arg != NULL ? " after QEMU ran"
                                                                    : " before QEMU",
                 started ? "starts" : "refused");
  if (alone->started)
    {
      if (!started)
        fail_msg ("%s: libvirt starts it, but not with the hook: %s", name, err);
      return;
    }
  if (started)
    fail_msg ("%s: libvirt refuses it (%s), but with the hook it started", name, alone->error);
  if (alone->qemu_cpu_arg == NULL)
    return;   /* libvirt refuses it before QEMU anyway */
  /* Refused after QEMU started: the hook refuses first, in libvirt's words. */
  if (strstr (err, "Hook script execution failed") == NULL
      || strstr (err, "vcpuprobe: domain ") == NULL)
    fail_msg ("%s: not refused by the hook: %s", name, err);
  {
    const char *words = strstr (alone->error, "guest CPU doesn't match specification");

    if (words != NULL && strstr (err, words) == NULL)
      fail_msg ("%s: the hook's words differ from libvirt's \"%s\": %s", name, words, err);
  }
  if (qemu_ran (name))
    fail_msg ("%s: QEMU ran although the hook refused the start", name);
}

static void
test_hook_in_libvirtd (void **state)
{
  /* [name, domain type, <cpu>]; kvm ones only where /dev/kvm opens */
  static const char *const domains[][3] = {
    { "vmx-tcg", "qemu", "  <cpu mode='custom' match='exact' check='full'><model fallback='forbid'>qemu64</model>"
                         "<feature policy='require' name='vmx'/></cpu>\n" },
    { "none-tcg", "qemu", "  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model>"
                          "<feature policy='require' name='vmx'/></cpu>\n" },
    { "partial-tcg", "qemu", "  <cpu mode='custom' match='exact' check='partial'><model fallback='forbid'>Westmere</model></cpu>\n" },
    { "full-kvm", "kvm", "  <cpu mode='custom' match='exact' check='full'><model fallback='forbid'>Haswell-noTSX</model></cpu>\n" },
    { "full2-kvm", "kvm", "  <cpu mode='custom' match='exact' check='full'><model fallback='forbid'>qemu64</model></cpu>\n" },
  };

  if (skip_reason != NULL)
    {
      print_message ("SKIP: %s\n", skip_reason);
      skip ();
    }
  for (guint i = 0; i < G_N_ELEMENTS (domains); i++)
    {
      g_autofree char *xml = NULL;
      g_autofree char *cpu = NULL;
      g_autofree char *updated = NULL;
      g_autofree char *updated_name = NULL;

      if (strcmp (domains[i][1], "kvm") == 0 && !test_kvm_usable ())
        continue;
      xml = domain_xml (domains[i][0], domains[i][1], domains[i][2]);
      check_domain (domains[i][0], xml);
      /* vcpuprobe's updated definition, under check='full', must start too. */
      cpu = updated_cpu (xml);
      updated_name = g_strconcat ("u-", domains[i][0], NULL);
      updated = domain_xml (updated_name, domains[i][1], cpu);
      check_domain (updated_name, updated);
    }
}

/* Random domains, seeded (the seed is printed; VCPUPROBE_HOOK_SEED repeats a run): named
 * models usable here and not, a few features with any policy, every check mode, both
 * accelerators, old and new machine types. Which of them this host can run is for libvirt
 * to find out, not for this list. */
static void
test_hook_on_random_domains (void **state)
{
  static const char *const models[] = {
    "qemu64", "kvm64", "core2duo", "Nehalem", "Westmere", "SandyBridge", "Haswell-noTSX",
    "Skylake-Client", "Cascadelake-Server", "Icelake-Server", "Opteron_G3", "EPYC",
  };
  static const char *const features[] = {
    "vmx", "svm", "x2apic", "pcid", "avx2", "aes", "lahf_lm", "pdpe1gb", "ssse3", "hle",
    "monitor", "arat",
  };
  static const char *const policies[] = { "require", "disable", "force", "optional", "forbid" };
  static const char *const checks[] = { NULL, "none", "partial", "full" };
  static const char *const machines[] = { "pc", "q35", "pc-i440fx-2.4" };
  const char *seed_text = g_getenv ("VCPUPROBE_HOOK_SEED");
  guint32 seed = seed_text != NULL ? (guint32) g_ascii_strtoull (seed_text, NULL, 10)
                                   : (guint32) g_get_real_time ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  guint n = test_kvm_usable () ? 40 : 24;

  if (skip_reason != NULL)
    {
      print_message ("SKIP: %s\n", skip_reason);
      skip ();
    }
  print_message ("seed %u (VCPUPROBE_HOOK_SEED=%u repeats it)\n", seed, seed);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GString) cpu = g_string_new (NULL);
      g_autofree char *name = g_strdup_printf ("r%02u", i);
      g_autofree char *xml = NULL;
      g_autofree char *domain = NULL;
      const char *check = checks[g_rand_int_range (rand, 0, G_N_ELEMENTS (checks))];
      const char *type = test_kvm_usable () && g_rand_boolean (rand) ? "kvm" : "qemu";
      const char *machine = machines[g_rand_int_range (rand, 0, G_N_ELEMENTS (machines))];
      int n_features = g_rand_int_range (rand, 0, 4);
      guint first = g_rand_int_range (rand, 0, G_N_ELEMENTS (features));

      g_string_append (cpu, "  <cpu mode='custom' match='exact'");
      if (check != NULL)
        g_string_append_printf (cpu, " check='%s'", check);
      g_string_append_printf (cpu, "><model fallback='forbid'>%s</model>",
                              models[g_rand_int_range (rand, 0, G_N_ELEMENTS (models))]);
      /* distinct features: consecutive entries of the list from a random one */
      for (int f = 0; f < n_features; f++)
        g_string_append_printf (cpu, "<feature policy='%s' name='%s'/>",
                                policies[g_rand_int_range (rand, 0, G_N_ELEMENTS (policies))],
                                features[(first + f) % G_N_ELEMENTS (features)]);
      g_string_append (cpu, "</cpu>\n");
      xml = domain_xml (name, type, cpu->str);
      /* the machine type too */
      {
        g_auto (GStrv) parts = g_strsplit (xml, "machine='pc'", 2);
        g_autofree char *with = g_strdup_printf ("machine='%s'", machine);

        domain = g_strjoinv (with, parts);
      }
      print_message ("%s: %s %s %s", name, type, machine, cpu->str);
      check_domain (name, domain);
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_hook_in_libvirtd),
    cmocka_unit_test (test_hook_on_random_domains),
  };
  int failed;

  if (test_qemu_binary () == NULL)
    skip_reason = g_strdup (test_qemu_missing_reason ());
  else if (start_private_libvirtd (&skip_reason))
    own = libvirt_harness_new (&skip_reason);
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  libvirt_harness_free (own);
  stop_private_libvirtd ();
  /* The mounts end with this process's namespace. */
  if (private_root != NULL)
    {
      umount2 ("/etc/libvirt", MNT_DETACH);
      test_rmdir_r (private_root);
    }
  g_free (private_root);
  g_free (skip_reason);
  return failed;
}
