/* tools/output-xml.c — libvirt-shaped XML for host and models. */
#include "tools/output-xml.h"

static const char *
libvirt_name (const char *qemu_name)
{
  const X86Feature *feature = x86_feature_lookup (qemu_name);

  return feature != NULL ? x86_feature_libvirt_name (feature) : qemu_name;
}

static void
append_features (GString *out, json_object *names, const char *policy, const char *indent)
{
  for (size_t i = 0; names != NULL && i < json_object_array_length (names); i++)
    {
      g_autofree char *line = g_markup_printf_escaped (
        "%s<feature policy='%s' name='%s'/>\n", indent, policy,
        libvirt_name (json_object_get_string (json_object_array_get_idx (names, i))));

      g_string_append (out, line);
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
      g_autofree char *canonical = NULL;
      g_autofree char *line = NULL;

      /* Escaped apart: the quotes around the value are markup, not text. */
      if (alias != NULL)
        canonical = g_markup_printf_escaped (" canonical='%s'", json_object_get_string (alias));
      line = g_markup_printf_escaped (
        "%s  <model usable='%s'", indent,
        usable == NULL ? "unknown" : json_object_get_boolean (usable) ? "yes" : "no");
      g_string_append (out, line);
      g_clear_pointer (&line, g_free);
      if (canonical != NULL)
        g_string_append (out, canonical);
      line = g_markup_printf_escaped (
        " deprecated='%s'>%s</model>\n",
        deprecated != NULL && json_object_get_boolean (deprecated) ? "yes" : "no", name);
      g_string_append (out, line);
      if (features == NULL || json_object_array_length (features) == 0)
        continue;
      {
        g_autofree char *open = g_markup_printf_escaped ("%s  <blockers model='%s'>\n",
                                                         indent, name);
        g_string_append (blockers, open);
      }
      for (size_t j = 0; j < json_object_array_length (features); j++)
        {
          json_object *blocker = json_object_array_get_idx (features, j);
          g_autofree char *feature = g_markup_printf_escaped (
            "%s    <feature name='%s' layer='%s'/>\n", indent,
            libvirt_name (json_object_get_string (json_object_object_get (blocker, "feature"))),
            json_object_get_string (json_object_object_get (blocker, "layer")));

          g_string_append (blockers, feature);
        }
      g_string_append_printf (blockers, "%s  </blockers>\n", indent);
    }
  g_string_append (out, blockers->str);
  g_string_append_printf (out, "%s</mode>\n", indent);
}

void
cli_xml_host (GString *out, const ProbeHost *host, const ProbeAccelInfo *info,
              json_object *models)
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
                          info->usable ? "yes" : "no");
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
  cli_xml_custom_mode (out, models, "    ");
  g_string_append (out, "  </cpu>\n</domainCapabilities>\n");
}
