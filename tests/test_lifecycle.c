/* lifecycle: every row of DESIGN.md's table, on a store in a temp folder. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "lifecycle.h"
#include "login.h"
#include "otp.h"
#include "secret.h"
#include "gdbm_store.h"
#include "store.h"

#define USER "alice"
#define T0_MS INT64_C(1718261075838) /* 2024-06-13T06:44:35.838Z */

struct fixture {
	char dir[64];
	struct cfg c;
	struct store_location loc;
	struct otp_params p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct totp_err err;

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_lifecycle.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	cfg_defaults(&f->c);
	strcpy(f->c.realm, "test");
	f->c.emergency_codes = 2; /* hashing is slow: keep it short */
	snprintf(f->loc.where, sizeof(f->loc.where), "%s/store/test.db", f->dir);
	f->loc.owner = geteuid();
	f->loc.per_user = true;
	f->p = f->c.params;
	assert_int_equal(otp_init(&err), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Registers and keeps the registration (secret included) in *r. */
static void do_register(struct fixture *f, int64_t now_ms, struct registration *r)
{
	struct totp_err err;

	totp_err_clear(&err);
	assert_int_equal(lifecycle_register(&f->c, &f->loc, USER, &f->p, "Example Co",
					    USER "@host", now_ms, r, &err),
			 0);
}

static void code_at(const struct registration *r, int64_t now_ms, char code[OTP_CODE_BUF])
{
	struct totp_err err;
	const struct otp_params *p = &r->rec.gen[0].params;
	uint64_t factor = p->type == OTP_TOTP ? otp_step_at(p, now_ms / 1000) : 0;

	assert_int_equal(otp_code(r->rec.gen[0].secret, r->rec.gen[0].secret_len, p,
				  factor, code, &err),
			 0);
}

/* A code that is certainly wrong: the right one with its last digit moved. */
static void wrong_code(const char *right, char out[OTP_CODE_BUF])
{
	size_t n = strlen(right);

	strcpy(out, right);
	out[n - 1] = (char)('0' + (right[n - 1] - '0' + 5) % 10);
}

static void status_ok(struct fixture *f, struct record *out)
{
	struct totp_err err;

	assert_int_equal(lifecycle_status(&f->c, &f->loc, USER, out, &err), 0);
}

static void expect_status_not_found(struct fixture *f)
{
	struct record rec;
	struct totp_err err;

	assert_int_equal(lifecycle_status(&f->c, &f->loc, USER, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
}

static void verify_ok(struct fixture *f, const struct registration *r, int64_t now_ms)
{
	char code[OTP_CODE_BUF];
	struct record rec;
	struct totp_err err;

	code_at(r, now_ms, code);
	assert_int_equal(lifecycle_verify(&f->c, &f->loc, USER, code, now_ms, &rec, &err),
			 0);
	assert_int_equal(rec.gen[0].state, RECORD_READY);
	assert_int_equal(rec.gen[0].secret_len,
			 0); /* the copy out never holds the secret */
}

/* ---- register ----------------------------------------------------------------- */

static void test_register_none_makes_pending(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct record rec;
	uint8_t key[SECRET_MAX];
	size_t keylen;
	struct totp_err err;

	expect_status_not_found(f); /* no database at all yet */
	do_register(f, T0_MS, &r);
	assert_int_equal(r.rec.gen[0].state, RECORD_PENDING);
	assert_int_equal(r.rec.sequence, 1);
	assert_int_equal(r.rec.change_date_ms, T0_MS);
	assert_int_equal(r.rec.gen[0].created, T0_MS / 1000);
	assert_int_equal(r.rec.gen[0].secret_len, 20);
	assert_int_equal(strlen(r.secret_b32), 32);
	assert_int_equal(base32_decode(r.secret_b32, key, sizeof(key), &keylen, &err), 0);
	assert_int_equal(keylen, 20);
	assert_memory_equal(key, r.rec.gen[0].secret, 20);
	assert_non_null(strstr(r.uri, "otpauth://totp/Example%20Co:alice@host?"));
	assert_non_null(strstr(r.uri, r.secret_b32));
	assert_int_equal(r.n_codes, 2);
	assert_int_equal(strlen(r.codes[0]), EMERGENCY_DIGITS);
	assert_int_equal(strlen(r.codes[1]), EMERGENCY_DIGITS);
	status_ok(f, &rec);
	assert_int_equal(rec.gen[0].state, RECORD_PENDING);
	assert_int_equal(rec.sequence, 1);
	assert_int_equal(rec.emergency_count, 2);
	/* Hashed, never plain. */
	assert_null(memmem(&rec.emergency, sizeof(rec.emergency), r.codes[0],
			   strlen(r.codes[0])));
	lifecycle_registration_wipe(&r);
	assert_null(r.uri);
}

static void test_register_pending_replaces_secret(void **state)
{
	struct fixture *f = *state;
	struct registration r1, r2;
	struct record rec;
	char c1[OTP_CODE_BUF], c2[OTP_CODE_BUF];
	struct totp_err err;

	do_register(f, T0_MS, &r1);
	do_register(f, T0_MS + 1000, &r2);
	assert_int_equal(r2.rec.gen[0].state, RECORD_PENDING);
	assert_int_equal(r2.rec.sequence, 2);
	assert_memory_not_equal(r1.rec.gen[0].secret, r2.rec.gen[0].secret, 20);
	status_ok(f, &rec);
	assert_int_equal(rec.sequence, 2);
	assert_int_equal(rec.change_date_ms, T0_MS + 1000);
	/* The first secret is gone: its code no longer verifies, the new one's does. */
	code_at(&r1, T0_MS + 2000, c1);
	code_at(&r2, T0_MS + 2000, c2);
	if (strcmp(c1, c2) != 0) {
		assert_int_equal(
		    lifecycle_verify(&f->c, &f->loc, USER, c1, T0_MS + 2000, NULL, &err),
		    -1);
		assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	}
	verify_ok(f, &r2, T0_MS + 2000);
	lifecycle_registration_wipe(&r1);
	lifecycle_registration_wipe(&r2);
}

static void test_register_ready_is_exists(void **state)
{
	struct fixture *f = *state;
	struct registration r, r2;
	struct record before, after;
	struct totp_err err;

	do_register(f, T0_MS, &r);
	verify_ok(f, &r, T0_MS);
	status_ok(f, &before);
	assert_int_equal(lifecycle_register(&f->c, &f->loc, USER, &f->p, "X", "a@h",
					    T0_MS + 5000, &r2, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_EXISTS);
	assert_int_equal(totp_reason_grpc(err.reason), 6);
	assert_null(r2.uri);
	status_ok(f, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	lifecycle_registration_wipe(&r);
}

static void test_register_removed_makes_pending(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct record rec;
	struct totp_err err;

	do_register(f, T0_MS, &r);
	lifecycle_registration_wipe(&r);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS + 1, &rec, &err),
			 0);
	assert_int_equal(rec.sequence, 2);
	do_register(f, T0_MS + 2, &r);
	assert_int_equal(r.rec.gen[0].state, RECORD_PENDING);
	assert_int_equal(r.rec.sequence, 3); /* the sequence survives removal */
	lifecycle_registration_wipe(&r);
}

static void test_register_refuses_bad_params(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct totp_err err;

	f->p.digits = 5;
	assert_int_equal(
	    lifecycle_register(&f->c, &f->loc, USER, &f->p, "X", "a@h", T0_MS, &r, &err),
	    -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	expect_status_not_found(f);
}

/* ---- verify ------------------------------------------------------------------- */

static void test_verify_right_code_makes_ready(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct record rec;

	do_register(f, T0_MS, &r);
	verify_ok(f, &r, T0_MS + 1000);
	status_ok(f, &rec);
	assert_int_equal(rec.gen[0].state, RECORD_READY);
	assert_int_equal(rec.sequence, 2);
	assert_int_equal(rec.gen[0].counter,
			 otp_step_at(&r.rec.gen[0].params, (T0_MS + 1000) / 1000));
	lifecycle_registration_wipe(&r);
}

static void test_verify_wrong_code_stays_pending(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	char right[OTP_CODE_BUF], wrong[OTP_CODE_BUF];
	struct record before, after;
	struct totp_err err;

	do_register(f, T0_MS, &r);
	status_ok(f, &before);
	code_at(&r, T0_MS, right);
	wrong_code(right, wrong);
	assert_int_equal(lifecycle_verify(&f->c, &f->loc, USER, wrong, T0_MS, NULL, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	assert_int_equal(totp_reason_grpc(err.reason), 3);
	assert_null(strstr(err.msg, wrong));
	assert_null(strstr(err.msg, right));
	status_ok(f, &after);
	assert_int_equal(after.gen[0].state, RECORD_PENDING);
	assert_memory_equal(&before, &after, sizeof(before));
	/* A malformed code is refused the same way, and changes nothing. */
	assert_int_equal(
	    lifecycle_verify(&f->c, &f->loc, USER, "12a456", T0_MS, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	status_ok(f, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	lifecycle_registration_wipe(&r);
}

static void test_verify_none_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct totp_err err;

	assert_int_equal(
	    lifecycle_verify(&f->c, &f->loc, USER, "123456", T0_MS, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	/* And with a database holding someone else only. */
	assert_int_equal(lifecycle_register(&f->c, &f->loc, "bob", &f->p, "X", "bob@h",
					    T0_MS, &r, &err),
			 0);
	lifecycle_registration_wipe(&r);
	assert_int_equal(
	    lifecycle_verify(&f->c, &f->loc, USER, "123456", T0_MS, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	assert_int_equal(totp_reason_grpc(err.reason), 5);
}

static void test_verify_ready_is_precondition(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	char code[OTP_CODE_BUF];
	struct record before, after;
	struct totp_err err;

	do_register(f, T0_MS, &r);
	verify_ok(f, &r, T0_MS);
	status_ok(f, &before);
	code_at(&r, T0_MS + 30000, code);
	assert_int_equal(
	    lifecycle_verify(&f->c, &f->loc, USER, code, T0_MS + 30000, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_PRECONDITION);
	assert_int_equal(totp_reason_grpc(err.reason), 9);
	status_ok(f, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	lifecycle_registration_wipe(&r);
}

static void test_verify_removed_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	char code[OTP_CODE_BUF];
	struct totp_err err;

	do_register(f, T0_MS, &r);
	code_at(&r, T0_MS, code);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS, NULL, &err), 0);
	assert_int_equal(lifecycle_verify(&f->c, &f->loc, USER, code, T0_MS, NULL, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	lifecycle_registration_wipe(&r);
}

static void test_verify_hotp_advances_counter(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct record rec;

	f->p.type = OTP_HOTP;
	do_register(f, T0_MS, &r);
	assert_non_null(strstr(r.uri, "otpauth://hotp/"));
	assert_non_null(strstr(r.uri, "counter=0"));
	verify_ok(f, &r, T0_MS);
	status_ok(f, &rec);
	assert_int_equal(rec.gen[0].params.type, OTP_HOTP);
	assert_int_equal(rec.gen[0].counter, 1); /* the next expected counter */
	lifecycle_registration_wipe(&r);
}

/* ---- remove ------------------------------------------------------------------- */

static void test_remove_pending_and_ready(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct record rec;
	struct totp_err err;

	do_register(f, T0_MS, &r);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS + 1, &rec, &err),
			 0);
	assert_int_equal(rec.gen[0].state, RECORD_REMOVED);
	assert_int_equal(rec.sequence, 2);
	assert_int_equal(rec.change_date_ms, T0_MS + 1);
	expect_status_not_found(f);
	lifecycle_registration_wipe(&r);

	do_register(f, T0_MS + 2, &r);
	verify_ok(f, &r, T0_MS + 2);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS + 3, &rec, &err),
			 0);
	assert_int_equal(rec.gen[0].state, RECORD_REMOVED);
	assert_int_equal(rec.sequence, 5);
	assert_int_equal(rec.emergency_count, 0);
	expect_status_not_found(f);
	lifecycle_registration_wipe(&r);
}

static void test_remove_none_is_not_found(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct totp_err err;

	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	do_register(f, T0_MS, &r);
	lifecycle_registration_wipe(&r);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS, NULL, &err), 0);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
}

/* ---- unlock, status ----------------------------------------------------------- */

static void set_failures(struct fixture *f, uint32_t failures, int64_t locked_until)
{
	struct store_opts opts = {
	    .owner = f->loc.owner, .lock_timeout_ms = 1000, .sync = true};
	struct store *s;
	struct record rec;
	struct totp_err err;

	assert_int_equal(gdbm_store_open(f->loc.where, STORE_WRITE, &opts, &s, &err), 0);
	assert_int_equal(store_get(s, USER, &rec, &err), 1);
	rec.failures = failures;
	rec.locked_until = locked_until;
	assert_int_equal(store_put(s, USER, &rec, &err), 0);
	store_close(s);
	record_wipe(&rec);
}

static void test_unlock_clears_failures(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct record rec;
	struct totp_err err;

	assert_int_equal(lifecycle_unlock(&f->c, &f->loc, USER, T0_MS, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	do_register(f, T0_MS, &r);
	verify_ok(f, &r, T0_MS);
	set_failures(f, 5, T0_MS / 1000 + 300);
	status_ok(f, &rec);
	assert_int_equal(rec.failures, 5);
	assert_int_equal(lifecycle_unlock(&f->c, &f->loc, USER, T0_MS + 9, &rec, &err),
			 0);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.locked_until, 0);
	assert_int_equal(rec.sequence, 3);
	assert_int_equal(rec.gen[0].state, RECORD_READY);
	status_ok(f, &rec);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.change_date_ms, T0_MS + 9);
	lifecycle_registration_wipe(&r);
}

static void test_status_is_read_only(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct record a, b;
	struct stat st1, st2;

	do_register(f, T0_MS, &r);
	assert_int_equal(stat(f->loc.where, &st1), 0);
	status_ok(f, &a);
	status_ok(f, &b);
	assert_int_equal(stat(f->loc.where, &st2), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.gen[0].secret_len, 0);
	assert_int_equal(st1.st_mtim.tv_sec, st2.st_mtim.tv_sec);
	assert_int_equal(st1.st_mtim.tv_nsec, st2.st_mtim.tv_nsec);
	lifecycle_registration_wipe(&r);
}

static void test_bad_user_name_refused(void **state)
{
	struct fixture *f = *state;
	struct totp_err err;

	assert_int_equal(lifecycle_status(&f->c, &f->loc, "-x", NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, "a/b", T0_MS, NULL, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
}

/* ---- codes -------------------------------------------------------------------- */

/* A ready generator made at T0_MS, its registration (secret, codes) in *r. */
static void make_ready(struct fixture *f, struct registration *r)
{
	do_register(f, T0_MS, r);
	verify_ok(f, r, T0_MS);
}

static enum login_outcome login_at(struct fixture *f, const char *code, int64_t now_ms,
				   struct login_result *res)
{
	struct login_event ev = {.service = "test", .now_ms = now_ms};
	struct totp_err err;

	assert_int_equal(login_check(&f->c, &f->loc, USER, code, &ev, res, &err), 0);
	return res->outcome;
}

static void test_codes_right_code_replaces_codes(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct new_codes n;
	struct login_result res;
	struct record before, rec;
	char code[OTP_CODE_BUF];
	struct totp_err err;
	int64_t t = T0_MS + 30000;

	make_ready(f, &r);
	status_ok(f, &before);
	code_at(&r, t, code);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, t, &n, &err), 0);
	assert_int_equal(n.n_codes, 2);
	assert_int_equal(strlen(n.codes[0]), EMERGENCY_DIGITS);
	assert_string_not_equal(n.codes[0], n.codes[1]);
	assert_int_equal(n.rec.sequence, before.sequence + 1); /* one event */
	assert_int_equal(n.rec.change_date_ms, t);
	assert_int_equal(n.rec.gen[0].secret_len, 0);
	assert_int_equal(n.rec.emergency_count, 2);
	assert_int_equal(n.rec.failures, 0);
	assert_string_equal(n.rec.last_success.service, "totp-enroll");
	status_ok(f, &rec);
	assert_int_equal(rec.sequence, before.sequence + 1);
	assert_int_equal(emergency_remaining(&rec), 2);
	assert_memory_not_equal(&rec.emergency[0], &before.emergency[0],
				sizeof(rec.emergency[0]));
	/* The code was used up: it logs nobody in (a replay). */
	assert_int_equal(login_at(f, code, t, &res), LOGIN_WRONG_CODE);
	/* Every old code is refused, every new one passes once. */
	assert_int_equal(login_at(f, r.codes[0], t + 1000, &res), LOGIN_WRONG_CODE);
	assert_int_equal(login_at(f, r.codes[1], t + 1000, &res), LOGIN_WRONG_CODE);
	assert_int_equal(login_at(f, n.codes[0], t + 2000, &res), LOGIN_SUCCESS);
	assert_true(res.emergency);
	assert_int_equal(res.emergency_left, 1);
	assert_int_equal(login_at(f, n.codes[1], t + 2000, &res), LOGIN_SUCCESS);
	assert_int_equal(res.emergency_left, 0);
	assert_int_equal(login_at(f, n.codes[0], t + 2000, &res), LOGIN_WRONG_CODE);
	lifecycle_new_codes_wipe(&n);
	assert_int_equal(n.codes[0][0], '\0');
	lifecycle_registration_wipe(&r);
}

static void test_codes_wrong_code_counts_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct new_codes n;
	struct login_result res;
	struct record before, rec;
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF];
	struct totp_err err;
	int64_t t = T0_MS + 30000;

	make_ready(f, &r);
	status_ok(f, &before);
	code_at(&r, t, code);
	wrong_code(code, wrong);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, wrong, t, &n, &err), -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	assert_int_equal(totp_reason_grpc(err.reason), 3);
	assert_null(strstr(err.msg, wrong));
	assert_int_equal(n.n_codes, 0); /* nothing to show */
	assert_int_equal(n.codes[0][0], '\0');
	status_ok(f, &rec);
	assert_int_equal(rec.failures, 1); /* counted as a login's failure */
	assert_string_equal(rec.last_failure.service, "totp-enroll");
	assert_int_equal(rec.sequence, before.sequence + 1);
	assert_int_equal(rec.gen[0].counter, before.gen[0].counter);
	assert_memory_equal(rec.emergency, before.emergency, sizeof(rec.emergency));
	/* An emergency code is not the app's code either. */
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, r.codes[0], t, &n, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	status_ok(f, &rec);
	assert_int_equal(rec.failures, 2);
	assert_int_equal(emergency_remaining(&rec), 2);
	/* The old codes still work, and the right code still does. */
	assert_int_equal(login_at(f, r.codes[0], t, &res), LOGIN_SUCCESS);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, t, &n, &err), 0);
	lifecycle_new_codes_wipe(&n);
	lifecycle_registration_wipe(&r);
}

static void test_codes_replay_refused(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct new_codes n1, n2;
	struct login_result res;
	struct record rec;
	char code[OTP_CODE_BUF];
	struct totp_err err;
	int64_t t = T0_MS + 30000;

	make_ready(f, &r);
	code_at(&r, t, code);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, t, &n1, &err), 0);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, t + 1000, &n2, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	status_ok(f, &rec);
	assert_int_equal(rec.failures, 1);
	/* The first set stands. */
	assert_int_equal(login_at(f, n1.codes[0], t + 2000, &res), LOGIN_SUCCESS);
	/* A code that logged in cannot mint codes either. */
	code_at(&r, t + 30000, code);
	assert_int_equal(login_at(f, code, t + 30000, &res), LOGIN_SUCCESS);
	assert_int_equal(
	    lifecycle_codes(&f->c, &f->loc, USER, code, t + 31000, &n2, &err), -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	lifecycle_new_codes_wipe(&n1);
	lifecycle_registration_wipe(&r);
}

static void test_codes_pending_none_removed(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct new_codes n;
	struct record before, rec;
	char code[OTP_CODE_BUF];
	struct totp_err err;

	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, "123456", T0_MS, &n, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	assert_int_equal(totp_reason_grpc(err.reason), 5);
	assert_int_equal(lifecycle_codes_precheck(&f->c, &f->loc, USER, T0_MS, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	do_register(f, T0_MS, &r);
	status_ok(f, &before);
	code_at(&r, T0_MS, code);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, T0_MS, &n, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_PRECONDITION);
	assert_int_equal(totp_reason_grpc(err.reason), 9);
	assert_non_null(strstr(err.msg, "pending"));
	assert_int_equal(lifecycle_codes_precheck(&f->c, &f->loc, USER, T0_MS, &err), -1);
	assert_int_equal(err.reason, TOTP_R_PRECONDITION);
	status_ok(f, &rec);
	assert_memory_equal(&rec, &before, sizeof(rec)); /* nothing stored */
	/* The pending code was not used up: it still verifies. */
	verify_ok(f, &r, T0_MS);
	assert_int_equal(lifecycle_codes_precheck(&f->c, &f->loc, USER, T0_MS, &err), 0);
	assert_int_equal(lifecycle_remove(&f->c, &f->loc, USER, T0_MS, NULL, &err), 0);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, NULL, T0_MS, &n, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	lifecycle_registration_wipe(&r);
}

static void test_codes_locked_out(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct new_codes n;
	struct record before, rec;
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF];
	struct totp_err err;
	int64_t t = T0_MS + 30000;

	f->c.max_failures = 2;
	make_ready(f, &r);
	code_at(&r, t, code);
	wrong_code(code, wrong);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, wrong, t, &n, &err), -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	assert_null(strstr(err.msg, "locked out"));
	/* The second wrong code starts the lockout, and says so. */
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, wrong, t, &n, &err), -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	assert_non_null(strstr(err.msg, "locked out"));
	status_ok(f, &before);
	assert_int_equal(before.locked_until, t / 1000 + (int64_t)f->c.lockout);
	/* Locked: even the right code is not checked, and nothing is stored. */
	assert_int_equal(lifecycle_codes_precheck(&f->c, &f->loc, USER, t, &err), -1);
	assert_int_equal(err.reason, TOTP_R_LOCKED_OUT);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, t, &n, &err), -1);
	assert_int_equal(err.reason, TOTP_R_LOCKED_OUT);
	assert_int_equal(totp_reason_grpc(err.reason), 8);
	status_ok(f, &rec);
	assert_memory_equal(&rec, &before, sizeof(rec));
	/* Root (no code) is not held by the lockout, and does not lift it. */
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, NULL, t, &n, &err), 0);
	assert_int_equal(n.rec.sequence, before.sequence + 1);
	assert_int_equal(n.rec.locked_until, before.locked_until);
	assert_int_equal(n.rec.failures, before.failures);
	assert_memory_not_equal(&n.rec.emergency[0], &before.emergency[0],
				sizeof(n.rec.emergency[0]));
	lifecycle_new_codes_wipe(&n);
	/* Once the lockout has run out, the right code works again. */
	code_at(&r, t + 330000, code);
	assert_int_equal(
	    lifecycle_codes(&f->c, &f->loc, USER, code, t + 330000, &n, &err), 0);
	assert_int_equal(n.rec.failures, 0);
	assert_int_equal(n.rec.locked_until, 0);
	lifecycle_new_codes_wipe(&n);
	lifecycle_registration_wipe(&r);
}

static void test_codes_realm_without_codes(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct new_codes n;
	struct record before, rec;
	char code[OTP_CODE_BUF];
	struct totp_err err;
	int64_t t = T0_MS + 30000;

	make_ready(f, &r);
	status_ok(f, &before);
	f->c.emergency_codes = 0;
	code_at(&r, t, code);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, t, &n, &err), -1);
	assert_int_equal(err.reason, TOTP_R_PRECONDITION);
	assert_int_equal(totp_reason_grpc(err.reason), 9);
	assert_non_null(strstr(err.msg, "emergency_codes = 0"));
	assert_int_equal(lifecycle_codes_precheck(&f->c, &f->loc, USER, t, &err), -1);
	assert_int_equal(err.reason, TOTP_R_PRECONDITION);
	status_ok(f, &rec);
	assert_memory_equal(&rec, &before, sizeof(rec)); /* the code not used up */
	f->c.emergency_codes = 2;
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, t, &n, &err), 0);
	lifecycle_new_codes_wipe(&n);
	lifecycle_registration_wipe(&r);
}

static void test_codes_hotp_moves_counter(void **state)
{
	struct fixture *f = *state;
	struct registration r;
	struct new_codes n;
	char code[OTP_CODE_BUF];
	struct totp_err err;

	f->p.type = OTP_HOTP;
	do_register(f, T0_MS, &r);
	code_at(&r, T0_MS, code); /* counter 0 */
	assert_int_equal(lifecycle_verify(&f->c, &f->loc, USER, code, T0_MS, NULL, &err),
			 0);
	assert_int_equal(otp_code(r.rec.gen[0].secret, r.rec.gen[0].secret_len,
				  &r.rec.gen[0].params, 1, code, &err),
			 0);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, T0_MS, &n, &err), 0);
	assert_int_equal(n.rec.gen[0].counter, 2);
	lifecycle_new_codes_wipe(&n);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, code, T0_MS, &n, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	lifecycle_registration_wipe(&r);
}

/* ---- authorize ---------------------------------------------------------------- */

static void test_authorize(void **state)
{
	struct account alice = {.name = "alice", .uid = 1000, .gid = 1000};
	struct store_location user = {.where = "/home/alice/.config/totp/default.db",
				      .owner = 1000,
				      .per_user = true};
	struct store_location sys = {
	    .where = "/var/lib/totp/default.db", .owner = 0, .per_user = false};
	struct totp_err err;

	(void)state;
	assert_int_equal(lifecycle_authorize(0, &alice, &user, "default", &err), 0);
	assert_int_equal(lifecycle_authorize(0, &alice, &sys, "default", &err), 0);
	assert_int_equal(lifecycle_authorize(1000, &alice, &user, "default", &err), 0);
	assert_int_equal(lifecycle_authorize(1001, &alice, &user, "default", &err), -1);
	assert_int_equal(err.reason, TOTP_R_PERMISSION);
	assert_int_equal(totp_reason_grpc(err.reason), 7);
	assert_int_equal(lifecycle_authorize(1000, &alice, &sys, "default", &err), -1);
	assert_int_equal(err.reason, TOTP_R_PERMISSION);
	assert_non_null(strstr(err.msg, "system store"));
	assert_non_null(strstr(err.msg, "--user alice"));
}

/* ---- several generators (issue 17) ------------------------------------------ */

static int register_named(struct fixture *f, const char *name, int64_t now_ms,
			  struct registration *r, struct totp_err *err)
{
	totp_err_clear(err);
	return lifecycle_register_named(&f->c, &f->loc, USER, name, &f->p, "Example Co",
					USER "@host", now_ms, r, err);
}

static void gen_code_at(const struct record_gen *g, int64_t now_ms,
			char code[OTP_CODE_BUF])
{
	struct totp_err err;
	uint64_t factor =
	    g->params.type == OTP_TOTP ? otp_step_at(&g->params, now_ms / 1000) : 0;

	assert_int_equal(
	    otp_code(g->secret, g->secret_len, &g->params, factor, code, &err), 0);
}

/* A registration's new generator. */
static const struct record_gen *new_gen(const struct registration *r)
{
	return &r->rec.gen[r->gen];
}

static int verify_named(struct fixture *f, const char *name, const char *code,
			int64_t now_ms, struct record *out, struct totp_err *err)
{
	totp_err_clear(err);
	return lifecycle_verify_named(&f->c, &f->loc, USER, name, code, now_ms, out, err);
}

/* default ready (verified at T0), and `spare` pending: both registrations
 * kept (with their secrets) in d and s. */
static void default_and_spare(struct fixture *f, struct registration *d,
			      struct registration *s)
{
	struct totp_err err;

	do_register(f, T0_MS, d);
	verify_ok(f, d, T0_MS);
	assert_int_equal(register_named(f, "spare", T0_MS + 1000, s, &err), 0);
}

static void test_gens_register_second_keeps_first(void **state)
{
	struct fixture *f = *state;
	struct registration d, s;
	struct record before, after;

	do_register(f, T0_MS, &d);
	verify_ok(f, &d, T0_MS);
	status_ok(f, &before);
	{
		struct totp_err err;

		assert_int_equal(register_named(f, "spare", T0_MS + 1000, &s, &err), 0);
	}
	/* the new one beside the first, no new emergency codes */
	assert_int_equal(s.gen, 1);
	assert_int_equal(s.n_codes, 0);
	assert_string_equal(record_gen_name(new_gen(&s)), "spare");
	assert_int_equal(new_gen(&s)->state, RECORD_PENDING);
	assert_non_null(strstr(s.uri, "secret="));
	assert_int_not_equal(memcmp(new_gen(&s)->secret, d.rec.gen[0].secret, 20), 0);
	/* the answer holds the new secret only, not the default one's */
	assert_int_equal(s.rec.gen[0].secret_len, 0);
	assert_int_equal(s.rec.gen[0].secret[0], 0);
	assert_int_equal(new_gen(&s)->secret_len, 20);
	status_ok(f, &after);
	assert_int_equal(record_generators(&after), 2);
	assert_string_equal(record_gen_name(&after.gen[0]), RECORD_DEFAULT_NAME);
	assert_int_equal(after.gen[0].state, RECORD_READY);
	assert_int_equal(after.gen[0].counter, before.gen[0].counter);
	assert_int_equal(after.gen[1].state, RECORD_PENDING);
	assert_int_equal(after.sequence, before.sequence + 1);
	assert_int_equal(after.emergency_count, before.emergency_count);
	assert_memory_equal(after.emergency, before.emergency, sizeof(after.emergency));
	lifecycle_registration_wipe(&d);
	lifecycle_registration_wipe(&s);
}

static void test_gens_verify_only_its_own_code(void **state)
{
	struct fixture *f = *state;
	struct registration d, s;
	struct record rec, before;
	char code[OTP_CODE_BUF];
	struct totp_err err;
	int64_t later = T0_MS + 60000;

	default_and_spare(f, &d, &s);
	status_ok(f, &before);
	/* the default generator's code does not verify the spare */
	gen_code_at(&d.rec.gen[0], later, code);
	assert_int_equal(verify_named(f, "spare", code, later, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	status_ok(f, &rec);
	assert_int_equal(rec.sequence, before.sequence);
	assert_int_equal(rec.gen[1].state, RECORD_PENDING);
	assert_int_equal(rec.gen[0].counter, before.gen[0].counter);
	/* its own does, and moves only it on */
	gen_code_at(new_gen(&s), later, code);
	assert_int_equal(verify_named(f, "spare", code, later, &rec, &err), 0);
	assert_int_equal(rec.gen[1].state, RECORD_READY);
	assert_int_equal(rec.gen[1].secret_len, 0); /* never copied out */
	assert_int_equal(rec.gen[1].counter,
			 otp_step_at(&rec.gen[1].params, later / 1000));
	assert_int_equal(rec.gen[0].counter, before.gen[0].counter);
	/* verified already */
	assert_int_equal(verify_named(f, "spare", code, later, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_PRECONDITION);
	assert_non_null(strstr(err.msg, "spare"));
	/* and a name nobody registered */
	assert_int_equal(verify_named(f, "token", code, later, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	assert_non_null(strstr(err.msg, "token"));
	lifecycle_registration_wipe(&d);
	lifecycle_registration_wipe(&s);
}

static void test_gens_bad_names_change_nothing(void **state)
{
	static const char *const bad[] = {
	    "Spare", "a b", "spare!", "x/y", "seventeen-chars-x", "\xc3\xa9t\xc3\xa9"};
	struct fixture *f = *state;
	struct registration d, r;
	struct record before, after;
	struct totp_err err;

	do_register(f, T0_MS, &d);
	status_ok(f, &before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(register_named(f, bad[i], T0_MS, &r, &err), -1);
		assert_int_equal(err.reason, TOTP_R_INVALID);
		assert_int_equal(totp_reason_grpc(err.reason), GRPC_INVALID_ARGUMENT);
		assert_non_null(strstr(err.msg, "a-z"));
		assert_int_equal(verify_named(f, bad[i], "123456", T0_MS, &after, &err),
				 -1);
		assert_int_equal(err.reason, TOTP_R_INVALID);
		assert_int_equal(lifecycle_remove_named(&f->c, &f->loc, USER, bad[i],
							T0_MS, &after, &err),
				 -1);
		assert_int_equal(err.reason, TOTP_R_INVALID);
	}
	/* sixteen characters is the most */
	assert_int_equal(register_named(f, "sixteen-chars-x.", T0_MS, &r, &err), 0);
	lifecycle_registration_wipe(&r);
	status_ok(f, &after);
	assert_int_equal(after.sequence, before.sequence + 1);
	assert_int_equal(record_generators(&after), 2);
	lifecycle_registration_wipe(&d);
}

static void test_gens_cap_is_resource_exhausted(void **state)
{
	static const char *const names[] = {"spare", "token", "old-phone"};
	struct fixture *f = *state;
	struct registration d, r;
	struct record before, after;
	struct totp_err err;

	do_register(f, T0_MS, &d);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(register_named(f, names[i], T0_MS, &r, &err), 0);
		lifecycle_registration_wipe(&r);
	}
	status_ok(f, &before);
	assert_int_equal(record_generators(&before), RECORD_GENERATORS_MAX);
	assert_int_equal(register_named(f, "fifth", T0_MS, &r, &err), -1);
	assert_int_equal(err.reason, TOTP_R_TOO_MANY);
	assert_int_equal(totp_reason_grpc(err.reason), GRPC_RESOURCE_EXHAUSTED);
	assert_int_equal(totp_reason_exit(err.reason), EX_CANTCREAT);
	assert_non_null(strstr(err.msg, "at most 4"));
	status_ok(f, &after);
	assert_int_equal(after.sequence, before.sequence);
	assert_int_equal(record_generators(&after), RECORD_GENERATORS_MAX);
	/* a pending one of a name there is still takes a new secret */
	assert_int_equal(register_named(f, "token", T0_MS, &r, &err), 0);
	assert_int_equal(r.gen, 2);
	lifecycle_registration_wipe(&r);
	lifecycle_registration_wipe(&d);
}

static void test_gens_register_per_name(void **state)
{
	struct fixture *f = *state;
	struct registration d, s, s2;
	struct record rec;
	char code[OTP_CODE_BUF];
	struct totp_err err;

	default_and_spare(f, &d, &s);
	/* a pending spare registered again: a new secret, default untouched */
	assert_int_equal(register_named(f, "spare", T0_MS + 2000, &s2, &err), 0);
	assert_int_equal(s2.gen, 1);
	assert_int_equal(s2.n_codes, 0);
	assert_int_not_equal(memcmp(new_gen(&s2)->secret, new_gen(&s)->secret, 20), 0);
	status_ok(f, &rec);
	assert_int_equal(record_generators(&rec), 2);
	assert_int_equal(rec.gen[0].state, RECORD_READY);
	/* the old secret's code no longer verifies it */
	gen_code_at(new_gen(&s), T0_MS + 60000, code);
	assert_int_equal(verify_named(f, "spare", code, T0_MS + 60000, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_WRONG_CODE);
	gen_code_at(new_gen(&s2), T0_MS + 60000, code);
	assert_int_equal(verify_named(f, "spare", code, T0_MS + 60000, &rec, &err), 0);
	/* ready: a new registration of that name is refused, naming it */
	lifecycle_registration_wipe(&s);
	assert_int_equal(register_named(f, "spare", T0_MS, &s, &err), -1);
	assert_int_equal(err.reason, TOTP_R_EXISTS);
	assert_non_null(strstr(err.msg, "--name spare"));
	/* "default" is the generator registered without a name */
	assert_int_equal(register_named(f, "default", T0_MS, &s, &err), -1);
	assert_int_equal(err.reason, TOTP_R_EXISTS);
	lifecycle_registration_wipe(&d);
	lifecycle_registration_wipe(&s2);
}

static void test_gens_first_named_is_a_whole_registration(void **state)
{
	struct fixture *f = *state;
	struct registration s;
	struct record rec;
	struct totp_err err;

	/* no record yet: spare is the only one, with emergency codes */
	assert_int_equal(register_named(f, "spare", T0_MS, &s, &err), 0);
	assert_int_equal(s.gen, 0);
	assert_int_equal(s.n_codes, f->c.emergency_codes);
	status_ok(f, &rec);
	assert_int_equal(record_generators(&rec), 1);
	assert_string_equal(record_gen_name(&rec.gen[0]), "spare");
	/* the default one is not there */
	assert_int_equal(verify_named(f, NULL, "123456", T0_MS, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	assert_non_null(strstr(err.msg, "named default"));
	lifecycle_registration_wipe(&s);
}

static void test_gens_remove_one_keeps_the_rest(void **state)
{
	struct fixture *f = *state;
	struct registration d, s;
	struct record before, rec;
	char code[OTP_CODE_BUF];
	struct totp_err err;
	int64_t later = T0_MS + 60000;

	default_and_spare(f, &d, &s);
	gen_code_at(new_gen(&s), later, code);
	assert_int_equal(verify_named(f, "spare", code, later, &rec, &err), 0);
	status_ok(f, &before);
	/* unknown name: nothing changes */
	assert_int_equal(
	    lifecycle_remove_named(&f->c, &f->loc, USER, "token", later, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	/* the default one goes; spare moves to the front, codes stay */
	assert_int_equal(
	    lifecycle_remove_named(&f->c, &f->loc, USER, NULL, later, &rec, &err), 0);
	assert_int_equal(record_generators(&rec), 1);
	assert_string_equal(record_gen_name(&rec.gen[0]), "spare");
	assert_int_equal(rec.gen[0].state, RECORD_READY);
	assert_int_equal(rec.gen[0].counter, before.gen[1].counter);
	assert_int_equal(rec.sequence, before.sequence + 1);
	assert_memory_equal(rec.emergency, before.emergency, sizeof(rec.emergency));
	assert_int_equal(rec.emergency_count, before.emergency_count);
	/* gone: its code, and its name */
	assert_int_equal(
	    lifecycle_remove_named(&f->c, &f->loc, USER, "default", later, &rec, &err),
	    -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	/* the last one: the tombstone a removal always left */
	assert_int_equal(
	    lifecycle_remove_named(&f->c, &f->loc, USER, "spare", later, &rec, &err), 0);
	assert_int_equal(rec.gen[0].state, RECORD_REMOVED);
	assert_int_equal(rec.emergency_count, 0);
	expect_status_not_found(f);
	assert_int_equal(
	    lifecycle_remove_named(&f->c, &f->loc, USER, "spare", later, &rec, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	lifecycle_registration_wipe(&d);
	lifecycle_registration_wipe(&s);
}

static void test_gens_login_any_ready_one(void **state)
{
	struct fixture *f = *state;
	struct registration d, s;
	struct record rec, before;
	struct login_result res;
	struct login_event ev = {.service = "sshd"};
	char code[OTP_CODE_BUF];
	struct totp_err err;
	int64_t later = T0_MS + 60000;

	default_and_spare(f, &d, &s);
	/* pending: its code lets nobody in, and counts as one failure */
	gen_code_at(new_gen(&s), later, code);
	ev.now_ms = later;
	assert_int_equal(login_check(&f->c, &f->loc, USER, code, &ev, &res, &err), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	assert_int_equal(res.failures, 1);
	assert_int_equal(verify_named(f, "spare", code, later, &rec, &err), 0);
	/* ready: the spare's next code lets the user in, named in the event */
	status_ok(f, &before);
	ev.now_ms = later + 30000;
	gen_code_at(new_gen(&s), ev.now_ms, code);
	assert_int_equal(login_check(&f->c, &f->loc, USER, code, &ev, &res, &err), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	status_ok(f, &rec);
	assert_int_equal(rec.last_success.by, 1);
	assert_int_equal(rec.failures, 0);
	assert_int_equal(rec.gen[1].last_used, ev.now_ms / 1000);
	assert_int_equal(rec.gen[1].counter,
			 otp_step_at(&rec.gen[1].params, ev.now_ms / 1000));
	assert_int_equal(rec.gen[0].counter, before.gen[0].counter); /* not moved */
	assert_int_equal(rec.gen[0].last_used, before.gen[0].last_used);
	/* once */
	assert_int_equal(login_check(&f->c, &f->loc, USER, code, &ev, &res, &err), 0);
	assert_int_equal(res.outcome, LOGIN_WRONG_CODE);
	/* the default one's code of the same step still passes, as default */
	gen_code_at(&d.rec.gen[0], ev.now_ms, code);
	assert_int_equal(login_check(&f->c, &f->loc, USER, code, &ev, &res, &err), 0);
	assert_int_equal(res.outcome, LOGIN_SUCCESS);
	status_ok(f, &rec);
	assert_int_equal(rec.last_success.by, 0);
	lifecycle_registration_wipe(&d);
	lifecycle_registration_wipe(&s);
}

static void test_gens_lockout_is_per_user(void **state)
{
	struct fixture *f = *state;
	struct registration d, s;
	struct record rec;
	struct login_result res;
	struct login_event ev = {.service = "sshd"};
	char code[OTP_CODE_BUF], wrong[OTP_CODE_BUF];
	struct totp_err err;
	int64_t later = T0_MS + 60000;

	default_and_spare(f, &d, &s);
	gen_code_at(new_gen(&s), later, code);
	assert_int_equal(verify_named(f, "spare", code, later, &rec, &err), 0);
	f->c.max_failures = 3;
	ev.now_ms = later + 30000;
	gen_code_at(&d.rec.gen[0], ev.now_ms, code);
	wrong_code(code, wrong);
	/* one wrong code is one failure, whatever the number of generators */
	for (unsigned i = 1; i <= 3; i++) {
		assert_int_equal(
		    login_check(&f->c, &f->loc, USER, wrong, &ev, &res, &err), 0);
		assert_int_equal(res.failures, i);
	}
	assert_true(res.locked_now);
	/* locked: neither generator's right code is checked */
	assert_int_equal(login_check(&f->c, &f->loc, USER, code, &ev, &res, &err), 0);
	assert_int_equal(res.outcome, LOGIN_LOCKED_OUT);
	gen_code_at(new_gen(&s), ev.now_ms, code);
	assert_int_equal(login_check(&f->c, &f->loc, USER, code, &ev, &res, &err), 0);
	assert_int_equal(res.outcome, LOGIN_LOCKED_OUT);
	lifecycle_registration_wipe(&d);
	lifecycle_registration_wipe(&s);
}

static void test_gens_codes_and_unlock_are_per_user(void **state)
{
	struct fixture *f = *state;
	struct registration d, s;
	struct new_codes n;
	struct record rec;
	char code[OTP_CODE_BUF];
	struct totp_err err;

	/* only a pending spare: no code can make new codes */
	assert_int_equal(register_named(f, "spare", T0_MS, &s, &err), 0);
	assert_int_equal(lifecycle_codes(&f->c, &f->loc, USER, "123456", T0_MS, &n, &err),
			 -1);
	assert_int_equal(err.reason, TOTP_R_PRECONDITION);
	lifecycle_registration_wipe(&s);
	/* a ready spare's code makes them, beside a ready default */
	lifecycle_remove_named(&f->c, &f->loc, USER, "spare", T0_MS, &rec, &err);
	default_and_spare(f, &d, &s);
	gen_code_at(new_gen(&s), T0_MS + 60000, code);
	assert_int_equal(verify_named(f, "spare", code, T0_MS + 60000, &rec, &err), 0);
	gen_code_at(new_gen(&s), T0_MS + 90000, code);
	assert_int_equal(
	    lifecycle_codes(&f->c, &f->loc, USER, code, T0_MS + 90000, &n, &err), 0);
	assert_int_equal(n.rec.last_success.by, 1);
	assert_int_equal(n.n_codes, f->c.emergency_codes);
	lifecycle_new_codes_wipe(&n);
	/* unlock sets back every generator's step ahead of the clock */
	assert_int_equal(lifecycle_unlock(&f->c, &f->loc, USER, T0_MS, &rec, &err), 0);
	assert_int_equal(rec.gen[1].counter,
			 otp_step_at(&rec.gen[1].params, T0_MS / 1000));
	assert_int_equal(rec.gen[0].counter,
			 otp_step_at(&rec.gen[0].params, T0_MS / 1000));
	lifecycle_registration_wipe(&d);
	lifecycle_registration_wipe(&s);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_register_none_makes_pending),
	    T(test_register_pending_replaces_secret),
	    T(test_register_ready_is_exists),
	    T(test_register_removed_makes_pending),
	    T(test_register_refuses_bad_params),
	    T(test_verify_right_code_makes_ready),
	    T(test_verify_wrong_code_stays_pending),
	    T(test_verify_none_is_not_found),
	    T(test_verify_ready_is_precondition),
	    T(test_verify_removed_is_not_found),
	    T(test_verify_hotp_advances_counter),
	    T(test_remove_pending_and_ready),
	    T(test_remove_none_is_not_found),
	    T(test_unlock_clears_failures),
	    T(test_status_is_read_only),
	    T(test_bad_user_name_refused),
	    T(test_codes_right_code_replaces_codes),
	    T(test_codes_wrong_code_counts_changes_nothing),
	    T(test_codes_replay_refused),
	    T(test_codes_pending_none_removed),
	    T(test_codes_locked_out),
	    T(test_codes_realm_without_codes),
	    T(test_codes_hotp_moves_counter),
	    T(test_gens_register_second_keeps_first),
	    T(test_gens_verify_only_its_own_code),
	    T(test_gens_bad_names_change_nothing),
	    T(test_gens_cap_is_resource_exhausted),
	    T(test_gens_register_per_name),
	    T(test_gens_first_named_is_a_whole_registration),
	    T(test_gens_remove_one_keeps_the_rest),
	    T(test_gens_login_any_ready_one),
	    T(test_gens_lockout_is_per_user),
	    T(test_gens_codes_and_unlock_are_per_user),
	    cmocka_unit_test(test_authorize),
	};

	return cmocka_run_group_tests_name("lifecycle", tests, NULL, NULL);
}
