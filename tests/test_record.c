/* record: the codec's round trips (v2, and v1 read into generator
 * "default") and its refusal of every damaged value. */
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

/* Offsets of the version-2 layout (record.h), pinned here on purpose: a
 * change of format must show up as a failing test. */
#define OFF_VERSION 4
#define OFF_IMM_LEN 5
#define OFF_IMM 7
/* in the immutable area of a record whose generator 0 is "default" */
#define IMM_N 0
#define IMM_STATE 9
#define IMM_TYPE 10
#define IMM_ALG 11
#define IMM_DIGITS 12
#define IMM_PERIOD 13
#define IMM_WINDOW 17
#define IMM_SECRET_LEN 18

static const char good_hash[] =
    "$y$j9T$KECXgkU0WiIH8X/900QwT0$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC";

static void fill_gen(struct record_gen *g, unsigned i)
{
	snprintf(g->name, sizeof(g->name), "gen-%012u", i); /* 16 bytes, the most */
	g->state = i == 1 ? RECORD_PENDING : RECORD_READY;
	g->params.type = i % 2 ? OTP_HOTP : OTP_TOTP;
	g->params.alg = OTP_SHA512;
	g->params.digits = 8;
	g->params.period = 60;
	g->window = 3;
	g->secret_len = SECRET_MAX;
	for (unsigned k = 0; k < SECRET_MAX; k++)
		g->secret[k] = (uint8_t)(k * 7 + 1 + i);
	g->counter = 0x0102030405060708ULL + i;
	g->drift = (int8_t)(i % 2 ? -RECORD_DRIFT_MAX : RECORD_DRIFT_MAX);
	g->created = 1718261000LL + i;
	g->last_used = -1 - (int64_t)i; /* negative times survive the wire */
}

/* Every field at its longest. */
static void fill_full(struct record *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < RECORD_GENERATORS_MAX; i++)
		fill_gen(&r->gen[i], i);
	r->failures = 0xdeadbeefU;
	r->locked_until = -5;
	r->sequence = UINT64_MAX;
	r->change_date_ms = 1718261075838LL;
	r->last_success.time = 1718261075LL;
	r->last_success.by = RECORD_BY_EMERGENCY;
	memset(r->last_success.service, 'S', RECORD_SERVICE_MAX - 1);
	memset(r->last_success.rhost, 'R', RECORD_RHOST_MAX - 1);
	r->last_failure.time = INT64_MAX;
	r->last_failure.by = 3;
	memset(r->last_failure.service, 's', RECORD_SERVICE_MAX - 1);
	memset(r->last_failure.rhost, 'h', RECORD_RHOST_MAX - 1);
	r->emergency_count = RECORD_EMERGENCY_MAX;
	r->emergency_used = 1U << 3 | 1U << 9;
	for (unsigned i = 0; i < RECORD_EMERGENCY_MAX; i++) {
		memset(r->emergency[i].salt, (int)(0x10 + i), RECORD_SALT_LEN);
		memset(r->emergency[i].digest, (int)(0x80 + i), RECORD_DIGEST_LEN);
	}
	r->grace_count = RECORD_GRACE_MAX;
	for (unsigned i = 0; i < RECORD_GRACE_MAX; i++) {
		memset(r->grace[i].key, (int)(0x40 + i), RECORD_GRACE_KEY_LEN);
		r->grace[i].time = 1718261000LL + i;
	}
}

static void fill_minimal(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = RECORD_PENDING;
	r->gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
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
	assert_int_equal(r.gen[0].secret_len, 0);
	assert_int_equal(r.gen[0].secret[0], 0);
	assert_int_equal(r.gen[1].secret[0], 0);
}

/* ---- a version-1 writer (release 01505be's layout), for the reader ---- */

struct v1 {
	uint8_t b[4096];
	size_t n;
};

static void v1_put(struct v1 *w, const void *p, size_t n)
{
	assert_true(w->n + n <= sizeof(w->b));
	memcpy(w->b + w->n, p, n);
	w->n += n;
}

static void v1_be(struct v1 *w, uint64_t v, size_t n)
{
	for (size_t i = n; i > 0; i--) {
		uint8_t c = (uint8_t)(v >> (8 * (i - 1)));

		v1_put(w, &c, 1);
	}
}

static void v1_str(struct v1 *w, const char *s)
{
	v1_be(w, strlen(s), 1);
	v1_put(w, s, strlen(s));
}

/* A v1 READY TOTP record, SHA1, 20-byte secret, last success from
 * svc/rhost, the given hashes ("" is a used code). */
static void v1_make(struct v1 *w, const char *svc, const char *rhost,
		    const char *const *hashes, unsigned nh)
{
	memset(w, 0, sizeof(*w));
	v1_put(w, "TOTP", 4);
	v1_be(w, 1, 1);
	v1_be(w, RECORD_READY, 1);
	v1_be(w, OTP_TOTP, 1);
	v1_be(w, OTP_SHA1, 1);
	v1_be(w, 6, 1);
	v1_be(w, 30, 4);
	v1_be(w, 2, 1); /* window */
	v1_be(w, 20, 1);
	for (uint8_t i = 0; i < 20; i++)
		v1_put(w, &i, 1);
	v1_be(w, 57290000, 8); /* counter */
	v1_be(w, 2, 4);	       /* failures */
	v1_be(w, 0, 8);	       /* locked_until */
	v1_be(w, 7, 8);	       /* sequence */
	v1_be(w, 1718261075838ULL, 8);
	v1_be(w, 1718261000ULL, 8); /* created */
	v1_be(w, 1718261075ULL, 8);
	v1_str(w, svc);
	v1_str(w, rhost);
	v1_be(w, 0, 8);
	v1_str(w, "");
	v1_str(w, "");
	v1_be(w, nh, 1);
	for (unsigned i = 0; i < nh; i++)
		v1_str(w, hashes[i]);
}

/* ---- version 2 ---------------------------------------------------------- */

static void test_round_trip_full(void **state)
{
	struct record in, out;
	struct totp_err e;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&in);
	len = encode_ok(&in, buf);
	/* every field at its longest is the largest encoding */
	assert_int_equal(len, RECORD_ENCODED_LARGEST);
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	assert_int_equal(record_generators(&out), RECORD_GENERATORS_MAX);
	/* the areas are the encoding's */
	{
		uint8_t imm[RECORD_IMMUTABLE_MAX], mut[RECORD_MUTABLE_MAX];
		size_t il, ml;

		assert_int_equal(record_encode_areas(&in, imm, &il, mut, &ml, &e), 0);
		assert_int_equal(il, RECORD_IMMUTABLE_MAX);
		assert_int_equal(ml, RECORD_MUTABLE_MAX);
		assert_memory_equal(buf + OFF_IMM, imm, il);
		assert_memory_equal(buf + OFF_IMM + il + 2, mut, ml);
		assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), 0);
		assert_memory_equal(&in, &out, sizeof(in));
	}
}

static void test_round_trip_minimal(void **state)
{
	struct record in, out;
	struct totp_err e;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_minimal(&in);
	len = encode_ok(&in, buf);
	/* 5 header, 2 + imm (1 n, 8 name, 4 params, 4 period, 1 window, 1
	 * secret, 8 created, 1 codes), 2 + mut (1 n, 17 generator, 4 + 8 + 8
	 * + 8 + 2 counters, 2 events of 8 + 1 + 1 + 1, 1 grace) */
	assert_int_equal(len, 5 + 2 + 28 + 2 + (1 + 17 + 30 + 22 + 1));
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
	/* a generator without a name is "default" on disk, "" in memory */
	assert_memory_equal(&in, &out, sizeof(in));
	strcpy(in.gen[0].name, RECORD_DEFAULT_NAME);
	assert_int_equal(record_decode(buf, encode_ok(&in, buf), &out, &e), 0);
	assert_string_equal(out.gen[0].name, "");
	assert_ptr_equal(record_generator(&out, NULL), &out.gen[0]);
	assert_ptr_equal(record_generator(&out, "default"), &out.gen[0]);
	assert_null(record_generator(&out, "spare"));
}

static void test_generator_view(void **state)
{
	struct record r;

	(void)state;
	fill_full(&r);
	assert_ptr_equal(record_generator(&r, "gen-000000000002"), &r.gen[2]);
	r.gen[2].state = 0; /* a free entry ends the list */
	assert_int_equal(record_generators(&r), 2);
	assert_null(record_generator(&r, "gen-000000000003"));
}

static void test_generator_add_and_remove(void **state)
{
	struct record r, out;
	struct record_gen *g;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;
	struct totp_err err;

	(void)state;
	fill_full(&r);
	r.last_success.by = 1;
	r.last_failure.by = 3;
	/* full: a fifth is refused, the record unchanged */
	out = r;
	assert_null(record_generator_add(&r, "fifth", &err));
	assert_int_equal(err.reason, TOTP_R_TOO_MANY);
	assert_memory_equal(&out, &r, sizeof(r));
	/* the second goes: the rest move down, and the events follow them */
	record_generator_remove(&r, 1);
	assert_int_equal(record_generators(&r), 3);
	assert_string_equal(record_gen_name(&r.gen[1]), out.gen[2].name);
	assert_int_equal(r.gen[2].counter, out.gen[3].counter);
	assert_int_equal(r.gen[3].state, 0);
	assert_int_equal(r.gen[3].secret_len, 0);
	assert_int_equal(r.gen[3].secret[0], 0);
	assert_int_equal(r.last_success.by, RECORD_BY_NONE); /* it was the second's */
	assert_int_equal(r.last_failure.by, 2);
	record_generator_remove(&r, 7); /* none such: nothing */
	assert_int_equal(record_generators(&r), 3);
	/* a bad name is refused, a good one goes last, zeroed */
	assert_null(record_generator_add(&r, "Bad", &err));
	assert_int_equal(err.reason, TOTP_R_INVALID);
	g = record_generator_add(&r, "token", &err);
	assert_ptr_equal(g, &r.gen[3]);
	assert_string_equal(g->name, "token");
	assert_int_equal(g->secret_len, 0);
	/* the default name is kept as "" (byte for byte as an unnamed one) */
	record_generator_remove(&r, 3);
	g = record_generator_add(&r, RECORD_DEFAULT_NAME, &err);
	assert_string_equal(g->name, "");
	assert_string_equal(record_gen_name(g), RECORD_DEFAULT_NAME);
	/* and the result still encodes and decodes (events checked too) */
	record_generator_remove(&r, 3);
	record_generator_remove(&r, 0);
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(record_decode(buf, len, &out, &err), 0);
	assert_int_equal(record_generators(&out), 2);
	assert_int_equal(out.last_failure.by, 1);
	/* names */
	assert_int_equal(record_name_check(NULL, &err), 0);
	assert_int_equal(record_name_check("a.b_c-0", &err), 0);
	assert_int_equal(record_name_check("", &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	/* live, first ready */
	assert_true(record_live(&out));
	out.gen[0].state = RECORD_PENDING;
	assert_int_equal(record_first_ready(&out), 1);
	out.gen[1].state = RECORD_PENDING;
	assert_int_equal(record_first_ready(&out), -1);
	assert_true(record_live(&out));
	memset(&out, 0, sizeof(out));
	out.gen[0].state = RECORD_REMOVED;
	assert_false(record_live(&out));
	record_wipe(&r);
}

static void test_encoding_is_big_endian(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	const uint8_t *imm = buf + OFF_IMM;

	(void)state;
	fill_minimal(&r);
	r.gen[0].state = RECORD_READY;
	r.gen[0].params.digits = 8;
	r.gen[0].params.period = 0x0e10;
	r.gen[0].secret_len = 20;
	encode_ok(&r, buf);
	assert_memory_equal(buf, "TOTP", 4);
	assert_int_equal(buf[OFF_VERSION], RECORD_VERSION);
	assert_int_equal(buf[OFF_VERSION], 2);
	assert_int_equal(buf[OFF_IMM_LEN] << 8 | buf[OFF_IMM_LEN + 1], 28 + 20);
	assert_int_equal(imm[IMM_N], 1);
	assert_int_equal(imm[1], 7);
	assert_memory_equal(imm + 2, "default", 7);
	assert_int_equal(imm[IMM_STATE], RECORD_READY);
	assert_int_equal(imm[IMM_DIGITS], 8);
	assert_memory_equal(imm + IMM_PERIOD, "\x00\x00\x0e\x10", 4);
	assert_int_equal(imm[IMM_SECRET_LEN], 20);
}

static void test_every_truncation_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_full(&r);
	len = encode_ok(&r, buf);
	for (size_t cut = 0; cut < len; cut++)
		assert_refused(buf, cut, TOTP_R_CORRUPT);
	fill_minimal(&r);
	len = encode_ok(&r, buf);
	for (size_t cut = 0; cut < len; cut++)
		assert_refused(buf, cut, TOTP_R_CORRUPT);
}

/* Each area is checked on its own too (the store hands them over apart):
 * every truncation and a trailing byte of either is refused. */
static void test_area_truncations_refused(void **state)
{
	struct record r, out;
	struct totp_err e;
	uint8_t imm[RECORD_IMMUTABLE_MAX + 1], mut[RECORD_MUTABLE_MAX + 1];
	size_t il, ml;

	(void)state;
	fill_full(&r);
	assert_int_equal(record_encode_areas(&r, imm, &il, mut, &ml, &e), 0);
	for (size_t cut = 0; cut < il; cut++) {
		assert_int_equal(record_decode_areas(imm, cut, mut, ml, &out, &e), -1);
		assert_int_equal(e.reason, TOTP_R_CORRUPT);
		assert_int_equal(out.gen[0].secret[0], 0);
	}
	for (size_t cut = 0; cut < ml; cut++) {
		assert_int_equal(record_decode_areas(imm, il, mut, cut, &out, &e), -1);
		assert_int_equal(e.reason, TOTP_R_CORRUPT);
		assert_int_equal(out.gen[0].secret[0], 0);
	}
	imm[il] = 0;
	mut[ml] = 0;
	assert_int_equal(record_decode_areas(imm, il + 1, mut, ml, &out, &e), -1);
	assert_int_equal(record_decode_areas(imm, il, mut, ml + 1, &out, &e), -1);
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), 0);
	/* areas of two records with another number of generators */
	mut[0] = 3;
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT);
}

static void test_trailing_byte_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX + 1];
	size_t len;
	struct v1 w;

	(void)state;
	fill_minimal(&r);
	len = encode_ok(&r, buf);
	buf[len] = 0;
	assert_refused(buf, len + 1, TOTP_R_CORRUPT);
	v1_make(&w, "sshd", "h", NULL, 0);
	w.b[w.n] = 0;
	assert_refused(w.b, w.n + 1, TOTP_R_CORRUPT);
}

static void test_bad_magic_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_minimal(&r);
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
	fill_minimal(&r);
	len = encode_ok(&r, buf);
	buf[OFF_VERSION] = RECORD_VERSION + 1;
	assert_refused(buf, len, TOTP_R_VERSION);
	buf[OFF_VERSION] = 0xff;
	assert_refused(buf, len, TOTP_R_VERSION);
	buf[OFF_VERSION] = 0;
	assert_refused(buf, len, TOTP_R_CORRUPT);
	/* v2 bytes read as v1 are damage, not a record */
	buf[OFF_VERSION] = 1;
	assert_refused(buf, len, TOTP_R_CORRUPT);
	buf[OFF_VERSION] = RECORD_VERSION;
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
}

static void test_enum_corruptions_refused(void **state)
{
	static const struct {
		size_t off;
		uint8_t bad[3];
	} cases[] = {
	    {IMM_N, {0, RECORD_GENERATORS_MAX + 1, 0xff}},
	    {IMM_STATE, {0, 4, 0xff}},
	    {IMM_TYPE, {2, 3, 0xff}},
	    {IMM_ALG, {3, 4, 0xff}},
	    {IMM_DIGITS, {5, 9, 0}},
	    {IMM_WINDOW, {OTP_WINDOW_MAX + 1, 0x80, 0xff}},
	    {IMM_SECRET_LEN, {SECRET_MAX + 1, 0x80, 0xff}},
	    {2, {'D', '/', ' '}}, /* the name: [a-z0-9._-] */
	};
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_minimal(&r);
	r.gen[0].state = RECORD_READY;
	len = encode_ok(&r, buf);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		uint8_t *at = buf + OFF_IMM + cases[c].off, keep = *at;

		for (int i = 0; i < 3; i++) {
			*at = cases[c].bad[i];
			assert_refused(buf, len, TOTP_R_CORRUPT);
		}
		*at = keep;
	}
}

/* Fields of the mutable area, through the areas: drift, used bits,
 * which generator an event was, grace count. */
static void test_mutable_corruptions_refused(void **state)
{
	struct record r, out;
	struct totp_err e;
	uint8_t imm[RECORD_IMMUTABLE_MAX], mut[RECORD_MUTABLE_MAX];
	size_t il, ml;
	/* 1 n, 8 counter, then drift; used bits at 1 + 17 + 28 */
	const size_t drift = 9, used = 1 + 17 + 28, by = used + 2 + 8;

	(void)state;
	fill_minimal(&r);
	r.emergency_count = 2;
	assert_int_equal(record_encode_areas(&r, imm, &il, mut, &ml, &e), 0);
	mut[drift] = RECORD_DRIFT_MAX + 1;
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), -1);
	mut[drift] = (uint8_t)(int8_t) - (RECORD_DRIFT_MAX + 1);
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), -1);
	mut[drift] = (uint8_t)(int8_t)-RECORD_DRIFT_MAX;
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), 0);
	assert_int_equal(out.gen[0].drift, -RECORD_DRIFT_MAX);
	mut[used + 1] = 4; /* code 3 of 2 */
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), -1);
	mut[used + 1] = 3;
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), 0);
	assert_true(record_code_used(&out, 1));
	mut[by] = 1; /* generator 1 of 1 */
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), -1);
	mut[by] = RECORD_BY_EMERGENCY;
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), 0);
	mut[ml - 1] = RECORD_GRACE_MAX + 1; /* grace count, the last byte */
	assert_int_equal(record_decode_areas(imm, il, mut, ml, &out, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT);
}

static void test_bad_periods_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;
	uint8_t *p = buf + OFF_IMM + IMM_PERIOD;

	(void)state;
	fill_minimal(&r);
	len = encode_ok(&r, buf);
	memset(p, 0, 4); /* a TOTP period of 0 */
	assert_refused(buf, len, TOTP_R_CORRUPT);
	memcpy(p, "\x00\x00\x0e\x11", 4); /* 3601 */
	assert_refused(buf, len, TOTP_R_CORRUPT);
	memcpy(p, "\xff\xff\xff\xff", 4);
	assert_refused(buf, len, TOTP_R_CORRUPT);
}

static void test_embedded_nul_refused(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_minimal(&r);
	len = encode_ok(&r, buf);
	buf[OFF_IMM + 4] = '\0'; /* in "default" */
	assert_refused(buf, len, TOTP_R_CORRUPT);
}

static void test_encode_refuses_bad_records(void **state)
{
	struct record r;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;
	struct totp_err e;

	(void)state;
#define REFUSED(mutate)                                                                  \
	do {                                                                             \
		fill_full(&r);                                                           \
		mutate;                                                                  \
		assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);     \
		assert_int_equal(e.reason, TOTP_R_INVALID);                              \
	} while (0)
	REFUSED(memset(r.gen, 0, sizeof(r.gen)));	/* no generator */
	REFUSED(r.gen[1].state = 0);			/* a gap */
	REFUSED(r.gen[0].state = (enum record_state)4); /* unknown */
	REFUSED(r.gen[2].params.digits = 9);
	REFUSED(r.gen[3].window = OTP_WINDOW_MAX + 1);
	REFUSED(r.gen[3].secret_len = SECRET_MAX + 1);
	REFUSED(r.gen[1].drift = RECORD_DRIFT_MAX + 1);
	REFUSED(strcpy(r.gen[2].name, "Spare"));
	REFUSED(memset(r.gen[2].name, 'a', RECORD_NAME_MAX));
	REFUSED(strcpy(r.gen[2].name, r.gen[1].name)); /* two alike */
	REFUSED((r.gen[0].name[0] = '\0', strcpy(r.gen[2].name, "default")));
	REFUSED(r.emergency_count = RECORD_EMERGENCY_MAX + 1);
	REFUSED((r.emergency_count = 3, r.emergency_used = 1U << 3));
	REFUSED(r.grace_count = RECORD_GRACE_MAX + 1);
	REFUSED((r.gen[3].state = 0, r.last_failure.by = 3));
#undef REFUSED
}

static void test_events_cut_to_bounds(void **state)
{
	struct record r, out;
	struct totp_err e;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	fill_minimal(&r);
	/* no NUL at all: cut at 31 and 63 bytes, never read past */
	memset(r.last_success.service, 'x', RECORD_SERVICE_MAX);
	memset(r.last_success.rhost, 'h', RECORD_RHOST_MAX);
	len = encode_ok(&r, buf);
	assert_int_equal(record_decode(buf, len, &out, &e), 0);
	assert_int_equal(strlen(out.last_success.service), RECORD_SERVICE_MAX - 1);
	assert_int_equal(strlen(out.last_success.rhost), RECORD_RHOST_MAX - 1);
	/* a length byte over the bound is refused */
	{
		uint8_t *p = memchr(buf + OFF_IMM, RECORD_SERVICE_MAX - 1, len - OFF_IMM);

		while (p != NULL && p[1] != 'x')
			p = memchr(p + 1, RECORD_SERVICE_MAX - 1,
				   len - (size_t)(p + 1 - buf));
		assert_non_null(p);
		*p = RECORD_SERVICE_MAX;
		assert_refused(buf, len, TOTP_R_CORRUPT);
	}
}

static void test_encode_small_buffer(void **state)
{
	struct record r;
	uint8_t buf[64];
	size_t len = 0;
	struct totp_err e;

	(void)state;
	fill_full(&r);
	assert_int_equal(record_encode(&r, buf, sizeof(buf), &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INTERNAL);
	/* nothing of the secret is left in a buffer that was too small */
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
}

static void test_add_event(void **state)
{
	struct record r;

	(void)state;
	memset(&r, 0, sizeof(r));
	record_add_event(&r, 1000);
	record_add_event(&r, 2000);
	assert_int_equal(r.sequence, 2);
	assert_int_equal(r.change_date_ms, 2000);
}

static void test_wipe(void **state)
{
	struct record r, zero;

	(void)state;
	fill_full(&r);
	memset(&zero, 0, sizeof(zero));
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
	assert_string_equal(record_state_name((enum record_state)9), "unknown");
}

/* ---- version 1 ---------------------------------------------------------- */

static void test_v1_reads_into_default(void **state)
{
	const char *hashes[] = {good_hash, ""};
	char longhost[201];
	struct v1 w;
	struct record r, again;
	struct totp_err e;
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;

	(void)state;
	memset(longhost, 'h', 200);
	longhost[200] = '\0';
	v1_make(&w, "sshd-with-a-service-name-of-40-bytes-xxx", longhost, hashes, 2);
	assert_int_equal(record_decode(w.b, w.n, &r, &e), 0);
	assert_int_equal(record_generators(&r), 1);
	assert_string_equal(r.gen[0].name, "");
	assert_ptr_equal(record_generator(&r, RECORD_DEFAULT_NAME), &r.gen[0]);
	assert_int_equal(r.gen[0].state, RECORD_READY);
	assert_int_equal(r.gen[0].params.type, OTP_TOTP);
	assert_int_equal(r.gen[0].params.digits, 6);
	assert_int_equal(r.gen[0].params.period, 30);
	assert_int_equal(r.gen[0].window, 2);
	assert_int_equal(r.gen[0].secret_len, 20);
	assert_int_equal(r.gen[0].secret[19], 19);
	assert_int_equal(r.gen[0].counter, 57290000);
	assert_int_equal(r.failures, 2);
	assert_int_equal(r.sequence, 7);
	assert_int_equal(r.gen[0].created, 1718261000);
	assert_int_equal(r.last_success.time, 1718261075);
	assert_int_equal(r.last_success.by, 0);
	assert_int_equal(r.last_failure.by, RECORD_BY_NONE);
	/* events longer than v2 keeps are cut */
	assert_int_equal(strlen(r.last_success.service), RECORD_SERVICE_MAX - 1);
	assert_int_equal(strlen(r.last_success.rhost), RECORD_RHOST_MAX - 1);
	/* the hash converted; the empty one is a used code */
	assert_int_equal(r.emergency_count, 2);
	assert_false(record_code_used(&r, 0));
	assert_true(record_code_used(&r, 1));
	{
		char setting[RECORD_HASH_MAX];
		uint8_t d[RECORD_DIGEST_LEN];

		record_code_setting(&r.emergency[0], setting);
		assert_string_equal(setting, "$y$j9T$KECXgkU0WiIH8X/900QwT0");
		assert_int_equal(record_digest_from_crypt(good_hash, d), 0);
		assert_memory_equal(d, r.emergency[0].digest, RECORD_DIGEST_LEN);
	}
	/* and writes as v2, which reads back the same */
	len = encode_ok(&r, buf);
	assert_int_equal(buf[OFF_VERSION], 2);
	assert_int_equal(record_decode(buf, len, &again, &e), 0);
	assert_memory_equal(&r, &again, sizeof(r));
}

static void test_v1_every_truncation_refused(void **state)
{
	const char *hashes[] = {good_hash, "", good_hash};
	struct v1 w;

	(void)state;
	v1_make(&w, "sshd", "192.0.2.7", hashes, 3);
	for (size_t cut = 0; cut < w.n; cut++)
		assert_refused(w.b, cut, TOTP_R_CORRUPT);
}

static void test_v1_bad_fields_refused(void **state)
{
	struct v1 w;
	const char *over[RECORD_EMERGENCY_MAX + 1];

	(void)state;
	for (unsigned i = 0; i <= RECORD_EMERGENCY_MAX; i++)
		over[i] = "";
	v1_make(&w, "sshd", "h", over, RECORD_EMERGENCY_MAX + 1);
	assert_refused(w.b, w.n, TOTP_R_CORRUPT);
	v1_make(&w, "sshd", "h", over, RECORD_EMERGENCY_MAX);
	w.b[5] = 0; /* state */
	assert_refused(w.b, w.n, TOTP_R_CORRUPT);
	v1_make(&w, "s\033[2J", "h", NULL, 0); /* a terminal escape */
	assert_refused(w.b, w.n, TOTP_R_CORRUPT);
	v1_make(&w, "sshd", "a\rb", NULL, 0);
	assert_refused(w.b, w.n, TOTP_R_CORRUPT);
}

/* Issue 18, finding 3: only the hash this build writes is taken, yescrypt
 * at its one cost, so that a record cannot make a login hash for minutes
 * (or days): another method, another cost or a malformed hash is damage.
 * v2 holds no method or cost at all. */
static void test_v1_foreign_hashes_refused(void **state)
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
	    /* a salt yescrypt would not decode (bits left over) */
	    "$y$j9T$KECXgkU0WiIH8X/900QwTz$BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC",
	    "*0",
	};
	struct v1 w;
	struct record r;
	struct totp_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		v1_make(&w, "sshd", "h", &foreign[i], 1);
		totp_err_clear(&e);
		if (record_decode(w.b, w.n, &r, &e) != -1)
			fail_msg("hash %s was taken", foreign[i]);
		assert_int_equal(e.reason, TOTP_R_CORRUPT);
	}
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
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		size_t n = strlen(hostile[i]);
		uint8_t marker[16];
		uint8_t *at;

		fill_minimal(&r);
		r.last_failure.time = 1;
		strcpy(r.last_failure.service, "sshd");
		memset(r.last_failure.rhost, 'h', n);
		len = encode_ok(&r, buf);
		/* the bytes as a user could write them into their own store */
		marker[0] = (uint8_t)n;
		memset(marker + 1, 'h', n);
		at = memmem(buf, len, marker, n + 1);
		assert_non_null(at);
		memcpy(at + 1, hostile[i], n);
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
	fill_minimal(&r);
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
	    cmocka_unit_test(test_generator_view),
	    cmocka_unit_test(test_generator_add_and_remove),
	    cmocka_unit_test(test_encoding_is_big_endian),
	    cmocka_unit_test(test_every_truncation_refused),
	    cmocka_unit_test(test_area_truncations_refused),
	    cmocka_unit_test(test_trailing_byte_refused),
	    cmocka_unit_test(test_bad_magic_refused),
	    cmocka_unit_test(test_versions),
	    cmocka_unit_test(test_enum_corruptions_refused),
	    cmocka_unit_test(test_mutable_corruptions_refused),
	    cmocka_unit_test(test_bad_periods_refused),
	    cmocka_unit_test(test_embedded_nul_refused),
	    cmocka_unit_test(test_encode_refuses_bad_records),
	    cmocka_unit_test(test_events_cut_to_bounds),
	    cmocka_unit_test(test_encode_small_buffer),
	    cmocka_unit_test(test_add_event),
	    cmocka_unit_test(test_wipe),
	    cmocka_unit_test(test_state_names),
	    cmocka_unit_test(test_v1_reads_into_default),
	    cmocka_unit_test(test_v1_every_truncation_refused),
	    cmocka_unit_test(test_v1_bad_fields_refused),
	    cmocka_unit_test(test_v1_foreign_hashes_refused),
	    cmocka_unit_test(test_control_bytes_in_events),
	};
	return cmocka_run_group_tests_name("record", tests, NULL, NULL);
}
