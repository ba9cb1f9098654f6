/*
 * secret: random secrets and their base32 form (RFC 4648, no padding).
 *
 * A secret is as long as the HMAC's output (20 bytes for SHA1, 32 for
 * SHA256, 64 for SHA512), from getrandom(), which is retried until it has
 * given every byte.  Callers wipe secrets with explicit_bzero.
 */
#ifndef TOTP_SECRET_H
#define TOTP_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "otp.h"

#define SECRET_MAX 64
/* base32 of SECRET_MAX bytes, and a NUL */
#define SECRET_B32_MAX 104

/* The secret length RFC 4226/6238 advise for alg (the hash's output):
 * 20, 32 or 64 bytes. */
size_t secret_len_for(enum otp_alg alg);

/* Fills buf[0..len) with random bytes from getrandom(). */
int secret_generate(uint8_t *buf, size_t len, struct totp_err *err);

/* Encodes without padding; 20 bytes give 32 characters.  Fails (TOTP_R_INVALID)
 * when `out` is too small: it needs ceil(len * 8 / 5) + 1 bytes. */
int base32_encode(const uint8_t *in, size_t len, char *out, size_t outsz,
		  struct totp_err *err);

/* Decodes base32 in either case; spaces and trailing '=' padding are
 * ignored (people and other tools write them).  Any other character,
 * leftover bits that are not zero, or more than `outsz` bytes is an error.
 * The decoded length goes to *outlen. */
int base32_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen,
		  struct totp_err *err);

#endif
