/*
 * faults: the store under a full disk, a read-only filesystem, a lock
 * that is never let go, and a database swapped for a symbolic link
 * between open and use.
 *
 * Under each one, a login goes through the real PAM stack (pam_harness)
 * and an enrollment through lifecycle_register, as totp-enroll calls it.
 * A login that cannot be decided and recorded fails closed: the module
 * answers PAM_AUTHINFO_UNAVAIL and logs why; an enrollment reports the
 * error; and every record stays as it was (compared before and after).
 *
 * The full disk and the read-only filesystem are small tmpfs mounts, so
 * those tests need root (they skip otherwise); the lock and the symlink
 * need nothing.  What a full disk does to a right code is written down in
 * docs/hardening.md: the login passes when its outcome can be recorded
 * (a record is rewritten in place and needs no new space), and fails
 * closed when it cannot (a success that is not recorded could be replayed).
 */
#include "config.h"

#include "gdbm_store.h"
#include "shard_store.h"

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "lifecycle.h"
#include "login.h"
#include "pam_harness.h"

#define NEWBIE "newbie"

static char g_mnt[PATH_MAX];	       /* the tmpfs, when one is mounted */
static char g_mnt_store[PATH_MAX + 8]; /* store= for it */

/* ---- helpers --------------------------------------------------------------- */

static void lib_cfg(struct cfg *c, int lock_timeout_ms)
{
	cfg_defaults(c);
	c->emergency_codes = 1;
	c->lock_timeout_ms = lock_timeout_ms;
}

static void lib_loc(struct store_location *loc, const char *db)
{
	memset(loc, 0, sizeof(*loc));
	sfmt(loc->where, sizeof(loc->where), "%s", db);
	loc->owner = g_uid;
	loc->per_user = true;
}

/* The bytes of a whole file (malloc'd), to tell that nothing changed. */
static uint8_t *slurp(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	int fd = open(path, O_RDONLY | O_NOFOLLOW);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, (size_t)st.st_size), st.st_size);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

static void assert_same_file(const char *path, const uint8_t *before, size_t len)
{
	size_t now_len;
	uint8_t *now = slurp(path, &now_len);

	assert_int_equal(now_len, len);
	assert_memory_equal(now, before, len);
	free(now);
}

/* Register NEWBIE through lib; it must fail with `why`. */
static void enroll_refused(const char *db, int lock_timeout_ms, enum totp_reason why)
{
	struct otp_params p = totp6();
	struct registration reg;
	struct store_location loc;
	struct cfg c;
	struct totp_err e;

	lib_cfg(&c, lock_timeout_ms);
	lib_loc(&loc, db);
	totp_err_clear(&e);
	assert_int_equal(lifecycle_register(&c, &loc, NEWBIE, &p, "Faults", NEWBIE,
					    (int64_t)time(NULL) * 1000, &reg, &e),
			 -1);
	if (e.reason != why)
		fail_msg("enrollment: %s (%s), not %s", e.msg, totp_reason_name(e.reason),
			 totp_reason_name(why));
	assert_true(e.msg[0] != '\0');
	assert_null(reg.uri); /* wiped: nothing to show */
}

/* The module's answer for a right code, and its log line. */
static void login_unavailable(const char *args, const char *code, const char *reason)
{
	int rc;

	answers(1, code);
	rc = run(args);
	if (rc != PAM_AUTHINFO_UNAVAIL) {
		dump_log();
		fail_msg("a login gave %d, not PAM_AUTHINFO_UNAVAIL", rc);
	}
	assert_logged("cannot check the code");
	assert_logged(reason);
	assert_not_logged(code);
}

/* ---- a tmpfs of our own ------------------------------------------------------ */

static bool mount_small(const char *opts)
{
	sfmt(g_mnt, sizeof(g_mnt), "%s/mnt", g_dir);
	if (mkdir(g_mnt, 0700) != 0 && errno != EEXIST)
		fail_msg("mkdir %s: %s", g_mnt, strerror(errno));
	if (mount("tmpfs", g_mnt, "tmpfs", MS_NOSUID | MS_NODEV, opts) != 0) {
		print_message("cannot mount a tmpfs (%s): skipped\n", strerror(errno));
		rmdir(g_mnt);
		g_mnt[0] = '\0';
		return false;
	}
	assert_int_equal(chmod(g_mnt, 0700), 0);
	sfmt(g_mnt_store, sizeof(g_mnt_store), "store=%s/%%r.db", g_mnt);
	return true;
}

static int unmount_small(void **state)
{
	(void)state;
	if (g_mnt[0] != '\0') {
		umount2(g_mnt, MNT_DETACH);
		rmdir(g_mnt);
		g_mnt[0] = '\0';
	}
	return reset(state);
}

/* Writes a file until the filesystem says it is full. */
static void fill_up(const char *dir)
{
	char path[PATH_MAX + 16], buf[4096];
	int fd;

	sfmt(path, sizeof(path), "%s/filler", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	memset(buf, 'f', sizeof(buf));
	for (;;) {
		ssize_t n = write(fd, buf, sizeof(buf));

		if (n < 0) {
			assert_int_equal(errno, ENOSPC);
			break;
		}
	}
	/* and the last pages too */
	while (write(fd, buf, 1) == 1)
		;
	close(fd);
}

static void put_at(const char *db, const char *user, const struct record *r)
{
	put_record_at(db, g_uid, user, r);
}

/* A record as an older build stored it: the bare encoding, no slots. */
static void put_bare(const char *db, const char *user, const struct record *r)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	size_t len;
	struct totp_err e;
	GDBM_FILE g = gdbm_open(db, 0, GDBM_WRITER | GDBM_NOLOCK, 0600, NULL);
	datum k = {(char *)user, (int)strlen(user)}, v;

	assert_non_null(g);
	assert_int_equal(record_encode(r, buf, sizeof(buf), &len, &e), 0);
	v.dptr = (char *)buf;
	v.dsize = (int)len;
	assert_int_equal(gdbm_store(g, k, v, GDBM_REPLACE), 0);
	assert_int_equal(gdbm_close(g), 0);
}

static void get_at(const char *db, const char *user, struct record *r)
{
	struct store_opts o = {.owner = g_uid, .lock_timeout_ms = 2000, .sync = false};
	struct store *s = NULL;
	struct totp_err e;

	if (gdbm_store_open(db, STORE_READ, &o, &s, &e) != 0)
		fail_msg("%s: %s", db, e.msg);
	assert_int_equal(store_get(s, user, r, &e), 1);
	store_close(s);
}

/* ---- a full disk ----------------------------------------------------------- */

/* A store on a 1 MiB tmpfs holding the user's ready record (bare: as
 * stored before slots, beside someone else's), then filled up.  Needs
 * root (the mount); skips otherwise. */
static void full_disk_store(char db[PATH_MAX + 16], struct record *r, bool bare)
{
	if (g_uid != 0 || !mount_small("size=1m,mode=0700"))
		skip();
	settle();
	/* the user's shard of the system store (shard_store.h) */
	{
		char root[PATH_MAX];
		struct totp_err e;

		sfmt(root, sizeof(root), "%s/default.d", g_mnt);
		assert_int_equal(
		    shard_path(root, shard_of(g_user), db, PATH_MAX + 16, &e), 0);
	}
	ready_record(r, OTP_TOTP, 0);
	if (bare) {
		put_at(db, "someone", r); /* makes the database */
		put_bare(db, g_user, r);
	} else {
		put_at(db, g_user, r);
	}
	fill_up(g_mnt);
}

/* A right code on a full disk: the record is rewritten in place, which
 * needs no new space, so the login passes and is recorded (a replay of
 * the code then fails).  An enrollment that adds a user needs a new copy
 * of the database: it fails with TOTP_R_NO_SPACE, and nothing changes. */
static void test_full_disk(void **state)
{
	char db[PATH_MAX + 16], tmp[PATH_MAX + 16], code[OTP_CODE_BUF];
	struct record r, after;
	uint8_t *before;
	size_t len;

	(void)state;
	full_disk_store(db, &r, false);
	before = slurp(db, &len);
	enroll_refused(db, 2000, TOTP_R_NO_SPACE);
	assert_same_file(db, before, len);
	sfmt(tmp, sizeof(tmp), "%s.new", db);
	assert_int_equal(access(tmp, F_OK), -1); /* the half copy is gone */
	free(before);

	code_at(&r, step_now(), code);
	answers(1, code);
	assert_int_equal(run(g_mnt_store), PAM_SUCCESS);
	get_at(db, g_user, &after);
	assert_int_equal(after.gen[0].counter, step_now());
	assert_int_equal(after.sequence, r.sequence + 1);
	answers(1, code);
	assert_int_equal(run(g_mnt_store), PAM_AUTH_ERR); /* recorded: no replay */
}

/* A record stored before slots (a bare encoding) must be copied to be
 * rewritten: on a full disk that fails, and so does the login, closed,
 * whatever the code: a success that is not recorded could be replayed.
 * Once there is room again, the same code passes. */
static void test_full_disk_unrecordable_login(void **state)
{
	char db[PATH_MAX + 16], filler[PATH_MAX + 16], code[OTP_CODE_BUF];
	struct record r, after;
	uint8_t *before;
	size_t len;

	(void)state;
	full_disk_store(db, &r, true);
	before = slurp(db, &len);

	code_at(&r, step_now(), code);
	login_unavailable(g_mnt_store, code, "(no-space)");
	assert_same_file(db, before, len);
	free(before);

	sfmt(filler, sizeof(filler), "%s/filler", g_mnt);
	assert_int_equal(unlink(filler), 0);
	answers(1, code);
	assert_int_equal(run(g_mnt_store), PAM_SUCCESS);
	get_at(db, g_user, &after);
	assert_int_equal(after.gen[0].counter, step_now());
}

/* ---- a read-only filesystem ------------------------------------------------ */

static void test_read_only(void **state)
{
	char db[PATH_MAX + 16], code[OTP_CODE_BUF];
	struct record r, after;
	uint8_t *before;
	size_t len;

	(void)state;
	if (g_uid != 0 || !mount_small("size=4m,mode=0700"))
		skip();
	settle();
	sfmt(db, sizeof(db), "%s/default.db", g_mnt);
	ready_record(&r, OTP_TOTP, 0);
	put_at(db, g_user, &r);
	before = slurp(db, &len);
	assert_int_equal(
	    mount(NULL, g_mnt, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL),
	    0);

	code_at(&r, step_now(), code);
	login_unavailable(g_mnt_store, code, "(read-only)");
	enroll_refused(db, 2000, TOTP_R_READ_ONLY);
	/* reading still works: the status of a generator, say */
	get_at(db, g_user, &after);
	assert_int_equal(after.gen[0].counter, r.gen[0].counter);

	assert_int_equal(
	    mount(NULL, g_mnt, NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV, NULL), 0);
	assert_same_file(db, before, len);
	free(before);
}

/* ---- a lock holder that never lets go ------------------------------------- */

static pid_t hold_lock(const char *db)
{
	char lock[PATH_MAX + 16], c;
	int ready[2];
	pid_t pid;

	sfmt(lock, sizeof(lock), "%s.lock", db);
	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int fd = open(lock, O_RDWR | O_NOFOLLOW);

		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		(void)!write(ready[1], "x", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_lock_never_released(void **state)
{
	char db[PATH_MAX], code[OTP_CODE_BUF];
	struct record r;
	struct timespec t0;
	uint8_t *before;
	size_t len;
	pid_t holder;
	double waited;

	(void)state;
	put_ready_default(&r);
	db_path("default", db, sizeof(db));
	before = slurp(db, &len);
	holder = hold_lock(db);

	code_at(&r, step_now(), code);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	login_unavailable("lock_timeout=300", code, "(lock-timeout)");
	waited = seconds_since(&t0);
	assert_true(waited >= 0.29 && waited < 60.0); /* the bound: a hang guard */

	clock_gettime(CLOCK_MONOTONIC, &t0);
	enroll_refused(db, 300, TOTP_R_LOCK_TIMEOUT);
	waited = seconds_since(&t0);
	assert_true(waited >= 0.29 && waited < 60.0);

	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	assert_same_file(db, before, len);
	free(before);
	/* the holder gone, the same code passes */
	answers(1, code);
	assert_int_equal(run("lock_timeout=300"), PAM_SUCCESS);
}

/* ---- a database swapped for a symbolic link ------------------------------- */

/*
 * Between one open and the next, the database is renamed away and a
 * symbolic link put at its name.  A store already open keeps working on
 * the file it opened: its descriptors name the inode, not the path, so
 * the swap cannot redirect a read or write that is under way, and that
 * file is the one that was checked (regular, owned, one link).  Every
 * later open walks the path again with O_NOFOLLOW and refuses the link:
 * logins fail closed, enrollments report it, and the real file is not
 * touched by either.
 */
static void test_symlink_swap(void **state)
{
	char db[PATH_MAX], real[PATH_MAX], code[OTP_CODE_BUF];
	struct store_opts o = {.owner = g_uid, .lock_timeout_ms = 2000, .sync = true};
	struct store *s = NULL;
	struct record r, got;
	struct totp_err e;
	uint8_t *before;
	size_t len;

	(void)state;
	put_ready_default(&r);
	db_path("default", db, sizeof(db));
	db_path("real", real, sizeof(real));

	assert_int_equal(gdbm_store_open(db, STORE_WRITE, &o, &s, &e), 0);
	assert_int_equal(rename(db, real), 0);
	assert_int_equal(symlink(real, db), 0);
	/* the open store reads and writes the file it opened */
	assert_int_equal(store_get(s, g_user, &got, &e), 1);
	got.failures = 3;
	assert_int_equal(store_put(s, g_user, &got, &e), 0);
	store_close(s);
	get_at(real, g_user, &got);
	assert_int_equal(got.failures, 3);

	/* every open after it refuses the link */
	assert_int_equal(gdbm_store_open(db, STORE_READ, &o, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_SYMLINK);
	before = slurp(real, &len);
	code_at(&r, step_now(), code);
	login_unavailable("", code, "(symlink)");
	enroll_refused(db, 2000, TOTP_R_SYMLINK);
	assert_same_file(real, before, len);
	free(before);
	unlink(db);
	unlink(real);
}

/* ---- a hostile user store (issue 18, finding 3) -------------------------- */

/* GDBM 1.23's header: int magic, int block_size, off_t dir, int dir_size,
 * int dir_bits, int bucket_size, int bucket_elems, off_t next_block. */
#define HDR_DIR_AT 8
#define HDR_DIR_SIZE_AT 16
#define HDR_DIR_BITS_AT 20
#define HDR_NEXT_BLOCK_AT 32
#define GIB (1024LL * 1024 * 1024)
/* Far above what a login takes (a few MiB, more under ASan), far below
 * the 1 GiB directory GDBM would read. */
#define LOGIN_RSS_MAX_KIB (384L * 1024)

/* Runs the stack with `args`, answered `code`, in a child: its result
 * (0 when it was `want` and the log holds `log`) and its peak memory. */
static int login_in_child(const char *args, const char *code, int want, const char *log,
			  long *maxrss_kib)
{
	struct rusage ru;
	int status = 0;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int rc;

		answers(1, code);
		rc = run(args);
		if (rc != want)
			fprintf(stderr, "child: got %d, wanted %d\n", rc, want);
		else if (logged(log) == NULL)
			dump_log();
		_exit(rc != want ? 1 : logged(log) == NULL ? 2 : 0);
	}
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	*maxrss_kib = ru.ru_maxrss;
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* A user's own store made sparse, 3 GiB long, whose header says the
 * directory is 1 GiB: GDBM would read all of it, in the root process that
 * checks the login.  The store is refused before GDBM sees it, and the
 * login fails closed without the memory. */
static void test_sparse_user_store(void **state)
{
	char db[PATH_MAX + 16], code[OTP_CODE_BUF];
	int64_t dir = GIB, next = 3 * GIB;
	int32_t dir_size = (int32_t)GIB, dir_bits = 27; /* 8 << 27 = 1 GiB */
	struct record r;
	long rss = 0;
	int fd, rc;

	(void)state;
	put_ready_default(&r);
	db_path("default", db, sizeof(db));
	fd = open(db, O_RDWR | O_NOFOLLOW);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &dir, sizeof(dir), HDR_DIR_AT), sizeof(dir));
	assert_int_equal(pwrite(fd, &dir_size, sizeof(dir_size), HDR_DIR_SIZE_AT),
			 sizeof(dir_size));
	assert_int_equal(pwrite(fd, &dir_bits, sizeof(dir_bits), HDR_DIR_BITS_AT),
			 sizeof(dir_bits));
	assert_int_equal(pwrite(fd, &next, sizeof(next), HDR_NEXT_BLOCK_AT),
			 sizeof(next));
	assert_int_equal(ftruncate(fd, (off_t)next), 0);
	close(fd);

	code_at(&r, step_now(), code);
	rc = login_in_child("", code, PAM_AUTHINFO_UNAVAIL, "larger than", &rss);
	print_message("sparse user store: child exit %d, peak RSS %ld KiB\n", rc, rss);
	assert_true(rss < LOGIN_RSS_MAX_KIB);
	assert_int_equal(rc, 0);
	unlink(db);
}

/* Writes `user`'s record into the store at `path` with GDBM directly,
 * with one emergency hash appended as it is, whatever it holds: the
 * store's own writer would not take it. */
static void put_raw_with_hash(const char *path, const char *user, const struct record *r,
			      const char *hash)
{
	uint8_t buf[RECORD_ENCODED_MAX];
	struct totp_err e;
	size_t len = 0, hl = strlen(hash);
	GDBM_FILE db;
	datum k = {(char *)user, (int)strlen(user)}, v;

	assert_int_equal(r->emergency_count, 0);
	assert_int_equal(record_encode(r, buf, sizeof(buf), &len, &e), 0);
	assert_int_equal(buf[len - 1], 0); /* the hash count: last */
	assert_true(len + 1 + hl <= sizeof(buf) && hl < 256);
	buf[len - 1] = 1;
	buf[len++] = (uint8_t)hl;
	memcpy(buf + len, hash, hl);
	len += hl;
	db = gdbm_open(path, 0, GDBM_WRITER | GDBM_NOLOCK, 0600, NULL);
	assert_non_null(db);
	v.dptr = (char *)buf;
	v.dsize = (int)len;
	assert_int_equal(gdbm_store(db, k, v, GDBM_REPLACE), 0);
	assert_int_equal(gdbm_close(db), 0);
}

/* An emergency hash of a method or a cost this build does not write
 * (bcrypt at cost 14: a second a check; $2b$31$ would run for days) is
 * refused with the record: the login fails closed, nothing is hashed. */
static void test_foreign_hash_in_user_store(void **state)
{
	char db[PATH_MAX + 16];
	struct record r;

	(void)state;
	put_ready_default(&r);
	db_path("default", db, sizeof(db));
	put_raw_with_hash(db, g_user, &r,
			  "$2b$14$abcdefghijklmnopqrstuuJ2sFfSQdoxLz8BtTdNp0kXyBxvqYO6i");
	answers(1, "12345678");
	assert_int_equal(run(""), PAM_AUTHINFO_UNAVAIL);
	assert_logged("(corrupt)");
	unlink(db);
}

/* ---- set-up ---------------------------------------------------------------- */

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_full_disk, reset, unmount_small),
	    cmocka_unit_test_setup_teardown(test_full_disk_unrecordable_login, reset,
					    unmount_small),
	    cmocka_unit_test_setup_teardown(test_read_only, reset, unmount_small),
	    cmocka_unit_test_setup_teardown(test_lock_never_released, reset, reset),
	    cmocka_unit_test_setup_teardown(test_symlink_swap, reset, reset),
	    cmocka_unit_test_setup_teardown(test_sparse_user_store, reset, reset),
	    cmocka_unit_test_setup_teardown(test_foreign_hash_in_user_store, reset,
					    reset),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	if (make_test_dir() < 0) {
		printf("no writable home folder for a user store: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests_name("faults", tests, harness_group_setup,
					   harness_group_teardown);
}
