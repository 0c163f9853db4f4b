/* probe/cpu-def-xml.c — libvirt's <cpu> element, read with GMarkup and written back. */
#include "probe/cpu-def.h"

#include <stdio.h>
#include <string.h>

typedef struct {
  const char *source;            /* names the input in errors */
  const char *text;              /* the whole document, for positions */
  gsize length;
  GMarkupParseContext *context;
  GPtrArray *open_elements;      /* names, outermost first */
  guint cpu_depth;               /* depth of the chosen <cpu> while open, else 0 */
  gboolean cpu_done;
  CpuDef *def;
  GHashTable *position_of;       /* X86Feature → "LINE:COL" of the <feature> that named it */
  GString *element_text;         /* text of the <model> or <vendor> being read */
  gboolean model_seen;
  gboolean vendor_seen;
  /* The <domain> being read and what it says about the guest around its <cpu>: kept
   * when that domain turns out to hold the chosen <cpu>. */
  guint domain_depth;            /* depth of the open <domain>, else 0 */
  gboolean domain_done;          /* the domain of the chosen <cpu> is closed */
  char *domain_type;             /* its type attribute, as written */
  char *domain_position;         /* "LINE:COL" of its start tag */
  char *domain_accel;
  char *domain_machine;
  GString *emulator_text;        /* of <devices><emulator>, NULL outside it */
  char *domain_emulator;
} XmlReader;

/* GMarkup reports where it is after the start tag; the tag begins at the last '<' before
 * that point, since markup text holds no raw '<'. Returns "LINE:COL" of that '<'. */
static char *
start_tag_position (XmlReader *reader)
{
  int line, column;
  gsize offset = 0, line_start = 0;

  g_markup_parse_context_get_position (reader->context, &line, &column);
  for (int current = 1; current < line && offset < reader->length; offset++)
    if (reader->text[offset] == '\n')
      {
        current++;
        line_start = offset + 1;
      }
  /* The point may be the end of the input, which need not be NUL-terminated: never read
   * text[length]. */
  offset = MIN (line_start + (gsize) (column - 1), reader->length);
  while (offset > 0 && (offset >= reader->length || reader->text[offset] != '<'))
    offset--;

  line = 1;
  line_start = 0;
  for (gsize i = 0; i < offset; i++)
    if (reader->text[i] == '\n')
      {
        line++;
        line_start = i + 1;
      }
  return g_strdup_printf ("%d:%d", line, (int) (offset - line_start) + 1);
}

static void G_GNUC_PRINTF (4, 5)
set_position_error (XmlReader *reader, GError **error, CpuDefError code, const char *format, ...)
{
  g_autofree char *position = start_tag_position (reader);
  g_autofree char *problem = NULL;
  va_list args;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CPU_DEF_ERROR, code, "%s:%s: %s",
               reader->source, position, problem);
}

static const char *
attribute (const char **names, const char **values, const char *wanted)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (names[i], wanted) == 0)
      return values[i];
  return NULL;
}

static gboolean
read_cpu_attributes (XmlReader *reader, const char **names, const char **values, GError **error)
{
  const char *mode = attribute (names, values, "mode");
  const char *match = attribute (names, values, "match");
  const char *check = attribute (names, values, "check");
  const char *migratable = attribute (names, values, "migratable");
  CpuMode parsed_mode = CPU_MODE_CUSTOM;

  if (mode != NULL && !cpu_mode_from_name (mode, &parsed_mode))
    {
      set_position_error (reader, error, CPU_DEF_ERROR_INVALID, "unknown CPU mode '%s'", mode);
      return FALSE;
    }
  reader->def = cpu_def_new (parsed_mode, NULL);
  if (match != NULL && !cpu_match_from_name (match, &reader->def->match))
    {
      set_position_error (reader, error, CPU_DEF_ERROR_INVALID, "unknown CPU match '%s'", match);
      return FALSE;
    }
  if (check != NULL && !cpu_check_from_name (check, &reader->def->check))
    {
      set_position_error (reader, error, CPU_DEF_ERROR_INVALID, "unknown CPU check '%s'", check);
      return FALSE;
    }
  if (migratable != NULL)
    {
      if (strcmp (migratable, "on") != 0 && strcmp (migratable, "off") != 0)
        {
          set_position_error (reader, error, CPU_DEF_ERROR_INVALID,
                              "bad migratable value '%s' (expected on or off)",
                              migratable);
          return FALSE;
        }
      cpu_def_add_property (reader->def, "migratable", migratable);
    }
  return TRUE;
}

static gboolean
read_model (XmlReader *reader, const char **names, const char **values, GError **error)
{
  const char *fallback = attribute (names, values, "fallback");
  const char *vendor_id = attribute (names, values, "vendor_id");

  if (reader->model_seen)
    {
      set_position_error (reader, error, CPU_DEF_ERROR_INVALID, "second <model> element");
      return FALSE;
    }
  reader->model_seen = TRUE;
  if (fallback != NULL && !cpu_fallback_from_name (fallback, &reader->def->fallback))
    {
      set_position_error (reader, error, CPU_DEF_ERROR_INVALID,
                          "unknown model fallback '%s'", fallback);
      return FALSE;
    }
  if (vendor_id != NULL)
    {
      /* CPUID leaf 0 returns the vendor in exactly three 4-byte registers. */
      if (strlen (vendor_id) != 12)
        {
          set_position_error (reader, error, CPU_DEF_ERROR_INVALID,
                              "vendor_id '%s' is not 12 characters long", vendor_id);
          return FALSE;
        }
      reader->def->vendor_id = g_strdup (vendor_id);
    }
  g_string_truncate (reader->element_text, 0);
  return TRUE;
}

static gboolean
read_feature (XmlReader *reader, const char **names, const char **values, GError **error)
{
  const char *name = attribute (names, values, "name");
  const char *policy_name = attribute (names, values, "policy");
  CpuPolicy policy = CPU_POLICY_REQUIRE, earlier;
  g_autoptr (GError) lookup_error = NULL;

  if (name == NULL)
    {
      set_position_error (reader, error, CPU_DEF_ERROR_INVALID, "feature without a name");
      return FALSE;
    }
  if (policy_name != NULL && !cpu_policy_from_name (policy_name, &policy))
    {
      set_position_error (reader, error, CPU_DEF_ERROR_INVALID,
                          "unknown feature policy '%s'", policy_name);
      return FALSE;
    }
  const X86Feature *feature = cpu_def_lookup_feature (name, &lookup_error);
  if (feature == NULL)
    {
      set_position_error (reader, error, CPU_DEF_ERROR_UNKNOWN_FEATURE,
                          "%s", lookup_error->message);
      return FALSE;
    }
  if (cpu_def_get_policy (reader->def, feature, &earlier))
    {
      if (earlier == policy)
        return TRUE;
      set_position_error (reader, error, CPU_DEF_ERROR_CONFLICT,
                          "conflicting policies for feature '%s': %s here, %s at %s",
                          x86_feature_libvirt_name (feature), cpu_policy_name (policy),
                          cpu_policy_name (earlier),
                          (const char *) g_hash_table_lookup (reader->position_of, feature));
      return FALSE;
    }
  cpu_def_set_policy (reader->def, feature, policy);
  g_hash_table_insert (reader->position_of, (gpointer) feature, start_tag_position (reader));
  return TRUE;
}

/* The accelerator a guest domain's type names: libvirt's type='qemu' is QEMU's software
 * emulator, TCG. The other types (xen, lxc, hvf, ...) are no guest a QEMU probe on this
 * host can stand for. Checked only for the <domain> that holds the chosen <cpu>, since
 * capabilities documents have <domain> elements of their own. */
static gboolean
domain_accel_from_type (XmlReader *reader, GError **error)
{
  const char *type = reader->domain_type;

  /* libvirt refuses a domain without a type; a <cpu> wrapped in a bare <domain> is read
   * as the <cpu> alone. */
  if (type == NULL)
    return TRUE;
  if (strcmp (type, "kvm") != 0 && strcmp (type, "qemu") != 0)
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_INVALID,
                   "%s:%s: domain type '%s' is not one QEMU runs (expected kvm or qemu)",
                   reader->source, reader->domain_position, type);
      return FALSE;
    }
  reader->domain_accel = g_strdup (strcmp (type, "qemu") == 0 ? "tcg" : "kvm");
  return TRUE;
}

/* The parts of a <domain> (at @domain_depth) outside its <cpu> that choose the guest:
 * <os><type machine=…> and <devices><emulator>. */
static void
read_domain_child (XmlReader *reader, const char *element, const char *parent, guint depth,
                   const char **names, const char **values)
{
  if (depth != reader->domain_depth + 1)
    return;
  if (strcmp (parent, "os") == 0 && strcmp (element, "type") == 0)
    {
      const char *machine = attribute (names, values, "machine");

      g_free (reader->domain_machine);
      reader->domain_machine = machine != NULL && *machine != '\0' ? g_strdup (machine) : NULL;
    }
  else if (strcmp (parent, "devices") == 0 && strcmp (element, "emulator") == 0)
    {
      if (reader->emulator_text == NULL)
        reader->emulator_text = g_string_new (NULL);
      g_string_truncate (reader->emulator_text, 0);
    }
}

static void
on_start_element (GMarkupParseContext *context, const char *element, const char **names,
                  const char **values, gpointer user_data, GError **error)
{
  XmlReader *reader = user_data;
  guint depth = reader->open_elements->len;
  const char *parent = depth > 0 ? g_ptr_array_index (reader->open_elements, depth - 1) : NULL;

  g_ptr_array_add (reader->open_elements, g_strdup (element));

  if (!reader->domain_done)
    {
      if (strcmp (element, "domain") == 0)
        {
          /* A nested <domain> (a snapshot's) starts afresh; its own <cpu> decides. */
          g_free (reader->domain_type);
          g_free (reader->domain_position);
          g_clear_pointer (&reader->domain_machine, g_free);
          g_clear_pointer (&reader->domain_emulator, g_free);
          reader->domain_type = g_strdup (attribute (names, values, "type"));
          reader->domain_position = start_tag_position (reader);
          reader->domain_depth = depth + 1;
        }
      else if (reader->domain_depth != 0 && depth == reader->domain_depth + 1)
        read_domain_child (reader, element, parent, depth, names, values);
    }

  /* A guest's <cpu> is the document or belongs to a <domain>; a <cpu> anywhere else
   * (capabilities, domain capabilities, migration cookies) describes a host. */
  if (!reader->cpu_done && reader->cpu_depth == 0)
    {
      if (strcmp (element, "cpu") == 0 && (parent == NULL || strcmp (parent, "domain") == 0))
        {
          reader->cpu_depth = depth + 1;
          read_cpu_attributes (reader, names, values, error);
        }
      return;
    }
  if (reader->cpu_depth == 0 || depth != reader->cpu_depth)
    return;

  if (strcmp (element, "model") == 0)
    read_model (reader, names, values, error);
  else if (strcmp (element, "vendor") == 0)
    {
      if (reader->vendor_seen)
        set_position_error (reader, error, CPU_DEF_ERROR_INVALID, "second <vendor> element");
      reader->vendor_seen = TRUE;
      g_string_truncate (reader->element_text, 0);
    }
  else if (strcmp (element, "feature") == 0)
    read_feature (reader, names, values, error);
}

static void
on_end_element (GMarkupParseContext *context, const char *element, gpointer user_data,
                GError **error)
{
  XmlReader *reader = user_data;
  guint depth = reader->open_elements->len - 1;

  g_ptr_array_remove_index (reader->open_elements, depth);
  if (reader->emulator_text != NULL && strcmp (element, "emulator") == 0
      && depth == reader->domain_depth + 1)
    {
      g_autofree char *emulator = g_strstrip (g_string_free (reader->emulator_text, FALSE));

      reader->emulator_text = NULL;
      g_free (reader->domain_emulator);
      reader->domain_emulator = *emulator != '\0' ? g_steal_pointer (&emulator) : NULL;
    }
  if (!reader->domain_done && reader->domain_depth != 0 && depth + 1 == reader->domain_depth)
    {
      /* The domain ends: it is the guest's when it held the chosen <cpu>. */
      reader->domain_depth = 0;
      reader->domain_done = reader->cpu_done;
      if (reader->domain_done && !domain_accel_from_type (reader, error))
        return;
    }
  if (reader->cpu_depth == 0)
    return;
  if (depth + 1 == reader->cpu_depth)
    {
      reader->cpu_depth = 0;
      reader->cpu_done = TRUE;
      return;
    }
  if (depth != reader->cpu_depth)
    return;

  g_autofree char *text = g_strstrip (g_strdup (reader->element_text->str));
  if (strcmp (element, "model") == 0 && *text != '\0')
    reader->def->model = g_steal_pointer (&text);
  else if (strcmp (element, "vendor") == 0 && *text != '\0')
    reader->def->vendor = g_steal_pointer (&text);
}

static void
on_text (GMarkupParseContext *context, const char *text, gsize length, gpointer user_data,
         GError **error)
{
  XmlReader *reader = user_data;
  guint depth = reader->open_elements->len;

  if (reader->cpu_depth != 0 && depth == reader->cpu_depth + 1)
    g_string_append_len (reader->element_text, text, (gssize) length);
  else if (reader->emulator_text != NULL)
    g_string_append_len (reader->emulator_text, text, (gssize) length);
}

/* GMarkup's own messages start with "Error on line L char C: "; ours put the place first. */
static void
set_markup_error (const char *source, const GError *markup_error, GError **error)
{
  int line, column, consumed = 0;

  if (sscanf (markup_error->message, "Error on line %d char %d: %n", &line, &column, &consumed) == 2
      && consumed > 0)
    g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX, "%s:%d:%d: %s",
                 source, line, column, markup_error->message + consumed);
  else
    g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_SYNTAX, "%s: %s", source,
                 markup_error->message);
}

CpuDef *
cpu_def_from_xml (const char *xml, gssize length, const char *source, GError **error)
{
  static const GMarkupParser parser = { on_start_element, on_end_element, on_text, NULL, NULL };
  XmlReader reader = { 0 };
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (GPtrArray) open_elements = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) position_of = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_autoptr (GString) element_text = g_string_new (NULL);

  reader.source = source != NULL ? source : "<cpu>";
  reader.text = xml;
  reader.length = length < 0 ? strlen (xml) : (gsize) length;
  reader.open_elements = open_elements;
  reader.position_of = position_of;
  reader.element_text = element_text;

  g_autoptr (GMarkupParseContext) context
    = g_markup_parse_context_new (&parser, G_MARKUP_TREAT_CDATA_AS_TEXT, &reader, NULL);
  reader.context = context;
  gboolean parsed
    = g_markup_parse_context_parse (context, xml, (gssize) reader.length, &parse_error)
      && g_markup_parse_context_end_parse (context, &parse_error);
  g_autoptr (CpuDef) def = g_steal_pointer (&reader.def);
  g_autofree char *domain_accel = g_steal_pointer (&reader.domain_accel);
  g_autofree char *domain_machine = g_steal_pointer (&reader.domain_machine);
  g_autofree char *domain_emulator = g_steal_pointer (&reader.domain_emulator);

  /* The type and its position only served the parse's own checks. */
  g_free (reader.domain_type);
  g_free (reader.domain_position);
  if (reader.emulator_text != NULL)
    g_string_free (reader.emulator_text, TRUE);

  if (!parsed)
    {
      if (parse_error->domain == CPU_DEF_ERROR)
        g_propagate_error (error, g_steal_pointer (&parse_error));
      else
        set_markup_error (reader.source, parse_error, error);
      return NULL;
    }
  if (def == NULL)
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_NO_CPU,
                   "%s: no <cpu> element at the top or in a <domain>", reader.source);
      return NULL;
    }
  /* The domain's own words, when the <cpu> came from one. */
  if (reader.domain_done)
    {
      def->domain_accel = g_steal_pointer (&domain_accel);
      def->domain_machine = g_steal_pointer (&domain_machine);
      def->domain_emulator = g_steal_pointer (&domain_emulator);
    }
  /* libvirt ignores a model name in these modes: the host decides. */
  if (def->mode == CPU_MODE_HOST_PASSTHROUGH || def->mode == CPU_MODE_MAXIMUM)
    g_clear_pointer (&def->model, g_free);
  return g_steal_pointer (&def);
}

CpuDef *
cpu_def_from_xml_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length;
  g_autoptr (GError) read_error = NULL;

  if (!g_file_get_contents (path, &contents, &length, &read_error))
    {
      g_set_error (error, CPU_DEF_ERROR, CPU_DEF_ERROR_IO, "%s", read_error->message);
      return NULL;
    }
  return cpu_def_from_xml (contents, (gssize) length, path, error);
}

/* The text of a boolean property in libvirt's on/off words, else as given. */
static const char *
on_off (const char *value)
{
  if (value == NULL || g_strv_contains ((const char *const[]) { "on", "true", "yes", NULL }, value))
    return "on";
  if (g_strv_contains ((const char *const[]) { "off", "false", "no", NULL }, value))
    return "off";
  return value;
}

char *
cpu_def_to_xml (const CpuDef *def)
{
  g_autoptr (GString) xml = g_string_new ("<cpu");
  gboolean migratable_set;
  const char *migratable = cpu_def_get_property (def, "migratable", &migratable_set);
  gboolean has_model_element = def->model != NULL || def->fallback != CPU_FALLBACK_ALLOW
                               || def->vendor_id != NULL;

  g_string_append_printf (xml, " mode='%s'", cpu_mode_name (def->mode));
  /* libvirt writes match for custom CPUs only; keep any other non-default value too. */
  if (def->mode == CPU_MODE_CUSTOM || def->match != CPU_MATCH_EXACT)
    g_string_append_printf (xml, " match='%s'", cpu_match_name (def->match));
  if (def->check != CPU_CHECK_UNSET)
    g_string_append_printf (xml, " check='%s'", cpu_check_name (def->check));
  if (migratable_set)
    {
      g_autofree char *escaped = g_markup_escape_text (on_off (migratable), -1);
      g_string_append_printf (xml, " migratable='%s'", escaped);
    }

  if (!has_model_element && def->vendor == NULL && def->features->len == 0)
    {
      g_string_append (xml, "/>\n");
      return g_string_free (g_steal_pointer (&xml), FALSE);
    }
  g_string_append (xml, ">\n");

  if (has_model_element)
    {
      g_autofree char *attributes
        = def->vendor_id != NULL
          ? g_markup_printf_escaped (" fallback='%s' vendor_id='%s'",
                                     cpu_fallback_name (def->fallback), def->vendor_id)
          : g_markup_printf_escaped (" fallback='%s'", cpu_fallback_name (def->fallback));
      if (def->model != NULL)
        {
          g_autofree char *model = g_markup_escape_text (def->model, -1);
          g_string_append_printf (xml, "  <model%s>%s</model>\n", attributes, model);
        }
      else
        g_string_append_printf (xml, "  <model%s/>\n", attributes);
    }
  if (def->vendor != NULL)
    {
      g_autofree char *vendor = g_markup_escape_text (def->vendor, -1);
      g_string_append_printf (xml, "  <vendor>%s</vendor>\n", vendor);
    }
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (def->features, CpuFeature, i);
      g_autofree char *line
        = g_markup_printf_escaped ("  <feature policy='%s' name='%s'/>\n",
                                   cpu_policy_name (entry->policy),
                                   x86_feature_libvirt_name (entry->feature));
      g_string_append (xml, line);
    }
  g_string_append (xml, "</cpu>\n");
  return g_string_free (g_steal_pointer (&xml), FALSE);
}
