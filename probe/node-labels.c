/* probe/node-labels.c — KubeVirt's node labels of this node (probe/node-labels.h). */
#include "probe/node-labels.h"

#include <string.h>
#include "probe/host-model.h"

char *
node_labels_model_xml (const char *model)
{
  g_autofree char *escaped = g_markup_escape_text (model, -1);

  return g_strdup_printf ("<cpu mode='custom' match='exact' check='full'>\n"
                          "  <model fallback='forbid'>%s</model>\n"
                          "</cpu>\n", escaped);
}

CpuDef *
node_labels_model_definition (const char *model, GError **error)
{
  g_autofree char *xml = node_labels_model_xml (model);

  return cpu_def_from_xml (xml, -1, model, error);
}

CpuDef *
node_labels_host_model_definition (void)
{
  CpuDef *def = cpu_def_new (CPU_MODE_HOST_MODEL, NULL);

  def->check = CPU_CHECK_FULL;
  return def;
}

CpuDef *
node_labels_resolve_host_model (QmpSource *source, const char *accel, const LibvirtCpuMap *map,
                                gboolean use_cache, gint64 deadline_us, char **vendor,
                                GError **error)
{
  const char *accels[] = { accel, NULL };
  ProbeHostRequest request = {
    .source = source,
    .accels = accels,
    .use_cache = use_cache,
    .deadline_us = deadline_us,
  };
  g_auto (LibvirtHostIdentity) identity = { 0 };
  g_autoptr (ProbeHost) host = NULL;
  g_autoptr (CpuDef) host_model = node_labels_host_model_definition ();
  LibvirtHostModel named = { .map = map, .identity = &identity };
  const char *vendor_name;

  *vendor = NULL;
  /* libvirt names the host model with models of its vendor, its signature first: the
   * same facts `check` reads for a host-model definition (tools/cpu-mode.c). */
  if (!libvirt_host_identity_read (source, accel, deadline_us, &identity, error))
    return NULL;
  host = probe_host_read (&request, error);
  if (host == NULL)
    return NULL;
  named.info = probe_host_accel (host, accel);
  vendor_name = libvirt_cpu_map_vendor_name (map, identity.vendor);
  *vendor = g_strdup (vendor_name);
  return libvirt_resolve_cpu_mode (host_model, accel, &named, error);
}

void
node_label_free (NodeLabel *label)
{
  if (label == NULL)
    return;
  g_free (label->name);
  g_free (label->value);
  g_free (label);
}

static void
add_label (GHashTable *labels, const char *prefix, const char *name, const char *value)
{
  g_hash_table_replace (labels, g_strconcat (prefix, name, NULL), g_strdup (value));
}

/* The map's features @set holds whole, by libvirt's names (a feature of several bits
 * only when the set has every one of them). */
static void
add_feature_labels (GHashTable *labels, const LibvirtCpuMap *map, const X86FeatureSet *set)
{
  guint n_features = 0;
  const LibvirtCpuFeature *const *features = libvirt_cpu_map_features (map, &n_features);

  for (guint i = 0; i < n_features; i++)
    {
      X86FeatureSet common;

      if (x86_feature_set_is_empty (&features[i]->bits))
        continue;
      x86_feature_set_intersect (&common, &features[i]->bits, set);
      if (x86_feature_set_equal (&common, &features[i]->bits))
        add_label (labels, NODE_LABEL_CPU_FEATURE, features[i]->name, "true");
    }
}

/* KubeVirt labels the features of domcapabilities' host-model that have policy
 * 'require': those libvirt adds to the model it names the host CPU with. */
static void
add_required_labels (GHashTable *labels, const LibvirtCpuMap *map, const CpuDef *host_model)
{
  for (guint i = 0; i < host_model->features->len; i++)
    {
      const CpuFeature *entry = &g_array_index (host_model->features, CpuFeature, i);
      const LibvirtCpuFeature *named = libvirt_cpu_map_feature_of (map, entry->feature);

      if (named != NULL && (entry->policy == CPU_POLICY_REQUIRE
                            || entry->policy == CPU_POLICY_FORCE))
        add_label (labels, NODE_LABEL_HOST_MODEL_REQUIRED, named->name, "true");
    }
}

static int
compare_labels (gconstpointer a, gconstpointer b)
{
  const NodeLabel *left = *(const NodeLabel *const *) a;
  const NodeLabel *right = *(const NodeLabel *const *) b;

  return strcmp (left->name, right->name);
}

void
node_labels_add_tsc (GPtrArray *labels, const X86KvmTsc *tsc)
{
  NodeLabel *frequency = g_new0 (NodeLabel, 1);
  NodeLabel *scalable = g_new0 (NodeLabel, 1);

  frequency->name = g_strconcat (NODE_LABEL_CPU_TIMER, "tsc-frequency", NULL);
  frequency->value = g_strdup_printf ("%" G_GUINT64_FORMAT, tsc->frequency_hz);
  scalable->name = g_strconcat (NODE_LABEL_CPU_TIMER, "tsc-scalable", NULL);
  scalable->value = g_strdup (tsc->scalable ? "true" : "false");
  g_ptr_array_add (labels, frequency);
  g_ptr_array_add (labels, scalable);
  g_ptr_array_sort (labels, compare_labels);
}

void
node_labels_add_hyperv (GPtrArray *labels, GPtrArray *enlightenments)
{
  for (guint i = 0; i < enlightenments->len; i++)
    {
      NodeLabel *label = g_new0 (NodeLabel, 1);

      label->name = g_strconcat (NODE_LABEL_HYPERV, (const char *) enlightenments->pdata[i], NULL);
      label->value = g_strdup ("true");
      g_ptr_array_add (labels, label);
    }
  g_ptr_array_sort (labels, compare_labels);
}

GPtrArray *
node_labels_compute (const NodeLabelFacts *facts)
{
  g_autoptr (GHashTable) labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  GPtrArray *sorted = g_ptr_array_new_with_free_func ((GDestroyNotify) node_label_free);
  GHashTableIter iter;
  gpointer name, value;

  /* prepareLabels(): every model labelled is also a migration target. */
  for (guint i = 0; facts->startable_models[i] != NULL; i++)
    {
      add_label (labels, NODE_LABEL_CPU_MODEL, facts->startable_models[i], "true");
      add_label (labels, NODE_LABEL_CPU_MODEL_MIGRATION, facts->startable_models[i], "true");
    }
  if (facts->host_model != NULL && facts->host_model->model != NULL)
    {
      add_label (labels, NODE_LABEL_HOST_MODEL_CPU, facts->host_model->model, "true");
      add_label (labels, NODE_LABEL_CPU_MODEL_MIGRATION, facts->host_model->model, "true");
      add_required_labels (labels, facts->map, facts->host_model);
      add_feature_labels (labels, facts->map, facts->guest);
    }
  if (facts->vendor != NULL)
    add_label (labels, NODE_LABEL_CPU_VENDOR, facts->vendor, "true");

  g_hash_table_iter_init (&iter, labels);
  while (g_hash_table_iter_next (&iter, &name, &value))
    {
      NodeLabel *label = g_new0 (NodeLabel, 1);

      label->name = g_strdup (name);
      label->value = g_strdup (value);
      g_ptr_array_add (sorted, label);
    }
  g_ptr_array_sort (sorted, compare_labels);
  return sorted;
}

/* A Kubernetes qualified name part or label value: at most 63 characters of
 * [A-Za-z0-9._-], alphanumeric at both ends; empty only where @may_be_empty. */
static gboolean
valid_segment (const char *text, gsize length, gboolean may_be_empty)
{
  if (length == 0)
    return may_be_empty;
  if (length > 63 || !g_ascii_isalnum (text[0]) || !g_ascii_isalnum (text[length - 1]))
    return FALSE;
  for (gsize i = 0; i < length; i++)
    if (!g_ascii_isalnum (text[i]) && strchr ("._-", text[i]) == NULL)
      return FALSE;
  return TRUE;
}

/* A DNS subdomain (RFC 1123): lower-case labels of [a-z0-9-] joined by dots, 253 at most. */
static gboolean
valid_prefix (const char *prefix, gsize length)
{
  g_auto (GStrv) parts = NULL;
  g_autofree char *copy = g_strndup (prefix, length);

  if (length == 0 || length > 253)
    return FALSE;
  parts = g_strsplit (copy, ".", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      gsize part_length = strlen (parts[i]);

      if (part_length == 0 || part_length > 63 || parts[i][0] == '-'
          || parts[i][part_length - 1] == '-')
        return FALSE;
      for (gsize j = 0; j < part_length; j++)
        if (!(g_ascii_islower (parts[i][j]) || g_ascii_isdigit (parts[i][j])
              || parts[i][j] == '-'))
          return FALSE;
    }
  return TRUE;
}

gboolean
node_label_is_valid (const char *name, const char *value)
{
  const char *slash = strchr (name, '/');

  if (slash == NULL || !valid_prefix (name, slash - name))
    return FALSE;
  return valid_segment (slash + 1, strlen (slash + 1), FALSE)
         && valid_segment (value, strlen (value), TRUE);
}

char *
node_labels_to_feature_file (GPtrArray *labels)
{
  GString *file = g_string_new (NULL);

  for (guint i = 0; i < labels->len; i++)
    {
      const NodeLabel *label = g_ptr_array_index (labels, i);

      g_string_append_printf (file, "%s=%s\n", label->name, label->value);
    }
  return g_string_free (file, FALSE);
}

json_object *
node_labels_to_json (GPtrArray *labels)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < labels->len; i++)
    {
      const NodeLabel *label = g_ptr_array_index (labels, i);
      json_object *pair = json_object_new_array ();

      json_object_array_add (pair, json_object_new_string (label->name));
      json_object_array_add (pair, json_object_new_string (label->value));
      json_object_array_add (array, pair);
    }
  return array;
}

GPtrArray *
node_labels_from_json (json_object *json)
{
  g_autoptr (GPtrArray) labels = NULL;

  if (!json_object_is_type (json, json_type_array))
    return NULL;
  labels = g_ptr_array_new_with_free_func ((GDestroyNotify) node_label_free);
  for (gsize i = 0; i < json_object_array_length (json); i++)
    {
      json_object *pair = json_object_array_get_idx (json, i);
      json_object *name, *value;
      NodeLabel *label;

      if (!json_object_is_type (pair, json_type_array) || json_object_array_length (pair) != 2)
        return NULL;
      name = json_object_array_get_idx (pair, 0);
      value = json_object_array_get_idx (pair, 1);
      if (!json_object_is_type (name, json_type_string)
          || !json_object_is_type (value, json_type_string))
        return NULL;
      label = g_new0 (NodeLabel, 1);
      label->name = g_strdup (json_object_get_string (name));
      label->value = g_strdup (json_object_get_string (value));
      g_ptr_array_add (labels, label);
    }
  return g_steal_pointer (&labels);
}
