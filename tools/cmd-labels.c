/* tools/cmd-labels.c — `vcpuprobe labels [--output FILE]`: this node's labels in
 * KubeVirt's scheme as a Node Feature Discovery features.d file (probe/node-labels.h).
 *
 * Each of libvirt's models, and the host-model CPU, is judged as `vcpuprobe check` judges
 * a libvirt definition (tools/cmd-expand.c): the -cpu libvirt builds, probe_run(),
 * libvirt's rules (cli_judge_finish()) and, under kvm, the paused start that shows what
 * KVM refuses (cli_judge_confirm_start()). The judgements run in parallel, one per
 * processor, and --timeout bounds each of them. A QEMU that does not know a model refuses
 * it as libvirt's start would; any other failure fails the run, never a label. The
 * answer is kept in the probe cache under the QEMU binary, /dev/kvm, the silicon and the
 * CPU map (probe/check-cache.h), so a warm run starts no QEMU. What KubeVirt reads from
 * KVM itself, the TSC and the Hyper-V enlightenments, is read afresh on every run. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include "probe/check-cache.h"
#include "probe/libvirt-host-model.h"
#include "probe/node-labels.h"
#include "qmp/launch.h"
#include "tools/commands.h"
#include "tools/libvirt-judge.h"
#include "tools/output-text.h"
#include "tools/progress.h"
#include "tools/qmp-source.h"
#include "x86/kvm-hyperv.h"

typedef struct {
  const CliOptions *options;
  const LibvirtCpuMap *map;
  ProbeOptions probe;          /* each judgement copies it and sets its own deadline */
  CliProgress *progress;       /* "judging models: N/M" on a terminal, else NULL */
  gint done;
  guint total;
} LabelsRun;

typedef struct {
  const char *name;            /* the model, or "host-model" */
  CpuDef *written;             /* the <cpu> a domain has */
  CpuDef *started;             /* what libvirt starts for it */
  gboolean pass;
  X86FeatureSet guest;
  GError *error;
} Judgement;

static void
judgement_free (Judgement *judgement)
{
  cpu_def_free (judgement->written);
  cpu_def_free (judgement->started);
  g_clear_error (&judgement->error);
  g_free (judgement);
}

/* What `check` reports as the definition's fault (exit 2): libvirt would not start it. */
static gboolean
refused_definition (const GError *error)
{
  return error->domain == CPU_DEF_ERROR
         || g_error_matches (error, PROBE_ERROR, PROBE_ERROR_UNKNOWN_MODEL)
         || g_error_matches (error, PROBE_ERROR, PROBE_ERROR_BAD_INPUT);
}

static void
judge_one (Judgement *judgement, const LabelsRun *run)
{
  ProbeOptions probe = run->probe;
  g_autoptr (CpuDef) asked = libvirt_rules_qemu_definition (judgement->started, run->map);
  g_autoptr (ProbeResult) result = NULL;
  g_auto (CliJudge) verdict = { 0 };

  probe.deadline_us = g_get_monotonic_time ()
                      + (gint64) (run->options->timeout_seconds * G_USEC_PER_SEC);
  result = probe_run (asked, &probe, &judgement->error);
  if (result == NULL)
    {
      if (refused_definition (judgement->error))
        g_clear_error (&judgement->error);
      return;
    }
  verdict.libvirt_input = TRUE;
  /* Borrowed for the judgement, handed back before the judge is cleared. */
  verdict.map = (LibvirtCpuMap *) run->map;
  verdict.original = cpu_def_copy (judgement->written);
  cli_judge_finish (&verdict, judgement->started, result, NULL, probe.qemu_is_local);
  cli_judge_confirm_start (&verdict, &probe, result);
  judgement->pass = cli_judge_pass (&verdict, result);
  judgement->guest = result->guest;
  verdict.map = NULL;
}

/* A thread of the pool: one judgement, then one step of the progress line. */
static void
judge (gpointer data, gpointer user_data)
{
  LabelsRun *run = user_data;

  judge_one (data, run);
  cli_progress_update (run->progress, (guint) g_atomic_int_add (&run->done, 1) + 1, run->total);
}

static ProbeMethod
probe_method (CliMethod method)
{
  switch (method)
    {
    case CLI_METHOD_EXPANSION:
      return PROBE_METHOD_EXPANSION;
    case CLI_METHOD_POST_START:
      return PROBE_METHOD_POST_START;
    case CLI_METHOD_AUTO:
    default:
      return PROBE_METHOD_AUTO;
    }
}

/* host-model's judgement first (it takes @host_model), then one per model of the map. */
static GPtrArray *
plan_judgements (const LibvirtCpuMap *map, const char *accel, CpuDef *host_model,
                 GError **error)
{
  g_autoptr (GPtrArray) judgements = g_ptr_array_new_with_free_func ((GDestroyNotify) judgement_free);
  g_autoptr (GPtrArray) models = libvirt_cpu_map_model_names (map);
  Judgement *host = g_new0 (Judgement, 1);

  host->name = "host-model";
  host->written = node_labels_host_model_definition ();
  host->started = host_model;
  g_ptr_array_add (judgements, host);
  for (guint i = 0; i < models->len; i++)
    {
      Judgement *judgement = g_new0 (Judgement, 1);

      judgement->name = g_ptr_array_index (models, i);
      g_ptr_array_add (judgements, judgement);
      judgement->written = node_labels_model_definition (judgement->name, error);
      if (judgement->written == NULL)
        return NULL;
      judgement->started = libvirt_resolve_cpu_mode (judgement->written, accel, NULL, error);
      if (judgement->started == NULL)
        return NULL;
    }
  return g_steal_pointer (&judgements);
}

static GPtrArray *
compute_labels (const CliOptions *options, const char *accel, const LibvirtCpuMap *map,
                GError **error)
{
  g_autoptr (CliSource) source = cli_source_new (options, error);
  g_autoptr (GPtrArray) judgements = NULL;
  g_autoptr (GPtrArray) startable = g_ptr_array_new ();
  g_autofree char *vendor = NULL;
  LabelsRun run = { .options = options, .map = map };
  NodeLabelFacts facts = { .map = map, .vendor = NULL };
  const Judgement *host;
  CpuDef *host_model;
  GThreadPool *pool;

  if (source == NULL)
    return NULL;
  host_model = node_labels_resolve_host_model (cli_source_qmp (source), accel, map,
                                               !options->no_cache, cli_source_deadline (source),
                                               &vendor, error);
  if (host_model == NULL)
    return NULL;
  judgements = plan_judgements (map, accel, host_model, error);
  if (judgements == NULL)
    return NULL;
  probe_options_init_source (&run.probe, cli_source_qmp (source), cli_source_deadline (source));
  run.probe.accel = accel;
  run.probe.machine = options->machine;
  run.probe.method = probe_method (options->method);
  run.total = judgements->len;
  run.progress = cli_progress_new ("judging models");
  pool = g_thread_pool_new (judge, &run, MAX (g_get_num_processors (), 1), FALSE, NULL);
  for (guint i = 0; i < judgements->len; i++)
    g_thread_pool_push (pool, g_ptr_array_index (judgements, i), NULL);
  g_thread_pool_free (pool, FALSE, TRUE);
  /* GLib keeps a finished pool's threads for later pools; there is none. */
  g_thread_pool_stop_unused_threads ();
  g_clear_pointer (&run.progress, cli_progress_free);

  for (guint i = 0; i < judgements->len; i++)
    {
      Judgement *judgement = g_ptr_array_index (judgements, i);

      if (judgement->error != NULL)
        {
          g_prefix_error (&judgement->error, "%s: ", judgement->name);
          g_propagate_error (error, g_steal_pointer (&judgement->error));
          return NULL;
        }
      if (judgement->pass && judgement->written->mode == CPU_MODE_CUSTOM)
        g_ptr_array_add (startable, (gpointer) judgement->name);
    }
  if (!cli_source_finish (source, error))
    return NULL;
  g_ptr_array_add (startable, NULL);
  host = g_ptr_array_index (judgements, 0);
  facts.startable_models = (const char *const *) startable->pdata;
  facts.host_model = host->pass ? host->started : NULL;
  facts.guest = &host->guest;
  facts.vendor = vendor;
  return node_labels_compute (&facts);
}

/* ---- the probe cache ---- */

static gboolean
keepable (const CliOptions *options)
{
  return !options->no_cache && options->record == NULL && !options->debug;
}

static ProbeCheckKey *
cache_key (const CliOptions *options, const char *accel, const char *cpu_map)
{
  g_autofree char *qemu = qemu_find_binary (options->qemu, NULL);
  g_autofree char *settings = g_strdup_printf ("labels; method %d", options->method);
  ProbeCheckKeyInputs inputs = {
    .definition = "labels: every model of libvirt's CPU map, and host-model",
    .qemu_binary = qemu,
    .accel = accel,
    .machine = options->machine,
    .cpu_map = cpu_map,
    .settings = settings,
  };

  if (qemu == NULL)
    return NULL;
  return probe_check_key_new (&inputs, NULL);
}

/* ---- output ---- */

/* The dot makes nfd-worker skip the temporary file; the rename makes the new file appear
 * whole, as NFD reads features.d at any time. */
static gboolean
write_atomically (const char *path, const char *text, GError **error)
{
  g_autofree char *directory = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *temporary = g_strdup_printf ("%s/.%s.XXXXXX", directory, base);
  gsize length = strlen (text);
  gsize written = 0;
  int fd;

  /* SIGTERM or SIGINT between the temporary file and the rename would leave the
   * temporary behind: the signal cleanup waits until the file is in place or removed. */
  qemu_launch_hold_signal_cleanup ();
  fd = g_mkstemp_full (temporary, O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0)
    goto failed;
  while (written < length)
    {
      ssize_t n = write (fd, text + written, length - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        goto failed;
      written += n;
    }
  if (fsync (fd) < 0 || close (fd) < 0)
    {
      fd = -1;
      goto failed;
    }
  fd = -1;
  if (g_rename (temporary, path) == 0)
    {
      qemu_launch_release_signal_cleanup ();
      return TRUE;
    }
failed:
  {
    int saved = errno;

    if (fd >= 0)
      close (fd);
    if (g_file_test (temporary, G_FILE_TEST_EXISTS))
      g_unlink (temporary);
    qemu_launch_release_signal_cleanup ();
    g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "--output %s: %s", path, g_strerror (saved));
    return FALSE;
  }
}

/* Before any QEMU runs: a file that cannot be written is the user's input. */
static gboolean
check_output (const char *path, GError **error)
{
  g_autofree char *directory = g_path_get_dirname (path);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "--output %s: is a directory", path);
      return FALSE;
    }
  if (g_access (directory, W_OK) != 0)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "--output %s: %s", path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* KubeVirt runs its guests under kvm: labels for another accelerator are for testing. */
static gboolean
check_kvm (GError **error)
{
  int fd = open ("/dev/kvm", O_RDWR | O_CLOEXEC);

  if (fd >= 0)
    {
      close (fd);
      return TRUE;
    }
  g_set_error (error, CLI_ERROR, CLI_ERROR_FAILURE,
               "/dev/kvm: %s: labels are for guests under kvm (--accel tcg labels for testing)",
               g_strerror (errno));
  return FALSE;
}

/* The labels KubeVirt reads from KVM itself, not from QEMU or libvirt. A KVM that cannot
 * answer costs only its own labels, never the run. */
static void
add_kvm_labels (GPtrArray *labels)
{
  g_autoptr (GPtrArray) enlightenments = x86_kvm_hyperv_read (NULL);
  X86KvmTsc tsc;

  /* libvirt leaves its <counter> out when KVM cannot tell the rate; so do the labels. */
  if (x86_kvm_tsc_read (&tsc, NULL))
    node_labels_add_tsc (labels, &tsc);
  /* KubeVirt labels no enlightenment when it cannot read KVM's MSR list. */
  if (enlightenments != NULL)
    node_labels_add_hyperv (labels, enlightenments);
}

static int
run_labels (const CliOptions *options, GError **error)
{
  const char *output = cli_options_command_value (options, "output");
  const char *accel = options->accel != NULL ? options->accel : "kvm";
  const char *cpu_map = options->cpu_map != NULL ? options->cpu_map : LIBVIRT_CPU_MAP_DEFAULT_DIR;
  g_autoptr (LibvirtCpuMap) map = NULL;
  g_autoptr (ProbeCheckKey) key = NULL;
  g_autoptr (ProbeCache) cache = NULL;
  g_autoptr (GPtrArray) labels = NULL;
  g_autofree char *text = NULL;

  if (options->replay != NULL || options->socket != NULL || options->cpuid_dump != NULL
      || options->profiles->len > 0)
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "labels starts QEMU on this node: "
                   "--replay, --socket, --cpuid-dump and --profile do not apply");
      return -1;
    }
  if (output != NULL && !check_output (output, error))
    return -1;
  if (strcmp (accel, "kvm") == 0 && !check_kvm (error))
    return -1;
  map = libvirt_cpu_map_load (cpu_map, error);
  if (map == NULL)
    return -1;

  if (keepable (options))
    {
      json_object *kept;

      key = cache_key (options, accel, cpu_map);
      cache = key != NULL ? probe_cache_new (NULL) : NULL;
      kept = cache != NULL ? probe_check_cache_lookup (cache, key, NULL) : NULL;
      if (kept != NULL)
        labels = node_labels_from_json (json_object_object_get (kept, "labels"));
      json_object_put (kept);
    }
  if (labels == NULL)
    {
      labels = compute_labels (options, accel, map, error);
      if (labels == NULL)
        return -1;
      if (cache != NULL)
        {
          json_object *answer = json_object_new_object ();

          json_object_object_add (answer, "labels", node_labels_to_json (labels));
          /* A cache that cannot be written only costs the next run its probes. */
          probe_check_cache_store (cache, key, answer, NULL);
          json_object_put (answer);
        }
    }
  if (strcmp (accel, "kvm") == 0)
    add_kvm_labels (labels);
  text = node_labels_to_feature_file (labels);
  if (output == NULL)
    return cli_output_print (text, error) ? CLI_EXIT_OK : -1;
  return write_atomically (output, text, error) ? CLI_EXIT_OK : -1;
}

static const CliCommandOption labels_options[] = {
  { "output", "FILE" },
  { NULL, NULL },
};

const CliCommand cli_command_labels = {
  .name = "labels",
  .arg_names = NULL,
  .min_args = 0,
  .max_args = 0,
  .options = labels_options,
  .run = run_labels,
};
