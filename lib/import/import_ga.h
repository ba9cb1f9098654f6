/*
 * import_ga: a google-authenticator-libpam state file
 * (~/.google_authenticator), as its FILEFORMAT and pam_google_authenticator.c
 * read it:
 *
 *   line 1      the base32 secret
 *   `" NAME ...` options: TOTP_AUTH, HOTP_COUNTER n, STEP_SIZE n (1-60,
 *               default 30), WINDOW_SIZE n (1-100, default 3),
 *               DISALLOW_REUSE [step...], RATE_LIMIT n m [time...],
 *               TIME_SKEW n, RESETTING_TIME_SKEW ...
 *   8 digits    one scratch code a line (10000000-99999999)
 *
 * Mapping (what the old module accepted, as closely as ours can):
 *   - type: HOTP when HOTP_COUNTER is 1 or more (the module's own test),
 *     else TOTP when TOTP_AUTH is present; neither is refused (such a file
 *     only ever accepted scratch codes).  SHA1, 6 digits, always.
 *   - counter: HOTP_COUNTER is the next counter the module accepts, ours
 *     too.  For TOTP, the largest step in DISALLOW_REUSE is the last step
 *     already used: ours refuses it and anything older.
 *   - window: GA's WINDOW_SIZE W counts codes.  TOTP accepts steps
 *     -(W-1)/2 .. +W/2 around now, ours is symmetric: (W-1)/2 (3 -> 1,
 *     17 -> 8; an even W loses its extra step ahead).  HOTP accepts
 *     counter .. counter+W-1: W-1.  Both clamped to OTP_WINDOW_MAX.  A
 *     result of 0 is stored as 0, which a record reads as the realm's.
 *   - TIME_SKEW (a learnt clock offset) and RATE_LIMIT are not carried
 *     over: ours has its own failure throttle and no skew learning.
 *   - scratch codes become emergency codes (hashed by import_to_record).
 * Other options (unknown ones included) are GA state and are ignored.
 *
 * Anything malformed is refused as a whole (TOTP_R_INVALID), the message
 * naming the line.  The buffer is read only within `len` bytes (at most
 * IMPORT_GA_MAX); a NUL byte in it is malformed.
 */
#ifndef TOTP_IMPORT_GA_H
#define TOTP_IMPORT_GA_H

#include <stddef.h>

#include "errors.h"
#include "import.h"

#define IMPORT_GA_MAX (64 * 1024)
#define IMPORT_GA_WINDOW_DEFAULT 3
#define IMPORT_GA_STEP_DEFAULT 30

/* Fills *out (zeroed first, wiped on failure). */
int import_ga_parse(const char *buf, size_t len, struct import_entry *out,
		    struct totp_err *err);

#endif
