/* probe/expansion.c — the expansion strategy of probe/expansion.h. */
#include "probe/expansion.h"

#include <string.h>

const char *
probe_supported_model (const char *accel)
{
  return g_strcmp0 (accel, "kvm") == 0 ? "host" : "max";
}

static json_object *
supported_arguments (const char *accel)
{
  json_object *props = json_object_new_object ();

  json_object_object_add (props, "migratable", json_object_new_boolean (FALSE));
  return probe_expansion_arguments (probe_supported_model (accel), props);
}

guint64
probe_expansion_send (QmpSession *session, const char *model, GError **error)
{
  json_object *arguments = probe_expansion_arguments (model, NULL);
  guint64 id = qmp_session_send (session, "query-cpu-model-expansion", arguments, error);

  json_object_put (arguments);
  return id;
}

gboolean
probe_expansion_collect (QmpSession *session, guint64 id, X86FeatureSet *set,
                         X86FeatureSet *known, gint64 deadline_us, GError **error)
{
  g_autofree char *reply = qmp_session_wait_text (session, id, deadline_us, error);

  return reply != NULL && probe_features_from_expansion_text (reply, set, known, NULL, error);
}

/* Drops from @props (a copy is returned, caller owns it) every feature QEMU has no
 * property for, noting them in @unknown. */
static json_object *
props_known_to_qemu (json_object *props, const X86FeatureSet *known, X86FeatureSet *unknown)
{
  json_object *kept = json_object_new_object ();

  json_object_object_foreach (props, name, value)
    {
      const X86Feature *feature = x86_feature_lookup_property (name);

      if (feature != NULL && !x86_feature_set_has (known, feature))
        {
          x86_feature_set_add (unknown, feature);
          continue;
        }
      json_object_object_add (kept, name, json_object_get (value));
    }
  return kept;
}

/* Bits the filter lets through although host never turns them on by itself. */
static void
granted_without_support (const char *accel, X86FeatureSet *set)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  x86_feature_set_clear (set);
  if (g_strcmp0 (accel, "kvm") != 0)
    return;
  for (guint i = 0; i < n_features; i++)
    if (features[i].flags & X86_FEATURE_NO_AUTO)
      x86_feature_set_add (set, &features[i]);
}

typedef struct {
  guint64 definitions, expansion, supported, machines;
} Burst;

gboolean
probe_expansion_read (QmpSession *session, const char *accel, const char *machine,
                      const char *model, json_object *props, ProbeGuestCpu *cpu,
                      gint64 deadline_us, GError **error)
{
  g_autofree char *definitions = NULL;
  g_autofree char *expansion = NULL;
  g_autofree char *supported = NULL;
  g_autofree char *machines = NULL;
  g_autoptr (ProbeJson) expansion_args = probe_expansion_arguments (model, json_object_get (props));
  g_autoptr (ProbeJson) supported_args = supported_arguments (accel);
  g_autoptr (GError) expansion_error = NULL;
  X86FeatureSet known, granted;
  Burst burst = { 0 };

  if ((burst.definitions = qmp_session_send (session, "query-cpu-definitions", NULL, error)) == 0
      || (burst.expansion = qmp_session_send (session, "query-cpu-model-expansion",
                                              expansion_args, error)) == 0
      || (burst.supported = qmp_session_send (session, "query-cpu-model-expansion",
                                              supported_args, error)) == 0
      || (burst.machines = qmp_session_send (session, "query-machines", NULL, error)) == 0)
    return FALSE;

  /* A QEMU may lack query-cpu-definitions or query-machines; a conversation that broke
   * while they were answered leaves the models unchecked and the machine type unresolved,
   * an answer that must not pass for this QEMU's. */
  if (!qmp_session_wait_optional_text (session, burst.definitions, &definitions, deadline_us,
                                       error))
    return FALSE;
  expansion = qmp_session_wait_text (session, burst.expansion, deadline_us, &expansion_error);
  supported = qmp_session_wait_text (session, burst.supported, deadline_us, error);
  if (supported == NULL)
    return FALSE;
  if (!qmp_session_wait_optional_text (session, burst.machines, &machines, deadline_us, error))
    return FALSE;

  if (definitions != NULL && (cpu->models = probe_cpu_models_parse (definitions, error)) == NULL)
    return FALSE;
  if (!probe_check_model (cpu->models, model, error))
    return FALSE;
  cpu->machine = probe_machine_resolve (machines, machine);

  /* The "vendor" property: whose CPU libvirt compares with under check='partial' (the
   * host's under kvm; QEMU's own choice for max under tcg). */
  if (!probe_features_from_expansion_text (supported, &cpu->supported, &known,
                                           &cpu->supported_vendor, error))
    return FALSE;
  cpu->supported_known = TRUE;

  x86_feature_set_clear (&cpu->unknown_to_qemu);
  if (expansion == NULL && props != NULL
      && g_error_matches (expansion_error, QMP_ERROR, QMP_ERROR_COMMAND))
    {
      /* A property QEMU lacks fails the whole expansion; ask again without it. */
      g_autoptr (ProbeJson) kept = props_known_to_qemu (props, &known, &cpu->unknown_to_qemu);

      if (!x86_feature_set_is_empty (&cpu->unknown_to_qemu))
        {
          g_autoptr (ProbeJson) retry_args = probe_expansion_arguments (model, json_object_get (kept));

          g_clear_error (&expansion_error);
          guint64 retry = qmp_session_send (session, "query-cpu-model-expansion", retry_args,
                                            &expansion_error);

          if (retry != 0)
            expansion = qmp_session_wait_text (session, retry, deadline_us, &expansion_error);
        }
    }
  if (expansion == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&expansion_error),
                                  "expansion of CPU model %s: ", model);
      return FALSE;
    }
  if (!probe_features_from_expansion_text (expansion, &cpu->expansion, NULL, NULL, error))
    return FALSE;

  granted_without_support (accel, &granted);
  x86_feature_set_union (&granted, &granted, &cpu->supported);
  x86_feature_set_intersect (&cpu->guest, &cpu->expansion, &granted);
  return TRUE;
}
