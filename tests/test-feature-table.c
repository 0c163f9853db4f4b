/* tests/test-feature-table.c — the x86 feature table: invariants, spellings, descriptions. */
#include "tests/test-util.h"
#include "x86/feature-table.h"

#include <string.h>

static int
cpuid_word (guint32 leaf, guint32 subleaf, X86Register reg)
{
  int word = x86_feature_word_find_cpuid (leaf, subleaf, reg);

  assert_true (word >= 0);
  return word;
}

static void
test_words_are_valid (void **state)
{
  guint n_words;
  const X86FeatureWord *words = x86_feature_words (&n_words);

  assert_int_equal (n_words, x86_feature_n_words ());
  assert_true (n_words <= 64);
  for (guint i = 0; i < n_words; i++)
    {
      assert_non_null (words[i].name);
      for (guint j = 0; j < i; j++)
        {
          assert_string_not_equal (words[i].name, words[j].name);
          if (words[i].kind == X86_WORD_CPUID && words[j].kind == X86_WORD_CPUID)
            assert_false (words[i].leaf == words[j].leaf && words[i].subleaf == words[j].subleaf
                          && words[i].reg == words[j].reg);
          if (words[i].kind == X86_WORD_MSR && words[j].kind == X86_WORD_MSR)
            assert_false (words[i].msr == words[j].msr && words[i].bit_offset == words[j].bit_offset);
        }
      if (words[i].kind == X86_WORD_CPUID)
        {
          guint32 subleaf = words[i].subleaf == X86_NO_SUBLEAF ? 0 : words[i].subleaf;
          assert_int_equal (x86_feature_word_find_cpuid (words[i].leaf, subleaf, words[i].reg), i);
          assert_int_equal (words[i].bit_offset, 0);
        }
      else
        {
          assert_true (words[i].bit_offset == 0 || words[i].bit_offset == 32);
          if (words[i].bit_offset == 0)
            assert_int_equal (x86_feature_word_find_msr (words[i].msr), i);
        }
    }
}

/* Every word QEMU knows, by the address the reference gives it. */
static void
test_every_qemu_word_is_present (void **state)
{
  static const struct { guint32 leaf, subleaf; X86Register reg; } cpuid[] = {
    { 0x1, 0, X86_REG_EDX }, { 0x1, 0, X86_REG_ECX }, { 0x6, 0, X86_REG_EAX },
    { 0x7, 0, X86_REG_EBX }, { 0x7, 0, X86_REG_ECX }, { 0x7, 0, X86_REG_EDX },
    { 0x7, 1, X86_REG_EAX }, { 0x7, 1, X86_REG_EDX }, { 0x7, 2, X86_REG_EDX },
    { 0xD, 1, X86_REG_EAX }, { 0xD, 0, X86_REG_EAX }, { 0xD, 0, X86_REG_EDX },
    { 0xD, 1, X86_REG_ECX }, { 0xD, 1, X86_REG_EDX }, { 0x14, 0, X86_REG_ECX },
    { 0x24, 0, X86_REG_EBX }, { 0x40000001, 0, X86_REG_EAX }, { 0x40000001, 0, X86_REG_EDX },
    { 0x80000001, 0, X86_REG_EDX }, { 0x80000001, 0, X86_REG_ECX },
    { 0x80000007, 0, X86_REG_EDX }, { 0x80000007, 0, X86_REG_EBX },
    { 0x80000008, 0, X86_REG_EBX }, { 0x8000000A, 0, X86_REG_EDX },
    { 0x80000021, 0, X86_REG_EAX }, { 0x80000021, 0, X86_REG_EBX },
    { 0x80000022, 0, X86_REG_EAX }, { 0xC0000001, 0, X86_REG_EDX },
    { 0x12, 0, X86_REG_EAX }, { 0x12, 0, X86_REG_EBX }, { 0x12, 1, X86_REG_EAX },
  };
  static const guint32 msrs[] = { 0x10A, 0xCF, 0x345, 0x480, 0x485, 0x48B, 0x48C, 0x48D,
                                  0x48E, 0x48F, 0x490, 0x491 };

  for (gsize i = 0; i < G_N_ELEMENTS (cpuid); i++)
    cpuid_word (cpuid[i].leaf, cpuid[i].subleaf, cpuid[i].reg);
  for (gsize i = 0; i < G_N_ELEMENTS (msrs); i++)
    assert_true (x86_feature_word_find_msr (msrs[i]) >= 0);
  /* A subleaf word matches only its subleaf; a word without one ignores it. */
  assert_int_equal (x86_feature_word_find_cpuid (0x7, 3, X86_REG_EBX), -1);
  assert_int_equal (x86_feature_word_find_cpuid (0x1, 5, X86_REG_EDX), cpuid_word (0x1, 0, X86_REG_EDX));
  assert_int_equal (x86_feature_word_find_cpuid (0x1, 0, X86_REG_EAX), -1);
  assert_int_equal (x86_feature_word_find_msr (0x12345), -1);
}

static void
assert_spelling_unique (GHashTable *seen, const char *spelling, const X86Feature *feature)
{
  const X86Feature *owner = g_hash_table_lookup (seen, spelling);

  if (owner != NULL && owner != feature)
    fail_msg ("spelling \"%s\" names both %s and %s", spelling, owner->name, feature->name);
  g_hash_table_insert (seen, (gpointer) spelling, (gpointer) feature);
  assert_ptr_equal (x86_feature_lookup (spelling), feature);
}

static void
test_features_are_consistent (void **state)
{
  guint n;
  const X86Feature *features = x86_features (&n);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  assert_true (n > 300);
  for (guint i = 0; i < n; i++)
    {
      const X86Feature *feature = &features[i];

      assert_true (feature->word < x86_feature_n_words ());
      assert_true (feature->bit < 32);
      if (i > 0)
        {
          const X86Feature *previous = &features[i - 1];
          /* Table order is word order, then bit; equal (word, bit) is never allowed. */
          assert_true (previous->word < feature->word
                       || (previous->word == feature->word && previous->bit < feature->bit));
        }
      assert_spelling_unique (seen, feature->name, feature);
      for (const char *const *alias = feature->aliases; alias != NULL && *alias != NULL; alias++)
        assert_spelling_unique (seen, *alias, feature);
      if (feature->libvirt_name != NULL)
        assert_spelling_unique (seen, feature->libvirt_name, feature);
      /* Name ↔ bit round trip. */
      assert_ptr_equal (x86_feature_at (feature->word, feature->bit), feature);
      assert_ptr_equal (x86_feature_lookup (feature->name), feature);
      assert_string_equal (x86_feature_libvirt_name (feature),
                           feature->libvirt_name != NULL ? feature->libvirt_name : feature->name);
    }
  assert_null (x86_feature_at (x86_feature_n_words (), 0));
  assert_null (x86_feature_at (0, 32));
  assert_null (x86_feature_at (cpuid_word (0x1, 0, X86_REG_EDX), 10));
}

static void
assert_spelling (const char *spelling, const char *canonical)
{
  const X86Feature *feature = x86_feature_lookup (spelling);

  if (feature == NULL)
    fail_msg ("spelling \"%s\" is unknown", spelling);
  assert_string_equal (feature->name, canonical);
}

/* Reference §3.3: aliases QEMU registers now and the spellings of QEMU 1.x–2.x. */
static void
test_qemu_spellings (void **state)
{
  static const char *const pairs[][2] = {
    { "sse3", "pni" }, { "pclmuldq", "pclmulqdq" }, { "sse4-1", "sse4.1" }, { "sse4_1", "sse4.1" },
    { "sse4-2", "sse4.2" }, { "sse4_2", "sse4.2" }, { "xd", "nx" }, { "ffxsr", "fxsr-opt" },
    { "fxsr_opt", "fxsr-opt" }, { "i64", "lm" }, { "ds_cpl", "ds-cpl" },
    { "tsc_adjust", "tsc-adjust" }, { "lahf_lm", "lahf-lm" }, { "cmp_legacy", "cmp-legacy" },
    { "nodeid_msr", "nodeid-msr" }, { "perfctr_core", "perfctr-core" },
    { "perfctr_nb", "perfctr-nb" }, { "kvm_nopiodelay", "kvm-nopiodelay" },
    { "kvm_mmu", "kvm-mmu" }, { "kvm_asyncpf", "kvm-asyncpf" },
    { "kvm_asyncpf_int", "kvm-asyncpf-int" }, { "kvm_steal_time", "kvm-steal-time" },
    { "kvm_pv_eoi", "kvm-pv-eoi" }, { "kvm_pv_unhalt", "kvm-pv-unhalt" },
    { "kvm_poll_control", "kvm-poll-control" }, { "svm_lock", "svm-lock" },
    { "nrip_save", "nrip-save" }, { "tsc_scale", "tsc-scale" }, { "vmcb_clean", "vmcb-clean" },
    { "pause_filter", "pause-filter" }, { "osxsave", "osxsave" }, { "ospke", "ospke" },
    /* The -cpu parser's '_' → '-' rewrite. */
    { "sha_ni", "sha-ni" }, { "vmx_ept_2mb", "vmx-ept-2mb" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    assert_spelling (pairs[i][0], pairs[i][1]);
  /* Case-sensitive, like QEMU. */
  assert_null (x86_feature_lookup ("SSE2"));
  assert_null (x86_feature_lookup (""));
  assert_null (x86_feature_lookup (NULL));
}

/* Reference §3.4: libvirt's names. */
static void
test_libvirt_spellings (void **state)
{
  static const char *const pairs[][2] = {
    { "cmp_legacy", "cmp-legacy" }, { "ds_cpl", "ds-cpl" }, { "fxsr_opt", "fxsr-opt" },
    { "kvm_pv_eoi", "kvm-pv-eoi" }, { "kvm_pv_unhalt", "kvm-pv-unhalt" },
    { "lahf_lm", "lahf-lm" }, { "nodeid_msr", "nodeid-msr" }, { "pclmuldq", "pclmulqdq" },
    { "perfctr_core", "perfctr-core" }, { "perfctr_nb", "perfctr-nb" },
    { "tsc_adjust", "tsc-adjust" },
  };
  static const char *const same[] = { "pni", "sse4.1", "sse4.2", "nx", "lm", "svm-lock",
                                      "nrip-save", "tsc-scale", "vmcb-clean", "pause-filter" };
  static const char *const libvirt_only[] = { "cmt", "mbm_total", "mbm_local", "cvt16", "pconfig" };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      const X86Feature *feature = x86_feature_lookup (pairs[i][1]);
      assert_non_null (feature);
      assert_string_equal (x86_feature_libvirt_name (feature), pairs[i][0]);
      assert_ptr_equal (x86_feature_lookup (pairs[i][0]), feature);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (same); i++)
    assert_string_equal (x86_feature_libvirt_name (x86_feature_lookup (same[i])), same[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (libvirt_only); i++)
    {
      const X86Feature *feature = x86_feature_lookup (libvirt_only[i]);
      assert_non_null (feature);
      assert_true (feature->flags & X86_FEATURE_LIBVIRT_ONLY);
      assert_null (x86_feature_qemu_property (feature));
      assert_null (x86_feature_lookup_property (libvirt_only[i]));
    }
  assert_ptr_equal (x86_feature_lookup ("cqm"), x86_feature_lookup ("cmt"));
  assert_ptr_equal (x86_feature_lookup ("cmt"), x86_feature_at (cpuid_word (7, 0, X86_REG_EBX), 12));
  assert_ptr_equal (x86_feature_lookup ("pconfig"), x86_feature_at (cpuid_word (7, 0, X86_REG_EDX), 18));
  assert_ptr_equal (x86_feature_lookup ("cvt16"), x86_feature_at (cpuid_word (0x80000001, 0, X86_REG_ECX), 18));
  assert_ptr_equal (x86_feature_lookup ("mbm_local"), x86_feature_at (cpuid_word (0xF, 1, X86_REG_EDX), 2));
}

static void
test_flags (void **state)
{
  static const char *const dynamic[] = { "osxsave", "ospke" };
  static const char *const no_auto[] = { "ht", "topoext", "kvm-hint-dedicated" };

  assert_true (x86_feature_lookup ("invtsc")->flags & X86_FEATURE_UNMIGRATABLE);
  assert_false (x86_feature_lookup ("tsc")->flags & X86_FEATURE_UNMIGRATABLE);
  for (gsize i = 0; i < G_N_ELEMENTS (dynamic); i++)
    {
      const X86Feature *feature = x86_feature_lookup (dynamic[i]);
      assert_true (feature->flags & X86_FEATURE_DYNAMIC);
      assert_null (x86_feature_qemu_property (feature));
    }
  assert_ptr_equal (x86_feature_lookup ("osxsave"), x86_feature_at (cpuid_word (1, 0, X86_REG_ECX), 27));
  assert_ptr_equal (x86_feature_lookup ("ospke"), x86_feature_at (cpuid_word (7, 0, X86_REG_ECX), 4));
  for (gsize i = 0; i < G_N_ELEMENTS (no_auto); i++)
    assert_true (x86_feature_lookup (no_auto[i])->flags & X86_FEATURE_NO_AUTO);
  assert_ptr_equal (x86_feature_lookup_property ("sse4_1"), x86_feature_lookup ("sse4.1"));
  assert_null (x86_feature_lookup_property ("no-such-feature"));
}

/* QEMU's "kvmclock" property drives KVM leaf bits 0 and 3 (and "vmx-invept-single-context"
 * bits 25 and 41 of the EPT/VPID capabilities): the name looks up the first bit, the second
 * bit has a spelling of its own that says whose property sets it. */
static void
test_shared_properties (void **state)
{
  int kvm = cpuid_word (0x40000001, 0, X86_REG_EAX);
  const X86Feature *clock = x86_feature_lookup ("kvmclock");
  const X86Feature *clock2 = x86_feature_at (kvm, 3);
  const X86Feature *invept = x86_feature_lookup ("vmx-invept-single-context");
  const X86Feature *invvpid = x86_feature_lookup ("vmx-invvpid-single-context");
  g_autofree char *clock2_text = x86_feature_describe (clock2);
  g_autofree char *invvpid_text = x86_feature_describe (invvpid);

  assert_int_equal (clock->word, kvm);
  assert_int_equal (clock->bit, 0);
  assert_non_null (clock2);
  assert_string_equal (clock2->name, "kvmclock2");
  assert_ptr_equal (x86_feature_lookup ("kvmclock2"), clock2);
  assert_true (clock2->flags & X86_FEATURE_SECOND_BIT);
  assert_false (clock->flags & X86_FEATURE_SECOND_BIT);
  assert_string_equal (x86_feature_qemu_property (clock2), "kvmclock");
  assert_null (x86_feature_lookup_property ("kvmclock2"));
  assert_ptr_equal (x86_feature_lookup_property ("kvmclock"), clock);
  assert_string_equal (clock2_text, "CPUID.40000001H:EAX.kvmclock [bit 3]");

  assert_int_equal (invept->bit, 25);
  assert_true (invvpid->flags & X86_FEATURE_SECOND_BIT);
  assert_string_equal (x86_feature_qemu_property (invvpid), "vmx-invept-single-context");
  assert_string_equal (invvpid_text, "MSR(48CH).vmx-invept-single-context [bit 41]");
}

static void
assert_bit_text (guint word, guint bit, const char *expected)
{
  g_autofree char *text = x86_feature_bit_describe (word, bit);
  assert_string_equal (text, expected);
}

static void
assert_feature_text (const char *name, const char *expected)
{
  g_autofree char *text = x86_feature_describe (x86_feature_lookup (name));
  assert_string_equal (text, expected);
}

static void
test_describe (void **state)
{
  assert_bit_text (cpuid_word (7, 0, X86_REG_EBX), 22, "CPUID.07H:EBX[bit 22]");
  assert_bit_text (cpuid_word (0x80000001, 0, X86_REG_ECX), 18, "CPUID.80000001H:ECX[bit 18]");
  assert_bit_text (x86_feature_word_find_msr (0x10A), 3, "MSR(10AH)[bit 3]");
  assert_bit_text (cpuid_word (7, 1, X86_REG_EAX), 3, "CPUID.07H_01H:EAX[bit 3]");
  assert_bit_text (cpuid_word (0xD, 0, X86_REG_EAX), 17, "CPUID.0DH:EAX[bit 17]");
  assert_bit_text (cpuid_word (0xD, 1, X86_REG_EAX), 9, "CPUID.0DH_01H:EAX[bit 9]");
  assert_bit_text (cpuid_word (0x1, 0, X86_REG_EDX), 10, "CPUID.01H:EDX[bit 10]");

  /* The warning text of reference §4.3. */
  assert_feature_text ("hle", "CPUID.07H:EBX.hle [bit 4]");
  assert_feature_text ("avx2", "CPUID.07H:EBX.avx2 [bit 5]");
  assert_feature_text ("sse4_2", "CPUID.01H:ECX.sse4.2 [bit 20]");
  assert_feature_text ("skip-l1dfl-vmentry", "MSR(10AH).skip-l1dfl-vmentry [bit 3]");
  assert_feature_text ("its-no", "MSR(10AH).its-no [bit 62]");
  assert_feature_text ("vmx-true-ctls", "MSR(480H).vmx-true-ctls [bit 55]");
  assert_feature_text ("avx-vnni", "CPUID.07H_01H:EAX.avx-vnni [bit 4]");
  assert_feature_text ("svm-lock", "CPUID.8000000AH:EDX.svm-lock [bit 2]");

  assert_string_equal (x86_register_name (X86_REG_EAX), "EAX");
  assert_string_equal (x86_register_name (X86_REG_EDX), "EDX");
}

static gboolean
suggests (const char *name, const char *expected, gboolean first)
{
  g_autoptr (GPtrArray) names = x86_feature_suggest (name, 5);

  for (guint i = 0; i < names->len; i++)
    if (strcmp (g_ptr_array_index (names, i), expected) == 0)
      return !first || i == 0;
  return FALSE;
}

static void
test_suggest (void **state)
{
  g_autoptr (GPtrArray) none = x86_feature_suggest ("qqqqqqqqqqqqqqqq", 5);
  g_autoptr (GPtrArray) one = x86_feature_suggest ("avx3", 1);

  assert_true (suggests ("avx3", "avx2", TRUE));
  assert_true (suggests ("sse4.3", "sse4.2", FALSE));
  assert_true (suggests ("lahflm", "lahf-lm", TRUE));
  assert_true (suggests ("vmx-ept-2m", "vmx-ept-2mb", TRUE));
  assert_true (suggests ("avx521f", "avx512f", TRUE));
  assert_true (suggests ("hypervsior", "hypervisor", TRUE));
  /* Found through an alias, suggested by canonical name. */
  assert_true (suggests ("pclmuldqq", "pclmulqdq", TRUE));
  assert_int_equal (none->len, 0);
  assert_int_equal (one->len, 1);
}

static void
test_non_feature_properties (void **state)
{
  static const char *const properties[] = {
    "check", "enforce", "kvm", "pmu", "migratable", "l3-cache", "full-cpuid-auto-level",
    "host-phys-bits", "fill-mtrr-mask", "cpuid-0xb", "vmware-cpuid-freq", "lmce", "realized",
    "hotplugged", "hotpluggable", "kvm-no-smi-migration", "host-cache-info", "tcg-cpuid",
    "legacy-cache", "start-powered-off", "kvm-pv-enforce-cpuid", "x-force-features",
    "x-intel-pt-auto-level", "hv-relaxed", "hv-passthrough", "hv_vapic",
  };
  guint n;
  const X86Feature *features = x86_features (&n);

  for (gsize i = 0; i < G_N_ELEMENTS (properties); i++)
    {
      if (!x86_is_non_feature_property (properties[i]))
        fail_msg ("\"%s\" is not known as a non-feature property", properties[i]);
      assert_null (x86_feature_lookup (properties[i]));
    }
  for (guint i = 0; i < n; i++)
    {
      assert_false (x86_is_non_feature_property (features[i].name));
      for (const char *const *alias = features[i].aliases; alias != NULL && *alias != NULL; alias++)
        assert_false (x86_is_non_feature_property (*alias));
    }
  assert_false (x86_is_non_feature_property ("hypervisor"));
  assert_false (x86_is_non_feature_property (NULL));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_words_are_valid),
    cmocka_unit_test (test_every_qemu_word_is_present),
    cmocka_unit_test (test_features_are_consistent),
    cmocka_unit_test (test_qemu_spellings),
    cmocka_unit_test (test_libvirt_spellings),
    cmocka_unit_test (test_flags),
    cmocka_unit_test (test_shared_properties),
    cmocka_unit_test (test_describe),
    cmocka_unit_test (test_suggest),
    cmocka_unit_test (test_non_feature_properties),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
