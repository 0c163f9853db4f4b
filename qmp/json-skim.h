/* probe/profile-skim.h — where a JSON object's members lie in its text, found without
 * building the tree.
 *
 * A fleet's profiles are mostly alike: hosts of one hardware generation running one QEMU
 * differ in their name and when they were profiled, and in nothing an answer reads. A
 * profile is ~250 KB and building its tree costs ~5 ms, while its header's members are
 * found in microseconds and the rest compared as text at memory speed: a profile whose
 * text past the header equals one already read shares that one's parsed facts and answers
 * (probe_profile_shelf_load()). The first profile of a kind is read the same way, its
 * sessions' members located and parsed only when a question needs them
 * (probe/profile-sessions.h). Values are skipped, not judged: the parse of a value when
 * it is used says what is wrong with a malformed one. */
#pragma once
#include <glib.h>

typedef struct {
  const char *name;      /* the key as written, without its quotes (not terminated) */
  gsize name_length;
  gsize start, end;      /* the value's bytes: text[start, end) */
} ProbeJsonMember;

/* One member of an object, at text[*@at] (its key's opening quote): its bounds into
 * @member, and *@at moved past it and the comma after it. FALSE when there is no member
 * there (the object's end, or text the skim cannot follow). */
gboolean probe_json_skim_member (const char *text, gsize length, gsize *at,
                                 ProbeJsonMember *member);

/* The name of the member at text[@at] (its key's opening quote) and where its value
 * starts, into @member (its end left alone): for a reader that follows the value itself.
 * FALSE when there is no member there. */
gboolean probe_json_skim_name (const char *text, gsize length, gsize at,
                               ProbeJsonMember *member);
/* Past the comma (and white space) after a value that ends at text[@end]: where the next
 * member or element starts, or the closing bracket. */
gsize    probe_json_skim_next (const char *text, gsize length, gsize end);

/* The JSON value at text[@start, @end) (a member's or an element's bounds), parsed on its
 * own (caller owns it), or NULL with json-c's reason in *@problem (NULL for JSON null). */
struct json_object *probe_json_skim_parse (const char *text, gsize start, gsize end,
                                           const char **problem);

/* Skips white space from text[@at]: the index of the next byte that is not. */
gsize probe_json_skim_space (const char *text, gsize length, gsize at);

/* The member called @name in @members, or NULL. */
const ProbeJsonMember *probe_json_skim_find (GArray *members, const char *name);
