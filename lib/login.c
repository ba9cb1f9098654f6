/* login: one locked check of a code, and what it leaves in the record. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "chars.h"
#include "emergency.h"
#include "login.h"
#include "otp.h"
#include "location.h"
#include "sha256.h"
#include "store.h"

/* Whether the user has a ready generator: the only kind a login checks
 * (a pending one never lets anyone in). */
static bool is_ready(int found, const struct record *r)
{
	return found && record_first_ready(r) >= 0;
}

/* The code length of the user's first ready generator (forward_pass
 * splits an answer with it), or 0. */
static unsigned ready_digits(const struct record *r)
{
	int i = record_first_ready(r);

	return i < 0 ? 0 : r->gen[i].params.digits;
}

/* Only digits can be an emergency code: anything else is just wrong, and
 * must count as a failure rather than trouble in the hash check. */
static bool maybe_emergency(const char *code)
{
	size_t n = strlen(code);

	return n == EMERGENCY_DIGITS && chars_all_digits(code, n);
}

static bool is_locked(const struct record *r, int64_t now)
{
	return r->locked_until != 0 && now < r->locked_until;
}

/* Opens the user's part of the store (1); a store that does not exist holds nobody (0).
 */
static int open_if_any(const struct cfg *c, const struct store_location *loc,
		       const char *user, enum store_mode mode, bool sync,
		       struct store **s, struct totp_err *err)
{
	struct store_opts opts = location_store_opts(c, loc, sync, false);
	struct totp_err e;

	if (store_open_user(loc, user, mode, &opts, s, &e) == 0)
		return 1;
	if (e.reason == TOTP_R_NOT_FOUND)
		return 0;
	if (err != NULL)
		*err = e;
	return -1;
}

static int allowed(const struct record *r, const struct cfg *c, const char *user,
		   struct totp_err *err);

/* ---- grace hosts (login.h) ---------------------------------------------- */

/* The host's key: HMAC-SHA256(first ready generator's secret, rhost),
 * cut to RECORD_GRACE_KEY_LEN.  0, or -1 when there is no such secret. */
static int grace_key(const struct record *r, const char *rhost,
		     uint8_t key[RECORD_GRACE_KEY_LEN])
{
	uint8_t mac[SHA256_LEN];

	for (unsigned i = 0; i < RECORD_GENERATORS_MAX; i++) {
		const struct record_gen *g = &r->gen[i];

		if (g->state != RECORD_READY || g->secret_len == 0)
			continue;
		hmac_sha256(g->secret, g->secret_len, rhost, strlen(rhost), mac);
		memcpy(key, mac, RECORD_GRACE_KEY_LEN);
		explicit_bzero(mac, sizeof(mac));
		return 0;
	}
	return -1;
}

/* The index of the entry holding `key`, or -1: every entry is compared,
 * in constant time, whatever matched. */
static int grace_find(const struct record *r, const uint8_t key[RECORD_GRACE_KEY_LEN])
{
	unsigned found = 0, at = 0;

	for (unsigned i = 0; i < RECORD_GRACE_MAX; i++) {
		unsigned eq =
		    (unsigned)otp_ct_equal(r->grace[i].key, key, RECORD_GRACE_KEY_LEN) &
		    (unsigned)(i < r->grace_count);
		unsigned mask = 0u - eq;

		at = (at & ~mask) | (i & mask);
		found |= eq;
	}
	return found ? (int)at : -1;
}

static bool has_rhost(const char *rhost)
{
	return rhost != NULL && rhost[0] != '\0';
}

/* Whether `rhost` is within grace; its age in *age. */
static bool grace_applies(const struct record *r, const struct cfg *c, const char *rhost,
			  int64_t now, int64_t *age)
{
	uint8_t key[RECORD_GRACE_KEY_LEN];
	int i;

	if (c->grace_period == 0 || !has_rhost(rhost) || grace_key(r, rhost, key) < 0)
		return false;
	i = grace_find(r, key);
	explicit_bzero(key, sizeof(key));
	if (i < 0 || r->grace[i].time > now || now - r->grace[i].time >= c->grace_period)
		return false;
	*age = now - r->grace[i].time;
	return true;
}

/* After an accepted OTP code: remembers rhost (the oldest entry gives way
 * when all RECORD_GRACE_MAX are taken).  Only with grace on, never an
 * empty rhost. */
static void grace_remember(struct record *r, const struct cfg *c, const char *rhost,
			   int64_t now)
{
	uint8_t key[RECORD_GRACE_KEY_LEN];
	int i;

	if (c->grace_period == 0 || !has_rhost(rhost) || grace_key(r, rhost, key) < 0)
		return;
	i = grace_find(r, key);
	if (i < 0 && r->grace_count < RECORD_GRACE_MAX) {
		i = r->grace_count++;
	} else if (i < 0) {
		i = 0;
		for (int j = 1; j < RECORD_GRACE_MAX; j++)
			if (r->grace[j].time < r->grace[i].time)
				i = j;
	}
	memcpy(r->grace[i].key, key, sizeof(key));
	r->grace[i].time = now;
	explicit_bzero(key, sizeof(key));
}

int login_precheck(const struct cfg *c, const struct store_location *loc,
		   const char *user, int64_t now_ms, struct login_result *res,
		   struct totp_err *err)
{
	return login_precheck_from(c, loc, user, NULL, now_ms, res, err);
}

int login_precheck_from(const struct cfg *c, const struct store_location *loc,
			const char *user, const char *rhost, int64_t now_ms,
			struct login_result *res, struct totp_err *err)
{
	struct store *s = NULL;
	struct record r;
	int found = 0, rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	rc = open_if_any(c, loc, user, STORE_READ, false, &s, err);
	if (rc > 0) {
		found = store_get(s, user, &r, err);
		store_close(s);
		rc = found < 0 ? -1 : 0;
		if (rc == 0 && is_ready(found, &r))
			rc = allowed(&r, c, user, err);
	}
	if (rc == 0) {
		res->failures = r.failures;
		res->locked_until = r.locked_until;
		res->digits = is_ready(found, &r) ? ready_digits(&r) : 0;
		if (!is_ready(found, &r))
			res->outcome = LOGIN_NOT_ENROLLED;
		else if (is_locked(&r, now_ms / 1000))
			res->outcome = LOGIN_LOCKED_OUT;
		else if (grace_applies(&r, c, rhost, now_ms / 1000, &res->grace_age))
			res->outcome = LOGIN_GRACE;
		else
			res->outcome = LOGIN_READY;
	}
	record_wipe(&r);
	return rc;
}

_Static_assert(OTP_DRIFT_MAX == RECORD_DRIFT_MAX, "one drift bound");

/* Which ready generator `code` is the next code of: its index, or -1 (a
 * malformed code is a wrong code like any other).  Every ready generator
 * is checked, each against its own window, last step and drift, whatever
 * matched before; each that matches moves on (the step or counter, and a
 * TOTP generator's drift follows the step matched: the window, of the
 * same size, is centred on the clock's step + the drift), so that the
 * code cannot pass again through another generator of the same secret.
 * A code of one generator never moves another on. */
static int check_otp(struct record *r, const struct cfg *c, const char *code, int64_t now)
{
	unsigned n = record_generators(r);
	int by = -1;

	for (unsigned i = 0; i < n; i++) {
		struct record_gen *g = &r->gen[i];
		unsigned window = g->window ? g->window : c->window;
		int drift = g->drift;
		int ok;

		if (g->state != RECORD_READY)
			continue;
		ok = otp_accept(g->secret, g->secret_len, &g->params, window, now, code,
				&g->counter, &drift, NULL);
		if (ok != 1)
			continue;
		g->drift = (int8_t)drift; /* |drift| <= OTP_DRIFT_MAX */
		if (by < 0)
			by = (int)i;
	}
	return by;
}

/* `by`: the generator's index, RECORD_BY_EMERGENCY
 * or RECORD_BY_NONE (a failure). */
static void set_event(struct record_event *e, const struct login_event *ev, uint8_t by)
{
	memset(e, 0, sizeof(*e));
	e->time = ev->now_ms / 1000;
	e->by = by;
	if (ev->service != NULL)
		strncpy(e->service, ev->service, sizeof(e->service) - 1);
	if (ev->rhost != NULL)
		strncpy(e->rhost, ev->rhost, sizeof(e->rhost) - 1);
}

/* A retry (login.h) stands in for the failure just counted for the same
 * session's borrowed token: it is recorded, not counted again. */
static void record_failure(struct record *r, const struct cfg *c,
			   const struct login_event *ev, struct login_result *res)
{
	int64_t now = ev->now_ms / 1000;

	if (!ev->retry || r->failures == 0)
		r->failures++;
	set_event(&r->last_failure, ev, RECORD_BY_NONE);
	record_add_event(r, ev->now_ms);
	if (c->max_failures != 0 && r->failures >= c->max_failures) {
		r->locked_until = now + (int64_t)c->lockout;
		record_add_event(r, ev->now_ms);
		res->locked_now = true;
	}
	res->outcome = LOGIN_WRONG_CODE;
}

static void record_success(struct record *r, const struct login_event *ev, uint8_t by,
			   struct login_result *res)
{
	r->failures = 0;
	r->locked_until = 0;
	set_event(&r->last_success, ev, by);
	if (by < RECORD_GENERATORS_MAX) {
		r->gen[by].last_used = ev->now_ms / 1000;
		snprintf(res->generator, sizeof(res->generator), "%s",
			 record_gen_name(&r->gen[by]));
	}
	record_add_event(r, ev->now_ms);
	res->outcome = LOGIN_SUCCESS;
}

/* The realm's allow_* settings bind every record at login too, whoever
 * wrote it (a user's own --conf, an import): a record they do not allow
 * is refused, never checked. */
static int allowed(const struct record *r, const struct cfg *c, const char *user,
		   struct totp_err *err)
{
	unsigned n = record_generators(r);

	for (unsigned i = 0; i < n; i++) {
		const struct record_gen *g = &r->gen[i];

		if (g->state != RECORD_READY || cfg_allows(c, &g->params))
			continue;
		return totp_err_set(
		    err, TOTP_R_PERMISSION,
		    "the generator %s of %s (%s, %s, %u digits, %u s) is not allowed "
		    "in realm %s (its allow_* settings): enroll again",
		    record_gen_name(g), user, otp_type_name(g->params.type),
		    otp_alg_name(g->params.alg), g->params.digits, g->params.period,
		    c->realm);
	}
	return 0;
}

/* Decides what can be decided at once, under the lock; returns 1 when r
 * changed.  A code that may be an emergency code and is not the OTP code
 * takes slow hashing: its failure is recorded now (*slow set), before
 * the hashing can be interrupted, and slow_check takes it back if the
 * code matches. */
static int decide(struct record *r, const struct cfg *c, const char *code,
		  const struct login_event *ev, struct login_result *res, bool *slow)
{
	int changed = login_apply_otp(r, c, code, ev, res);

	*slow = res->outcome == LOGIN_WRONG_CODE && maybe_emergency(code);
	return changed;
}

int login_apply_otp(struct record *r, const struct cfg *c, const char *code,
		    const struct login_event *ev, struct login_result *res)
{
	int64_t now = ev->now_ms / 1000;
	int by;

	if (is_locked(r, now)) {
		res->outcome = LOGIN_LOCKED_OUT;
		return 0;
	}
	if (r->locked_until != 0) { /* a lockout that has run out: start afresh */
		r->locked_until = 0;
		r->failures = 0;
	}
	by = check_otp(r, c, code, now);
	if (by >= 0) {
		record_success(r, ev, (uint8_t)by, res);
		grace_remember(r, c, ev->rhost, now);
		return 1;
	}
	record_failure(r, c, ev, res);
	return 1;
}

static void fill_result(struct login_result *res, const struct record *r)
{
	res->failures = r->failures;
	res->locked_until = r->locked_until;
	res->emergency_left = emergency_remaining(r);
	res->digits = ready_digits(r);
}

/* Whether the code found in `mine` (the record as this check wrote it,
 * unlocked since) may still be used in `now_r` (read again under the
 * lock): the same unused hash, and no lockout that others started
 * meanwhile.  Unchanged (the same sequence), it is the record this check
 * wrote, whose own failure may have started the lockout it takes back. */
static bool still_usable(const struct record *now_r, int found, const struct record *mine,
			 int slot, int64_t now)
{
	if (!is_ready(found, now_r) || now_r->emergency_count <= slot ||
	    record_code_used(now_r, (unsigned)slot) ||
	    memcmp(&now_r->emergency[slot], &mine->emergency[slot],
		   sizeof(now_r->emergency[slot])) != 0)
		return false;
	return now_r->sequence == mine->sequence || !is_locked(now_r, now);
}

/*
 * The slow part of a check, without the lock: the emergency hashes of
 * `mine` (or dummy ones, to the realm's emergency_codes) are computed;
 * the failure is already stored.  On a match the lock is taken again,
 * the record re-read and the code used only if still_usable: the failure
 * is then taken back (a success clears the count and any lockout; the
 * failure event stays in the sequence, as did the check), and when
 * nothing else happened meanwhile the last failure is put back as it was.
 */
static int slow_check(const struct cfg *c, const struct store_location *loc,
		      const char *user, const char *code, const struct login_event *ev,
		      const struct record *mine, const struct record_event *last_failure,
		      struct login_result *res, struct totp_err *err)
{
	struct store *s = NULL;
	struct record r;
	struct login_result before = *res;
	uint64_t read_sequence;
	int slot, found, rc;

	rc = emergency_find(mine, code, c->emergency_codes, &slot, err);
	if (rc <= 0)
		return rc;
	rc = open_if_any(c, loc, user, STORE_WRITE, c->sync_login, &s, err);
	if (rc <= 0) /* the store went away: the failure stands */
		return rc;
	memset(&r, 0, sizeof(r));
	found = store_get(s, user, &r, err);
	rc = found < 0 ? -1 : 0;
	read_sequence = r.sequence;
	if (rc == 0 && still_usable(&r, found, mine, slot, ev->now_ms / 1000)) {
		bool unchanged = r.sequence == mine->sequence;

		r.emergency_used |= (uint16_t)(1U << slot);
		record_success(&r, ev, RECORD_BY_EMERGENCY, res);
		if (unchanged)
			r.last_failure = *last_failure;
		res->emergency = true;
		res->locked_now = false;
		/* the store was let go since the first read: compare and set */
		rc = store_put_if(s, user, &r, read_sequence, err);
		if (rc == 1) { /* written by another meanwhile: the failure stands */
			*res = before;
			found = 0;
			rc = 0;
		}
	}
	if (rc == 0 && found == 1)
		fill_result(res, &r);
	store_close(s);
	record_wipe(&r);
	return rc;
}

/* Equal work for an answer nobody's record is checked against (login.h). */
int login_equal_work(const struct cfg *c, const char *code, struct totp_err *err)
{
	int slot;

	if (!maybe_emergency(code))
		return 0;
	return emergency_find(NULL, code, c->emergency_codes, &slot, err) < 0 ? -1 : 0;
}

/* How often a store without a lock (store.h: an ldap realm, shared by
 * many hosts) may be found changed by others between this check's read
 * and its write before the check gives up (an error: nobody passes).
 * Each conflict means another check was applied, so 8 hosts racing need
 * at most 8. */
#define LOCKLESS_TRIES 32

/* Decides and stores the outcome (1 when r changed).  Under a lock, a put.
 * Without one, a compare-and-set against what was read: when another
 * host wrote first, the record is read again and the code decided again
 * (a code that another host just accepted is then a replay: wrong). */
static int decide_and_store(struct store *s, const struct cfg *c, const char *user,
			    const char *code, const struct login_event *ev,
			    struct record *r, struct login_result *res, bool *slow,
			    struct totp_err *err)
{
	for (unsigned tries = 1;; tries++) {
		uint64_t read_sequence = r->sequence;
		int found, rc = decide(r, c, code, ev, res, slow);

		if (rc != 1)
			return rc;
		if (!store_lockless(s))
			return store_put(s, user, r, err) < 0 ? -1 : 0;
		rc = store_put_if(s, user, r, read_sequence, err);
		if (rc <= 0)
			return rc;
		if (tries == LOCKLESS_TRIES)
			return totp_err_set(err, TOTP_R_LOCK_TIMEOUT,
					    "the record of %s was changed by others %d "
					    "times during this check",
					    user, LOCKLESS_TRIES);
		record_wipe(r);
		memset(res, 0, sizeof(*res));
		found = store_get(s, user, r, err);
		if (found < 0)
			return -1;
		if (!is_ready(found, r)) { /* removed meanwhile */
			res->outcome = LOGIN_NOT_ENROLLED;
			return 0;
		}
	}
}

int login_check(const struct cfg *c, const struct store_location *loc, const char *user,
		const char *code, const struct login_event *ev, struct login_result *res,
		struct totp_err *err)
{
	struct store *s = NULL;
	struct record r;
	struct record_event last_failure;
	bool slow = false, ready;
	int found = 0, rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	memset(&last_failure, 0, sizeof(last_failure));
	res->outcome = LOGIN_NOT_ENROLLED;
	rc = open_if_any(c, loc, user, STORE_WRITE, c->sync_login, &s, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return login_equal_work(c, code, err);
	found = store_get(s, user, &r, err);
	rc = found < 0 ? -1 : 0;
	ready = is_ready(found, &r);
	if (rc == 0 && ready)
		rc = allowed(&r, c, user, err);
	if (rc == 0 && ready) {
		last_failure = r.last_failure;
		rc = decide_and_store(s, c, user, code, ev, &r, res, &slow, err);
		fill_result(res, &r);
	}
	/* Nothing slow under the lock: every other login of the store waits
	 * for it.  What was decided is stored; the hashing comes after. */
	store_close(s);
	if (rc == 0 && !ready)
		rc = login_equal_work(c, code, err);
	else if (rc == 0 && slow)
		rc = slow_check(c, loc, user, code, ev, &r, &last_failure, res, err);
	record_wipe(&r);
	explicit_bzero(&last_failure, sizeof(last_failure));
	if (rc < 0)
		res->outcome = LOGIN_NOT_ENROLLED;
	return rc;
}
