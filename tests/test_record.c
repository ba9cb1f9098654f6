/* record: the codec's round trip and its refusal of every damaged value. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"

/* Offsets of the version-1 layout (record.h), pinned here on purpose: a
 * change of format must show up as a failing test. */
#define OFF_VERSION 4
#define OFF_STATE 5
#define OFF_TYPE 6
#define OFF_ALG 7
#define OFF_DIGITS 8
#define OFF_PERIOD 9
#define OFF_WINDOW 13
#define OFF_SECRET_LEN 14
#define FIXED_AFTER_SECRET 44 /* counter .. created */

static void fill_full(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->state = RECORD_READY;
	r->params.type = OTP_HOTP;
	r->params.alg = OTP_SHA512;
	r->params.digits = 8;
	r->params.period = 60;
	r->window = 3;
	r->secret_len = SECRET_MAX;
	for (unsigned i = 0; i < SECRET_MAX; i++)
		r->secret[i] = (uint8_t)(i * 7 + 1);
	r->counter = 0x0102030405060708ULL;
	r->failures = 0xdeadbeefU;
	r->locked_until = -5; /* negative times survive the unsigned wire */
	r->sequence = UINT64_MAX;
	r->change_date_ms = 1718261075838LL;
	r->created = 1718261000LL;
	r->last_success.time = 1718261075LL;
	strcpy(r->last_success.service, "sshd");
	strcpy(r->last_success.rhost, "192.0.2.7");
	r->last_failure.time = INT64_MAX;
	memset(r->last_failure.service, 's', RECORD_SERVICE_MAX - 1);
	memset(r->last_failure.rhost, 'h', RECORD_RHOST_MAX - 1);
	r->emergency_count = RECORD_EMERGENCY_MAX;
	for (unsigned i = 0; i < RECORD_EMERGENCY_MAX; i++) {
		if (i == 3)
			continue; /* a used-up code: empty */
		/* the one format a record holds (record.h), told apart by i */
		snprintf(r->emergency[i], RECORD_HASH_MAX, "%s%022u$%043u",
			 RECORD_HASH_PREFIX, i, i);
	}
}

static size_t encode_ok(const struct record *r, uint8_t *buf)
{
	struct totp_err e;
	size_t len = 0;

	assert_int_equal(record_encode(r, buf, RECORD_ENCODED_MAX, &len, &e), 0);
	assert_true(len > 0 && len <= RECORD_ENCODED_MAX);
	return len;
}

static void assert_refused(const uint8_t *buf, size_t len, enum totp_reason why)
{
	struct record r;
	struct totp_err e;

	totp_err_clear(&e);
	assert_int_equal(record_decode(buf, len, &r, &e), -1);
	assert_int_equal(e.reason, why);
	assert_true(e.msg[0] != '\0');
	/* a refused value leaves nothing behind, the secret least of all */
	assert_int_equal(r.secret_len, 0);
	assert_int_equal(r.secret[0], 0);
}

static void test_round_trip_full(void **state)
{
	struct record in, out;
	struct totp_err e;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&in);
	len = encode_ok(&in, buf);
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_round_trip_minimal(void **state)
{
	struct record in, out;
	struct totp_err e;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.state = RECORD_PENDING;
	in.params.type = OTP_TOTP;
	in.params.alg = OTP_SHA1;
	in.params.digits = 6;
	in.params.period = 30;
	len = encode_ok(&in, buf);
	/* 5 header, 4 params, period 4, window 1, secret 1, 44 fixed,
	 * 2 events of 8 + 1 + 1, emergency count 1 */
	assert_int_equal(len, 5 + 4 + 4 + 1 + 1 + FIXED_AFTER_SECRET + 2 * 10 + 1);
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_encoding_is_big_endian(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t at;

	(void)state;
	fill_full(&r);
	r.params.type = OTP_TOTP;
	r.params.period = 0x00000e10; /* 3600 */
	encode_ok(&r, buf);
	assert_memory_equal(buf, "TOTP", 4);
	assert_int_equal(buf[OFF_VERSION], RECORD_VERSION);
	assert_int_equal(buf[OFF_STATE], RECORD_READY);
	assert_int_equal(buf[OFF_DIGITS], 8);
	assert_memory_equal(buf + OFF_PERIOD, "\x00\x00\x0e\x10", 4);
	assert_int_equal(buf[OFF_SECRET_LEN], SECRET_MAX);
	at = OFF_SECRET_LEN + 1 + SECRET_MAX;
	assert_memory_equal(buf + at, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
	assert_memory_equal(buf + at + 8, "\xde\xad\xbe\xef", 4);
	assert_memory_equal(buf + at + 12, "\xff\xff\xff\xff\xff\xff\xff\xfb", 8);
}

static void test_every_truncation_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&r);
	len = encode_ok(&r, buf);
	for (size_t cut = 0; cut < len; cut++) {
		/* a fresh heap copy of exactly `cut` bytes: ASan sees any overread */
		uint8_t *copy = malloc(cut > 0 ? cut : 1);

		assert_non_null(copy);
		memcpy(copy, buf, cut);
		assert_refused(copy, cut, TOTP_R_CORRUPT);
		free(copy);
	}
}

static void test_trailing_byte_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX + 1];
	size_t len;

	(void)state;
	fill_full(&r);
	len = encode_ok(&r, buf);
	buf[len] = 0;
	assert_refused(buf, len + 1, TOTP_R_CORRUPT);
}

static void test_bad_magic_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&r);
	len = encode_ok(&r, buf);
	for (size_t i = 0; i < 4; i++) {
		buf[i] ^= 0x20;
		assert_refused(buf, len, TOTP_R_CORRUPT);
		buf[i] ^= 0x20;
	}
}

static void test_versions(void **state)
{
	struct record r, out;
	struct totp_err e;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&r);
	len = encode_ok(&r, buf);
	buf[OFF_VERSION] = RECORD_VERSION + 1;
	assert_refused(buf, len, TOTP_R_VERSION);
	buf[OFF_VERSION] = 0xff;
	assert_refused(buf, len, TOTP_R_VERSION);
	/* only the header of a newer record is needed to tell it */
	assert_refused(buf, OFF_VERSION + 1, TOTP_R_VERSION);
	buf[OFF_VERSION] = 0;
	assert_refused(buf, len, TOTP_R_CORRUPT);
	buf[OFF_VERSION] = RECORD_VERSION;
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
}

static void test_enum_corruptions_refused(void **state)
{
	static const struct {
		size_t off;
		uint8_t bad[4];
		size_t nbad;
	} cases[] = {
	    {OFF_STATE, {0, 4, 0xff}, 3},
	    {OFF_TYPE, {2, 0x80, 0xff}, 3},
	    {OFF_ALG, {3, 0x7f, 0xff}, 3},
	    {OFF_DIGITS, {0, 5, 9, 0xff}, 4},
	    {OFF_WINDOW, {OTP_WINDOW_MAX + 1, 0xff}, 2},
	};
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&r);
	len = encode_ok(&r, buf);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint8_t keep = buf[cases[c].off];

		for (size_t i = 0; i < cases[c].nbad; i++) {
			buf[cases[c].off] = cases[c].bad[i];
			assert_refused(buf, len, TOTP_R_CORRUPT);
		}
		buf[cases[c].off] = keep;
	}
}

static void test_bad_periods_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&r);
	r.params.type = OTP_TOTP;
	len = encode_ok(&r, buf);
	memcpy(buf + OFF_PERIOD, "\x00\x00\x00\x00", 4); /* TOTP needs a period */
	assert_refused(buf, len, TOTP_R_CORRUPT);
	memcpy(buf + OFF_PERIOD, "\x00\x00\x0e\x11", 4); /* 3601 */
	assert_refused(buf, len, TOTP_R_CORRUPT);
}

/* Copies enc with the byte at `at` (a length) replaced by `newlen` and the
 * old field's bytes replaced by `newlen` bytes of 'x'; the rest follows. */
static size_t splice_len(const uint8_t *enc, size_t len, size_t at, uint8_t newlen,
			 uint8_t *out)
{
	size_t oldlen = enc[at];
	size_t n = 0;

	memcpy(out, enc, at);
	n = at;
	out[n++] = newlen;
	memset(out + n, 'x', newlen);
	n += newlen;
	memcpy(out + n, enc + at + 1 + oldlen, len - at - 1 - oldlen);
	return n + len - at - 1 - oldlen;
}

static void assert_splice(const struct record *r, size_t at, uint8_t okl, uint8_t badl)
{
	uint8_t enc[RECORD_ENCODED_MAX], out[RECORD_ENCODED_MAX + 512];
	struct record dec;
	struct totp_err e;
	size_t len = encode_ok(r, enc), n;

	/* the longest length that fits decodes... */
	n = splice_len(enc, len, at, okl, out);
	assert_int_equal(record_decode(out, n, &dec, &e), 0);
	/* ...one more byte, though present in full, is refused */
	n = splice_len(enc, len, at, badl, out);
	assert_refused(out, n, TOTP_R_CORRUPT);
}

static void test_overlong_lengths_refused(void **state)
{
	struct record r;
	size_t ev1, ev2;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state = RECORD_PENDING;
	r.params.digits = 6;
	r.params.period = 30;
	r.secret_len = 1;
	ev1 = OFF_SECRET_LEN + 1 + 1 + FIXED_AFTER_SECRET; /* last success */
	ev2 = ev1 + 8 + 1 + 1;				   /* time, 2 empty strings */

	assert_splice(&r, OFF_SECRET_LEN, SECRET_MAX, SECRET_MAX + 1);
	assert_splice(&r, ev1 + 8, RECORD_SERVICE_MAX - 1, RECORD_SERVICE_MAX);
	/* rhost: 255, the u8 ceiling, is its longest (test_rhost_max_is_255) */
	assert_splice(&r, ev2 + 8, RECORD_SERVICE_MAX - 1, 0xff);
	/* a hash has one length now: test_foreign_hashes_refused */
}

static void test_rhost_max_is_255(void **state)
{
	/* RECORD_RHOST_MAX - 1 is the u8 ceiling: the length byte cannot say
	 * more, so the overlong case is a 256-byte rhost the encoder refuses */
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	struct totp_err e;
	size_t len;

	(void)state;
	assert_int_equal(RECORD_RHOST_MAX - 1, 0xff);
	fill_full(&r);
	memset(r.last_success.rhost, 'h', RECORD_RHOST_MAX); /* no NUL */
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void test_emergency_count_over_max_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len, at;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state = RECORD_READY;
	r.params.digits = 6;
	r.params.period = 30;
	len = encode_ok(&r, buf);
	at = len - 1; /* the count, last with no codes */
	assert_int_equal(buf[at], 0);
	/* 21 empty hashes, present in full, are still too many */
	buf[at] = RECORD_EMERGENCY_MAX + 1;
	memset(buf + len, 0, RECORD_EMERGENCY_MAX + 1);
	assert_refused(buf, len + RECORD_EMERGENCY_MAX + 1, TOTP_R_CORRUPT);
	buf[at] = RECORD_EMERGENCY_MAX;
	{
		struct record out;
		struct totp_err e;

		assert_int_equal(record_decode(buf, len + RECORD_EMERGENCY_MAX, &out, &e),
				 0);
		assert_int_equal(out.emergency_count, RECORD_EMERGENCY_MAX);
	}
}

static void test_embedded_nul_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len, at;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state = RECORD_READY;
	r.params.digits = 6;
	r.params.period = 30;
	strcpy(r.last_success.service, "sshd");
	len = encode_ok(&r, buf);
	at = OFF_SECRET_LEN + 1 + FIXED_AFTER_SECRET + 8; /* service length */
	assert_int_equal(buf[at], 4);
	buf[at + 2] = '\0';
	assert_refused(buf, len, TOTP_R_CORRUPT);
}

static void test_encode_refuses_bad_records(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	struct totp_err e;
	size_t len;

	(void)state;
	fill_full(&r);
	r.state = (enum record_state)0;
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	fill_full(&r);
	r.params.digits = 9;
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	fill_full(&r);
	r.secret_len = SECRET_MAX + 1;
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	fill_full(&r);
	r.emergency_count = RECORD_EMERGENCY_MAX + 1;
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	fill_full(&r);
	memset(r.emergency[2], 'x', RECORD_HASH_MAX); /* unterminated */
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	fill_full(&r);
	memset(r.last_failure.service, 's', RECORD_SERVICE_MAX);
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void test_encode_small_buffer(void **state)
{
	struct record r;
	uint8_t buf[64];
	struct totp_err e;
	size_t len = 7;

	(void)state;
	fill_full(&r);
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INTERNAL);
	assert_int_equal(len, 7);
	/* what was written of the secret is wiped */
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

static void test_add_event(void **state)
{
	struct record r;

	(void)state;
	memset(&r, 0, sizeof(r));
	record_add_event(&r, 1718261075838LL);
	assert_int_equal(r.sequence, 1);
	assert_int_equal(r.change_date_ms, 1718261075838LL);
	record_add_event(&r, 1718261075900LL);
	assert_int_equal(r.sequence, 2);
	assert_int_equal(r.change_date_ms, 1718261075900LL);
}

static void test_wipe(void **state)
{
	struct record r;
	static const struct record zero;

	(void)state;
	fill_full(&r);
	record_wipe(&r);
	assert_memory_equal(&r, &zero, sizeof(r));
	record_wipe(NULL);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(record_state_name(RECORD_PENDING), "pending");
	assert_string_equal(record_state_name(RECORD_READY), "ready");
	assert_string_equal(record_state_name(RECORD_REMOVED), "removed");
	assert_string_equal(record_state_name((enum record_state)0), "unknown");
	assert_string_equal(record_state_name((enum record_state)42), "unknown");
}

/* Every field at its longest encodes to exactly RECORD_ENCODED_LARGEST,
 * the slot size the store gives each record. */
static void test_largest_record(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	struct totp_err e;
	size_t len = 0;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.state = RECORD_READY;
	r.params = (struct otp_params){OTP_TOTP, OTP_SHA512, 8, 30};
	r.secret_len = SECRET_MAX;
	memset(r.last_success.service, 's', RECORD_SERVICE_MAX - 1);
	memset(r.last_success.rhost, 'h', RECORD_RHOST_MAX - 1);
	r.last_failure = r.last_success;
	r.emergency_count = RECORD_EMERGENCY_MAX;
	for (int i = 0; i < RECORD_EMERGENCY_MAX; i++)
		memset(r.emergency[i], 'x', RECORD_HASH_MAX - 1);
	/* the bound counts hashes of RECORD_HASH_MAX - 1 bytes: the codec
	 * refuses them (issue 18), so the largest record is smaller */
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	for (int i = 0; i < RECORD_EMERGENCY_MAX; i++)
		snprintf(r.emergency[i], RECORD_HASH_MAX, "%s%022d$%043d",
			 RECORD_HASH_PREFIX, i, i);
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), 0);
	assert_int_equal(len, RECORD_ENCODED_LARGEST -
				  RECORD_EMERGENCY_MAX *
				      (RECORD_HASH_MAX - 1 - RECORD_HASH_LEN));
	assert_true(RECORD_ENCODED_LARGEST <= RECORD_ENCODED_MAX);
}

/* A record with no emergency hash, then one hash appended as it is (the
 * hash count is the encoding's last byte). */
static size_t with_raw_hash(uint8_t *buf, const char *hash)
{
	struct record r;
	size_t len, hl = strlen(hash);

	memset(&r, 0, sizeof(r));
	r.state = RECORD_READY;
	r.params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	len = encode_ok(&r, buf);
	assert_int_equal(buf[len - 1], 0);
	buf[len - 1] = 1;
	buf[len++] = (uint8_t)hl;
	memcpy(buf + len, hash, hl);
	return len + hl;
}

/* Issue 18, finding 3: only the hash this build writes is taken, yescrypt
 * at its one cost, so that a record cannot make a login hash for minutes
 * (or days): another method, another cost or a malformed hash is damage. */
static void test_foreign_hashes_refused(void **state)
{
	static const char *const foreign[] = {
	    /* bcrypt, cost 14 and 31 */
	    "$2b$14$abcdefghijklmnopqrstuuJ2sFfSQdoxLz8BtTdNp0kXyBxvqYO6i",
	    "$2b$31$abcdefghijklmnopqrstuuJ2sFfSQdoxLz8BtTdNp0kXyBxvqYO6i",
	    /* yescrypt at other costs: jGT (1.88 GB, 48 s), j8T, jAT */
	    "$y$jGT$KECXgkU0WiIH8X/900QwT0$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC",
	    "$y$j8T$KECXgkU0WiIH8X/900QwT0$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC",
	    "$y$jAT$KECXgkU0WiIH8X/900QwT0$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC",
	    /* sha512crypt with a million rounds; md5crypt */
	    "$6$rounds=999999999$saltsaltsaltsalt$"
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
	    "$1$saltsalt$abcdefghijklmnopqrstuv",
	    /* yescrypt at this build's cost, malformed */
	    "$y$j9T$x$y",
	    "$y$j9T$KECXgkU0WiIH8X/900QwT$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiCx",
	    "$y$j9T$KECXgkU0WiIH8X/900QwT0$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySi",
	    "$y$j9T$KECXgkU0WiIH8X/900QwT0$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlyS!C",
	    "$y$j9T$KECXgkU0WiIH8X/900QwT0!BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC",
	    "*0",
	};
	const char *good =
	    "$y$j9T$KECXgkU0WiIH8X/900QwT0$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC";
	uint8_t buf[RECORD_ENCODED_MAX];
	struct record r;
	struct totp_err e;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		len = with_raw_hash(buf, foreign[i]);
		totp_err_clear(&e);
		if (record_decode(buf, len, &r, &e) != -1)
			fail_msg("hash %s was taken", foreign[i]);
		assert_int_equal(e.reason, TOTP_R_CORRUPT);
	}
	len = with_raw_hash(buf, good);
	assert_int_equal(record_decode(buf, len, &r, &e), 0);
	assert_string_equal(r.emergency[0], good);
	/* a used-up code (an empty hash) is fine */
	len = with_raw_hash(buf, "");
	assert_int_equal(record_decode(buf, len, &r, &e), 0);
	assert_string_equal(r.emergency[0], "");
}

/* Issue 18, finding 5: a service or remote host holding a control byte
 * (a terminal escape) is refused by the decoder; the encoder, handed one
 * by a login, writes '?' in its place, so the record stays readable. */
static void test_control_bytes_in_events(void **state)
{
	static const char *const hostile[] = {"\033]0;owned\007",
					      "a\rb",
					      "\033[2J",
					      "x\x7fy",
					      "\x9b"
					      "2J",
					      "\xc3\xa9"};
	uint8_t buf[RECORD_ENCODED_MAX];
	struct record r, out;
	struct totp_err e;
	size_t len, at;

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		size_t n = strlen(hostile[i]);

		memset(&r, 0, sizeof(r));
		r.state = RECORD_READY;
		r.params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
		r.last_failure.time = 1;
		strcpy(r.last_failure.service, "sshd");
		memset(r.last_failure.rhost, 'h', n);
		len = encode_ok(&r, buf);
		/* the bytes as a user could write them into their own store */
		at = OFF_SECRET_LEN + 1 + FIXED_AFTER_SECRET + 10 + 8 + 1 + 4 + 1;
		assert_int_equal(buf[at - 1], n);
		memcpy(buf + at, hostile[i], n);
		assert_refused(buf, len, TOTP_R_CORRUPT);
		/* and as a login hands them over: written as '?' */
		memcpy(r.last_failure.rhost, hostile[i], n);
		strcpy(r.last_failure.service, hostile[i]);
		len = encode_ok(&r, buf);
		assert_int_equal(record_decode(buf, len, &out, &e), 0);
		assert_int_equal(strlen(out.last_failure.rhost), n);
		for (size_t k = 0; k < n; k++) {
			unsigned char c = (unsigned char)hostile[i][k];
			char want = c >= 0x20 && c < 0x7f ? (char)c : '?';

			assert_int_equal(out.last_failure.rhost[k], want);
			assert_int_equal(out.last_failure.service[k], want);
		}
	}
	/* printable ASCII is kept as it is */
	memset(&r, 0, sizeof(r));
	r.state = RECORD_READY;
	r.params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	strcpy(r.last_success.rhost, "host-1.example.org [2001:db8::1]:22 ~!");
	len = encode_ok(&r, buf);
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
	assert_string_equal(out.last_success.rhost, r.last_success.rhost);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_full),
	    cmocka_unit_test(test_round_trip_minimal),
	    cmocka_unit_test(test_encoding_is_big_endian),
	    cmocka_unit_test(test_every_truncation_refused),
	    cmocka_unit_test(test_trailing_byte_refused),
	    cmocka_unit_test(test_bad_magic_refused),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_enum_corruptions_refused),
	    cmocka_unit_test(test_bad_periods_refused),
	    cmocka_unit_test(test_overlong_lengths_refused),
	    cmocka_unit_test(test_rhost_max_is_255),
	    cmocka_unit_test(test_emergency_count_over_max_refused),
	    cmocka_unit_test(test_embedded_nul_refused),
	    cmocka_unit_test(test_encode_refuses_bad_records),
	    cmocka_unit_test(test_encode_small_buffer),
	    cmocka_unit_test(test_add_event),
	    cmocka_unit_test(test_wipe),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_largest_record),
	    cmocka_unit_test(test_foreign_hashes_refused),
	    cmocka_unit_test(test_control_bytes_in_events),
	};
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
