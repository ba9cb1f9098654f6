/*
 * fuzz_gdbm_file: a login's direct read of a GDBM file (lib/store/
 * gdbm_file.h) on arbitrary bytes.
 *
 * A user store is the user's file, read by the module as root: any bytes
 * at all.  The input is the file (the seeds are databases GDBM made, keys
 * "user0" to "user39"); each of those keys, and one taken from the
 * input's last bytes, is looked up with the file's start in head and
 * with the header alone.  Nothing may be read outside the file (ASan);
 * an answer is FOUND, MISSING or ASK_GDBM; FOUND only where the file
 * holds the whole key followed by the value, inside the file; and both
 * ways of reading give the same answer.
 *
 * The seeds, fuzz/corpus/fuzz_gdbm_file/db-BLOCK-KEYS, were made by
 * libgdbm 1.23: gdbm_open with that block size, keys "user0" on, the
 * i-th value (i * 31) % 64, 200 or 300 bytes long.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "gdbm_file.h"

static struct gdbm_file g_file;

/* One look-up, `have` bytes of the file in head: its answer. */
static int look(const uint8_t *data, size_t size, size_t have, const uint8_t *key,
		size_t key_len, uint8_t **value, struct gdbm_file_spot *spot)
{
	int rc;

	g_file.have = have < size ? have : size;
	if (g_file.have > sizeof(g_file.head))
		g_file.have = sizeof(g_file.head);
	memcpy(g_file.head, data, g_file.have);
	rc = gdbm_file_find(&g_file, key, key_len, 4096, value, spot);
	FUZZ_CHECK(rc == GDBM_FILE_FOUND || rc == GDBM_FILE_MISSING ||
		   rc == GDBM_FILE_ASK_GDBM);
	if (rc == GDBM_FILE_FOUND) {
		FUZZ_CHECK(spot->at >= (off_t)key_len);
		FUZZ_CHECK((size_t)spot->at + spot->len <= size);
		FUZZ_CHECK(memcmp(data + spot->at - key_len, key, key_len) == 0);
		FUZZ_CHECK(memcmp(data + spot->at, *value, spot->len) == 0);
	}
	return rc;
}

static void look_both(const uint8_t *data, size_t size, const uint8_t *key,
		      size_t key_len)
{
	uint8_t *a = NULL, *b = NULL;
	struct gdbm_file_spot sa, sb;
	int ra = look(data, size, sizeof(g_file.head), key, key_len, &a, &sa);
	int rb = look(data, size, GDBM_FILE_HEADER, key, key_len, &b, &sb);

	FUZZ_CHECK(ra == rb);
	if (ra == GDBM_FILE_FOUND)
		FUZZ_CHECK(sa.at == sb.at && sa.len == sb.len);
	free(a);
	free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz_gdbm_file", MFD_CLOEXEC);
	char key[16];

	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size);
	g_file.fd = fd;
	g_file.size = (off_t)size;
	for (unsigned i = 0; i < 40; i++) {
		int n = snprintf(key, sizeof(key), "user%u", i);

		look_both(data, size, (const uint8_t *)key, (size_t)n);
	}
	if (size > 0) {
		size_t n = 1 + data[size - 1] % 16;

		if (n < size)
			look_both(data, size, data + size - 1 - n, n);
	}
	close(fd);
	return 0;
}
