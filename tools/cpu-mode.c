/* tools/cpu-mode.c — libvirt's own CPU modes resolved before the probe. */
#include "tools/cpu-mode.h"

#include "probe/host-model.h"
#include "probe/libvirt-host-model.h"

CpuDef *
cli_resolve_cpu_mode (const CpuDef *def, const char *argument, const char *accel,
                      CliGuestOrigin *origin, CliSource *source, GError **error)
{
  const char *accels[] = { accel, NULL };
  ProbeHostRequest request = {
    .source = cli_source_qmp (source),
    .accels = accels,
    .use_cache = !origin->options.no_cache,
    .closest_model = TRUE,
    .deadline_us = cli_source_deadline (source),
  };
  g_autoptr (ProbeHost) host = NULL;
  ProbeAccelInfo *info;

  /* Only a libvirt definition (a file) means libvirt's modes; QEMU judges its -cpu host. */
  if (!g_file_test (argument, G_FILE_TEST_IS_REGULAR))
    return cpu_def_copy (def);
  if (def->mode != CPU_MODE_HOST_MODEL)
    return libvirt_resolve_cpu_mode (def, accel, NULL, error);
  origin->resolved_mode = cpu_mode_name (def->mode);
  host = probe_host_read (&request, error);
  if (host == NULL)
    return NULL;
  info = probe_host_accel (host, accel);
  /* Host facts cached by a run that did not look for the closest model lack it: ask QEMU. */
  if (info != NULL && info->usable && info->closest == NULL
      && g_str_has_prefix (info->cache_status, "hit"))
    {
      g_clear_pointer (&host, probe_host_free);
      request.use_cache = FALSE;
      host = probe_host_read (&request, error);
      if (host == NULL)
        return NULL;
      info = probe_host_accel (host, accel);
    }
  return libvirt_resolve_cpu_mode (def, accel, info, error);
}
