/*
 * sha256: FIPS 180-2 SHA-256, one call, for the shard of a user name
 * (shard.h).  Neither libcrypt nor liboath exports one.  Not for secrets:
 * nothing here is wiped.
 */
#ifndef TOTP_SHA256_H
#define TOTP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

#endif
