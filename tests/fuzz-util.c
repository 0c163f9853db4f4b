/* tests/fuzz-util.c — see fuzz-util.h. */
#include "fuzz-util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *private_dir;

/* The files a target writes lie directly in its directory (links included: unlink()
 * removes the link, never what it points to). */
static void
remove_private_dir (void)
{
  g_autoptr (GDir) dir = g_dir_open (private_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (private_dir, name, NULL);
      unlink (path);
    }
  rmdir (private_dir);
}

const char *
fuzz_private_dir (const char *prefix)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *template = g_strconcat (prefix, "-XXXXXX", NULL);

  if (private_dir != NULL)
    return private_dir;
  private_dir = g_dir_make_tmp (template, &error);
  if (private_dir == NULL)
    {
      fprintf (stderr, "%s: %s\n", prefix, error->message);
      abort ();
    }
  atexit (remove_private_dir);
  return private_dir;
}

void
fuzz_write_file (const char *path, const void *data, size_t len)
{
  /* Neither atomic nor synced (g_file_set_contents() syncs): one input after another,
   * and nobody else reads these files. */
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  const char *bytes = data;

  while (fd >= 0 && len > 0)
    {
      ssize_t written = write (fd, bytes, len);

      if (written < 0 && errno == EINTR)
        continue;
      if (written <= 0)
        break;
      bytes += written;
      len -= (size_t) written;
    }
  if (fd < 0 || len > 0 || close (fd) != 0)
    {
      fprintf (stderr, "fuzz: %s: %s\n", path, g_strerror (errno));
      abort ();
    }
}

void
fuzz_expect_refusal (const GError *error, const char *name)
{
  if (error == NULL || strstr (error->message, name) == NULL)
    {
      fprintf (stderr, "a refusal that does not name %s: %s\n", name,
               error != NULL ? error->message : "(no error)");
      abort ();
    }
}
