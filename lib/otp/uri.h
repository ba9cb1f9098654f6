/*
 * uri: the otpauth:// URI that authenticator apps read (Key Uri Format).
 *
 *   otpauth://TYPE/ISSUER:ACCOUNT?algorithm=..&counter=..&digits=..&issuer=..
 *             &period=..&secret=BASE32
 *
 * Parameters in alphabetical order; counter for HOTP only, period for TOTP
 * only.  Issuer and account are percent-encoded per RFC 3986: everything
 * but the unreserved characters (A-Z a-z 0-9 - . _ ~) and, in the label,
 * '@', becomes %XX, so a space is %20, never '+'.  An issuer may not
 * contain ':' in the label's sense, so it is encoded there.
 */
#ifndef TOTP_URI_H
#define TOTP_URI_H

#include <stddef.h>
#include <stdint.h>

#include "errors.h"
#include "otp.h"
#include "secret.h"

#define URI_FIELD_MAX 256

struct uri_parts {
	struct otp_params params;
	char issuer[URI_FIELD_MAX];
	char account[URI_FIELD_MAX];
	uint8_t secret[SECRET_MAX];
	size_t secret_len;
	uint64_t counter; /* HOTP only */
};

/* Builds the URI into a malloc'd string in *out (the caller wipes and
 * frees it: it holds the secret). */
int uri_build(const struct uri_parts *in, char **out, struct totp_err *err);

/* Parses a URI of the form above (also with parameters in any order, and
 * with the issuer only in the label or only as a parameter).  Refuses
 * anything else with TOTP_R_INVALID.  Wipe *out after use.
 * Details: unknown parameters are ignored; a known one twice, counter on
 * TOTP, period on HOTP, HOTP without counter, label and parameter issuers
 * that differ, raw bytes outside printable ASCII, '#', %00 or a control
 * character after decoding, and URIs of 4096 bytes or more are refused.
 * uri_build refuses control characters in the issuer and account too. */
int uri_parse(const char *uri, struct uri_parts *out, struct totp_err *err);

#endif
