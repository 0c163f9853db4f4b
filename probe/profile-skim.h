/* probe/profile-skim.h — where a JSON object's members lie in its text, found without
 * building the tree.
 *
 * A fleet's profiles are mostly alike: hosts of one hardware generation running one QEMU
 * differ in their name and when they were profiled, and in nothing an answer reads. A
 * profile is ~250 KB; building its tree costs ~5 ms, finding its members' bounds ~0.3 ms.
 * So the members an answer depends on are compared as text, and a profile whose text
 * equals one already read shares that one's parsed facts and answers. */
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
