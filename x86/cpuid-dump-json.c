/* x86/cpuid-dump-json.c — our JSON layout of a dump, written and read back.
 * Numbers are hex strings so the file reads like `cpuid -r` output and survives JSON
 * tools that turn large integers into floating point. The report `vcpuprobe cpuid
 * --format json` prints reads back too: its "cpus" are this layout's, with decoded
 * "features" beside the leaves, and it is what users capture a host with: its "kvm"
 * member, that host's KVM, is kept beside the CPUID. */
#include "x86/cpuid-dump.h"
#include "x86/kvm-cpuid.h"

#include <errno.h>
#include <string.h>

#define JSON_FORMAT_NAME "vcpuprobe-cpuid"
#define JSON_FORMAT_VERSION 1

static json_object *
hex_string (guint32 value, guint width)
{
  g_autofree char *text = g_strdup_printf ("0x%0*x", (int) width, value);

  return json_object_new_string (text);
}

json_object *
x86_cpuid_dump_cpu_to_json (const X86CpuidDump *dump, guint cpu_index)
{
  json_object *cpu = json_object_new_object ();
  json_object *array = json_object_new_array ();
  guint n_leaves;
  const X86CpuidLeaf *leaves = x86_cpuid_dump_leaves (dump, cpu_index, &n_leaves);

  json_object_object_add (cpu, "cpu",
                          json_object_new_int64 (x86_cpuid_dump_cpu_number (dump, cpu_index)));
  for (guint i = 0; i < n_leaves; i++)
    {
      json_object *leaf = json_object_new_object ();

      json_object_object_add (leaf, "leaf", hex_string (leaves[i].leaf, 8));
      json_object_object_add (leaf, "subleaf", hex_string (leaves[i].subleaf, 2));
      json_object_object_add (leaf, "eax", hex_string (leaves[i].eax, 8));
      json_object_object_add (leaf, "ebx", hex_string (leaves[i].ebx, 8));
      json_object_object_add (leaf, "ecx", hex_string (leaves[i].ecx, 8));
      json_object_object_add (leaf, "edx", hex_string (leaves[i].edx, 8));
      json_object_array_add (array, leaf);
    }
  json_object_object_add (cpu, "leaves", array);
  return cpu;
}

json_object *
x86_cpuid_dump_to_json (const X86CpuidDump *dump)
{
  json_object *root = json_object_new_object ();
  json_object *cpus = json_object_new_array ();
  const char *origin = x86_cpuid_dump_origin (dump);
  const X86KvmCpuid *kvm = x86_cpuid_dump_kvm (dump);

  json_object_object_add (root, "format", json_object_new_string (JSON_FORMAT_NAME));
  json_object_object_add (root, "version", json_object_new_int (JSON_FORMAT_VERSION));
  json_object_object_add (root, "origin", origin != NULL ? json_object_new_string (origin) : NULL);
  for (guint i = 0; i < x86_cpuid_dump_n_cpus (dump); i++)
    json_object_array_add (cpus, x86_cpuid_dump_cpu_to_json (dump, i));
  json_object_object_add (root, "cpus", cpus);
  if (kvm != NULL)
    {
      json_object *view = json_object_new_object ();

      json_object_object_add (view, "available", json_object_new_boolean (TRUE));
      json_object_object_add (view, "reason", NULL);
      json_object_object_add (view, "supported",
                              x86_feature_set_to_names_json (&kvm->supported_features));
      json_object_object_add (view, "emulated",
                              x86_feature_set_to_names_json (&kvm->emulated_features));
      /* A view read from a dump that does not record the fact stays without it, so that
       * writing such a dump again does not claim it was tried. */
      if (kvm->arch_capabilities.write != X86_KVM_MSR_UNKNOWN
          || kvm->arch_capabilities.detail != NULL)
        json_object_object_add (view, "arch_capabilities",
                                x86_kvm_arch_capabilities_to_json (&kvm->arch_capabilities));
      json_object_object_add (root, "kvm", view);
    }
  return root;
}

/* A value up to @max given as a hex string ("0x1f") or a non-negative integer. */
static gboolean
json_unsigned (json_object *value, guint64 max, guint64 *result)
{
  if (json_object_is_type (value, json_type_int))
    {
      /* json-c keeps integers past G_MAXINT64 as unsigned, which the signed view clamps
       * and the unsigned one reads whole; only the signed one sees a negative number. */
      guint64 number = json_object_get_uint64 (value);

      if (json_object_get_int64 (value) < 0 || number > max)
        return FALSE;
      *result = number;
      return TRUE;
    }
  if (json_object_is_type (value, json_type_string))
    {
      const char *text = json_object_get_string (value);
      char *end = NULL;
      guint64 number;

      if (!g_str_has_prefix (text, "0x") || !g_ascii_isxdigit (text[2]))
        return FALSE;
      errno = 0;
      number = g_ascii_strtoull (text + 2, &end, 16);
      if (errno != 0 || *end != '\0' || number > max)
        return FALSE;
      *result = number;
      return TRUE;
    }
  return FALSE;
}

static gboolean
json_u32 (json_object *value, guint32 *result)
{
  guint64 number;

  if (!json_unsigned (value, G_MAXUINT32, &number))
    return FALSE;
  *result = (guint32) number;
  return TRUE;
}

/* JSON keeps no line numbers once parsed, so errors about content name the member's path. */
static gboolean
json_leaf (json_object *object, const char *origin, guint cpu_position, guint leaf_position,
           X86CpuidLeaf *leaf, GError **error)
{
  static const char *const members[] = { "leaf", "subleaf", "eax", "ebx", "ecx", "edx" };
  guint32 values[G_N_ELEMENTS (members)];

  if (!json_object_is_type (object, json_type_object))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: cpus[%u].leaves[%u]: expected an object", origin, cpu_position,
                   leaf_position);
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      json_object *member = NULL;

      values[i] = 0;
      if (!json_object_object_get_ex (object, members[i], &member) && i == 1)
        continue;    /* a missing subleaf means subleaf 0 */
      if (member == NULL || !json_u32 (member, &values[i]))
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s: cpus[%u].leaves[%u].%s: expected a 32-bit hex string", origin,
                       cpu_position, leaf_position, members[i]);
          return FALSE;
        }
    }
  *leaf = (X86CpuidLeaf) { .leaf = values[0], .subleaf = values[1], .eax = values[2],
                           .ebx = values[3], .ecx = values[4], .edx = values[5] };
  return TRUE;
}

/* The CLI's report has no "format" member; its "identity" object (with "cpus") tells
 * it from any other JSON, which would otherwise be read as a dump of no leaves. */
static gboolean
is_cli_report (json_object *root)
{
  json_object *identity = NULL;

  return json_object_object_get_ex (root, "identity", &identity)
         && json_object_is_type (identity, json_type_object)
         && json_object_object_get_ex (root, "cpus", NULL);
}

/* One of "supported" and "emulated" of the "kvm" member, into @set. */
static gboolean
json_kvm_features (json_object *view, const char *member, const char *origin,
                   X86FeatureSet *set, GError **error)
{
  json_object *names = NULL;

  x86_feature_set_clear (set);
  if (!json_object_object_get_ex (view, member, &names)
      || !json_object_is_type (names, json_type_array))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: kvm.%s: expected an array of feature names", origin, member);
      return FALSE;
    }
  for (guint i = 0; i < json_object_array_length (names); i++)
    {
      json_object *name = json_object_array_get_idx (names, i);
      const X86Feature *feature;

      if (!json_object_is_type (name, json_type_string))
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s: kvm.%s[%u]: expected a feature name", origin, member, i);
          return FALSE;
        }
      feature = x86_feature_lookup (json_object_get_string (name));
      if (feature == NULL)
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s: kvm.%s[%u]: unknown feature \"%s\"", origin, member, i,
                       json_object_get_string (name));
          return FALSE;
        }
      x86_feature_set_add (set, feature);
    }
  return TRUE;
}

/* The optional "arch_capabilities" of the "kvm" member into @caps: left UNKNOWN when the
 * dump was made before it was recorded. */
static gboolean
json_kvm_arch_capabilities (json_object *view, const char *origin,
                            X86KvmArchCapabilities *caps, GError **error)
{
  json_object *object = NULL, *offered = NULL, *vcpu = NULL, *detail = NULL;

  if (!json_object_object_get_ex (view, "arch_capabilities", &object))
    return TRUE;
  if (!json_object_is_type (object, json_type_object))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: kvm.arch_capabilities: expected {\"offered\": \"0x...\", \"vcpu\": ...}",
                   origin);
      return FALSE;
    }
  if (!json_object_object_get_ex (object, "offered", &offered)
      || !json_unsigned (offered, G_MAXUINT64, &caps->offered))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: kvm.arch_capabilities.offered: expected a 64-bit hex string", origin);
      return FALSE;
    }
  if (!json_object_object_get_ex (object, "vcpu", &vcpu)
      || !json_object_is_type (vcpu, json_type_string)
      || !x86_kvm_msr_write_from_name (json_object_get_string (vcpu), &caps->write))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: kvm.arch_capabilities.vcpu: expected \"accepted\", \"refused\", "
                   "\"not-written\" or \"unknown\"", origin);
      return FALSE;
    }
  if (json_object_object_get_ex (object, "detail", &detail) && detail != NULL)
    {
      if (!json_object_is_type (detail, json_type_string))
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s: kvm.arch_capabilities.detail: expected a string or null", origin);
          return FALSE;
        }
      caps->detail = g_strdup (json_object_get_string (detail));
    }
  return TRUE;
}

/* The optional "kvm" member (layout in x86/cpuid-dump.h) into @dump. A capture that could
 * not read /dev/kvm says so with "available": false: the dump then carries no view. */
static gboolean
json_kvm (json_object *root, const char *origin, X86CpuidDump *dump, GError **error)
{
  json_object *view = NULL, *available = NULL, *reason = NULL;
  X86FeatureSet supported, emulated;
  g_autoptr (X86KvmCpuid) kvm = NULL;

  if (!json_object_object_get_ex (root, "kvm", &view))
    return TRUE;
  if (!json_object_is_type (view, json_type_object)
      || !json_object_object_get_ex (view, "available", &available)
      || !json_object_is_type (available, json_type_boolean))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: kvm: expected {\"available\": true|false, ...}", origin);
      return FALSE;
    }
  if (json_object_object_get_ex (view, "reason", &reason) && reason != NULL
      && !json_object_is_type (reason, json_type_string))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: kvm.reason: expected a string or null", origin);
      return FALSE;
    }
  if (!json_object_get_boolean (available))
    return TRUE;
  if (!json_kvm_features (view, "supported", origin, &supported, error)
      || !json_kvm_features (view, "emulated", origin, &emulated, error))
    return FALSE;
  kvm = x86_kvm_cpuid_new_from_features (&supported, &emulated);
  if (!json_kvm_arch_capabilities (view, origin, &kvm->arch_capabilities, error))
    return FALSE;
  x86_cpuid_dump_set_kvm (dump, g_steal_pointer (&kvm));
  return TRUE;
}

X86CpuidDump *
x86_cpuid_dump_from_json (json_object *root, const char *origin, GError **error)
{
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  json_object *format = NULL, *cpus = NULL;

  if (!json_object_is_type (root, json_type_object)
      || (json_object_object_get_ex (root, "format", &format)
          ? g_strcmp0 (json_object_get_string (format), JSON_FORMAT_NAME) != 0
          : !is_cli_report (root)))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: expected an object with \"format\": \"" JSON_FORMAT_NAME "\" or "
                   "the output of `vcpuprobe cpuid --format json`", origin);
      return NULL;
    }
  if (!json_object_object_get_ex (root, "cpus", &cpus)
      || !json_object_is_type (cpus, json_type_array))
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s: cpus: expected an array", origin);
      return NULL;
    }
  x86_cpuid_dump_set_origin (dump, origin);

  for (guint i = 0; i < json_object_array_length (cpus); i++)
    {
      json_object *cpu = json_object_array_get_idx (cpus, i);
      json_object *number = NULL, *leaves = NULL;
      guint32 cpu_number;
      guint cpu_index;

      if (!json_object_is_type (cpu, json_type_object)
          || !json_object_object_get_ex (cpu, "cpu", &number) || !json_u32 (number, &cpu_number)
          || !json_object_object_get_ex (cpu, "leaves", &leaves)
          || !json_object_is_type (leaves, json_type_array))
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s: cpus[%u]: expected {\"cpu\": N, \"leaves\": [...]}", origin, i);
          return NULL;
        }
      if (x86_cpuid_dump_find_cpu (dump, cpu_number) >= 0)
        {
          g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                       "%s: cpus[%u]: expected a new CPU, CPU %u appears twice", origin, i,
                       cpu_number);
          return NULL;
        }
      cpu_index = x86_cpuid_dump_add_cpu (dump, cpu_number);
      for (guint j = 0; j < json_object_array_length (leaves); j++)
        {
          X86CpuidLeaf leaf;

          if (!json_leaf (json_object_array_get_idx (leaves, j), origin, i, j, &leaf, error))
            return NULL;
          x86_cpuid_dump_set (dump, cpu_index, &leaf);
        }
    }
  if (!json_kvm (root, origin, dump, error))
    return NULL;
  return g_steal_pointer (&dump);
}

static guint
line_of_offset (const char *text, gsize offset)
{
  guint line = 1;

  for (gsize i = 0; i < offset; i++)
    if (text[i] == '\n')
      line++;
  return line;
}

X86CpuidDump *
x86_cpuid_dump_parse_json (const char *text, gsize len, const char *origin, GError **error)
{
  json_tokener *tokener;
  json_object *root;
  enum json_tokener_error status;
  gsize offset;
  X86CpuidDump *dump;

  if (len > G_MAXINT)
    {
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                   "%s:1: expected a JSON document of sane size", origin);
      return NULL;
    }
  tokener = json_tokener_new ();
  root = json_tokener_parse_ex (tokener, text, (int) len);
  status = json_tokener_get_error (tokener);
  offset = json_tokener_get_parse_end (tokener);
  json_tokener_free (tokener);
  if (root == NULL || status != json_tokener_success)
    {
      json_object_put (root);
      g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE, "%s:%u: expected JSON, %s",
                   origin, line_of_offset (text, MIN (offset, len)),
                   status == json_tokener_continue ? "the document ends early"
                                                   : json_tokener_error_desc (status));
      return NULL;
    }
  for (gsize i = offset; i < len; i++)
    if (!g_ascii_isspace (text[i]))
      {
        json_object_put (root);
        g_set_error (error, X86_CPUID_ERROR, X86_CPUID_ERROR_PARSE,
                     "%s:%u: expected the end of the JSON document", origin,
                     line_of_offset (text, i));
        return NULL;
      }
  dump = x86_cpuid_dump_from_json (root, origin, error);
  json_object_put (root);
  return dump;
}
