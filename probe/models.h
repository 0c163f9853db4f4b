/* probe/models.h — every named CPU model: usable under one accelerator, and if not, which
 * layer of the host blocks each missing feature. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/host-model.h"
#include "probe/probe.h"

/* The layer that keeps @feature (any spelling) from a guest under @accel:
 *   "accelerator"  the accelerator is not kvm (tcg emulates what it emulates);
 *   "hardware"     some logical CPU lacks it, and so does KVM;
 *   "kvm"          every CPU has it (or the silicon cannot tell: MSR bits), KVM does not;
 *   "qemu"         KVM supports it, or QEMU has no such feature, yet QEMU refuses it;
 *   "unknown"      the layers needed to decide were not read (a dump, a replay).
 * Static string. */
const char *probe_model_blocker_layer (const ProbeHost *host, const char *accel,
                                       const char *feature);

/* {"accel", "machine", "models": [{"name", "usable": true|false|null,
 *  "blockers": [{"feature", "layer"}], "alias_of", "deprecated", "migration_safe"}]}
 * for @info's accelerator; "usable" is null where QEMU did not say (older than 2.8).
 * Reference owned by the caller. */
json_object *probe_models_to_json (const ProbeHost *host, const ProbeAccelInfo *info);

/* Settles "usable" and "blockers" of the models in @document (probe_models_to_json() of
 * @info) that QEMU left unknown (older than 2.8: no unavailable-features), or of every
 * model with @every_model, by starting each model paused under @options->accel on
 * @options->machine: the features QEMU filtered out of it are what it lacks
 * (probe_start_cpus(), in parallel, bounded by @options->deadline_us). A QEMU without
 * filtered-features (1.5–2.0) gets each such model through probe_run(), which derives
 * them. A model QEMU refuses to start is unusable ("refused": QEMU's words); one a replay
 * has no session of, or any model of a running QEMU (a socket), stays unknown
 * ("unknown_reason"). Returns how many models were
 * settled, or -1 with @error when a probe failed otherwise (a timeout, a QEMU that
 * stopped answering), naming the model. */
int probe_models_post_start (const ProbeHost *host, const ProbeAccelInfo *info,
                             json_object *document, const ProbeOptions *options,
                             gboolean every_model, GError **error);
