/* probe/libvirt-host-model.h — the CPU modes libvirt resolves itself, resolved as libvirt
 * does before it builds the QEMU command line.
 *
 * host-model: libvirt takes its host-model CPU from QEMU (the `host` model under kvm,
 * `max` under tcg, expanded with migratable off), names it in its own CPU map as a custom
 * CPU (x86Decode: of the map's models QEMU knows, newest first, those of the host model's
 * vendor or of none that it may name a guest's CPU with; the first that needs the fewest
 * features named, with required = host model − the model and disabled = the model − host
 * model, QEMU's blockers of the model and its removed features, in the map's features
 * only), lays the definition's own features over it and starts that
 * (x86UpdateHostModel), with check partial unless the definition says otherwise. A model
 * whose CPUID signature (family, model) is the host model's wins over one whose is not,
 * whatever the count. Of the required features a guest gets only those of the migratable
 * host model (libvirt drops those its map marks migratable='no', such as invtsc; here
 * QEMU's migratable expansion says which). Without libvirt's map, the QEMU model closest
 * to the migratable host model (probe/host-model.h) names it.
 *
 * host-passthrough is refused for a tcg guest (libvirt: "CPU mode 'host-passthrough' for
 * x86_64 qemu domain on x86_64 host is not supported by hypervisor"); it and maximum are
 * otherwise started as they are, check none by default. */
#pragma once
#include <glib.h>
#include "probe/cpu-def.h"
#include "probe/host-model.h"
#include "probe/libvirt-cpu-map.h"
#include "qmp/source.h"

/* Who QEMU says its host model is under one accelerator (`host` for kvm, `max` for tcg,
 * whose vendor and signature are QEMU's own, not the silicon's). */
typedef struct {
  char *vendor;                 /* CPUID vendor: "AuthenticAMD" */
  guint family;
  guint model;
} LibvirtHostIdentity;

void libvirt_host_identity_clear (LibvirtHostIdentity *identity);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LibvirtHostIdentity, libvirt_host_identity_clear)

/* Fills @identity from a full expansion of the host model of @accel in a query-mode QEMU
 * of @source. FALSE with @error when QEMU cannot say. */
gboolean libvirt_host_identity_read (QmpSource *source, const char *accel, gint64 deadline_us,
                                     LibvirtHostIdentity *identity, GError **error);

/* What libvirt's host-model CPU is made of, for one accelerator. */
typedef struct {
  const ProbeAccelInfo *info;   /* probe_host_read() facts with closest_model (borrowed) */
  const LibvirtCpuMap *map;     /* libvirt's map, or NULL: QEMU's closest model names it */
  const LibvirtHostIdentity *identity;  /* with @map: its vendor and signature, or NULL */
} LibvirtHostModel;

/* Why libvirt refuses to start @def under @accel before it runs QEMU (a static phrase), or
 * NULL when it does not: host-passthrough on a qemu (TCG) domain. */
const char *libvirt_cpu_mode_refusal (const CpuDef *def, const char *accel);

/* The definition libvirt starts for @def (borrowed) under @accel ("kvm", "tcg"): for
 * host-model a new custom definition built from @host, for every other mode a copy of
 * @def. The domain context of @def (accelerator, machine, emulator) is kept. @host may be
 * NULL unless @def is host-model. Errors: PROBE_ERROR_BAD_INPUT for a mode libvirt refuses
 * under @accel; PROBE_ERROR_REPLY when there is no host model to name (QEMU could not run
 * under @accel, or no model fits). */
CpuDef *libvirt_resolve_cpu_mode (const CpuDef *def, const char *accel,
                                  const LibvirtHostModel *host, GError **error);
