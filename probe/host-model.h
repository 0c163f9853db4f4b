/* probe/host-model.h — what this host can give a guest, from the silicon up to QEMU.
 *
 * One query-mode QEMU per accelerator (kvm, tcg), all started at once and each asked its
 * questions in one pipelined batch: the version, query-kvm, the default machine, every
 * named model with its unavailable features, and the host model (`host` under kvm, `max`
 * under tcg) expanded with migratable on and off; then, for the closest named model, one
 * expansion per usable model. A QEMU older than 2.9 cannot expand: there the host model
 * and the closest model's candidates are started paused instead, a few QEMUs at a time,
 * and read after start (probe_start_cpus(), the post-start strategy); `max` came with 2.9,
 * so tcg's set is then unknown. While QEMU answers, this process reads the hardware CPUID
 * of every CPU and KVM's tables. QEMU's answers for one accelerator are kept as a compact
 * JSON document ("facts"), which is what the cache stores: a warm run starts no QEMU. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/source.h"
#include "probe/qemu-info.h"
#include "x86/cpu-identity.h"
#include "x86/cpuid-dump.h"
#include "x86/kvm-cpuid.h"
#include "x86/feature-set.h"

/* One named model as query-cpu-definitions described it under one accelerator. The
 * strings belong to the ProbeAccelInfo the model is in. */
typedef struct {
  const char *name;
  const char *alias_of;            /* NULL: not an alias */
  const char *const *unavailable;  /* the blocking features, QEMU's order; NULL when QEMU
                                    * did not say (older than 2.8) */
  guint n_unavailable;
  gboolean deprecated;
  int migration_safe;              /* 1, 0, -1: not said */
} ProbeModel;

/* What one QEMU told us under one accelerator, decoded from the facts document. */
typedef struct {
  char *accel;
  gboolean usable;            /* the QEMU started with this accelerator */
  char *failure;              /* why not (QEMU's own error, or /dev/kvm's), else NULL */
  char *version;              /* "7.2.22"; NULL when QEMU never answered */
  char *package;
  char *machine;              /* the machine type it ran with ("none") */
  char *default_machine;      /* QEMU's default machine type, resolved; NULL when unknown */
  gboolean expansion_known;   /* QEMU >= 2.9 answered the host-model expansions */
  char *expansion_missing;    /* why not, else NULL */
  char *host_model_name;      /* "host" (kvm) or "max" (tcg) */
  char *host_model_method;    /* "expansion", "post-start" (a paused QEMU), NULL: not tried */
  char *host_model_machine;   /* post-start: the machine type the CPU was started on */
  char *host_model_note;      /* what the host model lacks for the way it was read, or NULL */
  X86FeatureSet migratable;   /* host model with migratable on */
  X86FeatureSet supported;    /* host model with migratable off */
  gboolean models_known;      /* query-cpu-definitions answered */
  gboolean lacking_known;     /* some model's unavailable features were listed (>= 2.8) */
  X86FeatureSet lacking;      /* every feature some model lacks here: the accelerator
                               * cannot give it, whatever else is unknown */
  ProbeModel *models;         /* in QEMU's order; NULL unless models_known */
  guint n_models;
  json_object *closest;       /* {"model","require":[],"disable":[],"changes","candidates"}
                               * or NULL; owned */
  char *cache_status;         /* "hit", "miss: why", "not cached: why" */
  GStringChunk *strings;      /* every string of @models, freed at once */
  GPtrArray *unavailable;     /* the arrays @models point into */
} ProbeAccelInfo;

void probe_accel_info_free (ProbeAccelInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeAccelInfo, probe_accel_info_free)

/* Decodes a facts document (borrowed: nothing of it is kept) that is ours or has passed
 * probe_host_facts_check(). */
ProbeAccelInfo *probe_accel_info_from_facts (json_object *facts);
/* TRUE when @facts, read back from the cache, are facts of this layout for @accel (NULL:
 * any) with every member in the shape the decoder and the reports read; else FALSE with
 * *@problem (newly allocated) saying what is wrong, and the entry is to be asked again. */
gboolean probe_host_facts_check (json_object *facts, const char *accel, char **problem);

typedef struct {
  QmpSource *source;            /* borrowed */
  const char *const *accels;    /* NULL-terminated: the accelerators to ask about */
  const char *machine;          /* NULL: "none" */
  const char *cpuid_dump;       /* the host's CPUID from this file instead of the CPU */
  gboolean use_cache;           /* ignored for replay and socket sources */
  const char *cache_directory;  /* NULL: probe_cache_default_directory() */
  gboolean closest_model;       /* also find the closest named model (costs expansions) */
  ProbeMethod method;           /* how the host model is read: AUTO expands it where QEMU
                                 * can (>= 2.9) and starts it paused where not; POST_START
                                 * starts it on any QEMU; EXPANSION never starts it */
  gint64 deadline_us;
} ProbeHostRequest;

typedef struct {
  X86CpuidDump *hardware;       /* every CPU; NULL when unreadable (hardware_failure) */
  char *hardware_failure;
  X86CpuIdentity *identity;     /* NULL with hardware */
  gboolean heterogeneous;       /* CPUs differ in more than their APIC ids */
  X86FeatureSet hardware_all;   /* on every CPU */
  X86FeatureSet hardware_some;  /* on at least one CPU */
  X86KvmCpuid *kvm;             /* the dump's KVM view when the dump carries one, else
                                 * /dev/kvm's; NULL when not read: the CPUID came from a
                                 * dump without one (another host's KVM), or QEMU's
                                 * answers from a recording */
  char *kvm_dump;               /* the dump @kvm came from; NULL: /dev/kvm or not read */
  GPtrArray *accels;            /* of ProbeAccelInfo, in request order */
  const char *binary;           /* the source's description; borrowed */
} ProbeHost;

void probe_host_free (ProbeHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeHost, probe_host_free)

/* Reads every layer as @request says. An accelerator QEMU cannot use is not an error
 * (its ProbeAccelInfo says why); errors: an unreadable --cpuid-dump, and a source that
 * cannot be used at all. */
ProbeHost *probe_host_read (const ProbeHostRequest *request, GError **error);

/* The info for @accel, or NULL. Borrowed. */
ProbeAccelInfo *probe_host_accel (const ProbeHost *host, const char *accel);

/* The facts of one accelerator, straight from QEMU (no cache): reference owned by the
 * caller; never NULL (a failure is described inside). Exposed for tests and benches. */
json_object *probe_host_gather_facts (QmpSource *source, const char *accel, const char *machine,
                                      gboolean closest_model, gint64 deadline_us);
