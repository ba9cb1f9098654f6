/*
 * shard_store: a system store as a fixed set of GDBM shards
 * (docs/record-v2.md, "A system store is a fixed set of shards").
 *
 * A realm's system store at "<dir>/<realm>.db" (store_location.where)
 * lives in SHARD_COUNT GDBM files, by the first SHARD_BITS bits of
 * SHA-256 of the user name: "<dir>/<realm>.d/<shard>.db" and its lock
 * "<shard>.db.lock" (the shard's number in lower-case hex, 3 digits).
 * Each shard is a gdbm_store (gdbm_store.h: safe walk, its own flock,
 * crash-safe puts), made on demand with its folders (0700, files 0600,
 * owned by the store's owner); a shard is never split or merged.  A new
 * key is written in place in one shard through its redo journal
 * (redo.h), which reads one shard in memory, not the realm.
 *
 * The file "<dir>/<realm>.db" of earlier releases (the legacy file) is
 * read, under its own shared lock, for a user whose shard has no record;
 * every write goes to the shard, which then wins; the legacy file is
 * never written.  A user found only in the legacy file cannot be deleted
 * (TOTP_R_INVALID): `totp-enroll migrate` is to move them first.
 *
 * Opens (store.h says what callers may count on):
 *   - for one user (store_open_user): that user's shard only, locked as
 *     the mode says for the whole open; other shards are not touched, so
 *     users of other shards are never blocked by it;
 *   - for the realm (store_open): each get, put and delete opens its
 *     user's shard and keeps that one shard (and its lock) until a call
 *     for a user of another shard, or the close; store_iterate visits
 *     the shards in order, each under its own shared lock, then the
 *     legacy file's users that no shard has;
 *   - a batch for the realm keeps its puts in memory until store_commit,
 *     which makes it all or nothing across the realm with a roll-forward
 *     journal "<realm>.d/journal" (under its lock "journal.lock"): an
 *     empty journal first (the marker), then each changed shard, under
 *     its own lock, copied with its changes to "<shard>.jnew" beside it
 *     (a shard with no file yet: made in memory, written there in one
 *     write, its lock file made beside it so that no first login has
 *     to; a batch given up leaves that lock file, empty, as lock files
 *     are); one syncfs; the journal (the shards, a SHA-256 of them) written and
 *     synced, which is the commit point; the renames, the folder synced,
 *     the journal removed.  Every open, after it has locked its shard, looks
 *     for the journal (one fstatat that fails when there is none); one
 *     that finds it lets go of its shard, waits for the journal's lock
 *     (opts->lock_timeout_ms), and when the batch's writer is gone (a
 *     crash) finishes it: a whole journal's renames are done again, and a
 *     torn journal, or the marker alone, means the batch never committed:
 *     its staged copies are removed and every shard stays old.  So from
 *     the marker to the end of a commit every open of the realm waits for
 *     it (as a batch in a single-file store holds its lock).
 */
#ifndef TOTP_SHARD_STORE_H
#define TOTP_SHARD_STORE_H

#include <stddef.h>

#include "store.h"

/* The number of shards is part of the format: a realm's users are where
 * SHARD_BITS put them, so a realm never changes it, and no setting does
 * (DESIGN.md, "Stores"; docs/record-v2.md says why 10).  10 bits: 1024
 * shards, "<realm>.d/000.db" to "<realm>.d/3ff.db".  Other values (8, 12;
 * 16: 65536 shards in 256 folders, "<realm>.d/ab/cd.db") build only to
 * measure the choice again (-DSHARD_BITS=); no store of theirs was ever
 * released. */
#ifndef SHARD_BITS
#define SHARD_BITS 10
#endif
#if SHARD_BITS != 8 && SHARD_BITS != 10 && SHARD_BITS != 12 && SHARD_BITS != 16
#error "SHARD_BITS is 10 (the format), or 8, 12, 16 to measure"
#endif
#define SHARD_COUNT (1u << SHARD_BITS)

/* The bytes of the redo journal (redo.h) of the last change in place of
 * an open store: its current shard's in a sharded store, or the GDBM
 * store's own (gdbm_store_last_journal); 0 when there was none. */
size_t shard_store_last_journal(const struct store *s);

/* The shard of a user name: the first SHARD_BITS bits of its SHA-256. */
unsigned shard_of(const char *user);

/* The folder of a realm's shards: "<where minus .db>.d" (where + ".d"
 * when it does not end in ".db").  0, or -1 TOTP_R_INVALID (too long). */
int shard_root(const char *where, char *out, size_t outsz, struct totp_err *err);

/* "<root>/<shard>.db" for shard number `shard` (shard_store.h).  0 or -1
 * (too long). */
int shard_path(const char *root, unsigned shard, char *out, size_t outsz,
	       struct totp_err *err);

/* Opens a sharded location for one user (user != NULL) or for the realm
 * (NULL).  As store_open otherwise: TOTP_R_NOT_FOUND when neither the
 * shards' folder nor the legacy file exists (and mode is not
 * STORE_CREATE). */
int shard_store_open(const struct store_location *loc, const char *user,
		     enum store_mode mode, const struct store_opts *opts,
		     struct store **out, struct totp_err *err);

#endif
