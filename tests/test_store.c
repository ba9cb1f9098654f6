/* store: safe open, locking, and the record operations, on real files. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gdbm.h>
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
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "gdbm_store.h"
#include "bytes.h"
#include "redo.h"
#include "store.h"

#define WORKERS 8
#define INCREMENTS 1000

static char base[PATH_MAX];

/* ---- helpers ------------------------------------------------------------- */

/* When not 0, copy_file_range fails with this errno, as on a filesystem it
 * does not go to (EXDEV, EOPNOTSUPP) or a failing disk (EIO).  lib/ is
 * linked into this program, so its calls come here before libc's. */
static int copy_range_errno;

ssize_t copy_file_range(int in, off_t *in_at, int out, off_t *out_at, size_t n,
			unsigned flags)
{
	if (copy_range_errno != 0) {
		errno = copy_range_errno;
		return -1;
	}
	return syscall(SYS_copy_file_range, in, in_at, out, out_at, n, flags);
}

static struct store_opts opts_default(void)
{
	struct store_opts o = {.owner = getuid(), .lock_timeout_ms = 2000, .sync = false};

	return o;
}

static void join(char *out, const char *dir, const char *name)
{
	size_t a = strlen(dir), b = strlen(name);

	assert_true(a + 1 + b < PATH_MAX);
	memcpy(out, dir, a);
	out[a] = '/';
	memcpy(out + a + 1, name, b + 1);
}

/* A fresh folder under the test's temporary folder, one per test. */
static void fresh_dir(char *out, const char *name)
{
	join(out, base, name);
	assert_int_equal(mkdir(out, 0700), 0);
}

static void fill(struct record *r, uint64_t counter)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = RECORD_READY;
	r->gen[0].params.type = OTP_TOTP;
	r->gen[0].params.alg = OTP_SHA1;
	r->gen[0].params.digits = 6;
	r->gen[0].params.period = 30;
	r->gen[0].secret_len = 20;
	memcpy(r->gen[0].secret, "12345678901234567890", 20);
	r->gen[0].counter = counter;
	strcpy(r->last_success.service, "sshd");
}

static void expect_open_fails(const char *path, enum store_mode mode,
			      const struct store_opts *o, enum totp_reason why)
{
	struct store *s = (struct store *)&s; /* not NULL: must be cleared */
	struct totp_err e;

	totp_err_clear(&e);
	assert_int_equal(gdbm_store_open(path, mode, o, &s, &e), -1);
	if (e.reason != why)
		fail_msg("%s: got %s (%s), wanted %s", path, totp_reason_name(e.reason),
			 e.msg, totp_reason_name(why));
	assert_null(s);
	assert_true(e.msg[0] != '\0');
}

static struct store *open_ok(const char *path, enum store_mode mode,
			     const struct store_opts *o)
{
	struct store *s = NULL;
	struct totp_err e;

	if (gdbm_store_open(path, mode, o, &s, &e) != 0)
		fail_msg("open %s: %s (%s)", path, totp_reason_name(e.reason), e.msg);
	assert_non_null(s);
	return s;
}

/* A valid database at path holding alice's record. */
static void make_db(const char *path)
{
	struct store_opts o = opts_default();
	struct store *s = open_ok(path, STORE_CREATE, &o);
	struct record r;
	struct totp_err e;

	fill(&r, 7);
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	store_close(s);
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Deletes user: then the user is gone, and a second delete finds nothing. */
static void delete_once(struct store *s, const char *user)
{
	struct record out;
	struct totp_err e;

	assert_int_equal(store_delete(s, user, &e), 0);
	assert_int_equal(store_get(s, user, &out, &e), 0);
	assert_int_equal(store_delete(s, user, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
}

static void skip_unless_root(void)
{
	if (geteuid() != 0)
		skip();
}

/* ---- group setup ---------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/test_store.XXXXXX");
	return mkdtemp(base) == NULL ? -1 : 0;
}

static int group_teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	/* only our own mkdtemp folder, named in full */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", base);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- creating and opening ---------------------------------------------- */

static void test_create_from_missing(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], p[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;
	struct stat st;

	(void)state;
	fresh_dir(dir, "create");
	join(db, dir, "a/b/realm.db");
	s = open_ok(db, STORE_CREATE, &o);
	assert_int_equal(store_get(s, "alice", &r, &e), 0);
	store_close(s);

	join(p, dir, "a");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	join(p, dir, "a/b");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(db, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 077, 0);
	assert_true(st.st_size >= 512);
	join(p, dir, "a/b/realm.db.lock");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	/* no temporary file left behind */
	join(p, dir, "a/b/realm.db.new");
	assert_int_equal(stat(p, &st), -1);

	/* an existing database is opened, not made again */
	s = open_ok(db, STORE_WRITE, &o);
	fill(&r, 1);
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	store_close(s);
	s = open_ok(db, STORE_CREATE, &o);
	assert_int_equal(store_get(s, "alice", &r, &e), 1);
	store_close(s);
	s = open_ok(db, STORE_READ, &o);
	assert_int_equal(store_get(s, "alice", &r, &e), 1);
	assert_int_equal(r.gen[0].counter, 1);
	store_close(s);
}

static void test_create_removes_stale_temporary(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], tmp[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "stale");
	join(db, dir, "t.db");
	join(tmp, dir, "t.db.new");
	write_file(tmp, "half a database", 15);
	store_close(open_ok(db, STORE_CREATE, &o));
	assert_true(file_size(db) >= 512);
	assert_int_equal(access(tmp, F_OK), -1);
}

static void test_missing_is_not_found(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], p[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "missing");
	join(db, dir, "t.db");
	expect_open_fails(db, STORE_READ, &o, TOTP_R_NOT_FOUND);
	/* a reader leaves nothing behind */
	join(p, dir, "t.db.lock");
	assert_int_equal(access(p, F_OK), -1);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_NOT_FOUND);
	assert_int_equal(access(db, F_OK), -1);
	join(db, dir, "nofolder/t.db");
	expect_open_fails(db, STORE_READ, &o, TOTP_R_NOT_FOUND);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_NOT_FOUND);
	join(p, dir, "nofolder");
	assert_int_equal(access(p, F_OK), -1);
}

static void test_reader_makes_missing_lock_file(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], lock[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;

	(void)state;
	fresh_dir(dir, "nolock");
	join(db, dir, "t.db");
	join(lock, dir, "t.db.lock");
	make_db(db);
	assert_int_equal(unlink(lock), 0);
	s = open_ok(db, STORE_READ, &o);
	assert_int_equal(store_get(s, "alice", &r, &e), 1);
	store_close(s);
	assert_int_equal(access(lock, F_OK), 0);
}

static void test_bad_arguments(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct totp_err e;

	(void)state;
	fresh_dir(dir, "args");
	expect_open_fails("", STORE_READ, &o, TOTP_R_INVALID);
	join(db, dir, "");
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_INVALID);
	join(db, dir, "..");
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_INVALID);
	join(db, dir, "../args/t.db");
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_INVALID);
	join(db, dir, "t.db");
	expect_open_fails(db, (enum store_mode)2, &o, TOTP_R_INVALID);
	assert_int_equal(gdbm_store_open(db, STORE_READ, NULL, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	store_close(NULL);
}

/* ---- refusals, each with its own reason ---------------------------------- */

static void test_symlinked_database(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], link_db[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "symdb");
	join(db, dir, "real.db");
	join(link_db, dir, "link.db");
	make_db(db);
	assert_int_equal(symlink(db, link_db), 0);
	expect_open_fails(link_db, STORE_READ, &o, TOTP_R_SYMLINK);
	expect_open_fails(link_db, STORE_WRITE, &o, TOTP_R_SYMLINK);
	expect_open_fails(link_db, STORE_CREATE, &o, TOTP_R_SYMLINK);
	/* a dangling link is no invitation to create through it */
	assert_int_equal(unlink(link_db), 0);
	join(db, dir, "nowhere.db");
	assert_int_equal(symlink(db, link_db), 0);
	expect_open_fails(link_db, STORE_CREATE, &o, TOTP_R_SYMLINK);
	assert_int_equal(access(db, F_OK), -1);
}

static void test_symlinked_parent_folder(void **state)
{
	char dir[PATH_MAX], real[PATH_MAX], link_dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "symdir");
	join(real, dir, "real");
	assert_int_equal(mkdir(real, 0700), 0);
	join(db, real, "t.db");
	make_db(db);
	join(link_dir, dir, "link");
	assert_int_equal(symlink(real, link_dir), 0);
	join(db, link_dir, "t.db");
	expect_open_fails(db, STORE_READ, &o, TOTP_R_SYMLINK);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_SYMLINK);
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_SYMLINK);
	/* a link higher up is refused as well */
	join(db, link_dir, "deeper/t.db");
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_SYMLINK);
	join(db, real, "deeper");
	assert_int_equal(access(db, F_OK), -1);
}

/* store_keep (issue 15): the second open of a login takes the folder the
 * first one walked and checked, not whatever the path names now; a keep
 * serves only its own path; a release empties it. */
static void test_keep_serves_the_checked_folder(void **state)
{
	char dir[PATH_MAX], real[PATH_MAX], moved[PATH_MAX], db[PATH_MAX],
	    other[PATH_MAX];
	struct store_opts o = opts_default();
	struct store_keep keep;
	struct store *s;
	struct record r;
	struct totp_err e;

	(void)state;
	fresh_dir(dir, "keep");
	join(real, dir, "real");
	assert_int_equal(mkdir(real, 0700), 0);
	join(db, real, "t.db");
	make_db(db);
	store_keep_init(&keep);
	o.keep = &keep;
	s = open_ok(db, STORE_READ, &o);
	store_close(s);
	assert_string_equal(keep.path, db);
	assert_true(keep.dir_fd >= 0 && keep.lock_fd >= 0);
	/* the path now goes through a link: a fresh open refuses it... */
	join(moved, dir, "moved");
	assert_int_equal(rename(real, moved), 0);
	assert_int_equal(symlink(moved, real), 0);
	o.keep = NULL;
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_SYMLINK);
	/* ...the login's second open uses the folder it checked, and gives
	 * its descriptors back at the close */
	o.keep = &keep;
	s = open_ok(db, STORE_WRITE, &o);
	assert_int_equal(keep.dir_fd, -1);
	assert_int_equal(store_get(s, "alice", &r, &e), 1);
	r.gen[0].counter = 8;
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	store_close(s);
	assert_true(keep.dir_fd >= 0);
	/* another path walks for itself and leaves the keep as it was */
	join(other, dir, "other.db");
	make_db(other);
	s = open_ok(other, STORE_READ, &o);
	store_close(s);
	assert_string_equal(keep.path, db);
	store_keep_release(&keep);
	assert_int_equal(keep.dir_fd, -1);
	assert_int_equal(keep.lock_fd, -1);
	assert_string_equal(keep.path, "");
	/* the write went to the folder checked first */
	join(db, moved, "t.db");
	o.keep = NULL;
	s = open_ok(db, STORE_READ, &o);
	assert_int_equal(store_get(s, "alice", &r, &e), 1);
	assert_int_equal(r.gen[0].counter, 8);
	store_close(s);
}

/* A look through a keep: its database descriptor is left in the keep. */
static void look_into(const char *db, struct store_opts *o, struct store_keep *keep)
{
	store_keep_init(keep);
	o->keep = keep;
	store_close(open_ok(db, STORE_READ, o));
	assert_true(keep->db_fd >= 0);
}

/* The counter of alice's record as an open through the keep reads it. */
static uint64_t counter_through(const char *db, struct store_opts *o)
{
	struct store *s = open_ok(db, STORE_WRITE, o);
	struct record r;
	struct totp_err e;

	assert_int_equal(store_get(s, "alice", &r, &e), 1);
	store_close(s);
	return r.gen[0].counter;
}

/* The keep's database descriptor (issue 15) serves the check only while
 * the name leads to the same file, which must still pass every check an
 * open makes: a file renamed in over it is read instead (a batch does
 * that), and a name that is now a link, or a file that is now shared or
 * hard-linked, is refused as an open refuses it. */
static void test_keep_checks_the_database_again(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], other[PATH_MAX], aside[PATH_MAX];
	struct store_opts o = opts_default(), plain;
	struct store_keep keep;
	struct store *s;
	struct record r;
	struct totp_err e;

	(void)state;
	fresh_dir(dir, "keepdb");
	join(db, dir, "t.db");
	join(other, dir, "new.db");
	join(aside, dir, "aside.db");
	make_db(db);
	/* the same file: used again, and given back at the close */
	look_into(db, &o, &keep);
	assert_int_equal(counter_through(db, &o), 7);
	assert_true(keep.db_fd >= 0);
	store_keep_release(&keep);
	/* another file renamed in between: that one is read */
	look_into(db, &o, &keep);
	make_db(other);
	plain = opts_default();
	s = open_ok(other, STORE_WRITE, &plain);
	fill(&r, 42);
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	store_close(s);
	assert_int_equal(rename(other, db), 0);
	assert_int_equal(counter_through(db, &o), 42);
	store_keep_release(&keep);
	/* shared with the group, hard-linked, a link: refused */
	look_into(db, &o, &keep);
	assert_int_equal(chmod(db, 0660), 0);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_BAD_MODE);
	assert_int_equal(keep.db_fd, -1);
	assert_int_equal(chmod(db, 0600), 0);
	look_into(db, &o, &keep);
	assert_int_equal(link(db, other), 0);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_HARDLINK);
	assert_int_equal(unlink(other), 0);
	look_into(db, &o, &keep);
	assert_int_equal(rename(db, aside), 0);
	assert_int_equal(symlink(aside, db), 0);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_SYMLINK);
	store_keep_release(&keep);
}

/* The walk in a few calls (safe_open.c fast_walk) refuses what the step
 * walk refuses: a link anywhere, a folder others may write, "..", and says
 * which, as the step walk does. */
static void test_fast_walk_refuses_as_the_step_walk(void **state)
{
	char dir[PATH_MAX], a[PATH_MAX], b[PATH_MAX], db[PATH_MAX], link_dir[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;

	(void)state;
	fresh_dir(dir, "fast");
	join(a, dir, "a");
	assert_int_equal(mkdir(a, 0700), 0);
	join(b, a, "b");
	assert_int_equal(mkdir(b, 0700), 0);
	join(db, b, "t.db");
	make_db(db);
	s = open_ok(db, STORE_READ, &o); /* the fast walk's path */
	store_close(s);
	/* a link in the middle, not the last folder */
	join(link_dir, dir, "l");
	assert_int_equal(symlink(a, link_dir), 0);
	join(db, link_dir, "b/t.db");
	expect_open_fails(db, STORE_READ, &o, TOTP_R_SYMLINK);
	/* ".." */
	join(db, b, "../b/t.db");
	expect_open_fails(db, STORE_READ, &o, TOTP_R_INVALID);
	/* a folder above the last that others may write, without the sticky bit */
	assert_int_equal(chmod(a, 0777), 0);
	join(db, b, "t.db");
	expect_open_fails(db, STORE_READ, &o, TOTP_R_BAD_MODE);
	/* with the sticky bit it is fine above the last (as /tmp)... */
	assert_int_equal(chmod(a, 01777), 0);
	s = open_ok(db, STORE_READ, &o);
	store_close(s);
	/* ...never as the last */
	assert_int_equal(chmod(b, 01777), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_BAD_MODE);
	assert_int_equal(chmod(b, 0700), 0);
	assert_int_equal(chmod(a, 0700), 0);
}

static void test_symlinked_lock_file(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], lock[PATH_MAX], other[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "symlock");
	join(db, dir, "t.db");
	join(lock, dir, "t.db.lock");
	join(other, dir, "victim");
	make_db(db);
	assert_int_equal(unlink(lock), 0);
	assert_int_equal(symlink(other, lock), 0);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_SYMLINK);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_SYMLINK);
	assert_int_equal(access(other, F_OK), -1); /* never created through it */
}

static void test_writable_by_others(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], lock[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "mode");
	join(db, dir, "t.db");
	join(lock, dir, "t.db.lock");
	make_db(db);
	assert_int_equal(chmod(db, 0620), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_BAD_MODE);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_BAD_MODE);
	assert_int_equal(chmod(db, 0602), 0);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_BAD_MODE);
	assert_int_equal(chmod(db, 0644), 0); /* readable is fine */
	store_close(open_ok(db, STORE_READ, &o));
	/* the lock file and the folder are held to the same rule */
	assert_int_equal(chmod(lock, 0666), 0);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_BAD_MODE);
	assert_int_equal(chmod(lock, 0600), 0);
	assert_int_equal(chmod(dir, 0770), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_BAD_MODE);
	/* even sticky: the database's own folder is the user's alone */
	assert_int_equal(chmod(dir, 01777), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_BAD_MODE);
	assert_int_equal(chmod(dir, 0700), 0);
	store_close(open_ok(db, STORE_READ, &o));
}

static void test_owned_by_someone_else(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "owner");
	join(db, dir, "t.db");
	make_db(db);
	if (geteuid() == 0) {
		/* the folder is root's, allowed: the database itself is refused */
		assert_int_equal(chown(db, 65534, 65534), 0);
	} else {
		o.owner = getuid() + 1;
	}
	expect_open_fails(db, STORE_READ, &o, TOTP_R_BAD_OWNER);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_BAD_OWNER);
}

static void test_folder_owned_by_someone_else(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	skip_unless_root();
	fresh_dir(dir, "dirowner");
	join(db, dir, "t.db");
	make_db(db);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_BAD_OWNER);
	/* the user it belongs to may use it, as ~/.config/totp */
	assert_int_equal(chown(db, 65534, 65534), 0);
	{
		char lock[PATH_MAX];

		join(lock, dir, "t.db.lock");
		assert_int_equal(chown(lock, 65534, 65534), 0);
	}
	o.owner = 65534;
	store_close(open_ok(db, STORE_READ, &o));
}

static void test_hard_linked(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], other[PATH_MAX], lock[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "hardlink");
	join(db, dir, "t.db");
	join(other, dir, "copy.db");
	make_db(db);
	assert_int_equal(link(db, other), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_HARDLINK);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_HARDLINK);
	assert_int_equal(unlink(other), 0);
	store_close(open_ok(db, STORE_WRITE, &o));
	/* the lock file too, checked once it is locked (settle) */
	join(lock, dir, "t.db.lock");
	assert_int_equal(link(lock, other), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_HARDLINK);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_HARDLINK);
	assert_int_equal(unlink(other), 0);
	store_close(open_ok(db, STORE_WRITE, &o));
}

static void test_not_regular(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();

	(void)state;
	fresh_dir(dir, "notreg");
	join(db, dir, "dir.db");
	assert_int_equal(mkdir(db, 0700), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_NOT_REGULAR);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_NOT_REGULAR);
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_NOT_REGULAR);
	/* a FIFO must be refused, not waited on */
	join(db, dir, "fifo.db");
	assert_int_equal(mkfifo(db, 0600), 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_NOT_REGULAR);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_NOT_REGULAR);
	/* a file where a folder should be */
	join(db, dir, "file");
	write_file(db, "x", 1);
	join(db, dir, "file/t.db");
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_NOT_REGULAR);
}

static void cut_copy(const char *from, const char *to, off_t len)
{
	char buf[65536];
	int in = open(from, O_RDONLY);
	ssize_t n;

	assert_true(in >= 0);
	assert_true(len <= (off_t)sizeof(buf));
	n = read(in, buf, (size_t)len);
	close(in);
	assert_int_equal(n, len);
	write_file(to, buf, (size_t)len);
}

static void test_truncated(void **state)
{
	char dir[PATH_MAX], good[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	off_t full;

	(void)state;
	fresh_dir(dir, "trunc");
	join(good, dir, "good.db");
	join(db, dir, "t.db");
	make_db(good);
	full = file_size(good);
	assert_true(full > 4096);

	cut_copy(good, db, 100);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_TRUNCATED);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_TRUNCATED);
	cut_copy(good, db, full / 2);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_TRUNCATED);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_TRUNCATED);

	/* an empty file is a cut database, never a new one: making it anew
	 * would un-enroll everyone */
	write_file(db, "", 0);
	expect_open_fails(db, STORE_READ, &o, TOTP_R_TRUNCATED);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_TRUNCATED);
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_TRUNCATED);
	assert_int_equal(file_size(db), 0);
}

static void test_garbage(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	uint8_t junk[16384];
	uint32_t x = 0x9e3779b9U; /* fixed seed: the same junk every run */

	(void)state;
	fresh_dir(dir, "garbage");
	join(db, dir, "t.db");
	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (uint8_t)x;
	}
	write_file(db, junk, sizeof(junk));
	expect_open_fails(db, STORE_READ, &o, TOTP_R_CORRUPT);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_CORRUPT);
	expect_open_fails(db, STORE_CREATE, &o, TOTP_R_CORRUPT);
	assert_int_equal(file_size(db), (off_t)sizeof(junk)); /* left as it was */
}

/* Issue 18, finding 3: a bounded store larger than its bound, and a GDBM
 * header whose sizes the file cannot hold, are refused before GDBM reads
 * them. */
static void test_size_bounds(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	int32_t v;
	int fd;

	(void)state;
	fresh_dir(dir, "bounds");
	join(db, dir, "t.db");
	make_db(db);
	o.max_bytes = STORE_USER_BYTES_MAX;
	s = open_ok(db, STORE_READ, &o);
	store_close(s);
	o.max_bytes = (size_t)file_size(db) - 1;
	expect_open_fails(db, STORE_READ, &o, TOTP_R_CORRUPT);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_CORRUPT);
	o.max_bytes = 0;
	/* the header's dir_size (at 16), block_size (at 4), bucket_size (at
	 * 24) each made larger than the file */
	static const off_t at[] = {16, 4, 24};
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		int32_t was;

		fd = open(db, O_RDWR);
		assert_true(fd >= 0);
		assert_int_equal(pread(fd, &was, sizeof(was), at[i]), sizeof(was));
		v = (int32_t)file_size(db) + 4096;
		assert_int_equal(pwrite(fd, &v, sizeof(v), at[i]), sizeof(v));
		close(fd);
		expect_open_fails(db, STORE_READ, &o, TOTP_R_CORRUPT);
		fd = open(db, O_RDWR);
		assert_int_equal(pwrite(fd, &was, sizeof(was), at[i]), sizeof(was));
		close(fd);
	}
	s = open_ok(db, STORE_READ, &o); /* as it was: fine again */
	store_close(s);
}

/* ---- locking -------------------------------------------------------------- */

/* A child that opens db in `mode`, says so on `ready`, then holds the
 * store until `go` is written or closed. */
static pid_t hold_lock(const char *db, enum store_mode mode, int *go_fd)
{
	int ready[2], go[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_opts o = opts_default();
		struct store *s = NULL;
		struct totp_err e;

		close(ready[0]);
		close(go[1]);
		if (gdbm_store_open(db, mode, &o, &s, &e) != 0)
			_exit(2);
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		if (read(go[0], &c, 1) < 0)
			_exit(4);
		store_close(s);
		_exit(0);
	}
	close(ready[1]);
	close(go[0]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	*go_fd = go[1];
	return pid;
}

static void release(pid_t pid, int go_fd)
{
	int status;

	close(go_fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static long elapsed_ms(const struct timespec *a)
{
	struct timespec b;

	clock_gettime(CLOCK_MONOTONIC, &b);
	return (long)((b.tv_sec - a->tv_sec) * 1000 + (b.tv_nsec - a->tv_nsec) / 1000000);
}

static void test_lock_deadline(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	struct timespec t0;
	int go;
	pid_t pid;

	(void)state;
	fresh_dir(dir, "deadline");
	join(db, dir, "t.db");
	make_db(db);
	pid = hold_lock(db, STORE_WRITE, &go);
	o.lock_timeout_ms = 200;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_LOCK_TIMEOUT);
	/* it waited for the deadline, not much less, and did give up */
	assert_true(elapsed_ms(&t0) >= 150);
	assert_true(elapsed_ms(&t0) < 60000); /* a hang guard, not a speed check */
	expect_open_fails(db, STORE_READ, &o, TOTP_R_LOCK_TIMEOUT);
	o.lock_timeout_ms = 0; /* one try only */
	expect_open_fails(db, STORE_READ, &o, TOTP_R_LOCK_TIMEOUT);
	release(pid, go);
	store_close(open_ok(db, STORE_WRITE, &o));
}

static void test_waits_for_release(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	int go;
	pid_t pid, waiter;
	int status;

	(void)state;
	fresh_dir(dir, "wait");
	join(db, dir, "t.db");
	make_db(db);
	pid = hold_lock(db, STORE_WRITE, &go);
	waiter = fork();
	assert_true(waiter >= 0);
	if (waiter == 0) {
		struct store *s = NULL;
		struct totp_err e;

		close(go); /* only the holder's end: its EOF is the release */
		o.lock_timeout_ms = 10000;
		_exit(gdbm_store_open(db, STORE_WRITE, &o, &s, &e) == 0 ? 0 : 1);
	}
	usleep(100 * 1000);
	assert_int_equal(waitpid(waiter, &status, WNOHANG), 0); /* still waiting */
	release(pid, go);
	assert_int_equal(waitpid(waiter, &status, 0), waiter);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_shared_readers(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;
	int go;
	pid_t pid;

	(void)state;
	fresh_dir(dir, "readers");
	join(db, dir, "t.db");
	make_db(db);
	pid = hold_lock(db, STORE_READ, &go);
	o.lock_timeout_ms = 200;
	s = open_ok(db, STORE_READ, &o); /* a second reader at once */
	assert_int_equal(store_get(s, "alice", &r, &e), 1);
	store_close(s);
	/* but a writer waits for the readers */
	expect_open_fails(db, STORE_WRITE, &o, TOTP_R_LOCK_TIMEOUT);
	release(pid, go);
	store_close(open_ok(db, STORE_WRITE, &o));
}

static int increment_many(const char *db)
{
	struct store_opts o = opts_default();

	o.lock_timeout_ms = 30000;
	for (int i = 0; i < INCREMENTS; i++) {
		struct store *s = NULL;
		struct record r;
		struct totp_err e;

		if (gdbm_store_open(db, STORE_WRITE, &o, &s, &e) != 0)
			return 1;
		if (store_get(s, "counter", &r, &e) != 1)
			return 2;
		r.gen[0].counter++;
		if (store_put(s, "counter", &r, &e) != 0)
			return 3;
		store_close(s);
	}
	return 0;
}

static void test_no_lost_update(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;
	pid_t pids[WORKERS];

	(void)state;
	fresh_dir(dir, "race");
	join(db, dir, "t.db");
	s = open_ok(db, STORE_CREATE, &o);
	fill(&r, 0);
	assert_int_equal(store_put(s, "counter", &r, &e), 0);
	store_close(s);

	for (int i = 0; i < WORKERS; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0)
			_exit(increment_many(db));
	}
	for (int i = 0; i < WORKERS; i++) {
		int status;

		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	s = open_ok(db, STORE_READ, &o);
	assert_int_equal(store_get(s, "counter", &r, &e), 1);
	assert_int_equal(r.gen[0].counter, WORKERS * INCREMENTS);
	store_close(s);
}

/* ---- records ------------------------------------------------------------- */

struct seen {
	int count;
	int alice, bob;
	int stop_at; /* return 42 at this call, 0: never */
};

static int count_cb(const char *user, const struct record *r, void *arg)
{
	struct seen *seen = arg;

	seen->count++;
	if (strcmp(user, "alice") == 0 && r->gen[0].counter == 1)
		seen->alice++;
	if (strcmp(user, "bob") == 0 && r->gen[0].counter == 2)
		seen->bob++;
	return seen->count == seen->stop_at ? 42 : 0;
}

static void test_get_put_delete_iterate(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct record in, out;
	struct totp_err e;
	struct seen seen = {0, 0, 0, 0};

	(void)state;
	fresh_dir(dir, "ops");
	join(db, dir, "t.db");
	o.sync = true;
	s = open_ok(db, STORE_CREATE, &o);
	assert_int_equal(store_get(s, "alice", &out, &e), 0);
	fill(&in, 1);
	assert_int_equal(store_put(s, "alice", &in, &e), 0);
	fill(&in, 2);
	in.emergency_count = 1;
	assert_int_equal(
	    record_code_from_crypt("$y$j9T$KECXgkU0WiIH8X/900QwT0$"
				   "BI7fdRO6yWvbo/7KCjNpLze6LWJIFn2pHNtQnWlySiC",
				   &in.emergency[0], &e),
	    0);
	assert_int_equal(store_put(s, "bob", &in, &e), 0);
	assert_int_equal(store_get(s, "bob", &out, &e), 1);
	assert_memory_equal(&in, &out, sizeof(in));
	/* a user whose name is a prefix of another's is another key */
	assert_int_equal(store_get(s, "bo", &out, &e), 0);
	assert_int_equal(store_iterate(s, count_cb, &seen, &e), 0);
	assert_int_equal(seen.count, 2);
	assert_int_equal(seen.alice, 1);
	assert_int_equal(seen.bob, 1);
	memset(&seen, 0, sizeof(seen));
	seen.stop_at = 1;
	assert_int_equal(store_iterate(s, count_cb, &seen, &e), 42);
	assert_int_equal(seen.count, 1);

	delete_once(s, "alice");
	assert_int_equal(store_commit(s, &e), 0);
	/* a bad name is refused before the database is asked */
	assert_int_equal(store_put(s, "a/b", &in, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(store_get(s, "", &out, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	/* a record that cannot be encoded is not stored */
	in.gen[0].params.digits = 4;
	assert_int_equal(store_put(s, "carol", &in, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(store_get(s, "carol", &out, &e), 0);
	store_close(s);

	s = open_ok(db, STORE_READ, &o);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_iterate(s, count_cb, &seen, &e), 0);
	assert_int_equal(seen.count, 1);
	assert_int_equal(seen.bob, 1);
	/* a reader cannot write */
	fill(&in, 3);
	assert_int_equal(store_put(s, "bob", &in, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(store_delete(s, "bob", &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
}

static ino_t inode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_ino;
}

/* A batch: every change goes to one copy of the database, which replaces
 * it only at store_sync, and is dropped by a close without one; without a
 * batch, a replacement is made in place and each new user is published by
 * its own put. */
static void test_batch(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], tmp[PATH_MAX + 8];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r, out;
	struct totp_err e;
	ino_t before;
	char name[32];

	(void)state;
	fresh_dir(dir, "batch");
	join(db, dir, "t.db");
	make_db(db);
	snprintf(tmp, sizeof(tmp), "%s.new", db);

	/* in place: the same file */
	before = inode_of(db);
	s = open_ok(db, STORE_WRITE, &o);
	fill(&r, 8);
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	store_close(s);
	assert_true(inode_of(db) == before);

	/* not a batch: a new user is made in place by its put (redo.h),
	 * with no copy of the file */
	s = open_ok(db, STORE_WRITE, &o);
	assert_int_equal(store_put(s, "bob", &r, &e), 0);
	assert_true(inode_of(db) == before);
	assert_true(gdbm_store_last_journal(s) > 0);
	assert_int_equal(access(tmp, F_OK), -1);
	store_close(s);

	/* a batch: nothing is published until store_sync */
	o.batch = true;
	before = inode_of(db);
	s = open_ok(db, STORE_WRITE, &o);
	for (int i = 0; i < 50; i++) {
		snprintf(name, sizeof(name), "user%02d", i);
		fill(&r, (uint64_t)i);
		assert_int_equal(store_put(s, name, &r, &e), 0);
		assert_true(inode_of(db) == before);
	}
	assert_int_equal(store_get(s, "user07", &out, &e), 1); /* reads the copy */
	assert_int_equal(out.gen[0].counter, 7);
	delete_once(s, "bob");
	assert_int_equal(store_commit(s, &e), 0);
	assert_true(inode_of(db) != before);
	assert_int_equal(access(tmp, F_OK), -1);
	store_close(s);
	s = open_ok(db, STORE_READ, &o);
	assert_int_equal(store_get(s, "user49", &out, &e), 1);
	assert_int_equal(out.gen[0].counter, 49);
	assert_int_equal(store_get(s, "alice", &out, &e), 1);
	assert_int_equal(out.gen[0].counter, 8);
	assert_int_equal(store_get(s, "bob", &out, &e), 0);
	store_close(s);

	/* a batch closed without store_sync is dropped: a new user and a
	 * replacement alike */
	before = inode_of(db);
	s = open_ok(db, STORE_WRITE, &o);
	fill(&r, 99);
	assert_int_equal(store_put(s, "alice", &r, &e), 0);
	assert_int_equal(store_put(s, "carol", &r, &e), 0);
	assert_int_equal(store_get(s, "alice", &out, &e), 1);
	assert_int_equal(out.gen[0].counter, 99);
	store_close(s);
	assert_true(inode_of(db) == before);
	assert_int_equal(access(tmp, F_OK), -1);
	s = open_ok(db, STORE_READ, &o);
	assert_int_equal(store_get(s, "carol", &out, &e), 0);
	assert_int_equal(store_get(s, "alice", &out, &e), 1);
	assert_int_equal(out.gen[0].counter, 8);
	store_close(s);
}

/* The copy a new user is made on, where copy_file_range is refused: by
 * hand (read and write, the store being larger than the copy's buffer)
 * and whole; where it fails, the put fails and nothing changes. */
static void test_copy_without_copy_file_range(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], tmp[PATH_MAX + 8], name[32];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r, out;
	struct totp_err e;
	ino_t before;

	(void)state;
	fresh_dir(dir, "by-hand");
	join(db, dir, "t.db");
	snprintf(tmp, sizeof(tmp), "%s.new", db);
	o.batch = true;
	s = open_ok(db, STORE_CREATE, &o);
	for (int i = 0; i < 600 /* v2 values are about 700 bytes */; i++) {
		snprintf(name, sizeof(name), "user%02d", i);
		fill(&r, (uint64_t)i);
		assert_int_equal(store_put(s, name, &r, &e), 0);
	}
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
	assert_true(file_size(db) > 4 * 65536);
	o.batch = false;

	copy_range_errno = EXDEV;
	s = open_ok(db, STORE_WRITE, &o);
	fill(&r, 1000);
	assert_int_equal(store_put(s, "zed", &r, &e), 0);
	store_close(s);
	s = open_ok(db, STORE_READ, &o);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "user%02d", i);
		assert_int_equal(store_get(s, name, &out, &e), 1);
		assert_int_equal(out.gen[0].counter, (uint64_t)i);
	}
	assert_int_equal(store_get(s, "zed", &out, &e), 1);
	assert_int_equal(out.gen[0].counter, 1000);
	store_close(s);

	copy_range_errno = EIO;
	before = inode_of(db);
	s = open_ok(db, STORE_WRITE, &o);
	assert_int_equal(store_put(s, "yann", &r, &e), -1);
	assert_int_equal(e.reason, TOTP_R_IO);
	assert_true(e.msg[0] != '\0');
	assert_int_equal(store_get(s, "yann", &out, &e), 0);
	store_close(s);
	copy_range_errno = 0;
	assert_true(inode_of(db) == before);
	assert_int_equal(access(tmp, F_OK), -1);
}

/* ---- changes in place (redo.h) ---------------------------------------------- */

static void user_name(char *out, size_t n, int i)
{
	snprintf(out, n, "user%04d", i);
}

/* A database of n users, made in one batch. */
static void make_many(const char *db, int n)
{
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;
	char name[32];

	o.batch = true;
	s = open_ok(db, STORE_CREATE, &o);
	for (int i = 0; i < n; i++) {
		user_name(name, sizeof(name), i);
		fill(&r, (uint64_t)i);
		assert_int_equal(store_put(s, name, &r, &e), 0);
	}
	assert_int_equal(store_commit(s, &e), 0);
	store_close(s);
}

/* Every user 0..n-1 there with its counter; `extra` there or not. */
static void expect_users(const char *db, int n, const char *extra, int extra_found)
{
	struct store_opts o = opts_default();
	struct store *s = open_ok(db, STORE_READ, &o);
	struct record out;
	struct totp_err e;
	char name[32];

	for (int i = 0; i < n; i++) {
		user_name(name, sizeof(name), i);
		assert_int_equal(store_get(s, name, &out, &e), 1);
		assert_int_equal(out.gen[0].counter, (uint64_t)i);
	}
	assert_int_equal(store_get(s, extra, &out, &e), extra_found);
	store_close(s);
}

/* A fresh folder `name` holding t.db with users 0..n-1: its paths. */
static void many_in(const char *name, int n, char *dir, char *db, char *lock,
		    size_t lock_len)
{
	fresh_dir(dir, name);
	join(db, dir, "t.db");
	snprintf(lock, lock_len, "%s.lock", db);
	make_many(db, n);
}

/* A new user in a store of 2000 (about 2 MB): the file is changed where
 * it is, and the change needs free space for its journal only, a few
 * times the record, not a copy of the file; the journal is gone after. */
static void test_new_key_in_place(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], lock[PATH_MAX + 8];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;
	ino_t before;
	size_t journal;

	(void)state;
	many_in("in-place", 2000, dir, db, lock, sizeof(lock));
	assert_true(file_size(db) > 1000 * 1000);
	before = inode_of(db);
	s = open_ok(db, STORE_WRITE, &o);
	fill(&r, 4242);
	assert_int_equal(store_put(s, "newcomer", &r, &e), 0);
	journal = gdbm_store_last_journal(s);
	/* the new one is read back through the same open */
	assert_int_equal(store_get(s, "newcomer", &r, &e), 1);
	assert_int_equal(r.gen[0].counter, 4242);
	store_close(s);
	assert_true(inode_of(db) == before);
	assert_int_equal(file_size(lock), 0);
	print_message("a new key in a %lld-byte store: a %zu-byte journal\n",
		      (long long)file_size(db), journal);
	assert_true(journal > 0 && journal <= 8 * 1024);
	expect_users(db, 2000, "newcomer", 1);
	/* a deletion too */
	s = open_ok(db, STORE_WRITE, &o);
	assert_int_equal(store_delete(s, "newcomer", &e), 0);
	assert_true(gdbm_store_last_journal(s) > 0 &&
		    gdbm_store_last_journal(s) <= 8 * 1024);
	store_close(s);
	assert_true(inode_of(db) == before);
	expect_users(db, 2000, "newcomer", 0);
}

/* The journal that adds `user` to db, made on a copy of db beside it (as
 * a writer that died right after its commit point left it), and the
 * database's length before. */
static uint8_t *journal_adding(const char *dir, const char *db, const char *user,
			       size_t *len)
{
	char copy[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;
	uint8_t *j = NULL;
	int from, to;

	join(copy, dir, "copy.db");
	from = open(db, O_RDONLY);
	to = open(copy, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(from >= 0 && to >= 0);
	for (off_t pos = 0;;) {
		char buf[65536];
		ssize_t got = pread(from, buf, sizeof(buf), pos);

		assert_true(got >= 0);
		if (got == 0)
			break;
		assert_int_equal(pwrite(to, buf, (size_t)got, pos), got);
		pos += got;
	}
	close(to);
	s = open_ok(copy, STORE_WRITE, &o);
	fill(&r, 777);
	assert_int_equal(store_put(s, user, &r, &e), 0);
	store_close(s);
	to = open(copy, O_RDONLY);
	assert_int_equal(redo_make(from, file_size(db), to, file_size(copy), &j, len, &e),
			 0);
	close(from);
	close(to);
	unlink(copy);
	return j;
}

static void put_lock_bytes(const char *lock, const uint8_t *b, size_t n)
{
	int fd = open(lock, O_WRONLY | O_TRUNC | O_NOFOLLOW);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, n), (ssize_t)n);
	close(fd);
}

/* A writer killed after its commit point: the next open, a reader's as
 * well as a writer's, finishes the change before it reads, whether none,
 * some or all of it was written; and empties the lock file. */
static void test_left_journal_is_finished(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], lock[PATH_MAX + 8];
	struct totp_err e;
	size_t len;
	uint8_t *j;

	(void)state;
	many_in("left-journal", 300, dir, db, lock, sizeof(lock));
	j = journal_adding(dir, db, "late", &len);
	for (int applied = 0; applied < 3; applied++) {
		int fd = open(db, O_RDWR);

		assert_true(fd >= 0);
		/* none, the first run (the journal's head is 24 bytes, a run's
		 * 12: its offset and length, big-endian), or all of the change
		 * on disk */
		if (applied == 1) {
			size_t n = (size_t)be_get(j + 24 + 8, 4);

			assert_int_equal(
			    pwrite(fd, j + 24 + 12, n, (off_t)be_get(j + 24, 8)),
			    (ssize_t)n);
		} else if (applied == 2) {
			assert_int_equal(redo_apply(fd, j, len, db, &e), 0);
		}
		close(fd);
		put_lock_bytes(lock, j, len);
		expect_users(db, 300, "late", 1);
		assert_int_equal(file_size(lock), 0);
		/* back to the store without "late", for the next round */
		{
			struct store_opts o = opts_default();
			struct store *s = open_ok(db, STORE_WRITE, &o);

			assert_int_equal(store_delete(s, "late", &e), 0);
			store_close(s);
		}
		free(j);
		j = journal_adding(dir, db, "late", &len);
	}
	free(j);
}

/* A writer killed while it wrote its journal: a torn journal, or bytes
 * that are none, mean the database was not touched: dropped, the store
 * as it was.  A lock file longer than any journal of the store is
 * refused, and nothing changes. */
static void test_torn_journal_is_dropped(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX], lock[PATH_MAX + 8];
	struct store_opts o = opts_default();
	struct store *s = NULL;
	struct totp_err e;
	size_t len;
	uint8_t *j;
	int fd;

	(void)state;
	many_in("torn-journal", 100, dir, db, lock, sizeof(lock));
	j = journal_adding(dir, db, "late", &len);
	put_lock_bytes(lock, j, len - 1); /* the checksum's last byte missing */
	expect_users(db, 100, "late", 0);
	assert_int_equal(file_size(lock), 0);
	j[len / 2] ^= 1; /* whole length, a bit flipped */
	put_lock_bytes(lock, j, len);
	expect_users(db, 100, "late", 0);
	assert_int_equal(file_size(lock), 0);
	put_lock_bytes(lock, (const uint8_t *)"not a journal", 13);
	expect_users(db, 100, "late", 0);
	free(j);
	/* a store of bounded size: a lock file past twice that bound */
	o.max_bytes = 1024 * 1024;
	fd = open(lock, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3 * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(gdbm_store_open(db, STORE_READ, &o, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT);
	assert_null(s);
	assert_int_equal(file_size(lock), 3 * 1024 * 1024);
	o.max_bytes = 0;
	expect_users(db, 100, "late", 0); /* not a journal: dropped */
}

/* Puts raw bytes under a key with GDBM itself, bypassing the codec. */
static void put_raw(const char *db, const char *key, const void *val, size_t len)
{
	GDBM_FILE g = gdbm_open(db, 0, GDBM_WRITER, 0600, NULL);
	datum k = {(char *)key, (int)strlen(key)};
	datum v = {(char *)val, (int)len};

	assert_non_null(g);
	assert_int_equal(gdbm_store(g, k, v, GDBM_REPLACE), 0);
	assert_int_equal(gdbm_close(g), 0);
}

static void test_undecodable_record(void **state)
{
	char dir[PATH_MAX], db[PATH_MAX];
	struct store_opts o = opts_default();
	struct store *s;
	struct record r;
	struct totp_err e;
	struct seen seen = {0, 0, 0, 0};
	uint8_t newer[5] = {'T', 'O', 'T', 'P', RECORD_VERSION + 1};

	(void)state;
	fresh_dir(dir, "badval");
	join(db, dir, "t.db");
	make_db(db);
	put_raw(db, "mallory", "not a record", 12);
	put_raw(db, "future", newer, sizeof(newer));
	s = open_ok(db, STORE_READ, &o);
	assert_int_equal(store_get(s, "mallory", &r, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT);
	assert_non_null(strstr(e.msg, "mallory"));
	assert_int_equal(store_get(s, "future", &r, &e), -1);
	assert_int_equal(e.reason, TOTP_R_VERSION);
	assert_int_equal(store_get(s, "alice", &r, &e), 1); /* the rest still reads */
	assert_int_equal(store_iterate(s, count_cb, &seen, &e), -1);
	assert_true(e.reason == TOTP_R_CORRUPT || e.reason == TOTP_R_VERSION);
	store_close(s);

	/* a key that is no user name, even with a good record, is damage */
	join(db, dir, "keys.db");
	make_db(db);
	{
		uint8_t val[RECORD_ENCODED_MAX];
		size_t len;

		fill(&r, 1);
		assert_int_equal(record_encode(&r, val, sizeof(val), &len, &e), 0);
		put_raw(db, "-rf", val, len);
	}
	s = open_ok(db, STORE_READ, &o);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_iterate(s, count_cb, &seen, &e), -1);
	assert_int_equal(e.reason, TOTP_R_CORRUPT);
	store_close(s);
}

static void test_user_name_check(void **state)
{
	static const char *const good[] = {
	    "alice", "a",   "first.last",   "user@EXAMPLE.COM",
	    "_svc",  "x-y", "DOMAIN\\user", "jos\xc3\xa9"};
	static const char *const bad[] = {"",	       "-rf",	    "a/b",     "/",
					  "tab\there", "new\nline", "del\x7f", "esc\x1b"};
	char longest[USER_NAME_MAX + 2];
	struct totp_err e;

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(user_name_check(good[i], &e), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		totp_err_clear(&e);
		assert_int_equal(user_name_check(bad[i], &e), -1);
		assert_int_equal(e.reason, TOTP_R_INVALID);
	}
	assert_int_equal(user_name_check(NULL, &e), -1);
	memset(longest, 'u', USER_NAME_MAX);
	longest[USER_NAME_MAX] = '\0';
	assert_int_equal(user_name_check(longest, &e), 0);
	longest[USER_NAME_MAX] = 'u';
	longest[USER_NAME_MAX + 1] = '\0';
	assert_int_equal(user_name_check(longest, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_from_missing),
	    cmocka_unit_test(test_create_removes_stale_temporary),
	    cmocka_unit_test(test_missing_is_not_found),
	    cmocka_unit_test(test_reader_makes_missing_lock_file),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_symlinked_database),
	    cmocka_unit_test(test_symlinked_parent_folder),
	    cmocka_unit_test(test_symlinked_lock_file),
	    cmocka_unit_test(test_keep_serves_the_checked_folder),
	    cmocka_unit_test(test_keep_checks_the_database_again),
	    cmocka_unit_test(test_fast_walk_refuses_as_the_step_walk),
	    cmocka_unit_test(test_writable_by_others),
	    cmocka_unit_test(test_owned_by_someone_else),
	    cmocka_unit_test(test_folder_owned_by_someone_else),
	    cmocka_unit_test(test_hard_linked),
	    cmocka_unit_test(test_not_regular),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_garbage),
	    cmocka_unit_test(test_size_bounds),
	    cmocka_unit_test(test_lock_deadline),
	    cmocka_unit_test(test_waits_for_release),
	    cmocka_unit_test(test_shared_readers),
	    cmocka_unit_test(test_no_lost_update),
	    cmocka_unit_test(test_get_put_delete_iterate),
	    cmocka_unit_test(test_batch),
	    cmocka_unit_test(test_copy_without_copy_file_range),
	    cmocka_unit_test(test_new_key_in_place),
	    cmocka_unit_test(test_left_journal_is_finished),
	    cmocka_unit_test(test_torn_journal_is_dropped),
	    cmocka_unit_test(test_undecodable_record),
	    cmocka_unit_test(test_user_name_check),
	};
	return cmocka_run_group_tests_name("store", tests, group_setup, group_teardown);
}
