/*
 * gdbm_file: GDBM 1.23's on-disk format, read for one key without GDBM, so
 * that a login finds its record with at most four reads (the file's
 * start, the directory's entry, the bucket, the key and value: one, for a
 * small file) and rewrites it with one write, where GDBM's open, fetch,
 * store and close take about twenty system calls and a cache they fill
 * for one record.
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

/* GDBM 1.23's header starts so on disk, as its struct lies in memory
 * (native byte order and alignment, off_t as int64_t: the magic below
 * says GDBM's off_t is 64 bits); next_block is the file's end as GDBM
 * left it.  The store checks these fields itself (gdbm_store.c). */
struct gdbm_file_header {
	int32_t magic, block_size;
	int64_t dir;
	int32_t dir_size, dir_bits, bucket_size, bucket_elems;
	int64_t next_block;
};

/* The bytes of it the store reads, and the standard format's magic. */
#define GDBM_FILE_HEADER 40
#define GDBM_FILE_MAGIC64 0x13579acfU
/* GDBM never makes a block smaller: a header occupies at least this. */
#define GDBM_FILE_BLOCK_MIN 512
/* A database up to this size is read whole by one read at the open (a
 * shard of a store of up to about 10k users), so that finding a key reads
 * nothing more; of a larger one, its first GDBM_FILE_PEEK bytes: the
 * header's block and, until the buckets have split a few times (a shard
 * of up to about 20 users), the directory and the first buckets, for as
 * much as a read of 512 bytes costs.  Past that, a grown directory and
 * the buckets may be anywhere in the file. */
#define GDBM_FILE_HEAD 16384
#define GDBM_FILE_PEEK 4096

/* A database as this file reads it.  head holds the file's first `have`
 * bytes (what it holds of the records too: wipe it). */
struct gdbm_file {
	int fd;
	off_t size; /* the file's, from the fstat its open checked */
	size_t have;
	uint8_t head[GDBM_FILE_HEAD];
};

/* Where a value sits in the file. */
struct gdbm_file_spot {
	off_t at;   /* the value's first byte */
	size_t len; /* its size */
};

/* GDBM's 31-bit hash of a key (its _gdbm_hash: bytes as signed chars). */
uint32_t gdbm_file_hash(const uint8_t *key, size_t len);

/* Reads the file's first bytes into f (one pread).  0, or -1 with errno. */
int gdbm_file_load(struct gdbm_file *f, int fd, off_t size);

/* Whether f's header is one gdbm_file_find reads (the format, and sizes
 * that fit in the file). */
bool gdbm_file_header_ok(const struct gdbm_file *f);

/* Looks `key` up.  FOUND: *value is a malloc'd copy of the value (the
 * caller wipes and frees it) and *spot where it sits.  A value longer
 * than max_value is ASK_GDBM. */
int gdbm_file_find(const struct gdbm_file *f, const uint8_t *key, size_t key_len,
		   size_t max_value, uint8_t **value, struct gdbm_file_spot *spot);

/* Writes the bytes where `now` differs from `before` (both spot->len
 * long, `before` what the file holds at spot) with one pwrite, and into
 * f->head where it holds them.  0, or -1 with errno (EIO for a write that
 * wrote nothing). */
int gdbm_file_rewrite(struct gdbm_file *f, const struct gdbm_file_spot *spot,
		      const uint8_t *before, const uint8_t *now);

#endif
