/* tools/output-json.h — the JSON documents vcpuprobe prints. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/host-model.h"
#include "x86/cpu-identity.h"
#include "x86/cpuid-dump.h"
#include "x86/kvm-cpuid.h"

/* Prints @value (borrowed) indented by two spaces, with a final newline. */
gboolean cli_json_print (json_object *value, GError **error);

/* The `cpuid --format json` document, owned by the caller:
 *   {"identity": {...}, "cpus": [{"cpu", "features", "leaves"}], "heterogeneous": bool,
 *    "kvm": {"available", "reason", "supported", "emulated"}}
 * @kvm may be NULL: KVM was not read, for @kvm_not_read (a dump from another host
 * must not be paired with this machine's KVM). */
json_object *cli_json_cpuid (const X86CpuidDump *dump, const X86CpuIdentity *identity,
                             const X86KvmCpuid *kvm, const char *kvm_not_read);

/* The "models" member of `host --format json`, one entry per model name over every
 * accelerator of @host (borrowed: it must outlive the printing):
 *   [{"name", "usable": {ACCEL: bool|null}, "blockers": {ACCEL: [{"feature", "layer"}]},
 *     "alias_of", "deprecated", "migration_safe"}]
 * A host has a hundred models and thousands of blockers, so this is not a tree of JSON
 * objects: the value returned (owned by the caller) prints them itself, straight into
 * json-c's buffer, exactly as json-c prints a tree with the same members. */
json_object *cli_json_host_models (const ProbeHost *host);
