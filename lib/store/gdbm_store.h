/*
 * gdbm_store: the store interface (store.h) over a realm's GDBM file.
 *
 * Locking (DESIGN.md): a stable lock file "<db>.lock" beside the database
 * is flock()ed, shared to read and exclusive to write, retried until a
 * deadline; then the database is opened O_NOFOLLOW|O_CLOEXEC and its
 * first 16 KB read.  A get reads the record itself (gdbm_file.h), and a
 * put that changes only the mutable slot rewrites those bytes in place;
 * the descriptor is handed to gdbm_fd_open(GDBM_NOLOCK) when a call needs
 * GDBM (any other change, a listing, a file gdbm_file does not read), and
 * that open then uses GDBM alone.  gdbm's close closes the database before
 * it lets go of the lock.  A read-modify-write is one store_open with
 * STORE_WRITE, get, put, close.
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
 * Crash safety (value2.h, tests/test_torture.c): GDBM 1.23 alone is not
 * safe against a process killed in the middle of gdbm_store.  So a record
 * is kept in a v2 value: an immutable area and two checksummed slots of
 * its mutable area, of a size fixed for the life of the value.  A write
 * that changes only the mutable area (a login) replaces the value in
 * place (GDBM then writes only the value, and only the older slot
 * differs: that slot's bytes are all it writes); a new key, a deletion, or a changed
 * immutable area (register, verify, remove, new codes) is made on a copy in memory and
 * written to the database through a redo journal in its lock file (redo.h), which every
 * open finishes, or drops when torn, before it reads; a batch's changes are made on a
 * copy of the file renamed over it.  v1 values (slot.h's "TOTS", and bare records) are
 * read; the first write of one makes it a v2 value, through the journal.  A process
 * killed at any point leaves every record as it was before the call or as
 * the call made it.  A database file shorter than its GDBM header says is
 * TOTP_R_TRUNCATED even when what is left would open.
 */
#ifndef TOTP_GDBM_STORE_H
#define TOTP_GDBM_STORE_H

#include "store.h"

/* The backend store.c dispatches STORE_KIND_GDBM to. */
struct store_backend;
extern const struct store_backend gdbm_store_backend;

/* The O_PATH descriptor of the folder an open GDBM store is in, checked
 * when it was walked (still the store's: not to be closed), or -1 for any
 * other store. */
int gdbm_store_folder(const struct store *s);

/* The bytes of the journal (redo.h) of the last change this open made in
 * place, or 0: what the change needed in free space besides the file's
 * growth (bench_gen and the tests show it). */
size_t gdbm_store_last_journal(const struct store *s);

/* Opens the GDBM store at `db_path` directly (the tests, the crash
 * torture and bench_gen, which test this backend itself); everything
 * else goes through store_open.  As store_open otherwise. */
int gdbm_store_open(const char *db_path, enum store_mode mode,
		    const struct store_opts *opts, struct store **out,
		    struct totp_err *err);

/* What the shards (shard_store.h) ask beyond store_opts. */
struct gdbm_store_ext {
	/* A new database is made with blocks of this many bytes (GDBM's
	 * GDBM_BSEXACT; 512 at least); 0: the file system's block. */
	int block_size;
	/* No fsync at all, not even by store_commit: the caller syncs the
	 * file system (syncfs) before it says the change is durable.  A
	 * process killed at any point still leaves every record whole (each
	 * change is renamed in); a machine that stops before that syncfs
	 * may lose, or cut, files made since. */
	bool defer_sync;
};

/* gdbm_store_open with `x` (gdbm_store_open is this with {0, false}). */
int gdbm_store_open_ext(const char *db_path, enum store_mode mode,
			const struct store_opts *opts, const struct gdbm_store_ext *x,
			struct store **out, struct totp_err *err);

/* One shard's part of a journalled batch (shard_store.h), staged beside
 * the database `name` in the folder dirfd: under the exclusive lock
 * "<name>.lock" (made when missing), the database is copied to `stage`
 * (any file of that name is replaced), `fn` makes its changes through the
 * store it is given (store_put, store_delete and store_get on the staged
 * copy only; not store_commit or store_close), and the copy is closed,
 * not synced (x->defer_sync is implied: the caller syncs the file
 * system).  A database that is missing is made as gdbm_store_stage_new
 * makes it (with no lock file either, no lock is taken or made: the
 * caller's journal keeps everyone out).  The lock is let go before it
 * returns; the database itself is never touched, but for finishing a
 * change a crash left (redo.h).  0, or -1 (then no file
 * named `stage` is left). */
typedef int (*gdbm_stage_fn)(struct store *st, void *arg, struct totp_err *err);
int gdbm_store_stage(int dirfd, const char *name, const char *stage, const char *shown,
		     const struct store_opts *opts, const struct gdbm_store_ext *x,
		     gdbm_stage_fn fn, void *arg, struct totp_err *err);

/* What a batch keeps to make the databases it makes new
 * (gdbm_store_stage_new): a file in memory (memfd) and the bytes of an
 * empty database of x->block_size, made once by GDBM.  NULL on error. */
struct gdbm_scratch;
struct gdbm_scratch *gdbm_scratch_new(const struct gdbm_store_ext *x,
				      struct totp_err *err);
void gdbm_scratch_free(struct gdbm_scratch *p);

/* gdbm_store_stage for a database that does not exist, when the caller
 * knows it (its folder listed since its journal was made holds no file of
 * that database: neither it nor its lock file), so it is not looked for
 * again and no lock is taken: the database is made in memory (in p's
 * file, from p's empty one), `fn` makes its changes there, and its bytes
 * are written to the new file `stage` (0600, O_EXCL|O_NOFOLLOW; one a
 * killed batch left is replaced) a page at a time, not synced.  0, or -1
 * (then no file named `stage` is left). */
int gdbm_store_stage_new(int dirfd, const char *stage, const char *shown,
			 struct gdbm_scratch *p, gdbm_stage_fn fn, void *arg,
			 struct totp_err *err);

/* Makes the lock file `name` in dirfd when it is missing (checked as a
 * store's lock file is when it is there): 0, or -1. */
int gdbm_store_lock_make(int dirfd, const char *name, const struct store_opts *opts,
			 const char *shown, struct totp_err *err);

/* Opens (making it when missing) the lock file `name` in dirfd, checked as
 * a store's lock file is, and flocks it, exclusive or shared, waiting up
 * to opts->lock_timeout_ms: its descriptor (closing it lets go), or -1. */
int gdbm_store_lock_at(int dirfd, const char *name, bool excl,
		       const struct store_opts *opts, const char *shown,
		       struct totp_err *err);

/* Durability is put's (with `sync`) and store_commit's: store_close
 * itself never fsyncs, although GDBM 1.23's gdbm_close would
 * (gdbm_store.c).  Every put is written to the file before it returns
 * either way; `sync` decides only whether it survives a crash of the
 * machine. */

#endif
