/* probe/libvirt-cpu-map.h — libvirt's x86 CPU map, read at run time from an installed libvirt.
 *
 * libvirt judges a guest CPU in its own terms: its feature names (pclmuldq, lahf_lm,
 * tsc_adjust, ...), its model definitions (which differ from QEMU's: no hypervisor, no
 * x2apic in most, features marked removed='yes' that libvirt passes to QEMU as off) and
 * its vendors. Those live in data files (index.xml, x86_features.xml, x86_vendors.xml,
 * x86_<model>.xml on Debian under /usr/share/libvirt/cpu_map), so the map of the libvirt
 * on this host is read, never a copy of it. Each libvirt feature is tied to our feature
 * table by its CPUID or MSR bits, so every spelling meets one table entry. */
#pragma once
#include <glib.h>
#include "x86/feature-table.h"
#include "x86/feature-set.h"

#define LIBVIRT_CPU_MAP_DEFAULT_DIR "/usr/share/libvirt/cpu_map"

#define LIBVIRT_CPU_MAP_ERROR (libvirt_cpu_map_error_quark ())
GQuark libvirt_cpu_map_error_quark (void);

typedef enum {
  LIBVIRT_CPU_MAP_ERROR_IO,        /* a file of the map cannot be read (message has the path) */
  LIBVIRT_CPU_MAP_ERROR_SYNTAX,    /* not well-formed XML: "FILE:LINE:COL: problem" */
  LIBVIRT_CPU_MAP_ERROR_INVALID,   /* well-formed, but not a map libvirt would load: a model
                                    * naming an unknown feature or parent, a bad number, ... */
} LibvirtCpuMapError;

typedef struct {
  char *name;                 /* libvirt's spelling */
  guint index;                /* position in the map: libvirt lists features in this order */
  X86FeatureSet bits;         /* its CPUID/MSR bits, in our word layout */
  const X86Feature *feature;  /* the table feature that is exactly @bits; NULL when a bit is
                               * one our table does not name, or there are several */
} LibvirtCpuFeature;

/* A CPUID family and model libvirt ties a model to (<signature>; a stepping range, in the
 * maps that have one, is not kept). */
typedef struct {
  guint family;
  guint model;
} LibvirtCpuSignature;

typedef struct {
  char *name;
  char *vendor;               /* "Intel", "AMD", "Hygon", or NULL */
  GArray *signatures;         /* of LibvirtCpuSignature: its own, else its parent's */
  gboolean decode_guest;      /* libvirt may name a guest's CPU data with it (<decode
                               * guest='off'> says not: the -noTSX-IBRS twins, ...) */
  X86FeatureSet features;     /* of its features that map to the table, removed ones excepted */
  X86FeatureSet removed;      /* its features marked removed='yes' */
  GPtrArray *feature_names;   /* every feature it lists, removed ones too, in file order */
} LibvirtCpuModel;

typedef struct LibvirtCpuMap LibvirtCpuMap;

/* Reads the map in @path: a directory with index.xml (libvirt >= 5.x), or a single file in
 * the layout of the older cpu_map.xml. Only the x86 architecture is read. */
LibvirtCpuMap *libvirt_cpu_map_load (const char *path, GError **error);
void           libvirt_cpu_map_free (LibvirtCpuMap *map);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (LibvirtCpuMap, libvirt_cpu_map_free)

/* Where the map was read from, as given. */
const char *libvirt_cpu_map_path (const LibvirtCpuMap *map);

/* Every feature, in map order. */
const LibvirtCpuFeature *const *libvirt_cpu_map_features (const LibvirtCpuMap *map,
                                                           guint *n_features);
/* By libvirt's name or one of its <alias> spellings; NULL when the map has none. */
const LibvirtCpuFeature *libvirt_cpu_map_find_feature (const LibvirtCpuMap *map,
                                                       const char *name);
/* The map's feature for a table feature, or NULL when libvirt cannot name it (the KVM
 * paravirt bits, most bits newer than the map). */
const LibvirtCpuFeature *libvirt_cpu_map_feature_of (const LibvirtCpuMap *map,
                                                     const X86Feature *feature);
/* The table features the map names, as a set (borrowed). */
const X86FeatureSet *libvirt_cpu_map_known (const LibvirtCpuMap *map);

/* A model by its exact name, or NULL. */
const LibvirtCpuModel *libvirt_cpu_map_find_model (const LibvirtCpuMap *map, const char *name);
/* The names of every model, in map order (borrowed strings; the array is the caller's). */
GPtrArray *libvirt_cpu_map_model_names (const LibvirtCpuMap *map);

/* The CPUID vendor string of libvirt's vendor @name ("Intel" → "GenuineIntel"), or NULL;
 * and back. */
const char *libvirt_cpu_map_vendor_string (const LibvirtCpuMap *map, const char *name);
const char *libvirt_cpu_map_vendor_name (const LibvirtCpuMap *map, const char *cpuid_string);
