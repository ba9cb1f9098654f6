/* lifecycle: the registration table of lifecycle.h, one locked pass each. */
#include "config.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle.h"
#include "login.h"
#include "otp.h"
#include "secret.h"
#include "location.h"
#include "store.h"
#include "uri.h"

/* One step of the table: looks at the record (found or not) and changes
 * it.  Returns 1 to store it, 0 to leave the store as it was, -1 to refuse. */
typedef int (*apply_fn)(struct record *r, int found, void *arg, struct totp_err *err);

int lifecycle_wrong_verify_code(struct totp_err *err)
{
	return totp_err_set(
	    err, TOTP_R_WRONG_CODE,
	    "that code is not the one the app shows now; the registration "
	    "stays pending: try again with a fresh code");
}

static void copy_out(struct record *out, const struct record *r)
{
	if (out == NULL)
		return;
	*out = *r;
	record_wipe_secrets(out);
}

/* None, or removed: what verify, remove, status and unlock answer. */
static int not_found(const char *user, struct totp_err *err)
{
	return totp_err_set(
	    err, TOTP_R_NOT_FOUND,
	    "%s has no TOTP generator registered; run totp-enroll to register one", user);
}

static bool is_default(const char *name)
{
	return name == NULL || name[0] == '\0' || strcmp(name, RECORD_DEFAULT_NAME) == 0;
}

/* The generator called `name` of a live record (pending or ready), or
 * NULL with TOTP_R_NOT_FOUND. */
static struct record_gen *named(struct record *r, int found, const char *user,
				const char *name, struct totp_err *err)
{
	struct record_gen *g;

	if (!found || !record_live(r)) {
		not_found(user, err);
		return NULL;
	}
	g = record_generator(r, name);
	if (g == NULL || g->state == RECORD_REMOVED) {
		totp_err_set(err, TOTP_R_NOT_FOUND,
			     "%s has no generator named %s; totp-enroll status lists "
			     "them",
			     user, is_default(name) ? RECORD_DEFAULT_NAME : name);
		return NULL;
	}
	return g;
}

/* Whether r has a live generator other than the one called `name`. */
static bool others_live(const struct record *r, const char *name)
{
	unsigned n = record_generators(r);

	if (is_default(name))
		name = RECORD_DEFAULT_NAME;
	for (unsigned i = 0; i < n; i++) {
		const struct record_gen *g = &r->gen[i];

		if ((g->state == RECORD_PENDING || g->state == RECORD_READY) &&
		    strcmp(record_gen_name(g), name) != 0)
			return true;
	}
	return false;
}

/* Opens the store once, applies `fn` to the user's record, stores the
 * result synced to disk, closes. */
static int with_record(const struct cfg *c, const struct store_location *loc,
		       const char *user, enum store_mode mode, apply_fn fn, void *arg,
		       struct record *out, struct totp_err *err)
{
	struct store_opts opts = location_store_opts(c, loc, true, false);
	struct store *s = NULL;
	struct record r;
	int found, rc = -1;

	if (user_name_check(user, err) < 0)
		return -1;
	if (store_open_user(loc, user, mode, &opts, &s, err) < 0) {
		/* No store yet: nobody is registered in it. */
		if (err != NULL && err->reason == TOTP_R_NOT_FOUND)
			return not_found(user, err);
		return -1;
	}
	found = store_get(s, user, &r, err);
	if (found < 0)
		goto done;
	if (!found)
		memset(&r, 0, sizeof(r));
	rc = fn(&r, found, arg, err);
	if (rc == 1 && (store_put(s, user, &r, err) < 0 || store_commit(s, err) < 0))
		rc = -1;
	if (rc >= 0) {
		copy_out(out, &r);
		rc = 0;
	}
done:
	record_wipe(&r);
	store_close(s);
	return rc;
}

int lifecycle_authorize(uid_t caller, const struct account *target,
			const struct store_location *loc, const char *realm,
			struct totp_err *err)
{
	if (caller == 0)
		return 0;
	if (caller != target->uid)
		return totp_err_set(err, TOTP_R_PERMISSION,
				    "only root can act on another user's generator (%s)",
				    target->name);
	/* A directory decides with its own ACLs: the user binds as
	 * themselves (lifecycle_ldap.h). */
	if (!loc->per_user && loc->kind != STORE_KIND_LDAP)
		return totp_err_set(
		    err, TOTP_R_PERMISSION,
		    "realm %s keeps its generators in a system store (%s) that only root "
		    "may read or write; ask an administrator to run totp-enroll --user "
		    "%s",
		    realm, loc->where, target->name);
	return 0;
}

/* ---- register ------------------------------------------------------------ */

struct register_arg {
	const struct cfg *c;
	const struct otp_params *p;
	const char *issuer, *account, *user, *name;
	int64_t now_ms;
	struct registration *out;
};

int lifecycle_uri(struct registration *out, const char *issuer, const char *account,
		  struct totp_err *err)
{
	struct uri_parts parts;
	int rc;

	const struct record_gen *g = &out->rec.gen[out->gen % RECORD_GENERATORS_MAX];

	memset(&parts, 0, sizeof(parts));
	parts.params = g->params;
	if (strlen(issuer) >= sizeof(parts.issuer) ||
	    strlen(account) >= sizeof(parts.account))
		return totp_err_set(err, TOTP_R_INVALID,
				    "issuer or account name is too long");
	strcpy(parts.issuer, issuer);
	strcpy(parts.account, account);
	memcpy(parts.secret, g->secret, g->secret_len);
	parts.secret_len = g->secret_len;
	parts.counter = g->counter;
	rc = uri_build(&parts, &out->uri, err);
	explicit_bzero(&parts, sizeof(parts));
	return rc;
}

/* The generator being registered, in the new record n: the whole record
 * made afresh (with new emergency codes) when the user has no other live
 * generator, as a first registration; else beside the others, whose
 * state, emergency codes and lockout stay as they are. */
static struct record_gen *register_into(struct register_arg *a, struct record *r,
					int found, struct record *n, struct totp_err *err)
{
	struct record_gen *old = found ? record_generator(r, a->name) : NULL;
	struct record_gen *g;

	if (!found || !others_live(r, a->name)) {
		memset(n, 0, sizeof(*n));
		n->sequence = found ? r->sequence : 0;
		a->out->gen = 0;
		g = record_generator_add(n, a->name, err);
		if (g != NULL && (emergency_generate(n, a->c->emergency_codes,
						     a->out->codes, err) < 0))
			return NULL;
		a->out->n_codes = a->c->emergency_codes;
		return g;
	}
	*n = *r;
	if (old != NULL) { /* pending: a new secret in its place */
		g = &n->gen[old - r->gen];
		explicit_bzero(g, sizeof(*g));
		memcpy(g->name, old->name, sizeof(g->name));
	} else {
		g = record_generator_add(n, a->name, err);
	}
	if (g != NULL)
		a->out->gen = (unsigned)(g - n->gen);
	return g;
}

static int apply_register(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct register_arg *a = varg;
	struct record *n = &a->out->rec;
	struct record_gen *old = found ? record_generator(r, a->name) : NULL;
	struct record_gen *g;
	size_t len = secret_len_for(a->p->alg);

	if (old != NULL && old->state == RECORD_READY && is_default(a->name))
		return totp_err_set(
		    err, TOTP_R_EXISTS,
		    "%s already has a ready TOTP generator; remove it first "
		    "(totp-enroll remove) to register a new one",
		    a->user);
	if (old != NULL && old->state == RECORD_READY)
		return totp_err_set(
		    err, TOTP_R_EXISTS,
		    "%s already has a ready generator named %s; remove it "
		    "first (totp-enroll remove --name %s) to register a "
		    "new one",
		    a->user, a->name, a->name);
	g = register_into(a, r, found, n, err);
	if (g == NULL)
		return -1;
	g->params = *a->p;
	g->created = a->now_ms / 1000;
	g->secret_len = (uint8_t)len;
	g->state = RECORD_PENDING;
	if (secret_generate(g->secret, len, err) < 0 ||
	    base32_encode(g->secret, len, a->out->secret_b32, sizeof(a->out->secret_b32),
			  err) < 0 ||
	    lifecycle_uri(a->out, a->issuer, a->account, err) < 0)
		return -1;
	record_add_event(n, a->now_ms);
	record_wipe(r);
	*r = *n;
	return 1;
}

int lifecycle_register(const struct cfg *c, const struct store_location *loc,
		       const char *user, const struct otp_params *p, const char *issuer,
		       const char *account, int64_t now_ms, struct registration *out,
		       struct totp_err *err)
{
	return lifecycle_register_named(c, loc, user, NULL, p, issuer, account, now_ms,
					out, err);
}

int lifecycle_register_named(const struct cfg *c, const struct store_location *loc,
			     const char *user, const char *name,
			     const struct otp_params *p, const char *issuer,
			     const char *account, int64_t now_ms,
			     struct registration *out, struct totp_err *err)
{
	struct register_arg a = {c, p, issuer, account, user, NULL, now_ms, out};
	int rc;

	memset(out, 0, sizeof(*out));
	if (record_name_check(name, err) < 0 || otp_params_check(p, err) < 0)
		return -1;
	a.name = is_default(name) ? RECORD_DEFAULT_NAME : name;
	rc = with_record(c, loc, user, STORE_CREATE, apply_register, &a, NULL, err);
	if (rc < 0) {
		lifecycle_registration_wipe(out);
		return rc;
	}
	/* out->rec keeps only the new generator's secret (the caller's) */
	for (unsigned i = 0; i < RECORD_GENERATORS_MAX; i++) {
		if (i == out->gen)
			continue;
		explicit_bzero(out->rec.gen[i].secret, sizeof(out->rec.gen[i].secret));
		out->rec.gen[i].secret_len = 0;
	}
	return 0;
}

void lifecycle_registration_wipe(struct registration *r)
{
	if (r->uri != NULL) {
		explicit_bzero(r->uri, strlen(r->uri));
		free(r->uri);
	}
	explicit_bzero(r, sizeof(*r));
}

/* ---- verify, remove, unlock, status --------------------------------------- */

_Static_assert(RECORD_DRIFT_MAX <= OTP_WINDOW_MAX, "verify's drift search is a window");

struct verify_arg {
	const struct cfg *c;
	const char *user, *name, *code;
	int64_t now_ms;
};

static int apply_verify(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct verify_arg *a = varg;
	struct record_gen *g = named(r, found, a->user, a->name, err);
	unsigned window;
	int ok, drift;

	if (g == NULL)
		return -1;
	if (g->state == RECORD_READY && is_default(a->name))
		return totp_err_set(err, TOTP_R_PRECONDITION,
				    "%s's generator is already verified and in use",
				    a->user);
	if (g->state == RECORD_READY)
		return totp_err_set(err, TOTP_R_PRECONDITION,
				    "%s's generator %s is already verified and in use",
				    a->user, a->name);
	window = g->window ? g->window : a->c->window;
	/* Clock drift (issue 17): a TOTP registration looks RECORD_DRIFT_MAX
	 * steps either way once, to learn the drift the phone starts with;
	 * logins then follow it within the window (otp_accept).  Only this
	 * generator is looked at: a code of another never verifies it. */
	drift = 0;
	if (g->params.type == OTP_TOTP)
		window = RECORD_DRIFT_MAX;
	ok = otp_accept(g->secret, g->secret_len, &g->params, window, a->now_ms / 1000,
			a->code, &g->counter, &drift, err);
	if (ok == 1)
		g->drift = (int8_t)drift; /* |drift| <= RECORD_DRIFT_MAX */
	if (ok < 0)
		return -1;
	if (ok == 0)
		return lifecycle_wrong_verify_code(err);
	g->state = RECORD_READY;
	record_add_event(r, a->now_ms);
	return 1;
}

int lifecycle_verify(const struct cfg *c, const struct store_location *loc,
		     const char *user, const char *code, int64_t now_ms,
		     struct record *out, struct totp_err *err)
{
	return lifecycle_verify_named(c, loc, user, NULL, code, now_ms, out, err);
}

int lifecycle_verify_named(const struct cfg *c, const struct store_location *loc,
			   const char *user, const char *name, const char *code,
			   int64_t now_ms, struct record *out, struct totp_err *err)
{
	struct verify_arg a = {c, user, NULL, code, now_ms};

	if (record_name_check(name, err) < 0)
		return -1;
	a.name = is_default(name) ? RECORD_DEFAULT_NAME : name;
	return with_record(c, loc, user, STORE_WRITE, apply_verify, &a, out, err);
}

struct event_arg {
	const char *user, *name;
	int64_t now_ms;
};

/* The last live generator goes: the record becomes the tombstone a
 * removal always made (emergency codes, lockout and grace hosts wiped).
 * Another goes: only it, and the grace hosts (keyed with the first ready
 * generator's secret, which may be the one going). */
static int apply_remove(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct event_arg *a = varg;
	struct record_gen *g = named(r, found, a->user, a->name, err);
	uint64_t sequence = r->sequence;
	int64_t created;

	if (g == NULL)
		return -1;
	if (others_live(r, a->name)) {
		record_generator_remove(r, (unsigned)(g - r->gen));
		explicit_bzero(r->grace, sizeof(r->grace));
		r->grace_count = 0;
		record_add_event(r, a->now_ms);
		return 1;
	}
	created = g->created;
	record_wipe(r);
	r->gen[0].state = RECORD_REMOVED;
	r->sequence = sequence;
	r->gen[0].created = created;
	r->gen[0].params.digits = OTP_DIGITS_MIN; /* keeps the tombstone decodable */
	r->gen[0].params.period = 30;
	record_add_event(r, a->now_ms);
	return 1;
}

int lifecycle_remove(const struct cfg *c, const struct store_location *loc,
		     const char *user, int64_t now_ms, struct record *out,
		     struct totp_err *err)
{
	return lifecycle_remove_named(c, loc, user, NULL, now_ms, out, err);
}

int lifecycle_remove_named(const struct cfg *c, const struct store_location *loc,
			   const char *user, const char *name, int64_t now_ms,
			   struct record *out, struct totp_err *err)
{
	struct event_arg a = {user, NULL, now_ms};

	if (record_name_check(name, err) < 0)
		return -1;
	a.name = is_default(name) ? RECORD_DEFAULT_NAME : name;
	return with_record(c, loc, user, STORE_WRITE, apply_remove, &a, out, err);
}

static int apply_unlock(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct event_arg *a = varg;
	unsigned n = record_generators(r);

	if (!found || !record_live(r))
		return not_found(a->user, err);
	r->failures = 0;
	r->locked_until = 0;
	/* A step accepted while the clock ran ahead would refuse every code
	 * until real time caught up: it comes back to the current step, never
	 * below, so no code accepted before can be used again. */
	for (unsigned i = 0; i < n; i++) {
		struct record_gen *g = &r->gen[i];

		if (g->params.type == OTP_TOTP && g->params.period != 0) {
			uint64_t now_step = otp_step_at(&g->params, a->now_ms / 1000);

			if (g->counter > now_step)
				g->counter = now_step;
		}
	}
	record_add_event(r, a->now_ms);
	return 1;
}

int lifecycle_unlock(const struct cfg *c, const struct store_location *loc,
		     const char *user, int64_t now_ms, struct record *out,
		     struct totp_err *err)
{
	struct event_arg a = {user, NULL, now_ms};

	return with_record(c, loc, user, STORE_WRITE, apply_unlock, &a, out, err);
}

static int apply_status(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct event_arg *a = varg;

	if (!found || !record_live(r))
		return not_found(a->user, err);
	return 0;
}

int lifecycle_status(const struct cfg *c, const struct store_location *loc,
		     const char *user, struct record *out, struct totp_err *err)
{
	struct event_arg a = {user, NULL, 0};

	return with_record(c, loc, user, STORE_READ, apply_status, &a, out, err);
}

/* ---- codes ---------------------------------------------------------------- */

struct codes_arg {
	const struct cfg *c;
	const char *user, *code;
	int64_t now_ms;
	const struct record *fresh; /* the new hashes, made before the lock */
	bool wrong;		    /* a wrong code, stored as a failure */
	struct totp_err why;	    /* ... and what to say about it */
};

static int codes_refusal(const char *user, int found, const struct record *r,
			 bool with_code, int64_t now_ms, struct totp_err *err)
{
	int64_t now = now_ms / 1000;

	if (!found || !record_live(r))
		return not_found(user, err);
	if (record_first_ready(r) < 0)
		return totp_err_set(
		    err, TOTP_R_PRECONDITION,
		    "%s's registration is pending: confirm it first (totp-enroll verify "
		    "CODE); the emergency codes it showed are the ones to keep",
		    user);
	if (with_code && r->locked_until != 0 && now < r->locked_until)
		return totp_err_set(
		    err, TOTP_R_LOCKED_OUT,
		    "%s is locked out after too many wrong codes for another "
		    "%lld seconds; wait, or ask an administrator to unlock",
		    user, (long long)(r->locked_until - now));
	return 0;
}

static int no_codes_realm(const struct cfg *c, struct totp_err *err)
{
	if (c->emergency_codes != 0)
		return 0;
	return totp_err_set(
	    err, TOTP_R_PRECONDITION,
	    "realm %s makes no emergency codes (emergency_codes = 0 in %s)", c->realm,
	    c->conf_path[0] ? c->conf_path : "its configuration");
}

static int apply_codes(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct codes_arg *a = varg;
	struct login_event ev = {.service = "totp-enroll", .now_ms = a->now_ms};
	struct login_result res;

	if (codes_refusal(a->user, found, r, a->code != NULL, a->now_ms, err) < 0)
		return -1;
	if (a->code == NULL) {
		record_add_event(r, a->now_ms);
	} else {
		memset(&res, 0, sizeof(res));
		login_apply_otp(r, a->c, a->code, &ev, &res);
		if (res.outcome == LOGIN_LOCKED_OUT) /* checked above: not reached */
			return codes_refusal(a->user, found, r, true, a->now_ms, err);
		if (res.outcome != LOGIN_SUCCESS) {
			a->wrong = true;
			if (res.locked_now)
				totp_err_set(&a->why, TOTP_R_WRONG_CODE,
					     "that is not the code the app shows now; "
					     "%u wrong codes in a row: %s is locked out "
					     "for %u seconds",
					     (unsigned)r->failures, a->user,
					     a->c->lockout);
			else
				totp_err_set(
				    &a->why, TOTP_R_WRONG_CODE,
				    "that is not the code the app shows now (an "
				    "emergency code does not do here); it counts "
				    "as a failed login (%u in a row)",
				    (unsigned)r->failures);
			return 1; /* the failure is stored, as a login's */
		}
	}
	/* The check's event is the codes' event: one, as for any call. */
	memcpy(r->emergency, a->fresh->emergency, sizeof(r->emergency));
	r->emergency_count = a->fresh->emergency_count;
	r->emergency_used = a->fresh->emergency_used;
	return 1;
}

int lifecycle_codes(const struct cfg *c, const struct store_location *loc,
		    const char *user, const char *code, int64_t now_ms,
		    struct new_codes *out, struct totp_err *err)
{
	struct record fresh;
	struct codes_arg a;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	memset(&fresh, 0, sizeof(fresh));
	if (user_name_check(user, err) < 0 || no_codes_realm(c, err) < 0)
		return -1;
	/* Slow (crypt), so before the lock: a wrong code wastes only time. */
	if (emergency_generate(&fresh, c->emergency_codes, out->codes, err) < 0) {
		record_wipe(&fresh);
		lifecycle_new_codes_wipe(out);
		return -1;
	}
	out->n_codes = c->emergency_codes;
	a.c = c;
	a.user = user;
	a.code = code;
	a.now_ms = now_ms;
	a.fresh = &fresh;
	rc = with_record(c, loc, user, STORE_WRITE, apply_codes, &a, &out->rec, err);
	if (rc == 0 && a.wrong) {
		if (err != NULL)
			*err = a.why;
		rc = -1;
	}
	record_wipe(&fresh);
	if (rc < 0)
		lifecycle_new_codes_wipe(out);
	return rc;
}

struct precheck_arg {
	const struct cfg *c;
	const char *user;
	int64_t now_ms;
};

static int apply_codes_precheck(struct record *r, int found, void *varg,
				struct totp_err *err)
{
	struct precheck_arg *a = varg;

	return codes_refusal(a->user, found, r, true, a->now_ms, err) < 0 ? -1 : 0;
}

int lifecycle_codes_precheck(const struct cfg *c, const struct store_location *loc,
			     const char *user, int64_t now_ms, struct totp_err *err)
{
	struct precheck_arg a = {c, user, now_ms};

	if (no_codes_realm(c, err) < 0)
		return -1;
	return with_record(c, loc, user, STORE_READ, apply_codes_precheck, &a, NULL, err);
}

void lifecycle_new_codes_wipe(struct new_codes *n)
{
	explicit_bzero(n, sizeof(*n));
}
