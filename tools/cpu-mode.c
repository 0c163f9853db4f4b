/* tools/cpu-mode.c — libvirt's own CPU modes resolved before the probe. */
#include "tools/cpu-mode.h"

#include "probe/host-model.h"
#include "probe/libvirt-host-model.h"

CpuDef *
cli_resolve_cpu_mode (const CpuDef *def, const char *argument, const char *accel,
                      const LibvirtCpuMap *map, CliGuestOrigin *origin, CliSource *source,
                      GError **error)
{
  const char *accels[] = { accel, NULL };
  ProbeHostRequest request = {
    .source = cli_source_qmp (source),
    .accels = accels,
    .use_cache = !origin->options.no_cache,
    .closest_model = map == NULL,   /* with libvirt's map, libvirt's model names it */
    .deadline_us = cli_source_deadline (source),
  };
  g_autoptr (ProbeHost) host = NULL;
  g_auto (LibvirtHostIdentity) identity = { 0 };
  CpuDef *resolved;
  LibvirtHostModel host_model = { .map = map };

  /* Only a libvirt definition (a file) means libvirt's modes; QEMU judges its -cpu host. */
  if (!g_file_test (argument, G_FILE_TEST_IS_REGULAR))
    return cpu_def_copy (def);
  if (def->mode != CPU_MODE_HOST_MODEL)
    return libvirt_resolve_cpu_mode (def, accel, NULL, error);
  /* libvirt names the host model with models of its vendor, its signature first. */
  if (map != NULL)
    {
      if (!libvirt_host_identity_read (cli_source_qmp (source), accel,
                                       cli_source_deadline (source), &identity, error))
        return NULL;
      host_model.identity = &identity;
    }
  origin->resolved_mode = cpu_mode_name (def->mode);
  host = probe_host_read (&request, error);
  if (host == NULL)
    return NULL;
  host_model.info = probe_host_accel (host, accel);
  /* Host facts cached by a run that did not look for the closest model lack it: without
   * libvirt's map it names the host model, so ask QEMU. */
  if (map == NULL && host_model.info != NULL && host_model.info->usable
      && host_model.info->closest == NULL && g_str_has_prefix (host_model.info->cache_status, "hit"))
    {
      g_clear_pointer (&host, probe_host_free);
      request.use_cache = FALSE;
      host = probe_host_read (&request, error);
      if (host == NULL)
        return NULL;
      host_model.info = probe_host_accel (host, accel);
    }
  resolved = libvirt_resolve_cpu_mode (def, accel, &host_model, error);
  origin->resolved = resolved;
  return resolved;
}
