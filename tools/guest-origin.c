/* tools/guest-origin.c — the QEMU, accelerator and machine type of the guest a CPU
 * definition belongs to, and where each came from. */
#include "tools/guest-origin.h"

void
cli_guest_origin_init (CliGuestOrigin *origin, const CliOptions *options, const CpuDef *def)
{
  origin->options = *options;
  origin->resolved_mode = NULL;
  origin->resolved = NULL;

  /* Any source option names the QEMU: a socket or a recording has its own binary. */
  if (options->qemu != NULL || options->socket != NULL || options->replay != NULL)
    origin->binary = CLI_ORIGIN_OPTION;
  else if (def->domain_emulator != NULL)
    {
      origin->binary = CLI_ORIGIN_DOMAIN;
      origin->options.qemu = def->domain_emulator;
    }
  else
    origin->binary = CLI_ORIGIN_DEFAULT;

  /* A recording answers only for the accelerator it ran under, whatever the domain says. */
  if (options->accel != NULL)
    origin->accel = CLI_ORIGIN_OPTION;
  else if (options->replay != NULL)
    origin->accel = CLI_ORIGIN_RECORDING;
  else if (def->domain_accel != NULL)
    {
      origin->accel = CLI_ORIGIN_DOMAIN;
      origin->options.accel = def->domain_accel;
    }
  else
    origin->accel = CLI_ORIGIN_DEFAULT;

  if (options->machine != NULL)
    origin->machine = CLI_ORIGIN_OPTION;
  else if (def->domain_machine != NULL)
    {
      origin->machine = CLI_ORIGIN_DOMAIN;
      origin->options.machine = def->domain_machine;
    }
  else
    origin->machine = CLI_ORIGIN_DEFAULT;
}

const char *
cli_origin_name (CliOrigin origin)
{
  switch (origin)
    {
    case CLI_ORIGIN_OPTION:
      return "option";
    case CLI_ORIGIN_DOMAIN:
      return "domain";
    case CLI_ORIGIN_RECORDING:
      return "recording";
    case CLI_ORIGIN_DEFAULT:
    default:
      return "default";
    }
}

void
cli_guest_origin_add_json (const CliGuestOrigin *origin, json_object *result)
{
  json_object *qemu = NULL;
  json_object *sources = json_object_new_object ();

  if (!json_object_object_get_ex (result, "qemu", &qemu) || !json_object_is_type (qemu, json_type_object))
    {
      qemu = json_object_new_object ();
      json_object_object_add (result, "qemu", qemu);
    }
  json_object_object_add (sources, "binary", json_object_new_string (cli_origin_name (origin->binary)));
  json_object_object_add (sources, "accel", json_object_new_string (cli_origin_name (origin->accel)));
  json_object_object_add (sources, "machine",
                          json_object_new_string (cli_origin_name (origin->machine)));
  json_object_object_add (qemu, "sources", sources);
  if (origin->resolved_mode != NULL)
    json_object_object_add (result, "resolved_from", json_object_new_string (origin->resolved_mode));
  if (origin->resolved != NULL)
    {
      g_autofree char *xml = cpu_def_to_xml (origin->resolved);

      json_object_object_add (result, "resolved", json_object_new_string (xml));
    }
}

void
cli_guest_origin_add_text (const CliGuestOrigin *origin, GString *out)
{
  g_string_append_printf (out, "Sources: QEMU from %s, accel from %s, machine from %s\n",
                          cli_origin_name (origin->binary), cli_origin_name (origin->accel),
                          cli_origin_name (origin->machine));
  if (origin->resolved_mode != NULL && origin->resolved != NULL)
    g_string_append_printf (out, "CPU mode %s: probed as the custom CPU libvirt makes of it, "
                            "%s with %u features named\n", origin->resolved_mode,
                            origin->resolved->model, origin->resolved->features->len);
}
