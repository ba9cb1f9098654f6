/*
 * record: one user's generator, as stored under the user's name in a
 * realm database, and its versioned byte encoding.
 *
 * Encoding (version 1), all integers big-endian:
 *   "TOTP" magic, u8 version, then the fields below in order; strings and
 *   the secret as u8 length + bytes; emergency hashes as u8 count, then
 *   each as u8 length + bytes (length 0: used up).
 * The decoder checks every length against the end of the value and every
 * enum against its range, and refuses trailing bytes: it never reads past
 * the value and never crashes.  An event's service and remote host are
 * printable ASCII (0x20-0x7e): the encoder writes '?' for any other byte,
 * the decoder refuses one (issue 18: terminal escapes).  An emergency
 * hash is of one format (RECORD_HASH_PREFIX below).  A record of a newer
 * version is refused with TOTP_R_VERSION, a malformed one with
 * TOTP_R_CORRUPT.
 */
#ifndef TOTP_RECORD_H
#define TOTP_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "otp.h"
#include "secret.h"

#define RECORD_VERSION 1
#define RECORD_EMERGENCY_MAX 10 /* google-authenticator's most, too */
#define RECORD_HASH_MAX 96	/* a crypt(3) hash (yescrypt: 73) and its NUL */
/* The one emergency-code hash this build writes, and the only one a record
 * may hold (issue 18): yescrypt at libxcrypt's cost 5 ("j9T", libxcrypt's
 * default), a 22-character salt and a 43-character hash, 73 bytes.  Any
 * other method or cost (bcrypt, "$y$jGT$", a malformed hash) would let a
 * user's own store make the login hash for seconds, or days; the codec
 * refuses it (encode: TOTP_R_INVALID, decode: TOTP_R_CORRUPT).  An empty
 * hash is a used-up code. */
#define RECORD_HASH_PREFIX "$y$j9T$"
#define RECORD_HASH_COST 5
#define RECORD_HASH_LEN 73
#define RECORD_SERVICE_MAX 64 /* PAM service name and its NUL, cut */
#define RECORD_RHOST_MAX 256  /* remote host and its NUL, cut */
/* An upper bound of the encoded size, for buffers. */
#define RECORD_ENCODED_MAX 8192
/* The exact size of the largest record (every string and the secret at
 * their longest, RECORD_EMERGENCY_MAX hashes): magic and version 5, the
 * fixed fields 10 + SECRET_MAX, the counters 44, two events of 8 + 1 +
 * (SERVICE_MAX - 1) + 1 + (RHOST_MAX - 1), the hashes 1 + MAX * HASH_MAX.
 * The store keeps every record in a slot this large (store.c); two of
 * them must fit with the key in one 4 KiB GDBM block, or each user takes
 * two (GDBM rounds a new value up to whole blocks). */
#define RECORD_ENCODED_LARGEST                                                           \
	(5 + 10 + SECRET_MAX + 44 + 2 * (8 + RECORD_SERVICE_MAX + RECORD_RHOST_MAX) +    \
	 1 + RECORD_EMERGENCY_MAX * RECORD_HASH_MAX)

enum record_state {
	RECORD_PENDING = 1, /* registered, not yet verified: never lets anyone in */
	RECORD_READY = 2,   /* verified: logins are checked against it */
	RECORD_REMOVED = 3, /* removed: a tombstone keeping the sequence */
};

struct record_event {
	int64_t time; /* unix seconds, 0: never */
	char service[RECORD_SERVICE_MAX];
	char rhost[RECORD_RHOST_MAX];
};

struct record {
	enum record_state state;
	struct otp_params params;
	uint8_t window; /* 0: the realm's; else this user's window */
	uint8_t secret[SECRET_MAX];
	uint8_t secret_len;
	/* TOTP: the last accepted time step (0: none yet).
	 * HOTP: the next expected counter. */
	uint64_t counter;
	uint32_t failures;	/* consecutive failed checks */
	int64_t locked_until;	/* unix seconds; 0: not locked */
	uint64_t sequence;	/* events on this generator, ZITADEL's sequence */
	int64_t change_date_ms; /* unix milliseconds of the last event */
	int64_t created;	/* unix seconds of the registration */
	struct record_event last_success;
	struct record_event last_failure;
	uint8_t emergency_count; /* hashes in use, used-up ones included */
	char emergency[RECORD_EMERGENCY_MAX][RECORD_HASH_MAX]; /* "": used */
};

/* Counts one event on the generator (registered, verified, check succeeded
 * or failed, locked, unlocked, removed): sequence + 1, change_date_ms. */
void record_add_event(struct record *r, int64_t now_ms);

/* Encodes into buf (at least RECORD_ENCODED_MAX bytes); length in *len. */
int record_encode(const struct record *r, uint8_t *buf, size_t bufsz, size_t *len,
		  struct totp_err *err);

/* Decodes `len` bytes into *r (zeroed first). */
int record_decode(const uint8_t *buf, size_t len, struct record *r, struct totp_err *err);

/* Whether `h` (NUL-terminated) is a hash of the one format above. */
bool record_hash_wellformed(const char *h);

/* Wipes the whole record (secret and hashes) with explicit_bzero. */
void record_wipe(struct record *r);

const char *record_state_name(enum record_state s); /* "pending", ... */

#endif
