/* gdbm_file: one key of a GDBM 1.23 file, read and rewritten without GDBM
 * (gdbm_file.h). */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gdbm_file.h"
#include "safe_read.h"

/*
 * The layout: GDBM 1.23's structs (gdbmdefs.h), written as they lie in
 * memory, in the machine's byte order and alignment.  They are mirrored
 * here and in gdbm_file.h (the header) with off_t as int64_t (the 0x13579acf magic says
 * GDBM's off_t is 64 bits), so that the offsets are the compiler's, as they were GDBM's
 * (112 bytes before a bucket's table on x86-64, 84 on i386).
 *
 *   directory:    dir_size bytes at dir, 2^dir_bits off_t, each the place
 *                 of a bucket;
 *   an item:      the key's bytes at data_pointer, the value's after them.
 *
 * A key's hash picks the directory's entry by its top dir_bits bits and
 * its home element in the bucket by hash % bucket_elems; the bucket is
 * probed from there, one element on at a time, until a free one
 * (hash_value -1; GDBM's _gdbm_findkey).
 */
#define GF_HASH_BITS 31
#define GF_KEY_START 4
#define GF_BUCKET_AVAIL 6

struct gdbm_elem_mirror {
	int32_t hash_value;
	char key_start[GF_KEY_START];
	int64_t data_pointer;
	int32_t key_size, data_size;
};

struct gdbm_avail_mirror {
	int32_t av_size;
	int64_t av_adr;
};

struct gdbm_bucket_mirror {
	int32_t av_count;
	struct gdbm_avail_mirror bucket_avail[GF_BUCKET_AVAIL];
	int32_t bucket_bits, count;
	struct gdbm_elem_mirror h_table[1];
};

#define GF_BUCKET_BITS_AT offsetof(struct gdbm_bucket_mirror, bucket_bits)
#define GF_BUCKET_COUNT_AT offsetof(struct gdbm_bucket_mirror, count)
#define GF_BUCKET_TABLE_AT offsetof(struct gdbm_bucket_mirror, h_table)
#define GF_ELEM sizeof(struct gdbm_elem_mirror)
#define GF_AT(type, field) offsetof(struct type, field)

_Static_assert(sizeof(struct gdbm_file_header) <= GDBM_FILE_HEADER,
	       "the header's fields fit in what the store reads of it");

struct gf_header {
	int32_t block_size, dir_size, dir_bits, bucket_elems;
	int64_t dir, next_block;
};

struct gf_elem {
	int32_t hash, key_size, data_size;
	uint8_t key_start[GF_KEY_START];
	int64_t data;
};

static int32_t i32_at(const uint8_t *p)
{
	int32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int64_t i64_at(const uint8_t *p)
{
	int64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

uint32_t gdbm_file_hash(const uint8_t *key, size_t len)
{
	uint32_t v = 0x238F13AFU * (uint32_t)len;

	for (size_t i = 0; i < len; i++) {
		/* GDBM's key bytes are chars, signed on x86: sign-extended */
		uint32_t b = (uint32_t)(int32_t)(int8_t)key[i];

		v = (v + (b << (i * 5 % 24))) & 0x7FFFFFFFU;
	}
	return (1103515243U * v + 12345U) & 0x7FFFFFFFU;
}

/* 1: all n bytes at `at` read (from f->head where it holds them); 0: the
 * file ends first; -1: errno. */
static int read_at(const struct gdbm_file *f, void *buf, size_t n, off_t at)
{
	ssize_t got;

	if (at >= 0 && (uint64_t)at <= f->have && n <= f->have - (size_t)at) {
		memcpy(buf, f->head + at, n);
		return 1;
	}
	got = safe_pread(f->fd, buf, n, at);
	return got < 0 ? -1 : (size_t)got == n;
}

int gdbm_file_load(struct gdbm_file *f, int fd, off_t size)
{
	size_t want = (uint64_t)size <= sizeof(f->head) ? (size_t)size : GDBM_FILE_PEEK;
	ssize_t r = safe_pread(fd, f->head, want, 0);

	f->fd = fd;
	f->size = size;
	f->have = 0;
	if (r < 0)
		return -1;
	f->have = (size_t)r; /* shorter than fstat said: the rest is read as asked */
	return 0;
}

/* The header, when it is one this file reads and it fits in the file. */
static int header_parse(const struct gdbm_file *f, struct gf_header *h)
{
	const uint8_t *b = f->head;
	off_t size = f->size;
	int32_t bucket_size;

	if (f->have < GDBM_FILE_HEADER)
		return GDBM_FILE_ASK_GDBM;

	h->block_size = i32_at(b + GF_AT(gdbm_file_header, block_size));
	h->dir = i64_at(b + GF_AT(gdbm_file_header, dir));
	h->dir_size = i32_at(b + GF_AT(gdbm_file_header, dir_size));
	h->dir_bits = i32_at(b + GF_AT(gdbm_file_header, dir_bits));
	bucket_size = i32_at(b + GF_AT(gdbm_file_header, bucket_size));
	h->bucket_elems = i32_at(b + GF_AT(gdbm_file_header, bucket_elems));
	h->next_block = i64_at(b + GF_AT(gdbm_file_header, next_block));
	if ((uint32_t)i32_at(b + GF_AT(gdbm_file_header, magic)) != GDBM_FILE_MAGIC64 ||
	    h->block_size < GDBM_FILE_BLOCK_MIN || h->next_block > size ||
	    h->dir_bits < 0 || h->dir_bits > GF_HASH_BITS ||
	    (int64_t)h->dir_size != (int64_t)sizeof(int64_t) << h->dir_bits ||
	    h->dir < h->block_size || h->dir > size - h->dir_size ||
	    h->bucket_elems < 1 || bucket_size < 0 ||
	    (size_t)bucket_size < GF_BUCKET_TABLE_AT ||
	    ((size_t)bucket_size - GF_BUCKET_TABLE_AT) / GF_ELEM <
		(size_t)h->bucket_elems)
		return GDBM_FILE_ASK_GDBM;
	return 0;
}

bool gdbm_file_header_ok(const struct gdbm_file *f)
{
	struct gf_header h;

	return header_parse(f, &h) == 0;
}

static void elem_parse(const uint8_t *p, struct gf_elem *e)
{
	e->hash = i32_at(p + GF_AT(gdbm_elem_mirror, hash_value));
	memcpy(e->key_start, p + GF_AT(gdbm_elem_mirror, key_start), GF_KEY_START);
	e->data = i64_at(p + GF_AT(gdbm_elem_mirror, data_pointer));
	e->key_size = i32_at(p + GF_AT(gdbm_elem_mirror, key_size));
	e->data_size = i32_at(p + GF_AT(gdbm_elem_mirror, data_size));
}

/* The bucket holding `hash` (its table, bucket_elems elements), malloc'd. */
static int bucket_read(const struct gdbm_file *f, const struct gf_header *h,
		       uint32_t hash, uint8_t **out)
{
	uint32_t index = h->dir_bits == 0 ? 0 : hash >> (GF_HASH_BITS - h->dir_bits);
	size_t len = GF_BUCKET_TABLE_AT + (size_t)h->bucket_elems * GF_ELEM;
	uint8_t at_bytes[sizeof(int64_t)];
	int64_t at;
	uint8_t *b;
	off_t size = f->size;
	int rc = read_at(f, at_bytes, sizeof(at_bytes),
			 (off_t)(h->dir + (int64_t)index * (int64_t)sizeof(int64_t)));

	if (rc <= 0)
		return rc < 0 ? -1 : GDBM_FILE_ASK_GDBM;
	at = i64_at(at_bytes);
	if (at < h->block_size || at > size || (uint64_t)(size - at) < len)
		return GDBM_FILE_ASK_GDBM;
	b = malloc(len);
	if (b == NULL)
		return -1;
	rc = read_at(f, b, len, (off_t)at);
	if (rc <= 0 || i32_at(b + GF_BUCKET_BITS_AT) > h->dir_bits ||
	    i32_at(b + GF_BUCKET_COUNT_AT) < 0 ||
	    i32_at(b + GF_BUCKET_COUNT_AT) > h->bucket_elems) {
		free(b);
		return rc < 0 ? -1 : GDBM_FILE_ASK_GDBM;
	}
	*out = b;
	return 0;
}

/* One candidate element: FOUND with *value and *spot when its key is
 * `key`, MISSING when it is another key's. */
static int item_read(const struct gdbm_file *f, const struct gf_elem *e,
		     const uint8_t *key, size_t key_len, size_t max_value,
		     uint8_t **value, struct gdbm_file_spot *spot)
{
	off_t size = f->size;
	size_t len;
	uint8_t *b;
	int rc;

	if (e->data < GDBM_FILE_BLOCK_MIN || e->data_size < 0 ||
	    (size_t)e->data_size > max_value || e->data > size ||
	    (uint64_t)(size - e->data) < key_len + (size_t)e->data_size)
		return GDBM_FILE_ASK_GDBM;
	len = key_len + (size_t)e->data_size;
	b = malloc(len != 0 ? len : 1);
	if (b == NULL)
		return -1;
	rc = read_at(f, b, len, (off_t)e->data);
	if (rc <= 0 || memcmp(b, key, key_len) != 0) {
		explicit_bzero(b, len);
		free(b);
		return rc < 0 ? -1 : rc == 0 ? GDBM_FILE_ASK_GDBM : GDBM_FILE_MISSING;
	}
	memmove(b, b + key_len, (size_t)e->data_size);
	explicit_bzero(b + e->data_size, key_len);
	spot->at = (off_t)(e->data + (int64_t)key_len);
	spot->len = (size_t)e->data_size;
	*value = b;
	return GDBM_FILE_FOUND;
}

/* GDBM's probe: from the home element to the first free one. */
static int bucket_probe(const struct gdbm_file *f, const struct gf_header *h,
			const uint8_t *bucket, uint32_t hash, const uint8_t *key,
			size_t key_len, size_t max_value, uint8_t **value,
			struct gdbm_file_spot *spot)
{
	uint32_t n = (uint32_t)h->bucket_elems, home = hash % n, at = home;
	size_t start = key_len < GF_KEY_START ? key_len : GF_KEY_START;

	do {
		struct gf_elem e;

		elem_parse(bucket + GF_BUCKET_TABLE_AT + (size_t)at * GF_ELEM, &e);
		if (e.hash == -1)
			return GDBM_FILE_MISSING;
		if ((uint32_t)e.hash == hash && (size_t)e.key_size == key_len &&
		    memcmp(e.key_start, key, start) == 0) {
			int rc = item_read(f, &e, key, key_len, max_value, value, spot);

			if (rc != GDBM_FILE_MISSING)
				return rc;
		}
		at = (at + 1) % n;
	} while (at != home);
	return GDBM_FILE_MISSING;
}

int gdbm_file_find(const struct gdbm_file *f, const uint8_t *key, size_t key_len,
		   size_t max_value, uint8_t **value, struct gdbm_file_spot *spot)
{
	struct gf_header h;
	uint32_t hash = gdbm_file_hash(key, key_len);
	uint8_t *bucket = NULL;
	int rc = header_parse(f, &h);

	if (rc != 0)
		return rc;
	rc = bucket_read(f, &h, hash, &bucket);
	if (rc != 0)
		return rc;
	rc = bucket_probe(f, &h, bucket, hash, key, key_len, max_value, value, spot);
	free(bucket);
	return rc;
}

int gdbm_file_rewrite(struct gdbm_file *f, const struct gdbm_file_spot *spot,
		      const uint8_t *before, const uint8_t *now)
{
	off_t at;
	size_t first = 0, end = spot->len;

	while (first < end && before[first] == now[first])
		first++;
	while (end > first && before[end - 1] == now[end - 1])
		end--;
	if (first == end)
		return 0;
	at = spot->at + (off_t)first;
	/* what head holds of it too: a later find in this open reads it */
	for (off_t i = at; i < at + (off_t)(end - first) && (uint64_t)i < f->have; i++)
		f->head[i] = now[first + (size_t)(i - at)];
	return safe_pwrite(f->fd, now + first, end - first, at);
}
