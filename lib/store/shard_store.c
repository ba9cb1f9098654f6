/* shard_store: a system store as a fixed set of GDBM shards (shard_store.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

struct shard_store {
	char root[PATH_MAX];   /* <dir>/<realm>.d */
	char legacy[PATH_MAX]; /* <dir>/<realm>.db, never written */
	enum store_mode mode;
	struct store_opts opts;
	bool one;	 /* opened for one user: only that user's shard */
	unsigned cur_no; /* the shard `cur` is, when have_cur */
	bool have_cur;
	struct store *cur; /* NULL with have_cur: the shard does not exist */
	struct store *old; /* the legacy file, read only; NULL: not opened */
	bool old_missing;
	struct pending *pend;
	size_t n_pend, cap_pend;
	int empty_fd; /* an empty shard to copy (gdbm_store_template), or -1 */
};

/* ---- names ------------------------------------------------------------------ */

unsigned shard_of(const char *user)
{
	uint8_t h[SHA256_LEN];

	sha256(user, strlen(user), h);
	return (unsigned)h[0] << 8 | h[1];
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
	int len = snprintf(out, outsz, "%s/%02x/%02x.db", root, (shard >> 8) & 0xffu,
			   shard & 0xffu);

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

/* Opens shard `no` (closing the one in hand).  A reader, or a batch's get,
 * takes a missing shard as empty (cur NULL); a writer makes it, so that
 * its lock is held from the get to the put. */
static int shard_use(struct shard_store *s, unsigned no, bool lookup_only,
		     struct totp_err *err)
{
	struct store_opts o = s->opts;
	struct gdbm_store_ext ext = {SHARD_BLOCK, false, -1};
	struct totp_err e = {0};
	char path[PATH_MAX];
	enum store_mode m;

	if (s->have_cur && s->cur_no == no && (s->cur != NULL || lookup_only))
		return 0;
	drop_cur(s);
	if (shard_path(s->root, no, path, sizeof(path), err) != 0)
		return -1;
	m = s->mode == STORE_READ || lookup_only ? STORE_READ : STORE_CREATE;
	o.batch = false;
	if (m == STORE_READ && s->mode != STORE_READ)
		o.sync = false;
	if (gdbm_store_open_ext(path, m, &o, &ext, &s->cur, &e) != 0) {
		if (m != STORE_READ || e.reason != TOTP_R_NOT_FOUND) {
			if (err != NULL)
				*err = e;
			return -1;
		}
		s->cur = NULL;
	}
	s->cur_no = no;
	s->have_cur = true;
	return 0;
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
	struct safe_rule dirs = {s->opts.owner, SAFE_OWNER_OR_ROOT | SAFE_NOT_SHARED};
	struct legacy_walk w = {s, fn, arg, 0, err};
	char dir[PATH_MAX + 8];
	int rc;

	if (s->one)
		return totp_err_set(err, TOTP_R_INVALID,
				    "a store opened for one user cannot be listed");
	drop_cur(s); /* each shard under its own shared lock, in order */
	for (unsigned hi = 0; hi < 256; hi++) {
		struct totp_err e = {0};
		int fd = -1;

		snprintf(dir, sizeof(dir), "%s/%02x", s->root, hi);
		if (safe_walk_dir(dir, &dirs, false, &fd, &e) != 0) {
			if (e.reason == TOTP_R_NOT_FOUND)
				continue;
			if (err != NULL)
				*err = e;
			return -1;
		}
		close(fd);
		for (unsigned lo = 0; lo < 256; lo++) {
			if (shard_use(s, hi << 8 | lo, true, err) != 0)
				return -1;
			rc = s->cur != NULL ? store_iterate(s->cur, fn, arg, err) : 0;
			drop_cur(s);
			if (rc != 0)
				return rc;
		}
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

/* One shard's part of a batch: one gdbm batch renamed in, not synced:
 * sh_commit syncs the file system once for every shard. */
static int commit_shard(struct shard_store *s, struct pending **p, size_t n,
			struct totp_err *err)
{
	struct gdbm_store_ext ext = {SHARD_BLOCK, true, -1};
	struct store_opts o = s->opts;
	struct store *st = NULL;
	char path[PATH_MAX];
	int rc = 0;

	o.batch = true;
	if (s->empty_fd < 0 && (s->empty_fd = gdbm_store_template(SHARD_BLOCK, err)) < 0)
		return -1;
	ext.template_fd = s->empty_fd;
	if (shard_path(s->root, p[0]->shard, path, sizeof(path), err) != 0 ||
	    gdbm_store_open_ext(path, STORE_CREATE, &o, &ext, &st, err) != 0)
		return -1;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = p[i]->del ? store_delete(st, p[i]->user, err)
			       : store_put(st, p[i]->user, &p[i]->r, err);
	if (rc == 0)
		rc = store_commit(st, err);
	store_close(st);
	return rc;
}

/* Every shard written by a batch made durable at once (syncfs). */
static int root_sync(struct shard_store *s, struct totp_err *err)
{
	int fd = open(s->root, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int rc = 0;

	if (fd < 0 || syncfs(fd) != 0)
		rc = totp_err_errno(err, errno, "cannot sync the shards under %s",
				    s->root);
	if (fd >= 0)
		close(fd);
	return rc;
}

static int sh_commit(void *h, struct totp_err *err)
{
	struct shard_store *s = h;
	struct pending **order;
	size_t i = 0, done = 0;
	int rc = 0;

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
	while (i < s->n_pend && rc == 0) {
		size_t j = i;

		while (j < s->n_pend && order[j]->shard == order[i]->shard)
			j++;
		rc = commit_shard(s, order + i, j - i, err);
		if (rc == 0)
			done++;
		i = j;
	}
	free(order);
	pending_clear(s);
	if (done > 0) {
		int rc2 = root_sync(s, err);

		if (rc == 0)
			rc = rc2;
	}
	if (rc != 0 && done > 0 && err != NULL) {
		char why[TOTP_ERR_MSG_MAX];

		snprintf(why, sizeof(why), "%s", err->msg);
		totp_err_set(err, err->reason, "%s (%zu shards were written before)", why,
			     done);
	}
	return rc;
}

static void sh_close(void *h)
{
	struct shard_store *s = h;

	if (s == NULL)
		return;
	drop_cur(s);
	store_close(s->old);
	pending_clear(s);
	if (s->empty_fd >= 0)
		close(s->empty_fd);
	explicit_bzero(s, sizeof(*s));
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
	struct gdbm_store_ext ext = {SHARD_BLOCK, false, -1};
	struct store_opts o = s->opts;
	struct totp_err e = {0};
	char path[PATH_MAX];

	o.batch = false;
	if (shard_path(s->root, no, path, sizeof(path), err) != 0)
		return -1;
	if (gdbm_store_open_ext(path, s->mode, &o, &ext, &s->cur, &e) == 0) {
		s->cur_no = no;
		s->have_cur = true;
		return 1;
	}
	if (e.reason == TOTP_R_NOT_FOUND)
		return 0;
	if (err != NULL)
		*err = e;
	return -1;
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
	s->empty_fd = -1;
	s->one = user != NULL;
	if (snprintf(s->legacy, sizeof(s->legacy), "%s", loc->where) >=
		(int)sizeof(s->legacy) ||
	    shard_root(loc->where, s->root, sizeof(s->root), err) != 0) {
		totp_err_set(err, TOTP_R_INVALID, "the store path is too long");
		goto fail;
	}
	/* one user: the user's shard first (a login's usual case: one walk);
	 * only when it is missing does the realm's existence matter */
	if (user != NULL && mode != STORE_CREATE) {
		rc = shard_try(s, shard_of(user), err);
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
	if (user != NULL && shard_use(s, shard_of(user), false, err) != 0)
		goto fail;
	return store_wrap(&shard_store_backend, s, out, err);
fail:
	sh_close(s);
	return -1;
}
