/* slot: two checksummed slots per value, so a torn write keeps the old
 * record (slot.h). */
#include "config.h"

#include <string.h>

#include "bytes.h"
#include "slot.h"

/* GDBM gives a new value whole blocks (4 KiB on most filesystems) and
 * wastes what is left over when no other value fits in it: a value and a
 * user name of up to 512 bytes must fit in one block, or each user's
 * record takes two. */
_Static_assert(SLOT_VALUE_SIZE + 512 <= 4096, "a slotted value must fit a 4 KiB block");

static const uint8_t slot_magic[4] = {'T', 'O', 'T', 'S'};
#define SLOT_VERSION 1

/* CRC-32 of a slot's head (generation and length) and its record. */
static uint32_t slot_crc(const uint8_t *slot, size_t len)
{
	uint32_t crc = crc32_add(CRC32_INIT, slot, 12);

	return crc32_end(crc32_add(crc, slot + SLOT_HEAD, len));
}

static const uint8_t *slot_at(const uint8_t *v, int i)
{
	return v + SLOT_VALUE_HEAD + (size_t)i * SLOT_SIZE;
}

/* The generation a slot claims, 0 for an empty one. */
static uint64_t slot_claim(const uint8_t *slot)
{
	uint32_t len = (uint32_t)be_get(slot + 8, 4);

	if (len == 0 || len > RECORD_V1_ENCODED_LARGEST)
		return 0;
	return be_get(slot, 8);
}

static bool slot_whole(const uint8_t *slot)
{
	return slot_crc(slot, (size_t)be_get(slot + 8, 4)) ==
	       (uint32_t)be_get(slot + 12, 4);
}

bool slot_value_is(const uint8_t *v, size_t n)
{
	return v != NULL && n == SLOT_VALUE_SIZE &&
	       memcmp(v, slot_magic, sizeof(slot_magic)) == 0;
}

/* Which slot is the newest whole one: 0 or 1, or -1 when neither is.
 * The newer claim is checked first; the other only when it is broken. */
static int newest(const uint8_t *v, uint64_t *gen)
{
	uint64_t g[2] = {slot_claim(slot_at(v, 0)), slot_claim(slot_at(v, 1))};
	int first = g[1] > g[0] ? 1 : 0;

	for (int k = 0; k < 2; k++) {
		int i = k == 0 ? first : 1 - first;

		if (g[i] != 0 && slot_whole(slot_at(v, i))) {
			*gen = g[i];
			return i;
		}
	}
	*gen = g[0] > g[1] ? g[0] : g[1]; /* go on past a broken claim */
	return -1;
}

int slot_value_read(const uint8_t *v, size_t n, const uint8_t **rec, size_t *len,
		    struct totp_err *err)
{
	uint64_t gen;
	int i;

	if (!slot_value_is(v, n))
		return totp_err_set(err, TOTP_R_CORRUPT, "the value is not slotted");
	if (v[4] != SLOT_VERSION)
		return totp_err_set(err, TOTP_R_VERSION,
				    "the value is of slot version %u, this build reads "
				    "%d: upgrade pam_totp",
				    (unsigned)v[4], SLOT_VERSION);
	i = newest(v, &gen);
	if (i < 0)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "neither copy of the record is whole");
	*rec = slot_at(v, i) + SLOT_HEAD;
	*len = (size_t)be_get(slot_at(v, i) + 8, 4);
	return 0;
}

int slot_value_write(uint8_t *out, const uint8_t *old, const uint8_t *rec, size_t len,
		     struct totp_err *err)
{
	uint64_t gen = 0;
	int cur = -1;
	uint8_t *slot;

	if (len == 0 || len > RECORD_V1_ENCODED_LARGEST)
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "a record of %zu bytes does not fit a slot", len);
	if (old != NULL && slot_value_is(old, SLOT_VALUE_SIZE)) {
		memcpy(out, old, SLOT_VALUE_SIZE);
		cur = newest(old, &gen);
	} else {
		memset(out, 0, SLOT_VALUE_SIZE);
	}
	memcpy(out, slot_magic, sizeof(slot_magic));
	out[4] = SLOT_VERSION;
	/* the other slot than the newest whole one; slot 0 when none is */
	slot = out + SLOT_VALUE_HEAD + (size_t)(cur == 0 ? 1 : 0) * SLOT_SIZE;
	memset(slot, 0, SLOT_SIZE);
	be_put(slot, gen + 1, 8);
	be_put(slot + 8, len, 4);
	memcpy(slot + SLOT_HEAD, rec, len);
	be_put(slot + 12, slot_crc(slot, len), 4);
	return 0;
}
