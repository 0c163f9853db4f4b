/* x86/kvm-arch-capabilities.h — whether a vCPU of this KVM takes IA32_ARCH_CAPABILITIES.
 *
 * QEMU writes MSR 0x10a (IA32_ARCH_CAPABILITIES) into every vCPU when KVM lists it in
 * KVM_GET_MSR_INDEX_LIST, with the bits of the guest's arch-capabilities word (rdctl-no,
 * mds-no, ...), and aborts when KVM refuses the write (target/i386/kvm/kvm.c,
 * kvm_buf_set_msrs: "failed to set MSR 0x10a to ..."). KVM offers the bits as a feature
 * MSR (KVM_GET_MSRS on /dev/kvm), yet some KVMs — seen on nested KVM inside another
 * hypervisor — then refuse any non-zero value on a vCPU. Nothing in the CPUID tables says
 * so: the only way to know is to try, on a throw-away VM that never runs. */
#pragma once
#include <glib.h>
#include <json-c/json.h>

typedef enum {
  X86_KVM_MSR_UNKNOWN,     /* could not be tried (no VM could be made); see the detail */
  X86_KVM_MSR_NOT_WRITTEN, /* KVM does not list the MSR: QEMU never writes it */
  X86_KVM_MSR_ACCEPTED,    /* a vCPU takes KVM's own value */
  X86_KVM_MSR_REFUSED,     /* a vCPU refuses KVM's own value: QEMU aborts on any non-zero one */
} X86KvmMsrWrite;

typedef struct {
  X86KvmMsrWrite write;
  guint64 offered;         /* KVM's feature-MSR value; 0 when not read */
  char *detail;            /* why UNKNOWN, else NULL */
} X86KvmArchCapabilities;

/* Tries @kvm_fd (open on /dev/kvm, not closed): lists, reads KVM's value, makes a VM with
 * one vCPU given @cpuid_table (a struct kvm_cpuid2 of KVM_GET_SUPPORTED_CPUID, so that the
 * vCPU has the arch-capabilities bit) and writes the value back. Never fails: see ->write. */
void x86_kvm_arch_capabilities_read (int kvm_fd, const void *cpuid_table,
                                     X86KvmArchCapabilities *out);
void x86_kvm_arch_capabilities_clear (X86KvmArchCapabilities *caps);

/* "accepted", "refused", "not-written", "unknown": as in JSON output. */
const char *x86_kvm_msr_write_name (X86KvmMsrWrite write);
/* The value named @name (as x86_kvm_msr_write_name() spells it) into *@write; FALSE for
 * any other name. */
gboolean    x86_kvm_msr_write_from_name (const char *name, X86KvmMsrWrite *write);

/* {"offered": "0x...", "vcpu": "accepted"|"refused"|"not-written"|"unknown"} plus "detail"
 * when there is one: what `host` prints and what a dump records (x86/cpuid-dump.h).
 * Reference owned by the caller. */
json_object *x86_kvm_arch_capabilities_to_json (const X86KvmArchCapabilities *caps);
