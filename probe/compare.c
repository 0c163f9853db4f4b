/* probe/compare.c — the diff, reason and verdict rules of probe/compare.h. */
#include "probe/compare.h"

#include <string.h>

static const char *const reason_names[] = {
  [PROBE_REASON_ACCEL_DEFAULT] = "accel-default",
  [PROBE_REASON_MODEL_VERSION] = "model-version",
  [PROBE_REASON_QEMU_FIXUP]    = "qemu-fixup",
  [PROBE_REASON_MACHINE_TYPE]  = "machine-type",
  [PROBE_REASON_POLICY]        = "policy",
  [PROBE_REASON_ACCELERATOR]   = "accelerator",
  [PROBE_REASON_HARDWARE]      = "hardware",
  [PROBE_REASON_KVM]           = "kvm",
  [PROBE_REASON_QEMU]          = "qemu",
  [PROBE_REASON_KVM_EMULATED]  = "kvm-emulated",
  [PROBE_REASON_UNKNOWN]       = "unknown",
};

const char *
probe_reason_name (ProbeReason reason)
{
  g_return_val_if_fail (reason < G_N_ELEMENTS (reason_names), "unknown");
  return reason_names[reason];
}

/* What the accelerators set on every named model at instance init (QEMU's
 * kvm_default_props and tcg_default_props), keyed by QEMU property so that one property
 * driving two bits (kvmclock) covers both. */
typedef struct {
  const char *accel;
  const char *property;
  gboolean value;
} AccelDefault;

static const AccelDefault accel_defaults[] = {
  { "kvm", "kvmclock",            TRUE },
  { "kvm", "kvm-nopiodelay",      TRUE },
  { "kvm", "kvm-asyncpf",         TRUE },
  { "kvm", "kvm-steal-time",      TRUE },
  { "kvm", "kvm-pv-eoi",          TRUE },
  { "kvm", "kvmclock-stable-bit", TRUE },
  { "kvm", "x2apic",              TRUE },
  { "kvm", "kvm-msi-ext-dest-id", FALSE },
  { "kvm", "acpi",                FALSE },
  { "kvm", "monitor",             FALSE },
  { "kvm", "svm",                 FALSE },
  { "tcg", "vme",                 FALSE },
};

/* What QEMU sets or allows behind any definition (reference §4.1, §4.2), with why. */
typedef struct {
  const char *property;
  const char *why;
} QemuFixup;

static const QemuFixup qemu_fixups[] = {
  { "hypervisor",          "QEMU sets it in every named model" },
  { "arat",                "the APIC timer is emulated, so QEMU always allows it under kvm" },
  { "tsc-deadline",        "QEMU allows it with an in-kernel irqchip" },
  { "ht",                  "QEMU sets it when a package has more than one thread" },
  { "cmp-legacy",          "QEMU sets it when a package has more than one thread" },
  { "kvm-msi-ext-dest-id", "QEMU sets it with a split irqchip" },
  { "mtrr",                "QEMU always allows it under kvm" },
  { "pat",                 "QEMU always allows it under kvm" },
  { "mce",                 "QEMU always allows it under kvm" },
  { "mca",                 "QEMU always allows it under kvm" },
  { "erms",                "QEMU copies it from the host CPU" },
  { "fsrm",                "QEMU copies it from the host CPU" },
  { "overflow-recov",      "QEMU always allows it under kvm" },
  { "succor",              "QEMU always allows it under kvm" },
};

static const char *
property_of (const X86Feature *feature)
{
  const char *property = x86_feature_qemu_property (feature);

  return property != NULL ? property : feature->name;
}

gboolean
probe_compare_accel_default (const char *accel, const X86Feature *feature,
                             gboolean *value_out)
{
  const char *property = property_of (feature);

  if (accel == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (accel_defaults); i++)
    if (strcmp (accel_defaults[i].accel, accel) == 0
        && strcmp (accel_defaults[i].property, property) == 0)
      {
        if (value_out != NULL)
          *value_out = accel_defaults[i].value;
        return TRUE;
      }
  return FALSE;
}

void
probe_compare_baseline_blind (const char *baseline_accel, X86FeatureSet *set)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  x86_feature_set_clear (set);
  for (guint i = 0; i < n_features; i++)
    {
      gboolean value;

      if (probe_compare_accel_default (baseline_accel, &features[i], &value) && !value)
        x86_feature_set_add (set, &features[i]);
    }
}

static const char *
qemu_fixup_why (const X86Feature *feature)
{
  const char *property = property_of (feature);

  for (guint i = 0; i < G_N_ELEMENTS (qemu_fixups); i++)
    if (strcmp (qemu_fixups[i].property, property) == 0)
      return qemu_fixups[i].why;
  return NULL;
}

static gboolean
is_none_machine (const char *machine)
{
  return machine == NULL || strcmp (machine, "none") == 0;
}

static gboolean
accel_is_kvm (const char *accel)
{
  return accel != NULL && strcmp (accel, "kvm") == 0;
}

/* The hypervisor's own leaves say nothing about the silicon. */
static gboolean
feature_in_silicon (const X86Feature *feature)
{
  const X86FeatureWord *word = &x86_feature_words (NULL)[feature->word];

  return word->kind == X86_WORD_CPUID && (word->leaf & 0xffff0000u) != 0x40000000u;
}

static ProbeChange
make_change (const X86Feature *feature, ProbeReason reason, const char *detail)
{
  ProbeChange change = { feature, reason, g_strdup (detail) };

  return change;
}

static ProbeChange
explain_added (const ProbeCompareInput *input, const X86Feature *feature)
{
  gboolean value;
  const char *why;

  if (probe_compare_accel_default (input->accel, feature, &value) && value)
    return make_change (feature, PROBE_REASON_ACCEL_DEFAULT, input->accel);
  if (input->versioned_model != NULL && x86_feature_set_has (&input->versioned, feature)
      && !x86_feature_set_has (&input->model, feature))
    return make_change (feature, PROBE_REASON_MODEL_VERSION, input->versioned_model);
  why = qemu_fixup_why (feature);
  if (why != NULL)
    return make_change (feature, PROBE_REASON_QEMU_FIXUP, why);
  if (!is_none_machine (input->machine))
    return make_change (feature, PROBE_REASON_MACHINE_TYPE, input->machine);
  return make_change (feature, PROBE_REASON_QEMU, "QEMU enabled it for no reason known here");
}

/* KVM refused @feature; say whose KVM when a dump stands for the host's. */
static ProbeChange
kvm_lacks (const ProbeHostLayers *layers, const X86Feature *feature)
{
  g_autofree char *detail = NULL;

  if (layers->kvm_origin == NULL || g_strcmp0 (layers->kvm_origin, "/dev/kvm") == 0)
    return make_change (feature, PROBE_REASON_KVM, "KVM_GET_SUPPORTED_CPUID lacks it");
  detail = g_strdup_printf ("KVM_GET_SUPPORTED_CPUID from the dump %s lacks it",
                            layers->kvm_origin);
  return make_change (feature, PROBE_REASON_KVM, detail);
}

static ProbeChange
explain_filtered (const ProbeCompareInput *input, const X86Feature *feature)
{
  const ProbeHostLayers *layers = input->layers;
  gboolean kvm_known = layers != NULL && layers->kvm_known;
  gboolean hardware_known = layers != NULL && layers->hardware_known;

  if (!accel_is_kvm (input->accel))
    return make_change (feature, PROBE_REASON_ACCELERATOR, input->accel);
  if (x86_feature_set_has (&input->refused_by_vcpu, feature))
    {
      g_autofree char *detail =
        g_strdup_printf ("a vCPU of this KVM refuses IA32_ARCH_CAPABILITIES (KVM's own 0x%"
                         G_GINT64_MODIFIER "x): QEMU aborts at start with it set",
                         layers != NULL ? layers->kvm_arch_capabilities_offered : 0);
      return make_change (feature, PROBE_REASON_KVM, detail);
    }

  if (!feature_in_silicon (feature))
    {
      /* KVM's leaf and the feature MSRs are KVM's answer alone; its CPUID table
       * carries no MSR bits, so for those the missing answer cannot be checked. */
      const X86FeatureWord *word = &x86_feature_words (NULL)[feature->word];

      if (word->kind == X86_WORD_MSR)
        return make_change (feature, kvm_known ? PROBE_REASON_KVM : PROBE_REASON_UNKNOWN,
                            kvm_known ? "KVM's feature MSRs lack it"
                                      : layers != NULL ? layers->kvm_unknown_reason : NULL);
      if (kvm_known && x86_feature_set_has (&layers->kvm, feature))
        return make_change (feature, PROBE_REASON_QEMU, "KVM supports it, QEMU does not");
      if (kvm_known)
        return kvm_lacks (layers, feature);
      return make_change (feature, PROBE_REASON_UNKNOWN,
                          layers != NULL ? layers->kvm_unknown_reason : NULL);
    }

  if (kvm_known && x86_feature_set_has (&layers->kvm, feature))
    return make_change (feature, PROBE_REASON_QEMU, "KVM supports it, QEMU does not");
  if (kvm_known && hardware_known && !x86_feature_set_has (&layers->hardware, feature))
    {
      /* The silicon lacks it, but KVM can supply it: this KVM is the one that did not. */
      const char *why = x86_kvm_emulated_why (&layers->kvm_host_kind, &layers->hardware, feature);

      if (why != NULL)
        {
          g_autofree char *detail = g_strdup_printf ("not in the silicon, and this KVM does not "
                                                     "supply it although KVM can: %s", why);
          return make_change (feature, PROBE_REASON_KVM, detail);
        }
    }
  if (hardware_known && !x86_feature_set_has (&layers->hardware, feature))
    {
      /* Say where the CPUID came from: this host's CPUs, or the dump standing in for them. */
      g_autofree char *detail = g_strcmp0 (layers->hardware_origin, "hardware") == 0
        ? g_strdup ("not in the CPUID of every CPU")
        : g_strdup_printf ("not in the CPUID of every CPU of %s", layers->hardware_origin);

      return make_change (feature, PROBE_REASON_HARDWARE, detail);
    }
  if (kvm_known)
    return kvm_lacks (layers, feature);
  return make_change (feature, PROBE_REASON_UNKNOWN,
                      layers != NULL && layers->kvm_unknown_reason != NULL
                      ? layers->kvm_unknown_reason : "the host's KVM was not read");
}

static ProbeChange
explain_removed (const ProbeCompareInput *input, const X86Feature *feature)
{
  gboolean value;

  if (x86_feature_set_has (&input->off, feature))
    return make_change (feature, PROBE_REASON_POLICY,
                        x86_feature_set_has (&input->forbidden, feature) ? "forbid" : "disable");
  if (x86_feature_set_has (&input->unknown_to_qemu, feature))
    return make_change (feature, PROBE_REASON_QEMU, "this QEMU has no property of that name");
  if (x86_feature_set_has (&input->expansion, feature))
    return explain_filtered (input, feature);
  /* QEMU drops the KVM leaf whole, before filtering, on any other accelerator. */
  if (!accel_is_kvm (input->accel) && !feature_in_silicon (feature)
      && x86_feature_words (NULL)[feature->word].kind == X86_WORD_CPUID)
    return make_change (feature, PROBE_REASON_ACCELERATOR, input->accel);

  if (probe_compare_accel_default (input->accel, feature, &value) && !value)
    return make_change (feature, PROBE_REASON_ACCEL_DEFAULT, input->accel);
  if (input->versioned_model != NULL && !x86_feature_set_has (&input->versioned, feature)
      && x86_feature_set_has (&input->model, feature))
    return make_change (feature, PROBE_REASON_MODEL_VERSION, input->versioned_model);
  if (!is_none_machine (input->machine))
    return make_change (feature, PROBE_REASON_MACHINE_TYPE, input->machine);
  return make_change (feature, PROBE_REASON_QEMU, "QEMU turned it off for no reason known here");
}

static void
clear_change (gpointer data)
{
  ProbeChange *change = data;

  g_free (change->detail);
}

void
probe_diff_free (ProbeDiff *diff)
{
  if (diff == NULL)
    return;
  g_array_unref (diff->added);
  g_array_unref (diff->removed);
  g_array_unref (diff->emulated);
  g_ptr_array_unref (diff->problems);
  g_free (diff);
}

const ProbeChange *
probe_diff_find (GArray *changes, const X86Feature *feature)
{
  for (guint i = 0; i < changes->len; i++)
    if (g_array_index (changes, ProbeChange, i).feature == feature)
      return &g_array_index (changes, ProbeChange, i);
  return NULL;
}

typedef struct {
  const ProbeCompareInput *input;
  ProbeDiff *diff;
} CompareWalk;

/* A bit set through another feature's property changes with it: one line says both. */
static gboolean
reported (const X86Feature *feature)
{
  return feature != NULL && !(feature->flags & X86_FEATURE_SECOND_BIT);
}

static void
collect_added (guint word, guint bit, const X86Feature *feature, gpointer user_data)
{
  CompareWalk *walk = user_data;
  ProbeChange change;

  if (!reported (feature))
    return;
  change = explain_added (walk->input, feature);
  g_array_append_val (walk->diff->added, change);
}

static void
collect_removed (guint word, guint bit, const X86Feature *feature, gpointer user_data)
{
  CompareWalk *walk = user_data;
  ProbeChange change;

  if (!reported (feature))
    return;
  change = explain_removed (walk->input, feature);
  g_array_append_val (walk->diff->removed, change);
}

/* The guest's features that only KVM's own rules explain (x86/kvm-emulated.h). */
static void
collect_emulated (const ProbeCompareInput *input, ProbeDiff *diff)
{
  const ProbeHostLayers *layers = input->layers;
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  if (!accel_is_kvm (input->accel) || layers == NULL || !layers->hardware_known || !layers->kvm_known)
    return;
  for (guint i = 0; i < n_features; i++)
    {
      const X86Feature *feature = &features[i];
      const char *why;

      if (!reported (feature) || !feature_in_silicon (feature)
          || !x86_feature_set_has (&input->guest, feature)
          || !x86_feature_set_has (&layers->kvm, feature))
        continue;
      why = x86_kvm_emulated_why (&layers->kvm_host_kind, &layers->hardware, feature);
      if (why != NULL)
        {
          ProbeChange change = make_change (feature, PROBE_REASON_KVM_EMULATED, why);
          g_array_append_val (diff->emulated, change);
        }
    }
}

static const char *
reason_phrase (const ProbeChange *change)
{
  return change != NULL ? probe_reason_name (change->reason) : "qemu";
}

static gboolean
host_has (const ProbeCompareInput *input, const X86Feature *feature)
{
  if (input->supported_known)
    return x86_feature_set_has (&input->supported, feature);
  if (accel_is_kvm (input->accel) && input->layers != NULL && input->layers->kvm_known)
    return x86_feature_set_has (&input->layers->kvm, feature);
  return FALSE;
}

static void
append_name (guint word, guint bit, const X86Feature *feature, gpointer user_data)
{
  GString *names = user_data;

  if (!reported (feature))
    return;
  if (names->len > 0)
    g_string_append (names, ", ");
  g_string_append (names, feature->name);
}

static char *
feature_names (const X86FeatureSet *set)
{
  GString *names = g_string_new (NULL);

  x86_feature_set_foreach (set, append_name, names);
  return g_string_free (names, FALSE);
}

static void
judge (const ProbeCompareInput *input, ProbeDiff *diff)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  for (guint i = 0; i < n_features; i++)
    {
      const X86Feature *feature = &features[i];
      const ProbeChange *removed = probe_diff_find (diff->removed, feature);
      const ProbeChange *added;

      if (x86_feature_set_has (&input->on, feature) && !x86_feature_set_has (&input->guest, feature))
        g_ptr_array_add (diff->problems, g_strdup_printf ("%s required but removed by %s",
                                                          feature->name, reason_phrase (removed)));
      else if (x86_feature_set_has (&input->off, feature)
               && x86_feature_set_has (&input->guest, feature))
        g_ptr_array_add (diff->problems, g_strdup_printf ("%s disabled but present", feature->name));
      else if (removed != NULL && removed->reason != PROBE_REASON_POLICY
               && x86_feature_set_has (&input->model, feature)
               && !x86_feature_set_has (&input->optional, feature))
        g_ptr_array_add (diff->problems, g_strdup_printf ("%s of the model removed by %s",
                                                          feature->name, reason_phrase (removed)));

      if (x86_feature_set_has (&input->forbidden, feature) && host_has (input, feature))
        g_ptr_array_add (diff->problems,
                         g_strdup_printf ("%s forbidden but supported by the host", feature->name));

      added = probe_diff_find (diff->added, feature);
      if (input->strict && added != NULL)
        g_ptr_array_add (diff->problems, g_strdup_printf ("%s added by %s", feature->name,
                                                          reason_phrase (added)));
    }
  if (!x86_feature_set_is_empty (&input->refused_by_vcpu))
    {
      g_autofree char *names = feature_names (&input->refused_by_vcpu);

      g_ptr_array_add (diff->problems,
                       g_strdup_printf ("QEMU aborts at start: a vCPU of this KVM refuses "
                                        "IA32_ARCH_CAPABILITIES with %s set", names));
    }
  diff->pass = diff->problems->len == 0;
}

void
probe_compare_refuse_msr_bits (ProbeCompareInput *input)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);
  const X86FeatureWord *words = x86_feature_words (NULL);

  x86_feature_set_clear (&input->refused_by_vcpu);
  if (!accel_is_kvm (input->accel) || input->layers == NULL
      || input->layers->kvm_arch_capabilities != X86_KVM_MSR_REFUSED)
    return;
  for (guint i = 0; i < n_features; i++)
    {
      const X86FeatureWord *word = &words[features[i].word];

      if (word->kind == X86_WORD_MSR && word->msr == 0x10a
          && x86_feature_set_has (&input->guest, &features[i]))
        {
          x86_feature_set_add (&input->refused_by_vcpu, &features[i]);
          x86_feature_set_remove (&input->guest, &features[i]);
        }
    }
}

void
probe_compare_filter_no_auto (ProbeCompareInput *input)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  if (!accel_is_kvm (input->accel) || input->layers == NULL || !input->layers->kvm_known)
    return;
  for (guint i = 0; i < n_features; i++)
    if ((features[i].flags & X86_FEATURE_NO_AUTO) && feature_in_silicon (&features[i])
        && x86_feature_set_has (&input->guest, &features[i])
        && !x86_feature_set_has (&input->layers->kvm, &features[i]))
      x86_feature_set_remove (&input->guest, &features[i]);
}

ProbeDiff *
probe_compare (const ProbeCompareInput *input)
{
  ProbeDiff *diff = g_new0 (ProbeDiff, 1);
  CompareWalk walk = { input, diff };
  X86FeatureSet definition, named, added, removed, blind;

  diff->added = g_array_new (FALSE, FALSE, sizeof (ProbeChange));
  diff->removed = g_array_new (FALSE, FALSE, sizeof (ProbeChange));
  g_array_set_clear_func (diff->added, clear_change);
  g_array_set_clear_func (diff->removed, clear_change);
  diff->problems = g_ptr_array_new_with_free_func (g_free);
  diff->emulated = g_array_new (FALSE, FALSE, sizeof (ProbeChange));
  g_array_set_clear_func (diff->emulated, clear_change);

  /* Blind features count only where the definition names them. */
  blind = input->baseline_blind;
  x86_feature_set_subtract (&blind, &blind, &input->on);
  x86_feature_set_subtract (&blind, &blind, &input->optional);
  x86_feature_set_subtract (&blind, &blind, &input->off);

  x86_feature_set_union (&named, &input->model, &input->on);
  x86_feature_set_union (&named, &named, &input->optional);
  x86_feature_set_subtract (&definition, &named, &input->off);

  x86_feature_set_subtract (&added, &input->guest, &definition);
  x86_feature_set_subtract (&removed, &named, &input->guest);
  x86_feature_set_union (&removed, &removed, &input->refused_by_vcpu);
  x86_feature_set_subtract (&added, &added, &blind);
  x86_feature_set_subtract (&removed, &removed, &blind);
  x86_feature_set_named_only (&added);
  x86_feature_set_named_only (&removed);

  x86_feature_set_foreach (&added, collect_added, &walk);
  x86_feature_set_foreach (&removed, collect_removed, &walk);
  collect_emulated (input, diff);
  judge (input, diff);
  return diff;
}

json_object *
probe_changes_to_json (GArray *changes)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < changes->len; i++)
    {
      const ProbeChange *change = &g_array_index (changes, ProbeChange, i);
      json_object *item = json_object_new_object ();

      json_object_object_add (item, "feature", json_object_new_string (change->feature->name));
      json_object_object_add (item, "reason",
                              json_object_new_string (probe_reason_name (change->reason)));
      if (change->detail != NULL)
        json_object_object_add (item, "detail", json_object_new_string (change->detail));
      json_object_array_add (array, item);
    }
  return array;
}
