/*
 * ldap_store: the store interface (store.h) over an OATH-LDAP directory,
 * the store of a `store = ldap` realm (issue 14, docs/ldap.md).
 *
 * A record is not kept as such: it is read from and written to the
 * attributes slapo-otp(5) uses, so that tokens made by hand, by
 * totp-enroll or by other tools are one and the same:
 *
 *   record field      directory
 *   state READY       the user entry (ldap_base, ldap_filter) links a token
 *   params            the token's params entry (oathOTPLength,
 *                     oathHMACAlgorithm, oathTOTPTimeStepPeriod), never
 *                     pam_totp.conf; window = oathTOTPTimeStepWindow or
 *                     oathHOTPLookAhead (0 there: the realm's window)
 *   secret            oathSecret
 *   counter           TOTP: oathTOTPLastTimeStep (absent: 0);
 *                     HOTP: oathHOTPCounter + 1 (the next expected counter;
 *                     oathHOTPCounter holds the last one used)
 *   failures          oathFailureCount (absent: 0)
 *   last_failure.time oathLastFailure;  last_success.time oathLastLogin
 *   locked_until      derived: oathLastFailure + the realm's lockout when
 *                     oathFailureCount >= the realm's max_failures
 *   sequence          the moving state as read: the TOTP last step, or the
 *                     HOTP counter (it grows with every accepted code; a
 *                     failure does not move it)
 *   emergency codes   none (the schema has no place for them)
 *
 * No lock (store_lockless): many hosts share the directory.  Every write
 * is ONE modify request that is a compare-and-set against what the last
 * get of the same open read (ldapc_cas): an accepted code deletes the old
 * oathTOTPLastTimeStep (oathHOTPCounter) value and adds the new one; a
 * failure deletes the old oathFailureCount and adds the new count (with
 * oathLastFailure).  If another host (or slapo-otp in a bind) wrote first,
 * the server answers noSuchAttribute, nothing changes, and put_if returns
 * 1: the caller re-reads and decides again (login.c), so one code passes
 * once in the whole fleet.  put is put_if that fails (TOTP_R_PRECONDITION)
 * on such a conflict.
 *
 * Each open is one connection bound with the host's identity (ldap_binddn
 * + ldap_bindpw_file, or SASL EXTERNAL over ldapi://), with ldap_conn's
 * failover and per-server timeout.  A directory that is down, refuses or
 * stalls is TOTP_R_IO (PAM_AUTHINFO_UNAVAIL).  Only a READY record is
 * written (the login's outcome, or root's unlock); put of another state,
 * delete and iterate are TOTP_R_INVALID: registering, verifying and
 * removing a token in the directory are lib/lifecycle_ldap.h's, which
 * bind as the user (or the administrative identity), not as the host.
 */
#ifndef TOTP_LDAP_STORE_H
#define TOTP_LDAP_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "errors.h"
#include "store.h"
#include "store_backend.h"

extern const struct store_backend ldap_store_backend;

/* ldap_check = bind, before the prompt: the user's DN (*dn, the caller's
 * to free) when the user entry links a token.  1 linked, 0 no such user or
 * no token, -1 on error (TOTP_R_IO: the directory is unavailable).  The
 * host reads no secret. */
int ldap_store_bind_lookup(const struct store_location *loc, const char *user, char **dn,
			   struct totp_err *err);

/* ldap_check = bind: a simple bind as `dn` with password followed by
 * code; slapo-otp checks the code in the directory.  1 accepted, 0 refused
 * (a wrong password or code, or a replay: the server does not say which),
 * -1 on error (TOTP_R_IO: no server available). */
int ldap_store_bind_check(const struct store_location *loc, const char *dn,
			  const char *password, const char *code, struct totp_err *err);

#endif
