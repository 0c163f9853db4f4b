/* probe/profile.c — reads, validates and builds host profiles (probe/profile.h). */
#include "probe/profile.h"

#include <string.h>
#include "probe/profile-answer.h"
#include "probe/profile-file.h"
#include "probe/profile-sessions.h"
#include "qmp/json-skim.h"
#include "probe/qemu-info.h"

G_DEFINE_QUARK (probe-profile-error-quark, probe_profile_error)

/* The host's CPUID, kept as text until a question needs it. */
struct ProbeProfileCpuid {
  GMutex lock;
  GBytes *text;
  gsize start, end;          /* the "cpuid" member's value in @text */
  char *path;
  gboolean read;             /* into @dump, or found malformed: @error */
  X86CpuidDump *dump;
  GError *error;
};

static void
cpuid_free (struct ProbeProfileCpuid *cpuid)
{
  if (cpuid == NULL)
    return;
  g_bytes_unref (cpuid->text);
  g_free (cpuid->path);
  x86_cpuid_dump_free (cpuid->dump);
  g_clear_error (&cpuid->error);
  g_mutex_clear (&cpuid->lock);
  g_free (cpuid);
}

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
  cpuid_free (profile->cpuid);
  if (profile->replies != NULL)
    qmp_replies_unref (profile->replies);
  probe_profile_sessions_unref (profile->sessions);
  g_free (profile);
}

/* ---- Reading ---- */

/* The readers' word for refusing a profile, short. */
#define invalid probe_profile_set_invalid

gboolean
probe_profile_set_invalid (GError **error, const char *path, const char *format, ...)
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

/* "dependents" (may be absent or null: not measured) must map features to lists of
 * features: the facts answer toggles with it. */
static gboolean
check_dependents (json_object *dependents, const char *path, GError **error)
{
  if (dependents == NULL)
    return TRUE;
  if (!json_object_is_type (dependents, json_type_object))
    return invalid (error, path, "\"dependents\" is not an object");
  {
    json_object_object_foreach (dependents, feature, cleared)
      {
        gboolean names = json_object_is_type (cleared, json_type_array);

        for (guint i = 0; names && i < json_object_array_length (cleared); i++)
          names = json_object_is_type (json_object_array_get_idx (cleared, i),
                                       json_type_string);
        if (!names)
          return invalid (error, path, "dependents.%s is not a list of features", feature);
      }
  }
  return TRUE;
}

/* The replay's answer to what its recording lacks: an expansion, from the session's facts
 * (read now if no question read them before). */
static json_object *
answer_from_facts (guint segment, const char *command, json_object *arguments,
                   gpointer user_data)
{
  ProbeProfileSessions *sessions = user_data;
  ProbeFacts *facts;

  if (strcmp (command, "query-cpu-model-expansion") != 0
      || segment >= probe_profile_sessions_count (sessions))
    return NULL;
  facts = probe_profile_sessions_facts (sessions, segment, NULL);
  if (facts == NULL)
    return NULL;
  /* A stored reply goes as text, which a probe reads without building it. */
  {
    g_autofree char *text = probe_facts_expand_text (facts, arguments);

    if (text != NULL)
      {
        json_object *reply = json_object_new_object ();

        json_object_object_add (reply, QMP_REPLY_TEXT_MEMBER, json_object_new_string (text));
        return reply;
      }
  }
  return probe_facts_expand (facts, arguments);
}

/* The document's members but "sessions", each parsed on its own, and its sessions located
 * (probe/profile-sessions.h) into *@sessions (NULL when it has none): one pass over the
 * text. An object "cpuid" is only located, into *@cpuid, and stands as an empty object in
 * the document: most answers never read it. NULL with @error when a session is malformed,
 * NULL without when the text is not an object the skim can follow (qmp/json-skim.h). */
static json_object *
skim_document (GBytes *text_bytes, const char *path, ProbeProfileSessions **sessions,
               QmpJsonMember *cpuid, GError **error)
{
  gsize length;
  const char *text = g_bytes_get_data (text_bytes, &length);
  g_autoptr (ProbeJson) root = json_object_new_object ();
  gsize at = qmp_json_skim_space (text, length, 0);

  *sessions = NULL;
  if (at >= length || text[at] != '{')
    return NULL;
  at = qmp_json_skim_space (text, length, at + 1);
  while (at >= length || text[at] != '}')
    {
      QmpJsonMember member = { 0 };
      g_autofree char *name = NULL;
      const char *problem;
      json_object *value;

      if (!qmp_json_skim_name (text, length, at, &member))
        return NULL;
      name = g_strndup (member.name, member.name_length);
      if (strcmp (name, "sessions") == 0)
        {
          /* Nine tenths of the text: followed once, by the reader that locates them. */
          g_clear_pointer (sessions, probe_profile_sessions_unref);
          *sessions = probe_profile_sessions_read (text_bytes, member.start, &member.end, path,
                                                   error);
          if (*sessions == NULL)
            return NULL;
          at = qmp_json_skim_next (text, length, member.end);
          continue;
        }
      if (!qmp_json_skim_member (text, length, &at, &member))
        return NULL;
      if (strcmp (name, "cpuid") == 0 && text[member.start] == '{')
        {
          *cpuid = member;
          json_object_object_add (root, name, json_object_new_object ());
          continue;
        }
      value = qmp_json_skim_parse (text, member.start, member.end, &problem);
      if (problem != NULL)
        return NULL;
      json_object_object_add (root, name, value);
    }
  if (qmp_json_skim_space (text, length, at + 1) != length)
    return NULL;
  return g_steal_pointer (&root);
}

/* @text parsed whole by json-c (caller owns it), or NULL with why in *@problem when it is
 * not one JSON document. */
static json_object *
json_parse_whole (const char *text, gsize length, const char **problem)
{
  json_tokener *tokener = json_tokener_new ();
  json_object *root = json_tokener_parse_ex (tokener, text, (int) length);
  enum json_tokener_error parse_error = json_tokener_get_error (tokener);
  gsize end = json_tokener_get_parse_end (tokener);

  *problem = NULL;
  if (parse_error != json_tokener_success)
    *problem = json_tokener_error_desc (parse_error);
  else if (root == NULL)
    *problem = "nothing but null";
  else if (end < length && strspn (text + end, " \t\r\n") != length - end)
    *problem = "text after the document";
  json_tokener_free (tokener);
  if (*problem != NULL)
    g_clear_pointer (&root, json_object_put);
  return root;
}

/* Why @text is refused, said the way json-c says it: the whole document parsed. */
static ProbeProfile *
refuse_text (const char *text, gsize length, const char *path, GError **error)
{
  const char *problem;
  g_autoptr (ProbeJson) root = json_parse_whole (text, length, &problem);

  if (root == NULL)
    invalid (error, path, "not JSON (%s)", problem);
  else if (check_format (root, path, error))
    invalid (error, path, "not JSON the profile reader can follow");
  return NULL;
}

/* @text as a profile, named @path in messages; @text is kept for what is read later. */
static ProbeProfile *
profile_parse (GBytes *text_bytes, const char *path, GError **error)
{
  gsize length;
  const char *text = g_bytes_get_data (text_bytes, &length);
  g_autoptr (ProbeProfile) profile = NULL;
  g_autoptr (ProbeJson) root = NULL;
  g_autoptr (ProbeProfileSessions) sessions = NULL;
  QmpJsonMember cpuid_member = { 0 };
  g_autoptr (GError) replies_error = NULL;
  g_autoptr (GError) sessions_error = NULL;
  g_autofree guint *answering = NULL;
  json_object *host, *qemu, *cpuid;
  const char *name, *made, *binary, *version, *default_accel;

  if (text == NULL)
    text = "";
  root = skim_document (text_bytes, path, &sessions, &cpuid_member, &sessions_error);
  /* A malformed session is said after what is wrong with the header, if anything is:
   * the header is then read from the whole document (errors alone take this way). */
  if (root == NULL && sessions_error != NULL)
    {
      const char *problem;

      root = json_parse_whole (text, length, &problem);
    }
  /* What is wrong with text that is not JSON, json-c says best. */
  if (root == NULL)
    return refuse_text (text, length, path, error);
  if (!check_format (root, path, error)
      || !object_member (root, "host", path, "the profile", json_type_object, &host, error)
      || !string_member (host, "name", FALSE, path, "host", &name, error)
      || !string_member (root, "made", FALSE, path, "the profile", &made, error)
      || !object_member (root, "qemu", path, "the profile", json_type_object, &qemu, error)
      || !string_member (qemu, "binary", FALSE, path, "qemu", &binary, error)
      || !string_member (qemu, "version", FALSE, path, "qemu", &version, error)
      || !string_member (root, "default_accel", FALSE, path, "the profile", &default_accel, error)
      || !object_member (root, "cpuid", path, "the profile", json_type_object, &cpuid, error))
    return NULL;
  if (sessions_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&sessions_error));
      return NULL;
    }
  if (sessions == NULL)
    {
      invalid (error, path, "the profile.sessions is missing or not a list");
      return NULL;
    }

  profile = g_new0 (ProbeProfile, 1);
  profile->path = g_strdup (path);
  profile->host = g_strdup (name);
  profile->made = g_strdup (made);
  profile->qemu_binary = g_strdup (binary);
  profile->qemu_version = g_strdup (version);
  profile->default_accel = g_strdup (default_accel);
  profile->cpuid = g_new0 (struct ProbeProfileCpuid, 1);
  g_mutex_init (&profile->cpuid->lock);
  profile->cpuid->text = g_bytes_ref (text_bytes);
  profile->cpuid->start = cpuid_member.start;
  profile->cpuid->end = cpuid_member.end;
  profile->cpuid->path = g_strdup (path);
  if (!check_dependents (json_object_object_get (root, "dependents"), path, error))
    return NULL;
  /* The sessions are located; each is read when a question needs it. */
  profile->sessions = g_steal_pointer (&sessions);
  probe_profile_sessions_set_dependents (profile->sessions,
                                         json_object_object_get (root, "dependents"));
  /* Sessions answering as an earlier one share its messages, read once. */
  answering = probe_profile_sessions_answering (profile->sessions);
  profile->replies = qmp_replies_new_lazy (path,
                                           probe_profile_sessions_metadata (profile->sessions),
                                           probe_profile_sessions_count (profile->sessions),
                                           answering, probe_profile_sessions_messages,
                                           probe_profile_sessions_ref (profile->sessions),
                                           (GDestroyNotify) probe_profile_sessions_unref,
                                           &replies_error);
  if (profile->replies == NULL)
    {
      /* The recording's own words ("PATH: ...") already name the profile. */
      g_set_error_literal (error, PROBE_PROFILE_ERROR, PROBE_PROFILE_ERROR_INVALID,
                           replies_error->message);
      return NULL;
    }
  /* Expansions are not recorded exchanges: the facts answer them. */
  qmp_replies_set_answer_func (profile->replies, answer_from_facts, profile->sessions);
  return g_steal_pointer (&profile);
}

ProbeProfile *
probe_profile_from_json (json_object *root, const char *path, GError **error)
{
  const char *text = json_object_to_json_string_ext (root, JSON_C_TO_STRING_PLAIN);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));

  return profile_parse (bytes, path, error);
}

ProbeProfile *
probe_profile_load (const char *path, GError **error)
{
  char *text = NULL;
  gsize length;
  g_autoptr (GBytes) bytes = NULL;

  if (!g_file_get_contents (path, &text, &length, error))
    return NULL;
  bytes = g_bytes_new_take (text, length);
  return profile_parse (bytes, path, error);
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
  GBytes *owned;           /* the file's text, for a key the shelf keeps */
} AnswersKey;

static void
answers_key_free (gpointer data)
{
  AnswersKey *key = data;

  g_string_free (key->header, TRUE);
  if (key->owned != NULL)
    g_bytes_unref (key->owned);
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
member_is (const QmpJsonMember *member, const char *const *names, guint n_names)
{
  for (guint i = 0; i < n_names; i++)
    if (qmp_json_skim_is (member, names[i]))
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
  g_clear_pointer (&first->cpuid, cpuid_free);
  g_clear_pointer (&first->replies, qmp_replies_unref);
  g_clear_pointer (&first->sessions, probe_profile_sessions_unref);
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
      QmpJsonMember member = { 0 };
      gsize name_start;

      while (at < length && g_ascii_isspace (text[at]))
        at++;
      name_start = at;
      if (!qmp_json_skim_member (text, length, &at, &member))
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
parse_member (const char *text, const QmpJsonMember *member)
{
  g_autofree char *value = member != NULL ? g_strndup (text + member->start,
                                                       member->end - member->start)
                                          : NULL;

  return value != NULL ? json_tokener_parse (value) : NULL;
}

/* @text (@length bytes, mapped) as a profile: a copy is kept for what is read later (a
 * mapping would fault if the file were cut short meanwhile), and given to *@copy too
 * when asked for (a new reference). */
static ProbeProfile *
parse_copy (const char *text, gsize length, const char *path, GBytes **copy, GError **error)
{
  g_autoptr (GBytes) bytes = probe_profile_file_copy (text, length);
  ProbeProfile *profile = profile_parse (bytes, path, error);

  if (profile != NULL && copy != NULL)
    *copy = g_bytes_ref (bytes);
  return profile;
}

/* A profile of its own for @path whose answers are @alike's: its name and date read from
 * @text, the rest borrowed. */
static ProbeProfile *
alike_profile (const ProbeProfile *alike, const char *text, gsize length, GArray *members,
               const char *path, GError **error)
{
  g_autoptr (ProbeJson) host = parse_member (text, qmp_json_skim_find (members, "host"));
  g_autoptr (ProbeJson) made = parse_member (text, qmp_json_skim_find (members, "made"));
  const char *name = NULL;
  ProbeProfile *profile;

  /* Whatever is wrong with them, the careful parse names it. */
  if (!json_object_is_type (host, json_type_object)
      || !string_member (host, "name", FALSE, path, "host", &name, NULL)
      || !json_object_is_type (made, json_type_string))
    return parse_copy (text, length, path, NULL, error);
  profile = g_new0 (ProbeProfile, 1);
  profile->path = g_strdup (path);
  profile->host = g_strdup (name);
  profile->made = g_strdup (json_object_get_string (made));
  profile->qemu_binary = g_strdup (alike->qemu_binary);
  profile->qemu_version = g_strdup (alike->qemu_version);
  profile->default_accel = g_strdup (alike->default_accel);
  profile->cpuid = alike->cpuid;
  profile->replies = alike->replies;
  profile->sessions = alike->sessions;
  profile->alike = alike;
  return profile;
}

ProbeProfile *
probe_profile_shelf_load (ProbeProfileShelf *shelf, const char *path, GError **error)
{
  g_autoptr (GArray) members = g_array_new (FALSE, FALSE, sizeof (QmpJsonMember));
  /* Mapped, not read: a twin's text is only compared, never copied. */
  g_autoptr (GBytes) mapped = probe_profile_file_map (path, error);
  AnswersKey key = { 0 };
  const char *text;
  gsize length;
  ProbeProfile *first;

  if (mapped == NULL)
    return NULL;
  text = g_bytes_get_data (mapped, &length);
  if (text == NULL)
    text = "";
  if (!answers_key (text, length, &key, members))
    return parse_copy (text, length, path, NULL, error);
  first = g_hash_table_lookup (shelf->by_answers, &key);
  if (first == NULL)
    {
      AnswersKey *kept;
      GBytes *owned = NULL;

      first = parse_copy (text, length, path, &owned, error);
      if (first == NULL)
        {
          g_string_free (key.header, TRUE);
          return NULL;
        }
      kept = g_new (AnswersKey, 1);
      *kept = key;
      kept->owned = owned;
      kept->rest = (const char *) g_bytes_get_data (owned, NULL) + (key.rest - text);
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
  /* Stored answers: a thread and a socket per session would cost more than the answer. */
  qmp_source_set_in_process (source, TRUE);
  return source;
}

const X86CpuidDump *
probe_profile_cpuid (const ProbeProfile *profile)
{
  struct ProbeProfileCpuid *cpuid = profile->cpuid;
  const X86CpuidDump *dump;

  if (cpuid == NULL)
    return NULL;
  g_mutex_lock (&cpuid->lock);
  if (!cpuid->read)
    {
      const char *text = g_bytes_get_data (cpuid->text, NULL);
      const char *problem = NULL;
      g_autoptr (ProbeJson) value = qmp_json_skim_parse (text, cpuid->start, cpuid->end,
                                                         &problem);
      /* The dump's messages name their input first: "PATH: cpuid: kvm.supported: ...". */
      g_autofree char *where = g_strdup_printf ("%s: cpuid", cpuid->path);

      if (problem != NULL)
        invalid (&cpuid->error, cpuid->path, "cpuid is not JSON (%s)", problem);
      else if ((cpuid->dump = x86_cpuid_dump_from_json (value, where, &cpuid->error)) != NULL)
        x86_cpuid_dump_set_origin (cpuid->dump, cpuid->path);
      else
        {
          cpuid->error->domain = PROBE_PROFILE_ERROR;
          cpuid->error->code = PROBE_PROFILE_ERROR_INVALID;
        }
      cpuid->read = TRUE;
    }
  dump = cpuid->dump;
  g_mutex_unlock (&cpuid->lock);
  return dump;
}

GError *
probe_profile_malformed (const ProbeProfile *profile)
{
  GError *malformed = NULL;

  if (profile->cpuid != NULL)
    {
      g_mutex_lock (&profile->cpuid->lock);
      if (profile->cpuid->error != NULL)
        malformed = g_error_copy (profile->cpuid->error);
      g_mutex_unlock (&profile->cpuid->lock);
    }
  if (malformed == NULL && profile->sessions != NULL)
    malformed = probe_profile_sessions_error (profile->sessions);
  if (malformed == NULL && profile->replies != NULL
      && qmp_replies_fill_error (profile->replies) != NULL)
    {
      malformed = g_error_copy (qmp_replies_fill_error (profile->replies));
      malformed->domain = PROBE_PROFILE_ERROR;
      malformed->code = PROBE_PROFILE_ERROR_INVALID;
    }
  return malformed;
}

void
probe_profile_explain_error (const ProbeProfile *profile, GError *error)
{
  g_autofree char *message = NULL;
  g_autoptr (GError) malformed = NULL;

  if (error == NULL)
    return;
  /* A part of the profile read for this question and found malformed is why it failed,
   * whatever the replay made of the gap: the profile is at fault, not the question. */
  malformed = probe_profile_malformed (profile);
  if (malformed != NULL)
    {
      g_free (error->message);
      error->message = g_steal_pointer (&malformed->message);
      error->domain = PROBE_PROFILE_ERROR;
      error->code = PROBE_PROFILE_ERROR_INVALID;
      return;
    }
  if (!(g_error_matches (error, QMP_SOURCE_ERROR, QMP_SOURCE_ERROR_REPLAY)
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
probe_profile_facts (const ProbeProfile *profile, const char *accel, const char *machine,
                     GError **error)
{
  for (guint i = 0; i < qmp_replies_n_segments (profile->replies); i++)
    {
      json_object *launch = qmp_replies_segment_launch (profile->replies, i);
      json_object *launch_accel = NULL, *launch_machine = NULL;

      if (launch != NULL && json_object_object_get_ex (launch, "accel", &launch_accel)
          && json_object_object_get_ex (launch, "machine", &launch_machine)
          && g_strcmp0 (json_object_get_string (launch_accel), accel) == 0
          && g_strcmp0 (json_object_get_string (launch_machine), machine) == 0)
        return probe_profile_sessions_facts (profile->sessions, i, error);
    }
  return NULL;
}
