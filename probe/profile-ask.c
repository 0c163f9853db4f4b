/* probe/profile-ask.c — pipelined expansions in a window (probe/profile-ask.h). */
#include "probe/profile-ask.h"

#include "probe/qemu-info.h"

/* Enough to keep QEMU busy while we read, few enough to fit a socket's buffer. */
#define IN_FLIGHT 8

gboolean
probe_profile_ask (QmpSession *session, guint n, ProbeAskArguments arguments, ProbeAskTake take,
                   gpointer user_data, gint64 deadline_us, GError **error)
{
  g_autofree guint64 *ids = g_new0 (guint64, MAX (n, 1));
  guint sent = 0;

  for (guint answered = 0; answered < n; answered++)
    {
      g_autoptr (ProbeJson) reply = NULL;
      g_autoptr (GError) local_error = NULL;

      for (; sent < n && sent < answered + IN_FLIGHT; sent++)
        {
          g_autoptr (ProbeJson) question = arguments (sent, user_data);

          ids[sent] = qmp_session_send (session, "query-cpu-model-expansion", question, error);
          if (ids[sent] == 0)
            return FALSE;
        }
      reply = qmp_session_wait (session, ids[answered], deadline_us, &local_error);
      if (reply == NULL && !g_error_matches (local_error, QMP_ERROR, QMP_ERROR_COMMAND)
          && !g_error_matches (local_error, QMP_ERROR, QMP_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      take (answered, reply, user_data);
    }
  return TRUE;
}
