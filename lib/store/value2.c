/* value2: a v2 record's GDBM value, an immutable area and two mutable
 * slots (value2.h). */
#include "config.h"

#include <string.h>

#include "bytes.h"
#include "value2.h"

static const uint8_t value2_magic[4] = {'T', 'O', 'T', '2'};

static uint32_t crc32_of(const uint8_t *p, size_t n)
{
	return crc32_end(crc32_add(CRC32_INIT, p, n));
}

/* A slot's CRC: its generation, its length and its mutable bytes. */
static uint32_t slot_crc(const uint8_t *slot, size_t len)
{
	uint32_t crc = crc32_add(CRC32_INIT, slot, 8);

	crc = crc32_add(crc, slot + 12, 2);
	return crc32_end(crc32_add(crc, slot + VALUE2_SLOT_HEAD, len));
}

bool value2_is(const uint8_t *v, size_t n)
{
	return v != NULL && n >= VALUE2_HEAD && memcmp(v, value2_magic, 4) == 0;
}

struct layout {
	size_t imm, room, slot0, slot_size;
};

static int layout_of(const uint8_t *v, size_t n, struct layout *l, struct totp_err *err)
{
	if (!value2_is(v, n))
		return totp_err_set(err, TOTP_R_CORRUPT, "the value is not a v2 value");
	if (v[4] > VALUE2_VERSION)
		return totp_err_set(err, TOTP_R_VERSION,
				    "the value is of version %u, this build reads up to "
				    "%d: upgrade pam_totp",
				    (unsigned)v[4], VALUE2_VERSION);
	if (v[4] != VALUE2_VERSION || v[5] != 0)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "the value has version %u and flags %u",
				    (unsigned)v[4], (unsigned)v[5]);
	l->imm = (size_t)be_get(v + 6, 2);
	l->room = (size_t)be_get(v + 8, 2);
	if (l->imm > RECORD_IMMUTABLE_MAX || l->room > RECORD_MUTABLE_MAX ||
	    n != VALUE2_SIZE(l->imm, l->room))
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "the value's size (%zu bytes) is not its header's",
				    n);
	l->slot0 = VALUE2_HEAD + l->imm + 4;
	l->slot_size = VALUE2_SLOT_HEAD + l->room;
	return 0;
}

/* The generation a slot claims, 0 for an empty or impossible one. */
static uint64_t slot_claim(const uint8_t *slot, size_t room)
{
	if ((size_t)be_get(slot + 12, 2) > room)
		return 0;
	return be_get(slot, 8);
}

static bool slot_whole(const uint8_t *slot)
{
	return slot_crc(slot, (size_t)be_get(slot + 12, 2)) ==
	       (uint32_t)be_get(slot + 8, 4);
}

/* The newest whole slot, 0 or 1, or -1; its generation (or the highest
 * claimed, to go on past a broken one) in *gen. */
static int newest(const uint8_t *v, const struct layout *l, uint64_t *gen)
{
	const uint8_t *s[2] = {v + l->slot0, v + l->slot0 + l->slot_size};
	uint64_t g[2] = {slot_claim(s[0], l->room), slot_claim(s[1], l->room)};
	int first = g[1] > g[0] ? 1 : 0;

	for (int k = 0; k < 2; k++) {
		int i = k == 0 ? first : 1 - first;

		if (g[i] != 0 && slot_whole(s[i])) {
			*gen = g[i];
			return i;
		}
	}
	*gen = g[0] > g[1] ? g[0] : g[1];
	return -1;
}

int value2_read(const uint8_t *v, size_t n, const uint8_t **imm, size_t *imm_len,
		const uint8_t **mut, size_t *mut_len, struct totp_err *err)
{
	struct layout l;
	uint64_t gen;
	int i;

	if (layout_of(v, n, &l, err) != 0)
		return -1;
	if (crc32_of(v, VALUE2_HEAD + l.imm) !=
	    (uint32_t)be_get(v + VALUE2_HEAD + l.imm, 4))
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "the record's immutable part is damaged (CRC)");
	i = newest(v, &l, &gen);
	if (i < 0)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "neither copy of the record's mutable part is whole");
	*imm = v + VALUE2_HEAD;
	*imm_len = l.imm;
	*mut = v + l.slot0 + (size_t)i * l.slot_size + VALUE2_SLOT_HEAD;
	*mut_len = (size_t)be_get(v + l.slot0 + (size_t)i * l.slot_size + 12, 2);
	return 0;
}

/* Whether old is a whole v2 value with this immutable area and room. */
static bool same_immutable(const uint8_t *old, size_t n_old, const uint8_t *imm,
			   size_t imm_len, size_t room)
{
	struct layout l;

	if (old == NULL || layout_of(old, n_old, &l, NULL) != 0 || l.imm != imm_len ||
	    l.room != room)
		return false;
	return memcmp(old + VALUE2_HEAD, imm, imm_len) == 0 &&
	       crc32_of(old, VALUE2_HEAD + l.imm) ==
		   (uint32_t)be_get(old + VALUE2_HEAD + l.imm, 4);
}

int value2_write(uint8_t *out, size_t *out_len, const uint8_t *old, size_t n_old,
		 const uint8_t *imm, size_t imm_len, const uint8_t *mut, size_t mut_len,
		 size_t room, bool *same, struct totp_err *err)
{
	struct layout l = {imm_len, room, VALUE2_HEAD + imm_len + 4,
			   VALUE2_SLOT_HEAD + room};
	size_t n = VALUE2_SIZE(imm_len, room);
	uint64_t gen = 0;
	int cur = -1;
	uint8_t *slot;

	if (imm_len > RECORD_IMMUTABLE_MAX || room > RECORD_MUTABLE_MAX || mut_len > room)
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "a record's areas (%zu, %zu of %zu bytes) do not fit "
				    "a value",
				    imm_len, mut_len, room);
	*same = same_immutable(old, n_old, imm, imm_len, room);
	if (*same) {
		memcpy(out, old, n);
		cur = newest(old, &l, &gen);
	} else {
		memset(out, 0, n);
		memcpy(out, value2_magic, 4);
		out[4] = VALUE2_VERSION;
		be_put(out + 6, imm_len, 2);
		be_put(out + 8, room, 2);
		memcpy(out + VALUE2_HEAD, imm, imm_len);
		be_put(out + VALUE2_HEAD + imm_len, crc32_of(out, VALUE2_HEAD + imm_len),
		       4);
	}
	/* the other slot than the newest whole one; slot A when none is */
	slot = out + l.slot0 + (size_t)(cur == 0 ? 1 : 0) * l.slot_size;
	memset(slot, 0, l.slot_size);
	be_put(slot, gen + 1, 8);
	be_put(slot + 12, mut_len, 2);
	memcpy(slot + VALUE2_SLOT_HEAD, mut, mut_len);
	be_put(slot + 8, slot_crc(slot, mut_len), 4);
	*out_len = n;
	return 0;
}
