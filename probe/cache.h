/* probe/cache.h — probe results kept on disk, keyed by everything that could change them.
 *
 * A QEMU's answers depend on its binary, the accelerator, the machine type, the kernel,
 * /dev/kvm and the silicon (CPUID, microcode), and on our own version. The key holds each
 * of them as a named part; the entry file is named by the key's hash and repeats the key,
 * so an entry is trusted only when its stored key equals the one computed now. Anything
 * else in the file (another key, bad JSON, another format version) is a miss, and the next
 * store replaces it. Entries are written to a temporary file and renamed, so a reader
 * sees a whole old entry or a whole new one, whoever else is writing.
 *
 * Beside the entries, one pointer file per (binary path, accelerator, machine) remembers
 * the last key stored for them: a miss can then say which part changed ("qemu-mtime"),
 * and a lookup made before any QEMU ran can learn the version of an unchanged binary
 * without starting it (its path, inode, size, mtime and ctime are all the same). */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "x86/cpuid-dump.h"

#define PROBE_CACHE_ERROR (probe_cache_error_quark ())
GQuark probe_cache_error_quark (void);

typedef enum {
  PROBE_CACHE_ERROR_BINARY,   /* the QEMU binary cannot be examined (stat) */
  PROBE_CACHE_ERROR_WRITE,    /* the cache directory or an entry cannot be written */
} ProbeCacheError;

/* What a key is computed from. Only @qemu_binary, @accel, @machine and @cpuid are required. */
typedef struct {
  const char *qemu_binary;       /* absolute path of the QEMU that answers */
  const char *qemu_version;      /* "7.2.22"; NULL when no QEMU ran yet (see above) */
  const char *accel;             /* "kvm", "tcg" */
  const char *machine;           /* "none", "pc-q35-7.2", ... */
  const X86CpuidDump *cpuid;     /* the hardware CPUID, every logical CPU */
  const char *microcode;         /* revision, or NULL when unreadable */
  const char *kvm_device;        /* NULL: /dev/kvm */
  const char *kernel_release;    /* NULL: this kernel's (uname) */
  const char *program_version;   /* NULL: this vcpuprobe's */
} ProbeCacheKeyInputs;

typedef struct ProbeCacheKey ProbeCacheKey;

/* The key's parts, in this order: qemu-binary, qemu-inode, qemu-size, qemu-mtime,
 * qemu-ctime, qemu-version, accel, machine, kernel-release, kvm-device, kvm-rdev,
 * kvm-ctime, cpuid-signature, microcode, vcpuprobe-version. A part that cannot be known
 * has the value "unknown" (or "absent" for a missing /dev/kvm). Fails only when the
 * binary cannot be examined. */
ProbeCacheKey *probe_cache_key_new (const ProbeCacheKeyInputs *inputs, GError **error);
void           probe_cache_key_free (ProbeCacheKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeCacheKey, probe_cache_key_free)

/* The value of part @part, or NULL for a name that is not a part. Borrowed. */
const char *probe_cache_key_get (const ProbeCacheKey *key, const char *part);
/* Fills in the QEMU version once a QEMU has told it. */
void        probe_cache_key_set_qemu_version (ProbeCacheKey *key, const char *version);
/* Lowercase hex SHA-256 of every part: the entry's file name. Newly allocated. */
char       *probe_cache_key_hash (const ProbeCacheKey *key);
/* {"part": "value", ...} in part order; the caller owns the reference. */
json_object *probe_cache_key_to_json (const ProbeCacheKey *key);

/* A digest of @dump that ignores which CPU is which: every CPU's leaves with the per-CPU
 * fields (APIC ids) masked, one digest per distinct CPU kind, sorted. A process pinned to
 * any CPU, or a dump taken in another CPU order, gets the same signature. Newly allocated. */
char *probe_cache_cpuid_signature (const X86CpuidDump *dump);

typedef struct ProbeCache ProbeCache;

/* $XDG_CACHE_HOME/vcpuprobe when XDG_CACHE_HOME is set, else /var/cache/vcpuprobe for
 * root, else ~/.cache/vcpuprobe. Newly allocated. */
char *probe_cache_default_directory (void);

/* A cache in @directory (NULL: the default). Nothing is touched on disk until a store,
 * which creates the directory; so opening never fails. */
ProbeCache *probe_cache_new (const char *directory);
void        probe_cache_free (ProbeCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeCache, probe_cache_free)
const char *probe_cache_directory (ProbeCache *cache);

/* The result stored for @key, the caller owns the reference; or NULL on a miss, with
 * *@miss_reason (may be NULL; newly allocated) saying why in one phrase: "no entry",
 * "qemu-mtime changed (1700000000.1 -> 1700000500.2)", "entry ... is corrupt: ...".
 * When @key has no QEMU version yet, it is taken from the pointer file if every other
 * part matches, and set in @key. Never fails: an unreadable cache is a miss. */
json_object *probe_cache_lookup (ProbeCache *cache, ProbeCacheKey *key, char **miss_reason);

/* Stores @result (borrowed) under @key, atomically, and points the (binary, accelerator,
 * machine) pointer file at @key. @key must have its QEMU version. */
gboolean probe_cache_store (ProbeCache *cache, const ProbeCacheKey *key, json_object *result,
                            GError **error);

/* The entry file @key is stored in (it may not exist). Newly allocated. */
char *probe_cache_entry_path (ProbeCache *cache, const ProbeCacheKey *key);

/* Other kinds of document kept in the cache directory (probe/check-cache.c), read and
 * written as the entries are: {"format": @format, "version", "key": {...}, ...}, written
 * atomically. Reading returns the whole document (the caller owns the reference) or NULL
 * with *@problem saying why (NULL problem: no such file). */
json_object *probe_cache_read_document (const char *path, const char *format, char **problem);
/* {"format": @format, "version": this cache's, "key": @key (ownership taken)}: a new
 * document for the caller to complete. */
json_object *probe_cache_document_new (const char *format, json_object *key);
/* Writes @document (borrowed) as @name in the cache directory, creating the directory. */
gboolean     probe_cache_write_document (ProbeCache *cache, const char *name,
                                         json_object *document, GError **error);
/* Replaces @path with @text (mode 0644) atomically; a SIGINT, SIGTERM or SIGHUP that comes
 * meanwhile waits until it is done, so no temporary file is left in the cache. */
gboolean     probe_cache_replace_file (const char *path, const char *text, GError **error);
