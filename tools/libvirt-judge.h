/* tools/libvirt-judge.h — which rule judges a check or expand, and how its verdict prints.
 *
 * A libvirt definition (a file with a <cpu> or a domain) is judged by libvirt's rules
 * (probe/libvirt-rules.h) when libvirt's CPU map can be read: the one --cpu-map names,
 * else the installed one. Without a map, and for a -cpu string, QEMU's model judges, as
 * probe/compare.h says. Either way the output says which rule it was ("rule"). */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/libvirt-rules.h"
#include "probe/probe.h"
#include "tools/options.h"

typedef struct {
  gboolean libvirt_input;      /* the CPU argument is a libvirt definition */
  LibvirtCpuMap *map;          /* NULL: no map (see @no_map_reason), or not libvirt input */
  char *no_map_reason;         /* why libvirt input is judged by QEMU's model, or NULL */
  CpuDef *original;            /* the user's definition (libvirt input only) */
  CpuDef *started;             /* after cli_judge_finish(): what libvirt starts (host-model
                                * resolved), with a map */
  LibvirtVerdict *verdict;     /* after cli_judge_finish(), with a map */
  const char *start_confirmed; /* NULL: not tried; "started", "refused" or "unknown" */
  X86FeatureSet updated_guest; /* the guest the updated definition gives (after
                                * cli_judge_finish(); settled by cli_judge_settle_updated()) */
} CliJudge;

void cli_judge_clear (CliJudge *judge);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliJudge, cli_judge_clear)

/* Chooses the rule for @def (borrowed), read from the CPU argument @argument. A --cpu-map
 * that cannot be read is an error (LIBVIRT_CPU_MAP_ERROR, exit 2); a missing installed
 * map only leaves QEMU's model to judge. */
gboolean cli_judge_start (CliJudge *judge, const CliOptions *options, const char *argument,
                          const CpuDef *def, GError **error);

/* The definition to probe for @def (borrowed; the one libvirt starts, after its own mode
 * resolution): with libvirt's rules, the -cpu libvirt builds (removed features off); else
 * a copy of @def. */
CpuDef *cli_judge_definition_to_probe (const CliJudge *judge, const CpuDef *def);

/* Judges @started (the definition libvirt starts, borrowed) by libvirt's rules against
 * @result, when they apply. check='partial' under kvm also reads the host's CPUID: from
 * @cpuid_dump when given, else from this host when @qemu_is_local (unknown otherwise). */
void cli_judge_finish (CliJudge *judge, const CpuDef *started, const ProbeResult *result,
                       const X86CpuidDump *cpuid_dump, gboolean qemu_is_local);

/* Under kvm, starts the -cpu libvirt builds once, paused (probe_start_cpus()), on the
 * guest's machine type: KVM can refuse a CPU only when QEMU sets its MSRs at start (a
 * nested host whose KVM offers arch-capabilities yet refuses its value makes QEMU abort),
 * which no expansion shows, and libvirt then refuses the domain. Only for QEMUs this run
 * launches itself; "start_confirmed" in the JSON says whether the start was tried and
 * how it went. */
void cli_judge_confirm_start (CliJudge *judge, const ProbeOptions *options,
                              const ProbeResult *result);

/* When the updated definition names another model than the one judged (libvirt refuses
 * "IvyBridge-v2", the update says "IvyBridge"; a model the map lacks, the nearest one it
 * has), probes it and pins each named feature by which its guest differs from the one
 * predicted for the original, then probes again, until the guests are the same (at most
 * three probes): machine-type compat properties can set features of the unversioned
 * model that its versions lack (qemu64 on pc-i440fx-2.0: popcnt abm sse4a), and a
 * stand-in model has features of its own. A stand-in this QEMU lacks gives way to the
 * next nearest. Only for QEMUs this run launches itself, or a host profile (@computed:
 * it answers any expansion its facts settle, as the QEMU would); a failed probe keeps
 * the update as it stands. */
void cli_judge_settle_updated (CliJudge *judge, const ProbeOptions *options,
                               gboolean computed);

/* The verdict that decides the exit status. */
gboolean cli_judge_pass (const CliJudge *judge, const ProbeResult *result);

/* Adds to @root (the JSON of @result) "rule", "libvirt" (the verdict of
 * libvirt_verdict_to_json() plus "cpu_string", the -cpu libvirt builds; null without
 * libvirt's rules) and "libvirt_map_note"; with libvirt's rules, "verdict" and
 * "problems" become libvirt's (the QEMU-model judgement moves to "qemu_model"{verdict,
 * problems}), "requested", "original" and "xml.original" the user's definition, and
 * "updated" and "xml.updated" the definition libvirt accepts, "cpu_string" the -cpu libvirt
 * builds for it, and "libvirt.updated_guest" the guest it gives (the guest's own, unless
 * the update renamed the model). */
void cli_judge_amend_json (const CliJudge *judge, json_object *root);

/* Text: the rule line; with libvirt's rules also libvirt's -cpu, verdict and message and
 * the updated definition, and TRUE (the caller then prints no verdict of its own). */
gboolean cli_judge_text (const CliJudge *judge, gboolean is_check, GString *out);

/* XML: the updated <cpu> libvirt accepts, then a comment with the verdict and the
 * original. FALSE when libvirt's rules do not apply (the caller prints its own). */
gboolean cli_judge_xml (const CliJudge *judge, GString *out);
