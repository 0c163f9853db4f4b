/* probe/host-model.c — every layer of this host, QEMU's part asked in parallel and cached. */
#include "probe/host-model.h"
#include "probe/cache.h"
#include "probe/host-layers.h"
#include "probe/qemu-info.h"
#include "x86/host-cpuid.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define FACTS_FORMAT "vcpuprobe-qemu-facts"

/* ---- Facts: one QEMU, one accelerator ---- */

static void
facts_set_string (json_object *facts, const char *member, const char *value)
{
  json_object_object_add (facts, member, value != NULL ? json_object_new_string (value) : NULL);
}

static json_object *
names_to_json (const X86FeatureSet *set)
{
  g_autoptr (GPtrArray) names = x86_feature_set_to_names (set, FALSE);
  json_object *array = json_object_new_array_ext ((int) names->len);

  for (guint i = 0; i < names->len; i++)
    json_object_array_add (array, json_object_new_string (names->pdata[i]));
  return array;
}

static void
names_from_json (json_object *array, X86FeatureSet *set)
{
  x86_feature_set_clear (set);
  if (array == NULL || !json_object_is_type (array, json_type_array))
    return;
  for (size_t i = 0; i < json_object_array_length (array); i++)
    {
      const X86Feature *feature
        = x86_feature_lookup (json_object_get_string (json_object_array_get_idx (array, i)));

      if (feature != NULL)
        x86_feature_set_add (set, feature);
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

/* query-cpu-definitions, reduced to what `models` and `host` print; the caller owns it. */
static json_object *
compact_definitions (json_object *definitions)
{
  json_object *models = json_object_new_array ();

  for (size_t i = 0; i < json_object_array_length (definitions); i++)
    {
      json_object *definition = json_object_array_get_idx (definitions, i);
      json_object *model = json_object_new_object ();
      json_object *deprecated = NULL;

      json_object_object_add (model, "name", member_or_null (definition, "name"));
      json_object_object_add (model, "unavailable",
                              member_or_null (definition, "unavailable-features"));
      json_object_object_add (model, "alias_of", member_or_null (definition, "alias-of"));
      json_object_object_get_ex (definition, "deprecated", &deprecated);
      json_object_object_add (model, "deprecated",
                              json_object_new_boolean (deprecated != NULL
                                                       && json_object_get_boolean (deprecated)));
      json_object_object_add (model, "migration_safe",
                              member_or_null (definition, "migration-safe"));
      json_object_array_add (models, model);
    }
  return models;
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
 * CPU map knows the unversioned names). */
static gboolean
is_candidate (json_object *model)
{
  json_object *unavailable = NULL;
  const char *name = json_object_get_string (json_object_object_get (model, "name"));

  if (name == NULL || is_versioned_name (name) || strcmp (name, "host") == 0
      || strcmp (name, "max") == 0 || strcmp (name, "base") == 0)
    return FALSE;
  return json_object_object_get_ex (model, "unavailable", &unavailable)
         && json_object_is_type (unavailable, json_type_array)
         && json_object_array_length (unavailable) == 0;
}

/* The usable named model whose expansion needs the fewest feature changes to become the
 * migratable host model, as libvirt's host-model CPU does; its changes as require/disable.
 * One pipelined batch of expansions. The caller owns the result; NULL when no model fits. */
static json_object *
find_closest_model (QmpSession *session, json_object *models, const X86FeatureSet *host,
                    gint64 deadline_us)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, TRUE, sizeof (guint64));
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  X86FeatureSet best_require, best_disable;
  const char *best = NULL;
  guint best_changes = G_MAXUINT;
  guint n_candidates = 0;
  json_object *closest;

  for (size_t i = 0; i < json_object_array_length (models); i++)
    {
      json_object *model = json_object_array_get_idx (models, i);
      json_object *arguments;
      guint64 id;

      if (!is_candidate (model))
        continue;
      arguments = probe_expansion_arguments (json_object_get_string (json_object_object_get (model, "name")), NULL);
      id = qmp_session_send (session, "query-cpu-model-expansion", arguments, NULL);
      json_object_put (arguments);
      if (id == 0)
        break;
      g_array_append_val (ids, id);
      g_ptr_array_add (names, (gpointer) json_object_get_string (json_object_object_get (model, "name")));
    }

  for (guint i = 0; i < ids->len; i++)
    {
      json_object *expansion = qmp_session_wait (session, g_array_index (ids, guint64, i),
                                                 deadline_us, NULL);
      X86FeatureSet features, require, disable;
      guint changes;

      if (expansion == NULL)
        continue;
      if (probe_features_from_expansion (expansion, &features, NULL, NULL))
        {
          n_candidates++;
          x86_feature_set_subtract (&require, host, &features);
          x86_feature_set_subtract (&disable, &features, host);
          changes = x86_feature_set_count (&require) + x86_feature_set_count (&disable);
          if (changes < best_changes)
            {
              best = names->pdata[i];
              best_changes = changes;
              best_require = require;
              best_disable = disable;
            }
        }
      json_object_put (expansion);
    }
  if (best == NULL)
    return NULL;
  closest = json_object_new_object ();
  json_object_object_add (closest, "model", json_object_new_string (best));
  json_object_object_add (closest, "require", names_to_json (&best_require));
  json_object_object_add (closest, "disable", names_to_json (&best_disable));
  json_object_object_add (closest, "changes", json_object_new_int ((int) best_changes));
  json_object_object_add (closest, "candidates", json_object_new_int ((int) n_candidates));
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

static void
add_expansions (json_object *facts, QmpSession *session, const char *accel, guint64 migratable_id,
                guint64 supported_id, gint64 deadline_us, char **broken)
{
  g_autofree char *problem = NULL;
  json_object *migratable = wait_reply (session, migratable_id, "query-cpu-model-expansion",
                                        deadline_us, &problem, broken);
  json_object *supported = migratable != NULL
                           ? wait_reply (session, supported_id, "query-cpu-model-expansion",
                                         deadline_us, &problem, broken)
                           : NULL;
  X86FeatureSet migratable_set, supported_set;
  g_autoptr (GError) error = NULL;

  if (migratable != NULL && supported != NULL
      && probe_features_from_expansion (migratable, &migratable_set, NULL, &error)
      && probe_features_from_expansion (supported, &supported_set, NULL, &error))
    {
      json_object *host_model = json_object_new_object ();

      json_object_object_add (host_model, "migratable", names_to_json (&migratable_set));
      json_object_object_add (host_model, "supported", names_to_json (&supported_set));
      json_object_object_add (facts, "host_model", host_model);
    }
  else
    facts_set_string (facts, "expansion_missing",
                      problem != NULL ? problem : error != NULL ? error->message
                                                                : "no expansion");
  json_object_put (migratable);
  json_object_put (supported);
}

/* Why kvm cannot be probed on this host, or NULL when /dev/kvm opens read-write. */
static char *
kvm_unusable_reason (void)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd >= 0)
    {
      close (fd);
      return NULL;
    }
  return g_strdup_printf ("/dev/kvm: %s", g_strerror (errno));
}

json_object *
probe_host_gather_facts (QmpSource *source, const char *accel, const char *machine,
                         gboolean closest_model, gint64 deadline_us)
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
  QmpSession *session;
  guint64 kvm_id, machines_id, definitions_id, migratable_id = 0, supported_id = 0;
  json_object *reply;

  facts_set_string (facts, "format", FACTS_FORMAT);
  facts_set_string (facts, "accel", accel);
  facts_set_string (facts, "machine", machine != NULL ? machine : "none");
  facts_set_string (facts, "host_model_name", host_model);

  if (strcmp (accel, "kvm") == 0 && qmp_source_kind (source) == QMP_SOURCE_LAUNCH)
    kvm_problem = kvm_unusable_reason ();
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
  version = qmp_version_to_string (qmp_session_get_version (session));
  json_object_object_add (facts, "usable", json_object_new_boolean (TRUE));
  facts_set_string (facts, "version", version);
  facts_set_string (facts, "package", qmp_session_package (session));

  /* One batch: QEMU works through it while we wait for the first reply. */
  kvm_id = send_command (session, "query-kvm", NULL, &broken);
  machines_id = send_command (session, "query-machines", NULL, &broken);
  definitions_id = send_command (session, "query-cpu-definitions", NULL, &broken);
  if (qmp_version_at_least (qmp_session_get_version (session), 2, 9, 0))
    {
      json_object *off = json_object_new_object ();

      json_object_object_add (off, "migratable", json_object_new_boolean (FALSE));
      migratable_id = send_command (session, "query-cpu-model-expansion",
                                    probe_expansion_arguments (host_model, NULL), &broken);
      supported_id = send_command (session, "query-cpu-model-expansion",
                                   probe_expansion_arguments (host_model, off), &broken);
    }

  reply = wait_reply (session, kvm_id, "query-kvm", deadline_us, &problem, &broken);
  json_object_object_add (facts, "query_kvm", reply);
  g_clear_pointer (&problem, g_free);
  reply = wait_reply (session, machines_id, "query-machines", deadline_us, &problem, &broken);
  if (reply != NULL)
    {
      g_autofree char *default_machine = probe_machine_resolve (reply, NULL);

      facts_set_string (facts, "default_machine", default_machine);
      json_object_put (reply);
    }
  g_clear_pointer (&problem, g_free);
  reply = wait_reply (session, definitions_id, "query-cpu-definitions", deadline_us, &problem,
                      &broken);
  if (reply != NULL && json_object_is_type (reply, json_type_array))
    json_object_object_add (facts, "models", compact_definitions (reply));
  else
    facts_set_string (facts, "models_missing", problem != NULL ? problem : "not a list");
  json_object_put (reply);

  if (migratable_id != 0)
    add_expansions (facts, session, accel, migratable_id, supported_id, deadline_us, &broken);
  else
    facts_set_string (facts, "expansion_missing",
                      "QEMU older than 2.9.0 has no x86 query-cpu-model-expansion: "
                      "the host model needs a post-start probe");

  /* A QEMU that died, hung or stopped speaking QMP in the middle started, but what it
   * said is not a description of it: unusable, and never cached. */
  if (broken != NULL)
    {
      g_autofree char *failure = name_source (source, broken);

      json_object_object_add (facts, "usable", json_object_new_boolean (FALSE));
      facts_set_string (facts, "failure", failure);
      qmp_connection_close (g_steal_pointer (&connection), NULL);
      return facts;
    }

  if (closest_model)
    {
      json_object *models = json_object_object_get (facts, "models");
      json_object *host_model_names = json_object_object_get (facts, "host_model");

      if (models != NULL && host_model_names != NULL)
        {
          X86FeatureSet migratable;
          json_object *closest;

          names_from_json (json_object_object_get (host_model_names, "migratable"), &migratable);
          closest = find_closest_model (session, models, &migratable, deadline_us);
          if (closest != NULL)
            json_object_object_add (facts, "closest", closest);
        }
    }
  qmp_connection_close (g_steal_pointer (&connection), NULL);
  return facts;
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

ProbeAccelInfo *
probe_accel_info_from_facts (json_object *facts)
{
  ProbeAccelInfo *info = g_new0 (ProbeAccelInfo, 1);
  json_object *host_model = NULL;
  json_object *usable = NULL;

  info->facts = facts;
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
  if (json_object_object_get_ex (facts, "host_model", &host_model) && host_model != NULL)
    {
      info->expansion_known = TRUE;
      names_from_json (json_object_object_get (host_model, "migratable"), &info->migratable);
      names_from_json (json_object_object_get (host_model, "supported"), &info->supported);
    }
  info->models_known = json_object_object_get_ex (facts, "models", &info->models)
                       && json_object_is_type (info->models, json_type_array);
  if (!info->models_known)
    info->models = NULL;
  json_object_object_get_ex (facts, "closest", &info->closest);
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
  g_free (info->cache_status);
  json_object_put (info->facts);
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

static void
read_hardware (ProbeHost *host, const char *cpuid_dump, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  guint n_cpus;

  host->hardware = cpuid_dump != NULL ? x86_cpuid_dump_load (cpuid_dump, error)
                                      : x86_host_cpuid_read (-1, &local_error);
  if (host->hardware == NULL)
    {
      if (local_error != NULL)
        host->hardware_failure = g_strdup (local_error->message);
      return;
    }
  host->identity = x86_cpu_identity_from_dump (host->hardware, cpuid_dump == NULL);
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

  job->facts = probe_host_gather_facts (job->source, job->accel, job->machine,
                                        job->closest_model, job->deadline_us);
  return NULL;
}

static void
lookup_cached (GatherJob *job, const ProbeHost *host)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *microcode = x86_host_microcode ();
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
  QmpSourceKind kind = qmp_source_kind (request->source);
  gboolean kvm_requested = FALSE;
  gboolean cacheable = request->use_cache && kind == QMP_SOURCE_LAUNCH
                       && request->cpuid_dump == NULL;
  guint n_accels = request->accels != NULL ? g_strv_length ((char **) request->accels) : 0;
  g_autofree GatherJob *jobs = g_new0 (GatherJob, MAX (n_accels, 1));
  const char *not_cached = !request->use_cache ? "not cached: --no-cache"
                           : kind == QMP_SOURCE_REPLAY ? "not cached: a replay"
                           : kind == QMP_SOURCE_SOCKET ? "not cached: a running QEMU"
                           : "not cached: CPUID from a dump";

  for (guint i = 0; i < n_accels; i++)
    if (strcmp (request->accels[i], "kvm") == 0)
      {
        g_autofree char *kvm_problem = kind == QMP_SOURCE_LAUNCH ? kvm_unusable_reason () : NULL;

        kvm_requested = kvm_problem == NULL;
      }
  host->binary = qmp_source_describe (request->source);
  /* The CPUID signature is part of the cache key, so the silicon is read first. */
  read_hardware (host, request->cpuid_dump, error);
  if (host->hardware == NULL && request->cpuid_dump != NULL)
    return NULL;
  if (host->hardware == NULL)
    cacheable = FALSE;
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
      job->deadline_us = request->deadline_us;
      job->cache = cache;
      if (cacheable)
        lookup_cached (job, host);
      else
        job->cache_status = g_strdup (not_cached);
      if (job->facts != NULL)
        continue;
      /* A replay hands out recorded segments in order: open them one after the other. */
      if (kind == QMP_SOURCE_LAUNCH)
        g_ptr_array_add (threads, g_thread_new ("qemu-probe", gather_job_run, job));
      else
        gather_job_run (job);
    }

  if (request->cpuid_dump == NULL)
    host->kvm = x86_kvm_cpuid_read (NULL);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);

  host->accels = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_accel_info_free);
  for (guint i = 0; i < n_accels; i++)
    {
      GatherJob *job = &jobs[i];
      ProbeAccelInfo *info;

      if (job->key != NULL && g_str_has_prefix (job->cache_status, "miss"))
        store_facts (job);
      info = probe_accel_info_from_facts (g_steal_pointer (&job->facts));
      info->cache_status = g_steal_pointer (&job->cache_status);
      g_ptr_array_add (host->accels, info);
      probe_cache_key_free (job->key);
    }
  return g_steal_pointer (&host);
}
