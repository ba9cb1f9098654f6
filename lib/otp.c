/* otp: codes from liboath, verification of our own (see otp.h). */
#include "config.h"

#include <strings.h>

#include "otp.h"

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
