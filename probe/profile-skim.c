/* probe/profile-skim.c — member bounds of a JSON object (probe/profile-skim.h). */
#include "probe/profile-skim.h"

#include <string.h>

static gsize
skip_space (const char *text, gsize length, gsize at)
{
  while (at < length && (text[at] == ' ' || text[at] == '\t' || text[at] == '\n'
                         || text[at] == '\r'))
    at++;
  return at;
}

/* Past the string starting at text[@at] (its opening quote), or 0 when it never ends. */
static gsize
skip_string (const char *text, gsize length, gsize at)
{
  for (at++; at < length; at++)
    if (text[at] == '\\')
      at++;
    else if (text[at] == '"')
      return at + 1;
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
probe_json_skim_member (const char *text, gsize length, gsize *at, ProbeJsonMember *member)
{
  gsize here = *at, name_end;

  if (here >= length || text[here] != '"' || (name_end = skip_string (text, length, here)) == 0)
    return FALSE;
  member->name = text + here + 1;
  member->name_length = name_end - here - 2;
  here = skip_space (text, length, name_end);
  if (here >= length || text[here] != ':')
    return FALSE;
  member->start = skip_space (text, length, here + 1);
  member->end = skip_value (text, length, member->start);
  if (member->end == 0)
    return FALSE;
  here = skip_space (text, length, member->end);
  if (here < length && text[here] == ',')
    here = skip_space (text, length, here + 1);
  *at = here;
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
