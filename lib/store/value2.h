/*
 * value2: how a v2 record sits in a GDBM value (docs/record-v2.md), so
 * that a login rewrites only what a login changes, in place, and a write
 * cut short leaves the record as it was.
 *
 * Only the record's mutable area (record.h: counters, lockout, used
 * codes, events, grace hosts) changes at a login.  A value is
 *
 *   "TOT2", u8 version 2, u8 flags 0, u16 immutable length I, u16 slot
 *   room M, the immutable area (I bytes), u32 CRC-32 of all before it,
 *   slot A, slot B: each u64 generation (0: empty), u32 CRC-32 (of the
 *   generation, the length and the mutable bytes), u16 length, the
 *   mutable area, zeros to M bytes;
 *
 * all big-endian, VALUE2_HEAD + I + 4 + 2 * (VALUE2_SLOT_HEAD + M) bytes.
 * Its size is fixed for the life of the value: M is the largest mutable
 * area of a record with that many generators, and I changes only with a
 * new value.  A write whose immutable area is the stored one's (byte for
 * byte) puts the mutable area in the older or broken slot and leaves the
 * rest of the value as it was: a same-size value, which GDBM rewrites in
 * place, and a torn write spoils at most that slot.  A reader takes the
 * newest whole slot.  Any other write (register, verify, remove, new
 * codes, another generator) is a new value, written by the store through
 * its copy-and-rename path (gdbm_store.h).
 */
#ifndef TOTP_VALUE2_H
#define TOTP_VALUE2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "record.h"

#define VALUE2_VERSION 2
#define VALUE2_HEAD 10
#define VALUE2_SLOT_HEAD 14
#define VALUE2_SIZE(imm, room) (VALUE2_HEAD + (imm) + 4 + 2 * (VALUE2_SLOT_HEAD + (room)))
#define VALUE2_MAX VALUE2_SIZE(RECORD_IMMUTABLE_MAX, RECORD_MUTABLE_MAX)

/* Whether the n bytes at v claim to be a v2 value (magic). */
bool value2_is(const uint8_t *v, size_t n);

/* The areas of a v2 value: the immutable one and the mutable one of the
 * newest whole slot, pointers into v.  TOTP_R_VERSION for a newer value
 * version, TOTP_R_CORRUPT for any damage (a size that is not the
 * header's, an immutable area whose CRC fails, no whole slot). */
int value2_read(const uint8_t *v, size_t n, const uint8_t **imm, size_t *imm_len,
		const uint8_t **mut, size_t *mut_len, struct totp_err *err);

/* Makes in out[VALUE2_MAX] the value holding imm and mut, with slot room
 * `room` (>= mut_len); its size in *out_len.  When `old` (n_old bytes,
 * may be NULL) is a v2 value of the same immutable area and room, the
 * result is `old` with its older or broken slot replaced, one generation
 * on, and *same is true: it has old's size, and may be written in place.
 * Otherwise a first value (slot A, generation 1) and *same false. */
int value2_write(uint8_t *out, size_t *out_len, const uint8_t *old, size_t n_old,
		 const uint8_t *imm, size_t imm_len, const uint8_t *mut, size_t mut_len,
		 size_t room, bool *same, struct totp_err *err);

#endif
