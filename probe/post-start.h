/* probe/post-start.h — the post-start strategy (QEMU >= 1.5): read a created CPU.
 *
 * A throw-away QEMU runs the guest's machine type with the definition as -cpu (legacy
 * +feat/-feat syntax, which every QEMU since 1.x accepts) and its vCPUs paused by -S, so
 * no guest code ever runs. The first CPU's feature-words are what the guest gets,
 * filtered-features what QEMU took away. One pipelined burst usually does it all: it asks
 * for the CPU's QOM path (query-cpus-fast's qom-path, query-cpus' qom_path) and, on the
 * chance that the answer is the usual /machine/unattached/device[0], reads both words
 * there at once. Otherwise a second burst reads them at the path given, or, for a QEMU
 * that names no path, a qom-list of /machine/unattached finds the first child<...cpu>
 * first: never more than three bursts before quit. A QEMU without filtered-features
 * (1.5–2.0) gets it derived as requested − feature-words, as libvirt does. */
#pragma once
#include <glib.h>
#include "qmp/session.h"
#include "probe/qemu-info.h"

/* Reads the guest CPU in @session (a QEMU started with -cpu and -S). Without
 * filtered-features, cpu->filtered_derived is set and cpu->expansion holds the guest
 * only: the caller, who knows what was requested, adds requested − guest. With
 * @ask_supported (QEMU >= 2.9) the same burst also fetches the supported set of @accel
 * and the model list. @launched_machine is the machine type QEMU was started with.
 * Fills @cpu (zeroed by the caller; probe_guest_cpu_clear() it). */
gboolean probe_post_start_read (QmpSession *session, const char *accel,
                                const char *launched_machine, gboolean ask_supported, ProbeGuestCpu *cpu,
                                gint64 deadline_us, GError **error);

/* Adds to @refused the features that @message, the QEMU_LAUNCH_ERROR_EXITED of a QEMU
 * that refused its -cpu line (its stderr tail included), names as properties it lacks:
 * "Property 'Haswell-x86_64-cpu.sha512' not found" (feature properties; early 2.x leaves
 * the type name out), "CPU feature sha512 not found" (the 2.x parser of +feat) and
 * "unrecognized feature sha512" (a feat=value the 1.x parser does not know). Names the
 * feature table does not know are skipped. TRUE when any feature was added. */
gboolean probe_post_start_refused_features (const char *message, X86FeatureSet *refused);

/* The first CPU's QOM path in a qom-list reply of /machine/unattached (borrowed): the
 * first child<...cpu> entry. Newly allocated, or NULL when there is none. */
char *probe_post_start_cpu_in_list (json_object *children);
