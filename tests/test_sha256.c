/* sha256: FIPS 180-4 examples and RFC 4231's HMAC-SHA256 test cases. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sha256.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void assert_digest(const uint8_t d[SHA256_LEN], size_t n, const char *want)
{
	char got[2 * SHA256_LEN + 1];

	hex(d, n, got);
	assert_string_equal(got, want);
}

static void test_sha256_fips(void **state)
{
	static const char *const msg[] = {
	    "", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"};
	static const char *const want[] = {
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
	    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"};
	uint8_t d[SHA256_LEN];

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		sha256(msg[i], strlen(msg[i]), d);
		assert_digest(d, SHA256_LEN, want[i]);
	}
}

/* A million 'a', in uneven pieces: the block buffer across calls. */
static void test_sha256_million(void **state)
{
	struct sha256_ctx c;
	uint8_t a[997], d[SHA256_LEN];
	size_t left = 1000000;

	(void)state;
	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	while (left > 0) {
		size_t n = left < sizeof(a) ? left : sizeof(a);

		sha256_update(&c, a, n);
		left -= n;
	}
	sha256_final(&c, d);
	assert_digest(d, SHA256_LEN,
		      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

/* The padding edges (55, 56, 63, 64, 65 bytes): byte by byte is the same
 * as at once. */
static void test_sha256_edges(void **state)
{
	static const size_t lens[] = {55, 56, 63, 64, 65, 119, 120, 128};
	uint8_t m[128], d1[SHA256_LEN], d2[SHA256_LEN];

	(void)state;
	for (size_t i = 0; i < sizeof(m); i++)
		m[i] = (uint8_t)(i * 7 + 1);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct sha256_ctx c;

		sha256(m, lens[k], d1);
		sha256_init(&c);
		for (size_t i = 0; i < lens[k]; i++)
			sha256_update(&c, m + i, 1);
		sha256_final(&c, d2);
		assert_memory_equal(d1, d2, SHA256_LEN);
	}
}

/* RFC 4231 section 4, test cases 1 to 7 (5: the first 128 bits). */
static void test_hmac_rfc4231(void **state)
{
	uint8_t key[131], data[160], d[SHA256_LEN];
	const char *s;

	(void)state;
	memset(key, 0x0b, 20);
	hmac_sha256(key, 20, "Hi There", 8, d);
	assert_digest(d, SHA256_LEN,
		      "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	s = "what do ya want for nothing?";
	hmac_sha256("Jefe", 4, s, strlen(s), d);
	assert_digest(d, SHA256_LEN,
		      "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	hmac_sha256(key, 20, data, 50, d);
	assert_digest(d, SHA256_LEN,
		      "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
	for (unsigned i = 0; i < 25; i++)
		key[i] = (uint8_t)(i + 1);
	memset(data, 0xcd, 50);
	hmac_sha256(key, 25, data, 50, d);
	assert_digest(d, SHA256_LEN,
		      "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
	memset(key, 0x0c, 20);
	hmac_sha256(key, 20, "Test With Truncation", 20, d);
	assert_digest(d, 16, "a3b6167473100ee06e0c796c2955552b");
	memset(key, 0xaa, 131);
	s = "Test Using Larger Than Block-Size Key - Hash Key First";
	hmac_sha256(key, 131, s, strlen(s), d);
	assert_digest(d, SHA256_LEN,
		      "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	s = "This is a test using a larger than block-size key and a larger than "
	    "block-size data. The key needs to be hashed before being used by the "
	    "HMAC algorithm.";
	hmac_sha256(key, 131, s, strlen(s), d);
	assert_digest(d, SHA256_LEN,
		      "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sha256_fips),
	    cmocka_unit_test(test_sha256_million),
	    cmocka_unit_test(test_sha256_edges),
	    cmocka_unit_test(test_hmac_rfc4231),
	};

	return cmocka_run_group_tests_name("sha256", tests, NULL, NULL);
}
