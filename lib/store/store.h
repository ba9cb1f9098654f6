/*
 * store: a realm's GDBM database of records, keyed by user name.
 *
 * Locking (DESIGN.md): a stable lock file "<db>.lock" beside the database
 * is flock()ed, shared to read and exclusive to write, retried until a
 * deadline; then the database is opened with gdbm_fd_open(GDBM_NOLOCK) on
 * an O_NOFOLLOW|O_CLOEXEC descriptor.  store_close() closes the database
 * before it lets go of the lock.  A read-modify-write is one store_open
 * with STORE_WRITE, get, put, close.
 *
 * Safe open: the path is walked from "/" with openat(O_NOFOLLOW) one
 * component at a time; the database and lock file must then be regular
 * files owned by `owner`, with no group or other write bit and one link;
 * each failure has its own reason (TOTP_R_SYMLINK, _BAD_OWNER, _BAD_MODE,
 * _NOT_REGULAR, _HARDLINK).  A file shorter than a GDBM header is
 * TOTP_R_TRUNCATED, one that is not a GDBM file TOTP_R_CORRUPT, and so is
 * one larger than opts->max_bytes or whose GDBM header gives a block,
 * directory or bucket size that the file cannot hold (GDBM would allocate
 * and read what the header says before it looks further).  Nothing
 * here changes privileges: the caller drops to the user first.
 *
 * A missing database is TOTP_R_NOT_FOUND unless STORE_CREATE is given;
 * then it (and missing parent folders, mode 0700) is created under the
 * exclusive lock, built at a temporary name and renamed into place, so a
 * crash never leaves a half-made database at the real name.
 *
 * Crash safety (slot.h, tests/test_torture.c): GDBM 1.23 alone is not
 * safe against a process killed in the middle of gdbm_store.  So a record
 * is kept in a fixed-size value of two checksummed slots, replaced in
 * place (GDBM then writes only the value), and a new key or a deletion is
 * made on a copy of the database renamed over it (GDBM's buckets,
 * directory and header are then never rewritten in place).  A process
 * killed at any point leaves every record as it was before the call or as
 * the call made it.  A database file shorter than its GDBM header says is
 * TOTP_R_TRUNCATED even when what is left would open.
 */
#ifndef TOTP_STORE_H
#define TOTP_STORE_H

#include <stdbool.h>
#include <sys/types.h>

#include "errors.h"
#include "record.h"

#define STORE_USER_MAX 256 /* longest user name accepted as a key */
/* The most a user store (one user's own database, one key: about 16 KiB)
 * may be: the module reads it as root in the login process, so a user
 * must not be able to make that read big (issue 18).  store_opts's
 * max_bytes. */
#define STORE_USER_BYTES_MAX (1024 * 1024)

enum store_mode {
	STORE_READ = 0,	  /* shared lock, read only */
	STORE_WRITE = 1,  /* exclusive lock, read-write */
	STORE_CREATE = 3, /* as STORE_WRITE, creating the database if missing */
};

struct store_opts {
	uid_t owner;	     /* who must own the database, lock file and folder */
	int lock_timeout_ms; /* how long to wait for the lock */
	bool sync;	     /* fsync after each put and delete */
	/* A batch: all or nothing, and one copy for many new users (an
	 * import, a generated store).  The first put or delete copies the
	 * database (see above), every later change goes to that copy, and
	 * only store_sync publishes it, all at once; store_close without
	 * store_sync drops it, leaving the store as it was.  Without
	 * `batch`, a replacement is made in place and each new key or
	 * deletion is published by the call that makes it. */
	bool batch;
	/* When not 0, a database file larger than this is refused
	 * (TOTP_R_CORRUPT) before GDBM reads it: STORE_USER_BYTES_MAX for a
	 * user store, 0 (no bound) for a system store, which only root
	 * writes. */
	size_t max_bytes;
};
/* Durability is store_put's (with `sync`) and store_sync's: store_close
 * itself never fsyncs, although GDBM 1.23's gdbm_close would (store.c).
 * Every put is written to the file before it returns either way; `sync`
 * decides only whether it survives a crash of the machine. */

struct store;

int store_open_locked(const char *db_path, enum store_mode mode,
		      const struct store_opts *opts, struct store **out,
		      struct totp_err *err);

/* 1 and *r filled when found, 0 when the user has no record, -1 on error.
 * A record that does not decode is an error (TOTP_R_CORRUPT/_VERSION). */
int store_get(struct store *s, const char *user, struct record *r, struct totp_err *err);

/* Replaces the user's record (STORE_WRITE only). */
int store_put(struct store *s, const char *user, const struct record *r,
	      struct totp_err *err);

/* Deletes the user's record; deleting a missing one is TOTP_R_NOT_FOUND. */
int store_delete(struct store *s, const char *user, struct totp_err *err);

/* Calls fn for every record (order unspecified) until it returns non-zero,
 * which store_iterate then returns; -1 on a store error. */
typedef int (*store_iter_fn)(const char *user, const struct record *r, void *arg);
int store_iterate(struct store *s, store_iter_fn fn, void *arg, struct totp_err *err);

/* Flushes GDBM and fsyncs the database. */
int store_sync(struct store *s, struct totp_err *err);

/* Closes the database, then releases the lock.  NULL is fine. */
void store_close(struct store *s);

/* Refuses user names that cannot be keys: empty, over STORE_USER_MAX,
 * control characters, '/' or a leading '-'. */
int store_user_name_check(const char *user, struct totp_err *err);

#endif
