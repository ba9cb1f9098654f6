/*
 * bytes: the byte-level pieces every on-disk format here shares:
 * big-endian integers and CRC-32 (IEEE 802.3, reflected; the one zlib
 * and GDBM's users know).  Pure functions, no state.
 */
#ifndef TOTP_BYTES_H
#define TOTP_BYTES_H

#include <stddef.h>
#include <stdint.h>

/* The n (1-8) bytes at p as a big-endian number. */
uint64_t be_get(const uint8_t *p, size_t n);

/* Writes the low n (1-8) bytes of v at p, big-endian. */
void be_put(uint8_t *p, uint64_t v, size_t n);

/* CRC-32 in parts: start with CRC32_INIT, feed each part to crc32_add,
 * finish with crc32_end.  A byte a step (a 256-entry table: a login
 * checks the CRCs of its whole value). */
#define CRC32_INIT 0xFFFFFFFFU
uint32_t crc32_add(uint32_t crc, const uint8_t *p, size_t n);
static inline uint32_t crc32_end(uint32_t crc)
{
	return ~crc;
}

#endif
