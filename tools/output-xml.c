/* tools/output-xml.c — libvirt-shaped XML for host and models. */
#include "tools/output-xml.h"

#include "probe/models.h"

#include <string.h>

static const char *
libvirt_name (const char *qemu_name)
{
  const X86Feature *feature = x86_feature_lookup (qemu_name);

  return feature != NULL ? x86_feature_libvirt_name (feature) : qemu_name;
}

/* @text escaped as g_markup_escape_text() does it. The names printed here (models,
 * features, layers) almost never need it, and a host's models are thousands of them:
 * those go in as they are, without a copy. */
static void
append_escaped (GString *out, const char *text)
{
  g_autofree char *escaped = NULL;

  for (const guchar *c = (const guchar *) text; *c != '\0'; c++)
    if (*c == '&' || *c == '<' || *c == '>' || *c == '\'' || *c == '"' || *c < 0x20
        || *c >= 0x7f)
      {
        escaped = g_markup_escape_text (text, -1);
        g_string_append (out, escaped);
        return;
      }
  g_string_append (out, text);
}

static void
append_features (GString *out, json_object *names, const char *policy, const char *indent)
{
  for (size_t i = 0; names != NULL && i < json_object_array_length (names); i++)
    {
      g_string_append (out, indent);
      g_string_append (out, "<feature policy='");
      append_escaped (out, policy);
      g_string_append (out, "' name='");
      append_escaped (out, libvirt_name (json_object_get_string (json_object_array_get_idx (names, i))));
      g_string_append (out, "'/>\n");
    }
}

void
cli_xml_custom_cpu (GString *out, json_object *closest, const char *indent)
{
  g_autofree char *inner = g_strconcat (indent, "  ", NULL);
  g_autofree char *model = g_markup_printf_escaped (
    "%s<model fallback='forbid'>%s</model>\n", inner,
    json_object_get_string (json_object_object_get (closest, "model")));

  g_string_append_printf (out, "%s<cpu mode='custom' match='exact' check='full'>\n", indent);
  g_string_append (out, model);
  append_features (out, json_object_object_get (closest, "require"), "require", inner);
  append_features (out, json_object_object_get (closest, "disable"), "disable", inner);
  g_string_append_printf (out, "%s</cpu>\n", indent);
}

/* One <model> line of the custom mode; @usable: 1, 0, -1 for unknown. */
static void
append_model (GString *out, const char *indent, const char *name, int usable,
              const char *alias_of, gboolean deprecated)
{
  g_string_append (out, indent);
  g_string_append (out, "  <model usable='");
  g_string_append (out, usable < 0 ? "unknown" : usable ? "yes" : "no");
  g_string_append_c (out, '\'');
  /* Escaped apart: the quotes around the value are markup, not text. */
  if (alias_of != NULL)
    {
      g_string_append (out, " canonical='");
      append_escaped (out, alias_of);
      g_string_append_c (out, '\'');
    }
  g_string_append (out, " deprecated='");
  g_string_append (out, deprecated ? "yes" : "no");
  g_string_append (out, "'>");
  append_escaped (out, name);
  g_string_append (out, "</model>\n");
}

static void
append_blockers_open (GString *blockers, const char *indent, const char *name)
{
  g_string_append (blockers, indent);
  g_string_append (blockers, "  <blockers model='");
  append_escaped (blockers, name);
  g_string_append (blockers, "'>\n");
}

static void
append_blocker (GString *blockers, const char *indent, const char *feature, const char *layer)
{
  g_string_append (blockers, indent);
  g_string_append (blockers, "    <feature name='");
  append_escaped (blockers, libvirt_name (feature));
  g_string_append (blockers, "' layer='");
  append_escaped (blockers, layer);
  g_string_append (blockers, "'/>\n");
}

static void
append_blockers_close (GString *blockers, const char *indent)
{
  g_string_append (blockers, indent);
  g_string_append (blockers, "  </blockers>\n");
}

void
cli_xml_custom_mode (GString *out, json_object *models, const char *indent)
{
  g_autoptr (GString) blockers = g_string_new (NULL);

  g_string_append_printf (out, "%s<mode name='custom' supported='yes'>\n", indent);
  for (size_t i = 0; models != NULL && i < json_object_array_length (models); i++)
    {
      json_object *model = json_object_array_get_idx (models, i);
      json_object *usable = json_object_object_get (model, "usable");
      json_object *alias = json_object_object_get (model, "alias_of");
      json_object *deprecated = json_object_object_get (model, "deprecated");
      json_object *features = json_object_object_get (model, "blockers");
      const char *name = json_object_get_string (json_object_object_get (model, "name"));

      append_model (out, indent, name, usable == NULL ? -1 : json_object_get_boolean (usable),
                    alias != NULL ? json_object_get_string (alias) : NULL,
                    deprecated != NULL && json_object_get_boolean (deprecated));
      if (features == NULL || json_object_array_length (features) == 0)
        continue;
      append_blockers_open (blockers, indent, name);
      for (size_t j = 0; j < json_object_array_length (features); j++)
        {
          json_object *blocker = json_object_array_get_idx (features, j);

          append_blocker (blockers, indent,
                          json_object_get_string (json_object_object_get (blocker, "feature")),
                          json_object_get_string (json_object_object_get (blocker, "layer")));
        }
      append_blockers_close (blockers, indent);
    }
  g_string_append (out, blockers->str);
  g_string_append_printf (out, "%s</mode>\n", indent);
}

/* cli_xml_custom_mode() straight from @info's models, without a JSON document between. */
static void
custom_mode_of (GString *out, const ProbeHost *host, const ProbeAccelInfo *info,
                const char *indent)
{
  g_autoptr (GString) blockers = g_string_new (NULL);

  g_string_append_printf (out, "%s<mode name='custom' supported='yes'>\n", indent);
  for (guint i = 0; i < info->n_models; i++)
    {
      const ProbeModel *model = &info->models[i];

      append_model (out, indent, model->name,
                    model->unavailable == NULL ? -1 : model->n_unavailable == 0,
                    model->alias_of, model->deprecated);
      if (model->n_unavailable == 0)
        continue;
      append_blockers_open (blockers, indent, model->name);
      for (guint j = 0; j < model->n_unavailable; j++)
        append_blocker (blockers, indent, model->unavailable[j],
                        probe_model_blocker_layer (host, info->accel, model->unavailable[j]));
      append_blockers_close (blockers, indent);
    }
  g_string_append_len (out, blockers->str, (gssize) blockers->len);
  g_string_append_printf (out, "%s</mode>\n", indent);
}

/* Whether QEMU lists a `max` model (2.9 and later), which libvirt's maximum mode starts;
 * without a model list, usable is all there is to go by. */
static gboolean
has_max_model (const ProbeAccelInfo *info)
{
  if (!info->models_known)
    return TRUE;
  for (guint i = 0; i < info->n_models; i++)
    if (g_strcmp0 (info->models[i].name, "max") == 0)
      return TRUE;
  return FALSE;
}

void
cli_xml_host (GString *out, const ProbeHost *host, const ProbeAccelInfo *info)
{
  gboolean kvm = g_strcmp0 (info->accel, "kvm") == 0;
  g_autofree char *head = g_markup_printf_escaped (
    "<domainCapabilities>\n  <path>%s</path>\n  <domain>%s</domain>\n"
    "  <machine>%s</machine>\n  <arch>x86_64</arch>\n  <cpu>\n",
    host->binary != NULL ? host->binary : "", kvm ? "kvm" : "qemu",
    info->default_machine != NULL ? info->default_machine : "unknown");

  g_string_append (out, head);
  g_string_append_printf (out, "    <mode name='host-passthrough' supported='%s'>\n",
                          kvm && info->usable ? "yes" : "no");
  g_string_append (out, "      <enum name='hostPassthroughMigratable'>\n"
                        "        <value>on</value>\n        <value>off</value>\n"
                        "      </enum>\n    </mode>\n");
  g_string_append_printf (out, "    <mode name='maximum' supported='%s'>\n",
                          info->usable && has_max_model (info) ? "yes" : "no");
  g_string_append (out, "      <enum name='maximumMigratable'>\n"
                        "        <value>on</value>\n        <value>off</value>\n"
                        "      </enum>\n    </mode>\n");
  if (info->expansion_known && info->closest != NULL)
    {
      g_autofree char *model = g_markup_printf_escaped (
        "      <model fallback='forbid'>%s</model>\n",
        json_object_get_string (json_object_object_get (info->closest, "model")));

      g_string_append (out, "    <mode name='host-model' supported='yes'>\n");
      g_string_append (out, model);
      if (host->identity != NULL && host->identity->vendor != NULL)
        {
          g_autofree char *vendor = g_markup_printf_escaped ("      <vendor>%s</vendor>\n",
                                                             host->identity->vendor);
          g_string_append (out, vendor);
        }
      append_features (out, json_object_object_get (info->closest, "require"), "require",
                       "      ");
      append_features (out, json_object_object_get (info->closest, "disable"), "disable",
                       "      ");
      g_string_append (out, "    </mode>\n");
    }
  else
    g_string_append (out, "    <mode name='host-model' supported='no'/>\n");
  custom_mode_of (out, host, info, "    ");
  g_string_append (out, "  </cpu>\n</domainCapabilities>\n");
}
