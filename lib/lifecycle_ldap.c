/* lifecycle_ldap: a token's lifecycle in an OATH-LDAP directory (lifecycle_ldap.h). */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ldap/ldap_conn.h"
#include "ldap/ldap_token.h"
#include "lifecycle.h"
#include "lifecycle_ldap.h"
#include "otp.h"
#include "secret.h"

#define DN_MAX 2048

/* One call's connection: bound as the user or the administrative
 * identity, with the user's DN and the DN their token is named by. */
struct session {
	const struct ldap_realm_cfg *cfg;
	struct ldapc *c;
	char *user_dn;
	char token_dn[DN_MAX];
	bool admin;
};

static void session_close(struct session *s)
{
	ldapc_close(s->c);
	free(s->user_dn);
	memset(s, 0, sizeof(*s));
}

static int not_found(const char *user, struct totp_err *err)
{
	return totp_err_set(
	    err, TOTP_R_NOT_FOUND,
	    "%s has no TOTP token in the directory; run totp-enroll to register one",
	    user);
}

static int open_admin(struct session *s, struct totp_err *err)
{
	char pw[LDAPC_PASSWORD_MAX + 1];
	int rc;

	if (s->cfg->admin_binddn == NULL)
		return totp_err_set(
		    err, TOTP_R_CONFIG,
		    "root acts for users of an ldap realm with the administrative "
		    "identity, and this realm has none: set ldap_admin_binddn and "
		    "ldap_admin_bindpw_file (pam_totp.conf(5)), or let the user run "
		    "totp-enroll with their own LDAP password");
	if (ldapc_read_bindpw(s->cfg->admin_bindpw_file, pw, sizeof(pw), err) < 0)
		return -1;
	rc = ldapc_open(s->cfg, LDAPC_SIMPLE, s->cfg->admin_binddn, pw, &s->c, err);
	explicit_bzero(pw, sizeof(pw));
	s->admin = true;
	return rc;
}

/* Opens the session for `user` (see lifecycle_ldap.h, "Who acts"). */
static int session_open(const struct store_location *loc, const char *user,
			const char *password, enum totp_reason refuse_linked,
			struct session *s, struct totp_err *err)
{
	struct totp_err e;
	int is_otp;

	memset(s, 0, sizeof(*s));
	if (loc->kind != STORE_KIND_LDAP || loc->ldap == NULL)
		return totp_err_set(err, TOTP_R_CONFIG, "not an ldap realm");
	s->cfg = loc->ldap;
	if (s->cfg->tokens == NULL || s->cfg->params == NULL)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "enrolling in an ldap realm needs ldap_tokens and "
				    "ldap_params");
	if (strlen(user) > LDAPC_USER_MAX)
		return not_found(user, err);
	if (ldapc_child_dn("cn", user, s->cfg->tokens, s->token_dn, sizeof(s->token_dn),
			   err) < 0)
		return -1;
	if (password == NULL) {
		if (open_admin(s, err) < 0)
			goto fail;
	} else if (ldapc_open(s->cfg, LDAPC_ANON, NULL, NULL, &s->c, err) < 0) {
		goto fail;
	}
	if (ldapc_find_user(s->c, user, &s->user_dn, &e) < 0) {
		if (e.reason == TOTP_R_NOT_FOUND)
			totp_err_set(err, TOTP_R_NOT_FOUND,
				     "the directory has no entry for %s under %.200s",
				     user, s->cfg->base);
		else if (err != NULL)
			*err = e;
		goto fail;
	}
	/* A linked user binds with password+code (slapo-otp): register and
	 * verify refuse before asking the directory for that. */
	is_otp =
	    refuse_linked != TOTP_R_NONE ? ldapc_user_is_otp(s->c, s->user_dn, err) : 0;
	if (is_otp < 0)
		goto fail;
	if (is_otp && refuse_linked == TOTP_R_EXISTS) {
		totp_err_set(err, TOTP_R_EXISTS,
			     "%s already has a ready TOTP token in the directory; remove "
			     "it first (totp-enroll remove) to register a new one",
			     user);
		goto fail;
	}
	if (is_otp) {
		totp_err_set(err, refuse_linked,
			     "%s's token is already verified and in use", user);
		goto fail;
	}
	if (password != NULL && ldapc_bind(s->c, s->user_dn, password, &e) < 0) {
		if (e.reason == TOTP_R_PERMISSION)
			totp_err_set(
			    err, TOTP_R_PERMISSION,
			    "the directory refused the LDAP password of %s (once "
			    "the token is verified, slapo-otp wants the password "
			    "followed by the code the app shows now)",
			    user);
		else if (err != NULL)
			*err = e;
		goto fail;
	}
	return 0;
fail:
	session_close(s);
	return -1;
}

/* The token the user entry links: 1 (and *dn, *type), 0 none, -1 error. */
static int linked(struct session *s, char **dn, enum otp_type *type, struct totp_err *err)
{
	struct totp_err e;

	if (ldapc_user_token(s->c, s->user_dn, type, dn, &e) == 0)
		return 1;
	if (e.reason == TOTP_R_NOT_FOUND)
		return 0;
	if (err != NULL)
		*err = e;
	return -1;
}

static void set_params(struct otp_params *p, const struct ldapc_params *lp)
{
	memset(p, 0, sizeof(*p));
	p->type = lp->type;
	p->alg = lp->alg;
	p->digits = lp->digits;
	p->period = lp->type == OTP_TOTP ? lp->period : 30;
}

/* The record status and remove show: no secret. */
static void fill(struct record *r, enum record_state state, const struct ldapc_token *t,
		 const struct ldapc_params *lp)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = state;
	set_params(&r->gen[0].params, lp);
	r->gen[0].window = (uint8_t)(lp->window > 255 ? 255 : lp->window);
	r->gen[0].counter = t->type == OTP_HOTP ? (t->has_last ? t->last + 1 : 0)
						: (t->has_last ? t->last : 0);
	r->sequence = t->has_last ? t->last : 0;
	r->failures = t->failures > UINT32_MAX ? UINT32_MAX : (uint32_t)t->failures;
}

/* The token entry `dn` and its params, as the session may read them. */
static int info(struct session *s, const char *dn, struct ldapc_token *t,
		struct ldapc_params *lp, int64_t *modified, struct totp_err *err)
{
	if (ldapc_token_info(s->c, dn, t, modified, err) < 0)
		return -1;
	if (ldapc_params_read(s->c, t->params_dn, t->type, lp, err) < 0) {
		ldapc_token_wipe(t);
		return -1;
	}
	return 0;
}

/* ---- register ------------------------------------------------------------- */

static int register_u(const struct cfg *c, const struct store_location *loc,
		      const char *user, const char *password, const struct otp_params *p,
		      const char *issuer, const char *account, int64_t now_ms,
		      struct registration *out, struct totp_err *err)
{
	struct session s;
	struct ldapc_params lp;
	struct record *n = &out->rec;
	struct totp_err e;
	enum otp_type type;
	char *dn = NULL;
	size_t len;
	int rc = -1;

	(void)c;
	if (session_open(loc, user, password, TOTP_R_EXISTS, &s, err) < 0)
		return -1;
	switch (linked(&s, &dn, &type, err)) {
	case 1:
		totp_err_set(
		    err, TOTP_R_EXISTS,
		    "%s already has a ready TOTP token in the directory; remove it "
		    "first (totp-enroll remove) to register a new one",
		    user);
		goto done;
	case 0:
		break;
	default:
		goto done;
	}
	if (ldapc_params_read(s.c, s.cfg->params, p->type, &lp, err) < 0)
		goto done;
	memset(n, 0, sizeof(*n));
	n->gen[0].state = RECORD_PENDING;
	set_params(&n->gen[0].params, &lp);
	if (otp_params_check(&n->gen[0].params, err) < 0)
		goto done;
	n->gen[0].window = (uint8_t)(lp.window > 255 ? 255 : lp.window);
	n->gen[0].created = now_ms / 1000;
	n->change_date_ms = now_ms;
	len = secret_len_for(n->gen[0].params.alg);
	n->gen[0].secret_len = (uint8_t)len;
	if (secret_generate(n->gen[0].secret, len, err) < 0 ||
	    base32_encode(n->gen[0].secret, len, out->secret_b32, sizeof(out->secret_b32),
			  err) < 0 ||
	    lifecycle_uri(out, issuer, account, err) < 0)
		goto done;
	rc = ldapc_token_create(s.c, s.token_dn, user, n->gen[0].params.type,
				n->gen[0].secret, len, s.cfg->params, &e);
	if (rc < 0 && e.reason == TOTP_R_EXISTS) {
		/* A pending token (not linked: checked above): replaced. */
		if (ldapc_token_delete(s.c, s.token_dn, &e) == 0)
			rc = ldapc_token_create(s.c, s.token_dn, user,
						n->gen[0].params.type, n->gen[0].secret,
						len, s.cfg->params, &e);
	}
	if (rc < 0 && err != NULL)
		*err = e;
done:
	free(dn);
	session_close(&s);
	return rc < 0 ? -1 : 0;
}

/* ---- verify --------------------------------------------------------------- */

/* As the user: link, let slapo-otp check password+code, unlink on refusal. */
static int verify_by_bind(struct session *s, enum otp_type type, const char *password,
			  const char *code, struct totp_err *err)
{
	struct totp_err e, u;
	int rc;

	rc = ldapc_link(s->c, s->user_dn, type, s->token_dn, err);
	if (rc != 0)
		return rc < 0 ? -1
			      : totp_err_set(err, TOTP_R_PRECONDITION,
					     "the user entry links a token already");
	if (ldapc_check_bind(s->cfg, s->user_dn, password, code, &e) == 0)
		return 0;
	if (ldapc_unlink(s->c, s->user_dn, type, s->token_dn, &u) < 0)
		return totp_err_set(err, u.reason,
				    "the code was not accepted, and unlinking the token "
				    "again failed (%s): run totp-enroll remove",
				    u.msg);
	if (e.reason == TOTP_R_WRONG_CODE)
		return lifecycle_wrong_verify_code(err);
	if (err != NULL)
		*err = e;
	return -1;
}

/* As root: the administrative identity reads the secret. */
static int verify_by_read(const struct cfg *c, struct session *s, enum otp_type type,
			  const char *code, int64_t now_ms, struct totp_err *err)
{
	struct ldapc_token t;
	struct ldapc_params lp;
	struct otp_params p;
	uint64_t counter;
	int ok, rc;

	if (ldapc_token_read(s->c, s->token_dn, type, &t, err) < 0)
		return -1;
	if (ldapc_params_read(s->c, t.params_dn, type, &lp, err) < 0) {
		ldapc_token_wipe(&t);
		return -1;
	}
	set_params(&p, &lp);
	counter =
	    type == OTP_HOTP ? (t.has_last ? t.last + 1 : 0) : (t.has_last ? t.last : 0);
	ok = otp_accept(t.secret, t.secret_len, &p, lp.window ? lp.window : c->window,
			now_ms / 1000, code, &counter, NULL, err);
	if (ok == 1) {
		uint64_t stored = type == OTP_HOTP ? counter - 1 : counter;

		rc = ldapc_cas_u64(s->c, s->token_dn, ldapc_attr_last(type), t.has_last,
				   t.last, stored, NULL, 0, err);
		ok = rc == 0 ? 1 : rc == 1 ? 0 : -1;
	}
	ldapc_token_wipe(&t);
	if (ok < 0)
		return -1;
	if (ok == 0)
		return lifecycle_wrong_verify_code(err);
	rc = ldapc_link(s->c, s->user_dn, type, s->token_dn, err);
	if (rc == 1)
		return totp_err_set(err, TOTP_R_PRECONDITION,
				    "the user entry links a token already");
	return rc;
}

static int verify_u(const struct cfg *c, const struct store_location *loc,
		    const char *user, const char *password, const char *code,
		    int64_t now_ms, struct record *out, struct totp_err *err)
{
	struct session s;
	struct ldapc_token t;
	struct ldapc_params lp;
	enum otp_type type;
	int64_t modified;
	char *dn = NULL;
	int rc = -1;

	if (session_open(loc, user, password, TOTP_R_PRECONDITION, &s, err) < 0)
		return -1;
	switch (linked(&s, &dn, &type, err)) {
	case 1:
		totp_err_set(err, TOTP_R_PRECONDITION,
			     "%s's token is already verified and in use", user);
		goto done;
	case 0:
		break;
	default:
		goto done;
	}
	if (info(&s, s.token_dn, &t, &lp, &modified, err) < 0) {
		if (err != NULL && err->reason == TOTP_R_NOT_FOUND)
			not_found(user, err);
		goto done;
	}
	type = t.type;
	ldapc_token_wipe(&t);
	if (s.admin)
		rc = verify_by_read(c, &s, type, code, now_ms, err);
	else
		rc = verify_by_bind(&s, type, password, code, err);
	if (rc == 0 && out != NULL) {
		/* What the directory holds now (the step the code used). */
		if (info(&s, s.token_dn, &t, &lp, &modified, err) < 0) {
			rc = -1;
			goto done;
		}
		fill(out, RECORD_READY, &t, &lp);
		out->change_date_ms = now_ms;
		ldapc_token_wipe(&t);
	}
done:
	free(dn);
	session_close(&s);
	return rc < 0 ? -1 : 0;
}

/* ---- remove, status ------------------------------------------------------- */

static int remove_u(const struct store_location *loc, const char *user,
		    const char *password, int64_t now_ms, struct record *out,
		    struct totp_err *err)
{
	struct session s;
	struct ldapc_token t;
	struct ldapc_params lp;
	struct totp_err e;
	enum otp_type type = OTP_TOTP;
	int64_t modified;
	char *dn = NULL;
	const char *victim;
	int is_linked, rc = -1;

	if (session_open(loc, user, password, TOTP_R_NONE, &s, err) < 0)
		return -1;
	is_linked = linked(&s, &dn, &type, err);
	if (is_linked < 0)
		goto done;
	victim = is_linked ? dn : s.token_dn;
	memset(out, 0, sizeof(*out));
	if (info(&s, victim, &t, &lp, &modified, &e) == 0) {
		fill(out, RECORD_REMOVED, &t, &lp);
		ldapc_token_wipe(&t);
	} else if (e.reason != TOTP_R_NOT_FOUND && e.reason != TOTP_R_CORRUPT) {
		if (err != NULL)
			*err = e;
		goto done;
	} else if (!is_linked) {
		not_found(user, err);
		goto done;
	}
	if (is_linked && ldapc_unlink(s.c, s.user_dn, type, dn, err) < 0)
		goto done;
	rc = ldapc_token_delete(s.c, victim, &e);
	if (rc < 0 && e.reason == TOTP_R_NOT_FOUND && is_linked)
		rc = 0; /* a link to nothing: unlinking was all there was to do */
	else if (rc < 0 && err != NULL)
		*err = e;
	out->gen[0].state = RECORD_REMOVED;
	out->change_date_ms = now_ms;
done:
	free(dn);
	session_close(&s);
	return rc < 0 ? -1 : 0;
}

static int status_u(const struct store_location *loc, const char *user,
		    const char *password, struct record *out, struct totp_err *err)
{
	struct session s;
	struct ldapc_token t;
	struct ldapc_params lp;
	enum otp_type type;
	int64_t modified = 0;
	char *dn = NULL;
	int is_linked, rc = -1;

	if (session_open(loc, user, password, TOTP_R_NONE, &s, err) < 0)
		return -1;
	is_linked = linked(&s, &dn, &type, err);
	if (is_linked < 0)
		goto done;
	if (info(&s, is_linked ? dn : s.token_dn, &t, &lp, &modified, err) < 0) {
		if (err != NULL && err->reason == TOTP_R_NOT_FOUND && !is_linked)
			not_found(user, err);
		goto done;
	}
	fill(out, is_linked ? RECORD_READY : RECORD_PENDING, &t, &lp);
	out->change_date_ms = modified * 1000;
	ldapc_token_wipe(&t);
	rc = 0;
done:
	free(dn);
	session_close(&s);
	return rc;
}

/* ---- entry points: SIGPIPE blocked as for every directory call ------------ */

int lifecycle_ldap_name_check(const char *name, struct totp_err *err)
{
	if (record_name_check(name, err) < 0)
		return -1;
	if (name == NULL || name[0] == '\0' || strcmp(name, RECORD_DEFAULT_NAME) == 0)
		return 0;
	return totp_err_set(err, TOTP_R_UNIMPLEMENTED,
			    "an ldap realm keeps one token a user (cn=<user>): only the "
			    "generator %s, not %s; see totp-enroll(1), BUGS",
			    RECORD_DEFAULT_NAME, name);
}

int lifecycle_ldap_register(const struct cfg *c, const struct store_location *loc,
			    const char *user, const char *password,
			    const struct otp_params *p, const char *issuer,
			    const char *account, int64_t now_ms, struct registration *out,
			    struct totp_err *err)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = user_name_check(user, err);
	if (rc == 0) {
		struct ldapc_sigpipe g;

		ldapc_sigpipe_block(&g);
		rc = register_u(c, loc, user, password, p, issuer, account, now_ms, out,
				err);
		ldapc_sigpipe_restore(&g);
	}
	if (rc < 0)
		lifecycle_registration_wipe(out);
	return rc;
}

int lifecycle_ldap_verify(const struct cfg *c, const struct store_location *loc,
			  const char *user, const char *password, const char *code,
			  int64_t now_ms, struct record *out, struct totp_err *err)
{
	if (user_name_check(user, err) < 0)
		return -1;
	LDAPC_GUARDED_RETURN(verify_u(c, loc, user, password, code, now_ms, out, err));
}

int lifecycle_ldap_remove(const struct cfg *c, const struct store_location *loc,
			  const char *user, const char *password, int64_t now_ms,
			  struct record *out, struct totp_err *err)
{
	(void)c;
	if (user_name_check(user, err) < 0)
		return -1;
	LDAPC_GUARDED_RETURN(remove_u(loc, user, password, now_ms, out, err));
}

int lifecycle_ldap_status(const struct cfg *c, const struct store_location *loc,
			  const char *user, const char *password, struct record *out,
			  struct totp_err *err)
{
	(void)c;
	if (user_name_check(user, err) < 0)
		return -1;
	LDAPC_GUARDED_RETURN(status_u(loc, user, password, out, err));
}
