/* probe/libvirt-host-model.c — host-model as the custom CPU libvirt makes of it, and the
 * modes libvirt refuses. */
#include "probe/libvirt-host-model.h"

#include <string.h>
#include "probe/qemu-info.h"

void
libvirt_host_identity_clear (LibvirtHostIdentity *identity)
{
  g_clear_pointer (&identity->vendor, g_free);
}

gboolean
libvirt_host_identity_read (QmpSource *source, const char *accel, gint64 deadline_us,
                            LibvirtHostIdentity *identity, GError **error)
{
  QemuLaunchOptions launch = { .machine = "none", .accel = accel };
  g_autoptr (QmpConnection) connection = qmp_source_open (source, &launch, deadline_us, error);
  json_object *arguments, *model, *reply, *props = NULL, *vendor = NULL, *family, *number;
  gboolean found;

  if (connection == NULL)
    return FALSE;
  arguments = json_object_new_object ();
  model = json_object_new_object ();
  json_object_object_add (model, "name",
                          json_object_new_string (strcmp (accel, "kvm") == 0 ? "host" : "max"));
  json_object_object_add (arguments, "type", json_object_new_string ("full"));
  json_object_object_add (arguments, "model", model);
  reply = qmp_session_execute (qmp_connection_session (connection),
                               "query-cpu-model-expansion", arguments, deadline_us, error);
  json_object_put (arguments);
  if (reply == NULL)
    return FALSE;
  found = json_object_object_get_ex (reply, "model", &model)
          && json_object_object_get_ex (model, "props", &props)
          && json_object_object_get_ex (props, "vendor", &vendor)
          && json_object_is_type (vendor, json_type_string)
          && json_object_object_get_ex (props, "family", &family)
          && json_object_is_type (family, json_type_int)
          && json_object_object_get_ex (props, "model", &number)
          && json_object_is_type (number, json_type_int);
  if (found)
    {
      identity->vendor = g_strdup (json_object_get_string (vendor));
      identity->family = (guint) json_object_get_int (family);
      identity->model = (guint) json_object_get_int (number);
    }
  else
    g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                 "the full expansion of the %s host model lacks its vendor, family or model",
                 accel);
  json_object_put (reply);
  return found && qmp_connection_close (g_steal_pointer (&connection), error);
}

/* Gives @resolved every feature of the JSON array @names (QEMU's canonical names) with
 * @policy. */
static gboolean
set_named_features (CpuDef *resolved, json_object *names, CpuPolicy policy, GError **error)
{
  for (size_t i = 0; names != NULL && i < json_object_array_length (names); i++)
    {
      const char *name = json_object_get_string (json_object_array_get_idx (names, i));
      g_autoptr (GError) lookup_error = NULL;
      const X86Feature *feature = cpu_def_lookup_feature (name, &lookup_error);

      if (feature == NULL)
        {
          g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY, "host model: %s",
                       lookup_error->message);
          return FALSE;
        }
      cpu_def_set_policy (resolved, feature, policy);
    }
  return TRUE;
}

/* Gives @resolved every feature of @set with @policy, in the order of the map's features
 * (libvirt's order), when @map is given, else in table order. */
static void
set_feature_set (CpuDef *resolved, const X86FeatureSet *set, CpuPolicy policy,
                 const LibvirtCpuMap *map)
{
  guint n_features;
  const LibvirtCpuFeature *const *features = libvirt_cpu_map_features (map, &n_features);

  for (guint i = 0; i < n_features; i++)
    if (features[i]->feature != NULL && x86_feature_set_has (set, features[i]->feature))
      cpu_def_set_policy (resolved, features[i]->feature, policy);
}

/* QEMU's entry for the model @name, or NULL when QEMU lacks it; with @info not knowing
 * QEMU's models, @unknown (a model with nothing said about it). */
static const ProbeModel *
qemu_model (const ProbeAccelInfo *info, const char *name, const ProbeModel *unknown)
{
  if (!info->models_known)
    return unknown;
  for (guint i = 0; i < info->n_models; i++)
    if (strcmp (info->models[i].name, name) == 0)
      return &info->models[i];
  return NULL;
}

/* x86DataToCPU: what @model needs named to be @data. Required: data − model. Disabled:
 * model − data, QEMU's blockers of the model (its unavailable features, which would stop
 * QEMU's model from starting) not in data, and the model's features the map marks
 * removed, since libvirt passes those as off unless named. */
static void
candidate_changes (const LibvirtHostModel *host, const LibvirtCpuModel *model,
                   const ProbeModel *hv_model, const X86FeatureSet *data,
                   X86FeatureSet *required, X86FeatureSet *disabled)
{
  X86FeatureSet removed;

  x86_feature_set_subtract (required, data, &model->features);
  x86_feature_set_subtract (disabled, &model->features, data);
  for (guint i = 0; hv_model->unavailable != NULL && i < hv_model->n_unavailable; i++)
    {
      const X86Feature *feature = cpu_def_lookup_feature (hv_model->unavailable[i], NULL);
      const LibvirtCpuFeature *named = feature != NULL
                                       ? libvirt_cpu_map_feature_of (host->map, feature) : NULL;

      if (named != NULL && !x86_feature_set_has (required, feature))
        x86_feature_set_add (disabled, feature);
    }
  x86_feature_set_subtract (&removed, &model->removed, data);
  x86_feature_set_union (disabled, disabled, &removed);
}

static gboolean
signature_matches (const LibvirtCpuModel *model, const LibvirtHostIdentity *identity)
{
  for (guint i = 0; identity != NULL && i < model->signatures->len; i++)
    {
      const LibvirtCpuSignature *signature = &g_array_index (model->signatures,
                                                             LibvirtCpuSignature, i);

      if (signature->family == identity->family && signature->model == identity->model)
        return TRUE;
    }
  return FALSE;
}

/* x86Decode of the host model's named features into the map's best model. */
static const LibvirtCpuModel *
decode_host_model (const LibvirtHostModel *host, const X86FeatureSet *data,
                   X86FeatureSet *required, X86FeatureSet *disabled)
{
  g_autoptr (GPtrArray) names = libvirt_cpu_map_model_names (host->map);
  const char *vendor = host->identity != NULL
                       ? libvirt_cpu_map_vendor_name (host->map, host->identity->vendor) : NULL;
  const LibvirtCpuModel *best = NULL;
  guint best_weight = 0;
  gboolean best_signed = FALSE;

  /* Newest first, as libvirt walks its map; a later candidate must be strictly better. */
  for (guint i = names->len; i > 0; i--)
    {
      static const ProbeModel unknown = { 0 };
      const LibvirtCpuModel *model = libvirt_cpu_map_find_model (host->map,
                                                                 g_ptr_array_index (names, i - 1));
      const ProbeModel *hv_model = model != NULL ? qemu_model (host->info, model->name, &unknown)
                                                 : NULL;
      X86FeatureSet model_required, model_disabled;
      guint n_required, n_disabled, weight;
      gboolean is_signed;

      if (hv_model == NULL || !model->decode_guest
          || (vendor != NULL && model->vendor != NULL && strcmp (vendor, model->vendor) != 0))
        continue;
      candidate_changes (host, model, hv_model, data, &model_required, &model_disabled);
      n_required = x86_feature_set_count (&model_required);
      n_disabled = x86_feature_set_count (&model_disabled);
      /* libvirt 9.0 (x86DecodeUseCandidate) counts the features the candidate needs
       * named, required or disabled alike; later libvirt weighs disabled ones more. */
      weight = n_required + n_disabled;
      is_signed = signature_matches (model, host->identity);
      /* Once a model of the host's own family and model is found, only such models
       * compete. */
      if (best == NULL || (is_signed && !best_signed)
          || (is_signed == best_signed && weight < best_weight))
        {
          best = model;
          best_weight = weight;
          best_signed = is_signed;
          *required = model_required;
          *disabled = model_disabled;
        }
    }
  return best;
}

static CpuDef *
resolve_host_model (const CpuDef *def, const char *accel, const LibvirtHostModel *host,
                    GError **error)
{
  const ProbeAccelInfo *info = host != NULL ? host->info : NULL;
  g_autoptr (CpuDef) resolved = NULL;

  if (info == NULL || !info->usable)
    {
      g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                   "host-model: QEMU cannot run under %s%s%s", accel,
                   info != NULL && info->failure != NULL ? ": " : "",
                   info != NULL && info->failure != NULL ? info->failure : "");
      return NULL;
    }
  if (!info->expansion_known)
    {
      g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                   "host-model: QEMU gives no host model under %s%s%s", accel,
                   info->expansion_missing != NULL ? ": " : "",
                   info->expansion_missing != NULL ? info->expansion_missing : "");
      return NULL;
    }

  /* The host model's own words first, then the definition's features over them, as
   * x86UpdateHostModel does; the match becomes exact and the check stays as defined,
   * which for host-model means partial when the definition says nothing. */
  resolved = cpu_def_copy (def);
  resolved->mode = CPU_MODE_CUSTOM;
  resolved->match = CPU_MATCH_EXACT;
  resolved->fallback = CPU_FALLBACK_FORBID;
  if (resolved->check == CPU_CHECK_UNSET)
    resolved->check = CPU_CHECK_PARTIAL;   /* host-model's default, which custom lacks under tcg */
  g_array_set_size (resolved->features, 0);
  g_clear_pointer (&resolved->model, g_free);

  if (host->map != NULL)
    {
      X86FeatureSet data, required, disabled;
      const LibvirtCpuModel *model;

      /* libvirt names the whole host model (migratable off) through its map, so bits it
       * cannot name are not there; a guest gets only its migratable part, so what the
       * migratable host model lacks (invtsc) is not required. */
      x86_feature_set_intersect (&data, &info->supported, libvirt_cpu_map_known (host->map));
      model = decode_host_model (host, &data, &required, &disabled);
      if (model != NULL)
        x86_feature_set_intersect (&required, &required, &info->migratable);
      if (model == NULL)
        {
          g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                       "host-model: no model of libvirt's map that QEMU knows fits the %s "
                       "host model%s%s", accel, host->identity != NULL ? " of vendor " : "",
                       host->identity != NULL ? host->identity->vendor : "");
          return NULL;
        }
      resolved->model = g_strdup (model->name);
      set_feature_set (resolved, &required, CPU_POLICY_REQUIRE, host->map);
      set_feature_set (resolved, &disabled, CPU_POLICY_DISABLE, host->map);
    }
  else
    {
      json_object *model, *require = NULL, *disable = NULL;

      if (info->closest == NULL || !json_object_object_get_ex (info->closest, "model", &model))
        {
          g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                       "host-model: no named model of this QEMU is usable under %s to name "
                       "the host model with", accel);
          return NULL;
        }
      json_object_object_get_ex (info->closest, "require", &require);
      json_object_object_get_ex (info->closest, "disable", &disable);
      resolved->model = g_strdup (json_object_get_string (model));
      if (!set_named_features (resolved, require, CPU_POLICY_REQUIRE, error)
          || !set_named_features (resolved, disable, CPU_POLICY_DISABLE, error))
        return NULL;
    }
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *own = &g_array_index (def->features, CpuFeature, i);

      cpu_def_set_policy (resolved, own->feature, own->policy);
    }
  return g_steal_pointer (&resolved);
}

const char *
libvirt_cpu_mode_refusal (const CpuDef *def, const char *accel)
{
  /* libvirt 9.0: "CPU mode 'host-passthrough' for x86_64 qemu domain on x86_64 host is
   * not supported by hypervisor" (qemu_validate.c), before any QEMU runs. */
  if (def->mode == CPU_MODE_HOST_PASSTHROUGH && g_strcmp0 (accel, "tcg") == 0)
    return "libvirt refuses CPU mode 'host-passthrough' for a qemu (TCG) domain: "
           "only kvm passes the host CPU through";
  return NULL;
}

CpuDef *
libvirt_resolve_cpu_mode (const CpuDef *def, const char *accel, const LibvirtHostModel *host,
                          GError **error)
{
  const char *refusal = libvirt_cpu_mode_refusal (def, accel);

  if (refusal != NULL)
    {
      g_set_error_literal (error, PROBE_ERROR, PROBE_ERROR_BAD_INPUT, refusal);
      return NULL;
    }
  if (def->mode == CPU_MODE_HOST_MODEL)
    return resolve_host_model (def, accel, host, error);
  return cpu_def_copy (def);
}
