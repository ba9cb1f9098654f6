/* shard_store: a system store as a fixed set of GDBM shards (shard_store.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gdbm_store.h"
#include "safe_open.h"
#include "sha256.h"
#include "shard_store.h"
#include "store_backend.h"
#include "user_name.h"

/* One change of a batch, kept until store_commit. */
struct pending {
	char user[USER_NAME_MAX + 1];
	struct record r;
	bool del;
	unsigned shard;
	size_t seq; /* the order of the calls, kept within a shard */
};

/* A shard holds few users (15 at 1M): GDBM's smallest block keeps it
 * small (docs/record-v2.md: about 1.3 KB a user at 1M users). */
#define SHARD_BLOCK 512

/* The journal of a batch being committed, and its lock, in the shards'
 * folder; a shard's staged copy is "<shard>.jnew" beside it. */
#define JOURNAL_NAME "journal"
#define JOURNAL_LOCK "journal.lock"
#define STAGE_SUFFIX ".jnew"
#define JOURNAL_MAGIC "PTJ1"
#define JOURNAL_HEAD 8 /* magic, u32 count */
#define JOURNAL_MAX (JOURNAL_HEAD + 4 * (size_t)SHARD_COUNT + SHA256_LEN)
/* How often an open finds a journal, waits for it and tries again before
 * it gives up (a new batch each time). */
#define JOURNAL_TRIES 4

struct shard_store {
	char root[PATH_MAX]; /* <dir>/<realm>.d */
	char journal[PATH_MAX + sizeof("/" JOURNAL_NAME)];
	char legacy[PATH_MAX]; /* <dir>/<realm>.db, never written */
	enum store_mode mode;
	struct store_opts opts;
	bool one; /* opened for one user (one_user): only that user's shard */
	char one_user[USER_NAME_MAX + 1];
	unsigned one_no; /* its shard */
	unsigned cur_no; /* the shard `cur` is, when have_cur */
	bool have_cur;
	struct store *cur; /* NULL with have_cur: the shard does not exist */
	struct store *old; /* the legacy file, read only; NULL: not opened */
	bool old_missing;
	struct pending *pend;
	size_t n_pend, cap_pend;
};

/* ---- names ------------------------------------------------------------------ */

unsigned shard_of(const char *user)
{
	uint8_t h[SHA256_LEN];

	sha256(user, strlen(user), h);
	return ((unsigned)h[0] << 8 | h[1]) >> (16 - SHARD_BITS);
}

/* Shard `no`'s folder under the root ("" when the root itself) and name. */
static void shard_rel(unsigned no, char dir[4], char name[16])
{
#if SHARD_BITS == 16
	snprintf(dir, 4, "%02x", (no >> 8) & 0xffu);
	snprintf(name, 16, "%02x.db", no & 0xffu);
#else
	dir[0] = '\0';
	snprintf(name, 16, "%0*x.db", (SHARD_BITS + 3) / 4, no & (SHARD_COUNT - 1));
#endif
}

int shard_root(const char *where, char *out, size_t outsz, struct totp_err *err)
{
	size_t n = strlen(where);
	int len;

	if (n > 3 && strcmp(where + n - 3, ".db") == 0)
		n -= 3;
	len = snprintf(out, outsz, "%.*s.d", (int)n, where);
	if (len < 0 || (size_t)len >= outsz)
		return totp_err_set(err, TOTP_R_INVALID, "the store path %s is too long",
				    where);
	return 0;
}

int shard_path(const char *root, unsigned shard, char *out, size_t outsz,
	       struct totp_err *err)
{
	char dir[4], name[16];
	int len;

	shard_rel(shard, dir, name);
	len = snprintf(out, outsz, "%s/%s%s%s", root, dir, dir[0] ? "/" : "", name);
	if (shard >= SHARD_COUNT || len < 0 || (size_t)len >= outsz)
		return totp_err_set(err, TOTP_R_INVALID, "no shard %u under %s", shard,
				    root);
	return 0;
}

/* ---- the shard in hand -------------------------------------------------------- */

static void drop_cur(struct shard_store *s)
{
	store_close(s->cur);
	s->cur = NULL;
	s->have_cur = false;
}

/* ---- the journal: a batch all or nothing across the realm -------------------------- */

/* Whether the realm has a journal: a batch being committed, or one that
 * a crash cut.  One fstatat, which fails when there is none: what an
 * open pays for the journal.  With a shard open, in the folder it walked
 * (the shards and the journal share <realm>.d/): no second walk of the
 * path on a login. */
static bool journal_seen(const struct shard_store *s)
{
	int dirfd = gdbm_store_folder(s->cur);
	struct stat st;

	if (dirfd >= 0)
		return fstatat(dirfd, JOURNAL_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
		       errno != ENOENT;
	return fstatat(AT_FDCWD, s->journal, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	       errno != ENOENT;
}

static int root_open(const struct shard_store *s, bool create, int *fd,
		     struct totp_err *err)
{
	struct safe_rule dirs = {s->opts.owner, SAFE_OWNER_OR_ROOT | SAFE_NOT_SHARED};

	*fd = -1;
	return safe_walk_dir(s->root, &dirs, create, fd, err);
}

/* A folder (O_PATH) opened for reading, to sync, list or syncfs it. */
static int dir_sync_fd(int dirfd, bool whole_fs, const char *shown, struct totp_err *err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || (whole_fs ? syncfs(fd) : fsync(fd)) != 0)
		rc = totp_err_errno(err, errno, "cannot sync %s", shown);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* The folder of shard `no` (the root's descriptor itself when shards sit
 * in the root); *opened says whether the caller closes it. */
static int shard_dir(const struct shard_store *s, int rootfd, unsigned no, bool create,
		     bool *opened, struct totp_err *err)
{
	char dir[4], name[16];

	shard_rel(no, dir, name);
	*opened = false;
	if (dir[0] == '\0')
		return rootfd;
	{
		struct safe_rule dirs = {s->opts.owner,
					 SAFE_OWNER_OR_ROOT | SAFE_NOT_SHARED};
		char path[PATH_MAX + 8];
		int fd = -1;

		snprintf(path, sizeof(path), "%s/%s", s->root, dir);
		if (safe_walk_dir(path, &dirs, create, &fd, err) != 0)
			return -1;
		*opened = true;
		return fd;
	}
}

/* A journal's shards, when it is whole: its magic, its count, shards in
 * increasing order, and the SHA-256 of all that at its end.  The count,
 * or -1 when it is not whole (torn by a crash, or only the marker). */
static long journal_parse(const uint8_t *b, size_t len, uint32_t *list)
{
	uint8_t sum[SHA256_LEN];
	uint32_t n;

	if (len < JOURNAL_HEAD + SHA256_LEN || memcmp(b, JOURNAL_MAGIC, 4) != 0)
		return -1;
	memcpy(&n, b + 4, 4);
	if (n == 0 || n > SHARD_COUNT || len != JOURNAL_HEAD + 4 * (size_t)n + SHA256_LEN)
		return -1;
	sha256(b, len - SHA256_LEN, sum);
	if (memcmp(sum, b + len - SHA256_LEN, SHA256_LEN) != 0)
		return -1;
	for (uint32_t i = 0; i < n; i++) {
		memcpy(&list[i], b + JOURNAL_HEAD + 4 * (size_t)i, 4);
		if (list[i] >= SHARD_COUNT || (i > 0 && list[i] <= list[i - 1]))
			return -1;
	}
	return (long)n;
}

/* Renames every listed shard's staged copy over it (one already renamed
 * has no staged copy left), then makes the renames durable: a sync of the
 * root, where the shards are (of the file system, when they are in
 * folders). */
static int journal_forward(const struct shard_store *s, int rootfd, const uint32_t *list,
			   size_t n, struct totp_err *err)
{
	for (size_t i = 0; i < n; i++) {
		char dir[4], name[16], stage[16 + sizeof(STAGE_SUFFIX)];
		bool opened;
		int fd = shard_dir(s, rootfd, list[i], false, &opened, err);

		if (fd < 0)
			return -1;
		shard_rel(list[i], dir, name);
		snprintf(stage, sizeof(stage), "%s" STAGE_SUFFIX, name);
		if (renameat(fd, stage, fd, name) != 0 && errno != ENOENT) {
			totp_err_errno(err, errno, "cannot put shard %s/%s%s%s in place",
				       s->root, dir, dir[0] ? "/" : "", name);
			if (opened)
				close(fd);
			return -1;
		}
		if (opened)
			close(fd);
	}
	return dir_sync_fd(rootfd, SHARD_BITS == 16, s->root, err);
}

/* The shard a file of the root is about ("<shard>.db", its lock, its
 * temporary, its staged copy: the shard's number in hex, then '.'), or -1
 * for any other name. */
static long shard_named(const char *name)
{
	const int digits = (SHARD_BITS + 3) / 4;
	long no = 0;

	for (int k = 0; k < digits; k++) {
		char c = name[k];
		int v = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
					       : -1;

		if (v < 0)
			return -1;
		no = no * 16 + v;
	}
	return name[digits] == '.' && no < (long)SHARD_COUNT ? no : -1;
}

/* Removes the staged copies in one folder (a batch that never committed).
 * With `seen` (the shards sit in this folder): marks there each shard that
 * has any other file in it.  Whether the folder could be listed. */
static bool stages_remove_in(int dirfd, uint8_t *seen)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	size_t sl = strlen(STAGE_SUFFIX);
	struct dirent *e;
	DIR *d;

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		long no;

		if (len > sl && strcmp(e->d_name + len - sl, STAGE_SUFFIX) == 0)
			unlinkat(dirfd, e->d_name, 0);
		else if (seen != NULL && (no = shard_named(e->d_name)) >= 0)
			seen[no / 8] |= (uint8_t)(1u << (no % 8));
		errno = 0;
	}
	if (errno != 0) { /* the listing was cut: it says nothing */
		closedir(d);
		return false;
	}
	closedir(d);
	return true;
}

/* Removes every staged copy of the realm.  With `seen` (SHARD_COUNT bits,
 * zero), when the shards sit in the root: marks the shards that have a
 * file (database, lock file, temporary); true when that listing is
 * whole, so that an unmarked shard has none. */
static bool stages_remove(const struct shard_store *s, int rootfd, uint8_t *seen)
{
#if SHARD_BITS == 16
	(void)seen;
	for (unsigned hi = 0; hi < 256; hi++) {
		bool opened;
		int fd = shard_dir(s, rootfd, hi << 8, false, &opened, NULL);

		if (fd < 0)
			continue;
		stages_remove_in(fd, NULL);
		if (opened)
			close(fd);
	}
	return false;
#else
	(void)s;
	return stages_remove_in(rootfd, seen) && seen != NULL;
#endif
}

/* Under the journal's lock: finishes the batch the journal names, when it
 * is whole (it committed), or removes the staged copies of one that never
 * committed (a torn journal, or the marker alone); then the journal. */
static int journal_recover(const struct shard_store *s, int rootfd, struct totp_err *err)
{
	struct safe_rule file = {s->opts.owner,
				 SAFE_OWNER | SAFE_NOT_SHARED | SAFE_ONE_LINK};
	uint8_t *b = NULL;
	uint32_t *list = NULL;
	ssize_t len;
	long n;
	int fd, rc = -1;

	fd = safe_open_at(rootfd, JOURNAL_NAME, O_RDONLY, &file, "journal", s->journal,
			  err);
	if (fd == SAFE_MISSING)
		return 0;
	if (fd < 0)
		return -1;
	b = malloc(JOURNAL_MAX + 1);
	list = malloc(SHARD_COUNT * sizeof(*list));
	if (b == NULL || list == NULL) {
		totp_err_set(err, TOTP_R_NOMEM, "out of memory reading %s", s->journal);
		goto out;
	}
	len = pread(fd, b, JOURNAL_MAX + 1, 0);
	if (len < 0) {
		totp_err_errno(err, errno, "cannot read %s", s->journal);
		goto out;
	}
	n = journal_parse(b, (size_t)len, list);
	if (n > 0) {
		if (journal_forward(s, rootfd, list, (size_t)n, err) != 0)
			goto out;
	} else {
		stages_remove(s, rootfd, NULL);
	}
	if (unlinkat(rootfd, JOURNAL_NAME, 0) != 0 && errno != ENOENT) {
		totp_err_errno(err, errno, "cannot remove %s", s->journal);
		goto out;
	}
	rc = dir_sync_fd(rootfd, false, s->root, err);
out:
	free(b);
	free(list);
	close(fd);
	return rc;
}

/* A journal was seen: waits for its batch's commit to end (its lock), and
 * finishes it when its writer died (a crash).  0 when there is none left. */
static int journal_settle(const struct shard_store *s, struct totp_err *err)
{
	char shown[PATH_MAX + sizeof("/" JOURNAL_LOCK)];
	struct totp_err e = {0};
	int rootfd, lock, rc;

	if (root_open(s, false, &rootfd, &e) != 0) {
		if (e.reason == TOTP_R_NOT_FOUND)
			return 0;
		if (err != NULL)
			*err = e;
		return -1;
	}
	snprintf(shown, sizeof(shown), "%s/" JOURNAL_LOCK, s->root);
	lock = gdbm_store_lock_at(rootfd, JOURNAL_LOCK, true, &s->opts, shown, err);
	rc = lock < 0 ? -1 : journal_recover(s, rootfd, err);
	if (lock >= 0)
		close(lock);
	close(rootfd);
	return rc;
}

/* Opens shard `no` as `m` says into s->cur (NULL: missing, when
 * missing_ok).  Its lock is taken before the journal is looked for, so
 * that a batch, which makes its journal before it takes the shards'
 * locks, is either seen or has not yet read this shard: a journal seen
 * means this open lets go, waits for the batch (or finishes one a crash
 * left), and opens again. */
static int shard_open_settled(struct shard_store *s, unsigned no, enum store_mode m,
			      const struct store_opts *o, bool missing_ok,
			      struct totp_err *err)
{
	struct gdbm_store_ext ext = {SHARD_BLOCK, false};
	char path[PATH_MAX];

	if (shard_path(s->root, no, path, sizeof(path), err) != 0)
		return -1;
	for (int tries = 0;; tries++) {
		struct totp_err e = {0};

		if (gdbm_store_open_ext(path, m, o, &ext, &s->cur, &e) != 0) {
			if (!missing_ok || e.reason != TOTP_R_NOT_FOUND) {
				if (err != NULL)
					*err = e;
				return -1;
			}
			s->cur = NULL;
		}
		if (!journal_seen(s)) {
			s->cur_no = no;
			s->have_cur = true;
			return 0;
		}
		store_close(s->cur);
		s->cur = NULL;
		if (tries + 1 == JOURNAL_TRIES)
			return totp_err_set(
			    err, TOTP_R_LOCK_TIMEOUT,
			    "%s: batches kept committing; try again later", s->root);
		if (journal_settle(s, err) != 0)
			return -1;
	}
}

/* Opens shard `no` (closing the one in hand).  A reader, or a batch's get,
 * takes a missing shard as empty (cur NULL); a writer makes it, so that
 * its lock is held from the get to the put. */
static int shard_use(struct shard_store *s, unsigned no, bool lookup_only,
		     struct totp_err *err)
{
	struct store_opts o = s->opts;
	enum store_mode m;

	if (s->have_cur && s->cur_no == no && (s->cur != NULL || lookup_only))
		return 0;
	drop_cur(s);
	m = s->mode == STORE_READ || lookup_only ? STORE_READ : STORE_CREATE;
	o.batch = false;
	if (m == STORE_READ && s->mode != STORE_READ)
		o.sync = false;
	return shard_open_settled(s, no, m, &o, m == STORE_READ, err);
}

/* The legacy file, opened read-only once: 1 open, 0 none, -1 error. */
static int legacy_use(struct shard_store *s, struct totp_err *err)
{
	struct store_opts o = s->opts;
	struct totp_err e = {0};

	if (s->old != NULL)
		return 1;
	if (s->old_missing)
		return 0;
	o.batch = false;
	o.sync = false;
	if (gdbm_store_open(s->legacy, STORE_READ, &o, &s->old, &e) == 0)
		return 1;
	if (e.reason == TOTP_R_NOT_FOUND) {
		s->old_missing = true;
		return 0;
	}
	if (err != NULL)
		*err = e;
	return -1;
}

static int user_shard(struct shard_store *s, const char *user, unsigned *no,
		      struct totp_err *err)
{
	if (s->one && strcmp(user, s->one_user) == 0) {
		*no = s->one_no; /* the open's, checked and hashed once */
		return 0;
	}
	if (user_name_check(user, err) != 0)
		return -1;
	*no = shard_of(user);
	if (s->one && (!s->have_cur || s->cur_no != *no))
		return totp_err_set(err, TOTP_R_INVALID,
				    "the store was opened for a user of another shard");
	return 0;
}

/* ---- records -------------------------------------------------------------------- */

static struct pending *pending_find(struct shard_store *s, const char *user)
{
	for (size_t i = s->n_pend; i-- > 0;)
		if (strcmp(s->pend[i].user, user) == 0)
			return &s->pend[i];
	return NULL;
}

static int sh_get(void *h, const char *user, struct record *r, struct totp_err *err)
{
	struct shard_store *s = h;
	const struct pending *p;
	unsigned no;
	int found;

	if (user_shard(s, user, &no, err) != 0)
		return -1;
	if (s->opts.batch && (p = pending_find(s, user)) != NULL) {
		if (p->del)
			return 0;
		*r = p->r;
		return 1;
	}
	if (shard_use(s, no, s->opts.batch, err) != 0)
		return -1;
	found = s->cur != NULL ? store_get(s->cur, user, r, err) : 0;
	if (found != 0)
		return found;
	found = legacy_use(s, err);
	if (found <= 0)
		return found;
	return store_get(s->old, user, r, err);
}

static int pending_add(struct shard_store *s, const char *user, const struct record *r,
		       unsigned no, struct totp_err *err)
{
	struct pending *p;

	if (s->n_pend == s->cap_pend) {
		size_t cap = s->cap_pend ? 2 * s->cap_pend : 64;
		struct pending *np = calloc(cap, sizeof(*np));

		if (np == NULL)
			return totp_err_set(err, TOTP_R_NOMEM,
					    "out of memory in a batch");
		if (s->pend != NULL) {
			memcpy(np, s->pend, s->n_pend * sizeof(*np));
			explicit_bzero(s->pend, s->cap_pend * sizeof(*s->pend));
			free(s->pend);
		}
		s->pend = np;
		s->cap_pend = cap;
	}
	p = &s->pend[s->n_pend];
	snprintf(p->user, sizeof(p->user), "%s", user);
	if (r != NULL)
		p->r = *r;
	p->del = r == NULL;
	p->shard = no;
	p->seq = s->n_pend++;
	return 0;
}

static int sh_put(void *h, const char *user, const struct record *r, struct totp_err *err)
{
	struct shard_store *s = h;
	unsigned no;

	if (user_shard(s, user, &no, err) != 0)
		return -1;
	if (s->mode == STORE_READ)
		return totp_err_set(err, TOTP_R_INVALID, "the store was opened to read");
	if (s->opts.batch)
		return pending_add(s, user, r, no, err);
	if (shard_use(s, no, false, err) != 0)
		return -1;
	return store_put(s->cur, user, r, err);
}

static int sh_del(void *h, const char *user, struct totp_err *err)
{
	struct shard_store *s = h;
	struct record r;
	unsigned no;
	int in_shard, in_old;

	if (user_shard(s, user, &no, err) != 0)
		return -1;
	if (s->mode == STORE_READ)
		return totp_err_set(err, TOTP_R_INVALID, "the store was opened to read");
	if (shard_use(s, no, false, err) != 0)
		return -1;
	in_shard = store_get(s->cur, user, &r, err);
	if (in_shard == 1)
		record_wipe(&r);
	if (in_shard < 0)
		return -1;
	if (in_shard == 0) {
		in_old = legacy_use(s, err);
		if (in_old == 1 && (in_old = store_get(s->old, user, &r, err)) == 1) {
			record_wipe(&r);
			return totp_err_set(err, TOTP_R_INVALID,
					    "%s is in the store of an earlier release "
					    "(%s), which is never written: migrate first",
					    user, s->legacy);
		}
		if (in_old < 0)
			return -1;
		return totp_err_set(err, TOTP_R_NOT_FOUND, "%s has no record", user);
	}
	if (s->opts.batch)
		return pending_add(s, user, NULL, no, err);
	return store_delete(s->cur, user, err);
}

/* ---- the whole realm ------------------------------------------------------------- */

struct legacy_walk {
	struct shard_store *s;
	store_iter_fn fn;
	void *arg;
	int failed;
	struct totp_err *err;
};

/* A legacy user is visited only when its shard has no record (which won). */
static int legacy_one(const char *user, const struct record *r, void *arg)
{
	struct legacy_walk *w = arg;
	struct record mine;
	int found;

	if (shard_use(w->s, shard_of(user), true, w->err) != 0) {
		w->failed = 1;
		return -1;
	}
	found = w->s->cur != NULL ? store_get(w->s->cur, user, &mine, w->err) : 0;
	if (found == 1)
		record_wipe(&mine);
	if (found < 0) {
		w->failed = 1;
		return -1;
	}
	return found ? 0 : w->fn(user, r, w->arg);
}

static int sh_iterate(void *h, store_iter_fn fn, void *arg, struct totp_err *err)
{
	struct shard_store *s = h;
	struct legacy_walk w = {s, fn, arg, 0, err};
	int rc;

	if (s->one)
		return totp_err_set(err, TOTP_R_INVALID,
				    "a store opened for one user cannot be listed");
	drop_cur(s); /* each shard under its own shared lock, in order */
	for (unsigned no = 0; no < SHARD_COUNT; no++) {
#if SHARD_BITS == 16
		if ((no & 0xffu) == 0) { /* a folder missing: its 256 shards are */
			struct totp_err e = {0};
			bool opened;
			int fd = shard_dir(s, -1, no, false, &opened, &e);

			if (fd < 0 && e.reason != TOTP_R_NOT_FOUND) {
				if (err != NULL)
					*err = e;
				return -1;
			}
			if (fd < 0) {
				no += 0xffu;
				continue;
			}
			close(fd);
		}
#endif
		if (shard_use(s, no, true, err) != 0)
			return -1;
		rc = s->cur != NULL ? store_iterate(s->cur, fn, arg, err) : 0;
		drop_cur(s);
		if (rc != 0)
			return rc;
	}
	rc = legacy_use(s, err);
	if (rc <= 0)
		return rc;
	rc = store_iterate(s->old, legacy_one, &w, err);
	drop_cur(s);
	return w.failed ? -1 : rc;
}

static int by_shard(const void *a, const void *b)
{
	const struct pending *x = *(const struct pending *const *)a;
	const struct pending *y = *(const struct pending *const *)b;

	if (x->shard != y->shard)
		return x->shard < y->shard ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void pending_clear(struct shard_store *s)
{
	if (s->pend != NULL)
		explicit_bzero(s->pend, s->cap_pend * sizeof(*s->pend));
	free(s->pend);
	s->pend = NULL;
	s->n_pend = s->cap_pend = 0;
}

/* One shard's changes, applied to its staged copy. */
struct stage_arg {
	struct pending **p;
	size_t n;
};

static int stage_apply(struct store *st, void *arg, struct totp_err *err)
{
	struct stage_arg *a = arg;
	int rc = 0;

	for (size_t i = 0; i < a->n && rc == 0; i++)
		rc = a->p[i]->del ? store_delete(st, a->p[i]->user, err)
				  : store_put(st, a->p[i]->user, &a->p[i]->r, err);
	return rc;
}

/* The batch's journal: magic, count, the shards, their SHA-256. */
static uint8_t *journal_make(const uint32_t *list, size_t n, size_t *len)
{
	uint8_t *b = malloc(JOURNAL_HEAD + 4 * n + SHA256_LEN);
	uint32_t n32 = (uint32_t)n;

	if (b == NULL)
		return NULL;
	memcpy(b, JOURNAL_MAGIC, 4);
	memcpy(b + 4, &n32, 4);
	memcpy(b + JOURNAL_HEAD, list, 4 * n);
	*len = JOURNAL_HEAD + 4 * n + SHA256_LEN;
	sha256(b, *len - SHA256_LEN, b + *len - SHA256_LEN);
	return b;
}

/* Writes and syncs the journal into the marker jfd, and its folder (the
 * marker is a new file): the commit point. */
static int journal_write(const struct shard_store *s, int rootfd, int jfd,
			 const uint32_t *list, size_t n, struct totp_err *err)
{
	size_t len = 0;
	uint8_t *b = journal_make(list, n, &len);
	int rc = 0;

	if (b == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory in a batch");
	if (pwrite(jfd, b, len, 0) != (ssize_t)len || fsync(jfd) != 0)
		rc = totp_err_errno(err, errno == 0 ? EIO : errno, "cannot write %s",
				    s->journal);
	free(b);
	return rc != 0 ? rc : dir_sync_fd(rootfd, false, s->root, err);
}

/* Makes the journal's marker (empty: a batch that has not committed).  It
 * is a new file (journal_recover removed any, and synced its folder), so
 * it needs no sync: lost in a crash, it leaves only staged copies, which
 * nobody reads and the next batch replaces.  Its descriptor, or -1. */
static int journal_mark(const struct shard_store *s, int rootfd, struct totp_err *err)
{
	struct safe_rule file = {s->opts.owner,
				 SAFE_OWNER | SAFE_NOT_SHARED | SAFE_ONE_LINK};
	int fd = safe_open_at(rootfd, JOURNAL_NAME, O_RDWR | O_CREAT, &file, "journal",
			      s->journal, err);

	if (fd == SAFE_MISSING)
		return totp_err_errno(err, ENOENT, "cannot make %s", s->journal);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, 0) != 0) {
		totp_err_errno(err, errno, "cannot make %s", s->journal);
		close(fd);
		return -1;
	}
	return fd;
}

/* A shard new to this batch: made in memory and staged, with its lock
 * file beside it, so that the first login of each shard of an import
 * opens a lock file instead of making one (a file made is ext4's dearest
 * call; the import makes one per shard anyway).  A lock file left by a
 * batch given up is empty, as a lock file always is: its shard has no
 * database, as before. */
static int stage_new(int dirfd, const char *name, const char *stage, const char *shown,
		     const struct store_opts *o, struct gdbm_scratch *scratch,
		     struct stage_arg *a, struct totp_err *err)
{
	char lock[16 + sizeof(".lock")];

	snprintf(lock, sizeof(lock), "%s.lock", name);
	if (gdbm_store_lock_make(dirfd, lock, o, shown, err) != 0)
		return -1;
	return gdbm_store_stage_new(dirfd, stage, shown, scratch, stage_apply, a, err);
}

/* Stages every shard's part (sorted by shard) beside it; lists the
 * shards staged in list[*n].  When `listed`, `seen` marks the shards
 * that the root's listing, made since the marker, found a file of; each
 * other one is made new (gdbm_store_stage_new) without being looked for
 * again. */
static int stage_all(struct shard_store *s, int rootfd, struct pending **order,
		     size_t count, const uint8_t *seen, bool listed, uint32_t *list,
		     size_t *n, struct totp_err *err)
{
	struct gdbm_store_ext ext = {SHARD_BLOCK, true};
	struct store_opts o = s->opts;
	struct gdbm_scratch *scratch = NULL; /* for every new shard */
	int dirfd = -1;
	unsigned dir_no = SHARD_COUNT;
	bool opened = false;
	int rc = 0;

	o.batch = true;
	o.sync = false;
	*n = 0;
	for (size_t i = 0, j; i < count && rc == 0; i = j) {
		unsigned no = order[i]->shard;
		char dir[4], name[16], stage[16 + sizeof(STAGE_SUFFIX)],
		    shown[PATH_MAX + 24];
		struct stage_arg a;

		for (j = i; j < count && order[j]->shard == no; j++)
			;
		shard_rel(no, dir, name);
		if (dirfd < 0 || (dir[0] != '\0' && dir_no >> 8 != no >> 8)) {
			if (opened)
				close(dirfd);
			dirfd = shard_dir(s, rootfd, no, true, &opened, err);
			if (dirfd < 0) {
				rc = -1;
				break;
			}
			dir_no = no;
		}
		snprintf(stage, sizeof(stage), "%s" STAGE_SUFFIX, name);
		snprintf(shown, sizeof(shown), "%s/%s%s%s", s->root, dir,
			 dir[0] ? "/" : "", name);
		a.p = order + i;
		a.n = j - i;
		if (listed && (seen[no / 8] & (1u << (no % 8))) == 0)
			rc = (scratch != NULL ||
			      (scratch = gdbm_scratch_new(&ext, err)) != NULL)
				 ? stage_new(dirfd, name, stage, shown, &o, scratch, &a,
					     err)
				 : -1;
		else
			rc = gdbm_store_stage(dirfd, name, stage, shown, &o, &ext,
					      stage_apply, &a, err);
		if (rc == 0)
			list[(*n)++] = no;
	}
	if (opened)
		close(dirfd);
	gdbm_scratch_free(scratch);
	return rc;
}

/* Removes the staged copies of the listed shards (a batch given up). */
static void stages_drop(const struct shard_store *s, int rootfd, const uint32_t *list,
			size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char dir[4], name[16], stage[16 + sizeof(STAGE_SUFFIX)];
		bool opened;
		int fd = shard_dir(s, rootfd, list[i], false, &opened, NULL);

		if (fd < 0)
			continue;
		shard_rel(list[i], dir, name);
		snprintf(stage, sizeof(stage), "%s" STAGE_SUFFIX, name);
		unlinkat(fd, stage, 0);
		if (opened)
			close(fd);
	}
}

/*
 * A batch, all or nothing across the realm (a roll-forward journal):
 *   1. under the journal's lock, finish a journal a crash left; make the
 *      marker (an empty journal: from now on every open of the realm, or
 *      of a shard, waits for this commit, shard_open_settled); remove any
 *      staged copy left without a journal, listing the root;
 *   2. each changed shard, under its own lock (which lets go of any open
 *      that came before the marker), is copied beside it with its
 *      changes ("<shard>.jnew"); a shard the listing found no file of is
 *      made in memory and written there, its lock file beside it;
 *   3. syncfs: every staged copy on disk;
 *   4. the journal (the shards, a checksum) written and synced: the
 *      commit point.  A crash before it leaves a marker or a torn journal:
 *      the next open removes the staged copies, every shard old;
 *   5. each staged copy renamed over its shard, syncfs; a crash here
 *      leaves a whole journal: the next open does the renames again;
 *   6. the journal removed, the root synced.
 */
static int journal_commit(struct shard_store *s, struct pending **order, size_t count,
			  struct totp_err *err)
{
	char shown[PATH_MAX + sizeof("/" JOURNAL_LOCK)];
	uint8_t seen[SHARD_COUNT / 8] = {0};
	uint32_t *list = NULL;
	bool listed;
	size_t n = 0;
	int rootfd = -1, lock = -1, jfd = -1, rc = -1;

	if (root_open(s, true, &rootfd, err) != 0)
		return -1;
	snprintf(shown, sizeof(shown), "%s/" JOURNAL_LOCK, s->root);
	lock = gdbm_store_lock_at(rootfd, JOURNAL_LOCK, true, &s->opts, shown, err);
	if (lock < 0 || journal_recover(s, rootfd, err) != 0)
		goto out;
	list = malloc(count * sizeof(*list));
	if (list == NULL) {
		totp_err_set(err, TOTP_R_NOMEM, "out of memory in a batch");
		goto out;
	}
	jfd = journal_mark(s, rootfd, err);
	if (jfd < 0)
		goto out;
	/* staged copies of a batch whose marker a crash lost (it is not
	 * synced): nobody reads them; they go before they pile up.  The same
	 * listing, made after the marker, tells the shards with no file at
	 * all: from the marker on, an open that makes a shard's lock file or
	 * an empty database sees the journal before it writes a record, and
	 * lets go (shard_open_settled), so such a shard is new to this batch
	 * and is made without being looked for again. */
	listed = stages_remove(s, rootfd, seen);
	if (stage_all(s, rootfd, order, count, seen, listed, list, &n, err) != 0 ||
	    dir_sync_fd(rootfd, true, s->root, err) != 0 ||
	    journal_write(s, rootfd, jfd, list, n, err) != 0) {
		/* not committed: every shard stays as it was */
		stages_drop(s, rootfd, list, n);
		unlinkat(rootfd, JOURNAL_NAME, 0);
		goto out;
	}
	/* committed: an error from here on leaves the journal, which the
	 * next open finishes */
	if (journal_forward(s, rootfd, list, n, err) != 0)
		goto out;
	if (unlinkat(rootfd, JOURNAL_NAME, 0) != 0) {
		totp_err_errno(err, errno, "cannot remove %s", s->journal);
		goto out;
	}
	rc = dir_sync_fd(rootfd, false, s->root, err);
out:
	if (jfd >= 0)
		close(jfd);
	if (lock >= 0)
		close(lock);
	close(rootfd);
	free(list);
	return rc;
}

static int sh_commit(void *h, struct totp_err *err)
{
	struct shard_store *s = h;
	struct pending **order;
	int rc;

	if (!s->opts.batch)
		return s->cur != NULL ? store_commit(s->cur, err) : 0;
	if (s->n_pend == 0)
		return 0;
	drop_cur(s);
	order = calloc(s->n_pend, sizeof(*order));
	if (order == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory in a batch");
	for (size_t k = 0; k < s->n_pend; k++)
		order[k] = &s->pend[k];
	qsort(order, s->n_pend, sizeof(*order), by_shard);
	rc = journal_commit(s, order, s->n_pend, err);
	free(order);
	pending_clear(s);
	return rc;
}

static void sh_close(void *h)
{
	struct shard_store *s = h;

	if (s == NULL)
		return;
	drop_cur(s);
	store_close(s->old);
	pending_clear(s); /* the records; the rest is paths and settings */
	free(s);
}

static int sh_open(const struct store_location *loc, enum store_mode mode,
		   const struct store_opts *opts, void **h, struct totp_err *err)
{
	(void)loc, (void)mode, (void)opts, (void)h;
	return totp_err_set(err, TOTP_R_INVALID, "shard_store: use shard_store_open");
}

static const struct store_backend shard_store_backend = {
    .name = "gdbm-shards",
    .open = sh_open,
    .get = sh_get,
    .put = sh_put,
    .put_if = NULL, /* each shard's flock makes get + put atomic */
    .del = sh_del,
    .iterate = sh_iterate,
    .commit = sh_commit,
    .close = sh_close,
};

/* Opens shard `no` in the open's own mode (no creating): 1 when it
 * exists (then it is in hand, locked), 0 when not, -1 on error. */
static int shard_try(struct shard_store *s, unsigned no, struct totp_err *err)
{
	struct store_opts o = s->opts;

	o.batch = false;
	if (shard_open_settled(s, no, s->mode, &o, true, err) != 0)
		return -1;
	return s->cur != NULL;
}

/* Whether the realm has a store at all: the shards' folder, or the
 * legacy file.  1, 0, or -1. */
static int realm_exists(struct shard_store *s, struct totp_err *err)
{
	struct safe_rule dirs = {s->opts.owner, SAFE_OWNER_OR_ROOT | SAFE_NOT_SHARED};
	struct totp_err e = {0};
	int fd = -1;

	if (safe_walk_dir(s->root, &dirs, false, &fd, &e) == 0) {
		close(fd);
		return 1;
	}
	if (e.reason != TOTP_R_NOT_FOUND) {
		if (err != NULL)
			*err = e;
		return -1;
	}
	return legacy_use(s, err);
}

int shard_store_open(const struct store_location *loc, const char *user,
		     enum store_mode mode, const struct store_opts *opts,
		     struct store **out, struct totp_err *err)
{
	struct shard_store *s;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (loc == NULL || opts == NULL || out == NULL)
		return totp_err_set(err, TOTP_R_INVALID, "shard_store_open: no store");
	if (mode != STORE_READ && mode != STORE_WRITE && mode != STORE_CREATE)
		return totp_err_set(err, TOTP_R_INVALID, "unknown store mode %d",
				    (int)mode);
	if (user != NULL && user_name_check(user, err) != 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return totp_err_set(err, TOTP_R_NOMEM, "out of memory opening a store");
	s->mode = mode;
	s->opts = *opts;
	s->one = user != NULL;
	if (s->one) {
		snprintf(s->one_user, sizeof(s->one_user), "%s", user);
		s->one_no = shard_of(user);
	}
	if (snprintf(s->legacy, sizeof(s->legacy), "%s", loc->where) >=
		(int)sizeof(s->legacy) ||
	    shard_root(loc->where, s->root, sizeof(s->root), err) != 0) {
		totp_err_set(err, TOTP_R_INVALID, "the store path is too long");
		goto fail;
	}
	snprintf(s->journal, sizeof(s->journal), "%s/" JOURNAL_NAME, s->root);
	/* the realm: a batch a crash cut is finished (or undone) first */
	if (user == NULL && journal_seen(s) && journal_settle(s, err) != 0)
		goto fail;
	/* one user: the user's shard first (a login's usual case: one walk);
	 * only when it is missing does the realm's existence matter */
	if (user != NULL && mode != STORE_CREATE) {
		rc = shard_try(s, s->one_no, err);
		if (rc < 0)
			goto fail;
		if (rc == 1)
			return store_wrap(&shard_store_backend, s, out, err);
	}
	if (mode != STORE_CREATE) {
		rc = realm_exists(s, err);
		if (rc < 0)
			goto fail;
		if (rc == 0) {
			totp_err_set(err, TOTP_R_NOT_FOUND,
				     "no store at %s: enroll first", s->root);
			goto fail;
		}
	}
	/* one user: the shard's lock is held from here to the close */
	if (user != NULL && shard_use(s, s->one_no, false, err) != 0)
		goto fail;
	return store_wrap(&shard_store_backend, s, out, err);
fail:
	sh_close(s);
	return -1;
}

size_t shard_store_last_journal(const struct store *st)
{
	const struct shard_store *s = store_handle_of(st, &shard_store_backend);

	if (s == NULL)
		return gdbm_store_last_journal(st);
	return s->have_cur && s->cur != NULL ? gdbm_store_last_journal(s->cur) : 0;
}
