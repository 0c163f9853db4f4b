/* probe/cpu-def.c — CpuDef itself, -cpu strings, JSON, and the views the probe needs. */
#include "probe/cpu-def.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_QUARK (cpu-def-error-quark, cpu_def_error)

static const char *const mode_names[] = { "custom", "host-model", "host-passthrough", "maximum" };
static const char *const match_names[] = { "exact", "minimum", "strict" };
static const char *const check_names[] = { NULL, "none", "partial", "full" };
static const char *const fallback_names[] = { "allow", "forbid" };
static const char *const policy_names[] = { "force", "require", "optional", "disable", "forbid" };

/* Index of @name in @names, or -1; NULL entries never match. */
static int
name_index (const char *const *names, guint n_names, const char *name)
{
  if (name == NULL)
    return -1;
  for (guint i = 0; i < n_names; i++)
    if (names[i] != NULL && strcmp (names[i], name) == 0)
      return (int) i;
  return -1;
}

const char *
cpu_mode_name (CpuMode mode)
{
  g_return_val_if_fail (mode < G_N_ELEMENTS (mode_names), NULL);
  return mode_names[mode];
}

const char *
cpu_match_name (CpuMatch match)
{
  g_return_val_if_fail (match < G_N_ELEMENTS (match_names), NULL);
  return match_names[match];
}

const char *
cpu_check_name (CpuCheck check)
{
  g_return_val_if_fail (check < G_N_ELEMENTS (check_names), NULL);
  return check_names[check];
}

const char *
cpu_fallback_name (CpuFallback fallback)
{
  g_return_val_if_fail (fallback < G_N_ELEMENTS (fallback_names), NULL);
  return fallback_names[fallback];
}

const char *
cpu_policy_name (CpuPolicy policy)
{
  g_return_val_if_fail (policy < G_N_ELEMENTS (policy_names), NULL);
  return policy_names[policy];
}

gboolean
cpu_mode_from_name (const char *name, CpuMode *mode)
{
  int i = name_index (mode_names, G_N_ELEMENTS (mode_names), name);
  if (i < 0)
    return FALSE;
  *mode = (CpuMode) i;
  return TRUE;
}

gboolean
cpu_match_from_name (const char *name, CpuMatch *match)
{
  int i = name_index (match_names, G_N_ELEMENTS (match_names), name);
  if (i < 0)
    return FALSE;
  *match = (CpuMatch) i;
  return TRUE;
}

gboolean
cpu_check_from_name (const char *name, CpuCheck *check)
{
  int i = name_index (check_names, G_N_ELEMENTS (check_names), name);
  if (i < 0)
    return FALSE;
  *check = (CpuCheck) i;
  return TRUE;
}

gboolean
cpu_fallback_from_name (const char *name, CpuFallback *fallback)
{
  int i = name_index (fallback_names, G_N_ELEMENTS (fallback_names), name);
  if (i < 0)
    return FALSE;
  *fallback = (CpuFallback) i;
  return TRUE;
}

gboolean
cpu_policy_from_name (const char *name, CpuPolicy *policy)
{
  int i = name_index (policy_names, G_N_ELEMENTS (policy_names), name);
  if (i < 0)
    return FALSE;
  *policy = (CpuPolicy) i;
  return TRUE;
}

/* Lifetime ------------------------------------------------------------------------------ */

static void
cpu_property_free (gpointer data)
{
  CpuProperty *property = data;

  g_free (property->name);
  g_free (property->value);
  g_free (property);
}

CpuDef *
cpu_def_new (CpuMode mode, const char *model)
{
  CpuDef *def = g_new0 (CpuDef, 1);

  def->mode = mode;
  def->model = g_strdup (model);
  def->match = CPU_MATCH_EXACT;
  def->check = CPU_CHECK_UNSET;
  def->fallback = CPU_FALLBACK_ALLOW;
  def->features = g_array_new (FALSE, FALSE, sizeof (CpuFeature));
  def->properties = g_ptr_array_new_with_free_func (cpu_property_free);
  return def;
}

void
cpu_def_free (CpuDef *def)
{
  if (def == NULL)
    return;
  g_free (def->model);
  g_free (def->vendor);
  g_free (def->vendor_id);
  g_free (def->domain_accel);
  g_free (def->domain_machine);
  g_free (def->domain_emulator);
  g_array_unref (def->features);
  g_ptr_array_unref (def->properties);
  g_free (def);
}

CpuDef *
cpu_def_copy (const CpuDef *def)
{
  CpuDef *copy = cpu_def_new (def->mode, def->model);

  copy->vendor = g_strdup (def->vendor);
  copy->match = def->match;
  copy->check = def->check;
  copy->fallback = def->fallback;
  copy->vendor_id = g_strdup (def->vendor_id);
  copy->domain_accel = g_strdup (def->domain_accel);
  copy->domain_machine = g_strdup (def->domain_machine);
  copy->domain_emulator = g_strdup (def->domain_emulator);
  g_array_append_vals (copy->features, def->features->data, def->features->len);
  for (guint i = 0; i < def->properties->len; i++)
    {
      const CpuProperty *property = g_ptr_array_index (def->properties, i);
      cpu_def_add_property (copy, property->name, property->value);
    }
  return copy;
}

gboolean
cpu_def_equal (const CpuDef *a, const CpuDef *b)
{
  if (a->mode != b->mode || a->match != b->match || a->check != b->check
      || a->fallback != b->fallback
      || g_strcmp0 (a->model, b->model) != 0
      || g_strcmp0 (a->vendor, b->vendor) != 0
      || g_strcmp0 (a->vendor_id, b->vendor_id) != 0)
    return FALSE;

  /* Each feature appears once, so equal lengths plus inclusion is set equality. */
  if (a->features->len != b->features->len)
    return FALSE;
  for (guint i = 0; i < a->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (a->features, CpuFeature, i);
      CpuPolicy policy;
      if (!cpu_def_get_policy (b, entry->feature, &policy) || policy != entry->policy)
        return FALSE;
    }

  if (a->properties->len != b->properties->len)
    return FALSE;
  for (guint i = 0; i < a->properties->len; i++)
    {
      const CpuProperty *pa = g_ptr_array_index (a->properties, i);
      const CpuProperty *pb = g_ptr_array_index (b->properties, i);
      if (strcmp (pa->name, pb->name) != 0 || g_strcmp0 (pa->value, pb->value) != 0)
        return FALSE;
    }
  return TRUE;
}

/* Features and properties --------------------------------------------------------------- */

static int
feature_position (const CpuDef *def, const X86Feature *feature)
{
  for (guint i = 0; i < def->features->len; i++)
    if (g_array_index (def->features, CpuFeature, i).feature == feature)
      return (int) i;
  return -1;
}

gboolean
cpu_def_get_policy (const CpuDef *def, const X86Feature *feature, CpuPolicy *policy)
{
  int i = feature_position (def, feature);

  if (i < 0)
    return FALSE;
  if (policy != NULL)
    *policy = g_array_index (def->features, CpuFeature, i).policy;
  return TRUE;
}

void
cpu_def_set_policy (CpuDef *def, const X86Feature *feature, CpuPolicy policy)
{
  int i = feature_position (def, feature);

  g_return_if_fail (feature != NULL);
  if (i >= 0)
    {
      g_array_index (def->features, CpuFeature, i).policy = policy;
      return;
    }
  CpuFeature entry = { feature, policy };
  g_array_append_val (def->features, entry);
}

gboolean
cpu_def_remove_feature (CpuDef *def, const X86Feature *feature)
{
  int i = feature_position (def, feature);

  if (i < 0)
    return FALSE;
  g_array_remove_index (def->features, (guint) i);
  return TRUE;
}

void
cpu_def_add_property (CpuDef *def, const char *name, const char *value)
{
  CpuProperty *property = g_new0 (CpuProperty, 1);

  property->name = g_strdup (name);
  property->value = g_strdup (value);
  g_ptr_array_add (def->properties, property);
}

const char *
cpu_def_get_property (const CpuDef *def, const char *name, gboolean *found)
{
  for (guint i = def->properties->len; i > 0; i--)
    {
      const CpuProperty *property = g_ptr_array_index (def->properties, i - 1);
      if (strcmp (property->name, name) == 0)
        {
          if (found != NULL)
            *found = TRUE;
          return property->value;
        }
    }
  if (found != NULL)
    *found = FALSE;
  return NULL;
}

void
cpu_def_add_features_with_policy (const CpuDef *def, CpuPolicy policy, X86FeatureSet *set)
{
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);
      if (entry->policy == policy)
        x86_feature_set_add (set, entry->feature);
    }
}

void
cpu_def_enabled_features (const CpuDef *def, X86FeatureSet *set)
{
  x86_feature_set_clear (set);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORCE, set);
  cpu_def_add_features_with_policy (def, CPU_POLICY_REQUIRE, set);
}

void
cpu_def_disabled_features (const CpuDef *def, X86FeatureSet *set)
{
  x86_feature_set_clear (set);
  cpu_def_add_features_with_policy (def, CPU_POLICY_DISABLE, set);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORBID, set);
}

void
cpu_def_optional_features (const CpuDef *def, X86FeatureSet *set)
{
  x86_feature_set_clear (set);
  cpu_def_add_features_with_policy (def, CPU_POLICY_OPTIONAL, set);
}

const char *
cpu_def_qemu_model (const CpuDef *def)
{
  switch (def->mode)
    {
    case CPU_MODE_HOST_PASSTHROUGH:
      return "host";
    case CPU_MODE_MAXIMUM:
      return "max";
    case CPU_MODE_CUSTOM:
      return def->model;
    case CPU_MODE_HOST_MODEL:
      break;
    }
  return NULL;
}

const X86Feature *
cpu_def_lookup_feature (const char *name, GError **error)
{
  const X86Feature *feature = x86_feature_lookup (name);

  /* QEMU turns every "_" of a -cpu feature name into "-" before looking it up. */
  if (feature == NULL && strchr (name, '_') != NULL)
    {
      g_autofree char *dashed = g_strdelimit (g_strdup (name), "_", '-');
      feature = x86_feature_lookup (dashed);
    }
  if (feature != NULL)
    return feature;

  g_autoptr (GPtrArray) suggestions = x86_feature_suggest (name, 2);
  if (suggestions == NULL || suggestions->len == 0)
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_UNKNOWN_FEATURE,
                   "unknown feature '%s'", name);
      return NULL;
    }
  g_ptr_array_add (suggestions, NULL);
  g_autofree char *list = g_strjoinv (", ", (char **) suggestions->pdata);
  g_ptr_array_remove_index (suggestions, suggestions->len - 1);
  g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_UNKNOWN_FEATURE,
               "unknown feature '%s' (did you mean %s?)", name, list);
  return NULL;
}

/* TRUE when QEMU has a CPU property of this feature's own name: not for features only
 * libvirt names, bits that follow guest state (osxsave), or a second bit QEMU sets
 * through another feature's property (kvmclock2 through kvmclock). */
static gboolean
has_own_qemu_property (const X86Feature *feature)
{
  const char *property = x86_feature_qemu_property (feature);

  return property != NULL && strcmp (property, feature->name) == 0;
}

/* Typed as QMP expects: on/off words as booleans, numbers as integers. */
static json_object *
property_value_to_json (const char *value)
{
  gint64 number;

  if (value == NULL)
    return json_object_new_boolean (TRUE);
  if (g_strv_contains ((const char *const[]) { "on", "true", "yes", NULL }, value))
    return json_object_new_boolean (TRUE);
  if (g_strv_contains ((const char *const[]) { "off", "false", "no", NULL }, value))
    return json_object_new_boolean (FALSE);
  if (g_str_has_prefix (value, "0x")
      ? g_ascii_string_to_signed (value + 2, 16, 0, G_MAXINT64, &number, NULL)
      : g_ascii_string_to_signed (value, 10, G_MININT64, G_MAXINT64, &number, NULL))
    return json_object_new_int64 (number);
  return json_object_new_string (value);
}

json_object *
cpu_def_expansion_props (const CpuDef *def)
{
  json_object *props = json_object_new_object ();

  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);
      gboolean on = entry->policy == CPU_POLICY_FORCE || entry->policy == CPU_POLICY_REQUIRE;
      if (!has_own_qemu_property (entry->feature))
        continue;
      json_object_object_add (props, entry->feature->name, json_object_new_boolean (on));
    }
  for (guint i = 0; i < def->properties->len; i++)
    {
      const CpuProperty *property = g_ptr_array_index (def->properties, i);
      json_object_object_add (props, property->name, property_value_to_json (property->value));
    }
  return props;
}

/* -cpu strings -------------------------------------------------------------------------- */

static gboolean
parse_boolean_word (const char *word, gboolean *value)
{
  if (g_strv_contains ((const char *const[]) { "on", "true", "yes", NULL }, word))
    *value = TRUE;
  else if (g_strv_contains ((const char *const[]) { "off", "false", "no", NULL }, word))
    *value = FALSE;
  else
    return FALSE;
  return TRUE;
}

static gboolean
is_non_feature_property (const char *name)
{
  g_autofree char *dashed = g_strdelimit (g_strdup (name), "_", '-');

  return x86_is_non_feature_property (name) || x86_is_non_feature_property (dashed);
}

/* How QEMU settles a feature named more than once on one -cpu line (x86_cpu_parse_featurestr
 * and x86_cpu_expand_features): "feat=on|off" items are global properties, applied in order,
 * so the last one wins; "+feat" and "-feat" are applied after all of them, every "+" before
 * every "-", so a "-feat" wins over a "+feat" and either wins over "feat=on|off", wherever
 * they stand. QEMU only warns about such strings, so they are not an error here either.
 * @legacy_of maps each feature named by "+"/"-" to the LEGACY_* bits seen so far. */
enum { LEGACY_PLUS = 1 << 0, LEGACY_MINUS = 1 << 1 };

static void
add_parsed_feature (CpuDef *def, const X86Feature *feature, CpuPolicy policy, char sign,
                    GHashTable *legacy_of)
{
  guint legacy = GPOINTER_TO_UINT (g_hash_table_lookup (legacy_of, feature));

  if (sign == '-')
    legacy |= LEGACY_MINUS;
  else if (sign == '+')
    legacy |= LEGACY_PLUS;
  else if (legacy != 0)
    return;   /* a "+feat" or "-feat" overrides it */
  if (sign == '+' && (legacy & LEGACY_MINUS))
    return;
  if (legacy != 0)
    g_hash_table_insert (legacy_of, (gpointer) feature, GUINT_TO_POINTER (legacy));
  cpu_def_set_policy (def, feature, policy);
}

/* Finds the feature a -cpu item names, refusing those QEMU has no property for. */
static const X86Feature *
lookup_qemu_feature (const char *name, GError **error)
{
  const X86Feature *feature = cpu_def_lookup_feature (name, error);

  if (feature == NULL || has_own_qemu_property (feature))
    return feature;
  if (feature->flags & X86_FEATURE_LIBVIRT_ONLY)
    g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_UNKNOWN_FEATURE,
                 "feature '%s' is known to libvirt only, QEMU has no property for it", name);
  else if (x86_feature_qemu_property (feature) != NULL)
    g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_UNKNOWN_FEATURE,
                 "feature '%s' has no QEMU property of its own, '%s' sets it",
                 name, x86_feature_qemu_property (feature));
  else
    g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_UNKNOWN_FEATURE,
                 "feature '%s' has no QEMU property", name);
  return NULL;
}

static gboolean
parse_cpu_item (CpuDef *def, const char *item, GHashTable *legacy_of, GError **error)
{
  const char *equals = strchr (item, '=');
  gboolean on;

  if (*item == '\0')
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX, "empty item");
      return FALSE;
    }

  if (item[0] == '+' || item[0] == '-')
    {
      const char *name = item + 1;
      CpuPolicy policy = item[0] == '+' ? CPU_POLICY_REQUIRE : CPU_POLICY_DISABLE;
      if (*name == '\0')
        {
          g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX,
                       "'%c' without a feature name", item[0]);
          return FALSE;
        }
      if (is_non_feature_property (name))
        {
          cpu_def_add_property (def, name, item[0] == '+' ? "on" : "off");
          return TRUE;
        }
      const X86Feature *feature = lookup_qemu_feature (name, error);
      if (feature == NULL)
        return FALSE;
      add_parsed_feature (def, feature, policy, item[0], legacy_of);
      return TRUE;
    }

  g_autofree char *name = equals != NULL ? g_strndup (item, equals - item) : g_strdup (item);
  const char *value = equals != NULL ? equals + 1 : NULL;
  if (*name == '\0')
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX, "empty name before '='");
      return FALSE;
    }

  /* A known non-feature, or anything with a value no feature accepts, is a property
   * for QEMU to judge ("level=13", "model-id=…"). */
  if (is_non_feature_property (name)
      || (value != NULL && !parse_boolean_word (value, &on)
          && cpu_def_lookup_feature (name, NULL) == NULL))
    {
      cpu_def_add_property (def, name, value);
      return TRUE;
    }

  const X86Feature *feature = lookup_qemu_feature (name, error);
  if (feature == NULL)
    return FALSE;
  if (value == NULL)
    on = TRUE;
  else if (!parse_boolean_word (value, &on))
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX,
                   "bad value '%s' for feature '%s' (expected on or off)", value, name);
      return FALSE;
    }
  add_parsed_feature (def, feature, on ? CPU_POLICY_REQUIRE : CPU_POLICY_DISABLE, '\0',
                      legacy_of);
  return TRUE;
}

static gboolean
has_control_character (const char *text)
{
  for (; *text != '\0'; text++)
    if (g_ascii_iscntrl (*text))
      return TRUE;
  return FALSE;
}

CpuDef *
cpu_def_from_qemu_cpu_string (const char *cpu_string, GError **error)
{
  if (*cpu_string == '\0')
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX, "CPU '': empty string");
      return NULL;
    }
  /* QEMU's names are printable text, and a definition is written back as XML, which can
   * hold neither control characters nor broken UTF-8: refuse them here, shown escaped. */
  if (!g_utf8_validate (cpu_string, -1, NULL) || has_control_character (cpu_string))
    {
      g_autofree char *shown = g_strescape (cpu_string, NULL);

      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX, "CPU '%s': not printable text",
                   shown);
      return NULL;
    }

  g_auto (GStrv) items = g_strsplit (cpu_string, ",", -1);
  const char *model = items[0];
  if (*model == '\0')
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX,
                   "CPU '%s' item 1: empty model name", cpu_string);
      return NULL;
    }

  g_autoptr (CpuDef) def = NULL;
  if (strcmp (model, "host") == 0)
    def = cpu_def_new (CPU_MODE_HOST_PASSTHROUGH, NULL);
  else if (strcmp (model, "max") == 0)
    def = cpu_def_new (CPU_MODE_MAXIMUM, NULL);
  else
    def = cpu_def_new (CPU_MODE_CUSTOM, model);

  g_autoptr (GHashTable) legacy_of = g_hash_table_new (NULL, NULL);
  for (guint i = 1; items[i] != NULL; i++)
    if (!parse_cpu_item (def, items[i], legacy_of, error))
      {
        g_prefix_error (error, "CPU '%s' item %u: ", cpu_string, i + 1);
        return NULL;
      }
  return g_steal_pointer (&def);
}

/* QEMU up to 2.7 matched "+feat" against its name table literally, and that table spelt
 * these features with "_" (lahf_lm, kvm_pv_eoi, svm_lock); current QEMU keeps exactly
 * those spellings as aliases, so an underscore alias of a dashed name is the old name. */
static const char *
legacy_feature_name (const X86Feature *feature)
{
  if (strchr (feature->name, '-') == NULL || feature->aliases == NULL)
    return feature->name;

  g_autofree char *underscored = g_strdelimit (g_strdup (feature->name), "-", '_');
  for (guint i = 0; feature->aliases[i] != NULL; i++)
    if (strcmp (feature->aliases[i], underscored) == 0)
      return feature->aliases[i];
  return feature->name;
}

char *
cpu_def_to_qemu_cpu_string (const CpuDef *def, gboolean legacy)
{
  const char *model = cpu_def_qemu_model (def);
  gboolean has_vendor_property;

  if (model == NULL)
    return NULL;

  g_autoptr (GString) out = g_string_new (model);
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);
      gboolean on = entry->policy == CPU_POLICY_FORCE || entry->policy == CPU_POLICY_REQUIRE;
      if (entry->policy == CPU_POLICY_OPTIONAL || !has_own_qemu_property (entry->feature))
        continue;
      if (legacy)
        g_string_append_printf (out, ",%c%s", on ? '+' : '-', legacy_feature_name (entry->feature));
      else
        g_string_append_printf (out, ",%s=%s", entry->feature->name, on ? "on" : "off");
    }

  cpu_def_get_property (def, "vendor", &has_vendor_property);
  if (def->vendor_id != NULL && !has_vendor_property)
    g_string_append_printf (out, ",vendor=%s", def->vendor_id);
  for (guint i = 0; i < def->properties->len; i++)
    {
      const CpuProperty *property = g_ptr_array_index (def->properties, i);
      g_string_append_printf (out, ",%s", property->name);
      if (property->value != NULL)
        g_string_append_printf (out, "=%s", property->value);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* JSON ---------------------------------------------------------------------------------- */

static json_object *
nullable_string (const char *text)
{
  return text != NULL ? json_object_new_string (text) : NULL;
}

json_object *
cpu_def_to_json (const CpuDef *def)
{
  json_object *json = json_object_new_object ();
  json_object *features = json_object_new_object ();
  json_object *properties = json_object_new_object ();

  json_object_object_add (json, "mode", json_object_new_string (cpu_mode_name (def->mode)));
  json_object_object_add (json, "model", nullable_string (def->model));
  json_object_object_add (json, "vendor", nullable_string (def->vendor));
  json_object_object_add (json, "match", json_object_new_string (cpu_match_name (def->match)));
  json_object_object_add (json, "check", nullable_string (cpu_check_name (def->check)));
  json_object_object_add (json, "fallback",
                          json_object_new_string (cpu_fallback_name (def->fallback)));
  json_object_object_add (json, "vendor_id", nullable_string (def->vendor_id));

  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);
      json_object_object_add (features, entry->feature->name,
                              json_object_new_string (cpu_policy_name (entry->policy)));
    }
  json_object_object_add (json, "features", features);

  for (guint i = 0; i < def->properties->len; i++)
    {
      const CpuProperty *property = g_ptr_array_index (def->properties, i);
      json_object_object_add (properties, property->name,
                              property->value != NULL ? json_object_new_string (property->value)
                                                      : json_object_new_boolean (TRUE));
    }
  json_object_object_add (json, "properties", properties);
  return json;
}

/* The string member @key of @json, or NULL when absent or null. FALSE for another type. */
static gboolean
json_get_optional_string (json_object *json, const char *key, const char **value, GError **error)
{
  json_object *member = NULL;

  *value = NULL;
  if (!json_object_object_get_ex (json, key, &member) || member == NULL)
    return TRUE;
  if (!json_object_is_type (member, json_type_string))
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX,
                   "JSON CPU definition: member '%s' is not a string", key);
      return FALSE;
    }
  *value = json_object_get_string (member);
  return TRUE;
}

static gboolean
json_get_optional_object (json_object *json, const char *key, json_object **value, GError **error)
{
  *value = NULL;
  if (!json_object_object_get_ex (json, key, value) || *value == NULL)
    return TRUE;
  if (!json_object_is_type (*value, json_type_object))
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX,
                   "JSON CPU definition: member '%s' is not an object", key);
      return FALSE;
    }
  return TRUE;
}

static void
set_invalid_name_error (GError **error, const char *what, const char *name)
{
  g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_INVALID,
               "JSON CPU definition: unknown %s '%s'", what, name);
}

static gboolean
json_read_features (CpuDef *def, json_object *features, GError **error)
{
  json_object_object_foreach (features, name, value)
    {
      CpuPolicy policy, earlier;
      const char *policy_name = json_object_is_type (value, json_type_string)
                                ? json_object_get_string (value) : NULL;
      const X86Feature *feature = cpu_def_lookup_feature (name, error);
      if (feature == NULL)
        {
          g_prefix_error (error, "JSON CPU definition: ");
          return FALSE;
        }
      if (!cpu_policy_from_name (policy_name, &policy))
        {
          g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_INVALID,
                       "JSON CPU definition: feature '%s' has no valid policy", name);
          return FALSE;
        }
      /* Two spellings of one feature can both be keys. */
      if (cpu_def_get_policy (def, feature, &earlier) && earlier != policy)
        {
          g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_CONFLICT,
                       "JSON CPU definition: conflicting policies for feature '%s': "
                       "%s for '%s', %s earlier",
                       feature->name, policy_name, name, cpu_policy_name (earlier));
          return FALSE;
        }
      cpu_def_set_policy (def, feature, policy);
    }
  return TRUE;
}

static gboolean
json_read_properties (CpuDef *def, json_object *properties, GError **error)
{
  json_object_object_foreach (properties, name, value)
    {
      switch (json_object_get_type (value))
        {
        case json_type_boolean:
          /* true is how a bare word is written; false has no bare form. */
          cpu_def_add_property (def, name, json_object_get_boolean (value) ? NULL : "off");
          break;
        case json_type_string:
        case json_type_int:
        case json_type_double:
          cpu_def_add_property (def, name, json_object_get_string (value));
          break;
        default:
          g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX,
                       "JSON CPU definition: property '%s' is not a string, number or boolean", name);
          return FALSE;
        }
    }
  return TRUE;
}

CpuDef *
cpu_def_from_json (json_object *json, GError **error)
{
  const char *mode_name, *model, *vendor, *match_name, *check_name, *fallback_name, *vendor_id;
  json_object *features, *properties;
  CpuMode mode = CPU_MODE_CUSTOM;

  if (!json_object_is_type (json, json_type_object))
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX,
                   "JSON CPU definition: not an object");
      return NULL;
    }
  if (!json_get_optional_string (json, "mode", &mode_name, error)
      || !json_get_optional_string (json, "model", &model, error)
      || !json_get_optional_string (json, "vendor", &vendor, error)
      || !json_get_optional_string (json, "match", &match_name, error)
      || !json_get_optional_string (json, "check", &check_name, error)
      || !json_get_optional_string (json, "fallback", &fallback_name, error)
      || !json_get_optional_string (json, "vendor_id", &vendor_id, error)
      || !json_get_optional_object (json, "features", &features, error)
      || !json_get_optional_object (json, "properties", &properties, error))
    return NULL;

  if (mode_name != NULL && !cpu_mode_from_name (mode_name, &mode))
    {
      set_invalid_name_error (error, "mode", mode_name);
      return NULL;
    }
  g_autoptr (CpuDef) def = cpu_def_new (mode, model);
  def->vendor = g_strdup (vendor);
  def->vendor_id = g_strdup (vendor_id);
  if (match_name != NULL && !cpu_match_from_name (match_name, &def->match))
    {
      set_invalid_name_error (error, "match", match_name);
      return NULL;
    }
  if (check_name != NULL && !cpu_check_from_name (check_name, &def->check))
    {
      set_invalid_name_error (error, "check", check_name);
      return NULL;
    }
  if (fallback_name != NULL && !cpu_fallback_from_name (fallback_name, &def->fallback))
    {
      set_invalid_name_error (error, "fallback", fallback_name);
      return NULL;
    }
  if (features != NULL && !json_read_features (def, features, error))
    return NULL;
  if (properties != NULL && !json_read_properties (def, properties, error))
    return NULL;
  return g_steal_pointer (&def);
}

CpuDef *
cpu_def_from_argument (const char *argument, GError **error)
{
  g_autofree char *model = g_strndup (argument, strcspn (argument, ","));
  struct stat st;

  if (g_file_test (argument, G_FILE_TEST_IS_REGULAR))
    return cpu_def_from_xml_file (argument, error);
  /* No QEMU model has a slash or ends in .xml: such an argument is a file that is not
   * there, and asking QEMU about a model of that name would only hide the typo. */
  if (strchr (model, '/') != NULL || g_str_has_suffix (model, ".xml"))
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_IO, "CPU file %s: %s", argument,
                   stat (argument, &st) < 0 ? g_strerror (errno)
                   : S_ISDIR (st.st_mode) ? "is a directory" : "is not a regular file");
      return NULL;
    }
  return cpu_def_from_qemu_cpu_string (argument, error);
}
