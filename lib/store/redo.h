/*
 * redo: a change of a GDBM file made in place, crash-safe, through a redo
 * journal (issue 15: a new key used to copy the whole file, so a
 * registration needed a shard's size in free space).
 *
 * The caller makes the change on a copy of the file in memory (a memfd),
 * and redo_make compares the two, REDO_BLOCK bytes at a time: the journal
 * holds the runs of blocks that differ and the new length, sealed by a
 * SHA-256 of the whole.  It is kept in the database's lock file, which is
 * empty otherwise: every open holds that file and its lock anyway, so one
 * fstat tells it whether a change was left half done.  Under the
 * exclusive lock:
 *   1. redo_commit: the journal written to the lock file and synced.  This
 *      is the commit point;
 *   2. redo_apply: the runs written to the database, which is synced;
 *   3. redo_clear: the lock file cut back to empty and synced.
 * A crash before 1 ends leaves no journal or a torn one (its checksum
 * fails): the database was not touched, and the journal is dropped.  A
 * crash after it leaves a whole journal, which the next open applies
 * again (writing the same bytes twice is harmless) before anything is
 * read.  Step 3 is synced before the lock is let go, so a journal never
 * outlives its change and is never applied over a later write.
 *
 * The free space a change needs is its journal (the blocks it touches: a
 * few times the record) and the file's growth; never a copy of the file.
 * No state outside the caller's buffers; errors are returned.
 */
#ifndef TOTP_REDO_H
#define TOTP_REDO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "errors.h"

#define REDO_BLOCK 512 /* GDBM's smallest block: a change touches whole ones */
/* The longest journal an open reads back (a garbled lock file must not
 * make it allocate gigabytes): far above any change of one record. */
#define REDO_MAX (64u * 1024 * 1024)

/* The journal that turns the file of old_fd (old_size bytes) into that of
 * new_fd (new_size bytes, not shorter): malloc'd in *out, *len bytes
 * (the caller frees it).  0, or -1 when a file cannot be read. */
int redo_make(int old_fd, off_t old_size, int new_fd, off_t new_size, uint8_t **out,
	      size_t *len, struct totp_err *err);

/* Step 1: writes the journal to lock_fd (empty) and syncs it.  0, or -1
 * (the caller clears what a failed write left, redo_clear). */
int redo_commit(int lock_fd, const uint8_t *j, size_t len, const char *shown,
		struct totp_err *err);

/* Reads back the journal in lock_fd (its size from the caller's fstat):
 * 1 and a whole one in *out (malloc'd), 0 when what is there is torn or
 * not a journal (nothing was applied), -1 when it cannot be read or is
 * longer than `max` (REDO_MAX, or less for a store of bounded size). */
int redo_read(int lock_fd, off_t size, size_t max, uint8_t **out, size_t *len,
	      const char *shown, struct totp_err *err);

/* Before step 1: reserves the blocks the file will grow by, so that a
 * full disk refuses the change before it commits (TOTP_R_NO_SPACE), not
 * halfway through it.  0, or -1. */
int redo_reserve(int db_fd, off_t old_size, off_t new_size, const char *shown,
		 struct totp_err *err);

/* Step 2: writes a whole journal's runs to db_fd and syncs it.  0, or -1. */
int redo_apply(int db_fd, const uint8_t *j, size_t len, const char *shown,
	       struct totp_err *err);

/* Step 3: cuts lock_fd back to empty and syncs it.  0, or -1. */
int redo_clear(int lock_fd, const char *shown, struct totp_err *err);

#endif
