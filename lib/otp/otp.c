/* otp: codes from liboath, verification of our own (see otp.h). */
#include "config.h"

#include <limits.h>
#include <liboath/oath.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "chars.h"
#include "otp.h"

/* liboath's SHA256/SHA512 path takes the moving factor as a time_t. */
_Static_assert(sizeof(time_t) >= sizeof(int64_t), "64-bit time_t needed (RFC 6238 4.2)");

static const char *const alg_names[] = {"SHA1", "SHA256", "SHA512"};
static const char *const type_names[] = {"totp", "hotp"};

const char *otp_alg_name(enum otp_alg alg)
{
	return (unsigned)alg <= OTP_SHA512 ? alg_names[alg] : "?";
}

const char *otp_type_name(enum otp_type type)
{
	return (unsigned)type <= OTP_HOTP ? type_names[type] : "?";
}

int otp_alg_parse(const char *s, enum otp_alg *out)
{
	for (unsigned i = 0; i <= OTP_SHA512; i++) {
		if (strcasecmp(s, alg_names[i]) == 0) {
			*out = (enum otp_alg)i;
			return 0;
		}
	}
	return -1;
}

int otp_type_parse(const char *s, enum otp_type *out)
{
	for (unsigned i = 0; i <= OTP_HOTP; i++) {
		if (strcasecmp(s, type_names[i]) == 0) {
			*out = (enum otp_type)i;
			return 0;
		}
	}
	return -1;
}

int otp_params_check(const struct otp_params *p, struct totp_err *err)
{
	if ((unsigned)p->type > OTP_HOTP)
		return totp_err_set(err, TOTP_R_INVALID, "unknown OTP type %d",
				    (int)p->type);
	if ((unsigned)p->alg > OTP_SHA512)
		return totp_err_set(err, TOTP_R_INVALID, "unknown algorithm %d",
				    (int)p->alg);
	if (p->digits < OTP_DIGITS_MIN || p->digits > OTP_DIGITS_MAX)
		return totp_err_set(err, TOTP_R_INVALID,
				    "digits must be %d to %d, not %u", OTP_DIGITS_MIN,
				    OTP_DIGITS_MAX, p->digits);
	if (p->type == OTP_TOTP && (p->period < 1 || p->period > 3600))
		return totp_err_set(err, TOTP_R_INVALID,
				    "period must be 1 to 3600 seconds, not %u",
				    p->period);
	return 0;
}

int otp_init(struct totp_err *err)
{
	int rc = oath_init();

	if (rc != OATH_OK)
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "liboath failed to initialise: %s",
				    oath_strerror(rc));
	return 0;
}

uint64_t otp_step_at(const struct otp_params *p, int64_t now)
{
	/* A zero period is refused by otp_params_check; never divide by it. */
	if (now < 0 || p->period == 0)
		return 0;
	return (uint64_t)now / p->period;
}

/* The largest moving factor liboath can take: SHA1 goes through
 * oath_hotp_generate (uint64_t), SHA256/512 only through
 * oath_totp_generate2, whose factor is a non-negative time_t. */
static uint64_t factor_max(enum otp_alg alg)
{
	return alg == OTP_SHA1 ? UINT64_MAX : (uint64_t)INT64_MAX;
}

static int oath_flags(enum otp_alg alg)
{
	return alg == OTP_SHA512   ? OATH_TOTP_HMAC_SHA512
	       : alg == OTP_SHA256 ? OATH_TOTP_HMAC_SHA256
				   : 0;
}

int otp_code(const uint8_t *key, size_t keylen, const struct otp_params *p,
	     uint64_t factor, char out[OTP_CODE_BUF], struct totp_err *err)
{
	int rc;

	if (otp_params_check(p, err) < 0)
		return -1;
	if (key == NULL || keylen == 0)
		return totp_err_set(err, TOTP_R_INVALID,
				    "the secret is empty: enroll again");
	if (factor > factor_max(p->alg))
		return totp_err_set(err, TOTP_R_INVALID,
				    "moving factor %llu is too large for %s",
				    (unsigned long long)factor, otp_alg_name(p->alg));
	if (p->alg == OTP_SHA1)
		rc = oath_hotp_generate((const char *)key, keylen, factor, p->digits,
					false, OATH_HOTP_DYNAMIC_TRUNCATION, out);
	else /* a time step of 1 s from T0 = 0 makes "now" the factor itself */
		rc = oath_totp_generate2((const char *)key, keylen, (time_t)factor, 1, 0,
					 p->digits, oath_flags(p->alg), out);
	if (rc != OATH_OK) {
		explicit_bzero(out, OTP_CODE_BUF);
		return totp_err_set(err, TOTP_R_INTERNAL,
				    "liboath could not make a code: %s",
				    oath_strerror(rc));
	}
	return 0;
}

int otp_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a;
	const volatile unsigned char *y = b;
	unsigned diff = 0;

	for (size_t i = 0; i < n; i++)
		diff |= (unsigned)(x[i] ^ y[i]);
	/* diff is 0..255: diff - 1 wraps to all ones only when it is 0 */
	return (int)(1u & ((diff - 1u) >> 8));
}

static int code_well_formed(const char *code, unsigned digits)
{
	return code != NULL && strnlen(code, OTP_CODE_BUF) == digits &&
	       chars_all_digits(code, digits);
}

/* The window's first and last factor, saturating at 0 and at the largest
 * factor the algorithm can take instead of wrapping around. */
static void window_bounds(const struct otp_params *p, uint64_t center, unsigned window,
			  uint64_t *lo, uint64_t *hi)
{
	uint64_t max = factor_max(p->alg);

	if (p->type == OTP_HOTP)
		*lo = center; /* a counter only moves forward */
	else
		*lo = center >= window ? center - window : 0;
	*hi = center <= max - window ? center + window : max;
}

int otp_verify_window(const uint8_t *key, size_t keylen, const struct otp_params *p,
		      uint64_t center, unsigned window, uint64_t floor, const char *code,
		      uint64_t *matched, struct totp_err *err)
{
	char cand[OTP_CODE_BUF];
	uint64_t lo, hi, found = 0, match = 0;
	int rc = 0;

	if (otp_params_check(p, err) < 0)
		return -1;
	if (window > OTP_WINDOW_MAX)
		return totp_err_set(err, TOTP_R_INVALID, "window must be 0 to %d, not %u",
				    OTP_WINDOW_MAX, window);
	if (!code_well_formed(code, p->digits))
		return totp_err_set(err, TOTP_R_INVALID, "a code is exactly %u digits",
				    p->digits);
	if (center > factor_max(p->alg))
		return totp_err_set(err, TOTP_R_INVALID,
				    "moving factor %llu is too large",
				    (unsigned long long)center);
	window_bounds(p, center, window, &lo, &hi);
	for (uint64_t f = lo;; f++) {
		if (otp_code(key, keylen, p, f, cand, err) < 0) {
			rc = -1;
			break;
		}
		/* No branch on the comparison: the last (newest) match wins, so
		 * the step stored as used is the highest that this code proves. */
		uint64_t ok = (uint64_t)otp_ct_equal(cand, code, p->digits) &
			      (uint64_t)(f >= floor);
		uint64_t mask = 0 - ok;
		match = (match & ~mask) | (f & mask);
		found |= ok;
		if (f == hi)
			break;
	}
	explicit_bzero(cand, sizeof(cand));
	if (rc < 0)
		return -1;
	if (found && matched != NULL)
		*matched = match;
	return found ? 1 : 0;
}

static int drift_clamp(int d)
{
	return d > OTP_DRIFT_MAX    ? OTP_DRIFT_MAX
	       : d < -OTP_DRIFT_MAX ? -OTP_DRIFT_MAX
				    : d;
}

/* step + d, saturating at 0 and at the largest factor of the algorithm. */
static uint64_t step_plus(const struct otp_params *p, uint64_t step, int d)
{
	uint64_t max = factor_max(p->alg), mag = (uint64_t)(d < 0 ? -d : d);

	if (d < 0)
		return step >= mag ? step - mag : 0;
	return step <= max - mag ? step + mag : max;
}

/* matched - step as a drift, clamped (both are within a few steps). */
static int drift_of(uint64_t matched, uint64_t step)
{
	if (matched >= step)
		return drift_clamp(matched - step > OTP_DRIFT_MAX
				       ? OTP_DRIFT_MAX
				       : (int)(matched - step));
	return drift_clamp(step - matched > OTP_DRIFT_MAX ? -OTP_DRIFT_MAX
							  : -(int)(step - matched));
}

int otp_accept(const uint8_t *key, size_t keylen, const struct otp_params *p,
	       unsigned window, int64_t now, const char *code, uint64_t *last, int *drift,
	       struct totp_err *err)
{
	bool totp = p->type == OTP_TOTP;
	uint64_t clock = totp ? otp_step_at(p, now) : 0;
	int offset = totp && drift != NULL ? drift_clamp(*drift) : 0;
	uint64_t center = totp ? step_plus(p, clock, offset) : *last;
	uint64_t floor = totp ? *last + 1 : *last;
	uint64_t matched = 0;
	int ok =
	    otp_verify_window(key, keylen, p, center, window, floor, code, &matched, err);

	if (ok == 1) {
		*last = totp ? matched : matched + 1;
		if (totp && drift != NULL)
			*drift = drift_of(matched, clock);
	}
	return ok;
}
