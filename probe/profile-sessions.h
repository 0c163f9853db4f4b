/* probe/profile-sessions.h — a host profile's sessions, read when a question first needs
 * them.
 *
 * A profile holds one QEMU session per accelerator and machine type, each with its QMP
 * messages and the facts of its expansions: nine tenths of a 250 KB file, of which a
 * question reads one or two sessions. Building the whole tree costs about 5 ms, the whole
 * budget of an offline check, so the reader only locates each session's members in the
 * text (qmp/json-skim.h), parses its launch description at once, its messages when a
 * replay first serves it (qmp_replies_new_lazy()) and its facts when an expansion is first
 * asked of it. What is parsed is judged as carefully as a whole-document read judged it;
 * a malformed part is found when a question reads it, and the run then fails naming the
 * profile and the part (probe_profile_sessions_error()). */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/profile-answer.h"

typedef struct ProbeProfileSessions ProbeProfileSessions;

/* Locates the sessions of the list at @text[@start] (the profile's "sessions" member;
 * @text is kept referenced), and where the list ends into *@end. NULL with @error
 * (PROBE_PROFILE_ERROR_INVALID, naming @path) when a session is not an object, has no
 * "launch" object or no "messages" list, or its "same-as" names no earlier session that
 * answers itself; NULL without when the text cannot be followed (not JSON: the caller's
 * careful parse says why). */
ProbeProfileSessions *probe_profile_sessions_read (GBytes *text, gsize start, gsize *end,
                                                   const char *path, GError **error);
/* The profile's "dependents" (borrowed, kept referenced; may be NULL), which every
 * session's facts answer feature toggles with: set before any facts are read. */
void                  probe_profile_sessions_set_dependents (ProbeProfileSessions *sessions,
                                                             json_object *dependents);
ProbeProfileSessions *probe_profile_sessions_ref (ProbeProfileSessions *sessions);
void                  probe_profile_sessions_unref (ProbeProfileSessions *sessions);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeProfileSessions, probe_profile_sessions_unref)

guint        probe_profile_sessions_count (ProbeProfileSessions *sessions);
/* {"sessions": [launch, ...]}: the launches as a recording's metadata lists them
 * (borrowed). */
json_object *probe_profile_sessions_metadata (ProbeProfileSessions *sessions);

/* For each session, the index of the session whose messages and facts it answers with
 * (itself, or the earlier one its "same-as" names). Newly allocated. */
guint       *probe_profile_sessions_answering (ProbeProfileSessions *sessions);

/* The text of the messages of session @index, or of the session it answers as, and its
 * name in messages (a QmpRepliesFillFunc: @sessions is the ProbeProfileSessions). */
GBytes      *probe_profile_sessions_messages (guint index, gpointer sessions, char **name,
                                              GError **error);

/* The facts of session @index, read the first time they are asked for and kept. NULL
 * with @error when they are malformed (kept: asking again fails alike). */
ProbeFacts  *probe_profile_sessions_facts (ProbeProfileSessions *sessions, guint index,
                                           GError **error);

/* A malformed part a question has read (the earliest session's), or NULL (a copy, caller
 * frees). */
GError      *probe_profile_sessions_error (ProbeProfileSessions *sessions);
