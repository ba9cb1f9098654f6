/*
 * test_slow_check: the slow part of a login check, the emergency-code
 * hashing, under a kill, a stop and a stopwatch (issue 18, findings 1, 2
 * and 8).
 *
 * Deterministic, whatever the machine's speed: this program defines
 * crypt_rn itself (and exports it, --export-dynamic), so lib/'s calls and
 * the module's, once libpam has loaded it, come here first.  It counts
 * the calls and, when a test arms it in a forked child, says through a
 * pipe that hashing has started and then waits there to be killed
 * (HOOK_PAUSE) or stops itself (HOOK_STOP: SIGSTOP, at a known point),
 * before handing the call to libxcrypt's crypt_rn.
 *
 *   1 a check killed while it hashes leaves its failure counted;
 *   2 a check stopped while it hashes holds no lock: another user's
 *     login of the same store passes, and a code used meanwhile by
 *     another login is not used twice;
 *   8 an 8-digit answer costs the same hashes for every user, enrolled,
 *     with codes used up, pending, unknown or without a store.
 *
 * Usage: test_slow_check [PATTERN]
 */
#include "config.h"

#include "gdbm_store.h"

#include <crypt.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"
#include "emergency.h"
#include "login.h"
#include "pam_harness.h"

/* ---- crypt_rn, interposed ------------------------------------------------ */

enum hook_mode { HOOK_OFF, HOOK_PAUSE, HOOK_STOP };

static enum hook_mode g_hook;
static int g_hook_fd = -1;
static unsigned g_crypt_calls;

typedef char *(*crypt_rn_fn)(const char *, const char *, void *, int);

char *crypt_rn(const char *phrase, const char *setting, void *data, int size)
{
	crypt_rn_fn real = (crypt_rn_fn)dlsym(RTLD_NEXT, "crypt_rn");
	char c = 'h';

	g_crypt_calls++;
	if (g_hook != HOOK_OFF && g_hook_fd >= 0) {
		enum hook_mode mode = g_hook;

		g_hook = HOOK_OFF; /* once: after a stop, the check goes on */
		if (write(g_hook_fd, &c, 1) != 1)
			_exit(90);
		if (mode == HOOK_PAUSE)
			for (;;)
				pause();
		raise(SIGSTOP);
	}
	if (real == NULL)
		_exit(91);
	return real(phrase, setting, data, size);
}

/* A child, forked with the hook armed, runs fn(arg) and exits with what
 * it returns; the parent gets its pid once it is in crypt_rn (or fails
 * the test if it never gets there within 60 s, or exits first). */
static pid_t child_at_hash(enum hook_mode mode, int (*fn)(const void *), const void *arg)
{
	int p[2];
	struct pollfd pfd;
	char c;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		g_hook_fd = p[1];
		g_hook = mode;
		_exit(fn(arg));
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 60000) != 1 || read(p[0], &c, 1) != 1) {
		int st;

		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		close(p[0]);
		fail_msg("the child never reached the hashing (status %d)", st);
	}
	close(p[0]);
	return pid;
}

static void kill_and_reap(pid_t pid)
{
	int st;

	assert_int_equal(kill(pid, SIGKILL), 0);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static void wait_stopped(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, WUNTRACED), pid);
	assert_true(WIFSTOPPED(st));
}

static int exit_code_of(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static const char *const CODES[] = {"11112222", "33334444", "55556666", "77778888",
				    "99990000"};

static void with_codes(struct record *r, unsigned n)
{
	struct totp_err e;

	assert_int_equal(emergency_set(r, (const char *const *)CODES, n, &e), 0);
}

/* ---- 1: a check killed while it hashes ------------------------------------ */

static int pam_login_8_digits(const void *arg)
{
	(void)arg;
	answers(1, "12121212");
	return run("") == PAM_AUTH_ERR ? 0 : 1;
}

/* The sudo or su case: the user who started the check kills it once it
 * hashes (the review watched its CPU time).  Each kill must leave its
 * failure counted, as a check that ran to the end would. */
static void test_kill_while_hashing_counts(void **state)
{
	struct record r, after;

	(void)state;
	put_ready_default(&r);
	with_codes(&r, 5);
	put_record("default", &r);
	for (unsigned i = 1; i <= 3; i++) {
		pid_t pid = child_at_hash(HOOK_PAUSE, pam_login_8_digits, NULL);

		kill_and_reap(pid);
		get_record("default", &after);
		if (after.failures != i)
			fail_msg(
			    "after %u killed checks: failures %u, last failure at %lld",
			    i, after.failures, (long long)after.last_failure.time);
		assert_true(after.last_failure.time != 0);
		assert_int_equal(emergency_remaining(&after), 5);
	}
	/* the right code still passes, and clears the count */
	assert_int_equal(run_with_code(&r, step_now(), ""), PAM_SUCCESS);
	get_record("default", &after);
	assert_int_equal(after.failures, 0);
}

/* ---- 2: a check stopped while it hashes ----------------------------------- */

/* A system store: one database for several users (alice, bob). */
static struct store_location g_shared;
static struct cfg g_cfg;

struct check_arg {
	const char *user, *code;
};

static int lib_check(const void *varg)
{
	const struct check_arg *a = varg;
	struct login_event ev = {.service = "sudo", .rhost = NULL};
	struct login_result res;
	struct totp_err e;

	ev.now_ms = (int64_t)time(NULL) * 1000;
	if (login_check(&g_cfg, &g_shared, a->user, a->code, &ev, &res, &e) < 0)
		return 100 + (int)e.reason;
	return (int)res.outcome;
}

static void shared_put(const char *user, const struct record *r)
{
	put_record_at(g_shared.where, g_shared.owner, user, r);
}

static void shared_get(const char *user, struct record *r)
{
	struct store_opts o = {.owner = g_shared.owner, .lock_timeout_ms = 2000};
	struct store *s = NULL;
	struct totp_err e;

	assert_int_equal(gdbm_store_open(g_shared.where, STORE_READ, &o, &s, &e), 0);
	assert_int_equal(store_get(s, user, r, &e), 1);
	store_close(s);
}

static int shared_setup(void **state)
{
	char lock[sizeof(g_shared.where) + 8];

	reset(state);
	memset(&g_shared, 0, sizeof(g_shared));
	db_path("shared", g_shared.where, sizeof(g_shared.where));
	sfmt(lock, sizeof(lock), "%s.lock", g_shared.where);
	unlink(g_shared.where);
	unlink(lock);
	g_shared.owner = g_uid;
	g_shared.per_user = false;
	cfg_defaults(&g_cfg);
	g_cfg.lock_timeout_ms = 300; /* old code: bob waits this long, then fails */
	return 0;
}

/* Seen (a) in the review: alice's check, stopped while it hashed, held the
 * realm's lock, and every other user's login failed with lock-timeout. */
static void test_stopped_check_blocks_nobody(void **state)
{
	struct record alice, bob, after;
	char code[OTP_CODE_BUF];
	struct check_arg a = {"alice", "12121212"}, b = {"bob", code};
	pid_t pid;

	(void)state;
	settle();
	ready_record(&alice, OTP_TOTP, 0);
	with_codes(&alice, 5);
	shared_put("alice", &alice);
	ready_record(&bob, OTP_TOTP, 0);
	shared_put("bob", &bob);
	pid = child_at_hash(HOOK_STOP, lib_check, &a);
	wait_stopped(pid);
	/* bob logs in while alice's check is stopped */
	code_at(&bob, step_now(), code);
	assert_int_equal(lib_check(&b), LOGIN_SUCCESS);
	/* alice's failure is already stored, before any hash */
	shared_get("alice", &after);
	assert_int_equal(after.failures, 1);
	kill_and_reap(pid);
	shared_get("alice", &after);
	assert_int_equal(after.failures, 1);
	assert_int_equal(emergency_remaining(&after), 5);
}

/* The lock is let go while hashing, so the code may be used meanwhile:
 * the stopped check, resumed, finds it used and fails; it is used once. */
static void test_code_used_meanwhile(void **state)
{
	struct record alice, after;
	struct check_arg a = {"alice", "33334444"};
	pid_t pid;

	(void)state;
	settle();
	ready_record(&alice, OTP_TOTP, 0);
	with_codes(&alice, 3);
	shared_put("alice", &alice);
	pid = child_at_hash(HOOK_STOP, lib_check, &a);
	wait_stopped(pid);
	assert_int_equal(lib_check(&a), LOGIN_SUCCESS);
	assert_int_equal(kill(pid, SIGCONT), 0);
	assert_int_equal(exit_code_of(pid), LOGIN_WRONG_CODE);
	shared_get("alice", &after);
	assert_int_equal(emergency_remaining(&after), 2);
	/* the resumed check's failure was stored before the other login's
	 * success, which cleared it, as in that order */
	assert_int_equal(after.failures, 0);
	/* a right code, checked to the end, takes its own failure back */
	a.code = "11112222";
	assert_int_equal(lib_check(&a), LOGIN_SUCCESS);
	shared_get("alice", &after);
	assert_int_equal(after.failures, 0);
	assert_int_equal(after.locked_until, 0);
	assert_int_equal(emergency_remaining(&after), 1);
}

/* ---- 8: the same work for every user ------------------------------------- */

static unsigned hashes_for(const char *user)
{
	totp_line(g_stack, sizeof(g_stack), "required", "");
	answers(1, "12121212");
	g_crypt_calls = 0;
	assert_int_equal(run_stack_as(g_stack, user, 0), PAM_AUTH_ERR);
	assert_int_equal(g_s.n_prompts, 1);
	return g_crypt_calls;
}

/* The review timed an 8-digit answer: 350 ms for an enrolled user, 1 to
 * 4 ms for anyone else.  Counted here in hashes, which is that time. */
static void test_equal_work(void **state)
{
	struct record r;
	unsigned want;

	(void)state;
	ready_record(&r, OTP_TOTP, 0);
	with_codes(&r, 5);
	put_record("default", &r);
	want = hashes_for(g_user);
	assert_int_equal(want, 5);
	/* three of five used */
	for (int i = 0; i < 3; i++)
		r.emergency_used |= (uint16_t)(1U << i);
	put_record("default", &r);
	assert_int_equal(hashes_for(g_user), want);
	/* none at all */
	r.emergency_count = 0;
	r.emergency_used = 0;
	put_record("default", &r);
	assert_int_equal(hashes_for(g_user), want);
	/* pending, then no record in a store of others, then no store */
	r.gen[0].state = RECORD_PENDING;
	put_record("default", &r);
	assert_int_equal(hashes_for(g_user), want);
	{
		char path[PATH_MAX];

		rm_store("default");
		db_path("default", path, sizeof(path));
		r.gen[0].state = RECORD_READY;
		put_record_at(path, g_uid, "someone-else", &r);
	}
	assert_int_equal(hashes_for(g_user), want);
	rm_store("default");
	assert_int_equal(hashes_for(g_user), want);
	/* unknown user */
	assert_int_equal(hashes_for("pam-totp-no-such-user"), want);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_kill_while_hashing_counts, reset, reset),
	    cmocka_unit_test_setup_teardown(test_stopped_check_blocks_nobody,
					    shared_setup, reset),
	    cmocka_unit_test_setup_teardown(test_code_used_meanwhile, shared_setup,
					    reset),
	    cmocka_unit_test_setup_teardown(test_equal_work, shared_setup, reset),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	if (make_test_dir() < 0) {
		printf("no writable home folder for a user store: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests_name("slow_check", tests, harness_group_setup,
					   harness_group_teardown);
}
