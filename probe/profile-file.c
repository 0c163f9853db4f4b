/* probe/profile-file.c — a profile's text in memory (probe/profile-file.h). */
#include "probe/profile-file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

typedef struct {
  void *start;
  gsize length;
} Region;

static void
unmap_region (gpointer data)
{
  Region *region = data;

  munmap (region->start, region->length);
  g_free (region);
}

static GBytes *
region_bytes (void *start, gsize length)
{
  Region *region = g_new (Region, 1);

  region->start = start;
  region->length = length;
  return g_bytes_new_with_free_func (start, length, unmap_region, region);
}

static GBytes *
file_error (const char *path, int saved_errno, const char *what, GError **error)
{
  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno), "%s: %s: %s",
               path, what, g_strerror (saved_errno));
  return NULL;
}

GBytes *
probe_profile_file_map (const char *path, GError **error)
{
  struct stat status;
  void *start;
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    return file_error (path, errno, "cannot open", error);
  if (fstat (fd, &status) < 0)
    {
      int saved_errno = errno;

      close (fd);
      return file_error (path, saved_errno, "cannot read", error);
    }
  if (!S_ISREG (status.st_mode))
    {
      close (fd);
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: not a regular file", path);
      return NULL;
    }
  if (status.st_size == 0)
    {
      close (fd);
      return g_bytes_new (NULL, 0);
    }
  start = mmap (NULL, (gsize) status.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (start == MAP_FAILED)
    {
      int saved_errno = errno;

      close (fd);
      return file_error (path, saved_errno, "cannot map", error);
    }
  close (fd);
  return region_bytes (start, (gsize) status.st_size);
}

GBytes *
probe_profile_file_copy (const char *text, gsize length)
{
  void *start;

  if (length == 0)
    return g_bytes_new (NULL, 0);
  start = mmap (NULL, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
                -1, 0);
  /* Out of address space: the heap copy faults page by page, but reads the same. */
  if (start == MAP_FAILED)
    return g_bytes_new (text, length);
  memcpy (start, text, length);
  return region_bytes (start, length);
}
