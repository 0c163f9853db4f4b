/* probe/libvirt-host-model.h — the CPU modes libvirt resolves itself, resolved as libvirt
 * does before it builds the QEMU command line.
 *
 * host-model: libvirt takes its host-model CPU from QEMU (the `host` model under kvm,
 * `max` under tcg, expanded with migratable on), names it as a custom CPU (a named model
 * plus required and disabled features), lays the definition's own features over it and
 * starts that (x86UpdateHostModel), with check partial unless the definition says
 * otherwise. host-passthrough is refused for a tcg guest (libvirt: "CPU mode
 * 'host-passthrough' for x86_64 qemu domain on x86_64 host is not supported by
 * hypervisor"); it and maximum are otherwise started as they are, check none by default. */
#pragma once
#include <glib.h>
#include "probe/cpu-def.h"
#include "probe/host-model.h"

/* The definition libvirt starts for @def (borrowed) under @accel ("kvm", "tcg"): for
 * host-model a new custom definition built from @info (the host facts of @accel, from
 * probe_host_read() with closest_model), for every other mode a copy of @def. The
 * domain context of @def (accelerator, machine, emulator) is kept. Errors:
 * PROBE_ERROR_BAD_INPUT for a mode libvirt refuses under @accel; PROBE_ERROR_REPLY when
 * @info has no host model to take (QEMU could not run under @accel, or no named model
 * is usable). */
CpuDef *libvirt_resolve_cpu_mode (const CpuDef *def, const char *accel,
                                  const ProbeAccelInfo *info, GError **error);

