/* tools/cmd-models.c — `vcpuprobe models [--probe-old]`: every named model, usable under
 * one accelerator or not, and which layer blocks each missing feature. QEMU older than 2.8
 * does not say (no unavailable-features): --probe-old then starts each model, paused, in a
 * throw-away QEMU (the post-start strategy of probe/probe.h) and reads what it filtered. */
#include "probe/models.h"
#include "probe/probe.h"
#include "tools/cmd-host.h"
#include "tools/commands.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "tools/output-xml.h"
#include "tools/qmp-source.h"

static void
models_text (GString *out, const ProbeAccelInfo *info, json_object *models, guint n_probed)
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
  else if (n_probed > 0)
    g_string_append_printf (out, "  usability of %u models read from a paused QEMU each "
                                 "(post-start), not from query-cpu-definitions\n", n_probed);
}

/* Starts @name paused under @accel and returns the features QEMU filtered out of it (the
 * model's unavailable features, as QEMU >= 2.8 lists them), or NULL. */
static GPtrArray *
post_start_unavailable (CliSource *source, const CliOptions *options, const ProbeHost *host,
                        const char *accel, const char *name, GError **error)
{
  g_autoptr (CpuDef) def = NULL;
  g_autoptr (ProbeResult) result = NULL;
  ProbeOptions probe;

  /* A model name, never a file of that name: QEMU listed it, so it is no user input. */
  def = cpu_def_from_qemu_cpu_string (name, error);
  if (def == NULL)
    return NULL;
  probe_options_init_source (&probe, cli_source_qmp (source), cli_source_deadline (source));
  probe.accel = accel;
  probe.machine = options->machine;
  probe.method = PROBE_METHOD_POST_START;
  /* The dump the host read already loaded, not one load per model. */
  probe.cpuid_dump = options->cpuid_dump != NULL ? host->hardware : NULL;
  result = probe_run (def, &probe, error);
  if (result == NULL)
    {
      g_prefix_error (error, "models --probe-old: %s: ", name);
      return NULL;
    }
  return x86_feature_set_to_names (&result->filtered, FALSE);
}

/* Fills "usable" and "blockers" of the models in @document that QEMU left unknown, or of
 * every model when --method post-start asks for the post-start answer throughout (on a
 * QEMU >= 2.8 both answers exist, and must agree). Returns the number of models probed,
 * or -1 with @error. */
static int
probe_old_models (CliSource *source, const CliOptions *options, const ProbeHost *host,
                  const ProbeAccelInfo *info, json_object *document, GError **error)
{
  json_object *models = json_object_object_get (document, "models");
  gboolean every_model = options->method == CLI_METHOD_POST_START;
  int n_probed = 0;

  for (size_t i = 0; i < json_object_array_length (models); i++)
    {
      json_object *model = json_object_array_get_idx (models, i);
      const char *name = json_object_get_string (json_object_object_get (model, "name"));
      json_object *blockers;
      g_autoptr (GPtrArray) unavailable = NULL;

      if (!every_model && json_object_object_get (model, "usable") != NULL)
        continue;
      unavailable = post_start_unavailable (source, options, host, info->accel, name, error);
      if (unavailable == NULL)
        return -1;
      blockers = json_object_new_array_ext ((int) unavailable->len);
      for (guint j = 0; j < unavailable->len; j++)
        {
          const char *feature = g_ptr_array_index (unavailable, j);
          json_object *blocker = json_object_new_object ();

          json_object_object_add (blocker, "feature", json_object_new_string (feature));
          json_object_object_add (blocker, "layer",
                                  json_object_new_string (probe_model_blocker_layer (host, info->accel,
                                                                                     feature)));
          json_object_array_add (blockers, blocker);
        }
      json_object_object_add (model, "usable", json_object_new_boolean (unavailable->len == 0));
      json_object_object_add (model, "blockers", blockers);
      n_probed++;
    }
  return n_probed;
}

static int
run_models (const CliOptions *options, GError **error)
{
  g_autoptr (CliSource) source = cli_source_new (options, error);
  g_autoptr (ProbeHost) host = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *accels[2] = { NULL, NULL };
  gboolean probe_old = cli_options_command_value (options, "probe-old") != NULL;
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
  if (probe_old && info->usable && info->models_known)
    n_probed = probe_old_models (source, options, host, info, document, error);
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
