/*
 * emergency: one-use 8-digit codes for when the phone is lost.
 *
 * Made at registration from getrandom(), shown once, stored only as the
 * record's one hash format: yescrypt at cost 5 (libxcrypt), its 16-byte
 * salt and the first 16 bytes of the hash (record.h).  A used code keeps
 * its bytes and gets its bit in r->emergency_used.
 */
#ifndef TOTP_EMERGENCY_H
#define TOTP_EMERGENCY_H

#include <stddef.h>

#include "errors.h"
#include "record.h"

#define EMERGENCY_DIGITS 8
#define EMERGENCY_BUF (EMERGENCY_DIGITS + 1)

/* Makes n (<= RECORD_EMERGENCY_MAX) codes into codes[] and their hashes
 * into r->emergency, setting r->emergency_count.  The caller shows the
 * codes once and wipes them. */
int emergency_generate(struct record *r, unsigned n, char codes[][EMERGENCY_BUF],
		       struct totp_err *err);

/* Replaces r's codes with hashes of the given plain codes (for import).
 * Each must be EMERGENCY_DIGITS ASCII digits (else TOTP_R_INVALID); on any
 * failure r is left as it was.  emergency_generate likewise. */
int emergency_set(struct record *r, const char *const *codes, unsigned n,
		  struct totp_err *err);

/* If `code` (EMERGENCY_DIGITS digits) matches an unused code, marks it
 * used and returns 1; 0 when none matches; -1 on error.  Every hash is
 * checked, whatever matches.  A `code` that is not exactly EMERGENCY_DIGITS
 * ASCII digits (or NULL) matches nothing: 0 at once, nothing hashed, so a
 * caller may offer any typed code.  A stored hash crypt(3) cannot use is
 * skipped; if nothing matched, the result is then -1 (TOTP_R_CORRUPT). */
int emergency_use(struct record *r, const char *code, struct totp_err *err);

/* emergency_use without using: 1 and *slot (the index in r->emergency)
 * when `code` matches an unused hash, 0 when none does, -1 on error (as
 * emergency_use).  r is only read (NULL: no hashes), so a copy taken under
 * the store's lock can be checked after letting go of it.  When fewer than
 * `min_hashes` (at most RECORD_EMERGENCY_MAX) hashes were computed, it
 * hashes `code` with fresh settings of the same method and cost until
 * that many were: a well-formed code costs the same whether the user has
 * five codes left, two, none, or no record at all. */
int emergency_find(const struct record *r, const char *code, unsigned min_hashes,
		   int *slot, struct totp_err *err);

/* How many unused codes remain. */
unsigned emergency_remaining(const struct record *r);

#endif
