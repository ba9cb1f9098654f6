/*
 * import: what the google-authenticator and pam_oath parsers produce
 * (lib/import/import_ga.h, lib/import/import_oath.h), read safely from a file and turned
 * into a ready record.
 *
 * An import keeps the phone already enrolled working: same secret, type,
 * digits, period and, for HOTP, the next counter.  It also carries over
 * what makes an already used code useless (the last accepted time step),
 * so that a code seen by the old module cannot be replayed against the new
 * one.  Nothing here writes a store: the caller decides, all or nothing.
 */
#ifndef TOTP_IMPORT_H
#define TOTP_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emergency.h"
#include "errors.h"
#include "otp.h"
#include "record.h"
#include "secret.h"
#include "store.h"

#define IMPORT_CODES_MAX RECORD_EMERGENCY_MAX
#define IMPORT_MSG_MAX 160

/* One generator taken from a source file. */
struct import_entry {
	char user[USER_NAME_MAX + 1]; /* pam_oath: the user column; GA: "" */
	char name[RECORD_NAME_MAX];   /* the generator's; "": RECORD_DEFAULT_NAME */
	unsigned line;		      /* the source line it came from */
	struct otp_params params;
	unsigned window; /* ours (see each parser); 0: the realm's */
	uint8_t secret[SECRET_MAX];
	size_t secret_len;
	/* HOTP: the next counter the phone will show.
	 * TOTP: the last time step already accepted (0: none known). */
	uint64_t counter;
	int64_t last_used; /* unix seconds of the last accepted code, 0: unknown */
	unsigned n_codes;  /* scratch codes, kept plain only until hashed */
	char codes[IMPORT_CODES_MAX][EMERGENCY_BUF];
};

/* A source line that could not be taken. */
struct import_problem {
	unsigned line;
	char msg[IMPORT_MSG_MAX];
};

/* Wipes the secret and the scratch codes (and the rest). */
void import_entry_wipe(struct import_entry *e);

/*
 * Reads the whole file at `path` into a malloc'd, NUL-terminated buffer,
 * never changing it: opened O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK, it
 * must be a regular file (TOTP_R_SYMLINK, TOTP_R_NOT_REGULAR) of at most
 * `max` bytes (TOTP_R_INVALID).  The caller frees with import_buf_free.
 */
int import_read_file(const char *path, size_t max, char **buf, size_t *len,
		     struct totp_err *err);

/*
 * As import_read_file, but no symbolic link anywhere on the path is
 * followed: the path is walked from "/" (or the working folder) one
 * component at a time with O_NOFOLLOW, as stores are (store.h), ".." is
 * refused, and the file must have one hard link (TOTP_R_SYMLINK,
 * TOTP_R_INVALID, TOTP_R_HARDLINK).  For root reading a file at a path a
 * user may control (issue 18: a user's link to a root-only folder).
 */
int import_read_file_nofollow(const char *path, size_t max, char **buf, size_t *len,
			      struct totp_err *err);

/* Wipes (the file may hold secrets) and frees; NULL is fine. */
void import_buf_free(char *buf, size_t len);

/*
 * A ready record from `e`: its params, window, secret and counter; the
 * scratch codes hashed with emergency_set; created and last_success from
 * the import time and e->last_used; two events (registered, verified) on
 * top of `prev_sequence` (the sequence of a removed record the import
 * replaces, else 0), as a normal enrollment would count them.
 */
int import_to_record(const struct import_entry *e, uint64_t prev_sequence, int64_t now_ms,
		     struct record *out, struct totp_err *err);

/* The n bytes at p as a decimal number no larger than max: digits only,
 * no sign, at most 20 of them, no overflow.  Both source parsers use it. */
bool import_parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out);

#endif
