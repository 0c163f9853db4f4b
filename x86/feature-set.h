/* x86/feature-set.h — a set of features: a bit set over the feature words of the table.
 * Unnamed bits are kept, so a set decoded from CPUID loses nothing. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "x86/feature-table.h"
#include "x86/cpuid-dump.h"

#define X86_MAX_WORDS 64

typedef struct {
  guint32 words[X86_MAX_WORDS];   /* indexed like x86_feature_words() */
} X86FeatureSet;

#define X86_FEATURE_ERROR (x86_feature_error_quark ())
GQuark x86_feature_error_quark (void);
typedef enum {
  X86_FEATURE_ERROR_UNKNOWN_NAME,   /* message names it and the closest known names */
  X86_FEATURE_ERROR_BAD_WORDS,      /* a feature-words list of the wrong shape */
} X86FeatureError;

void     x86_feature_set_clear (X86FeatureSet *set);
void     x86_feature_set_add (X86FeatureSet *set, const X86Feature *feature);
void     x86_feature_set_remove (X86FeatureSet *set, const X86Feature *feature);
gboolean x86_feature_set_has (const X86FeatureSet *set, const X86Feature *feature);
void     x86_feature_set_add_bit (X86FeatureSet *set, guint word, guint bit);
gboolean x86_feature_set_has_bit (const X86FeatureSet *set, guint word, guint bit);
gboolean x86_feature_set_is_empty (const X86FeatureSet *set);
gboolean x86_feature_set_equal (const X86FeatureSet *a, const X86FeatureSet *b);
guint    x86_feature_set_count (const X86FeatureSet *set);

/* result = a ∪ b, a ∩ b, a − b. @result may alias either operand. */
void x86_feature_set_union (X86FeatureSet *result, const X86FeatureSet *a, const X86FeatureSet *b);
void x86_feature_set_intersect (X86FeatureSet *result, const X86FeatureSet *a, const X86FeatureSet *b);
void x86_feature_set_subtract (X86FeatureSet *result, const X86FeatureSet *a, const X86FeatureSet *b);
/* Keeps only the bits that have a name in the table. */
void x86_feature_set_named_only (X86FeatureSet *set);

/* Calls @func for every set bit in table order (word order, then bit); @feature is NULL
 * for an unnamed bit. */
typedef void (*X86FeatureSetFunc) (guint word, guint bit, const X86Feature *feature, gpointer user_data);
void x86_feature_set_foreach (const X86FeatureSet *set, X86FeatureSetFunc func, gpointer user_data);

/* Canonical names in table order; unnamed bits as "CPUID.07H:EBX[bit 22]" when
 * @include_unnamed. The array owns its strings. */
GPtrArray *x86_feature_set_to_names (const X86FeatureSet *set, gboolean include_unnamed);
/* The same canonical names (unnamed bits left out) as a JSON array, the form every JSON
 * document of ours lists features in. The caller owns the reference. */
json_object *x86_feature_set_to_names_json (const X86FeatureSet *set);

/* The from_* functions overwrite @set; on failure they leave it as it was. */

/* From names in any spelling. Unknown names fail with X86_FEATURE_ERROR_UNKNOWN_NAME. */
gboolean x86_feature_set_from_names (X86FeatureSet *set, const char *const *names, guint n_names,
                                     GError **error);

/* From the CPUID words of CPU @cpu_index of @dump (every CPUID word of the table; absent
 * leaves read as 0). */
void x86_feature_set_from_cpuid (X86FeatureSet *set, const X86CpuidDump *dump, guint cpu_index);

/* From QEMU's feature-words / filtered-features value (a JSON array of
 * X86CPUFeatureWordInfo: cpuid-input-eax, optional cpuid-input-ecx, cpuid-register,
 * features), any version's shape: a word without cpuid-input-ecx matches subleaf 0 of a
 * leaf that has subleaves (QEMU 1.5 listed 7.0.EBX so). Words the table does not know
 * (registers ESP..EDI included) are skipped and counted in *n_unknown_words (may be NULL);
 * a list of the wrong shape fails with X86_FEATURE_ERROR_BAD_WORDS. @words is borrowed. */
gboolean x86_feature_set_from_feature_words (X86FeatureSet *set, json_object *words,
                                             guint *n_unknown_words, GError **error);
