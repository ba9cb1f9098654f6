/*
 * gdbm_file: GDBM 1.23's on-disk format, read for one key without GDBM, so
 * that a login finds its record with three reads (the directory's entry,
 * the bucket, the key and value) and rewrites it with one write, where
 * GDBM's open, fetch, store and close take about twenty system calls and
 * a cache they fill for one record.
 *
 * Only the standard format of a 64-bit off_t (magic 0x13579acf, the one
 * GDBM 1.23 makes without GDBM_NUMSYNC) is read.  For anything else, and
 * for anything that does not add up (a bucket outside the file, a count
 * past the bucket's table, a key or value that runs past the file's end),
 * the answer is GDBM_FILE_ASK_GDBM: the caller hands the file to GDBM,
 * which reads it or says what is wrong with it, as before.
 *
 * Nothing here changes GDBM's structures.  gdbm_file_rewrite writes a
 * value's own bytes, in place, at the same size: GDBM's buckets hold the
 * value's place and size, never its bytes, so the file stays the database
 * GDBM made, with a new value.  The caller holds the store's lock.
 */
#ifndef TOTP_GDBM_FILE_H
#define TOTP_GDBM_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* gdbm_file_find's answers, besides -1 (a read failed: errno) */
#define GDBM_FILE_MISSING 0
#define GDBM_FILE_FOUND 1
#define GDBM_FILE_ASK_GDBM 2

/* Where a value sits in the file. */
struct gdbm_file_spot {
	off_t at;   /* the value's first byte */
	size_t len; /* its size */
};

/* GDBM's 31-bit hash of a key (its _gdbm_hash: bytes as signed chars). */
uint32_t gdbm_file_hash(const uint8_t *key, size_t len);

/* The first bytes of a GDBM header: what gdbm_file_find reads of it. */
#define GDBM_FILE_HEADER 40

/* Whether the header is one gdbm_file_find reads (the format, and sizes
 * that fit in a file of `size` bytes). */
bool gdbm_file_header_ok(const uint8_t header[GDBM_FILE_HEADER], off_t size);

/* Looks `key` up in the database open at fd (`size`: the file's, from the
 * fstat its open checked; `header`: its first GDBM_FILE_HEADER bytes).  FOUND: *value is
 * a malloc'd copy of the value (the caller wipes and frees it) and *spot where it sits.
 * A value longer than max_value is ASK_GDBM. */
int gdbm_file_find(int fd, off_t size, const uint8_t header[GDBM_FILE_HEADER],
		   const uint8_t *key, size_t key_len, size_t max_value, uint8_t **value,
		   struct gdbm_file_spot *spot);

/* Writes the bytes where `now` differs from `before` (both spot->len
 * long, `before` what the file holds at spot) with one pwrite.  0, or -1
 * with errno (EIO for a short write). */
int gdbm_file_rewrite(int fd, const struct gdbm_file_spot *spot, const uint8_t *before,
		      const uint8_t *now);

#endif
