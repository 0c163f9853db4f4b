/* probe/libvirt-rules.c — libvirt's -cpu line, check modes and updated <cpu>
 * (probe/libvirt-rules.h). */
#include "probe/libvirt-rules.h"

#include <string.h>
#include "probe/compare.h"

static const char *const rule_names[] = {
  [LIBVIRT_RULE_QEMU_MODEL]    = "qemu-model",
  [LIBVIRT_RULE_CHECK_NONE]    = "libvirt-check-none",
  [LIBVIRT_RULE_CHECK_PARTIAL] = "libvirt-check-partial",
  [LIBVIRT_RULE_CHECK_FULL]    = "libvirt-check-full",
};

const char *
libvirt_rule_name (LibvirtRule rule)
{
  g_return_val_if_fail (rule < G_N_ELEMENTS (rule_names), NULL);
  return rule_names[rule];
}

/* qemuDomainDefCPUPostParse: custom CPUs under tcg are not compared with the host. */
CpuCheck
libvirt_rules_effective_check (const CpuDef *def, const char *accel)
{
  if (def->check != CPU_CHECK_UNSET)
    return def->check;
  switch (def->mode)
    {
    case CPU_MODE_HOST_PASSTHROUGH:
    case CPU_MODE_MAXIMUM:
      return CPU_CHECK_NONE;
    case CPU_MODE_HOST_MODEL:
      return CPU_CHECK_PARTIAL;
    case CPU_MODE_CUSTOM:
    default:
      return g_strcmp0 (accel, "tcg") == 0 ? CPU_CHECK_NONE : CPU_CHECK_PARTIAL;
    }
}

CpuDef *
libvirt_rules_qemu_definition (const CpuDef *def, const LibvirtCpuMap *map)
{
  CpuDef *asked = cpu_def_copy (def);
  const LibvirtCpuModel *model = def->mode == CPU_MODE_CUSTOM
                                 ? libvirt_cpu_map_find_model (map, def->model) : NULL;
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  gboolean has_migratable;

  /* host-passthrough is migratable='on' unless it says otherwise (libvirt >= 6.5, with a
   * QEMU that has the property), and libvirt writes it out. */
  cpu_def_get_property (def, "migratable", &has_migratable);
  if (def->mode == CPU_MODE_HOST_PASSTHROUGH && !has_migratable)
    cpu_def_add_property (asked, "migratable", "on");
  if (model == NULL)
    return asked;
  /* libvirt adds them after the definition's own features, in the model's order; our
   * table order is the same words in the same order for the few there are. */
  for (guint i = 0; i < n_features; i++)
    if (x86_feature_set_has (&model->removed, &features[i])
        && !cpu_def_get_policy (def, &features[i], NULL))
      cpu_def_set_policy (asked, &features[i], CPU_POLICY_DISABLE);
  return asked;
}

void
libvirt_verdict_free (LibvirtVerdict *verdict)
{
  if (verdict == NULL)
    return;
  g_free (verdict->message);
  g_ptr_array_unref (verdict->refusals);
  cpu_def_free (verdict->updated);
  g_free (verdict);
}

/* ---- Names ---- */

static const char *
libvirt_name (const LibvirtCpuMap *map, const X86Feature *feature)
{
  const LibvirtCpuFeature *known = libvirt_cpu_map_feature_of (map, feature);

  return known != NULL ? known->name : x86_feature_libvirt_name (feature);
}

GPtrArray *
libvirt_rules_feature_names (const LibvirtCpuMap *map, const X86FeatureSet *set)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  guint n_map, n_table;
  const LibvirtCpuFeature *const *map_features = libvirt_cpu_map_features (map, &n_map);
  const X86Feature *table = x86_features (&n_table);

  for (guint i = 0; i < n_map; i++)
    if (map_features[i]->feature != NULL && x86_feature_set_has (set, map_features[i]->feature)
        && libvirt_cpu_map_feature_of (map, map_features[i]->feature) == map_features[i])
      g_ptr_array_add (names, g_strdup (map_features[i]->name));
  for (guint i = 0; i < n_table; i++)
    if (x86_feature_set_has (set, &table[i]) && libvirt_cpu_map_feature_of (map, &table[i]) == NULL)
      g_ptr_array_add (names, g_strdup (table[i].name));
  return names;
}

/* "a,b" as libvirt joins names in virCPUx86UpdateLive, or "a, b" as virCPUx86Compare does. */
static char *
join_names (const LibvirtCpuMap *map, const X86FeatureSet *set, const char *separator)
{
  g_autoptr (GPtrArray) names = libvirt_rules_feature_names (map, set);

  g_ptr_array_add (names, NULL);
  return g_strjoinv (separator, (char **) names->pdata);
}

/* ---- The verdict ---- */

typedef struct {
  X86FeatureSet on;          /* force | require */
  X86FeatureSet forced;
  X86FeatureSet optional;
  X86FeatureSet off;         /* disable | forbid */
  X86FeatureSet forbidden;
} Policies;

static void
read_policies (const CpuDef *def, Policies *policies)
{
  memset (policies, 0, sizeof *policies);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORCE, &policies->on);
  cpu_def_add_features_with_policy (def, CPU_POLICY_REQUIRE, &policies->on);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORCE, &policies->forced);
  cpu_def_add_features_with_policy (def, CPU_POLICY_OPTIONAL, &policies->optional);
  cpu_def_add_features_with_policy (def, CPU_POLICY_DISABLE, &policies->off);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORBID, &policies->off);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORBID, &policies->forbidden);
}

/* QEMU has no property for @feature: none ever (cvt16, pconfig) or not this QEMU. */
static gboolean
unknown_to_qemu (const X86Feature *feature, const LibvirtGuestFacts *facts)
{
  return x86_feature_qemu_property (feature) == NULL
         || (facts->unknown_to_qemu != NULL && x86_feature_set_has (facts->unknown_to_qemu, feature));
}

/* virQEMUCapsCPUFilterFeatures: the features libvirt never passes to QEMU, whatever
 * their policy. */
static gboolean
filtered_by_libvirt (const X86Feature *feature)
{
  static const char *const names[] = { "cmt", "mbm_total", "mbm_local", "osxsave", "ospke", NULL };

  return g_strv_contains (names, x86_feature_libvirt_name (feature));
}

/* The features libvirt takes out of the definition before it builds the -cpu line: those
 * of virQEMUCapsCPUFilterFeatures, and (qemuProcessDropUnknownCPUFeatures) those QEMU does
 * not know that are to be off anyway: disabled, forbidden, or optional, which libvirt
 * settles by a host model QEMU made, so to off. A required one unknown to QEMU is passed,
 * and QEMU refuses to start (see find_refusals()). */
static void
dropped_features (const CpuDef *def, const LibvirtGuestFacts *facts, X86FeatureSet *dropped)
{
  x86_feature_set_clear (dropped);
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);

      if (filtered_by_libvirt (entry->feature)
          || (unknown_to_qemu (entry->feature, facts)
              && entry->policy != CPU_POLICY_REQUIRE && entry->policy != CPU_POLICY_FORCE))
        x86_feature_set_add (dropped, entry->feature);
    }
}

static void
policies_without (Policies *policies, const X86FeatureSet *dropped)
{
  x86_feature_set_subtract (&policies->on, &policies->on, dropped);
  x86_feature_set_subtract (&policies->forced, &policies->forced, dropped);
  x86_feature_set_subtract (&policies->optional, &policies->optional, dropped);
  x86_feature_set_subtract (&policies->off, &policies->off, dropped);
  x86_feature_set_subtract (&policies->forbidden, &policies->forbidden, dropped);
}

/* What libvirt refuses whatever the check: at define time, names its map lacks
 * (virCPUValidateFeatures); at start, a model it lacks (x86ModelFromCPU), then a required
 * feature QEMU has no property for (QEMU exits: "can't apply global ...: Property ... not
 * found"); after start, a required invtsc the guest does not have
 * (qemuProcessVerifyCPUFeatures). */
static void
find_refusals (const CpuDef *def, const LibvirtCpuMap *map, const LibvirtGuestFacts *facts,
               GPtrArray *refusals, guint *n_before_start)
{
  const X86Feature *invtsc = x86_feature_lookup ("invtsc");
  CpuPolicy policy;

  for (guint i = 0; i < def->features->len; i++)
    {
      const X86Feature *feature = g_array_index (def->features, CpuFeature, i).feature;

      if (libvirt_cpu_map_feature_of (map, feature) == NULL)
        g_ptr_array_add (refusals, g_strdup_printf ("unknown CPU feature: %s",
                                                    x86_feature_libvirt_name (feature)));
    }
  if (def->mode == CPU_MODE_CUSTOM && def->model != NULL
      && libvirt_cpu_map_find_model (map, def->model) == NULL)
    g_ptr_array_add (refusals, g_strdup_printf ("Unknown CPU model %s", def->model));
  *n_before_start = refusals->len;
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);

      if ((entry->policy == CPU_POLICY_REQUIRE || entry->policy == CPU_POLICY_FORCE)
          && unknown_to_qemu (entry->feature, facts) && !filtered_by_libvirt (entry->feature))
        g_ptr_array_add (refusals, g_strdup_printf ("QEMU has no CPU property '%s': it does not "
                                                    "start", entry->feature->name));
    }
  if (invtsc != NULL && cpu_def_get_policy (def, invtsc, &policy)
      && (policy == CPU_POLICY_FORCE || policy == CPU_POLICY_REQUIRE)
      && !x86_feature_set_has (facts->guest, invtsc))
    g_ptr_array_add (refusals, g_strdup ("host doesn't support invariant TSC"));
}

/* (M ∪ R) − D of virCPUx86UpdateLive, optional features settled by the guest as libvirt
 * settles them before start (virCPUUpdate: require when the host has them, else disable). */
static void
expected_features (const LibvirtCpuModel *model, const Policies *policies,
                   const X86FeatureSet *guest, X86FeatureSet *expected)
{
  X86FeatureSet optional_on, optional_off;

  x86_feature_set_clear (expected);
  if (model != NULL)
    *expected = model->features;
  x86_feature_set_union (expected, expected, &policies->on);
  x86_feature_set_intersect (&optional_on, &policies->optional, guest);
  x86_feature_set_union (expected, expected, &optional_on);
  x86_feature_set_subtract (expected, expected, &policies->off);
  /* An optional feature libvirt settled to disable leaves the expected set even when the
   * model has it (EPYC with optional aes on a host whose KVM lacks aes). */
  x86_feature_set_subtract (&optional_off, &policies->optional, guest);
  x86_feature_set_subtract (expected, expected, &optional_off);
}

/* virCPUx86UpdateLive. A host-passthrough or maximum CPU has no model to hold the guest
 * to: only the features it disables count as extra when the guest has them. */
static void
judge_full (LibvirtVerdict *verdict, const LibvirtCpuMap *map, const X86FeatureSet *expected,
            const Policies *policies, gboolean passthrough, const LibvirtGuestFacts *facts)
{
  const X86FeatureSet *known = libvirt_cpu_map_known (map);
  X86FeatureSet filtered_known;

  x86_feature_set_intersect (&verdict->extra, facts->guest, known);
  if (passthrough)
    x86_feature_set_intersect (&verdict->extra, &verdict->extra, &policies->off);
  x86_feature_set_subtract (&verdict->extra, &verdict->extra, expected);
  x86_feature_set_subtract (&verdict->missing, expected, facts->guest);
  x86_feature_set_intersect (&verdict->missing, &verdict->missing, known);
  x86_feature_set_intersect (&filtered_known, facts->filtered, known);
  /* libvirt turns an optional feature off where the host lacks it: never filtered. */
  x86_feature_set_subtract (&filtered_known, &filtered_known, &policies->optional);
  x86_feature_set_union (&verdict->missing, &verdict->missing, &filtered_known);
}

static char *
full_message (const LibvirtCpuMap *map, const LibvirtVerdict *verdict)
{
  g_autofree char *extra = join_names (map, &verdict->extra, ",");
  g_autofree char *missing = join_names (map, &verdict->missing, ",");

  if (*extra == '\0' && *missing == '\0')
    return NULL;
  return g_strdup_printf ("guest CPU doesn't match specification: %s%s%s%s%s",
                          *extra != '\0' ? "extra features: " : "", extra,
                          *extra != '\0' && *missing != '\0' ? ", " : "",
                          *missing != '\0' ? "missing features: " : "", missing);
}

/* x86Compute: the model and the required features, less forced, optional and disabled
 * ones, must be in the host-model CPU; no forbid feature may be. */
static void
judge_partial (LibvirtVerdict *verdict, const LibvirtCpuModel *model, const Policies *policies,
               const LibvirtCpuMap *map, const LibvirtGuestFacts *facts)
{
  const X86FeatureSet *known = libvirt_cpu_map_known (map);
  X86FeatureSet required;

  x86_feature_set_clear (&required);
  if (model != NULL)
    required = model->features;
  x86_feature_set_union (&required, &required, &policies->on);
  x86_feature_set_subtract (&required, &required, &policies->forced);
  x86_feature_set_subtract (&required, &required, &policies->optional);
  x86_feature_set_subtract (&required, &required, &policies->off);
  x86_feature_set_intersect (&required, &required, known);

  verdict->host_known = facts->supported_known;
  if (facts->supported_known)
    {
      X86FeatureSet host = *facts->supported;

      if (g_strcmp0 (facts->accel, "kvm") == 0 && facts->host_cpuid != NULL)
        x86_feature_set_union (&host, &host, facts->host_cpuid);
      x86_feature_set_subtract (&verdict->host_lacks, &required, &host);
      x86_feature_set_intersect (&verdict->host_forbidden, &policies->forbidden, &host);
    }
  else
    {
      /* Without the supported set, what QEMU filtered is all that is known to be lacking. */
      x86_feature_set_intersect (&verdict->host_lacks, &required, facts->filtered);
      x86_feature_set_intersect (&verdict->host_forbidden, &policies->forbidden, facts->guest);
    }
}

/* virCPUCheckForbiddenFeatures names the first forbid feature of the definition the host
 * has, in the definition's order and spelling (measured: "Host CPU provides forbidden
 * feature 'sse2'"); the required ones come all together, in map order. */
static char *
partial_message (const CpuDef *def, const LibvirtCpuMap *map, const LibvirtVerdict *verdict,
                 const char *host_vendor)
{
  const char *wanted = def->vendor != NULL ? libvirt_cpu_map_vendor_string (map, def->vendor) : NULL;

  /* x86Compute compares the vendor first; an unknown host vendor is not judged. */
  if (def->vendor != NULL && host_vendor != NULL && g_strcmp0 (wanted, host_vendor) != 0)
    return g_strdup_printf ("the CPU is incompatible with host CPU: "
                            "host CPU vendor does not match required CPU vendor %s", def->vendor);
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);

      if (entry->policy == CPU_POLICY_FORBID
          && x86_feature_set_has (&verdict->host_forbidden, entry->feature))
        return g_strdup_printf ("the CPU is incompatible with host CPU: "
                                "Host CPU provides forbidden feature '%s'",
                                libvirt_name (map, entry->feature));
    }
  if (!x86_feature_set_is_empty (&verdict->host_lacks))
    {
      g_autofree char *names = join_names (map, &verdict->host_lacks, ", ");

      return g_strdup_printf ("the CPU is incompatible with host CPU: "
                              "Host CPU does not provide required features: %s", names);
    }
  return NULL;
}

/* The model libvirt knows for @model: itself, or for a QEMU version of a model libvirt
 * knows ("Westmere-v1", "IvyBridge-v2") the unversioned name. libvirt refuses the
 * versioned one; the unversioned one, with the features that differ required or
 * disabled, gives the same features, which is all check='full' compares. */
static const char *
model_known_to_libvirt (const LibvirtCpuMap *map, const char *model)
{
  g_autofree char *unversioned = NULL;
  const char *suffix;
  const LibvirtCpuModel *known;

  if (model == NULL || libvirt_cpu_map_find_model (map, model) != NULL
      || (suffix = strrchr (model, '-')) == NULL || suffix[1] != 'v' || suffix[2] == '\0'
      || strspn (suffix + 2, "0123456789") != strlen (suffix + 2))
    return model;
  unversioned = g_strndup (model, suffix - model);
  known = libvirt_cpu_map_find_model (map, unversioned);
  return known != NULL ? known->name : model;
}

typedef struct {
  const char *name;
  guint distance;
  guint index;
} ModelDistance;

static gint
by_distance (gconstpointer a, gconstpointer b)
{
  const ModelDistance *x = a, *y = b;

  if (x->distance != y->distance)
    return x->distance < y->distance ? -1 : 1;
  return x->index < y->index ? -1 : x->index > y->index;
}

GPtrArray *
libvirt_rules_models_nearest (const LibvirtCpuMap *map, const X86FeatureSet *guest)
{
  g_autoptr (GPtrArray) names = libvirt_cpu_map_model_names (map);
  g_autoptr (GArray) ranked = g_array_new (FALSE, FALSE, sizeof (ModelDistance));
  GPtrArray *nearest = g_ptr_array_new ();
  X86FeatureSet named;

  x86_feature_set_intersect (&named, guest, libvirt_cpu_map_known (map));
  for (guint i = 0; i < names->len; i++)
    {
      const LibvirtCpuModel *model = libvirt_cpu_map_find_model (map, names->pdata[i]);
      X86FeatureSet only_guest, only_model;
      ModelDistance entry = { model->name, 0, i };

      /* The twins libvirt never names a guest with (<decode guest='off'>) are left to
       * their namesakes, as libvirt's own choice of a model leaves them. */
      if (!model->decode_guest)
        continue;
      x86_feature_set_subtract (&only_guest, &named, &model->features);
      x86_feature_set_subtract (&only_model, &model->features, &named);
      entry.distance = x86_feature_set_count (&only_guest) + x86_feature_set_count (&only_model);
      g_array_append_val (ranked, entry);
    }
  g_array_sort (ranked, by_distance);
  for (guint i = 0; i < ranked->len; i++)
    g_ptr_array_add (nearest, (gpointer) g_array_index (ranked, ModelDistance, i).name);
  return nearest;
}

/* The model the updated definition names: the one libvirt knows for @def's model, or,
 * where the map knows neither it nor its unversioned name (Denverton-v3 in a map older
 * than the model), the map's model nearest to the guest, its features settled by the
 * features that differ. NULL for the modes without a model. */
static const char *
updated_model (const CpuDef *def, const LibvirtCpuMap *map, const X86FeatureSet *guest)
{
  const char *known = model_known_to_libvirt (map, def->model);
  g_autoptr (GPtrArray) nearest = NULL;

  if (def->mode != CPU_MODE_CUSTOM || known == NULL
      || libvirt_cpu_map_find_model (map, known) != NULL)
    return known;
  nearest = libvirt_rules_models_nearest (map, guest);
  return nearest->len > 0 ? nearest->pdata[0] : known;
}

/* The definition libvirt starts and that passes check='full', naming @model_name (see
 * updated_model()): see the header. */
static CpuDef *
updated_definition (const CpuDef *def, const char *model_name, const LibvirtCpuMap *map,
                    const LibvirtVerdict *verdict, const X86FeatureSet *dropped,
                    const LibvirtGuestFacts *facts)
{
  const X86FeatureSet *guest = facts->guest;
  CpuDef *updated = cpu_def_new (def->mode, model_name);
  const LibvirtCpuModel *model;
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  updated->vendor = g_strdup (def->vendor);
  updated->vendor_id = g_strdup (def->vendor_id);
  updated->match = def->match;
  updated->check = CPU_CHECK_FULL;
  updated->fallback = CPU_FALLBACK_FORBID;
  for (guint i = 0; i < def->features->len; i++)
    {
      CpuFeature entry = g_array_index (def->features, CpuFeature, i);

      if (libvirt_cpu_map_feature_of (map, entry.feature) == NULL
          || x86_feature_set_has (dropped, entry.feature) || unknown_to_qemu (entry.feature, facts))
        continue;
      if (entry.policy == CPU_POLICY_OPTIONAL)
        entry.policy = x86_feature_set_has (guest, entry.feature) ? CPU_POLICY_REQUIRE
                                                                   : CPU_POLICY_DISABLE;
      cpu_def_set_policy (updated, entry.feature, entry.policy);
    }
  for (guint i = 0; i < n_features; i++)
    {
      CpuPolicy policy;

      if (x86_feature_set_has (&verdict->extra, &features[i]))
        cpu_def_set_policy (updated, &features[i], CPU_POLICY_REQUIRE);
      else if (x86_feature_set_has (&verdict->missing, &features[i])
               && !(cpu_def_get_policy (updated, &features[i], &policy)
                    && policy == CPU_POLICY_FORBID))
        cpu_def_set_policy (updated, &features[i], CPU_POLICY_DISABLE);
    }
  /* libvirt's own live definition disables the model's removed features too (EPYC:
   * monitor); it passes them as off either way. */
  if (updated->mode == CPU_MODE_CUSTOM
      && (model = libvirt_cpu_map_find_model (map, updated->model)) != NULL)
    for (guint i = 0; i < n_features; i++)
      if (x86_feature_set_has (&model->removed, &features[i])
          && !cpu_def_get_policy (updated, &features[i], NULL))
        cpu_def_set_policy (updated, &features[i], CPU_POLICY_DISABLE);
  return updated;
}

static void
unnamed_changes (const LibvirtCpuMap *map, GArray *changes, X86FeatureSet *set)
{
  x86_feature_set_clear (set);
  for (guint i = 0; changes != NULL && i < changes->len; i++)
    {
      const ProbeChange *change = &g_array_index (changes, ProbeChange, i);

      if (libvirt_cpu_map_feature_of (map, change->feature) == NULL)
        x86_feature_set_add (set, change->feature);
    }
}

LibvirtVerdict *
libvirt_rules_judge (const CpuDef *def, const LibvirtCpuMap *map, const LibvirtGuestFacts *facts)
{
  LibvirtVerdict *verdict = g_new0 (LibvirtVerdict, 1);
  /* A refused "-v1" name is judged as the name libvirt knows, a name it knows in no form
   * as the nearest model of the map: what the updated definition names. */
  const char *updated_name = updated_model (def, map, facts->guest);
  const LibvirtCpuModel *model = def->mode == CPU_MODE_CUSTOM
    ? libvirt_cpu_map_find_model (map, updated_name) : NULL;
  /* host-passthrough and maximum are compared after start only (virCPUx86UpdateLive),
   * never before (qemuProcessUpdateGuestCPU leaves them as they are). */
  gboolean passthrough = def->mode == CPU_MODE_HOST_PASSTHROUGH || def->mode == CPU_MODE_MAXIMUM;
  Policies policies;
  Policies started;        /* after libvirt dropped what QEMU cannot take */
  X86FeatureSet expected, dropped;
  g_autofree char *check_message = NULL;
  guint n_before_start = 0;
  const CpuDef *written = facts->written != NULL ? facts->written : def;

  verdict->refusals = g_ptr_array_new_with_free_func (g_free);
  verdict->check = libvirt_rules_effective_check (written, facts->accel);
  verdict->check_defaulted = written->check == CPU_CHECK_UNSET;
  verdict->rule = verdict->check == CPU_CHECK_FULL ? LIBVIRT_RULE_CHECK_FULL
                  : verdict->check == CPU_CHECK_PARTIAL ? LIBVIRT_RULE_CHECK_PARTIAL
                  : LIBVIRT_RULE_CHECK_NONE;
  read_policies (def, &policies);
  dropped_features (def, facts, &dropped);
  started = policies;
  policies_without (&started, &dropped);
  /* A required feature QEMU lacks stops QEMU (a refusal below): no guest has it to judge. */
  for (guint i = 0; i < def->features->len; i++)
    {
      const X86Feature *feature = g_array_index (def->features, CpuFeature, i).feature;

      if (unknown_to_qemu (feature, facts))
        {
          x86_feature_set_remove (&started.on, feature);
          x86_feature_set_remove (&started.forced, feature);
        }
    }
  find_refusals (def, map, facts, verdict->refusals, &n_before_start);

  /* Extra and missing are always worked out: the updated definition needs them. */
  expected_features (model, &started, facts->guest, &expected);
  judge_full (verdict, map, &expected, &started, passthrough, facts);
  if (verdict->rule == LIBVIRT_RULE_CHECK_PARTIAL && !passthrough)
    {
      /* Compared before libvirt resolves host-model: no model, the features as written. */
      if (written->mode == CPU_MODE_HOST_MODEL)
        {
          Policies as_written;

          read_policies (written, &as_written);
          judge_partial (verdict, NULL, &as_written, map, facts);
        }
      else
        judge_partial (verdict, model, &policies, map, facts);
      check_message = partial_message (written, map, verdict, facts->host_vendor);
    }
  else if (verdict->rule == LIBVIRT_RULE_CHECK_FULL)
    check_message = full_message (map, verdict);

  /* libvirt stops at the first refusal, in the order it meets them: the definition, then
   * check='partial' before start, then the started CPU (invtsc, then check='full'). */
  verdict->refused_before_start = n_before_start > 0
                                  || (verdict->rule == LIBVIRT_RULE_CHECK_PARTIAL
                                      && check_message != NULL);
  if (n_before_start > 0)
    verdict->message = g_strdup (g_ptr_array_index (verdict->refusals, 0));
  else if (verdict->rule == LIBVIRT_RULE_CHECK_PARTIAL && check_message != NULL)
    verdict->message = g_steal_pointer (&check_message);
  else if (verdict->refusals->len > 0)
    verdict->message = g_strdup (g_ptr_array_index (verdict->refusals, 0));
  else
    verdict->message = g_steal_pointer (&check_message);
  verdict->pass = verdict->message == NULL;

  verdict->updated = updated_definition (def, updated_name, map, verdict, &dropped, facts);
  unnamed_changes (map, facts->added, &verdict->unnamed_added);
  unnamed_changes (map, facts->removed, &verdict->unnamed_removed);
  return verdict;
}

void
libvirt_verdict_refuse_start (LibvirtVerdict *verdict, const char *qemu_error)
{
  g_ptr_array_add (verdict->refusals, g_strdup (qemu_error));
  if (verdict->refused_before_start)
    return;
  g_free (verdict->message);
  verdict->message = g_strdup (qemu_error);
  verdict->pass = FALSE;
  verdict->refused_before_start = TRUE;
}

/* ---- Output ---- */

static void
append_names_comment (GString *out, const char *title, const LibvirtCpuMap *map,
                      const X86FeatureSet *set)
{
  g_autofree char *names = NULL;

  if (x86_feature_set_is_empty (set))
    return;
  names = join_names (map, set, ", ");
  g_string_append_printf (out, "  <!-- %s: %s -->\n", title, names);
}

char *
libvirt_verdict_updated_xml (const LibvirtVerdict *verdict, const LibvirtCpuMap *map)
{
  const CpuDef *def = verdict->updated;
  GString *out = g_string_new (NULL);
  g_autofree char *model = def->model != NULL ? g_markup_escape_text (def->model, -1) : NULL;
  g_autofree char *vendor = def->vendor != NULL ? g_markup_escape_text (def->vendor, -1) : NULL;

  g_string_append_printf (out, "<cpu mode='%s'", cpu_mode_name (def->mode));
  if (def->mode == CPU_MODE_CUSTOM)
    g_string_append_printf (out, " match='%s'", cpu_match_name (def->match));
  g_string_append_printf (out, " check='%s'>\n", cpu_check_name (def->check));
  if (model != NULL)
    g_string_append_printf (out, "  <model fallback='%s'>%s</model>\n",
                            cpu_fallback_name (def->fallback), model);
  if (vendor != NULL)
    g_string_append_printf (out, "  <vendor>%s</vendor>\n", vendor);
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);

      g_string_append_printf (out, "  <feature policy='%s' name='%s'/>\n",
                              cpu_policy_name (entry->policy), libvirt_name (map, entry->feature));
    }
  append_names_comment (out, "added by QEMU, no name in libvirt's CPU map", map,
                        &verdict->unnamed_added);
  append_names_comment (out, "removed by QEMU, no name in libvirt's CPU map", map,
                        &verdict->unnamed_removed);
  g_string_append (out, "</cpu>\n");
  return g_string_free (out, FALSE);
}

static json_object *
names_json (const LibvirtCpuMap *map, const X86FeatureSet *set)
{
  g_autoptr (GPtrArray) names = libvirt_rules_feature_names (map, set);
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < names->len; i++)
    json_object_array_add (array, json_object_new_string (g_ptr_array_index (names, i)));
  return array;
}

json_object *
libvirt_verdict_to_json (const LibvirtVerdict *verdict, const LibvirtCpuMap *map)
{
  json_object *root = json_object_new_object ();
  json_object *refusals = json_object_new_array ();
  json_object *unnamed = json_object_new_object ();
  json_object *updated = json_object_new_object ();
  json_object *features = json_object_new_object ();
  g_autofree char *xml = libvirt_verdict_updated_xml (verdict, map);
  const CpuDef *def = verdict->updated;

  json_object_object_add (root, "rule", json_object_new_string (libvirt_rule_name (verdict->rule)));
  json_object_object_add (root, "check", json_object_new_string (cpu_check_name (verdict->check)));
  json_object_object_add (root, "check_defaulted",
                          json_object_new_boolean (verdict->check_defaulted));
  json_object_object_add (root, "verdict", json_object_new_string (verdict->pass ? "pass" : "fail"));
  json_object_object_add (root, "message", verdict->message != NULL
                                           ? json_object_new_string (verdict->message) : NULL);
  for (guint i = 0; i < verdict->refusals->len; i++)
    json_object_array_add (refusals,
                           json_object_new_string (g_ptr_array_index (verdict->refusals, i)));
  json_object_object_add (root, "refusals", refusals);
  json_object_object_add (root, "extra", names_json (map, &verdict->extra));
  json_object_object_add (root, "missing", names_json (map, &verdict->missing));
  json_object_object_add (root, "host_lacks", names_json (map, &verdict->host_lacks));
  json_object_object_add (root, "host_forbidden", names_json (map, &verdict->host_forbidden));
  json_object_object_add (unnamed, "added", names_json (map, &verdict->unnamed_added));
  json_object_object_add (unnamed, "removed", names_json (map, &verdict->unnamed_removed));
  json_object_object_add (root, "not_in_libvirt_map", unnamed);

  json_object_object_add (updated, "model", def->model != NULL ? json_object_new_string (def->model)
                                                               : NULL);
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);

      json_object_object_add (features, libvirt_name (map, entry->feature),
                              json_object_new_string (cpu_policy_name (entry->policy)));
    }
  json_object_object_add (updated, "features", features);
  json_object_object_add (updated, "check", json_object_new_string ("full"));
  json_object_object_add (root, "updated", updated);
  json_object_object_add (root, "xml_updated", json_object_new_string (xml));
  json_object_object_add (root, "cpu_map", json_object_new_string (libvirt_cpu_map_path (map)));
  return root;
}
