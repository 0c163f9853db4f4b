/* tests/fuzz-cache.c — libFuzzer target for the files of the cache directory: probe
 * result entries and pointer files (probe/cache.c) and check answers (probe/check-cache.c),
 * which `check`, `expand`, `host` (tools/answer-cache.c) and the hook read back.
 *
 * A cache is made once in a private directory, holding one entry, its pointer and one
 * check answer. Each input then stands in for all three files and is looked up as a run
 * would: with the QEMU version known, without it (through the pointer) and as a check
 * answer. An unreadable file is a miss with a reason, never a failure. Since an entry is
 * trusted only for its own key, an input that is a JSON object is tried a second time
 * with the stored file's "key" member put in, so what follows the key is reached too. */
#include "fuzz-util.h"
#include "probe/cache.h"
#include "probe/check-cache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define QEMU_VERSION "7.2.0"

typedef struct {
  char *path;
  char *format;                 /* its "format" and "key" members, as the cache wrote them */
  json_object *stored_key;
} CacheFile;

enum { ENTRY, POINTER, CHECK_ENTRY, N_FILES };

static const char *cache_dir;
static char *qemu_path;
static X86CpuidDump *cpuid;
static ProbeCache *cache;
static ProbeCacheKey *versioned_key;
static ProbeCheckKey *check_key;
static CacheFile files[N_FILES];

static void
die (const char *what, const GError *error)
{
  fprintf (stderr, "fuzz-cache: %s: %s\n", what, error != NULL ? error->message : "failed");
  abort ();
}

static ProbeCacheKey *
result_key (const char *qemu_version)
{
  g_autoptr (GError) error = NULL;
  ProbeCacheKeyInputs inputs = {
    .qemu_binary = qemu_path,
    .qemu_version = qemu_version,
    .accel = "tcg",
    .machine = "none",
    .cpuid = cpuid,
    .microcode = "0x1",
    .kvm_device = "/nonexistent/kvm",
    .kernel_release = "6.1.0",
    .program_version = "fuzz",
  };
  ProbeCacheKey *key = probe_cache_key_new (&inputs, &error);

  if (key == NULL)
    die ("key", error);
  return key;
}

/* Takes the format and key of the file the cache wrote at @file->path. */
static void
read_stored (CacheFile *file)
{
  json_object *document = json_object_from_file (file->path);
  json_object *format = NULL;

  if (document == NULL || !json_object_object_get_ex (document, "format", &format)
      || !json_object_object_get_ex (document, "key", &file->stored_key))
    {
      fprintf (stderr, "fuzz-cache: %s as stored has no format or key\n", file->path);
      abort ();
    }
  file->format = g_strdup (json_object_get_string (format));
  json_object_get (file->stored_key);
  json_object_put (document);
}

/* The pointer file is the one the store wrote besides the entries. */
static char *
find_pointer (void)
{
  g_autoptr (GDir) dir = g_dir_open (cache_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "last-"))
      return g_build_filename (cache_dir, name, NULL);
  fprintf (stderr, "fuzz-cache: the store wrote no pointer file\n");
  abort ();
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  X86CpuidLeaf leaf = { .leaf = 0, .eax = 0xd, .ebx = 0x756e6547, .ecx = 0x6c65746e,
                        .edx = 0x49656e69 };
  ProbeCheckKeyInputs check_inputs = { .definition = "{\"model\": \"Haswell\"}",
                                       .accel = "tcg", .settings = "fuzz" };
  json_object *result = json_tokener_parse ("{\"format\": \"facts\", \"accel\": \"tcg\"}");
  json_object *answer = json_tokener_parse ("{\"status\": 1, \"output\": \"fail\\n\"}");

  cache_dir = fuzz_private_dir ("fuzz-cache");
  qemu_path = g_build_filename (cache_dir, "qemu-system-x86_64", NULL);
  fuzz_write_file (qemu_path, "", 0);
  cpuid = x86_cpuid_dump_new ();
  x86_cpuid_dump_set (cpuid, x86_cpuid_dump_add_cpu (cpuid, 0), &leaf);

  cache = probe_cache_new (cache_dir);
  versioned_key = result_key (QEMU_VERSION);
  check_inputs.qemu_binary = qemu_path;
  check_key = probe_check_key_new (&check_inputs, &error);
  if (check_key == NULL)
    die ("check key", error);
  if (!probe_cache_store (cache, versioned_key, result, &error))
    die ("store", error);
  if (!probe_check_cache_store (cache, check_key, answer, &error))
    die ("check store", error);
  json_object_put (result);
  json_object_put (answer);

  files[ENTRY].path = probe_cache_entry_path (cache, versioned_key);
  files[POINTER].path = find_pointer ();
  files[CHECK_ENTRY].path = probe_check_cache_entry_path (cache, check_key);
  for (guint i = 0; i < N_FILES; i++)
    read_stored (&files[i]);
  return 0;
}

static void
write_all (const char *bytes, gsize len)
{
  for (guint i = 0; i < N_FILES; i++)
    fuzz_write_file (files[i].path, bytes, len);
}

static void
write_with_stored_keys (json_object *document)
{
  for (guint i = 0; i < N_FILES; i++)
    {
      const char *text;

      json_object_object_add (document, "key", json_object_get (files[i].stored_key));
      text = json_object_to_json_string (document);
      fuzz_write_file (files[i].path, text, strlen (text));
    }
}

/* A hit is an object; a miss has a reason. */
static void
expect_answer (json_object *found, char *reason)
{
  g_autofree char *owned_reason = reason;

  if (found == NULL && (owned_reason == NULL || *owned_reason == '\0'))
    abort ();
  if (found != NULL && !json_object_is_type (found, json_type_object))
    abort ();
}

static void
look_up_all (void)
{
  g_autoptr (ProbeCacheKey) unversioned_key = result_key (NULL);
  char *reason = NULL;
  json_object *found;
  json_object *output;

  found = probe_cache_lookup (cache, versioned_key, &reason);
  expect_answer (found, reason);
  json_object_put (found);

  reason = NULL;
  found = probe_cache_lookup (cache, unversioned_key, &reason);
  expect_answer (found, reason);
  json_object_put (found);

  reason = NULL;
  found = probe_check_cache_lookup (cache, check_key, &reason);
  expect_answer (found, reason);
  /* What the answer cache takes from a hit (tools/answer-cache.c). */
  if (found != NULL && json_object_object_get_ex (found, "output", &output)
      && json_object_is_type (output, json_type_string))
    {
      json_object_get_string (output);
      json_object_get_int (json_object_object_get (found, "status"));
    }
  json_object_put (found);

  for (guint i = 0; i < N_FILES; i++)
    {
      g_autofree char *problem = NULL;

      found = probe_cache_read_document (files[i].path, files[i].format, &problem);
      if (found == NULL && problem == NULL)
        abort ();
      json_object_put (found);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  json_object *document;

  write_all ((const char *) data, size);
  look_up_all ();

  document = json_tokener_parse (text);
  if (document != NULL && json_object_is_type (document, json_type_object))
    {
      write_with_stored_keys (document);
      look_up_all ();
    }
  json_object_put (document);
  return 0;
}
