/* x86/kvm-msr-list.c — KVM's MSR index list (x86/kvm-msr-list.h). */
#include "x86/kvm-msr-list.h"

#include <errno.h>
#include <sys/ioctl.h>

struct kvm_msr_list *
x86_kvm_msr_list_read (int kvm_fd, GError **error)
{
  struct kvm_msr_list probe = { .nmsrs = 0 };
  struct kvm_msr_list *list;

  /* The first call, with room for none, fails with E2BIG and says how many there are. */
  if (ioctl (kvm_fd, KVM_GET_MSR_INDEX_LIST, &probe) < 0 && errno != E2BIG)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "KVM_GET_MSR_INDEX_LIST failed (%s)", g_strerror (errno));
      return NULL;
    }
  list = g_malloc0 (sizeof *list + (gsize) probe.nmsrs * sizeof list->indices[0]);
  list->nmsrs = probe.nmsrs;
  if (ioctl (kvm_fd, KVM_GET_MSR_INDEX_LIST, list) < 0)
    {
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errno),
                   "KVM_GET_MSR_INDEX_LIST failed (%s)", g_strerror (errno));
      g_free (list);
      return NULL;
    }
  return list;
}

gboolean
x86_kvm_msr_list_has (const struct kvm_msr_list *list, guint32 msr)
{
  for (guint32 i = 0; i < list->nmsrs; i++)
    if (list->indices[i] == msr)
      return TRUE;
  return FALSE;
}
