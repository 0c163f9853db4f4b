/* probe/qemu-info.c — reads what a QEMU says about itself (probe/qemu-info.h). */
#include "probe/qemu-info.h"

#include <string.h>

G_DEFINE_QUARK (probe-error-quark, probe_error)

static const char *const method_names[] = {
  [PROBE_METHOD_AUTO] = "auto",
  [PROBE_METHOD_EXPANSION] = "expansion",
  [PROBE_METHOD_POST_START] = "post-start",
};

const char *
probe_method_name (ProbeMethod method)
{
  g_return_val_if_fail (method < G_N_ELEMENTS (method_names), "auto");
  return method_names[method];
}

/* The oldest QEMU each method works on: feature-words came in 1.5, x86 expansion in 2.9. */
static const struct {
  ProbeMethod method;
  guint major, minor, micro;
} method_minimum[] = {
  { PROBE_METHOD_EXPANSION,  2, 9, 0 },
  { PROBE_METHOD_POST_START, 1, 5, 0 },
};

gboolean
probe_method_for_version (const QmpVersion *version, ProbeMethod requested,
                          ProbeMethod *method, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (method_minimum); i++)
    {
      if (requested != PROBE_METHOD_AUTO && requested != method_minimum[i].method)
        continue;
      if (qmp_version_at_least (version, method_minimum[i].major, method_minimum[i].minor,
                                method_minimum[i].micro))
        {
          *method = method_minimum[i].method;
          return TRUE;
        }
      if (requested != PROBE_METHOD_AUTO || method_minimum[i].method == PROBE_METHOD_POST_START)
        {
          g_autofree char *text = qmp_version_to_string (version);

          g_set_error (error, PROBE_ERROR, PROBE_ERROR_TOO_OLD,
                       requested == PROBE_METHOD_AUTO
                       ? "QEMU %s is older than %u.%u.%u: cannot read the guest CPU"
                       : "QEMU %s is older than %u.%u.%u: cannot use this method", text,
                       method_minimum[i].major, method_minimum[i].minor,
                       method_minimum[i].micro);
          return FALSE;
        }
    }
  g_return_val_if_reached (FALSE);
}

void
probe_cpu_model_free (ProbeCpuModel *model)
{
  if (model == NULL)
    return;
  g_free (model->name);
  g_free (model->alias_of);
  if (model->unavailable != NULL)
    g_ptr_array_unref (model->unavailable);
  g_free (model);
}

static const char *
member_string (json_object *object, const char *key)
{
  json_object *value;

  if (!json_object_object_get_ex (object, key, &value)
      || !json_object_is_type (value, json_type_string))
    return NULL;
  return json_object_get_string (value);
}

GPtrArray *
probe_cpu_models_parse (json_object *definitions, GError **error)
{
  g_autoptr (GPtrArray) models = NULL;

  if (!json_object_is_type (definitions, json_type_array))
    {
      g_set_error_literal (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                           "query-cpu-definitions: expected a list");
      return NULL;
    }
  models = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_cpu_model_free);
  for (size_t i = 0; i < json_object_array_length (definitions); i++)
    {
      json_object *entry = json_object_array_get_idx (definitions, i);
      json_object *unavailable;
      const char *name = member_string (entry, "name");
      ProbeCpuModel *model;

      if (name == NULL)
        {
          g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                       "query-cpu-definitions: entry %zu has no name", i);
          return NULL;
        }
      model = g_new0 (ProbeCpuModel, 1);
      model->name = g_strdup (name);
      model->alias_of = g_strdup (member_string (entry, "alias-of"));
      if (json_object_object_get_ex (entry, "unavailable-features", &unavailable)
          && json_object_is_type (unavailable, json_type_array))
        {
          model->unavailable = g_ptr_array_new_with_free_func (g_free);
          for (size_t j = 0; j < json_object_array_length (unavailable); j++)
            g_ptr_array_add (model->unavailable,
                             g_strdup (json_object_get_string (json_object_array_get_idx (unavailable, j))));
        }
      g_ptr_array_add (models, model);
    }
  return g_steal_pointer (&models);
}

const ProbeCpuModel *
probe_cpu_models_find (GPtrArray *models, const char *name)
{
  for (guint i = 0; i < models->len; i++)
    {
      const ProbeCpuModel *model = g_ptr_array_index (models, i);

      if (strcmp (model->name, name) == 0)
        return model;
    }
  return NULL;
}

static gboolean
member_true (json_object *object, const char *key)
{
  json_object *value;

  return json_object_object_get_ex (object, key, &value) && json_object_get_boolean (value);
}

char *
probe_machine_resolve (json_object *machines, const char *requested)
{
  if (json_object_is_type (machines, json_type_array))
    for (size_t i = 0; i < json_object_array_length (machines); i++)
      {
        json_object *entry = json_object_array_get_idx (machines, i);
        const char *name = member_string (entry, "name");
        const char *alias = member_string (entry, "alias");

        if (name == NULL)
          continue;
        if (requested == NULL ? member_true (entry, "is-default")
                              : g_strcmp0 (alias, requested) == 0 || strcmp (name, requested) == 0)
          return g_strdup (name);
      }
  return g_strdup (requested);
}

static json_object *
feature_property (json_object *props, const X86Feature *feature)
{
  const char *property = x86_feature_qemu_property (feature);
  json_object *value;

  if (property == NULL)
    return NULL;
  if (json_object_object_get_ex (props, property, &value))
    return value;
  if (property == feature->name && feature->aliases != NULL)
    for (guint i = 0; feature->aliases[i] != NULL; i++)
      if (json_object_object_get_ex (props, feature->aliases[i], &value))
        return value;
  return NULL;
}

gboolean
probe_features_from_expansion (json_object *expansion, X86FeatureSet *set, X86FeatureSet *known,
                               GError **error)
{
  json_object *model, *props;
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  x86_feature_set_clear (set);
  if (known != NULL)
    x86_feature_set_clear (known);
  if (!json_object_object_get_ex (expansion, "model", &model)
      || !json_object_object_get_ex (model, "props", &props)
      || !json_object_is_type (props, json_type_object))
    {
      g_set_error_literal (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                           "query-cpu-model-expansion: reply without model.props");
      return FALSE;
    }
  for (guint i = 0; i < n_features; i++)
    {
      json_object *value = feature_property (props, &features[i]);

      if (value == NULL)
        continue;
      if (known != NULL)
        x86_feature_set_add (known, &features[i]);
      if (json_object_is_type (value, json_type_boolean) && json_object_get_boolean (value))
        x86_feature_set_add (set, &features[i]);
    }
  return TRUE;
}

json_object *
probe_expansion_arguments (const char *model, json_object *props)
{
  json_object *arguments = json_object_new_object ();
  json_object *model_info = json_object_new_object ();

  json_object_object_add (model_info, "name", json_object_new_string (model));
  if (props != NULL)
    json_object_object_add (model_info, "props", props);
  json_object_object_add (arguments, "type", json_object_new_string ("full"));
  json_object_object_add (arguments, "model", model_info);
  return arguments;
}

void
probe_guest_cpu_clear (ProbeGuestCpu *cpu)
{
  g_clear_pointer (&cpu->machine, g_free);
  g_clear_pointer (&cpu->models, g_ptr_array_unref);
  g_clear_pointer (&cpu->supported_vendor, g_free);
}

gboolean
probe_check_model (GPtrArray *models, const char *model, GError **error)
{
  if (models == NULL || strcmp (model, "host") == 0 || strcmp (model, "max") == 0
      || probe_cpu_models_find (models, model) != NULL)
    return TRUE;
  g_set_error (error, PROBE_ERROR, PROBE_ERROR_UNKNOWN_MODEL,
               "CPU model %s: not a model of this QEMU", model);
  return FALSE;
}
