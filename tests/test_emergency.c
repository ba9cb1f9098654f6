/* emergency: generation, hashing, one use each. */
#include "config.h"

#include <crypt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "emergency.h"

static int setup(void **state)
{
	struct record *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void assert_code_shape(const char *code)
{
	assert_int_equal(strlen(code), EMERGENCY_DIGITS);
	for (size_t i = 0; i < EMERGENCY_DIGITS; i++)
		assert_true(code[i] >= '0' && code[i] <= '9');
}

static bool is_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static void test_generate_makes_hashed_codes(void **state)
{
	struct record *r = *state;
	char codes[5][EMERGENCY_BUF];
	struct totp_err e;

	assert_int_equal(emergency_generate(r, 5, codes, &e), 0);
	assert_int_equal(r->emergency_count, 5);
	assert_int_equal(emergency_remaining(r), 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_code_shape(codes[i]);
		assert_false(record_code_used(r, i));
		assert_null(memmem(r->emergency, sizeof(r->emergency), codes[i],
				   EMERGENCY_DIGITS));
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);
	}
	/* every hash has its own salt */
	assert_memory_not_equal(r->emergency[0].salt, r->emergency[1].salt,
				RECORD_SALT_LEN);
	for (unsigned i = 5; i < RECORD_EMERGENCY_MAX; i++)
		assert_true(is_zero(&r->emergency[i], sizeof(r->emergency[i])));
}

static void test_each_code_works_once(void **state)
{
	struct record *r = *state;
	char codes[5][EMERGENCY_BUF];
	struct totp_err e;

	assert_int_equal(emergency_generate(r, 5, codes, &e), 0);
	/* out of order, to show any slot matches */
	static const unsigned order[] = {3, 0, 4, 1, 2};
	for (unsigned k = 0; k < 5; k++) {
		unsigned i = order[k];
		assert_int_equal(emergency_use(r, codes[i], &e), 1);
		assert_true(record_code_used(r, i));
		assert_int_equal(emergency_remaining(r), 4 - k);
		assert_int_equal(emergency_use(r, codes[i], &e), 0);
		assert_int_equal(emergency_remaining(r), 4 - k);
	}
	assert_int_equal(r->emergency_count, 5); /* used ones still counted */
}

static void test_wrong_code_changes_nothing(void **state)
{
	struct record *r = *state;
	char codes[3][EMERGENCY_BUF];
	struct record before;
	struct totp_err e;
	const char *wrong = "00000000";

	assert_int_equal(emergency_generate(r, 3, codes, &e), 0);
	for (unsigned i = 0; i < 3; i++)
		if (strcmp(codes[i], wrong) == 0)
			wrong = "99999999"; /* one chance in 10^8, but be exact */
	memcpy(&before, r, sizeof(before));
	assert_int_equal(emergency_use(r, wrong, &e), 0);
	assert_memory_equal(&before, r, sizeof(before));
	assert_int_equal(emergency_remaining(r), 3);
}

static void test_malformed_code_matches_nothing(void **state)
{
	struct record *r = *state;
	const char *codes[] = {"12345678"};
	struct totp_err e;

	assert_int_equal(emergency_set(r, codes, 1, &e), 0);
	assert_int_equal(emergency_use(r, "1234567", &e), 0);
	assert_int_equal(emergency_use(r, "123456789", &e), 0);
	assert_int_equal(emergency_use(r, "1234567x", &e), 0);
	assert_int_equal(emergency_use(r, " 12345678", &e), 0);
	assert_int_equal(emergency_use(r, "", &e), 0);
	assert_int_equal(emergency_use(r, NULL, &e), 0);
	assert_int_equal(emergency_remaining(r), 1);
	assert_int_equal(emergency_use(r, "12345678", &e), 1);
	assert_int_equal(emergency_remaining(r), 0);
}

static void test_too_many_refused(void **state)
{
	struct record *r = *state;
	char codes[RECORD_EMERGENCY_MAX + 1][EMERGENCY_BUF];
	const char *plain[RECORD_EMERGENCY_MAX + 1];
	struct totp_err e;

	assert_int_equal(emergency_generate(r, RECORD_EMERGENCY_MAX + 1, codes, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(r->emergency_count, 0);
	for (unsigned i = 0; i <= RECORD_EMERGENCY_MAX; i++)
		plain[i] = "12345678";
	assert_int_equal(emergency_set(r, plain, RECORD_EMERGENCY_MAX + 1, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(r->emergency_count, 0);
}

static void test_generate_max_and_zero(void **state)
{
	struct record *r = *state;
	char codes[RECORD_EMERGENCY_MAX][EMERGENCY_BUF];
	struct totp_err e;

	assert_int_equal(emergency_generate(r, RECORD_EMERGENCY_MAX, codes, &e), 0);
	assert_int_equal(emergency_remaining(r), RECORD_EMERGENCY_MAX);
	assert_int_equal(emergency_use(r, codes[RECORD_EMERGENCY_MAX - 1], &e), 1);
	assert_int_equal(emergency_remaining(r), RECORD_EMERGENCY_MAX - 1);
	/* zero codes: the old ones are gone */
	assert_int_equal(emergency_generate(r, 0, codes, &e), 0);
	assert_int_equal(r->emergency_count, 0);
	assert_int_equal(emergency_remaining(r), 0);
	assert_true(is_zero(&r->emergency[0], sizeof(r->emergency[0])));
	assert_int_equal(emergency_use(r, codes[0], &e), 0);
}

static void test_set_then_use(void **state)
{
	struct record *r = *state;
	const char *codes[] = {"01234567", "76543210", "00000001"};
	const char *bad1[] = {"01234567", "7654321"};
	const char *bad2[] = {"0123456a"};
	const char *bad3[] = {NULL};
	struct totp_err e;

	assert_int_equal(emergency_set(r, codes, 3, &e), 0);
	assert_int_equal(r->emergency_count, 3);
	assert_int_equal(emergency_remaining(r), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_false(record_code_used(r, i));
		assert_null(memmem(&r->emergency[i], sizeof(r->emergency[i]), codes[i],
				   EMERGENCY_DIGITS));
	}
	assert_int_equal(emergency_use(r, "76543210", &e), 1);
	assert_true(record_code_used(r, 1));
	assert_int_equal(emergency_use(r, "76543210", &e), 0);
	assert_int_equal(emergency_use(r, "00000001", &e), 1);
	assert_int_equal(emergency_use(r, "01234567", &e), 1);
	assert_int_equal(emergency_remaining(r), 0);

	/* a malformed import is refused and leaves the record as it was */
	assert_int_equal(emergency_set(r, codes, 3, &e), 0);
	assert_int_equal(emergency_set(r, bad1, 2, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_non_null(strstr(e.msg, "code 2"));
	assert_int_equal(emergency_set(r, bad2, 1, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(emergency_set(r, bad3, 1, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(r->emergency_count, 3);
	assert_int_equal(emergency_remaining(r), 3);
	assert_int_equal(emergency_use(r, "01234567", &e), 1);
}

static void test_corrupt_hash_reported(void **state)
{
	struct record *r = *state;
	const char *codes[] = {"11111111", "22222222"};
	struct totp_err e;

	assert_int_equal(emergency_set(r, codes, 2, &e), 0);
	/* v2 holds salt and digest, and any salt is a setting crypt takes:
	 * a damaged code cannot make crypt fail, it matches nothing */
	r->emergency[0].digest[3] ^= 0x40;
	/* the good slot still matches */
	assert_int_equal(emergency_use(r, "22222222", &e), 1);
	assert_int_equal(emergency_use(r, "11111111", &e), 0);
	assert_false(record_code_used(r, 0));
	/* a v1 hash converts, and checks the same code */
	{
		char h[RECORD_HASH_MAX];
		struct crypt_data cd;

		memset(&cd, 0, sizeof(cd));
		strcpy(h, crypt_r("33333333", "$y$j9T$KECXgkU0WiIH8X/900QwT0", &cd));
		assert_true(record_hash_wellformed(h));
		assert_int_equal(record_code_from_crypt(h, &r->emergency[0], &e), 0);
		assert_int_equal(emergency_use(r, "11111111", &e), 0);
		assert_int_equal(emergency_use(r, "33333333", &e), 1);
		/* a salt yescrypt would not read (bits left over) does not */
		h[7 + 21] = 'z';
		assert_int_equal(record_code_from_crypt(h, &r->emergency[0], &e), -1);
		assert_int_equal(e.reason, TOTP_R_CORRUPT);
	}
}

static void test_count_beyond_table_is_clamped(void **state)
{
	struct record *r = *state;
	const char *codes[] = {"12345678"};
	struct totp_err e;

	assert_int_equal(emergency_set(r, codes, 1, &e), 0);
	r->emergency_count = 200; /* a damaged record must not read past the table */
	/* v2: a code is used by its bit, so the table's other entries count
	 * as (unmatchable) codes; the count is clamped to the table */
	assert_int_equal(emergency_remaining(r), RECORD_EMERGENCY_MAX);
	assert_int_equal(emergency_use(r, "12345678", &e), 1);
	assert_int_equal(emergency_remaining(r), RECORD_EMERGENCY_MAX - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_generate_makes_hashed_codes, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_each_code_works_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_code_changes_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_code_matches_nothing, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_generate_max_and_zero, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_then_use, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_hash_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_count_beyond_table_is_clamped, setup,
					    teardown),
	};
	return cmocka_run_group_tests_name("emergency", tests, NULL, NULL);
}
