/* tests/test-feature-set.c — feature sets: algebra, order, names, CPUID dumps and QEMU's
 * feature-words lists of every shape. */
#include "tests/test-util.h"
#include "x86/feature-set.h"

#include <string.h>

/* CPUID.1:EDX of a Pentium III with the serial number disabled: fpu ... pse36, mmx, fxsr, sse. */
#define PENTIUM3_1_EDX 0x0383FBFFu
static const char *const pentium3_names[] = {
  "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep", "mtrr", "pge",
  "mca", "cmov", "pat", "pse36", "mmx", "fxsr", "sse",
};

static const X86Feature *
feature (const char *name)
{
  const X86Feature *found = x86_feature_lookup (name);

  if (found == NULL)
    fail_msg ("no feature \"%s\"", name);
  return found;
}

static int
cpuid_word (guint32 leaf, guint32 subleaf, X86Register reg)
{
  int word = x86_feature_word_find_cpuid (leaf, subleaf, reg);

  assert_true (word >= 0);
  return word;
}

static void
set_of (X86FeatureSet *set, const char *const *names, guint n)
{
  g_autoptr (GError) error = NULL;

  assert_true (x86_feature_set_from_names (set, names, n, &error));
  assert_null (error);
}

static void
assert_names (const X86FeatureSet *set, const char *const *expected, guint n)
{
  g_autoptr (GPtrArray) names = x86_feature_set_to_names (set, TRUE);

  for (guint i = 0; i < MIN (names->len, n); i++)
    assert_string_equal (g_ptr_array_index (names, i), expected[i]);
  assert_int_equal (names->len, n);
}

static void
test_algebra (void **state)
{
  static const char *const a_names[] = { "sse2", "avx2", "lm", "vmx-ept" };
  static const char *const b_names[] = { "avx2", "lm", "hypervisor" };
  X86FeatureSet a, b, result, empty;

  set_of (&a, a_names, G_N_ELEMENTS (a_names));
  set_of (&b, b_names, G_N_ELEMENTS (b_names));
  x86_feature_set_clear (&empty);
  assert_true (x86_feature_set_is_empty (&empty));
  assert_false (x86_feature_set_is_empty (&a));
  assert_int_equal (x86_feature_set_count (&a), 4);

  x86_feature_set_union (&result, &a, &b);
  assert_int_equal (x86_feature_set_count (&result), 5);
  assert_true (x86_feature_set_has (&result, feature ("hypervisor")));
  assert_true (x86_feature_set_has (&result, feature ("vmx-ept")));

  x86_feature_set_intersect (&result, &a, &b);
  assert_int_equal (x86_feature_set_count (&result), 2);
  assert_true (x86_feature_set_has (&result, feature ("avx2")));
  assert_false (x86_feature_set_has (&result, feature ("sse2")));

  x86_feature_set_subtract (&result, &a, &b);
  {
    static const char *const expected[] = { "sse2", "vmx-ept" };
    assert_names (&result, expected, G_N_ELEMENTS (expected));
  }

  /* The result may alias an operand. */
  result = a;
  x86_feature_set_subtract (&result, &result, &b);
  x86_feature_set_union (&result, &result, &b);
  x86_feature_set_union (&b, &a, &b);
  assert_true (x86_feature_set_equal (&result, &b));
  x86_feature_set_intersect (&a, &a, &empty);
  assert_true (x86_feature_set_is_empty (&a));

  x86_feature_set_add (&a, feature ("sse4_1"));
  assert_true (x86_feature_set_has (&a, feature ("sse4.1")));
  x86_feature_set_remove (&a, feature ("sse4-1"));
  assert_true (x86_feature_set_is_empty (&a));
  assert_true (x86_feature_set_equal (&a, &empty));
}

typedef struct {
  guint calls;
  guint last_word, last_bit;
  gboolean ordered;
  guint unnamed;
} Walk;

static void
record_walk (guint word, guint bit, const X86Feature *found, gpointer user_data)
{
  Walk *walk = user_data;

  if (walk->calls > 0 && !(walk->last_word < word || (walk->last_word == word && walk->last_bit < bit)))
    walk->ordered = FALSE;
  if (found == NULL)
    walk->unnamed++;
  else
    assert_true (found->word == word && found->bit == bit);
  walk->calls++;
  walk->last_word = word;
  walk->last_bit = bit;
}

static void
test_order_and_unnamed_bits (void **state)
{
  /* Given in no particular order; table order is word order, then bit. */
  static const char *const names[] = { "vmx-true-ctls", "avx2", "fpu", "sse3", "hle", "kvmclock" };
  static const char *const named[] = { "fpu", "pni", "hle", "avx2", "kvmclock", "vmx-true-ctls" };
  int kvm = cpuid_word (0x40000001, 0, X86_REG_EAX);
  int leaf7 = cpuid_word (7, 0, X86_REG_EBX);
  X86FeatureSet set;
  Walk walk = { .ordered = TRUE };

  set_of (&set, names, G_N_ELEMENTS (names));
  /* Bit 22 of 7.0.EBX is pcommit, a named bit; bit 15 is not. */
  x86_feature_set_add_bit (&set, leaf7, 22);
  x86_feature_set_add_bit (&set, kvm, 8);
  assert_true (x86_feature_set_has_bit (&set, kvm, 8));
  x86_feature_set_remove (&set, feature ("pcommit"));
  x86_feature_set_add_bit (&set, leaf7, 22);
  {
    g_autoptr (GPtrArray) with_pcommit = x86_feature_set_to_names (&set, TRUE);
    assert_string_equal (g_ptr_array_index (with_pcommit, 4), "pcommit");
  }
  x86_feature_set_remove (&set, feature ("pcommit"));
  x86_feature_set_add_bit (&set, leaf7, 15);

  x86_feature_set_foreach (&set, record_walk, &walk);
  assert_int_equal (walk.calls, 8);
  assert_true (walk.ordered);
  assert_int_equal (walk.unnamed, 2);

  {
    static const char *const expected_15[] = {
      "fpu", "pni", "hle", "avx2", "CPUID.07H:EBX[bit 15]", "kvmclock",
      "CPUID.40000001H:EAX[bit 8]", "vmx-true-ctls",
    };
    assert_names (&set, expected_15, G_N_ELEMENTS (expected_15));
  }
  {
    g_autoptr (GPtrArray) only_named = x86_feature_set_to_names (&set, FALSE);
    assert_int_equal (only_named->len, G_N_ELEMENTS (named));
    for (guint i = 0; i < only_named->len; i++)
      assert_string_equal (g_ptr_array_index (only_named, i), named[i]);
  }
  {
    /* The JSON documents list the same names, unnamed bits left out. */
    json_object *named_json = x86_feature_set_to_names_json (&set);

    assert_int_equal (json_object_array_length (named_json), G_N_ELEMENTS (named));
    for (guint i = 0; i < G_N_ELEMENTS (named); i++)
      assert_string_equal (json_object_get_string (json_object_array_get_idx (named_json, i)),
                           named[i]);
    json_object_put (named_json);
  }
  x86_feature_set_named_only (&set);
  assert_int_equal (x86_feature_set_count (&set), G_N_ELEMENTS (named));
  assert_false (x86_feature_set_has_bit (&set, kvm, 8));
}

static void
test_from_names_errors (void **state)
{
  static const char *const good[] = { "sse2" };
  static const char *const bad[] = { "sse2", "avx3" };
  static const char *const hopeless[] = { "qqqqqqqqqqqqqqqq" };
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) error2 = NULL;
  X86FeatureSet set;

  set_of (&set, good, 1);
  assert_false (x86_feature_set_from_names (&set, bad, G_N_ELEMENTS (bad), &error));
  assert_true (g_error_matches (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_UNKNOWN_NAME));
  assert_non_null (strstr (error->message, "\"avx3\""));
  assert_non_null (strstr (error->message, "did you mean \"avx2\""));
  /* A failed call leaves the set alone. */
  assert_int_equal (x86_feature_set_count (&set), 1);
  assert_true (x86_feature_set_has (&set, feature ("sse2")));

  assert_false (x86_feature_set_from_names (&set, hopeless, 1, &error2));
  assert_true (g_error_matches (error2, X86_FEATURE_ERROR, X86_FEATURE_ERROR_UNKNOWN_NAME));
  assert_null (strstr (error2->message, "did you mean"));
  assert_false (x86_feature_set_from_names (&set, hopeless, 1, NULL));

  /* Every spelling of one feature lands on the same bit. */
  {
    static const char *const spellings[] = { "sse4.1", "sse4-1", "sse4_1", "lahf_lm", "lahf-lm" };
    set_of (&set, spellings, G_N_ELEMENTS (spellings));
    assert_int_equal (x86_feature_set_count (&set), 2);
  }
}

static json_object *
parse_json (const char *text)
{
  json_object *parsed = json_tokener_parse (text);

  assert_non_null (parsed);
  return parsed;
}

/* QEMU 1.5: eight words, no cpuid-input-ecx even for leaf 7. The values are those of a
 * qemu64-like guest under KVM, with Haswell's leaf 7. */
static const char feature_words_1_5[] =
  "[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1, \"features\": 58981375},"
  " {\"cpuid-register\": \"ECX\", \"cpuid-input-eax\": 1, \"features\": 2147491841},"
  " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 2147483649, \"features\": 537921536},"
  " {\"cpuid-register\": \"ECX\", \"cpuid-input-eax\": 2147483649, \"features\": 101},"
  " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 3221225473, \"features\": 0},"
  " {\"cpuid-register\": \"EAX\", \"cpuid-input-eax\": 1073741825, \"features\": 16777339},"
  " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 2147483658, \"features\": 0},"
  " {\"cpuid-register\": \"EBX\", \"cpuid-input-eax\": 7, \"features\": 4025}]";

static void
test_feature_words_1_5 (void **state)
{
  static const char *const expected[] = {
    /* 1.EDX = 0x0383FBFF, the Pentium III */
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep", "mtrr", "pge",
    "mca", "cmov", "pat", "pse36", "mmx", "fxsr", "sse",
    /* 1.ECX = 0x80002001 */
    "pni", "cx16", "hypervisor",
    /* 7.0.EBX = 0xFB9, Haswell's */
    "fsgsbase", "bmi1", "hle", "avx2", "smep", "bmi2", "erms", "invpcid", "rtm",
    /* 0x80000001.EDX = 0x20100800, ECX = 0x65 */
    "syscall", "nx", "lm", "lahf-lm", "svm", "abm", "sse4a",
    /* KVM leaf = 0x0100007B: QEMU 1.5's paravirt defaults */
    "kvmclock", "kvm-nopiodelay", "kvmclock2", "kvm-asyncpf", "kvm-steal-time", "kvm-pv-eoi",
    "kvmclock-stable-bit",
  };
  g_autoptr (GError) error = NULL;
  json_object *words = parse_json (feature_words_1_5);
  X86FeatureSet set;
  guint unknown = 99;

  assert_true (x86_feature_set_from_feature_words (&set, words, &unknown, &error));
  assert_null (error);
  assert_int_equal (unknown, 0);
  assert_int_equal (set.words[cpuid_word (1, 0, X86_REG_EDX)], PENTIUM3_1_EDX);
  assert_names (&set, expected, G_N_ELEMENTS (expected));
  json_object_put (words);
}

/* Current QEMU: subleaf words carry cpuid-input-ecx; words the table lacks are counted. */
static const char feature_words_current[] =
  "[{\"cpuid-register\": \"EAX\", \"cpuid-input-eax\": 305419896, \"features\": 7},"
  " {\"cpuid-register\": \"EBX\", \"cpuid-input-eax\": 7, \"cpuid-input-ecx\": 0, \"features\": 32},"
  " {\"cpuid-register\": \"EAX\", \"cpuid-input-eax\": 7, \"cpuid-input-ecx\": 1, \"features\": 16},"
  " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 7, \"cpuid-input-ecx\": 0, \"features\": 2147483648},"
  " {\"cpuid-register\": \"EAX\", \"cpuid-input-eax\": 13, \"cpuid-input-ecx\": 1, \"features\": 15},"
  " {\"cpuid-register\": \"EAX\", \"cpuid-input-eax\": 13, \"cpuid-input-ecx\": 0, \"features\": 7},"
  " {\"cpuid-register\": \"EBX\", \"cpuid-input-eax\": 7, \"cpuid-input-ecx\": 9, \"features\": 1},"
  " {\"cpuid-register\": \"ESP\", \"cpuid-input-eax\": 1, \"features\": 1},"
  " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1, \"features\": -2147483648},"
  " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 2147483655, \"features\": 256}]";

static void
test_feature_words_current (void **state)
{
  static const char *const expected[] = {
    "pbe", "avx2", "ssbd", "avx-vnni", "invtsc", "xsaveopt", "xsavec", "xgetbv1", "xsaves",
    "CPUID.0DH:EAX[bit 0]", "CPUID.0DH:EAX[bit 1]", "CPUID.0DH:EAX[bit 2]",
  };
  g_autoptr (GError) error = NULL;
  json_object *words = parse_json (feature_words_current);
  X86FeatureSet set;
  guint unknown = 0;

  assert_true (x86_feature_set_from_feature_words (&set, words, &unknown, &error));
  assert_null (error);
  /* Leaf 0x12345678, subleaf 9 of leaf 7 and register ESP. */
  assert_int_equal (unknown, 3);
  assert_names (&set, expected, G_N_ELEMENTS (expected));
  assert_true (x86_feature_set_from_feature_words (&set, words, NULL, NULL));
  json_object_put (words);
}

static void
assert_bad_words (const char *text, const char *phrase)
{
  g_autoptr (GError) error = NULL;
  json_object *words = parse_json (text);
  X86FeatureSet set;
  static const char *const one[] = { "sse" };

  set_of (&set, one, 1);
  assert_false (x86_feature_set_from_feature_words (&set, words, NULL, &error));
  assert_true (g_error_matches (error, X86_FEATURE_ERROR, X86_FEATURE_ERROR_BAD_WORDS));
  if (strstr (error->message, phrase) == NULL)
    fail_msg ("error \"%s\" lacks \"%s\"", error->message, phrase);
  assert_int_equal (x86_feature_set_count (&set), 1);
  assert_false (x86_feature_set_from_feature_words (&set, words, NULL, NULL));
  json_object_put (words);
}

static void
test_feature_words_bad_shape (void **state)
{
  assert_bad_words ("{\"cpuid-register\": \"EDX\"}", "not a JSON array");
  assert_bad_words ("[1]", "feature word 0 is not an object");
  assert_bad_words ("[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1, \"features\": 1},"
                    " {\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1}]",
                    "feature word 1 lacks \"features\"");
  assert_bad_words ("[{\"cpuid-register\": \"EDX\", \"features\": 1}]", "lacks \"cpuid-input-eax\"");
  assert_bad_words ("[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1, \"features\": \"1\"}]",
                    "non-integer \"features\"");
  assert_bad_words ("[{\"cpuid-register\": \"EBX\", \"cpuid-input-eax\": 7, \"cpuid-input-ecx\": \"0\","
                    " \"features\": 1}]", "non-integer \"cpuid-input-ecx\"");
  assert_bad_words ("[{\"cpuid-register\": \"XMM0\", \"cpuid-input-eax\": 1, \"features\": 1}]",
                    "unknown register \"XMM0\"");
  assert_bad_words ("[{\"cpuid-register\": 3, \"cpuid-input-eax\": 1, \"features\": 1}]",
                    "\"cpuid-register\" string");
  assert_bad_words ("[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": 1, \"features\": 8589934592}]",
                    "outside 32 bits");
  assert_bad_words ("[{\"cpuid-register\": \"EDX\", \"cpuid-input-eax\": -1, \"features\": 1}]",
                    "outside 32 bits");
}

static void
test_from_cpuid (void **state)
{
  static const char *const expected[] = {
    "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", "sep", "mtrr", "pge",
    "mca", "cmov", "pat", "pse36", "mmx", "fxsr", "sse",
    "hypervisor", "avx2", "avx-vnni", "syscall", "lm", "kvmclock", "xsaveopt",
  };
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_new ();
  const X86CpuidLeaf leaves[] = {
    { .leaf = 0x1, .subleaf = 0, .eax = 0x673, .ecx = 0x80000000, .edx = PENTIUM3_1_EDX },
    { .leaf = 0x7, .subleaf = 0, .ebx = 0x20 },
    { .leaf = 0x7, .subleaf = 1, .eax = 0x10 },
    /* Bits of registers that are no feature word must not leak in. */
    { .leaf = 0x7, .subleaf = 2, .eax = 0xFFFFFFFF },
    { .leaf = 0xD, .subleaf = 1, .eax = 0x1 },
    { .leaf = 0x40000001, .subleaf = 0, .eax = 0x1 },
    { .leaf = 0x80000001, .subleaf = 0, .edx = 0x20000800 },
  };
  guint first, second;
  X86FeatureSet set, other;

  first = x86_cpuid_dump_add_cpu (dump, 0);
  second = x86_cpuid_dump_add_cpu (dump, 4);
  for (gsize i = 0; i < G_N_ELEMENTS (leaves); i++)
    x86_cpuid_dump_set (dump, first, &leaves[i]);
  x86_cpuid_dump_set (dump, second, &leaves[0]);

  x86_feature_set_from_cpuid (&set, dump, first);
  assert_names (&set, expected, G_N_ELEMENTS (expected));
  x86_feature_set_from_cpuid (&other, dump, second);
  assert_int_equal (x86_feature_set_count (&other), G_N_ELEMENTS (pentium3_names) + 1);
  for (gsize i = 0; i < G_N_ELEMENTS (pentium3_names); i++)
    assert_true (x86_feature_set_has (&other, feature (pentium3_names[i])));
}

/* The same CPU read from `cpuid -1r` text and from QEMU's feature words decodes alike. */
static void
test_from_cpuid_text (void **state)
{
  static const char text[] =
    "CPU 0:\n"
    "   0x00000000 0x00: eax=0x0000000d ebx=0x756e6547 ecx=0x6c65746e edx=0x49656e69\n"
    "   0x00000001 0x00: eax=0x00000673 ebx=0x00000000 ecx=0x80002001 edx=0x0383fbff\n"
    "   0x00000007 0x00: eax=0x00000000 ebx=0x00000fb9 ecx=0x00000000 edx=0x00000000\n"
    "   0x80000000 0x00: eax=0x80000008 ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n"
    "   0x80000001 0x00: eax=0x00000000 ebx=0x00000000 ecx=0x00000065 edx=0x20100800\n"
    "   0x40000001 0x00: eax=0x0100007b ebx=0x00000000 ecx=0x00000000 edx=0x00000000\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (X86CpuidDump) dump = x86_cpuid_dump_parse (text, sizeof text - 1, "test", &error);
  json_object *words = parse_json (feature_words_1_5);
  X86FeatureSet from_dump, from_qemu;

  assert_null (error);
  assert_non_null (dump);
  x86_feature_set_from_cpuid (&from_dump, dump, 0);
  assert_true (x86_feature_set_from_feature_words (&from_qemu, words, NULL, NULL));
  assert_true (x86_feature_set_equal (&from_dump, &from_qemu));
  json_object_put (words);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_algebra),
    cmocka_unit_test (test_order_and_unnamed_bits),
    cmocka_unit_test (test_from_names_errors),
    cmocka_unit_test (test_feature_words_1_5),
    cmocka_unit_test (test_feature_words_current),
    cmocka_unit_test (test_feature_words_bad_shape),
    cmocka_unit_test (test_from_cpuid),
    cmocka_unit_test (test_from_cpuid_text),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
