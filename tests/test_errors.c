/* errors: the reason table and the message helpers. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sysexits.h>

#include <cmocka.h>

#include "errors.h"

static void test_set_returns_minus_one_and_fills(void **state)
{
	struct totp_err e;

	(void)state;
	assert_int_equal(totp_err_set(&e, TOTP_R_SYMLINK, "%s is a link", "/x"), -1);
	assert_int_equal(e.reason, TOTP_R_SYMLINK);
	assert_string_equal(e.msg, "/x is a link");
	assert_int_equal(totp_err_set(NULL, TOTP_R_IO, "ignored"), -1);
}

static void test_errno_maps_reason(void **state)
{
	struct totp_err e;
	static const struct {
		int errnum;
		enum totp_reason reason;
	} rows[] = {
	    {ENOSPC, TOTP_R_NO_SPACE}, {EDQUOT, TOTP_R_NO_SPACE},
	    {EROFS, TOTP_R_READ_ONLY}, {EACCES, TOTP_R_PERMISSION},
	    {ELOOP, TOTP_R_SYMLINK},   {ENOENT, TOTP_R_NOT_FOUND},
	    {EIO, TOTP_R_IO},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(totp_err_errno(&e, rows[i].errnum, "open %s", "db"), -1);
		assert_int_equal(e.reason, rows[i].reason);
		assert_non_null(strstr(e.msg, "open db: "));
		assert_non_null(strstr(e.msg, strerror(rows[i].errnum)));
	}
}

static void test_grpc_codes_follow_design(void **state)
{
	(void)state;
	assert_int_equal(totp_reason_grpc(TOTP_R_NONE), GRPC_OK);
	assert_int_equal(totp_reason_grpc(TOTP_R_WRONG_CODE), 3);
	assert_int_equal(totp_reason_grpc(TOTP_R_NOT_FOUND), 5);
	assert_int_equal(totp_reason_grpc(TOTP_R_EXISTS), 6);
	assert_int_equal(totp_reason_grpc(TOTP_R_PERMISSION), 7);
	assert_int_equal(totp_reason_grpc(TOTP_R_PRECONDITION), 9);
	assert_int_equal(totp_reason_exit(TOTP_R_PERMISSION), EX_NOPERM);
	assert_int_equal(totp_reason_exit(TOTP_R_CONFIG), EX_CONFIG);
}

static void test_every_reason_has_a_row(void **state)
{
	(void)state;
	for (int r = 0; r < TOTP_R_COUNT; r++) {
		assert_non_null(totp_reason_name((enum totp_reason)r));
		if (r != TOTP_R_NONE) {
			assert_int_not_equal(totp_reason_grpc((enum totp_reason)r),
					     GRPC_OK);
			assert_int_not_equal(totp_reason_exit((enum totp_reason)r),
					     EX_OK);
		}
	}
	/* out of range falls back to internal, never reads past the table */
	assert_string_equal(totp_reason_name((enum totp_reason)999), "internal");
}

static void test_long_message_is_cut(void **state)
{
	struct totp_err e;
	char big[1000];

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	totp_err_set(&e, TOTP_R_INVALID, "%s", big);
	assert_int_equal(strlen(e.msg), TOTP_ERR_MSG_MAX - 1);
	totp_err_clear(&e);
	assert_int_equal(e.reason, TOTP_R_NONE);
	assert_string_equal(e.msg, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_returns_minus_one_and_fills),
	    cmocka_unit_test(test_errno_maps_reason),
	    cmocka_unit_test(test_grpc_codes_follow_design),
	    cmocka_unit_test(test_every_reason_has_a_row),
	    cmocka_unit_test(test_long_message_is_cut),
	};
	return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
