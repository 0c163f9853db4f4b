/* tests/test-libvirt-agreement.c — vcpuprobe's verdict against a real libvirt's start or
 * refusal, on random domains.
 *
 * Each domain (seeded; the seed is printed, VCPUPROBE_LIBVIRT_SEED repeats a run) has a
 * type (kvm where /dev/kvm opens, qemu), a machine type of five, and a CPU: mostly a
 * custom model, taken from QEMU's query-cpu-definitions under that accelerator (usable and
 * unusable here alike, now and then a name libvirt's map lacks) with 0–3 features of
 * libvirt's map and random policies; sometimes host-model, host-passthrough or maximum;
 * check absent, none, partial or full. For each: `vcpuprobe check DOMAIN --format json`
 * (exit 0 pass, 1 fail), then a start in a private libvirt (tests/libvirt/). They agree
 * when libvirt started exactly the domains vcpuprobe passed. For each domain that
 * started, the guest CPU vcpuprobe predicted must be the vCPU QEMU created (its
 * feature-words, read through libvirt). Where vcpuprobe gives an updated definition, that
 * definition, with check='full', must start too, with the same guest.
 *
 * First, for each accelerator, the host-model CPU vcpuprobe resolves a host-model domain to
 * must be libvirt's own from its domain capabilities: the same model, the same required
 * and disabled features (less the required ones libvirt's map marks migratable='no',
 * which libvirt drops before a guest starts: its -cpu line has no invtsc).
 *
 * Every disagreement is printed with both sides; the program fails on any. Skips (77),
 * saying why, where QEMU or libvirt cannot run. VCPUPROBE_LIBVIRT_DOMAINS sets the
 * number of domains (default 40), VCPUPROBE_LIBVIRT_CPU_MAP libvirt's CPU map directory
 * (default /usr/share/libvirt/cpu_map), VCPUPROBE_LIBVIRT_CHECK_OPTIONS options given to
 * every `vcpuprobe check` (e.g. "--method post-start"). */
#include "tests/test-util.h"
#include "tests/libvirt/libvirt-harness.h"
#include "x86/feature-set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>

#define SKIP_EXIT 77
#define DEFAULT_DOMAINS 40

static const char *const machine_types[] = {
  "pc-i440fx-7.2", "pc-i440fx-2.4", "pc-i440fx-2.0", "pc-i440fx-1.4", "q35",
};
static const char *const checks[] = { NULL, "none", "partial", "full" };
static const char *const policies[] = { "require", "disable", "force", "optional", "forbid" };

typedef struct {
  const char *accel;           /* "kvm" or "tcg" */
  const char *domain_type;     /* "kvm" or "qemu" */
  GPtrArray *usable;           /* model names QEMU can run under the accelerator here */
  GPtrArray *unusable;
} AccelModels;

typedef struct {
  GPtrArray *models;           /* libvirt's model names */
  GPtrArray *features;         /* libvirt's feature names */
  GPtrArray *non_migratable;   /* those marked migratable='no' */
} CpuMap;

/* ---- libvirt's CPU map: the names of its x86 models and features ---- */

static void
on_map_element (GMarkupParseContext *context, const char *element, const char **names,
                const char **values, gpointer user_data, GError **error)
{
  CpuMap *map = user_data;
  const GSList *stack = g_markup_parse_context_get_element_stack (context);
  const char *parent = stack->next != NULL ? stack->next->data : NULL;

  if (g_strcmp0 (parent, "cpus") != 0
      || (strcmp (element, "model") != 0 && strcmp (element, "feature") != 0))
    return;
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (names[i], "name") == 0)
      g_ptr_array_add (strcmp (element, "model") == 0 ? map->models : map->features,
                       g_strdup (values[i]));
  for (guint i = 0; names[i] != NULL; i++)
    if (strcmp (names[i], "migratable") == 0 && strcmp (values[i], "no") == 0)
      for (guint j = 0; names[j] != NULL; j++)
        if (strcmp (names[j], "name") == 0)
          g_ptr_array_add (map->non_migratable, g_strdup (values[j]));
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static gboolean
read_cpu_map (const char *directory, CpuMap *map, GError **error)
{
  static const GMarkupParser parser = { on_map_element, NULL, NULL, NULL, NULL };
  g_autoptr (GDir) dir = g_dir_open (directory, 0, error);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autofree char *text = NULL;
      gsize length;

      if (!g_str_has_prefix (name, "x86_") || !g_str_has_suffix (name, ".xml"))
        continue;
      path = g_build_filename (directory, name, NULL);
      if (!g_file_get_contents (path, &text, &length, error))
        return FALSE;
      g_autoptr (GMarkupParseContext) context = g_markup_parse_context_new (&parser, 0, map, NULL);
      if (!g_markup_parse_context_parse (context, text, (gssize) length, error))
        return FALSE;
    }
  if (map->models->len == 0 || map->features->len == 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "%s holds no x86 models or features",
                   directory);
      return FALSE;
    }
  /* Directory order is the file system's: sort, so a seed means one set of domains. */
  g_ptr_array_sort (map->models, compare_strings);
  g_ptr_array_sort (map->features, compare_strings);
  return TRUE;
}

static gboolean
contains (GPtrArray *names, const char *name)
{
  for (guint i = 0; i < names->len; i++)
    if (strcmp (g_ptr_array_index (names, i), name) == 0)
      return TRUE;
  return FALSE;
}

/* ---- running vcpuprobe ---- */

typedef struct {
  int status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

static void
run_vcpuprobe (const char *const *args, Run *run)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int wait_status = 0;

  g_ptr_array_add (argv, (gpointer) test_vcpuprobe ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &run->out,
                     &run->err, &wait_status, &error))
    {
      printf ("cannot run %s: %s\n", test_vcpuprobe (), error->message);
      exit (1);
    }
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);
}

/* QEMU's models under @accel->accel, split by query-cpu-definitions' unavailable-features
 * (host, max and base left out: libvirt never names them in a custom CPU). The unversioned
 * names are aliases of versioned ones; libvirt's map has only the unversioned. */
static gboolean
read_qemu_models (const char *qemu, AccelModels *accel)
{
  const char *args[] = { "--qemu", qemu, "--accel", accel->accel, "qmp",
                         "query-cpu-definitions", NULL };
  g_auto (Run) run = { 0 };
  json_object *definitions;

  run_vcpuprobe (args, &run);
  definitions = run.status == 0 ? json_tokener_parse (run.out) : NULL;
  if (definitions == NULL || !json_object_is_type (definitions, json_type_array))
    {
      printf ("SKIP: query-cpu-definitions under %s failed (exit %d): %s\n", accel->accel,
              run.status, g_strstrip (run.err));
      json_object_put (definitions);
      return FALSE;
    }
  for (size_t i = 0; i < json_object_array_length (definitions); i++)
    {
      json_object *model = json_object_array_get_idx (definitions, i);
      json_object *name, *unavailable;
      const char *text;

      if (!json_object_object_get_ex (model, "name", &name))
        continue;
      text = json_object_get_string (name);
      if (strcmp (text, "host") == 0 || strcmp (text, "max") == 0 || strcmp (text, "base") == 0)
        continue;
      if (json_object_object_get_ex (model, "unavailable-features", &unavailable)
          && json_object_array_length (unavailable) > 0)
        g_ptr_array_add (accel->unusable, g_strdup (text));
      else
        g_ptr_array_add (accel->usable, g_strdup (text));
    }
  g_ptr_array_sort (accel->usable, compare_strings);
  g_ptr_array_sort (accel->unusable, compare_strings);
  json_object_put (definitions);
  return TRUE;
}

/* ---- the generator ---- */

static const char *
pick (GRand *rand, GPtrArray *names)
{
  return g_ptr_array_index (names, g_rand_int_range (rand, 0, (gint32) names->len));
}

/* A model of @names that libvirt's map knows, or with @foreign one it does not; NULL when
 * there is none of that kind. */
static const char *
pick_model (GRand *rand, GPtrArray *names, const CpuMap *map, gboolean foreign)
{
  g_autoptr (GPtrArray) fitting = g_ptr_array_new ();

  for (guint i = 0; i < names->len; i++)
    if (contains (map->models, g_ptr_array_index (names, i)) != foreign)
      g_ptr_array_add (fitting, g_ptr_array_index (names, i));
  return fitting->len > 0 ? pick (rand, fitting) : NULL;
}

/* A model libvirt's map has and QEMU's model list under @accel lacks, or NULL. */
static const char *
model_qemu_lacks (GRand *rand, const AccelModels *accel, const CpuMap *map)
{
  g_autoptr (GPtrArray) lacking = g_ptr_array_new ();

  for (guint i = 0; i < map->models->len; i++)
    if (!contains (accel->usable, g_ptr_array_index (map->models, i))
        && !contains (accel->unusable, g_ptr_array_index (map->models, i)))
      g_ptr_array_add (lacking, g_ptr_array_index (map->models, i));
  return lacking->len > 0 ? pick (rand, lacking) : NULL;
}

/* The <cpu> of one random domain under @accel, and a short description of it. */
static char *
generate_cpu (GRand *rand, const AccelModels *accel, const CpuMap *map, GString *summary)
{
  g_autoptr (GString) cpu = g_string_new ("  <cpu");
  int kind = g_rand_int_range (rand, 0, 10);
  const char *check = checks[g_rand_int_range (rand, 0, G_N_ELEMENTS (checks))];
  const char *mode = kind < 7 ? "custom" : kind == 7 ? "host-model"
                     : kind == 8 ? "host-passthrough" : "maximum";
  const char *model = NULL;
  int n_features = g_rand_int_range (rand, 0, 4);

  g_string_append_printf (cpu, " mode='%s'", mode);
  if (strcmp (mode, "custom") == 0)
    {
      gboolean foreign = g_rand_int_range (rand, 0, 10) == 0;
      gboolean usable = g_rand_boolean (rand);

      /* Now and then a model of libvirt's map this QEMU lacks (cpu64-rhel6, ...). */
      if (g_rand_int_range (rand, 0, 15) == 0)
        model = model_qemu_lacks (rand, accel, map);
      if (model == NULL)
        model = pick_model (rand, usable ? accel->usable : accel->unusable, map, foreign);
      if (model == NULL)
        model = pick_model (rand, usable ? accel->unusable : accel->usable, map, foreign);
      if (model == NULL)
        model = pick_model (rand, accel->usable, map, FALSE);
      g_string_append (cpu, " match='exact'");
    }
  if (check != NULL)
    g_string_append_printf (cpu, " check='%s'", check);
  g_string_append (cpu, ">\n");
  if (model != NULL)
    g_string_append_printf (cpu, "    <model fallback='forbid'>%s</model>\n", model);
  g_string_append_printf (summary, "%s %s check=%s", mode, model != NULL ? model : "-",
                          check != NULL ? check : "(absent)");
  /* Now and then a vendor, which check='partial' compares before any feature. */
  if (model != NULL && g_rand_int_range (rand, 0, 5) == 0)
    {
      const char *vendor = g_rand_boolean (rand) ? "Intel" : "AMD";

      g_string_append_printf (cpu, "    <vendor>%s</vendor>\n", vendor);
      g_string_append_printf (summary, " vendor:%s", vendor);
    }
  for (int i = 0; i < n_features; i++)
    {
      const char *feature = pick (rand, map->features);
      /* require and disable are what definitions mostly say; the rest now and then. */
      int roll = g_rand_int_range (rand, 0, 10);
      const char *policy = policies[roll < 4 ? 0 : roll < 8 ? 1 : roll - 6];
      g_autofree char *named = g_strdup_printf ("name='%s'", feature);

      if (strstr (cpu->str, named) != NULL)
        continue;
      g_string_append_printf (cpu, "    <feature policy='%s' name='%s'/>\n", policy, feature);
      g_string_append_printf (summary, " %s:%s", policy, feature);
    }
  g_string_append (cpu, "  </cpu>\n");
  return g_string_free (g_steal_pointer (&cpu), FALSE);
}

static char *
domain_xml (const char *name, const char *domain_type, const char *machine, const char *cpu,
            const char *emulator)
{
  return g_strdup_printf ("<domain type='%s'>\n"
                          "  <name>%s</name>\n"
                          "  <memory unit='MiB'>32</memory>\n"
                          "  <vcpu>1</vcpu>\n"
                          "  <os><type arch='x86_64' machine='%s'>hvm</type></os>\n"
                          "%s"
                          "  <devices>\n"
                          "    <emulator>%s</emulator>\n"
                          "    <controller type='usb' model='none'/>\n"
                          "    <memballoon model='none'/>\n"
                          "  </devices>\n"
                          "</domain>\n",
                          domain_type, name, machine, cpu, emulator);
}

/* @cpu (a <cpu> element) with check='full', whatever check it had. */
static char *
with_check_full (const char *cpu)
{
  g_autoptr (GRegex) check = g_regex_new ("\\scheck=(['\"])[a-z]*\\1", 0, 0, NULL);
  g_autoptr (GRegex) open_tag = g_regex_new ("^(\\s*<cpu)", 0, 0, NULL);
  g_autofree char *without = g_regex_replace_literal (check, cpu, -1, 0, "", 0, NULL);

  return g_regex_replace (open_tag, without, -1, 0, "\\1 check='full'", G_REGEX_MATCH_NOTEMPTY,
                          NULL);
}

/* ---- host-model: vcpuprobe's resolution against libvirt's domain capabilities ---- */

/* The model of a <cpu> or host-model text, and its features as "policy:name" strings,
 * sorted; required features of @left_out are not taken. */
static char *
cpu_words (const char *xml, GPtrArray *left_out, GPtrArray *features)
{
  g_autoptr (GRegex) model = g_regex_new ("<model[^>]*>([^<]+)</model>", 0, 0, NULL);
  g_autoptr (GRegex) feature = g_regex_new ("<feature policy='([a-z]+)' name='([^']+)'/>",
                                            0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  char *name = NULL;

  if (g_regex_match (model, xml, 0, &match))
    name = g_match_info_fetch (match, 1);
  g_clear_pointer (&match, g_match_info_free);
  for (g_regex_match (feature, xml, 0, &match); g_match_info_matches (match);
       g_match_info_next (match, NULL))
    {
      g_autofree char *policy = g_match_info_fetch (match, 1);
      g_autofree char *feature_name = g_match_info_fetch (match, 2);

      if (left_out == NULL || strcmp (policy, "require") != 0 || !contains (left_out, feature_name))
        g_ptr_array_add (features, g_strdup_printf ("%s:%s", policy, feature_name));
    }
  g_ptr_array_sort (features, compare_strings);
  return name;
}

static char *
joined (GPtrArray *words)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (guint i = 0; i < words->len; i++)
    g_string_append_printf (text, "%s%s", i > 0 ? " " : "", (char *) g_ptr_array_index (words, i));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* TRUE when vcpuprobe resolves a host-model domain of @domain_type to libvirt's own
 * host-model CPU; prints both sides otherwise. */
static gboolean
host_model_agrees (LibvirtHarness *harness, const CpuMap *map, const char *directory,
                   const char *domain_type)
{
  static const char machine[] = "pc-i440fx-7.2";
  g_autoptr (GError) error = NULL;
  g_autofree char *theirs = libvirt_harness_host_model (harness, domain_type, machine, &error);
  g_autofree char *xml = domain_xml ("host-model", domain_type, machine,
                                     "  <cpu mode='host-model'/>\n", test_qemu_binary ());
  g_autofree char *path = g_build_filename (directory, "host-model.xml", NULL);
  const char *args[] = { "--no-cache", "expand", path, "--format", "json", NULL };
  g_auto (Run) run = { 0 };
  json_object *result = NULL, *resolved = NULL;
  g_autoptr (GPtrArray) their_features = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) our_features = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *their_model = NULL, *our_model = NULL, *their_text = NULL, *our_text = NULL;
  gboolean agree;

  if (theirs == NULL)
    {
      printf ("host-model %s: libvirt gives none: %s\n", domain_type, error->message);
      return FALSE;
    }
  if (!g_file_set_contents (path, xml, -1, NULL))
    return FALSE;
  run_vcpuprobe (args, &run);
  g_unlink (path);
  if (run.status == 0)
    result = json_tokener_parse (run.out);
  if (result == NULL || !json_object_object_get_ex (result, "resolved", &resolved))
    {
      printf ("host-model %s: vcpuprobe resolved nothing (exit %d): %s\n", domain_type,
              run.status, g_strstrip (run.err));
      json_object_put (result);
      return FALSE;
    }
  /* libvirt's domain capabilities show the whole host model; a guest is not given what
   * cannot migrate. */
  their_model = cpu_words (theirs, map->non_migratable, their_features);
  our_model = cpu_words (json_object_get_string (resolved), NULL, our_features);
  their_text = joined (their_features);
  our_text = joined (our_features);
  agree = g_strcmp0 (their_model, our_model) == 0 && strcmp (their_text, our_text) == 0;
  printf ("host-model %s: %s (%s, %u features named)\n", domain_type,
          agree ? "vcpuprobe's equals libvirt's" : "DIFFERS", their_model, their_features->len);
  if (!agree)
    printf ("      libvirt:   %s %s\n      vcpuprobe: %s %s\n", their_model, their_text,
            our_model, our_text);
  json_object_put (result);
  return agree;
}

/* ---- the comparison ---- */

typedef struct {
  guint domains, agreed;
  guint updated, updated_started;
  guint libvirt_started, vcpuprobe_passed, vcpuprobe_errors;
  guint guests, guests_equal;
  double libvirt_seconds, started_seconds;
  guint libvirt_runs, started_runs;
} Tally;

/* The problems vcpuprobe gives, on one line. */
static char *
vcpuprobe_reasons (json_object *result, const Run *run)
{
  json_object *problems;
  g_autoptr (GString) text = g_string_new (NULL);

  if (result == NULL)
    return g_strdup_printf ("exit %d: %s", run->status, g_strstrip (g_strdup (run->err)));
  if (json_object_object_get_ex (result, "problems", &problems)
      && json_object_is_type (problems, json_type_array))
    for (size_t i = 0; i < json_object_array_length (problems); i++)
      g_string_append_printf (text, "%s%s", i > 0 ? "; " : "",
                              json_object_get_string (json_object_array_get_idx (problems, i)));
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The names of @array (a JSON array of strings) not in @other, space-separated. */
static char *
names_missing_from (json_object *array, json_object *other)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (size_t i = 0; i < json_object_array_length (array); i++)
    {
      const char *name = json_object_get_string (json_object_array_get_idx (array, i));
      gboolean found = FALSE;

      for (size_t j = 0; !found && j < json_object_array_length (other); j++)
        found = g_strcmp0 (name, json_object_get_string (json_object_array_get_idx (other, j))) == 0;
      if (!found)
        g_string_append_printf (text, " %s", name);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* Compares the guest vcpuprobe predicted (@result's guest.enabled) with the vCPU libvirt
 * started (@start's feature-words); prints the difference. */
static void
compare_guest (json_object *result, const LibvirtStart *start, Tally *tally)
{
  json_object *reply = NULL, *words = NULL, *guest = NULL, *predicted = NULL, *real;
  X86FeatureSet real_set;
  g_autoptr (GError) error = NULL;

  if (result == NULL || start->feature_words == NULL
      || !json_object_object_get_ex (result, "guest", &guest)
      || !json_object_object_get_ex (guest, "enabled", &predicted))
    return;
  reply = json_tokener_parse (start->feature_words);
  if (reply == NULL || !json_object_object_get_ex (reply, "return", &words)
      || !x86_feature_set_from_feature_words (&real_set, words, NULL, &error))
    {
      printf ("      the started vCPU's feature-words cannot be read: %s\n",
              error != NULL ? error->message : start->feature_words);
      json_object_put (reply);
      return;
    }
  real = x86_feature_set_to_names_json (&real_set);
  tally->guests++;
  {
    g_autofree char *only_real = names_missing_from (real, predicted);
    g_autofree char *only_predicted = names_missing_from (predicted, real);

    if (*only_real == '\0' && *only_predicted == '\0')
      tally->guests_equal++;
    else
      printf ("      the predicted guest is not the started vCPU: only in the vCPU:%s; "
              "only predicted:%s\n", *only_real != '\0' ? only_real : " -",
              *only_predicted != '\0' ? only_predicted : " -");
  }
  json_object_put (real);
  json_object_put (reply);
}

static LibvirtStart *
start_in_libvirt (LibvirtHarness *harness, const char *name, const char *xml, Tally *tally)
{
  g_autoptr (GError) error = NULL;
  LibvirtStart *start = libvirt_harness_start (harness, name, xml, &error);

  if (start == NULL)
    {
      printf ("libvirt could not be asked: %s\n", error->message);
      exit (1);
    }
  tally->libvirt_seconds += start->seconds;
  tally->libvirt_runs++;
  if (start->started)
    {
      tally->started_seconds += start->seconds;
      tally->started_runs++;
    }
  return start;
}

static void
judge_domain (LibvirtHarness *harness, const char *directory, guint index, guint32 seed,
              const char *domain_type, const char *machine, const char *cpu,
              const char *summary, Tally *tally)
{
  g_autofree char *name = g_strdup_printf ("vp%u-%u", seed, index);
  g_autofree char *xml = domain_xml (name, domain_type, machine, cpu, test_qemu_binary ());
  g_autofree char *file_name = g_strdup_printf ("%s.xml", name);
  g_autofree char *path = g_build_filename (directory, file_name, NULL);
  const char *extra = g_getenv ("VCPUPROBE_LIBVIRT_CHECK_OPTIONS");
  g_auto (GStrv) options = g_strsplit (extra != NULL ? extra : "", " ", -1);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_auto (Run) run = { 0 };
  json_object *result = NULL, *verdict = NULL, *xml_member, *updated = NULL;
  g_autoptr (LibvirtStart) start = NULL;
  gboolean passed;

  if (!g_file_set_contents (path, xml, -1, NULL))
    {
      printf ("cannot write %s\n", path);
      exit (1);
    }
  for (guint i = 0; options[i] != NULL; i++)
    if (*options[i] != '\0')
      g_ptr_array_add (args, options[i]);
  g_ptr_array_add (args, "check");
  g_ptr_array_add (args, path);
  g_ptr_array_add (args, "--format");
  g_ptr_array_add (args, "json");
  g_ptr_array_add (args, NULL);
  run_vcpuprobe ((const char *const *) args->pdata, &run);
  if (run.status == 0 || run.status == 1)
    result = json_tokener_parse (run.out);
  if (result != NULL)
    json_object_object_get_ex (result, "verdict", &verdict);
  passed = verdict != NULL && g_strcmp0 (json_object_get_string (verdict), "pass") == 0;
  if (result == NULL)
    tally->vcpuprobe_errors++;
  tally->vcpuprobe_passed += passed;

  start = start_in_libvirt (harness, name, xml, tally);
  tally->libvirt_started += start->started;
  tally->domains++;
  if (start->started == passed)
    {
      tally->agreed++;
      printf ("%3u agree    %s %s %s: %s%s (%.1f s)\n", index, domain_type, machine, summary,
              passed ? "starts" : "refused: ", passed ? "" : start->error, start->seconds);
    }
  else
    {
      g_autofree char *reasons = vcpuprobe_reasons (result, &run);

      printf ("%3u DISAGREE %s %s %s\n"
              "      libvirt:   %s%s\n"
              "      vcpuprobe: %s%s\n",
              index, domain_type, machine, summary,
              start->started ? "started" : "refused: ",
              start->started ? "" : start->error,
              result == NULL ? "no verdict, " : passed ? "pass " : "fail: ", reasons);
      if (start->qemu_cpu_arg != NULL)
        printf ("      libvirt's -cpu %s\n", start->qemu_cpu_arg);
    }

  if (start->started)
    compare_guest (result, start, tally);

  if (result != NULL && json_object_object_get_ex (result, "xml", &xml_member))
    json_object_object_get_ex (xml_member, "updated", &updated);
  if (updated != NULL && json_object_is_type (updated, json_type_string))
    {
      g_autofree char *updated_name = g_strdup_printf ("%s-updated", name);
      g_autofree char *updated_cpu = with_check_full (json_object_get_string (updated));
      g_autofree char *updated_xml = domain_xml (updated_name, domain_type, machine, updated_cpu,
                                                 test_qemu_binary ());
      g_autoptr (LibvirtStart) updated_start = start_in_libvirt (harness, updated_name,
                                                                 updated_xml, tally);

      /* Every updated definition must start, also where the original made QEMU abort (a
       * KVM refusing IA32_ARCH_CAPABILITIES): the updated one turns those bits off. */
      tally->updated++;
      tally->updated_started += updated_start->started;
      /* It must give the guest predicted for the original. */
      if (updated_start->started)
        compare_guest (result, updated_start, tally);
      else
        printf ("      its updated definition does not start under check='full': %s\n"
                "%s", updated_start->error, updated_cpu);
    }
  json_object_put (result);
  g_unlink (path);
}

int
main (void)
{
  const char *qemu = test_qemu_binary ();
  const char *map_directory = g_getenv ("VCPUPROBE_LIBVIRT_CPU_MAP");
  const char *seed_text = g_getenv ("VCPUPROBE_LIBVIRT_SEED");
  const char *count_text = g_getenv ("VCPUPROBE_LIBVIRT_DOMAINS");
  guint32 seed = seed_text != NULL ? (guint32) g_ascii_strtoull (seed_text, NULL, 10)
                                   : (guint32) (g_get_real_time () / G_USEC_PER_SEC);
  guint n_domains = count_text != NULL ? (guint) g_ascii_strtoull (count_text, NULL, 10)
                                       : DEFAULT_DOMAINS;
  g_autofree char *skip_reason = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtHarness) harness = NULL;
  g_autoptr (GRand) rand = NULL;
  g_autofree char *directory = NULL;
  g_autofree char *cache = NULL;
  CpuMap map = { g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free),
                 g_ptr_array_new_with_free_func (g_free) };
  guint host_models = 0, host_models_agreed = 0;
  AccelModels accels[2] = {
    { "kvm", "kvm", g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free) },
    { "tcg", "qemu", g_ptr_array_new_with_free_func (g_free), g_ptr_array_new_with_free_func (g_free) },
  };
  guint first_accel = test_kvm_usable () ? 0 : 1;
  Tally tally = { 0 };
  int status;

  setvbuf (stdout, NULL, _IOLBF, 0);
  if (qemu == NULL)
    {
      printf ("SKIP: %s\n", test_qemu_missing_reason ());
      return SKIP_EXIT;
    }
  if (map_directory == NULL)
    map_directory = "/usr/share/libvirt/cpu_map";
  if (!read_cpu_map (map_directory, &map, &error))
    {
      printf ("SKIP: libvirt's CPU map cannot be read: %s\n", error->message);
      return SKIP_EXIT;
    }
  harness = libvirt_harness_new (&skip_reason);
  if (harness == NULL)
    {
      printf ("SKIP: %s\n", skip_reason);
      return SKIP_EXIT;
    }
  if (first_accel == 1)
    printf ("/dev/kvm cannot be opened read-write: type='qemu' domains only\n");
  for (guint i = first_accel; i < G_N_ELEMENTS (accels); i++)
    if (!read_qemu_models (qemu, &accels[i]))
      return SKIP_EXIT;

  directory = g_dir_make_tmp ("vcpuprobe-agreement-XXXXXX", &error);
  g_assert_no_error (error);
  /* A cache of this run's own: no answer of an earlier vcpuprobe stands in for this one's. */
  cache = g_build_filename (directory, "cache", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  printf ("libvirt %s, QEMU %s (%s); %u domains, seed %" G_GUINT32_FORMAT
          " (VCPUPROBE_LIBVIRT_SEED=%" G_GUINT32_FORMAT " repeats this run)\n",
          libvirt_harness_libvirt_version (harness), libvirt_harness_qemu_version (harness), qemu,
          n_domains, seed, seed);
  for (guint i = first_accel; i < G_N_ELEMENTS (accels); i++)
    {
      host_models++;
      host_models_agreed += host_model_agrees (harness, &map, directory, accels[i].domain_type);
    }
  rand = g_rand_new_with_seed (seed);
  for (guint index = 1; index <= n_domains; index++)
    {
      const AccelModels *accel = &accels[g_rand_int_range (rand, (gint32) first_accel, 2)];
      const char *machine = machine_types[g_rand_int_range (rand, 0, G_N_ELEMENTS (machine_types))];
      g_autoptr (GString) summary = g_string_new (NULL);
      g_autofree char *cpu = generate_cpu (rand, accel, &map, summary);

      judge_domain (harness, directory, index, seed, accel->domain_type, machine, cpu,
                    summary->str, &tally);
    }
  test_rmdir_r (directory);

  printf ("\nhost-model CPU equals libvirt's: %u/%u\n", host_models_agreed, host_models);
  printf ("predicted guest equals the started vCPU: %u/%u\n", tally.guests_equal, tally.guests);
  printf ("verdict agrees with libvirt: %u/%u (libvirt started %u, vcpuprobe passed %u, "
          "vcpuprobe gave no verdict %u)\n"
          "updated definitions that start under check='full': %u/%u\n"
          "libvirt start, read and destroy: %.2f s per domain (%u runs); %.2f s for the %u runs "
          "that started\n",
          tally.agreed, tally.domains, tally.libvirt_started, tally.vcpuprobe_passed,
          tally.vcpuprobe_errors, tally.updated_started, tally.updated,
          tally.libvirt_runs > 0 ? tally.libvirt_seconds / tally.libvirt_runs : 0.0,
          tally.libvirt_runs,
          tally.started_runs > 0 ? tally.started_seconds / tally.started_runs : 0.0,
          tally.started_runs);
  status = tally.agreed == tally.domains && tally.updated_started == tally.updated
           && tally.guests_equal == tally.guests && host_models_agreed == host_models ? 0 : 1;
  g_ptr_array_unref (map.models);
  g_ptr_array_unref (map.features);
  g_ptr_array_unref (map.non_migratable);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    {
      g_ptr_array_unref (accels[i].usable);
      g_ptr_array_unref (accels[i].unusable);
    }
  return status;
}
