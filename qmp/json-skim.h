/* qmp/json-skim.h — where the members and elements of JSON text lie, found without building
 * the tree, and whether a value is strict JSON, judged without building it either.
 *
 * Building a json-c tree costs about 20 ns a byte; finding where a value ends, a fraction
 * of that. Large documents of which a reader needs a little (a host profile: 250 KB, of
 * which a question reads a session or two) are followed with the skim, and only what is
 * used is parsed (qmp_json_skim_parse()). Skimming takes values as they come (scalars run
 * up to the next delimiter, brackets are counted): the parse of a value when it is used
 * says what is wrong with a malformed one, or, for text that is passed on unparsed (a
 * recorded reply a replay peer sends as it was read), qmp_json_valid(). */
#pragma once
#include <glib.h>

typedef struct {
  const char *name;      /* the key as written, without its quotes (not terminated) */
  gsize name_length;
  gsize start, end;      /* the value's bytes: text[start, end) */
} QmpJsonMember;

/* One member of an object, at text[*@at] (its key's opening quote): its bounds into
 * @member, and *@at moved past it and the comma after it. FALSE when there is no member
 * there (the object's end, or text the skim cannot follow). */
gboolean qmp_json_skim_member (const char *text, gsize length, gsize *at,
                                 QmpJsonMember *member);

/* The name of the member at text[@at] (its key's opening quote) and where its value
 * starts, into @member (its end left alone): for a reader that follows the value itself.
 * FALSE when there is no member there. */
gboolean qmp_json_skim_name (const char *text, gsize length, gsize at,
                               QmpJsonMember *member);
/* Past the comma (and white space) after a value that ends at text[@end]: where the next
 * member or element starts, or the closing bracket. */
gsize    qmp_json_skim_next (const char *text, gsize length, gsize end);

/* The JSON value at text[@start, @end) (a member's or an element's bounds), parsed on its
 * own (caller owns it), or NULL with json-c's reason in *@problem (NULL for JSON null). */
struct json_object *qmp_json_skim_parse (const char *text, gsize start, gsize end,
                                           const char **problem);

/* Skips white space from text[@at]: the index of the next byte that is not. */
gsize qmp_json_skim_space (const char *text, gsize length, gsize at);

/* Past the value starting at text[@at], or 0 when it is cut short or unbalanced. */
gsize    qmp_json_skim_value (const char *text, gsize length, gsize at);

/* TRUE when text[@start, @end) is exactly one JSON value, as RFC 8259 writes it (white
 * space around it allowed); else FALSE with what is wrong in *@problem. Nothing is
 * allocated: for text that is passed on rather than parsed. */
gboolean qmp_json_valid (const char *text, gsize start, gsize end, const char **problem);

/* The JSON string at text[@start, @end) (an element's or a member's bounds), unescaped
 * and newly allocated, or NULL when the value there is not a string. Text that was checked
 * (qmp_json_valid()) is copied as it is where it has no backslash. */
char *qmp_json_skim_string (const char *text, gsize start, gsize end);

/* TRUE when @member's name, as written, is @name. */
gboolean qmp_json_skim_is (const QmpJsonMember *member, const char *name);

/* The member called @name (as written, without escapes) of the object at
 * text[@start, @end), into @member; FALSE when the value there is no object with one. Of
 * repeated names the last counts, as json-c keeps it. */
gboolean qmp_json_skim_find_member (const char *text, gsize start, gsize end, const char *name,
                                    QmpJsonMember *member);

/* The member called @name in @members, or NULL. */
const QmpJsonMember *qmp_json_skim_find (GArray *members, const char *name);
