/* tools/cmd-qmp.c — `vcpuprobe qmp CMD [ARGS]`: one QMP command, its reply as JSON. */
#include <ctype.h>
#include <string.h>
#include "tools/commands.h"
#include "tools/output-json.h"
#include "tools/qmp-source.h"

/* ARGS as QEMU will see it: one JSON object, nothing after it. Owned by the caller. */
static json_object *
parse_arguments (const char *text, GError **error)
{
  json_tokener *tokener = json_tokener_new ();
  gsize len = strlen (text);
  json_object *arguments = json_tokener_parse_ex (tokener, text, (int) len);
  const char *problem = NULL;
  gsize end = json_tokener_get_parse_end (tokener);

  if (arguments == NULL)
    problem = json_tokener_get_error (tokener) == json_tokener_continue
              ? "incomplete JSON"
              : json_tokener_error_desc (json_tokener_get_error (tokener));
  else if (!json_object_is_type (arguments, json_type_object))
    problem = "not a JSON object";
  else
    {
      while (end < len && isspace ((unsigned char) text[end]))
        end++;
      if (end < len)
        problem = "text after the JSON object";
    }
  json_tokener_free (tokener);
  if (problem != NULL)
    {
      json_object_put (arguments);
      g_set_error (error, CLI_ERROR, CLI_ERROR_USAGE, "ARGS %s: %s", text, problem);
      return NULL;
    }
  return arguments;
}

static json_object *
execute (CliSource *source, const CliOptions *options, const char *command,
         json_object *arguments, GError **error)
{
  QmpConnection *connection;
  json_object *reply;

  connection = cli_source_open (source, options->machine, NULL, error);
  if (connection == NULL)
    return NULL;
  reply = qmp_session_execute (qmp_connection_session (connection), command, arguments,
                               cli_source_deadline (source), error);
  if (reply == NULL)
    {
      g_autoptr (GError) close_error = NULL;
      /* A strict replay's "the recording lacks this" beats the CommandNotFound it made up. */
      if (!cli_source_close (source, connection, &close_error))
        {
          g_clear_error (error);
          g_propagate_error (error, g_steal_pointer (&close_error));
        }
      else
        g_prefix_error (error, "%s: ", command);
      return NULL;
    }
  if (!cli_source_close (source, connection, error))
    g_clear_pointer (&reply, json_object_put);
  return reply;
}

static int
run_qmp (const CliOptions *options, GError **error)
{
  const char *command = g_ptr_array_index (options->args, 0);
  json_object *arguments = NULL;
  json_object *reply = NULL;
  g_autoptr (CliSource) source = NULL;
  g_autoptr (GError) execute_error = NULL;
  gboolean recorded;
  int status = -1;

  if (options->args->len > 1)
    {
      arguments = parse_arguments (g_ptr_array_index (options->args, 1), error);
      if (arguments == NULL)
        return -1;
    }
  source = cli_source_new (options, error);
  if (source == NULL)
    goto out;

  reply = execute (source, options, command, arguments, &execute_error);
  recorded = cli_source_finish (source, error);
  if (reply == NULL)
    {
      /* The command's own failure says more than a recording that could not be written. */
      g_clear_error (error);
      g_propagate_error (error, g_steal_pointer (&execute_error));
    }
  else if (recorded && cli_json_print (reply, error))
    status = CLI_EXIT_OK;

out:
  json_object_put (reply);
  json_object_put (arguments);
  return status;
}

static const char *const qmp_arg_names[] = { "CMD", "ARGS" };

const CliCommand cli_command_qmp = {
  .name = "qmp",
  .arg_names = qmp_arg_names,
  .min_args = 1,
  .max_args = 2,
  .options = NULL,
  .run = run_qmp,
};
