/* probe/qemu-info.h — what a QEMU says about itself, read from its QMP replies: which
 * strategy its version allows, its CPU models, its machine types, and feature sets from
 * its expansions and feature words. Pure functions of JSON, so replayed and live replies
 * are read alike; the probe error domain lives here because every probe file needs it. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/version.h"
#include "x86/feature-set.h"

/* json-c has no GLib cleanup; this name gives its objects one inside probe/. */
typedef json_object ProbeJson;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeJson, json_object_put)

#define PROBE_ERROR (probe_error_quark ())
GQuark probe_error_quark (void);

typedef enum {
  PROBE_ERROR_UNKNOWN_MODEL,   /* the CPU model is not in this QEMU's list: bad input */
  PROBE_ERROR_BAD_INPUT,       /* a definition the probe cannot run (host-model, no model) */
  PROBE_ERROR_TOO_OLD,         /* "QEMU 1.4.2 is older than 1.5.0: cannot read the guest CPU" */
  PROBE_ERROR_REPLY,           /* QEMU answered something we cannot read */
  PROBE_ERROR_NO_CPU,          /* a started QEMU shows no CPU to read */
} ProbeError;

typedef enum {
  PROBE_METHOD_AUTO,
  PROBE_METHOD_EXPANSION,      /* QEMU >= 2.9: query-cpu-model-expansion in query mode */
  PROBE_METHOD_POST_START,     /* QEMU >= 1.5: feature-words of a started, paused CPU */
} ProbeMethod;

/* "auto", "expansion", "post-start". */
const char *probe_method_name (ProbeMethod method);

/* The method @version allows when @requested is AUTO, else @requested when the version
 * allows it. FALSE with PROBE_ERROR_TOO_OLD below 1.5.0 (and for EXPANSION below 2.9.0). */
gboolean probe_method_for_version (const QmpVersion *version, ProbeMethod requested,
                                   ProbeMethod *method, GError **error);

typedef struct {
  char *name;
  char *alias_of;              /* the versioned model this machine type uses, or NULL */
} ProbeCpuModel;

void probe_cpu_model_free (ProbeCpuModel *model);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeCpuModel, probe_cpu_model_free)

/* The models of a query-cpu-definitions reply, @definitions the JSON text of its "return"
 * (strict JSON: qmp_session_wait_optional_text() hands no other), as an array that owns
 * its ProbeCpuModel entries, or NULL with PROBE_ERROR_REPLY when the reply is not a list
 * of objects with names. Read with the skim (qmp/json-skim.h): a model list is some 30 KB
 * of which a probe needs a name or two, too much to build as objects per question. */
GPtrArray *probe_cpu_models_parse (const char *definitions, GError **error);
/* The model called @name, or NULL. Borrowed. */
const ProbeCpuModel *probe_cpu_models_find (GPtrArray *models, const char *name);

/* The machine type QEMU resolves @requested to, from the JSON text of a query-machines
 * "return" (strict JSON, as above; NULL when there was none): NULL @requested means
 * QEMU's default; an alias ("pc", "q35") its target. Newly allocated; a copy of
 * @requested when the reply does not know it. */
char *probe_machine_resolve (const char *machines, const char *requested);

/* The features a query-cpu-model-expansion reply (@expansion borrowed: the "return"
 * member) turns on, into @set (cleared first); @known (may be NULL) receives every
 * feature the reply has a property for, true or false. Properties are read by QEMU's
 * canonical name, else by an older spelling (2.9's "lahf_lm"). */
gboolean probe_features_from_expansion (json_object *expansion, X86FeatureSet *set,
                                        X86FeatureSet *known, GError **error);
/* The same from the JSON text of the "return" member (strict JSON, as
 * qmp_session_wait_text() hands it), read with the skim: an expansion is some 10 KB of
 * which every property is read once. @vendor (may be NULL) receives the "vendor" property
 * (newly allocated), or NULL when the reply has none. */
gboolean probe_features_from_expansion_text (const char *expansion, X86FeatureSet *set,
                                             X86FeatureSet *known, char **vendor,
                                             GError **error);

/* The guest CPU as a strategy read it from QEMU, before it is compared. */
typedef struct {
  char *machine;               /* the machine type QEMU resolved the request to */
  GPtrArray *models;           /* query-cpu-definitions, or NULL when QEMU had none */
  X86FeatureSet expansion;     /* the guest CPU before filtering */
  X86FeatureSet guest;         /* what the guest gets */
  gboolean supported_known;
  X86FeatureSet supported;     /* host or max with migratable=off */
  char *supported_vendor;      /* its "vendor" property ("AuthenticAMD"), or NULL */
  X86FeatureSet unknown_to_qemu;   /* requested features this QEMU has no property for */
  gboolean filtered_derived;   /* filtered-features was missing: taken as requested − guest */
} ProbeGuestCpu;

void probe_guest_cpu_clear (ProbeGuestCpu *cpu);

/* Fails with PROBE_ERROR_UNKNOWN_MODEL when @models (may be NULL: nothing to check
 * against) lacks @model; "host" and "max" are never checked, as old QEMUs do not list them. */
gboolean probe_check_model (GPtrArray *models, const char *model, GError **error);

/* {"type": "full", "model": {"name": @model, "props": @props}} for
 * query-cpu-model-expansion; @props (reference taken; may be NULL). Caller owns it. */
json_object *probe_expansion_arguments (const char *model, json_object *props);
