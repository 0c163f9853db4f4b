/* tests/fuzz-libvirt-cpu-map.c — libFuzzer target for libvirt CPU map files
 * (probe/libvirt-cpu-map.c).
 *
 * The input is the map's index.xml in a directory that also holds the installed map's
 * files (links to them, when there is one), so an input is either a whole single-file map
 * (the older cpu_map.xml layout) or an index that <include>s real files and its own
 * definitions. A map is loaded or refused with a message naming a file; every query of a
 * loaded map answers, and each name it lists finds its own entry. */
#include "fuzz-util.h"
#include "probe/libvirt-cpu-map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *map_dir;
static char *index_path;

/* Links every x86 file of the installed map (not its index) into @map_dir. */
static void
link_installed_map (const char *installed)
{
  g_autoptr (GDir) dir = g_dir_open (installed, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *target = NULL;
      g_autofree char *link_path = NULL;

      if (!g_str_has_prefix (name, "x86_"))
        continue;
      target = g_build_filename (installed, name, NULL);
      link_path = g_build_filename (map_dir, name, NULL);
      if (symlink (target, link_path) != 0)
        {
          fprintf (stderr, "fuzz-libvirt-cpu-map: %s: %s\n", link_path, g_strerror (errno));
          abort ();
        }
    }
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  const char *installed = g_getenv ("VCPUPROBE_FUZZ_CPU_MAP");

  map_dir = fuzz_private_dir ("fuzz-libvirt-cpu-map");
  index_path = g_build_filename (map_dir, "index.xml", NULL);
  link_installed_map (installed != NULL ? installed : LIBVIRT_CPU_MAP_DEFAULT_DIR);
  return 0;
}

static void
query (const LibvirtCpuMap *map)
{
  g_autoptr (GPtrArray) model_names = libvirt_cpu_map_model_names (map);
  const LibvirtCpuFeature *const *features;
  guint n_features;

  features = libvirt_cpu_map_features (map, &n_features);
  if (n_features == 0)
    abort ();
  for (guint i = 0; i < n_features; i++)
    {
      if (libvirt_cpu_map_find_feature (map, features[i]->name) == NULL)
        abort ();
      if (features[i]->feature != NULL
          && libvirt_cpu_map_feature_of (map, features[i]->feature) == NULL)
        abort ();
    }
  for (guint i = 0; i < model_names->len; i++)
    {
      const LibvirtCpuModel *model = libvirt_cpu_map_find_model (map,
                                                                 g_ptr_array_index (model_names, i));

      if (model == NULL || model->feature_names == NULL || model->signatures == NULL)
        abort ();
      if (model->vendor != NULL)
        libvirt_cpu_map_vendor_string (map, model->vendor);
    }
  libvirt_cpu_map_vendor_name (map, "GenuineIntel");
  libvirt_cpu_map_vendor_name (map, "AuthenticAMD");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (LibvirtCpuMap) map = NULL;

  fuzz_write_file (index_path, data, size);
  map = libvirt_cpu_map_load (map_dir, &error);
  if (map == NULL)
    {
      /* Refused, naming a file of the map. */
      fuzz_expect_refusal (error, map_dir);
      return 0;
    }
  query (map);
  return 0;
}
