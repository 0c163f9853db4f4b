/* tests/test-library-client.c — a program of libvcpuprobe's users, built by
 * tests/test-library.c against the installed library through pkg-config, nothing of the
 * tree. It takes the command line of vcpuprobe (the part the library answers) and answers
 * it through the API, printing what the CLI would: the document on stdout, an error as
 * "vcpuprobe: MESSAGE" on stderr, the CLI's exit status. --values FILE also writes what
 * the result's accessors return, for the test to hold to the document. */
#include <stdio.h>
#include <string.h>
#include <vcpuprobe.h>

static const struct { const char *option; VcpuprobeSource source; } sources[] = {
  { "--qemu", VCPUPROBE_SOURCE_QEMU },
  { "--socket", VCPUPROBE_SOURCE_SOCKET },
  { "--replay", VCPUPROBE_SOURCE_REPLAY },
  { "--profile", VCPUPROBE_SOURCE_PROFILE },
};

static int
usage (const char *word)
{
  fprintf (stderr, "test-library-client: %s: not understood\n", word);
  return 2;
}

static void
set_source (VcpuprobeContext **context, const char *option, const char *path)
{
  for (size_t i = 0; i < G_N_ELEMENTS (sources); i++)
    if (strcmp (option, sources[i].option) == 0)
      {
        vcpuprobe_context_free (*context);
        *context = vcpuprobe_context_new (sources[i].source, path);
      }
}

static gboolean
write_values (const char *path, const VcpuprobeResult *result)
{
  static const char *const verdicts[] = { "none", "pass", "fail" };
  const char *xml = vcpuprobe_result_updated_xml (result);
  const char *cpu = vcpuprobe_result_updated_cpu (result);
  g_autofree char *values = g_strdup_printf ("verdict %s\ncpu %s\nxml %s",
                                             verdicts[vcpuprobe_result_verdict (result)],
                                             cpu != NULL ? cpu : "(none)",
                                             xml != NULL ? xml : "(none)");

  return g_file_set_contents (path, values, -1, NULL);
}

int
main (int argc, char **argv)
{
  g_autoptr (VcpuprobeContext) context = vcpuprobe_context_new (VCPUPROBE_SOURCE_QEMU, NULL);
  g_autoptr (VcpuprobeResult) result = NULL;
  g_autoptr (GError) error = NULL;
  const char *values = NULL;
  const char *command = NULL;
  const char *cpu = NULL;
  gboolean strict = FALSE;
  int i;

  for (i = 1; i < argc && argv[i][0] == '-'; i++)
    {
      const char *value = i + 1 < argc ? argv[i + 1] : "";

      if (strcmp (argv[i], "--no-cache") == 0)
        {
          vcpuprobe_context_set_cache (context, FALSE);
          continue;
        }
      i++;
      if (strcmp (argv[i - 1], "--accel") == 0)
        vcpuprobe_context_set_accel (context, strcmp (value, "kvm") == 0 ? VCPUPROBE_ACCEL_KVM
                                              : VCPUPROBE_ACCEL_TCG);
      else if (strcmp (argv[i - 1], "--method") == 0)
        vcpuprobe_context_set_method (context, strcmp (value, "expansion") == 0
                                               ? VCPUPROBE_METHOD_EXPANSION
                                               : VCPUPROBE_METHOD_POST_START);
      else if (strcmp (argv[i - 1], "--machine") == 0)
        vcpuprobe_context_set_machine (context, value);
      else if (strcmp (argv[i - 1], "--cpuid-dump") == 0)
        vcpuprobe_context_set_cpuid_dump (context, value);
      else if (strcmp (argv[i - 1], "--cpu-map") == 0)
        vcpuprobe_context_set_cpu_map (context, value);
      else if (strcmp (argv[i - 1], "--timeout") == 0)
        vcpuprobe_context_set_timeout (context, g_ascii_strtod (value, NULL));
      else if (strcmp (argv[i - 1], "--values") == 0)
        values = value;
      else if (strcmp (argv[i - 1], "--format") != 0)   /* the library's is always json */
        set_source (&context, argv[i - 1], value);
    }
  if (i < argc)
    command = argv[i++];
  if (i < argc && strcmp (argv[i], "--strict") == 0)
    strict = ++i > 0;
  if (i < argc)
    cpu = argv[i++];
  if (command == NULL || i < argc)
    return usage (command == NULL ? "no command" : argv[i]);

  if (strcmp (command, "expand") == 0 && cpu != NULL)
    result = vcpuprobe_expand (context, cpu, &error);
  else if (strcmp (command, "check") == 0 && cpu != NULL)
    result = vcpuprobe_check (context, cpu, strict, &error);
  else if (strcmp (command, "host") == 0 && cpu == NULL)
    result = vcpuprobe_host (context, &error);
  else if (strcmp (command, "models") == 0 && cpu == NULL)
    result = vcpuprobe_models (context, &error);
  else
    return usage (command);

  if (result == NULL)
    {
      fprintf (stderr, "vcpuprobe: %s\n", error->message);
      return g_error_matches (error, VCPUPROBE_ERROR, VCPUPROBE_ERROR_INPUT) ? 2 : 3;
    }
  fputs (vcpuprobe_result_json (result), stdout);
  if (values != NULL && !write_values (values, result))
    return 3;
  return vcpuprobe_result_verdict (result) == VCPUPROBE_VERDICT_FAIL
         && strcmp (command, "check") == 0 ? 1 : 0;
}
