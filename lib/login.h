/*
 * login: the check a login makes, and what it leaves in the record.
 *
 * login_precheck takes a short shared look before the prompt: is there a
 * ready generator, is the user locked out?  It answers without waiting
 * for the user, so nobody holds the lock while a person types.
 *
 * login_check is the one that counts.  Under the store's exclusive lock
 * it reads the record, refuses a locked-out user, checks the code (TOTP
 * or HOTP over the window, refusing any step not newer than the last
 * accepted one) and stores the outcome: the new step or counter, the
 * failure count, a lockout after max_failures, and the event (sequence
 * + 1, change date, service, rhost).  Two logins racing with one code
 * cannot both pass.  A code that is not digits of the right length is a
 * wrong code like any other.  If the outcome cannot be stored (a full
 * disk, say), the call fails: a success that was not recorded could be
 * replayed.
 *
 * Nothing slow happens under the lock.  An answer of EMERGENCY_DIGITS
 * digits that is not the OTP code may be an emergency code, whose check
 * (crypt hashes, about 70 ms each) is slow: its failure is stored first,
 * the lock let go, the hashes of the record as read computed, and only a
 * match takes the lock again, reads the record once more and, if the
 * same hash is still unused (and no lockout was started by others
 * meanwhile), uses the code and takes the failure back.  A check killed
 * or stopped while it hashes thus leaves its failure counted and holds
 * no lock.  Such an answer always costs max(the record's unused codes,
 * the realm's emergency_codes) hashes, dummy ones for the difference,
 * whether the user has codes left, a record or not: its time does not
 * tell who is enrolled.
 *
 * A record whose parameters the realm's allow_* settings do not allow is
 * refused by both calls (-1, TOTP_R_PERMISSION), never checked.
 *
 * Several generators (issue 17): a code is checked against every ready
 * generator of the user (at most RECORD_GENERATORS_MAX), each with its
 * own window, last step and drift; the one it matched moves on and is
 * named in the event (last_success.by), and no other moves.  Pending
 * generators are never checked.  The failures and the lockout are the
 * user's: one wrong code is one failure however many generators there
 * are.  res->digits (forward_pass, try_first_pass) is the first ready
 * generator's length.
 */
#ifndef TOTP_LOGIN_H
#define TOTP_LOGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "account.h"
#include "location.h"
#include "cfg.h"
#include "errors.h"
#include "record.h"

enum login_outcome {
	LOGIN_SUCCESS,	    /* right code: recorded, failures cleared */
	LOGIN_WRONG_CODE,   /* counted as a failure (and maybe locked now) */
	LOGIN_NOT_ENROLLED, /* no ready generator: none, pending or removed */
	LOGIN_LOCKED_OUT,   /* locked after too many failures: not checked */
	LOGIN_READY,	    /* login_precheck only: a ready generator, prompt */
	LOGIN_GRACE,	    /* login_precheck_from only: within grace, not asked */
};

struct login_event {
	const char *service; /* PAM_SERVICE, may be NULL */
	const char *rhost;   /* PAM_RHOST, may be NULL */
	int64_t now_ms;
	/* This answer follows a failed check of a token borrowed from an
	 * earlier module in the same session (try_first_pass): a wrong one
	 * is recorded but not counted again, so the session counts one
	 * failure, not two. */
	bool retry;
};

struct login_result {
	enum login_outcome outcome;
	bool emergency;		 /* passed with an emergency code */
	unsigned emergency_left; /* unused emergency codes after this */
	bool locked_now;	 /* this failure started a lockout */
	uint32_t failures;	 /* consecutive failures after this */
	int64_t locked_until;	 /* unix seconds, when locked */
	unsigned digits;	 /* the generator's code length, when ready */
	int64_t grace_age;	 /* LOGIN_GRACE: seconds since the host's code */
	/* LOGIN_SUCCESS by a code: the name of the generator it was ("default"
	 * for the unnamed one; not a secret, for the log); else "". */
	char generator[RECORD_NAME_MAX];
};

/* A shared look before the prompt (no write, the lock let go on return).
 * Fills res->outcome with LOGIN_READY (go on and prompt),
 * LOGIN_NOT_ENROLLED or LOGIN_LOCKED_OUT, and res->digits for a ready
 * generator (forward_pass splits the answer with it).  A missing store is
 * "not enrolled"; any other store trouble is -1. */
int login_precheck(const struct cfg *c, const struct store_location *loc,
		   const char *user, int64_t now_ms, struct login_result *res,
		   struct totp_err *err);

/*
 * Grace period (issue 17, opt-in: c->grace_period seconds, 0 = off).
 * login_precheck_from is login_precheck that also answers LOGIN_GRACE
 * when `rhost` (PAM_RHOST) is not empty and, less than grace_period
 * seconds ago (and not in the future), an OTP code of this user was
 * accepted from the same rhost: the caller lets the user in without
 * asking.  A locked-out user is LOGIN_LOCKED_OUT first: grace never
 * lets a locked-out user in.  Nothing is written: a login within grace
 * does not extend the grace (it runs from the last code typed from that
 * host), and leaves no event in the record (the module logs it).
 *
 * The hosts: login_check (and login_apply_otp) remembers the rhost of
 * every accepted OTP code when grace_period is on and rhost is not
 * empty, as HMAC-SHA256(the first ready generator's secret, rhost)'s
 * first RECORD_GRACE_KEY_LEN bytes and the time, at most
 * RECORD_GRACE_MAX hosts (the oldest replaced); an empty rhost (local
 * logins, sudo, su) is never remembered, and an emergency code does not
 * start a grace period.  Keyed, so the record does not list where a user
 * logs in from, and a new secret (a new registration) forgets them all.
 * Keys are compared in constant time, each one whatever matched.
 */
int login_precheck_from(const struct cfg *c, const struct store_location *loc,
			const char *user, const char *rhost, int64_t now_ms,
			struct login_result *res, struct totp_err *err);

/* The check that counts, under the store's exclusive lock (see above):
 * 0 with res->outcome LOGIN_SUCCESS, _WRONG_CODE (stored), _LOCKED_OUT or
 * _NOT_ENROLLED; -1 on store trouble (outcome LOGIN_NOT_ENROLLED).  The
 * store is opened twice for an emergency-shaped answer (slow_check). */
int login_check(const struct cfg *c, const struct store_location *loc, const char *user,
		const char *code, const struct login_event *ev, struct login_result *res,
		struct totp_err *err);

/* The OTP part of login_check's decision, on a ready record `r` the caller
 * read under the store's exclusive lock and will store: a locked-out
 * record is left as it is (res->outcome LOGIN_LOCKED_OUT, returns 0);
 * else a lockout that has run out is cleared and `code` is checked with
 * otp_accept (the window, and no step not newer than the last accepted
 * one), the outcome recorded as a login's: LOGIN_SUCCESS (the step or
 * counter moves on, failures cleared, last_success, one event) or
 * LOGIN_WRONG_CODE (a failure counted, last_failure, a lockout at
 * max_failures: res->locked_now), returning 1.  Emergency codes are not
 * looked at.  Sets res->outcome and res->locked_now only.  totp-enroll
 * codes uses it, so that its code counts exactly as a login's. */
int login_apply_otp(struct record *r, const struct cfg *c, const char *code,
		    const struct login_event *ev, struct login_result *res);

/* The work login_check does for an answer nobody's record is checked
 * against (an unknown user, or no ready generator): the dummy hashes an
 * emergency-shaped answer costs (see above).  0, or -1 on error. */
int login_equal_work(const struct cfg *c, const char *code, struct totp_err *err);

#endif
