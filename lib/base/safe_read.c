/* safe_read: one bounded read loop for trusted files (safe_read.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safe_read.h"

/* As much as `count` allows, up to the end of the file; the bytes read,
 * or -1 with errno.  Every file read here is a regular file (its caller
 * checked), where a read that gives less than it was asked for has met
 * the end: no second read to be told so. */
static ssize_t read_full(int fd, char *buf, size_t count)
{
	size_t done = 0;

	while (done < count) {
		ssize_t n = read(fd, buf + done, count - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += (size_t)n;
		if ((size_t)n < count - (done - (size_t)n))
			break; /* short: the end (0 at the end itself) */
	}
	return (ssize_t)done;
}

/* The first buffer: most files read here (pam_totp.conf) fit in it, so a
 * login asks malloc for a few KiB, not for the bound (1 MiB, an mmap and
 * an munmap of its own each time). */
#define SAFE_READ_FIRST 8192

/* Moves buf (used bytes of it) into a buffer of `size`; the old one is
 * wiped.  NULL when out of memory (buf is then still the caller's). */
static char *grow(char *buf, size_t used, size_t old_size, size_t size)
{
	char *bigger = malloc(size);

	if (bigger == NULL)
		return NULL;
	memcpy(bigger, buf, used);
	safe_read_free(buf, old_size);
	return bigger;
}

int safe_read_all(int fd, size_t max, enum totp_reason too_big, const char *path,
		  char **out, size_t *len, struct totp_err *err)
{
	/* one byte more than max tells a file too big, and one for the NUL */
	size_t size = max + 2 < SAFE_READ_FIRST ? max + 2 : SAFE_READ_FIRST;
	char *buf = malloc(size);
	size_t done = 0;

	*out = NULL;
	*len = 0;
	if (buf == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory reading %s", path);
	for (;;) {
		ssize_t n = read_full(fd, buf + done, size - 1 - done);
		size_t next = size > (max + 2) / 2 ? max + 2 : 2 * size;
		char *bigger;

		if (n < 0) {
			int e = errno;

			safe_read_free(buf, size);
			return totp_err_errno(err, e, "cannot read %s", path);
		}
		done += (size_t)n;
		if (done < size - 1 || size == max + 2)
			break; /* the end, or the bound */
		bigger = grow(buf, done, size, next);
		if (bigger == NULL) {
			safe_read_free(buf, size);
			return totp_err_set(err, TOTP_R_NOMEM, "out of memory reading %s",
					    path);
		}
		size = next;
		buf = bigger;
	}
	if (done > max) {
		safe_read_free(buf, size);
		return totp_err_set(err, too_big, "%s is larger than %zu bytes", path,
				    max);
	}
	buf[done] = '\0';
	*out = buf;
	*len = done; /* the bytes safe_read_free wipes: nothing was past them */
	return 0;
}

void safe_read_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	explicit_bzero(buf, len);
	free(buf);
}

ssize_t safe_pread(int fd, void *buf, size_t n, off_t at)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, at + (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int safe_pwrite(int fd, const void *buf, size_t n, off_t at)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w =
		    pwrite(fd, (const char *)buf + done, n - done, at + (off_t)done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}
