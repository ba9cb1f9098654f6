/* import: reading a source file safely, and the ready record it makes. */
#include "config.h"

#include <crypt.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "import.h"
#include "import_ga.h"
#include "import_oath.h"
#include "login.h"
#include "gdbm_store.h"
#include "store.h"

struct dir {
	char path[64];
};

static int make_dir(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	strcpy(d->path, "/tmp/test_import.XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int remove_dir(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	free(d);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static void test_reads_the_file_unchanged(void **state)
{
	struct dir *d = *state;
	char path[128], *buf;
	size_t len;
	struct totp_err err;
	struct stat before, after;

	snprintf(path, sizeof(path), "%s/ga", d->path);
	put(path, "SECRET\n\" TOTP_AUTH\n");
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(import_read_file(path, 1024, &buf, &len, &err), 0);
	assert_int_equal(len, 19);
	assert_string_equal(buf, "SECRET\n\" TOTP_AUTH\n");
	import_buf_free(buf, len);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(before.st_mode, after.st_mode);
	assert_int_equal(before.st_size, after.st_size);
	assert_int_equal(before.st_mtim.tv_sec, after.st_mtim.tv_sec);
	assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);

	snprintf(path, sizeof(path), "%s/empty", d->path);
	put(path, "");
	assert_int_equal(import_read_file(path, 1024, &buf, &len, &err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	import_buf_free(buf, len);
	import_buf_free(NULL, 0);
}

static void test_refusals(void **state)
{
	struct dir *d = *state;
	char path[128], link[128], *buf = (char *)1;
	size_t len = 1;
	struct totp_err err;

	snprintf(path, sizeof(path), "%s/big", d->path);
	put(path, "0123456789");
	assert_int_equal(import_read_file(path, 9, &buf, &len, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	assert_null(buf);
	assert_int_equal(len, 0);

	snprintf(link, sizeof(link), "%s/link", d->path);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(import_read_file(link, 1024, &buf, &len, &err), -1);
	assert_int_equal(err.reason, TOTP_R_SYMLINK);

	assert_int_equal(import_read_file(d->path, 1024, &buf, &len, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_REGULAR);

	snprintf(path, sizeof(path), "%s/fifo", d->path);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(import_read_file(path, 1024, &buf, &len, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_REGULAR);

	snprintf(path, sizeof(path), "%s/missing", d->path);
	assert_int_equal(import_read_file(path, 1024, &buf, &len, &err), -1);
	assert_int_equal(err.reason, TOTP_R_NOT_FOUND);
	assert_non_null(strstr(err.msg, path));

	if (geteuid() != 0) {
		snprintf(path, sizeof(path), "%s/unreadable", d->path);
		put(path, "x");
		assert_int_equal(chmod(path, 0), 0);
		assert_int_equal(import_read_file(path, 1024, &buf, &len, &err), -1);
		assert_int_equal(err.reason, TOTP_R_PERMISSION);
	}
}

static struct import_entry sample(void)
{
	struct import_entry e;

	memset(&e, 0, sizeof(e));
	e.params = (struct otp_params){OTP_HOTP, OTP_SHA1, 6, 30};
	memcpy(e.secret, "12345678901234567890", 20);
	e.secret_len = 20;
	e.counter = 42;
	e.window = 4;
	e.last_used = 1718261075;
	return e;
}

static void test_record_is_ready(void **state)
{
	struct import_entry e = sample();
	struct record r;
	struct totp_err err;

	(void)state;
	strcpy(e.codes[0], "12345678");
	strcpy(e.codes[1], "87654321");
	e.n_codes = 2;
	assert_int_equal(import_to_record(&e, 0, 1700000000123, &r, &err), 0);
	assert_int_equal(r.gen[0].state, RECORD_READY);
	assert_int_equal(r.gen[0].params.type, OTP_HOTP);
	assert_int_equal(r.gen[0].params.digits, 6);
	assert_int_equal(r.gen[0].secret_len, 20);
	assert_memory_equal(r.gen[0].secret, "12345678901234567890", 20);
	assert_int_equal(r.gen[0].counter, 42);
	assert_int_equal(r.gen[0].window, 4);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.locked_until, 0);
	assert_int_equal(r.gen[0].created, 1700000000);
	assert_int_equal(r.change_date_ms, 1700000000123);
	assert_int_equal(r.sequence, 2); /* registered, verified */
	assert_int_equal(r.last_success.time, 1718261075);
	/* scratch codes are hashed, never kept plain */
	assert_int_equal(r.emergency_count, 2);
	assert_int_equal(emergency_remaining(&r), 2);
	for (unsigned i = 0; i < 2; i++) {
		char setting[RECORD_HASH_MAX];
		uint8_t digest[RECORD_DIGEST_LEN];

		assert_null(
		    memmem(&r.emergency[i], sizeof(r.emergency[i]), "12345678", 8));
		assert_null(
		    memmem(&r.emergency[i], sizeof(r.emergency[i]), "87654321", 8));
		record_code_setting(&r.emergency[i], setting);
		assert_int_equal(
		    record_digest_from_crypt(crypt(e.codes[i], setting), digest), 0);
		assert_memory_equal(digest, r.emergency[i].digest, RECORD_DIGEST_LEN);
	}
	assert_int_equal(emergency_use(&r, "87654321", &err), 1);
	assert_int_equal(emergency_use(&r, "87654321", &err), 0);
	record_wipe(&r);
}

static void test_record_keeps_the_sequence(void **state)
{
	struct import_entry e = sample();
	struct record r;
	struct totp_err err;

	(void)state;
	e.window = 99; /* over the maximum: clamped */
	e.n_codes = 0;
	assert_int_equal(import_to_record(&e, 7, 1000, &r, &err), 0);
	assert_int_equal(r.sequence, 9);
	assert_int_equal(r.gen[0].window, OTP_WINDOW_MAX);
	assert_int_equal(r.emergency_count, 0);
	record_wipe(&r);
}

static void test_record_refusals(void **state)
{
	struct import_entry e = sample();
	struct record r;
	struct totp_err err;
	static const uint8_t zero[SECRET_MAX];

	(void)state;
	e.params.digits = 9;
	assert_int_equal(import_to_record(&e, 0, 1000, &r, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	e = sample();
	e.secret_len = 0;
	assert_int_equal(import_to_record(&e, 0, 1000, &r, &err), -1);
	assert_non_null(strstr(err.msg, "secret"));
	e = sample();
	e.n_codes = IMPORT_CODES_MAX + 1;
	assert_int_equal(import_to_record(&e, 0, 1000, &r, &err), -1);
	assert_non_null(strstr(err.msg, "scratch codes"));
	assert_memory_equal(r.gen[0].secret, zero, sizeof(zero));
	e = sample();
	strcpy(e.codes[0], "1234"); /* not an emergency code */
	e.n_codes = 1;
	assert_int_equal(import_to_record(&e, 0, 1000, &r, &err), -1);
	assert_memory_equal(r.gen[0].secret, zero, sizeof(zero));
}

/* ---- an imported generator logs in, and a used code stays used ---------- */

struct realm {
	struct cfg c;
	struct store_location loc;
};

static void realm_in(const struct dir *d, struct realm *rm)
{
	cfg_defaults(&rm->c);
	memset(&rm->loc, 0, sizeof(rm->loc));
	snprintf(rm->loc.where, sizeof(rm->loc.where), "%s/store/default.db", d->path);
	rm->loc.owner = geteuid();
}

static void store_entry(const struct realm *rm, const char *user,
			const struct import_entry *e, int64_t now_ms)
{
	struct store_opts opts = {
	    .owner = rm->loc.owner, .lock_timeout_ms = 2000, .sync = true};
	struct store *s = NULL;
	struct record r;
	struct totp_err err;

	if (import_to_record(e, 0, now_ms, &r, &err) < 0)
		fail_msg("import_to_record: %s", err.msg);
	if (gdbm_store_open(rm->loc.where, STORE_CREATE, &opts, &s, &err) < 0)
		fail_msg("store: %s", err.msg);
	assert_int_equal(store_put(s, user, &r, &err), 0);
	store_close(s);
	record_wipe(&r);
}

static enum login_outcome try_code(const struct realm *rm, const char *user,
				   const char *code, int64_t now_ms)
{
	struct login_event ev = {"test", NULL, now_ms, false};
	struct login_result res;
	struct totp_err err;

	if (login_check(&rm->c, &rm->loc, user, code, &ev, &res, &err) < 0)
		fail_msg("login_check: %s", err.msg);
	return res.outcome;
}

static void code_at(const struct import_entry *e, uint64_t factor, char out[OTP_CODE_BUF])
{
	struct totp_err err;

	if (otp_code(e->secret, e->secret_len, &e->params, factor, out, &err) < 0)
		fail_msg("otp_code: %s", err.msg);
}

static void parse_ga_text(const char *text, struct import_entry *e)
{
	struct totp_err err;

	if (import_ga_parse(text, strlen(text), e, &err) < 0)
		fail_msg("import_ga_parse: %s", err.msg);
}

static void test_ga_totp_logs_in_once(void **state)
{
	struct dir *d = *state;
	struct realm rm;
	struct import_entry e;
	char code[OTP_CODE_BUF];
	int64_t now = 1718261075;
	uint64_t step = (uint64_t)now / 30;

	realm_in(d, &rm);
	parse_ga_text("J6LXMVYK6WRS437QOZNWOLZXGU\n\" RATE_LIMIT 3 30\n\" WINDOW_SIZE 3\n"
		      "\" DISALLOW_REUSE\n\" TOTP_AUTH\n71367368\n81630876\n",
		      &e);
	store_entry(&rm, "gauser", &e, now * 1000);
	code_at(&e, step, code);
	assert_int_equal(try_code(&rm, "gauser", code, now * 1000), LOGIN_SUCCESS);
	/* the same code again, a second later: a replay */
	assert_int_equal(try_code(&rm, "gauser", code, now * 1000 + 1000),
			 LOGIN_WRONG_CODE);
	/* a scratch code works once */
	assert_int_equal(try_code(&rm, "gauser", "81630876", now * 1000 + 2000),
			 LOGIN_SUCCESS);
	assert_int_equal(try_code(&rm, "gauser", "81630876", now * 1000 + 3000),
			 LOGIN_WRONG_CODE);
	import_entry_wipe(&e);
}

static void test_ga_used_step_stays_used(void **state)
{
	struct dir *d = *state;
	struct realm rm;
	struct import_entry e;
	char text[256], code[OTP_CODE_BUF];
	int64_t now = 1718261075;
	uint64_t step = (uint64_t)now / 30;

	realm_in(d, &rm);
	/* the old module already accepted this step's code */
	snprintf(text, sizeof(text),
		 "J6LXMVYK6WRS437QOZNWOLZXGU\n\" DISALLOW_REUSE %llu\n\" TOTP_AUTH\n",
		 (unsigned long long)step);
	parse_ga_text(text, &e);
	store_entry(&rm, "gauser", &e, now * 1000);
	code_at(&e, step, code);
	assert_int_equal(try_code(&rm, "gauser", code, now * 1000), LOGIN_WRONG_CODE);
	code_at(&e, step + 1, code);
	assert_int_equal(try_code(&rm, "gauser", code, now * 1000), LOGIN_SUCCESS);
	import_entry_wipe(&e);
}

static void test_ga_hotp_counter(void **state)
{
	struct dir *d = *state;
	struct realm rm;
	struct import_entry e;
	char code0[OTP_CODE_BUF], code5[OTP_CODE_BUF];

	realm_in(d, &rm);
	parse_ga_text("NMMTD7WJLDOLJU5IPS3VJRSUGM\n\" WINDOW_SIZE 5\n\" HOTP_COUNTER 5\n",
		      &e);
	store_entry(&rm, "hotpuser", &e, 1000);
	code_at(&e, 4, code0); /* the module had accepted it already */
	code_at(&e, 5, code5);
	assert_int_equal(try_code(&rm, "hotpuser", code0, 2000), LOGIN_WRONG_CODE);
	assert_int_equal(try_code(&rm, "hotpuser", code5, 3000), LOGIN_SUCCESS);
	assert_int_equal(try_code(&rm, "hotpuser", code5, 4000), LOGIN_WRONG_CODE);
	import_entry_wipe(&e);
}

static void test_oath_counters_carried_over(void **state)
{
	struct dir *d = *state;
	struct realm rm;
	struct import_oath_result r;
	struct totp_err err;
	char text[512], stamp[32], code[OTP_CODE_BUF];
	time_t now = time(NULL);
	struct tm tm;
	uint64_t step = (uint64_t)now / 30;

	realm_in(d, &rm);
	/* as liboath leaves it: alice's counter 3 (969429) was accepted;
	 * carol's code of this very step was accepted just now */
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SL", &tm);
	snprintf(
	    text, sizeof(text),
	    "HOTP alice - 3132333435363738393031323334353637383930 3 969429 "
	    "2024-06-13T06:44:35L\n"
	    "HOTP/T30 carol - 3132333435363738393031323334353637383930 0 123456 %s\n",
	    stamp);
	assert_int_equal(import_oath_parse(text, strlen(text), &r, &err), 0);
	assert_int_equal(r.n_problems, 0);
	assert_int_equal(r.n_entries, 2);
	store_entry(&rm, "alice", &r.entries[0], (int64_t)now * 1000);
	store_entry(&rm, "carol", &r.entries[1], (int64_t)now * 1000);
	assert_int_equal(try_code(&rm, "alice", "969429", (int64_t)now * 1000),
			 LOGIN_WRONG_CODE);
	assert_int_equal(try_code(&rm, "alice", "338314", (int64_t)now * 1000),
			 LOGIN_SUCCESS); /* counter 4 */
	code_at(&r.entries[1], step, code);
	assert_int_equal(try_code(&rm, "carol", code, (int64_t)now * 1000),
			 LOGIN_WRONG_CODE);
	code_at(&r.entries[1], step + 1, code);
	assert_int_equal(try_code(&rm, "carol", code, (int64_t)now * 1000),
			 LOGIN_SUCCESS);
	import_oath_result_free(&r);
}

static int init_otp(void **state)
{
	struct totp_err err;

	(void)state;
	return otp_init(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_reads_the_file_unchanged, make_dir,
					    remove_dir),
	    cmocka_unit_test_setup_teardown(test_refusals, make_dir, remove_dir),
	    cmocka_unit_test(test_record_is_ready),
	    cmocka_unit_test(test_record_keeps_the_sequence),
	    cmocka_unit_test(test_record_refusals),
	    cmocka_unit_test_setup_teardown(test_ga_totp_logs_in_once, make_dir,
					    remove_dir),
	    cmocka_unit_test_setup_teardown(test_ga_used_step_stays_used, make_dir,
					    remove_dir),
	    cmocka_unit_test_setup_teardown(test_ga_hotp_counter, make_dir, remove_dir),
	    cmocka_unit_test_setup_teardown(test_oath_counters_carried_over, make_dir,
					    remove_dir),
	};

	return cmocka_run_group_tests_name("import", tests, init_otp, NULL);
}
