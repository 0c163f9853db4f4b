/* tools/cmd-models.c — `vcpuprobe models [--probe-old]`: every named model, usable under
 * one accelerator or not, and which layer blocks each missing feature. QEMU older than 2.8
 * does not say (no unavailable-features): each model is then started, paused, in a
 * throw-away QEMU (the post-start strategy, probe_models_post_start()) and what QEMU
 * filtered is what it lacks. --probe-old, which once asked for that, is still accepted
 * and changes nothing; --method post-start does it for every model on any QEMU. */
#include "probe/models.h"
#include "probe/probe.h"
#include "tools/cmd-host.h"
#include "tools/commands.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "tools/output-xml.h"
#include "tools/progress.h"
#include "tools/qmp-source.h"

static void
models_text (GString *out, const ProbeAccelInfo *info, json_object *models, guint n_probed)
{
  guint n_not_started = 0;

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
      json_object *refused = json_object_object_get (model, "refused");
      g_autoptr (GString) blocked = g_string_new (NULL);

      if (json_object_object_get (model, "unknown_reason") != NULL)
        n_not_started++;
      if (refused != NULL)
        g_string_append (blocked, "QEMU refuses to start it (see --format json)");
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
  if (n_probed > 0)
    g_string_append_printf (out, "  usability of %u models read from a paused QEMU each "
                                 "(post-start), not from query-cpu-definitions\n", n_probed);
  if (n_not_started > 0)
    g_string_append_printf (out, "  usability of %u models unknown: QEMU did not say, and they "
                                 "could not be started paused here (--format json says why)\n",
                            n_not_started);
}

static int
run_models (const CliOptions *options, GError **error)
{
  g_autoptr (CliSource) source = cli_source_new (options, error);
  g_autoptr (ProbeHost) host = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *accels[2] = { NULL, NULL };
  ProbeAccelInfo *info;
  json_object *document;
  int n_probed = 0;
  gboolean printed;

  if (source == NULL)
    return -1;
  /* --accel, else the recording's, else this host's: one accelerator, as cli_source_accel(). */
  accels[0] = cli_source_accel (source);
  host = cli_host_read (source, options, accels, error);
  if (host == NULL)
    return -1;
  info = host->accels->pdata[0];
  if (options->debug)
    g_printerr ("vcpuprobe: cache %s: %s\n", info->accel, info->cache_status);

  document = probe_models_to_json (host, info);
  if (info->usable && info->models_known)
    {
      ProbeOptions probe;
      /* Every model started paused takes a QEMU start: seconds for a long list. */
      g_autoptr (CliProgress) progress = cli_progress_new ("probing models");

      probe_options_init_source (&probe, cli_source_qmp (source), cli_source_deadline (source));
      probe.progress = cli_progress_report;
      probe.progress_data = progress;
      probe.accel = info->accel;
      probe.machine = options->machine;
      /* The dump the host read already loaded, not one load per model. */
      probe.cpuid_dump = options->cpuid_dump != NULL ? host->hardware : NULL;
      n_probed = probe_models_post_start (host, info, document, &probe,
                                          options->method == CLI_METHOD_POST_START, error);
    }
  /* Only now is every session closed, so the recording holds the post-start ones too. */
  if (n_probed < 0)
    cli_source_finish_failed (source, error);
  if (n_probed < 0 || !cli_source_finish (source, error))
    {
      json_object_put (document);
      return -1;
    }
  /* No model list at all is QEMU's failure, not an empty answer a script could trust. */
  if (!info->usable)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_FAILURE, "%s unusable: %s", info->accel,
                   info->failure);
      json_object_put (document);
      return -1;
    }
  switch (options->format)
    {
    case CLI_FORMAT_TEXT:
      cli_source_add_replay_text (source, out);
      models_text (out, info, json_object_object_get (document, "models"), (guint) n_probed);
      printed = cli_output_print (out->str, error);
      break;
    case CLI_FORMAT_JSON:
      cli_source_add_replay_json (source, document);
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
