/* otp: RFC 4226/6238 vectors, window edges, replay floor, malformed codes. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "otp.h"

/* RFC 6238 errata: each hash has its own seed. */
static const uint8_t seed1[] = "12345678901234567890";
static const uint8_t seed256[] = "12345678901234567890123456789012";
static const uint8_t seed512[] = "1234567890123456789012345678901234567890"
				 "123456789012345678901234";
#define SEED1_LEN 20
#define SEED256_LEN 32
#define SEED512_LEN 64

static const struct {
	int64_t time;
	uint64_t step;
	const char *sha1, *sha256, *sha512;
} rfc6238[] = {
    {59, 0x1, "94287082", "46119246", "90693936"},
    {1111111109, 0x23523EC, "07081804", "68084774", "25091201"},
    {1111111111, 0x23523ED, "14050471", "67062674", "99943326"},
    {1234567890, 0x273EF07, "89005924", "91819424", "93441116"},
    {2000000000, 0x3F940AA, "69279037", "90698825", "38618901"},
    {20000000000, 0x27BC86AA, "65353130", "77737706", "47863826"},
};

static const char *const rfc4226[] = {"755224", "287082", "359152", "969429", "338314",
				      "254676", "287922", "162583", "399871", "520489"};

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

static const struct otp_params totp6 = {OTP_TOTP, OTP_SHA1, 6, 30};
static const struct otp_params hotp6 = {OTP_HOTP, OTP_SHA1, 6, 0};

static int setup(void **state)
{
	struct totp_err e;

	(void)state;
	return otp_init(&e);
}

static void seed_for(enum otp_alg alg, const uint8_t **key, size_t *len)
{
	*key = alg == OTP_SHA1 ? seed1 : alg == OTP_SHA256 ? seed256 : seed512;
	*len = alg == OTP_SHA1	   ? SEED1_LEN
	       : alg == OTP_SHA256 ? SEED256_LEN
				   : SEED512_LEN;
}

static const char *expected(size_t row, enum otp_alg alg)
{
	return alg == OTP_SHA1	   ? rfc6238[row].sha1
	       : alg == OTP_SHA256 ? rfc6238[row].sha256
				   : rfc6238[row].sha512;
}

static void check_rfc6238(unsigned digits)
{
	struct totp_err e;
	char out[OTP_CODE_BUF];

	for (size_t i = 0; i < NROWS(rfc6238); i++) {
		for (int a = OTP_SHA1; a <= OTP_SHA512; a++) {
			struct otp_params p = {OTP_TOTP, (enum otp_alg)a, digits, 30};
			const uint8_t *key;
			size_t len;
			uint64_t step = otp_step_at(&p, rfc6238[i].time), m = 0;
			/* 6 digits are the 8-digit code's last six */
			const char *want = expected(i, (enum otp_alg)a) + (8 - digits);

			seed_for((enum otp_alg)a, &key, &len);
			assert_int_equal(step, rfc6238[i].step);
			assert_int_equal(otp_code(key, len, &p, step, out, &e), 0);
			assert_string_equal(out, want);
			assert_int_equal(
			    otp_verify_window(key, len, &p, step, 1, 0, want, &m, &e), 1);
			assert_int_equal(m, step);
		}
	}
}

static void test_rfc6238_8_digits(void **state)
{
	(void)state;
	check_rfc6238(8);
}

static void test_rfc6238_6_digits(void **state)
{
	(void)state;
	check_rfc6238(6);
}

static void test_rfc4226(void **state)
{
	struct totp_err e;
	char out[OTP_CODE_BUF];
	uint64_t m;

	(void)state;
	for (uint64_t c = 0; c < NROWS(rfc4226); c++) {
		assert_int_equal(otp_code(seed1, SEED1_LEN, &hotp6, c, out, &e), 0);
		assert_string_equal(out, rfc4226[c]);
		m = 99;
		assert_int_equal(otp_verify_window(seed1, SEED1_LEN, &hotp6, c, 0, 0,
						   rfc4226[c], &m, &e),
				 1);
		assert_int_equal(m, c);
	}
}

/* The code of `factor`, checked at `center` with `window` and `floor`. */
static int verify_factor(const struct otp_params *p, uint64_t factor, uint64_t center,
			 unsigned window, uint64_t floor, uint64_t *m)
{
	struct totp_err e;
	char code[OTP_CODE_BUF];

	assert_int_equal(otp_code(seed1, SEED1_LEN, p, factor, code, &e), 0);
	return otp_verify_window(seed1, SEED1_LEN, p, center, window, floor, code, m, &e);
}

static void test_totp_window_edges(void **state)
{
	const uint64_t c = 1000000;
	uint64_t m;

	(void)state;
	for (unsigned w = 0; w <= OTP_WINDOW_MAX; w++) {
		for (uint64_t f = c - w; f <= c + w; f++) {
			m = 0;
			assert_int_equal(verify_factor(&totp6, f, c, w, 0, &m), 1);
			assert_int_equal(m, f);
		}
		assert_int_equal(verify_factor(&totp6, c - w - 1, c, w, 0, &m), 0);
		assert_int_equal(verify_factor(&totp6, c + w + 1, c, w, 0, &m), 0);
	}
}

static void test_hotp_window_forward_only(void **state)
{
	uint64_t m;

	(void)state;
	/* counter 5, window 3: 5..8 only (RFC 4226 7.4, no look-behind) */
	for (uint64_t f = 5; f <= 8; f++) {
		assert_int_equal(verify_factor(&hotp6, f, 5, 3, 0, &m), 1);
		assert_int_equal(m, f);
	}
	assert_int_equal(verify_factor(&hotp6, 4, 5, 3, 0, &m), 0);
	assert_int_equal(verify_factor(&hotp6, 9, 5, 3, 0, &m), 0);
	/* the RFC's own codes: 520489 (counter 9) is not in 0..8 */
	struct totp_err e;
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &hotp6, 0, 8, 0, "520489", &m, &e), 0);
}

static void test_window_at_zero_and_max(void **state)
{
	struct otp_params s256 = {OTP_TOTP, OTP_SHA256, 6, 30};
	struct totp_err e;
	uint64_t m;

	(void)state;
	/* no wrap below 0: step 0 with window 2 looks at 0..2 only */
	assert_int_equal(verify_factor(&totp6, 0, 0, 2, 0, &m), 1);
	assert_int_equal(m, 0);
	assert_int_equal(verify_factor(&totp6, 2, 1, 2, 0, &m), 1);
	assert_int_equal(verify_factor(&totp6, UINT64_MAX, 0, 2, 0, &m), 0);
	assert_int_equal(verify_factor(&totp6, UINT64_MAX - 1, 1, 2, 0, &m), 0);
	/* no wrap above UINT64_MAX */
	assert_int_equal(verify_factor(&totp6, UINT64_MAX, UINT64_MAX, 2, 0, &m), 1);
	assert_int_equal(m, UINT64_MAX);
	assert_int_equal(verify_factor(&totp6, UINT64_MAX - 2, UINT64_MAX, 2, 0, &m), 1);
	assert_int_equal(verify_factor(&totp6, UINT64_MAX - 3, UINT64_MAX, 2, 0, &m), 0);
	assert_int_equal(verify_factor(&totp6, 0, UINT64_MAX, 2, 0, &m), 0);
	assert_int_equal(verify_factor(&totp6, 1, UINT64_MAX, 2, 0, &m), 0);
	assert_int_equal(verify_factor(&hotp6, UINT64_MAX, UINT64_MAX - 1, 3, 0, &m), 1);
	assert_int_equal(m, UINT64_MAX);
	assert_int_equal(verify_factor(&hotp6, 0, UINT64_MAX - 1, 3, 0, &m), 0);
	/* SHA256/512 go through liboath's time_t: INT64_MAX is their last step */
	char code[OTP_CODE_BUF];
	const uint64_t top = (uint64_t)INT64_MAX;
	assert_int_equal(otp_code(seed256, SEED256_LEN, &s256, top, code, &e), 0);
	assert_int_equal(
	    otp_verify_window(seed256, SEED256_LEN, &s256, top, 2, 0, code, &m, &e), 1);
	assert_int_equal(m, top);
	assert_int_equal(otp_code(seed256, SEED256_LEN, &s256, top + 1, code, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(otp_verify_window(seed256, SEED256_LEN, &s256, top + 1, 2, 0,
					   "123456", &m, &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void test_replay_floor(void **state)
{
	const uint64_t last = 5000;
	uint64_t m;

	(void)state;
	/* floor = last accepted + 1: the used step and older never pass again */
	assert_int_equal(verify_factor(&totp6, last, last, 1, last + 1, &m), 0);
	assert_int_equal(verify_factor(&totp6, last - 1, last, 1, last + 1, &m), 0);
	assert_int_equal(verify_factor(&totp6, last + 1, last, 1, last + 1, &m), 1);
	assert_int_equal(m, last + 1);
	assert_int_equal(verify_factor(&totp6, last + 1, last + 1, 1, last + 1, &m), 1);
	assert_int_equal(m, last + 1);
	assert_int_equal(verify_factor(&totp6, last + 1, last + 1, 1, last + 2, &m), 0);
	assert_int_equal(verify_factor(&hotp6, 7, 7, 3, 8, &m), 0);
	assert_int_equal(verify_factor(&hotp6, 8, 7, 3, 8, &m), 1);
	assert_int_equal(m, 8);
}

/* Steps 153567 and 153569 share the SHA1 6-digit code 468457 (found by
 * search): the newest match is the one reported, so it is the one used up. */
static void test_newest_match_wins(void **state)
{
	struct totp_err e;
	char code[OTP_CODE_BUF];
	uint64_t m = 0;

	(void)state;
	assert_int_equal(otp_code(seed1, SEED1_LEN, &totp6, 153567, code, &e), 0);
	assert_string_equal(code, "468457");
	assert_int_equal(otp_code(seed1, SEED1_LEN, &totp6, 153569, code, &e), 0);
	assert_string_equal(code, "468457");
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &totp6, 153568, 1, 0, "468457", &m, &e),
	    1);
	assert_int_equal(m, 153569);
	/* once 153569 is used, neither step passes again */
	assert_int_equal(otp_verify_window(seed1, SEED1_LEN, &totp6, 153568, 1, 153570,
					   "468457", &m, &e),
			 0);
	/* a floor between them still lets the newer one through */
	assert_int_equal(otp_verify_window(seed1, SEED1_LEN, &totp6, 153568, 1, 153568,
					   "468457", &m, &e),
			 1);
	assert_int_equal(m, 153569);
}

static void test_past_2038(void **state)
{
	struct totp_err e;
	char code[OTP_CODE_BUF];
	const int64_t now = 4102444800; /* 2100-01-01, well past 2^31 */
	uint64_t step = otp_step_at(&totp6, now), m = 0;

	(void)state;
	assert_true(now > INT32_MAX);
	assert_int_equal(step, (uint64_t)now / 30);
	assert_int_equal(otp_code(seed1, SEED1_LEN, &totp6, step, code, &e), 0);
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &totp6, step, 1, 0, code, &m, &e), 1);
	assert_int_equal(m, step);
	/* the 20000000000 row again, through verification at that time */
	struct otp_params p8 = {OTP_TOTP, OTP_SHA512, 8, 30};
	step = otp_step_at(&p8, 20000000000);
	assert_int_equal(
	    otp_verify_window(seed512, SEED512_LEN, &p8, step, 0, 0, "47863826", &m, &e),
	    1);
	assert_int_equal(m, 0x27BC86AA);
}

static void test_step_at(void **state)
{
	struct otp_params p = totp6;

	(void)state;
	assert_int_equal(otp_step_at(&p, 0), 0);
	assert_int_equal(otp_step_at(&p, 29), 0);
	assert_int_equal(otp_step_at(&p, 30), 1);
	assert_int_equal(otp_step_at(&p, 59), 1);
	assert_int_equal(otp_step_at(&p, 60), 2);
	assert_int_equal(otp_step_at(&p, -1), 0);
	assert_int_equal(otp_step_at(&p, INT64_MIN), 0);
	assert_int_equal(otp_step_at(&p, INT64_MAX), (uint64_t)INT64_MAX / 30);
	p.period = 1;
	assert_int_equal(otp_step_at(&p, INT64_MAX), (uint64_t)INT64_MAX);
	p.period = 0; /* refused by otp_params_check; must not divide by zero */
	assert_int_equal(otp_step_at(&p, 100), 0);
}

static void test_malformed_codes(void **state)
{
	static const char *const bad6[] = {
	    "",	      "1",	"12345",	"1234567", "123456789",
	    "12a456", "12345a", " 12345",	"123456 ", "12 456",
	    "+12345", "-12345", "１２３４５６", "12345\n", "0x1234",
	    "123.45",
	};
	struct otp_params p8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;
	uint64_t m = 77;

	(void)state;
	for (size_t i = 0; i < NROWS(bad6); i++) {
		totp_err_clear(&e);
		assert_int_equal(
		    otp_verify_window(seed1, SEED1_LEN, &totp6, 1, 1, 0, bad6[i], &m, &e),
		    -1);
		assert_int_equal(e.reason, TOTP_R_INVALID);
	}
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &totp6, 1, 1, 0, NULL, &m, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	/* 8-digit params: 7 and 9 digits are refused, not compared */
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &p8, 1, 1, 0, "4287082", &m, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &p8, 1, 1, 0, "942870820", &m, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(m, 77); /* untouched on refusal */
	/* well formed but wrong: 0, not an error */
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &p8, 1, 0, 0, "94287083", &m, &e), 0);
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &p8, 1, 0, 0, "94287082", &m, &e), 1);
}

static void test_bad_arguments(void **state)
{
	struct totp_err e;
	char out[OTP_CODE_BUF];
	uint64_t m;
	struct otp_params bad = totp6;

	(void)state;
	assert_int_equal(otp_verify_window(seed1, SEED1_LEN, &totp6, 100,
					   OTP_WINDOW_MAX + 1, 0, "123456", &m, &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(otp_code(seed1, 0, &totp6, 1, out, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(otp_code(NULL, 20, &totp6, 1, out, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(otp_verify_window(seed1, 0, &totp6, 100, 1, 0, "123456", &m, &e),
			 -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	bad.digits = 9;
	assert_int_equal(otp_code(seed1, SEED1_LEN, &bad, 1, out, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &bad, 1, 1, 0, "123456789", &m, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	/* a NULL `matched` is allowed */
	assert_int_equal(
	    otp_verify_window(seed1, SEED1_LEN, &hotp6, 0, 0, 0, "755224", NULL, &e), 1);
}

static void test_params_check(void **state)
{
	static const struct otp_params good[] = {
	    {OTP_TOTP, OTP_SHA1, 6, 30},      {OTP_TOTP, OTP_SHA256, 7, 1},
	    {OTP_TOTP, OTP_SHA512, 8, 3600},  {OTP_HOTP, OTP_SHA1, 6, 0},
	    {OTP_HOTP, OTP_SHA512, 8, 99999},
	};
	static const struct otp_params bad[] = {
	    {(enum otp_type)2, OTP_SHA1, 6, 30},
	    {OTP_TOTP, (enum otp_alg)3, 6, 30},
	    {OTP_TOTP, (enum otp_alg) - 1, 6, 30},
	    {OTP_TOTP, OTP_SHA1, 5, 30},
	    {OTP_TOTP, OTP_SHA1, 9, 30},
	    {OTP_TOTP, OTP_SHA1, 0, 30},
	    {OTP_TOTP, OTP_SHA1, 6, 0},
	    {OTP_TOTP, OTP_SHA1, 6, 3601},
	    {OTP_HOTP, OTP_SHA1, 5, 0},
	};
	struct totp_err e;

	(void)state;
	for (size_t i = 0; i < NROWS(good); i++)
		assert_int_equal(otp_params_check(&good[i], &e), 0);
	for (size_t i = 0; i < NROWS(bad); i++) {
		totp_err_clear(&e);
		assert_int_equal(otp_params_check(&bad[i], &e), -1);
		assert_int_equal(e.reason, TOTP_R_INVALID);
		assert_string_not_equal(e.msg, "");
	}
}

static void test_ct_equal(void **state)
{
	char a[8] = "1234567", b[8] = "1234567";

	(void)state;
	assert_int_equal(otp_ct_equal(a, b, 8), 1);
	assert_int_equal(otp_ct_equal(a, b, 0), 1);
	for (size_t i = 0; i < 8; i++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			b[i] = (char)(a[i] ^ (1 << bit));
			assert_int_equal(otp_ct_equal(a, b, 8), 0);
			b[i] = a[i];
		}
	}
	b[7] = 'x'; /* past n: not looked at */
	assert_int_equal(otp_ct_equal(a, b, 7), 1);
}

static void test_names(void **state)
{
	enum otp_alg a;
	enum otp_type t;

	(void)state;
	assert_string_equal(otp_alg_name(OTP_SHA1), "SHA1");
	assert_string_equal(otp_alg_name(OTP_SHA256), "SHA256");
	assert_string_equal(otp_alg_name(OTP_SHA512), "SHA512");
	assert_string_equal(otp_alg_name((enum otp_alg)7), "?");
	assert_string_equal(otp_type_name(OTP_TOTP), "totp");
	assert_string_equal(otp_type_name(OTP_HOTP), "hotp");
	assert_string_equal(otp_type_name((enum otp_type)7), "?");
	assert_int_equal(otp_alg_parse("sha256", &a), 0);
	assert_int_equal(a, OTP_SHA256);
	assert_int_equal(otp_alg_parse("SHA512", &a), 0);
	assert_int_equal(a, OTP_SHA512);
	assert_int_equal(otp_alg_parse("MD5", &a), -1);
	assert_int_equal(otp_alg_parse("SHA", &a), -1);
	assert_int_equal(otp_type_parse("HOTP", &t), 0);
	assert_int_equal(t, OTP_HOTP);
	assert_int_equal(otp_type_parse("totp", &t), 0);
	assert_int_equal(t, OTP_TOTP);
	assert_int_equal(otp_type_parse("otp", &t), -1);
}

/* otp_accept, the one replay and window rule (login and verify). */
static void test_accept_totp_rfc6238(void **state)
{
	const struct otp_params t8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;

	(void)state;
	for (size_t i = 0; i < NROWS(rfc6238); i++) {
		uint64_t last = 0;

		assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 0, rfc6238[i].time,
					    rfc6238[i].sha1, &last, NULL, &e),
				 1);
		assert_true(last == rfc6238[i].step);
		/* the same code again: its step is not above the last one */
		assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 0, rfc6238[i].time,
					    rfc6238[i].sha1, &last, NULL, &e),
				 0);
		assert_true(last == rfc6238[i].step);
	}
}

static void test_accept_totp_step_at_or_below_last(void **state)
{
	const struct otp_params t8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;
	uint64_t last;

	(void)state;
	/* step 0x23523ED's code, window 1, the last step one below: passes */
	last = 0x23523EC;
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &t8, 1, 1111111111, "14050471", &last, NULL, &e),
	    1);
	assert_true(last == 0x23523ED);
	/* the last step at the code's step, or above it: refused, unchanged */
	last = 0x23523ED;
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &t8, 1, 1111111111, "14050471", &last, NULL, &e),
	    0);
	assert_true(last == 0x23523ED);
	last = 0x23523EE;
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &t8, 1, 1111111111, "14050471", &last, NULL, &e),
	    0);
	assert_true(last == 0x23523EE);
}

static void test_accept_totp_window_edges(void **state)
{
	const struct otp_params t8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;
	uint64_t last = 0;

	(void)state;
	/* step 0x23523EC's code, one step (30 s) later: window 1 takes it,
	 * window 0 does not; two steps later window 1 does not either */
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 0, 1111111109 + 30, "07081804",
				    &last, NULL, &e),
			 0);
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, 1111111109 + 60, "07081804",
				    &last, NULL, &e),
			 0);
	assert_true(last == 0);
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, 1111111109 + 30, "07081804",
				    &last, NULL, &e),
			 1);
	assert_true(last == 0x23523EC);
	/* and one step early */
	last = 0;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, 1111111109 - 30, "07081804",
				    &last, NULL, &e),
			 1);
	assert_true(last == 0x23523EC);
}

static void test_accept_hotp_look_ahead(void **state)
{
	struct totp_err e;
	uint64_t next = 0;

	(void)state;
	/* in order, each counter once: the next one expected moves on */
	for (uint64_t c = 0; c < NROWS(rfc4226); c++) {
		assert_int_equal(otp_accept(seed1, SEED1_LEN, &hotp6, 0, 0, rfc4226[c],
					    &next, NULL, &e),
				 1);
		assert_true(next == c + 1);
	}
	/* look-ahead: counter 5 from 2 with window 3, not with window 2 */
	next = 2;
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &hotp6, 2, 0, rfc4226[5], &next, NULL, &e), 0);
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &hotp6, 3, 0, rfc4226[5], &next, NULL, &e), 1);
	assert_true(next == 6);
	/* never backwards: counter 4 once 6 is expected */
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &hotp6, 9, 0, rfc4226[4], &next, NULL, &e), 0);
	assert_true(next == 6);
}

static void test_accept_malformed(void **state)
{
	struct totp_err e;
	uint64_t last = 7;

	(void)state;
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &totp6, 1, 59, "12345", &last, NULL, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &totp6, 1, 59, "12a456", &last, NULL, &e), -1);
	assert_true(last == 7);
}

/* Clock drift (RFC 6238 section 6, issue 17): the window is centred on
 * the clock's step + the drift, and the drift follows the step matched.
 * Step S = 0x23523EC ("07081804"); "now" is S + 4: the phone 4 slow. */
#define S 0x23523ECull
#define AT(step) ((int64_t)(step)*30 + 7)
static void test_accept_drift_centre(void **state)
{
	const struct otp_params t8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;
	uint64_t last = 0;
	int drift = 0;

	(void)state;
	/* drift 0: four steps off is outside window 1, nothing moves */
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(S + 4), "07081804",
				    &last, &drift, &e),
			 0);
	assert_true(last == 0);
	assert_int_equal(drift, 0);
	/* drift -3: centred on S + 1, window 1 reaches S; the drift follows */
	drift = -3;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(S + 4), "07081804",
				    &last, &drift, &e),
			 1);
	assert_true(last == S);
	assert_int_equal(drift, -4);
	/* the same code again: a replay, refused, nothing moves */
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(S + 4), "07081804",
				    &last, &drift, &e),
			 0);
	assert_true(last == S);
	assert_int_equal(drift, -4);
	/* a later step of the slow phone, later: drift -4 stays, window 0 too */
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 0, AT(0x23523ED + 4),
				    "14050471", &last, &drift, &e),
			 1);
	assert_true(last == 0x23523ED);
	assert_int_equal(drift, -4);
	/* the window moves, it does not widen: the clock's own step passes
	 * with drift 0, but not with drift -4 (centre S - 3, window 1) */
	last = 0;
	drift = 0;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(0x23523ED), "14050471",
				    &last, &drift, &e),
			 1);
	assert_int_equal(drift, 0);
	last = 0;
	drift = -4;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(0x23523ED), "14050471",
				    &last, &drift, &e),
			 0);
	assert_int_equal(drift, -4);
}

/* verify's search: window RECORD_DRIFT_MAX around the clock learns the
 * drift, up to the bound and not past it, either way. */
static void test_accept_drift_learn(void **state)
{
	const struct otp_params t8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;
	uint64_t last = 0;
	int drift = 0;

	(void)state;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, OTP_DRIFT_MAX, AT(S + 4),
				    "07081804", &last, &drift, &e),
			 1);
	assert_int_equal(drift, -4);
	last = 0;
	drift = 0;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, OTP_DRIFT_MAX,
				    AT(S + OTP_DRIFT_MAX), "07081804", &last, &drift, &e),
			 1);
	assert_int_equal(drift, -OTP_DRIFT_MAX);
	last = 0;
	drift = 0;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, OTP_DRIFT_MAX,
				    AT(S - OTP_DRIFT_MAX), "07081804", &last, &drift, &e),
			 1);
	assert_int_equal(drift, OTP_DRIFT_MAX);
	last = 0;
	drift = 0;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, OTP_DRIFT_MAX,
				    AT(S + OTP_DRIFT_MAX + 1), "07081804", &last, &drift,
				    &e),
			 0);
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, OTP_DRIFT_MAX,
				    AT(S - OTP_DRIFT_MAX - 1), "07081804", &last, &drift,
				    &e),
			 0);
	assert_int_equal(drift, 0);
	assert_true(last == 0);
}

/* The bound: a drift in beyond it is taken as +-OTP_DRIFT_MAX, a drift
 * out is clamped to it, so no code more than OTP_DRIFT_MAX + window steps
 * from the clock passes. */
static void test_accept_drift_bounded(void **state)
{
	const struct otp_params t8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;
	uint64_t last = 0;
	int drift = 50;

	(void)state;
	/* clock at S - 11, drift 50 taken as 10: centre S - 1, window 1 */
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(S - 11), "07081804",
				    &last, &drift, &e),
			 1);
	assert_int_equal(drift, OTP_DRIFT_MAX);
	/* 12 steps off: beyond OTP_DRIFT_MAX + window */
	last = 0;
	drift = OTP_DRIFT_MAX;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(S - 12), "07081804",
				    &last, &drift, &e),
			 0);
	last = 0;
	drift = -100;
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(S + 12), "07081804",
				    &last, &drift, &e),
			 0);
	assert_int_equal(drift, -100); /* unchanged on 0 */
	assert_int_equal(otp_accept(seed1, SEED1_LEN, &t8, 1, AT(S + 11), "07081804",
				    &last, &drift, &e),
			 1);
	assert_int_equal(drift, -OTP_DRIFT_MAX);
}

/* At step 0 the centre saturates instead of wrapping; RFC row 59 s. */
static void test_accept_drift_at_zero(void **state)
{
	const struct otp_params t8 = {OTP_TOTP, OTP_SHA1, 8, 30};
	struct totp_err e;
	uint64_t last = 0;
	int drift = -OTP_DRIFT_MAX;

	(void)state;
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &t8, 1, 59, "94287082", &last, &drift, &e), 1);
	assert_true(last == 1);
	assert_int_equal(drift, 0);
}

/* HOTP has no clock: the drift is neither read nor written. */
static void test_accept_drift_hotp_unaffected(void **state)
{
	struct totp_err e;
	uint64_t next = 2;
	int drift = 7;

	(void)state;
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &hotp6, 0, 0, rfc4226[5], &next, &drift, &e), 0);
	assert_int_equal(
	    otp_accept(seed1, SEED1_LEN, &hotp6, 3, 0, rfc4226[5], &next, &drift, &e), 1);
	assert_true(next == 6);
	assert_int_equal(drift, 7);
}
#undef S
#undef AT

static void test_init_twice(void **state)
{
	struct totp_err e;

	(void)state;
	assert_int_equal(otp_init(&e), 0);
	assert_int_equal(otp_init(&e), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rfc6238_8_digits),
	    cmocka_unit_test(test_rfc6238_6_digits),
	    cmocka_unit_test(test_rfc4226),
	    cmocka_unit_test(test_totp_window_edges),
	    cmocka_unit_test(test_hotp_window_forward_only),
	    cmocka_unit_test(test_window_at_zero_and_max),
	    cmocka_unit_test(test_replay_floor),
	    cmocka_unit_test(test_newest_match_wins),
	    cmocka_unit_test(test_past_2038),
	    cmocka_unit_test(test_step_at),
	    cmocka_unit_test(test_malformed_codes),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_params_check),
	    cmocka_unit_test(test_ct_equal),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_init_twice),
	    cmocka_unit_test(test_accept_totp_rfc6238),
	    cmocka_unit_test(test_accept_totp_step_at_or_below_last),
	    cmocka_unit_test(test_accept_totp_window_edges),
	    cmocka_unit_test(test_accept_hotp_look_ahead),
	    cmocka_unit_test(test_accept_malformed),
	    cmocka_unit_test(test_accept_drift_centre),
	    cmocka_unit_test(test_accept_drift_learn),
	    cmocka_unit_test(test_accept_drift_bounded),
	    cmocka_unit_test(test_accept_drift_at_zero),
	    cmocka_unit_test(test_accept_drift_hotp_unaffected),
	};
	return cmocka_run_group_tests_name("otp", tests, setup, NULL);
}
