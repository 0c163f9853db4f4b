/* x86/cpuid-dump.h — raw CPUID of one or more logical CPUs: (leaf, subleaf) → registers.
 *
 * The same data model serves the hardware walk (x86/host-cpuid.c), KVM's supported and
 * emulated tables (x86/kvm-cpuid.c) and dumps read from files, so any host can be
 * reproduced on any machine. Files: the `cpuid -1r` text layout (with or without
 * "CPU N:" sections), our JSON layout, libcpuid's raw dump and libvirt's <cpudata> XML;
 * x86_cpuid_dump_load() tells them apart by content. */
#pragma once
#include <glib.h>
#include <json-c/json.h>

#define X86_CPUID_ERROR (x86_cpuid_error_quark ())
GQuark x86_cpuid_error_quark (void);
typedef enum {
  X86_CPUID_ERROR_IO,        /* cannot read the file / device */
  X86_CPUID_ERROR_PARSE,     /* "FILE:LINE: expected ..." */
  X86_CPUID_ERROR_NO_CPU,    /* a CPU index that is not in the dump */
  X86_CPUID_ERROR_HARDWARE,  /* CPUID could not be read on a CPU (affinity, offline) */
} X86CpuidError;

typedef struct {
  guint32 leaf;
  guint32 subleaf;     /* 0 for leaves without subleaves, as `cpuid -1r` prints them */
  guint32 eax, ebx, ecx, edx;
} X86CpuidLeaf;

typedef struct X86CpuidDump X86CpuidDump;
/* x86/kvm-cpuid.h builds on this header, so the KVM view a dump carries is named here
 * by its struct tag only. */
typedef struct X86KvmCpuid X86KvmCpuid;

X86CpuidDump *x86_cpuid_dump_new (void);
void          x86_cpuid_dump_free (X86CpuidDump *dump);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X86CpuidDump, x86_cpuid_dump_free)

/* Adds a CPU numbered @cpu_number (its OS number; dumps may skip numbers). Returns its index. */
guint x86_cpuid_dump_add_cpu (X86CpuidDump *dump, guint cpu_number);
/* Adds or replaces (leaf, subleaf) of CPU @cpu_index. Leaves stay sorted by (leaf, subleaf). */
void  x86_cpuid_dump_set (X86CpuidDump *dump, guint cpu_index, const X86CpuidLeaf *leaf);

guint x86_cpuid_dump_n_cpus (const X86CpuidDump *dump);
guint x86_cpuid_dump_cpu_number (const X86CpuidDump *dump, guint cpu_index);
/* Index of the CPU with OS number @cpu_number, or -1. */
int   x86_cpuid_dump_find_cpu (const X86CpuidDump *dump, guint cpu_number);
/* The leaves of CPU @cpu_index sorted by (leaf, subleaf). Borrowed. */
const X86CpuidLeaf *x86_cpuid_dump_leaves (const X86CpuidDump *dump, guint cpu_index, guint *n_leaves);
/* Exact (leaf, subleaf) lookup; for a leaf recorded only with subleaf 0, any @subleaf of a
 * leaf without subleaves matches it. NULL when absent. */
const X86CpuidLeaf *x86_cpuid_dump_lookup (const X86CpuidDump *dump, guint cpu_index,
                                           guint32 leaf, guint32 subleaf);
/* Register @reg (0=EAX..3=EDX) of (leaf, subleaf), or 0 when the leaf is absent. */
guint32 x86_cpuid_dump_get (const X86CpuidDump *dump, guint cpu_index,
                            guint32 leaf, guint32 subleaf, guint reg);

/* Where the dump came from ("hardware", "KVM_GET_SUPPORTED_CPUID", a file path). */
const char *x86_cpuid_dump_origin (const X86CpuidDump *dump);
void        x86_cpuid_dump_set_origin (X86CpuidDump *dump, const char *origin);

/* The KVM of the host the file describes, when it says (our JSON with "kvm" available):
 * an available X86KvmCpuid with the named supported and emulated sets and no raw tables.
 * Borrowed; NULL when the dump carries no KVM view, as text, libcpuid and libvirt dumps
 * never do. */
const X86KvmCpuid *x86_cpuid_dump_kvm (const X86CpuidDump *dump);
/* Takes ownership of @kvm (NULL drops the view). */
void               x86_cpuid_dump_set_kvm (X86CpuidDump *dump, X86KvmCpuid *kvm);

/* TRUE when CPUs differ in anything but the per-CPU fields (APIC ids in leaves 1, 0xB,
 * 0x1F, 0x8000_001E). *differences (may be NULL) receives phrases such as
 * "CPU 8: leaf 0x7.0 EDX 0x... (CPU 0: 0x...)", owned by the caller. */
gboolean x86_cpuid_dump_heterogeneous (const X86CpuidDump *dump, GPtrArray **differences);
/* A copy of the leaves of @cpu_index with the per-CPU fields zeroed: for signatures. */
GArray  *x86_cpuid_dump_masked_leaves (const X86CpuidDump *dump, guint cpu_index);

/* TRUE for the leaves whose ECX input selects a subleaf (4, 7, 0xB, 0xD, ...): there a
 * missing subleaf is absent, not the same as subleaf 0. */
gboolean x86_cpuid_leaf_has_subleaves (guint32 leaf);

/* Any supported layout, recognised by content. Errors name the file and the line. */
X86CpuidDump *x86_cpuid_dump_load (const char *path, GError **error);
X86CpuidDump *x86_cpuid_dump_parse (const char *text, gsize len, const char *origin, GError **error);

/* One layout each, for callers that know what they read; @origin names the input in errors. */
X86CpuidDump *x86_cpuid_dump_parse_cpuid_text (const char *text, gsize len, const char *origin, GError **error);
X86CpuidDump *x86_cpuid_dump_parse_json (const char *text, gsize len, const char *origin, GError **error);
X86CpuidDump *x86_cpuid_dump_parse_libcpuid (const char *text, gsize len, const char *origin, GError **error);
X86CpuidDump *x86_cpuid_dump_parse_libvirt (const char *text, gsize len, const char *origin, GError **error);
/* From an already parsed JSON document (@root borrowed) in the x86_cpuid_dump_to_json layout,
 * or the report of `vcpuprobe cpuid --format json`. Both may carry the host's KVM:
 *   "kvm": {"available": true, "reason": null,
 *           "supported": ["fpu", "vme", ...], "emulated": ["movbe", ...],
 *           "arch_capabilities": {"offered": "0x...", "vcpu": "refused", "detail": ...}}
 * The names are the feature table's (any spelling it knows); an unknown name is an error
 * naming the file and the name, since only we write this member. "arch_capabilities" is
 * what a vCPU of that KVM did with IA32_ARCH_CAPABILITIES (x86/kvm-arch-capabilities.h;
 * "vcpu" as x86_kvm_msr_write_name() spells it, "detail" only when it could not be
 * tried); a dump made before it was recorded lacks it and reads as X86_KVM_MSR_UNKNOWN
 * without a detail. With "available": false (the capture could not read /dev/kvm,
 * "reason" says why) or without the member the dump carries no KVM view. */
X86CpuidDump *x86_cpuid_dump_from_json (json_object *root, const char *origin, GError **error);

/* `cpuid -1r` text of one CPU: "CPU N:" then one "   0x%08x 0x%02x: eax=0x%08x ebx=... ecx=... edx=..." per leaf. */
void x86_cpuid_dump_format_text (const X86CpuidDump *dump, guint cpu_index, GString *out);
/* {"cpu": N, "leaves": [{"leaf","subleaf","eax","ebx","ecx","edx"}]} with hex strings, reference owned by caller. */
json_object *x86_cpuid_dump_cpu_to_json (const X86CpuidDump *dump, guint cpu_index);
/* {"format": "vcpuprobe-cpuid", "version": 1, "origin", "cpus": [...]}, plus "kvm" (the layout
 * above) when the dump carries a KVM view; reference owned by caller. */
json_object *x86_cpuid_dump_to_json (const X86CpuidDump *dump);
/* libvirt's <cpudata arch='x86'> of one CPU, one <cpuid .../> per leaf. */
void x86_cpuid_dump_format_libvirt (const X86CpuidDump *dump, guint cpu_index, GString *out);
