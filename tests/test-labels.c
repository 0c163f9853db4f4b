/* tests/test-labels.c — `vcpuprobe labels` against NFD's format, KubeVirt's names, `check`
 * and a real libvirt.
 *
 * One cold run (on the test's own, empty cache) makes the labels the cases share. A
 * seeded sample of libvirt's models, labelled and unlabelled, and host-model, is then
 * judged again: by `vcpuprobe
 * check` of the very <cpu> a label stands for (exit 0 exactly for the labelled ones), and,
 * where libvirt can run (tests/libvirt/), by starting it: labelled ones start, the others
 * are refused. The seed is printed; VCPUPROBE_LABELS_SEED repeats a draw and
 * VCPUPROBE_LABELS_SAMPLE sets how many of each kind are drawn (default 2). Labels are
 * made under kvm where /dev/kvm opens, and always under --accel tcg too (libvirt's
 * type='qemu'), whose host model starts where a nested kvm host refuses every CPU: so
 * both a label and its absence are put to the test on any host. The hyperv labels are
 * compared with what KVM answers at the time and with the hv-* properties of a vCPU QEMU
 * creates with hv-passthrough=on, a witness that asks KVM another way. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib/gstdio.h>
#include "probe/libvirt-cpu-map.h"
#include "probe/node-labels.h"
#include "tests/libvirt/libvirt-harness.h"
#include "tests/test-util.h"
#include "x86/kvm-hyperv.h"

#define TIMEOUT "120"

/* KubeVirt's prefixes (staging/src/kubevirt.io/api/core/v1/types.go), as labels uses them. */
static const char *const kubevirt_prefixes[] = {
  "cpu-model.node.kubevirt.io/", "cpu-model-migration.node.kubevirt.io/",
  "cpu-feature.node.kubevirt.io/", "host-model-cpu.node.kubevirt.io/",
  "host-model-required-features.node.kubevirt.io/", "cpu-vendor.node.kubevirt.io/",
  "cpu-timer.node.kubevirt.io/", "hyperv.node.kubevirt.io/", NULL,
};

/* KubeVirt's Hyper-V names (pkg/virt-handler/node-labeller/kvm-caps-info-plugin_amd64.go,
 * CapsDesc), each with the property of QEMU's that stands for the same part of KVM's
 * Hyper-V support, where one does: -cpu ...,hv-passthrough=on turns it on exactly when KVM
 * reports it in KVM_GET_SUPPORTED_HV_CPUID. "base" (KVM_CAP_HYPERV) and "synic2" have no
 * property of their own. */
static const struct {
  const char *label;
  const char *qemu_property;
} kubevirt_hyperv[] = {
  { "base", NULL },
  { "time", "hv-time" },
  { "vpindex", "hv-vpindex" },
  { "tlbflush", "hv-tlbflush" },
  { "ipi", "hv-ipi" },
  { "synic", "hv-synic" },
  { "synic2", NULL },
  { "frequencies", "hv-frequencies" },
  { "reset", "hv-reset" },
  { "runtime", "hv-runtime" },
  { "synictimer", "hv-stimer" },
  { "reenlightenment", "hv-reenlightenment" },
};

typedef struct {
  const char *accel;               /* "kvm" or "tcg" */
  char *text;                      /* the cold run's output */
  GHashTable *labels;              /* name → value */
} AccelLabels;

static AccelLabels runs[2];
static guint n_runs;

typedef struct {
  char *name;                      /* a model, or "host-model" */
  gboolean labelled;
} Candidate;

static void
candidate_free (Candidate *candidate)
{
  g_free (candidate->name);
  g_free (candidate);
}

/* The <cpu> a label stands for. Newly allocated. */
static char *
candidate_cpu (const Candidate *candidate)
{
  if (strcmp (candidate->name, "host-model") == 0)
    return g_strdup ("<cpu mode='host-model' check='full'/>\n");
  return node_labels_model_xml (candidate->name);
}

static gboolean
has_label_with_prefix (GHashTable *labels, const char *prefix)
{
  GHashTableIter iter;
  gpointer name;

  g_hash_table_iter_init (&iter, labels);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (g_str_has_prefix (name, prefix))
      return TRUE;
  return FALSE;
}

/* Every model of libvirt's map and host-model, each with whether it is labelled. */
static GPtrArray *
candidates (GHashTable *labels)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtCpuMap) map = libvirt_cpu_map_load (LIBVIRT_CPU_MAP_DEFAULT_DIR, &error);
  g_autoptr (GPtrArray) names = NULL;
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  Candidate *host = g_new0 (Candidate, 1);

  assert_non_null (map);
  names = libvirt_cpu_map_model_names (map);
  for (guint i = 0; i < names->len; i++)
    {
      Candidate *candidate = g_new0 (Candidate, 1);
      g_autofree char *label = g_strconcat (NODE_LABEL_CPU_MODEL,
                                            (char *) g_ptr_array_index (names, i), NULL);

      candidate->name = g_strdup (g_ptr_array_index (names, i));
      candidate->labelled = g_hash_table_contains (labels, label);
      g_ptr_array_add (all, candidate);
    }
  host->name = g_strdup ("host-model");
  host->labelled = has_label_with_prefix (labels, NODE_LABEL_HOST_MODEL_CPU);
  g_ptr_array_add (all, host);
  return all;
}

static guint
sample_size (void)
{
  const char *text = g_getenv ("VCPUPROBE_LABELS_SAMPLE");

  return text != NULL ? (guint) g_ascii_strtoull (text, NULL, 10) : 2;
}

/* Up to sample_size() labelled and as many unlabelled candidates, drawn with a seed that
 * is printed (VCPUPROBE_LABELS_SEED repeats it). Borrowed from @all. */
static GPtrArray *
draw (GPtrArray *all, const char *what, const char *accel)
{
  const char *seed_text = g_getenv ("VCPUPROBE_LABELS_SEED");
  guint32 seed = seed_text != NULL ? (guint32) g_ascii_strtoull (seed_text, NULL, 10)
                                   : (guint32) g_get_real_time ();
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr (GPtrArray) pool = g_ptr_array_new ();
  GPtrArray *drawn = g_ptr_array_new ();
  guint wanted[2] = { sample_size (), sample_size () };
  guint labelled = 0;

  print_message ("%s under %s: seed %u (VCPUPROBE_LABELS_SEED=%u repeats it)\n", what, accel,
                 seed, seed);
  for (guint i = 0; i < all->len; i++)
    g_ptr_array_add (pool, g_ptr_array_index (all, i));
  while (pool->len > 0 && (wanted[0] > 0 || wanted[1] > 0))
    {
      Candidate *candidate = g_ptr_array_steal_index_fast (
        pool, g_rand_int_range (rand, 0, (gint32) pool->len));

      if (wanted[candidate->labelled] == 0)
        continue;
      wanted[candidate->labelled]--;
      labelled += candidate->labelled;
      g_ptr_array_add (drawn, candidate);
    }
  if (labelled == 0)
    print_message ("%s: nothing is labelled on this node under %s: only refusals are "
                   "sampled\n", what, accel);
  return drawn;
}

/* ---- the cold run ---- */

/* The labels under @accel, from a cold run (no leak checks: no case is under way). */
static gboolean
make_labels (AccelLabels *run, const char *accel)
{
  /* Cold: the test's own cache is empty; the run fills it for the cases that follow. */
  const char *argv[] = { test_vcpuprobe (), "--qemu", test_qemu_binary (), "--timeout",
                         TIMEOUT, "--accel", accel, "labels", NULL };
  g_autoptr (TestRun) made = test_run (argv, NULL);
  g_auto (GStrv) lines = NULL;

  if (made->status != 0)
    {
      print_message ("labels --accel %s failed (exit %d): %s\n", accel, made->status, made->err);
      return FALSE;
    }
  run->accel = accel;
  run->text = g_strdup (made->out);
  run->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  lines = g_strsplit (run->text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *equals = strchr (lines[i], '=');

      if (lines[i][0] == '\0' || lines[i][0] == '#' || equals == NULL)
        continue;
      g_hash_table_replace (run->labels, g_strndup (lines[i], equals - lines[i]),
                            g_strdup (equals + 1));
    }
  return TRUE;
}

static int
group_setup (void **state)
{
  (void) state;
  if (test_qemu_binary () == NULL
      || !g_file_test (LIBVIRT_CPU_MAP_DEFAULT_DIR "/index.xml", G_FILE_TEST_EXISTS))
    return 0;
  if (test_kvm_usable ())
    {
      if (!make_labels (&runs[n_runs], "kvm"))
        return -1;
      n_runs++;
    }
  else
    print_message ("/dev/kvm cannot be opened read-write: labels under tcg only\n");
  if (!make_labels (&runs[n_runs], "tcg"))
    return -1;
  n_runs++;
  return 0;
}

static int
group_teardown (void **state)
{
  (void) state;
  for (guint i = 0; i < n_runs; i++)
    {
      g_free (runs[i].text);
      g_hash_table_unref (runs[i].labels);
    }
  return 0;
}

static void
require_labels (void)
{
  TEST_REQUIRE_QEMU ();
  if (!g_file_test (LIBVIRT_CPU_MAP_DEFAULT_DIR "/index.xml", G_FILE_TEST_EXISTS))
    {
      print_message ("SKIP: no libvirt CPU map at %s\n", LIBVIRT_CPU_MAP_DEFAULT_DIR);
      skip ();
    }
  assert_int_not_equal (n_runs, 0);
}

/* ---- NFD's format, KubeVirt's names ---- */

static void
check_format (const AccelLabels *run)
{
  GHashTable *labels = run->labels;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GRegex) line_syntax = NULL;
  g_autofree char *previous = g_strdup ("");
  guint vendors = 0;

  /* NFD's features.d line: a prefixed label name, '=', a label value. */
  line_syntax = g_regex_new ("^[a-z0-9]([a-z0-9.-]*[a-z0-9])?/[A-Za-z0-9]([A-Za-z0-9._-]{0,61}"
                             "[A-Za-z0-9])?=([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$",
                             0, 0, NULL);
  assert_true (g_str_has_suffix (run->text, "\n"));
  lines = g_strsplit (run->text, "\n", -1);
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      const char *line = lines[i];
      char *equals = strchr (line, '=');
      g_autofree char *name = NULL;
      gboolean known = FALSE;

      if (!g_regex_match (line_syntax, line, 0, NULL))
        fail_msg ("not a features.d label line: \"%s\"", line);
      name = g_strndup (line, equals - line);
      assert_true (node_label_is_valid (name, equals + 1));
      for (guint j = 0; kubevirt_prefixes[j] != NULL; j++)
        known |= g_str_has_prefix (line, kubevirt_prefixes[j]);
      if (!known)
        fail_msg ("not one of KubeVirt's labels: \"%s\"", line);
      /* Sorted, each label once: a file two runs write alike. */
      assert_true (strcmp (previous, name) < 0);
      g_free (previous);
      previous = g_strdup (name);
      vendors += g_str_has_prefix (line, NODE_LABEL_CPU_VENDOR);
      /* prepareLabels(): a model labelled is a migration target too. */
      if (g_str_has_prefix (line, NODE_LABEL_CPU_MODEL))
        {
          g_autofree char *twin = g_strconcat (NODE_LABEL_CPU_MODEL_MIGRATION,
                                               name + strlen (NODE_LABEL_CPU_MODEL), NULL);

          assert_true (g_hash_table_contains (labels, twin));
        }
    }
  assert_int_equal (vendors, 1);
  /* Features and required features come with the host model, and only with it. */
  assert_int_equal (has_label_with_prefix (labels, NODE_LABEL_HOST_MODEL_CPU),
                    has_label_with_prefix (labels, NODE_LABEL_CPU_FEATURE));
  if (!has_label_with_prefix (labels, NODE_LABEL_HOST_MODEL_CPU))
    assert_false (has_label_with_prefix (labels, NODE_LABEL_HOST_MODEL_REQUIRED));
}

static void
test_format (void **state)
{
  (void) state;
  require_labels ();
  for (guint i = 0; i < n_runs; i++)
    check_format (&runs[i]);
}

/* ---- `check` agrees ---- */

static void
check_agrees (const AccelLabels *labels)
{
  const char *accel = labels->accel;
  g_autoptr (GPtrArray) all = candidates (labels->labels);
  g_autoptr (GPtrArray) drawn = draw (all, "check", accel);
  g_autofree char *directory = test_make_tmpdir ();

  assert_true (drawn->len > 0);
  for (guint i = 0; i < drawn->len; i++)
    {
      const Candidate *candidate = g_ptr_array_index (drawn, i);
      g_autofree char *file = g_build_filename (directory, "cpu.xml", NULL);
      const char *args[] = { "--accel", accel, "--no-cache", "check", file, NULL };
      g_autofree char *cpu = candidate_cpu (candidate);
      g_autoptr (TestRun) run = NULL;

      assert_true (g_file_set_contents (file, cpu, -1, NULL));
      run = test_run_vcpuprobe (TRUE, TIMEOUT, args);
      print_message ("  %-28s labelled %-3s check exit %d\n", candidate->name,
                     candidate->labelled ? "yes" : "no", run->status);
      if (candidate->labelled)
        assert_int_equal (run->status, 0);
      else
        assert_int_not_equal (run->status, 0);
      /* A refusal is a verdict (1) or the model QEMU does not know (2), never a failure. */
      assert_true (run->status <= 2);
    }
  test_rmdir_r (directory);
}

static void
test_check_agrees (void **state)
{
  (void) state;
  require_labels ();
  for (guint i = 0; i < n_runs; i++)
    check_agrees (&runs[i]);
}

/* ---- libvirt agrees ---- */

/* A guest of @cpu with nothing else libvirt would have to set up. */
static char *
domain_xml (const char *accel, const char *name, const char *cpu)
{
  const char *type = strcmp (accel, "kvm") == 0 ? "kvm" : "qemu";

  return g_strdup_printf ("<domain type='%s'><name>%s</name><memory unit='MiB'>32</memory>"
                          "<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type></os>\n"
                          "%s<devices><emulator>%s</emulator><controller type='usb' "
                          "model='none'/><memballoon model='none'/></devices></domain>\n",
                          type, name, cpu, test_qemu_binary ());
}

static void
libvirt_agrees (LibvirtHarness *harness, const AccelLabels *labels)
{
  g_autoptr (GPtrArray) all = candidates (labels->labels);
  g_autoptr (GPtrArray) drawn = draw (all, "libvirt", labels->accel);

  for (guint i = 0; i < drawn->len; i++)
    {
      const Candidate *candidate = g_ptr_array_index (drawn, i);
      g_autofree char *name = g_strdup_printf ("labels-%s-%u", labels->accel, i);
      g_autofree char *cpu = candidate_cpu (candidate);
      g_autofree char *xml = domain_xml (labels->accel, name, cpu);
      g_autoptr (GError) error = NULL;
      g_autoptr (LibvirtStart) start = libvirt_harness_start (harness, name, xml, &error);

      if (start == NULL)
        fail_msg ("virsh could not run: %s", error->message);
      print_message ("  %-28s labelled %-3s libvirt %s%s\n", candidate->name,
                     candidate->labelled ? "yes" : "no",
                     start->started ? "started" : "refused: ",
                     start->started ? "" : start->error);
      assert_int_equal (start->started, candidate->labelled);
    }
}

/* The value of attribute @name in the first element of @xml that starts with @element,
 * or NULL. Newly allocated. */
static char *
attribute_of (const char *xml, const char *element, const char *name)
{
  const char *at = strstr (xml, element);
  const char *end = at != NULL ? strchr (at, '>') : NULL;
  g_autofree char *tag = end != NULL ? g_strndup (at, end - at) : NULL;
  g_autofree char *key = g_strdup_printf (" %s='", name);
  const char *value = tag != NULL ? strstr (tag, key) : NULL;

  if (value == NULL)
    return NULL;
  value += strlen (key);
  return g_strndup (value, strcspn (value, "'"));
}

/* Under kvm the TSC labels are what libvirt's capabilities say of the TSC: its <counter
 * name='tsc' frequency=HZ scaling='yes|no'/>, both there or both absent. */
static void
libvirt_tsc_agrees (LibvirtHarness *harness, const AccelLabels *labels)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *capabilities = libvirt_harness_capabilities (harness, &error);
  g_autofree char *frequency = NULL;
  g_autofree char *scaling = NULL;
  const char *label_frequency = g_hash_table_lookup (labels->labels,
                                                     "cpu-timer.node.kubevirt.io/tsc-frequency");
  const char *label_scalable = g_hash_table_lookup (labels->labels,
                                                    "cpu-timer.node.kubevirt.io/tsc-scalable");

  if (capabilities == NULL)
    fail_msg ("virsh could not run: %s", error->message);
  frequency = attribute_of (capabilities, "<counter name='tsc'", "frequency");
  scaling = attribute_of (capabilities, "<counter name='tsc'", "scaling");
  print_message ("  tsc: labels %s Hz scalable %s; libvirt %s Hz scaling %s\n",
                 label_frequency != NULL ? label_frequency : "-",
                 label_scalable != NULL ? label_scalable : "-",
                 frequency != NULL ? frequency : "-", scaling != NULL ? scaling : "-");
  assert_int_equal (label_frequency != NULL, frequency != NULL);
  if (frequency == NULL)
    return;
  assert_string_equal (label_frequency, frequency);
  assert_string_equal (label_scalable, g_strcmp0 (scaling, "yes") == 0 ? "true" : "false");
}

static void
test_libvirt_agrees (void **state)
{
  g_autofree char *skip_reason = NULL;
  g_autoptr (LibvirtHarness) harness = NULL;

  (void) state;
  require_labels ();
  /* libvirt daemonizes QEMU: as the orphans' subreaper this test would hold each exited
   * QEMU as a zombie, which libvirt's destroy waits on for tens of seconds. */
  prctl (PR_SET_CHILD_SUBREAPER, 0);
  harness = libvirt_harness_new (&skip_reason);
  if (harness == NULL)
    {
      test_adopt_orphans ();
      print_message ("SKIP: %s\n", skip_reason);
      skip ();
    }
  for (guint i = 0; i < n_runs; i++)
    {
      libvirt_agrees (harness, &runs[i]);
      if (strcmp (runs[i].accel, "kvm") == 0)
        libvirt_tsc_agrees (harness, &runs[i]);
    }
  g_clear_pointer (&harness, libvirt_harness_free);
  test_adopt_orphans ();
}

/* ---- Hyper-V: what KVM offers, and what QEMU makes of it ---- */

/* The names after hyperv.node.kubevirt.io/ in @labels, each checked to be one of
 * KubeVirt's with the value "true". */
static GHashTable *
hyperv_labels (GHashTable *labels)
{
  GHashTable *names = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer name, value;

  g_hash_table_iter_init (&iter, labels);
  while (g_hash_table_iter_next (&iter, &name, &value))
    {
      const char *enlightenment = (const char *) name + strlen (NODE_LABEL_HYPERV);
      gboolean known = FALSE;

      if (!g_str_has_prefix (name, NODE_LABEL_HYPERV))
        continue;
      for (guint i = 0; i < G_N_ELEMENTS (kubevirt_hyperv); i++)
        known |= strcmp (kubevirt_hyperv[i].label, enlightenment) == 0;
      if (!known)
        fail_msg ("not one of KubeVirt's Hyper-V labels: \"%s\"", (const char *) name);
      assert_string_equal (value, "true");
      g_hash_table_add (names, (gpointer) enlightenment);
    }
  return names;
}

/* The vCPU QEMU creates, paused, for -cpu @model,hv-passthrough=on under kvm: each mapped
 * hv-* property read back (name → "true"/"false", newly allocated), after QEMU has asked
 * KVM for its Hyper-V leaves from that vCPU. NULL with *@why when QEMU cannot start it. */
static GHashTable *
passthrough_properties (const char *model, char **why)
{
  g_autofree char *cpu = g_strdup_printf ("%s,hv-passthrough=on", model);
  const char *argv[] = {
    test_qemu_binary (), "-S", "-no-user-config", "-nodefaults", "-nographic",
    "-machine", "accel=kvm", "-cpu", cpu, "-qmp", "stdio", NULL,
  };
  const char *vcpu = "/machine/unattached/device[0]";
  g_autoptr (GString) commands = g_string_new ("{\"execute\": \"qmp_capabilities\"}\n"
                                               "{\"execute\": \"query-cpus-fast\"}\n");
  g_autoptr (GPtrArray) asked = g_ptr_array_new ();
  g_autoptr (TestRun) run = NULL;
  g_auto (GStrv) lines = NULL;
  GHashTable *properties;
  guint n_returns = 0;

  for (guint i = 0; i < G_N_ELEMENTS (kubevirt_hyperv); i++)
    if (kubevirt_hyperv[i].qemu_property != NULL)
      {
        g_string_append_printf (commands, "{\"execute\": \"qom-get\", \"arguments\": "
                                "{\"path\": \"%s\", \"property\": \"%s\"}}\n", vcpu,
                                kubevirt_hyperv[i].qemu_property);
        g_ptr_array_add (asked, (gpointer) kubevirt_hyperv[i].qemu_property);
      }
  g_string_append (commands, "{\"execute\": \"quit\"}\n");
  run = test_run (argv, commands->str);
  if (run->status != 0)
    {
      *why = g_strdup_printf ("QEMU %s -cpu %s (accel=kvm) ends with status %d: %s",
                              test_qemu_binary (), cpu, run->status, g_strstrip (run->err));
      return NULL;
    }
  properties = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  lines = g_strsplit (run->out, "\n", -1);
  /* In order: the negotiation's reply, the vCPUs, one value a property, quit's. */
  for (guint i = 0; lines[i] != NULL; i++)
    {
      json_object *message = json_tokener_parse (lines[i]);
      json_object *reply, *path;

      if (message != NULL && json_object_object_get_ex (message, "error", &reply))
        fail_msg ("QEMU %s -cpu %s refused a command: %s", test_qemu_binary (), cpu,
                  json_object_to_json_string (reply));
      if (message != NULL && json_object_object_get_ex (message, "return", &reply))
        {
          guint index = n_returns++;

          if (index == 1)
            {
              /* The properties were read from the vCPU QEMU names first. */
              assert_true (json_object_array_length (reply) > 0);
              assert_true (json_object_object_get_ex (json_object_array_get_idx (reply, 0),
                                                      "qom-path", &path));
              assert_string_equal (json_object_get_string (path), vcpu);
            }
          else if (index >= 2 && index - 2 < asked->len)
            {
              assert_true (json_object_is_type (reply, json_type_boolean));
              g_hash_table_insert (properties, asked->pdata[index - 2],
                                   g_strdup (json_object_get_boolean (reply) ? "true" : "false"));
            }
        }
      json_object_put (message);
    }
  assert_int_equal (g_hash_table_size (properties), asked->len);
  return properties;
}

/* QEMU's own view as a witness: a property on exactly when its label is there, and any of
 * them on only with "base", as QEMU uses no Hyper-V without KVM_CAP_HYPERV. */
static void
check_hyperv_witness (GHashTable *labelled)
{
  /* hv-passthrough takes KVM's Hyper-V leaves whatever the model; host is tried first,
   * and qemu64 where a nested KVM refuses to start host (IA32_ARCH_CAPABILITIES). */
  const char *const models[] = { "host", "qemu64" };
  g_autoptr (GHashTable) properties = NULL;
  gboolean any_on = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (models) && properties == NULL; i++)
    {
      g_autofree char *why = NULL;

      properties = passthrough_properties (models[i], &why);
      if (properties == NULL)
        print_message ("  hyperv witness: %s\n", why);
      else
        print_message ("  hyperv witness: -cpu %s,hv-passthrough=on\n", models[i]);
    }
  if (properties == NULL)
    {
      print_message ("SKIP: QEMU starts no vCPU with hv-passthrough=on under kvm here\n");
      skip ();
    }
  for (guint i = 0; i < G_N_ELEMENTS (kubevirt_hyperv); i++)
    {
      const char *property = kubevirt_hyperv[i].qemu_property;
      const char *value = property != NULL ? g_hash_table_lookup (properties, property) : NULL;
      gboolean has_label = g_hash_table_contains (labelled, kubevirt_hyperv[i].label);

      if (property == NULL)
        continue;
      /* A property QEMU does not report is not on: a label for it fails below. */
      if (value == NULL)
        value = "absent";
      print_message ("  %-16s labelled %-3s QEMU %s=%s\n", kubevirt_hyperv[i].label,
                     has_label ? "yes" : "no", property, value);
      if (has_label != (strcmp (value, "true") == 0))
        fail_msg ("hyperv.node.kubevirt.io/%s is %s, but QEMU's hv-passthrough has %s=%s",
                  kubevirt_hyperv[i].label, has_label ? "labelled" : "not labelled", property,
                  value);
      any_on |= strcmp (value, "true") == 0;
    }
  if (any_on)
    assert_true (g_hash_table_contains (labelled, "base"));
}

/* Under kvm the hyperv labels are exactly what KVM answers now, by KubeVirt's test, and
 * agree with QEMU's hv-passthrough; under tcg there are none. */
static void
test_hyperv (void **state)
{
  (void) state;
  require_labels ();
  for (guint r = 0; r < n_runs; r++)
    {
      g_autoptr (GHashTable) labelled = hyperv_labels (runs[r].labels);
      g_autoptr (GPtrArray) offered = NULL;
      g_autoptr (GError) error = NULL;

      if (strcmp (runs[r].accel, "kvm") != 0)
        {
          assert_int_equal (g_hash_table_size (labelled), 0);
          continue;
        }
      offered = x86_kvm_hyperv_read (&error);
      print_message ("  KVM offers %u of KubeVirt's %zu Hyper-V enlightenments%s%s\n",
                     offered != NULL ? offered->len : 0, G_N_ELEMENTS (kubevirt_hyperv),
                     error != NULL ? ": " : "", error != NULL ? error->message : "");
      assert_int_equal (g_hash_table_size (labelled), offered != NULL ? offered->len : 0);
      for (guint i = 0; offered != NULL && i < offered->len; i++)
        assert_true (g_hash_table_contains (labelled, offered->pdata[i]));
      check_hyperv_witness (labelled);
    }
}

/* ---- --output ---- */

static void
test_output_file (void **state)
{
  g_autofree char *directory = test_make_tmpdir ();
  g_autofree char *file = g_build_filename (directory, "vcpuprobe", NULL);
  g_autofree char *written = NULL;
  const char *args[] = { "--accel", NULL, "labels", "--output", file, NULL };

  (void) state;
  require_labels ();
  args[1] = runs[0].accel;
  /* Twice: the first run may fill the cache, the second answers from it; both must
   * write what the cold run printed. */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (TestRun) run = test_run_vcpuprobe (TRUE, TIMEOUT, args);

      test_assert_exit (run, 0);
      assert_string_equal (run->out, "");
      assert_true (g_file_get_contents (file, &written, NULL, NULL));
      assert_string_equal (written, runs[0].text);
      g_clear_pointer (&written, g_free);
      /* The rename leaves no temporary file for NFD to read. */
      assert_int_equal (test_count_entries (directory, "."), 0);
      assert_int_equal (test_count_entries (directory, ""), 1);
    }
  test_rmdir_r (directory);
}

/* SIGTERM or SIGINT at any moment of a warm `labels --output` leaves the file whole or
 * absent, and never its dot-named temporary (found by tests/soak/soak: a signal between
 * the temporary and the rename left it for nfd-worker's directory). */
static void
test_signal_during_output (void **state)
{
  g_autofree char *directory = test_make_tmpdir ();
  g_autofree char *file = g_build_filename (directory, "vcpuprobe", NULL);
  enum { N_ROUNDS = 40 };

  (void) state;
  require_labels ();
  for (guint round = 0; round < N_ROUNDS; round++)
    {
      const char *argv[] = { test_vcpuprobe (), "--qemu", test_qemu_binary (), "--timeout",
                             TIMEOUT, "--accel", runs[0].accel, "labels", "--output", file,
                             NULL };
      int signo = round % 2 == 0 ? SIGTERM : SIGINT;
      g_autofree char *written = NULL;
      int status = 0;
      GPid pid;

      g_unlink (file);
      assert_true (g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD
                                  | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                                  NULL, NULL, &pid, NULL));
      /* A warm run takes about 15 ms: the signal lands anywhere in it, or after. */
      g_usleep (g_random_int_range (0, 20000));
      kill (pid, signo);
      assert_int_equal (waitpid (pid, &status, 0), pid);
      if (test_count_entries (directory, ".") != 0)
        fail_msg ("round %u: signal %d left a temporary file beside --output", round, signo);
      if (g_file_get_contents (file, &written, NULL, NULL))
        assert_string_equal (written, runs[0].text);
    }
  test_rmdir_r (directory);
}

/* `host` wants the closest named model, which labels (naming models with libvirt's map)
 * does not look for: facts labels kept in the cache must not answer host without it
 * (found by tests/soak/soak: host, warm after labels, said no named model was usable). */
static void
test_host_after_labels (void **state)
{
  const char *warm_args[] = { "host", NULL };
  const char *cold_args[] = { "--no-cache", "host", NULL };
  g_autoptr (TestRun) warm = NULL;
  g_autoptr (TestRun) cold = NULL;
  g_auto (GStrv) warm_lines = NULL;
  g_auto (GStrv) cold_lines = NULL;
  g_autoptr (GString) warm_named = g_string_new (NULL);
  g_autoptr (GString) cold_named = g_string_new (NULL);

  (void) state;
  require_labels ();
  /* The group's labels runs filled the cache: this host run is warm where it can be. */
  warm = test_run_vcpuprobe (TRUE, TIMEOUT, warm_args);
  cold = test_run_vcpuprobe (TRUE, TIMEOUT, cold_args);
  test_assert_exit (warm, 0);
  test_assert_exit (cold, 0);
  warm_lines = g_strsplit (warm->out, "\n", -1);
  cold_lines = g_strsplit (cold->out, "\n", -1);
  for (guint i = 0; warm_lines[i] != NULL; i++)
    if (strstr (warm_lines[i], "named model") != NULL)
      g_string_append_printf (warm_named, "%s\n", warm_lines[i]);
  for (guint i = 0; cold_lines[i] != NULL; i++)
    if (strstr (cold_lines[i], "named model") != NULL)
      g_string_append_printf (cold_named, "%s\n", cold_lines[i]);
  assert_true (cold_named->len > 0);
  assert_string_equal (warm_named->str, cold_named->str);
}

static void
test_bad_output (void **state)
{
  g_autofree char *directory = test_make_tmpdir ();
  g_autofree char *missing = g_build_filename (directory, "no-such-dir", "vcpuprobe", NULL);
  const char *const targets[] = { missing, directory };

  (void) state;
  TEST_REQUIRE_QEMU ();
  for (guint i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      const char *args[] = { "--accel", "tcg", "labels", "--output", targets[i], NULL };
      g_autoptr (TestRun) run = test_run_vcpuprobe (TRUE, TIMEOUT, args);

      test_assert_exit (run, 2);
      test_assert_one_error_line (run, targets[i]);
      assert_string_equal (run->out, "");
    }
  test_rmdir_r (directory);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    TEST_CASE_IN_TMPDIR (test_bad_output),
    TEST_CASE_IN_TMPDIR (test_format),
    TEST_CASE_IN_TMPDIR (test_check_agrees),
    TEST_CASE_IN_TMPDIR (test_hyperv),
    TEST_CASE_IN_TMPDIR (test_output_file),
    TEST_CASE_IN_TMPDIR (test_signal_during_output),
    TEST_CASE_IN_TMPDIR (test_host_after_labels),
    TEST_CASE_IN_TMPDIR (test_libvirt_agrees),
  };

  g_autofree char *cache_home = test_make_tmpdir ();
  int failed;

  setvbuf (stdout, NULL, _IOLBF, 0);
  test_adopt_orphans ();
  /* A cache of the test's own: the first runs are cold, and nobody else's cache is read
   * or filled. */
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  failed = cmocka_run_group_tests (tests, group_setup, group_teardown);
  test_rmdir_r (cache_home);
  return failed;
}
