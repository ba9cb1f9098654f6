/* redo: in-place changes of a GDBM file through a redo journal (redo.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bytes.h"
#include "redo.h"
#include "safe_read.h"
#include "sha256.h"

/*
 * The journal, big-endian:
 *   "TOTPRDO1"          8 bytes
 *   new length          8
 *   runs                4
 *   zero                4
 *   each run: offset 8, length 4, the bytes
 *   SHA-256 of all the above, 32
 */
static const uint8_t redo_magic[8] = {'T', 'O', 'T', 'P', 'R', 'D', 'O', '1'};
#define REDO_HEAD 24
#define REDO_RUN_HEAD 12
#define REDO_CHUNK (64 * 1024) /* read a file this much at a time */

struct jbuf {
	uint8_t *b;
	size_t len, cap;
};

static int jbuf_add(struct jbuf *j, const void *p, size_t n)
{
	if (j->cap - j->len < n) {
		size_t cap = j->cap ? j->cap : 4096;
		uint8_t *nb;

		while (cap - j->len < n)
			cap *= 2;
		nb = realloc(j->b, cap);
		if (nb == NULL)
			return -1;
		j->b = nb;
		j->cap = cap;
	}
	memcpy(j->b + j->len, p, n);
	j->len += n;
	return 0;
}

/* A run being gathered: its start, and where its header is in the journal. */
struct run {
	off_t start;
	size_t head_at;
	uint32_t len;
	int open;
};

static int run_block(struct jbuf *j, struct run *r, off_t at, const uint8_t *b, size_t n,
		     uint32_t *runs)
{
	if (!r->open || r->start + (off_t)r->len != at) {
		uint8_t h[REDO_RUN_HEAD] = {0};

		be_put(h, (uint64_t)at, 8);
		r->head_at = j->len;
		if (jbuf_add(j, h, sizeof(h)) != 0)
			return -1;
		r->start = at;
		r->len = 0;
		r->open = 1;
		(*runs)++;
	}
	if (jbuf_add(j, b, n) != 0)
		return -1;
	r->len += (uint32_t)n;
	be_put(j->b + r->head_at + 8, r->len, 4);
	return 0;
}

/* Adds to the journal every block of [at, at + n) where the files differ. */
static int diff_chunk(struct jbuf *j, struct run *r, off_t at, const uint8_t *oldb,
		      size_t oldn, const uint8_t *newb, size_t newn, uint32_t *runs)
{
	for (size_t k = 0; k < newn; k += REDO_BLOCK) {
		size_t n = newn - k < REDO_BLOCK ? newn - k : REDO_BLOCK;
		bool same = k + n <= oldn && memcmp(oldb + k, newb + k, n) == 0;

		if (same) {
			r->open = 0;
			continue;
		}
		if (run_block(j, r, at + (off_t)k, newb + k, n, runs) != 0)
			return -1;
	}
	return 0;
}

static int make_runs(int old_fd, off_t old_size, int new_fd, off_t new_size,
		     struct jbuf *j, uint32_t *runs)
{
	uint8_t *oldb = malloc(REDO_CHUNK), *newb = malloc(REDO_CHUNK);
	struct run r = {0, 0, 0, 0};
	int rc = -1;

	if (oldb == NULL || newb == NULL) {
		errno = ENOMEM;
		goto out;
	}
	for (off_t at = 0; at < new_size; at += REDO_CHUNK) {
		size_t want =
		    new_size - at < REDO_CHUNK ? (size_t)(new_size - at) : REDO_CHUNK;
		ssize_t on = 0, nn;

		if (at < old_size && (on = safe_pread(old_fd, oldb, want, at)) < 0)
			goto out;
		nn = safe_pread(new_fd, newb, want, at);
		if (nn < 0)
			goto out;
		if ((size_t)nn != want) { /* shorter than its fstat: we hold the lock */
			errno = EIO;
			goto out;
		}
		if (diff_chunk(j, &r, at, oldb, (size_t)on, newb, want, runs) != 0)
			goto out;
	}
	rc = 0;
out: /* both held records, secrets included */
	if (oldb != NULL)
		explicit_bzero(oldb, REDO_CHUNK);
	if (newb != NULL)
		explicit_bzero(newb, REDO_CHUNK);
	free(oldb);
	free(newb);
	return rc;
}

int redo_make(int old_fd, off_t old_size, int new_fd, off_t new_size, uint8_t **out,
	      size_t *len, struct totp_err *err)
{
	struct jbuf j = {NULL, 0, 0};
	uint8_t head[REDO_HEAD] = {0}, sum[SHA256_LEN];
	uint32_t runs = 0;

	*out = NULL;
	*len = 0;
	if (new_size < old_size)
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "a change made the database shorter");
	memcpy(head, redo_magic, sizeof(redo_magic));
	be_put(head + 8, (uint64_t)new_size, 8);
	if (jbuf_add(&j, head, sizeof(head)) != 0 ||
	    make_runs(old_fd, old_size, new_fd, new_size, &j, &runs) != 0) {
		int e = errno;

		if (j.b != NULL)
			explicit_bzero(j.b, j.cap);
		free(j.b);
		return totp_err_errno(err, e, "cannot make the journal of a change");
	}
	be_put(j.b + 16, runs, 4);
	sha256(j.b, j.len, sum);
	if (jbuf_add(&j, sum, sizeof(sum)) != 0) {
		explicit_bzero(j.b, j.cap);
		free(j.b);
		return totp_err_errno(err, ENOMEM, "cannot make the journal of a change");
	}
	*out = j.b;
	*len = j.len;
	return 0;
}

int redo_commit(int lock_fd, const uint8_t *j, size_t len, const char *shown,
		struct totp_err *err)
{
	if (safe_pwrite(lock_fd, j, len, 0) != 0)
		return totp_err_errno(err, errno, "cannot write the journal of %s",
				      shown);
	if (fsync(lock_fd) != 0)
		return totp_err_errno(err, errno, "cannot sync the journal of %s", shown);
	return 0;
}

/* Whether j is a whole journal: its checksum, and every run inside the
 * new length and the buffer. */
static bool whole(const uint8_t *j, size_t len)
{
	uint8_t sum[SHA256_LEN];
	uint64_t size, runs;
	size_t at = REDO_HEAD;

	if (len < REDO_HEAD + SHA256_LEN ||
	    memcmp(j, redo_magic, sizeof(redo_magic)) != 0)
		return false;
	sha256(j, len - SHA256_LEN, sum);
	if (memcmp(sum, j + len - SHA256_LEN, SHA256_LEN) != 0)
		return false;
	size = be_get(j + 8, 8);
	runs = be_get(j + 16, 4);
	if (size > (uint64_t)INT64_MAX)
		return false;
	for (uint64_t i = 0; i < runs; i++) {
		uint64_t off, n;

		if (len - SHA256_LEN - at < REDO_RUN_HEAD)
			return false;
		off = be_get(j + at, 8);
		n = be_get(j + at + 8, 4);
		at += REDO_RUN_HEAD;
		if (n == 0 || n > len - SHA256_LEN - at || off > size || n > size - off)
			return false;
		at += (size_t)n;
	}
	return at == len - SHA256_LEN;
}

int redo_read(int lock_fd, off_t size, size_t max, uint8_t **out, size_t *len,
	      const char *shown, struct totp_err *err)
{
	uint8_t *j;
	ssize_t n;

	*out = NULL;
	*len = 0;
	if (size <= 0)
		return 0;
	if ((uint64_t)size > max)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "the lock file of %s holds %lld bytes, more than any "
				    "journal: it is not ours; move it aside",
				    shown, (long long)size);
	j = malloc((size_t)size);
	if (j == NULL)
		return totp_err_errno(err, ENOMEM, "cannot read the journal of %s",
				      shown);
	n = safe_pread(lock_fd, j, (size_t)size, 0);
	if (n < 0) {
		free(j);
		return totp_err_errno(err, errno, "cannot read the journal of %s", shown);
	}
	if (!whole(j, (size_t)n)) {
		explicit_bzero(j, (size_t)size);
		free(j);
		return 0;
	}
	*out = j;
	*len = (size_t)n;
	return 1;
}

int redo_reserve(int db_fd, off_t old_size, off_t new_size, const char *shown,
		 struct totp_err *err)
{
	if (new_size <= old_size)
		return 0;
	if (fallocate(db_fd, FALLOC_FL_KEEP_SIZE, old_size, new_size - old_size) == 0)
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0; /* no reservation here: a write may still fail, then retried */
	return totp_err_errno(err, errno, "cannot make room to change %s", shown);
}

int redo_apply(int db_fd, const uint8_t *j, size_t len, const char *shown,
	       struct totp_err *err)
{
	uint64_t runs = be_get(j + 16, 4);
	size_t at = REDO_HEAD;

	(void)len; /* checked whole by redo_read, or made by redo_make */
	for (uint64_t i = 0; i < runs; i++) {
		off_t off = (off_t)be_get(j + at, 8);
		size_t n = (size_t)be_get(j + at + 8, 4);

		at += REDO_RUN_HEAD;
		if (safe_pwrite(db_fd, j + at, n, off) != 0)
			return totp_err_errno(err, errno, "cannot change database %s",
					      shown);
		at += n;
	}
	if (fsync(db_fd) != 0)
		return totp_err_errno(err, errno, "cannot sync database %s", shown);
	return 0;
}

int redo_clear(int lock_fd, const char *shown, struct totp_err *err)
{
	if (ftruncate(lock_fd, 0) != 0 || fsync(lock_fd) != 0)
		return totp_err_errno(err, errno, "cannot clear the journal of %s",
				      shown);
	return 0;
}
