/* login: one locked check of a code, and what it leaves in the record. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "emergency.h"
#include "login.h"
#include "otp.h"
#include "store.h"

static bool is_ready(int found, const struct record *r)
{
	return found && r->state == RECORD_READY;
}

/* Only digits can be an emergency code: anything else is just wrong, and
 * must count as a failure rather than trouble in the hash check. */
static bool maybe_emergency(const char *code)
{
	size_t n = strlen(code);

	if (n != EMERGENCY_DIGITS)
		return false;
	for (size_t i = 0; i < n; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	return true;
}

static bool is_locked(const struct record *r, int64_t now)
{
	return r->locked_until != 0 && now < r->locked_until;
}

/* Opens the store; a store that does not exist holds nobody (returns 0). */
static int open_store(const struct cfg *c, const struct store_location *loc,
		      enum store_mode mode, bool sync, struct store **s,
		      struct totp_err *err)
{
	struct store_opts opts = {.owner = loc->owner,
				  .lock_timeout_ms = c->lock_timeout_ms,
				  .sync = sync,
				  .max_bytes = loc->per_user ? STORE_USER_BYTES_MAX : 0};
	struct totp_err e;

	if (store_open_locked(loc->db_path, mode, &opts, s, &e) == 0)
		return 1;
	if (e.reason == TOTP_R_NOT_FOUND)
		return 0;
	if (err != NULL)
		*err = e;
	return -1;
}

int login_precheck(const struct cfg *c, const struct store_location *loc,
		   const char *user, int64_t now_ms, struct login_result *res,
		   struct totp_err *err)
{
	struct store *s = NULL;
	struct record r;
	int found = 0, rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	rc = open_store(c, loc, STORE_READ, false, &s, err);
	if (rc > 0) {
		found = store_get(s, user, &r, err);
		store_close(s);
		rc = found < 0 ? -1 : 0;
	}
	if (rc == 0) {
		res->failures = r.failures;
		res->locked_until = r.locked_until;
		res->digits = is_ready(found, &r) ? r.params.digits : 0;
		if (!is_ready(found, &r))
			res->outcome = LOGIN_NOT_ENROLLED;
		else if (is_locked(&r, now_ms / 1000))
			res->outcome = LOGIN_LOCKED_OUT;
		else
			res->outcome = LOGIN_SUCCESS;
	}
	record_wipe(&r);
	return rc;
}

/* 1 if `code` is the generator's next code (the step or counter moves on),
 * 0 if not, -1 on error. */
static int check_otp(struct record *r, const struct cfg *c, const char *code, int64_t now)
{
	const struct otp_params *p = &r->params;
	unsigned window = r->window ? r->window : c->window;
	uint64_t center, floor, matched;
	int ok;

	if (strlen(code) != p->digits)
		return 0;
	center = p->type == OTP_TOTP ? otp_step_at(p, now) : r->counter;
	floor = p->type == OTP_TOTP ? r->counter + 1 : r->counter;
	ok = otp_verify_window(r->secret, r->secret_len, p, center, window, floor, code,
			       &matched, NULL);
	if (ok == 1)
		r->counter = p->type == OTP_TOTP ? matched : matched + 1;
	return ok < 0 ? 0 : ok;
}

static void set_event(struct record_event *e, const struct login_event *ev)
{
	memset(e, 0, sizeof(*e));
	e->time = ev->now_ms / 1000;
	if (ev->service != NULL)
		strncpy(e->service, ev->service, sizeof(e->service) - 1);
	if (ev->rhost != NULL)
		strncpy(e->rhost, ev->rhost, sizeof(e->rhost) - 1);
}

static void record_failure(struct record *r, const struct cfg *c,
			   const struct login_event *ev, struct login_result *res)
{
	int64_t now = ev->now_ms / 1000;

	r->failures++;
	set_event(&r->last_failure, ev);
	record_add_event(r, ev->now_ms);
	if (c->max_failures != 0 && r->failures >= c->max_failures) {
		r->locked_until = now + (int64_t)c->lockout;
		record_add_event(r, ev->now_ms);
		res->locked_now = true;
	}
	res->outcome = LOGIN_WRONG_CODE;
}

static void record_success(struct record *r, const struct login_event *ev,
			   struct login_result *res)
{
	r->failures = 0;
	r->locked_until = 0;
	set_event(&r->last_success, ev);
	record_add_event(r, ev->now_ms);
	res->outcome = LOGIN_SUCCESS;
}

/* Decides the outcome for a ready record; returns 1 when it changed. */
static int decide(struct record *r, const struct cfg *c, const char *code,
		  const struct login_event *ev, struct login_result *res,
		  struct totp_err *err)
{
	int64_t now = ev->now_ms / 1000;
	int ok;

	if (is_locked(r, now)) {
		res->outcome = LOGIN_LOCKED_OUT;
		return 0;
	}
	if (r->locked_until != 0) { /* a lockout that has run out: start afresh */
		r->locked_until = 0;
		r->failures = 0;
	}
	ok = check_otp(r, c, code, now);
	if (ok == 0 && maybe_emergency(code) && emergency_remaining(r) > 0) {
		ok = emergency_use(r, code, err);
		if (ok < 0)
			return -1;
		res->emergency = ok == 1;
	}
	if (ok == 1)
		record_success(r, ev, res);
	else
		record_failure(r, c, ev, res);
	return 1;
}

int login_check(const struct cfg *c, const struct store_location *loc, const char *user,
		const char *code, const struct login_event *ev, struct login_result *res,
		struct totp_err *err)
{
	struct store *s = NULL;
	struct record r;
	int found = 0, rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	res->outcome = LOGIN_NOT_ENROLLED;
	rc = open_store(c, loc, STORE_WRITE, c->sync_login, &s, err);
	if (rc <= 0)
		return rc;
	found = store_get(s, user, &r, err);
	rc = found < 0 ? -1 : 0;
	if (rc == 0 && is_ready(found, &r)) {
		rc = decide(&r, c, code, ev, res, err);
		if (rc == 1)
			rc = store_put(s, user, &r, err) < 0 ? -1 : 0;
		res->failures = r.failures;
		res->locked_until = r.locked_until;
		res->emergency_left = emergency_remaining(&r);
		res->digits = r.params.digits;
	}
	store_close(s);
	record_wipe(&r);
	if (rc < 0)
		res->outcome = LOGIN_NOT_ENROLLED;
	return rc;
}
