/* qmp/json-skim.c — member bounds of a JSON object (qmp/json-skim.h). */
#include "qmp/json-skim.h"

#include <string.h>
#include <json-c/json.h>

gsize
qmp_json_skim_space (const char *text, gsize length, gsize at)
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

/* The bytes that end a scalar: a delimiter, white space, or the end of the text. */
static const guint8 stops_scalar[256] = {
  [','] = 1, ['}'] = 1, [']'] = 1, [' '] = 1, ['\t'] = 1, ['\r'] = 1, ['\n'] = 1, ['\0'] = 1,
};

/* The bytes a container's skim stops at: the quote that opens a string, and brackets. */
static const guint8 stops_in_container[256] = {
  ['"'] = 1, ['{'] = 1, ['['] = 1, ['}'] = 1, [']'] = 1,
};

/* Scalars are taken as whatever runs up to the next delimiter: the parse that reads the
 * value when it is used judges them. */
gsize
qmp_json_skim_value (const char *text, gsize length, gsize at)
{
  const guchar *bytes = (const guchar *) text;
  guint depth = 0;

  if (at >= length)
    return 0;
  if (text[at] == '"')
    return skip_string (text, length, at);
  if (text[at] != '{' && text[at] != '[')
    {
      gsize from = at;

      while (at < length && !stops_scalar[bytes[at]])
        at++;
      return at > from ? at : 0;
    }
  for (; at < length; at++)
    {
      /* Everything between the stops (names, numbers, commas) is passed at a byte a test. */
      while (!stops_in_container[bytes[at]])
        if (++at >= length)
          return 0;
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
        default:
          if (--depth == 0)
            return at + 1;
          break;
        }
    }
  return 0;
}

gboolean
qmp_json_skim_name (const char *text, gsize length, gsize at, QmpJsonMember *member)
{
  gsize name_end;

  if (at >= length || text[at] != '"' || (name_end = skip_string (text, length, at)) == 0)
    return FALSE;
  member->name = text + at + 1;
  member->name_length = name_end - at - 2;
  at = qmp_json_skim_space (text, length, name_end);
  if (at >= length || text[at] != ':')
    return FALSE;
  member->start = qmp_json_skim_space (text, length, at + 1);
  return TRUE;
}

gsize
qmp_json_skim_next (const char *text, gsize length, gsize end)
{
  gsize here = qmp_json_skim_space (text, length, end);

  if (here < length && text[here] == ',')
    here = qmp_json_skim_space (text, length, here + 1);
  return here;
}

gboolean
qmp_json_skim_member (const char *text, gsize length, gsize *at, QmpJsonMember *member)
{
  if (!qmp_json_skim_name (text, length, *at, member))
    return FALSE;
  member->end = qmp_json_skim_value (text, length, member->start);
  if (member->end == 0)
    return FALSE;
  *at = qmp_json_skim_next (text, length, member->end);
  return TRUE;
}

gboolean
qmp_json_skim_is (const QmpJsonMember *member, const char *name)
{
  return member->name_length == strlen (name)
         && memcmp (member->name, name, member->name_length) == 0;
}

gboolean
qmp_json_skim_find_member (const char *text, gsize start, gsize end, const char *name,
                           QmpJsonMember *member)
{
  QmpJsonMember next;
  gboolean found = FALSE;
  gsize at;

  if (start >= end || text[start] != '{')
    return FALSE;
  /* To the object's end: of repeated names the last counts, as json-c keeps it. */
  for (at = qmp_json_skim_space (text, end, start + 1);
       at < end && text[at] != '}' && qmp_json_skim_member (text, end, &at, &next);)
    if (qmp_json_skim_is (&next, name))
      {
        *member = next;
        found = TRUE;
      }
  return found;
}

char *
qmp_json_skim_string (const char *text, gsize start, gsize end)
{
  json_object *parsed;
  char *copy;

  if (end < start + 2 || text[start] != '"' || text[end - 1] != '"')
    return NULL;
  if (memchr (text + start + 1, '\\', end - start - 2) == NULL)
    return g_strndup (text + start + 1, end - start - 2);
  /* Escapes are rare in what QEMU names (none in model or machine names): json-c decodes. */
  parsed = qmp_json_skim_parse (text, start, end, &(const char *) { NULL });
  copy = json_object_is_type (parsed, json_type_string) ? g_strdup (json_object_get_string (parsed))
                                                        : NULL;
  json_object_put (parsed);
  return copy;
}

const QmpJsonMember *
qmp_json_skim_find (GArray *members, const char *name)
{
  for (guint i = 0; i < members->len; i++)
    if (qmp_json_skim_is (&g_array_index (members, QmpJsonMember, i), name))
      return &g_array_index (members, QmpJsonMember, i);
  return NULL;
}

json_object *
qmp_json_skim_parse (const char *text, gsize start, gsize end, const char **problem)
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

/* ---- Strict checking ---- */

typedef struct {
  const char *text;
  gsize end;
  gsize at;
  const char *problem;
} Checker;

#define MAX_DEPTH 256

static void
check_space (Checker *c)
{
  c->at = qmp_json_skim_space (c->text, c->end, c->at);
}

static gboolean
fail (Checker *c, const char *problem)
{
  if (c->problem == NULL)
    c->problem = problem;
  return FALSE;
}

static gboolean
check_string (Checker *c)
{
  /* Kept in locals: through @c, every byte's test would reload the position. */
  const guchar *text = (const guchar *) c->text;
  gsize at = c->at + 1, end = c->end;

  for (; at < end; at++)
    {
      guchar ch = text[at];

      if (ch == '"')
        {
          c->at = at + 1;
          return TRUE;
        }
      if (ch < 0x20)
        return fail (c, "a control character in a string");
      if (ch != '\\')
        continue;
      if (++at >= end)
        break;
      if (text[at] == 'u')
        {
          for (guint i = 0; i < 4; i++)
            if (++at >= end || !g_ascii_isxdigit (text[at]))
              return fail (c, "a bad \\u escape");
        }
      else if (strchr ("\"\\/bfnrt", text[at]) == NULL || text[at] == '\0')
        return fail (c, "a bad escape");
    }
  c->at = at;
  return fail (c, "a string never ends");
}

static gboolean
check_digits (Checker *c)
{
  gsize from = c->at;

  while (c->at < c->end && g_ascii_isdigit (c->text[c->at]))
    c->at++;
  return c->at > from || fail (c, "a number without digits");
}

static gboolean
check_number (Checker *c)
{
  if (c->text[c->at] == '-')
    c->at++;
  if (c->at < c->end && c->text[c->at] == '0')
    c->at++;
  else if (!check_digits (c))
    return FALSE;
  if (c->at < c->end && c->text[c->at] == '.')
    {
      c->at++;
      if (!check_digits (c))
        return FALSE;
    }
  if (c->at < c->end && (c->text[c->at] == 'e' || c->text[c->at] == 'E'))
    {
      c->at++;
      if (c->at < c->end && (c->text[c->at] == '+' || c->text[c->at] == '-'))
        c->at++;
      if (!check_digits (c))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_word (Checker *c, const char *word)
{
  gsize length = strlen (word);

  if (c->end - c->at < length || memcmp (c->text + c->at, word, length) != 0)
    return fail (c, "an unknown word");
  c->at += length;
  return TRUE;
}

static gboolean check_value (Checker *c, guint depth);

/* An object or an array, from its opening bracket. */
static gboolean
check_container (Checker *c, guint depth)
{
  char close = c->text[c->at] == '{' ? '}' : ']';

  if (depth >= MAX_DEPTH)
    return fail (c, "nested too deeply");
  c->at++;
  check_space (c);
  if (c->at < c->end && c->text[c->at] == close)
    {
      c->at++;
      return TRUE;
    }
  for (;;)
    {
      if (close == '}')
        {
          if (c->at >= c->end || c->text[c->at] != '"')
            return fail (c, "a member without a name");
          if (!check_string (c))
            return FALSE;
          check_space (c);
          if (c->at >= c->end || c->text[c->at] != ':')
            return fail (c, "a member without a colon");
          c->at++;
        }
      if (!check_value (c, depth + 1))
        return FALSE;
      check_space (c);
      if (c->at < c->end && c->text[c->at] == ',')
        {
          c->at++;
          check_space (c);
          continue;
        }
      if (c->at < c->end && c->text[c->at] == close)
        {
          c->at++;
          return TRUE;
        }
      return fail (c, c->at >= c->end ? "cut short" : "a missing comma or bracket");
    }
}

static gboolean
check_value (Checker *c, guint depth)
{
  check_space (c);
  if (c->at >= c->end)
    return fail (c, "cut short");
  switch (c->text[c->at])
    {
    case '{':
    case '[':
      return check_container (c, depth);
    case '"':
      return check_string (c);
    case 't':
      return check_word (c, "true");
    case 'f':
      return check_word (c, "false");
    case 'n':
      return check_word (c, "null");
    default:
      if (c->text[c->at] == '-' || g_ascii_isdigit (c->text[c->at]))
        return check_number (c);
      return fail (c, "not a value");
    }
}

gboolean
qmp_json_valid (const char *text, gsize start, gsize end, const char **problem)
{
  Checker checker = { text, end, start, NULL };

  if (check_value (&checker, 0))
    {
      check_space (&checker);
      if (checker.at != end)
        fail (&checker, "text after the value");
    }
  *problem = checker.problem;
  return checker.problem == NULL;
}
