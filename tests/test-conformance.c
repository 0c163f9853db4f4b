/* tests/test-conformance.c — other people's recordings (the shared corpus) read by vcpuprobe.
 *
 * The corpus directory ($VCPUPROBE_CORPUS, else the meson option `corpus`) holds libvirt's
 * test data layouts, read in place, never copied:
 *   replies/      caps_*.replies (QEMU 1.5.3 to current; replies-only or with commands):
 *                 `vcpuprobe --replay FILE host` and `models` must succeed, and the version,
 *                 the model list and, where recorded, the host model come out as recorded;
 *   cputestdata/  x86_64-cpuid-NAME.xml (libvirt <cpudata>, the hardware) beside
 *                 x86_64-cpuid-NAME.json (QEMU's replies: host expansion, definitions): every
 *                 feature QEMU's host model enables that the hardware lacks must be one QEMU
 *                 or KVM emulates or fixes up; others are printed as FINDING lines, as are
 *                 models whose unavailable features the host model claims;
 *   monitorjson/  post-start replies (feature-words, or qom-list-get / qom-get of the CPU's
 *                 properties) beside the <cpudata> libvirt decoded from them
 *                 (NAME.data, or NAME-enabled.xml and NAME-disabled.xml): ours must agree;
 *   recordings/   our recorder's conversations with real QEMUs of other versions, beside the
 *                 recording host's `cpuid --format json`: each is replayed through the
 *                 command line it was recorded with, and what it prints must be what the
 *                 recorded replies and the dump say (the guest is the started CPU's
 *                 feature-words, or within QEMU's expansion; every filtered feature is
 *                 removed; each removal's layer is the one the dump's silicon and KVM name;
 *                 QEMU's host model and each model's blockers are the recorded ones).
 * The same checks first run on a small corpus made at test time from tests/qmp-replies/, so
 * the code is known to work before it meets the real corpus; the real one is skipped, saying
 * so, when it is absent. */
#include "tests/test-util.h"

#include <stdio.h>
#include <string.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include "probe/host-layers.h"
#include "probe/qemu-info.h"
#include "qmp/replay.h"
#include "x86/cpu-identity.h"
#include "x86/cpuid-dump.h"
#include "x86/feature-set.h"
#include "x86/feature-table.h"
#include "x86/kvm-cpuid.h"
#include "x86/kvm-emulated.h"

/* What QEMU's host model may have although the silicon lacks it, besides what KVM itself
 * adds (x86/kvm-emulated.c names those, with their kernel sources): bits QEMU fixes up for
 * every host (reference §4.1 and §4.2). The KVM paravirt leaf is not listed: no silicon
 * has it. */
static const char *const qemu_fixed_up_features[] = {
  "pcid", "mtrr", "pat", "mce", "mca", "ht", "hypervisor", "tsc-deadline", "monitor", "arat",
  "topoext", "overflow-recov", "succor", "fb-clear",
};

#define KVM_PARAVIRT_LEAF 0x40000001u

typedef struct {
  const char *what;
  GPtrArray *problems;    /* each fails the test */
  GPtrArray *findings;    /* each printed: real data QEMU disagrees with itself on */
  guint n_checked;
  guint n_host_models;    /* recorded host models compared with the output */
  guint n_guests;         /* recorded guest CPUs compared with the output */
  guint n_model_lists;    /* recorded unavailable-features compared with the output */
} Report;

static Report *
report_new (const char *what)
{
  Report *report = g_new0 (Report, 1);

  report->what = what;
  report->problems = g_ptr_array_new_with_free_func (g_free);
  report->findings = g_ptr_array_new_with_free_func (g_free);
  return report;
}

static void
report_free (Report *report)
{
  g_ptr_array_unref (report->problems);
  g_ptr_array_unref (report->findings);
  g_free (report);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Report, report_free)

G_GNUC_PRINTF (2, 3) static void
report_problem (Report *report, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (report->problems, g_strdup_vprintf (format, args));
  va_end (args);
}

G_GNUC_PRINTF (2, 3) static void
report_finding (Report *report, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (report->findings, g_strdup_vprintf (format, args));
  va_end (args);
}

/* Every problem at once, so one bad file does not hide the others. */
static void
report_finish (Report *report)
{
  for (guint i = 0; i < report->findings->len; i++)
    print_message ("FINDING: %s\n", (char *) g_ptr_array_index (report->findings, i));
  for (guint i = 0; i < report->problems->len; i++)
    print_message ("PROBLEM: %s\n", (char *) g_ptr_array_index (report->problems, i));
  print_message ("%s: %u file(s) checked, %u finding(s), %u problem(s)\n", report->what,
                 report->n_checked, report->findings->len, report->problems->len);
  if (report->problems->len > 0)
    fail_msg ("%s: %u problem(s)", report->what, report->problems->len);
}

/* ---- files ---- */

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static GPtrArray *
list_files (const char *dir_path, const char *prefix, const char *suffix)
{
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, prefix) && g_str_has_suffix (name, suffix))
      g_ptr_array_add (names, g_build_filename (dir_path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  return names;
}

static void
put_json (gpointer object)
{
  json_object_put (object);
}

/* The JSON objects of a file, in order (libvirt's .json files are streams without a greeting). */
static GPtrArray *
load_json_stream (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize length, offset = 0;
  g_autoptr (GPtrArray) objects = g_ptr_array_new_with_free_func (put_json);
  json_tokener *tokener = json_tokener_new ();

  if (!g_file_get_contents (path, &text, &length, error))
    {
      json_tokener_free (tokener);
      return NULL;
    }
  while (offset < length)
    {
      json_object *object;

      while (offset < length && g_ascii_isspace (text[offset]))
        offset++;
      if (offset == length)
        break;
      json_tokener_reset (tokener);
      object = json_tokener_parse_ex (tokener, text + offset, (int) (length - offset));
      if (object == NULL)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not JSON at byte %" G_GSIZE_FORMAT ": %s",
                       path, offset, json_tokener_error_desc (json_tokener_get_error (tokener)));
          json_tokener_free (tokener);
          return NULL;
        }
      offset += json_tokener_get_parse_end (tokener);
      g_ptr_array_add (objects, object);
    }
  json_tokener_free (tokener);
  return g_steal_pointer (&objects);
}

static json_object *
member (json_object *object, const char *name)
{
  json_object *value = NULL;

  if (object == NULL || !json_object_is_type (object, json_type_object))
    return NULL;
  json_object_object_get_ex (object, name, &value);
  return value;
}

static char *
set_difference_text (const X86FeatureSet *a, const X86FeatureSet *b)
{
  X86FeatureSet only;
  g_autoptr (GPtrArray) names = NULL;

  x86_feature_set_subtract (&only, a, b);
  names = x86_feature_set_to_names (&only, TRUE);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (",", (char **) names->pdata);
}

/* Keeps the named features of CPUID words: what a <cpudata> of CPUID leaves can show. */
static void
keep_cpuid_named (X86FeatureSet *set)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);
  const X86FeatureWord *words = x86_feature_words (NULL);
  X86FeatureSet kept;

  x86_feature_set_clear (&kept);
  for (guint i = 0; i < n_features; i++)
    if (words[features[i].word].kind == X86_WORD_CPUID
        && !(features[i].flags & (X86_FEATURE_DYNAMIC | X86_FEATURE_LIBVIRT_ONLY))
        && x86_feature_set_has (set, &features[i]))
      x86_feature_set_add (&kept, &features[i]);
  *set = kept;
}

/* ---- replies/ ---- */

typedef struct {
  char *version;
  GPtrArray *models;          /* names, or NULL when nothing recorded them */
  gboolean host_known;
  X86FeatureSet host;         /* the first host (or max) expansion QEMU answered */
} RecordedFacts;

static void
recorded_facts_clear (RecordedFacts *facts)
{
  g_free (facts->version);
  if (facts->models != NULL)
    g_ptr_array_unref (facts->models);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RecordedFacts, recorded_facts_clear)

static const char *
exchange_command (const QmpRecordedExchange *exchange, json_object *reply_return)
{
  const char *guesses[] = { "query-cpu-definitions", "query-cpu-model-expansion" };

  if (exchange->command != NULL)
    return json_object_get_string (member (exchange->command, "execute"));
  /* Replies-only layout: what the reply's shape says it answers. A machine list has names
   * too; only machines have a cpu-max. */
  if (json_object_is_type (reply_return, json_type_array) && json_object_array_length (reply_return) > 0
      && member (json_object_array_get_idx (reply_return, 0), "cpu-max") != NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (guesses); i++)
    if (qmp_replay_shape_fits (guesses[i], NULL, reply_return))
      return guesses[i];
  return NULL;
}

static void
read_recorded_facts (QmpReplies *replies, RecordedFacts *facts)
{
  json_object *qemu = member (member (member (qmp_replies_segment_greeting (replies, 0), "QMP"),
                                      "version"), "qemu");

  facts->version = g_strdup_printf ("%d.%d.%d", json_object_get_int (member (qemu, "major")),
                                    json_object_get_int (member (qemu, "minor")),
                                    json_object_get_int (member (qemu, "micro")));
  for (guint s = 0; s < qmp_replies_n_segments (replies); s++)
    for (guint e = 0; e < qmp_replies_segment_n_exchanges (replies, s); e++)
      {
        const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (replies, s, e);
        json_object *ret = member (exchange->reply, "return");
        const char *command = ret != NULL ? exchange_command (exchange, ret) : NULL;

        if (command == NULL)
          continue;
        if (g_str_equal (command, "query-cpu-definitions") && facts->models == NULL
            && json_object_is_type (ret, json_type_array))
          {
            facts->models = g_ptr_array_new_with_free_func (g_free);
            for (size_t i = 0; i < json_object_array_length (ret); i++)
              g_ptr_array_add (facts->models, g_strdup (json_object_get_string (
                member (json_object_array_get_idx (ret, i), "name"))));
          }
        else if (g_str_equal (command, "query-cpu-model-expansion") && !facts->host_known)
          {
            json_object *model = member (member (exchange->command, "arguments"), "model");
            const char *name = json_object_get_string (member (model, "name"));
            if (exchange->command != NULL && g_strcmp0 (name, "host") != 0
                && g_strcmp0 (name, "max") != 0)
              continue;
            if (member (member (model, "props"), "migratable") != NULL)
              continue;
            facts->host_known = probe_features_from_expansion (ret, &facts->host, NULL, NULL);
          }
      }
}

static json_object *
run_json (Report *report, const char *path, const char *command)
{
  const char *argv[] = { test_vcpuprobe (), "--replay", path, "--format", "json", command, NULL };
  g_autoptr (TestRun) run = test_run (argv, NULL);
  json_object *output;

  if (run->status != 0)
    {
      report_problem (report, "%s: %s: exit %d: %s", path, command, run->status, g_strchomp (run->err));
      return NULL;
    }
  output = json_tokener_parse (run->out);
  if (output == NULL)
    report_problem (report, "%s: %s: output is not JSON", path, command);
  return output;
}

static gboolean
names_contain (GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (g_strcmp0 (g_ptr_array_index (names, i), name) == 0)
      return TRUE;
  return FALSE;
}

static void
check_model_list (Report *report, const char *path, const char *command, json_object *output,
                  GPtrArray *recorded)
{
  json_object *models = member (output, "models");
  g_autoptr (GPtrArray) printed = g_ptr_array_new ();

  for (size_t i = 0; models != NULL && i < json_object_array_length (models); i++)
    g_ptr_array_add (printed, (gpointer) json_object_get_string (
      member (json_object_array_get_idx (models, i), "name")));
  for (guint i = 0; i < recorded->len; i++)
    if (!names_contain (printed, g_ptr_array_index (recorded, i)))
      report_problem (report, "%s: %s: recorded model %s is missing", path, command,
                      (char *) g_ptr_array_index (recorded, i));
  for (guint i = 0; i < printed->len; i++)
    if (!names_contain (recorded, g_ptr_array_index (printed, i)))
      report_problem (report, "%s: %s: model %s was never recorded", path, command,
                      (char *) g_ptr_array_index (printed, i));
}

static void
check_host_model (Report *report, const char *path, json_object *output, const X86FeatureSet *recorded)
{
  json_object *host_model = member (member (output, "qemu"), "host_model");
  json_object *migratable = member (host_model, "migratable");
  X86FeatureSet printed;
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  if (!json_object_get_boolean (member (host_model, "known")) || migratable == NULL)
    {
      report_problem (report, "%s: host: the recorded host model is not in the output", path);
      return;
    }
  for (size_t i = 0; i < json_object_array_length (migratable); i++)
    g_ptr_array_add (names, (gpointer) json_object_get_string (json_object_array_get_idx (migratable, i)));
  if (!x86_feature_set_from_names (&printed, (const char *const *) names->pdata, names->len, &error))
    {
      report_problem (report, "%s: host: %s", path, error->message);
      return;
    }
  report->n_host_models++;
  if (!x86_feature_set_equal (&printed, recorded))
    {
      g_autofree char *missing = set_difference_text (recorded, &printed);
      g_autofree char *extra = set_difference_text (&printed, recorded);
      report_problem (report, "%s: host: host model differs from the recording: missing [%s], extra [%s]",
                      path, missing, extra);
    }
}

static void
check_replies_file (Report *report, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplies) replies = qmp_replies_load (path, &error);
  g_auto (RecordedFacts) facts = { 0 };
  json_object *host = NULL;
  json_object *models = NULL;

  report->n_checked++;
  if (replies == NULL)
    {
      report_problem (report, "%s", error->message);
      return;
    }
  read_recorded_facts (replies, &facts);
  host = run_json (report, path, "host");
  models = run_json (report, path, "models");
  if (host != NULL)
    {
      const char *version = json_object_get_string (member (member (host, "qemu"), "version"));
      if (g_strcmp0 (version, facts.version) != 0)
        report_problem (report, "%s: host: version %s, recorded %s", path, version, facts.version);
      /* Known without any shape matching: qemu64, the default model of every x86_64 QEMU. */
      if (facts.models != NULL && !names_contain (facts.models, "qemu64"))
        report_problem (report, "%s: the list taken for query-cpu-definitions has no qemu64: it "
                        "is not a CPU model list", path);
      if (facts.models != NULL)
        check_model_list (report, path, "host", host, facts.models);
      if (facts.host_known)
        check_host_model (report, path, host, &facts.host);
    }
  if (models != NULL && facts.models != NULL)
    check_model_list (report, path, "models", models, facts.models);
  /* A replies-only file is replayed by reply shape, which the output must say. */
  if (!qmp_replies_has_commands (replies) && models != NULL
      && !json_object_get_boolean (member (member (models, "replay"), "shape_matched")))
    report_problem (report, "%s: models: replayed by reply shape, and \"replay\" does not say so",
                    path);
  json_object_put (host);
  json_object_put (models);
}
/* Returns how many recorded host models were compared. */
static guint
check_replies_dir (const char *corpus)
{
  g_autofree char *dir = g_build_filename (corpus, "replies", NULL);
  g_autoptr (GPtrArray) files = list_files (dir, "", ".replies");
  g_autoptr (Report) report = report_new ("replies");

  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *base = g_path_get_basename (path);
      /* Other targets' recordings describe other CPUs. */
      if (strstr (base, "x86_64") == NULL)
        continue;
      check_replies_file (report, path);
    }
  if (report->n_checked == 0)
    report_problem (report, "%s: no x86_64 .replies files", dir);
  print_message ("replies: %u recorded host model(s) compared\n", report->n_host_models);
  report_finish (report);
  return report->n_host_models;
}

/* ---- <cpudata> decodings ---- */

/* The features of @set in KVM's leaf, into @kvm_bits. */
static void
keep_kvm_leaf (const X86FeatureSet *set, X86FeatureSet *kvm_bits)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);
  const X86FeatureWord *words = x86_feature_words (NULL);

  x86_feature_set_clear (kvm_bits);
  for (guint i = 0; i < n_features; i++)
    if (words[features[i].word].kind == X86_WORD_CPUID
        && words[features[i].word].leaf == KVM_PARAVIRT_LEAF
        && x86_feature_set_has (set, &features[i]))
      x86_feature_set_add (kvm_bits, &features[i]);
}

/* The CPUID features of a <cpudata>. Files without any ecx_in (libvirt's older layout) say
 * nothing of subleaves: *subleaf_blind tells the caller to compare subleaf 0 words only. */
static gboolean
load_cpudata (const char *path, X86FeatureSet *set, gboolean *subleaf_blind,
              gboolean *has_kvm_leaf, GError **error)
{
  g_autofree char *text = NULL;
  gsize length;
  g_autoptr (X86CpuidDump) dump = NULL;
  const X86CpuidLeaf *kvm_leaf;

  if (!g_file_get_contents (path, &text, &length, error))
    return FALSE;
  *subleaf_blind = strstr (text, "ecx_in") == NULL;
  dump = x86_cpuid_dump_parse_libvirt (text, length, path, error);
  if (dump == NULL)
    return FALSE;
  x86_feature_set_clear (set);
  if (x86_cpuid_dump_n_cpus (dump) > 0)
    x86_feature_set_from_cpuid (set, dump, 0);
  keep_cpuid_named (set);
  kvm_leaf = x86_cpuid_dump_lookup (dump, 0, KVM_PARAVIRT_LEAF, 0);
  *has_kvm_leaf = kvm_leaf != NULL && kvm_leaf->leaf == KVM_PARAVIRT_LEAF;
  return TRUE;
}

static void
drop_subleaf_words (X86FeatureSet *set)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);
  const X86FeatureWord *words = x86_feature_words (NULL);

  for (guint i = 0; i < n_features; i++)
    if (words[features[i].word].subleaf != X86_NO_SUBLEAF && words[features[i].word].subleaf != 0)
      x86_feature_set_remove (set, &features[i]);
}

static void
compare_decoded (Report *report, const char *what, X86FeatureSet *decoded, const char *cpudata_path)
{
  g_autoptr (GError) error = NULL;
  X86FeatureSet recorded, kvm_bits;
  gboolean subleaf_blind, has_kvm_leaf;

  if (!load_cpudata (cpudata_path, &recorded, &subleaf_blind, &has_kvm_leaf, &error))
    {
      report_problem (report, "%s", error->message);
      return;
    }
  keep_cpuid_named (decoded);
  if (subleaf_blind)
    {
      drop_subleaf_words (decoded);
      drop_subleaf_words (&recorded);
    }
  /* A decoding without the KVM leaf at all, of a reply that sets KVM bits: no QEMU and no
   * libvirt decoder drops one whole leaf, but the corpus takes a host's files from
   * different libvirt commits (its SOURCES.txt), and libvirt's test data gained the KVM
   * leaf only later. Said as a finding; the other leaves are still compared. */
  keep_kvm_leaf (decoded, &kvm_bits);
  if (!has_kvm_leaf && !x86_feature_set_is_empty (&kvm_bits))
    {
      g_autofree char *names = set_difference_text (&kvm_bits, &recorded);
      report_finding (report, "%s: %s has no KVM leaf 0x40000001 while the reply sets [%s]: the "
                      "two files come from different libvirt commits; that leaf is not compared",
                      what, cpudata_path, names);
      x86_feature_set_subtract (decoded, decoded, &kvm_bits);
    }
  if (!x86_feature_set_equal (decoded, &recorded))
    {
      g_autofree char *missing = set_difference_text (&recorded, decoded);
      g_autofree char *extra = set_difference_text (decoded, &recorded);
      report_problem (report, "%s decodes to other features than %s: missing [%s], extra [%s]",
                      what, cpudata_path, missing, extra);
    }
}

/* ---- cputestdata/ ---- */

/* Whether a layer above the silicon explains @feature in QEMU's host model of a host of
 * @kind whose CPUs all have @hardware: KVM's leaf, KVM's own rules, or QEMU's fix-ups. */
static gboolean
is_emulated (const X86Feature *feature, const X86KvmHostKind *kind, const X86FeatureSet *hardware)
{
  const X86FeatureWord *word = &x86_feature_words (NULL)[feature->word];

  if (word->kind == X86_WORD_CPUID && word->leaf == KVM_PARAVIRT_LEAF)
    return TRUE;
  if (x86_kvm_emulated_why (kind, hardware, feature) != NULL)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (qemu_fixed_up_features); i++)
    if (g_str_equal (feature->name, qemu_fixed_up_features[i]))
      return TRUE;
  return FALSE;
}

typedef struct {
  Report *report;
  const char *host;
  X86KvmHostKind kind;
  const X86FeatureSet *hardware;
} FindingContext;

static void
report_unexplained (guint word, guint bit, const X86Feature *feature, gpointer user_data)
{
  FindingContext *context = user_data;

  if (feature != NULL && !is_emulated (feature, &context->kind, context->hardware))
    report_finding (context->report, "%s: QEMU's host model enables %s, which the hardware lacks "
                    "and no layer is known to emulate", context->host, feature->name);
}

/* The post-start layout (libvirt before QEMU 2.9): a `feature-words` reply of `-cpu host`
 * followed by the family, model, stepping and model-id the CPU reported, which must be the
 * <cpudata>'s own. Returns the feature-words reply (borrowed), or NULL. */
static json_object *
post_start_host_model (Report *report, const char *json_path, GPtrArray *replies,
                       const X86CpuidDump *dump)
{
  static const char *const identity_ids[] = { "family", "model", "stepping" };
  json_object *feature_words = NULL;
  guint32 signature = x86_cpuid_dump_get (dump, 0, 1, 0, 0);
  guint family = (signature >> 8) & 0xf;
  guint model = (signature >> 4) & 0xf;
  guint values[3];

  if (family == 0x6 || family == 0xf)
    model += ((signature >> 16) & 0xf) << 4;
  if (family == 0xf)
    family += (signature >> 20) & 0xff;
  values[0] = family;
  values[1] = model;
  values[2] = signature & 0xf;
  for (guint i = 0; i < replies->len; i++)
    {
      json_object *reply = g_ptr_array_index (replies, i);
      json_object *ret = member (reply, "return");
      const char *id = json_object_get_string (member (reply, "id"));

      if (json_object_is_type (ret, json_type_array) && json_object_array_length (ret) > 0
          && member (json_object_array_get_idx (ret, 0), "cpuid-register") != NULL)
        feature_words = ret;
      for (guint v = 0; v < G_N_ELEMENTS (identity_ids); v++)
        if (g_strcmp0 (id, identity_ids[v]) == 0 && json_object_is_type (ret, json_type_int)
            && (guint) json_object_get_int (ret) != values[v])
          report_problem (report, "%s: the CPU reported %s %d, the <cpudata> says %u", json_path,
                          id, json_object_get_int (ret), values[v]);
    }
  return feature_words;
}

/* One host: its CPUID dump and QEMU's answers about it. */
static void
check_cputest_host (Report *report, const char *json_path)
{
  g_autofree char *stem = g_strndup (json_path, strlen (json_path) - strlen (".json"));
  g_autofree char *xml_path = g_strconcat (stem, ".xml", NULL);
  g_autofree char *enabled_path = g_strconcat (stem, "-enabled.xml", NULL);
  g_autofree char *host = g_path_get_basename (stem);
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = NULL;
  g_autoptr (GPtrArray) replies = NULL;
  X86FeatureSet hardware, qemu_host, unexplained;
  gboolean expansion_seen = FALSE;
  json_object *feature_words;
  FindingContext context = { report, host, { 0 }, &hardware };

  report->n_checked++;
  dump = x86_cpuid_dump_load (xml_path, &error);
  if (dump == NULL)
    {
      report_problem (report, "%s", error->message);
      return;
    }
  replies = load_json_stream (json_path, &error);
  if (replies == NULL)
    {
      report_problem (report, "%s", error->message);
      return;
    }
  probe_host_layers_common_features (dump, &hardware);
  x86_kvm_host_kind (dump, &hardware, &context.kind);
  x86_feature_set_clear (&qemu_host);
  /* Every expansion of the file: the host model, migratable or not, static or full. */
  for (guint i = 0; i < replies->len; i++)
    {
      json_object *ret = member (g_ptr_array_index (replies, i), "return");
      X86FeatureSet expansion;

      if (member (ret, "model") == NULL)
        continue;
      if (!probe_features_from_expansion (ret, &expansion, NULL, &error))
        {
          report_problem (report, "%s: reply %u: %s", json_path, i + 1, error->message);
          return;
        }
      /* The reader of reply text (what a probe uses) must read libvirt's recorded QEMUs
       * as the reader of objects does. */
      {
        X86FeatureSet from_text;

        if (!probe_features_from_expansion_text (json_object_to_json_string_ext (ret, JSON_C_TO_STRING_PLAIN),
                                                 &from_text, NULL, NULL, NULL)
            || !x86_feature_set_equal (&from_text, &expansion))
          report_problem (report, "%s: reply %u: its text is read otherwise than its objects",
                          json_path, i + 1);
      }
      x86_feature_set_union (&qemu_host, &qemu_host, &expansion);
      expansion_seen = TRUE;
    }
  /* Before QEMU 2.9 the host model is what a started `-cpu host` reports. */
  feature_words = expansion_seen ? NULL : post_start_host_model (report, json_path, replies, dump);
  if (feature_words != NULL)
    {
      if (!x86_feature_set_from_feature_words (&qemu_host, feature_words, NULL, &error))
        {
          report_problem (report, "%s: feature-words: %s", json_path, error->message);
          return;
        }
      /* libvirt decoded the same reply into -enabled.xml: ours must agree. */
      if (g_file_test (enabled_path, G_FILE_TEST_EXISTS))
        {
          X86FeatureSet enabled = qemu_host;
          compare_decoded (report, json_path, &enabled, enabled_path);
        }
    }
  else if (!expansion_seen)
    {
      report_problem (report, "%s: neither a query-cpu-model-expansion nor a feature-words reply",
                      json_path);
      return;
    }
  keep_cpuid_named (&qemu_host);
  x86_feature_set_subtract (&unexplained, &qemu_host, &hardware);
  x86_feature_set_foreach (&unexplained, report_unexplained, &context);

  for (guint i = 0; i < replies->len; i++)
    {
      json_object *ret = member (g_ptr_array_index (replies, i), "return");

      if (!json_object_is_type (ret, json_type_array)
          || !qmp_replay_shape_fits ("query-cpu-definitions", NULL, ret))
        continue;
      for (size_t m = 0; m < json_object_array_length (ret); m++)
        {
          json_object *model = json_object_array_get_idx (ret, m);
          json_object *unavailable = member (model, "unavailable-features");
          const char *model_name = json_object_get_string (member (model, "name"));

          for (size_t f = 0; json_object_is_type (unavailable, json_type_array)
                             && f < json_object_array_length (unavailable); f++)
            {
              const char *name = json_object_get_string (json_object_array_get_idx (unavailable, f));
              const X86Feature *feature = name != NULL ? x86_feature_lookup (name) : NULL;
              if (feature != NULL && x86_feature_set_has (&qemu_host, feature))
                report_finding (report, "%s: model %s is blocked by %s, which QEMU's host model enables",
                                host, model_name, name);
            }
        }
    }
}

static void
check_cputest_dir (const char *corpus)
{
  g_autofree char *dir = g_build_filename (corpus, "cputestdata", NULL);
  g_autoptr (GPtrArray) files = list_files (dir, "x86_64-cpuid-", ".json");
  g_autoptr (Report) report = report_new ("cputestdata");

  for (guint i = 0; i < files->len; i++)
    check_cputest_host (report, g_ptr_array_index (files, i));
  if (report->n_checked == 0)
    report_problem (report, "%s: no x86_64-cpuid-*.json files", dir);
  report_finish (report);
}

/* ---- monitorjson/ ---- */

/* The CPU's properties as post-start replies give them: qom-list-get's list, or one qom-get
 * per property (the command is recorded beside each reply). Feature words decode directly. */
typedef struct {
  GHashTable *booleans;          /* property → TRUE/FALSE */
  json_object *unavailable;      /* borrowed; NULL when absent */
  json_object *feature_words;    /* borrowed */
} GuestCpuReplies;

static void
read_guest_cpu_replies (GPtrArray *objects, GuestCpuReplies *cpu)
{
  json_object *command = NULL;

  cpu->booleans = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < objects->len; i++)
    {
      json_object *object = g_ptr_array_index (objects, i);
      json_object *ret = member (object, "return");
      const char *execute = json_object_get_string (member (command, "execute"));
      const char *property = json_object_get_string (member (member (command, "arguments"), "property"));

      if (member (object, "execute") != NULL)
        {
          command = object;
          continue;
        }
      if (ret == NULL)
        continue;
      if (json_object_is_type (ret, json_type_array) && json_object_array_length (ret) > 0
          && member (json_object_array_get_idx (ret, 0), "cpuid-register") != NULL
          && g_strcmp0 (property, "filtered-features") != 0)
        cpu->feature_words = ret;
      else if (g_strcmp0 (execute, "qom-get") == 0 && property != NULL
               && json_object_is_type (ret, json_type_boolean))
        g_hash_table_insert (cpu->booleans, (gpointer) property,
                             GINT_TO_POINTER (json_object_get_boolean (ret)));
      else if (g_strcmp0 (execute, "qom-get") == 0 && g_strcmp0 (property, "unavailable-features") == 0)
        cpu->unavailable = ret;
      else if (g_strcmp0 (execute, "qom-list-get") == 0 && json_object_is_type (ret, json_type_array))
        {
          json_object *properties = member (json_object_array_get_idx (ret, 0), "properties");
          for (size_t p = 0; properties != NULL && p < json_object_array_length (properties); p++)
            {
              json_object *prop = json_object_array_get_idx (properties, p);
              const char *name = json_object_get_string (member (prop, "name"));
              json_object *value = member (prop, "value");
              if (json_object_is_type (value, json_type_boolean))
                g_hash_table_insert (cpu->booleans, (gpointer) name,
                                     GINT_TO_POINTER (json_object_get_boolean (value)));
              else if (g_strcmp0 (name, "unavailable-features") == 0)
                cpu->unavailable = value;
            }
        }
    }
}

/* Enabled = every feature whose QEMU property reads true (kvmclock sets both its bits). */
static void
features_from_booleans (GHashTable *booleans, X86FeatureSet *set)
{
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  x86_feature_set_clear (set);
  for (guint i = 0; i < n_features; i++)
    {
      const char *property = x86_feature_qemu_property (&features[i]);
      if (property != NULL && GPOINTER_TO_INT (g_hash_table_lookup (booleans, property)))
        x86_feature_set_add (set, &features[i]);
    }
}

static void
check_monitor_file (Report *report, const char *json_path)
{
  g_autofree char *stem = g_strndup (json_path, strlen (json_path) - strlen (".json"));
  g_autofree char *data_path = g_strconcat (stem, ".data", NULL);
  g_autofree char *enabled_path = g_strconcat (stem, "-enabled.xml", NULL);
  g_autofree char *disabled_path = g_strconcat (stem, "-disabled.xml", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) objects = NULL;
  GuestCpuReplies cpu = { 0 };
  X86FeatureSet enabled;

  /* Only replies with libvirt's decoding beside them say what they should decode to. */
  if (!g_file_test (data_path, G_FILE_TEST_EXISTS) && !g_file_test (enabled_path, G_FILE_TEST_EXISTS))
    return;
  report->n_checked++;
  objects = load_json_stream (json_path, &error);
  if (objects == NULL)
    {
      report_problem (report, "%s", error->message);
      return;
    }
  read_guest_cpu_replies (objects, &cpu);
  if (cpu.feature_words != NULL)
    {
      if (!x86_feature_set_from_feature_words (&enabled, cpu.feature_words, NULL, &error))
        report_problem (report, "%s: %s", json_path, error->message);
    }
  else if (g_hash_table_size (cpu.booleans) > 0)
    features_from_booleans (cpu.booleans, &enabled);
  else
    report_problem (report, "%s: neither feature-words nor boolean CPU properties", json_path);

  if (error == NULL && (cpu.feature_words != NULL || g_hash_table_size (cpu.booleans) > 0))
    compare_decoded (report, json_path, &enabled,
                     g_file_test (data_path, G_FILE_TEST_EXISTS) ? data_path : enabled_path);
  if (cpu.unavailable != NULL && g_file_test (disabled_path, G_FILE_TEST_EXISTS))
    {
      X86FeatureSet disabled;
      g_autoptr (GPtrArray) names = g_ptr_array_new ();
      for (size_t i = 0; i < json_object_array_length (cpu.unavailable); i++)
        {
          const char *name = json_object_get_string (json_object_array_get_idx (cpu.unavailable, i));
          /* MSR features and names we lack cannot be in a CPUID <cpudata>. */
          if (x86_feature_lookup (name) != NULL)
            g_ptr_array_add (names, (gpointer) name);
        }
      if (x86_feature_set_from_names (&disabled, (const char *const *) names->pdata, names->len, &error))
        compare_decoded (report, json_path, &disabled, disabled_path);
      else
        report_problem (report, "%s: %s", json_path, error->message);
    }
  g_hash_table_unref (cpu.booleans);
}

static void
check_monitor_dir (const char *corpus)
{
  g_autofree char *dir = g_build_filename (corpus, "monitorjson", NULL);
  g_autoptr (GPtrArray) files = list_files (dir, "", ".json");
  g_autoptr (Report) report = report_new ("monitorjson");

  for (guint i = 0; i < files->len; i++)
    check_monitor_file (report, g_ptr_array_index (files, i));
  if (report->n_checked == 0)
    report_problem (report, "%s: no post-start replies with their decoding beside them", dir);
  report_finish (report);
}

/* ---- recordings/ ---- */

/* What a recording's own data says, beside the output of its replay. */
typedef struct {
  Report *report;
  const char *path;
  QmpReplies *replies;
  const char *command;         /* host, models, check, expand */
  const char *accel;           /* --accel of the recorded run, or NULL */
  const char *cpu;             /* the CPU argument of check and expand */
  X86FeatureSet hardware;      /* the dump's silicon, every CPU */
  const X86KvmCpuid *kvm;      /* the dump's KVM */
} RecordingCheck;

/* The recorded command line, replayed: the same command and options, the recording for
 * the QEMU and the dump for the host; JSON out. */
static GPtrArray *
replay_argv (RecordingCheck *check, json_object *recorded_argv, const char *dump_path)
{
  static const char *const commands[] = { "host", "models", "check", "expand", NULL };
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  g_ptr_array_add (argv, (gpointer) "--replay");
  g_ptr_array_add (argv, (gpointer) check->path);
  g_ptr_array_add (argv, (gpointer) "--cpuid-dump");
  g_ptr_array_add (argv, (gpointer) dump_path);
  g_ptr_array_add (argv, (gpointer) "--format");
  g_ptr_array_add (argv, (gpointer) "json");
  for (size_t i = 1; i < json_object_array_length (recorded_argv); i++)
    {
      const char *arg = json_object_get_string (json_object_array_get_idx (recorded_argv, i));

      if (g_strcmp0 (arg, "--record") == 0 || g_strcmp0 (arg, "--qemu") == 0)
        {
          i++;
          continue;
        }
      if (g_strcmp0 (arg, "--accel") == 0 && i + 1 < json_object_array_length (recorded_argv))
        check->accel = json_object_get_string (json_object_array_get_idx (recorded_argv, i + 1));
      if (check->command != NULL && check->cpu == NULL
          && (g_str_equal (check->command, "check") || g_str_equal (check->command, "expand")))
        check->cpu = arg;
      if (check->command == NULL && arg != NULL && g_strv_contains (commands, arg))
        check->command = arg;
      g_ptr_array_add (argv, (gpointer) arg);
    }
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* The reply of the first exchange of a segment that @matches, or NULL (borrowed). */
typedef gboolean (*ExchangeMatch) (json_object *command, gconstpointer wanted);

static json_object *
segment_return (QmpReplies *replies, guint segment, ExchangeMatch matches, gconstpointer wanted)
{
  for (guint e = 0; e < qmp_replies_segment_n_exchanges (replies, segment); e++)
    {
      const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (replies, segment, e);
      if (exchange->command != NULL && matches (exchange->command, wanted))
        return member (exchange->reply, "return");
    }
  return NULL;
}

static gboolean
is_qom_get_of (json_object *command, gconstpointer property)
{
  return g_strcmp0 (json_object_get_string (member (command, "execute")), "qom-get") == 0
         && g_strcmp0 (json_object_get_string (member (member (command, "arguments"), "property")),
                       property) == 0;
}

static gboolean
is_expansion_of (json_object *command, gconstpointer model)
{
  json_object *requested = member (member (command, "arguments"), "model");

  return g_strcmp0 (json_object_get_string (member (command, "execute")),
                    "query-cpu-model-expansion") == 0
         && g_strcmp0 (json_object_get_string (member (requested, "name")), model) == 0
         && member (member (requested, "props"), "migratable") == NULL;
}

static gboolean
is_command (json_object *command, gconstpointer name)
{
  return g_strcmp0 (json_object_get_string (member (command, "execute")), name) == 0;
}

/* The segment whose QEMU ran with @accel and -cpu @cpu (NULL: none), or -1. */
static int
find_segment (QmpReplies *replies, const char *accel, const char *cpu, gboolean machine_none)
{
  for (guint s = 0; s < qmp_replies_n_segments (replies); s++)
    {
      json_object *launch = qmp_replies_segment_launch (replies, s);
      const char *machine = json_object_get_string (member (launch, "machine"));

      if (g_strcmp0 (json_object_get_string (member (launch, "accel")), accel) == 0
          && g_strcmp0 (json_object_get_string (member (launch, "cpu")), cpu) == 0
          && (g_strcmp0 (machine, "none") == 0) == machine_none)
        return (int) s;
    }
  return -1;
}

static gboolean
names_to_set (RecordingCheck *check, json_object *names, const char *what, X86FeatureSet *set)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;

  for (size_t i = 0; names != NULL && i < json_object_array_length (names); i++)
    g_ptr_array_add (list, (gpointer) json_object_get_string (json_object_array_get_idx (names, i)));
  if (x86_feature_set_from_names (set, (const char *const *) list->pdata, list->len, &error))
    return TRUE;
  report_problem (check->report, "%s: %s: %s", check->path, what, error->message);
  return FALSE;
}

static gboolean
in_cpuid (const X86Feature *feature)
{
  return x86_feature_words (NULL)[feature->word].kind == X86_WORD_CPUID;
}

/* Each removal names the layer the dump says removed it. */
static void
check_removal_layers (RecordingCheck *check, json_object *output)
{
  json_object *removed = member (output, "removed");

  for (size_t i = 0; removed != NULL && i < json_object_array_length (removed); i++)
    {
      json_object *change = json_object_array_get_idx (removed, i);
      const char *name = json_object_get_string (member (change, "feature"));
      const char *reason = json_object_get_string (member (change, "reason"));
      const X86Feature *feature = x86_feature_lookup (name);
      gboolean in_kvm, in_silicon;

      if (feature == NULL || !in_cpuid (feature))
        continue;
      in_kvm = x86_feature_set_has (&check->kvm->supported_features, feature);
      in_silicon = x86_feature_set_has (&check->hardware, feature);
      if ((g_strcmp0 (reason, "kvm") == 0 && in_kvm)
          || (g_strcmp0 (reason, "hardware") == 0 && (in_silicon || in_kvm)))
        report_problem (check->report, "%s: %s removed by %s, but the dump's %s %s it", check->path,
                        name, reason, in_kvm ? "KVM" : "silicon", in_kvm ? "supports" : "has");
    }
}

/* check and expand: the guest is what the recorded QEMU created or expanded. */
static void
check_guest (RecordingCheck *check, json_object *output)
{
  const char *method = json_object_get_string (member (output, "method"));
  const char *model = json_object_get_string (member (member (output, "requested"), "model"));
  X86FeatureSet guest, recorded, filtered, removed_set, lost;
  int segment;
  json_object *removed = member (output, "removed");
  g_autoptr (GError) error = NULL;

  if (!names_to_set (check, member (member (output, "guest"), "enabled"), "guest.enabled", &guest))
    return;
  x86_feature_set_clear (&removed_set);
  for (size_t i = 0; removed != NULL && i < json_object_array_length (removed); i++)
    {
      const X86Feature *feature = x86_feature_lookup (json_object_get_string (
        member (json_object_array_get_idx (removed, i), "feature")));
      if (feature != NULL)
        x86_feature_set_add (&removed_set, feature);
    }
  if (g_strcmp0 (method, "post-start") == 0)
    {
      /* QEMU's feature-words are the started CPU after filtering; filtered-features what
       * the filter took. */
      json_object *words, *filtered_words;

      segment = find_segment (check->replies, check->accel, check->cpu, FALSE);
      words = segment >= 0 ? segment_return (check->replies, segment, is_qom_get_of, "feature-words") : NULL;
      filtered_words = segment >= 0 ? segment_return (check->replies, segment, is_qom_get_of,
                                                      "filtered-features") : NULL;
      if (words == NULL || !x86_feature_set_from_feature_words (&recorded, words, NULL, &error))
        {
          report_problem (check->report, "%s: no readable feature-words of -cpu %s", check->path, check->cpu);
          return;
        }
      x86_feature_set_named_only (&recorded);
      check->report->n_guests++;
      if (!x86_feature_set_equal (&guest, &recorded))
        {
          g_autofree char *missing = set_difference_text (&recorded, &guest);
          g_autofree char *extra = set_difference_text (&guest, &recorded);
          report_problem (check->report, "%s: the guest is not the recorded feature-words: missing [%s], "
                          "extra [%s]", check->path, missing, extra);
        }
      if (filtered_words != NULL
          && x86_feature_set_from_feature_words (&filtered, filtered_words, NULL, NULL))
        {
          x86_feature_set_named_only (&filtered);
          x86_feature_set_subtract (&lost, &filtered, &removed_set);
          if (!x86_feature_set_is_empty (&lost))
            {
              g_autofree char *names = set_difference_text (&lost, &removed_set);
              report_problem (check->report, "%s: QEMU filtered [%s], which the output does not list "
                              "as removed", check->path, names);
            }
        }
    }
  else
    {
      json_object *expansion;

      segment = find_segment (check->replies, check->accel, NULL, FALSE);
      expansion = segment >= 0 ? segment_return (check->replies, segment, is_expansion_of, model) : NULL;
      if (expansion == NULL || !probe_features_from_expansion (expansion, &recorded, NULL, &error))
        {
          report_problem (check->report, "%s: no expansion of %s recorded", check->path, model);
          return;
        }
      x86_feature_set_named_only (&recorded);
      check->report->n_guests++;
      x86_feature_set_subtract (&lost, &guest, &recorded);
      if (!x86_feature_set_is_empty (&lost))
        {
          g_autofree char *names = set_difference_text (&lost, &recorded);
          report_problem (check->report, "%s: the guest has [%s], which QEMU's expansion of %s lacks",
                          check->path, names, model);
        }
    }
  check_removal_layers (check, output);
}

/* host: the KVM column is the dump's KVM table, and QEMU's host model the recorded one. */
static void
check_host_dump (RecordingCheck *check, json_object *output)
{
  json_object *features = member (output, "features");
  int segment = find_segment (check->replies, "kvm", NULL, TRUE);
  json_object *expansion = segment >= 0 ? segment_return (check->replies, segment, is_expansion_of, "host") : NULL;
  X86FeatureSet recorded;

  json_object_object_foreach (features, name, layers)
    {
      const X86Feature *feature = x86_feature_lookup (name);
      const char *kvm = json_object_get_string (member (layers, "kvm"));

      if (feature != NULL && in_cpuid (feature)
          && (g_strcmp0 (kvm, "supported") == 0)
             != x86_feature_set_has (&check->kvm->supported_features, feature))
        report_problem (check->report, "%s: host: kvm of %s is %s, the dump's KVM table says otherwise",
                        check->path, name, kvm);
      /* KVM's table beyond the silicon: each bit must be one of KVM's own (kvm-emulated). */
      if (feature != NULL && in_cpuid (feature) && g_strcmp0 (kvm, "supported") == 0
          && g_strcmp0 (json_object_get_string (member (layers, "hardware")), "all") != 0
          && x86_feature_words (NULL)[feature->word].leaf != KVM_PARAVIRT_LEAF
          && member (layers, "kvm_emulated") == NULL)
        report_finding (check->report, "%s: host: KVM supports %s, which the silicon lacks and no "
                        "rule of KVM's explains", check->path, name);
    }
  if (expansion != NULL && probe_features_from_expansion (expansion, &recorded, NULL, NULL))
    check_host_model (check->report, check->path, output, &recorded);
}

/* models: usable and blockers are the recorded unavailable-features, where QEMU has them. */
static void
check_models_list (RecordingCheck *check, json_object *output)
{
  json_object *definitions = segment_return (check->replies, 0, is_command, "query-cpu-definitions");
  json_object *models = member (output, "models");

  for (size_t i = 0; definitions != NULL && i < json_object_array_length (definitions); i++)
    {
      json_object *definition = json_object_array_get_idx (definitions, i);
      json_object *unavailable = member (definition, "unavailable-features");
      const char *name = json_object_get_string (member (definition, "name"));

      if (unavailable == NULL)
        continue;
      if (i == 0)
        check->report->n_model_lists++;
      for (size_t m = 0; models != NULL && m < json_object_array_length (models); m++)
        {
          json_object *model = json_object_array_get_idx (models, m);
          json_object *blockers = member (model, "blockers");

          if (g_strcmp0 (json_object_get_string (member (model, "name")), name) != 0)
            continue;
          if (json_object_get_boolean (member (model, "usable"))
              != (json_object_array_length (unavailable) == 0)
              || blockers == NULL || json_object_array_length (blockers) != json_object_array_length (unavailable))
            report_problem (check->report, "%s: models: %s is %s with %zu blocker(s), QEMU recorded %zu "
                            "unavailable feature(s)", check->path, name,
                            json_object_get_boolean (member (model, "usable")) ? "usable" : "unusable",
                            blockers != NULL ? json_object_array_length (blockers) : 0,
                            json_object_array_length (unavailable));
        }
    }
}

/* @doctor, when not NULL, changes the output before it is checked (to prove the checks). */
static void
check_recording (Report *report, const char *path, const char *dump_path, const X86CpuidDump *dump,
                 void (*doctor) (json_object *output))
{
  g_autoptr (GError) error = NULL;
  RecordingCheck check = { report, path, NULL, NULL, NULL, NULL, { { 0 } }, x86_cpuid_dump_kvm (dump) };
  g_autoptr (QmpReplies) replies = qmp_replies_load (path, &error);
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (TestRun) run = NULL;
  json_object *recorded_argv = member (replies != NULL ? qmp_replies_metadata (replies) : NULL, "argv");
  json_object *output;
  const char *verdict;

  report->n_checked++;
  if (replies == NULL || recorded_argv == NULL)
    {
      report_problem (report, "%s: %s", path, replies == NULL ? error->message : "no recorded argv");
      return;
    }
  check.replies = replies;
  probe_host_layers_common_features (dump, &check.hardware);
  argv = replay_argv (&check, recorded_argv, dump_path);
  run = test_run ((const char *const *) argv->pdata, NULL);
  output = json_tokener_parse (run->out);
  verdict = json_object_get_string (member (output, "verdict"));
  if (output == NULL || check.command == NULL
      || !(run->status == 0 || (run->status == 1 && g_strcmp0 (verdict, "fail") == 0)))
    {
      report_problem (report, "%s: %s: exit %d: %s", path, check.command, run->status, g_strchomp (run->err));
      json_object_put (output);
      return;
    }
  if (doctor != NULL)
    doctor (output);
  if (g_str_equal (check.command, "check") || g_str_equal (check.command, "expand"))
    check_guest (&check, output);
  else if (g_str_equal (check.command, "host"))
    check_host_dump (&check, output);
  else
    check_models_list (&check, output);
  json_object_put (output);
}

static void
check_recordings_dir (const char *corpus)
{
  g_autofree char *dir = g_build_filename (corpus, "recordings", NULL);
  g_autofree char *dump_path = g_build_filename (dir, "this-host.cpuid.json", NULL);
  g_autoptr (GPtrArray) files = list_files (dir, "", ".replies");
  g_autoptr (Report) report = report_new ("recordings");
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_load (dump_path, &error);

  if (dump == NULL || x86_cpuid_dump_kvm (dump) == NULL)
    report_problem (report, "%s: %s", dump_path, dump == NULL ? error->message : "no KVM table");
  for (guint i = 0; dump != NULL && x86_cpuid_dump_kvm (dump) != NULL && i < files->len; i++)
    check_recording (report, g_ptr_array_index (files, i), dump_path, dump, NULL);
  if (report->n_checked == 0)
    report_problem (report, "%s: no .replies files", dir);
  print_message ("recordings: compared with the recorded data: %u guest(s), %u host model(s), "
                 "%u model list(s)\n", report->n_guests, report->n_host_models, report->n_model_lists);
  report_finish (report);
}

/* ---- well-known hosts ---- */

/* What some CPUs in libvirt's cputestdata have and lack, from their makers' documents, never
 * from a dump, so a decoder that misreads a register cannot agree with itself:
 *  - family and model: Intel SDM vol. 4, table 2-1 (DisplayFamily_DisplayModel 06_3FH
 *    Haswell-E, 06_4FH Broadwell-E, 06_5EH Skylake, 06_9EH Kaby Lake); AMD's revision guide
 *    for family 17h models 00h-0Fh (pub. 55449: EPYC 7001 is family 17h model 01h);
 *  - features: Intel ARK's "Instruction Set Extensions" of each part (AVX2 on all four);
 *    Intel SDM vol. 1 and the ISE reference: FMA and MOVBE since Haswell, ADX and RDSEED since
 *    Broadwell, CLFLUSHOPT since Skylake, AVX-512 since Xeon Phi x200 and Skylake-SP, SHA on big
 *    cores only since Ice Lake; AMD's software optimisation guide for family 17h (pub. 55723):
 *    SSE4a, AVX2, FMA and SHA supported, no AVX-512, and XOP dropped with Zen. */
typedef struct {
  const char *name;        /* NAME of cputestdata/x86_64-cpuid-NAME.xml */
  const char *vendor;
  guint family, model;
  const char *has[6];      /* QEMU names; unused slots are NULL */
  const char *lacks[5];
} KnownHost;

static const KnownHost known_hosts[] = {
  { "EPYC-7601-32-Core", "AuthenticAMD", 0x17, 0x01,
    { "sse4a", "avx2", "fma", "sha-ni" }, { "avx512f", "xop" } },
  { "Xeon-E5-2650-v3", "GenuineIntel", 0x6, 0x3f,
    { "avx2", "fma", "movbe", "bmi2" }, { "avx512f", "sha-ni", "adx", "rdseed" } },
  { "Xeon-E5-2650-v4", "GenuineIntel", 0x6, 0x4f,
    { "avx2", "fma", "adx", "rdseed" }, { "avx512f", "sha-ni", "clflushopt" } },
  { "Core-i5-6600", "GenuineIntel", 0x6, 0x5e,
    { "avx2", "fma", "adx", "clflushopt" }, { "avx512f", "sha-ni" } },
  { "Core-i7-7700", "GenuineIntel", 0x6, 0x9e,
    { "avx2", "fma", "adx", "clflushopt" }, { "avx512f", "sha-ni" } },
};

static const KnownHost *
find_known_host (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_hosts); i++)
    if (g_str_equal (known_hosts[i].name, name))
      return &known_hosts[i];
  fail_msg ("%s is not a known host", name);
  return NULL;
}

static const X86Feature *
known_feature (const char *name)
{
  const X86Feature *feature = x86_feature_lookup (name);

  /* A misspelt name in the table above would otherwise check nothing. */
  if (feature == NULL)
    fail_msg ("known hosts: %s is no feature", name);
  return feature;
}

static void
check_known_host (Report *report, const char *xml_path, const KnownHost *known)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_load (xml_path, &error);
  g_autoptr (X86CpuIdentity) identity = NULL;
  X86FeatureSet decoded;

  report->n_checked++;
  if (dump == NULL)
    {
      report_problem (report, "%s", error->message);
      return;
    }
  identity = x86_cpu_identity_from_dump (dump, FALSE);
  if (g_strcmp0 (identity->vendor, known->vendor) != 0 || identity->family != known->family
      || identity->model != known->model)
    report_problem (report, "%s: %s family 0x%x model 0x%x, but a %s is %s family 0x%x model 0x%x",
                    xml_path, identity->vendor, identity->family, identity->model, known->name,
                    known->vendor, known->family, known->model);
  x86_feature_set_from_cpuid (&decoded, dump, 0);
  for (guint i = 0; i < G_N_ELEMENTS (known->has) && known->has[i] != NULL; i++)
    if (!x86_feature_set_has (&decoded, known_feature (known->has[i])))
      report_problem (report, "%s: decodes without %s, which every %s has", xml_path,
                      known->has[i], known->name);
  for (guint i = 0; i < G_N_ELEMENTS (known->lacks) && known->lacks[i] != NULL; i++)
    if (x86_feature_set_has (&decoded, known_feature (known->lacks[i])))
      report_problem (report, "%s: decodes with %s, which no %s has", xml_path,
                      known->lacks[i], known->name);
}

static void
append_cpuid_element (GString *xml, guint32 leaf, guint32 eax, guint32 ebx, guint32 ecx, guint32 edx)
{
  g_string_append_printf (xml, "  <cpuid eax_in='0x%08x' ecx_in='0x00' eax='0x%08x' ebx='0x%08x' "
                          "ecx='0x%08x' edx='0x%08x'/>\n", leaf, eax, ebx, ecx, edx);
}

/* A Xeon E5-2650 v3 (Haswell-EP) as libvirt's <cpudata> would hold it, leaves 0, 1, 7 and
 * 0x8000_0001 only, written here bit by bit from the Intel SDM vol. 2A (CPUID, tables 3-8 and
 * 3-10) rather than through our feature table or dump writer, so the check decodes what it
 * did not encode. @extra_7_ebx: bits to add to leaf 7 EBX, to make the CPU lie. */
static void
write_haswell_cpudata (const char *path, guint32 extra_7_ebx)
{
  /* CPUID.1:EAX of stepping R2 (Intel's E5 v3 specification update). */
  const guint32 signature = 0x000306f2;
  /* fpu tsc cx8 apic cmov mmx fxsr sse sse2 */
  const guint32 leaf1_edx = 1u << 0 | 1u << 4 | 1u << 8 | 1u << 9 | 1u << 15 | 1u << 23
                            | 1u << 24 | 1u << 25 | 1u << 26;
  /* sse3 pclmulqdq ssse3 fma cx16 sse4.1 sse4.2 x2apic movbe popcnt aes xsave avx f16c rdrand */
  const guint32 leaf1_ecx = 1u << 0 | 1u << 1 | 1u << 9 | 1u << 12 | 1u << 13 | 1u << 19
                            | 1u << 20 | 1u << 21 | 1u << 22 | 1u << 23 | 1u << 25 | 1u << 26
                            | 1u << 28 | 1u << 29 | 1u << 30;
  /* fsgsbase bmi1 avx2 smep bmi2 erms invpcid */
  const guint32 leaf7_ebx = 1u << 0 | 1u << 3 | 1u << 5 | 1u << 7 | 1u << 8 | 1u << 9 | 1u << 10;
  /* lahf-lm abm; syscall nx pdpe1gb rdtscp lm */
  const guint32 ext_ecx = 1u << 0 | 1u << 5;
  const guint32 ext_edx = 1u << 11 | 1u << 20 | 1u << 26 | 1u << 27 | 1u << 29;
  g_autoptr (GString) xml = g_string_new ("<!-- Intel(R) Xeon(R) CPU E5-2650 v3, from the SDM -->\n"
                                          "<cpudata arch='x86'>\n");

  /* "GenuineIntel" in EBX, EDX, ECX. */
  append_cpuid_element (xml, 0, 7, 0x756e6547, 0x6c65746e, 0x49656e69);
  append_cpuid_element (xml, 1, signature, 0, leaf1_ecx, leaf1_edx);
  append_cpuid_element (xml, 7, 0, leaf7_ebx | extra_7_ebx, 0, 0);
  append_cpuid_element (xml, 0x80000000, 0x80000001, 0, 0, 0);
  append_cpuid_element (xml, 0x80000001, 0, 0, ext_ecx, ext_edx);
  g_string_append (xml, "</cpudata>\n");
  assert_true (g_file_set_contents (path, xml->str, -1, NULL));
}

/* ---- a corpus of our own, made at test time ---- */

static char *self_corpus;

static QmpReplies *
load_own_recording (const char *name)
{
  g_autofree char *relative = g_strconcat ("qmp-replies/", name, NULL);
  g_autofree char *path = test_data_path (relative);
  g_autoptr (GError) error = NULL;
  QmpReplies *replies = qmp_replies_load (path, &error);

  if (replies == NULL)
    fail_msg ("%s", error->message);
  return replies;
}

/* The reply to the first @command of segment 0 (borrowed). */
static json_object *
recorded_reply (QmpReplies *replies, const char *command)
{
  for (guint e = 0; e < qmp_replies_segment_n_exchanges (replies, 0); e++)
    {
      const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (replies, 0, e);
      if (exchange->command != NULL && exchange->reply != NULL
          && g_strcmp0 (json_object_get_string (member (exchange->command, "execute")), command) == 0)
        return exchange->reply;
    }
  fail_msg ("%s: no reply to %s", qmp_replies_path (replies), command);
  return NULL;
}

static void
append_json (GString *out, json_object *object, const char *id)
{
  json_object *copy = NULL;

  json_object_deep_copy (object, &copy, NULL);
  if (id != NULL)
    json_object_object_add (copy, "id", json_object_new_string (id));
  g_string_append_printf (out, "%s\n\n", json_object_to_json_string_ext (copy, JSON_C_TO_STRING_PRETTY));
  json_object_put (copy);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  assert_int_equal (g_mkdir_with_parents (dir, 0755), 0);
  assert_true (g_file_set_contents (path, text, -1, NULL));
}

/* libvirt's replies-only files follow libvirt's order, not ours: the greeting, then
 * qmp_capabilities, query-version, query-commands and the rest. Our models recording in
 * that order (a command list made up of what it needs), so a replay that serves replies in
 * order rather than by shape fails here as it would on caps_1.5.3. */
static void
write_libvirt_ordered (const char *dir, QmpReplies *models)
{
  static const char *const commands[] = {
    "qmp_capabilities", "query-version", "query-commands", "query-kvm", "query-machines",
    "query-cpu-definitions", "query-cpu-model-expansion", "qom-get", "quit",
  };
  g_autoptr (GString) text = g_string_new (NULL);
  json_object *version = json_object_new_object ();
  json_object *command_list = json_object_new_array ();
  json_object *reply;
  json_object *qemu = member (member (qmp_replies_segment_greeting (models, 0), "QMP"), "version");

  append_json (text, qmp_replies_segment_greeting (models, 0), NULL);
  reply = json_object_new_object ();
  json_object_object_add (reply, "return", json_object_new_object ());
  append_json (text, reply, "libvirt-1");
  json_object_put (reply);
  json_object_object_add (version, "return", json_object_get (qemu));
  append_json (text, version, "libvirt-2");
  json_object_put (version);
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      json_object *entry = json_object_new_object ();
      json_object_object_add (entry, "name", json_object_new_string (commands[i]));
      json_object_array_add (command_list, entry);
    }
  reply = json_object_new_object ();
  json_object_object_add (reply, "return", command_list);
  append_json (text, reply, "libvirt-3");
  json_object_put (reply);
  for (guint e = 0; e < qmp_replies_segment_n_exchanges (models, 0); e++)
    {
      const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (models, 0, e);
      const char *command = json_object_get_string (member (exchange->command, "execute"));
      g_autofree char *id = g_strdup_printf ("libvirt-%u", e + 4);
      if (exchange->reply != NULL && g_strcmp0 (command, "quit") != 0
          && g_strcmp0 (command, "qmp_capabilities") != 0)
        append_json (text, exchange->reply, id);
    }
  write_file (dir, "caps_7.2.0-libvirt-order_x86_64.replies", text->str);
}

/* libvirt's two caps layouts: our host recording as it is (commands and replies), and our
 * models recording with its commands taken out (replies only, as libvirt wrote before 3.0). */
static void
make_self_replies (const char *dir)
{
  g_autoptr (QmpReplies) host = load_own_recording ("host-kvm.replies");
  g_autoptr (QmpReplies) models = load_own_recording ("models-kvm.replies");
  g_autofree char *host_text = NULL;
  g_autoptr (GString) replies_only = g_string_new (NULL);

  assert_true (g_file_get_contents (qmp_replies_path (host), &host_text, NULL, NULL));
  write_file (dir, "caps_7.2.0_x86_64.replies", host_text);
  append_json (replies_only, qmp_replies_segment_greeting (models, 0), NULL);
  for (guint e = 0; e < qmp_replies_segment_n_exchanges (models, 0); e++)
    {
      const QmpRecordedExchange *exchange = qmp_replies_segment_exchange (models, 0, e);
      const char *command = json_object_get_string (member (exchange->command, "execute"));
      g_autofree char *id = g_strdup_printf ("libvirt-%u", e + 1);
      /* libvirt never recorded the reply to quit. */
      if (exchange->reply != NULL && g_strcmp0 (command, "quit") != 0)
        append_json (replies_only, exchange->reply, id);
    }
  write_file (dir, "caps_7.2.0-replies-only_x86_64.replies", replies_only->str);
  write_libvirt_ordered (dir, models);
}

/* A cputestdata host: this machine's recorded CPUID as <cpudata>, and QEMU's host expansion
 * and definitions as the reply stream libvirt keeps beside it. */
static void
make_self_cputest (const char *dir)
{
  g_autofree char *dump_path = test_data_path ("qmp-replies/host.cpuid");
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_load (dump_path, &error);
  g_autoptr (QmpReplies) expansion = load_own_recording ("qmp-expand-host-kvm.replies");
  g_autoptr (QmpReplies) definitions = load_own_recording ("qmp-definitions-kvm.replies");
  g_autoptr (GString) xml = g_string_new (NULL);
  g_autoptr (GString) stream = g_string_new (NULL);

  assert_non_null (dump);
  x86_cpuid_dump_format_libvirt (dump, 0, xml);
  write_file (dir, "x86_64-cpuid-Self.xml", xml->str);
  append_json (stream, recorded_reply (expansion, "query-cpu-model-expansion"), "model-expansion");
  append_json (stream, recorded_reply (definitions, "query-cpu-definitions"), "definitions");
  write_file (dir, "x86_64-cpuid-Self.json", stream->str);
}

/* <cpudata> of a feature-words list, register by register: an encoding independent of the
 * feature table, so decoding both sides through it is a real comparison. */
static char *
cpudata_from_feature_words (json_object *words)
{
  static const char *const registers[] = { "EAX", "EBX", "ECX", "EDX" };
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  g_autoptr (GString) xml = g_string_new (NULL);
  guint cpu = x86_cpuid_dump_add_cpu (dump, 0);

  for (size_t i = 0; i < json_object_array_length (words); i++)
    {
      json_object *word = json_object_array_get_idx (words, i);
      json_object *ecx = member (word, "cpuid-input-ecx");
      X86CpuidLeaf leaf = { .leaf = (guint32) json_object_get_int64 (member (word, "cpuid-input-eax")),
                            .subleaf = ecx != NULL ? (guint32) json_object_get_int64 (ecx) : 0 };
      const X86CpuidLeaf *existing = x86_cpuid_dump_lookup (dump, cpu, leaf.leaf, leaf.subleaf);
      const char *reg = json_object_get_string (member (word, "cpuid-register"));
      guint32 value = (guint32) json_object_get_int64 (member (word, "features"));
      guint32 *slots[] = { &leaf.eax, &leaf.ebx, &leaf.ecx, &leaf.edx };

      if (existing != NULL && existing->leaf == leaf.leaf && existing->subleaf == leaf.subleaf)
        leaf = *existing;
      for (guint r = 0; r < G_N_ELEMENTS (registers); r++)
        if (g_strcmp0 (reg, registers[r]) == 0)
          *slots[r] = value;
      x86_cpuid_dump_set (dump, cpu, &leaf);
    }
  x86_cpuid_dump_format_libvirt (dump, cpu, xml);
  return g_strdup (xml->str);
}

static void
make_self_monitorjson (const char *dir)
{
  g_autoptr (QmpReplies) words = load_own_recording ("qmp-feature-words-kvm-pc.replies");
  json_object *reply = recorded_reply (words, "qom-get");
  g_autoptr (GString) stream = g_string_new (NULL);
  g_autofree char *data = cpudata_from_feature_words (member (reply, "return"));

  append_json (stream, reply, "feature-words");
  write_file (dir, "qemumonitorjson-getcpu-Self.json", stream->str);
  write_file (dir, "qemumonitorjson-getcpu-Self.data", data);
}

static int
make_self_corpus (void **state)
{
  g_autofree char *replies = NULL;
  g_autofree char *cputest = NULL;
  g_autofree char *monitor = NULL;

  self_corpus = test_make_tmpdir ();
  replies = g_build_filename (self_corpus, "replies", NULL);
  cputest = g_build_filename (self_corpus, "cputestdata", NULL);
  monitor = g_build_filename (self_corpus, "monitorjson", NULL);
  make_self_replies (replies);
  make_self_cputest (cputest);
  make_self_monitorjson (monitor);
  return 0;
}

static int
remove_self_corpus (void **state)
{
  test_rmdir_r (self_corpus);
  g_clear_pointer (&self_corpus, g_free);
  return 0;
}

static void
test_self_replies (void **state)
{
  /* Our host recording has a host expansion: the comparison must have happened. */
  assert_int_equal (check_replies_dir (self_corpus), 1);
}

static void
test_self_cputest (void **state)
{
  check_cputest_dir (self_corpus);
}

static void
test_self_monitorjson (void **state)
{
  check_monitor_dir (self_corpus);
}

/* A feature the hardware lacks and nothing emulates, added to QEMU's host model, is reported. */
static void
test_self_cputest_finding (void **state)
{
  g_autofree char *json_path = g_build_filename (self_corpus, "cputestdata", "x86_64-cpuid-Self.json", NULL);
  g_autofree char *xml_path = g_build_filename (self_corpus, "cputestdata", "x86_64-cpuid-Self.xml", NULL);
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *odd_json = g_build_filename (dir, "x86_64-cpuid-Odd.json", NULL);
  g_autofree char *odd_xml = g_build_filename (dir, "x86_64-cpuid-Odd.xml", NULL);
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) replies = load_json_stream (json_path, &error);
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_load (xml_path, &error);
  g_autoptr (Report) report = report_new ("cputestdata");
  g_autoptr (GString) stream = g_string_new (NULL);
  json_object *props = member (member (member (g_ptr_array_index (replies, 0), "return"), "model"), "props");
  const X86Feature *absent = NULL;
  X86FeatureSet hardware;
  X86KvmHostKind kind;
  guint n_features;
  const X86Feature *features = x86_features (&n_features);

  probe_host_layers_common_features (dump, &hardware);
  x86_kvm_host_kind (dump, &hardware, &kind);
  for (guint i = 0; i < n_features && absent == NULL; i++)
    {
      X86FeatureSet one;
      x86_feature_set_clear (&one);
      x86_feature_set_add (&one, &features[i]);
      keep_cpuid_named (&one);
      if (!x86_feature_set_is_empty (&one) && !x86_feature_set_has (&hardware, &features[i])
          && !is_emulated (&features[i], &kind, &hardware) && x86_feature_qemu_property (&features[i]) != NULL
          && !(features[i].flags & X86_FEATURE_SECOND_BIT))
        absent = &features[i];
    }
  assert_non_null (absent);
  json_object_object_add (props, absent->name, json_object_new_boolean (TRUE));
  for (guint i = 0; i < replies->len; i++)
    append_json (stream, g_ptr_array_index (replies, i), NULL);
  assert_true (g_file_set_contents (odd_json, stream->str, -1, NULL));
  assert_true (g_file_get_contents (xml_path, &xml, NULL, NULL));
  assert_true (g_file_set_contents (odd_xml, xml, -1, NULL));

  check_cputest_host (report, odd_json);
  assert_int_equal (report->problems->len, 0);
  for (guint i = 0; i < report->findings->len; i++)
    if (strstr (g_ptr_array_index (report->findings, i), absent->name) != NULL)
      {
        test_rmdir_r (dir);
        return;
      }
  test_rmdir_r (dir);
  fail_msg ("no finding names %s", absent->name);
}

/* A <cpudata> that disagrees with its replies by one bit is a problem naming that feature. */
static void
test_self_monitorjson_mismatch (void **state)
{
  g_autofree char *source = g_build_filename (self_corpus, "monitorjson", "qemumonitorjson-getcpu-Self.json", NULL);
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *json_path = g_build_filename (dir, "qemumonitorjson-getcpu-Odd.json", NULL);
  g_autofree char *data_path = g_build_filename (dir, "qemumonitorjson-getcpu-Odd.data", NULL);
  g_autofree char *text = NULL;
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) objects = load_json_stream (source, &error);
  g_autoptr (Report) report = report_new ("monitorjson");
  json_object *words = member (g_ptr_array_index (objects, 0), "return");

  /* sse2, CPUID.01H:EDX bit 26, dropped from the decoding only. */
  for (size_t i = 0; i < json_object_array_length (words); i++)
    {
      json_object *word = json_object_array_get_idx (words, i);
      if (json_object_get_int64 (member (word, "cpuid-input-eax")) == 1
          && g_strcmp0 (json_object_get_string (member (word, "cpuid-register")), "EDX") == 0)
        {
          json_object *copy = NULL;
          json_object_deep_copy (words, &copy, NULL);
          json_object_object_add (json_object_array_get_idx (copy, i), "features",
                                  json_object_new_int64 (json_object_get_int64 (member (word, "features"))
                                                         & ~(G_GINT64_CONSTANT (1) << 26)));
          data = cpudata_from_feature_words (copy);
          json_object_put (copy);
        }
    }
  assert_non_null (data);
  assert_true (g_file_get_contents (source, &text, NULL, NULL));
  assert_true (g_file_set_contents (json_path, text, -1, NULL));
  assert_true (g_file_set_contents (data_path, data, -1, NULL));

  check_monitor_file (report, json_path);
  assert_int_equal (report->problems->len, 1);
  assert_non_null (strstr (g_ptr_array_index (report->problems, 0), "extra [sse2]"));
  test_rmdir_r (dir);
}

/* The known-host checks on a Haswell written at test time, so they run without the corpus. */
static void
test_self_known_host (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "x86_64-cpuid-Xeon-E5-2650-v3.xml", NULL);
  g_autoptr (Report) report = report_new ("known hosts");

  write_haswell_cpudata (path, 0);
  check_known_host (report, path, find_known_host ("Xeon-E5-2650-v3"));
  test_rmdir_r (dir);
  assert_int_equal (report->n_checked, 1);
  report_finish (report);
}

/* A Haswell that claims AVX-512F (7.0 EBX bit 16) and SHA (bit 29) is two problems. */
static void
test_self_known_host_mismatch (void **state)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "x86_64-cpuid-Xeon-E5-2650-v3.xml", NULL);
  g_autoptr (Report) report = report_new ("known hosts");

  write_haswell_cpudata (path, 1u << 16 | 1u << 29);
  check_known_host (report, path, find_known_host ("Xeon-E5-2650-v3"));
  test_rmdir_r (dir);
  assert_int_equal (report->problems->len, 2);
  assert_non_null (strstr (g_ptr_array_index (report->problems, 0), "with avx512f"));
  assert_non_null (strstr (g_ptr_array_index (report->problems, 1), "with sha-ni"));
}

/* ---- the shared corpus ---- */

static const char *
require_corpus_dir (const char *layout)
{
  const char *corpus = test_corpus_dir ();
  g_autofree char *dir = NULL;

  if (corpus == NULL)
    {
      print_message ("SKIP: no shared corpus (set VCPUPROBE_CORPUS or -Dcorpus=PATH; default %s)\n",
                     g_getenv ("VCPUPROBE_CORPUS_DEFAULT"));
      skip ();
    }
  dir = g_build_filename (corpus, layout, NULL);
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      print_message ("SKIP: the corpus %s has no %s/\n", corpus, layout);
      skip ();
    }
  return corpus;
}

static void
test_corpus_replies (void **state)
{
  check_replies_dir (require_corpus_dir ("replies"));
}

static void
test_corpus_cputest (void **state)
{
  check_cputest_dir (require_corpus_dir ("cputestdata"));
}

static void
test_corpus_monitorjson (void **state)
{
  check_monitor_dir (require_corpus_dir ("monitorjson"));
}

static void
test_corpus_recordings (void **state)
{
  check_recordings_dir (require_corpus_dir ("recordings"));
}

/* A guest missing its first feature, and a KVM removal blamed on the silicon. */
static void
doctor_guest (json_object *output)
{
  json_object *enabled = member (member (output, "guest"), "enabled");
  json_object *removed = member (output, "removed");

  json_object_array_del_idx (enabled, 0, 1);
  for (size_t i = 0; i < json_object_array_length (removed); i++)
    {
      json_object *change = json_object_array_get_idx (removed, i);
      if (g_strcmp0 (json_object_get_string (member (change, "reason")), "kvm") == 0)
        {
          json_object_object_add (change, "reason", json_object_new_string ("hardware"));
          return;
        }
    }
}

/* The recording checks catch an output that disagrees with the recorded data. */
static void
test_corpus_recordings_mismatch (void **state)
{
  g_autofree char *dir = g_build_filename (require_corpus_dir ("recordings"), "recordings", NULL);
  g_autofree char *path = g_build_filename (dir, "qemu-2.8.0-check-Haswell-kvm.replies", NULL);
  g_autofree char *dump_path = g_build_filename (dir, "this-host.cpuid.json", NULL);
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_load (dump_path, NULL);
  g_autoptr (Report) report = report_new ("recordings");

  if (dump == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      print_message ("SKIP: %s or its dump is not in the corpus\n", path);
      skip ();
    }
  check_recording (report, path, dump_path, dump, doctor_guest);
  assert_int_equal (report->problems->len, 2);
  assert_non_null (strstr (g_ptr_array_index (report->problems, 0), "is not the recorded feature-words"));
  assert_non_null (strstr (g_ptr_array_index (report->problems, 1), "removed by hardware, but the dump's"));
}

static void
test_corpus_known_hosts (void **state)
{
  g_autofree char *dir = g_build_filename (require_corpus_dir ("cputestdata"), "cputestdata", NULL);
  g_autoptr (Report) report = report_new ("known hosts");

  for (guint i = 0; i < G_N_ELEMENTS (known_hosts); i++)
    {
      g_autofree char *name = g_strdup_printf ("x86_64-cpuid-%s.xml", known_hosts[i].name);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        {
          print_message ("SKIP: %s is not in the corpus\n", name);
          continue;
        }
      check_known_host (report, path, &known_hosts[i]);
    }
  if (report->n_checked == 0)
    {
      print_message ("SKIP: none of the known hosts is in %s\n", dir);
      skip ();
    }
  report_finish (report);
}

int
main (void)
{
  const struct CMUnitTest self_tests[] = {
    cmocka_unit_test (test_self_replies),
    cmocka_unit_test (test_self_cputest),
    cmocka_unit_test (test_self_cputest_finding),
    cmocka_unit_test (test_self_monitorjson),
    cmocka_unit_test (test_self_monitorjson_mismatch),
    cmocka_unit_test (test_self_known_host),
    cmocka_unit_test (test_self_known_host_mismatch),
  };
  const struct CMUnitTest corpus_tests[] = {
    cmocka_unit_test (test_corpus_replies),
    cmocka_unit_test (test_corpus_cputest),
    cmocka_unit_test (test_corpus_monitorjson),
    cmocka_unit_test (test_corpus_recordings),
    cmocka_unit_test (test_corpus_recordings_mismatch),
    cmocka_unit_test (test_corpus_known_hosts),
  };
  int failed = cmocka_run_group_tests_name ("conformance on our own recordings", self_tests,
                                            make_self_corpus, remove_self_corpus);

  return failed + cmocka_run_group_tests_name ("conformance on the shared corpus", corpus_tests,
                                               NULL, NULL);
}
