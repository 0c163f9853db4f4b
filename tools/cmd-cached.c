/* tools/cmd-cached.c — `vcpuprobe cached models|machines`: the CPU model or machine type
 * names the probe cache (probe/cache.h) holds for one QEMU binary, one a line, sorted.
 *
 * Shell completion runs this on every Tab, so it starts no QEMU and reads no CPUID: it
 * only reads the cache's entry files. An entry counts when it was written for the binary
 * that --qemu names (default: qemu-system-x86_64 on PATH) as that binary is now (same
 * path, inode, size, mtime and ctime: a replaced QEMU's names are not offered), and, with
 * --accel, under that accelerator. Nothing cached yet is no error: nothing is printed. */
#include <string.h>
#include "probe/cache.h"
#include "qmp/source.h"
#include "tools/commands.h"
#include "tools/output-text.h"

/* probe/cache.c's name for an entry document; the pointer and check documents beside the
 * entries have other names and hold no facts. */
#define CACHE_ENTRY_FORMAT "vcpuprobe-cache"

/* The key parts that say which QEMU binary answered (probe/cache.h). */
static const char *const binary_parts[] = {
  "qemu-binary", "qemu-inode", "qemu-size", "qemu-mtime", "qemu-ctime",
};

/* The cache's own key of @binary as it is now; only its binary parts are read. */
static ProbeCacheKey *
binary_identity (const char *binary, GError **error)
{
  g_autoptr (X86CpuidDump) no_cpus = x86_cpuid_dump_new ();
  ProbeCacheKeyInputs inputs = {
    .qemu_binary = binary,
    .accel = "",
    .machine = "",
    .cpuid = no_cpus,
  };

  return probe_cache_key_new (&inputs, error);
}

static const char *
stored_part (json_object *stored_key, const char *part)
{
  json_object *value = NULL;

  if (!json_object_object_get_ex (stored_key, part, &value))
    return NULL;
  return json_object_get_string (value);
}

static gboolean
entry_matches (json_object *stored_key, const ProbeCacheKey *identity, const char *accel)
{
  for (guint i = 0; i < G_N_ELEMENTS (binary_parts); i++)
    if (g_strcmp0 (stored_part (stored_key, binary_parts[i]),
                   probe_cache_key_get (identity, binary_parts[i])) != 0)
      return FALSE;
  return accel == NULL || g_strcmp0 (stored_part (stored_key, "accel"), accel) == 0;
}

/* The facts' models are compact arrays whose first member is the model's name. */
static void
add_model_names (GHashTable *names, json_object *facts)
{
  json_object *models = NULL;
  json_object *list = NULL;

  if (!json_object_object_get_ex (facts, "models", &models)
      || !json_object_object_get_ex (models, "list", &list)
      || !json_object_is_type (list, json_type_array))
    return;
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *model = json_object_array_get_idx (list, i);
      json_object *name = json_object_array_get_idx (model, 0);

      if (json_object_is_type (model, json_type_array) && json_object_is_type (name, json_type_string))
        g_hash_table_add (names, g_strdup (json_object_get_string (name)));
    }
}

/* The facts keep machine types and aliases as one string, "pc-q35-7.2 q35 ...". */
static void
add_machine_names (GHashTable *names, json_object *facts)
{
  json_object *machines = NULL;
  g_auto (GStrv) words = NULL;

  if (!json_object_object_get_ex (facts, "machines", &machines)
      || !json_object_is_type (machines, json_type_string))
    return;
  words = g_strsplit (json_object_get_string (machines), " ", -1);
  for (guint i = 0; words[i] != NULL; i++)
    if (*words[i] != '\0')
      g_hash_table_add (names, g_strdup (words[i]));
}

static gboolean
is_entry_name (const char *file_name)
{
  /* An entry is named by its key's SHA-256: 64 hex digits and ".json". */
  if (strlen (file_name) != 64 + strlen (".json") || !g_str_has_suffix (file_name, ".json"))
    return FALSE;
  for (guint i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (file_name[i]))
      return FALSE;
  return TRUE;
}

static void
collect_names (const char *directory, const ProbeCacheKey *identity, const char *accel,
               gboolean machines, GHashTable *names)
{
  g_autoptr (GDir) dir = g_dir_open (directory, 0, NULL);
  const char *file_name;

  /* No cache directory yet: nothing was probed, nothing to list. */
  if (dir == NULL)
    return;
  while ((file_name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *problem = NULL;
      json_object *entry;
      json_object *key = NULL;
      json_object *facts = NULL;

      if (!is_entry_name (file_name))
        continue;
      path = g_build_filename (directory, file_name, NULL);
      /* A damaged or foreign file is skipped, as a lookup would skip it. */
      entry = probe_cache_read_document (path, CACHE_ENTRY_FORMAT, &problem);
      if (entry == NULL)
        continue;
      if (json_object_object_get_ex (entry, "key", &key)
          && json_object_object_get_ex (entry, "result", &facts)
          && entry_matches (key, identity, accel))
        {
          if (machines)
            add_machine_names (names, facts);
          else
            add_model_names (names, facts);
        }
      json_object_put (entry);
    }
}

static int
run_cached (const CliOptions *options, GError **error)
{
  const char *kind = g_ptr_array_index (options->args, 0);
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (ProbeCache) cache = probe_cache_new (NULL);
  g_autoptr (ProbeCacheKey) identity = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  g_autoptr (QmpSource) qemu = NULL;
  g_autoptr (GError) missing = NULL;
  GList *sorted;

  if (strcmp (kind, "models") != 0 && strcmp (kind, "machines") != 0)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "%s: expected models|machines", kind);
      return -1;
    }
  if (options->socket != NULL || options->replay != NULL)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "%s: cached lists what a QEMU binary (--qemu) answered, not a socket or "
                   "recording", options->socket != NULL ? "--socket" : "--replay");
      return -1;
    }
  /* Found as a probe finds it (a missing binary is the same error), and named as the
   * probe names it in the keys it stores. Nothing is started. */
  qemu = qmp_source_new_launch (options->qemu, &missing);
  if (qemu == NULL)
    {
      /* As for every command: a --qemu that names no executable is the user's input
       * (exit 2); a QEMU missing from PATH is not. */
      if (options->qemu != NULL)
        g_set_error_literal (error, CLI_ERROR, CLI_ERROR_INPUT, missing->message);
      else
        g_propagate_error (error, g_steal_pointer (&missing));
      return -1;
    }
  identity = binary_identity (qmp_source_describe (qemu), error);
  if (identity == NULL)
    return -1;

  collect_names (probe_cache_directory (cache), identity, options->accel,
                 strcmp (kind, "machines") == 0, names);
  sorted = g_list_sort (g_hash_table_get_keys (names), (GCompareFunc) g_strcmp0);
  for (GList *name = sorted; name != NULL; name = name->next)
    g_string_append_printf (out, "%s\n", (const char *) name->data);
  g_list_free (sorted);
  return cli_output_print (out->str, error) ? CLI_EXIT_OK : -1;
}

static const char *const cached_args[] = { "models|machines", NULL };

const CliCommand cli_command_cached = {
  .name = "cached",
  .arg_names = cached_args,
  .min_args = 1,
  .max_args = 1,
  .options = NULL,
  .run = run_cached,
};
