/*
 * lifecycle_ldap: register, verify, remove and status of one user's token
 * in a `store = ldap` realm (issue 14, docs/ldap.md "Enrollment").  The
 * same table as lifecycle.h, applied to the OATH-LDAP entries that
 * slapo-otp(5) reads instead of to a record:
 *
 *   register  no token, or a pending one -> a new token entry
 *             cn=<user>,<ldap_tokens> (objectClass device + oathTOTPToken
 *             or oathHOTPToken, oathSecret, the params DN ldap_params),
 *             NOT linked from the user entry: pending, neither pam_totp
 *             nor slapo-otp accepts it.  A pending one is replaced.
 *             the user entry links a token -> TOTP_R_EXISTS (gRPC 6)
 *   verify    pending, right code -> linked (objectClass oathTOTPUser and
 *             oathTOTPToken = the token's DN on the user entry); the code
 *             is used up (the token's last step records it)
 *             pending, wrong code -> TOTP_R_WRONG_CODE (3), still pending
 *             no token entry -> TOTP_R_NOT_FOUND (5)
 *             linked already -> TOTP_R_PRECONDITION (9)
 *   remove    linked or pending -> unlinked and the entry deleted
 *             neither -> TOTP_R_NOT_FOUND (5)
 *   status    linked (READY) or pending (PENDING): the record without
 *             its secret; neither -> TOTP_R_NOT_FOUND (5)
 *
 * Who acts.  `password` is the user's own LDAP password: the call finds
 * the user's DN anonymously (ldap_base, ldap_filter) and binds as it, so
 * the directory's ACLs decide (docs/ldap.md).  `password` NULL is root:
 * the call binds with the realm's administrative identity
 * (ldap_admin_binddn, ldap_admin_bindpw_file, checked as ldap_cfg.h
 * says); TOTP_R_CONFIG when the realm has none.
 *
 * How verify checks the code.  Under docs/ldap.md's ACLs the owner may
 * write oathSecret but never read it back, and the secret made by
 * register is not kept anywhere after that call.  So, as the user,
 * verify links the token and then binds as the user with password+code
 * through slapo-otp (ldapc_check_bind): the directory checks the code
 * and records its step; on a refusal it unlinks again (the token is then
 * pending as before).  As root, the administrative identity reads the
 * secret, the code is checked here (otp_accept, the params entry's
 * window), its step recorded by compare-and-set, and then the token is
 * linked.
 *
 * `sequence` in *out (details.sequence) is the token's moving state as
 * the directory holds it, as for logins (ldap_store.h): the last TOTP
 * step (oathTOTPLastTimeStep) or HOTP counter (oathHOTPCounter); 0 for a
 * token no code has been used with yet.  change_date_ms is the call's
 * time, or for status the token entry's modifyTimestamp.
 *
 * Errors are returned (errors.h; TOTP_R_IO: the directory is
 * unavailable, TOTP_R_PERMISSION: the password or an ACL refused);
 * nothing is printed.  Passwords and secrets are wiped after use.
 */
#ifndef TOTP_LIFECYCLE_LDAP_H
#define TOTP_LIFECYCLE_LDAP_H

#include <stdint.h>

#include "cfg.h"
#include "errors.h"
#include "lifecycle.h"
#include "location.h"
#include "record.h"

/* One token per user (cn=<user>): a generator's name other than
 * RECORD_DEFAULT_NAME (issue 17's several generators) is TOTP_R_UNIMPLEMENTED
 * (gRPC 12) in an ldap realm, checked before anything is asked or sent;
 * NULL or the default name: 0.  A bad name: TOTP_R_INVALID. */
int lifecycle_ldap_name_check(const char *name, struct totp_err *err);

/* The parameters come from the params entry (ldap_params); only p->type
 * is taken from `p` (which object classes to use). */
int lifecycle_ldap_register(const struct cfg *c, const struct store_location *loc,
			    const char *user, const char *password,
			    const struct otp_params *p, const char *issuer,
			    const char *account, int64_t now_ms, struct registration *out,
			    struct totp_err *err);

int lifecycle_ldap_verify(const struct cfg *c, const struct store_location *loc,
			  const char *user, const char *password, const char *code,
			  int64_t now_ms, struct record *out, struct totp_err *err);

int lifecycle_ldap_remove(const struct cfg *c, const struct store_location *loc,
			  const char *user, const char *password, int64_t now_ms,
			  struct record *out, struct totp_err *err);

int lifecycle_ldap_status(const struct cfg *c, const struct store_location *loc,
			  const char *user, const char *password, struct record *out,
			  struct totp_err *err);

#endif
