/*
 * store: the interface every realm's store implements, and all that
 * login, lifecycle, import, list and export may know of one.
 *
 * A store maps a user name (user_name.h) to one record (record.h: the
 * generator, its last step or counter, failures, lockout, emergency-code
 * hashes and the event `sequence`).  Modelled on pam_faillock's tally
 * (open_tally, read_tally, update_tally): open, read, write, close.  An
 * open is one session under the store's lock:
 *
 *   - STORE_READ shares the lock with other readers; STORE_WRITE and
 *     STORE_CREATE hold it alone, so a get, a decision and a put of one
 *     open are atomic against every other open of the same store.  The
 *     lock is held from store_open until store_close; never hold an open
 *     across a prompt or slow work (DESIGN.md, "Locking").
 *   - Each put or delete is atomic and crash-safe: a process killed at
 *     any point leaves the record as it was or as the call made it.  With
 *     opts->sync it is durable (on disk, or on the directory's server)
 *     when the call returns.
 *   - A batch (opts->batch) is all or nothing: nothing is seen by others
 *     until store_commit, and store_close without it drops every change.
 *   - store_put_if is the compare-and-set a check relies on when it let
 *     go of the store between its read and its write (login.c's slow
 *     check): it writes only if the stored sequence is still the one read.
 *   - A backend without a lock (STORE_KIND_LDAP: a directory shared by
 *     many hosts) says so with store_lockless(): there the get, decision
 *     and put of one open are NOT atomic, and a writer must use
 *     store_put_if, re-read and decide again when it answers 1.  Its
 *     compare is on the moving state it read (see ldap_store.h), which
 *     the directory checks in the same request as the write.
 *
 * Callers name a store by a struct store_location (config/location.h
 * fills it) and never by a file, descriptor or lock: the backend (GDBM
 * today, gdbm_store.h; LDAP next) decides what those are.
 */
#ifndef TOTP_STORE_H
#define TOTP_STORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errors.h"
#include "record.h"
#include "user_name.h"

#define STORE_WHERE_MAX 1024
/* The most a user store (one user's own database, one key: about 16 KiB)
 * may be: the module reads it as root in the login process, so a user
 * must not be able to make that read big (issue 18).  store_opts's
 * max_bytes. */
#define STORE_USER_BYTES_MAX (1024 * 1024)

enum store_kind {
	STORE_KIND_GDBM = 0, /* a GDBM file on this machine (gdbm_store.h) */
	STORE_KIND_LDAP = 1, /* an OATH-LDAP directory (ldap_store.h, issue 14) */
};

struct ldap_realm_cfg;

/* Where a store lives and whose it is (config/location.h makes one). */
struct store_location {
	enum store_kind kind;
	char where[STORE_WHERE_MAX]; /* the backend's address: for GDBM a path */
	uid_t owner;		     /* who must own it */
	bool per_user;		     /* a user store: open it as the user */
	/* GDBM only: a system store shared by the realm, kept as a fixed set
	 * of shards by user (shard_store.h); `where` then names the store of
	 * earlier releases, "<dir>/<realm>.db", read but never written, and
	 * the shards are under "<dir>/<realm>.d/". */
	bool sharded;
	/* STORE_KIND_LDAP only (where then names the first server, for
	 * messages): the realm's directory, and the lockout policy the
	 * backend derives record.locked_until from (oathFailureCount,
	 * oathLastFailure).  The cfg outlives every open. */
	const struct ldap_realm_cfg *ldap;
	unsigned max_failures;
	unsigned lockout;
	/* NULL, or where a login keeps what its first open checked for its
	 * second (struct store_keep, below): set by the caller. */
	struct store_keep *keep;
};

enum store_mode {
	STORE_READ = 0,	  /* shared lock, read only */
	STORE_WRITE = 1,  /* exclusive lock, read-write */
	STORE_CREATE = 3, /* as STORE_WRITE, creating the store if missing */
};

/* How to open a store; location_store_opts (config/location.h) builds it
 * from the realm and the location, so that every caller asks the same. */
struct store_opts {
	uid_t owner;	     /* who must own the store (and its folder) */
	int lock_timeout_ms; /* how long to wait for the lock */
	bool sync;	     /* each put and delete durable when it returns */
	bool batch;	     /* all or nothing, published by store_commit */
	/* When not 0, a store larger than this is refused (TOTP_R_CORRUPT)
	 * before it is read: STORE_USER_BYTES_MAX for a user store. */
	size_t max_bytes;
	struct store_keep *keep; /* NULL, or the login's keep (above) */
};

struct store; /* one open: owns the backend's handle and holds the lock */

/*
 * store_keep: what one open of a GDBM database checked, kept for the next
 * open of the same database in the same login, so that the second open
 * neither walks the path again nor reopens the lock file or the database
 * (issue 15: a login opens the user's part twice, the look before the
 * prompt and the check after it).  Set opts->keep (location_store_opts
 * takes loc->keep): the close of a store opened with it leaves here its
 * folder's O_PATH descriptor, its lock file's descriptor (unlocked) and,
 * when it read the database itself, the database's descriptor (opened
 * read-write, for the check); an open of the same path takes them back
 * instead of walking.  Nothing is trusted that was not checked: the
 * folder was walked without following a link and its owner and mode
 * checked, and it cannot be swapped under a descriptor; the lock file is
 * checked again by the fstat every open makes of it once locked; the
 * database's descriptor is used again only when an fstatat of its name,
 * under the lock, finds the same inode (a batch renames a new file over
 * it) and that stat passes the checks an open would make; otherwise the
 * name is opened again.  Not shared between threads; one login, one keep.
 */
struct store_keep {
	char path[PATH_MAX]; /* the database they were opened for, "" none */
	int dir_fd;
	int lock_fd;
	int db_fd;    /* -1: none (the open handed it to GDBM, or read only) */
	dev_t db_dev; /* and the inode it is */
	ino_t db_ino;
};

/* An empty keep; store_keep_release closes what it holds (and empties it). */
void store_keep_init(struct store_keep *k);
void store_keep_release(struct store_keep *k);

/* Opens the store at `loc` and takes its lock (shared for STORE_READ,
 * exclusive otherwise), waiting up to opts->lock_timeout_ms.  0 and *out,
 * which store_close frees; -1 otherwise, TOTP_R_NOT_FOUND when there is
 * no store yet (and mode is not STORE_CREATE). */
int store_open(const struct store_location *loc, enum store_mode mode,
	       const struct store_opts *opts, struct store **out, struct totp_err *err);

/* Opens the part of the store at `loc` that holds `user`'s record, as
 * store_open does, for get, put and delete of that user (and of the
 * users that share its part: another user may be refused,
 * TOTP_R_INVALID).  Login and lifecycle open this way.  In a sharded
 * store (loc->sharded) only the user's shard is opened and locked, so
 * users of other shards are never blocked by this open; the lock is
 * held from the open to the close, as store_open's.  Elsewhere it is
 * store_open.
 *
 * What store_open (the whole store) guarantees in a sharded store:
 *   - each get, put and delete is under the lock of its user's shard; a
 *     get and a put of one user with no call for a user of another shard
 *     between them are atomic (the shard is kept until then);
 *   - store_iterate visits the shards in order, each under its own
 *     shared lock: every record it gives is whole, but the records are
 *     not one snapshot of the realm (a write may land between shards);
 *   - a batch is all or nothing across the realm, as in a single file:
 *     store_commit publishes it with a journal (shard_store.h); a crash
 *     or an error in the middle of store_commit leaves every record old
 *     or, once the journal is written, every one new (the next open of
 *     the realm or of a shard finishes it). */
int store_open_user(const struct store_location *loc, const char *user,
		    enum store_mode mode, const struct store_opts *opts,
		    struct store **out, struct totp_err *err);

/* 1 and *r filled when found, 0 when the user has no record, -1 on error.
 * A record that does not decode is an error (TOTP_R_CORRUPT/_VERSION). */
int store_get(struct store *s, const char *user, struct record *r, struct totp_err *err);

/* Replaces (or adds) the user's record; STORE_WRITE or STORE_CREATE. */
int store_put(struct store *s, const char *user, const struct record *r,
	      struct totp_err *err);

/* Compare-and-set: stores r only if the user's stored record still has
 * sequence `read_sequence` (the one this caller read): 0 stored, 1 not
 * (someone else wrote since; nothing changed), -1 on error. */
int store_put_if(struct store *s, const char *user, const struct record *r,
		 uint64_t read_sequence, struct totp_err *err);

/* Whether the store has no lock (above): login.c then writes with
 * store_put_if only, and decides again on a conflict. */
bool store_lockless(const struct store *s);

/* Deletes the user's record; deleting a missing one is TOTP_R_NOT_FOUND. */
int store_delete(struct store *s, const char *user, struct totp_err *err);

/* Calls fn for every record (order unspecified, secret included and wiped
 * after the call) until it returns non-zero, which store_iterate then
 * returns; -1 on a store error. */
typedef int (*store_iter_fn)(const char *user, const struct record *r, void *arg);
int store_iterate(struct store *s, store_iter_fn fn, void *arg, struct totp_err *err);

/* Makes every change of this open durable; publishes a batch. */
int store_commit(struct store *s, struct totp_err *err);

/* Lets go of the store and its lock (a batch not committed is dropped).
 * NULL is fine. */
void store_close(struct store *s);

#endif
