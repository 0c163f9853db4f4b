/* probe/models.c — named models, their usability and the layer behind each blocker. */
#include "probe/models.h"

#include <string.h>

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
