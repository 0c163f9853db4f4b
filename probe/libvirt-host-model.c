/* probe/libvirt-host-model.c — host-model as the custom CPU libvirt makes of it, and the
 * modes libvirt refuses. */
#include "probe/libvirt-host-model.h"

#include <string.h>
#include "probe/qemu-info.h"

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

static CpuDef *
resolve_host_model (const CpuDef *def, const char *accel, const ProbeAccelInfo *info,
                    GError **error)
{
  json_object *model, *require = NULL, *disable = NULL;
  g_autoptr (CpuDef) resolved = NULL;

  if (info == NULL || !info->usable)
    {
      g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                   "host-model: QEMU cannot run under %s%s%s", accel,
                   info != NULL && info->failure != NULL ? ": " : "",
                   info != NULL && info->failure != NULL ? info->failure : "");
      return NULL;
    }
  if (info->closest == NULL || !json_object_object_get_ex (info->closest, "model", &model))
    {
      g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                   "host-model: no named model of this QEMU is usable under %s to name the "
                   "host model with%s%s", accel,
                   info->expansion_missing != NULL ? ": " : "",
                   info->expansion_missing != NULL ? info->expansion_missing : "");
      return NULL;
    }
  json_object_object_get_ex (info->closest, "require", &require);
  json_object_object_get_ex (info->closest, "disable", &disable);

  /* The host model's own words first, then the definition's features over them, as
   * x86UpdateHostModel does; the match becomes exact and the check stays as defined,
   * which for host-model means partial when the definition says nothing. */
  resolved = cpu_def_copy (def);
  resolved->mode = CPU_MODE_CUSTOM;
  g_free (resolved->model);
  resolved->model = g_strdup (json_object_get_string (model));
  resolved->match = CPU_MATCH_EXACT;
  resolved->fallback = CPU_FALLBACK_FORBID;
  if (resolved->check == CPU_CHECK_UNSET)
    resolved->check = CPU_CHECK_PARTIAL;   /* host-model's default, which custom lacks under tcg */
  g_array_set_size (resolved->features, 0);
  if (!set_named_features (resolved, require, CPU_POLICY_REQUIRE, error)
      || !set_named_features (resolved, disable, CPU_POLICY_DISABLE, error))
    return NULL;
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *own = &g_array_index (def->features, CpuFeature, i);

      cpu_def_set_policy (resolved, own->feature, own->policy);
    }
  return g_steal_pointer (&resolved);
}

CpuDef *
libvirt_resolve_cpu_mode (const CpuDef *def, const char *accel, const ProbeAccelInfo *info,
                          GError **error)
{
  if (def->mode == CPU_MODE_HOST_PASSTHROUGH && g_strcmp0 (accel, "tcg") == 0)
    {
      g_set_error (error, PROBE_ERROR, PROBE_ERROR_BAD_INPUT,
                   "libvirt refuses CPU mode 'host-passthrough' for a qemu (TCG) domain: "
                   "only kvm passes the host CPU through");
      return NULL;
    }
  if (def->mode == CPU_MODE_HOST_MODEL)
    return resolve_host_model (def, accel, info, error);
  return cpu_def_copy (def);
}
