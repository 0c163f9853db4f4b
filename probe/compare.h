/* probe/compare.h — the guest CPU against the definition: what differs, why, and the verdict.
 *
 * Pure set arithmetic over named features (unnamed bits and features QEMU computes while
 * the guest runs, such as osxsave, are left out: libvirt can neither name nor ask for them).
 * The probe strategies gather the sets; this file only decides.
 *
 * The sets
 *   model      M   the plain model: the model's tcg expansion on machine "none", where no
 *                  accelerator default and no machine compat property applies and an
 *                  unversioned name resolves to -v1. tcg's own default (vme=off) still
 *                  applies there, so the features in `baseline_blind` are not known from M.
 *   versioned  V   the same for the versioned model the guest's machine type resolved the
 *                  model's alias to, when that is not v1 (else V = M).
 *   on, optional, off, forbidden: the definition's policies (force|require, optional,
 *                  disable|forbid, forbid).
 *   definition D = M ∪ on ∪ optional − off.
 *   expansion  E   the guest CPU before filtering: QEMU's expansion of the model with the
 *                  definition's properties in the guest's machine type and accelerator, or,
 *                  read from a started CPU, feature-words ∪ filtered-features.
 *   guest      G   what the guest gets: E filtered by the accelerator's supported set.
 *   supported  S   QEMU's supported set (host or max, migratable=off), when known.
 *
 * added = G − D, each with the first reason that holds:
 *   accel-default   the accelerator's defaults turn it on (kvm: x2apic, kvmclock, ...);
 *   model-version   it is in V, not in M;
 *   qemu-fixup      QEMU sets it behind every definition (hypervisor, ...; the detail says why);
 *   machine-type    the guest's machine type is not "none", so its compat properties may;
 *   qemu            none of the above explains it.
 * removed = (M ∪ on ∪ optional) − G, each with the first reason that holds:
 *   policy          the definition disables or forbids it;
 *   qemu            this QEMU has no property of that name (the detail says so);
 *   — absent from E (the model asked for it, QEMU's configuration turned it off):
 *   accelerator     a bit of the KVM leaf, which QEMU drops whole on any other accelerator;
 *   accel-default   the accelerator's defaults turn it off (kvm: acpi, monitor, svm);
 *   model-version   it is in M, not in V;
 *   machine-type    the machine type is not "none": its compat properties turned it off;
 *   qemu            otherwise;
 *   — in E, filtered out of G:
 *   accelerator     the accelerator is not kvm (tcg cannot emulate it: not in max);
 *   qemu            KVM supports it (whatever the silicon says: KVM emulates some bits),
 *                   yet QEMU's supported set lacks it;
 *   hardware        KVM lacks it and so does some logical CPU of the host, and KVM has no
 *                   rule to offer it anyway (x86/kvm-emulated.h);
 *   kvm             KVM lacks it, every CPU has it (MSR bits: KVM's feature-MSR answer), or
 *                   the silicon lacks it but KVM can emulate or derive it and this one did not;
 *   unknown         the layers needed to decide were not read (a replay without a dump).
 *   — in G as QEMU computes it, but refused by a vCPU: under kvm, the bits of the
 *   arch-capabilities MSR when this KVM refuses IA32_ARCH_CAPABILITIES on a vCPU
 *   (x86/kvm-arch-capabilities.h). QEMU aborts at start with any of them set, so
 *   probe_compare_refuse_msr_bits takes them out of G and they are removed by kvm; the
 *   updated definition disables them, and it starts.
 * emulated = the guest's features that the silicon lacks and KVM supplies by one of the
 *   rules of x86/kvm-emulated.h (kvm only; reason kvm-emulated, the rule as detail): no
 *   difference from the definition, but the layer the guest owes them to.
 * Features in `baseline_blind` that the definition does not name are in neither list, and
 * a bit QEMU sets through another feature's property (kvmclock2) is said by that feature.
 *
 * The verdict is "fail" when, and only when, one of these holds, each a problem:
 *   a force or require feature is not in G;
 *   a disable or forbid feature is in G;
 *   a forbid feature is supported by the host (S, else KVM under kvm);
 *   a feature of M was removed for any reason but policy (optional ones excepted: the
 *     definition let the host decide them);
 *   @strict, and a feature was added (libvirt's check='full' "extra features");
 *   QEMU would abort at start (refused_by_vcpu is not empty). */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "x86/feature-set.h"
#include "probe/host-layers.h"

typedef enum {
  PROBE_REASON_ACCEL_DEFAULT,
  PROBE_REASON_MODEL_VERSION,
  PROBE_REASON_QEMU_FIXUP,
  PROBE_REASON_MACHINE_TYPE,
  PROBE_REASON_POLICY,
  PROBE_REASON_ACCELERATOR,
  PROBE_REASON_HARDWARE,
  PROBE_REASON_KVM,
  PROBE_REASON_QEMU,
  PROBE_REASON_UNKNOWN,
  PROBE_REASON_KVM_EMULATED,
} ProbeReason;

/* "accel-default", "model-version", ... as in the JSON output. */
const char *probe_reason_name (ProbeReason reason);

typedef struct {
  const X86Feature *feature;
  ProbeReason reason;
  char *detail;          /* owned: "kvm", "Haswell-v2", "pc-i440fx-1.4", a phrase; or NULL */
} ProbeChange;

typedef struct {
  const char *accel;              /* of the guest: "kvm", "tcg", ... */
  const char *machine;            /* resolved machine type of the guest */
  const char *versioned_model;    /* the version the alias resolved to when not v1, else NULL */
  gboolean strict;

  X86FeatureSet model;            /* M */
  X86FeatureSet versioned;        /* V; ignored when versioned_model is NULL */
  X86FeatureSet baseline_blind;   /* features M cannot tell (see probe_compare_baseline_blind) */
  X86FeatureSet on;
  X86FeatureSet optional;
  X86FeatureSet off;
  X86FeatureSet forbidden;
  X86FeatureSet unknown_to_qemu;  /* requested features this QEMU has no property for */
  X86FeatureSet expansion;        /* E */
  X86FeatureSet guest;            /* G */
  gboolean supported_known;
  X86FeatureSet supported;        /* S */
  const ProbeHostLayers *layers;  /* borrowed; NULL: every layer unknown */
  X86FeatureSet refused_by_vcpu;  /* taken out of G by probe_compare_refuse_msr_bits */
} ProbeCompareInput;

typedef struct {
  GArray *added;       /* of ProbeChange, in table order */
  GArray *removed;     /* of ProbeChange, in table order */
  GPtrArray *problems; /* phrases ("avx2 required but removed by kvm"), owned */
  GArray *emulated;    /* of ProbeChange (kvm-emulated), in table order: see above */
  gboolean pass;
} ProbeDiff;

/* Under kvm, on a KVM whose vCPUs refuse IA32_ARCH_CAPABILITIES (input->layers says), moves
 * the guest's bits of that MSR from G to refused_by_vcpu; else leaves both as they are.
 * Call once G and the layers are set, before probe_compare. */
void probe_compare_refuse_msr_bits (ProbeCompareInput *input);

/* Under kvm with KVM's table known, takes out of G the features `host` never turns on by
 * itself (ht, topoext: X86_FEATURE_NO_AUTO) that KVM_GET_SUPPORTED_CPUID lacks. An expansion
 * cannot tell whether QEMU's filter lets them through (probe/expansion.c grants them), but
 * the filter asks KVM's table: Linux never offers ht (kvm/cpuid.c masks HTT), and topoext
 * only on hosts that have it. kvm-hint-dedicated lives in the KVM leaf, which QEMU fills
 * itself, and stays. Call once G and the layers are set, before probe_compare. */
void probe_compare_filter_no_auto (ProbeCompareInput *input);

ProbeDiff *probe_compare (const ProbeCompareInput *input);
void       probe_diff_free (ProbeDiff *diff);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeDiff, probe_diff_free)

/* The change of @feature in @changes, or NULL. Borrowed. */
const ProbeChange *probe_diff_find (GArray *changes, const X86Feature *feature);

/* [{"feature", "reason", "detail"?}], reference owned by the caller. */
json_object *probe_changes_to_json (GArray *changes);

/* The features whose value a baseline expanded under @baseline_accel cannot show, because
 * that accelerator's defaults force them off (tcg: vme), into @set (cleared first). */
void probe_compare_baseline_blind (const char *baseline_accel, X86FeatureSet *set);

/* The accelerator defaults QEMU applies to named models: @value_out receives on/off.
 * FALSE when @accel has no default for @feature. */
gboolean probe_compare_accel_default (const char *accel, const X86Feature *feature,
                                      gboolean *value_out);
