/* tests/libvirt/libvirt-harness.h — a private, real libvirt for tests: the QEMU driver
 * embedded in virsh (qemu:///embed?root=DIR), with its own qemu.conf, state and logs under
 * a temporary root, so nothing in /etc or of the system libvirtd is touched or needed.
 *
 * The root's etc/qemu.conf sets stdio_handler = "file" (no virtlogd), no security driver,
 * namespaces or cgroups, and, when the tests run as root, QEMU as root (where /dev/kvm is
 * root-only). Domains get no network and no disks: the caller's XML says what they have.
 * The embedded driver ends its domains when the virsh process ends, so one virsh run
 * starts a domain, reads it and destroys it. */
#pragma once
#include <glib.h>

typedef struct LibvirtHarness LibvirtHarness;

/* Prepares the root and opens the driver once (libvirt probes the QEMU's capabilities on
 * the first start of a root: several seconds). NULL with *@skip_reason (owned by the
 * caller) when libvirt cannot run here: no virsh, no QEMU driver module, a connection
 * refused. */
LibvirtHarness *libvirt_harness_new (char **skip_reason);
/* Removes the root and everything in it. */
void            libvirt_harness_free (LibvirtHarness *harness);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LibvirtHarness, libvirt_harness_free)

/* libvirt's and QEMU's versions as virsh reports them ("9.0.0", "7.2.22"). Borrowed. */
const char *libvirt_harness_libvirt_version (LibvirtHarness *harness);
const char *libvirt_harness_qemu_version (LibvirtHarness *harness);

typedef struct {
  gboolean started;        /* libvirt started the domain (and the harness destroyed it) */
  char *error;             /* when not started: libvirt's message, e.g. "operation failed:
                            * guest CPU doesn't match specification: extra features: vme" */
  char *live_cpu;          /* when started: the <cpu> of the live XML, which libvirt has
                            * rewritten to the vCPU QEMU created (check='full' after it) */
  char *feature_words;     /* when started: QEMU's qom-get of the first vCPU's feature-words,
                            * the JSON reply as QEMU sent it */
  char *qemu_cpu_arg;      /* the -cpu argument libvirt gave QEMU, from the domain's log;
                            * NULL when QEMU never ran */
  double seconds;          /* wall time of start, reads and destroy */
} LibvirtStart;

/* libvirt's host-model CPU for a @domain_type ("kvm", "qemu") guest on @machine, as its
 * domain capabilities give it: the <model> and <feature> elements inside
 * <mode name='host-model'>, or NULL with @error when virsh gives none. */
char *libvirt_harness_host_model (LibvirtHarness *harness, const char *domain_type,
                                  const char *machine, GError **error);

/* `virsh capabilities` (the host's), or NULL with @error when virsh gives nothing. */
char *libvirt_harness_capabilities (LibvirtHarness *harness, GError **error);

void libvirt_start_free (LibvirtStart *start);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LibvirtStart, libvirt_start_free)

/* Creates the transient domain @name from @domain_xml (whose <name> must be @name), reads
 * it while it runs and destroys it. A refusal is a result, not an error; NULL with @error
 * only when virsh itself could not run. */
LibvirtStart *libvirt_harness_start (LibvirtHarness *harness, const char *name,
                                     const char *domain_xml, GError **error);
