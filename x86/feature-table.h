/* x86/feature-table.h — every x86 CPU feature QEMU knows, as one data table.
 *
 * A feature word is a 32-bit register QEMU manages as a unit: a CPUID (leaf, subleaf,
 * register) or an MSR. Each named feature is a bit of a word with QEMU's canonical name,
 * every alias QEMU accepts now or accepted in 1.x–2.x, and libvirt's name where it
 * differs. All lookups (any spelling → feature, word+bit → feature) are built from the
 * table in x86/feature-table.c; nothing here is a hand-written switch. Bits without a
 * name stay addressable as (word, bit) and print as "CPUID.07H:EBX[bit 22]". */
#pragma once
#include <glib.h>

typedef enum {
  X86_REG_EAX,
  X86_REG_EBX,
  X86_REG_ECX,
  X86_REG_EDX,
} X86Register;

#define X86_NO_SUBLEAF G_MAXUINT32   /* the leaf ignores ECX */

typedef enum {
  X86_WORD_CPUID,
  X86_WORD_MSR,
} X86WordKind;

typedef struct {
  const char *name;        /* QEMU's: "FEAT_7_0_EBX", "FEAT_ARCH_CAPABILITIES", ... */
  X86WordKind kind;
  guint32 leaf;            /* CPUID: EAX input */
  guint32 subleaf;         /* CPUID: ECX input, or X86_NO_SUBLEAF */
  X86Register reg;         /* CPUID: output register */
  guint32 msr;             /* MSR: index */
  guint bit_offset;        /* MSR: 32 for the high half of a 64-bit MSR QEMU names bits in, else 0 */
} X86FeatureWord;

typedef enum {
  X86_FEATURE_UNMIGRATABLE = 1 << 0,  /* migratable=on drops it from host/max (invtsc) */
  X86_FEATURE_DYNAMIC      = 1 << 1,  /* follows guest state, never in feature-words (osxsave, ospke) */
  X86_FEATURE_NO_AUTO      = 1 << 2,  /* never auto-enabled in host/max (ht, topoext, kvm-hint-dedicated) */
  X86_FEATURE_LIBVIRT_ONLY = 1 << 3,  /* libvirt names it, QEMU has no property (cmt, cvt16, ...) */
  X86_FEATURE_SECOND_BIT   = 1 << 4,  /* QEMU sets it through another feature's property, whose name
                                       * QEMU gives to both bits; the name here is ours:
                                       * "kvmclock2" (KVM leaf bit 3, set by "kvmclock") and
                                       * "vmx-invvpid-single-context" (EPT/VPID caps bit 41, set by
                                       * "vmx-invept-single-context") */
} X86FeatureFlags;

typedef struct {
  const char *name;        /* QEMU canonical property name; for LIBVIRT_ONLY bits, libvirt's */
  guint word;              /* index into x86_feature_words() */
  guint bit;               /* 0..31 */
  const char *const *aliases;   /* NULL-terminated, may be NULL: every other spelling QEMU accepted */
  const char *libvirt_name;     /* NULL when libvirt uses the QEMU name */
  guint flags;             /* X86FeatureFlags */
} X86Feature;

/* The words, in QEMU's FeatureWord order; the high half of a 64-bit MSR follows its low half,
 * and words only libvirt names (0xF.1 EDX) come last. */
const X86FeatureWord *x86_feature_words (guint *n_words);
guint                 x86_feature_n_words (void);
/* The word of CPUID (leaf, subleaf, reg): @subleaf is ignored for a word without one;
 * a word with a subleaf matches only that subleaf. Returns the index or -1. */
int  x86_feature_word_find_cpuid (guint32 leaf, guint32 subleaf, X86Register reg);
int  x86_feature_word_find_msr (guint32 msr);

/* Every feature, in table order (word order, then bit). */
const X86Feature *x86_features (guint *n_features);
/* By any spelling QEMU or libvirt uses ("sse4_1", "sse4-1", "pclmuldq", "i64", "ds_cpl",
 * "fxsr_opt", "kvm_pv_eoi", ...); case-sensitive like QEMU. NULL when unknown. */
const X86Feature *x86_feature_lookup (const char *name);
/* The named feature at (word, bit), or NULL. */
const X86Feature *x86_feature_at (guint word, guint bit);
/* The bits of @word that x86_feature_at() names (0 past the table's words). */
guint32 x86_feature_named_bits (guint word);
/* libvirt's spelling of @feature. */
const char *x86_feature_libvirt_name (const X86Feature *feature);
/* The QEMU CPU property that switches @feature: its name, the shared property of a
 * SECOND_BIT feature ("kvmclock" for "kvmclock2"), or NULL when current QEMU has none
 * (DYNAMIC and LIBVIRT_ONLY features). */
const char *x86_feature_qemu_property (const X86Feature *feature);
/* The feature switched by QEMU property @name (any spelling current QEMU accepts), or NULL. */
const X86Feature *x86_feature_lookup_property (const char *name);

/* QEMU boolean CPU properties that are not CPUID/MSR features ("pmu", "check", "enforce",
 * "migratable", "kvm", "l3-cache", "hv-*", ...): expansions list them next to features. */
gboolean x86_is_non_feature_property (const char *name);

/* The word as QEMU 2.x–9.x warnings write it: "CPUID.07H:EBX", "MSR(10AH)". Those QEMUs
 * omit the subleaf, which makes 7.0 and 7.1 look alike, so a non-zero subleaf is added as
 * QEMU's first proposal for it did: "CPUID.07H_01H:EAX". Newly allocated. */
char *x86_feature_word_describe (guint word);
/* "CPUID.07H:EBX[bit 22]", "CPUID.80000001H:ECX[bit 18]", "MSR(10AH)[bit 3]": for unnamed bits.
 * @bit counts within the word (0..31); a high-half MSR word prints the MSR's bit (32..63). */
char *x86_feature_bit_describe (guint word, guint bit);
/* "CPUID.07H:EBX.avx2 [bit 5]": QEMU's own way of naming a named bit in warnings; a
 * SECOND_BIT feature is named by its QEMU property there, as QEMU does ("...kvmclock [bit 3]"). */
char *x86_feature_describe (const X86Feature *feature);
const char *x86_register_name (X86Register reg);   /* "EAX" ... */

/* Up to @max canonical names whose spellings are closest to @name (edit distance, no
 * farther than a third of the name, at least 2), best first, for "did you mean". The array
 * is the caller's; its strings belong to the table. */
GPtrArray *x86_feature_suggest (const char *name, guint max);
