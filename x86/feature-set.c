/* x86/feature-set.c — sets of feature bits over the words of the feature table, and the
 * ways to fill them: names, CPUID dumps and QEMU's feature-words lists. */
#include "x86/feature-set.h"

#include <string.h>

G_DEFINE_QUARK (x86-feature-error-quark, x86_feature_error)

G_STATIC_ASSERT (sizeof (((X86FeatureSet *) NULL)->words) / sizeof (guint32) == X86_MAX_WORDS);

static gboolean
word_is_valid (guint word)
{
  return word < x86_feature_n_words () && word < X86_MAX_WORDS;
}

void
x86_feature_set_clear (X86FeatureSet *set)
{
  memset (set, 0, sizeof *set);
}

void
x86_feature_set_add_bit (X86FeatureSet *set, guint word, guint bit)
{
  g_return_if_fail (word_is_valid (word) && bit < 32);
  set->words[word] |= 1u << bit;
}

gboolean
x86_feature_set_has_bit (const X86FeatureSet *set, guint word, guint bit)
{
  g_return_val_if_fail (word_is_valid (word) && bit < 32, FALSE);
  return (set->words[word] >> bit) & 1;
}

void
x86_feature_set_add (X86FeatureSet *set, const X86Feature *feature)
{
  x86_feature_set_add_bit (set, feature->word, feature->bit);
}

void
x86_feature_set_remove (X86FeatureSet *set, const X86Feature *feature)
{
  g_return_if_fail (word_is_valid (feature->word) && feature->bit < 32);
  set->words[feature->word] &= ~(1u << feature->bit);
}

gboolean
x86_feature_set_has (const X86FeatureSet *set, const X86Feature *feature)
{
  return x86_feature_set_has_bit (set, feature->word, feature->bit);
}

gboolean
x86_feature_set_is_empty (const X86FeatureSet *set)
{
  for (guint i = 0; i < X86_MAX_WORDS; i++)
    if (set->words[i] != 0)
      return FALSE;
  return TRUE;
}

gboolean
x86_feature_set_equal (const X86FeatureSet *a, const X86FeatureSet *b)
{
  return memcmp (a->words, b->words, sizeof a->words) == 0;
}

guint
x86_feature_set_count (const X86FeatureSet *set)
{
  guint count = 0;

  for (guint i = 0; i < X86_MAX_WORDS; i++)
    count += __builtin_popcount (set->words[i]);
  return count;
}

void
x86_feature_set_union (X86FeatureSet *result, const X86FeatureSet *a, const X86FeatureSet *b)
{
  for (guint i = 0; i < X86_MAX_WORDS; i++)
    result->words[i] = a->words[i] | b->words[i];
}

void
x86_feature_set_intersect (X86FeatureSet *result, const X86FeatureSet *a, const X86FeatureSet *b)
{
  for (guint i = 0; i < X86_MAX_WORDS; i++)
    result->words[i] = a->words[i] & b->words[i];
}

void
x86_feature_set_subtract (X86FeatureSet *result, const X86FeatureSet *a, const X86FeatureSet *b)
{
  for (guint i = 0; i < X86_MAX_WORDS; i++)
    result->words[i] = a->words[i] & ~b->words[i];
}

void
x86_feature_set_named_only (X86FeatureSet *set)
{
  for (guint word = 0; word < X86_MAX_WORDS; word++)
    set->words[word] &= x86_feature_named_bits (word);
}

void
x86_feature_set_foreach (const X86FeatureSet *set, X86FeatureSetFunc func, gpointer user_data)
{
  guint n_words = MIN (x86_feature_n_words (), X86_MAX_WORDS);

  for (guint word = 0; word < n_words; word++)
    for (guint bit = 0; bit < 32; bit++)
      if ((set->words[word] >> bit) & 1)
        func (word, bit, x86_feature_at (word, bit), user_data);
}

typedef struct {
  GPtrArray *names;
  gboolean include_unnamed;
} NamesCollector;

static void
collect_name (guint word, guint bit, const X86Feature *feature, gpointer user_data)
{
  NamesCollector *collector = user_data;

  if (feature != NULL)
    g_ptr_array_add (collector->names, g_strdup (feature->name));
  else if (collector->include_unnamed)
    g_ptr_array_add (collector->names, x86_feature_bit_describe (word, bit));
}

GPtrArray *
x86_feature_set_to_names (const X86FeatureSet *set, gboolean include_unnamed)
{
  NamesCollector collector = { g_ptr_array_new_with_free_func (g_free), include_unnamed };

  x86_feature_set_foreach (set, collect_name, &collector);
  return collector.names;
}

static void
add_name_to_array (guint word, guint bit, const X86Feature *feature, gpointer user_data)
{
  json_object *array = user_data;

  if (feature != NULL)
    json_object_array_add (array, json_object_new_string (feature->name));
}

json_object *
x86_feature_set_to_names_json (const X86FeatureSet *set)
{
  json_object *array = json_object_new_array_ext ((int) x86_feature_set_count (set));

  x86_feature_set_foreach (set, add_name_to_array, array);
  return array;
}

static char *
suggestion_phrase (const char *name)
{
  g_autoptr (GPtrArray) close = x86_feature_suggest (name, 3);
  g_autoptr (GString) phrase = NULL;

  if (close->len == 0)
    return g_strdup ("");
  phrase = g_string_new ("; did you mean ");
  for (guint i = 0; i < close->len; i++)
    g_string_append_printf (phrase, "%s\"%s\"", i == 0 ? "" : i + 1 == close->len ? " or " : ", ",
                            (const char *) g_ptr_array_index (close, i));
  return g_string_free (g_steal_pointer (&phrase), FALSE);
}

gboolean
x86_feature_set_from_names (X86FeatureSet *set, const char *const *names, guint n_names,
                            GError **error)
{
  X86FeatureSet decoded;

  x86_feature_set_clear (&decoded);
  for (guint i = 0; i < n_names; i++)
    {
      const X86Feature *feature = x86_feature_lookup (names[i]);

      if (feature == NULL)
        {
          g_autofree char *hint = suggestion_phrase (names[i] != NULL ? names[i] : "");
          g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_UNKNOWN_NAME,
                       "unknown CPU feature \"%s\"%s", names[i] != NULL ? names[i] : "(null)", hint);
          return FALSE;
        }
      x86_feature_set_add (&decoded, feature);
    }
  *set = decoded;
  return TRUE;
}

void
x86_feature_set_from_cpuid (X86FeatureSet *set, const X86CpuidDump *dump, guint cpu_index)
{
  guint n_words;
  const X86FeatureWord *words = x86_feature_words (&n_words);

  x86_feature_set_clear (set);
  for (guint i = 0; i < n_words && i < X86_MAX_WORDS; i++)
    {
      guint32 subleaf;

      if (words[i].kind != X86_WORD_CPUID)
        continue;
      /* A leaf without subleaves is recorded as subleaf 0, as `cpuid -1r` prints it. */
      subleaf = words[i].subleaf == X86_NO_SUBLEAF ? 0 : words[i].subleaf;
      set->words[i] = x86_cpuid_dump_get (dump, cpu_index, words[i].leaf, subleaf, words[i].reg);
    }
}

/* QAPI's X86CPURegister32 values; the last four name no feature word. */
static const char *const qapi_registers[] = { "EAX", "EBX", "ECX", "EDX", "ESP", "EBP", "ESI", "EDI" };

typedef enum {
  MEMBER_ABSENT,
  MEMBER_FOUND,
  MEMBER_BAD,
} MemberStatus;

static MemberStatus
member_int (json_object *element, const char *member, gint64 *value, guint index, GError **error)
{
  json_object *node;

  if (!json_object_object_get_ex (element, member, &node) || node == NULL)
    return MEMBER_ABSENT;
  if (!json_object_is_type (node, json_type_int))
    {
      g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS,
                   "feature word %u has a non-integer \"%s\"", index, member);
      return MEMBER_BAD;
    }
  *value = json_object_get_int64 (node);
  return MEMBER_FOUND;
}

static gboolean
required_int (json_object *element, const char *member, gint64 *value, guint index, GError **error)
{
  switch (member_int (element, member, value, index, error))
    {
    case MEMBER_FOUND:
      return TRUE;
    case MEMBER_ABSENT:
      g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS,
                   "feature word %u lacks \"%s\"", index, member);
      return FALSE;
    case MEMBER_BAD:
    default:
      return FALSE;
    }
}

static gboolean
decode_word_info (json_object *element, guint index, int *word, guint32 *value, GError **error)
{
  json_object *reg_node;
  const char *reg_name;
  gint64 eax, ecx = 0, features;
  int reg = -1;

  if (!json_object_is_type (element, json_type_object))
    {
      g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS,
                   "feature word %u is not an object", index);
      return FALSE;
    }
  if (!required_int (element, "cpuid-input-eax", &eax, index, error)
      || !required_int (element, "features", &features, index, error))
    return FALSE;
  /* Without a subleaf libvirt matches any subleaf, which for the leaves QEMU splits by
   * subleaf (7, 0xD, ...) means subleaf 0; ecx keeps that 0 when the member is absent. */
  if (member_int (element, "cpuid-input-ecx", &ecx, index, error) == MEMBER_BAD)
    return FALSE;
  if (!json_object_object_get_ex (element, "cpuid-register", &reg_node)
      || !json_object_is_type (reg_node, json_type_string))
    {
      g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS,
                   "feature word %u lacks a \"cpuid-register\" string", index);
      return FALSE;
    }
  reg_name = json_object_get_string (reg_node);
  for (guint i = 0; i < G_N_ELEMENTS (qapi_registers); i++)
    if (strcmp (reg_name, qapi_registers[i]) == 0)
      reg = i;
  if (reg < 0)
    {
      g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS,
                   "feature word %u has an unknown register \"%s\"", index, reg_name);
      return FALSE;
    }
  /* QAPI 'int' carries the register as an unsigned 32-bit value; accept the signed
   * reading of the same bits too. */
  if (eax < 0 || eax > G_MAXUINT32 || ecx < 0 || ecx > G_MAXUINT32
      || features < G_MININT32 || features > G_MAXUINT32)
    {
      g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS,
                   "feature word %u has a value outside 32 bits", index);
      return FALSE;
    }
  *value = (guint32) features;
  *word = reg <= X86_REG_EDX ? x86_feature_word_find_cpuid (eax, ecx, reg) : -1;
  return TRUE;
}

gboolean
x86_feature_set_from_feature_words (X86FeatureSet *set, json_object *words,
                                    guint *n_unknown_words, GError **error)
{
  X86FeatureSet decoded;
  guint unknown = 0;
  size_t n;

  if (words == NULL || !json_object_is_type (words, json_type_array))
    {
      g_set_error (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS,
                   "feature words are not a JSON array");
      return FALSE;
    }
  x86_feature_set_clear (&decoded);
  n = json_object_array_length (words);
  for (size_t i = 0; i < n; i++)
    {
      int word;
      guint32 value;

      if (!decode_word_info (json_object_array_get_idx (words, i), i, &word, &value, error))
        return FALSE;
      if (word < 0 || word >= X86_MAX_WORDS)
        unknown++;
      else
        decoded.words[word] |= value;
    }
  *set = decoded;
  if (n_unknown_words != NULL)
    *n_unknown_words = unknown;
  return TRUE;
}
