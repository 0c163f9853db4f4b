/* probe/baseline.h — the most capable CPU definition every host of a pool gives the guest
 * identically, computed from host profiles (probe/profile.h) alone.
 *
 * For every named model all the profiled QEMUs define (and libvirt's CPU map names, when
 * one is given), the definition starts as the model, and is settled host by host with
 * the facts the offline answers use (probe/profile-answer.h): QEMU's expansion of the
 * definition, toggles and dependency pass included, must lie within what each host's
 * QEMU supports under the accelerator (nothing filtered), and be the same on every host.
 * A feature some host filters is switched off; one the hosts' QEMUs define differently
 * is switched on where every host supports it, else off; until nothing changes. The
 * model whose settled guest has the most features wins (the earlier model on a tie).
 * Every feature of that model left out names the hosts and the layer that removed it:
 * "hardware" (the silicon lacks it), "kvm" (KVM does not offer it), "qemu" (QEMU under
 * this accelerator does not), "tcg", or "model" (that host's QEMU defines the model
 * without it), and "dependency" when it went with a prerequisite. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/libvirt-cpu-map.h"
#include "probe/profile.h"
#include "x86/feature-set.h"

#define PROBE_BASELINE_ERROR (probe_baseline_error_quark ())
GQuark probe_baseline_error_quark (void);

typedef enum {
  PROBE_BASELINE_ERROR_NO_MODEL,     /* no named model every host defines and answers for */
  PROBE_BASELINE_ERROR_UNANSWERED,   /* a profile holds no facts for the accel and machine */
} ProbeBaselineError;

typedef struct {
  char *host;                 /* the profile's host */
  char *layer;                /* "hardware", "kvm", "qemu", "tcg", "model", "dependency" */
} ProbeBaselineRemoval;

typedef struct {
  const X86Feature *feature;
  GPtrArray *removals;        /* ProbeBaselineRemoval *: every host that removed it */
} ProbeBaselineLeftOut;

typedef struct {
  char *model;                /* QEMU's name (libvirt's too: candidates are in both) */
  GPtrArray *enabled;         /* const X86Feature *: features switched on, table order */
  GPtrArray *disabled;        /* const X86Feature *: features switched off, table order */
  X86FeatureSet guest;        /* what every host gives the guest */
  GPtrArray *left_out;        /* ProbeBaselineLeftOut *: the model's features not in @guest */
  guint n_candidates;         /* models tried */
} ProbeBaseline;

void probe_baseline_free (ProbeBaseline *baseline);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeBaseline, probe_baseline_free)

/* The baseline of @profiles (ProbeProfile *, borrowed) under @accel on @machine; @map
 * (may be NULL) limits the candidates to the models and features libvirt names. */
ProbeBaseline *probe_baseline_compute (GPtrArray *profiles, const char *accel,
                                       const char *machine, const LibvirtCpuMap *map,
                                       GError **error);

/* The -cpu string: "MODEL,+a,-b" (QEMU's names). */
char *probe_baseline_cpu_string (const ProbeBaseline *baseline);
