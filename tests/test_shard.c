/*
 * shard: the sharded system store (lib/store/shard_store.h).  SHA-256
 * itself is tested in test_sha256.c.
 *
 * The shard of a name and its path; one user's open locks only its shard (a user of
 * another shard is not kept waiting, one of the same shard is); the realm's iteration
 * gives every record once, shard by shard in order; a batch killed at
 * random times of its commit leaves, once reopened, every record of the
 * realm old or every one new (the journal, shard_store.h), and one that makes
 * every shard new leaves every user or none, and no staged copy; the legacy "<realm>.db"
 * is read for a user no shard has, never written, and loses to the shard once written.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gdbm_store.h"
#include "kill_timer.h"
#include "record.h"
#include "sha256.h"
#include "shard_store.h"
#include "store.h"

static char g_dir[256];
static char g_realm[32] = "default"; /* the realm realm() names, in g_dir */

/* ---- names and paths -------------------------------------------------------- */

static void test_shard_paths(void **state)
{
	char out[PATH_MAX];
	struct totp_err e;

	(void)state;
	/* SHA-256("abc") = ba78..., SHA-256("") = e3b0... */
	assert_int_equal(shard_of("abc"), 0xba78 >> (16 - SHARD_BITS));
	assert_int_equal(shard_of(""), 0xe3b0 >> (16 - SHARD_BITS));
	assert_int_equal(shard_root("/var/lib/totp/default.db", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/var/lib/totp/default.d");
	assert_int_equal(shard_root("/srv/otp/realm", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/srv/otp/realm.d");
#if SHARD_BITS == 16
	assert_int_equal(shard_path("/r.d", 0xba78, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/r.d/ba/78.db");
#elif SHARD_BITS == 10
	assert_int_equal(shard_path("/r.d", 0xba78 >> 6, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/r.d/2e9.db");
	assert_int_equal(shard_path("/r.d", SHARD_COUNT - 1, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/r.d/3ff.db");
#endif
	assert_int_equal(shard_path("/r.d", 1, out, sizeof(out), &e), 0);
	assert_true(strstr(out, "01.db") != NULL);
	assert_int_equal(shard_path("/r.d", SHARD_COUNT, out, sizeof(out), &e), -1);
	assert_int_equal(shard_path("/r.d", 1, out, 8, &e), -1);
}

/* ---- helpers ------------------------------------------------------------------ */

static int setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/test_shard.XXXXXX");
	return mkdtemp(g_dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void realm(struct store_location *loc)
{
	memset(loc, 0, sizeof(*loc));
	loc->kind = STORE_KIND_GDBM;
	snprintf(loc->where, sizeof(loc->where), "%s/%s.db", g_dir, g_realm);
	loc->owner = geteuid();
	loc->sharded = true;
}

static struct store_opts opts(bool batch, int timeout_ms)
{
	struct store_opts o = {.owner = geteuid(),
			       .lock_timeout_ms = timeout_ms,
			       .sync = false,
			       .batch = batch};

	return o;
}

static void rec(struct record *r, uint64_t sequence)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = RECORD_READY;
	r->gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	memcpy(r->gen[0].secret, "12345678901234567890", 20);
	r->gen[0].secret_len = 20;
	r->gen[0].created = 1700000000;
	r->sequence = sequence;
}

static void name_of(unsigned i, char out[32])
{
	snprintf(out, 32, "user%05u", i);
}

/* A name of the same shard as `user` (not `user`), found by search. */
static void same_shard(const char *user, char out[32])
{
	unsigned want = shard_of(user);

	for (unsigned i = 0;; i++) {
		snprintf(out, 32, "mate%u", i);
		if (shard_of(out) == want)
			return;
	}
}

static void put_one(const char *user, uint64_t sequence)
{
	struct store_location loc;
	struct store_opts o = opts(false, 2000);
	struct store *s = NULL;
	struct record r;
	struct totp_err e;

	realm(&loc);
	rec(&r, sequence);
	assert_int_equal(store_open_user(&loc, user, STORE_CREATE, &o, &s, &e), 0);
	assert_int_equal(store_put(s, user, &r, &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
}

/* The user's sequence in the store: 0 when not found. */
static uint64_t seq_of(const char *user)
{
	struct store_location loc;
	struct store_opts o = opts(false, 2000);
	struct store *s = NULL;
	struct record r;
	struct totp_err e;
	int found;

	realm(&loc);
	assert_int_equal(store_open_user(&loc, user, STORE_READ, &o, &s, &e), 0);
	found = store_get(s, user, &r, &e);
	assert_true(found >= 0);
	store_close(s);
	return found ? r.sequence : 0;
}

/* ---- the per-shard lock ------------------------------------------------------------ */

/* In a child: opens `user` for writing with a short deadline; exits 0
 * when it got it, 1 on a lock timeout, 2 otherwise. */
static int try_in_child(const char *user)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_location loc;
		struct store_opts o = opts(false, 200);
		struct store *s = NULL;
		struct totp_err e;

		realm(&loc);
		if (store_open_user(&loc, user, STORE_WRITE, &o, &s, &e) == 0) {
			store_close(s);
			_exit(0);
		}
		_exit(e.reason == TOTP_R_LOCK_TIMEOUT ? 1 : 2);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static void test_per_shard_lock(void **state)
{
	struct store_location loc;
	struct store_opts o = opts(false, 2000);
	struct store *held = NULL;
	struct record r;
	struct totp_err e;
	char mate[32];
	const char *other = "bob";

	(void)state;
	same_shard("alice", mate);
	assert_int_not_equal(shard_of(other), shard_of("alice"));
	put_one("alice", 1);
	put_one(other, 1);
	put_one(mate, 1);
	realm(&loc);
	assert_int_equal(store_open_user(&loc, "alice", STORE_WRITE, &o, &held, &e), 0);
	assert_int_equal(try_in_child(other), 0); /* another shard: not blocked */
	assert_int_equal(try_in_child(mate), 1);  /* the same shard: waits */
	/* the open is for alice's shard: another shard's user is refused */
	assert_int_equal(store_get(held, other, &r, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(store_get(held, mate, &r, &e), 1);
	store_close(held);
	assert_int_equal(try_in_child(mate), 0);
	/* a reader of a shard that does not exist makes nothing */
	assert_int_equal(seq_of("nobody-here"), 0);
}

/* ---- iteration ----------------------------------------------------------------------
 */

#define N_ITER 400

struct seen {
	unsigned count[N_ITER];
	unsigned last_shard;
	bool ordered;
	unsigned total;
};

static int see(const char *user, const struct record *r, void *arg)
{
	struct seen *v = arg;
	unsigned i, sh = shard_of(user);

	(void)r;
	assert_int_equal(sscanf(user, "user%05u", &i), 1);
	assert_true(i < N_ITER);
	v->count[i]++;
	if (v->total > 0 && sh < v->last_shard)
		v->ordered = false;
	v->last_shard = sh;
	v->total++;
	return 0;
}

static void test_iterate(void **state)
{
	struct store_location loc;
	struct store_opts ob = opts(true, 2000), o = opts(false, 2000);
	struct store *s = NULL;
	struct seen v;
	struct record r;
	struct totp_err e;
	char name[32];

	(void)state;
	realm(&loc);
	/* no store yet */
	assert_int_equal(store_open(&loc, STORE_READ, &o, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
	/* half by a batch, half one by one through the realm's open */
	assert_int_equal(store_open(&loc, STORE_CREATE, &ob, &s, &e), 0);
	for (unsigned i = 0; i < N_ITER / 2; i++) {
		name_of(i, name);
		rec(&r, i + 1);
		assert_int_equal(store_put(s, name, &r, &e), 0);
	}
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_int_equal(store_open(&loc, STORE_WRITE, &o, &s, &e), 0);
	for (unsigned i = N_ITER / 2; i < N_ITER; i++) {
		name_of(i, name);
		rec(&r, i + 1);
		assert_int_equal(store_put(s, name, &r, &e), 0);
	}
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);

	memset(&v, 0, sizeof(v));
	v.ordered = true;
	assert_int_equal(store_open(&loc, STORE_READ, &o, &s, &e), 0);
	assert_int_equal(store_iterate(s, see, &v, &e), 0);
	store_close(s);
	assert_int_equal(v.total, N_ITER);
	assert_true(v.ordered);
	for (unsigned i = 0; i < N_ITER; i++)
		assert_int_equal(v.count[i], 1);
	name_of(7, name);
	assert_int_equal(seq_of(name), 8);
}

/* ---- a batch killed in its commit
 * ------------------------------------------------------ */

#define N_BATCH 300
#define KILLS 40
#define CALIBRATE 7

/* Every user of the batch old (sequence `old`) or every one new (`new`),
 * never a mix, once any open has finished or undone the journal; no
 * journal and no staged copy is left by that open.  1 when all new. */
static int batch_outcome(uint64_t old, uint64_t new)
{
	struct store_location loc;
	char name[32], root[PATH_MAX], path[PATH_MAX + 16];
	uint64_t first = 0;
	struct stat st;
	struct totp_err e;

	for (unsigned i = 0; i < N_BATCH; i++) {
		uint64_t q;

		name_of(i, name);
		q = seq_of(name); /* the first one finishes a journal left */
		assert_true(q == old || q == new);
		if (i == 0)
			first = q;
		assert_int_equal(q, first); /* all or nothing, realm-wide */
	}
	realm(&loc);
	assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
	snprintf(path, sizeof(path), "%s/journal", root);
	assert_int_equal(stat(path, &st), -1);
	name_of(0, name);
	assert_int_equal(shard_path(root, shard_of(name), path, sizeof(path) - 8, &e), 0);
	strcat(path, ".jnew");
	assert_int_equal(stat(path, &st), -1);
	return first == new;
}

/* Whether the realm's journal is there (a kill left it). */
static bool journal_left(void)
{
	struct store_location loc;
	char root[PATH_MAX], path[PATH_MAX + 16];
	struct stat st;
	struct totp_err e;

	realm(&loc);
	assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
	snprintf(path, sizeof(path), "%s/journal", root);
	return stat(path, &st) == 0;
}

static long mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

/* A batch putting every user with sequence `to`, in a child; its commit
 * killed delay_us after it starts (timed in the child), or not (-1).
 * Returns how long the commit took in the child, or -1 when killed. */
static long batch_round(uint64_t to, long delay_us, long *shared_us)
{
	pid_t pid;
	int st;

	*shared_us = -1;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_location loc;
		struct store_opts o = opts(true, 5000);
		struct store *s = NULL;
		struct record r;
		struct totp_err e;
		char name[32];
		long t0;

		realm(&loc);
		if (store_open(&loc, STORE_CREATE, &o, &s, &e) != 0)
			_exit(2);
		for (unsigned i = 0; i < N_BATCH; i++) {
			name_of(i, name);
			rec(&r, to);
			if (store_put(s, name, &r, &e) != 0)
				_exit(2);
		}
		t0 = mono_us();
		if (delay_us >= 0)
			arm_kill_timer(delay_us);
		if (store_commit(s, &e) != 0)
			_exit(2);
		*shared_us = mono_us() - t0;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st))
		assert_int_equal(WEXITSTATUS(st), 0);
	else
		assert_int_equal(WTERMSIG(st), SIGKILL);
	return WIFEXITED(st) ? *shared_us : -1;
}

static int by_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

/* A batch of N_BATCH users over as many shards, killed at random times
 * in its commit (its own timer, scaled by the median of uninterrupted
 * commits, so the spread does not depend on the machine's speed): the
 * next open finds every user old or every user new. */
static void test_batch_killed(void **state)
{
	long *shared = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned none = 0, all = 0, journals = 0;
	uint64_t cur = 1;
	long t[CALIBRATE], median;

	(void)state;
	assert_true(shared != MAP_FAILED);
	assert_true(batch_round(cur, -1, shared) >= 0); /* every user, sequence 1 */
	for (unsigned i = 0; i < CALIBRATE; i++) {
		t[i] = batch_round(cur + 1, -1, shared);
		assert_true(t[i] >= 0);
		assert_int_equal(batch_outcome(cur, cur + 1), 1);
		cur++;
	}
	qsort(t, CALIBRATE, sizeof(t[0]), by_long);
	median = t[CALIBRATE / 2];
	srand(15);
	for (unsigned k = 0; k < KILLS; k++) {
		/* up to 5/4 of the median: some commits end before the kill */
		long delay =
		    (long)((unsigned long)rand() % (unsigned long)(median * 5 / 4 + 1));

		batch_round(cur + 1, delay, shared);
		if (journal_left())
			journals++;
		if (batch_outcome(cur, cur + 1)) {
			all++;
			cur++;
		} else {
			none++;
		}
	}
	munmap(shared, sizeof(long));
	print_message("batch kills: %u all old, %u all new (never a mix), of %u; %u "
		      "left a journal, which the next open finished or undid; median "
		      "commit %ld us\n",
		      none, all, KILLS, journals, median);
}

/* ---- a batch of new shards killed in its commit ---------------------------------------
 */

/* The files of the current realm's root: how many shard databases
 * ("*.db") and staged copies ("*.jnew"), and whether there is a
 * journal. */
static void root_files(unsigned *dbs, unsigned *stages, bool *journal)
{
	struct store_location loc;
	char root[PATH_MAX];
	struct totp_err e;
	struct dirent *d;
	DIR *dir;

	*dbs = *stages = 0;
	*journal = false;
	realm(&loc);
	assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
	dir = opendir(root);
	assert_non_null(dir);
	while ((d = readdir(dir)) != NULL) {
		size_t len = strlen(d->d_name);

		if (len > 3 && strcmp(d->d_name + len - 3, ".db") == 0)
			(*dbs)++;
		else if (len > 5 && strcmp(d->d_name + len - 5, ".jnew") == 0)
			(*stages)++;
		else if (strcmp(d->d_name, "journal") == 0)
			*journal = true;
	}
	closedir(dir);
}

/* A fresh realm (its root made, no shard in it) whose batch, in a child,
 * makes every shard of N_BATCH users; killed delay_us after its commit
 * starts, or not (-1).  How long the commit took, or -1 when killed. */
static long new_realm_round(unsigned round, long delay_us, long *shared)
{
	struct store_location loc;
	char root[PATH_MAX];
	struct totp_err e;

	snprintf(g_realm, sizeof(g_realm), "new%u", round);
	realm(&loc);
	assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
	assert_int_equal(mkdir(root, 0700), 0);
	return batch_round(1, delay_us, shared);
}

/* After a round: the next open finds every user or none (never a mix),
 * and leaves no journal and no staged copy; none means no shard was
 * made at all, every one that every shard was.  1 when all. */
static int new_realm_outcome(void)
{
	bool journal, seen[SHARD_COUNT] = {false};
	unsigned dbs, stages, shards = 0;
	uint64_t first = 0;
	char name[32];

	for (unsigned i = 0; i < N_BATCH; i++) {
		uint64_t q;

		name_of(i, name);
		q = seq_of(name); /* the first one finishes a journal left */
		assert_true(q == 0 || q == 1);
		if (i == 0)
			first = q;
		assert_int_equal(q, first);
		if (!seen[shard_of(name)])
			shards++;
		seen[shard_of(name)] = true;
	}
	root_files(&dbs, &stages, &journal);
	assert_false(journal);
	assert_int_equal(stages, 0);
	assert_int_equal(dbs, first == 1 ? shards : 0);
	return first == 1;
}

/* A first import (every shard new to the batch, made in memory and
 * written beside its name) killed at random times in its commit: once
 * reopened, every user is there or none is; the staged copies of a batch
 * that never committed are removed, and no shard of it is left. */
static void test_new_shards_killed(void **state)
{
	long *shared = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	unsigned none = 0, all = 0, journals = 0, staged = 0, round = 0;
	long t[CALIBRATE], median;

	(void)state;
	assert_true(shared != MAP_FAILED);
	for (unsigned i = 0; i < CALIBRATE; i++) {
		t[i] = new_realm_round(round++, -1, shared);
		assert_true(t[i] >= 0);
		assert_int_equal(new_realm_outcome(), 1);
	}
	qsort(t, CALIBRATE, sizeof(t[0]), by_long);
	median = t[CALIBRATE / 2];
	srand(16);
	for (unsigned k = 0; k < KILLS; k++) {
		long delay =
		    (long)((unsigned long)rand() % (unsigned long)(median * 5 / 4 + 1));
		bool journal;
		unsigned dbs, stages;

		new_realm_round(round++, delay, shared);
		root_files(&dbs, &stages, &journal);
		if (journal)
			journals++;
		if (stages > 0)
			staged++;
		if (new_realm_outcome())
			all++;
		else
			none++;
	}
	snprintf(g_realm, sizeof(g_realm), "default");
	munmap(shared, sizeof(long));
	print_message("new-shard batch kills: %u none, %u all (never a mix), of %u; %u "
		      "left a journal and %u staged copies, which the next "
		      "open finished or removed; median commit %ld us\n",
		      none, all, KILLS, journals, staged, median);
}

/* A shard with a lock file and no database (its maker died before it
 * made one) is made by a batch, as one with no file at all is, beside a
 * shard the batch copies. */
static void test_batch_lock_no_db(void **state)
{
	struct store_location loc;
	struct store_opts o = opts(true, 2000);
	struct store *s = NULL;
	struct record r;
	struct totp_err e;
	char root[PATH_MAX], path[PATH_MAX + 16], mate[32];
	int fd;

	(void)state;
	put_one("alice", 1);
	realm(&loc);
	assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
	assert_int_equal(shard_path(root, shard_of("zed"), path, sizeof(path) - 8, &e),
			 0);
	assert_true(shard_of("zed") != shard_of("alice"));
	strcat(path, ".lock");
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	same_shard("alice", mate);
	rec(&r, 2);
	assert_int_equal(store_open(&loc, STORE_WRITE, &o, &s, &e), 0);
	assert_int_equal(store_put(s, "zed", &r, &e), 0);
	assert_int_equal(store_put(s, mate, &r, &e), 0);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_int_equal(seq_of("zed"), 2);
	assert_int_equal(seq_of(mate), 2);
	assert_int_equal(seq_of("alice"), 1);
}

/* A first import makes each new shard's lock file with it (empty, 0600,
 * owned as the store), so that no first login has to; and a login then
 * finds it, its shard's record read. */
static void test_batch_makes_lock_files(void **state)
{
	struct store_location loc;
	struct store_opts o = opts(true, 2000);
	struct store *s = NULL;
	struct record r;
	struct totp_err e;
	char root[PATH_MAX], path[PATH_MAX + 16], name[32];
	struct stat st;

	(void)state;
	realm(&loc);
	assert_int_equal(store_open(&loc, STORE_CREATE, &o, &s, &e), 0);
	for (unsigned i = 0; i < 50; i++) {
		name_of(i, name);
		rec(&r, 3);
		assert_int_equal(store_put(s, name, &r, &e), 0);
	}
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
	for (unsigned i = 0; i < 50; i++) {
		name_of(i, name);
		assert_int_equal(
		    shard_path(root, shard_of(name), path, sizeof(path) - 8, &e), 0);
		strcat(path, ".lock");
		assert_int_equal(lstat(path, &st), 0);
		assert_true(S_ISREG(st.st_mode));
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(st.st_size, 0);
		assert_int_equal(st.st_uid, geteuid());
		assert_int_equal(seq_of(name), 3);
	}
}

/* ---- opens while a batch commits -----------------------------------------------------
 */

/* In a child: reads every user of the batch, pass after pass, until one
 * pass finds them all at `new`.  Exits 1 when a user reads `old` after
 * some user was read `new` (a mix seen by one reader over time), 2 on an
 * error, 0 otherwise. */
static void reader_child(uint64_t old, uint64_t new)
{
	struct store_location loc;
	struct store_opts o = opts(false, 30000);
	bool seen_new = false;

	realm(&loc);
	for (;;) {
		bool all_new = true;

		for (unsigned i = 0; i < N_BATCH; i++) {
			struct store *s = NULL;
			struct record r;
			struct totp_err e;
			char name[32];
			int found;

			name_of(i, name);
			if (store_open_user(&loc, name, STORE_READ, &o, &s, &e) != 0)
				_exit(2);
			found = store_get(s, name, &r, &e);
			store_close(s);
			if (found != 1 || (r.sequence != old && r.sequence != new))
				_exit(2);
			if (r.sequence == new)
				seen_new = true;
			else if (seen_new)
				_exit(1);
			else
				all_new = false;
		}
		if (all_new)
			_exit(0);
	}
}

/* A reader running through a batch's commit: once it has read one user
 * new, it never reads one old (an open during the commit waits for it,
 * shard_store.h). */
static void test_batch_while_reading(void **state)
{
	long *shared = mmap(NULL, sizeof(long), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t reader;
	int st;

	(void)state;
	assert_true(shared != MAP_FAILED);
	assert_true(batch_round(1, -1, shared) >= 0);
	for (uint64_t round = 1; round <= 5; round++) {
		reader = fork();
		assert_true(reader >= 0);
		if (reader == 0)
			reader_child(round, round + 1);
		assert_true(batch_round(round + 1, -1, shared) >= 0);
		assert_int_equal(waitpid(reader, &st, 0), reader);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	munmap(shared, sizeof(long));
}

/* ---- a journal left by a crash ------------------------------------------------------
 */

/* Leaves what a batch killed after its staging leaves for `user`: the
 * shard's staged copy holding sequence 2 (made in another realm, copied
 * in), and a journal naming that shard, whole or with its checksum
 * spoilt (torn). */
static void leave_journal(const char *user, bool whole)
{
	struct store_location loc, other;
	struct store_opts o = opts(false, 2000);
	struct store *s = NULL;
	struct record r;
	struct totp_err e;
	char root[PATH_MAX], oroot[PATH_MAX], from[PATH_MAX + 16], to[PATH_MAX + 24];
	char cmd[3 * PATH_MAX];
	uint8_t j[8 + 4 + SHA256_LEN];
	uint32_t n = 1, no = shard_of(user);
	FILE *f;

	realm(&loc);
	other = loc;
	snprintf(other.where, sizeof(other.where), "%s/other.db", g_dir);
	rec(&r, 2);
	assert_int_equal(store_open_user(&other, user, STORE_CREATE, &o, &s, &e), 0);
	assert_int_equal(store_put(s, user, &r, &e), 0);
	store_close(s);
	assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
	assert_int_equal(shard_root(other.where, oroot, sizeof(oroot), &e), 0);
	assert_int_equal(shard_path(oroot, no, from, sizeof(from), &e), 0);
	assert_int_equal(shard_path(root, no, to, sizeof(to) - 8, &e), 0);
	strcat(to, ".jnew");
	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
	memcpy(j, "PTJ1", 4);
	memcpy(j + 4, &n, 4);
	memcpy(j + 8, &no, 4);
	sha256(j, 12, j + 12);
	if (!whole)
		j[12] ^= 1;
	snprintf(cmd, sizeof(cmd), "%s/journal", root);
	f = fopen(cmd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(j, 1, sizeof(j), f), sizeof(j));
	assert_int_equal(fclose(f), 0);
}

/* A whole journal is finished by the next open of a user's shard (its
 * staged copy renamed in); a torn one means the batch never committed
 * (the staged copy removed, the shard old); either way it is gone. */
static void test_journal_left(void **state)
{
	(void)state;
	put_one("alice", 1);
	put_one("bob", 1);
	leave_journal("alice", true);
	assert_true(journal_left());
	assert_int_equal(seq_of("bob"), 1); /* another shard's open finishes it */
	assert_false(journal_left());
	assert_int_equal(seq_of("alice"), 2);

	put_one("carol", 1);
	leave_journal("carol", false);
	assert_int_equal(seq_of("carol"), 1);
	assert_false(journal_left());
	{
		struct store_location loc;
		char root[PATH_MAX], path[PATH_MAX + 24];
		struct stat st;
		struct totp_err e;

		realm(&loc);
		assert_int_equal(shard_root(loc.where, root, sizeof(root), &e), 0);
		assert_int_equal(
		    shard_path(root, shard_of("carol"), path, sizeof(path) - 8, &e), 0);
		strcat(path, ".jnew");
		assert_int_equal(stat(path, &st), -1); /* the staged copy removed */

		/* a staged copy with no journal (a crash lost the marker, which
		 * is not synced) is removed by the next batch */
		assert_int_equal(
		    shard_path(root, shard_of("dave"), path, sizeof(path) - 8, &e), 0);
		strcat(path, ".jnew");
		{
			struct store_opts o = opts(true, 2000);
			struct store *s = NULL;
			struct record r;
			FILE *f = fopen(path, "w");

			assert_non_null(f);
			assert_int_equal(fclose(f), 0);
			assert_int_equal(stat(path, &st), 0);

			rec(&r, 1);
			assert_int_equal(store_open(&loc, STORE_WRITE, &o, &s, &e), 0);
			assert_int_equal(store_put(s, "erin", &r, &e), 0);
			assert_int_equal(store_commit(s, &e), 0);
			store_close(s);
		}
		assert_int_equal(stat(path, &st), -1);
		assert_int_equal(seq_of("erin"), 1);
	}
}

/* ---- the legacy file
 * ---------------------------------------------------------------------- */

/* Counts users; the one written since (user00000) must show the shard's
 * record (sequence 6), not the legacy one. */
static int see_legacy(const char *user, const struct record *r, void *arg)
{
	struct seen *v = arg;

	if (strcmp(user, "user00000") == 0)
		assert_int_equal(r->sequence, 6);
	v->total++;
	return 0;
}

static void test_legacy(void **state)
{
	struct store_location loc;
	struct store_opts o = opts(false, 2000);
	struct store *s = NULL;
	struct record r;
	struct totp_err e;
	struct stat before, after;
	struct seen v;
	char name[32];

	(void)state;
	realm(&loc);
	/* an earlier release's file: one GDBM database at <realm>.db */
	assert_int_equal(gdbm_store_open(loc.where, STORE_CREATE, &o, &s, &e), 0);
	for (unsigned i = 0; i < 3; i++) {
		name_of(i, name);
		rec(&r, 5);
		assert_int_equal(store_put(s, name, &r, &e), 0);
	}
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_int_equal(stat(loc.where, &before), 0);

	name_of(0, name);
	assert_int_equal(seq_of(name), 5); /* read from the legacy file */
	assert_int_equal(store_open_user(&loc, name, STORE_WRITE, &o, &s, &e), 0);
	assert_int_equal(store_get(s, name, &r, &e), 1);
	r.sequence = 6;
	assert_int_equal(store_put(s, name, &r, &e), 0); /* to the shard */
	store_close(s);
	assert_int_equal(seq_of(name), 6); /* the shard wins */
	put_one("newcomer", 1);

	/* listing: every user once, the shard's record over the legacy one */
	memset(&v, 0, sizeof(v));
	assert_int_equal(store_open(&loc, STORE_READ, &o, &s, &e), 0);
	assert_int_equal(store_iterate(s, see_legacy, &v, &e), 0);
	store_close(s);
	assert_int_equal(v.total, 4);

	/* a user only in the legacy file cannot be deleted there */
	name_of(1, name);
	assert_int_equal(store_open_user(&loc, name, STORE_WRITE, &o, &s, &e), 0);
	assert_int_equal(store_delete(s, name, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	store_close(s);
	assert_int_equal(seq_of(name), 5);

	/* never written */
	assert_int_equal(stat(loc.where, &after), 0);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
	assert_int_equal(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shard_paths),
	    cmocka_unit_test_setup_teardown(test_per_shard_lock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iterate, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_killed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_new_shards_killed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_lock_no_db, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_makes_lock_files, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_while_reading, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_left, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_legacy, setup, teardown),
	};

	return cmocka_run_group_tests_name("shard", tests, NULL, NULL);
}
