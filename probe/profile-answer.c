/* probe/profile-answer.c — expansions answered from a profiled session's facts
 * (probe/profile-answer.h). */
#include "probe/profile-answer.h"

#include <string.h>
#include "probe/profile-facts.h"
#include "probe/profile.h"
#include "qmp/json-skim.h"

typedef ProbeBits Bits;

struct ProbeFacts
{
  json_object *session;      /* referenced: the strings below are its */
  guint n;
  GPtrArray *names;          /* const char *, the session's features */
  GHashTable *index;         /* name → position + 1 */
  GPtrArray *dependents_of;  /* per feature: Bits * (owned) or NULL; filled on first use */
  Bits *never;               /* what the session never turns on */
  json_object *dependents;   /* referenced; NULL: unknown, no toggle is answered */
  json_object *common;       /* borrowed: properties most replies share, or NULL */
  char *common_text;         /* @common's members as JSON text, written on first use */
  gboolean common_has_features;  /* @common names a feature (only a hand-made profile) */
  /* The expansions, each parsed from the profile's text when first asked for: a question
   * reads one or two of some 130. NULL index: the session has none. */
  GBytes *text;
  GHashTable *expansion_at;  /* model (owned) → QmpJsonMember * (owned) */
  GPtrArray *models;         /* the models, in the text's order (names borrowed) */
  GHashTable *expansion_read;  /* model (borrowed) → its entry (owned) */
  char *where;
  GMutex lock;               /* guards what is filled on first use: sessions answering
                              * alike share these facts, and may be asked from threads */
  GError *malformed;         /* the first entry found not to be JSON */
};

void
probe_facts_free (ProbeFacts *facts)
{
  if (facts == NULL)
    return;
  g_clear_pointer (&facts->names, g_ptr_array_unref);
  g_clear_pointer (&facts->index, g_hash_table_unref);
  g_clear_pointer (&facts->dependents_of, g_ptr_array_unref);
  g_free (facts->never);
  json_object_put (facts->dependents);
  json_object_put (facts->session);
  g_clear_pointer (&facts->expansion_read, g_hash_table_unref);
  g_clear_pointer (&facts->models, g_ptr_array_unref);
  g_clear_pointer (&facts->expansion_at, g_hash_table_unref);
  g_clear_pointer (&facts->text, g_bytes_unref);
  g_free (facts->where);
  g_free (facts->common_text);
  g_clear_error (&facts->malformed);
  g_mutex_clear (&facts->lock);
  g_free (facts);
}

static gboolean
malformed (GError **error, const char *where, const char *member)
{
  g_set_error (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID, "%s.%s is malformed",
               where, member);
  return FALSE;
}

/* Marks in @bits (when not NULL) the features @list (a JSON array of names) names. */
static gboolean
names_to_bits (ProbeFacts *facts, json_object *list, Bits *bits)
{
  if (!json_object_is_type (list, json_type_array))
    return FALSE;
  for (guint i = 0; i < json_object_array_length (list); i++)
    {
      json_object *name = json_object_array_get_idx (list, i);
      int at = json_object_is_type (name, json_type_string)
               ? probe_facts_index (facts->index, json_object_get_string (name)) : -1;

      if (at < 0)
        return FALSE;
      bits[at] = 1;
    }
  return TRUE;
}

/* Whether @props (an object, or NULL) has a member named as one of the session's features. */
static gboolean
names_a_feature (ProbeFacts *facts, json_object *props)
{
  if (props == NULL)
    return FALSE;
  {
    json_object_object_foreach (props, name, value)
      {
        (void) value;
        if (probe_facts_index (facts->index, name) >= 0)
          return TRUE;
      }
  }
  return FALSE;
}

static void
put_entry (gpointer entry)
{
  json_object_put (entry);
}

/* Locates every entry of the expansions object at text[@start, @end). FALSE when the skim
 * cannot follow it. */
static gboolean
index_expansions (ProbeFacts *facts, gsize start, gsize end)
{
  gsize length;
  const char *text = g_bytes_get_data (facts->text, &length);
  gsize at;

  facts->expansion_at = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  facts->models = g_ptr_array_new ();
  facts->expansion_read = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, put_entry);
  if (end > length || start >= end || text[start] != '{')
    return FALSE;
  at = qmp_json_skim_space (text, end, start + 1);
  while (at >= end || text[at] != '}')
    {
      QmpJsonMember member = { 0 };
      char *name;

      if (!qmp_json_skim_member (text, end, &at, &member))
        return FALSE;
      /* Model names hold no escapes: a key that does is not one (and is never asked). */
      name = g_strndup (member.name, member.name_length);
      if (!g_hash_table_contains (facts->expansion_at, name))
        g_ptr_array_add (facts->models, name);
      /* A repeated model's later entry wins, as in a parsed object; its first key stays. */
      g_hash_table_insert (facts->expansion_at, name, g_memdup2 (&member, sizeof member));
    }
  return TRUE;
}

ProbeFacts *
probe_facts_new (json_object *session, GBytes *text, gsize expansions_start,
                 gsize expansions_end, json_object *dependents, const char *where,
                 GError **error)
{
  g_autoptr (ProbeFacts) facts = g_new0 (ProbeFacts, 1);
  json_object *features = NULL, *never = NULL;

  g_mutex_init (&facts->lock);
  facts->where = g_strdup (where);
  facts->session = json_object_get (session);
  facts->names = g_ptr_array_new ();
  facts->index = g_hash_table_new (g_str_hash, g_str_equal);
  facts->dependents_of = g_ptr_array_new_with_free_func (g_free);
  /* A QEMU older than 2.9 expands nothing: its sessions hold no facts. */
  if (!json_object_object_get_ex (session, "features", &features))
    return g_steal_pointer (&facts);
  if (!json_object_is_type (features, json_type_array))
    return malformed (error, where, "features"), NULL;
  for (guint i = 0; i < json_object_array_length (features); i++)
    {
      json_object *name = json_object_array_get_idx (features, i);

      if (!json_object_is_type (name, json_type_string)
          || probe_facts_index (facts->index, json_object_get_string (name)) >= 0)
        return malformed (error, where, "features"), NULL;
      g_ptr_array_add (facts->names, (gpointer) json_object_get_string (name));
      g_hash_table_insert (facts->index, (gpointer) json_object_get_string (name),
                           GUINT_TO_POINTER (facts->names->len));
    }
  facts->n = facts->names->len;
  facts->never = g_new0 (Bits, MAX (facts->n, 1));
  if (!json_object_object_get_ex (session, "never", &never)
      || !probe_bits_from_hex (json_object_get_string (never), facts->never, facts->n))
    return malformed (error, where, "never"), NULL;
  if (json_object_object_get_ex (session, "props", &facts->common)
      && !json_object_is_type (facts->common, json_type_object))
    return malformed (error, where, "props"), NULL;
  facts->common_has_features = names_a_feature (facts, facts->common);
  facts->text = g_bytes_ref (text);
  if (!index_expansions (facts, expansions_start, expansions_end))
    return malformed (error, where, "expansions"), NULL;
  if (dependents != NULL)
    facts->dependents = json_object_get (dependents);
  return g_steal_pointer (&facts);
}

/* The dependents of every feature, from the profile's names, read on first use: a
 * question without toggles never needs them. FALSE when they are unknown or name a
 * feature this session lacks (then no toggle is answered). */
static gboolean
load_dependents (ProbeFacts *facts)
{
  if (facts->dependents == NULL)
    return FALSE;
  if (facts->dependents_of->len == facts->n && facts->n > 0)
    return TRUE;
  g_ptr_array_set_size (facts->dependents_of, facts->n);
  {
    json_object_object_foreach (facts->dependents, name, cleared)
      {
        int at = probe_facts_index (facts->index, name);

        if (at < 0 || !json_object_is_type (cleared, json_type_array))
          {
            g_ptr_array_set_size (facts->dependents_of, 0);
            return FALSE;
          }
        g_free (facts->dependents_of->pdata[at]);
        facts->dependents_of->pdata[at] = g_new0 (Bits, facts->n);
        if (!names_to_bits (facts, cleared, facts->dependents_of->pdata[at]))
          {
            g_ptr_array_set_size (facts->dependents_of, 0);
            return FALSE;
          }
      }
  }
  return TRUE;
}

/* The reply @stored ({"reply", "on"}) holds, as QEMU gave it (caller owns it). */
static json_object *
stored_reply (ProbeFacts *facts, json_object *stored)
{
  json_object *skeleton = NULL, *on_hex = NULL, *model = NULL, *props = NULL;
  g_autofree Bits *on = g_new0 (Bits, MAX (facts->n, 1));
  json_object *reply, *copy = NULL;
  unsigned add_flags;

  if (!json_object_object_get_ex (stored, "reply", &skeleton)
      || !json_object_object_get_ex (stored, "on", &on_hex)
      || !probe_bits_from_hex (json_object_get_string (on_hex), on, facts->n)
      || json_object_deep_copy (skeleton, &copy, NULL) != 0)
    return NULL;
  /* Entries are read only once found to hold objects there (entry_well_formed()). */
  if (!json_object_object_get_ex (copy, "model", &model)
      || !json_object_object_get_ex (model, "props", &props))
    {
      json_object_put (copy);
      return NULL;
    }
  /* A profile as vcpuprobe writes it keeps the features out of the other properties:
   * each is then added below without looking for it first, some 500 lookups a reply. */
  add_flags = facts->common_has_features || names_a_feature (facts, props)
              ? 0 : JSON_C_OBJECT_ADD_KEY_IS_NEW;
  /* The properties most replies share, where this one does not say otherwise. */
  if (facts->common != NULL)
    {
      json_object_object_foreach (facts->common, name, value)
        {
          json_object *copy_value = NULL;

          /* A copy, never the profile's own object: the session that gets the reply owns
           * it, and other sessions, in other threads, read the same facts meanwhile. */
          if (!json_object_object_get_ex (props, name, NULL)
              && json_object_deep_copy (value, &copy_value, NULL) == 0)
            json_object_object_add (props, name, copy_value);
        }
    }
  for (guint i = 0; i < facts->n; i++)
    json_object_object_add_ex (props, g_ptr_array_index (facts->names, i),
                               json_object_new_boolean (on[i]), add_flags);
  reply = json_object_new_object ();
  json_object_object_add (reply, "return", copy);
  return reply;
}

/* What one pass of the dependency table and the accelerator leave of @before: every
 * dependent of a feature that is off is cleared, then what stays off whatever is asked
 * (@never). Writes @after. */
static void
settle (ProbeFacts *facts, const Bits *before, const Bits *never, Bits *after)
{
  memcpy (after, before, facts->n);
  for (guint i = 0; i < facts->n; i++)
    {
      const Bits *cleared = facts->dependents_of->pdata[i];

      if (before[i] || cleared == NULL)
        continue;
      for (guint j = 0; j < facts->n; j++)
        if (cleared[j])
          after[j] = 0;
    }
  for (guint j = 0; j < facts->n; j++)
    if (never[j])
      after[j] = 0;
}

/* Learns from one stored expansion made with @asked switched on (NULL: nothing asked)
 * what the model's features were before the dependency pass: a feature on in the reply
 * was on; one off that no feature off in the reply could have cleared was off. */
static void
learn_before (ProbeFacts *facts, const Bits *reply_on, const Bits *asked, Bits *known_on,
              Bits *known_off)
{
  g_autofree Bits *maybe_cleared = g_new0 (Bits, MAX (facts->n, 1));

  for (guint i = 0; i < facts->n; i++)
    {
      const Bits *cleared = facts->dependents_of->pdata[i];

      if (reply_on[i] || cleared == NULL)
        continue;
      for (guint j = 0; j < facts->n; j++)
        maybe_cleared[j] |= cleared[j];
    }
  for (guint j = 0; j < facts->n; j++)
    {
      if (asked != NULL && asked[j])
        continue;
      if (reply_on[j])
        known_on[j] = 1;
      else if (!maybe_cleared[j])
        known_off[j] = 1;
    }
}

/* The feature toggles of @props (feature → on/off), or FALSE when @props holds anything
 * else: a property that is not a feature of this QEMU, or a value not a boolean. */
static gboolean
read_toggles (ProbeFacts *facts, json_object *props, Bits *toggled, Bits *value)
{
  json_object_object_foreach (props, name, prop)
    {
      const char *canonical = probe_facts_canonical (name);
      int at = canonical != NULL ? probe_facts_index (facts->index, canonical) : -1;

      if (at < 0 || !json_object_is_type (prop, json_type_boolean))
        return FALSE;
      toggled[at] = 1;
      value[at] = json_object_get_boolean (prop);
    }
  return TRUE;
}

static gboolean
stored_bits (ProbeFacts *facts, json_object *entry, const char *member, Bits *bits)
{
  json_object *hex = NULL;

  return json_object_object_get_ex (entry, member, &hex)
         && probe_bits_from_hex (json_object_get_string (hex), bits, facts->n);
}

/* Settles the features before the pass both ways — what is not known on or off taken
 * off, then on — with @toggled features at @value (both NULL: nothing toggled). TRUE
 * with the one result in @after when both agree. */
static gboolean
extremes_agree (ProbeFacts *facts, const Bits *known_on, const Bits *known_off,
                const Bits *toggled, const Bits *value, const Bits *never, Bits *after)
{
  guint n = facts->n;
  g_autofree Bits *low = g_new0 (Bits, MAX (n, 1)), *high = g_new0 (Bits, MAX (n, 1));
  g_autofree Bits *high_after = g_new0 (Bits, MAX (n, 1));

  for (guint j = 0; j < n; j++)
    {
      if (known_on[j] && known_off[j])
        return FALSE;
      low[j] = toggled != NULL && toggled[j] ? value[j] : known_on[j];
      high[j] = toggled != NULL && toggled[j] ? value[j] : !known_off[j];
    }
  settle (facts, low, never, after);
  settle (facts, high, never, high_after);
  return memcmp (after, high_after, n) == 0;
}

/* The expansion of the model of @entry with the feature toggles of @props, computed as
 * QEMU computes it; NULL when what the profile measured does not settle it. */
static json_object *
toggled_reply (ProbeFacts *facts, json_object *entry, json_object *props)
{
  guint n = facts->n;
  g_autofree Bits *toggled = g_new0 (Bits, MAX (n, 1)), *value = g_new0 (Bits, MAX (n, 1));
  g_autofree Bits *known_on = g_new0 (Bits, MAX (n, 1)), *known_off = g_new0 (Bits, MAX (n, 1));
  g_autofree Bits *reply_on = g_new0 (Bits, MAX (n, 1)), *never = g_memdup2 (facts->never, MAX (n, 1));
  g_autofree Bits *asked = g_new0 (Bits, MAX (n, 1));
  g_autofree Bits *plain_on = g_new0 (Bits, MAX (n, 1)), *low_after = g_new0 (Bits, MAX (n, 1));
  json_object *reply, *model = NULL, *result_props, *skeleton = NULL, *copy = NULL;
  gboolean dependents_known;

  g_mutex_lock (&facts->lock);
  dependents_known = load_dependents (facts);
  g_mutex_unlock (&facts->lock);
  if (!dependents_known || !read_toggles (facts, props, toggled, value))
    return NULL;

  /* The plain expansion, and those with prerequisites switched on, each show part of
   * the features before the pass. */
  if (!stored_bits (facts, entry, "on", plain_on))
    return NULL;
  learn_before (facts, plain_on, NULL, known_on, known_off);
  for (guint v = PROBE_FACTS_PREREQS_ON; v <= PROBE_FACTS_ROOTS_ON; v++)
    {
      memset (asked, 0, n);
      if (!stored_bits (facts, entry, probe_facts_variant_members[v], reply_on))
        continue;
      for (guint i = 0; i < n; i++)
        if (facts->dependents_of->pdata[i] != NULL)
          asked[i] = 1;
      if (v == PROBE_FACTS_ROOTS_ON)
        for (guint i = 0; i < n; i++)
          for (guint j = 0; facts->dependents_of->pdata[i] != NULL && j < n; j++)
            if (((Bits *) facts->dependents_of->pdata[i])[j])
              asked[j] = 0;
      learn_before (facts, reply_on, asked, known_on, known_off);
      /* Asked on with nothing off to clear it, a feature still off is one this model
       * never has here. */
      for (guint i = 0; i < n; i++)
        if (asked[i] && !reply_on[i])
          never[i] = 1;
    }

  /* The user's values override; what is still unknown is tried both ways: the result
   * only grows with what was on before, so equal extremes mean one answer. Asked with
   * nothing toggled, the same must give QEMU's plain answer, or QEMU did something
   * these facts do not describe. */
  if (!extremes_agree (facts, known_on, known_off, NULL, NULL, never, low_after)
      || memcmp (low_after, plain_on, n) != 0
      || !extremes_agree (facts, known_on, known_off, toggled, value, never, low_after))
    return NULL;

  /* The reply keeps the model's name and QEMU's other members; of the properties, the
   * features alone are known. */
  if (!json_object_object_get_ex (entry, "reply", &skeleton)
      || json_object_deep_copy (skeleton, &copy, NULL) != 0)
    return NULL;
  if (!json_object_object_get_ex (copy, "model", &model))
    {
      json_object_put (copy);
      return NULL;
    }
  result_props = json_object_new_object ();
  for (guint i = 0; i < n; i++)
    json_object_object_add (result_props, g_ptr_array_index (facts->names, i),
                            json_object_new_boolean (low_after[i]));
  json_object_object_add (model, "props", result_props);
  reply = json_object_new_object ();
  json_object_object_add (reply, "return", copy);
  return reply;
}

/* TRUE when @props asks for max or host with migratable off and nothing else. */
static gboolean
migratable_off_only (json_object *props)
{
  json_object *migratable = NULL;

  return json_object_object_length (props) == 1
         && json_object_object_get_ex (props, "migratable", &migratable)
         && json_object_is_type (migratable, json_type_boolean)
         && !json_object_get_boolean (migratable);
}

/* Whether @stored is {"reply": {"model": {"props": {...}, ...}, ...}, "on": BITS, ...}, as
 * the replies are built on it (objects are added to). */
static gboolean
stored_well_formed (json_object *stored)
{
  json_object *reply = NULL, *model = NULL, *props = NULL, *on = NULL;

  return json_object_object_get_ex (stored, "reply", &reply)
         && json_object_object_get_ex (reply, "model", &model)
         && json_object_object_get_ex (model, "props", &props)
         && json_object_is_type (props, json_type_object)
         && json_object_object_get_ex (stored, "on", &on)
         && json_object_is_type (on, json_type_string);
}

/* An expansions entry: a stored reply, and with migratable off another (host and max). */
static gboolean
entry_well_formed (json_object *entry)
{
  json_object *migratable_off = NULL;

  return json_object_is_type (entry, json_type_object) && stored_well_formed (entry)
         && (!json_object_object_get_ex (entry, "migratable-off", &migratable_off)
             || stored_well_formed (migratable_off));
}

/* @model's entry of the expansions (borrowed), parsed the first time it is asked for, or
 * NULL when the session has none or it is not JSON (then kept in facts->malformed). */
static json_object *
expansion_entry (ProbeFacts *facts, const char *model)
{
  const QmpJsonMember *member;
  gpointer key = NULL, value = NULL;
  json_object *entry = NULL;
  const char *problem = NULL;

  if (facts->expansion_at == NULL
      || !g_hash_table_lookup_extended (facts->expansion_at, model, &key, &value))
    return NULL;
  member = value;
  g_mutex_lock (&facts->lock);
  if (!g_hash_table_lookup_extended (facts->expansion_read, model, NULL, (gpointer *) &entry))
    {
      const char *text = g_bytes_get_data (facts->text, NULL);

      entry = qmp_json_skim_parse (text, member->start, member->end, &problem);
      /* Strict JSON, as every QMP reply: a stored reply goes on as its text
       * (probe_facts_expand_text()), which a probe reads as strict JSON. */
      if (problem == NULL && !qmp_json_valid (text, member->start, member->end, &problem))
        g_clear_pointer (&entry, json_object_put);
      if (problem != NULL && facts->malformed == NULL)
        g_set_error (&facts->malformed, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID,
                     "%s.expansions.%s is not JSON (%s)", facts->where, model, problem);
      else if (problem == NULL && !entry_well_formed (entry))
        {
          g_clear_pointer (&entry, json_object_put);
          if (facts->malformed == NULL)
            g_set_error (&facts->malformed, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID,
                         "%s.expansions.%s is not a stored expansion", facts->where, model);
        }
      /* Keyed by the index's own copy of the name, which lives as long. */
      g_hash_table_insert (facts->expansion_read, key, entry);
    }
  g_mutex_unlock (&facts->lock);
  return entry;
}

GError *
probe_facts_malformed (ProbeFacts *facts)
{
  GError *error;

  g_mutex_lock (&facts->lock);
  error = facts->malformed != NULL ? g_error_copy (facts->malformed) : NULL;
  g_mutex_unlock (&facts->lock);
  return error;
}

/* What @arguments ask of the facts: a stored reply (*@stored: the entry's own, or its
 * "migratable-off" one, which *@migratable_off says), a reply computed for toggles
 * (*@props), or nothing the facts can say (FALSE). *@model_name is the model asked. */
static gboolean
expansion_asked (ProbeFacts *facts, json_object *arguments, const char **model_name,
                 json_object **entry, json_object **stored, gboolean *migratable_off,
                 json_object **props)
{
  json_object *type = NULL, *model = NULL, *name = NULL;

  *stored = NULL;
  *props = NULL;
  *migratable_off = FALSE;
  if (facts->expansion_at == NULL
      || !json_object_object_get_ex (arguments, "type", &type)
      || g_strcmp0 (json_object_get_string (type), "full") != 0
      || !json_object_object_get_ex (arguments, "model", &model)
      || !json_object_object_get_ex (model, "name", &name)
      || !json_object_is_type (name, json_type_string)
      || (*entry = expansion_entry (facts, json_object_get_string (name))) == NULL
      || json_object_object_length (arguments) != 2
      || json_object_object_length (model) > 2)
    return FALSE;
  *model_name = json_object_get_string (name);
  json_object_object_get_ex (model, "props", props);
  if (*props != NULL && !json_object_is_type (*props, json_type_object))
    return FALSE;
  if (*props == NULL || json_object_object_length (*props) == 0)
    *stored = *entry;
  else if (migratable_off_only (*props))
    {
      *migratable_off = TRUE;
      if (!json_object_object_get_ex (*entry, "migratable-off", stored))
        return FALSE;
    }
  if (*stored != NULL)
    *props = NULL;
  return TRUE;
}

json_object *
probe_facts_expand (ProbeFacts *facts, json_object *arguments)
{
  const char *model = NULL;
  json_object *entry = NULL, *stored = NULL, *props = NULL;
  gboolean migratable_off;

  if (!expansion_asked (facts, arguments, &model, &entry, &stored, &migratable_off, &props))
    return NULL;
  return stored != NULL ? stored_reply (facts, stored) : toggled_reply (facts, entry, props);
}

/* @name as a JSON string. Feature names need no escapes; a hand-made profile's might. */
static void
append_json_string (GString *out, const char *name)
{
  for (const char *c = name; *c != '\0'; c++)
    if ((guchar) *c < 0x20 || *c == '"' || *c == '\\')
      {
        json_object *string = json_object_new_string (name);

        g_string_append (out, json_object_to_json_string_ext (string, JSON_C_TO_STRING_PLAIN));
        json_object_put (string);
        return;
      }
  g_string_append_c (out, '"');
  g_string_append (out, name);
  g_string_append_c (out, '"');
}

/* The text bounds, in the profile, of @model's stored reply (its own, or with
 * @migratable_off the "migratable-off" one): the reply object, and its model.props. */
static gboolean
stored_text (ProbeFacts *facts, const char *model, gboolean migratable_off,
             QmpJsonMember *reply, QmpJsonMember *props)
{
  const QmpJsonMember *entry = g_hash_table_lookup (facts->expansion_at, model);
  const char *text = g_bytes_get_data (facts->text, NULL);
  QmpJsonMember stored, model_member;

  /* Names are found as written: an entry with an escape goes the way of objects. */
  if (entry == NULL || memchr (text + entry->start, '\\', entry->end - entry->start) != NULL)
    return FALSE;
  stored = *entry;
  /* Found parsed and well formed before (expansion_entry()): the skim follows it. */
  return (!migratable_off || qmp_json_skim_find_member (text, entry->start, entry->end,
                                                        "migratable-off", &stored))
         && qmp_json_skim_find_member (text, stored.start, stored.end, "reply", reply)
         && qmp_json_skim_find_member (text, reply->start, reply->end, "model", &model_member)
         && qmp_json_skim_find_member (text, model_member.start, model_member.end, "props", props)
         && text[props->start] == '{';
}

char *
probe_facts_expand_text (ProbeFacts *facts, json_object *arguments)
{
  const char *model = NULL;
  json_object *entry = NULL, *stored = NULL, *props = NULL, *on_hex = NULL;
  gboolean migratable_off;
  QmpJsonMember reply, props_member;
  const char *text = g_bytes_get_data (facts->text, NULL);
  g_autofree Bits *on = NULL;
  GString *out;
  gsize own_inner;
  gboolean first = TRUE;

  if (!expansion_asked (facts, arguments, &model, &entry, &stored, &migratable_off, &props)
      || stored == NULL || !stored_text (facts, model, migratable_off, &reply, &props_member))
    return NULL;
  on = g_new0 (Bits, MAX (facts->n, 1));
  if (!json_object_object_get_ex (stored, "on", &on_hex)
      || !probe_bits_from_hex (json_object_get_string (on_hex), on, facts->n))
    return NULL;
  if (facts->common != NULL)
    {
      g_mutex_lock (&facts->lock);
      if (facts->common_text == NULL)
        {
          /* Written once, under the lock: json-c writes into the object it prints. */
          const char *common = json_object_to_json_string_ext (facts->common,
                                                               JSON_C_TO_STRING_PLAIN
                                                               | JSON_C_TO_STRING_NOSLASHESCAPE);
          gsize length = strlen (common);

          facts->common_text = length >= 2 ? g_strndup (common + 1, length - 2) : g_strdup ("");
        }
      g_mutex_unlock (&facts->lock);
    }

  /* The stored reply as the profile has it, its props opened up: the shared properties
   * first, its own after them, the features last. Of names that repeat, the last counts
   * (json-c's reading, and the probe's), which gives each reply its own value over the
   * shared one and the features computed here over any. */
  out = g_string_sized_new (reply.end - reply.start + facts->n * 24 + 64);
  g_string_append (out, "{\"return\": ");
  g_string_append_len (out, text + reply.start, props_member.start + 1 - reply.start);
  if (facts->common_text != NULL && *facts->common_text != '\0')
    {
      g_string_append (out, facts->common_text);
      first = FALSE;
    }
  own_inner = qmp_json_skim_space (text, props_member.end - 1, props_member.start + 1);
  if (own_inner < props_member.end - 1)
    {
      if (!first)
        g_string_append_c (out, ',');
      g_string_append_len (out, text + own_inner, props_member.end - 1 - own_inner);
      first = FALSE;
    }
  for (guint i = 0; i < facts->n; i++)
    {
      if (!first)
        g_string_append_c (out, ',');
      append_json_string (out, g_ptr_array_index (facts->names, i));
      g_string_append (out, on[i] ? ":true" : ":false");
      first = FALSE;
    }
  g_string_append_len (out, text + props_member.end - 1, reply.end - (props_member.end - 1));
  g_string_append_c (out, '}');
  return g_string_free (out, FALSE);
}

GPtrArray *
probe_facts_models (ProbeFacts *facts)
{
  GPtrArray *models = g_ptr_array_new ();

  if (facts->models != NULL)
    g_ptr_array_extend (models, facts->models, NULL, NULL);
  return models;
}
