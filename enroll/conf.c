/* conf: loads pam_totp.conf under totp-enroll's ownership rules (conf.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "safe_read.h"

#define CONF_SIZE_MAX (1024 * 1024)

static int set_path(struct cfg *c, const char *path, struct totp_err *err)
{
	if (strlen(path) >= sizeof(c->conf_path))
		return totp_err_set(err, TOTP_R_INVALID, "--conf: the path is too long");
	strcpy(c->conf_path, path);
	return 0;
}

static int check_owner(const char *path, const struct stat *st, uid_t caller,
		       struct totp_err *err)
{
	if (!S_ISREG(st->st_mode))
		return totp_err_set(err, TOTP_R_NOT_REGULAR, "%s is not a regular file",
				    path);
	if (st->st_uid != 0 && st->st_uid != caller)
		return totp_err_set(err, TOTP_R_BAD_OWNER,
				    "%s must be owned by root or by you", path);
	if (st->st_mode & (S_IWGRP | S_IWOTH))
		return totp_err_set(err, TOTP_R_BAD_MODE,
				    "%s is writable by group or others; chmod go-w it",
				    path);
	return 0;
}

/* A user's own --conf: root's or the user's file. */
static int load_user_file(struct cfg *c, const char *path, uid_t caller,
			  struct totp_err *err)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return totp_err_errno(err, errno, "cannot open %s", path);
	rc = fstat(fd, &st) < 0 ? totp_err_errno(err, errno, "cannot stat %s", path)
				: check_owner(path, &st, caller, err);
	if (rc == 0)
		rc = safe_read_all(fd, CONF_SIZE_MAX, TOTP_R_CONFIG, path, &text, &len,
				   err);
	close(fd);
	if (rc == 0)
		rc = cfg_load_buffer(c, text, len, path, err);
	free(text);
	return rc;
}

int conf_load(struct cfg *c, const char *path, uid_t caller, struct totp_err *err)
{
	if (set_path(c, path != NULL ? path : cfg_default_path(), err) < 0)
		return -1;
	if (path != NULL && caller != 0)
		return load_user_file(c, path, caller, err);
	return cfg_load_file(c, true, path == NULL, err);
}
