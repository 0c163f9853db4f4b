/* probe/models.c — named models, their usability and the layer behind each blocker. */
#include "probe/models.h"

#include <string.h>
#include "probe/cpu-def.h"

const char *
probe_model_blocker_layer (const ProbeHost *host, const char *accel, const char *feature_name)
{
  const X86Feature *feature = x86_feature_lookup (feature_name);
  gboolean from_cpuid;

  if (g_strcmp0 (accel, "kvm") != 0)
    return "accelerator";
  if (feature == NULL)
    return "qemu";
  from_cpuid = x86_feature_words (NULL)[feature->word].kind == X86_WORD_CPUID;
  if (host->kvm != NULL && host->kvm->available
      && x86_feature_set_has (&host->kvm->supported_features, feature))
    return "qemu";
  if (from_cpuid && host->hardware != NULL && !x86_feature_set_has (&host->hardware_all, feature))
    return "hardware";
  if (host->kvm == NULL || !host->kvm->available)
    return "unknown";
  return "kvm";
}

json_object *
probe_models_to_json (const ProbeHost *host, const ProbeAccelInfo *info)
{
  json_object *root = json_object_new_object ();
  json_object *models = json_object_new_array_ext ((int) info->n_models);

  json_object_object_add (root, "accel", json_object_new_string (info->accel));
  for (guint i = 0; i < info->n_models; i++)
    {
      const ProbeModel *definition = &info->models[i];
      json_object *model = json_object_new_object ();
      json_object *blockers = json_object_new_array_ext ((int) definition->n_unavailable);
      gboolean known = definition->unavailable != NULL;

      json_object_object_add (model, "name", json_object_new_string (definition->name));
      json_object_object_add (model, "usable",
                              known ? json_object_new_boolean (definition->n_unavailable == 0)
                                    : NULL);
      for (guint j = 0; j < definition->n_unavailable; j++)
        {
          const char *name = definition->unavailable[j];
          json_object *blocker = json_object_new_object ();

          json_object_object_add (blocker, "feature", json_object_new_string (name));
          json_object_object_add (blocker, "layer",
                                  json_object_new_string (probe_model_blocker_layer (host, info->accel, name)));
          json_object_array_add (blockers, blocker);
        }
      json_object_object_add (model, "blockers", blockers);
      json_object_object_add (model, "alias_of",
                              definition->alias_of != NULL
                              ? json_object_new_string (definition->alias_of) : NULL);
      json_object_object_add (model, "deprecated", json_object_new_boolean (definition->deprecated));
      json_object_object_add (model, "migration_safe",
                              definition->migration_safe < 0
                              ? NULL : json_object_new_boolean (definition->migration_safe));
      json_object_array_add (models, model);
    }
  json_object_object_add (root, "models", models);
  return root;
}

/* The blockers of a model that lacks @unavailable, as probe_models_to_json() writes them. */
static json_object *
blockers_json (const ProbeHost *host, const char *accel, const X86FeatureSet *unavailable)
{
  g_autoptr (GPtrArray) names = x86_feature_set_to_names (unavailable, FALSE);
  json_object *blockers = json_object_new_array_ext ((int) names->len);

  for (guint i = 0; i < names->len; i++)
    {
      const char *feature = g_ptr_array_index (names, i);
      json_object *blocker = json_object_new_object ();

      json_object_object_add (blocker, "feature", json_object_new_string (feature));
      json_object_object_add (blocker, "layer",
                              json_object_new_string (probe_model_blocker_layer (host, accel, feature)));
      json_object_array_add (blockers, blocker);
    }
  return blockers;
}

/* What probe_run() filters out of @name, for a QEMU without filtered-features. */
static gboolean
derived_unavailable (const ProbeOptions *options, const char *name, X86FeatureSet *unavailable,
                     GError **error)
{
  g_autoptr (CpuDef) def = NULL;
  g_autoptr (ProbeResult) result = NULL;
  ProbeOptions probe = *options;

  /* A model name, never a file of that name: QEMU listed it, so it is no user input. */
  def = cpu_def_from_qemu_cpu_string (name, error);
  if (def == NULL)
    return FALSE;
  probe.method = PROBE_METHOD_POST_START;
  result = probe_run (def, &probe, error);
  if (result == NULL)
    return FALSE;
  *unavailable = result->filtered;
  return TRUE;
}

int
probe_models_post_start (const ProbeHost *host, const ProbeAccelInfo *info,
                         json_object *document, const ProbeOptions *options,
                         gboolean every_model, GError **error)
{
  json_object *models = json_object_object_get (document, "models");
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GPtrArray) entries = g_ptr_array_new ();
  g_autoptr (GPtrArray) started = NULL;
  int n_settled = 0;

  for (size_t i = 0; i < json_object_array_length (models); i++)
    {
      json_object *model = json_object_array_get_idx (models, i);

      if (!every_model && json_object_object_get (model, "usable") != NULL)
        continue;
      g_ptr_array_add (names, (gpointer) json_object_get_string (json_object_object_get (model, "name")));
      g_ptr_array_add (entries, model);
    }
  if (names->len == 0)
    return 0;
  g_ptr_array_add (names, NULL);
  started = probe_start_cpus (options, (const char *const *) names->pdata);

  for (guint i = 0; i < started->len; i++)
    {
      ProbeStartedCpu *cpu = started->pdata[i];
      json_object *model = entries->pdata[i];
      X86FeatureSet unavailable = cpu->filtered;

      /* A recording without that session, or a running QEMU, which cannot start another:
       * what cannot be asked stays unknown, and says why. */
      if (g_error_matches (cpu->error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT)
          || !options->sessions_are_new)
        {
          json_object_object_add (model, "unknown_reason", json_object_new_string (cpu->error->message));
          continue;
        }
      if (g_error_matches (cpu->error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_EXITED))
        {
          /* A guest with this -cpu would not start either. */
          json_object_object_add (model, "usable", json_object_new_boolean (FALSE));
          json_object_object_add (model, "blockers", json_object_new_array ());
          json_object_object_add (model, "refused", json_object_new_string (cpu->error->message));
          n_settled++;
          continue;
        }
      if (cpu->error != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&cpu->error),
                                      "models: %s started paused: ", cpu->cpu);
          return -1;
        }
      if (!cpu->filtered_known && !derived_unavailable (options, cpu->cpu, &unavailable, error))
        {
          g_prefix_error (error, "models: %s started paused: ", cpu->cpu);
          return -1;
        }
      json_object_object_add (model, "usable", json_object_new_boolean (x86_feature_set_is_empty (&unavailable)));
      json_object_object_add (model, "blockers", blockers_json (host, info->accel, &unavailable));
      n_settled++;
    }
  return n_settled;
}
