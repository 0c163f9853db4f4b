/* probe/host-model.c — every layer of this host, QEMU's part asked in parallel and cached. */
#include "probe/host-model.h"
#include "probe/cache.h"
#include "probe/host-layers.h"
#include "probe/probe.h"
#include "probe/qemu-info.h"
#include "x86/host-cpuid.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* The facts are what the cache stores and what a warm run parses, so they are lean: a
 * feature list is one string of names separated by spaces, a model one small array. */
#define FACTS_FORMAT "vcpuprobe-qemu-facts-3"

/* ---- Facts: one QEMU, one accelerator ---- */

/* Every machine type and alias of a query-machines reply (borrowed), "pc-q35-7.2 q35 ...":
 * kept so that `vcpuprobe cached machines` (shell completion) can list them without QEMU. */
static json_object *
machine_names (json_object *machines)
{
  g_autoptr (GString) joined = g_string_new (NULL);

  if (!json_object_is_type (machines, json_type_array))
    return json_object_new_string ("");
  for (size_t i = 0; i < json_object_array_length (machines); i++)
    {
      json_object *entry = json_object_array_get_idx (machines, i);
      const char *members[] = { "name", "alias" };

      for (guint j = 0; j < G_N_ELEMENTS (members); j++)
        {
          json_object *name = json_object_object_get (entry, members[j]);

          if (!json_object_is_type (name, json_type_string))
            continue;
          if (joined->len > 0)
            g_string_append_c (joined, ' ');
          g_string_append (joined, json_object_get_string (name));
        }
    }
  return json_object_new_string_len (joined->str, (int) joined->len);
}

static void
facts_set_string (json_object *facts, const char *member, const char *value)
{
  json_object_object_add (facts, member, value != NULL ? json_object_new_string (value) : NULL);
}

/* @set's names as one string, "fpu vme de". */
static json_object *
names_to_string (const X86FeatureSet *set)
{
  g_autoptr (GPtrArray) names = x86_feature_set_to_names (set, FALSE);
  g_autoptr (GString) joined = g_string_sized_new (names->len * 8);

  for (guint i = 0; i < names->len; i++)
    {
      if (i > 0)
        g_string_append_c (joined, ' ');
      g_string_append (joined, names->pdata[i]);
    }
  return json_object_new_string_len (joined->str, (int) joined->len);
}

static void
names_from_string (json_object *string, X86FeatureSet *set)
{
  const char *names = json_object_get_string (string);

  x86_feature_set_clear (set);
  while (names != NULL && *names != '\0')
    {
      const char *end = strchr (names, ' ');
      size_t length = end != NULL ? (size_t) (end - names) : strlen (names);
      char name[128];
      const X86Feature *feature;

      if (length > 0 && length < sizeof name)
        {
          memcpy (name, names, length);
          name[length] = '\0';
          feature = x86_feature_lookup (name);
          if (feature != NULL)
            x86_feature_set_add (set, feature);
        }
      names = end != NULL ? end + 1 : names + length;
    }
}

static json_object *
member_or_null (json_object *object, const char *name)
{
  json_object *value = NULL;

  if (object != NULL && json_object_object_get_ex (object, name, &value) && value != NULL)
    return json_object_get (value);
  return NULL;
}

/* "models" in the facts, shaped for a cheap parse: most models share their list of
 * unavailable features with others (aliases, versions), and a list names few features
 * out of a small set. So:
 *   {"features": "avx2 hle rtm ...",      every feature some model lacks, once
 *    "lists": ["0 1 2", "", ...],         each distinct list, as indices into features
 *    "list": [[name, alias_of, deprecated, migration_safe, list index or null], ...]}
 * with null where QEMU did not list the unavailable features (older than 2.8). */
enum { MODEL_NAME, MODEL_ALIAS_OF, MODEL_DEPRECATED, MODEL_MIGRATION_SAFE, MODEL_LIST,
       N_MODEL_MEMBERS };

/* The index of @key in @table, added as the next index when new. */
static guint
intern (GHashTable *table, GPtrArray *order, const char *key)
{
  gpointer index;

  if (g_hash_table_lookup_extended (table, key, NULL, &index))
    return GPOINTER_TO_UINT (index);
  g_ptr_array_add (order, g_strdup (key));
  g_hash_table_insert (table, order->pdata[order->len - 1], GUINT_TO_POINTER (order->len - 1));
  return order->len - 1;
}

static json_object *
joined_to_json (GPtrArray *strings, char separator)
{
  g_autoptr (GString) joined = g_string_new (NULL);

  for (guint i = 0; i < strings->len; i++)
    {
      if (i > 0)
        g_string_append_c (joined, separator);
      g_string_append (joined, strings->pdata[i]);
    }
  return json_object_new_string_len (joined->str, (int) joined->len);
}

/* query-cpu-definitions, reduced to what `models` and `host` print; the caller owns it. */
static json_object *
compact_definitions (json_object *definitions)
{
  size_t n_definitions = json_object_array_length (definitions);
  g_autoptr (GHashTable) feature_index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GHashTable) list_index = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) features = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) lists = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) list = g_string_new (NULL);
  json_object *compact = json_object_new_object ();
  json_object *models = json_object_new_array_ext ((int) n_definitions);
  json_object *lists_json;

  for (size_t i = 0; i < n_definitions; i++)
    {
      json_object *definition = json_object_array_get_idx (definitions, i);
      json_object *model = json_object_new_array_ext (N_MODEL_MEMBERS);
      json_object *deprecated = NULL;
      json_object *unavailable = NULL;
      json_object *list_member = NULL;

      json_object_object_get_ex (definition, "deprecated", &deprecated);
      if (json_object_object_get_ex (definition, "unavailable-features", &unavailable)
          && json_object_is_type (unavailable, json_type_array))
        {
          g_string_truncate (list, 0);
          for (size_t j = 0; j < json_object_array_length (unavailable); j++)
            {
              const char *name = json_object_get_string (json_object_array_get_idx (unavailable, j));

              guint index = intern (feature_index, features, name != NULL ? name : "");
              char digits[16];
              int n_digits = 0;

              /* By hand: a printf per name cost more than the rest of this function. */
              do
                digits[n_digits++] = (char) ('0' + index % 10);
              while ((index /= 10) > 0);
              if (j > 0)
                g_string_append_c (list, ' ');
              while (n_digits > 0)
                g_string_append_c (list, digits[--n_digits]);
            }
          list_member = json_object_new_int ((int) intern (list_index, lists, list->str));
        }
      json_object_array_add (model, member_or_null (definition, "name"));
      json_object_array_add (model, member_or_null (definition, "alias-of"));
      json_object_array_add (model, json_object_new_boolean (deprecated != NULL
                                                             && json_object_get_boolean (deprecated)));
      json_object_array_add (model, member_or_null (definition, "migration-safe"));
      json_object_array_add (model, list_member);
      json_object_array_add (models, model);
    }
  lists_json = json_object_new_array_ext ((int) lists->len);
  for (guint i = 0; i < lists->len; i++)
    json_object_array_add (lists_json, json_object_new_string (lists->pdata[i]));
  json_object_object_add (compact, "features", joined_to_json (features, ' '));
  json_object_object_add (compact, "lists", lists_json);
  json_object_object_add (compact, "list", models);
  return compact;
}

static gboolean
is_versioned_name (const char *name)
{
  const char *dash = strrchr (name, '-');

  if (dash == NULL || dash[1] != 'v' || dash[2] == '\0')
    return FALSE;
  for (const char *digit = dash + 2; *digit != '\0'; digit++)
    if (!g_ascii_isdigit (*digit))
      return FALSE;
  return TRUE;
}

/* A model libvirt could name in <model>: usable here, and not a -vN spelling (libvirt's
 * CPU map knows the unversioned names). Its name, else NULL. @definition: one entry of
 * query-cpu-definitions. With @unknown_usable, a model QEMU did not say anything about
 * (no unavailable-features: older than 2.8) is a candidate too, for a post-start to
 * settle. */
static const char *
candidate_name (json_object *definition, gboolean unknown_usable)
{
  json_object *unavailable = NULL;
  const char *name = json_object_get_string (json_object_object_get (definition, "name"));

  if (name == NULL || is_versioned_name (name) || strcmp (name, "host") == 0
      || strcmp (name, "max") == 0 || strcmp (name, "base") == 0)
    return NULL;
  if (!json_object_object_get_ex (definition, "unavailable-features", &unavailable))
    return unknown_usable ? name : NULL;
  if (!json_object_is_type (unavailable, json_type_array)
      || json_object_array_length (unavailable) != 0)
    return NULL;
  return name;
}

/* The usable named model whose features need the fewest changes to become the migratable
 * host model, as libvirt's host-model CPU does: one candidate at a time. */
typedef struct {
  const X86FeatureSet *host;
  const char *best;             /* borrowed from the caller's candidates */
  guint best_changes;
  guint n_candidates;
  X86FeatureSet best_require, best_disable;
} ClosestSearch;

static void
closest_consider (ClosestSearch *search, const char *name, const X86FeatureSet *features)
{
  X86FeatureSet require, disable;
  guint changes;

  search->n_candidates++;
  x86_feature_set_subtract (&require, search->host, features);
  x86_feature_set_subtract (&disable, features, search->host);
  changes = x86_feature_set_count (&require) + x86_feature_set_count (&disable);
  if (search->best == NULL || changes < search->best_changes)
    {
      search->best = name;
      search->best_changes = changes;
      search->best_require = require;
      search->best_disable = disable;
    }
}

/* {"model","require","disable","changes","candidates"}, owned by the caller; NULL when
 * no model fits. */
static json_object *
closest_to_json (const ClosestSearch *search)
{
  json_object *closest;

  if (search->best == NULL)
    return NULL;
  closest = json_object_new_object ();
  json_object_object_add (closest, "model", json_object_new_string (search->best));
  json_object_object_add (closest, "require", x86_feature_set_to_names_json (&search->best_require));
  json_object_object_add (closest, "disable", x86_feature_set_to_names_json (&search->best_disable));
  json_object_object_add (closest, "changes", json_object_new_int ((int) search->best_changes));
  json_object_object_add (closest, "candidates", json_object_new_int ((int) search->n_candidates));
  return closest;
}

/* Notes in *@broken (newly allocated, first failure only) an error that says the
 * conversation itself failed (closed, timed out, not QMP) rather than QEMU refusing one
 * command: such a QEMU cannot be described, however well it started. */
static void
note_broken (char **broken, const char *command, const GError *error)
{
  if (*broken == NULL && error != NULL
      && !g_error_matches (error, QMP_ERROR, QMP_ERROR_COMMAND)
      && !g_error_matches (error, QMP_ERROR, QMP_ERROR_NOT_FOUND))
    *broken = strstr (error->message, command) != NULL
              ? g_strdup (error->message)
              : g_strdup_printf ("%s: %s", command, error->message);
}

/* The expansions of every candidate for the closest model, sent in one batch. */
typedef struct {
  GArray *ids;          /* guint64 */
  GPtrArray *names;     /* owned */
} CandidateExpansions;

static void
send_candidate_expansions (QmpSession *session, json_object *definitions,
                           CandidateExpansions *candidates, char **broken)
{
  candidates->ids = g_array_new (FALSE, TRUE, sizeof (guint64));
  candidates->names = g_ptr_array_new_with_free_func (g_free);
  for (size_t i = 0; i < json_object_array_length (definitions); i++)
    {
      const char *name = candidate_name (json_object_array_get_idx (definitions, i), FALSE);
      g_autoptr (GError) error = NULL;
      json_object *arguments;
      guint64 id;

      if (name == NULL)
        continue;
      arguments = probe_expansion_arguments (name, NULL);
      id = qmp_session_send (session, "query-cpu-model-expansion", arguments, &error);
      json_object_put (arguments);
      if (id == 0)
        {
          note_broken (broken, "query-cpu-model-expansion", error);
          break;
        }
      g_array_append_val (candidates->ids, id);
      g_ptr_array_add (candidates->names, g_strdup (name));
    }
}

static void
candidate_expansions_clear (CandidateExpansions *candidates)
{
  g_clear_pointer (&candidates->ids, g_array_unref);
  g_clear_pointer (&candidates->names, g_ptr_array_unref);
}

/* The closest model among the expansions of the candidates (see ClosestSearch). The
 * caller owns the result; NULL when no model fits. A model QEMU refuses to expand is no
 * candidate; a conversation that broke meanwhile is noted in *@broken, since the closest
 * of the models that happened to answer is not this host's. */
static json_object *
find_closest_model (QmpSession *session, const CandidateExpansions *candidates,
                    const X86FeatureSet *host, gint64 deadline_us, char **broken)
{
  ClosestSearch search = { .host = host };

  for (guint i = 0; i < candidates->ids->len; i++)
    {
      g_autoptr (GError) error = NULL;
      json_object *expansion = qmp_session_wait (session, g_array_index (candidates->ids, guint64, i),
                                                 deadline_us, &error);
      X86FeatureSet features;

      if (expansion == NULL)
        {
          note_broken (broken, "query-cpu-model-expansion", error);
          continue;
        }
      if (probe_features_from_expansion (expansion, &features, NULL, NULL))
        closest_consider (&search, candidates->names->pdata[i], &features);
      json_object_put (expansion);
    }
  return closest_to_json (&search);
}

/* Sends @command now; its reply is collected by wait_reply(). */
static guint64
send_command (QmpSession *session, const char *command, json_object *arguments,
              char **broken)
{
  g_autoptr (GError) error = NULL;
  guint64 id = qmp_session_send (session, command, arguments, &error);

  note_broken (broken, command, error);
  json_object_put (arguments);
  return id;
}

/* The reply to @id (owned by the caller), or NULL with *@problem set (newly allocated). */
static json_object *
wait_reply (QmpSession *session, guint64 id, const char *command, gint64 deadline_us,
            char **problem, char **broken)
{
  g_autoptr (GError) error = NULL;
  json_object *reply;

  if (id == 0)
    {
      *problem = g_strdup_printf ("%s: could not be sent", command);
      return NULL;
    }
  reply = qmp_session_wait (session, id, deadline_us, &error);
  if (reply == NULL)
    {
      *problem = g_strdup_printf ("%s: %s", command, error->message);
      note_broken (broken, command, error);
    }
  return reply;
}

/* @message naming @source (the QEMU, socket or recording) in front, unless it does. */
static char *
name_source (QmpSource *source, const char *message)
{
  const char *described = qmp_source_describe (source);

  if (strstr (message, described) != NULL)
    return g_strdup (message);
  return g_strdup_printf ("%s: %s", described, message);
}

/* The host model's two expansions into @facts; TRUE with *@migratable_set filled when
 * both answered. */
static gboolean
add_expansions (json_object *facts, QmpSession *session, guint64 migratable_id,
                guint64 supported_id, gint64 deadline_us, X86FeatureSet *migratable_set,
                char **broken)
{
  g_autofree char *problem = NULL;
  json_object *migratable = wait_reply (session, migratable_id, "query-cpu-model-expansion",
                                        deadline_us, &problem, broken);
  json_object *supported = migratable != NULL
                           ? wait_reply (session, supported_id, "query-cpu-model-expansion",
                                         deadline_us, &problem, broken)
                           : NULL;
  X86FeatureSet supported_set;
  g_autoptr (GError) error = NULL;
  gboolean known = FALSE;

  if (migratable != NULL && supported != NULL
      && probe_features_from_expansion (migratable, migratable_set, NULL, &error)
      && probe_features_from_expansion (supported, &supported_set, NULL, &error))
    {
      json_object *host_model = json_object_new_object ();

      json_object_object_add (host_model, "migratable", names_to_string (migratable_set));
      json_object_object_add (host_model, "supported", names_to_string (&supported_set));
      json_object_object_add (facts, "host_model", host_model);
      known = TRUE;
    }
  else
    facts_set_string (facts, "expansion_missing",
                      problem != NULL ? problem : error != NULL ? error->message
                                                                : "no expansion");
  json_object_put (migratable);
  json_object_put (supported);
  return known;
}

/* ---- The host model read from started CPUs ---- */

/* The candidates for the closest model that a post-start has to read, as -cpu strings
 * after the host model's two (owned strings, NULL-terminated). */
static GPtrArray *
started_cpus (const char *host_model, json_object *definitions, gboolean closest_model)
{
  GPtrArray *cpus = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (cpus, g_strdup (host_model));
  g_ptr_array_add (cpus, g_strdup_printf ("%s,migratable=off", host_model));
  for (size_t i = 0; closest_model && definitions != NULL
                     && json_object_is_type (definitions, json_type_array)
                     && i < json_object_array_length (definitions); i++)
    {
      const char *name = candidate_name (json_object_array_get_idx (definitions, i), TRUE);

      if (name != NULL)
        g_ptr_array_add (cpus, g_strdup (name));
    }
  g_ptr_array_add (cpus, NULL);
  return cpus;
}

/* The host model where QEMU cannot expand it (older than 2.9.0), or where --method
 * post-start asks: `host` (kvm) or `max` (tcg) started paused with migratable on and off,
 * read by the post-start strategy, and the closest model from the candidates started the
 * same way, all at once. Adds host_model (or expansion_missing) and closest to @facts.
 * Feature-words have no MSR words, so MSR features are not in a host model read so. */
static void
add_started_host_model (json_object *facts, QmpSource *source, const char *accel,
                        const char *machine, const QmpVersion *version, json_object *definitions,
                        gboolean closest_model, gint64 deadline_us)
{
  const char *host_model = strcmp (accel, "kvm") == 0 ? "host" : "max";
  g_autofree char *version_text = qmp_version_to_string (version);
  g_autoptr (GPtrArray) cpus = NULL;
  g_autoptr (GPtrArray) started = NULL;
  ProbeStartedCpu *migratable, *supported;
  ClosestSearch search = { 0 };
  ProbeOptions options;
  json_object *host_json;

  facts_set_string (facts, "host_model_method", "post-start");
  if (strcmp (host_model, "max") == 0 && !qmp_version_at_least (version, 2, 9, 0))
    {
      g_autofree char *missing = g_strdup_printf (
        "QEMU %s has no `max` CPU model (it came with 2.9.0) and cannot expand one: what "
        "tcg can give a guest is not known", version_text);

      facts_set_string (facts, "expansion_missing", missing);
      return;
    }
  probe_options_init_source (&options, source, deadline_us);
  options.accel = accel;
  /* "none" has no CPU to read: the default machine has. */
  options.machine = machine != NULL && strcmp (machine, "none") != 0 ? machine : NULL;
  cpus = started_cpus (host_model, definitions, closest_model);
  started = probe_start_cpus (&options, (const char *const *) cpus->pdata);
  migratable = started->pdata[0];
  supported = started->pdata[1];
  if (migratable->error != NULL)
    {
      const char *why_started = qmp_version_at_least (version, 2, 9, 0)
                                ? "--method post-start:"
                                : "QEMU older than 2.9.0 cannot expand it:";
      g_autofree char *missing = g_strdup_printf (
        "%s `%s` is read from a paused QEMU started with -cpu %s, and %s", why_started,
        host_model, host_model, migratable->error->message);

      facts_set_string (facts, "expansion_missing", missing);
      return;
    }
  host_json = json_object_new_object ();
  json_object_object_add (host_json, "migratable", names_to_string (&migratable->guest));
  if (supported->error != NULL)
    {
      /* A QEMU without the migratable property refuses migratable=off, and a recording
       * may lack that session: the non-migratable extras are then unknown, said so, and
       * the sets are taken as one rather than guessed. */
      g_autofree char *note = g_strdup_printf ("%s,migratable=off not read (%s): the "
                                               "features only a non-migratable guest gets "
                                               "are not known (taken as none)", host_model,
                                               supported->error->message);

      json_object_object_add (host_json, "supported", names_to_string (&migratable->guest));
      facts_set_string (facts, "host_model_note", note);
    }
  else
    json_object_object_add (host_json, "supported", names_to_string (&supported->guest));
  json_object_object_add (facts, "host_model", host_json);
  facts_set_string (facts, "host_model_machine", migratable->machine);

  search.host = &migratable->guest;
  for (guint i = 2; i < started->len; i++)
    {
      ProbeStartedCpu *candidate = started->pdata[i];

      /* Usable: started, and nothing filtered (which a QEMU before 2.1 cannot tell). */
      if (candidate->error == NULL && candidate->filtered_known
          && x86_feature_set_is_empty (&candidate->filtered))
        closest_consider (&search, candidate->cpu, &candidate->guest);
    }
  if (search.best != NULL)
    json_object_object_add (facts, "closest", closest_to_json (&search));
}

/* add_started_host_model() in a thread of its own, into a document of its own, so a
 * launched QEMU's paused CPUs start while the query-mode QEMU is still answering. */
typedef struct {
  QmpSource *source;
  const char *accel;
  const char *machine;
  QmpVersion version;
  json_object *definitions;     /* borrowed; read only */
  gboolean closest_model;
  gint64 deadline_us;
  json_object *facts;           /* the members it adds; owned */
  GThread *thread;
} StartedHostModel;

static gpointer
started_host_model_run (gpointer data)
{
  StartedHostModel *job = data;

  add_started_host_model (job->facts, job->source, job->accel, job->machine, &job->version,
                          job->definitions, job->closest_model, job->deadline_us);
  return NULL;
}

static void
started_host_model_start (StartedHostModel *job)
{
  job->facts = json_object_new_object ();
  /* A replay serves recorded sessions from one shared source: one after the other. */
  if (qmp_source_kind (job->source) == QMP_SOURCE_LAUNCH)
    job->thread = g_thread_new ("host-model", started_host_model_run, job);
}

/* Waits for @job and moves what it found into @facts (NULL: drops it). */
static void
started_host_model_finish (StartedHostModel *job, json_object *facts)
{
  if (job->facts == NULL)
    return;
  if (job->thread != NULL)
    g_thread_join (g_steal_pointer (&job->thread));
  else if (facts != NULL)
    started_host_model_run (job);
  if (facts != NULL)
    {
      json_object_object_foreach (job->facts, member, value)
        json_object_object_add (facts, member, json_object_get (value));
    }
  g_clear_pointer (&job->facts, json_object_put);
}

/* Why kvm cannot be probed on this host, or NULL when /dev/kvm opens read-write; then
 * *@fd (may be NULL) keeps the open device for the caller. */
static char *
kvm_unusable_reason (int *fd)
{
  int kvm = open ("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (kvm < 0)
    return g_strdup_printf ("/dev/kvm: %s", g_strerror (errno));
  if (fd != NULL)
    *fd = kvm;
  else
    close (kvm);
  return NULL;
}

/* probe_host_gather_facts() with /dev/kvm already checked by the caller when
 * @kvm_checked. */
static json_object *
gather_facts (QmpSource *source, const char *accel, const char *machine,
              gboolean closest_model, gboolean kvm_checked, ProbeMethod method,
              gint64 deadline_us)
{
  json_object *facts = json_object_new_object ();
  QemuLaunchOptions launch = { .machine = machine, .accel = accel };
  g_autoptr (QmpConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *kvm_problem = NULL;
  g_autofree char *version = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *broken = NULL;
  const char *host_model = strcmp (accel, "kvm") == 0 ? "host" : "max";
  CandidateExpansions candidates = { NULL, NULL };
  X86FeatureSet migratable;
  QmpSession *session;
  guint64 kvm_id, machines_id, definitions_id, migratable_id = 0, supported_id = 0;
  gboolean expanded = FALSE;
  gboolean can_expand, post_start;
  g_autoptr (ProbeJson) definitions = NULL;
  StartedHostModel started = { 0 };
  QmpVersion version_numbers;
  json_object *reply;

  facts_set_string (facts, "format", FACTS_FORMAT);
  facts_set_string (facts, "accel", accel);
  facts_set_string (facts, "machine", machine != NULL ? machine : "none");
  facts_set_string (facts, "host_model_name", host_model);
  /* No "closest" means none fits only where it was looked for: a run that wants it must
   * not take facts kept by one that did not look (labels, libvirt's host-model). */
  json_object_object_add (facts, "closest_searched", json_object_new_boolean (closest_model));

  if (strcmp (accel, "kvm") == 0 && qmp_source_kind (source) == QMP_SOURCE_LAUNCH
      && !kvm_checked)
    kvm_problem = kvm_unusable_reason (NULL);
  if (kvm_problem == NULL)
    connection = qmp_source_open (source, &launch, deadline_us, &error);
  if (connection == NULL)
    {
      g_autofree char *failure = kvm_problem != NULL ? g_strdup (kvm_problem)
                                                     : name_source (source, error->message);

      json_object_object_add (facts, "usable", json_object_new_boolean (FALSE));
      facts_set_string (facts, "failure", failure);
      return facts;
    }
  session = qmp_connection_session (connection);
  version_numbers = *qmp_session_get_version (session);
  version = qmp_version_to_string (&version_numbers);
  can_expand = qmp_version_at_least (&version_numbers, 2, 9, 0);
  /* QEMU older than 2.9 cannot expand its host model, but shows it on a started CPU. */
  post_start = method == PROBE_METHOD_POST_START || (method == PROBE_METHOD_AUTO && !can_expand);
  json_object_object_add (facts, "usable", json_object_new_boolean (TRUE));
  facts_set_string (facts, "version", version);
  facts_set_string (facts, "package", qmp_session_package (session));

  /* One batch. The closest-model expansions depend on query-cpu-definitions alone: sent
   * as soon as its answer arrives, they queue behind the host-model expansions, so QEMU
   * does not wait for us between the two. (The order of the batch is the recordings'.) */
  kvm_id = send_command (session, "query-kvm", NULL, &broken);
  machines_id = send_command (session, "query-machines", NULL, &broken);
  definitions_id = send_command (session, "query-cpu-definitions", NULL, &broken);
  if (can_expand && !post_start)
    {
      json_object *off = json_object_new_object ();

      json_object_object_add (off, "migratable", json_object_new_boolean (FALSE));
      migratable_id = send_command (session, "query-cpu-model-expansion",
                                    probe_expansion_arguments (host_model, NULL), &broken);
      supported_id = send_command (session, "query-cpu-model-expansion",
                                   probe_expansion_arguments (host_model, off), &broken);
    }

  reply = wait_reply (session, definitions_id, "query-cpu-definitions", deadline_us, &problem,
                      &broken);
  if (reply != NULL && json_object_is_type (reply, json_type_array))
    {
      /* Without the host model there is nothing to be close to. */
      if (closest_model && migratable_id != 0 && broken == NULL)
        send_candidate_expansions (session, reply, &candidates, &broken);
      json_object_object_add (facts, "models", compact_definitions (reply));
      definitions = json_object_get (reply);
    }
  else
    facts_set_string (facts, "models_missing", problem != NULL ? problem : "not a list");
  json_object_put (reply);
  g_clear_pointer (&problem, g_free);
  if (post_start)
    {
      started.source = source;
      started.accel = accel;
      started.machine = machine;
      started.version = version_numbers;
      started.definitions = definitions;
      started.closest_model = closest_model;
      started.deadline_us = deadline_us;
      started_host_model_start (&started);
    }

  if (migratable_id != 0)
    {
      facts_set_string (facts, "host_model_method", "expansion");
      expanded = add_expansions (facts, session, migratable_id, supported_id, deadline_us,
                                 &migratable, &broken);
    }
  else if (!post_start)
    facts_set_string (facts, "expansion_missing",
                      "QEMU older than 2.9.0 has no x86 query-cpu-model-expansion, and "
                      "--method expansion rules out reading the host model after start");

  reply = wait_reply (session, kvm_id, "query-kvm", deadline_us, &problem, &broken);
  json_object_object_add (facts, "query_kvm", reply);
  g_clear_pointer (&problem, g_free);
  reply = wait_reply (session, machines_id, "query-machines", deadline_us, &problem, &broken);
  if (reply != NULL)
    {
      g_autofree char *default_machine = probe_machine_resolve (
        json_object_to_json_string_ext (reply, JSON_C_TO_STRING_PLAIN
                                               | JSON_C_TO_STRING_NOSLASHESCAPE), NULL);

      facts_set_string (facts, "default_machine", default_machine);
      json_object_object_add (facts, "machines", machine_names (reply));
      json_object_put (reply);
    }

  if (candidates.ids != NULL && broken == NULL)
    {
      if (expanded)
        {
          json_object *closest = find_closest_model (session, &candidates, &migratable,
                                                     deadline_us, &broken);

          if (closest != NULL)
            json_object_object_add (facts, "closest", closest);
        }
      else
        /* The answers are not needed, but QEMU's replies are read before quit. */
        for (guint i = 0; i < candidates.ids->len; i++)
          json_object_put (qmp_session_wait (session, g_array_index (candidates.ids, guint64, i),
                                             deadline_us, NULL));
    }
  candidate_expansions_clear (&candidates);

  /* A QEMU that died, hung or stopped speaking QMP in the middle started, but what it
   * said is not a description of it: unusable, and never cached. */
  if (broken != NULL)
    {
      g_autofree char *failure = name_source (source, broken);

      json_object_object_add (facts, "usable", json_object_new_boolean (FALSE));
      facts_set_string (facts, "failure", failure);
      qmp_connection_close (g_steal_pointer (&connection), NULL);
      started_host_model_finish (&started, NULL);
      return facts;
    }
  qmp_connection_close (g_steal_pointer (&connection), NULL);
  started_host_model_finish (&started, facts);
  return facts;
}

json_object *
probe_host_gather_facts (QmpSource *source, const char *accel, const char *machine,
                         gboolean closest_model, gint64 deadline_us)
{
  return gather_facts (source, accel, machine, closest_model, FALSE, PROBE_METHOD_AUTO,
                       deadline_us);
}

/* ---- Checking what the cache hands back ---- */

/* Absent, null, or of @type. */
static gboolean
optional_of_type (json_object *object, const char *member, json_type type)
{
  json_object *value = NULL;

  return !json_object_object_get_ex (object, member, &value) || value == NULL
         || json_object_is_type (value, type);
}

/* An array whose every element is of @type. */
static gboolean
array_of (json_object *array, json_type type)
{
  if (!json_object_is_type (array, json_type_array))
    return FALSE;
  for (size_t i = 0; i < json_object_array_length (array); i++)
    if (!json_object_is_type (json_object_array_get_idx (array, i), type))
      return FALSE;
  return TRUE;
}

/* compact_definitions()' shape: the decoder indexes these arrays and reads the lists. */
static gboolean
models_well_formed (json_object *models)
{
  return optional_of_type (models, "features", json_type_string)
         && array_of (json_object_object_get (models, "lists"), json_type_string)
         && array_of (json_object_object_get (models, "list"), json_type_array);
}

/* closest_to_json()'s shape, which the reports and libvirt's host model read unchecked. */
static gboolean
closest_well_formed (json_object *closest)
{
  static const char *const counts[] = { "changes", "candidates" };

  if (!json_object_is_type (json_object_object_get (closest, "model"), json_type_string)
      || !array_of (json_object_object_get (closest, "require"), json_type_string)
      || !array_of (json_object_object_get (closest, "disable"), json_type_string))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    if (!json_object_is_type (json_object_object_get (closest, counts[i]), json_type_int))
      return FALSE;
  return TRUE;
}

gboolean
probe_host_facts_check (json_object *facts, const char *accel, char **problem)
{
  static const char *const strings[] = {
    "failure", "version", "package", "machine", "default_machine", "host_model_name",
    "expansion_missing", "host_model_method", "host_model_machine", "host_model_note",
    "machines",
  };
  json_object *format = NULL, *found_accel = NULL, *host_model = NULL, *value = NULL;
  const char *bad = NULL;

  if (!json_object_is_type (facts, json_type_object)
      || !json_object_object_get_ex (facts, "format", &format)
      || g_strcmp0 (json_object_get_string (format), FACTS_FORMAT) != 0)
    {
      *problem = g_strdup ("the entry holds facts of another layout");
      return FALSE;
    }
  if (!json_object_object_get_ex (facts, "accel", &found_accel)
      || !json_object_is_type (found_accel, json_type_string)
      || (accel != NULL && strcmp (json_object_get_string (found_accel), accel) != 0))
    bad = "accel";
  else if (!optional_of_type (facts, "usable", json_type_boolean))
    bad = "usable";
  else if (!optional_of_type (facts, "closest_searched", json_type_boolean))
    bad = "closest_searched";
  for (guint i = 0; bad == NULL && i < G_N_ELEMENTS (strings); i++)
    if (!optional_of_type (facts, strings[i], json_type_string))
      bad = strings[i];
  if (bad == NULL && json_object_object_get_ex (facts, "host_model", &host_model)
      && host_model != NULL
      && (!json_object_is_type (host_model, json_type_object)
          || !optional_of_type (host_model, "migratable", json_type_string)
          || !optional_of_type (host_model, "supported", json_type_string)))
    bad = "host_model";
  if (bad == NULL && json_object_object_get_ex (facts, "models", &value)
      && json_object_is_type (value, json_type_object) && !models_well_formed (value))
    bad = "models";
  if (bad == NULL && json_object_object_get_ex (facts, "closest", &value) && value != NULL
      && !closest_well_formed (value))
    bad = "closest";
  if (bad != NULL)
    {
      *problem = g_strdup_printf ("the entry's facts have a malformed \"%s\"", bad);
      return FALSE;
    }
  return TRUE;
}

/* ---- Decoding ---- */

static char *
string_member (json_object *object, const char *name)
{
  json_object *value;

  if (!json_object_object_get_ex (object, name, &value) || value == NULL)
    return NULL;
  return g_strdup (json_object_get_string (value));
}

/* The strings of @info's models go to one chunk and the name arrays to one pointer array,
 * so a whole list of models costs a handful of allocations to make and to free. */
static const char *
chunk_string (ProbeAccelInfo *info, json_object *string)
{
  if (string == NULL || !json_object_is_type (string, json_type_string))
    return NULL;
  return g_string_chunk_insert_len (info->strings, json_object_get_string (string),
                                    json_object_get_string_len (string));
}

/* A list of indices, "0 4 17", as @n names of @names into @info->unavailable. */
static guint
decode_list (ProbeAccelInfo *info, const char *list, const char *const *names, guint n_names)
{
  guint n = 0;

  while (*list != '\0')
    {
      char *end;
      guint64 index = g_ascii_strtoull (list, &end, 10);

      if (end == list)
        break;
      if (index < n_names)
        {
          g_ptr_array_add (info->unavailable, (gpointer) names[index]);
          n++;
        }
      list = *end == ' ' ? end + 1 : end;
    }
  return n;
}

static void
decode_models (ProbeAccelInfo *info, json_object *compact)
{
  json_object *models = json_object_object_get (compact, "list");
  json_object *lists = json_object_object_get (compact, "lists");
  size_t n_models = json_object_array_length (models);
  size_t n_lists = json_object_array_length (lists);
  g_autofree guint *list_start = g_new (guint, n_lists + 1);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  char *feature_names;

  info->models = g_new0 (ProbeModel, n_models);
  info->n_models = (guint) n_models;
  info->strings = g_string_chunk_new (4096);
  info->unavailable = g_ptr_array_new ();

  /* One copy of all names; the spaces become their ends. */
  feature_names = (char *) chunk_string (info, json_object_object_get (compact, "features"));
  for (char *name = feature_names != NULL ? strtok_r (feature_names, " ", &feature_names) : NULL;
       name != NULL; name = strtok_r (NULL, " ", &feature_names))
    g_ptr_array_add (names, name);
  for (size_t i = 0; i < n_lists; i++)
    {
      list_start[i] = info->unavailable->len;
      decode_list (info, json_object_get_string (json_object_array_get_idx (lists, i)),
                   (const char *const *) names->pdata, names->len);
    }
  list_start[n_lists] = info->unavailable->len;

  /* The pointer array has stopped growing: models can point into it now, and models with
   * the same list share it. */
  for (size_t i = 0; i < n_models; i++)
    {
      json_object *entry = json_object_array_get_idx (models, i);
      ProbeModel *model = &info->models[i];
      json_object *migration_safe = json_object_array_get_idx (entry, MODEL_MIGRATION_SAFE);
      json_object *list = json_object_array_get_idx (entry, MODEL_LIST);

      model->name = chunk_string (info, json_object_array_get_idx (entry, MODEL_NAME));
      if (model->name == NULL)
        model->name = "";
      model->alias_of = chunk_string (info, json_object_array_get_idx (entry, MODEL_ALIAS_OF));
      model->deprecated = json_object_get_boolean (json_object_array_get_idx (entry, MODEL_DEPRECATED));
      model->migration_safe = migration_safe == NULL ? -1 : json_object_get_boolean (migration_safe);
      if (list != NULL && json_object_is_type (list, json_type_int))
        {
          int index = json_object_get_int (list);

          if (index >= 0 && (size_t) index < n_lists)
            {
              static const char *const no_names[] = { NULL };

              model->n_unavailable = list_start[index + 1] - list_start[index];
              model->unavailable = model->n_unavailable == 0
                                   ? no_names
                                   : (const char *const *) info->unavailable->pdata + list_start[index];
            }
        }
    }
}

ProbeAccelInfo *
probe_accel_info_from_facts (json_object *facts)
{
  ProbeAccelInfo *info = g_new0 (ProbeAccelInfo, 1);
  json_object *host_model = NULL;
  json_object *usable = NULL;
  json_object *models = NULL;

  info->accel = string_member (facts, "accel");
  json_object_object_get_ex (facts, "usable", &usable);
  info->usable = usable != NULL && json_object_get_boolean (usable);
  info->failure = string_member (facts, "failure");
  info->version = string_member (facts, "version");
  info->package = string_member (facts, "package");
  info->machine = string_member (facts, "machine");
  info->default_machine = string_member (facts, "default_machine");
  info->host_model_name = string_member (facts, "host_model_name");
  info->expansion_missing = string_member (facts, "expansion_missing");
  info->host_model_method = string_member (facts, "host_model_method");
  info->host_model_machine = string_member (facts, "host_model_machine");
  info->host_model_note = string_member (facts, "host_model_note");
  if (json_object_object_get_ex (facts, "host_model", &host_model) && host_model != NULL)
    {
      info->expansion_known = TRUE;
      names_from_string (json_object_object_get (host_model, "migratable"), &info->migratable);
      names_from_string (json_object_object_get (host_model, "supported"), &info->supported);
    }
  info->models_known = json_object_object_get_ex (facts, "models", &models)
                       && json_object_is_type (models, json_type_object);
  if (info->models_known)
    decode_models (info, models);
  for (guint i = 0; i < info->n_models; i++)
    {
      const ProbeModel *model = &info->models[i];

      info->lacking_known |= model->unavailable != NULL;
      for (guint j = 0; j < model->n_unavailable; j++)
        {
          const X86Feature *feature = x86_feature_lookup (model->unavailable[j]);

          if (feature != NULL)
            x86_feature_set_add (&info->lacking, feature);
        }
    }
  info->closest = member_or_null (facts, "closest");
  return info;
}

void
probe_accel_info_free (ProbeAccelInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->accel);
  g_free (info->failure);
  g_free (info->version);
  g_free (info->package);
  g_free (info->machine);
  g_free (info->default_machine);
  g_free (info->expansion_missing);
  g_free (info->host_model_name);
  g_free (info->host_model_method);
  g_free (info->host_model_machine);
  g_free (info->host_model_note);
  g_free (info->cache_status);
  g_free (info->models);
  if (info->strings != NULL)
    g_string_chunk_free (info->strings);
  if (info->unavailable != NULL)
    g_ptr_array_unref (info->unavailable);
  json_object_put (info->closest);
  g_free (info);
}

/* ---- The whole host ---- */

void
probe_host_free (ProbeHost *host)
{
  if (host == NULL)
    return;
  x86_cpuid_dump_free (host->hardware);
  g_free (host->hardware_failure);
  x86_cpu_identity_free (host->identity);
  x86_kvm_cpuid_free (host->kvm);
  g_free (host->kvm_dump);
  if (host->accels != NULL)
    g_ptr_array_unref (host->accels);
  g_free (host);
}

ProbeAccelInfo *
probe_host_accel (const ProbeHost *host, const char *accel)
{
  for (guint i = 0; i < host->accels->len; i++)
    {
      ProbeAccelInfo *info = host->accels->pdata[i];

      if (g_strcmp0 (info->accel, accel) == 0)
        return info;
    }
  return NULL;
}

/* The CPUID of every CPU (or of the dump): all the cache key needs of the silicon. */
static void
read_cpuid (ProbeHost *host, const char *cpuid_dump, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  host->hardware = cpuid_dump != NULL ? x86_cpuid_dump_load (cpuid_dump, error)
                                      : x86_host_cpuid_read (-1, &local_error);
  if (host->hardware == NULL && local_error != NULL)
    host->hardware_failure = g_strdup (local_error->message);
}

/* What the report says of the silicon beyond its CPUID; @microcode: this host's. */
static void
decode_hardware (ProbeHost *host, gboolean from_this_host, const char *microcode)
{
  guint n_cpus;

  if (host->hardware == NULL)
    return;
  /* The revision was read once for the cache key; the identity reuses it. */
  host->identity = x86_cpu_identity_from_dump (host->hardware, FALSE);
  if (from_this_host)
    host->identity->microcode = g_strdup (microcode);
  host->heterogeneous = x86_cpuid_dump_heterogeneous (host->hardware, NULL);
  probe_host_layers_common_features (host->hardware, &host->hardware_all);
  n_cpus = x86_cpuid_dump_n_cpus (host->hardware);
  x86_feature_set_clear (&host->hardware_some);
  for (guint cpu = 0; cpu < n_cpus; cpu++)
    {
      X86FeatureSet one;

      x86_feature_set_from_cpuid (&one, host->hardware, cpu);
      x86_feature_set_union (&host->hardware_some, &host->hardware_some, &one);
    }
  x86_feature_set_named_only (&host->hardware_some);
}

typedef struct {
  QmpSource *source;
  const char *accel;
  const char *machine;
  gboolean closest_model;
  gboolean kvm_checked;      /* /dev/kvm opened read-write already */
  ProbeMethod method;
  gint64 deadline_us;
  ProbeCacheKey *key;        /* NULL: not cached */
  ProbeCache *cache;
  json_object *facts;        /* the result */
  char *cache_status;
} GatherJob;

static void
store_facts (GatherJob *job)
{
  g_autoptr (GError) error = NULL;
  json_object *usable = json_object_object_get (job->facts, "usable");
  const char *version = json_object_get_string (json_object_object_get (job->facts, "version"));

  /* A QEMU that failed may succeed next time (a timeout, a busy host): ask again then. */
  if (!json_object_get_boolean (usable) || version == NULL)
    return;
  probe_cache_key_set_qemu_version (job->key, version);
  if (!probe_cache_store (job->cache, job->key, job->facts, &error))
    {
      char *status = g_strdup_printf ("%s; not stored: %s", job->cache_status, error->message);

      g_free (job->cache_status);
      job->cache_status = status;
    }
}

static gpointer
gather_job_run (gpointer user_data)
{
  GatherJob *job = user_data;

  job->facts = gather_facts (job->source, job->accel, job->machine, job->closest_model,
                             job->kvm_checked, job->method, job->deadline_us);
  return NULL;
}

static void
lookup_cached (GatherJob *job, const ProbeHost *host, const char *microcode)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  ProbeCacheKeyInputs inputs = {
    .qemu_binary = qmp_source_describe (job->source),
    .accel = job->accel,
    .machine = job->machine != NULL ? job->machine : "none",
    .cpuid = host->hardware,
    .microcode = microcode,
  };
  job->key = probe_cache_key_new (&inputs, &error);
  if (job->key == NULL)
    {
      job->cache_status = g_strdup_printf ("not cached: %s", error->message);
      return;
    }
  job->facts = probe_cache_lookup (job->cache, job->key, &reason);
  /* Written by a build of the same version with another layout, or damaged past what
   * the cache's own checks see: ask QEMU again, and replace it. */
  if (job->facts != NULL && !probe_host_facts_check (job->facts, job->accel, &reason))
    g_clear_pointer (&job->facts, json_object_put);
  if (job->facts != NULL && job->closest_model
      && !json_object_get_boolean (json_object_object_get (job->facts, "closest_searched")))
    {
      /* Asked again, and stored with the closest model for every later run. */
      g_clear_pointer (&job->facts, json_object_put);
      reason = g_strdup ("the entry was gathered without looking for the closest model");
    }
  if (job->facts != NULL)
    {
      g_autofree char *path = probe_cache_entry_path (job->cache, job->key);

      job->cache_status = g_strdup_printf ("hit (%s)", path);
      return;
    }
  job->cache_status = g_strdup_printf ("miss: %s", reason);
}

ProbeHost *
probe_host_read (const ProbeHostRequest *request, GError **error)
{
  g_autoptr (ProbeHost) host = g_new0 (ProbeHost, 1);
  g_autoptr (ProbeCache) cache = NULL;
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  g_autofree char *microcode = NULL;
  QmpSourceKind kind = qmp_source_kind (request->source);
  gboolean kvm_requested = FALSE;
  gboolean this_host = request->cpuid_dump == NULL;
  /* A forced method answers what the cache keeps for the automatic one in another way:
   * never stored, never served. */
  gboolean cacheable = request->use_cache && kind == QMP_SOURCE_LAUNCH && this_host
                       && request->method == PROBE_METHOD_AUTO;
  guint n_accels = request->accels != NULL ? g_strv_length ((char **) request->accels) : 0;
  g_autofree GatherJob *jobs = g_new0 (GatherJob, MAX (n_accels, 1));
  int kvm_fd = -1;
  const char *not_cached = !request->use_cache ? "not cached: --no-cache"
                           : kind == QMP_SOURCE_REPLAY ? "not cached: a replay"
                           : kind == QMP_SOURCE_SOCKET ? "not cached: a running QEMU"
                           : request->cpuid_dump != NULL ? "not cached: CPUID from a dump"
                           : request->method == PROBE_METHOD_POST_START
                           ? "not cached: --method post-start"
                           : request->method == PROBE_METHOD_EXPANSION
                           ? "not cached: --method expansion"
                           : "not cached: the CPUID could not be read";

  /* /dev/kvm is opened once: whether kvm can run, then KVM's tables from the same fd.
   * A replay or a running QEMU answers for kvm whatever this host has. */
  for (guint i = 0; i < n_accels; i++)
    if (strcmp (request->accels[i], "kvm") == 0 && kvm_fd < 0)
      {
        g_autofree char *kvm_problem = kind == QMP_SOURCE_LAUNCH
                                       ? kvm_unusable_reason (&kvm_fd) : NULL;

        kvm_requested = kvm_problem == NULL;
      }
  host->binary = qmp_source_describe (request->source);
  if (this_host)
    microcode = x86_host_microcode ();
  /* The CPUID signature is part of the cache key, so with a cache the silicon is read
   * before QEMU is asked; without one QEMU starts first, as its start is what takes long,
   * and every host read below overlaps it. Starting QEMU speculatively and stopping it on
   * a hit would instead cost a warm run a fork, an exec and a kill. */
  if (cacheable || !this_host)
    {
      read_cpuid (host, request->cpuid_dump, error);
      if (host->hardware == NULL && !this_host)
        {
          if (kvm_fd >= 0)
            close (kvm_fd);
          return NULL;
        }
      if (host->hardware == NULL)
        cacheable = FALSE;
    }
  if (cacheable)
    cache = probe_cache_new (request->cache_directory);

  for (guint i = 0; i < n_accels; i++)
    {
      GatherJob *job = &jobs[i];

      job->source = request->source;
      job->accel = request->accels[i];
      job->machine = request->machine;
      /* Expanding every usable model costs QEMU a millisecond each, and tcg can run
       * dozens: the closest model is wanted for the host model a user would get, kvm's
       * whenever kvm can run. */
      job->closest_model = request->closest_model
                           && (strcmp (job->accel, "kvm") == 0 || !kvm_requested);
      job->kvm_checked = kvm_fd >= 0;
      job->method = request->method;
      job->deadline_us = request->deadline_us;
      job->cache = cache;
      if (cacheable)
        lookup_cached (job, host, microcode);
      /* Facts another request kept (models asks tcg's closest model when it asks tcg
       * alone) answer this one as if gathered for it now. */
      if (job->facts != NULL && !job->closest_model)
        json_object_object_del (job->facts, "closest");
      if (!cacheable)
        job->cache_status = g_strdup (not_cached);
      if (job->facts != NULL)
        continue;
      /* A replay hands out recorded segments in order: open them one after the other. */
      if (kind == QMP_SOURCE_LAUNCH)
        g_ptr_array_add (threads, g_thread_new ("qemu-probe", gather_job_run, job));
      else
        gather_job_run (job);
    }

  if (host->hardware == NULL && host->hardware_failure == NULL)
    read_cpuid (host, NULL, NULL);
  decode_hardware (host, this_host, microcode);
  /* A dump that carries its host's KVM describes the host looked at, replayed or live,
   * as in probe_run(); this machine's KVM says nothing of a recording's host. */
  if (host->hardware != NULL && x86_cpuid_dump_kvm (host->hardware) != NULL)
    {
      const X86KvmCpuid *view = x86_cpuid_dump_kvm (host->hardware);

      host->kvm = x86_kvm_cpuid_new_from_features (&view->supported_features,
                                                   &view->emulated_features);
      /* What a vCPU of that KVM does with IA32_ARCH_CAPABILITIES, when the dump says. */
      host->kvm->arch_capabilities.write = view->arch_capabilities.write;
      host->kvm->arch_capabilities.offered = view->arch_capabilities.offered;
      host->kvm->arch_capabilities.detail = g_strdup (view->arch_capabilities.detail);
      host->kvm_dump = g_strdup (request->cpuid_dump);
      if (kvm_fd >= 0)
        close (kvm_fd);
    }
  else if (this_host && kind != QMP_SOURCE_REPLAY)
    host->kvm = kvm_fd >= 0 ? x86_kvm_cpuid_read_fd (kvm_fd, NULL) : x86_kvm_cpuid_read (NULL);
  else if (kvm_fd >= 0)
    close (kvm_fd);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);

  host->accels = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_accel_info_free);
  for (guint i = 0; i < n_accels; i++)
    {
      GatherJob *job = &jobs[i];
      ProbeAccelInfo *info;

      if (job->key != NULL && g_str_has_prefix (job->cache_status, "miss"))
        store_facts (job);
      info = probe_accel_info_from_facts (job->facts);
      json_object_put (g_steal_pointer (&job->facts));
      info->cache_status = g_steal_pointer (&job->cache_status);
      g_ptr_array_add (host->accels, info);
      probe_cache_key_free (job->key);
    }
  return g_steal_pointer (&host);
}
