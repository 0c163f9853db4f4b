/* tests/fuzz-reply-text.c — libFuzzer target for the readers of reply text (probe/qemu-info.h
 * over qmp/json-skim.h), against json-c's reading of the same text.
 *
 * The input is framed as QMP is (qmp/json-stream.h); each value, each "return" of one, and
 * the input itself where it is one strict JSON value are read both ways: an expansion's
 * features, known properties and vendor; a model list's names and aliases; the machine type
 * a name resolves to. Any difference aborts. */
#include "probe/qemu-info.h"
#include "qmp/json-skim.h"
#include "qmp/json-stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *
string_member (json_object *object, const char *name)
{
  json_object *value = NULL;

  if (!json_object_is_type (object, json_type_object)
      || !json_object_object_get_ex (object, name, &value)
      || !json_object_is_type (value, json_type_string))
    return NULL;
  return json_object_get_string (value);
}

static void
check_expansion (const char *text, json_object *value)
{
  X86FeatureSet by_objects, known_objects, by_text, known_text;
  g_autofree char *vendor = NULL;
  json_object *model = NULL, *props = NULL;
  gboolean objects_ok = probe_features_from_expansion (value, &by_objects, &known_objects, NULL);
  gboolean text_ok = probe_features_from_expansion_text (text, &by_text, &known_text, &vendor,
                                                         NULL);

  if (objects_ok != text_ok)
    abort ();
  if (!objects_ok)
    return;
  if (!x86_feature_set_equal (&by_objects, &by_text)
      || !x86_feature_set_equal (&known_objects, &known_text))
    abort ();
  json_object_object_get_ex (value, "model", &model);
  json_object_object_get_ex (model, "props", &props);
  if (g_strcmp0 (vendor, string_member (props, "vendor")) != 0)
    abort ();
}

/* The model list as json-c reads it: FALSE where the text reader must refuse it. */
static gboolean
reference_models (json_object *value, GPtrArray *names, GPtrArray *aliases)
{
  if (!json_object_is_type (value, json_type_array))
    return FALSE;
  for (size_t i = 0; i < json_object_array_length (value); i++)
    {
      json_object *entry = json_object_array_get_idx (value, i);

      if (string_member (entry, "name") == NULL)
        return FALSE;
      g_ptr_array_add (names, (gpointer) string_member (entry, "name"));
      g_ptr_array_add (aliases, (gpointer) string_member (entry, "alias-of"));
    }
  return TRUE;
}

static void
check_models (const char *text, json_object *value)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GPtrArray) aliases = g_ptr_array_new ();
  gboolean expected = reference_models (value, names, aliases);
  g_autoptr (GPtrArray) models = probe_cpu_models_parse (text, NULL);

  if (expected != (models != NULL))
    abort ();
  for (guint i = 0; models != NULL && i < models->len; i++)
    {
      const ProbeCpuModel *model = g_ptr_array_index (models, i);

      if (strcmp (model->name, names->pdata[i]) != 0
          || g_strcmp0 (model->alias_of, aliases->pdata[i]) != 0)
        abort ();
    }
}

/* The machine type @requested resolves to, as json-c reads the reply. */
static char *
reference_machine (json_object *value, const char *requested)
{
  for (size_t i = 0; json_object_is_type (value, json_type_array)
                     && i < json_object_array_length (value); i++)
    {
      json_object *entry = json_object_array_get_idx (value, i);
      json_object *is_default = NULL;
      const char *name = string_member (entry, "name");

      if (name == NULL)
        continue;
      if (requested == NULL ? json_object_object_get_ex (entry, "is-default", &is_default)
                              && json_object_is_type (is_default, json_type_boolean)
                              && json_object_get_boolean (is_default)
                            : g_strcmp0 (string_member (entry, "alias"), requested) == 0
                              || strcmp (name, requested) == 0)
        return g_strdup (name);
    }
  return g_strdup (requested);
}

static void
check_machines (const char *text, json_object *value)
{
  const char *asked[] = { NULL, "pc", "q35", NULL };

  if (json_object_is_type (value, json_type_array) && json_object_array_length (value) > 0)
    asked[3] = string_member (json_object_array_get_idx (value, 0), "alias");
  for (guint i = 0; i < G_N_ELEMENTS (asked); i++)
    {
      g_autofree char *by_text = probe_machine_resolve (text, asked[i]);
      g_autofree char *by_objects = reference_machine (value, asked[i]);

      if (g_strcmp0 (by_text, by_objects) != 0)
        abort ();
    }
}

/* @text: one strict JSON value, which json-c reads as @value. */
static void
check_text (const char *text, json_object *value)
{
  json_object *ret = NULL;

  check_expansion (text, value);
  check_models (text, value);
  check_machines (text, value);
  if (json_object_is_type (value, json_type_object)
      && json_object_object_get_ex (value, "return", &ret))
    {
      g_autofree char *ret_text = g_strdup (json_object_to_json_string_ext (ret,
                                                                           JSON_C_TO_STRING_PLAIN));

      check_text (ret_text, ret);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *input = g_strndup ((const char *) data, size);
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  const char *problem = NULL;
  json_object *value;

  /* The input as it is, escapes and white space included, where it is one value. */
  if (strlen (input) == size && qmp_json_valid (input, 0, size, &problem)
      && (value = json_tokener_parse (input)) != NULL)
    {
      check_text (input, value);
      json_object_put (value);
    }
  if (!qmp_json_stream_feed (stream, (const char *) data, size, NULL))
    return 0;
  while ((value = qmp_json_stream_pop (stream)) != NULL)
    {
      g_autofree char *text = g_strdup (json_object_to_json_string_ext (value,
                                                                        JSON_C_TO_STRING_PLAIN));

      check_text (text, value);
      for (size_t i = 0; json_object_is_type (value, json_type_array)
                         && i < json_object_array_length (value); i++)
        {
          json_object *element = json_object_array_get_idx (value, i);
          g_autofree char *element_text = g_strdup (json_object_to_json_string_ext (
                                                      element, JSON_C_TO_STRING_PLAIN));

          check_text (element_text, element);
        }
      json_object_put (value);
    }
  return 0;
}
