/* pam_harness: what the PAM-stack tests share (see pam_harness.c). */
#ifndef TOTP_PAM_HARNESS_H
#define TOTP_PAM_HARNESS_H

#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>

#include "otp.h"
#include "record.h"
#include "store.h"

#define SERVICE "totp-test"
#define RHOST "198.51.100.7"
#define LOCKED_MESSAGE "Too many failed attempts: try again later."
#define RACERS 8
#define LOG_LINES 64
#define SCRIPT_MAX 8

extern const uint8_t SECRET[20];

extern char g_home[PATH_MAX];	    /* the current user's home */
extern char g_dir[PATH_MAX];	    /* the test folder, under g_home */
extern char g_store[PATH_MAX + 32]; /* store= template for g_dir */
extern char g_user[USER_NAME_MAX + 1];
extern uid_t g_uid;
extern bool g_quick;
/* PAM_RHOST of the next runs (NULL: not set); reset() puts RHOST back. */
extern const char *g_rhost;

/* snprintf that fails the test instead of cutting a string short. */
__attribute__((format(printf, 3, 4))) size_t sfmt(char *out, size_t size, const char *fmt,
						  ...);

/* What the module logged through pam_syslog since the last run. */
extern char g_log[LOG_LINES][TOTP_ERR_MSG_MAX + 512];
extern size_t g_nlog;
void pam_vsyslog(const pam_handle_t *pamh, int priority, const char *fmt, va_list args);
void pam_syslog(const pam_handle_t *pamh, int priority, const char *fmt, ...);
const char *logged(const char *needle);
void dump_log(void);
void assert_logged(const char *needle);
void assert_not_logged(const char *secret);

/* The conversation: answers given in turn, prompts and messages kept. */
struct script {
	const char *answers[SCRIPT_MAX];
	size_t n_answers, next;
	int styles[SCRIPT_MAX];
	char prompts[SCRIPT_MAX][128];
	size_t n_prompts;
	char messages[SCRIPT_MAX][256]; /* "E:..." errors, "I:..." information */
	size_t n_messages;
};
extern struct script g_s;
extern unsigned g_delay_usec;
extern int g_delay_calls;
void answers(int n, ...);

/* Stacks: a service file in g_dir/pam.d naming the built module. */
extern char g_stack[4096];
void totp_line(char *out, size_t size, const char *control, const char *args);
void write_stack(const char *text);
pam_handle_t *start(const char *user);
int finish(pam_handle_t *pamh, int flags);
int auth_once(const char *user, int flags);
int run_stack_as(const char *text, const char *user, int flags);
int run(const char *args);
int run_probe_user(const char *args, const char *user);
int run_probe(const char *args);

/* Records and codes, in g_dir/<realm>.db. */
struct otp_params totp6(void);
void db_path(const char *realm, char *out, size_t size);
void ready_record(struct record *r, enum otp_type type, uint64_t counter);
void put_record_at(const char *path, uid_t owner, const char *user,
		   const struct record *r);
void put_record(const char *realm, const struct record *r);
void get_record(const char *realm, struct record *r);
void code_at(const struct record *r, uint64_t factor, char out[OTP_CODE_BUF]);
uint64_t step_now(void);
/* Moves the tests' wall clock to the start of the next 30 s step (it
 * does not sleep).  That clock stands still between calls to settle() and
 * clock_advance(), so "now" is what the test last made it. */
void settle(void);
/* Moves the tests' wall clock on by `seconds` (never back). */
void clock_advance(unsigned seconds);
/* settle(), then the user's ready TOTP record in the default realm. */
void put_ready_default(struct record *r);
/* The stack with `args`, answered with r's code at `factor`: its result. */
int run_with_code(const struct record *r, uint64_t factor, const char *args);
void wrong_code(const struct record *r, uint64_t step, char out[OTP_CODE_BUF]);
void rm_store(const char *realm);
int reset(void **state);

/* cmocka group set-up and teardown: liboath started; the test folder
 * removed. */
int harness_group_setup(void **state);
int harness_group_teardown(void **state);

/* The test folder. */
int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw);
int rm_tree(void);
int make_test_dir(void);

#endif
