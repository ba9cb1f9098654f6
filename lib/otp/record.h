/*
 * record: one user's generators (at most 4), lockout, emergency codes and
 * events, as stored under the user's name in a realm database, and its
 * versioned byte encoding (docs/record-v2.md; the layout is below).
 *
 * The decoder never reads past the value and never crashes.  An event's
 * service and remote host are printable ASCII (0x20-0x7e): the encoder
 * writes '?' for any other byte and cuts them at 31 and 63 bytes, the
 * decoder refuses one (issue 18: terminal escapes).  A record of a newer
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

#define RECORD_VERSION 2
#define RECORD_GENERATORS_MAX 4 /* docs/record-v2.md: phone, spare, token, one more */
#define RECORD_NAME_MAX 17	/* [a-z0-9._-]{1,16} and its NUL */
#define RECORD_DEFAULT_NAME "default"
#define RECORD_DRIFT_MAX 10	/* |drift| in steps (RFC 6238 section 6) */
#define RECORD_EMERGENCY_MAX 10 /* google-authenticator's most, too */
#define RECORD_SALT_LEN 16	/* a yescrypt salt, binary (22 crypt64 chars) */
#define RECORD_DIGEST_LEN 16	/* the first 16 bytes of the yescrypt hash */
#define RECORD_GRACE_MAX 4	/* grace hosts kept (format only, issue 17) */
#define RECORD_GRACE_KEY_LEN 16 /* HMAC-SHA256(secret, rhost), truncated */
#define RECORD_SERVICE_MAX 32	/* PAM service name (31 bytes) and its NUL */
#define RECORD_RHOST_MAX 64	/* remote host (63 bytes) and its NUL */
/* Which generator an event was: 0..RECORD_GENERATORS_MAX-1, or these. */
#define RECORD_BY_NONE 0xff
#define RECORD_BY_EMERGENCY 0xfe
/* Version 1's emergency hash (the string form v1 records hold and this
 * codec converts): yescrypt at libxcrypt's cost 5 ("j9T"), a 22-character
 * salt and a 43-character hash, 73 bytes.  Version 2 keeps the salt and
 * the first RECORD_DIGEST_LEN bytes of the hash, binary: the method and
 * cost are the format's, so nothing in a record can make a login hash
 * longer (issue 18). */
#define RECORD_HASH_MAX 96 /* a v1 crypt(3) hash and its NUL */
#define RECORD_HASH_PREFIX "$y$j9T$"
#define RECORD_HASH_COST 5
#define RECORD_HASH_LEN 73
/* Version 1's largest encoding (SERVICE 64, RHOST 256, HASH 96): the
 * size of a v1 slot, which slot.c must still recognise. */
#define RECORD_V1_ENCODED_LARGEST                                                        \
	(5 + 10 + SECRET_MAX + 44 + 2 * (8 + 64 + 256) + 1 + RECORD_EMERGENCY_MAX * 96)

/*
 * Encoding (version 2), all integers big-endian:
 *   "TOTP", u8 version 2, u16 immutable length, immutable area,
 *   u16 mutable length, mutable area.
 * The immutable area changes only at register, verify, remove, `codes`
 * and a new generator; the mutable area at every login:
 *   immutable: u8 n (1..4) generators of {u8 len + name, u8 state, u8
 *     type, u8 alg, u8 digits, u32 period, u8 window, u8 len + secret,
 *     u64 created}; u8 emergency count, each code salt[16] + digest[16].
 *   mutable: u8 n (= the immutable n), per generator {u64 counter, i8
 *     drift, u64 last used}; u32 failures, u64 locked_until, u64
 *     sequence, u64 change_date_ms, u16 used bits of the codes; last
 *     success and last failure {u64 time, u8 by, u8 len + service, u8
 *     len + rhost}; u8 n grace hosts of {key[16], u64 time}.
 * In memory the name RECORD_DEFAULT_NAME is "" (the encoder writes it,
 * the decoder gives ""), so that a record made with one unnamed
 * generator reads back byte for byte.
 * Version 1 ("TOTP", 1: one generator, codes as crypt strings) decodes
 * into generator 0, "default"; its hashes convert (an empty one is
 * a used code).  The decoder checks every length against the end of its
 * area and every enum against its range and refuses trailing bytes.
 */
#define RECORD_IMMUTABLE_MAX                                                             \
	(1 +                                                                             \
	 RECORD_GENERATORS_MAX * (1 + 16 + 1 + 1 + 1 + 1 + 4 + 1 + 1 + SECRET_MAX + 8) + \
	 1 + RECORD_EMERGENCY_MAX * (RECORD_SALT_LEN + RECORD_DIGEST_LEN))
#define RECORD_MUTABLE_GEN 17 /* a generator's counter, drift, last used */
#define RECORD_MUTABLE_FIXED                                                             \
	(1 + 4 + 8 + 8 + 8 + 2 +                                                         \
	 2 * (8 + 1 + 1 + (RECORD_SERVICE_MAX - 1) + 1 + (RECORD_RHOST_MAX - 1)) + 1 +   \
	 RECORD_GRACE_MAX * (RECORD_GRACE_KEY_LEN + 8))
/* The largest mutable area of a record of n generators. */
#define RECORD_MUTABLE_MAX_FOR(n) (RECORD_MUTABLE_FIXED + (size_t)(n)*RECORD_MUTABLE_GEN)
#define RECORD_MUTABLE_MAX RECORD_MUTABLE_MAX_FOR(RECORD_GENERATORS_MAX)
/* The exact size of the largest v2 encoding, and a bound for buffers. */
#define RECORD_ENCODED_LARGEST (5 + 2 + RECORD_IMMUTABLE_MAX + 2 + RECORD_MUTABLE_MAX)
#define RECORD_ENCODED_MAX 2048

enum record_state {
	RECORD_PENDING = 1, /* registered, not yet verified: never lets anyone in */
	RECORD_READY = 2,   /* verified: logins are checked against it */
	RECORD_REMOVED = 3, /* removed: a tombstone keeping the sequence */
};

struct record_event {
	int64_t time; /* unix seconds, 0: never */
	uint8_t by;   /* the generator's index, RECORD_BY_EMERGENCY or _NONE */
	char service[RECORD_SERVICE_MAX];
	char rhost[RECORD_RHOST_MAX];
};

/* One emergency code: its yescrypt salt and the start of its hash. */
struct record_code {
	uint8_t salt[RECORD_SALT_LEN];
	uint8_t digest[RECORD_DIGEST_LEN];
};

struct record_grace {
	uint8_t key[RECORD_GRACE_KEY_LEN];
	int64_t time;
};

/* A generator's fields (struct record_gen, and generator 0's view in
 * struct record below). */
#define RECORD_GEN_FIELDS                                                                \
	char name[RECORD_NAME_MAX]; /* "": RECORD_DEFAULT_NAME, as decoded */            \
	enum record_state state;    /* 0: a free entry */                                \
	struct otp_params params;                                                        \
	uint8_t window; /* 0: the realm's; else this generator's window */               \
	uint8_t secret[SECRET_MAX];                                                      \
	uint8_t secret_len;                                                              \
	/* TOTP: the last accepted time step (0: none yet).                              \
	 * HOTP: the next expected counter. */                                           \
	uint64_t counter;                                                                \
	int8_t drift;	   /* steps, |drift| <= RECORD_DRIFT_MAX (issue 17) */           \
	int64_t created;   /* unix seconds of the registration */                        \
	int64_t last_used; /* unix seconds of its last accepted code, 0: never */

struct record_gen {
	RECORD_GEN_FIELDS
};

struct record {
	/* Generators in use are gen[0..n) (state != 0), n <= 4; find one by
	 * name with record_generator. */
	struct record_gen gen[RECORD_GENERATORS_MAX];
	/* per user */
	uint32_t failures;	/* consecutive failed checks, any generator */
	int64_t locked_until;	/* unix seconds; 0: not locked */
	uint64_t sequence;	/* events of this user, ZITADEL's sequence */
	int64_t change_date_ms; /* unix milliseconds of the last event */
	struct record_event last_success;
	struct record_event last_failure;
	uint8_t emergency_count; /* codes in use, used-up ones included */
	uint16_t emergency_used; /* bit i: code i is used up */
	struct record_code emergency[RECORD_EMERGENCY_MAX];
	uint8_t grace_count;
	struct record_grace grace[RECORD_GRACE_MAX];
};

/* How many generators r holds (entries in use from gen[0]). */
unsigned record_generators(const struct record *r);

/* The generator called `name` ("" or NULL: RECORD_DEFAULT_NAME), or NULL. */
struct record_gen *record_generator(struct record *r, const char *name);

/* A generator's name: RECORD_DEFAULT_NAME for "". */
const char *record_gen_name(const struct record_gen *g);

/* Whether `name` is a generator's name, [a-z0-9._-]{1,16} (NULL: the
 * default): 0, or -1 (TOTP_R_INVALID). */
int record_name_check(const char *name, struct totp_err *err);

/* Whether r has a generator that is pending or ready (not a tombstone). */
bool record_live(const struct record *r);

/* The index of the first ready generator, or -1. */
int record_first_ready(const struct record *r);

/* A new, zeroed generator called `name` (NULL: the default) after the
 * others, for the caller to fill (its state last); NULL with
 * TOTP_R_INVALID for a bad name or TOTP_R_TOO_MANY (gRPC
 * RESOURCE_EXHAUSTED) when r holds RECORD_GENERATORS_MAX already.  The
 * caller checks the name is not taken (record_generator). */
struct record_gen *record_generator_add(struct record *r, const char *name,
					struct totp_err *err);

/* Removes generator i (its secret wiped); those after it move down, and
 * the events' `by` follow them (an event of generator i names none). */
void record_generator_remove(struct record *r, unsigned i);

/* The generator a one-line summary shows: the first ready one, else the
 * first (a record always has one, if only a tombstone). */
const struct record_gen *record_primary(const struct record *r);

/* The name of an event's generator: its name, "emergency", or NULL
 * (none, or a failure). */
const char *record_by_name(const struct record *r, uint8_t by);

/* Wipes every generator's secret (explicit_bzero), leaving the rest: what
 * a copy shown or written out holds. */
void record_wipe_secrets(struct record *r);

/* Whether emergency code i is used up. */
bool record_code_used(const struct record *r, unsigned i);

/* The two areas of r (docs/record-v2.md): imm[RECORD_IMMUTABLE_MAX],
 * mut[RECORD_MUTABLE_MAX]; their lengths in *imm_len and *mut_len. */
int record_encode_areas(const struct record *r, uint8_t *imm, size_t *imm_len,
			uint8_t *mut, size_t *mut_len, struct totp_err *err);

/* Decodes the two areas into *r (zeroed first). */
int record_decode_areas(const uint8_t *imm, size_t imm_len, const uint8_t *mut,
			size_t mut_len, struct record *r, struct totp_err *err);

/* A v1 crypt string (record_hash_wellformed) as a v2 code: 0, or -1
 * (TOTP_R_CORRUPT) when its salt is not one yescrypt would read. */
int record_code_from_crypt(const char *h, struct record_code *c, struct totp_err *err);

/* The crypt(3) setting "$y$j9T$<salt>" of a code, NUL-terminated. */
void record_code_setting(const struct record_code *c, char out[RECORD_HASH_MAX]);

/* The digest of a crypt(3) result of the one format (0), or -1. */
int record_digest_from_crypt(const char *h, uint8_t digest[RECORD_DIGEST_LEN]);

/* Counts one event on the generator (registered, verified, check succeeded
 * or failed, locked, unlocked, removed): sequence + 1, change_date_ms. */
void record_add_event(struct record *r, int64_t now_ms);

/* Encodes (version 2) into buf (at least RECORD_ENCODED_MAX bytes); length
 * in *len. */
int record_encode(const struct record *r, uint8_t *buf, size_t bufsz, size_t *len,
		  struct totp_err *err);

/* Decodes `len` bytes (version 1 or 2) into *r (zeroed first). */
int record_decode(const uint8_t *buf, size_t len, struct record *r, struct totp_err *err);

/* Whether `h` (NUL-terminated) is a v1 hash of the one format above. */
bool record_hash_wellformed(const char *h);

/* Wipes the whole record (secret and hashes) with explicit_bzero. */
void record_wipe(struct record *r);

const char *record_state_name(enum record_state s); /* "pending", ... */

#endif
