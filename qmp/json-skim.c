/* probe/profile-skim.c — member bounds of a JSON object (probe/profile-skim.h). */
#include "probe/profile-skim.h"

#include <string.h>
#include <json-c/json.h>

gsize
probe_json_skim_space (const char *text, gsize length, gsize at)
{
  while (at < length && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n'
                         || text[at] == '\r'))
    at++;
  return at;
}

/* Past the string starting at text[@at] (its opening quote), or 0 when it never ends.
 * memchr finds each quote; one after an odd run of backslashes is escaped. */
static gsize
skip_string (const char *text, gsize length, gsize at)
{
  for (at++; at < length;)
    {
      const char *quote = memchr (text + at, '"', length - at);
      gsize end, backslashes = 0;

      if (quote == NULL)
        return 0;
      end = (gsize) (quote - text);
      while (end - backslashes > at && text[end - backslashes - 1] == '\\')
        backslashes++;
      if (backslashes % 2 == 0)
        return end + 1;
      at = end + 1;
    }
  return 0;
}

/* Past the value starting at text[@at], or 0 when it is cut short or unbalanced. Scalars
 * are taken as whatever runs up to the next delimiter: the careful parse that reads a
 * profile the first time judges them. */
static gsize
skip_value (const char *text, gsize length, gsize at)
{
  guint depth = 0;

  if (at >= length)
    return 0;
  if (text[at] == '"')
    return skip_string (text, length, at);
  if (text[at] != '{' && text[at] != '[')
    {
      gsize from = at;

      while (at < length && strchr (",}] \t\r\n", text[at]) == NULL)
        at++;
      return at > from ? at : 0;
    }
  for (; at < length; at++)
    switch (text[at])
      {
      case '"':
        at = skip_string (text, length, at);
        if (at == 0)
          return 0;
        at--;
        break;
      case '{':
      case '[':
        depth++;
        break;
      case '}':
      case ']':
        if (--depth == 0)
          return at + 1;
        break;
      default:
        break;
      }
  return 0;
}

gboolean
probe_json_skim_name (const char *text, gsize length, gsize at, ProbeJsonMember *member)
{
  gsize name_end;

  if (at >= length || text[at] != '"' || (name_end = skip_string (text, length, at)) == 0)
    return FALSE;
  member->name = text + at + 1;
  member->name_length = name_end - at - 2;
  at = probe_json_skim_space (text, length, name_end);
  if (at >= length || text[at] != ':')
    return FALSE;
  member->start = probe_json_skim_space (text, length, at + 1);
  return TRUE;
}

gsize
probe_json_skim_next (const char *text, gsize length, gsize end)
{
  gsize here = probe_json_skim_space (text, length, end);

  if (here < length && text[here] == ',')
    here = probe_json_skim_space (text, length, here + 1);
  return here;
}

gboolean
probe_json_skim_member (const char *text, gsize length, gsize *at, ProbeJsonMember *member)
{
  if (!probe_json_skim_name (text, length, *at, member))
    return FALSE;
  member->end = skip_value (text, length, member->start);
  if (member->end == 0)
    return FALSE;
  *at = probe_json_skim_next (text, length, member->end);
  return TRUE;
}

const ProbeJsonMember *
probe_json_skim_find (GArray *members, const char *name)
{
  gsize name_length = strlen (name);

  for (guint i = 0; i < members->len; i++)
    {
      const ProbeJsonMember *member = &g_array_index (members, ProbeJsonMember, i);

      if (member->name_length == name_length && memcmp (member->name, name, name_length) == 0)
        return member;
    }
  return NULL;
}

json_object *
probe_json_skim_parse (const char *text, gsize start, gsize end, const char **problem)
{
  json_tokener *tokener = json_tokener_new ();
  json_object *value;
  g_autofree char *scalar = NULL;
  const char *from = text + start;
  gsize length = end - start;

  /* A number at the very end of its input is not known to have ended: a scalar is parsed
   * from a terminated copy, whose terminator ends it. */
  if (length > 0 && from[0] != '{' && from[0] != '[')
    {
      scalar = g_strndup (from, length);
      from = scalar;
      length++;
    }
  value = json_tokener_parse_ex (tokener, from, (int) length);
  *problem = NULL;
  if (json_tokener_get_error (tokener) != json_tokener_success)
    *problem = json_tokener_error_desc (json_tokener_get_error (tokener));
  else if ((gsize) json_tokener_get_parse_end (tokener) + (scalar != NULL ? 1 : 0) < length)
    *problem = "text after the value";
  json_tokener_free (tokener);
  if (*problem != NULL)
    g_clear_pointer (&value, json_object_put);
  return value;
}
