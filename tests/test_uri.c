/* uri: the seed's URI byte for byte, escaping, round trips, refusals. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "uri.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

#define SEED_B32 "TJOPWSDYILLHXFV4MLKNNJOWFG7VSDCK"
#define SEED_URI                                                                         \
	"otpauth://totp/ZITADEL:gigi@acme.zitadel.cloud?algorithm=SHA1&digits=6&issuer=" \
	"ZITADEL&period=30&secret=" SEED_B32

static const uint8_t seed_secret[20] = {0x9a, 0x5c, 0xfb, 0x48, 0x78, 0x42, 0xd6,
					0x7b, 0x96, 0xbc, 0x62, 0xd4, 0xd6, 0xa5,
					0xd6, 0x29, 0xbf, 0x59, 0x0c, 0x4a};

static void make_parts(struct uri_parts *u, const char *issuer, const char *account)
{
	memset(u, 0, sizeof(*u));
	u->params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	snprintf(u->issuer, sizeof(u->issuer), "%s", issuer);
	snprintf(u->account, sizeof(u->account), "%s", account);
	memcpy(u->secret, seed_secret, sizeof(seed_secret));
	u->secret_len = sizeof(seed_secret);
}

static void assert_same_parts(const struct uri_parts *a, const struct uri_parts *b)
{
	assert_int_equal(a->params.type, b->params.type);
	assert_int_equal(a->params.alg, b->params.alg);
	assert_int_equal(a->params.digits, b->params.digits);
	if (a->params.type == OTP_TOTP)
		assert_int_equal(a->params.period, b->params.period);
	else
		assert_int_equal(a->counter, b->counter);
	assert_string_equal(a->issuer, b->issuer);
	assert_string_equal(a->account, b->account);
	assert_int_equal(a->secret_len, b->secret_len);
	assert_memory_equal(a->secret, b->secret, a->secret_len);
}

/* Builds `u`, compares with `want` byte for byte, parses it back. */
static void build_expect(const struct uri_parts *u, const char *want)
{
	struct totp_err e;
	struct uri_parts back;
	char *s = NULL;

	assert_int_equal(uri_build(u, &s, &e), 0);
	assert_non_null(s);
	assert_string_equal(s, want);
	assert_int_equal(uri_parse(s, &back, &e), 0);
	assert_same_parts(u, &back);
	explicit_bzero(s, strlen(s));
	free(s);
}

static void test_seed_uri(void **state)
{
	struct totp_err e;
	struct uri_parts u;
	size_t n;

	(void)state;
	make_parts(&u, "ZITADEL", "gigi@acme.zitadel.cloud");
	/* the raw bytes come from the seed's base32, not from a table only */
	assert_int_equal(base32_decode(SEED_B32, u.secret, sizeof(u.secret), &n, &e), 0);
	assert_int_equal(n, 20);
	u.secret_len = n;
	build_expect(&u, SEED_URI);
}

static void test_seed_uri_parse(void **state)
{
	struct totp_err e;
	struct uri_parts u;

	(void)state;
	assert_int_equal(uri_parse(SEED_URI, &u, &e), 0);
	assert_int_equal(u.params.type, OTP_TOTP);
	assert_int_equal(u.params.alg, OTP_SHA1);
	assert_int_equal(u.params.digits, 6);
	assert_int_equal(u.params.period, 30);
	assert_string_equal(u.issuer, "ZITADEL");
	assert_string_equal(u.account, "gigi@acme.zitadel.cloud");
	assert_int_equal(u.secret_len, 20);
	assert_memory_equal(u.secret, seed_secret, 20);
}

static void test_escaping(void **state)
{
	static const struct {
		const char *issuer, *account, *want;
	} rows[] = {
	    {"ACME Co", "a b:c#d&e%f/g?h+i@j",
	     "otpauth://totp/"
	     "ACME%20Co:a%20b%3Ac%23d%26e%25f%2Fg%3Fh%2Bi@j?algorithm=SHA1&"
	     "digits=6&issuer=ACME%20Co&period=30&secret=" SEED_B32},
	    {"Ünïcödé Corp", "jürgen@例え.jp",
	     "otpauth://totp/"
	     "%C3%9Cn%C3%AFc%C3%B6d%C3%A9%20Corp:j%C3%BCrgen@%E4%BE%8B%E3%81%88.jp"
	     "?algorithm=SHA1&digits=6&issuer=%C3%9Cn%C3%AFc%C3%B6d%C3%A9%20Corp&period="
	     "30&"
	     "secret=" SEED_B32},
	    /* ':' never stays; '@' stays in the label only */
	    {"a:b@c", "x",
	     "otpauth://totp/"
	     "a%3Ab@c:x?algorithm=SHA1&digits=6&issuer=a%3Ab%40c&period=30&"
	     "secret=" SEED_B32},
	    {"100% & more/#?+", "u",
	     "otpauth://totp/100%25%20%26%20more%2F%23%3F%2B:u?algorithm=SHA1&digits=6&"
	     "issuer=100%25%20%26%20more%2F%23%3F%2B&period=30&secret=" SEED_B32},
	    {"-._~", "A-Z.a_z~0",
	     "otpauth://totp/"
	     "-._~:A-Z.a_z~0?algorithm=SHA1&digits=6&issuer=-._~&period=30&"
	     "secret=" SEED_B32},
	    /* no issuer: no prefix, no parameter */
	    {"", "alice",
	     "otpauth://totp/alice?algorithm=SHA1&digits=6&period=30&secret=" SEED_B32},
	    {"", "Foo:bar",
	     "otpauth://totp/"
	     "Foo%3Abar?algorithm=SHA1&digits=6&period=30&secret=" SEED_B32},
	    {"Foo", "Foo:bar",
	     "otpauth://totp/Foo:Foo%3Abar?algorithm=SHA1&digits=6&issuer=Foo&period=30&"
	     "secret=" SEED_B32},
	};
	struct uri_parts u;

	(void)state;
	for (size_t i = 0; i < NROWS(rows); i++) {
		make_parts(&u, rows[i].issuer, rows[i].account);
		build_expect(&u, rows[i].want);
	}
}

static void test_hotp_and_params(void **state)
{
	struct uri_parts u;

	(void)state;
	make_parts(&u, "ISS", "acct");
	u.params = (struct otp_params){OTP_HOTP, OTP_SHA256, 8, 0};
	u.counter = 42;
	build_expect(&u, "otpauth://hotp/ISS:acct?algorithm=SHA256&counter=42&digits=8&"
			 "issuer=ISS&secret=" SEED_B32);
	u.counter = UINT64_MAX;
	u.params.alg = OTP_SHA512;
	u.params.digits = 7;
	build_expect(
	    &u, "otpauth://hotp/ISS:acct?algorithm=SHA512&counter=18446744073709551615&"
		"digits=7&issuer=ISS&secret=" SEED_B32);
	u.counter = 0;
	build_expect(&u, "otpauth://hotp/ISS:acct?algorithm=SHA512&counter=0&digits=7&"
			 "issuer=ISS&secret=" SEED_B32);
	make_parts(&u, "ISS", "acct");
	u.params = (struct otp_params){OTP_TOTP, OTP_SHA512, 8, 3600};
	u.counter = 99; /* ignored for TOTP */
	build_expect(&u, "otpauth://totp/ISS:acct?algorithm=SHA512&digits=8&issuer=ISS&"
			 "period=3600&secret=" SEED_B32);
}

static void test_long_fields_and_secrets_round_trip(void **state)
{
	struct totp_err e;
	struct uri_parts u, back;
	char *s;

	(void)state;
	make_parts(&u, "", "");
	/* the longest fields, every byte escaped */
	memset(u.issuer, '/', URI_FIELD_MAX - 1);
	memset(u.account, '\xff', URI_FIELD_MAX - 1);
	for (size_t i = 0; i < SECRET_MAX; i++)
		u.secret[i] = (uint8_t)(255 - i);
	u.secret_len = SECRET_MAX;
	u.params.alg = OTP_SHA512;
	assert_int_equal(uri_build(&u, &s, &e), 0);
	assert_int_equal(uri_parse(s, &back, &e), 0);
	assert_same_parts(&u, &back);
	free(s);
	for (size_t len = 1; len <= SECRET_MAX; len++) {
		u.secret_len = len;
		assert_int_equal(uri_build(&u, &s, &e), 0);
		assert_int_equal(uri_parse(s, &back, &e), 0);
		assert_same_parts(&u, &back);
		free(s);
	}
}

static void test_build_refusals(void **state)
{
	struct totp_err e;
	struct uri_parts u;
	char *s = (char *)"untouched";

	(void)state;
	make_parts(&u, "ISS", "");
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_null(s);
	make_parts(&u, "ISS", "a");
	u.params.digits = 9;
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	make_parts(&u, "ISS", "a");
	u.params.period = 0;
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	make_parts(&u, "ISS", "a");
	u.secret_len = 0;
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	u.secret_len = SECRET_MAX + 1;
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	make_parts(&u, "IS\nS", "a");
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	make_parts(&u, "ISS", "a\x7f");
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	make_parts(&u, "ISS", "a");
	memset(u.issuer, 'x', sizeof(u.issuer)); /* no NUL */
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	make_parts(&u, "ISS", "a");
	memset(u.account, 'x', sizeof(u.account));
	assert_int_equal(uri_build(&u, &s, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void parse_ok(const char *uri, struct uri_parts *u)
{
	struct totp_err e;

	totp_err_clear(&e);
	if (uri_parse(uri, u, &e) != 0)
		fail_msg("refused %s: %s", uri, e.msg);
}

static void test_parse_variants(void **state)
{
	struct uri_parts u;

	(void)state;
	/* any order, any case of the scheme, type and algorithm */
	parse_ok("OTPAUTH://TOTP/ZITADEL:gigi?secret=" SEED_B32
		 "&period=60&issuer=ZITADEL&"
		 "digits=8&algorithm=sha256",
		 &u);
	assert_int_equal(u.params.type, OTP_TOTP);
	assert_int_equal(u.params.alg, OTP_SHA256);
	assert_int_equal(u.params.digits, 8);
	assert_int_equal(u.params.period, 60);
	assert_string_equal(u.issuer, "ZITADEL");
	assert_string_equal(u.account, "gigi");
	assert_memory_equal(u.secret, seed_secret, 20);
	/* defaults: SHA1, 6 digits, 30 s; issuer only in the label */
	parse_ok("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP", &u);
	assert_int_equal(u.params.alg, OTP_SHA1);
	assert_int_equal(u.params.digits, 6);
	assert_int_equal(u.params.period, 30);
	assert_string_equal(u.issuer, "Example");
	assert_string_equal(u.account, "alice@google.com");
	assert_int_equal(u.secret_len, 10);
	assert_memory_equal(u.secret, "Hello!\xde\xad\xbe\xef", 10);
	/* issuer only as a parameter */
	parse_ok("otpauth://totp/alice?issuer=Big%20Corp&secret=" SEED_B32, &u);
	assert_string_equal(u.issuer, "Big Corp");
	assert_string_equal(u.account, "alice");
	/* no issuer at all */
	parse_ok("otpauth://totp/alice?secret=" SEED_B32, &u);
	assert_string_equal(u.issuer, "");
	assert_string_equal(u.account, "alice");
	/* an escaped separator, as some tools write it */
	parse_ok("otpauth://totp/ACME%3Aalice?issuer=ACME&secret=" SEED_B32, &u);
	assert_string_equal(u.issuer, "ACME");
	assert_string_equal(u.account, "alice");
	/* ... which without the parameter is part of the account */
	parse_ok("otpauth://totp/ACME%3Aalice?secret=" SEED_B32, &u);
	assert_string_equal(u.issuer, "");
	assert_string_equal(u.account, "ACME:alice");
	/* padding, lower case, escaped '=' in the secret; lower-case escapes;
	 * '+' is a plus (RFC 3986), not a space */
	parse_ok("otpauth://totp/a%2bb?secret=mzxw6ytboi%3D%3d====", &u);
	assert_string_equal(u.account, "a+b");
	assert_int_equal(u.secret_len, 6);
	assert_memory_equal(u.secret, "foobar", 6);
	parse_ok("otpauth://totp/a+b?secret=MY", &u);
	assert_string_equal(u.account, "a+b");
	/* unknown parameters are other apps' business */
	parse_ok("otpauth://totp/I:a?image=https%3A%2F%2Fx%2Fy.png&secret=MY&foo=", &u);
	assert_string_equal(u.issuer, "I");
	/* HOTP */
	parse_ok("otpauth://hotp/I:a?counter=18446744073709551615&secret=MY", &u);
	assert_int_equal(u.params.type, OTP_HOTP);
	assert_int_equal(u.counter, UINT64_MAX);
	/* only the first literal ':' separates */
	parse_ok("otpauth://totp/I:a:b?secret=MY", &u);
	assert_string_equal(u.issuer, "I");
	assert_string_equal(u.account, "a:b");
	/* the longest fields */
	char big[4096];
	char field[URI_FIELD_MAX];
	memset(field, 'z', URI_FIELD_MAX - 1);
	field[URI_FIELD_MAX - 1] = '\0';
	snprintf(big, sizeof(big), "otpauth://totp/%s:%s?issuer=%s&secret=MY", field,
		 field, field);
	parse_ok(big, &u);
	assert_string_equal(u.issuer, field);
	assert_string_equal(u.account, field);
}

static void test_parse_refusals(void **state)
{
	static const char *const bad[] = {
	    "",
	    "otpauth",
	    "otpauth://",
	    "http://totp/a?secret=MY",
	    "otpauth:/totp/a?secret=MY",
	    "otpauth:totp/a?secret=MY",
	    "otpauth://xotp/a?secret=MY",
	    "otpauth://totp?secret=MY",
	    "otpauth:///a?secret=MY",
	    "otpauth://totpxxxxxxxx/a?secret=MY",
	    "otpauth://totp/a",
	    "otpauth://totp/a?",
	    "otpauth://totp/?secret=MY",
	    "otpauth://totp/I:?secret=MY",
	    "otpauth://totp/a?issuer=I",
	    "otpauth://totp/a?secret=",
	    "otpauth://totp/a?secret=1111",
	    "otpauth://totp/a?secret=MZ",
	    "otpauth://totp/a?secret=%3D%3D",
	    "otpauth://totp/a?secret=MY%",
	    "otpauth://totp/a%G1?secret=MY",
	    "otpauth://totp/a%4?secret=MY",
	    "otpauth://totp/a%?secret=MY",
	    "otpauth://totp/a%00b?secret=MY",
	    "otpauth://totp/a%0Ab?secret=MY",
	    "otpauth://totp/a%7F?secret=MY",
	    "otpauth://totp/a?issuer=%zz&secret=MY",
	    "otpauth://totp/a?issuer=%&secret=MY",
	    "otpauth://totp/a?secret=MY&digits=5",
	    "otpauth://totp/a?secret=MY&digits=9",
	    "otpauth://totp/a?secret=MY&digits=06",
	    "otpauth://totp/a?secret=MY&digits=+6",
	    "otpauth://totp/a?secret=MY&digits=six",
	    "otpauth://totp/a?secret=MY&digits=",
	    "otpauth://totp/a?secret=MY&digits=18446744073709551622",
	    "otpauth://totp/a?secret=MY&period=0",
	    "otpauth://totp/a?secret=MY&period=3601",
	    "otpauth://totp/a?secret=MY&period=-1",
	    "otpauth://totp/a?secret=MY&period=30s",
	    "otpauth://totp/a?secret=MY&algorithm=MD5",
	    "otpauth://totp/a?secret=MY&algorithm=SHA1x",
	    "otpauth://totp/a?secret=MY&algorithm=",
	    "otpauth://totp/a?secret=MY&algorithm=%53HA1%00",
	    "otpauth://totp/a?secret=MY&counter=1",
	    "otpauth://hotp/a?secret=MY",
	    "otpauth://hotp/a?secret=MY&counter=18446744073709551616",
	    "otpauth://hotp/a?secret=MY&counter=-1",
	    "otpauth://hotp/a?secret=MY&counter=1&period=30",
	    "otpauth://totp/a?secret=MY&secret=MY",
	    "otpauth://totp/a?secret=MY&SECRET=MY",
	    "otpauth://totp/a?secret=MY&digits=6&digits=6",
	    "otpauth://totp/a?secret=MY&digits",
	    "otpauth://totp/a?secret=MY&&digits=6",
	    "otpauth://totp/a?secret=MY&",
	    "otpauth://totp/a?&secret=MY",
	    "otpauth://totp/a?=MY&secret=MY",
	    "otpauth://totp/I:a?issuer=J&secret=MY",
	    "otpauth://totp/a b?secret=MY",
	    "otpauth://totp/a?secret=MY#frag",
	    "otpauth://totp/\xc3\x9c?secret=MY",
	    "otpauth://totp/a\t?secret=MY",
	    " otpauth://totp/a?secret=MY",
	    "otpauth://totp/a?secret=MY\n",
	};
	struct totp_err e;
	struct uri_parts u;

	(void)state;
	for (size_t i = 0; i < NROWS(bad); i++) {
		totp_err_clear(&e);
		memset(&u, 0x5a, sizeof(u));
		if (uri_parse(bad[i], &u, &e) != -1)
			fail_msg("accepted %s", bad[i]);
		assert_int_equal(e.reason, TOTP_R_INVALID);
		assert_string_not_equal(e.msg, "");
		/* nothing of a refused URI is left behind */
		for (size_t j = 0; j < sizeof(u.secret); j++)
			assert_int_equal(u.secret[j], 0);
		assert_int_equal(u.secret_len, 0);
	}
	assert_int_equal(uri_parse(NULL, &u, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void test_parse_oversized(void **state)
{
	struct totp_err e;
	struct uri_parts u;
	char field[URI_FIELD_MAX + 1];
	char big[8192];

	(void)state;
	memset(field, 'z', URI_FIELD_MAX);
	field[URI_FIELD_MAX] = '\0';
	snprintf(big, sizeof(big), "otpauth://totp/%s:a?secret=MY", field);
	assert_int_equal(uri_parse(big, &u, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	snprintf(big, sizeof(big), "otpauth://totp/I:%s?secret=MY", field);
	assert_int_equal(uri_parse(big, &u, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	snprintf(big, sizeof(big), "otpauth://totp/a?issuer=%s&secret=MY", field);
	assert_int_equal(uri_parse(big, &u, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	/* 65 bytes of secret: one more than any HMAC */
	char b32[SECRET_B32_MAX + 8];
	uint8_t raw[SECRET_MAX + 1];
	memset(raw, 1, sizeof(raw));
	assert_int_equal(base32_encode(raw, sizeof(raw), b32, sizeof(b32), &e), 0);
	snprintf(big, sizeof(big), "otpauth://totp/a?secret=%s", b32);
	assert_int_equal(uri_parse(big, &u, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	/* 64 bytes pass */
	assert_int_equal(base32_encode(raw, SECRET_MAX, b32, sizeof(b32), &e), 0);
	snprintf(big, sizeof(big), "otpauth://totp/a?secret=%s", b32);
	assert_int_equal(uri_parse(big, &u, &e), 0);
	assert_int_equal(u.secret_len, SECRET_MAX);
	/* a secret padded past any sensible length */
	snprintf(big, sizeof(big), "otpauth://totp/a?secret=MY%0300d", 0);
	memset(big + strlen("otpauth://totp/a?secret=MY"), '=', 300);
	assert_int_equal(uri_parse(big, &u, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	/* a whole URI past 4095 bytes, made of harmless unknown parameters */
	memset(big, 0, sizeof(big));
	strcpy(big, "otpauth://totp/a?secret=MY");
	while (strlen(big) < 5000)
		strcat(big, "&x=yyyyyyyyyyyyyyy");
	assert_int_equal(uri_parse(big, &u, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

/* Every prefix of a valid URI is refused or parsed without reading past
 * its end (run under ASan: each prefix is its own heap block). */
static void test_prefixes(void **state)
{
	const char *full =
	    "otpauth://hotp/I%20x:a%40b?algorithm=SHA256&counter=7&digits=8&"
	    "issuer=I%20x&secret=" SEED_B32;
	struct totp_err e;
	struct uri_parts u;
	size_t n = strlen(full);
	int ok = 0;

	(void)state;
	for (size_t len = 0; len <= n; len++) {
		char *p = malloc(len + 1);

		assert_non_null(p);
		memcpy(p, full, len);
		p[len] = '\0';
		if (uri_parse(p, &u, &e) == 0) {
			/* a cut secret can still be base32: the rest is whole */
			assert_non_null(strstr(p, "&secret="));
			assert_string_equal(u.issuer, "I x");
			assert_string_equal(u.account, "a@b");
			assert_int_equal(u.counter, 7);
			assert_int_equal(u.params.digits, 8);
			assert_true(u.secret_len <= 20);
			ok++;
		} else {
			assert_int_equal(e.reason, TOTP_R_INVALID);
		}
		free(p);
	}
	/* the secret's 32 characters cut at 2, 4, 5, 7, 8, ... 32: those
	 * whose spare bits are zero parse; the full URI is one of them */
	assert_true(ok >= 1 && ok <= 20);
	assert_int_equal(uri_parse(full, &u, &e), 0);
	assert_string_equal(u.issuer, "I x");
	assert_string_equal(u.account, "a@b");
	assert_int_equal(u.counter, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed_uri),
	    cmocka_unit_test(test_seed_uri_parse),
	    cmocka_unit_test(test_escaping),
	    cmocka_unit_test(test_hotp_and_params),
	    cmocka_unit_test(test_long_fields_and_secrets_round_trip),
	    cmocka_unit_test(test_build_refusals),
	    cmocka_unit_test(test_parse_variants),
	    cmocka_unit_test(test_parse_refusals),
	    cmocka_unit_test(test_parse_oversized),
	    cmocka_unit_test(test_prefixes),
	};
	return cmocka_run_group_tests_name("uri", tests, NULL, NULL);
}
