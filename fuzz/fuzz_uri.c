/*
 * fuzz_uri: otpauth:// URIs, built and parsed, in both directions.
 *
 * The first byte picks the direction:
 *   even: the rest gives the parts (parameters, issuer, account, secret,
 *         counter); what uri_build accepts, uri_parse must read back to
 *         the same parts.
 *   odd:  the rest is URI text; what uri_parse accepts must build again,
 *         and the built URI must parse to the same parts.
 * Every refusal is TOTP_R_INVALID, and a refused parse leaves the parts
 * wiped.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "uri.h"

static int all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void same_parts(const struct uri_parts *a, const struct uri_parts *b)
{
	FUZZ_CHECK(a->params.type == b->params.type);
	FUZZ_CHECK(a->params.alg == b->params.alg);
	FUZZ_CHECK(a->params.digits == b->params.digits);
	if (a->params.type == OTP_TOTP)
		FUZZ_CHECK(a->params.period == b->params.period);
	else
		FUZZ_CHECK(a->counter == b->counter);
	FUZZ_CHECK(strcmp(a->issuer, b->issuer) == 0);
	FUZZ_CHECK(strcmp(a->account, b->account) == 0);
	FUZZ_CHECK(a->secret_len == b->secret_len);
	FUZZ_CHECK(memcmp(a->secret, b->secret, a->secret_len) == 0);
}

/* Parses what was built; it must give `want` back. */
static void parse_back(const char *uri, const struct uri_parts *want)
{
	static struct uri_parts got;
	struct totp_err err;

	if (uri_parse(uri, &got, &err) != 0) {
		fprintf(stderr, "uri_parse refused what uri_build made: %s\n%s\n",
			err.msg, uri);
		abort();
	}
	same_parts(want, &got);
}

static void from_parts(struct fuzz_in *in)
{
	static struct uri_parts parts;
	struct totp_err err;
	char *uri = NULL;

	memset(&parts, 0, sizeof(parts));
	parts.params.type = fuzz_u8(in) & 1 ? OTP_HOTP : OTP_TOTP;
	parts.params.alg = (enum otp_alg)(fuzz_u8(in) % 3);
	parts.params.digits = 6 + fuzz_u8(in) % 3;
	parts.params.period = (unsigned)fuzz_u8(in) << 8;
	parts.params.period = 1 + (parts.params.period | fuzz_u8(in)) % 3600;
	parts.counter = fuzz_u64(in);
	parts.secret_len = 1 + fuzz_u8(in) % SECRET_MAX;
	for (size_t i = 0; i < parts.secret_len; i++)
		parts.secret[i] = fuzz_u8(in);
	fuzz_str(in, parts.issuer, sizeof(parts.issuer));
	fuzz_str(in, parts.account, sizeof(parts.account));
	if (uri_build(&parts, &uri, &err) != 0) {
		FUZZ_CHECK(uri == NULL && err.reason == TOTP_R_INVALID);
		return;
	}
	parse_back(uri, &parts);
	free(uri);
}

static void from_text(const uint8_t *data, size_t size)
{
	static struct uri_parts first;
	struct totp_err err;
	char *text = malloc(size + 1), *uri = NULL;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	if (uri_parse(text, &first, &err) != 0) {
		FUZZ_CHECK(err.reason == TOTP_R_INVALID);
		FUZZ_CHECK(all_zero(&first, sizeof(first)));
	} else {
		if (uri_build(&first, &uri, &err) != 0) {
			fprintf(stderr, "uri_build refused what uri_parse read: %s\n",
				err.msg);
			abort();
		}
		parse_back(uri, &first);
		free(uri);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data + 1, size ? size - 1 : 0};

	if (size == 0)
		return 0;
	if (data[0] & 1)
		from_text(data + 1, size - 1);
	else
		from_parts(&in);
	return 0;
}
