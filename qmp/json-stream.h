/* qmp/json-stream.h — splits a byte stream into JSON objects, as QMP frames them.
 *
 * QMP sends one JSON object per message, normally followed by CRLF, but a read()
 * may return part of a message or several of them. This framer feeds json-c's
 * incremental tokener and hands out complete top-level values in arrival order.
 * Whitespace (CR, LF, spaces, tabs) between values is skipped. A message larger
 * than the size cap or nested deeper than the depth cap is a protocol error, so a
 * hostile or broken peer can neither crash us nor make us allocate without bound. */
#pragma once
#include <glib.h>
#include <json-c/json.h>

#define QMP_JSON_STREAM_DEFAULT_MAX_SIZE  (64u * 1024u * 1024u)
#define QMP_JSON_STREAM_DEFAULT_MAX_DEPTH 64

typedef struct QmpJsonStream QmpJsonStream;

/* @max_message_size in bytes of one value, from its first byte; @max_depth in nested
 * containers ({"a": [1]} is 2 deep). 0 picks the default for either. */
QmpJsonStream *qmp_json_stream_new (gsize max_message_size, int max_depth);
void           qmp_json_stream_free (QmpJsonStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (QmpJsonStream, qmp_json_stream_free)

/* Feeds @len bytes. Complete values are queued for qmp_json_stream_pop().
 * Returns FALSE with @error (QMP_ERROR_PROTOCOL) on malformed JSON, an oversized or
 * too deeply nested message; the stream is unusable afterwards. */
gboolean qmp_json_stream_feed (QmpJsonStream *stream, const char *bytes, gsize len,
                               GError **error);

/* The next complete value, owned by the caller, or NULL when none is queued. */
json_object *qmp_json_stream_pop (QmpJsonStream *stream);

/* TRUE while a value has been started but not finished: EOF now truncates a message. */
gboolean qmp_json_stream_in_message (QmpJsonStream *stream);
