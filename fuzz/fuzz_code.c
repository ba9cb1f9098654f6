/*
 * fuzz_code: the code a user types, as otp and emergency read it.
 *
 * The first bytes choose the generator (type, algorithm, digits), the
 * window and the floor; the rest, up to its first NUL as a C string
 * stops there, is the typed code.  otp_verify_window is checked against
 * a plain reference: it accepts only digits of the right length, and then
 * exactly the newest candidate of the window at or above the floor whose
 * code is the typed one.  emergency_use is checked on a record holding
 * two live codes, a used one and (when asked) a damaged one: only an
 * unused code of exactly 8 digits matches, once, and nothing else in the
 * record changes.  The codes are the record's one format, yescrypt at
 * cost 5 (record.h): a damaged code matches nothing.
 */
#include "config.h"

#include <crypt.h>
#include <string.h>

#include "emergency.h"
#include "fuzz.h"
#include "otp.h"

#define NOW 1700000000 /* a fixed "now": the window does not drift */
#define HOTP_CENTER 1000

static const char *const live_codes[] = {"12345678", "87654321"};
static struct record good, broken; /* with live, used and (broken) damaged codes */
static uint8_t key[SECRET_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct totp_err err;

	(void)argc;
	(void)argv;
	FUZZ_CHECK(otp_init(&err) == 0);
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)('0' + (i + 1) % 10); /* RFC 6238's "1234567890..." */
	memset(&good, 0, sizeof(good));
	good.gen[0].state = RECORD_READY;
	good.gen[0].params = (struct otp_params){OTP_TOTP, OTP_SHA1, 6, 30};
	{
		const char *const codes[] = {live_codes[0], "00000000", live_codes[1]};

		FUZZ_CHECK(emergency_set(&good, codes, 3, &err) == 0);
	}
	good.emergency_used = 1U << 1; /* used up */
	/* v2 holds salts and digests: a damaged code matches nothing */
	broken = good;
	broken.emergency[3] = good.emergency[0];
	broken.emergency[3].digest[0] ^= 1;
	broken.emergency_count = 4;
	return 0;
}

static int well_formed(const char *code, unsigned digits)
{
	if (strlen(code) != digits)
		return 0;
	for (const char *c = code; *c != '\0'; c++)
		if (*c < '0' || *c > '9')
			return 0;
	return 1;
}

/* The reference: 1 and the newest matching factor, or 0. */
static int reference(const struct otp_params *p, size_t keylen, uint64_t center,
		     unsigned window, uint64_t floor, const char *code, uint64_t *matched)
{
	uint64_t lo = p->type == OTP_TOTP && center >= window ? center - window : 0;
	uint64_t hi = center + window;
	char want[OTP_CODE_BUF];
	struct totp_err err;
	int found = 0;

	if (p->type == OTP_HOTP)
		lo = center;
	for (uint64_t f = lo; f <= hi; f++) {
		FUZZ_CHECK(otp_code(key, keylen, p, f, want, &err) == 0);
		if (f >= floor && strcmp(want, code) == 0) {
			*matched = f;
			found = 1;
		}
	}
	return found;
}

static void check_otp(const uint8_t *data, size_t size, const char *code)
{
	struct otp_params p = {OTP_TOTP, OTP_SHA1, 6, 30};
	uint64_t center, floor, matched = 0, want = 0;
	unsigned window;
	size_t keylen;
	struct totp_err err;
	int rc, ref;

	p.type = data[0] & 1 ? OTP_HOTP : OTP_TOTP;
	p.alg = (enum otp_alg)((data[0] >> 1) % 3);
	p.digits = 6 + (unsigned)(data[0] >> 3) % 3;
	window = data[1] % (OTP_WINDOW_MAX + 1);
	keylen = secret_len_for(p.alg);
	center = p.type == OTP_TOTP ? otp_step_at(&p, NOW) : HOTP_CENTER;
	floor = center - 12 + data[2] % 25;
	(void)size;
	totp_err_clear(&err);
	rc = otp_verify_window(key, keylen, &p, center, window, floor, code, &matched,
			       &err);
	if (!well_formed(code, p.digits)) {
		FUZZ_CHECK(rc == -1 && err.reason == TOTP_R_INVALID);
		return;
	}
	ref = reference(&p, keylen, center, window, floor, code, &want);
	FUZZ_CHECK(rc == ref);
	if (rc == 1)
		FUZZ_CHECK(matched == want);
}

static void check_emergency(const uint8_t *data, const char *code)
{
	static struct record r;
	const struct record *model = data[0] & 0x80 ? &broken : &good;
	struct totp_err err;
	int hit = -1, rc;

	r = *model;
	rc = emergency_use(&r, code, &err);
	if (!well_formed(code, EMERGENCY_DIGITS)) {
		FUZZ_CHECK(rc == 0 && memcmp(&r, model, sizeof(r)) == 0);
		return;
	}
	for (int i = 0; i < 2; i++)
		if (strcmp(code, live_codes[i]) == 0)
			hit = i;
	if (hit < 0) {
		FUZZ_CHECK(rc == 0);
		FUZZ_CHECK(memcmp(&r, model, sizeof(r)) == 0);
		return;
	}
	FUZZ_CHECK(rc == 1);
	FUZZ_CHECK(emergency_remaining(&r) == emergency_remaining(model) - 1);
	FUZZ_CHECK(record_code_used(&r, hit == 0 ? 0 : 2));
	/* a used code never matches again */
	FUZZ_CHECK(emergency_use(&r, code, &err) != 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *code;

	if (size < 3)
		return 0;
	/* the code as a C string: it ends at the first NUL, as PAM's would */
	code = malloc(size - 3 + 1);
	FUZZ_CHECK(code != NULL);
	memcpy(code, data + 3, size - 3);
	code[size - 3] = '\0';
	check_otp(data, size, code);
	check_emergency(data, code);
	free(code);
	return 0;
}
