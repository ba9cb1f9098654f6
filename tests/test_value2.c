/* value2: a v2 record's value (an immutable area and two mutable slots);
 * a login's write in place through the GDBM store, anything else on a
 * copy; v1 values still read. */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bytes.h"
#include "gdbm_store.h"
#include "record.h"
#include "store.h"
#include "value2.h"

static void fill(struct record *r, uint64_t counter)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = RECORD_READY;
	r->gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	r->gen[0].secret_len = 20;
	memcpy(r->gen[0].secret, "12345678901234567890", 20);
	r->gen[0].counter = counter;
	r->emergency_count = 10;
	for (unsigned i = 0; i < 10; i++)
		memset(&r->emergency[i], (int)(i + 1), sizeof(r->emergency[i]));
	strcpy(r->last_success.service, "sshd");
}

struct areas {
	uint8_t imm[RECORD_IMMUTABLE_MAX], mut[RECORD_MUTABLE_MAX];
	size_t il, ml;
};

static void areas_of(const struct record *r, struct areas *a)
{
	struct totp_err e;

	assert_int_equal(record_encode_areas(r, a->imm, &a->il, a->mut, &a->ml, &e), 0);
}

static size_t write_ok(uint8_t *out, const uint8_t *old, size_t n_old,
		       const struct record *r, bool want_same)
{
	struct areas a;
	struct totp_err e;
	size_t n = 0;
	bool same = !want_same;

	areas_of(r, &a);
	assert_int_equal(value2_write(out, &n, old, n_old, a.imm, a.il, a.mut, a.ml,
				      RECORD_MUTABLE_MAX_FOR(1), &same, &e),
			 0);
	assert_int_equal(same, want_same);
	assert_int_equal(n, VALUE2_SIZE(a.il, RECORD_MUTABLE_MAX_FOR(1)));
	return n;
}

static void read_ok(const uint8_t *v, size_t n, struct record *out)
{
	const uint8_t *imm, *mut;
	size_t il, ml;
	struct totp_err e;

	assert_int_equal(value2_read(v, n, &imm, &il, &mut, &ml, &e), 0);
	assert_int_equal(record_decode_areas(imm, il, mut, ml, out, &e), 0);
}

static void read_refused(const uint8_t *v, size_t n, enum totp_reason why)
{
	const uint8_t *imm, *mut;
	size_t il, ml;
	struct totp_err e;

	totp_err_clear(&e);
	assert_int_equal(value2_read(v, n, &imm, &il, &mut, &ml, &e), -1);
	assert_int_equal(e.reason, why);
}

static void test_layout_and_sizes(void **state)
{
	uint8_t v[VALUE2_MAX];
	struct record r, out;
	size_t n;

	(void)state;
	fill(&r, 5);
	n = write_ok(v, NULL, 0, &r, false);
	assert_memory_equal(v, "TOT2", 4);
	assert_int_equal(v[4], 2);
	assert_int_equal(v[5], 0);
	/* one generator (SHA1), ten codes: about 1.1 KB (docs/record-v2.md) */
	assert_true(n < 1200);
	read_ok(v, n, &out);
	assert_memory_equal(&r, &out, sizeof(r));
	/* the largest value */
	assert_true(VALUE2_MAX < 2048);
}

static void test_login_rewrites_older_slot_only(void **state)
{
	uint8_t v1[VALUE2_MAX], v2[VALUE2_MAX], v3[VALUE2_MAX];
	struct record r, out;
	size_t n1, n2, n3, slot0, ssz;
	struct areas a;

	(void)state;
	fill(&r, 5);
	areas_of(&r, &a);
	slot0 = VALUE2_HEAD + a.il + 4;
	ssz = VALUE2_SLOT_HEAD + RECORD_MUTABLE_MAX_FOR(1);
	n1 = write_ok(v1, NULL, 0, &r, false);
	r.gen[0].counter = 6;
	r.failures = 1;
	n2 = write_ok(v2, v1, n1, &r, true);
	assert_int_equal(n2, n1);
	/* head, immutable area and slot A as they were; slot B new */
	assert_memory_equal(v1, v2, slot0 + ssz);
	assert_memory_not_equal(v1 + slot0 + ssz, v2 + slot0 + ssz, ssz);
	read_ok(v2, n2, &out);
	assert_int_equal(out.gen[0].counter, 6);
	r.gen[0].counter = 7;
	n3 = write_ok(v3, v2, n2, &r, true);
	/* now slot A is the older one: B stays */
	assert_memory_equal(v2 + slot0 + ssz, v3 + slot0 + ssz, ssz);
	read_ok(v3, n3, &out);
	assert_int_equal(out.gen[0].counter, 7);
	/* a torn write of slot A (the newest) falls back to B */
	memset(v3 + slot0 + VALUE2_SLOT_HEAD + 3, 0xAA, 5);
	read_ok(v3, n3, &out);
	assert_int_equal(out.gen[0].counter, 6);
	/* and the next write goes to the broken slot, keeping B */
	r.gen[0].counter = 8;
	n3 = write_ok(v1, v3, n3, &r, true);
	assert_memory_equal(v1 + slot0 + ssz, v2 + slot0 + ssz, ssz);
	read_ok(v1, n3, &out);
	assert_int_equal(out.gen[0].counter, 8);
	/* both slots broken: damage */
	memset(v1 + slot0 + 20, 0x55, 3);
	memset(v1 + slot0 + ssz + 20, 0x55, 3);
	read_refused(v1, n3, TOTP_R_CORRUPT);
}

static void test_immutable_change_is_a_new_value(void **state)
{
	uint8_t v1[VALUE2_MAX], v2[VALUE2_MAX];
	struct record r, out;
	size_t n1, n2;

	(void)state;
	fill(&r, 5);
	n1 = write_ok(v1, NULL, 0, &r, false);
	r.gen[0].state = RECORD_REMOVED;
	n2 = write_ok(v2, v1, n1, &r, false); /* verify/remove: immutable */
	read_ok(v2, n2, &out);
	assert_int_equal(out.gen[0].state, RECORD_REMOVED);
	fill(&r, 5);
	r.emergency_count = 3; /* new codes: a new size */
	n2 = write_ok(v2, v1, n1, &r, false);
	assert_true(n2 < n1);
	/* a v1 ("TOTS") or other old value is never taken as the same */
	memcpy(v2, "TOTS", 4);
	write_ok(v1, v2, n2, &r, false);
}

static void test_damage_refused(void **state)
{
	uint8_t v[VALUE2_MAX + 1];
	struct record r;
	size_t n;

	(void)state;
	fill(&r, 5);
	n = write_ok(v, NULL, 0, &r, false);
	for (size_t cut = 4; cut < n; cut++)
		read_refused(v, cut, TOTP_R_CORRUPT);
	v[n] = 0;
	read_refused(v, n + 1, TOTP_R_CORRUPT);
	v[VALUE2_HEAD + 3] ^= 1; /* the immutable area: CRC */
	read_refused(v, n, TOTP_R_CORRUPT);
	v[VALUE2_HEAD + 3] ^= 1;
	v[4] = 3;
	read_refused(v, n, TOTP_R_VERSION);
	v[4] = 2;
	v[5] = 1;
	read_refused(v, n, TOTP_R_CORRUPT);
	v[5] = 0;
	v[9] ^= 1; /* the slot room: another size */
	read_refused(v, n, TOTP_R_CORRUPT);
}

/* Through the store: a login's put rewrites the value in place with no
 * journal; a changed immutable area goes through a redo journal
 * (redo.h), in the same file too; both read back. */
static void test_store_in_place_and_copy(void **state)
{
	char dir[] = "/tmp/test_value2.XXXXXX", db[PATH_MAX];
	struct store_opts o = {.owner = getuid(), .lock_timeout_ms = 2000};
	struct store *s;
	struct record r, out;
	struct totp_err e;
	struct stat st0, st1;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/t.db", dir);
	assert_int_equal(gdbm_store_open(db, STORE_CREATE, &o, &s, &e), 0);
	fill(&r, 1);
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	store_close(s);
	assert_int_equal(stat(db, &st0), 0);
	assert_int_equal(gdbm_store_open(db, STORE_WRITE, &o, &s, &e), 0);
	r.gen[0].counter = 2;
	r.failures = 3;
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	assert_int_equal(gdbm_store_last_journal(s), 0);
	store_close(s);
	assert_int_equal(stat(db, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino); /* in place */
	assert_int_equal(st0.st_size, st1.st_size);
	assert_int_equal(gdbm_store_open(db, STORE_WRITE, &o, &s, &e), 0);
	assert_int_equal(store_get(s, "alice", &out, &e), 1);
	assert_memory_equal(&r, &out, sizeof(r));
	r.gen[0].state = RECORD_REMOVED; /* the immutable area */
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	assert_true(gdbm_store_last_journal(s) > 0);
	store_close(s);
	assert_int_equal(stat(db, &st1), 0);
	assert_int_equal(st0.st_ino, st1.st_ino); /* in place, journalled */
	assert_int_equal(gdbm_store_open(db, STORE_READ, &o, &s, &e), 0);
	assert_int_equal(store_get(s, "alice", &out, &e), 1);
	assert_memory_equal(&r, &out, sizeof(r));
	store_close(s);
	unlink(db);
	snprintf(db, sizeof(db), "%s/t.db.lock", dir);
	unlink(db);
	rmdir(dir);
}

/* CRC-32 (the slots' and the immutable area's check): the standard check
 * value, and the same CRC bit by bit over every length up to 600 and
 * split anywhere (crc32_add in parts). */
static uint32_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint32_t crc = 0xFFFFFFFFU;

	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xEDB88320U & (0U - (crc & 1U)));
	}
	return ~crc;
}

static void test_crc32(void **state)
{
	uint8_t buf[600];

	(void)state;
	assert_int_equal(
	    crc32_end(crc32_add(CRC32_INIT, (const uint8_t *)"123456789", 9)),
	    0xCBF43926U);
	assert_int_equal(crc32_end(crc32_add(CRC32_INIT, buf, 0)), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131U + 7U);
	for (size_t n = 0; n <= sizeof(buf); n += 37) {
		size_t half = n / 3;
		uint32_t parts =
		    crc32_add(crc32_add(CRC32_INIT, buf, half), buf + half, n - half);

		assert_int_equal(crc32_end(parts), crc_bitwise(buf, n));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32),
	    cmocka_unit_test(test_layout_and_sizes),
	    cmocka_unit_test(test_login_rewrites_older_slot_only),
	    cmocka_unit_test(test_immutable_change_is_a_new_value),
	    cmocka_unit_test(test_damage_refused),
	    cmocka_unit_test(test_store_in_place_and_copy),
	};
	return cmocka_run_group_tests_name("value2", tests, NULL, NULL);
}
