/* tests/libvirt/libvirt-harness.c — starts domains in a private embedded libvirt QEMU
 * driver through virsh, and reports what libvirt did. */
#include "tests/libvirt/libvirt-harness.h"

#include "tests/test-util.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

struct LibvirtHarness {
  char *virsh;
  char *root;
  char *uri;
  char **env;
  char *libvirt_version;
  char *qemu_version;
};

/* Kept short: libvirt's monitor sockets live under the root, and a UNIX socket path has
 * at most 107 bytes. */
#define ROOT_TEMPLATE "vcpuprobe-virt-XXXXXX"

static const char qemu_conf[] =
  "# A private QEMU driver for tests: nothing shared with the system's libvirt.\n"
  "stdio_handler = \"file\"\n"
  "security_driver = \"none\"\n"
  "dynamic_ownership = 0\n"
  "remember_owner = 0\n"
  "namespaces = [ ]\n"
  "cgroup_controllers = [ ]\n";

void
libvirt_harness_free (LibvirtHarness *harness)
{
  if (harness == NULL)
    return;
  if (harness->root != NULL)
    test_rmdir_r (harness->root);
  g_free (harness->virsh);
  g_free (harness->root);
  g_free (harness->uri);
  g_strfreev (harness->env);
  g_free (harness->libvirt_version);
  g_free (harness->qemu_version);
  g_free (harness);
}

void
libvirt_start_free (LibvirtStart *start)
{
  if (start == NULL)
    return;
  g_free (start->error);
  g_free (start->live_cpu);
  g_free (start->feature_words);
  g_free (start->qemu_cpu_arg);
  g_free (start);
}

/* Runs virsh on the private root with one command string (commands separated by ';',
 * as virsh reads them). FALSE with @error only when virsh could not run at all. */
static gboolean
run_virsh (LibvirtHarness *harness, const char *commands, char **out, char **err,
           GError **error)
{
  const char *argv[] = { harness->virsh, "-q", "-c", harness->uri, commands, NULL };
  int status;

  return g_spawn_sync (NULL, (char **) argv, harness->env, G_SPAWN_DEFAULT, NULL, NULL, out,
                       err, &status, error);
}

/* The value after "@label " on a line of virsh's `version` output, or NULL. */
static char *
version_field (const char *text, const char *label)
{
  const char *at = strstr (text, label);
  const char *end;

  if (at == NULL)
    return NULL;
  at += strlen (label);
  end = strchr (at, '\n');
  return g_strstrip (end != NULL ? g_strndup (at, end - at) : g_strdup (at));
}

LibvirtHarness *
libvirt_harness_new (char **skip_reason)
{
  g_autoptr (LibvirtHarness) harness = g_new0 (LibvirtHarness, 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *etc = NULL;
  g_autofree char *conf_path = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *log_outputs = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  harness->virsh = g_find_program_in_path ("virsh");
  if (harness->virsh == NULL)
    {
      *skip_reason = g_strdup ("virsh not found on PATH (Debian: libvirt-clients, "
                               "libvirt-daemon-driver-qemu)");
      return NULL;
    }
  harness->root = g_dir_make_tmp (ROOT_TEMPLATE, &error);
  if (harness->root == NULL)
    {
      *skip_reason = g_strdup_printf ("cannot make libvirt's root: %s", error->message);
      return NULL;
    }
  etc = g_build_filename (harness->root, "etc", NULL);
  conf_path = g_build_filename (etc, "qemu.conf", NULL);
  /* Where /dev/kvm is root's only, QEMU must run as root too; an unprivileged embedded
   * driver runs QEMU as its own user anyway. */
  conf = geteuid () == 0 ? g_strconcat (qemu_conf, "user = \"root\"\ngroup = \"root\"\n", NULL)
                         : g_strdup (qemu_conf);
  if (g_mkdir_with_parents (etc, 0700) != 0
      || !g_file_set_contents (conf_path, conf, -1, &error))
    {
      *skip_reason = g_strdup_printf ("cannot write %s: %s", conf_path,
                                      error != NULL ? error->message : g_strerror (errno));
      return NULL;
    }
  harness->uri = g_strdup_printf ("qemu:///embed?root=%s", harness->root);
  /* libvirt's own log goes to the root: only virsh's "error: ..." lines reach stderr. */
  log_outputs = g_strdup_printf ("3:file:%s/libvirt.log", harness->root);
  harness->env = g_environ_setenv (g_get_environ (), "LIBVIRT_LOG_OUTPUTS", log_outputs, TRUE);
  harness->env = g_environ_unsetenv (harness->env, "LIBVIRT_DEFAULT_URI");

  if (!run_virsh (harness, "version", &out, &err, &error))
    {
      *skip_reason = g_strdup_printf ("%s cannot run: %s", harness->virsh, error->message);
      return NULL;
    }
  harness->libvirt_version = version_field (out, "Using library: libvirt ");
  harness->qemu_version = version_field (out, "Running hypervisor: QEMU ");
  if (harness->libvirt_version == NULL || harness->qemu_version == NULL)
    {
      *skip_reason = g_strdup_printf ("libvirt's embedded QEMU driver does not run here "
                                      "(%s): %s", harness->uri, g_strstrip (err));
      return NULL;
    }
  return g_steal_pointer (&harness);
}

const char *
libvirt_harness_libvirt_version (LibvirtHarness *harness)
{
  return harness->libvirt_version;
}

const char *
libvirt_harness_qemu_version (LibvirtHarness *harness)
{
  return harness->qemu_version;
}

char *
libvirt_harness_host_model (LibvirtHarness *harness, const char *domain_type,
                            const char *machine, GError **error)
{
  g_autofree char *commands = g_strdup_printf ("domcapabilities --virttype %s --machine %s",
                                               domain_type, machine);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *start, *end;

  if (!run_virsh (harness, commands, &out, &err, error))
    return NULL;
  start = strstr (out, "<mode name='host-model' supported='yes'>");
  end = start != NULL ? strstr (start, "</mode>") : NULL;
  if (end == NULL)
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                   "no host-model CPU in libvirt's domain capabilities for %s on %s: %s",
                   domain_type, machine, g_strstrip (err));
      return NULL;
    }
  start += strlen ("<mode name='host-model' supported='yes'>");
  return g_strndup (start, end - start);
}

char *
libvirt_harness_capabilities (LibvirtHarness *harness, GError **error)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!run_virsh (harness, "capabilities", &out, &err, error))
    return NULL;
  if (strstr (out, "<capabilities>") == NULL)
    {
      g_set_error (error, G_SPAWN_ERROR, G_SPAWN_ERROR_FAILED,
                   "virsh capabilities gave no capabilities: %s", g_strstrip (err));
      return NULL;
    }
  return g_steal_pointer (&out);
}

/* The text of @out between the marks "@@@from" and "@@@to" (or the end), stripped. virsh's
 * echo may end its mark without a newline, so the marks are found wherever they stand. */
static char *
section (const char *out, const char *from, const char *to)
{
  g_autofree char *start_mark = g_strdup_printf ("@@@%s", from);
  g_autofree char *end_mark = g_strdup_printf ("@@@%s", to);
  const char *start = strstr (out, start_mark);
  const char *end;

  if (start == NULL)
    return NULL;
  start += strlen (start_mark);
  end = strstr (start, end_mark);
  return g_strstrip (end != NULL ? g_strndup (start, end - start) : g_strdup (start));
}

/* libvirt's message for a failed create: what follows virsh's own "error: Failed to
 * create domain from FILE" line, up to the error of the next command. QEMU's own words
 * ("qemu unexpectedly closed the monitor: ...") may take several lines: they are joined
 * by " | ". */
static char *
create_error (const char *err)
{
  const char *failed = strstr (err, "error: Failed to create domain");
  const char *message, *end;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (failed == NULL || (message = strstr (failed + 1, "\nerror: ")) == NULL)
    return g_strstrip (g_strdup (*err != '\0' ? err : "virsh said nothing"));
  message += strlen ("\nerror: ");
  end = strstr (message, "\nerror: ");
  text = g_strstrip (end != NULL ? g_strndup (message, end - message) : g_strdup (message));
  lines = g_strsplit (text, "\n", -1);
  return g_strjoinv (" | ", lines);
}

/* The -cpu argument of the last QEMU command line in the domain's log, where libvirt
 * writes each argument on a line of its own. */
static char *
logged_cpu_arg (LibvirtHarness *harness, const char *name)
{
  g_autofree char *log_name = g_strdup_printf ("%s.log", name);
  g_autofree char *path = g_build_filename (harness->root, "log", "qemu", log_name, NULL);
  g_autofree char *log = NULL;
  const char *at, *last = NULL;

  if (!g_file_get_contents (path, &log, NULL, NULL))
    return NULL;
  for (at = log; (at = strstr (at, "-cpu ")) != NULL; at++)
    last = at;
  if (last == NULL)
    return NULL;
  last += strlen ("-cpu ");
  return g_strndup (last, strcspn (last, " \\\n"));
}

LibvirtStart *
libvirt_harness_start (LibvirtHarness *harness, const char *name, const char *domain_xml,
                       GError **error)
{
  g_autoptr (LibvirtStart) start = g_new0 (LibvirtStart, 1);
  g_autofree char *file_name = g_strdup_printf ("%s.xml", name);
  g_autofree char *path = g_build_filename (harness->root, file_name, NULL);
  g_autofree char *commands = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gint64 begin;

  if (!g_file_set_contents (path, domain_xml, -1, error))
    return NULL;
  /* One virsh for everything: the embedded driver stops the domain when virsh exits.
   * The echo lines mark where each command's output begins. */
  commands = g_strdup_printf (
    "create %s; echo @@@cpu; dumpxml %s --xpath /domain/cpu; echo @@@words; "
    "qemu-monitor-command %s '{\"execute\":\"qom-get\",\"arguments\":"
    "{\"path\":\"/machine/unattached/device[0]\",\"property\":\"feature-words\"}}'; "
    "echo @@@end; destroy %s",
    path, name, name, name);
  begin = g_get_monotonic_time ();
  if (!run_virsh (harness, commands, &out, &err, error))
    return NULL;
  start->seconds = (double) (g_get_monotonic_time () - begin) / G_USEC_PER_SEC;
  g_unlink (path);

  start->started = strstr (err, "error: Failed to create domain") == NULL;
  if (start->started)
    {
      start->live_cpu = section (out, "cpu", "words");
      start->feature_words = section (out, "words", "end");
    }
  else
    start->error = create_error (err);
  start->qemu_cpu_arg = logged_cpu_arg (harness, name);
  return g_steal_pointer (&start);
}
