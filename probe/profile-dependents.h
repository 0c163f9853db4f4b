/* probe/profile-dependents.h — which features clear which when QEMU expands a CPU model,
 * measured on the QEMU itself rather than copied from its source.
 *
 * QEMU's dependency pass (target/i386/cpu.c, x86_cpu_expand_features over
 * feature_dependencies) clears a feature whose prerequisite is off, once, in table order.
 * Expanding max with every feature on clears nothing; with one feature x off as well,
 * whatever else goes off is cleared because of x, directly or down a chain the table's
 * order lets through: x's dependents. Several features off clear the union of their
 * dependents (a feature cleared by the pass clears what a feature the user switched off
 * would, from its place in the table on, and those are in the union already). */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/profile-facts.h"
#include "qmp/session.h"

/* Asks @session's QEMU the expansions, pipelined, and returns {feature: [dependents]} for
 * every feature that has dependents (caller owns it), or NULL with @error when QEMU
 * stopped answering. Also hands @writer the all-on expansion (its "never").
 * @world_preset: the QEMU was launched with probe_facts_writer_world_props() as -global
 * settings, so each question names only the feature it switches off: some 20 bytes
 * instead of kilobytes, which QEMU reads a main-loop turn per byte (~5 µs each on 7.2). */
json_object *probe_dependents_measure (QmpSession *session, ProbeFactsWriter *writer,
                                       gboolean world_preset, gint64 deadline_us,
                                       GError **error);
