/* qmp/replay-shapes.c — what each command's "return" looks like, for replaying
 * replies-only recordings whose order does not follow our command sequence. */
#include "qmp/replay.h"

typedef enum {
  SHAPE_EMPTY_OBJECT,       /* {} */
  SHAPE_OBJECT,             /* an object with the required members */
  SHAPE_OBJECT_LIST,        /* a non-empty array of objects, each with the required members */
  SHAPE_STRING_LIST,        /* an array of strings (may be empty) */
} ShapeKind;

typedef enum {
  CHECK_NONE,
  /* query-cpu-model-expansion: a static expansion names "base", a full one the model
   * that was asked for. */
  CHECK_EXPANSION_MODEL,
} ShapeCheck;

typedef struct {
  const char *command;
  const char *qom_property;       /* qom-get only: the property asked for */
  ShapeKind kind;
  const char *required[3];        /* unused slots are NULL */
  gboolean only_required;         /* objects carry no other member */
  ShapeCheck check;
  /* Lists: an element whose "name" is this must be present (TRUE) or absent (FALSE).
   * Early x86 CPU definitions are lists of bare names, like query-commands; only the
   * command list names qmp_capabilities. */
  const char *marker_name;
  gboolean marker_present;
  /* Other lists of names a replies-only file holds, which this one is not: property lists
   * (qom-list, device-list-properties) give each name a "type", QOM type lists always name
   * "container" (registered by every QEMU), and event lists (query-events) name only
   * UPPER_CASE events, as QAPI spells every event. */
  gboolean not_types_or_events;
} ReplyShape;

static const ReplyShape reply_shapes[] = {
  { .command = "qmp_capabilities", .kind = SHAPE_EMPTY_OBJECT },
  { .command = "quit", .kind = SHAPE_EMPTY_OBJECT },
  { .command = "x-exit-preconfig", .kind = SHAPE_EMPTY_OBJECT },
  { .command = "query-version", .kind = SHAPE_OBJECT, .required = { "qemu", "package" } },
  { .command = "query-commands", .kind = SHAPE_OBJECT_LIST, .required = { "name" },
    .only_required = TRUE, .marker_name = "qmp_capabilities", .marker_present = TRUE },
  { .command = "query-cpu-definitions", .kind = SHAPE_OBJECT_LIST, .required = { "name" },
    .marker_name = "qmp_capabilities", .marker_present = FALSE, .not_types_or_events = TRUE },
  { .command = "query-cpu-model-expansion", .kind = SHAPE_OBJECT, .required = { "model" },
    .check = CHECK_EXPANSION_MODEL },
  { .command = "query-machines", .kind = SHAPE_OBJECT_LIST, .required = { "name", "cpu-max" } },
  { .command = "qom-list", .kind = SHAPE_OBJECT_LIST, .required = { "name", "type" } },
  { .command = "qom-list-properties", .kind = SHAPE_OBJECT_LIST,
    .required = { "name", "type" } },
  { .command = "qom-get", .qom_property = "feature-words", .kind = SHAPE_OBJECT_LIST,
    .required = { "cpuid-register" } },
  { .command = "qom-get", .qom_property = "filtered-features", .kind = SHAPE_OBJECT_LIST,
    .required = { "cpuid-register" } },
  { .command = "qom-get", .qom_property = "unavailable-features", .kind = SHAPE_STRING_LIST },
  { .command = "query-cpus-fast", .kind = SHAPE_OBJECT_LIST,
    .required = { "qom-path", "cpu-index" } },
  { .command = "query-hotpluggable-cpus", .kind = SHAPE_OBJECT_LIST,
    .required = { "type", "vcpus-count" } },
  { .command = "query-kvm", .kind = SHAPE_OBJECT, .required = { "enabled", "present" } },
  { .command = "query-target", .kind = SHAPE_OBJECT, .required = { "arch" } },
  { .command = "query-status", .kind = SHAPE_OBJECT, .required = { "status", "running" } },
};

static const char *
string_member (json_object *object, const char *key)
{
  json_object *member = NULL;

  if (object == NULL || !json_object_is_type (object, json_type_object)
      || !json_object_object_get_ex (object, key, &member)
      || !json_object_is_type (member, json_type_string))
    return NULL;
  return json_object_get_string (member);
}

static gboolean
object_fits (const ReplyShape *shape, json_object *object)
{
  guint n_required = 0;

  if (!json_object_is_type (object, json_type_object))
    return FALSE;
  for (; shape->required[n_required] != NULL; n_required++)
    if (!json_object_object_get_ex (object, shape->required[n_required], NULL))
      return FALSE;
  return !shape->only_required || (guint) json_object_object_length (object) == n_required;
}

static gboolean
expansion_fits (json_object *arguments, json_object *reply_return)
{
  json_object *requested_model = NULL;
  json_object *expanded_model = NULL;
  const char *type = string_member (arguments, "type");
  const char *expanded_name;

  if (!json_object_object_get_ex (reply_return, "model", &expanded_model))
    return FALSE;
  expanded_name = string_member (expanded_model, "name");
  if (expanded_name == NULL)
    return FALSE;
  if (g_strcmp0 (type, "static") == 0)
    return g_str_equal (expanded_name, "base");
  if (arguments != NULL)
    json_object_object_get_ex (arguments, "model", &requested_model);
  return g_strcmp0 (expanded_name, string_member (requested_model, "name")) == 0;
}

static gboolean
any_has_member (json_object *list, const char *key)
{
  size_t length = json_object_array_length (list);

  for (size_t i = 0; i < length; i++)
    if (json_object_object_get_ex (json_object_array_get_idx (list, i), key, NULL))
      return TRUE;
  return FALSE;
}

static gboolean
all_names_upper_case (json_object *list)
{
  size_t length = json_object_array_length (list);

  for (size_t i = 0; i < length; i++)
    {
      const char *name = string_member (json_object_array_get_idx (list, i), "name");
      for (; name != NULL && *name != '\0'; name++)
        if (g_ascii_islower (*name))
          return FALSE;
    }
  return length > 0;
}

static gboolean
lists_name (json_object *list, const char *name)
{
  size_t length = json_object_array_length (list);

  for (size_t i = 0; i < length; i++)
    if (g_strcmp0 (string_member (json_object_array_get_idx (list, i), "name"), name) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
shape_fits (const ReplyShape *shape, json_object *arguments, json_object *reply_return)
{
  gboolean fits = FALSE;
  size_t length;

  switch (shape->kind)
    {
    case SHAPE_EMPTY_OBJECT:
      fits = json_object_is_type (reply_return, json_type_object)
             && json_object_object_length (reply_return) == 0;
      break;
    case SHAPE_OBJECT:
      fits = object_fits (shape, reply_return);
      break;
    case SHAPE_OBJECT_LIST:
      if (!json_object_is_type (reply_return, json_type_array))
        break;
      length = json_object_array_length (reply_return);
      fits = length > 0;
      for (size_t i = 0; fits && i < length; i++)
        fits = object_fits (shape, json_object_array_get_idx (reply_return, i));
      break;
    case SHAPE_STRING_LIST:
      if (!json_object_is_type (reply_return, json_type_array))
        break;
      length = json_object_array_length (reply_return);
      fits = TRUE;
      for (size_t i = 0; fits && i < length; i++)
        fits = json_object_is_type (json_object_array_get_idx (reply_return, i),
                                    json_type_string);
      break;
    }
  if (fits && shape->marker_name != NULL)
    fits = lists_name (reply_return, shape->marker_name) == shape->marker_present;
  if (fits && shape->not_types_or_events)
    fits = !any_has_member (reply_return, "type") && !lists_name (reply_return, "container")
           && !all_names_upper_case (reply_return);
  if (fits && shape->check == CHECK_EXPANSION_MODEL)
    fits = expansion_fits (arguments, reply_return);
  return fits;
}

gboolean
qmp_replay_shape_fits (const char *command, json_object *arguments, json_object *reply_return)
{
  const char *property = string_member (arguments, "property");

  if (command == NULL || reply_return == NULL)
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (reply_shapes); i++)
    {
      const ReplyShape *shape = &reply_shapes[i];

      if (!g_str_equal (shape->command, command))
        continue;
      if (shape->qom_property != NULL && g_strcmp0 (shape->qom_property, property) != 0)
        continue;
      return shape_fits (shape, arguments, reply_return);
    }
  return FALSE;
}
