/* tests/test-library.c — libvcpuprobe as its users get it. The build is installed into a
 * temporary root (`meson install --destdir`); tests/test-library-client.c is compiled
 * against that root alone through `pkg-config --cflags --libs vcpuprobe`
 * (PKG_CONFIG_PATH and PKG_CONFIG_SYSROOT_DIR pointing into it) and run on recordings of
 * tests/qmp-replies/, beside the installed vcpuprobe with the same command line: the same
 * stdout byte for byte, the same stderr, the same exit status, and result accessors that
 * say what the document says. The installed library exports its API and nothing else. */
#include "tests/test-util.h"

#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* The temporary root and what was built against it, for every case. */
static struct {
  char *tmpdir;
  char *root;        /* the --destdir */
  char *libdir;      /* inside root */
  char *cli;         /* the installed vcpuprobe */
  char *client;      /* the program built through pkg-config */
} installed;

static const char *
env_or_fail (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL || *value == '\0')
    fail_msg ("%s is not set: run this test through meson", name);
  return value;
}

/* Runs @argv in @directory (NULL: here) with @envp (NULL: ours); fails the test unless it
 * could be run. Returns the exit status; the outputs go to @out and @err when not NULL. */
static int
run (const char *const *argv, const char *directory, char **envp, char **out, char **err)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  int wait_status;

  if (!g_spawn_sync (directory, (char **) argv, envp, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &stdout_text, &stderr_text, &wait_status, &error))
    fail_msg ("%s: %s", argv[0], error->message);
  if (!WIFEXITED (wait_status))
    fail_msg ("%s: did not exit (wait status %d); stderr: %s", argv[0], wait_status,
              stderr_text);
  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);
  return WEXITSTATUS (wait_status);
}

static void
run_or_fail (const char *const *argv, char **envp, char **out)
{
  g_autofree char *err = NULL;

  if (run (argv, NULL, envp, out, &err) != 0)
    fail_msg ("%s %s failed: %s", argv[0], argv[1], err);
}

/* A sysroot holds every package's files: our install, and glib's headers where glib's
 * pkg-config file names them. The system's are linked into it where a flag points to a
 * directory the install does not have. */
static void
link_system_dirs (char **flags)
{
  for (guint i = 0; flags[i] != NULL; i++)
    {
      const char *path;
      g_autofree char *parent = NULL;

      if (!g_str_has_prefix (flags[i], "-I") && !g_str_has_prefix (flags[i], "-L"))
        continue;
      path = flags[i] + 2;
      if (!g_str_has_prefix (path, installed.root) || g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      parent = g_path_get_dirname (path);
      assert_int_equal (g_mkdir_with_parents (parent, 0700), 0);
      assert_int_equal (symlink (path + strlen (installed.root), path), 0);
    }
}

static int
install_and_build (void **state)
{
  const char *prefix_libdir = env_or_fail ("VCPUPROBE_LIBDIR");
  const char *sanitize = g_getenv ("VCPUPROBE_SANITIZE");
  g_autofree char *pc_path = NULL;
  g_autofree char *flags_text = NULL;
  g_autofree char *client_source = test_data_path ("test-library-client.c");
  g_auto (GStrv) cc = NULL;
  g_auto (GStrv) flags = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GPtrArray) compile = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  const char *install[] = { env_or_fail ("VCPUPROBE_MESON"), "install", "-C",
                            env_or_fail ("VCPUPROBE_BUILDDIR"), "--no-rebuild", "--quiet",
                            "--destdir", NULL, NULL };
  const char *pkg_config[] = { "pkg-config", "--cflags", "--libs", "vcpuprobe", NULL };

  installed.tmpdir = test_make_tmpdir ();
  installed.root = g_build_filename (installed.tmpdir, "root", NULL);
  installed.libdir = g_build_filename (installed.root, prefix_libdir, NULL);
  installed.cli = g_build_filename (installed.root, env_or_fail ("VCPUPROBE_BINDIR"),
                                    "vcpuprobe", NULL);
  installed.client = g_build_filename (installed.tmpdir, "client", NULL);
  install[7] = installed.root;
  run_or_fail (install, NULL, NULL);

  pc_path = g_build_filename (installed.libdir, "pkgconfig", NULL);
  envp = g_environ_setenv (envp, "PKG_CONFIG_PATH", pc_path, TRUE);
  envp = g_environ_setenv (envp, "PKG_CONFIG_SYSROOT_DIR", installed.root, TRUE);
  run_or_fail (pkg_config, envp, &flags_text);
  if (!g_shell_parse_argv (g_strstrip (flags_text), NULL, &flags, &error))
    fail_msg ("pkg-config's flags \"%s\": %s", flags_text, error->message);
  link_system_dirs (flags);

  if (!g_shell_parse_argv (env_or_fail ("VCPUPROBE_CC"), NULL, &cc, &error))
    fail_msg ("VCPUPROBE_CC: %s", error->message);
  for (guint i = 0; cc[i] != NULL; i++)
    g_ptr_array_add (compile, g_strdup (cc[i]));
  /* A library built with sanitizers needs their runtime in the program. */
  if (sanitize != NULL && *sanitize != '\0' && strcmp (sanitize, "none") != 0)
    g_ptr_array_add (compile, g_strconcat ("-fsanitize=", sanitize, NULL));
  g_ptr_array_add (compile, g_strdup ("-Wall"));
  g_ptr_array_add (compile, g_strdup ("-Werror"));
  g_ptr_array_add (compile, g_strdup ("-o"));
  g_ptr_array_add (compile, g_strdup (installed.client));
  g_ptr_array_add (compile, g_strdup (client_source));
  for (guint i = 0; flags[i] != NULL; i++)
    g_ptr_array_add (compile, g_strdup (flags[i]));
  g_ptr_array_add (compile, NULL);
  run_or_fail ((const char *const *) compile->pdata, NULL, NULL);
  *state = NULL;
  return 0;
}

static int
remove_install (void **state)
{
  test_rmdir_r (installed.tmpdir);
  g_free (installed.tmpdir);
  g_free (installed.root);
  g_free (installed.libdir);
  g_free (installed.cli);
  g_free (installed.client);
  return 0;
}

/* ---- the installed library's symbols ---- */

static void
test_exports_only_the_api (void **state)
{
  g_autofree char *library = g_build_filename (installed.libdir, "libvcpuprobe.so", NULL);
  g_autofree char *soname = g_file_read_link (library, NULL);
  g_autofree char *symbols = NULL;
  const char *nm[] = { env_or_fail ("VCPUPROBE_NM"), "-D", "--defined-only", library, NULL };
  g_auto (GStrv) lines = NULL;
  guint n_api = 0;

  assert_string_equal (soname, "libvcpuprobe.so.0");
  run_or_fail (nm, NULL, &symbols);
  lines = g_strsplit (symbols, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (lines[i], " ", 3);

      if (*lines[i] == '\0')
        continue;
      assert_non_null (fields[1]);
      if (strcmp (fields[2], "VCPUPROBE_0") == 0)
        continue;
      if (!g_str_has_prefix (fields[2], "vcpuprobe_")
          || !g_str_has_suffix (fields[2], "@@VCPUPROBE_0"))
        fail_msg ("libvcpuprobe.so exports %s, which is no API of vcpuprobe.h", fields[2]);
      n_api++;
    }
  /* The functions of vcpuprobe.h. */
  assert_int_equal (n_api, 19);
}

/* ---- the client against the CLI ---- */

static char *
document_string (json_object *document, const char *member, const char *inner_member)
{
  json_object *value = NULL;

  if (!json_object_object_get_ex (document, member, &value)
      || (inner_member != NULL && !json_object_object_get_ex (value, inner_member, &value))
      || !json_object_is_type (value, json_type_string))
    return g_strdup ("(none)");
  return g_strdup (json_object_get_string (value));
}

/* What the accessors must have returned, from the CLI's document and exit status. */
static char *
expected_values (const char *command, const char *printed, int status)
{
  json_object *document = json_tokener_parse (printed);
  g_autofree char *verdict = document_string (document, "verdict", NULL);
  g_autofree char *cpu = document_string (document, "cpu_string", NULL);
  g_autofree char *xml = document_string (document, "xml", "updated");
  char *values;

  assert_non_null (document);
  values = g_strdup_printf ("verdict %s\ncpu %s\nxml %s",
                            strcmp (command, "check") == 0 ? (status == 1 ? "fail" : "pass")
                            : strcmp (command, "expand") == 0 ? verdict : "none",
                            cpu, xml);
  json_object_put (document);
  return values;
}

/* Runs `vcpuprobe ARGS` and the client with the same ARGS (which run @command) in
 * tests/qmp-replies/ and holds them to each other and to the exit @status. */
static void
assert_same_answer (const char *command, const char *args, int status)
{
  g_autofree char *replies = test_data_path ("qmp-replies");
  g_autofree char *values_path = g_build_filename (test_case_tmpdir (), "values", NULL);
  g_autofree char *cache = g_build_filename (test_case_tmpdir (), "cache", NULL);
  g_auto (GStrv) words = g_strsplit (args, " ", -1);
  g_auto (GStrv) envp = g_get_environ ();
  g_autoptr (GPtrArray) cli = g_ptr_array_new ();
  g_autoptr (GPtrArray) client = g_ptr_array_new ();
  g_autofree char *cli_out = NULL, *cli_err = NULL, *client_out = NULL, *client_err = NULL;
  g_autofree char *values = NULL;
  g_autofree char *expected = NULL;
  int cli_status, client_status;

  envp = g_environ_setenv (envp, "VCPUPROBE_REPLAY_STRICT", "1", TRUE);
  envp = g_environ_setenv (envp, "XDG_CACHE_HOME", cache, TRUE);
  envp = g_environ_setenv (envp, "LD_LIBRARY_PATH", installed.libdir, TRUE);
  g_ptr_array_add (cli, installed.cli);
  g_ptr_array_add (client, installed.client);
  g_ptr_array_add (client, (char *) "--values");
  g_ptr_array_add (client, values_path);
  for (guint i = 0; words[i] != NULL; i++)
    {
      g_ptr_array_add (cli, words[i]);
      g_ptr_array_add (client, words[i]);
    }
  g_ptr_array_add (cli, NULL);
  g_ptr_array_add (client, NULL);

  cli_status = run ((const char *const *) cli->pdata, replies, envp, &cli_out, &cli_err);
  client_status = run ((const char *const *) client->pdata, replies, envp, &client_out,
                       &client_err);
  assert_int_equal (cli_status, status);
  assert_string_equal (client_out, cli_out);
  assert_string_equal (client_err, cli_err);
  assert_int_equal (client_status, cli_status);
  if (status > 1)
    {
      assert_string_equal (client_out, "");
      assert_true (g_str_has_prefix (client_err, "vcpuprobe: "));
      return;
    }
  expected = expected_values (command, cli_out, cli_status);
  assert_true (g_file_get_contents (values_path, &values, NULL, NULL));
  assert_string_equal (values, expected);
}

#define REPLAYED(name) "--replay " name ".replies --cpuid-dump host.cpuid --format json --no-cache"

static void
test_expand (void **state)
{
  assert_same_answer ("expand", REPLAYED ("expand-EPYC-tcg-expansion")
                      " --accel tcg --method expansion expand EPYC", 0);
}

static void
test_check_pass (void **state)
{
  assert_same_answer ("check", REPLAYED ("check-qemu64-tcg-pc")
                      " --accel tcg --machine pc check qemu64", 0);
}

static void
test_check_fail (void **state)
{
  assert_same_answer ("check", REPLAYED ("check-Haswell-noTSX-feats-tcg-post-start") " --accel tcg "
                      "--method post-start check Haswell-noTSX,+x2apic,-hle,-vme", 1);
}

static void
test_models (void **state)
{
  assert_same_answer ("models", REPLAYED ("models-tcg") " --accel tcg models", 0);
}

static void
test_host (void **state)
{
  assert_same_answer ("host", REPLAYED ("host-tcg-expansion")
                      " --accel tcg --method expansion host", 0);
}

static void
test_bad_input (void **state)
{
  assert_same_answer ("expand", REPLAYED ("expand-unknown-model-tcg-expansion") " --accel tcg "
                      "--method expansion expand No-Such-CPU", 2);
  assert_same_answer ("expand", REPLAYED ("no-such-recording") " expand Haswell", 2);
}

static void
test_probe_failure (void **state)
{
  assert_same_answer ("expand", REPLAYED ("expand-unknown-model-tcg-post-start") " --accel tcg "
                      "--method post-start expand No-Such-CPU", 3);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_exports_only_the_api),
    TEST_CASE_IN_TMPDIR (test_expand),
    TEST_CASE_IN_TMPDIR (test_check_pass),
    TEST_CASE_IN_TMPDIR (test_check_fail),
    TEST_CASE_IN_TMPDIR (test_models),
    TEST_CASE_IN_TMPDIR (test_host),
    TEST_CASE_IN_TMPDIR (test_bad_input),
    TEST_CASE_IN_TMPDIR (test_probe_failure),
  };

  return cmocka_run_group_tests (tests, install_and_build, remove_install);
}
