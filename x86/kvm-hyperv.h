/* x86/kvm-hyperv.h — the Hyper-V enlightenments this KVM can give a Windows guest, named and
 * judged as KubeVirt's node labeller names and judges them.
 *
 * KubeVirt labels a node hyperv.node.kubevirt.io/<name>=true for each of them, so that a
 * guest asking for an enlightenment is scheduled where KVM provides it. The names and the
 * test for each are KubeVirt's (kubevirt/kubevirt:
 * pkg/virt-handler/node-labeller/kvm-caps-info-plugin_amd64.go, the CapsDesc table as
 * exposeCapabilities() applies it, read by getCapLabels()):
 *   base time vpindex tlbflush ipi synic synic2  KVM_CHECK_EXTENSION(KVM_CAP_HYPERV*) > 0
 *   frequencies reset runtime synictimer reenlightenment
 *                                                the Hyper-V MSR behind each is in
 *                                                KVM_GET_MSR_INDEX_LIST
 * KubeVirt's table also names an MSR for vpindex, synic and synic2, but the extension's
 * answer replaces the MSR's there, so only the extension counts; and when the MSR list
 * cannot be read it labels nothing at all. Both are kept here. */
#pragma once
#include <glib.h>

/* Reads /dev/kvm. Returns KubeVirt's names of the enlightenments this KVM offers, in the
 * order of KubeVirt's table (a GPtrArray of static strings; free the array only), or NULL
 * with @error (G_FILE_ERROR, "/dev/kvm: ...") when /dev/kvm or its MSR list cannot be read. */
GPtrArray *x86_kvm_hyperv_read (GError **error);
