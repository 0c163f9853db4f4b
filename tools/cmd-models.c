/* tools/cmd-models.c — `vcpuprobe models`: every named model, usable under one accelerator
 * or not, and which layer blocks each missing feature. */
#include "probe/models.h"
#include "qmp/launch.h"
#include "tools/commands.h"
#include "tools/host-source.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "tools/output-xml.h"

static void
models_text (GString *out, const ProbeAccelInfo *info, json_object *models)
{
  g_string_append_printf (out, "Named models under %s (machine %s)\n", info->accel,
                          info->machine != NULL ? info->machine : "none");
  if (!info->usable)
    {
      g_string_append_printf (out, "  %s is unusable: %s\n", info->accel, info->failure);
      return;
    }
  g_string_append_printf (out, "  %-28s %-7s %-28s %-10s %-9s %s\n", "model", "usable", "alias of",
                          "deprecated", "migrate", "blockers (layer)");
  for (size_t i = 0; i < json_object_array_length (models); i++)
    {
      json_object *model = json_object_array_get_idx (models, i);
      json_object *usable = json_object_object_get (model, "usable");
      json_object *alias = json_object_object_get (model, "alias_of");
      json_object *safe = json_object_object_get (model, "migration_safe");
      json_object *blockers = json_object_object_get (model, "blockers");
      g_autoptr (GString) blocked = g_string_new (NULL);

      for (size_t j = 0; j < json_object_array_length (blockers); j++)
        {
          json_object *blocker = json_object_array_get_idx (blockers, j);

          g_string_append_printf (blocked, "%s%s(%s)", j > 0 ? " " : "",
                                  json_object_get_string (json_object_object_get (blocker, "feature")),
                                  json_object_get_string (json_object_object_get (blocker, "layer")));
        }
      g_string_append_printf (out, "  %-28s %-7s %-28s %-10s %-9s %s\n",
                              json_object_get_string (json_object_object_get (model, "name")),
                              usable == NULL ? "unknown" : json_object_get_boolean (usable) ? "yes" : "no",
                              alias != NULL ? json_object_get_string (alias) : "-",
                              json_object_get_boolean (json_object_object_get (model, "deprecated"))
                              ? "yes" : "no",
                              safe == NULL ? "?" : json_object_get_boolean (safe) ? "yes" : "no",
                              blocked->str);
    }
  if (!info->models_known)
    g_string_append (out, "  QEMU did not list its models\n");
}

static int
run_models (const CliOptions *options, GError **error)
{
  g_autoptr (CliHostSource) source = cli_host_source_new (options, error);
  g_autoptr (ProbeHost) host = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *accels[2] = { NULL, NULL };
  ProbeHostRequest request = { 0 };
  ProbeAccelInfo *info;
  json_object *document;
  gboolean printed;

  if (source == NULL)
    return -1;
  if (cli_options_command_value (options, "probe-old") != NULL)
    {
      g_set_error_literal (error, CLI_ERROR, CLI_ERROR_FAILURE,
                           "models --probe-old: the post-start probe of each model is not available yet");
      return -1;
    }
  accels[0] = options->accel != NULL ? options->accel
              : options->replay != NULL && qmp_source_recorded_accel (cli_host_source_qmp (source)) != NULL
              ? qmp_source_recorded_accel (cli_host_source_qmp (source))
              : qemu_default_accel ();
  request.source = cli_host_source_qmp (source);
  request.accels = accels;
  request.machine = options->machine;
  request.cpuid_dump = options->cpuid_dump;
  request.use_cache = !options->no_cache;
  request.closest_model = TRUE;
  request.deadline_us = cli_options_deadline (options);
  host = probe_host_read (&request, error);
  if (host == NULL || !cli_host_source_finish (source, error))
    return -1;
  info = host->accels->pdata[0];
  if (options->debug)
    g_printerr ("vcpuprobe: cache %s: %s\n", info->accel, info->cache_status);

  document = probe_models_to_json (host, info);
  switch (options->format)
    {
    case CLI_FORMAT_TEXT:
      models_text (out, info, json_object_object_get (document, "models"));
      printed = cli_output_print (out->str, error);
      break;
    case CLI_FORMAT_JSON:
      printed = cli_json_print (document, error);
      break;
    case CLI_FORMAT_XML:
      cli_xml_custom_mode (out, json_object_object_get (document, "models"), "");
      printed = cli_output_print (out->str, error);
      break;
    default:
      g_assert_not_reached ();
    }
  json_object_put (document);
  return printed ? CLI_EXIT_OK : -1;
}

static const CliCommandOption models_options[] = {
  { "probe-old", NULL },
  { NULL, NULL },
};

const CliCommand cli_command_models = {
  .name = "models",
  .arg_names = NULL,
  .min_args = 0,
  .max_args = 0,
  .options = models_options,
  .run = run_models,
};
