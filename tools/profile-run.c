/* tools/profile-run.c — one command, answered per host from host profiles (--profile). */
#include "tools/profile-run.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include "probe/profile.h"
#include "probe/qemu-info.h"
#include "tools/commands.h"
#include "tools/output-json.h"
#include "tools/output-text.h"
#include "tools/progress.h"

/* The commands whose questions a profile holds the answers to. */
static const char *const profile_commands[] = { "expand", "check", "models", NULL };

gboolean
cli_profile_requested (const CliOptions *options)
{
  return options->profiles != NULL && options->profiles->len > 0;
}

static gboolean
check_usage (const CliOptions *options, GError **error)
{
  static const struct { const char *name; gsize offset; } conflicting[] = {
    { "qemu", G_STRUCT_OFFSET (CliOptions, qemu) },
    { "socket", G_STRUCT_OFFSET (CliOptions, socket) },
    { "replay", G_STRUCT_OFFSET (CliOptions, replay) },
    { "record", G_STRUCT_OFFSET (CliOptions, record) },
    { "cpuid-dump", G_STRUCT_OFFSET (CliOptions, cpuid_dump) },
  };

  if (!g_strv_contains (profile_commands, options->command->name))
    {
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                   "--profile: %s does not answer from profiles (expand, check and models do)",
                   options->command->name);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (conflicting); i++)
    if (G_STRUCT_MEMBER (char *, options, conflicting[i].offset) != NULL)
      {
        g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE,
                     "--profile: conflicts with --%s (a profile is its host's QEMU and CPUID)",
                     conflicting[i].name);
        return FALSE;
      }
  return TRUE;
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every profile file named: a directory stands for its *.json files, in name order. */
static GPtrArray *
profile_paths (const CliOptions *options, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < options->profiles->len; i++)
    {
      const char *named = g_ptr_array_index (options->profiles, i);
      g_autoptr (GDir) directory = NULL;
      g_autoptr (GPtrArray) found = NULL;
      const char *entry;

      if (!g_file_test (named, G_FILE_TEST_IS_DIR))
        {
          g_ptr_array_add (paths, g_strdup (named));
          continue;
        }
      directory = g_dir_open (named, 0, error);
      if (directory == NULL)
        return NULL;
      found = g_ptr_array_new_with_free_func (g_free);
      while ((entry = g_dir_read_name (directory)) != NULL)
        if (g_str_has_suffix (entry, ".json"))
          g_ptr_array_add (found, g_build_filename (named, entry, NULL));
      if (found->len == 0)
        {
          g_set_error (error, CLI_ERROR, CLI_ERROR_INPUT, "--profile %s: no *.json profile in "
                       "the directory", named);
          return NULL;
        }
      g_ptr_array_sort (found, compare_paths);
      g_ptr_array_extend_and_steal (paths, g_steal_pointer (&found));
    }
  return g_steal_pointer (&paths);
}

/* One host's answer: what the command printed, its status, or why it could not answer. */
typedef struct {
  ProbeProfile *profile;
  GString *printed;
  json_object *printed_json;   /* the printed document, parsed once for all alike hosts */
  int status;
  GError *error;
  /* 1 + the index of an earlier answer from an alike profile (ProbeProfileShelf) whose
   * output and status are this host's too; 0 when this host was answered itself. */
  guint same_as;
} HostAnswer;

static void
host_answer_clear (HostAnswer *answer)
{
  probe_profile_free (answer->profile);
  if (answer->printed != NULL)
    g_string_free (answer->printed, TRUE);
  json_object_put (answer->printed_json);
  g_clear_error (&answer->error);
}

/* The answer whose output @answer prints: its own, or the alike one's it shares. */
static HostAnswer *
printing_answer (GArray *answers, HostAnswer *answer)
{
  return answer->same_as > 0 ? &g_array_index (answers, HostAnswer, answer->same_as - 1) : answer;
}

/* `models` reads the host's layers from a dump file, as --cpuid-dump gives it: the
 * profile's CPUID and KVM tables are written to a memory file (memfd), named by its
 * /proc/self/fd path, so that nothing is left on disk whatever stops the run. The
 * descriptor into *@fd, the path newly allocated; NULL with @error. */
static char *
write_profile_dump (const ProbeProfile *profile, int *fd, GError **error)
{
  const X86CpuidDump *cpuid = probe_profile_cpuid (profile);
  g_autoptr (ProbeJson) dump = NULL;
  const char *text;
  gsize left;

  /* Malformed: probe_profile_explain_error() says what is wrong with it. */
  if (cpuid == NULL)
    {
      g_set_error (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID,
                   "%s: the profile's CPUID cannot be read", profile->path);
      return NULL;
    }
  dump = x86_cpuid_dump_to_json (cpuid);
  text = json_object_to_json_string_ext (dump, JSON_C_TO_STRING_PLAIN);
  left = strlen (text);

  *fd = memfd_create ("vcpuprobe-profile-dump", MFD_CLOEXEC);
  if (*fd < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "%s: cannot hold the profile's CPUID in memory: %s", profile->path,
                   g_strerror (errno));
      return NULL;
    }
  while (left > 0)
    {
      ssize_t written = write (*fd, text, left);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        {
          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                       "%s: cannot hold the profile's CPUID in memory: %s", profile->path,
                       g_strerror (errno));
          close (*fd);
          *fd = -1;
          return NULL;
        }
      text += written;
      left -= (gsize) written;
    }
  return g_strdup_printf ("/proc/self/fd/%d", *fd);
}

static void
answer_host (const CliOptions *options, HostAnswer *answer, gboolean with_dump)
{
  CliOptions for_host = *options;
  g_autofree char *dump_path = NULL;
  int dump_fd = -1;

  /* The profiled host's QEMU, its default accelerator, nothing of this host's caches. */
  for_host.profile = answer->profile;
  for_host.accel = options->accel != NULL ? options->accel : answer->profile->default_accel;
  for_host.no_cache = TRUE;
  /* --timeout bounds each host's answer: a fleet read one host after another would
   * otherwise run its last hosts out of time, each failing as if a QEMU were late. */
  for_host.start_us = g_get_monotonic_time ();
  answer->printed = g_string_new (NULL);
  if (with_dump)
    {
      dump_path = write_profile_dump (answer->profile, &dump_fd, &answer->error);
      if (dump_path == NULL)
        {
          answer->status = -1;
          probe_profile_explain_error (answer->profile, answer->error);
          return;
        }
      for_host.cpuid_dump = dump_path;
    }
  cli_output_divert (answer->printed);
  answer->status = options->command->run (&for_host, &answer->error);
  cli_output_divert (NULL);
  if (dump_fd >= 0)
    close (dump_fd);
  /* An answer that read a malformed part of the profile is none, whatever it printed. */
  if (answer->status >= 0)
    {
      answer->error = probe_profile_malformed (answer->profile);
      if (answer->error != NULL)
        answer->status = -1;
    }
  else
    probe_profile_explain_error (answer->profile, answer->error);
}

static int
exit_status (const HostAnswer *answer)
{
  return answer->status >= 0 ? answer->status : (int) cli_exit_for_error (answer->error);
}

static void
add_provenance (json_object *object, const ProbeProfile *profile)
{
  json_object_object_add (object, "profile", json_object_new_string (profile->path));
  json_object_object_add (object, "host", json_object_new_string (profile->host));
  json_object_object_add (object, "made", json_object_new_string (profile->made));
}

/* The document a command printed, with where it came from first. Caller owns it. */
static json_object *
answer_json (GArray *answers, HostAnswer *answer)
{
  json_object *entry = json_object_new_object ();
  json_object *printed;

  add_provenance (entry, answer->profile);
  if (answer->status < 0)
    {
      json_object_object_add (entry, "error", json_object_new_string (answer->error->message));
      json_object_object_add (entry, "exit", json_object_new_int (exit_status (answer)));
      return entry;
    }
  /* Alike hosts print the same members: the values are parsed once and shared. */
  answer = printing_answer (answers, answer);
  if (answer->printed_json == NULL)
    answer->printed_json = json_tokener_parse (answer->printed->str);
  printed = answer->printed_json;
  if (json_object_is_type (printed, json_type_object))
    {
      json_object_object_foreach (printed, key, value)
        json_object_object_add (entry, key, json_object_get (value));
    }
  return entry;
}

static void
answer_text (GString *out, GArray *answers, HostAnswer *answer, CliFormat format)
{
  const ProbeProfile *profile = answer->profile;

  if (format == CLI_FORMAT_XML)
    g_string_append_printf (out, "<!-- answered from the profile of %s made %s (%s) -->\n",
                            profile->host, profile->made, profile->path);
  else
    g_string_append_printf (out, "answered from the profile of %s made %s (%s)\n",
                            profile->host, profile->made, profile->path);
  if (answer->status < 0)
    g_string_append_printf (out, "error: %s\n", answer->error->message);
  else
    g_string_append (out, printing_answer (answers, answer)->printed->str);
}

static gboolean
print_answers (const CliOptions *options, GArray *answers, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  if (options->format == CLI_FORMAT_JSON)
    {
      json_object *document;
      gboolean printed;

      if (answers->len == 1)
        document = answer_json (answers, &g_array_index (answers, HostAnswer, 0));
      else
        {
          json_object *hosts = json_object_new_array ();

          document = json_object_new_object ();
          for (guint i = 0; i < answers->len; i++)
            json_object_array_add (hosts, answer_json (answers,
                                                       &g_array_index (answers, HostAnswer, i)));
          json_object_object_add (document, "hosts", hosts);
        }
      printed = cli_json_print (document, error);
      json_object_put (document);
      return printed;
    }
  for (guint i = 0; i < answers->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, '\n');
      answer_text (out, answers, &g_array_index (answers, HostAnswer, i), options->format);
    }
  return cli_output_print (out->str, error);
}

int
cli_profile_run (const CliOptions *options, GError **error)
{
  /* Declared first, freed last: the profiles borrow from it. */
  g_autoptr (ProbeProfileShelf) shelf = probe_profile_shelf_new ();
  g_autoptr (GPtrArray) paths = NULL;
  g_autoptr (GArray) answers = g_array_new (FALSE, TRUE, sizeof (HostAnswer));
  int worst = CLI_EXIT_OK;
  gboolean with_dump;
  /* alike profile (ProbeProfile.alike) → 1 + the index of the first answer from it */
  g_autoptr (GHashTable) answered_alike = g_hash_table_new (NULL, NULL);

  g_array_set_clear_func (answers, (GDestroyNotify) host_answer_clear);
  if (!check_usage (options, error) || (paths = profile_paths (options, error)) == NULL)
    return -1;
  /* models judges blockers by the host's layers, which it reads from a dump file. */
  with_dump = strcmp (options->command->name, "models") == 0;
  /* Each profile is answered as it is read, and its parsed facts are let go once its kind
   * has answered: a fleet of distinct hosts holds one parsed profile at a time. A bad
   * profile is still the run's error alone: no answer is printed. */
  {
    g_autoptr (CliProgress) answering = paths->len > 1 ? cli_progress_new ("answering per host")
                                                       : NULL;

    for (guint i = 0; i < paths->len; i++)
      {
        HostAnswer read = { 0 };
        HostAnswer *answer;
        guint first;

        read.profile = probe_profile_shelf_load (shelf, g_ptr_array_index (paths, i), error);
        if (read.profile == NULL)
          return -1;
        g_array_append_val (answers, read);
        answer = &g_array_index (answers, HostAnswer, i);
        first = GPOINTER_TO_UINT (g_hash_table_lookup (answered_alike, answer->profile->alike));
        /* An alike host's answer is the first one's, unless that one failed: errors name
         * their profile, so each host gets its own (and the facts are kept for them). */
        if (first > 0 && g_array_index (answers, HostAnswer, first - 1).status >= 0)
          {
            answer->same_as = first;
            answer->status = g_array_index (answers, HostAnswer, first - 1).status;
          }
        else
          {
            answer_host (options, answer, with_dump);
            if (first == 0 && answer->profile->alike != NULL)
              {
                g_hash_table_insert (answered_alike, (gpointer) answer->profile->alike,
                                     GUINT_TO_POINTER (i + 1));
                if (answer->status >= 0)
                  probe_profile_shelf_release (shelf, answer->profile->alike);
              }
          }
        cli_progress_update (answering, i + 1, paths->len);
      }
  }

  /* One host fails as a live run fails: one error line, its exit status. */
  if (answers->len == 1 && g_array_index (answers, HostAnswer, 0).status < 0)
    {
      g_propagate_error (error, g_steal_pointer (&g_array_index (answers, HostAnswer, 0).error));
      return -1;
    }
  if (!print_answers (options, answers, error))
    return -1;
  for (guint i = 0; i < answers->len; i++)
    worst = MAX (worst, exit_status (&g_array_index (answers, HostAnswer, i)));
  return worst;
}
