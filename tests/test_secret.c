/* secret: lengths, getrandom loop (EINTR, short reads, errors), base32. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "secret.h"

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/*
 * This program's getrandom() takes the place of libc's for lib/otp/secret.c
 * (linked in statically), so that interrupted, short and failed calls can
 * be played.  FAKE_OFF passes through to the kernel.
 */
enum fake_mode { FAKE_OFF, FAKE_EINTR_SHORT, FAKE_FAIL_LATE };
static enum fake_mode fake = FAKE_OFF;
static unsigned fake_calls;

ssize_t getrandom(void *buf, size_t len, unsigned int flags)
{
	fake_calls++;
	if (fake == FAKE_OFF)
		return syscall(SYS_getrandom, buf, len, flags);
	if (fake_calls % 2 == 1 && fake == FAKE_EINTR_SHORT) {
		errno = EINTR;
		return -1;
	}
	if (fake == FAKE_FAIL_LATE && fake_calls > 2) {
		errno = ENOSYS;
		return -1;
	}
	size_t n = len < 3 ? len : 3; /* at most 3 bytes a call */
	memset(buf, 0xA5, n);
	return (ssize_t)n;
}

static void test_len_for(void **state)
{
	(void)state;
	assert_int_equal(secret_len_for(OTP_SHA1), 20);
	assert_int_equal(secret_len_for(OTP_SHA256), 32);
	assert_int_equal(secret_len_for(OTP_SHA512), 64);
	assert_int_equal(secret_len_for((enum otp_alg)3), 0);
}

static void test_generate_fills_every_byte(void **state)
{
	struct totp_err e;
	uint8_t a[SECRET_MAX], b[SECRET_MAX], any[SECRET_MAX] = {0};

	(void)state;
	fake = FAKE_OFF;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	assert_int_equal(secret_generate(a, sizeof(a), &e), 0);
	assert_int_equal(secret_generate(b, sizeof(b), &e), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	/* Each position is zero after 16 calls with probability 2^-128 */
	for (int round = 0; round < 16; round++) {
		assert_int_equal(secret_generate(a, sizeof(a), &e), 0);
		for (size_t i = 0; i < sizeof(a); i++)
			any[i] |= a[i];
	}
	for (size_t i = 0; i < sizeof(any); i++)
		assert_int_not_equal(any[i], 0);
	/* nothing to do is not an error */
	assert_int_equal(secret_generate(a, 0, &e), 0);
	assert_int_equal(secret_generate(NULL, 0, &e), 0);
}

static void test_generate_retries_eintr_and_short_reads(void **state)
{
	struct totp_err e;
	uint8_t buf[20], want[20];

	(void)state;
	memset(buf, 0, sizeof(buf));
	memset(want, 0xA5, sizeof(want));
	fake = FAKE_EINTR_SHORT;
	fake_calls = 0;
	assert_int_equal(secret_generate(buf, sizeof(buf), &e), 0);
	fake = FAKE_OFF;
	assert_memory_equal(buf, want, sizeof(buf));
	/* 7 reads of at most 3 bytes, each after an EINTR */
	assert_int_equal(fake_calls, 14);
}

static void test_generate_error_wipes(void **state)
{
	struct totp_err e;
	uint8_t buf[20];

	(void)state;
	memset(buf, 0x11, sizeof(buf));
	fake = FAKE_FAIL_LATE;
	fake_calls = 0;
	assert_int_equal(secret_generate(buf, sizeof(buf), &e), -1);
	fake = FAKE_OFF;
	assert_int_equal(e.reason, TOTP_R_IO);
	assert_non_null(strstr(e.msg, strerror(ENOSYS)));
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(secret_generate(NULL, 20, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static const struct {
	const char *raw, *b32, *padded;
} rfc4648[] = {
    {"", "", ""},
    {"f", "MY", "MY======"},
    {"fo", "MZXQ", "MZXQ===="},
    {"foo", "MZXW6", "MZXW6==="},
    {"foob", "MZXW6YQ", "MZXW6YQ="},
    {"fooba", "MZXW6YTB", "MZXW6YTB"},
    {"foobar", "MZXW6YTBOI", "MZXW6YTBOI======"},
};

static void test_encode_rfc4648(void **state)
{
	struct totp_err e;
	char out[SECRET_B32_MAX];

	(void)state;
	for (size_t i = 0; i < NROWS(rfc4648); i++) {
		assert_int_equal(base32_encode((const uint8_t *)rfc4648[i].raw,
					       strlen(rfc4648[i].raw), out, sizeof(out),
					       &e),
				 0);
		assert_string_equal(out, rfc4648[i].b32);
	}
}

static void test_decode_rfc4648(void **state)
{
	struct totp_err e;
	uint8_t out[SECRET_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < NROWS(rfc4648); i++) {
		size_t want = strlen(rfc4648[i].raw);

		n = 999;
		assert_int_equal(base32_decode(rfc4648[i].b32, out, sizeof(out), &n, &e),
				 0);
		assert_int_equal(n, want);
		assert_memory_equal(out, rfc4648[i].raw, want);
		n = 999;
		assert_int_equal(
		    base32_decode(rfc4648[i].padded, out, sizeof(out), &n, &e), 0);
		assert_int_equal(n, want);
		assert_memory_equal(out, rfc4648[i].raw, want);
	}
}

static void test_rfc4226_secret(void **state)
{
	struct totp_err e;
	char b32[SECRET_B32_MAX];
	uint8_t raw[SECRET_MAX];
	size_t n;

	(void)state;
	assert_int_equal(base32_encode((const uint8_t *)"12345678901234567890", 20, b32,
				       sizeof(b32), &e),
			 0);
	assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
	assert_int_equal(strlen(b32), 32);
	assert_int_equal(
	    base32_decode("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", raw, sizeof(raw), &n, &e),
	    0);
	assert_int_equal(n, 20);
	assert_memory_equal(raw, "12345678901234567890", 20);
}

static void test_seed_secret_round_trip(void **state)
{
	static const uint8_t want[20] = {0x9a, 0x5c, 0xfb, 0x48, 0x78, 0x42, 0xd6,
					 0x7b, 0x96, 0xbc, 0x62, 0xd4, 0xd6, 0xa5,
					 0xd6, 0x29, 0xbf, 0x59, 0x0c, 0x4a};
	struct totp_err e;
	char b32[SECRET_B32_MAX];
	uint8_t raw[SECRET_MAX];
	size_t n;

	(void)state;
	assert_int_equal(
	    base32_decode("TJOPWSDYILLHXFV4MLKNNJOWFG7VSDCK", raw, sizeof(raw), &n, &e),
	    0);
	assert_int_equal(n, 20);
	assert_memory_equal(raw, want, 20);
	assert_int_equal(base32_encode(raw, n, b32, sizeof(b32), &e), 0);
	assert_string_equal(b32, "TJOPWSDYILLHXFV4MLKNNJOWFG7VSDCK");
	/* as people type it: lower case, in groups, padded */
	assert_int_equal(base32_decode("tjop wsdy illh xfv4 mlkn njow fg7v sdck", raw,
				       sizeof(raw), &n, &e),
			 0);
	assert_int_equal(n, 20);
	assert_memory_equal(raw, want, 20);
	assert_int_equal(base32_decode("TjOpWsDyIlLhXfV4MlKnNjOwFg7vSdCk== ", raw,
				       sizeof(raw), &n, &e),
			 0);
	assert_memory_equal(raw, want, 20);
}

static void test_every_length_round_trips(void **state)
{
	struct totp_err e;
	uint8_t in[SECRET_MAX], back[SECRET_MAX];
	char b32[SECRET_B32_MAX];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= SECRET_MAX; len++) {
		assert_int_equal(base32_encode(in, len, b32, sizeof(b32), &e), 0);
		assert_int_equal(strlen(b32), (len * 8 + 4) / 5);
		assert_null(strchr(b32, '='));
		assert_int_equal(base32_decode(b32, back, sizeof(back), &n, &e), 0);
		assert_int_equal(n, len);
		assert_memory_equal(back, in, len);
	}
	assert_int_equal(base32_encode(in, SECRET_MAX, b32, sizeof(b32), &e), 0);
	assert_int_equal(strlen(b32) + 1, SECRET_B32_MAX);
}

static void test_encode_too_small(void **state)
{
	struct totp_err e;
	char out[40];

	(void)state;
	/* 20 bytes need 32 characters and a NUL */
	assert_int_equal(
	    base32_encode((const uint8_t *)"12345678901234567890", 20, out, 32, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(
	    base32_encode((const uint8_t *)"12345678901234567890", 20, out, 33, &e), 0);
	assert_int_equal(base32_encode((const uint8_t *)"f", 1, out, 2, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(base32_encode((const uint8_t *)"", 0, out, 0, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(base32_encode((const uint8_t *)"", 0, out, 1, &e), 0);
	assert_string_equal(out, "");
	assert_int_equal(
	    base32_encode((const uint8_t *)"x", SIZE_MAX, out, sizeof(out), &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void test_decode_errors(void **state)
{
	static const char *const bad[] = {
	    "MY1",    /* 1 is not base32 */
	    "MY0",    /* nor 0 */
	    "MY8",    /* nor 8 */
	    "MZXW6!", /* punctuation */
	    "MZ-XW",  /* dashes are not ignored */
	    "MZ\tXW", /* only spaces are */
	    "MY=A",   /* '=' in the middle */
	    "MY==MY", /* ... or padding then data */
	    "=MY",    /* or at the start */
	    "MZ",     /* leftover bits not zero (MY is "f") */
	    "MZXR",   /* idem (MZXQ is "fo") */
	    "M",      /* 1, 3, 6 characters leave 5+ spare bits */
	    "MZX",
	    "MZXW6Y",
	    "MZXW6YTBO", /* one character too many */
	    "MZXW6YTB\xc3\x89",
	};
	struct totp_err e;
	uint8_t out[SECRET_MAX];
	size_t n = 42;

	(void)state;
	for (size_t i = 0; i < NROWS(bad); i++) {
		totp_err_clear(&e);
		memset(out, 0x77, sizeof(out));
		assert_int_equal(base32_decode(bad[i], out, sizeof(out), &n, &e), -1);
		assert_int_equal(e.reason, TOTP_R_INVALID);
		assert_int_equal(n, 42);
		/* what was decoded before the fault is wiped */
		for (size_t j = 0; j < sizeof(out); j++)
			assert_true(out[j] == 0 || out[j] == 0x77);
	}
	assert_int_equal(base32_decode(NULL, out, sizeof(out), &n, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
}

static void test_decode_overflow(void **state)
{
	struct totp_err e;
	uint8_t out[8];
	size_t n = 42;

	(void)state;
	/* "foobar" is 6 bytes: fits 6, not 5 */
	assert_int_equal(base32_decode("MZXW6YTBOI", out, 6, &n, &e), 0);
	assert_int_equal(n, 6);
	assert_memory_equal(out, "foobar", 6);
	n = 42;
	memset(out, 0x77, sizeof(out));
	assert_int_equal(base32_decode("MZXW6YTBOI", out, 5, &n, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(n, 42);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(out[5], 0x77); /* never written past outsz */
	assert_int_equal(base32_decode("MY", NULL, 0, &n, &e), -1);
	assert_int_equal(e.reason, TOTP_R_INVALID);
	assert_int_equal(base32_decode("", NULL, 0, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_int_equal(base32_decode("  ==", out, 0, &n, &e), 0);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_len_for),
	    cmocka_unit_test(test_generate_fills_every_byte),
	    cmocka_unit_test(test_generate_retries_eintr_and_short_reads),
	    cmocka_unit_test(test_generate_error_wipes),
	    cmocka_unit_test(test_encode_rfc4648),
	    cmocka_unit_test(test_decode_rfc4648),
	    cmocka_unit_test(test_rfc4226_secret),
	    cmocka_unit_test(test_seed_secret_round_trip),
	    cmocka_unit_test(test_every_length_round_trips),
	    cmocka_unit_test(test_encode_too_small),
	    cmocka_unit_test(test_decode_errors),
	    cmocka_unit_test(test_decode_overflow),
	};
	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
