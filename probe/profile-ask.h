/* probe/profile-ask.h — many expansions asked of one QEMU, pipelined in a window.
 *
 * QEMU answers queued commands one after the other, so a profile asks many before it
 * reads any answer; but a peer that answers each at once (a replay) blocks once the
 * socket's buffer is full, and so would we, sending: a bounded number of questions is
 * kept in flight. */
#pragma once
#include <glib.h>
#include <json-c/json.h>
#include "qmp/session.h"

/* The arguments of question @i of query-cpu-model-expansion (caller owns them). */
typedef json_object *(*ProbeAskArguments) (guint i, gpointer user_data);
/* The answer to question @i: the "return" (borrowed), or NULL when QEMU refused it. */
typedef void (*ProbeAskTake) (guint i, json_object *expansion, gpointer user_data);

/* Asks @n questions and hands every answer to @take in order. QEMU's refusal of one is
 * an answer; FALSE with @error only when QEMU stopped answering. */
gboolean probe_profile_ask (QmpSession *session, guint n, ProbeAskArguments arguments,
                            ProbeAskTake take, gpointer user_data, gint64 deadline_us,
                            GError **error);
