/* safe_read: one bounded read loop for trusted files (safe_read.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safe_read.h"

/* As pam_modutil_read: as much as `count` allows, up to the end of the
 * file; the bytes read, or -1 with errno. */
static ssize_t read_full(int fd, char *buf, size_t count)
{
	size_t done = 0;

	while (done < count) {
		ssize_t n = read(fd, buf + done, count - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

int safe_read_all(int fd, size_t max, enum totp_reason too_big, const char *path,
		  char **out, size_t *len, struct totp_err *err)
{
	char *buf = malloc(max + 2);
	ssize_t n;

	*out = NULL;
	*len = 0;
	if (buf == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory reading %s", path);
	n = read_full(fd, buf, max + 1); /* one byte more tells a file too big */
	if (n < 0) {
		int e = errno;

		safe_read_free(buf, max + 2);
		return totp_err_errno(err, e, "cannot read %s", path);
	}
	if ((size_t)n > max) {
		safe_read_free(buf, max + 2);
		return totp_err_set(err, too_big, "%s is larger than %zu bytes", path,
				    max);
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

void safe_read_free(char *buf, size_t len)
{
	if (buf == NULL)
		return;
	explicit_bzero(buf, len);
	free(buf);
}
