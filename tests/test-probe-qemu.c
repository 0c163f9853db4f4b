/* tests/test-probe-qemu.c — the probe engine against the real QEMU: both strategies agree
 * on every named model under tcg and kvm, the reasons name the right layer, the updated
 * definition passes when fed back, and bad input and old QEMUs fail as the CLI promises. */
#include "tests/test-util.h"
#include "probe/probe.h"
#include "probe/expansion.h"
#include "probe/post-start.h"

#include <string.h>

#define TIMEOUT_MS 60000

/* Every test owns a launch source for the QEMU under test. */
static QmpSource *
launch_source (void)
{
  g_autoptr (GError) error = NULL;
  QmpSource *source = qmp_source_new_launch (test_qemu_binary (), &error);

  if (source == NULL)
    fail_msg ("%s", error->message);
  return source;
}

static ProbeResult *
probe_cpu (QmpSource *source, const char *cpu, const char *accel, const char *machine,
           ProbeMethod method, gboolean strict, GError **error)
{
  g_autoptr (CpuDef) def = cpu_def_from_qemu_cpu_string (cpu, error);
  ProbeOptions options;

  if (def == NULL)
    return NULL;
  probe_options_init_source (&options, source, qmp_deadline_in_ms (TIMEOUT_MS));
  options.accel = accel;
  options.machine = machine;
  options.method = method;
  options.strict = strict;
  return probe_run (def, &options, error);
}

static ProbeResult *
probe_ok (QmpSource *source, const char *cpu, const char *accel, const char *machine)
{
  g_autoptr (GError) error = NULL;
  ProbeResult *result = probe_cpu (source, cpu, accel, machine, PROBE_METHOD_AUTO, FALSE, &error);

  if (result == NULL)
    fail_msg ("probe of %s under %s: %s", cpu, accel, error->message);
  return result;
}

static const ProbeChange *
change_of (GArray *changes, const char *name)
{
  return probe_diff_find (changes, x86_feature_lookup (name));
}

static void
assert_reason (GArray *changes, const char *name, ProbeReason reason)
{
  const ProbeChange *change = change_of (changes, name);

  if (change == NULL)
    fail_msg ("%s is not in the list", name);
  assert_string_equal (probe_reason_name (change->reason), probe_reason_name (reason));
}

/* Under kvm a named model gets KVM's paravirtual defaults, which the plain model lacks. */
static void
test_pentium3_kvm_adds_x2apic (void **state)
{
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (ProbeResult) result = NULL;
  g_autofree char *default_machine = NULL;
  const ProbeChange *change;

  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  default_machine = test_qemu_default_machine ();
  source = launch_source ();
  result = probe_ok (source, "pentium3", "kvm", NULL);
  assert_string_equal (probe_method_name (result->method), "expansion");
  change = change_of (result->diff->added, "x2apic");
  assert_non_null (change);
  assert_string_equal (probe_reason_name (change->reason), "accel-default");
  assert_string_equal (change->detail, "kvm");
  assert_reason (result->diff->added, "kvmclock", PROBE_REASON_ACCEL_DEFAULT);
  /* tcg's vme=off hides vme from the baseline; kvm's guest has it, and that is no addition. */
  assert_null (change_of (result->diff->added, "vme"));
  assert_true (result->diff->pass);
  /* Without --machine the guest's machine type is QEMU's default, not "none". */
  assert_string_equal (result->machine, default_machine);
}

/* The nested KVM here lacks AVX2 although the silicon has it: the layer is KVM. */
static void
test_haswell_kvm_fails_by_kvm (void **state)
{
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (ProbeResult) result = NULL;

  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  source = launch_source ();
  result = probe_ok (source, "Haswell", "kvm", NULL);
  assert_non_null (result->layers);
  if (!result->layers->hardware_known
      || !x86_feature_set_has (&result->layers->hardware, x86_feature_lookup ("avx2")))
    {
      print_message ("SKIP: this host's CPUs lack avx2\n");
      skip ();
    }
  if (x86_feature_set_has (&result->guest, x86_feature_lookup ("avx2")))
    {
      print_message ("SKIP: KVM here gives avx2 to guests\n");
      skip ();
    }
  assert_reason (result->diff->removed, "avx2", PROBE_REASON_KVM);
  assert_false (result->diff->pass);
}

/* Compat properties of an old machine type turn model features off; the default machine
 * type keeps them. */
static void
test_old_machine_type_differs (void **state)
{
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (ProbeResult) old = NULL;
  g_autoptr (ProbeResult) current = NULL;

  TEST_REQUIRE_QEMU ();
  source = launch_source ();
  old = probe_ok (source, "Haswell", "tcg", "pc-i440fx-1.4");
  current = probe_ok (source, "Haswell", "tcg", NULL);
  assert_string_equal (old->machine, "pc-i440fx-1.4");
  assert_reason (old->diff->removed, "arat", PROBE_REASON_MACHINE_TYPE);
  assert_reason (old->diff->removed, "f16c", PROBE_REASON_MACHINE_TYPE);
  assert_reason (old->diff->removed, "rdrand", PROBE_REASON_MACHINE_TYPE);
  assert_reason (old->diff->removed, "abm", PROBE_REASON_MACHINE_TYPE);
  assert_false (x86_feature_set_has (&old->guest, x86_feature_lookup ("arat")));
  assert_null (change_of (current->diff->removed, "arat"));
  assert_null (change_of (current->diff->removed, "abm"));
  assert_true (x86_feature_set_has (&current->guest, x86_feature_lookup ("arat")));
}

static void
assert_updated_passes (QmpSource *source, const char *cpu, const char *accel, const char *machine)
{
  g_autoptr (ProbeResult) first = probe_ok (source, cpu, accel, machine);
  g_autoptr (GError) error = NULL;
  g_autoptr (ProbeResult) again = NULL;
  g_autofree char *updated = cpu_def_to_xml (first->updated);
  g_autoptr (CpuDef) def = cpu_def_from_xml (updated, -1, NULL, &error);
  ProbeOptions options;

  if (def == NULL)
    fail_msg ("updated XML of %s: %s", cpu, error->message);
  probe_options_init_source (&options, source, qmp_deadline_in_ms (TIMEOUT_MS));
  options.accel = accel;
  options.machine = machine;
  options.strict = TRUE;
  again = probe_run (def, &options, &error);
  if (again == NULL)
    fail_msg ("probe of updated %s: %s", cpu, error->message);
  for (guint i = 0; i < again->diff->problems->len; i++)
    print_message ("%s under %s: %s\n", cpu, accel,
                   (char *) g_ptr_array_index (again->diff->problems, i));
  assert_true (again->diff->pass);
  assert_int_equal (again->diff->added->len, 0);
  for (guint i = 0; i < again->diff->removed->len; i++)
    assert_int_equal (g_array_index (again->diff->removed, ProbeChange, i).reason,
                      PROBE_REASON_POLICY);
  assert_true (x86_feature_set_equal (&first->guest, &again->guest));
}

static void
test_updated_passes_tcg (void **state)
{
  g_autoptr (QmpSource) source = NULL;

  TEST_REQUIRE_QEMU ();
  source = launch_source ();
  assert_updated_passes (source, "Haswell,+x2apic,-hle", "tcg", NULL);
  assert_updated_passes (source, "EPYC", "tcg", NULL);
  assert_updated_passes (source, "SandyBridge", "tcg", "pc-i440fx-1.4");
}

static void
test_updated_passes_kvm (void **state)
{
  g_autoptr (QmpSource) source = NULL;

  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  source = launch_source ();
  assert_updated_passes (source, "pentium3", "kvm", NULL);
  assert_updated_passes (source, "Haswell", "kvm", NULL);
  assert_updated_passes (source, "EPYC", "kvm", NULL);
}

static void
test_unknown_model (void **state)
{
  g_autoptr (QmpSource) source = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (ProbeResult) result = NULL;

  TEST_REQUIRE_QEMU ();
  source = launch_source ();
  result = probe_cpu (source, "Pentium9000", "tcg", NULL, PROBE_METHOD_AUTO, FALSE, &error);
  assert_null (result);
  assert_true (g_error_matches (error, PROBE_ERROR, PROBE_ERROR_UNKNOWN_MODEL));
}

static void
test_qemu_older_than_1_5 (void **state)
{
  g_autofree char *path = test_data_path ("qmp-replies/synthetic-qemu-1.4.replies");
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpSource) source = qmp_source_new_replay (path, QMP_REPLAY_AUTO, &error);
  g_autoptr (ProbeResult) result = NULL;

  assert_non_null (source);
  result = probe_cpu (source, "qemu64", "tcg", NULL, PROBE_METHOD_AUTO, FALSE, &error);
  assert_null (result);
  assert_true (g_error_matches (error, PROBE_ERROR, PROBE_ERROR_TOO_OLD));
  assert_string_equal (error->message, "QEMU 1.4.2 is older than 1.5.0: cannot read the guest CPU");
}

/* ---- The two strategies agree on every model ---- */

static json_object *
model_list (QmpSession *session)
{
  g_autoptr (GError) error = NULL;
  json_object *definitions = qmp_session_execute (session, "query-cpu-definitions", NULL,
                                                  qmp_deadline_in_ms (TIMEOUT_MS), &error);

  if (definitions == NULL)
    fail_msg ("query-cpu-definitions: %s", error->message);
  return definitions;
}

/* Only CPUID words: feature-words carries no MSR word, so post-start cannot see those. */
static void
cpuid_words_only (X86FeatureSet *set)
{
  guint n_words;
  const X86FeatureWord *words = x86_feature_words (&n_words);

  for (guint i = 0; i < n_words && i < X86_MAX_WORDS; i++)
    if (words[i].kind != X86_WORD_CPUID)
      set->words[i] = 0;
  x86_feature_set_named_only (set);
}

static char *
set_difference_text (const X86FeatureSet *a, const X86FeatureSet *b)
{
  X86FeatureSet only_a;
  g_autoptr (GPtrArray) names = NULL;

  x86_feature_set_subtract (&only_a, a, b);
  names = x86_feature_set_to_names (&only_a, TRUE);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

static guint
agree_under (const char *accel)
{
  g_autoptr (QmpSource) source = launch_source ();
  QemuLaunchOptions query = { .machine = "pc", .accel = accel };
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpConnection) query_connection = qmp_source_open (source, &query,
                                                                qmp_deadline_in_ms (TIMEOUT_MS),
                                                                &error);
  g_autoptr (ProbeJson) definitions = NULL;
  guint n_compared = 0, n_disagreements = 0;

  if (query_connection == NULL)
    fail_msg ("query-mode QEMU under %s: %s", accel, error->message);
  definitions = model_list (qmp_connection_session (query_connection));

  for (size_t i = 0; i < json_object_array_length (definitions); i++)
    {
      json_object *name_object;
      const char *model;
      ProbeGuestCpu expanded = { 0 }, started = { 0 };
      QemuLaunchOptions post_start = { .machine = "pc", .accel = accel };
      g_autoptr (QmpConnection) started_connection = NULL;
      X86FeatureSet expanded_filtered, started_filtered;

      json_object_object_get_ex (json_object_array_get_idx (definitions, i), "name", &name_object);
      model = json_object_get_string (name_object);
      if (strcmp (model, "base") == 0 || (strcmp (model, "host") == 0 && strcmp (accel, "kvm") != 0))
        continue;

      if (!probe_expansion_read (qmp_connection_session (query_connection), accel, "pc", model,
                                 NULL, &expanded, qmp_deadline_in_ms (TIMEOUT_MS), &error))
        fail_msg ("expansion of %s under %s: %s", model, accel, error->message);
      post_start.cpu = model;
      started_connection = qmp_source_open (source, &post_start, qmp_deadline_in_ms (TIMEOUT_MS),
                                            &error);
      if (started_connection == NULL
          || !probe_post_start_read (qmp_connection_session (started_connection), accel, "pc",
                                     FALSE, &started, qmp_deadline_in_ms (TIMEOUT_MS), &error))
        {
          g_autofree char *why = test_qemu_start_failure (accel, model);

          /* A model this QEMU cannot start here at all has no vCPU to compare with. */
          if (why == NULL)
            fail_msg ("post-start of %s under %s: %s", model, accel, error->message);
          else
            print_message ("NOT COMPARED: %s\n", why);
          g_clear_error (&error);
          probe_guest_cpu_clear (&expanded);
          probe_guest_cpu_clear (&started);
          continue;
        }

      cpuid_words_only (&expanded.guest);
      cpuid_words_only (&started.guest);
      x86_feature_set_subtract (&expanded_filtered, &expanded.expansion, &expanded.guest);
      x86_feature_set_subtract (&started_filtered, &started.expansion, &started.guest);
      cpuid_words_only (&expanded_filtered);
      cpuid_words_only (&started_filtered);
      if (!x86_feature_set_equal (&expanded.guest, &started.guest)
          || !x86_feature_set_equal (&expanded_filtered, &started_filtered))
        {
          g_autofree char *only_expanded = set_difference_text (&expanded.guest, &started.guest);
          g_autofree char *only_started = set_difference_text (&started.guest, &expanded.guest);
          g_autofree char *filtered_expanded = set_difference_text (&expanded_filtered, &started_filtered);
          g_autofree char *filtered_started = set_difference_text (&started_filtered, &expanded_filtered);

          print_message ("%s under %s: guest only by expansion [%s], only post-start [%s]; "
                         "filtered only by expansion [%s], only post-start [%s]\n",
                         model, accel, only_expanded, only_started, filtered_expanded,
                         filtered_started);
          n_disagreements++;
        }
      n_compared++;
      probe_guest_cpu_clear (&expanded);
      probe_guest_cpu_clear (&started);
    }
  print_message ("%u models compared under %s\n", n_compared, accel);
  assert_true (n_compared > 100);
  return n_disagreements;
}

static void
test_methods_agree_tcg (void **state)
{
  TEST_REQUIRE_QEMU ();
  assert_int_equal (agree_under ("tcg"), 0);
}

static void
test_methods_agree_kvm (void **state)
{
  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  assert_int_equal (agree_under ("kvm"), 0);
}

/* Forcing post-start on a new QEMU gives the same answer as expansion, reasons included.
 * Features newer than the QEMU under test (sha512 and sm3 are newer than 7.2) are left out
 * of the -cpu line, as expansion leaves them out of its props: for a named model because
 * the baseline's expansion lists the model's properties, for max because QEMU's refusal of
 * the -cpu line names them. */
static void
test_forced_methods_agree_on_reasons (void **state)
{
  g_autoptr (QmpSource) source = NULL;
  const char *accel;
  const char *const cpus[] = { "Haswell,+x2apic,-hle", "pentium3", "EPYC", "Opteron_G3",
                               "Haswell,+sha512", "max,+sha512,+sm3" };

  TEST_REQUIRE_QEMU ();
  accel = test_kvm_usable () ? "kvm" : "tcg";
  source = launch_source ();
  for (guint i = 0; i < G_N_ELEMENTS (cpus); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ProbeResult) expanded = probe_cpu (source, cpus[i], accel, NULL,
                                                    PROBE_METHOD_EXPANSION, FALSE, &error);
      g_autoptr (ProbeResult) started = probe_cpu (source, cpus[i], accel, NULL,
                                                   PROBE_METHOD_POST_START, FALSE, &error);

      if (expanded == NULL || started == NULL)
        {
          g_auto (GStrv) model = g_strsplit (cpus[i], ",", 2);
          g_autofree char *why = test_qemu_start_failure (accel, model[0]);

          /* A model this QEMU cannot start here at all has no vCPU to compare with. */
          if (why == NULL)
            fail_msg ("%s: %s", cpus[i], error->message);
          else
            print_message ("NOT COMPARED: %s\n", why);
          continue;
        }
      assert_string_equal (probe_method_name (started->method), "post-start");
      for (guint j = 0; j < started->diff->added->len; j++)
        {
          const ProbeChange *change = &g_array_index (started->diff->added, ProbeChange, j);
          const ProbeChange *other = probe_diff_find (expanded->diff->added, change->feature);

          if (other == NULL || other->reason != change->reason)
            fail_msg ("%s: %s added by post-start only or for another reason", cpus[i],
                      change->feature->name);
        }
      for (guint j = 0; j < started->diff->removed->len; j++)
        {
          const ProbeChange *change = &g_array_index (started->diff->removed, ProbeChange, j);
          const ProbeChange *other = probe_diff_find (expanded->diff->removed, change->feature);

          if (other == NULL || other->reason != change->reason)
            fail_msg ("%s: %s removed by post-start only or for another reason", cpus[i],
                      change->feature->name);
        }
      assert_int_equal (expanded->diff->pass, started->diff->pass);
    }
}


/* ---- The CLI contract ---- */

/* vcpuprobe ARGUMENTS..., with the QEMU under test unless it replays a recording. */
static TestRun *
run_cli (const char *const *arguments)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  gboolean replays = FALSE;

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  for (guint i = 0; arguments[i] != NULL; i++)
    replays |= strcmp (arguments[i], "--replay") == 0;
  if (!replays && test_qemu_binary () != NULL)
    {
      g_ptr_array_add (argv, (gpointer) "--qemu");
      g_ptr_array_add (argv, (gpointer) test_qemu_binary ());
    }
  for (guint i = 0; arguments[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) arguments[i]);
  g_ptr_array_add (argv, NULL);
  return test_run ((const char *const *) argv->pdata, NULL);
}

static void
test_cli_unknown_model_exits_2 (void **state)
{
  const char *const arguments[] = { "--accel", "tcg", "expand", "Pentium9000", NULL };
  g_autoptr (TestRun) run = NULL;

  TEST_REQUIRE_QEMU ();
  run = run_cli (arguments);
  assert_int_equal (run->status, 2);
  assert_non_null (strstr (run->err, "Pentium9000"));
}

static void
test_cli_old_qemu_exits_3 (void **state)
{
  g_autofree char *path = test_data_path ("qmp-replies/synthetic-qemu-1.4.replies");
  const char *const arguments[] = { "check", "qemu64", "--replay", path, NULL };
  g_autoptr (TestRun) run = run_cli (arguments);

  assert_int_equal (run->status, 3);
  assert_non_null (strstr (run->err, "QEMU 1.4.2 is older than 1.5.0: cannot read the guest CPU"));
}

static json_object *
json_of_run (const TestRun *run)
{
  json_object *json = json_tokener_parse (run->out);

  if (json == NULL)
    fail_msg ("not JSON: %s", run->out);
  return json;
}

static const char *
member_path (json_object *json, const char *first, const char *second)
{
  json_object *inner = json_object_object_get (json, first);

  return json_object_get_string (second != NULL ? json_object_object_get (inner, second) : inner);
}

/* The updated definition of a failing check passes, strictly, on the same host. A -cpu
 * string is judged by QEMU's model, so its updated definition is fed back as the -cpu line
 * that reproduces the guest (cpu_string); the XML, read as libvirt input, is judged by
 * libvirt's rules instead (tests/test-libvirt-cli.c). */
static void
test_cli_check_updated_passes (void **state)
{
  const char *accel = test_kvm_usable () ? "kvm" : "tcg";
  const char *const first_args[] = { "--accel", accel, "check", "Haswell,+x2apic,-hle",
                                     "--format", "json", NULL };
  g_autoptr (TestRun) first = NULL;
  g_autoptr (ProbeJson) json = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *updated = NULL;

  TEST_REQUIRE_QEMU ();
  first = run_cli (first_args);
  assert_int_equal (first->status, 1);
  json = json_of_run (first);
  assert_string_equal (member_path (json, "verdict", NULL), "fail");
  assert_string_equal (member_path (json, "method", NULL), "expansion");
  assert_string_equal (member_path (json, "qemu", "accel"), accel);
  assert_true (json_object_array_length (json_object_object_get (json, "problems")) > 0);
  dir = test_make_tmpdir ();
  updated = g_strdup (member_path (json, "cpu_string", NULL));
  {
    const char *const again_args[] = { "--accel", accel, "check", updated, "--strict", NULL };
    g_autoptr (TestRun) again = run_cli (again_args);

    if (again->status != 0)
      print_message ("%s%s", again->out, again->err);
    assert_int_equal (again->status, 0);
  }
  test_rmdir_r (dir);
}

/* A post-start QEMU that refuses its -cpu line, recorded and replayed: the replay meets
 * the same refusals (the recording keeps each with QEMU's words), starts again without
 * the features named, and prints what the live run printed. */
static void
test_cli_refused_cpu_replayed (void **state)
{
  g_autofree char *dir = NULL;
  g_autofree char *recording = NULL;
  g_autoptr (TestRun) live = NULL;
  g_autoptr (TestRun) replay = NULL;
  g_autoptr (ProbeJson) live_json = NULL;
  g_autoptr (ProbeJson) replay_json = NULL;

  TEST_REQUIRE_QEMU ();
  dir = test_make_tmpdir ();
  recording = g_build_filename (dir, "refused.replies", NULL);
  {
    const char *const live_args[] = { "--accel", "tcg", "--method", "post-start", "--no-cache",
                                      "--record", recording, "--format", "json", "check",
                                      "max,+sha512,+sm3", NULL };
    live = run_cli (live_args);
  }
  {
    const char *const replay_args[] = { "--replay", recording, "--accel", "tcg", "--method",
                                        "post-start", "--no-cache", "--format", "json", "check",
                                        "max,+sha512,+sm3", NULL };
    replay = run_cli (replay_args);
  }
  if (live->status != replay->status || live->status == 3)
    fail_msg ("live exit %d (%s), replayed exit %d (%s)", live->status, live->err,
              replay->status, replay->err);
  live_json = json_of_run (live);
  replay_json = json_of_run (replay);
  assert_string_equal (json_object_to_json_string (json_object_object_get (live_json, "removed")),
                       json_object_to_json_string (json_object_object_get (replay_json, "removed")));
  assert_string_equal (json_object_to_json_string (json_object_object_get (live_json, "guest")),
                       json_object_to_json_string (json_object_object_get (replay_json, "guest")));
  test_rmdir_r (dir);
}

/* Migration: what a kvm host gave its guest, asked of a destination that only has tcg,
 * fails and names each feature that would differ; replaying the destination's recording
 * with its CPUID dump gives the same answer as its live QEMU. */
static void
test_cli_migration_to_other_host (void **state)
{
  const char *const source_args[] = { "--accel", "kvm", "check", "pentium3", "--format", "json",
                                       NULL };
  g_autoptr (TestRun) source_run = NULL;
  g_autoptr (ProbeJson) source_json = NULL;
  g_autoptr (ProbeJson) live_json = NULL;
  g_autoptr (ProbeJson) replay_json = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *updated = NULL;
  g_autofree char *recording = NULL;
  g_autofree char *dump = NULL;

  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  source_run = run_cli (source_args);
  assert_int_equal (source_run->status, 0);
  source_json = json_of_run (source_run);
  dir = test_make_tmpdir ();
  /* The -cpu line of the updated definition, judged by QEMU's model as the source was. */
  updated = g_strdup (member_path (source_json, "cpu_string", NULL));
  recording = g_build_filename (dir, "destination.replies", NULL);
  dump = g_build_filename (dir, "destination-cpuid.json", NULL);
  {
    const char *const dump_args[] = { "cpuid", "--format", "json", NULL };
    g_autoptr (TestRun) dump_run = run_cli (dump_args);

    assert_int_equal (dump_run->status, 0);
    assert_true (g_file_set_contents (dump, dump_run->out, -1, NULL));
  }
  {
    const char *const live_args[] = { "--accel", "tcg", "--record", recording, "check", updated,
                                      "--format", "json", NULL };
    g_autoptr (TestRun) live = run_cli (live_args);

    assert_int_equal (live->status, 1);
    live_json = json_of_run (live);
  }
  {
    const char *const replay_args[] = { "--replay", recording, "--cpuid-dump", dump, "check",
                                        updated, "--format", "json", NULL };
    g_autoptr (TestRun) replay = run_cli (replay_args);

    if (replay->status != 1)
      print_message ("%s", replay->err);
    assert_int_equal (replay->status, 1);
    replay_json = json_of_run (replay);
  }
  /* The destination lacks kvm's paravirtual features: each is named, with its layer. */
  assert_non_null (strstr (json_object_to_json_string (json_object_object_get (live_json, "problems")),
                           "kvmclock required but removed by accelerator"));
  assert_string_equal (json_object_to_json_string (json_object_object_get (live_json, "problems")),
                       json_object_to_json_string (json_object_object_get (replay_json, "problems")));
  assert_string_equal (json_object_to_json_string (json_object_object_get (live_json, "guest")),
                       json_object_to_json_string (json_object_object_get (replay_json, "guest")));
  test_rmdir_r (dir);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_pentium3_kvm_adds_x2apic),
    cmocka_unit_test (test_haswell_kvm_fails_by_kvm),
    cmocka_unit_test (test_old_machine_type_differs),
    cmocka_unit_test (test_updated_passes_tcg),
    cmocka_unit_test (test_updated_passes_kvm),
    cmocka_unit_test (test_unknown_model),
    cmocka_unit_test (test_qemu_older_than_1_5),
    cmocka_unit_test (test_forced_methods_agree_on_reasons),
    cmocka_unit_test (test_cli_unknown_model_exits_2),
    cmocka_unit_test (test_cli_old_qemu_exits_3),
    cmocka_unit_test (test_cli_check_updated_passes),
    cmocka_unit_test (test_cli_migration_to_other_host),
    cmocka_unit_test (test_cli_refused_cpu_replayed),
    cmocka_unit_test (test_methods_agree_tcg),
    cmocka_unit_test (test_methods_agree_kvm),
  };

  test_skip_program_without_named_qemu ();

  return cmocka_run_group_tests (tests, NULL, NULL);
}
