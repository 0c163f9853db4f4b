/* probe/profile-dependents.c — measures QEMU's feature dependencies (probe/profile-dependents.h). */
#include "probe/profile-dependents.h"

#include "probe/profile-ask.h"
#include "probe/qemu-info.h"

typedef struct {
  ProbeFactsWriter *writer;
  guint n;
  ProbeBits *off;            /* scratch: the feature question i switches off */
  ProbeBits *all_on;         /* the answer to question 0: every feature asked on */
  gboolean world_preset;     /* the QEMU has the world on already, as -global settings */
  json_object *dependents;
} Measure;

/* Question 0: max with every feature on; question i: the same with feature i - 1 off. */
static json_object *
question (guint i, gpointer data)
{
  Measure *measure = data;
  json_object *props;

  if (measure->world_preset)
    {
      if (i == 0)
        return probe_expansion_arguments ("max", NULL);
      props = json_object_new_object ();
      json_object_object_add (props, probe_facts_writer_feature (measure->writer, i - 1),
                              json_object_new_boolean (FALSE));
      return probe_expansion_arguments ("max", props);
    }
  if (i > 0)
    measure->off[i - 1] = 1;
  props = probe_facts_writer_world_props (measure->writer, measure->off);
  if (i > 0)
    measure->off[i - 1] = 0;
  return probe_expansion_arguments ("max", props);
}

static void
take (guint i, json_object *expansion, gpointer data)
{
  Measure *measure = data;
  g_autofree ProbeBits *on = probe_facts_writer_bits (measure->writer, expansion);
  json_object *cleared;

  if (i == 0)
    {
      probe_facts_writer_set_never (measure->writer, expansion);
      measure->all_on = g_steal_pointer (&on);
      return;
    }
  /* QEMU refusing the feature off says nothing about what it clears: not a dependent. */
  if (expansion == NULL)
    return;
  cleared = json_object_new_array ();
  for (guint j = 0; j < measure->n; j++)
    if (j != i - 1 && measure->all_on[j] && !on[j])
      json_object_array_add (cleared,
                             json_object_new_string (probe_facts_writer_feature (measure->writer, j)));
  if (json_object_array_length (cleared) > 0)
    json_object_object_add (measure->dependents,
                            probe_facts_writer_feature (measure->writer, i - 1), cleared);
  else
    json_object_put (cleared);
}

json_object *
probe_dependents_measure (QmpSession *session, ProbeFactsWriter *writer, gboolean world_preset,
                          gint64 deadline_us, GError **error)
{
  guint n = probe_facts_writer_n_features (writer);
  g_autofree ProbeBits *off = g_new0 (ProbeBits, MAX (n, 1));
  Measure measure = { writer, n, off, NULL, world_preset, json_object_new_object () };

  if (!probe_profile_ask (session, n + 1, question, take, &measure, deadline_us, error))
    {
      g_free (measure.all_on);
      json_object_put (measure.dependents);
      return NULL;
    }
  g_free (measure.all_on);
  return measure.dependents;
}
