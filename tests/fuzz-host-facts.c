/* tests/fuzz-host-facts.c — libFuzzer target for the host facts the probe cache keeps
 * (probe/host-model.c): what one QEMU said under one accelerator, decoded by
 * probe_accel_info_from_facts() on every warm `host`, `models`, `check` and `expand`.
 *
 * Live, facts come from QEMU and reach the reader only through a cache entry whose key
 * matched, so a damaged entry (a disk error, another build, a hand edit) is the way in.
 * Each input is checked and decoded as the warm path does it, then shown as `host` shows it in
 * every format and as `models` lists it: the report's code (tools/cmd-host.c, static) is
 * compiled into this target rather than widening its interface, as fuzz-hook does. The
 * decoded models must be whole: a name, and a list of blocking features that are strings. */
#include "tools/cmd-host.c"
#include "fuzz-util.h"
#include "probe/models.h"
#include "tools/output-xml.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static CliOptions *options;
static CliSource *source;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *qemu = g_build_filename (fuzz_private_dir ("fuzz-host-facts"),
                                            "qemu-system-x86_64", NULL);

  /* The report names its QEMU; a source that is never opened starts nothing. */
  fuzz_write_file (qemu, "#!/bin/sh\nexit 1\n", strlen ("#!/bin/sh\nexit 1\n"));
  if (chmod (qemu, 0700) != 0)
    abort ();
  options = cli_options_new ();
  options->qemu = g_strdup (qemu);
  source = cli_source_new (options, &error);
  if (source == NULL)
    {
      fprintf (stderr, "fuzz-host-facts: %s\n", error->message);
      abort ();
    }
  return 0;
}

static void
expect_whole_models (const ProbeAccelInfo *info)
{
  if (info->n_models > 0 && info->models == NULL)
    abort ();
  for (guint i = 0; i < info->n_models; i++)
    {
      const ProbeModel *model = &info->models[i];

      if (model->name == NULL)
        abort ();
      if (model->n_unavailable > 0 && model->unavailable == NULL)
        abort ();
      for (guint j = 0; j < model->n_unavailable; j++)
        if (model->unavailable[j] == NULL)
          abort ();
    }
}

/* The host as probe_host_read() leaves it when the silicon could not be read and QEMU's
 * part came from the cache: @info is its only accelerator (borrowed by @host). */
static void
show_host (ProbeAccelInfo *info)
{
  ProbeHost host = { .hardware_failure = (char *) "not read by the fuzzer" };
  g_autoptr (GString) out = g_string_new (NULL);
  json_object *document;
  json_object *models;

  host.accels = g_ptr_array_new ();
  g_ptr_array_add (host.accels, info);
  host.binary = options->qemu;

  host_text (out, &host, info, source);
  cli_xml_host (out, &host, info);
  document = host_json (&host, info, source);
  json_object_to_json_string (document);
  json_object_put (document);
  models = probe_models_to_json (&host, info);
  json_object_to_json_string (models);
  json_object_put (models);
  if (info->closest != NULL)
    cli_xml_custom_cpu (out, info->closest, "  ");
  g_ptr_array_unref (host.accels);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  json_object *facts = json_tokener_parse (text);
  g_autofree char *problem = NULL;
  ProbeAccelInfo *info;

  /* What lookup_cached() takes for a hit; the rest is a miss, asked again. */
  if (!probe_host_facts_check (facts, NULL, &problem))
    {
      if (problem == NULL || *problem == '\0')
        abort ();
      json_object_put (facts);
      return 0;
    }
  info = probe_accel_info_from_facts (facts);
  json_object_put (facts);
  expect_whole_models (info);
  show_host (info);
  probe_accel_info_free (info);
  return 0;
}
