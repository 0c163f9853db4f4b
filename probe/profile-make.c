/* probe/profile-make.c — asks a QEMU everything a host profile holds, and turns the
 * recorded conversations into the profile document (probe/profile.h). */
#include "probe/profile.h"

#include <string.h>
#include "probe/profile-ask.h"
#include "probe/profile-dependents.h"
#include "probe/profile-facts.h"
#include "probe/qemu-info.h"

/* ---- Asking ---- */

/* QEMU's dependencies are measured once, in one session; the others wait for them before
 * asking the expansions that depend on them. */
typedef struct {
  GMutex lock;
  GCond measured;
  gboolean done;
  json_object *dependents;   /* NULL when the measuring session failed */
} SharedDependents;

typedef struct {
  QmpSource *source;
  const char *accel;
  const char *machine;
  gint64 deadline_us;
  GMutex *open_lock;
  SharedDependents *shared;
  gboolean measures;      /* this session measures the dependencies */
  GError *error;          /* why the session failed; an accelerator QEMU refused is one */
  json_object *facts;     /* probe/profile-facts.h, when QEMU expands models */
  struct GatherProgress *progress;
} GatherJob;

/* Sessions ended so far, for whoever shows progress. */
typedef struct GatherProgress {
  void (*func) (guint done, guint total, gpointer data);
  gpointer data;
  gint done;
  guint total;
} GatherProgress;

static void
publish_dependents (SharedDependents *shared, json_object *dependents)
{
  g_mutex_lock (&shared->lock);
  if (!shared->done)
    shared->dependents = dependents;
  else
    json_object_put (dependents);
  shared->done = TRUE;
  g_cond_broadcast (&shared->measured);
  g_mutex_unlock (&shared->lock);
}

/* The dependencies (borrowed: the shared state keeps them) once measured, or NULL. */
static json_object *
wait_dependents (SharedDependents *shared)
{
  json_object *dependents;

  g_mutex_lock (&shared->lock);
  while (!shared->done)
    g_cond_wait (&shared->measured, &shared->lock);
  dependents = shared->dependents;
  g_mutex_unlock (&shared->lock);
  return dependents;
}

/* The questions of the probes that take no CPU definition: asked as they ask them. */
static const char *const plain_commands[] = { "query-kvm", "query-machines",
                                              "query-cpu-definitions" };
/* The models whose expansions the probes ask with and without migratable. */
static const char *const host_models[] = { "host", "max" };

/* The names query-cpu-definitions listed, in its order, then host and max. */
static GPtrArray *
models_to_expand (json_object *definitions)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; json_object_is_type (definitions, json_type_array)
                    && i < json_object_array_length (definitions); i++)
    {
      json_object *name = NULL;

      if (json_object_object_get_ex (json_object_array_get_idx (definitions, i), "name", &name)
          && json_object_is_type (name, json_type_string))
        g_ptr_array_add (names, g_strdup (json_object_get_string (name)));
    }
  for (guint i = 0; i < G_N_ELEMENTS (host_models); i++)
    g_ptr_array_add (names, g_strdup (host_models[i]));
  return names;
}

/* Waits for reply @id; QEMU's own refusal is an answer worth keeping, anything else
 * (a timeout, a QEMU gone) ends the session. Returns the reply (caller owns) or NULL. */
static gboolean
wait_answer (QmpSession *session, guint64 id, gint64 deadline_us, json_object **reply,
             GError **error)
{
  g_autoptr (GError) local_error = NULL;

  *reply = qmp_session_wait (session, id, deadline_us, &local_error);
  if (*reply != NULL || g_error_matches (local_error, QMP_ERROR, QMP_ERROR_COMMAND)
      || g_error_matches (local_error, QMP_ERROR, QMP_ERROR_NOT_FOUND))
    return TRUE;
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

typedef struct {
  GPtrArray *models;
  ProbeFactsWriter *writer;
  GArray *asked;             /* per question: model index * N_VARIANTS + variant */
  json_object *props[PROBE_FACTS_N_VARIANTS];
} Expansions;

static json_object *
expansion_question (guint i, gpointer data)
{
  Expansions *expansions = data;
  guint which = g_array_index (expansions->asked, guint, i);
  json_object *props = expansions->props[which % PROBE_FACTS_N_VARIANTS];

  return probe_expansion_arguments (g_ptr_array_index (expansions->models,
                                                       which / PROBE_FACTS_N_VARIANTS),
                                    props != NULL ? json_object_get (props) : NULL);
}

static void
expansion_take (guint i, json_object *expansion, gpointer data)
{
  Expansions *expansions = data;
  guint which = g_array_index (expansions->asked, guint, i);

  if (expansion != NULL)
    probe_facts_writer_add (expansions->writer,
                            g_ptr_array_index (expansions->models, which / PROBE_FACTS_N_VARIANTS),
                            which % PROBE_FACTS_N_VARIANTS, expansion);
}

/* Asks every expansion of @variants of every model in @models and keeps the answers in
 * @writer. @preset: the QEMU was launched with the variants' properties as -global
 * settings, so each model is asked plainly. */
static gboolean
ask_expansions (QmpSession *session, GPtrArray *models, const ProbeFactsVariant *variants,
                guint n_variants, ProbeFactsWriter *writer, gboolean preset, gint64 deadline_us,
                GError **error)
{
  g_autoptr (GArray) asked = g_array_new (FALSE, TRUE, sizeof (guint));
  Expansions expansions = { models, writer, asked, { NULL } };
  gboolean answered;

  for (guint v = 0; v < n_variants; v++)
    {
      expansions.props[variants[v]] = probe_facts_writer_variant_props (writer, variants[v]);
      if (expansions.props[variants[v]] == NULL && variants[v] != PROBE_FACTS_PLAIN)
        continue;
      if (preset)
        g_clear_pointer (&expansions.props[variants[v]], json_object_put);
      for (guint i = 0; i < models->len; i++)
        {
          gboolean host_model = i + G_N_ELEMENTS (host_models) >= models->len;
          guint which = i * PROBE_FACTS_N_VARIANTS + variants[v];

          if (variants[v] != PROBE_FACTS_MIGRATABLE_OFF || host_model)
            g_array_append_val (asked, which);
        }
    }
  answered = probe_profile_ask (session, asked->len, expansion_question, expansion_take,
                                &expansions, deadline_us, error);
  for (guint v = 0; v < PROBE_FACTS_N_VARIANTS; v++)
    json_object_put (expansions.props[v]);
  return answered;
}

/* max with every feature asked on: what stays off is never on in this session. */
static gboolean
ask_never (QmpSession *session, ProbeFactsWriter *writer, gint64 deadline_us, GError **error)
{
  g_autoptr (ProbeJson) arguments = probe_expansion_arguments (
    "max", probe_facts_writer_world_props (writer, NULL));
  g_autoptr (ProbeJson) all_on = qmp_session_execute (session, "query-cpu-model-expansion",
                                                      arguments, deadline_us, error);

  if (all_on == NULL)
    return FALSE;
  probe_facts_writer_set_never (writer, all_on);
  return TRUE;
}

/* max's QOM type as query-cpu-definitions names it ("typename", QEMU 4.2 and later), or
 * NULL. */
static const char *
max_typename (json_object *definitions)
{
  for (guint i = 0; json_object_is_type (definitions, json_type_array)
                    && i < json_object_array_length (definitions); i++)
    {
      json_object *definition = json_object_array_get_idx (definitions, i);
      json_object *name = NULL, *typename = NULL;

      if (json_object_object_get_ex (definition, "name", &name)
          && g_strcmp0 (json_object_get_string (name), "max") == 0
          && json_object_object_get_ex (definition, "typename", &typename)
          && json_object_is_type (typename, json_type_string))
        return json_object_get_string (typename);
    }
  return NULL;
}

/* @props ({feature: boolean}) as -global settings of @driver, NULL-terminated. */
static GStrv
props_to_globals (json_object *props, const char *driver)
{
  GPtrArray *globals = g_ptr_array_new ();

  json_object_object_foreach (props, name, value)
    g_ptr_array_add (globals, g_strdup_printf ("%s.%s=%s", driver, name,
                                               json_object_get_boolean (value) ? "on" : "off"));
  g_ptr_array_add (globals, NULL);
  return (GStrv) g_ptr_array_free (globals, FALSE);
}

/* A QEMU of its own for @job's accelerator and machine, launched with @props ({feature:
 * boolean}) as -global settings of @driver: each of the hundreds of questions then names
 * none of them, where in every command they would cost QEMU a main-loop turn per byte.
 * Recorded (its launch names the globals, so a replay finds it), never a profile session.
 * NULL with job->error. */
static QmpConnection *
open_apart (GatherJob *job, json_object *props, const char *driver)
{
  g_auto (GStrv) globals = props_to_globals (props, driver);
  QemuLaunchOptions launch = { .machine = job->machine, .accel = job->accel,
                               .globals = (const char *const *) globals };
  QmpConnection *connection;

  g_mutex_lock (job->open_lock);
  connection = qmp_source_open (job->source, &launch, job->deadline_us, &job->error);
  g_mutex_unlock (job->open_lock);
  return connection;
}

/* Every model's @variant expansion (prerequisites on, roots on), asked of a QEMU launched
 * with the variant's properties on @cpu_type, the type every x86 model derives from. */
static gboolean
ask_variant_apart (GatherJob *job, GPtrArray *models, ProbeFactsVariant variant,
                   ProbeFactsWriter *writer, const char *cpu_type)
{
  g_autoptr (ProbeJson) props = probe_facts_writer_variant_props (writer, variant);
  g_autoptr (QmpConnection) connection = NULL;

  if (props == NULL)
    return TRUE;
  connection = open_apart (job, props, cpu_type);
  if (connection == NULL)
    return FALSE;
  return ask_expansions (qmp_connection_session (connection), models, &variant, 1, writer, TRUE,
                         job->deadline_us, &job->error);
}

/* The dependencies, measured in a QEMU launched with every feature max lacks on @driver
 * (max's type). */
static json_object *
measure_dependents_apart (GatherJob *job, ProbeFactsWriter *writer, const char *driver)
{
  g_autoptr (ProbeJson) world = probe_facts_writer_world_props (writer, NULL);
  g_autoptr (QmpConnection) connection = open_apart (job, world, driver);

  if (connection == NULL)
    return NULL;
  return probe_dependents_measure (qmp_connection_session (connection), writer, TRUE,
                                   job->deadline_us, &job->error);
}

/* The session's facts: max's plain expansion names the features; every model's plain
 * expansion, then (once the dependencies are known) those with prerequisites on. NULL
 * with @error when QEMU stopped answering. */
static json_object *
gather_facts (QmpSession *session, json_object *definitions, GPtrArray *models, GatherJob *job)
{
  static const ProbeFactsVariant plain[] = { PROBE_FACTS_PLAIN, PROBE_FACTS_MIGRATABLE_OFF };
  static const ProbeFactsVariant prereqs[] = { PROBE_FACTS_PREREQS_ON, PROBE_FACTS_ROOTS_ON };
  g_autoptr (ProbeJson) max_arguments = probe_expansion_arguments ("max", NULL);
  g_autoptr (ProbeJson) max_expansion = NULL;
  g_autoptr (ProbeFactsWriter) writer = NULL;
  /* max's QOM type: the -global settings of the QEMUs asked apart name it (QEMU 4.2+). */
  const char *driver = max_typename (definitions);

  max_expansion = qmp_session_execute (session, "query-cpu-model-expansion", max_arguments,
                                       job->deadline_us, &job->error);
  if (max_expansion == NULL)
    return NULL;
  writer = probe_facts_writer_new (max_expansion);
  if (job->measures)
    {
      json_object *dependents
        = driver != NULL ? measure_dependents_apart (job, writer, driver)
                         : probe_dependents_measure (session, writer, FALSE, job->deadline_us,
                                                     &job->error);

      publish_dependents (job->shared, dependents);
      if (dependents == NULL)
        return NULL;
    }
  else if (!ask_never (session, writer, job->deadline_us, &job->error))
    return NULL;
  if (!ask_expansions (session, models, plain, G_N_ELEMENTS (plain), writer, FALSE,
                       job->deadline_us, &job->error))
    return NULL;
  probe_facts_writer_set_dependents (writer, wait_dependents (job->shared));
  /* max's type is "max-" and the type every x86 model derives from. */
  if (driver != NULL && g_str_has_prefix (driver, "max-"))
    {
      for (guint v = 0; v < G_N_ELEMENTS (prereqs); v++)
        if (!ask_variant_apart (job, models, prereqs[v], writer, driver + strlen ("max-")))
          return NULL;
    }
  else if (!ask_expansions (session, models, prereqs, G_N_ELEMENTS (prereqs), writer, FALSE,
                            job->deadline_us, &job->error))
    return NULL;
  return probe_facts_writer_finish (writer);
}

static void
gather_session_on (GatherJob *job)
{
  QemuLaunchOptions launch = { .machine = job->machine, .accel = job->accel };
  g_autoptr (QmpConnection) connection = NULL;
  g_autoptr (ProbeJson) definitions = NULL;
  g_autoptr (GPtrArray) models = NULL;
  guint64 ids[G_N_ELEMENTS (plain_commands)];
  QmpSession *session;

  /* A replay hands out its sessions from shared state. */
  g_mutex_lock (job->open_lock);
  connection = qmp_source_open (job->source, &launch, job->deadline_us, &job->error);
  g_mutex_unlock (job->open_lock);
  if (connection == NULL)
    return;
  session = qmp_connection_session (connection);
  for (guint i = 0; i < G_N_ELEMENTS (plain_commands); i++)
    if ((ids[i] = qmp_session_send (session, plain_commands[i], NULL, &job->error)) == 0)
      return;
  for (guint i = 0; i < G_N_ELEMENTS (plain_commands); i++)
    {
      json_object *reply = NULL;

      if (!wait_answer (session, ids[i], job->deadline_us, &reply, &job->error))
        return;
      if (strcmp (plain_commands[i], "query-cpu-definitions") == 0)
        definitions = reply;
      else
        json_object_put (reply);
    }
  /* x86 expands CPU models since QEMU 2.9; older QEMUs are profiled by their lists only. */
  if (!qmp_version_at_least (qmp_session_get_version (session), 2, 9, 0))
    return;
  models = models_to_expand (definitions);
  job->facts = gather_facts (session, definitions, models, job);
}

static gpointer
gather_session (gpointer data)
{
  GatherJob *job = data;

  gather_session_on (job);
  /* Whatever became of the measuring session, the others must not wait for ever. */
  if (job->measures)
    publish_dependents (job->shared, NULL);
  if (job->progress->func != NULL)
    job->progress->func ((guint) g_atomic_int_add (&job->progress->done, 1) + 1,
                         job->progress->total, job->progress->data);
  return NULL;
}

/* The session that measures: tcg on machine none when asked (the cheapest QEMU to ask),
 * else the first on machine none, else the first. */
static guint
measuring_job (GArray *jobs)
{
  guint chosen = 0;

  for (guint i = 0; i < jobs->len; i++)
    {
      GatherJob *job = &g_array_index (jobs, GatherJob, i);

      if (g_strcmp0 (job->machine, "none") != 0)
        continue;
      if (g_strcmp0 (job->accel, "tcg") == 0)
        return i;
      if (g_strcmp0 (g_array_index (jobs, GatherJob, chosen).machine, "none") != 0)
        chosen = i;
    }
  return chosen;
}

gboolean
probe_profile_gather (QmpSource *source, const char *const *accels, const char *const *machines,
                      gint64 deadline_us, void (*progress) (guint done, guint total, gpointer data),
                      gpointer progress_data, json_object **facts, GError **error)
{
  GatherProgress told = { .func = progress, .data = progress_data };
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  g_autoptr (GArray) jobs = g_array_new (FALSE, TRUE, sizeof (GatherJob));
  SharedDependents shared = { 0 };
  json_object *sessions = json_object_new_object ();
  GMutex open_lock;
  guint n_opened = 0;

  g_mutex_init (&open_lock);
  g_mutex_init (&shared.lock);
  g_cond_init (&shared.measured);
  for (guint a = 0; accels[a] != NULL; a++)
    for (guint m = 0; machines[m] != NULL; m++)
      {
        GatherJob job = { .source = source, .accel = accels[a], .machine = machines[m],
                          .deadline_us = deadline_us, .open_lock = &open_lock, .shared = &shared,
                          .progress = &told };
        g_array_append_val (jobs, job);
      }
  told.total = jobs->len;
  if (jobs->len > 0)
    g_array_index (jobs, GatherJob, measuring_job (jobs)).measures = TRUE;
  /* Every QEMU at once: each waits on its own start and answers, not on the others. */
  for (guint i = 0; i < jobs->len; i++)
    g_ptr_array_add (threads, g_thread_new ("profile", gather_session,
                                            &g_array_index (jobs, GatherJob, i)));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  g_mutex_clear (&open_lock);
  g_mutex_clear (&shared.lock);
  g_cond_clear (&shared.measured);

  *facts = json_object_new_object ();
  for (guint i = 0; i < jobs->len; i++)
    {
      GatherJob *job = &g_array_index (jobs, GatherJob, i);

      if (job->facts != NULL)
        {
          g_autofree char *key = probe_profile_facts_key (job->accel, job->machine);

          json_object_object_add (sessions, key, job->facts);
        }
      if (job->error == NULL)
        n_opened++;
      else if (n_opened == 0 && i + 1 == jobs->len && error != NULL && *error == NULL)
        *error = g_steal_pointer (&job->error);
      g_clear_error (&job->error);
    }
  json_object_object_add (*facts, "sessions", sessions);
  if (shared.dependents != NULL)
    json_object_object_add (*facts, "dependents", shared.dependents);
  return n_opened > 0;
}

/* ---- The document ---- */

/* A command or reply as the profile keeps it: without the id, which only paired them. */
static json_object *
without_id (json_object *message)
{
  json_object *kept = json_object_new_object ();

  json_object_object_foreach (message, key, value)
    if (strcmp (key, "id") != 0)
      json_object_object_add (kept, key, json_object_get (value));
  return kept;
}

static json_object *
launch_to_json (json_object *recorded)
{
  static const char *const members[] = { "accel", "machine", "cpu", "preconfig", "exit" };
  json_object *launch = json_object_new_object ();

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      json_object *value = NULL;

      if (recorded != NULL && json_object_object_get_ex (recorded, members[i], &value))
        json_object_object_add (launch, members[i], json_object_get (value));
    }
  return launch;
}

char *
probe_profile_facts_key (const char *accel, const char *machine)
{
  return g_strdup_printf ("%s %s", accel != NULL ? accel : "", machine != NULL ? machine : "none");
}

static json_object *
session_to_json (QmpReplies *recording, guint index, json_object *all_facts)
{
  json_object *session = json_object_new_object ();
  json_object *messages = json_object_new_array ();
  guint n_exchanges = qmp_replies_segment_n_exchanges (recording, index);

  json_object_object_add (session, "launch",
                          launch_to_json (qmp_replies_segment_launch (recording, index)));
  /* A QEMU that ended before its monitor answered has nothing but its launch's "exit". */
  if (qmp_replies_segment_exit (recording, index) == NULL)
    json_object_array_add (messages,
                           json_object_get (qmp_replies_segment_greeting (recording, index)));
  for (guint i = 0; i < n_exchanges; i++)
    {
      const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (recording, index, i);
      json_object *name = NULL;

      /* The handshake and the goodbye are the replay peer's own, as every QEMU answers them
       * alike; events (a SHUTDOWN after quit) answer nothing a probe asks. */
      if (exchange->command == NULL
          || !json_object_object_get_ex (exchange->command, "execute", &name)
          || g_strcmp0 (json_object_get_string (name), "qmp_capabilities") == 0
          || g_strcmp0 (json_object_get_string (name), "quit") == 0)
        continue;
      /* Expansions are kept as facts (probe/profile-facts.h), far smaller than replies. */
      if (g_strcmp0 (json_object_get_string (name), "query-cpu-model-expansion") == 0)
        continue;
      json_object_array_add (messages, without_id (exchange->command));
      if (exchange->reply != NULL)
        json_object_array_add (messages, without_id (exchange->reply));
    }
  json_object_object_add (session, "messages", messages);
  {
    json_object *launch = qmp_replies_segment_launch (recording, index);
    json_object *accel = NULL, *machine = NULL, *facts = NULL;
    g_autofree char *key = NULL;

    if (launch != NULL)
      {
        json_object_object_get_ex (launch, "accel", &accel);
        json_object_object_get_ex (launch, "machine", &machine);
      }
    key = probe_profile_facts_key (json_object_get_string (accel), json_object_get_string (machine));
    if (json_object_object_get_ex (json_object_object_get (all_facts, "sessions"), key, &facts))
      {
        json_object_object_foreach (facts, member, value)
          json_object_object_add (session, member, json_object_get (value));
      }
  }
  return session;
}

/* A session launched with -global settings measured something (the dependencies); the
 * probes never launch one, so a profile has no use for it. */
static gboolean
measuring_only (json_object *launch)
{
  json_object *globals = NULL;

  return launch != NULL && json_object_object_get_ex (launch, "globals", &globals)
         && json_object_is_type (globals, json_type_array)
         && json_object_array_length (globals) > 0;
}

static const char *
launch_string (json_object *session, const char *member)
{
  json_object *launch = json_object_object_get (session, "launch");
  json_object *value = launch != NULL ? json_object_object_get (launch, member) : NULL;

  return value != NULL ? json_object_get_string (value) : "";
}

/* Sessions ran in parallel, so the recording's order is the order they happened to open:
 * the profile sorts them, and the same answers always make the same document. */
static int
compare_sessions (const void *a, const void *b)
{
  json_object *first = *(json_object *const *) a, *second = *(json_object *const *) b;
  int by_accel = strcmp (launch_string (first, "accel"), launch_string (second, "accel"));

  return by_accel != 0 ? by_accel
                       : strcmp (launch_string (first, "machine"), launch_string (second, "machine"));
}

/* TRUE when two sessions hold the same answers, whatever their launch. */
static gboolean
same_answers (json_object *a, json_object *b)
{
  if (json_object_object_length (a) != json_object_object_length (b))
    return FALSE;
  json_object_object_foreach (a, member, value)
    {
      json_object *other = NULL;

      if (strcmp (member, "launch") != 0
          && (!json_object_object_get_ex (b, member, &other) || !json_object_equal (value, other)))
        return FALSE;
    }
  return TRUE;
}

/* Machine types that change nothing a probe asks about answer alike: a session that
 * answers as an earlier one did keeps its launch and names that session ("same-as"). */
static void
share_same_sessions (json_object *sessions)
{
  for (guint i = 1; i < json_object_array_length (sessions); i++)
    {
      json_object *session = json_object_array_get_idx (sessions, i);

      for (guint j = 0; j < i; j++)
        {
          json_object *earlier = json_object_array_get_idx (sessions, j);
          json_object *shared;

          if (json_object_object_get_ex (earlier, "same-as", NULL) || !same_answers (session, earlier))
            continue;
          shared = json_object_new_object ();
          json_object_object_add (shared, "launch",
                                  json_object_get (json_object_object_get (session, "launch")));
          json_object_object_add (shared, "same-as", json_object_new_int ((int) j));
          json_object_array_put_idx (sessions, i, shared);
          break;
        }
    }
}

static json_object *
strings_json (GPtrArray *strings)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < strings->len; i++)
    json_object_array_add (array, json_object_new_string (g_ptr_array_index (strings, i)));
  return array;
}

static void
add_unique (GPtrArray *strings, const char *value)
{
  if (value[0] != '\0' && !g_ptr_array_find_with_equal_func (strings, value, g_str_equal, NULL))
    g_ptr_array_add (strings, (gpointer) value);
}

json_object *
probe_profile_build (const ProbeProfileParts *parts, GError **error)
{
  json_object *profile = json_object_new_object ();
  json_object *host = json_object_new_object ();
  json_object *qemu = json_object_new_object ();
  json_object *sessions = json_object_new_array ();
  json_object *cpuid;
  g_autoptr (GPtrArray) accels = g_ptr_array_new ();
  g_autoptr (GPtrArray) machines = g_ptr_array_new ();
  g_autofree char *version = NULL;
  const char *package = "";
  gboolean has_kvm = FALSE;

  for (guint i = 0; i < qmp_replies_n_segments (parts->recording); i++)
    {
      if (measuring_only (qmp_replies_segment_launch (parts->recording, i)))
        continue;
      if (qmp_replies_segment_exit (parts->recording, i) == NULL && version == NULL)
        {
          json_object *greeting = qmp_replies_segment_greeting (parts->recording, i);
          QmpVersion parsed;

          if (qmp_greeting_parse (greeting, &parsed, &package, NULL))
            version = qmp_version_to_string (&parsed);
        }
      json_object_array_add (sessions, session_to_json (parts->recording, i, parts->facts));
    }
  if (version == NULL)
    {
      json_object_put (profile);
      json_object_put (host);
      json_object_put (qemu);
      json_object_put (sessions);
      g_set_error (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID,
                   "%s: no QEMU session answered: nothing to profile", parts->qemu_binary);
      return NULL;
    }
  json_object_array_sort (sessions, compare_sessions);
  share_same_sessions (sessions);
  for (guint i = 0; i < json_object_array_length (sessions); i++)
    {
      json_object *session = json_object_array_get_idx (sessions, i);
      json_object *launch = json_object_object_get (session, "launch");

      add_unique (accels, launch_string (session, "accel"));
      add_unique (machines, launch_string (session, "machine"));
      if (strcmp (launch_string (session, "accel"), "kvm") == 0
          && !json_object_object_get_ex (launch, "exit", NULL))
        has_kvm = TRUE;
    }

  json_object_object_add (profile, "format", json_object_new_string (PROBE_PROFILE_FORMAT));
  json_object_object_add (profile, "version", json_object_new_int (PROBE_PROFILE_VERSION));
  json_object_object_add (host, "name", json_object_new_string (parts->host));
  json_object_object_add (profile, "host", host);
  json_object_object_add (profile, "made", json_object_new_string (parts->made));
  json_object_object_add (profile, "vcpuprobe", json_object_new_string (VCPUPROBE_VERSION));
  json_object_object_add (qemu, "binary", json_object_new_string (parts->qemu_binary));
  json_object_object_add (qemu, "version", json_object_new_string (version));
  json_object_object_add (qemu, "package", json_object_new_string (package));
  json_object_object_add (profile, "qemu", qemu);
  json_object_object_add (profile, "default_accel",
                          json_object_new_string (parts->default_accel != NULL
                                                  ? parts->default_accel
                                                  : has_kvm ? "kvm" : "tcg"));
  json_object_object_add (profile, "accels", strings_json (accels));
  json_object_object_add (profile, "machines", strings_json (machines));
  /* The host is named once, in "host", and the dump's origin (hardware, a recording) is
   * no fact of the host: a profile remade from its recording is the same, and a fleet's
   * twins differ in the header alone (probe_profile_shelf_load() shares what follows). */
  cpuid = x86_cpuid_dump_to_json (parts->cpuid);
  json_object_object_add (cpuid, "origin", NULL);
  json_object_object_add (profile, "cpuid", cpuid);
  {
    json_object *dependents = NULL;

    if (json_object_object_get_ex (parts->facts, "dependents", &dependents))
      json_object_object_add (profile, "dependents", json_object_get (dependents));
  }
  json_object_object_add (profile, "sessions", sessions);
  return profile;
}
