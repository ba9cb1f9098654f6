/* safe_open: the O_NOFOLLOW walk and the fstat checks (safe_open.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "safe_open.h"

/* O_PATH: a folder on the way needs search permission only, as for any
 * path lookup (/home may be 0711); O_DIRECTORY|O_NOFOLLOW fail on a link. */
#define DIR_OPEN_FLAGS (O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* O_NONBLOCK: a FIFO planted at the path must not hang the open; it has
 * no effect on a regular file (open(2)), so it stays. */
#define FILE_OPEN_FLAGS (O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

/* Says why `name` in dirfd could not be opened as a `kind`: a symbolic
 * link and a wrong type get their own reasons, the rest follows errno. */
static bool owner_ok(const struct stat *st, const struct safe_rule *r);
static int owner_refused(const struct stat *st, const struct safe_rule *r,
			 const char *kind, const char *shown, struct totp_err *err);

/* Why an open failed, as exactly as a look at the name tells: a link, not
 * a file, or (permission denied) a file that belongs to someone else,
 * which the checks would have refused had the open gone through. */
static int open_refused(int dirfd, const char *name, int errnum,
			const struct safe_rule *rule, const char *kind, const char *shown,
			struct totp_err *err)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return totp_err_set(
			    err, TOTP_R_SYMLINK,
			    "%s %s is a symbolic link, which pam_totp never "
			    "follows: replace it with the real %s",
			    kind, shown, kind);
		if (errnum == ENOTDIR || errnum == EISDIR || errnum == ELOOP)
			return totp_err_set(err, TOTP_R_NOT_REGULAR,
					    "%s is not a %s: move it away", shown, kind);
		if ((errnum == EACCES || errnum == EPERM) && rule != NULL &&
		    !owner_ok(&st, rule))
			return owner_refused(&st, rule, kind, shown, err);
	}
	return totp_err_errno(err, errnum, "cannot open %s %s", kind, shown);
}

static bool owner_ok(const struct stat *st, const struct safe_rule *r)
{
	if (r->checks & SAFE_OWNER_OR_ROOT)
		return st->st_uid == r->owner || st->st_uid == 0;
	if (r->checks & SAFE_OWNER)
		return st->st_uid == r->owner;
	return true;
}

static int owner_refused(const struct stat *st, const struct safe_rule *r,
			 const char *kind, const char *shown, struct totp_err *err)
{
	if ((r->checks & SAFE_OWNER_OR_ROOT) && r->owner != 0)
		return totp_err_set(err, TOTP_R_BAD_OWNER,
				    "%s %s belongs to uid %u, not to uid %u or root: "
				    "chown it",
				    kind, shown, (unsigned)st->st_uid,
				    (unsigned)r->owner);
	return totp_err_set(err, TOTP_R_BAD_OWNER,
			    "%s %s belongs to uid %u, not uid %u: chown it or remove it",
			    kind, shown, (unsigned)st->st_uid, (unsigned)r->owner);
}

static int owner_check(const struct stat *st, const struct safe_rule *r, const char *kind,
		       const char *shown, struct totp_err *err)
{
	return owner_ok(st, r) ? 0 : owner_refused(st, r, kind, shown, err);
}

static int mode_check(const struct stat *st, const struct safe_rule *r, bool shared_ok,
		      const char *kind, const char *shown, struct totp_err *err)
{
	if ((r->checks & SAFE_NOT_SHARED) && (st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    !shared_ok)
		return totp_err_set(err, TOTP_R_BAD_MODE,
				    "%s %s is writable by group or others: chmod go-w it",
				    kind, shown);
	return 0;
}

int safe_stat_check(const struct stat *st, const struct safe_rule *file, const char *kind,
		    const char *shown, struct totp_err *err)
{
	if (!S_ISREG(st->st_mode))
		return totp_err_set(err, TOTP_R_NOT_REGULAR,
				    "%s %s is not a regular file: move it away", kind,
				    shown);
	if (mode_check(st, file, false, kind, shown, err) != 0 ||
	    owner_check(st, file, kind, shown, err) != 0)
		return -1;
	if ((file->checks & SAFE_ONE_LINK) && st->st_nlink != 1)
		return totp_err_set(err, TOTP_R_HARDLINK,
				    "%s %s has %lu hard links: it must have one; copy it "
				    "to a new file",
				    kind, shown, (unsigned long)st->st_nlink);
	return 0;
}

/* safe_file_check, its stat left in *st. */
static int file_check(int fd, const struct safe_rule *file, const char *kind,
		      const char *shown, struct stat *st, struct totp_err *err)
{
	if (fstat(fd, st) != 0)
		return totp_err_errno(err, errno, "cannot stat %s %s", kind, shown);
	return safe_stat_check(st, file, kind, shown, err);
}

int safe_file_check(int fd, const struct safe_rule *file, const char *kind,
		    const char *shown, struct totp_err *err)
{
	struct stat st;

	return file_check(fd, file, kind, shown, &st, err);
}

int safe_open_at(int dirfd, const char *name, int flags, const struct safe_rule *file,
		 const char *kind, const char *shown, struct totp_err *err)
{
	struct stat st;

	return safe_open_at_stat(dirfd, name, flags, file, kind, shown, &st, err);
}

int safe_open_at_unchecked(int dirfd, const char *name, int flags,
			   const struct safe_rule *file, const char *kind,
			   const char *shown, struct totp_err *err)
{
	int fd = openat(dirfd, name, flags | FILE_OPEN_FLAGS, 0600);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return SAFE_MISSING;
	return open_refused(dirfd, name, errno, file, kind, shown, err);
}

int safe_open_at_stat(int dirfd, const char *name, int flags,
		      const struct safe_rule *file, const char *kind, const char *shown,
		      struct stat *st, struct totp_err *err)
{
	int fd = safe_open_at_unchecked(dirfd, name, flags, file, kind, shown, err);

	if (fd < 0)
		return fd;
	if (file_check(fd, file, kind, shown, st, err) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- the walk ------------------------------------------------------------ */

/* A folder on the way: others may write one only with the sticky bit
 * (as /tmp), and never the last one, which holds our files. */
static int dir_rules(const struct stat *st, const struct safe_rule *dirs, bool last,
		     const char *shown, struct totp_err *err)
{
	/* a folder's owner is checked before its mode, a file's after */
	if (owner_check(st, dirs, "folder", shown, err) != 0)
		return -1;
	return mode_check(st, dirs, !last && (st->st_mode & S_ISVTX), "folder", shown,
			  err);
}

/* dir_rules on fd's folder; its stat is left in *st for the last check. */
static int dir_check(int fd, const struct safe_rule *dirs, bool last, const char *shown,
		     struct stat *st, struct totp_err *err)
{
	if (dirs == NULL)
		return 0;
	if (fstat(fd, st) != 0)
		return totp_err_errno(err, errno, "cannot stat folder %s", shown);
	return dir_rules(st, dirs, last, shown, err);
}

/* Opens one folder below fd, making it (0700) when asked and missing;
 * *missing tells a missing folder from another refusal. */
static int walk_step(int fd, const char *comp, bool create, const char *shown,
		     bool *missing, struct totp_err *err)
{
	int next = openat(fd, comp, DIR_OPEN_FLAGS);

	if (next < 0 && errno == ENOENT && create) {
		if (mkdirat(fd, comp, 0700) != 0 && errno != EEXIST)
			return totp_err_errno(err, errno, "cannot make folder %s", shown);
		next = openat(fd, comp, DIR_OPEN_FLAGS);
	}
	if (next < 0 && errno == ENOENT) {
		*missing = true;
		return totp_err_set(err, TOTP_R_NOT_FOUND, "folder %s does not exist",
				    shown);
	}
	if (next < 0)
		return open_refused(fd, comp, errno, NULL, "folder", shown, err);
	return next;
}

/* One component below fd (closed here): the next folder, checked, or -1. */
static int walk_into(int fd, const char *comp, const struct safe_rule *dirs, bool create,
		     const char *shown, bool *missing, struct stat *st,
		     struct totp_err *err)
{
	int next = walk_step(fd, comp, create, shown, missing, err);

	close(fd);
	if (next >= 0 && dir_check(next, dirs, false, shown, st, err) != 0) {
		close(next);
		next = -1;
	}
	return next;
}

/*
 * The walk in a few system calls (issue 15: a login walks once, and the
 * step-by-step walk costs three calls a folder).  Each folder above the
 * last is checked by name, fstatat without following a link; then the
 * whole path is opened at once by openat2 with RESOLVE_NO_SYMLINKS, which
 * follows no link anywhere on it, as the step walk; the last folder is
 * checked on that descriptor.  What the step walk adds is that each
 * folder checked is the one walked through: here a folder could be
 * swapped between its check and the open only by someone who may write
 * the folder above it, and that folder's check refuses anyone but its
 * owner (root, or the user whose store it is) unless it is sticky, where
 * nobody but a name's owner may move it.  The folder that holds the files
 * is checked on the descriptor used.  Any refusal, a missing folder, "."
 * or "..", a relative path, or a kernel without openat2 gives -1 with
 * nothing set, and the step walk then runs and says exactly why.
 */
static bool has_dot_component(const char *dir)
{
	for (const char *c = dir; (c = strstr(c, "/.")) != NULL; c++)
		if (c[2] == '/' || c[2] == '\0' ||
		    (c[2] == '.' && (c[3] == '/' || c[3] == '\0')))
			return true;
	return false;
}

static int fast_walk(const char *dir, const struct safe_rule *dirs)
{
	struct open_how how = {.flags = DIR_OPEN_FLAGS, .resolve = RESOLVE_NO_SYMLINKS};
	char prefix[PATH_MAX];
	struct stat st;
	size_t len = strlen(dir);
	long fd;

	if (dir[0] != '/' || len >= sizeof(prefix) || has_dot_component(dir))
		return -1;
	memcpy(prefix, dir, len + 1);
	for (size_t i = 1; i < len; i++) {
		if (prefix[i] != '/' || prefix[i - 1] == '/')
			continue;
		prefix[i] = '\0'; /* a folder above the last */
		if (fstatat(AT_FDCWD, prefix, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(st.st_mode) ||
		    (dirs != NULL && dir_rules(&st, dirs, false, prefix, NULL) != 0))
			return -1;
		prefix[i] = '/';
	}
	fd = syscall(SYS_openat2, AT_FDCWD, dir, &how, sizeof(how));
	if (fd < 0)
		return -1;
	if (dirs != NULL &&
	    (fstat((int)fd, &st) != 0 || dir_rules(&st, dirs, true, dir, NULL) != 0)) {
		close((int)fd);
		return -1;
	}
	return (int)fd;
}

static int walk(const char *dir, const struct safe_rule *dirs, bool create, bool *missing,
		struct totp_err *err)
{
	char copy[PATH_MAX], shown[PATH_MAX];
	char *save = NULL, *comp;
	struct stat st;
	bool stated = false; /* st is the folder fd is on */
	int fd = create ? -1 : fast_walk(dir, dirs);

	if (fd >= 0)
		return fd;
	if ((size_t)snprintf(copy, sizeof(copy), "%s", dir) >= sizeof(copy))
		return totp_err_set(err, TOTP_R_INVALID,
				    "folder %.64s...: too long a path", dir);
	fd = open(dir[0] == '/' ? "/" : ".", DIR_OPEN_FLAGS);
	if (fd < 0)
		return totp_err_errno(err, errno, "cannot open the folder above %s", dir);
	snprintf(shown, sizeof(shown), "%s", dir[0] == '/' ? "" : ".");
	for (comp = strtok_r(copy, "/", &save); comp != NULL && fd >= 0;
	     comp = strtok_r(NULL, "/", &save)) {
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			close(fd);
			return totp_err_set(err, TOTP_R_INVALID,
					    "folder %s holds \"..\": give a plain path",
					    dir);
		}
		/* shown is a prefix of dir: it always fits */
		snprintf(shown + strlen(shown), sizeof(shown) - strlen(shown), "/%s",
			 comp);
		fd = walk_into(fd, comp, dirs, create, shown, missing, &st, err);
		stated = true;
	}
	/* the last folder again, as the last: its stat, taken on this very
	 * descriptor, is still the one to judge (no second fstat) */
	if (fd >= 0 && dirs != NULL &&
	    (stated ? dir_rules(&st, dirs, true, dir, err)
		    : dir_check(fd, dirs, true, dir, &st, err)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

int safe_walk_dir(const char *dir, const struct safe_rule *dirs, bool create, int *dirfd,
		  struct totp_err *err)
{
	bool missing = false;

	*dirfd = walk(dir, dirs, create, &missing, err);
	return *dirfd < 0 ? -1 : 0;
}

int safe_open_path(const char *path, int flags, const struct safe_rule *dirs,
		   const struct safe_rule *file, const char *kind, struct totp_err *err)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	size_t dirlen = slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));
	bool missing = false;
	int dirfd, fd;

	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return totp_err_set(err, TOTP_R_NOT_REGULAR,
				    "%s is not a regular file: give the file itself",
				    path);
	if (dirlen >= sizeof(dir))
		return totp_err_set(err, TOTP_R_INVALID, "%.64s...: too long a path",
				    path);
	memcpy(dir, slash == NULL ? "." : path, slash == NULL ? 1 : dirlen);
	dir[slash == NULL ? 1 : dirlen] = '\0';
	dirfd = walk(dir, dirs, false, &missing, err);
	if (dirfd < 0)
		return missing ? SAFE_MISSING : -1;
	fd = safe_open_at(dirfd, name, flags, file, kind, path, err);
	close(dirfd);
	return fd;
}
