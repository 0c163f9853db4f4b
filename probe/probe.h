/* probe/probe.h — before a VM starts: which CPU will this QEMU give the guest for this
 * definition, what QEMU adds and removes and why, and does that pass check='full'.
 *
 * probe_run() reads the version from the first greeting and picks the strategy
 * (probe/expansion.h for QEMU >= 2.9, probe/post-start.h for 1.5–2.8; --method forces
 * either on a QEMU >= 2.9). In parallel it asks a second QEMU for the baseline, the plain
 * model (tcg on machine "none"; a tcg post-start of the bare model on the guest's machine
 * type for QEMU < 2.9), which is what lets probe/compare.h name the reason of every
 * difference. The host layers (silicon, KVM) are read only when a removal under kvm needs
 * them. The result holds the original and the updated definition: every added feature
 * required, every removed one disabled, check='full', fallback='forbid', the versioned
 * model; fed back to probe_run() on the same host it passes with no difference. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/source.h"
#include "probe/cpu-def.h"
#include "probe/compare.h"
#include "probe/host-layers.h"
#include "probe/qemu-info.h"

/* Opens one QMP session as @launch says (machine, accel, cpu); the probe frees it with
 * qmp_connection_free(). May be called from a second thread while the first session is
 * open. A failure to open a baseline session is not fatal: see probe_run(). */
typedef QmpConnection *(*ProbeOpenFunc) (const QemuLaunchOptions *launch, gpointer user_data,
                                         GError **error);

/* Told after each CPU probe_start_cpus() has read: @done of @total. Called from the
 * threads that start the CPUs, one call at a time per thread: a caller that shows it must
 * serialise itself. */
typedef void (*ProbeProgressFunc) (guint done, guint total, gpointer user_data);

typedef struct {
  QmpSource *source;           /* where sessions come from, unless @open is set */
  ProbeOpenFunc open;          /* NULL: qmp_source_open() on @source */
  gpointer open_data;
  gboolean qemu_is_local;      /* the QEMU runs on this host (not a replay): read its layers */
  gboolean sessions_are_new;   /* each open starts a fresh QEMU (not an existing socket) */
  gboolean sessions_answer_at_once;  /* served in the opening thread (a profile): a second
                                      * session gains nothing from a thread of its own */
  const char *accel;           /* "kvm" or "tcg" */
  const char *machine;         /* NULL: QEMU's default machine ("pc" on x86) */
  ProbeMethod method;
  gboolean strict;             /* added features fail too */
  const X86CpuidDump *cpuid_dump;  /* the silicon of the host QEMU speaks for (borrowed), or NULL */
  gint64 deadline_us;          /* bounds the whole probe */
  ProbeProgressFunc progress;  /* NULL: nobody is told */
  gpointer progress_data;
} ProbeOptions;

/* Zeroes @options, then opens sessions from @source, whose kind sets qemu_is_local,
 * sessions_are_new and sessions_answer_at_once. */
void probe_options_init_source (ProbeOptions *options, QmpSource *source, gint64 deadline_us);

typedef struct {
  char *binary;                /* what the source says: a QEMU path, socket or recording */
  QmpVersion version;
  char *package;
  char *accel;
  char *machine;               /* resolved */
  ProbeMethod method;          /* the one used */
  gboolean baseline_known;     /* FALSE: no baseline QEMU could be asked (a socket) */
  CpuDef *requested;
  char *guest_model;           /* the versioned model the guest gets */
  X86FeatureSet guest;         /* enabled in the guest */
  X86FeatureSet filtered;      /* asked for, filtered out by the accelerator's support */
  gboolean supported_known;    /* @supported was read (not from a post-start alone) */
  X86FeatureSet supported;     /* QEMU's supported set: host (kvm) or max (tcg), migratable=off */
  X86FeatureSet unknown_to_qemu;  /* requested features this QEMU has no property for */
  ProbeDiff *diff;
  CpuDef *updated;
  char *cpu_string;            /* -cpu that reproduces the guest on this QEMU */
  char *supported_vendor;      /* the CPUID vendor of host (kvm) or max (tcg), or NULL */
  ProbeHostLayers *layers;     /* NULL when not needed */
} ProbeResult;

void probe_result_free (ProbeResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeResult, probe_result_free)

/* Probes @def (borrowed). Errors: PROBE_ERROR_UNKNOWN_MODEL and PROBE_ERROR_BAD_INPUT
 * for the definition, PROBE_ERROR_TOO_OLD ("QEMU 1.4.2 is older than 1.5.0: cannot read
 * the guest CPU"), QMP and launch errors for QEMU failures. */
ProbeResult *probe_run (const CpuDef *def, const ProbeOptions *options, GError **error);

/* One CPU started paused by probe_start_cpus(): what its first vCPU got. */
typedef struct {
  char *cpu;                   /* the -cpu string it was started with */
  GError *error;               /* why it was not read, else NULL: QEMU refused the -cpu
                                * line (QEMU_LAUNCH_ERROR_EXITED), a replay has no session
                                * launched with it (QMP_SOURCE_ERROR_NO_SEGMENT), ... */
  X86FeatureSet guest;         /* feature-words: what the guest gets */
  gboolean filtered_known;     /* QEMU has filtered-features (since 2.1) */
  X86FeatureSet filtered;      /* what QEMU took away for lack of support; empty when unknown */
  char *machine;               /* the machine type QEMU resolved (NULL when not read) */
} ProbeStartedCpu;

void probe_started_cpu_free (ProbeStartedCpu *started);

/* Starts one throw-away QEMU per -cpu string of @cpus (NULL-terminated) under
 * @options->accel on @options->machine (NULL: "pc"), vCPUs paused, and reads each CPU
 * with the post-start strategy (probe/post-start.h): the one way this tree reads a
 * started CPU. Launched QEMUs run in parallel, a few at a time (the processors of this
 * host, at least two, at most eight), all bounded by @options->deadline_us; a replay
 * serves them one after the other, and a -cpu string it has no session recorded with is
 * not opened at all (QMP_SOURCE_ERROR_NO_SEGMENT): a recording without metadata would
 * otherwise answer for any of them. A running QEMU (socket) cannot start CPUs: every
 * entry fails. Returns one ProbeStartedCpu per string, in order; per-CPU failures are in
 * the entries. */
GPtrArray *probe_start_cpus (const ProbeOptions *options, const char *const *cpus);

/* The JSON of DESIGN.md §4: qemu{binary,version,package,accel,machine}, method,
 * requested{model,features}, guest{model,enabled[],disabled[]}, added[], removed[],
 * verdict, problems[], updated{model,features}, xml{original,updated}, cpu_string,
 * layers{hardware,kvm}. Reference owned by the caller. */
json_object *probe_result_to_json (const ProbeResult *result);
