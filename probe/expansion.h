/* probe/expansion.h — the expansion strategy (QEMU >= 2.9): ask a query-mode QEMU.
 *
 * The QEMU runs the guest's machine type (never "none", whose missing compat properties
 * mispredict old machine types) and accelerator, with -S. One pipelined burst asks for
 * the model list, the expansion of the model with the definition's properties, the
 * supported set (host with migratable=off under kvm, max with migratable=off otherwise)
 * and the machine list; only a property this QEMU does not know costs a second burst.
 * The guest gets the expansion ∩ the supported set, except that under kvm the bits QEMU
 * never switches on by itself in host (X86_FEATURE_NO_AUTO: ht, topoext,
 * kvm-hint-dedicated) are granted when the model asks for them, as QEMU's filter does. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/session.h"
#include "probe/qemu-info.h"

/* Reads the guest CPU of @model with expansion properties @props (borrowed; may be NULL)
 * in @session, a query-mode QEMU launched with machine @machine under @accel. Fills
 * @cpu (zeroed by the caller; probe_guest_cpu_clear() it). Fails with
 * PROBE_ERROR_UNKNOWN_MODEL when QEMU's list lacks @model, QMP errors otherwise. */
gboolean probe_expansion_read (QmpSession *session, const char *accel, const char *machine,
                               const char *model, json_object *props, ProbeGuestCpu *cpu,
                               gint64 deadline_us, GError **error);

/* Sends the expansion of @model without properties, for a baseline: collect it with
 * probe_expansion_collect(). Returns the command id, or 0 with @error. */
guint64  probe_expansion_send (QmpSession *session, const char *model, GError **error);
/* The features turned on by the expansion sent as @id, into @set (cleared first);
 * @known (may be NULL) receives every feature the model has a property for, which a
 * full expansion lists on or off. */
gboolean probe_expansion_collect (QmpSession *session, guint64 id, X86FeatureSet *set,
                                  X86FeatureSet *known, gint64 deadline_us, GError **error);

/* The supported-set model of @accel: "host" under kvm, "max" otherwise. */
const char *probe_supported_model (const char *accel);
