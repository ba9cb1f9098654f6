/*
 * shard_store: a system store as a fixed set of GDBM shards
 * (docs/record-v2.md, "A system store is a fixed set of shards").
 *
 * A realm's system store at "<dir>/<realm>.db" (store_location.where)
 * lives in SHARD_COUNT GDBM files, by the first 16 bits of SHA-256 of
 * the user name: "<dir>/<realm>.d/ab/cd.db" and its lock "cd.db.lock"
 * (ab and cd: the first and second byte of the hash, in lower-case hex).
 * Each shard is a gdbm_store (gdbm_store.h: safe walk, its own flock,
 * crash-safe puts), made on demand with its folders (0700, files 0600,
 * owned by the store's owner); a shard is never split or merged.  A new
 * key copies one shard, not the realm.
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
 *     which writes them shard by shard in shard order, each shard's part
 *     a gdbm batch (one copy, synced, renamed): each shard's part is all
 *     or nothing, the shards are not (a crash in the middle of a commit
 *     leaves the shards before it new and the others old).
 */
#ifndef TOTP_SHARD_STORE_H
#define TOTP_SHARD_STORE_H

#include <stddef.h>

#include "store.h"

#define SHARD_COUNT 65536u

/* The shard of a user name: the first 16 bits of its SHA-256. */
unsigned shard_of(const char *user);

/* The folder of a realm's shards: "<where minus .db>.d" (where + ".d"
 * when it does not end in ".db").  0, or -1 TOTP_R_INVALID (too long). */
int shard_root(const char *where, char *out, size_t outsz, struct totp_err *err);

/* "<root>/ab/cd.db" for shard number `shard`.  0 or -1 (too long). */
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
