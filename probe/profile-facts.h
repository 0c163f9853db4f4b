/* probe/profile-facts.h — what a host profile keeps of one QEMU session (an accelerator
 * and a machine type) to answer query-cpu-model-expansion without QEMU, exactly.
 *
 * Every expansion is stored compactly: the session's feature properties once, as a list
 * of QEMU's canonical names, and per reply the features it turns on as a bit string over
 * that list (hex, four features a digit, the first feature in the low bit of the first
 * digit), beside the reply's other members and properties (level, vendor, model-id,
 * hv-*, ...), kept as QEMU gave them.
 *
 * With feature toggles QEMU answers what no profile could store for every combination;
 * it is computed instead, from facts measured on the very QEMU. QEMU (target/i386/cpu.c,
 * x86_cpu_expand_features) sets the user's feature properties over the model's features
 * as the accelerator defaults and the machine type's compat properties left them, fills
 * host and max from the supported set except where the user spoke, then makes one pass
 * over its feature_dependencies table, clearing every feature whose prerequisite is off,
 * then clears what the accelerator never gives (the KVM leaf without KVM). So:
 *   - the profile's "dependents" (probe/profile-dependents.h): for every feature whose
 *     being off clears others, those others. One pass in table order makes the features
 *     several being off clear the union of what each clears alone;
 *   - a session's "never": what max leaves off with every feature asked on;
 *   - per model, besides its plain expansion ("on"), its expansions with every
 *     prerequisite on ("prereqs-on": nothing is cleared, so every feature that is nobody's
 *     prerequisite shows its value before the pass) and with the prerequisites no other
 *     feature clears on ("roots-on": the others show theirs), when those differ.
 * A question the facts do not settle — a non-feature property, a feature this QEMU lacks,
 * a value before the pass no expansion showed and the answer depends on — is not
 * answered (probe/profile-answer.c). */
#pragma once
#include <glib.h>
#include <json-c/json.h>

/* A set over a session's features, one byte a feature (0 or 1). */
typedef guint8 ProbeBits;

char    *probe_bits_to_hex (const ProbeBits *bits, guint n);
gboolean probe_bits_from_hex (const char *hex, ProbeBits *bits, guint n);

/* QEMU's canonical property for expansion property @property when it switches a feature
 * (an alias gives its feature's canonical name), else NULL: a property of another kind. */
const char  *probe_facts_canonical (const char *property);
/* The "model"."props" object of an expansion (borrowed), or NULL. */
json_object *probe_facts_expansion_props (json_object *expansion);
/* The position of @name in an index (name → position + 1), or -1. */
int          probe_facts_index (GHashTable *index, const char *name);

/* The expansion variants a session stores per model. */
typedef enum {
  PROBE_FACTS_PLAIN,            /* "on" (and "reply"): the model as QEMU defines it here */
  PROBE_FACTS_PREREQS_ON,       /* "prereqs-on" */
  PROBE_FACTS_ROOTS_ON,         /* "roots-on" */
  PROBE_FACTS_MIGRATABLE_OFF,   /* "migratable-off" {"reply", "on"}: host and max only */
  PROBE_FACTS_N_VARIANTS
} ProbeFactsVariant;

/* The member each variant is kept in. */
extern const char *const probe_facts_variant_members[PROBE_FACTS_N_VARIANTS];

/* ---- Writing (probe/profile-make.c) ---- */

typedef struct ProbeFactsWriter ProbeFactsWriter;

/* Starts from max's plain expansion (the "return" of QEMU's reply, borrowed): its feature
 * properties are the session's. */
ProbeFactsWriter *probe_facts_writer_new (json_object *max_expansion);
void              probe_facts_writer_free (ProbeFactsWriter *writer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeFactsWriter, probe_facts_writer_free)

guint        probe_facts_writer_n_features (ProbeFactsWriter *writer);
const char  *probe_facts_writer_feature (ProbeFactsWriter *writer, guint i);
/* The features @expansion (borrowed) turns on; the caller frees it. */
ProbeBits   *probe_facts_writer_bits (ProbeFactsWriter *writer, json_object *expansion);
/* The properties that make max have every feature on before the pass, but those of @off
 * (may be NULL). The caller owns them. */
json_object *probe_facts_writer_world_props (ProbeFactsWriter *writer, const ProbeBits *off);
/* Takes max's expansion with every feature asked on (borrowed): what stays off is never on. */
void         probe_facts_writer_set_never (ProbeFactsWriter *writer, json_object *all_on);
/* Takes the measured dependents ({name: [names]}, borrowed; NULL: not measured). */
void         probe_facts_writer_set_dependents (ProbeFactsWriter *writer, json_object *dependents);
/* The properties of @variant (MIGRATABLE_OFF, or PREREQS_ON and ROOTS_ON once the
 * dependents are set); NULL when the variant asks nothing the plain expansion or another
 * variant does not. The caller owns them. */
json_object *probe_facts_writer_variant_props (ProbeFactsWriter *writer,
                                               ProbeFactsVariant variant);
/* Keeps @model's @variant expansion (the reply's "return", borrowed). */
void         probe_facts_writer_add (ProbeFactsWriter *writer, const char *model,
                                     ProbeFactsVariant variant, json_object *expansion);
/* The session's facts: {"features", "never", "expansions"} (caller owns the reference). */
json_object *probe_facts_writer_finish (ProbeFactsWriter *writer);
