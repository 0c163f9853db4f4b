/* probe/profile-answer.h — query-cpu-model-expansion answered from a profiled session's
 * facts (probe/profile-facts.h): stored replies as QEMU gave them, and feature toggles
 * computed as QEMU computes them, or no answer when the facts do not settle it. */
#pragma once
#include <glib.h>
#include <json-c/json.h>

typedef struct ProbeFacts ProbeFacts;

/* Reads the facts of @session with the profile's @dependents (both borrowed and kept
 * referenced; @dependents may be NULL: then no toggle is answered). A session without
 * facts (a QEMU older than 2.9) answers nothing. NULL with @error
 * (PROBE_PROFILE_ERROR_INVALID, "WHERE.MEMBER is malformed") when they are malformed. */
ProbeFacts *probe_facts_new (json_object *session, json_object *dependents, const char *where,
                             GError **error);
void        probe_facts_free (ProbeFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeFacts, probe_facts_free)

/* QEMU's reply ({"return": ...}, caller owns it) to query-cpu-model-expansion with
 * @arguments (borrowed) in this session, or NULL when the facts cannot say it exactly.
 * A reply computed for feature toggles lists the model's feature properties only: the
 * others (level, xlevel, ...) can move with the features and are left out rather than
 * guessed; the probes read the features alone. */
json_object *probe_facts_expand (ProbeFacts *facts, json_object *arguments);
/* The models the session holds expansions of, host and max included (names borrowed). */
GPtrArray *probe_facts_models (ProbeFacts *facts);
