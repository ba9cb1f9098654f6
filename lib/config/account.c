/* account: passwd look-ups (account.h). */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"

/* getpwnam_r/getpwuid_r need a buffer whose size sysconf only suggests
 * (glibc: 1024), and answer ERANGE when a line they read does not fit,
 * which with the files backend may be any line before the user's.  So the
 * buffer doubles on ERANGE, up to a bound no sane passwd line reaches. */
#define PW_BUFFER_MIN 1024
#define PW_BUFFER_MAX (1024 * 1024)

static size_t pw_buffer_size(void)
{
	long n = sysconf(_SC_GETPW_R_SIZE_MAX);

	return n >= PW_BUFFER_MIN && n <= PW_BUFFER_MAX ? (size_t)n : PW_BUFFER_MIN;
}

/* An entry that was found but cannot be used is trouble, never "no such
 * user" nor TOTP_R_INVALID (a name that cannot be anyone's), which the
 * module takes for unknown and, with nullok, lets through: it fails
 * closed (TOTP_R_CONFIG: the passwd entry is the system's to fix). */
static int fill_account(const struct passwd *pw, struct account *out,
			struct totp_err *err)
{
	struct totp_err why;
	size_t home = strlen(pw->pw_dir);

	if (user_name_check(pw->pw_name, &why) < 0)
		return totp_err_set(err, TOTP_R_CONFIG,
				    "the passwd database answered with a user name that "
				    "pam_totp cannot take (%s)",
				    why.msg);
	if (home >= sizeof(out->home))
		return totp_err_set(err, TOTP_R_CONFIG,
				    "the home folder of %s is %zu bytes long; pam_totp "
				    "takes up to %zu",
				    pw->pw_name, home, sizeof(out->home) - 1);
	memset(out, 0, sizeof(*out));
	strcpy(out->name, pw->pw_name);
	strcpy(out->home, pw->pw_dir);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	return 0;
}

/* getpwnam_r or getpwuid_r, retried with a larger buffer on ERANGE: 0 and
 * *pw (NULL: no such user) with *buf to free, or an errno. */
static int getpw_grow(const char *name, account_getpwnam_fn fn, uid_t uid,
		      struct passwd *pwbuf, struct passwd **pw, char **buf)
{
	size_t size = pw_buffer_size();

	for (;;) {
		char *b = malloc(size);
		int rc;

		if (b == NULL)
			return ENOMEM;
		*pw = NULL;
		if (name != NULL)
			rc = fn(name, pwbuf, b, size, pw);
		else
			rc = getpwuid_r(uid, pwbuf, b, size, pw);
		if (rc == ENOENT || rc == ESRCH) /* some backends: not found */
			rc = 0, *pw = NULL;
		if (rc != ERANGE || size >= PW_BUFFER_MAX) {
			if (rc != 0 || *pw == NULL) {
				free(b);
				b = NULL;
			}
			*buf = b;
			return rc;
		}
		free(b);
		size *= 2;
	}
}

/* One passwd look-up by name (name != NULL, with fn) or by uid. */
static int lookup(const char *name, account_getpwnam_fn fn, uid_t uid,
		  struct account *out, struct totp_err *err)
{
	struct passwd pwbuf, *pw = NULL;
	char *buf = NULL;
	int rc = getpw_grow(name, fn, uid, &pwbuf, &pw, &buf);

	if (rc == ENOMEM)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory looking up a user");
	if (rc != 0)
		rc = totp_err_errno(err, rc, "cannot look up the user");
	else if (pw == NULL && name != NULL)
		rc = totp_err_set(err, TOTP_R_NOT_FOUND, "there is no user named %s",
				  name);
	else if (pw == NULL)
		rc = totp_err_set(err, TOTP_R_NOT_FOUND, "there is no user with uid %lu",
				  (unsigned long)uid);
	else
		rc = fill_account(pw, out, err);
	free(buf);
	return rc;
}

int account_lookup_with(const char *name, account_getpwnam_fn getpwnam_fn,
			struct account *out, struct totp_err *err)
{
	if (user_name_check(name, err) < 0)
		return -1;
	return lookup(name, getpwnam_fn, 0, out, err);
}

int account_lookup(const char *name, struct account *out, struct totp_err *err)
{
	return account_lookup_with(name, getpwnam_r, out, err);
}

int account_lookup_uid(uid_t uid, struct account *out, struct totp_err *err)
{
	return lookup(NULL, NULL, uid, out, err);
}
