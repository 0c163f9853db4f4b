/* tools/options.h — the vcpuprobe command line (DESIGN.md §4) and its exit statuses.
 *
 * Global options may stand before or after COMMAND; a command's own options (declared
 * in its CliCommand entry, tools/commands.h) only after it. Both `--opt VALUE` and
 * `--opt=VALUE` work, `--` ends the options. Every mistake is one CLI_ERROR_USAGE
 * whose message is "<the input>: <the problem>". */
#pragma once
#include <glib.h>

/* The exit statuses scripts rely on. */
typedef enum {
  CLI_EXIT_OK = 0,         /* success, or a check that passed */
  CLI_EXIT_MISMATCH = 1,   /* check: the guest would not get exactly the CPU asked for */
  CLI_EXIT_USAGE = 2,      /* usage error or bad input (options, files, arguments) */
  CLI_EXIT_FAILURE = 3,    /* QEMU or probe failure: crash, timeout, QMP error, not a QEMU */
} CliExit;

#define CLI_ERROR (cli_error_quark ())
GQuark cli_error_quark (void);

typedef enum {
  CLI_ERROR_USAGE,     /* the command line is wrong */
  CLI_ERROR_INPUT,     /* a file or path named on the command line is unusable */
  CLI_ERROR_FAILURE,   /* QEMU or the probe failed in a way no lower layer has a code for */
} CliError;

/* The one place where errors of every layer become exit statuses: usage and unreadable
 * or malformed input → CLI_EXIT_USAGE, everything QEMU did or failed to do →
 * CLI_EXIT_FAILURE. A new error domain gets its line in options.c. */
CliExit cli_exit_for_error (const GError *error);

typedef enum {
  CLI_FORMAT_TEXT,
  CLI_FORMAT_JSON,
  CLI_FORMAT_XML,
} CliFormat;

typedef enum {
  CLI_METHOD_AUTO,
  CLI_METHOD_EXPANSION,
  CLI_METHOD_POST_START,
} CliMethod;

#define CLI_DEFAULT_TIMEOUT_SECONDS 30.0

typedef struct CliCommand CliCommand;

typedef struct {
  /* At most one of the three QMP sources; none means: launch qemu-system-x86_64 from PATH. */
  char *qemu;
  char *socket;
  char *replay;
  char *record;
  char *accel;            /* "kvm", "tcg", or NULL: the source decides */
  char *machine;          /* NULL: the command's default */
  CliMethod method;
  char *cpuid_dump;
  char *cpu_map;           /* libvirt's CPU map directory; NULL: the installed one, if any */
  CliFormat format;
  double timeout_seconds;
  gboolean no_cache;
  gboolean debug;

  GPtrArray *profiles;          /* --profile FILE|DIR, as given, in order (strings) */
  gpointer profile;             /* the ProbeProfile (probe/profile.h) this run answers from,
                                 * set per profile by tools/profile-run.c; else NULL */

  const CliCommand *command;
  GPtrArray *args;              /* the command's positional arguments (strings) */
  GHashTable *command_options;  /* the command's own options: name → value ("" for a flag) */
  GPtrArray *argv;              /* the whole command line, for recordings */
  gint64 start_us;              /* when parsing finished: --timeout counts from here */
} CliOptions;

/* What parsing decided beyond the options themselves. */
typedef enum {
  CLI_PARSE_RUN,       /* run options->command */
  CLI_PARSE_HELP,      /* --help: print cli_usage_text() and succeed */
  CLI_PARSE_VERSION,   /* --version */
} CliParseResult;

CliOptions *cli_options_new (void);
void        cli_options_free (CliOptions *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliOptions, cli_options_free)

/* Parses @argv (argv[0] is the program) into @options. --help and --version take effect
 * where they stand, so a mistake before them is still reported. FALSE with a
 * CLI_ERROR_USAGE on any mistake. */
gboolean cli_options_parse (CliOptions *options, int argc, char **argv,
                            CliParseResult *result, GError **error);

/* The value of the command's option @name ("cpu" for --cpu), "" for a flag that was
 * given, NULL when absent. Borrowed. */
const char *cli_options_command_value (const CliOptions *options, const char *name);

/* The one deadline (g_get_monotonic_time() scale) that --timeout sets for the whole run. */
gint64 cli_options_deadline (const CliOptions *options);

/* The usage block of DESIGN.md §4, ending in a newline. Static string. */
const char *cli_usage_text (void);
