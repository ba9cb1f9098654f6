/*
 * fuzz_record: the record decoder on arbitrary bytes.
 *
 * A value read from a database may be anything (a damaged file, another
 * program's data).  The decoder must refuse it or accept it without
 * reading a byte past it; what it accepts must encode back to the very
 * same bytes when it is a current record (the encoding is canonical; an
 * older version is written as a current one) and decode again to the same
 * record; what it refuses must leave the record wiped.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "record.h"

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct record r, again;
	static uint8_t buf[RECORD_ENCODED_MAX];
	struct totp_err err;
	size_t len = 0;

	/* a copy of exactly `size` bytes: ASan sees any read past it */
	uint8_t *copy = malloc(size ? size : 1);

	FUZZ_CHECK(copy != NULL);
	memcpy(copy, data, size);
	if (record_decode(copy, size, &r, &err) != 0) {
		FUZZ_CHECK(err.reason == TOTP_R_CORRUPT || err.reason == TOTP_R_VERSION);
		FUZZ_CHECK(all_zero(&r, sizeof(r)));
		free(copy);
		return 0;
	}
	FUZZ_CHECK(record_encode(&r, buf, sizeof(buf), &len, &err) == 0);
	/* a v2 record comes back byte for byte; a v1 record is written as v2,
	 * which must then decode to the same record */
	if (size > 4 && data[4] == RECORD_VERSION)
		FUZZ_CHECK(len == size && memcmp(buf, data, size) == 0);
	FUZZ_CHECK(record_decode(buf, len, &again, &err) == 0);
	FUZZ_CHECK(memcmp(&r, &again, sizeof(r)) == 0);
	record_wipe(&r);
	record_wipe(&again);
	free(copy);
	return 0;
}
