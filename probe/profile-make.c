/* probe/profile-make.c — asks a QEMU everything a host profile holds, and turns the
 * recorded conversations into the profile document (probe/profile.h). */
#include "probe/profile.h"

#include <string.h>
#include "probe/qemu-info.h"

/* ---- Asking ---- */

typedef struct {
  QmpSource *source;
  const char *accel;
  const char *machine;
  gint64 deadline_us;
  GMutex *open_lock;
  GError *error;          /* why the session failed; an accelerator QEMU refused is one */
} GatherJob;

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

static gboolean
ask_expansions (QmpSession *session, GPtrArray *models, gint64 deadline_us, GError **error)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (guint64));

  /* Pipelined: QEMU answers one after the other without waiting for us. */
  for (guint i = 0; i < models->len; i++)
    {
      const char *model = g_ptr_array_index (models, i);
      gboolean host_model = i + G_N_ELEMENTS (host_models) >= models->len;

      for (guint variant = 0; variant < (host_model ? 2 : 1); variant++)
        {
          json_object *props = NULL;
          g_autoptr (ProbeJson) arguments = NULL;
          guint64 id;

          if (variant == 1)
            {
              props = json_object_new_object ();
              json_object_object_add (props, "migratable", json_object_new_boolean (FALSE));
            }
          arguments = probe_expansion_arguments (model, props);
          id = qmp_session_send (session, "query-cpu-model-expansion", arguments, error);
          if (id == 0)
            return FALSE;
          g_array_append_val (ids, id);
        }
    }
  for (guint i = 0; i < ids->len; i++)
    {
      json_object *reply = NULL;

      if (!wait_answer (session, g_array_index (ids, guint64, i), deadline_us, &reply, error))
        return FALSE;
      json_object_put (reply);
    }
  return TRUE;
}

static gpointer
gather_session (gpointer data)
{
  GatherJob *job = data;
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
    return NULL;
  session = qmp_connection_session (connection);
  for (guint i = 0; i < G_N_ELEMENTS (plain_commands); i++)
    if ((ids[i] = qmp_session_send (session, plain_commands[i], NULL, &job->error)) == 0)
      return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (plain_commands); i++)
    {
      json_object *reply = NULL;

      if (!wait_answer (session, ids[i], job->deadline_us, &reply, &job->error))
        return NULL;
      if (strcmp (plain_commands[i], "query-cpu-definitions") == 0)
        definitions = reply;
      else
        json_object_put (reply);
    }
  /* x86 expands CPU models since QEMU 2.9; older QEMUs are profiled by their lists only. */
  if (!qmp_version_at_least (qmp_session_get_version (session), 2, 9, 0))
    return NULL;
  models = models_to_expand (definitions);
  ask_expansions (session, models, job->deadline_us, &job->error);
  return NULL;
}

gboolean
probe_profile_gather (QmpSource *source, const char *const *accels, const char *const *machines,
                      gint64 deadline_us, GError **error)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  g_autoptr (GArray) jobs = g_array_new (FALSE, TRUE, sizeof (GatherJob));
  GMutex open_lock;
  guint n_opened = 0;

  g_mutex_init (&open_lock);
  for (guint a = 0; accels[a] != NULL; a++)
    for (guint m = 0; machines[m] != NULL; m++)
      {
        GatherJob job = { source, accels[a], machines[m], deadline_us, &open_lock, NULL };
        g_array_append_val (jobs, job);
      }
  /* Every QEMU at once: each waits on its own start and answers, not on the others. */
  for (guint i = 0; i < jobs->len; i++)
    g_ptr_array_add (threads, g_thread_new ("profile", gather_session,
                                            &g_array_index (jobs, GatherJob, i)));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  g_mutex_clear (&open_lock);

  for (guint i = 0; i < jobs->len; i++)
    {
      GatherJob *job = &g_array_index (jobs, GatherJob, i);

      if (job->error == NULL)
        n_opened++;
      else if (n_opened == 0 && i + 1 == jobs->len && error != NULL && *error == NULL)
        *error = g_steal_pointer (&job->error);
      g_clear_error (&job->error);
    }
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

static json_object *
session_to_json (QmpReplies *recording, guint index)
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
      json_object_array_add (messages, without_id (exchange->command));
      if (exchange->reply != NULL)
        json_object_array_add (messages, without_id (exchange->reply));
    }
  json_object_object_add (session, "messages", messages);
  return session;
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
      if (qmp_replies_segment_exit (parts->recording, i) == NULL && version == NULL)
        {
          json_object *greeting = qmp_replies_segment_greeting (parts->recording, i);
          QmpVersion parsed;

          if (qmp_greeting_parse (greeting, &parsed, &package, NULL))
            version = qmp_version_to_string (&parsed);
        }
      json_object_array_add (sessions, session_to_json (parts->recording, i));
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
  /* The dump describes the profiled host, wherever this process read it from. */
  cpuid = x86_cpuid_dump_to_json (parts->cpuid);
  json_object_object_add (cpuid, "origin", json_object_new_string (parts->host));
  json_object_object_add (profile, "cpuid", cpuid);
  json_object_object_add (profile, "sessions", sessions);
  return profile;
}
