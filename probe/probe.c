/* probe/probe.c — runs a probe (probe/probe.h): strategy, baseline, layers, comparison. */
#include "probe/probe.h"

#include <string.h>
#include "probe/expansion.h"
#include "probe/post-start.h"

#define BASELINE_ACCEL "tcg"
#define BASELINE_MACHINE "none"
#define DEFAULT_MACHINE "pc"

/* ---- Sessions from a QmpSource ---- */

/* A replay or socket source hands out segments from shared state; a launch starts a new
 * process and may run alongside another. */
static GMutex shared_source_lock;

static QmpConnection *
open_session (const ProbeOptions *options, const QemuLaunchOptions *launch, GError **error)
{
  QmpConnection *connection;

  if (options->open != NULL)
    return options->open (launch, options->open_data, error);
  if (qmp_source_kind (options->source) == QMP_SOURCE_LAUNCH)
    return qmp_source_open (options->source, launch, options->deadline_us, error);
  g_mutex_lock (&shared_source_lock);
  connection = qmp_source_open (options->source, launch, options->deadline_us, error);
  g_mutex_unlock (&shared_source_lock);
  return connection;
}

void
probe_options_init_source (ProbeOptions *options, QmpSource *source, gint64 deadline_us)
{
  memset (options, 0, sizeof *options);
  options->source = source;
  options->qemu_is_local = qmp_source_kind (source) != QMP_SOURCE_REPLAY;
  options->sessions_are_new = qmp_source_kind (source) != QMP_SOURCE_SOCKET;
  options->sessions_answer_at_once = qmp_source_in_process (source);
  options->deadline_us = deadline_us;
}

/* ---- The baseline: the plain model, in a second QEMU running alongside ---- */

typedef struct {
  const ProbeOptions *options;
  const char *model;
  QmpConnection *connection;     /* kept open: a versioned model may still be asked */
  QmpVersion version;
  gboolean expanded;             /* features holds the model's expansion */
  X86FeatureSet features;
  X86FeatureSet properties;      /* when expanded: every feature the model has a property for */
  GError *error;
  GThread *worker;               /* until baseline_wait() */
} Baseline;

static gpointer
baseline_thread (gpointer data)
{
  Baseline *baseline = data;
  QemuLaunchOptions launch = { .machine = BASELINE_MACHINE, .accel = BASELINE_ACCEL };
  QmpSession *session;
  guint64 id;

  baseline->connection = open_session (baseline->options, &launch, &baseline->error);
  if (baseline->connection == NULL)
    return NULL;
  session = qmp_connection_session (baseline->connection);
  baseline->version = *qmp_session_get_version (session);
  /* Older QEMUs cannot expand: the caller starts the bare model instead. */
  if (!qmp_version_at_least (&baseline->version, 2, 9, 0))
    return NULL;
  id = probe_expansion_send (session, baseline->model, &baseline->error);
  if (id != 0)
    baseline->expanded = probe_expansion_collect (session, id, &baseline->features,
                                                  &baseline->properties,
                                                  baseline->options->deadline_us,
                                                  &baseline->error);
  return NULL;
}

static void
baseline_wait (Baseline *baseline)
{
  if (baseline->worker != NULL)
    g_thread_join (g_steal_pointer (&baseline->worker));
}

static void
baseline_clear (Baseline *baseline)
{
  g_clear_pointer (&baseline->connection, qmp_connection_free);
  g_clear_error (&baseline->error);
}

/* ---- The definition as QEMU is asked for it ---- */

/* Optional features are asked for: QEMU keeps them when the host can, which is what
 * optional means; the comparison does not hold their absence against the guest. */
static CpuDef *
definition_for_qemu (const CpuDef *def)
{
  CpuDef *asked = cpu_def_copy (def);

  for (guint i = 0; i < asked->features->len; i++)
    {
      CpuFeature *feature = &g_array_index (asked->features, CpuFeature, i);

      if (feature->policy == CPU_POLICY_OPTIONAL)
        feature->policy = CPU_POLICY_REQUIRE;
    }
  return asked;
}

static gboolean
is_named_model (const char *model)
{
  return strcmp (model, "host") != 0 && strcmp (model, "max") != 0;
}

static json_object *
expansion_props (const CpuDef *asked, const char *model)
{
  json_object *props = cpu_def_expansion_props (asked);

  if (json_object_object_length (props) == 0)
    {
      json_object_put (props);
      return NULL;
    }
  return props;
}

/* ---- The main session ---- */

typedef struct {
  QmpConnection *connection;
  ProbeMethod method;
  ProbeGuestCpu cpu;
  QmpVersion version;
  char *package;
  char *launched_machine;
} Guest;

static void
guest_clear (Guest *guest)
{
  g_clear_pointer (&guest->connection, qmp_connection_free);
  probe_guest_cpu_clear (&guest->cpu);
  g_clear_pointer (&guest->package, g_free);
  g_clear_pointer (&guest->launched_machine, g_free);
}

static gboolean
open_guest_session (const ProbeOptions *options, const char *cpu_string, Guest *guest,
                    GError **error)
{
  QemuLaunchOptions launch = {
    .machine = guest->launched_machine,
    .accel = options->accel,
    .cpu = cpu_string,
  };
  QmpSession *session;

  g_clear_pointer (&guest->connection, qmp_connection_free);
  guest->connection = open_session (options, &launch, error);
  if (guest->connection == NULL)
    return FALSE;
  session = qmp_connection_session (guest->connection);
  guest->version = *qmp_session_get_version (session);
  g_free (guest->package);
  guest->package = g_strdup (qmp_session_package (session));
  return TRUE;
}

/* Leaves out of @settable every feature of @unknown, noting it in @dropped. TRUE when
 * any was there to leave out. */
static gboolean
drop_features (CpuDef *settable, const X86FeatureSet *unknown, X86FeatureSet *dropped)
{
  gboolean any = FALSE;

  for (guint i = settable->features->len; i > 0; i--)
    {
      const X86Feature *feature = g_array_index (settable->features, CpuFeature, i - 1).feature;

      if (x86_feature_set_has (unknown, feature) && !x86_feature_set_has (dropped, feature))
        {
          cpu_def_remove_feature (settable, feature);
          x86_feature_set_add (dropped, feature);
          any = TRUE;
        }
    }
  return any;
}

/* Starts the post-start QEMU with @asked on -cpu, less the features this QEMU has no
 * property for: a QEMU refuses to start over one, where the expansion strategy asks
 * again without it, and both must report such a feature removed by QEMU. A QEMU >= 2.9
 * lists the model's properties in the baseline's expansion, so they are left out from
 * the start. Otherwise (an older QEMU, or host and max, which have no baseline) a QEMU
 * names the first property it lacks only by refusing the -cpu line: each refusal that
 * names a requested feature costs one more start without it, so a definition with
 * several features newer than the QEMU still gets a guest CPU, as under expansion. */
static gboolean
start_post_start (const ProbeOptions *options, const CpuDef *asked, Baseline *baseline,
                  Guest *guest, GError **error)
{
  g_autoptr (CpuDef) settable = cpu_def_copy (asked);
  g_autoptr (ProbeJson) props = expansion_props (asked, NULL);

  x86_feature_set_clear (&guest->cpu.unknown_to_qemu);
  if (props != NULL)
    {
      baseline_wait (baseline);
      if (baseline->expanded)
        {
          X86FeatureSet unknown;
          guint n_features;
          const X86Feature *features = x86_features (&n_features);

          x86_feature_set_clear (&unknown);
          for (guint i = 0; i < n_features; i++)
            if (x86_feature_qemu_property (&features[i]) != NULL
                && !x86_feature_set_has (&baseline->properties, &features[i]))
              x86_feature_set_add (&unknown, &features[i]);
          drop_features (settable, &unknown, &guest->cpu.unknown_to_qemu);
        }
    }
  for (;;)
    {
      g_autofree char *cpu_string = cpu_def_to_qemu_cpu_string (settable, TRUE);
      g_autoptr (GError) start_error = NULL;
      X86FeatureSet refused;

      if (open_guest_session (options, cpu_string, guest, &start_error))
        return TRUE;
      /* Every pass drops a feature of the definition, so this ends. */
      x86_feature_set_clear (&refused);
      if (!g_error_matches (start_error, QEMU_LAUNCH_ERROR, QEMU_LAUNCH_ERROR_EXITED)
          || !probe_post_start_refused_features (start_error->message, &refused)
          || !drop_features (settable, &refused, &guest->cpu.unknown_to_qemu))
        {
          g_propagate_error (error, g_steal_pointer (&start_error));
          return FALSE;
        }
    }
}

static gboolean
read_guest (const ProbeOptions *options, const CpuDef *asked, const char *model,
            Baseline *baseline, Guest *guest, GError **error)
{
  gboolean started_with_cpu = options->method == PROBE_METHOD_POST_START;

  guest->launched_machine = g_strdup (options->machine != NULL ? options->machine
                                                               : DEFAULT_MACHINE);
  if (started_with_cpu)
    {
      if (!start_post_start (options, asked, baseline, guest, error))
        return FALSE;
    }
  else if (!open_guest_session (options, NULL, guest, error))
    return FALSE;
  if (!probe_method_for_version (&guest->version, options->method, &guest->method, error))
    return FALSE;

  if (guest->method == PROBE_METHOD_EXPANSION)
    {
      g_autoptr (ProbeJson) props = expansion_props (asked, model);

      return probe_expansion_read (qmp_connection_session (guest->connection), options->accel,
                                   guest->launched_machine, model, props, &guest->cpu,
                                   options->deadline_us, error);
    }
  if (!started_with_cpu && !start_post_start (options, asked, baseline, guest, error))
    return FALSE;
  return probe_post_start_read (qmp_connection_session (guest->connection), options->accel,
                                guest->launched_machine,
                                qmp_version_at_least (&guest->version, 2, 9, 0), &guest->cpu,
                                options->deadline_us, error)
         && probe_check_model (guest->cpu.models, model, error);
}

/* The plain model on a QEMU too old to expand: a tcg post-start of the bare model on the
 * guest's machine type (feature-words ∪ filtered-features is what the model asked for). */
static gboolean
read_old_baseline (const ProbeOptions *options, const char *model, const char *machine,
                   X86FeatureSet *features, GError **error)
{
  QemuLaunchOptions launch = { .machine = machine, .accel = BASELINE_ACCEL, .cpu = model };
  g_autoptr (QmpConnection) connection = open_session (options, &launch, error);
  ProbeGuestCpu cpu = { 0 };
  gboolean ok;

  if (connection == NULL)
    return FALSE;
  ok = probe_post_start_read (qmp_connection_session (connection), BASELINE_ACCEL, machine,
                              FALSE, &cpu, options->deadline_us, error);
  *features = cpu.expansion;
  probe_guest_cpu_clear (&cpu);
  return ok;
}

/* ---- Many CPUs, each started paused ---- */

void
probe_started_cpu_free (ProbeStartedCpu *started)
{
  if (started == NULL)
    return;
  g_free (started->cpu);
  g_clear_error (&started->error);
  g_free (started->machine);
  g_free (started);
}

/* Whether @replies recorded a QEMU started with -cpu @cpu under @accel. Only a session
 * whose metadata names that -cpu counts: a file without metadata, or with one session,
 * is served whole whatever is asked, which would answer a post-start probe with another
 * conversation's replies. */
static gboolean
replay_has_cpu_session (QmpReplies *replies, const char *accel, const char *cpu)
{
  for (guint i = 0; i < qmp_replies_n_segments (replies); i++)
    {
      json_object *launch = qmp_replies_segment_launch (replies, i);
      json_object *recorded_cpu = NULL, *recorded_accel = NULL;

      if (launch == NULL || !json_object_object_get_ex (launch, "cpu", &recorded_cpu)
          || g_strcmp0 (json_object_get_string (recorded_cpu), cpu) != 0)
        continue;
      if (json_object_object_get_ex (launch, "accel", &recorded_accel)
          && recorded_accel != NULL
          && g_strcmp0 (json_object_get_string (recorded_accel), accel) != 0)
        continue;
      return TRUE;
    }
  return FALSE;
}

static void
start_one_cpu (const ProbeOptions *options, ProbeStartedCpu *started)
{
  const char *machine = options->machine != NULL ? options->machine : DEFAULT_MACHINE;
  QemuLaunchOptions launch = { .machine = machine, .accel = options->accel, .cpu = started->cpu };
  g_autoptr (QmpConnection) connection = NULL;
  ProbeGuestCpu cpu = { 0 };
  QmpSource *source = options->open == NULL ? options->source : NULL;

  if (!options->sessions_are_new)
    {
      g_set_error (&started->error, PROBE_ERROR, PROBE_ERROR_BAD_INPUT,
                   "a running QEMU cannot be started again with -cpu %s", started->cpu);
      return;
    }
  if (source != NULL && qmp_source_kind (source) == QMP_SOURCE_REPLAY
      && !replay_has_cpu_session (qmp_source_replies (source), options->accel, started->cpu))
    {
      g_set_error (&started->error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT,
                   "recording %s has no post-start session of -cpu %s under %s",
                   qmp_source_describe (source), started->cpu,
                   options->accel != NULL ? options->accel : "any accelerator");
      return;
    }
  connection = open_session (options, &launch, &started->error);
  if (connection == NULL)
    return;
  if (probe_post_start_read (qmp_connection_session (connection), options->accel, machine, FALSE,
                             &cpu, options->deadline_us, &started->error))
    {
      started->guest = cpu.guest;
      started->filtered_known = !cpu.filtered_derived;
      x86_feature_set_subtract (&started->filtered, &cpu.expansion, &cpu.guest);
      started->machine = g_steal_pointer (&cpu.machine);
    }
  probe_guest_cpu_clear (&cpu);
}

typedef struct {
  const ProbeOptions *options;
  GPtrArray *started;
  gint next;
  gint done;
} StartQueue;

static gpointer
start_worker (gpointer data)
{
  StartQueue *queue = data;
  guint index;

  while ((index = (guint) g_atomic_int_add (&queue->next, 1)) < queue->started->len)
    {
      const ProbeOptions *options = queue->options;
      guint done;

      start_one_cpu (options, queue->started->pdata[index]);
      done = (guint) g_atomic_int_add (&queue->done, 1) + 1;
      if (options->progress != NULL)
        options->progress (done, queue->started->len, options->progress_data);
    }
  return NULL;
}

GPtrArray *
probe_start_cpus (const ProbeOptions *options, const char *const *cpus)
{
  GPtrArray *started = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_started_cpu_free);
  StartQueue queue = { options, started, 0, 0 };
  gboolean parallel = options->open != NULL
                      || qmp_source_kind (options->source) == QMP_SOURCE_LAUNCH;
  /* QEMU's start is CPU work: more at once than processors only makes each slower. */
  guint n_workers = parallel ? CLAMP (g_get_num_processors (), 2, 8) : 1;
  g_autoptr (GPtrArray) workers = g_ptr_array_new ();

  for (guint i = 0; cpus[i] != NULL; i++)
    {
      ProbeStartedCpu *entry = g_new0 (ProbeStartedCpu, 1);

      entry->cpu = g_strdup (cpus[i]);
      g_ptr_array_add (started, entry);
    }
  n_workers = MIN (n_workers, started->len);
  if (n_workers <= 1)
    {
      start_worker (&queue);
      return started;
    }
  for (guint i = 0; i < n_workers; i++)
    g_ptr_array_add (workers, g_thread_new ("post-start", start_worker, &queue));
  for (guint i = 0; i < workers->len; i++)
    g_thread_join (workers->pdata[i]);
  return started;
}

/* ---- The result ---- */

void
probe_result_free (ProbeResult *result)
{
  if (result == NULL)
    return;
  g_free (result->binary);
  g_free (result->package);
  g_free (result->accel);
  g_free (result->machine);
  cpu_def_free (result->requested);
  g_free (result->guest_model);
  probe_diff_free (result->diff);
  cpu_def_free (result->updated);
  g_free (result->cpu_string);
  g_free (result->supported_vendor);
  probe_host_layers_free (result->layers);
  g_free (result);
}

static void
policy_sets (const CpuDef *def, ProbeCompareInput *input)
{
  x86_feature_set_clear (&input->on);
  x86_feature_set_clear (&input->off);
  x86_feature_set_clear (&input->forbidden);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORCE, &input->on);
  cpu_def_add_features_with_policy (def, CPU_POLICY_REQUIRE, &input->on);
  cpu_def_optional_features (def, &input->optional);
  cpu_def_add_features_with_policy (def, CPU_POLICY_DISABLE, &input->off);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORBID, &input->off);
  cpu_def_add_features_with_policy (def, CPU_POLICY_FORBID, &input->forbidden);
}

static CpuDef *
updated_definition (const CpuDef *def, const char *guest_model, const ProbeDiff *diff,
                    const X86FeatureSet *guest)
{
  CpuDef *updated = cpu_def_copy (def);

  if (updated->mode == CPU_MODE_CUSTOM)
    {
      g_free (updated->model);
      updated->model = g_strdup (guest_model);
    }
  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *feature = &g_array_index (def->features, CpuFeature, i);

      if (feature->policy == CPU_POLICY_OPTIONAL)
        cpu_def_set_policy (updated, feature->feature,
                            x86_feature_set_has (guest, feature->feature)
                            ? CPU_POLICY_REQUIRE : CPU_POLICY_DISABLE);
    }
  for (guint i = 0; i < diff->added->len; i++)
    cpu_def_set_policy (updated, g_array_index (diff->added, ProbeChange, i).feature,
                        CPU_POLICY_REQUIRE);
  for (guint i = 0; i < diff->removed->len; i++)
    {
      const ProbeChange *change = &g_array_index (diff->removed, ProbeChange, i);
      CpuPolicy policy;

      if (!cpu_def_get_policy (updated, change->feature, &policy) || policy != CPU_POLICY_FORBID)
        cpu_def_set_policy (updated, change->feature, CPU_POLICY_DISABLE);
    }
  updated->check = CPU_CHECK_FULL;
  updated->fallback = CPU_FALLBACK_FORBID;
  return updated;
}

/* Under kvm the layers explain what was filtered and name what the guest owes to KVM
 * rather than the silicon (x86/kvm-emulated.h); tcg owes nothing to either. */
static gboolean
layers_needed (const ProbeCompareInput *input)
{
  return g_strcmp0 (input->accel, "kvm") == 0;
}

static ProbeHostLayers *
read_layers (const ProbeOptions *options)
{
  g_autoptr (GError) error = NULL;
  ProbeHostLayers *layers = probe_host_layers_read (options->cpuid_dump, options->qemu_is_local,
                                                    &error);

  /* Unreadable layers make reasons "unknown"; they never hide the guest CPU. */
  if (layers == NULL)
    layers = probe_host_layers_new_unknown (error->message);
  return layers;
}

/* The versioned model behind @model, when it is not v1 (which is what "none" expands). */
static const char *
versioned_other_than_v1 (GPtrArray *models, const char *model)
{
  const ProbeCpuModel *entry = models != NULL ? probe_cpu_models_find (models, model) : NULL;
  g_autofree char *v1 = g_strdup_printf ("%s-v1", model);

  if (entry == NULL || entry->alias_of == NULL || strcmp (entry->alias_of, v1) == 0)
    return NULL;
  return entry->alias_of;
}

static gboolean
settle_baseline (const ProbeOptions *options, Baseline *baseline, Guest *guest,
                 const char *model, ProbeCompareInput *input, GError **error)
{
  const char *versioned = versioned_other_than_v1 (guest->cpu.models, model);

  if (baseline->expanded)
    {
      input->model = baseline->features;
      probe_compare_baseline_blind (BASELINE_ACCEL, &input->baseline_blind);
      if (versioned != NULL)
        {
          QmpSession *session = qmp_connection_session (baseline->connection);
          guint64 id = probe_expansion_send (session, versioned, error);

          if (id == 0 || !probe_expansion_collect (session, id, &input->versioned, NULL,
                                                   options->deadline_us, error))
            return FALSE;
          input->versioned_model = versioned;
        }
      return TRUE;
    }
  if (baseline->connection != NULL)
    {
      /* Too old to expand: the bare model, started under tcg on the guest's machine. */
      g_clear_pointer (&baseline->connection, qmp_connection_free);
      if (!read_old_baseline (options, model, guest->cpu.machine, &input->model, error))
        return FALSE;
      probe_compare_baseline_blind (BASELINE_ACCEL, &input->baseline_blind);
      return TRUE;
    }
  return FALSE;
}

/* No second QEMU to ask (a socket, a recording without that session): the guest's own
 * expansion stands in for the model, and whatever the accelerator's defaults decide is
 * taken as unknowable rather than guessed. */
static void
baseline_from_guest (const char *accel, const ProbeGuestCpu *cpu, ProbeCompareInput *input)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  x86_feature_set_subtract (&input->model, &cpu->expansion, &input->on);
  x86_feature_set_subtract (&input->model, &input->model, &input->optional);
  x86_feature_set_clear (&input->baseline_blind);
  for (guint i = 0; i < n_features; i++)
    if (probe_compare_accel_default (accel, &features[i], NULL))
      x86_feature_set_add (&input->baseline_blind, &features[i]);
}

ProbeResult *
probe_run (const CpuDef *def, const ProbeOptions *options, GError **error)
{
  g_autoptr (CpuDef) asked = NULL;
  g_autoptr (ProbeResult) result = NULL;
  const char *model = cpu_def_qemu_model (def);
  Baseline baseline = { .options = options, .model = model };
  gboolean baseline_started = FALSE;
  Guest guest = { 0 };
  ProbeCompareInput input = { 0 };
  g_autoptr (GError) guest_error = NULL;
  gboolean ok = FALSE;

  if (model == NULL)
    {
      g_set_error (error, PROBE_ERROR, PROBE_ERROR_BAD_INPUT,
                   "CPU definition of mode %s: no model QEMU can create",
                   cpu_mode_name (def->mode));
      return NULL;
    }
  asked = definition_for_qemu (def);

  if (is_named_model (model) && options->sessions_are_new
      && !(g_strcmp0 (options->accel, BASELINE_ACCEL) == 0
           && g_strcmp0 (options->machine, BASELINE_MACHINE) == 0))
    {
      if (options->sessions_answer_at_once)
        baseline_thread (&baseline);
      else
        baseline.worker = g_thread_new ("baseline", baseline_thread, &baseline);
      baseline_started = TRUE;
    }

  ok = read_guest (options, asked, model, &baseline, &guest, &guest_error);
  baseline_wait (&baseline);
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&guest_error));
      goto out;
    }

  /* From here on, every early exit is a failure: ok turns TRUE only at the end. */
  ok = FALSE;
  result = g_new0 (ProbeResult, 1);
  policy_sets (def, &input);
  input.accel = options->accel;
  input.machine = guest.cpu.machine;
  input.strict = options->strict;
  if (is_named_model (model))
    {
      /* Only a recording without the baseline's session leaves it unknown: a baseline
       * QEMU that crashed or hung is a QEMU failure, not an answer with fewer reasons. */
      if (baseline_started && baseline.error != NULL
          && (baseline.connection != NULL
              || !g_error_matches (baseline.error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT)))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&baseline.error),
                                      "baseline of CPU model %s: ", model);
          goto out;
        }
      result->baseline_known = baseline_started
        && settle_baseline (options, &baseline, &guest, model, &input, error);
      if (!result->baseline_known && error != NULL && *error != NULL)
        goto out;
      if (!result->baseline_known && g_strcmp0 (options->accel, BASELINE_ACCEL) == 0
          && g_strcmp0 (options->machine, BASELINE_MACHINE) == 0
          && guest.method == PROBE_METHOD_EXPANSION)
        {
          /* tcg on "none" is the baseline itself; only the definition's props differ. */
          g_autoptr (GError) local_error = NULL;
          QmpSession *session = qmp_connection_session (guest.connection);
          guint64 id = probe_expansion_send (session, model, &local_error);

          result->baseline_known = id != 0
            && probe_expansion_collect (session, id, &input.model, NULL, options->deadline_us,
                                        &local_error);
          if (!result->baseline_known)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              goto out;
            }
          probe_compare_baseline_blind (BASELINE_ACCEL, &input.baseline_blind);
        }
      if (!result->baseline_known)
        baseline_from_guest (options->accel, &guest.cpu, &input);
    }
  else
    {
      /* host and max are what they expand to; only filtering can take from them. */
      input.model = guest.cpu.expansion;
      result->baseline_known = TRUE;
    }

  input.expansion = guest.cpu.expansion;
  if (guest.cpu.filtered_derived)
    {
      X86FeatureSet requested;

      x86_feature_set_union (&requested, &input.model, &input.on);
      x86_feature_set_union (&requested, &requested, &input.optional);
      x86_feature_set_subtract (&requested, &requested, &input.off);
      x86_feature_set_union (&input.expansion, &input.expansion, &requested);
    }
  input.guest = guest.cpu.guest;
  input.supported_known = guest.cpu.supported_known;
  input.supported = guest.cpu.supported;
  input.unknown_to_qemu = guest.cpu.unknown_to_qemu;
  x86_feature_set_named_only (&input.model);
  x86_feature_set_named_only (&input.versioned);
  x86_feature_set_named_only (&input.expansion);
  x86_feature_set_named_only (&input.guest);

  if (layers_needed (&input))
    result->layers = read_layers (options);
  input.layers = result->layers;
  probe_compare_filter_no_auto (&input);
  probe_compare_refuse_msr_bits (&input);

  result->diff = probe_compare (&input);
  result->binary = g_strdup (qmp_connection_process (guest.connection) != NULL
                             ? qemu_process_binary (qmp_connection_process (guest.connection))
                             : NULL);
  result->version = guest.version;
  result->package = g_strdup (guest.package);
  result->accel = g_strdup (options->accel);
  result->machine = g_strdup (guest.cpu.machine);
  result->method = guest.method;
  result->requested = cpu_def_copy (def);
  result->guest_model = g_strdup (is_named_model (model) && guest.cpu.models != NULL
                                  && probe_cpu_models_find (guest.cpu.models, model) != NULL
                                  && probe_cpu_models_find (guest.cpu.models, model)->alias_of != NULL
                                  ? probe_cpu_models_find (guest.cpu.models, model)->alias_of
                                  : model);
  result->guest = input.guest;
  x86_feature_set_subtract (&result->filtered, &input.expansion, &input.guest);
  result->supported_known = input.supported_known;
  result->supported = input.supported;
  result->supported_vendor = g_strdup (guest.cpu.supported_vendor);
  result->unknown_to_qemu = input.unknown_to_qemu;
  result->updated = updated_definition (def, result->guest_model, result->diff, &input.guest);
  result->cpu_string = cpu_def_to_qemu_cpu_string (result->updated,
                                                   !qmp_version_at_least (&guest.version, 2, 9, 0));
  ok = TRUE;

out:
  baseline_clear (&baseline);
  guest_clear (&guest);
  return ok ? g_steal_pointer (&result) : NULL;
}

/* ---- JSON ---- */

static json_object *
features_json (const CpuDef *def)
{
  json_object *features = json_object_new_object ();

  for (guint i = 0; i < def->features->len; i++)
    {
      const CpuFeature *feature = &g_array_index (def->features, CpuFeature, i);

      json_object_object_add (features, feature->feature->name,
                              json_object_new_string (cpu_policy_name (feature->policy)));
    }
  return features;
}

static json_object *
definition_json (const CpuDef *def)
{
  json_object *object = json_object_new_object ();

  json_object_object_add (object, "model", def->model != NULL ? json_object_new_string (def->model)
                                                              : NULL);
  json_object_object_add (object, "features", features_json (def));
  json_object_object_add (object, "definition", cpu_def_to_json (def));
  return object;
}

static json_object *
string_or_null (const char *text)
{
  return text != NULL ? json_object_new_string (text) : NULL;
}

/* Where the KVM layer came from: this host's ioctl, or the dump that stands for the host. */
static json_object *
layers_kvm_source (const ProbeHostLayers *layers)
{
  g_autofree char *from_dump = NULL;

  if (!layers->kvm_known)
    return json_object_new_string ("unknown");
  if (layers->kvm_origin == NULL || strcmp (layers->kvm_origin, "/dev/kvm") == 0)
    return json_object_new_string ("KVM_GET_SUPPORTED_CPUID");
  from_dump = g_strdup_printf ("from the dump %s", layers->kvm_origin);
  return json_object_new_string (from_dump);
}

static json_object *
layers_json (const ProbeHostLayers *layers)
{
  json_object *object = json_object_new_object ();

  if (layers == NULL)
    {
      json_object_object_add (object, "read", json_object_new_boolean (FALSE));
      return object;
    }
  json_object_object_add (object, "read", json_object_new_boolean (TRUE));
  json_object_object_add (object, "hardware", string_or_null (layers->hardware_known
                                                              ? layers->hardware_origin
                                                              : "unknown"));
  json_object_object_add (object, "kvm", layers_kvm_source (layers));
  if (!layers->kvm_known && layers->kvm_unknown_reason != NULL)
    json_object_object_add (object, "kvm_unknown_reason",
                            json_object_new_string (layers->kvm_unknown_reason));
  return object;
}

json_object *
probe_result_to_json (const ProbeResult *result)
{
  json_object *root = json_object_new_object ();
  json_object *qemu = json_object_new_object ();
  json_object *requested = json_object_new_object ();
  json_object *guest = json_object_new_object ();
  json_object *problems = json_object_new_array ();
  json_object *xml = json_object_new_object ();
  g_autofree char *version = qmp_version_to_string (&result->version);
  g_autofree char *original_xml = cpu_def_to_xml (result->requested);
  g_autofree char *updated_xml = cpu_def_to_xml (result->updated);

  json_object_object_add (qemu, "binary", string_or_null (result->binary));
  json_object_object_add (qemu, "version", json_object_new_string (version));
  json_object_object_add (qemu, "package", string_or_null (result->package));
  json_object_object_add (qemu, "accel", string_or_null (result->accel));
  json_object_object_add (qemu, "machine", string_or_null (result->machine));
  json_object_object_add (root, "qemu", qemu);
  json_object_object_add (root, "method", json_object_new_string (probe_method_name (result->method)));

  json_object_object_add (requested, "model", string_or_null (result->requested->model));
  json_object_object_add (requested, "features", features_json (result->requested));
  json_object_object_add (root, "requested", requested);

  json_object_object_add (guest, "model", string_or_null (result->guest_model));
  json_object_object_add (guest, "enabled", x86_feature_set_to_names_json (&result->guest));
  json_object_object_add (guest, "disabled", x86_feature_set_to_names_json (&result->filtered));
  json_object_object_add (root, "guest", guest);

  json_object_object_add (root, "added", probe_changes_to_json (result->diff->added));
  json_object_object_add (root, "removed", probe_changes_to_json (result->diff->removed));
  json_object_object_add (root, "emulated", probe_changes_to_json (result->diff->emulated));
  json_object_object_add (root, "verdict",
                          json_object_new_string (result->diff->pass ? "pass" : "fail"));
  for (guint i = 0; i < result->diff->problems->len; i++)
    json_object_array_add (problems,
                           json_object_new_string (g_ptr_array_index (result->diff->problems, i)));
  json_object_object_add (root, "problems", problems);
  json_object_object_add (root, "baseline_known", json_object_new_boolean (result->baseline_known));

  json_object_object_add (root, "original", definition_json (result->requested));
  json_object_object_add (root, "updated", definition_json (result->updated));
  json_object_object_add (xml, "original", json_object_new_string (original_xml));
  json_object_object_add (xml, "updated", json_object_new_string (updated_xml));
  json_object_object_add (root, "xml", xml);
  json_object_object_add (root, "cpu_string", string_or_null (result->cpu_string));
  json_object_object_add (root, "layers", layers_json (result->layers));
  return root;
}
