/* account: passwd look-ups and the store a user's record lives in. */
#include "config.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"

/* getpwnam_r/getpwuid_r need a buffer whose size sysconf only suggests. */
static size_t pw_buffer_size(void)
{
	long n = sysconf(_SC_GETPW_R_SIZE_MAX);

	return n > 0 && n < 1024 * 1024 ? (size_t)n : 16384;
}

static int fill_account(const struct passwd *pw, struct account *out,
			struct totp_err *err)
{
	if (store_user_name_check(pw->pw_name, err) < 0)
		return -1;
	if (strlen(pw->pw_dir) >= sizeof(out->home))
		return totp_err_set(err, TOTP_R_INVALID, "home folder of %s is too long",
				    pw->pw_name);
	memset(out, 0, sizeof(*out));
	strcpy(out->name, pw->pw_name);
	strcpy(out->home, pw->pw_dir);
	out->uid = pw->pw_uid;
	out->gid = pw->pw_gid;
	return 0;
}

/* One passwd look-up by name (name != NULL, with fn) or by uid. */
static int lookup(const char *name, account_getpwnam_fn fn, uid_t uid,
		  struct account *out, struct totp_err *err)
{
	struct passwd pwbuf, *pw = NULL;
	size_t size = pw_buffer_size();
	char *buf = malloc(size);
	int rc;

	if (buf == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory looking up a user");
	if (name != NULL)
		rc = fn(name, &pwbuf, buf, size, &pw);
	else
		rc = getpwuid_r(uid, &pwbuf, buf, size, &pw);
	if (rc != 0 && rc != ENOENT && rc != ESRCH)
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
	if (store_user_name_check(name, err) < 0)
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

int account_store_location(const struct cfg *c, const struct account *a,
			   struct store_location *out, struct totp_err *err)
{
	if (cfg_store_db_path(c, a->name, a->home, out->db_path, sizeof(out->db_path),
			      err) < 0)
		return -1;
	out->per_user =
	    c->store == CFG_STORE_USER ||
	    (c->store == CFG_STORE_PATH && strstr(c->store_path, "%h") != NULL);
	out->owner = out->per_user ? a->uid : 0;
	return 0;
}
