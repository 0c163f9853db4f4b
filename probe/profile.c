/* probe/profile.c — reads, validates and builds host profiles (probe/profile.h). */
#include "probe/profile.h"

#include <string.h>
#include "probe/profile-answer.h"
#include "probe/profile-skim.h"
#include "probe/qemu-info.h"

G_DEFINE_QUARK (probe-profile-error-quark, probe_profile_error)

void
probe_profile_free (ProbeProfile *profile)
{
  if (profile == NULL)
    return;
  g_free (profile->path);
  g_free (profile->host);
  g_free (profile->made);
  g_free (profile->qemu_binary);
  g_free (profile->qemu_version);
  g_free (profile->default_accel);
  /* What an alike profile borrows belongs to its shelf. */
  if (profile->alike != NULL)
    {
      g_free (profile);
      return;
    }
  x86_cpuid_dump_free (profile->cpuid);
  if (profile->replies != NULL)
    qmp_replies_unref (profile->replies);
  if (profile->facts != NULL)
    g_ptr_array_unref (profile->facts);
  g_free (profile);
}

/* ---- Reading ---- */

static gboolean G_GNUC_PRINTF (3, 4)
invalid (GError **error, const char *path, const char *format, ...)
{
  va_list args;
  g_autofree char *problem = NULL;

  va_start (args, format);
  problem = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID, "%s: %s", path, problem);
  return FALSE;
}

/* The string member @name of @object, or NULL (with @error) when absent or not a string;
 * a JSON null is accepted when @nullable. */
static gboolean
string_member (json_object *object, const char *name, gboolean nullable, const char *path,
               const char *where, const char **value, GError **error)
{
  json_object *member = NULL;

  *value = NULL;
  if (!json_object_object_get_ex (object, name, &member))
    return invalid (error, path, "%s has no member \"%s\"", where, name);
  if (member == NULL && nullable)
    return TRUE;
  if (!json_object_is_type (member, json_type_string))
    return invalid (error, path, "%s.%s is not a string", where, name);
  *value = json_object_get_string (member);
  return TRUE;
}

static gboolean
object_member (json_object *object, const char *name, const char *path, const char *where,
               json_type type, json_object **value, GError **error)
{
  if (!json_object_object_get_ex (object, name, value) || !json_object_is_type (*value, type))
    return invalid (error, path, "%s.%s is missing or not %s", where, name,
                    type == json_type_array ? "a list" : "an object");
  return TRUE;
}

static gboolean
check_format (json_object *root, const char *path, GError **error)
{
  json_object *format = NULL, *version = NULL;

  if (!json_object_is_type (root, json_type_object))
    return invalid (error, path, "not a JSON object");
  if (!json_object_object_get_ex (root, "format", &format)
      || !json_object_is_type (format, json_type_string)
      || strcmp (json_object_get_string (format), PROBE_PROFILE_FORMAT) != 0)
    return invalid (error, path, "not a host profile (\"format\" is not \"%s\")",
                    PROBE_PROFILE_FORMAT);
  if (!json_object_object_get_ex (root, "version", &version)
      || !json_object_is_type (version, json_type_int))
    return invalid (error, path, "\"version\" is missing or not an integer");
  /* Version 1 kept every expansion whole, and no facts to answer feature toggles. */
  if (json_object_get_int64 (version) == 1)
    return invalid (error, path, "profile version 1 is no longer read (it cannot answer "
                    "feature toggles): make the profile again with `vcpuprobe profile`");
  if (json_object_get_int64 (version) != PROBE_PROFILE_VERSION)
    return invalid (error, path, "profile version %" G_GINT64_FORMAT " is not supported "
                    "(this vcpuprobe reads version %d)", json_object_get_int64 (version),
                    PROBE_PROFILE_VERSION);
  return TRUE;
}

/* Session @index of @sessions, or the earlier one it answers as ("same-as"). NULL with
 * @error when that names no earlier session. Borrowed. */
static json_object *
answering_session (json_object *sessions, guint index, const char *path, GError **error)
{
  json_object *session = json_object_array_get_idx (sessions, index);
  json_object *same_as = NULL;
  gint64 earlier;

  if (!json_object_object_get_ex (session, "same-as", &same_as))
    return session;
  earlier = json_object_is_type (same_as, json_type_int) ? json_object_get_int64 (same_as) : -1;
  if (earlier < 0 || earlier >= index
      || json_object_object_get_ex (json_object_array_get_idx (sessions, (guint) earlier),
                                    "same-as", NULL))
    {
      invalid (error, path, "sessions[%u].same-as names no earlier session", index);
      return NULL;
    }
  return json_object_array_get_idx (sessions, (guint) earlier);
}

/* The recording the sessions hold: their messages in one list, their launches as the
 * recorder's metadata lists them. */
static QmpReplies *
sessions_to_replies (json_object *sessions, const char *path, GError **error)
{
  g_autoptr (ProbeJson) messages = json_object_new_array ();
  g_autoptr (ProbeJson) metadata = json_object_new_object ();
  json_object *launches = json_object_new_array ();
  g_autoptr (GError) replies_error = NULL;
  QmpReplies *replies;

  json_object_object_add (metadata, "sessions", launches);
  for (guint i = 0; i < json_object_array_length (sessions); i++)
    {
      json_object *session = json_object_array_get_idx (sessions, i);
      json_object *launch, *session_messages;
      g_autofree char *where = g_strdup_printf ("sessions[%u]", i);

      if (!json_object_is_type (session, json_type_object))
        {
          invalid (error, path, "%s is not an object", where);
          return NULL;
        }
      if (!object_member (session, "launch", path, where, json_type_object, &launch, error))
        return NULL;
      session = answering_session (sessions, i, path, error);
      if (session == NULL
          || !object_member (session, "messages", path, where, json_type_array,
                             &session_messages, error))
        return NULL;
      json_object_array_add (launches, json_object_get (launch));
      for (guint m = 0; m < json_object_array_length (session_messages); m++)
        {
          json_object *message = json_object_array_get_idx (session_messages, m);
          json_object *copy = NULL;

          /* A session answering as an earlier one gets its own copy: replay peers run in
           * threads, and json-c's reference counts are not made for sharing across them. */
          if (session == json_object_array_get_idx (sessions, i))
            copy = json_object_get (message);
          else if (json_object_deep_copy (message, &copy, NULL) != 0)
            {
              invalid (error, path, "%s: cannot copy its messages", where);
              return NULL;
            }
          json_object_array_add (messages, copy);
        }
    }
  replies = qmp_replies_new_from_messages (path, messages, metadata, &replies_error);
  if (replies == NULL)
    {
      /* The recording's own words ("PATH:N: ...") already name the profile. */
      g_set_error_literal (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID,
                           replies_error->message);
      return NULL;
    }
  if (qmp_replies_n_segments (replies) != json_object_array_length (sessions))
    {
      qmp_replies_unref (replies);
      invalid (error, path, "every session must start with its QMP greeting");
      return NULL;
    }
  return replies;
}

/* The replay's answer to what its recording lacks: an expansion, from the session's facts. */
static json_object *
answer_from_facts (guint segment, const char *command, json_object *arguments,
                   gpointer user_data)
{
  ProbeProfile *profile = user_data;

  if (strcmp (command, "query-cpu-model-expansion") != 0 || segment >= profile->facts->len)
    return NULL;
  return probe_facts_expand (g_ptr_array_index (profile->facts, segment), arguments);
}

ProbeProfile *
probe_profile_from_json (json_object *root, const char *path, GError **error)
{
  g_autoptr (ProbeProfile) profile = g_new0 (ProbeProfile, 1);
  g_autoptr (GError) cpuid_error = NULL;
  json_object *host, *qemu, *cpuid, *sessions;
  const char *name, *made, *binary, *version, *default_accel;

  if (!check_format (root, path, error)
      || !object_member (root, "host", path, "the profile", json_type_object, &host, error)
      || !string_member (host, "name", FALSE, path, "host", &name, error)
      || !string_member (root, "made", FALSE, path, "the profile", &made, error)
      || !object_member (root, "qemu", path, "the profile", json_type_object, &qemu, error)
      || !string_member (qemu, "binary", FALSE, path, "qemu", &binary, error)
      || !string_member (qemu, "version", FALSE, path, "qemu", &version, error)
      || !string_member (root, "default_accel", FALSE, path, "the profile", &default_accel, error)
      || !object_member (root, "cpuid", path, "the profile", json_type_object, &cpuid, error)
      || !object_member (root, "sessions", path, "the profile", json_type_array, &sessions,
                         error))
    return NULL;

  profile->path = g_strdup (path);
  profile->host = g_strdup (name);
  profile->made = g_strdup (made);
  profile->qemu_binary = g_strdup (binary);
  profile->qemu_version = g_strdup (version);
  profile->default_accel = g_strdup (default_accel);
  {
    /* The dump's messages name their input first: "PATH: cpuid: kvm.supported: ...". */
    g_autofree char *where = g_strdup_printf ("%s: cpuid", path);

    profile->cpuid = x86_cpuid_dump_from_json (cpuid, where, &cpuid_error);
    if (profile->cpuid == NULL)
      {
        g_set_error_literal (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID,
                             cpuid_error->message);
        return NULL;
      }
    x86_cpuid_dump_set_origin (profile->cpuid, path);
  }
  profile->replies = sessions_to_replies (sessions, path, error);
  if (profile->replies == NULL)
    return NULL;
  profile->facts = g_ptr_array_new_with_free_func ((GDestroyNotify) probe_facts_free);
  for (guint i = 0; i < json_object_array_length (sessions); i++)
    {
      g_autofree char *where = g_strdup_printf ("%s: sessions[%u]", path, i);
      g_autoptr (GError) facts_error = NULL;
      ProbeFacts *facts = probe_facts_new (answering_session (sessions, i, path, NULL),
                                           json_object_object_get (root, "dependents"), where,
                                           &facts_error);

      if (facts == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&facts_error));
          return NULL;
        }
      g_ptr_array_add (profile->facts, facts);
    }
  /* Expansions are not recorded exchanges: the facts answer them. */
  qmp_replies_set_answer_func (profile->replies, answer_from_facts, profile);
  return g_steal_pointer (&profile);
}

/* @text (@length bytes) as a profile, named @path in messages. */
static ProbeProfile *
profile_parse (const char *text, gsize length, const char *path, GError **error)
{
  json_tokener *tokener;
  json_object *root;
  enum json_tokener_error parse_error;
  ProbeProfile *profile;

  tokener = json_tokener_new ();
  root = json_tokener_parse_ex (tokener, text, (int) length);
  parse_error = json_tokener_get_error (tokener);
  if (root == NULL || parse_error != json_tokener_success
      || ((size_t) json_tokener_get_parse_end (tokener) < length
          && strspn (text + json_tokener_get_parse_end (tokener), " \t\r\n")
             != length - json_tokener_get_parse_end (tokener)))
    {
      invalid (error, path, "not JSON (%s)",
               parse_error != json_tokener_success ? json_tokener_error_desc (parse_error)
                                                   : "text after the document");
      json_tokener_free (tokener);
      json_object_put (root);
      return NULL;
    }
  json_tokener_free (tokener);
  profile = probe_profile_from_json (root, path, error);
  json_object_put (root);
  return profile;
}

ProbeProfile *
probe_profile_load (const char *path, GError **error)
{
  g_autofree char *text = NULL;
  gsize length;

  if (!g_file_get_contents (path, &text, &length, error))
    return NULL;
  return profile_parse (text, length, path, error);
}

/* ---- Many alike: the shelf ---- */

/* What answers read of a profile's text: its "format" and "version" and everything from
 * the first member after the header on (the writer puts "host", "made" and "vcpuprobe"
 * first). Taking the rest of the file whole rather than member by member costs nothing in
 * exactness (more text compared can only find fewer twins) and spares skimming the
 * sessions, which are nine tenths of the file. */
typedef struct {
  GString *header;         /* "format" and "version" as written */
  const char *rest;        /* the text from the first member past the header */
  gsize rest_length;
  char *owned;             /* the file's text, for a key the shelf keeps */
} AnswersKey;

static void
answers_key_free (gpointer data)
{
  AnswersKey *key = data;

  g_string_free (key->header, TRUE);
  g_free (key->owned);
  g_free (key);
}

struct ProbeProfileShelf {
  GHashTable *by_answers;   /* AnswersKey → ProbeProfile (the first read; owned) */
};

/* The members no answer reads: who, when, with which vcpuprobe. */
static const char *const unanswered_members[] = { "host", "made", "vcpuprobe" };
/* Small members an answer reads that may come before or among those. */
static const char *const header_members[] = { "format", "version" };

static gboolean
member_is (const ProbeJsonMember *member, const char *const *names, guint n_names)
{
  for (guint i = 0; i < n_names; i++)
    if (member->name_length == strlen (names[i])
        && memcmp (member->name, names[i], member->name_length) == 0)
      return TRUE;
  return FALSE;
}

static guint
answers_hash (gconstpointer data)
{
  const AnswersKey *key = data;
  guint hash = g_str_hash (key->header->str) ^ (guint) key->rest_length;

  /* The lengths tell most profiles apart; a few bytes spread over the text do the rest,
   * and equality compares it whole. */
  for (gsize i = 0; i < 64 && key->rest_length > 0; i++)
    hash = hash * 31 + (guchar) key->rest[(key->rest_length - 1) * i / 63];
  return hash;
}

static gboolean
answers_equal (gconstpointer a, gconstpointer b)
{
  const AnswersKey *first = a, *second = b;

  return g_string_equal (first->header, second->header)
         && first->rest_length == second->rest_length
         && memcmp (first->rest, second->rest, first->rest_length) == 0;
}

ProbeProfileShelf *
probe_profile_shelf_new (void)
{
  ProbeProfileShelf *shelf = g_new0 (ProbeProfileShelf, 1);

  shelf->by_answers = g_hash_table_new_full (answers_hash, answers_equal, answers_key_free,
                                             (GDestroyNotify) probe_profile_free);
  return shelf;
}

void
probe_profile_shelf_release (ProbeProfileShelf *shelf, const ProbeProfile *alike)
{
  /* The shelf owns @alike; the const only keeps borrowers from changing it. */
  ProbeProfile *first = (ProbeProfile *) alike;

  (void) shelf;
  g_clear_pointer (&first->cpuid, x86_cpuid_dump_free);
  g_clear_pointer (&first->replies, qmp_replies_unref);
  g_clear_pointer (&first->facts, g_ptr_array_unref);
}

void
probe_profile_shelf_free (ProbeProfileShelf *shelf)
{
  if (shelf == NULL)
    return;
  g_hash_table_unref (shelf->by_answers);
  g_free (shelf);
}

/* The key of @text, filling @members with the header's members (the unread ones among
 * them); FALSE when the text does not start as an object the skim can follow (the careful
 * parse then says what is wrong). */
static gboolean
answers_key (const char *text, gsize length, AnswersKey *key, GArray *members)
{
  gsize at = 0;

  while (at < length && g_ascii_isspace (text[at]))
    at++;
  if (at >= length || text[at] != '{')
    return FALSE;
  key->header = g_string_new (NULL);
  for (at++;;)
    {
      ProbeJsonMember member = { 0 };
      gsize name_start;

      while (at < length && g_ascii_isspace (text[at]))
        at++;
      name_start = at;
      if (!probe_json_skim_member (text, length, &at, &member))
        break;
      if (member_is (&member, header_members, G_N_ELEMENTS (header_members)))
        {
          g_string_append_len (key->header, member.name, (gssize) member.name_length);
          g_string_append_c (key->header, '=');
          g_string_append_len (key->header, text + member.start,
                               (gssize) (member.end - member.start));
          g_string_append_c (key->header, ';');
        }
      else if (member_is (&member, unanswered_members, G_N_ELEMENTS (unanswered_members)))
        g_array_append_val (members, member);
      else
        {
          key->rest = text + name_start;
          key->rest_length = length - name_start;
          return TRUE;
        }
    }
  g_string_free (key->header, TRUE);
  key->header = NULL;
  return FALSE;
}

/* The JSON value of @member in @text, parsed on its own (caller owns it), or NULL. */
static json_object *
parse_member (const char *text, const ProbeJsonMember *member)
{
  g_autofree char *value = member != NULL ? g_strndup (text + member->start,
                                                       member->end - member->start)
                                          : NULL;

  return value != NULL ? json_tokener_parse (value) : NULL;
}

/* A profile of its own for @path whose answers are @alike's: its name and date read from
 * @text, the rest borrowed. */
static ProbeProfile *
alike_profile (const ProbeProfile *alike, const char *text, gsize length, GArray *members,
               const char *path, GError **error)
{
  g_autoptr (ProbeJson) host = parse_member (text, probe_json_skim_find (members, "host"));
  g_autoptr (ProbeJson) made = parse_member (text, probe_json_skim_find (members, "made"));
  const char *name = NULL;
  ProbeProfile *profile;

  /* Whatever is wrong with them, the careful parse names it. */
  if (!json_object_is_type (host, json_type_object)
      || !string_member (host, "name", FALSE, path, "host", &name, NULL)
      || !json_object_is_type (made, json_type_string))
    return profile_parse (text, length, path, error);
  profile = g_new0 (ProbeProfile, 1);
  profile->path = g_strdup (path);
  profile->host = g_strdup (name);
  profile->made = g_strdup (json_object_get_string (made));
  profile->qemu_binary = g_strdup (alike->qemu_binary);
  profile->qemu_version = g_strdup (alike->qemu_version);
  profile->default_accel = g_strdup (alike->default_accel);
  profile->cpuid = alike->cpuid;
  profile->replies = alike->replies;
  profile->facts = alike->facts;
  profile->alike = alike;
  return profile;
}

ProbeProfile *
probe_profile_shelf_load (ProbeProfileShelf *shelf, const char *path, GError **error)
{
  g_autoptr (GArray) members = g_array_new (FALSE, FALSE, sizeof (ProbeJsonMember));
  /* Mapped, not read: a twin's text is only compared, never copied. */
  g_autoptr (GMappedFile) mapped = g_mapped_file_new (path, FALSE, error);
  AnswersKey key = { 0 };
  const char *text;
  gsize length;
  ProbeProfile *first;

  if (mapped == NULL)
    return NULL;
  text = g_mapped_file_get_contents (mapped);
  length = g_mapped_file_get_length (mapped);
  if (text == NULL)
    text = "";
  if (!answers_key (text, length, &key, members))
    return profile_parse (text, length, path, error);
  first = g_hash_table_lookup (shelf->by_answers, &key);
  if (first == NULL)
    {
      AnswersKey *kept;

      first = profile_parse (text, length, path, error);
      if (first == NULL)
        {
          g_string_free (key.header, TRUE);
          return NULL;
        }
      kept = g_new (AnswersKey, 1);
      *kept = key;
      kept->owned = g_memdup2 (text, length);
      kept->rest = kept->owned + (key.rest - text);
      g_hash_table_insert (shelf->by_answers, kept, first);
    }
  else
    g_string_free (key.header, TRUE);
  /* The caller's copy borrows from the shelf's, like every later twin. */
  return alike_profile (first, text, length, members, path, error);
}

QmpSource *
probe_profile_source (const ProbeProfile *profile, const char *description)
{
  QmpSource *source = qmp_source_new_replay_replies (profile->replies, description,
                                                     QMP_REPLAY_ARGUMENTS);

  qmp_source_set_strict (source, TRUE);
  return source;
}

void
probe_profile_explain_error (const ProbeProfile *profile, GError *error)
{
  g_autofree char *message = NULL;

  if (error == NULL
      || !(g_error_matches (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_REPLAY)
           || g_error_matches (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_NO_SEGMENT)))
    return;
  message = g_strdup_printf ("%s: the profile of %s cannot answer this exactly: %s",
                             profile->path, profile->host, error->message);
  g_free (error->message);
  error->message = g_steal_pointer (&message);
  error->domain = PROBE_PROFILE_ERROR;
  error->code = PROBE_PROFILE_ERROR_UNANSWERED;
}

struct ProbeFacts *
probe_profile_facts (const ProbeProfile *profile, const char *accel, const char *machine)
{
  for (guint i = 0; i < qmp_replies_n_segments (profile->replies) && i < profile->facts->len; i++)
    {
      json_object *launch = qmp_replies_segment_launch (profile->replies, i);
      json_object *launch_accel = NULL, *launch_machine = NULL;

      if (launch != NULL && json_object_object_get_ex (launch, "accel", &launch_accel)
          && json_object_object_get_ex (launch, "machine", &launch_machine)
          && g_strcmp0 (json_object_get_string (launch_accel), accel) == 0
          && g_strcmp0 (json_object_get_string (launch_machine), machine) == 0)
        return g_ptr_array_index (profile->facts, i);
    }
  return NULL;
}
