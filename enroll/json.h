/*
 * json: a small streaming JSON writer, enough for totp-enroll's answers.
 *
 * Commas and nesting are tracked here so callers only say what comes next.
 * Strings are escaped per RFC 8259: '"', '\\' and every control character
 * (as \n, \t, ... or \u00XX), DEL as \u007f; valid UTF-8 passes through as
 * is, and a byte that is not part of valid UTF-8 becomes U+FFFD, so the
 * output is always valid JSON whatever a message or path holds.
 * Write errors are remembered and reported once, by json_end().
 */
#ifndef ENROLL_JSON_H
#define ENROLL_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_DEPTH_MAX 16

struct json {
	FILE *f;
	int depth;
	bool need_comma[JSON_DEPTH_MAX];
	bool after_key; /* a key was just written: the value needs no comma */
	bool failed;
};

void json_begin(struct json *j, FILE *f);
/* Ends the document with a newline and flushes: 0, or -1 if anything
 * failed (a write error, or unbalanced nesting). */
int json_end(struct json *j);

void json_object_open(struct json *j);
void json_object_close(struct json *j);
void json_array_open(struct json *j);
void json_array_close(struct json *j);
void json_key(struct json *j, const char *key);

void json_string(struct json *j, const char *s);
/* The first n bytes of s (which may hold NULs: escaped as \u0000). */
void json_string_n(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
/* A 64-bit number written as a string, as protobuf's JSON does for
 * uint64 (the "sequence" of ZITADEL's details). */
void json_uint_string(struct json *j, uint64_t v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);

/* Shorthands for "key": value. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_uint(struct json *j, const char *key, uint64_t v);

/* Writes unix milliseconds as RFC 3339 UTC with milliseconds,
 * "2024-06-13T06:44:35.838Z", into out (at least JSON_TIME_BUF bytes);
 * returns out.  A time gmtime cannot represent gives "". */
#define JSON_TIME_BUF 96
const char *json_time_ms(int64_t ms, char out[JSON_TIME_BUF]);

#endif
