/* lifecycle: the registration table of lifecycle.h, one locked pass each. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lifecycle.h"
#include "otp.h"
#include "secret.h"
#include "location.h"
#include "store.h"
#include "uri.h"

/* One step of the table: looks at the record (found or not) and changes
 * it.  Returns 1 to store it, 0 to leave the store as it was, -1 to refuse. */
typedef int (*apply_fn)(struct record *r, int found, void *arg, struct totp_err *err);

static void copy_out(struct record *out, const struct record *r)
{
	if (out == NULL)
		return;
	*out = *r;
	explicit_bzero(out->secret, sizeof(out->secret));
	out->secret_len = 0;
}

/* None, or removed: what verify, remove, status and unlock answer. */
static int not_found(const char *user, struct totp_err *err)
{
	return totp_err_set(
	    err, TOTP_R_NOT_FOUND,
	    "%s has no TOTP generator registered; run totp-enroll to register one", user);
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
	if (store_open(loc, mode, &opts, &s, err) < 0) {
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
	if (!loc->per_user)
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
	const char *issuer, *account, *user;
	int64_t now_ms;
	struct registration *out;
};

static int make_uri(struct registration *out, const char *issuer, const char *account,
		    struct totp_err *err)
{
	struct uri_parts parts;
	int rc;

	memset(&parts, 0, sizeof(parts));
	parts.params = out->rec.params;
	if (strlen(issuer) >= sizeof(parts.issuer) ||
	    strlen(account) >= sizeof(parts.account))
		return totp_err_set(err, TOTP_R_INVALID,
				    "issuer or account name is too long");
	strcpy(parts.issuer, issuer);
	strcpy(parts.account, account);
	memcpy(parts.secret, out->rec.secret, out->rec.secret_len);
	parts.secret_len = out->rec.secret_len;
	parts.counter = out->rec.counter;
	rc = uri_build(&parts, &out->uri, err);
	explicit_bzero(&parts, sizeof(parts));
	return rc;
}

static int apply_register(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct register_arg *a = varg;
	struct record *n = &a->out->rec;
	size_t len = secret_len_for(a->p->alg);

	if (found && r->state == RECORD_READY)
		return totp_err_set(
		    err, TOTP_R_EXISTS,
		    "%s already has a ready TOTP generator; remove it first "
		    "(totp-enroll remove) to register a new one",
		    a->user);
	memset(n, 0, sizeof(*n));
	n->state = RECORD_PENDING;
	n->params = *a->p;
	n->sequence = found ? r->sequence : 0;
	n->created = a->now_ms / 1000;
	n->secret_len = (uint8_t)len;
	if (secret_generate(n->secret, len, err) < 0 ||
	    base32_encode(n->secret, len, a->out->secret_b32, sizeof(a->out->secret_b32),
			  err) < 0 ||
	    emergency_generate(n, a->c->emergency_codes, a->out->codes, err) < 0 ||
	    make_uri(a->out, a->issuer, a->account, err) < 0)
		return -1;
	a->out->n_codes = a->c->emergency_codes;
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
	struct register_arg a = {c, p, issuer, account, user, now_ms, out};
	int rc;

	memset(out, 0, sizeof(*out));
	if (otp_params_check(p, err) < 0)
		return -1;
	rc = with_record(c, loc, user, STORE_CREATE, apply_register, &a, NULL, err);
	if (rc < 0)
		lifecycle_registration_wipe(out);
	return rc;
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

struct verify_arg {
	const struct cfg *c;
	const char *user, *code;
	int64_t now_ms;
};

static int apply_verify(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct verify_arg *a = varg;
	unsigned window;
	int ok;

	if (!found || r->state == RECORD_REMOVED)
		return not_found(a->user, err);
	if (r->state == RECORD_READY)
		return totp_err_set(err, TOTP_R_PRECONDITION,
				    "%s's generator is already verified and in use",
				    a->user);
	window = r->window ? r->window : a->c->window;
	ok = otp_accept(r->secret, r->secret_len, &r->params, window, a->now_ms / 1000,
			a->code, &r->counter, err);
	if (ok < 0)
		return -1;
	if (ok == 0)
		return totp_err_set(
		    err, TOTP_R_WRONG_CODE,
		    "that code is not the one the app shows now; the registration "
		    "stays pending: try again with a fresh code");
	r->state = RECORD_READY;
	record_add_event(r, a->now_ms);
	return 1;
}

int lifecycle_verify(const struct cfg *c, const struct store_location *loc,
		     const char *user, const char *code, int64_t now_ms,
		     struct record *out, struct totp_err *err)
{
	struct verify_arg a = {c, user, code, now_ms};

	return with_record(c, loc, user, STORE_WRITE, apply_verify, &a, out, err);
}

struct event_arg {
	const char *user;
	int64_t now_ms;
};

static int apply_remove(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct event_arg *a = varg;
	uint64_t sequence = r->sequence;
	int64_t created = r->created;

	if (!found || r->state == RECORD_REMOVED)
		return not_found(a->user, err);
	record_wipe(r);
	r->state = RECORD_REMOVED;
	r->sequence = sequence;
	r->created = created;
	r->params.digits = OTP_DIGITS_MIN; /* keeps the tombstone decodable */
	r->params.period = 30;
	record_add_event(r, a->now_ms);
	return 1;
}

int lifecycle_remove(const struct cfg *c, const struct store_location *loc,
		     const char *user, int64_t now_ms, struct record *out,
		     struct totp_err *err)
{
	struct event_arg a = {user, now_ms};

	return with_record(c, loc, user, STORE_WRITE, apply_remove, &a, out, err);
}

static int apply_unlock(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct event_arg *a = varg;

	if (!found || r->state == RECORD_REMOVED)
		return not_found(a->user, err);
	r->failures = 0;
	r->locked_until = 0;
	/* A step accepted while the clock ran ahead would refuse every code
	 * until real time caught up: it comes back to the current step, never
	 * below, so no code accepted before can be used again. */
	if (r->params.type == OTP_TOTP && r->params.period != 0) {
		uint64_t now_step = otp_step_at(&r->params, a->now_ms / 1000);

		if (r->counter > now_step)
			r->counter = now_step;
	}
	record_add_event(r, a->now_ms);
	return 1;
}

int lifecycle_unlock(const struct cfg *c, const struct store_location *loc,
		     const char *user, int64_t now_ms, struct record *out,
		     struct totp_err *err)
{
	struct event_arg a = {user, now_ms};

	return with_record(c, loc, user, STORE_WRITE, apply_unlock, &a, out, err);
}

static int apply_status(struct record *r, int found, void *varg, struct totp_err *err)
{
	struct event_arg *a = varg;

	if (!found || r->state == RECORD_REMOVED)
		return not_found(a->user, err);
	return 0;
}

int lifecycle_status(const struct cfg *c, const struct store_location *loc,
		     const char *user, struct record *out, struct totp_err *err)
{
	struct event_arg a = {user, 0};

	return with_record(c, loc, user, STORE_READ, apply_status, &a, out, err);
}
