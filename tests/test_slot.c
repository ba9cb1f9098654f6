/* slot: two checksummed copies per value; a write torn anywhere reads as
 * the old record or the new one. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slot.h"

static void bytes_of(uint8_t *buf, size_t len, uint8_t seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(seed + i * 13);
}

static void read_is(const uint8_t *v, const uint8_t *want, size_t want_len)
{
	const uint8_t *rec = NULL;
	size_t len = 0;
	struct totp_err e;

	assert_int_equal(slot_value_read(v, SLOT_VALUE_SIZE, &rec, &len, &e), 0);
	assert_int_equal(len, want_len);
	assert_memory_equal(rec, want, want_len);
}

static void test_first_then_next(void **state)
{
	static uint8_t v1[SLOT_VALUE_SIZE], v2[SLOT_VALUE_SIZE], v3[SLOT_VALUE_SIZE];
	uint8_t a[100], b[RECORD_V1_ENCODED_LARGEST], c[1];
	struct totp_err e;

	(void)state;
	bytes_of(a, sizeof(a), 1);
	bytes_of(b, sizeof(b), 2);
	bytes_of(c, sizeof(c), 3);
	assert_int_equal(slot_value_write(v1, NULL, a, sizeof(a), &e), 0);
	assert_true(slot_value_is(v1, SLOT_VALUE_SIZE));
	assert_false(slot_value_is(v1, SLOT_VALUE_SIZE - 1));
	read_is(v1, a, sizeof(a));
	/* the next write goes to the other slot and leaves this one as it was */
	assert_int_equal(slot_value_write(v2, v1, b, sizeof(b), &e), 0);
	read_is(v2, b, sizeof(b));
	assert_memory_equal(v2 + SLOT_VALUE_HEAD, v1 + SLOT_VALUE_HEAD, SLOT_SIZE);
	assert_int_equal(slot_value_write(v3, v2, c, sizeof(c), &e), 0);
	read_is(v3, c, sizeof(c));
	assert_memory_equal(v3 + SLOT_VALUE_HEAD + SLOT_SIZE,
			    v2 + SLOT_VALUE_HEAD + SLOT_SIZE, SLOT_SIZE);
}

/* Every cut of the write from `old` to `new` (the first k bytes new, the
 * rest old) reads as one of the two. */
static void test_torn_write_reads_old_or_new(void **state)
{
	static uint8_t old[SLOT_VALUE_SIZE], new[SLOT_VALUE_SIZE], torn[SLOT_VALUE_SIZE];
	uint8_t a[300], b[280];
	struct totp_err e;
	unsigned n_old = 0, n_new = 0;

	(void)state;
	bytes_of(a, sizeof(a), 5);
	bytes_of(b, sizeof(b), 9);
	assert_int_equal(slot_value_write(torn, NULL, b, sizeof(b), &e), 0);
	assert_int_equal(slot_value_write(old, torn, a, sizeof(a), &e), 0); /* slot 1 */
	assert_int_equal(slot_value_write(new, old, b, sizeof(b), &e), 0);  /* slot 0 */
	for (size_t k = 0; k <= SLOT_VALUE_SIZE; k++) {
		const uint8_t *rec;
		size_t len;

		memcpy(torn, new, k);
		memcpy(torn + k, old + k, SLOT_VALUE_SIZE - k);
		assert_int_equal(slot_value_read(torn, SLOT_VALUE_SIZE, &rec, &len, &e),
				 0);
		if (len == sizeof(b) && memcmp(rec, b, len) == 0)
			n_new++;
		else if (len == sizeof(a) && memcmp(rec, a, len) == 0)
			n_old++;
		else
			fail_msg("a cut at byte %zu reads as neither", k);
	}
	assert_true(n_old > 0 && n_new > 0);
}

static void test_broken_slots(void **state)
{
	static uint8_t v[SLOT_VALUE_SIZE], w[SLOT_VALUE_SIZE];
	uint8_t a[40], b[50];
	const uint8_t *rec;
	size_t len;
	struct totp_err e;

	(void)state;
	bytes_of(a, sizeof(a), 7);
	bytes_of(b, sizeof(b), 8);
	assert_int_equal(slot_value_write(v, NULL, a, sizeof(a), &e), 0);
	assert_int_equal(slot_value_write(w, v, b, sizeof(b), &e), 0);
	/* a flipped bit in the newer copy: the older one is read */
	w[SLOT_VALUE_HEAD + SLOT_SIZE + SLOT_HEAD + 3] ^= 1;
	read_is(w, a, sizeof(a));
	/* and the next write replaces the broken one, not the whole one */
	assert_int_equal(slot_value_write(v, w, b, sizeof(b), &e), 0);
	read_is(v, b, sizeof(b));
	assert_memory_equal(v + SLOT_VALUE_HEAD, w + SLOT_VALUE_HEAD, SLOT_SIZE);
	/* both broken: corrupt */
	w[SLOT_VALUE_HEAD + SLOT_HEAD] ^= 1;
	assert_int_equal(slot_value_read(w, SLOT_VALUE_SIZE, &rec, &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT);
	/* a later slot version is told apart */
	assert_int_equal(slot_value_write(v, NULL, a, sizeof(a), &e), 0);
	v[4] = 2;
	assert_int_equal(slot_value_read(v, SLOT_VALUE_SIZE, &rec, &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_VERSION);
	/* not slotted at all */
	assert_int_equal(slot_value_read(a, sizeof(a), &rec, &len, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT);
	/* a record that does not fit, or none */
	assert_int_equal(slot_value_write(v, NULL, a, 0, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INTERNAL);
	assert_int_equal(slot_value_write(v, NULL, a, RECORD_V1_ENCODED_LARGEST + 1, &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_then_next),
	    cmocka_unit_test(test_torn_write_reads_old_or_new),
	    cmocka_unit_test(test_broken_slots),
	};
	return cmocka_run_group_tests_name("slot", tests, NULL, NULL);
}
