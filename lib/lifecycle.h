/*
 * lifecycle: register, verify, remove, status and unlock one user's
 * generator, as DESIGN.md's table (after ZITADEL's RegisterTOTP,
 * VerifyTOTPRegistration, RemoveTOTP), plus status and root's unlock:
 *
 *   register  none, pending, removed -> new secret, pending
 *             ready                   -> TOTP_R_EXISTS (gRPC 6)
 *   verify    pending, right code     -> ready
 *             pending, wrong code     -> TOTP_R_WRONG_CODE (3), unchanged
 *             none, removed           -> TOTP_R_NOT_FOUND (5)
 *             ready                   -> TOTP_R_PRECONDITION (9)
 *   remove    pending or ready        -> removed (a tombstone keeping the
 *                                        sequence; the secret is wiped)
 *             none, removed           -> TOTP_R_NOT_FOUND (5)
 *   status    pending or ready        -> the record, unchanged (shared lock)
 *             none, removed           -> TOTP_R_NOT_FOUND (5)
 *   unlock    pending or ready        -> failures and lockout cleared
 *             none, removed           -> TOTP_R_NOT_FOUND (5)
 *
 * Each call takes the store's lock once (exclusive to write), applies the
 * row, and syncs what it wrote to disk; a refused call writes nothing.
 * Who may act on whom is lifecycle_authorize's, checked before any call.
 */
#ifndef TOTP_LIFECYCLE_H
#define TOTP_LIFECYCLE_H

#include <stdint.h>
#include <sys/types.h>

#include "account.h"
#include "location.h"
#include "cfg.h"
#include "emergency.h"
#include "errors.h"
#include "record.h"

struct registration {
	struct record rec;			      /* the new pending record */
	char secret_b32[SECRET_B32_MAX];	      /* its secret, for typing */
	char *uri;				      /* otpauth:// URI, malloc'd */
	char codes[CFG_EMERGENCY_MAX][EMERGENCY_BUF]; /* shown once */
	unsigned n_codes;
};

/* Root may act on anyone; anyone else only on themselves, and never on a
 * system store (root-owned), else TOTP_R_PERMISSION with a message that
 * says what to do instead. */
int lifecycle_authorize(uid_t caller, const struct account *target,
			const struct store_location *loc, const char *realm,
			struct totp_err *err);

/* `p` is the generator's parameters (already checked against the realm
 * with cfg_allows); issuer and account make the URI's label. */
int lifecycle_register(const struct cfg *c, const struct store_location *loc,
		       const char *user, const struct otp_params *p, const char *issuer,
		       const char *account, int64_t now_ms, struct registration *out,
		       struct totp_err *err);

/* Wipes the secret, the codes and the URI, and frees the URI. */
void lifecycle_registration_wipe(struct registration *r);

/* The record as it is after each call goes to *out (secret wiped). */
int lifecycle_verify(const struct cfg *c, const struct store_location *loc,
		     const char *user, const char *code, int64_t now_ms,
		     struct record *out, struct totp_err *err);

/* Removes the generator: the record becomes a tombstone (secret and
 * codes wiped; sequence and creation time kept, one "removed" event) so
 * that a later import or enrollment counts on.  None or removed already:
 * TOTP_R_NOT_FOUND.  Exclusive lock. */
int lifecycle_remove(const struct cfg *c, const struct store_location *loc,
		     const char *user, int64_t now_ms, struct record *out,
		     struct totp_err *err);

/* Reads the record (shared lock).  None or removed: TOTP_R_NOT_FOUND. */
int lifecycle_status(const struct cfg *c, const struct store_location *loc,
		     const char *user, struct record *out, struct totp_err *err);

/* Clears failures and any lockout (one "unlocked" event).  A TOTP
 * generator's last accepted step that lies ahead of now_ms (a login made
 * while the clock ran ahead) is set back to the current step: the next
 * step's code passes at once, and no code accepted before passes again. */
int lifecycle_unlock(const struct cfg *c, const struct store_location *loc,
		     const char *user, int64_t now_ms, struct record *out,
		     struct totp_err *err);

#endif
