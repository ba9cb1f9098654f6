/*
 * migration: stores made by an earlier release still open and log in.
 *
 * tests/data/store-v1-system.db and store-v1-user.db were written by the
 * store and record code of release 01505be (record version 1, two-slot
 * values; tests/data/README says how and what they hold).  They are never
 * rewritten: a change of the record or the store's layout must keep
 * reading them, and this test says what an upgrade must give.  Each test
 * works on a copy in a temp folder (the store checks that the runner owns
 * it), through lib/ as the module and totp-enroll call it, at the fixed
 * time the records were made for.
 *
 * The system store is opened as the module opens a realm's system store
 * now: sharded (lib/store/shard_store.h), the old file in place as the
 * legacy "<realm>.db", read for users no shard has and never written
 * (each test that writes checks it is byte for byte as it was).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "emergency.h"
#include "lifecycle.h"
#include "login.h"
#include "otp.h"
#include "record.h"
#include "store.h"

#define T0 1700000000LL /* the records' "now": 2023-11-14T22:13:20Z */

static const uint8_t SECRET20[] = "12345678901234567890";
static const uint8_t SECRET32[] = "12345678901234567890123456789012";

struct fixture {
	char dir[PATH_MAX];
	struct store_location loc;
	struct cfg c;
	uint8_t *legacy; /* the system store's bytes as copied */
	size_t legacy_len;
};

static uint8_t *slurp(const char *path, size_t *len)
{
	uint8_t *buf = malloc(1 << 22);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_non_null(buf);
	assert_true(fd >= 0);
	n = read(fd, buf, 1 << 22);
	assert_true(n >= 0 && n < (1 << 22));
	close(fd);
	*len = (size_t)n;
	return buf;
}

/* The legacy file was not written, and the shards' folder was made. */
static void legacy_unchanged(struct fixture *f)
{
	char shards[PATH_MAX + 8];
	struct stat st;
	size_t len;
	uint8_t *now = slurp(f->loc.where, &len);

	assert_int_equal(len, f->legacy_len);
	assert_memory_equal(now, f->legacy, len);
	free(now);
	snprintf(shards, sizeof(shards), "%.*s.d", (int)(strlen(f->loc.where) - 3),
		 f->loc.where);
	assert_int_equal(stat(shards, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

/* Copies tests/data/NAME to DIR/NAME, mode 0600. */
static void copy_data(const char *name, const char *dir, char *out, size_t outsz)
{
	const char *top = getenv("top_srcdir");
	char src[PATH_MAX], buf[65536];
	ssize_t n;
	int in, fd;

	snprintf(src, sizeof(src), "%s/tests/data/%s", top != NULL ? top : ".", name);
	snprintf(out, outsz, "%s/%s", dir, name);
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		fail_msg("cannot open %s: %s", src, strerror(errno));
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(fd, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	assert_int_equal(close(fd), 0);
}

static int setup(struct fixture *f, const char *name, bool per_user)
{
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_migration.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	memset(&f->loc, 0, sizeof(f->loc));
	copy_data(name, f->dir, f->loc.where, sizeof(f->loc.where));
	f->loc.owner = geteuid();
	f->loc.per_user = per_user;
	f->loc.sharded = !per_user; /* as location_for: the file is the legacy one */
	f->legacy = per_user ? NULL : slurp(f->loc.where, &f->legacy_len);
	cfg_defaults(&f->c);
	f->c.allow_digits |= 1u << 8; /* erin: SHA256, 8 digits, 60 s */
	f->c.emergency_codes = 3;     /* as many dummy hashes as alice has */
	return 0;
}

static int setup_system(void **state)
{
	static struct fixture f;

	*state = &f;
	return setup(&f, "store-v1-system.db", false);
}

static int setup_user(void **state)
{
	static struct fixture f;

	*state = &f;
	return setup(&f, "store-v1-user.db", true);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[PATH_MAX + 16];

	free(f->legacy);
	f->legacy = NULL;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void code_at(const uint8_t *key, size_t keylen, struct otp_params p,
		    uint64_t factor, char out[OTP_CODE_BUF])
{
	struct totp_err e;

	assert_int_equal(otp_code(key, keylen, &p, factor, out, &e), 0);
}

/* login_check at `now` seconds; returns the outcome. */
static enum login_outcome login(struct fixture *f, const char *user, const char *code,
				int64_t now, struct login_result *res)
{
	struct login_event ev = {"test", "192.0.2.1", now * 1000, false};
	struct totp_err e;

	if (login_check(&f->c, &f->loc, user, code, &ev, res, &e) != 0)
		fail_msg("login_check(%s): %s", user, e.msg);
	return res->outcome;
}

static void get(struct fixture *f, const char *user, struct record *r, int want)
{
	struct store_opts o = {.owner = f->loc.owner, .lock_timeout_ms = 2000};
	struct store *s = NULL;
	struct totp_err e;

	assert_int_equal(store_open(&f->loc, STORE_READ, &o, &s, &e), 0);
	assert_int_equal(store_get(s, user, r, &e), want);
	store_close(s);
}

/* Every record reads as it was written (tests/data/README). */
static void test_records_read(void **state)
{
	struct fixture *f = *state;
	struct record r;

	get(f, "alice", &r, 1);
	assert_int_equal(r.gen[0].state, RECORD_READY);
	assert_int_equal(r.gen[0].params.type, OTP_TOTP);
	assert_int_equal(r.gen[0].counter, T0 / 30 - 2);
	assert_int_equal(r.sequence, 9);
	assert_int_equal(r.failures, 1);
	assert_int_equal(r.emergency_count, 3);
	assert_int_equal(emergency_remaining(&r), 2);
	assert_int_equal(r.last_success.time, T0 - 60);
	assert_string_equal(r.last_success.service, "sshd");
	assert_string_equal(r.last_success.rhost, "192.0.2.7");
	assert_memory_equal(r.gen[0].secret, SECRET20, 20);
	get(f, "bob", &r, 1);
	assert_int_equal(r.gen[0].params.type, OTP_HOTP);
	assert_int_equal(r.gen[0].counter, 5);
	assert_int_equal(r.gen[0].window, 3);
	get(f, "carol", &r, 1);
	assert_int_equal(r.gen[0].state, RECORD_PENDING);
	get(f, "dave", &r, 1);
	assert_int_equal(r.gen[0].state, RECORD_REMOVED);
	assert_int_equal(r.gen[0].secret_len, 0);
	get(f, "erin", &r, 1);
	assert_int_equal(r.gen[0].params.alg, OTP_SHA256);
	assert_int_equal(r.gen[0].params.digits, 8);
	assert_int_equal(r.gen[0].params.period, 60);
	assert_int_equal(r.locked_until, T0 + 300);
	assert_memory_equal(r.gen[0].secret, SECRET32, 32);
	get(f, "frank", &r, 0);
}

/* Logins on the old store: codes, replay, emergency codes, HOTP, states. */
static void test_logins(void **state)
{
	struct fixture *f = *state;
	struct otp_params totp = {OTP_TOTP, OTP_SHA1, 6, 30};
	struct otp_params hotp = {OTP_HOTP, OTP_SHA1, 6, 30};
	struct otp_params erin = {OTP_TOTP, OTP_SHA256, 8, 60};
	struct login_result res;
	struct record r;
	char code[OTP_CODE_BUF];

	code_at(SECRET20, 20, totp, T0 / 30, code);
	assert_int_equal(login(f, "alice", code, T0, &res), LOGIN_SUCCESS);
	assert_int_equal(login(f, "alice", code, T0, &res), LOGIN_WRONG_CODE);
	/* the first emergency code was used before the upgrade, the second not */
	assert_int_equal(login(f, "alice", "12345678", T0, &res), LOGIN_WRONG_CODE);
	assert_int_equal(login(f, "alice", "87654321", T0, &res), LOGIN_SUCCESS);
	assert_true(res.emergency);
	assert_int_equal(res.emergency_left, 1);
	get(f, "alice", &r, 1);
	assert_int_equal(r.gen[0].counter, T0 / 30);
	assert_int_equal(r.failures, 0);

	code_at(SECRET20, 20, hotp, 7, code); /* within bob's look-ahead of 3 */
	assert_int_equal(login(f, "bob", code, T0, &res), LOGIN_SUCCESS);
	get(f, "bob", &r, 1);
	assert_int_equal(r.gen[0].counter, 8);

	code_at(SECRET20, 20, totp, T0 / 30, code);
	assert_int_equal(login(f, "carol", code, T0, &res), LOGIN_NOT_ENROLLED);
	assert_int_equal(login(f, "dave", code, T0, &res), LOGIN_NOT_ENROLLED);

	code_at(SECRET32, 32, erin, T0 / 60, code);
	assert_int_equal(login(f, "erin", code, T0, &res), LOGIN_LOCKED_OUT);
	code_at(SECRET32, 32, erin, (T0 + 301) / 60, code);
	assert_int_equal(login(f, "erin", code, T0 + 301, &res), LOGIN_SUCCESS);
	legacy_unchanged(f);
}

/* The old store takes a new user (the copy a new key costs) and keeps
 * every old record readable. */
static void test_new_user_in_old_store(void **state)
{
	struct fixture *f = *state;
	struct otp_params p = {OTP_TOTP, OTP_SHA1, 6, 30};
	struct registration reg;
	struct record r;
	struct totp_err e;

	assert_int_equal(lifecycle_register(&f->c, &f->loc, "frank", &p, "Migration",
					    "frank@host", T0 * 1000, &reg, &e),
			 0);
	lifecycle_registration_wipe(&reg);
	get(f, "frank", &r, 1);
	assert_int_equal(r.gen[0].state, RECORD_PENDING);
	get(f, "alice", &r, 1);
	assert_int_equal(r.sequence, 9);
	get(f, "erin", &r, 1);
	assert_int_equal(r.sequence, 17);
	legacy_unchanged(f);
}

static void test_user_store(void **state)
{
	struct fixture *f = *state;
	struct otp_params totp = {OTP_TOTP, OTP_SHA1, 6, 30};
	struct login_result res;
	char code[OTP_CODE_BUF];

	code_at(SECRET20, 20, totp, T0 / 30 - 1, code);
	assert_int_equal(login(f, "alice", code, T0, &res), LOGIN_SUCCESS);
	assert_int_equal(login(f, "alice", "12345678", T0 + 30, &res), LOGIN_SUCCESS);
	assert_true(res.emergency);
	assert_int_equal(res.emergency_left, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_records_read, setup_system, teardown),
	    cmocka_unit_test_setup_teardown(test_logins, setup_system, teardown),
	    cmocka_unit_test_setup_teardown(test_new_user_in_old_store, setup_system,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_user_store, setup_user, teardown),
	};
	struct totp_err err;

	if (otp_init(&err) != 0)
		return 1;
	return cmocka_run_group_tests_name("migration", tests, NULL, NULL);
}
