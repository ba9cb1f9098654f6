/*
 * pam_totp.so through real libpam stacks: pam_start_confdir() with a
 * service file in a temporary folder that names the built module by its
 * absolute path, and a conversation answering from a script.
 *
 * The module's log lines are caught here: this program defines pam_syslog
 * and pam_vsyslog and is linked with --export-dynamic, so the module, when
 * libpam loads it, binds to these before libpam's own.
 *
 * Stores are per-user stores (the template has %h) in a folder made under
 * the current user's home, so that they are owned as the module expects
 * whoever runs the tests; pam_modutil_drop_priv is then a no-op (not root,
 * or root's own store).  As root, a system store and a real user's store
 * (a throwaway account made with useradd) are tested too.  @needs useradd userdel
 *
 * Usage: test_pam [--quick] [PATTERN]   (--quick: 5 race rounds instead of
 * 200, for valgrind; PATTERN: run only the tests it matches, as test_race)
 */
#include "config.h"

#include "location.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "account.h"
#include "cfg.h"
#include "emergency.h"
#include "lifecycle.h"
#include "otp.h"
#include "record.h"
#include "gdbm_store.h"
#include "store.h"

#include "pam_harness.h"

/* ---- the basic cases ------------------------------------------------------ */

static void test_success(void **state)
{
	struct record r, after;
	char code[OTP_CODE_BUF];
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	code_at(&r, step, code);
	answers(1, code);
	assert_int_equal(run(""), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 1);
	assert_string_equal(g_s.prompts[0], "Verification code: ");
	assert_int_equal(g_s.styles[0], PAM_PROMPT_ECHO_OFF);
	assert_logged("accepted a code of generator default; user=");
	assert_logged("realm=default service=" SERVICE " rhost=" RHOST);
	assert_non_null(strstr(logged("accepted"), g_user));
	assert_int_equal(atoi(logged("accepted") + 1), LOG_AUTHPRIV | LOG_NOTICE);
	assert_not_logged(code);
	get_record("default", &after);
	assert_int_equal(after.gen[0].counter, step);
	assert_int_equal(after.sequence, r.sequence + 1);
	assert_int_equal(after.failures, 0);
	assert_string_equal(after.last_success.service, SERVICE);
	assert_string_equal(after.last_success.rhost, RHOST);
	assert_true(after.last_success.time >= r.gen[0].created);
}

/* An enrolment as totp-enroll makes it (register, verify), then a login:
 * the code that verified the registration cannot log in again. */
static void test_success_after_enrolment(void **state)
{
	struct registration reg;
	struct account a;
	struct store_location loc;
	struct record out;
	struct cfg c;
	struct totp_err e;
	char code[OTP_CODE_BUF];
	struct otp_params p = totp6();
	uint64_t step;

	(void)state;
	settle();
	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "store", g_store, "test", &e), 0);
	assert_int_equal(account_lookup(g_user, &a, &e), 0);
	assert_int_equal(location_for(&c, &a, &loc, &e), 0);
	assert_true(loc.per_user);
	memset(&reg, 0, sizeof(reg));
	if (lifecycle_register(&c, &loc, g_user, &p, "test", g_user,
			       (int64_t)time(NULL) * 1000, &reg, &e) < 0)
		fail_msg("register: %s", e.msg);
	step = step_now();
	code_at(&reg.rec, step, code);
	if (lifecycle_verify(&c, &loc, g_user, code, (int64_t)time(NULL) * 1000, &out,
			     &e) < 0)
		fail_msg("verify: %s", e.msg);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	code_at(&reg.rec, step + 1, code);
	answers(1, code);
	assert_int_equal(run(""), PAM_SUCCESS);
	lifecycle_registration_wipe(&reg);
}

/* totp-enroll codes (issue 17): after lifecycle_codes with the app's code,
 * the module refuses every old emergency code and the code codes used,
 * and takes a new emergency code once. */
static void test_new_codes_at_login(void **state)
{
	struct registration reg;
	struct new_codes n;
	struct account a;
	struct store_location loc;
	struct cfg c;
	struct totp_err e;
	char code[OTP_CODE_BUF];
	struct otp_params p = totp6();
	uint64_t step;

	(void)state;
	settle();
	cfg_defaults(&c);
	c.emergency_codes = 2;
	assert_int_equal(cfg_set(&c, "store", g_store, "test", &e), 0);
	assert_int_equal(account_lookup(g_user, &a, &e), 0);
	assert_int_equal(location_for(&c, &a, &loc, &e), 0);
	memset(&reg, 0, sizeof(reg));
	if (lifecycle_register(&c, &loc, g_user, &p, "test", g_user,
			       (int64_t)time(NULL) * 1000, &reg, &e) < 0)
		fail_msg("register: %s", e.msg);
	step = step_now();
	code_at(&reg.rec, step, code);
	if (lifecycle_verify(&c, &loc, g_user, code, (int64_t)time(NULL) * 1000, NULL,
			     &e) < 0)
		fail_msg("verify: %s", e.msg);
	code_at(&reg.rec, step + 1, code);
	if (lifecycle_codes(&c, &loc, g_user, code, (int64_t)time(NULL) * 1000, &n, &e) <
	    0)
		fail_msg("codes: %s", e.msg);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR); /* used up by codes */
	answers(1, reg.codes[0]);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	answers(1, reg.codes[1]);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	answers(1, n.codes[1]);
	assert_int_equal(run(""), PAM_SUCCESS);
	assert_logged("accepted an emergency code, 1 left");
	answers(1, n.codes[1]);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	lifecycle_new_codes_wipe(&n);
	lifecycle_registration_wipe(&reg);
}

static void test_wrong_code(void **state)
{
	struct record r, after;
	char code[OTP_CODE_BUF];

	(void)state;
	put_ready_default(&r);
	wrong_code(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	assert_logged("refused: wrong code, 1 consecutive failures");
	assert_not_logged(code);
	/* the failure delay was asked for: 2 s, which libpam randomises */
	assert_int_equal(g_delay_calls, 1);
	assert_true(g_delay_usec >= 1000000 && g_delay_usec <= 3000000);
	get_record("default", &after);
	assert_int_equal(after.failures, 1);
	assert_int_equal(after.gen[0].counter, 0);
	assert_int_equal(after.sequence, r.sequence + 1);
	assert_string_equal(after.last_failure.service, SERVICE);
	assert_string_equal(after.last_failure.rhost, RHOST);

	/* not digits, too short, too long, empty: wrong codes all the same */
	const char *junk[] = {"abcdef",	  "12345",  "1234567", "",
			      "12345678", "12 456", "123456\n"};
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		answers(1, junk[i]);
		assert_int_equal(run("max_failures=0"), PAM_AUTH_ERR);
		assert_logged("refused: wrong code");
	}
	get_record("default", &after);
	assert_int_equal(after.failures, 1 + sizeof(junk) / sizeof(junk[0]));
}

static void test_replay(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF];

	(void)state;
	put_ready_default(&r);
	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run(""), PAM_SUCCESS);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	assert_logged("refused: wrong code");
}

/* With window=1, the previous and the next step pass, once each, and only
 * forwards.  The window follows the step accepted (drift, issue 17):
 * after the previous step (drift -1) the next is outside it until the
 * current one passes. */
static void test_window_neighbours(void **state)
{
	struct record r, after;
	char prev[OTP_CODE_BUF], next[OTP_CODE_BUF], cur[OTP_CODE_BUF];
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	code_at(&r, step - 1, prev);
	code_at(&r, step, cur);
	code_at(&r, step + 1, next);
	answers(1, prev);
	assert_int_equal(run(""), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.gen[0].counter, step - 1);
	assert_int_equal(after.gen[0].drift, -1);
	answers(1, next);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	answers(1, cur);
	assert_int_equal(run(""), PAM_SUCCESS);
	answers(1, next);
	assert_int_equal(run(""), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.gen[0].counter, step + 1);
	assert_int_equal(after.gen[0].drift, 1);
	answers(1, cur);
	assert_int_equal(run(""), PAM_AUTH_ERR);
}

static void test_outside_window(void **state)
{
	struct record r;
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	assert_int_equal(run_with_code(&r, step - 2, ""), PAM_AUTH_ERR);
	assert_int_equal(run_with_code(&r, step + 2, ""), PAM_AUTH_ERR);
}

static void test_hotp(void **state)
{
	struct record r, after;
	char code[OTP_CODE_BUF];

	(void)state;
	ready_record(&r, OTP_HOTP, 5);
	put_record("default", &r);
	code_at(&r, 4, code); /* already used */
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	code_at(&r, 6, code); /* one ahead: within the window */
	answers(1, code);
	assert_int_equal(run(""), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.gen[0].counter, 7);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
}

/* ---- clock drift (issue 17) ------------------------------------------------ */

/* Registers the default generator as totp-enroll does and verifies it
 * with the code of the clock's step + `offset`: verify's answer. */
static int enrol_at_offset(int offset, struct registration *reg, struct totp_err *e)
{
	struct account a;
	struct store_location loc;
	struct cfg c;
	char code[OTP_CODE_BUF];
	struct otp_params p = totp6();
	int rc;

	settle();
	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "store", g_store, "test", e), 0);
	assert_int_equal(account_lookup(g_user, &a, e), 0);
	assert_int_equal(location_for(&c, &a, &loc, e), 0);
	memset(reg, 0, sizeof(*reg));
	if (lifecycle_register(&c, &loc, g_user, &p, "test", g_user,
			       (int64_t)time(NULL) * 1000, reg, e) < 0)
		fail_msg("register: %s", e->msg);
	code_at(&reg->rec, (uint64_t)((int64_t)step_now() + offset), code);
	rc =
	    lifecycle_verify(&c, &loc, g_user, code, (int64_t)time(NULL) * 1000, NULL, e);
	explicit_bzero(code, sizeof(code));
	return rc;
}

/* A phone 2 minutes slow (4 steps): verify learns drift -4, and the phone
 * then logs in again and again with its slow codes, window 1. */
static void test_drift_slow_phone(void **state)
{
	struct registration reg;
	struct record after;
	struct totp_err e;

	(void)state;
	if (enrol_at_offset(-4, &reg, &e) < 0)
		fail_msg("verify: %s", e.msg);
	get_record("default", &after);
	assert_int_equal(after.gen[0].state, RECORD_READY);
	assert_int_equal(after.gen[0].drift, -4);
	for (int i = 0; i < 4; i++) {
		clock_advance(30);
		assert_int_equal(run_with_code(&reg.rec, step_now() - 4, ""),
				 PAM_SUCCESS);
		get_record("default", &after);
		assert_int_equal(after.gen[0].drift, -4);
		assert_true(after.gen[0].counter == step_now() - 4);
	}
	/* the phone runs a step slower still: followed, within the window
	 * (two steps on: the step 5 behind this one is newer than the last) */
	clock_advance(60);
	assert_int_equal(run_with_code(&reg.rec, step_now() - 5, ""), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.gen[0].drift, -5);
	/* replay: the step last accepted is refused as ever */
	assert_int_equal(run_with_code(&reg.rec, step_now() - 5, ""), PAM_AUTH_ERR);
	lifecycle_registration_wipe(&reg);
}

/* The window is not widened for anyone: drift 0 refuses a code 4 steps
 * off, and a drift of -4 moves the window rather than widening it. */
static void test_drift_window_not_widened(void **state)
{
	struct record r, after;
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	assert_int_equal(run_with_code(&r, step - 4, ""), PAM_AUTH_ERR);
	assert_int_equal(run_with_code(&r, step - 2, ""), PAM_AUTH_ERR);
	get_record("default", &after);
	assert_int_equal(after.gen[0].drift, 0);
	assert_true(after.gen[0].counter == 0);
	r.gen[0].drift = -4;
	r.failures = 0;
	put_record("default", &r);
	assert_int_equal(run_with_code(&r, step, ""), PAM_AUTH_ERR);
	assert_int_equal(run_with_code(&r, step - 2, ""), PAM_AUTH_ERR);
	assert_int_equal(run_with_code(&r, step - 4, ""), PAM_SUCCESS);
}

/* Bounded: verify finds a phone up to RECORD_DRIFT_MAX steps off, not
 * one step more; logins never keep a drift past the bound. */
static void test_drift_bounded(void **state)
{
	struct registration reg;
	struct record after;
	struct totp_err e;

	(void)state;
	assert_int_equal(enrol_at_offset(-RECORD_DRIFT_MAX - 1, &reg, &e), -1);
	assert_int_equal(e.reason, TOTP_R_WRONG_CODE);
	lifecycle_registration_wipe(&reg);
	rm_store("default");
	assert_int_equal(enrol_at_offset(RECORD_DRIFT_MAX + 1, &reg, &e), -1);
	lifecycle_registration_wipe(&reg);
	rm_store("default");
	if (enrol_at_offset(-RECORD_DRIFT_MAX, &reg, &e) < 0)
		fail_msg("verify: %s", e.msg);
	get_record("default", &after);
	assert_int_equal(after.gen[0].drift, -RECORD_DRIFT_MAX);
	/* one step slower: within the window, accepted, the drift stays at
	 * the bound; two steps past the bound is refused (the clock moves two
	 * steps each time, so that the code is newer than the last) */
	clock_advance(60);
	assert_int_equal(run_with_code(&reg.rec, step_now() - RECORD_DRIFT_MAX - 1, ""),
			 PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.gen[0].drift, -RECORD_DRIFT_MAX);
	clock_advance(60);
	assert_int_equal(run_with_code(&reg.rec, step_now() - RECORD_DRIFT_MAX - 2, ""),
			 PAM_AUTH_ERR);
	lifecycle_registration_wipe(&reg);
}

/* HOTP has no clock: a drift in its record changes nothing. */
static void test_drift_hotp_unaffected(void **state)
{
	struct record r, after;

	(void)state;
	ready_record(&r, OTP_HOTP, 5);
	r.gen[0].drift = 7;
	put_record("default", &r);
	assert_int_equal(run_with_code(&r, 4, ""), PAM_AUTH_ERR);
	assert_int_equal(run_with_code(&r, 5, ""), PAM_SUCCESS);
	get_record("default", &after);
	assert_true(after.gen[0].counter == 6);
	assert_int_equal(after.gen[0].drift, 7);
}

/* ---- grace period (issue 17) ----------------------------------------------- */

#define GRACE "grace_period=600"

/* A fresh code (the clock moved a step on first): the module's answer. */
static int fresh_code(const struct record *r, const char *args)
{
	clock_advance(30);
	return run_with_code(r, step_now(), args);
}

/* Not asked: PAM_SUCCESS without a prompt, logged as such. */
static void assert_let_in(const char *args)
{
	answers(0);
	assert_int_equal(run(args), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 0);
	assert_logged("accepted without a code: grace period");
}

/* Asked: a prompt, and a wrong answer refused. */
static void assert_asked(const struct record *r, const char *args)
{
	char code[OTP_CODE_BUF];

	wrong_code(r, step_now(), code);
	answers(1, code);
	assert_int_equal(run(args), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 1);
}

/* The same host within grace is not asked, and that writes nothing; the
 * code it typed is still a replay elsewhere. */
static void test_grace_same_host(void **state)
{
	struct record r, before, after;
	char code[OTP_CODE_BUF];

	(void)state;
	put_ready_default(&r);
	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run(GRACE), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 1);
	get_record("default", &before);
	assert_int_equal(before.grace_count, 1);
	clock_advance(300);
	assert_let_in(GRACE);
	assert_logged("rhost=" RHOST);
	get_record("default", &after);
	assert_true(after.sequence == before.sequence);
	assert_true(after.grace[0].time == before.grace[0].time);
	/* the host is not in the record as text */
	assert_null(memmem(after.grace, sizeof(after.grace), RHOST, strlen(RHOST)));
	/* a replay of the code is refused as ever, from another host */
	g_rhost = "203.0.113.9";
	answers(1, code);
	assert_int_equal(run(GRACE), PAM_AUTH_ERR);
	assert_logged("refused: wrong code");
}

static void test_grace_other_host(void **state)
{
	struct record r;

	(void)state;
	put_ready_default(&r);
	assert_int_equal(run_with_code(&r, step_now(), GRACE), PAM_SUCCESS);
	g_rhost = "203.0.113.9";
	assert_asked(&r, GRACE);
	g_rhost = RHOST ".1"; /* a longer name is another host */
	assert_asked(&r, GRACE);
}

/* Grace runs from the code typed, not from the last login within it. */
static void test_grace_expires(void **state)
{
	struct record r;

	(void)state;
	put_ready_default(&r);
	assert_int_equal(run_with_code(&r, step_now(), GRACE), PAM_SUCCESS);
	clock_advance(599);
	assert_let_in(GRACE);
	clock_advance(1);
	assert_asked(&r, GRACE);
	/* a new code starts it again */
	assert_int_equal(fresh_code(&r, GRACE), PAM_SUCCESS);
	assert_let_in(GRACE);
}

/* An empty PAM_RHOST (local logins, sudo, su) is never remembered. */
static void test_grace_empty_rhost(void **state)
{
	struct record r, after;

	(void)state;
	put_ready_default(&r);
	g_rhost = NULL;
	assert_int_equal(run_with_code(&r, step_now(), GRACE), PAM_SUCCESS);
	assert_asked(&r, GRACE);
	g_rhost = "";
	assert_int_equal(fresh_code(&r, GRACE), PAM_SUCCESS);
	assert_asked(&r, GRACE);
	get_record("default", &after);
	assert_int_equal(after.grace_count, 0);
}

/* Off by default: nothing remembered, and what was remembered is not used
 * without grace_period. */
static void test_grace_off_by_default(void **state)
{
	struct record r, after;

	(void)state;
	put_ready_default(&r);
	assert_int_equal(run_with_code(&r, step_now(), ""), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.grace_count, 0);
	assert_asked(&r, "");
	assert_int_equal(fresh_code(&r, GRACE), PAM_SUCCESS);
	assert_asked(&r, "");
	/* bounded: more than a day is refused, failing closed */
	answers(0);
	assert_int_equal(run("grace_period=86401"), PAM_SERVICE_ERR);
	assert_int_equal(run("grace_period=60 forward_pass"), PAM_SERVICE_ERR);
}

/* At most RECORD_GRACE_MAX hosts: the oldest gives way. */
static void test_grace_bounded_hosts(void **state)
{
	static const char *const hosts[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3",
					    "192.0.2.4", "192.0.2.5"};
	struct record r, after;

	(void)state;
	put_ready_default(&r);
	for (size_t i = 0; i < 5; i++) {
		g_rhost = hosts[i];
		assert_int_equal(fresh_code(&r, "grace_period=3600"), PAM_SUCCESS);
	}
	get_record("default", &after);
	assert_int_equal(after.grace_count, RECORD_GRACE_MAX);
	g_rhost = hosts[0];
	assert_asked(&r, "grace_period=3600");
	for (size_t i = 1; i < 5; i++) {
		g_rhost = hosts[i];
		assert_let_in("grace_period=3600");
	}
}

/* A locked-out user is not let in by grace: asked, then refused. */
static void test_grace_lockout_refuses(void **state)
{
	struct record r, now_r;

	(void)state;
	put_ready_default(&r);
	assert_int_equal(run_with_code(&r, step_now(), GRACE), PAM_SUCCESS);
	get_record("default", &now_r);
	now_r.locked_until = time(NULL) + 300;
	put_record("default", &now_r);
	answers(1, "000000");
	assert_int_equal(run(GRACE), PAM_MAXTRIES);
	assert_int_equal(g_s.n_prompts, 1);
	assert_not_logged("grace period");
}

/* ---- several generators (issue 17) ---------------------------------------- */

/* gen[i] of r, ready (or pending), with its own secret. */
static void add_generator(struct record *r, unsigned i, const char *name,
			  enum record_state st)
{
	struct record_gen *g = &r->gen[i];

	*g = r->gen[0];
	memset(g->name, 0, sizeof(g->name));
	strcpy(g->name, name);
	g->state = st;
	for (unsigned k = 0; k < g->secret_len; k++)
		g->secret[k] = (uint8_t)(g->secret[k] ^ (0x5a + i));
	g->counter = 0;
}

static void gen_code(const struct record *r, unsigned i, uint64_t factor,
		     char out[OTP_CODE_BUF])
{
	struct totp_err e;

	assert_int_equal(otp_code(r->gen[i].secret, r->gen[i].secret_len,
				  &r->gen[i].params, factor, out, &e),
			 0);
}

/* A code of any ready generator lets the user in, through the module, and
 * the record names it; each generator's code is used once and moves only
 * it on; a pending generator's code lets nobody in. */
static void test_generators_any_ready(void **state)
{
	struct record r, after;
	char code[OTP_CODE_BUF];
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	add_generator(&r, 1, "spare", RECORD_READY);
	add_generator(&r, 2, "token", RECORD_PENDING);
	put_record("default", &r);
	step = step_now();
	/* the spare phone's code */
	gen_code(&r, 1, step, code);
	answers(1, code);
	assert_int_equal(run(""), PAM_SUCCESS);
	assert_not_logged(code);
	assert_logged("accepted a code of generator spare; user=");
	get_record("default", &after);
	assert_int_equal(after.last_success.by, 1);
	assert_int_equal(after.gen[1].counter, step);
	assert_int_equal(after.gen[0].counter, 0); /* the other did not move */
	assert_true(after.gen[1].last_used != 0);
	assert_int_equal(after.gen[0].last_used, 0);
	/* once */
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	/* the pending token's code: refused, a failure */
	gen_code(&r, 2, step, code);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	get_record("default", &after);
	assert_int_equal(after.failures, 2);
	assert_int_equal(after.gen[2].counter, 0);
	/* the default phone's code of the same step: in, as default */
	gen_code(&r, 0, step, code);
	answers(1, code);
	assert_int_equal(run(""), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.last_success.by, 0);
	assert_int_equal(after.gen[0].counter, step);
	assert_int_equal(after.failures, 0);
}

/* The lockout is the user's: max_failures wrong codes lock out every
 * generator, however many there are. */
static void test_generators_lockout_per_user(void **state)
{
	struct record r, after;
	char bad[OTP_CODE_BUF], good[OTP_CODE_BUF];
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	for (unsigned i = 1; i < RECORD_GENERATORS_MAX; i++) {
		char name[8];

		snprintf(name, sizeof(name), "g%u", i);
		add_generator(&r, i, name, RECORD_READY);
	}
	put_record("default", &r);
	step = step_now();
	wrong_code(&r, step, bad);
	for (unsigned i = 0; i < RECORD_GENERATORS_MAX; i++) {
		gen_code(&r, i, step, good);
		if (strcmp(good, bad) == 0) /* not any generator's code */
			skip();
	}
	answers(1, bad);
	assert_int_equal(run("max_failures=2 lockout=600"), PAM_AUTH_ERR);
	answers(1, bad);
	assert_int_equal(run("max_failures=2 lockout=600"), PAM_MAXTRIES);
	for (unsigned i = 0; i < RECORD_GENERATORS_MAX; i++) {
		gen_code(&r, i, step, good);
		answers(1, good);
		assert_int_equal(run("max_failures=2 lockout=600"), PAM_MAXTRIES);
	}
	get_record("default", &after);
	assert_int_equal(after.failures, 2);
	for (unsigned i = 0; i < RECORD_GENERATORS_MAX; i++)
		assert_int_equal(after.gen[i].counter, 0);
}

static void test_pending_registration(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF];

	(void)state;
	settle();
	ready_record(&r, OTP_TOTP, 0);
	r.gen[0].state = RECORD_PENDING;
	put_record("default", &r);
	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 1); /* asked like anyone else */
	assert_logged("refused: no ready generator");
	/* nullok: steps aside without asking */
	answers(1, code);
	assert_int_equal(run_probe("nullok"), PAM_IGNORE);
	assert_int_equal(g_s.n_prompts, 0);
	/* a removed generator is no generator */
	r.gen[0].state = RECORD_REMOVED;
	put_record("default", &r);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR);
}

static void test_not_enrolled(void **state)
{
	(void)state;
	/* no store at all */
	answers(1, "123456");
	assert_int_equal(run(""), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 1);
	assert_logged("refused: no ready generator");
	answers(1, "123456");
	assert_int_equal(run_probe("nullok"), PAM_IGNORE);
	assert_int_equal(g_s.n_prompts, 0);
}

static void test_not_enrolled_store_of_others(void **state)
{
	struct record r;
	char path[PATH_MAX];

	(void)state;
	ready_record(&r, OTP_TOTP, 0);
	db_path("default", path, sizeof(path));
	put_record_at(path, g_uid, "someone-else", &r);
	answers(1, "123456");
	assert_int_equal(run(""), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 1);
	answers(1, "123456");
	assert_int_equal(run_probe("nullok"), PAM_IGNORE);
}

/* An unknown user looks like a user who is not enrolled. */
static void test_unknown_user(void **state)
{
	(void)state;
	totp_line(g_stack, sizeof(g_stack), "required", "");
	answers(1, "123456");
	assert_int_equal(run_stack_as(g_stack, "pam-totp-no-such-user", 0), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 1);
	assert_logged("refused: unknown user; user=(unknown) realm=default");
	assert_not_logged("pam-totp-no-such-user");
	answers(1, "123456");
	assert_int_equal(run_probe_user("nullok", "pam-totp-no-such-user"), PAM_IGNORE);
	/* a name that cannot be a key is not logged as it is */
	totp_line(g_stack, sizeof(g_stack), "required", "");
	answers(1, "123456");
	assert_int_equal(run_stack_as(g_stack, "bad\nname", 0), PAM_AUTH_ERR);
	assert_logged("user=(invalid name)");
}

static void test_emergency_code_once(void **state)
{
	struct record r, after;
	struct totp_err e;
	const char *codes[] = {"12345678", "87654321"};

	(void)state;
	ready_record(&r, OTP_TOTP, 0);
	assert_int_equal(emergency_set(&r, codes, 2, &e), 0);
	put_record("default", &r);
	answers(1, "12345678");
	assert_int_equal(run(""), PAM_SUCCESS);
	assert_logged("accepted an emergency code, 1 left");
	assert_not_logged("12345678");
	assert_int_equal(g_s.n_messages, 1);
	assert_string_equal(g_s.messages[0], "I:Emergency code accepted: 1 left.");
	answers(1, "12345678");
	assert_int_equal(run(""), PAM_AUTH_ERR);
	get_record("default", &after);
	assert_int_equal(emergency_remaining(&after), 1);
	answers(1, "87654321");
	assert_int_equal(run(""), PAM_SUCCESS);
	assert_logged("accepted an emergency code, 0 left");
}

/* ---- throttling ---------------------------------------------------------- */

static void test_lockout_and_expiry(void **state)
{
	struct record r, after;
	char bad[OTP_CODE_BUF], good[OTP_CODE_BUF];
	uint64_t step;

	(void)state;
	/* locked for 2 s of the tests' clock, which moves only when told */
	put_ready_default(&r);
	step = step_now();
	wrong_code(&r, step, bad);
	code_at(&r, step, good);
	answers(1, bad);
	assert_int_equal(run("max_failures=2 lockout=2"), PAM_AUTH_ERR);
	answers(1, bad);
	assert_int_equal(run("max_failures=2 lockout=2"), PAM_MAXTRIES);
	assert_logged("locked out for 2 seconds after 2 failures");
	assert_int_equal(atoi(logged("locked out") + 1), LOG_AUTHPRIV | LOG_WARNING);
	assert_string_equal(g_s.messages[0], "E:" LOCKED_MESSAGE);
	/* locked: asked like everyone (issue 18), then refused, even the
	 * right code, unchecked */
	answers(1, good);
	assert_int_equal(run("max_failures=2 lockout=2"), PAM_MAXTRIES);
	assert_int_equal(g_s.n_prompts, 1);
	assert_logged("refused: locked out");
	/* PAM_SILENT: no message */
	answers(1, good);
	totp_line(g_stack, sizeof(g_stack), "required", "max_failures=2 lockout=2");
	assert_int_equal(run_stack_as(g_stack, g_user, PAM_SILENT), PAM_MAXTRIES);
	assert_int_equal(g_s.n_messages, 0);
	get_record("default", &after);
	assert_int_equal(after.failures, 2);
	assert_true(after.locked_until != 0);
	/* and after the lockout, the right code passes */
	clock_advance((unsigned)(after.locked_until - time(NULL)));
	answers(1, good);
	assert_int_equal(run("max_failures=2 lockout=2"), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.failures, 0);
	assert_int_equal(after.locked_until, 0);
}

static void test_lockout_preset(void **state)
{
	struct record r, after;
	char bad[OTP_CODE_BUF];

	(void)state;
	settle();
	ready_record(&r, OTP_TOTP, 0);
	r.failures = 5;
	r.locked_until = time(NULL) + 3600;
	put_record("default", &r);
	answers(1, "123456");
	assert_int_equal(run(""), PAM_MAXTRIES);
	assert_int_equal(g_s.n_prompts, 1); /* asked, then refused (issue 18) */
	/* a lockout that ran out: the count starts afresh */
	r.locked_until = time(NULL) - 1;
	put_record("default", &r);
	wrong_code(&r, step_now(), bad);
	answers(1, bad);
	assert_int_equal(run(""), PAM_AUTH_ERR);
	get_record("default", &after);
	assert_int_equal(after.failures, 1);
	assert_int_equal(after.locked_until, 0);
}

/* The default: 5 failures, then 300 s. */
static void test_default_throttle(void **state)
{
	struct record r, after;
	char bad[OTP_CODE_BUF];
	time_t t0 = time(NULL);

	(void)state;
	put_ready_default(&r);
	wrong_code(&r, step_now(), bad);
	for (int i = 1; i <= 4; i++) {
		answers(1, bad);
		assert_int_equal(run(""), PAM_AUTH_ERR);
	}
	answers(1, bad);
	assert_int_equal(run(""), PAM_MAXTRIES);
	get_record("default", &after);
	assert_true(after.locked_until >= t0 + 300 &&
		    after.locked_until <= time(NULL) + 300);
}

/* Issue 18, finding 8: a locked-out user is asked like everyone, and
 * refused after the answer (the refusal without a prompt told a prober
 * who is enrolled and locked). */
static void test_locked_user_is_asked(void **state)
{
	struct record r;
	char good[OTP_CODE_BUF];

	(void)state;
	settle();
	ready_record(&r, OTP_TOTP, 0);
	r.failures = 5;
	r.locked_until = time(NULL) + 3600;
	put_record("default", &r);
	code_at(&r, step_now(), good);
	answers(1, good);
	assert_int_equal(run(""), PAM_MAXTRIES);
	assert_int_equal(g_s.n_prompts, 1);
	assert_int_equal(g_s.n_messages, 1);
	assert_string_equal(g_s.messages[0], "E:" LOCKED_MESSAGE);
	assert_logged("refused: locked out");
	/* the answer was not checked: the right code is still unused */
	r.locked_until = 0;
	r.failures = 0;
	put_record("default", &r);
	answers(1, good);
	assert_int_equal(run(""), PAM_SUCCESS);
}

/* Issue 18, finding 10: a record the realm's allow_* settings do not
 * allow (here written by the user's own --conf: period 3600, 7 digits) is
 * refused at login, not checked. */
static void test_realm_limits_at_login(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF];

	(void)state;
	settle();
	ready_record(&r, OTP_TOTP, 0);
	r.gen[0].params.period = 3600;
	put_record("default", &r);
	code_at(&r, otp_step_at(&r.gen[0].params, time(NULL)), code);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTHINFO_UNAVAIL);
	assert_logged("is not allowed in realm default");
	/* the same record in a realm that allows it passes */
	answers(1, code);
	assert_int_equal(run("allow_periods=30,3600"), PAM_SUCCESS);
	/* digits */
	ready_record(&r, OTP_TOTP, 0);
	r.gen[0].params.digits = 7;
	put_record("default", &r);
	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTHINFO_UNAVAIL);
	answers(1, code);
	assert_int_equal(run("allow_digits=6,7,8"), PAM_SUCCESS);
}

/* ---- options ------------------------------------------------------------- */

static void write_conf(const char *path, const char *text, mode_t mode);

/* realm=: another database and policy.  A named realm must have its
 * section in pam_totp.conf (a mistyped realm= must not open an empty
 * store), and only a root-owned file is read. */
static void test_option_realm(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF], conf[PATH_MAX + 16], arg[PATH_MAX + 48];

	(void)state;
	settle();
	ready_record(&r, OTP_TOTP, 0);
	put_record("other", &r);
	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run("realm=../x"), PAM_SERVICE_ERR);
	assert_int_equal(g_s.n_prompts, 0);
	assert_logged("configuration refused");
	answers(1, code);
	assert_int_equal(run("realm=other"), PAM_SERVICE_ERR); /* no [other] */
	if (g_uid != 0)
		skip();
	sfmt(conf, sizeof(conf), "%s/realms.conf", g_dir);
	write_conf(conf, "[other]\n", 0644);
	answers(1, code);
	sfmt(arg, sizeof(arg), "conf=%s", conf);
	assert_int_equal(run(arg), PAM_AUTH_ERR); /* the default realm has nobody */
	answers(1, code);
	sfmt(arg, sizeof(arg), "conf=%s realm=other", conf);
	assert_int_equal(run(arg), PAM_SUCCESS);
	assert_logged("realm=other ");
}

static void write_conf(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_option_conf(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF], conf[PATH_MAX + 16], arg[PATH_MAX + 32];
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	sfmt(conf, sizeof(conf), "%s/test.conf", g_dir);
	sfmt(arg, sizeof(arg), "conf=%s", conf);
	write_conf(conf, "# the test's realm\n[default]\nwindow = 3\n", 0644);
	code_at(&r, step + 3, code);
	if (g_uid != 0) {
		/* only a root-owned file is read */
		answers(1, code);
		assert_int_equal(run(arg), PAM_SERVICE_ERR);
		assert_logged("configuration refused");
		skip();
	}
	answers(1, code);
	assert_int_equal(run(""), PAM_AUTH_ERR); /* window 1 */
	answers(1, code);
	assert_int_equal(run(arg), PAM_SUCCESS); /* window 3 from the file */
	/* arguments win over the file */
	code_at(&r, step + 2, code);
	answers(1, code);
	sfmt(arg, sizeof(arg), "conf=%s window=1", conf);
	assert_int_equal(run(arg), PAM_AUTH_ERR);
	/* refused files: fail closed */
	sfmt(arg, sizeof(arg), "conf=%s", conf);
	write_conf(conf, "[default]\nwindow = 3\n", 0666);
	answers(1, code);
	assert_int_equal(run(arg), PAM_SERVICE_ERR);
	write_conf(conf, "[default]\nwindow = 3\n", 0644);
	assert_int_equal(chown(conf, 65534, 65534), 0);
	answers(1, code);
	assert_int_equal(run(arg), PAM_SERVICE_ERR);
	assert_int_equal(chown(conf, 0, 0), 0);
	write_conf(conf, "[default]\nfrobnicate = 3\n", 0644);
	answers(1, code);
	assert_int_equal(run(arg), PAM_SERVICE_ERR);
	assert_logged("configuration refused");
}

/* store=: a system store (root-owned, no %h), as for sudo. */
static void test_option_store_system(void **state)
{
	struct record r;
	char path[PATH_MAX + 16], arg[PATH_MAX + 32];

	(void)state;
	if (g_uid != 0)
		skip();
	settle();
	sfmt(path, sizeof(path), "%s/system-default.db", g_dir);
	ready_record(&r, OTP_TOTP, 0);
	put_record_at(path, 0, g_user, &r);
	sfmt(arg, sizeof(arg), "store=%s/system-%%r.db debug", g_dir);
	assert_int_equal(run_with_code(&r, step_now(), arg), PAM_SUCCESS);
	assert_logged("(system store)");
	unlink(path);
	strcat(path, ".lock");
	unlink(path);
}

static void test_option_window(void **state)
{
	struct record r;
	uint64_t step;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	assert_int_equal(run_with_code(&r, step - 2, "window=2"), PAM_SUCCESS);
	put_record("default", &r); /* drift 0 again (the window followed) */
	assert_int_equal(run_with_code(&r, step + 2, "window=2"), PAM_SUCCESS);
	/* window=0: the current step only */
	assert_int_equal(run_with_code(&r, step + 3, "window=0"), PAM_AUTH_ERR);
}

static void test_option_prompt_and_echo(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF];

	(void)state;
	put_ready_default(&r);
	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run("[prompt=One-time code: ] echo_code"), PAM_SUCCESS);
	assert_string_equal(g_s.prompts[0], "One-time code: ");
	assert_int_equal(g_s.styles[0], PAM_PROMPT_ECHO_ON);
	assert_not_logged(code);
}

static void test_option_use_first_pass(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF], line[PATH_MAX * 2];
	size_t n;

	(void)state;
	put_ready_default(&r);
	code_at(&r, step_now(), code);
	/* an earlier module asked and set PAM_AUTHTOK */
	n = sfmt(g_stack, sizeof(g_stack), "auth optional %s set\n", PAM_TEST_HELPER);
	totp_line(line, sizeof(line), "required", "use_first_pass");
	sfmt(g_stack + n, sizeof(g_stack) - n, "%s", line);
	answers(1, code);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 1);
	assert_string_equal(g_s.prompts[0], "Password: ");
	/* no token: refused without asking */
	answers(1, code);
	assert_int_equal(run("use_first_pass"), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 0);
	assert_logged("no earlier module set a token");
}

static void test_option_try_first_pass(void **state)
{
	struct record r, after;
	char code[OTP_CODE_BUF], line[PATH_MAX * 2];
	uint64_t step;
	size_t n;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	n = sfmt(g_stack, sizeof(g_stack), "auth optional %s set\n", PAM_TEST_HELPER);
	totp_line(line, sizeof(line), "required", "try_first_pass");
	sfmt(g_stack + n, sizeof(g_stack) - n, "%s", line);
	/* a token shaped like a code is taken */
	code_at(&r, step - 1, code);
	answers(1, code);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 1);
	/* a password is not a failed code: the module asks */
	code_at(&r, step, code);
	answers(2, "hunter2", code);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 2);
	assert_string_equal(g_s.prompts[1], "Verification code: ");
	get_record("default", &after);
	assert_int_equal(after.failures, 0);
	assert_int_equal(after.sequence, r.sequence + 2);
	/* no token at all: asks */
	assert_int_equal(run_with_code(&r, step + 1, "try_first_pass"), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 1);
}

/* Issue 18, finding 7: pam_unix, then pam_totp try_first_pass, and a
 * password of digits.  It was taken for a code, with no prompt, and
 * counted as a failure: that user could never log in.  The borrowed
 * token's failure must make the module ask, and a session counts one
 * failure at most. */
static void test_try_first_pass_digit_password(void **state)
{
	struct record r, after;
	char good[OTP_CODE_BUF], bad[OTP_CODE_BUF], bad2[OTP_CODE_BUF];
	char line[PATH_MAX * 2];
	uint64_t step;
	size_t n;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	n = sfmt(g_stack, sizeof(g_stack), "auth optional %s set\n", PAM_TEST_HELPER);
	totp_line(line, sizeof(line), "required", "try_first_pass");
	sfmt(g_stack + n, sizeof(g_stack) - n, "%s", line);
	/* an 8-digit password, then the right code at the prompt */
	code_at(&r, step, good);
	answers(2, "12345678", good);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 2);
	assert_string_equal(g_s.prompts[1], "Verification code: ");
	get_record("default", &after);
	assert_int_equal(after.failures, 0);
	/* a code-shaped password, then a wrong code: one failure, not two */
	wrong_code(&r, step, bad);
	wrong_code(&r, step + 5, bad2);
	answers(2, bad, bad2);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 2);
	get_record("default", &after);
	assert_int_equal(after.failures, 1);
	assert_not_logged(bad);
	/* not answering the prompt: the borrowed try stays counted (no free
	 * guesses), once */
	answers(1, bad);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_CONV_ERR);
	get_record("default", &after);
	assert_int_equal(after.failures, 2);
	/* use_first_pass is unchanged: the token is the code, never asked */
	totp_line(line, sizeof(line), "required", "use_first_pass");
	sfmt(g_stack + n, sizeof(g_stack) - n, "%s", line);
	answers(2, "12345678", good);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 1);
}

static void test_option_forward_pass(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF], answer[64], line[PATH_MAX * 2];
	uint64_t step;
	size_t n;

	(void)state;
	put_ready_default(&r);
	step = step_now();
	totp_line(g_stack, sizeof(g_stack), "required", "forward_pass");
	n = strlen(g_stack);
	sfmt(g_stack + n, sizeof(g_stack) - n, "auth required %s expect=hunter2\n",
	     PAM_TEST_HELPER);
	code_at(&r, step, code);
	sfmt(answer, sizeof(answer), "hunter2%s", code);
	answers(1, answer);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_SUCCESS);
	assert_int_equal(g_s.n_prompts, 1);
	assert_string_equal(g_s.prompts[0], "Password and verification code: ");
	assert_not_logged("hunter2");
	/* the right code, the wrong password: the next module refuses */
	code_at(&r, step + 1, code);
	sfmt(answer, sizeof(answer), "hunter3%s", code);
	answers(1, answer);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_AUTH_ERR);
	/* only a code: no empty password is passed on */
	code_at(&r, step - 1, code);
	answers(1, code);
	assert_int_equal(run_stack_as(g_stack, g_user, 0), PAM_AUTH_ERR);
	/* forward_pass with use_first_pass makes no sense: fail closed */
	totp_line(line, sizeof(line), "required", "forward_pass use_first_pass");
	answers(1, answer);
	assert_int_equal(run_stack_as(line, g_user, 0), PAM_SERVICE_ERR);
}

static void test_option_debug(void **state)
{
	(void)state;
	answers(1, "123456");
	assert_int_equal(run(""), PAM_AUTH_ERR);
	for (size_t i = 0; i < g_nlog; i++)
		assert_int_not_equal(atoi(g_log[i] + 1) & LOG_PRIMASK, LOG_DEBUG);
	answers(1, "123456");
	assert_int_equal(run("debug"), PAM_AUTH_ERR);
	assert_logged("(user store)");
	assert_int_equal(atoi(logged("(user store)") + 1), LOG_AUTHPRIV | LOG_DEBUG);
}

/* A misconfiguration never opens the door, and never steps aside. */
static void test_option_bad_fails_closed(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF];
	const char *bad[] = {
	    "frobnicate", "window=abc",	  "window=",  "window=99", "max_failures=-1",
	    "lockout=x",  "nullok=maybe", "digits=9", "=1",	   "realm="};

	(void)state;
	put_ready_default(&r);
	code_at(&r, step_now(), code);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char args[64];

		sfmt(args, sizeof(args), "nullok %s", bad[i]);
		answers(1, code);
		int rc = run_probe(args);
		if (rc != PAM_SERVICE_ERR) {
			dump_log();
			fail_msg("option \"%s\" gave %d", bad[i], rc);
		}
		assert_int_equal(g_s.n_prompts, 0);
		assert_logged("configuration refused, failing closed");
	}
}

static void test_option_lock_timeout_and_sync(void **state)
{
	struct record r;
	char code[OTP_CODE_BUF];

	(void)state;
	put_ready_default(&r);
	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run("lock_timeout=200 sync_login=no"), PAM_SUCCESS);
	answers(1, code);
	assert_int_equal(run("sync_login=yes"), PAM_AUTH_ERR);
}

/* ---- refusals: store trouble is PAM_AUTHINFO_UNAVAIL, logged -------------- */

static void expect_unavailable_once(const char *args, const char *reason, int prompts)
{
	answers(1, "123456");
	int rc = run(args);
	if (rc != PAM_AUTHINFO_UNAVAIL) {
		dump_log();
		fail_msg("%s: gave %d, not PAM_AUTHINFO_UNAVAIL", args, rc);
	}
	assert_logged("cannot check the code");
	assert_logged(reason);
	assert_int_equal(atoi(logged("cannot check the code") + 1),
			 LOG_AUTHPRIV | LOG_ERR);
	assert_int_equal(g_s.n_prompts, prompts);
}

/* Store trouble: PAM_AUTHINFO_UNAVAIL, with its reason logged.  The check
 * after the answer finds it when nothing needs a look before the prompt
 * (the defaults: every user is asked first); with nullok the look finds
 * it, and nobody is asked. */
static void expect_unavailable(const char *args, const char *reason)
{
	char looked[256];

	expect_unavailable_once(args, reason, 1);
	snprintf(looked, sizeof(looked), "%s nullok", args);
	expect_unavailable_once(looked, reason, 0);
}

static void make_ready_store(void)
{
	struct record r;

	ready_record(&r, OTP_TOTP, 0);
	put_record("default", &r);
}

static void test_refuse_symlink(void **state)
{
	char path[PATH_MAX], real[PATH_MAX];

	(void)state;
	make_ready_store();
	db_path("default", path, sizeof(path));
	db_path("real", real, sizeof(real));
	assert_int_equal(rename(path, real), 0);
	assert_int_equal(symlink(real, path), 0);
	expect_unavailable("", "(symlink)");
	unlink(real);
}

static void test_refuse_foreign_owner(void **state)
{
	char path[PATH_MAX];

	(void)state;
	if (g_uid != 0)
		skip();
	make_ready_store();
	db_path("default", path, sizeof(path));
	assert_int_equal(chown(path, 65534, 65534), 0);
	expect_unavailable("", "(bad-owner)");
}

static void test_refuse_group_writable(void **state)
{
	char path[PATH_MAX];

	(void)state;
	make_ready_store();
	db_path("default", path, sizeof(path));
	assert_int_equal(chmod(path, 0620), 0);
	expect_unavailable("", "(bad-mode)");
}

static void write_bytes(const char *path, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0600);
	char buf[512];

	assert_true(fd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);
	while (n > 0) {
		size_t k = n < sizeof(buf) ? n : sizeof(buf);

		assert_int_equal(write(fd, buf, k), (ssize_t)k);
		n -= k;
	}
	close(fd);
}

static void test_refuse_corrupt(void **state)
{
	char path[PATH_MAX];

	(void)state;
	db_path("default", path, sizeof(path));
	write_bytes(path, 8192);
	expect_unavailable("", "(corrupt)");
}

static void test_refuse_truncated(void **state)
{
	char path[PATH_MAX];

	(void)state;
	make_ready_store();
	db_path("default", path, sizeof(path));
	assert_int_equal(truncate(path, 10), 0);
	expect_unavailable("", "(truncated)");
}

static void test_refuse_lock_held(void **state)
{
	char path[PATH_MAX + 8];
	int ready[2];
	char c;
	pid_t pid;
	struct timespec t0, t1;
	double waited;

	(void)state;
	make_ready_store();
	db_path("default", path, sizeof(path));
	strcat(path, ".lock");
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(path, O_RDWR | O_NOFOLLOW);

		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_unavailable("lock_timeout=200", "(lock-timeout)");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	waited =
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* it waited for the deadline; the upper bound only guards a hang */
	assert_true(waited >= 0.19 && waited < 60.0);
}

/* ---- the race -------------------------------------------------------------- */

/* One round: RACERS processes, each with its PAM handle ready (the
 * module loaded), released at once into pam_authenticate with the same
 * code.  Returns how many passed. */
static int race_round(const char *code, int *others_ok)
{
	pid_t kids[RACERS];
	int go[2], ready[2], passed = 0;
	char c;

	answers(1, code);
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	for (int k = 0; k < RACERS; k++) {
		kids[k] = fork();
		assert_true(kids[k] >= 0);
		if (kids[k] == 0) {
			pam_handle_t *pamh = start(g_user);

			close(go[1]);
			close(ready[0]);
			(void)!write(ready[1], "r", 1);
			(void)!read(go[0], &c, 1); /* returns at EOF: everyone goes */
			_exit(pamh != NULL ? finish(pamh, 0) : PAM_SYSTEM_ERR);
		}
	}
	close(go[0]);
	close(ready[1]);
	for (int k = 0; k < RACERS; k++)
		assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	close(go[1]);
	*others_ok = 1;
	for (int k = 0; k < RACERS; k++) {
		int status = 0;

		assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
		assert_true(WIFEXITED(status));
		if (WEXITSTATUS(status) == PAM_SUCCESS)
			passed++;
		else if (WEXITSTATUS(status) != PAM_AUTH_ERR)
			*others_ok = 0;
	}
	return passed;
}

/* HOTP makes a fresh code each round: the counter moves on by exactly one
 * per round.  max_failures=0: the losers' failures must not lock the user.
 * sync_login=no keeps 1600 logins fast; the lock, not the sync, is what
 * makes exactly one win. */
static void test_race(void **state)
{
	struct record r, after;
	char code[OTP_CODE_BUF], ahead[OTP_CODE_BUF];
	int rounds = g_quick ? 5 : 200;

	(void)state;
	ready_record(&r, OTP_HOTP, 0);
	put_record("default", &r);
	totp_line(g_stack, sizeof(g_stack), "required",
		  "max_failures=0 sync_login=no lock_timeout=60000");
	write_stack(g_stack);
	for (int i = 0; i < rounds; i++) {
		int others_ok;

		code_at(&r, (uint64_t)i, code);
		/* the losers could only win if this code were also one of the
		 * next two (the window): not so for this secret */
		for (uint64_t d = 1; d <= 2; d++) {
			code_at(&r, (uint64_t)i + d, ahead);
			assert_string_not_equal(code, ahead);
		}
		int passed = race_round(code, &others_ok);
		if (passed != 1)
			fail_msg("round %d: %d of %d passed", i, passed, RACERS);
		assert_true(others_ok);
	}
	get_record("default", &after);
	assert_int_equal(after.gen[0].counter, (uint64_t)rounds);
	/* every racer's check was recorded: none was lost to another */
	assert_int_equal(after.sequence, r.sequence + (uint64_t)rounds * RACERS);
}

/* ---- a real user's store, as root ---------------------------------------- */

static char g_tmp_user[32];
static char g_tmp_base[64];

static int run_cmd(char *const argv[])
{
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int cleanup_tmp_user(void **state)
{
	(void)state;
	if (g_tmp_user[0] != '\0') {
		char *argv[] = {"userdel", g_tmp_user, NULL};

		run_cmd(argv);
		g_tmp_user[0] = '\0';
	}
	if (g_tmp_base[0] != '\0') {
		nftw(g_tmp_base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		g_tmp_base[0] = '\0';
	}
	return 0;
}

/* As the user, in a child: the record goes into the user's own store. */
static void put_as_user(const struct passwd *pw, const char *db, const struct record *r)
{
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_opts o = {.owner = pw->pw_uid, .lock_timeout_ms = 2000};
		struct store *s = NULL;
		struct totp_err e;

		if (setgroups(0, NULL) < 0 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
			_exit(2);
		if (gdbm_store_open(db, STORE_CREATE, &o, &s, &e) < 0)
			_exit(3);
		if (store_put(s, pw->pw_name, r, &e) < 0)
			_exit(4);
		store_close(s);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_real_user_store(void **state)
{
	struct passwd *pw;
	struct record r;
	struct stat st;
	char home[128], db[256], lock[272], code[OTP_CODE_BUF];

	(void)state;
	if (g_uid != 0)
		skip();
	settle();
	strcpy(g_tmp_base, "/tmp/pam_totp_user.XXXXXX");
	assert_non_null(mkdtemp(g_tmp_base));
	assert_int_equal(chmod(g_tmp_base, 0755), 0);
	sfmt(g_tmp_user, sizeof(g_tmp_user), "totpt%ld", (long)getpid());
	sfmt(home, sizeof(home), "%s/home", g_tmp_base);
	char *add[] = {"useradd",	    "-M",	"-d", home, "-s",
		       "/usr/sbin/nologin", g_tmp_user, NULL};
	if (run_cmd(add) != 0) {
		g_tmp_user[0] = '\0';
		skip();
	}
	pw = getpwnam(g_tmp_user);
	assert_non_null(pw);
	assert_int_equal(mkdir(home, 0700), 0);
	assert_int_equal(chown(home, pw->pw_uid, pw->pw_gid), 0);
	sfmt(db, sizeof(db), "%s/.config/totp/default.db", home);
	sfmt(lock, sizeof(lock), "%s.lock", db);

	ready_record(&r, OTP_TOTP, 0);
	put_as_user(pw, db, &r);
	/* without its lock file: the module makes it, as the user */
	unlink(lock);
	code_at(&r, step_now(), code);
	totp_line(g_stack, sizeof(g_stack), "required", "store=user");
	answers(1, code);
	assert_int_equal(run_stack_as(g_stack, g_tmp_user, 0), PAM_SUCCESS);
	if (stat(lock, &st) == 0)
		assert_int_equal(st.st_uid, pw->pw_uid);
	/* and came back to root */
	assert_int_equal(geteuid(), 0);
	assert_int_equal(setfsuid((uid_t)-1), 0);
	assert_int_equal(setfsgid((gid_t)-1), 0);

	/* a store in the user's place that the user does not own: the
	 * module, as the user, cannot even open it */
	assert_int_equal(chown(db, 0, 0), 0);
	answers(1, code);
	assert_int_equal(run_stack_as(g_stack, g_tmp_user, 0), PAM_AUTHINFO_UNAVAIL);
	assert_logged("cannot check the code");
	/* readable by the user but owned by someone else */
	assert_int_equal(chmod(db, 0644), 0);
	answers(1, code);
	assert_int_equal(run_stack_as(g_stack, g_tmp_user, 0), PAM_AUTHINFO_UNAVAIL);
	assert_logged("(bad-owner)");
	assert_int_equal(setfsuid((uid_t)-1), 0);
}

/* ---- set-up ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_success, reset),
	    cmocka_unit_test_setup(test_success_after_enrolment, reset),
	    cmocka_unit_test_setup(test_new_codes_at_login, reset),
	    cmocka_unit_test_setup(test_wrong_code, reset),
	    cmocka_unit_test_setup(test_replay, reset),
	    cmocka_unit_test_setup(test_window_neighbours, reset),
	    cmocka_unit_test_setup(test_outside_window, reset),
	    cmocka_unit_test_setup(test_hotp, reset),
	    cmocka_unit_test_setup(test_drift_slow_phone, reset),
	    cmocka_unit_test_setup(test_drift_window_not_widened, reset),
	    cmocka_unit_test_setup(test_drift_bounded, reset),
	    cmocka_unit_test_setup(test_drift_hotp_unaffected, reset),
	    cmocka_unit_test_setup(test_grace_same_host, reset),
	    cmocka_unit_test_setup(test_grace_other_host, reset),
	    cmocka_unit_test_setup(test_grace_expires, reset),
	    cmocka_unit_test_setup(test_grace_empty_rhost, reset),
	    cmocka_unit_test_setup(test_grace_off_by_default, reset),
	    cmocka_unit_test_setup(test_grace_bounded_hosts, reset),
	    cmocka_unit_test_setup(test_grace_lockout_refuses, reset),
	    cmocka_unit_test_setup(test_generators_any_ready, reset),
	    cmocka_unit_test_setup(test_generators_lockout_per_user, reset),
	    cmocka_unit_test_setup(test_pending_registration, reset),
	    cmocka_unit_test_setup(test_not_enrolled, reset),
	    cmocka_unit_test_setup(test_not_enrolled_store_of_others, reset),
	    cmocka_unit_test_setup(test_unknown_user, reset),
	    cmocka_unit_test_setup(test_emergency_code_once, reset),
	    cmocka_unit_test_setup(test_lockout_and_expiry, reset),
	    cmocka_unit_test_setup(test_lockout_preset, reset),
	    cmocka_unit_test_setup(test_default_throttle, reset),
	    cmocka_unit_test_setup(test_locked_user_is_asked, reset),
	    cmocka_unit_test_setup(test_realm_limits_at_login, reset),
	    cmocka_unit_test_setup(test_option_realm, reset),
	    cmocka_unit_test_setup(test_option_conf, reset),
	    cmocka_unit_test_setup(test_option_store_system, reset),
	    cmocka_unit_test_setup(test_option_window, reset),
	    cmocka_unit_test_setup(test_option_prompt_and_echo, reset),
	    cmocka_unit_test_setup(test_option_use_first_pass, reset),
	    cmocka_unit_test_setup(test_option_try_first_pass, reset),
	    cmocka_unit_test_setup(test_try_first_pass_digit_password, reset),
	    cmocka_unit_test_setup(test_option_forward_pass, reset),
	    cmocka_unit_test_setup(test_option_debug, reset),
	    cmocka_unit_test_setup(test_option_bad_fails_closed, reset),
	    cmocka_unit_test_setup(test_option_lock_timeout_and_sync, reset),
	    cmocka_unit_test_setup(test_refuse_symlink, reset),
	    cmocka_unit_test_setup(test_refuse_foreign_owner, reset),
	    cmocka_unit_test_setup(test_refuse_group_writable, reset),
	    cmocka_unit_test_setup(test_refuse_corrupt, reset),
	    cmocka_unit_test_setup(test_refuse_truncated, reset),
	    cmocka_unit_test_setup(test_refuse_lock_held, reset),
	    cmocka_unit_test_setup(test_race, reset),
	    cmocka_unit_test_teardown(test_real_user_store, cleanup_tmp_user),
	};

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			g_quick = true;
		else
			cmocka_set_test_filter(argv[i]); /* e.g. test_race */
	}
	if (make_test_dir() < 0) {
		printf("no writable home folder for a user store: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests_name("pam_stack", tests, harness_group_setup,
					   harness_group_teardown);
}
