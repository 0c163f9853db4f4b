/* tools/output-json.c — the JSON documents vcpuprobe prints. */
#include "tools/output-json.h"

#include "probe/models.h"
#include "tools/output-text.h"
#include "x86/feature-set.h"

#include <string.h>
#include <json-c/printbuf.h>

gboolean
cli_json_print (json_object *value, GError **error)
{
  const char *text = json_object_to_json_string_ext (value, JSON_C_TO_STRING_PRETTY
                                                            | JSON_C_TO_STRING_SPACED
                                                            | JSON_C_TO_STRING_NOSLASHESCAPE);
  g_autofree char *line = g_strconcat (text, "\n", NULL);

  return cli_output_print (line, error);
}

static json_object *
strings_to_json (GPtrArray *strings)
{
  json_object *array = json_object_new_array_ext ((int) strings->len);

  for (guint i = 0; i < strings->len; i++)
    json_object_array_add (array, json_object_new_string (g_ptr_array_index (strings, i)));
  return array;
}

static json_object *
cpu_to_json (const X86CpuidDump *dump, guint cpu_index)
{
  json_object *cpu = x86_cpuid_dump_cpu_to_json (dump, cpu_index);
  X86FeatureSet features;

  x86_feature_set_from_cpuid (&features, dump, cpu_index);
  json_object_object_add (cpu, "features", x86_feature_set_to_names_json (&features));
  return cpu;
}

static json_object *
kvm_to_json (const X86KvmCpuid *kvm, const char *kvm_not_read)
{
  json_object *object = json_object_new_object ();
  gboolean available = kvm != NULL && kvm->available;
  const char *reason = kvm != NULL ? kvm->reason : kvm_not_read;

  json_object_object_add (object, "available", json_object_new_boolean (available));
  json_object_object_add (object, "reason", reason != NULL ? json_object_new_string (reason) : NULL);
  json_object_object_add (object, "supported",
                          available ? x86_feature_set_to_names_json (&kvm->supported_features)
                                    : json_object_new_array ());
  json_object_object_add (object, "emulated",
                          available ? x86_feature_set_to_names_json (&kvm->emulated_features)
                                    : json_object_new_array ());
  /* A capture keeps it: a profile or dump of this host then answers kvm guests with
   * arch-capabilities as a live run does (x86/cpuid-dump.h). */
  if (available)
    json_object_object_add (object, "arch_capabilities",
                            x86_kvm_arch_capabilities_to_json (&kvm->arch_capabilities));
  return object;
}

json_object *
cli_json_cpuid (const X86CpuidDump *dump, const X86CpuIdentity *identity,
                const X86KvmCpuid *kvm, const char *kvm_not_read)
{
  json_object *report = json_object_new_object ();
  json_object *cpus = json_object_new_array ();
  g_autoptr (GPtrArray) differences = NULL;
  gboolean heterogeneous = x86_cpuid_dump_heterogeneous (dump, &differences);

  for (guint i = 0; i < x86_cpuid_dump_n_cpus (dump); i++)
    json_object_array_add (cpus, cpu_to_json (dump, i));
  json_object_object_add (report, "identity", x86_cpu_identity_to_json (identity));
  json_object_object_add (report, "cpus", cpus);
  json_object_object_add (report, "heterogeneous", json_object_new_boolean (heterogeneous));
  json_object_object_add (report, "differences",
                          differences != NULL ? strings_to_json (differences)
                                              : json_object_new_array ());
  json_object_object_add (report, "kvm", kvm_to_json (kvm, kvm_not_read));
  return report;
}

/* ---- Printing without a tree, as json-c prints one ---- */

/* The layout json-c gives a container's members under @flags (see json_object.c). The
 * text collects in a buffer of our own, handed to json-c's once: its per-call append
 * costs more than the few bytes most calls here add. */
typedef struct {
  char *text;
  size_t length;
  size_t capacity;
  int flags;
} JsonWriter;

static void
write_bytes (JsonWriter *writer, const char *bytes, size_t n_bytes)
{
  if (writer->length + n_bytes > writer->capacity)
    {
      writer->capacity = MAX (writer->capacity * 2, writer->length + n_bytes);
      writer->text = g_realloc (writer->text, writer->capacity);
    }
  memcpy (writer->text + writer->length, bytes, n_bytes);
  writer->length += n_bytes;
}

static void
write_text (JsonWriter *writer, const char *text)
{
  write_bytes (writer, text, strlen (text));
}

static void
write_indent (JsonWriter *writer, int level)
{
  static const char spaces[] = "                                                                ";
  static const char tabs[] = "\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t\t";
  gboolean tab = (writer->flags & JSON_C_TO_STRING_PRETTY_TAB) != 0;
  size_t width = tab ? 1 : 2;
  const char *fill = tab ? tabs : spaces;
  size_t n_fill = tab ? sizeof tabs - 1 : sizeof spaces - 1;

  if (!(writer->flags & JSON_C_TO_STRING_PRETTY) || level <= 0)
    return;
  for (size_t left = (size_t) level * width; left > 0; left -= MIN (left, n_fill))
    write_bytes (writer, fill, MIN (left, n_fill));
}

/* A string with json-c's escapes: \b \n \r \t \f \" \\, "\/" unless NOSLASHESCAPE, and
 * other control characters as \u00xx. Names almost never need one: copied whole then. */
static void
write_string (JsonWriter *writer, const char *text)
{
  static const char hex[] = "0123456789abcdef";
  gboolean slash_plain = (writer->flags & JSON_C_TO_STRING_NOSLASHESCAPE) != 0;
  size_t length;
  size_t plain = 0;

  /* Up to the first character that needs an escape, or to the end (NUL < 0x20). */
  while ((guchar) text[plain] >= 0x20 && text[plain] != '"' && text[plain] != '\\'
         && (text[plain] != '/' || slash_plain))
    plain++;
  length = text[plain] == '\0' ? plain : plain + strlen (text + plain);
  write_bytes (writer, "\"", 1);
  write_bytes (writer, text, plain);
  for (size_t i = plain; i < length; i++)
    {
      guchar c = (guchar) text[i];
      char escape[7] = { '\\', 0 };

      switch (c)
        {
        case '\b': escape[1] = 'b'; break;
        case '\n': escape[1] = 'n'; break;
        case '\r': escape[1] = 'r'; break;
        case '\t': escape[1] = 't'; break;
        case '\f': escape[1] = 'f'; break;
        case '"': escape[1] = '"'; break;
        case '\\': escape[1] = '\\'; break;
        case '/':
          if (writer->flags & JSON_C_TO_STRING_NOSLASHESCAPE)
            escape[0] = '/';
          else
            escape[1] = '/';
          break;
        default:
          if (c < 0x20)
            {
              escape[1] = 'u';
              escape[2] = '0';
              escape[3] = '0';
              escape[4] = hex[c >> 4];
              escape[5] = hex[c & 0xf];
            }
          else
            escape[0] = (char) c;
          break;
        }
      write_text (writer, escape);
    }
  write_bytes (writer, "\"", 1);
}

/* "[" or "{"; then each member with write_next(), then write_close(). */
static void
write_open (JsonWriter *writer, const char *bracket)
{
  write_text (writer, bracket);
  if (writer->flags & JSON_C_TO_STRING_PRETTY)
    write_text (writer, "\n");
}

/* The separator and indent before a member of a container at @level. */
static void
write_next (JsonWriter *writer, int level, gboolean *had_members)
{
  if (*had_members)
    write_text (writer, (writer->flags & JSON_C_TO_STRING_PRETTY) ? ",\n" : ",");
  *had_members = TRUE;
  if ((writer->flags & JSON_C_TO_STRING_SPACED) && !(writer->flags & JSON_C_TO_STRING_PRETTY))
    write_text (writer, " ");
  write_indent (writer, level + 1);
}

static void
write_key (JsonWriter *writer, const char *key)
{
  write_string (writer, key);
  write_text (writer, (writer->flags & JSON_C_TO_STRING_SPACED) ? ": " : ":");
}

/* A key of ours, which needs no escape: "\"feature\": " is "\"feature\":" plus a space
 * when spaced. */
static void
write_plain_key (JsonWriter *writer, const char *quoted_key)
{
  write_text (writer, quoted_key);
  if (writer->flags & JSON_C_TO_STRING_SPACED)
    write_bytes (writer, " ", 1);
}

static void
write_close (JsonWriter *writer, int level, gboolean had_members, const char *bracket)
{
  if (writer->flags & JSON_C_TO_STRING_PRETTY)
    {
      if (had_members)
        write_text (writer, "\n");
      write_indent (writer, level);
    }
  if ((writer->flags & JSON_C_TO_STRING_SPACED) && !(writer->flags & JSON_C_TO_STRING_PRETTY))
    write_text (writer, " ");
  write_text (writer, bracket);
}

static void
write_string_or_null (JsonWriter *writer, const char *text)
{
  if (text != NULL)
    write_string (writer, text);
  else
    write_text (writer, "null");
}

/* One model name over every accelerator: where each accelerator lists it. */
typedef struct {
  const ProbeModel *first;        /* alias_of, deprecated, migration_safe come from here */
  const ProbeModel **by_accel;    /* [host->accels->len], NULL where an accelerator lacks it */
} MergedModel;

typedef struct {
  const ProbeHost *host;
} HostModels;

static void
write_blockers (JsonWriter *writer, const ProbeHost *host, const ProbeAccelInfo *info,
                const ProbeModel *model, int level)
{
  gboolean had_blockers = FALSE;

  write_open (writer, "[");
  for (guint i = 0; i < model->n_unavailable; i++)
    {
      gboolean had_members = FALSE;

      write_next (writer, level, &had_blockers);
      write_open (writer, "{");
      write_next (writer, level + 1, &had_members);
      write_plain_key (writer, "\"feature\":");
      write_string (writer, model->unavailable[i]);
      write_next (writer, level + 1, &had_members);
      write_plain_key (writer, "\"layer\":");
      write_string (writer, probe_model_blocker_layer (host, info->accel, model->unavailable[i]));
      write_close (writer, level + 1, had_members, "}");
    }
  write_close (writer, level, had_blockers, "]");
}

static void
write_merged_model (JsonWriter *writer, const ProbeHost *host, const MergedModel *merged,
                    int level)
{
  gboolean had_members = FALSE;
  gboolean had_accels = FALSE;
  guint n_accels = host->accels->len;

  write_open (writer, "{");
  write_next (writer, level, &had_members);
  write_plain_key (writer, "\"name\":");
  write_string (writer, merged->first->name);

  write_next (writer, level, &had_members);
  write_plain_key (writer, "\"usable\":");
  write_open (writer, "{");
  for (guint a = 0; a < n_accels; a++)
    {
      const ProbeModel *model = merged->by_accel[a];

      if (model == NULL)
        continue;
      write_next (writer, level + 1, &had_accels);
      write_key (writer, ((ProbeAccelInfo *) host->accels->pdata[a])->accel);
      write_text (writer, model->unavailable == NULL ? "null"
                          : model->n_unavailable == 0 ? "true" : "false");
    }
  write_close (writer, level + 1, had_accels, "}");

  write_next (writer, level, &had_members);
  write_plain_key (writer, "\"blockers\":");
  write_open (writer, "{");
  had_accels = FALSE;
  for (guint a = 0; a < n_accels; a++)
    {
      const ProbeModel *model = merged->by_accel[a];

      if (model == NULL)
        continue;
      write_next (writer, level + 1, &had_accels);
      write_key (writer, ((ProbeAccelInfo *) host->accels->pdata[a])->accel);
      write_blockers (writer, host, host->accels->pdata[a], model, level + 2);
    }
  write_close (writer, level + 1, had_accels, "}");

  write_next (writer, level, &had_members);
  write_plain_key (writer, "\"alias_of\":");
  write_string_or_null (writer, merged->first->alias_of);
  write_next (writer, level, &had_members);
  write_plain_key (writer, "\"deprecated\":");
  write_text (writer, merged->first->deprecated ? "true" : "false");
  write_next (writer, level, &had_members);
  write_plain_key (writer, "\"migration_safe\":");
  write_text (writer, merged->first->migration_safe < 0 ? "null"
                      : merged->first->migration_safe ? "true" : "false");
  write_close (writer, level, had_members, "}");
}

static int
host_models_serialize (json_object *placeholder, struct printbuf *pb, int level, int flags)
{
  const HostModels *data = json_object_get_userdata (placeholder);
  const ProbeHost *host = data->host;
  guint n_accels = host->accels->len;
  g_autoptr (GHashTable) by_name = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GArray) merged = g_array_new (FALSE, TRUE, sizeof (MergedModel));
  g_autofree const ProbeModel **slots = NULL;
  JsonWriter writer = { g_malloc (64 * 1024), 0, 64 * 1024, flags };
  gboolean had_models = FALSE;
  guint n_slots = 0;

  for (guint a = 0; a < n_accels; a++)
    n_slots += ((ProbeAccelInfo *) host->accels->pdata[a])->n_models;
  /* One block for every model's per-accelerator slots. */
  slots = g_new0 (const ProbeModel *, (gsize) MAX (n_slots, 1) * n_accels);
  for (guint a = 0; a < n_accels; a++)
    {
      const ProbeAccelInfo *info = host->accels->pdata[a];

      for (guint i = 0; i < info->n_models; i++)
        {
          const ProbeModel *model = &info->models[i];
          gpointer index;

          if (!g_hash_table_lookup_extended (by_name, model->name, NULL, &index))
            {
              MergedModel entry = { model, slots + (gsize) merged->len * n_accels };

              index = GUINT_TO_POINTER (merged->len);
              g_array_append_val (merged, entry);
              g_hash_table_insert (by_name, (gpointer) model->name, index);
            }
          /* A name listed twice under one accelerator: the last one wins, as it did when
           * this was a JSON object per model. */
          g_array_index (merged, MergedModel, GPOINTER_TO_UINT (index)).by_accel[a] = model;
        }
    }

  write_open (&writer, "[");
  for (guint i = 0; i < merged->len; i++)
    {
      write_next (&writer, level, &had_models);
      write_merged_model (&writer, host, &g_array_index (merged, MergedModel, i), level + 1);
    }
  write_close (&writer, level, had_models, "]");
  printbuf_memappend (pb, writer.text, (int) writer.length);
  g_free (writer.text);
  return 0;
}

static void
host_models_free (json_object *placeholder, void *data)
{
  g_free (data);
}

json_object *
cli_json_host_models (const ProbeHost *host)
{
  json_object *placeholder = json_object_new_array ();
  HostModels *data = g_new0 (HostModels, 1);

  data->host = host;
  json_object_set_serializer (placeholder, host_models_serialize, data, host_models_free);
  return placeholder;
}
