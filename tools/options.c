/* tools/options.c — parses the vcpuprobe command line against one table of global
 * options and the per-command option lists of tools/commands.c. */
#include "tools/options.h"

#include <math.h>
#include <string.h>
#include "probe/libvirt-cpu-map.h"
#include "probe/profile.h"
#include "qmp/source.h"
#include "tools/commands.h"
#include "x86/cpuid-dump.h"
#include "x86/feature-set.h"

G_DEFINE_QUARK (cli-error-quark, cli_error)

static const char usage_text[] =
  "vcpuprobe [OPTIONS] COMMAND [ARGS]\n"
  "  host            host capability dump: hardware CPUID, KVM, QEMU host/max models, named models\n"
  "  check CPU       exit 0 if the guest gets exactly CPU; exit 1, with reasons, if not\n"
  "  expand CPU      the guest CPU QEMU will create: original, updated, diff (exit 0)\n"
  "  models          every named model: usable here or not, and the features that block it\n"
  "  cpuid           raw host CPUID (text in the `cpuid -1r` layout, or --format json)\n"
  "  qmp CMD [ARGS]  run one QMP command (ARGS as a JSON object), print the reply as JSON\n"
  "  hook DOMAIN OPERATION [SUB-OPERATION [EXTRA]]  libvirt's qemu hook, domain XML on stdin:\n"
  "                  on `prepare begin` refuse (exit 1) a start its check='full'/'partial' would\n"
  "                  refuse; run by libvirt when linked as /etc/libvirt/hooks/qemu.d/vcpuprobe\n"
  "  cached models|machines  the CPU models or machine types of --qemu's QEMU that the probe\n"
  "                  cache holds, one a line, starting no QEMU (for shell completion)\n"
  "  profile [--output FILE]  this host's profile: CPUID, KVM and every QEMU answer that\n"
  "                  expand, check and models need, as one JSON document\n"
  "  labels [--output FILE]  this node's Kubernetes labels (KubeVirt's names) as a Node\n"
  "                  Feature Discovery features.d file: the models a check='full' domain\n"
  "                  starts with under kvm, the features a guest can have, host-model\n"
  "                  (--timeout bounds each model's judgement)\n"
  "  baseline PROFILE...  the most capable CPU every profiled host gives the guest\n"
  "                  identically: model and features as libvirt <cpu> (check='full'), JSON\n"
  "                  and -cpu, and which host's layer left out each feature of the model\n"
  "Options: --qemu PATH | --socket PATH | --replay FILE, --record FILE, --accel kvm|tcg,\n"
  "  --machine TYPE, --method auto|expansion|post-start, --cpuid-dump FILE,\n"
  "  --cpu-map DIR (libvirt's CPU map; default /usr/share/libvirt/cpu_map),\n"
  "  --format text|json|xml, --timeout SECONDS, --no-cache, --debug, --help, --version,\n"
  "  --profile FILE|DIR (repeatable: expand, check and models answer from host profiles,\n"
  "  per host, starting nothing; a question a profile holds no answer for exits 3)\n"
  "Global options may stand before or after COMMAND; options of one command (`cpuid --cpu N`,\n"
  "  `check --strict`, `models --probe-old`, `hook --config FILE --on-error allow|refuse\n"
  "  --hook-timeout SECONDS`, `profile --output FILE`, `labels --output FILE`) after it.\n"
  "CPU: a -cpu string (\"Haswell-noTSX,+x2apic,-hle\", \"host\", \"max\") or a file with a libvirt\n"
  "  <cpu> element or a whole domain XML.\n"
  "Exit: 0 success / pass, 1 check mismatch, 2 usage or bad input, 3 QEMU or probe failure.\n";

const char *
cli_usage_text (void)
{
  return usage_text;
}

typedef enum {
  OPTION_STRING,   /* a char * field */
  OPTION_SOURCE,   /* a char * field; at most one of the sources may be given */
  OPTION_CHOICE,   /* an enum field: the index of the value in choices */
  OPTION_WORD,     /* a char * field restricted to choices */
  OPTION_TIMEOUT,
  OPTION_FLAG,     /* a gboolean field */
  OPTION_HELP,
  OPTION_VERSION,
  OPTION_LIST,     /* a GPtrArray * field of strings: the option may be repeated */
} OptionKind;

typedef struct {
  const char *name;
  OptionKind kind;
  gsize offset;
  const char *const *choices;   /* NULL-terminated */
} GlobalOption;

static const char *const accel_choices[] = { "kvm", "tcg", NULL };
static const char *const method_choices[] = { "auto", "expansion", "post-start", NULL };
static const char *const format_choices[] = { "text", "json", "xml", NULL };

static const GlobalOption global_options[] = {
  { "qemu",       OPTION_SOURCE,  G_STRUCT_OFFSET (CliOptions, qemu),            NULL },
  { "socket",     OPTION_SOURCE,  G_STRUCT_OFFSET (CliOptions, socket),          NULL },
  { "replay",     OPTION_SOURCE,  G_STRUCT_OFFSET (CliOptions, replay),          NULL },
  { "record",     OPTION_STRING,  G_STRUCT_OFFSET (CliOptions, record),          NULL },
  { "accel",      OPTION_WORD,    G_STRUCT_OFFSET (CliOptions, accel),           accel_choices },
  { "machine",    OPTION_STRING,  G_STRUCT_OFFSET (CliOptions, machine),         NULL },
  { "method",     OPTION_CHOICE,  G_STRUCT_OFFSET (CliOptions, method),          method_choices },
  { "cpuid-dump", OPTION_STRING,  G_STRUCT_OFFSET (CliOptions, cpuid_dump),      NULL },
  { "cpu-map",    OPTION_STRING,  G_STRUCT_OFFSET (CliOptions, cpu_map),         NULL },
  { "format",     OPTION_CHOICE,  G_STRUCT_OFFSET (CliOptions, format),          format_choices },
  { "timeout",    OPTION_TIMEOUT, G_STRUCT_OFFSET (CliOptions, timeout_seconds), NULL },
  { "profile",    OPTION_LIST,    G_STRUCT_OFFSET (CliOptions, profiles),        NULL },
  { "no-cache",   OPTION_FLAG,    G_STRUCT_OFFSET (CliOptions, no_cache),        NULL },
  { "debug",      OPTION_FLAG,    G_STRUCT_OFFSET (CliOptions, debug),           NULL },
  { "help",       OPTION_HELP,    0,                                             NULL },
  { "version",    OPTION_VERSION, 0,                                             NULL },
};

CliOptions *
cli_options_new (void)
{
  CliOptions *options = g_new0 (CliOptions, 1);

  options->method = CLI_METHOD_AUTO;
  options->format = CLI_FORMAT_TEXT;
  options->timeout_seconds = CLI_DEFAULT_TIMEOUT_SECONDS;
  options->args = g_ptr_array_new_with_free_func (g_free);
  options->command_options = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  options->argv = g_ptr_array_new_with_free_func (g_free);
  options->profiles = g_ptr_array_new_with_free_func (g_free);
  return options;
}

void
cli_options_free (CliOptions *options)
{
  if (options == NULL)
    return;
  g_free (options->qemu);
  g_free (options->socket);
  g_free (options->replay);
  g_free (options->record);
  g_free (options->accel);
  g_free (options->machine);
  g_free (options->cpuid_dump);
  g_free (options->cpu_map);
  g_ptr_array_unref (options->args);
  g_hash_table_unref (options->command_options);
  g_ptr_array_unref (options->argv);
  g_ptr_array_unref (options->profiles);
  g_free (options);
}

const char *
cli_options_command_value (const CliOptions *options, const char *name)
{
  return g_hash_table_lookup (options->command_options, name);
}

gint64
cli_options_deadline (const CliOptions *options)
{
  /* Beyond a year the deadline is as good as none, and gint64 microseconds cannot overflow. */
  double seconds = MIN (options->timeout_seconds, 365.0 * 24 * 3600);

  return options->start_us + (gint64) (seconds * G_USEC_PER_SEC);
}

static const GlobalOption *
find_global_option (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (global_options); i++)
    if (strcmp (global_options[i].name, name) == 0)
      return &global_options[i];
  return NULL;
}

static int
find_choice (const char *const *choices, const char *value)
{
  for (int i = 0; choices[i] != NULL; i++)
    if (strcmp (choices[i], value) == 0)
      return i;
  return -1;
}

static gboolean
usage_error (GError **error, const char *input, const char *format, ...) G_GNUC_PRINTF (3, 4);

static gboolean
usage_error (GError **error, const char *input, const char *format, ...)
{
  g_autofree char *problem = NULL;
  va_list args;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "%s: %s", input, problem);
  return FALSE;
}

/* One option as the user wrote it: "--accel=kvm" or "--accel kvm". */
typedef struct {
  char *name;          /* "accel" */
  const char *value;   /* NULL for none */
  char *input;         /* the text to name in errors */
} OptionWord;

static void
option_word_clear (OptionWord *word)
{
  g_free (word->name);
  g_free (word->input);
}

/* The option takes a value: "--opt=VALUE", else the next word, and *index moves past it. */
static gboolean
read_option_value (OptionWord *word, int argc, char **argv, int *index, GError **error)
{
  const char *next = *index + 1 < argc ? argv[*index + 1] : NULL;

  if (word->value != NULL)
    {
      if (*word->value == '\0')
        return usage_error (error, word->input, "missing value");
      return TRUE;
    }
  /* A following option is a forgotten value, not a value: "--qemu --debug". */
  if (next == NULL || g_str_has_prefix (next, "--"))
    return usage_error (error, word->input, "missing value");
  (*index)++;
  word->value = next;
  g_free (word->input);
  word->input = g_strdup_printf ("--%s %s", word->name, next);
  return TRUE;
}

static gboolean
apply_global_option (CliOptions *options, const GlobalOption *option, OptionWord *word,
                     int argc, char **argv, int *index, CliParseResult *result, GError **error)
{
  char **string_field = &G_STRUCT_MEMBER (char *, options, option->offset);
  gboolean takes_value = option->kind != OPTION_FLAG && option->kind != OPTION_HELP
                         && option->kind != OPTION_VERSION;

  if (!takes_value)
    {
      if (word->value != NULL)
        return usage_error (error, word->input, "takes no value");
      switch (option->kind)
        {
        case OPTION_FLAG:
          G_STRUCT_MEMBER (gboolean, options, option->offset) = TRUE;
          break;
        case OPTION_HELP:
          *result = CLI_PARSE_HELP;
          break;
        default:
          *result = CLI_PARSE_VERSION;
          break;
        }
      return TRUE;
    }

  if (!read_option_value (word, argc, argv, index, error))
    return FALSE;

  switch (option->kind)
    {
    case OPTION_SOURCE:
      for (guint i = 0; i < G_N_ELEMENTS (global_options); i++)
        {
          const GlobalOption *other = &global_options[i];
          if (other != option && other->kind == OPTION_SOURCE
              && G_STRUCT_MEMBER (char *, options, other->offset) != NULL)
            return usage_error (error, word->input, "conflicts with --%s", other->name);
        }
      G_GNUC_FALLTHROUGH;
    case OPTION_STRING:
      if (*string_field != NULL)
        return usage_error (error, word->input, "--%s given twice", option->name);
      *string_field = g_strdup (word->value);
      return TRUE;

    case OPTION_WORD:
    case OPTION_CHOICE:
      {
        int choice = find_choice (option->choices, word->value);
        if (choice < 0)
          {
            g_autofree char *expected = g_strjoinv ("|", (char **) option->choices);
            return usage_error (error, word->input, "expected %s", expected);
          }
        if (option->kind == OPTION_CHOICE)
          G_STRUCT_MEMBER (int, options, option->offset) = choice;
        else
          {
            if (*string_field != NULL)
              return usage_error (error, word->input, "--%s given twice", option->name);
            *string_field = g_strdup (word->value);
          }
        return TRUE;
      }

    case OPTION_LIST:
      g_ptr_array_add (G_STRUCT_MEMBER (GPtrArray *, options, option->offset),
                       g_strdup (word->value));
      return TRUE;

    case OPTION_TIMEOUT:
      {
        char *end = NULL;
        double seconds = g_ascii_strtod (word->value, &end);
        if (end == word->value || *end != '\0' || !isfinite (seconds) || seconds <= 0)
          return usage_error (error, word->input, "expected a positive number of seconds");
        options->timeout_seconds = seconds;
        return TRUE;
      }

    default:
      g_assert_not_reached ();
    }
}

static gboolean
apply_command_option (CliOptions *options, const CliCommandOption *option, OptionWord *word,
                      int argc, char **argv, int *index, GError **error)
{
  if (option->value_name == NULL)
    {
      if (word->value != NULL)
        return usage_error (error, word->input, "takes no value");
      word->value = "";
    }
  else if (!read_option_value (word, argc, argv, index, error))
    return FALSE;
  if (g_hash_table_contains (options->command_options, option->name))
    return usage_error (error, word->input, "--%s given twice", option->name);
  g_hash_table_insert (options->command_options, g_strdup (option->name), g_strdup (word->value));
  return TRUE;
}

static gboolean
parse_option (CliOptions *options, int argc, char **argv, int *index,
              CliParseResult *result, GError **error)
{
  const char *arg = argv[*index];
  const char *equals = strchr (arg, '=');
  const GlobalOption *global;
  const CliCommandOption *own;
  const CliCommand *owner;
  gboolean ok;
  OptionWord word = { 0 };

  word.name = equals != NULL ? g_strndup (arg + 2, equals - (arg + 2)) : g_strdup (arg + 2);
  word.value = equals != NULL ? equals + 1 : NULL;
  word.input = g_strdup (arg);

  global = find_global_option (word.name);
  own = options->command != NULL ? cli_command_find_option (options->command, word.name) : NULL;
  if (global != NULL)
    ok = apply_global_option (options, global, &word, argc, argv, index, result, error);
  else if (own != NULL)
    ok = apply_command_option (options, own, &word, argc, argv, index, error);
  else if ((owner = cli_command_find_option_owner (word.name)) != NULL)
    {
      if (options->command == NULL)
        ok = usage_error (error, word.input, "an option of %s: put it after the command",
                          owner->name);
      else
        ok = usage_error (error, word.input, "not an option of %s", options->command->name);
    }
  else
    ok = usage_error (error, word.input, "unknown option");
  option_word_clear (&word);
  return ok;
}

static gboolean
parse_positional (CliOptions *options, const char *arg, GError **error)
{
  if (options->command == NULL)
    {
      options->command = cli_command_find (arg);
      if (options->command == NULL)
        return usage_error (error, arg, "unknown command");
      return TRUE;
    }
  g_ptr_array_add (options->args, g_strdup (arg));
  return TRUE;
}

static gboolean
check_arguments (CliOptions *options, GError **error)
{
  const CliCommand *command = options->command;

  if (command == NULL)
    return usage_error (error, "COMMAND", "missing (see vcpuprobe --help)");
  if (options->args->len < command->min_args)
    return usage_error (error, command->name, "missing argument %s",
                        command->arg_names[options->args->len]);
  if (options->args->len > command->max_args)
    {
      const char *extra = g_ptr_array_index (options->args, command->max_args);
      if (command->max_args == 0)
        return usage_error (error, extra, "unexpected argument (%s takes none)", command->name);
      return usage_error (error, extra, "unexpected argument (%s takes %u at most)",
                          command->name, command->max_args);
    }
  return TRUE;
}

gboolean
cli_options_parse (CliOptions *options, int argc, char **argv,
                   CliParseResult *result, GError **error)
{
  gboolean only_positional = FALSE;

  *result = CLI_PARSE_RUN;
  for (int i = 0; i < argc; i++)
    g_ptr_array_add (options->argv, g_strdup (argv[i]));

  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (!only_positional && strcmp (arg, "--") == 0)
        only_positional = TRUE;
      else if (!only_positional && g_str_has_prefix (arg, "--"))
        {
          if (!parse_option (options, argc, argv, &i, result, error))
            return FALSE;
          if (*result != CLI_PARSE_RUN)
            return TRUE;
        }
      else if (!only_positional && arg[0] == '-' && arg[1] != '\0')
        return usage_error (error, arg, "unknown option");
      else if (!parse_positional (options, arg, error))
        return FALSE;
    }
  if (!check_arguments (options, error))
    return FALSE;
  options->start_us = g_get_monotonic_time ();
  return TRUE;
}

CliExit
cli_exit_for_error (const GError *error)
{
  if (error->domain == CLI_ERROR)
    return error->code == CLI_ERROR_FAILURE ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
  /* A recording or dump named on the command line that cannot be read or parsed. */
  if (error->domain == QMP_REPLAY_ERROR || error->domain == G_FILE_ERROR)
    return CLI_EXIT_USAGE;
  if (error->domain == QMP_SOURCE_ERROR)
    return error->code == QMP_SOURCE_ERROR_NO_SEGMENT || error->code == QMP_SOURCE_ERROR_NOT_SOCKET
           ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
  if (error->domain == X86_CPUID_ERROR)
    return error->code == X86_CPUID_ERROR_HARDWARE ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
  if (error->domain == X86_FEATURE_ERROR)
    return CLI_EXIT_USAGE;
  /* A malformed profile is bad input; a question it holds no answer for is a probe that
   * could not be made. */
  if (error->domain == PROBE_PROFILE_ERROR)
    return error->code == PROBE_PROFILE_ERROR_INVALID ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
  /* A --cpu-map, or the installed map, libvirt itself could not load either. */
  if (error->domain == LIBVIRT_CPU_MAP_ERROR)
    return CLI_EXIT_USAGE;
  /* QMP_ERROR, QEMU_LAUNCH_ERROR and anything unforeseen: QEMU or the probe failed. */
  return CLI_EXIT_FAILURE;
}
