/* tests/fuzz-hook.c — libFuzzer target for what the libvirt hook reads (tools/cmd-hook.c):
 * the domain XML on standard input, its settings file (hook.conf) and the verdicts it takes
 * back, from a child `check --format json` or from the check cache.
 *
 * Those readers are the hook's own static functions: the hook is one file by design, so
 * this target compiles that file into itself rather than widening its interface. Each
 * input is all four things in turn, as the hook would meet it:
 *   - standard input: read_input() on a file holding it gives back exactly those bytes;
 *   - the domain: parsed as on `prepare begin`, then the check libvirt applies and the
 *     definition text that keys the cache;
 *   - hook.conf: load_config() keeps the defaults or takes values inside its bounds;
 *   - a verdict document: what is read from it is written as a cache answer and read back
 *     the same. */
#include "tools/cmd-hook.c"
#include "fuzz-util.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static char *input_path;
static CliOptions *options;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  input_path = g_build_filename (fuzz_private_dir ("fuzz-hook"), "input", NULL);
  options = cli_options_new ();
  return 0;
}

static void
read_standard_input (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) input = NULL;
  int fd = open (input_path, O_RDONLY);

  if (fd < 0)
    abort ();
  input = read_input (fd, g_get_monotonic_time () + 10 * G_USEC_PER_SEC, &error);
  close (fd);
  if (input == NULL || input->len != size || memcmp (input->str, data, size) != 0)
    abort ();
}

static void
judge_domain_input (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CpuDef) def = NULL;
  g_autofree char *definition = NULL;
  CliGuestOrigin origin;
  CpuCheck check;

  def = cpu_def_from_xml ((const char *) data, (gssize) size, "standard input", &error);
  if (def == NULL)
    {
      if (error == NULL || *error->message == '\0')
        abort ();
      return;
    }
  cli_guest_origin_init (&origin, options, def);
  check = libvirt_rules_effective_check (def, origin.options.accel != NULL
                                              ? origin.options.accel : "kvm");
  if (check == CPU_CHECK_UNSET)
    abort ();
  definition = probe_check_definition_text (def);
  if (definition == NULL || strchr (definition, '\n') != NULL)
    abort ();
}

static void
read_settings (void)
{
  HookSettings settings = { .timeout_seconds = HOOK_DEFAULT_TIMEOUT_SECONDS };
  g_autofree char *problem = load_config (&settings, input_path, TRUE);

  if (!(settings.timeout_seconds > 0 && settings.timeout_seconds <= 3600))
    abort ();
  if (problem != NULL && strstr (problem, input_path) == NULL)
    abort ();
}

static void
same_verdict (const HookVerdict *a, const HookVerdict *b)
{
  if (a->pass != b->pass || g_strcmp0 (a->message, b->message) != 0
      || g_strcmp0 (a->updated_xml, b->updated_xml) != 0)
    abort ();
}

/* A verdict read from @root, kept as the cache keeps it, reads back the same. */
static void
read_verdicts (const char *text)
{
  json_object *root = json_tokener_parse (text);
  g_auto (HookVerdict) from_check = { 0 };
  g_auto (HookVerdict) from_answer = { 0 };

  if (verdict_from_check_json (root, &from_check))
    {
      g_auto (HookVerdict) reread = { 0 };
      json_object *answer = verdict_to_answer (&from_check);

      if (!verdict_from_answer (answer, &reread))
        abort ();
      same_verdict (&from_check, &reread);
      json_object_put (answer);
    }
  verdict_from_answer (root, &from_answer);
  json_object_put (root);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);

  fuzz_write_file (input_path, data, size);
  read_standard_input (data, size);
  judge_domain_input (data, size);
  read_settings ();
  read_verdicts (text);
  return 0;
}
