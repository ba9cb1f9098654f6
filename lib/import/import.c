/* import: reading a source file safely, and the record an import makes. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chars.h"
#include "import.h"
#include "safe_open.h"
#include "safe_read.h"

void import_entry_wipe(struct import_entry *e)
{
	if (e)
		explicit_bzero(e, sizeof(*e));
}

void import_buf_free(char *buf, size_t len)
{
	if (!buf)
		return;
	explicit_bzero(buf, len);
	free(buf);
}

/* The source is only read: a regular file, owned by anyone. */
static const struct safe_rule any_file = {0, 0};
/* Walked, it must also have one hard link (a link made elsewhere). */
static const struct safe_rule one_link_file = {0, SAFE_ONE_LINK};

/* Reads the opened fd (closed here) into a fresh buffer. */
static int read_opened(int fd, size_t max, const char *path, char **buf, size_t *len,
		       struct totp_err *err)
{
	int rc = safe_read_all(fd, max, TOTP_R_INVALID, path, buf, len, err);

	close(fd);
	return rc;
}

int import_read_file(const char *path, size_t max, char **buf, size_t *len,
		     struct totp_err *err)
{
	int fd;

	*buf = NULL;
	*len = 0;
	fd = safe_open_at(AT_FDCWD, path, O_RDONLY, &any_file, "file", path, err);
	if (fd == SAFE_MISSING)
		return totp_err_errno(err, ENOENT, "cannot open %s", path);
	if (fd < 0)
		return -1;
	return read_opened(fd, max, path, buf, len, err);
}

int import_read_file_nofollow(const char *path, size_t max, char **buf, size_t *len,
			      struct totp_err *err)
{
	int fd;

	*buf = NULL;
	*len = 0;
	fd = safe_open_path(path, O_RDONLY, NULL, &one_link_file, "file", err);
	if (fd == SAFE_MISSING)
		return totp_err_errno(err, ENOENT, "cannot open %s", path);
	if (fd < 0)
		return -1;
	return read_opened(fd, max, path, buf, len, err);
}

static int hash_codes(const struct import_entry *e, struct record *r,
		      struct totp_err *err)
{
	const char *ptrs[IMPORT_CODES_MAX];

	if (e->n_codes == 0)
		return 0;
	if (e->n_codes > IMPORT_CODES_MAX)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "%u scratch codes are more than the %d a record keeps", e->n_codes,
		    IMPORT_CODES_MAX);
	for (unsigned i = 0; i < e->n_codes; i++) {
		if (strlen(e->codes[i]) != EMERGENCY_DIGITS ||
		    !chars_all_digits(e->codes[i], EMERGENCY_DIGITS))
			return totp_err_set(err, TOTP_R_INVALID,
					    "scratch code %u is not %d digits", i + 1,
					    EMERGENCY_DIGITS);
		ptrs[i] = e->codes[i];
	}
	return emergency_set(r, ptrs, e->n_codes, err);
}

int import_to_record(const struct import_entry *e, uint64_t prev_sequence, int64_t now_ms,
		     struct record *out, struct totp_err *err)
{
	memset(out, 0, sizeof(*out));
	if (otp_params_check(&e->params, err) < 0)
		return -1;
	if (e->secret_len == 0 || e->secret_len > SECRET_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "the secret is %zu bytes: it must be 1 to %d",
				    e->secret_len, SECRET_MAX);
	if (e->name[0] != '\0' && record_name_check(e->name, err) < 0)
		return -1;
	if (strcmp(e->name, RECORD_DEFAULT_NAME) != 0)
		memcpy(out->gen[0].name, e->name, sizeof(out->gen[0].name));
	out->gen[0].state = RECORD_READY;
	out->gen[0].params = e->params;
	out->gen[0].window =
	    (uint8_t)(e->window > OTP_WINDOW_MAX ? OTP_WINDOW_MAX : e->window);
	memcpy(out->gen[0].secret, e->secret, e->secret_len);
	out->gen[0].secret_len = (uint8_t)e->secret_len;
	out->gen[0].counter = e->counter;
	out->gen[0].created = now_ms / 1000;
	out->last_success.time = e->last_used;
	out->sequence = prev_sequence;
	if (hash_codes(e, out, err) < 0) {
		record_wipe(out);
		return -1;
	}
	/* registered, then verified: the phone proved it long ago. */
	record_add_event(out, now_ms);
	record_add_event(out, now_ms);
	return 0;
}

bool import_parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (p[i] < '0' || p[i] > '9')
			return false;
		d = (unsigned)(p[i] - '0');
		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}
