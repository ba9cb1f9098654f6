/* account: passwd look-ups and where a user's record lives. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "account.h"
#include "cfg.h"

static void test_lookup_root(void **state)
{
	struct account a;
	struct totp_err e;

	(void)state;
	assert_int_equal(account_lookup("root", &a, &e), 0);
	assert_string_equal(a.name, "root");
	assert_int_equal(a.uid, 0);
	assert_int_equal(account_lookup_uid(0, &a, &e), 0);
	assert_string_equal(a.name, "root");
}

static void test_unknown_user_is_not_found(void **state)
{
	struct account a;
	struct totp_err e;

	(void)state;
	assert_int_equal(account_lookup("no-such-user-totp-test", &a, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
	assert_int_equal(totp_reason_grpc(e.reason), GRPC_NOT_FOUND);
	assert_int_equal(account_lookup_uid(4000000000u, &a, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
}

static void test_odd_names_are_refused_before_lookup(void **state)
{
	static const char *const names[] = {"", "../root", "a/b", "-root", "a\nb"};
	struct account a;
	struct totp_err e;
	char longname[400];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(account_lookup(names[i], &a, &e), -1);
		assert_int_equal(e.reason, TOTP_R_INVALID);
	}
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(account_lookup(longname, &a, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void test_user_store_belongs_to_the_user(void **state)
{
	struct account a = {
	    .name = "alice", .uid = 1234, .gid = 1234, .home = "/home/alice"};
	struct store_location loc;
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(account_store_location(&c, &a, &loc, &e), 0);
	assert_string_equal(loc.db_path, "/home/alice/.config/totp/default.db");
	assert_true(loc.per_user);
	assert_int_equal(loc.owner, 1234);
}

static void test_system_store_belongs_to_root(void **state)
{
	struct account a = {
	    .name = "alice", .uid = 1234, .gid = 1234, .home = "/home/alice"};
	struct store_location loc;
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "store", "system", "test", &e), 0);
	assert_int_equal(account_store_location(&c, &a, &loc, &e), 0);
	assert_false(loc.per_user);
	assert_int_equal(loc.owner, 0);
	assert_non_null(strstr(loc.db_path, "/lib/totp/default.db"));

	/* a template in the home is the user's; anywhere else root's */
	assert_int_equal(cfg_set(&c, "store", "%h/.totp/%r.db", "test", &e), 0);
	assert_int_equal(account_store_location(&c, &a, &loc, &e), 0);
	assert_true(loc.per_user);
	assert_string_equal(loc.db_path, "/home/alice/.totp/default.db");
	assert_int_equal(cfg_set(&c, "store", "/srv/totp/%u-%r.db", "test", &e), 0);
	assert_int_equal(account_store_location(&c, &a, &loc, &e), 0);
	assert_false(loc.per_user);
	assert_string_equal(loc.db_path, "/srv/totp/alice-default.db");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup_root),
	    cmocka_unit_test(test_unknown_user_is_not_found),
	    cmocka_unit_test(test_odd_names_are_refused_before_lookup),
	    cmocka_unit_test(test_user_store_belongs_to_the_user),
	    cmocka_unit_test(test_system_store_belongs_to_root),
	};
	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
