/*
 * lifecycle: register, verify, remove, status, unlock and new emergency
 * codes of one user's generator, as DESIGN.md's table (after ZITADEL's
 * RegisterTOTP, VerifyTOTPRegistration, RemoveTOTP), plus status, root's
 * unlock and codes:
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
 *   codes     ready, right code       -> a new set of emergency codes, the
 *                                        old ones no longer work; the code
 *                                        is used up (as a login's)
 *             ready, wrong code       -> TOTP_R_WRONG_CODE (3), counted as
 *                                        a login's failure; codes unchanged
 *             ready, locked out       -> TOTP_R_LOCKED_OUT (8), unchanged
 *             pending                 -> TOTP_R_PRECONDITION (9)
 *             none, removed           -> TOTP_R_NOT_FOUND (5)
 *             emergency_codes = 0     -> TOTP_R_PRECONDITION (9)
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
	unsigned n_codes;			      /* 0: the user's codes stay */
	unsigned gen; /* the new generator: rec.gen[gen] */
};

/* Root may act on anyone; anyone else only on themselves, and never on a
 * system store (root-owned; a directory is not one: its ACLs decide), else
 * TOTP_R_PERMISSION with a message that says what to do instead. */
int lifecycle_authorize(uid_t caller, const struct account *target,
			const struct store_location *loc, const char *realm,
			struct totp_err *err);

/* `p` is the generator's parameters (already checked against the realm
 * with cfg_allows); issuer and account make the URI's label. */
int lifecycle_register(const struct cfg *c, const struct store_location *loc,
		       const char *user, const struct otp_params *p, const char *issuer,
		       const char *account, int64_t now_ms, struct registration *out,
		       struct totp_err *err);

/*
 * Several generators (issue 17): a user has up to RECORD_GENERATORS_MAX,
 * each with a name ([a-z0-9._-]{1,16}, record_name_check; NULL or ""
 * is RECORD_DEFAULT_NAME), its own state (the table above applies to
 * each name), secret, last step and drift.  The _named calls act on one
 * name; the others on the default one.  A bad name is TOTP_R_INVALID and
 * changes nothing.
 *
 * register: a user with no other live (pending or ready) generator gets
 *   a whole new record, with new emergency codes, as above; else the
 *   generator is added beside the others (or a pending one of that name
 *   gets a new secret), and emergency codes, lockout and the other
 *   generators stay (out->n_codes is 0).  A fifth name is TOTP_R_TOO_MANY
 *   (gRPC RESOURCE_EXHAUSTED), changing nothing.
 * verify: only that name's code, never another generator's.
 * remove: the last live generator leaves the tombstone above; another
 *   leaves the rest as it is (its grace hosts forgotten: they are keyed
 *   with the first ready generator's secret).
 * status, unlock, codes: the user's, whatever the generator (codes takes
 *   a code of any ready generator; only pending ones: TOTP_R_PRECONDITION).
 */
int lifecycle_register_named(const struct cfg *c, const struct store_location *loc,
			     const char *user, const char *name,
			     const struct otp_params *p, const char *issuer,
			     const char *account, int64_t now_ms,
			     struct registration *out, struct totp_err *err);
int lifecycle_verify_named(const struct cfg *c, const struct store_location *loc,
			   const char *user, const char *name, const char *code,
			   int64_t now_ms, struct record *out, struct totp_err *err);
int lifecycle_remove_named(const struct cfg *c, const struct store_location *loc,
			   const char *user, const char *name, int64_t now_ms,
			   struct record *out, struct totp_err *err);

/* out->uri (malloc'd) from out->rec.gen[out->gen]'s params, secret and
 * counter. */
int lifecycle_uri(struct registration *out, const char *issuer, const char *account,
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

struct new_codes {
	struct record rec;			      /* the record after (no secret) */
	char codes[CFG_EMERGENCY_MAX][EMERGENCY_BUF]; /* shown once */
	unsigned n_codes;
};

/*
 * A new set of the realm's emergency_codes codes for a ready generator,
 * replacing every old one, used or not.  `code` is a current code from
 * the app (TOTP or HOTP, never an emergency code), checked as a login
 * checks it (login_apply_otp: the window, replays, the lockout) and used
 * up: a right one moves the step or counter on and clears the failures,
 * a wrong one is stored as a login's failure (and may start a lockout)
 * and nothing else changes.  The codes and the check are one event
 * (sequence + 1, change date); a wrong code is a failure's event(s).
 *
 * `code` NULL: no code is checked, and the lockout does not apply (the
 * record's failures are left as they are).  Only for root: the caller
 * decides (totp-enroll passes NULL only when run by root, who can remove
 * and register anyone's generator anyway).
 *
 * The codes are hashed (slow) before the store's lock is taken, so that
 * nobody's login waits for them.  On success out->codes holds them, to
 * show once; wipe with lifecycle_new_codes_wipe, whatever the result.
 */
int lifecycle_codes(const struct cfg *c, const struct store_location *loc,
		    const char *user, const char *code, int64_t now_ms,
		    struct new_codes *out, struct totp_err *err);

/* The refusals lifecycle_codes with a code would make before the code is
 * checked (emergency_codes = 0, none or removed, pending, locked out),
 * from a shared look that writes nothing: totp-enroll refuses at once
 * instead of asking for a code in vain.  lifecycle_codes checks them
 * again under its lock. */
int lifecycle_codes_precheck(const struct cfg *c, const struct store_location *loc,
			     const char *user, int64_t now_ms, struct totp_err *err);

void lifecycle_new_codes_wipe(struct new_codes *n);

/* The refusal of a verify whose code is not the app's (TOTP_R_WRONG_CODE,
 * the registration still pending): -1.  One wording for every realm. */
int lifecycle_wrong_verify_code(struct totp_err *err);

#endif
