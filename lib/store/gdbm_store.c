/* gdbm_store: the GDBM backend of the store interface (gdbm_store.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "gdbm_file.h"
#include "gdbm_store.h"
#include "redo.h"
#include "safe_open.h"
#include "safe_read.h"
#include "slot.h"
#include "store_backend.h"
#include "value2.h"

struct db_path {
	char dir[PATH_MAX];
	char name[NAME_MAX + 1];
	char lock[NAME_MAX + 1];
	char tmp[NAME_MAX + 1];
};

struct gdbm_store {
	GDBM_FILE db;		    /* NULL until a call needs GDBM (usable()) */
	struct gdbm_file_spot spot; /* where spot_user's value sits */
	uint8_t *spot_value;	    /* and what it holds (a copy) */
	char spot_user[USER_NAME_MAX + 1];
	bool dirty; /* a value rewritten through fd, not yet synced */
	int lock_fd;
	int dir_fd; /* the database's folder (O_PATH), for a copy renamed in */
	bool writable;
	bool sync;
	bool batch;	 /* every write on a copy, published by store_commit only */
	bool copying;	 /* writing a copy of the database, not yet renamed in */
	bool defer_sync; /* gdbm_store_ext: no fsync, the caller's syncfs */
	struct store_keep *keep; /* opts->keep: gets the descriptors back */
	bool fd_rdwr;		 /* gf.fd was opened read-write (for the keep) */
	dev_t dev;		 /* the database's inode, as its open found it */
	ino_t ino;
	size_t max_bytes;  /* opts->max_bytes, for opening it again */
	size_t redo_bytes; /* the journal of the last change in place */
	struct db_path p;
	char path[PATH_MAX]; /* for messages */
	/* the database as the open read it, read directly while db is NULL
	 * (gf.fd -1 once it is GDBM's); last, for its 16 KB head */
	struct gdbm_file gf;
};

/* A GDBM header occupies a whole block: a shorter file was cut. */
#define GDBM_HEADER_MIN GDBM_FILE_BLOCK_MIN
/* The header's fields (gdbm_file.h has its layout). */
#define GDBM_HDR_AT(field) offsetof(struct gdbm_file_header, field)
#define GDBM_HDR_PEEK GDBM_FILE_HEADER
#define GDBM_NUMSYNC_MAGIC64_NATIVE 0x13579ad1U

/* The lock is polled: short sleeps first, so that an uncontended wait is
 * short, growing to a cap so that waiters do not spin. */
#define LOCK_SLEEP_MIN_US 50
#define LOCK_SLEEP_MAX_US 2000

/* ---- the path ------------------------------------------------------------ */

static int path_split(const char *path, struct db_path *p, struct totp_err *err)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash != NULL ? slash + 1 : path;
	size_t dirlen = slash == NULL ? 0 : (slash == path ? 1 : (size_t)(slash - path));

	if (path[0] == '\0' || name[0] == '\0' || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return totp_err_set(err, TOTP_R_INVALID,
				    "database path \"%s\" does not name a file", path);
	if (dirlen >= sizeof(p->dir) || strlen(name) + sizeof(".lock") > sizeof(p->name))
		return totp_err_set(err, TOTP_R_INVALID,
				    "database path \"%s\" is too long", path);
	if (slash == NULL)
		strcpy(p->dir, ".");
	else {
		memcpy(p->dir, path, dirlen);
		p->dir[dirlen] = '\0';
	}
	strcpy(p->name, name);
	snprintf(p->lock, sizeof(p->lock), "%s.lock", name);
	snprintf(p->tmp, sizeof(p->tmp), "%s.new", name);
	return 0;
}

/* ---- the walk and the files (safe_open.h) ------------------------------- */

/* A folder on the way is the owner's or root's; the database and its
 * lock file are the owner's alone, and nothing else. */
static int walk_dir(const char *dir, bool create, const struct store_opts *o,
		    struct totp_err *err)
{
	struct safe_rule dirs = {o->owner, SAFE_OWNER_OR_ROOT | SAFE_NOT_SHARED};
	int fd = -1;

	if (safe_walk_dir(dir, &dirs, create, &fd, err) != 0)
		return -1;
	return fd;
}

/* What each file of the store must be. */
static struct safe_rule file_rule(const struct store_opts *o)
{
	struct safe_rule file = {o->owner, SAFE_OWNER | SAFE_NOT_SHARED | SAFE_ONE_LINK};

	return file;
}

/* A file of the store in dirfd: its descriptor (and in *st the fstat its
 * checks judged), SAFE_MISSING, or -1. */
static int file_open(int dirfd, const char *name, int flags, const struct store_opts *o,
		     const char *kind, const char *shown, struct stat *st,
		     struct totp_err *err)
{
	struct safe_rule file = file_rule(o);

	return safe_open_at_stat(dirfd, name, flags, &file, kind, shown, st, err);
}

/* ---- the lock ------------------------------------------------------------ */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* flock with a deadline: GDBM's own lock does not wait, a blocking flock
 * cannot be bounded without signals, so try, sleep a little, try again. */
static int lock_take(int fd, bool excl, int timeout_ms, const char *shown,
		     struct totp_err *err)
{
	long long deadline = now_us() + (timeout_ms > 0 ? timeout_ms : 0) * 1000LL;
	long sleep_us = LOCK_SLEEP_MIN_US;

	for (;;) {
		long long left;
		struct timespec ts;

		if (flock(fd, (excl ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return totp_err_errno(err, errno, "cannot lock %s", shown);
		left = deadline - now_us();
		if (left <= 0)
			return totp_err_set(
			    err, TOTP_R_LOCK_TIMEOUT,
			    "%s stayed locked by another process for %d ms: "
			    "try again later",
			    shown, timeout_ms);
		if (sleep_us > left)
			sleep_us = (long)left;
		ts.tv_sec = 0;
		ts.tv_nsec = sleep_us * 1000L;
		nanosleep(&ts, NULL);
		if (sleep_us < LOCK_SLEEP_MAX_US)
			sleep_us *= 2;
	}
}

/* A lock file, opened but not checked yet: settle checks the fstat it
 * makes once the lock is held (safe_open_at_unchecked). */
static int lock_file_open(int dirfd, const char *name, int flags,
			  const struct store_opts *o, const char *shown,
			  struct totp_err *err)
{
	struct safe_rule file = file_rule(o);

	return safe_open_at_unchecked(dirfd, name, flags, &file, "lock file", shown, err);
}

/* The lock file is made by writers; a reader of a database that has none
 * yet makes it too, but never for a database that is not there.  The
 * descriptor is not checked yet (lock_file_open). */
static int lock_open(int dirfd, const struct db_path *p, enum store_mode mode,
		     const struct store_opts *o, const char *shown, struct totp_err *err)
{
	struct stat st;
	int fd;

	if (mode == STORE_READ) {
		fd = lock_file_open(dirfd, p->lock, O_RDONLY, o, shown, err);
		if (fd != SAFE_MISSING)
			return fd;
		if (fstatat(dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) != 0 &&
		    errno == ENOENT)
			return totp_err_set(err, TOTP_R_NOT_FOUND,
					    "no database at %s/%s: enroll first", p->dir,
					    p->name);
	}
	fd = lock_file_open(dirfd, p->lock, O_RDWR | O_CREAT, o, shown, err);
	if (fd == SAFE_MISSING) /* the folder vanished under us */
		return totp_err_errno(err, ENOENT, "cannot make lock file %s", shown);
	return fd;
}

/* ---- GDBM ---------------------------------------------------------------- */

static bool gdbm_damage(gdbm_error code)
{
	switch (code) {
	case GDBM_BAD_MAGIC_NUMBER:
	case GDBM_EMPTY_DATABASE:
	case GDBM_BLOCK_SIZE_ERROR:
	case GDBM_BYTE_SWAPPED:
	case GDBM_BAD_FILE_OFFSET:
	case GDBM_NEED_RECOVERY:
	case GDBM_DIR_OVERFLOW:
	case GDBM_BAD_BUCKET:
	case GDBM_BAD_HEADER:
	case GDBM_BAD_AVAIL:
	case GDBM_BAD_HASH_TABLE:
	case GDBM_BAD_DIR_ENTRY:
	case GDBM_BUCKET_CACHE_CORRUPTED:
	case GDBM_BAD_HASH_ENTRY:
	case GDBM_MALFORMED_DATA:
		return true;
	default:
		return false;
	}
}

/* Turns a GDBM error into ours: damage is TOTP_R_CORRUPT, a file that ends
 * early TOTP_R_TRUNCATED, a system error follows errno. */
static int gdbm_fail(gdbm_error code, int syserr, const char *what, const char *shown,
		     struct totp_err *err)
{
	if (code == GDBM_FILE_EOF)
		return totp_err_set(
		    err, TOTP_R_TRUNCATED,
		    "%s %s: the file ends early; restore it from a backup", what, shown);
	if (gdbm_damage(code))
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "%s %s: not a pam_totp database or damaged (%s); "
				    "restore it from a backup",
				    what, shown, gdbm_strerror(code));
	if (code == GDBM_MALLOC_ERROR)
		return totp_err_set(err, TOTP_R_NOMEM, "%s %s: out of memory", what,
				    shown);
	if (gdbm_check_syserr(code) && syserr != 0)
		return totp_err_errno(err, syserr, "%s %s (%s)", what, shown,
				      gdbm_strerror(code));
	return totp_err_set(err, TOTP_R_IO, "%s %s: %s", what, shown,
			    gdbm_strerror(code));
}

static int db_fail(GDBM_FILE db, const char *what, const char *shown,
		   struct totp_err *err)
{
	return gdbm_fail(gdbm_last_errno(db), gdbm_last_syserr(db), what, shown, err);
}

/* A GDBM header whose recorded end lies past the file's end: cut short,
 * not garbage (GDBM itself only says the header is bad). */
static bool header_says_cut(const uint8_t *h, bool whole, off_t size)
{
	uint32_t magic;
	int64_t next_block;

	if (!whole)
		return false;
	memcpy(&magic, h, sizeof(magic));
	memcpy(&next_block, h + GDBM_HDR_AT(next_block), sizeof(next_block));
	if (magic != GDBM_FILE_MAGIC64 && magic != GDBM_NUMSYNC_MAGIC64_NATIVE)
		return false;
	return next_block > (int64_t)size;
}

/* The sizes GDBM allocates from its header, against the file: a block, the
 * directory and a bucket must each fit in it, the directory where the
 * header puts it.  A header that is not GDBM's is left to GDBM to refuse. */
static bool header_sizes_ok(const uint8_t *h, bool whole, off_t size)
{
	uint32_t magic;
	int32_t block_size, dir_size, bucket_size;
	int64_t dir;

	if (!whole)
		return true; /* shorter than a header: refused before this */
	memcpy(&magic, h, sizeof(magic));
	if (magic != GDBM_FILE_MAGIC64 && magic != GDBM_NUMSYNC_MAGIC64_NATIVE)
		return true;
	memcpy(&block_size, h + GDBM_HDR_AT(block_size), sizeof(block_size));
	memcpy(&dir, h + GDBM_HDR_AT(dir), sizeof(dir));
	memcpy(&dir_size, h + GDBM_HDR_AT(dir_size), sizeof(dir_size));
	memcpy(&bucket_size, h + GDBM_HDR_AT(bucket_size), sizeof(bucket_size));
	return block_size >= GDBM_HEADER_MIN && block_size <= size && dir_size > 0 &&
	       dir_size <= size && dir >= block_size && dir <= size - dir_size &&
	       bucket_size > 0 && bucket_size <= size;
}

/* A database the caller bounded, or whose header asks for more than the
 * file holds, is refused before GDBM allocates anything for it. */
static int size_check(const uint8_t *h, bool whole, off_t size, size_t max_bytes,
		      const char *shown, struct totp_err *err)
{
	if (max_bytes != 0 && (uint64_t)size > max_bytes)
		return totp_err_set(
		    err, TOTP_R_CORRUPT,
		    "database %s is %lld bytes, larger than the %zu a user "
		    "store may be (it holds one user): remove it and "
		    "enroll again",
		    shown, (long long)size, max_bytes);
	if (!header_sizes_ok(h, whole, size))
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "database %s: its GDBM header gives sizes the file "
				    "cannot hold: not a pam_totp database or damaged; "
				    "restore it from a backup",
				    shown);
	return 0;
}

/* A zero-length or short file is refused: GDBM would make a new, empty
 * database of it as a writer, un-enrolling everyone.  h: the header's
 * first bytes (whole: all of them were read). */
static int header_check(const uint8_t *h, bool whole, off_t size, size_t max_bytes,
			const char *shown, struct totp_err *err)
{
	if (size < GDBM_HEADER_MIN)
		return totp_err_set(
		    err, TOTP_R_TRUNCATED,
		    "database %s is %lld bytes, shorter than a GDBM header: it was "
		    "cut short; restore it from a backup",
		    shown, (long long)size);
	/* GDBM 1.23 extends the file to the header's end as it allocates, so
	 * a file shorter than that was cut, even when what is left opens */
	if (header_says_cut(h, whole, size))
		return totp_err_set(err, TOTP_R_TRUNCATED,
				    "database %s is shorter than its header says: it was "
				    "cut short; restore it from a backup",
				    shown);
	return size_check(h, whole, size, max_bytes, shown, err);
}

/* What every open checks of the file before reading a record: not cut
 * short, not larger than the caller allows, a header whose sizes fit.
 * `size` is the file's, from the fstat its open checked. */
static int db_check(struct gdbm_file *gf, int fd, off_t size, size_t max_bytes,
		    const char *shown, struct totp_err *err)
{
	if (gdbm_file_load(gf, fd, size) != 0)
		return totp_err_errno(err, errno, "cannot read database %s", shown);
	return header_check(gf->head, gf->have >= GDBM_HDR_PEEK, size, max_bytes, shown,
			    err);
}

/* Hands fd to GDBM, checked again (a reattach comes after a change).
 * GDBM leaves fd open when it fails (no GDBM_CLOERROR), so closing it
 * stays here, once. */
static int db_attach(int fd, off_t size, bool writable, size_t max_bytes,
		     const char *shown, GDBM_FILE *out, struct totp_err *err)
{
	int flags = (writable ? GDBM_WRITER : GDBM_READER) | GDBM_NOLOCK | GDBM_CLOEXEC |
		    GDBM_NOMMAP;  /* a file cut by someone else must not SIGBUS us */
	uint8_t h[GDBM_HDR_PEEK]; /* the header's start, read once for its checks */
	bool whole = pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h);
	GDBM_FILE db;

	if (header_check(h, whole, size, max_bytes, shown, err) != 0)
		goto fail;
	db = gdbm_fd_open(fd, shown, 0, flags, NULL);
	if (db == NULL) {
		int syserr = errno;
		gdbm_error code = gdbm_errno;

		if (gdbm_damage(code) && header_says_cut(h, whole, size))
			code = GDBM_FILE_EOF;
		gdbm_fail(code, syserr, "cannot open database", shown, err);
		goto fail;
	}
	if (gdbm_needs_recovery(db)) {
		gdbm_close(db);
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "database %s needs recovery (gdbmtool recover); "
				    "restore it from a backup",
				    shown);
	}
	*out = db;
	return 0;
fail:
	close(fd);
	return -1;
}

/* Makes the rename durable; dirfd is an O_PATH descriptor, which fsync
 * does not take, so the folder is opened for it. */
static int dir_sync(int dirfd, const char *shown, struct totp_err *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || fsync(fd) != 0)
		rc = totp_err_errno(err, errno, "cannot sync the folder of %s", shown);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A new database (or copy) is only started when the folder's filesystem
 * has room for it: GDBM 1.23's gdbm_fd_open(GDBM_NEWDB) leaks its header
 * buffer when a write fails (found with LeakSanitizer on a full tmpfs),
 * which in a long-lived process (sshd) would add up.  The margin covers
 * GDBM's header, directory and first bucket. */
#define ROOM_MARGIN (64 * 1024)

static int room_for(int dirfd, uint64_t need, const char *shown, struct totp_err *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct statvfs sv;
	int rc;

	if (fd < 0)
		return totp_err_errno(err, errno, "cannot open the folder of %s", shown);
	rc = fstatvfs(fd, &sv);
	close(fd);
	if (rc != 0)
		return totp_err_errno(err, errno, "cannot tell the free space for %s",
				      shown);
	if ((uint64_t)sv.f_bavail * sv.f_frsize < need + ROOM_MARGIN)
		return totp_err_set(err, TOTP_R_NO_SPACE,
				    "no room to write %s (%llu bytes needed): free some "
				    "space on its filesystem",
				    shown, (unsigned long long)(need + ROOM_MARGIN));
	return 0;
}

/* Builds an empty database at a temporary name, syncs it and renames it
 * into place, so the real name only ever holds a whole database.  The
 * caller holds the exclusive lock: a leftover temporary file is stale. */
static void close_without_fsync(GDBM_FILE db, int stand_in);

static int db_create(int dirfd, const struct db_path *p, const char *shown,
		     const struct gdbm_store_ext *x, struct totp_err *err)
{
	int fd, r;
	GDBM_FILE db;

	unlinkat(dirfd, p->tmp, 0);
	if (room_for(dirfd, 0, shown, err) != 0)
		return -1;
	fd = openat(dirfd, p->tmp, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0)
		return totp_err_errno(err, errno, "cannot make database %s", shown);
	db = gdbm_fd_open(fd, shown, x->block_size,
			  GDBM_NEWDB | GDBM_NOLOCK | GDBM_CLOEXEC |
			      (x->block_size != 0 ? GDBM_BSEXACT : 0),
			  NULL);
	if (db == NULL) {
		int syserr = errno;

		gdbm_fail(gdbm_errno, syserr, "cannot make database", shown, err);
		close(fd);
		goto fail;
	}
	if (x->defer_sync) {
		close_without_fsync(db, dirfd); /* GDBM wrote it all when it made it */
	} else if (gdbm_sync(db) != 0) {
		db_fail(db, "cannot write new database", shown, err);
		gdbm_close(db);
		goto fail;
	} else if (gdbm_close(db) != 0) {
		totp_err_errno(err, errno, "cannot write new database %s", shown);
		goto fail;
	}
	r = renameat2(dirfd, p->tmp, dirfd, p->name, RENAME_NOREPLACE);
	if (r != 0 && (errno == EINVAL || errno == ENOSYS))
		r = renameat(dirfd, p->tmp, dirfd, p->name);
	if (r != 0 && errno != EEXIST) {
		totp_err_errno(err, errno, "cannot put new database in place at %s",
			       shown);
		goto fail;
	}
	if (r != 0) /* made meanwhile by someone not taking the lock: use theirs */
		unlinkat(dirfd, p->tmp, 0);
	return x->defer_sync ? 0 : dir_sync(dirfd, shown, err);
fail:
	unlinkat(dirfd, p->tmp, 0);
	return -1;
}

/* The database's descriptor an earlier open of this login kept
 * (store_keep), when its name, under the lock, still leads to the same
 * inode: the descriptor, judged on that stat (*st) as file_open judges
 * an open; SAFE_MISSING (closed) when a batch renamed another file in, or
 * the name is gone, for the caller to open the name; or -1 (closed). */
static int kept_db(int dirfd, const struct db_path *p, const struct store_keep *k,
		   const struct store_opts *o, const char *shown, struct stat *st,
		   struct totp_err *err)
{
	struct safe_rule file = file_rule(o);

	if (fstatat(dirfd, p->name, st, AT_SYMLINK_NOFOLLOW) != 0 ||
	    st->st_dev != k->db_dev || st->st_ino != k->db_ino) {
		close(k->db_fd);
		return SAFE_MISSING;
	}
	if (safe_stat_check(st, &file, "database", shown, err) != 0) {
		close(k->db_fd);
		return -1;
	}
	return k->db_fd;
}

/* The database's file, as file_open gives it.  A look that keeps what it
 * opened (o->keep) opens it read-write for the check that follows, and
 * read-only where it may only read (a read-only filesystem). */
static int db_file(int dirfd, const struct db_path *p, enum store_mode mode,
		   const struct store_opts *o, const char *shown, struct stat *st,
		   bool *rdwr, struct totp_err *err)
{
	int fd;

	*rdwr = mode != STORE_READ || o->keep != NULL;
	fd = file_open(dirfd, p->name, *rdwr ? O_RDWR : O_RDONLY, o, "database", shown,
		       st, err);
	if (fd == -1 && mode == STORE_READ && *rdwr) {
		*rdwr = false;
		fd = file_open(dirfd, p->name, O_RDONLY, o, "database", shown, st, err);
	}
	return fd;
}

static int db_open(int dirfd, const struct db_path *p, enum store_mode mode,
		   const struct store_opts *o, const struct gdbm_store_ext *x,
		   const char *shown, const struct store_keep *kept, struct gdbm_store *s,
		   struct totp_err *err)
{
	struct stat st;
	int fd = kept != NULL && kept->db_fd >= 0
		     ? kept_db(dirfd, p, kept, o, shown, &st, err)
		     : SAFE_MISSING;

	s->fd_rdwr = true; /* a kept descriptor is read-write */
	if (fd == SAFE_MISSING)
		fd = db_file(dirfd, p, mode, o, shown, &st, &s->fd_rdwr, err);
	if (fd == SAFE_MISSING && mode == STORE_CREATE) {
		if (db_create(dirfd, p, shown, x, err) != 0)
			return -1;
		fd = db_file(dirfd, p, mode, o, shown, &st, &s->fd_rdwr, err);
	}
	if (fd == SAFE_MISSING)
		return totp_err_set(err, TOTP_R_NOT_FOUND,
				    "no database at %s: enroll first", shown);
	if (fd < 0)
		return -1;
	if (db_check(&s->gf, fd, st.st_size, o->max_bytes, shown, err) != 0) {
		close(fd);
		return -1;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	return 0;
}

/* ---- open and close -------------------------------------------------------- */

static int open_args_check(const char *db_path, enum store_mode mode,
			   const struct store_opts *opts, struct gdbm_store **out,
			   struct totp_err *err)
{
	if (out != NULL)
		*out = NULL;
	if (out == NULL || opts == NULL || db_path == NULL)
		return totp_err_set(err, TOTP_R_INVALID,
				    "gdbm_store_open needs a path, "
				    "options and a result");
	if (mode != STORE_READ && mode != STORE_WRITE && mode != STORE_CREATE)
		return totp_err_set(err, TOTP_R_INVALID, "unknown store mode %d",
				    (int)mode);
	return 0;
}

/* ---- the keep (store.h) ----------------------------------------------------- */

void store_keep_init(struct store_keep *k)
{
	k->path[0] = '\0';
	k->dir_fd = -1;
	k->lock_fd = -1;
	k->db_fd = -1;
	k->db_dev = 0;
	k->db_ino = 0;
}

void store_keep_release(struct store_keep *k)
{
	if (k == NULL)
		return;
	if (k->dir_fd >= 0)
		close(k->dir_fd);
	if (k->lock_fd >= 0)
		close(k->lock_fd);
	if (k->db_fd >= 0)
		close(k->db_fd);
	store_keep_init(k);
}

/* What the keep holds for db_path, when it holds it: true, *taken is
 * what it held (this open owns the descriptors now), and the keep is
 * empty again. */
static bool keep_take(struct store_keep *k, const char *db_path, struct store_keep *taken)
{
	store_keep_init(taken);
	if (k == NULL || k->dir_fd < 0 || k->lock_fd < 0 || strcmp(k->path, db_path) != 0)
		return false;
	taken->dir_fd = k->dir_fd;
	taken->lock_fd = k->lock_fd;
	taken->db_fd = k->db_fd;
	taken->db_dev = k->db_dev;
	taken->db_ino = k->db_ino;
	store_keep_init(k);
	return true;
}

/* Leaves a closing store's folder and unlocked lock in an empty keep:
 * true; false when there is none (the caller closes them).  The
 * database's descriptor goes too (gf.fd is then -1) when the store read
 * it itself, read-write, and GDBM never had it (GDBM reads from where its
 * descriptor stands: this one still stands at 0). */
static bool keep_give(struct gdbm_store *s)
{
	struct store_keep *k = s->keep;
	bool db = s->db == NULL && s->gf.fd >= 0 && s->fd_rdwr && !s->batch;

	if (k == NULL || k->dir_fd >= 0 || k->lock_fd >= 0 || k->db_fd >= 0 ||
	    strlen(s->path) >= sizeof(k->path))
		return false;
	memcpy(k->path, s->path, strlen(s->path) + 1);
	k->dir_fd = s->dir_fd;
	k->lock_fd = s->lock_fd;
	k->db_fd = db ? s->gf.fd : -1;
	k->db_dev = s->dev;
	k->db_ino = s->ino;
	if (db)
		s->gf.fd = -1;
	return true;
}

/* ---- a change left half done (redo.h) --------------------------------------- */

/* The most a journal of this store may be: a store of bounded size (a
 * user store) has a bounded journal. */
static size_t redo_max(const struct store_opts *o)
{
	return o->max_bytes != 0 && o->max_bytes < REDO_MAX / 2 ? 2 * o->max_bytes
								: REDO_MAX;
}

/* Finishes the change of a writer that died: a whole journal is applied
 * again, a torn one dropped (the database was not touched), under the
 * exclusive lock and on a lock file open for writing.  A reader trades
 * its shared lock for the exclusive one, and back. */
static int settle_slow(int dirfd, const char *name, const char *lock, int lockfd,
		       bool shared, const struct store_opts *o, const char *shown,
		       struct totp_err *err)
{
	struct stat st, held;
	uint8_t *j = NULL;
	size_t len = 0;
	int wfd, dbfd, rc = -1, found;

	if (shared && lock_take(lockfd, true, o->lock_timeout_ms, shown, err) != 0)
		return -1;
	wfd = file_open(dirfd, lock, O_RDWR, o, "lock file", shown, &st, err);
	if (wfd == SAFE_MISSING)
		totp_err_errno(err, ENOENT, "cannot open the lock file of %s", shown);
	if (wfd < 0)
		goto out;
	if (fstat(lockfd, &held) != 0 || held.st_ino != st.st_ino ||
	    held.st_dev != st.st_dev) {
		totp_err_set(err, TOTP_R_IO, "the lock file of %s was replaced", shown);
		goto out;
	}
	found = redo_read(wfd, st.st_size, redo_max(o), &j, &len, shown, err);
	if (found < 0)
		goto out;
	dbfd = found ? file_open(dirfd, name, O_RDWR, o, "database", shown, &st, err)
		     : SAFE_MISSING;
	if (dbfd == -1)
		goto out;
	if (dbfd >= 0) {
		int applied = redo_apply(dbfd, j, len, shown, err);

		close(dbfd);
		if (applied != 0)
			goto out;
	}
	rc = redo_clear(wfd, shown, err);
out:
	if (wfd >= 0)
		close(wfd);
	if (j != NULL) {
		explicit_bzero(j, len);
		free(j);
	}
	if (shared && lock_take(lockfd, false, o->lock_timeout_ms, shown,
				rc == 0 ? err : NULL) != 0)
		rc = -1;
	return rc;
}

/* Every open, once it holds the lock and before it reads: one fstat of
 * the lock file, which checks it (lock_shown names it: owner, mode, one
 * link, a regular file) and tells whether a change was left half done
 * (it is empty unless one was). */
static int settle(int dirfd, const char *name, const char *lock, int lockfd,
		  enum store_mode mode, const struct store_opts *o, const char *shown,
		  const char *lock_shown, struct totp_err *err)
{
	struct safe_rule file = file_rule(o);
	struct stat st;

	if (fstat(lockfd, &st) != 0)
		return totp_err_errno(err, errno, "cannot stat the lock file of %s",
				      shown);
	if (safe_stat_check(&st, &file, "lock file", lock_shown, err) != 0)
		return -1;
	if (st.st_size == 0)
		return 0;
	return settle_slow(dirfd, name, lock, lockfd, mode == STORE_READ, o, shown, err);
}

static int usable(struct gdbm_store *s, struct totp_err *err);

static int gdbm_open_path(const char *db_path, enum store_mode mode,
			  const struct store_opts *opts, const struct gdbm_store_ext *x,
			  struct gdbm_store **out, struct totp_err *err)
{
	struct db_path p;
	char lock_shown[PATH_MAX + sizeof(".lock")];
	struct store_keep kept;
	bool was_kept;
	int dirfd, lockfd;
	struct gdbm_store *s;

	if (open_args_check(db_path, mode, opts, out, err) != 0)
		return -1;
	if (path_split(db_path, &p, err) != 0)
		return -1;
	snprintf(lock_shown, sizeof(lock_shown), "%s.lock", db_path);
	was_kept = keep_take(opts->keep, db_path, &kept);
	if (was_kept) {
		dirfd = kept.dir_fd;
		lockfd = kept.lock_fd;
	} else {
		dirfd = walk_dir(p.dir, mode == STORE_CREATE, opts, err);
		if (dirfd < 0)
			return -1;
		lockfd = lock_open(dirfd, &p, mode, opts, lock_shown, err);
		if (lockfd < 0)
			goto fail_dir;
	}
	s = malloc(sizeof(*s));
	if (s == NULL) {
		totp_err_errno(err, ENOMEM, "cannot open %s", db_path);
		goto fail_lock;
	}
	memset(s, 0, offsetof(struct gdbm_store, gf.head)); /* the open fills head */
	if (lock_take(lockfd, mode != STORE_READ, opts->lock_timeout_ms, db_path, err) !=
		0 ||
	    settle(dirfd, p.name, p.lock, lockfd, mode, opts, db_path, lock_shown, err) !=
		0) {
		if (was_kept && kept.db_fd >= 0)
			close(kept.db_fd);
		free(s);
		goto fail_lock;
	}
	if (db_open(dirfd, &p, mode, opts, x, db_path, was_kept ? &kept : NULL, s, err) !=
	    0) {
		explicit_bzero(s->gf.head, s->gf.have);
		free(s);
		goto fail_lock;
	}
	s->lock_fd = lockfd;
	s->dir_fd = dirfd;
	s->p = p;
	s->writable = mode != STORE_READ;
	s->sync = opts->sync;
	s->batch = opts->batch;
	s->defer_sync = x->defer_sync;
	s->keep = opts->keep;
	s->max_bytes = opts->max_bytes;
	snprintf(s->path, sizeof(s->path), "%s", db_path);
	/* a file gdbm_file does not read is GDBM's to open, and to refuse */
	if (!gdbm_file_header_ok(&s->gf) && usable(s, err) != 0) {
		explicit_bzero(s, sizeof(*s));
		free(s);
		goto fail_lock;
	}
	*out = s;
	return 0;
fail_lock:
	close(lockfd); /* closing lets go of the lock too */
fail_dir:
	close(dirfd);
	return -1;
}

static int publish(struct gdbm_store *s, struct totp_err *err);

/*
 * GDBM 1.23's gdbm_close fsyncs every writer, whatever its sync mode.  By
 * then every update is already written to the file (gdbm_store and
 * gdbm_delete end in _gdbm_end_update, which writes the buckets, the
 * directory and the header), and what must be durable was synced by
 * store_put or store_commit.  So GDBM's descriptor is replaced, for the
 * close, by a copy of `stand_in`, the database folder's O_PATH descriptor:
 * fsync of it fails (EBADF), which gdbm_close ignores, and no write is
 * lost.  (A copy of /dev/null would do the same for two system calls more
 * a login.)
 */
static void close_without_fsync(GDBM_FILE db, int stand_in)
{
	int fd = gdbm_fdesc(db);

	if (fd >= 0 && stand_in >= 0)
		(void)dup3(stand_in, fd, O_CLOEXEC);
	gdbm_close(db);
}

static void spot_forget(struct gdbm_store *s);

/* GDBM, for a call that needs it: the file the open checked is handed to
 * it on the first such call.  A store whose change in place failed
 * halfway (change_in_place), or whose file GDBM refused, has no database
 * any more: every call fails until it is opened again. */
static int usable(struct gdbm_store *s, struct totp_err *err)
{
	int rc;

	if (s->db != NULL)
		return 0;
	if (s->gf.fd < 0)
		return totp_err_set(err, TOTP_R_IO,
				    "database %s was left in the middle of a change: "
				    "open it again",
				    s->path);
	rc = db_attach(s->gf.fd, s->gf.size, s->writable, s->max_bytes, s->path, &s->db,
		       err);
	s->gf.fd = -1;	/* GDBM's now, or closed */
	spot_forget(s); /* from now on every put goes through GDBM */
	return rc;
}

static void gdbm_close_store(struct gdbm_store *s)
{
	if (s == NULL)
		return;
	spot_forget(s);
	/* the database first: the next holder must see it complete */
	if (s->copying) /* a batch not synced: dropped, the store unchanged */
		unlinkat(s->dir_fd, s->p.tmp, 0);
	if (s->db == NULL) /* read directly, or a change in place failed */
		;
	else if (s->writable)
		close_without_fsync(s->db, s->dir_fd);
	else
		gdbm_close(s->db);
	flock(s->lock_fd, LOCK_UN);
	if (!keep_give(s)) {
		close(s->dir_fd);
		close(s->lock_fd);
	}
	if (s->gf.fd >= 0)
		close(s->gf.fd);
	/* the head is all that held a record (spot_value is wiped above) */
	explicit_bzero(s->gf.head, s->gf.have);
	free(s);
}

/* ---- a record read and rewritten without GDBM (gdbm_file.h) -------------- */

/* Wipes what the last direct read kept for a rewrite. */
static void spot_forget(struct gdbm_store *s)
{
	if (s->spot_value != NULL) {
		explicit_bzero(s->spot_value, s->spot.len);
		free(s->spot_value);
		s->spot_value = NULL;
	}
	s->spot_user[0] = '\0';
}

/* The largest value read directly; a larger one is left to GDBM. */
#define DIRECT_VALUE_MAX (64 * 1024)

static int direct_sync(struct gdbm_store *s, struct totp_err *err)
{
	if (!s->dirty || s->defer_sync)
		return 0;
	if (fdatasync(s->gf.fd) != 0)
		return totp_err_errno(err, errno, "cannot sync database %s", s->path);
	s->dirty = false;
	return 0;
}

/* `user`'s value, read from the file itself: 1 with *v (malloc'd), 0 for
 * no record, -1 on a failed read, 2 for a file only GDBM may read. */
static int direct_fetch(struct gdbm_store *s, const char *user, datum *v,
			struct totp_err *err)
{
	uint8_t *value = NULL;
	struct gdbm_file_spot spot;
	int rc = gdbm_file_find(&s->gf, (const uint8_t *)user, strlen(user),
				DIRECT_VALUE_MAX, &value, &spot);

	if (rc < 0)
		return totp_err_errno(err, errno, "cannot read the record of %s", user);
	if (rc != GDBM_FILE_FOUND)
		return rc == GDBM_FILE_MISSING ? 0 : 2;
	spot_forget(s);
	if (s->writable) { /* for a put's rewrite (direct_old) */
		s->spot_value = malloc(spot.len != 0 ? spot.len : 1);
		if (s->spot_value == NULL) {
			explicit_bzero(value, spot.len);
			free(value);
			return totp_err_set(err, TOTP_R_NOMEM,
					    "out of memory reading the record of %s",
					    user);
		}
		memcpy(s->spot_value, value, spot.len);
		s->spot = spot;
		snprintf(s->spot_user, sizeof(s->spot_user), "%s", user);
	}
	v->dptr = (char *)value;
	v->dsize = (int)spot.len;
	return 1;
}

/* The value a direct read of `user` found, for its rewrite: the store's
 * copy, which the put then owns. */
static void direct_old(struct gdbm_store *s, datum *old)
{
	old->dptr = (char *)s->spot_value;
	old->dsize = (int)s->spot.len;
	s->spot_value = NULL;
	s->spot_user[0] = '\0';
}

/* Whether a put of `user` can rewrite the value a direct read found (a
 * value kept means no call has needed GDBM since: usable() forgets it),
 * and it is not a batch (whose writes go to a copy). */
static bool direct_put_ok(const struct gdbm_store *s, const char *user)
{
	return !s->batch && s->spot_value != NULL && strcmp(s->spot_user, user) == 0;
}

static int gdbm_commit(struct gdbm_store *s, struct totp_err *err)
{
	if (!s->writable)
		return 0;
	if (s->db == NULL && s->gf.fd >= 0) /* no call needed GDBM */
		return direct_sync(s, err);
	if (usable(s, err) != 0)
		return -1;
	if (s->copying)
		return publish(s, err);
	if (s->defer_sync)
		return 0;
	if (gdbm_sync(s->db) != 0)
		return db_fail(s->db, "cannot sync database", s->path, err);
	return 0;
}

/* ---- records ------------------------------------------------------------- */

static datum key_of(const char *user)
{
	datum k = {(char *)user, (int)strlen(user)};

	return k;
}

/* Decodes a fetched value (slotted, or a bare record) and wipes it: it
 * holds the secret. */
static int value_take(datum v, struct record *r, const char *user, struct totp_err *err)
{
	const uint8_t *bytes = (const uint8_t *)v.dptr;
	size_t len = (size_t)v.dsize;
	int rc = 0;

	memset(r, 0, sizeof(*r));
	if (value2_is(bytes, len)) {
		const uint8_t *imm, *mut;
		size_t il, ml;

		rc = value2_read(bytes, len, &imm, &il, &mut, &ml, err);
		if (rc == 0)
			rc = record_decode_areas(imm, il, mut, ml, r, err);
	} else {
		if (slot_value_is(bytes, len))
			rc = slot_value_read(bytes, len, &bytes, &len, err);
		if (rc == 0)
			rc = record_decode(bytes, len, r, err);
	}

	explicit_bzero(v.dptr, (size_t)v.dsize);
	free(v.dptr);
	if (rc != 0 && err != NULL) {
		char why[TOTP_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		totp_err_set(err, err->reason, "the record of %s: %s", user, why);
	}
	return rc;
}

static int gdbm_get(struct gdbm_store *s, const char *user, struct record *r,
		    struct totp_err *err)
{
	datum v = {NULL, 0};

	if (user_name_check(user, err) != 0)
		return -1;
	if (s->db == NULL && s->gf.fd >= 0) {
		int rc = direct_fetch(s, user, &v, err);

		if (rc == 1)
			return value_take(v, r, user, err) != 0 ? -1 : 1;
		if (rc != 2)
			return rc;
	}
	if (usable(s, err) != 0)
		return -1;
	v = gdbm_fetch(s->db, key_of(user));
	if (v.dptr == NULL) {
		if (gdbm_last_errno(s->db) == GDBM_ITEM_NOT_FOUND)
			return 0;
		return db_fail(s->db, "cannot read the record of", user, err);
	}
	if (value_take(v, r, user, err) != 0)
		return -1;
	return 1;
}

/* A batch's copy is published by store_commit, not by each put. */
static int maybe_sync(struct gdbm_store *s, struct totp_err *err)
{
	return s->sync && !s->copying ? gdbm_commit(s, err) : 0;
}

/* ---- changes of structure: on a copy, renamed into place ---------------- */

/* Copies `size` bytes of `from` to `to` with read and write, for the
 * filesystems where copy_file_range does not go. */
static int copy_by_hand(int from, int to, off_t at, off_t size)
{
	uint8_t buf[65536];

	while (at < size) {
		size_t want =
		    (size_t)(size - at) < sizeof(buf) ? (size_t)(size - at) : sizeof(buf);
		ssize_t n = pread(from, buf, want, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || pwrite(to, buf, (size_t)n, at) != n) {
			if (n == 0)
				errno =
				    EIO; /* shorter than fstat said: we hold the lock */
			explicit_bzero(buf, sizeof(buf));
			return -1;
		}
		at += n;
	}
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* Copies the database file as it stands: every update this open made is
 * already written (each gdbm_store ends with its writes) and the lock
 * keeps every other writer out, so the bytes are a whole database.  The
 * kernel copies (and shares the blocks, where the filesystem can). */
static int copy_file(int from, int to, off_t size)
{
	off_t in = 0, out = 0;

	while (in < size) {
		ssize_t n = copy_file_range(from, &in, to, &out, (size_t)(size - in), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EXDEV || errno == EINVAL || errno == ENOSYS ||
			      errno == EOPNOTSUPP))
			return copy_by_hand(from, to, in, size);
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
	}
	return 0;
}

/* Stores `user`'s value in db, or with none deletes `user`: GDBM's 0 or -1. */
static int db_change(GDBM_FILE db, const char *user, const uint8_t *value,
		     size_t value_len)
{
	datum v = {(char *)value, (int)value_len};

	return value != NULL ? gdbm_store(db, key_of(user), v, GDBM_REPLACE)
			     : gdbm_delete(db, key_of(user));
}

/* A new key or a deletion rewrites GDBM's buckets, directory and header in
 * several writes, which a crash can cut apart (slot.h).  So it is made on
 * a copy of the database file: `user`'s new value is stored in it (or,
 * with none, `user` deleted from it).  From then on, this open reads and
 * writes the copy (s->copying), which nobody else sees until publish()
 * syncs it and renames it over the database.  A crash before the rename
 * leaves the old database whole; after it, the new one. */
static int start_copy(struct gdbm_store *s, const char *user, const uint8_t *value,
		      size_t value_len, struct totp_err *err)
{
	int fd, flags = GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_NOMMAP;
	struct stat st;
	GDBM_FILE db;
	int rc;

	unlinkat(s->dir_fd, s->p.tmp, 0); /* a crashed writer's: we hold the lock */
	if (fstat(gdbm_fdesc(s->db), &st) != 0)
		return totp_err_errno(err, errno, "cannot stat database %s", s->path);
	if (room_for(s->dir_fd, (uint64_t)st.st_size + value_len, s->path, err) != 0)
		return -1;
	fd = openat(s->dir_fd, s->p.tmp,
		    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return totp_err_errno(err, errno, "cannot make a new copy of database %s",
				      s->path);
	if (copy_file(gdbm_fdesc(s->db), fd, st.st_size) != 0) {
		totp_err_errno(err, errno, "cannot copy database %s", s->path);
		close(fd);
		goto fail;
	}
	db = gdbm_fd_open(fd, s->path, 0, flags, NULL);
	if (db == NULL) {
		int syserr = errno;

		gdbm_fail(gdbm_errno, syserr, "cannot open the new copy of database",
			  s->path, err);
		close(fd);
		goto fail;
	}
	rc = db_change(db, user, value, value_len);
	if (rc != 0) {
		db_fail(db, "cannot change the record of", user, err);
		close_without_fsync(db, s->dir_fd); /* removed next: no need to sync it */
		goto fail;
	}
	close_without_fsync(s->db, s->dir_fd); /* the old file stays as it is */
	s->db = db;
	s->copying = true;
	return 0;
fail:
	unlinkat(s->dir_fd, s->p.tmp, 0);
	return -1;
}

/* Syncs the copy and renames it over the database. */
static int publish(struct gdbm_store *s, struct totp_err *err)
{
	if (s->defer_sync) { /* written by GDBM already; synced by the caller */
		if (renameat(s->dir_fd, s->p.tmp, s->dir_fd, s->p.name) != 0)
			return totp_err_errno(err, errno,
					      "cannot put the new copy of %s in place",
					      s->path);
		s->copying = false;
		return 0;
	}
	if (gdbm_sync(s->db) != 0)
		return db_fail(s->db, "cannot write the new copy of", s->path, err);
	if (renameat(s->dir_fd, s->p.tmp, s->dir_fd, s->p.name) != 0)
		return totp_err_errno(err, errno,
				      "cannot put the new copy of %s in place", s->path);
	s->copying = false;
	return dir_sync(s->dir_fd, s->path, err);
}

/* ---- changes of structure in place, through a journal (redo.h) ---------- */

/* The database with `user`'s value stored (or, value NULL, deleted), in
 * memory: a memfd and its *new_size, or -1. */
static int change_in_memory(const struct gdbm_store *s, int dbfd, off_t size,
			    const char *user, const uint8_t *value, size_t value_len,
			    off_t *new_size, struct totp_err *err)
{
	int flags = GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_NOMMAP;
	int mem = memfd_create("pam_totp-change", MFD_CLOEXEC), gfd, rc;
	struct stat st;
	GDBM_FILE db;

	if (mem < 0)
		return totp_err_errno(err, errno, "cannot change database %s", s->path);
	if (copy_file(dbfd, mem, size) != 0 || lseek(mem, 0, SEEK_SET) != 0 ||
	    (gfd = fcntl(mem, F_DUPFD_CLOEXEC, 0)) < 0) {
		totp_err_errno(err, errno, "cannot read database %s", s->path);
		goto fail;
	}
	db = gdbm_fd_open(gfd, s->path, 0, flags, NULL);
	if (db == NULL) {
		gdbm_fail(gdbm_errno, errno, "cannot open database", s->path, err);
		close(gfd);
		goto fail;
	}
	rc = db_change(db, user, value, value_len);
	if (rc != 0)
		db_fail(db, "cannot change the record of", user, err);
	close_without_fsync(db, s->dir_fd); /* GDBM wrote it all to the memfd */
	if (rc != 0)
		goto fail;
	if (fstat(mem, &st) != 0) {
		totp_err_errno(err, errno, "cannot change database %s", s->path);
		goto fail;
	}
	*new_size = st.st_size;
	return mem;
fail:
	close(mem);
	return -1;
}

/* The lock file, open for writing: the store's own descriptor when it is
 * (a login's check may hold the one its look opened to read). */
static int lock_for_writing(const struct gdbm_store *s, struct totp_err *err)
{
	struct store_opts o = {.owner = (uid_t)-1};
	struct stat st, held;
	int fd, fl = fcntl(s->lock_fd, F_GETFL);

	if (fl >= 0 && (fl & O_ACCMODE) == O_RDWR) {
		fd = fcntl(s->lock_fd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return totp_err_errno(err, errno,
					      "cannot open the lock file of %s", s->path);
		return fd;
	}
	if (fstat(s->lock_fd, &held) != 0)
		return totp_err_errno(err, errno, "cannot stat the lock file of %s",
				      s->path);
	o.owner = held.st_uid; /* checked when it was opened */
	fd = file_open(s->dir_fd, s->p.lock, O_RDWR, &o, "lock file", s->path, &st, err);
	if (fd == SAFE_MISSING)
		return totp_err_errno(err, ENOENT, "cannot open the lock file of %s",
				      s->path);
	if (fd >= 0 && (st.st_ino != held.st_ino || st.st_dev != held.st_dev)) {
		close(fd);
		return totp_err_set(err, TOTP_R_IO, "the lock file of %s was replaced",
				    s->path);
	}
	return fd;
}

/* GDBM's caches hold the file as it was: the database is opened again on
 * the same file.  On failure the store is left without one (s->db NULL:
 * every later call fails, the next open settles the file). */
static int reattach(struct gdbm_store *s, off_t size, struct totp_err *err)
{
	int fd = fcntl(gdbm_fdesc(s->db), F_DUPFD_CLOEXEC, 0);

	close_without_fsync(s->db, s->dir_fd);
	s->db = NULL;
	/* a copy shares the old one's offset, and GDBM reads its header
	 * from wherever that is */
	if (fd < 0 || lseek(fd, 0, SEEK_SET) != 0) {
		int e = errno;

		if (fd >= 0)
			close(fd);
		return totp_err_errno(err, e, "cannot open database %s again", s->path);
	}
	return db_attach(fd, size, true, s->max_bytes, s->path, &s->db, err);
}

/*
 * A new key, a deletion or a new immutable area rewrites GDBM's buckets,
 * directory and header in several writes, which a crash can cut apart.
 * So the change is made on a copy in memory, and what differs is written
 * to the database through a journal (redo.h): committed in the lock file,
 * applied, cleared.  A crash before the commit leaves the database as it
 * was; after it, the next open finishes the change.  The free space it
 * needs is the journal and the growth, not a copy of the file.
 */
static int change_in_place(struct gdbm_store *s, const char *user, const uint8_t *value,
			   size_t value_len, struct totp_err *err)
{
	int dbfd = gdbm_fdesc(s->db), mem, wfd = -1, rc = -1;
	uint8_t *j = NULL;
	size_t len = 0;
	off_t new_size = 0;
	struct stat st;

	if (fstat(dbfd, &st) != 0)
		return totp_err_errno(err, errno, "cannot stat database %s", s->path);
	mem =
	    change_in_memory(s, dbfd, st.st_size, user, value, value_len, &new_size, err);
	if (mem < 0)
		return -1;
	if (redo_make(dbfd, st.st_size, mem, new_size, &j, &len, err) != 0 ||
	    room_for(s->dir_fd, len + (uint64_t)(new_size - st.st_size), s->path, err) !=
		0 ||
	    redo_reserve(dbfd, st.st_size, new_size, s->path, err) != 0 ||
	    (wfd = lock_for_writing(s, err)) < 0)
		goto out;
	if (redo_commit(wfd, j, len, s->path, err) != 0) {
		(void)redo_clear(wfd, s->path, NULL); /* nothing was applied */
		goto out;
	}
	s->redo_bytes = len;
	/* from here the change is made: finished now, or by the next open */
	if (redo_apply(dbfd, j, len, s->path, err) != 0 ||
	    redo_clear(wfd, s->path, err) != 0) {
		close_without_fsync(s->db, s->dir_fd);
		s->db = NULL;
		goto out;
	}
	rc = reattach(s, new_size, err);
out:
	if (wfd >= 0)
		close(wfd);
	close(mem);
	if (j != NULL) {
		explicit_bzero(j, len);
		free(j);
	}
	return rc;
}

/* A structural change: in place, or in a batch on a copy that
 * store_commit publishes. */
static int structural_change(struct gdbm_store *s, const char *user, const uint8_t *value,
			     size_t value_len, struct totp_err *err)
{
	if (s->batch)
		return start_copy(s, user, value, value_len, err);
	return change_in_place(s, user, value, value_len, err);
}

/* ---- writing a record ------------------------------------------------------ */

/* Writes the v2 value (value2.h) that follows `old` (a fetched value, or
 * none).  In place when `old` is a v2 value of the same immutable area
 * (a login: the same size, GDBM reuses its place and writes only the
 * value) or when writing to a copy nobody sees yet; else (a new key, a
 * v1 value, a changed immutable area) on a copy, which a batch's first
 * write always starts. */
static int put_value(struct gdbm_store *s, const char *user, datum old,
		     const struct record *r, struct totp_err *err)
{
	uint8_t imm[RECORD_IMMUTABLE_MAX], mut[RECORD_MUTABLE_MAX];
	size_t il = 0, ml = 0, vlen = 0;
	uint8_t *value = malloc(VALUE2_MAX);
	bool same = false;
	int rc;

	if (value == NULL)
		return totp_err_set(err, TOTP_R_NOMEM,
				    "out of memory storing the record of %s", user);
	rc = record_encode_areas(r, imm, &il, mut, &ml, err);
	if (rc == 0)
		rc = value2_write(value, &vlen, (const uint8_t *)old.dptr,
				  old.dptr != NULL ? (size_t)old.dsize : 0, imm, il, mut,
				  ml, RECORD_MUTABLE_MAX_FOR(record_generators(r)), &same,
				  err);
	if (rc == 0 && same && s->db == NULL) { /* read directly: a login */
		if (gdbm_file_rewrite(&s->gf, &s->spot, (const uint8_t *)old.dptr,
				      value) != 0)
			rc = totp_err_errno(err, errno, "cannot store the record of %s",
					    user);
		s->dirty = true;
	} else if (rc == 0 && (s->copying || (same && !s->batch))) {
		datum v = {(char *)value, (int)vlen};

		if (gdbm_store(s->db, key_of(user), v, GDBM_REPLACE) != 0)
			rc = db_fail(s->db, "cannot store the record of", user, err);
	} else if (rc == 0 && usable(s, err) != 0) {
		rc = -1;
	} else if (rc == 0) {
		rc = structural_change(s, user, value, vlen, err);
	}
	explicit_bzero(imm, sizeof(imm));
	explicit_bzero(value, VALUE2_MAX);
	free(value);
	return rc;
}

static int gdbm_put(struct gdbm_store *s, const char *user, const struct record *r,
		    struct totp_err *err)
{
	datum old = {NULL, 0};
	int rc;

	if (user_name_check(user, err) != 0)
		return -1;
	if (!s->writable)
		return totp_err_set(err, TOTP_R_INVALID,
				    "the database was opened for reading: cannot store");
	if (direct_put_ok(s, user)) {
		direct_old(s, &old);
		rc = put_value(s, user, old, r, err);
	} else if (usable(s, err) != 0) {
		return -1;
	} else {
		old = gdbm_fetch(s->db, key_of(user));
		if (old.dptr == NULL && gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
			rc = db_fail(s->db, "cannot read the record of", user, err);
		else
			rc = put_value(s, user, old, r, err);
	}
	if (old.dptr != NULL) {
		explicit_bzero(old.dptr, (size_t)old.dsize);
		free(old.dptr);
	}
	return rc != 0 ? -1 : maybe_sync(s, err);
}

static int gdbm_del(struct gdbm_store *s, const char *user, struct totp_err *err)
{
	if (user_name_check(user, err) != 0)
		return -1;
	if (!s->writable)
		return totp_err_set(err, TOTP_R_INVALID,
				    "the database was opened for reading: cannot delete");
	if (usable(s, err) != 0)
		return -1;
	if (!gdbm_exists(s->db, key_of(user))) {
		if (gdbm_last_errno(s->db) != GDBM_NO_ERROR &&
		    gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
			return db_fail(s->db, "cannot look up the record of", user, err);
		return totp_err_set(err, TOTP_R_NOT_FOUND, "%s has no record", user);
	}
	if (s->copying) {
		if (gdbm_delete(s->db, key_of(user)) != 0)
			return db_fail(s->db, "cannot delete the record of", user, err);
		return 0;
	}
	if (structural_change(s, user, NULL, 0, err) != 0)
		return -1;
	return maybe_sync(s, err);
}

/* One key of the iteration: its name checked, its record decoded. */
static int iter_one(struct gdbm_store *s, datum key, store_iter_fn fn, void *arg,
		    struct totp_err *err)
{
	char user[USER_NAME_MAX + 1];
	struct record r;
	datum v;
	int rc;

	if (key.dsize <= 0 || key.dsize > USER_NAME_MAX ||
	    memchr(key.dptr, '\0', (size_t)key.dsize) != NULL)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "the database holds a key that is no user name");
	memcpy(user, key.dptr, (size_t)key.dsize);
	user[key.dsize] = '\0';
	if (user_name_check(user, NULL) != 0)
		return totp_err_set(err, TOTP_R_CORRUPT,
				    "the database holds a key that is no user name");
	v = gdbm_fetch(s->db, key);
	if (v.dptr == NULL)
		return db_fail(s->db, "cannot read the record of", user, err);
	if (value_take(v, &r, user, err) != 0)
		return -1;
	rc = fn(user, &r, arg);
	record_wipe(&r);
	return rc;
}

static int gdbm_iterate(struct gdbm_store *s, store_iter_fn fn, void *arg,
			struct totp_err *err)
{
	datum key;

	if (usable(s, err) != 0)
		return -1;
	key = gdbm_firstkey(s->db);

	while (key.dptr != NULL) {
		datum next;
		int rc = iter_one(s, key, fn, arg, err);

		if (rc != 0) {
			free(key.dptr);
			return rc;
		}
		next = gdbm_nextkey(s->db, key);
		free(key.dptr);
		key = next;
	}
	if (gdbm_last_errno(s->db) != GDBM_ITEM_NOT_FOUND)
		return db_fail(s->db, "cannot list the records of", s->path, err);
	return 0;
}

/* ---- the backend ------------------------------------------------------------ */

static int be_open(const struct store_location *loc, enum store_mode mode,
		   const struct store_opts *opts, void **h, struct totp_err *err)
{
	struct gdbm_store *s = NULL;
	struct gdbm_store_ext x = {0, false};

	if (gdbm_open_path(loc->where, mode, opts, &x, &s, err) != 0)
		return -1;
	*h = s;
	return 0;
}

static int be_get(void *h, const char *user, struct record *r, struct totp_err *err)
{
	return gdbm_get(h, user, r, err);
}

static int be_put(void *h, const char *user, const struct record *r, struct totp_err *err)
{
	return gdbm_put(h, user, r, err);
}

static int be_del(void *h, const char *user, struct totp_err *err)
{
	return gdbm_del(h, user, err);
}

static int be_iterate(void *h, store_iter_fn fn, void *arg, struct totp_err *err)
{
	return gdbm_iterate(h, fn, arg, err);
}

static int be_commit(void *h, struct totp_err *err)
{
	return gdbm_commit(h, err);
}

static void be_close(void *h)
{
	gdbm_close_store(h);
}

int gdbm_store_folder(const struct store *s)
{
	const struct gdbm_store *g = store_handle_of(s, &gdbm_store_backend);

	return g != NULL ? g->dir_fd : -1;
}

size_t gdbm_store_last_journal(const struct store *s)
{
	const struct gdbm_store *g = store_handle_of(s, &gdbm_store_backend);

	return g != NULL ? g->redo_bytes : 0;
}

const struct store_backend gdbm_store_backend = {
    .name = "gdbm",
    .open = be_open,
    .get = be_get,
    .put = be_put,
    .put_if = NULL, /* the exclusive flock makes get + put atomic */
    .del = be_del,
    .iterate = be_iterate,
    .commit = be_commit,
    .close = be_close,
};

int gdbm_store_open(const char *db_path, enum store_mode mode,
		    const struct store_opts *opts, struct store **out,
		    struct totp_err *err)
{
	struct gdbm_store_ext x = {0, false};

	return gdbm_store_open_ext(db_path, mode, opts, &x, out, err);
}

/* The lock file `name` in dirfd, made when missing, checked: its
 * descriptor, or -1. */
static int lock_file_at(int dirfd, const char *name, const struct store_opts *opts,
			const char *shown, struct totp_err *err)
{
	struct stat st;
	int fd =
	    file_open(dirfd, name, O_RDWR | O_CREAT, opts, "lock file", shown, &st, err);

	if (fd == SAFE_MISSING) /* the folder vanished under us */
		return totp_err_errno(err, ENOENT, "cannot make lock file %s", shown);
	return fd;
}

int gdbm_store_lock_make(int dirfd, const char *name, const struct store_opts *opts,
			 const char *shown, struct totp_err *err)
{
	int fd = lock_file_at(dirfd, name, opts, shown, err);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

int gdbm_store_lock_at(int dirfd, const char *name, bool excl,
		       const struct store_opts *opts, const char *shown,
		       struct totp_err *err)
{
	int fd = lock_file_at(dirfd, name, opts, shown, err);

	if (fd < 0)
		return -1;
	if (lock_take(fd, excl, opts->lock_timeout_ms, shown, err) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A staged copy's store: its close only lets go of the wrapper (the
 * stage's owner, gdbm_store_stage, closes the database). */
static void stage_close(void *h)
{
	(void)h;
}

static const struct store_backend gdbm_stage_backend = {
    .name = "gdbm-stage",
    .open = NULL,
    .get = be_get,
    .put = be_put,
    .put_if = NULL,
    .del = be_del,
    .iterate = be_iterate,
    .commit = NULL,
    .close = stage_close,
};

/* The source of a staged copy: the database, checked as db_attach checks
 * one before GDBM reads it.  Its descriptor (the caller's) and size,
 * SAFE_MISSING, or -1. */
static int stage_source(int dirfd, const char *name, const struct store_opts *o,
			const char *shown, off_t *size, struct totp_err *err)
{
	struct stat st;
	int fd = file_open(dirfd, name, O_RDONLY, o, "database", shown, &st, err);
	uint8_t h[GDBM_HDR_PEEK];
	bool whole;

	if (fd < 0)
		return fd;
	whole = pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h);
	if (st.st_size < GDBM_HEADER_MIN || header_says_cut(h, whole, st.st_size)) {
		totp_err_set(err, TOTP_R_TRUNCATED,
			     "database %s was cut short; restore it from a backup",
			     shown);
		close(fd);
		return -1;
	}
	if (size_check(h, whole, st.st_size, o->max_bytes, shown, err) != 0) {
		close(fd);
		return -1;
	}
	*size = st.st_size;
	return fd;
}

/* Runs `fn` on a staged database through a store of its own (every
 * write in place, nothing synced); db stays open, the caller's. */
static int stage_run(GDBM_FILE db, const char *shown, gdbm_stage_fn fn, void *arg,
		     struct totp_err *err)
{
	struct gdbm_store *s = calloc(1, sizeof(*s));
	struct store *st = NULL;
	int rc = -1;

	if (s == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory staging %s", shown);
	s->db = db;
	s->gf.fd = -1;
	s->lock_fd = -1;
	s->dir_fd = -1;
	s->writable = true;
	s->batch = true;
	s->copying = true; /* every write in place on the copy */
	s->defer_sync = true;
	snprintf(s->path, sizeof(s->path), "%s", shown);
	if (store_wrap(&gdbm_stage_backend, s, &st, err) == 0) {
		rc = fn(st, arg, err);
		store_close(st);
	}
	explicit_bzero(s, sizeof(*s));
	free(s);
	return rc;
}

/* Makes the file `stage` (0600, not following a link), replacing one a
 * killed batch left: it is looked for only when the name is taken. */
static int stage_create(int dirfd, const char *stage, int mode)
{
	int flags = mode | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(dirfd, stage, flags, 0600);

	if (fd < 0 && errno == EEXIST && unlinkat(dirfd, stage, 0) == 0)
		fd = openat(dirfd, stage, flags, 0600);
	return fd;
}

/*
 * Writes all of b to the new file `stage`: 0, or -1 (the file may be
 * left: the caller removes it).  A page at a time: the page cache keeps the size
 * of the write that filled it, and on a kernel whose ext4 caches a file
 * in large folios (Linux 6.18 here), one write of a 1 MB shard left it in
 * folios of up to 1 MB, which every later login's write of a few bytes
 * dirtied whole (20 us more a write, measured, and up to 1 MB written
 * back for each).  Written a page at a time, a login dirties one page.
 */
#define STAGE_WRITE_PIECE 4096

static int stage_write(int dirfd, const char *stage, const char *shown, const uint8_t *b,
		       size_t len, struct totp_err *err)
{
	int fd = stage_create(dirfd, stage, O_WRONLY);

	if (fd < 0)
		return totp_err_errno(err, errno, "cannot stage database %s", shown);
	for (size_t done = 0; done < len; done += STAGE_WRITE_PIECE) {
		size_t piece =
		    len - done < STAGE_WRITE_PIECE ? len - done : STAGE_WRITE_PIECE;

		if (safe_pwrite(fd, b + done, piece, (off_t)done) != 0) {
			totp_err_errno(err, errno, "cannot write the staged database %s",
				       shown);
			close(fd);
			return -1;
		}
	}
	if (close(fd) != 0)
		return totp_err_errno(err, errno, "cannot write the staged database %s",
				      shown);
	return 0;
}

/* A batch's memory for the databases it makes (gdbm_store.h). */
struct gdbm_scratch {
	int fd;		/* a memfd, where GDBM makes each one */
	uint8_t *empty; /* an empty database of the batch's block size */
	size_t empty_len;
	uint8_t *buf; /* a made database's bytes, on their way to the file */
	size_t cap;
};

/* Reads all of p->fd into p->buf (every update GDBM made is written to
 * the file when gdbm_store or gdbm_delete returns): its length, or 0. */
static size_t scratch_read(struct gdbm_scratch *p, const char *shown,
			   struct totp_err *err)
{
	struct stat sb;
	size_t len;
	ssize_t got;

	if (fstat(p->fd, &sb) != 0 || sb.st_size <= 0) {
		totp_err_errno(err, errno == 0 ? EIO : errno,
			       "cannot read back database %s", shown);
		return 0;
	}
	len = (size_t)sb.st_size;
	if (len > p->cap) {
		uint8_t *nb = malloc(len);

		if (nb == NULL) {
			totp_err_set(err, TOTP_R_NOMEM, "out of memory staging %s",
				     shown);
			return 0;
		}
		if (p->buf != NULL) {
			explicit_bzero(p->buf, p->cap);
			free(p->buf);
		}
		p->buf = nb;
		p->cap = len;
	}
	got = safe_pread(p->fd, p->buf, len, 0);
	if (got != (ssize_t)len) {
		totp_err_errno(err, got < 0 ? errno : EIO, "cannot read back database %s",
			       shown);
		explicit_bzero(p->buf, len);
		return 0;
	}
	return len;
}

void gdbm_scratch_free(struct gdbm_scratch *p)
{
	if (p == NULL)
		return;
	if (p->fd >= 0)
		close(p->fd);
	if (p->buf != NULL) {
		explicit_bzero(p->buf, p->cap);
		free(p->buf);
	}
	free(p->empty);
	free(p);
}

struct gdbm_scratch *gdbm_scratch_new(const struct gdbm_store_ext *x,
				      struct totp_err *err)
{
	int flags = GDBM_NEWDB | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_NOMMAP |
		    (x->block_size != 0 ? GDBM_BSEXACT : 0);
	struct gdbm_scratch *p = calloc(1, sizeof(*p));
	GDBM_FILE db;
	int gfd;

	if (p == NULL) {
		totp_err_set(err, TOTP_R_NOMEM, "out of memory making a database");
		return NULL;
	}
	p->fd = memfd_create("pam_totp-stage", MFD_CLOEXEC);
	gfd = p->fd < 0 ? -1 : dup(p->fd); /* GDBM's, closed by gdbm_close */
	if (gfd < 0) {
		totp_err_errno(err, errno, "cannot make a database in memory");
		gdbm_scratch_free(p);
		return NULL;
	}
	/* GDBM makes the empty database once (its fsyncs of a memfd write
	 * nothing); each new one starts as a copy of its bytes */
	db = gdbm_fd_open(gfd, "(empty database)", x->block_size, flags, NULL);
	if (db == NULL) {
		gdbm_fail(gdbm_errno, errno, "cannot make an empty database", "(memory)",
			  err);
		close(gfd);
		gdbm_scratch_free(p);
		return NULL;
	}
	gdbm_close(db);
	p->empty_len = scratch_read(p, "(empty database)", err);
	if (p->empty_len == 0 || (p->empty = malloc(p->empty_len)) == NULL) {
		if (p->empty_len != 0)
			totp_err_set(err, TOTP_R_NOMEM,
				     "out of memory making a database");
		gdbm_scratch_free(p);
		return NULL;
	}
	memcpy(p->empty, p->buf, p->empty_len);
	return p;
}

/* The scratch file holding an empty database and nothing else (its
 * length is the database's end, as GDBM wants it), read from its start:
 * GDBM's descriptor for it (a copy, closed by gdbm_close), or -1. */
static int scratch_reset(struct gdbm_scratch *p)
{
	int fd;

	if (pwrite(p->fd, p->empty, p->empty_len, 0) != (ssize_t)p->empty_len ||
	    ftruncate(p->fd, (off_t)p->empty_len) != 0 || lseek(p->fd, 0, SEEK_SET) != 0)
		return -1;
	fd = dup(p->fd);
	return fd;
}

/*
 * A shard that does not exist yet has nothing to copy (gdbm_store.h): its
 * database starts as the scratch's empty one, in memory (a memfd: GDBM's
 * many small writes cost next to nothing there), is changed there by `fn`,
 * and its bytes are written to `stage` (stage_write).  The folder sees one
 * new file, which the caller's syncfs makes durable.  The
 * previous database's bytes are gone from the memfd by then (overwritten,
 * then cut at the empty one's end).
 */
int gdbm_store_stage_new(int dirfd, const char *stage, const char *shown,
			 struct gdbm_scratch *p, gdbm_stage_fn fn, void *arg,
			 struct totp_err *err)
{
	int flags = GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_NOMMAP;
	int gfd = scratch_reset(p);
	size_t len = 0;
	GDBM_FILE db;
	int rc;

	if (gfd < 0)
		return totp_err_errno(err, errno, "cannot make database %s", shown);
	db = gdbm_fd_open(gfd, shown, 0, flags, NULL);
	if (db == NULL) {
		gdbm_fail(gdbm_errno, errno, "cannot make database", shown, err);
		close(gfd);
		return -1;
	}
	rc = stage_run(db, shown, fn, arg, err);
	if (rc == 0 && (len = scratch_read(p, shown, err)) == 0)
		rc = -1;
	gdbm_close(db); /* closes gfd; its fsync of a memfd writes nothing */
	if (rc == 0)
		rc = stage_write(dirfd, stage, shown, p->buf, len, err);
	explicit_bzero(p->buf, len);
	if (rc != 0)
		unlinkat(dirfd, stage, 0);
	return rc;
}

/* gdbm_store_stage_new with a scratch of its own. */
static int stage_new_once(int dirfd, const char *stage, const char *shown,
			  const struct gdbm_store_ext *x, gdbm_stage_fn fn, void *arg,
			  struct totp_err *err)
{
	struct gdbm_scratch *p = gdbm_scratch_new(x, err);
	int rc;

	if (p == NULL)
		return -1;
	rc = gdbm_store_stage_new(dirfd, stage, shown, p, fn, arg, err);
	gdbm_scratch_free(p);
	return rc;
}

int gdbm_store_stage(int dirfd, const char *name, const char *stage, const char *shown,
		     const struct store_opts *opts, const struct gdbm_store_ext *x,
		     gdbm_stage_fn fn, void *arg, struct totp_err *err)
{
	int flags = GDBM_WRITER | GDBM_NOLOCK | GDBM_CLOEXEC | GDBM_NOMMAP;
	char lock[NAME_MAX + 1];
	int lockfd, from = -1, to = -1, rc = -1;
	struct stat sb_lock;
	off_t size = 0;
	GDBM_FILE db;

	if (snprintf(lock, sizeof(lock), "%s.lock", name) >= (int)sizeof(lock) ||
	    strlen(stage) >= NAME_MAX + 1)
		return totp_err_set(err, TOTP_R_INVALID, "database name %s is too long",
				    shown);
	/* No lock file and no database: a shard nobody has opened, and the
	 * caller's journal keeps everyone out from now on (shard_store.c):
	 * no lock file is made for it (a file less to make; its first open
	 * makes it), and it is made in memory (gdbm_store_stage_new). */
	lockfd = file_open(dirfd, lock, O_RDWR, opts, "lock file", shown, &sb_lock, err);
	if (lockfd == -1)
		return -1;
	if (lockfd == SAFE_MISSING) {
		struct stat sb;

		if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0 &&
		    errno == ENOENT)
			return stage_new_once(dirfd, stage, shown, x, fn, arg, err);
		lockfd = gdbm_store_lock_at(dirfd, lock, true, opts, shown, err);
		if (lockfd < 0)
			return -1;
	} else if (lock_take(lockfd, true, opts->lock_timeout_ms, shown, err) != 0) {
		close(lockfd);
		return -1;
	}
	/* a change in place a crash left half done is finished first */
	if (settle(dirfd, name, lock, lockfd, STORE_WRITE, opts, shown, shown, err) != 0)
		goto out;
	from = stage_source(dirfd, name, opts, shown, &size, err);
	if (from == SAFE_MISSING) /* a lock file, no database (yet) */
		rc = stage_new_once(dirfd, stage, shown, x, fn, arg, err);
	if (from < 0)
		goto out;
	to = stage_create(dirfd, stage, O_RDWR);
	if (to < 0) {
		totp_err_errno(err, errno, "cannot stage a copy of database %s", shown);
		goto out;
	}
	if (copy_file(from, to, size) != 0) {
		totp_err_errno(err, errno, "cannot copy database %s", shown);
		close(to);
		goto out_unlink;
	}
	db = gdbm_fd_open(to, shown, 0, flags, NULL);
	if (db == NULL) {
		gdbm_fail(gdbm_errno, errno, "cannot open the staged copy of database",
			  shown, err);
		close(to);
		goto out_unlink;
	}
	rc = stage_run(db, shown, fn, arg, err);
	close_without_fsync(db, dirfd); /* every write is in the file already */
	if (rc == 0)
		goto out;
out_unlink:
	unlinkat(dirfd, stage, 0);
	rc = -1;
out:
	if (from >= 0)
		close(from);
	if (lockfd >= 0)
		close(lockfd);
	return rc;
}

int gdbm_store_open_ext(const char *db_path, enum store_mode mode,
			const struct store_opts *opts, const struct gdbm_store_ext *x,
			struct store **out, struct totp_err *err)
{
	struct gdbm_store *s = NULL;

	if (out != NULL)
		*out = NULL;
	if (gdbm_open_path(db_path, mode, opts, x, &s, err) != 0)
		return -1;
	return store_wrap(&gdbm_store_backend, s, out, err);
}
