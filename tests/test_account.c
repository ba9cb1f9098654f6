/* account: passwd look-ups and where a user's record lives. */
#include "config.h"

#include "location.h"

#include <errno.h>
#include <pwd.h>
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
	assert_int_equal(location_for(&c, &a, &loc, &e), 0);
	assert_string_equal(loc.where, "/home/alice/.config/totp/default.db");
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
	assert_int_equal(location_for(&c, &a, &loc, &e), 0);
	assert_false(loc.per_user);
	assert_int_equal(loc.owner, 0);
	assert_non_null(strstr(loc.where, "/lib/totp/default.db"));

	/* a template in the home is the user's; anywhere else root's */
	assert_int_equal(cfg_set(&c, "store", "%h/.totp/%r.db", "test", &e), 0);
	assert_int_equal(location_for(&c, &a, &loc, &e), 0);
	assert_true(loc.per_user);
	assert_string_equal(loc.where, "/home/alice/.totp/default.db");
	assert_int_equal(cfg_set(&c, "store", "/srv/totp/%u-%r.db", "test", &e), 0);
	assert_int_equal(location_for(&c, &a, &loc, &e), 0);
	assert_false(loc.per_user);
	assert_string_equal(loc.where, "/srv/totp/alice-default.db");
}

/* ---- issue 18, finding 4: long passwd lines ------------------------------ */

#define LONG_FIELD 1100 /* the GECOS that broke every look-up after it */

/* A passwd look-up as glibc's files backend makes it: every line it reads
 * must fit the caller's buffer, or ERANGE, whichever user is asked for.
 * "longgecos" has an 1100-character GECOS and comes first; "longhome" has
 * a home of 1100 characters; "bob" is ordinary. */
static int fake_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t size,
			   struct passwd **result)
{
	static char gecos[LONG_FIELD + 1], home[LONG_FIELD + 1];
	const char *dir = "/home/bob", *g = "Bob";
	size_t need;

	memset(gecos, 'g', LONG_FIELD);
	memset(home, 'h', LONG_FIELD);
	home[0] = '/';
	*result = NULL;
	if (size < LONG_FIELD + 64) /* the first line, longgecos's, does not fit */
		return ERANGE;
	if (strcmp(name, "longgecos") == 0)
		g = gecos;
	else if (strcmp(name, "longhome") == 0)
		dir = home;
	else if (strcmp(name, "bob") != 0)
		return 0; /* not found */
	need =
	    strlen(name) + strlen(g) + strlen(dir) + sizeof("x") + sizeof("/bin/sh") + 3;
	if (size < need)
		return ERANGE;
	memset(pw, 0, sizeof(*pw));
	pw->pw_name = strcpy(buf, name);
	buf += strlen(name) + 1;
	pw->pw_passwd = strcpy(buf, "x");
	buf += 2;
	pw->pw_gecos = strcpy(buf, g);
	buf += strlen(g) + 1;
	pw->pw_dir = strcpy(buf, dir);
	buf += strlen(dir) + 1;
	pw->pw_shell = strcpy(buf, "/bin/sh");
	pw->pw_uid = 4242;
	pw->pw_gid = 4242;
	*result = pw;
	return 0;
}

/* One long passwd line must not break look-ups: the buffer grows (and is
 * bounded) on ERANGE. */
static void test_long_passwd_line(void **state)
{
	struct account a;
	struct totp_err e;

	(void)state;
	totp_err_clear(&e);
	if (account_lookup_with("bob", fake_getpwnam_r, &a, &e) != 0)
		fail_msg("bob: %s", e.msg);
	assert_string_equal(a.name, "bob");
	assert_string_equal(a.home, "/home/bob");
	assert_int_equal(account_lookup_with("longgecos", fake_getpwnam_r, &a, &e), 0);
	assert_int_equal(a.uid, 4242);
	assert_int_equal(account_lookup_with("nosuch", fake_getpwnam_r, &a, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
}

/* An existing user whose home does not fit is never "unknown" (nor the
 * invalid name the module takes for unknown): nullok would let an unknown
 * user in.  The look-up fails closed. */
static void test_long_home_fails_closed(void **state)
{
	struct account a;
	struct totp_err e;

	(void)state;
	totp_err_clear(&e);
	assert_int_equal(account_lookup_with("longhome", fake_getpwnam_r, &a, &e), -1);
	if (e.reason == TOTP_R_NOT_FOUND || e.reason == TOTP_R_INVALID)
		fail_msg("an existing user came back as %s: %s",
			 totp_reason_name(e.reason), e.msg);
	assert_true(e.msg[0] != '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lookup_root),
	    cmocka_unit_test(test_unknown_user_is_not_found),
	    cmocka_unit_test(test_odd_names_are_refused_before_lookup),
	    cmocka_unit_test(test_user_store_belongs_to_the_user),
	    cmocka_unit_test(test_system_store_belongs_to_root),
	    cmocka_unit_test(test_long_passwd_line),
	    cmocka_unit_test(test_long_home_fails_closed),
	};
	return cmocka_run_group_tests_name("account", tests, NULL, NULL);
}
