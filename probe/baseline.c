/* probe/baseline.c — the best CPU definition a pool of hosts gives identically
 * (probe/baseline.h). */
#include "probe/baseline.h"

#include <string.h>
#include "probe/compare.h"
#include "probe/expansion.h"
#include "probe/host-layers.h"
#include "probe/profile-answer.h"
#include "probe/qemu-info.h"
#include "x86/feature-table.h"
#include "x86/kvm-cpuid.h"

G_DEFINE_QUARK (probe-baseline-error-quark, probe_baseline_error)

/* Settling a definition stops here at the latest: each round switches at least one
 * feature for good, so this is far more than any model needs. */
#define MAX_ROUNDS 64

static void
removal_free (gpointer data)
{
  ProbeBaselineRemoval *removal = data;

  g_free (removal->host);
  g_free (removal->layer);
  g_free (removal);
}

static void
left_out_free (gpointer data)
{
  ProbeBaselineLeftOut *left_out = data;

  g_ptr_array_unref (left_out->removals);
  g_free (left_out);
}

void
probe_baseline_free (ProbeBaseline *baseline)
{
  if (baseline == NULL)
    return;
  g_free (baseline->model);
  g_clear_pointer (&baseline->enabled, g_ptr_array_unref);
  g_clear_pointer (&baseline->disabled, g_ptr_array_unref);
  g_clear_pointer (&baseline->left_out, g_ptr_array_unref);
  g_free (baseline);
}

/* One host as the baseline sees it: one of a kind, standing for every alike profile
 * (ProbeProfileShelf) of the pool, which it would only repeat. */
typedef struct {
  const ProbeProfile *profile;
  const char *machine;
  struct ProbeFacts *facts;
  struct ProbeFacts *tcg_facts;  /* the model before any accelerator's defaults, or NULL */
  X86FeatureSet allowed;      /* what the accelerator lets through the filter */
  X86FeatureSet known;        /* features this QEMU has a property for */
  X86FeatureSet model;        /* the candidate's plain expansion here */
  X86FeatureSet guest;        /* the candidate definition's expansion here */
  X86FeatureSet defined;      /* the candidate's features as this QEMU defines them before
                               * any accelerator's defaults: a check counts what the
                               * accelerator drops behind the definition's back as removed */
  ProbeHostLayers *layers;    /* the profile's silicon and KVM, as a check reads them */
  X86FeatureSet refused;      /* IA32_ARCH_CAPABILITIES bits a vCPU of this KVM refuses */
} Host;

static void
host_clear (gpointer data)
{
  Host *host = data;

  g_clear_pointer (&host->layers, probe_host_layers_free);
}

/* @model's expansion with @props (borrowed, may be NULL) from @facts; FALSE when the
 * facts cannot answer it. */
static gboolean
expand (struct ProbeFacts *facts, const char *model, json_object *props, X86FeatureSet *set,
        X86FeatureSet *known)
{
  g_autoptr (ProbeJson) arguments = probe_expansion_arguments (model, props != NULL
                                                                      ? json_object_get (props)
                                                                      : NULL);
  g_autoptr (ProbeJson) reply = probe_facts_expand (facts, arguments);
  json_object *expansion = NULL;

  return reply != NULL && json_object_object_get_ex (reply, "return", &expansion)
         && probe_features_from_expansion (expansion, set, known, NULL);
}

/* What the filter lets through, as probe/expansion.c reads it: the supported model
 * (host under kvm, max under tcg) with migratable off, and under kvm the bits QEMU grants
 * without support; less what a check takes out of a kvm guest the same way
 * (probe/compare.h): bits QEMU grants that this KVM's table lacks, and the
 * IA32_ARCH_CAPABILITIES bits its vCPUs refuse, which would make QEMU abort. */
static gboolean
read_allowed (Host *host, const char *accel)
{
  g_autoptr (ProbeJson) props = json_object_new_object ();
  guint n_features;
  const X86Feature *features = x86_features (&n_features);
  ProbeCompareInput taken = { .accel = accel };

  json_object_object_add (props, "migratable", json_object_new_boolean (FALSE));
  if (!expand (host->facts, probe_supported_model (accel), props, &host->allowed, &host->known))
    return FALSE;
  if (g_strcmp0 (accel, "kvm") != 0)
    return TRUE;
  for (guint i = 0; i < n_features; i++)
    if (features[i].flags & X86_FEATURE_NO_AUTO)
      x86_feature_set_add (&host->allowed, &features[i]);
  /* Read here, before the models are settled: one found malformed fails the baseline. */
  host->layers = probe_host_layers_read (probe_profile_cpuid (host->profile), FALSE, NULL);
  taken.layers = host->layers;
  taken.guest = host->allowed;
  probe_compare_filter_no_auto (&taken);
  probe_compare_refuse_msr_bits (&taken);
  host->allowed = taken.guest;
  host->refused = taken.refused_by_vcpu;
  return TRUE;
}

/* The properties of a definition: @on switched on, @off switched off. */
static json_object *
toggles_props (const X86FeatureSet *on, const X86FeatureSet *off)
{
  json_object *props = json_object_new_object ();
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  for (guint i = 0; i < n_features; i++)
    {
      const char *property = x86_feature_qemu_property (&features[i]);

      if (property == NULL)
        continue;
      if (x86_feature_set_has (off, &features[i]))
        json_object_object_add (props, property, json_object_new_boolean (FALSE));
      else if (x86_feature_set_has (on, &features[i]))
        json_object_object_add (props, property, json_object_new_boolean (TRUE));
    }
  return props;
}

/* libvirt can say the feature (when a map is given). */
static gboolean
libvirt_names (const LibvirtCpuMap *map, const X86Feature *feature)
{
  return map == NULL || libvirt_cpu_map_find_feature (map, x86_feature_libvirt_name (feature)) != NULL;
}

/* Switches @feature on or off in the definition; FALSE when the definition cannot say it
 * (no QEMU property, one of the QEMUs lacks it, libvirt cannot name it). */
static gboolean
toggle (GArray *hosts, const LibvirtCpuMap *map, const X86Feature *feature, gboolean on,
        X86FeatureSet *enabled, X86FeatureSet *disabled)
{
  if (x86_feature_qemu_property (feature) == NULL || !libvirt_names (map, feature))
    return FALSE;
  for (guint h = 0; h < hosts->len; h++)
    if (!x86_feature_set_has (&g_array_index (hosts, Host, h).known, feature))
      return FALSE;
  x86_feature_set_remove (on ? disabled : enabled, feature);
  x86_feature_set_add (on ? enabled : disabled, feature);
  return TRUE;
}

typedef struct {
  GArray *hosts;
  const LibvirtCpuMap *map;
  X86FeatureSet *enabled, *disabled;
  gboolean on;
  gboolean failed;
} ToggleAll;

static void
toggle_each (guint word, guint bit, const X86Feature *feature, gpointer data)
{
  ToggleAll *all = data;

  if (feature == NULL || !toggle (all->hosts, all->map, feature, all->on, all->enabled, all->disabled))
    all->failed = TRUE;
}

/* Settles the definition of @model: toggles until every host gives the same guest and
 * filters nothing. FALSE when it cannot be settled. */
static gboolean
settle_model (GArray *hosts, const char *model, const LibvirtCpuMap *map,
              X86FeatureSet *enabled, X86FeatureSet *disabled)
{
  x86_feature_set_clear (enabled);
  x86_feature_set_clear (disabled);
  for (guint h = 0; h < hosts->len; h++)
    {
      Host *host = &g_array_index (hosts, Host, h);
      x86_feature_set_clear (&host->defined);
      if (host->tcg_facts == NULL || !expand (host->tcg_facts, model, NULL, &host->defined, NULL))
        expand (host->facts, model, NULL, &host->defined, NULL);
    }
  for (guint round = 0; round < MAX_ROUNDS; round++)
    {
      g_autoptr (ProbeJson) props = toggles_props (enabled, disabled);
      X86FeatureSet filtered, common, any, everywhere;
      ToggleAll all = { hosts, map, enabled, disabled, FALSE, FALSE };

      x86_feature_set_clear (&filtered);
      for (guint h = 0; h < hosts->len; h++)
        {
          Host *host = &g_array_index (hosts, Host, h);
          X86FeatureSet lost;

          if (!expand (host->facts, model, props, &host->guest, NULL))
            return FALSE;
          x86_feature_set_subtract (&lost, &host->guest, &host->allowed);
          x86_feature_set_union (&filtered, &filtered, &lost);
        }
      /* What some host filters goes. */
      if (!x86_feature_set_is_empty (&filtered))
        {
          x86_feature_set_foreach (&filtered, toggle_each, &all);
          if (all.failed)
            return FALSE;
          continue;
        }
      /* What the hosts' QEMUs give differently: on where all support it, else off. */
      common = g_array_index (hosts, Host, 0).guest;
      any = common;
      everywhere = g_array_index (hosts, Host, 0).allowed;
      for (guint h = 1; h < hosts->len; h++)
        {
          Host *host = &g_array_index (hosts, Host, h);

          x86_feature_set_intersect (&common, &common, &host->guest);
          x86_feature_set_union (&any, &any, &host->guest);
          x86_feature_set_intersect (&everywhere, &everywhere, &host->allowed);
        }
      x86_feature_set_subtract (&any, &any, &common);
      if (x86_feature_set_is_empty (&any))
        {
          X86FeatureSet unsaid;

          /* The model's features no host gives are said off, so that a check finds the
           * definition and the guest alike. */
          x86_feature_set_clear (&unsaid);
          for (guint h = 0; h < hosts->len; h++)
            x86_feature_set_union (&unsaid, &unsaid, &g_array_index (hosts, Host, h).defined);
          x86_feature_set_subtract (&unsaid, &unsaid, &common);
          x86_feature_set_subtract (&unsaid, &unsaid, disabled);
          if (x86_feature_set_is_empty (&unsaid))
            return TRUE;
          all.on = FALSE;
          x86_feature_set_foreach (&unsaid, toggle_each, &all);
          if (all.failed)
            return FALSE;
          continue;
        }
      {
        X86FeatureSet switch_on, switch_off;

        x86_feature_set_intersect (&switch_on, &any, &everywhere);
        x86_feature_set_subtract (&switch_off, &any, &everywhere);
        all.on = TRUE;
        x86_feature_set_foreach (&switch_on, toggle_each, &all);
        all.on = FALSE;
        x86_feature_set_foreach (&switch_off, toggle_each, &all);
        if (all.failed)
          return FALSE;
      }
    }
  return FALSE;
}

/* The layer of @host that removed @feature from the guest. NULL when this host did not. */
static const char *
removed_by (const Host *host, const char *accel, const X86FeatureSet *disabled,
            const X86Feature *feature)
{
  const X86KvmCpuid *kvm;
  const X86CpuidDump *cpuid;
  X86FeatureSet hardware;

  if (!x86_feature_set_has (&host->model, feature))
    return "model";
  /* Given here: switched off for another host, or gone with a prerequisite. */
  if (x86_feature_set_has (&host->allowed, feature))
    return x86_feature_set_has (&host->guest, feature) || x86_feature_set_has (disabled, feature)
           ? NULL : "dependency";
  if (g_strcmp0 (accel, "kvm") != 0)
    return "tcg";
  if (x86_feature_set_has (&host->refused, feature))
    return "kvm";
  /* Read when the host's layers were: a malformed one has failed the baseline by now. */
  cpuid = probe_profile_cpuid (host->profile);
  if (cpuid == NULL)
    return "hardware";
  probe_host_layers_common_features (cpuid, &hardware);
  kvm = x86_cpuid_dump_kvm (cpuid);
  if (kvm != NULL && x86_feature_set_has (&kvm->supported_features, feature))
    return "qemu";
  return x86_feature_set_has (&hardware, feature) ? "kvm" : "hardware";
}

typedef struct {
  GArray *hosts;
  GPtrArray *profiles;      /* every host of the pool */
  GArray *kind_of;          /* per profile: its host in hosts */
  const char *accel;
  const X86FeatureSet *disabled;
  GPtrArray *left_out;
} LeftOutWalk;

static void
add_left_out (guint word, guint bit, const X86Feature *feature, gpointer data)
{
  LeftOutWalk *walk = data;
  ProbeBaselineLeftOut *left_out;

  if (feature == NULL)
    return;
  left_out = g_new0 (ProbeBaselineLeftOut, 1);
  left_out->feature = feature;
  left_out->removals = g_ptr_array_new_with_free_func (removal_free);
  for (guint p = 0; p < walk->profiles->len; p++)
    {
      const ProbeProfile *profile = g_ptr_array_index (walk->profiles, p);
      const Host *host = &g_array_index (walk->hosts, Host, g_array_index (walk->kind_of, guint, p));
      const char *layer = removed_by (host, walk->accel, walk->disabled, feature);

      if (layer != NULL)
        {
          ProbeBaselineRemoval *removal = g_new0 (ProbeBaselineRemoval, 1);

          removal->host = g_strdup (profile->host);
          removal->layer = g_strdup (layer);
          g_ptr_array_add (left_out->removals, removal);
        }
    }
  g_ptr_array_add (walk->left_out, left_out);
}

static void
add_feature (guint word, guint bit, const X86Feature *feature, gpointer data)
{
  if (feature != NULL)
    g_ptr_array_add (data, (gpointer) feature);
}

/* The models every host answers for, in the first host's order, less host and max. */
static GPtrArray *
candidate_models (GArray *hosts, const LibvirtCpuMap *map)
{
  g_autoptr (GPtrArray) first = probe_facts_models (g_array_index (hosts, Host, 0).facts);
  GPtrArray *candidates = g_ptr_array_new ();

  for (guint i = 0; i < first->len; i++)
    {
      const char *model = g_ptr_array_index (first, i);
      gboolean everywhere = strcmp (model, "host") != 0 && strcmp (model, "max") != 0
                            && (map == NULL || libvirt_cpu_map_find_model (map, model) != NULL);

      for (guint h = 1; everywhere && h < hosts->len; h++)
        {
          g_autoptr (GPtrArray) models = probe_facts_models (g_array_index (hosts, Host, h).facts);

          everywhere = g_ptr_array_find_with_equal_func (models, model, g_str_equal, NULL);
        }
      if (everywhere)
        g_ptr_array_add (candidates, (gpointer) model);
    }
  return candidates;
}

ProbeBaseline *
probe_baseline_compute (GPtrArray *profiles, const char *accel, const char *machine,
                        const LibvirtCpuMap *map, GError **error)
{
  g_autoptr (GArray) hosts = g_array_new (FALSE, TRUE, sizeof (Host));
  g_autoptr (GArray) kind_of = g_array_sized_new (FALSE, FALSE, sizeof (guint), profiles->len);
  /* what a profile answers as (ProbeProfile.alike, else itself) → 1 + its host's index */
  g_autoptr (GHashTable) kinds = g_hash_table_new (NULL, NULL);
  g_autoptr (GPtrArray) candidates = NULL;
  g_autoptr (ProbeBaseline) baseline = g_new0 (ProbeBaseline, 1);
  X86FeatureSet best_enabled, best_disabled;
  const char *best = NULL;
  guint best_count = 0;

  g_array_set_clear_func (hosts, host_clear);

  for (guint i = 0; i < profiles->len; i++)
    {
      Host host = { .profile = g_ptr_array_index (profiles, i), .machine = machine };
      gconstpointer kind = host.profile->alike != NULL ? (gconstpointer) host.profile->alike
                                                       : (gconstpointer) host.profile;
      guint known = GPOINTER_TO_UINT (g_hash_table_lookup (kinds, kind));

      if (known > 0)
        {
          known--;
          g_array_append_val (kind_of, known);
          continue;
        }
      g_hash_table_insert (kinds, (gpointer) kind, GUINT_TO_POINTER (hosts->len + 1));
      g_array_append_val (kind_of, hosts->len);
      {
        GError *malformed = NULL;

        host.facts = probe_profile_facts (host.profile, accel, machine, &malformed);
        /* The model before any accelerator's defaults: tcg applies none. */
        if (malformed == NULL)
          host.tcg_facts = probe_profile_facts (host.profile, "tcg", machine, &malformed);
        if (malformed != NULL)
          {
            g_propagate_error (error, malformed);
            return NULL;
          }
      }
      if (host.facts == NULL || !read_allowed (&host, accel))
        {
          g_set_error (error, PROBE_BASELINE_ERROR, PROBE_BASELINE_ERROR_UNANSWERED,
                       "%s: the profile of %s holds no expansions under %s on machine %s",
                       host.profile->path, host.profile->host, accel, machine);
          host_clear (&host);
          return NULL;
        }
      g_array_append_val (hosts, host);
    }
  candidates = candidate_models (hosts, map);
  baseline->n_candidates = candidates->len;
  for (guint i = 0; i < candidates->len; i++)
    {
      const char *model = g_ptr_array_index (candidates, i);
      X86FeatureSet enabled, disabled;
      guint count;

      if (!settle_model (hosts, model, map, &enabled, &disabled))
        continue;
      count = x86_feature_set_count (&g_array_index (hosts, Host, 0).guest);
      if (best == NULL || count > best_count)
        {
          best = model;
          best_count = count;
          best_enabled = enabled;
          best_disabled = disabled;
        }
    }
  /* Facts are read as the models are settled: one found malformed settled nothing. */
  for (guint h = 0; h < hosts->len; h++)
    {
      GError *malformed = probe_profile_malformed (g_array_index (hosts, Host, h).profile);

      if (malformed != NULL)
        {
          g_propagate_error (error, malformed);
          return NULL;
        }
    }
  if (best == NULL)
    {
      g_set_error (error, PROBE_BASELINE_ERROR, PROBE_BASELINE_ERROR_NO_MODEL,
                   "no named model of the %u every host defines can be given identically "
                   "everywhere under %s", candidates->len, accel);
      return NULL;
    }

  /* The winner settled again, so every host holds its expansions for the report. */
  settle_model (hosts, best, map, &best_enabled, &best_disabled);
  baseline->model = g_strdup (best);
  baseline->guest = g_array_index (hosts, Host, 0).guest;
  baseline->enabled = g_ptr_array_new ();
  baseline->disabled = g_ptr_array_new ();
  x86_feature_set_foreach (&best_enabled, add_feature, baseline->enabled);
  x86_feature_set_foreach (&best_disabled, add_feature, baseline->disabled);
  {
    X86FeatureSet defined;
    LeftOutWalk walk = { hosts, profiles, kind_of, accel, &best_disabled,
                         g_ptr_array_new_with_free_func (left_out_free) };

    x86_feature_set_clear (&defined);
    for (guint h = 0; h < hosts->len; h++)
      {
        Host *host = &g_array_index (hosts, Host, h);

        expand (host->facts, best, NULL, &host->model, NULL);
        x86_feature_set_union (&defined, &defined, &host->model);
      }
    x86_feature_set_subtract (&defined, &defined, &baseline->guest);
    x86_feature_set_foreach (&defined, add_left_out, &walk);
    baseline->left_out = walk.left_out;
  }
  return g_steal_pointer (&baseline);
}

char *
probe_baseline_cpu_string (const ProbeBaseline *baseline)
{
  GString *cpu = g_string_new (baseline->model);

  for (guint i = 0; i < baseline->enabled->len; i++)
    g_string_append_printf (cpu, ",+%s",
                            x86_feature_qemu_property (g_ptr_array_index (baseline->enabled, i)));
  for (guint i = 0; i < baseline->disabled->len; i++)
    g_string_append_printf (cpu, ",-%s",
                            x86_feature_qemu_property (g_ptr_array_index (baseline->disabled, i)));
  return g_string_free (cpu, FALSE);
}
