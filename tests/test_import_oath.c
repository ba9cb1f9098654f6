/* import_oath: users.oath fixtures, liboath's own updates, every report. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <oath.h>

#include "fixture.h"
#include "import.h"
#include "import_oath.h"

/* RFC 4226's secret, "12345678901234567890" */
static const uint8_t rfc_secret[20] = "12345678901234567890";
#define RFC_HEX "3132333435363738393031323334353637383930"
#define FIXTURE_TIME 1718261075 /* 2024-06-13T06:44:35 UTC, the fixtures' stamp */

static const struct import_entry *find(const struct import_oath_result *r,
				       const char *user)
{
	for (size_t i = 0; i < r->n_entries; i++)
		if (strcmp(r->entries[i].user, user) == 0)
			return &r->entries[i];
	fail_msg("no entry for %s", user);
	return NULL;
}

static void expect(const struct import_entry *e, unsigned line, enum otp_type type,
		   unsigned digits, unsigned period, uint64_t counter, int64_t last_used)
{
	assert_int_equal(e->line, line);
	assert_int_equal(e->params.type, type);
	assert_int_equal(e->params.alg, OTP_SHA1);
	assert_int_equal(e->params.digits, digits);
	assert_int_equal(e->params.period, period);
	assert_int_equal(e->counter, counter);
	assert_int_equal(e->last_used, last_used);
	assert_int_equal(e->window, 0);
	assert_int_equal(e->n_codes, 0);
	assert_int_equal(e->secret_len, 20);
	assert_memory_equal(e->secret, rfc_secret, 20);
}

static void test_every_type_and_counter(void **state)
{
	struct import_oath_result r;
	struct totp_err err;
	size_t len;
	char *buf = fixture("users.oath", IMPORT_OATH_MAX, &len);

	(void)state;
	assert_int_equal(import_oath_parse(buf, len, &r, &err), 0);
	import_buf_free(buf, len);
	assert_int_equal(r.n_problems, 0);
	assert_int_equal(r.n_entries, 8);
	assert_string_equal(r.entries[0].user, "alice"); /* file order */
	assert_string_equal(r.entries[7].user, "hana");
	/* counter 3 was accepted (its code is the last OTP): 4 is next */
	expect(find(&r, "alice"), 2, OTP_HOTP, 6, 30, 4, FIXTURE_TIME);
	expect(find(&r, "bob"), 3, OTP_HOTP, 8, 30, 0, 0);
	expect(find(&r, "carol"), 5, OTP_TOTP, 6, 30, 0, 0);
	expect(find(&r, "dave"), 6, OTP_TOTP, 8, 60, FIXTURE_TIME / 60, FIXTURE_TIME);
	expect(find(&r, "erin"), 7, OTP_TOTP, 7, 30, FIXTURE_TIME / 30 - 1, FIXTURE_TIME);
	/* a starting counter nobody used yet: still next */
	expect(find(&r, "frank"), 8, OTP_HOTP, 6, 30, 7, 0);
	expect(find(&r, "gus"), 10, OTP_HOTP, 6, 30, 1, FIXTURE_TIME);
	expect(find(&r, "hana"), 11, OTP_TOTP, 6, 30, 0, 0);
	import_oath_result_free(&r);
	assert_null(r.entries);
	assert_int_equal(r.n_entries, 0);
}

static void expect_problem(const struct import_oath_result *r, size_t i, unsigned line,
			   const char *words)
{
	assert_true(i < r->n_problems);
	assert_int_equal(r->problems[i].line, line);
	if (!strstr(r->problems[i].msg, words))
		fail_msg("line %u: \"%s\" does not say \"%s\"", line, r->problems[i].msg,
			 words);
}

static void test_malformed_lines_reported(void **state)
{
	struct import_oath_result r;
	struct totp_err err;
	size_t len;
	char *buf = fixture("users-bad.oath", IMPORT_OATH_MAX, &len);

	(void)state;
	assert_int_equal(import_oath_parse(buf, len, &r, &err), 0);
	import_buf_free(buf, len);
	/* alice's second line is her second generator (issue 17) */
	assert_int_equal(r.n_entries, 3);
	assert_string_equal(r.entries[0].user, "alice");
	assert_int_equal(r.entries[0].line, 2);
	assert_string_equal(r.entries[0].name, "");
	assert_string_equal(r.entries[1].user, "alice");
	assert_int_equal(r.entries[1].line, 5);
	assert_string_equal(r.entries[1].name, "oath2");
	assert_string_equal(r.entries[2].user, "quinn");
	assert_int_equal(r.entries[2].line, 15);
	assert_string_equal(r.entries[2].name, "");
	assert_int_equal(r.n_problems, 12);
	expect_problem(&r, 0, 3, "HOTP/E/9 is not a pam_oath type");
	expect_problem(&r, 1, 4, "password column");
	expect_problem(&r, 2, 6, "hex");
	expect_problem(&r, 3, 7, "hex");
	expect_problem(&r, 4, 8, "has 3 field(s)");
	expect_problem(&r, 5, 9, "without its time");
	expect_problem(&r, 6, 10, "position");
	expect_problem(&r, 7, 11, "counter");
	expect_problem(&r, 8, 12, "timestamp");
	expect_problem(&r, 9, 13, "TOTP is not a pam_oath type");
	expect_problem(&r, 10, 14, "user name");
	expect_problem(&r, 11, 16, "hex");
	import_oath_result_free(&r);
}

static void parse_text(const char *text, struct import_oath_result *r)
{
	struct totp_err err;

	if (import_oath_parse(text, strlen(text), r, &err) < 0)
		fail_msg("refused: %s", err.msg);
}

static void test_small_cases(void **state)
{
	struct import_oath_result r;
	struct totp_err err;
	const char nul[] =
	    "HOTP a - " RFC_HEX "\nHOTP b\0 - " RFC_HEX "\nHOTP c - " RFC_HEX;

	(void)state;
	parse_text("", &r);
	assert_int_equal(r.n_entries + r.n_problems, 0);
	parse_text("# only a comment\n\n   \n\t#x\n", &r);
	assert_int_equal(r.n_entries + r.n_problems, 0);
	/* CRLF and no final newline; extra columns ignored as liboath does */
	parse_text("HOTP\tann\t-\t" RFC_HEX "\t5\t123456\t2024-06-13T06:44:35L\textra\r\n"
		   "HOTP/T60 ben - " RFC_HEX,
		   &r);
	assert_int_equal(r.n_problems, 0);
	assert_int_equal(r.n_entries, 2);
	assert_int_equal(r.entries[0].counter, 6);
	assert_int_equal(r.entries[1].params.period, 60);
	import_oath_result_free(&r);
	/* a used counter at its very end cannot move on */
	parse_text("HOTP ann - " RFC_HEX " 18446744073709551615 1 2024-06-13T06:44:35L\n",
		   &r);
	assert_int_equal(r.n_entries, 0);
	expect_problem(&r, 0, 1, "end");
	import_oath_result_free(&r);
	parse_text("HOTP ann - " RFC_HEX " 18446744073709551616\n", &r);
	expect_problem(&r, 0, 1, "counter");
	import_oath_result_free(&r);
	parse_text("HOTP/T30 ann - " RFC_HEX " 99999999999 1 2024-06-13T06:44:35L\n", &r);
	expect_problem(&r, 0, 1, "position");
	import_oath_result_free(&r);
	parse_text("HOTP/T30 ann - " RFC_HEX " +2 1 2024-06-13T06:44:35L\n", &r);
	assert_int_equal(r.entries[0].counter, FIXTURE_TIME / 30 + 2);
	import_oath_result_free(&r);
	/* a NUL byte spoils its own line only */
	assert_int_equal(import_oath_parse(nul, sizeof(nul) - 1, &r, &err), 0);
	assert_int_equal(r.n_entries, 2);
	expect_problem(&r, 0, 2, "NUL");
	import_oath_result_free(&r);
	assert_int_equal(import_oath_parse(nul, IMPORT_OATH_MAX + 1, &r, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	assert_null(r.entries);
}

static void test_many_users_and_several_tokens(void **state)
{
	struct import_oath_result r;
	size_t cap = 200 * 64, n = 0;
	char *text = malloc(cap);

	(void)state;
	assert_non_null(text);
	for (unsigned i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, cap - n, "HOTP u%u - " RFC_HEX " %u\n", i,
				      i);
	/* u7 four times in all: generators default, oath2, oath3, oath4 */
	for (unsigned k = 0; k < 3; k++)
		n += (size_t)snprintf(text + n, cap - n, "HOTP u7 - " RFC_HEX "\n");
	/* u99 five times: too many, every line of u99 reported, none taken */
	for (unsigned k = 0; k < 4; k++)
		n += (size_t)snprintf(text + n, cap - n, "HOTP u99 - " RFC_HEX "\n");
	parse_text(text, &r);
	free(text);
	assert_int_equal(r.n_entries, 99 + 3);
	assert_int_equal(r.n_problems, 5);
	expect_problem(&r, 0, 100, "u99 is listed on 5 lines (the first on line 100)");
	expect_problem(&r, 1, 104, "at most 4 generators");
	expect_problem(&r, 4, 107, "u99");
	for (unsigned i = 0; i < 99; i++) {
		assert_int_equal(r.entries[i].line, i + 1);
		assert_int_equal(r.entries[i].counter, i);
		assert_string_equal(r.entries[i].name, "");
	}
	for (unsigned k = 0; k < 3; k++) {
		char want[8];

		snprintf(want, sizeof(want), "oath%u", k + 2);
		assert_string_equal(r.entries[99 + k].user, "u7");
		assert_int_equal(r.entries[99 + k].line, 101 + k);
		assert_string_equal(r.entries[99 + k].name, want);
	}
	import_oath_result_free(&r);
}

/* What liboath itself writes after a login is what we read back. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void test_after_liboath_logins(void **state)
{
	char dir[] = "/tmp/test_import_oath.XXXXXX", path[64], code[16];
	struct import_oath_result r;
	size_t len;
	char *buf;
	struct totp_err err;
	const struct import_entry *e;
	time_t before, after;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/users.oath", dir);
	write_file(path, "HOTP alice - " RFC_HEX "\nHOTP/T30 carol - " RFC_HEX "\n");
	assert_int_equal(oath_init(), OATH_OK);
	/* alice logs in with counter 2's code (window 5 from 0) */
	assert_int_equal(oath_hotp_generate((const char *)rfc_secret, 20, 2, 6, false,
					    OATH_HOTP_DYNAMIC_TRUNCATION, code),
			 OATH_OK);
	assert_int_equal(oath_authenticate_usersfile(path, "alice", code, 5, NULL, NULL),
			 OATH_OK);
	/* carol logs in with the current step's code */
	before = time(NULL);
	assert_int_equal(
	    oath_totp_generate((const char *)rfc_secret, 20, before, 30, 0, 6, code),
	    OATH_OK);
	assert_int_equal(oath_authenticate_usersfile(path, "carol", code, 1, NULL, NULL),
			 OATH_OK);
	after = time(NULL);
	oath_done();

	assert_int_equal(import_read_file(path, IMPORT_OATH_MAX, &buf, &len, &err), 0);
	assert_int_equal(import_oath_parse(buf, len, &r, &err), 0);
	import_buf_free(buf, len);
	assert_int_equal(r.n_problems, 0);
	e = find(&r, "alice");
	assert_int_equal(e->counter, 3); /* 2 was used: 3 is next */
	assert_true(e->last_used >= before - 1 && e->last_used <= after);
	e = find(&r, "carol");
	assert_true(e->counter >= (uint64_t)before / 30 &&
		    e->counter <= (uint64_t)after / 30);
	import_oath_result_free(&r);
	unlink(path);
	rmdir(dir);
}

static int utc(void **state)
{
	(void)state;
	/* liboath stamps local time; the fixtures were written for UTC */
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_type_and_counter),
	    cmocka_unit_test(test_malformed_lines_reported),
	    cmocka_unit_test(test_small_cases),
	    cmocka_unit_test(test_many_users_and_several_tokens),
	    cmocka_unit_test(test_after_liboath_logins),
	};

	return cmocka_run_group_tests_name("import_oath", tests, utc, NULL);
}
