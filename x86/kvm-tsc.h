/* x86/kvm-tsc.h — the TSC a vCPU of this KVM runs at, and whether KVM can scale it.
 *
 * A guest migrated between hosts whose TSCs tick at different rates sees time jump unless
 * KVM scales the guest's TSC (KVM_CAP_TSC_CONTROL). libvirt reports both in `virsh
 * capabilities` (<counter name='tsc' frequency=HZ scaling='yes|no'/>, from
 * virHostCPUGetTscInfo: KVM_GET_TSC_KHZ on the vCPU of a throw-away VM, and
 * KVM_CHECK_EXTENSION(KVM_CAP_TSC_CONTROL)); KubeVirt labels nodes with them so that a
 * guest that needs a fixed TSC rate (invtsc) lands where it can have it. Read here the
 * same way. */
#pragma once
#include <glib.h>

typedef struct {
  guint64 frequency_hz;   /* KVM_GET_TSC_KHZ × 1000 */
  gboolean scalable;      /* KVM_CAP_TSC_CONTROL */
} X86KvmTsc;

/* Reads /dev/kvm. FALSE with @error (G_FILE_ERROR, "/dev/kvm: ...") when it cannot be
 * opened or a VM, vCPU or the frequency cannot be had. */
gboolean x86_kvm_tsc_read (X86KvmTsc *tsc, GError **error);
