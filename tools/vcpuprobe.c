/* tools/vcpuprobe.c — libvcpuprobe's API (tools/vcpuprobe.h) over the command line's own
 * code: a question becomes the command line that asks it, parsed by the CLI's parser and
 * run on the CLI's path (tools/command-run.h), so its answer, its settings' defaults and
 * its errors are the CLI's, byte for byte. */
#include "tools/vcpuprobe.h"

#include <json-c/json.h>
#include "tools/command-run.h"
#include "tools/commands.h"
#include "tools/options.h"

struct VcpuprobeContext {
  VcpuprobeSource source;
  char *path;
  VcpuprobeAccel accel;
  char *machine;
  VcpuprobeMethod method;
  double timeout_seconds;     /* 0: the CLI's default */
  gboolean cache;
  char *cpuid_dump;
  char *cpu_map;
};

struct VcpuprobeResult {
  char *json;
  VcpuprobeVerdict verdict;
  char *updated_xml;
  char *updated_cpu;
};

G_DEFINE_QUARK (vcpuprobe-error-quark, vcpuprobe_error)

VcpuprobeContext *
vcpuprobe_context_new (VcpuprobeSource source, const char *path)
{
  VcpuprobeContext *context;

  g_return_val_if_fail (source <= VCPUPROBE_SOURCE_PROFILE, NULL);
  g_return_val_if_fail (path != NULL || source == VCPUPROBE_SOURCE_QEMU, NULL);
  context = g_new0 (VcpuprobeContext, 1);
  context->source = source;
  context->path = g_strdup (path);
  context->cache = TRUE;
  return context;
}

void
vcpuprobe_context_free (VcpuprobeContext *context)
{
  if (context == NULL)
    return;
  g_free (context->path);
  g_free (context->machine);
  g_free (context->cpuid_dump);
  g_free (context->cpu_map);
  g_free (context);
}

/* A setting's string, copied; NULL restores the default. */
static void
replace_string (char **setting, const char *value)
{
  g_free (*setting);
  *setting = g_strdup (value);
}

void
vcpuprobe_context_set_accel (VcpuprobeContext *context, VcpuprobeAccel accel)
{
  g_return_if_fail (context != NULL && accel <= VCPUPROBE_ACCEL_TCG);
  context->accel = accel;
}

void
vcpuprobe_context_set_machine (VcpuprobeContext *context, const char *machine)
{
  g_return_if_fail (context != NULL);
  replace_string (&context->machine, machine);
}

void
vcpuprobe_context_set_method (VcpuprobeContext *context, VcpuprobeMethod method)
{
  g_return_if_fail (context != NULL && method <= VCPUPROBE_METHOD_POST_START);
  context->method = method;
}

void
vcpuprobe_context_set_timeout (VcpuprobeContext *context, double seconds)
{
  g_return_if_fail (context != NULL);
  context->timeout_seconds = seconds;
}

void
vcpuprobe_context_set_cache (VcpuprobeContext *context, gboolean enabled)
{
  g_return_if_fail (context != NULL);
  context->cache = enabled;
}

void
vcpuprobe_context_set_cpuid_dump (VcpuprobeContext *context, const char *path)
{
  g_return_if_fail (context != NULL);
  replace_string (&context->cpuid_dump, path);
}

void
vcpuprobe_context_set_cpu_map (VcpuprobeContext *context, const char *directory)
{
  g_return_if_fail (context != NULL);
  replace_string (&context->cpu_map, directory);
}

/* ---- the command line a question is ---- */

static void
add_option (GPtrArray *argv, const char *name, const char *value)
{
  if (value != NULL)
    g_ptr_array_add (argv, g_strconcat ("--", name, "=", value, NULL));
}

/* `vcpuprobe [settings] --format=json COMMAND [OPTION] -- [CPU]`: the CPU after `--`, so
 * that no definition is ever read as an option. */
static GPtrArray *
command_line (const VcpuprobeContext *context, const char *command, const char *command_option,
              const char *cpu)
{
  static const char *const source_options[] = {
    [VCPUPROBE_SOURCE_QEMU] = "qemu",
    [VCPUPROBE_SOURCE_SOCKET] = "socket",
    [VCPUPROBE_SOURCE_REPLAY] = "replay",
    [VCPUPROBE_SOURCE_PROFILE] = "profile",
  };
  static const char *const accels[] = {
    [VCPUPROBE_ACCEL_DEFAULT] = NULL, [VCPUPROBE_ACCEL_KVM] = "kvm", [VCPUPROBE_ACCEL_TCG] = "tcg",
  };
  static const char *const methods[] = {
    [VCPUPROBE_METHOD_AUTO] = NULL,
    [VCPUPROBE_METHOD_EXPANSION] = "expansion",
    [VCPUPROBE_METHOD_POST_START] = "post-start",
  };
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  char timeout[G_ASCII_DTOSTR_BUF_SIZE];

  g_ptr_array_add (argv, g_strdup ("vcpuprobe"));
  add_option (argv, source_options[context->source], context->path);
  add_option (argv, "accel", accels[context->accel]);
  add_option (argv, "machine", context->machine);
  add_option (argv, "method", methods[context->method]);
  if (context->timeout_seconds != 0)
    add_option (argv, "timeout", g_ascii_dtostr (timeout, sizeof timeout,
                                                 context->timeout_seconds));
  if (!context->cache)
    g_ptr_array_add (argv, g_strdup ("--no-cache"));
  add_option (argv, "cpuid-dump", context->cpuid_dump);
  add_option (argv, "cpu-map", context->cpu_map);
  g_ptr_array_add (argv, g_strdup ("--format=json"));
  g_ptr_array_add (argv, g_strdup (command));
  if (command_option != NULL)
    g_ptr_array_add (argv, g_strdup (command_option));
  if (cpu != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--"));
      g_ptr_array_add (argv, g_strdup (cpu));
    }
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* Any error of the tree, in the public domain: its exit class as the code, the CLI's line
 * as the message. */
static void
publish_error (const CliOptions *options, GError *inner, GError **error)
{
  g_autofree char *line = cli_error_line (options, inner);

  g_set_error_literal (error, VCPUPROBE_ERROR,
                       cli_exit_for_error (inner) == CLI_EXIT_USAGE ? VCPUPROBE_ERROR_INPUT
                                                                    : VCPUPROBE_ERROR_FAILURE,
                       line);
  g_error_free (inner);
}

static char *
document_string (json_object *document, const char *member, const char *inner_member)
{
  json_object *value = NULL;

  if (!json_object_object_get_ex (document, member, &value))
    return NULL;
  if (inner_member != NULL && !json_object_object_get_ex (value, inner_member, &value))
    return NULL;
  return json_object_is_type (value, json_type_string) ? g_strdup (json_object_get_string (value))
                                                       : NULL;
}

/* Where a result's verdict comes from. */
typedef enum {
  VERDICT_NONE,       /* host, models */
  VERDICT_STATUS,     /* check: the exit status, which the CLI's caller reads */
  VERDICT_DOCUMENT,   /* expand: the "verdict" it prints for check='full' */
} VerdictFrom;

/* The values callers branch on, read from the printed document itself, so they cannot
 * disagree with it. */
static VcpuprobeResult *
result_new (GString *printed, VerdictFrom verdict_from, int status)
{
  VcpuprobeResult *result = g_new0 (VcpuprobeResult, 1);
  json_object *document = json_tokener_parse (printed->str);
  g_autofree char *verdict = document_string (document, "verdict", NULL);

  result->updated_xml = document_string (document, "xml", "updated");
  result->updated_cpu = document_string (document, "cpu_string", NULL);
  switch (verdict_from)
    {
    case VERDICT_STATUS:
      result->verdict = status == CLI_EXIT_OK ? VCPUPROBE_VERDICT_PASS : VCPUPROBE_VERDICT_FAIL;
      break;
    case VERDICT_DOCUMENT:
      result->verdict = g_strcmp0 (verdict, "pass") == 0 ? VCPUPROBE_VERDICT_PASS
                        : g_strcmp0 (verdict, "fail") == 0 ? VCPUPROBE_VERDICT_FAIL
                        : VCPUPROBE_VERDICT_NONE;
      break;
    case VERDICT_NONE:
    default:
      result->verdict = VCPUPROBE_VERDICT_NONE;
      break;
    }
  result->json = g_string_free (printed, FALSE);
  json_object_put (document);
  return result;
}

static VcpuprobeResult *
ask (const VcpuprobeContext *context, const char *command, const char *command_option,
     const char *cpu, VerdictFrom verdict_from, GError **error)
{
  g_autoptr (GPtrArray) argv = command_line (context, command, command_option, cpu);
  g_autoptr (CliOptions) options = cli_options_new ();
  g_autoptr (GString) printed = g_string_new (NULL);
  GError *inner = NULL;
  CliParseResult parsed;
  int status;

  if (!cli_options_parse (options, (int) argv->len - 1, (char **) argv->pdata, &parsed, &inner))
    {
      publish_error (NULL, inner, error);
      return NULL;
    }
  status = cli_command_run_collected (options, printed, &inner);
  if (status < 0)
    {
      publish_error (options, inner, error);
      return NULL;
    }
  return result_new (g_steal_pointer (&printed), verdict_from, status);
}

VcpuprobeResult *
vcpuprobe_expand (VcpuprobeContext *context, const char *cpu, GError **error)
{
  g_return_val_if_fail (context != NULL && cpu != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return ask (context, "expand", NULL, cpu, VERDICT_DOCUMENT, error);
}

VcpuprobeResult *
vcpuprobe_check (VcpuprobeContext *context, const char *cpu, gboolean strict, GError **error)
{
  g_return_val_if_fail (context != NULL && cpu != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return ask (context, "check", strict ? "--strict" : NULL, cpu, VERDICT_STATUS, error);
}

VcpuprobeResult *
vcpuprobe_host (VcpuprobeContext *context, GError **error)
{
  g_return_val_if_fail (context != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return ask (context, "host", NULL, NULL, VERDICT_NONE, error);
}

VcpuprobeResult *
vcpuprobe_models (VcpuprobeContext *context, GError **error)
{
  g_return_val_if_fail (context != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return ask (context, "models", NULL, NULL, VERDICT_NONE, error);
}

const char *
vcpuprobe_result_json (const VcpuprobeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);
  return result->json;
}

VcpuprobeVerdict
vcpuprobe_result_verdict (const VcpuprobeResult *result)
{
  g_return_val_if_fail (result != NULL, VCPUPROBE_VERDICT_NONE);
  return result->verdict;
}

const char *
vcpuprobe_result_updated_xml (const VcpuprobeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);
  return result->updated_xml;
}

const char *
vcpuprobe_result_updated_cpu (const VcpuprobeResult *result)
{
  g_return_val_if_fail (result != NULL, NULL);
  return result->updated_cpu;
}

void
vcpuprobe_result_free (VcpuprobeResult *result)
{
  if (result == NULL)
    return;
  g_free (result->json);
  g_free (result->updated_xml);
  g_free (result->updated_cpu);
  g_free (result);
}
