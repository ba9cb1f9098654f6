/*
 * torture: processes that register, verify, log in or remove, killed with
 * SIGKILL in the middle, against a real store on disk.
 *
 * Each round forks a child that runs one lifecycle or login call through
 * lib/ (the code totp-enroll and pam_totp.so call) on one user, and kills
 * it.  After each kill the parent checks that the database opens (for
 * reading and for writing), that every other user's record is the same,
 * byte for byte, as before, and that the user's own record is either the
 * one before the call or the one the call makes; never garbage.
 *
 * Two ways to kill:
 *   - at a random time, as a crash or an OOM kill would come: the child
 *     arms a timer that sends it SIGKILL a random 0 to 110% of the length
 *     of a call of its kind (register, login...: measured in earlier
 *     children, from the start of the call to its end) after the start of
 *     its own call.  The timer starts inside
 *     the call, not in the parent, so a busy machine that is slow to fork
 *     or to wake the parent does not move the kill past the call's end:
 *     the kill lands inside the call whatever the machine's speed (a
 *     slower call only makes it land earlier in its work);
 *   - at each write: the child kills itself just before its Nth write
 *     (write(2), pwrite(2) or copy_file_range(2): GDBM 1.23 writes with
 *     lseek + write, a change of structure writes its redo journal to the
 *     lock file and its blocks to the database with pwrite, a batch
 *     copies a database with copy_file_range),
 *     for N = 1, 2, ... until the call runs to its end, so that every
 *     point between two writes of one gdbm_store is hit, not only those a
 *     timer happens to land on.
 *
 * The stores live on /dev/shm when there is one: a SIGKILL leaves the
 * page cache as it was, so what a kill tears is the same as on a disk,
 * and the rounds do not wait for fsync (a power cut is another matter:
 * see docs/hardening.md).
 *
 * Two stores: a system store of 1000 users (plus new users registering
 * into it, so that buckets split and the directory grows), and a user
 * store holding one user.  The system store is sharded as the module
 * keeps one (lib/store/shard_store.h): the raw scan reads every shard
 * file there is, checks each key is in its own shard, and compares every
 * value of every shard but the victim's, byte for byte.  Both are owned by whoever runs
 * the test (the store checks the owner, not who it is), so no root is needed.
 *
 * TORTURE_ROUNDS (500; 100 under ASan) sets the random-time kills per store,
 * TORTURE_SEED the random seed (printed, to replay a failure), and
 * TORTURE_ONLY a pattern of the tests to run ("*write_kills").
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
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <gdbm.h>

#include "kill_timer.h"
#include "lifecycle.h"
#include "login.h"
#include "otp.h"
#include "gdbm_store.h"
#include "redo.h"
#include "shard_store.h"
#include "store.h"

#define SYSTEM_USERS 1000
#define NEW_USERS 300 /* not in the system store at first: registered later */
#define MAX_USERS (SYSTEM_USERS + NEW_USERS)
#define NAME_LEN 16
#define DAY_MS 86400000LL
#define START_MS 1700000000000LL

/* Under ASan a fork costs tens of milliseconds (its shadow memory): the
 * sanitizer build runs a fifth of the rounds, the plain build all. */
#if defined(__SANITIZE_ADDRESS__)
#define SCALE 5
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SCALE 5
#endif
#endif
#ifndef SCALE
#define SCALE 1
#endif

/* ---- write(2), counted: the child kills itself before the Nth ---------- */

/* An executable's own write() comes before libc's for every library
 * loaded, GDBM included.  Off (0) except in a child that is told when. */
static long kill_at_write;
static long writes_seen;

ssize_t write(int fd, const void *buf, size_t n)
{
	if (kill_at_write > 0 && ++writes_seen >= kill_at_write)
		raise(SIGKILL);
	return syscall(SYS_write, fd, buf, n);
}

/* The store copies a database with copy_file_range (and pwrite where that
 * does not go) before a new key: those are writes too. */
ssize_t copy_file_range(int in, off_t *in_at, int out, off_t *out_at, size_t n,
			unsigned flags)
{
	if (kill_at_write > 0 && ++writes_seen >= kill_at_write)
		raise(SIGKILL);
	return syscall(SYS_copy_file_range, in, in_at, out, out_at, n, flags);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t at)
{
	if (kill_at_write > 0 && ++writes_seen >= kill_at_write)
		raise(SIGKILL);
	return syscall(SYS_pwrite64, fd, buf, n, at);
}

/* ---- the world: one store, its users, what each record was --------------- */

enum op {
	OP_REGISTER,
	OP_VERIFY_RIGHT,
	OP_VERIFY_WRONG,
	OP_LOGIN_RIGHT,
	OP_LOGIN_WRONG,
	OP_REMOVE,
	OP_COUNT
};

static const char *const op_names[OP_COUNT] = {
    "register",		  "verify (right code)", "verify (wrong code)",
    "login (right code)", "login (wrong code)",	 "remove"};

struct user {
	char name[NAME_LEN];
	int present; /* has a record (of any state) */
	struct record rec;
	uint8_t *raw; /* the value as GDBM holds it (malloc'd) */
	size_t raw_len;
};

struct world {
	char dir[256];
	struct store_location loc;
	struct cfg conf;
	struct user *users;
	unsigned n_users;
	int64_t now_ms;
	unsigned seed;
	/* results */
	unsigned kills, completed, kept_old, got_new;
	/* kills that left a redo journal (redo.h) in the victim's lock file:
	 * whole (the next open finished the change), torn (dropped) */
	unsigned journals_whole, journals_torn;
	unsigned per_op[OP_COUNT];
	long last_call_us; /* how long the last round's call took, from its
			    * start in the child to its end; -1 when killed */
	long *child_us;	   /* shared with the children: where they put it */
	unsigned new_pct;  /* how often a new user registers (percent) */
};

static void raw_snapshot(struct world *w);
static void world_check_all(struct world *w);

static unsigned rnd(struct world *w, unsigned n)
{
	return (unsigned)rand_r(&w->seed) % n;
}

static struct store_opts opts_of(const struct world *w)
{
	struct store_opts o = {
	    .owner = w->loc.owner, .lock_timeout_ms = 5000, .sync = false};

	return o;
}

static void mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = strchr(p + 1, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0700) != 0)
			assert_int_equal(errno, EEXIST);
		*s = '/';
	}
}

/* The record as the rounds have it must be one the store can write. */
static void encode(struct user *u)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	struct totp_err err;
	size_t len;

	assert_int_equal(record_encode(&u->rec, buf, sizeof(buf), &len, &err), 0);
}

/* A ready user with its own secret, whose last accepted step is in the past. */
static void make_ready(struct world *w, struct user *u, unsigned i)
{
	memset(&u->rec, 0, sizeof(u->rec));
	u->rec.gen[0].state = RECORD_READY;
	u->rec.gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	u->rec.gen[0].secret_len = 20;
	for (unsigned k = 0; k < 20; k++)
		u->rec.gen[0].secret[k] = (uint8_t)(i * 31 + k * 7 + 1);
	u->rec.gen[0].counter =
	    otp_step_at(&u->rec.gen[0].params, w->now_ms / 1000) - 100;
	u->rec.sequence = 2;
	u->rec.change_date_ms = w->now_ms - DAY_MS;
	u->rec.gen[0].created = w->now_ms / 1000 - 86400;
	snprintf(u->rec.last_success.service, RECORD_SERVICE_MAX, "sshd");
	snprintf(u->rec.last_success.rhost, RECORD_RHOST_MAX, "192.0.2.%u", i % 250);
	u->rec.last_success.time = w->now_ms / 1000 - 3600;
	u->present = 1;
	encode(u);
}

/* Builds the store: users made ready, pending or removed in turn. */
static void world_setup(struct world *w, const char *sub, unsigned present,
			unsigned absent, unsigned seed)
{
	/* SIGKILL leaves the page cache as it was, so a kill tears a store
	 * on tmpfs exactly as on a disk, and fsync costs nothing there */
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR");
	struct store_opts o;
	struct store *s = NULL;
	struct totp_err err;

	memset(w, 0, sizeof(*w));
	w->seed = seed;
	w->now_ms = START_MS;
	w->new_pct = 4;
	snprintf(w->dir, sizeof(w->dir), "%s/torture-XXXXXX", tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(w->dir));
	assert_true(strlen(w->dir) + 1 + strlen(sub) < sizeof(w->loc.where));
	memcpy(w->loc.where, w->dir, strlen(w->dir));
	w->loc.where[strlen(w->dir)] = '/';
	strcpy(w->loc.where + strlen(w->dir) + 1, sub);
	w->loc.owner = geteuid();
	w->loc.per_user = present == 1;
	w->loc.sharded = present != 1; /* a system store: as location_for */
	mkdirs(w->loc.where);
	cfg_defaults(&w->conf);
	w->conf.emergency_codes = 0; /* yescrypt would only slow the rounds down */
	w->conf.lock_timeout_ms = 5000;
	w->conf.max_failures = 3;
	w->child_us = mmap(NULL, sizeof(*w->child_us), PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(w->child_us != MAP_FAILED);
	w->n_users = present + absent;
	w->users = calloc(w->n_users, sizeof(*w->users));
	assert_non_null(w->users);
	o = opts_of(w);
	assert_int_equal(store_open(&w->loc, STORE_CREATE, &o, &s, &err), 0);
	for (unsigned i = 0; i < w->n_users; i++) {
		struct user *u = &w->users[i];

		if (present == 1 && i == 0)
			snprintf(u->name, NAME_LEN, "alice");
		else
			snprintf(u->name, NAME_LEN, "%c%04u", i < present ? 'u' : 'n', i);
		if (i >= present)
			continue;
		make_ready(w, u, i);
		if (i % 5 == 3) { /* some pending, some removed */
			u->rec.gen[0].state = RECORD_PENDING;
			encode(u);
		} else if (i % 5 == 4) {
			u->rec.gen[0].state = RECORD_REMOVED;
			u->rec.gen[0].secret_len = 0;
			memset(u->rec.gen[0].secret, 0, sizeof(u->rec.gen[0].secret));
			encode(u);
		}
		assert_int_equal(store_put(s, u->name, &u->rec, &err), 0);
	}
	assert_int_equal(store_commit(s, &err), 0);
	store_close(s);
	raw_snapshot(w);
}

static void rm_tree(const char *dir)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void world_free(struct world *w)
{
	world_check_all(w);
	rm_tree(w->dir);
	for (unsigned i = 0; i < w->n_users; i++)
		free(w->users[i].raw);
	free(w->users);
	munmap(w->child_us, sizeof(*w->child_us));
}

/* ---- one call, as the child makes it ---------------------------------------- */

static void code_at(const struct record *r, int64_t now_ms, char out[OTP_CODE_BUF])
{
	struct totp_err err;

	assert_int_equal(
	    otp_code(r->gen[0].secret, r->gen[0].secret_len, &r->gen[0].params,
		     otp_step_at(&r->gen[0].params, now_ms / 1000), out, &err),
	    0);
}

/* A code that is not the right one (the right one with its digits turned). */
static void wrong_code(const struct record *r, int64_t now_ms, char out[OTP_CODE_BUF])
{
	code_at(r, now_ms, out);
	for (char *c = out; *c != '\0'; c++)
		*c = (char)('0' + (*c - '0' + 5) % 10);
}

static enum op choose_op(struct world *w, const struct user *u)
{
	unsigned r = rnd(w, 10);

	if (!u->present || u->rec.gen[0].state == RECORD_REMOVED)
		return OP_REGISTER;
	if (u->rec.gen[0].state == RECORD_PENDING)
		return r < 8 ? OP_VERIFY_RIGHT : OP_VERIFY_WRONG;
	if (u->rec.locked_until != 0 && w->now_ms / 1000 < u->rec.locked_until)
		return OP_REMOVE; /* locked: a login would not write */
	return r < 5 ? OP_LOGIN_RIGHT : (r < 8 ? OP_LOGIN_WRONG : OP_REMOVE);
}

/* Runs the call; 0 when it did what it was meant to. */
static int run_op(const struct world *w, const struct user *u, enum op op)
{
	struct otp_params p = {OTP_TOTP, OTP_SHA1, 6, 30};
	struct login_event ev = {"torture", "198.51.100.7", w->now_ms, false};
	struct login_result res;
	struct registration reg;
	char code[OTP_CODE_BUF];
	struct totp_err err;
	int rc;

	switch (op) {
	case OP_REGISTER:
		rc = lifecycle_register(&w->conf, &w->loc, u->name, &p, "Torture",
					u->name, w->now_ms, &reg, &err);
		lifecycle_registration_wipe(&reg);
		return rc;
	case OP_VERIFY_RIGHT:
		code_at(&u->rec, w->now_ms, code);
		return lifecycle_verify(&w->conf, &w->loc, u->name, code, w->now_ms, NULL,
					&err);
	case OP_VERIFY_WRONG:
		wrong_code(&u->rec, w->now_ms, code);
		rc = lifecycle_verify(&w->conf, &w->loc, u->name, code, w->now_ms, NULL,
				      &err);
		return rc == -1 && err.reason == TOTP_R_WRONG_CODE ? 0 : -1;
	case OP_LOGIN_RIGHT:
	case OP_LOGIN_WRONG:
		if (op == OP_LOGIN_RIGHT)
			code_at(&u->rec, w->now_ms, code);
		else
			wrong_code(&u->rec, w->now_ms, code);
		rc = login_check(&w->conf, &w->loc, u->name, code, &ev, &res, &err);
		if (rc != 0)
			return -1;
		return res.outcome ==
			       (op == OP_LOGIN_RIGHT ? LOGIN_SUCCESS : LOGIN_WRONG_CODE)
			   ? 0
			   : -1;
	case OP_REMOVE:
		return lifecycle_remove(&w->conf, &w->loc, u->name, w->now_ms, NULL,
					&err);
	default:
		return -1;
	}
}

/* ---- after the kill ------------------------------------------------------------ */

/* The user a key names: "u0123", "n1042" or "alice" (index 0). */
static struct user *user_of(struct world *w, const char *key, size_t len)
{
	unsigned i = 0;

	if (len == 5 && memcmp(key, "alice", 5) == 0)
		i = 0;
	else if (len == 5 && (key[0] == 'u' || key[0] == 'n')) {
		for (size_t k = 1; k < 5; k++) {
			if (key[k] < '0' || key[k] > '9')
				return NULL;
			i = i * 10 + (unsigned)(key[k] - '0');
		}
	} else
		return NULL;
	if (i >= w->n_users || strlen(w->users[i].name) != len ||
	    memcmp(w->users[i].name, key, len) != 0)
		return NULL;
	return &w->users[i];
}

/* Calls fn on every GDBM file of the store with the shard it is (-1:
 * the one file of a user store): every shard of the system store that
 * exists, so a shard made by a round is scanned too.
 * 0, or -1 when a file does not open (printed). */
typedef void (*db_fn)(struct world *w, GDBM_FILE db, int shard, void *arg);

static int each_db(struct world *w, db_fn fn, void *arg)
{
	char root[PATH_MAX], path[PATH_MAX + 300];
	struct totp_err err;

	if (!w->loc.sharded) {
		GDBM_FILE db = gdbm_open(
		    w->loc.where, 0, GDBM_READER | GDBM_NOLOCK | GDBM_NOMMAP, 0, NULL);

		if (db == NULL) {
			print_error("GDBM does not open the store: %s\n",
				    gdbm_strerror(gdbm_errno));
			return -1;
		}
		fn(w, db, -1, arg);
		gdbm_close(db);
		return 0;
	}
	assert_int_equal(shard_root(w->loc.where, root, sizeof(root), &err), 0);
	/* every shard that exists, by its name: not its lock, not a copy or a
	 * staged copy left by a kill */
	for (unsigned no = 0; no < SHARD_COUNT; no++) {
		struct stat st;
		GDBM_FILE db;

		assert_int_equal(shard_path(root, no, path, sizeof(path), &err), 0);
		if (lstat(path, &st) != 0)
			continue;
		db = gdbm_open(path, 0, GDBM_READER | GDBM_NOLOCK | GDBM_NOMMAP, 0, NULL);
		if (db == NULL) {
			print_error("GDBM does not open the shard %s: %s\n", path,
				    gdbm_strerror(gdbm_errno));
			return -1;
		}
		fn(w, db, (int)no, arg);
		gdbm_close(db);
	}
	return 0;
}

/* Whether a key is in the shard it belongs to. */
static bool in_its_shard(const char *key, size_t len, int shard)
{
	char name[NAME_LEN + 1];

	if (shard < 0)
		return true;
	if (len > NAME_LEN)
		return false;
	memcpy(name, key, len);
	name[len] = '\0';
	return shard_of(name) == (unsigned)shard;
}

struct scan {
	const struct user *victim;
	uint8_t *raw;
	size_t raw_len;
	unsigned others, bad, victims;
};

static void scan_one_db(struct world *w, GDBM_FILE db, int shard, void *arg)
{
	struct scan *sc = arg;
	datum key;

	for (key = gdbm_firstkey(db); key.dptr != NULL;) {
		struct user *u = user_of(w, key.dptr, (size_t)key.dsize);
		datum v = gdbm_fetch(db, key), next;

		if (!in_its_shard(key.dptr, (size_t)key.dsize, shard)) {
			if (sc->bad++ == 0)
				print_error("%.*s is in shard %04x, not its own\n",
					    key.dsize, key.dptr, (unsigned)shard);
			free(v.dptr);
		} else if (u != NULL && u == sc->victim && v.dptr != NULL) {
			if (sc->victims++ > 0) { /* one record a user */
				sc->bad++;
				free(v.dptr);
			} else {
				sc->raw = (uint8_t *)v.dptr;
				sc->raw_len = (size_t)v.dsize;
			}
		} else {
			sc->others++;
			if (u == NULL || !u->present || v.dptr == NULL ||
			    (size_t)v.dsize != u->raw_len ||
			    memcmp(v.dptr, u->raw, u->raw_len) != 0) {
				if (sc->bad++ == 0)
					print_error("the record of %.*s changed\n",
						    key.dsize, key.dptr);
			}
			free(v.dptr);
		}
		next = gdbm_nextkey(db, key);
		free(key.dptr);
		key = next;
	}
}

/* Reads every value as GDBM holds it, in every file of the store; each
 * but the victim's must be the very bytes it was (cheaper and stricter
 * than decoding 1000 records a round; the decoder gets them all at the
 * end, world_check_all), and in its own shard.  The victim's bytes go to
 * *raw (malloc'd).  0 when all is well. */
static int raw_scan(struct world *w, const struct user *victim, uint8_t **raw,
		    size_t *raw_len)
{
	struct scan sc = {victim, NULL, 0, 0, 0, 0};
	unsigned want = 0;

	*raw = NULL;
	if (each_db(w, scan_one_db, &sc) != 0) {
		free(sc.raw);
		return -1;
	}
	for (unsigned i = 0; i < w->n_users; i++)
		want += w->users[i].present && &w->users[i] != victim;
	if (sc.bad != 0 || sc.others != want) {
		print_error("%u of %u other records changed, %u expected\n", sc.bad,
			    sc.others, want);
		free(sc.raw);
		return -1;
	}
	*raw = sc.raw;
	*raw_len = sc.raw_len;
	return 0;
}

static void snapshot_one_db(struct world *w, GDBM_FILE db, int shard, void *arg)
{
	unsigned *n = arg;
	datum key;

	for (key = gdbm_firstkey(db); key.dptr != NULL;) {
		struct user *u = user_of(w, key.dptr, (size_t)key.dsize);
		datum v = gdbm_fetch(db, key), next;

		assert_non_null(u);
		assert_true(in_its_shard(key.dptr, (size_t)key.dsize, shard));
		assert_non_null(v.dptr);
		free(u->raw);
		u->raw = (uint8_t *)v.dptr;
		u->raw_len = (size_t)v.dsize;
		(*n)++;
		next = gdbm_nextkey(db, key);
		free(key.dptr);
		key = next;
	}
}

/* Takes the raw values of every user present, after the setup. */
static void raw_snapshot(struct world *w)
{
	unsigned n = 0;

	assert_int_equal(each_db(w, snapshot_one_db, &n), 0);
	for (unsigned i = 0; i < w->n_users; i++)
		n -= w->users[i].present ? 1U : 0U;
	assert_int_equal(n, 0);
}

/* Decodes every record through the store, as the module would, and
 * compares it with what the rounds say it is. */
static int check_one_decoded(const char *name, const struct record *r, void *arg)
{
	struct world *w = arg;
	struct user *u = user_of(w, name, strlen(name));

	if (u == NULL || !u->present || memcmp(r, &u->rec, sizeof(*r)) != 0)
		fail_msg("the record of %s decodes to something else", name);
	return 0;
}

static void world_check_all(struct world *w)
{
	struct store_opts o = opts_of(w);
	struct store *s = NULL;
	struct totp_err err;

	assert_int_equal(store_open(&w->loc, STORE_READ, &o, &s, &err), 0);
	assert_int_equal(store_iterate(s, check_one_decoded, w, &err), 0);
	store_close(s);
}

/* Whether `n` is what `op` makes of `o` at `now_ms`. */
static int is_new(const struct record *o, int o_present, const struct record *n,
		  enum op op, int64_t now_ms)
{
	uint64_t step = otp_step_at(&o->gen[0].params, now_ms / 1000);
	uint64_t seq = o_present ? o->sequence + 1 : 1;

	switch (op) {
	case OP_REGISTER:
		return n->gen[0].state == RECORD_PENDING && n->sequence == seq &&
		       n->gen[0].secret_len == 20 && n->gen[0].counter == 0 &&
		       n->failures == 0 && n->change_date_ms == now_ms;
	case OP_VERIFY_RIGHT:
		return n->gen[0].state == RECORD_READY && n->sequence == seq &&
		       n->gen[0].counter == step &&
		       memcmp(n->gen[0].secret, o->gen[0].secret, 20) == 0;
	case OP_LOGIN_RIGHT:
		return n->gen[0].state == RECORD_READY && n->sequence == seq &&
		       n->gen[0].counter == step && n->failures == 0 &&
		       n->last_success.time == now_ms / 1000 &&
		       memcmp(n->gen[0].secret, o->gen[0].secret, 20) == 0;
	case OP_LOGIN_WRONG: /* a lockout that ran out starts the count afresh */
		return n->gen[0].state == RECORD_READY &&
		       n->gen[0].counter == o->gen[0].counter &&
		       n->failures == (o->locked_until != 0 ? 0 : o->failures) + 1 &&
		       (n->sequence == seq || n->sequence == seq + 1) &&
		       n->last_failure.time == now_ms / 1000;
	case OP_REMOVE:
		return n->gen[0].state == RECORD_REMOVED && n->sequence == seq &&
		       n->gen[0].secret_len == 0;
	default: /* a wrong verification writes nothing */
		return 0;
	}
}

/* What a kill left in the lock file of the victim's database, before
 * any open finishes it: nothing, a whole journal, or a torn one. */
static void journal_left(struct world *w, const struct user *victim)
{
	char root[PATH_MAX], db[PATH_MAX + 300], lock[PATH_MAX + 310];
	struct totp_err err;
	struct stat st;
	uint8_t *j = NULL;
	size_t len;
	int fd, whole;

	if (w->loc.sharded) {
		assert_int_equal(shard_root(w->loc.where, root, sizeof(root), &err), 0);
		assert_int_equal(
		    shard_path(root, shard_of(victim->name), db, sizeof(db), &err), 0);
	} else {
		snprintf(db, sizeof(db), "%s", w->loc.where);
	}
	snprintf(lock, sizeof(lock), "%s.lock", db);
	fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size > 0) {
		whole = redo_read(fd, st.st_size, REDO_MAX, &j, &len, lock, &err);
		assert_true(whole >= 0);
		if (whole)
			w->journals_whole++;
		else
			w->journals_torn++;
		free(j);
	}
	close(fd);
}

/* Opens the store both ways and checks it; 0 when all is well, and the
 * victim's snapshot then follows what is on disk.  *was_new says which. */
static int check_store(struct world *w, struct user *victim, enum op op, int *was_new)
{
	struct store_opts o = opts_of(w);
	struct store *s = NULL;
	struct totp_err err;
	struct record now;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int found;

	journal_left(w, victim);
	if (store_open_user(&w->loc, victim->name, STORE_READ, &o, &s, &err) != 0) {
		print_error("the store does not open after a kill: %s\n", err.msg);
		return -1;
	}
	found = store_get(s, victim->name, &now, &err);
	store_close(s);
	if (found < 0) {
		print_error("%s's record does not read after a kill: %s\n", victim->name,
			    err.msg);
		return -1;
	}
	if (raw_scan(w, victim, &raw, &raw_len) != 0)
		return -1;
	if (!found) {
		if (victim->present) {
			print_error("%s's record vanished\n", victim->name);
			free(raw);
			return -1;
		}
		*was_new = 0;
	} else if (victim->present && memcmp(&now, &victim->rec, sizeof(now)) == 0) {
		*was_new = 0;
	} else if (is_new(&victim->rec, victim->present, &now, op, w->now_ms)) {
		*was_new = 1;
		victim->rec = now;
		victim->present = 1;
		encode(victim);
	} else {
		print_error("%s's record after an interrupted %s is neither the old one "
			    "nor the new one (state %s, sequence %llu)\n",
			    victim->name, op_names[op],
			    record_state_name(now.gen[0].state),
			    (unsigned long long)now.sequence);
		free(raw);
		return -1;
	}
	free(victim->raw); /* its bytes as they are now, old or new */
	victim->raw = raw;
	victim->raw_len = raw_len;
	/* and a writer can open it (GDBM reads more of the file then) */
	if (store_open_user(&w->loc, victim->name, STORE_WRITE, &o, &s, &err) != 0) {
		print_error("the store does not open for writing after a kill: %s\n",
			    err.msg);
		return -1;
	}
	store_close(s);
	return 0;
}

/* ---- rounds ------------------------------------------------------------------- */

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* A user of the store, or (new_pct percent of the time) one not in it
 * yet, whose registration adds a key. */
static struct user *choose_victim(struct world *w)
{
	unsigned absent = 0, pick;
	int want_present;

	for (unsigned i = 0; i < w->n_users; i++)
		absent += !w->users[i].present;
	if (absent == 0 || absent == w->n_users)
		return &w->users[rnd(w, w->n_users)];
	want_present = rnd(w, 100) >= w->new_pct;
	pick = rnd(w, want_present ? w->n_users - absent : absent);
	for (unsigned i = 0; i < w->n_users; i++)
		if (w->users[i].present == want_present && pick-- == 0)
			return &w->users[i];
	fail();
	return NULL;
}

/* Forks the call.  kill_write > 0: the child dies before that write;
 * delay_us >= 0: the child dies that long after its call starts; both off
 * (0, -1): it runs to its end.  Returns the wait status; w->last_call_us is
 * how long the call took in the child (-1 when it was killed). */
static int fork_op(struct world *w, struct user *u, enum op op, long kill_write,
		   long delay_us)
{
	int status = 0;
	pid_t pid;

	*w->child_us = -1;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		long long t0 = now_us();
		int rc;

		writes_seen = 0;
		kill_at_write = kill_write;
		if (delay_us >= 0)
			arm_kill_timer(delay_us);
		rc = run_op(w, u, op);
		*w->child_us = (long)(now_us() - t0);
		_exit(rc == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	w->last_call_us = *w->child_us;
	return status;
}

/* One round: the call `op` on `u`, the kill, the check; the clock moves
 * on a step.  *was_new says whether the call's record is on disk. */
static void round_one(struct world *w, struct user *u, enum op op, long kill_write,
		      long delay_us, int *finished, int *was_new_out)
{
	int status, was_new = 0;

	status = fork_op(w, u, op, kill_write, delay_us);
	*finished = WIFEXITED(status);
	if (WIFSIGNALED(status)) {
		assert_int_equal(WTERMSIG(status), SIGKILL);
		w->kills++;
	} else {
		/* it ran to its end before the kill: it must have done its job */
		assert_int_equal(WEXITSTATUS(status), 0);
		w->completed++;
	}
	w->per_op[op]++;
	if (check_store(w, u, op, &was_new) != 0) {
		print_error("after: %s of %s, %s; the store is kept at %s\n",
			    op_names[op], u->name,
			    kill_write > 0 ? "killed before a write" : "killed at a time",
			    w->dir);
		if (kill_write > 0)
			print_error("the kill came before write %ld of the call\n",
				    kill_write);
		fail();
	}
	if (*finished && op != OP_VERIFY_WRONG)
		assert_true(was_new); /* a finished call is on disk */
	if (was_new)
		w->got_new++;
	else
		w->kept_old++;
	w->now_ms += 31000; /* a fresh time step for the next code */
	if (was_new_out != NULL)
		*was_new_out = was_new;
}

/* One round at a random time, timed by what this kind of call takes
 * here: a registration hashes emergency codes and takes far longer than
 * a login, so one span for all would kill every registration before its
 * first write, round after round (the user, never registered, is chosen
 * again).  A kind not yet measured runs to its end once, measured; then
 * the child's timer kills it 0 to 110% of its span after its call
 * starts, and every call that outruns its timer moves the span on. */
static void round_timed(struct world *w, long span[OP_COUNT])
{
	struct user *u = choose_victim(w);
	enum op op = choose_op(w, u);
	long delay = -1;
	int finished;

	if (span[op] > 0)
		delay = (long)rnd(w, (unsigned)(span[op] * 11 / 10) + 1);
	round_one(w, u, op, 0, delay, &finished, NULL);
	if (finished && w->last_call_us >= 0)
		span[op] =
		    span[op] > 0 ? (span[op] * 7 + w->last_call_us) / 8 : w->last_call_us;
}

static unsigned env_uint(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static unsigned seed_of(void)
{
	unsigned seed =
	    env_uint("TORTURE_SEED", (unsigned)time(NULL) ^ (unsigned)getpid());

	return seed;
}

static void report(const char *what, const struct world *w)
{
	printf("# %s: %u killed, %u ran to the end; the user's record: %u old, %u new;"
	       " 0 damaged\n#   journals left by a kill: %u whole (finished by the next"
	       " open), %u torn (dropped)\n#   calls:",
	       what, w->kills, w->completed, w->kept_old, w->got_new, w->journals_whole,
	       w->journals_torn);
	for (int i = 0; i < OP_COUNT; i++)
		printf(" %s %u%s", op_names[i], w->per_op[i],
		       i + 1 < OP_COUNT ? "," : "\n");
}

/* Kills at random times, until `rounds` calls were killed mid-way. */
static void random_kills(const char *sub, unsigned present, unsigned absent,
			 const char *what)
{
	unsigned rounds = env_uint("TORTURE_ROUNDS", 500 / SCALE), seed = seed_of();
	long span[OP_COUNT] = {0};
	struct world w;

	printf("# %s: seed %u (TORTURE_SEED replays it)\n", what, seed);
	world_setup(&w, sub, present, absent, seed);
	for (unsigned n = 0; w.kills < rounds && n < rounds * 20; n++)
		round_timed(&w, span);
	report(what, &w);
	printf("#   what a call took, by kind (us; the child's timer kills it 0 to 110%% "
	       "of that after its call starts):");
	for (int i = 0; i < OP_COUNT; i++)
		printf(" %s %ld%s", op_names[i], span[i], i + 1 < OP_COUNT ? "," : "\n");
	/* each kill is timed inside its own call, so at a load that slows
	 * every call a miss (the call ends before its timer) is no likelier:
	 * about one draw in eleven lands past the end */
	assert_true(w.kills >= rounds);
	world_free(&w);
}

/* The next write to kill before: every one of the first 16, then in
 * steps of a half, so that a call with thousands of writes is sampled,
 * not walked. */
static long next_write(long n)
{
	return n < 16 ? n + 1 : n + n / 2;
}

/* One call killed before its 1st write, then (when it left the old record)
 * the same call again killed before its 2nd, and so on, until a run puts
 * the new record on disk or runs to its end.  Returns how many writes the
 * longest killed run got through. */
static long one_call_at_each_write(struct world *w)
{
	struct user *u = choose_victim(w);
	enum op op = choose_op(w, u);
	int finished = 0, was_new = 0;
	unsigned journals = w->journals_whole;
	long n, most = 0;

	for (n = 1; !finished && !was_new; n = next_write(n)) {
		round_one(w, u, op, n, -1, &finished, &was_new);
		if (!finished && n - 1 > most)
			most = n - 1;
	}
	/* A change of structure (a new key, a new immutable area) commits its
	 * journal in one write, then writes the database: killed before each
	 * write in turn, it left the journal whole exactly once (the kill
	 * after the commit), and the next open finished it (was_new).  A
	 * login or a wrong code rewrites a value in place, with no journal. */
	if (op == OP_REGISTER || op == OP_VERIFY_RIGHT || op == OP_REMOVE)
		assert_int_equal(w->journals_whole, journals + 1);
	else
		assert_int_equal(w->journals_whole, journals);
	assert_int_equal(w->journals_torn, 0); /* a kill does not cut a write */
	return most;
}

/* Kills at each write (see above) of `calls` calls in turn. */
static void write_kills(const char *sub, unsigned present, unsigned absent,
			unsigned calls, const char *what)
{
	unsigned seed = seed_of();
	struct world w;
	long most = 0;

	printf("# %s: seed %u (TORTURE_SEED replays it)\n", what, seed);
	world_setup(&w, sub, present, absent, seed);
	w.new_pct = 4; /* a new key reads the whole database: dozens of kills */
	for (unsigned c = 0; c < calls; c++) {
		long m = one_call_at_each_write(&w);

		if (m > most)
			most = m;
	}
	report(what, &w);
	printf("#   the longest killed call got through %ld writes\n", most);
	assert_true(most > 0); /* the writes were counted: GDBM writes with write(2) */
	world_free(&w);
}

static void test_system_store_random_kills(void **state)
{
	(void)state;
	random_kills("var/lib/totp/default.db", SYSTEM_USERS, NEW_USERS,
		     "system store, 1000 users, random times");
}

static void test_user_store_random_kills(void **state)
{
	(void)state;
	random_kills("home/alice/.config/totp/default.db", 1, 0,
		     "user store, random times");
}

static void test_system_store_write_kills(void **state)
{
	(void)state;
	write_kills("var/lib/totp/default.db", SYSTEM_USERS, NEW_USERS, 60 / SCALE,
		    "system store, 1000 users, at every write");
}

static void test_user_store_write_kills(void **state)
{
	(void)state;
	write_kills("home/alice/.config/totp/default.db", 1, 0, 60 / SCALE,
		    "user store, at every write");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_system_store_write_kills),
	    cmocka_unit_test(test_user_store_write_kills),
	    cmocka_unit_test(test_system_store_random_kills),
	    cmocka_unit_test(test_user_store_random_kills),
	};
	struct totp_err err;

	if (otp_init(&err) != 0)
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("TORTURE_ONLY") != NULL) /* e.g. "*write_kills" */
		cmocka_set_test_filter(getenv("TORTURE_ONLY"));
	return cmocka_run_group_tests_name("torture", tests, NULL, NULL);
}
