/* probe/profile-answer.h — query-cpu-model-expansion answered from a profiled session's
 * facts (probe/profile-facts.h): stored replies as QEMU gave them, and feature toggles
 * computed as QEMU computes them, or no answer when the facts do not settle it. */
#pragma once
#include <glib.h>
#include <json-c/json.h>

typedef struct ProbeFacts ProbeFacts;

/* Reads the facts of @session ("features", "never", "props") with the profile's
 * @dependents (both borrowed and kept referenced; @dependents may be NULL: then no toggle
 * is answered), and locates the entries of its expansions object at
 * @text[@expansions_start, @expansions_end) (kept referenced), each parsed when first
 * asked for. A session without facts (a QEMU older than 2.9) answers nothing. NULL with
 * @error (PROBE_PROFILE_ERROR_INVALID, "WHERE.MEMBER is malformed") when they are
 * malformed. */
ProbeFacts *probe_facts_new (json_object *session, GBytes *text, gsize expansions_start,
                             gsize expansions_end, json_object *dependents, const char *where,
                             GError **error);
/* The first expansion entry found not to be JSON ("WHERE.expansions.MODEL is not JSON
 * (...)"; a copy, caller frees), or NULL: a question that read it was not answered. */
GError     *probe_facts_malformed (ProbeFacts *facts);
void        probe_facts_free (ProbeFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeFacts, probe_facts_free)

/* QEMU's reply ({"return": ...}, caller owns it) to query-cpu-model-expansion with
 * @arguments (borrowed) in this session, or NULL when the facts cannot say it exactly.
 * A reply computed for feature toggles lists the model's feature properties only: the
 * others (level, xlevel, ...) can move with the features and are left out rather than
 * guessed; the probes read the features alone. */
json_object *probe_facts_expand (ProbeFacts *facts, json_object *arguments);
/* The same reply as JSON text (newly allocated), for the questions a stored reply answers
 * as it is (no toggles, or migratable off alone), or NULL: written from the profile's own
 * text, no object built, as the model list is handed over (qmp/session.h). */
char *probe_facts_expand_text (ProbeFacts *facts, json_object *arguments);
/* The models the session holds expansions of, host and max included (names borrowed). */
GPtrArray *probe_facts_models (ProbeFacts *facts);
