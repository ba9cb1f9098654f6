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
#include <unistd.h>

#include <cmocka.h>

#include "import.h"

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
	assert_int_equal(r.state, RECORD_READY);
	assert_int_equal(r.params.type, OTP_HOTP);
	assert_int_equal(r.params.digits, 6);
	assert_int_equal(r.secret_len, 20);
	assert_memory_equal(r.secret, "12345678901234567890", 20);
	assert_int_equal(r.counter, 42);
	assert_int_equal(r.window, 4);
	assert_int_equal(r.failures, 0);
	assert_int_equal(r.locked_until, 0);
	assert_int_equal(r.created, 1700000000);
	assert_int_equal(r.change_date_ms, 1700000000123);
	assert_int_equal(r.sequence, 2); /* registered, verified */
	assert_int_equal(r.last_success.time, 1718261075);
	/* scratch codes are hashed, never kept plain */
	assert_int_equal(r.emergency_count, 2);
	assert_int_equal(emergency_remaining(&r), 2);
	for (unsigned i = 0; i < 2; i++) {
		assert_null(strstr(r.emergency[i], "12345678"));
		assert_null(strstr(r.emergency[i], "87654321"));
		assert_string_equal(crypt(e.codes[i], r.emergency[i]), r.emergency[i]);
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
	assert_int_equal(r.window, OTP_WINDOW_MAX);
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
	assert_memory_equal(r.secret, zero, sizeof(zero));
	e = sample();
	strcpy(e.codes[0], "1234"); /* not an emergency code */
	e.n_codes = 1;
	assert_int_equal(import_to_record(&e, 0, 1000, &r, &err), -1);
	assert_memory_equal(r.secret, zero, sizeof(zero));
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
	};

	return cmocka_run_group_tests_name("import", tests, NULL, NULL);
}
