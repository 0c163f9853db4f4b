/* probe/libvirt-cpu-map.c — reads libvirt's x86 CPU map (probe/libvirt-cpu-map.h) with GMarkup.
 *
 * The layout, as libvirt's own loader reads it: index.xml holds <arch name='x86'> with
 * <include filename='...'/> children (and, in the older single-file cpu_map.xml, the
 * definitions themselves); each definition is a <vendor name string/>, a <feature name>
 * with <cpuid eax_in ecx_in eax ebx ecx edx/> or <msr index edx eax/> and <alias name/>
 * children, or a <model name> with an optional parent <model name/>, a <vendor name/> and
 * <feature name [removed='yes']/> children. Definitions come in include order, so a model
 * only names features and parents read before it, as libvirt requires. */
#include "probe/libvirt-cpu-map.h"

#include <errno.h>
#include <string.h>

G_DEFINE_QUARK (libvirt-cpu-map-error-quark, libvirt_cpu_map_error)

struct LibvirtCpuMap {
  char *path;
  GPtrArray *features;          /* of LibvirtCpuFeature *, map order, owned */
  GHashTable *feature_by_name;  /* name and aliases → LibvirtCpuFeature * */
  GHashTable *feature_by_table; /* X86Feature * → LibvirtCpuFeature * */
  X86FeatureSet known;
  GPtrArray *models;            /* of LibvirtCpuModel *, map order, owned */
  GHashTable *model_by_name;
  GHashTable *vendor_string;    /* "Intel" → "GenuineIntel" */
};

static void
feature_free (gpointer data)
{
  LibvirtCpuFeature *feature = data;

  g_free (feature->name);
  g_free (feature);
}

static void
model_free (gpointer data)
{
  LibvirtCpuModel *model = data;

  g_free (model->name);
  g_free (model->vendor);
  g_array_unref (model->signatures);
  g_ptr_array_unref (model->feature_names);
  g_free (model);
}

void
libvirt_cpu_map_free (LibvirtCpuMap *map)
{
  if (map == NULL)
    return;
  g_free (map->path);
  g_hash_table_unref (map->feature_by_name);
  g_hash_table_unref (map->feature_by_table);
  g_ptr_array_unref (map->features);
  g_hash_table_unref (map->model_by_name);
  g_ptr_array_unref (map->models);
  g_hash_table_unref (map->vendor_string);
  g_free (map);
}

/* ---- Reading one file ---- */

typedef struct {
  LibvirtCpuMap *map;
  const char *file;              /* for errors */
  GMarkupParseContext *context;
  GPtrArray *open_elements;      /* names, outermost first */
  gboolean in_other_arch;        /* inside an <arch> that is not x86: skipped */
  GPtrArray *includes;           /* file names <include>d from the x86 arch, in order */
  LibvirtCpuFeature *feature;    /* the <feature> definition being read */
  gboolean feature_unmapped;     /* it has a bit of a word our table lacks: libvirt's newest
                                  * features may be newer than the table */
  LibvirtCpuModel *model;        /* the <model> definition being read */
  gboolean model_signed;         /* it has a <signature> of its own, which replaces its
                                  * parent's */
} MapReader;

static void G_GNUC_PRINTF (3, 4)
set_reader_error (MapReader *reader, GError **error, const char *format, ...)
{
  va_list args;
  int line, column;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_markup_parse_context_get_position (reader->context, &line, &column);
  g_set_error (error, LIBVIRT_CPU_MAP_ERROR, LIBVIRT_CPU_MAP_ERROR_INVALID, "%s:%d: %s",
               reader->file, line, message);
}

static const char *
attribute (const char **names, const char **values, const char *name)
{
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (names[i], name) == 0)
      return values[i];
  return NULL;
}

/* A register value as libvirt writes it: "0x00000200", or decimal. */
static gboolean
parse_u32 (MapReader *reader, const char *name, const char *text, guint32 *value, GError **error)
{
  guint64 number;
  gboolean hex = g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X");

  if (!g_ascii_string_to_unsigned (hex ? text + 2 : text, hex ? 16 : 10, 0, G_MAXUINT32,
                                   &number, NULL))
    {
      set_reader_error (reader, error, "%s='%s' is not a 32-bit number", name, text);
      return FALSE;
    }
  *value = (guint32) number;
  return TRUE;
}

/* Adds the set bits of @value in word @word to the feature being read. */
static void
add_word_bits (LibvirtCpuFeature *feature, int word, guint32 value, gboolean *unknown_word)
{
  if (value == 0)
    return;
  if (word < 0)
    {
      *unknown_word = TRUE;
      return;
    }
  for (guint bit = 0; bit < 32; bit++)
    if (value & (1u << bit))
      x86_feature_set_add_bit (&feature->bits, (guint) word, bit);
}

/* The word of MSR @index that holds its bits @bit_offset..@bit_offset+31, or -1. */
static int
msr_word (guint32 index, guint bit_offset)
{
  guint n_words;
  const X86FeatureWord *words = x86_feature_words (&n_words);

  for (guint i = 0; i < n_words; i++)
    if (words[i].kind == X86_WORD_MSR && words[i].msr == index
        && words[i].bit_offset == bit_offset)
      return (int) i;
  return -1;
}

static gboolean
read_cpuid (MapReader *reader, const char **names, const char **values, GError **error)
{
  static const struct { const char *name; X86Register reg; } registers[] = {
    { "eax", X86_REG_EAX }, { "ebx", X86_REG_EBX }, { "ecx", X86_REG_ECX }, { "edx", X86_REG_EDX },
  };
  const char *leaf_text = attribute (names, values, "eax_in");
  const char *subleaf_text = attribute (names, values, "ecx_in");
  guint32 leaf, subleaf = 0;
  gboolean unknown_word = FALSE;

  if (leaf_text == NULL)
    {
      set_reader_error (reader, error, "<cpuid> of feature '%s' without eax_in",
                        reader->feature->name);
      return FALSE;
    }
  if (!parse_u32 (reader, "eax_in", leaf_text, &leaf, error)
      || (subleaf_text != NULL && !parse_u32 (reader, "ecx_in", subleaf_text, &subleaf, error)))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (registers); i++)
    {
      const char *text = attribute (names, values, registers[i].name);
      guint32 value;

      if (text == NULL)
        continue;
      if (!parse_u32 (reader, registers[i].name, text, &value, error))
        return FALSE;
      add_word_bits (reader->feature, x86_feature_word_find_cpuid (leaf, subleaf, registers[i].reg),
                     value, &unknown_word);
    }
  reader->feature_unmapped |= unknown_word;
  return TRUE;
}

static gboolean
read_msr (MapReader *reader, const char **names, const char **values, GError **error)
{
  const char *index_text = attribute (names, values, "index");
  const char *eax_text = attribute (names, values, "eax");
  const char *edx_text = attribute (names, values, "edx");
  guint32 index, eax = 0, edx = 0;
  gboolean unknown_word = FALSE;

  if (index_text == NULL)
    {
      set_reader_error (reader, error, "<msr> of feature '%s' without index",
                        reader->feature->name);
      return FALSE;
    }
  if (!parse_u32 (reader, "index", index_text, &index, error)
      || (eax_text != NULL && !parse_u32 (reader, "eax", eax_text, &eax, error))
      || (edx_text != NULL && !parse_u32 (reader, "edx", edx_text, &edx, error)))
    return FALSE;
  add_word_bits (reader->feature, msr_word (index, 0), eax, &unknown_word);
  add_word_bits (reader->feature, msr_word (index, 32), edx, &unknown_word);
  reader->feature_unmapped |= unknown_word;
  return TRUE;
}

static gboolean
add_feature_name (MapReader *reader, const char *name, LibvirtCpuFeature *feature, GError **error)
{
  if (g_hash_table_contains (reader->map->feature_by_name, name))
    {
      set_reader_error (reader, error, "feature '%s' defined twice", name);
      return FALSE;
    }
  g_hash_table_insert (reader->map->feature_by_name, g_strdup (name), feature);
  return TRUE;
}

static gboolean
start_definition (MapReader *reader, const char *element, const char **names,
                  const char **values, GError **error)
{
  LibvirtCpuMap *map = reader->map;
  const char *name = attribute (names, values, "name");

  if (strcmp (element, "include") == 0)
    {
      const char *filename = attribute (names, values, "filename");

      if (filename == NULL || strchr (filename, '/') != NULL)
        {
          set_reader_error (reader, error, "<include> without a plain filename");
          return FALSE;
        }
      g_ptr_array_add (reader->includes, g_strdup (filename));
      return TRUE;
    }
  if (strcmp (element, "vendor") != 0 && strcmp (element, "feature") != 0
      && strcmp (element, "model") != 0)
    return TRUE;
  if (name == NULL || *name == '\0')
    {
      set_reader_error (reader, error, "<%s> without a name", element);
      return FALSE;
    }
  if (strcmp (element, "vendor") == 0)
    {
      const char *string = attribute (names, values, "string");

      if (string == NULL)
        {
          set_reader_error (reader, error, "vendor '%s' without a string", name);
          return FALSE;
        }
      g_hash_table_insert (map->vendor_string, g_strdup (name), g_strdup (string));
    }
  else if (strcmp (element, "feature") == 0)
    {
      LibvirtCpuFeature *feature = g_new0 (LibvirtCpuFeature, 1);

      feature->name = g_strdup (name);
      feature->index = map->features->len;
      g_ptr_array_add (map->features, feature);
      reader->feature = feature;
      reader->feature_unmapped = FALSE;
      return add_feature_name (reader, name, feature, error);
    }
  else
    {
      LibvirtCpuModel *model = g_new0 (LibvirtCpuModel, 1);

      if (g_hash_table_contains (map->model_by_name, name))
        {
          g_free (model);
          set_reader_error (reader, error, "model '%s' defined twice", name);
          return FALSE;
        }
      model->name = g_strdup (name);
      model->feature_names = g_ptr_array_new_with_free_func (g_free);
      model->signatures = g_array_new (FALSE, FALSE, sizeof (LibvirtCpuSignature));
      model->decode_guest = TRUE;
      reader->model_signed = FALSE;
      g_ptr_array_add (map->models, model);
      g_hash_table_insert (map->model_by_name, model->name, model);
      reader->model = model;
    }
  return TRUE;
}

static gboolean
read_model_child (MapReader *reader, const char *element, const char **names,
                  const char **values, GError **error)
{
  LibvirtCpuModel *model = reader->model;
  const char *name = attribute (names, values, "name");

  if (strcmp (element, "model") == 0)
    {
      /* A parent model: this one starts as a copy of it. */
      const LibvirtCpuModel *parent = name != NULL
        ? g_hash_table_lookup (reader->map->model_by_name, name) : NULL;

      if (parent == NULL)
        {
          set_reader_error (reader, error, "model '%s' based on unknown model '%s'", model->name,
                            name != NULL ? name : "");
          return FALSE;
        }
      /* The model being read is already known by its name: naming itself as its parent
       * would copy it into itself. */
      if (parent == model)
        {
          set_reader_error (reader, error, "model '%s' based on itself", model->name);
          return FALSE;
        }
      g_free (model->vendor);
      model->vendor = g_strdup (parent->vendor);
      model->features = parent->features;
      model->removed = parent->removed;
      g_array_append_vals (model->signatures, parent->signatures->data, parent->signatures->len);
      model->decode_guest = parent->decode_guest;
      for (guint i = 0; i < parent->feature_names->len; i++)
        g_ptr_array_add (model->feature_names,
                         g_strdup (g_ptr_array_index (parent->feature_names, i)));
    }
  else if (strcmp (element, "decode") == 0)
    model->decode_guest = g_strcmp0 (attribute (names, values, "guest"), "off") != 0;
  else if (strcmp (element, "signature") == 0)
    {
      const char *family = attribute (names, values, "family");
      const char *cpu_model = attribute (names, values, "model");
      LibvirtCpuSignature signature;
      guint32 number;

      if (family == NULL || cpu_model == NULL)
        {
          set_reader_error (reader, error, "<signature> of model '%s' without family and model",
                            model->name);
          return FALSE;
        }
      if (!parse_u32 (reader, "family", family, &number, error))
        return FALSE;
      signature.family = number;
      if (!parse_u32 (reader, "model", cpu_model, &number, error))
        return FALSE;
      signature.model = number;
      if (!reader->model_signed)
        g_array_set_size (model->signatures, 0);
      reader->model_signed = TRUE;
      g_array_append_val (model->signatures, signature);
    }
  else if (strcmp (element, "vendor") == 0 && name != NULL)
    {
      if (!g_hash_table_contains (reader->map->vendor_string, name))
        {
          set_reader_error (reader, error, "model '%s' of unknown vendor '%s'", model->name, name);
          return FALSE;
        }
      g_free (model->vendor);
      model->vendor = g_strdup (name);
    }
  else if (strcmp (element, "feature") == 0 && name != NULL)
    {
      const LibvirtCpuFeature *feature = g_hash_table_lookup (reader->map->feature_by_name, name);
      const char *removed = attribute (names, values, "removed");

      if (feature == NULL)
        {
          set_reader_error (reader, error, "model '%s' names unknown feature '%s'", model->name,
                            name);
          return FALSE;
        }
      g_ptr_array_add (model->feature_names, g_strdup (feature->name));
      if (g_strcmp0 (removed, "yes") == 0)
        {
          x86_feature_set_union (&model->removed, &model->removed, &feature->bits);
          x86_feature_set_subtract (&model->features, &model->features, &feature->bits);
        }
      else
        x86_feature_set_union (&model->features, &model->features, &feature->bits);
    }
  return TRUE;
}

static void
on_start_element (GMarkupParseContext *context, const char *element, const char **names,
                  const char **values, gpointer user_data, GError **error)
{
  MapReader *reader = user_data;
  guint depth = reader->open_elements->len;
  const char *parent = depth > 0 ? g_ptr_array_index (reader->open_elements, depth - 1) : NULL;

  /* A copy, never g_intern_string(): GLib keeps every interned string (and each quark
   * table it outgrows) for the life of the process, so a map naming many elements would
   * grow vcpuprobe's memory for good. */
  g_ptr_array_add (reader->open_elements, g_strdup (element));
  if (reader->in_other_arch)
    return;
  if (strcmp (element, "arch") == 0)
    {
      reader->in_other_arch = g_strcmp0 (attribute (names, values, "name"), "x86") != 0;
      return;
    }
  if (parent != NULL && (strcmp (parent, "cpus") == 0 || strcmp (parent, "arch") == 0))
    {
      start_definition (reader, element, names, values, error);
      return;
    }
  if (parent == NULL)
    return;
  if (reader->feature != NULL && strcmp (parent, "feature") == 0)
    {
      if (strcmp (element, "cpuid") == 0)
        read_cpuid (reader, names, values, error);
      else if (strcmp (element, "msr") == 0)
        read_msr (reader, names, values, error);
      else if (strcmp (element, "alias") == 0)
        {
          const char *alias = attribute (names, values, "name");

          if (alias != NULL)
            add_feature_name (reader, alias, reader->feature, error);
        }
    }
  else if (reader->model != NULL && strcmp (parent, "model") == 0)
    read_model_child (reader, element, names, values, error);
}

/* A feature is tied to the table when its bits are exactly one named table feature. */
static void
finish_feature (LibvirtCpuMap *map, LibvirtCpuFeature *feature, gboolean unmapped)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  if (unmapped || x86_feature_set_count (&feature->bits) != 1)
    return;
  for (guint i = 0; i < n_features; i++)
    if (x86_feature_set_has (&feature->bits, &features[i]))
      {
        feature->feature = &features[i];
        break;
      }
  if (feature->feature == NULL || g_hash_table_contains (map->feature_by_table, feature->feature))
    return;
  g_hash_table_insert (map->feature_by_table, (gpointer) feature->feature, feature);
  x86_feature_set_add (&map->known, feature->feature);
}

static void
on_end_element (GMarkupParseContext *context, const char *element, gpointer user_data,
                GError **error)
{
  MapReader *reader = user_data;
  guint depth = reader->open_elements->len - 1;
  const char *parent = depth > 0 ? g_ptr_array_index (reader->open_elements, depth - 1) : NULL;

  g_ptr_array_remove_index (reader->open_elements, depth);
  if (strcmp (element, "arch") == 0)
    {
      reader->in_other_arch = FALSE;
      return;
    }
  if (reader->in_other_arch || parent == NULL
      || (strcmp (parent, "cpus") != 0 && strcmp (parent, "arch") != 0))
    return;
  if (strcmp (element, "feature") == 0 && reader->feature != NULL)
    {
      finish_feature (reader->map, reader->feature, reader->feature_unmapped);
      reader->feature = NULL;
    }
  else if (strcmp (element, "model") == 0)
    reader->model = NULL;
}

static gboolean
read_file (LibvirtCpuMap *map, const char *path, GPtrArray *includes, GError **error)
{
  static const GMarkupParser parser = { .start_element = on_start_element,
                                        .end_element = on_end_element };
  g_autofree char *text = NULL;
  gsize length;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) open_elements = g_ptr_array_new_with_free_func (g_free);
  MapReader reader = { .map = map, .file = path, .open_elements = open_elements,
                       .includes = includes };
  gboolean ok;

  if (!g_file_get_contents (path, &text, &length, &local_error))
    {
      g_set_error (error, LIBVIRT_CPU_MAP_ERROR, LIBVIRT_CPU_MAP_ERROR_IO, "libvirt CPU map %s",
                   local_error->message);
      return FALSE;
    }
  reader.context = g_markup_parse_context_new (&parser, 0, &reader,
                                               NULL);
  ok = g_markup_parse_context_parse (reader.context, text, (gssize) length, &local_error)
       && g_markup_parse_context_end_parse (reader.context, &local_error);
  g_markup_parse_context_free (reader.context);
  if (ok)
    return TRUE;
  if (local_error->domain == LIBVIRT_CPU_MAP_ERROR)
    g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "libvirt CPU map ");
  else
    g_set_error (error, LIBVIRT_CPU_MAP_ERROR, LIBVIRT_CPU_MAP_ERROR_SYNTAX,
                 "libvirt CPU map %s: %s", path, local_error->message);
  return FALSE;
}

LibvirtCpuMap *
libvirt_cpu_map_load (const char *path, GError **error)
{
  g_autoptr (LibvirtCpuMap) map = g_new0 (LibvirtCpuMap, 1);
  g_autoptr (GPtrArray) includes = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *index = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *index_name = NULL;

  map->path = g_strdup (path);
  map->features = g_ptr_array_new_with_free_func (feature_free);
  map->feature_by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  map->feature_by_table = g_hash_table_new (NULL, NULL);
  map->models = g_ptr_array_new_with_free_func (model_free);
  map->model_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  map->vendor_string = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      directory = g_strdup (path);
      index = g_build_filename (path, "index.xml", NULL);
    }
  else
    {
      directory = g_path_get_dirname (path);
      index = g_strdup (path);
    }
  if (!read_file (map, index, includes, error))
    return NULL;
  index_name = g_path_get_basename (index);
  for (guint i = 0; i < includes->len; i++)
    {
      const char *name = g_ptr_array_index (includes, i);
      g_autofree char *file = g_build_filename (directory, name, NULL);

      /* Each file once: an included file may include others, so a cycle would never end. */
      for (guint j = 0; j <= i; j++)
        if (strcmp (name, j < i ? (const char *) g_ptr_array_index (includes, j) : index_name) == 0)
          {
            g_set_error (error, LIBVIRT_CPU_MAP_ERROR, LIBVIRT_CPU_MAP_ERROR_INVALID,
                         "libvirt CPU map %s: %s is included more than once", path, name);
            return NULL;
          }
      if (!read_file (map, file, includes, error))
        return NULL;
    }
  if (map->features->len == 0)
    {
      g_set_error (error, LIBVIRT_CPU_MAP_ERROR, LIBVIRT_CPU_MAP_ERROR_INVALID,
                   "libvirt CPU map %s: no x86 features", path);
      return NULL;
    }
  return g_steal_pointer (&map);
}

/* ---- Queries ---- */

const char *
libvirt_cpu_map_path (const LibvirtCpuMap *map)
{
  return map->path;
}

const LibvirtCpuFeature *const *
libvirt_cpu_map_features (const LibvirtCpuMap *map, guint *n_features)
{
  *n_features = map->features->len;
  return (const LibvirtCpuFeature *const *) map->features->pdata;
}

const LibvirtCpuFeature *
libvirt_cpu_map_find_feature (const LibvirtCpuMap *map, const char *name)
{
  return g_hash_table_lookup (map->feature_by_name, name);
}

const LibvirtCpuFeature *
libvirt_cpu_map_feature_of (const LibvirtCpuMap *map, const X86Feature *feature)
{
  return g_hash_table_lookup (map->feature_by_table, feature);
}

const X86FeatureSet *
libvirt_cpu_map_known (const LibvirtCpuMap *map)
{
  return &map->known;
}

const LibvirtCpuModel *
libvirt_cpu_map_find_model (const LibvirtCpuMap *map, const char *name)
{
  return name != NULL ? g_hash_table_lookup (map->model_by_name, name) : NULL;
}

GPtrArray *
libvirt_cpu_map_model_names (const LibvirtCpuMap *map)
{
  GPtrArray *names = g_ptr_array_new ();

  for (guint i = 0; i < map->models->len; i++)
    g_ptr_array_add (names, ((LibvirtCpuModel *) g_ptr_array_index (map->models, i))->name);
  return names;
}

const char *
libvirt_cpu_map_vendor_string (const LibvirtCpuMap *map, const char *name)
{
  return name != NULL ? g_hash_table_lookup (map->vendor_string, name) : NULL;
}

const char *
libvirt_cpu_map_vendor_name (const LibvirtCpuMap *map, const char *cpuid_string)
{
  GHashTableIter iter;
  gpointer name, string;

  g_hash_table_iter_init (&iter, map->vendor_string);
  while (g_hash_table_iter_next (&iter, &name, &string))
    if (g_strcmp0 (string, cpuid_string) == 0)
      return name;
  return NULL;
}
