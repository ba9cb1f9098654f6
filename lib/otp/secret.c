/* secret: random secrets from getrandom(), and base32 without padding. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "secret.h"

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

size_t secret_len_for(enum otp_alg alg)
{
	switch (alg) {
	case OTP_SHA1:
		return 20;
	case OTP_SHA256:
		return 32;
	case OTP_SHA512:
		return 64;
	}
	return 0;
}

int secret_generate(uint8_t *buf, size_t len, struct totp_err *err)
{
	size_t got = 0;

	if (buf == NULL && len > 0)
		return totp_err_set(err, TOTP_R_INVALID, "no buffer for the secret");
	/* getrandom may return fewer bytes than asked, or be interrupted by a
	 * signal: only a full buffer is a secret. */
	while (got < len) {
		ssize_t n = getrandom(buf + got, len - got, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			explicit_bzero(buf, len);
			return totp_err_errno(err, e,
					      "cannot get random bytes for the secret");
		}
		got += (size_t)n;
	}
	return 0;
}

int base32_encode(const uint8_t *in, size_t len, char *out, size_t outsz,
		  struct totp_err *err)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;

	if (len > (SIZE_MAX - 5) / 8)
		return totp_err_set(err, TOTP_R_INVALID, "too much data to encode");
	if (outsz < (len * 8 + 4) / 5 + 1 || out == NULL)
		return totp_err_set(
		    err, TOTP_R_INVALID,
		    "base32 of %zu bytes needs %zu bytes of room, not %zu", len,
		    (len * 8 + 4) / 5 + 1, outsz);
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32_alphabet[(acc >> bits) & 31u];
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31u];
	out[o] = '\0';
	explicit_bzero(&acc, sizeof(acc));
	return 0;
}

/* The value of a base32 character in either case, or -1. */
static int b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

/* Whether only '=' and spaces are left from s on. */
static int only_padding(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s != '=' && *s != ' ')
			return 0;
	}
	return 1;
}

static int decode_fail(uint8_t *out, size_t o, struct totp_err *err, const char *what)
{
	if (o > 0) /* out may be NULL when nothing was written */
		explicit_bzero(out, o);
	return totp_err_set(err, TOTP_R_INVALID, "not a base32 secret: %s", what);
}

int base32_decode(const char *in, uint8_t *out, size_t outsz, size_t *outlen,
		  struct totp_err *err)
{
	uint32_t acc = 0;
	unsigned bits = 0;
	size_t o = 0;
	int rc = 0;

	if (in == NULL || (out == NULL && outsz > 0))
		return totp_err_set(err, TOTP_R_INVALID, "nothing to decode");
	for (const char *s = in; *s != '\0' && rc == 0; s++) {
		if (*s == ' ')
			continue;
		if (*s == '=') {
			if (!only_padding(s))
				rc = decode_fail(out, o, err, "'=' before the end");
			break;
		}
		int v = b32_value(*s);

		if (v < 0) {
			rc = decode_fail(out, o, err, "a character outside A-Z and 2-7");
			break;
		}
		acc = ((acc << 5) | (uint32_t)v) & 0xfffu;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (o == outsz) {
				rc = decode_fail(out, o, err, "longer than expected");
				break;
			}
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Valid base32 ends on fewer than 5 spare bits, all zero: anything
	 * else is a character too many, or a typo in the last one. */
	if (rc == 0 && (bits >= 5 || (acc & ((1u << bits) - 1u)) != 0))
		rc = decode_fail(out, o, err, "the last character is wrong (a typo?)");
	explicit_bzero(&acc, sizeof(acc));
	if (rc == 0 && outlen != NULL)
		*outlen = o;
	return rc;
}
