/*
 * safe_open: the one way lib/ opens a file it trusts (a store, its lock,
 * pam_totp.conf, a --conf, an import source).
 *
 * A path is walked from "/" (or the working folder) one component at a
 * time with O_NOFOLLOW, so no symbolic link anywhere on it is followed;
 * ".." is refused.  The folder's descriptor is the caller's: keep it to
 * open more files in the same folder without a second walk.  A file is
 * then opened in that folder with O_NOFOLLOW|O_NONBLOCK (a FIFO put in
 * its place cannot hang the open) and checked with fstat on the
 * descriptor, so the file checked is the file used.  Each refusal has its
 * own reason: TOTP_R_SYMLINK, TOTP_R_NOT_REGULAR, TOTP_R_BAD_MODE,
 * TOTP_R_BAD_OWNER, TOTP_R_HARDLINK (a file's in that order; a folder's
 * owner before its mode).
 */
#ifndef TOTP_SAFE_OPEN_H
#define TOTP_SAFE_OPEN_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "errors.h"

/* What a file or folder must be, beyond not being a symbolic link. */
enum safe_check {
	SAFE_OWNER = 1u << 0,	      /* owned by rule.owner */
	SAFE_OWNER_OR_ROOT = 1u << 1, /* owned by rule.owner or by root */
	SAFE_NOT_SHARED = 1u << 2,    /* not writable by group or others */
	SAFE_ONE_LINK = 1u << 3,      /* one hard link (files only) */
};

/* The owner rule, given by the caller: who, and which checks apply.  A
 * rule with no checks only asks for a regular file (a real folder). */
struct safe_rule {
	uid_t owner;
	unsigned checks; /* enum safe_check bits */
};

/* safe_open_at's and safe_open_path's answer for a missing file. */
#define SAFE_MISSING (-2)

/* Walks the folder `dir` and stores its descriptor (O_PATH) in *dirfd;
 * the caller closes it.  Every folder on the way is checked against
 * `dirs` (NULL: none), except that a folder others may write is fine with
 * the sticky bit (as /tmp) unless it is the last.  `create` makes missing
 * folders (0700); otherwise a missing one is TOTP_R_NOT_FOUND. */
int safe_walk_dir(const char *dir, const struct safe_rule *dirs, bool create, int *dirfd,
		  struct totp_err *err);

/* Opens `name` in the folder dirfd (flags: O_RDONLY, O_RDWR, O_CREAT
 * 0600, ...) and checks it against `file`.  Returns the descriptor (the
 * caller's), SAFE_MISSING with err untouched, or -1.  `kind` and `shown`
 * name the file in messages ("database", "/var/lib/totp/x.db"). */
int safe_open_at(int dirfd, const char *name, int flags, const struct safe_rule *file,
		 const char *kind, const char *shown, struct totp_err *err);

/* safe_open_at without the fstat checks (the same flags, no link
 * followed, the same refusals of the open itself): the caller checks an
 * fstat of the descriptor with safe_stat_check before it reads or writes
 * through it.  For a lock file, which is locked first and then fstat'ed
 * anyway, so that one fstat does both. */
int safe_open_at_unchecked(int dirfd, const char *name, int flags,
			   const struct safe_rule *file, const char *kind,
			   const char *shown, struct totp_err *err);

/* safe_open_at that also gives the fstat its checks judged (*st). */
int safe_open_at_stat(int dirfd, const char *name, int flags,
		      const struct safe_rule *file, const char *kind, const char *shown,
		      struct stat *st, struct totp_err *err);

/* safe_walk_dir (no create) then safe_open_at for a whole path: the
 * descriptor, SAFE_MISSING when the file or a folder on the way is
 * missing (err may say which), or -1.  A path ending in '/' is
 * TOTP_R_NOT_REGULAR. */
int safe_open_path(const char *path, int flags, const struct safe_rule *dirs,
		   const struct safe_rule *file, const char *kind, struct totp_err *err);

/* The checks alone, on a stat the caller made: an fstatat of the name of
 * a file whose descriptor it holds, when the inode is the same. */
int safe_stat_check(const struct stat *st, const struct safe_rule *file, const char *kind,
		    const char *shown, struct totp_err *err);

/* The fstat checks alone, on a descriptor opened some other way. */
int safe_file_check(int fd, const struct safe_rule *file, const char *kind,
		    const char *shown, struct totp_err *err);

#endif
