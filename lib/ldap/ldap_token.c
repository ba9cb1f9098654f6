/* ldap_token: OATH-LDAP token, params and user entries (ldap_token.h). */
#include "config.h"

#define LDAP_DEPRECATED 0
#include <ldap.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ldap/ldap_token.h"

void ldapc_token_wipe(struct ldapc_token *t)
{
	free(t->params_dn);
	explicit_bzero(t, sizeof(*t));
}

const char *ldapc_attr_last(enum otp_type type)
{
	return type == OTP_HOTP ? "oathHOTPCounter" : "oathTOTPLastTimeStep";
}

void ldapc_gentime(time_t when, char out[LDAPC_GENTIME_BUF])
{
	struct tm tm;

	if (gmtime_r(&when, &tm) == NULL ||
	    strftime(out, LDAPC_GENTIME_BUF, "%Y%m%d%H%M%SZ", &tm) == 0)
		snprintf(out, LDAPC_GENTIME_BUF, "19700101000000Z");
}

/* Reads entry `dn` (base scope) with `attrs`; *entry points into *res. */
static int read_entry(struct ldapc *c, const char *dn, char **attrs, LDAPMessage **res,
		      LDAPMessage **entry, const char *what, struct totp_err *err)
{
	LDAP *ld = ldapc_handle(c);
	int msgid = -1, rc, result = LDAP_OTHER;
	void *r = NULL;

	*res = NULL;
	*entry = NULL;
	rc = ldap_search_ext(ld, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, NULL,
			     NULL, NULL, 1, &msgid);
	if (rc != LDAP_SUCCESS)
		return ldapc_fail(c, rc, what, err);
	if (ldapc_wait(c, msgid, &r, what, err) < 0)
		return -1;
	*res = r;
	for (LDAPMessage *m = ldap_first_message(ld, *res); m != NULL;
	     m = ldap_next_message(ld, m)) {
		if (ldap_msgtype(m) == LDAP_RES_SEARCH_ENTRY && *entry == NULL)
			*entry = m;
		else if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
			ldap_parse_result(ld, m, &result, NULL, NULL, NULL, NULL, 0);
	}
	if (result == LDAP_SUCCESS && *entry != NULL)
		return 0;
	ldap_msgfree(*res);
	*res = NULL;
	if (result == LDAP_SUCCESS || result == LDAP_NO_SUCH_OBJECT)
		return totp_err_set(err, TOTP_R_NOT_FOUND, "%s: no entry %.120s", what,
				    dn);
	return ldapc_fail(c, result, what, err);
}

/* The first value of attr: 1 and *out (malloc, NUL-terminated) when
 * present, 0 when absent, -1 on error.  *len is the value's length. */
static int first_value(struct ldapc *c, LDAPMessage *entry, const char *attr, char **out,
		       size_t *len, struct totp_err *err)
{
	struct berval **v = ldap_get_values_len(ldapc_handle(c), entry, attr);
	char *copy;

	*out = NULL;
	if (v == NULL || v[0] == NULL) {
		ldap_value_free_len(v);
		return 0;
	}
	copy = malloc(v[0]->bv_len + 1);
	if (copy == NULL) {
		ldap_value_free_len(v);
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory");
	}
	memcpy(copy, v[0]->bv_val, v[0]->bv_len);
	copy[v[0]->bv_len] = '\0';
	if (len != NULL)
		*len = v[0]->bv_len;
	explicit_bzero(v[0]->bv_val, v[0]->bv_len);
	ldap_value_free_len(v);
	*out = copy;
	return 1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* A number attribute: 1 present (in *out), 0 absent, -1 error or not a
 * number (TOTP_R_CORRUPT). */
static int number(struct ldapc *c, LDAPMessage *entry, const char *attr, uint64_t *out,
		  struct totp_err *err)
{
	char *s = NULL;
	int rc = first_value(c, entry, attr, &s, NULL, err);

	if (rc <= 0)
		return rc;
	rc = parse_u64(s, out);
	free(s);
	if (rc < 0)
		return totp_err_set(err, TOTP_R_CORRUPT, "%s is not a number", attr);
	return 1;
}

static void copy_time(struct ldapc *c, LDAPMessage *entry, const char *attr,
		      char out[LDAPC_GENTIME_BUF])
{
	char *s = NULL;
	struct totp_err e;

	out[0] = '\0';
	if (first_value(c, entry, attr, &s, NULL, &e) == 1)
		snprintf(out, LDAPC_GENTIME_BUF, "%s", s);
	free(s);
}

int ldapc_user_token(struct ldapc *c, const char *user_dn, enum otp_type *type,
		     char **token_dn, struct totp_err *err)
{
	char *attrs[] = {"oathTOTPToken", "oathHOTPToken", NULL};
	LDAPMessage *res, *entry;
	int rc;

	*token_dn = NULL;
	if (read_entry(c, user_dn, attrs, &res, &entry, "user entry", err) < 0)
		return -1;
	rc = first_value(c, entry, "oathTOTPToken", token_dn, NULL, err);
	*type = OTP_TOTP;
	if (rc == 0) {
		rc = first_value(c, entry, "oathHOTPToken", token_dn, NULL, err);
		*type = OTP_HOTP;
	}
	ldap_msgfree(res);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return totp_err_set(err, TOTP_R_NOT_FOUND,
				    "the user entry links no token");
	return 0;
}

int ldapc_user_is_otp(struct ldapc *c, const char *user_dn, struct totp_err *err)
{
	char *attrs[] = {"objectClass", NULL};
	LDAPMessage *res, *entry;
	struct berval **oc;
	int yes = 0;

	if (read_entry(c, user_dn, attrs, &res, &entry, "user entry", err) < 0)
		return -1;
	oc = ldap_get_values_len(ldapc_handle(c), entry, "objectClass");
	for (size_t i = 0; oc != NULL && oc[i] != NULL; i++)
		if (oc[i]->bv_len == 12 &&
		    (strncasecmp(oc[i]->bv_val, "oathTOTPUser", 12) == 0 ||
		     strncasecmp(oc[i]->bv_val, "oathHOTPUser", 12) == 0))
			yes = 1;
	ldap_value_free_len(oc);
	ldap_msgfree(res);
	return yes;
}

/* A token's moving state: its last step or counter (`last`), failure
 * count, last failure and last login.  0, or -1 on an unreadable value. */
static int read_state(struct ldapc *c, LDAPMessage *entry, const char *last,
		      struct ldapc_token *t, struct totp_err *err)
{
	int rc = number(c, entry, last, &t->last, err);

	if (rc < 0)
		return -1;
	t->has_last = rc == 1;
	rc = number(c, entry, "oathFailureCount", &t->failures, err);
	if (rc < 0)
		return -1;
	t->has_failures = rc == 1;
	copy_time(c, entry, "oathLastFailure", t->last_failure);
	copy_time(c, entry, "oathLastLogin", t->last_login);
	return 0;
}

int ldapc_token_read(struct ldapc *c, const char *dn, enum otp_type type,
		     struct ldapc_token *t, struct totp_err *err)
{
	const char *params = type == OTP_HOTP ? "oathHOTPParams" : "oathTOTPParams";
	const char *last = ldapc_attr_last(type);
	char *attrs[] = {
	    "oathSecret",      (char *)params,	(char *)last, "oathFailureCount",
	    "oathLastFailure", "oathLastLogin", NULL};
	LDAPMessage *res, *entry;
	struct berval **v;
	int rc;

	memset(t, 0, sizeof(*t));
	t->type = type;
	if (read_entry(c, dn, attrs, &res, &entry, "token entry", err) < 0)
		return -1;
	v = ldap_get_values_len(ldapc_handle(c), entry, "oathSecret");
	if (v == NULL || v[0] == NULL || v[0]->bv_len == 0 ||
	    v[0]->bv_len > LDAPC_SECRET_MAX) {
		rc = totp_err_set(
		    err, TOTP_R_CORRUPT,
		    "token entry: oathSecret missing, unreadable, or not 1 to %d "
		    "bytes",
		    LDAPC_SECRET_MAX);
		goto out;
	}
	memcpy(t->secret, v[0]->bv_val, v[0]->bv_len);
	t->secret_len = v[0]->bv_len;
	rc = first_value(c, entry, params, &t->params_dn, NULL, err);
	if (rc == 0)
		rc = totp_err_set(err, TOTP_R_CORRUPT, "token entry: no %s", params);
	if (rc < 0)
		goto out;
	rc = read_state(c, entry, last, t, err);
	if (rc < 0)
		goto out;
	rc = 0;
out:
	if (v != NULL && v[0] != NULL)
		explicit_bzero(v[0]->bv_val, v[0]->bv_len);
	ldap_value_free_len(v);
	ldap_msgfree(res);
	if (rc < 0)
		ldapc_token_wipe(t);
	return rc;
}

int ldapc_token_info(struct ldapc *c, const char *dn, struct ldapc_token *t,
		     int64_t *modified, struct totp_err *err)
{
	char *attrs[] = {"objectClass",	    "oathTOTPParams",
			 "oathHOTPParams",  "oathTOTPLastTimeStep",
			 "oathHOTPCounter", "oathFailureCount",
			 "oathLastFailure", "oathLastLogin",
			 "modifyTimestamp", NULL};
	LDAPMessage *res, *entry;
	struct berval **oc;
	char *stamp = NULL;
	bool totp = false, hotp = false;
	struct tm tm;
	int rc;

	memset(t, 0, sizeof(*t));
	*modified = 0;
	if (read_entry(c, dn, attrs, &res, &entry, "token entry", err) < 0)
		return -1;
	oc = ldap_get_values_len(ldapc_handle(c), entry, "objectClass");
	for (size_t i = 0; oc != NULL && oc[i] != NULL; i++) {
		if (oc[i]->bv_len == 13 &&
		    strncasecmp(oc[i]->bv_val, "oathTOTPToken", 13) == 0)
			totp = true;
		if (oc[i]->bv_len == 13 &&
		    strncasecmp(oc[i]->bv_val, "oathHOTPToken", 13) == 0)
			hotp = true;
	}
	ldap_value_free_len(oc);
	if (!totp && !hotp) {
		rc = totp_err_set(err, TOTP_R_CORRUPT,
				  "%.120s is not an oathTOTPToken or oathHOTPToken entry",
				  dn);
		goto out;
	}
	t->type = totp ? OTP_TOTP : OTP_HOTP;
	rc = first_value(c, entry, totp ? "oathTOTPParams" : "oathHOTPParams",
			 &t->params_dn, NULL, err);
	if (rc == 0)
		rc = totp_err_set(err, TOTP_R_CORRUPT, "token entry: no params DN");
	if (rc < 0)
		goto out;
	rc = read_state(c, entry, ldapc_attr_last(t->type), t, err);
	if (rc < 0)
		goto out;
	if (first_value(c, entry, "modifyTimestamp", &stamp, NULL, err) == 1) {
		memset(&tm, 0, sizeof(tm));
		if (strptime(stamp, "%Y%m%d%H%M%S", &tm) != NULL)
			*modified = (int64_t)timegm(&tm);
	}
	free(stamp);
	rc = 0;
out:
	ldap_msgfree(res);
	if (rc < 0)
		ldapc_token_wipe(t);
	return rc;
}

int ldapc_params_read(struct ldapc *c, const char *dn, enum otp_type type,
		      struct ldapc_params *p, struct totp_err *err)
{
	const char *win =
	    type == OTP_HOTP ? "oathHOTPLookAhead" : "oathTOTPTimeStepWindow";
	char *attrs[] = {"oathOTPLength", "oathHMACAlgorithm", "oathTOTPTimeStepPeriod",
			 (char *)win, NULL};
	LDAPMessage *res, *entry;
	uint64_t v = 0;
	char *alg = NULL;
	int rc;

	memset(p, 0, sizeof(*p));
	p->type = type;
	if (read_entry(c, dn, attrs, &res, &entry, "params entry", err) < 0)
		return -1;
	rc = number(c, entry, "oathOTPLength", &v, err);
	if (rc == 0)
		rc = totp_err_set(err, TOTP_R_CORRUPT, "params entry: no oathOTPLength");
	if (rc < 0)
		goto out;
	if (v < OTP_DIGITS_MIN || v > OTP_DIGITS_MAX) {
		rc = totp_err_set(err, TOTP_R_CORRUPT,
				  "params entry: oathOTPLength %" PRIu64
				  " is not %d to %d",
				  v, OTP_DIGITS_MIN, OTP_DIGITS_MAX);
		goto out;
	}
	p->digits = (unsigned)v;
	rc = first_value(c, entry, "oathHMACAlgorithm", &alg, NULL, err);
	if (rc < 0)
		goto out;
	if (rc == 0 || strcmp(alg, LDAPC_OID_SHA1) == 0)
		p->alg = OTP_SHA1;
	else if (strcmp(alg, LDAPC_OID_SHA256) == 0)
		p->alg = OTP_SHA256;
	else if (strcmp(alg, LDAPC_OID_SHA512) == 0)
		p->alg = OTP_SHA512;
	else {
		rc = totp_err_set(
		    err, TOTP_R_CORRUPT,
		    "params entry: oathHMACAlgorithm %.40s is not SHA1, SHA256 "
		    "or SHA512",
		    alg);
		goto out;
	}
	if (type == OTP_TOTP) {
		rc = number(c, entry, "oathTOTPTimeStepPeriod", &v, err);
		if (rc == 0)
			rc = totp_err_set(err, TOTP_R_CORRUPT,
					  "params entry: no oathTOTPTimeStepPeriod");
		if (rc < 0)
			goto out;
		if (v < 1 || v > 3600) {
			rc = totp_err_set(
			    err, TOTP_R_CORRUPT,
			    "params entry: oathTOTPTimeStepPeriod is not 1 to 3600");
			goto out;
		}
		p->period = (unsigned)v;
	}
	v = 0;
	rc = number(c, entry, win, &v, err);
	if (rc < 0)
		goto out;
	if (v > OTP_WINDOW_MAX) {
		rc = totp_err_set(err, TOTP_R_CORRUPT, "params entry: %s is more than %d",
				  win, OTP_WINDOW_MAX);
		goto out;
	}
	p->window = (unsigned)v;
	rc = 0;
out:
	free(alg);
	ldap_msgfree(res);
	return rc;
}

/* An operation sent (send_rc, msgid): waits for it and puts its result
 * code in *result; -1 when it could not be sent, answered or parsed. */
static int op_result(struct ldapc *c, int send_rc, int msgid, int *result,
		     const char *what, struct totp_err *err)
{
	void *r = NULL;
	int rc;

	if (send_rc != LDAP_SUCCESS)
		return ldapc_fail(c, send_rc, what, err);
	if (ldapc_wait(c, msgid, &r, what, err) < 0)
		return -1;
	rc = ldap_parse_result(ldapc_handle(c), r, result, NULL, NULL, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		return ldapc_fail(c, rc, what, err);
	return 0;
}

/* As op_result, and any result but success is the error. */
static int op_done(struct ldapc *c, int send_rc, int msgid, const char *what,
		   struct totp_err *err)
{
	int result = LDAP_OTHER;

	if (op_result(c, send_rc, msgid, &result, what, err) < 0)
		return -1;
	return result == LDAP_SUCCESS ? 0 : ldapc_fail(c, result, what, err);
}

/* Sends a modify and waits for its result code (in *result). */
static int modify(struct ldapc *c, const char *dn, LDAPMod **mods, int *result,
		  const char *what, struct totp_err *err)
{
	int msgid = -1;
	int rc = ldap_modify_ext(ldapc_handle(c), dn, mods, NULL, NULL, &msgid);

	return op_result(c, rc, msgid, result, what, err);
}

#define CAS_ALSO_MAX 4

int ldapc_cas(struct ldapc *c, const char *dn, const char *attr, const char *old,
	      const char *new_value, const struct ldapc_set *also, size_t n_also,
	      struct totp_err *err)
{
	char *old_v[] = {(char *)old, NULL}, *new_v[] = {(char *)new_value, NULL};
	char *also_v[CAS_ALSO_MAX][2];
	LDAPMod del = {LDAP_MOD_DELETE, (char *)attr, {.modv_strvals = old_v}};
	LDAPMod add = {LDAP_MOD_ADD, (char *)attr, {.modv_strvals = new_v}};
	LDAPMod rep[CAS_ALSO_MAX];
	LDAPMod *mods[CAS_ALSO_MAX + 3];
	size_t n = 0;
	int result = LDAP_OTHER;

	if (n_also > CAS_ALSO_MAX)
		return totp_err_set(err, TOTP_R_INVALID, "more than %d extra changes",
				    CAS_ALSO_MAX);
	if (old != NULL)
		mods[n++] = &del;
	mods[n++] = &add;
	for (size_t i = 0; i < n_also; i++) {
		also_v[i][0] = (char *)also[i].value;
		also_v[i][1] = NULL;
		rep[i].mod_op = LDAP_MOD_REPLACE;
		rep[i].mod_type = (char *)also[i].attr;
		rep[i].mod_values = also[i].value != NULL ? also_v[i] : NULL;
		mods[n++] = &rep[i];
	}
	mods[n] = NULL;
	if (modify(c, dn, mods, &result, "compare-and-set", err) < 0)
		return -1;
	if (result == LDAP_SUCCESS)
		return 0;
	if (old != NULL && result == LDAP_NO_SUCH_ATTRIBUTE)
		return 1;
	if (old == NULL &&
	    (result == LDAP_TYPE_OR_VALUE_EXISTS || result == LDAP_CONSTRAINT_VIOLATION))
		return 1;
	return ldapc_fail(c, result, "compare-and-set", err);
}

int ldapc_cas_u64(struct ldapc *c, const char *dn, const char *attr, bool has_old,
		  uint64_t old, uint64_t new_value, const struct ldapc_set *also,
		  size_t n_also, struct totp_err *err)
{
	char o[24], n[24];

	snprintf(o, sizeof(o), "%" PRIu64, old);
	snprintf(n, sizeof(n), "%" PRIu64, new_value);
	return ldapc_cas(c, dn, attr, has_old ? o : NULL, n, also, n_also, err);
}

int ldapc_check_bind(const struct ldap_realm_cfg *cfg, const char *user_dn,
		     const char *password, const char *code, struct totp_err *err)
{
	char both[LDAPC_PASSWORD_MAX + 1];
	size_t pl = strlen(password), cl = strlen(code);
	struct ldapc *c = NULL;
	int rc;

	if (pl == 0 || cl == 0 || pl + cl > LDAPC_PASSWORD_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "a password and a code, together at most %d bytes",
				    LDAPC_PASSWORD_MAX);
	memcpy(both, password, pl);
	memcpy(both + pl, code, cl + 1);
	rc = ldapc_open(cfg, LDAPC_SIMPLE, user_dn, both, &c, err);
	explicit_bzero(both, sizeof(both));
	if (rc < 0) {
		if (err != NULL && err->reason == TOTP_R_PERMISSION)
			err->reason = TOTP_R_WRONG_CODE;
		return -1;
	}
	ldapc_close(c);
	return 0;
}

int ldapc_token_create(struct ldapc *c, const char *dn, const char *cn,
		       enum otp_type type, const uint8_t *secret, size_t secret_len,
		       const char *params_dn, struct totp_err *err)
{
	LDAP *ld = ldapc_handle(c);
	char *oc_v[] = {"device", type == OTP_HOTP ? "oathHOTPToken" : "oathTOTPToken",
			NULL};
	char *cn_v[] = {(char *)cn, NULL}, *par_v[] = {(char *)params_dn, NULL};
	struct berval sec = {(ber_len_t)secret_len, (char *)secret};
	struct berval *sec_v[] = {&sec, NULL};
	LDAPMod oc = {LDAP_MOD_ADD, "objectClass", {.modv_strvals = oc_v}};
	LDAPMod cnm = {LDAP_MOD_ADD, "cn", {.modv_strvals = cn_v}};
	LDAPMod par = {LDAP_MOD_ADD,
		       type == OTP_HOTP ? "oathHOTPParams" : "oathTOTPParams",
		       {.modv_strvals = par_v}};
	LDAPMod sm = {
	    LDAP_MOD_ADD | LDAP_MOD_BVALUES, "oathSecret", {.modv_bvals = sec_v}};
	LDAPMod *mods[] = {&oc, &cnm, &par, &sm, NULL};
	int msgid = -1, rc;

	if (secret_len == 0 || secret_len > LDAPC_SECRET_MAX)
		return totp_err_set(err, TOTP_R_INVALID, "a secret of 1 to %d bytes",
				    LDAPC_SECRET_MAX);
	rc = ldap_add_ext(ld, dn, mods, NULL, NULL, &msgid);
	return op_done(c, rc, msgid, "token add", err);
}

int ldapc_token_delete(struct ldapc *c, const char *dn, struct totp_err *err)
{
	int msgid = -1;
	int rc = ldap_delete_ext(ldapc_handle(c), dn, NULL, NULL, &msgid);

	return op_done(c, rc, msgid, "token delete", err);
}

static int link_op(struct ldapc *c, const char *user_dn, enum otp_type type,
		   const char *token_dn, int op, struct totp_err *err)
{
	char *oc_v[] = {type == OTP_HOTP ? "oathHOTPUser" : "oathTOTPUser", NULL};
	char *tok_v[] = {(char *)token_dn, NULL};
	LDAPMod oc = {op, "objectClass", {.modv_strvals = oc_v}};
	LDAPMod tok = {op,
		       type == OTP_HOTP ? "oathHOTPToken" : "oathTOTPToken",
		       {.modv_strvals = tok_v}};
	/* Add the class first, remove the value first: each step is valid. */
	LDAPMod *mods[] = {op == LDAP_MOD_ADD ? &oc : &tok,
			   op == LDAP_MOD_ADD ? &tok : &oc, NULL};
	int result = LDAP_OTHER;
	const char *what = op == LDAP_MOD_ADD ? "link" : "unlink";

	if (modify(c, user_dn, mods, &result, what, err) < 0)
		return -1;
	if (result == LDAP_SUCCESS)
		return 0;
	if (result == LDAP_TYPE_OR_VALUE_EXISTS || result == LDAP_NO_SUCH_ATTRIBUTE ||
	    result == LDAP_CONSTRAINT_VIOLATION)
		return 1;
	return ldapc_fail(c, result, what, err);
}

int ldapc_link(struct ldapc *c, const char *user_dn, enum otp_type type,
	       const char *token_dn, struct totp_err *err)
{
	return link_op(c, user_dn, type, token_dn, LDAP_MOD_ADD, err);
}

int ldapc_unlink(struct ldapc *c, const char *user_dn, enum otp_type type,
		 const char *token_dn, struct totp_err *err)
{
	return link_op(c, user_dn, type, token_dn, LDAP_MOD_DELETE, err);
}
