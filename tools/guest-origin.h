/* tools/guest-origin.h — a domain XML is the whole truth about its guest: the QEMU binary
 * (<devices><emulator>), the accelerator (<domain type>) and the machine type (<os><type
 * machine>) come from it, unless an option says otherwise; every output says where each
 * of the three came from. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "probe/cpu-def.h"
#include "tools/options.h"

typedef enum {
  CLI_ORIGIN_DEFAULT,     /* nothing said: qemu-system-x86_64 from PATH, the host's
                           * accelerator, QEMU's default machine type */
  CLI_ORIGIN_OPTION,      /* --qemu/--socket/--replay, --accel, --machine */
  CLI_ORIGIN_DOMAIN,      /* the domain XML that holds the CPU */
  CLI_ORIGIN_RECORDING,   /* the accelerator the --replay recording ran under, which is
                           * the only one it can answer for, whatever the domain says */
} CliOrigin;

typedef struct {
  /* The user's options with the domain's binary, accelerator and machine type filled in
   * where the user gave none. A shallow copy: every pointer is borrowed from the options
   * and the definition given to cli_guest_origin_init(), which must outlive it. */
  CliOptions options;
  CliOrigin binary;
  CliOrigin accel;
  CliOrigin machine;
  /* The libvirt mode libvirt itself turns into the custom CPU that is probed
   * ("host-model"), else NULL. Static. */
  const char *resolved_mode;
  const CpuDef *resolved;       /* that custom CPU (borrowed), or NULL */
} CliGuestOrigin;

void cli_guest_origin_init (CliGuestOrigin *origin, const CliOptions *options, const CpuDef *def);

/* "default", "option", "domain", "recording". */
const char *cli_origin_name (CliOrigin origin);

/* Adds "sources": {"binary", "accel", "machine"} (each a cli_origin_name()) to the "qemu"
 * member of @result (a check or expand document), creating that member if it is missing;
 * with a resolved mode, also "resolved_from": MODE and "resolved": the <cpu> libvirt makes
 * of it, at the top of @result. */
void cli_guest_origin_add_json (const CliGuestOrigin *origin, json_object *result);
/* Appends "Sources: QEMU from ORIGIN, accel from ORIGIN, machine from ORIGIN\n", and with
 * a resolved mode a line that says the probed CPU is libvirt's custom CPU for it. */
void cli_guest_origin_add_text (const CliGuestOrigin *origin, GString *out);
