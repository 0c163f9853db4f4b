/* x86/kvm-arch-capabilities.c — try IA32_ARCH_CAPABILITIES on a throw-away vCPU. */
#include "x86/kvm-arch-capabilities.h"
#include "x86/kvm-msr-list.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#define MSR_IA32_ARCH_CAPABILITIES 0x10a

/* KVM_GET_MSRS and KVM_SET_MSRS return how many entries they did: 1 is success. The
 * entries follow the header as its flexible array does. */
static gboolean
one_msr (int fd, unsigned long request, guint32 index, guint64 *value)
{
  g_autofree struct kvm_msrs *msrs = g_malloc0 (sizeof *msrs + sizeof msrs->entries[0]);

  msrs->nmsrs = 1;
  msrs->entries[0].index = index;
  msrs->entries[0].data = *value;
  if (ioctl (fd, request, msrs) != 1)
    return FALSE;
  *value = msrs->entries[0].data;
  return TRUE;
}

/* Writes @value into a vCPU of a new VM that never runs. FALSE with @error when no such
 * vCPU could be made; else *@accepted says whether KVM took the value. */
static gboolean
write_on_scratch_vcpu (int kvm_fd, const struct kvm_cpuid2 *cpuid, guint64 value,
                       gboolean *accepted, GError **error)
{
  int vm = ioctl (kvm_fd, KVM_CREATE_VM, 0);
  int vcpu = -1;
  gboolean ok = FALSE;

  if (vm < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "KVM_CREATE_VM failed (%s)", g_strerror (errno));
      return FALSE;
    }
  vcpu = ioctl (vm, KVM_CREATE_VCPU, 0);
  if (vcpu < 0)
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                 "KVM_CREATE_VCPU failed (%s)", g_strerror (errno));
  /* Without the CPUID bit no KVM takes the MSR: the guest QEMU makes has it. */
  else if (ioctl (vcpu, KVM_SET_CPUID2, cpuid) < 0)
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                 "KVM_SET_CPUID2 failed (%s)", g_strerror (errno));
  else
    {
      *accepted = one_msr (vcpu, KVM_SET_MSRS, MSR_IA32_ARCH_CAPABILITIES, &value);
      ok = TRUE;
    }
  if (vcpu >= 0)
    close (vcpu);
  close (vm);
  return ok;
}

void
x86_kvm_arch_capabilities_read (int kvm_fd, const void *cpuid_table, X86KvmArchCapabilities *out)
{
  g_autoptr (GError) error = NULL;
  g_autofree struct kvm_msr_list *msrs = NULL;
  gboolean accepted = FALSE;
  guint64 offered = 0;

  memset (out, 0, sizeof *out);
  /* QEMU writes the MSR only when KVM lists it (has_msr_arch_capabs). */
  msrs = x86_kvm_msr_list_read (kvm_fd, &error);
  if (msrs == NULL || !x86_kvm_msr_list_has (msrs, MSR_IA32_ARCH_CAPABILITIES))
    {
      out->write = error != NULL ? X86_KVM_MSR_UNKNOWN : X86_KVM_MSR_NOT_WRITTEN;
      out->detail = error != NULL ? g_strdup (error->message) : NULL;
      return;
    }
  /* A KVM without feature MSRs offers no bit: QEMU then writes 0, which is tried too. */
  if (!one_msr (kvm_fd, KVM_GET_MSRS, MSR_IA32_ARCH_CAPABILITIES, &offered))
    offered = 0;
  out->offered = offered;
  if (!write_on_scratch_vcpu (kvm_fd, cpuid_table, offered, &accepted, &error))
    {
      out->write = X86_KVM_MSR_UNKNOWN;
      out->detail = g_strdup (error->message);
      return;
    }
  out->write = accepted ? X86_KVM_MSR_ACCEPTED : X86_KVM_MSR_REFUSED;
}

void
x86_kvm_arch_capabilities_clear (X86KvmArchCapabilities *caps)
{
  g_clear_pointer (&caps->detail, g_free);
}

/* One table for both directions, in the enum's order, so a name is spelled once. */
static const char *const write_names[] = {
  [X86_KVM_MSR_UNKNOWN] = "unknown",
  [X86_KVM_MSR_NOT_WRITTEN] = "not-written",
  [X86_KVM_MSR_ACCEPTED] = "accepted",
  [X86_KVM_MSR_REFUSED] = "refused",
};

const char *
x86_kvm_msr_write_name (X86KvmMsrWrite write)
{
  return (guint) write < G_N_ELEMENTS (write_names) ? write_names[write]
                                                    : write_names[X86_KVM_MSR_UNKNOWN];
}

gboolean
x86_kvm_msr_write_from_name (const char *name, X86KvmMsrWrite *write)
{
  for (guint i = 0; i < G_N_ELEMENTS (write_names); i++)
    if (g_strcmp0 (name, write_names[i]) == 0)
      {
        *write = (X86KvmMsrWrite) i;
        return TRUE;
      }
  return FALSE;
}

json_object *
x86_kvm_arch_capabilities_to_json (const X86KvmArchCapabilities *caps)
{
  json_object *object = json_object_new_object ();
  /* A hex string, as a dump's registers are: JSON tools may turn 64 bits into a double. */
  g_autofree char *offered = g_strdup_printf ("0x%" G_GINT64_MODIFIER "x", caps->offered);

  json_object_object_add (object, "offered", json_object_new_string (offered));
  json_object_object_add (object, "vcpu",
                          json_object_new_string (x86_kvm_msr_write_name (caps->write)));
  if (caps->detail != NULL)
    json_object_object_add (object, "detail", json_object_new_string (caps->detail));
  return object;
}
