/*
 * gdbm_file: GDBM's own files, read without GDBM, with GDBM as the oracle.
 *
 * Databases are made by libgdbm (several block sizes, enough keys to split
 * buckets and double the directory, keys of 1 to 256 bytes with bytes
 * above 0x7f, which GDBM hashes as signed chars); every key must be FOUND
 * with GDBM's value, never left to GDBM, and keys that are not there
 * MISSING.  A value rewritten in place is what GDBM then reads, and the
 * file is still the database GDBM made.  Every byte of a database's
 * header, directory and buckets spoiled in turn must never read outside
 * the file (ASan watches), nor find a value that is not the key's.
 */
#include "config.h"

#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "gdbm_file.h"

#define KEYS 3000

static char g_dir[PATH_MAX - 32];

/* Key i: its length (1 to 256) and bytes, all from i, some above 0x7f.
 * Each starts with i in a prefix-free code (7 bits a byte, the top bit set
 * on all but the last, each byte xor 0xa5), so no two are the same. */
static size_t key_of(unsigned i, uint8_t out[256])
{
	size_t len = 1 + (i * 7919U) % 256U, m = 0;
	uint32_t x = i * 2654435761U + 1;

	if (i % 3 == 0) /* most keys look like user names */
		return (size_t)snprintf((char *)out, 256, "user%u", i);
	for (unsigned v = i; m == 0 || v != 0; v >>= 7)
		out[m++] = (uint8_t)(((v & 0x7fU) | (v > 0x7fU ? 0x80U : 0)) ^ 0xa5U);
	for (size_t k = m; k < len; k++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out[k] = (uint8_t)(x | (k % 2 == 0 ? 0x80U : 0));
	}
	return len > m ? len : m;
}

/* The longest value + 1: the spoiled file is kept small, so that every
 * byte of it is spoiled in a few seconds. */
static unsigned g_value_cap = 901;

/* Value i: 0 to 900 bytes. */
static size_t value_of(unsigned i, uint8_t out[1024])
{
	size_t len = (i * 31U) % g_value_cap;

	for (size_t k = 0; k < len; k++)
		out[k] = (uint8_t)(i + k);
	return len;
}

static void db_path(char *out, const char *name)
{
	snprintf(out, PATH_MAX, "%s/%s", g_dir, name);
}

/* Makes a database of `n` keys (even ones only when `sparse`) with GDBM. */
static void make(const char *path, int block_size, unsigned n, bool sparse)
{
	GDBM_FILE db = gdbm_open(path, block_size, GDBM_NEWDB | GDBM_NOLOCK, 0600, NULL);

	assert_non_null(db);
	for (unsigned i = 0; i < n; i++) {
		uint8_t k[256], v[1024];
		datum key = {(char *)k, (int)key_of(i, k)};
		datum val = {(char *)v, (int)value_of(i, v)};

		if (sparse && i % 2 == 1)
			continue;
		assert_int_equal(gdbm_store(db, key, val, GDBM_REPLACE), 0);
	}
	assert_int_equal(gdbm_close(db), 0);
}

/* Opens path into f; `head` bytes of it kept in f->head (at most what
 * gdbm_file_load reads), so that the reads past it are tested too. */
static void open_file(const char *path, int flags, size_t head, struct gdbm_file *f)
{
	struct stat st;
	int fd = open(path, flags | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(gdbm_file_load(f, fd, st.st_size), 0);
	if (f->have > head)
		f->have = head;
}

static int find(const struct gdbm_file *f, unsigned i, uint8_t **value,
		struct gdbm_file_spot *spot)
{
	uint8_t k[256];
	size_t len = key_of(i, k);

	return gdbm_file_find(f, k, len, 4096, value, spot);
}

/* Every key GDBM stored is found, with its value, but `except`; the keys
 * not stored are MISSING. */
static void check_heads(const char *path, unsigned n, bool sparse, unsigned except,
			size_t head)
{
	static struct gdbm_file o;

	open_file(path, O_RDONLY, head, &o);
	assert_true(gdbm_file_header_ok(&o));
	for (unsigned i = 0; i < n + 50; i++) {
		uint8_t *value = NULL, want[1024];
		struct gdbm_file_spot spot;
		int rc = find(&o, i, &value, &spot);

		if (i >= n || (sparse && i % 2 == 1)) {
			assert_int_equal(rc, GDBM_FILE_MISSING);
			continue;
		}
		if (rc != GDBM_FILE_FOUND)
			fail_msg("%s: key %u: %d, not found (%zu bytes in head)", path, i,
				 rc, head);
		assert_int_equal(spot.len, value_of(i, want));
		if (i != except)
			assert_memory_equal(value, want, spot.len);
		free(value);
	}
	close(o.fd);
}

/* ... with the whole file in head (up to GDBM_FILE_HEAD), and with the
 * header alone. */
static void check_all_but(const char *path, unsigned n, bool sparse, unsigned except)
{
	check_heads(path, n, sparse, except, GDBM_FILE_HEAD);
	check_heads(path, n, sparse, except, GDBM_FILE_HEADER);
}

static void check_all(const char *path, unsigned n, bool sparse)
{
	check_all_but(path, n, sparse, UINT32_MAX);
}

static void test_found_as_gdbm_stores(void **state)
{
	static const int blocks[] = {512, 1024, 4096};
	char path[PATH_MAX];

	(void)state;
	for (size_t b = 0; b < sizeof(blocks) / sizeof(blocks[0]); b++) {
		snprintf(path, sizeof(path), "%s/found-%d.db", g_dir, blocks[b]);
		make(path, blocks[b], KEYS, false);
		check_all(path, KEYS, false);
		snprintf(path, sizeof(path), "%s/sparse-%d.db", g_dir, blocks[b]);
		make(path, blocks[b], KEYS, true);
		check_all(path, KEYS, true);
	}
	/* one key, and an empty database */
	db_path(path, "one.db");
	make(path, 512, 1, false);
	check_all(path, 1, false);
	db_path(path, "empty.db");
	make(path, 512, 0, false);
	check_all(path, 0, false);
}

/* GDBM's hash, for keys whose value is known from GDBM 1.23 itself. */
static void test_hash(void **state)
{
	(void)state;
	/* an empty key: (1103515243 * 0 + 12345) & 0x7fffffff */
	assert_int_equal(gdbm_file_hash((const uint8_t *)"", 0), 12345);
	/* "a": 0x238F13AF + 97, then the final step */
	assert_int_equal(gdbm_file_hash((const uint8_t *)"a", 1),
			 (1103515243U * ((0x238F13AFU + 97U) & 0x7FFFFFFFU) + 12345U) &
			     0x7FFFFFFFU);
	/* 0xff is -1 as a signed char: the sum goes down by one */
	assert_int_equal(gdbm_file_hash((const uint8_t *)"\xff", 1),
			 (1103515243U * ((0x238F13AFU - 1U) & 0x7FFFFFFFU) + 12345U) &
			     0x7FFFFFFFU);
}

/* A value rewritten in place is GDBM's value from then on; only the
 * bytes that differ are written, and nothing else of the file moves. */
static void test_rewrite(void **state)
{
	char path[PATH_MAX];
	static struct gdbm_file o;
	struct stat before, after;
	unsigned i = 301; /* a value of 301 * 31 % 901 = 291 bytes */
	uint8_t *value = NULL, *now;
	struct gdbm_file_spot spot;
	GDBM_FILE db;
	uint8_t k[256];
	datum key, got;

	(void)state;
	db_path(path, "rewrite.db");
	make(path, 512, 500, false);
	assert_int_equal(stat(path, &before), 0);
	open_file(path, O_RDWR, GDBM_FILE_HEAD, &o);
	assert_int_equal(find(&o, i, &value, &spot), GDBM_FILE_FOUND);
	now = malloc(spot.len);
	assert_non_null(now);
	memcpy(now, value, spot.len);
	now[10] ^= 0x5a;
	now[20] ^= 0xa5;
	assert_int_equal(gdbm_file_rewrite(&o, &spot, value, now), 0);
	assert_int_equal(gdbm_file_rewrite(&o, &spot, now, now), 0); /* no change */
	free(value);
	/* head holds the new bytes too */
	assert_int_equal(find(&o, i, &value, &spot), GDBM_FILE_FOUND);
	assert_memory_equal(value, now, spot.len);
	close(o.fd);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_size, before.st_size);

	db = gdbm_open(path, 0, GDBM_READER | GDBM_NOLOCK, 0, NULL);
	assert_non_null(db);
	key.dptr = (char *)k;
	key.dsize = (int)key_of(i, k);
	got = gdbm_fetch(db, key);
	assert_non_null(got.dptr);
	assert_int_equal(got.dsize, (int)spot.len);
	assert_memory_equal(got.dptr, now, spot.len);
	free(got.dptr);
	gdbm_close(db);
	free(now);
	free(value);
	check_all_but(path, 500, false, i);
}

/* FOUND only where the file holds the key, followed by a value that ends
 * inside the file. */
static void check_found_is_key(const struct gdbm_file *o, unsigned i)
{
	uint8_t *value = NULL, k[256], at[256];
	struct gdbm_file_spot spot;
	size_t len = key_of(i, k);
	int rc = gdbm_file_find(o, k, len, 4096, &value, &spot);

	assert_true(rc == GDBM_FILE_FOUND || rc == GDBM_FILE_MISSING ||
		    rc == GDBM_FILE_ASK_GDBM);
	if (rc != GDBM_FILE_FOUND)
		return;
	assert_true(spot.at >= (off_t)len && spot.at + (off_t)spot.len <= o->size);
	assert_int_equal(pread(o->fd, at, len, spot.at - (off_t)len), (ssize_t)len);
	assert_memory_equal(at, k, len);
	free(value);
}

/* Each byte of a small database spoiled in turn, two ways; looked up with
 * the file in head, and with the header alone (reads past head). */
static void test_spoiled_bytes(void **state)
{
	char path[PATH_MAX];
	static struct gdbm_file o;
	unsigned spoiled = 0;
	size_t full;

	(void)state;
	db_path(path, "spoiled.db");
	g_value_cap = 64;
	make(path, 512, 40, false);
	open_file(path, O_RDWR, GDBM_FILE_HEAD, &o);
	full = o.have;
	for (off_t pos = 0; pos < o.size; pos++) {
		uint8_t was;

		assert_int_equal(pread(o.fd, &was, 1, pos), 1);
		for (int how = 0; how < 2; how++) {
			uint8_t b = how == 0 ? 0xff : (uint8_t)~was;

			if (b == was)
				continue;
			assert_int_equal(pwrite(o.fd, &b, 1, pos), 1);
			if ((size_t)pos < full)
				o.head[pos] = b;
			for (unsigned i = 0; i < 40; i++)
				check_found_is_key(&o, i);
			o.have = GDBM_FILE_HEADER;
			for (unsigned i = 0; i < 40; i++)
				check_found_is_key(&o, i);
			o.have = full;
			assert_int_equal(pwrite(o.fd, &was, 1, pos), 1);
			if ((size_t)pos < full)
				o.head[pos] = was;
			spoiled++;
		}
	}
	close(o.fd);
	print_message("# %u spoiled files of %lld bytes, 40 keys looked up in each\n",
		      spoiled, (long long)o.size);
	check_all(path, 40, false);
	g_value_cap = 901;
}

/* A file cut short: the header says more than the file holds. */
static void test_cut_short(void **state)
{
	char path[PATH_MAX];
	static struct gdbm_file o;
	int fd;

	(void)state;
	db_path(path, "cut.db");
	make(path, 512, 200, false);
	open_file(path, O_RDWR, GDBM_FILE_HEAD, &o);
	fd = o.fd;
	assert_int_equal(ftruncate(fd, o.size / 2), 0);
	assert_int_equal(gdbm_file_load(&o, fd, o.size / 2), 0);
	assert_false(gdbm_file_header_ok(&o));
	for (unsigned i = 0; i < 200; i++)
		check_found_is_key(&o, i);
	/* and when the file ends before what fstat said */
	o.size *= 2;
	o.have = GDBM_FILE_HEADER;
	for (unsigned i = 0; i < 200; i++)
		check_found_is_key(&o, i);
	close(fd);
}

static int setup(void **state)
{
	const char *tmp = getenv("TMPDIR");

	(void)state;
	snprintf(g_dir, sizeof(g_dir), "%s/test_gdbm_file.XXXXXX",
		 tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	return mkdtemp(g_dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash),      cmocka_unit_test(test_found_as_gdbm_stores),
	    cmocka_unit_test(test_rewrite),   cmocka_unit_test(test_spoiled_bytes),
	    cmocka_unit_test(test_cut_short),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
