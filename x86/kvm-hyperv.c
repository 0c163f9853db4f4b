/* x86/kvm-hyperv.c — KubeVirt's Hyper-V names for what this KVM offers (x86/kvm-hyperv.h). */
#include "x86/kvm-hyperv.h"
#include "x86/kvm-msr-list.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

/* The synthetic MSRs of Microsoft's Hypervisor Top-Level Functional Specification that
 * KubeVirt looks for; the kernel's uapi headers do not carry their numbers. */
#define HV_X64_MSR_RESET 0x40000003u
#define HV_X64_MSR_VP_RUNTIME 0x40000010u
#define HV_X64_MSR_TSC_FREQUENCY 0x40000022u
#define HV_X64_MSR_STIMER0_CONFIG 0x400000b0u
#define HV_X64_MSR_REENLIGHTENMENT_CONTROL 0x40000106u

typedef struct {
  const char *name;        /* KubeVirt's label name */
  int extension;           /* the KVM_CAP_* that decides, or 0 */
  guint32 msr;             /* else the MSR KVM must list */
} HypervEnlightenment;

static const HypervEnlightenment enlightenments[] = {
  { "base", KVM_CAP_HYPERV, 0 },
  { "time", KVM_CAP_HYPERV_TIME, 0 },
  { "vpindex", KVM_CAP_HYPERV_VP_INDEX, 0 },
  { "tlbflush", KVM_CAP_HYPERV_TLBFLUSH, 0 },
  { "ipi", KVM_CAP_HYPERV_SEND_IPI, 0 },
  { "synic", KVM_CAP_HYPERV_SYNIC, 0 },
  { "synic2", KVM_CAP_HYPERV_SYNIC2, 0 },
  { "frequencies", 0, HV_X64_MSR_TSC_FREQUENCY },
  { "reset", 0, HV_X64_MSR_RESET },
  { "runtime", 0, HV_X64_MSR_VP_RUNTIME },
  { "synictimer", 0, HV_X64_MSR_STIMER0_CONFIG },
  { "reenlightenment", 0, HV_X64_MSR_REENLIGHTENMENT_CONTROL },
};

GPtrArray *
x86_kvm_hyperv_read (GError **error)
{
  int kvm = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  g_autofree struct kvm_msr_list *msrs = NULL;
  GPtrArray *offered;

  if (kvm < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "/dev/kvm: open failed (%s)", g_strerror (errno));
      return NULL;
    }
  msrs = x86_kvm_msr_list_read (kvm, error);
  if (msrs == NULL)
    {
      close (kvm);
      return NULL;
    }
  offered = g_ptr_array_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (enlightenments); i++)
    {
      const HypervEnlightenment *enlightenment = &enlightenments[i];
      gboolean present;

      /* KVM answers 0 for an extension it lacks, a positive number for one it has. */
      if (enlightenment->extension != 0)
        present = ioctl (kvm, KVM_CHECK_EXTENSION, enlightenment->extension) > 0;
      else
        present = x86_kvm_msr_list_has (msrs, enlightenment->msr);
      if (present)
        g_ptr_array_add (offered, (gpointer) enlightenment->name);
    }
  close (kvm);
  return offered;
}
