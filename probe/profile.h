/* probe/profile.h — a host profile: everything `expand`, `check` and `models` need to answer
 * for one host (one QEMU binary on one machine) without running anything there.
 *
 * A profile is stored facts, not a model of QEMU: the host's CPUID of every CPU with KVM's
 * supported and emulated tables (x86/cpuid-dump-json.c's layout), and QEMU's own answers to
 * the questions the probes ask, per accelerator and machine type, kept as the QMP
 * conversations they came from. Offline, those conversations are replayed to the very code
 * that asks QEMU live (DESIGN.md §6: one prediction path), in QMP_REPLAY_ARGUMENTS mode:
 * a question asked with other arguments than recorded, or a session launched on another
 * machine type, has no answer, and the run fails with PROBE_PROFILE_ERROR_UNANSWERED
 * rather than guess.
 *
 * The document:
 *   {"format": "vcpuprobe-profile", "version": 1,
 *    "host": {"name": NAME, "cpu": BRAND|null}, "made": ISO-8601 (when QEMU answered),
 *    "vcpuprobe": VERSION, "qemu": {"binary", "version", "package"},
 *    "default_accel": "kvm"|"tcg", "accels": ["kvm", "tcg"], "machines": ["none", "pc", ...],
 *    "cpuid": {x86 JSON dump, with "kvm"},
 *    "sessions": [{"launch": {"accel", "machine", "cpu": null, "preconfig": false},
 *                  "messages": [greeting, command, reply, command, reply, ...],
 *                  "features", "dependents", "expansions"}]}
 * "messages" hold the plain questions (query-kvm, query-machines, query-cpu-definitions);
 * the expansions are kept as facts (probe/profile-facts.h) and answered from them, with
 * feature toggles computed as QEMU computes them. Version 1 (every reply whole) is
 * refused with a message saying to make the profile again. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/source.h"
#include "x86/cpuid-dump.h"

#define PROBE_PROFILE_FORMAT "vcpuprobe-profile"
#define PROBE_PROFILE_VERSION 2

#define PROBE_PROFILE_ERROR (probe_profile_error_quark ())
GQuark probe_profile_error_quark (void);

typedef enum {
  PROBE_PROFILE_ERROR_INVALID,     /* not a profile, another format or version, malformed */
  PROBE_PROFILE_ERROR_UNANSWERED,  /* the profile holds no exact answer to a question */
} ProbeProfileError;

typedef struct ProbeProfile {
  char *path;                  /* where it was read from */
  char *host;                  /* the host's name */
  char *made;                  /* when QEMU answered (ISO 8601) */
  char *qemu_binary;
  char *qemu_version;
  char *default_accel;
  struct ProbeProfileCpuid *cpuid;  /* every CPU, with KVM's view when KVM could be read:
                                     * read when first asked (probe_profile_cpuid()) */
  QmpReplies *replies;         /* every recorded session, each read when first served */
  struct ProbeProfileSessions *sessions;  /* where they lie in the text; their facts, each
                                           * read when first asked (probe/profile-sessions.h) */
  /* Read through a ProbeProfileShelf whose profile with the same answers came first: that
   * one (owned by the shelf), whose cpuid, replies and sessions this one borrows. */
  const struct ProbeProfile *alike;
} ProbeProfile;

/* Sets @error to PROBE_PROFILE_ERROR_INVALID, "PATH: PROBLEM"; FALSE (for the readers). */
gboolean probe_profile_set_invalid (GError **error, const char *path, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

void probe_profile_free (ProbeProfile *profile);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeProfile, probe_profile_free)

/* Reads and validates @path: its header now, its CPUID and each session's messages and
 * facts when a question first reads them (probe/profile-sessions.h). Errors: G_FILE_ERROR when
 * unreadable, PROBE_PROFILE_ERROR_INVALID ("PATH: PROBLEM") otherwise; a session found
 * malformed later fails the question that read it so (probe_profile_explain_error()). */
ProbeProfile *probe_profile_load (const char *path, GError **error);
/* Many profiles read as one (a fleet): a profile whose text differs from one read before
 * only in the host's name, when it was made and the vcpuprobe that made it
 * (qmp/json-skim.h) is not parsed again; it borrows the first one's facts (->alike),
 * so answers computed for that one are this one's too. The shelf must outlive every
 * profile it returned. */
typedef struct ProbeProfileShelf ProbeProfileShelf;

ProbeProfileShelf *probe_profile_shelf_new (void);
void               probe_profile_shelf_free (ProbeProfileShelf *shelf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeProfileShelf, probe_profile_shelf_free)
/* probe_profile_load(), through @shelf. */
ProbeProfile *probe_profile_shelf_load (ProbeProfileShelf *shelf, const char *path,
                                        GError **error);
/* Frees the parsed facts of @alike (a profile's ->alike, owned by @shelf) once nothing
 * will be asked of them: twins read later still share its header and its answers, but
 * their cpuid, replies and facts are NULL. What a fleet of distinct hosts costs in memory
 * is then one parsed profile at a time, not all of them. */
void          probe_profile_shelf_release (ProbeProfileShelf *shelf, const ProbeProfile *alike);

/* The same from a parsed document (@root borrowed), named @path in messages. */
ProbeProfile *probe_profile_from_json (json_object *root, const char *path, GError **error);

/* The host's CPUID of every CPU, with KVM's view, read the first time it is asked for
 * (answers under tcg never need it): NULL when the profile's is malformed, which
 * probe_profile_malformed() then says, or when the shelf has released it. Borrowed. */
const X86CpuidDump *probe_profile_cpuid (const ProbeProfile *profile);

/* A QMP source answering from @profile only (strict QMP_REPLAY_ARGUMENTS replay),
 * described as @description (what results name as their QEMU binary). */
QmpSource *probe_profile_source (const ProbeProfile *profile, const char *description);

/* A malformed part of @profile that anything has read so far
 * (PROBE_PROFILE_ERROR_INVALID, "PATH: WHERE is not JSON (...)"; a copy, caller frees),
 * or NULL. An answer that read one is no answer: whoever asked fails with it. */
GError *probe_profile_malformed (const ProbeProfile *profile);

/* Rewrites an error of a run from @profile's source: into PROBE_PROFILE_ERROR_INVALID,
 * saying what is wrong, when the run read a malformed part of the profile; into
 * PROBE_PROFILE_ERROR_UNANSWERED, naming the profile, when it came from a question the
 * profile holds no answer for (a strict replay's unanswered command, a session on a
 * machine type it does not cover). Other errors are left alone. */
void probe_profile_explain_error (const ProbeProfile *profile, GError *error);

/* The facts of @profile's session under @accel on @machine (as the session was launched:
 * "none", "pc", "q35"), or NULL when it has none, or NULL with @error when they are
 * malformed. Borrowed (probe/profile-answer.h). */
struct ProbeFacts *probe_profile_facts (const ProbeProfile *profile, const char *accel,
                                        const char *machine, GError **error);

/* ---- Making one ---- */

/* Asks @source (a launched QEMU, or a replay of a recording made by this function) every
 * question the offline answers need: under each of @accels (NULL-terminated) and on each
 * of @machines, one session with the machine list, query-kvm, the model list and the
 * full expansion of every named model, and of host and max with migratable on and off.
 * The sessions run in parallel and are recorded by whatever recorder @source has, which
 * is where the profile's conversations come from. FALSE with @error only when no session
 * could be opened at all; an accelerator QEMU refuses is simply not in the profile.
 * @progress (may be NULL; the shape of probe/probe.h's ProbeProgressFunc) is told each time
 * a session ends, @done of @total, from the sessions' threads. */
gboolean probe_profile_gather (QmpSource *source, const char *const *accels,
                               const char *const *machines, gint64 deadline_us,
                               void (*progress) (guint done, guint total, gpointer data),
                               gpointer progress_data, json_object **facts, GError **error);
/* How *@facts of probe_profile_gather() names a session's facts ({KEY: facts}): the
 * accelerator and the machine type. Newly allocated. */
char *probe_profile_facts_key (const char *accel, const char *machine);

typedef struct {
  const char *host;            /* the host's name */
  const char *made;            /* when the conversations were recorded */
  const char *qemu_binary;
  const char *default_accel;   /* NULL: kvm when the profile has a kvm session, else tcg */
  const X86CpuidDump *cpuid;   /* borrowed; should carry KVM's view */
  QmpReplies *recording;       /* borrowed: what probe_profile_gather() asked */
  json_object *facts;          /* borrowed: what it kept of the expansions */
} ProbeProfileParts;

/* The profile document of @parts (reference owned by the caller). Every session of the
 * recording that opened is kept, in the recording's order. */
json_object *probe_profile_build (const ProbeProfileParts *parts, GError **error);
