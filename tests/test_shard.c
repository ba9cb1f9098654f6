/*
 * shard: the sharded system store (lib/store/shard_store.h).  SHA-256
 * itself is tested in test_sha256.c.
 *
 * The shard of a name and its path; one user's open locks only its shard (a user of another shard
 * is not kept waiting, one of the same shard is); the realm's iteration
 * gives every record once, shard by shard in order; a batch killed at
 * random points of its commit leaves every shard all old or all new, the
 * new ones before the old ones in shard order (the guarantee
 * shard_store.h states); the legacy "<realm>.db" is read for a user no
 * shard has, never written, and loses to the shard once written.
 */
#include "config.h"

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
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gdbm_store.h"
#include "record.h"
#include "sha256.h"
#include "shard_store.h"
#include "store.h"

static char g_dir[256];

/* ---- names and paths -------------------------------------------------------- */

static void test_shard_paths(void **state)
{
	char out[PATH_MAX];
	struct totp_err e;

	(void)state;
	assert_int_equal(shard_of("abc"), 0xba78); /* SHA-256("abc") = ba78... */
	assert_int_equal(shard_of(""), 0xe3b0);
	assert_int_equal(shard_root("/var/lib/totp/default.db", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/var/lib/totp/default.d");
	assert_int_equal(shard_root("/srv/otp/realm", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/srv/otp/realm.d");
	assert_int_equal(shard_path("/r.d", 0xba78, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/r.d/ba/78.db");
	assert_int_equal(shard_path("/r.d", 0x0001, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/r.d/00/01.db");
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
	snprintf(loc->where, sizeof(loc->where), "%s/default.db", g_dir);
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
	r->state = RECORD_READY;
	r->params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	memcpy(r->secret, "12345678901234567890", 20);
	r->secret_len = 20;
	r->created = 1700000000;
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

/* Every shard all old (sequence 1) or all new (2), the new ones first. */
static void check_batch_outcome(unsigned *n_new)
{
	static uint64_t by_user[N_BATCH];
	static int by_shard[SHARD_COUNT];
	unsigned max_new = 0, min_old = SHARD_COUNT;
	char name[32];

	memset(by_shard, 0, sizeof(by_shard));
	*n_new = 0;
	for (unsigned i = 0; i < N_BATCH; i++) {
		unsigned sh;

		name_of(i, name);
		sh = shard_of(name);
		by_user[i] = seq_of(name);
		assert_true(by_user[i] == 1 || by_user[i] == 2);
		if (by_shard[sh] == 0)
			by_shard[sh] = (int)by_user[i];
		assert_int_equal(by_shard[sh], (int)by_user[i]); /* whole shards */
		if (by_user[i] == 2) {
			(*n_new)++;
			if (sh > max_new)
				max_new = sh;
		} else if (sh < min_old) {
			min_old = sh;
		}
	}
	if (*n_new > 0 && *n_new < N_BATCH)
		assert_true(max_new < min_old); /* new shards before old ones */
}

static void batch_round(uint64_t from, uint64_t to, long kill_after_us, unsigned *n_new)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_location loc;
		struct store_opts o = opts(true, 5000);
		struct store *s = NULL;
		struct record r;
		struct totp_err e;
		char name[32];

		realm(&loc);
		if (store_open(&loc, STORE_CREATE, &o, &s, &e) != 0)
			_exit(2);
		for (unsigned i = 0; i < N_BATCH; i++) {
			name_of(i, name);
			rec(&r, to);
			if (store_put(s, name, &r, &e) != 0)
				_exit(2);
		}
		_exit(store_commit(s, &e) == 0 ? 0 : 2);
	}
	if (kill_after_us >= 0) {
		struct timespec ts = {0, kill_after_us * 1000};

		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st))
		assert_int_equal(WEXITSTATUS(st), 0);
	check_batch_outcome(n_new);
	(void)from;
}

static void reset_all_old(void)
{
	struct store_location loc;
	struct store_opts o = opts(true, 5000);
	struct store *s = NULL;
	struct record r;
	struct totp_err e;
	char name[32];

	realm(&loc);
	assert_int_equal(store_open(&loc, STORE_CREATE, &o, &s, &e), 0);
	for (unsigned i = 0; i < N_BATCH; i++) {
		name_of(i, name);
		rec(&r, 1);
		assert_int_equal(store_put(s, name, &r, &e), 0);
	}
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
}

static void test_batch_killed(void **state)
{
	unsigned n_new, partial = 0, none = 0, all = 0;
	long full_us;
	struct timespec t0, t1;

	(void)state;
	reset_all_old();
	/* unkilled: all new; its time scales the kills */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	batch_round(1, 2, -1, &n_new);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(n_new, N_BATCH);
	full_us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
	srand(15);
	for (unsigned k = 0; k < KILLS; k++) {
		reset_all_old();
		batch_round(1, 2, (long)rand() % (full_us + 1), &n_new);
		if (n_new == 0)
			none++;
		else if (n_new == N_BATCH)
			all++;
		else
			partial++;
	}
	print_message("batch kills: %u all old, %u partial (whole shards, in order), "
		      "%u all new, of %u\n",
		      none, partial, all, KILLS);
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
	    cmocka_unit_test_setup_teardown(test_legacy, setup, teardown),
	};

	return cmocka_run_group_tests_name("shard", tests, NULL, NULL);
}
