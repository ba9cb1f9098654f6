/*
 * hostile: every row of tests/hostile.tsv, tried and checked.
 *
 * The table lists each hostile input (at the prompt, as user and realm
 * names, as configuration text) with the answer it must get.  PAM-level
 * rows go through the real module in a real libpam stack (pam_harness,
 * as test_pam); the others call the lib/ function that guards that input.
 * Each row must get its expected answer, never crash, never pass (but the
 * one control row), log what the table says, and change no record but the
 * failure count and failure event of the user who answered wrong.
 */
#include "config.h"

#include "location.h"

#include "gdbm_store.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "account.h"
#include "cfg.h"
#include "pam_harness.h"

#define OTHER_USER "hostile-other"
#define ROW_FIELDS 5

static const uint8_t OTHER_SECRET[20] = "abcdefghijklmnopqrst";

struct row {
	unsigned line;
	char *kind, *desc, *input, *expected, *log;
};

struct bytes {
	char *p; /* NUL-terminated too, for the C-string callers */
	size_t len, cap;
};

static unsigned g_rows, g_bad;

/* ---- the table ------------------------------------------------------------- */

static void add(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) { /* doubling: 1 MiB a byte at a time */
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* n copies of `one` at the end of b, with one allocation: a byte at a
 * time would copy the whole buffer a million times (ASan's realloc always
 * copies). */
static void add_repeated(struct bytes *b, const struct bytes *one, unsigned long n)
{
	b->p = realloc(b->p, b->len + n * one->len + 1);
	assert_non_null(b->p);
	for (unsigned long i = 0; i < n; i++) {
		memcpy(b->p + b->len, one->p, one->len);
		b->len += one->len;
	}
	b->p[b->len] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 'text' with escapes, from *s (at the quote); *s moves past it. */
static void quoted(const char **s, struct bytes *b, unsigned line)
{
	const char *p = *s + 1;

	while (*p != '\'') {
		char c = *p++;

		if (c == '\0')
			fail_msg("hostile.tsv:%u: an unterminated quote", line);
		if (c == '\\') {
			char e = *p++;

			switch (e) {
			case '0':
				c = '\0';
				break;
			case 't':
				c = '\t';
				break;
			case 'r':
				c = '\r';
				break;
			case 'n':
				c = '\n';
				break;
			case '\\':
				c = '\\';
				break;
			case '\'':
				c = '\'';
				break;
			case 'x':
				if (hexval(p[0]) < 0 || hexval(p[1]) < 0)
					fail_msg("hostile.tsv:%u: a bad \\x escape",
						 line);
				c = (char)(hexval(p[0]) * 16 + hexval(p[1]));
				p += 2;
				break;
			default:
				fail_msg("hostile.tsv:%u: an unknown escape \\%c", line,
					 e);
			}
		}
		add(b, &c, 1);
	}
	*s = p + 1;
}

/* An input: pieces joined with '+'.  code and other are the codes now. */
static struct bytes input_of(const char *spec, const char *code, const char *other,
			     unsigned line)
{
	struct bytes b = {NULL, 0, 0};
	const char *s = spec;

	add(&b, "", 0);
	for (;;) {
		if (*s == '\'') {
			quoted(&s, &b, line);
		} else if (strncmp(s, "REP(", 4) == 0) {
			char *end;
			unsigned long n = strtoul(s + 4, &end, 10);
			struct bytes one = {NULL, 0, 0};

			s = end;
			if (*s++ != ',' || *s != '\'')
				fail_msg("hostile.tsv:%u: REP(n,'c') expected", line);
			quoted(&s, &one, line);
			if (*s++ != ')')
				fail_msg("hostile.tsv:%u: REP(n,'c') expected", line);
			add_repeated(&b, &one, n);
			free(one.p);
		} else if (strncmp(s, "CODE:", 5) == 0) {
			char *end;
			unsigned long n = strtoul(s + 5, &end, 10);

			add(&b, code, n < strlen(code) ? n : strlen(code));
			s = end;
		} else if (strncmp(s, "CODE", 4) == 0) {
			add(&b, code, strlen(code));
			s += 4;
		} else if (strncmp(s, "OTHER", 5) == 0) {
			add(&b, other, strlen(other));
			s += 5;
		} else {
			fail_msg("hostile.tsv:%u: cannot read the input at \"%s\"", line,
				 s);
		}
		if (*s == '\0')
			return b;
		if (*s++ != '+')
			fail_msg("hostile.tsv:%u: pieces join with +", line);
	}
}

static bool split_row(char *text, unsigned line, struct row *r)
{
	char *f[ROW_FIELDS], *save = NULL;
	int n = 0;

	text[strcspn(text, "\n")] = '\0';
	if (text[0] == '#' || text[0] == '\0')
		return false;
	for (char *t = strtok_r(text, "\t", &save); t != NULL && n < ROW_FIELDS;
	     t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	if (n != ROW_FIELDS)
		fail_msg("hostile.tsv:%u: %d fields, not %d", line, n, ROW_FIELDS);
	*r = (struct row){line, f[0], f[1], f[2], f[3], f[4]};
	return true;
}

/* Calls fn for each row of the given kinds (a space-separated list). */
static void each_row(const char *kinds, void (*fn)(const struct row *))
{
	FILE *f = fopen(HOSTILE_TABLE, "r");
	char text[4096];
	unsigned line = 0;

	if (f == NULL)
		fail_msg("cannot open %s: %s", HOSTILE_TABLE, strerror(errno));
	while (fgets(text, sizeof(text), f) != NULL) {
		struct row r;
		char want[64];

		line++;
		if (!split_row(text, line, &r))
			continue;
		sfmt(want, sizeof(want), " %s ", r.kind);
		if (strstr(kinds, want) != NULL) {
			g_rows++;
			fn(&r);
		}
	}
	fclose(f);
}

/* Says what a row got; a row that got something else counts as bad. */
static void verdict(const struct row *r, const char *got, const char *why)
{
	bool ok = strcmp(got, r->expected) == 0 && why == NULL;

	print_message("%s %u %-9s %s: %s%s%s\n", ok ? "ok  " : "BAD ", r->line, r->kind,
		      r->desc, got, why ? "; " : "", why ? why : "");
	if (!ok)
		g_bad++;
}

static void assert_rows_ok(void)
{
	unsigned bad = g_bad;

	g_bad = 0;
	if (bad != 0)
		fail_msg("%u rows of %s did not get their answer", bad, HOSTILE_TABLE);
}

/* ---- PAM rows ----------------------------------------------------------- */

static const char *pam_name(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:
		return "PAM_SUCCESS";
	case PAM_AUTH_ERR:
		return "PAM_AUTH_ERR";
	case PAM_SERVICE_ERR:
		return "PAM_SERVICE_ERR";
	case PAM_AUTHINFO_UNAVAIL:
		return "PAM_AUTHINFO_UNAVAIL";
	case PAM_USER_UNKNOWN:
		return "PAM_USER_UNKNOWN";
	case PAM_MAXTRIES:
		return "PAM_MAXTRIES";
	case PAM_IGNORE:
		return "PAM_IGNORE";
	case PAM_CONV_ERR:
		return "PAM_CONV_ERR";
	case PAM_SYSTEM_ERR:
		return "PAM_SYSTEM_ERR";
	default:
		return "another PAM code";
	}
}

static struct record g_base, g_other;

static void put_user(const char *user, const struct record *r)
{
	char path[PATH_MAX];

	db_path("default", path, sizeof(path));
	put_record_at(path, g_uid, user, r);
}

static void get_user(const char *user, struct record *r)
{
	struct store_opts o = {.owner = g_uid, .lock_timeout_ms = 2000, .sync = false};
	char path[PATH_MAX];
	struct store *s = NULL;
	struct totp_err e;

	db_path("default", path, sizeof(path));
	assert_int_equal(gdbm_store_open(path, STORE_READ, &o, &s, &e), 0);
	assert_int_equal(store_get(s, user, r, &e), 1);
	store_close(s);
}

/* Both users as at the start: the user's generator and another user's,
 * with its own secret, ready. */
static void fresh_users(void)
{
	ready_record(&g_base, OTP_TOTP, 0);
	g_base.gen[0].counter = step_now() - 10;
	put_user(g_user, &g_base);
	ready_record(&g_other, OTP_TOTP, 0);
	memcpy(g_other.gen[0].secret, OTHER_SECRET, sizeof(OTHER_SECRET));
	g_other.gen[0].counter = step_now() - 10;
	put_user(OTHER_USER, &g_other);
}

/* What a wrong answer may change: the failure count and the failure
 * event, which moves the sequence and change date on.  Returns why the
 * record is otherwise different, or NULL. */
static const char *only_failure_counted(const struct record *before,
					const struct record *after)
{
	struct record a = *after;

	if (a.failures != before->failures + 1)
		return "the failure count did not go up by one";
	if (a.sequence <= before->sequence)
		return "the sequence did not move";
	a.failures = before->failures;
	a.last_failure = before->last_failure;
	a.sequence = before->sequence;
	a.change_date_ms = before->change_date_ms;
	a.locked_until = before->locked_until;
	if (memcmp(&a, before, sizeof(a)) != 0)
		return "the record changed beyond its failure count";
	return NULL;
}

static void prompt_row(const struct row *r)
{
	char code[OTP_CODE_BUF], other[OTP_CODE_BUF];
	struct record after, other_after;
	struct bytes in;
	const char *why = NULL;
	int rc;

	settle();
	fresh_users();
	code_at(&g_base, step_now(), code);
	code_at(&g_other, step_now(), other);
	in = input_of(r->input, code, other, r->line);
	answers(1, in.p);
	rc = run("");
	get_user(g_user, &after);
	get_user(OTHER_USER, &other_after);
	if (strcmp(r->kind, "control") == 0) {
		if (after.gen[0].counter != step_now())
			why = "the success was not recorded";
	} else {
		why = only_failure_counted(&g_base, &after);
	}
	if (why == NULL && memcmp(&other_after, &g_other, sizeof(g_other)) != 0)
		why = "the other user's record changed";
	if (why == NULL && g_s.n_prompts != 1)
		why = "not prompted once";
	if (why == NULL && strcmp(r->log, "-") != 0 && logged(r->log) == NULL)
		why = "the log does not say it";
	if (why == NULL && strlen(code) > 0 && in.len > 0 && logged(in.p) != NULL &&
	    strcmp(in.p, "") != 0)
		why = "the answer reached the log";
	if (why != NULL && strcmp(why, "the log does not say it") == 0)
		dump_log();
	verdict(r, pam_name(rc), why);
	free(in.p);
}

/* The whole store file, to tell that nothing at all changed. */
static char *store_bytes(size_t *len)
{
	char path[PATH_MAX];
	FILE *f;
	char *buf;
	long n;

	db_path("default", path, sizeof(path));
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Runs one stack and checks that the store file did not change. */
static void untouched_row(const struct row *r, const char *user, const char *args,
			  bool expect_prompt)
{
	char code[OTP_CODE_BUF];
	size_t len0, len1;
	char *before, *after;
	const char *why = NULL;
	int rc;

	settle();
	fresh_users();
	code_at(&g_base, step_now(), code);
	before = store_bytes(&len0);
	answers(1, code);
	totp_line(g_stack, sizeof(g_stack), "required", args);
	rc = run_stack_as(g_stack, user, 0);
	after = store_bytes(&len1);
	if (len0 != len1 || memcmp(before, after, len0) != 0)
		why = "the store changed";
	if (why == NULL && (g_s.n_prompts == 1) != expect_prompt)
		why = expect_prompt ? "not prompted (an unknown user must be)"
				    : "prompted for a code";
	if (why == NULL && strcmp(r->log, "-") != 0 && logged(r->log) == NULL) {
		dump_log();
		why = "the log does not say it";
	}
	if (why == NULL && logged(code) != NULL)
		why = "the code reached the log";
	/* an unknown user's name may be a password typed in the wrong place,
	 * or fields forged for a log reader: it is never logged (issue 18) */
	if (why == NULL && strcmp(user, g_user) != 0 && strlen(user) >= 4 &&
	    logged(user) != NULL) {
		dump_log();
		why = "an unknown user's name reached the log";
	}
	verdict(r, pam_name(rc), why);
	free(before);
	free(after);
}

static void pam_user_row(const struct row *r)
{
	struct bytes in = input_of(r->input, "", "", r->line);

	/* unknown users are prompted like anyone (no enrollment probing) */
	untouched_row(r, in.p, "", true);
	free(in.p);
}

static void pam_realm_row(const struct row *r)
{
	struct bytes in = input_of(r->input, "", "", r->line);
	char args[1024];

	sfmt(args, sizeof(args), "realm=%s", in.p);
	untouched_row(r, g_user, args, false);
	free(in.p);
}

static void pam_conf_row(const struct row *r)
{
	struct bytes in = input_of(r->input, "", "", r->line);
	char path[PATH_MAX + 16], args[PATH_MAX + 64];
	FILE *f;

	sfmt(path, sizeof(path), "%s/hostile.conf", g_dir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(in.p, 1, in.len, f), in.len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0644), 0);
	sfmt(args, sizeof(args), "conf=%s realm=corp", path);
	untouched_row(r, g_user, args, false);
	unlink(path);
	free(in.p);
}

/* ---- lib rows -------------------------------------------------------------- */

static const char *result(int rc, const struct totp_err *e)
{
	return rc == 0 ? "ok" : totp_reason_name(e->reason);
}

static void lib_row(const struct row *r)
{
	struct bytes in = input_of(r->input, "", "", r->line);
	struct totp_err e;
	struct cfg c;
	int rc;

	totp_err_clear(&e);
	cfg_defaults(&c);
	if (strcmp(r->kind, "key") == 0) {
		rc = user_name_check(in.p, &e);
	} else if (strcmp(r->kind, "path") == 0) {
		char out[CFG_PATH_MAX];

		assert_int_equal(cfg_set(&c, "store", "/var/lib/totp/%u.db", "test", &e),
				 0);
		rc = location_db_path(&c, in.p, "/home/x", out, sizeof(out), &e);
		/* what is accepted stays one file in the folder */
		if (rc == 0 && (strncmp(out, "/var/lib/totp/", 14) != 0 ||
				strchr(out + 14, '/') != NULL || out[14] == '.'))
			fail_msg("%s escaped its folder: %s", r->desc, out);
	} else if (strcmp(r->kind, "lookup") == 0) {
		struct account a;

		rc = account_lookup(in.p, &a, &e);
	} else if (strcmp(r->kind, "realm") == 0) {
		rc = cfg_realm_check(in.p, &e);
	} else { /* conf */
		strcpy(c.realm, "corp");
		rc = cfg_load_buffer(&c, in.p, in.len, "hostile.conf", &e);
	}
	if (rc != 0 && e.msg[0] == '\0')
		verdict(r, result(rc, &e), "a refusal without a message");
	else
		verdict(r, result(rc, &e), NULL);
	free(in.p);
}

/* ---- the tests ------------------------------------------------------------- */

static void test_prompt(void **state)
{
	(void)state;
	each_row(" control prompt ", prompt_row);
	assert_rows_ok();
}

static void test_pam_user(void **state)
{
	(void)state;
	each_row(" pam-user ", pam_user_row);
	assert_rows_ok();
}

static void test_pam_realm(void **state)
{
	(void)state;
	each_row(" pam-realm ", pam_realm_row);
	assert_rows_ok();
}

static void test_pam_conf(void **state)
{
	(void)state;
	if (g_uid != 0) /* pam_totp.conf must be root's */
		skip();
	each_row(" pam-conf ", pam_conf_row);
	assert_rows_ok();
}

static void test_lib(void **state)
{
	(void)state;
	each_row(" key path lookup realm conf ", lib_row);
	assert_rows_ok();
}

static int group_teardown(void **state)
{
	print_message("%u rows of %s tried\n", g_rows, HOSTILE_TABLE);
	return harness_group_teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_prompt, reset),
	    cmocka_unit_test_setup(test_pam_user, reset),
	    cmocka_unit_test_setup(test_pam_realm, reset),
	    cmocka_unit_test_setup(test_pam_conf, reset),
	    cmocka_unit_test(test_lib),
	};

	if (make_test_dir() < 0) {
		printf("no writable home folder for a user store: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests_name("hostile", tests, harness_group_setup,
					   group_teardown);
}
