/*
 * pam_harness: what the PAM-stack tests share (test_pam, test_hostile,
 * test_faults): a test folder under the current user's home, service
 * files naming the built module, a scripted conversation, the module's
 * log lines caught (the program defines pam_syslog and pam_vsyslog and is
 * linked with --export-dynamic), a wall clock the tests move (below), and
 * records put and read directly.
 * Taken out of test_pam.c as it was, so that every PAM-level test runs
 * the same real libpam stack the same way.
 */
#include "config.h"

#include "gdbm_store.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "pam_harness.h"

const uint8_t SECRET[20] = "12345678901234567890";

char g_home[PATH_MAX];	     /* the current user's home */
char g_dir[PATH_MAX];	     /* the test folder, under g_home */
char g_store[PATH_MAX + 32]; /* store= template for g_dir */
char g_user[USER_NAME_MAX + 1];
uid_t g_uid;
bool g_quick;

/* snprintf that fails the test instead of cutting a path short; the
 * length written is returned. */
__attribute__((format(printf, 3, 4))) size_t sfmt(char *out, size_t size, const char *fmt,
						  ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		fail_msg("a test string does not fit in %zu bytes", size);
	return (size_t)n;
}

/* ---- what the module said ------------------------------------------------ */

char g_log[LOG_LINES][TOTP_ERR_MSG_MAX + 512];
size_t g_nlog;

void pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args)
{
	char *line;
	int n;

	(void)pamh;
	if (g_nlog >= LOG_LINES)
		return;
	line = g_log[g_nlog++];
	n = snprintf(line, sizeof(g_log[0]), "<%d> ", priority);
	vsnprintf(line + n, sizeof(g_log[0]) - (size_t)n, fmt, args);
}

void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pam_vsyslog(pamh, priority, fmt, ap);
	va_end(ap);
}

const char *logged(const char *needle)
{
	for (size_t i = 0; i < g_nlog; i++)
		if (strstr(g_log[i], needle) != NULL)
			return g_log[i];
	return NULL;
}

void dump_log(void)
{
	for (size_t i = 0; i < g_nlog; i++)
		print_message("log: %s\n", g_log[i]);
}

void assert_logged(const char *needle)
{
	if (logged(needle) == NULL) {
		dump_log();
		fail_msg("no log line holds \"%s\"", needle);
	}
}

/* A code or a secret never reaches the log. */
void assert_not_logged(const char *secret)
{
	if (logged(secret) != NULL) {
		dump_log();
		fail_msg("a log line holds \"%s\"", secret);
	}
}

/* ---- the conversation ---------------------------------------------------- */

struct script g_s;

unsigned g_delay_usec;
int g_delay_calls;

void answers(int n, ...)
{
	va_list ap;

	memset(&g_s, 0, sizeof(g_s));
	va_start(ap, n);
	for (int i = 0; i < n && i < SCRIPT_MAX; i++)
		g_s.answers[g_s.n_answers++] = va_arg(ap, const char *);
	va_end(ap);
}

static int answer_one(const struct pam_message *m, struct pam_response *r)
{
	switch (m->msg_style) {
	case PAM_PROMPT_ECHO_OFF:
	case PAM_PROMPT_ECHO_ON:
		if (g_s.n_prompts < SCRIPT_MAX) {
			g_s.styles[g_s.n_prompts] = m->msg_style;
			snprintf(g_s.prompts[g_s.n_prompts++], sizeof(g_s.prompts[0]),
				 "%s", m->msg);
		}
		if (g_s.next >= g_s.n_answers)
			return PAM_CONV_ERR;
		r->resp = strdup(g_s.answers[g_s.next++]);
		return r->resp != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
	case PAM_ERROR_MSG:
	case PAM_TEXT_INFO:
		if (g_s.n_messages < SCRIPT_MAX)
			snprintf(g_s.messages[g_s.n_messages++], sizeof(g_s.messages[0]),
				 "%c:%s", m->msg_style == PAM_ERROR_MSG ? 'E' : 'I',
				 m->msg);
		return PAM_SUCCESS;
	default:
		return PAM_CONV_ERR;
	}
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp,
		void *appdata)
{
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	(void)appdata;
	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (answer_one(msg[i], &r[i]) != PAM_SUCCESS) {
			for (int j = 0; j < n; j++)
				free(r[j].resp);
			free(r);
			return PAM_CONV_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* Tests must not sleep through libpam's failure delay: with this set,
 * libpam calls it instead of sleeping. */
static void fail_delay(int retval, unsigned usec, void *appdata)
{
	(void)retval;
	(void)appdata;
	g_delay_usec = usec;
	g_delay_calls++;
}

/* ---- stacks ---------------------------------------------------------------- */

char g_stack[4096];

/* pam_totp's line, with the test's store and no system pam_totp.conf
 * unless `args` names its own. */
void totp_line(char *out, size_t size, const char *control, const char *args)
{
	char conf[PATH_MAX + 16] = "", store[sizeof(g_store) + 8] = "";

	if (strstr(args, "conf=") == NULL)
		sfmt(conf, sizeof(conf), "conf=%s/none.conf ", g_dir);
	if (strstr(args, "store=") == NULL)
		sfmt(store, sizeof(store), "store=%s ", g_store);
	sfmt(out, size, "auth %s %s %s%s%s\n", control, PAM_TOTP_MODULE, conf, store,
	     args);
}

void write_stack(const char *text)
{
	char path[PATH_MAX + 32];
	FILE *f;

	sfmt(path, sizeof(path), "%s/pam.d/" SERVICE, g_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* pam_start through the service file as it is now. */
pam_handle_t *start(const char *user)
{
	static struct pam_conv c = {conv, NULL};
	pam_handle_t *pamh = NULL;
	char confdir[PATH_MAX + 8];

	sfmt(confdir, sizeof(confdir), "%s/pam.d", g_dir);
	if (pam_start_confdir(SERVICE, user, &c, confdir, &pamh) != PAM_SUCCESS)
		return NULL;
	if (g_rhost != NULL)
		pam_set_item(pamh, PAM_RHOST, g_rhost);
	pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)fail_delay);
	return pamh;
}

int finish(pam_handle_t *pamh, int flags)
{
	int rc = pam_authenticate(pamh, flags);

	pam_end(pamh, rc);
	return rc;
}

int auth_once(const char *user, int flags)
{
	pam_handle_t *pamh = start(user);

	return pamh != NULL ? finish(pamh, flags) : PAM_SYSTEM_ERR;
}

int run_stack_as(const char *text, const char *user, int flags)
{
	write_stack(text);
	g_nlog = 0;
	g_delay_calls = 0;
	g_delay_usec = 0;
	return auth_once(user, flags);
}

/* pam_totp alone, required. */
int run(const char *args)
{
	totp_line(g_stack, sizeof(g_stack), "required", args);
	return run_stack_as(g_stack, g_user, 0);
}

/* pam_totp, then a module that answers PAM_CRED_INSUFFICIENT: reaching it
 * means pam_totp stepped aside (PAM_IGNORE); any other answer is
 * pam_totp's own. */
int run_probe_user(const char *args, const char *user)
{
	size_t n;
	int rc;

	totp_line(g_stack, sizeof(g_stack), "[success=done ignore=ignore default=die]",
		  args);
	n = strlen(g_stack);
	sfmt(g_stack + n, sizeof(g_stack) - n, "auth required %s rc=%d\n",
	     PAM_TEST_HELPER, PAM_CRED_INSUFFICIENT);
	rc = run_stack_as(g_stack, user, 0);
	return rc == PAM_CRED_INSUFFICIENT ? PAM_IGNORE : rc;
}

int run_probe(const char *args)
{
	return run_probe_user(args, g_user);
}

/* ---- records and codes ----------------------------------------------------- */

struct otp_params totp6(void)
{
	struct otp_params p = {
	    .type = OTP_TOTP, .alg = OTP_SHA1, .digits = 6, .period = 30};

	return p;
}

void db_path(const char *realm, char *out, size_t size)
{
	sfmt(out, size, "%s/%s.db", g_dir, realm);
}

void ready_record(struct record *r, enum otp_type type, uint64_t counter)
{
	memset(r, 0, sizeof(*r));
	r->gen[0].state = RECORD_READY;
	r->gen[0].params = totp6();
	r->gen[0].params.type = type;
	memcpy(r->gen[0].secret, SECRET, sizeof(SECRET));
	r->gen[0].secret_len = sizeof(SECRET);
	r->gen[0].counter = counter;
	r->sequence = 2;
	r->gen[0].created = time(NULL);
	r->change_date_ms = (int64_t)r->gen[0].created * 1000;
}

void put_record_at(const char *path, uid_t owner, const char *user,
		   const struct record *r)
{
	struct store_opts o = {.owner = owner, .lock_timeout_ms = 2000, .sync = false};
	struct store *s = NULL;
	struct totp_err e;

	if (gdbm_store_open(path, STORE_CREATE, &o, &s, &e) < 0)
		fail_msg("gdbm_store_open %s: %s", path, e.msg);
	assert_int_equal(store_put(s, user, r, &e), 0);
	store_close(s);
}

void put_record(const char *realm, const struct record *r)
{
	char path[PATH_MAX];

	db_path(realm, path, sizeof(path));
	put_record_at(path, g_uid, g_user, r);
}

void get_record(const char *realm, struct record *r)
{
	struct store_opts o = {.owner = g_uid, .lock_timeout_ms = 2000, .sync = false};
	char path[PATH_MAX];
	struct store *s = NULL;
	struct totp_err e;

	db_path(realm, path, sizeof(path));
	if (gdbm_store_open(path, STORE_READ, &o, &s, &e) < 0)
		fail_msg("gdbm_store_open %s: %s", path, e.msg);
	assert_int_equal(store_get(s, g_user, r, &e), 1);
	store_close(s);
}

void code_at(const struct record *r, uint64_t factor, char out[OTP_CODE_BUF])
{
	struct totp_err e;

	assert_int_equal(otp_code(r->gen[0].secret, r->gen[0].secret_len,
				  &r->gen[0].params, factor, out, &e),
			 0);
}

int run_with_code(const struct record *r, uint64_t factor, const char *args)
{
	char code[OTP_CODE_BUF];

	code_at(r, factor, code);
	answers(1, code);
	return run(args);
}

uint64_t step_now(void)
{
	struct otp_params p = totp6();

	return otp_step_at(&p, time(NULL));
}

/*
 * The tests' wall clock.  A test that names a time ("the code for now",
 * "599 s after the login") must not see it move under it, however slow or
 * busy the machine is.  The program's own clock_gettime() and time() come
 * before libc's, for the module too (it is linked with --export-dynamic,
 * like pam_syslog), and give a clock that stands still: the real time when
 * first read, moved on only by clock_advance() and settle().  settle()
 * moves it to the first second of a step.  Only CLOCK_REALTIME stands
 * still; lock timeouts run on CLOCK_MONOTONIC and still expire.
 */
static time_t g_now;

int clock_gettime(clockid_t id, struct timespec *ts)
{
	long rc = syscall(SYS_clock_gettime, id, ts);

	if (rc == 0 && id == CLOCK_REALTIME) {
		if (g_now == 0)
			g_now = ts->tv_sec;
		ts->tv_sec = g_now;
		ts->tv_nsec = 0;
	}
	return (int)rc;
}

time_t time(time_t *out)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (out != NULL)
		*out = ts.tv_sec;
	return ts.tv_sec;
}

void settle(void)
{
	time_t t = time(NULL);

	if (t % 30 != 0)
		g_now += 30 - t % 30;
}

void clock_advance(unsigned seconds)
{
	(void)time(NULL);
	g_now += (time_t)seconds;
}

void put_ready_default(struct record *r)
{
	settle();
	ready_record(r, OTP_TOTP, 0);
	put_record("default", r);
}

/* A code that matches no step near `step`. */
void wrong_code(const struct record *r, uint64_t step, char out[OTP_CODE_BUF])
{
	char near[7][OTP_CODE_BUF];
	bool clash;

	for (int i = 0; i < 7; i++)
		code_at(r, step - 3 + (uint64_t)i, near[i]);
	strcpy(out, near[3]);
	do {
		out[5] = (char)('0' + (out[5] - '0' + 1) % 10);
		clash = false;
		for (int i = 0; i < 7; i++)
			clash = clash || strcmp(out, near[i]) == 0;
	} while (clash);
}

void rm_store(const char *realm)
{
	char path[PATH_MAX], lock[PATH_MAX + 8];

	db_path(realm, path, sizeof(path));
	sfmt(lock, sizeof(lock), "%s.lock", path);
	unlink(path);
	unlink(lock);
}

const char *g_rhost = RHOST;

int reset(void **state)
{
	(void)state;
	g_rhost = RHOST;
	rm_store("default");
	rm_store("other");
	return 0;
}

int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- the test folder ------------------------------------------------------- */

int rm_tree(void)
{
	return nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The test folder goes under the current user's home, so that a store in
 * it is the user's own store (see the top).  0, or -1 when there is no
 * home to write in. */
int make_test_dir(void)
{
	struct passwd *pw;
	char path[PATH_MAX + 8];

	g_uid = getuid();
	pw = getpwuid(g_uid);
	if (pw == NULL || strlen(pw->pw_dir) + 40 > sizeof(g_home))
		return -1;
	snprintf(g_user, sizeof(g_user), "%s", pw->pw_name);
	snprintf(g_home, sizeof(g_home), "%s",
		 strcmp(pw->pw_dir, "/") == 0 ? "" : pw->pw_dir);
	strcpy(g_dir, g_home); /* fits: checked above */
	strcat(g_dir, "/.pam_totp-test.XXXXXX");
	if (mkdtemp(g_dir) == NULL)
		return -1;
	snprintf(g_store, sizeof(g_store), "%%h%s/%%r.db", g_dir + strlen(g_home));
	snprintf(path, sizeof(path), "%s/pam.d", g_dir);
	if (mkdir(path, 0700) < 0) {
		rmdir(g_dir);
		return -1;
	}
	return 0;
}

int harness_group_setup(void **state)
{
	struct totp_err e;

	(void)state;
	return otp_init(&e);
}

int harness_group_teardown(void **state)
{
	(void)state;
	return rm_tree();
}
