/* login: the precheck and the locked check, with a synthetic clock. */
#include "config.h"

#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "emergency.h"
#include "lifecycle.h"
#include "login.h"
#include "otp.h"
#include "record.h"
#include "gdbm_store.h"
#include "store.h"

#define USER "alice"
/* RFC 6238 / RFC 4226 seed for SHA1 */
static const uint8_t SECRET[20] = "12345678901234567890";

static char g_dir[PATH_MAX];
static struct store_location g_loc;
static struct cfg g_cfg;

static void base_record(struct record *r, enum otp_type type, unsigned digits)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = RECORD_READY;
	r->gen[0].params.type = type;
	r->gen[0].params.alg = OTP_SHA1;
	r->gen[0].params.digits = digits;
	r->gen[0].params.period = 30;
	memcpy(r->gen[0].secret, SECRET, sizeof(SECRET));
	r->gen[0].secret_len = sizeof(SECRET);
	r->sequence = 2;
}

static void put(const struct record *r)
{
	struct store_opts o = {.owner = g_loc.owner, .lock_timeout_ms = 1000};
	struct store *s = NULL;
	struct totp_err e;

	assert_int_equal(gdbm_store_open(g_loc.where, STORE_CREATE, &o, &s, &e), 0);
	assert_int_equal(store_put(s, USER, r, &e), 0);
	store_close(s);
}

static void get(struct record *r)
{
	struct store_opts o = {.owner = g_loc.owner, .lock_timeout_ms = 1000};
	struct store *s = NULL;
	struct totp_err e;

	assert_int_equal(gdbm_store_open(g_loc.where, STORE_READ, &o, &s, &e), 0);
	assert_int_equal(store_get(s, USER, r, &e), 1);
	store_close(s);
}

static int check_at(int64_t now_s, const char *code, struct login_result *res)
{
	struct login_event ev = {
	    .service = "sshd", .rhost = "203.0.113.9", .now_ms = now_s * 1000 + 250};
	struct totp_err e;

	return login_check(&g_cfg, &g_loc, USER, code, &ev, res, &e);
}

static int reset(void **state)
{
	char lock[PATH_MAX + 8];

	(void)state;
	unlink(g_loc.where);
	snprintf(lock, sizeof(lock), "%s.lock", g_loc.where);
	unlink(lock);
	cfg_defaults(&g_cfg);
	return 0;
}

/* ---- precheck ------------------------------------------------------------ */

static void test_precheck_states(void **state)
{
	struct login_result res;
	struct record r;
	struct totp_err e;

	(void)state;
	/* no store at all */
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 0, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_NOT_ENROLLED);
	/* a store without this user */
	base_record(&r, OTP_TOTP, 6);
	{
		struct store_opts o = {.owner = g_loc.owner, .lock_timeout_ms = 1000};
		struct store *s = NULL;

		assert_int_equal(gdbm_store_open(g_loc.where, STORE_CREATE, &o, &s, &e),
				 0);
		assert_int_equal(store_put(s, "bob", &r, &e), 0);
		store_close(s);
	}
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 0, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_NOT_ENROLLED);
	/* pending, removed */
	r.gen[0].state = RECORD_PENDING;
	put(&r);
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 0, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_NOT_ENROLLED);
	r.gen[0].state = RECORD_REMOVED;
	put(&r);
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 0, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_NOT_ENROLLED);
	/* ready, with its digits */
	base_record(&r, OTP_TOTP, 8);
	put(&r);
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 0, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_READY);
	assert_int_equal(res.digits, 8);
	/* locked until 1000 s */
	r.locked_until = 1000;
	r.failures = 5;
	put(&r);
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 999999, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_LOCKED_OUT);
	assert_int_equal(res.locked_until, 1000);
	assert_int_equal(res.failures, 5);
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 1000000, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_READY);
}

static void test_precheck_store_trouble(void **state)
{
	struct login_result res;
	struct totp_err e;
	int fd;

	(void)state;
	fd = open(g_loc.where, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a gdbm file at all, no, not at all", 38), 38);
	close(fd);
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 0, &res, &e), -1);
	assert_true(e.reason == TOTP_R_TRUNCATED || e.reason == TOTP_R_CORRUPT);
	unlink(g_loc.where);
	assert_int_equal(symlink("/etc/passwd", g_loc.where), 0);
	assert_int_equal(login_precheck(&g_cfg, &g_loc, USER, 0, &res, &e), -1);
	assert_int_equal(e.reason, TOTP_R_SYMLINK);
	assert_int_equal(check_at(59, "94287082", &res), -1);
}

/* ---- the check ------------------------------------------------------------ */

/* RFC 6238 Appendix B, SHA1, 8 digits. */
static void test_totp_rfc_vectors_and_replay(void **state)
{
	struct login_result res;
	struct record r;

	(void)state;
	base_record(&r, OTP_TOTP, 8);
	put(&r);
	assert_int_equal(check_at(59, "94287082", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_false(res.emergency);
	assert_int_equal(res.digits, 8);
	get(&r);
	assert_int_equal(r.gen[0].counter, 1);
	/* the same code again, even in the same step: a replay */
	assert_int_equal(check_at(59, "94287082", &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(res.failures, 1);
	assert_int_equal(check_at(1111111109, "07081804", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_int_equal(res.failures, 0);
	assert_int_equal(check_at(1111111111, "14050471", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_int_equal(check_at(20000000000, "65353130", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	get(&r);
	assert_int_equal(r.gen[0].counter, 0x27BC86AAu);
}

static void test_totp_window(void **state)
{
	struct login_result res;
	struct record r;
	char code[OTP_CODE_BUF];
	struct totp_err e;
	const int64_t now = 1234567890; /* step 0x273EF07 */
	const uint64_t step = 0x273EF07;

	(void)state;
	base_record(&r, OTP_TOTP, 6);
	put(&r);
	/* two steps away: outside the default window of 1 */
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step + 2, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step - 2, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	/* the previous step passes and the window follows it (drift -1,
	 * issue 17): the next step is then outside it, the current one in;
	 * then the next passes (drift +1) */
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step - 1, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	get(&r);
	assert_int_equal(r.gen[0].drift, -1);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step + 1, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step + 1, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	get(&r);
	assert_int_equal(r.gen[0].drift, 1);
	/* the current step is now older than the last accepted one */
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	/* a wider window from the realm, or the record's own (drift 0) */
	get(&r);
	r.gen[0].drift = 0;
	put(&r);
	g_cfg.window = 2;
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step + 2, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	g_cfg.window = 1;
	get(&r);
	r.gen[0].window = 4;
	r.gen[0].drift = 0;
	put(&r);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step + 4, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
}

/* RFC 4226 Appendix D: the counter moves past the code that matched. */
static void test_hotp_counter(void **state)
{
	struct login_result res;
	struct record r;

	(void)state;
	base_record(&r, OTP_HOTP, 6);
	put(&r);
	assert_int_equal(check_at(100, "755224", &res), 0); /* counter 0 */
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	get(&r);
	assert_int_equal(r.gen[0].counter, 1);
	assert_int_equal(check_at(100, "359152", &res), 0); /* 2: one ahead */
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	get(&r);
	assert_int_equal(r.gen[0].counter, 3);
	assert_int_equal(check_at(100, "287082", &res), 0); /* 1: behind */
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(check_at(100, "254676", &res), 0); /* 5: two ahead */
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(check_at(100, "969429", &res), 0); /* 3 */
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	get(&r);
	assert_int_equal(r.gen[0].counter, 4);
	assert_int_equal(r.failures, 0);
}

static void test_events_recorded(void **state)
{
	struct login_result res;
	struct record r;
	struct login_event ev = {.service = NULL, .rhost = NULL, .now_ms = 59123};
	struct totp_err e;
	char longname[300];

	(void)state;
	base_record(&r, OTP_TOTP, 8);
	put(&r);
	assert_int_equal(check_at(59, "00000000", &res), 0);
	get(&r);
	assert_int_equal(r.sequence, 3);
	assert_int_equal(r.change_date_ms, 59250);
	assert_int_equal(r.last_failure.time, 59);
	assert_string_equal(r.last_failure.service, "sshd");
	assert_string_equal(r.last_failure.rhost, "203.0.113.9");
	assert_int_equal(r.last_success.time, 0);
	assert_int_equal(login_check(&g_cfg, &g_loc, USER, "94287082", &ev, &res, &e), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	get(&r);
	assert_int_equal(r.sequence, 4);
	assert_int_equal(r.change_date_ms, 59123);
	assert_int_equal(r.last_success.time, 59);
	assert_string_equal(r.last_success.service, "");
	assert_string_equal(r.last_success.rhost, "");
	assert_int_equal(r.failures, 0);
	/* a long rhost is cut, not overflowed */
	memset(longname, 'h', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ev.rhost = longname;
	ev.service = longname;
	ev.now_ms = 1111111109000;
	assert_int_equal(login_check(&g_cfg, &g_loc, USER, "07081804", &ev, &res, &e), 0);
	get(&r);
	assert_int_equal(strlen(r.last_success.rhost), RECORD_RHOST_MAX - 1);
	assert_int_equal(strlen(r.last_success.service), RECORD_SERVICE_MAX - 1);
}

static void test_lockout_and_expiry(void **state)
{
	struct login_result res;
	struct record r;
	uint64_t seq;

	(void)state;
	g_cfg.max_failures = 3;
	g_cfg.lockout = 60;
	base_record(&r, OTP_TOTP, 8);
	put(&r);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(check_at(1000, "12345678", &res), 0);
		assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
		assert_false(res.locked_now);
		assert_int_equal(res.failures, (uint32_t)i);
	}
	assert_int_equal(check_at(1000, "12345678", &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_true(res.locked_now);
	assert_int_equal(res.locked_until, 1060);
	get(&r);
	assert_int_equal(r.locked_until, 1060);
	assert_int_equal(r.sequence, 2 + 3 + 1); /* three failures and the lock */
	seq = r.sequence;
	/* locked: even the right code is not checked, nothing is written */
	assert_int_equal(check_at(1059, "94287082", &res), 0);
	assert_int_equal(res.outcome, LOGIN_LOCKED_OUT);
	get(&r);
	assert_int_equal(r.sequence, seq);
	assert_int_equal(r.gen[0].counter, 0);
	/* the lockout runs out: the code is checked, the count starts afresh */
	assert_int_equal(check_at(1060, "12345678", &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(res.failures, 1);
	assert_int_equal(res.locked_until, 0);
	assert_int_equal(check_at(1111111109, "07081804", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_int_equal(res.failures, 0);
}

static void test_never_lock(void **state)
{
	struct login_result res;
	struct record r;

	(void)state;
	g_cfg.max_failures = 0;
	base_record(&r, OTP_TOTP, 8);
	put(&r);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(check_at(1000, "12345678", &res), 0);
		assert_false(res.locked_now);
	}
	assert_int_equal(res.failures, 20);
	assert_int_equal(check_at(59, "94287082", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
}

static void test_emergency_once(void **state)
{
	struct login_result res;
	struct record r;
	struct totp_err e;
	const char *codes[] = {"11112222", "33334444", "55556666"};

	(void)state;
	base_record(&r, OTP_TOTP, 6);
	assert_int_equal(emergency_set(&r, codes, 3, &e), 0);
	put(&r);
	assert_int_equal(check_at(5000, "33334444", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_true(res.emergency);
	assert_int_equal(res.emergency_left, 2);
	assert_int_equal(check_at(5000, "33334444", &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_false(res.emergency);
	assert_int_equal(res.emergency_left, 2);
	/* eight characters that are not digits: a wrong code, not an error */
	assert_int_equal(check_at(5000, "abcdefgh", &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(check_at(5000, "11112222", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_int_equal(res.emergency_left, 1);
	get(&r);
	assert_int_equal(emergency_remaining(&r), 1);
	assert_int_equal(r.failures, 0);
}

/* An emergency code's failure is stored before its hashing and taken
 * back when it matches: even as the failure that reaches max_failures,
 * it leaves no lockout, no count and the last failure as it was. */
static void test_emergency_takes_failure_back(void **state)
{
	struct login_result res;
	struct record r;
	struct totp_err e;
	const char *codes[] = {"11112222"};

	(void)state;
	g_cfg.max_failures = 5;
	base_record(&r, OTP_TOTP, 6);
	assert_int_equal(emergency_set(&r, codes, 1, &e), 0);
	r.failures = 4;
	r.last_failure.time = 4000;
	put(&r);
	assert_int_equal(check_at(5000, "11112222", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_true(res.emergency);
	assert_false(res.locked_now);
	assert_int_equal(res.failures, 0);
	assert_int_equal(res.locked_until, 0);
	assert_int_equal(res.emergency_left, 0);
	get(&r);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.locked_until, 0);
	assert_int_equal(r.last_failure.time, 4000);
	assert_int_equal(r.last_success.time, 5000);
	assert_int_equal(emergency_remaining(&r), 0);
}

static void test_not_enrolled_check(void **state)
{
	struct login_result res;
	struct record r;

	(void)state;
	assert_int_equal(check_at(59, "94287082", &res), 0); /* no store */
	assert_int_equal(res.outcome, LOGIN_NOT_ENROLLED);
	base_record(&r, OTP_TOTP, 8);
	r.gen[0].state = RECORD_PENDING;
	put(&r);
	assert_int_equal(check_at(59, "94287082", &res), 0);
	assert_int_equal(res.outcome, LOGIN_NOT_ENROLLED);
	get(&r);
	assert_int_equal(r.sequence, 2); /* untouched */
	assert_int_equal(r.gen[0].counter, 0);
}

static void test_check_lock_timeout(void **state)
{
	struct login_result res;
	struct record r;
	struct store_opts o = {.owner = 0, .lock_timeout_ms = 1000};
	struct store *s = NULL;
	struct totp_err e;

	(void)state;
	base_record(&r, OTP_TOTP, 8);
	put(&r);
	o.owner = g_loc.owner;
	/* our own exclusive hold: a second open (another descriptor) waits */
	assert_int_equal(gdbm_store_open(g_loc.where, STORE_WRITE, &o, &s, &e), 0);
	g_cfg.lock_timeout_ms = 100;
	assert_int_equal(check_at(59, "94287082", &res), -1);
	assert_int_equal(res.outcome, LOGIN_NOT_ENROLLED);
	store_close(s);
	assert_int_equal(check_at(59, "94287082", &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
}

/* Issue 18, finding 11: a login while the clock ran a day ahead stores
 * that day's step, and today's codes are then refused as replays.  Root's
 * unlock brings the step back to now: the next code passes, and no code
 * accepted before passes again. */
static void test_unlock_after_clock_jump(void **state)
{
	const int64_t now = 1700000000, ahead = now + 86400;
	struct login_result res;
	struct record r, out;
	char code[OTP_CODE_BUF];
	struct totp_err e;
	uint64_t step;

	(void)state;
	base_record(&r, OTP_TOTP, 6);
	put(&r);
	step = otp_step_at(&r.gen[0].params, now);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step, code, &e), 0);
	assert_int_equal(check_at(now, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	/* the clock jumps a day ahead, a login there, and it comes back */
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params,
				  otp_step_at(&r.gen[0].params, ahead), code, &e),
			 0);
	assert_int_equal(check_at(ahead, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step + 1, code, &e), 0);
	assert_int_equal(check_at(now + 30, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	/* root unlocks at now + 30 (step + 1) */
	assert_int_equal(
	    lifecycle_unlock(&g_cfg, &g_loc, USER, (now + 30) * 1000, &out, &e), 0);
	assert_int_equal(out.failures, 0);
	assert_int_equal(out.gen[0].counter, step + 1);
	/* the code of step + 1 (seen before the unlock) and the one accepted
	 * at `step` stay refused; the next one passes */
	assert_int_equal(check_at(now + 30, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step, code, &e), 0);
	assert_int_equal(check_at(now + 30, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(otp_code(SECRET, 20, &r.gen[0].params, step + 2, code, &e), 0);
	assert_int_equal(check_at(now + 30, code, &res), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	/* an unlock with the step behind now leaves it alone */
	assert_int_equal(lifecycle_unlock(&g_cfg, &g_loc, USER, ahead * 2000, &out, &e),
			 0);
	assert_int_equal(out.gen[0].counter, step + 2);
}

static int group_setup(void **state)
{
	struct totp_err e;

	(void)state;
	strcpy(g_dir, "/tmp/test_login.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	memset(&g_loc, 0, sizeof(g_loc));
	snprintf(g_loc.where, sizeof(g_loc.where), "%s/default.db", g_dir);
	g_loc.owner = getuid();
	g_loc.per_user = true;
	return otp_init(&e);
}

static int group_teardown(void **state)
{
	char lock[PATH_MAX + 8];

	(void)state;
	unlink(g_loc.where);
	snprintf(lock, sizeof(lock), "%s.lock", g_loc.where);
	unlink(lock);
	return rmdir(g_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_precheck_states, reset),
	    cmocka_unit_test_setup(test_precheck_store_trouble, reset),
	    cmocka_unit_test_setup(test_totp_rfc_vectors_and_replay, reset),
	    cmocka_unit_test_setup(test_totp_window, reset),
	    cmocka_unit_test_setup(test_hotp_counter, reset),
	    cmocka_unit_test_setup(test_events_recorded, reset),
	    cmocka_unit_test_setup(test_lockout_and_expiry, reset),
	    cmocka_unit_test_setup(test_never_lock, reset),
	    cmocka_unit_test_setup(test_emergency_once, reset),
	    cmocka_unit_test_setup(test_emergency_takes_failure_back, reset),
	    cmocka_unit_test_setup(test_not_enrolled_check, reset),
	    cmocka_unit_test_setup(test_check_lock_timeout, reset),
	    cmocka_unit_test_setup(test_unlock_after_clock_jump, reset),
	};

	return cmocka_run_group_tests_name("login", tests, group_setup, group_teardown);
}
