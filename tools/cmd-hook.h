/* tools/cmd-hook.h — vcpuprobe run by libvirt as its qemu hook (tools/cmd-hook.c). */
#pragma once
#include <glib.h>

/* libvirt runs a hook as `PATH DOMAIN OPERATION SUB-OPERATION EXTRA`, with PATH in its
 * hooks directory: `.../hooks/qemu.d/ANY-NAME` or `.../hooks/qemu`. When @argv[0] is
 * such a path (vcpuprobe installed there as a symbolic link), returns the command line
 * `vcpuprobe hook ARGS...` to parse instead (a NULL-terminated copy, g_strfreev() it,
 * its length in *@new_argc); else NULL. */
char **cli_hook_command_line (int argc, char **argv, int *new_argc);
