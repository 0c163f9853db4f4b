/* x86/kvm-msr-list.h — the MSRs KVM saves and emulates for a guest (KVM_GET_MSR_INDEX_LIST
 * on /dev/kvm), which QEMU, libvirt and KubeVirt each consult: QEMU writes
 * IA32_ARCH_CAPABILITIES only when it is listed (x86/kvm-arch-capabilities.h), and
 * KubeVirt labels some Hyper-V enlightenments by their MSRs (x86/kvm-hyperv.h). */
#pragma once
#include <glib.h>
#include <linux/kvm.h>

/* The list, read from @kvm_fd (/dev/kvm); g_free() it. NULL with @error
 * ("KVM_GET_MSR_INDEX_LIST failed (REASON)") when KVM will not give it. */
struct kvm_msr_list *x86_kvm_msr_list_read (int kvm_fd, GError **error);

/* Whether @list holds @msr. */
gboolean             x86_kvm_msr_list_has (const struct kvm_msr_list *list, guint32 msr);
