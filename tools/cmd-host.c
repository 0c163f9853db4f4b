/* tools/cmd-host.c — `vcpuprobe host`: every layer between the silicon and the guest, per
 * feature, with QEMU's host model and the named models, in text, JSON or libvirt XML. */
#include "probe/models.h"
#include "tools/cmd-host.h"
#include "tools/answer-cache.h"
#include "tools/commands.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "tools/output-xml.h"
#include "tools/qmp-source.h"
#include "x86/kvm-emulated.h"

#include <stdio.h>
#include <string.h>

static const char *const both_accels[] = { "kvm", "tcg", NULL };

/* The layer values of one feature, as the JSON and the table print them. */
typedef struct {
  const char *hardware;    /* "all", "some", "none", NULL: unknown (MSR bits, no CPUID) */
  const char *kvm;         /* "supported", "emulated", "no", NULL: unknown */
  const char *qemu_host;   /* "migratable", "non-migratable", "no", NULL: unknown */
  int qemu_max;            /* 1, 0, -1: unknown */
  const char *kvm_emulated; /* KVM supports it, the silicon of every CPU lacks it: the rule
                             * of x86/kvm-emulated.h that explains it; else NULL */
} FeatureLayers;

/* Which of KVM's rules apply to this host; FALSE when its silicon or KVM is unknown. */
static gboolean
kvm_host_kind (const ProbeHost *host, X86KvmHostKind *kind)
{
  if (host->hardware == NULL || host->kvm == NULL || !host->kvm->available)
    return FALSE;
  x86_kvm_host_kind (host->hardware, &host->hardware_all, kind);
  return TRUE;
}

/* @kind: from kvm_host_kind(), or NULL when it returned FALSE. */
static FeatureLayers
layers_of (const ProbeHost *host, const X86KvmHostKind *kind, const X86Feature *feature)
{
  ProbeAccelInfo *kvm_info = probe_host_accel (host, "kvm");
  ProbeAccelInfo *tcg_info = probe_host_accel (host, "tcg");
  gboolean from_cpuid = x86_feature_words (NULL)[feature->word].kind == X86_WORD_CPUID;
  FeatureLayers layers = { NULL, NULL, NULL, -1, NULL };

  if (host->hardware != NULL && from_cpuid)
    layers.hardware = x86_feature_set_has (&host->hardware_all, feature) ? "all"
                      : x86_feature_set_has (&host->hardware_some, feature) ? "some" : "none";
  if (host->kvm != NULL && host->kvm->available)
    layers.kvm = x86_feature_set_has (&host->kvm->supported_features, feature) ? "supported"
                 : x86_feature_set_has (&host->kvm->emulated_features, feature) ? "emulated"
                 : "no";
  if (kind != NULL && from_cpuid && x86_feature_set_has (&host->kvm->supported_features, feature))
    layers.kvm_emulated = x86_kvm_emulated_why (kind, &host->hardware_all, feature);
  if (kvm_info != NULL && kvm_info->usable && kvm_info->expansion_known)
    layers.qemu_host = x86_feature_set_has (&kvm_info->migratable, feature) ? "migratable"
                       : x86_feature_set_has (&kvm_info->supported, feature) ? "non-migratable"
                       : "no";
  if (tcg_info != NULL && tcg_info->usable && tcg_info->expansion_known)
    layers.qemu_max = x86_feature_set_has (&tcg_info->supported, feature);
  else if (tcg_info != NULL && tcg_info->usable && tcg_info->lacking_known
           && x86_feature_set_has (&tcg_info->lacking, feature))
    /* No max to read (QEMU older than 2.9), but QEMU said a model lacks it under tcg. */
    layers.qemu_max = 0;
  return layers;
}

static gboolean
layers_empty (const FeatureLayers *layers)
{
  return (layers->hardware == NULL || strcmp (layers->hardware, "none") == 0)
         && (layers->kvm == NULL || strcmp (layers->kvm, "no") == 0)
         && (layers->qemu_host == NULL || strcmp (layers->qemu_host, "no") == 0)
         && layers->qemu_max != 1;
}

/* The accelerator whose host model and models the summary and XML describe: --accel,
 * else kvm when QEMU could use it, else tcg. */
static ProbeAccelInfo *
primary_accel (const ProbeHost *host, const CliOptions *options)
{
  ProbeAccelInfo *kvm = probe_host_accel (host, "kvm");

  if (options->accel != NULL && probe_host_accel (host, options->accel) != NULL)
    return probe_host_accel (host, options->accel);
  if (kvm != NULL && kvm->usable)
    return kvm;
  return probe_host_accel (host, "tcg") != NULL ? probe_host_accel (host, "tcg")
                                                 : host->accels->pdata[0];
}

/* Why host->kvm is NULL: probe_host_read() reads this machine's /dev/kvm only when it
 * describes the host whose QEMU answers and whose CPUID is shown, as probe_run() does. */
static char *
kvm_not_read (CliSource *source)
{
  if (cli_source_replay_file (source) != NULL)
    return g_strdup_printf ("not read (replayed from %s)", cli_source_replay_file (source));
  return g_strdup ("not read: CPUID comes from a dump");
}

/* ---- JSON ---- */

static json_object *
string_or_null (const char *text)
{
  return text != NULL ? json_object_new_string (text) : NULL;
}

static json_object *
host_model_json (const ProbeAccelInfo *info)
{
  json_object *model = json_object_new_object ();
  X86FeatureSet non_migratable;

  json_object_object_add (model, "accel", json_object_new_string (info->accel));
  json_object_object_add (model, "name", string_or_null (info->host_model_name));
  if (!info->usable || !info->expansion_known)
    {
      json_object_object_add (model, "known", json_object_new_boolean (FALSE));
      json_object_object_add (model, "reason",
                              string_or_null (info->usable ? info->expansion_missing
                                                           : info->failure));
      return model;
    }
  x86_feature_set_subtract (&non_migratable, &info->supported, &info->migratable);
  json_object_object_add (model, "known", json_object_new_boolean (TRUE));
  /* Only a host model read from a started CPU says how: the expansion goldens keep their
   * layout. */
  if (g_strcmp0 (info->host_model_method, "post-start") == 0)
    {
      json_object_object_add (model, "method", json_object_new_string ("post-start"));
      json_object_object_add (model, "machine", string_or_null (info->host_model_machine));
      json_object_object_add (model, "note", string_or_null (info->host_model_note));
    }
  json_object_object_add (model, "migratable", x86_feature_set_to_names_json (&info->migratable));
  json_object_object_add (model, "enabled", x86_feature_set_to_names_json (&info->supported));
  json_object_object_add (model, "non_migratable", x86_feature_set_to_names_json (&non_migratable));
  json_object_object_add (model, "custom",
                          info->closest != NULL ? json_object_get (info->closest) : NULL);
  return model;
}

static json_object *
accels_json (const ProbeHost *host)
{
  json_object *accels = json_object_new_object ();

  for (guint i = 0; i < host->accels->len; i++)
    {
      ProbeAccelInfo *info = host->accels->pdata[i];
      json_object *accel = json_object_new_object ();

      json_object_object_add (accel, "usable", json_object_new_boolean (info->usable));
      json_object_object_add (accel, "reason", string_or_null (info->failure));
      json_object_object_add (accel, "cache", string_or_null (info->cache_status));
      json_object_object_add (accels, info->accel, accel);
    }
  return accels;
}

static json_object *
qemu_json (const ProbeHost *host, const ProbeAccelInfo *primary)
{
  json_object *qemu = json_object_new_object ();
  ProbeAccelInfo *kvm = probe_host_accel (host, "kvm");
  ProbeAccelInfo *tcg = probe_host_accel (host, "tcg");
  const ProbeAccelInfo *answered = primary;

  for (guint i = 0; answered->version == NULL && i < host->accels->len; i++)
    answered = host->accels->pdata[i];
  json_object_object_add (qemu, "binary", string_or_null (host->binary));
  json_object_object_add (qemu, "version", string_or_null (answered->version));
  json_object_object_add (qemu, "package", string_or_null (answered->package));
  json_object_object_add (qemu, "default_machine", string_or_null (answered->default_machine));
  json_object_object_add (qemu, "accels", accels_json (host));
  json_object_object_add (qemu, "host_model", kvm != NULL ? host_model_json (kvm) : NULL);
  json_object_object_add (qemu, "max_model", tcg != NULL ? host_model_json (tcg) : NULL);
  return qemu;
}

static json_object *
features_json (const ProbeHost *host)
{
  json_object *features = json_object_new_object ();
  guint n_features;
  const X86Feature *table = x86_features (&n_features);
  X86KvmHostKind kind;
  gboolean kind_known = kvm_host_kind (host, &kind);

  for (guint i = 0; i < n_features; i++)
    {
      FeatureLayers layers = layers_of (host, kind_known ? &kind : NULL, &table[i]);
      json_object *feature;

      if (layers_empty (&layers))
        continue;
      feature = json_object_new_object ();
      json_object_object_add (feature, "hardware", string_or_null (layers.hardware));
      json_object_object_add (feature, "kvm", string_or_null (layers.kvm));
      json_object_object_add (feature, "qemu_host", string_or_null (layers.qemu_host));
      if (layers.kvm_emulated != NULL)
        json_object_object_add (feature, "kvm_emulated", json_object_new_string (layers.kvm_emulated));
      json_object_object_add (feature, "qemu_max",
                              layers.qemu_max < 0 ? NULL : json_object_new_boolean (layers.qemu_max));
      json_object_object_add (features, table[i].name, feature);
    }
  return features;
}

static json_object *
host_json (const ProbeHost *host, const ProbeAccelInfo *primary, CliSource *source)
{
  g_autofree char *not_read = kvm_not_read (source);
  json_object *root = json_object_new_object ();
  json_object *identity = host->identity != NULL ? x86_cpu_identity_to_json (host->identity)
                                                 : NULL;
  json_object *kvm = json_object_new_object ();

  if (identity != NULL)
    json_object_object_add (identity, "heterogeneous", json_object_new_boolean (host->heterogeneous));
  json_object_object_add (root, "host", identity);
  json_object_object_add (kvm, "available",
                          json_object_new_boolean (host->kvm != NULL && host->kvm->available));
  json_object_object_add (kvm, "reason",
                          string_or_null (host->kvm == NULL ? not_read : host->kvm->reason));
  /* Only an available KVM has a source: recordings' goldens keep their layout. */
  if (host->kvm != NULL && host->kvm->available)
    {
      g_autofree char *from_dump = host->kvm_dump != NULL
                                   ? g_strdup_printf ("from the dump %s", host->kvm_dump) : NULL;

      json_object_object_add (kvm, "source",
                              json_object_new_string (from_dump != NULL ? from_dump : "/dev/kvm"));
      /* What QEMU will meet when it writes IA32_ARCH_CAPABILITIES; read from /dev/kvm. */
      if (host->kvm->arch_capabilities.write != X86_KVM_MSR_UNKNOWN)
        json_object_object_add (kvm, "arch_capabilities",
                                x86_kvm_arch_capabilities_to_json (&host->kvm->arch_capabilities));
    }
  json_object_object_add (root, "kvm", kvm);
  json_object_object_add (root, "qemu", qemu_json (host, primary));
  json_object_object_add (root, "features", features_json (host));
  json_object_object_add (root, "models", cli_json_host_models (host));
  cli_source_add_replay_json (source, root);
  return root;
}

/* ---- Text ---- */

static void
text_identity (GString *out, const ProbeHost *host)
{
  const X86CpuIdentity *id = host->identity;

  g_string_append (out, "Host CPU\n");
  if (id == NULL)
    {
      g_string_append_printf (out, "  unknown: %s\n",
                              host->hardware_failure != NULL ? host->hardware_failure : "no CPUID");
      return;
    }
  g_string_append_printf (out, "  %-16s %s\n", "vendor", id->vendor != NULL ? id->vendor : "unknown");
  g_string_append_printf (out, "  %-16s %s\n", "brand", id->brand != NULL ? id->brand : "unknown");
  g_string_append_printf (out, "  %-16s family %u model %u stepping %u, code name %s\n",
                          "signature", id->family, id->model, id->stepping,
                          id->codename != NULL ? id->codename : "unknown");
  g_string_append_printf (out, "  %-16s %s\n", "microcode",
                          id->microcode != NULL ? id->microcode : "unknown");
  g_string_append_printf (out, "  %-16s %u, %s%s\n", "logical CPUs", id->n_cpus,
                          id->hybrid ? "hybrid" : "not hybrid",
                          host->heterogeneous ? ", CPUs differ (see `vcpuprobe cpuid`)"
                                              : ", all alike");
  g_string_append_printf (out, "  %-16s %s\n", "hypervisor",
                          id->hypervisor != NULL
                          ? id->hypervisor : "none (bare metal, or a hypervisor that hides)");
  if (id->hypervisor != NULL)
    g_string_append (out, "                   this host is itself a guest: KVM here is nested\n");
}

/* KVM's tables also set bits no feature name covers; the summary counts named ones, so a
 * live read and a dump of the same host (which keeps names only) agree. */
static guint
count_named (const X86FeatureSet *set)
{
  X86FeatureSet named = *set;

  x86_feature_set_named_only (&named);
  return x86_feature_set_count (&named);
}

static void
text_qemu (GString *out, const ProbeHost *host, const ProbeAccelInfo *primary, CliSource *source)
{
  const ProbeAccelInfo *answered = primary;
  g_autofree char *not_read = kvm_not_read (source);

  for (guint i = 0; answered->version == NULL && i < host->accels->len; i++)
    answered = host->accels->pdata[i];
  g_string_append (out, "\nKVM\n");
  if (host->kvm == NULL)
    g_string_append_printf (out, "  %s\n", not_read);
  else if (!host->kvm->available)
    g_string_append_printf (out, "  unavailable: %s\n", host->kvm->reason);
  else if (host->kvm_dump != NULL)
    g_string_append_printf (out, "  from the dump %s: %u named features supported, %u emulated\n",
                            host->kvm_dump,
                            count_named (&host->kvm->supported_features),
                            count_named (&host->kvm->emulated_features));
  else
    g_string_append_printf (out, "  %-16s %u named features supported, %u emulated\n", "/dev/kvm",
                            count_named (&host->kvm->supported_features),
                            count_named (&host->kvm->emulated_features));
  if (host->kvm != NULL && host->kvm->arch_capabilities.write == X86_KVM_MSR_REFUSED)
    g_string_append_printf (out, "  %-16s KVM offers 0x%" G_GINT64_MODIFIER "x, but a vCPU refuses "
                            "it: QEMU aborts at start for a guest with any of its bits\n"
                            "  %-16s (host-passthrough, and host-model or models with them)\n",
                            "MSR 0x10a", host->kvm->arch_capabilities.offered, "");

  g_string_append (out, "\nQEMU\n");
  g_string_append_printf (out, "  %-16s %s\n", "binary", host->binary);
  g_string_append_printf (out, "  %-16s %s%s%s%s\n", "version",
                          answered->version != NULL ? answered->version : "unknown",
                          answered->package != NULL && *answered->package != '\0' ? " (" : "",
                          answered->package != NULL ? answered->package : "",
                          answered->package != NULL && *answered->package != '\0' ? ")" : "");
  g_string_append_printf (out, "  %-16s %s\n", "default machine",
                          answered->default_machine != NULL ? answered->default_machine : "unknown");
  for (guint i = 0; i < host->accels->len; i++)
    {
      ProbeAccelInfo *info = host->accels->pdata[i];

      if (info->usable)
        g_string_append_printf (out, "  %-16s works\n", info->accel);
      else
        g_string_append_printf (out, "  %-16s unusable: %s\n", info->accel, info->failure);
    }
}

static void
text_host_model (GString *out, const ProbeAccelInfo *info)
{
  X86FeatureSet non_migratable;
  g_autoptr (GPtrArray) names = NULL;

  g_string_append_printf (out, "\nQEMU's `%s` CPU under %s\n", info->host_model_name, info->accel);
  if (!info->usable)
    {
      g_string_append_printf (out, "  unknown: %s is unusable\n", info->accel);
      return;
    }
  if (!info->expansion_known)
    {
      g_string_append_printf (out, "  unknown: %s\n", info->expansion_missing);
      if (info->lacking_known && !x86_feature_set_is_empty (&info->lacking))
        {
          g_autoptr (GPtrArray) lacking = x86_feature_set_to_names (&info->lacking, FALSE);
          g_autofree char *joined = NULL;

          g_ptr_array_add (lacking, NULL);
          joined = g_strjoinv (" ", (char **) lacking->pdata);
          g_string_append_printf (out, "  what QEMU does say: its named models lack these under %s: %s\n",
                                  info->accel, joined);
        }
      return;
    }
  if (g_strcmp0 (info->host_model_method, "post-start") == 0)
    g_string_append_printf (out, "  read from a paused QEMU (-cpu %s on machine %s, post-start); "
                            "MSR features are not read that way\n", info->host_model_name,
                            info->host_model_machine != NULL ? info->host_model_machine : "?");
  if (info->host_model_note != NULL)
    g_string_append_printf (out, "  %s\n", info->host_model_note);
  x86_feature_set_subtract (&non_migratable, &info->supported, &info->migratable);
  names = x86_feature_set_to_names (&non_migratable, FALSE);
  g_string_append_printf (out, "  %u features with migratable=on; %u with migratable=off",
                          x86_feature_set_count (&info->migratable),
                          x86_feature_set_count (&info->supported));
  if (names->len > 0)
    {
      g_autofree char *joined = NULL;

      g_ptr_array_add (names, NULL);
      joined = g_strjoinv (" ", (char **) names->pdata);
      g_string_append_printf (out, " (only without migration: %s)", joined);
    }
  g_string_append (out, "\n");
  if (info->closest != NULL)
    {
      g_string_append_printf (out, "  as libvirt XML: closest usable named model %s, %d feature changes"
                              " (of %d usable models compared)\n",
                              json_object_get_string (json_object_object_get (info->closest, "model")),
                              json_object_get_int (json_object_object_get (info->closest, "changes")),
                              json_object_get_int (json_object_object_get (info->closest, "candidates")));
      cli_xml_custom_cpu (out, info->closest, "    ");
    }
  else if (info->models_known)
    g_string_append (out, "  no usable named model to build a libvirt custom CPU from\n");
}

static void
text_models_summary (GString *out, const ProbeHost *host)
{
  g_string_append (out, "\nNamed models (`vcpuprobe models` lists them)\n");
  for (guint i = 0; i < host->accels->len; i++)
    {
      ProbeAccelInfo *info = host->accels->pdata[i];
      guint usable = 0, unknown = 0, total = 0;

      if (!info->models_known)
        {
          g_string_append_printf (out, "  %-16s unknown\n", info->accel);
          continue;
        }
      for (guint j = 0; j < info->n_models; j++)
        {
          total++;
          if (info->models[j].unavailable == NULL)
            unknown++;
          else if (info->models[j].n_unavailable == 0)
            usable++;
        }
      if (unknown == total)
        g_string_append_printf (out, "  %-16s %u models; usability unknown (QEMU older than 2.8 does "
                                "not say: `vcpuprobe models` starts each one to see)\n", info->accel, total);
      else
        g_string_append_printf (out, "  %-16s %u of %u usable\n", info->accel, usable, total);
    }
}

/* The question users ask most: features the silicon has that the guest does not get. */
static void
text_missing (GString *out, const ProbeHost *host)
{
  ProbeAccelInfo *kvm = probe_host_accel (host, "kvm");
  g_autoptr (GString) by_kvm = g_string_new (NULL);
  g_autoptr (GString) by_qemu = g_string_new (NULL);
  guint n_features;
  const X86Feature *table = x86_features (&n_features);

  if (host->hardware == NULL || kvm == NULL || !kvm->usable || !kvm->expansion_known)
    return;
  for (guint i = 0; i < n_features; i++)
    {
      const X86Feature *feature = &table[i];

      if (!x86_feature_set_has (&host->hardware_all, feature)
          || x86_feature_set_has (&kvm->supported, feature)
          || (feature->flags & (X86_FEATURE_DYNAMIC | X86_FEATURE_LIBVIRT_ONLY)))
        continue;
      if (host->kvm != NULL && host->kvm->available
          && !x86_feature_set_has (&host->kvm->supported_features, feature))
        g_string_append_printf (by_kvm, " %s", feature->name);
      else
        g_string_append_printf (by_qemu, " %s", feature->name);
    }
  g_string_append (out, "\nIn the hardware of every CPU, but not in the kvm guest\n");
  /* Without KVM's table (not read, or no /dev/kvm) the two cannot be told apart. */
  if (host->kvm == NULL || !host->kvm->available)
    {
      g_string_append_printf (out, "  %-16s%s\n", "removed by KVM or QEMU",
                              by_qemu->len > 0 ? by_qemu->str : " none");
      return;
    }
  g_string_append_printf (out, "  %-16s%s\n", "removed by KVM", by_kvm->len > 0 ? by_kvm->str : " none");
  g_string_append_printf (out, "  %-16s%s\n", "removed by QEMU", by_qemu->len > 0 ? by_qemu->str : " none");
}

/* The other way round: what KVM gives the guest although the silicon lacks it, and why. */
static void
text_kvm_emulated (GString *out, const ProbeHost *host)
{
  guint n_features;
  const X86Feature *table = x86_features (&n_features);
  X86KvmHostKind kind;
  gboolean any = FALSE;

  if (!kvm_host_kind (host, &kind))
    return;
  for (guint i = 0; i < n_features; i++)
    {
      FeatureLayers layers = layers_of (host, &kind, &table[i]);

      if (layers.kvm_emulated == NULL || (table[i].flags & X86_FEATURE_SECOND_BIT))
        continue;
      if (!any)
        g_string_append (out, "\nSupported by KVM, not in the hardware of every CPU (kvm-emulated)\n");
      any = TRUE;
      g_string_append_printf (out, "  %-24s %s\n", table[i].name, layers.kvm_emulated);
    }
}

static const char *
or_dash (const char *text)
{
  return text != NULL ? text : "?";
}

static void
text_table (GString *out, const ProbeHost *host)
{
  guint n_features;
  const X86Feature *table = x86_features (&n_features);
  X86KvmHostKind kind;
  gboolean kind_known = kvm_host_kind (host, &kind);

  g_string_append (out, "\nLayers per feature (hardware: on all/some/none of the CPUs; ? = not known)\n");
  g_string_append_printf (out, "  %-24s %-9s %-10s %-15s %s\n", "feature", "hardware", "kvm",
                          "qemu host", "tcg max");
  for (guint i = 0; i < n_features; i++)
    {
      FeatureLayers layers = layers_of (host, kind_known ? &kind : NULL, &table[i]);

      if (layers_empty (&layers))
        continue;
      g_string_append_printf (out, "  %-24s %-9s %-10s %-15s %s\n", table[i].name,
                              layers.hardware != NULL ? layers.hardware
                              : host->hardware != NULL ? "-" : "?",
                              or_dash (layers.kvm), or_dash (layers.qemu_host),
                              layers.qemu_max < 0 ? "?" : layers.qemu_max ? "yes" : "no");
    }
  g_string_append (out, "  (hardware \"-\": an MSR feature, which CPUID cannot show)\n");
}

static void
host_text (GString *out, const ProbeHost *host, const ProbeAccelInfo *primary, CliSource *source)
{
  cli_source_add_replay_text (source, out);
  text_identity (out, host);
  text_qemu (out, host, primary, source);
  for (guint i = 0; i < host->accels->len; i++)
    text_host_model (out, host->accels->pdata[i]);
  text_models_summary (out, host);
  text_missing (out, host);
  text_kvm_emulated (out, host);
  text_table (out, host);
}

/* ---- The command ---- */

static gboolean
any_accel_usable (const ProbeHost *host)
{
  for (guint i = 0; i < host->accels->len; i++)
    if (((ProbeAccelInfo *) g_ptr_array_index (host->accels, i))->usable)
      return TRUE;
  return FALSE;
}

/* What the report says of every accelerator lasts: usable, or kvm without a usable
 * /dev/kvm (the cache key holds /dev/kvm). A QEMU that failed may work next time (a
 * timeout, a QEMU killed): its facts are not stored (probe/host-model.c), and neither is a
 * report that says it failed. */
static gboolean
report_lasts (const ProbeHost *host)
{
  for (guint i = 0; i < host->accels->len; i++)
    {
      const ProbeAccelInfo *info = g_ptr_array_index (host->accels, i);

      if (!info->usable
          && !(strcmp (info->accel, "kvm") == 0 && strcmp (qemu_default_accel (), "kvm") != 0))
        return FALSE;
    }
  return TRUE;
}

ProbeHost *
cli_host_read (CliSource *source, const CliOptions *options, const char *const *accels,
               GError **error)
{
  ProbeHostRequest request = { 0 };
  ProbeHost *host;

  request.source = cli_source_qmp (source);
  request.accels = accels;
  request.machine = options->machine;
  request.cpuid_dump = options->cpuid_dump;
  /* A cache hit asks QEMU nothing, which would leave --record an empty recording. */
  request.use_cache = !options->no_cache && options->record == NULL;
  request.closest_model = TRUE;
  request.method = options->method == CLI_METHOD_POST_START ? PROBE_METHOD_POST_START
                   : options->method == CLI_METHOD_EXPANSION ? PROBE_METHOD_EXPANSION
                   : PROBE_METHOD_AUTO;
  request.deadline_us = cli_options_deadline (options);
  host = probe_host_read (&request, error);
  if (host == NULL)
    cli_source_finish_failed (source, error);
  return host;
}

static int
run_host (const CliOptions *options, GError **error)
{
  g_auto (CliAnswerCache) answers = { 0 };
  g_autoptr (CliSource) source = NULL;
  g_autoptr (ProbeHost) host = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  const char *single[] = { options->accel != NULL ? options->accel : "kvm", NULL };
  const char *const *accels;
  ProbeAccelInfo *primary;
  json_object *document;
  gboolean printed;
  int status;

  /* Reported before on this host: printed again without QEMU or the host reads. */
  if (cli_answer_cache_replay_host (&answers, options, &status, error))
    return status;
  source = cli_source_new (options, error);
  if (source == NULL)
    return -1;
  /* A running QEMU has the one accelerator it was started with. */
  accels = qmp_source_kind (cli_source_qmp (source)) == QMP_SOURCE_SOCKET ? single : both_accels;
  host = cli_host_read (source, options, accels, error);
  if (host == NULL)
    return -1;
  if (!cli_source_finish (source, error))
    return -1;
  /* One unusable accelerator is a finding (no /dev/kvm); none at all means QEMU never
   * answered, and a dump of the silicon alone must not pass for a host report. */
  if (!any_accel_usable (host))
    {
      ProbeAccelInfo *last = g_ptr_array_index (host->accels, host->accels->len - 1);

      g_set_error (error, CLI_ERROR, CLI_ERROR_FAILURE, "%s unusable: %s", last->accel,
                   last->failure);
      return -1;
    }
  if (options->debug)
    for (guint i = 0; i < host->accels->len; i++)
      {
        ProbeAccelInfo *info = host->accels->pdata[i];

        fprintf (stderr, "vcpuprobe: cache %s: %s\n", info->accel, info->cache_status);
      }

  primary = primary_accel (host, options);
  switch (options->format)
    {
    case CLI_FORMAT_TEXT:
      host_text (out, host, primary, source);
      break;
    case CLI_FORMAT_JSON:
      document = host_json (host, primary, source);
      printed = cli_json_print (document, error);
      json_object_put (document);
      return printed ? CLI_EXIT_OK : -1;
    case CLI_FORMAT_XML:
      cli_xml_host (out, host, primary);
      break;
    }
  if (!cli_output_print (out->str, error))
    return -1;
  if (report_lasts (host))
    cli_answer_cache_keep (&answers, CLI_EXIT_OK);
  return CLI_EXIT_OK;
}

const CliCommand cli_command_host = {
  .name = "host",
  .arg_names = NULL,
  .min_args = 0,
  .max_args = 0,
  .options = NULL,
  .run = run_host,
};
