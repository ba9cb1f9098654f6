/* cfg: defaults, every key, the file format, arguments, the file checks,
 * store paths and the enrollment policy. */
#include "config.h"

#include "location.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cfg.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---------------------------------------------------------------- */

static int load(struct cfg *c, const char *text, struct totp_err *e)
{
	return cfg_load_buffer(c, text, strlen(text), "test.conf", e);
}

static void assert_config_error(const struct totp_err *e, const char *part1,
				const char *part2)
{
	assert_int_equal(e->reason, TOTP_R_CONFIG);
	if (strstr(e->msg, part1) == NULL || (part2 && strstr(e->msg, part2) == NULL))
		fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", e->msg, part1,
			 part2 ? part2 : "");
}

/* Sets key=value through cfg_set and as a file line; both must refuse. */
static void assert_refused(const char *key, const char *value)
{
	struct cfg c, before;
	struct totp_err e;
	char text[512];

	cfg_defaults(&c);
	before = c;
	if (cfg_set(&c, key, value, "here:3", &e) != -1)
		fail_msg("%s = \"%s\" was accepted", key, value);
	assert_config_error(&e, "here:3", key);
	assert_memory_equal(&c, &before, sizeof(c));

	snprintf(text, sizeof(text), "# a comment\n\n%s = \"%s\"\n", key, value);
	assert_int_equal(load(&c, text, &e), -1);
	assert_config_error(&e, "test.conf:3", key);
}

static void assert_accepted(struct cfg *c, const char *key, const char *value)
{
	struct totp_err e;

	if (cfg_set(c, key, value, "here:1", &e) != 0)
		fail_msg("%s = \"%s\" refused: %s", key, value, e.msg);
}

/* ---- defaults and single keys ---------------------------------------------- */

static void test_defaults(void **state)
{
	struct cfg c;

	(void)state;
	memset(&c, 0x55, sizeof(c));
	cfg_defaults(&c);
	assert_string_equal(c.realm, "default");
	assert_string_equal(c.conf_path, SYSCONFDIR "/security/pam_totp.conf");
	assert_string_equal(cfg_default_path(), SYSCONFDIR "/security/pam_totp.conf");
	assert_string_equal(c.issuer, "");
	assert_int_equal(c.store, CFG_STORE_USER);
	assert_string_equal(c.store_path, "%h/.config/totp/%r.db");
	assert_int_equal(c.params.type, OTP_TOTP);
	assert_int_equal(c.params.alg, OTP_SHA1);
	assert_int_equal(c.params.digits, 6);
	assert_int_equal(c.params.period, 30);
	assert_int_equal(c.window, 1);
	assert_int_equal(c.max_failures, 5);
	assert_int_equal(c.lockout, 300);
	assert_int_equal(c.emergency_codes, 5);
	assert_int_equal(c.lock_timeout_ms, 2000);
	assert_false(c.sync_login);
	assert_int_equal(c.allow_algorithms, 7);
	assert_int_equal(c.allow_digits, (1 << 6) | (1 << 8));
	assert_int_equal(c.allow_types, 3);
	assert_int_equal(c.allow_periods[0], 30);
	assert_int_equal(c.allow_periods[1], 60);
	assert_int_equal(c.allow_periods[2], 0);
	assert_false(c.nullok);
	assert_false(c.echo_code);
	assert_false(c.debug);
	assert_false(c.use_first_pass);
	assert_false(c.try_first_pass);
	assert_false(c.forward_pass);
	assert_string_equal(c.prompt, "Verification code: ");
}

static const struct {
	const char *key;
	unsigned long min, max;
} int_keys[] = {
    {"digits", 6, 8},		{"period", 1, 3600},   {"window", 0, 10},
    {"max_failures", 0, 1000},	{"lockout", 0, 86400}, {"emergency_codes", 0, 10},
    {"lock_timeout", 1, 60000},
};

static unsigned long int_value(const struct cfg *c, const char *key)
{
	if (strcmp(key, "digits") == 0)
		return c->params.digits;
	if (strcmp(key, "period") == 0)
		return c->params.period;
	if (strcmp(key, "window") == 0)
		return c->window;
	if (strcmp(key, "max_failures") == 0)
		return c->max_failures;
	if (strcmp(key, "lockout") == 0)
		return c->lockout;
	if (strcmp(key, "emergency_codes") == 0)
		return c->emergency_codes;
	return (unsigned long)c->lock_timeout_ms;
}

static void test_integer_keys(void **state)
{
	static const char *const garbage[] = {
	    "",
	    "30x",
	    "x30",
	    "-1",
	    "+5",
	    " 5",
	    "5 5",
	    "0x10",
	    "1.5",
	    "1e3",
	    "99999999999999999999",
	    "18446744073709551616",
	    "4294967302",
	};
	char num[32];

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(int_keys); i++) {
		struct cfg c;

		cfg_defaults(&c);
		snprintf(num, sizeof(num), "%lu", int_keys[i].min);
		assert_accepted(&c, int_keys[i].key, num);
		assert_int_equal(int_value(&c, int_keys[i].key), int_keys[i].min);
		snprintf(num, sizeof(num), "%lu", int_keys[i].max);
		assert_accepted(&c, int_keys[i].key, num);
		assert_int_equal(int_value(&c, int_keys[i].key), int_keys[i].max);
		snprintf(num, sizeof(num), "0%lu",
			 int_keys[i].max); /* leading zero: decimal */
		assert_accepted(&c, int_keys[i].key, num);
		assert_int_equal(int_value(&c, int_keys[i].key), int_keys[i].max);

		snprintf(num, sizeof(num), "%lu", int_keys[i].max + 1);
		assert_refused(int_keys[i].key, num);
		if (int_keys[i].min > 0) {
			snprintf(num, sizeof(num), "%lu", int_keys[i].min - 1);
			assert_refused(int_keys[i].key, num);
		}
		for (size_t g = 0; g < ARRAY_LEN(garbage); g++)
			assert_refused(int_keys[i].key, garbage[g]);
	}
}

static void test_flag_values(void **state)
{
	static const char *const yes[] = {"yes", "true", "1", "YES", "True"};
	static const char *const no[] = {"no", "false", "0", "No"};
	static const char *const flags[] = {
	    "nullok",	      "echo_code",    "debug",	   "use_first_pass",
	    "try_first_pass", "forward_pass", "sync_login"};
	struct cfg c;

	(void)state;
	for (size_t f = 0; f < ARRAY_LEN(flags); f++) {
		for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
			cfg_defaults(&c);
			assert_accepted(&c, flags[f], no[i % ARRAY_LEN(no)]);
			assert_accepted(&c, flags[f], yes[i]);
		}
		assert_refused(flags[f], "maybe");
		assert_refused(flags[f], "");
		assert_refused(flags[f], "yes please");
		assert_refused(flags[f], "2");
	}
	cfg_defaults(&c);
	assert_accepted(&c, "nullok", "yes");
	assert_accepted(&c, "debug", "true");
	assert_accepted(&c, "sync_login", "1");
	assert_true(c.nullok);
	assert_true(c.debug);
	assert_true(c.sync_login);
	assert_false(c.echo_code);
	assert_accepted(&c, "nullok", "no");
	assert_false(c.nullok);
}

static void test_type_and_algorithm(void **state)
{
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_accepted(&c, "type", "hotp");
	assert_int_equal(c.params.type, OTP_HOTP);
	assert_accepted(&c, "type", "TOTP");
	assert_int_equal(c.params.type, OTP_TOTP);
	assert_accepted(&c, "algorithm", "sha256");
	assert_int_equal(c.params.alg, OTP_SHA256);
	assert_accepted(&c, "algorithm", "SHA512");
	assert_int_equal(c.params.alg, OTP_SHA512);
	assert_refused("type", "motp");
	assert_refused("type", "");
	assert_refused("algorithm", "md5");
	assert_refused("algorithm", "sha1 ");
}

static void test_issuer_and_prompt(void **state)
{
	static const char *const keys[] = {"issuer", "prompt"};
	char big[200];
	struct cfg c;

	(void)state;
	for (size_t k = 0; k < 2; k++) {
		cfg_defaults(&c);
		assert_accepted(&c, keys[k], "Acme Corp #1");
		assert_accepted(&c, keys[k], "Zürich \xe2\x82\xac \xf0\x9f\x94\x91");
		memset(big, 'a', 127);
		big[127] = '\0';
		assert_accepted(&c, keys[k], big);
		assert_int_equal(strlen(k == 0 ? c.issuer : c.prompt), 127);
		big[127] = 'a';
		big[128] = '\0';
		assert_refused(keys[k], big);
		assert_refused(keys[k], "");
		assert_refused(keys[k], "tab\there");
		assert_refused(keys[k], "esc\x1b[31m");
		assert_refused(keys[k], "del\x7f");
		assert_refused(keys[k], "bad \xff utf8");
		assert_refused(keys[k], "overlong \xc0\xaf");
		assert_refused(keys[k], "cut \xe2\x82");
		assert_refused(keys[k], "surrogate \xed\xa0\x80");
		assert_refused(keys[k], "c1 \xc2\x85");
	}
	cfg_defaults(&c);
	assert_accepted(&c, "issuer", "ZITADEL");
	assert_accepted(&c, "prompt", "OTP: ");
	assert_string_equal(c.issuer, "ZITADEL");
	assert_string_equal(c.prompt, "OTP: ");
}

static void test_store_values(void **state)
{
	char big[CFG_PATH_MAX + 10];
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_accepted(&c, "store", "system");
	assert_int_equal(c.store, CFG_STORE_SYSTEM);
	assert_string_equal(c.store_path, LOCALSTATEDIR "/lib/totp/%r.db");
	assert_accepted(&c, "store", "user");
	assert_int_equal(c.store, CFG_STORE_USER);
	assert_string_equal(c.store_path, "%h/.config/totp/%r.db");
	assert_accepted(&c, "store", "/srv/totp/%r/%u.db");
	assert_int_equal(c.store, CFG_STORE_PATH);
	assert_string_equal(c.store_path, "/srv/totp/%r/%u.db");
	assert_accepted(&c, "store", "%h/.totp-%r.db");
	assert_accepted(&c, "store", "/srv/100%%/%u");
	assert_string_equal(c.store_path, "/srv/100%%/%u");

	assert_refused("store", "users");
	assert_refused("store", "");
	assert_refused("store", "relative/%u.db");
	assert_refused("store", "~/x.db");
	assert_refused("store", "/srv/%d.db");
	assert_refused("store", "/srv/%s");
	assert_refused("store", "/srv/x%");
	assert_refused("store", "/srv/a b/%u");
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	assert_refused("store", big);
}

static void test_allow_lists(void **state)
{
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_accepted(&c, "allow_algorithms", "sha256,sha512");
	assert_int_equal(c.allow_algorithms, (1 << OTP_SHA256) | (1 << OTP_SHA512));
	assert_accepted(&c, "allow_algorithms", "sha1 SHA256");
	assert_int_equal(c.allow_algorithms, (1 << OTP_SHA1) | (1 << OTP_SHA256));
	assert_accepted(&c, "allow_algorithms", "sha512, sha1");
	assert_int_equal(c.allow_algorithms, (1 << OTP_SHA1) | (1 << OTP_SHA512));
	assert_accepted(&c, "allow_types", "hotp");
	assert_int_equal(c.allow_types, 1 << OTP_HOTP);
	assert_accepted(&c, "allow_digits", "7,6");
	assert_int_equal(c.allow_digits, (1 << 6) | (1 << 7));
	assert_accepted(&c, "allow_periods", "15,30,30,90,3600");
	assert_int_equal(c.allow_periods[0], 15);
	assert_int_equal(c.allow_periods[1], 30);
	assert_int_equal(c.allow_periods[2], 90);
	assert_int_equal(c.allow_periods[3], 3600);
	assert_int_equal(c.allow_periods[4], 0);
	assert_accepted(&c, "allow_periods", "1,2,3,4,5,6,7");
	assert_int_equal(c.allow_periods[6], 7);
	assert_int_equal(c.allow_periods[7], 0);

	assert_refused("allow_algorithms", "sha1,md5");
	assert_refused("allow_algorithms", "");
	assert_refused("allow_algorithms", ", ,");
	assert_refused("allow_types", "totp;hotp");
	assert_refused("allow_digits", "6,9");
	assert_refused("allow_digits", "5");
	assert_refused("allow_digits", "6x");
	assert_refused("allow_periods", "0");
	assert_refused("allow_periods", "3601");
	assert_refused("allow_periods", "1,2,3,4,5,6,7,8");
	assert_refused("allow_periods", "30,-60");
	assert_refused(
	    "allow_algorithms",
	    "sha1,aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
}

static void test_realm_names(void **state)
{
	static const char *const good[] = {"default", "a", "9", "Work.example-1_x"};
	static const char *const bad[] = {"",	 ".a",	"-a",	"_a",  "a/b",
					  "a b", "a%b", "../x", "a\n", "\xc3\xa9"};
	char name[CFG_REALM_MAX + 2];
	struct totp_err e;
	struct cfg c;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(good); i++)
		assert_int_equal(cfg_realm_check(good[i], &e), 0);
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(cfg_realm_check(bad[i], &e), -1);
		assert_int_equal(e.reason, TOTP_R_INVALID);
	}
	memset(name, 'r', CFG_REALM_MAX);
	name[CFG_REALM_MAX] = '\0';
	assert_int_equal(cfg_realm_check(name, &e), 0);
	cfg_defaults(&c);
	assert_accepted(&c, "realm", name);
	assert_string_equal(c.realm, name);
	name[CFG_REALM_MAX] = 'r';
	name[CFG_REALM_MAX + 1] = '\0';
	assert_int_equal(cfg_realm_check(name, &e), -1);
	assert_int_equal(cfg_set(&c, "realm", "a/b", "arg", &e), -1);
	assert_config_error(&e, "arg", "realm");
}

static void test_unknown_key(void **state)
{
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(cfg_set(&c, "windows", "1", "x.conf:2", &e), -1);
	assert_config_error(&e, "x.conf:2", "windows");
	assert_int_equal(load(&c, "window = 2\n\n\ncolour = blue\n", &e), -1);
	assert_config_error(&e, "test.conf:4", "colour");
}

/* ---- the file ----------------------------------------------------------------- */

static const char three_part[] = "# top level: every realm\n"
				 "issuer = Acme\n"
				 "window = 2\n"
				 "\n"
				 "[work]\n"
				 "digits = 8\n"
				 "store = system\n"
				 "  # indented comment\n"
				 "[home]\n"
				 "digits = 7\n"
				 "period = 60\n"
				 "window = 3\n";

static void test_file_sections(void **state)
{
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	snprintf(c.realm, sizeof(c.realm), "work");
	assert_int_equal(load(&c, three_part, &e), 0);
	assert_string_equal(c.issuer, "Acme");
	assert_int_equal(c.window, 2);
	assert_int_equal(c.params.digits, 8);
	assert_int_equal(c.store, CFG_STORE_SYSTEM);
	assert_int_equal(c.params.period, 30); /* [home] not applied */

	cfg_defaults(&c);
	snprintf(c.realm, sizeof(c.realm), "home");
	assert_int_equal(load(&c, three_part, &e), 0);
	assert_string_equal(c.issuer, "Acme");
	assert_int_equal(c.window, 3); /* the section overrides the top level */
	assert_int_equal(c.params.digits, 7);
	assert_int_equal(c.params.period, 60);
	assert_int_equal(c.store, CFG_STORE_USER);

	/* the default realm: top level only, no section needed */
	cfg_defaults(&c);
	assert_int_equal(load(&c, three_part, &e), 0);
	assert_string_equal(c.issuer, "Acme");
	assert_int_equal(c.window, 2);
	assert_int_equal(c.params.digits, 6);
	assert_int_equal(c.params.period, 30);
}

static void test_default_section_and_missing_realm(void **state)
{
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(load(&c, "window = 2\n[default]\nwindow = 4\n", &e), 0);
	assert_int_equal(c.window, 4);

	/* a named realm without a section is refused (a typo must not open a
	 * fresh, empty store) */
	cfg_defaults(&c);
	snprintf(c.realm, sizeof(c.realm), "typo");
	assert_int_equal(load(&c, three_part, &e), -1);
	assert_config_error(&e, "test.conf", "typo");
	/* an empty section is enough */
	cfg_defaults(&c);
	snprintf(c.realm, sizeof(c.realm), "work");
	assert_int_equal(load(&c, "[work]\n", &e), 0);
	/* an empty file is fine for the default realm */
	cfg_defaults(&c);
	assert_int_equal(cfg_load_buffer(&c, "", 0, "empty.conf", &e), 0);
	assert_int_equal(c.window, 1);
}

static void test_other_sections_are_checked(void **state)
{
	static const char text[] = "window = 2\n"
				   "[work]\n"
				   "digits = 8\n"
				   "[home]\n"
				   "\n"
				   "\n"
				   "digits = 9\n";
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	snprintf(c.realm, sizeof(c.realm), "work");
	assert_int_equal(load(&c, text, &e), -1);
	assert_config_error(&e, "test.conf:7", "digits");
}

static void test_error_names_line(void **state)
{
	static const char text[] = "# pam_totp.conf\n"
				   "issuer = Acme\n"
				   "\n"
				   "[work]\n"
				   "digits = 8\n"
				   "period = 30\n"
				   "window = 30x\n"
				   "lockout = 60\n";
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(load(&c, text, &e), -1);
	assert_config_error(&e, "test.conf:7", "window");
	assert_non_null(strstr(e.msg, "30x"));
}

static void test_duplicate_section(void **state)
{
	static const char text[] = "[work]\n"
				   "digits = 8\n"
				   "[home]\n"
				   "[work]\n";
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(load(&c, text, &e), -1);
	assert_config_error(&e, "test.conf:4", "[work]");
	assert_non_null(strstr(e.msg, "line 1"));
}

static void test_many_sections(void **state)
{
	char *text = malloc(64 * 40);
	size_t len = 0;
	struct totp_err e;
	struct cfg c;

	(void)state;
	assert_non_null(text);
	for (int i = 0; i < 40; i++)
		len += (size_t)sprintf(text + len, "[r%d]\nwindow = %d\n", i, i % 10);
	cfg_defaults(&c);
	snprintf(c.realm, sizeof(c.realm), "r33");
	assert_int_equal(cfg_load_buffer(&c, text, len, "many.conf", &e), 0);
	assert_int_equal(c.window, 3);
	len += (size_t)sprintf(text + len, "[r17]\n");
	assert_int_equal(cfg_load_buffer(&c, text, len, "many.conf", &e), -1);
	assert_config_error(&e, "many.conf:81", "line 35");
	free(text);
}

static void test_malformed_lines(void **state)
{
	static const struct {
		const char *text, *where, *what;
	} rows[] = {
	    {"window = 1\nwindow 2\n", "test.conf:2", "window 2"},
	    {"nullok\n", "test.conf:1", "nullok"},
	    {"= 3\n", "test.conf:1", "key"},
	    {"\n[work\n", "test.conf:2", "section"},
	    {"[work] digits = 8\n", "test.conf:1", "section"},
	    {"[wo rk]\n", "test.conf:1", "[wo rk]"},
	    {"[]\n", "test.conf:1", "realm"},
	    {"[.hidden]\n", "test.conf:1", ".hidden"},
	    {"[../x]\n", "test.conf:1", "realm"},
	    {"realm = work\n", "test.conf:1", "realm"},
	    {"conf = /etc/x.conf\n", "test.conf:1", "conf"},
	    {"issuer = \"Acme\n", "test.conf:1", "issuer"},
	    {"issuer = \"Acme\" Corp\n", "test.conf:1", "issuer"},
	    {"a\nb\nc\nwin dow = 1\n", "test.conf:1", "a"},
	};
	struct totp_err e;
	struct cfg c;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		cfg_defaults(&c);
		assert_int_equal(load(&c, rows[i].text, &e), -1);
		assert_config_error(&e, rows[i].where, rows[i].what);
	}
}

static void test_long_line_and_nul(void **state)
{
	char *text = malloc(8192);
	struct totp_err e;
	struct cfg c;

	(void)state;
	assert_non_null(text);
	/* 4095 bytes is the longest line */
	strcpy(text, "window = 1\n# ");
	memset(text + 13, 'x', 4095 - 2);
	strcpy(text + 13 + 4093, "\nwindow = 2\n");
	cfg_defaults(&c);
	assert_int_equal(load(&c, text, &e), 0);
	assert_int_equal(c.window, 2);
	/* one more is refused, naming the line */
	strcpy(text, "window = 1\n# ");
	memset(text + 13, 'x', 4095 - 1);
	strcpy(text + 13 + 4094, "\nwindow = 2\n");
	assert_int_equal(load(&c, text, &e), -1);
	assert_config_error(&e, "test.conf:2", "longer");
	/* the last line, without a newline */
	strcpy(text, "window = 1\n# ");
	memset(text + 13, 'x', 5000);
	text[13 + 5000] = '\0';
	assert_int_equal(load(&c, text, &e), -1);
	assert_config_error(&e, "test.conf:2", "longer");
	free(text);

	cfg_defaults(&c);
	assert_int_equal(
	    cfg_load_buffer(&c, "window = 1\nwin\0dow = 2\n", 23, "nul.conf", &e), -1);
	assert_config_error(&e, "nul.conf:2", "NUL");
}

static void test_values_quotes_comments_crlf(void **state)
{
	static const char text[] = "issuer = \"Acme #1\"\r\n"
				   "prompt = \"Code, please: \"   # keeps the space\r\n"
				   "window = 3 # three steps\r\n"
				   "\t digits\t=\t8\t\r\n"
				   "allow_periods = 30, 60 90\r\n"
				   "[work] # the work realm\r\n";
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(load(&c, text, &e), 0);
	assert_string_equal(c.issuer, "Acme #1");
	assert_string_equal(c.prompt, "Code, please: ");
	assert_int_equal(c.window, 3);
	assert_int_equal(c.params.digits, 8);
	assert_int_equal(c.allow_periods[2], 90);
	/* unquoted, a blank and '#' start a comment; a '#' right after a value
	 * is part of it */
	assert_int_equal(load(&c, "issuer = Acme #1\n", &e), 0);
	assert_string_equal(c.issuer, "Acme");
	assert_int_equal(load(&c, "issuer = Acme#1\n", &e), 0);
	assert_string_equal(c.issuer, "Acme#1");
}

/* ---- pam.d arguments ---------------------------------------------------------- */

static void test_args_flags_and_values(void **state)
{
	const char *argv[] = {"nullok",		  "debug=yes",	    "echo_code=no",
			      "window=4",	  "prompt=Token: ", "allow_digits=6,7",
			      "sync_login=false", "issuer=A=B"};
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	c.echo_code = true;
	assert_int_equal(cfg_apply_args(&c, (int)ARRAY_LEN(argv), argv, &e), 0);
	assert_true(c.nullok);
	assert_true(c.debug);
	assert_false(c.echo_code);
	assert_int_equal(c.window, 4);
	assert_string_equal(c.prompt, "Token: ");
	assert_int_equal(c.allow_digits, (1 << 6) | (1 << 7));
	assert_false(c.sync_login);
	assert_string_equal(c.issuer, "A=B");
	{
		const char *off[] = {"nullok=no"};
		assert_int_equal(cfg_apply_args(&c, 1, off, &e), 0);
		assert_false(c.nullok);
	}
}

static void test_args_refused(void **state)
{
	static const struct {
		const char *arg, *what;
	} rows[] = {
	    {"nulok", "nulok"},
	    {"window", "window"},
	    {"window=", "window"},
	    {"window=11", "window"},
	    {"nullok=", "nullok"},
	    {"nullok=maybe", "nullok"},
	    {"=3", "key=value"},
	    {"", "key=value"},
	    {"realm=../x", "realm"},
	    {"conf=relative.conf", "conf"},
	    {"store=%u.db", "store"},
	    {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1", "key=value"},
	};
	struct totp_err e;
	struct cfg c;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(rows); i++) {
		const char *argv[] = {"debug", rows[i].arg};

		cfg_defaults(&c);
		assert_int_equal(cfg_apply_args(&c, 2, argv, &e), -1);
		assert_config_error(&e, "pam.d argument 2", rows[i].what);
	}
	{
		const char *argv[] = {"debug", NULL};
		assert_int_equal(cfg_apply_args(&c, 2, argv, &e), -1);
		assert_config_error(&e, "pam.d argument 2", "missing");
	}
}

static void test_prescan(void **state)
{
	const char *argv[] = {"window=4", "realm=work", "nullok", "conf=/tmp/x.conf"};
	const char *bad[] = {"realm=work", "colour=blue"};
	const char *bad_realm[] = {"realm=-x"};
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(cfg_prescan_args(&c, 4, argv, &e), 0);
	assert_string_equal(c.realm, "work");
	assert_string_equal(c.conf_path, "/tmp/x.conf");
	assert_int_equal(c.window, 1); /* not yet */
	assert_false(c.nullok);
	assert_int_equal(cfg_prescan_args(&c, 2, bad, &e), -1);
	assert_config_error(&e, "pam.d argument 2", "colour");
	assert_int_equal(cfg_prescan_args(&c, 1, bad_realm, &e), -1);
	assert_config_error(&e, "pam.d argument 1", "realm");
}

static void test_args_override_file(void **state)
{
	const char *argv[] = {"realm=work", "digits=6", "nullok"};
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(cfg_prescan_args(&c, 3, argv, &e), 0);
	assert_int_equal(load(&c,
			      "nullok = no\n"
			      "[work]\ndigits = 8\nwindow = 5\n",
			      &e),
			 0);
	assert_int_equal(c.params.digits, 8);
	assert_false(c.nullok);
	assert_int_equal(cfg_apply_args(&c, 3, argv, &e), 0);
	assert_int_equal(c.params.digits, 6);
	assert_int_equal(c.window, 5);
	assert_true(c.nullok);
}

/* ---- cfg_load_file ------------------------------------------------------------- */

struct tmp {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_cfg.XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->path, sizeof(t->path), "%s/pam_totp.conf", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmp *t = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
	if (system(cmd) != 0)
		return -1;
	free(t);
	return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void conf_at(struct cfg *c, const char *path)
{
	cfg_defaults(c);
	snprintf(c->conf_path, sizeof(c->conf_path), "%s", path);
}

static void test_file_missing(void **state)
{
	struct tmp *t = *state;
	struct totp_err e;
	struct cfg c;

	conf_at(&c, t->path);
	assert_int_equal(cfg_load_file(&c, true, true, &e), 0);
	assert_int_equal(c.window, 1);
	assert_int_equal(cfg_load_file(&c, true, false, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_FOUND);
	assert_non_null(strstr(e.msg, t->path));
	/* a missing file does not define a named realm */
	snprintf(c.realm, sizeof(c.realm), "work");
	assert_int_equal(cfg_load_file(&c, true, true, &e), -1);
	assert_config_error(&e, t->path, "work");
}

static void test_file_loads(void **state)
{
	struct tmp *t = *state;
	struct totp_err e;
	struct cfg c;

	write_file(t->path, "window = 3\n[work]\ndigits = 8\n", 0644);
	conf_at(&c, t->path);
	snprintf(c.realm, sizeof(c.realm), "work");
	/* as root the file is root's; otherwise only the unchecked load works */
	assert_int_equal(cfg_load_file(&c, geteuid() == 0, false, &e), 0);
	assert_int_equal(c.window, 3);
	assert_int_equal(c.params.digits, 8);

	write_file(t->path, "window = 3\n\n[work]\ndigits = 9\n", 0644);
	assert_int_equal(cfg_load_file(&c, false, false, &e), -1);
	assert_config_error(&e, "pam_totp.conf:4", "digits");
}

static void test_file_symlink(void **state)
{
	struct tmp *t = *state;
	char target[160];
	struct totp_err e;
	struct cfg c;

	snprintf(target, sizeof(target), "%s/real.conf", t->dir);
	write_file(target, "window = 3\n", 0644);
	assert_int_equal(symlink(target, t->path), 0);
	conf_at(&c, t->path);
	assert_int_equal(cfg_load_file(&c, false, true, &e), -1);
	assert_int_equal(e.reason, TOTP_R_SYMLINK);
	assert_int_equal(c.window, 1);
}

static void test_file_not_regular(void **state)
{
	struct tmp *t = *state;
	struct totp_err e;
	struct cfg c;

	assert_int_equal(mkdir(t->path, 0755), 0);
	conf_at(&c, t->path);
	assert_int_equal(cfg_load_file(&c, false, true, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_REGULAR);
	assert_int_equal(rmdir(t->path), 0);
	/* a FIFO must not hang the load */
	assert_int_equal(mkfifo(t->path, 0644), 0);
	assert_int_equal(cfg_load_file(&c, false, true, &e), -1);
	assert_int_equal(e.reason, TOTP_R_NOT_REGULAR);
}

static void test_file_mode_and_owner(void **state)
{
	struct tmp *t = *state;
	struct totp_err e;
	struct cfg c;

	conf_at(&c, t->path);
	write_file(t->path, "window = 3\n", 0664);
	assert_int_equal(cfg_load_file(&c, true, true, &e), -1);
	assert_int_equal(e.reason, TOTP_R_BAD_MODE);
	assert_int_equal(c.window, 1);
	assert_int_equal(chmod(t->path, 0646), 0);
	assert_int_equal(cfg_load_file(&c, true, true, &e), -1);
	assert_int_equal(e.reason, TOTP_R_BAD_MODE);
	/* not checked unless asked */
	assert_int_equal(cfg_load_file(&c, false, true, &e), 0);
	assert_int_equal(c.window, 3);

	conf_at(&c, t->path);
	assert_int_equal(chmod(t->path, 0644), 0);
	if (geteuid() == 0)
		assert_int_equal(chown(t->path, 65534, 65534), 0);
	assert_int_equal(cfg_load_file(&c, true, true, &e), -1);
	assert_int_equal(e.reason, TOTP_R_BAD_OWNER);
	assert_int_equal(c.window, 1);
}

static void test_file_too_big(void **state)
{
	struct tmp *t = *state;
	struct totp_err e;
	struct cfg c;
	FILE *f = fopen(t->path, "w");

	assert_non_null(f);
	for (int i = 0; i < 100000; i++)
		fputs("# padding\n", f); /* 1,000,000 bytes: fine */
	assert_int_equal(fclose(f), 0);
	conf_at(&c, t->path);
	assert_int_equal(cfg_load_file(&c, false, false, &e), 0);
	f = fopen(t->path, "a");
	assert_non_null(f);
	for (int i = 0; i < 5000; i++)
		fputs("# padding\n", f); /* past 1 MiB */
	assert_int_equal(fclose(f), 0);
	assert_int_equal(cfg_load_file(&c, false, false, &e), -1);
	assert_config_error(&e, t->path, "larger");
}

static void test_load_module(void **state)
{
	struct tmp *t = *state;
	char conf[160], missing[160];
	const char *argv[] = {"realm=work", conf, "window=0"};
	const char *argv_missing[] = {missing, "nullok"};
	const char *argv_bad[] = {missing, "window=x"};
	struct totp_err e;
	struct cfg c;

	snprintf(conf, sizeof(conf), "conf=%s", t->path);
	snprintf(missing, sizeof(missing), "conf=%s/none.conf", t->dir);
	write_file(t->path, "issuer = Acme\n[work]\nwindow = 5\ndigits = 8\n", 0644);
	if (geteuid() == 0) {
		assert_int_equal(cfg_load_module(&c, 3, argv, &e), 0);
		assert_string_equal(c.realm, "work");
		assert_string_equal(c.issuer, "Acme");
		assert_int_equal(c.params.digits, 8);
		assert_int_equal(c.window, 0);
		assert_int_equal(chown(t->path, 65534, 0), 0);
	}
	/* the module insists on a root-owned file */
	assert_int_equal(cfg_load_module(&c, 3, argv, &e), -1);
	assert_int_equal(e.reason, TOTP_R_BAD_OWNER);
	/* no file: defaults and arguments */
	assert_int_equal(cfg_load_module(&c, 2, argv_missing, &e), 0);
	assert_true(c.nullok);
	assert_string_equal(c.realm, "default");
	assert_int_equal(cfg_load_module(&c, 2, argv_bad, &e), -1);
	assert_config_error(&e, "pam.d argument 2", "window");
}

/* ---- store paths and policy ------------------------------------------------------ */

static void test_store_db_path(void **state)
{
	char out[CFG_PATH_MAX];
	struct totp_err e;
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_int_equal(
	    location_db_path(&c, "alice", "/home/alice", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/home/alice/.config/totp/default.db");
	assert_accepted(&c, "store", "system");
	assert_accepted(&c, "realm", "work");
	assert_int_equal(
	    location_db_path(&c, "alice", "/home/alice", out, sizeof(out), &e), 0);
	assert_string_equal(out, LOCALSTATEDIR "/lib/totp/work.db");
	assert_accepted(&c, "store", "/srv/100%%/%r/%u.db");
	assert_int_equal(location_db_path(&c, "bob.smith", NULL, out, sizeof(out), &e),
			 0);
	assert_string_equal(out, "/srv/100%/work/bob.smith.db");
	assert_accepted(&c, "store", "%h/%u%%%r");
	assert_int_equal(location_db_path(&c, "al", "/h", out, sizeof(out), &e), 0);
	assert_string_equal(out, "/h/al%work");

	/* a user name must stay one path component */
	static const char *const users[] = {"../x", "-x", ".x", "a/b", "", "..", "/root"};
	assert_accepted(&c, "store", "/srv/%u.db");
	for (size_t i = 0; i < ARRAY_LEN(users); i++) {
		assert_int_equal(
		    location_db_path(&c, users[i], "/h", out, sizeof(out), &e), -1);
		assert_int_equal(e.reason, TOTP_R_INVALID);
		assert_string_equal(out, "");
	}
	assert_int_equal(location_db_path(&c, NULL, "/h", out, sizeof(out), &e), -1);
	/* a user name not in the path is not checked: it is only a key */
	assert_accepted(&c, "store", "system");
	assert_int_equal(location_db_path(&c, "-odd", "/h", out, sizeof(out), &e), 0);

	/* the home directory must be absolute */
	assert_accepted(&c, "store", "user");
	assert_int_equal(location_db_path(&c, "al", "home/al", out, sizeof(out), &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(location_db_path(&c, "al", "", out, sizeof(out), &e), -1);
	assert_int_equal(location_db_path(&c, "al", NULL, out, sizeof(out), &e), -1);

	/* it must fit */
	assert_int_equal(location_db_path(&c, "al", "/home/al", out, 20, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(location_db_path(&c, "al", "/home/al", out, 0, &e), -1);
	assert_int_equal(
	    location_db_path(&c, "al", "/h", out, strlen("/h/.config/totp/work.db"), &e),
	    -1);
	assert_int_equal(location_db_path(&c, "al", "/h", out,
					  strlen("/h/.config/totp/work.db") + 1, &e),
			 0);

	/* a template set by hand is still checked */
	snprintf(c.store_path, sizeof(c.store_path), "/srv/%%x");
	assert_int_equal(location_db_path(&c, "al", "/h", out, sizeof(out), &e), -1);
	assert_int_equal(e.reason, TOTP_R_CONFIG);
	snprintf(c.store_path, sizeof(c.store_path), "/srv/%%");
	assert_int_equal(location_db_path(&c, "al", "/h", out, sizeof(out), &e), -1);
	snprintf(c.store_path, sizeof(c.store_path), "srv/%%u");
	assert_int_equal(location_db_path(&c, "al", "/h", out, sizeof(out), &e), -1);
	assert_int_equal(e.reason, TOTP_R_CONFIG);
}

static void test_allows(void **state)
{
	struct otp_params p = {OTP_TOTP, OTP_SHA1, 6, 30};
	struct cfg c;

	(void)state;
	cfg_defaults(&c);
	assert_true(cfg_allows(&c, &p));
	p.period = 60;
	assert_true(cfg_allows(&c, &p));
	p.period = 45;
	assert_false(cfg_allows(&c, &p));
	p.type = OTP_HOTP; /* a period does not matter for HOTP */
	assert_true(cfg_allows(&c, &p));
	p.type = OTP_TOTP;
	p.period = 30;
	p.digits = 7;
	assert_false(cfg_allows(&c, &p));
	p.digits = 8;
	p.alg = OTP_SHA512;
	assert_true(cfg_allows(&c, &p));
	assert_accepted(&c, "allow_algorithms", "sha256");
	assert_false(cfg_allows(&c, &p));
	p.alg = OTP_SHA256;
	assert_true(cfg_allows(&c, &p));
	assert_accepted(&c, "allow_types", "hotp");
	assert_false(cfg_allows(&c, &p));
	p.type = OTP_HOTP;
	assert_true(cfg_allows(&c, &p));
	p.digits = 40;
	assert_false(cfg_allows(&c, &p));
	p.digits = 8;
	p.alg = (enum otp_alg)7;
	assert_false(cfg_allows(&c, &p));
}

int main(void)
{
#define T(f) cmocka_unit_test(f)
#define TT(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)
	const struct CMUnitTest tests[] = {
	    T(test_defaults),
	    T(test_integer_keys),
	    T(test_flag_values),
	    T(test_type_and_algorithm),
	    T(test_issuer_and_prompt),
	    T(test_store_values),
	    T(test_allow_lists),
	    T(test_realm_names),
	    T(test_unknown_key),
	    T(test_file_sections),
	    T(test_default_section_and_missing_realm),
	    T(test_other_sections_are_checked),
	    T(test_error_names_line),
	    T(test_duplicate_section),
	    T(test_many_sections),
	    T(test_malformed_lines),
	    T(test_long_line_and_nul),
	    T(test_values_quotes_comments_crlf),
	    T(test_args_flags_and_values),
	    T(test_args_refused),
	    T(test_prescan),
	    T(test_args_override_file),
	    TT(test_file_missing),
	    TT(test_file_loads),
	    TT(test_file_symlink),
	    TT(test_file_not_regular),
	    TT(test_file_mode_and_owner),
	    TT(test_file_too_big),
	    TT(test_load_module),
	    T(test_store_db_path),
	    T(test_allows),
	};
	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
