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

static json_object *
copy_member (json_object *object, const char *name)
{
  json_object *value = NULL;

  json_object_object_get_ex (object, name, &value);
  return value != NULL ? json_object_get (value) : NULL;
}

json_object *
probe_models_to_json (const ProbeHost *host, const ProbeAccelInfo *info)
{
  json_object *root = json_object_new_object ();
  json_object *models = json_object_new_array ();

  json_object_object_add (root, "accel", json_object_new_string (info->accel));
  for (size_t i = 0; info->models != NULL && i < json_object_array_length (info->models); i++)
    {
      json_object *definition = json_object_array_get_idx (info->models, i);
      json_object *unavailable = json_object_object_get (definition, "unavailable");
      json_object *model = json_object_new_object ();
      json_object *blockers = json_object_new_array ();
      gboolean known = unavailable != NULL && json_object_is_type (unavailable, json_type_array);

      json_object_object_add (model, "name", copy_member (definition, "name"));
      json_object_object_add (model, "usable",
                              known ? json_object_new_boolean (json_object_array_length (unavailable) == 0)
                                    : NULL);
      for (size_t j = 0; known && j < json_object_array_length (unavailable); j++)
        {
          const char *name = json_object_get_string (json_object_array_get_idx (unavailable, j));
          json_object *blocker = json_object_new_object ();

          json_object_object_add (blocker, "feature", json_object_new_string (name));
          json_object_object_add (blocker, "layer",
                                  json_object_new_string (probe_model_blocker_layer (host, info->accel, name)));
          json_object_array_add (blockers, blocker);
        }
      json_object_object_add (model, "blockers", blockers);
      json_object_object_add (model, "alias_of", copy_member (definition, "alias_of"));
      json_object_object_add (model, "deprecated", copy_member (definition, "deprecated"));
      json_object_object_add (model, "migration_safe", copy_member (definition, "migration_safe"));
      json_object_array_add (models, model);
    }
  json_object_object_add (root, "models", models);
  return root;
}
