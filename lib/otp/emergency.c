/* emergency: one-use codes, stored as yescrypt salts and digests (emergency.h). */
#include "config.h"

#include <crypt.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "chars.h"
#include "emergency.h"

/* Every hash computation gets its own heap struct crypt_data: it is ~32 KiB,
 * too big for the stack of a thread in someone else's process. */
static struct crypt_data *crypt_data_new(struct totp_err *err)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));

	if (cd == NULL)
		totp_err_set(err, TOTP_R_NOMEM,
			     "out of memory hashing an emergency code");
	return cd;
}

static void crypt_data_free(struct crypt_data *cd)
{
	if (cd == NULL)
		return;
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
}

static bool code_wellformed(const char *code)
{
	return strnlen(code, EMERGENCY_DIGITS + 1) == EMERGENCY_DIGITS &&
	       chars_all_digits(code, EMERGENCY_DIGITS);
}

static int random_fill(uint8_t *buf, size_t len, struct totp_err *err)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return totp_err_errno(err, errno,
					      "getrandom for an emergency code");
		}
		got += (size_t)n;
	}
	return 0;
}

/* Rejection sampling: a byte of 250 or more is dropped, so each of the ten
 * digits has exactly 25 of the 250 byte values kept (no modulo bias). */
static int random_code(char out[EMERGENCY_BUF], struct totp_err *err)
{
	uint8_t pool[32];
	size_t have = 0, used = 0;
	unsigned n = 0;
	int rc = 0;

	while (n < EMERGENCY_DIGITS) {
		if (used == have) {
			rc = random_fill(pool, sizeof(pool), err);
			if (rc != 0)
				break;
			have = sizeof(pool);
			used = 0;
		}
		uint8_t b = pool[used++];
		if (b < 250)
			out[n++] = (char)('0' + b % 10);
	}
	out[EMERGENCY_DIGITS] = '\0';
	explicit_bzero(pool, sizeof(pool));
	if (rc != 0)
		explicit_bzero(out, EMERGENCY_BUF);
	return rc;
}

/* Hashes `code` with yescrypt at RECORD_HASH_COST and a fresh salt into a
 * code of the record's one format (salt and the start of the hash).
 * Named, not libxcrypt's preferred method, and the cost pinned: the format
 * holds no method or cost, so nothing in a record can make a login hash
 * for long. */
static int hash_code(const char *code, struct record_code *out, struct totp_err *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = 0;

	if (crypt_gensalt_rn("$y$", RECORD_HASH_COST, NULL, 0, salt, (int)sizeof(salt)) ==
	    NULL)
		return totp_err_errno(err, errno, "crypt_gensalt for an emergency code");
	cd = crypt_data_new(err);
	if (cd == NULL)
		return -1;
	h = crypt_rn(code, salt, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] == '*')
		rc = totp_err_set(err, TOTP_R_INTERNAL,
				  "crypt failed hashing an emergency code");
	else if (record_code_from_crypt(h, out, err) != 0)
		rc = totp_err_set(err, TOTP_R_INTERNAL,
				  "crypt made a hash other than %s...: this libxcrypt "
				  "is not the one pam_totp was made for",
				  RECORD_HASH_PREFIX);
	crypt_data_free(cd);
	return rc;
}

/* Constant-time equality of two digests. */
static bool digest_equal(const uint8_t *a, const uint8_t *b)
{
	unsigned diff = 0;

	for (size_t i = 0; i < RECORD_DIGEST_LEN; i++)
		diff |= (unsigned)(a[i] ^ b[i]);
	return diff == 0;
}

/* Hashes n codes into a scratch table, then replaces r's in one go, so that
 * a failure leaves r as it was. */
static int store_hashes(struct record *r, const char *const *codes, unsigned n,
			struct totp_err *err)
{
	struct record_code tmp[RECORD_EMERGENCY_MAX];
	int rc = 0;

	memset(tmp, 0, sizeof(tmp));
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = hash_code(codes[i], &tmp[i], err);
	if (rc == 0) {
		explicit_bzero(r->emergency, sizeof(r->emergency));
		memcpy(r->emergency, tmp, (size_t)n * sizeof(tmp[0]));
		r->emergency_count = (uint8_t)n;
		r->emergency_used = 0;
	}
	explicit_bzero(tmp, sizeof(tmp));
	return rc;
}

static int check_count(unsigned n, struct totp_err *err)
{
	if (n > RECORD_EMERGENCY_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "%u emergency codes asked for; at most %d are kept",
				    n, RECORD_EMERGENCY_MAX);
	return 0;
}

static bool seen_before(char codes[][EMERGENCY_BUF], unsigned i)
{
	for (unsigned j = 0; j < i; j++)
		if (memcmp(codes[j], codes[i], EMERGENCY_BUF) == 0)
			return true;
	return false;
}

int emergency_generate(struct record *r, unsigned n, char codes[][EMERGENCY_BUF],
		       struct totp_err *err)
{
	const char *ptrs[RECORD_EMERGENCY_MAX];
	int rc;

	if (check_count(n, err) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		/* Two equal codes would be one code used up twice: draw again. */
		do {
			if (random_code(codes[i], err) != 0)
				goto fail;
		} while (seen_before(codes, i));
		ptrs[i] = codes[i];
	}
	rc = store_hashes(r, ptrs, n, err);
	if (rc == 0)
		return 0;
fail:
	explicit_bzero(codes, (size_t)n * EMERGENCY_BUF);
	return -1;
}

int emergency_set(struct record *r, const char *const *codes, unsigned n,
		  struct totp_err *err)
{
	if (check_count(n, err) != 0)
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (codes[i] == NULL || !code_wellformed(codes[i]))
			return totp_err_set(err, TOTP_R_INVALID,
					    "emergency code %u is not %d digits", i + 1,
					    EMERGENCY_DIGITS);
	return store_hashes(r, codes, n, err);
}

/* Checks one stored code: 1 match, 0 not, -1 when crypt cannot use it. */
static int check_one(const struct record_code *stored, const char *code,
		     struct crypt_data *cd)
{
	char setting[RECORD_HASH_MAX];
	uint8_t digest[RECORD_DIGEST_LEN];
	const char *h;
	int rc;

	record_code_setting(stored, setting);
	h = crypt_rn(code, setting, cd, (int)sizeof(*cd));
	if (h == NULL || h[0] == '*' || record_digest_from_crypt(h, digest) != 0)
		return -1;
	rc = digest_equal(digest, stored->digest) ? 1 : 0;
	explicit_bzero(digest, sizeof(digest));
	return rc;
}

/* Hashes `code` once with a fresh yescrypt setting of the cost this build
 * writes, and forgets the result: the work a stored hash would cost. */
static int dummy_one(const char *code, struct crypt_data *cd, struct totp_err *err)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, (int)sizeof(salt)) == NULL)
		return totp_err_errno(err, errno, "crypt_gensalt for an emergency code");
	if (crypt_rn(code, salt, cd, (int)sizeof(*cd)) == NULL)
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "crypt failed hashing an emergency code");
	return 0;
}

int emergency_find(const struct record *r, const char *code, unsigned min_hashes,
		   int *slot, struct totp_err *err)
{
	unsigned count = r != NULL ? r->emergency_count : 0, done = 0;
	struct crypt_data *cd;
	int match = -1, rc = 0;
	bool broken = false;

	*slot = -1;
	if (code == NULL || !code_wellformed(code))
		return 0;
	if (count > RECORD_EMERGENCY_MAX)
		count = RECORD_EMERGENCY_MAX;
	if (min_hashes > RECORD_EMERGENCY_MAX)
		min_hashes = RECORD_EMERGENCY_MAX;
	cd = crypt_data_new(err);
	if (cd == NULL)
		return -1;
	/* Every unused hash is computed, whichever matches, so the time taken
	 * does not tell which slot (or whether any) matched. */
	for (unsigned i = 0; i < count; i++) {
		int m;

		if (record_code_used(r, i))
			continue;
		m = check_one(&r->emergency[i], code, cd);
		done++;
		if (m < 0)
			broken = true;
		else if (m == 1 && match < 0)
			match = (int)i;
	}
	/* ... nor how many codes are left, or whether there is a record. */
	while (rc == 0 && done < min_hashes) {
		rc = dummy_one(code, cd, err);
		done++;
	}
	crypt_data_free(cd);
	if (rc != 0)
		return -1;
	if (match >= 0) {
		*slot = match;
		return 1;
	}
	if (broken)
		return totp_err_set(
		    err, TOTP_R_CORRUPT,
		    "an emergency code hash in the record cannot be used: "
		    "make new codes with totp-enroll");
	return 0;
}

int emergency_use(struct record *r, const char *code, struct totp_err *err)
{
	int slot, rc = emergency_find(r, code, 0, &slot, err);

	if (rc == 1)
		r->emergency_used |= (uint16_t)(1U << slot);
	return rc;
}

unsigned emergency_remaining(const struct record *r)
{
	unsigned count = r->emergency_count, left = 0;

	if (count > RECORD_EMERGENCY_MAX)
		count = RECORD_EMERGENCY_MAX;
	for (unsigned i = 0; i < count; i++)
		if (!record_code_used(r, i))
			left++;
	return left;
}
