/* probe/profile-sessions.c — a profile's sessions, read when first needed
 * (probe/profile-sessions.h). */
#include "probe/profile-sessions.h"

#include <string.h>
#include "qmp/json-skim.h"
#include "probe/profile.h"
#include "probe/qemu-info.h"

/* Refusing a profile, as its other readers do (probe/profile.h). */
#define invalid probe_profile_set_invalid

typedef struct {
  guint answering;         /* the session whose messages and facts this one's are */
  gsize messages_start, messages_end;
  GArray *facts_members;   /* QmpJsonMember: every member but launch, same-as, messages */
  ProbeFacts *facts;       /* read on first use */
  GError *facts_error;     /* or why they could not be */
} Session;

struct ProbeProfileSessions
{
  gatomicrefcount ref_count;
  GBytes *text;
  char *path;
  json_object *dependents;
  json_object *metadata;   /* {"sessions": [launch, ...]} */
  GArray *sessions;        /* Session */
  GMutex lock;             /* guards the facts, read later */
};

static void
session_clear (gpointer data)
{
  Session *session = data;

  if (session->facts_members != NULL)
    g_array_unref (session->facts_members);
  probe_facts_free (session->facts);
  g_clear_error (&session->facts_error);
}

/* Reads session @index, the object at text[*@at], into @session, and moves *@at past it
 * (and a comma after it); @launches gets its launch. FALSE with @error, or without when
 * the skim cannot follow the text (the caller's careful parse then says why). */
static gboolean
read_session (ProbeProfileSessions *sessions, guint index, const char *text, gsize length,
              gsize *at, Session *session, json_object *launches, GError **error)
{
  gsize here = *at;
  gboolean has_launch = FALSE, has_messages = FALSE, answers_elsewhere = FALSE;
  const char *problem;

  session->answering = index;
  session->facts_members = g_array_new (FALSE, FALSE, sizeof (QmpJsonMember));
  if (text[here] != '{')
    return invalid (error, sessions->path, "sessions[%u] is not an object", index);
  for (here = qmp_json_skim_space (text, length, here + 1);;)
    {
      QmpJsonMember member = { 0 };
      g_autofree char *name = NULL;

      if (here < length && text[here] == '}')
        break;
      if (!qmp_json_skim_member (text, length, &here, &member))
        return FALSE;
      name = g_strndup (member.name, member.name_length);
      if (strcmp (name, "launch") == 0)
        {
          json_object *launch = qmp_json_skim_parse (text, member.start, member.end, &problem);

          if (!json_object_is_type (launch, json_type_object))
            {
              json_object_put (launch);
              return invalid (error, sessions->path, "sessions[%u].launch is missing or not "
                              "an object", index);
            }
          json_object_array_add (launches, launch);
          has_launch = TRUE;
        }
      else if (strcmp (name, "same-as") == 0)
        {
          g_autoptr (ProbeJson) same_as = qmp_json_skim_parse (text, member.start, member.end,
                                                                 &problem);
          gint64 earlier = json_object_is_type (same_as, json_type_int)
                           ? json_object_get_int64 (same_as) : -1;

          if (earlier < 0 || earlier >= index
              || g_array_index (sessions->sessions, Session, earlier).answering != earlier)
            return invalid (error, sessions->path, "sessions[%u].same-as names no earlier "
                            "session", index);
          session->answering = (guint) earlier;
          answers_elsewhere = TRUE;
        }
      else if (strcmp (name, "messages") == 0)
        {
          session->messages_start = member.start;
          session->messages_end = member.end;
          has_messages = text[member.start] == '[';
        }
      else
        g_array_append_val (session->facts_members, member);
    }
  *at = qmp_json_skim_next (text, length, here + 1);
  if (!has_launch)
    return invalid (error, sessions->path, "sessions[%u].launch is missing or not an object",
                    index);
  /* One that answers as an earlier session has no messages or facts of its own. */
  if (answers_elsewhere)
    g_array_set_size (session->facts_members, 0);
  else if (!has_messages)
    return invalid (error, sessions->path, "sessions[%u].messages is missing or not a list",
                    index);
  return TRUE;
}

ProbeProfileSessions *
probe_profile_sessions_read (GBytes *text_bytes, gsize start, gsize *end, const char *path,
                             GError **error)
{
  g_autoptr (ProbeProfileSessions) sessions = g_new0 (ProbeProfileSessions, 1);
  gsize length;
  const char *text = g_bytes_get_data (text_bytes, &length);
  json_object *launches = json_object_new_array ();
  gsize at;

  g_atomic_ref_count_init (&sessions->ref_count);
  g_mutex_init (&sessions->lock);
  sessions->text = g_bytes_ref (text_bytes);
  sessions->path = g_strdup (path);
  sessions->metadata = json_object_new_object ();
  json_object_object_add (sessions->metadata, "sessions", launches);
  sessions->sessions = g_array_new (FALSE, TRUE, sizeof (Session));
  g_array_set_clear_func (sessions->sessions, session_clear);
  if (start >= length || text[start] != '[')
    {
      invalid (error, path, "the profile.sessions is missing or not a list");
      return NULL;
    }
  at = qmp_json_skim_space (text, length, start + 1);
  while (at < length && text[at] != ']')
    {
      Session session = { 0 };

      g_array_append_val (sessions->sessions, session);
      if (!read_session (sessions, sessions->sessions->len - 1, text, length, &at,
                         &g_array_index (sessions->sessions, Session, sessions->sessions->len - 1),
                         launches, error))
        return NULL;
    }
  if (at >= length)
    return NULL;
  /* Every profile holds its QEMU's answers under at least one accelerator. */
  if (sessions->sessions->len == 0)
    {
      invalid (error, path, "the profile.sessions is empty: it holds no QEMU session");
      return NULL;
    }
  *end = at + 1;
  return g_steal_pointer (&sessions);
}

void
probe_profile_sessions_set_dependents (ProbeProfileSessions *sessions, json_object *dependents)
{
  json_object_put (sessions->dependents);
  sessions->dependents = json_object_get (dependents);
}

ProbeProfileSessions *
probe_profile_sessions_ref (ProbeProfileSessions *sessions)
{
  g_atomic_ref_count_inc (&sessions->ref_count);
  return sessions;
}

void
probe_profile_sessions_unref (ProbeProfileSessions *sessions)
{
  if (sessions == NULL || !g_atomic_ref_count_dec (&sessions->ref_count))
    return;
  if (sessions->sessions != NULL)
    g_array_unref (sessions->sessions);
  json_object_put (sessions->metadata);
  json_object_put (sessions->dependents);
  g_bytes_unref (sessions->text);
  g_free (sessions->path);
  g_mutex_clear (&sessions->lock);
  g_free (sessions);
}

guint
probe_profile_sessions_count (ProbeProfileSessions *sessions)
{
  return sessions->sessions->len;
}

json_object *
probe_profile_sessions_metadata (ProbeProfileSessions *sessions)
{
  return sessions->metadata;
}

guint *
probe_profile_sessions_answering (ProbeProfileSessions *sessions)
{
  guint *answering = g_new (guint, MAX (sessions->sessions->len, 1));

  for (guint i = 0; i < sessions->sessions->len; i++)
    answering[i] = g_array_index (sessions->sessions, Session, i).answering;
  return answering;
}

GBytes *
probe_profile_sessions_messages (guint index, gpointer data, char **name, GError **error)
{
  ProbeProfileSessions *sessions = data;
  const Session *session;
  guint answering;

  g_return_val_if_fail (index < sessions->sessions->len, NULL);
  answering = g_array_index (sessions->sessions, Session, index).answering;
  session = &g_array_index (sessions->sessions, Session, answering);
  *name = g_strdup_printf ("%s: sessions[%u].messages", sessions->path, answering);
  return g_bytes_new_from_bytes (sessions->text, session->messages_start,
                                 session->messages_end - session->messages_start);
}

/* The facts stored in session @answering (a session answers with its own, or with those
 * of the earlier one it answers as), read anew. NULL with @error. */
static ProbeFacts *
read_facts (ProbeProfileSessions *sessions, guint answering, GError **error)
{
  const char *text = g_bytes_get_data (sessions->text, NULL);
  const Session *stored = &g_array_index (sessions->sessions, Session, answering);
  g_autoptr (ProbeJson) members = json_object_new_object ();
  /* Named where the text is: the session answered as, when it is another. */
  g_autofree char *where = g_strdup_printf ("%s: sessions[%u]", sessions->path, answering);

  gsize expansions_start = 0, expansions_end = 0;

  for (guint i = 0; i < stored->facts_members->len; i++)
    {
      const QmpJsonMember *member = &g_array_index (stored->facts_members, QmpJsonMember, i);
      g_autofree char *name = g_strndup (member->name, member->name_length);
      const char *problem;
      json_object *value;

      /* Nine tenths of the facts, of which a question reads an entry or two. */
      if (strcmp (name, "expansions") == 0)
        {
          expansions_start = member->start;
          expansions_end = member->end;
          continue;
        }
      value = qmp_json_skim_parse (text, member->start, member->end, &problem);

      if (problem != NULL)
        {
          invalid (error, sessions->path, "sessions[%u].%s is not JSON (%s)", answering, name,
                   problem);
          return NULL;
        }
      json_object_object_add (members, name, value);
    }
  return probe_facts_new (members, sessions->text, expansions_start, expansions_end,
                          sessions->dependents, where, error);
}

ProbeFacts *
probe_profile_sessions_facts (ProbeProfileSessions *sessions, guint index, GError **error)
{
  Session *session;
  ProbeFacts *facts;

  g_return_val_if_fail (index < sessions->sessions->len, NULL);
  g_mutex_lock (&sessions->lock);
  /* One answering as an earlier session answers with that one's facts, read once: they
   * are only read once made, but for what they fill on first use under their own lock. */
  index = g_array_index (sessions->sessions, Session, index).answering;
  session = &g_array_index (sessions->sessions, Session, index);
  if (session->facts == NULL && session->facts_error == NULL)
    session->facts = read_facts (sessions, index, &session->facts_error);
  facts = session->facts;
  if (facts == NULL)
    g_propagate_error (error, g_error_copy (session->facts_error));
  g_mutex_unlock (&sessions->lock);
  return facts;
}

GError *
probe_profile_sessions_error (ProbeProfileSessions *sessions)
{
  GError *error = NULL;

  g_mutex_lock (&sessions->lock);
  /* Facts found malformed, or an expansion a question read and found so. */
  for (guint i = 0; error == NULL && i < sessions->sessions->len; i++)
    {
      Session *session = &g_array_index (sessions->sessions, Session, i);

      if (session->facts_error != NULL)
        error = g_error_copy (session->facts_error);
      else if (session->facts != NULL)
        error = probe_facts_malformed (session->facts);
    }
  g_mutex_unlock (&sessions->lock);
  return error;
}
