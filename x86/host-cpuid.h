/* x86/host-cpuid.h — the host's CPUID, read with the CPUID instruction on every logical CPU.
 *
 * Walks every leaf the CPU reports (basic, hypervisor 0x4000_0000+ when present, extended
 * 0x8000_0000+, Centaur 0xC000_0000+), and the subleaf-indexed leaves (4, 7, 0xB, 0xD, 0xF,
 * 0x10, 0x12, 0x14, 0x17, 0x18, 0x1D, 0x1F, 0x23, 0x24, 0x8000_001D, 0x8000_0020,
 * 0x8000_0026) to their documented end, exactly as `cpuid -1r` does, pinning the thread to
 * each online CPU in turn. */
#pragma once
#include "x86/cpuid-dump.h"

/* Every online CPU; @only_cpu >= 0 reads that one only (X86_CPUID_ERROR_NO_CPU when it is
 * not online). A full read leaves out online CPUs a cgroup cpuset forbids this process;
 * the dump's CPUs say which were read. Origin "hardware". */
X86CpuidDump *x86_host_cpuid_read (int only_cpu, GError **error);
/* The walk on whatever CPU the calling thread runs on (no pinning), into the CPU at
 * @cpu_index of @dump (made with x86_cpuid_dump_add_cpu()). */
void x86_host_cpuid_walk_current (X86CpuidDump *dump, guint cpu_index);
