/* tests/fuzz-profile.c — libFuzzer target for host profiles (probe/profile.h), which
 * `--profile FILE|DIR` and `baseline` read from other hosts, by the thousand.
 *
 * Each input is a profile file, read alone as `--profile FILE` reads it, as a document once
 * parsed, and twice through one shelf as a fleet is read (the second time a twin of the
 * first, which borrows its facts): the shelf and the plain reader take or refuse the same
 * files, and a refusal names the file. A profile that is accepted is then asked what the
 * offline answers ask of it: under each accelerator and machine type a session covers,
 * the expansion of its models plain, with migratable off, with feature toggles, and
 * questions it must not answer (a static expansion, a non-feature property); and its
 * recorded conversation is replayed once, as the offline run replays it to the probes.
 * Sessions are read when asked (probe/profile-sessions.h): a malformed part found so must
 * be said, naming the profile. */
#include "fuzz-util.h"
#include "probe/profile-answer.h"
#include "probe/profile.h"
#include "probe/qemu-info.h"
#include "qmp/json-skim.h"
#include "qmp/launch.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Each session holds a hundred models or more; a handful of each session's, and the two
 * every probe asks, are enough to reach every kind of stored expansion. */
#define MODELS_ASKED 6

static const char *const accels[] = { "kvm", "tcg" };
static const char *const machines[] = { "none", "pc", "q35" };

/* Toggles as `check Haswell,+avx2,-hle` and `vmx=on` send them; "level" is no feature. */
static const char *const answered_props[] = {
  "{\"migratable\": false}",
  "{\"avx2\": true, \"hle\": false}",
  "{\"vmx\": true, \"x2apic\": false, \"pcid\": true}",
};
static const char *const unanswered_props[] = {
  "{\"level\": 13}",
};

static char *input_path;
static char *twin_path;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  input_path = g_build_filename (fuzz_private_dir ("fuzz-profile"), "profile.json", NULL);
  twin_path = g_build_filename (fuzz_private_dir ("fuzz-profile"), "twin.json", NULL);
  return 0;
}

static json_object *
expansion_arguments (const char *type, const char *model, const char *props)
{
  json_object *arguments = json_object_new_object ();
  json_object *asked = json_object_new_object ();

  json_object_object_add (asked, "name", json_object_new_string (model));
  if (props != NULL)
    json_object_object_add (asked, "props", json_tokener_parse (props));
  json_object_object_add (arguments, "type", json_object_new_string (type));
  json_object_object_add (arguments, "model", asked);
  return arguments;
}

/* An answer is QEMU's reply shape, {"return": {"model": {"name": ...}}}; NULL: none. */
static void
expect_reply_or_none (json_object *reply)
{
  json_object *value = NULL;
  json_object *model = NULL;

  if (reply == NULL)
    return;
  if (!json_object_object_get_ex (reply, "return", &value)
      || !json_object_is_type (value, json_type_object)
      || !json_object_object_get_ex (value, "model", &model)
      || !json_object_is_type (model, json_type_object))
    {
      fprintf (stderr, "an expansion answered in no reply's shape: %s\n",
               json_object_to_json_string (reply));
      abort ();
    }
  json_object_to_json_string (reply);
}

/* A stored reply also goes as text (probe_facts_expand_text()): strict JSON, equal to
 * the reply built as objects, and read by the probe's text reader as the objects are. */
static void
same_as_text (ProbeFacts *facts, json_object *arguments, json_object *reply)
{
  g_autofree char *text = probe_facts_expand_text (facts, arguments);
  json_object *parsed, *value = NULL;
  X86FeatureSet by_objects, by_text;
  const char *problem = NULL;

  if (text == NULL)
    return;
  if (reply == NULL || !qmp_json_valid (text, 0, strlen (text), &problem))
    {
      fprintf (stderr, "a reply as text %s: %s\n",
               reply == NULL ? "where there is none as objects" : problem, text);
      abort ();
    }
  parsed = json_tokener_parse (text);
  if (!json_object_equal (parsed, reply))
    {
      fprintf (stderr, "a reply as text differs: %s\nas objects: %s\n", text,
               json_object_to_json_string (reply));
      abort ();
    }
  json_object_put (parsed);
  json_object_object_get_ex (reply, "return", &value);
  {
    g_autofree char *return_text = g_strdup (json_object_to_json_string_ext (value,
                                                                             JSON_C_TO_STRING_PLAIN));

    if (probe_features_from_expansion (value, &by_objects, NULL, NULL)
        != probe_features_from_expansion_text (return_text, &by_text, NULL, NULL, NULL)
        || !x86_feature_set_equal (&by_objects, &by_text))
      {
        fprintf (stderr, "the readers disagree on: %s\n", return_text);
        abort ();
      }
  }
}

static void
ask (ProbeFacts *facts, const char *type, const char *model, const char *props,
     gboolean may_answer)
{
  json_object *arguments = expansion_arguments (type, model, props);
  json_object *reply = probe_facts_expand (facts, arguments);

  if (reply != NULL && !may_answer)
    {
      fprintf (stderr, "answered what a profile cannot say: %s\n",
               json_object_to_json_string (arguments));
      abort ();
    }
  expect_reply_or_none (reply);
  same_as_text (facts, arguments, reply);
  json_object_put (reply);
  json_object_put (arguments);
}

static void
ask_model (ProbeFacts *facts, const char *model)
{
  ask (facts, "full", model, NULL, TRUE);
  ask (facts, "static", model, NULL, FALSE);
  for (guint i = 0; i < G_N_ELEMENTS (answered_props); i++)
    ask (facts, "full", model, answered_props[i], TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (unanswered_props); i++)
    ask (facts, "full", model, unanswered_props[i], FALSE);
}

static void
ask_sessions (const ProbeProfile *profile)
{
  for (guint a = 0; a < G_N_ELEMENTS (accels); a++)
    for (guint m = 0; m < G_N_ELEMENTS (machines); m++)
      {
        ProbeFacts *facts = probe_profile_facts (profile, accels[a], machines[m], NULL);
        g_autoptr (GPtrArray) models = NULL;

        if (facts == NULL)
          continue;
        models = probe_facts_models (facts);
        for (guint i = 0; i < models->len && i < MODELS_ASKED; i++)
          {
            const char *name = models->pdata[i];

            if (name == NULL)
              abort ();
            ask_model (facts, name);
          }
        ask_model (facts, "host");
        ask_model (facts, "max");
        ask_model (facts, "no-such-model");
      }
}

/* The first recorded session, replayed as an offline run opens it, asked for the model
 * list. A question the profile cannot answer is an error, never a crash. */
static void
replay_first_session (const ProbeProfile *profile)
{
  g_autoptr (QmpSource) source = probe_profile_source (profile, "fuzz profile");
  g_autoptr (GError) error = NULL;
  gint64 deadline_us = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  for (guint a = 0; a < G_N_ELEMENTS (accels); a++)
    {
      QemuLaunchOptions launch = { .accel = accels[a], .machine = "none" };
      g_autoptr (QmpConnection) connection = NULL;
      json_object *reply;

      if (probe_profile_facts (profile, accels[a], "none", NULL) == NULL)
        continue;
      connection = qmp_source_open (source, &launch, deadline_us, &error);
      if (connection == NULL)
        {
          probe_profile_explain_error (profile, error);
          g_clear_error (&error);
          return;
        }
      reply = qmp_session_execute (qmp_connection_session (connection), "query-cpu-definitions",
                                   NULL, deadline_us, &error);
      json_object_put (reply);
      g_clear_error (&error);
      return;
    }
}

static void
use (ProbeProfile *profile, GError *error, const char *name)
{
  if (profile == NULL)
    {
      fuzz_expect_refusal (error, name);
      return;
    }
  if (profile->host == NULL || profile->cpuid == NULL)
    abort ();
  ask_sessions (profile);
  replay_first_session (profile);
  /* The CPUID too is read when first asked; a malformed one is said as a session is. */
  probe_profile_cpuid (profile);
  /* Sessions are read when asked: a malformed part found so is said, naming the profile. */
  {
    g_autoptr (GError) malformed = probe_profile_malformed (profile);

    if (malformed != NULL)
      fuzz_expect_refusal (malformed, profile->path);
  }
}

/* The input and its twin through one shelf: each taken exactly when the plain reader
 * took the input (@loaded), with as many sessions. */
static void
read_as_fleet (const uint8_t *data, size_t size, const ProbeProfile *loaded)
{
  g_autoptr (ProbeProfileShelf) shelf = probe_profile_shelf_new ();
  const char *const paths[] = { input_path, twin_path };

  fuzz_write_file (twin_path, data, size);
  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ProbeProfile) shelved = probe_profile_shelf_load (shelf, paths[i], &error);

      if ((shelved == NULL) != (loaded == NULL))
        {
          fprintf (stderr, "%s: the shelf %s what the plain reader %s: %s\n", paths[i],
                   shelved != NULL ? "took" : "refused", loaded != NULL ? "took" : "refused",
                   error != NULL ? error->message : "");
          abort ();
        }
      if (shelved == NULL)
        fuzz_expect_refusal (error, paths[i]);
      else if (qmp_replies_n_segments (shelved->replies) != qmp_replies_n_segments (loaded->replies)
               || g_strcmp0 (shelved->host, loaded->host) != 0)
        abort ();
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) load_error = NULL;
  g_autoptr (GError) parse_error = NULL;
  g_autoptr (ProbeProfile) loaded = NULL;
  g_autoptr (ProbeProfile) parsed = NULL;
  g_autofree char *text = g_strndup ((const char *) data, size);
  json_object *root;

  fuzz_write_file (input_path, data, size);
  loaded = probe_profile_load (input_path, &load_error);
  use (loaded, load_error, input_path);
  read_as_fleet (data, size, loaded);

  root = json_tokener_parse (text);
  if (root == NULL)
    return 0;
  parsed = probe_profile_from_json (root, "the fuzzed profile", &parse_error);
  json_object_put (root);
  /* The file reader also refuses what follows the document, which this parse ignores:
   * a document refused here must name itself, one accepted here alone is asked too. */
  if (parsed == NULL)
    fuzz_expect_refusal (parse_error, "the fuzzed profile");
  else if (loaded == NULL)
    use (parsed, NULL, NULL);
  return 0;
}
