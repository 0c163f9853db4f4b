/* tools/output-json.h — the JSON documents vcpuprobe prints. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
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
