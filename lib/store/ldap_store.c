/* ldap_store: the store interface over an OATH-LDAP directory (ldap_store.h). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldap/ldap_conn.h"
#include "ldap/ldap_token.h"
#include "ldap_store.h"

struct ldap_store {
	const struct ldap_realm_cfg *cfg;
	unsigned max_failures, lockout;
	struct ldapc *c;
	/* what the last get read, for the compare of the next write */
	bool have;
	char user[LDAPC_USER_MAX + 1];
	char *token_dn;
	enum otp_type type;
	bool has_last;
	uint64_t last;
	bool has_failures;
	uint64_t failures;
	uint64_t sequence;
};

static void forget(struct ldap_store *h)
{
	free(h->token_dn);
	h->token_dn = NULL;
	h->have = false;
	h->user[0] = '\0';
}

static int open_u(const struct store_location *loc, enum store_mode mode,
		  const struct store_opts *opts, void **out, struct totp_err *err)
{
	struct ldap_store *h;

	(void)mode;
	(void)opts;
	if (loc->ldap == NULL)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "an ldap store without ldap_* keys");
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return totp_err_set(err, TOTP_R_NOMEM,
				    "out of memory opening the directory");
	h->cfg = loc->ldap;
	h->max_failures = loc->max_failures;
	h->lockout = loc->lockout;
	if (ldapc_open(h->cfg, LDAPC_HOST, NULL, NULL, &h->c, err) < 0) {
		free(h);
		return -1;
	}
	*out = h;
	return 0;
}

static void close_u(void *vh)
{
	struct ldap_store *h = vh;

	if (h == NULL)
		return;
	forget(h);
	ldapc_close(h->c);
	explicit_bzero(h, sizeof(*h));
	free(h);
}

/* "YYYYMMDDHHMMSSZ" to unix seconds; 0 when absent or malformed. */
static int64_t gentime_parse(const char *s)
{
	struct tm tm;
	char *end;

	if (s[0] == '\0')
		return 0;
	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y%m%d%H%M%S", &tm);
	if (end == NULL || (*end != 'Z' && *end != '\0'))
		return 0;
	return (int64_t)timegm(&tm);
}

static int fill(struct ldap_store *h, const struct ldapc_token *t,
		const struct ldapc_params *p, struct record *r, struct totp_err *err)
{
	memset(r, 0, sizeof(*r));
	if (t->secret_len > SECRET_MAX)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "token entry: oathSecret is longer than %d bytes",
				    SECRET_MAX);
	r->gen[0].state = RECORD_READY;
	r->gen[0].params.type = t->type;
	r->gen[0].params.alg = p->alg;
	r->gen[0].params.digits = p->digits;
	r->gen[0].params.period = t->type == OTP_TOTP ? p->period : 30;
	r->gen[0].window = (uint8_t)p->window;
	memcpy(r->gen[0].secret, t->secret, t->secret_len);
	r->gen[0].secret_len = (uint8_t)t->secret_len;
	if (t->type == OTP_TOTP)
		r->gen[0].counter = t->has_last ? t->last : 0;
	else
		r->gen[0].counter = t->has_last ? t->last + 1 : 0;
	r->failures = t->failures > UINT32_MAX ? UINT32_MAX : (uint32_t)t->failures;
	r->last_failure.time = gentime_parse(t->last_failure);
	r->last_success.time = gentime_parse(t->last_login);
	if (h->max_failures != 0 && r->failures >= h->max_failures &&
	    r->last_failure.time != 0)
		r->locked_until = r->last_failure.time + (int64_t)h->lockout;
	r->sequence = r->gen[0].counter;
	return 0;
}

static int get_u(void *vh, const char *user, struct record *r, struct totp_err *err)
{
	struct ldap_store *h = vh;
	struct ldapc_token t;
	struct ldapc_params p;
	char *user_dn = NULL, *token_dn = NULL;
	enum otp_type type;
	struct totp_err e;
	int rc;

	forget(h);
	memset(r, 0, sizeof(*r));
	if (strlen(user) > LDAPC_USER_MAX)
		return 0;
	if (ldapc_find_user(h->c, user, &user_dn, &e) < 0) {
		if (e.reason == TOTP_R_NOT_FOUND)
			return 0;
		if (err != NULL)
			*err = e;
		return -1;
	}
	rc = ldapc_user_token(h->c, user_dn, &type, &token_dn, &e);
	free(user_dn);
	if (rc < 0) {
		if (e.reason == TOTP_R_NOT_FOUND)
			return 0; /* not enrolled, or pending: not linked */
		if (err != NULL)
			*err = e;
		return -1;
	}
	memset(&t, 0, sizeof(t));
	memset(&p, 0, sizeof(p));
	rc = ldapc_token_read(h->c, token_dn, type, &t, err);
	if (rc == 0)
		rc = ldapc_params_read(h->c, t.params_dn, type, &p, err);
	if (rc == 0)
		rc = fill(h, &t, &p, r, err);
	if (rc == 0) {
		h->have = true;
		snprintf(h->user, sizeof(h->user), "%s", user);
		h->token_dn = token_dn;
		token_dn = NULL;
		h->type = type;
		h->has_last = t.has_last;
		h->last = t.last;
		h->has_failures = t.has_failures;
		h->failures = t.failures;
		h->sequence = r->sequence;
	} else {
		record_wipe(r);
	}
	ldapc_token_wipe(&t);
	free(token_dn);
	return rc < 0 ? -1 : 1;
}

/* The record's moving state as the directory holds it. */
static uint64_t stored_last(const struct ldap_store *h, const struct record *r)
{
	if (h->type == OTP_HOTP)
		return r->gen[0].counter > 0 ? r->gen[0].counter - 1 : 0;
	return r->gen[0].counter;
}

/* One compare-and-set request for what changed since the get: 0 written
 * (or nothing to write), 1 someone wrote first, -1 error. */
static int write_state(struct ldap_store *h, const struct record *r, struct totp_err *err)
{
	uint64_t was = h->type == OTP_HOTP ? (h->has_last ? h->last + 1 : 0)
					   : (h->has_last ? h->last : 0);
	char count[24], when[LDAPC_GENTIME_BUF];
	struct ldapc_set also[2];
	size_t n = 0;
	int rc;

	if (r->gen[0].counter != was) { /* an accepted code: the step or counter moves */
		if (h->has_failures || r->failures != 0) {
			snprintf(count, sizeof(count), "%" PRIu32, r->failures);
			also[n++] = (struct ldapc_set){"oathFailureCount", count};
		}
		if (r->last_success.time != 0) {
			ldapc_gentime((time_t)r->last_success.time, when);
			also[n++] = (struct ldapc_set){"oathLastLogin", when};
		}
		rc = ldapc_cas_u64(h->c, h->token_dn, ldapc_attr_last(h->type),
				   h->has_last, h->last, stored_last(h, r), also, n, err);
		if (rc == 0) {
			h->has_last = true;
			h->last = stored_last(h, r);
			h->has_failures = h->has_failures || r->failures != 0;
			h->failures = r->failures;
		}
		return rc;
	}
	if (r->failures == h->failures && (h->has_failures || r->failures == 0))
		return 0; /* nothing the directory keeps changed */
	if (r->failures != 0 && r->last_failure.time != 0) { /* a failure */
		ldapc_gentime((time_t)r->last_failure.time, when);
		also[n++] = (struct ldapc_set){"oathLastFailure", when};
	}
	rc = ldapc_cas_u64(h->c, h->token_dn, "oathFailureCount", h->has_failures,
			   h->failures, r->failures, also, n, err);
	if (rc == 0) {
		h->has_failures = true;
		h->failures = r->failures;
	}
	return rc;
}

static int put_if_u(void *vh, const char *user, const struct record *r,
		    uint64_t read_sequence, struct totp_err *err)
{
	struct ldap_store *h = vh;

	if (!h->have || strcmp(h->user, user) != 0)
		return totp_err_set(err, TOTP_R_INVALID,
				    "an ldap store writes only the record it read last");
	if (r->gen[0].state != RECORD_READY)
		return totp_err_set(err, TOTP_R_INVALID,
				    "an ldap realm's token is registered, verified "
				    "and removed by totp-enroll as the user "
				    "(lifecycle_ldap.h), not through the store");
	if (read_sequence != h->sequence)
		return 1;
	return write_state(h, r, err);
}

static int put_u(void *vh, const char *user, const struct record *r, struct totp_err *err)
{
	struct ldap_store *h = vh;
	int rc = put_if_u(vh, user, r, h->sequence, err);

	if (rc == 1)
		return totp_err_set(
		    err, TOTP_R_PRECONDITION,
		    "the token of %s was changed by another host meanwhile", user);
	return rc;
}

/* The backend's entry points: each talks to the directory with SIGPIPE
 * blocked and any it raised taken (LDAPC_GUARDED_RETURN, ldap_conn.h). */

static int ls_open(const struct store_location *loc, enum store_mode mode,
		   const struct store_opts *opts, void **out, struct totp_err *err)
{
	LDAPC_GUARDED_RETURN(open_u(loc, mode, opts, out, err));
}

static void ls_close(void *vh)
{
	struct ldapc_sigpipe g;

	ldapc_sigpipe_block(&g);
	close_u(vh);
	ldapc_sigpipe_restore(&g);
}

static int ls_get(void *vh, const char *user, struct record *r, struct totp_err *err)
{
	LDAPC_GUARDED_RETURN(get_u(vh, user, r, err));
}

static int ls_put_if(void *vh, const char *user, const struct record *r,
		     uint64_t read_sequence, struct totp_err *err)
{
	LDAPC_GUARDED_RETURN(put_if_u(vh, user, r, read_sequence, err));
}

static int ls_put(void *vh, const char *user, const struct record *r,
		  struct totp_err *err)
{
	LDAPC_GUARDED_RETURN(put_u(vh, user, r, err));
}

static int ls_del(void *vh, const char *user, struct totp_err *err)
{
	(void)vh;
	(void)user;
	return totp_err_set(err, TOTP_R_INVALID,
			    "an ldap realm removes tokens with totp-enroll remove");
}

static int ls_iterate(void *vh, store_iter_fn fn, void *arg, struct totp_err *err)
{
	(void)vh;
	(void)fn;
	(void)arg;
	return totp_err_set(err, TOTP_R_INVALID,
			    "an ldap realm is listed with the directory's own tools "
			    "(ldapsearch)");
}

static int ls_commit(void *vh, struct totp_err *err)
{
	(void)vh;
	(void)err;
	return 0; /* each write is applied by the server when it answers */
}

const struct store_backend ldap_store_backend = {
    .name = "ldap",
    .open = ls_open,
    .get = ls_get,
    .put = ls_put,
    .put_if = ls_put_if,
    .del = ls_del,
    .iterate = ls_iterate,
    .commit = ls_commit,
    .close = ls_close,
    .lockless = true,
};

/* ---- ldap_check = bind ---------------------------------------------------- */

static int bind_lookup_u(const struct store_location *loc, const char *user, char **dn,
			 struct totp_err *err)
{
	struct ldapc *c = NULL;
	char *token_dn = NULL;
	enum otp_type type;
	struct totp_err e;
	int rc;

	*dn = NULL;
	if (loc->ldap == NULL)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "an ldap store without ldap_* keys");
	if (strlen(user) > LDAPC_USER_MAX)
		return 0;
	if (ldapc_open(loc->ldap, LDAPC_HOST, NULL, NULL, &c, err) < 0)
		return -1;
	rc = ldapc_find_user(c, user, dn, &e);
	if (rc == 0)
		rc = ldapc_user_token(c, *dn, &type, &token_dn, &e);
	ldapc_close(c);
	free(token_dn);
	if (rc == 0)
		return 1;
	free(*dn);
	*dn = NULL;
	if (e.reason == TOTP_R_NOT_FOUND)
		return 0;
	if (err != NULL)
		*err = e;
	return -1;
}

static int bind_check_u(const struct store_location *loc, const char *dn,
			const char *password, const char *code, struct totp_err *err)
{
	struct totp_err e;

	if (ldapc_check_bind(loc->ldap, dn, password, code, &e) == 0)
		return 1;
	if (e.reason == TOTP_R_WRONG_CODE || e.reason == TOTP_R_INVALID)
		return 0;
	if (err != NULL)
		*err = e;
	return -1;
}

int ldap_store_bind_lookup(const struct store_location *loc, const char *user, char **dn,
			   struct totp_err *err)
{
	LDAPC_GUARDED_RETURN(bind_lookup_u(loc, user, dn, err));
}

int ldap_store_bind_check(const struct store_location *loc, const char *dn,
			  const char *password, const char *code, struct totp_err *err)
{
	LDAPC_GUARDED_RETURN(bind_check_u(loc, dn, password, code, err));
}
