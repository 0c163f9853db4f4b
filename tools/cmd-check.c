/* tools/cmd-check.c — `vcpuprobe check CPU [--strict]`: exit 0 when the guest gets exactly
 * CPU, 1 with the reasons when it does not (libvirt's check='full'; --strict also refuses
 * features QEMU adds, libvirt's "extra features"). */
#include "tools/commands.h"
#include "tools/cmd-expand.h"

static int
run_check (const CliOptions *options, GError **error)
{
  return cli_probe_cpu_command (options, TRUE,
                                cli_options_command_value (options, "strict") != NULL, error);
}

static const char *const check_args[] = { "CPU", NULL };
static const CliCommandOption check_options[] = {
  { "strict", NULL },
  { NULL, NULL },
};

const CliCommand cli_command_check = {
  .name = "check",
  .arg_names = check_args,
  .min_args = 1,
  .max_args = 1,
  .options = check_options,
  .run = run_check,
};
