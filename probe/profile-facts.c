/* probe/profile-facts.c — the compact expansions of one profiled QEMU session, written
 * from QEMU's replies (probe/profile-facts.h). */
#include "probe/profile-facts.h"

#include <string.h>
#include "x86/feature-table.h"

const char *const probe_facts_variant_members[PROBE_FACTS_N_VARIANTS] = {
  [PROBE_FACTS_PLAIN] = "on",
  [PROBE_FACTS_PREREQS_ON] = "prereqs-on",
  [PROBE_FACTS_ROOTS_ON] = "roots-on",
  [PROBE_FACTS_MIGRATABLE_OFF] = "migratable-off",
};

const char *
probe_facts_canonical (const char *property)
{
  const X86Feature *feature = x86_feature_lookup_property (property);

  return feature != NULL ? x86_feature_qemu_property (feature) : NULL;
}

json_object *
probe_facts_expansion_props (json_object *expansion)
{
  json_object *model = NULL, *props = NULL;

  if (json_object_object_get_ex (expansion, "model", &model)
      && json_object_object_get_ex (model, "props", &props)
      && json_object_is_type (props, json_type_object))
    return props;
  return NULL;
}

char *
probe_bits_to_hex (const ProbeBits *bits, guint n)
{
  GString *hex = g_string_sized_new (n / 4 + 1);

  for (guint i = 0; i < n; i += 4)
    {
      guint digit = 0;

      for (guint b = 0; b < 4 && i + b < n; b++)
        digit |= (guint) bits[i + b] << b;
      g_string_append_c (hex, "0123456789abcdef"[digit]);
    }
  return g_string_free (hex, FALSE);
}

gboolean
probe_bits_from_hex (const char *hex, ProbeBits *bits, guint n)
{
  if (hex == NULL || strlen (hex) != (n + 3) / 4)
    return FALSE;
  for (guint i = 0; i < n; i += 4)
    {
      int digit = g_ascii_xdigit_value (hex[i / 4]);

      if (digit < 0)
        return FALSE;
      for (guint b = 0; b < 4 && i + b < n; b++)
        bits[i + b] = (digit >> b) & 1;
    }
  return TRUE;
}

struct ProbeFactsWriter
{
  GPtrArray *names;          /* canonical feature properties (borrowed from the table) */
  GHashTable *index;         /* name → position + 1 */
  ProbeBits *max_on;         /* what max's plain expansion turns on */
  ProbeBits *never;          /* off with every feature asked on; NULL until known */
  ProbeBits *prereqs;        /* features whose being off clears others; NULL until known */
  ProbeBits *roots;          /* the prerequisites no other feature clears */
  json_object *expansions;   /* {model: {...}} */
};

int
probe_facts_index (GHashTable *index, const char *name)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (index, name)) - 1;
}

ProbeFactsWriter *
probe_facts_writer_new (json_object *max_expansion)
{
  ProbeFactsWriter *writer = g_new0 (ProbeFactsWriter, 1);
  json_object *props = probe_facts_expansion_props (max_expansion);

  writer->names = g_ptr_array_new ();
  writer->index = g_hash_table_new (g_str_hash, g_str_equal);
  writer->expansions = json_object_new_object ();
  if (props != NULL)
    {
      json_object_object_foreach (props, name, value)
        {
          const char *canonical = probe_facts_canonical (name);

          (void) value;
          if (canonical != NULL && probe_facts_index (writer->index, canonical) < 0)
            {
              g_ptr_array_add (writer->names, (gpointer) canonical);
              g_hash_table_insert (writer->index, (gpointer) canonical,
                                   GUINT_TO_POINTER (writer->names->len));
            }
        }
    }
  writer->max_on = probe_facts_writer_bits (writer, max_expansion);
  return writer;
}

void
probe_facts_writer_free (ProbeFactsWriter *writer)
{
  if (writer == NULL)
    return;
  g_ptr_array_unref (writer->names);
  g_hash_table_unref (writer->index);
  g_free (writer->max_on);
  g_free (writer->never);
  g_free (writer->prereqs);
  g_free (writer->roots);
  json_object_put (writer->expansions);
  g_free (writer);
}

guint
probe_facts_writer_n_features (ProbeFactsWriter *writer)
{
  return writer->names->len;
}

const char *
probe_facts_writer_feature (ProbeFactsWriter *writer, guint i)
{
  return g_ptr_array_index (writer->names, i);
}

ProbeBits *
probe_facts_writer_bits (ProbeFactsWriter *writer, json_object *expansion)
{
  ProbeBits *bits = g_new0 (ProbeBits, MAX (writer->names->len, 1));
  json_object *props = probe_facts_expansion_props (expansion);

  if (props == NULL)
    return bits;
  json_object_object_foreach (props, name, value)
    {
      const char *canonical = probe_facts_canonical (name);
      int i = canonical != NULL ? probe_facts_index (writer->index, canonical) : -1;

      if (i >= 0 && json_object_is_type (value, json_type_boolean)
          && json_object_get_boolean (value))
        bits[i] = 1;
    }
  return bits;
}

/* Every feature of @on (NULL: all) switched on. */
static json_object *
props_on (ProbeFactsWriter *writer, const ProbeBits *on)
{
  json_object *props = json_object_new_object ();

  for (guint i = 0; i < writer->names->len; i++)
    if (on == NULL || on[i])
      json_object_object_add (props, g_ptr_array_index (writer->names, i),
                              json_object_new_boolean (TRUE));
  return props;
}

json_object *
probe_facts_writer_world_props (ProbeFactsWriter *writer, const ProbeBits *off)
{
  json_object *props = json_object_new_object ();

  /* QEMU spends time on every property it is given: max already has its own features
   * on before the pass, so only the others are asked. */
  for (guint i = 0; i < writer->names->len; i++)
    if (off != NULL && off[i])
      json_object_object_add (props, g_ptr_array_index (writer->names, i),
                              json_object_new_boolean (FALSE));
    else if (!writer->max_on[i])
      json_object_object_add (props, g_ptr_array_index (writer->names, i),
                              json_object_new_boolean (TRUE));
  return props;
}

void
probe_facts_writer_set_never (ProbeFactsWriter *writer, json_object *all_on)
{
  g_autofree ProbeBits *on = probe_facts_writer_bits (writer, all_on);

  g_free (writer->never);
  writer->never = g_new0 (ProbeBits, MAX (writer->names->len, 1));
  for (guint i = 0; i < writer->names->len; i++)
    writer->never[i] = !on[i];
}

void
probe_facts_writer_set_dependents (ProbeFactsWriter *writer, json_object *dependents)
{
  guint n = writer->names->len;
  gboolean any = FALSE;

  g_clear_pointer (&writer->prereqs, g_free);
  g_clear_pointer (&writer->roots, g_free);
  if (dependents == NULL)
    return;
  writer->prereqs = g_new0 (ProbeBits, MAX (n, 1));
  writer->roots = g_new0 (ProbeBits, MAX (n, 1));
  json_object_object_foreach (dependents, name, cleared)
    {
      int at = probe_facts_index (writer->index, name);

      if (at >= 0)
        any = writer->prereqs[at] = writer->roots[at] = 1;
    }
  json_object_object_foreach (dependents, prerequisite, cleared_list)
    for (guint j = 0; j < json_object_array_length (cleared_list); j++)
      {
        int at = probe_facts_index (writer->index,
                                    json_object_get_string (json_object_array_get_idx (cleared_list, j)));

        (void) prerequisite;
        if (at >= 0)
          writer->roots[at] = 0;
      }
  if (!any)
    g_clear_pointer (&writer->prereqs, g_free);
}

json_object *
probe_facts_writer_variant_props (ProbeFactsWriter *writer, ProbeFactsVariant variant)
{
  json_object *props;

  switch (variant)
    {
    case PROBE_FACTS_MIGRATABLE_OFF:
      props = json_object_new_object ();
      json_object_object_add (props, "migratable", json_object_new_boolean (FALSE));
      return props;
    case PROBE_FACTS_PREREQS_ON:
      return writer->prereqs != NULL ? props_on (writer, writer->prereqs) : NULL;
    case PROBE_FACTS_ROOTS_ON:
      /* Roots that are all the prerequisites ask the question of prereqs-on again. */
      return writer->prereqs != NULL && memcmp (writer->roots, writer->prereqs, writer->names->len) != 0
             ? props_on (writer, writer->roots) : NULL;
    case PROBE_FACTS_PLAIN:
    case PROBE_FACTS_N_VARIANTS:
      break;
    }
  return NULL;
}

/* @expansion less its feature properties, which the bit string holds. */
static json_object *
reply_skeleton (json_object *expansion)
{
  json_object *skeleton = json_object_new_object ();

  json_object_object_foreach (expansion, key, value)
    {
      json_object *model, *props;

      if (strcmp (key, "model") != 0 || !json_object_is_type (value, json_type_object))
        {
          json_object_object_add (skeleton, key, json_object_get (value));
          continue;
        }
      model = json_object_new_object ();
      json_object_object_foreach (value, model_key, model_value)
        {
          if (strcmp (model_key, "props") != 0 || !json_object_is_type (model_value, json_type_object))
            {
              json_object_object_add (model, model_key, json_object_get (model_value));
              continue;
            }
          props = json_object_new_object ();
          json_object_object_foreach (model_value, name, prop)
            if (probe_facts_canonical (name) == NULL)
              json_object_object_add (props, name, json_object_get (prop));
          json_object_object_add (model, "props", props);
        }
      json_object_object_add (skeleton, "model", model);
    }
  return skeleton;
}

void
probe_facts_writer_add (ProbeFactsWriter *writer, const char *model, ProbeFactsVariant variant,
                        json_object *expansion)
{
  json_object *entry = NULL, *target;
  g_autofree ProbeBits *on = probe_facts_writer_bits (writer, expansion);
  g_autofree char *hex = probe_bits_to_hex (on, writer->names->len);

  if (!json_object_object_get_ex (writer->expansions, model, &entry))
    {
      entry = json_object_new_object ();
      json_object_object_add (writer->expansions, model, entry);
    }
  target = entry;
  if (variant == PROBE_FACTS_MIGRATABLE_OFF)
    {
      target = json_object_new_object ();
      json_object_object_add (entry, probe_facts_variant_members[variant], target);
    }
  if (variant == PROBE_FACTS_PLAIN || variant == PROBE_FACTS_MIGRATABLE_OFF)
    {
      json_object_object_add (target, "reply", reply_skeleton (expansion));
      json_object_object_add (target, "on", json_object_new_string (hex));
    }
  else
    json_object_object_add (target, probe_facts_variant_members[variant],
                            json_object_new_string (hex));
}

/* Every stored reply's properties, in turn. */
static void
foreach_stored_props (ProbeFactsWriter *writer, void (*func) (json_object *props, gpointer data),
                      gpointer data)
{
  json_object_object_foreach (writer->expansions, model, entry)
    {
      json_object *stored[2] = { entry, json_object_object_get (entry, "migratable-off") };

      (void) model;
      for (guint i = 0; i < G_N_ELEMENTS (stored); i++)
        {
          json_object *reply = stored[i] != NULL ? json_object_object_get (stored[i], "reply") : NULL;
          json_object *props = reply != NULL ? probe_facts_expansion_props (reply) : NULL;

          if (props != NULL)
            func (props, data);
        }
    }
}

typedef struct {
  GHashTable *counts;      /* "name\tvalue" → how many replies have it */
  GHashTable *present;     /* name → in how many replies */
  guint n_replies;
} PropCounts;

static void
count_props (json_object *props, gpointer data)
{
  PropCounts *counts = data;

  counts->n_replies++;
  json_object_object_foreach (props, name, value)
    {
      char *key = g_strdup_printf ("%s\t%s", name, json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN));

      g_hash_table_insert (counts->counts, key,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts->counts, key)) + 1));
      g_hash_table_insert (counts->present, name,
                           GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts->present, name)) + 1));
    }
}

static void
drop_common (json_object *props, gpointer data)
{
  json_object *common = data;
  g_autoptr (GPtrArray) dropped = g_ptr_array_new_with_free_func (g_free);

  json_object_object_foreach (props, name, value)
    {
      json_object *shared = NULL;

      if (json_object_object_get_ex (common, name, &shared) && json_object_equal (shared, value))
        g_ptr_array_add (dropped, g_strdup (name));
    }
  for (guint i = 0; i < dropped->len; i++)
    json_object_object_del (props, g_ptr_array_index (dropped, i));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The value of every property most replies share, where every reply has the property:
 * replies keep only what differs (the model's name, family, level, ...). */
static json_object *
common_props (ProbeFactsWriter *writer)
{
  PropCounts counts = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL),
                        g_hash_table_new (g_str_hash, g_str_equal), 0 };
  json_object *common = json_object_new_object ();
  g_autoptr (GPtrArray) chosen = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key, value;

  foreach_stored_props (writer, count_props, &counts);
  g_hash_table_iter_init (&iter, counts.counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autofree char *name = g_strndup (key, strcspn (key, "\t"));

      /* A majority value is the only one: no tie to break. */
      if (GPOINTER_TO_UINT (g_hash_table_lookup (counts.present, name)) == counts.n_replies
          && GPOINTER_TO_UINT (value) * 2 > counts.n_replies)
        g_ptr_array_add (chosen, key);
    }
  /* In name order: the same answers always make the same document. */
  g_ptr_array_sort (chosen, compare_strings);
  for (guint i = 0; i < chosen->len; i++)
    {
      const char *entry = g_ptr_array_index (chosen, i);
      g_autofree char *name = g_strndup (entry, strcspn (entry, "\t"));

      json_object_object_add (common, name, json_tokener_parse (entry + strlen (name) + 1));
    }
  g_hash_table_unref (counts.counts);
  g_hash_table_unref (counts.present);
  foreach_stored_props (writer, drop_common, common);
  return common;
}

json_object *
probe_facts_writer_finish (ProbeFactsWriter *writer)
{
  json_object *facts = json_object_new_object ();
  json_object *names = json_object_new_array ();

  for (guint i = 0; i < writer->names->len; i++)
    json_object_array_add (names, json_object_new_string (g_ptr_array_index (writer->names, i)));
  json_object_object_add (facts, "features", names);
  if (writer->never != NULL)
    {
      g_autofree char *hex = probe_bits_to_hex (writer->never, writer->names->len);

      json_object_object_add (facts, "never", json_object_new_string (hex));
    }
  json_object_object_add (facts, "props", common_props (writer));
  json_object_object_add (facts, "expansions", json_object_get (writer->expansions));
  return facts;
}
