/* probe/qemu-info.c — reads what a QEMU says about itself (probe/qemu-info.h). */
#include "probe/qemu-info.h"
#include "qmp/json-skim.h"

#include <string.h>

G_DEFINE_QUARK (probe-error-quark, probe_error)

static const char *const method_names[] = {
  [PROBE_METHOD_AUTO] = "auto",
  [PROBE_METHOD_EXPANSION] = "expansion",
  [PROBE_METHOD_POST_START] = "post-start",
};

const char *
probe_method_name (ProbeMethod method)
{
  g_return_val_if_fail (method < G_N_ELEMENTS (method_names), "auto");
  return method_names[method];
}

/* The oldest QEMU each method works on: feature-words came in 1.5, x86 expansion in 2.9. */
static const struct {
  ProbeMethod method;
  guint major, minor, micro;
} method_minimum[] = {
  { PROBE_METHOD_EXPANSION,  2, 9, 0 },
  { PROBE_METHOD_POST_START, 1, 5, 0 },
};

gboolean
probe_method_for_version (const QmpVersion *version, ProbeMethod requested,
                          ProbeMethod *method, GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (method_minimum); i++)
    {
      if (requested != PROBE_METHOD_AUTO && requested != method_minimum[i].method)
        continue;
      if (qmp_version_at_least (version, method_minimum[i].major, method_minimum[i].minor,
                                method_minimum[i].micro))
        {
          *method = method_minimum[i].method;
          return TRUE;
        }
      if (requested != PROBE_METHOD_AUTO || method_minimum[i].method == PROBE_METHOD_POST_START)
        {
          g_autofree char *text = qmp_version_to_string (version);

          g_set_error (error, PROBE_ERROR, PROBE_ERROR_TOO_OLD,
                       requested == PROBE_METHOD_AUTO
                       ? "QEMU %s is older than %u.%u.%u: cannot read the guest CPU"
                       : "QEMU %s is older than %u.%u.%u: cannot use this method", text,
                       method_minimum[i].major, method_minimum[i].minor,
                       method_minimum[i].micro);
          return FALSE;
        }
    }
  g_return_val_if_reached (FALSE);
}

void
probe_cpu_model_free (ProbeCpuModel *model)
{
  if (model == NULL)
    return;
  g_free (model->name);
  g_free (model->alias_of);
  g_free (model);
}

/* @text with its escapes settled where it has any, else NULL (read @text as it is). The
 * skim compares names as written; json-c decodes them first ("na\u006de" is "name"), so
 * text with a backslash is read from json-c's own plain writing of it, whose names carry
 * no escape that could name a member read here. QEMU writes none. */
static char *
unescaped_names (const char *text)
{
  json_object *parsed;
  char *plain;

  if (strchr (text, '\\') == NULL || (parsed = json_tokener_parse (text)) == NULL)
    return NULL;
  plain = g_strdup (json_object_to_json_string_ext (parsed, JSON_C_TO_STRING_PLAIN
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE));
  json_object_put (parsed);
  return plain;
}

/* Where the elements of the array at text[0, @length) start: *@at at the first one (or
 * the closing bracket). FALSE when the text is not an array. */
static gboolean
array_start (const char *text, gsize length, gsize *at)
{
  *at = qmp_json_skim_space (text, length, 0);
  if (*at >= length || text[*at] != '[')
    return FALSE;
  *at = qmp_json_skim_space (text, length, *at + 1);
  return TRUE;
}

/* One entry of query-cpu-definitions at text[@start, @end), or NULL when it is not an
 * object with a string "name". Of repeated members the last counts, as json-c keeps it. */
static ProbeCpuModel *
model_from_text (const char *text, gsize start, gsize end)
{
  g_autoptr (ProbeCpuModel) model = g_new0 (ProbeCpuModel, 1);
  QmpJsonMember member;
  gsize at;

  if (text[start] != '{')
    return NULL;
  for (at = qmp_json_skim_space (text, end, start + 1);
       at < end && text[at] != '}' && qmp_json_skim_member (text, end, &at, &member);)
    if (qmp_json_skim_is (&member, "name"))
      {
        g_free (model->name);
        model->name = qmp_json_skim_string (text, member.start, member.end);
      }
    else if (qmp_json_skim_is (&member, "alias-of"))
      {
        g_free (model->alias_of);
        model->alias_of = qmp_json_skim_string (text, member.start, member.end);
      }
  return model->name != NULL ? g_steal_pointer (&model) : NULL;
}

GPtrArray *
probe_cpu_models_parse (const char *text, GError **error)
{
  g_autofree char *plain = unescaped_names (text);
  const char *definitions = plain != NULL ? plain : text;
  g_autoptr (GPtrArray) models = NULL;
  gsize length = strlen (definitions);
  gsize at;

  if (!array_start (definitions, length, &at))
    {
      g_set_error_literal (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                           "query-cpu-definitions: expected a list");
      return NULL;
    }
  models = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_cpu_model_free);
  for (guint i = 0; at < length && definitions[at] != ']'; i++)
    {
      gsize end = qmp_json_skim_value (definitions, length, at);
      ProbeCpuModel *model = end != 0 ? model_from_text (definitions, at, end) : NULL;

      if (model == NULL)
        {
          g_set_error (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                       "query-cpu-definitions: entry %u has no name", i);
          return NULL;
        }
      g_ptr_array_add (models, model);
      at = qmp_json_skim_next (definitions, length, end);
    }
  return g_steal_pointer (&models);
}

const ProbeCpuModel *
probe_cpu_models_find (GPtrArray *models, const char *name)
{
  for (guint i = 0; i < models->len; i++)
    {
      const ProbeCpuModel *model = g_ptr_array_index (models, i);

      if (strcmp (model->name, name) == 0)
        return model;
    }
  return NULL;
}

char *
probe_machine_resolve (const char *text, const char *requested)
{
  g_autofree char *plain = text != NULL ? unescaped_names (text) : NULL;
  const char *machines = plain != NULL ? plain : text;
  gsize length = machines != NULL ? strlen (machines) : 0;
  gsize at;

  if (machines != NULL && array_start (machines, length, &at))
    while (at < length && machines[at] != ']')
      {
        gsize end = qmp_json_skim_value (machines, length, at);
        g_autofree char *name = NULL;
        g_autofree char *alias = NULL;
        gboolean is_default = FALSE;
        QmpJsonMember member;
        gsize in;

        if (end == 0)
          break;
        if (machines[at] == '{')
          {
            for (in = qmp_json_skim_space (machines, end, at + 1);
                 in < end && machines[in] != '}'
                 && qmp_json_skim_member (machines, end, &in, &member);)
              if (qmp_json_skim_is (&member, "name"))
                {
                  g_free (name);
                  name = qmp_json_skim_string (machines, member.start, member.end);
                }
              else if (qmp_json_skim_is (&member, "alias"))
                {
                  g_free (alias);
                  alias = qmp_json_skim_string (machines, member.start, member.end);
                }
              else if (qmp_json_skim_is (&member, "is-default"))
                is_default = member.end - member.start == 4
                             && memcmp (machines + member.start, "true", 4) == 0;
          }
        if (name != NULL
            && (requested == NULL ? is_default
                                  : g_strcmp0 (alias, requested) == 0 || strcmp (name, requested) == 0))
          return g_steal_pointer (&name);
        at = qmp_json_skim_next (machines, length, end);
      }
  return g_strdup (requested);
}

/* What a reply's props say of one property: nothing, null, false, or true. */
typedef enum { PROP_ABSENT, PROP_NULL, PROP_FALSE, PROP_TRUE, PROP_OTHER } PropValue;

typedef PropValue (*PropLookup) (gconstpointer props, const char *name);

/* The value of @feature's property in @props: by QEMU's canonical name, else by an older
 * spelling. A property that is there, even null, ends the search, as json-c's lookup
 * does. */
static PropValue
feature_property (PropLookup lookup, gconstpointer props, const X86Feature *feature)
{
  const char *property = x86_feature_qemu_property (feature);
  PropValue value;

  if (property == NULL)
    return PROP_ABSENT;
  if ((value = lookup (props, property)) != PROP_ABSENT)
    return value;
  if (property == feature->name && feature->aliases != NULL)
    for (guint i = 0; feature->aliases[i] != NULL; i++)
      if ((value = lookup (props, feature->aliases[i])) != PROP_ABSENT)
        return value;
  return PROP_ABSENT;
}

static void
features_from_props (PropLookup lookup, gconstpointer props, X86FeatureSet *set,
                     X86FeatureSet *known)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  for (guint i = 0; i < n_features; i++)
    {
      PropValue value = feature_property (lookup, props, &features[i]);

      if (value == PROP_ABSENT || value == PROP_NULL)
        continue;
      if (known != NULL)
        x86_feature_set_add (known, &features[i]);
      if (value == PROP_TRUE)
        x86_feature_set_add (set, &features[i]);
    }
}

static PropValue
object_lookup (gconstpointer props, const char *name)
{
  json_object *value;

  if (!json_object_object_get_ex ((json_object *) props, name, &value))
    return PROP_ABSENT;
  if (value == NULL)
    return PROP_NULL;
  if (!json_object_is_type (value, json_type_boolean))
    return PROP_OTHER;
  return json_object_get_boolean (value) ? PROP_TRUE : PROP_FALSE;
}

gboolean
probe_features_from_expansion (json_object *expansion, X86FeatureSet *set, X86FeatureSet *known,
                               GError **error)
{
  json_object *model, *props;

  x86_feature_set_clear (set);
  if (known != NULL)
    x86_feature_set_clear (known);
  if (!json_object_object_get_ex (expansion, "model", &model)
      || !json_object_object_get_ex (model, "props", &props)
      || !json_object_is_type (props, json_type_object))
    {
      g_set_error_literal (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                           "query-cpu-model-expansion: reply without model.props");
      return FALSE;
    }
  features_from_props (object_lookup, props, set, known);
  return TRUE;
}

/* The members of a props object in its text, by name, for the lookups above: open
 * addressing over (name, length), sized from the text (a member takes six bytes at
 * least), the last of repeated names counting, as in json-c. Offsets into the text keep
 * a slot to 16 bytes (a text is at most 64 MB: qmp/json-stream.h). */
typedef struct {
  guint32 name_at;
  guint32 length;
  guint32 value_start;
  guint8 value;                /* PropValue */
  guint8 used;
} PropSlot;

typedef struct {
  const char *text;
  guint mask;                  /* slots - 1, a power of two less one */
  PropSlot slots[];
} PropsTable;

static guint
name_hash (const char *name, gsize length)
{
  guint hash = 2166136261u;

  for (gsize i = 0; i < length; i++)
    hash = (hash ^ (guchar) name[i]) * 16777619u;
  return hash;
}

static PropsTable *
props_table_new (const char *text, gsize props_length)
{
  gsize slots = 64;
  PropsTable *table;

  while (slots < 2 * (props_length / 6 + 1))
    slots *= 2;
  /* Emptied by props_table_fill(), before each props object it reads. */
  table = g_malloc (sizeof (PropsTable) + slots * sizeof (PropSlot));
  table->text = text;
  table->mask = (guint) slots - 1;
  return table;
}

static PropSlot *
props_slot (PropsTable *table, const char *name, gsize length)
{
  guint at = name_hash (name, length) & table->mask;

  while (table->slots[at].used
         && (table->slots[at].length != length
             || memcmp (table->text + table->slots[at].name_at, name, length) != 0))
    at = (at + 1) & table->mask;
  return &table->slots[at];
}

static PropValue
text_lookup (gconstpointer props, const char *name)
{
  PropSlot *slot = props_slot ((PropsTable *) props, name, strlen (name));

  return slot->used ? (PropValue) slot->value : PROP_ABSENT;
}

/* Fills @table, emptied first, from the props object at text[@start, @end): the position
 * past its closing brace, or 0 when the skim cannot follow it. */
static gsize
props_table_fill (PropsTable *table, const char *text, gsize start, gsize end)
{
  QmpJsonMember member;
  gsize at;

  memset (table->slots, 0, (table->mask + 1) * sizeof (PropSlot));
  for (at = qmp_json_skim_space (text, end, start + 1); at < end && text[at] != '}';)
    {
      PropSlot *slot;
      gsize length;

      if (!qmp_json_skim_member (text, end, &at, &member) || end > G_MAXUINT32)
        return 0;
      slot = props_slot (table, member.name, member.name_length);
      slot->used = 1;
      slot->name_at = (guint32) (member.name - text);
      slot->length = (guint32) member.name_length;
      slot->value_start = (guint32) member.start;
      length = member.end - member.start;
      slot->value = length == 4 && memcmp (text + member.start, "true", 4) == 0 ? PROP_TRUE
                    : length == 5 && memcmp (text + member.start, "false", 5) == 0 ? PROP_FALSE
                    : length == 4 && memcmp (text + member.start, "null", 4) == 0 ? PROP_NULL
                    : PROP_OTHER;
    }
  return at < end ? at + 1 : 0;
}

/* Follows the object at text[@start] (up to @end) member by member, handing each member
 * called @name that holds an object to @read, which returns the position past it (0: it
 * cannot be read); any other value is skipped. The position past the object, or 0. Each
 * byte is followed once: the member asked for is read where it is found, and of several
 * the last read counts. */
static gsize
follow_object (const char *text, gsize start, gsize end, const char *name,
               gsize (*read) (const char *text, gsize start, gsize end, gpointer data),
               gpointer data, gboolean *found)
{
  QmpJsonMember member;
  gsize at;

  if (start >= end || text[start] != '{')
    return 0;
  for (at = qmp_json_skim_space (text, end, start + 1); at < end && text[at] != '}';)
    {
      gsize value_end;

      if (!qmp_json_skim_name (text, end, at, &member))
        return 0;
      if (qmp_json_skim_is (&member, name) && member.start < end && text[member.start] == '{')
        {
          value_end = read (text, member.start, end, data);
          *found = value_end != 0;
        }
      else
        {
          if (qmp_json_skim_is (&member, name))
            *found = FALSE;        /* a later one that is no object hides the earlier */
          value_end = qmp_json_skim_value (text, end, member.start);
        }
      if (value_end == 0)
        return 0;
      at = qmp_json_skim_next (text, end, value_end);
    }
  return at < end ? at + 1 : 0;
}

typedef struct {
  PropsTable *table;
  gboolean props_found;
} ModelReading;

static gsize
read_props (const char *text, gsize start, gsize end, gpointer data)
{
  return props_table_fill (((ModelReading *) data)->table, text, start, end);
}

static gsize
read_model (const char *text, gsize start, gsize end, gpointer data)
{
  ModelReading *reading = data;

  /* A later "model" stands alone: what an earlier one held does not count. */
  reading->props_found = FALSE;
  return follow_object (text, start, end, "props", read_props, reading, &reading->props_found);
}

gboolean
probe_features_from_expansion_text (const char *text, X86FeatureSet *set,
                                    X86FeatureSet *known, char **vendor, GError **error)
{
  g_autofree char *plain = unescaped_names (text);
  const char *expansion = plain != NULL ? plain : text;
  gsize length = strlen (expansion);
  gsize start = qmp_json_skim_space (expansion, length, 0);
  g_autofree PropsTable *table = props_table_new (expansion, length);
  ModelReading reading = { table, FALSE };
  gboolean model_found = FALSE;

  x86_feature_set_clear (set);
  if (known != NULL)
    x86_feature_set_clear (known);
  if (vendor != NULL)
    *vendor = NULL;
  /* One pass over the reply: model.props is read into the table where it is met. */
  if (follow_object (expansion, start, length, "model", read_model, &reading, &model_found) == 0
      || !model_found || !reading.props_found)
    {
      g_set_error_literal (error, PROBE_ERROR, PROBE_ERROR_REPLY,
                           "query-cpu-model-expansion: reply without model.props");
      return FALSE;
    }
  features_from_props (text_lookup, table, set, known);
  if (vendor != NULL)
    {
      PropSlot *slot = props_slot (table, "vendor", strlen ("vendor"));

      if (slot->used)
        *vendor = qmp_json_skim_string (expansion, slot->value_start,
                                        qmp_json_skim_value (expansion, length, slot->value_start));
    }
  return TRUE;
}

json_object *
probe_expansion_arguments (const char *model, json_object *props)
{
  json_object *arguments = json_object_new_object ();
  json_object *model_info = json_object_new_object ();

  json_object_object_add (model_info, "name", json_object_new_string (model));
  if (props != NULL)
    json_object_object_add (model_info, "props", props);
  json_object_object_add (arguments, "type", json_object_new_string ("full"));
  json_object_object_add (arguments, "model", model_info);
  return arguments;
}

void
probe_guest_cpu_clear (ProbeGuestCpu *cpu)
{
  g_clear_pointer (&cpu->machine, g_free);
  g_clear_pointer (&cpu->models, g_ptr_array_unref);
  g_clear_pointer (&cpu->supported_vendor, g_free);
}

gboolean
probe_check_model (GPtrArray *models, const char *model, GError **error)
{
  if (models == NULL || strcmp (model, "host") == 0 || strcmp (model, "max") == 0
      || probe_cpu_models_find (models, model) != NULL)
    return TRUE;
  g_set_error (error, PROBE_ERROR, PROBE_ERROR_UNKNOWN_MODEL,
               "CPU model %s: not a model of this QEMU", model);
  return FALSE;
}
