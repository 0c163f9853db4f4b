/* tools/commands.c — the table of subcommands and lookups in it. */
#include "tools/commands.h"

#include <string.h>

#define CLI_COMMAND_ENTRY(name) &cli_command_##name,
static const CliCommand *const cli_commands[] = {
  CLI_COMMAND_LIST (CLI_COMMAND_ENTRY)
};
#undef CLI_COMMAND_ENTRY

const CliCommand *
cli_command_find (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (cli_commands); i++)
    if (strcmp (cli_commands[i]->name, name) == 0)
      return cli_commands[i];
  return NULL;
}

const CliCommandOption *
cli_command_find_option (const CliCommand *command, const char *name)
{
  if (command->options == NULL)
    return NULL;
  for (const CliCommandOption *option = command->options; option->name != NULL; option++)
    if (strcmp (option->name, name) == 0)
      return option;
  return NULL;
}

const CliCommand *
cli_command_find_option_owner (const char *option_name)
{
  for (guint i = 0; i < G_N_ELEMENTS (cli_commands); i++)
    if (cli_command_find_option (cli_commands[i], option_name) != NULL)
      return cli_commands[i];
  return NULL;
}
