/* tests/fuzz-json-stream.c — libFuzzer target for the QMP framer.
 *
 * The first input byte picks a chunk size and the rest is the stream. The stream is
 * framed twice, in one feed and in chunks, and both must agree on the values and on
 * whether the stream is valid: framing must not depend on how read() cut the bytes.
 * Small caps make the size and depth limits reachable. */
#include "qmp/json-stream.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_SIZE 4096
#define FUZZ_MAX_DEPTH 8

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Frames @bytes in pieces of @chunk; the values go to @values as compact JSON. */
static gboolean
frame (const char *bytes, gsize len, gsize chunk, GPtrArray *values, gboolean *in_message)
{
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (FUZZ_MAX_SIZE, FUZZ_MAX_DEPTH);
  gboolean valid = TRUE;
  json_object *value;

  for (gsize offset = 0; offset < len && valid; offset += chunk)
    {
      g_autoptr (GError) error = NULL;
      valid = qmp_json_stream_feed (stream, bytes + offset, MIN (chunk, len - offset), &error);
      if (!valid && (error == NULL || error->message[0] == '\0'))
        abort ();
      while ((value = qmp_json_stream_pop (stream)) != NULL)
        {
          g_ptr_array_add (values, g_strdup (json_object_to_json_string_ext (value,
                                                                            JSON_C_TO_STRING_PLAIN)));
          json_object_put (value);
        }
    }
  if (!valid)
    {
      /* A failed stream stays failed. */
      g_autoptr (GError) error = NULL;
      if (qmp_json_stream_feed (stream, "{}", 2, &error) || error == NULL)
        abort ();
    }
  *in_message = qmp_json_stream_in_message (stream);
  return valid;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) whole = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) pieces = g_ptr_array_new_with_free_func (g_free);
  gboolean whole_valid, pieces_valid, whole_open, pieces_open;
  const char *bytes;
  gsize len, chunk;

  if (size < 1)
    return 0;
  chunk = (gsize) (data[0] % 17) + 1;
  bytes = (const char *) data + 1;
  len = size - 1;

  whole_valid = frame (bytes, len, G_MAXSIZE, whole, &whole_open);
  pieces_valid = frame (bytes, len, chunk, pieces, &pieces_open);
  if (whole_valid != pieces_valid || whole->len != pieces->len)
    abort ();
  for (guint i = 0; i < whole->len; i++)
    if (strcmp (g_ptr_array_index (whole, i), g_ptr_array_index (pieces, i)) != 0)
      abort ();
  if (whole_valid && whole_open != pieces_open)
    abort ();
  return 0;
}
