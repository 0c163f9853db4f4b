/* x86/cpu-identity.c — vendor, brand, family/model/stepping and code name of the CPU in a
 * dump. libcpuid decodes a cpu_raw_data_t filled from the dump, never from this host, so
 * a dump read from a file identifies the machine it came from. */
#include "x86/cpu-identity.h"

#include <string.h>
#include <libcpuid/libcpuid.h>

/* Models newer than libcpuid 0.6 knows (it matches them to a family-wide entry and
 * names an Emerald Rapids "Conroe"), from the vendors' family/model numbers. */
typedef struct {
  const char *vendor;
  guint family, model;
  const char *codename;
} KnownModel;

static const KnownModel known_models[] = {
  { "GenuineIntel", 6, 0x8f, "Sapphire Rapids" },
  { "GenuineIntel", 6, 0xcf, "Emerald Rapids" },
  { "GenuineIntel", 6, 0xad, "Granite Rapids" },
  { "GenuineIntel", 6, 0xae, "Granite Rapids-D" },
  { "GenuineIntel", 6, 0xaf, "Sierra Forest" },
  { "GenuineIntel", 6, 0xb6, "Grand Ridge" },
  { "GenuineIntel", 6, 0xdd, "Clearwater Forest" },
  { "GenuineIntel", 6, 0x97, "Alder Lake" },
  { "GenuineIntel", 6, 0x9a, "Alder Lake" },
  { "GenuineIntel", 6, 0xbe, "Alder Lake-N" },
  { "GenuineIntel", 6, 0xb7, "Raptor Lake" },
  { "GenuineIntel", 6, 0xba, "Raptor Lake" },
  { "GenuineIntel", 6, 0xbf, "Raptor Lake" },
  { "GenuineIntel", 6, 0xaa, "Meteor Lake" },
  { "GenuineIntel", 6, 0xac, "Meteor Lake" },
  { "GenuineIntel", 6, 0xbd, "Lunar Lake" },
  { "GenuineIntel", 6, 0xc5, "Arrow Lake" },
  { "GenuineIntel", 6, 0xc6, "Arrow Lake" },
  { "GenuineIntel", 6, 0xb5, "Arrow Lake" },
  { "GenuineIntel", 6, 0xcc, "Panther Lake" },
  { "AuthenticAMD", 0x19, 0x01, "Milan" },
  { "AuthenticAMD", 0x19, 0x08, "Chagall" },
  { "AuthenticAMD", 0x19, 0x11, "Genoa" },
  { "AuthenticAMD", 0x19, 0x18, "Storm Peak" },
  { "AuthenticAMD", 0x19, 0x21, "Vermeer" },
  { "AuthenticAMD", 0x19, 0x44, "Rembrandt" },
  { "AuthenticAMD", 0x19, 0x50, "Cezanne" },
  { "AuthenticAMD", 0x19, 0x61, "Raphael" },
  { "AuthenticAMD", 0x19, 0x74, "Phoenix" },
  { "AuthenticAMD", 0x19, 0x75, "Phoenix" },
  { "AuthenticAMD", 0x19, 0xa0, "Bergamo" },
  { "AuthenticAMD", 0x1a, 0x02, "Turin" },
  { "AuthenticAMD", 0x1a, 0x11, "Turin Dense" },
  { "AuthenticAMD", 0x1a, 0x24, "Strix Point" },
  { "AuthenticAMD", 0x1a, 0x44, "Granite Ridge" },
  { "AuthenticAMD", 0x1a, 0x70, "Strix Halo" },
};

/* Four registers as the characters they hold, trailing NULs and blanks removed. */
static char *
registers_text (const guint32 *registers, guint n_registers)
{
  char text[49] = { 0 };

  for (guint i = 0; i < n_registers && i < 12; i++)
    memcpy (text + 4 * i, &registers[i], 4);
  return g_strstrip (g_strdup (text));
}

static void
fill_raw_array (const X86CpuidDump *dump, guint cpu_index, guint32 leaf, gboolean by_subleaf,
                uint32_t (*array)[NUM_REGS], guint n_entries)
{
  for (guint i = 0; i < n_entries; i++)
    {
      const X86CpuidLeaf *entry = by_subleaf
                                    ? x86_cpuid_dump_lookup (dump, cpu_index, leaf, i)
                                    : x86_cpuid_dump_lookup (dump, cpu_index, leaf + i, 0);
      if (entry == NULL)
        continue;
      array[i][EAX] = entry->eax;
      array[i][EBX] = entry->ebx;
      array[i][ECX] = entry->ecx;
      array[i][EDX] = entry->edx;
    }
}

/* libcpuid's raw arrays from our dump, the way cpuid_get_raw_data fills them. */
static void
fill_raw_data (const X86CpuidDump *dump, guint cpu_index, struct cpu_raw_data_t *raw)
{
  memset (raw, 0, sizeof *raw);
  fill_raw_array (dump, cpu_index, 0, FALSE, raw->basic_cpuid, MAX_CPUID_LEVEL);
  fill_raw_array (dump, cpu_index, 0x80000000, FALSE, raw->ext_cpuid, MAX_EXT_CPUID_LEVEL);
  fill_raw_array (dump, cpu_index, 0x4, TRUE, raw->intel_fn4, MAX_INTELFN4_LEVEL);
  fill_raw_array (dump, cpu_index, 0xb, TRUE, raw->intel_fn11, MAX_INTELFN11_LEVEL);
  fill_raw_array (dump, cpu_index, 0x12, TRUE, raw->intel_fn12h, MAX_INTELFN12H_LEVEL);
  fill_raw_array (dump, cpu_index, 0x14, TRUE, raw->intel_fn14h, MAX_INTELFN14H_LEVEL);
  fill_raw_array (dump, cpu_index, 0x8000001d, TRUE, raw->amd_fn8000001dh,
                  MAX_AMDFN8000001DH_LEVEL);
}

static gboolean
identify_raw (struct cpu_raw_data_t *raw, struct cpu_id_t *id)
{
  memset (id, 0, sizeof *id);
  return cpu_identify (raw, id) == 0;
}

/* libcpuid falls back to a family-wide entry for models it does not list. Asking again
 * with the model replaced by one no CPU has shows that: the same answer means the model
 * played no part, so the name is a guess. */
static gboolean
libcpuid_knows_model (struct cpu_raw_data_t *raw, const char *codename, guint display_model)
{
  struct cpu_id_t other_id;
  guint32 fake_model = display_model == 0xff ? 0xfe : 0xff;
  guint32 *signature = &raw->basic_cpuid[1][EAX];
  guint32 saved = *signature;
  gboolean knows;

  *signature = (saved & ~0x000f00f0u) | ((fake_model & 0xf0) << 12) | ((fake_model & 0x0f) << 4);
  knows = !identify_raw (raw, &other_id) || strcmp (other_id.cpu_codename, codename) != 0;
  *signature = saved;
  return knows;
}

static const char *
table_codename (const char *vendor, guint family, guint model)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_models); i++)
    if (known_models[i].family == family && known_models[i].model == model
        && g_strcmp0 (known_models[i].vendor, vendor) == 0)
      return known_models[i].codename;
  return NULL;
}

static const char *
core_type_name (guint32 leaf_1a_eax, char *buffer, gsize size)
{
  guint core_type = leaf_1a_eax >> 24;

  switch (core_type)
    {
    case 0x20: return "efficiency";
    case 0x40: return "performance";
    case 0x00: return "unknown";
    default:
      g_snprintf (buffer, size, "type 0x%02x", core_type);
      return buffer;
    }
}

X86CpuIdentity *
x86_cpu_identity_from_dump (const X86CpuidDump *dump, gboolean from_this_host)
{
  X86CpuIdentity *identity = g_new0 (X86CpuIdentity, 1);
  struct cpu_raw_data_t raw;
  struct cpu_id_t id;
  const X86CpuidLeaf *leaf0 = x86_cpuid_dump_lookup (dump, 0, 0, 0);
  guint32 signature = x86_cpuid_dump_get (dump, 0, 1, 0, 0);
  guint base_family = (signature >> 8) & 0xf;
  guint base_model = (signature >> 4) & 0xf;
  const char *known;

  identity->n_cpus = x86_cpuid_dump_n_cpus (dump);
  if (leaf0 != NULL)
    {
      guint32 vendor_registers[3] = { leaf0->ebx, leaf0->edx, leaf0->ecx };
      identity->vendor = registers_text (vendor_registers, 3);
    }
  else
    identity->vendor = g_strdup ("unknown");

  /* The display values of the SDM and APM: extended fields count for families 6 and 15. */
  identity->family = base_family == 0xf ? base_family + ((signature >> 20) & 0xff) : base_family;
  identity->model = base_family == 0x6 || base_family == 0xf
                      ? (((signature >> 16) & 0xf) << 4) | base_model : base_model;
  identity->stepping = signature & 0xf;

  if (x86_cpuid_dump_get (dump, 0, 0x80000000, 0, 0) >= 0x80000004)
    {
      guint32 brand_registers[12];
      for (guint i = 0; i < 3; i++)
        for (guint reg = 0; reg < 4; reg++)
          brand_registers[4 * i + reg] = x86_cpuid_dump_get (dump, 0, 0x80000002 + i, 0, reg);
      identity->brand = registers_text (brand_registers, 12);
    }

  fill_raw_data (dump, 0, &raw);
  known = table_codename (identity->vendor, identity->family, identity->model);
  if (known != NULL)
    identity->codename = g_strdup (known);
  else if (identify_raw (&raw, &id) && id.cpu_codename[0] != '\0'
           && libcpuid_knows_model (&raw, id.cpu_codename, identity->model))
    identity->codename = g_strdup (id.cpu_codename);
  else
    identity->codename = g_strdup ("unknown");
  if (identity->brand == NULL)
    identity->brand = g_strdup ("");

  if (x86_cpuid_dump_get (dump, 0, 1, 0, 2) & (1u << 31))
    {
      const X86CpuidLeaf *hypervisor = x86_cpuid_dump_lookup (dump, 0, 0x40000000, 0);
      if (hypervisor != NULL)
        {
          guint32 hypervisor_registers[3] = { hypervisor->ebx, hypervisor->ecx, hypervisor->edx };
          identity->hypervisor = registers_text (hypervisor_registers, 3);
        }
    }

  identity->hybrid = (x86_cpuid_dump_get (dump, 0, 7, 0, 3) & (1u << 15)) != 0;
  if (identity->hybrid)
    {
      identity->core_types = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; i < identity->n_cpus; i++)
        {
          char buffer[16];
          g_ptr_array_add (identity->core_types,
                           g_strdup (core_type_name (x86_cpuid_dump_get (dump, i, 0x1a, 0, 0),
                                                     buffer, sizeof buffer)));
        }
    }

  if (from_this_host)
    identity->microcode = x86_host_microcode ();
  return identity;
}

void
x86_cpu_identity_free (X86CpuIdentity *identity)
{
  if (identity == NULL)
    return;
  g_free (identity->vendor);
  g_free (identity->brand);
  g_free (identity->codename);
  g_free (identity->microcode);
  g_free (identity->hypervisor);
  if (identity->core_types != NULL)
    g_ptr_array_unref (identity->core_types);
  g_free (identity);
}

static json_object *
string_or_null (const char *text)
{
  return text != NULL ? json_object_new_string (text) : NULL;
}

json_object *
x86_cpu_identity_to_json (const X86CpuIdentity *identity)
{
  json_object *root = json_object_new_object ();

  json_object_object_add (root, "vendor", string_or_null (identity->vendor));
  json_object_object_add (root, "brand", string_or_null (identity->brand));
  json_object_object_add (root, "family", json_object_new_int64 (identity->family));
  json_object_object_add (root, "model", json_object_new_int64 (identity->model));
  json_object_object_add (root, "stepping", json_object_new_int64 (identity->stepping));
  json_object_object_add (root, "codename", string_or_null (identity->codename));
  json_object_object_add (root, "microcode", string_or_null (identity->microcode));
  json_object_object_add (root, "hypervisor", string_or_null (identity->hypervisor));
  json_object_object_add (root, "cpus", json_object_new_int64 (identity->n_cpus));
  json_object_object_add (root, "hybrid", json_object_new_boolean (identity->hybrid));
  if (identity->core_types != NULL)
    {
      json_object *types = json_object_new_array ();
      for (guint i = 0; i < identity->core_types->len; i++)
        json_object_array_add (types, json_object_new_string (g_ptr_array_index (identity->core_types, i)));
      json_object_object_add (root, "core_types", types);
    }
  return root;
}

/* "microcode\t: 0x2b000603" of the first processor in /proc/cpuinfo. */
static char *
microcode_from_cpuinfo (void)
{
  g_autofree char *cpuinfo = NULL;

  if (!g_file_get_contents ("/proc/cpuinfo", &cpuinfo, NULL, NULL))
    return NULL;
  /* The first line that starts with "microcode", found without splitting the whole file
   * (a line per field per CPU) into strings. */
  for (const char *line = cpuinfo; line != NULL && *line != '\0'; )
    {
      const char *end = strchr (line, '\n');
      const char *colon = strchr (line, ':');

      if (g_str_has_prefix (line, "microcode") && colon != NULL && (end == NULL || colon < end))
        {
          char *value = end != NULL ? g_strndup (colon + 1, (gsize) (end - colon - 1))
                                    : g_strdup (colon + 1);

          return g_strstrip (value);
        }
      line = end != NULL ? end + 1 : NULL;
    }
  return NULL;
}

char *
x86_host_microcode (void)
{
  char *revision = microcode_from_cpuinfo ();
  g_autofree char *sysfs = NULL;

  if (revision != NULL && *revision != '\0')
    return revision;
  g_free (revision);
  if (g_file_get_contents ("/sys/devices/system/cpu/cpu0/microcode/version", &sysfs, NULL, NULL))
    return g_strstrip (g_strdup (sysfs));
  return NULL;
}
