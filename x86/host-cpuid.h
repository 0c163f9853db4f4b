/* x86/host-cpuid.h — the host's CPUID, read with the CPUID instruction on every logical CPU.
 *
 * Reads exactly the leaves and subleaves `cpuid -1r` (Todd Allen's cpuid 20230120, the
 * one Debian 12 ships) prints: the base leaf of every range it probes (basic, Xeon Phi
 * 0x2000_0000, hypervisor 0x4000_0000 + n * 0x100 when CPUID.1:ECX[31] is set, extended
 * 0x8000_0000, Transmeta 0x8086_0000, Centaur 0xC000_0000), answering or not, the leaves
 * up to each base's EAX within cpuid's bounds, and the subleaves of leaves 2, 4, 7, 0xB,
 * 0xD, 0xF, 0x10, 0x12, 0x14, 0x17, 0x18, 0x1B, 0x1D, 0x1F, 0x20, 0x23, 0x8000_001D,
 * 0x8000_0020 and Xen's time leaf by cpuid's rules. Beyond cpuid 20230120, which predates
 * them, it walks the subleaves of 0x1E and 0x24 up to their EAX (the feature table reads
 * 0x1E.1 and 0x24.1). A worker thread pins itself to each online CPU in turn. */
#pragma once
#include "x86/cpuid-dump.h"

/* Every online CPU; @only_cpu >= 0 reads that one only (X86_CPUID_ERROR_NO_CPU when it is
 * not online). A full read leaves out online CPUs a cgroup cpuset forbids this process;
 * the dump's CPUs say which were read. Origin "hardware". */
X86CpuidDump *x86_host_cpuid_read (int only_cpu, GError **error);
/* The walk on whatever CPU the calling thread runs on (no pinning), into the CPU at
 * @cpu_index of @dump (made with x86_cpuid_dump_add_cpu()). */
void x86_host_cpuid_walk_current (X86CpuidDump *dump, guint cpu_index);

/* One CPUID: the registers for (@leaf, @subleaf); leaf and subleaf of the result are
 * ignored. */
typedef X86CpuidLeaf (*X86HostCpuidReadFunc) (guint32 leaf, guint32 subleaf, gpointer user_data);
/* The same walk over any CPUID source (a synthetic CPU in tests). */
void x86_host_cpuid_walk (X86CpuidDump *dump, guint cpu_index, X86HostCpuidReadFunc read,
                          gpointer user_data);
