/*
 * slot: how a record sits in the store, so that a write cut short (a
 * process killed, a machine that loses power) leaves the old record.
 *
 * GDBM 1.23 is not crash-safe by itself (without a reflink filesystem for
 * gdbm_failure_atomic): a value of a new size is written to space GDBM
 * has just freed (often the old value's own) before the bucket that
 * points at it, and a new key may split buckets and rewrite the directory
 * and header in several writes.  A process killed between two of those
 * writes leaves a record that does not decode, or a database that GDBM
 * says needs recovery (tests/test_torture.c finds both).  So:
 *
 *   - every value has one fixed size, SLOT_VALUE_SIZE: replacing it, GDBM
 *     reuses the same place and writes only the value's bytes (the bucket
 *     and header stay as they are);
 *   - the value holds two slots; a write puts the new record in the older
 *     slot and leaves the newer one byte for byte as it was, so a write
 *     torn anywhere spoils at most the slot being written;
 *   - each slot has a generation and a CRC-32, and a reader takes the
 *     whole slot of the higher generation.
 * New keys and deletions change GDBM's structure, so the store does those
 * on a copy of the database renamed into place (store.c).
 *
 * Value: "TOTS", u8 version 1, 3 zero bytes, then two slots of
 *   u64 generation (0: empty), u32 length, u32 CRC-32 (of the generation,
 *   length and record bytes), the record (record.h), zeros to the end.
 * A value that is not this (another size or magic) is taken as a bare
 * record encoding, as stored before slots existed or by other tools.
 */
#ifndef TOTP_SLOT_H
#define TOTP_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "record.h"

#define SLOT_HEAD 16
#define SLOT_SIZE (SLOT_HEAD + RECORD_V1_ENCODED_LARGEST)
#define SLOT_VALUE_HEAD 8
#define SLOT_VALUE_SIZE (SLOT_VALUE_HEAD + 2 * SLOT_SIZE)

/* Whether the n bytes at v are a slotted value (size and magic). */
bool slot_value_is(const uint8_t *v, size_t n);

/* The record bytes of the newest whole slot of a slotted value, in
 * *rec and *len; TOTP_R_CORRUPT when neither slot is whole. */
int slot_value_read(const uint8_t *v, size_t n, const uint8_t **rec, size_t *len,
		    struct totp_err *err);

/* Makes in out[SLOT_VALUE_SIZE] the value that follows `old` (a slotted
 * value, or NULL for a first one): `old` with its older or broken slot
 * replaced by the len record bytes, one generation on. */
int slot_value_write(uint8_t *out, const uint8_t *old, const uint8_t *rec, size_t len,
		     struct totp_err *err);

#endif
