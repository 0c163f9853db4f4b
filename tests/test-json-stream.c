/* tests/test-json-stream.c — framing QMP byte streams into JSON values. */
#include "tests/test-util.h"
#include "qmp/json-stream.h"
#include "qmp/session.h"

#include <string.h>

/* What QEMU 1.5.3 sent in one libvirt transcript, plus a reply whose string holds
 * braces and quotes, and an event: CRLF after each, as QEMU frames them. */
static const char conversation[] =
  "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 3, \"minor\": 5, \"major\": 1}, "
  "\"package\": \"\"}, \"capabilities\": []}}\r\n"
  "{\"return\": {}, \"id\": 1}\r\n"
  "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 12}, \"event\": \"STOP\"}\r\n"
  "{\"return\": {\"desc\": \"a \\\"quoted\\\" }{ brace\"}, \"id\": 2}\r\n";

static const char *const conversation_values[] = {
  ("{\"QMP\":{\"version\":{\"qemu\":{\"micro\":3,\"minor\":5,\"major\":1},\"package\":\"\"},"
   "\"capabilities\":[]}}"),
  "{\"return\":{},\"id\":1}",
  "{\"timestamp\":{\"seconds\":1700000000,\"microseconds\":12},\"event\":\"STOP\"}",
  "{\"return\":{\"desc\":\"a \\\"quoted\\\" }{ brace\"},\"id\":2}",
};

/* Moves every queued value out of @stream as compact JSON text into @values. */
static void
drain (QmpJsonStream *stream, GPtrArray *values)
{
  json_object *value;

  while ((value = qmp_json_stream_pop (stream)) != NULL)
    {
      g_ptr_array_add (values, g_strdup (json_object_to_json_string_ext (value,
                                                                        JSON_C_TO_STRING_PLAIN)));
      json_object_put (value);
    }
}

static void
assert_values (GPtrArray *values, const char *const *expected, gsize count)
{
  assert_int_equal (values->len, count);
  for (gsize i = 0; i < count; i++)
    assert_string_equal (g_ptr_array_index (values, i), expected[i]);
}

static void
test_many_in_one_feed (void **state)
{
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  assert_true (qmp_json_stream_feed (stream, conversation, strlen (conversation), &error));
  assert_null (error);
  drain (stream, values);
  assert_values (values, conversation_values, G_N_ELEMENTS (conversation_values));
  assert_false (qmp_json_stream_in_message (stream));
  assert_null (qmp_json_stream_pop (stream));
}

/* Two feeds split at every byte position: framing must not depend on read() sizes. */
static void
test_split_at_every_byte (void **state)
{
  gsize len = strlen (conversation);

  for (gsize split = 0; split <= len; split++)
    {
      g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
      g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GError) error = NULL;

      assert_true (qmp_json_stream_feed (stream, conversation, split, &error));
      drain (stream, values);
      assert_true (qmp_json_stream_feed (stream, conversation + split, len - split, &error));
      drain (stream, values);
      assert_null (error);
      assert_values (values, conversation_values, G_N_ELEMENTS (conversation_values));
      assert_false (qmp_json_stream_in_message (stream));
    }
}

static void
test_one_byte_at_a_time (void **state)
{
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  gsize len = strlen (conversation);

  for (gsize i = 0; i < len; i++)
    {
      g_autoptr (GError) error = NULL;
      assert_true (qmp_json_stream_feed (stream, conversation + i, 1, &error));
      drain (stream, values);
    }
  assert_values (values, conversation_values, G_N_ELEMENTS (conversation_values));
}

static void
test_separators (void **state)
{
  /* Bare LF, no separator at all, blank lines, tabs and spaces between values. */
  static const char text[] = "{\"a\":1}\n{\"b\":2}{\"c\":3}\r\n\r\n \t{\"d\":4}  \n";
  static const char *const expected[] = { "{\"a\":1}", "{\"b\":2}", "{\"c\":3}", "{\"d\":4}" };
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  assert_true (qmp_json_stream_feed (stream, text, strlen (text), &error));
  drain (stream, values);
  assert_values (values, expected, G_N_ELEMENTS (expected));
  assert_false (qmp_json_stream_in_message (stream));
}

static void
test_whitespace_is_not_a_message (void **state)
{
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  g_autoptr (GError) error = NULL;

  assert_true (qmp_json_stream_feed (stream, "\r\n  \t\n", 6, &error));
  assert_false (qmp_json_stream_in_message (stream));
  assert_null (qmp_json_stream_pop (stream));
  assert_true (qmp_json_stream_feed (stream, "", 0, &error));
  assert_false (qmp_json_stream_in_message (stream));
}

static void
test_in_message_until_complete (void **state)
{
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  g_autoptr (GError) error = NULL;
  json_object *value;

  assert_true (qmp_json_stream_feed (stream, "{\"return\": {", 12, &error));
  assert_true (qmp_json_stream_in_message (stream));
  assert_null (qmp_json_stream_pop (stream));
  assert_true (qmp_json_stream_feed (stream, "}, \"id\": 7}", 11, &error));
  assert_false (qmp_json_stream_in_message (stream));
  value = qmp_json_stream_pop (stream);
  assert_non_null (value);
  assert_int_equal (json_object_get_int (json_object_object_get (value, "id")), 7);
  json_object_put (value);
}

/* Feeds @text and expects a protocol error whose message contains @phrase. */
static void
assert_rejected (QmpJsonStream *stream, const char *text, gsize len, const char *phrase)
{
  g_autoptr (GError) error = NULL;

  assert_false (qmp_json_stream_feed (stream, text, len, &error));
  assert_non_null (error);
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_PROTOCOL));
  if (strstr (error->message, phrase) == NULL)
    fail_msg ("error \"%s\" does not mention \"%s\"", error->message, phrase);
}

static void
test_garbage (void **state)
{
  static const struct {
    const char *text;
    const char *phrase;
  } cases[] = {
    { "Welcome to the monitor\r\n", "\"Welcome to the monitor\\x0d\\x0a\"" },
    { "{\"return\": {}, \"id\": 1,}\r\n", "}" },
    { "{\"return\" {}}", "{}}" },
    { "/* comment */ {}", "/* comment */" },
    { "}", "}" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
      assert_rejected (stream, cases[i].text, strlen (cases[i].text), cases[i].phrase);
      assert_rejected (stream, "{}", 2, cases[i].phrase);   /* the failure sticks */
    }
}

static void
test_nul_and_binary (void **state)
{
  g_autoptr (QmpJsonStream) nul_stream = qmp_json_stream_new (0, 0);
  g_autoptr (QmpJsonStream) binary_stream = qmp_json_stream_new (0, 0);

  assert_rejected (nul_stream, "{\"a\":\0}", 7, "\\x00");
  assert_rejected (binary_stream, "\xff\xfe{}", 4, "\\xff\\xfe");
}

static void
test_garbage_after_good_values (void **state)
{
  static const char text[] = "{\"return\": {}, \"id\": 1}\r\n:-(";
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  json_object *value;

  assert_rejected (stream, text, strlen (text), ":-(");
  /* The message before the garbage was complete and stays available. */
  value = qmp_json_stream_pop (stream);
  assert_non_null (value);
  json_object_put (value);
  assert_null (qmp_json_stream_pop (stream));
}

static void
test_oversized (void **state)
{
  static const char fits[] = "{\"return\": \"0123456789abcdefgh\"}";
  static const char too_big[] = "{\"return\": \"0123456789abcdefghi\"}";
  g_autoptr (QmpJsonStream) exact = qmp_json_stream_new (32, 0);
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (32, 0);
  g_autoptr (GError) error = NULL;
  json_object *value;

  assert_int_equal (strlen (fits), 32);
  assert_true (qmp_json_stream_feed (exact, fits, strlen (fits), &error));
  value = qmp_json_stream_pop (exact);
  assert_non_null (value);
  json_object_put (value);
  /* Separators between messages do not count against the next one. */
  assert_true (qmp_json_stream_feed (exact, "\r\n\r\n", 4, &error));
  assert_true (qmp_json_stream_feed (exact, fits, strlen (fits), &error));
  value = qmp_json_stream_pop (exact);
  assert_non_null (value);
  json_object_put (value);

  /* One byte more, in pieces of 8: the feed that crosses the cap is refused. */
  for (gsize offset = 0; offset < 32; offset += 8)
    assert_true (qmp_json_stream_feed (stream, too_big + offset, 8, &error));
  assert_rejected (stream, too_big + 32, 1, "exceeds the limit of 32 bytes");
  assert_null (qmp_json_stream_pop (stream));
}

static void
test_oversized_unterminated_string (void **state)
{
  /* A peer that opens a string and never closes it must not make us buffer it all. */
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (4096, 0);
  g_autofree char *filler = g_strnfill (1024, 'x');
  g_autoptr (GError) error = NULL;
  gboolean accepted = TRUE;
  guint feeds = 0;

  assert_true (qmp_json_stream_feed (stream, "{\"return\": \"", 12, &error));
  while (accepted && feeds < 100)
    {
      accepted = qmp_json_stream_feed (stream, filler, 1024, &error);
      feeds++;
    }
  assert_false (accepted);
  assert_true (feeds <= 5);
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_PROTOCOL));
}

static void
test_too_deep (void **state)
{
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 3);
  g_autoptr (QmpJsonStream) deep_stream = qmp_json_stream_new (0, 3);
  g_autoptr (QmpJsonStream) default_stream = qmp_json_stream_new (0, 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) nested = g_string_new (NULL);
  json_object *value;

  /* Three containers deep is the limit... */
  assert_true (qmp_json_stream_feed (stream, "{\"a\":[{\"b\":1}]}", 15, &error));
  value = qmp_json_stream_pop (stream);
  assert_non_null (value);
  json_object_put (value);
  /* ...and four is one too many. */
  assert_rejected (deep_stream, "{\"a\":[{\"b\":[1]}]}", 17, "deeper than 3 levels");

  /* The default cap stops a hostile nesting long before the stack would suffer. */
  for (int i = 0; i < 100000; i++)
    g_string_append_c (nested, '[');
  assert_rejected (default_stream, nested->str, nested->len, "deeper than 64 levels");
}

static void
test_bare_values (void **state)
{
  /* Non-objects are handed out (the session rejects them); null has no value to hand out. */
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
  g_autoptr (QmpJsonStream) null_stream = qmp_json_stream_new (0, 0);
  g_autoptr (GError) error = NULL;
  json_object *value;

  assert_true (qmp_json_stream_feed (stream, "[1,2] \"text\"\r\n42", 16, &error));
  value = qmp_json_stream_pop (stream);
  assert_true (json_object_is_type (value, json_type_array));
  json_object_put (value);
  value = qmp_json_stream_pop (stream);
  assert_true (json_object_is_type (value, json_type_string));
  json_object_put (value);
  /* A number is only complete once something follows it. */
  assert_null (qmp_json_stream_pop (stream));
  assert_true (qmp_json_stream_in_message (stream));
  assert_true (qmp_json_stream_feed (stream, "\r\n", 2, &error));
  value = qmp_json_stream_pop (stream);
  assert_int_equal (json_object_get_int (value), 42);
  json_object_put (value);

  assert_rejected (null_stream, "null\r\n", 6, "null");
}

static void
test_eof_mid_message (void **state)
{
  gsize len = strlen (conversation_values[1]);

  /* Every proper prefix of a message leaves the stream inside it. */
  for (gsize cut = 1; cut < len; cut++)
    {
      g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
      g_autoptr (GError) error = NULL;
      assert_true (qmp_json_stream_feed (stream, conversation_values[1], cut, &error));
      assert_true (qmp_json_stream_in_message (stream));
      assert_null (qmp_json_stream_pop (stream));
    }
}

static void
test_number_split_across_feeds (void **state)
{
  /* "0-" is no number, wherever the feed boundary falls (json-c alone would accept it
   * as 0 when cut after the "0"). */
  static const char text[] = "{\"return\": 0-}\r\n";
  gsize len = strlen (text);

  for (gsize split = 0; split <= len; split++)
    {
      g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
      g_autoptr (GError) error = NULL;
      gboolean valid = qmp_json_stream_feed (stream, text, split, &error)
                       && qmp_json_stream_feed (stream, text + split, len - split, &error);
      json_object *value = qmp_json_stream_pop (stream);
      if (valid || value != NULL)
        fail_msg ("\"%s\" split at %" G_GSIZE_FORMAT " was accepted", text, split);
      assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_PROTOCOL));
    }
}

static void
test_valid_numbers_split (void **state)
{
  static const char text[] = "{\"a\": -12.5e+3, \"b\": [0, 10, 2E-2]}";

  for (gsize split = 0; split <= strlen (text); split++)
    {
      g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (0, 0);
      g_autoptr (GError) error = NULL;
      json_object *value;

      assert_true (qmp_json_stream_feed (stream, text, split, &error));
      assert_true (qmp_json_stream_feed (stream, text + split, strlen (text) - split, &error));
      value = qmp_json_stream_pop (stream);
      assert_non_null (value);
      assert_int_equal (json_object_get_int (json_object_object_get (value, "a")), -12500);
      assert_int_equal (json_object_array_length (json_object_object_get (value, "b")), 3);
      json_object_put (value);
    }
}

static void
test_endless_digits (void **state)
{
  /* Digits are held back until their number ends; they must still count against the cap. */
  g_autoptr (QmpJsonStream) stream = qmp_json_stream_new (1000, 0);
  g_autofree char *digits = g_strnfill (100, '7');
  g_autoptr (GError) error = NULL;
  gboolean accepted = TRUE;
  guint feeds = 0;

  assert_true (qmp_json_stream_feed (stream, "[", 1, &error));
  while (accepted && feeds < 1000)
    {
      accepted = qmp_json_stream_feed (stream, digits, 100, &error);
      feeds++;
    }
  assert_false (accepted);
  assert_int_equal (feeds, 10);
  assert_true (g_error_matches (error, QMP_ERROR, QMP_ERROR_PROTOCOL));
  assert_true (qmp_json_stream_in_message (stream));
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_many_in_one_feed),
    cmocka_unit_test (test_split_at_every_byte),
    cmocka_unit_test (test_one_byte_at_a_time),
    cmocka_unit_test (test_separators),
    cmocka_unit_test (test_whitespace_is_not_a_message),
    cmocka_unit_test (test_in_message_until_complete),
    cmocka_unit_test (test_garbage),
    cmocka_unit_test (test_nul_and_binary),
    cmocka_unit_test (test_garbage_after_good_values),
    cmocka_unit_test (test_oversized),
    cmocka_unit_test (test_oversized_unterminated_string),
    cmocka_unit_test (test_too_deep),
    cmocka_unit_test (test_bare_values),
    cmocka_unit_test (test_eof_mid_message),
    cmocka_unit_test (test_number_split_across_feeds),
    cmocka_unit_test (test_valid_numbers_split),
    cmocka_unit_test (test_endless_digits),
  };

  return cmocka_run_group_tests (tests, NULL, NULL);
}
