/* import_ga: files made by Debian's google-authenticator, and every refusal. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "import.h"
#include "import_ga.h"

/* tests/data/ga_*: written by `google-authenticator` (Debian's
 * libpam-google-authenticator 20191231-2), see tests/data/README. */
static const uint8_t totp_secret[16] = {0x4f, 0x97, 0x76, 0x57, 0x0a, 0xf5, 0xa3, 0x2e,
					0x6f, 0xf0, 0x76, 0x5b, 0x67, 0x2f, 0x37, 0x35};
static const uint8_t hotp_secret[16] = {0x6b, 0x19, 0x31, 0xfe, 0xc9, 0x58, 0xdc, 0xb4,
					0xd3, 0xa8, 0x7c, 0xb7, 0x54, 0xc6, 0x54, 0x33};
static const uint8_t totp60_secret[16] = {0x0c, 0x0a, 0x36, 0x88, 0x70, 0x4a, 0xa3, 0x3a,
					  0x0e, 0x02, 0x59, 0xe0, 0xdf, 0x4b, 0x22, 0x6d};

static void parse_ok(const char *text, struct import_entry *e)
{
	struct totp_err err;

	if (import_ga_parse(text, strlen(text), e, &err) < 0)
		fail_msg("refused: %s", err.msg);
}

/* Refused as a whole, the message naming `where` ("line 3:" or a phrase). */
static void parse_bad(const char *text, const char *where)
{
	struct import_entry e;
	struct totp_err err;
	static const uint8_t zero[SECRET_MAX];

	totp_err_clear(&err);
	assert_int_equal(import_ga_parse(text, strlen(text), &e, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	if (!strstr(err.msg, where))
		fail_msg("message \"%s\" does not name \"%s\"", err.msg, where);
	/* nothing of the secret is left in the output */
	assert_memory_equal(e.secret, zero, sizeof(zero));
	assert_int_equal(e.n_codes, 0);
}

static void test_debian_totp_file(void **state)
{
	struct import_entry e;
	struct totp_err err;
	size_t len;
	char *buf = fixture("ga_totp", IMPORT_GA_MAX, &len);
	static const char *codes[] = {"71367368", "81630876", "69904287", "72945778",
				      "84176827"};

	(void)state;
	assert_int_equal(import_ga_parse(buf, len, &e, &err), 0);
	import_buf_free(buf, len);
	assert_int_equal(e.params.type, OTP_TOTP);
	assert_int_equal(e.params.alg, OTP_SHA1);
	assert_int_equal(e.params.digits, 6);
	assert_int_equal(e.params.period, 30);
	assert_int_equal(e.window, 1); /* WINDOW_SIZE 3: one step each side */
	assert_int_equal(e.secret_len, 16);
	assert_memory_equal(e.secret, totp_secret, 16);
	assert_int_equal(e.counter, 0); /* DISALLOW_REUSE with no step used yet */
	assert_int_equal(e.n_codes, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_string_equal(e.codes[i], codes[i]);
	assert_string_equal(e.user, "");
	import_entry_wipe(&e);
	assert_int_equal(e.secret[0], 0);
	assert_int_equal(e.codes[0][0], 0);
}

static void test_debian_hotp_file(void **state)
{
	struct import_entry e;
	struct totp_err err;
	size_t len;
	char *buf = fixture("ga_hotp", IMPORT_GA_MAX, &len);

	(void)state;
	assert_int_equal(import_ga_parse(buf, len, &e, &err), 0);
	import_buf_free(buf, len);
	assert_int_equal(e.params.type, OTP_HOTP);
	assert_int_equal(e.params.digits, 6);
	assert_int_equal(e.counter, 1); /* HOTP_COUNTER 1: the next one accepted */
	assert_int_equal(e.window, 4);	/* WINDOW_SIZE 5: counter .. counter+4 */
	assert_memory_equal(e.secret, hotp_secret, 16);
	assert_int_equal(e.n_codes, 5);
	assert_string_equal(e.codes[0], "21110115");
	assert_string_equal(e.codes[4], "70215252");
	import_entry_wipe(&e);
}

static void test_debian_totp_step60_window17(void **state)
{
	struct import_entry e;
	struct totp_err err;
	size_t len;
	char *buf = fixture("ga_totp60", IMPORT_GA_MAX, &len);

	(void)state;
	assert_int_equal(import_ga_parse(buf, len, &e, &err), 0);
	import_buf_free(buf, len);
	assert_int_equal(e.params.type, OTP_TOTP);
	assert_int_equal(e.params.period, 60);
	assert_int_equal(e.window, 8); /* 17 codes: -8 .. +8 */
	assert_memory_equal(e.secret, totp60_secret, 16);
	assert_int_equal(e.n_codes, 10);
	assert_string_equal(e.codes[9], "45855249");
	import_entry_wipe(&e);
}

static void test_used_steps_carry_over(void **state)
{
	struct import_entry e;

	(void)state;
	/* the pam module appends each used step to DISALLOW_REUSE */
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" DISALLOW_REUSE 58000001 58000003 "
		 "58000002\n\" TOTP_AUTH\n",
		 &e);
	assert_int_equal(e.counter, 58000003);
	assert_int_equal(e.n_codes, 0);
}

static void test_window_mapping(void **state)
{
	struct import_entry e;

	(void)state;
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n", &e);
	assert_int_equal(e.window, 1); /* default 3 */
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE 1\n\" TOTP_AUTH\n", &e);
	assert_int_equal(e.window, 0);
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE 4\n\" TOTP_AUTH\n", &e);
	assert_int_equal(e.window, 1); /* -1..+2: the extra step ahead is lost */
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE 100\n\" TOTP_AUTH\n", &e);
	assert_int_equal(e.window, OTP_WINDOW_MAX);
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" HOTP_COUNTER 9\n", &e);
	assert_int_equal(e.window, 2); /* default 3: counter .. counter+2 */
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE 1\n\" HOTP_COUNTER 9\n", &e);
	assert_int_equal(e.window, 0);
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE 50\n\" HOTP_COUNTER 9\n",
		 &e);
	assert_int_equal(e.window, OTP_WINDOW_MAX);
}

static void test_type_as_the_module_decides(void **state)
{
	struct import_entry e;

	(void)state;
	/* HOTP_COUNTER of 1 or more wins over TOTP_AUTH */
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" HOTP_COUNTER 12\n", &e);
	assert_int_equal(e.params.type, OTP_HOTP);
	assert_int_equal(e.counter, 12);
	/* HOTP_COUNTER 0 is not counter-based for the module */
	parse_ok("J6LXMVYK6WRS437QOZNWOLZXGU\n\" HOTP_COUNTER 0\n\" TOTP_AUTH\n", &e);
	assert_int_equal(e.params.type, OTP_TOTP);
	assert_int_equal(e.counter, 0);
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" HOTP_COUNTER 0\n", "only ever accepted "
								     "scratch codes");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n12345678\n", "neither TOTP_AUTH");
}

static void test_lenient_where_the_module_is(void **state)
{
	struct import_entry e;

	(void)state;
	/* CRLF, blank lines, GA's own state options, no final newline,
	 * lower-case base32 with spaces */
	parse_ok(
	    "j6lx mvyk 6wrs 437q oznw olzx gu\r\n\r\n\" RATE_LIMIT 3 30 1700000000\r\n"
	    "\" TIME_SKEW 2\r\n\" RESETTING_TIME_SKEW 1+2 3+4\r\n\" STEP_SIZE 60\r\n"
	    "\" TOTP_AUTH\r\n\r\n12345678\r\n98765432",
	    &e);
	assert_int_equal(e.params.type, OTP_TOTP);
	assert_int_equal(e.params.period, 60);
	assert_memory_equal(e.secret, totp_secret, 16);
	assert_int_equal(e.n_codes, 2);
	assert_string_equal(e.codes[1], "98765432");
}

static void test_malformed_lines_are_named(void **state)
{
	(void)state;
	parse_bad("", "empty");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXG1\n\" TOTP_AUTH\n", "line 1:");
	parse_bad("\n\" TOTP_AUTH\n", "line 1:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\"TOTP_AUTH\n", "line 2:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\"\n", "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" \n", "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" totp_auth\n", "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTPAUTH\n", "line 2:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" HOTP_COUNTER x1\n",
		  "line 2: HOTP_COUNTER");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" HOTP_COUNTER\n",
		  "line 2: HOTP_COUNTER");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" HOTP_COUNTER 99999999999999999999999\n",
		  "line 2: HOTP_COUNTER");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" STEP_SIZE 61\n",
		  "line 3: STEP_SIZE");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" STEP_SIZE 0\n",
		  "line 3: STEP_SIZE");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" STEP_SIZE 30 60\n",
		  "line 3: STEP_SIZE");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE 0\n\" TOTP_AUTH\n",
		  "line 2: WINDOW_SIZE");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE 101\n\" TOTP_AUTH\n",
		  "line 2: WINDOW_SIZE");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" WINDOW_SIZE -3\n\" TOTP_AUTH\n",
		  "line 2: WINDOW_SIZE");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" DISALLOW_REUSE 1 two\n\" TOTP_AUTH\n",
		  "line 2: DISALLOW_REUSE");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" WINDOW_SIZE 3\n"
		  "\" WINDOW_SIZE 5\n",
		  "line 4: WINDOW_SIZE appears a second time");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\" TOTP_AUTH\n", "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" HOTP_COUNTER 1\n\" HOTP_COUNTER 2\n",
		  "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" STEP_SIZE 30\n\" STEP_SIZE 30\n",
		  "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" DISALLOW_REUSE\n\" DISALLOW_REUSE\n",
		  "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n12345678\n1234567\n",
		  "line 4:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n01234567\n", "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n1234567a\n", "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n123456789\n", "line 3:");
	parse_bad("J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n otp\n", "line 3:");
}

static void test_too_many_codes(void **state)
{
	char text[1024], want[64];
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof(text),
			     "J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n");
	for (unsigned i = 0; i <= IMPORT_CODES_MAX; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%u\n", 10000000 + i);
	/* two lines before the codes: the first one too many is line MAX + 3 */
	snprintf(want, sizeof(want), "line %u: more than %u scratch codes",
		 IMPORT_CODES_MAX + 3, IMPORT_CODES_MAX);
	parse_bad(text, want);
}

static void test_secret_line_too_long(void **state)
{
	char text[512];

	(void)state;
	memset(text, 'A', 300);
	strcpy(text + 300, "\n\" TOTP_AUTH\n");
	parse_bad(text, "line 1:");
	/* base32 of more than SECRET_MAX bytes */
	memset(text, 'A', 120);
	strcpy(text + 120, "\n\" TOTP_AUTH\n");
	parse_bad(text, "line 1:");
}

static void test_bounds_of_the_buffer(void **state)
{
	struct import_entry e;
	struct totp_err err;
	char *big;
	const char nul[] = "J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n\0"
			   "12345678\n";
	const char *text = "J6LXMVYK6WRS437QOZNWOLZXGU\n\" TOTP_AUTH\n12345678\n";

	(void)state;
	assert_int_equal(import_ga_parse(nul, sizeof(nul) - 1, &e, &err), -1);
	assert_int_equal(err.reason, TOTP_R_INVALID);
	assert_non_null(strstr(err.msg, "NUL"));

	big = calloc(1, IMPORT_GA_MAX + 2);
	assert_non_null(big);
	memset(big, '\n', IMPORT_GA_MAX + 1);
	assert_int_equal(import_ga_parse(big, IMPORT_GA_MAX + 1, &e, &err), -1);
	assert_non_null(strstr(err.msg, "over"));
	free(big);

	/* `len` is obeyed: the code after the cut is not read */
	assert_int_equal(import_ga_parse(text, strlen(text) - 9, &e, &err), 0);
	assert_int_equal(e.n_codes, 0);
	/* cut in the middle of a code: that line is malformed */
	assert_int_equal(import_ga_parse(text, strlen(text) - 3, &e, &err), -1);
	assert_non_null(strstr(err.msg, "line 3:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_debian_totp_file),
	    cmocka_unit_test(test_debian_hotp_file),
	    cmocka_unit_test(test_debian_totp_step60_window17),
	    cmocka_unit_test(test_used_steps_carry_over),
	    cmocka_unit_test(test_window_mapping),
	    cmocka_unit_test(test_type_as_the_module_decides),
	    cmocka_unit_test(test_lenient_where_the_module_is),
	    cmocka_unit_test(test_malformed_lines_are_named),
	    cmocka_unit_test(test_too_many_codes),
	    cmocka_unit_test(test_secret_line_too_long),
	    cmocka_unit_test(test_bounds_of_the_buffer),
	};

	return cmocka_run_group_tests_name("import_ga", tests, NULL, NULL);
}
