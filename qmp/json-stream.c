/* qmp/json-stream.c — cuts a QMP byte stream into JSON values with json-c's incremental tokener. */
#include "qmp/json-stream.h"
#include "qmp/session.h"

/* How many bytes of garbage an error message quotes. */
#define QUOTED_BYTES 24

struct QmpJsonStream {
  json_tokener *tokener;
  GQueue complete;          /* finished values, oldest first, each holding one reference */
  gsize max_message_size;
  int max_depth;
  gboolean in_message;      /* the tokener holds part of a value */
  gsize message_bytes;      /* bytes of the current value handed to the tokener */
  GString *held;            /* the tail of the last feed, kept from the tokener (see below) */
  GError *failure;          /* set once; the tokener state is meaningless afterwards */
};

QmpJsonStream *
qmp_json_stream_new (gsize max_message_size, int max_depth)
{
  QmpJsonStream *stream = g_new0 (QmpJsonStream, 1);

  stream->max_message_size = max_message_size > 0 ? max_message_size
                                                  : QMP_JSON_STREAM_DEFAULT_MAX_SIZE;
  stream->max_depth = max_depth > 0 ? max_depth : QMP_JSON_STREAM_DEFAULT_MAX_DEPTH;
  /* json-c gives a value inside a container its own level, so "[[1]]" needs 3. Our cap
   * counts containers, so that a cap of 1 still admits a flat object. */
  stream->tokener = json_tokener_new_ex (stream->max_depth + 1);
  /* Strict mode turns comments and other non-JSON extensions into errors early;
   * trailing characters are the next message, not an error. */
  json_tokener_set_flags (stream->tokener, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS);
  g_queue_init (&stream->complete);
  stream->held = g_string_new (NULL);
  return stream;
}

static void
put_value (gpointer value)
{
  json_object_put (value);
}

void
qmp_json_stream_free (QmpJsonStream *stream)
{
  if (stream == NULL)
    return;
  g_queue_clear_full (&stream->complete, put_value);
  json_tokener_free (stream->tokener);
  g_string_free (stream->held, TRUE);
  g_clear_error (&stream->failure);
  g_free (stream);
}

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Records the first failure and reports it; later feeds repeat it. */
static gboolean
stream_fail (QmpJsonStream *stream, GError **error, char *message)
{
  stream->failure = g_error_new_literal (QMP_ERROR, QMP_ERROR_PROTOCOL, message);
  g_free (message);
  g_propagate_error (error, g_error_copy (stream->failure));
  return FALSE;
}

/* The bytes where parsing failed, printable whatever they hold (NUL, control, non-ASCII). */
static char *
quote_bytes (const char *bytes, gsize len)
{
  GString *quoted = g_string_new ("\"");

  for (gsize i = 0; i < MIN (len, QUOTED_BYTES); i++)
    {
      guchar c = (guchar) bytes[i];
      if (c == '"' || c == '\\')
        g_string_append_printf (quoted, "\\%c", c);
      else if (c >= 0x20 && c < 0x7f)
        g_string_append_c (quoted, (char) c);
      else
        g_string_append_printf (quoted, "\\x%02x", c);
    }
  g_string_append (quoted, len > QUOTED_BYTES ? "\"..." : "\"");
  return g_string_free (quoted, FALSE);
}

static gboolean
is_number_char (char c)
{
  return g_ascii_isdigit (c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* json-c 0.16 loses track of a number cut between two calls: "[0" then "-]" parses as
 * [0] while "[0-]" in one call is an error. So the tokener is never given a piece that
 * ends inside a run of number characters; that run waits for the next feed. A complete
 * message ends with '}' or ']', so holding never delays one. */
static gsize
number_tail_length (const char *bytes, gsize len)
{
  gsize tail = 0;

  while (tail < len && is_number_char (bytes[len - 1 - tail]))
    tail++;
  return tail;
}

static gboolean
feed_tokener (QmpJsonStream *stream, const char *bytes, gsize len, GError **error)
{
  const gsize input_len = len;
  gsize tail = number_tail_length (bytes, len);
  gsize offset = 0;

  g_string_append_len (stream->held, bytes + len - tail, (gssize) tail);
  len -= tail;
  while (offset < len)
    {
      gsize room, chunk, consumed;
      enum json_tokener_error status;
      json_object *value;

      if (!stream->in_message)
        {
          /* Skipped here rather than by the tokener, so that blank lines between
           * messages never look like the start of one. */
          while (offset < len && is_blank (bytes[offset]))
            offset++;
          if (offset == len)
            break;
          stream->in_message = TRUE;
          stream->message_bytes = 0;
        }

      /* The tokener never sees more of one message than the cap: its buffers stay bounded. */
      room = stream->max_message_size - stream->message_bytes;
      if (room == 0)
        return stream_fail (stream, error,
                            g_strdup_printf ("QMP message exceeds the limit of %" G_GSIZE_FORMAT
                                             " bytes", stream->max_message_size));
      chunk = MIN (MIN (len - offset, room), (gsize) G_MAXINT);
      value = json_tokener_parse_ex (stream->tokener, bytes + offset, (int) chunk);
      status = json_tokener_get_error (stream->tokener);
      consumed = json_tokener_get_parse_end (stream->tokener);

      switch (status)
        {
        case json_tokener_continue:
          /* The tokener keeps every byte it was given when it asks for more. */
          stream->message_bytes += chunk;
          offset += chunk;
          break;
        case json_tokener_success:
          if (value == NULL)
            return stream_fail (stream, error,
                                g_strdup ("QMP stream holds a bare JSON null instead of a message"));
          g_queue_push_tail (&stream->complete, value);
          stream->in_message = FALSE;
          offset += consumed;
          break;
        case json_tokener_error_depth:
          return stream_fail (stream, error,
                              g_strdup_printf ("QMP message nests deeper than %d levels",
                                               stream->max_depth));
        default:
          {
            g_autofree char *quoted = quote_bytes (bytes + offset + consumed,
                                                   input_len - offset - consumed);
            return stream_fail (stream, error,
                                g_strdup_printf ("QMP stream is not JSON at %s: %s", quoted,
                                                 json_tokener_error_desc (status)));
          }
        }
    }
  if (stream->held->len > 0)
    {
      if (!stream->in_message)
        {
          stream->in_message = TRUE;
          stream->message_bytes = 0;
        }
      /* A peer sending digits forever must hit the cap like any other. */
      if (stream->held->len > stream->max_message_size - stream->message_bytes)
        return stream_fail (stream, error,
                            g_strdup_printf ("QMP message exceeds the limit of %" G_GSIZE_FORMAT
                                             " bytes", stream->max_message_size));
    }
  return TRUE;
}

gboolean
qmp_json_stream_feed (QmpJsonStream *stream, const char *bytes, gsize len, GError **error)
{
  g_autoptr (GString) joined = NULL;

  if (stream->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (stream->failure));
      return FALSE;
    }
  if (stream->held->len == 0)
    return feed_tokener (stream, bytes, len, error);
  /* The held bytes are fewer than the room left in the message, so this stays bounded. */
  joined = g_string_new_len (stream->held->str, (gssize) stream->held->len);
  g_string_append_len (joined, bytes, (gssize) len);
  g_string_truncate (stream->held, 0);
  return feed_tokener (stream, joined->str, joined->len, error);
}

json_object *
qmp_json_stream_pop (QmpJsonStream *stream)
{
  return g_queue_pop_head (&stream->complete);
}

gboolean
qmp_json_stream_in_message (QmpJsonStream *stream)
{
  return stream->in_message;
}
