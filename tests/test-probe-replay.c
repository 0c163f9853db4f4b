/* tests/test-probe-replay.c — replays every recording of tests/qmp-replies/ through the
 * vcpuprobe CLI and holds each output to its golden file.
 *
 * Layout: NAME.replies (with NAME.replies.json, the recorder's metadata) and a directory
 * NAME.golden/ holding one TAG.out per command replayed from it. A golden reads
 *
 *   $ vcpuprobe --replay NAME.replies --format json expand Haswell
 *   # any comment or directive lines
 *   exit 0
 *   <stdout, normalised>
 *   --- stderr
 *   <stderr lines, when there were any>
 *
 * The first line is the command, run in tests/qmp-replies/, so it can be pasted into a shell
 * there. The test list is the set of golden files; a recording without any golden fails,
 * unless VCPUPROBE_REGENERATE=1, which writes NAME.golden/default.out from the command
 * line the recording was made with (FILE.json "argv", --record turned into --replay), and
 * rewrites every golden's output from what this vcpuprobe prints.
 *
 * Strict: vcpuprobe runs with VCPUPROBE_REPLAY_STRICT=1, so a command the recording cannot
 * answer (which the replay peer would answer with a made-up CommandNotFound) fails the run,
 * and such a failure fails the test even when regenerating. A golden whose point is such a
 * command says so with a line "# unanswered: COMMAND" and runs without strict mode.
 *
 * VCPUPROBE_REPLAY_ONLY=PATTERN keeps the recordings whose file name matches PATTERN (a
 * shell glob, "synthetic-qemu-2.8.0-*"), so a new recording's golden can be written alone.
 *
 * Normalised, as they differ between runs and machines: in JSON output the values of
 * "date" and "binary" members (dates; the QEMU or recording path), and anywhere the
 * absolute path of tests/qmp-replies/ (written "@QMP_REPLIES@"). The run gets an empty
 * cache directory of its own, so no earlier run's cache can answer for the recording. */
#include "tests/test-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include "probe/qemu-info.h"
#include "qmp/replay.h"
#include "x86/feature-table.h"

#define GOLDEN_SUFFIX ".golden"
#define STDERR_MARK "--- stderr"

static const char *const varying_members[] = { "date", "binary" };

/* Commands whose output depends on the host layers: they get the dump recorded with the
 * corpus, so the goldens do not depend on the machine running the tests. */
static const char *const host_layer_commands[] = { "expand", "check", "host", "models" };

typedef struct {
  char *recording;       /* NAME.replies */
  char *agreement_with;  /* for an agreement case: the post-start golden; else NULL */
  char *golden;          /* absolute path of NAME.golden/TAG.out */
  char *test_name;       /* NAME/TAG */
} ReplayCase;

static char *replies_dir;
static char *vcpuprobe;     /* absolute: the runs happen in replies_dir */
static gboolean regenerate;

/* Before cmocka runs a test, a broken corpus ends the program with a message. */
G_GNUC_PRINTF (1, 2) G_GNUC_NORETURN static void
setup_fail (const char *format, ...)
{
  va_list args;

  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  exit (1);
}

static void
replay_case_free (ReplayCase *replay_case)
{
  g_free (replay_case->recording);
  g_free (replay_case->agreement_with);
  g_free (replay_case->golden);
  g_free (replay_case->test_name);
  g_free (replay_case);
}

/* ---- the command line ---- */

static gboolean
needs_quoting (const char *word)
{
  if (*word == '\0')
    return TRUE;
  for (const char *p = word; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("_,.+=/:@%-", *p) == NULL)
      return TRUE;
  return FALSE;
}

static char *
format_command_line (char **args)
{
  GString *line = g_string_new ("$ vcpuprobe");

  for (guint i = 0; args[i] != NULL; i++)
    {
      g_autofree char *quoted = needs_quoting (args[i]) ? g_shell_quote (args[i]) : NULL;
      g_string_append_printf (line, " %s", quoted != NULL ? quoted : args[i]);
    }
  return g_string_free (line, FALSE);
}

static gboolean
strv_contains_any (char **args, const char *const *words, guint n_words)
{
  for (guint i = 0; args[i] != NULL; i++)
    for (guint j = 0; j < n_words; j++)
      if (g_str_equal (args[i], words[j]))
        return TRUE;
  return FALSE;
}

/* The recording's own command line, made to replay it: the program, --record, --qemu and
 * --debug go, --replay of the recording comes first, and --format json is added where the
 * recording was made without a format. */
static char **
command_from_metadata (const char *recording, json_object *metadata)
{
  static const char *const dropped_with_value[] = { "--record", "--qemu", "--socket", "--replay" };
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);
  json_object *argv = NULL;
  gboolean has_format = FALSE;
  g_autofree char *dump = g_build_filename (replies_dir, "host.cpuid", NULL);

  if (metadata == NULL || !json_object_object_get_ex (metadata, "argv", &argv))
    setup_fail ("%s: no metadata \"argv\" to make a golden from: write a golden with its command line", recording);
  for (size_t i = 1; i < json_object_array_length (argv); i++)
    {
      const char *word = json_object_get_string (json_object_array_get_idx (argv, i));
      gboolean dropped = g_str_equal (word, "--debug");

      for (guint j = 0; j < G_N_ELEMENTS (dropped_with_value); j++)
        {
          if (g_str_equal (word, dropped_with_value[j]))
            {
              dropped = TRUE;
              i++;
            }
          else if (g_str_has_prefix (word, dropped_with_value[j])
                   && word[strlen (dropped_with_value[j])] == '=')
            dropped = TRUE;
        }
      if (!dropped)
        g_ptr_array_add (kept, g_strdup (word));
      has_format |= g_str_has_prefix (word, "--format");
    }
  g_ptr_array_add (kept, NULL);

  g_strv_builder_add_many (builder, "--replay", recording, NULL);
  if (g_file_test (dump, G_FILE_TEST_IS_REGULAR)
      && strv_contains_any ((char **) kept->pdata, host_layer_commands,
                            G_N_ELEMENTS (host_layer_commands)))
    g_strv_builder_add_many (builder, "--cpuid-dump", "host.cpuid", NULL);
  if (!has_format)
    g_strv_builder_add_many (builder, "--format", "json", NULL);
  g_strv_builder_addv (builder, (const char **) kept->pdata);
  return g_strv_builder_end (builder);
}

/* ---- the golden file ---- */

typedef struct {
  char *command_line;    /* "$ vcpuprobe ..." */
  char **args;           /* the words after "vcpuprobe" */
  GPtrArray *comments;   /* "# ..." lines, kept on regeneration */
  char *expected;        /* the whole file */
} Golden;

static void
golden_free (Golden *golden)
{
  g_free (golden->command_line);
  g_strfreev (golden->args);
  g_ptr_array_unref (golden->comments);
  g_free (golden->expected);
  g_free (golden);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Golden, golden_free)

static Golden *
golden_load (const char *path)
{
  g_autoptr (Golden) golden = g_new0 (Golden, 1);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) words = NULL;
  const char *line;
  const char *end;

  golden->comments = g_ptr_array_new_with_free_func (g_free);
  if (!g_file_get_contents (path, &golden->expected, NULL, &error))
    fail_msg ("%s", error->message);
  /* Only the head is read here, line by line: the command line and the "#" comments under
   * it. (Splitting a whole host dump at every newline costs a pass over the rest of the
   * text per line under ASan's strstr.) */
  line = golden->expected;
  end = strchrnul (line, '\n');
  golden->command_line = g_strndup (line, (gsize) (end - line));
  if (!g_str_has_prefix (golden->command_line, "$ vcpuprobe ")
      || !g_shell_parse_argv (golden->command_line + 2, NULL, &words, &error))
    fail_msg ("%s:1: expected \"$ vcpuprobe ARGS\"%s%s", path,
              error != NULL ? ": " : "", error != NULL ? error->message : "");
  golden->args = g_strdupv (words + 1);
  while (*end == '\n' && end[1] == '#')
    {
      line = end + 1;
      end = strchrnul (line, '\n');
      g_ptr_array_add (golden->comments, g_strndup (line, (gsize) (end - line)));
    }
  return g_steal_pointer (&golden);
}

static gboolean
golden_allows_any_unanswered (const Golden *golden)
{
  for (guint i = 0; i < golden->comments->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (golden->comments, i), "# unanswered: "))
      return TRUE;
  return FALSE;
}

/* ---- normalisation ---- */

static char *
replace_all (const char *text, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (text, from, -1);

  return g_strjoinv (to, parts);
}

static void
normalise_json (json_object *value)
{
  if (json_object_is_type (value, json_type_array))
    {
      for (size_t i = 0; i < json_object_array_length (value); i++)
        {
          json_object *element = json_object_array_get_idx (value, i);
          if (json_object_is_type (element, json_type_string))
            {
              g_autofree char *text = replace_all (json_object_get_string (element),
                                                   replies_dir, "@QMP_REPLIES@");
              json_object_array_put_idx (value, i, json_object_new_string (text));
            }
          else
            normalise_json (element);
        }
      return;
    }
  if (!json_object_is_type (value, json_type_object))
    return;
  json_object_object_foreach (value, key, member)
    {
      gboolean varies = FALSE;

      for (guint i = 0; i < G_N_ELEMENTS (varying_members); i++)
        varies |= g_str_equal (key, varying_members[i]);
      if (varies && json_object_is_type (member, json_type_string))
        json_object_object_add (value, key, json_object_new_string ("@VARIES@"));
      else if (json_object_is_type (member, json_type_string))
        {
          g_autofree char *text = replace_all (json_object_get_string (member),
                                               replies_dir, "@QMP_REPLIES@");
          json_object_object_add (value, key, json_object_new_string (text));
        }
      else
        normalise_json (member);
    }
}

static char *
normalise_stdout (const char *out)
{
  json_tokener *tokener = json_tokener_new ();
  json_object *document = json_tokener_parse_ex (tokener, out, (int) strlen (out));
  gsize end = strlen (out);
  gboolean whole;
  char *normal;

  while (end > 0 && g_ascii_isspace (out[end - 1]))
    end--;
  whole = document != NULL && json_tokener_get_parse_end (tokener) >= end;

  json_tokener_free (tokener);
  if (document == NULL || !whole)
    {
      json_object_put (document);
      return replace_all (out, replies_dir, "@QMP_REPLIES@");
    }
  normalise_json (document);
  normal = g_strconcat (json_object_to_json_string_ext (document,
                                                         JSON_C_TO_STRING_PRETTY
                                                         | JSON_C_TO_STRING_SPACED
                                                         | JSON_C_TO_STRING_NOSLASHESCAPE),
                        "\n", NULL);
  json_object_put (document);
  return normal;
}

/* ---- running vcpuprobe ---- */

typedef struct {
  char *out;
  GPtrArray *stderr_lines;
  int status;
} ReplayRun;

static void
replay_run_free (ReplayRun *run)
{
  g_free (run->out);
  g_ptr_array_unref (run->stderr_lines);
  g_free (run);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReplayRun, replay_run_free)

static ReplayRun *
run_vcpuprobe (char **args, gboolean strict)
{
  g_autoptr (ReplayRun) run = g_new0 (ReplayRun, 1);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  g_autofree char *cache = test_make_tmpdir ();
  g_auto (GStrv) env = g_get_environ ();
  g_auto (GStrv) lines = NULL;
  int wait_status;

  g_ptr_array_add (argv, vcpuprobe);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, args[i]);
  g_ptr_array_add (argv, NULL);
  env = g_environ_setenv (env, "XDG_CACHE_HOME", cache, TRUE);
  if (strict)
    env = g_environ_setenv (env, "VCPUPROBE_REPLAY_STRICT", "1", TRUE);
  else
    env = g_environ_unsetenv (env, "VCPUPROBE_REPLAY_STRICT");

  if (!g_spawn_sync (replies_dir, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                     &run->out, &err, &wait_status, &error))
    fail_msg ("cannot run %s: %s", vcpuprobe, error->message);
  test_rmdir_r (cache);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : 128 + WTERMSIG (wait_status);

  run->stderr_lines = g_ptr_array_new_with_free_func (g_free);
  lines = g_strsplit (err, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (lines[i][0] != '\0' || lines[i + 1] != NULL)
      g_ptr_array_add (run->stderr_lines, replace_all (lines[i], replies_dir, "@QMP_REPLIES@"));
  return g_steal_pointer (&run);
}

static char *
format_result (const char *command_line, GPtrArray *comments, const ReplayRun *run)
{
  GString *result = g_string_new (command_line);
  g_autofree char *out = normalise_stdout (run->out);

  g_string_append_c (result, '\n');
  for (guint i = 0; comments != NULL && i < comments->len; i++)
    g_string_append_printf (result, "%s\n", (char *) g_ptr_array_index (comments, i));
  g_string_append_printf (result, "exit %d\n%s", run->status, out);
  if (run->stderr_lines->len > 0)
    {
      g_string_append (result, STDERR_MARK "\n");
      for (guint i = 0; i < run->stderr_lines->len; i++)
        g_string_append_printf (result, "%s\n", (char *) g_ptr_array_index (run->stderr_lines, i));
    }
  return g_string_free (result, FALSE);
}

/* ---- checks ---- */

/* Under VCPUPROBE_REPLAY_STRICT=1 the CLI fails a run whose recording could not answer a
 * command, saying "recording FILE has no answer for COMMAND {ARGS}". */
static void
assert_all_answered (const ReplayCase *replay_case, const ReplayRun *run)
{
  for (guint i = 0; i < run->stderr_lines->len; i++)
    {
      const char *line = g_ptr_array_index (run->stderr_lines, i);
      if (strstr (line, " has no answer for ") != NULL)
        fail_msg ("%s: the recording cannot answer what vcpuprobe asked (add \"# unanswered: "
                  "COMMAND\" to the golden if that is the point): %s", replay_case->test_name, line);
    }
}

static void
print_diff (const char *golden_path, const char *actual)
{
  g_autofree char *dir = test_make_tmpdir ();
  g_autofree char *actual_path = g_build_filename (dir, "actual", NULL);
  g_autofree char *diff = NULL;
  const char *argv[] = { "diff", "-u", golden_path, actual_path, NULL };

  g_file_set_contents (actual_path, actual, -1, NULL);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, &diff, NULL, NULL, NULL);
  print_message ("%s", diff != NULL ? diff : "(diff unavailable)\n");
  test_rmdir_r (dir);
}

static void
test_golden (void **state)
{
  const ReplayCase *replay_case = *state;
  g_autoptr (Golden) golden = golden_load (replay_case->golden);
  g_autoptr (ReplayRun) run = run_vcpuprobe (golden->args, !golden_allows_any_unanswered (golden));
  g_autofree char *actual = format_result (golden->command_line, golden->comments, run);

  if (!golden_allows_any_unanswered (golden))
    assert_all_answered (replay_case, run);
  /* A crash is never the expected output, whatever a regenerated golden would say. */
  if (run->status >= 128)
    fail_msg ("%s: vcpuprobe died of signal %d", replay_case->test_name, run->status - 128);
  if (g_str_equal (actual, golden->expected))
    return;
  if (regenerate)
    {
      g_autoptr (GError) error = NULL;
      if (!g_file_set_contents (replay_case->golden, actual, -1, &error))
        fail_msg ("%s", error->message);
      print_message ("regenerated %s\n", replay_case->golden);
      return;
    }
  print_diff (replay_case->golden, actual);
  fail_msg ("%s: output differs from the golden (VCPUPROBE_REGENERATE=1 rewrites it)",
            replay_case->test_name);
}

/* ---- both strategies agree ---- */

/* The JSON a golden's run printed, or NULL when the run failed (exit 2 or 3) and printed no
 * CPU; check's exit 1 (a mismatch) prints the guest CPU as well as exit 0 does. */
static json_object *
golden_document (const char *path)
{
  g_autofree char *text = NULL;
  g_autofree char *document_text = NULL;
  const char *start, *end;

  if (!g_file_get_contents (path, &text, NULL, NULL)
      || ((start = strstr (text, "\nexit 0\n")) == NULL && (start = strstr (text, "\nexit 1\n")) == NULL))
    return NULL;
  start += strlen ("\nexit 0\n");
  end = strstr (start, STDERR_MARK);
  document_text = g_strndup (start, end != NULL ? (gsize) (end - start) : strlen (start));
  return json_tokener_parse (document_text);
}

/* The CPUID features of @cpu's "enabled" (a guest, or a host model of `host`), or NULL when
 * @cpu is a host model that was not read ("known": false). MSR features are left out:
 * QEMU's feature-words, all the post-start strategy can read, have no MSR words
 * (reference §3.1). */
static GHashTable *
cpuid_features (const char *path, json_object *cpu)
{
  json_object *known = NULL, *enabled = NULL;
  GHashTable *features;

  if (json_object_object_get_ex (cpu, "known", &known) && !json_object_get_boolean (known))
    return NULL;
  if (!json_object_object_get_ex (cpu, "enabled", &enabled))
    fail_msg ("%s: no \"enabled\" features in the output", path);
  features = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (size_t i = 0; i < json_object_array_length (enabled); i++)
    {
      const char *name = json_object_get_string (json_object_array_get_idx (enabled, i));
      const X86Feature *feature = x86_feature_lookup (name);
      if (feature != NULL && x86_feature_words (NULL)[feature->word].kind == X86_WORD_CPUID)
        g_hash_table_add (features, g_strdup (feature->name));
    }
  return features;
}

static void
append_missing (GString *out, GHashTable *from, GHashTable *in)
{
  GHashTableIter iter;
  gpointer name;

  g_hash_table_iter_init (&iter, from);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    if (!g_hash_table_contains (in, name))
      g_string_append_printf (out, " %s", (char *) name);
}

/* FALSE when one side was not read; fails the test when both were and differ. */
static gboolean
assert_same_features (const ReplayCase *replay_case, const char *what, json_object *by_expansion,
                      json_object *by_post_start)
{
  g_autoptr (GHashTable) expansion = cpuid_features (replay_case->golden, by_expansion);
  g_autoptr (GHashTable) post_start = cpuid_features (replay_case->agreement_with, by_post_start);
  g_autoptr (GString) only_expansion = g_string_new (NULL);
  g_autoptr (GString) only_post_start = g_string_new (NULL);

  if (expansion == NULL || post_start == NULL)
    return FALSE;
  append_missing (only_expansion, expansion, post_start);
  append_missing (only_post_start, post_start, expansion);
  if (only_expansion->len > 0 || only_post_start->len > 0)
    fail_msg ("%s: %s: the strategies disagree: only the expansion has [%s ], only post-start [%s ]",
              replay_case->test_name, what, only_expansion->str, only_post_start->str);
  return TRUE;
}

/* DESIGN.md §2: on QEMU >= 2.9 the expansion and post-start strategies must give the
 * same guest CPU, and `host` the same host models (each one both runs could read). Read
 * from the two goldens, which the golden tests hold to the replays. */
static void
test_agreement (void **state)
{
  const ReplayCase *replay_case = *state;
  static const char *const host_models[] = { "host_model", "max_model" };
  g_autoptr (ProbeJson) expansion = golden_document (replay_case->golden);
  g_autoptr (ProbeJson) post_start = golden_document (replay_case->agreement_with);
  json_object *expansion_qemu = NULL, *post_start_qemu = NULL, *host_model = NULL;
  guint n_compared = 0;

  /* Failures are compared by the goldens themselves: the strategies fail in their own words. */
  if (expansion == NULL || post_start == NULL)
    {
      print_message ("SKIP: %s: %s printed no guest CPU\n", replay_case->test_name,
                     expansion == NULL ? "the expansion run" : "the post-start run");
      skip ();
    }
  if (json_object_object_get_ex (expansion, "qemu", &expansion_qemu)
      && json_object_object_get_ex (expansion_qemu, "host_model", &host_model)
      && json_object_object_get_ex (post_start, "qemu", &post_start_qemu))
    {
      for (guint i = 0; i < G_N_ELEMENTS (host_models); i++)
        n_compared += assert_same_features (replay_case, host_models[i],
                                            json_object_object_get (expansion_qemu, host_models[i]),
                                            json_object_object_get (post_start_qemu, host_models[i]));
    }
  else
    n_compared += assert_same_features (replay_case, "guest", json_object_object_get (expansion, "guest"),
                                        json_object_object_get (post_start, "guest"));
  if (n_compared == 0)
    {
      print_message ("SKIP: %s: no CPU both runs read\n", replay_case->test_name);
      skip ();
    }
}

/* The golden's command line without --replay and --method, and its method. */
static char *
command_key (const char *golden_path, char **method)
{
  g_autoptr (Golden) golden = golden_load (golden_path);
  g_autoptr (GString) key = g_string_new (NULL);

  *method = NULL;
  for (guint i = 0; golden->args[i] != NULL; i++)
    {
      if ((g_str_equal (golden->args[i], "--replay") || g_str_equal (golden->args[i], "--method"))
          && golden->args[i + 1] != NULL)
        {
          if (g_str_equal (golden->args[i], "--method"))
            *method = g_strdup (golden->args[i + 1]);
          i++;
          continue;
        }
      g_string_append_printf (key, " %s", golden->args[i]);
    }
  return g_strdup (key->str);
}

static void
add_agreement_cases (GPtrArray *cases)
{
  guint n_golden_cases = cases->len;

  for (guint i = 0; i < n_golden_cases; i++)
    {
      ReplayCase *expansion = g_ptr_array_index (cases, i);
      g_autofree char *method = NULL;
      g_autofree char *key = command_key (expansion->golden, &method);

      if (g_strcmp0 (method, "expansion") != 0)
        continue;
      for (guint j = 0; j < n_golden_cases; j++)
        {
          ReplayCase *post_start = g_ptr_array_index (cases, j);
          g_autofree char *other_method = NULL;
          g_autofree char *other_key = command_key (post_start->golden, &other_method);
          ReplayCase *agreement;

          if (g_strcmp0 (other_method, "post-start") != 0 || !g_str_equal (key, other_key))
            continue;
          agreement = g_new0 (ReplayCase, 1);
          agreement->recording = g_strdup (expansion->recording);
          agreement->golden = g_strdup (expansion->golden);
          agreement->agreement_with = g_strdup (post_start->golden);
          agreement->test_name = g_strdup_printf ("agreement%s", key);
          g_ptr_array_add (cases, agreement);
        }
    }
}

/* ---- the test list, from the files ---- */

static gint
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* A recording nobody replays is a recording nobody checks. */
static void
make_default_golden (const char *name, const char *golden_dir)
{
  g_autofree char *recording = g_build_filename (replies_dir, name, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (QmpReplies) replies = qmp_replies_load (recording, &error);
  g_auto (GStrv) args = NULL;
  g_autofree char *line = NULL;
  g_autofree char *path = g_build_filename (golden_dir, "default.out", NULL);

  if (replies == NULL)
    setup_fail ("%s", error->message);
  args = command_from_metadata (name, qmp_replies_metadata (replies));
  line = format_command_line (args);
  if (g_mkdir_with_parents (golden_dir, 0755) < 0
      || !g_file_set_contents (path, line, -1, &error))
    setup_fail ("cannot write %s", path);
}

static guint
test_count_entries_with_suffix (const char *dir_path, const char *suffix)
{
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *entry;
  guint count = 0;

  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    count += g_str_has_suffix (entry, suffix);
  return count;
}

static void
add_cases (GPtrArray *cases, const char *name)
{
  g_autofree char *stem = g_strndup (name, strlen (name) - strlen (".replies"));
  g_autofree char *golden_dir_name = g_strconcat (stem, GOLDEN_SUFFIX, NULL);
  g_autofree char *golden_dir = g_build_filename (replies_dir, golden_dir_name, NULL);
  g_autoptr (GPtrArray) tags = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = NULL;
  const char *entry;

  if (test_count_entries_with_suffix (golden_dir, ".out") == 0)
    {
      if (!regenerate)
        setup_fail ("%s has no %s/TAG.out (VCPUPROBE_REGENERATE=1 makes one from its argv)",
                    name, golden_dir_name);
      make_default_golden (name, golden_dir);
    }
  dir = g_dir_open (golden_dir, 0, NULL);
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".out"))
      g_ptr_array_add (tags, g_strdup (entry));
  g_ptr_array_sort (tags, compare_names);
  for (guint i = 0; i < tags->len; i++)
    {
      const char *tag = g_ptr_array_index (tags, i);
      ReplayCase *replay_case = g_new0 (ReplayCase, 1);

      replay_case->recording = g_strdup (name);
      replay_case->golden = g_build_filename (golden_dir, tag, NULL);
      replay_case->test_name = g_strdup_printf ("%s/%.*s", stem, (int) (strlen (tag) - 4), tag);
      g_ptr_array_add (cases, replay_case);
    }
}

/* Takes @path. */
static char *
absolute_path (char *path)
{
  g_autofree char *cwd = NULL;
  char *absolute;

  if (g_path_is_absolute (path))
    return path;
  cwd = g_get_current_dir ();
  absolute = g_build_filename (cwd, path, NULL);
  g_free (path);
  return absolute;
}

int
main (void)
{
  g_autoptr (GPtrArray) cases = g_ptr_array_new_with_free_func ((GDestroyNotify) replay_case_free);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = NULL;
  g_autofree struct CMUnitTest *tests = NULL;
  const char *entry;
  const char *only;
  int failed;

  replies_dir = absolute_path (test_data_path ("qmp-replies"));
  vcpuprobe = strchr (test_vcpuprobe (), '/') != NULL ? absolute_path (g_strdup (test_vcpuprobe ()))
                                                      : g_find_program_in_path (test_vcpuprobe ());
  if (vcpuprobe == NULL)
    setup_fail ("%s: not found", test_vcpuprobe ());
  regenerate = g_strcmp0 (g_getenv ("VCPUPROBE_REGENERATE"), "1") == 0;

  only = g_getenv ("VCPUPROBE_REPLAY_ONLY");
  dir = g_dir_open (replies_dir, 0, NULL);
  while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (entry, ".replies")
        && (only == NULL || g_pattern_match_simple (only, entry)))
      g_ptr_array_add (names, g_strdup (entry));
  if (names->len == 0)
    {
      fprintf (stderr, "no recordings in %s: the replay suite has nothing to check\n", replies_dir);
      return 1;
    }
  g_ptr_array_sort (names, compare_names);
  for (guint i = 0; i < names->len; i++)
    add_cases (cases, g_ptr_array_index (names, i));
  add_agreement_cases (cases);

  tests = g_new0 (struct CMUnitTest, cases->len);
  for (guint i = 0; i < cases->len; i++)
    {
      ReplayCase *replay_case = g_ptr_array_index (cases, i);
      tests[i].name = replay_case->test_name;
      tests[i].test_func = replay_case->agreement_with != NULL ? test_agreement : test_golden;
      tests[i].initial_state = replay_case;
    }
  failed = _cmocka_run_group_tests ("replay", tests, cases->len, NULL, NULL);
  g_free (replies_dir);
  g_free (vcpuprobe);
  return failed;
}
