/* probe/libvirt-rules.h — a libvirt <cpu> judged as libvirt 9.0's QEMU driver judges it.
 *
 * Three of libvirt's rules, each applied to what the probe found and never to a paraphrase:
 *
 * The -cpu argument (qemuBuildCpuModelArgStr): the model by the name the definition gives
 *   (libvirt passes it unversioned), each feature by QEMU's name (pclmuldq → pclmulqdq,
 *   lahf_lm → lahf-lm), force and require as "=on", disable and forbid as "=off"; and each
 *   feature the model marks removed='yes' in libvirt's map (EPYC: monitor, Icelake-Server:
 *   intel-pt) as "=off" unless the definition names it; host-passthrough with
 *   "migratable=on" unless the definition says. The probe runs on that definition.
 *
 * The verdict, by the definition's check (libvirt's default when unset: none for a custom
 *   CPU under tcg, else partial; none for host-passthrough and maximum):
 *   full     after start (virCPUx86UpdateLive). With M the libvirt model less its removed
 *            features, R the force|require features and D the disable|forbid ones,
 *            expected = (M ∪ R) − D; extra = every feature of the map the guest has and
 *            expected lacks; missing = every feature of expected the guest lacks, and every
 *            feature of the map QEMU filtered. Before start libvirt drops from the
 *            definition cmt, mbm_total, mbm_local, osxsave and ospke, and the features
 *            QEMU has no property for unless required (a required one makes QEMU refuse
 *            to start), and settles each optional one by the host (on when it has it,
 *            else off, so it is never filtered): R and D are taken after that. Either
 *            fails with libvirt's message
 *            "guest CPU doesn't match specification: extra features: a,b, missing
 *            features: c" (map order, libvirt's names). Bits the map cannot name (the KVM
 *            paravirt leaf) are not judged.
 *   partial  before start (virCPUCompare with the host-model CPU: QEMU's supported set,
 *            and under kvm also every feature of the host's own CPUID):
 *            fails when the definition's <vendor> is not that CPU's ("the CPU is
 *            incompatible with host CPU: host CPU vendor does not match required CPU
 *            vendor Intel", before any feature: x86Compute), or
 *            when that set lacks a feature of (M ∪ require) − (force ∪ optional ∪
 *            disable), "the CPU is incompatible with host CPU: Host CPU does not provide
 *            required features: a, b", or has a forbid feature ("Host CPU provides
 *            forbidden feature 'a'", the first of the definition).
 *   none     nothing is compared.
 *   host-passthrough and maximum have no model: check full holds the guest to their
 *   required features only (extra: a feature they disable that the guest has; missing: a
 *   required or filtered one), and partial compares nothing, as libvirt leaves these
 *   modes alone before start.
 *   Whatever the check, libvirt refuses a feature its map does not know ("unknown CPU
 *   feature: kvmclock"), a model it does not know ("Unknown CPU model Westmere-v1") and a
 *   required invtsc the guest lacks ("host doesn't support invariant TSC").
 *
 * The updated definition: the requested model, unversioned (QEMU's "-vN" of a model the
 *   map knows becomes the map's name; a model the map knows in no form, the map's model
 *   nearest to the guest; the features that differ settled below); the
 *   definition's features the
 *   map knows, optional ones resolved by the guest; every extra feature required and every
 *   missing one disabled, the model's removed features disabled, as libvirt's live
 *   definition has them, in libvirt's names; check='full'. It starts under check='full'
 *   and gives the same guest. What differs and the map cannot name is listed apart. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/cpu-def.h"
#include "probe/libvirt-cpu-map.h"

/* The rule a verdict was reached by, as the JSON "rule" member names it. */
typedef enum {
  LIBVIRT_RULE_QEMU_MODEL,     /* no libvirt map, or a -cpu string: QEMU's model (probe/compare.h) */
  LIBVIRT_RULE_CHECK_NONE,
  LIBVIRT_RULE_CHECK_PARTIAL,
  LIBVIRT_RULE_CHECK_FULL,
} LibvirtRule;

const char *libvirt_rule_name (LibvirtRule rule);  /* "qemu-model", "libvirt-check-full", ... */

/* The check libvirt applies to @def under @accel ("kvm", "tcg"): the definition's own, or
 * libvirt's default for its mode. */
CpuCheck libvirt_rules_effective_check (const CpuDef *def, const char *accel);

/* The definition as libvirt hands it to QEMU on -cpu: @def's mode and model, each feature
 * with its policy, then the model's removed features the definition does not name, as
 * disable. host-passthrough and maximum go as they are. A model the map does not know
 * keeps its features (libvirt refuses it anyway: see the verdict). Newly allocated. */
CpuDef *libvirt_rules_qemu_definition (const CpuDef *def, const LibvirtCpuMap *map);

typedef struct {
  LibvirtRule rule;
  CpuCheck check;              /* the one applied */
  gboolean check_defaulted;    /* the definition had none: libvirt's default was taken */
  gboolean pass;
  char *message;               /* libvirt's error when it refuses, else NULL */
  gboolean refused_before_start;   /* refused before QEMU would run (the definition, or
                                    * check='partial') */
  GPtrArray *refusals;         /* every refusal libvirt makes whatever the check (strings) */
  X86FeatureSet extra;         /* check full: map features the guest has, expected lacks */
  X86FeatureSet missing;       /* check full: expected or filtered map features */
  X86FeatureSet host_lacks;    /* check partial: required features the host-model CPU lacks */
  X86FeatureSet host_forbidden;/* check partial: forbid features it has */
  gboolean host_known;         /* partial could read the host-model CPU */
  CpuDef *updated;             /* the definition libvirt starts (see above) */
  X86FeatureSet unnamed_added; /* in the guest, not asked for, and no map name (kvmclock, ...) */
  X86FeatureSet unnamed_removed;
} LibvirtVerdict;

void libvirt_verdict_free (LibvirtVerdict *verdict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LibvirtVerdict, libvirt_verdict_free)

/* What the probe found, as the judge needs it (all borrowed). */
typedef struct {
  const CpuDef *written;       /* the definition as written, when libvirt resolved its mode
                                * (host-model) into the one judged; NULL: the same. Its
                                * check is the one applied, and check='partial' compares
                                * it, as libvirt does before it resolves. */
  const char *accel;           /* the guest's: "kvm" or "tcg" */
  const X86FeatureSet *guest;  /* enabled in the guest */
  const X86FeatureSet *filtered;   /* QEMU's unavailable/filtered features */
  gboolean supported_known;
  const X86FeatureSet *supported;  /* QEMU's host (kvm) or max (tcg) expansion, migratable=off */
  const X86FeatureSet *host_cpuid; /* the host's own CPUID, or NULL when unknown: under kvm
                                    * libvirt's host-model CPU for check='partial' is it
                                    * with QEMU's host model laid over it
                                    * (virQEMUCapsInitHostCPUModel's "full" CPU) */
  const X86FeatureSet *unknown_to_qemu;  /* requested features this QEMU has no property
                                         * for, or NULL */
  const char *host_vendor;     /* CPUID vendor of the host-model CPU check='partial' compares
                                * with (QEMU's host under kvm, max under tcg), or NULL */
  GArray *added;               /* of ProbeChange: the probe's layer reasons, for unnamed bits */
  GArray *removed;
} LibvirtGuestFacts;

/* Judges @def (the user's definition, borrowed) against @facts by libvirt's rules. */
LibvirtVerdict *libvirt_rules_judge (const CpuDef *def, const LibvirtCpuMap *map,
                                     const LibvirtGuestFacts *facts);

/* QEMU exited while starting the CPU libvirt would start (a -S start of its -cpu line):
 * libvirt refuses the domain then, unless it refused it before QEMU ran. @qemu_error
 * becomes the message and is added to the refusals. */
void libvirt_verdict_refuse_start (LibvirtVerdict *verdict, const char *qemu_error);

/* The map's model names nearest to @guest first: by the number of the map's features in
 * one and not the other, map order among equals; the <decode guest='off'> twins left
 * out. The array is the caller's, its strings the map's. */
GPtrArray *libvirt_rules_models_nearest (const LibvirtCpuMap *map, const X86FeatureSet *guest);

/* A feature set in libvirt's names, in map order; the features the map cannot name after
 * them, by QEMU's names. The array and its strings are the caller's. */
GPtrArray *libvirt_rules_feature_names (const LibvirtCpuMap *map, const X86FeatureSet *set);

/* The updated <cpu> in libvirt's names, with a comment naming what libvirt cannot name. */
char *libvirt_verdict_updated_xml (const LibvirtVerdict *verdict, const LibvirtCpuMap *map);

/* {"rule", "check", "check_defaulted", "verdict", "message", "refusals"[], "extra"[],
 *  "missing"[], "host_lacks"[], "host_forbidden"[], "not_in_libvirt_map"{"added"[],
 *  "removed"[]}, "updated", "xml_updated", "cpu_map"}: names in libvirt's spelling.
 * Reference owned by the caller. */
json_object *libvirt_verdict_to_json (const LibvirtVerdict *verdict, const LibvirtCpuMap *map);
