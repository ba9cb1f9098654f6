/* json: a streaming writer with RFC 8259 string escaping. */
#include "config.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "json.h"

void json_begin(struct json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

int json_end(struct json *j)
{
	if (j->depth != 0)
		j->failed = true;
	if (fputc('\n', j->f) == EOF || fflush(j->f) == EOF || ferror(j->f))
		j->failed = true;
	return j->failed ? -1 : 0;
}

static void put(struct json *j, const char *s, size_t n)
{
	if (n > 0 && fwrite(s, 1, n, j->f) != n)
		j->failed = true;
}

static void puts_raw(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Before any value or key: the comma that separates it from the last. */
static void separate(struct json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (j->depth > 0 && j->need_comma[j->depth - 1])
		put(j, ",", 1);
	if (j->depth > 0)
		j->need_comma[j->depth - 1] = true;
}

static void open_(struct json *j, char c)
{
	separate(j);
	put(j, &c, 1);
	if (j->depth >= JSON_DEPTH_MAX) {
		j->failed = true;
		return;
	}
	j->need_comma[j->depth++] = false;
}

static void close_(struct json *j, char c)
{
	if (j->depth == 0 || j->after_key) {
		j->failed = true;
		return;
	}
	j->depth--;
	put(j, &c, 1);
}

void json_object_open(struct json *j)
{
	open_(j, '{');
}

void json_object_close(struct json *j)
{
	close_(j, '}');
}

void json_array_open(struct json *j)
{
	open_(j, '[');
}

void json_array_close(struct json *j)
{
	close_(j, ']');
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), or 0 if
 * it is not one (overlong forms, surrogates and values past U+10FFFF are
 * not valid). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp, min;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1fu, min = 0x80;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0fu, min = 0x800;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07u, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3fu);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void escape_byte(struct json *j, unsigned char c)
{
	char buf[8];

	switch (c) {
	case '"':
		puts_raw(j, "\\\"");
		return;
	case '\\':
		puts_raw(j, "\\\\");
		return;
	case '\b':
		puts_raw(j, "\\b");
		return;
	case '\f':
		puts_raw(j, "\\f");
		return;
	case '\n':
		puts_raw(j, "\\n");
		return;
	case '\r':
		puts_raw(j, "\\r");
		return;
	case '\t':
		puts_raw(j, "\\t");
		return;
	default:
		snprintf(buf, sizeof(buf), "\\u%04x", (unsigned)c);
		puts_raw(j, buf);
	}
}

void json_string_n(struct json *j, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	separate(j);
	put(j, "\"", 1);
	while (i < n) {
		unsigned char c = p[i];
		size_t len;

		if (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) {
			escape_byte(j, c);
			i++;
		} else if (c < 0x80) {
			put(j, (const char *)&p[i], 1);
			i++;
		} else if ((len = utf8_len(&p[i], n - i)) > 0) {
			put(j, (const char *)&p[i], len);
			i += len;
		} else {
			puts_raw(j, "\xef\xbf\xbd"); /* U+FFFD */
			i++;
		}
	}
	put(j, "\"", 1);
}

void json_string(struct json *j, const char *s)
{
	json_string_n(j, s, strlen(s));
}

void json_key(struct json *j, const char *key)
{
	json_string(j, key);
	put(j, ":", 1);
	j->after_key = true;
}

void json_int(struct json *j, int64_t v)
{
	separate(j);
	if (fprintf(j->f, "%" PRId64, v) < 0)
		j->failed = true;
}

void json_uint(struct json *j, uint64_t v)
{
	separate(j);
	if (fprintf(j->f, "%" PRIu64, v) < 0)
		j->failed = true;
}

void json_uint_string(struct json *j, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	json_string(j, buf);
}

void json_bool(struct json *j, bool v)
{
	separate(j);
	puts_raw(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	separate(j);
	puts_raw(j, "null");
}

void json_kv_string(struct json *j, const char *key, const char *s)
{
	json_key(j, key);
	json_string(j, s);
}

void json_kv_uint(struct json *j, const char *key, uint64_t v)
{
	json_key(j, key);
	json_uint(j, v);
}

const char *json_time_ms(int64_t ms, char out[JSON_TIME_BUF])
{
	return clock_format(ms, CLOCK_UTC_MS, out, JSON_TIME_BUF);
}
