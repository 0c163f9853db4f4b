/* x86/feature-table.c — the feature words and named bits of QEMU's x86 CPUs, as data.
 *
 * Names follow QEMU's feature_word_info (target/i386/cpu.c); aliases are the property
 * aliases QEMU registers now plus the spellings QEMU 1.x–2.x used as canonical names or
 * in its "a|b" name strings. QEMU keeps some MSR words as 64 bits; the ones with names
 * above bit 31 are split here into a low and a high 32-bit word. */
#include "x86/feature-table.h"

#include <string.h>

/* Word indices: the order of the words[] table below. */
enum {
  W_1_EDX,
  W_1_ECX,
  W_7_0_EBX,
  W_7_0_ECX,
  W_7_0_EDX,
  W_7_1_EAX,
  W_8000_0001_EDX,
  W_8000_0001_ECX,
  W_8000_0007_EBX,
  W_8000_0007_EDX,
  W_8000_0008_EBX,
  W_8000_0021_EAX,
  W_8000_0021_EBX,
  W_8000_0021_ECX,
  W_8000_0022_EAX,
  W_C000_0001_EDX,
  W_KVM,
  W_KVM_HINTS,
  W_SVM,
  W_XSAVE,
  W_6_EAX,
  W_XSAVE_XCR0_LO,
  W_XSAVE_XCR0_HI,
  W_ARCH_CAPABILITIES,
  W_ARCH_CAPABILITIES_HI,
  W_CORE_CAPABILITY,
  W_PERF_CAPABILITIES,
  W_VMX_PROCBASED_CTLS,
  W_VMX_SECONDARY_CTLS,
  W_VMX_PINBASED_CTLS,
  W_VMX_EXIT_CTLS,
  W_VMX_ENTRY_CTLS,
  W_VMX_MISC,
  W_VMX_EPT_VPID_CAPS,
  W_VMX_EPT_VPID_CAPS_HI,
  W_VMX_BASIC,
  W_VMX_BASIC_HI,
  W_VMX_VMFUNC,
  W_14_0_ECX,
  W_SGX_12_0_EAX,
  W_SGX_12_0_EBX,
  W_SGX_12_1_EAX,
  W_XSAVE_XSS_LO,
  W_XSAVE_XSS_HI,
  W_7_1_ECX,
  W_7_1_EDX,
  W_7_2_EDX,
  W_24_0_EBX,
  W_29_0_EBX,
  W_1E_1_EAX,
  W_24_1_ECX,
  W_F_1_EDX,
  N_WORDS
};

#define CPUID(n, l, s, r) \
  [n] = { .name = #n, .kind = X86_WORD_CPUID, .leaf = (l), .subleaf = (s), .reg = X86_REG_##r }
#define MSR(n, index, offset) \
  [n] = { .name = #n, .kind = X86_WORD_MSR, .msr = (index), .bit_offset = (offset) }
#define NONE X86_NO_SUBLEAF

static const X86FeatureWord words[N_WORDS] = {
  CPUID (W_1_EDX, 0x1, NONE, EDX),
  CPUID (W_1_ECX, 0x1, NONE, ECX),
  CPUID (W_7_0_EBX, 0x7, 0, EBX),
  CPUID (W_7_0_ECX, 0x7, 0, ECX),
  CPUID (W_7_0_EDX, 0x7, 0, EDX),
  CPUID (W_7_1_EAX, 0x7, 1, EAX),
  CPUID (W_8000_0001_EDX, 0x80000001, NONE, EDX),
  CPUID (W_8000_0001_ECX, 0x80000001, NONE, ECX),
  CPUID (W_8000_0007_EBX, 0x80000007, NONE, EBX),
  CPUID (W_8000_0007_EDX, 0x80000007, NONE, EDX),
  CPUID (W_8000_0008_EBX, 0x80000008, NONE, EBX),
  CPUID (W_8000_0021_EAX, 0x80000021, NONE, EAX),
  CPUID (W_8000_0021_EBX, 0x80000021, NONE, EBX),
  CPUID (W_8000_0021_ECX, 0x80000021, NONE, ECX),
  CPUID (W_8000_0022_EAX, 0x80000022, NONE, EAX),
  CPUID (W_C000_0001_EDX, 0xC0000001, NONE, EDX),
  CPUID (W_KVM, 0x40000001, NONE, EAX),
  CPUID (W_KVM_HINTS, 0x40000001, NONE, EDX),
  CPUID (W_SVM, 0x8000000A, NONE, EDX),
  CPUID (W_XSAVE, 0xD, 1, EAX),
  CPUID (W_6_EAX, 0x6, NONE, EAX),
  CPUID (W_XSAVE_XCR0_LO, 0xD, 0, EAX),
  CPUID (W_XSAVE_XCR0_HI, 0xD, 0, EDX),
  MSR (W_ARCH_CAPABILITIES, 0x10A, 0),
  MSR (W_ARCH_CAPABILITIES_HI, 0x10A, 32),
  MSR (W_CORE_CAPABILITY, 0xCF, 0),
  MSR (W_PERF_CAPABILITIES, 0x345, 0),
  MSR (W_VMX_PROCBASED_CTLS, 0x48E, 0),     /* IA32_VMX_TRUE_PROCBASED_CTLS */
  MSR (W_VMX_SECONDARY_CTLS, 0x48B, 0),     /* IA32_VMX_PROCBASED_CTLS2 */
  MSR (W_VMX_PINBASED_CTLS, 0x48D, 0),      /* IA32_VMX_TRUE_PINBASED_CTLS */
  MSR (W_VMX_EXIT_CTLS, 0x48F, 0),          /* IA32_VMX_TRUE_EXIT_CTLS */
  MSR (W_VMX_ENTRY_CTLS, 0x490, 0),         /* IA32_VMX_TRUE_ENTRY_CTLS */
  MSR (W_VMX_MISC, 0x485, 0),
  MSR (W_VMX_EPT_VPID_CAPS, 0x48C, 0),
  MSR (W_VMX_EPT_VPID_CAPS_HI, 0x48C, 32),
  MSR (W_VMX_BASIC, 0x480, 0),
  MSR (W_VMX_BASIC_HI, 0x480, 32),
  MSR (W_VMX_VMFUNC, 0x491, 0),
  CPUID (W_14_0_ECX, 0x14, 0, ECX),
  CPUID (W_SGX_12_0_EAX, 0x12, 0, EAX),
  CPUID (W_SGX_12_0_EBX, 0x12, 0, EBX),
  CPUID (W_SGX_12_1_EAX, 0x12, 1, EAX),
  CPUID (W_XSAVE_XSS_LO, 0xD, 1, ECX),
  CPUID (W_XSAVE_XSS_HI, 0xD, 1, EDX),
  CPUID (W_7_1_ECX, 0x7, 1, ECX),
  CPUID (W_7_1_EDX, 0x7, 1, EDX),
  CPUID (W_7_2_EDX, 0x7, 2, EDX),
  CPUID (W_24_0_EBX, 0x24, 0, EBX),
  CPUID (W_29_0_EBX, 0x29, 0, EBX),
  CPUID (W_1E_1_EAX, 0x1E, 1, EAX),
  CPUID (W_24_1_ECX, 0x24, 1, ECX),
  /* QEMU has no word here; libvirt names two RDT monitoring bits in it. */
  CPUID (W_F_1_EDX, 0xF, 1, EDX),
};

#undef CPUID
#undef MSR
#undef NONE

#define ALIASES(...) ((const char *const[]) { __VA_ARGS__, NULL })
#define F(w, b, n, ...) { .name = (n), .word = (w), .bit = (b), __VA_ARGS__ }
#define AL(...) .aliases = ALIASES (__VA_ARGS__)
#define LV(n) .libvirt_name = (n)
#define FL(f) .flags = (f)

static const X86Feature features[] = {
  F (W_1_EDX, 0, "fpu"),
  F (W_1_EDX, 1, "vme"),
  F (W_1_EDX, 2, "de"),
  F (W_1_EDX, 3, "pse"),
  F (W_1_EDX, 4, "tsc"),
  F (W_1_EDX, 5, "msr"),
  F (W_1_EDX, 6, "pae"),
  F (W_1_EDX, 7, "mce"),
  F (W_1_EDX, 8, "cx8"),
  F (W_1_EDX, 9, "apic"),
  F (W_1_EDX, 11, "sep"),
  F (W_1_EDX, 12, "mtrr"),
  F (W_1_EDX, 13, "pge"),
  F (W_1_EDX, 14, "mca"),
  F (W_1_EDX, 15, "cmov"),
  F (W_1_EDX, 16, "pat"),
  F (W_1_EDX, 17, "pse36"),
  F (W_1_EDX, 18, "pn"),
  F (W_1_EDX, 19, "clflush"),
  F (W_1_EDX, 21, "ds"),
  F (W_1_EDX, 22, "acpi"),
  F (W_1_EDX, 23, "mmx"),
  F (W_1_EDX, 24, "fxsr"),
  F (W_1_EDX, 25, "sse"),
  F (W_1_EDX, 26, "sse2"),
  F (W_1_EDX, 27, "ss"),
  F (W_1_EDX, 28, "ht", FL (X86_FEATURE_NO_AUTO)),
  F (W_1_EDX, 29, "tm"),
  F (W_1_EDX, 30, "ia64"),
  F (W_1_EDX, 31, "pbe"),

  F (W_1_ECX, 0, "pni", AL ("sse3")),
  F (W_1_ECX, 1, "pclmulqdq", AL ("pclmuldq"), LV ("pclmuldq")),
  F (W_1_ECX, 2, "dtes64"),
  F (W_1_ECX, 3, "monitor"),
  F (W_1_ECX, 4, "ds-cpl", AL ("ds_cpl"), LV ("ds_cpl")),
  F (W_1_ECX, 5, "vmx"),
  F (W_1_ECX, 6, "smx"),
  F (W_1_ECX, 7, "est"),
  F (W_1_ECX, 8, "tm2"),
  F (W_1_ECX, 9, "ssse3"),
  F (W_1_ECX, 10, "cid"),
  F (W_1_ECX, 12, "fma"),
  F (W_1_ECX, 13, "cx16"),
  F (W_1_ECX, 14, "xtpr"),
  F (W_1_ECX, 15, "pdcm"),
  F (W_1_ECX, 17, "pcid"),
  F (W_1_ECX, 18, "dca"),
  F (W_1_ECX, 19, "sse4.1", AL ("sse4-1", "sse4_1")),
  F (W_1_ECX, 20, "sse4.2", AL ("sse4-2", "sse4_2")),
  F (W_1_ECX, 21, "x2apic"),
  F (W_1_ECX, 22, "movbe"),
  F (W_1_ECX, 23, "popcnt"),
  F (W_1_ECX, 24, "tsc-deadline"),
  F (W_1_ECX, 25, "aes"),
  F (W_1_ECX, 26, "xsave"),
  /* Follows the guest's CR4.OSXSAVE; QEMU 1.x still had a property for it. */
  F (W_1_ECX, 27, "osxsave", FL (X86_FEATURE_DYNAMIC)),
  F (W_1_ECX, 28, "avx"),
  F (W_1_ECX, 29, "f16c"),
  F (W_1_ECX, 30, "rdrand"),
  F (W_1_ECX, 31, "hypervisor"),

  F (W_7_0_EBX, 0, "fsgsbase"),
  F (W_7_0_EBX, 1, "tsc-adjust", AL ("tsc_adjust"), LV ("tsc_adjust")),
  F (W_7_0_EBX, 2, "sgx"),
  F (W_7_0_EBX, 3, "bmi1"),
  F (W_7_0_EBX, 4, "hle"),
  F (W_7_0_EBX, 5, "avx2"),
  F (W_7_0_EBX, 6, "fdp-excptn-only"),
  F (W_7_0_EBX, 7, "smep"),
  F (W_7_0_EBX, 8, "bmi2"),
  F (W_7_0_EBX, 9, "erms"),
  F (W_7_0_EBX, 10, "invpcid"),
  F (W_7_0_EBX, 11, "rtm"),
  F (W_7_0_EBX, 12, "cmt", AL ("cqm"), FL (X86_FEATURE_LIBVIRT_ONLY)),
  F (W_7_0_EBX, 13, "zero-fcs-fds"),
  F (W_7_0_EBX, 14, "mpx"),
  F (W_7_0_EBX, 16, "avx512f"),
  F (W_7_0_EBX, 17, "avx512dq"),
  F (W_7_0_EBX, 18, "rdseed"),
  F (W_7_0_EBX, 19, "adx"),
  F (W_7_0_EBX, 20, "smap"),
  F (W_7_0_EBX, 21, "avx512ifma"),
  F (W_7_0_EBX, 22, "pcommit"),
  F (W_7_0_EBX, 23, "clflushopt"),
  F (W_7_0_EBX, 24, "clwb"),
  F (W_7_0_EBX, 25, "intel-pt"),
  F (W_7_0_EBX, 26, "avx512pf"),
  F (W_7_0_EBX, 27, "avx512er"),
  F (W_7_0_EBX, 28, "avx512cd"),
  F (W_7_0_EBX, 29, "sha-ni"),
  F (W_7_0_EBX, 30, "avx512bw"),
  F (W_7_0_EBX, 31, "avx512vl"),

  F (W_7_0_ECX, 1, "avx512vbmi"),
  F (W_7_0_ECX, 2, "umip"),
  F (W_7_0_ECX, 3, "pku"),
  /* Follows the guest's CR4.PKE; QEMU 2.x named it before making it dynamic. */
  F (W_7_0_ECX, 4, "ospke", FL (X86_FEATURE_DYNAMIC)),
  F (W_7_0_ECX, 5, "waitpkg"),
  F (W_7_0_ECX, 6, "avx512vbmi2"),
  F (W_7_0_ECX, 7, "cet-ss"),
  F (W_7_0_ECX, 8, "gfni"),
  F (W_7_0_ECX, 9, "vaes"),
  F (W_7_0_ECX, 10, "vpclmulqdq"),
  F (W_7_0_ECX, 11, "avx512vnni"),
  F (W_7_0_ECX, 12, "avx512bitalg"),
  F (W_7_0_ECX, 14, "avx512-vpopcntdq"),
  F (W_7_0_ECX, 16, "la57"),
  F (W_7_0_ECX, 22, "rdpid"),
  F (W_7_0_ECX, 24, "bus-lock-detect"),
  F (W_7_0_ECX, 25, "cldemote"),
  F (W_7_0_ECX, 27, "movdiri"),
  F (W_7_0_ECX, 28, "movdir64b"),
  F (W_7_0_ECX, 30, "sgxlc"),
  F (W_7_0_ECX, 31, "pks"),

  F (W_7_0_EDX, 2, "avx512-4vnniw"),
  F (W_7_0_EDX, 3, "avx512-4fmaps"),
  F (W_7_0_EDX, 4, "fsrm"),
  F (W_7_0_EDX, 8, "avx512-vp2intersect"),
  F (W_7_0_EDX, 10, "md-clear"),
  F (W_7_0_EDX, 14, "serialize"),
  F (W_7_0_EDX, 16, "tsx-ldtrk"),
  F (W_7_0_EDX, 18, "pconfig", FL (X86_FEATURE_LIBVIRT_ONLY)),
  F (W_7_0_EDX, 19, "arch-lbr"),
  F (W_7_0_EDX, 20, "cet-ibt"),
  F (W_7_0_EDX, 22, "amx-bf16"),
  F (W_7_0_EDX, 23, "avx512-fp16"),
  F (W_7_0_EDX, 24, "amx-tile"),
  F (W_7_0_EDX, 25, "amx-int8"),
  F (W_7_0_EDX, 26, "spec-ctrl"),
  F (W_7_0_EDX, 27, "stibp"),
  F (W_7_0_EDX, 28, "flush-l1d"),
  F (W_7_0_EDX, 29, "arch-capabilities"),
  F (W_7_0_EDX, 30, "core-capability"),
  F (W_7_0_EDX, 31, "ssbd"),

  F (W_7_1_EAX, 0, "sha512"),
  F (W_7_1_EAX, 1, "sm3"),
  F (W_7_1_EAX, 2, "sm4"),
  F (W_7_1_EAX, 4, "avx-vnni"),
  F (W_7_1_EAX, 5, "avx512-bf16"),
  F (W_7_1_EAX, 7, "cmpccxadd"),
  F (W_7_1_EAX, 10, "fzrm"),
  F (W_7_1_EAX, 11, "fsrs"),
  F (W_7_1_EAX, 12, "fsrc"),
  F (W_7_1_EAX, 17, "fred"),
  F (W_7_1_EAX, 18, "lkgs"),
  F (W_7_1_EAX, 19, "wrmsrns"),
  F (W_7_1_EAX, 21, "amx-fp16"),
  F (W_7_1_EAX, 23, "avx-ifma"),
  F (W_7_1_EAX, 26, "lam"),
  F (W_7_1_EAX, 31, "movrs"),

  /* On AMD-vendor CPUs QEMU copies 1.EDX bits into this word without names. */
  F (W_8000_0001_EDX, 11, "syscall"),
  F (W_8000_0001_EDX, 20, "nx", AL ("xd")),
  F (W_8000_0001_EDX, 22, "mmxext"),
  F (W_8000_0001_EDX, 25, "fxsr-opt", AL ("ffxsr", "fxsr_opt"), LV ("fxsr_opt")),
  F (W_8000_0001_EDX, 26, "pdpe1gb"),
  F (W_8000_0001_EDX, 27, "rdtscp"),
  F (W_8000_0001_EDX, 29, "lm", AL ("i64")),
  F (W_8000_0001_EDX, 30, "3dnowext"),
  F (W_8000_0001_EDX, 31, "3dnow"),

  F (W_8000_0001_ECX, 0, "lahf-lm", AL ("lahf_lm"), LV ("lahf_lm")),
  F (W_8000_0001_ECX, 1, "cmp-legacy", AL ("cmp_legacy"), LV ("cmp_legacy")),
  F (W_8000_0001_ECX, 2, "svm"),
  F (W_8000_0001_ECX, 3, "extapic"),
  F (W_8000_0001_ECX, 4, "cr8legacy"),
  F (W_8000_0001_ECX, 5, "abm"),
  F (W_8000_0001_ECX, 6, "sse4a"),
  F (W_8000_0001_ECX, 7, "misalignsse"),
  F (W_8000_0001_ECX, 8, "3dnowprefetch"),
  F (W_8000_0001_ECX, 9, "osvw"),
  F (W_8000_0001_ECX, 10, "ibs"),
  F (W_8000_0001_ECX, 11, "xop"),
  F (W_8000_0001_ECX, 12, "skinit"),
  F (W_8000_0001_ECX, 13, "wdt"),
  F (W_8000_0001_ECX, 15, "lwp"),
  F (W_8000_0001_ECX, 16, "fma4"),
  F (W_8000_0001_ECX, 17, "tce"),
  F (W_8000_0001_ECX, 18, "cvt16", FL (X86_FEATURE_LIBVIRT_ONLY)),
  F (W_8000_0001_ECX, 19, "nodeid-msr", AL ("nodeid_msr"), LV ("nodeid_msr")),
  F (W_8000_0001_ECX, 21, "tbm"),
  /* Needs consistent cache topology, so host/max never switch it on by themselves. */
  F (W_8000_0001_ECX, 22, "topoext", FL (X86_FEATURE_NO_AUTO)),
  F (W_8000_0001_ECX, 23, "perfctr-core", AL ("perfctr_core"), LV ("perfctr_core")),
  F (W_8000_0001_ECX, 24, "perfctr-nb", AL ("perfctr_nb"), LV ("perfctr_nb")),

  F (W_8000_0007_EBX, 0, "overflow-recov"),
  F (W_8000_0007_EBX, 1, "succor"),

  F (W_8000_0007_EDX, 8, "invtsc", FL (X86_FEATURE_UNMIGRATABLE)),

  F (W_8000_0008_EBX, 0, "clzero"),
  F (W_8000_0008_EBX, 2, "xsaveerptr"),
  F (W_8000_0008_EBX, 9, "wbnoinvd"),
  F (W_8000_0008_EBX, 12, "ibpb"),
  F (W_8000_0008_EBX, 14, "ibrs"),
  F (W_8000_0008_EBX, 15, "amd-stibp"),
  F (W_8000_0008_EBX, 17, "stibp-always-on"),
  F (W_8000_0008_EBX, 24, "amd-ssbd"),
  F (W_8000_0008_EBX, 25, "virt-ssbd"),
  F (W_8000_0008_EBX, 26, "amd-no-ssb"),
  F (W_8000_0008_EBX, 28, "amd-psfd"),

  F (W_8000_0021_EAX, 0, "no-nested-data-bp"),
  F (W_8000_0021_EAX, 1, "fs-gs-base-ns"),
  F (W_8000_0021_EAX, 2, "lfence-always-serializing"),
  F (W_8000_0021_EAX, 5, "verw-clear"),
  F (W_8000_0021_EAX, 6, "null-sel-clr-base"),
  F (W_8000_0021_EAX, 8, "auto-ibrs"),
  F (W_8000_0021_EAX, 20, "prefetchi"),
  F (W_8000_0021_EAX, 24, "eraps"),
  F (W_8000_0021_EAX, 27, "sbpb"),
  F (W_8000_0021_EAX, 28, "ibpb-brtype"),
  F (W_8000_0021_EAX, 29, "srso-no"),
  F (W_8000_0021_EAX, 30, "srso-user-kernel-no"),

  F (W_8000_0021_ECX, 1, "tsa-sq-no"),
  F (W_8000_0021_ECX, 2, "tsa-l1-no"),

  F (W_8000_0022_EAX, 0, "perfmon-v2"),

  F (W_C000_0001_EDX, 2, "xstore"),
  F (W_C000_0001_EDX, 3, "xstore-en"),
  F (W_C000_0001_EDX, 6, "xcrypt"),
  F (W_C000_0001_EDX, 7, "xcrypt-en"),
  F (W_C000_0001_EDX, 8, "ace2"),
  F (W_C000_0001_EDX, 9, "ace2-en"),
  F (W_C000_0001_EDX, 10, "phe"),
  F (W_C000_0001_EDX, 11, "phe-en"),
  F (W_C000_0001_EDX, 12, "pmm"),
  F (W_C000_0001_EDX, 13, "pmm-en"),

  F (W_KVM, 0, "kvmclock"),
  F (W_KVM, 1, "kvm-nopiodelay", AL ("kvm_nopiodelay")),
  F (W_KVM, 2, "kvm-mmu", AL ("kvm_mmu")),
  /* KVM_FEATURE_CLOCKSOURCE2: QEMU's "kvmclock" property sets bits 0 and 3 together. */
  F (W_KVM, 3, "kvmclock2", FL (X86_FEATURE_SECOND_BIT)),
  F (W_KVM, 4, "kvm-asyncpf", AL ("kvm_asyncpf")),
  F (W_KVM, 5, "kvm-steal-time", AL ("kvm_steal_time")),
  F (W_KVM, 6, "kvm-pv-eoi", AL ("kvm_pv_eoi"), LV ("kvm_pv_eoi")),
  F (W_KVM, 7, "kvm-pv-unhalt", AL ("kvm_pv_unhalt"), LV ("kvm_pv_unhalt")),
  F (W_KVM, 9, "kvm-pv-tlb-flush"),
  F (W_KVM, 10, "kvm-asyncpf-vmexit"),
  F (W_KVM, 11, "kvm-pv-ipi"),
  F (W_KVM, 12, "kvm-poll-control", AL ("kvm_poll_control")),
  F (W_KVM, 13, "kvm-pv-sched-yield"),
  F (W_KVM, 14, "kvm-asyncpf-int", AL ("kvm_asyncpf_int")),
  F (W_KVM, 15, "kvm-msi-ext-dest-id"),
  F (W_KVM, 24, "kvmclock-stable-bit"),

  /* Hints describe the host's setup, so only an explicit request switches them on. */
  F (W_KVM_HINTS, 0, "kvm-hint-dedicated", FL (X86_FEATURE_NO_AUTO)),

  F (W_SVM, 0, "npt"),
  F (W_SVM, 1, "lbrv"),
  F (W_SVM, 2, "svm-lock", AL ("svm_lock")),
  F (W_SVM, 3, "nrip-save", AL ("nrip_save")),
  F (W_SVM, 4, "tsc-scale", AL ("tsc_scale")),
  F (W_SVM, 5, "vmcb-clean", AL ("vmcb_clean")),
  F (W_SVM, 6, "flushbyasid"),
  F (W_SVM, 7, "decodeassists"),
  F (W_SVM, 10, "pause-filter", AL ("pause_filter")),
  F (W_SVM, 12, "pfthreshold"),
  F (W_SVM, 13, "avic"),
  F (W_SVM, 15, "v-vmsave-vmload"),
  F (W_SVM, 16, "vgif"),
  F (W_SVM, 17, "gmet"),
  F (W_SVM, 25, "vnmi"),
  F (W_SVM, 28, "svme-addr-chk"),

  F (W_XSAVE, 0, "xsaveopt"),
  F (W_XSAVE, 1, "xsavec"),
  F (W_XSAVE, 2, "xgetbv1"),
  F (W_XSAVE, 3, "xsaves"),
  F (W_XSAVE, 4, "xfd"),

  F (W_6_EAX, 2, "arat"),

  F (W_ARCH_CAPABILITIES, 0, "rdctl-no"),
  F (W_ARCH_CAPABILITIES, 1, "ibrs-all"),
  F (W_ARCH_CAPABILITIES, 2, "rsba"),
  F (W_ARCH_CAPABILITIES, 3, "skip-l1dfl-vmentry"),
  F (W_ARCH_CAPABILITIES, 4, "ssb-no"),
  F (W_ARCH_CAPABILITIES, 5, "mds-no"),
  F (W_ARCH_CAPABILITIES, 6, "pschange-mc-no"),
  F (W_ARCH_CAPABILITIES, 7, "tsx-ctrl"),
  F (W_ARCH_CAPABILITIES, 8, "taa-no"),
  F (W_ARCH_CAPABILITIES, 13, "sbdr-ssdp-no"),
  F (W_ARCH_CAPABILITIES, 14, "fbsdp-no"),
  F (W_ARCH_CAPABILITIES, 15, "psdp-no"),
  F (W_ARCH_CAPABILITIES, 17, "fb-clear"),
  F (W_ARCH_CAPABILITIES, 20, "bhi-no"),
  F (W_ARCH_CAPABILITIES, 24, "pbrsb-no"),
  F (W_ARCH_CAPABILITIES, 26, "gds-no"),
  F (W_ARCH_CAPABILITIES, 27, "rfds-no"),
  F (W_ARCH_CAPABILITIES, 28, "rfds-clear"),
  F (W_ARCH_CAPABILITIES_HI, 62 - 32, "its-no"),

  F (W_CORE_CAPABILITY, 5, "split-lock-detect"),

  F (W_PERF_CAPABILITIES, 13, "full-width-write"),

  F (W_VMX_PROCBASED_CTLS, 2, "vmx-vintr-pending"),
  F (W_VMX_PROCBASED_CTLS, 3, "vmx-tsc-offset"),
  F (W_VMX_PROCBASED_CTLS, 7, "vmx-hlt-exit"),
  F (W_VMX_PROCBASED_CTLS, 9, "vmx-invlpg-exit"),
  F (W_VMX_PROCBASED_CTLS, 10, "vmx-mwait-exit"),
  F (W_VMX_PROCBASED_CTLS, 11, "vmx-rdpmc-exit"),
  F (W_VMX_PROCBASED_CTLS, 12, "vmx-rdtsc-exit"),
  F (W_VMX_PROCBASED_CTLS, 15, "vmx-cr3-load-noexit"),
  F (W_VMX_PROCBASED_CTLS, 16, "vmx-cr3-store-noexit"),
  F (W_VMX_PROCBASED_CTLS, 19, "vmx-cr8-load-exit"),
  F (W_VMX_PROCBASED_CTLS, 20, "vmx-cr8-store-exit"),
  F (W_VMX_PROCBASED_CTLS, 21, "vmx-flexpriority"),
  F (W_VMX_PROCBASED_CTLS, 22, "vmx-vnmi-pending"),
  F (W_VMX_PROCBASED_CTLS, 23, "vmx-movdr-exit"),
  F (W_VMX_PROCBASED_CTLS, 24, "vmx-io-exit"),
  F (W_VMX_PROCBASED_CTLS, 25, "vmx-io-bitmap"),
  F (W_VMX_PROCBASED_CTLS, 27, "vmx-mtf"),
  F (W_VMX_PROCBASED_CTLS, 28, "vmx-msr-bitmap"),
  F (W_VMX_PROCBASED_CTLS, 29, "vmx-monitor-exit"),
  F (W_VMX_PROCBASED_CTLS, 30, "vmx-pause-exit"),
  F (W_VMX_PROCBASED_CTLS, 31, "vmx-secondary-ctls"),

  F (W_VMX_SECONDARY_CTLS, 0, "vmx-apicv-xapic"),
  F (W_VMX_SECONDARY_CTLS, 1, "vmx-ept"),
  F (W_VMX_SECONDARY_CTLS, 2, "vmx-desc-exit"),
  F (W_VMX_SECONDARY_CTLS, 3, "vmx-rdtscp-exit"),
  F (W_VMX_SECONDARY_CTLS, 4, "vmx-apicv-x2apic"),
  F (W_VMX_SECONDARY_CTLS, 5, "vmx-vpid"),
  F (W_VMX_SECONDARY_CTLS, 6, "vmx-wbinvd-exit"),
  F (W_VMX_SECONDARY_CTLS, 7, "vmx-unrestricted-guest"),
  F (W_VMX_SECONDARY_CTLS, 8, "vmx-apicv-register"),
  F (W_VMX_SECONDARY_CTLS, 9, "vmx-apicv-vid"),
  F (W_VMX_SECONDARY_CTLS, 10, "vmx-ple"),
  F (W_VMX_SECONDARY_CTLS, 11, "vmx-rdrand-exit"),
  F (W_VMX_SECONDARY_CTLS, 12, "vmx-invpcid-exit"),
  F (W_VMX_SECONDARY_CTLS, 13, "vmx-vmfunc"),
  F (W_VMX_SECONDARY_CTLS, 14, "vmx-shadow-vmcs"),
  F (W_VMX_SECONDARY_CTLS, 15, "vmx-encls-exit"),
  F (W_VMX_SECONDARY_CTLS, 16, "vmx-rdseed-exit"),
  F (W_VMX_SECONDARY_CTLS, 17, "vmx-pml"),
  F (W_VMX_SECONDARY_CTLS, 20, "vmx-xsaves"),
  F (W_VMX_SECONDARY_CTLS, 22, "vmx-mbec"),
  F (W_VMX_SECONDARY_CTLS, 25, "vmx-tsc-scaling"),
  F (W_VMX_SECONDARY_CTLS, 26, "vmx-enable-user-wait-pause"),

  F (W_VMX_PINBASED_CTLS, 0, "vmx-intr-exit"),
  F (W_VMX_PINBASED_CTLS, 3, "vmx-nmi-exit"),
  F (W_VMX_PINBASED_CTLS, 5, "vmx-vnmi"),
  F (W_VMX_PINBASED_CTLS, 6, "vmx-preemption-timer"),
  F (W_VMX_PINBASED_CTLS, 7, "vmx-posted-intr"),

  F (W_VMX_EXIT_CTLS, 2, "vmx-exit-nosave-debugctl"),
  F (W_VMX_EXIT_CTLS, 12, "vmx-exit-load-perf-global-ctrl"),
  F (W_VMX_EXIT_CTLS, 15, "vmx-exit-ack-intr"),
  F (W_VMX_EXIT_CTLS, 18, "vmx-exit-save-pat"),
  F (W_VMX_EXIT_CTLS, 19, "vmx-exit-load-pat"),
  F (W_VMX_EXIT_CTLS, 20, "vmx-exit-save-efer"),
  F (W_VMX_EXIT_CTLS, 21, "vmx-exit-load-efer"),
  F (W_VMX_EXIT_CTLS, 22, "vmx-exit-save-preemption-timer"),
  F (W_VMX_EXIT_CTLS, 23, "vmx-exit-clear-bndcfgs"),
  F (W_VMX_EXIT_CTLS, 25, "vmx-exit-clear-rtit-ctl"),
  F (W_VMX_EXIT_CTLS, 28, "vmx-exit-save-cet"),
  F (W_VMX_EXIT_CTLS, 29, "vmx-exit-load-pkrs"),
  F (W_VMX_EXIT_CTLS, 31, "vmx-exit-secondary-ctls"),

  F (W_VMX_ENTRY_CTLS, 2, "vmx-entry-noload-debugctl"),
  F (W_VMX_ENTRY_CTLS, 9, "vmx-entry-ia32e-mode"),
  F (W_VMX_ENTRY_CTLS, 13, "vmx-entry-load-perf-global-ctrl"),
  F (W_VMX_ENTRY_CTLS, 14, "vmx-entry-load-pat"),
  F (W_VMX_ENTRY_CTLS, 15, "vmx-entry-load-efer"),
  F (W_VMX_ENTRY_CTLS, 16, "vmx-entry-load-bndcfgs"),
  F (W_VMX_ENTRY_CTLS, 18, "vmx-entry-load-rtit-ctl"),
  F (W_VMX_ENTRY_CTLS, 20, "vmx-entry-load-cet"),
  F (W_VMX_ENTRY_CTLS, 22, "vmx-entry-load-pkrs"),
  F (W_VMX_ENTRY_CTLS, 23, "vmx-entry-load-fred"),

  F (W_VMX_MISC, 5, "vmx-store-lma"),
  F (W_VMX_MISC, 6, "vmx-activity-hlt"),
  F (W_VMX_MISC, 7, "vmx-activity-shutdown"),
  F (W_VMX_MISC, 8, "vmx-activity-wait-sipi"),
  F (W_VMX_MISC, 29, "vmx-vmwrite-vmexit-fields"),
  F (W_VMX_MISC, 30, "vmx-zero-len-inject"),

  F (W_VMX_EPT_VPID_CAPS, 0, "vmx-ept-execonly"),
  F (W_VMX_EPT_VPID_CAPS, 6, "vmx-page-walk-4"),
  F (W_VMX_EPT_VPID_CAPS, 7, "vmx-page-walk-5"),
  F (W_VMX_EPT_VPID_CAPS, 16, "vmx-ept-2mb"),
  F (W_VMX_EPT_VPID_CAPS, 17, "vmx-ept-1gb"),
  F (W_VMX_EPT_VPID_CAPS, 20, "vmx-invept"),
  F (W_VMX_EPT_VPID_CAPS, 21, "vmx-eptad"),
  F (W_VMX_EPT_VPID_CAPS, 22, "vmx-ept-advanced-exitinfo"),
  F (W_VMX_EPT_VPID_CAPS, 25, "vmx-invept-single-context"),
  F (W_VMX_EPT_VPID_CAPS, 26, "vmx-invept-all-context"),
  F (W_VMX_EPT_VPID_CAPS_HI, 32 - 32, "vmx-invvpid"),
  F (W_VMX_EPT_VPID_CAPS_HI, 40 - 32, "vmx-invvpid-single-addr"),
  /* QEMU names bit 41 "vmx-invept-single-context" too, so that property sets both bits;
   * the SDM calls it the single-context INVVPID type. */
  F (W_VMX_EPT_VPID_CAPS_HI, 41 - 32, "vmx-invvpid-single-context", FL (X86_FEATURE_SECOND_BIT)),
  F (W_VMX_EPT_VPID_CAPS_HI, 42 - 32, "vmx-invvpid-all-context"),
  F (W_VMX_EPT_VPID_CAPS_HI, 43 - 32, "vmx-invept-single-context-noglobals"),

  F (W_VMX_BASIC_HI, 54 - 32, "vmx-ins-outs"),
  F (W_VMX_BASIC_HI, 55 - 32, "vmx-true-ctls"),
  F (W_VMX_BASIC_HI, 56 - 32, "vmx-any-errcode"),
  F (W_VMX_BASIC_HI, 58 - 32, "vmx-nested-exception"),

  F (W_VMX_VMFUNC, 0, "vmx-eptp-switching"),

  F (W_14_0_ECX, 31, "intel-pt-lip"),

  F (W_SGX_12_0_EAX, 0, "sgx1"),
  F (W_SGX_12_0_EAX, 1, "sgx2"),
  F (W_SGX_12_0_EAX, 11, "sgx-edeccssa"),

  F (W_SGX_12_0_EBX, 0, "sgx-exinfo"),

  F (W_SGX_12_1_EAX, 1, "sgx-debug"),
  F (W_SGX_12_1_EAX, 2, "sgx-mode64"),
  F (W_SGX_12_1_EAX, 4, "sgx-provisionkey"),
  F (W_SGX_12_1_EAX, 5, "sgx-tokenkey"),
  F (W_SGX_12_1_EAX, 7, "sgx-kss"),
  F (W_SGX_12_1_EAX, 10, "sgx-aex-notify"),

  F (W_7_1_ECX, 5, "msr-imm"),

  F (W_7_1_EDX, 4, "avx-vnni-int8"),
  F (W_7_1_EDX, 5, "avx-ne-convert"),
  F (W_7_1_EDX, 8, "amx-complex"),
  F (W_7_1_EDX, 10, "avx-vnni-int16"),
  F (W_7_1_EDX, 14, "prefetchiti"),
  F (W_7_1_EDX, 19, "avx10"),
  F (W_7_1_EDX, 21, "apxf"),

  F (W_7_2_EDX, 0, "intel-psfd"),
  F (W_7_2_EDX, 1, "ipred-ctrl"),
  F (W_7_2_EDX, 2, "rrsba-ctrl"),
  F (W_7_2_EDX, 3, "ddpd-u"),
  F (W_7_2_EDX, 4, "bhi-ctrl"),
  F (W_7_2_EDX, 5, "mcdt-no"),

  F (W_24_0_EBX, 16, "avx10-128"),
  F (W_24_0_EBX, 17, "avx10-256"),
  F (W_24_0_EBX, 18, "avx10-512"),

  F (W_29_0_EBX, 0, "apx-nci-ndd-nf"),

  F (W_1E_1_EAX, 0, "amx-int8-alias"),
  F (W_1E_1_EAX, 1, "amx-bf16-alias"),
  F (W_1E_1_EAX, 2, "amx-complex-alias"),
  F (W_1E_1_EAX, 3, "amx-fp16-alias"),
  F (W_1E_1_EAX, 4, "amx-fp8"),
  F (W_1E_1_EAX, 6, "amx-tf32"),
  F (W_1E_1_EAX, 7, "amx-avx512"),
  F (W_1E_1_EAX, 8, "amx-movrs"),

  F (W_24_1_ECX, 2, "avx10-vnni-int"),

  F (W_F_1_EDX, 1, "mbm_total", FL (X86_FEATURE_LIBVIRT_ONLY)),
  F (W_F_1_EDX, 2, "mbm_local", FL (X86_FEATURE_LIBVIRT_ONLY)),
};

#undef F
#undef AL
#undef LV
#undef FL
#undef ALIASES

/* Boolean CPU properties that are not CPUID or MSR bits, from QEMU 1.x to current. */
static const char *const non_feature_properties[] = {
  "check", "enforce", "kvm", "pmu", "migratable", "l3-cache", "full-cpuid-auto-level",
  "host-phys-bits", "fill-mtrr-mask", "cpuid-0xb", "vmware-cpuid-freq", "lmce", "realized",
  "hotplugged", "hotpluggable", "start-powered-off", "kvm-no-smi-migration",
  "kvm-pv-enforce-cpuid", "host-cache-info", "tcg-cpuid", "legacy-cache",
  "legacy-multi-node", "l2-cache",
};
/* Whole families: experimental knobs and Hyper-V enlightenments (hv_ in QEMU 1.x–2.x). */
static const char *const non_feature_prefixes[] = { "x-", "hv-", "hv_" };

/* QEMU properties named after two bits of one register: the second bit's name here, and
 * the property that sets it. */
static const struct {
  const char *second_bit;
  const char *property;
} shared_properties[] = {
  { "kvmclock2", "kvmclock" },
  { "vmx-invvpid-single-context", "vmx-invept-single-context" },
};

typedef struct {
  GHashTable *by_name;       /* every spelling → feature */
  const X86Feature *at[N_WORDS][32];
  guint32 named[N_WORDS];    /* per word, the bits @at names */
} FeatureIndex;

static void
index_spelling (GHashTable *by_name, const char *spelling, const X86Feature *feature)
{
  /* The first entry wins; the unit tests reject a table in which two features share a spelling. */
  if (!g_hash_table_contains (by_name, spelling))
    g_hash_table_insert (by_name, (gpointer) spelling, (gpointer) feature);
}

static gpointer
build_index (gpointer unused)
{
  FeatureIndex *index = g_new0 (FeatureIndex, 1);

  index->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  for (gsize i = 0; i < G_N_ELEMENTS (features); i++)
    {
      const X86Feature *feature = &features[i];

      index_spelling (index->by_name, feature->name, feature);
      for (const char *const *alias = feature->aliases; alias != NULL && *alias != NULL; alias++)
        index_spelling (index->by_name, *alias, feature);
      if (feature->libvirt_name != NULL)
        index_spelling (index->by_name, feature->libvirt_name, feature);
      if (feature->word < N_WORDS && feature->bit < 32 && index->at[feature->word][feature->bit] == NULL)
        {
          index->at[feature->word][feature->bit] = feature;
          index->named[feature->word] |= 1u << feature->bit;
        }
    }
  /* Built once and kept for the life of the process. */
  return index;
}

static const FeatureIndex *
feature_index (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, build_index, NULL);
}

const X86FeatureWord *
x86_feature_words (guint *n_words)
{
  if (n_words != NULL)
    *n_words = N_WORDS;
  return words;
}

guint
x86_feature_n_words (void)
{
  return N_WORDS;
}

int
x86_feature_word_find_cpuid (guint32 leaf, guint32 subleaf, X86Register reg)
{
  for (guint i = 0; i < N_WORDS; i++)
    {
      const X86FeatureWord *word = &words[i];

      if (word->kind == X86_WORD_CPUID && word->leaf == leaf && word->reg == reg
          && (word->subleaf == X86_NO_SUBLEAF || word->subleaf == subleaf))
        return i;
    }
  return -1;
}

int
x86_feature_word_find_msr (guint32 msr)
{
  for (guint i = 0; i < N_WORDS; i++)
    if (words[i].kind == X86_WORD_MSR && words[i].msr == msr && words[i].bit_offset == 0)
      return i;
  return -1;
}

const X86Feature *
x86_features (guint *n_features)
{
  if (n_features != NULL)
    *n_features = G_N_ELEMENTS (features);
  return features;
}

const X86Feature *
x86_feature_lookup (const char *name)
{
  const FeatureIndex *index = feature_index ();
  const X86Feature *feature;

  if (name == NULL)
    return NULL;
  feature = g_hash_table_lookup (index->by_name, name);
  if (feature == NULL && strchr (name, '_') != NULL)
    {
      /* QEMU's -cpu parser turns every '_' into '-' before it looks a name up. */
      g_autofree char *dashed = g_strdelimit (g_strdup (name), "_", '-');
      feature = g_hash_table_lookup (index->by_name, dashed);
    }
  return feature;
}

guint32
x86_feature_named_bits (guint word)
{
  return word < N_WORDS ? feature_index ()->named[word] : 0;
}

const X86Feature *
x86_feature_at (guint word, guint bit)
{
  if (word >= N_WORDS || bit >= 32)
    return NULL;
  return feature_index ()->at[word][bit];
}

const char *
x86_feature_libvirt_name (const X86Feature *feature)
{
  return feature->libvirt_name != NULL ? feature->libvirt_name : feature->name;
}

const char *
x86_feature_qemu_property (const X86Feature *feature)
{
  if (feature->flags & (X86_FEATURE_DYNAMIC | X86_FEATURE_LIBVIRT_ONLY))
    return NULL;
  if (feature->flags & X86_FEATURE_SECOND_BIT)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (shared_properties); i++)
        if (strcmp (feature->name, shared_properties[i].second_bit) == 0)
          return shared_properties[i].property;
      return NULL;
    }
  return feature->name;
}

const X86Feature *
x86_feature_lookup_property (const char *name)
{
  const X86Feature *feature = x86_feature_lookup (name);

  if (feature == NULL || (feature->flags & (X86_FEATURE_DYNAMIC | X86_FEATURE_LIBVIRT_ONLY
                                            | X86_FEATURE_SECOND_BIT)))
    return NULL;
  return feature;
}

gboolean
x86_is_non_feature_property (const char *name)
{
  if (name == NULL)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (non_feature_properties); i++)
    if (strcmp (name, non_feature_properties[i]) == 0)
      return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (non_feature_prefixes); i++)
    if (g_str_has_prefix (name, non_feature_prefixes[i]))
      return TRUE;
  return FALSE;
}

const char *
x86_register_name (X86Register reg)
{
  static const char *const names[] = {
    [X86_REG_EAX] = "EAX", [X86_REG_EBX] = "EBX", [X86_REG_ECX] = "ECX", [X86_REG_EDX] = "EDX",
  };

  return (guint) reg < G_N_ELEMENTS (names) ? names[reg] : "?";
}

char *
x86_feature_word_describe (guint word_index)
{
  const X86FeatureWord *word;

  g_return_val_if_fail (word_index < N_WORDS, NULL);
  word = &words[word_index];
  if (word->kind == X86_WORD_MSR)
    return g_strdup_printf ("MSR(%02XH)", word->msr);
  if (word->subleaf == X86_NO_SUBLEAF || word->subleaf == 0)
    return g_strdup_printf ("CPUID.%02XH:%s", word->leaf, x86_register_name (word->reg));
  return g_strdup_printf ("CPUID.%02XH_%02XH:%s", word->leaf, word->subleaf,
                          x86_register_name (word->reg));
}

char *
x86_feature_bit_describe (guint word, guint bit)
{
  g_autofree char *word_text = NULL;

  g_return_val_if_fail (word < N_WORDS && bit < 32, NULL);
  word_text = x86_feature_word_describe (word);
  return g_strdup_printf ("%s[bit %u]", word_text, bit + words[word].bit_offset);
}

char *
x86_feature_describe (const X86Feature *feature)
{
  g_autofree char *word_text = NULL;
  const char *property;

  g_return_val_if_fail (feature != NULL && feature->word < N_WORDS, NULL);
  word_text = x86_feature_word_describe (feature->word);
  property = (feature->flags & X86_FEATURE_SECOND_BIT) ? x86_feature_qemu_property (feature) : feature->name;
  return g_strdup_printf ("%s.%s [bit %u]", word_text, property,
                          feature->bit + words[feature->word].bit_offset);
}

/* Levenshtein distance with adjacent transpositions counted as one edit. */
static guint
edit_distance (const char *a, const char *b)
{
  gsize la = strlen (a), lb = strlen (b);
  g_autofree guint *rows = g_new (guint, 3 * (lb + 1));
  guint *before = rows, *previous = rows + lb + 1, *current = rows + 2 * (lb + 1);

  for (gsize j = 0; j <= lb; j++)
    previous[j] = j;
  for (gsize i = 1; i <= la; i++)
    {
      current[0] = i;
      for (gsize j = 1; j <= lb; j++)
        {
          guint cost = a[i - 1] == b[j - 1] ? 0 : 1;
          guint best = MIN (previous[j] + 1, current[j - 1] + 1);

          best = MIN (best, previous[j - 1] + cost);
          if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
            best = MIN (best, before[j - 2] + 1);
          current[j] = best;
        }
      guint *recycled = before;
      before = previous;
      previous = current;
      current = recycled;
    }
  return previous[lb];
}

typedef struct {
  const X86Feature *feature;
  guint distance;
  guint length_gap;
} Suggestion;

static guint
spelling_distance (const char *name, const char *spelling, guint *length_gap)
{
  gsize a = strlen (name), b = strlen (spelling);

  *length_gap = a > b ? a - b : b - a;
  return edit_distance (name, spelling);
}

static void
consider_spelling (Suggestion *suggestion, const char *name, const char *spelling)
{
  guint gap;
  guint distance = spelling_distance (name, spelling, &gap);

  if (distance < suggestion->distance
      || (distance == suggestion->distance && gap < suggestion->length_gap))
    {
      suggestion->distance = distance;
      suggestion->length_gap = gap;
    }
}

static int
compare_suggestions (gconstpointer a, gconstpointer b)
{
  const Suggestion *x = a, *y = b;

  if (x->distance != y->distance)
    return x->distance < y->distance ? -1 : 1;
  if (x->length_gap != y->length_gap)
    return x->length_gap < y->length_gap ? -1 : 1;
  /* Table order: the array was filled in it. */
  return x->feature < y->feature ? -1 : (x->feature > y->feature);
}

GPtrArray *
x86_feature_suggest (const char *name, guint max)
{
  GPtrArray *names = g_ptr_array_new ();
  g_autoptr (GArray) candidates = g_array_new (FALSE, FALSE, sizeof (Suggestion));
  guint limit;

  if (name == NULL || max == 0)
    return names;
  limit = MAX (2, strlen (name) / 3);
  for (gsize i = 0; i < G_N_ELEMENTS (features); i++)
    {
      const X86Feature *feature = &features[i];
      Suggestion suggestion = { feature, G_MAXUINT, G_MAXUINT };

      consider_spelling (&suggestion, name, feature->name);
      for (const char *const *alias = feature->aliases; alias != NULL && *alias != NULL; alias++)
        consider_spelling (&suggestion, name, *alias);
      if (feature->libvirt_name != NULL)
        consider_spelling (&suggestion, name, feature->libvirt_name);
      if (suggestion.distance <= limit)
        g_array_append_val (candidates, suggestion);
    }
  g_array_sort (candidates, compare_suggestions);
  for (guint i = 0; i < candidates->len && names->len < max; i++)
    g_ptr_array_add (names, (gpointer) g_array_index (candidates, Suggestion, i).feature->name);
  return names;
}
