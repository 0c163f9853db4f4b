/* probe/profile-skim.h — where a JSON object's members lie in its text, found without
 * building the tree.
 *
 * A fleet's profiles are mostly alike: hosts of one hardware generation running one QEMU
 * differ in their name and when they were profiled, and in nothing an answer reads. A
 * profile is ~250 KB and building its tree costs ~5 ms, while its header's members are
 * found in microseconds and the rest compared as text at memory speed: a profile whose
 * text past the header equals one already read shares that one's parsed facts and answers
 * (probe_profile_shelf_load()). Values are skipped, not judged: the careful parse that
 * reads a profile the first time says what is wrong with a malformed one. */
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

/* The member called @name in @members, or NULL. */
const ProbeJsonMember *probe_json_skim_find (GArray *members, const char *name);
