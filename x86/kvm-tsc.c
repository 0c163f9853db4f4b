/* x86/kvm-tsc.c — the TSC rate of a throw-away vCPU (x86/kvm-tsc.h). */
#include "x86/kvm-tsc.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

static gboolean
failed (GError **error, const char *what)
{
  int saved = errno;

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "/dev/kvm: %s failed (%s)",
               what, g_strerror (saved));
  return FALSE;
}

gboolean
x86_kvm_tsc_read (X86KvmTsc *tsc, GError **error)
{
  int kvm = open ("/dev/kvm", O_RDWR | O_CLOEXEC);
  int vm = -1, vcpu = -1, khz = -1, control;
  gboolean ok = FALSE;

  if (kvm < 0)
    return failed (error, "open");
  if ((vm = ioctl (kvm, KVM_CREATE_VM, 0)) < 0)
    failed (error, "KVM_CREATE_VM");
  else if ((vcpu = ioctl (vm, KVM_CREATE_VCPU, 0)) < 0)
    failed (error, "KVM_CREATE_VCPU");
  else if ((khz = ioctl (vcpu, KVM_GET_TSC_KHZ)) <= 0)
    {
      if (khz == 0)
        errno = ENODATA;
      failed (error, "KVM_GET_TSC_KHZ");
    }
  else
    {
      /* A KVM without the extension answers 0, as libvirt reads it: not scalable. */
      control = ioctl (kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL);
      tsc->frequency_hz = (guint64) khz * 1000;
      tsc->scalable = control > 0;
      ok = TRUE;
    }
  if (vcpu >= 0)
    close (vcpu);
  if (vm >= 0)
    close (vm);
  close (kvm);
  return ok;
}
