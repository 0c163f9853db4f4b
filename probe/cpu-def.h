/* probe/cpu-def.h — the CPU a VM asks for: mode, model, vendor and a policy per feature.
 *
 * Read from a QEMU -cpu string, a libvirt <cpu> element (alone or inside a domain XML)
 * or our JSON form, and written back in each of them. Features are table entries, so
 * every spelling ("sse4_1", "sse4-1", "pclmuldq", "lahf_lm") lands on one feature and a
 * definition never names a feature twice. Properties of the -cpu line that are not
 * features ("pmu=off", "level=13", "enforce") travel along unchanged. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "x86/feature-table.h"
#include "x86/feature-set.h"

#define CPU_DEF_ERROR (cpu_def_error_quark ())
GQuark cpu_def_error_quark (void);

typedef enum {
  CPU_DEF_ERROR_SYNTAX,           /* empty string or model, malformed XML or JSON, a bad value */
  CPU_DEF_ERROR_UNKNOWN_FEATURE,  /* message names it and the closest known names */
  CPU_DEF_ERROR_CONFLICT,         /* one feature with two policies; message names both places */
  CPU_DEF_ERROR_INVALID,          /* an unknown mode, match, check, policy or fallback */
  CPU_DEF_ERROR_NO_CPU,           /* an XML document without a <cpu> we may use */
  CPU_DEF_ERROR_IO,               /* the file could not be read */
} CpuDefError;

typedef enum {
  CPU_MODE_CUSTOM,
  CPU_MODE_HOST_MODEL,
  CPU_MODE_HOST_PASSTHROUGH,      /* -cpu host */
  CPU_MODE_MAXIMUM,               /* -cpu max */
} CpuMode;

typedef enum {
  CPU_MATCH_EXACT,                /* libvirt's default */
  CPU_MATCH_MINIMUM,
  CPU_MATCH_STRICT,
} CpuMatch;

typedef enum {
  CPU_CHECK_UNSET,                /* the driver picks one by mode (reference §5.1) */
  CPU_CHECK_NONE,
  CPU_CHECK_PARTIAL,
  CPU_CHECK_FULL,
} CpuCheck;

typedef enum {
  CPU_FALLBACK_ALLOW,             /* libvirt's default */
  CPU_FALLBACK_FORBID,
} CpuFallback;

typedef enum {
  CPU_POLICY_FORCE,
  CPU_POLICY_REQUIRE,
  CPU_POLICY_OPTIONAL,
  CPU_POLICY_DISABLE,
  CPU_POLICY_FORBID,
} CpuPolicy;

typedef struct {
  const X86Feature *feature;      /* a table entry, never NULL */
  CpuPolicy policy;
} CpuFeature;

/* A -cpu property that is not a feature. @value is NULL for a bare word ("enforce"),
 * which old QEMU accepts where "enforce=on" is rejected. */
typedef struct {
  char *name;
  char *value;
} CpuProperty;

typedef struct {
  CpuMode mode;
  char *model;                    /* NULL for host-passthrough and maximum, may be NULL for host-model */
  char *vendor;                   /* libvirt's <vendor>: "Intel", "AMD"; NULL when absent */
  CpuMatch match;
  CpuCheck check;
  CpuFallback fallback;
  char *vendor_id;                /* <model vendor_id=…>: the 12-byte CPUID vendor string, or NULL */
  GArray *features;               /* of CpuFeature, in input order, each feature once */
  GPtrArray *properties;          /* of CpuProperty *, in input order (QEMU applies them in order) */
  /* The guest around the CPU, from the domain XML that held it (probe/cpu-def-xml.c);
   * NULL when the input says nothing. Not compared by cpu_def_equal(). */
  char *domain_accel;             /* <domain type>: "kvm", or "tcg" for type='qemu' */
  char *domain_machine;           /* <os><type machine>, as written: an alias ("pc") stays one */
  char *domain_emulator;          /* <devices><emulator>: the QEMU binary */
} CpuDef;

/* A definition of @mode and @model (copied; may be NULL) with no features. */
CpuDef  *cpu_def_new (CpuMode mode, const char *model);
void     cpu_def_free (CpuDef *def);
CpuDef  *cpu_def_copy (const CpuDef *def);
/* Same mode, model, vendor, match, check, fallback, vendor_id and (feature, policy) pairs
 * in any order; properties compare in order, since a later one overrides an earlier one. */
gboolean cpu_def_equal (const CpuDef *a, const CpuDef *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CpuDef, cpu_def_free)

/* Names as libvirt spells them ("host-passthrough", "exact", "require", ...), and back.
 * The parsers return FALSE for an unknown name. */
const char *cpu_mode_name (CpuMode mode);
const char *cpu_match_name (CpuMatch match);
const char *cpu_check_name (CpuCheck check);           /* NULL for CPU_CHECK_UNSET */
const char *cpu_fallback_name (CpuFallback fallback);
const char *cpu_policy_name (CpuPolicy policy);
gboolean    cpu_mode_from_name (const char *name, CpuMode *mode);
gboolean    cpu_match_from_name (const char *name, CpuMatch *match);
gboolean    cpu_check_from_name (const char *name, CpuCheck *check);
gboolean    cpu_fallback_from_name (const char *name, CpuFallback *fallback);
gboolean    cpu_policy_from_name (const char *name, CpuPolicy *policy);

/* The policy of @feature in @def; FALSE when @def does not name it. @policy may be NULL. */
gboolean cpu_def_get_policy (const CpuDef *def, const X86Feature *feature, CpuPolicy *policy);
/* Gives @feature @policy, replacing an earlier policy in place or appending: for callers
 * that update a definition, as libvirt does after start. */
void     cpu_def_set_policy (CpuDef *def, const X86Feature *feature, CpuPolicy policy);
/* Removes @feature; FALSE when @def did not name it. */
gboolean cpu_def_remove_feature (CpuDef *def, const X86Feature *feature);
/* Appends a pass-through property (@value may be NULL for a bare word). */
void     cpu_def_add_property (CpuDef *def, const char *name, const char *value);
/* The value of the last property called @name, or NULL; *@found says whether there was one. */
const char *cpu_def_get_property (const CpuDef *def, const char *name, gboolean *found);

/* The feature @name spells, in any spelling of the table or of libvirt, with "_" and "-"
 * interchangeable as on QEMU's command line. NULL when unknown, with
 * CPU_DEF_ERROR_UNKNOWN_FEATURE "unknown feature 'avx3' (did you mean avx2, avx?)". */
const X86Feature *cpu_def_lookup_feature (const char *name, GError **error);

/* The features given @policy, added to @set (which is not cleared first). */
void cpu_def_add_features_with_policy (const CpuDef *def, CpuPolicy policy, X86FeatureSet *set);
/* Clears @set, then fills it with the features the definition turns on (force, require),
 * turns off (disable, forbid) or leaves to the host (optional). */
void cpu_def_enabled_features (const CpuDef *def, X86FeatureSet *set);
void cpu_def_disabled_features (const CpuDef *def, X86FeatureSet *set);
void cpu_def_optional_features (const CpuDef *def, X86FeatureSet *set);

/* The model name to give QEMU: "host", "max", or the model; NULL for host-model and for a
 * custom definition without a model, which QEMU cannot create as such. */
const char *cpu_def_qemu_model (const CpuDef *def);

/* The "props" of a query-cpu-model-expansion model, as libvirt builds it: every feature
 * with a QEMU property under its canonical name, true for force and require, false for
 * every other policy; then the pass-through properties, typed (on/off → bool, a number →
 * int, else string). Features without a QEMU property of their own are left out: those
 * known to libvirt only (cmt, ...), which libvirt never sends either, bits that follow
 * guest state (osxsave, ospke) and second bits of a shared property (kvmclock2). The
 * caller owns the returned reference. */
json_object *cpu_def_expansion_props (const CpuDef *def);

/* -cpu strings -------------------------------------------------------------------------
 *
 * "MODEL[,ITEM]...": MODEL is a model, "host" (host-passthrough) or "max" (maximum). An
 * ITEM is "+feat", "feat", "feat=on|true|yes" (require), "-feat", "feat=off|false|no"
 * (disable), or a property: a name x86_is_non_feature_property() knows, or any name with a
 * value that is not a boolean ("level=13", "model-id=…"). Features take any spelling of
 * the table; "_" and "-" are interchangeable, as on QEMU's command line. A feature QEMU
 * has no property for (cmt, osxsave, kvmclock2) is an error. A feature named more than once
 * ends as QEMU leaves it: "-feat" wins over "+feat", either over "feat=on|off", and of those
 * the last one ("Haswell,+hle,-hle" and "Haswell,hle=on,hle=off" both disable hle). Errors
 * name the string and the item (1 is the model). */
CpuDef *cpu_def_from_qemu_cpu_string (const char *cpu_string, GError **error);

/* The -cpu argument for @def: force and require as "feat=on", disable and forbid as
 * "feat=off", canonical names; with @legacy "+feat"/"-feat" and, where QEMU 1.x–2.7 spelt a
 * dashed name with underscores (lahf_lm, kvm_pv_eoi, svm_lock), that spelling, which every
 * later QEMU still accepts. Optional features are left out (they must be resolved against
 * the host first), and so are features without a QEMU property of their own (as for
 * cpu_def_expansion_props()). vendor_id becomes
 * "vendor=…" unless a "vendor" property is present; properties follow, as given. NULL
 * when cpu_def_qemu_model() is NULL. */
char *cpu_def_to_qemu_cpu_string (const CpuDef *def, gboolean legacy);

/* libvirt XML (probe/cpu-def-xml.c) ---------------------------------------------------
 *
 * @xml is a bare <cpu> element or any document holding one: the first <cpu> that is the
 * root or a child of a <domain> (which may itself sit anywhere, as in <domainsnapshot>).
 * A <cpu> under <capabilities><host> or <domainCapabilities> describes a host, not a
 * guest, and is never taken. <topology>, <cache>, <numa> and unknown children are
 * ignored. The "migratable" attribute becomes the pass-through property of that name.
 * @source names the input in errors ("FILE:LINE:COL: problem"); NULL means "<cpu>". */
CpuDef *cpu_def_from_xml (const char *xml, gssize length, const char *source, GError **error);
CpuDef *cpu_def_from_xml_file (const char *path, GError **error);

/* A libvirt <cpu> element, libvirt spellings, features in definition order, two-space
 * indented and ending in a newline. Of the pass-through properties only "migratable" has
 * a place in <cpu>; the others are left out. */
char *cpu_def_to_xml (const CpuDef *def);

/* JSON ---------------------------------------------------------------------------------
 *
 * {"mode", "model", "vendor", "match", "check", "fallback", "vendor_id",
 *  "features": {canonical name: policy}, "properties": {name: value}}: unset members are
 * null; a bare property is true. The caller owns the returned reference. */
json_object *cpu_def_to_json (const CpuDef *def);
/* The inverse; missing members take their defaults. @json is borrowed. */
CpuDef      *cpu_def_from_json (json_object *json, GError **error);

/* A command-line CPU argument: XML when @argument names an existing regular file, a -cpu
 * string otherwise. A model part with a slash or ending in ".xml" that names no regular
 * file fails with CPU_DEF_ERROR_IO. */
CpuDef *cpu_def_from_argument (const char *argument, GError **error);
