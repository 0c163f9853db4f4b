/* tests/test-profile-qemu.c — host profiles against the real QEMU: random definitions
 * answered from a profile of this host equal the live answers (the JSON, less where the
 * answer came from), never differ, and are answered whenever the profile records what
 * KVM does with IA32_ARCH_CAPABILITIES (kvm guests with arch-capabilities included);
 * `profile --record` replayed with --replay makes the same profile; a bad profile is one
 * error line, exit 2. The draws are seeded: the seed is printed, and
 * VCPUPROBE_TEST_SEED=N replays it (VCPUPROBE_TEST_DRAWS sets how many). */
#include <string.h>
#include "probe/qemu-info.h"
#include "x86/feature-table.h"
#include "test-util.h"

static char *work;
static char *profile;       /* made once, by the first test that needs it */

static TestRun *
run_argv (gboolean on_test_qemu, GPtrArray *args)
{
  g_ptr_array_add (args, NULL);
  return test_run_vcpuprobe (on_test_qemu, "120", (const char *const *) args->pdata);
}

static const char *
the_profile (void)
{
  if (profile == NULL)
    {
      g_autofree char *path = g_build_filename (work, "this-host.json", NULL);
      g_autoptr (TestRun) made = test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
        "profile", "--output", path, NULL });

      test_assert_exit (made, 0);
      profile = g_steal_pointer (&path);
    }
  return profile;
}

/* What may differ between a live answer and one from the profile: where it came from.
 * The layers name the profile's dump where a live run names the hardware and /dev/kvm. */
static void
strip_provenance (json_object *answer, const char *profile_path)
{
  json_object *layers = NULL, *qemu = NULL;
  g_autofree char *dump_words = g_strdup_printf (" from the dump %s", profile_path);
  g_autofree char *of_dump_words = g_strdup_printf (" of %s", profile_path);
  const char *removed_keys[] = { "profile", "host", "made" };

  for (guint i = 0; i < G_N_ELEMENTS (removed_keys); i++)
    json_object_object_del (answer, removed_keys[i]);
  /* Which option named the QEMU: a live run here names it, a profile is its host's. */
  if (json_object_object_get_ex (answer, "qemu", &qemu) && qemu != NULL)
    json_object_object_del (qemu, "sources");
  if (json_object_object_get_ex (answer, "layers", &layers) && layers != NULL)
    {
      json_object_object_del (layers, "hardware");
      json_object_object_del (layers, "kvm");
    }
  for (const char *const *member = (const char *const[]) { "removed", "added", "emulated", NULL };
       *member != NULL; member++)
    {
      json_object *changes = NULL;

      if (!json_object_object_get_ex (answer, *member, &changes) || changes == NULL)
        continue;
      for (guint i = 0; i < json_object_array_length (changes); i++)
        {
          json_object *change = json_object_array_get_idx (changes, i);
          json_object *detail = NULL;

          if (json_object_object_get_ex (change, "detail", &detail) && detail != NULL)
            {
              g_autoptr (GString) text = g_string_new (json_object_get_string (detail));

              g_string_replace (text, dump_words, "", 0);
              g_string_replace (text, of_dump_words, "", 0);
              json_object_object_add (change, "detail", json_object_new_string (text->str));
            }
        }
    }
}

/* The features the profiled QEMU can switch (its first session's "features"), and those
 * whose being off clears others (the profile's "dependents"): toggles are drawn from both,
 * so that the dependency pass is exercised. */
static void
profiled_features (const char *path, GPtrArray *features, GPtrArray *prerequisites)
{
  g_autofree char *text = NULL;
  g_autoptr (ProbeJson) root = NULL;
  json_object *sessions, *names = NULL, *dependents = NULL;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  root = test_parse_json (text);
  sessions = test_json_member (root, "sessions", json_type_array);
  for (guint s = 0; names == NULL && s < json_object_array_length (sessions); s++)
    json_object_object_get_ex (json_object_array_get_idx (sessions, s), "features", &names);
  assert_non_null (names);
  for (guint i = 0; i < json_object_array_length (names); i++)
    g_ptr_array_add (features, g_strdup (json_object_get_string (json_object_array_get_idx (names, i))));
  dependents = test_json_member (root, "dependents", json_type_object);
  {
    json_object_object_foreach (dependents, name, cleared)
      {
        (void) cleared;
        g_ptr_array_add (prerequisites, g_strdup (name));
      }
  }
  assert_true (prerequisites->len > 0);
}

/* "MODEL,+a,-b,...": 0 to 4 toggles, each a feature or (one in three) a prerequisite. */
static char *
draw_cpu (GRand *rand, const char *model, GPtrArray *features, GPtrArray *prerequisites)
{
  GString *cpu = g_string_new (model);
  guint n_toggles = (guint) g_rand_int_range (rand, 0, 5);

  for (guint t = 0; t < n_toggles; t++)
    {
      GPtrArray *from = g_rand_int_range (rand, 0, 3) == 0 ? prerequisites : features;

      g_string_append_printf (cpu, ",%c%s", g_rand_boolean (rand) ? '+' : '-',
                              (const char *) g_ptr_array_index (from, g_rand_int_range (rand, 0, (gint32) from->len)));
    }
  return g_string_free (cpu, FALSE);
}

/* A libvirt <cpu> for @model with 0 to 4 features (libvirt's names) under drawn policies,
 * check='full' or 'partial', fallback forbid or allow, written to a file in @dir; the path,
 * newly allocated. libvirt's rules judge it as they would on the host. */
static char *
draw_xml (GRand *rand, const char *model, GPtrArray *features, const char *dir, guint draw)
{
  static const char *const policies[] = { "require", "disable", "require", "disable", "force",
                                          "optional", "forbid" };
  g_autoptr (GString) xml = g_string_new (NULL);
  g_autofree char *name = g_strdup_printf ("draw-%u.xml", draw);
  char *path = g_build_filename (dir, name, NULL);
  guint n_features = (guint) g_rand_int_range (rand, 0, 5);

  g_string_append_printf (xml, "<cpu mode='custom' match='exact' check='%s'>\n"
                          "  <model fallback='%s'>%s</model>\n",
                          g_rand_int_range (rand, 0, 4) == 0 ? "partial" : "full",
                          g_rand_boolean (rand) ? "forbid" : "allow", model);
  for (guint f = 0; f < n_features; f++)
    {
      const char *qemu_name = g_ptr_array_index (features, g_rand_int_range (rand, 0,
                                                                           (gint32) features->len));
      const X86Feature *feature = x86_feature_lookup (qemu_name);

      g_string_append_printf (xml, "  <feature policy='%s' name='%s'/>\n",
                              policies[g_rand_int_range (rand, 0, G_N_ELEMENTS (policies))],
                              feature != NULL ? x86_feature_libvirt_name (feature) : qemu_name);
    }
  g_string_append (xml, "</cpu>\n");
  assert_true (g_file_set_contents (path, xml->str, -1, NULL));
  return path;
}

/* The models the profiled QEMU lists (its first query-cpu-definitions), then host and max. */
static GPtrArray *
profiled_models (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (ProbeJson) root = NULL;
  json_object *sessions, *list = NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  root = test_parse_json (text);
  sessions = test_json_member (root, "sessions", json_type_array);
  for (guint s = 0; list == NULL && s < json_object_array_length (sessions); s++)
    {
      json_object *messages = test_json_member (json_object_array_get_idx (sessions, s),
                                                "messages", json_type_array);

      for (guint m = 0; list == NULL && m + 1 < json_object_array_length (messages); m++)
        {
          json_object *command = NULL;

          if (json_object_object_get_ex (json_object_array_get_idx (messages, m), "execute", &command)
              && strcmp (json_object_get_string (command), "query-cpu-definitions") == 0)
            json_object_object_get_ex (json_object_array_get_idx (messages, m + 1), "return", &list);
        }
    }
  assert_non_null (list);
  for (guint i = 0; i < json_object_array_length (list); i++)
    g_ptr_array_add (names, g_strdup (json_object_get_string (
      test_json_member (json_object_array_get_idx (list, i), "name", json_type_string))));
  g_ptr_array_add (names, g_strdup ("host"));
  g_ptr_array_add (names, g_strdup ("max"));
  return names;
}

static guint32
draw_seed (void)
{
  const char *named = g_getenv ("VCPUPROBE_TEST_SEED");
  guint32 seed = named != NULL ? (guint32) g_ascii_strtoull (named, NULL, 10)
                               : (guint32) g_get_real_time ();

  print_message ("seed %u (VCPUPROBE_TEST_SEED=%u replays these draws)\n", seed, seed);
  return seed;
}

/* What the profile records of a vCPU and IA32_ARCH_CAPABILITIES ("refused", ...), or
 * NULL when it does not (no KVM, or a profile made before it was recorded). Newly
 * allocated. */
static char *
recorded_arch_capabilities (const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr (ProbeJson) root = NULL;
  json_object *kvm = NULL, *caps = NULL, *vcpu = NULL;

  assert_true (g_file_get_contents (path, &text, NULL, NULL));
  root = test_parse_json (text);
  if (!json_object_object_get_ex (test_json_member (root, "cpuid", json_type_object), "kvm", &kvm)
      || !json_object_object_get_ex (kvm, "arch_capabilities", &caps)
      || !json_object_object_get_ex (caps, "vcpu", &vcpu))
    return NULL;
  return g_strdup (json_object_get_string (vcpu));
}

static gboolean
guest_has (json_object *answer, const char *feature)
{
  json_object *guest = NULL, *enabled = NULL;

  if (!json_object_object_get_ex (answer, "guest", &guest) || guest == NULL
      || !json_object_object_get_ex (guest, "enabled", &enabled) || enabled == NULL)
    return FALSE;
  for (guint i = 0; i < json_object_array_length (enabled); i++)
    if (strcmp (json_object_get_string (json_object_array_get_idx (enabled, i)), feature) == 0)
      return TRUE;
  return FALSE;
}

/* One question asked live and of the profile. FALSE when the profile did not answer, which
 * is allowed only where it records nothing to answer from: whether KVM takes
 * arch-capabilities back at start, in a profile that does not record it. Otherwise the
 * answers must be equal; *@kvm_arch_capabilities says whether it was a kvm guest with
 * arch-capabilities, the case that fact decides. */
static gboolean
answered_as_live (const char *command, const char *cpu, const char *accel, const char *machine,
                  const char *label, gboolean *kvm_arch_capabilities)
{
  g_autoptr (GPtrArray) live_args = g_ptr_array_new ();
  g_autoptr (GPtrArray) offline_args = g_ptr_array_new ();
  g_autoptr (TestRun) live = NULL;
  g_autoptr (TestRun) offline = NULL;
  g_autofree char *recorded = recorded_arch_capabilities (the_profile ());

  *kvm_arch_capabilities = FALSE;
  for (guint side = 0; side < 2; side++)
    {
      GPtrArray *args = side == 0 ? live_args : offline_args;

      if (side == 0)
        g_ptr_array_add (args, "--no-cache");
      else
        {
          g_ptr_array_add (args, "--profile");
          g_ptr_array_add (args, (gpointer) the_profile ());
        }
      g_ptr_array_add (args, "--accel");
      g_ptr_array_add (args, (gpointer) accel);
      if (machine != NULL)
        {
          g_ptr_array_add (args, "--machine");
          g_ptr_array_add (args, (gpointer) machine);
        }
      g_ptr_array_add (args, "--format");
      g_ptr_array_add (args, "json");
      g_ptr_array_add (args, (gpointer) command);
      g_ptr_array_add (args, (gpointer) cpu);
    }
  live = run_argv (TRUE, live_args);
  offline = run_argv (FALSE, offline_args);
  print_message ("%s: %s %s --accel %s --machine %s: live %d, offline %d\n", label, command, cpu,
                 accel, machine != NULL ? machine : "(default)", live->status, offline->status);
  if (offline->status == 3 && live->status != 3)
    {
      test_assert_one_error_line (offline, the_profile ());
      assert_non_null (strstr (offline->err, "cannot answer this exactly"));
      if (strstr (offline->err, "arch-capabilities") == NULL)
        fail_msg ("%s not answered: %s", label, offline->err);
      /* "unknown": the profiling host could not try it, and said why. */
      if (recorded != NULL && strcmp (recorded, "unknown") != 0)
        fail_msg ("%s not answered though the profile records \"%s\": %s", label, recorded,
                  offline->err);
      return FALSE;
    }
  assert_int_equal (offline->status, live->status);
  if (live->status <= 1)
    {
      g_autoptr (ProbeJson) live_json = test_parse_json (live->out);
      g_autoptr (ProbeJson) offline_json = test_parse_json (offline->out);

      *kvm_arch_capabilities = strcmp (accel, "kvm") == 0
                               && guest_has (live_json, "arch-capabilities");
      strip_provenance (live_json, the_profile ());
      strip_provenance (offline_json, the_profile ());
      if (!json_object_equal (live_json, offline_json))
        {
          json_object_object_foreach (live_json, key, value)
            if (!json_object_equal (value, json_object_object_get (offline_json, key)))
              print_message ("%s live:    %s\n%s offline: %s\n", key,
                             json_object_to_json_string (value), key,
                             json_object_to_json_string (json_object_object_get (offline_json, key)));
          fail_msg ("%s differs", label);
        }
    }
  else
    assert_string_equal (offline->err, live->err);
  return TRUE;
}

static void
test_offline_equals_live (void **state)
{
  static const char *const machines[] = { NULL, "pc", "q35" };
  const char *accels[] = { "tcg", "kvm" };
  const char *draws_text = g_getenv ("VCPUPROBE_TEST_DRAWS");
  guint n_draws = draws_text != NULL ? (guint) g_ascii_strtoull (draws_text, NULL, 10) : 12;
  guint n_accels = 1;
  g_autoptr (GRand) rand = NULL;
  g_autoptr (GPtrArray) models = NULL;
  g_autoptr (GPtrArray) features = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) prerequisites = g_ptr_array_new_with_free_func (g_free);
  guint n_equal = 0, n_unanswered = 0, n_kvm_arch_capabilities = 0, n_xml = 0;

  TEST_REQUIRE_QEMU ();
  if (test_kvm_usable ())
    n_accels = 2;
  else
    print_message ("kvm cannot be used here: drawing tcg only\n");
  rand = g_rand_new_with_seed (draw_seed ());
  models = profiled_models (the_profile ());
  profiled_features (the_profile (), features, prerequisites);

  for (guint draw = 0; draw < n_draws; draw++)
    {
      const char *model = g_ptr_array_index (models, g_rand_int_range (rand, 0, (gint32) models->len));
      const char *accel = accels[g_rand_int_range (rand, 0, (gint32) n_accels)];
      const char *machine = machines[g_rand_int_range (rand, 0, G_N_ELEMENTS (machines))];
      const char *command = g_rand_boolean (rand) ? "check" : "expand";
      /* Toggles are computed offline as QEMU computes them: they must come out equal. A
       * libvirt definition (one draw in three under tcg; under kvm libvirt's rules start
       * QEMU on the host, which a profile does not answer) is judged as on the host. */
      gboolean as_xml = strcmp (accel, "tcg") == 0 && g_rand_int_range (rand, 0, 3) == 0;
      g_autofree char *cpu = as_xml ? draw_xml (rand, model, features, work, draw)
                                    : draw_cpu (rand, model, features, prerequisites);
      g_autofree char *label = g_strdup_printf ("draw %u", draw);
      gboolean kvm_arch_capabilities;

      if (!answered_as_live (command, cpu, accel, machine, label, &kvm_arch_capabilities))
        {
          n_unanswered++;
          continue;
        }
      n_equal++;
      n_xml += as_xml;
      n_kvm_arch_capabilities += kvm_arch_capabilities;
    }
  /* libvirt's host-model and host-passthrough modes, resolved as libvirt resolves them. */
  for (guint mode = 0; mode < 2; mode++)
    {
      g_autofree char *path = g_build_filename (work, mode == 0 ? "host-model.xml"
                                                                : "host-passthrough.xml", NULL);
      gboolean unused;

      assert_true (g_file_set_contents (path, mode == 0 ? "<cpu mode='host-model' check='full'/>"
                                                        : "<cpu mode='host-passthrough' "
                                                          "check='full'/>", -1, NULL));
      assert_true (answered_as_live ("check", path, "tcg", NULL, mode == 0 ? "host-model"
                                                                           : "host-passthrough",
                                     &unused));
    }
  print_message ("%u draws: %u equal to the live answer (%u of them libvirt definitions, %u "
                 "kvm guests with arch-capabilities), %u not answered by the profile, "
                 "0 different\n", n_draws, n_equal, n_xml, n_kvm_arch_capabilities,
                 n_unanswered);
  assert_true (n_equal > 0);
}

/* A profile as an older vcpuprobe or a damaged file has it: @vcpu replaces what the
 * profile records of IA32_ARCH_CAPABILITIES (NULL: the member is gone). Newly allocated
 * path in @work. */
static char *
profile_with_arch_capabilities (const char *name, json_object *vcpu)
{
  g_autofree char *text = NULL;
  g_autoptr (ProbeJson) root = NULL;
  json_object *kvm, *caps;
  char *path = g_build_filename (work, name, NULL);

  assert_true (g_file_get_contents (the_profile (), &text, NULL, NULL));
  root = test_parse_json (text);
  kvm = test_json_member (test_json_member (root, "cpuid", json_type_object), "kvm",
                          json_type_object);
  caps = test_json_member (kvm, "arch_capabilities", json_type_object);
  if (vcpu == NULL)
    json_object_object_del (kvm, "arch_capabilities");
  else
    json_object_object_add (caps, "vcpu", vcpu);
  assert_true (g_file_set_contents (path, json_object_to_json_string_ext (root, JSON_C_TO_STRING_PLAIN),
                                    -1, NULL));
  return path;
}

/* The profile records what a vCPU of this KVM does with IA32_ARCH_CAPABILITIES as `host`
 * reads it live, and a `cpuid --format json` capture records the same. */
static void
test_arch_capabilities_recorded (void **state)
{
  g_autoptr (TestRun) host = NULL;
  g_autoptr (TestRun) cpuid = NULL;
  g_autoptr (ProbeJson) host_json = NULL;
  g_autoptr (ProbeJson) cpuid_json = NULL;
  g_autofree char *recorded = NULL;
  json_object *live = NULL, *captured;

  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  host = test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
    "--no-cache", "--format", "json", "host", NULL });
  test_assert_exit (host, 0);
  host_json = test_parse_json (host->out);
  recorded = recorded_arch_capabilities (the_profile ());
  assert_non_null (recorded);
  /* `host` leaves out what could not be tried; the profile says "unknown" and why. */
  if (!json_object_object_get_ex (test_json_member (host_json, "kvm", json_type_object),
                                  "arch_capabilities", &live))
    {
      assert_string_equal (recorded, "unknown");
      print_message ("SKIP: this KVM's IA32_ARCH_CAPABILITIES could not be tried\n");
      skip ();
    }
  assert_string_equal (recorded, json_object_get_string (test_json_member (live, "vcpu",
                                                                           json_type_string)));
  cpuid = test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
    "--format", "json", "cpuid", NULL });
  test_assert_exit (cpuid, 0);
  cpuid_json = test_parse_json (cpuid->out);
  captured = test_json_member (test_json_member (cpuid_json, "kvm", json_type_object),
                               "arch_capabilities", json_type_object);
  assert_true (json_object_equal (live, captured));
  /* And `host` of that capture shows what the live one showed. */
  {
    g_autofree char *dump = g_build_filename (work, "capture.json", NULL);
    g_autoptr (TestRun) from_dump = NULL;
    g_autoptr (ProbeJson) from_dump_json = NULL;

    assert_true (g_file_set_contents (dump, cpuid->out, -1, NULL));
    from_dump = test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
      "--no-cache", "--cpuid-dump", dump, "--format", "json", "host", NULL });
    test_assert_exit (from_dump, 0);
    from_dump_json = test_parse_json (from_dump->out);
    assert_true (json_object_equal (live, test_json_member (test_json_member (from_dump_json, "kvm",
                                                                              json_type_object),
                                                            "arch_capabilities",
                                                            json_type_object)));
  }
  print_message ("this KVM: IA32_ARCH_CAPABILITIES %s, a vCPU %s\n",
                 json_object_get_string (test_json_member (live, "offered", json_type_string)),
                 recorded);
}

/* kvm guests with arch-capabilities are answered from the profile as live, whatever the
 * draws; a profile without the fact says so (exit 3), and a bad value is exit 2 naming
 * the file. */
static void
test_arch_capabilities_offline (void **state)
{
  const char *const cpus[] = { "host", "max" };
  const char *with_msr = NULL;
  g_autofree char *older = NULL;
  g_autofree char *damaged = NULL;
  g_autoptr (TestRun) old_run = NULL;
  g_autoptr (TestRun) damaged_run = NULL;

  TEST_REQUIRE_QEMU ();
  TEST_REQUIRE_KVM ();
  for (guint i = 0; i < G_N_ELEMENTS (cpus); i++)
    {
      gboolean kvm_arch_capabilities;

      assert_true (answered_as_live ("check", cpus[i], "kvm", NULL, cpus[i], &kvm_arch_capabilities));
      if (kvm_arch_capabilities)
        with_msr = cpus[i];
    }
  if (with_msr == NULL)
    {
      print_message ("SKIP: neither host nor max has arch-capabilities under this KVM: "
                     "nothing for an older profile to refuse\n");
      skip ();
    }

  older = profile_with_arch_capabilities ("older.json", NULL);
  old_run = test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
    "--profile", older, "--accel", "kvm", "check", with_msr, NULL });
  test_assert_exit (old_run, 3);
  test_assert_one_error_line (old_run, older);
  assert_non_null (strstr (old_run->err, "is not recorded"));

  damaged = profile_with_arch_capabilities ("damaged.json", json_object_new_string ("maybe"));
  damaged_run = test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
    "--profile", damaged, "--accel", "kvm", "check", with_msr, NULL });
  test_assert_exit (damaged_run, 2);
  test_assert_one_error_line (damaged_run, damaged);
  assert_non_null (strstr (damaged_run->err, "kvm.arch_capabilities.vcpu: expected"));
}

/* `models` from the profile lists what a live run lists, blockers and their layers included. */
static void
test_models_offline (void **state)
{
  const char *accels[] = { "tcg", "kvm" };

  TEST_REQUIRE_QEMU ();
  for (guint a = 0; a < (test_kvm_usable () ? 2u : 1u); a++)
    {
      g_autoptr (TestRun) live = test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
        "--no-cache", "--accel", accels[a], "--machine", "q35", "--format", "json", "models", NULL });
      g_autoptr (TestRun) offline = test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
        "--profile", the_profile (), "--accel", accels[a], "--machine", "q35", "--format", "json",
        "models", NULL });
      g_autoptr (ProbeJson) live_json = NULL;
      g_autoptr (ProbeJson) offline_json = NULL;

      test_assert_exit (live, 0);
      test_assert_exit (offline, 0);
      live_json = test_parse_json (live->out);
      offline_json = test_parse_json (offline->out);
      strip_provenance (live_json, the_profile ());
      strip_provenance (offline_json, the_profile ());
      if (!json_object_equal (live_json, offline_json))
        fail_msg ("models under %s differ:\nlive:    %s\noffline: %s", accels[a],
                  json_object_to_json_string (live_json), json_object_to_json_string (offline_json));
    }
}

/* `profile --record` (under @accel, or both when NULL), then `--replay ... profile` with
 * no --accel: the same profile, byte for byte. */
static void
assert_replay_same (const char *accel)
{
  g_autofree char *name = g_strdup_printf ("profile-%s", accel != NULL ? accel : "both");
  g_autofree char *recording = g_build_filename (work, name, NULL);
  g_autofree char *recorded = g_strconcat (recording, ".recorded", NULL);
  g_autofree char *replayed = g_strconcat (recording, ".replayed", NULL);
  g_autofree char *recorded_text = NULL, *replayed_text = NULL;
  g_autoptr (TestRun) record = NULL;
  g_autoptr (TestRun) replay = NULL;

  if (accel != NULL)
    record = test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
      "--accel", accel, "profile", "--record", recording, "--output", recorded, NULL });
  else
    record = test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
      "profile", "--record", recording, "--output", recorded, NULL });
  test_assert_exit (record, 0);
  replay = test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
    "--replay", recording, "profile", "--output", replayed, NULL });
  test_assert_exit (replay, 0);
  assert_true (g_file_get_contents (recorded, &recorded_text, NULL, NULL));
  assert_true (g_file_get_contents (replayed, &replayed_text, NULL, NULL));
  assert_string_equal (recorded_text, replayed_text);
}

static void
test_record_replay_same_profile (void **state)
{
  TEST_REQUIRE_QEMU ();
  assert_replay_same (NULL);
  /* Recorded under one accelerator, remade under that one (the dependencies are measured
   * in its session, not in a tcg session the recording lacks). */
  assert_replay_same ("tcg");
  if (test_kvm_usable ())
    assert_replay_same ("kvm");
}

static void
test_several_hosts (void **state)
{
  g_autoptr (TestRun) live = NULL;
  g_autoptr (TestRun) offline = NULL;
  g_autoptr (ProbeJson) document = NULL;
  json_object *hosts;

  TEST_REQUIRE_QEMU ();
  live = test_run_vcpuprobe (TRUE, "120", (const char *const[]) {
    "--no-cache", "--accel", "tcg", "check", "Haswell-noTSX", NULL });
  offline = test_run_vcpuprobe (FALSE, "120", (const char *const[]) {
    "--profile", the_profile (), "--profile", the_profile (), "--accel", "tcg",
    "--format", "json", "check", "Haswell-noTSX", NULL });
  /* Every host fails as this one does, or passes as it does. */
  test_assert_exit (offline, live->status);
  document = test_parse_json (offline->out);
  hosts = test_json_member (document, "hosts", json_type_array);
  assert_int_equal (json_object_array_length (hosts), 2);
  for (guint i = 0; i < 2; i++)
    {
      json_object *host = json_object_array_get_idx (hosts, i);

      assert_string_equal (json_object_get_string (test_json_member (host, "profile",
                                                                     json_type_string)),
                           the_profile ());
      test_json_member (host, "verdict", json_type_string);
    }
}

static void
test_bad_profiles (void **state)
{
  static const char *const bad[][2] = {
    { "not json {", "not JSON" },
    { "{\"format\": \"vcpuprobe-cpuid\", \"version\": 1}", "not a host profile" },
    { "{\"format\": \"vcpuprobe-profile\", \"version\": 99}", "version 99 is not supported" },
    { "{\"format\": \"vcpuprobe-profile\", \"version\": 1}", "version 1 is no longer read" },
    { "{\"format\": \"vcpuprobe-profile\", \"version\": 2}", "host is missing" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/bad-%u.json", work, i);
      g_autoptr (TestRun) run = NULL;

      assert_true (g_file_set_contents (path, bad[i][0], -1, NULL));
      run = test_run_vcpuprobe (FALSE, "30", (const char *const[]) {
        "--profile", path, "check", "qemu64", NULL });
      test_assert_exit (run, 2);
      test_assert_one_error_line (run, path);
      assert_non_null (strstr (run->err, bad[i][1]));
    }
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_bad_profiles),
    TEST_CASE_IN_TMPDIR (test_offline_equals_live),
    TEST_CASE_IN_TMPDIR (test_arch_capabilities_recorded),
    TEST_CASE_IN_TMPDIR (test_arch_capabilities_offline),
    TEST_CASE_IN_TMPDIR (test_several_hosts),
    TEST_CASE_IN_TMPDIR (test_models_offline),
    TEST_CASE_IN_TMPDIR (test_record_replay_same_profile),
  };
  int failed;

  test_adopt_orphans ();
  work = test_make_tmpdir ();
  failed = cmocka_run_group_tests (tests, NULL, NULL);
  test_rmdir_r (work);
  g_free (work);
  g_free (profile);
  return failed;
}
