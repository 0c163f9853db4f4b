/* probe/node-labels.h — this node's Kubernetes labels, in the scheme KubeVirt's node
 * labeller uses, as a Node Feature Discovery local-source feature file.
 *
 * The scheme is KubeVirt's (kubevirt/kubevirt: staging/src/kubevirt.io/api/core/v1/types.go
 * for the prefixes, pkg/virt-handler/node-labeller/node_labeller.go prepareLabels() for
 * which labels it emits and with what value):
 *   cpu-model.node.kubevirt.io/<Model>=true            a model a guest can be given here
 *   cpu-model-migration.node.kubevirt.io/<Model>=true  the same models, and the host model
 *   cpu-feature.node.kubevirt.io/<feature>=true        a feature a guest can have here
 *   host-model-cpu.node.kubevirt.io/<Model>=true       libvirt's name of the host-model CPU
 *   host-model-required-features.node.kubevirt.io/<feature>=true  what host-model adds to it
 *   cpu-vendor.node.kubevirt.io/<Vendor>=true          the host model's vendor ("Intel")
 *   cpu-timer.node.kubevirt.io/tsc-frequency=<Hz>      under kvm: the TSC rate of a vCPU
 *   cpu-timer.node.kubevirt.io/tsc-scalable=true|false  and whether KVM can scale it
 *                                                       (x86/kvm-tsc.h; libvirt's <counter>)
 *   hyperv.node.kubevirt.io/<enlightenment>=true      under kvm: a Hyper-V enlightenment
 *                                                       KVM offers, KubeVirt's name and
 *                                                       test (x86/kvm-hyperv.h)
 * Names of models and features are libvirt's, as KubeVirt takes them from libvirt.
 *
 * What the labels mean is ours, not KubeVirt's: KubeVirt labels the models `virsh
 * domcapabilities` calls usable, which QEMU decides, and then has to drop by hand those
 * libvirt's check refuses. Here a model is labelled exactly when a domain with
 * <cpu mode='custom' match='exact' check='full'><model fallback='forbid'>M</model></cpu>
 * starts on this node, judged by the very code `vcpuprobe check` runs; the caller judges
 * and hands the outcomes in (NodeLabelFacts).
 *
 * The file is NFD's features.d format (node-feature-discovery source/local/local.go):
 * one `name=value` line a label, `#` comments. No printing here. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/cpu-def.h"
#include "probe/libvirt-cpu-map.h"
#include "probe/libvirt-host-model.h"
#include "qmp/source.h"
#include "x86/feature-set.h"
#include "x86/kvm-tsc.h"

#define NODE_LABEL_CPU_MODEL "cpu-model.node.kubevirt.io/"
#define NODE_LABEL_CPU_MODEL_MIGRATION "cpu-model-migration.node.kubevirt.io/"
#define NODE_LABEL_CPU_FEATURE "cpu-feature.node.kubevirt.io/"
#define NODE_LABEL_HOST_MODEL_CPU "host-model-cpu.node.kubevirt.io/"
#define NODE_LABEL_HOST_MODEL_REQUIRED "host-model-required-features.node.kubevirt.io/"
#define NODE_LABEL_CPU_VENDOR "cpu-vendor.node.kubevirt.io/"
#define NODE_LABEL_CPU_TIMER "cpu-timer.node.kubevirt.io/"
#define NODE_LABEL_HYPERV "hyperv.node.kubevirt.io/"

/* The libvirt <cpu> a model label stands for: check='full', fallback='forbid'. Newly
 * allocated; the text `vcpuprobe check` is given to agree with a label. */
char *node_labels_model_xml (const char *model);

/* The same, parsed as `check` parses it (probe/cpu-def-xml.c). */
CpuDef *node_labels_model_definition (const char *model, GError **error);

/* The host-model <cpu> KubeVirt starts a host-model guest with, judged by check='full'. */
CpuDef *node_labels_host_model_definition (void);

/* What libvirt starts for a host-model guest under @accel: the custom CPU it names in
 * @map (probe/libvirt-host-model.h), from the host facts of @source (the probe cache when
 * @use_cache), and in *@vendor (newly allocated, may be NULL) the map's name of its
 * vendor ("Intel"). NULL with @error when QEMU cannot say. */
CpuDef *node_labels_resolve_host_model (QmpSource *source, const char *accel,
                                        const LibvirtCpuMap *map, gboolean use_cache,
                                        gint64 deadline_us, char **vendor, GError **error);

/* The outcomes the labels are made of (all borrowed). */
typedef struct {
  const LibvirtCpuMap *map;
  const char *const *startable_models;  /* NULL-terminated: models whose check='full'
                                         * domain starts here */
  const CpuDef *host_model;        /* the host-model CPU libvirt starts, when that domain
                                    * starts here; NULL otherwise */
  const X86FeatureSet *guest;      /* with @host_model: the features its guest has */
  const char *vendor;              /* the map's vendor name, or NULL */
} NodeLabelFacts;

typedef struct {
  char *name;
  char *value;
} NodeLabel;

void node_label_free (NodeLabel *label);

/* The labels of @facts, sorted by name, each once (GPtrArray of NodeLabel, owning). */
GPtrArray *node_labels_compute (const NodeLabelFacts *facts);
/* Adds the TSC labels of @tsc to @labels (sorted as node_labels_compute() makes them).
 * Read afresh on every run, not kept with the rest: the rate is calibrated at boot. */
void       node_labels_add_tsc (GPtrArray *labels, const X86KvmTsc *tsc);
/* Adds a hyperv label for each of @enlightenments (KubeVirt's names, as
 * x86_kvm_hyperv_read() gives them), keeping @labels sorted. Read afresh on every run too:
 * they are the loaded kvm module's, which can change under the same /dev/kvm. */
void       node_labels_add_hyperv (GPtrArray *labels, GPtrArray *enlightenments);

/* TRUE when @name=@value is a Kubernetes label NFD publishes as it is: a DNS-subdomain
 * prefix, a name part of at most 63 characters of [A-Za-z0-9._-] starting and ending
 * alphanumeric, and a value of the same kind (or empty). */
gboolean node_label_is_valid (const char *name, const char *value);

/* @labels (of NodeLabel) as a features.d file: `name=value` lines. Newly allocated. */
char *node_labels_to_feature_file (GPtrArray *labels);

/* @labels as a JSON array of [name, value] pairs (the cache keeps them so), and back:
 * NULL when @json is not such an array. References and arrays are the caller's. */
json_object *node_labels_to_json (GPtrArray *labels);
GPtrArray   *node_labels_from_json (json_object *json);
