/* x86/cpu-identity.h — who made the CPU and what it is: vendor, brand, family/model/stepping,
 * code name, microcode, hybrid core types, hypervisor. libcpuid decodes the identity from
 * the same CPUID dump we read (so a dump from a file identifies that host, not this one);
 * where libcpuid names a CPU wrongly or not at all, the code name is "unknown". */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "x86/cpuid-dump.h"

typedef struct {
  char *vendor;          /* "GenuineIntel" */
  char *brand;           /* brand string, trimmed */
  guint family, model, stepping;   /* display family/model (extended fields folded in) */
  char *codename;        /* libcpuid's when trusted, else "unknown" */
  char *microcode;       /* "0x2b000603" from /proc/cpuinfo, or NULL (dumps, unreadable) */
  char *hypervisor;      /* leaf 0x4000_0000 vendor ("KVMKVMKVM") when the hypervisor bit is set, else NULL */
  guint n_cpus;
  gboolean hybrid;       /* leaf 7 EDX bit 15 */
  GPtrArray *core_types; /* per dump CPU: "performance", "efficiency", ... when hybrid; else NULL */
} X86CpuIdentity;

/* From CPU 0 of @dump. @from_this_host: also read microcode from /proc/cpuinfo. */
X86CpuIdentity *x86_cpu_identity_from_dump (const X86CpuidDump *dump, gboolean from_this_host);
void            x86_cpu_identity_free (X86CpuIdentity *identity);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (X86CpuIdentity, x86_cpu_identity_free)
json_object    *x86_cpu_identity_to_json (const X86CpuIdentity *identity);  /* caller owns */
/* The microcode revision of this host, from /proc/cpuinfo or sysfs; NULL when unreadable. */
char           *x86_host_microcode (void);
