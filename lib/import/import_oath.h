/*
 * import_oath: a pam_oath users file (users.oath), as liboath's
 * usersfile.c reads it.  One token a line, fields separated by blanks,
 * blank lines and lines starting with '#' skipped:
 *
 *   TYPE USER PASSWORD SECRET_HEX [FACTOR LAST_OTP TIMESTAMP]
 *
 *   TYPE      HOTP, HOTP/E, HOTP/E/6 (event, 6 digits), HOTP/E/7, HOTP/E/8;
 *             HOTP/T30, HOTP/T30/6..8, HOTP/T60, HOTP/T60/6..8 (TOTP with
 *             that period; no digits: 6).  Always SHA1.
 *   PASSWORD  "-" (none) or "+" (checked elsewhere); a static password is
 *             pam_oath's own two-factor scheme, which we do not have.
 *   FACTOR    HOTP: the counter of the last accepted code (liboath stores
 *             start + position of the match), or the admin's starting
 *             counter when the line has no LAST_OTP yet.
 *             TOTP: liboath's "position", the signed offset in steps of
 *             the last accepted code from TIMESTAMP's step.
 *   LAST_OTP  the last accepted code; TIMESTAMP its local time, written
 *             "%Y-%m-%dT%H:%M:%SL" (the L is literal).
 *
 * What is carried over, so that no code accepted by pam_oath is accepted
 * again and the phone keeps working:
 *   - HOTP: with LAST_OTP present, FACTOR was used: next counter FACTOR+1;
 *     without, FACTOR (default 0) was never accepted: next counter FACTOR.
 *   - TOTP: with LAST_OTP present, the last used step is
 *     TIMESTAMP / period + FACTOR, as liboath's own replay check computes
 *     it; ours refuses that step and anything older.  Without, none.
 *   - the window is a pam_oath argument, not in the file: 0 (the realm's).
 *
 * Every line that can be taken is; every line that cannot (unknown type,
 * a missing field, a password other than "-" or "+", a bad user name, bad
 * hex, a secret over SECRET_MAX bytes, a bad factor or timestamp) is
 * reported with its number and skipped.  Deciding that any report aborts
 * the import is the caller's.
 *
 * A user on several lines (pam_oath's several tokens) has several
 * generators (issue 17): the first line's is called RECORD_DEFAULT_NAME,
 * the second's "oath2", the third's "oath3", the fourth's "oath4" (in
 * the entry's `name`).  A user on more than RECORD_GENERATORS_MAX lines
 * is reported on each of them (naming the user) and none is taken.
 */
#ifndef TOTP_IMPORT_OATH_H
#define TOTP_IMPORT_OATH_H

#include <stddef.h>

#include "errors.h"
#include "import.h"

#define IMPORT_OATH_MAX (8 * 1024 * 1024)

struct import_oath_result {
	struct import_entry *entries; /* in file order */
	size_t n_entries;
	struct import_problem *problems; /* in line order */
	size_t n_problems;
};

/* Fills *out (zeroed first).  Returns 0 whatever the lines held; -1 only
 * when the buffer is over IMPORT_OATH_MAX (TOTP_R_INVALID) or memory runs
 * out (TOTP_R_NOMEM), with *out then empty. */
int import_oath_parse(const char *buf, size_t len, struct import_oath_result *out,
		      struct totp_err *err);

/* Wipes every entry and frees; leaves *r empty. */
void import_oath_result_free(struct import_oath_result *r);

#endif
