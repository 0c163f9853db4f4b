/* probe/cache.c — probe results on disk, one file per key, trusted only for that key. */
#include "probe/cache.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "qmp/launch.h"

#define CACHE_FORMAT "vcpuprobe-cache"
#define POINTER_FORMAT "vcpuprobe-cache-pointer"
#define CACHE_FORMAT_VERSION 1
#define VALUE_UNKNOWN "unknown"
#define VALUE_ABSENT "absent"

G_DEFINE_QUARK (probe-cache-error-quark, probe_cache_error)

typedef enum {
  PART_QEMU_BINARY,
  PART_QEMU_INODE,
  PART_QEMU_SIZE,
  PART_QEMU_MTIME,
  PART_QEMU_CTIME,
  PART_QEMU_VERSION,
  PART_ACCEL,
  PART_MACHINE,
  PART_KERNEL_RELEASE,
  PART_KVM_DEVICE,
  PART_KVM_RDEV,
  PART_KVM_CTIME,
  PART_CPUID_SIGNATURE,
  PART_MICROCODE,
  PART_PROGRAM_VERSION,
  N_PARTS
} KeyPart;

static const char *const part_names[N_PARTS] = {
  [PART_QEMU_BINARY] = "qemu-binary",
  [PART_QEMU_INODE] = "qemu-inode",
  [PART_QEMU_SIZE] = "qemu-size",
  [PART_QEMU_MTIME] = "qemu-mtime",
  [PART_QEMU_CTIME] = "qemu-ctime",
  [PART_QEMU_VERSION] = "qemu-version",
  [PART_ACCEL] = "accel",
  [PART_MACHINE] = "machine",
  [PART_KERNEL_RELEASE] = "kernel-release",
  [PART_KVM_DEVICE] = "kvm-device",
  [PART_KVM_RDEV] = "kvm-rdev",
  [PART_KVM_CTIME] = "kvm-ctime",
  [PART_CPUID_SIGNATURE] = "cpuid-signature",
  [PART_MICROCODE] = "microcode",
  [PART_PROGRAM_VERSION] = "vcpuprobe-version",
};

struct ProbeCacheKey {
  char *values[N_PARTS];   /* values[PART_QEMU_VERSION] is NULL until a QEMU told it */
};

struct ProbeCache {
  char *directory;
};

static char *
format_time (const struct timespec *time)
{
  return g_strdup_printf ("%lld.%09ld", (long long) time->tv_sec, time->tv_nsec);
}

static gboolean
set_binary_parts (ProbeCacheKey *key, const char *binary, GError **error)
{
  struct stat st;

  if (stat (binary, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, PROBE_CACHE_ERROR, PROBE_CACHE_ERROR_BINARY, "%s: %s", binary,
                   g_strerror (saved_errno));
      return FALSE;
    }
  key->values[PART_QEMU_BINARY] = g_strdup (binary);
  key->values[PART_QEMU_INODE] = g_strdup_printf ("%llu:%llu", (unsigned long long) st.st_dev,
                                                  (unsigned long long) st.st_ino);
  key->values[PART_QEMU_SIZE] = g_strdup_printf ("%lld", (long long) st.st_size);
  key->values[PART_QEMU_MTIME] = format_time (&st.st_mtim);
  key->values[PART_QEMU_CTIME] = format_time (&st.st_ctim);
  return TRUE;
}

/* Whether the device opens matters as much as whether it exists: it decides the default
 * accelerator and whether a kvm probe can run at all. */
static void
set_kvm_parts (ProbeCacheKey *key, const char *device)
{
  struct stat st;

  if (stat (device, &st) != 0)
    {
      const char *value = errno == ENOENT ? VALUE_ABSENT : VALUE_UNKNOWN;

      key->values[PART_KVM_DEVICE] = g_strdup (value);
      key->values[PART_KVM_RDEV] = g_strdup (value);
      key->values[PART_KVM_CTIME] = g_strdup (value);
      return;
    }
  key->values[PART_KVM_DEVICE] = g_strdup (access (device, R_OK | W_OK) == 0
                                           ? "read-write" : "not accessible");
  key->values[PART_KVM_RDEV] = g_strdup_printf ("%u:%u", major (st.st_rdev), minor (st.st_rdev));
  key->values[PART_KVM_CTIME] = format_time (&st.st_ctim);
}

static char *
this_kernel_release (void)
{
  struct utsname names;

  if (uname (&names) != 0)
    return g_strdup (VALUE_UNKNOWN);
  return g_strdup (names.release);
}

static char *
digest_leaves (GArray *leaves)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

  for (guint i = 0; i < leaves->len; i++)
    {
      const X86CpuidLeaf *leaf = &g_array_index (leaves, X86CpuidLeaf, i);
      guint32 words[6] = { leaf->leaf, leaf->subleaf, leaf->eax, leaf->ebx, leaf->ecx, leaf->edx };

      for (guint w = 0; w < G_N_ELEMENTS (words); w++)
        {
          guint32 little = GUINT32_TO_LE (words[w]);

          g_checksum_update (checksum, (const guchar *) &little, sizeof little);
        }
    }
  return g_strdup (g_checksum_get_string (checksum));
}

static int
compare_digests (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
probe_cache_cpuid_signature (const X86CpuidDump *dump)
{
  g_autoptr (GPtrArray) kinds = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint n_cpus = x86_cpuid_dump_n_cpus (dump);

  for (guint cpu = 0; cpu < n_cpus; cpu++)
    {
      g_autoptr (GArray) masked = x86_cpuid_dump_masked_leaves (dump, cpu);
      g_autofree char *digest = digest_leaves (masked);

      if (!g_ptr_array_find_with_equal_func (kinds, digest, g_str_equal, NULL))
        g_ptr_array_add (kinds, g_steal_pointer (&digest));
    }
  g_ptr_array_sort (kinds, compare_digests);
  for (guint i = 0; i < kinds->len; i++)
    g_checksum_update (checksum, (const guchar *) kinds->pdata[i], strlen (kinds->pdata[i]) + 1);
  return g_strdup (g_checksum_get_string (checksum));
}

/* Our version and the identity of this very binary: a rebuilt vcpuprobe of the same
 * version may print or decide otherwise, so what an older build kept is not served. */
static char *
this_program_version (void)
{
  struct stat self;

  if (stat ("/proc/self/exe", &self) != 0)
    return g_strdup (VCPUPROBE_VERSION);
  return g_strdup_printf ("%s (build %lu:%lld:%lld.%09ld)", VCPUPROBE_VERSION,
                          (unsigned long) self.st_ino, (long long) self.st_size,
                          (long long) self.st_mtim.tv_sec, (long) self.st_mtim.tv_nsec);
}

ProbeCacheKey *
probe_cache_key_new (const ProbeCacheKeyInputs *inputs, GError **error)
{
  g_autoptr (ProbeCacheKey) key = g_new0 (ProbeCacheKey, 1);

  g_return_val_if_fail (inputs->qemu_binary != NULL && inputs->accel != NULL
                        && inputs->machine != NULL && inputs->cpuid != NULL, NULL);

  if (!set_binary_parts (key, inputs->qemu_binary, error))
    return NULL;
  key->values[PART_QEMU_VERSION] = g_strdup (inputs->qemu_version);
  key->values[PART_ACCEL] = g_strdup (inputs->accel);
  key->values[PART_MACHINE] = g_strdup (inputs->machine);
  key->values[PART_KERNEL_RELEASE] = inputs->kernel_release != NULL
                                     ? g_strdup (inputs->kernel_release)
                                     : this_kernel_release ();
  set_kvm_parts (key, inputs->kvm_device != NULL ? inputs->kvm_device : "/dev/kvm");
  key->values[PART_CPUID_SIGNATURE] = probe_cache_cpuid_signature (inputs->cpuid);
  key->values[PART_MICROCODE] = g_strdup (inputs->microcode != NULL ? inputs->microcode
                                                                    : VALUE_UNKNOWN);
  key->values[PART_PROGRAM_VERSION] = inputs->program_version != NULL
                                      ? g_strdup (inputs->program_version)
                                      : this_program_version ();
  return g_steal_pointer (&key);
}

void
probe_cache_key_free (ProbeCacheKey *key)
{
  if (key == NULL)
    return;
  for (guint i = 0; i < N_PARTS; i++)
    g_free (key->values[i]);
  g_free (key);
}

const char *
probe_cache_key_get (const ProbeCacheKey *key, const char *part)
{
  for (guint i = 0; i < N_PARTS; i++)
    if (strcmp (part_names[i], part) == 0)
      return key->values[i];
  return NULL;
}

void
probe_cache_key_set_qemu_version (ProbeCacheKey *key, const char *version)
{
  g_free (key->values[PART_QEMU_VERSION]);
  key->values[PART_QEMU_VERSION] = g_strdup (version);
}

char *
probe_cache_key_hash (const ProbeCacheKey *key)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);

  /* NUL separators: no value can run into the next part's name */
  for (guint i = 0; i < N_PARTS; i++)
    {
      const char *value = key->values[i] != NULL ? key->values[i] : "";

      g_checksum_update (checksum, (const guchar *) part_names[i], strlen (part_names[i]) + 1);
      g_checksum_update (checksum, (const guchar *) value, strlen (value) + 1);
    }
  return g_strdup (g_checksum_get_string (checksum));
}

json_object *
probe_cache_key_to_json (const ProbeCacheKey *key)
{
  json_object *parts = json_object_new_object ();

  for (guint i = 0; i < N_PARTS; i++)
    json_object_object_add (parts, part_names[i],
                            key->values[i] != NULL ? json_object_new_string (key->values[i])
                                                   : NULL);
  return parts;
}

char *
probe_cache_default_directory (void)
{
  const char *xdg = g_getenv ("XDG_CACHE_HOME");

  if (xdg != NULL && *xdg != '\0')
    return g_build_filename (xdg, "vcpuprobe", NULL);
  if (geteuid () == 0)
    return g_strdup ("/var/cache/vcpuprobe");
  return g_build_filename (g_get_home_dir (), ".cache", "vcpuprobe", NULL);
}

ProbeCache *
probe_cache_new (const char *directory)
{
  ProbeCache *cache = g_new0 (ProbeCache, 1);

  cache->directory = directory != NULL ? g_strdup (directory) : probe_cache_default_directory ();
  return cache;
}

void
probe_cache_free (ProbeCache *cache)
{
  if (cache == NULL)
    return;
  g_free (cache->directory);
  g_free (cache);
}

const char *
probe_cache_directory (ProbeCache *cache)
{
  return cache->directory;
}

char *
probe_cache_entry_path (ProbeCache *cache, const ProbeCacheKey *key)
{
  g_autofree char *hash = probe_cache_key_hash (key);
  g_autofree char *name = g_strconcat (hash, ".json", NULL);

  return g_build_filename (cache->directory, name, NULL);
}

/* One pointer per (binary, accelerator, machine): the question a user asks again. */
static char *
pointer_path (ProbeCache *cache, const ProbeCacheKey *key)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *name = NULL;
  const KeyPart identity[] = { PART_QEMU_BINARY, PART_ACCEL, PART_MACHINE };

  for (guint i = 0; i < G_N_ELEMENTS (identity); i++)
    g_checksum_update (checksum, (const guchar *) key->values[identity[i]],
                       strlen (key->values[identity[i]]) + 1);
  name = g_strconcat ("last-", g_checksum_get_string (checksum), ".json", NULL);
  return g_build_filename (cache->directory, name, NULL);
}

/* The document in @path when it is one whole JSON object of @format at our format
 * version; the caller owns the reference. Otherwise NULL and *@problem says why
 * (NULL problem with NULL result: the file does not exist). */
static json_object *
read_document (const char *path, const char *format, char **problem)
{
  g_autofree char *text = NULL;
  g_autoptr (GError) local_error = NULL;
  json_tokener *tokener;
  json_object *document;
  json_object *member;
  gsize length;
  enum json_tokener_error parse_error;
  size_t parsed;

  *problem = NULL;
  if (!g_file_get_contents (path, &text, &length, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        *problem = g_strdup (local_error->message);
      return NULL;
    }

  tokener = json_tokener_new ();
  document = json_tokener_parse_ex (tokener, text, (int) length);
  parse_error = json_tokener_get_error (tokener);
  parsed = json_tokener_get_parse_end (tokener);
  json_tokener_free (tokener);
  if (document == NULL || parse_error != json_tokener_success)
    {
      json_object_put (document);
      *problem = g_strdup_printf ("not JSON (%s)", parse_error != json_tokener_success
                                  ? json_tokener_error_desc (parse_error) : "truncated");
      return NULL;
    }
  while (parsed < length && g_ascii_isspace (text[parsed]))
    parsed++;
  if (parsed != length)
    *problem = g_strdup ("text after the JSON document");
  else if (!json_object_is_type (document, json_type_object)
           || !json_object_object_get_ex (document, "format", &member)
           || g_strcmp0 (json_object_get_string (member), format) != 0)
    *problem = g_strdup_printf ("not a %s document", format);
  else if (!json_object_object_get_ex (document, "version", &member)
           || !json_object_is_type (member, json_type_int)
           || json_object_get_int (member) != CACHE_FORMAT_VERSION)
    *problem = g_strdup_printf ("format version is not %d", CACHE_FORMAT_VERSION);
  else if (!json_object_object_get_ex (document, "key", &member)
           || !json_object_is_type (member, json_type_object))
    *problem = g_strdup ("no key");
  if (*problem != NULL)
    {
      json_object_put (document);
      return NULL;
    }
  return document;
}

/* The stored value of @part in @stored_key, or NULL when absent or not a string. */
static const char *
stored_part (json_object *stored_key, KeyPart part)
{
  json_object *value;

  if (!json_object_object_get_ex (stored_key, part_names[part], &value)
      || !json_object_is_type (value, json_type_string))
    return NULL;
  return json_object_get_string (value);
}

/* "qemu-mtime changed (A -> B), microcode changed (C -> D)" for the parts of @key that
 * differ from @stored_key, skipping @ignored; NULL when none do. */
static char *
describe_changes (const ProbeCacheKey *key, json_object *stored_key, int ignored)
{
  g_autoptr (GString) changes = g_string_new (NULL);

  for (guint i = 0; i < N_PARTS; i++)
    {
      const char *before = stored_part (stored_key, i);

      if ((int) i == ignored || g_strcmp0 (before, key->values[i]) == 0)
        continue;
      if (changes->len > 0)
        g_string_append (changes, ", ");
      g_string_append_printf (changes, "%s changed (%s -> %s)", part_names[i],
                              before != NULL ? before : "none",
                              key->values[i] != NULL ? key->values[i] : "none");
    }
  if (changes->len == 0)
    return NULL;
  return g_string_free (g_steal_pointer (&changes), FALSE);
}

static gboolean
stored_key_matches (const ProbeCacheKey *key, json_object *stored_key)
{
  g_autofree char *changes = NULL;

  if (json_object_object_length (stored_key) != N_PARTS)
    return FALSE;
  changes = describe_changes (key, stored_key, -1);
  return changes == NULL;
}

/* Why there is no entry for @key: what changed since the last key stored for the same
 * binary, accelerator and machine, when the pointer file knows. */
static char *
explain_absence (ProbeCache *cache, const ProbeCacheKey *key)
{
  g_autofree char *path = pointer_path (cache, key);
  g_autofree char *problem = NULL;
  g_autofree char *changes = NULL;
  json_object *pointer = read_document (path, POINTER_FORMAT, &problem);
  json_object *stored_key;

  if (pointer == NULL)
    return g_strdup ("no entry for this QEMU, accelerator and machine");
  json_object_object_get_ex (pointer, "key", &stored_key);
  changes = describe_changes (key, stored_key, -1);
  json_object_put (pointer);
  if (changes == NULL)
    return g_strdup ("no entry (the last one was removed)");
  return g_steal_pointer (&changes);
}

/* Takes the QEMU version from the pointer file when nothing else about the binary changed. */
static gboolean
adopt_qemu_version (ProbeCache *cache, ProbeCacheKey *key, char **miss_reason)
{
  g_autofree char *path = pointer_path (cache, key);
  g_autofree char *problem = NULL;
  g_autofree char *changes = NULL;
  json_object *pointer = read_document (path, POINTER_FORMAT, &problem);
  json_object *stored_key;
  const char *version;

  if (pointer == NULL)
    {
      *miss_reason = problem != NULL
                     ? g_strdup_printf ("pointer %s is unusable: %s", path, problem)
                     : g_strdup ("no entry for this QEMU, accelerator and machine");
      return FALSE;
    }
  json_object_object_get_ex (pointer, "key", &stored_key);
  changes = describe_changes (key, stored_key, PART_QEMU_VERSION);
  version = stored_part (stored_key, PART_QEMU_VERSION);
  if (changes == NULL && version != NULL)
    probe_cache_key_set_qemu_version (key, version);
  else
    *miss_reason = changes != NULL ? g_steal_pointer (&changes)
                                   : g_strdup_printf ("pointer %s has no QEMU version", path);
  json_object_put (pointer);
  return *miss_reason == NULL;
}

json_object *
probe_cache_lookup (ProbeCache *cache, ProbeCacheKey *key, char **miss_reason)
{
  g_autofree char *reason = NULL;
  g_autofree char *path = NULL;
  g_autofree char *problem = NULL;
  json_object *entry;
  json_object *stored_key;
  json_object *result = NULL;

  if (key->values[PART_QEMU_VERSION] == NULL && !adopt_qemu_version (cache, key, &reason))
    goto miss;

  path = probe_cache_entry_path (cache, key);
  entry = read_document (path, CACHE_FORMAT, &problem);
  if (entry == NULL)
    {
      reason = problem != NULL ? g_strdup_printf ("entry %s is corrupt: %s", path, problem)
                               : explain_absence (cache, key);
      goto miss;
    }
  json_object_object_get_ex (entry, "key", &stored_key);
  if (!stored_key_matches (key, stored_key))
    reason = g_strdup_printf ("entry %s holds another key", path);
  else if (!json_object_object_get_ex (entry, "result", &result)
           || !json_object_is_type (result, json_type_object))
    reason = g_strdup_printf ("entry %s has no result object", path);
  else
    json_object_get (result);
  json_object_put (entry);
  if (reason == NULL)
    return result;

miss:
  if (miss_reason != NULL)
    *miss_reason = g_steal_pointer (&reason);
  return NULL;
}

gboolean
probe_cache_replace_file (const char *path, const char *text, GError **error)
{
  gboolean written;

  /* g_file_set_contents writes a unique temporary file beside @path and renames it over
   * @path, so concurrent writers never interleave and readers never see half a file; the
   * signal cleanup would stop the program between the two and leave the temporary. */
  qemu_launch_hold_signal_cleanup ();
  written = g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                      error);
  qemu_launch_release_signal_cleanup ();
  return written;
}

static gboolean
write_document (const char *path, json_object *document, GError **error)
{
  const char *text = json_object_to_json_string_ext (document, JSON_C_TO_STRING_PLAIN);
  g_autoptr (GError) local_error = NULL;

  if (!probe_cache_replace_file (path, text, &local_error))
    {
      g_set_error (error, PROBE_CACHE_ERROR, PROBE_CACHE_ERROR_WRITE, "%s",
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static json_object *
new_document (const char *format, const ProbeCacheKey *key)
{
  return probe_cache_document_new (format, probe_cache_key_to_json (key));
}

gboolean
probe_cache_store (ProbeCache *cache, const ProbeCacheKey *key, json_object *result,
                   GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *pointer = NULL;
  json_object *entry;
  json_object *pointer_document;
  gboolean written;

  g_return_val_if_fail (key->values[PART_QEMU_VERSION] != NULL, FALSE);

  if (g_mkdir_with_parents (cache->directory, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, PROBE_CACHE_ERROR, PROBE_CACHE_ERROR_WRITE, "%s: %s",
                   cache->directory, g_strerror (saved_errno));
      return FALSE;
    }

  path = probe_cache_entry_path (cache, key);
  entry = new_document (CACHE_FORMAT, key);
  json_object_object_add (entry, "result", json_object_get (result));
  written = write_document (path, entry, error);
  json_object_put (entry);
  if (!written)
    return FALSE;

  pointer = pointer_path (cache, key);
  pointer_document = new_document (POINTER_FORMAT, key);
  written = write_document (pointer, pointer_document, error);
  json_object_put (pointer_document);
  return written;
}

json_object *
probe_cache_read_document (const char *path, const char *format, char **problem)
{
  return read_document (path, format, problem);
}

json_object *
probe_cache_document_new (const char *format, json_object *key)
{
  json_object *document = json_object_new_object ();

  json_object_object_add (document, "format", json_object_new_string (format));
  json_object_object_add (document, "version", json_object_new_int (CACHE_FORMAT_VERSION));
  json_object_object_add (document, "key", key);
  return document;
}

gboolean
probe_cache_write_document (ProbeCache *cache, const char *name, json_object *document,
                            GError **error)
{
  g_autofree char *path = g_build_filename (cache->directory, name, NULL);

  if (g_mkdir_with_parents (cache->directory, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, PROBE_CACHE_ERROR, PROBE_CACHE_ERROR_WRITE, "%s: %s",
                   cache->directory, g_strerror (saved_errno));
      return FALSE;
    }
  return write_document (path, document, error);
}
