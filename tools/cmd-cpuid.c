/* tools/cmd-cpuid.c — `vcpuprobe cpuid [--cpu N]`: the host's raw CPUID, or a dump's. */
#include "tools/commands.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "qmp/launch.h"
#include "x86/cpu-identity.h"
#include "x86/host-cpuid.h"
#include "x86/kvm-cpuid.h"

/* Why `cpuid --cpuid-dump FILE --format json` reports no KVM: the dump's host had its own. */
#define KVM_NOT_READ_FOR_DUMP "not read: CPUID comes from a dump"

static gboolean
parse_cpu_number (const char *text, int *cpu_number, GError **error)
{
  guint64 number;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT, &number, NULL))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "--cpu %s: expected a CPU number", text);
      return FALSE;
    }
  *cpu_number = (int) number;
  return TRUE;
}

/* A dump holding only CPU @cpu_number of @dump, so every format prints just that CPU. */
static X86CpuidDump *
dump_one_cpu (const X86CpuidDump *dump, int cpu_number, const char *path, GError **error)
{
  X86CpuidDump *one;
  const X86CpuidLeaf *leaves;
  guint n_leaves;
  int index = x86_cpuid_dump_find_cpu (dump, (guint) cpu_number);

  if (index < 0)
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_NO_CPU, "--cpu %d: no CPU %d in %s",
                   cpu_number, cpu_number, path);
      return NULL;
    }
  one = x86_cpuid_dump_new ();
  x86_cpuid_dump_set_origin (one, x86_cpuid_dump_origin (dump));
  x86_cpuid_dump_add_cpu (one, (guint) cpu_number);
  leaves = x86_cpuid_dump_leaves (dump, (guint) index, &n_leaves);
  for (guint i = 0; i < n_leaves; i++)
    x86_cpuid_dump_set (one, 0, &leaves[i]);
  return one;
}

static X86CpuidDump *
read_cpuid (const CliOptions *options, int cpu_number, GError **error)
{
  g_autoptr (X86CpuidDump) dump = NULL;

  if (options->cpuid_dump == NULL)
    return x86_host_cpuid_read (cpu_number, error);

  dump = x86_cpuid_dump_load (options->cpuid_dump, error);
  if (dump == NULL)
    return NULL;
  if (cpu_number < 0)
    return g_steal_pointer (&dump);
  return dump_one_cpu (dump, cpu_number, options->cpuid_dump, error);
}

static gboolean
print_cpuid (const CliOptions *options, const X86CpuidDump *dump, gboolean options_cpu_given,
             GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (X86CpuIdentity) identity = NULL;
  g_autoptr (X86KvmCpuid) kvm = NULL;
  json_object *report;
  gboolean printed;

  switch (options->format)
    {
    case CLI_FORMAT_TEXT:
      cli_text_cpuid (dump, out);
      /* One CPU is headed as `cpuid -1r` heads it, so the two outputs are the same text; a
       * bare "CPU:" reads back as one CPU, which is all such a dump holds. */
      if (options_cpu_given && g_str_has_prefix (out->str, "CPU "))
        {
          const char *colon = strchr (out->str, ':');
          g_string_erase (out, 3, colon - out->str - 3);
        }
      return cli_output_print (out->str, error);

    case CLI_FORMAT_XML:
      x86_cpuid_dump_format_libvirt (dump, 0, out);
      return cli_output_print (out->str, error);

    case CLI_FORMAT_JSON:
      identity = x86_cpu_identity_from_dump (dump, options->cpuid_dump == NULL);
      if (options->cpuid_dump == NULL)
        kvm = x86_kvm_cpuid_read (NULL);
      report = cli_json_cpuid (dump, identity, kvm, KVM_NOT_READ_FOR_DUMP);
      printed = cli_json_print (report, error);
      json_object_put (report);
      return printed;
    }
  g_assert_not_reached ();
}

static int
run_cpuid (const CliOptions *options, GError **error)
{
  const char *cpu_option = cli_options_command_value (options, "cpu");
  g_autoptr (X86CpuidDump) dump = NULL;
  int cpu_number = -1;

  if (cpu_option != NULL && !parse_cpu_number (cpu_option, &cpu_number, error))
    return -1;
  /* cpuid starts no QEMU, but a wrapper passing the same global options to every command
   * should hear about a --qemu that names nothing here, not at its next command. */
  if (options->qemu != NULL)
    {
      g_autoptr (GError) binary_error = NULL;
      g_autofree char *binary = qemu_find_binary (options->qemu, &binary_error);

      if (binary == NULL)
        {
          g_set_error_literal (error, CLI_ERROR, CLI_ERROR_INPUT, binary_error->message);
          return -1;
        }
    }
  /* libvirt's <cpudata> describes one CPU: read no more than that one. */
  if (options->format == CLI_FORMAT_XML && cpu_number < 0 && options->cpuid_dump == NULL)
    cpu_number = 0;

  dump = read_cpuid (options, cpu_number, error);
  if (dump == NULL)
    return -1;
  if (!print_cpuid (options, dump, cpu_option != NULL, error))
    return -1;
  return CLI_EXIT_OK;
}

static const CliCommandOption cpuid_options[] = {
  { "cpu", "N" },
  { NULL, NULL },
};

const CliCommand cli_command_cpuid = {
  .name = "cpuid",
  .arg_names = NULL,
  .min_args = 0,
  .max_args = 0,
  .options = cpuid_options,
  .run = run_cpuid,
};
