/* probe/check-cache.c — judged definitions on disk, one small answer per key. */
#include "probe/check-cache.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/stat.h>
#include "x86/cpu-identity.h"
#include "x86/host-cpuid.h"

#define CHECK_FORMAT "vcpuprobe-check"
#define VALUE_NONE "none"

struct ProbeCheckKey {
  json_object *parts;   /* part name → string, in key order */
  char *hash;           /* lowercase hex SHA-256 of every part */
};

/* A directory's identity and last change: a package upgrade that replaces the map's
 * files renames them into place, which changes the directory's mtime and ctime. */
static char *
directory_stamp (const char *path)
{
  struct stat st;

  if (path == NULL)
    return g_strdup (VALUE_NONE);
  if (stat (path, &st) != 0)
    return g_strdup_printf ("%s: %s", path, g_strerror (errno));
  return g_strdup_printf ("%s %llu:%llu %lld.%09ld %lld.%09ld", path,
                          (unsigned long long) st.st_dev, (unsigned long long) st.st_ino,
                          (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                          (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* The revision of the CPU the key's CPUID came from: its one sysfs file where the kernel
 * has it, since /proc/cpuinfo grows with the number of CPUs (and on older kernels asks
 * each of them its clock); else /proc/cpuinfo's. */
static char *
microcode_of (int cpu)
{
  g_autofree char *path = g_strdup_printf ("/sys/devices/system/cpu/cpu%d/microcode/version", cpu);
  char *revision = NULL;

  if (cpu >= 0 && g_file_get_contents (path, &revision, NULL, NULL))
    return g_strstrip (revision);
  g_free (revision);
  return x86_host_microcode ();
}

static char *
hash_parts (json_object *parts)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

  /* NUL separators: no value can run into the next part's name */
  json_object_object_foreach (parts, name, value)
    {
      const char *text = json_object_get_string (value);

      g_checksum_update (checksum, (const guchar *) name, strlen (name) + 1);
      g_checksum_update (checksum, (const guchar *) (text != NULL ? text : ""),
                         strlen (text != NULL ? text : "") + 1);
    }
  return g_strdup (g_checksum_get_string (checksum));
}

ProbeCheckKey *
probe_check_key_new (const ProbeCheckKeyInputs *inputs, GError **error)
{
  g_autoptr (X86CpuidDump) cpuid = NULL;
  g_autoptr (ProbeCacheKey) host_key = NULL;
  g_autofree char *microcode = NULL;
  g_autofree char *cpu_map = NULL;
  ProbeCheckKey *key;
  json_object *host_parts;
  int cpu;

  g_return_val_if_fail (inputs->definition != NULL && inputs->qemu_binary != NULL, NULL);

  /* The CPU this thread runs on, without pinning a thread to it: walking every CPU costs
   * a wait for each one on a busy host, milliseconds a warm answer cannot spend. A host
   * whose CPUs differ keeps an entry per kind of CPU. */
  cpu = sched_getcpu ();
  cpuid = x86_cpuid_dump_new ();
  x86_host_cpuid_walk_current (cpuid, x86_cpuid_dump_add_cpu (cpuid, cpu >= 0 ? (guint) cpu : 0));
  microcode = microcode_of (cpu);
  {
    ProbeCacheKeyInputs host_inputs = {
      .qemu_binary = inputs->qemu_binary,
      .accel = inputs->accel != NULL ? inputs->accel : "default",
      .machine = inputs->machine != NULL ? inputs->machine : "default",
      .cpuid = cpuid,
      .microcode = microcode,
    };

    host_key = probe_cache_key_new (&host_inputs, error);
  }
  if (host_key == NULL)
    return NULL;

  key = g_new0 (ProbeCheckKey, 1);
  key->parts = json_object_new_object ();
  host_parts = probe_cache_key_to_json (host_key);
  json_object_object_foreach (host_parts, name, value)
    {
      /* The binary's inode, size and times identify its version without running it. */
      if (strcmp (name, "qemu-version") != 0)
        json_object_object_add (key->parts, name, json_object_get (value));
    }
  json_object_put (host_parts);
  cpu_map = directory_stamp (inputs->cpu_map);
  json_object_object_add (key->parts, "definition", json_object_new_string (inputs->definition));
  json_object_object_add (key->parts, "settings",
                          json_object_new_string (inputs->settings != NULL ? inputs->settings
                                                                           : ""));
  json_object_object_add (key->parts, "cpu-map", json_object_new_string (cpu_map));
  key->hash = hash_parts (key->parts);
  return key;
}

void
probe_check_key_free (ProbeCheckKey *key)
{
  if (key == NULL)
    return;
  json_object_put (key->parts);
  g_free (key->hash);
  g_free (key);
}

json_object *
probe_check_key_parts (const ProbeCheckKey *key)
{
  return key->parts;
}

static void
add_optional (json_object *object, const char *name, const char *value)
{
  json_object_object_add (object, name, value != NULL ? json_object_new_string (value) : NULL);
}

char *
probe_check_definition_text (const CpuDef *def)
{
  json_object *json = cpu_def_to_json (def);
  char *text;

  add_optional (json, "domain_accel", def->domain_accel);
  add_optional (json, "domain_machine", def->domain_machine);
  add_optional (json, "domain_emulator", def->domain_emulator);
  text = g_strdup (json_object_to_json_string_ext (json, JSON_C_TO_STRING_PLAIN));
  json_object_put (json);
  return text;
}

char *
probe_check_cache_entry_path (ProbeCache *cache, const ProbeCheckKey *key)
{
  g_autofree char *name = g_strconcat ("check-", key->hash, ".json", NULL);

  return g_build_filename (probe_cache_directory (cache), name, NULL);
}

/* Every part of @key, and no other, stored with the same value. */
static gboolean
stored_key_matches (const ProbeCheckKey *key, json_object *stored)
{
  if (json_object_object_length (stored) != json_object_object_length (key->parts))
    return FALSE;
  json_object_object_foreach (key->parts, name, value)
    {
      json_object *stored_value;

      if (!json_object_object_get_ex (stored, name, &stored_value)
          || !json_object_is_type (stored_value, json_type_string)
          || g_strcmp0 (json_object_get_string (stored_value), json_object_get_string (value)) != 0)
        return FALSE;
    }
  return TRUE;
}

json_object *
probe_check_cache_lookup (ProbeCache *cache, const ProbeCheckKey *key, char **miss_reason)
{
  g_autofree char *path = probe_check_cache_entry_path (cache, key);
  g_autofree char *problem = NULL;
  g_autofree char *reason = NULL;
  json_object *entry = probe_cache_read_document (path, CHECK_FORMAT, &problem);
  json_object *stored_key = NULL;
  json_object *answer = NULL;

  if (entry == NULL)
    reason = problem != NULL ? g_strdup_printf ("entry %s is corrupt: %s", path, problem)
                             : g_strdup ("no entry");
  else
    {
      json_object_object_get_ex (entry, "key", &stored_key);
      if (!stored_key_matches (key, stored_key))
        reason = g_strdup_printf ("entry %s holds another key", path);
      else if (!json_object_object_get_ex (entry, "answer", &answer)
               || !json_object_is_type (answer, json_type_object))
        reason = g_strdup_printf ("entry %s has no answer object", path);
      else
        json_object_get (answer);
      json_object_put (entry);
    }
  if (reason == NULL)
    return answer;
  if (miss_reason != NULL)
    *miss_reason = g_steal_pointer (&reason);
  return NULL;
}

gboolean
probe_check_cache_store (ProbeCache *cache, const ProbeCheckKey *key, json_object *answer,
                         GError **error)
{
  g_autofree char *name = g_strconcat ("check-", key->hash, ".json", NULL);
  json_object *document = probe_cache_document_new (CHECK_FORMAT, json_object_get (key->parts));
  gboolean written;

  json_object_object_add (document, "answer", json_object_get (answer));
  written = probe_cache_write_document (cache, name, document, error);
  json_object_put (document);
  return written;
}
