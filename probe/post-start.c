/* probe/post-start.c — the post-start strategy of probe/post-start.h. */
#include "probe/post-start.h"

#include <string.h>
#include "probe/expansion.h"

#define USUAL_CPU_PATH "/machine/unattached/device[0]"

static json_object *
qom_get_arguments (const char *path, const char *property)
{
  json_object *arguments = json_object_new_object ();

  json_object_object_add (arguments, "path", json_object_new_string (path));
  json_object_object_add (arguments, "property", json_object_new_string (property));
  return arguments;
}

static guint64
send_qom_get (QmpSession *session, const char *path, const char *property, GError **error)
{
  g_autoptr (ProbeJson) arguments = qom_get_arguments (path, property);

  return qmp_session_send (session, "qom-get", arguments, error);
}

/* The path member of the first CPU of a query-cpus(-fast) reply, or NULL. Borrowed. */
static const char *
first_cpu_path (json_object *cpus, const char *member)
{
  json_object *first, *path;

  if (cpus == NULL || !json_object_is_type (cpus, json_type_array)
      || json_object_array_length (cpus) == 0)
    return NULL;
  first = json_object_array_get_idx (cpus, 0);
  if (!json_object_object_get_ex (first, member, &path)
      || !json_object_is_type (path, json_type_string))
    return NULL;
  return json_object_get_string (path);
}

char *
probe_post_start_cpu_in_list (json_object *children)
{
  if (children == NULL || !json_object_is_type (children, json_type_array))
    return NULL;
  for (size_t i = 0; i < json_object_array_length (children); i++)
    {
      json_object *child = json_object_array_get_idx (children, i);
      json_object *name, *type;
      const char *type_name;

      if (!json_object_object_get_ex (child, "name", &name)
          || !json_object_object_get_ex (child, "type", &type))
        continue;
      type_name = json_object_get_string (type);
      if (g_str_has_prefix (type_name, "child<") && g_str_has_suffix (type_name, "cpu>"))
        return g_strdup_printf ("/machine/unattached/%s", json_object_get_string (name));
    }
  return NULL;
}

/* The feature called by the name at @start, which ends at the first of @stops. */
static gboolean
add_feature_named (const char *start, const char *stops, X86FeatureSet *refused)
{
  g_autofree char *name = g_strndup (start, strcspn (start, stops));
  const X86Feature *feature = x86_feature_lookup_property (name);

  if (feature == NULL)
    return FALSE;
  x86_feature_set_add (refused, feature);
  return TRUE;
}

gboolean
probe_post_start_refused_features (const char *message, X86FeatureSet *refused)
{
  static const char property[] = "Property '";
  static const char *const word_patterns[] = { "CPU feature ", "unrecognized feature " };
  gboolean found = FALSE;

  for (const char *at = strstr (message, property); at != NULL; at = strstr (at + 1, property))
    {
      const char *quoted = at + strlen (property);
      const char *end = strchr (quoted, '\'');
      const char *dot = memchr (quoted, '.', end != NULL ? (size_t) (end - quoted) : 0);

      /* "TYPE.name": the type names of x86 CPU models hold no dot, names may (sse4.1). */
      if (end != NULL && dot != NULL && g_str_has_prefix (end, "' not found"))
        found |= add_feature_named (dot + 1, "'", refused);
    }
  for (guint i = 0; i < G_N_ELEMENTS (word_patterns); i++)
    for (const char *at = strstr (message, word_patterns[i]); at != NULL;
         at = strstr (at + 1, word_patterns[i]))
      /* The stderr tail is one line of " / "-joined lines inside "(stderr: ...)". */
      found |= add_feature_named (at + strlen (word_patterns[i]), " )/", refused);
  return found;
}

/* The two words of one CPU, as QEMU answered. */
typedef struct {
  json_object *feature_words;       /* owned, NULL when the qom-get failed */
  json_object *filtered_features;   /* owned, NULL when absent or failed */
  GError *feature_words_error;
} CpuWords;

static void
cpu_words_clear (CpuWords *words)
{
  g_clear_pointer (&words->feature_words, json_object_put);
  g_clear_pointer (&words->filtered_features, json_object_put);
  g_clear_error (&words->feature_words_error);
}

static gboolean
send_words (QmpSession *session, const char *path, guint64 ids[2], GError **error)
{
  return (ids[0] = send_qom_get (session, path, "feature-words", error)) != 0
         && (ids[1] = send_qom_get (session, path, "filtered-features", error)) != 0;
}

/* Collects the replies to send_words(). A missing filtered-features is no error: only
 * a failed wait (timeout, QEMU gone) is. */
static gboolean
collect_words (QmpSession *session, const guint64 ids[2], CpuWords *words, gint64 deadline_us,
               GError **error)
{
  g_autoptr (GError) filtered_error = NULL;

  words->feature_words = qmp_session_wait (session, ids[0], deadline_us,
                                           &words->feature_words_error);
  if (words->feature_words == NULL
      && !g_error_matches (words->feature_words_error, QMP_ERROR, QMP_ERROR_COMMAND))
    {
      g_propagate_error (error, g_steal_pointer (&words->feature_words_error));
      return FALSE;
    }
  words->filtered_features = qmp_session_wait (session, ids[1], deadline_us, &filtered_error);
  if (words->filtered_features == NULL
      && !g_error_matches (filtered_error, QMP_ERROR, QMP_ERROR_COMMAND))
    {
      g_propagate_error (error, g_steal_pointer (&filtered_error));
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_words_at (QmpSession *session, const char *path, CpuWords *words, gint64 deadline_us,
               GError **error)
{
  guint64 ids[2];

  cpu_words_clear (words);
  return send_words (session, path, ids, error)
         && collect_words (session, ids, words, deadline_us, error);
}

/* Where the first CPU is, when query-cpus(-fast) did not say: a qom-list away. */
static char *
find_cpu_by_listing (QmpSession *session, gint64 deadline_us, GError **error)
{
  g_autoptr (ProbeJson) arguments = json_object_new_object ();
  g_autoptr (ProbeJson) children = NULL;
  g_autoptr (GError) list_error = NULL;
  char *path;

  json_object_object_add (arguments, "path", json_object_new_string ("/machine/unattached"));
  children = qmp_session_execute (session, "qom-list", arguments, deadline_us, &list_error);
  if (children == NULL && !g_error_matches (list_error, QMP_ERROR, QMP_ERROR_COMMAND))
    {
      g_propagate_error (error, g_steal_pointer (&list_error));
      return NULL;
    }
  path = probe_post_start_cpu_in_list (children);
  return path != NULL ? path : g_strdup (USUAL_CPU_PATH);
}

typedef struct {
  guint64 cpus_fast, cpus, definitions, supported, machines;
  guint64 usual_words[2];
} Burst;

static gboolean
send_burst (QmpSession *session, const char *accel, gboolean ask_supported, Burst *burst,
            GError **error)
{
  if ((burst->cpus_fast = qmp_session_send (session, "query-cpus-fast", NULL, error)) == 0
      || (burst->cpus = qmp_session_send (session, "query-cpus", NULL, error)) == 0
      || !send_words (session, USUAL_CPU_PATH, burst->usual_words, error)
      || (burst->machines = qmp_session_send (session, "query-machines", NULL, error)) == 0)
    return FALSE;
  if (!ask_supported)
    return TRUE;
  {
    json_object *props = json_object_new_object ();
    g_autoptr (ProbeJson) arguments = NULL;

    json_object_object_add (props, "migratable", json_object_new_boolean (FALSE));
    arguments = probe_expansion_arguments (probe_supported_model (accel), props);
    return (burst->definitions = qmp_session_send (session, "query-cpu-definitions", NULL,
                                                   error)) != 0
           && (burst->supported = qmp_session_send (session, "query-cpu-model-expansion",
                                                    arguments, error)) != 0;
  }
}

static gboolean
decode_words (const CpuWords *words, ProbeGuestCpu *cpu,
              const char *path, GError **error)
{
  X86FeatureSet filtered;

  if (words->feature_words == NULL)
    {
      g_set_error (error, PROBE_ERROR, PROBE_ERROR_NO_CPU, "CPU %s: no feature-words (%s)",
                   path, words->feature_words_error != NULL
                   ? words->feature_words_error->message : "no reply");
      return FALSE;
    }
  if (!x86_feature_set_from_feature_words (&cpu->guest, words->feature_words, NULL, error))
    return FALSE;
  if (words->filtered_features != NULL)
    {
      if (!x86_feature_set_from_feature_words (&filtered, words->filtered_features, NULL, error))
        return FALSE;
    }
  else
    {
      x86_feature_set_clear (&filtered);
      cpu->filtered_derived = TRUE;
    }
  x86_feature_set_named_only (&cpu->guest);
  x86_feature_set_named_only (&filtered);
  x86_feature_set_union (&cpu->expansion, &cpu->guest, &filtered);
  return TRUE;
}

gboolean
probe_post_start_read (QmpSession *session, const char *accel, const char *launched_machine,
                       gboolean ask_supported,
                       ProbeGuestCpu *cpu, gint64 deadline_us, GError **error)
{
  g_autoptr (ProbeJson) cpus_fast = NULL;
  g_autoptr (ProbeJson) cpus = NULL;
  g_autofree char *machines = NULL;
  g_autofree char *definitions = NULL;
  g_autoptr (ProbeJson) supported = NULL;
  g_autofree char *path = NULL;
  CpuWords words = { 0 };
  Burst burst = { 0 };
  gboolean ok = FALSE;

  if (!send_burst (session, accel, ask_supported, &burst, error))
    return FALSE;
  if (!qmp_session_wait_optional (session, burst.cpus_fast, &cpus_fast, deadline_us, error)
      || !qmp_session_wait_optional (session, burst.cpus, &cpus, deadline_us, error)
      || !collect_words (session, burst.usual_words, &words, deadline_us, error)
      || !qmp_session_wait_optional_text (session, burst.machines, &machines, deadline_us,
                                          error)
      || !qmp_session_wait_optional_text (session, burst.definitions, &definitions,
                                          deadline_us, error)
      || !qmp_session_wait_optional (session, burst.supported, &supported, deadline_us, error))
    goto out;

  path = g_strdup (first_cpu_path (cpus_fast, "qom-path"));
  if (path == NULL)
    path = g_strdup (first_cpu_path (cpus, "qom_path"));
  /* feature-words exists on x86 CPUs only, so words read at the usual path are a CPU's. */
  if (path == NULL && words.feature_words == NULL)
    {
      path = find_cpu_by_listing (session, deadline_us, error);
      if (path == NULL)
        goto out;
    }
  if (path != NULL && strcmp (path, USUAL_CPU_PATH) != 0
      && !read_words_at (session, path, &words, deadline_us, error))
    goto out;

  if (!decode_words (&words, cpu, path != NULL ? path : USUAL_CPU_PATH, error))
    goto out;
  cpu->machine = probe_machine_resolve (machines, launched_machine);
  if (definitions != NULL && (cpu->models = probe_cpu_models_parse (definitions, error)) == NULL)
    goto out;
  if (supported != NULL)
    {
      if (!probe_features_from_expansion (supported, &cpu->supported, NULL, error))
        goto out;
      cpu->supported_known = TRUE;
    }
  ok = TRUE;
out:
  cpu_words_clear (&words);
  return ok;
}
