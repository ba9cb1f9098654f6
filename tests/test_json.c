/* json: the writer's commas, nesting, escaping and times. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "json.h"

struct buf {
	char *data;
	size_t len;
	FILE *f;
};

static void open_buf(struct buf *b, struct json *j)
{
	b->f = open_memstream(&b->data, &b->len);
	assert_non_null(b->f);
	json_begin(j, b->f);
}

/* Ends the document and compares it (without the final newline). */
static void expect(struct buf *b, struct json *j, int rc, const char *want)
{
	assert_int_equal(json_end(j), rc);
	fclose(b->f);
	assert_true(b->len >= 1);
	assert_int_equal(b->data[b->len - 1], '\n');
	b->data[b->len - 1] = '\0';
	assert_string_equal(b->data, want);
	free(b->data);
}

static void test_nesting_and_commas(void **state)
{
	struct buf b;
	struct json j;

	(void)state;
	open_buf(&b, &j);
	json_object_open(&j);
	json_key(&j, "details");
	json_object_open(&j);
	json_key(&j, "sequence");
	json_uint_string(&j, 18446744073709551615u);
	json_kv_string(&j, "resourceOwner", "default");
	json_object_close(&j);
	json_key(&j, "list");
	json_array_open(&j);
	json_int(&j, -3);
	json_uint(&j, 7);
	json_bool(&j, true);
	json_bool(&j, false);
	json_null(&j);
	json_array_open(&j);
	json_array_close(&j);
	json_object_open(&j);
	json_object_close(&j);
	json_array_close(&j);
	json_kv_uint(&j, "n", 0);
	json_object_close(&j);
	expect(&b, &j, 0,
	       "{\"details\":{\"sequence\":\"18446744073709551615\",\"resourceOwner\":"
	       "\"default\"},\"list\":[-3,7,true,false,null,[],{}],\"n\":0}");
}

static void test_escapes_controls_and_quotes(void **state)
{
	struct buf b;
	struct json j;

	(void)state;
	open_buf(&b, &j);
	json_string(&j, "a\"b\\c/\b\f\n\r\t\x01\x1f\x7f end");
	expect(&b, &j, 0, "\"a\\\"b\\\\c/\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f end\"");
}

static void test_nul_inside_counted_string(void **state)
{
	struct buf b;
	struct json j;

	(void)state;
	open_buf(&b, &j);
	json_string_n(&j, "a\0b", 3);
	expect(&b, &j, 0, "\"a\\u0000b\"");
}

static void test_utf8_passes_invalid_replaced(void **state)
{
	struct buf b;
	struct json j;

	(void)state;
	open_buf(&b, &j);
	json_array_open(&j);
	/* é, €, 😀 pass as they are. */
	json_string(&j, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* A lone continuation byte, a cut sequence, an overlong '/', a
	 * surrogate and a byte past U+10FFFF each become U+FFFD. */
	json_string(&j, "\x80|\xe2\x82|\xc0\xaf|\xed\xa0\x80|\xf5\x80\x80\x80");
	json_array_close(&j);
	expect(&b, &j, 0,
	       "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\","
	       "\"\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
	       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"]");
}

static void test_unbalanced_fails(void **state)
{
	struct buf b;
	struct json j;

	(void)state;
	open_buf(&b, &j);
	json_object_open(&j);
	expect(&b, &j, -1, "{");
	open_buf(&b, &j);
	json_array_close(&j);
	expect(&b, &j, -1, "");
	open_buf(&b, &j);
	json_object_open(&j);
	json_key(&j, "k");
	json_object_close(&j); /* a key without a value */
	expect(&b, &j, -1, "{\"k\":");
}

static void test_too_deep_fails(void **state)
{
	struct buf b;
	struct json j;

	(void)state;
	open_buf(&b, &j);
	for (int i = 0; i <= JSON_DEPTH_MAX; i++)
		json_array_open(&j);
	assert_true(j.failed);
	assert_int_equal(json_end(&j), -1);
	fclose(b.f);
	free(b.data);
}

static void test_write_error_reported(void **state)
{
	struct json j;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (f == NULL)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	json_begin(&j, f);
	json_string(&j, "x");
	assert_int_equal(json_end(&j), -1);
	fclose(f);
}

static void test_time_ms(void **state)
{
	char buf[JSON_TIME_BUF];

	(void)state;
	assert_string_equal(json_time_ms(INT64_C(1718261075838), buf),
			    "2024-06-13T06:44:35.838Z");
	assert_string_equal(json_time_ms(0, buf), "1970-01-01T00:00:00.000Z");
	assert_string_equal(json_time_ms(-1, buf), "1969-12-31T23:59:59.999Z");
	/* Past 2038 (RFC 6238 4.2). */
	assert_string_equal(json_time_ms(INT64_C(4102444800000), buf),
			    "2100-01-01T00:00:00.000Z");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nesting_and_commas),
	    cmocka_unit_test(test_escapes_controls_and_quotes),
	    cmocka_unit_test(test_nul_inside_counted_string),
	    cmocka_unit_test(test_utf8_passes_invalid_replaced),
	    cmocka_unit_test(test_unbalanced_fails),
	    cmocka_unit_test(test_too_deep_fails),
	    cmocka_unit_test(test_write_error_reported),
	    cmocka_unit_test(test_time_ms),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
