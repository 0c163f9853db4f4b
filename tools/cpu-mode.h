/* tools/cpu-mode.h — the CPU libvirt starts for a libvirt definition whose mode it
 * resolves itself (host-model; host-passthrough under tcg, which it refuses), asked of
 * the same QMP source the probe then uses. */
#pragma once
#include <glib.h>
#include "probe/cpu-def.h"
#include "probe/libvirt-cpu-map.h"
#include "tools/guest-origin.h"
#include "tools/options.h"
#include "tools/qmp-source.h"

/* The definition to probe for @def (borrowed), read from the CPU argument @argument,
 * under @accel: for host-model the custom CPU libvirt makes of this host's host model
 * (probe/libvirt-host-model.h; named in libvirt's @map, or without one by QEMU's closest
 * model; one or two more QEMUs, or the host cache), for a libvirt
 * host-passthrough under tcg an error, else a copy of @def. A -cpu string keeps QEMU's
 * meaning ("host" is QEMU's to refuse or not). Sets @origin's resolved_mode and, to the
 * definition returned, its resolved. */
CpuDef *cli_resolve_cpu_mode (const CpuDef *def, const char *argument, const char *accel,
                              const LibvirtCpuMap *map, CliGuestOrigin *origin,
                              CliSource *source, GError **error);
