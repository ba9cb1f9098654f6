/*
 * otp: HOTP (RFC 4226) and TOTP (RFC 6238) codes, and their verification.
 *
 * Codes are made by liboath; verification is ours: every candidate of the
 * window is generated and compared in constant time, whatever matches, and
 * a candidate below `floor` (already used: RFC 6238 5.2) is never accepted.
 * Time is 64-bit throughout.  Nothing here keeps state; otp_init() must
 * have been called once in the process (liboath's own initialisation).
 */
#ifndef TOTP_OTP_H
#define TOTP_OTP_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"

enum otp_type { OTP_TOTP = 0, OTP_HOTP = 1 };
enum otp_alg { OTP_SHA1 = 0, OTP_SHA256 = 1, OTP_SHA512 = 2 };

#define OTP_DIGITS_MIN 6
#define OTP_DIGITS_MAX 8
#define OTP_CODE_BUF (OTP_DIGITS_MAX + 1)
#define OTP_WINDOW_MAX 10
/* The largest clock drift followed, in steps either way (RFC 6238 section
 * 6; record.h's RECORD_DRIFT_MAX is the same figure): 5 minutes at 30 s.
 * A phone two minutes slow (-4) keeps working without a wider window for
 * anyone; a clock further off is a clock to fix, not to follow. */
#define OTP_DRIFT_MAX 10

struct otp_params {
	enum otp_type type;
	enum otp_alg alg;
	unsigned digits; /* 6 to 8 */
	unsigned period; /* seconds a TOTP step lasts, 1 to 3600; unused by HOTP */
};

/* Calls oath_init(); safe to call more than once. */
int otp_init(struct totp_err *err);

/* Checks the ranges above. */
int otp_params_check(const struct otp_params *p, struct totp_err *err);

/* The TOTP time step of `now` (T0 = 0): floor(now / period), now >= 0. */
uint64_t otp_step_at(const struct otp_params *p, int64_t now);

/* The code for moving factor `factor` (time step or counter), as
 * `digits` ASCII digits and a NUL, in `out`.  An empty key is refused;
 * SHA256/SHA512 take factors up to INT64_MAX only (liboath passes them as
 * a time_t), a larger one is TOTP_R_INVALID. */
int otp_code(const uint8_t *key, size_t keylen, const struct otp_params *p,
	     uint64_t factor, char out[OTP_CODE_BUF], struct totp_err *err);

/*
 * Checks `code` against the candidates of the window:
 *   TOTP: center - window .. center + window (center = otp_step_at(now));
 *   HOTP: center .. center + window (center = the next expected counter).
 * Candidates below `floor` are computed but never match: pass the last
 * accepted factor + 1 (0 when none was).  Every candidate is computed and
 * compared in constant time, whatever matches; the window stops at 0 and
 * at the largest factor (see otp_code) instead of wrapping.  When several
 * candidates match, the newest is the one reported.
 * Returns 1 and the matching factor in *matched, 0 when nothing matches,
 * or -1 on error (`code` not exactly p->digits ASCII digits is an error,
 * TOTP_R_INVALID).
 */
int otp_verify_window(const uint8_t *key, size_t keylen, const struct otp_params *p,
		      uint64_t center, unsigned window, uint64_t floor, const char *code,
		      uint64_t *matched, struct totp_err *err);

/*
 * The replay and window rule, the one both a login and a verification
 * apply.  `*last` is the generator's moving state as a record keeps it:
 * for TOTP the last accepted time step (0: none), for HOTP the next
 * expected counter.  The code must match a step newer than *last within
 * `window` of the centre (TOTP), or a counter from *last to *last +
 * window (HOTP look-ahead).
 *
 * TOTP clock drift (RFC 6238 section 6): `*drift` (NULL: 0) is the
 * generator's offset in steps from the clock, slapo-otp's
 * oathTOTPTimeStepDrift: the step last accepted minus the clock's step at
 * that moment.  The window is centred on otp_step_at(now) + *drift
 * (clamped to +-OTP_DRIFT_MAX, saturating at 0), the same size whatever
 * the drift.  On a match *drift becomes the matched step minus the
 * clock's step, clamped to +-OTP_DRIFT_MAX: so no code more than
 * OTP_DRIFT_MAX + window steps from the clock is ever accepted.  HOTP
 * has no clock: *drift is neither read nor changed.
 *
 * Returns 1 and moves *last on (TOTP: to the step matched; HOTP: past
 * the counter matched), 0 when it does not match (a replay included),
 * -1 on error (a code that is not p->digits digits is TOTP_R_INVALID);
 * *last and *drift are only changed on 1.
 */
int otp_accept(const uint8_t *key, size_t keylen, const struct otp_params *p,
	       unsigned window, int64_t now, const char *code, uint64_t *last, int *drift,
	       struct totp_err *err);

/* Constant-time equality of two buffers of length n: 1 equal, 0 not. */
int otp_ct_equal(const void *a, const void *b, size_t n);

/* Names: "SHA1", "SHA256", "SHA512" (as in otpauth URIs); "totp", "hotp".
 * The parsers take either case and return -1 on anything else. */
const char *otp_alg_name(enum otp_alg alg);
const char *otp_type_name(enum otp_type type);
int otp_alg_parse(const char *s, enum otp_alg *out);
int otp_type_parse(const char *s, enum otp_type *out);

#endif
