/* x86/kvm-cpuid.c — KVM's supported and emulated CPUID tables from /dev/kvm. */
#include "x86/kvm-cpuid.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#define KVM_DEVICE "/dev/kvm"
/* Where to start: small enough that the E2BIG path runs on every kernel of today. */
#define INITIAL_ENTRIES 32
/* KVM itself refuses more than KVM_MAX_CPUID_ENTRIES (256 today); stop long after that. */
#define MAX_ENTRIES 65536

/* Runs @request on @fd with a buffer that doubles on E2BIG. Returns the table, or NULL
 * with errno set by the failing ioctl. */
static struct kvm_cpuid2 *
get_cpuid_table (int fd, unsigned long request)
{
  for (guint32 capacity = INITIAL_ENTRIES; capacity <= MAX_ENTRIES; capacity *= 2)
    {
      struct kvm_cpuid2 *table =
        g_malloc0 (sizeof *table + capacity * sizeof (struct kvm_cpuid_entry2));
      int saved_errno;

      table->nent = capacity;
      if (ioctl (fd, request, table) == 0)
        return table;
      saved_errno = errno;
      g_free (table);
      if (saved_errno != E2BIG)
        {
          errno = saved_errno;
          return NULL;
        }
    }
  errno = E2BIG;
  return NULL;
}

static X86CpuidDump *
table_to_dump (const struct kvm_cpuid2 *table, const char *origin)
{
  X86CpuidDump *dump = x86_cpuid_dump_new ();
  guint cpu_index = x86_cpuid_dump_add_cpu (dump, 0);

  x86_cpuid_dump_set_origin (dump, origin);
  for (guint32 i = 0; i < table->nent; i++)
    {
      const struct kvm_cpuid_entry2 *entry = &table->entries[i];
      X86CpuidLeaf leaf = {
        .leaf = entry->function,
        /* KVM fills index only where it matters; elsewhere it is meaningless. */
        .subleaf = (entry->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ? entry->index : 0,
        .eax = entry->eax, .ebx = entry->ebx, .ecx = entry->ecx, .edx = entry->edx,
      };
      x86_cpuid_dump_set (dump, cpu_index, &leaf);
    }
  return dump;
}

static void
fill_feature_set (X86FeatureSet *set, const X86CpuidDump *dump)
{
  if (dump != NULL)
    x86_feature_set_from_cpuid (set, dump, 0);
  else
    x86_feature_set_clear (set);
}

X86KvmCpuid *
x86_kvm_cpuid_read_fd (int fd, const char *device)
{
  X86KvmCpuid *kvm = g_new0 (X86KvmCpuid, 1);
  const char *path = device != NULL ? device : KVM_DEVICE;
  g_autofree struct kvm_cpuid2 *supported = NULL;
  g_autofree struct kvm_cpuid2 *emulated = NULL;

  supported = get_cpuid_table (fd, KVM_GET_SUPPORTED_CPUID);
  if (supported == NULL)
    {
      kvm->reason = g_strdup_printf ("%s: KVM_GET_SUPPORTED_CPUID failed (%s)", path,
                                     g_strerror (errno));
      close (fd);
      return kvm;
    }
  /* Kernels before 3.13 lack the emulated table; that leaves it NULL, nothing more. */
  emulated = get_cpuid_table (fd, KVM_GET_EMULATED_CPUID);
  x86_kvm_arch_capabilities_read (fd, supported, &kvm->arch_capabilities);
  close (fd);

  kvm->available = TRUE;
  kvm->supported = table_to_dump (supported, "KVM_GET_SUPPORTED_CPUID");
  if (emulated != NULL)
    kvm->emulated = table_to_dump (emulated, "KVM_GET_EMULATED_CPUID");
  fill_feature_set (&kvm->supported_features, kvm->supported);
  fill_feature_set (&kvm->emulated_features, kvm->emulated);
  return kvm;
}

X86KvmCpuid *
x86_kvm_cpuid_read (const char *device)
{
  const char *path = device != NULL ? device : KVM_DEVICE;
  int fd = open (path, O_RDWR | O_CLOEXEC);

  if (fd < 0)
    {
      X86KvmCpuid *kvm = g_new0 (X86KvmCpuid, 1);

      kvm->reason = g_strdup_printf ("%s: %s", path, g_strerror (errno));
      return kvm;
    }
  return x86_kvm_cpuid_read_fd (fd, device);
}

X86KvmCpuid *
x86_kvm_cpuid_new_from_features (const X86FeatureSet *supported, const X86FeatureSet *emulated)
{
  X86KvmCpuid *kvm = g_new0 (X86KvmCpuid, 1);

  kvm->available = TRUE;
  kvm->supported_features = *supported;
  kvm->emulated_features = *emulated;
  return kvm;
}

void
x86_kvm_cpuid_free (X86KvmCpuid *kvm)
{
  if (kvm == NULL)
    return;
  g_free (kvm->reason);
  x86_kvm_arch_capabilities_clear (&kvm->arch_capabilities);
  x86_cpuid_dump_free (kvm->supported);
  x86_cpuid_dump_free (kvm->emulated);
  g_free (kvm);
}
