/* probe/check-cache.h — the final answer for a CPU definition, kept so that a definition
 * already judged on this host is answered again without starting QEMU.
 *
 * A check's answer depends on the definition, on everything a probe result depends on
 * (the QEMU binary, accelerator, machine type, kernel, /dev/kvm, silicon and microcode,
 * our version: the parts of probe/cache.h's key) and on how it was judged (libvirt's CPU
 * map, the options that change the verdict or how it prints). The key holds each of them
 * as a named part and the entry repeats it, so an entry is trusted only for the key it was
 * stored under, as probe/cache.h's entries are (same directory, same file rules). What the
 * answer holds is the caller's: a verdict and its message, or the text a command printed.
 * It is small, so a warm answer reads a few KB instead of a whole probe result. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/cache.h"
#include "probe/cpu-def.h"

typedef struct {
  const char *definition;   /* probe_check_definition_text() of the definition */
  const char *qemu_binary;  /* absolute path of the QEMU that would answer */
  const char *accel;        /* "kvm", "tcg"; NULL: the host's default */
  const char *machine;      /* as asked (an alias stays one); NULL: QEMU's default */
  const char *cpu_map;      /* libvirt's CPU map directory the verdict reads, or NULL */
  const char *settings;     /* anything else the answer depends on, spelt by the caller */
} ProbeCheckKeyInputs;

typedef struct ProbeCheckKey ProbeCheckKey;

/* Reads what the key needs of this host (the CPUID of the CPU it runs on, microcode, the
 * QEMU binary's and /dev/kvm's inode and times, the CPU map directory's). Fails only when
 * the QEMU binary cannot be examined (PROBE_CACHE_ERROR_BINARY). */
ProbeCheckKey *probe_check_key_new (const ProbeCheckKeyInputs *inputs, GError **error);
void           probe_check_key_free (ProbeCheckKey *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeCheckKey, probe_check_key_free)

/* {"part": "value", ...}: the host parts of probe/cache.h's key (without qemu-version:
 * the binary's inode, size and times stand for it), then definition, settings, cpu-map.
 * Borrowed. */
json_object *probe_check_key_parts (const ProbeCheckKey *key);

/* The definition as the key holds it: every member of @def that a verdict can depend on
 * (cpu_def_to_json() and the domain's accelerator, machine and emulator), one line.
 * Two inputs that parse alike (a domain XML with another id or disk) give the same text.
 * Newly allocated. */
char *probe_check_definition_text (const CpuDef *def);

/* The answer stored for @key, owned by the caller; or NULL on a miss, with *@miss_reason
 * (may be NULL; newly allocated) saying why: "no entry", "entry FILE is corrupt: ...",
 * "entry FILE holds another key". Never fails: an unreadable cache is a miss. */
json_object *probe_check_cache_lookup (ProbeCache *cache, const ProbeCheckKey *key,
                                       char **miss_reason);

/* Stores @answer (a JSON object, borrowed) under @key, atomically. */
gboolean probe_check_cache_store (ProbeCache *cache, const ProbeCheckKey *key,
                                  json_object *answer, GError **error);

/* The entry file of @key (it may not exist). Newly allocated. */
char *probe_check_cache_entry_path (ProbeCache *cache, const ProbeCheckKey *key);
