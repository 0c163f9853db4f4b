/* tools/output-xml.h — XML shaped like libvirt's domain capabilities <cpu> element, with
 * libvirt's feature spellings, so what vcpuprobe says can be set beside what libvirt says. */
#pragma once
#include <glib.h>
#include "probe/host-model.h"

/* <cpu mode='custom' match='exact' check='full'> with the closest model and its
 * require/disable features (@closest: the "closest" member of the facts, borrowed). */
void cli_xml_custom_cpu (GString *out, json_object *closest, const char *indent);

/* The <mode name='custom'> element: every model with usable='yes|no|unknown' and one
 * <blockers> per unusable model. @models: probe_models_to_json()'s "models" (borrowed). */
void cli_xml_custom_mode (GString *out, json_object *models, const char *indent);

/* <domainCapabilities> with the four <cpu> modes for @info's accelerator:
 * host-passthrough, maximum, host-model and custom (@info's models). */
void cli_xml_host (GString *out, const ProbeHost *host, const ProbeAccelInfo *info);
