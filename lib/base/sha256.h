/*
 * sha256: SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), small and
 * self-contained: liboath and libxcrypt export neither.  Used for the
 * keyed grace-host keys of a record (issue 17).  No state outside the
 * caller's context; contexts and intermediate keys are wiped with
 * explicit_bzero.
 */
#ifndef TOTP_SHA256_H
#define TOTP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64

struct sha256_ctx {
	uint32_t h[8];
	uint64_t bytes; /* message length so far */
	uint8_t buf[SHA256_BLOCK];
	size_t used; /* bytes in buf */
};

void sha256_init(struct sha256_ctx *c);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
/* Writes the digest and wipes the context. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);
/* The digest of one buffer. */
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* HMAC-SHA256(key, msg) (RFC 2104; keys longer than a block are hashed
 * first, as the RFC says). */
void hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
		 uint8_t out[SHA256_LEN]);

#endif
