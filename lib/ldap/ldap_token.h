/*
 * ldap_token: OATH-LDAP token entries, as slapo-otp(5) reads them.
 *
 * Layout (issue 14, docs/ldap.md):
 *   user entry   objectClass oathTOTPUser (oathHOTPUser), oathTOTPToken
 *                (oathHOTPToken): the token's DN;
 *   token entry  objectClass device + oathTOTPToken (oathHOTPToken),
 *                cn, oathSecret (raw bytes), oathTOTPParams (oathHOTPParams):
 *                the params DN, oathTOTPLastTimeStep (oathHOTPCounter),
 *                oathFailureCount, oathLastFailure, oathLastLogin;
 *   params entry oathOTPLength, oathHMACAlgorithm (OID), oathTOTPTimeStepPeriod,
 *                oathTOTPTimeStepWindow (oathHOTPLookAhead).
 *
 * Reads fill plain C structs; a value that is missing where slapo-otp
 * needs it, or not a number, is TOTP_R_CORRUPT.  Writes are single LDAP
 * requests.  Every wait is bounded by the connection's timeout, and
 * errors follow ldap_conn.h (TOTP_R_IO: the directory is unavailable).
 * The secret is wiped with ldapc_token_wipe(); nothing here logs.
 */
#ifndef TOTP_LDAP_TOKEN_H
#define TOTP_LDAP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "errors.h"
#include "ldap/ldap_conn.h"
#include "otp.h"

#define LDAPC_SECRET_MAX 128 /* bytes of oathSecret accepted (SHA512 key: 64) */
#define LDAPC_GENTIME_BUF 16 /* "YYYYMMDDHHMMSSZ" and its NUL */

/* OIDs of oathHMACAlgorithm (RFC 8018's hmacWithSHA1, 256, 512). */
#define LDAPC_OID_SHA1 "1.2.840.113549.2.7"
#define LDAPC_OID_SHA256 "1.2.840.113549.2.9"
#define LDAPC_OID_SHA512 "1.2.840.113549.2.11"

struct ldapc_params {
	enum otp_type type;
	enum otp_alg alg; /* from oathHMACAlgorithm; SHA1 when absent (slapo-otp's too) */
	unsigned digits;  /* oathOTPLength */
	unsigned period;  /* oathTOTPTimeStepPeriod (TOTP; 0 for HOTP) */
	unsigned window; /* oathTOTPTimeStepWindow, or oathHOTPLookAhead; 0 when absent */
};

struct ldapc_token {
	enum otp_type type;
	uint8_t secret[LDAPC_SECRET_MAX]; /* oathSecret */
	size_t secret_len;
	char *params_dn;   /* oathTOTPParams / oathHOTPParams (malloc) */
	bool has_last;	   /* oathTOTPLastTimeStep / oathHOTPCounter present */
	uint64_t last;	   /* its value */
	bool has_failures; /* oathFailureCount present */
	uint64_t failures; /* its value */
	char last_failure[LDAPC_GENTIME_BUF]; /* oathLastFailure, "" when absent */
	char last_login[LDAPC_GENTIME_BUF];   /* oathLastLogin, "" when absent */
};

/* Wipes the secret and frees params_dn; the struct is then empty. */
void ldapc_token_wipe(struct ldapc_token *t);

/* The token DN the user entry `user_dn` links (oathTOTPToken, else
 * oathHOTPToken) and its type.  *token_dn is the caller's (free()).
 * TOTP_R_NOT_FOUND when the entry links none (not enrolled, or pending). */
int ldapc_user_token(struct ldapc *c, const char *user_dn, enum otp_type *type,
		     char **token_dn, struct totp_err *err);

/* Whether the user entry has objectClass oathTOTPUser or oathHOTPUser
 * (what docs/ldap.md's ACLs let anyone read): 1 yes, 0 no, -1 error.
 * slapo-otp then wants the password followed by a code in every simple
 * bind as that user. */
int ldapc_user_is_otp(struct ldapc *c, const char *user_dn, struct totp_err *err);

/* Reads the token entry `dn` of `type`. */
int ldapc_token_read(struct ldapc *c, const char *dn, enum otp_type type,
		     struct ldapc_token *t, struct totp_err *err);

/* What an owner may read of a token entry (never oathSecret): its type
 * (from its object classes), params DN, last step or counter, failures
 * and the entry's modifyTimestamp (unix seconds, 0 when unreadable), in
 * *t (secret empty) and *modified.  TOTP_R_NOT_FOUND when there is no
 * such entry, TOTP_R_CORRUPT when it is not an OATH token. */
int ldapc_token_info(struct ldapc *c, const char *dn, struct ldapc_token *t,
		     int64_t *modified, struct totp_err *err);

/* Reads the params entry `dn` for a token of `type`. */
int ldapc_params_read(struct ldapc *c, const char *dn, enum otp_type type,
		      struct ldapc_params *p, struct totp_err *err);

/* The attribute names for a type. */
const char *
ldapc_attr_last(enum otp_type type); /* oathTOTPLastTimeStep / oathHOTPCounter */

/* "YYYYMMDDHHMMSSZ" (UTC) for `when`, as oathLastFailure and
 * oathLastLogin hold it. */
void ldapc_gentime(time_t when, char out[LDAPC_GENTIME_BUF]);

/* One extra change in a compare-and-set request: replace `attr` with
 * `value`, or remove it when value is NULL (absent or not). */
struct ldapc_set {
	const char *attr;
	const char *value;
};

/* Compare-and-set, one modify request on `dn`: delete attr's value `old`
 * and add `new_value` (old NULL: add only, for an attribute that must be
 * absent), plus the `also` replacements.  The server applies all of it or
 * nothing.  Returns 0 when applied; 1 when someone changed attr first
 * (noSuchAttribute for the delete; typeOrValueExists or
 * constraintViolation for an add-only), nothing changed; -1 on any other
 * error. */
int ldapc_cas(struct ldapc *c, const char *dn, const char *attr, const char *old,
	      const char *new_value, const struct ldapc_set *also, size_t n_also,
	      struct totp_err *err);

/* As ldapc_cas for a number: old is used only when has_old. */
int ldapc_cas_u64(struct ldapc *c, const char *dn, const char *attr, bool has_old,
		  uint64_t old, uint64_t new_value, const struct ldapc_set *also,
		  size_t n_also, struct totp_err *err);

/* ldap_check = bind: a fresh connection (failover as ldapc_open) and a
 * simple bind as `user_dn` with `password` followed by `code`, which
 * slapo-otp checks.  0 when accepted; TOTP_R_WRONG_CODE when the server
 * answers invalidCredentials (a wrong password or code, a replayed code:
 * the server does not say which); TOTP_R_IO when no server is available.
 * The concatenation is wiped. */
int ldapc_check_bind(const struct ldap_realm_cfg *cfg, const char *user_dn,
		     const char *password, const char *code, struct totp_err *err);

/* Creates the token entry `dn` (cn = `cn`): objectClass device and
 * oathTOTPToken/oathHOTPToken, oathSecret and the params DN; no
 * counter or last step (absent reads as none used; the owner may not
 * write them under docs/ldap.md's ACLs).  It is pending until linked.  TOTP_R_EXISTS when
 * the entry exists. */
int ldapc_token_create(struct ldapc *c, const char *dn, const char *cn,
		       enum otp_type type, const uint8_t *secret, size_t secret_len,
		       const char *params_dn, struct totp_err *err);

/* Deletes the token entry `dn`.  TOTP_R_NOT_FOUND when absent. */
int ldapc_token_delete(struct ldapc *c, const char *dn, struct totp_err *err);

/* Links the token from the user entry: adds objectClass oathTOTPUser
 * (oathHOTPUser) and oathTOTPToken (oathHOTPToken) = token_dn, in one
 * request.  1 when the entry already links a token (nothing changed). */
int ldapc_link(struct ldapc *c, const char *user_dn, enum otp_type type,
	       const char *token_dn, struct totp_err *err);

/* Unlinks: removes the token DN value and the object class, in one
 * request.  1 when the entry does not link token_dn (nothing changed). */
int ldapc_unlink(struct ldapc *c, const char *user_dn, enum otp_type type,
		 const char *token_dn, struct totp_err *err);

#endif
